package authcore

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the JSON type of a declared body or query parameter.
type Kind string

// Parameter kinds.
const (
	KindString        Kind = "string"
	KindBoolean       Kind = "boolean"
	KindNumber        Kind = "number"
	KindObject        Kind = "object"
	KindArray         Kind = "array"
	KindStringOrArray Kind = "string|array" // a string or an array of strings (roles, ids)
	KindAny           Kind = "any"
)

// defaultMaxLen bounds string parameters that declare no bound of their own, so a 100 kB
// string is refused at validation instead of reaching storage or a hash function.
const defaultMaxLen = 8192

// Param declares one body or query parameter. Build it with [String], [Bool], [Number],
// [Object], [Array], [Any] and refine it with the chainable methods.
type Param struct {
	Name        string
	Kind        Kind
	Required    bool
	Nullable    bool
	Email       bool
	MinLen      int
	MaxLen      int // 0: defaultMaxLen for strings
	Description string
}

// String declares a string parameter.
func String(name string) Param { return Param{Name: name, Kind: KindString} }

// Bool declares a boolean parameter (query values "true"/"false" are coerced).
func Bool(name string) Param { return Param{Name: name, Kind: KindBoolean} }

// Number declares a numeric parameter (query values are parsed).
func Number(name string) Param { return Param{Name: name, Kind: KindNumber} }

// Object declares a JSON object parameter.
func Object(name string) Param { return Param{Name: name, Kind: KindObject} }

// Array declares a JSON array parameter.
func Array(name string) Param { return Param{Name: name, Kind: KindArray} }

// StringOrArray declares a parameter that is a string or an array of strings.
func StringOrArray(name string) Param { return Param{Name: name, Kind: KindStringOrArray} }

// Any declares a parameter of any JSON type.
func Any(name string) Param { return Param{Name: name, Kind: KindAny} }

// Req marks the parameter required.
func (p Param) Req() Param { p.Required = true; return p }

// Null allows an explicit null.
func (p Param) Null() Param { p.Nullable = true; return p }

// IsEmail requires a syntactically valid email address.
func (p Param) IsEmail() Param { p.Email = true; return p }

// Len bounds a string's length in characters (0 leaves a side unbounded).
func (p Param) Len(min, max int) Param { p.MinLen, p.MaxLen = min, max; return p }

// Doc sets the OpenAPI description.
func (p Param) Doc(d string) Param { p.Description = d; return p }

// emailPattern is zod's email check, which Better Auth uses.
var emailPattern = regexp.MustCompile(`^[A-Za-z0-9_'+\-\.]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

// ValidEmail reports whether s is an email address Gatehouse accepts (zod's rule, at most 254
// characters, no leading dot, no ".." in the local part).
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.HasPrefix(s, ".") {
		return false
	}
	local, _, _ := strings.Cut(s, "@")
	return !strings.Contains(local, "..") && emailPattern.MatchString(s)
}

// Values holds a decoded body or query: JSON types as encoding/json produces them, except
// numbers, which are json.Number.
type Values map[string]any

// String returns a string value ("" when absent or not a string).
func (v Values) String(name string) string { s, _ := v[name].(string); return s }

// Bool returns a boolean value.
func (v Values) Bool(name string) bool { b, _ := v[name].(bool); return b }

// BoolOr returns a boolean value or def when absent.
func (v Values) BoolOr(name string, def bool) bool {
	if b, ok := v[name].(bool); ok {
		return b
	}
	return def
}

// Int returns an integral number value.
func (v Values) Int(name string) (int64, bool) {
	n, ok := v[name].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int64(f), true
	}
	return i, true
}

// Has reports whether the key is present (even with a null value).
func (v Values) Has(name string) bool { _, ok := v[name]; return ok }

// Object returns a nested object.
func (v Values) Object(name string) Values { m, _ := v[name].(map[string]any); return m }

// Strings returns a string or string-array value as a slice.
func (v Values) Strings(name string) []string {
	switch x := v[name].(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// validateParams checks values against the declared parameters and returns the problems in
// Better Auth's "[body.email] Invalid input: ..." form. where is "body" or "query".
func validateParams(where string, params []Param, v Values) []string {
	var problems []string
	for _, p := range params {
		x, present := v[p.Name]
		if !present || (x == nil && !p.Nullable) {
			if p.Required {
				problems = append(problems, fmt.Sprintf("[%s.%s] Invalid input: expected %s, received %s", where, p.Name, p.Kind, describe(x, present)))
			} else if present {
				delete(v, p.Name) // an explicit null on a non-nullable optional field is "absent"
			}
			continue
		}
		if x == nil {
			continue
		}
		if msg := checkKind(p, x); msg != "" {
			problems = append(problems, fmt.Sprintf("[%s.%s] %s", where, p.Name, msg))
		}
	}
	return problems
}

func checkKind(p Param, x any) string {
	switch p.Kind {
	case KindString:
		s, ok := x.(string)
		if !ok {
			return fmt.Sprintf("Invalid input: expected string, received %s", describe(x, true))
		}
		return checkString(p, s)
	case KindBoolean:
		if _, ok := x.(bool); !ok {
			return fmt.Sprintf("Invalid input: expected boolean, received %s", describe(x, true))
		}
	case KindNumber:
		n, ok := x.(json.Number)
		if !ok {
			return fmt.Sprintf("Invalid input: expected number, received %s", describe(x, true))
		}
		if f, err := n.Float64(); err != nil || math.IsInf(f, 0) {
			return "Invalid input: number out of range"
		}
	case KindObject:
		if _, ok := x.(map[string]any); !ok {
			return fmt.Sprintf("Invalid input: expected object, received %s", describe(x, true))
		}
	case KindArray:
		if _, ok := x.([]any); !ok {
			return fmt.Sprintf("Invalid input: expected array, received %s", describe(x, true))
		}
	case KindStringOrArray:
		switch t := x.(type) {
		case string:
			return checkString(p, t)
		case []any:
			for _, e := range t {
				s, ok := e.(string)
				if !ok {
					return "Invalid input: expected an array of strings"
				}
				if msg := checkString(p, s); msg != "" {
					return msg
				}
			}
		default:
			return fmt.Sprintf("Invalid input: expected string or array, received %s", describe(x, true))
		}
	}
	return ""
}

func checkString(p Param, s string) string {
	max := p.MaxLen
	if max == 0 {
		max = defaultMaxLen
	}
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return "Invalid input: not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "Invalid input: contains a NUL character"
	case n > max:
		return fmt.Sprintf("Too big: expected string to have <=%d characters", max)
	case n < p.MinLen:
		return fmt.Sprintf("Too small: expected string to have >=%d characters", p.MinLen)
	case p.Email && !ValidEmail(s):
		return "Invalid email address"
	}
	return ""
}

func describe(x any, present bool) string {
	if !present {
		return "undefined"
	}
	switch x.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// queryValues converts a URL query into Values, coercing declared booleans and numbers;
// repeated keys become arrays (spec §1.1).
func queryValues(q url.Values, params []Param) Values {
	v := make(Values, len(q))
	for k, vs := range q {
		if len(vs) == 1 {
			v[k] = vs[0]
		} else {
			arr := make([]any, len(vs))
			for i, s := range vs {
				arr[i] = s
			}
			v[k] = arr
		}
	}
	for _, p := range params {
		s, ok := v[p.Name].(string)
		if !ok {
			continue
		}
		switch p.Kind {
		case KindBoolean:
			switch s {
			case "true":
				v[p.Name] = true
			case "false":
				v[p.Name] = false
			}
		case KindNumber:
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				v[p.Name] = json.Number(s)
			}
		}
	}
	return v
}

// formValues converts an application/x-www-form-urlencoded body into Values the same way,
// with "true"/"false" coerced for declared booleans.
func formValues(data []byte, params []Param) (Values, error) {
	q, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, err
	}
	return queryValues(q, params), nil
}
