package postgres

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// builder assembles one statement. Values only ever travel as parameters ($n, with an
// explicit cast to the column's type); identifiers are quoted by newBinding.
type builder struct {
	strings.Builder
	args []any
}

// arg adds a parameter and writes its placeholder, cast to typ.
func (b *builder) arg(v any, typ string) string {
	b.args = append(b.args, v)
	p := "$" + strconv.Itoa(len(b.args)) + "::" + typ
	b.WriteString(p)
	return p
}

// encode turns a normalized value into what pgx sends for the column type: strings travel
// as bytea (any byte, NUL included, and byte order), json as text, lists as bytea[].
func encode(v any) any {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case json.RawMessage:
		return string(x)
	case []string:
		out := make([][]byte, len(x))
		for i, s := range x {
			out[i] = []byte(s)
		}
		return out
	}
	return v // int64, bool, time.Time
}

// encodeList encodes the elements of an in / not_in as one array parameter of the
// column's type; nil elements match nothing and are left out.
func encodeList(t storage.FieldType, vs []any) (any, int) {
	n := 0
	switch t {
	case storage.TypeString:
		out := make([][]byte, 0, len(vs))
		for _, v := range vs {
			if s, ok := v.(string); ok {
				out = append(out, []byte(s))
			}
		}
		return out, len(out)
	case storage.TypeNumber:
		out := make([]int64, 0, len(vs))
		for _, v := range vs {
			if x, ok := v.(int64); ok {
				out = append(out, x)
			}
		}
		return out, len(out)
	case storage.TypeBoolean:
		out := make([]bool, 0, len(vs))
		for _, v := range vs {
			if x, ok := v.(bool); ok {
				out = append(out, x)
			}
		}
		return out, len(out)
	case storage.TypeDate:
		out := make([]time.Time, 0, len(vs))
		for _, v := range vs {
			if x, ok := v.(time.Time); ok {
				out = append(out, x)
			}
		}
		return out, len(out)
	case storage.TypeJSON:
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			if x, ok := v.(json.RawMessage); ok {
				out = append(out, string(x))
			}
		}
		return out, len(out)
	}
	return nil, n
}

// holder returns a scan destination for the column's type.
func (c *column) holder() any {
	switch c.field.Type {
	case storage.TypeString:
		return new([]byte)
	case storage.TypeNumber:
		return new(pgtype.Int8)
	case storage.TypeBoolean:
		return new(pgtype.Bool)
	case storage.TypeDate:
		return new(pgtype.Timestamptz)
	case storage.TypeJSON:
		return new(pgtype.Text)
	case storage.TypeStringList:
		return new([][]byte)
	}
	return nil
}

// value converts a scanned holder to the canonical Go value, nil for NULL.
func value(h any) any {
	switch x := h.(type) {
	case *[]byte:
		if *x == nil {
			return nil
		}
		return string(*x)
	case *pgtype.Int8:
		if !x.Valid {
			return nil
		}
		return x.Int64
	case *pgtype.Bool:
		if !x.Valid {
			return nil
		}
		return x.Bool
	case *pgtype.Timestamptz:
		if !x.Valid {
			return nil
		}
		return x.Time.UTC()
	case *pgtype.Text:
		if !x.Valid {
			return nil
		}
		return json.RawMessage(x.String)
	case *[][]byte:
		if *x == nil {
			return nil
		}
		out := make([]string, len(*x))
		for i, b := range *x {
			out[i] = string(b)
		}
		return out
	}
	return nil
}

// scanner scans rows of the table's select list into records.
type scanner struct {
	t    *table
	dest []any
}

func (t *table) scanner() *scanner {
	s := &scanner{t: t, dest: make([]any, len(t.cols))}
	for i := range t.cols {
		s.dest[i] = t.cols[i].holder()
	}
	return s
}

func (s *scanner) record() storage.Record {
	rec := make(storage.Record, len(s.dest))
	for i, h := range s.dest {
		if v := value(h); v != nil {
			rec[s.t.cols[i].field.Name] = v
		}
	}
	return rec
}

// where writes w as a boolean SQL expression. Every leaf is validated and normalized by the
// storage package (Model.Compile), so unknown fields and ill-typed values are refused
// before any SQL exists.
func (t *table) where(b *builder, w storage.Where) error {
	if w.Clauses != nil || w.Or {
		if len(w.Clauses) == 0 {
			if w.Or {
				b.WriteString("FALSE")
			} else {
				b.WriteString("TRUE")
			}
			return nil
		}
		join := " AND "
		if w.Or {
			join = " OR "
		}
		b.WriteByte('(')
		for i, c := range w.Clauses {
			if i > 0 {
				b.WriteString(join)
			}
			if err := t.where(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(')')
		return nil
	}
	mt, err := t.model.Compile(w)
	if err != nil {
		return err
	}
	var buf [1]storage.Term
	terms := mt.AppendTerms(buf[:0])
	if len(terms) == 0 {
		b.WriteString("TRUE") // the zero Where
		return nil
	}
	term := terms[0]
	c := t.byName[term.Field.Name]
	col, typ := c.ident, c.sqlType
	switch term.Op {
	case storage.OpEq:
		if term.Value == nil {
			b.WriteString(col + " IS NULL")
			return nil
		}
		b.WriteString(col + " = ")
		b.arg(encode(term.Value), typ)
	case storage.OpNe:
		if term.Value == nil {
			b.WriteString(col + " IS NOT NULL")
			return nil
		}
		b.WriteString(col + " IS DISTINCT FROM ")
		b.arg(encode(term.Value), typ)
	case storage.OpLt, storage.OpLte, storage.OpGt, storage.OpGte:
		op := map[storage.Op]string{storage.OpLt: " < ", storage.OpLte: " <= ", storage.OpGt: " > ", storage.OpGte: " >= "}[term.Op]
		b.WriteString(col + op)
		b.arg(encode(term.Value), typ)
	case storage.OpIn, storage.OpNotIn:
		in := term.Op == storage.OpIn
		if term.Field.Type == storage.TypeStringList {
			// Arrays of arrays are not a PostgreSQL type: one comparison per element.
			var parts []string
			for _, v := range term.Values {
				if v == nil {
					continue
				}
				if in {
					parts = append(parts, col+" = "+b.argString(encode(v), typ))
				} else {
					parts = append(parts, col+" <> "+b.argString(encode(v), typ))
				}
			}
			switch {
			case in && len(parts) == 0:
				b.WriteString("FALSE")
			case in:
				b.WriteString("(" + strings.Join(parts, " OR ") + ")")
			case len(parts) == 0:
				b.WriteString("TRUE")
			default:
				b.WriteString("(" + col + " IS NULL OR (" + strings.Join(parts, " AND ") + "))")
			}
			return nil
		}
		list, n := encodeList(term.Field.Type, term.Values)
		switch {
		case in && n == 0:
			b.WriteString("FALSE")
		case in:
			b.WriteString(col + " = ANY(")
			b.arg(list, typ+"[]")
			b.WriteByte(')')
		case n == 0:
			b.WriteString("TRUE")
		default:
			b.WriteString("(" + col + " IS NULL OR " + col + " <> ALL(")
			b.arg(list, typ+"[]")
			b.WriteString("))")
		}
	case storage.OpContains:
		s := []byte(term.Value.(string))
		if term.Field.Type == storage.TypeStringList {
			b.arg(s, "bytea")
			b.WriteString(" = ANY(" + col + ")")
			return nil
		}
		b.WriteString("position(")
		b.arg(s, "bytea")
		b.WriteString(" in " + col + ") > 0")
	case storage.OpStartsWith:
		p := b.argString([]byte(term.Value.(string)), "bytea")
		b.WriteString("substr(" + col + ", 1, length(" + p + ")) = " + p)
	case storage.OpEndsWith:
		p := b.argString([]byte(term.Value.(string)), "bytea")
		b.WriteString("(" + col + " IS NOT NULL AND substr(" + col + ", length(" + col + ") - length(" + p + ") + 1) = " + p + ")")
	default:
		return fmt.Errorf("%w: unknown operator %q", storage.ErrInvalidValue, term.Op)
	}
	return nil
}

// argString adds a parameter and returns its placeholder without writing it.
func (b *builder) argString(v any, typ string) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args)) + "::" + typ
}

// orderBy writes the ORDER BY of a query: unset values first ascending, last descending,
// ties by id. json and string[] values have no order in the contract (only set versus unset).
func (t *table) orderBy(b *builder, sort []storage.SortField) error {
	b.WriteString(" ORDER BY ")
	for _, s := range sort {
		c, ok := t.byName[s.Field]
		if !ok {
			return fmt.Errorf("%w: sort by %s.%s", storage.ErrUnknownField, t.model.Name, s.Field)
		}
		switch c.field.Type {
		case storage.TypeJSON, storage.TypeStringList:
			if s.Desc {
				b.WriteString("(" + c.ident + " IS NULL), ")
			} else {
				b.WriteString("(" + c.ident + " IS NULL) DESC, ")
			}
		default:
			if s.Desc {
				b.WriteString(c.ident + " DESC NULLS LAST, ")
			} else {
				b.WriteString(c.ident + " ASC NULLS FIRST, ")
			}
		}
	}
	b.WriteString("id")
	return nil
}
