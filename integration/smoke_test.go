package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestExampleSmoke runs a Caddyfile shaped like Caddyfile.example and checks the basic
// promise: public path served, protected path refused, sign-up then the upstream greets the
// user by the identity headers the gateway set, and spoofed identity never arrives.
func TestExampleSmoke(t *testing.T) {
	ports := freePorts(t, 2)
	gw, app := ports[0], ports[1]
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url http://localhost:%[1]d
		storage bbolt gatehouse.db
	}
}
http://localhost:%[1]d {
	gatehouse {
		public /health
		require role admin /admin/*
	}
	reverse_proxy 127.0.0.1:%[2]d
}
http://:%[2]d {
	bind 127.0.0.1
	respond /health "ok"
	respond "Hello, {header.X-Auth-User-Name} [{header.X-Auth-User-Role}]"
}
`, gw, app)
	base := fmt.Sprintf("http://localhost:%d", gw)
	srv := StartServer(t, cf, base+"/health")
	vt := srv.Transport(t, nil) // auth-API answers are checked against the document
	client := &http.Client{Transport: vt}

	get := func(path string, hdr ...string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/health"); code != 200 || body != "ok" {
		t.Fatalf("/health: %d %q", code, body)
	}
	if code, body := get("/", "X-Auth-User-Name", "Mallory"); code != 401 || !strings.Contains(body, "UNAUTHORIZED") {
		t.Fatalf("/ without session: %d %q", code, body)
	}
	// The hosted portal is on by default and is the browsers' login page (D14).
	noRedirect := &http.Client{Transport: vt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", base+"/reports?q=1", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := base + "/api/auth/ui/sign-in?callbackURL=%2Freports%3Fq%3D1"; resp.StatusCode != 302 || resp.Header.Get("Location") != want {
		t.Fatalf("browser without session: %d %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if code, body := get("/api/auth/ui/sign-in", "Accept", "text/html"); code != 200 || !strings.Contains(body, `<form id="sign-in"`) {
		t.Fatalf("portal sign-in page: %d %.200q", code, body)
	}
	req, _ = http.NewRequest("POST", base+"/api/auth/sign-up/email",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"correct horse battery"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "better-auth.session_token" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != 200 || cookie == "" {
		t.Fatalf("sign-up: %d, cookie %q", resp.StatusCode, cookie)
	}
	code, body := get("/", "Cookie", cookie, "X-Auth-User-Role", "admin", "x_auth_user_name", "Mallory")
	if code != 200 || body != "Hello, Ada [user]" {
		t.Fatalf("/ with session: %d %q", code, body)
	}
	if code, _ := get("/admin/", "Cookie", cookie); code != 403 {
		t.Fatalf("/admin/ as a user: %d", code)
	}
}

// TestCaddyfileExampleRuns starts the binary on Caddyfile.example itself — the README's run
// command — with only its ports moved to free ones: it must start, serve the demo app's
// public path, send browsers to the branded portal, and greet a user who signed up.
func TestCaddyfileExampleRuns(t *testing.T) {
	src, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	cf := strings.NewReplacer(
		"admin localhost:2019", "admin {ADMIN}",
		"8080", strconv.Itoa(ports[0]),
		"9000", strconv.Itoa(ports[1]),
	).Replace(string(src))
	base := fmt.Sprintf("http://localhost:%d", ports[0])
	srv := StartServer(t, cf, base+"/health")
	vt := srv.Transport(t, nil) // auth-API answers are checked against the document
	client := &http.Client{Transport: vt}

	noRedirect := &http.Client{Transport: vt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.HasPrefix(loc, base+"/api/auth/ui/sign-in") {
		t.Fatalf("browser on /: %d %q, want 302 to the portal", resp.StatusCode, loc)
	}
	resp, err = client.Get(base + "/api/auth/ui/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Gatehouse demo") {
		t.Fatalf("portal sign-in: %d %.300q", resp.StatusCode, page)
	}
	req, _ = http.NewRequest("POST", base+"/api/auth/sign-up/email",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"correct horse battery"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("GET", base+"/", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "Hello, Ada (user ") {
		t.Fatalf("/ after sign-up: %d %q", resp.StatusCode, body)
	}
}
