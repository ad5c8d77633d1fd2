#!/usr/bin/env bash
# Fetch the pinned OHIF viewer (npm @ohif/app, whose dist/ is a built viewer) into pwa/viewer/,
# which Pointcare serves under /viewer/ (see backend/pointcare/web/viewer.py).
#
#   infra/fetch-viewer.sh [DEST]      default DEST: pwa/viewer
#
# The tarball is checked against the pinned integrity (npm's sha512 SRI) before anything is
# unpacked. The viewer is built to live at the root of a site; the paths it loads its chunks and
# fonts from are moved under /viewer/ here (the only changes made to it), and checked.
# Idempotent: does nothing when DEST already holds the pinned version. Never commit DEST.
# Needs npm, openssl and tar (infra/install-system-packages.sh).
set -euo pipefail

OHIF_VERSION=3.13.2
OHIF_INTEGRITY=sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==
PUBLIC_PATH=/viewer/
CHANGES="webpack-public-path css-urls"
STAMP=.pointcare-viewer

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$repo/pwa/viewer}
pin="$OHIF_VERSION $OHIF_INTEGRITY $PUBLIC_PATH $CHANGES"

say() { printf 'viewer: %s\n' "$*" >&2; }
# shellcheck source=infra/npm-fetch.sh
source "$repo/infra/npm-fetch.sh"

if [[ -f "$dest/$STAMP" ]] && [[ "$(cat "$dest/$STAMP")" == "$pin" ]]; then
  say "OHIF $OHIF_VERSION already in $dest"
  exit 0
fi

require_tools npm openssl tar

tmp=$(mktemp -d "$(dirname "$dest")/.viewer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

say "fetching @ohif/app@$OHIF_VERSION from the npm registry (about 50 MB)"
tarball=$(npm_pack "$tmp" "@ohif/app@$OHIF_VERSION")
check_integrity "@ohif/app@$OHIF_VERSION" "$OHIF_INTEGRITY" "$(sri_of sha512 "$tmp/$tarball")"

# The ONNX runtime (segmentation tools) and the microscopy viewer are not used for photos.
tar -xzf "$tmp/$tarball" -C "$tmp" --no-same-owner \
  --exclude='package/dist/ort' --exclude='package/dist/dicom-microscopy-viewer' package/dist
built="$tmp/package/dist"

# Chunks, workers and codecs are loaded from the public path the build was made with ("/").
patched=0
while IFS= read -r -d '' file; do
  sed -i "s|__webpack_require__.p = \"/\";|__webpack_require__.p = \"$PUBLIC_PATH\";|" "$file"
  patched=$((patched + 1))
done < <(grep -lZ --include='*.js' -r '__webpack_require__.p = "/";' "$built")
if ((patched == 0)) || grep -rqs --include='*.js' '__webpack_require__.p = "/";' "$built"; then
  say "ERROR: could not set the public path of @ohif/app@$OHIF_VERSION (found in $patched files)"
  exit 1
fi
# Fonts named from the root in the style sheets.
while IFS= read -r -d '' file; do
  sed -i "s|url(/\([^/]\)|url($PUBLIC_PATH\1|g" "$file"
done < <(grep -lZ --include='*.css' -r 'url(/[^/]' "$built" || true)
if grep -rqs --include='*.css' 'url(/[^/v]' "$built"; then
  say "ERROR: a style sheet of @ohif/app@$OHIF_VERSION still names a file from the root"
  exit 1
fi

printf '%s\n' "$pin" >"$built/$STAMP"
rm -rf "$dest.old"
if [[ -e "$dest" ]]; then mv "$dest" "$dest.old"; fi
mv "$built" "$dest"
rm -rf "$dest.old"
say "installed OHIF $OHIF_VERSION ($(du -sh "$dest" | cut -f1)) to $dest, public path $PUBLIC_PATH ($patched files)"
