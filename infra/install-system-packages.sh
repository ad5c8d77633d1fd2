#!/usr/bin/env bash
# Install the Debian packages Pointcare's tests need, skipping those already installed.
#
#   infra/install-system-packages.sh                 the test and benchmark sets below
#   infra/install-system-packages.sh PKG...          only these packages (e.g. python3-venv)
#   infra/install-system-packages.sh --require ...   fail (exit 1) when something cannot be installed
#
# Root on Debian: `apt-get update` once (only when something is missing), then one `apt-get install`.
# Not root: lists what is missing and how to install it; exits 1 under CI=true or --require,
# otherwise 0 with a warning (tests that need a missing tool then skip locally).
# When everything is present it takes well under a second (one dpkg-query call).
set -euo pipefail

TEST_PACKAGES=(
  orthanc orthanc-dicomweb  # stand-in for the hospital PACS (DICOMweb)
  dicom3tools dcmtk         # independent DICOM validators and tools
  postgresql                # the production database
  chromium chromium-driver  # real browser for the e2e tests
  libturbojpeg0             # lossless JPEG rotation of EXIF-rotated photos (also in production)
  ffmpeg                    # probes, remuxes and transcodes video clips (also in production)
  fonts-dejavu-core         # so pages render text in headless Chromium
  curl openssl              # infra/orthanc.sh polls with curl; infra/fetch-htmx.sh hashes with openssl
)
BENCH_PACKAGES=(
  orthanc-postgresql        # Orthanc's PostgreSQL index: the peer of `make bench`'s search at scale
)

require=false
if [[ "${1:-}" == "--require" ]]; then
  require=true
  shift
fi
case "${CI:-}" in 1 | true | TRUE | True | yes) require=true ;; esac

if (($# > 0)); then
  wanted=("$@")
else
  wanted=("${TEST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}")
  # Node.js + npm fetch htmx. NodeSource's nodejs bundles npm and conflicts with Debian's npm
  # package: asking apt for `npm` there would remove it. So look for the command, not the package.
  if ! command -v npm >/dev/null 2>&1; then
    wanted+=(nodejs npm)
  fi
fi

say() { printf 'system packages: %s\n' "$*" >&2; }

give_up() {
  # $1: message. Fatal when required, a warning otherwise.
  if $require; then
    say "ERROR: $1"
    exit 1
  fi
  say "WARNING: $1"
  exit 0
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  give_up "not a Debian-like system; install the equivalents of: ${wanted[*]}"
fi

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  say "all ${#wanted[@]} present"
  exit 0
fi

if ((EUID != 0)); then
  give_up "missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}"
fi

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
start=$SECONDS
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" </dev/null
say "installed ${#missing[@]} package(s) in $((SECONDS - start)) s"
