package notes

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// --- snippet: test ---

func TestNotes(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&Plugin{MaxNotes: 1}))
	c, _ := h.SignUp("Ada", "ada@example.com", "correct horse battery")
	if r := c.Post("/notes/add", map[string]any{"text": "hello"}); r.StatusCode != 200 {
		t.Fatalf("add: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Post("/notes/add", map[string]any{"text": "again"}); r.Code() != "TOO_MANY_NOTES" {
		t.Fatalf("second note: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Post("/notes/add", map[string]any{"text": 42}); r.Code() != "VALIDATION_ERROR" {
		t.Fatalf("wrong type: %d %s", r.StatusCode, r.Body)
	}
	r := c.Get("/notes/list")
	notes, _ := r.Object()["notes"].([]any)
	if r.StatusCode != 200 || len(notes) != 1 || r.Header.Get("X-Notes-Plugin") != "1" {
		t.Fatalf("list: %d %s", r.StatusCode, r.Body)
	}
	if r := h.Client().Get("/notes/list"); r.StatusCode != 401 {
		t.Fatalf("list without a session: %d", r.StatusCode)
	}
	n, err := h.Engine.Store().Count(context.Background(), ModelNote, storage.Eq("text", "hello"))
	if err != nil || n != 1 {
		t.Fatalf("stored notes: %d %v", n, err)
	}
}

// --- end ---

// The snippets above that TestNotes does not reach: Requires and PluginAPI, the blocked
// sign-up hook, the gateway authenticator.
func TestNotesCoordinationAndGateway(t *testing.T) {
	_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
		authcore.WithStore(memoryStore()), authcore.WithPlugins(&Reminders{}))
	if err == nil || !strings.Contains(err.Error(), `plugin "reminders" requires plugin "notes", which is not enabled`) {
		t.Fatalf("reminders alone: %v", err)
	}
	rem := &Reminders{}
	withKey := &keyPlugin{}
	h := authcoretest.New(t, authcoretest.WithPlugins(&Plugin{}, rem, withKey))
	c, user := h.SignUp("Ada", "ada@example.com", "correct horse battery")
	if r := c.Post("/notes/add", map[string]any{"text": "hello"}); r.StatusCode != 200 {
		t.Fatalf("add: %d %s", r.StatusCode, r.Body)
	}
	uid, _ := user["user"].(map[string]any)["id"].(string)
	if n, err := rem.pending(context.Background(), uid); err != nil || n != 1 {
		t.Fatalf("pending via PluginAPI: %d %v", n, err)
	}
	if r := h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "X", "email": "x@blocked.example", "password": "correct horse battery"}); r.StatusCode != 403 || r.Code() != "DOMAIN_BLOCKED" {
		t.Fatalf("blocked sign-up: %d %s", r.StatusCode, r.Body)
	}
	if !slices.Contains(h.Engine.CredentialHeaders(), "X-Notes-Key") {
		t.Fatalf("credential headers %v", h.Engine.CredentialHeaders())
	}
	auth := keyAuth{engine: h.Engine, key: "k3y", userID: uid}
	req, _ := http.NewRequest("GET", "http://localhost:3000/app", nil)
	if _, found, err := auth.Authenticate(req); found || err != nil {
		t.Fatalf("no header: found=%v %v", found, err)
	}
	req.Header.Set("X-Notes-Key", "k3y")
	if p, found, err := auth.Authenticate(req); !found || err != nil || p.UserID != uid {
		t.Fatalf("right key: %+v %v %v", p, found, err)
	}
	req.Header.Set("X-Notes-Key", "wrong")
	if _, found, err := auth.Authenticate(req); !found || err == nil {
		t.Fatalf("wrong key: %v %v", found, err)
	}
}

// keyPlugin registers the snippet's authenticator.
type keyPlugin struct{}

func (*keyPlugin) ID() string { return "notes-key" }
func (*keyPlugin) Register(r *authcore.Registrar) error {
	registerKeyAuth(r, "k3y", "no-such-user")
	return nil
}

func memoryStore() storage.Store { return memory.NewStore() }

// TestSnippetsInDoc: every ```go block of docs/plugins.md is code of this package (or of
// cmd/main.go, or quoted from authcore/plugin.go), so the document cannot show code that
// does not compile.
func TestSnippetsInDoc(t *testing.T) {
	doc, err := os.ReadFile("../plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range []string{"notes.go", "notes_test.go", "cmd/main.go", "../../authcore/plugin.go"} {
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d go blocks in plugins.md", len(blocks))
	}
	for _, b := range blocks {
		if !strings.Contains(src.String(), b[1]) {
			t.Errorf("this block of docs/plugins.md is not in docs/notes (copy it from there):\n%s", b[1])
		}
	}
}
