package twofactor

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

var tags = []string{"Two factor"}

func obj(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}

var (
	schemaString  = map[string]any{"type": "string"}
	schemaBool    = map[string]any{"type": "boolean"}
	schemaStrings = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	schemaSignIn  = obj(map[string]any{"token": schemaString, "user": map[string]any{"$ref": "#/components/schemas/User"}})
	schemaStatus  = obj(map[string]any{"status": schemaBool})
)

func (p *Plugin) endpoints() []authcore.Endpoint {
	password := authcore.String("password").Doc("The user's password")
	if !p.AllowPasswordless {
		password = password.Req()
	}
	code := authcore.String("code").Req().Doc("The code to verify")
	trust := authcore.Bool("trustDevice").Doc("Trust this device: later sign-ins on it skip the second factor (trust_device_max_age, default 30 days)")
	return []authcore.Endpoint{
		{
			Method: http.MethodPost, Path: PathEnable, Audit: authcore.AuditTwoFactorEnable, Auth: authcore.AuthSession, Handler: p.enable, NoStore: true,
			Body: []authcore.Param{password,
				authcore.String("method").Doc(`"totp" (default): an authenticator app; "otp": codes by email or SMS, enabled at once`),
				authcore.String("issuer").Len(0, 200).Doc("Issuer shown by authenticator apps (default: the issuer option, then the app name)")},
			Summary: "Enable two factor authentication", Tags: tags,
			Description: "With method totp returns the otpauth URI and backup codes; two-factor turns on with the first verify-totp. With method otp two-factor turns on at once and the session is rotated.",
			Response:    obj(map[string]any{"method": schemaString, "totpURI": schemaString, "backupCodes": schemaStrings}),
			Errors: []authcore.ErrorCode{authcore.CodeInvalidPassword, CodeOTPNotConfigured, CodeTOTPNotConfigured,
				CodeTOTPAlreadyEnabled, authcore.CodeValidationError},
		},
		{
			Method: http.MethodPost, Path: PathDisable, Audit: authcore.AuditTwoFactorDisable, Auth: authcore.AuthSensitive, Handler: p.disable, BodyOptional: p.AllowPasswordless,
			Body:    []authcore.Param{password},
			Summary: "Disable two factor authentication", Tags: tags,
			Description: "Removes the authenticator and backup codes, ends every trusted device and rotates the session.",
			Response:    schemaStatus, Errors: []authcore.ErrorCode{authcore.CodeInvalidPassword},
		},
		{
			Method: http.MethodPost, Path: PathGetTOTPURI, Auth: authcore.AuthSession, Handler: p.getTOTPURI, NoStore: true,
			BodyOptional: p.AllowPasswordless,
			Body:         []authcore.Param{password},
			Summary:      "Get TOTP URI", Tags: tags,
			Response: obj(map[string]any{"totpURI": schemaString}),
			Errors:   []authcore.ErrorCode{CodeTOTPNotConfigured, CodeTOTPNotEnabled, authcore.CodeInvalidPassword},
		},
		{
			Method: http.MethodPost, Path: PathVerifyTOTP, Handler: p.verifyTOTP, NoStore: true,
			Body:    []authcore.Param{code, trust},
			Summary: "Verify two factor TOTP", Tags: tags,
			Description: "With the two_factor cookie of a pending sign-in: completes it and creates the session. With a session: confirms an enrolment (two-factor turns on, the session is rotated and the new token returned).",
			Response:    schemaSignIn,
			Errors: []authcore.ErrorCode{CodeTOTPNotConfigured, CodeTOTPNotEnabled, CodeInvalidTwoFactorCookie, CodeInvalidCode,
				CodeTooManyAttemptsRequestNewCode, CodeAccountTemporarilyLocked},
		},
		{
			Method: http.MethodPost, Path: PathSendOTP, Handler: p.sendOTP, BodyOptional: true,
			Body:    []authcore.Param{trust},
			Summary: "Send two factor OTP", Tags: tags,
			Description: "Sends a one-time code by email (message type two-factor-otp) or, with otp_channel sms, by SMS to the verified phone number.",
			Response:    schemaStatus, Errors: []authcore.ErrorCode{CodeOTPNotConfigured, CodeInvalidTwoFactorCookie},
		},
		{
			Method: http.MethodPost, Path: PathVerifyOTP, Handler: p.verifyOTP, NoStore: true,
			Body:    []authcore.Param{code, trust},
			Summary: "Verify two factor OTP", Tags: tags,
			Response: schemaSignIn,
			Errors: []authcore.ErrorCode{CodeInvalidTwoFactorCookie, CodeOTPHasExpired, CodeInvalidCode,
				CodeTooManyAttemptsRequestNewCode, CodeAccountTemporarilyLocked},
		},
		{
			Method: http.MethodPost, Path: PathVerifyBackupCode, Handler: p.verifyBackupCode, NoStore: true,
			Body: []authcore.Param{code,
				authcore.Bool("disableSession").Doc("Spend the code without creating a session"), trust},
			Summary: "Verify a backup code for two-factor authentication", Tags: tags,
			Response: schemaSignIn,
			Errors: []authcore.ErrorCode{CodeInvalidTwoFactorCookie, CodeBackupCodesNotEnabled, CodeInvalidBackupCode,
				CodeTooManyAttemptsRequestNewCode, CodeAccountTemporarilyLocked},
		},
		{
			Method: http.MethodPost, Path: PathGenerateBackupCodes, Audit: authcore.AuditTwoFactorBackupCodes, Auth: authcore.AuthSession, Handler: p.generateBackupCodes,
			NoStore: true, BodyOptional: p.AllowPasswordless,
			Body:    []authcore.Param{password},
			Summary: "Generate new backup codes for two-factor authentication", Tags: tags,
			Description: "Replaces every backup code; the old ones stop working.",
			Response:    obj(map[string]any{"status": schemaBool, "backupCodes": schemaStrings}),
			Errors:      []authcore.ErrorCode{CodeTwoFactorNotEnabled, authcore.CodeInvalidPassword},
		},
	}
}

// checkPassword applies the password rule of the management routes: the password is
// required and checked, except that with allow_passwordless a user without one may go on.
// Every refusal is 400 INVALID_PASSWORD, as in Better Auth.
func (p *Plugin) checkPassword(c *authcore.Call, userID string) error {
	e := p.engine
	pw := c.Body.String("password")
	if pw == "" && !p.AllowPasswordless {
		return errInvalidPassword
	}
	if len(pw) > 4*e.Config().EmailAndPassword.MaxPasswordLength {
		return errInvalidPassword // no hashing of absurd input
	}
	ok, hasPassword, err := e.CheckUserPassword(c.Context(), userID, pw)
	if err != nil {
		return err
	}
	if ok || (p.AllowPasswordless && !hasPassword) {
		return nil
	}
	return errInvalidPassword
}

// rotate replaces the caller's session with a new one for user (after its two-factor state
// changed): the new session's cookies are set and the old session is revoked.
func (p *Plugin) rotate(c *authcore.Call, s *authcore.Session, user storage.Record) (*authcore.Session, error) {
	_, dontRemember := c.SignedCookie(authcore.CookieDontRemember)
	ns, err := c.StartSession(user, dontRemember)
	if err != nil {
		return nil, err
	}
	if err := p.engine.RevokeSession(c.Context(), s.ID()); err != nil {
		return nil, err
	}
	return ns, nil
}

// setEnabled writes the user's twoFactorEnabled flag and returns the updated user.
func (p *Plugin) setEnabled(c *authcore.Call, userID string, on bool) (storage.Record, error) {
	u, err := p.engine.UpdateUser(c.Context(), userID, storage.Record{FieldTwoFactorEnabled: on})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	return u, nil
}

// enableBody is /two-factor/enable's TOTP answer, in Better Auth's key order.
type enableBody struct {
	Method      string   `json:"method"`
	TOTPURI     string   `json:"totpURI"`
	BackupCodes []string `json:"backupCodes"`
}

// enable is POST /two-factor/enable.
func (p *Plugin) enable(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	user := s.User
	if err := p.checkPassword(c, user.ID()); err != nil {
		return nil, err
	}
	method := MethodTOTP
	if c.Body.Has("method") {
		method = c.Body.String("method")
	}
	switch method {
	case MethodOTP:
		if _, ok := p.otpRoute(user); !ok {
			return nil, CodeOTPNotConfigured.With(http.StatusBadRequest)
		}
		updated, err := p.setEnabled(c, user.ID(), true)
		if err != nil {
			return nil, err
		}
		if _, err := p.rotate(c, s, updated); err != nil {
			return nil, err
		}
		c.AuditDetail("method", MethodOTP)
		return map[string]any{"method": MethodOTP}, nil
	case MethodTOTP:
	default:
		return nil, &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
			Message: `[body.method] Invalid option: expected one of "otp"|"totp"`}
	}
	if p.DisableTOTP {
		return nil, CodeTOTPNotConfigured.With(http.StatusBadRequest)
	}
	ctx := c.Context()
	e := p.engine
	row, err := p.row(ctx, user.ID())
	if err != nil {
		return nil, err
	}
	if row != nil && verified(row) {
		// npm 1.7.25: a confirmed authenticator is not silently replaced (disable first).
		return nil, CodeTOTPAlreadyEnabled.With(http.StatusBadRequest)
	}
	secret, err := p.newSecret()
	if err != nil {
		return nil, err
	}
	encSecret, err := e.Keys().Encrypt(e.Random().Reader(), []byte(secret))
	if err != nil {
		return nil, authcore.Internal(err)
	}
	codes, storedCodes, err := p.newBackupCodes()
	if err != nil {
		return nil, err
	}
	set := storage.Record{FieldSecret: encSecret, FieldBackupCodes: storedCodes,
		FieldVerified: p.SkipVerificationOnEnable, FieldLastTOTPStep: nil}
	if row != nil {
		_, err = e.Store().Update(ctx, ModelTwoFactor, storage.ByID(row.ID()), set)
	} else {
		id, ierr := e.NewID()
		if ierr != nil {
			return nil, ierr
		}
		rec := set.Clone()
		delete(rec, FieldLastTOTPStep)
		rec["id"], rec[FieldUserID] = id, user.ID()
		_, err = e.Store().Create(ctx, ModelTwoFactor, rec)
		if errors.Is(err, storage.ErrDuplicate) { // a concurrent enable created it
			_, err = e.Store().Update(ctx, ModelTwoFactor, storage.Eq(FieldUserID, user.ID()), set)
		}
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	c.AuditDetail("method", MethodTOTP)
	if !p.SkipVerificationOnEnable {
		c.AuditDetail("step", "pending_verification") // enabled when a code is verified
	}
	if p.SkipVerificationOnEnable {
		updated, err := p.setEnabled(c, user.ID(), true)
		if err != nil {
			return nil, err
		}
		if _, err := p.rotate(c, s, updated); err != nil {
			return nil, err
		}
	}
	return enableBody{Method: MethodTOTP, TOTPURI: p.totpURI(secret, p.issuer(c.Body.String("issuer")), user.String("email")),
		BackupCodes: codes}, nil
}

// disable is POST /two-factor/disable.
func (p *Plugin) disable(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	userID := s.UserID()
	if err := p.checkPassword(c, userID); err != nil {
		return nil, err
	}
	updated, err := p.setEnabled(c, userID, false)
	if err != nil {
		return nil, err
	}
	if _, err := p.engine.Store().DeleteMany(ctx, ModelTwoFactor, storage.Eq(FieldUserID, userID)); err != nil {
		return nil, authcore.Internal(err)
	}
	if _, err := p.rotate(c, s, updated); err != nil {
		return nil, err
	}
	// Better Auth ends only the device the request comes from; every device of the user is
	// ended here, server-side, and this one's cookie expires.
	if err := p.revokeTrustedDevices(ctx, userID); err != nil {
		return nil, err
	}
	if _, ok := c.Cookie(CookieTrustDevice); ok {
		c.ExpireCookie(CookieTrustDevice)
	}
	return map[string]any{"status": true}, nil
}

// getTOTPURI is POST /two-factor/get-totp-uri.
func (p *Plugin) getTOTPURI(c *authcore.Call) (any, error) {
	if p.DisableTOTP {
		return nil, errTOTPDisabled
	}
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	row, err := p.row(c.Context(), s.UserID())
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, CodeTOTPNotEnabled.With(http.StatusBadRequest)
	}
	if err := p.checkPassword(c, s.UserID()); err != nil {
		return nil, err
	}
	secret, err := p.engine.Keys().Decrypt(row.String(FieldSecret))
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return map[string]any{"totpURI": p.totpURI(string(secret), p.issuer(""), s.User.String("email"))}, nil
}

// generateBackupCodes is POST /two-factor/generate-backup-codes.
func (p *Plugin) generateBackupCodes(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	if !twoFactorEnabled(s.User) {
		return nil, CodeTwoFactorNotEnabled.With(http.StatusBadRequest)
	}
	if err := p.checkPassword(c, s.UserID()); err != nil {
		return nil, err
	}
	ctx := c.Context()
	row, err := p.row(ctx, s.UserID())
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, CodeTwoFactorNotEnabled.With(http.StatusBadRequest)
	}
	codes, stored, err := p.newBackupCodes()
	if err != nil {
		return nil, err
	}
	if _, err := p.engine.Store().Update(ctx, ModelTwoFactor, storage.ByID(row.ID()), storage.Record{FieldBackupCodes: stored}); err != nil {
		return nil, authcore.Internal(err)
	}
	return backupCodesBody{Status: true, BackupCodes: codes}, nil
}

// backupCodesBody is generate-backup-codes' answer, in Better Auth's key order.
type backupCodesBody struct {
	Status      bool     `json:"status"`
	BackupCodes []string `json:"backupCodes"`
}
