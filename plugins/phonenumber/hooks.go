package phonenumber

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// registerHooks makes verification the only way a phone number gets onto an account.
//
//   - /update-user with a phoneNumber other than null: 400 PHONE_NUMBER_CANNOT_BE_UPDATED
//     (Better Auth's before hook). null removes the number and, in the same write, clears
//     phoneNumberVerified (Better Auth's user-update database hook).
//   - Every other route that accepts user fields (sign-up and any plugin's user-creating
//     route), except this plugin's own and the admin plugin's: a non-empty phoneNumber is
//     400 PHONE_NUMBER_CANNOT_BE_SET and an empty one is dropped (1.7.25's user-create
//     database hook). Without this, anyone could sign up holding someone else's number,
//     unverified, and the number's owner verifying it later would be signed into the
//     squatter's account.
func (p *Plugin) registerHooks(r *authcore.Registrar) {
	r.Before(authcore.MatchPath(authcore.PathUpdateUser), p.beforeUpdateUser)
	r.Before(p.matchUserInput, p.beforeUserInput)
}

func (p *Plugin) beforeUpdateUser(c *authcore.Call) (any, error) {
	if !c.Body.Has(FieldPhoneNumber) {
		return nil, nil
	}
	if c.Body[FieldPhoneNumber] != nil {
		return nil, CodePhoneNumberCannotBeUpdated.With(http.StatusBadRequest)
	}
	c.Body[FieldPhoneNumberVerified] = false
	return nil, nil
}

// matchUserInput selects calls that carry a phoneNumber as a user field on routes other
// than /update-user, this plugin's routes and the admin plugin's.
func (p *Plugin) matchUserInput(c *authcore.Call) bool {
	ep := c.Endpoint
	return ep != nil && ep.UserFields && ep.Owner() != ID && c.Route != authcore.PathUpdateUser &&
		!strings.HasPrefix(c.Route, "/admin/") && c.Body.Has(FieldPhoneNumber)
}

func (p *Plugin) beforeUserInput(c *authcore.Call) (any, error) {
	if s, _ := c.Body[FieldPhoneNumber].(string); s != "" {
		return nil, CodePhoneNumberCannotBeSet.With(http.StatusBadRequest)
	}
	delete(c.Body, FieldPhoneNumber)
	return nil, nil
}
