package caddyopts

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

type conf struct {
	on    bool
	name  string
	list  []string
	n     int
	ttl   time.Duration
	mode  string
	inner string
}

func parse(t *testing.T, input string) (conf, error) {
	t.Helper()
	var c conf
	d := caddyfile.NewTestDispenser(input)
	d.Next()
	err := Parse(d, "thing", map[string]Opt{
		"on": Flag(&c.on), "name": String(&c.name), "list": Strings(&c.list), "n": Int(&c.n),
		"ttl": Duration(&c.ttl), "mode": OneOf(&c.mode, "a", "b"),
		"sub": Block(d, "sub", map[string]Opt{"inner": String(&c.inner)}),
	})
	return c, err
}

func TestParse(t *testing.T) {
	c, err := parse(t, `thing {
		on  name x  n 3
		ttl 1d  mode b
		list a b
		list c
		sub {
			inner y
		}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	want := conf{on: true, name: "x", list: []string{"a", "b", "c"}, n: 3, ttl: 24 * time.Hour, mode: "b", inner: "y"}
	if c.on != want.on || c.name != want.name || strings.Join(c.list, ",") != "a,b,c" || c.n != 3 ||
		c.ttl != want.ttl || c.mode != "b" || c.inner != "y" {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestParseErrors(t *testing.T) {
	for input, wantErr := range map[string]string{
		"thing {\n bogus 1\n}":         `unknown option "bogus" (valid: list, mode, n, name, on, sub, ttl)`,
		"thing {\n name a\n name b\n}": "name given twice",
		"thing {\n name\n}":            "expected 1 argument(s)",
		"thing {\n list\n}":            "expected 1 argument(s)",
		"thing {\n n -1\n}":            "not a non-negative integer",
		"thing {\n ttl soon\n}":        "ttl",
		"thing {\n mode c\n}":          `"c" is not one of a, b`,
	} {
		_, err := parse(t, input)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: error %v, want it to contain %q", input, err, wantErr)
		}
	}
}
