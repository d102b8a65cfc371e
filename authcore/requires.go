package authcore

import "fmt"

// Requires declares plugins this plugin needs at request time (it calls their Go API with
// [PluginAPI], or relies on their routes or schema). Once every plugin has registered, a
// required plugin that is not enabled fails start-up:
//
//	plugin "audit-log" requires plugin "jwt", which is not enabled
//
// Requires does not change the registration order (it is declared during Register, after
// the order is fixed). A plugin that must register after another — because it extends the
// other's model, reads its Provide'd API during Register, or needs its hooks to run first —
// implements [Dependent] instead, which both checks and orders.
func (r *Registrar) Requires(ids ...string) {
	for _, id := range ids {
		r.reg.requires = append(r.reg.requires, requirement{owner: r.owner, id: id})
	}
}

type requirement struct{ owner, id string }

// checkRequires runs after every plugin registered.
func (reg *registry) checkRequires() error {
	enabled := make(map[string]bool, len(reg.plugins))
	for _, id := range reg.plugins {
		enabled[id] = true
	}
	for _, q := range reg.requires {
		if !enabled[q.id] {
			return fmt.Errorf("plugin %q requires plugin %q, which is not enabled", q.owner, q.id)
		}
	}
	return nil
}

// PluginAPI returns the Go API plugin id published with [Registrar.Provide], as T (usually
// an interface the providing plugin exports). ok is false when the plugin is not enabled,
// published nothing, or published something that is not a T.
//
//	tokens, ok := authcore.PluginAPI[jwt.API](e, "jwt")
func PluginAPI[T any](e *Engine, id string) (api T, ok bool) {
	v, found := e.Plugin(id)
	if !found {
		return api, false
	}
	api, ok = v.(T)
	return api, ok
}
