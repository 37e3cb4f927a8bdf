#!/usr/bin/env bash
# Build the Go test targets into OUTDIR (default build/targets):
#   memshape            CGO_ENABLED=0, static, non-PIE
#   memshape-stripped   CGO_ENABLED=0, -ldflags='-s -w' (no symbols; .go.buildinfo survives)
#   memshape-pie        CGO_ENABLED=0, -buildmode=pie (internally linked PIE on linux/amd64)
#   memshape-cgo        CGO_ENABLED=1 (memshape/cgo.go has //go:build cgo and imports "C")
# and next to each binary, BINARY.gover: the output of `go version -m BINARY`, which the C unit
# tests compare gsm_go_info_read_fd() against without running go themselves.
#
# Offline: the module (tests/targets/go/go.mod) has no dependencies, GOPROXY=off and
# GOFLAGS=-mod=mod keep go from reaching the network. Caches live under OUTDIR.
# Idempotent: a variant is rebuilt only when a source is newer than the binary.
# Exits 0 with a message (and builds nothing) when go is not installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/go"
out=${1:-build/targets}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v go >/dev/null 2>&1; then
    echo "build-go.sh: go not found; Go targets not built" >&2
    exit 0
fi

export GOCACHE="$out/.gocache" GOPATH="$out/.gopath" GOPROXY=off GOFLAGS=-mod=mod \
       GO111MODULE=on GOTOOLCHAIN=local GOWORK=off GOENV=off

have_cc=0
if command -v "${CC:-gcc}" >/dev/null 2>&1; then have_cc=1; fi

# newest source mtime vs the binary: rebuild when any .go/go.mod file (or this script) is newer
needs_build() {
    local bin=$1
    [[ -x $bin && -s $bin.gover ]] || return 0
    [[ -n $(find "$src" "${BASH_SOURCE[0]}" \( -name '*.go' -o -name go.mod -o -name '*.sh' \) -newer "$bin" -print -quit) ]]
}

build() {   # build NAME CGO_ENABLED go-build-args...
    local name=$1 cgo=$2
    shift 2
    local bin="$out/$name"
    if ! needs_build "$bin"; then
        return 0
    fi
    echo "build-go.sh: building $name"
    (cd "$src" && CGO_ENABLED=$cgo go build -trimpath -buildvcs=false -o "$bin.tmp" "$@" ./memshape)
    mv -f "$bin.tmp" "$bin"
    go version -m "$bin" > "$bin.gover.tmp"
    mv -f "$bin.gover.tmp" "$bin.gover"
}

build memshape 0
build memshape-stripped 0 -ldflags='-s -w'
build memshape-pie 0 -buildmode=pie
if (( have_cc )); then
    build memshape-cgo 1
else
    echo "build-go.sh: no C compiler; memshape-cgo not built" >&2
fi
