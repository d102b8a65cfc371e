package betterauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/keyring"
	"github.com/gatehouse-auth/gatehouse/storage"
)

var (
	// ErrNotEmpty: the destination already has users and Options.Merge is not set.
	ErrNotEmpty = errors.New("betterauth import: the Gatehouse store already has users")
	// ErrNeedSecret: two-factor rows are encrypted with Better Auth's secret, which is missing
	// or wrong.
	ErrNeedSecret = errors.New("betterauth import: Better Auth's secret is needed to decrypt two-factor secrets")
	// ErrPluginMissing: the source has rows of a table whose Gatehouse plugin the config does
	// not enable.
	ErrPluginMissing = errors.New("betterauth import: the config does not enable the plugin these rows need")
)

// Table maps one Better Auth table to a Gatehouse model.
type Table struct {
	Table  string // Better Auth's default model name
	Model  string // Gatehouse model
	Plugin string // Gatehouse plugin that declares the model ("core" for core models)
}

// Tables is the mapping, in import order. Column names are the same on both sides (Gatehouse
// keeps Better Auth's field names); the exceptions are handled in transform.
var Tables = []Table{
	{"user", authcore.ModelUser, "core"},
	{"account", authcore.ModelAccount, "core"},
	{"session", authcore.ModelSession, "core"},
	{"twoFactor", "twoFactor", "two-factor"},
	{"passkey", "passkey", "passkey"},
	{"organization", "organization", "organization"},
	{"team", "team", "organization (teams)"},
	{"member", "member", "organization"},
	{"teamMember", "teamMember", "organization (teams)"},
	{"invitation", "invitation", "organization"},
	{"organizationRole", "organizationRole", "organization (dynamic access control)"},
	{"apikey", "apikey", "api-key"}, // after users and organizations: see transform
}

// NotImported are Better Auth tables left behind on purpose, with the reason.
var NotImported = map[string]string{
	"verification": "short-lived tokens (email verification, password reset): users ask again",
	"rateLimit":    "rate-limit counters start afresh",
	"jwks":         "the jwt plugin creates its own signing keys; tokens Better Auth issued stay valid only until they expire",
}

// Options configure Import.
type Options struct {
	// Secret is Better Auth's secret (BETTER_AUTH_SECRET), to decrypt two-factor secrets and
	// backup codes. Required when the source has two-factor rows.
	Secret string
	// Merge allows a destination that already has users: records whose id it has are
	// skipped; a user whose email belongs to another Gatehouse user fails the import.
	Merge bool
	// Skip lists Better Auth tables not to import (such as "session").
	Skip []string
	// BatchSize is how many records are written per transaction (default 200).
	BatchSize int
	// Progress, when set, receives a line per table.
	Progress io.Writer
}

// TableReport is the outcome of one table.
type TableReport struct {
	Table    string
	Model    string
	Read     int
	Imported int
	Skipped  int      // already in the destination (Merge)
	Dropped  []string // Better Auth columns with no Gatehouse field (their values are not kept)
}

// Report is the outcome of an Import.
type Report struct {
	Tables []TableReport
	// Ignored lists source tables not imported, with their row counts and why.
	Ignored []string
}

// Print writes the report.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%-18s %-18s %8s %9s %8s  %s\n", "better-auth", "gatehouse", "read", "imported", "skipped", "columns not kept")
	for _, t := range r.Tables {
		fmt.Fprintf(w, "%-18s %-18s %8d %9d %8d  %s\n", t.Table, t.Model, t.Read, t.Imported, t.Skipped, strings.Join(t.Dropped, ","))
	}
	for _, s := range r.Ignored {
		fmt.Fprintf(w, "not imported: %s\n", s)
	}
}

// Import copies a Better Auth database into the engine's store. See the package doc.
func Import(ctx context.Context, src Source, e *authcore.Engine, opts Options) (Report, error) {
	var rep Report
	tables, err := src.Tables(ctx)
	if err != nil {
		return rep, err
	}
	store := e.Store()
	schema := e.Schema()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	if _, ok := tables["user"]; !ok {
		return rep, errors.New("betterauth import: the source has no \"user\" table: is it a Better Auth database (default model names)?")
	}
	if n, err := store.Count(ctx, authcore.ModelUser, storage.Where{}); err != nil {
		return rep, err
	} else if n > 0 && !opts.Merge {
		return rep, fmt.Errorf("%w (%d); pass --merge to add Better Auth's records to them", ErrNotEmpty, n)
	}

	// Refuse early: rows for a plugin the config lacks, two-factor rows without the secret,
	// and (merging) an email that belongs to another user.
	counts := map[string]int{}
	for _, t := range Tables {
		if _, ok := tables[t.Table]; !ok || slices.Contains(opts.Skip, t.Table) {
			continue
		}
		n := 0
		if err := src.Rows(ctx, t.Table, func(map[string]any) error { n++; return nil }); err != nil {
			return rep, err
		}
		counts[t.Table] = n
		if _, ok := schema.Model(t.Model); !ok && n > 0 {
			return rep, fmt.Errorf("%w: %d rows in Better Auth's %q table, and no %q model: enable the %s plugin in the config, or pass --skip %s", ErrPluginMissing, n, t.Table, t.Model, t.Plugin, t.Table)
		}
	}
	var baKeys *keyring.Keyring
	if counts["twoFactor"] > 0 {
		if opts.Secret == "" {
			return rep, fmt.Errorf("%w: pass --better-auth-secret (or set BETTER_AUTH_SECRET), or --skip twoFactor (users then sign in without their second factor: think twice)", ErrNeedSecret)
		}
		if baKeys, err = sourceKeyring(opts.Secret); err != nil {
			return rep, err
		}
		// Check the secret on every row before writing anything.
		err := src.Rows(ctx, "twoFactor", func(row map[string]any) error {
			if _, err := baKeys.Decrypt(asString(row["secret"])); err != nil {
				return fmt.Errorf("%w: the two-factor secret of user %s does not decrypt with the secret given (%v)", ErrNeedSecret, asString(row["userId"]), err)
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	if opts.Merge {
		err := src.Rows(ctx, "user", func(row map[string]any) error {
			email := strings.ToLower(asString(row["email"]))
			u, err := store.FindOne(ctx, authcore.ModelUser, storage.Eq("email", email))
			if err == nil && u.ID() != asString(row["id"]) {
				return fmt.Errorf("betterauth import: %s is already a Gatehouse user (id %s) and a Better Auth user (id %s): merge accounts of one person is not supported; remove one of them first", email, u.ID(), asString(row["id"]))
			}
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}

	now := e.Clock().Now()
	for _, t := range Tables {
		cols, ok := tables[t.Table]
		if !ok || slices.Contains(opts.Skip, t.Table) {
			continue
		}
		m, ok := schema.Model(t.Model)
		if !ok {
			continue // no rows (checked above)
		}
		tr := TableReport{Table: t.Table, Model: t.Model}
		for _, c := range cols {
			if _, ok := m.Field(c); !ok && !renamed(t.Table, c) {
				tr.Dropped = append(tr.Dropped, c)
			}
		}
		var batch []storage.Record
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			imported, skipped := 0, 0
			err := store.Tx(ctx, func(tx storage.Adapter) error {
				imported, skipped = 0, 0
				for _, r := range batch {
					_, err := tx.Create(ctx, t.Model, r)
					if err == nil {
						imported++
						continue
					}
					if opts.Merge && errors.Is(err, storage.ErrDuplicate) {
						if _, ferr := tx.FindOne(ctx, t.Model, storage.ByID(r.ID())); ferr == nil {
							skipped++
							continue
						}
					}
					return fmt.Errorf("betterauth import: %s %q: %w", t.Table, r.ID(), err)
				}
				return nil
			})
			if err != nil {
				return err
			}
			tr.Imported += imported
			tr.Skipped += skipped
			batch = batch[:0]
			return nil
		}
		err := src.Rows(ctx, t.Table, func(row map[string]any) error {
			tr.Read++
			rec, err := convert(m, t.Table, row, now)
			if err != nil {
				return err
			}
			if err := transform(ctx, e, baKeys, t.Table, row, rec); err != nil {
				return err
			}
			batch = append(batch, rec)
			if len(batch) >= opts.BatchSize {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		rep.Tables = append(rep.Tables, tr)
		if err != nil {
			return rep, err
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "imported %s → %s: %d of %d\n", t.Table, t.Model, tr.Imported, tr.Read)
		}
	}
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		known := slices.ContainsFunc(Tables, func(t Table) bool { return t.Table == name })
		if known && !slices.Contains(opts.Skip, name) {
			continue
		}
		n := 0
		if err := src.Rows(ctx, name, func(map[string]any) error { n++; return nil }); err != nil {
			n = -1
		}
		why := NotImported[name]
		switch {
		case slices.Contains(opts.Skip, name):
			why = "--skip"
		case why == "":
			why = "not a table Gatehouse knows"
		}
		rep.Ignored = append(rep.Ignored, fmt.Sprintf("%s (%d rows): %s", name, n, why))
	}
	return rep, nil
}

// sourceKeyring decrypts with Better Auth's secret. Better Auth accepts secrets shorter than
// Gatehouse's minimum, so it is given as a previous secret behind a random current one.
func sourceKeyring(secret string) (*keyring.Keyring, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return keyring.New(hex.EncodeToString(b), secret)
}

// renamed reports a Better Auth column that transform maps to another field.
func renamed(table, col string) bool {
	return table == "apikey" && col == "userId"
}

// convert maps a row onto the model's fields by name, converting types. Columns without a
// field are left out; NULLs are unset; missing timestamps are filled in.
func convert(m *storage.Model, table string, row map[string]any, now time.Time) (storage.Record, error) {
	rec := storage.Record{"id": asString(row["id"])}
	if rec.ID() == "" {
		return nil, fmt.Errorf("betterauth import: %s: a row without an id", table)
	}
	for col, v := range row {
		f, ok := m.Field(col)
		if !ok || col == "id" || v == nil {
			continue
		}
		cv, err := convertValue(f.Type, v)
		if err != nil {
			return nil, fmt.Errorf("betterauth import: %s %q: column %s: %w", table, rec.ID(), col, err)
		}
		if cv != nil {
			rec[col] = cv
		}
	}
	if f, ok := m.Field("createdAt"); ok && f.Type == storage.TypeDate && rec["createdAt"] == nil {
		rec["createdAt"] = now
	}
	if f, ok := m.Field("updatedAt"); ok && f.Type == storage.TypeDate && f.Required && rec["updatedAt"] == nil {
		rec["updatedAt"] = rec["createdAt"]
	}
	return rec, nil
}

func convertValue(t storage.FieldType, v any) (any, error) {
	switch t {
	case storage.TypeString:
		return asString(v), nil
	case storage.TypeNumber:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int:
			return int64(x), nil
		case float64:
			if x != math.Trunc(x) {
				return nil, fmt.Errorf("%v is not an integer", x)
			}
			return int64(x), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case storage.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			return strconv.ParseBool(x)
		}
	case storage.TypeDate:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case int64: // SQLite stores milliseconds
			return time.UnixMilli(x).UTC(), nil
		case string:
			return time.Parse(time.RFC3339Nano, x)
		}
	case storage.TypeJSON:
		var raw []byte
		switch x := v.(type) {
		case string:
			raw = []byte(x)
		case []byte:
			raw = x
		default:
			return v, nil // pgx decoded json/jsonb
		}
		if s := strings.TrimSpace(string(raw)); s == "" || s == "null" {
			return nil, nil
		}
		if !json.Valid(raw) {
			return nil, errors.New("not JSON")
		}
		return json.RawMessage(raw), nil
	case storage.TypeStringList:
		if s, ok := v.(string); ok {
			return strings.Split(s, ","), nil
		}
		if l, ok := v.([]any); ok {
			out := make([]string, len(l))
			for i, e := range l {
				out[i] = asString(e)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("cannot store a %T in a %s field", v, t)
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(x)
	}
}

// transform applies what differs between the two stores beyond names and types.
func transform(ctx context.Context, e *authcore.Engine, baKeys *keyring.Keyring, table string, row map[string]any, rec storage.Record) error {
	switch table {
	case "user":
		// Better Auth stores emails lower-case already; an adapter that did not is fixed here.
		rec["email"] = strings.ToLower(asString(row["email"]))
	case "session":
		// Gatehouse stores SHA-256 of session tokens (D3), never the token.
		rec["token"] = authcore.HashToken(asString(row["token"]))
	case "apikey":
		// Before the referenceId column (api-key < 1.5) keys had a userId.
		if rec["referenceId"] == nil && row["userId"] != nil {
			rec["referenceId"] = asString(row["userId"])
		}
		// key is Better Auth's defaultKeyHasher output, Gatehouse's too: kept as it is.
		// Better Auth keeps the owner's kind in its configuration (references), Gatehouse in
		// referenceType: a key whose referenceId is an imported organization's id (and no
		// user's) belongs to that organization.
		if _, ok := e.Schema().Model("organization"); ok && rec["referenceType"] == nil {
			ref := asString(rec["referenceId"])
			if _, err := e.Store().FindOne(ctx, authcore.ModelUser, storage.ByID(ref)); errors.Is(err, storage.ErrNotFound) {
				if _, err := e.Store().FindOne(ctx, "organization", storage.ByID(ref)); err == nil {
					rec["referenceType"] = "organization"
				}
			}
		}
	case "twoFactor":
		for _, f := range []string{"secret", "backupCodes"} {
			s := asString(row[f])
			if s == "" {
				continue
			}
			plain, err := baKeys.Decrypt(s)
			if err != nil {
				return fmt.Errorf("%w: twoFactor %q: %s does not decrypt with it: %v", ErrNeedSecret, rec.ID(), f, err)
			}
			enc, err := e.Keys().Encrypt(e.Random().Reader(), plain)
			if err != nil {
				return err
			}
			rec[f] = enc
		}
	}
	return nil
}
