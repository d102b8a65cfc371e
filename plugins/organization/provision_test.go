package organization_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func TestProvisionMember(t *testing.T) {
	e := setup(t, &organization.Plugin{MembershipLimit: 3})
	org := e.createOrg(e.alice, "Acme", "acme") // alice is the owner: 1 member
	api, ok := authcore.PluginAPI[organization.Provisioner](e.h.Engine, authcore.OrganizationID)
	if !ok {
		t.Fatal("the organization plugin does not publish a Provisioner")
	}
	added, err := api.ProvisionMember(e.ctx(), org, e.bobID, "member")
	if err != nil || !added {
		t.Fatalf("first provision: added=%v err=%v", added, err)
	}
	// Idempotent: an existing member is left alone, role unchanged, no second row.
	added, err = api.ProvisionMember(e.ctx(), org, e.bobID, "admin")
	if err != nil || added {
		t.Fatalf("second provision: added=%v err=%v, want false, nil", added, err)
	}
	rows, err := e.h.Engine.Store().FindMany(e.ctx(), organization.ModelMember, storage.Query{Where: storage.And(
		storage.Eq("organizationId", org), storage.Eq("userId", e.bobID))})
	if err != nil || len(rows) != 1 || rows[0].String("role") != "member" {
		t.Fatalf("bob's memberships: %v %v", rows, err)
	}
	// The owner is already a member too.
	if added, err = api.ProvisionMember(e.ctx(), org, e.aliceID, "member"); err != nil || added {
		t.Fatalf("owner: added=%v err=%v", added, err)
	}
	// Unknown role.
	if _, err = api.ProvisionMember(e.ctx(), org, e.carolID, "wizard"); authcore.AsError(err).Code != "ROLE_NOT_FOUND" {
		t.Fatalf("unknown role: %v", err)
	}
	// Unknown organization.
	if _, err = api.ProvisionMember(e.ctx(), "nope", e.carolID, "member"); authcore.AsError(err).Status != http.StatusBadRequest {
		t.Fatalf("unknown organization: %v", err)
	}
	// Membership limit (3): carol fills it, mallory is refused.
	if added, err = api.ProvisionMember(e.ctx(), org, e.carolID, "member"); err != nil || !added {
		t.Fatalf("carol: added=%v err=%v", added, err)
	}
	_, err = api.ProvisionMember(e.ctx(), org, e.mID, "member")
	if ae := authcore.AsError(err); ae.Status != http.StatusForbidden || ae.Code != organization.CodeOrganizationMembershipLimitReached.Code {
		t.Fatalf("over the limit: %v", err)
	}
}

func TestProvisionMemberConcurrent(t *testing.T) {
	e := setup(t, nil)
	org := e.createOrg(e.alice, "Acme", "acme")
	var wg sync.WaitGroup
	var mu sync.Mutex
	addedN := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			added, err := e.p.ProvisionMember(e.ctx(), org, e.bobID, "member")
			if err != nil {
				t.Errorf("provision: %v", err)
			}
			if added {
				mu.Lock()
				addedN++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n, err := e.h.Engine.Store().Count(e.ctx(), organization.ModelMember, storage.And(
		storage.Eq("organizationId", org), storage.Eq("userId", e.bobID)))
	if err != nil || n != 1 || addedN != 1 {
		t.Fatalf("rows=%d added=%d err=%v, want exactly one", n, addedN, err)
	}
}
