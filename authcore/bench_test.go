package authcore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/password"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

// benchEngine is an engine over a bbolt file holding n sessions (of n/10 users), loaded in
// one transaction (D17). It returns the engine and a request carrying one session's cookie.
func benchEngine(b *testing.B, n int, edit func(*authcore.Config), opts ...authcore.Option) (*authcore.Engine, *http.Request) {
	b.Helper()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	cfg := authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret, SweepInterval: -1}
	if edit != nil {
		edit(&cfg)
	}
	clock := authcoretest.NewClock()
	e, err := authcore.New(cfg, append([]authcore.Option{authcore.WithStore(st), authcore.WithClock(clock),
		authcore.WithPasswordHasher(password.NewArgon2id(authcoretest.CheapArgon2(), 0, rand.Reader))}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	ctx := context.Background()
	now := clock.Now()
	var token string
	err = e.Store().Tx(ctx, func(tx storage.Adapter) error {
		users := max(n/10, 1)
		for i := 0; i < users; i++ {
			if _, err := tx.Create(ctx, "user", storage.Record{
				"id": fmt.Sprintf("user%07d", i), "name": "User", "email": fmt.Sprintf("u%d@example.com", i),
				"emailVerified": true, "createdAt": now, "updatedAt": now,
			}); err != nil {
				return err
			}
		}
		for i := 0; i < n; i++ {
			tok := fmt.Sprintf("tok%029d", i)
			if _, err := tx.Create(ctx, "session", storage.Record{
				"id": fmt.Sprintf("sess%07d", i), "token": authcore.HashToken(tok), "userId": fmt.Sprintf("user%07d", i%users),
				"expiresAt": now.Add(7 * 24 * time.Hour), "createdAt": now, "updatedAt": now,
				"ipAddress": "127.0.0.1", "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
			}); err != nil {
				return err
			}
			if i == n/2 {
				token = tok
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:3000/app", nil)
	req.Header.Set("Cookie", "theme=dark; "+e.CookieName(authcore.CookieSessionToken)+"="+cookieEncode(e.Keys().Sign(token)))
	return e, req
}

func cookieEncode(v string) string {
	out := make([]byte, 0, len(v)+8)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '/', '+', '=':
			out = append(out, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// BenchmarkValidateSessionStorage is the uncached gateway check: cookie parse, HMAC
// verify, SHA-256, session lookup by token hash and user lookup by id, in a bbolt store of
// 100 000 sessions.
func BenchmarkValidateSessionStorage(b *testing.B) {
	e, req := benchEngine(b, 100000, func(c *authcore.Config) { c.Session.CacheTTL = -1 })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := e.Authenticate(req)
		if err != nil || p == nil {
			b.Fatalf("authenticate: %v %v", p, err)
		}
	}
}

// BenchmarkValidateSessionStorageMetered is BenchmarkValidateSessionStorage with a metrics
// sink, so every storage call is timed: the overhead of the storage-latency histogram.
func BenchmarkValidateSessionStorageMetered(b *testing.B) {
	e, req := benchEngine(b, 100000, func(c *authcore.Config) { c.Session.CacheTTL = -1 }, authcore.WithMetrics(&countingMetrics{}))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := e.Authenticate(req)
		if err != nil || p == nil {
			b.Fatalf("authenticate: %v %v", p, err)
		}
	}
}

// BenchmarkValidateSessionCached is the same check answered by the in-process cache.
func BenchmarkValidateSessionCached(b *testing.B) { benchCached(b) }

// BenchmarkValidateSessionCachedMetered is the cached check with a metrics sink.
func BenchmarkValidateSessionCachedMetered(b *testing.B) {
	benchCached(b, authcore.WithMetrics(&countingMetrics{}))
}

func benchCached(b *testing.B, opts ...authcore.Option) {
	e, req := benchEngine(b, 100000, nil, opts...)
	if p, err := e.Authenticate(req); err != nil || p == nil {
		b.Fatalf("warm-up: %v %v", p, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := e.Authenticate(req)
		if err != nil || p == nil {
			b.Fatalf("authenticate: %v %v", p, err)
		}
	}
}

// BenchmarkSignIn is a full POST /sign-in/email through the handler with the production
// argon2id parameters: it is dominated by the password hash.
func BenchmarkSignIn(b *testing.B) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "signin.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret,
		SweepInterval: -1, RateLimit: authcore.RateLimitConfig{Disabled: true}}, authcore.WithStore(st))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	h, err := e.HashPassword("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.CreateUser(context.Background(), storage.Record{"name": "A", "email": "a@example.com"}, h); err != nil {
		b.Fatal(err)
	}
	body := `{"email":"a@example.com","password":"correct horse battery"}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "http://localhost:3000/api/auth/sign-in/email", stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := newDiscardWriter()
		e.ServeHTTP(rec, req)
		if rec.status != 200 {
			b.Fatalf("sign-in: %d", rec.status)
		}
	}
}
