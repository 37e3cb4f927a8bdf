#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller, python3): watch keeps sampling while a flight-recorder
# bundle is being written (issue 10). A child memory cgroup of our own (96 MiB limit) gets a
# python3 leak of ~16 MiB/s; `gsmapper watch --cgroup --interval 0.2 --emit-samples --dump-dir`
# watches it with GSMAPPER_TEST_BUNDLE_DELAY_MS=6000 (a test aid: every bundle's capture sleeps
# 6 s before explain, as a slow explain on a loaded machine would). The critical eta event's
# bundle is then still being written when the OOM kill comes. Checks:
#  - bundle_async_no_gap: from the first bundle-wanting event to the end, no two consecutive
#    samples of the target are more than 2 intervals + 1.5 s apart (a synchronous bundle left a
#    gap of the whole 6 s delay);
#  - bundle_async_kill_bundle: an oom_kill bundle is written (with its "bundle" event);
#  - bundle_async_kill_samples: its samples.jsonl reaches >= 85% of the limit (the samples up to
#    the kill, not up to the warning before it);
#  - bundle_async_whole: every bundle has a MANIFEST, no .tmp-gsmapper-* is left.
# About 25 s.
set -u
. "$(dirname "$0")/../lib.sh"

V1=/sys/fs/cgroup/memory
LIMIT=$((96 << 20))
CHECKS="bundle_async_watch_ran bundle_async_no_gap bundle_async_kill_bundle bundle_async_kill_samples bundle_async_whole"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a memory cgroup)"
awk '$5 == "'"$V1"'" { for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "cgroup" && ("," $(i+3) ",") ~ /,memory,/) found = 1 }
     END { exit !found }' /proc/self/mountinfo || skip_all "cgroup v1 memory controller not mounted at $V1"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
"$GSM" watch --help >/dev/null 2>&1 || skip_all "$GSM has no watch command"

own=$(own_memory_cgroup)
[ -n "$own" ] || skip_all "no memory line in /proc/self/cgroup"
[ -d "$V1$own" ] || skip_all "own memory cgroup $V1$own not visible"
REL=${own%/}/gsm-bundle-async-$$
CG=$V1$REL
tmp=$(mktemp -d)
WPID= LPID=
cleanup() {
  [ -n "$LPID" ] && kill -9 "$LPID" 2>/dev/null
  [ -n "$WPID" ] && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
  for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for _ in $(seq 1 30); do [ -d "$CG" ] || break; rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$CG" && echo "$LIMIT" > "$CG/memory.limit_in_bytes" || skip_all "cannot make $CG"
mkdir "$tmp/dump"

GSMAPPER_TEST_BUNDLE_DELAY_MS=6000 "$GSM" watch --cgroup "$REL" --interval 0.2 --warmup 0 --emit-samples \
  --dump-dir "$tmp/dump" --duration 20 > "$tmp/out" 2> "$tmp/err" &
WPID=$!
sleep 1
# The leak moves itself into the cgroup first, so every page it touches is charged there.
(sh -c 'echo $$ > "$1/cgroup.procs" && exec python3 -c "
import time
a = []
while True:
    a.append(bytearray(b\"\\x01\") * (4 << 20))
    time.sleep(0.25)
"' leak "$CG"; :) 2>/dev/null &   # a subshell: its OOM kill is not reported here
LPID=$!
wait "$WPID"
rc=$?
WPID=
kill -9 "$LPID" 2>/dev/null; { wait "$LPID"; } 2>/dev/null; LPID=
if [ $rc -ne 0 ]; then
  fail bundle_async_watch_ran "watch exited $rc: $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
  exit 0
fi
pass bundle_async_watch_ran

python3 - "$tmp/out" "$tmp/dump" "$LIMIT" <<'PY'
import json, os, sys
out, dump, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
samples, events = [], []
for line in open(out):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("schema") == "gsmapper.sample/v1":
        samples.append(o["time_ms"])
    elif o.get("schema") == "gsmapper.event/v1":
        events.append(o)
def res(name, ok, why):
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}")
crit = [e["time_ms"] for e in events if e.get("level") == "critical" and e.get("state") == "firing"]
if not crit:
    res("bundle_async_no_gap", False, "no critical event (events: %s)" % [(e["kind"], e["level"]) for e in events])
else:
    after = sorted(t for t in samples if t >= crit[0] - 200)
    gaps = [b - a for a, b in zip(after, after[1:])]
    mx = max(gaps) if gaps else None
    print(f"# {len(after)} samples after the first critical event, largest gap {mx} ms")
    res("bundle_async_no_gap", mx is not None and mx <= 2 * 200 + 1500 and len(after) >= 20,
        f"largest gap between samples {mx} ms over {len(after)} samples (want <= 1900 ms)")
kills = []
for n in sorted(os.listdir(dump)):
    p = os.path.join(dump, n)
    if not n.startswith("gsmapper-"):
        continue
    try:
        ev = json.load(open(os.path.join(p, "event.json")))
    except (OSError, ValueError):
        continue
    if ev.get("kind") == "oom_kill":
        kills.append(p)
bev = [e for e in events if e.get("kind") == "bundle" and e.get("bundle")]
res("bundle_async_kill_bundle", bool(kills) and any(e.get("bundle") in kills for e in bev),
    f"oom_kill bundles {kills}, bundle events {[e.get('bundle') for e in bev]}")
if kills:
    us = [json.loads(l).get("usage_bytes", 0) for l in open(os.path.join(kills[0], "samples.jsonl")) if l.strip()]
    mx = max(us) if us else 0
    print(f"# oom_kill bundle: {len(us)} samples, highest usage {mx / 1048576:.1f} MiB of {limit / 1048576:.0f} MiB")
    res("bundle_async_kill_samples", mx >= 0.85 * limit, f"highest usage in its samples.jsonl {mx} < 85% of {limit}")
else:
    res("bundle_async_kill_samples", False, "no oom_kill bundle")
bad = [n for n in os.listdir(dump) if n.startswith(".tmp-gsmapper-")]
bad += [n for n in os.listdir(dump) if n.startswith("gsmapper-") and not os.path.exists(os.path.join(dump, n, "MANIFEST"))]
res("bundle_async_whole", not bad and len(os.listdir(dump)) >= 1, f"left behind or partial: {bad}, all: {os.listdir(dump)}")
PY
