package caddymodule

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// verifyRate bounds verify calls per forwarded client IP. It is separate from the auth-API
// limiter: a proxy in front sends one verify per proxied request (D4).
var verifyRate = ratelimit.Rule{Window: 10 * time.Second, Max: 2000}

// verify is GET <base_path>/verify, which makes Gatehouse a forward_auth target for nginx
// auth_request, Traefik ForwardAuth or another Caddy (D4). The original request is described
// by X-Forwarded-Method, X-Forwarded-Uri and X-Forwarded-Host, which are read only when the
// caller is one of the server's trusted_proxies; otherwise the check is for GET /. It
// answers 200 with the identity headers, 401 or 403 (302 to login_url only with
// ?redirect=1), always with Cache-Control: no-store.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return h.deny(w, r, &authcore.Error{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED", Message: "Method not allowed"})
	}
	ip := ratelimit.ClientKey(clientIP(r))
	if err := h.engine.Limit("verify|"+ip, verifyRate); err != nil {
		return h.deny(w, r, authcore.AsError(err))
	}
	orig := r.Clone(r.Context())
	orig.Method, orig.URL = http.MethodGet, &url.URL{Path: "/"}
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); trusted {
		if m := r.Header.Get("X-Forwarded-Method"); m != "" {
			orig.Method = strings.ToUpper(m)
		}
		if u := r.Header.Get("X-Forwarded-Uri"); u != "" {
			pu, err := url.ParseRequestURI(u)
			if err != nil {
				return h.deny(w, r, &authcore.Error{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: "Invalid X-Forwarded-Uri"})
			}
			orig.URL = pu
		}
		if host := r.Header.Get("X-Forwarded-Host"); host != "" {
			orig.Host = host
		}
	}
	h.stripIdentity(orig)
	// The canonical path goes back on orig so that matcher rules see what the path rules
	// judge, as on the gateway path.
	clean, err := h.canonicalize(orig)
	if err != nil {
		return h.deny(w, r, errInvalidPath)
	}
	p, v, refusal := h.check(orig, clean, h.verifyRules)
	if refusal != nil {
		return h.deny(w, r, refusal)
	}
	switch v {
	case unauthenticated:
		if r.URL.Query().Get("redirect") == "1" && h.LoginURL != "" {
			h.redirectToLogin(w, orig)
			return nil
		}
		return h.deny(w, r, &authcore.Error{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "Unauthorized"})
	case forbidden:
		return h.deny(w, r, &authcore.Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: "Forbidden"})
	}
	if p != nil {
		for i := range identityFields {
			if v := identityFields[i].get(p); v != "" {
				w.Header()[h.headerNames[i]] = []string{headerValue(v)}
			}
		}
		for k, v := range p.Headers {
			if v != "" {
				w.Header().Set(h.HeaderPrefix+k, headerValue(v))
			}
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
