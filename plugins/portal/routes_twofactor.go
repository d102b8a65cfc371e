package portal

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
)

// twoFactorRoutes are the second-factor challenge of a pending sign-in and the account's
// two-factor enrolment. Every action is a call of the two_factor plugin's JSON API.
func (p *Plugin) twoFactorRoutes() []route {
	return []route{
		{"GET", "/two-factor", p.twoFactorPage},
		{"POST", "/two-factor", p.twoFactorPost},
		{"POST", "/two-factor/send-otp", p.twoFactorSendOTP},
		{"POST", "/two-factor/backup-code", p.twoFactorBackupPost},
		{"GET", "/account/two-factor", p.accountTwoFactorPage},
		{"POST", "/account/two-factor/enable", p.accountTwoFactorEnable},
		{"POST", "/account/two-factor/verify", p.accountTwoFactorVerify},
		{"POST", "/account/two-factor/show-qr", p.accountTwoFactorShowQR},
		{"POST", "/account/two-factor/disable", p.accountTwoFactorDisable},
		{"POST", "/account/two-factor/regenerate", p.accountTwoFactorRegenerate},
	}
}

// pendingMethods is the two_factor plugin's view of the browser's pending sign-in.
type pendingMethodser interface {
	PendingMethods(r *http.Request) ([]string, bool, error)
}

// twoFactorData is the challenge page's data.
type twoFactorData struct {
	pageData
	TOTP, OTP, Passkey bool
	// Method is the method the code form verifies: "totp", or "otp" once a code was sent;
	// "" shows no code form (no authenticator, and no code sent yet).
	Method      string
	TrustDevice bool
	// Expired: the pending sign-in is gone; only the way back to sign-in is offered.
	Expired bool
}

// challengeData builds the challenge page for r, or ok=false when the browser has no live
// pending sign-in.
func (p *Plugin) challengeData(w http.ResponseWriter, r *http.Request) (twoFactorData, bool) {
	d := twoFactorData{pageData: p.page(w, r)}
	api, found := p.engine.Plugin(authcore.TwoFactorID)
	pm, isPM := api.(pendingMethodser)
	if !found || !isPM {
		return d, false
	}
	methods, ok, err := pm.PendingMethods(r)
	if err != nil {
		p.engine.Logger().Error("portal: pending two-factor sign-in", "err", err)
	}
	if !ok {
		d.Expired = true
		return d, false
	}
	for _, m := range methods {
		switch m {
		case twofactor.MethodTOTP:
			d.TOTP = true
		case twofactor.MethodOTP:
			d.OTP = true
		case "passkey":
			d.Passkey = d.EnabledMethods.Passkey
		}
	}
	if d.Passkey {
		d.Scripts = []string{"passkey.js"}
	}
	if d.TOTP {
		d.Method = twofactor.MethodTOTP
	}
	return d, true
}

// twoFactorPage is the challenge after the sign-in page (two_factor cookie): without a live
// pending sign-in it goes back to sign in.
func (p *Plugin) twoFactorPage(w http.ResponseWriter, r *http.Request) {
	d, ok := p.challengeData(w, r)
	if !ok {
		p.redirectUI(w, r, "/sign-in", "callbackURL", p.callbackParam(r))
		return
	}
	p.render(w, r, http.StatusOK, "two-factor", d)
}

// challengeResult finishes a verify call: the session cookies and the callbackURL on
// success, else the page again with the error and the API's status.
func (p *Plugin) challengeResult(w http.ResponseWriter, r *http.Request, res apiResult, method string) {
	res.CopyCookies(w)
	if res.OK() {
		p.redirect(w, r, p.callback(r))
		return
	}
	d, live := p.challengeData(w, r)
	if res.Code == "INVALID_TWO_FACTOR_COOKIE" || res.Code == "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE" {
		live = false
	}
	d.Expired = !live
	if method != "" && live {
		d.Method = method
	}
	d.TrustDevice = r.PostForm.Get("trust-device") != ""
	d.Error, d.ErrorCode = errorText(res.Code), res.Code
	p.render(w, r, res.Status, "two-factor", d)
}

// twoFactorPost verifies the code form: an authenticator code (method totp) or an emailed
// code (method otp, after "send me a code").
func (p *Plugin) twoFactorPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "two-factor") {
		return
	}
	method := r.PostForm.Get("method")
	path := "/two-factor/verify-totp"
	if method == twofactor.MethodOTP {
		path = "/two-factor/verify-otp"
	} else {
		method = twofactor.MethodTOTP
	}
	code := compactCode(r.PostForm.Get("code"))
	if code == "" {
		p.challengeResult(w, r, apiResult{Status: http.StatusBadRequest, Code: "MISSING_FIELDS"}, method)
		return
	}
	res := p.api(r, http.MethodPost, path, map[string]any{"code": code, "trustDevice": r.PostForm.Get("trust-device") != ""})
	p.challengeResult(w, r, res, method)
}

// twoFactorSendOTP asks for an emailed (or texted) code and shows the code form for it.
func (p *Plugin) twoFactorSendOTP(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "two-factor-send-otp") {
		return
	}
	res := p.api(r, http.MethodPost, "/two-factor/send-otp", map[string]any{})
	res.CopyCookies(w)
	if !res.OK() {
		p.challengeResult(w, r, res, "")
		return
	}
	d, live := p.challengeData(w, r)
	d.Expired = !live
	d.Method = twofactor.MethodOTP
	d.Flash = t("twofactor.otp_sent")
	p.render(w, r, http.StatusOK, "two-factor", d)
}

// twoFactorBackupPost signs in with a backup code.
func (p *Plugin) twoFactorBackupPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "two-factor-backup") {
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("backup-code"))
	if code == "" || len(code) > 200 {
		p.challengeResult(w, r, apiResult{Status: http.StatusBadRequest, Code: "MISSING_FIELDS"}, "")
		return
	}
	res := p.api(r, http.MethodPost, "/two-factor/verify-backup-code", map[string]any{"code": code, "trustDevice": r.PostForm.Get("trust-device") != ""})
	p.challengeResult(w, r, res, "")
}

// compactCode removes the spaces and dashes people type into a numeric code ("123 456");
// anything else is passed as is for the API to refuse.
func compactCode(s string) string {
	s = strings.Map(func(c rune) rune {
		if c == ' ' || c == '-' || c == '\t' {
			return -1
		}
		return c
	}, s)
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// accountTwoFactorData is the enrolment page's data.
type accountTwoFactorData struct {
	pageData
	Enabled bool
	// Set on the answer to enable (and show-qr): what an authenticator app needs. Never
	// stored in a URL or cookie; a reload shows the enable form again.
	QR        template.URL // data:image/png;base64,...
	Secret    string       // base32, for manual entry
	TOTPURI   template.URL // otpauth://...
	Verifying bool         // the verify form is shown
	// BackupCodes are shown once, on the answer that created them.
	BackupCodes []string
}

// accountData returns the enrolment page data, or redirects to sign-in (ok=false) when the
// browser is signed out.
func (p *Plugin) accountTwoFactorData(w http.ResponseWriter, r *http.Request) (accountTwoFactorData, bool) {
	d := accountTwoFactorData{pageData: p.page(w, r)}
	if d.User == nil {
		p.redirectUI(w, r, "/sign-in", "callbackURL", p.uiPath("/account/two-factor"))
		return d, false
	}
	d.Enabled, _ = d.User.Raw["twoFactorEnabled"].(bool)
	return d, true
}

// accountStatusFlash maps ?status= of a redirect back to the page to its message.
var accountStatusFlash = map[string]string{
	"enabled":  "twofactor.account.enabled_flash",
	"disabled": "twofactor.account.disabled_flash",
}

func (p *Plugin) accountTwoFactorPage(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountTwoFactorData(w, r)
	if !ok {
		return
	}
	if key, ok := accountStatusFlash[r.URL.Query().Get("status")]; ok {
		d.Flash = t(key)
	}
	p.render(w, r, http.StatusOK, "account-two-factor", d)
}

// postAccountTwoFactor is the common start of the enrolment POSTs: signed in (else the
// sign-in page), CSRF checked.
func (p *Plugin) postAccountTwoFactor(w http.ResponseWriter, r *http.Request, form string) (accountTwoFactorData, bool) {
	if !p.checkPost(w, r, form) {
		return accountTwoFactorData{}, false
	}
	return p.accountTwoFactorData(w, r)
}

// accountError re-renders the enrolment page with the API's error and status.
func (p *Plugin) accountError(w http.ResponseWriter, r *http.Request, d accountTwoFactorData, res apiResult) {
	res.CopyCookies(w)
	d.Error, d.ErrorCode = errorText(res.Code), res.Code
	p.render(w, r, res.Status, "account-two-factor", d)
}

// setTOTP fills the QR code, secret and URI from a totpURI.
func (d *accountTwoFactorData) setTOTP(uri string) error {
	png, err := twofactor.QRCodePNG(uri, 240)
	if err != nil {
		return err
	}
	u, err := url.Parse(uri)
	if err != nil {
		return err
	}
	d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	d.Secret = u.Query().Get("secret")
	d.TOTPURI = template.URL(uri)
	d.Verifying = true
	return nil
}

var missingPassword = apiResult{Status: http.StatusBadRequest, Code: "MISSING_FIELDS"}

// passwordPost is the common part of the enrolment forms confirmed with the password: the
// form checks, then path is called with {password}; a refusal re-renders the page (with the
// pending enrolment's forms when verifying). false means the answer was written.
func (p *Plugin) passwordPost(w http.ResponseWriter, r *http.Request, form, path string, verifying bool) (accountTwoFactorData, apiResult, bool) {
	d, ok := p.postAccountTwoFactor(w, r, form)
	if !ok {
		return d, apiResult{}, false
	}
	d.Verifying = verifying
	pw := r.PostForm.Get("password")
	if pw == "" {
		p.accountError(w, r, d, missingPassword)
		return d, apiResult{}, false
	}
	res := p.api(r, http.MethodPost, path, map[string]any{"password": pw})
	if !res.OK() {
		p.accountError(w, r, d, res)
		return d, res, false
	}
	res.CopyCookies(w)
	return d, res, true
}

// renderTOTP shows the enrolment page with the authenticator of a totpURI.
func (p *Plugin) renderTOTP(w http.ResponseWriter, r *http.Request, d accountTwoFactorData, uri string) {
	if err := d.setTOTP(uri); err != nil {
		p.engine.Logger().Error("portal: two-factor QR code", "err", err)
		p.renderError(w, r, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR")
		return
	}
	p.render(w, r, http.StatusOK, "account-two-factor", d)
}

// accountTwoFactorEnable starts enrolment: /two-factor/enable answers the authenticator URI
// and the backup codes, shown on this answer only, with the verify form.
func (p *Plugin) accountTwoFactorEnable(w http.ResponseWriter, r *http.Request) {
	d, res, ok := p.passwordPost(w, r, "two-factor-enable", "/two-factor/enable", false)
	if !ok {
		return
	}
	d.BackupCodes = stringList(res.Object()["backupCodes"])
	p.renderTOTP(w, r, d, res.String("totpURI"))
}

// accountTwoFactorVerify finishes enrolment with a first authenticator code.
func (p *Plugin) accountTwoFactorVerify(w http.ResponseWriter, r *http.Request) {
	d, ok := p.postAccountTwoFactor(w, r, "two-factor-verify")
	if !ok {
		return
	}
	code := compactCode(r.PostForm.Get("code"))
	if code == "" {
		d.Verifying = true
		p.accountError(w, r, d, missingPassword)
		return
	}
	res := p.api(r, http.MethodPost, "/two-factor/verify-totp", map[string]any{"code": code})
	if !res.OK() {
		d.Verifying = !d.Enabled
		p.accountError(w, r, d, res)
		return
	}
	res.CopyCookies(w) // the session was rotated
	p.redirectUI(w, r, "/account/two-factor", "status", "enabled")
}

// accountTwoFactorShowQR shows the pending authenticator's QR code again (the password is
// asked again: the secret is never kept in the page's URL or cookies).
func (p *Plugin) accountTwoFactorShowQR(w http.ResponseWriter, r *http.Request) {
	d, res, ok := p.passwordPost(w, r, "two-factor-show-qr", "/two-factor/get-totp-uri", true)
	if ok {
		p.renderTOTP(w, r, d, res.String("totpURI"))
	}
}

// accountTwoFactorDisable turns two-factor off.
func (p *Plugin) accountTwoFactorDisable(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := p.passwordPost(w, r, "two-factor-disable", "/two-factor/disable", false); ok {
		p.redirectUI(w, r, "/account/two-factor", "status", "disabled")
	}
}

// accountTwoFactorRegenerate replaces the backup codes and shows the new ones once.
func (p *Plugin) accountTwoFactorRegenerate(w http.ResponseWriter, r *http.Request) {
	d, res, ok := p.passwordPost(w, r, "two-factor-regenerate", "/two-factor/generate-backup-codes", false)
	if !ok {
		return
	}
	d.BackupCodes = stringList(res.Object()["backupCodes"])
	d.Flash = t("twofactor.account.regenerated_flash")
	p.render(w, r, http.StatusOK, "account-two-factor", d)
}

// stringList converts a JSON array of strings.
func stringList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
