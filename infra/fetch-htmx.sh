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

sri_of() {
  printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"
}

if [[ -f "$dest" ]] && [[ "$(sri_of "$dest")" == "$HTMX_SRI" ]]; then
  say "$HTMX_VERSION already in $dest"
  exit 0
fi

for tool in npm openssl tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "ERROR: '$tool' is missing; run infra/install-system-packages.sh as root"
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say "fetching htmx.org@$HTMX_VERSION from the npm registry"
# `npm pack` of a registry spec runs no package scripts; it only downloads the tarball.
tarball=$(cd "$tmp" && npm pack --silent --ignore-scripts "htmx.org@$HTMX_VERSION")
tar -xzf "$tmp/$tarball" -C "$tmp" package/dist/htmx.min.js
fetched="$tmp/package/dist/htmx.min.js"

actual=$(sri_of "$fetched")
if [[ "$actual" != "$HTMX_SRI" ]]; then
  rm -f "$dest"
  say "ERROR: integrity mismatch for htmx.org@$HTMX_VERSION"
  say "  expected $HTMX_SRI"
  say "  got      $actual"
  exit 1
fi

mkdir -p "$(dirname "$dest")"
# Copy beside the destination, then rename: a reader never sees a half-written file.
install -m 0644 "$fetched" "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
say "installed $HTMX_VERSION ($(wc -c <"$dest") bytes) to $dest"
