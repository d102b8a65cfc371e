package twofactor

import (
	"net/http"
	"net/url"
)

// PendingMethods returns the second factors the pending sign-in carried by r can use (its
// signed two_factor cookie naming a live challenge): the same list as twoFactorMethods. ok is
// false when r carries no live challenge. For the hosted portal's challenge page, which is
// not an API call and so has no authcore.Call; it reads and changes nothing else.
func (p *Plugin) PendingMethods(r *http.Request) (methods []string, ok bool, err error) {
	name := p.engine.CookieName(CookieTwoFactor)
	raw := ""
	for _, c := range r.Cookies() {
		if c.Name != name {
			continue
		}
		if raw != "" && raw != c.Value { // duplicates with different values count as absent
			return nil, false, nil
		}
		raw = c.Value
	}
	if raw == "" {
		return nil, false, nil
	}
	v, err := url.PathUnescape(raw)
	if err != nil {
		return nil, false, nil
	}
	id, valid := p.engine.Keys().Verify(v)
	if !valid || !wellFormed(id, challengePrefix, challengeIDLen) {
		return nil, false, nil
	}
	rec, err := p.engine.FindVerification(r.Context(), id)
	if err != nil || rec == nil {
		return nil, false, err
	}
	user, err := p.engine.UserByID(r.Context(), rec.String("value"))
	if err != nil || user == nil {
		return nil, false, err
	}
	methods, err = p.methods(r.Context(), user)
	if err != nil {
		return nil, false, err
	}
	return methods, true, nil
}
