package caddymodule

import (
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

// FuzzParseGlobal runs the gatehouse global-option parser over arbitrary Caddyfile text
// (tokenized as Caddy does; text Caddy cannot tokenize never reaches the parser). It never
// panics, and whatever it accepts is the gatehouse app as JSON that decodes into App and
// re-encodes to JSON that decodes to the same App.
func FuzzParseGlobal(f *testing.F) {
	for _, s := range []string{
		"gatehouse {\n secret abc\n base_url https://app.test\n}",
		"gatehouse {\n session {\n expires_in 7d\n update_age 1d\n cookie_cache 5m\n }\n}",
		"gatehouse {\n trusted_origins https://a.test https://*.b.test\n}",
		"gatehouse {\n storage bolt /tmp/x.db\n}", "gatehouse {\n rate_limit {\n window 10s\n max 3\n }\n}",
		"gatehouse {\n unknown x\n}", "gatehouse", "gatehouse {\n}", "gatehouse {\n secret\n}",
		"gatehouse {\n plugins {\n bearer\n jwt {\n issuer x\n }\n }\n}",
		"gatehouse {\n social google {\n client_id a\n client_secret b\n }\n}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := caddyfile.Tokenize([]byte(s), "Caddyfile")
		if err != nil {
			return
		}
		v, err := parseGlobal(caddyfile.NewDispenser(toks), nil)
		if err != nil {
			return
		}
		ha, ok := v.(httpcaddyfile.App)
		if !ok || ha.Name != "gatehouse" {
			t.Fatalf("%q: parseGlobal returned %#v", s, v)
		}
		var app App
		if err := json.Unmarshal(ha.Value, &app); err != nil {
			t.Fatalf("%q: app JSON %s does not decode: %v", s, ha.Value, err)
		}
		again, err := json.Marshal(&app)
		if err != nil {
			t.Fatalf("%q: re-encoding: %v", s, err)
		}
		var app2 App
		if err := json.Unmarshal(again, &app2); err != nil {
			t.Fatalf("%q: re-encoded %s does not decode: %v", s, again, err)
		}
		a1, _ := json.Marshal(&app2)
		if string(a1) != string(again) {
			t.Fatalf("%q: JSON not stable: %s vs %s", s, again, a1)
		}
	})
}
