package portal

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed assets
var assetFS embed.FS

// asset is one static file served under /ui/assets/ by its content-hashed name.
type asset struct {
	name  string // hashed name, e.g. portal.3f2a9c1d0b.css
	body  []byte
	ctype string
}

// assetSet maps logical names ("portal.css", "passkey.js", "theme.css") to hashed files.
type assetSet struct {
	byLogical map[string]*asset
	byHashed  map[string]*asset
}

// buildAssets loads every file of assets/ and adds theme.css generated from the accent
// colour, so no style attribute or inline style is ever needed (CSP style-src 'self').
func buildAssets(accent string) (assetSet, error) {
	s := assetSet{byLogical: map[string]*asset{}, byHashed: map[string]*asset{}}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		s.add(path.Base(p), b)
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("loading assets: %w", err)
	}
	s.add("theme.css", themeCSS(accent))
	return s, nil
}

func (s *assetSet) add(logical string, body []byte) {
	sum := sha256.Sum256(body)
	ext := path.Ext(logical)
	a := &asset{
		name:  strings.TrimSuffix(logical, ext) + "." + hex.EncodeToString(sum[:5]) + ext,
		body:  body,
		ctype: mime.TypeByExtension(ext),
	}
	switch ext { // do not depend on the host's mime tables for what we serve
	case ".css":
		a.ctype = "text/css; charset=utf-8"
	case ".js":
		a.ctype = "text/javascript; charset=utf-8"
	case ".svg":
		a.ctype = "image/svg+xml"
	}
	if a.ctype == "" {
		a.ctype = "application/octet-stream"
	}
	s.byLogical[logical] = a
	s.byHashed[a.name] = a
}

// url returns the absolute path of an asset by its logical name. An unknown name is a
// programming error caught by the render tests; it yields a path that answers 404.
func (p *Plugin) assetURL(logical string) string {
	if a, ok := p.assets.byLogical[logical]; ok {
		return p.uiBase + "/assets/" + a.name
	}
	return p.uiBase + "/assets/missing-" + logical
}

// serveAsset answers GET /ui/assets/<hashed name>.
func (p *Plugin) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := p.assets.byHashed[name]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	h := w.Header()
	p.setSecurityHeaders(h, true)
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(a.body)
	}
}

// themeCSS sets the accent custom properties. The text on accent-coloured buttons is white
// or near-black, whichever contrasts more, and --accent-text is a shade of the accent that
// keeps 4.5:1 against the page background in both colour schemes.
func themeCSS(accent string) []byte {
	r, g, b := hexRGB(accent)
	on := "#ffffff"
	if contrast(lum(r, g, b), 1) < contrast(lum(r, g, b), lum(17, 24, 39)) {
		on = "#111827"
	}
	light := shadeFor(r, g, b, 1.0, false) // on white
	dark := shadeFor(r, g, b, lum(17, 24, 39), true)
	return fmt.Appendf(nil, ":root{--accent:%s;--on-accent:%s;--accent-text:%s}\n"+
		"@media (prefers-color-scheme: dark){:root{--accent-text:%s}}\n", accent, on, light, dark)
}

func hexRGB(c string) (r, g, b float64) {
	v, _ := strconv.ParseUint(c[1:], 16, 32)
	return float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)
}

func lum(r, g, b float64) float64 {
	ch := func(c float64) float64 {
		c /= 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(b)
}

func contrast(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}

// shadeFor darkens (lighten=false) or lightens the colour until it reaches 4.5:1 against a
// background of luminance bg.
func shadeFor(r, g, b, bg float64, lighten bool) string {
	for i := 0; i < 100 && contrast(lum(r, g, b), bg) < 4.5; i++ {
		if lighten {
			r, g, b = r+(255-r)*0.08, g+(255-g)*0.08, b+(255-b)*0.08
		} else {
			r, g, b = r*0.92, g*0.92, b*0.92
		}
	}
	return fmt.Sprintf("#%02x%02x%02x", int(r+0.5), int(g+0.5), int(b+0.5))
}
