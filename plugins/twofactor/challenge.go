package twofactor

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// A pending sign-in ("challenge") is the state between a first factor that the gate
// interrupted and a second factor that completes it. It lives in verification rows (spec
// §4.8), never in a session:
//
//	2fa-<20 chars>                 value: user id              the challenge; its id is the signed two_factor cookie
//	2fa-attempts-<challenge id>    value: codes tried so far   at most ChallengeAttempts
//	2fa-otp-<challenge id>         value: "<code>:<attempts>"  an emailed or texted code (authcore's OTP rows)
//	2fa-lockout-<user id>          value: consecutive failures the account lockout, shared by every challenge
//	trust-device-<32 chars>        value: user id              a trusted device; the trust_device cookie names it
//
// A verification reserves an attempt of its challenge and of the account in one storage
// transaction before the code is looked at, so parallel guesses cannot exceed either cap,
// and a success consumes the challenge in the same transaction that spends the factor (a
// TOTP step, a backup code), so a challenge yields at most one session.

const (
	challengePrefix = "2fa-"
	challengeIDLen  = 20
	attemptsPrefix  = "2fa-attempts-"
	otpPrefix       = "2fa-otp-"
	lockoutPrefix   = "2fa-lockout-"
	trustPrefix     = "trust-device-"
	trustIDLen      = 32
)

// challenge is a live pending sign-in and its user.
type challenge struct {
	id   string
	user storage.Record
}

// wellFormed reports whether s is prefix followed by n characters of the random alphabet:
// a signed cookie naming anything else (another flow's identifier, signed by the same
// secret) is refused before storage is asked.
func wellFormed(s, prefix string, n int) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != n {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(secretAlphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// pending returns the call's live challenge (signed two_factor cookie, live row, existing
// user), or nil.
func (p *Plugin) pending(c *authcore.Call) (*challenge, error) {
	id, ok := c.SignedCookie(CookieTwoFactor)
	if !ok || !wellFormed(id, challengePrefix, challengeIDLen) {
		return nil, nil
	}
	e := p.engine
	rec, err := e.FindVerification(c.Context(), id)
	if err != nil || rec == nil {
		return nil, err
	}
	user, err := e.UserByID(c.Context(), rec.String("value"))
	if err != nil || user == nil {
		return nil, err
	}
	return &challenge{id: id, user: user}, nil
}

// createChallenge starts a pending sign-in for user: its rows and the signed two_factor
// cookie (spec §7.3 step 2).
func (p *Plugin) createChallenge(c *authcore.Call, user storage.Record) error {
	e := p.engine
	rnd, err := e.Random().String(challengeIDLen, secretAlphabet)
	if err != nil {
		return authcore.Internal(err)
	}
	id := challengePrefix + rnd
	if err := e.CreateVerification(c.Context(), id, user.ID(), p.cookieMaxAge); err != nil {
		return err
	}
	if err := e.CreateVerification(c.Context(), attemptsPrefix+id, "0", p.cookieMaxAge); err != nil {
		return err
	}
	c.SetSignedCookie(CookieTwoFactor, id, p.cookieMaxAge)
	return nil
}

// counter reads a count stored in a verification row's value; a malformed one reads as
// limit, so it fails closed.
func counter(rec storage.Record, limit int) int {
	n, err := strconv.Atoi(rec.String("value"))
	if err != nil || n < 0 {
		return limit
	}
	return n
}

// liveTx finds the live verification row with that identifier inside a transaction.
func (p *Plugin) liveTx(ctx context.Context, tx storage.Adapter, identifier string) (storage.Record, error) {
	rec, err := tx.FindOne(ctx, authcore.ModelVerification, storage.And(
		storage.Eq("identifier", identifier), storage.Gt("expiresAt", p.engine.Clock().Now())))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// consumeChallengeTx takes the live challenge row inside a transaction (nil when gone).
func (p *Plugin) consumeChallengeTx(ctx context.Context, tx storage.Adapter, id string) (storage.Record, error) {
	rec, err := tx.ConsumeOne(ctx, authcore.ModelVerification, storage.And(
		storage.Eq("identifier", id), storage.Gt("expiresAt", p.engine.Clock().Now())))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// beginAttempt reserves one try of the challenge and of the account before a code is
// checked: 429 ACCOUNT_TEMPORARILY_LOCKED while the account is locked; 400
// TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE, with the challenge burned, once it has used its
// ChallengeAttempts; 401 INVALID_TWO_FACTOR_COOKIE when the challenge is gone. A try that
// succeeds resets the account's count (succeeded); one that turns out not to be a guess at
// all gives its reservation back (refund).
func (p *Plugin) beginAttempt(c *authcore.Call, ch *challenge) error {
	ctx := c.Context()
	var verdict error
	err := p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		now := p.engine.Clock().Now()
		if rec, err := p.liveTx(ctx, tx, ch.id); err != nil || rec == nil {
			verdict = errInvalidCookie
			return err
		}
		var lock storage.Record
		if p.lockout {
			var err error
			if lock, err = p.liveTx(ctx, tx, lockoutPrefix+ch.user.ID()); err != nil {
				return err
			}
			if lock != nil && counter(lock, p.lockMax) >= p.lockMax {
				verdict = errLocked
				return nil
			}
		}
		att, err := p.liveTx(ctx, tx, attemptsPrefix+ch.id)
		if err != nil {
			return err
		}
		if att == nil {
			verdict = errInvalidCookie
			return nil
		}
		n := counter(att, ChallengeAttempts)
		if n >= ChallengeAttempts {
			// Spent: the whole pending sign-in ends; the first factor must be redone.
			verdict = errTooMany
			_, err := tx.DeleteMany(ctx, authcore.ModelVerification, storage.In("identifier",
				[]string{ch.id, attemptsPrefix + ch.id, otpPrefix + ch.id}))
			return err
		}
		if _, err := tx.Update(ctx, authcore.ModelVerification, storage.ByID(att.ID()),
			storage.Record{"value": strconv.Itoa(n + 1), "updatedAt": now}); err != nil {
			return err
		}
		if !p.lockout {
			return nil
		}
		// Failures further apart than the lock duration do not add up: the row expires.
		if lock == nil {
			if _, err := tx.DeleteMany(ctx, authcore.ModelVerification, storage.Eq("identifier", lockoutPrefix+ch.user.ID())); err != nil {
				return err
			}
			id, err := p.engine.NewID()
			if err != nil {
				return err
			}
			_, err = tx.Create(ctx, authcore.ModelVerification, storage.Record{
				"id": id, "identifier": lockoutPrefix + ch.user.ID(), "value": "1",
				"expiresAt": now.Add(p.lockFor), "createdAt": now, "updatedAt": now})
			return err
		}
		_, err = tx.Update(ctx, authcore.ModelVerification, storage.ByID(lock.ID()), storage.Record{
			"value": strconv.Itoa(counter(lock, p.lockMax) + 1), "expiresAt": now.Add(p.lockFor), "updatedAt": now})
		return err
	})
	if err != nil {
		return authcore.Internal(err)
	}
	if errors.Is(verdict, errTooMany) || errors.Is(verdict, errInvalidCookie) {
		c.ExpireCookie(CookieTwoFactor)
	}
	return verdict
}

// refund gives back a reservation that did not test a code (an expired emailed code).
func (p *Plugin) refund(ctx context.Context, ch *challenge) {
	err := p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		for _, identifier := range []string{attemptsPrefix + ch.id, lockoutPrefix + ch.user.ID()} {
			rec, err := p.liveTx(ctx, tx, identifier)
			if err != nil {
				return err
			}
			if rec == nil {
				continue
			}
			if n := counter(rec, 1<<30); n > 0 && n < 1<<30 {
				if _, err := tx.Update(ctx, authcore.ModelVerification, storage.ByID(rec.ID()),
					storage.Record{"value": strconv.Itoa(n - 1)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		p.engine.Logger().Warn("two-factor: giving back an attempt failed", "error", err.Error())
	}
}

// succeeded resets the account's consecutive failures.
func (p *Plugin) succeeded(ctx context.Context, userID string) error {
	if _, err := p.engine.Store().DeleteMany(ctx, authcore.ModelVerification, storage.Eq("identifier", lockoutPrefix+userID)); err != nil {
		return authcore.Internal(err)
	}
	return nil
}

// finishSignIn turns a passed challenge (its row already consumed) into a session: the
// gates are not run again (the first factor passed them), dont_remember is honoured, the
// two_factor cookie expires and the challenge's other rows go; with trustDevice the device
// is trusted and dont_remember expires (spec §7.3 step 3).
func (p *Plugin) finishSignIn(c *authcore.Call, ch *challenge, trustDevice bool) (*authcore.Session, error) {
	ctx := c.Context()
	e := p.engine
	if _, err := e.Store().DeleteMany(ctx, authcore.ModelVerification, storage.In("identifier",
		[]string{attemptsPrefix + ch.id, otpPrefix + ch.id, lockoutPrefix + ch.user.ID()})); err != nil {
		return nil, authcore.Internal(err)
	}
	user, err := e.UserByID(ctx, ch.user.ID())
	if err != nil {
		return nil, err
	}
	if user == nil {
		c.ExpireCookie(CookieTwoFactor)
		return nil, errInvalidCookie
	}
	_, dontRemember := c.SignedCookie(authcore.CookieDontRemember)
	// Through the session gates again, as a multi-factor sign-in: this gate lets it pass, and
	// any other (a ban issued between the two factors) still applies.
	s, err := c.SignIn(user, authcore.SignInOptions{Method: MethodTwoFactor, DontRemember: dontRemember, MultiFactor: true})
	if err != nil {
		return nil, err
	}
	c.ExpireCookie(CookieTwoFactor)
	if trustDevice {
		if err := p.trustDevice(c, user.ID()); err != nil {
			return nil, err
		}
		c.ExpireCookie(authcore.CookieDontRemember)
	}
	return s, nil
}

// signInBody is the answer of a completed sign-in: {"token","user"}.
func (p *Plugin) signInBody(s *authcore.Session) map[string]any {
	return map[string]any{"token": s.Token, "user": p.engine.Public(authcore.ModelUser, s.User)}
}

// ---- trusted devices ----

// trustMAC is Better Auth's trust token: base64url (no padding) of HMAC-SHA256(secret,
// "<userId>!<identifier>"), so a cookie copied to another account never verifies.
func (p *Plugin) trustMAC(userID, identifier string) string {
	msg := userID + "!" + identifier
	signed := p.engine.Keys().Sign(msg) // msg + "." + base64std(HMAC(secret, msg))
	mac, _ := base64.StdEncoding.DecodeString(signed[len(msg)+1:])
	return base64.RawURLEncoding.EncodeToString(mac)
}

// trustMACValid checks a trust token with the current or a previous secret, in constant time.
func (p *Plugin) trustMACValid(userID, identifier, token string) bool {
	mac, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(mac) != 32 || base64.RawURLEncoding.EncodeToString(mac) != token {
		return false
	}
	msg := userID + "!" + identifier
	_, ok := p.engine.Keys().Verify(msg + "." + base64.StdEncoding.EncodeToString(mac))
	return ok
}

// trustDevice records a trusted device for the user and sets its signed cookie.
func (p *Plugin) trustDevice(c *authcore.Call, userID string) error {
	e := p.engine
	rnd, err := e.Random().String(trustIDLen, secretAlphabet)
	if err != nil {
		return authcore.Internal(err)
	}
	identifier := trustPrefix + rnd
	if err := e.CreateVerification(c.Context(), identifier, userID, p.trustMaxAge); err != nil {
		return err
	}
	c.SetSignedCookie(CookieTrustDevice, p.trustMAC(userID, identifier)+"!"+identifier, p.trustMaxAge)
	return nil
}

// trusted reports whether the call carries a valid trust_device cookie for the user whose
// record is still live; such a cookie is used up and replaced by a new one (spec §7.3 step
// 1), so a copied cookie works at most once. An invalid cookie is expired.
func (p *Plugin) trusted(c *authcore.Call, userID string) (bool, error) {
	v, ok := c.SignedCookie(CookieTrustDevice)
	if !ok {
		return false, nil
	}
	token, identifier, _ := strings.Cut(v, "!")
	if !wellFormed(identifier, trustPrefix, trustIDLen) || !p.trustMACValid(userID, identifier, token) {
		c.ExpireCookie(CookieTrustDevice)
		return false, nil
	}
	rec, err := p.engine.ConsumeVerification(c.Context(), identifier)
	if err != nil {
		return false, err
	}
	if rec == nil || rec.String("value") != userID {
		c.ExpireCookie(CookieTrustDevice)
		return false, nil
	}
	return true, p.trustDevice(c, userID)
}

// revokeTrustedDevices ends every trusted device of a user, server-side: their cookies then
// name rows that no longer exist.
func (p *Plugin) revokeTrustedDevices(ctx context.Context, userID string) error {
	_, err := p.engine.Store().DeleteMany(ctx, authcore.ModelVerification, storage.And(
		storage.StartsWith("identifier", trustPrefix), storage.Eq("value", userID)))
	if err != nil {
		return authcore.Internal(err)
	}
	return nil
}
