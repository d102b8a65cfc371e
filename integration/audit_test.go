package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuditLog: the real binary logs a sign-up (and its sign-in), a sign-in, a failed sign-in, an API key's
// creation and a role set by the CLI as JSON lines of the logger gatehouse.audit, stores
// them (audit { store }), and lists them to an administrator at
// /api/auth/admin/list-audit-events; no password, key or session token reaches the output.
func TestAuditLog(t *testing.T) {
	port := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://localhost:%d", port)
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url %[1]s
		storage bbolt gatehouse.db
		rate_limit off
		api_key
		admin
		audit {
			store
			retention 30d
		}
	}
}
%[1]s {
	gatehouse {
		public /health
	}
	respond "ok"
}
`, base)
	c := &cliSite{t: t, s: StartServer(t, cf, base+"/health"), base: base}
	const wrongPW = "not the right passphrase 3"
	post := func(path, cookie string, body any) (int, map[string]any, string) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		req.Header.Set("User-Agent", "audit-integration/1")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := c.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(resp.Body)
		json.Unmarshal(raw, &out)
		set := ""
		for _, ck := range resp.Cookies() {
			if ck.Name == "better-auth.session_token" && ck.Value != "" {
				set = ck.Name + "=" + ck.Value
			}
		}
		return resp.StatusCode, out, set
	}

	status, body, upCookie := post("/api/auth/sign-up/email", "", map[string]any{"name": "Ada", "email": cliEmail, "password": cliPW})
	if status != 200 {
		t.Fatalf("sign-up: %d %v", status, body)
	}
	adaID := body["user"].(map[string]any)["id"].(string)
	status, cookie := c.signIn(cliEmail, cliPW)
	if status != 200 || cookie == "" {
		t.Fatalf("sign-in: %d", status)
	}
	if status, _ := c.signIn(cliEmail, wrongPW); status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", status)
	}
	status, body, _ = post("/api/auth/api-key/create", cookie, map[string]any{"name": "ci"})
	key, _ := body["key"].(string)
	if status != 200 || key == "" {
		t.Fatalf("api-key create: %d %v", status, body)
	}
	keyID := body["id"].(string)
	c.admin("", "user", "set-role", cliEmail, "admin")

	// The log lines, as an operator's `log { include gatehouse.audit }` would route them.
	want := map[string]int{"sign_up": 1, "sign_in": 2, "sign_in.failure": 1, "api_key.create": 1, "admin.set_role": 1}
	var lines []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines = auditLines(c.s.Output())
		if countTypes(lines, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !countTypes(lines, want) {
		t.Fatalf("audit lines %v, want %v", lines, want)
	}
	for _, l := range lines {
		switch l["type"] {
		case "sign_in":
			if l["actor"] != adaID || l["method"] != "email" || l["result"] != "success" || l["ip"] != "127.0.0.1" || l["session"] == nil {
				t.Errorf("sign_in line %v", l)
			}
		case "sign_in.failure":
			d, _ := l["details"].(map[string]any)
			if l["result"] != "failure" || l["code"] != "INVALID_EMAIL_OR_PASSWORD" || d["email"] != cliEmail {
				t.Errorf("sign_in.failure line %v", l)
			}
		case "api_key.create":
			d, _ := l["details"].(map[string]any)
			if l["actor"] != adaID || d["key_id"] != keyID || l["user_agent"] != "audit-integration/1" {
				t.Errorf("api_key.create line %v", l)
			}
		case "admin.set_role":
			d, _ := l["details"].(map[string]any)
			if l["subject"] != adaID || d["source"] != "admin_api" || d["role"] != "admin" {
				t.Errorf("admin.set_role line %v", l)
			}
		}
	}

	// Stored and listed to the (now) administrator, newest first.
	get := func(q string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/auth/admin/list-audit-events"+q, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := c.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	var listed map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var status int
		status, listed = get("?userId=" + url.QueryEscape(adaID))
		if status != 200 {
			t.Fatalf("list-audit-events: %d %v", status, listed)
		}
		if listed["total"] == float64(5) || time.Now().After(deadline) {
			break
		}
	}
	evs, _ := listed["events"].([]any)
	if listed["total"] != float64(5) || len(evs) != 5 {
		t.Fatalf("ada's stored events: %v (want sign_up, two sign_in — sign-up signs in — api_key.create, admin.set_role)", listed)
	}
	if first := evs[0].(map[string]any); first["type"] != "admin.set_role" || first["subjectId"] != adaID {
		t.Errorf("newest stored event %v, want admin.set_role", first)
	}
	if status, failed := get("?type=sign_in.failure&limit=5"); status != 200 || failed["total"] != float64(1) {
		t.Errorf("stored failures: %d %v", status, failed)
	}
	if status, bad := get("?limit=-1"); status != http.StatusBadRequest || bad["code"] != "VALIDATION_ERROR" {
		t.Errorf("limit=-1: %d %v", status, bad)
	}

	out := c.s.Output()
	for name, secret := range map[string]string{"password": cliPW, "wrong password": wrongPW, "api key": key,
		"session cookie": cookieValue(cookie), "sign-up cookie": cookieValue(upCookie)} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("the server output contains the %s", name)
		}
	}
}

// cookieValue is the bare token of a "name=token.signature" cookie, unescaped.
func cookieValue(nameValue string) string {
	_, v, _ := strings.Cut(nameValue, "=")
	v, _ = url.QueryUnescape(v)
	tok, _, _ := strings.Cut(v, ".")
	return tok
}

// auditLines are the JSON log lines of the logger gatehouse.audit in a server's output.
func auditLines(out string) []map[string]any {
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["logger"] == "gatehouse.audit" && m["msg"] == "audit" {
			lines = append(lines, m)
		}
	}
	return lines
}

// countTypes reports whether lines hold exactly want[type] lines of each type in want.
func countTypes(lines []map[string]any, want map[string]int) bool {
	got := map[string]int{}
	for _, l := range lines {
		got[l["type"].(string)]++
	}
	for typ, n := range want {
		if got[typ] != n {
			return false
		}
	}
	return true
}
