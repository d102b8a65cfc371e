package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self' http://localhost:3000; frame-ancestors 'none'; base-uri 'none'"

func TestIndexRedirectsToSignIn(t *testing.T) {
	h := newPortal(t, nil)
	b := newBrowser(h)
	res := b.get("/ui/?callbackURL=/dashboard")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := res.Header.Get("Location"); got != "/api/auth/ui/sign-in?callbackURL=%2Fdashboard" {
		t.Fatalf("Location %q", got)
	}
}

func TestSignInFoundation(t *testing.T) {
	h := newPortal(t, nil)
	h.SignUp("Ann", "ann@example.com", "correct horse battery")
	b := newBrowser(h)
	res := b.get("/ui/sign-in?callbackURL=/app")
	if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != wantCSP {
		t.Fatalf("status %d csp %q\n%s", res.StatusCode, res.Header.Get("Content-Security-Policy"), res.Body)
	}
	res = b.submit("/ui/sign-in?callbackURL=/app", "sign-in", "/ui/sign-in", url.Values{
		"email": {"ann@example.com"}, "password": {"correct horse battery"}, "callbackURL": {"/app"}, "remember": {"on"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "http://localhost:3000/app" {
		t.Fatalf("status %d loc %q body %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if !hasSessionCookie(h, res) {
		t.Fatal("no session cookie")
	}
	res = b.get("/ui/sign-in")
	if !strings.Contains(string(res.Body), `id="submit-sign-out"`) {
		t.Fatalf("signed-in page has no sign-out button:\n%s", res.Body)
	}
}
