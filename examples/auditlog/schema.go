package auditlog

import (
	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// ModelAuditEntry is the plugin's model: one row per recorded action.
const ModelAuditEntry = "auditEntry"

// FieldLastSeenAt is the field the plugin adds to the user model.
const FieldLastSeenAt = "lastSeenAt"

// registerSchema declares the auditEntry model and the user's lastSeenAt field.
//
// auditEntry is deliberately NOT declared UserScoped: UserScoped makes every write to a row
// invalidate the user's cached sessions (D6), which is right for rows that change what a
// session is allowed to do (roles, bans, memberships) and wasteful for an append-only log
// that no session check reads.
func registerSchema(r *authcore.Registrar) error {
	err := r.Model(storage.Model{Name: ModelAuditEntry, Fields: []storage.Field{
		// Deleting the user deletes their entries.
		{Name: "userId", Type: storage.TypeString, Required: true, Indexed: true,
			References: &storage.Reference{Model: authcore.ModelUser, OnDelete: storage.Cascade}},
		{Name: "action", Type: storage.TypeString, Required: true},
		// route is the API route that produced the entry ("/sign-in/username").
		{Name: "route", Type: storage.TypeString},
		// method is the sign-in method of a sign-in ("email", "two-factor", "passkey").
		{Name: "method", Type: storage.TypeString},
		{Name: "ip", Type: storage.TypeString},
		{Name: "userAgent", Type: storage.TypeString},
		// The storage contract has no composite (userId, createdAt) index: userId is
		// indexed for the per-user filter and createdAt for the retention sweep.
		{Name: "createdAt", Type: storage.TypeDate, Required: true, Indexed: true},
	}})
	if err != nil {
		return err
	}
	// Clients can read lastSeenAt (it is part of the user object) but never set it.
	return r.Extend(authcore.ModelUser, storage.Field{Name: FieldLastSeenAt, Type: storage.TypeDate, ServerOnly: true})
}
