#!/usr/bin/env bash
# Live (root, cgroup v1): `gsmapper watch --cgroup` on a target that leaks 8 MiB per 500 ms into
# a 192 MiB limit until the OOM killer strikes. Checks: a warn or critical ETA event before the
# kill, the oom_kill event, one event per condition (hysteresis), a bundle written atomically
# with its files, --exec receiving events on stdin, --emit-samples, --stats; a watched PID that
# exits gives target_gone and watch ends; bad input exits with the documented codes.
set -u
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
cg=
cleanup() {
  stop_target
  [ -n "${WPID:-}" ] && kill "$WPID" 2>/dev/null
  if [ -n "$cg" ] && [ -d "$cg" ]; then
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    for _ in $(seq 1 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.05; done
    rmdir "$cg" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Bad input first (no cgroup needed).
# exit_and_message NAME CODE REGEX ARGS...: watch ARGS must exit CODE with one stderr line that
# matches REGEX (both, not only the exit code).
exit_and_message() {
  local name=$1 code=$2 re=$3; shift 3
  "$GSM" watch "$@" >/dev/null 2>"$tmp/e"; local rc=$?
  if [ "$rc" -eq "$code" ] && [ "$(wc -l < "$tmp/e")" -eq 1 ] && grep -Eq "$re" "$tmp/e"; then pass "$name"
  else fail "$name" "exit $rc (want $code), stderr: $(head -c 200 "$tmp/e")"; fi
}
exit_and_message watch_no_target_usage 2 '^gsmapper: watch: name PIDs'
exit_and_message watch_no_such_pid 3 '^gsmapper: no process 99999999' 99999999
exit_and_message watch_no_such_cgroup 3 '^gsmapper: no cgroup /no/such/cg$' --cgroup /no/such/cg
exit_and_message watch_bad_interval 2 "^gsmapper: watch: --interval wants .*not '0'" --interval 0 1
exit_and_message watch_bad_dump_dir 2 '^gsmapper: watch: dump dir /nonexistent/dir: No such file or directory' \
  --dump-dir /nonexistent/dir 1

# A watched PID that exits: target_gone, then watch ends by itself.
sleep 3 & sp=$!
timeout 20 "$GSM" watch "$sp" --interval 0.5 > "$tmp/gone.jsonl"; rc=$?
check watch_ends_when_pid_gone [ $rc -eq 0 ]
check watch_target_gone_event grep -q '"kind":"target_gone"' "$tmp/gone.jsonl"

# A steady target backs off to every third interval (engine.c STEADY_*): an idle sleep watched at
# 0.5 s for 9 s gives about 3 + 7.5/1.5 samples, not 18.
sleep 60 & sp=$!
timeout 30 "$GSM" watch "$sp" --interval 0.5 --duration 9 --emit-samples > "$tmp/steady.jsonl"
n=$(grep -c '"gsmapper.sample/v1"' "$tmp/steady.jsonl")
kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null
check watch_steady_target_backs_off test "$n" -ge 4 -a "$n" -le 12
echo "# idle sleep, 9 s at --interval 0.5: $n samples"

own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ] || [ ! -x "$CTARGETS_DIR/grow" ]; then
  skip watch_oom_scenario "needs root, the v1 memory controller with our own cgroup visible, and tests/targets/grow"; exit 0
fi
rel=${own%/}/gsm-watch-test-$$
cg=$V1$rel
mkdir "$cg" && echo $((192 << 20)) > "$cg/memory.limit_in_bytes"
mkdir "$tmp/dump"
start_target "$CTARGETS_DIR/grow" -s 8 -i 500 -m 0 -w || { fail watch_start "grow did not start"; exit 0; }
echo "$TARGET_PID" > "$cg/cgroup.procs"
"$GSM" watch --cgroup "$rel" --interval 0.5 --warmup 1 --emit-samples --stats --dump-dir "$tmp/dump/new" \
  --exec "cat >> $tmp/exec.jsonl" > "$tmp/w.jsonl" 2> "$tmp/w.err" &
WPID=$!
sleep 4                     # a flat baseline first
echo go >&9                 # start growing
for _ in $(seq 1 120); do kill -0 "$TARGET_PID" 2>/dev/null || break; sleep 0.25; done
sleep 2
kill -TERM "$WPID"; wait "$WPID"; rc=$?; WPID=
check watch_exit_0_on_sigterm [ $rc -eq 0 ]
check watch_dump_dir_created_0700 [ "$(stat -c %a "$tmp/dump/new" 2>/dev/null)" = 700 ]
python3 - "$tmp/w.jsonl" "$tmp/dump/new" "$tmp/exec.jsonl" <<'PY'
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
events = [l for l in lines if l.get("schema") == "gsmapper.event/v1"]
samples = [l for l in lines if l.get("schema") == "gsmapper.sample/v1"]
stats = [l for l in lines if l.get("schema") == "gsmapper.watch-stats/v1"]
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
kill = [e for e in events if e["kind"] == "oom_kill"]
check("watch_oom_kill_event", len(kill) == 1 and kill[0]["level"] == "critical", str([e["kind"] for e in events]))
if kill:
    before = [e for e in events if e["kind"] == "eta" and e["state"] == "firing" and e["level"] in ("warn", "critical")
              and e["time_ms"] < kill[0]["time_ms"]]
    lead = (kill[0]["time_ms"] - before[0]["time_ms"]) / 1000 if before else None
    check("watch_eta_warns_before_kill", bool(before), str([(e["kind"], e["level"], e["state"]) for e in events]))
    print(f"# lead time of the first warn/critical: {lead} s")
    e = before[0] if before else {}
    check("watch_eta_event_fields", e.get("eta_seconds") is not None and e.get("threshold") and e.get("target", {}).get("type") == "cgroup"
          and "slope_bytes_per_second" in e.get("evidence", {}), json.dumps(e)[:300])
# hysteresis: never two firing events in a row of the same kind and level without a change between
seen = {}
dup = False
for e in events:
    k = (e["kind"],)
    if e["kind"] in ("eta", "growth", "pressure"):
        if e["state"] == "firing" and seen.get(k) == ("firing", e["level"]):
            dup = True
        seen[k] = (e["state"], e["level"])
conds = [e for e in events if e["kind"] in ("eta", "growth", "pressure")]
check("watch_one_event_per_condition", len(conds) >= 1 and not dup,
      f"{len(conds)} condition events: " + str([(e["kind"], e["state"], e["level"]) for e in events]))
check("watch_samples", len(samples) >= 10 and all(s["limit_bytes"] == 192 << 20 for s in samples),
      f"{len(samples)} samples")
check("watch_stats", len(stats) == 1 and stats[0]["tiers"]["cgroup"]["reads"] >= 10, str(stats))
bundles = [d for d in os.listdir(sys.argv[2]) if d.startswith("gsmapper-")]
tmps = [d for d in os.listdir(sys.argv[2]) if d.startswith(".tmp")]
check("watch_bundle_written", len(bundles) >= 1 and not tmps, f"{os.listdir(sys.argv[2])}")
bev = [e for e in events if e["kind"] == "bundle"]
check("watch_bundle_event", bool(bev) and all(os.path.isdir(e["bundle"]) for e in bev), str(bev)[:300])
if bundles:
    b = os.path.join(sys.argv[2], sorted(bundles)[-1])
    files = set(os.listdir(b))
    ok = {"summary.txt", "samples.jsonl", "explain.json", "cgroup", "MANIFEST"} <= files
    check("watch_bundle_contents", ok, str(files))
    if ok:
        ex = json.load(open(os.path.join(b, "explain.json")))
        check("watch_bundle_explain_json", ex.get("schema") == "gsmapper.explain/v1", str(ex)[:200])
        check("watch_bundle_summary", "grew most" in open(os.path.join(b, "summary.txt")).read())
# every bundle keeps every field of every sample, as --emit-samples showed it live (the one
# written at the kill has the kill in its last sample)
key = lambda x: (json.dumps(x["target"], sort_keys=True), x["time_ms"])
live = {key(x): x for x in samples}
kept, diff = [], []
for bd in bundles:
    for l in open(os.path.join(sys.argv[2], bd, "samples.jsonl")):
        x = json.loads(l)
        kept.append(x)
        y = live.get(key(x), {})
        diff += [(k, x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)]
check("watch_bundle_samples_equal_live", len(kept) >= 10 and not diff and
      any(x["working_set_bytes"] > 0 for x in kept) and any(x["oom_kill"] >= 1 for x in kept),
      f"{len(kept)} kept, {len(diff)} differences: {diff[:4]}")
ex = [json.loads(l) for l in open(sys.argv[3])] if os.path.exists(sys.argv[3]) else []
check("watch_exec_gets_events", len(ex) >= 2 and all(e.get("schema") == "gsmapper.event/v1" for e in ex), f"{len(ex)} via --exec")
PY

# `watch PID` (not --cgroup), as a user watching one process does: the process is OOM-killed in
# its cgroup. The kill is reported for the process (an oom_kill event, not only "gone"), with a
# bundle; its samples keep its cgroup's limit to the end (an exiting process is put in the root
# cgroup by the kernel: following it there lost the kill).
stop_target
for _ in $(seq 1 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.05; done
start_target "$CTARGETS_DIR/grow" -s 8 -i 250 -m 0 -w || { fail watch_pid_start "grow did not start"; exit 0; }
echo "$TARGET_PID" > "$cg/cgroup.procs"
timeout 120 "$GSM" watch "$TARGET_PID" --interval 0.5 --emit-samples --dump-dir "$tmp/dump/pid" > "$tmp/p.jsonl" 2> "$tmp/p.err" &
WPID=$!
sleep 2
echo go >&9
wait "$WPID"; rc=$?; WPID=
check watch_pid_ends_after_kill [ $rc -eq 0 ]
python3 - "$tmp/p.jsonl" "$tmp/dump/pid" <<'PY'
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
events = [l for l in lines if l.get("schema") == "gsmapper.event/v1"]
samples = [l for l in lines if l.get("schema") == "gsmapper.sample/v1"]
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
kill = [e for e in events if e["kind"] == "oom_kill"]
check("watch_pid_oom_kill_event", len(kill) == 1 and kill[0]["target"]["type"] == "process"
      and "OOM killer" in kill[0]["message"], str([(e["kind"], e["message"][:60]) for e in events])[:400])
check("watch_pid_samples_keep_the_limit", len(samples) >= 4 and all(s["limit_bytes"] == 192 << 20 for s in samples),
      str(sorted({s["limit_bytes"] for s in samples})))
bev = [e for e in events if e["kind"] == "bundle"]
kb = [e for e in bev if "OOM killer" in e["message"]]
check("watch_pid_kill_bundle", bool(kb) and all(os.path.isdir(e["bundle"]) for e in kb), str(bev)[:300])
PY
