package delivery

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

const testSID = "AC0123456789abcdef0123456789abcdef"

// twilioStandIn answers like Twilio's Messages API and records the request.
func twilioStandIn(t *testing.T, status int, body string) (*httptest.Server, func() *http.Request, func() url.Values) {
	t.Helper()
	var mu sync.Mutex
	var last *http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		last, form = r, r.PostForm
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, func() *http.Request { mu.Lock(); defer mu.Unlock(); return last },
		func() url.Values { mu.Lock(); defer mu.Unlock(); return form }
}

func TestTwilioSend(t *testing.T) {
	srv, req, form := twilioStandIn(t, http.StatusCreated, `{"sid":"SM1","status":"queued"}`)
	tw, err := NewTwilio(TwilioConfig{AccountSID: testSID, AuthToken: "tok3n", From: "+15555550000", APIURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.SendSMS(t.Context(), authcore.Message{Type: "phone-otp", To: "+15555550100", Text: "123456 is your code"}); err != nil {
		t.Fatal(err)
	}
	r := req()
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	if u, p, ok := r.BasicAuth(); !ok || u != testSID || p != "tok3n" {
		t.Errorf("basic auth %q %q %v", u, p, ok)
	}
	want := url.Values{"To": {"+15555550100"}, "From": {"+15555550000"}, "Body": {"123456 is your code"}}
	if got := form(); got.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", got, want)
	}

	// A Messaging Service SID goes in MessagingServiceSid, not From.
	tw, _ = NewTwilio(TwilioConfig{AccountSID: testSID, AuthToken: "tok3n", From: "MG0123456789", APIURL: srv.URL})
	if err := tw.SendSMS(t.Context(), authcore.Message{Type: "phone-otp", To: "+1", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if f := form(); f.Get("MessagingServiceSid") != "MG0123456789" || f.Has("From") {
		t.Errorf("form %v", f)
	}
}

// TestTwilioErrors: 4xx is permanent except 429; Twilio's numeric code is reported, its
// message (which quotes the number) is not.
func TestTwilioErrors(t *testing.T) {
	for status, permanent := range map[int]bool{400: true, 401: true, 429: false, 500: false} {
		srv, _, _ := twilioStandIn(t, status, `{"code":21211,"message":"The 'To' number +15555550100 is not a valid phone number.","status":400}`)
		tw, _ := NewTwilio(TwilioConfig{AccountSID: testSID, AuthToken: "t", From: "+1", APIURL: srv.URL})
		err := tw.SendSMS(t.Context(), authcore.Message{Type: "phone-otp", To: "+15555550100", Text: "x"})
		if err == nil || IsPermanent(err) != permanent || !strings.Contains(err.Error(), "error 21211") {
			t.Errorf("status %d: %v (permanent %v)", status, err, IsPermanent(err))
		}
		if err != nil && strings.Contains(err.Error(), "5555550100") {
			t.Errorf("error %q quotes the number", err)
		}
	}
	srv, _, _ := twilioStandIn(t, 201, `{}`)
	tw, _ := NewTwilio(TwilioConfig{AccountSID: testSID, AuthToken: "t", From: "+1", APIURL: srv.URL})
	if err := tw.SendSMS(t.Context(), authcore.Message{Type: "phone-otp", To: "+1"}); err == nil || !IsPermanent(err) {
		t.Errorf("empty text: %v", err)
	}
}

func TestNewTwilioValidation(t *testing.T) {
	ok := TwilioConfig{AccountSID: testSID, AuthToken: "t", From: "+1"}
	if tw, err := NewTwilio(ok); err != nil || !strings.HasPrefix(tw.endpoint, "https://api.twilio.com/2010-04-01/Accounts/") {
		t.Fatalf("defaults: %v %v", tw, err)
	}
	for name, tc := range map[string]struct {
		edit func(*TwilioConfig)
		want string
	}{
		"no sid":            {func(c *TwilioConfig) { c.AccountSID = "" }, "account_sid"},
		"sid with a path":   {func(c *TwilioConfig) { c.AccountSID = "AC123/../../x" }, "account_sid"},
		"no token":          {func(c *TwilioConfig) { c.AuthToken = "" }, "auth_token"},
		"no from":           {func(c *TwilioConfig) { c.From = " " }, "from"},
		"http api_url":      {func(c *TwilioConfig) { c.APIURL = "http://api.example.com" }, "must use https"},
		"api_url query":     {func(c *TwilioConfig) { c.APIURL = "https://api.example.com/?x=1" }, "no query"},
		"api_url not a URL": {func(c *TwilioConfig) { c.APIURL = "api.example.com" }, "not an absolute URL"},
	} {
		c := ok
		tc.edit(&c)
		if _, err := NewTwilio(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	c := ok
	c.APIURL = "http://127.0.0.1:9999"
	if _, err := NewTwilio(c); err != nil {
		t.Errorf("loopback http api_url refused: %v", err)
	}
}
