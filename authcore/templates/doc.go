// Package templates renders the emails and SMS the auth engine sends (D13). It imports
// only the standard library, so authcore and third-party plugins can both use it.
//
// # Types
//
// A message's Type picks its templates. The embedded defaults cover verify-email,
// reset-password, change-email (the confirmation sent to the old address; Vars newEmail),
// delete-account, account-exists, magic-link, email-otp (wording by Vars["purpose"]:
// sign-in | email-verification | forget-password | change-email), two-factor-otp,
// organization-invitation (Vars organization, inviter, role), new-device-sign-in (Vars
// device, ip, time; no link or code) and phone-otp (an SMS).
// Any other type falls back to generic (email) or generic-sms, which show the URL and/or
// the code the message carries.
//
// # Files
//
// Each type has up to three files: <type>.subject.txt (text/template, folded onto one
// line), <type>.txt (text/template) and <type>.html (html/template, so every value is
// escaped for its HTML context: a hostile organization name or a javascript: URL cannot
// inject markup or script). The text and HTML bodies of an email are placed inside
// layout.txt and layout.html, which call {{template "body" .}}; an SMS is the type's .txt
// alone. A type without .html is sent as text only; a type without .subject.txt uses the
// generic subject; every type needs .txt.
//
// Templates see [Data]: AppName, BaseURL, To, URL, Token, OTP, ExpiresIn ("5 minutes",
// empty when unknown) and Vars (a missing key is the empty string), plus the function
// host (the host name of a URL). Every default message shows the app name and base URL.
//
// # Overrides
//
// [Load] overlays a directory's files on the defaults, file by file: a directory holding
// only magic-link.html changes that one part. New types are allowed, for plugins' own
// messages. Every template is parsed and trial-executed at load, so a broken override
// fails start-up with an error naming its file rather than failing when mail is sent.
package templates
