// Package postgres is the [storage.Adapter] over PostgreSQL (pgx v5, pgxpool), for
// deployments that run several Gatehouse nodes against one database.
//
// Open a [Store] once per process with [Open] (a DSN and pool [Options]) and bind schemas to
// it with [Store.Bind], as with bbolt. It passes the same conformance suite (storagetest).
//
// # Layout
//
// Every model is one table named after the model, with a bytea primary key "id" and one
// typed column per field, named "<field>:<type>":
//
//	string   → bytea        (any bytes: NUL and invalid UTF-8 included; byte order sorts)
//	number   → bigint
//	boolean  → boolean
//	date     → timestamptz  (microseconds, returned in UTC)
//	json     → text         (the compact JSON exactly as given; cast to jsonb to query it)
//	string[] → bytea[]
//
// Typed columns (rather than one JSONB document) give real unique indexes, btree indexes and
// range queries, exact round trips of every Go value, and cheap schema evolution: a new
// field is ALTER TABLE … ADD COLUMN (no rewrite); a field a plugin no longer declares keeps
// its column and data, unread and unwritten, until the plugin is back; a field whose type
// changes gets a new column (the type is part of the name), so values of the old type are
// invisible but kept, and come back with the old type, unless the field was written
// meanwhile (a write clears the columns of the field's other types). Strings are bytea
// because storage ids and values are arbitrary Go strings (PostgreSQL's text refuses NUL and
// invalid UTF-8); use convert_from(col, 'UTF8') to read them in psql.
//
// Indexes: a unique index (named "<model>_<fields>_<hash>_u") per unique field and per
// composite unique set — PostgreSQL's NULLs-distinct rule is exactly the contract's "unset
// values are not compared" — and a btree index ("…_i") per indexed or reference field. A
// violation maps to a *storage.ConstraintError wrapping storage.ErrDuplicate. Btree keys are
// limited to about 2.7 kB: a longer value in an indexed or unique field fails with
// storage.ErrInvalidValue (hash tokens, do not index free text).
//
// # Migrations
//
// Bind derives the DDL from the schema (CREATE TABLE / ADD COLUMN / CREATE INDEX, all IF NOT
// EXISTS) and fingerprints it. If the last row of the gatehouse_schema table has that
// fingerprint, binding costs one query. Otherwise, in one transaction holding
// pg_advisory_xact_lock (nodes starting together queue; the later ones find the work done)
// and without the statement timeout, it runs the statements and records a new version row
// with the fingerprint and the statements applied. DDL is transactional in PostgreSQL: a
// unique index that stored duplicates break fails the bind with ErrDuplicate naming the
// model and fields, and changes nothing. Columns are never dropped. An index Gatehouse
// created is dropped when the schema knows every column it covers but no longer declares it
// (a plugin relaxed a unique constraint or an index); one over a column the schema does not
// know (a plugin switched off, a field's earlier type) is kept, so a node still running with
// the plugin keeps its unique guarantee during a rolling change.
//
// A model declared Ephemeral (storage.Model.Ephemeral: the rate limiter's counters) is an
// UNLOGGED table: its writes skip the write-ahead log, and a transaction that wrote only
// unlogged tables commits without waiting for a WAL flush, so a write to it costs no disk
// flush — for a per-request counter, the difference between the disk's flush rate and the
// CPU's. PostgreSQL empties such a table after a crash (not after a clean shutdown) and does
// not copy it to streaming replicas (after a failover it starts empty). The flag is part of
// the fingerprint; when it changes on an existing table the migration runs ALTER TABLE … SET
// UNLOGGED or SET LOGGED (a rewrite of the table).
//
// # Atomicity
//
// Single operations are single statements in autocommit (READ COMMITTED), atomic in SQL:
// Update, IncrementOne and ConsumeOne pick their row with "id = (SELECT id … ORDER BY id
// LIMIT 1 FOR UPDATE)" and then UPDATE … RETURNING / DELETE … RETURNING. Concurrent callers
// queue on the row lock; PostgreSQL re-checks the filter on the latest row version, so a
// bound in where ("count lt 5") holds and a consumed token is gone for the others. FOR
// UPDATE rather than SKIP LOCKED: SKIP LOCKED would answer "not found" for a token whose row
// is merely locked by an unrelated writer (an attempt counter being bumped). UpdateMany is
// one statement, so a unique violation changes nothing. Deletes of models that others
// reference apply the schema's on-delete rules in the same transaction (cascade recursively,
// then restrict — checked once every cascade is known, like NO ACTION — then set null);
// references are schema-level, not foreign keys, because a record may reference one that
// does not exist yet. The flip side: a record created concurrently with the delete of the
// record it references can survive it, dangling, as bolt's single writer would not allow;
// the contract already allows dangling references (storagetest creates one), so readers
// must cope with them anyway.
//
// Tx runs SERIALIZABLE: read-modify-write functions lose no update and see no write skew.
// When PostgreSQL aborts a transaction for a conflict (40001) or a deadlock (40P01), Tx rolls
// back and runs fn again (Options.TxAttempts, default 30, with jittered back-off): fn must
// change state only through its tx adapter, which is how Gatehouse uses it. Inside a Tx
// every write runs in a savepoint, so a failed operation (a duplicate, a restricted delete)
// leaves nothing behind and the transaction carries on. View runs REPEATABLE READ READ ONLY:
// one snapshot that concurrent commits do not change; writes are refused with
// storage.ErrReadOnly before they reach the server.
//
// Every value is a bind parameter with an explicit cast; identifiers are quoted. A cancelled
// context is refused before the connection is touched.
package postgres
