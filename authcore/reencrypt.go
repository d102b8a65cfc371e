package authcore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// ReencryptReport is what [Engine.Reencrypt] did, per model.
type ReencryptReport struct {
	Models []ReencryptModel `json:"models"`
	// Resealed and Undecryptable total the models' counts.
	Resealed      int `json:"resealed"`
	Undecryptable int `json:"undecryptable"`
}

// ReencryptModel counts one model's records.
type ReencryptModel struct {
	Model         string `json:"model"`
	Scanned       int    `json:"scanned"`       // records read
	Updated       int    `json:"updated"`       // records rewritten
	Resealed      int    `json:"resealed"`      // ciphertexts moved to the current secret
	Undecryptable int    `json:"undecryptable"` // envelopes of a previous secret that did not open
	Changed       int    `json:"changed"`       // records changed by another writer meanwhile: left to it
}

// reencryptBatch is how many records are read per query.
const reencryptBatch = 500

// Reencrypt moves every stored ciphertext made with a previous secret (previous_secrets)
// to the current one, so that secret can then be dropped from the configuration without
// losing what it encrypted: two-factor secrets and backup codes, OAuth tokens, JWT signing
// keys, SSO client secrets and SP keys, encrypted OTPs — whatever any plugin stored with
// Keys().Encrypt. It reads every string field of every model in id order, in batches, and
// rewrites a record only if the fields it changes still hold what was read (a concurrent
// writer always encrypts with the current secret, so its value wins). It can run while the
// server serves, and again: a second run finds nothing to do.
//
// Signatures and MACs are not stored, so they need nothing: old cookies keep verifying
// while their secret is in previous_secrets, and expire on their own.
func (e *Engine) Reencrypt(ctx context.Context) (ReencryptReport, error) {
	var rep ReencryptReport
	for _, m := range e.reg.schema.Models() {
		mr, err := e.reencryptModel(ctx, m)
		rep.Models = append(rep.Models, mr)
		rep.Resealed += mr.Resealed
		rep.Undecryptable += mr.Undecryptable
		if err != nil {
			return rep, fmt.Errorf("re-encrypting %s: %w", m.Name, err)
		}
	}
	return rep, nil
}

func (e *Engine) reencryptModel(ctx context.Context, m *storage.Model) (ReencryptModel, error) {
	mr := ReencryptModel{Model: m.Name}
	var fields []string
	for _, f := range m.Fields {
		if f.Type == storage.TypeString {
			fields = append(fields, f.Name)
		}
	}
	if len(fields) == 0 {
		return mr, nil
	}
	last := ""
	for {
		q := storage.Query{Sort: []storage.SortField{{Field: "id"}}, Limit: reencryptBatch}
		if last != "" {
			q.Where = storage.Gt("id", last)
		}
		recs, err := e.store.FindMany(ctx, m.Name, q)
		if err != nil {
			return mr, err
		}
		for _, rec := range recs {
			mr.Scanned++
			if err := e.reencryptRecord(ctx, m.Name, fields, rec, &mr); err != nil {
				return mr, err
			}
		}
		if len(recs) < reencryptBatch {
			return mr, nil
		}
		last = recs[len(recs)-1].ID()
	}
}

func (e *Engine) reencryptRecord(ctx context.Context, model string, fields []string, rec storage.Record, mr *ReencryptModel) error {
	set := storage.Record{}
	where := []storage.Where{storage.Eq("id", rec.ID())}
	resealed := 0
	for _, f := range fields {
		old, ok := rec[f].(string)
		if !ok || old == "" {
			continue
		}
		fresh, res, err := e.keys.Reseal(e.rand.Reader(), old)
		if err != nil {
			return err
		}
		mr.Undecryptable += res.Undecryptable
		if fresh != old {
			set[f] = fresh
			where = append(where, storage.Eq(f, old))
			resealed += res.Resealed
		}
	}
	if len(set) == 0 {
		return nil
	}
	_, err := e.store.Update(ctx, model, storage.And(where...), set)
	if errors.Is(err, storage.ErrNotFound) {
		mr.Changed++
		return nil
	}
	if err != nil {
		return err
	}
	mr.Updated++
	mr.Resealed += resealed
	return nil
}
