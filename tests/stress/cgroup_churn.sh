#!/usr/bin/env bash
# cgroup churn (issue 12, item 5): CG_RATE (default 100) memory cgroups a second are created and
# removed (children of our own v1 memory cgroup, each with a limit of (i % 16 + 1) MiB and living
# CG_LIFETIME_MS, default 500; every 25th lives 3 s, so a sampler slowed by a loaded machine or
# ASan still has cgroups to check — one CI run saw none in 6 s) for STRESS_SECONDS (default 600) while `gsmapper serve --all` (it
# watches every cgroup with a limit) is scraped every ~0.2 s. Checks: serve alive at the end and
# exit 0 on SIGTERM; 0 failed scrapes (HTTP 200, every line in the text format, promtool on a few);
# every churn cgroup's gsmapper_cgroup_limit_bytes is the limit it was made with;
# gsmapper_errors_total not grown (a removed cgroup is "gone", not an error). As root with unshare(1)
# it runs in a private PID namespace, so serve sees no process but ours (else only the cgroup
# tier's errors are judged: the other processes of the machine are not ours).
# Prints PASS/FAIL lines and one "RESULT cgroup_churn ..." line.
# Env: GSMAPPER, STRESS_SECONDS, CG_RATE, CG_LIFETIME_MS, STRESS_INTERVAL (default 0.5),
# STRESS_OUT (keep the records there).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
S=${STRESS_SECONDS:-600} RATE=${CG_RATE:-100} LIFE=${CG_LIFETIME_MS:-500} INTERVAL=${STRESS_INTERVAL:-0.5}
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ]; then
  skip cgroup_churn "needs root and our own cgroup under the v1 memory controller ($V1)"; exit 0
fi
if [ -z "${STRESS_IN_NS:-}" ] && command -v unshare >/dev/null && unshare -pf --mount-proc true 2>/dev/null; then
  # In a private PID namespace serve sees our processes only: any error it counts is ours.
  exec unshare -pf --mount-proc env STRESS_IN_NS=1 GSMAPPER="$(realpath "$GSM")" bash "$0" "$@"
fi
base=$V1${own%/}/gsm-stress-cg-$(date +%s%N)
out=${STRESS_OUT:-}
if [ -z "$out" ]; then out=$(mktemp -d); fi
mkdir -p "$out"; rm -f "$out/stop" "$out"/scrape-*.prom "$out"/*.json
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
SPID= KPID= CPID=
cleanup() {
  for p in $SPID $KPID $CPID; do kill "$p" 2>/dev/null; done
  [ -d "$base" ] && { rmdir "$base"/c* 2>/dev/null; rmdir "$base" 2>/dev/null; }
  [ -z "${STRESS_OUT:-}" ] && rm -rf "$out"
}
trap cleanup EXIT
mkdir "$base" || { fail cgroup_churn_setup "cannot make $base"; exit 0; }

"$GSM" serve --all --listen "127.0.0.1:$port" --interval "$INTERVAL" > "$out/serve.jsonl" 2> "$out/serve.err" &
SPID=$!
for _ in $(seq 1 300); do curl -sf "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf --max-time 15 "$url/metrics" > "$out/before.prom" || { fail cgroup_churn_serve_up "no /metrics: $(tail -n 3 "$out/serve.err")"; exit 0; }

python3 "$here/churn_check.py" scrape "$url/metrics" "$out/stop" "$out" &
KPID=$!
# the scraper's first scrape before the churn starts (a loaded machine can take seconds to start it)
for _ in $(seq 1 600); do [ -e "$out/scrape-0.prom" ] && break; sleep 0.1; done
t0=$(date +%s.%N)
python3 - "$base" "$S" "$RATE" "$LIFE" > "$out/churn.out" 2>&1 <<'PY' &
import collections, os, sys, time
base, secs, rate, life = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) / 1000
alive = collections.deque()
made = removed = failed = 0
t0 = time.monotonic(); nxt = t0
while True:
    now = time.monotonic()
    if now - t0 >= secs:
        break
    while alive and alive[0][0] <= now:
        _, d = alive.popleft()
        try: os.rmdir(d); removed += 1
        except OSError: failed += 1
    if now >= nxt:
        d = f"{base}/c{made}"
        try:
            os.mkdir(d)
            with open(f"{d}/memory.limit_in_bytes", "w") as f:
                f.write(str((made % 16 + 1) << 20))
            alive.append((now + (max(life, 3.0) if made % 25 == 0 else life), d))
            alive = collections.deque(sorted(alive))
            made += 1
        except OSError as e:
            failed += 1; print(e, file=sys.stderr)
        nxt += 1 / rate
        if nxt < now - 0.1:
            nxt = now   # behind: the rate printed is what was done
    time.sleep(max(0, min(nxt, alive[0][0] if alive else nxt) - time.monotonic()))
el = time.monotonic() - t0
for _, d in alive:
    try: os.rmdir(d); removed += 1
    except OSError: failed += 1
print(f"CGCHURN created={made} removed={removed} failed={failed} seconds={el:.1f} rate={made / el:.0f}/s target={rate:.0f}/s")
PY
CPID=$!
wait "$CPID"; CPID=
sleep 2
curl -sf --max-time 15 "$url/metrics" > "$out/after.prom"
touch "$out/stop"; wait "$KPID"; KPID=
t1=$(date +%s.%N)
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SPID/status" 2>/dev/null)
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SPID/status" 2>/dev/null)
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' "/proc/$SPID/stat" 2>/dev/null)
alive=1; kill -0 "$SPID" 2>/dev/null || alive=0
kill -TERM "$SPID"; wait "$SPID"; src=$?; SPID=
promtool_rc=0 promtool_out=
if command -v promtool >/dev/null; then
  for f in "$out"/before.prom "$out"/scrape-*.prom "$out"/after.prom; do
    [ -s "$f" ] || continue
    o=$(promtool check metrics < "$f" 2>&1) || { promtool_rc=1; promtool_out="$f: $(head -c 300 <<<"$o")"; }
  done
fi
python3 - "$out" "$alive" "$src" "$promtool_rc" "$promtool_out" "$t0" "$t1" "${rss:-?}" "${hwm:-?}" "${cpu:-?}" "$RATE" \
  "${STRESS_IN_NS:-}" <<'PY'
import json, os, re, sys
in_ns = sys.argv[12] == "1"   # else serve sees the whole machine: only the cgroup tier is ours
out, alive, src, prc, pout = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
el = float(sys.argv[7]) - float(sys.argv[6]); rss, hwm, cpu, target = sys.argv[8], sys.argv[9], sys.argv[10], float(sys.argv[11])
def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
try: sc = json.load(open(os.path.join(out, "scrape.json")))
except Exception as e: sc = {"_error": repr(e)}
churn = open(os.path.join(out, "churn.out")).read().strip()
m = re.search(r"created=(\d+) removed=(\d+) failed=(\d+) seconds=([\d.]+) rate=(\d+)/s", churn)
print(f"# {churn}")
check("cgroup_churn_ran", m is not None and int(m[3]) == 0 and int(m[1]) == int(m[2]) and int(m[5]) >= target * 0.1, churn[-300:])
check("cgroup_churn_no_crash", alive and src == 0, f"alive at the end: {alive}; serve exit {src}")
check("cgroup_churn_scrapes_parse", sc.get("scrapes", 0) > 0 and sc.get("failed", 1) == 0 and not sc.get("bad_lines"),
      f"{sc.get('failed')} of {sc.get('scrapes')} failed: {sc.get('failures')} {sc.get('bad_lines', [])[:3]}")
check("cgroup_churn_promtool", prc == 0, pout)
check("cgroup_churn_limits_attributed", sc.get("cg_series", 0) > 0 and not sc.get("wrong"),
      f"{sc.get('cg_series', 0)} churn cgroup series; {sc.get('wrong')}")
def errors(path):
    d = {}
    for l in open(path):
        mm = re.match(r'gsmapper_errors_total\{tier="([^"]*)",reason="([^"]*)"\} (\S+)', l)
        if mm: d[f"{mm[1]}/{mm[2]}"] = float(mm[3])
        mm = re.match(r'gsmapper_targets_gone_total\{tier="([^"]*)"\} (\S+)', l)
        if mm: d[f"gone:{mm[1]}"] = float(mm[2])
    return d
try: b, a = errors(os.path.join(out, "before.prom")), errors(os.path.join(out, "after.prom"))
except OSError: b, a = {}, {}
grown = {k: a[k] - b.get(k, 0) for k in a if not k.startswith("gone:") and a[k] > b.get(k, 0)}
gone = {k[5:]: int(a[k] - b.get(k, 0)) for k in a if k.startswith("gone:") and a[k] > b.get(k, 0)}
if not in_ns:
    print(f"# not in a private PID namespace: errors outside the cgroup tier not judged: {grown}")
    grown = {k: v for k, v in grown.items() if k.startswith("cgroup/")}
check("cgroup_churn_no_errors_from_removals", bool(a) and not grown, f"errors_total grew: {grown}" if a else "no final scrape")
pct = f"{float(cpu) / el * 100:.1f}%" if cpu != "?" else "?"
print(f"RESULT cgroup_churn seconds={m[4] if m else '?'} created={m[1] if m else '?'} rate={m[5] if m else '?'}/s "
      f"target={target:.0f}/s scrapes={sc.get('scrapes')} failed={sc.get('failed')} max_scrape_s={sc.get('latency_max_s', 0):.2f} "
      f"churn_cgroup_series={sc.get('cg_series', 0)} serve_rss_kib={rss} serve_hwm_kib={hwm} serve_cpu={pct} "
      f"errors_grown={grown or 0} gone={gone}")
PY
