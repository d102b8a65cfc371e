// Package caddyoptstest is the one table test every plugin's Caddyfile block goes through:
// each input unmarshals into a fresh config that must equal the wanted one, or fails with an
// error containing the wanted text; a config survives the JSON the adapter writes; and a
// whole Caddyfile adapts, through the real global gatehouse option, into the plugins' JSON.
package caddyoptstest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard" // the sites' own directives

	_ "github.com/gatehouse-auth/gatehouse/caddymodule" // the gatehouse global option
)

// Case is one Caddyfile input and what it must give: Want, or an error containing Err.
type Case[P any] struct {
	Name, Input string
	Want        P
	Err         string
}

// Unmarshal runs each case through (*P).UnmarshalCaddyfile as a subtest.
func Unmarshal[P any, PP interface {
	*P
	caddyfile.Unmarshaler
}](t *testing.T, cases []Case[P]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var p P
			err := PP(&p).UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.Input))
			if tc.Err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Err) {
					t.Fatalf("error %v, want one containing %q", err, tc.Err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, tc.Want) {
				t.Fatalf("got %+v, want %+v", p, tc.Want)
			}
		})
	}
}

// RoundTrip checks that in encodes to exactly wantJSON, decodes back to in, and that the zero
// config encodes to {} (every field omitted when unset).
func RoundTrip[P any](t *testing.T, in P, wantJSON string) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != wantJSON {
		t.Fatalf("JSON %s, want %s", b, wantJSON)
	}
	var out P
	if err := json.Unmarshal(b, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: %+v %v", out, err)
	}
	var zero P
	if b, _ := json.Marshal(zero); string(b) != `{}` {
		t.Fatalf("zero config JSON %s", b)
	}
}

// AdaptedPlugins adapts a whole Caddyfile and returns the JSON of each plugin enabled in its
// global gatehouse block, by plugin name.
func AdaptedPlugins(t *testing.T, src string) map[string]json.RawMessage {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			Gatehouse struct {
				Plugins map[string]json.RawMessage `json:"plugins"`
			} `json:"gatehouse"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Apps.Gatehouse.Plugins
}
