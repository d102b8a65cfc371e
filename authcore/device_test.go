package authcore_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// Real user agents (current browser releases and common HTTP clients).
const (
	uaFirefoxMac    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaChromeAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
	uaSafariIOS     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaEdgeWindows   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaSafariMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	uaFirefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
	uaSafariIPad    = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaChromeIOS     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1"
	uaChromeOS      = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaSamsung       = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
)

func TestDeviceName(t *testing.T) {
	huge := strings.Repeat("A", 10<<10)
	tests := []struct{ name, ua, want string }{
		{"Firefox on macOS", uaFirefoxMac, "Firefox on macOS"},
		{"Chrome on Android", uaChromeAndroid, "Chrome on Android"},
		{"Safari on iOS", uaSafariIOS, "Safari on iOS"},
		{"Edge on Windows", uaEdgeWindows, "Edge on Windows"},
		{"Chrome on Windows", uaChromeWindows, "Chrome on Windows"},
		{"Safari on macOS", uaSafariMac, "Safari on macOS"},
		{"Firefox on Linux", uaFirefoxLinux, "Firefox on Linux"},
		{"Safari on iPad", uaSafariIPad, "Safari on iOS"},
		{"Chrome on iOS (CriOS)", uaChromeIOS, "Chrome on iOS"},
		{"Chrome on ChromeOS", uaChromeOS, "Chrome on ChromeOS"},
		{"Samsung Internet", uaSamsung, "Samsung Browser on Android"},
		{"curl", "curl/8.7.1", "curl"},
		{"Wget", "Wget/1.21.4", "Wget"},
		{"Node.js fetch (node)", "node", "Node.js"},
		{"Node.js undici", "undici", "Node.js"},
		{"node-fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "Node.js"},
		{"axios", "axios/1.7.2", "Node.js"},
		{"Python requests", "python-requests/2.32.3", "Python"},
		{"Go", "Go-http-client/1.1", "Go"},
		{"crawler", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Automated client"},
		{"empty", "", "Unknown device"},
		{"only spaces", "   ", "Unknown device"},
		{"bare Mozilla", "Mozilla/5.0", "Unknown device"},
		{"garbage with control characters", "garbage \x00\x01\x7f\r\n ((((;;;)))", "Unknown device"},
		{"invalid UTF-8", "\xff\xfe\xfd Firefox\xff/1", "Unknown device"},
		{"markup is never echoed", "<script>alert(1)</script>", "Unknown device"},
		{"10 KB of one letter", huge, "Unknown device"},
		{"10 KB after a real agent: the prefix counts", uaFirefoxMac + " " + huge, "Firefox on macOS"},
		// The browser token lies past the 512-byte cut: it is never parsed.
		{"real agent past 512 bytes is not parsed", strings.Repeat("x ", 300) + uaFirefoxMac, "Unknown device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authcore.DeviceName(tt.ua); got != tt.want {
				t.Errorf("DeviceName(%.80q) = %q, want %q", tt.ua, got, tt.want)
			}
		})
	}
}

// TestDeviceNameConcurrent: the shared parser is safe for concurrent use (run with -race).
func TestDeviceNameConcurrent(t *testing.T) {
	done := make(chan string, 16)
	for range 16 {
		go func() { done <- authcore.DeviceName(uaEdgeWindows) }()
	}
	for range 16 {
		if got := <-done; got != "Edge on Windows" {
			t.Errorf("got %q", got)
		}
	}
}

// TestListSessionsDeviceName: /list-sessions derives deviceName from each session's user
// agent at listing time.
func TestListSessionsDeviceName(t *testing.T) {
	h := authcoretest.New(t)
	laptop := h.Client()
	laptop.Header.Set("User-Agent", uaFirefoxMac)
	if r := laptop.Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": "correct horse battery"}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	phone := h.Client()
	phone.Header.Set("User-Agent", uaChromeAndroid)
	if r := phone.Post(authcore.PathSignInEmail, map[string]any{"email": "a@example.com", "password": "correct horse battery"}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	r := laptop.Get(authcore.PathListSessions)
	list, _ := r.JSON().([]any)
	if r.StatusCode != http.StatusOK || len(list) != 2 {
		t.Fatalf("list-sessions: %d %s", r.StatusCode, r.Body)
	}
	want := map[string]string{uaFirefoxMac: "Firefox on macOS", uaChromeAndroid: "Chrome on Android"}
	for _, item := range list {
		s := item.(map[string]any)
		ua, _ := s["userAgent"].(string)
		if w, ok := want[ua]; !ok || s["deviceName"] != w {
			t.Errorf("session with userAgent %q: deviceName %v, want %q", ua, s["deviceName"], w)
		}
		delete(want, ua)
	}
	if len(want) != 0 {
		t.Errorf("sessions missing from the list: %v", want)
	}
}
