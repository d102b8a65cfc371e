#!/usr/bin/env bash
# The project's one test command (the README's and .ci/run's). Works on a fresh clone:
# installs the interop tests' npm modules (exact versions from interop/package-lock.json)
# when they are missing or older than the lockfile, then runs every Go test with the race
# detector; integration/interop_test.go drives the official better-auth client from there.
# Extra arguments go to `go test` (e.g. ./test.sh -count=1).
# PostgreSQL tests (storage/postgres, the cluster test) start their own throw-away server
# from the PostgreSQL binaries (/usr/lib/postgresql/*/bin, PATH, or $GATEHOUSE_POSTGRES_BIN)
# and skip without them, unless GATEHOUSE_REQUIRE_POSTGRES=1 (.ci/run sets it).
# GATEHOUSE_SKIP_INTEROP=1 skips the npm install and the interop test.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${GATEHOUSE_SKIP_INTEROP:-}" != 1 ]; then
	if [ ! -d interop/node_modules ] ||
		[ interop/package-lock.json -nt interop/node_modules/.package-lock.json ]; then
		if ! command -v npm >/dev/null; then
			echo "test.sh: npm not found; the interop tests need Node.js 20+ and npm" \
				"(or set GATEHOUSE_SKIP_INTEROP=1)" >&2
			exit 1
		fi
		npm ci --prefix interop --no-audit --no-fund
	fi
fi

go test -race "$@" ./...
