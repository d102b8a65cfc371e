package openapi

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// ID is the plugin's Better Auth id.
const ID = "open-api"

// PathGenerateSchema is the route of the OpenAPI document (relative to the base path).
const PathGenerateSchema = "/open-api/generate-schema"

// DefaultReferencePath is the default route of the reference page (Better Auth's default).
const DefaultReferencePath = "/reference"

// Plugin is the open-api plugin and its configuration (Caddy module
// gatehouse.plugins.open_api). The zero value is ready to use.
type Plugin struct {
	// Path of the reference page, relative to the base path. Default: /reference.
	Path string `json:"path,omitempty"`
	// ReferenceScriptURL, when set, makes the reference page load this script (an https
	// URL, such as Scalar's CDN bundle https://cdn.jsdelivr.net/npm/@scalar/api-reference)
	// with a Content-Security-Policy allowing exactly its origin. Default: none — the page
	// is a small self-contained viewer that needs no network beyond this server.
	ReferenceScriptURL string `json:"reference_script_url,omitempty"`
	// DisableDefaultReference turns the reference page off (404); the document stays.
	DisableDefaultReference bool `json:"disable_default_reference,omitempty"`

	engine       *authcore.Engine
	scriptOrigin string
}

// ID returns "open-api".
func (*Plugin) ID() string { return ID }

// Register validates the options and declares the two routes.
func (p *Plugin) Register(r *authcore.Registrar) error {
	p.engine = r.Engine()
	if p.Path == "" {
		p.Path = DefaultReferencePath
	}
	if !strings.HasPrefix(p.Path, "/") || strings.ContainsAny(p.Path, " ?#:*") || p.Path == PathGenerateSchema {
		return fmt.Errorf("open-api: path %q must start with / and be a plain path other than %s", p.Path, PathGenerateSchema)
	}
	if p.ReferenceScriptURL != "" {
		u, err := url.Parse(p.ReferenceScriptURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			return fmt.Errorf("open-api: reference_script_url %q must be an absolute https URL", p.ReferenceScriptURL)
		}
		p.scriptOrigin = u.Scheme + "://" + u.Host
	}
	if err := r.Endpoint(authcore.Endpoint{Method: "GET", Path: PathGenerateSchema, Handler: p.generateSchema,
		Summary:     "The OpenAPI document of this server",
		Description: "An OpenAPI 3.1 document of every enabled endpoint, with the storage models as components.",
		Response:    authcore.ObjectOf(map[string]any{"openapi": "string", "info": "object", "paths": "object", "components": "object"}, "openapi", "info", "paths"),
	}); err != nil {
		return err
	}
	if p.DisableDefaultReference {
		return nil
	}
	return r.Endpoint(authcore.Endpoint{Method: "GET", Path: p.Path, Handler: p.reference,
		Summary: "Interactive API reference", Response: authcore.HTMLPage()})
}
