// Package delivery holds the transports that carry the engine's emails and SMS (D13):
// [Log] (development only: prints the link or code), [SMTP] (github.com/wneessen/go-mail),
// [Webhook] (a signed JSON POST, for email and SMS), [Twilio] (SMS), and [RetryPolicy],
// which wraps a transport with bounded, jittered retries of temporary failures. Each
// implements authcore.EmailSender and/or authcore.SMSSender. The package does not import
// Caddy; caddymodule wraps these as the gatehouse.mailers.* and gatehouse.sms.* modules.
//
// # Errors
//
// A transport's errors never contain the recipient's address or phone number, nor the
// endpoint URL (which may carry credentials), so the engine can log them as they are. A
// failure that retrying cannot fix — an HTTP 4xx other than 408 and 429, an SMTP 5xx, an
// invalid address — is marked with [Permanent]; [RetryPolicy] gives up on it at once.
//
// # Webhook signatures
//
// With a secret, every webhook request carries the Standard Webhooks headers
// webhook-id (msg_<random>), webhook-timestamp (Unix seconds) and webhook-signature
// ("v1," + base64 of HMAC-SHA256 over "<id>.<timestamp>.<body>" keyed with the secret; a
// "whsec_" secret is base64-decoded first). Receivers recompute it over the raw body,
// compare in constant time, and reject old timestamps; [VerifyWebhook] does exactly that.
//
// # Determinism
//
// Time and randomness are injected (Now, Random and Sleep fields); the defaults are the
// system clock and crypto/rand. Nothing here keeps global state.
package delivery
