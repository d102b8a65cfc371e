package caddymodule

import (
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Changes made through the admin API (the gatehouse user/session CLI) are audit events
// with the target user as subject and source admin_api; the password is never logged.
func TestAdminAPIAuditEvents(t *testing.T) {
	a := newAdminHarness(t)
	u := a.createUser("ada@example.com", "")
	id := u["id"].(string)
	rec := a.h.Audit.One(t, authcore.AuditAdminCreateUser)
	d, _ := rec["details"].(map[string]any)
	if rec["subject"] != id || rec["actor"] != nil || d["source"] != "admin_api" || rec["result"] != "success" || rec["ip"] != "192.0.2.1" {
		t.Errorf("create_user event %v", rec)
	}
	const newPW = "an operator's new passphrase 7"
	a.call("POST", "/gatehouse/users/ada@example.com/password", map[string]any{"password": newPW}).expect(t, http.StatusOK, "")
	if rec := a.h.Audit.One(t, authcore.AuditAdminSetPassword); rec["subject"] != id {
		t.Errorf("set_password event %v", rec)
	}
	a.call("POST", "/gatehouse/users/ada@example.com/role", map[string]any{"role": "admin"}).expect(t, http.StatusOK, "")
	a.h.Audit.One(t, authcore.AuditAdminSetRole)
	a.call("DELETE", "/gatehouse/sessions?user=ada@example.com", nil).expect(t, http.StatusOK, "")
	a.h.Audit.One(t, authcore.AuditAdminRevokeSessions)
	// A refused call changes nothing and records nothing.
	a.call("POST", "/gatehouse/users/nobody@example.com/role", map[string]any{"role": "admin"}).expect(t, http.StatusNotFound, "")
	a.h.Audit.One(t, authcore.AuditAdminSetRole)
	a.call("DELETE", "/gatehouse/users/"+id, nil).expect(t, http.StatusOK, "")
	if rec := a.h.Audit.One(t, authcore.AuditAdminRemoveUser); rec["subject"] != id {
		t.Errorf("remove_user event %v", rec)
	}
	if log := a.h.Audit.Text(); strings.Contains(log, newPW) || strings.Contains(log, adminTestPW) {
		t.Errorf("the audit log holds a password:\n%s", log)
	}
}

// The App's audit logger carries the name operators route on: gatehouse.audit.
func TestAuditLoggerName(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	a := &App{logger: zap.New(core).Named("gatehouse")}
	l := a.auditLogger()
	l.Info("audit", "type", authcore.AuditSignIn)
	entries := logs.All()
	if len(entries) != 1 || entries[0].LoggerName != AuditLoggerName || entries[0].Message != "audit" ||
		entries[0].ContextMap()["type"] != authcore.AuditSignIn {
		t.Fatalf("entries %+v", entries)
	}
}
