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
echo "\$ gsmapper explain $pid -o json | head -c 1500"
# head closes the pipe early; don't let SIGPIPE in gsmapper fail the demo.
{ "$gsmapper" explain "$pid" -o json || [[ $? -eq 141 ]]; } | head -c 1500
echo
cleanup
pid=

# Part 2, the sentinel: where the machine allows it (root, cgroup v1 or v2 memory controller),
# the same service runs in a 256 MiB cgroup and starts leaking 8 MiB/s after 25 s; `watch`
# warns with the time left, and when the OOM killer strikes, the flight recorder's bundle is
# shown. Bounded: the leak meets the limit about 30 s after it starts.
own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
v1=/sys/fs/cgroup/memory
if [[ $(id -u) -ne 0 || -z $own || ! -d $v1$own ]]; then
    echo
    echo "demo: skipping the watch part (needs root and the cgroup v1 memory controller here)"
    exit 0
fi
cg=$v1${own%/}/gsmapper-demo-$$
rel=${own%/}/gsmapper-demo-$$
dump=$out/bundles
rm -rf "$dump"; mkdir -p "$dump"
mkdir "$cg"
echo $((256 << 20)) > "$cg/memory.limit_in_bytes"
wpid=
cleanup2() {
    [[ -n $wpid ]] && kill "$wpid" 2>/dev/null || true
    [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    for _ in $(seq 1 50); do [[ -s $cg/cgroup.procs ]] || break; sleep 0.1; done
    rmdir "$cg" 2>/dev/null || true
}
trap cleanup2 EXIT
( echo $BASHPID > "$cg/cgroup.procs"
  exec "$bin" -data "$out/demo-data.bin" -heap-mib 32 -leak-mib-per-s 8 -leak-after 25 ) >"$log.leak" 2>&1 </dev/null &
pid=$!
echo
echo "\$ gsmapper watch --cgroup $rel -o text --dump-dir $dump   # the service leaks 8 MiB/s after 25 s"
"$gsmapper" watch --cgroup "$rel" -o text --dump-dir "$dump" --interval 1 --duration 90 &
wpid=$!
for _ in $(seq 1 90); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
done
sleep 4
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null || true
wpid=
b=$(ls -d "$dump"/gsmapper-* 2>/dev/null | tail -1)
if [[ -n $b ]]; then
    echo
    echo "\$ ls $b"
    ls "$b"
    echo "\$ cat $b/summary.txt"
    cat "$b/summary.txt"
fi
