package sso

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func (e *env) membership(orgID, userID string) storage.Record {
	e.t.Helper()
	m, err := e.h.Engine.Store().FindOne(e.ctx(), organization.ModelMember, storage.And(
		storage.Eq("organizationId", orgID), storage.Eq("userId", userID)))
	if err != nil {
		return nil
	}
	return m
}

func (e *env) user(id string) storage.Record {
	e.t.Helper()
	u, err := e.h.Engine.Store().FindOne(e.ctx(), authcore.ModelUser, storage.ByID(id))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// TestProvision: a user signing in through an organization's provider becomes a member with
// default_role, once; providers without an organization and disabled provisioning add
// nobody.
func TestProvision(t *testing.T) {
	e := newEnv(t, &Plugin{OrganizationProvisioning: OrganizationProvisioning{DefaultRole: "admin"}}, true)
	org := e.createOrg(e.alice, "acme")
	b := e.oidcBody("acme", "acme.com")
	b["organizationId"] = org
	e.mustRegister(e.alice, b)
	e.mustRegister(e.alice, e.oidcBody("personal", "personal.com"))
	prov := e.provider("acme")
	if err := e.p.provision(e.ctx(), prov, e.user(e.bobID)); err != nil {
		t.Fatal(err)
	}
	m := e.membership(org, e.bobID)
	if m == nil || m.String("role") != "admin" {
		t.Fatalf("bob's membership: %v", m)
	}
	// Idempotent; the owner keeps their role.
	if err := e.p.provision(e.ctx(), prov, e.user(e.bobID)); err != nil {
		t.Fatal(err)
	}
	if err := e.p.provision(e.ctx(), prov, e.user(e.aliceID)); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.h.Engine.Store().Count(e.ctx(), organization.ModelMember, storage.Eq("organizationId", org)); n != 2 {
		t.Fatalf("%d members, want 2", n)
	}
	if m := e.membership(org, e.aliceID); m.String("role") != "owner" {
		t.Fatalf("owner's role changed: %v", m)
	}
	// A provider of no organization provisions nothing.
	if err := e.p.provision(e.ctx(), e.provider("personal"), e.user(e.carID)); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.h.Engine.Store().Count(e.ctx(), organization.ModelMember, storage.Eq("userId", e.carID)); n != 0 {
		t.Fatal("carol became a member through a personal provider")
	}
	// Disabled.
	e.p.OrganizationProvisioning.Disabled = true
	if err := e.p.provision(e.ctx(), prov, e.user(e.carID)); err != nil || e.membership(org, e.carID) != nil {
		t.Fatalf("provisioned while disabled: %v", err)
	}
	e.p.OrganizationProvisioning.Disabled = false
	// An unknown role is the organization plugin's error.
	e.p.role = "wizard"
	if err := e.p.provision(e.ctx(), prov, e.user(e.carID)); authcore.AsError(err).Code != "ROLE_NOT_FOUND" {
		t.Fatalf("unknown role: %v", err)
	}
}

// TestProvisionLimitAndNoOrgPlugin: the membership limit holds; without the organization
// plugin provisioning is a no-op.
func TestProvisionLimitAndNoOrgPlugin(t *testing.T) {
	e := newEnvWith(t, nil, &organization.Plugin{MembershipLimit: 1}) // only the owner fits
	org := e.createOrg(e.alice, "acme")
	b := e.oidcBody("acme", "acme.com")
	b["organizationId"] = org
	e.mustRegister(e.alice, b)
	err := e.p.provision(e.ctx(), e.provider("acme"), e.user(e.bobID))
	if ae := authcore.AsError(err); ae.Status != http.StatusForbidden || ae.Code != "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED" {
		t.Fatalf("over the limit: %v", err)
	}
	n := newEnv(t, nil, false)
	rec := storage.Record{"id": "x", "providerId": "x", "organizationId": "some-org"}
	if err := n.p.provision(n.ctx(), rec, n.user(n.bobID)); err != nil {
		t.Fatalf("without the organization plugin: %v", err)
	}
}
