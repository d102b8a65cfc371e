package storagetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// profileModel is a user-like model whose optional fields come and go with the schema.
func profileModel(fields ...storage.Field) storage.Model {
	return storage.Model{Name: "profile", Fields: append([]storage.Field{
		{Name: "email", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "name", Type: storage.TypeString},
	}, fields...)}
}

func nickname(unique, indexed bool) storage.Field {
	return storage.Field{Name: "nickname", Type: storage.TypeString, Unique: unique, Indexed: indexed}
}

func profile(id string, extra ...any) storage.Record {
	r := storage.Record{"id": id, "email": id + "@x"}
	for i := 0; i+1 < len(extra); i += 2 {
		r[extra[i].(string)] = extra[i+1]
	}
	return r
}

func testSchemaAddModel(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, profileModel()))
	create(t, a, "profile", profile("p1", "name", "one"))
	// A model added to an existing store works at once; existing data is untouched.
	s2 := buildSchema(t, profileModel(), storage.Model{Name: "post", Fields: []storage.Field{
		{Name: "profileId", Type: storage.TypeString, References: &storage.Reference{Model: "profile"}},
		{Name: "slug", Type: storage.TypeString, Unique: true},
	}})
	b := reopen(t, h, a, s2)
	wantRecord(t, "existing record", byID(t, b, "profile", "p1"), profile("p1", "name", "one"))
	create(t, b, "post", storage.Record{"id": "x1", "profileId": "p1", "slug": "hello"})
	_, err := b.Create(t.Context(), "post", storage.Record{"id": "x2", "slug": "hello"})
	wantConstraint(t, err, storage.ErrDuplicate, "post", "slug")
	wantIDs(t, b, "post", storage.Eq("profileId", "p1"), "x1")
	if err := b.Delete(t.Context(), "profile", storage.ByID("p1")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, b, "post", storage.Where{})
	// The new model survives a reopen with the same schema.
	create(t, b, "post", storage.Record{"id": "x3", "slug": "again"})
	c := reopen(t, h, b, s2)
	wantIDs(t, c, "post", storage.Eq("slug", "again"), "x3")
}

func testSchemaAddIndex(t *testing.T, h Harness) {
	ctx := t.Context()
	level := storage.Field{Name: "level", Type: storage.TypeNumber}
	plain := buildSchema(t, profileModel(nickname(false, false), level))
	a := h.Open(t, plain)
	create(t, a, "profile", profile("p1", "nickname", "ann", "level", 5))
	create(t, a, "profile", profile("p2", "nickname", "bob", "level", 5))
	create(t, a, "profile", profile("p3", "level", 7))

	// Now unique and indexed: the indexes are built from the existing records.
	levelIndexed := level
	levelIndexed.Indexed = true
	b := reopen(t, h, a, buildSchema(t, profileModel(nickname(true, false), levelIndexed)))
	wantIDs(t, b, "profile", storage.Eq("nickname", "ann"), "p1")
	wantIDs(t, b, "profile", storage.Eq("level", 5), "p1", "p2")
	wantIDs(t, b, "profile", storage.Gt("level", 5), "p3")
	_, err := b.Create(ctx, "profile", profile("p4", "nickname", "bob"))
	wantConstraint(t, err, storage.ErrDuplicate, "profile", "nickname")
	_, err = b.Update(ctx, "profile", storage.ByID("p3"), storage.Record{"nickname": "ann"})
	wantConstraint(t, err, storage.ErrDuplicate, "profile", "nickname")
	// And maintained from then on.
	if _, err := b.Update(ctx, "profile", storage.ByID("p1"), storage.Record{"nickname": "anna", "level": 6}); err != nil {
		t.Fatal(err)
	}
	create(t, b, "profile", profile("p4", "nickname", "ann"))
	wantIDs(t, b, "profile", storage.Eq("nickname", "ann"), "p4")
	wantIDs(t, b, "profile", storage.Eq("level", 5), "p2")
	wantIDs(t, b, "profile", storage.Eq("level", 6), "p1")
}

func testSchemaUniqueOverDuplicates(t *testing.T, h Harness) {
	plain := buildSchema(t, profileModel(nickname(false, true)))
	a := h.Open(t, plain)
	create(t, a, "profile", profile("p1", "nickname", "dup"))
	create(t, a, "profile", profile("p2", "nickname", "dup"))
	create(t, a, "profile", profile("p3", "nickname", "solo"))

	// Binding a schema whose new unique constraint the data already breaks fails, clearly.
	_, err := h.Reopen(t, a, buildSchema(t, profileModel(nickname(true, false))))
	if err == nil {
		t.Fatal("binding a unique constraint over duplicate data succeeded")
	}
	if !errors.Is(err, storage.ErrDuplicate) || !strings.Contains(err.Error(), "profile") || !strings.Contains(err.Error(), "nickname") {
		t.Errorf("binding error should wrap ErrDuplicate and name profile and nickname: %v", err)
	}
	// Nothing changed: the old schema binds again and sees all the data.
	b := reopen(t, h, a, plain)
	wantIDs(t, b, "profile", storage.Eq("nickname", "dup"), "p1", "p2")
	// Once the duplicates are resolved, the constraint binds.
	if _, err := b.Update(t.Context(), "profile", storage.ByID("p2"), storage.Record{"nickname": "dup2"}); err != nil {
		t.Fatal(err)
	}
	c := reopen(t, h, b, buildSchema(t, profileModel(nickname(true, false))))
	_, err = c.Create(t.Context(), "profile", profile("p4", "nickname", "dup"))
	wantConstraint(t, err, storage.ErrDuplicate, "profile", "nickname")
}

func testSchemaRemoveField(t *testing.T, h Harness) {
	ctx := t.Context()
	bio := storage.Field{Name: "bio", Type: storage.TypeJSON}
	tags := storage.Field{Name: "tags", Type: storage.TypeStringList}
	full := buildSchema(t, profileModel(nickname(true, false), bio, tags))
	without := buildSchema(t, profileModel())
	a := h.Open(t, full)
	p1 := create(t, a, "profile", profile("p1", "name", "one", "nickname", "n1", "bio", []byte(`{"x":1}`), "tags", []string{"a"}))

	// The plugin is switched off: its fields are not returned and cannot be used...
	b := reopen(t, h, a, without)
	wantRecord(t, "record without the plugin's fields", byID(t, b, "profile", "p1"), profile("p1", "name", "one"))
	_, err := b.Create(ctx, "profile", profile("p2", "nickname", "n2"))
	wantErr(t, err, storage.ErrUnknownField, "create with a removed field")
	_, err = b.FindOne(ctx, "profile", storage.Eq("nickname", "n1"))
	wantErr(t, err, storage.ErrUnknownField, "where on a removed field")
	// ...but their data survives updates made meanwhile.
	if _, err := b.Update(ctx, "profile", storage.ByID("p1"), storage.Record{"name": "renamed"}); err != nil {
		t.Fatal(err)
	}
	if n, err := b.UpdateMany(ctx, "profile", storage.Where{}, storage.Record{"email": "p1-new@x"}); err != nil || n != 1 {
		t.Fatalf("update many: %d, %v", n, err)
	}
	create(t, b, "profile", profile("p2", "name", "two"))

	// Switched on again: the data is back, with the updates made while it was off.
	c := reopen(t, h, b, full)
	p1["name"] = "renamed"
	p1["email"] = "p1-new@x"
	wantRecord(t, "record with the plugin's fields back", byID(t, c, "profile", "p1"), p1)
	wantRecord(t, "record created meanwhile", byID(t, c, "profile", "p2"), profile("p2", "name", "two"))
	wantIDs(t, c, "profile", storage.Eq("nickname", "n1"), "p1")
	_, err = c.Create(ctx, "profile", profile("p3", "nickname", "n1"))
	wantConstraint(t, err, storage.ErrDuplicate, "profile", "nickname")
}

func testSchemaStaleIndex(t *testing.T, h Harness) {
	ctx := t.Context()
	team := storage.Field{Name: "team", Type: storage.TypeString, Indexed: true}
	full := buildSchema(t, profileModel(nickname(true, false), team))
	without := buildSchema(t, profileModel())
	a := h.Open(t, full)
	create(t, a, "profile", profile("p1", "nickname", "n1", "team", "t1"))
	create(t, a, "profile", profile("p2", "nickname", "n2", "team", "t1"))
	create(t, a, "profile", profile("p3", "nickname", "n3", "team", "t3"))

	// While the fields are unknown, nothing maintains their indexes.
	b := reopen(t, h, a, without)
	if err := b.Delete(ctx, "profile", storage.ByID("p1")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ConsumeOne(ctx, "profile", storage.ByID("p2")); err != nil {
		t.Fatal(err)
	}
	create(t, b, "profile", profile("p1", "name", "reborn")) // same id, no nickname now
	if _, err := b.Update(ctx, "profile", storage.ByID("p3"), storage.Record{"name": "three"}); err != nil {
		t.Fatal(err)
	}

	// Back on: no phantom entries from the deleted records, the kept one still indexed.
	c := reopen(t, h, b, full)
	wantIDs(t, c, "profile", storage.Eq("nickname", "n1"))
	wantIDs(t, c, "profile", storage.Eq("team", "t1"))
	wantIDs(t, c, "profile", storage.Eq("nickname", "n3"), "p3")
	wantIDs(t, c, "profile", storage.Eq("team", "t3"), "p3")
	create(t, c, "profile", profile("p4", "nickname", "n1", "team", "t1"))
	create(t, c, "profile", profile("p5", "nickname", "n2", "team", "t1"))
	wantIDs(t, c, "profile", storage.Eq("team", "t1"), "p4", "p5")
	_, err := c.Create(ctx, "profile", profile("p6", "nickname", "n3"))
	wantConstraint(t, err, storage.ErrDuplicate, "profile", "nickname")
	if _, err := c.Update(ctx, "profile", storage.ByID("p1"), storage.Record{"nickname": "n9"}); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, c, "profile", storage.Eq("nickname", "n9"), "p1")
}

func testSchemaTypeChange(t *testing.T, h Harness) {
	ctx := t.Context()
	level := func(typ storage.FieldType) storage.Field {
		return storage.Field{Name: "level", Type: typ, Indexed: true}
	}
	asString := buildSchema(t, profileModel(level(storage.TypeString)))
	a := h.Open(t, asString)
	create(t, a, "profile", profile("p1", "level", "5"))
	create(t, a, "profile", profile("p2", "level", "6"))

	// The field becomes a number: values stored as strings are not visible (not returned,
	// unset for queries) but stay stored.
	b := reopen(t, h, a, buildSchema(t, profileModel(level(storage.TypeNumber))))
	wantRecord(t, "record with a value of the old type", byID(t, b, "profile", "p1"), profile("p1"))
	wantIDs(t, b, "profile", storage.Eq("level", nil), "p1", "p2")
	wantIDs(t, b, "profile", storage.Eq("level", 5))
	if _, err := b.Update(ctx, "profile", storage.ByID("p1"), storage.Record{"level": 7}); err != nil {
		t.Fatal(err)
	}
	create(t, b, "profile", profile("p3", "level", 7))
	wantIDs(t, b, "profile", storage.Eq("level", 7), "p1", "p3")
	wantIDs(t, b, "profile", storage.Gte("level", 0), "p1", "p3")
	if _, err := b.Update(ctx, "profile", storage.ByID("p2"), storage.Record{"name": "two"}); err != nil {
		t.Fatal(err)
	}

	// Back to strings: the value kept through the update is there again.
	c := reopen(t, h, b, asString)
	wantRecord(t, "record back under the old type", byID(t, c, "profile", "p2"), profile("p2", "level", "6", "name", "two"))
	wantIDs(t, c, "profile", storage.Eq("level", "6"), "p2")
	wantIDs(t, c, "profile", storage.Eq("level", nil), "p1", "p3")
}
