package pgtest

import (
	"errors"
	"strings"
	"testing"
)

// fakeTB records how a test would have ended.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

type ended struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = format
	panic(ended{})
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
	panic(ended{})
}

func outcome(err error, missing, required bool) *fakeTB {
	f := &fakeTB{}
	func() {
		defer func() {
			if r := recover(); r != nil && r != (ended{}) {
				panic(r)
			}
		}()
		unavailable(f, err, missing, required)
	}()
	return f
}

// TestUnavailable: no PostgreSQL skips, unless GATEHOUSE_REQUIRE_POSTGRES=1 (then it
// fails); a PostgreSQL that does not start always fails.
func TestUnavailable(t *testing.T) {
	boom := errors.New("boom")
	if f := outcome(boom, true, false); f.skipped == "" || f.failed != "" {
		t.Errorf("missing, not required: skipped %q, failed %q", f.skipped, f.failed)
	}
	if f := outcome(boom, true, true); f.failed == "" || f.skipped != "" || !strings.Contains(f.failed, "=1") {
		t.Errorf("missing, required: skipped %q, failed %q", f.skipped, f.failed)
	}
	if f := outcome(boom, false, false); f.failed == "" || f.skipped != "" {
		t.Errorf("broken install: skipped %q, failed %q", f.skipped, f.failed)
	}
}

// TestFindBin: directories without the three binaries are passed over, with an error that
// names where it looked.
func TestFindBin(t *testing.T) {
	saved := searchDirs
	defer func() { searchDirs = saved }()
	empty := t.TempDir()
	searchDirs = func() []string { return []string{empty} }
	if _, err := findBin(); err == nil || !strings.Contains(err.Error(), "initdb") {
		t.Errorf("empty directory: %v", err)
	}
	if !strings.Contains(strings.Join(saved(), " "), "/usr/local/bin") {
		t.Errorf("default search list %q lacks /usr/local/bin", saved())
	}
}
