package portal

import (
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Defaults.
const (
	// DefaultAccentColor is the accent when accent_color is not set (white text on it has a
	// contrast ratio above 4.5:1).
	DefaultAccentColor = "#4f46e5"
	// DefaultCallback is where a browser goes after signing in when no valid callbackURL was
	// given.
	DefaultCallback = "/"
)

// Plugin is the hosted login portal (plugin id "portal", Caddy module
// gatehouse.plugins.portal): server-rendered pages under <base_path>/ui/ (D14). Its fields
// are its configuration; the zero value is a working portal.
type Plugin struct {
	// AppName is the name shown in page titles and the header. Default: the engine's
	// app_name.
	AppName string `json:"app_name,omitempty"`
	// LogoURL is an image shown in the header: an https URL or a same-origin absolute path.
	// Default: none (the app name is shown as text).
	LogoURL string `json:"logo_url,omitempty"`
	// AccentColor is the brand colour of buttons and links, #rgb or #rrggbb (quote it in a
	// Caddyfile, where an unquoted # starts a comment, or leave the # out). Default: #4f46e5.
	AccentColor string `json:"accent_color,omitempty"`
	// DefaultCallback is where a browser goes after signing in when it brought no valid
	// callbackURL: an absolute path on the base URL's host. Default: "/".
	DefaultCallback string `json:"default_callback,omitempty"`

	engine     *authcore.Engine
	basePath   string // the engine's base path, e.g. "/api/auth"
	uiBase     string // basePath + "/ui"
	accent     string // #rrggbb
	csp        string
	secure     bool // cookies get Secure (the engine's own cookies do)
	assets     assetSet
	pages      map[string]*template.Template
	routeTable []route
	// socialOrigins are the origins of the social providers' authorization endpoints that
	// the CSP's form-action allows (routes_social.go).
	socialOrigins []string
}

// ID is the plugin id.
func (*Plugin) ID() string { return "portal" }

// Register validates the options, builds the templates and assets, and reserves /ui/.
func (p *Plugin) Register(r *authcore.Registrar) error {
	e := r.Engine()
	p.engine = e
	cfg := e.Config()
	p.basePath = cfg.BasePath
	p.uiBase = cfg.BasePath + "/ui"
	p.secure = strings.HasPrefix(e.CookieName(csrfCookieSuffix), "__Secure-")
	if p.AppName == "" {
		p.AppName = cfg.AppName
	}
	if strings.ContainsAny(p.AppName, "\x00\r\n") || len(p.AppName) > 100 {
		return fmt.Errorf("portal: app_name must be a single line of at most 100 bytes")
	}
	accent, err := normalizeColor(p.AccentColor)
	if err != nil {
		return err
	}
	p.accent = accent
	logoOrigin, err := checkLogo(p.LogoURL)
	if err != nil {
		return err
	}
	if p.DefaultCallback == "" {
		p.DefaultCallback = DefaultCallback
	}
	if !strings.HasPrefix(p.DefaultCallback, "/") || !e.Origins().SafeRedirect(p.DefaultCallback) {
		return fmt.Errorf("portal: default_callback %q must be an absolute path on the base URL (like /app)", p.DefaultCallback)
	}
	p.assets, err = buildAssets(p.accent)
	if err != nil {
		return fmt.Errorf("portal: %w", err)
	}
	if err := p.parseTemplates(); err != nil {
		return fmt.Errorf("portal: %w", err)
	}
	p.routeTable = p.routes()
	p.socialOrigins = socialFormOrigins(cfg.Social.Providers)
	p.csp = buildCSP(e.BaseURL(), append(append([]string(nil), cfg.TrustedOrigins...), p.socialOrigins...), logoOrigin)
	// The API's /error (where an OAuth callback whose state is lost must send the browser)
	// forwards to the portal's page, which explains each code.
	if err := r.ErrorPage("/ui/error"); err != nil {
		return err
	}
	return r.ReservePrefix("/ui/", p)
}

var colorRe = regexp.MustCompile(`^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// normalizeColor validates #rgb / #rrggbb (the "#" may be left out: in a Caddyfile an unquoted
// "#" starts a comment) and returns lower-case #rrggbb.
func normalizeColor(c string) (string, error) {
	if c == "" {
		return DefaultAccentColor, nil
	}
	if !colorRe.MatchString(c) {
		return "", fmt.Errorf("portal: accent_color %q must be #rgb or #rrggbb (quoted in a Caddyfile)", c)
	}
	c = "#" + strings.ToLower(strings.TrimPrefix(c, "#"))
	if len(c) == 4 {
		c = "#" + string([]byte{c[1], c[1], c[2], c[2], c[3], c[3]})
	}
	return c, nil
}

// checkLogo accepts an https URL (returning its origin for the CSP) or a same-origin absolute
// path.
func checkLogo(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	bad := fmt.Errorf("portal: logo_url %q must be an https URL or an absolute path like /logo.svg", s)
	for _, c := range s {
		if c <= ' ' || c == 0x7f || c == '\\' || c == '"' || c == '\'' || c == '<' || c == '>' || c > 0x7e {
			return "", bad
		}
	}
	if strings.HasPrefix(s, "/") {
		if strings.HasPrefix(s, "//") {
			return "", bad
		}
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", bad
	}
	return "https://" + strings.ToLower(u.Host), nil
}
