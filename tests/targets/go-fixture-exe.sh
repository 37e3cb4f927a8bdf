#!/usr/bin/env bash
# go-fixture-exe.sh BINARY OUT
# Make a small ELF that keeps only BINARY's .go.buildinfo section (plus the ELF header, program
# headers and section string table objcopy always writes): a stand-in for a Go executable in
# fixture trees (tests/fixtures/.../proc/PID/exe), where real binaries (> 1 MiB) must not be
# committed. gsm_go_info_read_fd() finds the blob by section name and reads it by file offset,
# so the result reads exactly like the original (check: the script compares both with
# `go version -m` when go is installed). Typical size: a few KiB.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BINARY OUT" >&2
    exit 2
fi
bin=$1 out=$2
objcopy=${OBJCOPY:-objcopy}

if ! readelf -S -W "$bin" 2>/dev/null | grep -q '\.go\.buildinfo'; then
    echo "$0: $bin has no .go.buildinfo section (not a Go executable, or section headers stripped)" >&2
    exit 1
fi

tmp=$(mktemp "${out}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# objcopy keeps the program headers but shrinks PT_LOADs whose sections were dropped to zero
# file size (and warns about each: "empty loadable segment detected", filtered out here). The
# reader finds the blob by section name and reads it by file offset. Keep the mode executable.
err=$("$objcopy" --only-section=.go.buildinfo "$bin" "$tmp" 2>&1) || { echo "$err" >&2; exit 1; }
grep -v 'empty loadable segment' <<<"$err" >&2 || true
chmod 0755 "$tmp"

if command -v go >/dev/null 2>&1; then
    want=$(go version -m "$bin" 2>/dev/null | head -n 2 | sed 's/^[^:]*: //') || want=
    got=$(go version -m "$tmp" 2>/dev/null | head -n 2 | sed 's/^[^:]*: //') || got=
    if [[ -n $want && -n $got && $want != "$got" ]]; then
        echo "$0: warning: go version -m differs on the fixture: '$got' vs '$want'" >&2
    fi
fi
mv -f "$tmp" "$out"
trap - EXIT
