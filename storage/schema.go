package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// FieldType is the storage type of a field.
type FieldType string

// The field types of the contract; see the package doc for their Go types.
const (
	TypeString     FieldType = "string"
	TypeNumber     FieldType = "number"
	TypeBoolean    FieldType = "boolean"
	TypeDate       FieldType = "date"
	TypeJSON       FieldType = "json"
	TypeStringList FieldType = "string[]"
)

// DatePrecision is the resolution every adapter keeps for dates (PostgreSQL's).
const DatePrecision = time.Microsecond

// OnDelete says what happens to referencing records when the referenced one is deleted.
type OnDelete string

// The on-delete rules.
const (
	Cascade  OnDelete = "cascade"  // delete the referencing records too (recursively)
	SetNull  OnDelete = "set null" // unset the referencing field
	Restrict OnDelete = "restrict" // refuse the delete with ErrRestricted
)

// Reference declares that a field holds another model's id.
type Reference struct {
	Model    string
	OnDelete OnDelete // default Cascade
}

// Field describes one field of a model.
type Field struct {
	Name     string
	Type     FieldType
	Required bool // must be set on create and cannot be unset
	Unique   bool // at most one record per value (unset values are not compared)
	Indexed  bool // adapters keep an index for fast equality lookups
	Default  any  // applied on create when the field is missing
	// DefaultOwner is the plugin that changed Default with SetDefault, if any.
	DefaultOwner string
	References   *Reference // the field holds the id of a record of another model

	// Hidden fields are never returned by the API (Better Auth's returned:false).
	Hidden bool
	// ServerOnly fields cannot be set by clients (Better Auth's input:false): a truthy
	// client value is refused with FIELD_NOT_ALLOWED.
	ServerOnly bool

	// Owner is the plugin that declared the field ("core" for core models); filled in by
	// [Schema.AddModel] and [Schema.Extend] and used in error messages.
	Owner string
}

// Model is a named record type. The "id" field is implicit: do not declare it.
type Model struct {
	Name   string
	Fields []Field
	// Unique lists composite unique constraints, each a set of field names that together
	// must be unique (records with any of those fields unset are not compared).
	Unique [][]string
	// Owner is the plugin that declared the model.
	Owner string
	// Ephemeral declares that the model's records may be lost if the database crashes: an
	// adapter may trade their durability for speed (PostgreSQL keeps them in an UNLOGGED
	// table, whose writes skip the write-ahead log and its flush at commit, and which is
	// emptied after a crash and not copied to streaming replicas). Only for data whose loss
	// is harmless, such as rate-limit counters; never for anything a crash must not undo (a
	// quota, a consumed token, an account). bbolt and the memory adapter ignore it.
	Ephemeral bool

	byName map[string]int
}

// IDField is the implicit primary key of every model.
var IDField = Field{Name: "id", Type: TypeString, Required: true, Unique: true, Owner: "core"}

// Field returns the field named name ("id" included).
func (m *Model) Field(name string) (*Field, bool) {
	if name == "id" {
		return &IDField, true
	}
	i, ok := m.byName[name]
	if !ok {
		return nil, false
	}
	return &m.Fields[i], true
}

// Schema is the assembled set of models: the core models plus every plugin's additions.
// Build it once at start-up, then treat it as read-only (it is shared by adapters).
type Schema struct {
	models []*Model
	byName map[string]*Model
}

// NewSchema returns an empty schema.
func NewSchema() *Schema { return &Schema{byName: map[string]*Model{}} }

// AddModel declares a new model on behalf of owner. A second model with the same name is an
// error naming both owners.
func (s *Schema) AddModel(owner string, m Model) error {
	if m.Name == "" {
		return fmt.Errorf("plugin %q: model without a name", owner)
	}
	if prev, ok := s.byName[m.Name]; ok {
		return fmt.Errorf("plugin %q: model %q is already declared by plugin %q", owner, m.Name, prev.Owner)
	}
	nm := &Model{Name: m.Name, Owner: owner, Ephemeral: m.Ephemeral, byName: map[string]int{}}
	for _, u := range m.Unique {
		nm.Unique = append(nm.Unique, slices.Clone(u))
	}
	s.models = append(s.models, nm)
	s.byName[m.Name] = nm
	return s.Extend(owner, m.Name, m.Fields...)
}

// Extend adds fields to an existing model on behalf of owner (a plugin adding fields to a
// core model). A field name already taken is an error naming both owners.
func (s *Schema) Extend(owner, model string, fields ...Field) error {
	m, ok := s.byName[model]
	if !ok {
		return fmt.Errorf("plugin %q: extending %w %q", owner, ErrUnknownModel, model)
	}
	for _, f := range fields {
		if f.Name == "" || f.Name == "id" {
			return fmt.Errorf("plugin %q: model %q: invalid field name %q", owner, model, f.Name)
		}
		if i, ok := m.byName[f.Name]; ok {
			return fmt.Errorf("plugin %q: field %s.%s is already declared by plugin %q", owner, model, f.Name, m.Fields[i].Owner)
		}
		switch f.Type {
		case TypeString, TypeNumber, TypeBoolean, TypeDate, TypeJSON, TypeStringList:
		default:
			return fmt.Errorf("plugin %q: field %s.%s: unknown type %q", owner, model, f.Name, f.Type)
		}
		f.Owner = owner
		if f.References != nil {
			ref := *f.References
			if ref.OnDelete == "" {
				ref.OnDelete = Cascade
			}
			f.References = &ref
		}
		if f.Default != nil {
			v, err := f.normalize(f.Default)
			if err != nil {
				return fmt.Errorf("plugin %q: field %s.%s: default: %w", owner, model, f.Name, err)
			}
			f.Default = v
		}
		m.byName[f.Name] = len(m.Fields)
		m.Fields = append(m.Fields, f)
	}
	return nil
}

// SetDefault changes the default of an existing field on behalf of owner (the admin
// plugin's default_role for the core user.role). Only one owner may change a field's
// default: a second is an error naming both, since only one of them could win.
func (s *Schema) SetDefault(owner, model, field string, v any) error {
	m, ok := s.byName[model]
	if !ok {
		return fmt.Errorf("plugin %q: default of %s.%s: %w %q", owner, model, field, ErrUnknownModel, model)
	}
	i, ok := m.byName[field]
	if !ok {
		return fmt.Errorf("plugin %q: default of %s.%s: no such field", owner, model, field)
	}
	f := &m.Fields[i]
	if f.DefaultOwner != "" && f.DefaultOwner != owner {
		return fmt.Errorf("plugin %q: the default of %s.%s is already set by plugin %q", owner, model, field, f.DefaultOwner)
	}
	nv, err := f.normalize(v)
	if err != nil {
		return fmt.Errorf("plugin %q: default of %s.%s: %w", owner, model, field, err)
	}
	f.Default, f.DefaultOwner = nv, owner
	return nil
}

// Model returns the model named name.
func (s *Schema) Model(name string) (*Model, bool) {
	m, ok := s.byName[name]
	return m, ok
}

// MustModel returns the model or ErrUnknownModel.
func (s *Schema) MustModel(name string) (*Model, error) {
	m, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownModel, name)
	}
	return m, nil
}

// Models returns every model in declaration order.
func (s *Schema) Models() []*Model { return s.models }

// Validate checks cross-model consistency: references name existing models, composite
// unique sets name existing fields, on-delete rules are known, set-null is not used on a
// required field. Call it once after assembling.
func (s *Schema) Validate() error {
	for _, m := range s.models {
		for _, f := range m.Fields {
			if f.References == nil {
				continue
			}
			if _, ok := s.byName[f.References.Model]; !ok {
				return fmt.Errorf("plugin %q: field %s.%s references unknown model %q", f.Owner, m.Name, f.Name, f.References.Model)
			}
			if f.Type != TypeString {
				return fmt.Errorf("plugin %q: reference field %s.%s must be a string", f.Owner, m.Name, f.Name)
			}
			switch f.References.OnDelete {
			case Cascade, Restrict:
			case SetNull:
				if f.Required {
					return fmt.Errorf("plugin %q: field %s.%s is required and cannot be set null on delete", f.Owner, m.Name, f.Name)
				}
			default:
				return fmt.Errorf("plugin %q: field %s.%s: unknown on-delete rule %q", f.Owner, m.Name, f.Name, f.References.OnDelete)
			}
		}
		for _, set := range m.Unique {
			if len(set) == 0 {
				return fmt.Errorf("model %q: empty composite unique constraint", m.Name)
			}
			for _, name := range set {
				if _, ok := m.Field(name); !ok {
					return fmt.Errorf("model %q: composite unique constraint names %w %q", m.Name, ErrUnknownField, name)
				}
			}
		}
	}
	return nil
}

// Referrer is a field of some model that references another model.
type Referrer struct {
	Model *Model
	Field *Field
}

// ReferencesTo lists the fields (of any model) that reference model, in declaration order.
func (s *Schema) ReferencesTo(model string) []Referrer {
	var out []Referrer
	for _, m := range s.models {
		for i := range m.Fields {
			f := &m.Fields[i]
			if f.References != nil && f.References.Model == model {
				out = append(out, Referrer{Model: m, Field: f})
			}
		}
	}
	return out
}

// IndexedFields returns the fields an adapter keeps an index for: id excluded, every unique
// or indexed field, and every reference field (cascades look them up).
func (m *Model) IndexedFields() []*Field {
	var out []*Field
	for i := range m.Fields {
		f := &m.Fields[i]
		if f.Unique || f.Indexed || f.References != nil {
			out = append(out, f)
		}
	}
	return out
}

// UniqueSets returns every unique constraint other than the id as field-name sets: single
// unique fields first, then the composite ones.
func (m *Model) UniqueSets() [][]string {
	var out [][]string
	for _, f := range m.Fields {
		if f.Unique {
			out = append(out, []string{f.Name})
		}
	}
	return append(out, m.Unique...)
}

// NormalizeCreate checks and converts a record for Create: every key must be a known field,
// values are converted to canonical types, defaults fill missing fields, and required fields
// must be present. It returns a new record; the input is not modified.
func (m *Model) NormalizeCreate(rec Record) (Record, error) {
	out := make(Record, len(m.Fields)+1)
	if err := m.normalizeInto(out, rec); err != nil {
		return nil, err
	}
	if out.ID() == "" {
		return nil, fmt.Errorf("%w: %s.id is required", ErrInvalidValue, m.Name)
	}
	for _, f := range m.Fields {
		if out[f.Name] == nil && f.Default != nil {
			out[f.Name] = cloneValue(f.Default)
		}
		if f.Required && out[f.Name] == nil {
			return nil, fmt.Errorf("%w: %s.%s is required", ErrInvalidValue, m.Name, f.Name)
		}
	}
	// A stored record never holds nil values: unset means absent, in every adapter.
	maps.DeleteFunc(out, func(_ string, v any) bool { return v == nil })
	return out, nil
}

// NormalizeUpdate checks and converts the fields of an update: known fields only, the id may
// not change, and required fields may not be unset.
func (m *Model) NormalizeUpdate(set Record) (Record, error) {
	out := make(Record, len(set))
	if _, ok := set["id"]; ok {
		return nil, fmt.Errorf("%w: %s.id cannot be updated", ErrInvalidValue, m.Name)
	}
	if err := m.normalizeInto(out, set); err != nil {
		return nil, err
	}
	for k := range set {
		if f, _ := m.Field(k); f.Required && out[k] == nil {
			return nil, fmt.Errorf("%w: %s.%s is required", ErrInvalidValue, m.Name, k)
		}
	}
	return out, nil
}

func (m *Model) normalizeInto(out, in Record) error {
	for k, v := range in {
		f, ok := m.Field(k)
		if !ok {
			return fmt.Errorf("%w: %s.%s", ErrUnknownField, m.Name, k)
		}
		nv, err := f.normalize(v)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", m.Name, k, err)
		}
		out[k] = nv // a nil keeps the key: "unset this field" in updates
	}
	return nil
}

// Project returns a deep copy of the fields of rec that the model knows, dropping everything
// else. Adapters use it so that data of a switched-off plugin stays stored but is not
// returned. A value whose Go type does not fit the field's current type (stored before the
// field changed type) is dropped as well: callers only ever see canonical types.
func (m *Model) Project(rec Record) Record {
	out := make(Record, len(rec))
	for k, v := range rec {
		if v == nil {
			continue
		}
		if f, ok := m.Field(k); ok && f.Type.Holds(v) {
			out[k] = cloneValue(v)
		}
	}
	return out
}

// Holds reports whether v is of the canonical Go type of t (see the package doc).
func (t FieldType) Holds(v any) bool {
	switch v.(type) {
	case string:
		return t == TypeString
	case int64:
		return t == TypeNumber
	case bool:
		return t == TypeBoolean
	case time.Time:
		return t == TypeDate
	case json.RawMessage:
		return t == TypeJSON
	case []string:
		return t == TypeStringList
	}
	return false
}

// Normalize converts v to the field's canonical Go type. nil stays nil, and so do typed nils
// (a nil []string, json.RawMessage, []byte, []any or *time.Time): they mean "unset", as JSON
// null does, while an empty non-nil list is a set value.
func (f *Field) normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		if x == nil {
			return nil, nil
		}
	case json.RawMessage:
		if x == nil {
			return nil, nil
		}
	case []byte:
		if x == nil {
			return nil, nil
		}
	case []any:
		if x == nil {
			return nil, nil
		}
	case *time.Time:
		if x == nil {
			return nil, nil
		}
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("%w: %T for %s field %q", ErrInvalidValue, v, f.Type, f.Name)
	}
	switch f.Type {
	case TypeString:
		// Canonical values are returned as they are: re-boxing would allocate on every
		// lookup (the gateway's hot path compiles an eq on a token hash per request).
		if _, ok := v.(string); !ok {
			return bad()
		}
		return v, nil
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return bad()
		}
		return v, nil
	case TypeNumber:
		if _, ok := v.(int64); ok {
			return v, nil
		}
		n, ok := toInt64(v)
		if !ok {
			return bad()
		}
		return n, nil
	case TypeDate:
		t, ok := v.(time.Time)
		if !ok {
			if p, isPtr := v.(*time.Time); isPtr {
				t, ok = *p, true
			}
		}
		if !ok {
			return bad()
		}
		t = t.UTC().Truncate(DatePrecision)
		// Adapters store dates as int64 microseconds since the Unix epoch (PostgreSQL's
		// range is narrower still); refuse what would not round-trip.
		if !time.UnixMicro(t.UnixMicro()).Equal(t) {
			return nil, fmt.Errorf("%w: date %s out of range for field %q", ErrInvalidValue, t, f.Name)
		}
		return t, nil
	case TypeStringList:
		switch x := v.(type) {
		case []string:
			return slices.Clone(x), nil
		case []any:
			out := make([]string, len(x))
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return bad()
				}
				out[i] = s
			}
			return out, nil
		}
		return bad()
	case TypeJSON:
		var raw []byte
		switch x := v.(type) {
		case json.RawMessage:
			raw = x
		case []byte:
			raw = x
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%w: field %q: %v", ErrInvalidValue, f.Name, err)
			}
			return json.RawMessage(b), nil
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("%w: field %q: %v", ErrInvalidValue, f.Name, err)
		}
		return json.RawMessage(buf.Bytes()), nil
	}
	return bad()
}

func (f *Field) normalizeList(v any) ([]any, error) {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("%w: in/not_in needs a slice for field %q, got %T", ErrInvalidValue, f.Name, v)
	}
	out := make([]any, 0, rv.Len())
	for i := range rv.Len() {
		nv, err := f.normalize(rv.Index(i).Interface())
		if err != nil {
			return nil, err
		}
		out = append(out, nv)
	}
	return out, nil
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || x > math.MaxInt64 || x < math.MinInt64 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// Normalize is the one-call form used by callers outside adapters: it resolves the model
// and normalizes rec for create.
func (s *Schema) Normalize(model string, rec Record) (Record, error) {
	m, err := s.MustModel(model)
	if err != nil {
		return nil, err
	}
	return m.NormalizeCreate(rec)
}

// ValueString renders a normalized value as text, for error messages and logs.
func ValueString(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case json.RawMessage:
		return string(x)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}
