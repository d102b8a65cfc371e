package twofactor

import (
	"context"
	"sync"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// The plugin's Go API, published with Registrar.Provide: engine.Plugin(authcore.TwoFactorID)
// returns the *Plugin, which implements authcore.TwoFactorChallenges (so a passkey plugin can
// complete a pending sign-in) and offers Better Auth's server-only generateTOTP and
// viewBackupCodes as GenerateTOTP, UserBackupCodes and ViewBackupCodes.

var _ authcore.TwoFactorChallenges = (*Plugin)(nil)

// PendingUser returns the user of the call's pending sign-in (a signed two_factor cookie
// naming a live challenge), or nil.
func (p *Plugin) PendingUser(c *authcore.Call) (storage.Record, error) {
	ch, err := p.pending(c)
	if err != nil || ch == nil {
		return nil, err
	}
	return ch.user, nil
}

// CompleteChallenge ends the call's pending sign-in as passed by another factor: the
// challenge is consumed (exactly one of any number of racing calls gets it; the others get
// 401 INVALID_TWO_FACTOR_COOKIE), the account's failure count is reset, the session is
// created without running the gates again (dont_remember honoured) and its cookies set, the
// two_factor cookie expires, and with trustDevice the device is trusted. The caller answers
// with the session (the verify routes answer {"token","user"}).
func (p *Plugin) CompleteChallenge(c *authcore.Call, trustDevice bool) (*authcore.Session, error) {
	ch, err := p.pending(c)
	if err != nil {
		return nil, err
	}
	if ch == nil {
		c.ExpireCookie(CookieTwoFactor)
		return nil, errInvalidCookie
	}
	rec, err := p.engine.ConsumeVerification(c.Context(), ch.id)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.String("value") != ch.user.ID() {
		c.ExpireCookie(CookieTwoFactor)
		return nil, errInvalidCookie
	}
	return p.finishSignIn(c, ch, trustDevice)
}

// AddMethod lists name in twoFactorMethods for the users applies accepts (after "totp" and
// "otp", in the order added). Adding a name again replaces its test. It may be called at any
// time, from any goroutine.
func (p *Plugin) AddMethod(name string, applies func(ctx context.Context, user storage.Record) (bool, error)) {
	p.extra.add(name, applies)
}

// methodList holds the methods other plugins added.
type methodList struct {
	mu   sync.RWMutex
	list []extraMethod
}

type extraMethod struct {
	name    string
	applies func(ctx context.Context, user storage.Record) (bool, error)
}

func (m *methodList) add(name string, applies func(ctx context.Context, user storage.Record) (bool, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.list {
		if m.list[i].name == name {
			m.list[i].applies = applies
			return
		}
	}
	m.list = append(m.list, extraMethod{name: name, applies: applies})
}

func (m *methodList) applying(ctx context.Context, user storage.Record) ([]string, error) {
	m.mu.RLock()
	list := append([]extraMethod(nil), m.list...)
	m.mu.RUnlock()
	var out []string
	for _, x := range list {
		if x.name == MethodTOTP || x.name == MethodOTP {
			continue
		}
		ok := x.applies == nil
		if !ok {
			var err error
			if ok, err = x.applies(ctx, user); err != nil {
				return nil, err
			}
		}
		if ok {
			out = append(out, x.name)
		}
	}
	return out, nil
}
