package sso

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Keys of a stored samlConfig that hold the provider's generated SP key pair. The key is
// encrypted with the engine keyring; samlFromInput never accepts these keys from a client
// and withoutSecrets / sanitize never answer them.
const (
	samlKeySPKey  = "gatehouseSpKey"
	samlKeySPCert = "gatehouseSpCert"
)

// seal encrypts a secret for storage with the engine keyring (Engine.Keys).
func (p *Plugin) seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	return p.engine.Keys().Encrypt(p.engine.Random().Reader(), []byte(plain))
}

// open decrypts what seal stored.
func (p *Plugin) open(stored string) (string, error) {
	if stored == "" {
		return "", errors.New("sso: no stored secret")
	}
	b, err := p.engine.Keys().Decrypt(stored)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// providerRef fingerprints what a provider vouches with (issuer and configs). A sign-in
// started before the provider changed is refused at its callback (Better Auth's
// sso_provider_changed_during_authentication), and the OIDC provider cache is keyed by it.
func providerRef(rec storage.Record) string {
	h := sha256.New()
	for _, k := range []string{"providerId", "issuer", "oidcConfig", "samlConfig"} {
		h.Write([]byte(rec.String(k)))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
