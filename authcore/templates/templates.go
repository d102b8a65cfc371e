package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htemplate "html/template"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	ttemplate "text/template"
	"time"
)

//go:embed defaults/*
var defaultFiles embed.FS

// Names of the fallback types and the layouts.
const (
	// Generic is the email type used for a Type the set has no templates for.
	Generic = "generic"
	// GenericSMS is the SMS type used for a Type the set has no templates for.
	GenericSMS = "generic-sms"
	layout     = "layout"
)

// maxFileSize bounds a template file read from disk.
const maxFileSize = 1 << 20

// Data is what every template sees.
type Data struct {
	// AppName and BaseURL are the engine's app_name and base_url; every default message
	// shows both.
	AppName string
	BaseURL string
	// To is the recipient (an email address or a phone number).
	To string
	// URL, Token and OTP are the link, token and code the message carries (those that apply).
	URL   string
	Token string
	OTP   string
	// ExpiresIn says in words how long the link or code stays valid ("5 minutes"); empty
	// when the sender did not say.
	ExpiresIn string
	// Vars are extra, type-specific values: "purpose" for email-otp (sign-in |
	// email-verification | forget-password | change-email), "newEmail" for change-email,
	// "organization", "inviter" and "role" for organization-invitation. A missing key
	// renders as the empty string.
	Vars map[string]string
}

// Message is a rendered email. HTML is empty for a type that has no HTML template.
type Message struct {
	Subject string
	Text    string
	HTML    string
}

// Set is a parsed, checked collection of message templates. It is immutable and safe for
// concurrent use.
type Set struct {
	types map[string]*typeTemplates
}

type typeTemplates struct {
	subject *ttemplate.Template // nil: the generic subject
	text    *ttemplate.Template // the body inside layout.txt
	sms     *ttemplate.Template // the body alone
	html    *htemplate.Template // the body inside layout.html; nil: a text-only email
}

// source is one template file: where it came from (for errors) and its text.
type source struct {
	origin string
	text   string
}

// typeName is the shape of a message type: lowercase words joined by hyphens.
var typeName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

var defaultSet = sync.OnceValues(func() (*Set, error) {
	files, err := embeddedSources()
	if err != nil {
		return nil, err
	}
	return build(files)
})

// Default returns the embedded templates. They are checked by this package's tests, so a
// failure here is a build defect and panics.
func Default() *Set {
	s, err := defaultSet()
	if err != nil {
		panic("templates: embedded defaults are broken: " + err.Error())
	}
	return s
}

// Load returns the embedded templates overlaid with the files in dir: <type>.subject.txt,
// <type>.txt and <type>.html replace the default of that type and part, or add a new type
// (a plugin's own messages); layout.txt and layout.html replace the frame every email body
// is placed in. Every template is parsed and trial-executed, so a broken file fails here,
// with its path in the error, instead of when a message is sent. Files whose names start
// with a dot and subdirectories are ignored; any other file is an error. An empty dir
// returns the defaults.
func Load(dir string) (*Set, error) {
	if dir == "" {
		return Default(), nil
	}
	files, err := embeddedSources()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, ent := range entries {
		name := ent.Name()
		if strings.HasPrefix(name, ".") || ent.IsDir() {
			continue
		}
		path := filepath.Join(dir, name)
		if _, _, ok := splitName(name); !ok {
			return nil, fmt.Errorf("templates: %s: not a template file name (want <type>.subject.txt, <type>.txt or <type>.html, or layout.txt / layout.html; <type> in lowercase-with-hyphens)", path)
		}
		info, err := ent.Info()
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if info.Size() > maxFileSize {
			return nil, fmt.Errorf("templates: %s: larger than %d bytes", path, maxFileSize)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		files[name] = source{origin: path, text: string(b)}
	}
	return build(files)
}

// splitName splits a file name into its type and part ("subject", "txt" or "html").
func splitName(name string) (typ, part string, ok bool) {
	switch {
	case strings.HasSuffix(name, ".subject.txt"):
		typ, part = strings.TrimSuffix(name, ".subject.txt"), "subject"
	case strings.HasSuffix(name, ".txt"):
		typ, part = strings.TrimSuffix(name, ".txt"), "txt"
	case strings.HasSuffix(name, ".html"):
		typ, part = strings.TrimSuffix(name, ".html"), "html"
	default:
		return "", "", false
	}
	if !typeName.MatchString(typ) || typ == layout && part == "subject" {
		return "", "", false
	}
	return typ, part, true
}

func embeddedSources() (map[string]source, error) {
	files := map[string]source{}
	err := fs.WalkDir(defaultFiles, "defaults", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := defaultFiles.ReadFile(path)
		if err != nil {
			return err
		}
		files[d.Name()] = source{origin: "embedded " + d.Name(), text: string(b)}
		return nil
	})
	return files, err
}

var funcs = map[string]any{
	// host is the host name of a URL: "@{{host .BaseURL}} #{{.OTP}}" is the domain-bound
	// code line browsers read (WebOTP).
	"host": func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		return u.Hostname()
	},
}

// build parses every type and trial-executes each of its templates.
func build(files map[string]source) (*Set, error) {
	layoutTxt, ok1 := files["layout.txt"]
	layoutHTML, ok2 := files["layout.html"]
	if !ok1 || !ok2 {
		return nil, errors.New("templates: layout.txt and layout.html are required")
	}
	byType := map[string]map[string]source{}
	for name, src := range files {
		typ, part, ok := splitName(name)
		if !ok {
			return nil, fmt.Errorf("templates: %s: not a template file name", src.origin)
		}
		if typ == layout {
			continue
		}
		if byType[typ] == nil {
			byType[typ] = map[string]source{}
		}
		byType[typ][part] = src
	}
	for _, fallback := range []string{Generic, GenericSMS} {
		if _, ok := byType[fallback]; !ok {
			return nil, fmt.Errorf("templates: the fallback type %q is missing", fallback)
		}
	}
	s := &Set{types: map[string]*typeTemplates{}}
	names := make([]string, 0, len(byType))
	for typ := range byType {
		names = append(names, typ)
	}
	slices.Sort(names) // deterministic: the first broken file is always the same one
	for _, typ := range names {
		tt, err := buildType(typ, byType[typ], layoutTxt, layoutHTML)
		if err != nil {
			return nil, err
		}
		s.types[typ] = tt
	}
	if s.types[Generic].subject == nil {
		return nil, fmt.Errorf("templates: %s.subject.txt is missing", Generic)
	}
	// Trial runs: every type as an email and as an SMS, once with every field set and
	// once with only the app name and base URL, so that a reference to an unknown field
	// or function, or a template that fails on empty values, stops start-up.
	for _, typ := range names {
		parts := byType[typ]
		for _, d := range trialData() {
			if _, err := s.Render(typ, d); err != nil {
				return nil, fmt.Errorf("templates: %s: %w", describe(parts, layoutTxt, layoutHTML), err)
			}
			if _, err := s.RenderSMS(typ, d); err != nil {
				return nil, fmt.Errorf("templates: %s: %w", parts["txt"].origin, err)
			}
		}
	}
	return s, nil
}

// describe names the files a type's email is made of, for errors.
func describe(parts map[string]source, layoutTxt, layoutHTML source) string {
	var names []string
	for _, p := range []string{"subject", "txt", "html"} {
		if src, ok := parts[p]; ok {
			names = append(names, src.origin)
		}
	}
	names = append(names, layoutTxt.origin)
	if _, ok := parts["html"]; ok {
		names = append(names, layoutHTML.origin)
	}
	return strings.Join(names, ", ")
}

func trialData() []Data {
	full := Data{
		AppName: "Example", BaseURL: "https://example.com", To: "user@example.com",
		URL: "https://example.com/api/auth/verify?token=t0k3n", Token: "t0k3n", OTP: "123456",
		ExpiresIn: "5 minutes",
		Vars: map[string]string{"purpose": "sign-in", "newEmail": "new@example.com",
			"organization": "Example Org", "inviter": "Ann", "role": "member",
			"device": "Firefox on macOS", "ip": "203.0.113.7", "time": "Thu, 01 Jan 2026 00:00:00 UTC"},
	}
	out := []Data{full, {AppName: "Example", BaseURL: "https://example.com"}}
	for _, purpose := range []string{"email-verification", "forget-password", "change-email", "other"} {
		d := full
		d.Vars = map[string]string{"purpose": purpose}
		out = append(out, d)
	}
	return out
}

func buildType(typ string, parts map[string]source, layoutTxt, layoutHTML source) (*typeTemplates, error) {
	txt, ok := parts["txt"]
	if !ok {
		var have []string
		for _, src := range parts {
			have = append(have, src.origin)
		}
		slices.Sort(have)
		return nil, fmt.Errorf("templates: %s: type %q has no %s.txt (every message needs a text body)", strings.Join(have, ", "), typ, typ)
	}
	tt := &typeTemplates{}
	var err error
	if src, ok := parts["subject"]; ok {
		if tt.subject, err = newText(typ+".subject.txt", src); err != nil {
			return nil, err
		}
	}
	if tt.sms, err = newText(typ+".txt", txt); err != nil {
		return nil, err
	}
	if tt.text, err = newText("layout.txt", layoutTxt); err != nil {
		return nil, err
	}
	for _, t := range tt.sms.Templates() {
		name := t.Name()
		if name == typ+".txt" {
			name = "body"
		}
		if _, err := tt.text.AddParseTree(name, t.Tree); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", txt.origin, err)
		}
	}
	if src, ok := parts["html"]; ok {
		if tt.html, err = newHTML("layout.html", layoutHTML); err != nil {
			return nil, err
		}
		body, err := newHTML(typ+".html", src)
		if err != nil {
			return nil, err
		}
		// The body is never executed on its own (that would escape its trees a second
		// time); its trees join the layout's set, the main one under the name "body".
		for _, t := range body.Templates() {
			name := t.Name()
			if name == typ+".html" {
				name = "body"
			}
			if t.Tree == nil {
				continue
			}
			if _, err := tt.html.AddParseTree(name, t.Tree); err != nil {
				return nil, fmt.Errorf("templates: %s: %w", src.origin, err)
			}
		}
	}
	return tt, nil
}

func newText(name string, src source) (*ttemplate.Template, error) {
	t, err := ttemplate.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src.text)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", src.origin, err)
	}
	return t, nil
}

func newHTML(name string, src source) (*htemplate.Template, error) {
	t, err := htemplate.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src.text)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", src.origin, err)
	}
	return t, nil
}

// Has reports whether the set has templates of its own for typ (otherwise the generic
// ones are used).
func (s *Set) Has(typ string) bool { _, ok := s.types[typ]; return ok }

// Types lists the message types the set knows, sorted.
func (s *Set) Types() []string {
	names := make([]string, 0, len(s.types))
	for typ := range s.types {
		names = append(names, typ)
	}
	slices.Sort(names)
	return names
}

// Render renders the email of type typ: the subject (one line), the text body inside
// layout.txt and, when the type has one, the HTML body inside layout.html, with every value
// HTML-escaped for its context. An unknown type uses the generic templates; a type without
// a subject of its own uses the generic subject.
func (s *Set) Render(typ string, d Data) (Message, error) {
	tt, ok := s.types[typ]
	if !ok {
		tt = s.types[Generic]
	}
	subject := tt.subject
	if subject == nil {
		subject = s.types[Generic].subject
	}
	var m Message
	var buf bytes.Buffer
	if err := subject.Execute(&buf, d); err != nil {
		return Message{}, err
	}
	m.Subject = oneLine(buf.String())
	buf.Reset()
	if err := tt.text.Execute(&buf, d); err != nil {
		return Message{}, err
	}
	m.Text = tidy(buf.String())
	if tt.html != nil {
		buf.Reset()
		if err := tt.html.Execute(&buf, d); err != nil {
			return Message{}, err
		}
		m.HTML = buf.String()
	}
	return m, nil
}

// RenderSMS renders the text of an SMS of type typ: the type's text body alone, without
// the email layout. An unknown type uses generic-sms.
func (s *Set) RenderSMS(typ string, d Data) (string, error) {
	tt, ok := s.types[typ]
	if !ok {
		tt = s.types[GenericSMS]
	}
	var buf bytes.Buffer
	if err := tt.sms.Execute(&buf, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(tidy(buf.String())), nil
}

// oneLine folds a subject onto one line: a value holding CR or LF can never start a new
// header, whatever the transport does.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// tidy collapses runs of blank lines (left by conditional sections) into one and ends the
// text with exactly one newline.
func tidy(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	out := make([]string, 0, len(lines))
	for i, l := range lines {
		if strings.TrimSpace(l) == "" && i > 0 && strings.TrimSpace(lines[i-1]) == "" {
			continue
		}
		if strings.TrimSpace(l) == "" {
			l = ""
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

// Human says a duration in words: "5 minutes", "1 hour", "2 days", "90 seconds"; the
// largest unit that divides it exactly; "" for zero or less.
func Human(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}}
	for _, u := range units {
		if d >= u.d && d%u.d == 0 {
			return plural(int64(d/u.d), u.name)
		}
	}
	return plural(int64((d+time.Second-1)/time.Second), "second")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
