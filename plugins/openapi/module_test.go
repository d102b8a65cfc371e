package openapi

import (
	"testing"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[Plugin]{
		{Name: "bare", Input: `open_api`, Want: Plugin{}},
		{Name: "empty block", Input: "open_api {\n}", Want: Plugin{}},
		{Name: "every option", Input: `open_api {
			path /docs
			reference_script_url https://cdn.jsdelivr.net/npm/@scalar/api-reference
			disable_default_reference
		}`, Want: Plugin{Path: "/docs", ReferenceScriptURL: "https://cdn.jsdelivr.net/npm/@scalar/api-reference", DisableDefaultReference: true}},
		{Name: "unknown option", Input: "open_api {\n theme dark\n}", Err: `unknown option "theme"`},
		{Name: "argument after the name", Input: `open_api /docs`, Err: "wrong argument count"},
		{Name: "missing value", Input: "open_api {\n path\n}", Err: "expected 1 argument"},
		{Name: "twice", Input: "open_api {\n path /a\n path /b\n}", Err: "given twice"},
	})
}

func TestJSONRoundTrip(t *testing.T) {
	caddyoptstest.RoundTrip(t, Plugin{Path: "/docs", ReferenceScriptURL: "https://cdn.example.com/x.js", DisableDefaultReference: true},
		`{"path":"/docs","reference_script_url":"https://cdn.example.com/x.js","disable_default_reference":true}`)
	caddyoptstest.RoundTrip(t, Plugin{}, `{}`)
}

func TestCaddyModule(t *testing.T) {
	info := Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.open_api" {
		t.Fatalf("module ID %s", info.ID)
	}
	if _, ok := info.New().(*Plugin); !ok {
		t.Fatal("New does not return a *Plugin")
	}
}

func TestCaddyfileAdapts(t *testing.T) {
	const src = `{
	gatehouse {
		base_url https://app.example.com
		open_api {
			path /docs  reference_script_url https://cdn.jsdelivr.net/npm/@scalar/api-reference
		}
	}
}

https://app.example.com {
	respond ok
}
`
	plugins := caddyoptstest.AdaptedPlugins(t, src)
	if got, want := string(plugins["open_api"]), `{"path":"/docs","reference_script_url":"https://cdn.jsdelivr.net/npm/@scalar/api-reference"}`; got != want {
		t.Fatalf("plugins.open_api = %s, want %s", got, want)
	}
}
