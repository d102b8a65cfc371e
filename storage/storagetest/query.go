package storagetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

func testSortWindow(t *testing.T, h Harness) {
	for _, indexed := range []bool{false, true} {
		model := "plain"
		if indexed {
			model = "indexed"
		}
		t.Run(model, func(t *testing.T) {
			a := h.Open(t, buildSchema(t, thingModel(model, indexed)))
			d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			// id: n, s, b, d (unset where absent)
			rows := []storage.Record{
				{"id": "e", "n": 3, "s": "b", "b": true, "d": d},
				{"id": "a", "n": 1, "s": "b", "d": d.Add(time.Hour)},
				{"id": "d", "s": "a", "b": false},
				{"id": "c", "n": 2, "s": "a", "b": true, "d": d.Add(-time.Hour)},
				{"id": "b", "n": 1, "s": "c", "b": false, "d": d},
				{"id": "f", "n": -1},
			}
			for _, r := range rows {
				r["req"] = "r"
				create(t, a, model, r)
			}
			sortBy := func(fields ...storage.SortField) storage.Query { return storage.Query{Sort: fields} }
			asc := func(f string) storage.SortField { return storage.SortField{Field: f} }
			desc := func(f string) storage.SortField { return storage.SortField{Field: f, Desc: true} }
			cases := []struct {
				name string
				q    storage.Query
				want []string
			}{
				{"no sort: id order", storage.Query{}, []string{"a", "b", "c", "d", "e", "f"}},
				{"number asc, unset first, ties by id", sortBy(asc("n")), []string{"d", "f", "a", "b", "c", "e"}},
				{"number desc, unset last, ties by id", sortBy(desc("n")), []string{"e", "c", "a", "b", "f", "d"}},
				{"string asc", sortBy(asc("s")), []string{"f", "c", "d", "a", "e", "b"}},
				{"bool asc", sortBy(asc("b")), []string{"a", "f", "b", "d", "c", "e"}},
				{"date desc", sortBy(desc("d")), []string{"a", "b", "e", "c", "d", "f"}},
				{"two fields", sortBy(asc("s"), desc("n")), []string{"f", "c", "d", "e", "a", "b"}},
				{"two fields other way", sortBy(desc("n"), asc("s")), []string{"e", "c", "a", "b", "f", "d"}},
				{"by id desc", sortBy(desc("id")), []string{"f", "e", "d", "c", "b", "a"}},
				{"limit", storage.Query{Limit: 2}, []string{"a", "b"}},
				{"offset", storage.Query{Offset: 4}, []string{"e", "f"}},
				{"limit and offset", storage.Query{Limit: 2, Offset: 1}, []string{"b", "c"}},
				{"sorted window", storage.Query{Sort: []storage.SortField{desc("n")}, Limit: 3, Offset: 1}, []string{"c", "a", "b"}},
				{"offset past the end", storage.Query{Offset: 10}, []string{}},
				{"limit past the end", storage.Query{Limit: 100, Offset: 5}, []string{"f"}},
				{"where, sort and window", storage.Query{Where: storage.Gte("n", 1), Sort: []storage.SortField{asc("s")}, Limit: 2}, []string{"c", "a"}},
			}
			for _, c := range cases {
				if got := ids(findMany(t, a, model, c.q)); !slices.Equal(got, c.want) {
					t.Errorf("%s: got %q, want %q", c.name, got, c.want)
				}
			}
			if n := count(t, a, model, storage.Gte("n", 1)); n != 4 {
				t.Errorf("count: %d, want 4", n)
			}
			if n := count(t, a, model, storage.Where{}); n != 6 {
				t.Errorf("count all: %d, want 6", n)
			}
		})
	}
}

func testWhereOperators(t *testing.T, h Harness) {
	for _, indexed := range []bool{false, true} {
		model := "plain"
		if indexed {
			model = "indexed"
		}
		t.Run(model, func(t *testing.T) {
			a := h.Open(t, buildSchema(t, thingModel(model, indexed)))
			d := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
			rows := []storage.Record{
				{"id": "r1", "s": "apple", "n": 1, "b": true, "d": d, "l": []string{"x", "y"}, "j": json.RawMessage(`{"a":1}`)},
				{"id": "r2", "s": "banana", "n": 2, "b": false, "d": d.Add(time.Hour), "l": []string{"y"}},
				{"id": "r3", "s": "cherry", "n": 3, "d": d.Add(2 * time.Hour), "l": []string{}},
				{"id": "r4"},
				{"id": "r5", "s": "", "n": -10, "b": false, "d": d.Add(-time.Hour)},
			}
			for _, r := range rows {
				r["req"] = "r"
				create(t, a, model, r)
			}
			S := storage.Eq
			cases := []struct {
				name string
				w    storage.Where
				want []string
			}{
				{"zero where matches all", storage.Where{}, []string{"r1", "r2", "r3", "r4", "r5"}},
				{"empty and matches all", storage.And(), []string{"r1", "r2", "r3", "r4", "r5"}},
				{"empty or matches none", storage.Or(), nil},
				{"eq string", S("s", "apple"), []string{"r1"}},
				{"eq empty string is set", S("s", ""), []string{"r5"}},
				{"eq nil: unset", S("s", nil), []string{"r4"}},
				{"ne string: unset matches", storage.Ne("s", "apple"), []string{"r2", "r3", "r4", "r5"}},
				{"ne nil: set", storage.Ne("s", nil), []string{"r1", "r2", "r3", "r5"}},
				{"eq number", S("n", 2), []string{"r2"}},
				{"eq number from float", S("n", 3.0), []string{"r3"}},
				{"eq false: unset is not false", S("b", false), []string{"r2", "r5"}},
				{"eq true", S("b", true), []string{"r1"}},
				{"ne true", storage.Ne("b", true), []string{"r2", "r3", "r4", "r5"}},
				{"eq bool nil", S("b", nil), []string{"r3", "r4"}},
				{"eq date", S("d", d.Add(time.Hour)), []string{"r2"}},
				{"eq list", S("l", []string{"y"}), []string{"r2"}},
				{"eq empty list", S("l", []string{}), []string{"r3"}},
				{"eq json, compacted", S("j", json.RawMessage(`{ "a": 1 }`)), []string{"r1"}},
				{"lt number", storage.Lt("n", 2), []string{"r1", "r5"}},
				{"lte number", storage.Lte("n", 2), []string{"r1", "r2", "r5"}},
				{"gt number", storage.Gt("n", 1), []string{"r2", "r3"}},
				{"gte number", storage.Gte("n", 1), []string{"r1", "r2", "r3"}},
				{"gt negative", storage.Gt("n", -11), []string{"r1", "r2", "r3", "r5"}},
				{"lt negative", storage.Lt("n", -9), []string{"r5"}},
				{"range", storage.And(storage.Gt("n", 1), storage.Lte("n", 3)), []string{"r2", "r3"}},
				{"empty range", storage.And(storage.Gt("n", 2), storage.Lt("n", 3)), nil},
				{"lt string", storage.Lt("s", "banana"), []string{"r1", "r5"}},
				{"gte string", storage.Gte("s", "banana"), []string{"r2", "r3"}},
				{"gt empty string", storage.Gt("s", ""), []string{"r1", "r2", "r3"}},
				{"lt date", storage.Lt("d", d.Add(time.Hour)), []string{"r1", "r5"}},
				{"gte date", storage.Gte("d", d.Add(time.Hour)), []string{"r2", "r3"}},
				{"date range", storage.And(storage.Gte("d", d), storage.Lt("d", d.Add(2*time.Hour))), []string{"r1", "r2"}},
				{"in string", storage.In("s", []string{"apple", "cherry", "none"}), []string{"r1", "r3"}},
				{"in number", storage.In("n", []any{1, int64(3)}), []string{"r1", "r3"}},
				{"in empty", storage.In("s", []string{}), nil},
				{"in id", storage.In("id", []string{"r4", "r2", "zz"}), []string{"r2", "r4"}},
				{"not in: unset matches", storage.NotIn("s", []string{"apple", ""}), []string{"r2", "r3", "r4"}},
				{"not in empty", storage.NotIn("n", []int{}), []string{"r1", "r2", "r3", "r4", "r5"}},
				{"contains substring", storage.Contains("s", "an"), []string{"r2"}},
				{"contains empty substring: set strings", storage.Contains("s", ""), []string{"r1", "r2", "r3", "r5"}},
				{"contains element", storage.Contains("l", "y"), []string{"r1", "r2"}},
				{"contains no element", storage.Contains("l", "z"), nil},
				{"starts with", storage.StartsWith("s", "ch"), []string{"r3"}},
				{"ends with", storage.EndsWith("s", "na"), []string{"r2"}},
				{"starts with on id", storage.StartsWith("id", "r"), []string{"r1", "r2", "r3", "r4", "r5"}},
				{"eq id", storage.ByID("r3"), []string{"r3"}},
				{"eq missing id", storage.ByID("nope"), nil},
				{"id and field", storage.And(storage.ByID("r3"), S("s", "apple")), nil},
				{"ne id", storage.Ne("id", "r1"), []string{"r2", "r3", "r4", "r5"}},
				{"and", storage.And(S("b", false), storage.Lt("n", 0)), []string{"r5"}},
				{"or", storage.Or(S("s", "apple"), S("s", "cherry")), []string{"r1", "r3"}},
				{"or of one", storage.Or(S("s", "apple")), []string{"r1"}},
				{"nested and in or", storage.Or(storage.And(S("b", false), storage.Gt("n", 0)), S("s", nil)), []string{"r2", "r4"}},
				{"nested or in and", storage.And(storage.Or(S("s", "apple"), S("n", 3)), storage.Ne("b", true)), []string{"r3"}},
				{"eq under an or is no index", storage.And(storage.Or(S("s", "apple"), S("s", "banana")), storage.Gte("n", 2)), []string{"r2"}},
				{"deep nesting", storage.And(storage.And(storage.And(S("s", "apple"))), storage.Or(storage.Or(S("n", 1)))), []string{"r1"}},
				{"operators on unset fields", storage.Or(storage.Lt("n", 100), storage.Contains("s", ""), storage.StartsWith("s", ""), storage.EndsWith("s", "")), []string{"r1", "r2", "r3", "r5"}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { wantIDs(t, a, model, c.w, c.want...) })
			}
		})
	}
}
