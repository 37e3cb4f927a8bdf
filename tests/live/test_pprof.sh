#!/usr/bin/env bash
# Live: pprof in and out on a real Go 1.19 program (memshape with net/http/pprof).
#  - its heap profile (/debug/pprof/heap?gc=1, gzipped profile.proto) decodes with
#    gsm_heap_profile_parse (through tests/targets/heapdump) and the in-use total is within 10%
#    of the live heap memshape keeps: -heap-mib 1 MiB chunks. Go samples an allocation when a
#    Poisson process over allocated bytes (mean MemProfileRate = 512 KiB) hits it, so a 1 MiB
#    chunk is sampled with p = 1 - e^-2 = 0.86 and runtime/pprof scales the counts back by 1/p:
#    with 256 chunks the estimate's standard deviation is ~2.5%, so 10% is four of them;
#  - the pprof file built from a snapshot of the process, with the Go frames under go-heap,
#    opens in `go tool pprof -top`, and its total equals the process's RSS from
#    `gsmapper explain -o json` within 1% (two snapshots a moment apart); the go-heap node
#    equals the go-heap class; main.main (the chunks' allocation site) is under it;
#  - the folded output of the same tree adds up to the same total;
#  - hostile profiles (a gzip bomb, a truncated download) are refused with an error.
set -u
. "$(dirname "$0")/../lib.sh"

HEAPDUMP=$CTARGETS_DIR/heapdump
if [ ! -x "$TARGETS_DIR/memshape" ]; then
  skip pprof "Go targets not built in $TARGETS_DIR (needs golang-go; tests/targets/build-go.sh)"; exit 0
fi
if [ ! -x "$HEAPDUMP" ]; then
  skip pprof "$HEAPDUMP not built"; exit 0
fi
if ! command -v curl >/dev/null 2>&1; then
  skip pprof "curl not installed"; exit 0
fi
have_go=1
command -v go >/dev/null 2>&1 || have_go=0

tmp=$(mktemp -d)
trap 'stop_target; rm -rf "$tmp"' EXIT
export GOCACHE=$tmp/gocache HOME=$tmp GOPROXY=off GOTOOLCHAIN=local GOFLAGS= PPROF_TMPDIR=$tmp

heap_mib=256
if ! start_target "$TARGETS_DIR/memshape" -heap-mib $heap_mib -goroutines 50 -pprof-port 0 -stdin-exit; then
  fail pprof_start "memshape did not start"; exit 0
fi
addr=$(awk '/^PPROF /{print $2; exit}' "$TARGET_OUT")
if [ -z "$addr" ]; then
  fail pprof_start "memshape printed no PPROF line: $(cat "$TARGET_OUT")"; exit 0
fi

# gc=1: the in-use numbers are as of the last completed GC; run one so they are current.
if ! curl -sf --max-time 10 "http://$addr/debug/pprof/heap?gc=1" -o "$tmp/heap.pb.gz" || [ ! -s "$tmp/heap.pb.gz" ]; then
  fail pprof_fetch "could not fetch http://$addr/debug/pprof/heap"; exit 0
fi

# 1. decode the heap profile
if "$HEAPDUMP" "$tmp/heap.pb.gz" > "$tmp/dump.txt" 2>"$tmp/err"; then
  python3 - "$tmp/dump.txt" "$heap_mib" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
kv = {l.split(' ', 1)[0]: l.split(' ', 1)[1] for l in lines if not l.startswith('TOP ')}
want = int(sys.argv[2]) << 20
types = kv.get('SAMPLE_TYPES', '')
ok = types == 'alloc_objects/count,alloc_space/bytes,inuse_objects/count,inuse_space/bytes'
print(("PASS" if ok else "FAIL") + " pprof_heap_sample_types" + ("" if ok else f": {types}"))
inuse = int(kv.get('INUSE_BYTES', '0'))
ok = abs(inuse - want) <= want * 0.10
print(("PASS" if ok else "FAIL") + " pprof_heap_inuse_matches_live_heap" + ("" if ok else f": in-use {inuse} vs live {want}"))
top = [l.split(' ', 3) for l in lines if l.startswith('TOP ')]
ok = bool(top) and top[0][3].startswith('main.main') and int(top[0][1]) >= want * 0.9
print(("PASS" if ok else "FAIL") + " pprof_heap_top_stack_is_main" + ("" if ok else f": {top[:1]}"))
PY
else
  fail pprof_heap_decode "heapdump: $(cat "$tmp/err")"
fi

# 2. a pprof file and folded stacks from a snapshot of the process, Go frames under go-heap
if ! "$HEAPDUMP" --pid "$TARGET_PID" --heap "$tmp/heap.pb.gz" --pprof "$tmp/mem.pb.gz" --folded "$tmp/mem.folded" \
     > "$tmp/tree.txt" 2>"$tmp/err"; then
  fail pprof_write "heapdump --pid: $(cat "$tmp/err")"; exit 0
fi
if ! "$GSM" explain "$TARGET_PID" -o json > "$tmp/explain.json" 2>"$tmp/err"; then
  fail pprof_explain "$(cat "$tmp/err")"; exit 0
fi
top_rc=0
if [ $have_go -eq 1 ]; then
  go tool pprof -top -sample_index=rss -unit=B "$tmp/mem.pb.gz" > "$tmp/top.txt" 2>"$tmp/top.err" || top_rc=$?
  go tool pprof -top -sample_index=pss -unit=B "$tmp/mem.pb.gz" > "$tmp/top-pss.txt" 2>>"$tmp/top.err" || top_rc=$?
fi
python3 - "$tmp/tree.txt" "$tmp/explain.json" "$tmp/mem.folded" "$tmp/top.txt" "$tmp/top-pss.txt" "$have_go" "$top_rc" "$heap_mib" "$tmp/top.err" <<'PY'
import json, re, sys
tree_f, explain_f, folded_f, top_f, toppss_f, have_go, top_rc, heap_mib, top_err = sys.argv[1:]
def res(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
kv = dict(l.split(' ', 1) for l in open(tree_f).read().splitlines())
d = json.load(open(explain_f))
rss = d["totals"]["rss_bytes"]
cls = {c["class"]: c for c in d["classes"]}
tree_rss, snap_rss = int(kv["TREE_RSS"]), int(kv["RSS"])
res("pprof_tree_total_is_snapshot_rss", tree_rss == snap_rss and int(kv["TREE_PSS"]) == int(kv["PSS"]),
    f"tree {kv['TREE_RSS']}/{kv['TREE_PSS']} vs snapshot {kv['RSS']}/{kv['PSS']}")
res("pprof_tree_total_matches_explain", abs(tree_rss - rss) <= rss * 0.01, f"tree {tree_rss} vs explain {rss}")
folded_sum, bad = 0, []
for line in open(folded_f, encoding="utf-8", errors="replace"):
    stack, _, v = line.rstrip("\n").rpartition(" ")
    folded_sum += int(v)
    if not stack.startswith("memshape[") or "\n" in stack:
        bad.append(line)
res("pprof_folded_sum_is_tree_total", folded_sum == tree_rss and not bad, f"folded {folded_sum} vs {tree_rss}; {bad[:2]}")
res("pprof_folded_sum_matches_explain", abs(folded_sum - rss) <= rss * 0.01, f"folded {folded_sum} vs explain {rss}")
if have_go != "1":
    print("SKIP pprof_go_tool_top: go not installed")
    sys.exit(0)
top = open(top_f).read()
res("pprof_go_tool_top_runs", top_rc == "0" and "Type: rss" in top, f"rc {top_rc}: {open(top_err).read()[-300:]}")
m = re.search(r"of (\d+)B total", top)
total = int(m.group(1)) if m else -1
res("pprof_go_tool_total_matches_explain", m is not None and abs(total - rss) <= rss * 0.01,
    f"pprof total {total} vs explain rss {rss}")
# cum column per node: "flat flat% sum% cum cum% name"
cum = {}
for line in top.splitlines():
    f = line.split(None, 5)
    if len(f) == 6 and f[3].endswith("B") and f[3][:-1].isdigit():
        cum[f[5]] = int(f[3][:-1])
gh = cls.get("go-heap", {}).get("rss_bytes", 0)
res("pprof_go_heap_node_is_class_rss", "go-heap" in cum and abs(cum["go-heap"] - gh) <= max(gh * 0.01, 1 << 20),
    f"go-heap node {cum.get('go-heap')} vs class {gh}")
want = int(heap_mib) << 20
res("pprof_go_frames_under_go_heap", cum.get("main.main", 0) >= want * 0.85 and cum.get("main.main", 0) <= cum.get("go-heap", 0),
    f"main.main {cum.get('main.main')} go-heap {cum.get('go-heap')}")
toppss = open(toppss_f).read()
m = re.search(r"of (\d+)B total", toppss)
pss = d["totals"].get("pss_bytes", 0)
res("pprof_go_tool_pss_total", m is not None and abs(int(m.group(1)) - pss) <= max(pss * 0.01, 1 << 20),
    f"pprof pss {m.group(1) if m else None} vs explain pss {pss}")
PY

# 3. hostile profiles: refused with an error, quickly: judged by CPU time (user + system), which
# waiting for a CPU on a loaded machine does not inflate (a wall-clock bound failed at 7.2 s
# there); inflating all 200 MiB would take seconds of CPU either way.
head -c $((200 << 20)) /dev/zero | gzip -c > "$tmp/bomb.gz"
if /usr/bin/time -f '%U %S' -o "$tmp/time" "$HEAPDUMP" "$tmp/bomb.gz" > /dev/null 2>"$tmp/err"; then
  fail pprof_gzip_bomb_refused "a 200 MiB gzip bomb was accepted"
elif grep -q "too large" "$tmp/err"; then
  ms=$(awk 'END {printf "%d", ($1 + $2) * 1000}' "$tmp/time")
  check pprof_gzip_bomb_refused test "$ms" -lt 5000
else
  fail pprof_gzip_bomb_refused "unexpected error: $(cat "$tmp/err")"
fi
head -c $(( $(stat -c %s "$tmp/heap.pb.gz") / 2 )) "$tmp/heap.pb.gz" > "$tmp/trunc.gz"
if "$HEAPDUMP" "$tmp/trunc.gz" > /dev/null 2>"$tmp/err"; then
  fail pprof_truncated_refused "a truncated profile was accepted"
else
  check pprof_truncated_refused grep -q "Bad message" "$tmp/err"
fi
stop_target
