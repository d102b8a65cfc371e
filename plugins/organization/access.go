package organization

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Permissions maps a resource to actions ({"member": ["create", "update"]}).
type Permissions map[string][]string

// Statements are Better Auth's default organization access-control statements: every
// resource and action the organization routes check.
var Statements = Permissions{
	"organization": {"update", "delete"},
	"member":       {"create", "update", "delete"},
	"invitation":   {"create", "cancel"},
	"team":         {"create", "update", "delete"},
	"ac":           {"create", "read", "update", "delete"},
}

// DefaultRoles are Better Auth's built-in organization roles: owner holds every statement,
// admin everything but organization:delete, member only ac:read.
func DefaultRoles() map[string]Permissions {
	return map[string]Permissions{
		"owner": {
			"organization": {"update", "delete"},
			"member":       {"create", "update", "delete"},
			"invitation":   {"create", "cancel"},
			"team":         {"create", "update", "delete"},
			"ac":           {"create", "read", "update", "delete"},
		},
		"admin": {
			"organization": {"update"},
			"member":       {"create", "update", "delete"},
			"invitation":   {"create", "cancel"},
			"team":         {"create", "update", "delete"},
			"ac":           {"create", "read", "update", "delete"},
		},
		"member": {
			"organization": {}, "member": {}, "invitation": {}, "team": {},
			"ac": {"read"},
		},
	}
}

// grants is Better Auth's role.authorize with the AND connector, for a static role merged
// with a stored role of the same name (Better Auth merges them) without building the merged
// map: every requested resource must be granted with all of its requested actions, by one
// of the two; an empty request, or an empty action list, is not authorized.
func grants(static, stored Permissions, req Permissions) bool {
	if static == nil && stored == nil || len(req) == 0 {
		return false
	}
	for res, actions := range req {
		if len(actions) == 0 {
			return false
		}
		_, okS := static[res]
		_, okD := stored[res]
		if !okS && !okD {
			return false
		}
		for _, a := range actions {
			if !slices.Contains(static[res], a) && !slices.Contains(stored[res], a) {
				return false
			}
		}
	}
	return true
}

// splitStoredRoles splits a member's stored role field (a comma list written by this
// plugin) into role names.
func splitStoredRoles(role string) []string { return authcore.SplitRoles(role) }

// hasRole reports whether a stored role field holds role exactly.
func hasRole(roleField, role string) bool {
	return slices.Contains(splitStoredRoles(roleField), role)
}

// isOwner reports whether a stored role field holds the creator (owner) role.
func (p *Plugin) isOwner(roleField string) bool { return hasRole(roleField, p.creatorRole) }

// isStaticRole reports whether name is a built-in or configured role (exact match).
func (p *Plugin) isStaticRole(name string) bool { _, ok := p.roles[name]; return ok }

// storedRoles returns the organization's dynamic roles (organizationRole) by name; nil
// when dynamic access control is off.
func (p *Plugin) storedRoles(ctx context.Context, orgID string) (map[string]Permissions, error) {
	if !p.DynamicAccessControl.Enabled || orgID == "" {
		return nil, nil
	}
	recs, err := p.engine.Store().FindMany(ctx, ModelOrganizationRole, storage.Query{Where: storage.Eq("organizationId", orgID)})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := make(map[string]Permissions, len(recs))
	for _, r := range recs {
		perms, err := parsePermissionJSON(r.String("permission"))
		if err != nil {
			p.engine.Logger().Error("organization: stored role has invalid permissions", "organizationId", orgID, "role", r.String("role"))
			continue
		}
		out[r.String("role")] = perms
	}
	return out, nil
}

// parsePermissionJSON reads an organizationRole permission string.
func parsePermissionJSON(s string) (Permissions, error) {
	var perms Permissions
	if err := json.Unmarshal([]byte(s), &perms); err != nil {
		return nil, err
	}
	if perms == nil {
		return nil, errors.New("null permission")
	}
	return perms, nil
}

// rolePermissions returns the effective permissions of each named role in an organization:
// the static role merged with a stored role of the same name (Better Auth merges them).
func (p *Plugin) rolePermissions(ctx context.Context, orgID string, names []string) (map[string]Permissions, error) {
	stored, err := p.storedRoles(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Permissions, len(names))
	for _, n := range names {
		static, okS := p.roles[n]
		dyn, okD := stored[n]
		if !okS && !okD {
			continue
		}
		merged := Permissions{}
		for res, acts := range static {
			merged[res] = slices.Clone(acts)
		}
		for res, acts := range dyn {
			for _, a := range acts {
				if !slices.Contains(merged[res], a) {
					merged[res] = append(merged[res], a)
				}
			}
		}
		out[n] = merged
	}
	return out, nil
}

// allows reports whether any one of the roles in a stored role field grants every
// requested permission in the organization (Better Auth's hasPermission). Role names are
// compared exactly.
func (p *Plugin) allows(ctx context.Context, orgID, roleField string, req Permissions) (bool, error) {
	if len(req) == 0 {
		return false, nil
	}
	stored, err := p.storedRoles(ctx, orgID)
	if err != nil {
		return false, err
	}
	for _, n := range splitStoredRoles(roleField) {
		if grants(p.roles[n], stored[n], req) {
			return true, nil
		}
	}
	return false, nil
}

// requirePermission checks that member (the caller's membership record) holds req in its
// organization, or returns code with status.
func (p *Plugin) requirePermission(ctx context.Context, member storage.Record, req Permissions, code authcore.ErrorCode, status int) error {
	ok, err := p.allows(ctx, member.String("organizationId"), member.String("role"), req)
	if err != nil {
		return err
	}
	if !ok {
		return code.With(status)
	}
	return nil
}

// errRoleNotFound is the answer to a role outside the configured set.
func errRoleNotFound() *authcore.Error { return CodeRoleNotFound.With(http.StatusBadRequest) }

// parseRoleInput reads a role parameter (a string or an array of strings; each string may
// be a comma list) into canonical role names, refusing anything that is not exactly a
// known role: no trimming, no case folding, no empty entries, no duplicates kept. Stored
// dynamic roles of orgID count when dynamic access control is on.
func (p *Plugin) parseRoleInput(ctx context.Context, orgID string, v any) ([]string, error) {
	var parts []string
	switch x := v.(type) {
	case string:
		parts = strings.Split(x, ",")
	case []any:
		if len(x) == 0 {
			return nil, errRoleNotFound()
		}
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errRoleNotFound()
			}
			parts = append(parts, strings.Split(s, ",")...)
		}
	default:
		return nil, errRoleNotFound()
	}
	if len(parts) > 32 {
		return nil, errRoleNotFound()
	}
	var out []string
	var unknown []string
	for _, r := range parts {
		if !validName(r) {
			return nil, errRoleNotFound()
		}
		if !p.isStaticRole(r) {
			unknown = append(unknown, r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(unknown) > 0 {
		stored, err := p.storedRoles(ctx, orgID)
		if err != nil {
			return nil, err
		}
		for _, r := range unknown {
			if _, ok := stored[r]; !ok {
				return nil, errRoleNotFound()
			}
		}
	}
	return out, nil
}

// joinRoles is the stored form of a role list.
func joinRoles(roles []string) string { return strings.Join(roles, ",") }

// canGrant reports whether a member whose stored role field is granter may give the roles
// to someone (invite, update-member-role, add-team-member flows): the creator role only by
// a holder of the creator role; any other role only when the granter already holds every
// action that role grants (nobody hands out more than they have).
func (p *Plugin) canGrant(ctx context.Context, orgID, granter string, roles []string) (bool, error) {
	if p.isOwner(granter) {
		return true, nil
	}
	if slices.Contains(roles, p.creatorRole) {
		return false, nil
	}
	mine, err := p.rolePermissions(ctx, orgID, splitStoredRoles(granter))
	if err != nil {
		return false, err
	}
	held := Permissions{}
	for _, perms := range mine {
		for res, acts := range perms {
			held[res] = append(held[res], acts...)
		}
	}
	wanted, err := p.rolePermissions(ctx, orgID, roles)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		for res, acts := range wanted[r] {
			for _, a := range acts {
				if !slices.Contains(held[res], a) {
					return false, nil
				}
			}
		}
	}
	return true, nil
}

// The Organizations API (authcore.Organizations) with a small membership cache.

const (
	membershipCacheSize = 4096
	membershipCacheTTL  = 5 * time.Second
)

// ttlCache holds recent answers for at most ttl. Every write of the plugin that touches
// memberships, roles, slugs or organizations calls invalidate, which empties it and bumps the
// generation so that a lookup racing the write is not stored. Keys are comparable structs,
// so a lookup on the gateway path allocates nothing.
type ttlCache[K comparable, V any] struct {
	mu    sync.Mutex
	gen   uint64
	max   int
	ttl   time.Duration
	items map[K]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v     V
	until time.Time
}

func newTTLCache[K comparable, V any](max int, ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{max: max, ttl: ttl, items: map[K]ttlEntry[V]{}}
}

func (c *ttlCache[K, V]) get(key K, now time.Time) (V, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if ok && now.After(e.until) {
		delete(c.items, key)
		ok = false
	}
	return e.v, c.gen, ok
}

func (c *ttlCache[K, V]) put(key K, gen uint64, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.items) >= c.max {
		clear(c.items)
	}
	c.items[key] = ttlEntry[V]{v: v, until: now.Add(c.ttl)}
}

func (c *ttlCache[K, V]) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.items)
	c.mu.Unlock()
}

// membershipKey and membership are the membership cache's key and answer.
type membershipKey struct {
	userID, ref string
	bySlug      bool
}

type membership struct {
	m  authcore.OrgMembership
	ok bool
}

// invalidate drops every cached answer. Call it after every write that changes a member, a
// role (stored or assigned), an organization's slug, or deletes an organization.
func (p *Plugin) invalidate() {
	if p.cache != nil {
		p.cache.invalidate()
		p.rolesCache.invalidate()
	}
}

// Membership implements authcore.Organizations.
func (p *Plugin) Membership(ctx context.Context, userID, ref string, bySlug bool) (authcore.OrgMembership, bool, error) {
	if userID == "" || ref == "" {
		return authcore.OrgMembership{}, false, nil
	}
	key := membershipKey{userID, ref, bySlug}
	now := p.engine.Clock().Now()
	e, gen, hit := p.cache.get(key, now)
	if hit {
		return e.m, e.ok, nil
	}
	m, ok, err := p.lookupMembership(ctx, userID, ref, bySlug)
	if err != nil {
		return authcore.OrgMembership{}, false, err
	}
	p.cache.put(key, gen, membership{m, ok}, now)
	return m, ok, nil
}

func (p *Plugin) lookupMembership(ctx context.Context, userID, ref string, bySlug bool) (authcore.OrgMembership, bool, error) {
	var org storage.Record
	var err error
	if bySlug {
		org, err = p.orgBySlug(ctx, ref)
	} else {
		org, err = p.orgByID(ctx, ref)
	}
	if err != nil || org == nil {
		return authcore.OrgMembership{}, false, err
	}
	mem, err := p.memberOf(ctx, org.ID(), userID)
	if err != nil || mem == nil {
		return authcore.OrgMembership{}, false, err
	}
	return authcore.OrgMembership{
		OrgID: org.ID(), OrgSlug: org.String("slug"), MemberID: mem.ID(),
		Roles: splitStoredRoles(mem.String("role")),
	}, true, nil
}

// Allows implements authcore.Organizations. It runs on the gateway path for org_permission
// rules, so it judges each role without building merged permission maps, and reads an
// organization's stored roles (dynamic access control) through the cache: no storage read
// or JSON per request while the answer is fresh.
func (p *Plugin) Allows(ctx context.Context, m authcore.OrgMembership, perms map[string][]string) (bool, error) {
	if m.OrgID == "" || len(perms) == 0 {
		return false, nil
	}
	var stored map[string]Permissions
	if p.DynamicAccessControl.Enabled {
		now := p.engine.Clock().Now()
		var gen uint64
		var hit bool
		if stored, gen, hit = p.rolesCache.get(m.OrgID, now); !hit {
			var err error
			if stored, err = p.storedRoles(ctx, m.OrgID); err != nil {
				return false, err
			}
			p.rolesCache.put(m.OrgID, gen, stored, now)
		}
	}
	req := Permissions(perms)
	for _, r := range m.Roles {
		if grants(p.roles[r], stored[r], req) {
			return true, nil
		}
	}
	return false, nil
}

var _ authcore.Organizations = (*Plugin)(nil)
