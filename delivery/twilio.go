package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// TwilioAPIURL is Twilio's REST API.
const TwilioAPIURL = "https://api.twilio.com"

// TwilioConfig configures a [Twilio] transport.
type TwilioConfig struct {
	// AccountSID ("AC…") and AuthToken authenticate with HTTP basic auth. Required.
	AccountSID string
	AuthToken  string
	// From is the sending number (E.164), alphanumeric sender ID, or a Messaging Service
	// SID ("MG…", sent as MessagingServiceSid). Required.
	From string
	// APIURL replaces TwilioAPIURL (a regional edge, or a stand-in in tests): https, or
	// http to a loopback host.
	APIURL string
	// Timeout of one request. Default: 10s.
	Timeout time.Duration
	// Transport makes the requests. Default: a clone of http.DefaultTransport.
	Transport http.RoundTripper
}

// Twilio sends SMS through Twilio's Messages API: POST
// <api>/2010-04-01/Accounts/<sid>/Messages.json with the form fields To, From (or
// MessagingServiceSid) and Body.
type Twilio struct {
	cfg      TwilioConfig
	endpoint string
	client   *http.Client
}

var sidPattern = regexp.MustCompile(`^AC[0-9a-zA-Z]{10,64}$`)

// NewTwilio validates cfg and returns the transport.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	if !sidPattern.MatchString(cfg.AccountSID) {
		return nil, errors.New(`twilio: account_sid must look like "AC" followed by letters and digits`)
	}
	if cfg.AuthToken == "" {
		return nil, errors.New("twilio: auth_token is required")
	}
	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New("twilio: from is required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = TwilioAPIURL
	}
	u, err := checkEndpoint("twilio api_url", cfg.APIURL)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.User != nil {
		return nil, errors.New("twilio api_url: no query or credentials in the URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	endpoint := strings.TrimSuffix(u.String(), "/") + "/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json"
	return &Twilio{cfg: cfg, endpoint: endpoint, client: newHTTPClient(cfg.Transport, cfg.Timeout)}, nil
}

// SendSMS implements authcore.SMSSender.
func (t *Twilio) SendSMS(ctx context.Context, m authcore.Message) error {
	if m.Text == "" {
		return Permanent(fmt.Errorf("twilio: %s message has no text", m.Type))
	}
	form := url.Values{"To": {m.To}, "Body": {m.Text}}
	if strings.HasPrefix(t.cfg.From, "MG") {
		form.Set("MessagingServiceSid", t.cfg.From)
	} else {
		form.Set("From", t.cfg.From)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Permanent(errors.New("twilio: cannot build the request"))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Gatehouse")
	req.SetBasicAuth(t.cfg.AccountSID, t.cfg.AuthToken)
	resp, err := t.client.Do(req)
	if err != nil {
		return requestError("twilio", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	// Twilio's error body has a numeric code (e.g. 21211, invalid To) worth logging; its
	// message may quote the number, so it is left out.
	var apiErr struct {
		Code int `json:"code"`
	}
	detail := ""
	if json.Unmarshal(body, &apiErr) == nil && apiErr.Code != 0 {
		detail = "error " + strconv.Itoa(apiErr.Code)
	}
	return httpStatusError("twilio", resp.StatusCode, detail)
}

// Interface guards
var _ authcore.SMSSender = (*Twilio)(nil)
