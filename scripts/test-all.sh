#!/usr/bin/env bash
# Usage: scripts/test-all.sh [PYTEST ARGS...]      e.g. scripts/test-all.sh -k disclosure
#
# Runs every phase, even after a failure, and exits non-zero if any phase failed:
#   1. the suite without browser tests, on SQLite (CASEWORK_TEST_DATABASE_URL unset), 2 workers
#   2. the same suite on a throwaway PostgreSQL server with a streaming replica (scripts/with-postgres.sh
#      --replica sets both URLs)
#   3. the browser tests (-m browser), on SQLite
#   4. the federation layout (-m deploy: tests/deploy), on PostgreSQL with a replica, Redis and the S3 server
# Extra arguments go to every pytest run. Ends with one line adding up all phases ("total: N passed, ...").
# Expects .venv (make venv) and the system packages (make system); `make test` does both.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTEST=.venv/bin/pytest
if [ ! -x "$PYTEST" ]; then
    echo "test-all: $PYTEST not found; run 'make test' (or 'make venv') first" >&2
    exit 2
fi
unset CASEWORK_TEST_DATABASE_URL  # SQLite unless with-postgres.sh sets it

NO_TESTS=5            # pytest's exit code when no test was collected or all were deselected
EXTRA_ARGS=$#
COLOR=()
[ -t 1 ] && COLOR=(--color=yes)  # output goes through tee below

out=$(mktemp "${TMPDIR:-/tmp}/casework-tests.XXXXXX")
trap 'rm -f "$out"' EXIT

failed_phases=()
ran_tests=0
total_passed=0 total_failed=0 total_skipped=0

header() {
    echo
    echo "======== casework tests: $1 ========"
}

# run_phase CMD...: runs CMD with its output shown and kept in $out; sets $status.
run_phase() {
    "$@" "${COLOR[@]}" 2>&1 | tee "$out"
    status=${PIPESTATUS[0]}
}

# Adds the counts of pytest's closing line ("== 3 failed, 40 passed, 2 skipped in 5.1s ==").
add_counts() {
    local summary n word
    summary=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^=+ .* in [0-9.]+s' | tail -n 1)
    while read -r n word; do
        case $word in
            passed) total_passed=$((total_passed + n)) ;;
            failed | error | errors) total_failed=$((total_failed + n)) ;;
            skipped) total_skipped=$((total_skipped + n)) ;;
        esac
    done < <(grep -oE '[0-9]+ [a-z]+' <<<"$summary")
}

# record PHASE [REASON_WHY_NO_TESTS_IS_FINE]: judges $status of the phase just run.
record() {
    local phase=$1 empty_ok=${2:-}
    add_counts
    if [ "$status" -eq 0 ]; then
        ran_tests=1
    elif [ "$status" -eq "$NO_TESTS" ] && [ -n "$empty_ok" ]; then
        echo "test-all: $phase: no tests ($empty_ok)"
    elif [ "$status" -eq "$NO_TESTS" ] && [ "$EXTRA_ARGS" -gt 0 ]; then
        echo "test-all: $phase: the given arguments select no tests here"
    else
        failed_phases+=("$phase (exit $status)")
        [ "$status" -eq "$NO_TESTS" ] && echo "test-all: $phase: no tests were collected" >&2
    fi
}

has_browser_test_files() {
    [ -n "$(find tests/browser \( -name 'test_*.py' -o -name '*_test.py' \) -print -quit 2>/dev/null)" ]
}

header "1/4 unit and integration tests on SQLite"
run_phase "$PYTEST" -n 2 -m "not browser and not deploy" "$@"
record "SQLite"

header "2/4 unit and integration tests on PostgreSQL"
run_phase scripts/with-postgres.sh --replica "$PYTEST" -n 2 -m "not browser and not deploy" "$@"
record "PostgreSQL"

header "3/4 browser tests (chromium) on SQLite"
run_phase "$PYTEST" -m browser "$@"
if has_browser_test_files; then
    record "browser"
else
    record "browser" "tests/browser has no test files"
fi

header "4/4 the federation layout (two gunicorn, scheduler, replica, Redis, S3) under load"
run_phase scripts/with-postgres.sh --replica "$PYTEST" -m deploy -s "$@"
record "deploy"

echo
if [ "$EXTRA_ARGS" -gt 0 ] && [ "$ran_tests" -eq 0 ] && [ "${#failed_phases[@]}" -eq 0 ]; then
    failed_phases+=("no phase ran a test with the arguments: $*")
fi
if [ "${#failed_phases[@]}" -gt 0 ]; then
    printf -v list '%s; ' "${failed_phases[@]}"
    echo "test-all: FAILED: ${list%; }" >&2
fi
echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
[ "${#failed_phases[@]}" -eq 0 ]
