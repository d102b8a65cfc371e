package multisession

import (
	"testing"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-auth/gatehouse/authcore"
	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[Plugin]{
		{Name: "bare", Input: `multi_session`, Want: Plugin{}},
		{Name: "empty block", Input: "multi_session {\n}", Want: Plugin{}},
		{Name: "every option", Input: "multi_session {\n maximum_sessions 3\n}", Want: Plugin{MaximumSessions: 3}},
		{Name: "upper bound", Input: "multi_session {\n maximum_sessions 100\n}", Want: Plugin{MaximumSessions: 100}},
		{Name: "zero", Input: "multi_session {\n maximum_sessions 0\n}", Err: "between 1 and 100"},
		{Name: "too many", Input: "multi_session {\n maximum_sessions 101\n}", Err: "between 1 and 100"},
		{Name: "negative", Input: "multi_session {\n maximum_sessions -1\n}", Err: "not a non-negative integer"},
		{Name: "not a number", Input: "multi_session {\n maximum_sessions five\n}", Err: "not a non-negative integer"},
		{Name: "missing value", Input: "multi_session {\n maximum_sessions\n}", Err: "expected 1 argument"},
		{Name: "twice", Input: "multi_session {\n maximum_sessions 2\n maximum_sessions 3\n}", Err: "given twice"},
		{Name: "unknown option", Input: "multi_session {\n max_sessions 3\n}", Err: `unknown option "max_sessions"`},
		{Name: "argument after the name", Input: `multi_session 3`, Err: "unexpected argument"},
	})
}

func TestJSONRoundTrip(t *testing.T) {
	caddyoptstest.RoundTrip(t, Plugin{MaximumSessions: 7}, `{"maximum_sessions":7}`)
}

func TestCaddyModule(t *testing.T) {
	info := Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.multi_session" {
		t.Fatalf("module ID %s", info.ID)
	}
	p, ok := info.New().(authcore.Plugin)
	if !ok || p.ID() != "multi-session" {
		t.Fatalf("New() = %T", p)
	}
	if _, err := caddy.GetModule("gatehouse.plugins.multi_session"); err != nil {
		t.Fatalf("not registered: %v", err)
	}
}

// Through the real global gatehouse block.
func TestGlobalBlockAdapt(t *testing.T) {
	const src = `{
	gatehouse {
		base_url https://app.example.com
		multi_session {
			maximum_sessions 2
		}
	}
}

https://app.example.com {
	respond ok
}
`
	plugins := caddyoptstest.AdaptedPlugins(t, src)
	if got, want := string(plugins["multi_session"]), `{"maximum_sessions":2}`; got != want {
		t.Fatalf("plugins.multi_session = %s, want %s (all: %s)", got, want, plugins)
	}
}
