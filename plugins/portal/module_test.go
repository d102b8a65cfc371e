package portal_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/plugins/portal"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	every := portal.Plugin{AppName: "Acme Corp", LogoURL: "https://cdn.example.com/logo.svg", AccentColor: "#0a0", DefaultCallback: "/app"}
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[portal.Plugin]{
		{Name: "bare", Input: `portal`, Want: portal.Plugin{}},
		{Name: "empty block", Input: "portal {\n}", Want: portal.Plugin{}},
		{Name: "every option", Input: `portal {
			app_name "Acme Corp"
			logo_url https://cdn.example.com/logo.svg
			accent_color "#0a0"
			default_callback /app
		}`, Want: every},
		{Name: "unknown option", Input: "portal {\n theme dark\n}", Err: `unknown option "theme"`},
		{Name: "argument after the name", Input: `portal off`, Err: "wrong argument count"},
		{Name: "bare hex colour", Input: "portal {\n accent_color 0a0\n}", Want: portal.Plugin{AccentColor: "0a0"}},
		{Name: "missing value", Input: "portal {\n accent_color\n}", Err: "expected 1 argument"},
		{Name: "twice", Input: "portal {\n app_name A\n app_name B\n}", Err: "given twice"},
	})
}

func TestJSONRoundTrip(t *testing.T) {
	in := portal.Plugin{AppName: "Acme", LogoURL: "/logo.svg", AccentColor: "#123456", DefaultCallback: "/home"}
	caddyoptstest.RoundTrip(t, in, `{"app_name":"Acme","logo_url":"/logo.svg","accent_color":"#123456","default_callback":"/home"}`)
}

func TestCaddyModule(t *testing.T) {
	info := portal.Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.portal" {
		t.Fatalf("module ID %s", info.ID)
	}
	if _, ok := info.New().(*portal.Plugin); !ok {
		t.Fatalf("New() = %T", info.New())
	}
}

func TestGlobalBlockAdapt(t *testing.T) {
	const src = `{
	gatehouse {
		base_url https://app.example.com
		portal {
			app_name Acme
			accent_color "#ff6600"
		}
	}
}

https://app.example.com {
	respond ok
}
`
	plugins := caddyoptstest.AdaptedPlugins(t, src)
	if got, want := string(plugins["portal"]), `{"app_name":"Acme","accent_color":"#ff6600"}`; got != want {
		t.Fatalf("plugins.portal = %s, want %s", got, want)
	}
}
