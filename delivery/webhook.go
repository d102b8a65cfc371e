package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Standard Webhooks header names.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// minSecretLen is the shortest webhook secret accepted, in bytes after decoding.
const minSecretLen = 16

// WebhookConfig configures a [Webhook] transport.
type WebhookConfig struct {
	// URL receives the POSTs: https, or http to a loopback host. Required.
	URL string
	// Secret signs requests: "whsec_<base64>" (decoded) or any other string (its bytes);
	// at least 16 bytes. Empty: requests are not signed.
	Secret string
	// Timeout of one request. Default: 10s.
	Timeout time.Duration
	// Transport makes the requests. Default: a clone of http.DefaultTransport.
	Transport http.RoundTripper

	// Now stamps requests. Default: time.Now.
	Now func() time.Time
	// Random makes message ids. Default: crypto/rand.Reader.
	Random io.Reader
}

// WebhookPayload is the JSON body a webhook receives. Only the fields that apply are
// present: an SMS has no subject or html, and data holds only the link, token or code the
// message carries (and is absent when it carries none).
type WebhookPayload struct {
	Type    string                `json:"type"`
	To      string                `json:"to"`
	Subject string                `json:"subject,omitempty"`
	Text    string                `json:"text,omitempty"`
	HTML    string                `json:"html,omitempty"`
	Data    *authcore.MessageData `json:"data,omitempty"`
}

// Webhook POSTs each message as JSON to a URL, signed the Standard Webhooks way when a
// secret is set. Redirects are not followed, and any non-2xx answer is a failure.
type Webhook struct {
	cfg    WebhookConfig
	url    *url.URL
	secret []byte
	client *http.Client
}

// NewWebhook validates cfg and returns the transport.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := checkEndpoint("webhook url", cfg.URL)
	if err != nil {
		return nil, err
	}
	var secret []byte
	if cfg.Secret != "" {
		if secret, err = DecodeWebhookSecret(cfg.Secret); err != nil {
			return nil, err
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return &Webhook{cfg: cfg, url: u, secret: secret, client: newHTTPClient(cfg.Transport, cfg.Timeout)}, nil
}

// newHTTPClient is a client that never follows a redirect: a 3xx is returned as the
// answer (and so is a failure), so a receiver cannot bounce a signed message, or
// credentials, to another host.
func newHTTPClient(rt http.RoundTripper, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: rt, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// DecodeWebhookSecret turns a configured secret into the HMAC key: a "whsec_" prefix
// means base64 follows (the Standard Webhooks form); anything else is used as is.
func DecodeWebhookSecret(s string) ([]byte, error) {
	key := []byte(s)
	if rest, ok := strings.CutPrefix(s, "whsec_"); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return nil, errors.New("webhook secret: the part after whsec_ is not valid base64")
		}
	}
	if len(key) < minSecretLen {
		return nil, fmt.Errorf("webhook secret: %d bytes is too short (at least %d)", len(key), minSecretLen)
	}
	return key, nil
}

// SendEmail implements authcore.EmailSender.
func (w *Webhook) SendEmail(ctx context.Context, m authcore.Message) error {
	return w.post(ctx, WebhookPayload{Type: m.Type, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Data: dataOf(m)})
}

// SendSMS implements authcore.SMSSender.
func (w *Webhook) SendSMS(ctx context.Context, m authcore.Message) error {
	return w.post(ctx, WebhookPayload{Type: m.Type, To: m.To, Text: m.Text, Data: dataOf(m)})
}

func dataOf(m authcore.Message) *authcore.MessageData {
	if m.Data == (authcore.MessageData{}) {
		return nil
	}
	d := m.Data
	return &d
}

func (w *Webhook) post(ctx context.Context, p WebhookPayload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return Permanent(fmt.Errorf("webhook: encoding: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("webhook: cannot build the request")) // the URL was checked at construction
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse")
	if w.secret != nil {
		id := make([]byte, 16)
		if _, err := io.ReadFull(w.cfg.Random, id); err != nil {
			return fmt.Errorf("webhook: message id: %w", err)
		}
		msgID := "msg_" + hex.EncodeToString(id)
		ts := strconv.FormatInt(w.cfg.Now().Unix(), 10)
		req.Header.Set(HeaderWebhookID, msgID)
		req.Header.Set(HeaderWebhookTimestamp, ts)
		req.Header.Set(HeaderWebhookSignature, "v1,"+signWebhook(w.secret, msgID, ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return requestError("webhook", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return httpStatusError("webhook", resp.StatusCode, "")
	}
	return nil
}

// signWebhook is base64(HMAC-SHA256(key, id.timestamp.body)).
func signWebhook(key []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Errors of [VerifyWebhook].
var (
	ErrWebhookMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrWebhookTimestamp      = errors.New("webhook: timestamp outside the tolerance")
	ErrWebhookSignature      = errors.New("webhook: no matching signature")
)

// VerifyWebhook is the receiver's check of a signed request: the headers are present,
// the timestamp is within tolerance of now (default 5 minutes, against replays), and one
// of the space-separated "v1,<signature>" entries matches the HMAC of the raw body,
// compared in constant time. secret is given as configured on the sender.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := DecodeWebhookSecret(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrWebhookMissingHeaders
	}
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrWebhookTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrWebhookTimestamp
	}
	want := []byte(signWebhook(key, id, ts, body))
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if ok && version == "v1" && hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return ErrWebhookSignature
}

// Interface guards
var (
	_ authcore.EmailSender = (*Webhook)(nil)
	_ authcore.SMSSender   = (*Webhook)(nil)
)
