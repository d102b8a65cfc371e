package authcoretest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// AuditLog captures the engine's audit records as JSON lines (every harness engine logs its
// audit events here), so tests can assert the events and that no secret reached the log.
type AuditLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer for the JSON handler.
func (a *AuditLog) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.Write(p)
}

// Logger returns a logger writing JSON records into the capture.
func (a *AuditLog) Logger() *slog.Logger { return slog.New(slog.NewJSONHandler(a, nil)) }

// Text returns everything logged so far.
func (a *AuditLog) Text() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.String()
}

// Records returns the logged records, decoded, oldest first.
func (a *AuditLog) Records() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(a.Text()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// Of returns the records of one event type.
func (a *AuditLog) Of(typ string) []map[string]any {
	var out []map[string]any
	for _, r := range a.Records() {
		if r["type"] == typ {
			out = append(out, r)
		}
	}
	return out
}

// One returns the only record of an event type, failing the test unless there is exactly
// one.
func (a *AuditLog) One(t testing.TB, typ string) map[string]any {
	t.Helper()
	rs := a.Of(typ)
	if len(rs) != 1 {
		t.Fatalf("audit: %d %q events, want 1; log:\n%s", len(rs), typ, a.Text())
	}
	return rs[0]
}

// Reset forgets what was captured.
func (a *AuditLog) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf.Reset()
}
