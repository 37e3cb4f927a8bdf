#!/usr/bin/env bash
# Builds the Debian package from debian/ (dpkg-buildpackage -b -us -uc) in a copy of the
# source tree (tracked and new files, not build outputs), so the work tree stays clean and the
# .deb does not land in its parent directory; then runs lintian on it.
#   packaging/build-deb.sh [OUTDIR]     (default build/package)
# Prints the .deb's path on the last line. Exit 1 when the build fails or lintian reports an
# error (E:); warnings are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/package}")
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

src=$work/gsmapper
mkdir -p "$src"
# tar keeps the fixtures' symlinks as symlinks; tracked files deleted in the work tree are
# skipped (--ignore-failed-read).
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
[ -f "$src/debian/control" ] || { echo "build-deb: no debian/control in the copy" >&2; exit 1; }

start=$(date +%s)
(cd "$src" && dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1 || {
  echo "build-deb: dpkg-buildpackage failed (last lines of $out/build.log):" >&2
  tail -n 30 "$out/build.log" >&2
  exit 1
}
echo "build-deb: built in $(( $(date +%s) - start )) s" >&2
rm -f "$out"/gsmapper_*.deb "$out"/gsmapper-dbgsym_*.deb "$out"/gsmapper_*.changes "$out"/gsmapper_*.buildinfo
cp "$work"/gsmapper_*.deb "$work"/gsmapper_*.changes "$work"/gsmapper_*.buildinfo "$out"/
cp "$work"/gsmapper-dbgsym_*.deb "$out"/ 2>/dev/null || true
deb=$(ls "$out"/gsmapper_*.deb | head -n 1)

if command -v lintian >/dev/null 2>&1; then
  # lintian exits non-zero on errors (its default --fail-on error).
  if lintian --info --display-info "$deb" > "$out/lintian.txt" 2>&1; then
    echo "build-deb: lintian: $(grep -c '^E:' "$out/lintian.txt") errors, $(grep -c '^W:' "$out/lintian.txt") warnings, $(grep -c '^I:' "$out/lintian.txt") info" >&2
    grep -E '^(W|E):' "$out/lintian.txt" >&2 || true
  else
    echo "build-deb: lintian reports errors:" >&2
    grep -E '^(E|W):' "$out/lintian.txt" >&2 || cat "$out/lintian.txt" >&2
    exit 1
  fi
else
  echo "build-deb: lintian not installed (scripts/install-deps.sh package)" >&2
fi
echo "$deb"
