package storagetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// buildSchema assembles and validates a schema from models.
func buildSchema(t *testing.T, models ...storage.Model) *storage.Schema {
	t.Helper()
	s := storage.NewSchema()
	for _, m := range models {
		if err := s.AddModel("storagetest", m); err != nil {
			t.Fatalf("schema: %v", err)
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return s
}

// userModel is shaped like Gatehouse's user: a unique required email, an optional unique
// username, an indexed role with a default, and a self-reference that is unset when the
// inviting user goes.
func userModel() storage.Model {
	return storage.Model{Name: "user", Fields: []storage.Field{
		{Name: "email", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "name", Type: storage.TypeString, Required: true},
		{Name: "username", Type: storage.TypeString, Unique: true},
		{Name: "role", Type: storage.TypeString, Indexed: true, Default: "user"},
		{Name: "age", Type: storage.TypeNumber},
		{Name: "invitedBy", Type: storage.TypeString, References: &storage.Reference{Model: "user", OnDelete: storage.SetNull}},
	}}
}

// sessionModel cascades from user and is found by a unique token.
func sessionModel() storage.Model {
	return storage.Model{Name: "session", Fields: []storage.Field{
		{Name: "token", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "userId", Type: storage.TypeString, Required: true, References: &storage.Reference{Model: "user"}},
		{Name: "expiresAt", Type: storage.TypeDate, Indexed: true},
	}}
}

// noteModel cascades from session: a third level below user.
func noteModel() storage.Model {
	return storage.Model{Name: "note", Fields: []storage.Field{
		{Name: "sessionId", Type: storage.TypeString, Required: true, References: &storage.Reference{Model: "session", OnDelete: storage.Cascade}},
		{Name: "text", Type: storage.TypeString},
	}}
}

// accountModel has a composite unique (providerId, accountId).
func accountModel() storage.Model {
	return storage.Model{
		Name: "account",
		Fields: []storage.Field{
			{Name: "userId", Type: storage.TypeString, Required: true, References: &storage.Reference{Model: "user"}},
			{Name: "providerId", Type: storage.TypeString, Required: true},
			{Name: "accountId", Type: storage.TypeString, Required: true},
		},
		Unique: [][]string{{"providerId", "accountId"}},
	}
}

// memberModel has a composite unique over an optional field.
func memberModel() storage.Model {
	return storage.Model{
		Name: "member",
		Fields: []storage.Field{
			{Name: "orgId", Type: storage.TypeString, Required: true},
			{Name: "team", Type: storage.TypeString},
		},
		Unique: [][]string{{"orgId", "team"}},
	}
}

// invoiceModel refuses the deletion of a user it references.
func invoiceModel() storage.Model {
	return storage.Model{Name: "invoice", Fields: []storage.Field{
		{Name: "userId", Type: storage.TypeString, Required: true, References: &storage.Reference{Model: "user", OnDelete: storage.Restrict}},
		{Name: "amount", Type: storage.TypeNumber},
	}}
}

// verificationModel holds single-use tokens.
func verificationModel() storage.Model {
	return storage.Model{Name: "verification", Fields: []storage.Field{
		{Name: "identifier", Type: storage.TypeString, Required: true, Indexed: true},
		{Name: "value", Type: storage.TypeString, Required: true},
		{Name: "expiresAt", Type: storage.TypeDate},
	}}
}

// counterModel holds counters.
func counterModel() storage.Model {
	return storage.Model{Name: "counter", Fields: []storage.Field{
		{Name: "key", Type: storage.TypeString, Unique: true},
		{Name: "count", Type: storage.TypeNumber},
		{Name: "label", Type: storage.TypeString},
		{Name: "lastAt", Type: storage.TypeDate},
	}}
}

// fixedDate is the default of thing.dd.
func fixedDate() time.Time { return time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC) }

// thingModel has every field type, plain and with a default, and one required field. With
// indexed set, the plain fields of the ordered types are indexed (adapters may then use
// indexes for eq, in and range queries; results must not change).
func thingModel(name string, indexed bool) storage.Model {
	return storage.Model{Name: name, Fields: []storage.Field{
		{Name: "req", Type: storage.TypeString, Required: true},
		{Name: "s", Type: storage.TypeString, Indexed: indexed},
		{Name: "n", Type: storage.TypeNumber, Indexed: indexed},
		{Name: "b", Type: storage.TypeBoolean, Indexed: indexed},
		{Name: "d", Type: storage.TypeDate, Indexed: indexed},
		{Name: "j", Type: storage.TypeJSON},
		{Name: "l", Type: storage.TypeStringList, Indexed: indexed},
		{Name: "ds", Type: storage.TypeString, Default: "x"},
		{Name: "dn", Type: storage.TypeNumber, Default: 7},
		{Name: "db", Type: storage.TypeBoolean, Default: true},
		{Name: "dd", Type: storage.TypeDate, Default: fixedDate()},
		{Name: "dj", Type: storage.TypeJSON, Default: json.RawMessage(`{ "a" : [1, 2] }`)},
		{Name: "dl", Type: storage.TypeStringList, Default: []string{"a", "b"}},
	}}
}

// nodeModel references itself with cascade, so deletes can chain and cycle.
func nodeModel() storage.Model {
	return storage.Model{Name: "node", Fields: []storage.Field{
		{Name: "parent", Type: storage.TypeString, References: &storage.Reference{Model: "node", OnDelete: storage.Cascade}},
	}}
}

// user returns a valid user record.
func user(id, email string) storage.Record {
	return storage.Record{"id": id, "email": email, "name": "name of " + id}
}
