package storage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Op is a comparison operator of a [Where] leaf.
type Op string

// The operators every adapter supports.
const (
	OpEq         Op = "eq"
	OpNe         Op = "ne"
	OpLt         Op = "lt"
	OpLte        Op = "lte"
	OpGt         Op = "gt"
	OpGte        Op = "gte"
	OpIn         Op = "in"          // Value is a slice of the field's type
	OpNotIn      Op = "not_in"      // Value is a slice of the field's type
	OpContains   Op = "contains"    // substring of a string; element of a string[]
	OpStartsWith Op = "starts_with" // string prefix
	OpEndsWith   Op = "ends_with"   // string suffix
)

// Where is a filter: either a leaf (Field, Op, Value) or a group of Clauses joined by AND
// (the default) or OR. The zero Where matches everything. Build them with [Eq], [And], [Or]
// and friends rather than by hand.
//
// Comparisons against an unset field: eq nil, ne <value> and not_in match (an unset field
// equals no value); every other operator does not (an unset field is neither less nor greater
// than anything, contains nothing and has no prefix).
type Where struct {
	Field string
	Op    Op
	Value any

	Or      bool    // join Clauses with OR instead of AND
	Clauses []Where // a group when non-nil
}

// Eq matches field == v (v nil: the field is unset).
func Eq(field string, v any) Where { return Where{Field: field, Op: OpEq, Value: v} }

// Ne matches field != v.
func Ne(field string, v any) Where { return Where{Field: field, Op: OpNe, Value: v} }

// Lt matches field < v.
func Lt(field string, v any) Where { return Where{Field: field, Op: OpLt, Value: v} }

// Lte matches field <= v.
func Lte(field string, v any) Where { return Where{Field: field, Op: OpLte, Value: v} }

// Gt matches field > v.
func Gt(field string, v any) Where { return Where{Field: field, Op: OpGt, Value: v} }

// Gte matches field >= v.
func Gte(field string, v any) Where { return Where{Field: field, Op: OpGte, Value: v} }

// In matches when field equals one of vs (a slice such as []string or []any).
func In(field string, vs any) Where { return Where{Field: field, Op: OpIn, Value: vs} }

// NotIn matches when field equals none of vs.
func NotIn(field string, vs any) Where { return Where{Field: field, Op: OpNotIn, Value: vs} }

// Contains matches a substring of a string field or an element of a string[] field.
func Contains(field string, v any) Where { return Where{Field: field, Op: OpContains, Value: v} }

// StartsWith matches a string prefix.
func StartsWith(field, prefix string) Where {
	return Where{Field: field, Op: OpStartsWith, Value: prefix}
}

// EndsWith matches a string suffix.
func EndsWith(field, suffix string) Where {
	return Where{Field: field, Op: OpEndsWith, Value: suffix}
}

// And matches when every clause matches.
func And(clauses ...Where) Where { return Where{Clauses: nonNil(clauses)} }

// Or matches when any clause matches. Or() with no clauses matches nothing.
func Or(clauses ...Where) Where { return Where{Or: true, Clauses: nonNil(clauses)} }

func nonNil(c []Where) []Where {
	if c == nil {
		return []Where{}
	}
	return c
}

// ByID is the common Eq("id", id).
func ByID(id string) Where { return Eq("id", id) }

// IsZero reports whether w matches everything.
func (w Where) IsZero() bool { return w.Field == "" && w.Clauses == nil && !w.Or }

func (w Where) isGroup() bool { return w.Clauses != nil || w.Or }

// Equalities returns the eq leaves every match must satisfy: w itself when it is an eq leaf,
// or the eq leaves directly under a top-level AND. Adapters use it to pick an index.
func (w Where) Equalities() []Where {
	if !w.isGroup() {
		if w.Op == OpEq && w.Value != nil {
			return []Where{w}
		}
		return nil
	}
	if w.Or {
		return nil
	}
	var out []Where
	for _, c := range w.Clauses {
		if !c.isGroup() && c.Op == OpEq && c.Value != nil {
			out = append(out, c)
		}
	}
	return out
}

// SortField orders results by one field; unset values sort first in ascending order.
type SortField struct {
	Field string
	Desc  bool
}

// Query is a filter plus ordering and a window. Ties are always broken by id ascending, so
// pages are stable. Limit 0 means no limit.
type Query struct {
	Where  Where
	Sort   []SortField
	Limit  int
	Offset int
}

// Matcher is a compiled, validated [Where] for one model.
type Matcher struct {
	model *Model
	root  cond
}

type cond struct {
	field  *Field
	op     Op
	value  any   // normalized
	values []any // normalized, for in / not_in
	or     bool
	group  []cond
	isGrp  bool
}

// Compile validates w against the model and normalizes its values, so matching is a pure
// comparison. Unknown fields are ErrUnknownField; values of the wrong type ErrInvalidValue.
func (m *Model) Compile(w Where) (*Matcher, error) {
	c, err := m.compile(w)
	if err != nil {
		return nil, err
	}
	return &Matcher{model: m, root: c}, nil
}

// CompileTo is [Model.Compile] into a Matcher the caller owns, so a hot path can reuse one
// (the engine pools them for FindOne) instead of allocating a new one per lookup. On error
// mt is left reset.
func (m *Model) CompileTo(mt *Matcher, w Where) error {
	c, err := m.compile(w)
	if err != nil {
		*mt = Matcher{}
		return err
	}
	*mt = Matcher{model: m, root: c}
	return nil
}

// Reset empties mt, so a pooled Matcher keeps none of a caller's values alive.
func (mt *Matcher) Reset() { *mt = Matcher{} }

func (m *Model) compile(w Where) (cond, error) {
	if w.isGroup() {
		c := cond{isGrp: true, or: w.Or, group: make([]cond, 0, len(w.Clauses))}
		for _, sub := range w.Clauses {
			sc, err := m.compile(sub)
			if err != nil {
				return cond{}, err
			}
			c.group = append(c.group, sc)
		}
		return c, nil
	}
	if w.Field == "" {
		if w.Op != "" || w.Value != nil {
			// A leaf that lost its field must not silently match everything.
			return cond{}, fmt.Errorf("%w: %s.%q in a %s comparison", ErrUnknownField, m.Name, "", w.Op)
		}
		return cond{isGrp: true}, nil // zero Where: empty AND
	}
	f, ok := m.Field(w.Field)
	if !ok {
		return cond{}, fmt.Errorf("%w: %s.%s", ErrUnknownField, m.Name, w.Field)
	}
	c := cond{field: f, op: w.Op}
	switch w.Op {
	case OpEq, OpNe:
		if w.Value == nil {
			return c, nil
		}
		v, err := f.normalize(w.Value)
		if err != nil {
			return cond{}, err
		}
		c.value = v
	case OpLt, OpLte, OpGt, OpGte:
		switch f.Type {
		case TypeString, TypeNumber, TypeDate:
		default:
			return cond{}, fmt.Errorf("%w: %s on %s field %s.%s", ErrInvalidValue, w.Op, f.Type, m.Name, f.Name)
		}
		v, err := f.normalize(w.Value)
		if err != nil || v == nil {
			return cond{}, fmt.Errorf("%w: %s.%s %s %v", ErrInvalidValue, m.Name, f.Name, w.Op, w.Value)
		}
		c.value = v
	case OpIn, OpNotIn:
		vs, err := f.normalizeList(w.Value)
		if err != nil {
			return cond{}, err
		}
		c.values = vs
	case OpContains:
		switch f.Type {
		case TypeString, TypeStringList:
		default:
			return cond{}, fmt.Errorf("%w: contains on %s field %s.%s", ErrInvalidValue, f.Type, m.Name, f.Name)
		}
		s, ok := w.Value.(string)
		if !ok {
			return cond{}, fmt.Errorf("%w: contains needs a string for %s.%s", ErrInvalidValue, m.Name, f.Name)
		}
		c.value = s
	case OpStartsWith, OpEndsWith:
		s, ok := w.Value.(string)
		if f.Type != TypeString || !ok {
			return cond{}, fmt.Errorf("%w: %s needs a string field and value (%s.%s)", ErrInvalidValue, w.Op, m.Name, f.Name)
		}
		c.value = s
	default:
		return cond{}, fmt.Errorf("%w: unknown operator %q", ErrInvalidValue, w.Op)
	}
	return c, nil
}

// Term is one comparison every matching record satisfies — a leaf of the top-level AND, nested
// ANDs flattened — with its values normalized. Adapters pick an index from the terms (id eq →
// direct get, eq on an indexed field → index lookup) and still call Match on every candidate,
// so a term never has to capture the whole filter.
type Term struct {
	Field  *Field
	Op     Op
	Value  any   // normalized; nil for eq/ne against unset
	Values []any // normalized, for in / not_in
}

// AppendTerms appends the filter's terms to dst and returns it. It allocates nothing when dst
// has room, which keeps index lookups on the hot path allocation-free.
func (mt *Matcher) AppendTerms(dst []Term) []Term { return mt.root.appendTerms(dst) }

func (c *cond) appendTerms(dst []Term) []Term {
	if !c.isGrp {
		return append(dst, Term{Field: c.field, Op: c.op, Value: c.value, Values: c.values})
	}
	if c.or {
		if len(c.group) == 1 {
			return c.group[0].appendTerms(dst)
		}
		return dst // an OR of several promises nothing about each record
	}
	for i := range c.group {
		dst = c.group[i].appendTerms(dst)
	}
	return dst
}

// Match reports whether the record satisfies the filter.
func (mt *Matcher) Match(r Record) bool { return mt.root.match(r) }

func (c *cond) match(r Record) bool {
	if c.isGrp {
		if c.or {
			for i := range c.group {
				if c.group[i].match(r) {
					return true
				}
			}
			return false
		}
		for i := range c.group {
			if !c.group[i].match(r) {
				return false
			}
		}
		return true
	}
	v := r[c.field.Name]
	if v != nil && !c.field.Type.Holds(v) {
		v = nil // stored under an older type of the field: not visible, so unset
	}
	switch c.op {
	case OpEq:
		if c.value == nil {
			return v == nil
		}
		return v != nil && equalValues(v, c.value)
	case OpNe:
		if c.value == nil {
			return v != nil
		}
		return v == nil || !equalValues(v, c.value)
	case OpLt, OpLte, OpGt, OpGte:
		if v == nil {
			return false
		}
		n := CompareValues(v, c.value)
		switch c.op {
		case OpLt:
			return n < 0
		case OpLte:
			return n <= 0
		case OpGt:
			return n > 0
		default:
			return n >= 0
		}
	case OpIn, OpNotIn:
		found := false
		if v != nil {
			for _, x := range c.values {
				if equalValues(v, x) {
					found = true
					break
				}
			}
		}
		return found == (c.op == OpIn)
	case OpContains:
		s := c.value.(string)
		switch x := v.(type) {
		case string:
			return strings.Contains(x, s)
		case []string:
			return slices.Contains(x, s)
		}
		return false
	case OpStartsWith:
		x, ok := v.(string)
		return ok && strings.HasPrefix(x, c.value.(string))
	case OpEndsWith:
		x, ok := v.(string)
		return ok && strings.HasSuffix(x, c.value.(string))
	}
	return false
}

func equalValues(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []string:
		y, ok := b.([]string)
		return ok && slices.Equal(x, y)
	case json.RawMessage:
		y, ok := b.(json.RawMessage)
		return ok && bytes.Equal(x, y)
	default:
		return a == b
	}
}

// CompareValues orders two normalized values of the same field type: -1, 0 or +1. Values of
// different or unordered types compare equal. Adapters use it for sorting and range checks.
func CompareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			default:
				return 1
			}
		}
	}
	return 0
}

// SortRecords orders records in place by q's sort fields, unset values first (last when
// descending), ties by id ascending. It validates the sort fields against the model.
func (m *Model) SortRecords(recs []Record, sort []SortField) error {
	for _, s := range sort {
		if _, ok := m.Field(s.Field); !ok {
			return fmt.Errorf("%w: sort by %s.%s", ErrUnknownField, m.Name, s.Field)
		}
	}
	slices.SortStableFunc(recs, func(a, b Record) int {
		for _, s := range sort {
			av, bv := a[s.Field], b[s.Field]
			var n int
			switch {
			case av == nil && bv == nil:
				n = 0
			case av == nil:
				n = -1
			case bv == nil:
				n = 1
			default:
				n = CompareValues(av, bv)
			}
			if s.Desc {
				n = -n
			}
			if n != 0 {
				return n
			}
		}
		return strings.Compare(a.ID(), b.ID())
	})
	return nil
}

// Window applies offset and limit to an already sorted slice.
func Window[T any](items []T, offset, limit int) []T {
	if offset < 0 {
		offset = 0
	}
	if offset >= len(items) {
		return items[:0]
	}
	items = items[offset:]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items
}
