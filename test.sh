#!/usr/bin/env bash
# The project's one test command (the README's and .ci/run's). Works on a fresh clone:
# installs the npm modules of the interop tests (interop/: the official better-auth client,
# driven by integration/interop_test.go) and of the Better Auth import test
# (interop/importer/: Better Auth itself builds the database that `gatehouse import
# better-auth` reads), exact versions from their lockfiles, when they are missing or older
# than the lockfile; then runs every Go test with the race detector. The integration
# package (real binaries, Chromium, Node) takes several minutes, more than go test's
# default 10-minute limit on a loaded 2-core machine, hence -timeout.
# Extra arguments go to `go test` (e.g. ./test.sh -count=1).
# PostgreSQL tests (storage/postgres, the cluster test) start their own throw-away server
# from the PostgreSQL binaries (/usr/lib/postgresql/*/bin, PATH, or $GATEHOUSE_POSTGRES_BIN)
# and skip without them, unless GATEHOUSE_REQUIRE_POSTGRES=1 (.ci/run sets it).
# GATEHOUSE_SKIP_INTEROP=1 skips the npm install and the interop test.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${GATEHOUSE_SKIP_INTEROP:-}" != 1 ]; then
	for dir in interop interop/importer; do
		if [ ! -d "$dir/node_modules" ] ||
			[ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
			if ! command -v npm >/dev/null; then
				echo "test.sh: npm not found; the interop tests need Node.js 20+ and npm" \
					"(or set GATEHOUSE_SKIP_INTEROP=1)" >&2
				exit 1
			fi
			npm ci --prefix "$dir" --no-audit --no-fund
		fi
	done
fi

go test -race -timeout 30m "$@" ./...
