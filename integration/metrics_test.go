package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The real binary serves the gatehouse_ series at the admin endpoint's /metrics, with the
// values the requests made here produce.
func TestMetricsEndpoint(t *testing.T) {
	port := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://localhost:%d", port)
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url %[1]s
		storage bbolt gatehouse.db
	}
}
%[1]s {
	gatehouse {
		public /health
	}
	respond "ok"
}
`, base)
	srv := StartServer(t, cf, base+"/health")
	do := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Origin", base)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := do("GET", "/app", ""); s != http.StatusUnauthorized {
		t.Fatalf("/app without a session: %d", s)
	}
	do("GET", "/health", "")
	if s := do("POST", "/api/auth/sign-up/email", `{"name":"A","email":"a@example.com","password":"correct horse battery"}`); s != 200 {
		t.Fatalf("sign-up: %d", s)
	}
	if s := do("POST", "/api/auth/sign-in/email", `{"email":"a@example.com","password":"wrong password here"}`); s != 401 {
		t.Fatalf("wrong password: %d", s)
	}
	resp, err := http.Get("http://" + srv.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	text := string(b)
	for _, want := range []string{
		`gatehouse_sign_ins_total{method="email",result="success"} 1`,
		`gatehouse_sign_ins_total{method="email",result="failure"} 1`,
		`gatehouse_gateway_decisions_total{result="unauthenticated",rule="authenticated"} 1`,
		`gatehouse_gateway_decisions_total{result="forbidden",rule="role"} 0`,
		`gatehouse_api_key_quota_rejections_total 0`,
		"# TYPE gatehouse_active_sessions gauge", // counted by the sweeper at start-up
		`gatehouse_storage_operation_seconds_count{op="create"}`,
		`# TYPE gatehouse_storage_operation_seconds histogram`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// /health: ours and the readiness probe's (however many it made).
	if strings.Contains(text, `gatehouse_gateway_decisions_total{result="allow",rule="public"} 0`) ||
		!strings.Contains(text, `gatehouse_gateway_decisions_total{result="allow",rule="public"} `) {
		t.Error("no public allow decision")
	}
	if t.Failed() {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "gatehouse_") {
				t.Log(l)
			}
		}
	}
}
