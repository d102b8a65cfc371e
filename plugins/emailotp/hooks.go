package emailotp

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// registerHooks declares the after hook of send_verification_on_sign_up: a new user gets an
// email-verification code. When the core already sends one through
// override_default_email_verification (email_verification send_on_sign_up or
// require_email_verification), the hook stays quiet so the user gets exactly one email.
func (p *Plugin) registerHooks(r *authcore.Registrar) {
	if !p.SendVerificationOnSignUp {
		return
	}
	coreSends := p.OverrideDefaultEmailVerification &&
		(p.cfg.EmailVerification.SendOnSignUp || p.cfg.EmailAndPassword.RequireEmailVerification)
	if coreSends {
		return
	}
	r.After(authcore.MatchPath(authcore.PathSignUpEmail), p.afterSignUp)
}

// afterSignUp reads the new user from the sign-up answer and sends the code after the
// response. The answer to a sign-up with a taken address can be a synthetic user (ENUM-02):
// the look-up by id, on the queue, finds no such user and sends nothing, and the response
// time does not show the difference.
func (p *Plugin) afterSignUp(c *authcore.Call) error {
	if !p.engine.HasEmail() {
		return nil
	}
	out, _ := c.Returned.(map[string]any)
	user, _ := out["user"].(map[string]any)
	id, _ := user["id"].(string)
	email, _ := user["email"].(string)
	if id == "" || email == "" {
		return nil
	}
	p.engine.Defer("email-otp sign-up verification", func(ctx context.Context) error {
		u, err := p.engine.UserByID(ctx, id)
		if err != nil || u == nil || u.Bool("emailVerified") || u.String("email") != email {
			return err
		}
		return p.issueAndSend(ctx, identifier(TypeEmailVerification, email), email, TypeEmailVerification)
	})
	return nil
}

// sendVerificationCode replaces the core's verification link when
// override_default_email_verification is on: wherever the core would send a link to user, it
// sends an email-verification code instead. The callback URL has no use for a code.
func (p *Plugin) sendVerificationCode(ctx context.Context, user storage.Record, _ string) error {
	email := authcore.NormalizeEmail(user.String("email"))
	return p.issueAndSend(ctx, identifier(TypeEmailVerification, email), email, TypeEmailVerification)
}
