# Shared by the fetch scripts (sourced, not run): the tools they need, and a package tarball
# from the npm registry, checked against its pinned integrity before anything is unpacked.
# The sourcing script defines say() for its messages.

require_tools() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      say "ERROR: '$tool' is missing; run infra/install-system-packages.sh as root"
      exit 1
    fi
  done
}

# npm_pack DIR SPEC: download SPEC's tarball into DIR and print its file name. `npm pack` of a
# registry spec runs no package scripts; it only downloads the tarball.
npm_pack() {
  (cd "$1" && npm pack --silent --ignore-scripts "$2")
}

# sri_of ALGORITHM FILE: the Subresource Integrity value of FILE (sha384, sha512...).
sri_of() {
  printf '%s-%s' "$1" "$(openssl dgst "-$1" -binary "$2" | openssl base64 -A)"
}

# check_integrity WHAT EXPECTED ACTUAL [STALE]: exit 1, saying both, when they differ (after
# removing STALE, an installed copy that must not stay behind a failed check).
check_integrity() {
  if [[ "$3" != "$2" ]]; then
    if [[ -n "${4:-}" ]]; then rm -rf "$4"; fi
    say "ERROR: integrity mismatch for $1"
    say "  expected $2"
    say "  got      $3"
    exit 1
  fi
}
