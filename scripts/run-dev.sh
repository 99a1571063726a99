#!/usr/bin/env bash
# Usage: scripts/run-dev.sh [WEB SERVER COMMAND...]
#
# Runs `flask casework scheduler` in the background and a web server in the foreground (by default
# the Flask development server on http://127.0.0.1:5000); stops the scheduler when the web server
# exits or on Ctrl-C. `make serve` passes a gunicorn command instead.
# Skips the scheduler while the app has no `casework scheduler` command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FLASK=(.venv/bin/flask --app wsgi)
if [ $# -eq 0 ]; then
    set -- "${FLASK[@]}" run --host 127.0.0.1 --port 5000 --no-reload
fi

scheduler_pid=
stop_scheduler() {
    if [ -n "$scheduler_pid" ] && kill -0 "$scheduler_pid" 2>/dev/null; then
        echo "run-dev: stopping the scheduler (pid $scheduler_pid)" >&2
        kill -TERM "$scheduler_pid" 2>/dev/null || true
        wait "$scheduler_pid" 2>/dev/null || true
    fi
}
trap stop_scheduler EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Captured first, not piped into grep -q: an early-closing pipe would fail under pipefail.
casework_help=$("${FLASK[@]}" casework --help 2>/dev/null || true)
if grep -qE '^[[:space:]]+scheduler([[:space:]]|$)' <<<"$casework_help"; then
    "${FLASK[@]}" casework scheduler &
    scheduler_pid=$!
    echo "run-dev: scheduler started (pid $scheduler_pid)" >&2
else
    echo "run-dev: the app has no 'flask casework scheduler' command yet; not starting a scheduler" >&2
fi

"$@"
