#!/usr/bin/env bash
# Gateway benchmark: plain Caddy reverse_proxy vs the gatehouse-protected proxy (valid
# session cookie), same binary, same config, same load settings, interleaved rounds.
# See bench/README.md. Only loopback is used; the server this script starts is stopped by
# its PID on exit.
#
# Knobs (environment): SCENARIOS ("session bearer apikey": which credential the protected
# side gets — the session cookie; the same session as Authorization: Bearer (bearer plugin);
# an API key with a per-key rate limit and a quota, both far above what a run uses, so that
# their accounting is measured, never their refusals), ROUNDS (5), CONC (64), DURATION (5s), WARMUP (1s),
# PLAIN_COOKIE (1: the plain side gets the same Cookie header; 0: protected side only),
# PROFILE=1 (one extra round per side with a server CPU profile, printed with pprof -top),
# KEEP=1 (keep the work directory: binary, config, server log, profiles),
# STORAGES ("bbolt": the gatehouse store of each run; "bbolt postgres" runs every scenario on
# both, one server each, and ends with the PostgreSQL/bbolt ratios; postgres starts a
# throw-away PostgreSQL server in the work directory from /usr/lib/postgresql/*/bin or
# $GATEHOUSE_POSTGRES_BIN, unless GH_BENCH_DSN names an existing database), LEASE_SIZE (the
# api_key lease_size; 0, the default, keeps the plugin's: 100 on bbolt, 1 — exact — on
# postgres), PG_OPTS (extra server settings for the throw-away PostgreSQL, e.g.
# "-c synchronous_commit=off").
set -euo pipefail

STORAGES=${STORAGES:-bbolt}
# LEASE_SIZE: the api_key plugin's lease_size (0: its default, 100 on bbolt, 1 on postgres).
export GH_BENCH_LEASE_SIZE=${LEASE_SIZE:-0}

SCENARIOS=${SCENARIOS:-session bearer apikey}
ROUNDS=${ROUNDS:-5}
CONC=${CONC:-64}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
PLAIN_COOKIE=${PLAIN_COOKIE:-1}
PROFILE=${PROFILE:-0}
KEEP=${KEEP:-0}

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
pid=""
pgdata=""
pgbin=""

stop_server() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=""
}

# as_pg runs a PostgreSQL binary, as "nobody" when this script runs as root (initdb and
# postgres refuse root).
as_pg() {
	if [[ "$(id -u)" == 0 ]]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

# start_postgres starts a throw-away server in $work/pg on a free port and sets GH_BENCH_DSN.
# Default durability settings (fsync on), like bbolt's.
start_postgres() {
	pgbin=${GATEHOUSE_POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
	if [[ -z "$pgbin" || ! -x "$pgbin/initdb" ]]; then
		echo "STORAGES=postgres: no PostgreSQL binaries (install the postgresql package or set GATEHOUSE_POSTGRES_BIN)" >&2
		exit 1
	fi
	local port
	port=$("$work/load" ports 1)
	mkdir -p "$work/pg"
	if [[ "$(id -u)" == 0 ]]; then
		chmod 711 "$work"
		chown nobody "$work/pg"
	fi
	pgdata="$work/pg/data"
	as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U gatehouse -E UTF8 >"$work/pg/initdb.log" 2>&1
	as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$work/pg/server.log" -w -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTS:-}" start >/dev/null
	export GH_BENCH_DSN="postgres://gatehouse@127.0.0.1:$port/postgres?sslmode=disable"
}

cleanup() {
	stop_server
	if [[ -n "$pgdata" ]]; then
		as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
	fi
	if [[ "$KEEP" == 1 ]]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

echo "building gatehouse and the load generator into $work ..."
(cd "$repo" && go build -o "$work/gatehouse" ./cmd/gatehouse && go build -o "$work/load" ./bench/load)

mapfile -t ports < <("$work/load" ports 4)
export GH_PLAIN_PORT=${ports[0]} GH_PROTECTED_PORT=${ports[1]} GH_UPSTREAM_PORT=${ports[2]} GH_ADMIN_PORT=${ports[3]}
export GH_BENCH_DIR="$work"
GH_BENCH_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export GH_BENCH_SECRET

# Keep the server's Caddy state (autosave, data directory) inside the work directory.
export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"

# run_storage starts the server on one storage backend and runs every scenario against it.
run_storage() {
	local storage=$1
	case "$storage" in
	bbolt)
		export GH_BENCH_BACKEND=bbolt GH_BENCH_STORE="$work/gatehouse.db"
		;;
	postgres)
		if [[ -z "${GH_BENCH_DSN:-}" ]]; then
			start_postgres
		fi
		export GH_BENCH_BACKEND=postgres GH_BENCH_STORE="$GH_BENCH_DSN"
		;;
	*)
		echo "unknown storage $storage (bbolt, postgres)" >&2
		exit 2
		;;
	esac
	"$work/gatehouse" run --config "$repo/bench/Caddyfile" --adapter caddyfile >"$work/server-$storage.log" 2>&1 &
	pid=$!

	plain="http://127.0.0.1:$GH_PLAIN_PORT/"
	protected="http://127.0.0.1:$GH_PROTECTED_PORT/"
	if ! "$work/load" wait "$plain" 60s || ! "$work/load" wait "$protected" 10s; then
		echo "server did not come up; its log:" >&2
		cat "$work/server-$storage.log" >&2
		exit 1
	fi

	echo "gatehouse $("$work/gatehouse" version 2>/dev/null | head -1 || true), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
	for scenario in $SCENARIOS; do
		# One user, one sign-in through the auth API: every protected request carries this
		# credential (the same byte-identical request goes to the plain side too).
		args=(bench -plain "$plain" -protected "$protected"
			-rounds "$ROUNDS" -c "$CONC" -d "$DURATION" -warmup "$WARMUP" -pid "$pid")
		case "$scenario" in
		session)
			args+=(-cookie "$("$work/load" session -base "http://127.0.0.1:$GH_PROTECTED_PORT")")
			;;
		bearer)
			args+=(-H "$("$work/load" session -print bearer -base "http://127.0.0.1:$GH_PROTECTED_PORT")")
			;;
		apikey)
			"$work/load" session -base "http://127.0.0.1:$GH_PROTECTED_PORT" >/dev/null # the key's owner
			created=$("$work/gatehouse" apikey create --user bench@example.com --name bench \
				--remaining 1000000000 --rate-limit 1000000000/1s --json --address "127.0.0.1:$GH_ADMIN_PORT")
			key=$(printf '%s' "$created" | grep -o '"key": *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
			if [[ -z "$key" ]]; then
				echo "could not create the bench API key: $created" >&2
				exit 1
			fi
			args+=(-H "X-Api-Key: $key" -target 0.85)
			;;
		*)
			echo "unknown scenario $scenario (session, bearer, apikey)" >&2
			exit 2
			;;
		esac
		if [[ "$PLAIN_COOKIE" == 0 ]]; then
			args+=(-cookie-plain=false)
		fi
		if [[ "$PROFILE" == 1 ]]; then
			args+=(-profile-url "http://127.0.0.1:$GH_ADMIN_PORT/debug/pprof/profile" -profile-dir "$work")
		fi
		echo
		echo "=== scenario: $scenario, storage $storage ==="
		"$work/load" "${args[@]}" | tee "$work/result-$storage-$scenario.txt" || status=$?
	done
	stop_server
}

status=0
for storage in $STORAGES; do
	echo
	echo "##### storage: $storage #####"
	run_storage "$storage"
done

# With several storages: the protected side's medians of each next to bbolt's.
if [[ "$STORAGES" == *bbolt* && "$STORAGES" == *postgres* ]]; then
	echo
	echo "== PostgreSQL vs bbolt, protected side (medians; each against its own plain side) =="
	for scenario in $SCENARIOS; do
		b=$(grep -m1 '^  req/s' "$work/result-bbolt-$scenario.txt" 2>/dev/null | sed -E 's/.*protected ([0-9.]+).*/\1/')
		p=$(grep -m1 '^  req/s' "$work/result-postgres-$scenario.txt" 2>/dev/null | sed -E 's/.*protected ([0-9.]+).*/\1/')
		rb=$(grep -m1 '^throughput ratio' "$work/result-bbolt-$scenario.txt" 2>/dev/null | sed -E 's/.*plain: ([0-9.]+).*/\1/')
		rp=$(grep -m1 '^throughput ratio' "$work/result-postgres-$scenario.txt" 2>/dev/null | sed -E 's/.*plain: ([0-9.]+).*/\1/')
		if [[ -n "$b" && -n "$p" ]]; then
			printf '  %-8s req/s bbolt %s, postgres %s: postgres/bbolt %s;  protected/plain: bbolt %s, postgres %s\n' \
				"$scenario" "$b" "$p" "$(awk -v a="$p" -v b="$b" 'BEGIN { printf "%.3f", a / b }')" "$rb" "$rp"
		fi
	done
fi

if [[ "$PROFILE" == 1 && -f "$work/protected.pprof" ]]; then
	echo
	echo "== server CPU, protected round: where the time goes (cumulative) =="
	go tool pprof -top -cum -nodecount=30 "$work/gatehouse" "$work/protected.pprof" 2>/dev/null | sed -n '4,40p'
	echo
	echo "== server CPU inside the gatehouse handler itself (reverse_proxy and the response excluded) =="
	go tool pprof -top -cum -nodecount=30 -focus 'caddymodule\.\(\*Handler\)\.ServeHTTP' -ignore 'reverseproxy|guardWriter' \
		"$work/gatehouse" "$work/protected.pprof" 2>/dev/null | sed -n '4,45p'
	echo "(the handler's cum% above x the profiled protected round's server CPU per request = its own CPU per request)"
fi

if cat "$work"/server-*.log | grep -qi '"level":"error"'; then
	echo
	echo "server logged errors:" >&2
	cat "$work"/server-*.log | grep -i '"level":"error"' | head -20 >&2
	status=1
fi
exit "$status"
