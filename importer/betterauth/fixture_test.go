package betterauth

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is what interop/importer/seed.mjs reports about the database it built.
type fixture struct {
	DSN           string   `json:"-"`
	Secret        string   `json:"-"`
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

// seedDir is interop/importer, found from this file's location.
func seedDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "interop", "importer")
}

// betterAuthDatabase runs Better Auth itself (node interop/importer/seed.mjs) against a
// fresh PostgreSQL database and returns it. Without Node, the npm packages or PostgreSQL
// the test is skipped, unless GATEHOUSE_REQUIRE_POSTGRES=1: then it fails.
func betterAuthDatabase(t *testing.T) fixture {
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
	dir := seedDir(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "better-auth")); err != nil {
		unavailable("Better Auth is not installed: run npm ci --prefix interop/importer")
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
	var f fixture
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("seed.mjs output: %v\n%s", err, out)
	}
	f.DSN, f.Secret = dsn, secret
	return f
}
