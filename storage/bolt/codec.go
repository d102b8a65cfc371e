package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Record encoding: a compact, self-describing binary format, so a record can be decoded
// without the schema that wrote it (fields of a switched-off plugin survive rewrites) and
// without encoding/json's cost on the hot path.
//
//	record  = version nfields nstrings ndates nnumbers field*      (counts as uvarints)
//	field   = uvarint(len(name)) name tag value
//	value   = string: uvarint(len) bytes | number: varint | date: varint(µs since epoch)
//	        | false / true: nothing     | json: uvarint(len) bytes
//	        | string[]: uvarint(count) (uvarint(len) bytes)*
//
// The counts in the header let the decoder allocate one backing array per value kind
// instead of one heap box per value.
const (
	codecVersion byte = 1

	tagString byte = 1
	tagNumber byte = 2
	tagFalse  byte = 3
	tagTrue   byte = 4
	tagDate   byte = 5
	tagJSON   byte = 6
	tagList   byte = 7
)

var errCorrupt = errors.New("corrupt record")

// encodeRecord encodes the full record r: the id, then m's fields in schema order, then
// any other fields (unknown to m) sorted by name, so the bytes are deterministic.
func encodeRecord(m *storage.Model, r storage.Record) ([]byte, error) {
	var nstr, ndate, nnum int
	size := 8
	for k, v := range r {
		size += len(k) + 2
		switch x := v.(type) {
		case string:
			nstr++
			size += len(x) + 2
		case int64:
			nnum++
			size += 10
		case time.Time:
			ndate++
			size += 10
		case json.RawMessage:
			size += len(x) + 2
		case []string:
			for _, s := range x {
				size += len(s) + 2
			}
		}
	}
	buf := make([]byte, 0, size)
	buf = append(buf, codecVersion)
	buf = binary.AppendUvarint(buf, uint64(len(r)))
	buf = binary.AppendUvarint(buf, uint64(nstr))
	buf = binary.AppendUvarint(buf, uint64(ndate))
	buf = binary.AppendUvarint(buf, uint64(nnum))
	var err error
	n := 0
	add := func(name string, v any) {
		if err != nil || v == nil {
			return
		}
		n++
		buf, err = appendField(buf, name, v)
	}
	add("id", r["id"])
	for i := range m.Fields {
		add(m.Fields[i].Name, r[m.Fields[i].Name])
	}
	var other []string
	for k := range r {
		if _, known := m.Field(k); !known {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		add(k, r[k])
	}
	if err != nil {
		return nil, err
	}
	if n != len(r) {
		return nil, fmt.Errorf("%w: record %q holds nil values", storage.ErrInvalidValue, r.ID())
	}
	return buf, nil
}

func appendField(buf []byte, name string, v any) ([]byte, error) {
	buf = binary.AppendUvarint(buf, uint64(len(name)))
	buf = append(buf, name...)
	switch x := v.(type) {
	case string:
		buf = append(buf, tagString)
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		buf = append(buf, x...)
	case int64:
		buf = append(buf, tagNumber)
		buf = binary.AppendVarint(buf, x)
	case bool:
		if x {
			buf = append(buf, tagTrue)
		} else {
			buf = append(buf, tagFalse)
		}
	case time.Time:
		buf = append(buf, tagDate)
		buf = binary.AppendVarint(buf, x.UnixMicro())
	case json.RawMessage:
		buf = append(buf, tagJSON)
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		buf = append(buf, x...)
	case []string:
		buf = append(buf, tagList)
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		for _, s := range x {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
	default:
		return nil, fmt.Errorf("%w: field %q holds a %T", storage.ErrInvalidValue, name, v)
	}
	return buf, nil
}

// tagFits reports whether a stored value's tag is of the field type t.
func tagFits(tag byte, t storage.FieldType) bool {
	switch tag {
	case tagString:
		return t == storage.TypeString
	case tagNumber:
		return t == storage.TypeNumber
	case tagFalse, tagTrue:
		return t == storage.TypeBoolean
	case tagDate:
		return t == storage.TypeDate
	case tagJSON:
		return t == storage.TypeJSON
	case tagList:
		return t == storage.TypeStringList
	}
	return false
}

// slab holds, in one allocation, a private copy of an encoded record (buf) and the backing
// arrays that a typical decoded record's boxed strings, dates and numbers live in (see
// boxFrom). The strings are views of buf, so everything a decoded record points to is in its
// slab (JSON values and lists aside). B is an array type: newSlab picks the smallest slab the
// record fits in, each sized to fill a malloc size class; a bigger record gets its copy and
// bigger arrays separately.
type slab[B any] struct {
	strs  [8]string
	dates [4]time.Time
	nums  [2]int64
	buf   B
}

func slabOf[B any]() (strs []string, dates []time.Time, nums []int64, buf []byte) {
	sl := new(slab[B])
	return sl.strs[:], sl.dates[:], sl.nums[:], unsafe.Slice((*byte)(unsafe.Pointer(&sl.buf)), unsafe.Sizeof(sl.buf))
}

// newSlab returns the arrays of a slab whose buf holds n bytes.
func newSlab(n int) (strs []string, dates []time.Time, nums []int64, buf []byte) {
	// With the 240 bytes of arrays (and, above 512 bytes, the 8-byte malloc header of an
	// object holding pointers) each fills a size class: 512, 640, 768, 1024, 1536 bytes.
	switch {
	case n <= 272:
		return slabOf[[272]byte]()
	case n <= 392:
		return slabOf[[392]byte]()
	case n <= 520:
		return slabOf[[520]byte]()
	case n <= 776:
		return slabOf[[776]byte]()
	case n <= 1288:
		return slabOf[[1288]byte]()
	}
	strs, dates, nums, _ = slabOf[[0]byte]()
	return strs, dates, nums, make([]byte, n)
}

// decodeRecord decodes raw, which may point into bbolt's memory map, into a fresh record.
// Without full it keeps only the fields m knows with values of their declared type (what
// the adapter returns); with full it keeps everything (what a rewrite must preserve).
//
// raw is copied once, into the record's slab; strings (values, list elements, unknown field
// names) are views of that private, never-modified copy, and string, date and number values
// are boxed into the record's interfaces from the slab's arrays rather than one heap object
// each. JSON values get their own copy, as callers may modify a json.RawMessage. A typical
// record costs three allocations: the slab and the map's two.
func decodeRecord(m *storage.Model, raw []byte, full bool) (storage.Record, error) {
	if len(raw) == 0 || raw[0] != codecVersion {
		return nil, errCorrupt
	}
	strs, dates, nums, buf := newSlab(len(raw))
	d := decoder{buf: buf[:copy(buf, raw):len(raw)], p: 1}
	nfields, nstr, ndate, nnum := d.count(), d.count(), d.count(), d.count()
	if d.err != nil || nfields == 0 {
		return nil, errCorrupt
	}
	if nstr > len(strs) {
		strs = make([]string, nstr)
	}
	if ndate > len(dates) {
		dates = make([]time.Time, ndate)
	}
	if nnum > len(nums) {
		nums = make([]int64, nnum)
	}
	rec := make(storage.Record, nfields)
	var si, di, ni int
	next := -1 // encodeRecord writes the id, then m's fields in order: expect that order
	for range nfields {
		name := d.bytes()
		tag := d.byte()
		if d.err != nil {
			return nil, d.err
		}
		key := unsafeString(name)
		keep := full
		var f *storage.Field
		ok := false
		for next < len(m.Fields) && !ok {
			if next < 0 {
				f, ok = &storage.IDField, key == "id"
			} else {
				f, ok = &m.Fields[next], m.Fields[next].Name == key
			}
			next++
		}
		if !ok { // written under another schema: look the name up
			f, ok = m.Field(key)
		}
		if ok {
			key = f.Name // the schema's string: no view of the copy is kept for the name
			keep = keep || tagFits(tag, f.Type)
			if key == "id" && tag != tagString {
				return nil, errCorrupt
			}
		}
		var v any
		switch tag {
		case tagString:
			s := unsafeString(d.bytes())
			if !keep {
				break
			}
			if si < len(strs) {
				strs[si] = s
				v = boxFrom(typeWord(""), unsafe.Pointer(&strs[si]))
				si++
			} else {
				v = s
			}
		case tagNumber:
			n := d.varint()
			if !keep {
				break
			}
			if ni < len(nums) {
				nums[ni] = n
				v = boxFrom(typeWord(int64(0)), unsafe.Pointer(&nums[ni]))
				ni++
			} else {
				v = n
			}
		case tagFalse:
			v = false
		case tagTrue:
			v = true
		case tagDate:
			t := time.UnixMicro(d.varint()).UTC()
			if !keep {
				break
			}
			if di < len(dates) {
				dates[di] = t
				v = boxFrom(typeWord(time.Time{}), unsafe.Pointer(&dates[di]))
				di++
			} else {
				v = t
			}
		case tagJSON:
			b := d.bytes()
			if keep {
				v = json.RawMessage(slices.Clone(b))
			}
		case tagList:
			n := d.count()
			if d.err == nil && n > len(d.buf)-d.p {
				d.err = errCorrupt // each element takes at least a byte
			}
			if d.err != nil {
				return nil, d.err
			}
			if !keep {
				for range n {
					d.bytes()
				}
				break
			}
			l := make([]string, n)
			for i := range l {
				l[i] = unsafeString(d.bytes())
			}
			v = l
		default:
			return nil, errCorrupt
		}
		if d.err != nil {
			return nil, d.err
		}
		if keep && v != nil {
			rec[key] = v
		}
	}
	if d.p != len(d.buf) || rec["id"] == nil {
		return nil, errCorrupt
	}
	return rec, nil
}

type decoder struct {
	buf []byte
	p   int
	err error
}

func (d *decoder) count() int {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.buf[d.p:])
	if k <= 0 || n > uint64(len(d.buf)) {
		d.err = errCorrupt
		return 0
	}
	d.p += k
	return int(n)
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Varint(d.buf[d.p:])
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.p += k
	return n
}

func (d *decoder) byte() byte {
	if d.err != nil || d.p >= len(d.buf) {
		d.err = errCorrupt
		return 0
	}
	d.p++
	return d.buf[d.p-1]
}

func (d *decoder) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	if n > len(d.buf)-d.p {
		d.err = errCorrupt
		return nil
	}
	d.p += n
	return d.buf[d.p-n : d.p : d.p]
}

// unsafeString views b as a string without copying. b must never be modified afterwards;
// decodeRecord only calls it on its private copy.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// eface is the runtime layout of an empty interface: a type word and a pointer to the value.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// typeWord returns the type word of v's dynamic type.
func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// boxFrom returns an interface of the type typ whose value is the one at data, without
// copying it to a new heap object: what `any(x)` does, but pointing into a backing array that
// holds many values, which saves one allocation per field. data must point to a value of
// that type that nothing modifies afterwards (interface values are immutable).
func boxFrom(typ, data unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, data
	return v
}
