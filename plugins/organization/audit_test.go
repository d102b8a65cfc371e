package organization_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Creating an organization, inviting, accepting and leaving are one event each, naming the
// organization and invitation ids.
func TestAuditOrganizationEvents(t *testing.T) {
	e := setup(t, nil)
	org := e.createOrg(e.alice, "Acme", "acme")
	if rec := e.h.Audit.One(t, authcore.AuditOrganizationCreate); rec["actor"] != e.aliceID || rec["result"] != "success" {
		t.Errorf("create event %v", rec)
	}
	inv := e.invite(e.alice, org, "bob@example.com", "member")
	rec := e.h.Audit.One(t, authcore.AuditOrganizationInvite)
	if d, _ := rec["details"].(map[string]any); rec["actor"] != e.aliceID || d["organizationId"] != org {
		t.Errorf("invite event %v", rec)
	}
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": inv}), http.StatusOK, "")
	rec = e.h.Audit.One(t, authcore.AuditOrganizationMemberAdd)
	if d, _ := rec["details"].(map[string]any); rec["actor"] != e.bobID || d["invitationId"] != inv {
		t.Errorf("accept event %v", rec)
	}
	want(t, e.bob.Post("/organization/leave", map[string]any{"organizationId": org}), http.StatusOK, "")
	if rec := e.h.Audit.One(t, authcore.AuditOrganizationMemberRemove); rec["actor"] != e.bobID {
		t.Errorf("leave event %v", rec)
	}
}
