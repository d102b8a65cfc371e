package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

func testRoundTrip(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, thingModel("thing", true)))
	ctx := t.Context()
	d := time.Date(2023, 7, 1, 8, 30, 0, 123456000, time.UTC)

	// Every field set, in canonical form: stored and returned exactly.
	full := storage.Record{
		"id": "t1", "req": "r", "s": "hello", "n": int64(-42), "b": false, "d": d,
		"j": json.RawMessage(`{"k":[1,"two",null]}`), "l": []string{"x", "", "y"},
		"ds": "set", "dn": int64(0), "db": false, "dd": d, "dj": json.RawMessage(`[]`), "dl": []string{},
	}
	got := create(t, a, "thing", full)
	wantRecord(t, "create returns the stored record", got, full)
	wantRecord(t, "find one by id", byID(t, a, "thing", "t1"), full)
	wantRecord(t, "find many", findMany(t, a, "thing", storage.Query{})[0], full)

	// Only the required fields: defaults fill the rest, optional fields stay absent.
	wantMin := storage.Record{
		"id": "t2", "req": "r", "ds": "x", "dn": int64(7), "db": true, "dd": fixedDate(),
		"dj": json.RawMessage(`{"a":[1,2]}`), "dl": []string{"a", "b"},
	}
	wantRecord(t, "defaults", create(t, a, "thing", storage.Record{"id": "t2", "req": "r"}), wantMin)
	wantRecord(t, "defaults stored", byID(t, a, "thing", "t2"), wantMin)

	// Convenient inputs are converted; nil and typed nils mean unset (defaults apply).
	conv := create(t, a, "thing", storage.Record{
		"id": "t3", "req": "r", "n": 12, "dn": float64(3), "l": []any{"p", "q"},
		"j": map[string]any{"z": 1}, "s": nil, "dl": []string(nil), "dj": json.RawMessage(nil),
		"d": d.In(time.FixedZone("east", 3*3600)),
	})
	wantConv := storage.Record{
		"id": "t3", "req": "r", "n": int64(12), "dn": int64(3), "l": []string{"p", "q"},
		"j": json.RawMessage(`{"z":1}`), "d": d, "ds": "x", "db": true, "dd": fixedDate(),
		"dj": json.RawMessage(`{"a":[1,2]}`), "dl": []string{"a", "b"},
	}
	wantRecord(t, "converted input", conv, wantConv)
	wantRecord(t, "converted input stored", byID(t, a, "thing", "t3"), wantConv)

	// JSON is stored compacted.
	create(t, a, "thing", storage.Record{"id": "t4", "req": "r", "j": json.RawMessage("{ \"a\" :\n [ 1 , 2 ] }")})
	if j := byID(t, a, "thing", "t4").JSON("j"); string(j) != `{"a":[1,2]}` {
		t.Errorf("json not compacted: %s", j)
	}

	// Missing required field, missing or empty id: ErrInvalidValue, nothing stored.
	_, err := a.Create(ctx, "thing", storage.Record{"id": "t5"})
	wantErr(t, err, storage.ErrInvalidValue, "create without a required field")
	_, err = a.Create(ctx, "thing", storage.Record{"req": "r"})
	wantErr(t, err, storage.ErrInvalidValue, "create without id")
	_, err = a.Create(ctx, "thing", storage.Record{"id": "", "req": "r"})
	wantErr(t, err, storage.ErrInvalidValue, "create with an empty id")
	_, err = a.Create(ctx, "thing", storage.Record{"id": "t6", "req": nil})
	wantErr(t, err, storage.ErrInvalidValue, "create with a nil required field")
	if n := count(t, a, "thing", storage.Where{}); n != 4 {
		t.Errorf("failed creates stored something: %d records, want 4", n)
	}

	// Ids are arbitrary strings, including bytes that look like separators.
	odd := []string{"a\x00b", "a", "a\x00", "\xff\xfe", "id with spaces/and:colons"}
	for _, id := range odd {
		create(t, a, "thing", storage.Record{"id": id, "req": "r", "s": id})
	}
	for _, id := range odd {
		if got := byID(t, a, "thing", id); got.String("s") != id {
			t.Errorf("id %q: got %v", id, got)
		}
		wantIDs(t, a, "thing", storage.Eq("s", id), id)
	}
}

func testDatePrecision(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, thingModel("thing", true)))
	zones := []*time.Location{time.UTC, time.FixedZone("plus", 5*3600+1800), time.FixedZone("minus", -7*3600)}
	inputs := []time.Time{
		time.Date(2025, 3, 14, 15, 9, 26, 535897932, zones[1]),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, zones[2]), // before the epoch: sign handling
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),                 // the zero time
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, zones[0]),
		time.Date(2024, 1, 1, 0, 0, 0, 1, zones[0]), // below the precision
	}
	for i, in := range inputs {
		id := string(rune('a' + i))
		want := in.UTC().Truncate(time.Microsecond)
		check := func(what string, r storage.Record) {
			t.Helper()
			got := r.Time("d")
			if !got.Equal(want) || got.Location() != time.UTC || got != want {
				t.Errorf("%s %s: got %v (%v), want %v UTC", what, in, got, got.Location(), want)
			}
		}
		check("create", create(t, a, "thing", storage.Record{"id": id, "req": "r", "d": in}))
		check("find", byID(t, a, "thing", id))
		// The same instant in another zone and with other nanoseconds below the precision
		// finds it; a microsecond later does not.
		wantIDs(t, a, "thing", storage.Eq("d", in.In(zones[(i+1)%3])), id)
		wantIDs(t, a, "thing", storage.And(storage.Eq("id", id), storage.Eq("d", want.Add(time.Microsecond))))
	}
	_, err := a.Create(t.Context(), "thing", storage.Record{"id": "far", "req": "r", "d": time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantErr(t, err, storage.ErrInvalidValue, "a date beyond int64 microseconds")
}

func testCopies(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, thingModel("thing", false)))
	in := storage.Record{"id": "c1", "req": "r", "s": "orig", "l": []string{"a", "b"}, "j": json.RawMessage(`{"a":1}`)}
	out := create(t, a, "thing", in)
	want := byID(t, a, "thing", "c1").Clone()

	// Changing the input after Create changes nothing stored.
	in["s"] = "changed"
	in["l"].([]string)[0] = "changed"
	in["j"].(json.RawMessage)[2] = 'X'
	wantRecord(t, "after mutating the create input", byID(t, a, "thing", "c1"), want)

	// Changing what Create, FindOne, FindMany and Update returned changes nothing stored.
	mutate := func(r storage.Record) {
		r["s"] = "changed"
		r["new"] = 1
		delete(r, "req")
		r.Strings("l")[0] = "changed"
		r.JSON("j")[2] = 'X'
		r.Strings("dl")[0] = "changed"
	}
	mutate(out)
	wantRecord(t, "after mutating the create result", byID(t, a, "thing", "c1"), want)
	mutate(byID(t, a, "thing", "c1"))
	wantRecord(t, "after mutating a find one result", byID(t, a, "thing", "c1"), want)
	mutate(findMany(t, a, "thing", storage.Query{})[0])
	wantRecord(t, "after mutating a find many result", byID(t, a, "thing", "c1"), want)

	set := storage.Record{"l": []string{"u", "v"}}
	up, err := a.Update(t.Context(), "thing", storage.ByID("c1"), set)
	if err != nil {
		t.Fatal(err)
	}
	want["l"] = []string{"u", "v"}
	set["l"].([]string)[0] = "changed"
	mutate(up)
	wantRecord(t, "after mutating the update input and result", byID(t, a, "thing", "c1"), want)
}

func testUpdate(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel()))
	ctx := t.Context()
	for _, id := range []string{"u3", "u1", "u2"} {
		r := user(id, id+"@x")
		r["role"] = "admin"
		r["age"] = 30
		create(t, a, "user", r)
	}

	// The first match in id order is updated, and returned as stored.
	got, err := a.Update(ctx, "user", storage.Eq("role", "admin"), storage.Record{"name": "first", "age": 31})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != "u1" || got.String("name") != "first" || got.Int("age") != 31 {
		t.Errorf("update returned %v, want u1 with the new values", got)
	}
	wantRecord(t, "stored after update", byID(t, a, "user", "u1"), got)
	if byID(t, a, "user", "u2").String("name") != "name of u2" || byID(t, a, "user", "u3").String("name") != "name of u3" {
		t.Error("update changed a record other than the first match")
	}

	// A nil value unsets an optional field.
	got, err = a.Update(ctx, "user", storage.ByID("u2"), storage.Record{"age": nil, "role": nil})
	if err != nil {
		t.Fatal(err)
	}
	if got.Has("age") || got.Has("role") || byID(t, a, "user", "u2").Has("age") {
		t.Errorf("nil did not unset: %v", got)
	}
	wantIDs(t, a, "user", storage.Eq("age", nil), "u2")

	// An empty set changes nothing and still returns the record.
	got, err = a.Update(ctx, "user", storage.ByID("u3"), storage.Record{})
	if err != nil || got.ID() != "u3" {
		t.Errorf("empty update: %v, %v", got, err)
	}

	// No match: ErrNotFound.
	_, err = a.Update(ctx, "user", storage.ByID("nope"), storage.Record{"name": "x"})
	wantErr(t, err, storage.ErrNotFound, "update without a match")

	// A required field cannot be unset, the id cannot change, values must fit.
	before := byID(t, a, "user", "u3")
	_, err = a.Update(ctx, "user", storage.ByID("u3"), storage.Record{"name": nil})
	wantErr(t, err, storage.ErrInvalidValue, "unsetting a required field")
	_, err = a.Update(ctx, "user", storage.ByID("u3"), storage.Record{"id": "u9"})
	wantErr(t, err, storage.ErrInvalidValue, "changing the id")
	_, err = a.Update(ctx, "user", storage.ByID("u3"), storage.Record{"id": "u3"})
	wantErr(t, err, storage.ErrInvalidValue, "setting the id to itself")
	_, err = a.Update(ctx, "user", storage.ByID("u3"), storage.Record{"age": "old"})
	wantErr(t, err, storage.ErrInvalidValue, "a string for a number")
	wantRecord(t, "after refused updates", byID(t, a, "user", "u3"), before)
	wantGone(t, a, "user", "u9")

	// A unique field may be set to the value it already holds.
	if _, err := a.Update(ctx, "user", storage.ByID("u3"), storage.Record{"email": "u3@x"}); err != nil {
		t.Errorf("setting a unique field to its own value: %v", err)
	}
}

func testUpdateMany(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel()))
	ctx := t.Context()
	for _, id := range []string{"u1", "u2", "u3", "u4"} {
		r := user(id, id+"@x")
		if id != "u4" {
			r["role"] = "member"
		}
		create(t, a, "user", r)
	}
	n, err := a.UpdateMany(ctx, "user", storage.Eq("role", "member"), storage.Record{"role": "staff", "age": 5})
	if err != nil || n != 3 {
		t.Fatalf("update many: %d, %v; want 3", n, err)
	}
	wantIDs(t, a, "user", storage.Eq("role", "staff"), "u1", "u2", "u3")
	wantIDs(t, a, "user", storage.Eq("age", 5), "u1", "u2", "u3")
	wantIDs(t, a, "user", storage.Eq("role", "member"))

	// All or nothing: a unique value set on several records changes none of them.
	n, err = a.UpdateMany(ctx, "user", storage.Eq("role", "staff"), storage.Record{"username": "same", "age": 6})
	wantConstraint(t, err, storage.ErrDuplicate, "user", "username")
	if n != 0 {
		t.Errorf("failed update many reported %d", n)
	}
	wantIDs(t, a, "user", storage.Eq("username", "same"))
	wantIDs(t, a, "user", storage.Eq("age", 6))
	wantIDs(t, a, "user", storage.Eq("age", 5), "u1", "u2", "u3")

	// Also when the clash is with a record outside the match.
	if _, err := a.Update(ctx, "user", storage.ByID("u4"), storage.Record{"username": "taken"}); err != nil {
		t.Fatal(err)
	}
	_, err = a.UpdateMany(ctx, "user", storage.In("id", []string{"u1", "u2"}), storage.Record{"username": "taken", "age": 7})
	wantConstraint(t, err, storage.ErrDuplicate, "user", "username")
	wantIDs(t, a, "user", storage.Eq("age", 7))

	n, err = a.UpdateMany(ctx, "user", storage.Eq("role", "nobody"), storage.Record{"age": 1})
	if err != nil || n != 0 {
		t.Errorf("update many without matches: %d, %v", n, err)
	}
	_, err = a.UpdateMany(ctx, "user", storage.Where{}, storage.Record{"email": nil})
	wantErr(t, err, storage.ErrInvalidValue, "update many unsetting a required field")
}

func testDelete(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel()))
	ctx := t.Context()
	for _, id := range []string{"u4", "u2", "u1", "u3", "u5"} {
		r := user(id, id+"@x")
		r["age"] = map[string]int{"u1": 1, "u2": 2, "u3": 1, "u4": 1, "u5": 9}[id]
		create(t, a, "user", r)
	}
	// Delete removes the first match in id order.
	if err := a.Delete(ctx, "user", storage.Eq("age", 1)); err != nil {
		t.Fatal(err)
	}
	wantGone(t, a, "user", "u1")
	wantPresent(t, a, "user", "u2", "u3", "u4", "u5")
	wantErr(t, a.Delete(ctx, "user", storage.Eq("age", 100)), storage.ErrNotFound, "delete without a match")

	n, err := a.DeleteMany(ctx, "user", storage.Eq("age", 1))
	if err != nil || n != 2 {
		t.Errorf("delete many: %d, %v; want 2", n, err)
	}
	wantIDs(t, a, "user", storage.Where{}, "u2", "u5")
	n, err = a.DeleteMany(ctx, "user", storage.Eq("age", 1))
	if err != nil || n != 0 {
		t.Errorf("delete many without matches: %d, %v", n, err)
	}
	n, err = a.DeleteMany(ctx, "user", storage.Where{})
	if err != nil || n != 2 {
		t.Errorf("delete many of everything: %d, %v", n, err)
	}
	wantIDs(t, a, "user", storage.Where{})
	// A deleted id can be used again.
	create(t, a, "user", user("u2", "u2@x"))
}

func testErrors(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), counterModel(), thingModel("thing", false)))
	ctx := t.Context()
	create(t, a, "user", user("u1", "u1@x"))
	create(t, a, "counter", storage.Record{"id": "c1", "count": 1})
	w := storage.ByID("u1")

	// Unknown model, in every method.
	unknownModel := map[string]error{}
	_, unknownModel["create"] = a.Create(ctx, "nope", user("x", "x@x"))
	_, unknownModel["find one"] = a.FindOne(ctx, "nope", w)
	_, unknownModel["find many"] = a.FindMany(ctx, "nope", storage.Query{})
	_, unknownModel["count"] = a.Count(ctx, "nope", w)
	_, unknownModel["update"] = a.Update(ctx, "nope", w, storage.Record{"name": "x"})
	_, unknownModel["update many"] = a.UpdateMany(ctx, "nope", w, storage.Record{"name": "x"})
	unknownModel["delete"] = a.Delete(ctx, "nope", w)
	_, unknownModel["delete many"] = a.DeleteMany(ctx, "nope", w)
	_, unknownModel["consume one"] = a.ConsumeOne(ctx, "nope", w)
	_, unknownModel["increment one"] = a.IncrementOne(ctx, "nope", w, "count", 1, nil)
	for op, err := range unknownModel {
		wantErr(t, err, storage.ErrUnknownModel, op+" on an unknown model")
	}

	// Unknown fields in records, where clauses (also nested and in groups) and sorts.
	bad := storage.Eq("nope", 1)
	nested := storage.And(storage.ByID("u1"), storage.Or(storage.Eq("name", "x"), bad))
	unknownField := map[string]error{}
	_, unknownField["create"] = a.Create(ctx, "user", storage.Record{"id": "u2", "email": "e", "name": "n", "nope": 1})
	_, unknownField["update set"] = a.Update(ctx, "user", w, storage.Record{"nope": 1})
	_, unknownField["update many set"] = a.UpdateMany(ctx, "user", w, storage.Record{"nope": 1})
	_, unknownField["increment set"] = a.IncrementOne(ctx, "counter", storage.ByID("c1"), "count", 1, storage.Record{"nope": 1})
	_, unknownField["increment field"] = a.IncrementOne(ctx, "counter", storage.ByID("c1"), "nope", 1, nil)
	_, unknownField["find one"] = a.FindOne(ctx, "user", bad)
	_, unknownField["find one nested"] = a.FindOne(ctx, "user", nested)
	_, unknownField["find many"] = a.FindMany(ctx, "user", storage.Query{Where: nested})
	_, unknownField["find many sort"] = a.FindMany(ctx, "user", storage.Query{Sort: []storage.SortField{{Field: "nope"}}})
	_, unknownField["find many sort on empty result"] = a.FindMany(ctx, "user", storage.Query{Where: storage.Or(), Sort: []storage.SortField{{Field: "nope"}}})
	_, unknownField["count"] = a.Count(ctx, "user", bad)
	_, unknownField["update where"] = a.Update(ctx, "user", bad, storage.Record{"name": "x"})
	_, unknownField["update many where"] = a.UpdateMany(ctx, "user", bad, storage.Record{"name": "x"})
	unknownField["delete"] = a.Delete(ctx, "user", bad)
	_, unknownField["delete many"] = a.DeleteMany(ctx, "user", bad)
	_, unknownField["consume one"] = a.ConsumeOne(ctx, "user", bad)
	_, unknownField["increment where"] = a.IncrementOne(ctx, "counter", bad, "count", 1, nil)
	// A leaf without a field must not match everything.
	_, unknownField["leaf without field"] = a.FindMany(ctx, "user", storage.Query{Where: storage.Where{Op: storage.OpEq, Value: "u1"}})
	unknownField["delete with a leaf without field"] = a.Delete(ctx, "user", storage.Where{Op: storage.OpNe, Value: "x"})
	for op, err := range unknownField {
		wantErr(t, err, storage.ErrUnknownField, op+" with an unknown field")
	}

	// Values of the wrong type.
	invalid := map[string]error{}
	thing := func(k string, v any) storage.Record { return storage.Record{"id": "t-" + k, "req": "r", k: v} }
	_, invalid["string field"] = a.Create(ctx, "thing", thing("s", 5))
	_, invalid["number field"] = a.Create(ctx, "thing", thing("n", "5"))
	_, invalid["fractional number"] = a.Create(ctx, "thing", thing("n", 1.5))
	_, invalid["boolean field"] = a.Create(ctx, "thing", thing("b", "true"))
	_, invalid["date field"] = a.Create(ctx, "thing", thing("d", "2024-01-01"))
	_, invalid["json field"] = a.Create(ctx, "thing", thing("j", json.RawMessage(`{"a":`)))
	_, invalid["list field"] = a.Create(ctx, "thing", thing("l", []int{1}))
	_, invalid["list element"] = a.Create(ctx, "thing", thing("l", []any{"a", 1}))
	_, invalid["id type"] = a.Create(ctx, "thing", storage.Record{"id": 5, "req": "r"})
	_, invalid["where value"] = a.FindOne(ctx, "thing", storage.Eq("n", "five"))
	_, invalid["in needs a slice"] = a.FindOne(ctx, "thing", storage.In("n", 5))
	_, invalid["in element"] = a.FindOne(ctx, "thing", storage.In("n", []any{1, "x"}))
	_, invalid["lt on a boolean"] = a.FindOne(ctx, "thing", storage.Lt("b", true))
	_, invalid["lt without a value"] = a.FindOne(ctx, "thing", storage.Lt("n", nil))
	_, invalid["contains on a number"] = a.FindOne(ctx, "thing", storage.Contains("n", "1"))
	_, invalid["contains with a number"] = a.FindOne(ctx, "thing", storage.Contains("s", 1))
	_, invalid["starts with on a list"] = a.FindOne(ctx, "thing", storage.StartsWith("l", "a"))
	_, invalid["unknown operator"] = a.FindOne(ctx, "thing", storage.Where{Field: "s", Op: "like", Value: "a"})
	_, invalid["update value"] = a.Update(ctx, "user", w, storage.Record{"age": true})
	_, invalid["increment a string"] = a.IncrementOne(ctx, "counter", storage.ByID("c1"), "label", 1, nil)
	for op, err := range invalid {
		wantErr(t, err, storage.ErrInvalidValue, op)
	}
	if n := count(t, a, "thing", storage.Where{}); n != 0 {
		t.Errorf("refused creates stored %d records", n)
	}
	wantRecord(t, "user after refused writes", byID(t, a, "user", "u1"), storage.Record{"id": "u1", "email": "u1@x", "name": "name of u1", "role": "user"})
}

func testContext(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), counterModel()))
	create(t, a, "user", user("u1", "u1@x"))
	create(t, a, "counter", storage.Record{"id": "c1", "count": 1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	w := storage.ByID("u1")
	errs := map[string]error{}
	_, errs["create"] = a.Create(ctx, "user", user("u2", "u2@x"))
	_, errs["find one"] = a.FindOne(ctx, "user", w)
	_, errs["find many"] = a.FindMany(ctx, "user", storage.Query{})
	_, errs["count"] = a.Count(ctx, "user", w)
	_, errs["update"] = a.Update(ctx, "user", w, storage.Record{"name": "x"})
	_, errs["update many"] = a.UpdateMany(ctx, "user", w, storage.Record{"name": "x"})
	errs["delete"] = a.Delete(ctx, "user", w)
	_, errs["delete many"] = a.DeleteMany(ctx, "user", w)
	_, errs["consume one"] = a.ConsumeOne(ctx, "user", w)
	_, errs["increment one"] = a.IncrementOne(ctx, "counter", storage.ByID("c1"), "count", 1, nil)
	ran := false
	errs["tx"] = a.Tx(ctx, func(storage.Adapter) error { ran = true; return nil })
	errs["view"] = a.View(ctx, func(storage.Adapter) error { ran = true; return nil })
	for op, err := range errs {
		wantErr(t, err, context.Canceled, op+" with a cancelled context")
	}
	if ran {
		t.Error("tx or view ran its function under a cancelled context")
	}
	// Inside a transaction, an operation given a cancelled context is refused too.
	err := a.Tx(t.Context(), func(tx storage.Adapter) error {
		_, err := tx.Create(ctx, "user", user("u3", "u3@x"))
		wantErr(t, err, context.Canceled, "create in a tx with a cancelled context")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRecord(t, "after cancelled writes", byID(t, a, "user", "u1"), storage.Record{"id": "u1", "email": "u1@x", "name": "name of u1", "role": "user"})
	wantIDs(t, a, "user", storage.Where{}, "u1")
	if c := byID(t, a, "counter", "c1").Int("count"); c != 1 {
		t.Errorf("counter changed under a cancelled context: %d", c)
	}
	// An expired deadline counts as cancelled too.
	dctx, dcancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer dcancel()
	if _, err := a.FindOne(dctx, "user", w); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("find one past the deadline: %v", err)
	}
}
