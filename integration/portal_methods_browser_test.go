package integration

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse-auth/gatehouse/internal/smtpsink"
)

// methodsGlobal is the global gatehouse block of the passwordless browser tests: magic link
// and email code, and a real SMTP server on loopback as the mailer. The portal is on by
// default.
func methodsGlobal(sink *smtpsink.Sink) string {
	return fmt.Sprintf(`magic_link
		email_otp
		mailer smtp {
			host 127.0.0.1  port %d  tls none
			from "Gatehouse Test <no-reply@gatehouse.test>"
		}`, sink.Port)
}

// mailText waits for the first message to rcpt and returns its text part.
func mailText(t *testing.T, sink *smtpsink.Sink, rcpt string) string {
	t.Helper()
	p, err := sink.Wait(t, rcpt).Parse()
	if err != nil {
		t.Fatal(err)
	}
	return p.Parts["text/plain"]
}

// TestBrowserMagicLinkSignIn: a protected page sends Chromium to the portal's sign-in page;
// it picks "Email me a sign-in link", submits its address, sees the check-your-email page;
// the link, read from the email a real SMTP server received, signs it in and lands on the
// protected page it first asked for, where the app greets the new user. The same link a
// second time ends on the portal's error page.
func TestBrowserMagicLinkSignIn(t *testing.T) {
	b := newBrowser(t)
	sink := startMailSink(t, smtpsink.Options{})
	g := startBrowserGateway(t, methodsGlobal(sink))
	const email = "mallory.magic@example.com"

	b.navigate(g.base + "/dashboard?tab=2")
	b.waitVisible("form#sign-in")
	b.screenshot("sign-in")
	b.click(`a[href*="/ui/sign-in/magic-link"]`)
	b.waitVisible("form#magic-link")
	if loc := b.location(); !strings.Contains(loc, "callbackURL="+url.QueryEscape("/dashboard?tab=2")) {
		t.Fatalf("magic-link page lost the callbackURL: %s", loc)
	}
	b.screenshot("magic-link-form")
	b.fill("#email", email)
	b.click("button#submit")
	b.waitVisible("#sent")
	if txt := b.text("#sent"); !strings.Contains(txt, email) {
		t.Fatalf("#sent says %q", txt)
	}
	b.screenshot("magic-link-sent")

	text := mailText(t, sink, email)
	link := regexp.MustCompile(regexp.QuoteMeta(g.base) + `/api/auth/magic-link/verify\?[^\s"<>]+`).FindString(text)
	if link == "" {
		t.Fatalf("no magic link in the email:\n%s", text)
	}
	b.navigate(link)
	b.waitVisible("#greeting")
	if loc := b.location(); loc != g.base+"/dashboard?tab=2" {
		t.Fatalf("landed on %s", loc)
	}
	if got := b.text("#email"); got != email {
		t.Fatalf("the app sees %q", got)
	}
	b.screenshot("signed-in-dashboard")

	// The link works once: again, it ends on the portal's error page.
	b.navigate(link)
	b.waitVisible("#error")
	if loc := b.location(); !strings.HasPrefix(loc, g.base+"/api/auth/ui/error?") {
		t.Fatalf("reused link landed on %s", loc)
	}
	if got := b.text("#error"); got != "This link is invalid or has already been used." {
		t.Fatalf("error page says %q", got)
	}
	b.screenshot("magic-link-reused")
}

// TestBrowserEmailOTPSignIn: the email-code page, with the code read from the email a real
// SMTP server received; a wrong code first shows the alert, then the right one signs in and
// lands on the protected page.
func TestBrowserEmailOTPSignIn(t *testing.T) {
	b := newBrowser(t)
	sink := startMailSink(t, smtpsink.Options{})
	g := startBrowserGateway(t, methodsGlobal(sink))
	const email = "olive.otp@example.com"

	b.navigate(g.base + "/reports")
	b.waitVisible("form#sign-in")
	b.click(`a[href*="/ui/sign-in/email-otp"]`)
	b.waitVisible("form#email-otp-send")
	b.screenshot("email-otp-send")
	b.fill("#email", email)
	b.click("button#submit")
	b.waitVisible("form#email-otp-verify")
	b.screenshot("email-otp-verify")

	text := mailText(t, sink, email)
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(text)
	if code == "" {
		t.Fatalf("no code in the email:\n%s", text)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.fill("#otp", wrong)
	b.click("button#submit")
	b.waitVisible("#error")
	if got := b.text("#error"); got != "The code is incorrect. Check it and try again." {
		t.Fatalf("wrong code: %q", got)
	}
	b.screenshot("email-otp-wrong-code")
	b.fill("#otp", code)
	b.click("button#submit")
	b.waitVisible("#greeting")
	if loc := b.location(); loc != g.base+"/reports" {
		t.Fatalf("landed on %s", loc)
	}
	if got := b.text("#email"); got != email {
		t.Fatalf("the app sees %q", got)
	}
	b.screenshot("signed-in-reports")
}

// TestBrowserPhoneSignIn: the phone-code page, with the code read from the SMS webhook the
// gateway signs (a new number signs up, sign_up_on_verification), landing signed in on the
// protected page first asked for.
func TestBrowserPhoneSignIn(t *testing.T) {
	b := newBrowser(t)
	sms := newMessageSink(t)
	g := startBrowserGateway(t, fmt.Sprintf(`phone_number {
			sign_up_on_verification
		}
		sms webhook %s {
			secret %s
		}`, sms.HookURL(), sinkSecret))
	const number = "+14155550123"

	b.navigate(g.base + "/inbox")
	b.waitVisible("form#sign-in")
	b.click(`a[href*="/ui/sign-in/phone"]`)
	b.waitVisible("form#phone-send")
	b.screenshot("phone-send")
	b.fill("#phone", number)
	b.click("button#submit")
	b.waitVisible("form#phone-verify")
	b.screenshot("phone-verify")

	code := sms.Take(number, "phone-otp").Data.OTP
	if code == "" {
		t.Fatal("the SMS has no code")
	}
	b.fill("#code", code)
	b.click("button#submit")
	b.waitVisible("#greeting")
	if loc := b.location(); loc != g.base+"/inbox" {
		t.Fatalf("landed on %s", loc)
	}
	if got := b.text("#greeting"); got != "Hello, "+number {
		t.Fatalf("the app greets %q", got)
	}
	b.screenshot("signed-in-inbox")
}

// TestBrowserEmailChanged: a user signed in by magic link changes their email (the call the
// account page's form makes, with callbackURL <ui>/email-changed?email=<new>); the
// verification link, read from the email the new address received over real SMTP, lands on
// the portal's "email address changed" page, and the app then sees the new address.
func TestBrowserEmailChanged(t *testing.T) {
	b := newBrowser(t)
	sink := startMailSink(t, smtpsink.Options{})
	g := startBrowserGateway(t, methodsGlobal(sink)+`
		user {
			change_email
		}`)
	const oldEmail, newEmail = "cora.change@example.com", "cora.new@example.com"

	// Sign in by magic link.
	b.navigate(g.base + "/api/auth/ui/sign-in/magic-link?callbackURL=%2Fprofile")
	b.waitVisible("form#magic-link")
	b.fill("#email", oldEmail)
	b.click("button#submit")
	b.waitVisible("#sent")
	link := regexp.MustCompile(regexp.QuoteMeta(g.base) + `/api/auth/magic-link/verify\?[^\s"<>]+`).FindString(mailText(t, sink, oldEmail))
	if link == "" {
		t.Fatal("no magic link")
	}
	b.navigate(link)
	b.waitVisible("#greeting")

	// Ask for the change as the account page does.
	cb := "/api/auth/ui/email-changed?email=" + url.QueryEscape(newEmail)
	status := run(b, "POST /change-email", chromedp.Evaluate[int](fmt.Sprintf(
		`fetch("/api/auth/change-email", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({newEmail: %q, callbackURL: %q})}).then(r => r.status)`,
		newEmail, cb), chromedp.EvalAwaitPromise))
	if status != 200 {
		t.Fatalf("change-email answered %d", status)
	}
	verify := regexp.MustCompile(regexp.QuoteMeta(g.base) + `/api/auth/verify-email\?[^\s"<>]+`).FindString(mailText(t, sink, newEmail))
	if verify == "" {
		t.Fatal("no verification link")
	}
	b.navigate(verify)
	b.waitVisible("#email-changed")
	if loc := b.location(); loc != g.base+cb {
		t.Fatalf("landed on %s", loc)
	}
	if got := b.text("#email-changed"); got != "Your email address is now "+newEmail+"." {
		t.Fatalf("#email-changed says %q", got)
	}
	b.screenshot("email-changed")
	b.navigate(g.base + "/profile")
	b.waitVisible("#greeting")
	if got := b.text("#email"); got != newEmail {
		t.Fatalf("the app sees %q", got)
	}
}
