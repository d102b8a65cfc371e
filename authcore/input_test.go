package authcore_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Hostile input on every endpoint (INP-01, INP-02, CSRF-02): bad bodies get a clear 4xx
// envelope, never a 500 or a panic, and nothing is stored.

const inpPassword = "correct horse battery"

// inpRowCounts counts the rows of every core model.
func inpRowCounts(t *testing.T, h *authcoretest.Harness) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range []string{authcore.ModelUser, authcore.ModelSession, authcore.ModelAccount, authcore.ModelVerification} {
		n, err := h.Engine.Store().Count(t.Context(), m, storage.Where{})
		if err != nil {
			t.Fatalf("counting %s: %v", m, err)
		}
		out[m] = n
	}
	return out
}

// inpSameRows fails when the row counts changed since before.
func inpSameRows(t *testing.T, h *authcoretest.Harness, before map[string]int) {
	t.Helper()
	if after := inpRowCounts(t, h); !inpMapsEqual(before, after) {
		t.Errorf("stored rows changed: before %v, after %v", before, after)
	}
}

func inpMapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// inpPostEndpoints lists every registered POST endpoint with a concrete path (":param"
// segments filled in), sorted by path.
func inpPostEndpoints(h *authcoretest.Harness) []*authcore.Endpoint {
	var out []*authcore.Endpoint
	for _, ep := range h.Engine.Endpoints() {
		if ep.Method == http.MethodPost {
			out = append(out, ep)
		}
	}
	slices.SortFunc(out, func(a, b *authcore.Endpoint) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func inpConcretePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "param" + s[1:]
		}
	}
	return strings.Join(segs, "/")
}

// wantEnvelope checks status, the JSON content type and the {"message","code"} envelope. An
// empty code or message is not compared (but a message must exist).
func wantEnvelope(t *testing.T, label string, r *authcoretest.Response, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Errorf("%s: status %d, want %d (body %.300s)", label, r.StatusCode, status, r.Body)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", label, ct)
	}
	obj := r.Object()
	if obj == nil {
		t.Errorf("%s: body is not a JSON object: %.300s", label, r.Body)
		return
	}
	if m, ok := obj["message"].(string); !ok || m == "" {
		t.Errorf("%s: envelope without message: %s", label, r.Body)
	}
	if code != "" && obj["code"] != code {
		t.Errorf("%s: code %v, want %s (body %.300s)", label, obj["code"], code, r.Body)
	}
	if message != "" && obj["message"] != message {
		t.Errorf("%s: message %q, want %q", label, obj["message"], message)
	}
}

// sendRaw sends body (any reader: a non-bytes reader goes out chunked) with the given
// content type ("" sends none), the client's cookies and trusted Origin.
func sendRaw(t *testing.T, h *authcoretest.Harness, c *authcoretest.Client, method, path, ct string, body io.Reader) *authcoretest.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.URL(path), body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Origin", authcoretest.BaseURL)
	if c != nil {
		u, _ := url.Parse(h.Server.URL)
		for _, ck := range c.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &authcoretest.Response{Response: resp, Body: b}
}

// onlyReader hides the concrete type of a reader so net/http cannot learn its length and
// sends the body chunked.
type onlyReader struct{ io.Reader }

func TestHostileBodiesOnEveryPostEndpoint(t *testing.T) {
	t.Parallel() // its own harness; the heaviest tests in the package
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)

	deep := func(n int, open, mid, close string) string {
		return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
	}
	const invalidJSON = "Invalid JSON in request body"
	type bodyCase struct {
		name    string
		body    string
		ct      string // "" = application/json
		status  int
		code    string
		message string
	}
	jsonCases := []bodyCase{
		{name: "truncated", body: `{"email":"a@example.com","password":`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "missing colon", body: `{"email" "a"}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "missing comma", body: `{"email":"a" "password":"b"}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "trailing comma", body: `{"email":"a",}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "single quotes", body: `{'email':'a'}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "NaN", body: `{"email":NaN}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "bad escape", body: `{"email":"\x"}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "raw control character", body: "{\"email\":\"a\x01\"}", status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "byte order mark", body: "\xef\xbb\xbf{}", status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "whitespace only", body: "  \n ", status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "duplicate key", body: `{"email":"a@example.com","email":"b@example.com"}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "duplicate key via escape", body: `{"email":"a@example.com","\u0065mail":"b@example.com"}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "duplicate nested key", body: `{"x":{"k":1,"k":2}}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "nested 20000 objects", body: deep(20000, `{"a":`, "1", "}"), status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "nested 20000 arrays", body: `{"a":` + deep(20000, "[", "", "]") + "}", status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "nested 40", body: deep(40, `{"a":`, "1", "}"), status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "trailing object", body: `{"email":"a"} {"x":1}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "trailing garbage", body: `{"email":"a"}x`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "trailing brace", body: `{"email":"a"}}`, status: 400, code: "BAD_REQUEST", message: invalidJSON},
		{name: "array", body: `[{"email":"a@example.com"}]`, status: 400, code: "BODY_MUST_BE_AN_OBJECT", message: "Body must be an object"},
		{name: "empty array", body: `[]`, status: 400, code: "BODY_MUST_BE_AN_OBJECT"},
		{name: "number", body: `1`, status: 400, code: "BODY_MUST_BE_AN_OBJECT"},
		{name: "huge number", body: `1e999`, status: 400, code: "BODY_MUST_BE_AN_OBJECT"},
		{name: "string", body: `"hello"`, status: 400, code: "BODY_MUST_BE_AN_OBJECT"},
		{name: "boolean", body: `true`, status: 400, code: "BODY_MUST_BE_AN_OBJECT"},
		{name: "text/plain", body: `{"email":"a"}`, ct: "text/plain", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "text/plain with charset", body: `{"email":"a"}`, ct: "text/plain;charset=UTF-8", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "multipart", body: "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na\r\n--x--\r\n", ct: "multipart/form-data; boundary=x", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "json look-alike", body: `{}`, ct: "application/json-patch+json", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
	}

	for _, ep := range inpPostEndpoints(h) {
		path := inpConcretePath(ep.Path)
		allowed := "application/json"
		if ep.AllowForm {
			allowed += ", application/x-www-form-urlencoded"
		}
		t.Run(ep.Path, func(t *testing.T) {
			check := func(label string, r *authcoretest.Response, status int, code, message string, before map[string]int) {
				t.Helper()
				if r.StatusCode >= 500 {
					t.Errorf("%s: %d %s — bad input must never be a 5xx", label, r.StatusCode, r.Body)
				}
				wantEnvelope(t, label, r, status, code, message)
				if _, set := r.SetCookie(sessionCookie); set {
					t.Errorf("%s: a refused request set the session cookie", label)
				}
				inpSameRows(t, h, before)
			}
			for _, bc := range jsonCases {
				before := inpRowCounts(t, h)
				ct := bc.ct
				if ct == "" {
					ct = "application/json"
				}
				msg := bc.message
				if bc.status == 415 {
					mt, _, _ := strings.Cut(ct, ";")
					msg = `Content-Type "` + mt + `" is not allowed. Allowed types: ` + allowed
				}
				r := c.Post(path, bc.body, "Content-Type", ct)
				check(bc.name, r, bc.status, bc.code, msg, before)
			}

			before := inpRowCounts(t, h)
			form := "email=alice%40example.com&password=x"
			r := c.Post(path, form, "Content-Type", "application/x-www-form-urlencoded")
			if ep.AllowForm {
				if r.StatusCode == http.StatusUnsupportedMediaType || r.StatusCode >= 500 {
					t.Errorf("urlencoded on a form endpoint: %d %s", r.StatusCode, r.Body)
				}
			} else {
				check("urlencoded", r, 415, "UNSUPPORTED_MEDIA_TYPE",
					`Content-Type "application/x-www-form-urlencoded" is not allowed. Allowed types: application/json`, before)
			}

			before = inpRowCounts(t, h)
			r = c.Post(path, `{"email":"a"}`, "Content-Type", "")
			check("no content type", r, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type is required. Allowed types: "+allowed, before)

			big := `{"email":"` + strings.Repeat("a", 1<<20) + `"}`
			before = inpRowCounts(t, h)
			r = sendRaw(t, h, c, http.MethodPost, path, "application/json", strings.NewReader(big))
			check("1 MiB body", r, 413, "PAYLOAD_TOO_LARGE", "", before)

			before = inpRowCounts(t, h)
			r = sendRaw(t, h, c, http.MethodPost, path, "application/json", onlyReader{strings.NewReader(big)})
			if r.Request.ContentLength != 0 {
				t.Errorf("the oversized body went out with a length (%d), not chunked", r.Request.ContentLength)
			}
			check("1 MiB chunked body", r, 413, "PAYLOAD_TOO_LARGE", "", before)
		})
	}
	// The signed-in client is untouched by all of it.
	if _, obj := getSession(t, c, ""); obj == nil {
		t.Fatal("hostile requests ended the session")
	}
}

// inpPlausible returns a value that passes a parameter's declaration.
func inpPlausible(p authcore.Param) any {
	switch p.Kind {
	case authcore.KindString, authcore.KindStringOrArray, authcore.KindAny:
		switch {
		case p.Email:
			return "someone@example.com"
		case strings.Contains(strings.ToLower(p.Name), "url") || p.Name == "redirectTo":
			return "/"
		}
		return strings.Repeat("x", max(p.MinLen, 1))
	case authcore.KindBoolean:
		return false
	case authcore.KindNumber:
		return 1
	case authcore.KindObject:
		return map[string]any{}
	case authcore.KindArray:
		return []any{}
	}
	return nil
}

// inpRedirectParams are the body fields checked as redirect targets, with their codes.
var inpRedirectParams = map[string]string{
	"callbackURL": "INVALID_CALLBACK_URL", "redirectTo": "INVALID_REDIRECT_URL",
	"errorCallbackURL": "INVALID_ERROR_CALLBACK_URL", "newUserCallbackURL": "INVALID_NEW_USER_CALLBACK_URL",
}

func TestHostileStringsInEveryDeclaredField(t *testing.T) {
	t.Parallel() // its own harness; the heaviest tests in the package
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	hostile := map[string]struct {
		value string
		want  string // part of the validation message
	}{
		"NUL":          {"before\x00after", "NUL"},
		"NUL only":     {"\x00", ""},
		"100 kB":       {strings.Repeat("a", 100_000), "Too big"},
		"100 kB + NUL": {strings.Repeat("a", 100_000) + "\x00", ""},
	}
	fields := 0
	for _, ep := range inpPostEndpoints(h) {
		for _, p := range ep.Body {
			if p.Kind != authcore.KindString && p.Kind != authcore.KindStringOrArray {
				continue
			}
			fields++
			for name, hv := range hostile {
				t.Run(ep.Path+"/"+p.Name+"/"+name, func(t *testing.T) {
					body := map[string]any{}
					for _, q := range ep.Body {
						body[q.Name] = inpPlausible(q)
					}
					body[p.Name] = hv.value
					before := inpRowCounts(t, h)
					r := c.Post(inpConcretePath(ep.Path), body)
					if r.StatusCode < 400 || r.StatusCode >= 500 {
						t.Fatalf("%d %.200s, want a 4xx", r.StatusCode, r.Body)
					}
					if code, ok := inpRedirectParams[p.Name]; ok {
						// Redirect parameters are judged against the trusted origins
						// before validation (spec §4.4 step 3).
						wantEnvelope(t, "hostile "+p.Name, r, 403, code, "")
					} else {
						wantEnvelope(t, "hostile "+p.Name, r, 400, "VALIDATION_ERROR", "")
						msg, _ := r.Object()["message"].(string)
						if !strings.Contains(msg, "[body."+p.Name+"]") || !strings.Contains(msg, hv.want) {
							t.Errorf("message %q does not blame body.%s (%s)", msg, p.Name, hv.want)
						}
					}
					if len(r.Body) > 2000 {
						t.Errorf("the error echoes the hostile value (%d bytes)", len(r.Body))
					}
					inpSameRows(t, h, before)
				})
			}
		}
	}
	if fields < 10 {
		t.Fatalf("only %d declared string fields found: the endpoint walk is broken", fields)
	}
	// The plausible bodies themselves are accepted by validation: the refusals above are
	// about the hostile value, not a missing field.
	r := h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": "someone@example.com", "password": "x", "callbackURL": "/", "rememberMe": false})
	if r.StatusCode != http.StatusUnauthorized || r.Code() != "INVALID_EMAIL_OR_PASSWORD" {
		t.Fatalf("plausible sign-in body: %d %s", r.StatusCode, r.Body)
	}
}

func TestFormBodies(t *testing.T) {
	h := authcoretest.New(t)
	c := h.Client()
	r := c.Post(authcore.PathSignUpEmail, "name=Alice&email=alice%40example.com&password=correct+horse+battery&rememberMe=false",
		"Content-Type", "application/x-www-form-urlencoded")
	if r.StatusCode != 200 {
		t.Fatalf("urlencoded sign-up: %d %s", r.StatusCode, r.Body)
	}
	if line, _ := r.SetCookie(sessionCookie); strings.Contains(line, "Max-Age") {
		t.Fatalf("rememberMe=false in a form was not coerced to a boolean: %s", line)
	}
	before := inpRowCounts(t, h)
	// A repeated form key is an array, never "last one wins".
	r = h.Client().Post(authcore.PathSignInEmail, "email=alice%40example.com&email=mallory%40example.com&password=correct+horse+battery",
		"Content-Type", "application/x-www-form-urlencoded")
	wantEnvelope(t, "repeated form key", r, 400, "VALIDATION_ERROR", "")
	r = h.Client().Post(authcore.PathSignInEmail, "email=%zz", "Content-Type", "application/x-www-form-urlencoded")
	if r.StatusCode != 400 {
		t.Fatalf("malformed form: %d %s", r.StatusCode, r.Body)
	}
	inpSameRows(t, h, before)
}

func TestEmptyAndAbsentBodies(t *testing.T) {
	h := authcoretest.New(t)
	before := inpRowCounts(t, h)
	// No body at all where fields are required: 400 VALIDATION_ERROR, not 415.
	r := sendRaw(t, h, nil, http.MethodPost, authcore.PathSignInEmail, "", nil)
	wantEnvelope(t, "bodiless sign-in", r, 400, "VALIDATION_ERROR", "")
	r = sendRaw(t, h, nil, http.MethodPost, authcore.PathSignUpEmail, "application/json", strings.NewReader(""))
	wantEnvelope(t, "empty JSON sign-up", r, 400, "VALIDATION_ERROR", "")
	inpSameRows(t, h, before)
	// GET never parses a body, whatever its type.
	req, _ := http.NewRequest(http.MethodGet, h.URL(authcore.PathOK), strings.NewReader("{{{{"))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET with a body: %v %v", err, resp)
	}
	resp.Body.Close()
}

// INP-02: server-controlled fields cannot be set on sign-up or update-user.

func inpStoredUser(t *testing.T, h *authcoretest.Harness, email string) storage.Record {
	t.Helper()
	u, err := h.Engine.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestServerControlledFieldsOnSignUp(t *testing.T) {
	h := authcoretest.New(t)
	base := func(email string, extra map[string]any) map[string]any {
		b := map[string]any{"name": "Mallory", "email": email, "password": inpPassword}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	refused := []struct {
		field string
		value any
	}{
		{"emailVerified", true},
		{"emailVerified", "false"}, // a non-empty string is truthy
		{"role", "admin"},
		{"role", []any{"admin"}},
	}
	for i, rc := range refused {
		email := "refused" + string(rune('a'+i)) + "@example.com"
		before := inpRowCounts(t, h)
		r := h.Client().Post(authcore.PathSignUpEmail, base(email, map[string]any{rc.field: rc.value}))
		wantEnvelope(t, rc.field, r, 400, "FIELD_NOT_ALLOWED", rc.field+" is not allowed to be set")
		if _, set := r.SetCookie(sessionCookie); set {
			t.Errorf("%s: refused sign-up set a cookie", rc.field)
		}
		inpSameRows(t, h, before)
	}

	chosenTime := "2001-02-03T04:05:06.000Z"
	ignored := map[string]any{
		"id": "chosen-id-0123456789abcdef012345", "createdAt": chosenTime, "updatedAt": chosenTime,
		"rOlE": "admin", "Role": "admin", "ROLE": "admin", "EMAILVERIFIED": true, "emailverified": true,
		"EmailVerified": true, "banned": false, "twoFactorEnabled": false,
		"emailVerified": false, "role": "", // falsy values of server-only fields are dropped
	}
	r := h.Client().Post(authcore.PathSignUpEmail, base("mallory@example.com", ignored))
	if r.StatusCode != 200 {
		t.Fatalf("sign-up with ignored fields: %d %s", r.StatusCode, r.Body)
	}
	u := inpStoredUser(t, h, "mallory@example.com")
	if u == nil {
		t.Fatal("user not stored")
	}
	if u.ID() == ignored["id"] || len(u.ID()) != 32 {
		t.Errorf("client chose the id: %q", u.ID())
	}
	if !u.Time("createdAt").Equal(h.Clock.Now()) || !u.Time("updatedAt").Equal(h.Clock.Now()) {
		t.Errorf("client chose timestamps: %v %v", u.Time("createdAt"), u.Time("updatedAt"))
	}
	if u.String("role") != "user" || u.Bool("emailVerified") {
		t.Errorf("case variants set privileged fields: role %q emailVerified %v", u.String("role"), u.Bool("emailVerified"))
	}
	for k := range u {
		if k != strings.TrimSpace(k) || strings.EqualFold(k, "role") && k != "role" || strings.EqualFold(k, "emailVerified") && k != "emailVerified" || k == "banned" || k == "twoFactorEnabled" {
			t.Errorf("unknown key %q stored on the user", k)
		}
	}
	user := r.Object()["user"].(map[string]any)
	if user["id"] != u.ID() || user["emailVerified"] != false {
		t.Errorf("response user %v", user)
	}
}

func TestServerControlledFieldsOnUpdateUser(t *testing.T) {
	h := authcoretest.New(t)
	c, body := h.SignUp("Alice", "alice@example.com", inpPassword)
	id := body["user"].(map[string]any)["id"].(string)
	orig := inpStoredUser(t, h, "alice@example.com")

	for _, rc := range []map[string]any{
		{"name": "Mallory", "role": "admin"},
		{"name": "Mallory", "emailVerified": true},
		{"role": "admin,user"},
	} {
		r := c.Post(authcore.PathUpdateUser, rc)
		wantEnvelope(t, "update-user", r, 400, "FIELD_NOT_ALLOWED", "")
	}
	u := inpStoredUser(t, h, "alice@example.com")
	if u.String("name") != "Alice" || u.String("role") != "user" || u.Bool("emailVerified") {
		t.Fatalf("refused updates changed the user: %v", u)
	}

	h.Clock.Advance(time.Minute)
	r := c.Post(authcore.PathUpdateUser, map[string]any{
		"name": "Alice B", "id": "chosen-id-0123456789abcdef012345", "createdAt": "2001-02-03T04:05:06.000Z",
		"rOlE": "admin", "EMAILVERIFIED": true, "Name": "Mallory",
	})
	if r.StatusCode != 200 {
		t.Fatalf("update-user with ignored fields: %d %s", r.StatusCode, r.Body)
	}
	u = inpStoredUser(t, h, "alice@example.com")
	if u.ID() != id || u.String("name") != "Alice B" || u.String("role") != "user" || u.Bool("emailVerified") {
		t.Fatalf("stored user after update: %v", u)
	}
	if !u.Time("createdAt").Equal(orig.Time("createdAt")) || !u.Time("updatedAt").Equal(h.Clock.Now()) {
		t.Fatalf("timestamps: createdAt %v (was %v), updatedAt %v", u.Time("createdAt"), orig.Time("createdAt"), u.Time("updatedAt"))
	}

	// Only ignored keys: nothing to update (Better Auth's code-less message).
	r = c.Post(authcore.PathUpdateUser, map[string]any{"rOlE": "admin", "EMAILVERIFIED": true})
	if r.StatusCode != 400 || r.Object()["message"] != "No fields to update" {
		t.Fatalf("ignored-only update: %d %s", r.StatusCode, r.Body)
	}
	if raw, _ := json.Marshal(inpStoredUser(t, h, "alice@example.com")); strings.Contains(string(raw), "admin") {
		t.Fatalf("admin leaked into the user: %s", raw)
	}
}

func TestHostileQueryStrings(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	n := 0
	for _, ep := range h.Engine.Endpoints() {
		if ep.Method != http.MethodGet {
			continue
		}
		for _, p := range ep.Query {
			if p.Kind != authcore.KindString {
				continue
			}
			n++
			for name, v := range map[string]string{
				"NUL":          "%00",
				"100 kB":       strings.Repeat("a", 100_000),
				"repeated key": "a&" + p.Name + "=b",
			} {
				t.Run(ep.Path+"/"+p.Name+"/"+name, func(t *testing.T) {
					q := url.Values{}
					for _, o := range ep.Query {
						if s, ok := inpPlausible(o).(string); ok {
							q.Set(o.Name, s)
						}
					}
					q.Del(p.Name)
					target := inpConcretePath(ep.Path) + "?" + q.Encode() + "&" + p.Name + "=" + v
					before := inpRowCounts(t, h)
					r := c.Get(target)
					if r.StatusCode < 400 || r.StatusCode >= 500 {
						t.Fatalf("%d %.200s, want a 4xx", r.StatusCode, r.Body)
					}
					if r.Object() == nil {
						t.Fatalf("no JSON envelope: %.200s", r.Body)
					}
					inpSameRows(t, h, before)
				})
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d declared query strings found", n)
	}
}
