package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestSecretRotation walks the README's rotation procedure against the real binary: a user
// with two-factor (its TOTP secret and backup codes are stored encrypted) lives through
// 1. secret A; 2. secret B with A in previous_secrets (A's session cookie still works);
// `gatehouse secret reencrypt`; 3. secret B alone. At the end a backup code (decrypted from
// the store) completes a sign-in and the TOTP URI (decrypted too) is the one enrollment
// gave, so nothing encrypted under A was lost when A was dropped.
func TestSecretRotation(t *testing.T) {
	const (
		secretA = "rotation-test-secret-A-0123456789abcdef"
		secretB = "rotation-test-secret-B-0123456789abcdef"
		pw      = "correct horse battery staple"
	)
	port := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://localhost:%d", port)
	caddyfile := func(secrets string) string {
		return fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url %[1]s
		storage bbolt gatehouse.db
		%[2]s
		rate_limit off
		two_factor
	}
}
%[1]s {
	gatehouse {
		public /health
	}
	respond /health "ok"
	respond "hello {header.X-Auth-User-Name}"
}
`, base, secrets)
	}
	s := StartServer(t, caddyfile("secret "+secretA), base+"/health")
	reconfigure := func(secrets string) {
		t.Helper()
		s.Stop()
		cf := strings.ReplaceAll(caddyfile(secrets), "{ADMIN}", s.Admin)
		if err := os.WriteFile(s.Config, []byte(cf), 0o600); err != nil {
			t.Fatal(err)
		}
		s = restartServer(t, s, base+"/health")
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	post := func(path string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+"/api/auth"+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		json.Unmarshal(raw, &out)
		return resp.StatusCode, out
	}
	signedInAs := func() string {
		t.Helper()
		resp, err := client.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return ""
		}
		return strings.TrimPrefix(string(b), "hello ")
	}

	// Secret A: sign up and enroll in two-factor.
	if st, out := post("/sign-up/email", map[string]any{"name": "Rot", "email": "rot@example.com", "password": pw}); st != http.StatusOK {
		t.Fatalf("sign-up: %d %v", st, out)
	}
	st, out := post("/two-factor/enable", map[string]any{"password": pw})
	if st != http.StatusOK {
		t.Fatalf("enable: %d %v", st, out)
	}
	uri, _ := out["totpURI"].(string)
	codes, _ := out["backupCodes"].([]any)
	if uri == "" || len(codes) == 0 {
		t.Fatalf("enable answered %v", out)
	}
	secret := uri[strings.Index(uri, "secret=")+len("secret="):]
	secret = secret[:strings.IndexAny(secret+"&", "&")]
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st, out := post("/two-factor/verify-totp", map[string]any{"code": code}); st != http.StatusOK {
		t.Fatalf("verify-totp (enrollment): %d %v", st, out)
	}
	if who := signedInAs(); who != "Rot" {
		t.Fatalf("signed in as %q", who)
	}

	// Secret B, A still known: the session signed under A keeps working.
	reconfigure(fmt.Sprintf("secret %s\n\t\tprevious_secrets %s", secretB, secretA))
	if who := signedInAs(); who != "Rot" {
		t.Fatalf("after the rotation the old session is refused (%q)", who)
	}
	outText, err := s.Run("secret", "reencrypt", "--address", s.Admin)
	if err != nil {
		t.Fatalf("gatehouse secret reencrypt: %v\n%s", err, outText)
	}
	// The TOTP secret and the backup codes: two ciphertexts in the twoFactor model.
	if !strings.Contains(outText, "Re-encrypted 2 values") {
		t.Fatalf("reencrypt said:\n%s", outText)
	}
	if again, err := s.Run("secret", "reencrypt", "--address", s.Admin, "--json"); err != nil || !strings.Contains(again, `"resealed": 0`) {
		t.Fatalf("second run: %v\n%s", err, again)
	}

	// Secret B alone: A's cookie is gone, but what A encrypted is not.
	reconfigure("secret " + secretB)
	if who := signedInAs(); who != "" {
		t.Fatalf("a cookie signed by a dropped secret still signs in as %q", who)
	}
	st, out = post("/sign-in/email", map[string]any{"email": "rot@example.com", "password": pw})
	if st != http.StatusOK || out["twoFactorRedirect"] != true {
		t.Fatalf("sign-in: %d %v", st, out)
	}
	if st, out := post("/two-factor/verify-backup-code", map[string]any{"code": codes[0]}); st != http.StatusOK {
		t.Fatalf("backup code after the old secret was dropped: %d %v", st, out)
	}
	if who := signedInAs(); who != "Rot" {
		t.Fatalf("after the backup code: signed in as %q", who)
	}
	st, out = post("/two-factor/get-totp-uri", map[string]any{"password": pw})
	if st != http.StatusOK || out["totpURI"] != uri {
		t.Fatalf("TOTP URI after the old secret was dropped: %d %v, want %s", st, out, uri)
	}
}
