package bolt_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

func userSchema(t *testing.T, extra ...string) *storage.Schema {
	t.Helper()
	s := storage.NewSchema()
	fields := []storage.Field{{Name: "email", Type: storage.TypeString, Unique: true}}
	for _, name := range extra {
		fields = append(fields, storage.Field{Name: name, Type: storage.TypeString, Unique: true})
	}
	if err := s.AddModel("test", storage.Model{Name: "user", Fields: fields}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReloadOverlap covers the moment of a config reload when the old config's view (a)
// still writes after the new one (b) was bound with other unique fields: a keeps b's new
// index current although it does not know the field, and keeps enforcing its own unique
// field whose index b dropped.
func TestReloadOverlap(t *testing.T) {
	ctx := t.Context()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	withNick, withCode := userSchema(t, "nick"), userSchema(t, "code")
	a, err := st.Bind(ctx, withNick)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate := func(ad storage.Adapter, rec storage.Record) {
		t.Helper()
		if _, err := ad.Create(ctx, "user", rec); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(a, storage.Record{"id": "u1", "email": "u1@x", "nick": "n1"})
	b, err := st.Bind(ctx, withCode) // drops the nick index, adds the code index
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(b, storage.Record{"id": "u2", "email": "u2@x", "code": "c2"})
	if _, err := b.Update(ctx, "user", storage.ByID("u1"), storage.Record{"code": "c1"}); err != nil {
		t.Fatal(err)
	}

	// a deletes u1 and rewrites u2: b's code index follows.
	if err := a.Delete(ctx, "user", storage.ByID("u1")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(ctx, "user", storage.ByID("u2"), storage.Record{"email": "u2-new@x"}); err != nil {
		t.Fatal(err)
	}
	mustCreate(b, storage.Record{"id": "u3", "email": "u3@x", "code": "c1"}) // no phantom c1
	if _, err := b.Create(ctx, "user", storage.Record{"id": "u4", "email": "u4@x", "code": "c2"}); !isDup(err, "code") {
		t.Errorf("code c2 kept by u2 through a's update: %v", err)
	}
	if r, err := b.FindOne(ctx, "user", storage.Eq("code", "c2")); err != nil || r.ID() != "u2" || r.String("email") != "u2-new@x" {
		t.Errorf("lookup by code: %v, %v", r, err)
	}

	// a still enforces and finds its nick, without the index.
	mustCreate(a, storage.Record{"id": "u5", "email": "u5@x", "nick": "n5"})
	if _, err := a.Create(ctx, "user", storage.Record{"id": "u6", "email": "u6@x", "nick": "n5"}); !isDup(err, "nick") {
		t.Errorf("nick n5 taken: %v", err)
	}
	if r, err := a.FindOne(ctx, "user", storage.Eq("nick", "n5")); err != nil || r.ID() != "u5" {
		t.Errorf("lookup by nick: %v, %v", r, err)
	}

	// Switching back rebuilds the nick index from the data.
	c, err := st.Bind(ctx, withNick)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "user", storage.Record{"id": "u7", "email": "u7@x", "nick": "n5"}); !isDup(err, "nick") {
		t.Errorf("nick n5 after the rebuild: %v", err)
	}
	mustCreate(c, storage.Record{"id": "u8", "email": "u8@x", "nick": "n1"}) // u1 is gone
}

func isDup(err error, field string) bool {
	var ce *storage.ConstraintError
	return errors.As(err, &ce) && errors.Is(err, storage.ErrDuplicate) && slices.Equal(ce.Fields, []string{field})
}
