package storagetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

func testUnique(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), accountModel(), memberModel()))
	ctx := t.Context()
	create(t, a, "user", user("u1", "a@x"))

	// Single field.
	_, err := a.Create(ctx, "user", user("u2", "a@x"))
	wantConstraint(t, err, storage.ErrDuplicate, "user", "email")
	wantGone(t, a, "user", "u2")
	create(t, a, "user", user("u2", "A@x")) // storage compares exactly; canonicalising is the caller's job
	// The id.
	_, err = a.Create(ctx, "user", user("u1", "other@x"))
	wantConstraint(t, err, storage.ErrDuplicate, "user", "id")
	wantIDs(t, a, "user", storage.Eq("email", "other@x"))
	// Unset values never collide.
	create(t, a, "user", user("u3", "c@x"))
	wantIDs(t, a, "user", storage.Eq("username", nil), "u1", "u2", "u3")
	// Update into a taken value.
	_, err = a.Update(ctx, "user", storage.ByID("u3"), storage.Record{"email": "a@x"})
	wantConstraint(t, err, storage.ErrDuplicate, "user", "email")
	wantIDs(t, a, "user", storage.Eq("email", "c@x"), "u3")
	// Two fields at once: the constraint named is one of them, the record is unchanged.
	if _, err := a.Update(ctx, "user", storage.ByID("u1"), storage.Record{"username": "ann"}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Create(ctx, "user", storage.Record{"id": "u4", "email": "a@x", "name": "n", "username": "ann"})
	if !errors.Is(err, storage.ErrDuplicate) {
		t.Errorf("create clashing on two fields: %v", err)
	}

	// Composite.
	create(t, a, "account", storage.Record{"id": "a1", "userId": "u1", "providerId": "google", "accountId": "1"})
	_, err = a.Create(ctx, "account", storage.Record{"id": "a2", "userId": "u2", "providerId": "google", "accountId": "1"})
	wantConstraint(t, err, storage.ErrDuplicate, "account", "providerId", "accountId")
	create(t, a, "account", storage.Record{"id": "a3", "userId": "u2", "providerId": "google", "accountId": "2"})
	create(t, a, "account", storage.Record{"id": "a4", "userId": "u2", "providerId": "github", "accountId": "1"})
	// The parts must not run into each other ("ab"+"c" is not "a"+"bc").
	create(t, a, "account", storage.Record{"id": "a5", "userId": "u2", "providerId": "ab", "accountId": "c"})
	create(t, a, "account", storage.Record{"id": "a6", "userId": "u2", "providerId": "a", "accountId": "bc"})
	create(t, a, "account", storage.Record{"id": "a7", "userId": "u2", "providerId": "a\x00", "accountId": "bc"})
	_, err = a.Update(ctx, "account", storage.ByID("a3"), storage.Record{"accountId": "1"})
	wantConstraint(t, err, storage.ErrDuplicate, "account", "providerId", "accountId")
	wantIDs(t, a, "account", storage.And(storage.Eq("providerId", "google"), storage.Eq("accountId", "1")), "a1")
	// A composite with an unset part is not compared.
	create(t, a, "member", storage.Record{"id": "m1", "orgId": "o1"})
	create(t, a, "member", storage.Record{"id": "m2", "orgId": "o1"})
	create(t, a, "member", storage.Record{"id": "m3", "orgId": "o1", "team": "t"})
	_, err = a.Create(ctx, "member", storage.Record{"id": "m4", "orgId": "o1", "team": "t"})
	wantConstraint(t, err, storage.ErrDuplicate, "member", "orgId", "team")
	// Unsetting the part frees the combination.
	if _, err := a.Update(ctx, "member", storage.ByID("m3"), storage.Record{"team": nil}); err != nil {
		t.Fatal(err)
	}
	create(t, a, "member", storage.Record{"id": "m4", "orgId": "o1", "team": "t"})
}

func testUniqueConcurrent(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), accountModel()))
	ctx := t.Context()
	race := func(what, model string, rec func(i int) storage.Record, fields ...string) {
		t.Helper()
		var wins atomic.Int32
		errs := make([]error, goroutines)
		parallel(goroutines, func(i int) {
			if _, err := a.Create(ctx, model, rec(i)); err == nil {
				wins.Add(1)
			} else {
				errs[i] = err
			}
		})
		if wins.Load() != 1 {
			t.Errorf("%s: %d creators won, want exactly 1", what, wins.Load())
		}
		for _, err := range errs {
			if err != nil {
				wantConstraint(t, err, storage.ErrDuplicate, model, fields...)
			}
		}
	}
	race("same email", "user", func(i int) storage.Record { return user(fmt.Sprintf("e%02d", i), "same@x") }, "email")
	wantIDs(t, a, "user", storage.Eq("email", "same@x"), findOne(t, a, "user", storage.Eq("email", "same@x")).ID())
	race("same id", "user", func(i int) storage.Record { return user("same-id", fmt.Sprintf("%d@x", i)) }, "id")
	if n := count(t, a, "user", storage.Where{}); n != 2 {
		t.Errorf("%d users after the races, want 2", n)
	}
	race("same provider account", "account", func(i int) storage.Record {
		return storage.Record{"id": fmt.Sprintf("a%02d", i), "userId": "same-id", "providerId": "p", "accountId": "1"}
	}, "providerId", "accountId")
	wantIDs(t, a, "account", storage.Where{}, findOne(t, a, "account", storage.Where{}).ID())
}

func testIndexConsistency(t *testing.T, h Harness) {
	s := buildSchema(t, userModel(), sessionModel())
	a := h.Open(t, s)
	ctx := t.Context()
	r := user("u1", "a@x")
	r["role"] = "admin"
	create(t, a, "user", r)
	create(t, a, "user", user("u0", "z@x"))

	// A unique value changes: the old one is free, the new one taken, lookups follow.
	if _, err := a.Update(ctx, "user", storage.ByID("u1"), storage.Record{"email": "b@x", "role": "member"}); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "user", storage.Eq("email", "a@x"))
	wantIDs(t, a, "user", storage.Eq("email", "b@x"), "u1")
	wantIDs(t, a, "user", storage.Eq("role", "admin"))
	wantIDs(t, a, "user", storage.Eq("role", "member"), "u1")
	wantIDs(t, a, "user", storage.In("email", []string{"a@x", "b@x", "z@x"}), "u0", "u1")
	create(t, a, "user", user("u2", "a@x"))
	_, err := a.Create(ctx, "user", user("u3", "b@x"))
	wantConstraint(t, err, storage.ErrDuplicate, "user", "email")
	// An index hit still has to match the rest of the filter.
	wantIDs(t, a, "user", storage.And(storage.Eq("email", "b@x"), storage.Eq("role", "admin")))
	wantIDs(t, a, "user", storage.And(storage.Eq("role", "member"), storage.Ne("id", "u1")))

	// A delete frees its values.
	if err := a.Delete(ctx, "user", storage.ByID("u1")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "user", storage.Eq("email", "b@x"))
	wantIDs(t, a, "user", storage.Eq("role", "member"))
	create(t, a, "user", user("u4", "b@x"))

	// Dates on an indexed field, including range queries, follow updates.
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"s3", "s1", "s2"} {
		create(t, a, "session", storage.Record{"id": id, "token": "tok-" + id, "userId": "u2", "expiresAt": t0.Add(time.Duration(i) * time.Hour)})
	}
	if _, err := a.Update(ctx, "session", storage.ByID("s3"), storage.Record{"expiresAt": t0.Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "session", storage.Lt("expiresAt", t0.Add(2*time.Hour)), "s1")
	wantIDs(t, a, "session", storage.Gte("expiresAt", t0.Add(2*time.Hour)), "s2", "s3")
	wantIDs(t, a, "session", storage.Eq("expiresAt", t0))

	// After a reopen everything still holds.
	a = reopen(t, h, a, s)
	wantIDs(t, a, "user", storage.Eq("email", "a@x"), "u2")
	wantIDs(t, a, "user", storage.Eq("email", "b@x"), "u4")
	wantIDs(t, a, "user", storage.Eq("role", "user"), "u0", "u2", "u4")
	_, err = a.Create(ctx, "user", user("u5", "a@x"))
	wantConstraint(t, err, storage.ErrDuplicate, "user", "email")
	if _, err := a.Update(ctx, "user", storage.ByID("u2"), storage.Record{"email": "c@x", "role": nil}); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "user", storage.Eq("email", "a@x"))
	wantIDs(t, a, "user", storage.Eq("email", "c@x"), "u2")
	wantIDs(t, a, "user", storage.Eq("role", nil), "u2")
	wantIDs(t, a, "user", storage.Eq("role", "user"), "u0", "u4")
	wantIDs(t, a, "session", storage.Eq("token", "tok-s2"), "s2")
	wantIDs(t, a, "session", storage.Lte("expiresAt", t0.Add(time.Hour)), "s1")
	create(t, a, "user", user("u5", "a@x"))
}

func testCascade(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), sessionModel(), noteModel(), accountModel(), nodeModel()))
	ctx := t.Context()
	for _, u := range []string{"u1", "u2", "u3"} {
		create(t, a, "user", user(u, u+"@x"))
		for _, s := range []string{"a", "b"} {
			sid := u + s
			create(t, a, "session", storage.Record{"id": sid, "token": "t" + sid, "userId": u})
			create(t, a, "note", storage.Record{"id": "n" + sid, "sessionId": sid})
		}
		create(t, a, "account", storage.Record{"id": "acc" + u, "userId": u, "providerId": "p", "accountId": u})
	}

	// Three levels: user → sessions → notes, and user → accounts.
	if err := a.Delete(ctx, "user", storage.ByID("u1")); err != nil {
		t.Fatal(err)
	}
	for _, g := range [][2]string{{"user", "u1"}, {"session", "u1a"}, {"session", "u1b"}, {"note", "nu1a"}, {"note", "nu1b"}, {"account", "accu1"}} {
		wantGone(t, a, g[0], g[1])
	}
	wantIDs(t, a, "session", storage.Where{}, "u2a", "u2b", "u3a", "u3b")
	wantIDs(t, a, "note", storage.Where{}, "nu2a", "nu2b", "nu3a", "nu3b")
	// The cascaded records' unique values are free again.
	create(t, a, "session", storage.Record{"id": "new", "token": "tu1a", "userId": "u2"})

	// DeleteMany cascades from every record it deletes, and counts only those.
	n, err := a.DeleteMany(ctx, "user", storage.In("id", []string{"u2", "u3"}))
	if err != nil || n != 2 {
		t.Fatalf("delete many: %d, %v", n, err)
	}
	for _, model := range []string{"user", "session", "note", "account"} {
		wantIDs(t, a, model, storage.Where{})
	}

	// Self references: a chain and a cycle.
	create(t, a, "node", storage.Record{"id": "root"})
	create(t, a, "node", storage.Record{"id": "child", "parent": "root"})
	create(t, a, "node", storage.Record{"id": "grandchild", "parent": "child"})
	create(t, a, "node", storage.Record{"id": "other"})
	create(t, a, "node", storage.Record{"id": "x", "parent": "y"})
	create(t, a, "node", storage.Record{"id": "y", "parent": "x"})
	create(t, a, "node", storage.Record{"id": "self", "parent": "self"})
	if err := a.Delete(ctx, "node", storage.ByID("root")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "node", storage.Where{}, "other", "self", "x", "y")
	rec, err := a.ConsumeOne(ctx, "node", storage.ByID("x"))
	if err != nil || rec.ID() != "x" {
		t.Fatalf("consume x: %v, %v", rec, err)
	}
	if err := a.Delete(ctx, "node", storage.ByID("self")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "node", storage.Where{}, "other")
}

func testSetNull(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), sessionModel()))
	ctx := t.Context()
	create(t, a, "user", user("boss", "boss@x"))
	for _, id := range []string{"u1", "u2"} {
		r := user(id, id+"@x")
		r["invitedBy"] = "boss"
		r["age"] = 3
		create(t, a, "user", r)
	}
	create(t, a, "session", storage.Record{"id": "s1", "token": "t1", "userId": "u1"})
	if err := a.Delete(ctx, "user", storage.ByID("boss")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2"} {
		got := byID(t, a, "user", id)
		want := storage.Record{"id": id, "email": id + "@x", "name": "name of " + id, "role": "user", "age": int64(3)}
		wantRecord(t, "referencing record after set null", got, want)
	}
	wantIDs(t, a, "user", storage.Eq("invitedBy", "boss"))
	wantIDs(t, a, "user", storage.Eq("invitedBy", nil), "u1", "u2")
	wantPresent(t, a, "session", "s1")
	// A record both cascaded and set null is simply deleted.
	r := user("u3", "u3@x")
	r["invitedBy"] = "u1"
	create(t, a, "user", r)
	n, err := a.DeleteMany(ctx, "user", storage.In("id", []string{"u1", "u3"}))
	if err != nil || n != 2 {
		t.Fatalf("delete many: %d, %v", n, err)
	}
	wantIDs(t, a, "user", storage.Where{}, "u2")
	wantIDs(t, a, "session", storage.Where{})
}

func testRestrict(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), sessionModel(), noteModel(), invoiceModel()))
	ctx := t.Context()
	for _, u := range []string{"u1", "u2"} {
		create(t, a, "user", user(u, u+"@x"))
		create(t, a, "session", storage.Record{"id": "s" + u, "token": "t" + u, "userId": u})
		create(t, a, "note", storage.Record{"id": "n" + u, "sessionId": "s" + u})
	}
	create(t, a, "invoice", storage.Record{"id": "i1", "userId": "u1", "amount": 10})

	// Delete: refused, and nothing of the cascade it would have caused happened.
	err := a.Delete(ctx, "user", storage.ByID("u1"))
	wantConstraint(t, err, storage.ErrRestricted, "invoice", "userId")
	wantPresent(t, a, "user", "u1")
	wantPresent(t, a, "session", "su1")
	wantPresent(t, a, "note", "nu1")
	_, err = a.ConsumeOne(ctx, "user", storage.ByID("u1"))
	wantConstraint(t, err, storage.ErrRestricted, "invoice", "userId")

	// DeleteMany: one restricted record refuses all.
	n, err := a.DeleteMany(ctx, "user", storage.Where{})
	wantConstraint(t, err, storage.ErrRestricted, "invoice", "userId")
	if n != 0 {
		t.Errorf("refused delete many reported %d", n)
	}
	wantIDs(t, a, "user", storage.Where{}, "u1", "u2")
	wantIDs(t, a, "session", storage.Where{}, "su1", "su2")
	wantIDs(t, a, "note", storage.Where{}, "nu1", "nu2")

	// Restricted deeper down: an invoice can also block through a cascade.
	s2 := buildSchema(t, userModel(), sessionModel(), storage.Model{Name: "receipt", Fields: []storage.Field{
		{Name: "sessionId", Type: storage.TypeString, References: &storage.Reference{Model: "session", OnDelete: storage.Restrict}},
	}})
	b := h.Open(t, s2)
	create(t, b, "user", user("u1", "u1@x"))
	create(t, b, "session", storage.Record{"id": "s1", "token": "t1", "userId": "u1"})
	create(t, b, "receipt", storage.Record{"id": "r1", "sessionId": "s1"})
	wantConstraint(t, b.Delete(ctx, "user", storage.ByID("u1")), storage.ErrRestricted, "receipt", "sessionId")
	wantPresent(t, b, "session", "s1")

	// Once the reference is gone, the delete goes through.
	if err := a.Delete(ctx, "invoice", storage.ByID("i1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "user", storage.ByID("u1")); err != nil {
		t.Fatal(err)
	}
	wantGone(t, a, "session", "su1")
	wantGone(t, a, "note", "nu1")

	// A restricting record that the same delete removes anyway does not block it: the
	// check runs once every cascade is known (PostgreSQL's NO ACTION).
	s3 := buildSchema(t, userModel(), sessionModel(), storage.Model{Name: "tag", Fields: []storage.Field{
		{Name: "userId", Type: storage.TypeString, References: &storage.Reference{Model: "user", OnDelete: storage.Cascade}},
		{Name: "sessionId", Type: storage.TypeString, References: &storage.Reference{Model: "session", OnDelete: storage.Restrict}},
	}})
	c := h.Open(t, s3)
	create(t, c, "user", user("u1", "u1@x"))
	create(t, c, "session", storage.Record{"id": "s1", "token": "t1", "userId": "u1"})
	create(t, c, "tag", storage.Record{"id": "g1", "userId": "u1", "sessionId": "s1"})
	wantConstraint(t, c.Delete(ctx, "session", storage.ByID("s1")), storage.ErrRestricted, "tag", "sessionId")
	if err := c.Delete(ctx, "user", storage.ByID("u1")); err != nil {
		t.Fatalf("delete of a user whose restricting tag goes too: %v", err)
	}
	wantIDs(t, c, "tag", storage.Where{})
	wantIDs(t, c, "session", storage.Where{})
}
