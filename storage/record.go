package storage

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Record is one stored row: field name → value of the field's canonical Go type (see the
// package doc). The typed getters return the zero value when a field is unset or of another
// type, which keeps call sites short; use the map directly to tell unset from zero.
type Record map[string]any

// ID returns the record's primary key.
func (r Record) ID() string { return r.String("id") }

// String returns a string field.
func (r Record) String(field string) string { s, _ := r[field].(string); return s }

// Int returns a number field.
func (r Record) Int(field string) int64 { n, _ := r[field].(int64); return n }

// Bool returns a boolean field.
func (r Record) Bool(field string) bool { b, _ := r[field].(bool); return b }

// Time returns a date field.
func (r Record) Time(field string) time.Time { t, _ := r[field].(time.Time); return t }

// Strings returns a string[] field.
func (r Record) Strings(field string) []string { s, _ := r[field].([]string); return s }

// JSON returns a json field's raw bytes.
func (r Record) JSON(field string) json.RawMessage { j, _ := r[field].(json.RawMessage); return j }

// Has reports whether the field is set.
func (r Record) Has(field string) bool { return r[field] != nil }

// Clone returns a deep copy: slices and raw JSON are copied too, so the copy can be modified
// without touching the original.
func (r Record) Clone() Record {
	if r == nil {
		return nil
	}
	c := make(Record, len(r))
	for k, v := range r {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case []string:
		return slices.Clone(x)
	case json.RawMessage:
		return slices.Clone(x)
	case map[string]any:
		return maps.Clone(x)
	default:
		return v
	}
}

// Merge applies normalized update fields to a stored record in place: a nil value unsets
// the field. Fields unknown to the current schema are left as they are, which is how data of
// a switched-off plugin survives updates.
func (r Record) Merge(set Record) {
	for k, v := range set {
		if v == nil {
			delete(r, k)
		} else {
			r[k] = cloneValue(v)
		}
	}
}
