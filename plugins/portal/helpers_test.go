package portal_test

import (
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/portal"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// Test helpers shared by every portal test file.

// newPortal starts an engine with the portal (plus extra plugins/options).
func newPortal(t *testing.T, p *portal.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	if p == nil {
		p = &portal.Plugin{}
	}
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	base := []authcoretest.Option{authcoretest.WithPlugins(p), authcoretest.WithEngineOptions(authcore.WithLogger(logger))}
	return authcoretest.New(t, append(base, opts...)...)
}

// testLog sends the engine's warnings and errors (a template failure, say) to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// browser is a cookie-keeping client that behaves like a same-origin browser: it sends
// Sec-Fetch-Site: same-origin and the base URL as Origin on POSTs.
type browser struct {
	t *testing.T
	h *authcoretest.Harness
	c *authcoretest.Client
}

func newBrowser(h *authcoretest.Harness) *browser {
	return &browser{t: h.T.(*testing.T), h: h, c: h.Client()}
}

// get fetches a portal path ("/ui/sign-in?x=y").
func (b *browser) get(path string, hdr ...string) *authcoretest.Response {
	b.t.Helper()
	return b.c.Do(http.MethodGet, path, nil, append([]string{"Origin", ""}, hdr...)...)
}

// post sends a urlencoded form as is (no CSRF token added).
func (b *browser) post(path string, form url.Values, hdr ...string) *authcoretest.Response {
	b.t.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin"}, hdr...)
	return b.c.Do(http.MethodPost, path, form.Encode(), h...)
}

// submit loads page, takes the csrf token of form#formID, and posts form to action with it.
func (b *browser) submit(page, formID, action string, form url.Values, hdr ...string) *authcoretest.Response {
	b.t.Helper()
	res := b.get(page)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", page, res.StatusCode, res.Body)
	}
	tok := csrfOf(b.t, string(res.Body), formID)
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", tok)
	return b.post(action, form, hdr...)
}

var (
	formRe   = regexp.MustCompile(`(?s)<form\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</form>`)
	csrfRe   = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]*)">`)
	alertRe  = regexp.MustCompile(`(?s)<div id="error"[^>]*role="alert"[^>]*>(.*?)</div>`)
	inputRe  = regexp.MustCompile(`<input\b[^>]*>`)
	idRe     = regexp.MustCompile(`\bid="([^"]+)"`)
	typeRe   = regexp.MustCompile(`\btype="([^"]+)"`)
	valueRe  = regexp.MustCompile(`\bvalue="([^"]*)"`)
	labelRe  = regexp.MustCompile(`<label\b[^>]*\bfor="([^"]+)"`)
	scriptRe = regexp.MustCompile(`(?s)<script\b([^>]*)>(.*?)</script>`)
)

// csrfOf returns the csrf token inside form#id.
func csrfOf(t *testing.T, body, id string) string {
	t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		if m[1] == id {
			if c := csrfRe.FindStringSubmatch(m[2]); c != nil {
				return html.UnescapeString(c[1])
			}
			t.Fatalf("form#%s has no csrf field", id)
		}
	}
	t.Fatalf("no form#%s in page:\n%s", id, body)
	return ""
}

// alertText is the text of [role=alert]#error, "" if none.
func alertText(body string) string {
	if m := alertRe.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(strings.TrimSpace(m[1]))
	}
	return ""
}

// inputValue is the value attribute of the input with the given id.
func inputValue(body, id string) (string, bool) {
	for _, in := range inputRe.FindAllString(body, -1) {
		if m := idRe.FindStringSubmatch(in); m != nil && m[1] == id {
			v := valueRe.FindStringSubmatch(in)
			if v == nil {
				return "", true
			}
			return html.UnescapeString(v[1]), true
		}
	}
	return "", false
}

// hasSessionCookie reports whether the response set a (non-empty) session cookie.
func hasSessionCookie(h *authcoretest.Harness, res *authcoretest.Response) bool {
	line, ok := res.SetCookie(h.Engine.CookieName("session_token"))
	return ok && !strings.HasPrefix(line, h.Engine.CookieName("session_token")+"=;")
}

func memStore() storage.Store { return memory.NewStore() }

// hiddenValue is the value of the first hidden input with the given name ("" if none).
func hiddenValue(body, name string) string {
	for _, in := range inputRe.FindAllString(body, -1) {
		if strings.Contains(in, `type="hidden"`) && strings.Contains(in, `name="`+name+`"`) {
			if v := valueRe.FindStringSubmatch(in); v != nil {
				return html.UnescapeString(v[1])
			}
		}
	}
	return ""
}
