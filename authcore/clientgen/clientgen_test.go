package clientgen_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/clientgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var errNoteNotFound = authcore.ErrorCode{Code: "NOTE_NOT_FOUND", Message: "Note not found"}

// notesPlugin is a small third-party-style plugin covering what the generator reads: GET
// with a query, POST with a required body field, a path parameter, a POST without a body, a
// route outside the plugin's prefix with user fields, JSON-schema responses and error codes.
type notesPlugin struct{}

func (notesPlugin) ID() string { return "test-notes" }

func (notesPlugin) Register(r *authcore.Registrar) error {
	note := map[string]any{"type": "object", "required": []any{"id", "text"}, "properties": map[string]any{
		"id": map[string]any{"type": "string"}, "text": map[string]any{"type": "string"},
		"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}}
	if err := r.Errors(errNoteNotFound); err != nil {
		return err
	}
	eps := []authcore.Endpoint{
		{Method: "GET", Path: "/test-notes/list", Auth: authcore.AuthNone, Summary: "List notes",
			Query: []authcore.Param{authcore.Number("limit").Doc("Page size."), authcore.String("cursor")},
			Response: map[string]any{"type": "object", "required": []any{"entries"}, "properties": map[string]any{
				"entries":    map[string]any{"type": "array", "items": note},
				"nextCursor": map[string]any{"type": "string", "nullable": true},
			}},
			Handler: func(c *authcore.Call) (any, error) {
				n, _ := c.Query.Int("limit")
				return map[string]any{"entries": []any{map[string]any{"id": "n1", "text": fmt.Sprint("limit ", n)}}, "nextCursor": nil}, nil
			}},
		{Method: "POST", Path: "/test-notes/add", Summary: "Add a note",
			Body:     []authcore.Param{authcore.String("text").Req(), authcore.StringOrArray("tags"), authcore.Bool("pinned").Null()},
			Response: map[string]any{"type": "object", "properties": map[string]any{"note": note}},
			Errors:   []authcore.ErrorCode{errNoteNotFound},
			Handler: func(c *authcore.Call) (any, error) {
				return map[string]any{"note": map[string]any{"id": "n2", "text": c.Body.String("text")}}, nil
			}},
		{Method: "GET", Path: "/test-notes/entry/:id", Summary: "One note",
			Response: map[string]any{"$ref": "#/components/schemas/Note"},
			Handler: func(c *authcore.Call) (any, error) {
				if c.Params["id"] != "n1" {
					return nil, errNoteNotFound.With(404)
				}
				return map[string]any{"id": "n1", "text": "first"}, nil
			}},
		{Method: "POST", Path: "/test-notes/clear", BodyOptional: true,
			Response: map[string]any{"type": "object", "properties": map[string]any{"cleared": map[string]any{"type": "integer"}}},
			Handler:  func(c *authcore.Call) (any, error) { return map[string]any{"cleared": 2}, nil }},
		{Method: "POST", Path: "/notes-public/share", UserFields: true,
			Body:    []authcore.Param{authcore.String("noteId").Req()},
			Handler: func(c *authcore.Call) (any, error) { return map[string]any{"shared": c.Body.String("noteId")}, nil }},
	}
	for _, ep := range eps {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	return nil
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated output (run with -update after checking the diff):\n%s", path, got)
	}
}

func TestGenerateGolden(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(notesPlugin{}))
	ts, err := clientgen.Generate(h.Engine, "test-notes", clientgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "test-notes.ts", ts)
	js, err := clientgen.Generate(h.Engine, "test-notes", clientgen.Options{JS: true})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "test-notes.mjs", js)
	// Spot checks that do not depend on the golden file being right.
	for _, want := range []string{
		`export const testNotesClient = () =>`,
		`"/test-notes/list": "GET",`,
		`"/test-notes/add": "POST",`,
		`list: (query?: TestNotesListQuery, fetchOptions?: BetterFetchOption) =>`,
		`add: (body: TestNotesAddBody, fetchOptions?: BetterFetchOption) =>`,
		`entryById: (params: TestNotesEntryByIdParams, fetchOptions?: BetterFetchOption) =>`,
		`notesPublicShare: (body: TestNotesNotesPublicShareBody, fetchOptions?: BetterFetchOption) =>`,
		`text: string;`, `tags?: string | string[];`, `pinned?: boolean | null;`, `limit?: number;`,
		`export type TestNotesListResponse = { entries: { id: string; tags?: string[]; text: string }[]; nextCursor?: string | null };`,
		`NOTE_NOT_FOUND: { code: "NOTE_NOT_FOUND", message: "Note not found" },`,
		`}) satisfies BetterAuthClientPlugin;`,
	} {
		if !strings.Contains(string(ts), want) {
			t.Errorf("TypeScript output lacks %q", want)
		}
	}
	if strings.Contains(string(js), ": string") || strings.Contains(string(js), "satisfies") || strings.Contains(string(js), "interface") {
		t.Errorf("JavaScript output has type syntax:\n%s", js)
	}
	if _, err := clientgen.Generate(h.Engine, "absent", clientgen.Options{}); err == nil || !strings.Contains(err.Error(), `"absent" is not enabled`) {
		t.Errorf("absent plugin: %v", err)
	}
}

// TestGeneratedClientWithBetterAuth loads the generated JavaScript module into the official
// better-auth client (createAuthClient) under Node and calls every action against the
// harness server. It needs node and an installed better-auth: interop/node_modules of this
// checkout (./test.sh installs it), or the directory in GATEHOUSE_NODE_MODULES. Like the
// interop test it fails without them, unless GATEHOUSE_SKIP_INTEROP=1.
func TestGeneratedClientWithBetterAuth(t *testing.T) {
	if os.Getenv("GATEHOUSE_SKIP_INTEROP") == "1" {
		t.Skip("GATEHOUSE_SKIP_INTEROP=1")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (%v): install Node.js 20+ or set GATEHOUSE_SKIP_INTEROP=1", err)
	}
	mods := os.Getenv("GATEHOUSE_NODE_MODULES")
	if mods == "" {
		mods, _ = filepath.Abs("../../interop/node_modules")
	}
	if _, err := os.Stat(filepath.Join(mods, "better-auth", "package.json")); err != nil {
		t.Fatalf("better-auth is not installed in %s: run `npm ci --prefix interop` (./test.sh does), set GATEHOUSE_NODE_MODULES, or GATEHOUSE_SKIP_INTEROP=1", mods)
	}
	h := authcoretest.New(t, authcoretest.WithPlugins(notesPlugin{}))
	js, err := clientgen.Generate(h.Engine, "test-notes", clientgen.Options{JS: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(mods, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("test-notes.mjs", string(js))
	write("check.mjs", `
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { testNotesClient, TEST_NOTES_ERROR_CODES } from "./test-notes.mjs";

const calls = [];
const client = createAuthClient({
  baseURL: process.env.BASE_URL,
  plugins: [testNotesClient()],
  fetchOptions: {
    headers: { origin: process.env.ORIGIN },
    customFetchImpl: async (input, init) => {
      calls.push([init?.method ?? "GET", String(input)]);
      return fetch(input, init);
    },
  },
});

const list = await client.testNotes.list({ limit: 7 });
assert.equal(list.error, null, JSON.stringify(list.error));
assert.deepEqual(list.data, { entries: [{ id: "n1", text: "limit 7" }], nextCursor: null });

const add = await client.testNotes.add({ text: "hello", tags: ["a"] });
assert.equal(add.error, null, JSON.stringify(add.error));
assert.deepEqual(add.data, { note: { id: "n2", text: "hello" } });

const bad = await client.testNotes.add({});
assert.equal(bad.data, null);
assert.equal(bad.error.status, 400);
assert.equal(bad.error.code, "VALIDATION_ERROR");

const one = await client.testNotes.entryById({ id: "n1" });
assert.deepEqual(one.data, { id: "n1", text: "first" });
const missing = await client.testNotes.entryById({ id: "zz" });
assert.equal(missing.error.status, 404);
assert.equal(missing.error.code, TEST_NOTES_ERROR_CODES.NOTE_NOT_FOUND.code);

const clear = await client.testNotes.clear();
assert.deepEqual(clear.data, { cleared: 2 });

const share = await client.testNotes.notesPublicShare({ noteId: "n9" });
assert.deepEqual(share.data, { shared: "n9" });

// The methods and URLs the client actually used.
const paths = calls.map(([m, u]) => m + " " + new URL(u).pathname + new URL(u).search);
assert.deepEqual(paths, [
  "GET /api/auth/test-notes/list?limit=7",
  "POST /api/auth/test-notes/add",
  "POST /api/auth/test-notes/add",
  "GET /api/auth/test-notes/entry/n1",
  "GET /api/auth/test-notes/entry/zz",
  "POST /api/auth/test-notes/clear",
  "POST /api/auth/notes-public/share",
]);
console.log("ok");
`)
	cmd := exec.Command(node, "check.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE_URL="+h.Server.URL+h.Config.BasePath, "ORIGIN="+authcoretest.BaseURL)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err != nil {
		t.Fatalf("node check failed: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("node output: %s", out)
	}
}
