// Package pgtest starts a real, throw-away PostgreSQL server for tests.
//
// The first call to [DSN] in a test binary finds the PostgreSQL binaries (initdb, pg_ctl,
// postgres: $GATEHOUSE_POSTGRES_BIN, then PATH, /usr/local/bin, /usr/local/pgsql/bin and the
// newest /usr/lib/postgresql/*/bin), runs initdb into a fresh temporary directory and starts
// postgres on 127.0.0.1 with a free port and its unix socket in that directory, tuned for tests
// (fsync off). Every DSN call creates a fresh database, so tests never share state. [Main]
// wraps testing.M.Run and stops the server (pg_ctl stop -m fast on its data directory, then
// the postmaster's PID) and removes the directory when the test binary finishes:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// [NewServer] starts a private server a test can stop and start again (a database outage).
//
// Without PostgreSQL binaries the tests are skipped with a message saying so, unless
// GATEHOUSE_REQUIRE_POSTGRES=1 is set (CI sets it): then they fail.
//
// initdb and postgres refuse to run as root. When the test binary runs as root, pgtest runs
// them as the unprivileged user "nobody" (uid/gid looked up, 65534 otherwise) by setting the
// child process credentials, and hands the temporary directory to that user first.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv is the variable that turns a missing PostgreSQL into a test failure.
const RequireEnv = "GATEHOUSE_REQUIRE_POSTGRES"

// BinEnv names a directory holding initdb, pg_ctl and postgres, searched first.
const BinEnv = "GATEHOUSE_POSTGRES_BIN"

type server struct {
	dir     string // temporary directory: data/, sock/, log
	bin     string // directory of the binaries
	port    int
	cmd     *exec.Cmd
	cred    *syscall.Credential
	exited  chan struct{}
	admin   *pgx.Conn
	adminMu sync.Mutex
}

var (
	once    sync.Once
	srv     *server
	srvErr  error
	missing bool
	dbSeq   atomic.Int64
)

// Main runs the tests and then stops the server, if one was started. Use it as TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the server and removes its directory. Main calls it; it is safe to call twice.
func Stop() {
	if srv != nil {
		srv.stop()
		srv = nil
	}
}

// Available reports whether PostgreSQL binaries were found.
func Available() bool {
	_, err := findBin()
	return err == nil
}

// DSN returns the connection string of a fresh, empty database on the test server, starting
// the server on first use. It skips the test when PostgreSQL is not installed (fails when
// GATEHOUSE_REQUIRE_POSTGRES=1) and fails it when the server cannot start.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		unavailable(t, srvErr, missing, os.Getenv(RequireEnv) == "1")
		return ""
	}
	if srv == nil {
		t.Fatal("pgtest: the server was stopped")
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	srv.adminMu.Lock()
	_, err := srv.admin.Exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	srv.adminMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return srv.dsn(name)
}

// unavailable ends a test that has no server: skipped when PostgreSQL is simply not
// installed, failed when it is required or when it is installed but does not start.
func unavailable(t testing.TB, err error, missing, required bool) {
	t.Helper()
	if missing && !required {
		t.Skipf("pgtest: skipping, PostgreSQL is not installed: %v (set %s=1 to make this a failure)", err, RequireEnv)
	}
	if missing {
		t.Fatalf("pgtest: %s=1 but PostgreSQL is not installed: %v", RequireEnv, err)
	}
	t.Fatalf("pgtest: %v", err)
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// SocketDir is the directory of the server's unix socket (empty before the first DSN call).
func SocketDir() string {
	if srv == nil {
		return ""
	}
	return filepath.Join(srv.dir, "sock")
}

// searchDirs lists where the binaries are looked for, in order.
var searchDirs = func() []string {
	var dirs []string
	if d := os.Getenv(BinEnv); d != "" {
		dirs = append(dirs, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/usr/local/bin", "/usr/local/pgsql/bin")
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgVersion(versions[i]) > pgVersion(versions[j]) })
	return append(dirs, versions...)
}

func findBin() (string, error) {
	for _, d := range searchDirs() {
		ok := true
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(d, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				ok = false
				break
			}
		}
		if ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb, pg_ctl and postgres not found in $%s, PATH, /usr/local/bin, /usr/local/pgsql/bin or /usr/lib/postgresql/*/bin", BinEnv)
}

func pgVersion(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func start() (*server, error) {
	s, err := initServer()
	if err != nil {
		return nil, err
	}
	if err := s.run(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// initServer creates the directory and runs initdb, and picks the port.
func initServer() (*server, error) {
	bin, err := findBin()
	if err != nil {
		missing = true
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatehouse-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, bin: bin}
	fail := func(err error) (*server, error) {
		s.stop()
		return nil, err
	}
	if os.Geteuid() == 0 {
		cred, err := unprivileged()
		if err != nil {
			return fail(err)
		}
		s.cred = cred
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
	}
	if err := s.mkdir(filepath.Join(dir, "sock")); err != nil {
		return fail(err)
	}
	if out, err := s.command("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	s.port, err = freePort()
	if err != nil {
		return fail(err)
	}
	return s, nil
}

// run starts postgres on the server's data directory and port and waits until it accepts
// connections.
func (s *server) run() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = s.command("postgres", "-D", filepath.Join(s.dir, "data"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-k", filepath.Join(s.dir, "sock"),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=400", "-c", "shared_buffers=64MB", "-c", "log_min_messages=warning")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	setPdeathsig(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("postgres: %w", err)
	}
	exited := make(chan struct{})
	s.exited = exited
	cmd := s.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.admin, err = pgx.Connect(ctx, s.dsn("postgres"))
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			return fmt.Errorf("postgres exited at start-up: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 60s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) mkdir(p string) error {
	if err := os.Mkdir(p, 0o700); err != nil {
		return err
	}
	if s.cred != nil {
		return os.Chown(p, int(s.cred.Uid), int(s.cred.Gid))
	}
	return nil
}

func (s *server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// stop shuts the server down (halt) and removes the directory.
func (s *server) stop() {
	s.halt()
	_ = os.RemoveAll(s.dir)
}

// halt shuts the server down fast (pg_ctl stop -m fast, then SIGINT — PostgreSQL's fast
// shutdown — to the PID we started, then SIGKILL), keeping its data directory.
func (s *server) halt() {
	if s.admin != nil {
		_ = s.admin.Close(context.Background())
		s.admin = nil
	}
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.command("pg_ctl", "stop", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "-t", "30").Run()
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.exited
			}
		}
	}
	s.cmd = nil
}

// Server is a PostgreSQL server of one test's own, which the test can stop and start again
// on the same data directory and port: a database outage and its end, for the clients
// connected to it. The shared server of [DSN] must not be stopped that way, since other
// tests use it.
type Server struct {
	mu sync.Mutex
	s  *server
}

// NewServer starts a private server, stopped and removed at the test's cleanup. Without
// PostgreSQL binaries it skips the test as [DSN] does.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		unavailable(t, err, missing, os.Getenv(RequireEnv) == "1")
		return nil
	}
	p := &Server{s: s}
	t.Cleanup(func() { p.mu.Lock(); defer p.mu.Unlock(); p.s.stop() })
	return p
}

// DSN returns the connection string of a fresh, empty database on the server, which must
// be running.
func (p *Server) DSN(t testing.TB) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s.admin == nil {
		t.Fatal("pgtest: the server is stopped")
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := p.s.admin.Exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return p.s.dsn(name)
}

// Stop shuts the server down (fast shutdown: connections are closed), keeping its data.
func (p *Server) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.s.halt()
}

// Start starts the stopped server again on the same data and port.
func (p *Server) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.s.run(); err != nil {
		t.Fatalf("pgtest: restarting: %v", err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unprivileged returns the credentials of "nobody", which initdb and postgres run as when
// the tests run as root.
func unprivileged() (*syscall.Credential, error) {
	uid, gid := uint32(65534), uint32(65534)
	if u, err := user.Lookup("nobody"); err == nil {
		if n, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			uid = uint32(n)
		}
		if n, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			gid = uint32(n)
		}
	}
	if uid == 0 {
		return nil, errors.New("running as root and no unprivileged user to run postgres as")
	}
	return &syscall.Credential{Uid: uid, Gid: gid, NoSetGroups: true}, nil
}
