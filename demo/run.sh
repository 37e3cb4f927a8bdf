#!/usr/bin/env bash
# `make demo`: build the demo Go service (demo/service.go), start it, wait for READY, and show
# what gsmapper makes of it. Expected shape: ~48 MiB Go heap, 200 parked goroutines' stacks,
# a 16 MiB file mapping (resident, clean), net/http/pprof on a loopback port.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$repo/build}
out=$build/demo
gsmapper=$build/gsmapper
mkdir -p "$out"

if ! command -v go >/dev/null 2>&1; then
    echo "demo: go is not installed (make deps installs it)" >&2
    exit 1
fi

# Build (stdlib only; offline; GOPATH mode for a single file; caches under build/).
src=$repo/demo/service.go
bin=$out/service
if [[ ! -x $bin || $src -nt $bin ]]; then
    echo "demo: building $bin"
    GOCACHE=$build/.gocache GOPATH=$build/.gopath GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local \
        CGO_ENABLED=0 go build -o "$bin.tmp" "$src"
    mv -f "$bin.tmp" "$bin"
fi

log=$out/service.out
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

"$bin" -data "$out/demo-data.bin" >"$log" 2>&1 </dev/null &
pid=$!

# Wait for READY (first run writes the 16 MiB data file): up to 30 s.
for _ in $(seq 1 300); do
    if grep -q '^READY$' "$log" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "demo: service exited early:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
if ! grep -q '^READY$' "$log"; then
    echo "demo: service did not become ready in 30 s" >&2
    exit 1
fi
echo "demo: service PID $pid ($(grep '^PPROF ' "$log" | cut -d' ' -f2) serves /debug/pprof/)"

if [[ ! -x $gsmapper ]]; then
    echo "demo: $gsmapper not built (run make build)" >&2
    exit 1
fi

echo
echo "\$ gsmapper explain $pid"
"$gsmapper" explain "$pid" -o table

echo
echo "\$ gsmapper explain $pid -o json | head -c 2000"
# head closes the pipe early; don't let SIGPIPE in gsmapper fail the demo.
{ "$gsmapper" explain "$pid" -o json || [[ $? -eq 141 ]]; } | head -c 2000
echo
