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
//	GET  /error?error=CODE     translated error page (failed link flows)
//	GET  /sign-in/magic-link, POST   asks /sign-in/magic-link (callbackURL absolute, errorCallbackURL
//	                           /ui/error); "check your email" (#sent), the same for every address
//	GET  /sign-in/email-otp, POST ?step=send|verify   code by email: /email-otp/send-verification-otp
//	                           (type sign-in), then /sign-in/email-otp; resend button; 2FA → /two-factor
//	GET  /sign-in/phone, POST ?step=send|verify   code by SMS: /phone-number/send-otp, then
//	                           /phone-number/verify (signs in); 2FA → /two-factor
//	GET  /email-changed?email=NEW  callbackURL of /change-email: "changed" when the signed-in
//	                           address is NEW, "confirm the new address" after the old one's
//	                           confirmation link, a neutral text when signed out; ?error=CODE shown
//	GET  /assets/<name>.<hash>.<ext>   CSS/JS, immutable for a year
//
// Unknown paths answer the error page with 404.
//
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
