package sso

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/crewjam/saml"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// samlAssertionModelName is the model recording consumed assertion IDs.
const samlAssertionModelName = "ssoSamlAssertion"

// samlExpiredSweep bounds how many expired rows one claim deletes.
const samlExpiredSweep = 32

// samlAssertionModel is the replay guard's model: one row per accepted assertion, kept until
// the assertion could no longer be accepted anyway.
func samlAssertionModel() storage.Model {
	return storage.Model{
		Name: samlAssertionModelName,
		Fields: []storage.Field{
			{Name: "assertionId", Type: storage.TypeString, Required: true, Unique: true, Hidden: true, ServerOnly: true},
			{Name: "providerId", Type: storage.TypeString, Required: true, Indexed: true, Hidden: true, ServerOnly: true},
			{Name: "expiresAt", Type: storage.TypeDate, Required: true, Indexed: true, Hidden: true, ServerOnly: true},
			{Name: "createdAt", Type: storage.TypeDate, Required: true, Hidden: true, ServerOnly: true},
		},
	}
}

// samlClaimAssertion records that assertionID (from providerID) has been used, until
// notOnOrAfter plus crewjam's clock-skew allowance. A second claim of the same ID, however
// concurrent, fails with SAMLError{Code: saml_replay}. It also deletes up to a few expired
// rows; failures of that sweep are ignored.
func samlClaimAssertion(ctx context.Context, store storage.Adapter, providerID, assertionID string, notOnOrAfter, now time.Time) error {
	if assertionID == "" || len(assertionID) > samlMaxIDLength {
		return samlErr(SAMLCodeInvalidResponse, "assertion ID missing or too long")
	}
	until := notOnOrAfter.Add(saml.MaxClockSkew)
	if !until.After(now) {
		return samlErr(SAMLCodeExpired, "assertion window closed at %s", until)
	}
	// The id is derived from the assertion ID, so a duplicate also collides on the id.
	sum := sha256.Sum256([]byte(assertionID))
	_, err := store.Create(ctx, samlAssertionModelName, storage.Record{
		"id":          "saml_" + hex.EncodeToString(sum[:16]),
		"assertionId": assertionID,
		"providerId":  providerID,
		"expiresAt":   until,
		"createdAt":   now,
	})
	if errors.Is(err, storage.ErrDuplicate) {
		return samlErr(SAMLCodeReplay, "assertion %q already consumed", assertionID)
	}
	if err != nil {
		return &SAMLError{Code: SAMLCodeInternal, Detail: err}
	}
	samlSweepExpired(ctx, store, now)
	return nil
}

func samlSweepExpired(ctx context.Context, store storage.Adapter, now time.Time) {
	old, err := store.FindMany(ctx, samlAssertionModelName, storage.Query{
		Where: storage.Lt("expiresAt", now),
		Limit: samlExpiredSweep,
	})
	if err != nil || len(old) == 0 {
		return
	}
	ids := make([]string, 0, len(old))
	for _, r := range old {
		if id, ok := r["id"].(string); ok {
			ids = append(ids, id)
		}
	}
	_, _ = store.DeleteMany(ctx, samlAssertionModelName, storage.In("id", ids))
}
