package portal

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// apiResult is the answer of an in-process call of the engine's JSON API.
type apiResult struct {
	Status int
	// Body is the decoded JSON answer (nil when there was none or it was not JSON).
	Body any
	// Code and Message are the error envelope of a non-2xx answer. Code is never empty for a
	// non-2xx answer ("INTERNAL_SERVER_ERROR" when the body had none).
	Code, Message string
	// Header is the API response's header; SetCookies its Set-Cookie lines.
	Header     http.Header
	SetCookies []string
}

// OK reports a 2xx answer.
func (a apiResult) OK() bool { return a.Status >= 200 && a.Status < 300 }

// Object returns the body as a JSON object (nil if it is not one).
func (a apiResult) Object() map[string]any { m, _ := a.Body.(map[string]any); return m }

// String returns a top-level string field of the body.
func (a apiResult) String(key string) string { s, _ := a.Object()[key].(string); return s }

// Bool returns a top-level boolean field of the body.
func (a apiResult) Bool(key string) bool { b, _ := a.Object()[key].(bool); return b }

// CopyCookies adds the API's Set-Cookie lines to the browser's response. Call it before
// writing the response (redirect or page).
func (a apiResult) CopyCookies(w http.ResponseWriter) {
	for _, c := range a.SetCookies {
		w.Header().Add("Set-Cookie", c)
	}
}

// api calls the engine's own JSON API in-process: ONE way to act (issue 8). The internal
// request carries the browser's Cookie header, User-Agent, RemoteAddr and the request's
// context (so the client IP, rate limits, trusted proxies, session gates and hooks are the
// same as for a direct API call), the base URL's origin as Origin (the portal has already done
// its own CSRF check) and body as JSON. path is relative to the base path and may carry a
// query ("/verify-email?token=..."). Cookies set by an earlier call in the same page request
// are not seen by a later one unless the caller passes them with withCookies.
func (p *Plugin) api(r *http.Request, method, path string, body any) apiResult {
	return p.apiWith(r, r.Header.Get("Cookie"), method, path, body)
}

// apiWith is api with an explicit Cookie header (use withCookies to add the cookies an
// earlier call set).
func (p *Plugin) apiWith(r *http.Request, cookie, method, path string, body any) apiResult {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apiResult{Status: http.StatusInternalServerError, Code: "INTERNAL_SERVER_ERROR"}
		}
		rd = bytes.NewReader(b)
	}
	base := p.engine.BaseURL()
	req, err := http.NewRequestWithContext(r.Context(), method, base.Scheme+"://"+base.Host+p.basePath+path, rd)
	if err != nil {
		return apiResult{Status: http.StatusBadRequest, Code: "BAD_REQUEST"}
	}
	req.RemoteAddr = r.RemoteAddr
	req.TLS = r.TLS
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", base.Scheme+"://"+base.Host)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		req.Header.Set("Accept-Language", al)
	}
	rec := &recorder{header: http.Header{}}
	p.engine.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	res := apiResult{Status: rec.status, Header: rec.header, SetCookies: rec.header.Values("Set-Cookie")}
	if rec.body.Len() > 0 {
		json.Unmarshal(rec.body.Bytes(), &res.Body)
	}
	if !res.OK() {
		res.Code, res.Message = res.String("code"), res.String("message")
		if res.Code == "" {
			switch rec.status {
			case http.StatusNotFound:
				res.Code = "NOT_FOUND"
			case http.StatusTooManyRequests:
				res.Code = "TOO_MANY_REQUESTS"
			default:
				res.Code = "INTERNAL_SERVER_ERROR"
			}
		}
	}
	return res
}

// withCookies returns the browser's Cookie header updated with the cookies a previous API
// answer set (deleted ones removed), for a following apiWith call in the same request.
func withCookies(cookie string, res apiResult) string {
	jar := map[string]string{}
	var order []string
	for _, c := range (&http.Request{Header: http.Header{"Cookie": {cookie}}}).Cookies() {
		if _, ok := jar[c.Name]; !ok {
			order = append(order, c.Name)
		}
		jar[c.Name] = c.Value
	}
	for _, line := range res.SetCookies {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if _, ok := jar[c.Name]; !ok {
			order = append(order, c.Name)
		}
		if c.MaxAge < 0 { // Max-Age=0 parses as -1: a deletion

			delete(jar, c.Name)
			continue
		}
		jar[c.Name] = c.Value
	}
	var b strings.Builder
	for _, n := range order {
		v, ok := jar[n]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(n + "=" + v)
	}
	return b.String()
}

// recorder is a minimal in-memory http.ResponseWriter for in-process API calls.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
