package jwtplugin

import (
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// HeaderSetAuthJWT carries the JWT on /get-session answers.
const HeaderSetAuthJWT = "set-auth-jwt"

// setJWTHeader is the after hook on /get-session: when the answer holds a session, it adds
// set-auth-jwt with a JWT for the session's user (the user object exactly as the answer
// gives it) and lists the header in Access-Control-Expose-Headers. An answer of null (no
// session) gets neither.
func (p *Plugin) setJWTHeader(c *authcore.Call) error {
	ret, ok := c.Returned.(map[string]any)
	if !ok || ret["session"] == nil {
		return nil
	}
	user, ok := ret["user"].(map[string]any)
	if !ok {
		return nil
	}
	if id, _ := user["id"].(string); id == "" {
		return nil
	}
	tok, err := p.userToken(c.Context(), user)
	if err != nil {
		return err
	}
	h := c.Header()
	h.Set(HeaderSetAuthJWT, tok)
	exposed := []string{}
	seen := map[string]bool{}
	for _, v := range h.Values("Access-Control-Expose-Headers") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" && !seen[strings.ToLower(name)] {
				seen[strings.ToLower(name)] = true
				exposed = append(exposed, name)
			}
		}
	}
	if !seen[HeaderSetAuthJWT] {
		exposed = append(exposed, HeaderSetAuthJWT)
	}
	h.Set("Access-Control-Expose-Headers", strings.Join(exposed, ", "))
	return nil
}
