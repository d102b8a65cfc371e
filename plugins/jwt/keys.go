package jwtplugin

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// signingKey is a decrypted private key ready to sign.
type signingKey struct {
	id        string
	alg       string
	key       crypto.Signer
	expiresAt time.Time // zero: never
}

// verifyKey is a parsed public key row.
type verifyKey struct {
	raw       string // the stored publicKey JSON it was parsed from
	alg       string
	key       crypto.PublicKey
	expiresAt time.Time
}

// signer returns the key to sign with: the newest live key of the configured algorithm
// (else the newest live key), created when there is none. Creation is serialized on this
// node by p.mu and in storage by a transaction that looks again before it writes, so racing
// first requests create exactly one key.
func (p *Plugin) signer(ctx context.Context) (*signingKey, error) {
	p.cache.mu.Lock()
	defer p.cache.mu.Unlock()
	now := p.engine.Clock().Now()
	if k := p.cache.current; k != nil && (k.expiresAt.IsZero() || now.Before(k.expiresAt)) {
		return k, nil
	}
	rec, err := p.latestLive(ctx, p.engine.Store(), now)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		// Generated outside the transaction (RSA takes a while); thrown away if another
		// writer got there first.
		fresh, err := p.newKeyRecord(now)
		if err != nil {
			return nil, authcore.Internal(err)
		}
		err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
			found, err := p.latestLive(ctx, tx, now)
			if err != nil || found != nil {
				rec = found
				return err
			}
			rec, err = tx.Create(ctx, ModelJWKS, fresh)
			return err
		})
		if err != nil {
			return nil, authcore.Internal(err)
		}
	}
	k, err := p.decodePrivate(rec)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	p.cache.current = k
	return k, nil
}

// latestLive is Better Auth's key choice: the newest key not past its expiresAt, preferring
// the configured algorithm. nil when there is none.
func (p *Plugin) latestLive(ctx context.Context, a storage.Adapter, now time.Time) (storage.Record, error) {
	recs, err := a.FindMany(ctx, ModelJWKS, storage.Query{})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	live := recs[:0]
	for _, r := range recs {
		if exp := r.Time(FieldExpiresAt); exp.IsZero() || now.Before(exp) {
			live = append(live, r)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].Time(FieldCreatedAt).After(live[j].Time(FieldCreatedAt)) })
	for _, r := range live {
		if p.rowAlg(r) == p.alg {
			return r, nil
		}
	}
	if len(live) > 0 {
		return live[0], nil
	}
	return nil, nil
}

// rowAlg is the algorithm of a stored key; rows without one count as the configured one
// (Better Auth's rule for rows from before the column).
func (p *Plugin) rowAlg(r storage.Record) string {
	if a := r.String(FieldAlg); a != "" {
		return a
	}
	return p.alg
}

// newKeyRecord generates a key pair of the configured algorithm and renders its jwks row:
// the public JWK as JSON, the private JWK as JSON encrypted with the engine keyring.
func (p *Plugin) newKeyRecord(now time.Time) (storage.Record, error) {
	rnd := p.engine.Random().Reader()
	var priv crypto.Signer
	crv := ""
	switch p.alg {
	case AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rnd)
		if err != nil {
			return nil, err
		}
		priv, crv = k, "Ed25519"
	case AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
		if err != nil {
			return nil, err
		}
		priv, crv = k, "P-256"
	case AlgRS256:
		k, err := rsa.GenerateKey(rnd, 2048)
		if err != nil {
			return nil, err
		}
		priv = k
	default:
		return nil, fmt.Errorf("jwt: unsupported algorithm %q", p.alg)
	}
	pubJSON, err := json.Marshal(jose.JSONWebKey{Key: priv.Public()})
	if err != nil {
		return nil, err
	}
	privJSON, err := json.Marshal(jose.JSONWebKey{Key: priv})
	if err != nil {
		return nil, err
	}
	stored := string(privJSON)
	if !p.DisablePrivateKeyEncryption {
		if stored, err = p.engine.Keys().Encrypt(rnd, privJSON); err != nil {
			return nil, err
		}
	}
	id, err := p.engine.Random().ID()
	if err != nil {
		return nil, err
	}
	rec := storage.Record{
		"id": id, FieldPublicKey: string(pubJSON), FieldPrivateKey: stored,
		FieldCreatedAt: now, FieldAlg: p.alg,
	}
	if crv != "" {
		rec[FieldCrv] = crv
	}
	if p.rotation > 0 {
		rec[FieldExpiresAt] = now.Add(p.rotation)
	}
	return rec, nil
}

// decodePrivate decrypts and parses a row's private key.
func (p *Plugin) decodePrivate(rec storage.Record) (*signingKey, error) {
	raw := []byte(rec.String(FieldPrivateKey))
	if !p.DisablePrivateKeyEncryption {
		dec, err := p.engine.Keys().Decrypt(string(raw))
		if err != nil {
			return nil, fmt.Errorf("jwt: cannot decrypt the private key of jwks %s (was the secret changed, or private key encryption turned off?): %w", rec.ID(), err)
		}
		raw = dec
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("jwt: private key of jwks %s: %w", rec.ID(), err)
	}
	s, ok := jwk.Key.(crypto.Signer)
	if !ok || jwk.IsPublic() {
		return nil, fmt.Errorf("jwt: jwks %s holds no private key", rec.ID())
	}
	return &signingKey{id: rec.ID(), alg: p.rowAlg(rec), key: s, expiresAt: rec.Time(FieldExpiresAt)}, nil
}

// errNoKey: no usable key for a kid.
var errNoKey = errors.New("jwt: unknown or retired key")

// publicKey returns the verification key for kid, read from storage so a removed row stops
// verifying at once; the parse is cached. A key past expiresAt + grace_period is refused.
func (p *Plugin) publicKey(ctx context.Context, kid string) (*verifyKey, error) {
	if kid == "" || len(kid) > 256 {
		return nil, errNoKey
	}
	rec, err := p.engine.Store().FindOne(ctx, ModelJWKS, storage.ByID(kid))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNoKey
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if !p.published(rec, p.engine.Clock().Now()) {
		return nil, errNoKey
	}
	raw := rec.String(FieldPublicKey)
	p.cache.pubMu.Lock()
	k, ok := p.cache.pubs[kid]
	p.cache.pubMu.Unlock()
	if ok && k.raw == raw {
		return k, nil
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(raw)); err != nil || !jwk.IsPublic() {
		return nil, errNoKey
	}
	k = &verifyKey{raw: raw, alg: p.rowAlg(rec), key: jwk.Key, expiresAt: rec.Time(FieldExpiresAt)}
	p.cache.pubMu.Lock()
	p.cache.pubs[kid] = k
	p.cache.pubMu.Unlock()
	return k, nil
}

// published: the key is in the JWKS, i.e. it has no expiresAt or is within
// expiresAt + grace_period.
func (p *Plugin) published(rec storage.Record, now time.Time) bool {
	exp := rec.Time(FieldExpiresAt)
	return exp.IsZero() || now.Before(exp.Add(p.grace))
}
