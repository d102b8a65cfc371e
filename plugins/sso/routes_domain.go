package sso

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// dnsLabelMax is the longest DNS label; the record name's first label must fit.
const dnsLabelMax = 63

// tokenLength and tokenAlphabet are Better Auth's generateRandomString(24).
const (
	tokenLength   = 24
	tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// normalizeDomain returns the comparable form of one domain: the host of "company.com" or
// "https://company.com/…", lower-case, without a trailing dot, IDNA-mapped to its ASCII
// (punycode) form. ok is false for anything that is not a DNS name with at least two labels
// (IP addresses included).
func normalizeDomain(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 1024 {
		return "", false
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil {
		return "", false
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	if host == "" || net.ParseIP(host) != nil {
		return "", false
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil || len(ascii) > 253 || !strings.Contains(ascii, ".") {
		return "", false
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > dnsLabelMax {
			return "", false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
		}
	}
	return ascii, true
}

// parseDomains is Better Auth's parseProviderDomains: a comma-separated list, each entry
// normalized, duplicates dropped; ok is false when any entry is invalid or none is given.
func parseDomains(list string) ([]string, bool) {
	var out []string
	seen := map[string]bool{}
	for _, e := range strings.Split(list, ",") {
		if strings.TrimSpace(e) == "" {
			continue
		}
		d, ok := normalizeDomain(e)
		if !ok {
			return nil, false
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out, len(out) > 0 && len(out) <= 32
}

// covers reports whether host is domain or one of its subdomains.
func covers(domain, host string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// overlaps reports whether two domain lists share a domain, or one's domain is a parent of
// the other's.
func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if covers(x, y) || covers(y, x) {
				return true
			}
		}
	}
	return false
}

// sameOwner reports whether two providers belong to the same party: the same organization,
// or, for providers of no organization, the same user.
func sameOwner(a, b storage.Record) bool {
	if oa, ob := a.String("organizationId"), b.String("organizationId"); oa != "" || ob != "" {
		return oa == ob
	}
	return a.String("userId") != "" && a.String("userId") == b.String("userId")
}

// identifier is the verification row's identifier and the TXT record's first label:
// _<token_prefix>-<providerId>.
func (p *Plugin) identifier(providerID string) string { return "_" + p.prefix + "-" + providerID }

// claimedElsewhere returns whether a verified provider of another party holds one of
// domains (or a parent or subdomain of one).
func claimedElsewhere(ctx context.Context, st storage.Adapter, self storage.Record, domains []string) (bool, error) {
	verified, err := st.FindMany(ctx, ModelSSOProvider, storage.Query{Where: storage.Eq("domainVerified", true)})
	if err != nil {
		return false, err
	}
	for _, o := range verified {
		if o.ID() == self.ID() || sameOwner(o, self) {
			continue
		}
		theirs, ok := parseDomains(o.String("domain"))
		if ok && overlaps(domains, theirs) {
			return true, nil
		}
	}
	return false, nil
}

// requestDomainVerification answers POST /sso/request-domain-verification: 201 with the
// live token of the provider, or a new one (valid token_ttl).
func (p *Plugin) requestDomainVerification(c *authcore.Call) (any, error) {
	ctx := c.Context()
	prov, err := p.access(c, c.Body.String("providerId"))
	if err != nil {
		return nil, err
	}
	if prov.Bool("domainVerified") {
		return nil, CodeDomainVerified.With(http.StatusConflict)
	}
	domains, ok := parseDomains(prov.String("domain"))
	if !ok {
		return nil, CodeInvalidDomain.With(http.StatusBadRequest)
	}
	if taken, err := claimedElsewhere(ctx, p.engine.Store(), prov, domains); err != nil {
		return nil, authcore.Internal(err)
	} else if taken {
		return nil, CodeDomainClaimed.With(http.StatusConflict)
	}
	token, err := p.token(ctx, prov.String("providerId"))
	if err != nil {
		return nil, err
	}
	return created(map[string]any{"domainVerificationToken": token})
}

// token returns the live domain verification token of a provider, creating one if needed.
func (p *Plugin) token(ctx context.Context, providerID string) (string, error) {
	id := p.identifier(providerID)
	live, err := p.engine.FindVerification(ctx, id)
	if err != nil {
		return "", err
	}
	if live != nil {
		return live.String("value"), nil
	}
	token, err := p.engine.Random().String(tokenLength, tokenAlphabet)
	if err != nil {
		return "", authcore.Internal(err)
	}
	if err := p.engine.CreateVerification(ctx, id, token, p.tokenTTL); err != nil {
		return "", err
	}
	return token, nil
}

// dnsTimeout bounds the TXT lookups of one verification.
const dnsTimeout = 10 * time.Second

// verifyDomain answers POST /sso/verify-domain: every domain of the provider must publish a
// TXT record at _<prefix>-<providerId>.<domain> whose value is the token or
// "_<prefix>-<providerId>=<token>"; then, in one transaction, the provider (if its domain is
// still the one proved) is marked verified unless another party verified the domain first.
// 204 without a body.
func (p *Plugin) verifyDomain(c *authcore.Call) (any, error) {
	ctx := c.Context()
	prov, err := p.access(c, c.Body.String("providerId"))
	if err != nil {
		return nil, err
	}
	if prov.Bool("domainVerified") {
		return nil, CodeDomainVerified.With(http.StatusConflict)
	}
	id := p.identifier(prov.String("providerId"))
	if len(id) > dnsLabelMax {
		return nil, CodeIdentifierTooLong.With(http.StatusBadRequest)
	}
	pending, err := p.engine.FindVerification(ctx, id)
	if err != nil {
		return nil, err
	}
	if pending == nil {
		return nil, CodeNoPendingVerification.With(http.StatusNotFound)
	}
	domains, ok := parseDomains(prov.String("domain"))
	if !ok {
		return nil, CodeInvalidDomain.With(http.StatusBadRequest)
	}
	value := pending.String("value")
	for _, d := range domains {
		lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
		records, err := p.Resolver.LookupTXT(lctx, id+"."+d)
		cancel()
		if err != nil {
			p.engine.Logger().Warn("sso: DNS lookup failed during domain verification", "domain", d, "error", err)
		}
		found := false
		for _, r := range records {
			r = strings.TrimSpace(r)
			if r == value || r == id+"="+value {
				found = true
				break
			}
		}
		if !found {
			e := CodeDomainVerificationFailed.With(http.StatusBadGateway)
			e.Message = "Unable to verify domain ownership for " + d + ". Try again later"
			return nil, e
		}
	}
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		cur, err := tx.FindOne(ctx, ModelSSOProvider, storage.ByID(prov.ID()))
		if errors.Is(err, storage.ErrNotFound) || err == nil && cur.String("domain") != prov.String("domain") {
			return CodeProviderChanged.With(http.StatusConflict)
		}
		if err != nil {
			return err
		}
		if cur.Bool("domainVerified") {
			return CodeDomainVerified.With(http.StatusConflict)
		}
		taken, err := claimedElsewhere(ctx, tx, cur, domains)
		if err != nil {
			return err
		}
		if taken {
			return CodeDomainClaimed.With(http.StatusConflict)
		}
		if _, err := tx.Update(ctx, ModelSSOProvider, storage.ByID(cur.ID()), storage.Record{"domainVerified": true}); err != nil {
			return err
		}
		_, err = tx.DeleteMany(ctx, authcore.ModelVerification, storage.Eq("identifier", id))
		return err
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	return &authcore.RawResponse{Status: http.StatusNoContent}, nil
}

// providerForEmail returns the provider that serves an email address's domain: among
// providers whose domain is VERIFIED, the one with a domain equal to the address's domain
// or a parent of it (case-insensitive, IDNA-normalized); the most specific domain wins, then
// the smallest providerId. nil when none serves it. Unverified domains never route.
func (p *Plugin) providerForEmail(ctx context.Context, email string) (storage.Record, error) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return nil, nil
	}
	host, ok := normalizeDomain(email[at+1:])
	if !ok || strings.ContainsAny(email[at+1:], "/:?#") {
		return nil, nil
	}
	verified, err := p.engine.Store().FindMany(ctx, ModelSSOProvider, storage.Query{Where: storage.Eq("domainVerified", true)})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	type match struct {
		rec  storage.Record
		spec int
	}
	var ms []match
	for _, rec := range verified {
		domains, ok := parseDomains(rec.String("domain"))
		if !ok {
			continue
		}
		best := -1
		for _, d := range domains {
			if covers(d, host) && len(d) > best {
				best = len(d)
			}
		}
		if best >= 0 {
			ms = append(ms, match{rec, best})
		}
	}
	if len(ms) == 0 {
		return nil, nil
	}
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].spec != ms[j].spec {
			return ms[i].spec > ms[j].spec
		}
		return ms[i].rec.String("providerId") < ms[j].rec.String("providerId")
	})
	return ms[0].rec, nil
}

// created answers 201 with a JSON body.
func created(v any) (any, error) {
	b, err := jsonMarshal(v)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return &authcore.RawResponse{Status: http.StatusCreated,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: b}, nil
}
