package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// interopTimeout bounds one `node --test` run of the whole interop suite (37 cases, about a
// minute on an idle 2-core machine; generous, since a loaded machine hashes passwords slowly).
const interopTimeout = 5 * time.Minute

// TestInterop runs the official better-auth JavaScript client (interop/, pinned in its
// package.json) against a real gateway: `node --test` in interop/ with GATEHOUSE_URL set.
// The node modules come from `npm ci --prefix interop` (test.sh does it); a missing
// node_modules fails the test unless GATEHOUSE_SKIP_INTEROP=1.
func TestInterop(t *testing.T) {
	if os.Getenv("GATEHOUSE_SKIP_INTEROP") == "1" {
		t.Skip("GATEHOUSE_SKIP_INTEROP=1")
	}
	dir, err := filepath.Abs(filepath.Join("..", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "better-auth", "package.json")); err != nil {
		t.Fatalf("interop/node_modules is missing (%v): run `npm ci --prefix interop` first "+
			"(./test.sh does it), or set GATEHOUSE_SKIP_INTEROP=1 to skip the interop tests", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (%v): the interop tests need Node.js 20+ "+
			"(or set GATEHOUSE_SKIP_INTEROP=1)", err)
	}

	ports := freePorts(t, 2)
	gw, app := ports[0], ports[1]
	sink := newMessageSink(t)
	// A real OIDC IdP on loopback for interop/test/social.test.mjs: social provider "acme".
	// It approves its default user (mockoidc.DefaultUser) at once; node is told who that is.
	idp := startMockOIDC(t)
	idpUser := mockoidc.DefaultUser()
	// Rate limiting is off: the suite signs in many times per second from one IP. The
	// upstream echoes the identity headers and the Cookie header it receives
	// (interop/test/gateway.test.mjs parses this exact format).
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url http://localhost:%[1]d
		storage bbolt gatehouse.db
		rate_limit off
		mailer webhook %[3]s {
			secret %[4]s
		}
		sms webhook %[3]s {
			secret %[4]s
		}
		username
		anonymous
		magic_link
		email_otp
		phone_number {
			sign_up_on_verification
		}
		two_factor
		passkey
		bearer
		jwt
		api_key
		multi_session
		admin
		organization {
			teams {
				enabled
			}
		}
		%[5]s
	}
}
http://localhost:%[1]d {
	gatehouse {
		public /health
		require org_member /orgs/* {
			org_from path 2
		}
	}
	reverse_proxy 127.0.0.1:%[2]d
}
http://:%[2]d {
	bind 127.0.0.1
	respond /health "ok"
	respond "upstream id=[{header.X-Auth-User-Id}] email=[{header.X-Auth-User-Email}] cookie=[{header.Cookie}] authz=[{header.Authorization}] method=[{header.X-Auth-Method}] apikey=[{header.X-Api-Key}] keyid=[{header.X-Auth-Api-Key-Id}] imp=[{header.X-Auth-Impersonated-By}] org=[{header.X-Auth-Org-Id}] orgslug=[{header.X-Auth-Org-Slug}] orgrole=[{header.X-Auth-Org-Role}]"
}
`, gw, app, sink.HookURL(), sinkSecret, acmeSocial(idp))
	base := fmt.Sprintf("http://localhost:%d", gw)
	s := StartServer(t, cf, base+"/health")
	// An administrator for the adminClient tests, made the only way one can be: by the CLI.
	const adminEmail, adminPassword = "interop-admin@example.com", "interop admin passphrase 7"
	for _, args := range [][]string{
		{"user", "create", "--email", adminEmail, "--name", "Interop Admin", "--password", adminPassword},
		{"user", "set-role", adminEmail, "admin"},
	} {
		if out, ok := runCLI(t, s.Env(), s.Dir, "", append(args, "--address", s.Admin)...); !ok {
			t.Fatalf("gatehouse %s: %s", strings.Join(args, " "), out)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+base, "GATEHOUSE_MESSAGES_URL="+sink.srv.URL,
		"GATEHOUSE_ADMIN_EMAIL="+adminEmail, "GATEHOUSE_ADMIN_PASSWORD="+adminPassword,
		"GATEHOUSE_OIDC_PROVIDER=acme", "GATEHOUSE_OIDC_ISSUER="+idp.Issuer(),
		"GATEHOUSE_OIDC_SUBJECT="+idpUser.Subject, "GATEHOUSE_OIDC_EMAIL="+idpUser.Email,
		"NO_COLOR=1", "FORCE_COLOR=0")
	// On timeout only what this test started is killed: node and the per-file test
	// processes it spawned, which share the new process group (see killGroup).
	killGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	w := &lineLogger{t: t, prefix: "node: "}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	err = cmd.Run()
	w.Flush()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node --test did not finish within %v (killed)", interopTimeout)
	case err != nil:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("node --test failed (%v); see the node: lines above", err)
		}
		t.Fatalf("running node --test: %v", err)
	}
	if n := sink.Refused(); n > 0 {
		t.Errorf("%d webhooks failed signature verification", n)
	}
	t.Logf("node --test passed in %v", time.Since(start).Round(time.Millisecond))
}

// lineLogger streams a process's output into the test log, one t.Log per line.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log(l.prefix + string(bytes.TrimRight(l.buf[:i], "\r")))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// Flush logs a final line that had no newline.
func (l *lineLogger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(l.prefix + string(l.buf))
		l.buf = nil
	}
}
