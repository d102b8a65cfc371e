package username

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Defaults of Better Auth's username plugin.
const (
	DefaultMinUsernameLength = 3
	DefaultMaxUsernameLength = 30
	DefaultUsernamePattern   = `^[a-zA-Z0-9_.]+$`
)

// Normalization and validation-order option values.
const (
	NormalizeLowercase = "lowercase"
	NormalizeNone      = "none"

	PreNormalization  = "pre-normalization"
	PostNormalization = "post-normalization"
)

// Plugin is the username plugin (Better Auth id "username", Caddy module
// gatehouse.plugins.username). Its fields are its configuration; the zero value is Better
// Auth's default configuration.
type Plugin struct {
	// MinUsernameLength is the shortest accepted username, in UTF-16 code units as
	// JavaScript counts. Default: 3.
	MinUsernameLength int `json:"min_username_length,omitempty"`
	// MaxUsernameLength is the longest accepted username. Default: 30.
	MaxUsernameLength int `json:"max_username_length,omitempty"`
	// UsernamePattern is the regular expression (Go RE2 syntax) a username must match
	// (Better Auth's usernameValidator). Anchor it: it is a search, like JavaScript's
	// RegExp.test. Default: ^[a-zA-Z0-9_.]+$.
	UsernamePattern string `json:"username_pattern,omitempty"`
	// DisplayUsernamePattern, when set, is the regular expression a display username must
	// match (Better Auth's displayUsernameValidator). Default: no validation.
	DisplayUsernamePattern string `json:"display_username_pattern,omitempty"`
	// UsernameNormalization is how the stored, unique username is derived from what the
	// user typed: "lowercase" or "none" (Better Auth's usernameNormalization: false).
	// Default: "lowercase".
	UsernameNormalization string `json:"username_normalization,omitempty"`
	// DisplayUsernameNormalization is the same for the display username: "none" or
	// "lowercase". Default: "none" (the display username keeps what the user typed).
	DisplayUsernameNormalization string `json:"display_username_normalization,omitempty"`
	// UsernameValidationOrder says whether length and pattern are checked on the username as
	// typed ("pre-normalization") or once normalized ("post-normalization").
	// Default: "pre-normalization".
	UsernameValidationOrder string `json:"username_validation_order,omitempty"`
	// DisplayUsernameValidationOrder is the same for the display-username pattern.
	// Default: "pre-normalization".
	DisplayUsernameValidationOrder string `json:"display_username_validation_order,omitempty"`
	// ImmutableUsername refuses, on /update-user, any change of a username once one is set
	// (400 USERNAME_IS_IMMUTABLE); a user without one may still set it. Default: off.
	ImmutableUsername bool `json:"immutable_username,omitempty"`
	// DisableDisplayUsername leaves out the displayUsername field (Better Auth's
	// displayUsername: false). Default: off (the field exists).
	DisableDisplayUsername bool `json:"disable_display_username,omitempty"`

	engine         *authcore.Engine
	min, max       int
	pattern        *regexp.Regexp
	displayPattern *regexp.Regexp // nil: no display-username validation
}

// ID is Better Auth's plugin id.
func (*Plugin) ID() string { return "username" }

// Register validates the options and declares the plugin's fields, routes, hooks and error
// codes.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.setup(); err != nil {
		return fmt.Errorf("plugin %q: %w", p.ID(), err)
	}
	p.engine = r.Engine()
	if err := p.registerSchema(r); err != nil {
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
	r.Provide(p)
	return nil
}

// setup applies the defaults and checks the options, naming the offending one.
func (p *Plugin) setup() error {
	if p.MinUsernameLength < 0 || p.MaxUsernameLength < 0 {
		return fmt.Errorf("min_username_length and max_username_length must not be negative")
	}
	p.min, p.max = p.MinUsernameLength, p.MaxUsernameLength
	if p.min == 0 {
		p.min = DefaultMinUsernameLength
	}
	if p.max == 0 {
		p.max = DefaultMaxUsernameLength
	}
	if p.min > p.max {
		return fmt.Errorf("min_username_length %d is greater than max_username_length %d", p.min, p.max)
	}
	pat := p.UsernamePattern
	if pat == "" {
		pat = DefaultUsernamePattern
	}
	var err error
	if p.pattern, err = regexp.Compile(pat); err != nil {
		return fmt.Errorf("username_pattern: %w", err)
	}
	p.displayPattern = nil
	if p.DisplayUsernamePattern != "" {
		if p.DisableDisplayUsername {
			return fmt.Errorf("display_username_pattern is set but disable_display_username removes the field")
		}
		if p.displayPattern, err = regexp.Compile(p.DisplayUsernamePattern); err != nil {
			return fmt.Errorf("display_username_pattern: %w", err)
		}
	}
	for _, o := range []struct{ name, val string }{
		{"username_normalization", p.UsernameNormalization},
		{"display_username_normalization", p.DisplayUsernameNormalization},
	} {
		if o.val != "" && o.val != NormalizeLowercase && o.val != NormalizeNone {
			return fmt.Errorf("%s: %q is not one of %s, %s", o.name, o.val, NormalizeLowercase, NormalizeNone)
		}
	}
	for _, o := range []struct{ name, val string }{
		{"username_validation_order", p.UsernameValidationOrder},
		{"display_username_validation_order", p.DisplayUsernameValidationOrder},
	} {
		if o.val != "" && o.val != PreNormalization && o.val != PostNormalization {
			return fmt.Errorf("%s: %q is not one of %s, %s", o.name, o.val, PreNormalization, PostNormalization)
		}
	}
	return nil
}

// NormalizeUsername returns the stored form of a username (lower-case unless
// username_normalization is "none"). Other plugins that write the username field use it.
func (p *Plugin) NormalizeUsername(s string) string {
	if p.UsernameNormalization == NormalizeNone {
		return s
	}
	return strings.ToLower(s)
}

// normalizeDisplay returns the stored form of a display username.
func (p *Plugin) normalizeDisplay(s string) string {
	if p.DisplayUsernameNormalization == NormalizeLowercase {
		return strings.ToLower(s)
	}
	return s
}

// CheckUsername applies the length limits and the pattern to a username as typed (or to its
// normalized form with post-normalization validation). It returns USERNAME_TOO_SHORT,
// USERNAME_TOO_LONG or INVALID_USERNAME, or ok=true.
func (p *Plugin) CheckUsername(s string) (code authcore.ErrorCode, ok bool) {
	if p.UsernameValidationOrder == PostNormalization {
		s = p.NormalizeUsername(s)
	}
	switch n := jsLength(s); {
	case n < p.min:
		return CodeUsernameTooShort, false
	case n > p.max:
		return CodeUsernameTooLong, false
	case !p.pattern.MatchString(s):
		return CodeInvalidUsername, false
	}
	return authcore.ErrorCode{}, true
}

// checkDisplay applies the display-username pattern, if any.
func (p *Plugin) checkDisplay(s string) bool {
	if p.displayPattern == nil {
		return true
	}
	if p.DisplayUsernameValidationOrder == PostNormalization {
		s = p.normalizeDisplay(s)
	}
	return p.displayPattern.MatchString(s)
}

// UserByUsername returns the user whose stored username is the normalized form of name, or
// nil.
func (p *Plugin) UserByUsername(ctx context.Context, name string) (storage.Record, error) {
	return p.userByStored(ctx, p.NormalizeUsername(name))
}

func (p *Plugin) userByStored(ctx context.Context, stored string) (storage.Record, error) {
	rec, err := p.engine.Store().FindOne(ctx, authcore.ModelUser, storage.Eq(FieldUsername, stored))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return rec, nil
}

// jsLength is a string's length as JavaScript's String.length counts it (UTF-16 code
// units), so limits match Better Auth's for every input.
func jsLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // 1 or 2
	}
	return n
}
