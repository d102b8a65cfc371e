package authcore_test

import (
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// Registrar.Requires, PluginAPI and the documented hook order between and within plugins
// (authcore/doc.go "Plugins").

func TestRequiresMissingPlugin(t *testing.T) {
	audit := &probePlugin{id: "audit-log", reg: func(r *authcore.Registrar) error { r.Requires("jwt"); return nil }}
	_, err := pluginEngine(t, audit)
	if err == nil || err.Error() != `authcore: plugin "audit-log" requires plugin "jwt", which is not enabled` {
		t.Fatalf("err = %v", err)
	}
	// Present (registering after the requirer, by ID: Requires does not order): starts.
	jwt := &probePlugin{id: "jwt"}
	early := &probePlugin{id: "a-requirer", reg: func(r *authcore.Registrar) error { r.Requires("jwt"); return nil }}
	if _, err := pluginEngine(t, early, jwt); err != nil {
		t.Fatal(err)
	}
	if got := mustEngine(t, early, jwt).Plugins(); !slices.Equal(got, []string{"a-requirer", "jwt"}) {
		t.Fatalf("Plugins() = %v", got)
	}
}

func mustEngine(t *testing.T, ps ...authcore.Plugin) *authcore.Engine {
	t.Helper()
	e, err := pluginEngine(t, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type greeter interface{ Greet() string }

type greeterAPI struct{}

func (greeterAPI) Greet() string { return "hello" }

func TestPluginAPIGeneric(t *testing.T) {
	provider := &probePlugin{id: "provider", reg: func(r *authcore.Registrar) error { r.Provide(greeterAPI{}); return nil }}
	other := &probePlugin{id: "other", reg: func(r *authcore.Registrar) error { r.Provide(42); return nil }}
	e := mustEngine(t, provider, other)
	g, ok := authcore.PluginAPI[greeter](e, "provider")
	if !ok || g.Greet() != "hello" {
		t.Fatalf("PluginAPI[greeter](provider) = %v %v", g, ok)
	}
	if g, ok := authcore.PluginAPI[greeter](e, "other"); ok || g != nil {
		t.Fatalf("an API of the wrong type converted: %v %v", g, ok)
	}
	if _, ok := authcore.PluginAPI[greeter](e, "absent"); ok {
		t.Fatal("an absent plugin has an API")
	}
	if n, ok := authcore.PluginAPI[int](e, "other"); !ok || n != 42 {
		t.Fatalf("PluginAPI[int](other) = %v %v", n, ok)
	}
	// The engine's own accessors go through it: absent plugins give nil.
	if e.Organizations() != nil || e.Admins() != nil {
		t.Fatal("Organizations/Admins without the plugins")
	}
}

// Two plugins hooking the same path, each with two before and two after hooks: plugin
// registration order (by ID here, no dependencies) first, then declaration order within a
// plugin; the same for after hooks. Passing the plugins in either order changes nothing.
func TestHookOrderSamePathTwoPlugins(t *testing.T) {
	mk := func(id string, log *probeEvents) *probePlugin {
		return &probePlugin{id: id, reg: func(r *authcore.Registrar) error {
			m := authcore.MatchPath(authcore.PathOK)
			r.Before(m, func(*authcore.Call) (any, error) { log.add("before:%s:1", id); return nil, nil })
			r.After(m, func(*authcore.Call) error { log.add("after:%s:1", id); return nil })
			r.Before(m, func(*authcore.Call) (any, error) { log.add("before:%s:2", id); return nil, nil })
			r.After(m, func(*authcore.Call) error { log.add("after:%s:2", id); return nil })
			return nil
		}}
	}
	want := []string{
		"before:first:1", "before:first:2", "before:second:1", "before:second:2",
		"after:first:1", "after:first:2", "after:second:1", "after:second:2",
	}
	for _, order := range [][]string{{"first", "second"}, {"second", "first"}} {
		log := &probeEvents{}
		var ps []authcore.Plugin
		for _, id := range order {
			ps = append(ps, mk(id, log))
		}
		h := authcoretest.New(t, authcoretest.WithPlugins(ps...))
		if r := h.Client().Get(authcore.PathOK); r.StatusCode != 200 {
			t.Fatalf("/ok: %d", r.StatusCode)
		}
		if got := log.take(); !slices.Equal(got, want) {
			t.Fatalf("passed %v: hooks ran\n %v\nwant %v", order, got, want)
		}
	}
}
