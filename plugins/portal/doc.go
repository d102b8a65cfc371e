// Package portal is the hosted login portal (plugin id "portal", Caddy module
// gatehouse.plugins.portal, D14): server-rendered HTML pages under <base_path>/ui/ (default
// /api/auth/ui/), embedded in the binary, that work without JavaScript.
//
// # How it works
//
// Register reserves the prefix /ui/ (Registrar.ReservePrefix) and the plugin serves it as an
// http.Handler. Pages never reimplement auth logic: a form POST is checked for CSRF and then
// turned into an in-process call of the engine's own JSON API (Plugin.api), carrying the
// browser's cookies, User-Agent, client address and request context, so every endpoint,
// hook, rate limit and session gate (2FA interrupt, ban) applies unchanged. The API's
// Set-Cookie lines are copied onto the browser's response.
//
// # Routes (relative to <base_path>/ui)
//
//	GET  /                     303 to /account when signed in, else /sign-in
//	GET  /sign-in, POST        email (or username) + password; 2FA → /two-factor
//	GET  /sign-up, POST        name, email, password (+ confirm); hidden when sign-up is off
//	POST /sign-out             the header's sign-out button
//	GET  /forgot-password, POST   asks /request-password-reset; same answer either way
//	GET  /reset-password?token=, POST  sets a new password with /reset-password
//	GET  /verify-email?token=  landing of the verification link (/verify-email in-process)
//	GET  /error?error=CODE     translated error page (failed link flows; the API's own
//	                           <base_path>/error forwards here, Registrar.ErrorPage)
//	GET  /two-factor, POST     second-factor challenge of a pending sign-in (two_factor
//	                           cookie; none → /sign-in): authenticator or emailed code
//	                           (/two-factor/verify-totp, verify-otp), trust this device
//	POST /two-factor/send-otp  "send me a code" (/two-factor/send-otp), when the user can get one
//	POST /two-factor/backup-code  backup code (/two-factor/verify-backup-code)
//	GET  /account/two-factor   enrolment (signed in): enable form, or disable + new backup codes
//	POST /account/two-factor/enable      /two-factor/enable: QR code (data: PNG), secret,
//	                           otpauth link, backup codes (this answer only) and verify form
//	POST /account/two-factor/verify      first code (/two-factor/verify-totp) turns it on
//	POST /account/two-factor/show-qr     the QR again, with the password (get-totp-uri)
//	POST /account/two-factor/regenerate  /two-factor/generate-backup-codes, shown once
//	POST /account/two-factor/disable     /two-factor/disable
//	GET  /sign-in/passkey      passkey sign-in button (assets/passkey.js; needs JavaScript)
//	GET  /account/passkeys     list; add (passkey.js), rename and delete forms
//	POST /account/passkeys/rename, /account/passkeys/delete   /passkey/update-passkey, delete-passkey
//	GET  /sign-in/magic-link, POST   asks /sign-in/magic-link (callbackURL absolute, errorCallbackURL
//	                           /ui/error); "check your email" (#sent), the same for every address
//	GET  /sign-in/email-otp, POST ?step=send|verify   code by email: /email-otp/send-verification-otp
//	                           (type sign-in), then /sign-in/email-otp; resend button; 2FA → /two-factor
//	GET  /sign-in/phone, POST ?step=send|verify   code by SMS: /phone-number/send-otp, then
//	                           /phone-number/verify (signs in); 2FA → /two-factor
//	GET  /email-changed?email=NEW  callbackURL of /change-email: "changed" when the signed-in
//	                           address is NEW, "confirm the new address" after the old one's
//	                           confirmation link, a neutral text when signed out; ?error=CODE shown
//	POST /sign-in/social       a "Continue with <Name>" button (one per configured social provider,
//	                           on /sign-in and /sign-up; text only, no fetched logos): /sign-in/social
//	                           {provider, callbackURL, errorCallbackURL /ui/error, disableRedirect;
//	                           requestSignUp from /sign-up}; copies the signed state cookie, 302 to
//	                           the provider. The callback's ?error= codes (state_mismatch,
//	                           account_not_linked, signup_disabled, …) are explained on /error.
//	                           The CSP's form-action names each provider's authorization origin
//	                           (auth_url, else the issuer's, else the preset's), since browsers
//	                           apply it to the form's redirect; a URL elsewhere (discovery
//	                           pointing to another origin) gets a page with a link instead.
//	POST /account/link-social  "Link <Name>" (account page, Linked accounts): /link-social with
//	                           callbackURL /ui/account?done=account_linked, errors to /ui/error
//	POST /account/unlink-account  "Unlink": /unlink-account {accountId (row id), providerId};
//	                           the API refuses the last account (FAILED_TO_UNLINK_LAST_ACCOUNT)
//	GET  /sign-in/sso, POST    enterprise SSO (sso plugin; /sign-in links to it as "Sign in with
//	                           SSO", 404 without the plugin): a work-email form → /sign-in/sso
//	                           {email, callbackURL, errorCallbackURL /ui/error}; copies the signed
//	                           state cookie and answers 200, an interstitial with
//	                           <meta http-equiv="refresh" content="0;url=IdP"> and a #continue
//	                           link (the IdP's origin is registered at run time, so the CSP's
//	                           form-action cannot name it; a refresh and a link are not governed
//	                           by it); only absolute http(s) URLs reach either. Refusals (no
//	                           provider for the domain, domain not verified, …) re-render the
//	                           form with the portal's own text; the callback's codes
//	                           (invalid_state, invalid_provider, saml_*) are explained on /error.
//	GET  /assets/<name>.<hash>.<ext>   CSS/JS, immutable for a year
//
// Account (routes_account.go; signed-out browsers go to /sign-in?callbackURL=<the page>):
//
//	GET  /account                         profile, password, email, security links (two-factor,
//	                                      passkey plugins), sessions, API keys (api-key plugin),
//	                                      organizations and invitations (organization plugin)
//	POST /account/profile                 /update-user {name, image (empty: null)}
//	POST /account/password                /change-password (confirm checked here; revokeOtherSessions)
//	POST /account/email                   /change-email, callbackURL back to /account
//	POST /account/sessions/revoke         /revoke-session with the handle from /list-sessions
//	POST /account/sessions/revoke-others  /revoke-other-sessions
//	POST /account/api-keys/create         /api-key/create {name, expiresIn: never|30|90|365 days};
//	                                      answers the page itself with the key in #api-key-value —
//	                                      the only time it is shown (never in a cookie or URL)
//	POST /account/api-keys/delete         /api-key/delete
//	POST /account/organizations/set-active   /organization/set-active
//	POST /account/invitations/accept|reject  /organization/accept-invitation|reject-invitation
//	GET  /accept-invitation?id=           landing page of the invitation email (the organization
//	                                      plugin's default invitation_url when the portal is on)
//
// Each POST has its own CSRF form name and answers 303 to the page with ?done=<key>; only
// keys of a fixed list render (as their strings), so the query cannot put text on the page.
// A refusal re-renders the page with the API's message and 4xx status.
//
// Admin (routes_admin.go; admin plugin on and Admins().IsAdmin of the stored user, else the
// 403 error page; 404 without the plugin):
//
//	GET  /admin?q=&offset=                /admin/list-users, email contains q, 20 a page
//	GET  /admin/user?id=                  /admin/get-user + /admin/list-user-sessions
//	POST /admin/ban                       /admin/ban-user {banReason, banExpiresIn (days → s)}
//	POST /admin/unban, /admin/set-role, /admin/revoke-sessions
//	POST /admin/impersonate               /admin/impersonate-user, then 303 to default_callback
//	POST /admin/stop-impersonating        the layout's banner (shown while the session has
//	                                      impersonatedBy): /admin/stop-impersonating, then /admin
//
// The header shows Account and (administrators) Admin links to signed-in users.
//
// Unknown paths answer the error page with 404.
//
// Passkeys: with the passkey plugin on, the sign-in page's email field has autocomplete
// "username webauthn" and passkey.js starts a conditional (autofill) WebAuthn request where
// the browser supports it; the WebAuthn ceremonies call the passkey API directly with
// same-origin fetches (configuration in data- attributes, no inline script). The
// two-factor challenge offers "use a passkey" when the passkey plugin's
// passkey_as_second_factor lists it among the user's methods (read with the two_factor
// plugin's PendingMethods).
// The three sign-in pages answer 404 while their plugin (magic-link, email-otp,
// phone-number) is off, /email-changed while user.change_email is off. With the portal on,
// the two-factor plugin's two_factor_page defaults to /ui/two-factor, so a magic link of a
// 2FA user lands on the portal's challenge page.
//
// # Security
//
// Every response carries Content-Security-Policy "default-src 'none'; script-src 'self';
// style-src 'self'; img-src 'self' data: [logo origin]; connect-src 'self'; form-action
// 'self' <base origin> <trusted origins>; frame-ancestors 'none'; base-uri 'none'",
// Referrer-Policy same-origin (never no-referrer: under it browsers send "Origin: null" on
// the portal's own form posts, which the CSRF check refuses; same-origin still sends no
// Referer, so no ?token=, to any other origin), X-Content-Type-Options nosniff,
// Cross-Origin-Opener-Policy same-origin, X-Frame-Options DENY, and (pages) Cache-Control
// no-store. Every form carries a
// csrf field: an HMAC of the secret over a random per-browser cookie (<prefix>.portal_csrf,
// HttpOnly, SameSite=Lax, Secure like the session cookie) and the form's name; a POST without
// a matching token, with Sec-Fetch-Site: cross-site, or with an untrusted Origin gets the 403
// error page and changes nothing. callbackURL is validated with the engine's SafeRedirect
// (anything else becomes default_callback) and carried through every step.
//
// # Options
//
//	portal {
//	    app_name <name>              # default: the engine's app_name
//	    logo_url <https URL | /path> # default: none (the app name as text)
//	    accent_color "#rgb|#rrggbb"  # default: #4f46e5 (quote it, or leave out the #)
//	    default_callback </path>     # default: /
//	}
//
// The accent colour is applied through a generated stylesheet, /ui/assets/theme.<hash>.css,
// never an inline style. All user-visible text is in strings.go.
//
// # Adding a page (for page authors)
//
//   - Routes: write func (p *Plugin) <area>Routes() []route in routes_<area>.go returning
//     {method, path, handler} rows (path relative to /ui, exact match; GET also answers HEAD),
//     and add one append line in routes() (routes.go).
//   - Templates: templates/<page>.html defines "title" and "content"; the layout wraps them.
//     Shared partials (templates/_partials.html): {{template "alert" .}} (the [role=alert]#error
//     and flash), {{template "csrf" (.CSRF "<form>")}}, {{template "callback" .}},
//     {{template "password-toggle" "<input id>"}}. Funcs: t "key", tf "key" args...,
//     path "/page" "k" "v"..., asset "name.js". Extra scripts: set pageData.Scripts.
//   - Handlers: d := p.page(w, r) (pageData: branding, user, CallbackURL, EnabledMethods,
//     CSRF) embedded in the page's struct; p.render(w, r, status, "<page>", data);
//     p.renderError(w, r, status, code); p.renderMessage(w, r, status, messageData{...}).
//   - POSTs: first if !p.checkPost(w, r, "<form>") { return } (CSRF, Fetch Metadata, Origin,
//     bounded form parsing), then res := p.api(r, method, "/api/path", body) and
//     res.CopyCookies(w); on !res.OK() show errorText(res.Code) with res.Status.
//   - Redirects: p.redirect(w, r, d.CallbackURL) for callbacks (re-validated, absolute);
//     p.redirectUI(w, r, "/page", "callbackURL", p.callbackParam(r)) inside the portal.
//   - Text: every string in strings.go; error codes as "error.<CODE>".
//
// The plugin declares no API endpoints, error codes, schema fields or rate limits of its own:
// the API's rate limits apply to the calls its forms make.
package portal
