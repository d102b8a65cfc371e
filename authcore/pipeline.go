package authcore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/origin"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// ServeHTTP serves the auth API under the base path. The pipeline order is documented in
// doc.go; this function and run are its one implementation.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := e.relativePath(r.URL.Path)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method == http.MethodOptions {
		e.preflight(w, r)
		return
	}
	for _, p := range e.reg.reserved {
		if strings.HasPrefix(path, p.prefix) {
			e.corsHeaders(w.Header(), r)
			p.handler.ServeHTTP(w, r)
			return
		}
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	ep, params := e.route(method, path)
	if ep == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if e.disabled[ep.Path] {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Not Found")
		return
	}
	c := &Call{Request: r, Endpoint: ep, Route: ep.Path, Params: params, engine: e, header: http.Header{}}
	resp, err := e.run(c)
	e.signInFailureMetric(c, err)
	e.recordCallAudit(c, err)
	var intr *Interrupt
	if errors.As(err, &intr) { // from a middleware or an after hook
		resp, err = intr.Response, nil
	}
	e.write(w, c, resp, err)
}

// relativePath strips the base path. Only the exact base path prefix followed by "/" routes;
// everything else (including "//" spellings, which Go keeps in URL.Path) is 404 (PATH-02).
func (e *Engine) relativePath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, e.cfg.BasePath)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", false
	}
	return rest, true
}

// route finds the endpoint for method and path: exact static routes first, then patterns
// with ":param" segments. Empty segments never match, so "//x" and "/x/" are 404 (spec §1.1).
func (e *Engine) route(method, path string) (*Endpoint, map[string]string) {
	if ep := e.static[method+" "+path]; ep != nil {
		return ep, nil
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, ep := range e.dynamic {
		if ep.Method != method || len(ep.segs) != len(segs) {
			continue
		}
		var params map[string]string
		match := true
		for i, s := range ep.segs {
			switch {
			case strings.HasPrefix(s, ":"):
				if segs[i] == "" {
					match = false
				} else {
					if params == nil {
						params = map[string]string{}
					}
					params[s[1:]] = segs[i]
				}
			case s != segs[i]:
				match = false
			}
			if !match {
				break
			}
		}
		if match {
			return ep, params
		}
	}
	return nil, nil
}

// run executes the pipeline for one call and returns the response value or error.
func (e *Engine) run(c *Call) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Internal(fmt.Errorf("panic in %s %s: %v", c.Endpoint.Method, c.Route, p))
		}
	}()
	for _, f := range e.reg.onRequest {
		if err := f(c); err != nil {
			return nil, err
		}
	}
	if err := e.checkOrigin(c); err != nil {
		return nil, err
	}
	if err := e.rateLimit(c); err != nil {
		return nil, err
	}
	if err := e.decodeBody(c); err != nil {
		return nil, err
	}
	if err := e.checkRedirects(c); err != nil {
		return nil, err
	}
	for _, m := range e.reg.middlewares {
		if m.match(c) {
			if err := m.mw(c); err != nil {
				return nil, err
			}
		}
	}
	if err := e.validate(c); err != nil {
		return nil, err
	}
	e.resolveAuditActor(c)
	resp, err = e.before(c)
	if err == nil && resp == nil {
		resp, err = e.invoke(c)
	}
	var intr *Interrupt
	if errors.As(err, &intr) {
		resp, err = intr.Response, nil
	}
	if err != nil {
		return nil, err
	}
	c.Returned = resp
	for _, h := range e.reg.after {
		if h.match(c) {
			if err := h.hook(c); err != nil {
				return nil, err
			}
		}
	}
	return c.Returned, nil
}

func (e *Engine) before(c *Call) (any, error) {
	for _, h := range e.reg.before {
		if !h.match(c) {
			continue
		}
		resp, err := h.hook(c)
		if err != nil || resp != nil {
			return resp, err
		}
	}
	return nil, nil
}

// invoke applies the endpoint's session requirement and calls its handler.
func (e *Engine) invoke(c *Call) (any, error) {
	ep := c.Endpoint
	switch ep.Auth {
	case AuthOptional:
		if _, err := c.Session(); err != nil {
			return nil, err
		}
	case AuthSession, AuthSensitive, AuthFresh:
		s, err := c.RequireSession()
		if err != nil {
			return nil, err
		}
		if ep.Auth == AuthFresh && !e.fresh(s) {
			return nil, CodeSessionNotFresh.With(http.StatusForbidden)
		}
	}
	return ep.Handler(c)
}

// fresh reports whether a session is young enough for AuthFresh endpoints.
func (e *Engine) fresh(s *Session) bool {
	if e.cfg.Session.FreshAge < 0 {
		return true
	}
	return e.clock.Now().Sub(s.Session.Time("createdAt")) < e.cfg.Session.FreshAge
}

// decodeBody reads and parses a POST body: JSON (or urlencoded where the endpoint allows it),
// at most MaxBodyBytes (413), strict syntax (400), and an object (400).
func (e *Engine) decodeBody(c *Call) error {
	r := c.Request
	q := c.Endpoint.Query
	c.Query = queryValues(r.URL.Query(), q)
	c.Body = Values{}
	if c.Endpoint.Method != http.MethodPost {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, e.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return CodePayloadTooLarge.With(http.StatusRequestEntityTooLarge)
		}
		return CodeBadRequest.With(http.StatusBadRequest).Wrap(err)
	}
	allowed := "application/json"
	if c.Endpoint.AllowForm {
		allowed += ", application/x-www-form-urlencoded"
	}
	ct := r.Header.Get("Content-Type")
	if len(body) == 0 {
		// A POST with no body at all is an absent body (spec §1.1).
		return nil
	}
	if ct == "" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType.Code,
			Message: "Content-Type is required. Allowed types: " + allowed}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = ct
	}
	switch {
	case mt == "application/json":
		v, err := decodeJSON(body)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest.Code, Message: "Invalid JSON in request body", Err: err}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			if v == nil {
				return nil
			}
			return CodeBodyMustBeAnObject.With(http.StatusBadRequest)
		}
		c.Body = obj
	case mt == "application/x-www-form-urlencoded" && c.Endpoint.AllowForm:
		v, err := formValues(body, c.Endpoint.Body)
		if err != nil {
			return CodeBadRequest.With(http.StatusBadRequest).Wrap(err)
		}
		c.Body = v
	default:
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType.Code,
			Message: fmt.Sprintf("Content-Type %q is not allowed. Allowed types: %s", mt, allowed)}
	}
	return nil
}

// callbackFields are the redirect parameters checked against trusted origins (spec §4.4
// step 3), with their error codes.
var callbackFields = []struct {
	name string
	code ErrorCode
}{
	{"callbackURL", CodeInvalidCallbackURL},
	{"redirectTo", CodeInvalidRedirectURL},
	{"errorCallbackURL", CodeInvalidErrorCallbackURL},
	{"newUserCallbackURL", CodeInvalidNewUserCallbackURL},
}

// checkOrigin applies the origin/CSRF rules of spec §4.4 to the request headers. It runs
// before the body is read, so a cross-site request is refused without costing a parse.
func (e *Engine) checkOrigin(c *Call) error {
	if c.Endpoint.CrossSitePost {
		return nil
	}
	r := c.Request
	err := e.origins.Check(origin.Request{
		Method:       r.Method,
		HasCookie:    r.Header.Get("Cookie") != "",
		Origin:       r.Header.Get("Origin"),
		Referer:      r.Header.Get("Referer"),
		SecFetchSite: r.Header.Get("Sec-Fetch-Site"),
		SecFetchMode: r.Header.Get("Sec-Fetch-Mode"),
		SecFetchDest: r.Header.Get("Sec-Fetch-Dest"),
		FormCSRF:     c.Endpoint.FormCSRF,
		Self:         requestOrigin(r),
	})
	switch {
	case err == nil:
	case errors.Is(err, origin.ErrMissingOrNullOrigin):
		return CodeMissingOrNullOrigin.With(http.StatusForbidden)
	case errors.Is(err, origin.ErrCrossSiteNavigation):
		return CodeCrossSiteNavigationLoginBlocked.With(http.StatusForbidden)
	default:
		return CodeInvalidOrigin.With(http.StatusForbidden)
	}
	return nil
}

// requestOrigin is the origin the request was sent to, as the server received it: every
// site serving the engine is thereby a trusted origin for its own pages (D5).
func requestOrigin(r *http.Request) string {
	if r.Host == "" {
		return ""
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// checkRedirects validates the redirect parameters of the body and query against the
// trusted origins (spec §4.4 step 3).
func (e *Engine) checkRedirects(c *Call) error {
	for _, f := range callbackFields {
		for _, src := range []Values{c.Body, c.Query} {
			v, ok := src[f.name]
			if !ok || v == nil {
				continue
			}
			s, isStr := v.(string)
			if !isStr {
				return &Error{Status: http.StatusBadRequest, Code: CodeValidationError.Code,
					Message: fmt.Sprintf("Invalid %s: expected a string", f.name)}
			}
			if s != "" && !e.origins.SafeRedirect(s) {
				return f.code.With(http.StatusForbidden)
			}
		}
	}
	return nil
}

// rateLimit applies the first matching rule (config, then plugins, then built-in) keyed by
// the canonical client IP and the route pattern, so every spelling of a path shares one
// bucket (PATH-02).
func (e *Engine) rateLimit(c *Call) error {
	if e.cfg.RateLimit.Disabled {
		return nil
	}
	rule := e.rateRule(c.Route)
	key := ratelimit.ClientKey(c.ClientIP()) + "|" + c.Route
	ok, retry, err := e.allow(key, rule)
	if ok || err != nil {
		return err
	}
	e.metrics.RateLimited("ip")
	return tooManyRequests(retry)
}

// Limit applies rule to key on the engine's limiter (shared across reloads): nil, or 429
// with Retry-After (503 when the database limiter's storage is unavailable). The gateway
// uses it for its own endpoints, such as /verify.
func (e *Engine) Limit(key string, rule ratelimit.Rule) error {
	ok, retry, err := e.allow(key, rule)
	if ok || err != nil {
		return err
	}
	e.metrics.RateLimited("limit")
	return tooManyRequests(retry)
}

// allow asks the engine's limiter (see AllowLimit).
func (e *Engine) allow(key string, rule ratelimit.Rule) (bool, time.Duration, error) {
	return e.AllowLimit(e.limiter, key, rule)
}

// AllowLimit asks limiter l about key at the engine's clock. The database limiter fails
// closed; when it failed because storage is unavailable, the error (storage.ErrUnavailable)
// is returned so that the request is answered as an outage (503), not as over its limit.
// Plugins counting their own limits on [Engine.RateLimiter] use it too.
func (e *Engine) AllowLimit(l ratelimit.Store, key string, rule ratelimit.Rule) (bool, time.Duration, error) {
	now := e.clock.Now()
	s, stored := l.(*ratelimit.Stored)
	if !stored {
		ok, retry := l.Allow(key, rule, now)
		return ok, retry, nil
	}
	ok, retry, err := s.Check(key, rule, now)
	if errors.Is(err, storage.ErrUnavailable) {
		return false, 0, err // answered by Unavailable where the request's answer is written
	}
	if err != nil {
		e.log.Error("rate limit: storage failed; refusing the request", "error", err.Error())
	}
	return ok, retry, nil
}

func tooManyRequests(retry time.Duration) *Error {
	secs := int64((retry + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	h := http.Header{}
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	h.Set("X-Retry-After", strconv.FormatInt(secs, 10))
	return &Error{Status: http.StatusTooManyRequests, Message: CodeTooManyRequests.Message, Header: h}
}

// builtinRateRules are Better Auth's special rules (spec §4.6).
var builtinRateRules = []PathRateRule{
	{Path: "/sign-in/*", Rule: ratelimit.Rule{Window: 10 * time.Second, Max: 3}},
	{Path: "/sign-up/*", Rule: ratelimit.Rule{Window: 10 * time.Second, Max: 3}},
	{Path: "/change-password", Rule: ratelimit.Rule{Window: 10 * time.Second, Max: 3}},
	{Path: "/change-email", Rule: ratelimit.Rule{Window: 10 * time.Second, Max: 3}},
	{Path: "/request-password-reset", Rule: ratelimit.Rule{Window: 60 * time.Second, Max: 3}},
	{Path: "/send-verification-email", Rule: ratelimit.Rule{Window: 60 * time.Second, Max: 3}},
	{Path: "/forget-password*", Rule: ratelimit.Rule{Window: 60 * time.Second, Max: 3}},
}

func (e *Engine) rateRule(route string) ratelimit.Rule {
	for _, r := range e.cfg.RateLimit.Rules {
		if pathRuleMatches(r.Path, route) {
			return r.Rule
		}
	}
	for _, r := range e.reg.rateRules {
		if pathRuleMatches(r.Path, route) {
			return r.Rule
		}
	}
	for _, r := range builtinRateRules {
		if pathRuleMatches(r.Path, route) {
			return r.Rule
		}
	}
	return ratelimit.Rule{Window: e.cfg.RateLimit.Window, Max: e.cfg.RateLimit.Max}
}

func pathRuleMatches(rule, route string) bool {
	if p, ok := strings.CutSuffix(rule, "*"); ok {
		return strings.HasPrefix(route, p)
	}
	return rule == route
}

// validate checks the body and query against the endpoint's declarations, drops undeclared
// keys, and applies the user/session-field rules (D10).
func (e *Engine) validate(c *Call) error {
	ep := c.Endpoint
	problems := validateParams("body", ep.Body, c.Body)
	problems = append(problems, validateParams("query", ep.Query, c.Query)...)
	if len(problems) > 0 {
		return &Error{Status: http.StatusBadRequest, Code: CodeValidationError.Code, Message: strings.Join(problems, "; ")}
	}
	declared := map[string]bool{}
	for _, p := range ep.Body {
		declared[p.Name] = true
	}
	if ep.UserFields || ep.SessionFields {
		model := "user"
		if ep.SessionFields {
			model = "session"
		}
		extra, err := e.inputFields(model, c.Body, declared)
		if err != nil {
			return err
		}
		for k, v := range extra {
			declared[k] = true
			c.Body[k] = v
		}
	}
	for k := range c.Body {
		if !declared[k] {
			delete(c.Body, k)
		}
	}
	return nil
}

// write renders the result: JSON (null for nil), a redirect, a raw response, or the error
// envelope, with cookies, CORS and cache headers.
func (e *Engine) write(w http.ResponseWriter, c *Call, resp any, err error) {
	// Encode first: a result that cannot be encoded (NaN, a channel) is a 500 like any
	// other, decided before cookies are written or interceptors look at the call.
	if ue := e.Unavailable(err); ue != nil {
		// Storage could not answer: 503 with Retry-After, whatever the handler made of it.
		err = ue
	}
	var body []byte
	if err == nil {
		switch resp.(type) {
		case Redirect, *RawResponse:
		default:
			var merr error
			if body, merr = json.Marshal(resp); merr != nil {
				err = Internal(fmt.Errorf("encoding response: %w", merr))
			}
		}
	}
	if err != nil && AsError(err).Status >= 500 {
		// A failed request must not leave half a sign-in behind (DUR-02): its cookies are
		// dropped here, before the response interceptors run, so nothing derived from them
		// (a bearer set-auth-token) goes out either.
		c.cookies = nil
	}
	if perr := e.intercept(c); perr != nil {
		err, c.cookies, c.header = perr, nil, http.Header{}
	}
	h := w.Header()
	for k, vs := range c.header {
		h[k] = vs
	}
	e.corsHeaders(h, c.Request)
	if c.Endpoint.NoStore {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	if err != nil {
		e.writeError(w, c, AsError(err))
		return
	}
	for _, sc := range c.cookies {
		h.Add("Set-Cookie", sc.line)
	}
	switch v := resp.(type) {
	case Redirect:
		h.Set("Location", string(v))
		w.WriteHeader(http.StatusFound)
	case *RawResponse:
		for k, vs := range v.Header {
			h[k] = vs
		}
		status := v.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if c.Request.Method != http.MethodHead {
			w.Write(v.Body)
		}
	default:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if c.Request.Method != http.MethodHead {
			w.Write(body)
		}
	}
}

// intercept runs the response interceptors; a panicking one turns the answer into a 500
// instead of dropping the connection.
func (e *Engine) intercept(c *Call) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Internal(fmt.Errorf("panic in response interceptor: %v", p))
		}
	}()
	for _, f := range e.reg.onResponse {
		f(c)
	}
	return nil
}

func (e *Engine) writeError(w http.ResponseWriter, c *Call, er *Error) {
	h := w.Header()
	switch {
	case er.Status >= 500 && errors.Is(er, storage.ErrUnavailable):
		// No cookies on a 5xx (DUR-02; write has already dropped them). A storage outage
		// is logged once by the engine's storage health tracker, not per request.
	case er.Status >= 500:
		e.log.Error("auth request failed", "method", c.Request.Method, "route", c.Route, "error", er.Error())
	default:
		for _, sc := range c.cookies {
			h.Add("Set-Cookie", sc.line)
		}
		if er.Err != nil {
			e.log.Debug("auth request refused", "route", c.Route, "code", er.Code, "cause", er.Err.Error())
		}
	}
	for k, vs := range er.Header {
		h[k] = vs
	}
	if er.Empty {
		w.WriteHeader(er.Status)
		return
	}
	env := map[string]any{"message": er.Message}
	if er.Code != "" {
		env["code"] = er.Code
	}
	if er.Details != nil {
		env["details"] = er.Details
	}
	body, _ := json.Marshal(env)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(er.Status)
	if c.Request.Method != http.MethodHead { // HEAD answers carry no body, errors included
		w.Write(body)
	}
}

// corsHeaders answers CORS for trusted origins only: the exact origin, never "*" (D5).
func (e *Engine) corsHeaders(h http.Header, r *http.Request) {
	o := r.Header.Get("Origin")
	h.Add("Vary", "Origin")
	if o == "" || !e.origins.TrustedOrigin(o) {
		return
	}
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", "set-auth-token, set-auth-jwt")
}

func (e *Engine) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	e.corsHeaders(h, r)
	if h.Get("Access-Control-Allow-Origin") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}
