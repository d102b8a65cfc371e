// Package betterauthtest builds Better Auth databases for tests, with Better Auth itself:
// it runs interop/importer/seed.mjs (Better Auth 1.7.25 and its plugins, installed with
// `npm ci --prefix interop/importer`) against a fresh pgtest PostgreSQL database.
//
// Without Node, the npm packages or PostgreSQL the calling test is skipped, unless
// GATEHOUSE_REQUIRE_POSTGRES=1 (CI): then it fails.
package betterauthtest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

// Fixture is what interop/importer/seed.mjs reports about the database it built.
type Fixture struct {
	DSN           string   `json:"-"` // the database (postgres://)
	Secret        string   `json:"-"` // Better Auth's secret
	Password      string   `json:"password"`
	Alice         string   `json:"alice"`
	Bob           string   `json:"bob"`
	TOTPSecret    string   `json:"totpSecret"`
	BackupCodes   []string `json:"backupCodes"`
	APIKey        string   `json:"apiKey"`
	APIKeyID      string   `json:"apiKeyId"`
	OrgID         string   `json:"organizationId"`
	TeamID        string   `json:"teamId"`
	InvitationID  string   `json:"invitationId"`
	SessionTokens []string `json:"sessionTokens"`
}

// seedDir is interop/importer, found from this file's location (tests run in the module).
func seedDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "interop", "importer")
}

// Database runs Better Auth itself (node interop/importer/seed.mjs) against a
// fresh PostgreSQL database and returns it. Without Node, the npm packages or PostgreSQL
// the test is skipped, unless GATEHOUSE_REQUIRE_POSTGRES=1: then it fails.
func Database(t *testing.T) Fixture {
	t.Helper()
	required := os.Getenv(pgtest.RequireEnv) == "1"
	unavailable := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format+" (%s=1)", append(args, pgtest.RequireEnv)...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("node is not installed: %v", err)
	}
	dir := seedDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "better-auth")); err != nil {
		unavailable("Better Auth is not installed in %s: run npm ci --prefix interop/importer", dir)
	}
	dsn := pgtest.DSN(t)
	secret := "better-auth-secret-for-the-import-test-0123456789"
	cmd := exec.Command(node, "seed.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "BETTER_AUTH_SECRET="+secret)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed.mjs: %v\n%s", err, out)
	}
	var f Fixture
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("seed.mjs output: %v\n%s", err, out)
	}
	f.DSN, f.Secret = dsn, secret
	return f
}
