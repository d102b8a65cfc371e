package betterauth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// fakeSource is a Better Auth database in memory, with values typed as drivers return them.
type fakeSource map[string][]map[string]any

func (f fakeSource) Tables(context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for t, rows := range f {
		cols := []string{"id"}
		for _, r := range rows {
			for c := range r {
				if !slices.Contains(cols, c) {
					cols = append(cols, c)
				}
			}
		}
		slices.Sort(cols)
		out[t] = cols
	}
	return out, nil
}

func (f fakeSource) Rows(_ context.Context, t string, fn func(map[string]any) error) error {
	for _, r := range f[t] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (fakeSource) Close() {}

// TestImportConversions runs without Node or PostgreSQL: SQLite-style values (0/1
// booleans, millisecond dates), "null" JSON, an old userId column on a key, an
// organization-owned key, an upper-case email, a table Gatehouse does not know, and Skip.
func TestImportConversions(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&apikey.Plugin{}, &organization.Plugin{}))
	ms := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC).UnixMilli()
	src := fakeSource{
		"user":         {{"id": "u1", "name": "U", "email": "U@Example.COM", "emailVerified": int64(1), "createdAt": ms, "updatedAt": ms, "legacy": "x"}},
		"session":      {{"id": "s1", "token": "tok", "userId": "u1", "expiresAt": ms, "createdAt": ms, "updatedAt": ms}},
		"organization": {{"id": "o1", "name": "O", "slug": "o", "createdAt": ms, "metadata": nil}},
		"apikey": {
			{"id": "k1", "userId": "u1", "key": "hash1", "enabled": int64(1), "metadata": "null", "permissions": `{"files":["read"]}`, "createdAt": ms, "updatedAt": ms, "rateLimitMax": float64(10)},
			{"id": "k2", "referenceId": "o1", "key": "hash2", "createdAt": ms, "updatedAt": ms},
		},
		"verification":     {{"id": "v1", "identifier": "x", "value": "y"}},
		"oauthApplication": {{"id": "a1"}},
	}
	ctx := context.Background()
	rep, err := Import(ctx, src, h.Engine, Options{Skip: []string{"session"}})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	for _, want := range []string{"not imported: oauthApplication (1 rows): not a table Gatehouse knows", "not imported: session (1 rows): --skip", "legacy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	st := h.Engine.Store()
	u, err := st.FindOne(ctx, authcore.ModelUser, storage.ByID("u1"))
	if err != nil || u.String("email") != "u@example.com" || !u.Bool("emailVerified") || !u.Time("createdAt").Equal(time.UnixMilli(ms)) {
		t.Fatalf("user: %v %v", u, err)
	}
	if n, _ := st.Count(ctx, authcore.ModelSession, storage.Where{}); n != 0 {
		t.Errorf("skipped sessions imported: %d", n)
	}
	k1, err := st.FindOne(ctx, "apikey", storage.ByID("k1"))
	if err != nil || k1.String("referenceId") != "u1" || k1.String("referenceType") != "user" || k1["metadata"] != nil || string(k1.JSON("permissions")) != `{"files":["read"]}` || k1.Int("rateLimitMax") != 10 {
		t.Fatalf("k1: %v %v", k1, err)
	}
	k2, err := st.FindOne(ctx, "apikey", storage.ByID("k2"))
	if err != nil || k2.String("referenceType") != "organization" {
		t.Fatalf("k2: %v %v", k2, err)
	}

	// Bad values are reported with the table, id and column, not stored.
	h2 := authcoretest.New(t)
	bad := fakeSource{"user": {{"id": "u2", "name": "N", "email": "n@example.com", "emailVerified": "maybe"}}}
	if _, err := Import(ctx, bad, h2.Engine, Options{}); err == nil || !strings.Contains(err.Error(), `user "u2": column emailVerified`) {
		t.Fatalf("bad boolean: %v", err)
	}
	if _, err := Import(ctx, fakeSource{"users": nil}, h2.Engine, Options{}); err == nil || !strings.Contains(err.Error(), `no "user" table`) {
		t.Fatalf("no user table: %v", err)
	}
	if _, err := Import(ctx, fakeSource{"user": nil, "apikey": {{"id": "k"}}}, h2.Engine, Options{}); !errors.Is(err, ErrPluginMissing) {
		t.Fatalf("missing plugin: %v", err)
	}
}
