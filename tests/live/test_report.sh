#!/usr/bin/env bash
# Live: `gsmapper report` on running targets. The C shape target (64 MiB anon, 32 MiB file, 16 MiB
# memfd: tests/targets/shape.c) must appear in the page's tree under its classes with the sizes
# the target itself set up, and the page's total must match smaps_rollup read here; a Go target
# serving net/http/pprof must get Go frames under its go-heap mappings that add up exactly to each
# mapping, with main.main's share of the frames its share of the heap profile (fetched and decoded
# here; report --gc); --cgroup of our own memory
# cgroup lists the target; a PID that is gone exits 3 with no page. Then (root, cgroup v1) a real
# flight-recorder bundle: watch a cgroup whose process leaks 8 MiB per 500 ms into a 160 MiB
# limit until the OOM kill, and the page of that bundle draws its samples (row values equal to
# samples.jsonl's, anon growing) with the event's moment, and the cgroup's tree.
set -u
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
cg= WPID=
cleanup() {
  stop_target
  [ -n "$WPID" ] && kill "$WPID" 2>/dev/null
  if [ -n "$cg" ] && [ -d "$cg" ]; then
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    for _ in $(seq 1 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.05; done
    rmdir "$cg" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

data_of() {
  python3 - "$1" <<'PY'
import json, re, sys
s = open(sys.argv[1]).read()
m = re.search(r'<script type="application/json" id="gsm-data">(.*?)</script>', s, re.S)
print(json.dumps(json.loads(m.group(1))))
PY
}

shape=$CTARGETS_DIR/shape
if [ -x "$shape" ]; then
  head -c $((32 << 20)) /dev/urandom > "$tmp/data.bin"
  if start_target "$shape" -f "$tmp/data.bin"; then
    if "$GSM" report "$TARGET_PID" -o "$tmp/shape.html" 2> "$tmp/err"; then pass report_live_pid
    else fail report_live_pid "$(cat "$tmp/err")"; fi
    grep '^REGION' "$TARGET_OUT" > "$tmp/regions"
    data_of "$tmp/shape.html" > "$tmp/shape.data"
    python3 - "$tmp/shape.data" "$tmp/regions" "$TARGET_PID" "$tmp/data.bin" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); pid = sys.argv[3]
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
t = d["tree"]
proc = next((c for c in t.get("c", []) if c["k"] == "p"), t) if t["k"] == "g" else t
check("report_live_process_node", proc["n"].endswith("[%s]" % pid), proc["n"])
classes = {c["n"]: c for c in proc.get("c", [])}
def mapping(cls, name):
    for m in classes.get(cls, {}).get("c", []):
        if m["n"] == name:
            return m["v"][0]
    return None
regions = {l.split()[1]: l.split()[2] for l in open(sys.argv[2])}
for region, cls, name, size in (("anon", "anon-other", "anon@" + regions["anon"], 64 << 20),
                                ("file", "file-mapped", sys.argv[4], 32 << 20),
                                ("memfd", "shmem", "/memfd:gsm-shape (deleted)", 16 << 20)):
    got = mapping(cls, name)
    if got is None and region == "memfd":   # the kernel's name for a memfd differs between versions
        got = next((m["v"][0] for m in classes.get(cls, {}).get("c", []) if "gsm-shape" in m["n"]), None)
    check("report_live_%s" % region, got is not None and abs(got - size) <= size // 100,
          "%s/%s: %s, want %d" % (cls, name, got, size))
rollup = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in open("/proc/%s/smaps_rollup" % pid) if l.split()[-1] == "kB"}
check("report_live_total_vs_rollup", abs(proc["v"][0] - rollup["Rss"]) <= max(rollup["Rss"] // 100, 1 << 20),
      "page %d, smaps_rollup Rss %d" % (proc["v"][0], rollup["Rss"]))
check("report_live_uss", d["have_uss"] and proc["v"][3] <= proc["v"][0], "USS %d, RSS %d" % (proc["v"][3], proc["v"][0]))
PY
    # --cgroup: our own memory cgroup holds the target (it is our child)
    cgpath=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3; exit} $2 == "" && $1 == 0 {p=$3} END {if (p) print p}' /proc/self/cgroup | head -1)
    if [ -n "$cgpath" ] && "$GSM" report --cgroup "$cgpath" -o "$tmp/cg.html" 2> "$tmp/err"; then
      r=$(data_of "$tmp/cg.html" | python3 -c '
import json, sys
d = json.load(sys.stdin); pid = sys.argv[1]
names = [c["n"] for c in d["tree"].get("c", []) if c["k"] == "p"]
print("ok" if d["tree"]["k"] == "g" and any(n.endswith("[%s]" % pid) for n in names) else "bad %s" % names[:8])' "$TARGET_PID")
      check report_live_cgroup_lists_target [ "$r" = ok ]
      # the largest processes get their own explain: the target's 64 MiB anon mapping is a node
      r=$(data_of "$tmp/cg.html" | python3 -c '
import json, sys
d = json.load(sys.stdin); pid, start = sys.argv[1], sys.argv[2]
p = next((c for c in d["tree"].get("c", []) if c["k"] == "p" and c["n"].endswith("[%s]" % pid)), {})
cls = next((c for c in p.get("c", []) if c["n"] == "anon-other"), {})
m = next((x for x in cls.get("c", []) if x["n"] == "anon@" + start), None)
print("ok" if m and abs(m["v"][0] - (64 << 20)) <= (64 << 20) // 100 else "bad %s" % [x["n"] for x in cls.get("c", [])][:5])' \
        "$TARGET_PID" "$(awk '$2 == "anon" {print $3}' "$tmp/regions")")
      check report_live_cgroup_reaches_mappings [ "$r" = ok ]
    else
      fail report_live_cgroup "cgroup '$cgpath': $(cat "$tmp/err" 2>/dev/null)"
    fi
    gone=$TARGET_PID
    stop_target
    "$GSM" report "$gone" -o "$tmp/gone.html" 2> "$tmp/err"; rc=$?
    check report_live_gone_exit_3 [ "$rc" -eq 3 ] && [ ! -e "$tmp/gone.html" ]
  else
    fail report_live_shape_start "target did not start"
  fi
else
  skip report_live_shape "target $shape not built"
fi

# ---- a real bundle from watch ------------------------------------------------------------------
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ] || [ ! -x "$CTARGETS_DIR/grow" ]; then
  skip report_live_bundle "needs root, the v1 memory controller with our own cgroup visible, and tests/targets/grow"
else
  rel=${own%/}/gsm-report-test-$$
  cg=$V1$rel
  mkdir "$cg" && echo $((160 << 20)) > "$cg/memory.limit_in_bytes"
  mkdir "$tmp/dump"
  if start_target "$CTARGETS_DIR/grow" -s 8 -i 500 -m 0 -w; then
    echo "$TARGET_PID" > "$cg/cgroup.procs"
    "$GSM" watch --cgroup "$rel" --interval 0.5 --warmup 1 --dump-dir "$tmp/dump" > "$tmp/w.jsonl" 2> "$tmp/w.err" &
    WPID=$!
    sleep 3
    echo go >&9
    for _ in $(seq 1 120); do kill -0 "$TARGET_PID" 2>/dev/null || break; sleep 0.25; done
    for _ in $(seq 1 40); do ls "$tmp/dump" | grep -q '^gsmapper-' && break; sleep 0.25; done
    sleep 1
    kill -TERM "$WPID"; wait "$WPID"; WPID=
    stop_target
    bundle=$(ls -d "$tmp"/dump/gsmapper-* 2>/dev/null | sort | tail -1)
    if [ -z "$bundle" ]; then
      fail report_live_bundle "watch wrote no bundle: $(head -c 300 "$tmp/w.err")"
    elif "$GSM" report "$bundle" -o "$tmp/bundle.html" 2> "$tmp/err"; then
      pass report_live_bundle
      # the recorder drew the bundle itself: report.html, the same samples' heat map
      r=$(data_of "$bundle/report.html" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["heat"]["t"]))' 2>/dev/null)
      check report_bundle_has_its_page [ -n "$r" ] && [ "$r" = "$(data_of "$tmp/bundle.html" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["heat"]["t"]))')" ]
      [ -n "${GSM_REPORT_SHOTS:-}" ] && cp "$tmp/bundle.html" "$GSM_REPORT_SHOTS/live-bundle.html"
      data_of "$tmp/bundle.html" | python3 -c '
import json, sys
d = json.load(sys.stdin); b = sys.argv[1]; rel = sys.argv[2]
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
ev = json.load(open(b + "/event.json"))
samples = sorted((json.loads(l) for l in open(b + "/samples.jsonl") if l.strip()), key=lambda s: s["time_ms"])
mine = [s for s in samples if s["target"].get("cgroup") == ev["target"].get("cgroup") and s["target"]["type"] == ev["target"]["type"]]
h = d.get("heat")
check("report_bundle_heat", h is not None, "no heat map")
if h:
    rows = {r["n"]: r["v"] for r in h["rows"]}
    bad = [n for n, v in rows.items() if len(mine) <= 720 and v != [s.get(n + "_bytes") for s in mine]]
    check("report_bundle_rows_are_the_samples", rows and not bad, "rows %s differ from samples.jsonl" % bad)
    anon = [x for x in rows.get("anon", []) if x is not None]
    check("report_bundle_anon_grew", len(anon) > 4 and max(anon) > anon[0] + (32 << 20), str(anon[:3] + anon[-3:]))
    check("report_bundle_event_time", h.get("event_ms") == ev["time_ms"], "%s vs %s" % (h.get("event_ms"), ev["time_ms"]))
t = d.get("tree")
check("report_bundle_tree", t is not None and t["k"] == "g" and t["n"].endswith(rel), str(t and t["n"]))' "$bundle" "$rel"
    else
      fail report_live_bundle "$(cat "$tmp/err")"
    fi
  else
    fail report_live_bundle "grow did not start"
  fi
fi

# ---- Go frames from the process's own heap profile ---------------------------------------------
if [ ! -x "$TARGETS_DIR/memshape" ]; then skip report_live_go "Go targets not built in $TARGETS_DIR"; exit 0; fi
# -settle: explain asks for no GC, so the profile is as of the target's last GC; two GCs before
# READY put the 48 MiB in it.
start_target "$TARGETS_DIR/memshape" -heap-mib 48 -goroutines 50 -settle -pprof-port 0 -stdin-exit ||
  { fail report_live_go_start "did not start"; exit 0; }
sleep 0.3
# --gc: the heap profile after a GC, so it holds what the program allocated (without it, explain
# changes nothing in the target and the profile is as of the runtime's last GC)
if "$GSM" report --gc "$TARGET_PID" -o "$tmp/go.html" 2> "$tmp/err"; then pass report_live_go
else fail report_live_go "$(cat "$tmp/err")"; exit 0; fi
# The heap profile the report drew from, fetched again here (without a GC: the profile is then
# still as of the report's GC, and the settled target allocates nothing more).
pprof_addr=$(awk '/^PPROF /{print $2; exit}' "$TARGET_OUT")
if ! curl -sf -o "$tmp/heap.pb.gz" "http://$pprof_addr/debug/pprof/heap"; then
  fail report_go_profile_fetch "no heap profile from $pprof_addr"; exit 0
fi
data_of "$tmp/go.html" | python3 -c '
import gzip, json, sys
d = json.load(sys.stdin)
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
def walk(n, path):
    yield n, path
    for c in n.get("c", []):
        yield from walk(c, path + [n])
heap = [n for n, p in walk(d["tree"], []) if n["k"] == "c" and n["n"] == "go-heap"]
check("report_go_heap_class", len(heap) == 1, str(len(heap)))
maps = heap[0].get("c", []) if heap else []
framed = [m for m in maps if any(c["k"] == "f" for c in m.get("c", []))]
check("report_go_frames_present", framed, "no go-heap mapping has frames")
exact = all(sum(c["v"][i] for c in m["c"]) == m["v"][i] for m in framed for i in range(4))
check("report_go_frames_add_up", exact, "frames do not sum to their mapping")
mm = sum(n["v"][0] for m in framed for n, p in walk(m, []) if n["k"] == "f" and n["n"].startswith("main.main ")
         and not any(q["n"].startswith("main.main ") for q in p[1:]))
# every frame under the mappings, leaving out what the profile does not cover
frames = sum(c["v"][0] for m in framed for c in m["c"] if c["k"] == "f" and c["n"] != "(heap not in profile)")

# The profile itself (profile.proto, decoded here): main.main s share of the in-use bytes.
def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, t = key >> 3, key & 7
        if t == 0:
            v, i = varint(b, i)
        elif t == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif t == 1:
            v, i = b[i:i + 8], i + 8
        elif t == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % t)
        yield f, t, v
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            return v, i
def ints(t, v):
    if t == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i); out.append(x)
    return out
prof = gzip.decompress(open(sys.argv[1], "rb").read())
strings, types, samples, locs, funcs = [], [], [], {}, {}
for f, t, v in fields(prof):
    if f == 6: strings.append(v.decode())
    elif f == 1: types.append(dict((g, x) for g, _, x in fields(v)))
    elif f == 2:
        ids, vals = [], []
        for g, tt, x in fields(v):
            if g == 1: ids += ints(tt, x)
            elif g == 2: vals += ints(tt, x)
        samples.append((ids, vals))
    elif f == 4:
        lid, fids = 0, []
        for g, _, x in fields(v):
            if g == 1: lid = x
            elif g == 4: fids += [y for h, _, y in fields(x) if h == 1]
        locs[lid] = fids
    elif f == 5:
        fd = dict((g, x) for g, _, x in fields(v))
        funcs[fd.get(1, 0)] = fd.get(2, 0)
col = [strings[ty.get(1, 0)] for ty in types].index("inuse_space")
total = sum(v[col] for _, v in samples)
in_main = sum(v[col] for ids, v in samples if any(strings[funcs[fid]] == "main.main" for l in ids for fid in locs.get(l, [])))
share_profile = in_main / total if total else 0
share_page = mm / frames if frames else 0
# Each mapping gets every stack in proportion, rounded down per mapping and stack: main.main s
# share of the frames is its share of the profile to within rounding (0.5 points allowed). A
# page that misplaced frames (another stack s bytes under main.main, a stack counted in one
# mapping and not in another) moves it by whole stacks.
check("report_go_main_main_share_is_the_profiles", total > 0 and frames > 0 and abs(share_page - share_profile) <= 0.005,
      "main.main: %.4f of the page s frames (%d of %d bytes), %.4f of the profile s in-use bytes (%d of %d)"
      % (share_page, mm, frames, share_profile, in_main, total))' "$tmp/heap.pb.gz"
