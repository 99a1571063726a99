#!/usr/bin/env bash
# Installs the Debian packages casework needs, but only those that are missing.
# Idempotent: when everything is present it only asks dpkg and exits (well under a second).
# Runs apt-get as root directly, otherwise through sudo.
set -euo pipefail

PACKAGES=(
    fonts-noto-cjk                                          # CJK glyphs: PDFs and browser pages
    libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0    # WeasyPrint
    chromium                                                # browser tests (Playwright drives /usr/bin/chromium)
    postgresql                                              # second test pass (scripts/with-postgres.sh)
    redis-server                                            # shared rate limits in the gunicorn tests
    poppler-utils                                           # pdftotext / pdftoppm for PDF checks
    nodejs                                                  # npm installs axe-core for the browser tests
)

installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done
# Debian's nodejs comes without npm; a nodejs that ships its own npm needs no second one.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-system: missing Debian packages: ${missing[*]}" >&2
    echo "install-system: not root and no sudo; install them as root:" >&2
    echo "    apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "install-system: installing ${missing[*]}"
log=$(mktemp "${TMPDIR:-/tmp}/casework-apt.XXXXXX.log")
trap 'rm -f "$log"' EXIT

apt_get() {
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$log" 2>&1 </dev/null
}
if ! apt_get -q update \
    || ! apt_get -q -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        install "${missing[@]}"; then
    echo "install-system: apt-get failed; its output:" >&2
    cat "$log" >&2
    exit 1
fi

still_missing=()
for pkg in "${missing[@]}"; do
    installed "$pkg" || still_missing+=("$pkg")
done
if [ "${#still_missing[@]}" -gt 0 ]; then
    echo "install-system: still not installed after apt-get: ${still_missing[*]}" >&2
    cat "$log" >&2
    exit 1
fi
