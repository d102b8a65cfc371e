package authcore_test

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParamSchema(t *testing.T) {
	for _, tc := range []struct {
		p    authcore.Param
		want string
	}{
		{authcore.String("a"), `{"maxLength":8192,"type":"string"}`},
		{authcore.String("a").Req().Len(1, 20).IsEmail().Doc("who"), `{"description":"who","format":"email","maxLength":20,"minLength":1,"type":"string"}`},
		{authcore.String("a").Null(), `{"maxLength":8192,"type":["string","null"]}`},
		{authcore.Bool("a"), `{"type":"boolean"}`},
		{authcore.Number("a").Null(), `{"type":["number","null"]}`},
		{authcore.Object("a"), `{"type":"object"}`},
		{authcore.Array("a"), `{"type":"array"}`},
		{authcore.StringOrArray("a"), `{"anyOf":[{"type":"string"},{"items":{"type":"string"},"type":"array"}]}`},
		{authcore.Any("a"), `{}`},
		{authcore.Any("a").Null(), `{}`},
	} {
		if got := jsonOf(t, authcore.ParamSchema(tc.p)); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.p, got, tc.want)
		}
	}
}

func TestResponseVocabulary(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{authcore.ModelRef("twoFactor"), `{"$ref":"#/components/schemas/TwoFactor"}`},
		{authcore.ArrayOf("string"), `{"items":{"type":"string"},"type":"array"}`},
		{authcore.ObjectOf(map[string]any{"b": "boolean", "d": "date-time", "x": "any"}, "d", "b"),
			`{"properties":{"b":{"type":"boolean"},"d":{"format":"date-time","type":"string"},"x":{}},"required":["b","d"],"type":"object"}`},
		{authcore.Nullable(authcore.ModelRef("user")), `{"anyOf":[{"$ref":"#/components/schemas/User"},{"type":"null"}]}`},
		{authcore.Nullable("string"), `{"type":["string","null"]}`},
		{authcore.Extend(authcore.ModelRef("session"), map[string]any{"n": "integer"}, "n"),
			`{"allOf":[{"$ref":"#/components/schemas/Session"},{"properties":{"n":{"type":"integer"}},"required":["n"],"type":"object"}]}`},
	} {
		if got := jsonOf(t, tc.v); got != tc.want {
			t.Errorf("%s, want %s", got, tc.want)
		}
	}
	// Declarations are read through ResponseDoc.
	ep := &authcore.Endpoint{Method: "GET", Path: "/x"}
	if d := ep.ResponseDoc(); d.Declared || d.JSON == nil || d.MediaType != "" || d.Redirect || d.Status != 200 {
		t.Errorf("undeclared: %+v", d)
	}
	ep.Response = authcore.HTMLPage()
	if d := ep.ResponseDoc(); d.MediaType != "text/html" || d.JSON != nil || d.Status != 200 {
		t.Errorf("html: %+v", d)
	}
	ep.Response = authcore.Document("application/samlmetadata+xml")
	if d := ep.ResponseDoc(); d.MediaType != "application/samlmetadata+xml" || d.JSON != nil || !d.Declared {
		t.Errorf("document: %+v", d)
	}
	ep.Response = authcore.Created(authcore.ObjectOf(map[string]any{"token": "string"}, "token"))
	if d := ep.ResponseDoc(); d.Status != 201 || d.JSON == nil || !d.Declared {
		t.Errorf("created: %+v", d)
	}
	ep.Response = authcore.NoContent()
	if d := ep.ResponseDoc(); d.Status != 204 || d.JSON != nil || d.MediaType != "" || !d.Declared {
		t.Errorf("no content: %+v", d)
	}
	ep.Response = authcore.RedirectOnly()
	if d := ep.ResponseDoc(); !d.Redirect || d.JSON != nil {
		t.Errorf("redirect only: %+v", d)
	}
	ep.Response = authcore.RedirectOr(authcore.ObjectOf(map[string]any{"status": "boolean"}))
	if d := ep.ResponseDoc(); !d.Redirect || d.JSON == nil || !d.Declared {
		t.Errorf("redirect or json: %+v", d)
	}
}

func TestModelSchemaIsThePublicJSON(t *testing.T) {
	m := &storage.Model{Name: "thing", Fields: []storage.Field{
		{Name: "name", Type: storage.TypeString, Required: true},
		{Name: "secret", Type: storage.TypeString, Hidden: true},
		{Name: "at", Type: storage.TypeDate},
		{Name: "n", Type: storage.TypeNumber, Required: true, ServerOnly: true},
		{Name: "tags", Type: storage.TypeStringList},
		{Name: "data", Type: storage.TypeJSON},
	}}
	want := `{"properties":{"at":{"format":"date-time","type":["string","null"]},"data":{"anyOf":[{},{"type":"null"}]},"id":{"type":"string"},"n":{"type":"number"},"name":{"type":"string"},"tags":{"items":{"type":"string"},"type":["array","null"]}},"required":["id","n","name"],"type":"object"}`
	if got := jsonOf(t, authcore.ModelSchema(m)); got != want {
		t.Errorf("%s\nwant %s", got, want)
	}
}

func TestBodyAndQuerySchemas(t *testing.T) {
	h := authcoretest.New(t)
	var signUp, getSession, reset *authcore.Endpoint
	for _, ep := range h.Engine.Endpoints() {
		switch ep.Path {
		case authcore.PathSignUpEmail:
			signUp = ep
		case authcore.PathGetSession:
			getSession = ep
		case authcore.PathResetPasswordCallback:
			reset = ep
		}
	}
	b := signUp.BodySchemaWith(h.Engine.Schema())
	props := b["properties"].(map[string]any)
	if jsonOf(t, b["required"]) != `["email","name","password"]` || props["emailVerified"] != nil || props["role"] != nil || props["id"] != nil {
		t.Errorf("sign-up body %s", jsonOf(t, b))
	}
	if getSession.BodySchema() != nil || getSession.QuerySchema() == nil {
		t.Error("get-session: no body, two query parameters")
	}
	if reset.TemplatePath() != "/reset-password/{token}" || jsonOf(t, reset.PathParams()) != `["token"]` {
		t.Errorf("%s %v", reset.TemplatePath(), reset.PathParams())
	}
	// Every core endpoint declares its response.
	ids := authcore.OperationIDs(h.Engine.Endpoints())
	seen := map[string]bool{}
	for _, ep := range h.Engine.Endpoints() {
		if !ep.ResponseDoc().Declared {
			t.Errorf("%s %s declares no response", ep.Method, ep.Path)
		}
		if seen[ids[ep]] || ids[ep] == "" {
			t.Errorf("operation id %q of %s not unique", ids[ep], ep.Path)
		}
		seen[ids[ep]] = true
	}
	if ids[signUp] != "signUpEmail" || ids[reset] != "resetPasswordToken" {
		t.Errorf("ids %q %q", ids[signUp], ids[reset])
	}
}

func TestOperationIDsDisambiguate(t *testing.T) {
	a := &authcore.Endpoint{Method: "GET", Path: "/passkey/x"}
	b := &authcore.Endpoint{Method: "POST", Path: "/passkey/x"}
	c := &authcore.Endpoint{Method: "GET", Path: "/passkey/y"}
	d := &authcore.Endpoint{Method: "GET", Path: "/passkey-y"}
	ids := authcore.OperationIDs([]*authcore.Endpoint{a, b, c, d})
	if ids[a] != "getPasskeyX" || ids[b] != "postPasskeyX" || ids[c] != "passkeyY" || ids[d] != "passkeyY2" {
		t.Errorf("%v", []string{ids[a], ids[b], ids[c], ids[d]})
	}
}
