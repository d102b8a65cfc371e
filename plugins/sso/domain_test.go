package sso

import (
	"context"
	"fmt"
	"github.com/gatehouse-auth/gatehouse/internal/dnstest"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// TestDomainVerification goes through a real DNS server: a missing record, a wrong value,
// and the record of another provider fail with 502; the right record verifies.
func TestDomainVerification(t *testing.T) {
	e := newEnv(t, nil, false)
	reg := e.mustRegister(e.alice, e.oidcBody("acme", "acme.com,Acme.io"))
	tok := reg["domainVerificationToken"].(string)
	e.mustRegister(e.alice, e.oidcBody("other", "other.com"))
	verify := func() *authcoretestResponse {
		return e.alice.Post("/sso/verify-domain", map[string]any{"providerId": "acme"})
	}

	// The request answers the live token (201), not a new one.
	r := e.alice.Post("/sso/request-domain-verification", map[string]any{"providerId": "acme"})
	expect(t, r, http.StatusCreated, "", "")
	if r.Object()["domainVerificationToken"] != tok {
		t.Fatalf("request issued a new token while one is live: %s", r.Body)
	}
	// No record at all.
	expect(t, verify(), http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED", "Unable to verify domain ownership for acme.com. Try again later")
	// A wrong value.
	e.dns.Set("_better-auth-token-acme.acme.com", "wrong-token")
	expect(t, verify(), http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED", "")
	// The record of another provider, with that provider's token, proves nothing for acme.
	otherTok := e.alice.Post("/sso/request-domain-verification", map[string]any{"providerId": "other"}).Object()["domainVerificationToken"].(string)
	e.dns.Set("_better-auth-token-other.acme.com", otherTok)
	e.dns.Set("_better-auth-token-acme.acme.com", "_better-auth-token-other="+otherTok)
	expect(t, verify(), http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED", "")
	// acme.com right, acme.io still missing: every domain must be proved.
	e.dns.Set("_better-auth-token-acme.acme.com", "unrelated", "_better-auth-token-acme="+tok)
	expect(t, verify(), http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED", "Unable to verify domain ownership for acme.io. Try again later")
	if e.provider("acme").Bool("domainVerified") {
		t.Fatal("verified after failures")
	}
	e.dns.Set("_better-auth-token-acme.acme.io", "  "+tok+" ")
	r = verify()
	expect(t, r, http.StatusNoContent, "", "")
	if len(r.Body) != 0 {
		t.Fatalf("204 with a body: %q", r.Body)
	}
	if !e.provider("acme").Bool("domainVerified") {
		t.Fatal("not verified")
	}
	if v, _ := e.h.Engine.FindVerification(e.ctx(), "_better-auth-token-acme"); v != nil {
		t.Fatal("the used token is still pending")
	}
	expect(t, verify(), http.StatusConflict, "DOMAIN_VERIFIED", "Domain has already been verified")
	expect(t, e.alice.Post("/sso/request-domain-verification", map[string]any{"providerId": "acme"}), http.StatusConflict, "DOMAIN_VERIFIED", "")
	if e.provider("other").Bool("domainVerified") {
		t.Fatal("the other provider got verified")
	}
}

// TestDomainVerificationExpiry: a token older than token_ttl no longer verifies; a new
// request issues a new one.
func TestDomainVerificationExpiry(t *testing.T) {
	e := newEnv(t, &Plugin{DomainVerification: DomainVerification{TokenTTL: authcore.Duration(time.Hour)}}, false)
	tok := e.mustRegister(e.alice, e.oidcBody("acme", "acme.com"))["domainVerificationToken"].(string)
	e.dns.Set("_better-auth-token-acme.acme.com", tok)
	e.h.Clock.Advance(time.Hour + time.Second)
	expect(t, e.alice.Post("/sso/verify-domain", map[string]any{"providerId": "acme"}), http.StatusNotFound, "NO_PENDING_VERIFICATION", "No pending domain verification exists")
	r := e.alice.Post("/sso/request-domain-verification", map[string]any{"providerId": "acme"})
	expect(t, r, http.StatusCreated, "", "")
	fresh := r.Object()["domainVerificationToken"].(string)
	if fresh == tok || len(fresh) != 24 {
		t.Fatalf("token after expiry %q (old %q)", fresh, tok)
	}
	expect(t, e.alice.Post("/sso/verify-domain", map[string]any{"providerId": "acme"}), http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED", "")
	e.dns.Set("_better-auth-token-acme.acme.com", fresh)
	expect(t, e.alice.Post("/sso/verify-domain", map[string]any{"providerId": "acme"}), http.StatusNoContent, "", "")
}

// TestDomainVerificationPrefixAndLabel: token_prefix names the record; an identifier longer
// than a DNS label is refused before any lookup.
func TestDomainVerificationPrefixAndLabel(t *testing.T) {
	e := newEnv(t, &Plugin{DomainVerification: DomainVerification{TokenPrefix: "gh"}}, false)
	tok := e.mustRegister(e.alice, e.oidcBody("acme", "acme.com"))["domainVerificationToken"].(string)
	e.dns.Set("_better-auth-token-acme.acme.com", tok)
	expect(t, e.alice.Post("/sso/verify-domain", map[string]any{"providerId": "acme"}), http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED", "")
	e.dns.Set("_gh-acme.acme.com", tok)
	expect(t, e.alice.Post("/sso/verify-domain", map[string]any{"providerId": "acme"}), http.StatusNoContent, "", "")
	long := "p" + string(make([]byte, 0)) + "0123456789012345678901234567890123456789012345678901234567890"
	e.mustRegister(e.alice, e.oidcBody(long, "long.com"))
	expect(t, e.alice.Post("/sso/verify-domain", map[string]any{"providerId": long}), http.StatusBadRequest, "IDENTIFIER_TOO_LONG", "")
}

// TestDomainClaimedAcrossOrganizations: a domain verified by one organization cannot be
// requested or verified by another (nor a subdomain or parent of it), even with a correct
// TXT record; the same organization may verify it for a second provider.
func TestDomainClaimedAcrossOrganizations(t *testing.T) {
	e := newEnv(t, nil, true)
	orgA := e.createOrg(e.alice, "org-a")
	orgB := e.createOrg(e.bob, "org-b")
	reg := func(c *authcoretestClient, id, org, domain string) string {
		b := e.oidcBody(id, domain)
		b["organizationId"] = org
		return e.mustRegister(c, b)["domainVerificationToken"].(string)
	}
	reg(e.alice, "a1", orgA, "company.com")
	e.verifyDNS(e.alice, "a1", "company.com")
	for i, d := range []string{"company.com", "sub.company.com", "COMPANY.com"} {
		id := fmt.Sprintf("b%d", i)
		tok := reg(e.bob, id, orgB, d)
		expect(t, e.bob.Post("/sso/request-domain-verification", map[string]any{"providerId": id}), http.StatusConflict, "DOMAIN_ALREADY_CLAIMED", "")
		e.dns.Set("_better-auth-token-"+id+"."+d, tok)
		expect(t, e.bob.Post("/sso/verify-domain", map[string]any{"providerId": id}), http.StatusConflict, "DOMAIN_ALREADY_CLAIMED", "")
		if e.provider(id).Bool("domainVerified") {
			t.Fatalf("org B verified %s", d)
		}
	}
	// A personal provider of another user is another party too.
	tok := e.mustRegister(e.carol, e.oidcBody("carols", "company.com"))["domainVerificationToken"].(string)
	e.dns.Set("_better-auth-token-carols.company.com", tok)
	expect(t, e.carol.Post("/sso/verify-domain", map[string]any{"providerId": "carols"}), http.StatusConflict, "DOMAIN_ALREADY_CLAIMED", "")
	// The same organization may verify it again for another provider.
	reg(e.alice, "a2", orgA, "company.com")
	e.verifyDNS(e.alice, "a2", "company.com")
	// Parent domain claimed after a subdomain: refused too.
	reg(e.alice, "a3", orgA, "eng.example.org")
	e.verifyDNS(e.alice, "a3", "eng.example.org")
	reg(e.bob, "b-parent", orgB, "example.org")
	expect(t, e.bob.Post("/sso/request-domain-verification", map[string]any{"providerId": "b-parent"}), http.StatusConflict, "DOMAIN_ALREADY_CLAIMED", "")
	// Unrelated domains are fine.
	reg(e.bob, "b-own", orgB, "bcorp.com")
	e.verifyDNS(e.bob, "b-own", "bcorp.com")
}

// TestProviderForEmail: routing matches only verified domains, exactly or as a parent,
// case-insensitively and IDNA-normalized; the most specific domain wins.
func TestProviderForEmail(t *testing.T) {
	e := newEnv(t, nil, false)
	e.mustRegister(e.alice, e.oidcBody("company", "company.com"))
	e.verifyDNS(e.alice, "company", "company.com")
	e.mustRegister(e.alice, e.oidcBody("unverified", "unverified.com"))
	e.mustRegister(e.alice, e.oidcBody("eng", "eng.company.com"))
	e.verifyDNS(e.alice, "eng", "eng.company.com")
	e.mustRegister(e.alice, e.oidcBody("books", "bücher.example"))
	e.verifyDNS(e.alice, "books", "xn--bcher-kva.example")
	ctx := context.Background()
	cases := map[string]string{
		"user@Company.COM":         "company",
		"user@sub.company.com":     "company",
		"user@company.com.":        "company",
		"user@x.eng.company.com":   "eng",
		"user@ENG.company.com":     "eng",
		"user@BÜCHER.example":      "books",
		"user@unverified.com":      "",
		"user@notcompany.com":      "",
		"user@company.com.evil.io": "",
		"user@company":             "",
		"no-at-sign":               "",
		"user@":                    "",
		"user@[127.0.0.1]":         "",
		"user@company.com/x":       "",
	}
	for email, want := range cases {
		got, err := e.p.providerForEmail(ctx, email)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		gotID := ""
		if got != nil {
			gotID = got.String("providerId")
		}
		if gotID != want {
			t.Errorf("%s → %q, want %q", email, gotID, want)
		}
	}
	if rec, err := e.p.providerByID(ctx, "company"); err != nil || rec == nil || rec.String("domain") != "company.com" {
		t.Fatalf("providerByID: %v %v", rec, err)
	}
	if rec, err := e.p.providerByID(ctx, "missing"); err != nil || rec != nil {
		t.Fatalf("providerByID missing: %v %v", rec, err)
	}
	// A domain change un-verifies, and routing stops at once.
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "company", "domain": "company.net"}), 200, "", "")
	if got, _ := e.p.providerForEmail(ctx, "user@company.com"); got != nil {
		t.Fatalf("routes to %v after the domain change", got.String("providerId"))
	}
	if got, _ := e.p.providerForEmail(ctx, "user@company.net"); got != nil {
		t.Fatal("routes to an unverified domain")
	}
	_ = storage.Record{}
}

// TestDomainClaimRace: two organizations holding valid TXT records for the same domain
// verify concurrently (20 requests); exactly one request succeeds and one provider ends up
// verified.
func TestDomainClaimRace(t *testing.T) {
	e := newEnv(t, nil, true)
	orgA := e.createOrg(e.alice, "org-a")
	orgB := e.createOrg(e.bob, "org-b")
	for _, x := range []struct {
		c     *authcoretestClient
		id, o string
	}{{e.alice, "pa", orgA}, {e.bob, "pb", orgB}} {
		b := e.oidcBody(x.id, "race.com")
		b["organizationId"] = x.o
		tok := e.mustRegister(x.c, b)["domainVerificationToken"].(string)
		e.dns.Set("_better-auth-token-"+x.id+".race.com", tok)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, id := e.alice, "pa"
			if i%2 == 1 {
				c, id = e.bob, "pb"
			}
			r := c.Post("/sso/verify-domain", map[string]any{"providerId": id})
			switch {
			case r.StatusCode == http.StatusNoContent:
				mu.Lock()
				ok++
				mu.Unlock()
			case r.StatusCode == http.StatusConflict && (r.Code() == "DOMAIN_ALREADY_CLAIMED" || r.Code() == "DOMAIN_VERIFIED"):
			default:
				t.Errorf("verify %s: %d %s", id, r.StatusCode, r.Body)
			}
		}()
	}
	wg.Wait()
	a, b := e.provider("pa").Bool("domainVerified"), e.provider("pb").Bool("domainVerified")
	if a == b || ok != 1 {
		t.Fatalf("pa verified %v, pb verified %v, %d successes", a, b, ok)
	}
}

// domain_verification resolver points the TXT lookups at one DNS server (here a real one
// on loopback); a malformed address fails start-up.
func TestResolverOption(t *testing.T) {
	d := dnstest.Start(t)
	d.Set("_better-auth-token-x.resolver.example", "tok-123")
	p := &Plugin{DomainVerification: DomainVerification{Resolver: d.Addr}}
	if err := p.setup(); err != nil {
		t.Fatal(err)
	}
	got, err := p.Resolver.LookupTXT(context.Background(), "_better-auth-token-x.resolver.example")
	if err != nil || len(got) != 1 || got[0] != "tok-123" {
		t.Fatalf("TXT via the configured resolver: %v %v", got, err)
	}
	if err := (&Plugin{DomainVerification: DomainVerification{Resolver: "no-port"}}).setup(); err == nil {
		t.Fatal("resolver without a port accepted")
	}
}
