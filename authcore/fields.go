package authcore

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// systemFields are set by the engine only; a client value is silently ignored (D10).
var systemFields = map[string]bool{"id": true, "createdAt": true, "updatedAt": true}

// inputFields picks the fields of model that a client may set from body keys not already
// declared by the endpoint. Server-only fields with a truthy value are refused with
// FIELD_NOT_ALLOWED (Better Auth's input:false; D10), falsy ones dropped; values are checked
// against the field type; keys that are not fields are dropped.
func (e *Engine) inputFields(model string, body Values, declared map[string]bool) (storage.Record, error) {
	m, ok := e.reg.schema.Model(model)
	if !ok {
		return nil, nil
	}
	out := storage.Record{}
	for k, v := range body {
		if declared[k] || systemFields[k] {
			continue
		}
		f, ok := m.Field(k)
		if !ok {
			continue
		}
		if f.ServerOnly {
			if truthy(v) {
				return nil, &Error{Status: http.StatusBadRequest, Code: CodeFieldNotAllowed.Code, Message: k + " is not allowed to be set"}
			}
			continue
		}
		cv, problem := FieldValue(f, v)
		if problem != "" {
			return nil, &Error{Status: http.StatusBadRequest, Code: CodeValidationError.Code, Message: fmt.Sprintf("[body.%s] %s", k, problem)}
		}
		out[k] = cv
	}
	return out, nil
}

// FieldValue converts a decoded JSON value into the field's storage type, or says what is
// wrong with it (the message goes to the client inside VALIDATION_ERROR). Plugins that take
// user fields in their own shape (the admin plugin's data object) use it too.
func FieldValue(f *storage.Field, v any) (any, string) {
	if v == nil {
		if f.Required {
			return nil, fmt.Sprintf("Invalid input: expected %s, received null", f.Type)
		}
		return nil, ""
	}
	bad := fmt.Sprintf("Invalid input: expected %s, received %s", f.Type, describe(v, true))
	switch f.Type {
	case storage.TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		if msg := checkString(Param{Kind: KindString}, s); msg != "" {
			return nil, msg
		}
		return s, ""
	case storage.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad
		}
		return b, ""
	case storage.TypeNumber:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad
		}
		i, err := n.Int64()
		if err != nil {
			return nil, bad
		}
		return i, ""
	case storage.TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, bad
		}
		return t, ""
	case storage.TypeStringList:
		arr, ok := v.([]any)
		if !ok {
			return nil, bad
		}
		out := make([]string, 0, len(arr))
		for _, x := range arr {
			s, ok := x.(string)
			if !ok {
				return nil, bad
			}
			// Each element gets the same checks as a string field (NUL, UTF-8, length).
			if msg := checkString(Param{Kind: KindString}, s); msg != "" {
				return nil, msg
			}
			out = append(out, s)
		}
		return out, ""
	case storage.TypeJSON:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, bad
		}
		if len(b) > defaultMaxLen {
			return nil, fmt.Sprintf("Too big: at most %d bytes of JSON", defaultMaxLen)
		}
		return json.RawMessage(b), ""
	}
	return nil, bad
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		return x != "0" && x != "0.0"
	}
	return true
}

// jsTime renders dates as JavaScript's Date.toJSON does: millisecond precision, UTC, "Z".
type jsTime time.Time

func (t jsTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// Public renders a record for the API: hidden fields dropped, dates as JavaScript dates,
// JSON fields embedded as JSON.
func (e *Engine) Public(model string, rec storage.Record) map[string]any {
	if rec == nil {
		return nil
	}
	m, _ := e.reg.schema.Model(model)
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		if m != nil {
			if f, ok := m.Field(k); !ok || f.Hidden {
				continue
			}
		}
		switch x := v.(type) {
		case time.Time:
			out[k] = jsTime(x)
		default:
			out[k] = x
		}
	}
	return out
}
