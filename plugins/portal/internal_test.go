package portal

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The generated theme keeps text readable whatever the accent: button text and link colours
// reach 4.5:1.
func TestThemeContrast(t *testing.T) {
	re := regexp.MustCompile(`--accent:(#[0-9a-f]{6});--on-accent:(#[0-9a-f]{6});--accent-text:(#[0-9a-f]{6})\}.*--accent-text:(#[0-9a-f]{6})`)
	for _, c := range []string{"#ffff00", "#000000", "#4f46e5", "#ffffff", "#777777", "#00aa00", "#ff6600"} {
		css := strings.ReplaceAll(string(themeCSS(c)), "\n", "")
		m := re.FindStringSubmatch(css)
		if m == nil || m[1] != c {
			t.Fatalf("%s: %s", c, css)
		}
		l := func(h string) float64 { r, g, b := hexRGB(h); return lum(r, g, b) }
		if cr := contrast(l(m[1]), l(m[2])); cr < 4.4 { // mid-greys cannot do better than ~4.5 either way
			t.Errorf("%s: button text %s contrast %.2f", c, m[2], cr)
		}
		if cr := contrast(l(m[3]), 1); cr < 4.5 {
			t.Errorf("%s: link %s on white %.2f", c, m[3], cr)
		}
		if cr := contrast(l(m[4]), l("#111827")); cr < 4.5 {
			t.Errorf("%s: dark link %s %.2f", c, m[4], cr)
		}
	}
}

func TestCSPSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://app.example.com":       "https://app.example.com",
		"https://*.Example.com/path":    "https://*.example.com",
		"http://localhost:8080":         "http://localhost:8080",
		"myapp://":                      "myapp:",
		"exp://10.0.0.1:8081/--":        "exp:",
		"https://a.example.com; script": "",
		"*.Example.com":                 "*.example.com",
		"exa mple.com":                  "",
		"https://":                      "",
		"java script://x":               "",
	} {
		if got := cspSource(in); got != want {
			t.Errorf("cspSource(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithCookies(t *testing.T) {
	res := apiResult{SetCookies: []string{
		"better-auth.session_token=new; Max-Age=600; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.two_factor=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
	}}
	got := withCookies("a=1; better-auth.two_factor=x; better-auth.session_token=old", res)
	if got != "a=1; better-auth.session_token=new" {
		t.Fatalf("%q", got)
	}
}

// Every key the templates and handlers use exists in the strings table.
func TestStringKeysExist(t *testing.T) {
	keyRe := regexp.MustCompile(`\b(?:t|tf)[ (]+"([a-z_.]+[a-zA-Z_.]*)"`)
	var sources []string
	for _, dir := range []string{"templates"} {
		entries, _ := templateFS.ReadDir(dir)
		for _, e := range entries {
			b, _ := templateFS.ReadFile(dir + "/" + e.Name())
			sources = append(sources, string(b))
		}
	}
	for _, f := range []string{"routes_core.go", "render.go", "csrf.go", "routes.go", "assets.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(b))
	}
	n := 0
	for _, src := range sources {
		for _, m := range keyRe.FindAllStringSubmatch(src, -1) {
			n++
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("no string %q", m[1])
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d keys found: the scan is broken", n)
	}
	// Every code a page passes to errorText literally exists too.
	codeRe := regexp.MustCompile(`(?:errorText|renderError\(w, r, [^,]+,)\s*\(?"([A-Z_]+)"`)
	for _, src := range sources {
		for _, m := range codeRe.FindAllStringSubmatch(src, -1) {
			if _, ok := messages["error."+m[1]]; !ok {
				t.Errorf("no string error.%s", m[1])
			}
		}
	}
}

// Every error code the core sign-in and sign-up endpoints declare has its own message.
func TestCoreCodesTranslated(t *testing.T) {
	for _, c := range []string{"INVALID_EMAIL_OR_PASSWORD", "INVALID_EMAIL", "EMAIL_NOT_VERIFIED", "PASSWORD_TOO_LONG",
		"PASSWORD_TOO_SHORT", "PASSWORD_TOO_COMMON", "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "FAILED_TO_CREATE_USER",
		"EMAIL_PASSWORD_DISABLED", "EMAIL_PASSWORD_SIGN_UP_DISABLED", "EMAIL_DOMAIN_NOT_ALLOWED", "TOO_MANY_REQUESTS",
		"INVALID_USERNAME_OR_PASSWORD", "USERNAME_IS_ALREADY_TAKEN", "INVALID_TOKEN", "TOKEN_EXPIRED", "USER_NOT_FOUND",
		"RESET_PASSWORD_DISABLED", "VALIDATION_ERROR", "BAD_REQUEST", "PAYLOAD_TOO_LARGE", "BANNED_USER"} {
		if _, ok := messages["error."+c]; !ok {
			t.Errorf("no message for %s", c)
		}
	}
	if errorText("SOMETHING_INTERNAL") != messages["error.generic"] {
		t.Error("unknown codes must get the generic message")
	}
}
