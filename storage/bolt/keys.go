package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Keys in a model's bucket. The first byte says what a key is, so records and the entries of
// the model's unique indexes share the bucket — a lookup by a unique value seeks the entry
// and then the record with one cursor — and an id can be any string:
//
//	unique index entry:  indexTag ‖ num ‖ value(s)   → id
//	pad:                 padTag ‖ n (n = 1…pads)      → padding, see padModel
//	record:              recordTag ‖ id              → encoded record (codec.go)
//
// num (2 bytes, big endian) is the index's number in the catalog (indexDef.Num). A
// non-unique index has a bucket of its own (see indexDef), holding value(s) ‖ id → empty.
const (
	indexTag  = 'i'
	padTag    = 'p'
	recordTag = 'r'
	pads      = 5
)

// appendRecordKey appends the key of the record with the given id.
func appendRecordKey[S string | []byte](dst []byte, id S) []byte {
	return append(append(dst, recordTag), id...)
}

// Index keys. Every value encoding is order-preserving (bytes.Compare on encodings orders
// like storage.CompareValues on values) and self-delimiting, so the values of a composite
// key cannot run into each other and a non-unique entry "value(s) ‖ id" splits unambiguously:
//
//	string, json: the bytes with 0x00 escaped as 00 FF, then the terminator 00 01
//	number:       8 bytes big endian with the sign bit flipped
//	date:         the number encoding of its microseconds since the Unix epoch
//	boolean:      one byte, 00 or 01
//	string[]:     each element as a string, then 00 02 (equality only)
//
// A unique index maps key → id; a non-unique one holds key ‖ id → empty.

const (
	escByte  = 0xFF
	termByte = 0x01
	listEnd  = 0x02
)

// appendKeyValue appends the encoding of v as a value of type t. It reports false when v is
// unset or not of type t (a value stored under an older type is not indexed).
func appendKeyValue(dst []byte, t storage.FieldType, v any) ([]byte, bool) {
	switch t {
	case storage.TypeString:
		s, ok := v.(string)
		if !ok {
			return dst, false
		}
		return appendEscaped(dst, s), true
	case storage.TypeJSON:
		j, ok := v.(json.RawMessage)
		if !ok {
			return dst, false
		}
		return appendEscaped(dst, string(j)), true
	case storage.TypeNumber:
		n, ok := v.(int64)
		if !ok {
			return dst, false
		}
		return appendInt(dst, n), true
	case storage.TypeDate:
		d, ok := v.(time.Time)
		if !ok {
			return dst, false
		}
		return appendInt(dst, d.UnixMicro()), true
	case storage.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return dst, false
		}
		if b {
			return append(dst, 1), true
		}
		return append(dst, 0), true
	case storage.TypeStringList:
		l, ok := v.([]string)
		if !ok {
			return dst, false
		}
		for _, s := range l {
			dst = appendEscaped(dst, s)
		}
		return append(dst, 0, listEnd), true
	}
	return dst, false
}

func appendInt(dst []byte, n int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(n)^(1<<63))
}

// appendEscaped appends s with 0x00 escaped, then the terminator. Without the terminator
// (appendEscapedPrefix) it is a prefix of the encoding of every string starting with s.
func appendEscaped(dst []byte, s string) []byte {
	return append(appendEscapedPrefix(dst, s), 0, termByte)
}

func appendEscapedPrefix(dst []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, escByte)
		s = s[i+1:]
	}
}

// valueLen returns the length of the encoded value of type t at the start of key, or -1.
func valueLen(t storage.FieldType, key []byte) int {
	switch t {
	case storage.TypeNumber, storage.TypeDate:
		if len(key) < 8 {
			return -1
		}
		return 8
	case storage.TypeBoolean:
		if len(key) < 1 {
			return -1
		}
		return 1
	case storage.TypeString, storage.TypeJSON, storage.TypeStringList:
		end := byte(termByte)
		if t == storage.TypeStringList {
			end = listEnd
		}
		for i := 0; i+1 < len(key); {
			j := bytes.IndexByte(key[i:], 0)
			if j < 0 || i+j+1 >= len(key) {
				return -1
			}
			i += j + 1
			if key[i] == end {
				return i + 1
			}
			i++ // an escape, or an element terminator inside a list
		}
	}
	return -1
}
