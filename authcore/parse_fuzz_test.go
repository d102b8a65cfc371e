package authcore

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodeJSON checks the strict body decoder (D10): it never panics; everything it
// accepts is valid JSON that re-encodes to an equal value (so nothing is invented or lost);
// valid JSON it refuses is refused only for a repeated key or for depth; and keys that differ
// only in case are distinct, never duplicates.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"email":"a@b.test","password":"x"}`, `{"a":1,"a":2}`, `{"a":1,"A":2}`,
		`{"a":{"b":[1,2,{"c":null}]}}`, `{"n":1e400}`, `{"s":"\ud800"}`, `"\u0000"`, `{} {}`, `{"a":1}x`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, `{"a":1,}`, `{"\u0061":1,"a":2}`,
		"{\"a\xff\":1}", ` 1.5e-3 `, `-0`, `{"a":true,"b":false}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeJSON(data)
		if err != nil {
			if json.Valid(data) && !errors.Is(err, errDuplicateKey) && !strings.Contains(err.Error(), "nesting deeper") {
				t.Fatalf("valid JSON %q refused: %v", data, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("invalid JSON %q accepted as %#v", data, v)
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot re-encode %#v: %v", data, v, err)
		}
		again, err := decodeJSON(enc)
		if err != nil {
			t.Fatalf("re-encoding %s of %q refused: %v", enc, data, err)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("round trip changed %q: %#v -> %s -> %#v", data, v, enc, again)
		}
		// Without duplicates, encoding/json decoding into a map must agree.
		var std any
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		if err := dec.Decode(&std); err != nil || !reflect.DeepEqual(std, v) {
			t.Fatalf("decodeJSON(%q) = %#v, encoding/json = %#v, %v", data, v, std, err)
		}
	})
}

// cookieParts is the test's own naive splitting of Cookie headers: every "name=value"
// pair, trimmed, with one pair of surrounding quotes removed from the value.
func cookieParts(lines []string, name string) []string {
	var out []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			i := strings.Index(part, "=")
			if i < 0 || part[:i] != name {
				continue
			}
			v := part[i+1:]
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			out = append(out, v)
		}
	}
	return out
}

// FuzzReadCookie checks the Cookie header reader against a naive oracle: the count is the
// number of pairs with exactly that name; one value, or several equal values, come back as
// is; differing values (cookie tossing, SES-04) come back empty; and the decoded value is
// the percent-decoding of the raw one.
func FuzzReadCookie(f *testing.F) {
	const name = "better-auth.session_token"
	for _, s := range [][2]string{
		{"better-auth.session_token=abc.def", ""},
		{"better-auth.session_token=a; better-auth.session_token=b", ""},
		{"better-auth.session_token=a", "better-auth.session_token=a"},
		{`better-auth.session_token="q%2Fv"`, "x=1"},
		{"better-auth.session_token=%zz", ""},
		{"Better-Auth.session_token=a;better-auth.session_token", " ; ;=;"},
		{"__Secure-better-auth.session_token=a", "better-auth.session_token==="},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		h := http.Header{"Cookie": {a, b}}
		raw, n := readCookieRaw(h, name)
		want := cookieParts(h["Cookie"], name)
		if n != len(want) {
			t.Fatalf("count %d, oracle %d for %q", n, len(want), h["Cookie"])
		}
		same := len(want) > 0
		for _, w := range want {
			same = same && w == want[0]
		}
		switch {
		case len(want) == 0 && raw != "":
			t.Fatalf("no cookie but value %q", raw)
		case same && raw != want[0]:
			t.Fatalf("value %q, oracle %q", raw, want[0])
		case len(want) > 0 && !same && raw != "":
			t.Fatalf("differing duplicates %q gave %q", want, raw)
		}
		if dv, dn := readCookie(h, name); dn != n || dv != decodeCookieValue(raw) {
			t.Fatalf("readCookie = %q,%d; raw %q,%d", dv, dn, raw, n)
		}
	})
}

// FuzzCookieValueEncoding checks that what serialize writes reads back unchanged: the
// encoding uses only cookie-safe characters, and decoding undoes it for any bytes.
func FuzzCookieValueEncoding(f *testing.F) {
	for _, s := range []string{"", "abc.def", "a/b+c=", "; \"\\\x00\xff", "%41", "é"} {
		f.Add(s)
	}
	j := cookieJar{prefix: "better-auth", domain: "app.test"}
	f.Fuzz(func(t *testing.T, s string) {
		enc := encodeURIComponent(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; !uriUnreserved(c) && c != '%' {
				t.Fatalf("encodeURIComponent(%q) = %q has %q", s, enc, c)
			}
		}
		if got := decodeCookieValue(enc); got != s {
			t.Fatalf("decode(encode(%q)) = %q", s, got)
		}
		sc := j.serialize(j.Name(CookieSessionToken), s, 0)
		hdr := http.Header{"Cookie": {strings.SplitN(sc, ";", 2)[0]}}
		if v, n := readCookie(hdr, j.Name(CookieSessionToken)); n != 1 || v != s {
			t.Fatalf("Set-Cookie %q reads back as %q, %d", sc, v, n)
		}
	})
}
