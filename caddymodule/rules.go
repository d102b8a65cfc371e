package caddymodule

import (
	"fmt"
	"net"
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
	// KindAdmin needs an administrator as the admin plugin judges them.
	KindAdmin = "admin"
	// KindOrgMember, KindOrgRole and KindOrgPermission need a membership in an
	// organization — the active one, or the one the request names (Rule.OrgFrom) — and,
	// for the last two, a role or a permission in it (the organization plugin).
	KindOrgMember     = "org_member"
	KindOrgRole       = "org_role"
	KindOrgPermission = "org_permission"
)

// restrictiveness ranks the kinds for ties. A permission rule ranks above a role rule: only
// a credential carrying permissions (an API key) can pass it, never a session. Ties between
// two requirements are refused anyway (checkRequirementTies), so the ranks only order
// requirements above public, anonymous and authenticated.
var restrictiveness = map[string]int{KindPublic: 0, KindAnonymous: 1, KindAuthenticated: 2, KindRole: 3,
	KindAdmin: 3, KindOrgMember: 3, KindOrgRole: 4, KindOrgPermission: 4, KindPermission: 4}

// Where a per-request organization rule reads the organization from.
const (
	OrgFromPath = "path" // a segment of the canonical path
	OrgFromHost = "host" // a label of the request's host
)

// OrgSource names the organization a request is about, so that one upstream can serve many
// tenants: the rule checks the principal's membership in THAT organization, and the
// upstream receives it as X-Auth-Org-Id / -Slug / -Role.
type OrgSource struct {
	// From is "path" or "host".
	From string `json:"from"`
	// Index counts from 1: path segment 2 of "/orgs/acme/x" is "acme"; host label 1 of
	// "acme.app.test" is "acme".
	Index int `json:"index"`
	// By says whether the value is the organization's "slug" (default) or its "id".
	// There is no guessing between the two: a slug may be chosen to look like another
	// organization's id.
	By string `json:"by,omitempty"`
}

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
	// Sessions carry no permissions and never pass such a rule (403). org_permission
	// rules use them too, judged against the member's organization roles.
	Resource string `json:"resource,omitempty"`
	Action   string `json:"action,omitempty"`
	// OrgRoles for org_role rules: the member must hold one of them (exact names).
	OrgRoles []string `json:"org_roles,omitempty"`
	// OrgFrom makes an org_* rule judge the organization the request names instead of the
	// principal's active organization.
	OrgFrom *OrgSource `json:"org_from,omitempty"`
	// Paths the rule covers: exact ("/health"), or prefixes ending in "*" ("/admin/*"
	// covers /admin and everything below it); "*" is allowed only at the end. Matching
	// ignores case and is done on the canonical path (see canonicalPath).
	Paths []string `json:"paths,omitempty"`
	// MatchRaw applies the rule to requests matching these matcher sets instead of paths
	// (a named matcher in the Caddyfile, for method or host conditions). Such a rule adds its
	// requirement to whatever the path rules require.
	MatchRaw caddyhttp.RawMatcherSets `json:"match,omitempty" caddy:"namespace=http.matchers"`

	matchers caddyhttp.MatcherSets
	orgPerm  map[string][]string // an org_permission rule's request, built once
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

func compileRules(ctx caddy.Context, eng *authcore.Engine, rules []Rule) (*ruleSet, error) {
	rs := &ruleSet{}
	for i := range rules {
		r := &rules[i]
		if err := r.validate(eng); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i, err)
		}
		if r.Kind == KindOrgPermission {
			r.orgPerm = map[string][]string{r.Resource: {r.Action}}
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
		if restrictiveness[p.rule.Kind] < restrictiveness[KindRole] {
			continue
		}
		k := key{p.prefix, p.wildcard}
		prev, ok := seen[k]
		if !ok {
			seen[k] = p.rule
			continue
		}
		if prev.requirement() != p.rule.requirement() {
			path := p.prefix
			if p.wildcard {
				path += "*"
			}
			return fmt.Errorf("path %q is named by two rules with different requirements (%s and %s); only one would apply — use a @matcher rule to require both", path, prev.requirement(), p.rule.requirement())
		}
	}
	return nil
}

// requirement describes a rule's requirement, for error messages and for comparing rules.
func (r *Rule) requirement() string {
	var s string
	switch r.Kind {
	case KindRole:
		s = "role " + r.Role
	case KindPermission, KindOrgPermission:
		s = r.Kind + " " + r.Resource + ":" + r.Action
	case KindOrgRole:
		s = "org_role " + strings.Join(r.OrgRoles, ",")
	default:
		s = r.Kind
	}
	if o := r.OrgFrom; o != nil {
		s += fmt.Sprintf(" (organization by %s from %s %d)", o.by(), o.From, o.Index)
	}
	return s
}

func (o *OrgSource) by() string {
	if o.By == "" {
		return "slug"
	}
	return o.By
}

// isOrg reports whether the kind is judged through the organization plugin.
func isOrg(kind string) bool {
	return kind == KindOrgMember || kind == KindOrgRole || kind == KindOrgPermission
}

// validate checks a rule's fields against its kind, and that the plugins its kind asks
// (admin, organization) are enabled: a rule that no plugin could ever pass is a mistake
// that start-up names, not a route that silently answers 403.
func (r *Rule) validate(eng *authcore.Engine) error {
	if _, ok := restrictiveness[r.Kind]; !ok {
		return fmt.Errorf("unknown kind %q (valid: public, anonymous, authenticated, role, permission, admin, org_member, org_role, org_permission)", r.Kind)
	}
	if r.Kind == KindRole && r.Role == "" {
		return fmt.Errorf("require role needs a role name")
	}
	if (r.Kind == KindPermission || r.Kind == KindOrgPermission) && (r.Resource == "" || r.Action == "") {
		return fmt.Errorf("require %s needs a resource and an action", r.Kind)
	}
	if r.Kind != KindPermission && r.Kind != KindOrgPermission && (r.Resource != "" || r.Action != "") {
		return fmt.Errorf("%s: resource and action belong to permission rules", r.Kind)
	}
	if r.Kind == KindOrgRole && (len(r.OrgRoles) == 0 || slices.Contains(r.OrgRoles, "")) {
		return fmt.Errorf("require org_role needs role names")
	}
	if r.Kind != KindOrgRole && len(r.OrgRoles) > 0 {
		return fmt.Errorf("%s: roles belong to org_role rules", r.Kind)
	}
	if r.OrgFrom != nil {
		if !isOrg(r.Kind) {
			return fmt.Errorf("%s: org_from belongs to org_member, org_role and org_permission rules", r.Kind)
		}
		o := r.OrgFrom
		if o.From != OrgFromPath && o.From != OrgFromHost {
			return fmt.Errorf("org_from %q: expected path or host", o.From)
		}
		if o.Index < 1 {
			return fmt.Errorf("org_from %s %d: the position counts from 1", o.From, o.Index)
		}
		if o.By != "" && o.By != "slug" && o.By != "id" {
			return fmt.Errorf("org_from ... %q: expected slug or id", o.By)
		}
	}
	if eng == nil { // syntax-only checks in tests
		return nil
	}
	if r.Kind == KindAdmin && eng.Admins() == nil {
		return fmt.Errorf("require admin needs the admin plugin (gatehouse { admin })")
	}
	if isOrg(r.Kind) && eng.Organizations() == nil {
		return fmt.Errorf("require %s needs the organization plugin (gatehouse { organization })", r.Kind)
	}
	return nil
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

// judge returns the worst verdict of the rules for p. A per-request organization rule that
// passes makes the organization it judged p's organization, so the upstream is told exactly
// which tenant was checked. clean is the canonical path the rules were decided on.
func judge(r *http.Request, eng *authcore.Engine, clean string, rules []*Rule, p *authcore.Principal) (verdict, error) {
	worst := allowed
	for _, rule := range rules {
		v, err := judgeOne(r, eng, clean, rule, p)
		if err != nil {
			return forbidden, err
		}
		if v > worst {
			worst = v
		}
	}
	return worst, nil
}

func judgeOne(r *http.Request, eng *authcore.Engine, clean string, rule *Rule, p *authcore.Principal) (verdict, error) {
	switch rule.Kind {
	case KindPublic:
		return allowed, nil
	case KindAnonymous:
		if p == nil {
			return unauthenticated, nil
		}
		return allowed, nil
	}
	if p == nil || p.Anonymous {
		return unauthenticated, nil
	}
	switch rule.Kind {
	case KindAuthenticated:
		return allowed, nil
	case KindRole:
		return verdictOf(p.UserID != "" && slices.Contains(p.Roles, rule.Role)), nil
	case KindPermission:
		return verdictOf(hasPermission(p.Permissions, rule.Resource, rule.Action)), nil
	case KindAdmin:
		a := eng.Admins()
		return verdictOf(a != nil && p.UserID != "" && p.User != nil && a.IsAdmin(p.User)), nil
	case KindOrgMember, KindOrgRole, KindOrgPermission:
		return judgeOrg(r, eng, clean, rule, p)
	}
	return forbidden, nil
}

func verdictOf(ok bool) verdict {
	if ok {
		return allowed
	}
	return forbidden
}

// judgeOrg judges an organization rule: a membership — in the organization the request
// names (OrgFrom), else in the principal's active one — and, by kind, one of the roles or
// the permission in it. Organization-owned API keys are no member of anything and fail.
func judgeOrg(r *http.Request, eng *authcore.Engine, clean string, rule *Rule, p *authcore.Principal) (verdict, error) {
	orgs := eng.Organizations()
	if orgs == nil || p.UserID == "" {
		return forbidden, nil
	}
	m, ok := p.OrgMembership()
	if rule.OrgFrom != nil {
		ref := rule.OrgFrom.value(r, clean)
		if ref == "" {
			return forbidden, nil
		}
		var err error
		if m, ok, err = orgs.Membership(r.Context(), p.UserID, ref, rule.OrgFrom.by() == "slug"); err != nil {
			return forbidden, err
		}
	}
	if !ok {
		return forbidden, nil
	}
	switch rule.Kind {
	case KindOrgRole:
		if !slices.ContainsFunc(m.Roles, func(role string) bool { return slices.Contains(rule.OrgRoles, role) }) {
			return forbidden, nil
		}
	case KindOrgPermission:
		granted, err := orgs.Allows(r.Context(), m, rule.orgPerm)
		if err != nil || !granted {
			return forbidden, err
		}
	}
	if rule.OrgFrom != nil {
		p.SetOrg(m, true)
	}
	return allowed, nil
}

// value reads the organization reference from the request: path segment Index of the
// canonical path (the one forwarded), or host label Index (port removed). "" when there is
// no such segment or label.
func (o *OrgSource) value(r *http.Request, clean string) string {
	if o.From == OrgFromHost {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return strings.ToLower(nthField(strings.TrimSuffix(host, "."), '.', o.Index))
	}
	return nthField(strings.Trim(clean, "/"), '/', o.Index)
}

// nthField is field n (counting from 1) of s split at sep, or "" when s has fewer fields;
// it does not allocate, since it runs for every request a tenant rule judges.
func nthField(s string, sep byte, n int) string {
	for ; n > 1; n-- {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			return ""
		}
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i]
	}
	return s
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
