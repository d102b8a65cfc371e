package caddymodule

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Rule kinds, from least to most restrictive: on a tie between equally specific rules the
// most restrictive wins (D2).
const (
	KindPublic        = "public"
	KindAnonymous     = "anonymous"
	KindAuthenticated = "authenticated"
	KindRole          = "role"
	KindPermission    = "permission"
)

// restrictiveness ranks the kinds for ties. A permission rule ranks above a role rule: only
// a credential carrying permissions (an API key) can pass it, never a session.
var restrictiveness = map[string]int{KindPublic: 0, KindAnonymous: 1, KindAuthenticated: 2, KindRole: 3, KindPermission: 4}

// Rule is one access rule of a site.
type Rule struct {
	// Kind is public, anonymous (anonymous sessions allowed), authenticated, role or
	// permission.
	Kind string `json:"kind"`
	// Role required when Kind is role.
	Role string `json:"role,omitempty"`
	// Resource and Action required when Kind is permission: the principal's permissions
	// (an API key's resource → actions map) must list Action under Resource. Both are
	// compared exactly, as Better Auth's permission check does: there are no wildcards.
	// Sessions carry no permissions and never pass such a rule (403).
	Resource string `json:"resource,omitempty"`
	Action   string `json:"action,omitempty"`
	// Paths the rule covers: exact ("/health"), or prefixes ending in "*" ("/admin/*"
	// covers /admin and everything below it); "*" is allowed only at the end. Matching
	// ignores case and is done on the canonical path (see canonicalPath).
	Paths []string `json:"paths,omitempty"`
	// MatchRaw applies the rule to requests matching these matcher sets instead of paths
	// (a named matcher in the Caddyfile, for method or host conditions). Such a rule adds its
	// requirement to whatever the path rules require.
	MatchRaw caddyhttp.RawMatcherSets `json:"match,omitempty" caddy:"namespace=http.matchers"`

	matchers caddyhttp.MatcherSets
}

type pattern struct {
	prefix   string // lower-case
	wildcard bool   // prefix match; "/x/*" also covers "/x"
	rule     *Rule
}

// specificity orders patterns so that, for any path, the first pattern that matches it is
// the most specific one (D2): a longer literal first; an exact rule above any wildcard that
// also matches the same path. The one subtle pair is "/x" (exact) and "/x/*", which also
// covers "/x": its literal "/x/" is longer, yet for the path "/x" the exact rule names it
// exactly, so a wildcard ending in "/" ranks as if its literal were one byte shorter, just
// above a wildcard of that shorter literal ("/x*") and below the exact rule.
func (p pattern) specificity() int {
	n := len(p.prefix)
	switch {
	case !p.wildcard:
		return 4*n + 2
	case strings.HasSuffix(p.prefix, "/"):
		return 4*(n-1) + 1
	default:
		return 4 * n
	}
}

func (p pattern) matches(lowerPath string) bool {
	if !p.wildcard {
		return lowerPath == p.prefix
	}
	if strings.HasPrefix(lowerPath, p.prefix) {
		return true
	}
	// "/x/*" also covers "/x".
	return strings.HasSuffix(p.prefix, "/") && lowerPath == p.prefix[:len(p.prefix)-1]
}

// ruleSet is a site's compiled rules.
type ruleSet struct {
	patterns []pattern
	matched  []*Rule // rules with matchers
}

func compileRules(ctx caddy.Context, rules []Rule) (*ruleSet, error) {
	rs := &ruleSet{}
	for i := range rules {
		r := &rules[i]
		if _, ok := restrictiveness[r.Kind]; !ok {
			return nil, fmt.Errorf("rule %d: unknown kind %q (valid: public, anonymous, authenticated, role, permission)", i, r.Kind)
		}
		if r.Kind == KindRole && r.Role == "" {
			return nil, fmt.Errorf("rule %d: require role needs a role name", i)
		}
		if r.Kind == KindPermission && (r.Resource == "" || r.Action == "") {
			return nil, fmt.Errorf("rule %d: require permission needs a resource and an action", i)
		}
		if r.Kind != KindPermission && (r.Resource != "" || r.Action != "") {
			return nil, fmt.Errorf("rule %d (%s): resource and action belong to permission rules", i, r.Kind)
		}
		if len(r.Paths) > 0 && len(r.MatchRaw) > 0 {
			return nil, fmt.Errorf("rule %d: give paths or a matcher, not both", i)
		}
		if len(r.MatchRaw) > 0 {
			mods, err := ctx.LoadModule(r, "MatchRaw")
			if err != nil {
				return nil, fmt.Errorf("rule %d: loading matchers: %w", i, err)
			}
			if err := r.matchers.FromInterface(mods); err != nil {
				return nil, fmt.Errorf("rule %d: %w", i, err)
			}
			rs.matched = append(rs.matched, r)
			continue
		}
		if len(r.Paths) == 0 {
			return nil, fmt.Errorf("rule %d (%s): no paths", i, r.Kind)
		}
		for _, p := range r.Paths {
			if err := checkRulePath(p); err != nil {
				return nil, fmt.Errorf("rule %d: %w", i, err)
			}
			lp := strings.ToLower(p)
			pt := pattern{rule: r}
			if pre, ok := strings.CutSuffix(lp, "*"); ok {
				pt.prefix, pt.wildcard = pre, true
			} else {
				pt.prefix = lp
			}
			rs.patterns = append(rs.patterns, pt)
		}
	}
	if err := checkRequirementTies(rs.patterns); err != nil {
		return nil, err
	}
	// Most specific first; on a tie the most restrictive first, so the first match wins.
	slices.SortStableFunc(rs.patterns, func(a, b pattern) int {
		if d := b.specificity() - a.specificity(); d != 0 {
			return d
		}
		return restrictiveness[b.rule.Kind] - restrictiveness[a.rule.Kind]
	})
	return rs, nil
}

// checkRequirementTies refuses two role or permission rules naming the same path with
// different requirements: only one of them could apply (the first match wins), so the other
// would be silently ignored, and whoever wrote both surely meant both to hold. Several
// requirements on one path are written as matcher rules, which add up.
func checkRequirementTies(patterns []pattern) error {
	type key struct {
		prefix   string
		wildcard bool
	}
	seen := map[key]*Rule{}
	for _, p := range patterns {
		if p.rule.Kind != KindRole && p.rule.Kind != KindPermission {
			continue
		}
		k := key{p.prefix, p.wildcard}
		prev, ok := seen[k]
		if !ok {
			seen[k] = p.rule
			continue
		}
		if prev.Kind != p.rule.Kind || prev.Role != p.rule.Role || prev.Resource != p.rule.Resource || prev.Action != p.rule.Action {
			path := p.prefix
			if p.wildcard {
				path += "*"
			}
			return fmt.Errorf("path %q is named by two rules with different requirements (%s and %s); only one would apply — use a @matcher rule to require both", path, prev.requirement(), p.rule.requirement())
		}
	}
	return nil
}

// requirement describes a rule's requirement for error messages.
func (r *Rule) requirement() string {
	switch r.Kind {
	case KindRole:
		return "role " + r.Role
	case KindPermission:
		return "permission " + r.Resource + ":" + r.Action
	}
	return r.Kind
}

// checkRulePath validates one rule path: it starts with "/" and may end in "*", the only
// wildcard. A "*" elsewhere ("/api/*/admin") would be compared literally and never match, so
// the rule would silently not apply — for a role rule, the paths it meant to protect would
// fall back to the default rule. It is refused instead.
func checkRulePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must start with /", p)
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return fmt.Errorf("path %q: '*' is only allowed at the end", p)
	}
	return nil
}

// defaultRule applies to paths no rule names: every other path needs an authenticated
// principal.
var defaultRule = &Rule{Kind: KindAuthenticated}

// decide returns the rules a request must satisfy: the most specific path rule (or the
// default) plus every matcher rule that matches.
func (rs *ruleSet) decide(r *http.Request, cleanPath string) ([]*Rule, error) {
	lower := cleanPath
	if hasUpper(cleanPath) {
		lower = strings.ToLower(cleanPath)
	}
	first := defaultRule
	for _, p := range rs.patterns {
		if p.matches(lower) {
			first = p.rule
			break
		}
	}
	if len(rs.matched) == 0 {
		return []*Rule{first}, nil
	}
	out := []*Rule{first}
	for _, mr := range rs.matched {
		ok, err := mr.matchers.AnyMatchWithError(r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, mr)
		}
	}
	return out, nil
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// verdict of a principal against a rule.
type verdict int

const (
	allowed verdict = iota
	unauthenticated
	forbidden
)

func judge(rules []*Rule, p *authcore.Principal) verdict {
	worst := allowed
	for _, r := range rules {
		v := judgeOne(r, p)
		if v > worst {
			worst = v
		}
	}
	return worst
}

func judgeOne(r *Rule, p *authcore.Principal) verdict {
	switch r.Kind {
	case KindPublic:
		return allowed
	case KindAnonymous:
		if p == nil {
			return unauthenticated
		}
		return allowed
	case KindAuthenticated:
		if p == nil || p.Anonymous {
			return unauthenticated
		}
		return allowed
	case KindRole:
		if p == nil || p.Anonymous {
			return unauthenticated
		}
		if p.UserID == "" || !slices.Contains(p.Roles, r.Role) {
			return forbidden
		}
		return allowed
	case KindPermission:
		if p == nil || p.Anonymous {
			return unauthenticated
		}
		if !hasPermission(p.Permissions, r.Resource, r.Action) {
			return forbidden
		}
		return allowed
	}
	return forbidden
}

// hasPermission reports whether perms (resource → actions, an API key's permissions) grants
// action on resource. Like Better Auth's permission check (its access-control role()), names
// are compared exactly: a "*" resource or action is an ordinary name, not a wildcard. A
// principal without permissions — every session — has none.
func hasPermission(perms map[string][]string, resource, action string) bool {
	return slices.Contains(perms[resource], action)
}

// errBadPath: an encoded slash, backslash, NUL or semicolon in the path (D2).
var errBadPath = fmt.Errorf("path contains an encoded slash, backslash, NUL or semicolon")

// canonicalPath validates and cleans a request path. The handler puts the result back on the
// request, so the upstream receives exactly the path that was judged (D2): "%2e%2e", "//",
// "/./" cannot reach a protected path through a public rule. A NUL is refused even with
// allowEncoded: no upstream has a legitimate use for it and many truncate there.
func canonicalPath(u *http.Request, allowEncoded bool) (string, error) {
	raw := u.URL.EscapedPath()
	if !allowEncoded {
		lr := strings.ToLower(raw)
		if strings.Contains(lr, "%2f") || strings.Contains(lr, "%5c") || strings.Contains(lr, "%00") ||
			strings.Contains(lr, "%3b") || strings.ContainsAny(raw, ";\\") {
			return "", errBadPath
		}
	}
	p := u.URL.Path
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", errBadPath
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean, nil
}
