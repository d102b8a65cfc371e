package caddyopts

import (
	"slices"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// FuzzParse runs Parse over arbitrary Caddyfile text with one option of every kind (and a
// nested block). It never panics; and when it succeeds, every value it stored is one the
// option's kind allows.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"p {\n flag\n name x\n list a b\n list c\n n 3\n ttl 7d\n mode on\n sub {\n inner y\n }\n}",
		"p {\n flag name x n 2\n}", "p {\n name\n}", "p {\n n -1\n}", "p {\n mode maybe\n}", "p {\n name a\n name b\n}",
		"p {\n ttl 1y\n}", "p {\n list\n}", "p {\n sub {\n sub {\n }\n }\n}", "p {\n \"name\" `x y`\n}", "p {\n}\n}",
		"p {\n name {env.X}\n}", "p", "p {\n sub\n}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := caddyfile.Tokenize([]byte(s), "Caddyfile")
		if err != nil {
			return
		}
		d := caddyfile.NewDispenser(toks)
		var (
			flag              bool
			name, mode, inner string
			list              []string
			n                 = -7
			ttl               time.Duration
		)
		if !d.Next() {
			return
		}
		opts := map[string]Opt{
			"flag": Flag(&flag), "name": String(&name), "list": Strings(&list), "n": Int(&n),
			"ttl": Duration(&ttl), "mode": OneOf(&mode, "on", "off"),
		}
		opts["sub"] = Block(d, "sub", map[string]Opt{"inner": String(&inner)})
		if err := Parse(d, "p", opts); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if n != -7 && n < 0 {
			t.Fatalf("Int stored %d", n)
		}
		if mode != "" && mode != "on" && mode != "off" {
			t.Fatalf("OneOf stored %q", mode)
		}
		if slices.Contains(list, "") && !slices.ContainsFunc(toks, func(tk caddyfile.Token) bool { return tk.Text == "" }) {
			t.Fatalf("Strings stored an empty value from %q", s)
		}
	})
}
