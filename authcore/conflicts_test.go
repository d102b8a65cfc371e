package authcore_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// codeHandleTaken is the test plugin's answer to a taken handle.
var codeHandleTaken = authcore.ErrorCode{Code: "HANDLE_TAKEN", Message: "Handle is taken"}

// handlePlugin adds a unique user field "handle" and, unless noConflict, declares its
// duplicate answer. It does no availability check of its own, so every duplicate reaches
// the store, as the losing request of a race does.
func handlePlugin(noConflict bool) authcore.Plugin {
	return &probePlugin{id: "handle", reg: func(r *authcore.Registrar) error {
		if err := r.Extend(authcore.ModelUser, storage.Field{Name: "handle", Type: storage.TypeString, Unique: true}); err != nil {
			return err
		}
		if noConflict {
			return nil
		}
		return r.UniqueConflict(authcore.ModelUser, "handle", codeHandleTaken.With(http.StatusBadRequest))
	}}
}

// A duplicate on a plugin's unique field is answered with the plugin's error in every
// sign-up mode — never as a taken email: no USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL, no
// synthetic success, no "account exists" notice to an address that has no account.
func TestUniqueConflictSignUp(t *testing.T) {
	modes := map[string]func(*authcore.Config){
		"auto sign-in":               func(*authcore.Config) {},
		"require email verification": func(c *authcore.Config) { c.EmailAndPassword.RequireEmailVerification = true },
		"auto sign-in off":           func(c *authcore.Config) { c.EmailAndPassword.DisableAutoSignIn = true },
	}
	for name, edit := range modes {
		t.Run(name, func(t *testing.T) {
			h := authcoretest.New(t, authcoretest.WithConfig(edit), authcoretest.WithPlugins(handlePlugin(false)))
			r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW, "handle": "ace"})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("first sign-up: %d %s", r.StatusCode, r.Body)
			}
			r = h.Client().Post("/sign-up/email", map[string]any{"name": "B", "email": "b@example.com", "password": flowPW, "handle": "ace"})
			flowErr(t, r, http.StatusBadRequest, "HANDLE_TAKEN", "Handle is taken")
			flowNoSessionCookie(t, r)
			if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
				t.Fatalf("%d users, want 1", n)
			}
			if n := len(flowMessages(t, h, "account-exists", "b@example.com")); n != 0 {
				t.Fatalf("%d account-exists notices to an address without an account", n)
			}
			// A taken email keeps its core answer even when the handle is taken too or free.
			r = h.Client().Post("/sign-up/email", map[string]any{"name": "A2", "email": "a@example.com", "password": flowPW, "handle": "free"})
			if name == "auto sign-in" {
				flowErr(t, r, http.StatusUnprocessableEntity, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "")
			} else if r.StatusCode != http.StatusOK {
				t.Fatalf("taken email without auto sign-in: %d %s, want the synthetic 200", r.StatusCode, r.Body)
			}
		})
	}
}

// Without a declaration the core's answers stay as they were (4xx, never 500).
func TestUniqueConflictUndeclared(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(handlePlugin(true)))
	h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW, "handle": "ace"})
	r := h.Client().Post("/sign-up/email", map[string]any{"name": "B", "email": "b@example.com", "password": flowPW, "handle": "ace"})
	flowErr(t, r, http.StatusUnprocessableEntity, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "")
	c, _ := h.SignUp("C", "c@example.com", flowPW)
	r = c.Post("/update-user", map[string]any{"handle": "ace"})
	flowErr(t, r, http.StatusBadRequest, "FAILED_TO_UPDATE_USER", "")
}

func TestUniqueConflictUpdateUser(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(handlePlugin(false)))
	a, _ := h.SignUp("A", "a@example.com", flowPW)
	b, _ := h.SignUp("B", "b@example.com", flowPW)
	if r := a.Post("/update-user", map[string]any{"handle": "ace"}); r.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", r.StatusCode, r.Body)
	}
	r := b.Post("/update-user", map[string]any{"handle": "ace"})
	flowErr(t, r, http.StatusBadRequest, "HANDLE_TAKEN", "Handle is taken")
	if got := flowUser(t, h, "b@example.com").String("handle"); got != "" {
		t.Fatalf("b's handle %q", got)
	}
}

func TestUniqueConflictRegistration(t *testing.T) {
	taken := codeHandleTaken.With(http.StatusBadRequest)
	cases := map[string]struct {
		reg  func(r *authcore.Registrar) error
		want string
	}{
		"unknown model": {func(r *authcore.Registrar) error { return r.UniqueConflict("nope", "x", taken) }, "unknown model"},
		"not unique": {func(r *authcore.Registrar) error {
			r.Extend(authcore.ModelUser, storage.Field{Name: "nick", Type: storage.TypeString})
			return r.UniqueConflict(authcore.ModelUser, "nick", taken)
		}, "not a unique field"},
		"5xx": {func(r *authcore.Registrar) error {
			r.Extend(authcore.ModelUser, storage.Field{Name: "nick", Type: storage.TypeString, Unique: true})
			return r.UniqueConflict(authcore.ModelUser, "nick", authcore.Internal(nil))
		}, "needs a 4xx error"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := pluginEngineCfg(t, authcore.Config{}, &probePlugin{id: "p", reg: tc.reg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("twice", func(t *testing.T) {
		other := &probePlugin{id: "other", deps: []string{"handle"}, reg: func(r *authcore.Registrar) error {
			return r.UniqueConflict(authcore.ModelUser, "handle", taken)
		}}
		_, err := pluginEngineCfg(t, authcore.Config{}, handlePlugin(false), other)
		if err == nil || !strings.Contains(err.Error(), `already declared by "handle"`) {
			t.Fatalf("err = %v", err)
		}
	})
}
