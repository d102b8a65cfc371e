package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Provider is one configured identity provider.
type Provider interface {
	ID() string
	Name() string
	// AuthCodeURL is where the browser is sent to sign in.
	AuthCodeURL(AuthRequest) (string, error)
	// Exchange trades the callback's code (with the PKCE verifier) for tokens.
	Exchange(ctx context.Context, code, verifier, redirectURI string) (*Tokens, error)
	// Identity is who the tokens belong to: from the verified ID token (with nonce) for
	// OIDC, from the provider's user API for plain OAuth 2.0.
	Identity(ctx context.Context, t *Tokens, nonce string) (*Identity, error)
	// VerifyIDToken verifies an ID token obtained by the client (sign-in with an idToken).
	// nonce is compared when not empty. ErrIDTokenNotSupported for plain OAuth 2.0.
	VerifyIDToken(ctx context.Context, raw, nonce string) (*Identity, error)
	// UserInfo reads the user from the provider's user-info API with an access token (OIDC
	// userinfo endpoint, or the plain OAuth 2.0 provider's user API): /account-info.
	UserInfo(ctx context.Context, t *Tokens) (*Identity, error)
	// Refresh uses a refresh token (the refresh_token grant).
	Refresh(ctx context.Context, refreshToken string) (*Tokens, error)
	// Config is the provider's configuration with defaults applied.
	Config() Config
	// AuthorizationOrigin is the origin AuthCodeURL sends the browser to, known without
	// discovery (the auth URL's, else the issuer's: discovery's authorization endpoint is on
	// the issuer's origin at every provider we know); "" when neither is set. Pages that
	// POST a form redirecting there name it in their CSP form-action.
	AuthorizationOrigin() string
}

// AuthRequest is one authorization request.
type AuthRequest struct {
	State       string
	Verifier    string // PKCE code verifier; the S256 challenge is sent when PKCE is on
	Nonce       string // OIDC nonce
	RedirectURI string
	Scopes      []string // in addition to the configured ones
	LoginHint   string
	Prompt      string // overrides the configured prompt
}

// Identity is a user as vouched for by the provider.
type Identity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Image         string
	Claims        map[string]any
}

// Tokens are what the token endpoint returned.
type Tokens struct {
	AccessToken           string
	RefreshToken          string
	IDToken               string
	AccessTokenExpiresAt  time.Time
	RefreshTokenExpiresAt time.Time
	// ExpiresIn and RefreshTokenExpiresIn are the lifetimes the provider announced (zero
	// when it did not); callers with their own clock compute expiry times from them.
	ExpiresIn             time.Duration
	RefreshTokenExpiresIn time.Duration
	Scopes                []string
}

// Errors of the provider layer. Callers map them to their own answers; details are
// wrapped for logs.
var (
	ErrIDTokenNotSupported = errors.New("oauth: provider does not issue ID tokens")
	ErrInvalidIDToken      = errors.New("oauth: invalid ID token")
	ErrNonceMismatch       = errors.New("oauth: ID token nonce mismatch")
	ErrNoIDToken           = errors.New("oauth: token response has no id_token")
	ErrExchange            = errors.New("oauth: code exchange failed")
	ErrUserInfo            = errors.New("oauth: unable to get user info")
	ErrDiscovery           = errors.New("oauth: OIDC discovery failed")
)

// New builds a provider from cfg, validated. client makes every request to the provider
// (nil: http.DefaultClient). Nothing is fetched here.
func New(cfg Config, client *http.Client) (Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if client == nil {
		client = http.DefaultClient
	}
	ps := presets[cfg.Preset]
	p := &provider{cfg: cfg, preset: ps, client: client}
	if ps.oidc {
		p.issuer = cfg.Issuer
		if p.issuer == "" {
			p.issuer = strings.ReplaceAll(ps.issuer, "{tenant}", cfg.Tenant)
		}
		p.multiTenant = cfg.Preset == PresetMicrosoft && multiTenantMicrosoft[strings.ToLower(cfg.Tenant)] && cfg.Issuer == ""
	}
	p.authURL = first(cfg.AuthURL, ps.authURL)
	p.tokenURL = first(cfg.TokenURL, ps.tokenURL)
	p.userInfoURL = first(cfg.UserInfoURL, ps.userInfoURL)
	return p, nil
}

type provider struct {
	cfg         Config
	preset      preset
	client      *http.Client
	issuer      string
	multiTenant bool
	authURL     string
	tokenURL    string
	userInfoURL string

	mu   sync.Mutex
	disc *oidc.Provider // cached after the first successful discovery
}

func (p *provider) ID() string     { return p.cfg.ID }
func (p *provider) Name() string   { return p.cfg.Name }
func (p *provider) Config() Config { return p.cfg }

func (p *provider) AuthorizationOrigin() string {
	u, err := url.Parse(first(p.authURL, p.issuer))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

func (p *provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, p.client), p.client)
}

// endpoint is the OAuth 2.0 endpoint pair, from discovery for OIDC unless overridden.
func (p *provider) endpoint(ctx context.Context) (oauth2.Endpoint, error) {
	ep := oauth2.Endpoint{AuthURL: p.authURL, TokenURL: p.tokenURL}
	if p.preset.oidc && (ep.AuthURL == "" || ep.TokenURL == "") {
		d, err := p.discovery(ctx)
		if err != nil {
			return ep, err
		}
		de := d.Endpoint()
		ep.AuthURL, ep.TokenURL = first(ep.AuthURL, de.AuthURL), first(ep.TokenURL, de.TokenURL)
	}
	return ep, nil
}

func (p *provider) oauth2Config(ctx context.Context, redirectURI string, extra []string) (*oauth2.Config, error) {
	ep, err := p.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	var scopes []string
	for _, s := range slices.Concat(p.preset.scopes, p.cfg.Scopes, extra) {
		if s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret,
		Endpoint: ep, RedirectURL: redirectURI, Scopes: scopes}, nil
}

func (p *provider) AuthCodeURL(r AuthRequest) (string, error) {
	oc, err := p.oauth2Config(context.Background(), r.RedirectURI, r.Scopes)
	if err != nil {
		return "", err
	}
	var opts []oauth2.AuthCodeOption
	if p.cfg.pkce() && r.Verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(r.Verifier))
	}
	if p.preset.oidc && r.Nonce != "" {
		opts = append(opts, oidc.Nonce(r.Nonce))
	}
	if r.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", r.LoginHint))
	}
	if pr := first(r.Prompt, p.cfg.Prompt, p.preset.prompt); pr != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", pr))
	}
	for k, v := range p.preset.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return oc.AuthCodeURL(r.State, opts...), nil
}

func (p *provider) Exchange(ctx context.Context, code, verifier, redirectURI string) (*Tokens, error) {
	oc, err := p.oauth2Config(ctx, redirectURI, nil)
	if err != nil {
		return nil, err
	}
	var opts []oauth2.AuthCodeOption
	if p.cfg.pkce() && verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	t, err := oc.Exchange(p.ctx(ctx), code, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExchange, err)
	}
	return tokensOf(t), nil
}

func (p *provider) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	oc, err := p.oauth2Config(ctx, "", nil)
	if err != nil {
		return nil, err
	}
	t, err := oc.TokenSource(p.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExchange, err)
	}
	out := tokensOf(t)
	if out.RefreshToken == "" {
		out.RefreshToken = refreshToken
	}
	return out, nil
}

func (p *provider) Identity(ctx context.Context, t *Tokens, nonce string) (*Identity, error) {
	if p.preset.oidc {
		if t.IDToken == "" {
			return nil, ErrNoIDToken
		}
		if nonce == "" {
			return nil, fmt.Errorf("%w: no nonce to check", ErrNonceMismatch)
		}
		id, err := p.VerifyIDToken(ctx, t.IDToken, nonce)
		if err != nil || id.Email != "" || t.AccessToken == "" {
			return id, err
		}
		// Some providers put the email only in userinfo; its sub must be the token's.
		if m, err := p.userInfo(ctx, t); err == nil && m["sub"] == id.Subject {
			ui := p.identityFromClaims(m)
			id.Email, id.EmailVerified = ui.Email, ui.EmailVerified
		}
		return id, nil
	}
	return p.preset.profile(p.ctx(ctx), p, t)
}

func (p *provider) UserInfo(ctx context.Context, t *Tokens) (*Identity, error) {
	if !p.preset.oidc {
		return p.preset.profile(p.ctx(ctx), p, t)
	}
	m, err := p.userInfo(ctx, t)
	if err != nil {
		return nil, err
	}
	return p.identityFromClaims(m), nil
}

// tokensOf converts an oauth2.Token.
func tokensOf(t *oauth2.Token) *Tokens {
	out := &Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, AccessTokenExpiresAt: t.Expiry,
		ExpiresIn: time.Duration(t.ExpiresIn) * time.Second}
	if s, ok := t.Extra("id_token").(string); ok {
		out.IDToken = s
	}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scopes = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	if n, ok := t.Extra("refresh_token_expires_in").(float64); ok && n > 0 {
		out.RefreshTokenExpiresIn = time.Duration(n) * time.Second
		out.RefreshTokenExpiresAt = time.Now().Add(out.RefreshTokenExpiresIn)
	}
	return out
}

func first(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
