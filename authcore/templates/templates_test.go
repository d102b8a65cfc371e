package templates

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testURL = "https://auth.example.com/api/auth/verify-email?token=abc&callbackURL=%2Fhome"
	testOTP = "482913"
)

func fullData() Data {
	return Data{
		AppName: "Acme Portal", BaseURL: "https://auth.example.com", To: "ada@example.com",
		URL: testURL, Token: "abc", OTP: testOTP, ExpiresIn: "5 minutes",
		Vars: map[string]string{"purpose": "sign-in", "newEmail": "ada.new@example.com",
			"organization": "Analytical Engines", "inviter": "Charles", "role": "admin"},
	}
}

// htmlURL is testURL as it appears in HTML: & is escaped.
var htmlURL = strings.ReplaceAll(testURL, "&", "&amp;")

// TestDefaultsRenderEveryType renders every default email type with a URL and a code in
// the data and checks what each message must carry: the app name and base URL always (in
// subject-less SMS too), the link for link messages, the code for code messages, the
// expiry, and a subject on one line.
func TestDefaultsRenderEveryType(t *testing.T) {
	set := Default()
	links := []string{"verify-email", "reset-password", "change-email", "delete-account", "magic-link", "organization-invitation", Generic}
	codes := []string{"email-otp", "two-factor-otp", Generic}
	emailTypes := []string{"verify-email", "reset-password", "change-email", "delete-account", "account-exists",
		"magic-link", "email-otp", "two-factor-otp", "organization-invitation", "new-device-sign-in", Generic}
	for _, typ := range emailTypes {
		t.Run(typ, func(t *testing.T) {
			if !set.Has(typ) {
				t.Fatalf("default set has no %q", typ)
			}
			m, err := set.Render(typ, fullData())
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("subject %q: want one non-empty line", m.Subject)
			}
			if m.HTML == "" {
				t.Fatalf("no HTML part")
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
				for _, want := range []string{"Acme Portal", "https://auth.example.com"} {
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q:\n%s", part, want, body)
					}
				}
			}
			if contains(links, typ) {
				if !strings.Contains(m.Text, testURL) {
					t.Errorf("text part lacks the URL:\n%s", m.Text)
				}
				if !strings.Contains(m.HTML, `href="`+htmlURL+`"`) {
					t.Errorf("HTML part lacks the link:\n%s", m.HTML)
				}
			}
			if contains(codes, typ) {
				if !strings.Contains(m.Text, testOTP) || !strings.Contains(m.HTML, testOTP) {
					t.Errorf("code missing:\n%s\n%s", m.Text, m.HTML)
				}
			}
			if typ != "account-exists" && typ != "new-device-sign-in" && !strings.Contains(m.Text, "5 minutes") {
				t.Errorf("text part does not say when it expires:\n%s", m.Text)
			}
			if strings.Contains(m.Text, "\n\n\n") || !strings.HasSuffix(m.Text, "\n") || strings.HasSuffix(m.Text, "\n\n") {
				t.Errorf("text part is not tidy: %q", m.Text)
			}
			if strings.Contains(m.Text+m.HTML, "<no value>") {
				t.Errorf("a missing value was printed")
			}
		})
	}
	t.Run("no expiry sentence when unknown", func(t *testing.T) {
		d := fullData()
		d.ExpiresIn = ""
		m, err := set.Render("magic-link", d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.Text, "expires") || strings.Contains(m.HTML, "expires") {
			t.Errorf("expiry mentioned without ExpiresIn:\n%s", m.Text)
		}
	})
	t.Run("change-email names the new address", func(t *testing.T) {
		m, _ := set.Render("change-email", fullData())
		if !strings.Contains(m.Text, "ada.new@example.com") || !strings.Contains(m.HTML, "ada.new@example.com") {
			t.Errorf("new address missing:\n%s", m.Text)
		}
	})
	t.Run("new-device-sign-in names device, IP and time, and never a token", func(t *testing.T) {
		d := fullData()
		d.Vars = map[string]string{"device": "Firefox on macOS", "ip": "203.0.113.7", "time": "Thu, 01 Jan 2026 00:00:00 UTC"}
		m, err := set.Render("new-device-sign-in", d)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Firefox on macOS", "203.0.113.7", "Thu, 01 Jan 2026 00:00:00 UTC", "reset your password", "sign out of your other sessions"} {
			if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
				t.Errorf("%q missing:\n%s\n%s", want, m.Text, m.HTML)
			}
		}
		if !strings.Contains(m.Subject, "Firefox on macOS") {
			t.Errorf("subject %q does not name the device", m.Subject)
		}
		for _, secret := range []string{testURL, testOTP, "token=abc"} {
			if strings.Contains(m.Subject+m.Text+m.HTML, secret) {
				t.Errorf("the alert carries %q", secret)
			}
		}
		d.Vars = nil
		if m, err = set.Render("new-device-sign-in", d); err != nil || !strings.Contains(m.Text, "Unknown device") {
			t.Errorf("without Vars: %v\n%s", err, m.Text)
		}
	})
	t.Run("organization-invitation names organization, inviter and role", func(t *testing.T) {
		m, _ := set.Render("organization-invitation", fullData())
		for _, want := range []string{"Analytical Engines", "Charles", "admin"} {
			if !strings.Contains(m.Subject+m.Text, want) || !strings.Contains(m.HTML, want) {
				t.Errorf("%q missing:\n%s\n%s", want, m.Subject, m.Text)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEmailOTPPurposes: the email-otp wording follows Vars["purpose"], one distinct subject
// per purpose, and an unknown or missing purpose still renders the code.
func TestEmailOTPPurposes(t *testing.T) {
	set := Default()
	want := map[string]string{
		"sign-in":            "sign-in code",
		"email-verification": "verification code",
		"forget-password":    "password reset code",
		"change-email":       "new Acme Portal email address",
		"":                   "Your Acme Portal code",
		"something-else":     "Your Acme Portal code",
	}
	for purpose, subject := range want {
		d := fullData()
		d.Vars = map[string]string{"purpose": purpose}
		m, err := set.Render("email-otp", d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Subject, subject) {
			t.Errorf("purpose %q: subject %q lacks %q", purpose, m.Subject, subject)
		}
		if !strings.Contains(m.Text, testOTP) || !strings.Contains(m.HTML, testOTP) {
			t.Errorf("purpose %q: code missing", purpose)
		}
	}
	// nil Vars: no panic, no "<no value>".
	d := fullData()
	d.Vars = nil
	m, err := Default().Render("email-otp", d)
	if err != nil || strings.Contains(m.Text, "<no value>") {
		t.Fatalf("nil Vars: %v %q", err, m.Text)
	}
}

// TestSMS: phone-otp is short, has no email layout, names the app, and ends with the
// domain-bound code line; an unknown SMS type uses generic-sms.
func TestSMS(t *testing.T) {
	set := Default()
	d := fullData()
	d.To = "+15555550100"
	s, err := set.RenderSMS("phone-otp", d)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 160 {
		t.Errorf("phone-otp is %d characters, more than one SMS segment: %q", len(s), s)
	}
	for _, want := range []string{testOTP + " is your Acme Portal code", "5 minutes", "@auth.example.com #" + testOTP} {
		if !strings.Contains(s, want) {
			t.Errorf("SMS %q lacks %q", s, want)
		}
	}
	if strings.Contains(s, "-- ") || strings.HasSuffix(s, "\n") {
		t.Errorf("SMS carries the email layout or trailing newline: %q", s)
	}
	g, err := set.RenderSMS("phone-verify-something-new", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g, testOTP) || !strings.Contains(g, testURL) || !strings.Contains(g, "Acme Portal") {
		t.Errorf("generic SMS %q lacks code, URL or app name", g)
	}
}

// TestUnknownTypeUsesGeneric: a type nobody wrote templates for still delivers its link
// and code.
func TestUnknownTypeUsesGeneric(t *testing.T) {
	m, err := Default().Render("plugin-made-this-up", fullData())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, testURL) || !strings.Contains(m.Text, testOTP) ||
		!strings.Contains(m.HTML, htmlURL) || !strings.Contains(m.HTML, testOTP) {
		t.Errorf("generic message lacks URL or code:\n%s\n%s", m.Text, m.HTML)
	}
	if m.Subject != "Your Acme Portal code" {
		t.Errorf("subject %q", m.Subject)
	}
}

// TestHTMLEscaping is the stored-XSS / HTML-injection case for emails: values that reach a
// message from users (names, organization names, addresses) or from a caller (the URL) are
// escaped for their HTML context. A javascript: URL never becomes a live link.
func TestHTMLEscaping(t *testing.T) {
	d := fullData()
	d.AppName = `Evil</title><script>alert("app")</script>`
	d.To = `<b>ada</b>@example.com`
	d.URL = `javascript:alert(document.cookie)`
	d.Vars = map[string]string{
		"organization": `<script>alert(1)</script>`,
		"inviter":      `"><img src=x onerror=alert(2)>`,
		"role":         `admin<style>*{display:none}</style>`,
		"newEmail":     `x@y.z"><a href="https://evil.example">`,
	}
	for _, typ := range Default().Types() {
		m, err := Default().Render(typ, d)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if m.HTML == "" {
			continue
		}
		for _, bad := range []string{"<script>", "<img", "<b>ada", "<style>", `href="javascript:`, `href="https://evil.example"`} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("%s: HTML contains %q:\n%s", typ, bad, m.HTML)
			}
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;") {
			t.Errorf("%s: hostile app name not visible as text:\n%s", typ, m.HTML)
		}
	}
	m, _ := Default().Render("organization-invitation", d)
	if !strings.Contains(m.HTML, "#ZgotmplZ") {
		t.Errorf("the javascript: URL was not neutralised:\n%s", m.HTML)
	}
}

// TestSubjectIsOneLine: CR/LF in a value cannot split the subject (a header) in two.
func TestSubjectIsOneLine(t *testing.T) {
	d := fullData()
	d.Vars["organization"] = "Org\r\nBcc: victim@example.com"
	d.AppName = "App\nX-Injected: 1"
	m, err := Default().Render("organization-invitation", d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Fatalf("subject %q has a line break", m.Subject)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoadOverlays: files replace the default of their type and part only; a layout
// override rebrands every email; new types are allowed; dotfiles and directories are
// ignored; the defaults themselves are not changed.
func TestLoadOverlays(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"magic-link.html":            `<p>Custom sign-in for {{.To}}: <a href="{{.URL}}">go</a></p>`,
		"magic-link.subject.txt":     "Sign in to {{.AppName}} now",
		"layout.txt":                 "{{template \"body\" .}}\nBRANDED FOOTER {{.AppName}}\n",
		"custom-notice.txt":          "Notice for {{.To}}: {{.Vars.detail}}\n",
		"custom-html-notice.txt":     "text {{.URL}}\n",
		"custom-html-notice.html":    `<p>html <a href="{{.URL}}">link</a></p>`,
		".DS_Store":                  "\x00\x01binary",
		"drafts/magic-link.html":     "{{.Broken",
		"phone-otp.txt":              "Code {{.OTP}} for {{.AppName}}",
		"reset-password.subject.txt": "Password help",
	})
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := fullData()
	d.Vars["detail"] = "maintenance tonight"

	m, err := set.Render("magic-link", d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Sign in to Acme Portal now" {
		t.Errorf("subject override: %q", m.Subject)
	}
	if !strings.Contains(m.HTML, "<p>Custom sign-in for ada@example.com") || !strings.Contains(m.HTML, "<!DOCTYPE html>") {
		t.Errorf("HTML override not placed in the default layout:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "Open this link to sign in") || !strings.Contains(m.Text, "BRANDED FOOTER Acme Portal") {
		t.Errorf("default text body in the overridden layout expected:\n%s", m.Text)
	}

	r, _ := set.Render("reset-password", d)
	if r.Subject != "Password help" || !strings.Contains(r.HTML, "Choose a new password") {
		t.Errorf("reset-password: subject %q, HTML default kept? %v", r.Subject, strings.Contains(r.HTML, "Choose a new password"))
	}

	c, err := set.Render("custom-notice", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Text, "Notice for ada@example.com: maintenance tonight") || c.HTML != "" {
		t.Errorf("new text-only type: %q / HTML %q", c.Text, c.HTML)
	}
	if c.Subject != "Your Acme Portal code" { // generic subject (the data has an OTP)
		t.Errorf("new type without subject: %q", c.Subject)
	}
	h, _ := set.Render("custom-html-notice", d)
	if !strings.Contains(h.HTML, `<a href="`+htmlURL+`">link</a>`) {
		t.Errorf("new HTML type: %s", h.HTML)
	}
	if s, _ := set.RenderSMS("phone-otp", d); s != "Code "+testOTP+" for Acme Portal" {
		t.Errorf("SMS override: %q", s)
	}

	// The embedded defaults are untouched.
	dm, _ := Default().Render("magic-link", d)
	if strings.Contains(dm.HTML, "Custom sign-in") || strings.Contains(dm.Text, "BRANDED") {
		t.Error("Load changed the default set")
	}
	if set2, err := Load(""); err != nil || set2 != Default() {
		t.Errorf("Load(\"\") = %v, %v; want the defaults", set2, err)
	}
}

// TestLoadErrors: a broken override stops start-up with an error naming the file.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"parse error in an HTML body", map[string]string{"magic-link.html": "<p>{{if .URL}}</p>"}, []string{"magic-link.html", "unexpected EOF"}},
		{"unknown field in a text body", map[string]string{"reset-password.txt": "Hi {{.Nmae}}"}, []string{"reset-password.txt", "Nmae"}},
		{"unknown function in a subject", map[string]string{"verify-email.subject.txt": "{{shout .AppName}}"}, []string{"verify-email.subject.txt", `"shout" not defined`}},
		{"broken layout", map[string]string{"layout.html": `<html>{{template "body" .}}{{.Footer}}</html>`}, []string{"layout.html", "Footer"}},
		{"layout without a body still must execute", map[string]string{"layout.txt": "{{.AppName.Nope}}"}, []string{"layout.txt"}},
		{"bad file name", map[string]string{"Magic_Link.txt": "x"}, []string{"Magic_Link.txt", "not a template file name"}},
		{"other file", map[string]string{"notes.md": "x"}, []string{"notes.md", "not a template file name"}},
		{"layout subject", map[string]string{"layout.subject.txt": "x"}, []string{"layout.subject.txt"}},
		{"type without text body", map[string]string{"custom.html": "<p>x</p>"}, []string{"custom.html", `type "custom" has no custom.txt`}},
		{"SMS body failing on its own", map[string]string{"phone-otp.txt": "{{.OTP.Digits}}"}, []string{"phone-otp.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not give the path", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing directory accepted")
	}
}

func TestHuman(t *testing.T) {
	tests := map[time.Duration]string{
		0:                       "",
		-time.Second:            "",
		time.Second:             "1 second",
		90 * time.Second:        "90 seconds",
		5 * time.Minute:         "5 minutes",
		time.Hour:               "1 hour",
		90 * time.Minute:        "90 minutes",
		24 * time.Hour:          "1 day",
		36 * time.Hour:          "36 hours",
		48 * time.Hour:          "2 days",
		1500 * time.Millisecond: "2 seconds",
	}
	for d, want := range tests {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestConcurrentRender: a set is shared by every request; rendering from many goroutines
// is safe (run with -race).
func TestConcurrentRender(t *testing.T) {
	set, err := Load(writeFiles(t, map[string]string{"magic-link.html": `<a href="{{.URL}}">x</a>`}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, typ := range set.Types() {
				if _, err := set.Render(typ, fullData()); err != nil {
					t.Errorf("%d %s: %v", i, typ, err)
				}
				if _, err := set.RenderSMS(typ, fullData()); err != nil {
					t.Errorf("%d %s: %v", i, typ, err)
				}
			}
		}()
	}
	wg.Wait()
}
