#!/usr/bin/env bash
# Live: a C target with an exactly known memory shape (tests/targets/shape.c) — 64 MiB anonymous
# touched, a 32 MiB file mapped and read, 4 pthreads, a 16 MiB memfd — and each region must get
# its class with RSS within 1%. Also: the smaps_rollup reconciliation rule holds on the stopped
# target.
set -u
. "$(dirname "$0")/../lib.sh"

shape=$CTARGETS_DIR/shape
if [ ! -x "$shape" ]; then skip shape_classes "target $shape not built"; exit 0; fi
tmp=$(mktemp -d)
trap 'stop_target; rm -rf "$tmp"' EXIT
head -c $((32 << 20)) /dev/urandom > "$tmp/data.bin"
if ! start_target "$shape" -f "$tmp/data.bin"; then fail shape_start "target did not start"; exit 0; fi

"$GSM" explain "$TARGET_PID" -o json --mappings > "$tmp/out.json" 2> "$tmp/err"; rc=$?
if [ $rc -ne 0 ]; then fail shape_explain "exit $rc: $(cat "$tmp/err")"; exit 0; fi
grep '^REGION' "$TARGET_OUT" > "$tmp/regions"

python3 - "$tmp/out.json" "$tmp/regions" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
maps = {m["start"]: m for m in d["mappings"]}
want = {"anon": ("anon-other", 64 << 20), "file": ("file-mapped", 32 << 20), "memfd": ("shmem", 16 << 20)}
def within(got, exp, pct=1.0):
    return abs(got - exp) <= exp * pct / 100
for line in open(sys.argv[2]):
    _, name, start, end = line.split()
    m = maps.get(start)
    if m is None:
        print(f"FAIL region_{name}: no mapping starts at {start}"); continue
    if m["end"] != end:
        print(f"FAIL region_{name}: mapping ends at {m['end']}, target says {end}"); continue
    rss = m["smaps"]["rss_bytes"]
    if name in want:
        cls, size = want[name]
        ok = m["class"] == cls and within(rss, size)
        print(("PASS" if ok else "FAIL") + f" region_{name}" + ("" if ok else f": class {m['class']} rss {rss}, want {cls} {size}"))
    else:  # thread stacks: class only (their RSS is a few pages)
        ok = m["class"] == "thread-stack"
        print(("PASS" if ok else "FAIL") + f" region_{name}" + ("" if ok else f": class {m['class']} ({m['class_reason']})"))
cls = {c["class"]: c for c in d["classes"]}
ok = within(cls["shmem"]["rss_bytes"], 16 << 20)
print(("PASS" if ok else "FAIL") + " class_shmem_total" + ("" if ok else f": {cls['shmem']['rss_bytes']}"))
ok = d["target"]["threads"] == 5
print(("PASS" if ok else "FAIL") + " threads_5" + ("" if ok else f": {d['target']['threads']}"))
PY

# totals_add_up: the total RSS against a source gsmapper did not compute. While the target is
# stopped (its own pages do not change), the kernel's own sum — smaps_rollup's Rss, read here by
# the test, not by gsmapper — must equal the total exactly, and the total must hold the known
# 112 MiB the target allocated (64 anon + 32 file + 16 memfd). The check is also run on a
# doctored copy of the output that lost one mapping (as a parser that skipped a mapping would
# report it, classes and total consistent with each other): it must fail there.
cat > "$tmp/totals_check.py" <<'PY'
import json, sys
def check(d, rollup_rss):
    s = sum(c["rss_bytes"] for c in d["classes"])
    t = d["totals"]["rss_bytes"]
    why = []
    if s != t: why.append(f"classes sum {s} != total {t}")
    if t != rollup_rss: why.append(f"total {t} != smaps_rollup Rss {rollup_rss} (read by the test)")
    if t < (112 << 20): why.append(f"total {t} < the 112 MiB the target allocated")
    return why
d = json.load(open(sys.argv[1]))
rollup = [l for l in open(sys.argv[2]) if l.startswith("Rss:")]
rollup_rss = int(rollup[0].split()[1]) * 1024
why = check(d, rollup_rss)
print(("PASS" if not why else "FAIL") + " totals_add_up" + ("" if not why else ": " + "; ".join(why)))
# broken input: drop the largest mapping from the totals and its class, consistently
m = max(d["mappings"], key=lambda m: m["smaps"]["rss_bytes"])
lost = m["smaps"]["rss_bytes"]
d["totals"]["rss_bytes"] -= lost
for c in d["classes"]:
    if c["class"] == m["class"]: c["rss_bytes"] -= lost
ok = bool(check(d, rollup_rss))
print(("PASS" if ok else "FAIL") + " totals_add_up_catches_a_lost_mapping" + ("" if ok else ": the check passed a total missing one mapping"))
sys.exit(0 if not why else 1)
PY
for attempt in 1 2 3; do
  kill -STOP "$TARGET_PID"
  "$GSM" explain "$TARGET_PID" -o json --mappings > "$tmp/tot.json"
  cat "/proc/$TARGET_PID/smaps_rollup" > "$tmp/rollup.txt"
  kill -CONT "$TARGET_PID"
  python3 "$tmp/totals_check.py" "$tmp/tot.json" "$tmp/rollup.txt" > "$tmp/tot.out" && break
  sleep 0.2
done
cat "$tmp/tot.out"

# The rollup rule on a stopped process (nothing of its own changes between reading smaps and
# the rollup). Pss also depends on how many *other* processes map the same pages (libc), which
# can change between the two reads while the test suite runs, so up to 5 attempts.
ok=
for attempt in 1 2 3 4 5; do
  kill -STOP "$TARGET_PID"
  "$GSM" explain "$TARGET_PID" --rollup -o json > "$tmp/stopped.json"
  kill -CONT "$TARGET_PID"
  if python3 - "$tmp/stopped.json" > "$tmp/rollup.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rollup"]
bad = [f for f in r["fields"] if not f["ok"]]
print("PASS rollup_rule_live" if r["consistent"] and not bad and len(r["fields"]) >= 15 else f"FAIL rollup_rule_live: {bad}")
pss = [f for f in r["fields"] if f["field"] == "pss_bytes"][0]
n = d["totals"]["mappings"]
ok = 0 <= pss["difference_bytes"] < n * 1024
print("PASS rollup_pss_truncation_bound" if ok else f"FAIL rollup_pss_truncation_bound: {pss} with {n} mappings")
sys.exit(0 if ok and not bad else 1)
PY
  then ok=1; break; fi
  sleep 0.2
done
cat "$tmp/rollup.out"
