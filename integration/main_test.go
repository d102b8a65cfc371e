package integration

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

// binary is the gatehouse binary built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../cmd/gatehouse")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gatehouse:", err)
		os.Exit(1)
	}
	// Every client without its own transport records the credentials it sees, for the
	// log-leak scan below (leak_test.go).
	http.DefaultTransport = secretRecorder{base: http.DefaultTransport}
	code := m.Run()
	if !scanRunForLeaks(os.Stderr) && code == 0 {
		code = 1
	}
	pgtest.Stop() // the cluster test's PostgreSQL server, if it started one
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePorts returns n distinct free loopback ports.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		p := l.Addr().(*net.TCPAddr).Port
		if handedOut.ports[p] {
			continue // closed since, but another test of this run was given it
		}
		handedOut.ports[p] = true
		ports = append(ports, p)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// handedOut remembers every port freePorts gave out in this test binary: a port is free
// again as soon as its probe listener closes, and the kernel may hand it to the next probe,
// so without this two servers of one test (a gateway and its admin API) could be given the
// same port, and a readiness probe be answered by the wrong one.
var handedOut = struct {
	mu    sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// Server is a running gatehouse process.
type Server struct {
	t       testing.TB
	cmd     *exec.Cmd
	Dir     string // working directory, XDG data and config live under it
	Config  string // path of the Caddyfile
	Admin   string // admin API address host:port
	bin     string // the binary it runs, which also prints its OpenAPI document
	spec    specCache
	mu      sync.Mutex
	output  bytes.Buffer
	stopped bool
}

// Env returns the environment the server and CLI commands run with: data and config under
// the test's directory, so nothing touches the user's own Caddy state.
func (s *Server) Env() []string {
	return append(os.Environ(),
		"XDG_DATA_HOME="+filepath.Join(s.Dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(s.Dir, "config"),
		"HOME="+s.Dir,
	)
}

// Output returns what the server logged so far.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.output.String()
}

type lockedWriter struct{ s *Server }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.output.Write(p)
}

// StartServer writes caddyfile (with the placeholder {ADMIN} replaced by a free admin
// address, and the shipped redacting log format added: withRedactingLogs) into a fresh
// directory, starts `gatehouse run` on it, waits until readyURL
// answers, and stops the process at cleanup.
func StartServer(t testing.TB, caddyfile, readyURL string) *Server {
	t.Helper()
	return startBinary(t, binary, caddyfile, readyURL)
}

// startBinary is StartServer for any gatehouse-like binary (examples/cmd too).
func startBinary(t testing.TB, bin, caddyfile, readyURL string) *Server {
	t.Helper()
	s := &Server{t: t, Dir: t.TempDir(), bin: bin}
	s.Admin = fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	s.Config = filepath.Join(s.Dir, "Caddyfile")
	caddyfile = withRedactingLogs(strings.ReplaceAll(caddyfile, "{ADMIN}", s.Admin))
	if err := os.WriteFile(s.Config, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	trackServer(s) // its output is scanned for credentials after the run
	s.launch(readyURL)
	return s
}

// launch runs `gatehouse run` on s's directory and Caddyfile and waits until readyURL
// answers 200; the process is stopped at cleanup.
func (s *Server) launch(readyURL string) {
	t := s.t
	t.Helper()
	s.cmd = exec.Command(s.bin, "run", "--config", s.Config, "--adapter", "caddyfile")
	s.cmd.Dir, s.cmd.Env = s.Dir, s.Env()
	s.cmd.Stdout, s.cmd.Stderr = lockedWriter{s}, lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", s.bin, err)
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || s.cmd.ProcessState != nil {
			t.Fatalf("%s did not come up at %s: %v\n%s", s.bin, readyURL, err, s.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server (SIGINT, then SIGKILL after 10 s) — only the process this test
// started.
func (s *Server) Stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	if runtime.GOOS != "windows" {
		s.cmd.Process.Signal(syscall.SIGINT)
	}
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	if s.t.Failed() {
		s.t.Logf("gatehouse output:\n%s", s.Output())
	}
}

// Run executes a gatehouse CLI command with the server's environment.
func (s *Server) Run(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = s.Dir, s.Env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}
