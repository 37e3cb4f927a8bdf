#!/usr/bin/env bash
# bench/explain_go.sh: what does `gsmapper explain` of a Go process with runtime statistics cost,
# against `pmap -X` of the same process (issue 17: at most 2x)?
#
# One memshape target (tests/targets/go; HEAP_MIB of live heap, 50 goroutines, net/http/pprof on
# loopback) is started by this script and stopped by PID on exit. Measured interleaved (ABBA,
# PAIRS rounds, each command spawned directly: no shell), medians compared:
#   pmap -X PID
#   gsmapper explain PID -o json                 (statistics + heap profile over HTTP; no GC)
#   gsmapper explain PID -o json --no-go-stats   (the same without HTTP: the floor)
# and, for the record, `--gc` (which runs a GC cycle in the target each time).
#
# Environment knobs: PAIRS (40), HEAP_MIB (64), GSMAPPER (build/gsmapper), TARGETS (build/targets),
#   STRICT=1 (exit 1 if the ratio target is missed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GSM=${GSMAPPER:-$ROOT/build/gsmapper}
TARGETS=${TARGETS:-$ROOT/build/targets}
PAIRS=${PAIRS:-40}
HEAP_MIB=${HEAP_MIB:-64}
RATIO_TARGET=2.0

die() { echo "explain_go.sh: $*" >&2; exit 1; }
for tool in pmap python3; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[ -x "$GSM" ] || die "$GSM not built (make build)"
if [ ! -x "$TARGETS/memshape" ]; then
  bash "$ROOT/tests/targets/build-go.sh" "$TARGETS" >/dev/null 2>&1 || true
fi
[ -x "$TARGETS/memshape" ] || die "memshape not built (bash tests/targets/build-go.sh $TARGETS; needs go)"

TMP=$(mktemp -d /tmp/gsm-bench-explain-go.XXXXXX)
TARGET_PID=""
cleanup() {
  if [ -n "$TARGET_PID" ]; then
    kill "$TARGET_PID" 2>/dev/null || true
    wait "$TARGET_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

"$TARGETS/memshape" -heap-mib "$HEAP_MIB" -goroutines 50 -pprof-port 0 >"$TMP/out" 2>&1 &
TARGET_PID=$!
for _ in $(seq 1 200); do grep -q '^READY' "$TMP/out" 2>/dev/null && break; sleep 0.05; done
grep -q '^READY' "$TMP/out" || die "memshape did not start: $(cat "$TMP/out")"
"$GSM" explain "$TARGET_PID" -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("go_runtime") is None)' ||
  die "explain did not reach the target's statistics"

python3 - "$PAIRS" "$RATIO_TARGET" "${STRICT:-0}" "$GSM" "$TARGET_PID" <<'PYEOF'
import os, statistics, sys, time
pairs, target, strict, gsm, pid = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5]
cmds = {
    "pmap -X": ["pmap", "-X", pid],
    "explain": [gsm, "explain", pid, "-o", "json"],
    "explain --no-go-stats": [gsm, "explain", pid, "-o", "json", "--no-go-stats"],
    "explain --gc": [gsm, "explain", pid, "-o", "json", "--gc"],
}
devnull = os.open(os.devnull, os.O_WRONLY)
def run(argv):
    t = time.perf_counter()
    p = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                                                  (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(p, 0)
    if status != 0:
        sys.exit(f"{argv[0]} failed (wait status {status})")
    return time.perf_counter() - t
for argv in cmds.values():
    run(argv)
times = {k: [] for k in cmds}
names = list(cmds)
for i in range(pairs):
    for k in (names if i % 2 == 0 else names[::-1]):
        times[k].append(run(cmds[k]))
med = {k: statistics.median(v) for k, v in times.items()}
for k in names:
    print(f"{k:24s} median {med[k] * 1e3:7.2f} ms  min {min(times[k]) * 1e3:7.2f} ms")
ratio = med["explain"] / med["pmap -X"]
print(f"explain / pmap -X: {ratio:.2f}x (interleaved medians, {pairs} rounds); "
      f"without HTTP {med['explain --no-go-stats'] / med['pmap -X']:.2f}x, with --gc {med['explain --gc'] / med['pmap -X']:.2f}x")
ok = ratio <= target
print(f"target explain <= {target}x pmap -X: {'PASS' if ok else 'MISS'} ({ratio:.2f}x)")
sys.exit(1 if strict and not ok else 0)
PYEOF
