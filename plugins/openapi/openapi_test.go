package openapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/admin"
	"github.com/gatehouse-auth/gatehouse/plugins/anonymous"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/plugins/bearer"
	"github.com/gatehouse-auth/gatehouse/plugins/emailotp"
	jwtplugin "github.com/gatehouse-auth/gatehouse/plugins/jwt"
	"github.com/gatehouse-auth/gatehouse/plugins/magiclink"
	"github.com/gatehouse-auth/gatehouse/plugins/multisession"
	"github.com/gatehouse-auth/gatehouse/plugins/openapi"
	"github.com/gatehouse-auth/gatehouse/plugins/openapi/openapitest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/plugins/phonenumber"
	"github.com/gatehouse-auth/gatehouse/plugins/portal"
	"github.com/gatehouse-auth/gatehouse/plugins/sso"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/plugins/username"
)

const password = "correct horse battery staple"

// allPlugins enables every plugin Gatehouse ships, with their defaults.
func allPlugins(oa *openapi.Plugin) []authcore.Plugin {
	return []authcore.Plugin{
		&admin.Plugin{}, &anonymous.Plugin{}, &apikey.Plugin{}, &bearer.Plugin{}, &emailotp.Plugin{},
		&jwtplugin.Plugin{}, &magiclink.Plugin{}, &multisession.Plugin{}, &organization.Plugin{},
		&passkey.Plugin{}, &phonenumber.Plugin{}, &portal.Plugin{}, &sso.Plugin{}, &twofactor.Plugin{}, &username.Plugin{}, oa,
	}
}

func fetchDoc(t *testing.T, h *authcoretest.Harness) (*openapi3.T, map[string]any) {
	t.Helper()
	r := h.Client().Get(openapi.PathGenerateSchema)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("generate-schema: %d %s", r.StatusCode, r.Body)
	}
	return openapitest.Load(t, r.Body), r.Object()
}

func TestDocumentWithEveryPluginIsValidAndComplete(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(allPlugins(&openapi.Plugin{})...))
	doc, raw := fetchDoc(t, h)
	if raw["openapi"] != "3.1.1" {
		t.Errorf("openapi = %v", raw["openapi"])
	}
	if got := doc.Servers[0].URL; got != h.Engine.APIURL("") {
		t.Errorf("server %q, want %q", got, h.Engine.APIURL(""))
	}
	// Every endpoint exactly once, under its owner's tag, with a unique operationId.
	seen := map[string]int{}
	ids := map[string]bool{}
	for _, ep := range h.Engine.Endpoints() {
		item := doc.Paths.Value(ep.TemplatePath())
		if item == nil {
			t.Errorf("%s %s missing", ep.Method, ep.Path)
			continue
		}
		op := item.GetOperation(ep.Method)
		if op == nil {
			t.Errorf("%s %s missing", ep.Method, ep.Path)
			continue
		}
		seen[ep.Method+" "+ep.TemplatePath()]++
		if op.Tags[0] != ep.Owner() {
			t.Errorf("%s %s tagged %v, want %s first", ep.Method, ep.Path, op.Tags, ep.Owner())
		}
		if ids[op.OperationID] {
			t.Errorf("operationId %s twice", op.OperationID)
		}
		ids[op.OperationID] = true
		for _, st := range []int{400, 401, 403, 404, 422, 429} {
			if op.Responses.Status(st) == nil {
				t.Errorf("%s %s documents no %d", ep.Method, ep.Path, st)
			}
		}
	}
	ops := 0
	for _, item := range doc.Paths.Map() {
		ops += len(item.Operations())
	}
	if ops != len(h.Engine.Endpoints()) {
		t.Errorf("%d operations for %d endpoints", ops, len(h.Engine.Endpoints()))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s documented %d times", k, n)
		}
	}
	// Every plugin contributed a tag; storage models are components.
	var tagNames []string
	for _, tg := range doc.Tags {
		tagNames = append(tagNames, tg.Name)
	}
	for _, id := range append(h.Engine.Plugins(), "core") {
		if !slices.Contains(tagNames, id) && id != "portal" && id != "multi-session" && id != "bearer" {
			t.Errorf("no tag %s in %v", id, tagNames)
		}
	}
	for _, m := range h.Engine.Schema().Models() {
		if doc.Components.Schemas[authcore.ModelComponentName(m.Name)] == nil {
			t.Errorf("no component for model %s", m.Name)
		}
	}
	// Hidden fields stay out of the public model.
	acc := doc.Components.Schemas["Account"].Value
	if acc.Properties["password"] != nil || acc.Properties["accessToken"] != nil || acc.Properties["providerId"] == nil {
		t.Errorf("account component properties: %v", keys(acc.Properties))
	}
	// Security schemes: the prefixed session cookie, bearer, the API key header.
	ss := doc.Components.SecuritySchemes
	if c := ss[openapi.SchemeSessionCookie]; c == nil || c.Value.In != "cookie" || c.Value.Name != h.Engine.CookieName(authcore.CookieSessionToken) {
		t.Errorf("cookie scheme %+v", c)
	}
	if b := ss[openapi.SchemeBearer]; b == nil || b.Value.Type != "http" || b.Value.Scheme != "bearer" {
		t.Errorf("bearer scheme %+v", b)
	}
	if k := ss[openapi.SchemeAPIKeyHeader]; k == nil || k.Value.In != "header" || !strings.EqualFold(k.Value.Name, "x-api-key") {
		t.Errorf("api key scheme %+v", k)
	}
	// Declarations carried over: a body with required fields, query parameters, error codes.
	signUp := doc.Paths.Value(authcore.PathSignUpEmail).Post
	body := signUp.RequestBody.Value.Content.Get("application/json").Schema.Value
	if !slices.Contains(body.Required, "email") || body.Properties["username"] == nil {
		t.Errorf("sign-up body: required %v, properties %v", body.Required, keys(body.Properties))
	}
	if signUp.RequestBody.Value.Content.Get("application/x-www-form-urlencoded") == nil {
		t.Error("sign-up accepts forms, not documented")
	}
	if !strings.Contains(signUp.Description, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL") {
		t.Errorf("sign-up description %q", signUp.Description)
	}
	gs := doc.Paths.Value(authcore.PathGetSession).Get
	if len(gs.Parameters) != 2 || gs.Parameters[0].Value.In != "query" {
		t.Errorf("get-session parameters %+v", gs.Parameters)
	}
	if p := doc.Paths.Value("/reset-password/{token}"); p == nil || p.Get.Parameters[0].Value.In != "path" || p.Get.Responses.Status(302) == nil {
		t.Errorf("reset-password callback %+v", p)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// exchange sends a request through the client and returns the request and the response for
// validation.
func exchange(t *testing.T, h *authcoretest.Harness, c *authcoretest.Client, method, path string, body any) (*http.Request, *authcoretest.Response) {
	t.Helper()
	r := c.Do(method, path, body)
	req, _ := http.NewRequest(method, h.URL(path), bytes.NewReader(nil))
	return req, r
}

func TestRealResponsesMatchTheirSchemas(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(allPlugins(&openapi.Plugin{})...))
	doc, _ := fetchDoc(t, h)
	c := h.Client()
	calls := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", authcore.PathGetSession, nil, 200}, // null: no session yet
		{"POST", authcore.PathSignUpEmail, map[string]any{"name": "Ann", "email": "ann@example.com", "password": password, "username": "ann_1"}, 200},
		{"POST", authcore.PathSignOut, map[string]any{}, 200},
		{"POST", authcore.PathSignInEmail, map[string]any{"email": "ann@example.com", "password": "wrong password!"}, 401},
		{"POST", authcore.PathSignInEmail, map[string]any{"email": "ann@example.com", "password": password}, 200},
		{"GET", authcore.PathGetSession, nil, 200},
		{"GET", authcore.PathListSessions, nil, 200},
		{"POST", authcore.PathUpdateUser, map[string]any{"name": "Ann B", "image": nil}, 200},
		{"POST", authcore.PathChangePassword, map[string]any{"currentPassword": password, "newPassword": password + "!", "revokeOtherSessions": true}, 200},
		{"POST", authcore.PathChangePassword, map[string]any{"currentPassword": password + "!", "newPassword": password}, 200},
		{"GET", authcore.PathListAccounts, nil, 200},
		{"POST", authcore.PathRevokeOtherSessions, map[string]any{}, 200},
		{"GET", authcore.PathOK, nil, 200},
		{"POST", "/sign-in/username", map[string]any{"username": "ann_1", "password": password}, 200},
		{"POST", "/is-username-available", map[string]any{"username": "ann_1"}, 200},
		{"GET", "/multi-session/list-device-sessions", nil, 200},
		{"POST", authcore.PathSignUpEmail, map[string]any{"name": "Ann", "email": "ann@example.com", "password": password}, 422},
		{"POST", authcore.PathSignUpEmail, map[string]any{"name": 5}, 400},
		{"GET", "/organization/list", nil, 200},
		{"POST", "/organization/create", map[string]any{"name": "Acme", "slug": "acme", "metadata": map[string]any{"tier": 1}}, 200},
		{"GET", "/organization/list", nil, 200},
		{"GET", "/organization/get-full-organization", nil, 200},
		{"POST", "/api-key/create", map[string]any{"name": "ci"}, 200},
		{"GET", "/api-key/list", nil, 200},
		{"POST", "/sign-in/anonymous", map[string]any{}, 200},
		{"POST", "/sign-in/anonymous", map[string]any{}, 400}, // already anonymous
	}
	for _, k := range calls {
		req, r := exchange(t, h, c, k.method, k.path, k.body)
		if r.StatusCode != k.status {
			t.Fatalf("%s %s: %d %s, want %d", k.method, k.path, r.StatusCode, r.Body, k.status)
		}
		openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
	}
	// A signed-out call to a session endpoint: the 401 envelope.
	req, r := exchange(t, h, h.Client(), "GET", authcore.PathListSessions, nil)
	if r.StatusCode != 401 || r.Code() != "UNAUTHORIZED" {
		t.Fatalf("list-sessions signed out: %d %s", r.StatusCode, r.Body)
	}
	openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
}

// The validation can fail: bodies that differ from the documented shapes are refused.
func TestValidationCatchesMismatches(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&openapi.Plugin{}))
	doc, _ := fetchDoc(t, h)
	hdr := http.Header{"Content-Type": {"application/json"}}
	req := func(m, p string) *http.Request { r, _ := http.NewRequest(m, h.URL(p), nil); return r }
	user := `{"id":"u1","name":"A","email":"a@example.com","emailVerified":false,"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}`
	good := []struct{ m, p, body string }{
		{"POST", authcore.PathSignUpEmail, `{"token":null,"user":` + user + `}`},
		{"GET", authcore.PathGetSession, `null`},
		{"GET", authcore.PathOK, `{"ok":true}`},
	}
	for _, g := range good {
		if err := openapitest.ResponseError(doc, req(g.m, g.p), 200, hdr, []byte(g.body)); err != nil {
			t.Errorf("%s %s %s: %v", g.m, g.p, g.body, err)
		}
	}
	bad := []struct {
		m, p   string
		status int
		body   string
	}{
		{"POST", authcore.PathSignUpEmail, 200, `{"token":"t"}`},                                     // user missing
		{"POST", authcore.PathSignUpEmail, 200, `{"token":1,"user":` + user + `}`},                   // token not a string
		{"POST", authcore.PathSignUpEmail, 200, `{"token":null,"user":{"id":"u1","name":"A"}}`},      // user incomplete
		{"POST", authcore.PathSignInEmail, 200, `{"redirect":"no","token":"t","user":` + user + `}`}, // redirect not a boolean
		{"GET", authcore.PathListSessions, 200, `{"sessions":[]}`},                                   // not an array
		{"GET", authcore.PathOK, 200, `{"ok":"yes"}`},
		{"GET", authcore.PathOK, 201, `{"ok":true}`},                // undocumented status
		{"GET", authcore.PathListSessions, 401, `{"error":"nope"}`}, // not the envelope
		{"GET", "/no-such-route", 200, `{}`},
	}
	for _, b := range bad {
		if err := openapitest.ResponseError(doc, req(b.m, b.p), b.status, hdr, []byte(b.body)); err == nil {
			t.Errorf("%s %s %d %s passed validation", b.m, b.p, b.status, b.body)
		}
	}
	// Dates must be date-time strings.
	badDate := strings.Replace(user, `"2026-01-01T00:00:00.000Z"`, `"yesterday"`, 1)
	if err := openapitest.ResponseError(doc, req("POST", authcore.PathSignUpEmail), 200, hdr, []byte(`{"token":null,"user":`+badDate+`}`)); err == nil {
		t.Error("a non-date createdAt passed validation")
	}
}

func TestDocumentOfCoreOnly(t *testing.T) {
	// The document is built from the engine alone: no plugin needed (the CLI path).
	h := authcoretest.New(t)
	raw, err := openapi.DocumentJSON(h.Engine)
	if err != nil {
		t.Fatal(err)
	}
	doc := openapitest.Load(t, raw)
	if doc.Components.SecuritySchemes[openapi.SchemeBearer] != nil || doc.Components.SecuritySchemes[openapi.SchemeAPIKeyHeader] != nil {
		t.Error("bearer/api-key schemes without their plugins")
	}
	if doc.Paths.Value(openapi.PathGenerateSchema) != nil {
		t.Error("generate-schema documented while the plugin is off")
	}
	var v map[string]any
	json.Unmarshal(raw, &v)
	// One path per route; a route may have several methods (GET and POST /callback/:id).
	paths := map[string]bool{}
	for _, ep := range h.Engine.Endpoints() {
		paths[ep.Path] = true
	}
	if len(doc.Paths.Map()) != len(paths) {
		t.Errorf("%d paths, %d routes", len(doc.Paths.Map()), len(paths))
	}
	if cb := doc.Paths.Find("/callback/{id}"); cb == nil || cb.Get == nil || cb.Post == nil {
		t.Error("GET and POST /callback/{id} not both documented")
	}
}

func TestAdminResponsesMatchTheirSchemas(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(allPlugins(&openapi.Plugin{})...))
	doc, _ := fetchDoc(t, h)
	c, signUp := h.SignUp("Root", "root@example.com", password)
	id := signUp["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.UpdateUser(t.Context(), id, map[string]any{"role": "admin"}); err != nil {
		t.Fatal(err)
	}
	_, other := h.SignUp("Bob", "bob@example.com", password)
	bob := other["user"].(map[string]any)["id"].(string)
	calls := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/admin/list-users", nil, 200},
		{"GET", "/admin/list-users?limit=1&offset=1", nil, 200},
		{"GET", "/admin/get-user?id=" + bob, nil, 200},
		{"POST", "/admin/set-role", map[string]any{"userId": bob, "role": "user"}, 200},
		{"POST", "/admin/create-user", map[string]any{"email": "cy@example.com", "name": "Cy", "password": password}, 200},
		{"POST", "/admin/update-user", map[string]any{"userId": bob, "data": map[string]any{"name": "Bobby"}}, 200},
		{"POST", "/admin/list-user-sessions", map[string]any{"userId": bob}, 200},
		{"POST", "/admin/ban-user", map[string]any{"userId": bob, "banReason": "spam"}, 200},
		{"POST", "/admin/unban-user", map[string]any{"userId": bob}, 200},
		{"POST", "/admin/set-user-password", map[string]any{"userId": bob, "newPassword": password + "?"}, 200},
		{"POST", "/admin/has-permission", map[string]any{"permissions": map[string]any{"user": []string{"list"}}}, 200},
		{"POST", "/admin/revoke-user-sessions", map[string]any{"userId": bob}, 200},
		{"POST", "/admin/remove-user", map[string]any{"userId": bob}, 200},
		{"POST", "/admin/impersonate-user", map[string]any{"userId": "nobody"}, 404},
	}
	for _, k := range calls {
		req, r := exchange(t, h, c, k.method, k.path, k.body)
		if r.StatusCode != k.status {
			t.Fatalf("%s %s: %d %s, want %d", k.method, k.path, r.StatusCode, r.Body, k.status)
		}
		openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
	}
}

func TestOTPResponsesMatchTheirSchemas(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(allPlugins(&openapi.Plugin{})...))
	doc, _ := fetchDoc(t, h)
	c := h.Client()
	step := func(method, path string, body any, status int) {
		t.Helper()
		req, r := exchange(t, h, c, method, path, body)
		if r.StatusCode != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.StatusCode, r.Body, status)
		}
		openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
	}
	last := func(typ, to string) string {
		t.Helper()
		msgs := h.Sent(typ, to)
		if len(msgs) == 0 {
			t.Fatalf("no %s to %s", typ, to)
		}
		return msgs[len(msgs)-1].Data.OTP
	}
	const email = "otp@example.com"
	step("POST", "/email-otp/send-verification-otp", map[string]any{"email": email, "type": "sign-in"}, 200)
	code := last("email-otp", email)
	step("POST", "/email-otp/check-verification-otp", map[string]any{"email": email, "type": "sign-in", "otp": "000000x"}, 400)
	step("POST", "/sign-in/email-otp", map[string]any{"email": email, "otp": code}, 200)
	step("POST", "/email-otp/send-verification-otp", map[string]any{"email": email, "type": "email-verification"}, 200)
	code = last("email-otp", email)
	step("POST", "/email-otp/verify-email", map[string]any{"email": email, "otp": code}, 200)
	step("POST", "/email-otp/request-password-reset", map[string]any{"email": email}, 200)

	const phone = "+15555550100"
	step("POST", "/phone-number/send-otp", map[string]any{"phoneNumber": phone}, 200)
	code = last("phone-otp", phone)
	step("POST", "/phone-number/verify", map[string]any{"phoneNumber": phone, "code": code, "updatePhoneNumber": true}, 200)
	step("POST", "/phone-number/request-password-reset", map[string]any{"phoneNumber": phone}, 200)
	step("POST", "/phone-number/verify", map[string]any{"phoneNumber": phone, "code": "000000"}, 400)
}

// Declarations other plugins wrote as plain JSON-schema maps hold too.
func TestOtherDeclaredResponsesMatch(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(allPlugins(&openapi.Plugin{})...))
	doc, _ := fetchDoc(t, h)
	c, _ := h.SignUp("Pat", "pat@example.com", password)
	for _, k := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/passkey/list-user-passkeys", nil, 200},
		{"GET", "/passkey/generate-register-options", nil, 200},
		{"GET", "/passkey/generate-authenticate-options", nil, 200},
		{"POST", "/two-factor/enable", map[string]any{"password": password}, 200},
		{"POST", "/two-factor/get-totp-uri", map[string]any{"password": password}, 200},
		{"POST", "/two-factor/generate-backup-codes", map[string]any{"password": password}, 400}, // enabled only after verify-totp
		{"POST", "/sign-in/magic-link", map[string]any{"email": "pat@example.com"}, 200},
		{"GET", "/multi-session/list-device-sessions", nil, 200},
		{"GET", "/token", nil, 200},
		{"GET", "/jwks", nil, 200},
	} {
		req, r := exchange(t, h, c, k.method, k.path, k.body)
		if r.StatusCode != k.status {
			t.Errorf("%s %s: %d %s, want %d", k.method, k.path, r.StatusCode, r.Body, k.status)
			continue
		}
		openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
	}
}
