package authcore

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// TwoFactorID is the two-factor plugin's ID, under which it publishes its
// [TwoFactorChallenges] (Engine.Plugin(TwoFactorID)).
const TwoFactorID = "two-factor"

// TwoFactorChallenges is what the two-factor plugin publishes so that other plugins can
// serve as a second factor (a passkey satisfying the challenge) without importing it.
type TwoFactorChallenges interface {
	// PendingUser returns the user of the call's pending sign-in challenge (the signed
	// two_factor cookie and its live verification row), or nil when there is none.
	PendingUser(c *Call) (storage.Record, error)
	// CompleteChallenge ends the pending challenge as passed: it is consumed (at most once,
	// however many requests race), the session is created without the gates (dont_remember
	// honoured), the two_factor cookie expires, and with trustDevice the trust_device cookie
	// is set. It returns the new session.
	CompleteChallenge(c *Call, trustDevice bool) (*Session, error)
	// AddMethod lists name in a challenge's twoFactorMethods for users it applies to.
	AddMethod(name string, applies func(ctx context.Context, user storage.Record) (bool, error))
}
