#!/usr/bin/env bash
# Live (root, cgroup v1): the memory classes in serve's /metrics (issue 11). Three targets of
# known shape run inside a v1 test cgroup from their first page (charged there): shape (64 MiB
# anonymous, a 16 MiB memfd: shmem), memshape (Go, 32 MiB heap, pprof on loopback) and a sleep
# that exits half-way. `serve --cgroup` must show, against independent sources:
#   - shape's shmem class and resident kind="shmem" within 5% of its status RssShmem (and of the
#     16 MiB it maps by construction);
#   - memshape's go-heap class within 5% of `gsmapper explain`'s, and the Go split present;
#   - each per-cgroup class sum equal to the sum over the members in the same scrape;
#   - the members' anonymous classes (go-heap, go-runtime, stacks, native-heap, anon-other)
#     within 2% of the cgroup's own anonymous memory (memory.stat rss);
#   - the exited sleep counted as gone (positive control), no error counted;
#   - `promtool check metrics` silent.
set -u
. "$(dirname "$0")/../lib.sh"
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ] || [ ! -x "$CTARGETS_DIR/shape" ]; then
  skip serve_classes "needs root, the v1 memory controller with our own cgroup visible, and tests/targets/shape"; exit 0
fi
if [ ! -x "$TARGETS_DIR/memshape" ]; then skip serve_classes "Go targets not built in $TARGETS_DIR"; exit 0; fi
tmp=$(mktemp -d)
rel=${own%/}/gsm-serve-classes-$$
cg=$V1$rel
SERVE= GO= SLEEPER=
cleanup() {
  [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
  exec 8>&- 2>/dev/null
  [ -n "$GO" ] && kill "$GO" 2>/dev/null
  [ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null
  stop_target
  if [ -d "$cg" ]; then
    for _ in $(seq 1 100); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.05; done
    rmdir "$cg" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || { fail serve_classes_cgroup "cannot create $cg"; exit 0; }
echo $((1 << 30)) > "$cg/memory.limit_in_bytes"
dd if=/dev/zero of="$tmp/file" bs=1M count=32 status=none
start_target sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$CTARGETS_DIR/shape" -f "$tmp/file" ||
  { fail serve_classes_start "shape did not start"; exit 0; }
SHAPE=$TARGET_PID
exec 8> >(exec sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$TARGETS_DIR/memshape" -heap-mib 32 \
  -goroutines 50 -pprof-port 0 -stdin-exit > "$tmp/go.out" 2>&1)
GO=$!
for _ in $(seq 1 200); do grep -q '^PPROF ' "$tmp/go.out" 2>/dev/null && break; sleep 0.05; done
grep -q '^PPROF ' "$tmp/go.out" || { fail serve_classes_start "memshape did not start: $(cat "$tmp/go.out")"; exit 0; }
sh -c 'echo $$ > "$0/cgroup.procs" && exec sleep 300' "$cg" &
SLEEPER=$!

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$GSM" serve --listen "127.0.0.1:$port" --cgroup "$rel" --interval 0.5 --quiet > "$tmp/serve.out" 2> "$tmp/serve.err" &
SERVE=$!
scrape() { curl -s -m 5 "127.0.0.1:$port/metrics" > "$1" 2>/dev/null; }
# have FILE PID: the process's classes are in the scrape (and, for memshape, its Go split)
have() { grep -q "^gsmapper_process_memory_bytes{pid=\"$2\".*class=\"$3\"" "$1"; }
ok=0
for _ in $(seq 1 120); do
  sleep 0.5
  scrape "$tmp/m0" || continue
  have "$tmp/m0" "$SHAPE" shmem && have "$tmp/m0" "$GO" go-heap && have "$tmp/m0" "$SLEEPER" '[a-z-]*' &&
    grep -q "^gsmapper_process_go_memory_bytes{pid=\"$GO\"" "$tmp/m0" && { ok=1; break; }
done
check serve_classes_appear [ "$ok" = 1 ]
[ "$ok" = 1 ] || { echo "--- serve.err"; cat "$tmp/serve.err"; grep -E "^gsmapper_(process_memory|class|targets|series|cgroup_class)" "$tmp/m0" | head -30; exit 0; }

# The sleeper exits: gone, not an error.
kill "$SLEEPER"; wait "$SLEEPER" 2>/dev/null; SLEEPER_PID=$SLEEPER; SLEEPER=
for _ in $(seq 1 40); do
  sleep 0.5
  scrape "$tmp/m1" && ! grep -q "pid=\"$SLEEPER_PID\"" "$tmp/m1" && break
done
# The Go figures: explain right after serve's figures were read (their age 0 at that tick), so
# both describe nearly one moment; the heap moves with every statistics poll and GC.
for _ in $(seq 1 60); do
  scrape "$tmp/mgo" && grep -q "^gsmapper_process_memory_age_seconds{pid=\"$GO\".*} 0\(\.[0-4][0-9]*\)\?$" "$tmp/mgo" && break
  sleep 0.2
done
"$GSM" explain "$GO" -o json > "$tmp/go.json" 2> "$tmp/go.err"
scrape "$tmp/m2"
cp "$cg/memory.stat" "$tmp/memory.stat"
grep -E '^(RssShmem|VmRSS)' "/proc/$SHAPE/status" > "$tmp/shape.status"
if command -v promtool >/dev/null 2>&1; then
  promtool check metrics < "$tmp/m2" > "$tmp/promtool.out" 2>&1
  check promtool_check_metrics [ ! -s "$tmp/promtool.out" ]
  [ -s "$tmp/promtool.out" ] && head -5 "$tmp/promtool.out"
else
  skip promtool_check_metrics "promtool not installed"
fi

python3 - "$tmp" "$rel" "$SHAPE" "$GO" "$SLEEPER_PID" <<'PY'
import json, re, sys
tmp, rel, shape, go, sleeper = sys.argv[1:6]
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
def parse(path):
    out = []
    for line in open(path):
        m = re.match(r'^([a-z_]+)\{(.*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            out.append((m.group(1), labels, float(m.group(3))))
        else:
            m = re.match(r'^([a-z_]+) (\S+)$', line)
            if m:
                out.append((m.group(1), {}, float(m.group(2))))
    return out
m1, m2, mgo = parse(f"{tmp}/m1"), parse(f"{tmp}/m2"), parse(f"{tmp}/mgo")
def get(ms, name, **want):
    return [v for n, l, v in ms if n == name and all(l.get(k) == x for k, x in want.items())]
def one(ms, name, **want):
    v = get(ms, name, **want)
    return v[0] if len(v) == 1 else None
MIB = 1 << 20
def within(a, b, ratio): return a is not None and b is not None and abs(a - b) <= ratio * max(b, 1)

status = dict(l.split(":")[0:2] for l in open(f"{tmp}/shape.status").read().splitlines())
rss_shmem = int(status["RssShmem"].split()[0]) * 1024
cls_shmem = one(m2, "gsmapper_process_memory_bytes", pid=shape, **{"class": "shmem", "kind": "rss"})
res_shmem = one(m2, "gsmapper_process_resident_bytes", pid=shape, kind="shmem")
check("classes_shmem_class", within(cls_shmem, rss_shmem, 0.05) and within(cls_shmem, 16 * MIB, 0.05),
      f"class shmem {cls_shmem}, status RssShmem {rss_shmem}, mapped 16 MiB")
check("classes_shmem_resident", within(res_shmem, rss_shmem, 0.05), f"resident shmem {res_shmem} vs {rss_shmem}")
anon = one(m2, "gsmapper_process_memory_bytes", pid=shape, **{"class": "anon-other", "kind": "rss"})
check("classes_shape_anon", anon is not None and anon >= 64 * MIB, f"shape anon-other {anon} < 64 MiB")

ex = json.load(open(f"{tmp}/go.json"))
ex_heap = next((c["rss_bytes"] for c in ex["classes"] if c["class"] == "go-heap"), None)
go_heap = one(mgo, "gsmapper_process_memory_bytes", pid=go, **{"class": "go-heap", "kind": "rss"})
check("classes_go_heap_vs_explain", within(go_heap, ex_heap, 0.05) and (go_heap or 0) >= 32 * MIB,
      f"serve {go_heap}, explain {ex_heap}")
parts = {l["part"]: v for n, l, v in m2 if n == "gsmapper_process_go_memory_bytes" and l.get("pid") == go}
check("classes_go_split", set(parts) == {"heap_inuse", "stacks", "idle_retained", "released_resident",
      "runtime_metadata"} and parts["heap_inuse"] >= 32 * MIB, f"parts {parts}")
age = one(m2, "gsmapper_process_memory_age_seconds", pid=go)
age_go = one(mgo, "gsmapper_process_memory_age_seconds", pid=go)
check("classes_age", age is not None and 0 <= age <= 15 and age_go is not None and age_go < 0.5,
      f"age {age}, at the explain {age_go}")

# per-cgroup sums = the sum over the members, per class and kind, in the same scrape
members = {l["pid"] for n, l, v in m2 if n == "gsmapper_process_memory_bytes" and l.get("cgroup") == rel}
sums = {(l["class"], l["kind"]): v for n, l, v in m2 if n == "gsmapper_cgroup_process_memory_bytes" and l.get("cgroup") == rel}
expect = {}
for n, l, v in m2:
    if n == "gsmapper_process_memory_bytes" and l.get("cgroup") == rel:
        expect[(l["class"], l["kind"])] = expect.get((l["class"], l["kind"]), 0) + v
check("classes_cgroup_sum_members", members == {shape, go} and sums and sums == expect,
      f"members {members}, diffs {[(k, sums.get(k), expect.get(k)) for k in set(sums) | set(expect) if sums.get(k) != expect.get(k)][:5]}")
stat = dict(l.split() for l in open(f"{tmp}/memory.stat"))
anon_classes = ("go-heap", "go-runtime", "thread-stack", "main-stack", "native-heap", "anon-other")
anon_sum = sum(sums.get((c, "rss"), 0) for c in anon_classes)
cg_rss = int(stat["rss"])
check("classes_anon_vs_cgroup_rss", within(anon_sum, cg_rss, 0.02),
      f"members' anonymous classes {anon_sum / MIB:.2f} MiB vs memory.stat rss {cg_rss / MIB:.2f} MiB")

errors = sum(get(m2, "gsmapper_errors_total"))
gone = sum(get(m2, "gsmapper_targets_gone_total"))
check("classes_exit_not_error", errors == 0 and gone >= 1, f"errors {errors}, gone {gone}")
check("classes_series_counted", (one(m2, "gsmapper_series") or 0) > 0 and one(m2, "gsmapper_series_dropped") == 0,
      f"series {one(m2, 'gsmapper_series')} dropped {one(m2, 'gsmapper_series_dropped')}")
PY
err_lines=$(grep -c 'warning' "$tmp/serve.err")
check serve_classes_no_warnings [ "$err_lines" -eq 0 ]
[ "$err_lines" -eq 0 ] || head -5 "$tmp/serve.err"
