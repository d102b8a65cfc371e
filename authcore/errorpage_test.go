package authcore_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// TestErrorPageClaimed: a plugin that claims the error page (the portal) receives the
// browsers the API's /error would have shown its bare page to, with the code and
// description; without a code nothing is invented; a second claimant fails start-up.
func TestErrorPageClaimed(t *testing.T) {
	page := &probePlugin{id: "pages", reg: func(r *authcore.Registrar) error { return r.ErrorPage("/ui/error") }}
	h := authcoretest.New(t, authcoretest.WithPlugins(page))
	r := h.Client().Get("/error?error=state_mismatch&error_description=a+b")
	want := authcoretest.BaseURL + "/api/auth/ui/error?error=state_mismatch&error_description=a+b"
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != want {
		t.Fatalf("/error: %d %q, want 302 %q", r.StatusCode, r.Header.Get("Location"), want)
	}
	r = h.Client().Get("/error")
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/api/auth/ui/error" {
		t.Fatalf("/error without code: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// An untrusted absolute page is never a redirect target: the bare page answers.
	evil := &probePlugin{id: "evil", reg: func(r *authcore.Registrar) error { return r.ErrorPage("https://evil.example/e") }}
	h = authcoretest.New(t, authcoretest.WithPlugins(evil))
	if r := h.Client().Get("/error?error=x"); r.StatusCode != http.StatusOK {
		t.Fatalf("untrusted error page: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	other := &probePlugin{id: "other", reg: func(r *authcore.Registrar) error { return r.ErrorPage("/elsewhere") }}
	_, err := pluginEngine(t, page, other)
	wantStartError(t, err, "pages", "other", "error page")
}
