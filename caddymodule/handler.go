package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler is the `gatehouse` site directive: it serves the auth API under the base path and
// guards every other request of the site (the gateway path).
type Handler struct {
	// Rules of the site; every path no rule names requires an authenticated principal.
	Rules []Rule `json:"rules,omitempty"`
	// Headers maps identity fields (user_id, user_email, user_name, user_role, session_id,
	// method, org_id, api_key_id, user_email_verified) to the header name a legacy app
	// expects, instead of <prefix><Field>. Mapped names are stripped from clients too.
	Headers map[string]string `json:"headers,omitempty"`
	// HeaderPrefix is the reserved identity-header prefix, stripped from every client
	// request in any case and with '_' as well as '-'. Default: X-Auth-.
	HeaderPrefix string `json:"header_prefix,omitempty"`
	// LoginURL is where browser navigations without a session are sent (302 with a
	// callbackURL). Default: the hosted portal's sign-in page when the portal is on;
	// without either, browsers get 401 like API clients (D14).
	LoginURL string `json:"login_url,omitempty"`
	// PassCredentials forwards the gateway's own cookies and credential headers upstream.
	PassCredentials bool `json:"pass_credentials,omitempty"`
	// AllowEncodedSlashes accepts %2F, %5C and ';' in paths (refused with 400 otherwise,
	// D2). A NUL is refused either way.
	AllowEncodedSlashes bool `json:"allow_encoded_slashes,omitempty"`
	// UseHandleErrors returns denials as Caddy handler errors so handle_errors routes can
	// render them (D9). Default: answered directly with the JSON envelope.
	UseHandleErrors bool `json:"use_handle_errors,omitempty"`
	// RefusePreflight answers CORS preflights on the gateway path with 403 instead of
	// passing them to the upstream without identity (D5).
	RefusePreflight bool `json:"refuse_preflight,omitempty"`
	// Verify holds rules for the forward_auth verify endpoint; default: the site's rules.
	Verify *VerifyConfig `json:"verify,omitempty"`
	// IdentityJWT sends every proxied request that has a principal a short-lived signed JWT
	// of that principal in a header (D12). Requires the jwt plugin (its keys and /jwks).
	IdentityJWT *IdentityJWTConfig `json:"identity_jwt,omitempty"`

	engine      *authcore.Engine
	basePath    string
	rules       *ruleSet
	verifyRules *ruleSet
	normPrefixB []byte
	mapped      map[string]struct{}
	headerNames []string // per identityFields index
	identity    *identityJWT
	logger      *zap.Logger
	loginOrigin string // login_url's origin when it is absolute
	metrics     *promMetrics
}

// VerifyConfig configures the forward_auth verify endpoint (D4).
type VerifyConfig struct {
	Rules []Rule `json:"rules,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.gatehouse", New: func() caddy.Module { return new(Handler) }}
}

// Provision finds the gatehouse app's engine and compiles the rules.
func (h *Handler) Provision(ctx caddy.Context) error {
	appIface, err := ctx.App("gatehouse")
	if err != nil {
		return fmt.Errorf("gatehouse directive: the gatehouse app: %w", err)
	}
	eng := appIface.(*App).Engine()
	if eng == nil {
		return errors.New("gatehouse directive: the gatehouse app has no engine (is the global gatehouse block configured?)")
	}
	return h.provision(ctx, eng, ctx.Logger())
}

// provision compiles the site's configuration against an engine. It is Provision minus
// finding the app, so unit tests can build a handler around a test engine.
func (h *Handler) provision(ctx caddy.Context, eng *authcore.Engine, logger *zap.Logger) error {
	var err error
	h.engine, h.logger = eng, logger
	h.metrics = gatehouseMetrics()
	h.basePath = h.engine.Config().BasePath
	if h.HeaderPrefix == "" {
		h.HeaderPrefix = "X-Auth-"
	}
	h.normPrefixB = []byte(normHeader(h.HeaderPrefix))
	if h.rules, err = compileRules(ctx, h.engine, h.Rules); err != nil {
		return err
	}
	h.verifyRules = h.rules
	if h.Verify != nil && len(h.Verify.Rules) > 0 {
		if h.verifyRules, err = compileRules(ctx, h.engine, h.Verify.Rules); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	h.mapped = map[string]struct{}{}
	h.headerNames = make([]string, len(identityFields))
	for i, f := range identityFields {
		h.headerNames[i] = http.CanonicalHeaderKey(h.HeaderPrefix + f.suffix)
		if name, ok := h.Headers[f.name]; ok {
			if !validHeaderName(name) {
				return fmt.Errorf("header %s: %q is not a valid header name", f.name, name)
			}
			h.headerNames[i] = http.CanonicalHeaderKey(name)
			h.mapped[normHeader(name)] = struct{}{}
		}
	}
	for f := range h.Headers {
		if !knownField(f) {
			return fmt.Errorf("header %s: unknown identity field (valid: %s)", f, fieldNames())
		}
	}
	if err := h.provisionIdentityJWT(eng); err != nil {
		return err
	}
	if h.LoginURL == "" && slices.Contains(eng.Plugins(), portalID) {
		// Browsers without a session go to the hosted portal's sign-in page (D14).
		h.LoginURL = eng.APIURL("/ui/sign-in")
	}
	if h.LoginURL != "" {
		u, err := url.Parse(h.LoginURL)
		if err != nil || (u.Host == "" && !strings.HasPrefix(h.LoginURL, "/")) {
			return fmt.Errorf("login_url %q must be absolute or start with /", h.LoginURL)
		}
		if u.Host != "" {
			h.loginOrigin = strings.ToLower(u.Scheme + "://" + u.Host)
		}
	}
	return nil
}

func fieldNames() string {
	names := make([]string, len(identityFields))
	for i, f := range identityFields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// ServeHTTP serves the auth API under the base path and guards everything else.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if rest, ok := strings.CutPrefix(r.URL.Path, h.basePath); ok && (rest == "" || rest[0] == '/') {
		if rest == "/verify" {
			return h.verify(w, r)
		}
		h.engine.ServeHTTP(w, r)
		return nil
	}
	h.stripIdentity(r)
	clean, err := h.canonicalize(r)
	if err != nil {
		return h.deny(w, r, errInvalidPath)
	}
	if h.underBasePath(clean) {
		// The exact spelling of an auth-API path was served above; one that only cleans or
		// case-folds to it ("//api/auth/x", "/API/AUTH/x", "/api/auth/./x") is not the API
		// (the engine answers 404 to such spellings itself) and must not reach the upstream
		// either (PATH-02).
		return h.deny(w, r, &authcore.Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "Not found"})
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		// A CORS preflight carries no credentials; it reaches the upstream without
		// identity, or is refused (D5).
		if h.RefusePreflight {
			return h.deny(w, r, &authcore.Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: "Forbidden"})
		}
		h.stripCredentials(r, nil)
		return next.ServeHTTP(newGuardWriter(w, h), r)
	}
	p, v, refusal := h.check(r, clean, h.rules)
	if refusal != nil {
		return h.deny(w, r, refusal)
	}
	switch v {
	case unauthenticated:
		return h.unauthenticated(w, r)
	case forbidden:
		return h.deny(w, r, &authcore.Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: "Forbidden"})
	}
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	h.setIdentity(r, repl, p)
	if h.identity != nil && p != nil {
		if err := h.identity.set(r, p); err != nil {
			// The upstream relies on the token: never forward the request without it.
			return h.deny(w, r, h.failClosed(err))
		}
	}
	h.stripCredentials(r, p)
	gw := newGuardWriter(w, h)
	if p != nil && p.Refresh {
		line, err := h.engine.GatewayRefresh(r, p)
		if err != nil && !errors.Is(err, storage.ErrUnavailable) { // an outage is logged once, by the engine
			// The credential was valid; only its extension failed, so the request goes on.
			h.logger.Error("refreshing session", zap.Error(err))
		}
		gw.setCookie = line
	}
	return next.ServeHTTP(gw, r)
}

// check is the decision the gateway path and /verify share: authenticate r, find the rules
// for clean and judge the principal by them. refusal is the answer when a credential was
// refused or something failed (failClosed); otherwise v is the verdict. Each request's
// decision is counted once, here, labelled by the kind of the rule that decided it.
func (h *Handler) check(r *http.Request, clean string, set *ruleSet) (p *authcore.Principal, v verdict, refusal *authcore.Error) {
	p, err := h.engine.Authenticate(r)
	if err != nil {
		refusal = h.failClosed(err)
		result := decisionRejected // the credential's answer to the client: 401, 403, 429
		if refusal.Status >= 500 {
			result = decisionError
		}
		h.metrics.decision(ruleCredential, result)
		return nil, 0, refusal
	}
	rules, err := set.decide(r, clean)
	if err != nil {
		h.metrics.decision(ruleNone, decisionError)
		return nil, 0, h.failClosed(err)
	}
	kind := decidingKind(rules)
	if v, err = judge(r, h.engine, clean, rules, p); err != nil {
		h.metrics.decision(kind, decisionError)
		return nil, 0, h.failClosed(err)
	}
	h.metrics.decision(kind, verdictResult[v])
	return p, v, nil
}

// portalID is the hosted portal's plugin ID (plugins/portal).
const portalID = "portal"

// errInvalidPath answers a path refused by canonicalPath.
var errInvalidPath = &authcore.Error{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: "Invalid request path"}

// canonicalize validates r's path and puts the canonical form back on r, so the upstream
// receives exactly the path that was judged (D2). The raw (escaped) form is dropped too: an
// alternative spelling such as "/%61dmin" would otherwise be forwarded as sent. Only with
// allow_encoded_slashes, and only when cleaning changed nothing, is the raw form kept, so
// that an encoded slash reaches the upstream still encoded.
func (h *Handler) canonicalize(r *http.Request) (string, error) {
	clean, err := canonicalPath(r, h.AllowEncodedSlashes)
	if err != nil {
		return "", err
	}
	if !h.AllowEncodedSlashes || clean != r.URL.Path {
		r.URL.Path, r.URL.RawPath = clean, ""
	}
	return clean, nil
}

// underBasePath reports whether a canonical gateway path names the auth API in some other
// spelling (matching ignores case, as the rules do).
func (h *Handler) underBasePath(clean string) bool {
	if len(clean) < len(h.basePath) || !strings.EqualFold(clean[:len(h.basePath)], h.basePath) {
		return false
	}
	return len(clean) == len(h.basePath) || clean[len(h.basePath)] == '/'
}

// failClosed turns an authentication error into the answer: an *authcore.Error as is (401,
// 403, 429); anything else is a technical failure, answered 503 without reaching the
// upstream (DUR-02). Storage being unavailable is checked first — whatever status an
// authenticator made of it — and is not logged per request: the engine logs the outage.
func (h *Handler) failClosed(err error) *authcore.Error {
	if ue := h.engine.Unavailable(err); ue != nil {
		return ue
	}
	var ae *authcore.Error
	if errors.As(err, &ae) && ae.Status < 500 {
		return ae
	}
	h.logger.Error("gateway check failed", zap.Error(err))
	return &authcore.Error{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE", Message: "Service temporarily unavailable", Err: err}
}

// unauthenticated answers a request without an acceptable credential: browser navigations
// go to login_url with a callbackURL back to what they asked for; everything else gets 401.
func (h *Handler) unauthenticated(w http.ResponseWriter, r *http.Request) error {
	if h.LoginURL != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		strings.Contains(r.Header.Get("Accept"), "text/html") {
		h.redirectToLogin(w, r)
		return nil
	}
	return h.deny(w, r, &authcore.Error{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "Unauthorized"})
}

// redirectToLogin answers 302 to login_url with a callbackURL back to r (the canonical path,
// in its escaped form so that an encoded "?" or "#" stays part of the path, and the query),
// when that target is a safe redirect; the gateway path and the verify endpoint both use it.
// When the login page lives on another origin (an absolute login_url, such as the portal
// under base_url while the app has its own host), the callback names the app's origin too,
// and is then only sent when that origin is trusted.
func (h *Handler) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	u := r.URL
	target := u.EscapedPath()
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	if h.loginOrigin != "" {
		if here := requestAudience(r); here != h.loginOrigin {
			target = here + target
		}
	}
	loc := h.LoginURL
	if h.engine.Origins().SafeRedirect(target) {
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		loc += sep + "callbackURL=" + url.QueryEscape(target)
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// deny writes a gateway denial with the JSON envelope (D9), or returns it as a Caddy handler
// error for handle_errors when the site opts in.
// The headers (Retry-After, Cache-Control) are set either way: Caddy keeps them when
// handle_errors renders the error.
func (h *Handler) deny(w http.ResponseWriter, _ *http.Request, e *authcore.Error) error {
	hd := w.Header()
	for k, vs := range e.Header {
		hd[k] = vs
	}
	if e.Status == http.StatusTooManyRequests && hd.Get("Retry-After") != "" && hd.Get("X-Retry-After") == "" {
		hd.Set("X-Retry-After", hd.Get("Retry-After"))
	}
	hd.Set("Cache-Control", "no-store")
	if h.UseHandleErrors {
		return caddyhttp.Error(e.Status, e)
	}
	env := map[string]string{"message": e.Message}
	if e.Code != "" {
		env["code"] = e.Code
	}
	body, _ := json.Marshal(env)
	hd.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, err := w.Write(body)
	return err
}

// guardWriter drops Set-Cookie lines from the upstream that use the gateway's cookie names
// (D8) and adds the refreshed session cookie, just before the upstream's headers go out —
// whichever way they go out: WriteHeader, an implicit 200 from Write, ReadFrom or a flush.
type guardWriter struct {
	*caddyhttp.ResponseWriterWrapper
	rww       caddyhttp.ResponseWriterWrapper // backs the pointer above: one allocation, not two
	h         *Handler
	setCookie string
	final     bool // the final (non-informational) header has been guarded
}

func newGuardWriter(w http.ResponseWriter, h *Handler) *guardWriter {
	g := &guardWriter{h: h}
	g.rww.ResponseWriter = w
	g.ResponseWriterWrapper = &g.rww
	return g
}

// guard filters the header about to be sent with status. Informational headers (103 Early
// Hints) are filtered too but leave the refresh cookie for the final response; 101 is final
// for a connection that switches protocols (a WebSocket upgrade).
func (g *guardWriter) guard(status int) {
	if g.final {
		return
	}
	hd := g.ResponseWriterWrapper.Header()
	if lines := hd["Set-Cookie"]; len(lines) > 0 {
		kept := lines[:0]
		for _, l := range lines {
			name, _, _ := strings.Cut(l, "=")
			if !g.h.engine.ReservedCookie(strings.TrimSpace(name)) {
				kept = append(kept, l)
			}
		}
		if len(kept) == 0 {
			delete(hd, "Set-Cookie")
		} else {
			hd["Set-Cookie"] = kept
		}
	}
	if status < 200 && status != http.StatusSwitchingProtocols {
		return
	}
	g.final = true
	if g.setCookie != "" {
		hd.Add("Set-Cookie", g.setCookie)
	}
}

// WriteHeader guards before the status line goes out.
func (g *guardWriter) WriteHeader(status int) {
	g.guard(status)
	g.ResponseWriterWrapper.WriteHeader(status)
}

// Write guards the implicit 200 when the upstream writes without WriteHeader.
func (g *guardWriter) Write(b []byte) (int, error) {
	g.guard(http.StatusOK)
	return g.ResponseWriterWrapper.Write(b)
}

// ReadFrom guards before a body is copied straight from the upstream.
func (g *guardWriter) ReadFrom(r io.Reader) (int64, error) {
	g.guard(http.StatusOK)
	return g.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError guards a flush before any header was written (it sends an implicit 200).
// Without it http.ResponseController would reach the underlying writer through Unwrap and
// send the upstream's headers unfiltered.
func (g *guardWriter) FlushError() error {
	g.guard(http.StatusOK)
	return http.NewResponseController(g.ResponseWriterWrapper.ResponseWriter).Flush()
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ io.ReaderFrom               = (*guardWriter)(nil)
)
