package openapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"strings"

	_ "embed"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// generateSchema serves the document. It is built per request: endpoints of plugins that
// register after this one are included, and nothing is cached across reloads.
func (p *Plugin) generateSchema(c *authcore.Call) (any, error) {
	return Document(p.engine), nil
}

//go:embed viewer.js
var viewerJS string

//go:embed viewer.css
var viewerCSS string

func hashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// reference serves the reference page: Scalar (or any script) from reference_script_url
// when set, else the embedded viewer. Either way the page only talks to this server and,
// in the first mode, to exactly the script's origin.
func (p *Plugin) reference(c *authcore.Call) (any, error) {
	cfg := p.engine.Config()
	docURL := cfg.BasePath + PathGenerateSchema
	title := html.EscapeString(cfg.AppName) + " API reference"
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>`)
	b.WriteString(title)
	b.WriteString(`</title>`)
	if p.scriptOrigin != "" {
		o := p.scriptOrigin
		h.Set("Content-Security-Policy", "default-src 'none'; script-src "+o+"; style-src "+o+" 'unsafe-inline'; font-src "+o+
			"; img-src "+o+" data:; connect-src 'self' "+o+"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		b.WriteString(`</head><body><script id="api-reference" data-url="`)
		b.WriteString(html.EscapeString(docURL))
		b.WriteString(`"></script><script src="`)
		b.WriteString(html.EscapeString(p.ReferenceScriptURL))
		b.WriteString(`"></script></body></html>`)
	} else {
		h.Set("Content-Security-Policy", "default-src 'none'; script-src "+hashSource(viewerJS)+"; style-src "+hashSource(viewerCSS)+
			"; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		b.WriteString(`<style>`)
		b.WriteString(viewerCSS)
		b.WriteString(`</style></head><body><header><h1>`)
		b.WriteString(title)
		b.WriteString(`</h1><p>Document: <a id="doc-link" href="`)
		b.WriteString(html.EscapeString(docURL))
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(docURL))
		b.WriteString(`</a></p></header><main id="reference" data-url="`)
		b.WriteString(html.EscapeString(docURL))
		b.WriteString(`"><p>Loading…</p></main><script>`)
		b.WriteString(viewerJS)
		b.WriteString(`</script></body></html>`)
	}
	return &authcore.RawResponse{Status: http.StatusOK, Header: h, Body: []byte(b.String())}, nil
}

// DocumentJSON is the indented JSON of [Document] (the gatehouse openapi command prints it).
func DocumentJSON(e *authcore.Engine) ([]byte, error) {
	return json.MarshalIndent(Document(e), "", "  ")
}
