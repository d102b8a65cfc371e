package anonymous

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// ID is the plugin's Better Auth id.
const ID = "anonymous"

// Defaults.
const (
	// DefaultName is the name every anonymous user gets unless Name or GenerateName says
	// otherwise (Better Auth's "Anonymous").
	DefaultName = "Anonymous"
	// PlaceholderDomain is the domain of anonymous users' placeholder emails when
	// EmailDomainName is not set (Better Auth 1.7.25's createPlaceholderEmail with the
	// namespace "anonymous"). It ends in .invalid (RFC 6761 §6.4), as D1 requires of
	// placeholder addresses: nothing is ever delivered there.
	PlaceholderDomain = "anonymous.placeholder.invalid"
)

// maxNameLen bounds the configured name, like any string a client could have sent.
const maxNameLen = 256

// Plugin is the anonymous plugin and its configuration (Caddy module
// gatehouse.plugins.anonymous). The zero value is ready to use. A Plugin value serves one
// engine: Register keeps the engine for request time.
type Plugin struct {
	// EmailDomainName is the domain of the placeholder emails of anonymous users. When set,
	// an anonymous user's email is "temp-<id>@<email_domain_name>" (Better Auth's
	// emailDomainName); when empty it is "<id>@anonymous.placeholder.invalid". A domain that
	// does not end in ".invalid" is accepted with a warning at start-up: it names a place
	// mail could really go. Default: empty.
	EmailDomainName string `json:"email_domain_name,omitempty"`

	// Name is the name given to every anonymous user (the fixed-value form of Better Auth's
	// generateName). Default: "Anonymous".
	Name string `json:"name,omitempty"`

	// DisableDeleteAnonymousUser keeps the anonymous user (and its sessions) when it signs
	// in or up by another method, and turns /delete-anonymous-user off (400
	// DELETE_ANONYMOUS_USER_DISABLED). Default: false.
	DisableDeleteAnonymousUser bool `json:"disable_delete_anonymous_user,omitempty"`

	// OnLinkAccount, for programs embedding authcore, runs when a request that carries an
	// anonymous session signs in or up as another, non-anonymous user: anonymous is the
	// anonymous user's record, user the newly signed-in user's (copies; changing them changes
	// nothing). Use it to move application data owned by the anonymous user to user: the
	// plugin itself moves nothing (see the package doc). It runs before the anonymous user is
	// deleted, once per anonymous session even under concurrent sign-ins — but with
	// DisableDeleteAnonymousUser the guest and its session stay, and every later sign-in over
	// that session runs it again. An error fails the sign-in: the new session is revoked, the
	// caller keeps its anonymous session, nothing is deleted, and the error is the answer (an
	// *authcore.Error as is, anything else 500). The anonymous session may have been planted
	// by someone else (cookie tossing, SES-04): treat what it owns as the guest's data, never
	// as proof of anything. Not configurable from JSON or the Caddyfile (Better Auth's
	// onLinkAccount).
	OnLinkAccount func(ctx context.Context, anonymous, user storage.Record) error `json:"-"`

	// GenerateName, for embedders, picks the name of a new anonymous user (Better Auth's
	// generateName). An empty result falls back to Name; an error fails the sign-in with
	// 500. Not configurable from JSON or the Caddyfile.
	GenerateName func(ctx context.Context) (string, error) `json:"-"`

	// GenerateEmail, for embedders, picks the email of a new anonymous user (Better Auth's
	// generateRandomEmail). It must be unique and should end in ".invalid" (D1); a result
	// that is not an email address answers 400 INVALID_EMAIL_FORMAT, an empty one falls back
	// to the default form, an error fails the sign-in with 500. Not configurable from JSON
	// or the Caddyfile.
	GenerateEmail func(ctx context.Context) (string, error) `json:"-"`

	engine *authcore.Engine
	name   string
}

// ID returns "anonymous".
func (*Plugin) ID() string { return ID }

// Register validates the options and declares the isAnonymous user field, the two routes,
// the account-link hook and the error codes.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	p.engine = r.Engine()
	if p.EmailDomainName != "" && !strings.HasSuffix(p.EmailDomainName, ".invalid") {
		p.engine.Logger().Warn("anonymous: email_domain_name does not end in .invalid; anonymous users' placeholder emails name a domain mail could be delivered to (D1)",
			"email_domain_name", p.EmailDomainName)
	}
	if err := registerSchema(r); err != nil {
		return err
	}
	if err := r.Errors(errorCodes...); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	p.registerHooks(r)
	return nil
}

// validate checks the options and settles the defaults.
func (p *Plugin) validate() error {
	if d := p.EmailDomainName; d != "" {
		if d != strings.ToLower(d) || !authcore.ValidEmail("temp-x@"+d) {
			return fmt.Errorf("anonymous: email_domain_name %q is not a lower-case domain name (example: guests.example.invalid)", d)
		}
	}
	p.name = DefaultName
	if n := p.Name; n != "" {
		if strings.TrimSpace(n) == "" || len(n) > maxNameLen || !utf8.ValidString(n) || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			return fmt.Errorf("anonymous: name must be 1 to %d printable characters, not only spaces", maxNameLen)
		}
		p.name = n
	}
	return nil
}
