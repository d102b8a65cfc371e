package openapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/openapi"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func TestEmbeddedReferencePage(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&openapi.Plugin{}))
	r := h.Client().Get("/reference")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("reference: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	page := string(r.Body)
	csp := r.Header.Get("Content-Security-Policy")
	// Self-contained: no external script, style or URL of any kind.
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "<script src") {
		t.Errorf("embedded page references the network:\n%s", page)
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// The inline script and style are the ones the CSP's hashes allow (a browser would
	// otherwise refuse to run the viewer).
	script := regexp.MustCompile(`(?s)<script>(.*)</script>`).FindStringSubmatch(page)
	style := regexp.MustCompile(`(?s)<style>(.*)</style>`).FindStringSubmatch(page)
	if script == nil || style == nil {
		t.Fatalf("no inline script or style:\n%s", page)
	}
	if !strings.Contains(csp, "script-src "+sha(script[1])) || !strings.Contains(csp, "style-src "+sha(style[1])) {
		t.Errorf("CSP %q does not allow exactly the inline script and style", csp)
	}
	// The viewer fetches the document from this server and renders tags, parameters,
	// responses and error codes without innerHTML (no markup injection from descriptions).
	if !strings.Contains(page, `data-url="/api/auth/open-api/generate-schema"`) {
		t.Error("the viewer does not point at the document")
	}
	for _, want := range []string{"fetch(", "op.parameters", "x-error-codes", "responses", "textContent"} {
		if !strings.Contains(script[1], want) {
			t.Errorf("viewer lacks %q", want)
		}
	}
	if strings.Contains(script[1], "innerHTML") {
		t.Error("viewer uses innerHTML")
	}
	// The page is itself documented as HTML, and the document it fetches is there.
	if r := h.Client().Get(openapi.PathGenerateSchema); r.StatusCode != 200 {
		t.Fatalf("document: %d", r.StatusCode)
	}
}

func TestScriptReferencePage(t *testing.T) {
	const src = "https://cdn.jsdelivr.net/npm/@scalar/api-reference"
	h := authcoretest.New(t, authcoretest.WithPlugins(&openapi.Plugin{Path: "/docs", ReferenceScriptURL: src}))
	if r := h.Client().Get("/reference"); r.StatusCode != http.StatusNotFound {
		t.Errorf("default path still served: %d", r.StatusCode)
	}
	r := h.Client().Get("/docs")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("docs: %d %s", r.StatusCode, r.Body)
	}
	page, csp := string(r.Body), r.Header.Get("Content-Security-Policy")
	if !strings.Contains(page, `<script src="`+src+`">`) || !strings.Contains(page, `data-url="/api/auth/open-api/generate-schema"`) {
		t.Errorf("page:\n%s", page)
	}
	if !strings.Contains(csp, "script-src https://cdn.jsdelivr.net;") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// Exactly that origin: no other host, no wildcard, no inline scripts.
	for _, host := range regexp.MustCompile(`https?://[^ ;]+`).FindAllString(csp, -1) {
		if host != "https://cdn.jsdelivr.net" {
			t.Errorf("CSP allows %s", host)
		}
	}
	if strings.Contains(csp, "*") || strings.Contains(strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe") {
		t.Errorf("CSP too wide: %q", csp)
	}
}

func TestDisableDefaultReference(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&openapi.Plugin{DisableDefaultReference: true}))
	if r := h.Client().Get("/reference"); r.StatusCode != http.StatusNotFound {
		t.Errorf("reference: %d", r.StatusCode)
	}
	if r := h.Client().Get(openapi.PathGenerateSchema); r.StatusCode != http.StatusOK {
		t.Errorf("document: %d", r.StatusCode)
	}
}

func TestBadOptionsFailStartUp(t *testing.T) {
	for _, p := range []openapi.Plugin{
		{Path: "docs"},
		{Path: "/docs/:x"},
		{Path: openapi.PathGenerateSchema},
		{ReferenceScriptURL: "http://cdn.example.com/x.js"},
		{ReferenceScriptURL: "//cdn.example.com/x.js"},
		{ReferenceScriptURL: "javascript:alert(1)"},
	} {
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret}, authcore.WithPlugins(&p), authcore.WithStore(memory.NewStore()))
		if err == nil || !strings.Contains(err.Error(), "open-api") {
			t.Errorf("%+v: %v", p, err)
		}
	}
}
