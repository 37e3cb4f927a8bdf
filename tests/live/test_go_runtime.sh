#!/usr/bin/env bash
# Live: a Go 1.19 program serving net/http/pprof on loopback. explain finds the port from the
# PID alone, reads the runtime's MemStats, and the heap split agrees with the program's own
# runtime.ReadMemStats (printed on SIGUSR1 right before, with its smaps, once the target has settled) within 2% or 1 MiB. --read-env keeps only the four
# Go keys (a secret in the environment never appears). Under a 256 MiB v1 cgroup limit:
# GOMEMLIMIT unset -> GSM-GO-MEMLIMIT warn with a recommendation; GOMEMLIMIT above the limit ->
# critical.
set -u
. "$(dirname "$0")/../lib.sh"
if [ ! -x "$TARGETS_DIR/memshape" ]; then skip go_runtime "Go targets not built in $TARGETS_DIR"; exit 0; fi
tmp=$(mktemp -d)
cg=
cleanup() {
  stop_target
  if [ -n "$cg" ] && [ -d "$cg" ]; then
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill "$p" 2>/dev/null; done
    for _ in $(seq 1 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.05; done
    rmdir "$cg" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

start_target env SECRET_TOKEN=hunter2-do-not-print GOGC=200 "$TARGETS_DIR/memshape" -heap-mib 48 -goroutines 300 \
  -pprof-port 0 -stdin-exit || { fail go_runtime_start "did not start"; exit 0; }
memstats() { memshape_memstats "$1"; }
# explain forces no GC, so the numbers compare only while the young target stands still: wait
# until GC cycles and the scavenger leave HeapInuse and HeapReleased alone for 0.3 s. The
# explain itself allocates in the target (the heap profile's gzip writer), after which it reads
# the statistics and smaps before the heap profile (whose gzip writer allocates in the target):
# the test's own ReadMemStats and smaps, taken right before it, must agree if no GC ran.
memshape_settle "$tmp"
for _ in 1 2 3; do
  memstats "$tmp/ms0.json"
  cat "/proc/$TARGET_PID/smaps" > "$tmp/smaps0"
  "$GSM" explain "$TARGET_PID" --read-env -o json > "$tmp/out.json" 2> "$tmp/err" || { fail go_runtime_explain "$(cat "$tmp/err")"; exit 0; }
  memstats "$tmp/ms.json"
  same_gc_count "$tmp/ms0.json" "$tmp/ms.json" && break
done
python3 - "$tmp/out.json" "$tmp/ms0.json" "$tmp/smaps0" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); ms = json.load(open(sys.argv[2])); smaps = sys.argv[3]
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
gr = d.get("go_runtime")
check("go_stats_discovered", gr is not None, str(d.get("go_runtime_unavailable")))
if gr:
    st, sp = gr["stats"], gr["split"]
    def close(a, b): return abs(a - b) <= max(0.02 * b, 1 << 20)
    for ours, theirs in [("heap_inuse_bytes", "HeapInuse"), ("stack_inuse_bytes", "StackInuse"),
                         ("heap_idle_bytes", "HeapIdle"), ("heap_released_bytes", "HeapReleased"),
                         ("gc_sys_bytes", "GCSys"), ("sys_bytes", "Sys")]:
        check(f"go_stats_{ours}", close(st[ours], ms[theirs]), f"{st[ours]} vs ReadMemStats {ms[theirs]}")
    check("go_split_heap_inuse", close(sp["heap_inuse_bytes"], ms["HeapInuse"]), f'{sp["heap_inuse_bytes"]} vs {ms["HeapInuse"]}')
    check("go_split_stacks", close(sp["goroutine_stacks_bytes"], ms["StackInuse"]), f'{sp["goroutine_stacks_bytes"]} vs {ms["StackInuse"]}')
    # PRODUCT.md's approximation, from the statistics fetched right before smaps was read (after
    # the heap profile's GC): idle spans that were never touched are not resident, so allow 2 MiB.
    expect = st["heap_inuse_bytes"] + st["stack_inuse_bytes"] + st["heap_idle_bytes"] - st["heap_released_bytes"]
    ok = abs(sp["arena_rss_bytes"] - expect) <= max(0.02 * expect, 2 << 20)
    check("go_split_arena_rss_formula", ok, f'{sp["arena_rss_bytes"]} vs {expect}')
    # The residual against independent sources: the arena's RSS summed here from the target's
    # smaps (anonymous mappings in the arena hint range 0xc000000000..), less the runtime's own
    # ReadMemStats figures (both taken right before explain; the settled target stands still).
    arena = lazy = 0
    cur = None
    for line in open(smaps):
        f = line.split()
        if "-" in f[0] and len(f) >= 5 and ":" not in f[0]:
            lo = int(f[0].split("-")[0], 16)
            cur = 0xc000000000 <= lo < 0xc000000000 + (1 << 40) and len(f) == 5
        elif cur and f[0] == "Rss:":
            arena += int(f[1]) << 10
        elif cur and f[0] == "LazyFree:":
            lazy += int(f[1]) << 10
    resid = arena - (ms["HeapInuse"] + ms["StackInuse"] + ms["HeapIdle"] - ms["HeapReleased"] + lazy)
    check("go_split_arena_rss_is_smaps", close(sp["arena_rss_bytes"], arena), f'{sp["arena_rss_bytes"]} vs smaps {arena}')
    check("go_split_residual_vs_runtime", abs(sp["arena_residual_bytes"] - resid) <= max(0.02 * arena, 1 << 20),
          f'{sp["arena_residual_bytes"]} vs smaps - ReadMemStats {resid}')
    check("go_split_times", abs(sp["skew_ms"]) < 5000 and sp["stats_taken_ms"] > 0, str(sp))
env = d.get("go_env") or {}
check("go_env_only_four_keys", sorted(env) == ["GODEBUG", "GOGC", "GOMAXPROCS", "GOMEMLIMIT"], str(env))
check("go_env_gogc", env.get("GOGC") == "200", str(env))
check("go_env_no_secret", "hunter2" not in json.dumps(d))
PY
"$GSM" explain "$TARGET_PID" --read-env -o table > "$tmp/t.txt" 2>&1
check go_env_no_secret_table [ "$(grep -c hunter2 "$tmp/t.txt")" = 0 ]
check go_table_split grep -q '^go-heap .* = in use ' "$tmp/t.txt"
"$GSM" explain "$TARGET_PID" --no-go-stats -o json > "$tmp/n.json"
check go_no_stats_flag [ "$(json_get "$tmp/n.json" 'd["go_runtime"] is None and "no-go-stats" in d["go_runtime_unavailable"]')" = True ]
"$GSM" explain "$TARGET_PID" --go-endpoint http://127.0.0.1:1 --go-endpoint-any -o json > "$tmp/r.json" 2>/dev/null
check go_endpoint_refused_is_not_fatal [ "$(json_get "$tmp/r.json" 'd["go_runtime"] is None')" = True ]
"$GSM" explain "$TARGET_PID" --go-endpoint http://127.0.0.1:1 -o json > /dev/null 2>&1
check go_endpoint_not_owned_is_usage [ $? -eq 2 ]
stop_target

# GOMEMLIMIT findings under a real v1 cgroup limit.
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ]; then
  skip go_memlimit_findings "needs root and the v1 memory controller with our own cgroup visible"; exit 0
fi
cg=$V1${own%/}/gsm-go-test-$$
mkdir "$cg" && echo $((256 << 20)) > "$cg/memory.limit_in_bytes"
for case in "unset|" "above|GOMEMLIMIT=300MiB" "good|GOMEMLIMIT=150MiB"; do
  name=${case%%|*} envs=${case#*|}
  start_target env $envs "$TARGETS_DIR/memshape" -heap-mib 32 -goroutines 50 -pprof-port 0 -stdin-exit ||
    { fail "go_memlimit_$name" "did not start"; continue; }
  echo "$TARGET_PID" > "$cg/cgroup.procs"
  "$GSM" explain "$TARGET_PID" --read-env -o json > "$tmp/$name.json" 2>/dev/null
  python3 - "$tmp/$name.json" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); case = sys.argv[2]
f = [x for x in d["findings"] if x["id"] == "GSM-GO-MEMLIMIT"]
lim = d["cgroup"]["effective_limit"]["max"]["bytes"]
if case == "unset":
    ok = len(f) == 1 and f[0]["severity"] == "warn" and 0 < f[0]["evidence"]["recommended_gomemlimit_bytes"] < lim \
         and "GOMEMLIMIT=" in f[0]["advice"]
elif case == "above":
    ok = len(f) == 1 and f[0]["severity"] == "critical"
else:
    ok = len(f) == 0
print(("PASS" if ok else "FAIL") + f" go_memlimit_{case}" + ("" if ok else f": {f} (limit {lim})"))
PY
  stop_target
done
