package apikey_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
)

// keyMetrics counts the api-key plugin's refusals reported through Engine.Metrics.
type keyMetrics struct {
	authcore.NopMetrics
	quota, limited atomic.Int64
}

func (m *keyMetrics) APIKeyQuotaRejected() { m.quota.Add(1) }
func (m *keyMetrics) RateLimited(scope string) {
	if scope == "api_key" {
		m.limited.Add(1)
	}
}

// Every request refused for a spent quota is counted once, and only those (not the ones
// that passed); a per-key rate-limit refusal is counted under scope api_key, not as quota.
func TestMetricsQuotaAndRateLimit(t *testing.T) {
	m := &keyMetrics{}
	h := newHarness(t, &apikey.Plugin{}, authcoretest.WithEngineOptions(authcore.WithMetrics(m)))
	_, u := h.SignUp("A", "a@example.com", pw)
	k, err := admin(t, h).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(2))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_, err := h.Engine.Authenticate(gwReq(k["key"].(string)))
		if (i < 2) != (err == nil) {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if m.quota.Load() != 3 || m.limited.Load() != 0 {
		t.Fatalf("quota rejections %d, rate-limited %d; want 3, 0", m.quota.Load(), m.limited.Load())
	}

	rl, err := admin(t, h).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u),
		RateLimitEnabled: ptr(true), RateLimitTimeWindow: ptr(time.Minute), RateLimitMax: ptr(int64(1))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.Engine.Authenticate(gwReq(rl["key"].(string)))
	}
	if m.quota.Load() != 3 || m.limited.Load() != 2 {
		t.Fatalf("quota rejections %d, rate-limited %d; want 3, 2", m.quota.Load(), m.limited.Load())
	}
}
