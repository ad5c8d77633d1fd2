#!/usr/bin/env bash
# Fetch the pinned htmx from the npm registry into pwa/static/vendor/ (served when
# POINTCARE_HTMX_SRC=local), after checking it against the pinned SRI hash.
#
#   infra/fetch-htmx.sh [DEST]      default DEST: pwa/static/vendor/htmx.min.js
#
# Idempotent: does nothing when DEST already has the pinned hash. On a hash mismatch it
# removes DEST and exits 1. Needs npm and openssl (infra/install-system-packages.sh).
set -euo pipefail

# The pin. The Python code holds the same two values (for the CDN <script integrity=...>):
# change them together.
HTMX_VERSION=2.0.11
HTMX_SRI=sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$repo/pwa/static/vendor/htmx.min.js}

say() { printf 'htmx: %s\n' "$*" >&2; }

# shellcheck source=infra/npm-fetch.sh
source "$repo/infra/npm-fetch.sh"

if [[ -f "$dest" ]] && [[ "$(sri_of sha384 "$dest")" == "$HTMX_SRI" ]]; then
  say "$HTMX_VERSION already in $dest"
  exit 0
fi

require_tools npm openssl tar

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say "fetching htmx.org@$HTMX_VERSION from the npm registry"
tarball=$(npm_pack "$tmp" "htmx.org@$HTMX_VERSION")
tar -xzf "$tmp/$tarball" -C "$tmp" package/dist/htmx.min.js
fetched="$tmp/package/dist/htmx.min.js"

check_integrity "htmx.org@$HTMX_VERSION" "$HTMX_SRI" "$(sri_of sha384 "$fetched")" "$dest"

mkdir -p "$(dirname "$dest")"
# Copy beside the destination, then rename: a reader never sees a half-written file.
install -m 0644 "$fetched" "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
say "installed $HTMX_VERSION ($(wc -c <"$dest") bytes) to $dest"
