package twofactor_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
)

func auditWant(t *testing.T, rec map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s: %s = %v, want %v (%v)", rec["type"], k, rec[k], v, rec)
		}
	}
}

func auditDetail(rec map[string]any, k string) any {
	d, _ := rec["details"].(map[string]any)
	return d[k]
}

// Enabling (pending, then verified), the sign-in challenge, a wrong and a right second
// factor, backup codes and disabling are each one event; no code or secret is logged.
func TestAuditTwoFactorEvents(t *testing.T) {
	h := newHarness(t, nil)
	a := signUp(t, h, "alice@example.com")
	h.Audit.Reset()
	body := wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}))
	a.secret = secretOf(t, body["totpURI"].(string))
	rec := h.Audit.One(t, authcore.AuditTwoFactorEnable)
	auditWant(t, rec, map[string]any{"result": "success", "actor": a.id})
	if auditDetail(rec, "step") != "pending_verification" || auditDetail(rec, "method") != "totp" {
		t.Errorf("enable details %v", rec["details"])
	}
	enrolCode := nextCode(t, h, a.secret)
	wantOK(t, a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": enrolCode}))
	if recs := h.Audit.Of(authcore.AuditTwoFactorEnable); len(recs) != 2 || auditDetail(recs[1], "step") != "verified" || recs[1]["actor"] != a.id {
		t.Fatalf("verified enrolment: %v", recs)
	}

	h.Audit.Reset()
	c, r := signIn(t, h, a.email)
	wantInterrupted(t, r, "totp", "otp")
	auditWant(t, h.Audit.One(t, authcore.AuditSignInChallenge), map[string]any{"result": "success", "actor": a.id, "method": "email"})
	if n := len(h.Audit.Of(authcore.AuditSignIn)); n != 0 {
		t.Errorf("a pending sign-in logged %d sign_in events", n)
	}
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	auditWant(t, h.Audit.One(t, authcore.AuditSignInFailure), map[string]any{"result": "failure", "actor": a.id,
		"method": "two-factor", "code": twofactor.CodeInvalidCode.Code})
	good := nextCode(t, h, a.secret)
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": good}))
	in := h.Audit.One(t, authcore.AuditSignIn)
	auditWant(t, in, map[string]any{"result": "success", "actor": a.id, "method": "two-factor"})
	if in["session"] == nil {
		t.Errorf("sign_in after two-factor names no session: %v", in)
	}

	h.Audit.Reset()
	codes := strs(wantOK(t, a.c.Post(twofactor.PathGenerateBackupCodes, map[string]any{"password": pw}))["backupCodes"])
	auditWant(t, h.Audit.One(t, authcore.AuditTwoFactorBackupCodes), map[string]any{"result": "success", "actor": a.id})
	wantOK(t, a.c.Post(twofactor.PathDisable, map[string]any{"password": pw}))
	auditWant(t, h.Audit.One(t, authcore.AuditTwoFactorDisable), map[string]any{"result": "success", "actor": a.id})

	secrets := append([]string{pw, a.secret, enrolCode, good}, codes...)
	log := h.Audit.Text()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the audit log contains the secret %q", s)
		}
	}
}
