package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/smtpsink"
)

// deliveryGateway is a running binary whose auth API the delivery tests drive.
type deliveryGateway struct {
	t      *testing.T
	base   string
	client *http.Client // validates auth-API answers against the server's document
}

func (g deliveryGateway) post(path string, body any) (int, []byte) {
	g.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", g.base+"/api/auth"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", g.base)
	resp, err := g.client.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// resetWithToken completes a reset and checks that only the new password signs in.
func (g deliveryGateway) resetWithToken(token, email, oldPW, newPW string) {
	g.t.Helper()
	if code, body := g.post("/reset-password", map[string]string{"token": token, "newPassword": newPW}); code != http.StatusOK {
		g.t.Fatalf("reset-password: %d %s", code, body)
	}
	if code, body := g.post("/sign-in/email", map[string]string{"email": email, "password": newPW}); code != http.StatusOK {
		g.t.Fatalf("sign-in with the new password: %d %s", code, body)
	}
	if code, _ := g.post("/sign-in/email", map[string]string{"email": email, "password": oldPW}); code != http.StatusUnauthorized {
		g.t.Fatalf("sign-in with the old password: %d, want 401", code)
	}
}

func startDeliveryGateway(t *testing.T, gw int, transport string) deliveryGateway {
	t.Helper()
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url http://localhost:%[1]d
		storage bbolt gatehouse.db
		app_name "Gatehouse Test"
		%[2]s
	}
}
http://localhost:%[1]d {
	gatehouse {
		public /health
	}
	respond /health "ok"
}
`, gw, transport)
	base := fmt.Sprintf("http://localhost:%d", gw)
	srv := StartServer(t, cf, base+"/health")
	g := deliveryGateway{t: t, base: base, client: &http.Client{Transport: srv.Transport(t, nil)}}
	if code, body := g.post("/sign-up/email", map[string]string{"name": "Ada", "email": "ada@example.com", "password": gatewayPassword}); code != http.StatusOK {
		t.Fatalf("sign-up: %d %s", code, body)
	}
	return g
}

// TestPasswordResetBySMTP runs the binary with `mailer smtp` pointed at a real SMTP server
// on loopback (AUTH PLAIN, the password from the environment through a placeholder) and
// completes a password reset from the link in the email: both MIME parts carry it, the
// link lands on the app's page with the token, and only the new password works afterwards.
func TestPasswordResetBySMTP(t *testing.T) {
	sink := startMailSink(t, smtpsink.Options{Username: "gatehouse", Password: "relay secret"})
	t.Setenv("GATEHOUSE_TEST_SMTP_PASSWORD", "relay secret")
	gw := freePorts(t, 1)[0]
	g := startDeliveryGateway(t, gw, fmt.Sprintf(`mailer smtp {
			host 127.0.0.1  port %d  tls none
			username gatehouse  password {env.GATEHOUSE_TEST_SMTP_PASSWORD}
			from "Gatehouse Test <no-reply@gatehouse.test>"
		}`, sink.Port))

	code, body := g.post("/request-password-reset", map[string]string{"email": "ada@example.com", "redirectTo": "/reset"})
	if code != http.StatusOK || !strings.Contains(string(body), `"status":true`) {
		t.Fatalf("request-password-reset: %d %s", code, body)
	}
	msg := sink.Wait(t, "ada@example.com")
	if msg.From != "no-reply@gatehouse.test" || msg.Username != "gatehouse" || msg.Password != "relay secret" {
		t.Fatalf("envelope from %q, AUTH %q/%q", msg.From, msg.Username, msg.Password)
	}
	p, err := msg.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "Reset your Gatehouse Test password" || p.Header.Get("From") != `"Gatehouse Test" <no-reply@gatehouse.test>` {
		t.Errorf("Subject %q, From %q", p.Subject, p.Header.Get("From"))
	}
	linkRE := regexp.MustCompile(regexp.QuoteMeta(g.base) + `/api/auth/reset-password/[A-Za-z0-9]+\?callbackURL=%2Freset`)
	link := linkRE.FindString(p.Parts["text/plain"])
	if link == "" {
		t.Fatalf("no reset link in the text part:\n%s", p.Parts["text/plain"])
	}
	if !strings.Contains(p.Parts["text/html"], `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Errorf("the HTML part lacks the link:\n%s", p.Parts["text/html"])
	}
	if !strings.Contains(p.Parts["text/plain"], "1 hour") {
		t.Errorf("the expiry is not stated:\n%s", p.Parts["text/plain"])
	}

	// Follow the link as a browser would: a redirect to the app's page with the token.
	noFollow := &http.Client{Transport: g.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/reset" || loc.Query().Get("token") == "" {
		t.Fatalf("following the link: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	g.resetWithToken(loc.Query().Get("token"), "ada@example.com", gatewayPassword, "a brand new passphrase")

	// An unknown address gets the same answer and no mail. The delivery queue is one FIFO
	// worker, so once a later message to Ada has arrived the unknown address's job has run.
	if code, body2 := g.post("/request-password-reset", map[string]string{"email": "nobody@example.com"}); code != http.StatusOK || string(body2) != string(body) {
		t.Fatalf("unknown address: %d %s", code, body2)
	}
	if code, _ := g.post("/request-password-reset", map[string]string{"email": "ada@example.com"}); code != http.StatusOK {
		t.Fatal("second reset request")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.Messages()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	msgs := sink.Messages()
	if len(msgs) != 2 || msgs[1].To[0] != "ada@example.com" {
		t.Fatalf("%d messages; want exactly two, both to Ada", len(msgs))
	}
}

// TestPasswordResetByWebhook runs the binary with `mailer webhook` and a whsec_ secret: the
// receiver gets the documented JSON, the Standard Webhooks signature verifies when
// recomputed independently (and a tampered body does not), and the token in data completes
// the reset.
func TestPasswordResetByWebhook(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	type hook struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var hooks []hook
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, hook{r.Header.Clone(), b})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	gw := freePorts(t, 1)[0]
	g := startDeliveryGateway(t, gw, fmt.Sprintf("mailer webhook %s/mail {\n\t\t\tsecret %s\n\t\t}", recv.URL, secret))

	before := time.Now().Unix()
	if code, body := g.post("/request-password-reset", map[string]string{"email": "ada@example.com"}); code != http.StatusOK {
		t.Fatalf("request-password-reset: %d %s", code, body)
	}
	var h hook
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(hooks)
		if n > 0 {
			h = hooks[0]
		}
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no webhook request arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}

	id, ts, sig := h.header.Get("webhook-id"), h.header.Get("webhook-timestamp"), h.header.Get("webhook-signature")
	if !strings.HasPrefix(id, "msg_") || len(id) < 10 {
		t.Errorf("webhook-id %q", id)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < before-5 || sec > time.Now().Unix()+5 {
		t.Errorf("webhook-timestamp %q", ts)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(h.body)
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want {
		t.Fatalf("webhook-signature %q, recomputed %q", sig, want)
	}
	tampered := bytes.Replace(h.body, []byte("ada@example.com"), []byte("eve@example.com"), 1)
	mac = hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(tampered)
	if "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) == sig {
		t.Fatal("a tampered body still verifies")
	}

	var p struct {
		Type, To, Subject, Text, HTML string
		Data                          map[string]string
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(h.body, &p); err != nil || json.Unmarshal(h.body, &keys) != nil {
		t.Fatalf("body %s: %v", h.body, err)
	}
	if len(keys) != 6 || p.Type != "reset-password" || p.To != "ada@example.com" || p.Subject != "Reset your Gatehouse Test password" {
		t.Fatalf("payload %s", h.body)
	}
	if p.Data["url"] == "" || p.Data["token"] == "" || len(p.Data) != 2 || !strings.Contains(p.Text, p.Data["url"]) || !strings.Contains(p.HTML, "<a href=") {
		t.Fatalf("payload data/text: %s", h.body)
	}
	g.resetWithToken(p.Data["token"], "ada@example.com", gatewayPassword, "a brand new passphrase")
}
