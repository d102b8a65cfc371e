package delivery

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// captured is one request a stand-in receiver saw.
type captured struct {
	method string
	header http.Header
	body   []byte
}

// receiver is an httptest server on 127.0.0.1 (loopback, so http is allowed) answering
// with status and recording every request.
func receiver(t *testing.T, status int) (*httptest.Server, func() []captured) {
	t.Helper()
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{r.Method, r.Header.Clone(), b})
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured { mu.Lock(); defer mu.Unlock(); return append([]captured(nil), got...) }
}

var whKey = bytes.Repeat([]byte{0x42}, 32)

func whSecret() string { return "whsec_" + base64.StdEncoding.EncodeToString(whKey) }

func testWebhook(t *testing.T, url, secret string) *Webhook {
	t.Helper()
	w, err := NewWebhook(WebhookConfig{URL: url, Secret: secret,
		Now: func() time.Time { return fixedNow }, Random: bytes.NewReader(bytes.Repeat([]byte{0x07}, 1024))})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// independentSignature recomputes the Standard Webhooks signature from its definition,
// without the package's code.
func independentSignature(key []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte("."))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// TestWebhookEmail: the exact JSON body, the Standard Webhooks headers, and a signature a
// receiver can recompute; a tampered body no longer verifies.
func TestWebhookEmail(t *testing.T) {
	srv, got := receiver(t, http.StatusNoContent)
	w := testWebhook(t, srv.URL+"/hooks/mail", whSecret())
	m := authcore.Message{Type: "magic-link", To: "ada@example.com", Subject: "Sign in", Text: "Open it\n",
		HTML: `<a href="https://x/y?a=1&amp;b=2">go</a>`, Data: authcore.MessageData{URL: "https://x/y?a=1&b=2", Token: "tok"},
		Vars: map[string]string{"secret-ish": "not sent"}, ExpiresIn: time.Minute}
	if err := w.SendEmail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	reqs := got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	wantBody := `{"type":"magic-link","to":"ada@example.com","subject":"Sign in","text":"Open it\n",` +
		`"html":"\u003ca href=\"https://x/y?a=1\u0026amp;b=2\"\u003ego\u003c/a\u003e","data":{"url":"https://x/y?a=1\u0026b=2","token":"tok"}}`
	if r.method != http.MethodPost || string(r.body) != wantBody {
		t.Fatalf("%s body\n got %s\nwant %s", r.method, r.body, wantBody)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	id, ts, sig := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature")
	if id != "msg_"+hex.EncodeToString(bytes.Repeat([]byte{0x07}, 16)) {
		t.Errorf("webhook-id %q", id)
	}
	if ts != strconv.FormatInt(fixedNow.Unix(), 10) {
		t.Errorf("webhook-timestamp %q", ts)
	}
	if want := independentSignature(whKey, id, ts, r.body); sig != want {
		t.Fatalf("webhook-signature %q, recomputed %q", sig, want)
	}
	tampered := bytes.Replace(r.body, []byte("ada@example.com"), []byte("eve@example.com"), 1)
	if independentSignature(whKey, id, ts, tampered) == sig {
		t.Fatal("the signature does not cover the body")
	}
	if independentSignature(whKey, id, strconv.FormatInt(fixedNow.Unix()+1, 10), r.body) == sig {
		t.Fatal("the signature does not cover the timestamp")
	}

	// The receiver-side helper agrees, and rejects tampering, replays and missing headers.
	if err := VerifyWebhook(whSecret(), r.header, r.body, fixedNow.Add(time.Minute), 0); err != nil {
		t.Fatalf("VerifyWebhook: %v", err)
	}
	if err := VerifyWebhook(whSecret(), r.header, tampered, fixedNow, 0); !errors.Is(err, ErrWebhookSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if err := VerifyWebhook(whSecret(), r.header, r.body, fixedNow.Add(10*time.Minute), 0); !errors.Is(err, ErrWebhookTimestamp) {
		t.Errorf("replay 10 min later: %v", err)
	}
	other := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	if err := VerifyWebhook(other, r.header, r.body, fixedNow, 0); !errors.Is(err, ErrWebhookSignature) {
		t.Errorf("wrong secret: %v", err)
	}
	h := r.header.Clone()
	h.Del("webhook-id")
	if err := VerifyWebhook(whSecret(), h, r.body, fixedNow, 0); !errors.Is(err, ErrWebhookMissingHeaders) {
		t.Errorf("missing id: %v", err)
	}
	h = r.header.Clone()
	h.Set("webhook-signature", "v0,"+strings.TrimPrefix(sig, "v1,")+" v1,AAAA "+sig)
	if err := VerifyWebhook(whSecret(), h, r.body, fixedNow, 0); err != nil {
		t.Errorf("several signatures, one valid: %v", err)
	}
}

// TestWebhookSMS: an SMS body has no subject or html, whatever the message holds.
func TestWebhookSMS(t *testing.T) {
	srv, got := receiver(t, http.StatusOK)
	w := testWebhook(t, srv.URL, whSecret())
	m := authcore.Message{Type: "phone-otp", To: "+15555550100", Subject: "ignored", HTML: "<p>ignored</p>",
		Text: "123456 is your code", Data: authcore.MessageData{OTP: "123456"}}
	if err := w.SendSMS(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	r := got()[0]
	if want := `{"type":"phone-otp","to":"+15555550100","text":"123456 is your code","data":{"otp":"123456"}}`; string(r.body) != want {
		t.Fatalf("body %s, want %s", r.body, want)
	}
	if independentSignature(whKey, r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.body) != r.header.Get("webhook-signature") {
		t.Fatal("SMS signature does not verify")
	}
}

// TestWebhookVariants: no data object when the message carries none; no signature headers
// without a secret; a raw (non-whsec_) secret is used as is.
func TestWebhookVariants(t *testing.T) {
	srv, got := receiver(t, http.StatusAccepted)
	if err := testWebhook(t, srv.URL, "").SendEmail(t.Context(), authcore.Message{Type: "account-exists", To: "a@b.example", Subject: "S", Text: "T"}); err != nil {
		t.Fatal(err)
	}
	r := got()[0]
	if string(r.body) != `{"type":"account-exists","to":"a@b.example","subject":"S","text":"T"}` {
		t.Errorf("body %s", r.body)
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if r.header.Get(h) != "" {
			t.Errorf("unsigned request has %s", h)
		}
	}
	raw := "a raw secret that is long enough"
	if err := testWebhook(t, srv.URL, raw).SendSMS(t.Context(), authcore.Message{Type: "x", To: "+1", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	r = got()[1]
	if independentSignature([]byte(raw), r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.body) != r.header.Get("webhook-signature") {
		t.Error("raw secret not used as the key")
	}
}

// TestWebhookFailures: non-2xx is an error (4xx permanent except 408/429); a redirect is
// not followed (the signed message never reaches the other host); a slow receiver times
// out; errors never show the URL, which may carry credentials.
func TestWebhookFailures(t *testing.T) {
	for status, permanent := range map[int]bool{400: true, 401: true, 404: true, 408: false, 429: false, 500: false, 503: false} {
		srv, _ := receiver(t, status)
		err := testWebhook(t, srv.URL+"/?key=sekret", "").SendEmail(t.Context(), authcore.Message{Type: "x", To: "bob@example.com", Text: "t"})
		if err == nil || IsPermanent(err) != permanent || !strings.Contains(err.Error(), strconv.Itoa(status)) {
			t.Errorf("status %d: err = %v, permanent %v", status, err, IsPermanent(err))
		}
		if err != nil && (strings.Contains(err.Error(), "sekret") || strings.Contains(err.Error(), "bob@")) {
			t.Errorf("error %q leaks the URL or address", err)
		}
	}

	elsewhere, elseGot := receiver(t, http.StatusOK)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	if err := testWebhook(t, redirector.URL, whSecret()).SendEmail(t.Context(), authcore.Message{Type: "x", To: "a@b.example", Text: "t"}); err == nil {
		t.Error("a redirect counted as delivery")
	}
	if n := len(elseGot()); n != 0 {
		t.Errorf("the redirect was followed (%d requests elsewhere)", n)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	w, err := NewWebhook(WebhookConfig{URL: slow.URL + "/?key=sekret", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = w.SendEmail(t.Context(), authcore.Message{Type: "x", To: "a@b.example", Text: "t"})
	if err == nil || IsPermanent(err) || strings.Contains(err.Error(), "sekret") {
		t.Errorf("slow receiver: %v", err)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/?key=sekret"
	dead.Close()
	w, _ = NewWebhook(WebhookConfig{URL: deadURL})
	if err := w.SendEmail(t.Context(), authcore.Message{Type: "x", To: "a@b.example", Text: "t"}); err == nil || IsPermanent(err) || strings.Contains(err.Error(), "sekret") {
		t.Errorf("connection refused: %v", err)
	}
}

func TestNewWebhookValidation(t *testing.T) {
	for _, u := range []string{"https://hooks.example.com/x", "http://localhost:8025/x", "http://127.0.0.1/x", "http://[::1]:9/x", "HTTP://LOCALHOST/x"} {
		if _, err := NewWebhook(WebhookConfig{URL: u}); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for u, want := range map[string]string{
		"http://hooks.example.com/x": "must use https",
		"http://10.0.0.1/x":          "must use https",
		"http://127.0.0.1.nip.io/x":  "must use https",
		"ftp://hooks.example.com/x":  "scheme",
		"/relative":                  "not an absolute URL",
		"":                           "not an absolute URL",
		"https://h.example/x#frag":   "fragment",
	} {
		if _, err := NewWebhook(WebhookConfig{URL: u}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", u, err, want)
		}
	}
	for s, want := range map[string]string{
		"whsec_!!notbase64!!": "not valid base64",
		"whsec_" + base64.StdEncoding.EncodeToString([]byte("short")): "too short",
		"short": "too short",
	} {
		if _, err := NewWebhook(WebhookConfig{URL: "https://h.example", Secret: s}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("secret %q: err = %v, want %q", s, err, want)
		}
	}
}
