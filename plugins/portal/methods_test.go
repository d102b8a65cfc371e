package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/emailotp"
	"github.com/gatehouse-auth/gatehouse/plugins/magiclink"
	"github.com/gatehouse-auth/gatehouse/plugins/phonenumber"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Tests of the passwordless sign-in pages (routes_methods.go) with the real plugins.

const apiBase = authcoretest.BaseURL + "/api/auth"

// newMethodsPortal runs the portal with magic link, email code and phone code on (magic
// link and email code may not create accounts, so an unknown address gets nothing).
func newMethodsPortal(t *testing.T, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	return newPortal(t, nil, append([]authcoretest.Option{authcoretest.WithPlugins(
		&magiclink.Plugin{DisableSignUp: true},
		&emailotp.Plugin{DisableSignUp: true},
		&phonenumber.Plugin{SignUpOnVerification: true},
	)}, opts...)...)
}

// verifiedUser signs up a user and marks the address verified.
func verifiedUser(t *testing.T, h *authcoretest.Harness, email string) string {
	t.Helper()
	_, body := h.SignUp("Ann", email, "correct horse battery")
	id, _ := body["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.UpdateUser(context.Background(), id, storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}
	return id
}

// apiPath turns an absolute link on the base URL into a path for the harness client.
func apiPath(t *testing.T, link string) string {
	t.Helper()
	p, ok := strings.CutPrefix(link, apiBase)
	if !ok {
		t.Fatalf("link %q is not on %s", link, apiBase)
	}
	return p
}

// sessionUser is the user id of the browser's session ("" when signed out).
func sessionUser(t *testing.T, b *browser) string {
	t.Helper()
	res := b.c.Get("/get-session")
	if u, ok := res.Object()["user"].(map[string]any); ok {
		id, _ := u["id"].(string)
		return id
	}
	return ""
}

func TestMagicLinkPage(t *testing.T) {
	h := newMethodsPortal(t)
	id := verifiedUser(t, h, "ann@example.com")
	b := newBrowser(h)

	page := b.get("/ui/sign-in/magic-link?callbackURL=/app")
	body := string(page.Body)
	if page.StatusCode != http.StatusOK || !strings.Contains(body, `<form id="magic-link"`) || !strings.Contains(body, `id="submit"`) {
		t.Fatalf("page %d:\n%s", page.StatusCode, body)
	}
	if v, ok := inputValue(body, "email"); !ok || v != "" {
		t.Fatalf("#email %q %v", v, ok)
	}
	if !strings.Contains(body, `name="callbackURL" value="/app"`) {
		t.Fatal("callbackURL not carried in the form")
	}

	res := b.submit("/ui/sign-in/magic-link?callbackURL=/app", "magic-link", "/ui/sign-in/magic-link",
		url.Values{"email": {"ann@example.com"}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), `id="sent"`) {
		t.Fatalf("sent page %d:\n%s", res.StatusCode, res.Body)
	}
	known := strings.ReplaceAll(string(res.Body), "ann@example.com", "X")
	msgs := h.Sent("magic-link", "ann@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d magic-link messages", len(msgs))
	}
	link, err := url.Parse(msgs[0].Data.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := link.Query()
	if q.Get("callbackURL") != authcoretest.BaseURL+"/app" || q.Get("errorCallbackURL") != apiBase+"/ui/error" {
		t.Fatalf("link callbacks %v", q)
	}

	// The link, opened in the same browser, signs in and lands on the callback.
	got := b.c.Get(apiPath(t, msgs[0].Data.URL))
	if got.StatusCode != http.StatusFound || got.Header.Get("Location") != authcoretest.BaseURL+"/app" || !hasSessionCookie(h, got) {
		t.Fatalf("verify: %d Location %q cookies %v", got.StatusCode, got.Header.Get("Location"), got.Header.Values("Set-Cookie"))
	}
	if sessionUser(t, b) != id {
		t.Fatal("the link did not sign the user in")
	}
	// A second use fails onto the portal's error page.
	again := newBrowser(h).c.Get(apiPath(t, msgs[0].Data.URL))
	if loc := again.Header.Get("Location"); again.StatusCode != http.StatusFound || loc != apiBase+"/ui/error?error=INVALID_TOKEN" {
		t.Fatalf("reuse: %d %q", again.StatusCode, loc)
	}
	ep := newBrowser(h).get(apiPath(t, again.Header.Get("Location")))
	if ep.StatusCode != http.StatusBadRequest || alertText(string(ep.Body)) != "This link is invalid or has already been used." {
		t.Fatalf("error page %d %q", ep.StatusCode, alertText(string(ep.Body)))
	}

	// An unknown address gets the same page and no message.
	b2 := newBrowser(h)
	res = b2.submit("/ui/sign-in/magic-link?callbackURL=/app", "magic-link", "/ui/sign-in/magic-link",
		url.Values{"email": {"nobody@example.com"}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("unknown: %d", res.StatusCode)
	}
	if unknown := strings.ReplaceAll(string(res.Body), "nobody@example.com", "X"); unknown != known {
		t.Fatalf("pages differ:\n%s\n----\n%s", known, unknown)
	}
	if n := len(h.Sent("magic-link", "nobody@example.com")); n != 0 {
		t.Fatalf("%d messages to an unknown address", n)
	}
}

// A two-factor user's magic link lands on the portal's /two-factor page (the two-factor
// plugin's default two_factor_page when the portal is on), without a session.
func TestMagicLinkTwoFactor(t *testing.T) {
	h := newMethodsPortal(t, authcoretest.WithPlugins(&twofactor.Plugin{}))
	id := verifiedUser(t, h, "ann@example.com")
	if _, err := h.Engine.UpdateUser(context.Background(), id, storage.Record{"twoFactorEnabled": true}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(h)
	b.submit("/ui/sign-in/magic-link?callbackURL=/app", "magic-link", "/ui/sign-in/magic-link",
		url.Values{"email": {"ann@example.com"}, "callbackURL": {"/app"}})
	msgs := h.Sent("magic-link", "ann@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	got := b.c.Get(apiPath(t, msgs[0].Data.URL))
	want := apiBase + "/ui/two-factor?callbackURL=" + url.QueryEscape(authcoretest.BaseURL+"/app")
	if got.StatusCode != http.StatusFound || got.Header.Get("Location") != want || hasSessionCookie(h, got) {
		t.Fatalf("%d Location %q (want %q)", got.StatusCode, got.Header.Get("Location"), want)
	}
	if _, ok := got.SetCookie(h.Engine.CookieName(twofactor.CookieTwoFactor)); !ok {
		t.Fatal("no two_factor cookie")
	}
}

// sendEmailCode runs step 1 of the email-code page and returns step 2's page.
func sendEmailCode(t *testing.T, b *browser, email, cb string) *authcoretest.Response {
	t.Helper()
	res := b.submit("/ui/sign-in/email-otp?callbackURL="+url.QueryEscape(cb), "email-otp-send", "/ui/sign-in/email-otp?step=send",
		url.Values{"email": {email}, "callbackURL": {cb}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("send: %d\n%s", res.StatusCode, res.Body)
	}
	return res
}

// postFrom posts form to action with the csrf token of form#formID on page.
func postFrom(b *browser, page *authcoretest.Response, formID, action string, form url.Values) *authcoretest.Response {
	b.t.Helper()
	form.Set("csrf", csrfOf(b.t, string(page.Body), formID))
	return b.post(action, form)
}

func TestEmailOTPPage(t *testing.T) {
	h := newMethodsPortal(t)
	id := verifiedUser(t, h, "ann@example.com")
	b := newBrowser(h)

	page := b.get("/ui/sign-in/email-otp?callbackURL=/app")
	if page.StatusCode != http.StatusOK || !strings.Contains(string(page.Body), `<form id="email-otp-send"`) {
		t.Fatalf("page %d:\n%s", page.StatusCode, page.Body)
	}
	step2 := sendEmailCode(t, b, "ann@example.com", "/app")
	body := string(step2.Body)
	for _, want := range []string{`<form id="email-otp-verify"`, `id="otp" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code"`, `id="resend"`, `name="callbackURL" value="/app"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("step 2 lacks %s:\n%s", want, body)
		}
	}
	if v, _ := inputValue(body, "email"); v != "ann@example.com" {
		t.Fatalf("#email %q", v)
	}
	msgs := h.Sent("email-otp", "ann@example.com")
	if len(msgs) != 1 || msgs[0].Vars["purpose"] != "sign-in" {
		t.Fatalf("messages %+v", msgs)
	}

	// A wrong code: the alert, a 4xx, the form again, no session.
	wrong := "000000"
	if msgs[0].Data.OTP == wrong {
		wrong = "111111"
	}
	res := postFrom(b, step2, "email-otp-verify", "/ui/sign-in/email-otp?step=verify",
		url.Values{"email": {"ann@example.com"}, "otp": {wrong}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusBadRequest || alertText(string(res.Body)) != "The code is incorrect. Check it and try again." || hasSessionCookie(h, res) {
		t.Fatalf("wrong code: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	if !strings.Contains(string(res.Body), `<form id="email-otp-verify"`) {
		t.Fatal("the code form is not shown again")
	}

	// The right code: session and 303 to the callback.
	res = postFrom(b, res, "email-otp-verify", "/ui/sign-in/email-otp?step=verify",
		url.Values{"email": {"ann@example.com"}, "otp": {msgs[0].Data.OTP}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != authcoretest.BaseURL+"/app" || !hasSessionCookie(h, res) {
		t.Fatalf("verify: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if sessionUser(t, b) != id {
		t.Fatal("not signed in")
	}
}

// The resend button sends a new code (rotate: the first one no longer works).
func TestEmailOTPResend(t *testing.T) {
	h := newMethodsPortal(t)
	verifiedUser(t, h, "ann@example.com")
	b := newBrowser(h)
	step2 := sendEmailCode(t, b, "ann@example.com", "/app")
	res := postFrom(b, step2, "email-otp-resend", "/ui/sign-in/email-otp?step=send",
		url.Values{"email": {"ann@example.com"}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), `<form id="email-otp-verify"`) {
		t.Fatalf("resend: %d\n%s", res.StatusCode, res.Body)
	}
	msgs := h.Sent("email-otp", "ann@example.com")
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	res = postFrom(b, res, "email-otp-verify", "/ui/sign-in/email-otp?step=verify",
		url.Values{"email": {"ann@example.com"}, "otp": {msgs[1].Data.OTP}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusSeeOther || !hasSessionCookie(h, res) {
		t.Fatalf("verify with the new code: %d\n%s", res.StatusCode, res.Body)
	}
}

// An unknown address gets the same step 2 and no code.
func TestEmailOTPUnknownAddress(t *testing.T) {
	h := newMethodsPortal(t)
	verifiedUser(t, h, "ann@example.com")
	known := sendEmailCode(t, newBrowser(h), "ann@example.com", "/app")
	unknown := sendEmailCode(t, newBrowser(h), "nobody@example.com", "/app")
	strip := func(r *authcoretest.Response, email string) string {
		s := strings.ReplaceAll(string(r.Body), email, "X")
		return csrfRe.ReplaceAllString(s, "")
	}
	if a, b := strip(known, "ann@example.com"), strip(unknown, "nobody@example.com"); a != b {
		t.Fatalf("pages differ:\n%s\n----\n%s", a, b)
	}
	if n := len(h.Sent("email-otp", "nobody@example.com")); n != 0 {
		t.Fatalf("%d codes to an unknown address", n)
	}
}

func TestPhonePage(t *testing.T) {
	h := newMethodsPortal(t)
	b := newBrowser(h)
	page := b.get("/ui/sign-in/phone?callbackURL=/app")
	body := string(page.Body)
	if page.StatusCode != http.StatusOK || !strings.Contains(body, `<form id="phone-send"`) || !strings.Contains(body, `id="phone" name="phone" type="tel" autocomplete="tel"`) {
		t.Fatalf("page %d:\n%s", page.StatusCode, body)
	}
	const number = "+14155550123"
	step2 := b.submit("/ui/sign-in/phone?callbackURL=/app", "phone-send", "/ui/sign-in/phone?step=send",
		url.Values{"phone": {number}, "callbackURL": {"/app"}})
	if step2.StatusCode != http.StatusOK || !strings.Contains(string(step2.Body), `<form id="phone-verify"`) || !strings.Contains(string(step2.Body), `id="code"`) {
		t.Fatalf("send: %d\n%s", step2.StatusCode, step2.Body)
	}
	msgs := h.Sent("phone-otp", number)
	if len(msgs) != 1 {
		t.Fatalf("%d SMS", len(msgs))
	}
	wrong := "000000"
	if msgs[0].Data.OTP == wrong {
		wrong = "111111"
	}
	res := postFrom(b, step2, "phone-verify", "/ui/sign-in/phone?step=verify", url.Values{"phone": {number}, "code": {wrong}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusBadRequest || alertText(string(res.Body)) != "The code is incorrect. Check it and try again." {
		t.Fatalf("wrong code: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	res = postFrom(b, res, "phone-verify", "/ui/sign-in/phone?step=verify", url.Values{"phone": {number}, "code": {msgs[0].Data.OTP}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != authcoretest.BaseURL+"/app" || !hasSessionCookie(h, res) {
		t.Fatalf("verify: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if sessionUser(t, b) == "" {
		t.Fatal("not signed in")
	}
	// A malformed number: the API's 400 as an alert on the form.
	res = newBrowser(h).submit("/ui/sign-in/phone", "phone-send", "/ui/sign-in/phone?step=send", url.Values{"phone": {"555"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(alertText(string(res.Body)), "valid phone number") {
		t.Fatalf("bad number: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
}

// Each page answers 404 while its plugin is off, for GET and POST alike.
func TestMethodPagesDisabled(t *testing.T) {
	h := newPortal(t, nil)
	b := newBrowser(h)
	for _, p := range []string{"/ui/sign-in/magic-link", "/ui/sign-in/email-otp", "/ui/sign-in/phone", "/ui/email-changed"} {
		if res := b.get(p); res.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
		if p == "/ui/email-changed" {
			continue // GET only
		}
		if res := b.post(p, url.Values{"email": {"a@example.com"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("POST %s: %d", p, res.StatusCode)
		}
	}
	// The sign-in page does not offer them either.
	if body := string(b.get("/ui/sign-in").Body); strings.Contains(body, "/sign-in/magic-link") || strings.Contains(body, "/sign-in/phone") {
		t.Fatal("sign-in page links to disabled methods")
	}
}

// Every POST form refuses a missing or foreign token, a cross-site request and an untrusted
// Origin with 403, and sends nothing.
func TestMethodPagesCSRF(t *testing.T) {
	h := newMethodsPortal(t)
	verifiedUser(t, h, "ann@example.com")
	forms := []struct{ page, form, action string }{
		{"/ui/sign-in/magic-link", "magic-link", "/ui/sign-in/magic-link"},
		{"/ui/sign-in/email-otp", "email-otp-send", "/ui/sign-in/email-otp?step=send"},
		{"/ui/sign-in/email-otp", "email-otp-send", "/ui/sign-in/email-otp?step=verify"}, // another form's token
		{"/ui/sign-in/phone", "phone-send", "/ui/sign-in/phone?step=send"},
		{"/ui/sign-in/phone", "phone-send", "/ui/sign-in/phone?step=verify"},
	}
	values := func() url.Values {
		return url.Values{"email": {"ann@example.com"}, "phone": {"+14155550123"}, "otp": {"123456"}, "code": {"123456"}}
	}
	for _, f := range forms {
		b := newBrowser(h)
		page := b.get(f.page)
		tok := csrfOf(t, string(page.Body), f.form)
		if strings.Contains(f.action, "verify") {
			// The send form's token does not open the verify form.
			v := values()
			v.Set("csrf", tok)
			if res := b.post(f.action, v); res.StatusCode != http.StatusForbidden {
				t.Fatalf("%s with %s's token: %d", f.action, f.form, res.StatusCode)
			}
			continue
		}
		if res := b.post(f.action, values()); res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s without token: %d", f.action, res.StatusCode)
		}
		v := values()
		v.Set("csrf", tok)
		if res := b.post(f.action, v, "Sec-Fetch-Site", "cross-site"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s cross-site: %d", f.action, res.StatusCode)
		}
		if res := b.post(f.action, v, "Origin", "https://evil.com"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s evil origin: %d", f.action, res.StatusCode)
		}
		// Another browser's token.
		other := newBrowser(h)
		other.get(f.page)
		if res := other.post(f.action, v); res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s foreign token: %d", f.action, res.StatusCode)
		}
	}
	h.Drain()
	if n := len(h.Sink.Messages()); n != 0 {
		t.Fatalf("%d messages sent by refused forms", n)
	}
}

// A hostile callbackURL becomes the default, in the forms, in the emailed link and in the
// final redirect.
func TestMethodPagesOpenRedirect(t *testing.T) {
	h := newMethodsPortal(t)
	verifiedUser(t, h, "ann@example.com")
	for _, cb := range []string{"//evil.com", "https://evil.com", "javascript:alert(1)", `/\evil.com`, "https://evil.com@localhost:3000/"} {
		for _, page := range []string{"/ui/sign-in/magic-link", "/ui/sign-in/email-otp", "/ui/sign-in/phone"} {
			res := newBrowser(h).get(page + "?callbackURL=" + url.QueryEscape(cb))
			if res.StatusCode != http.StatusOK || strings.Contains(string(res.Body), "evil") || strings.Contains(string(res.Body), "javascript") {
				t.Fatalf("%s with %q: %d\n%s", page, cb, res.StatusCode, res.Body)
			}
		}
		b := newBrowser(h)
		n := len(h.Sent("magic-link", "ann@example.com"))
		b.submit("/ui/sign-in/magic-link", "magic-link", "/ui/sign-in/magic-link", url.Values{"email": {"ann@example.com"}, "callbackURL": {cb}})
		msgs := h.Sent("magic-link", "ann@example.com")
		if len(msgs) != n+1 {
			t.Fatalf("%q: no magic link", cb)
		}
		link, _ := url.Parse(msgs[n].Data.URL)
		if got := link.Query().Get("callbackURL"); got != authcoretest.BaseURL+"/" {
			t.Fatalf("%q: link callbackURL %q", cb, got)
		}

		step2 := sendEmailCode(t, b, "ann@example.com", cb)
		codes := h.Sent("email-otp", "ann@example.com")
		res := postFrom(b, step2, "email-otp-verify", "/ui/sign-in/email-otp?step=verify",
			url.Values{"email": {"ann@example.com"}, "otp": {codes[len(codes)-1].Data.OTP}, "callbackURL": {cb}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != authcoretest.BaseURL+"/" {
			t.Fatalf("%q: email code redirect %d %q", cb, res.StatusCode, res.Header.Get("Location"))
		}
	}
}

// Hostile input is a 4xx page, never a 500, and never reaches a message.
func TestMethodPagesHostileInput(t *testing.T) {
	h := newMethodsPortal(t)
	big := strings.Repeat("a", 10<<10) + "@example.com"
	inputs := []string{big, "ann\x00@example.com", "ann@example.com\r\nBcc: x@evil.com", "\x7f", "ann@example.com\x1b[31m",
		"<script>alert(1)</script>", strings.Repeat("é", 3000), "+1415555\x000123", strings.Repeat("+1", 5000)}
	forms := []struct{ page, form, action, field string }{
		{"/ui/sign-in/magic-link", "magic-link", "/ui/sign-in/magic-link", "email"},
		{"/ui/sign-in/email-otp", "email-otp-send", "/ui/sign-in/email-otp?step=send", "email"},
		{"/ui/sign-in/phone", "phone-send", "/ui/sign-in/phone?step=send", "phone"},
	}
	for _, f := range forms {
		for _, in := range inputs {
			res := newBrowser(h).submit(f.page, f.form, f.action, url.Values{f.field: {in}})
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Fatalf("%s %.40q: %d\n%.2000s", f.action, in, res.StatusCode, res.Body)
			}
			if alertText(string(res.Body)) == "" {
				t.Fatalf("%s %.40q: no alert", f.action, in)
			}
			if strings.Contains(string(res.Body), "<script>alert") {
				t.Fatalf("%s: unescaped input", f.action)
			}
		}
	}
	// Step 2 with hostile codes.
	for _, f := range []struct{ page, form, action string }{
		{"/ui/sign-in/email-otp", "email-otp-send", "/ui/sign-in/email-otp?step=send"},
		{"/ui/sign-in/phone", "phone-send", "/ui/sign-in/phone?step=send"},
	} {
		for _, code := range []string{strings.Repeat("9", 10<<10), "12\x003456", "'; DROP TABLE--"} {
			b := newBrowser(h)
			step2 := b.submit(f.page, f.form, f.action, url.Values{"email": {"ann@example.com"}, "phone": {"+14155550123"}})
			verifyForm := strings.Replace(f.form, "-send", "-verify", 1)
			action := strings.Replace(f.action, "send", "verify", 1)
			res := postFrom(b, step2, verifyForm, action, url.Values{"email": {"ann@example.com"}, "phone": {"+14155550123"}, "otp": {code}, "code": {code}})
			if res.StatusCode < 400 || res.StatusCode >= 500 || alertText(string(res.Body)) == "" {
				t.Fatalf("%s %.20q: %d %q", action, code, res.StatusCode, alertText(string(res.Body)))
			}
		}
	}
	// Too large a form.
	b := newBrowser(h)
	res := b.submit("/ui/sign-in/magic-link", "magic-link", "/ui/sign-in/magic-link", url.Values{"email": {strings.Repeat("a", 70<<10)}})
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge form: %d", res.StatusCode)
	}
	h.Drain()
	for _, m := range h.Sink.Messages() {
		if m.Type == "magic-link" || (m.Type == "email-otp" && m.To != "ann@example.com") {
			t.Fatalf("hostile input reached a message: %+v", m)
		}
	}
}

// The change-email landing: /change-email with callbackURL <ui>/email-changed?email=<new>;
// the link lands there signed in and the page says the address changed. With a confirmation
// to the old address first, that link's landing says to confirm the new address next. A
// failed link shows the error.
func TestEmailChangedPage(t *testing.T) {
	for _, confirm := range []bool{false, true} {
		h := newPortal(t, nil, authcoretest.WithConfig(func(c *authcore.Config) {
			c.User.ChangeEmail.Enabled = true
			c.User.ChangeEmail.SendChangeEmailConfirmation = confirm
		}))
		verifiedUser(t, h, "ann@example.com")
		b := newBrowser(h)
		b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}})
		cb := "/api/auth/ui/email-changed?email=" + url.QueryEscape("new@example.com")
		if res := b.c.Post("/change-email", map[string]any{"newEmail": "new@example.com", "callbackURL": cb}); res.StatusCode != http.StatusOK {
			t.Fatalf("change-email: %d %s", res.StatusCode, res.Body)
		}
		if confirm {
			msgs := h.Sent("change-email", "ann@example.com")
			if len(msgs) != 1 {
				t.Fatalf("%d confirmations", len(msgs))
			}
			res := b.c.Get(apiPath(t, msgs[0].Data.URL))
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != authcoretest.BaseURL+cb {
				t.Fatalf("confirmation link: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			page := b.get(apiPath(t, res.Header.Get("Location")))
			if page.StatusCode != http.StatusOK || !strings.Contains(string(page.Body), `data-state="pending"`) {
				t.Fatalf("pending page %d:\n%s", page.StatusCode, page.Body)
			}
		}
		msgs := h.Sent("verify-email", "new@example.com")
		if len(msgs) != 1 {
			t.Fatalf("%d verification emails", len(msgs))
		}
		res := b.c.Get(apiPath(t, msgs[0].Data.URL))
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != authcoretest.BaseURL+cb {
			t.Fatalf("verification link: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		page := b.get(apiPath(t, res.Header.Get("Location")))
		body := string(page.Body)
		if page.StatusCode != http.StatusOK || !strings.Contains(body, `data-state="done"`) || !strings.Contains(body, "Your email address is now new@example.com.") {
			t.Fatalf("done page %d:\n%s", page.StatusCode, body)
		}
		// Signed out, the page cannot tell the step and says so; ?email is never shown.
		out := newBrowser(h).get("/ui/email-changed?email=" + url.QueryEscape("attacker@evil.com"))
		if out.StatusCode != http.StatusOK || !strings.Contains(string(out.Body), `data-state="unknown"`) || strings.Contains(string(out.Body), "evil") {
			t.Fatalf("signed-out page %d:\n%s", out.StatusCode, out.Body)
		}
		// A used link fails onto the page with the error.
		res = newBrowser(h).c.Get(apiPath(t, msgs[0].Data.URL))
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, authcoretest.BaseURL+"/api/auth/ui/email-changed?") || !strings.Contains(loc, "error=") {
			t.Fatalf("used link: %d %q", res.StatusCode, loc)
		}
		ep := newBrowser(h).get(apiPath(t, loc))
		if ep.StatusCode != http.StatusBadRequest || alertText(string(ep.Body)) == "" || strings.Contains(string(ep.Body), `id="email-changed"`) {
			t.Fatalf("error landing %d:\n%s", ep.StatusCode, ep.Body)
		}
	}
}

// A two-factor user's email code ends on the portal's /two-factor page with the callback,
// holding the two_factor cookie and no session.
func TestEmailOTPTwoFactor(t *testing.T) {
	h := newMethodsPortal(t, authcoretest.WithPlugins(&twofactor.Plugin{}))
	id := verifiedUser(t, h, "ann@example.com")
	if _, err := h.Engine.UpdateUser(context.Background(), id, storage.Record{"twoFactorEnabled": true}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(h)
	step2 := sendEmailCode(t, b, "ann@example.com", "/app")
	msgs := h.Sent("email-otp", "ann@example.com")
	res := postFrom(b, step2, "email-otp-verify", "/ui/sign-in/email-otp?step=verify",
		url.Values{"email": {"ann@example.com"}, "otp": {msgs[0].Data.OTP}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/api/auth/ui/two-factor?callbackURL=%2Fapp" || hasSessionCookie(h, res) {
		t.Fatalf("%d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, ok := res.SetCookie(h.Engine.CookieName(twofactor.CookieTwoFactor)); !ok {
		t.Fatal("no two_factor cookie")
	}
}
