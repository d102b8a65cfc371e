package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// profileFunc reads the user of a plain OAuth 2.0 provider from its API.
type profileFunc func(ctx context.Context, p *provider, t *Tokens) (*Identity, error)

// getJSON GETs url with the access token and decodes the JSON answer into out.
func (p *provider) getJSON(ctx context.Context, url string, t *Tokens, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Gatehouse")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s answered %d", ErrUserInfo, url, resp.StatusCode)
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	return nil
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// githubProfile: GET /user, and GET /user/emails for the address when the profile hides it
// (the primary one, else the first) and for whether it is verified.
func githubProfile(ctx context.Context, p *provider, t *Tokens) (*Identity, error) {
	var prof map[string]any
	if err := p.getJSON(ctx, p.userInfoURL, t, &prof); err != nil {
		return nil, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified any    `json:"verified"`
	}
	if err := p.getJSON(ctx, strings.TrimRight(p.userInfoURL, "/")+"/emails", t, &emails); err != nil {
		return nil, err
	}
	id := &Identity{Subject: str(prof, "id"), Email: str(prof, "email"), Name: str(prof, "name"), Image: str(prof, "avatar_url"), Claims: prof}
	if id.Name == "" {
		id.Name = str(prof, "login")
	}
	if id.Email == "" && len(emails) > 0 {
		id.Email = emails[0].Email
		for _, e := range emails {
			if e.Primary {
				id.Email = e.Email
				break
			}
		}
	}
	for _, e := range emails {
		if e.Email != "" && strings.EqualFold(e.Email, id.Email) {
			id.EmailVerified = verifiedClaim(e.Verified, false)
		}
	}
	if id.Subject == "" {
		return nil, fmt.Errorf("%w: github profile has no id", ErrUserInfo)
	}
	return id, nil
}

// discordProfile: GET /users/@me; verified says whether the email is verified; the image is
// the CDN avatar (or the default avatar).
func discordProfile(ctx context.Context, p *provider, t *Tokens) (*Identity, error) {
	var prof map[string]any
	if err := p.getJSON(ctx, p.userInfoURL, t, &prof); err != nil {
		return nil, err
	}
	id := &Identity{Subject: str(prof, "id"), Email: str(prof, "email"), Claims: prof,
		EmailVerified: verifiedClaim(prof["verified"], false)}
	id.Name = first(str(prof, "global_name"), str(prof, "username"))
	if av := str(prof, "avatar"); av != "" {
		ext := "png"
		if strings.HasPrefix(av, "a_") {
			ext = "gif"
		}
		id.Image = "https://cdn.discordapp.com/avatars/" + id.Subject + "/" + av + "." + ext
	} else {
		idx := "0"
		if n, err := json.Number(id.Subject).Int64(); err == nil {
			idx = fmt.Sprint((n >> 22) % 6)
		}
		id.Image = "https://cdn.discordapp.com/embed/avatars/" + idx + ".png"
	}
	if id.Subject == "" {
		return nil, fmt.Errorf("%w: discord profile has no id", ErrUserInfo)
	}
	return id, nil
}

// standardProfile reads OIDC-style claims (sub, email, email_verified, name, picture) from
// userinfo_url (preset oauth2).
func standardProfile(ctx context.Context, p *provider, t *Tokens) (*Identity, error) {
	var prof map[string]any
	if err := p.getJSON(ctx, p.userInfoURL, t, &prof); err != nil {
		return nil, err
	}
	id := p.identityFromClaims(prof)
	id.Subject = first(str(prof, "sub"), str(prof, "id"))
	if id.Subject == "" {
		return nil, fmt.Errorf("%w: profile has no sub", ErrUserInfo)
	}
	return id, nil
}
