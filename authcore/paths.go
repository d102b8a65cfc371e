package authcore

// Route paths of the core endpoints, relative to the base path. Plugins match them with
// MatchPath(PathSignInEmail) instead of spelling routes as strings.
const (
	PathSignUpEmail           = "/sign-up/email"
	PathSignInEmail           = "/sign-in/email"
	PathGetSession            = "/get-session"
	PathSignOut               = "/sign-out"
	PathListSessions          = "/list-sessions"
	PathRevokeSession         = "/revoke-session"
	PathRevokeSessions        = "/revoke-sessions"
	PathRevokeOtherSessions   = "/revoke-other-sessions"
	PathUpdateUser            = "/update-user"
	PathUpdateSession         = "/update-session"
	PathChangePassword        = "/change-password"
	PathVerifyPassword        = "/verify-password"
	PathChangeEmail           = "/change-email"
	PathDeleteUser            = "/delete-user"
	PathDeleteUserCallback    = "/delete-user/callback"
	PathRequestPasswordReset  = "/request-password-reset"
	PathResetPasswordCallback = "/reset-password/:token"
	PathResetPassword         = "/reset-password"
	PathSendVerificationEmail = "/send-verification-email"
	PathVerifyEmail           = "/verify-email"
	PathListAccounts          = "/list-accounts"
	PathUnlinkAccount         = "/unlink-account"
	PathSignInSocial          = "/sign-in/social"
	PathCallback              = "/callback/:id"
	PathLinkSocial            = "/link-social"
	PathGetAccessToken        = "/get-access-token"
	PathRefreshToken          = "/refresh-token"
	PathAccountInfo           = "/account-info"
	PathOK                    = "/ok"
	PathError                 = "/error"
)

// registerCore registers the core models, error codes, routes and the session-cookie
// authenticator under the owner "core".
func (e *Engine) registerCore() error {
	r := &Registrar{engine: e, owner: "core", reg: e.reg}
	for _, m := range coreModels() {
		if err := r.Model(m); err != nil {
			return err
		}
	}
	if err := e.registerStoredLimits(r); err != nil {
		return err
	}
	if err := e.registerAuditModel(r); err != nil {
		return err
	}
	if err := r.Errors(baseErrorCodes...); err != nil {
		return err
	}
	if err := r.Errors(socialErrorCodes...); err != nil {
		return err
	}
	for _, ep := range e.coreEndpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	r.Authenticator(OrderSessionCookie, cookieAuthenticator{e})
	return nil
}

// Response shapes shared by several core endpoints.
var (
	respStatus         = ObjectOf(map[string]any{"status": "boolean"}, "status")
	respSuccess        = ObjectOf(map[string]any{"success": "boolean"}, "success")
	respSuccessMessage = ObjectOf(map[string]any{"success": "boolean", "message": "string"}, "success", "message")
)

func (e *Engine) coreEndpoints() []Endpoint {
	return []Endpoint{
		{Method: "POST", Path: PathSignUpEmail, Audit: AuditSignUp, Handler: e.signUpEmail, FormCSRF: true, AllowForm: true, UserFields: true,
			Body: []Param{String("name").Req(), String("email").Req(), String("password").Req().Len(1, 0),
				String("image"), String("callbackURL"), Bool("rememberMe")},
			Summary: "Sign up a user using email and password", Response: ObjectOf(map[string]any{"token": Nullable("string"), "user": ModelRef(ModelUser)}, "token", "user"), Tags: []string{"Default"},
			Errors: []ErrorCode{CodeEmailPasswordSignUpDisabled, CodeInvalidEmail, CodePasswordTooShort, CodePasswordTooLong, CodePasswordTooCommon, CodeUserAlreadyExistsUseAnotherEmail, CodeFailedToCreateUser}},
		{Method: "POST", Path: PathSignInEmail, Handler: e.signInEmail, FormCSRF: true, AllowForm: true,
			Body:    []Param{String("email").Req(), String("password").Req(), String("callbackURL"), Bool("rememberMe")},
			Summary: "Sign in with email and password", Response: ObjectOf(map[string]any{"redirect": "boolean", "token": "string", "url": "string", "user": ModelRef(ModelUser)}, "redirect", "token", "user"), Tags: []string{"Default"},
			Errors: []ErrorCode{CodeEmailPasswordDisabled, CodeInvalidEmail, CodeInvalidEmailOrPassword, CodeEmailNotVerified, CodePasswordTooLong}},
		{Method: "GET", Path: PathGetSession, Handler: e.getSession, NoStore: true,
			Query:   []Param{Bool("disableCookieCache"), Bool("disableRefresh")},
			Summary: "Get the current session", Response: Nullable(ObjectOf(map[string]any{"session": ModelRef(ModelSession), "user": ModelRef(ModelUser)}, "session", "user")), Tags: []string{"Default"}},
		{Method: "POST", Path: PathSignOut, Audit: AuditSignOut, Handler: e.signOut, BodyOptional: true,
			Body:    []Param{String("callbackURL"), Bool("disableRedirect"), String("state")},
			Summary: "Sign out the current session", Response: respSuccess, Tags: []string{"Default"}},
		{Method: "GET", Path: PathListSessions, Handler: e.listSessions, Auth: AuthFresh,
			Summary: "List the user's active sessions", Response: ArrayOf(Extend(ModelRef(ModelSession), map[string]any{"deviceName": "string"}, "deviceName")), Tags: []string{"Default"}, Errors: []ErrorCode{CodeSessionNotFresh, CodeUnauthorized}},
		{Method: "POST", Path: PathRevokeSession, Audit: AuditSessionRevoke, Handler: e.revokeSession, Auth: AuthSensitive,
			Body:    []Param{String("token").Req().Doc("a session token or the handle from list-sessions")},
			Summary: "Revoke one of the user's sessions", Response: respStatus, Tags: []string{"Default"}},
		{Method: "POST", Path: PathRevokeSessions, Audit: AuditSessionRevokeAll, Handler: e.revokeSessions, Auth: AuthSensitive, BodyOptional: true,
			Summary: "Revoke all of the user's sessions", Response: respStatus, Tags: []string{"Default"}},
		{Method: "POST", Path: PathRevokeOtherSessions, Audit: AuditSessionRevokeOthers, Handler: e.revokeOtherSessions, Auth: AuthSensitive, BodyOptional: true,
			Summary: "Revoke every session but the current one", Response: respStatus, Tags: []string{"Default"}},
		{Method: "POST", Path: PathUpdateUser, Handler: e.updateUser, Auth: AuthSession, UserFields: true,
			Body:    []Param{String("name").Len(1, 0), String("image").Null(), Any("email")},
			Summary: "Update the current user", Response: respStatus, Tags: []string{"Default"},
			Errors: []ErrorCode{CodeEmailCanNotBeUpdated, CodeFieldNotAllowed}},
		{Method: "POST", Path: PathUpdateSession, Handler: e.updateSession, Auth: AuthSession, SessionFields: true,
			Summary: "Update fields of the current session", Response: ObjectOf(map[string]any{"session": ModelRef(ModelSession)}, "session"), Tags: []string{"Default"}},
		{Method: "POST", Path: PathChangePassword, Audit: AuditPasswordChange, Handler: e.changePassword, Auth: AuthSensitive,
			Body:    []Param{String("newPassword").Req(), String("currentPassword").Req(), Bool("revokeOtherSessions")},
			Summary: "Change the password", Response: ObjectOf(map[string]any{"token": Nullable("string"), "user": ModelRef(ModelUser)}, "token", "user"), Tags: []string{"Default"},
			Errors: []ErrorCode{CodePasswordTooShort, CodePasswordTooLong, CodePasswordTooCommon, CodeCredentialAccountNotFound, CodeInvalidPassword}},
		{Method: "POST", Path: PathVerifyPassword, Handler: e.verifyPassword, Auth: AuthSensitive,
			Body:    []Param{String("password").Req()},
			Summary: "Check the current user's password", Response: respStatus, Tags: []string{"Default"}, Errors: []ErrorCode{CodeInvalidPassword}},
		{Method: "POST", Path: PathChangeEmail, Audit: AuditEmailChange, Handler: e.changeEmail, Auth: AuthSensitive,
			Body:    []Param{String("newEmail").Req().IsEmail(), String("callbackURL")},
			Summary: "Change the email address", Response: respStatus, Tags: []string{"Default"},
			Errors: []ErrorCode{CodeChangeEmailDisabled, CodeVerificationEmailNotEnabled, CodeInvalidEmail}},
		{Method: "POST", Path: PathDeleteUser, Audit: AuditUserDelete, Handler: e.deleteUser, Auth: AuthSensitive, BodyOptional: true,
			Body:    []Param{String("callbackURL"), String("password"), String("token")},
			Summary: "Delete the current user", Response: respSuccessMessage, Tags: []string{"Default"},
			Errors: []ErrorCode{CodeCredentialAccountNotFound, CodeInvalidPassword, CodeSessionExpired, CodeInvalidToken}},
		{Method: "GET", Path: PathDeleteUserCallback, Audit: AuditUserDelete, Handler: e.deleteUserCallback,
			Query:   []Param{String("token").Req(), String("callbackURL")},
			Summary: "Complete account deletion from the emailed link", Response: RedirectOr(respSuccessMessage), Tags: []string{"Default"},
			Errors: []ErrorCode{CodeFailedToGetUserInfo, CodeInvalidToken}},
		{Method: "POST", Path: PathRequestPasswordReset, Handler: e.requestPasswordReset,
			Body:    []Param{String("email").Req().IsEmail(), String("redirectTo")},
			Summary: "Send a password reset link", Response: ObjectOf(map[string]any{"status": "boolean", "message": "string"}, "status", "message"), Tags: []string{"Default"}, Errors: []ErrorCode{CodeResetPasswordDisabled}},
		{Method: "GET", Path: PathResetPasswordCallback, Handler: e.resetPasswordCallback,
			Query:   []Param{String("callbackURL").Req()},
			Summary: "Follow a password reset link", Response: RedirectOnly(), Tags: []string{"Default"}},
		{Method: "POST", Path: PathResetPassword, Audit: AuditPasswordReset, Handler: e.resetPassword,
			Body:    []Param{String("newPassword").Req(), String("token")},
			Query:   []Param{String("token")},
			Summary: "Reset the password with a reset token", Response: respStatus, Tags: []string{"Default"},
			Errors: []ErrorCode{CodeInvalidToken, CodeUserNotFound, CodePasswordTooShort, CodePasswordTooLong, CodePasswordTooCommon}},
		{Method: "POST", Path: PathSendVerificationEmail, Handler: e.sendVerificationEmail, Auth: AuthOptional,
			Body:    []Param{String("email").Req().IsEmail(), String("callbackURL")},
			Summary: "Send an email verification link", Response: respStatus, Tags: []string{"Default"},
			Errors: []ErrorCode{CodeVerificationEmailNotEnabled, CodeEmailMismatch, CodeEmailAlreadyVerified}},
		{Method: "GET", Path: PathVerifyEmail, Audit: AuditEmailVerify, Handler: e.verifyEmail, Auth: AuthOptional,
			Query:   []Param{String("token").Req(), String("callbackURL")},
			Summary: "Verify an email address from the emailed link", Response: RedirectOr(ObjectOf(map[string]any{"status": "boolean", "user": Nullable(ModelRef(ModelUser))}, "status", "user")), Tags: []string{"Default"},
			Errors: []ErrorCode{CodeTokenExpired, CodeInvalidToken, CodeUserNotFound, CodeInvalidUser}},
		{Method: "GET", Path: PathListAccounts, Handler: e.listAccounts, Auth: AuthSession,
			Summary: "List the user's linked accounts", Response: ArrayOf(ObjectOf(map[string]any{"id": "string", "providerId": "string", "accountId": "string", "userId": "string",
				"createdAt": "date-time", "updatedAt": "date-time", "scopes": ArrayOf("string")},
				"id", "providerId", "accountId", "userId", "createdAt", "updatedAt", "scopes")), Tags: []string{"Default"}},
		{Method: "POST", Path: PathUnlinkAccount, Audit: AuditAccountUnlink, Handler: e.unlinkAccount, Auth: AuthFresh,
			Body:    []Param{String("accountId").Req(), String("providerId")},
			Summary: "Unlink an account", Response: respStatus, Tags: []string{"Default"},
			Errors: []ErrorCode{CodeFailedToUnlinkLastAccount, CodeAccountNotFound}},
		{Method: "POST", Path: PathSignInSocial, Handler: e.signInSocial,
			Body: []Param{String("provider").Req(), String("callbackURL"), String("newUserCallbackURL"), String("errorCallbackURL"),
				Bool("disableRedirect"), Object("idToken"), Any("scopes"), Bool("requestSignUp"), String("loginHint"),
				Object("additionalParams"), Object("additionalData")},
			Summary: "Sign in with a social provider", Tags: []string{"Default"},
			Response: ObjectOf(map[string]any{"redirect": "boolean", "url": "string", "token": "string", "user": ModelRef(ModelUser)}, "redirect"),
			Errors:   []ErrorCode{CodeProviderNotFound, CodeIDTokenNotSupported, CodeInvalidToken, CodeUserEmailNotFound, CodeOAuthLinkError, CodeInvalidCallbackURL, CodeInvalidNewUserCallbackURL, CodeInvalidErrorCallbackURL}},
		{Method: "GET", Path: PathCallback, Handler: e.oauthCallback,
			Query:   []Param{String("code"), String("state"), String("error"), String("error_description"), String("device_id"), String("user"), String("iss")},
			Summary: "Callback of a social provider", Response: RedirectOnly(), Tags: []string{"Default"}},
		{Method: "POST", Path: PathCallback, Handler: e.oauthCallback, AllowForm: true, BodyOptional: true, CrossSitePost: true,
			Body:    []Param{String("code"), String("state"), String("error"), String("error_description"), String("device_id"), String("user"), String("iss")},
			Query:   []Param{String("code"), String("state"), String("error"), String("error_description"), String("device_id"), String("user"), String("iss")},
			Summary: "Callback of a social provider (form_post), re-issued as a GET", Response: RedirectOnly(), Tags: []string{"Default"}},
		{Method: "POST", Path: PathLinkSocial, Handler: e.linkSocial, Auth: AuthSession,
			Body: []Param{String("provider").Req(), String("callbackURL"), String("errorCallbackURL"), Bool("disableRedirect"),
				Object("idToken"), Any("scopes"), Bool("requestSignUp"), Object("additionalData")},
			Summary: "Link a social account to the current user", Tags: []string{"Default"},
			Response: ObjectOf(map[string]any{"url": "string", "redirect": "boolean", "status": "boolean"}, "url", "redirect"),
			Errors:   []ErrorCode{CodeProviderNotFound, CodeIDTokenNotSupported, CodeInvalidToken, CodeOAuthLinkError, CodeUnauthorized}},
		{Method: "POST", Path: PathGetAccessToken, Handler: e.getAccessToken, Auth: AuthSession, NoStore: true,
			Body:    []Param{String("providerId"), String("accountId"), String("userId"), Bool("useAccountCookie")},
			Summary: "Get a valid access token of a linked account, refreshing it when expired", Tags: []string{"Default"},
			Response: ObjectOf(map[string]any{"accessToken": "string", "accessTokenExpiresAt": "date-time", "scopes": ArrayOf("string"), "idToken": "string"}, "accessToken", "scopes"),
			Errors:   []ErrorCode{CodeAccountNotFound, CodeProviderNotSupported, CodeFailedToGetAccessToken}},
		{Method: "POST", Path: PathRefreshToken, Handler: e.refreshToken, Auth: AuthSession, NoStore: true,
			Body:    []Param{String("providerId"), String("accountId"), String("userId"), Bool("useAccountCookie")},
			Summary: "Refresh the access token of a linked account", Tags: []string{"Default"},
			Response: ObjectOf(map[string]any{"accessToken": "string", "refreshToken": Nullable("string"), "accessTokenExpiresAt": Nullable("date-time"),
				"refreshTokenExpiresAt": Nullable("date-time"), "scope": Nullable("string"), "idToken": Nullable("string"), "providerId": "string", "accountId": "string"},
				"accessToken", "refreshToken", "accessTokenExpiresAt", "refreshTokenExpiresAt", "scope", "idToken", "providerId", "accountId"),
			Errors: []ErrorCode{CodeAccountNotFound, CodeProviderNotSupported, CodeRefreshTokenNotFound, CodeFailedToRefreshToken}},
		{Method: "GET", Path: PathAccountInfo, Handler: e.accountInfo, Auth: AuthSession, NoStore: true,
			Query:   []Param{String("accountId"), String("providerId"), String("userId")},
			Summary: "The provider's information about a linked account", Tags: []string{"Default"},
			Response: ObjectOf(map[string]any{"user": ObjectOf(map[string]any{"id": "string", "name": "string", "email": Nullable("string"), "image": Nullable("string"), "emailVerified": "boolean"}, "id", "emailVerified"),
				"data": "any", "account": ObjectOf(map[string]any{"id": "string", "providerId": "string", "accountId": "string"}, "id", "providerId", "accountId")}, "user", "data", "account"),
			Errors: []ErrorCode{CodeAccountNotFound, CodeProviderNotSupported, CodeFailedToGetAccessToken, CodeFailedToGetUserInfo}},
		{Method: "GET", Path: PathOK, Handler: func(*Call) (any, error) { return map[string]bool{"ok": true}, nil },
			Summary: "Health check", Response: ObjectOf(map[string]any{"ok": "boolean"}, "ok"), Tags: []string{"Default"}},
		{Method: "GET", Path: PathError, Handler: e.errorPage,
			Query:   []Param{String("error").Len(0, 200), String("error_description").Len(0, 500)},
			Summary: "Error page", Response: HTMLPage(), Tags: []string{"Default"}},
	}
}
