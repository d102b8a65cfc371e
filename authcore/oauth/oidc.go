package oauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discovery returns the provider's OIDC metadata, fetched on first use and cached once it
// succeeded (a failure is retried by the next request). With auth_url, token_url and
// jwks_url all configured nothing is fetched.
func (p *provider) discovery(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, nil
	}
	cctx := p.ctx(ctx)
	var d *oidc.Provider
	if p.cfg.AuthURL != "" && p.cfg.TokenURL != "" && p.cfg.JWKSURL != "" {
		d = (&oidc.ProviderConfig{IssuerURL: p.issuer, AuthURL: p.cfg.AuthURL, TokenURL: p.cfg.TokenURL,
			UserInfoURL: p.cfg.UserInfoURL, JWKSURL: p.cfg.JWKSURL, Algorithms: p.cfg.Algorithms}).NewProvider(cctx)
	} else {
		if p.multiTenant {
			// The document's issuer is the {tenantid} template; each token's iss is checked
			// against it in VerifyIDToken.
			cctx = oidc.InsecureIssuerURLContext(cctx, "https://login.microsoftonline.com/{tenantid}/v2.0")
		}
		var err error
		d, err = oidc.NewProvider(cctx, p.issuer)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrDiscovery, p.issuer, err)
		}
		if p.cfg.JWKSURL != "" {
			var meta struct {
				Issuer   string `json:"issuer"`
				Auth     string `json:"authorization_endpoint"`
				Token    string `json:"token_endpoint"`
				UserInfo string `json:"userinfo_endpoint"`
			}
			if err := d.Claims(&meta); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrDiscovery, err)
			}
			d = (&oidc.ProviderConfig{IssuerURL: meta.Issuer, AuthURL: first(p.cfg.AuthURL, meta.Auth), TokenURL: first(p.cfg.TokenURL, meta.Token),
				UserInfoURL: first(p.cfg.UserInfoURL, meta.UserInfo), JWKSURL: p.cfg.JWKSURL, Algorithms: p.cfg.Algorithms}).NewProvider(cctx)
		}
	}
	p.disc = d
	return d, nil
}

func (p *provider) VerifyIDToken(ctx context.Context, raw, nonce string) (*Identity, error) {
	if !p.preset.oidc {
		return nil, ErrIDTokenNotSupported
	}
	d, err := p.discovery(ctx)
	if err != nil {
		return nil, err
	}
	v := d.VerifierContext(p.ctx(ctx), &oidc.Config{ClientID: p.cfg.ClientID,
		SupportedSigningAlgs: p.cfg.Algorithms, SkipIssuerCheck: p.multiTenant})
	tok, err := v.Verify(p.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	if p.multiTenant {
		tid, _ := claims["tid"].(string)
		if tid == "" || strings.ContainsAny(tid, "/?#") || tok.Issuer != "https://login.microsoftonline.com/"+tid+"/v2.0" {
			return nil, fmt.Errorf("%w: issuer %q does not match tenant %q", ErrInvalidIDToken, tok.Issuer, tid)
		}
		if t := strings.ToLower(p.cfg.Tenant); t == "consumers" && tid != "9188040d-6c67-4c5b-b112-36a304b66dad" ||
			t == "organizations" && tid == "9188040d-6c67-4c5b-b112-36a304b66dad" {
			return nil, fmt.Errorf("%w: tenant %q not accepted by %q", ErrInvalidIDToken, tid, t)
		}
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return nil, ErrNonceMismatch
	}
	id := p.identityFromClaims(claims)
	if id.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", ErrInvalidIDToken)
	}
	return id, nil
}

// identityFromClaims maps standard OIDC claims.
func (p *provider) identityFromClaims(claims map[string]any) *Identity {
	id := &Identity{Claims: claims}
	id.Subject, _ = claims["sub"].(string)
	id.Email, _ = claims["email"].(string)
	if id.Email == "" && p.cfg.Preset == PresetMicrosoft {
		id.Email, _ = claims["preferred_username"].(string)
	}
	id.EmailVerified = verifiedClaim(claims["email_verified"], p.preset.stringVerified)
	id.Name, _ = claims["name"].(string)
	if id.Name == "" {
		g, _ := claims["given_name"].(string)
		f, _ := claims["family_name"].(string)
		id.Name = strings.TrimSpace(g + " " + f)
	}
	id.Image, _ = claims["picture"].(string)
	return id
}

// verifiedClaim is true only for the JSON value true (and the string "true" when the
// provider documents it).
func verifiedClaim(v any, allowString bool) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return allowString && x == "true"
	}
	return false
}

// userInfo fetches the OIDC userinfo endpoint (used when the ID token lacks an email).
func (p *provider) userInfo(ctx context.Context, t *Tokens) (map[string]any, error) {
	d, err := p.discovery(ctx)
	if err != nil {
		return nil, err
	}
	ui, err := d.UserInfo(p.ctx(ctx), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: t.AccessToken}))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	var m map[string]any
	if err := ui.Claims(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	return m, nil
}
