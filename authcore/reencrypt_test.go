package authcore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/keyring"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// vaultPlugin declares a model holding ciphertexts the way plugins store them: a whole
// value, one embedded in a JSON document, and a plain field.
type vaultPlugin struct{}

func (vaultPlugin) ID() string { return "test-vault" }
func (vaultPlugin) Register(r *authcore.Registrar) error {
	return r.Model(storage.Model{Name: "vault", Fields: []storage.Field{
		{Name: "secret", Type: storage.TypeString},
		{Name: "config", Type: storage.TypeString},
		{Name: "note", Type: storage.TypeString},
		{Name: "n", Type: storage.TypeNumber},
	}})
}

const (
	oldSecret = "the-old-secret-of-at-least-32-bytes!!"
	newSecret = "the-new-secret-of-at-least-32-bytes!!"
)

func vaultEngine(t *testing.T, st storage.Store, secret string, previous ...string) *authcore.Engine {
	h := authcoretest.New(t, authcoretest.WithPlugins(vaultPlugin{}),
		authcoretest.WithEngineOptions(authcore.WithStore(st)),
		authcoretest.WithConfig(func(c *authcore.Config) { c.Secret, c.PreviousSecrets = secret, previous }))
	return h.Engine
}

func TestReencryptMovesCiphertextsToTheCurrentSecret(t *testing.T) {
	ctx := context.Background()
	st := memory.NewStore()
	old := vaultEngine(t, st, oldSecret)
	const n = 1203 // more than two batches
	for i := range n {
		sec, err := old.Keys().Encrypt(nil, fmt.Appendf(nil, "totp-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := old.Keys().Encrypt(nil, []byte("client-secret"))
		rec := storage.Record{"secret": sec, "config": `{"clientId":"x","clientSecret":"` + cs + `","n":1}`,
			"note": "plain text $gh$ not an envelope", "n": int64(i), "id": fmt.Sprintf("v%05d", i)}
		if _, err := old.Store().Create(ctx, "vault", rec); err != nil {
			t.Fatal(err)
		}
	}

	rotated := vaultEngine(t, st, newSecret, oldSecret)
	rep, err := rotated.Reencrypt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var vault authcore.ReencryptModel
	for _, m := range rep.Models {
		if m.Model == "vault" {
			vault = m
		}
	}
	if vault.Scanned != n || vault.Updated != n || vault.Resealed != 2*n || vault.Undecryptable != 0 || vault.Changed != 0 {
		t.Fatalf("vault report %+v, want %d scanned and updated, %d resealed", vault, n, 2*n)
	}
	if rep.Resealed != 2*n {
		t.Fatalf("total resealed %d", rep.Resealed)
	}

	// The old secret can now be dropped: everything opens with the new one alone.
	onlyNew, err := keyring.New(newSecret)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := rotated.Store().FindMany(ctx, "vault", storage.Query{})
	if err != nil || len(recs) != n {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for _, rec := range recs {
		pt, err := onlyNew.Decrypt(rec.String("secret"))
		if err != nil || string(pt) != fmt.Sprintf("totp-%d", rec["n"]) {
			t.Fatalf("record %v: %q %v", rec["n"], pt, err)
		}
		cfg := rec.String("config")
		env := cfg[strings.Index(cfg, `"clientSecret":"`)+len(`"clientSecret":"`):]
		env = env[:strings.IndexByte(env, '"')]
		if pt, err := onlyNew.Decrypt(env); err != nil || string(pt) != "client-secret" {
			t.Fatalf("embedded secret: %q %v", pt, err)
		}
		if !strings.HasPrefix(cfg, `{"clientId":"x","clientSecret":"$gh$`) || !strings.HasSuffix(cfg, `","n":1}`) {
			t.Fatalf("the JSON around the secret changed: %s", cfg)
		}
		if rec.String("note") != "plain text $gh$ not an envelope" {
			t.Fatalf("plain field changed: %q", rec.String("note"))
		}
	}

	// A second run has nothing to do.
	again, err := rotated.Reencrypt(ctx)
	if err != nil || again.Resealed != 0 || again.Undecryptable != 0 {
		t.Fatalf("second run: %+v %v", again, err)
	}
}

func TestReencryptReportsWhatDoesNotOpen(t *testing.T) {
	ctx := context.Background()
	st := memory.NewStore()
	old := vaultEngine(t, st, oldSecret)
	good, _ := old.Keys().Encrypt(nil, []byte("x"))
	// The same envelope with its last byte changed: it names the old secret but does not
	// authenticate. It is counted and left as it is, never destroyed.
	bad := good[:len(good)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", good[len(good)-1])+1)%16])
	if _, err := old.Store().Create(ctx, "vault", storage.Record{"id": "v1", "secret": bad}); err != nil {
		t.Fatal(err)
	}
	rotated := vaultEngine(t, st, newSecret, oldSecret)
	rep, err := rotated.Reencrypt(ctx)
	if err != nil || rep.Undecryptable != 1 || rep.Resealed != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	recs, _ := rotated.Store().FindMany(ctx, "vault", storage.Query{})
	if len(recs) != 1 || recs[0].String("secret") != bad {
		t.Fatalf("the undecryptable value was changed: %v", recs)
	}
}

func TestReencryptWithoutPreviousSecretsIsANoop(t *testing.T) {
	ctx := context.Background()
	st := memory.NewStore()
	e := vaultEngine(t, st, oldSecret)
	v, _ := e.Keys().Encrypt(nil, []byte("x"))
	if _, err := e.Store().Create(ctx, "vault", storage.Record{"id": "v1", "secret": v}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Reencrypt(ctx)
	if err != nil || rep.Resealed != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	recs, _ := e.Store().FindMany(ctx, "vault", storage.Query{})
	if recs[0].String("secret") != v {
		t.Fatal("a current ciphertext was rewritten")
	}
}
