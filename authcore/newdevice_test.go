package authcore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/admin"
	"github.com/gatehouse-auth/gatehouse/plugins/anonymous"
	"github.com/gatehouse-auth/gatehouse/plugins/magiclink"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const (
	ndEmail    = "nd@example.com"
	ndPassword = "correct horse battery"
	ndType     = "new-device-sign-in"
	testIPHdr  = "X-Test-Client-IP"
)

// testClientIP lets a test choose the client IP of each request (the engine never reads
// client headers itself, D4).
func testClientIP(r *http.Request) string {
	if ip := r.Header.Get(testIPHdr); ip != "" {
		return ip
	}
	return "127.0.0.1"
}

// newDeviceHarness starts an engine with session.new_device_email set to on and the client
// IP taken from testIPHdr.
func newDeviceHarness(t *testing.T, on bool, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	return authcoretest.New(t, append([]authcoretest.Option{
		authcoretest.WithConfig(func(c *authcore.Config) { c.Session.NewDeviceEmail = on }),
		authcoretest.WithEngineOptions(authcore.WithClientIP(testClientIP)),
	}, opts...)...)
}

// ndSignUp signs ndEmail up from ua at ip and returns the user id.
func ndSignUp(t *testing.T, h *authcoretest.Harness, ua, ip string) string {
	t.Helper()
	r := h.Client().Post("/sign-up/email", map[string]any{"name": "N", "email": ndEmail, "password": ndPassword},
		"User-Agent", ua, testIPHdr, ip)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	u, _ := r.Object()["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

// ndSignIn signs ndEmail in from ua at ip on a fresh client and returns the response.
func ndSignIn(t *testing.T, h *authcoretest.Harness, ua, ip string) *authcoretest.Response {
	t.Helper()
	r := h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": ndEmail, "password": ndPassword},
		"User-Agent", ua, testIPHdr, ip)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in from %q at %s: %d %s", authcore.DeviceName(ua), ip, r.StatusCode, r.Body)
	}
	return r
}

// knownDevices returns the user's known-devices row (nil when there is none).
func knownDevices(t *testing.T, h *authcoretest.Harness, userID string) storage.Record {
	t.Helper()
	rec, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelVerification, storage.Eq("identifier", "known-devices-"+userID))
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		t.Fatal(err)
	}
	return rec
}

// knownKeys returns the keys in the user's row.
func knownKeys(t *testing.T, h *authcoretest.Harness, userID string) []string {
	t.Helper()
	rec := knownDevices(t, h, userID)
	if rec == nil {
		t.Fatal("no known-devices row")
	}
	var keys []string
	if err := json.Unmarshal([]byte(rec.String("value")), &keys); err != nil {
		t.Fatalf("row value %q: %v", rec.String("value"), err)
	}
	return keys
}

// expectAlerts drains the queue and checks how many alerts ndEmail has received in all.
func expectAlerts(t *testing.T, h *authcoretest.Harness, want int, step string) []authcore.Message {
	t.Helper()
	got := h.Sent(ndType, ndEmail)
	if len(got) != want {
		t.Fatalf("%s: %d new-device emails in all, want %d", step, len(got), want)
	}
	return got
}

func TestNewDeviceEmail(t *testing.T) {
	h := newDeviceHarness(t, true)
	uid := ndSignUp(t, h, uaFirefoxMac, "203.0.113.5")
	expectAlerts(t, h, 0, "sign-up")
	if keys := knownKeys(t, h, uid); len(keys) != 1 {
		t.Fatalf("after sign-up the row holds %d keys, want 1", len(keys))
	}
	if got := knownDevices(t, h, uid).Time("expiresAt"); !got.Equal(h.Clock.Now().Add(365 * 24 * time.Hour)) {
		t.Errorf("row expires at %v, want a year ahead", got)
	}

	ndSignIn(t, h, uaFirefoxMac, "203.0.113.5")
	expectAlerts(t, h, 0, "same device again")

	ndSignIn(t, h, uaFirefoxMac, "203.0.113.77")
	expectAlerts(t, h, 0, "same /24, another host")

	h.Clock.Advance(time.Hour)
	r := ndSignIn(t, h, uaChromeAndroid, "203.0.113.5")
	m := expectAlerts(t, h, 1, "another browser")[0]
	when := h.Clock.Now().UTC().Format(time.RFC1123)
	if m.Vars["device"] != "Chrome on Android" || m.Vars["ip"] != "203.0.113.5" || m.Vars["time"] != when {
		t.Errorf("vars = %v, want Chrome on Android, 203.0.113.5, %s", m.Vars, when)
	}
	for _, want := range []string{"Chrome on Android", "203.0.113.5", when} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("email lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.Subject, "Chrome on Android") || m.Data != (authcore.MessageData{}) {
		t.Errorf("subject %q, data %+v", m.Subject, m.Data)
	}
	if tok, _ := r.Object()["token"].(string); tok == "" || strings.Contains(m.Text+m.HTML, tok) {
		t.Errorf("the session token %q is in the email (or missing from the answer)", tok)
	}

	ndSignIn(t, h, uaChromeAndroid, "203.0.113.9")
	expectAlerts(t, h, 1, "the new device again")

	ndSignIn(t, h, uaFirefoxMac, "198.51.100.5")
	expectAlerts(t, h, 2, "known browser from another /24")

	// IPv6 networks are /48s; IPv4-mapped addresses count as IPv4.
	ndSignIn(t, h, uaFirefoxMac, "2001:db8:1:2::1")
	expectAlerts(t, h, 3, "IPv6")
	ndSignIn(t, h, uaFirefoxMac, "2001:db8:1:ffff::9")
	expectAlerts(t, h, 3, "same /48")
	ndSignIn(t, h, uaFirefoxMac, "2001:db8:2::1")
	expectAlerts(t, h, 4, "another /48")
	ndSignIn(t, h, uaFirefoxMac, "::ffff:203.0.113.200")
	expectAlerts(t, h, 4, "IPv4-mapped address in a known /24")

	if keys := knownKeys(t, h, uid); len(keys) != 5 {
		t.Errorf("row holds %d keys, want 5 (Firefox ×4 networks, Chrome ×1)", len(keys))
	}
	for _, k := range knownKeys(t, h, uid) {
		if strings.Contains(k, "203.0.113") || strings.Contains(k, "Firefox") || strings.Contains(k, uid) {
			t.Errorf("key %q shows what it is made of", k)
		}
	}
}

// TestNewDeviceEmailOff: with the option off nothing is recorded and nobody is emailed.
func TestNewDeviceEmailOff(t *testing.T) {
	h := newDeviceHarness(t, false)
	uid := ndSignUp(t, h, uaFirefoxMac, "203.0.113.5")
	for i, ua := range []string{uaChromeAndroid, uaSafariIOS, uaEdgeWindows} {
		ndSignIn(t, h, ua, fmt.Sprintf("198.51.%d.1", i))
	}
	expectAlerts(t, h, 0, "option off")
	if rec := knownDevices(t, h, uid); rec != nil {
		t.Errorf("a known-devices row was stored with the option off: %v", rec)
	}
}

// TestNewDeviceFirstSignInIsSilent: a user with no known-devices row yet (an account from
// before the option was turned on, or whose row expired) is recorded without an email.
func TestNewDeviceFirstSignInIsSilent(t *testing.T) {
	h := newDeviceHarness(t, true)
	uid := ndSignUp(t, h, uaFirefoxMac, "203.0.113.5")
	h.Drain()
	if _, err := h.Engine.Store().DeleteMany(t.Context(), authcore.ModelVerification, storage.Eq("identifier", "known-devices-"+uid)); err != nil {
		t.Fatal(err)
	}
	ndSignIn(t, h, uaSafariIOS, "192.0.2.1")
	expectAlerts(t, h, 0, "first sign-in without a row")
	ndSignIn(t, h, uaEdgeWindows, "192.0.2.1")
	expectAlerts(t, h, 1, "then a new device")

	// An expired row counts as none.
	h.Clock.Advance(366 * 24 * time.Hour)
	ndSignIn(t, h, uaChromeAndroid, "10.9.8.7")
	expectAlerts(t, h, 1, "first sign-in after the row expired")
	if keys := knownKeys(t, h, uid); len(keys) != 1 {
		t.Errorf("the expired row's keys were kept: %d keys", len(keys))
	}
}

// TestNewDeviceHostileUserAgent: huge or odd user agents never break a sign-in; the alert
// names "Unknown device" and never echoes the agent.
func TestNewDeviceHostileUserAgent(t *testing.T) {
	h := newDeviceHarness(t, true)
	ndSignUp(t, h, uaFirefoxMac, "203.0.113.5")
	huge := strings.Repeat("<b>A", 16<<10) // 64 KB
	odd := "\t\xff\xfe<script>alert(1)</script>\t"
	ndSignIn(t, h, huge, "203.0.113.5")
	ndSignIn(t, h, odd, "203.0.113.5") // same device name, same network: known by now
	got := expectAlerts(t, h, 1, "hostile agents")
	if got[0].Vars["device"] != "Unknown device" || strings.Contains(got[0].Text+got[0].HTML, "<script>") ||
		strings.Contains(got[0].Text+got[0].HTML, "<b>A") {
		t.Errorf("alert: %v\n%s", got[0].Vars, got[0].HTML)
	}
	c := h.Client()
	c.Post(authcore.PathSignInEmail, map[string]any{"email": ndEmail, "password": ndPassword}, "User-Agent", huge)
	r := c.Get(authcore.PathListSessions)
	if r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), `"deviceName":"Unknown device"`) {
		t.Errorf("list-sessions with a huge agent: %d %.300s", r.StatusCode, r.Body)
	}
}

// TestNewDeviceAnonymous: anonymous users are never checked or emailed (their address is
// a placeholder), and their sign-ins store nothing.
func TestNewDeviceAnonymous(t *testing.T) {
	h := newDeviceHarness(t, true, authcoretest.WithPlugins(&anonymous.Plugin{}))
	for i, ua := range []string{uaFirefoxMac, uaChromeAndroid, uaSafariIOS} {
		r := h.Client().Post(anonymous.PathSignInAnonymous, map[string]any{}, "User-Agent", ua, testIPHdr, fmt.Sprintf("198.51.%d.1", i))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("anonymous sign-in: %d %s", r.StatusCode, r.Body)
		}
	}
	h.Drain()
	if msgs := h.Sink.Messages(); len(msgs) != 0 {
		t.Errorf("anonymous sign-ins sent %d messages: %v", len(msgs), msgs[0].Type)
	}
	rows, err := h.Engine.Store().FindMany(t.Context(), authcore.ModelVerification, storage.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if strings.HasPrefix(row.String("identifier"), "known-devices-") {
			t.Errorf("known-devices row for an anonymous user: %v", row)
		}
	}
}

// TestNewDeviceImpersonation: an admin impersonating a user from the admin's own device is
// not a sign-in of that user: no alert, and the user's known devices are unchanged.
func TestNewDeviceImpersonation(t *testing.T) {
	h := newDeviceHarness(t, true, authcoretest.WithPlugins(&admin.Plugin{}))
	uid := ndSignUp(t, h, uaFirefoxMac, "203.0.113.5")
	root := h.Client()
	r := root.Post("/sign-up/email", map[string]any{"name": "Root", "email": "root@example.com", "password": ndPassword},
		"User-Agent", uaEdgeWindows, testIPHdr, "192.0.2.10")
	rootID, _ := r.Object()["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.UpdateUser(t.Context(), rootID, storage.Record{"role": "admin"}); err != nil {
		t.Fatal(err)
	}
	h.Drain()
	before := knownKeys(t, h, uid)
	r = root.Post(admin.PathImpersonateUser, map[string]any{"userId": uid}, "User-Agent", uaEdgeWindows, testIPHdr, "192.0.2.10")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("impersonate: %d %s", r.StatusCode, r.Body)
	}
	expectAlerts(t, h, 0, "impersonation")
	if after := knownKeys(t, h, uid); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("impersonation changed the user's known devices: %v → %v", before, after)
	}
	// Control: the same device signing in as the user is new to them.
	ndSignIn(t, h, uaEdgeWindows, "192.0.2.10")
	expectAlerts(t, h, 1, "a real sign-in from the admin's device")
}

// TestNewDeviceConcurrentSignIns: 20 sign-ins from 20 new devices at once, spread over two
// engines sharing one store (two background workers, so the row updates really race):
// 20 alerts, and the row ends with exactly those 20 keys — none lost, the oldest (the
// sign-up device) pushed out by the bound.
func TestNewDeviceConcurrentSignIns(t *testing.T) {
	shared := memory.NewStore()
	opt := authcoretest.WithEngineOptions(authcore.WithStore(shared))
	h1 := newDeviceHarness(t, true, opt)
	h2 := newDeviceHarness(t, true, opt)
	uid := ndSignUp(t, h1, uaFirefoxMac, "203.0.113.5")
	h1.Drain()

	var wg sync.WaitGroup
	for i := range 20 {
		h := h1
		if i%2 == 1 {
			h = h2
		}
		wg.Go(func() {
			r := h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": ndEmail, "password": ndPassword},
				"User-Agent", uaChromeWindows, testIPHdr, fmt.Sprintf("10.0.%d.1", i))
			if r.StatusCode != http.StatusOK {
				t.Errorf("sign-in %d: %d %s", i, r.StatusCode, r.Body)
			}
		})
	}
	wg.Wait()
	if n := len(h1.Sent(ndType, ndEmail)) + len(h2.Sent(ndType, ndEmail)); n != 20 {
		t.Fatalf("%d alerts for 20 new devices, want 20", n)
	}
	if keys := knownKeys(t, h1, uid); len(keys) != 20 {
		t.Fatalf("row holds %d keys, want 20", len(keys))
	}
	// Every one of the 20 is known now; the sign-up device fell off the end.
	for i := range 20 {
		ndSignIn(t, h1, uaChromeWindows, fmt.Sprintf("10.0.%d.99", i))
	}
	expectAlerts(t, h1, 10, "the 20 devices again") // h1's own 10 from the race, no more
	ndSignIn(t, h1, uaFirefoxMac, "203.0.113.5")
	expectAlerts(t, h1, 11, "the evicted sign-up device")
}

// TestKnownDevicesSwept: the sweeper removes a known-devices row once it expires; every
// sign-in pushes its expiry a year ahead.
func TestKnownDevicesSwept(t *testing.T) {
	h := newDeviceHarness(t, true)
	uid := ndSignUp(t, h, uaFirefoxMac, "203.0.113.5")
	h.Drain()
	day := 24 * time.Hour
	h.Clock.Advance(300 * day)
	ndSignIn(t, h, uaFirefoxMac, "203.0.113.5")
	h.Drain()
	h.Clock.Advance(100 * day) // 400 days after sign-up, 100 after the last sign-in
	if _, err := h.Engine.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if knownDevices(t, h, uid) == nil {
		t.Fatal("a row refreshed 100 days ago was swept")
	}
	h.Clock.Advance(266 * day)
	if _, err := h.Engine.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rec := knownDevices(t, h, uid); rec != nil {
		t.Fatalf("expired row not swept: expires %v, now %v", rec.Time("expiresAt"), h.Clock.Now())
	}
}

// TestNewDeviceOtherSignInMethods: plugin sign-ins go through the same step. A password
// sign-in interrupted by two-factor creates no session and no alert; completing the second
// factor does (once). Turning two-factor on re-issues the session without a sign-in: no
// alert. A magic-link sign-in from a new device alerts too.
func TestNewDeviceOtherSignInMethods(t *testing.T) {
	h := newDeviceHarness(t, true, authcoretest.WithPlugins(&twofactor.Plugin{}, &magiclink.Plugin{}))
	owner := h.Client()
	owner.Header.Set("User-Agent", uaFirefoxMac)
	owner.Header.Set(testIPHdr, "203.0.113.5")
	if r := owner.Post("/sign-up/email", map[string]any{"name": "N", "email": ndEmail, "password": ndPassword}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	r := owner.Post(twofactor.PathEnable, map[string]any{"password": ndPassword})
	uri, _ := r.Object()["totpURI"].(string)
	u, err := url.Parse(uri)
	if r.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("enable: %d %s", r.StatusCode, r.Body)
	}
	secret := u.Query().Get("secret") // base32, as an authenticator app reads it
	totpCode := func() string {
		h.Clock.Advance(30 * time.Second)
		c, err := totp.GenerateCodeCustom(secret, h.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if r := owner.Post(twofactor.PathVerifyTOTP, map[string]any{"code": totpCode()}); r.StatusCode != http.StatusOK {
		t.Fatalf("verify-totp (enrol): %d %s", r.StatusCode, r.Body)
	}
	expectAlerts(t, h, 0, "two-factor enrolment re-issues the session")

	phone := h.Client()
	phone.Header.Set("User-Agent", uaChromeAndroid)
	phone.Header.Set(testIPHdr, "198.51.100.7")
	r = phone.Post(authcore.PathSignInEmail, map[string]any{"email": ndEmail, "password": ndPassword})
	if r.StatusCode != http.StatusOK || r.Object()["twoFactorRedirect"] != true {
		t.Fatalf("sign-in: %d %s, want the two-factor interruption", r.StatusCode, r.Body)
	}
	expectAlerts(t, h, 0, "sign-in interrupted by two-factor")
	if r := phone.Post(twofactor.PathVerifyTOTP, map[string]any{"code": totpCode()}); r.StatusCode != http.StatusOK {
		t.Fatalf("verify-totp (sign-in): %d %s", r.StatusCode, r.Body)
	}
	if m := expectAlerts(t, h, 1, "two-factor completed"); m[0].Vars["device"] != "Chrome on Android" {
		t.Errorf("vars %v", m[0].Vars)
	}

	// (A verified address: a magic link to an unverified one claims the account, which
	// resets its credentials, two-factor included.)
	if _, err := h.Engine.Store().Update(t.Context(), authcore.ModelUser, storage.Eq("email", ndEmail), storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}
	tablet := h.Client()
	tablet.Header.Set("User-Agent", uaSafariIPad)
	tablet.Header.Set(testIPHdr, "192.0.2.44")
	if r := tablet.Post("/sign-in/magic-link", map[string]any{"email": ndEmail}); r.StatusCode != http.StatusOK {
		t.Fatalf("magic link: %d %s", r.StatusCode, r.Body)
	}
	links := h.Sent("magic-link", ndEmail)
	if len(links) != 1 {
		t.Fatalf("%d magic-link emails", len(links))
	}
	// A magic link is a first factor too, so two-factor interrupts it: no session, no
	// alert, until the tablet completes it with a code.
	r = tablet.Get("/magic-link/verify?token=" + url.QueryEscape(links[0].Data.Token))
	if r.StatusCode >= 400 || tablet.CookieValue("better-auth.session_token") != "" {
		t.Fatalf("magic-link verify: %d %s, want the two-factor interruption", r.StatusCode, r.Body)
	}
	expectAlerts(t, h, 1, "magic link interrupted by two-factor")
	if r := tablet.Post(twofactor.PathVerifyTOTP, map[string]any{"code": totpCode()}); r.StatusCode != http.StatusOK {
		t.Fatalf("verify-totp (magic link): %d %s", r.StatusCode, r.Body)
	}
	if m := expectAlerts(t, h, 2, "magic link from a tablet"); m[1].Vars["device"] != "Safari on iOS" || m[1].Vars["ip"] != "192.0.2.44" {
		t.Errorf("vars %v", m[1].Vars)
	}
}

// TestNewDevicePlaceholderAddress: users whose address is a placeholder in the reserved
// .invalid domain (phone-number sign-ups, D1) are never checked.
func TestNewDevicePlaceholderAddress(t *testing.T) {
	h := newDeviceHarness(t, true)
	const placeholder = "15555550100@phone-number.placeholder.invalid"
	r := h.Client().Post("/sign-up/email", map[string]any{"name": "P", "email": placeholder, "password": ndPassword},
		"User-Agent", uaFirefoxMac, testIPHdr, "203.0.113.5")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	uid, _ := r.Object()["user"].(map[string]any)["id"].(string)
	for i, ua := range []string{uaChromeAndroid, uaSafariIOS} {
		r := h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": placeholder, "password": ndPassword},
			"User-Agent", ua, testIPHdr, fmt.Sprintf("198.51.%d.1", i))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
		}
	}
	if n := len(h.Sent(ndType, placeholder)); n != 0 {
		t.Errorf("%d alerts to a placeholder address", n)
	}
	if rec := knownDevices(t, h, uid); rec != nil {
		t.Errorf("known-devices row for a placeholder address: %v", rec)
	}
}
