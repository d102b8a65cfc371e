#!/usr/bin/env bash
# Soak: integration.TestSoak (integration/soak_test.go) for several minutes against the real
# binary, without -race so the figures mean something. See bench/README.md ("Soak").
#
# Knobs (environment): SOAK (5m: the whole run, warm-up of 15 s included), REPORT (where the
# JSON report goes; default soak-report.json in the current directory).
set -euo pipefail

SOAK=${SOAK:-5m}
REPORT=${REPORT:-$PWD/soak-report.json}
repo=$(cd "$(dirname "$0")/.." && pwd)

echo "soak: $SOAK, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'), report: $REPORT"
cd "$repo"
# The server's own JSON log lines are left out; the test's figures and any failure stay.
set +e
GATEHOUSE_SOAK=$SOAK GATEHOUSE_SOAK_REPORT=$REPORT \
	go test -run '^TestSoak$' -count=1 -v -timeout 60m ./integration/ 2>&1 | grep -v '^ *{"level"'
status=${PIPESTATUS[0]}
set -e
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
exit "$status"
