#!/usr/bin/env bash
# PID churn (issue 12, item 5): tests/targets/churn forks/exits CHURN_RATE children a second
# (default 2,000) for STRESS_SECONDS (default 600) while `gsmapper serve --all` is scraped every
# ~0.2 s and `gsmapper watch --all -o json --emit-samples` runs. Checks (tests/stress/churn_check.py):
# both gsmapper processes alive at the end and exit 0 on SIGTERM; every scrape HTTP 200 and every
# line in the text format, promtool on a few whole scrapes; no per-process series or sample
# attributed to the wrong process (churn.c's comm+threads fingerprint, and each "k<seq>" at the
# PID churn gave seq and not after seq was reaped); gsmapper_errors_total (and watch's error
# counts) not grown by the churn (an exited process is "gone", not an error).
# As root with unshare(1) it runs in a private PID namespace and churn hands PIDs out of a window
# of CHURN_WINDOW (default 1024) numbers (children live 200 ms, every 50th 3 s: ~700 alive), so a PID is reused about every half second (without it,
# every pid_max / rate seconds). Prints PASS/FAIL lines and one "RESULT pid_churn ..." line.
# Env: GSMAPPER, GSM_CTARGETS_DIR, STRESS_SECONDS, CHURN_RATE, CHURN_WINDOW, STRESS_INTERVAL
# (gsmapper's tick, default 1), STRESS_OUT (keep the records there; default a temp dir).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
GSM=$(realpath "$GSM")
CHURN=$(realpath "$CTARGETS_DIR/churn" 2>/dev/null)
S=${STRESS_SECONDS:-600} RATE=${CHURN_RATE:-2000} INTERVAL=${STRESS_INTERVAL:-1}
[ -x "$CHURN" ] || { skip pid_churn "no $CTARGETS_DIR/churn (make build)"; exit 0; }

if [ -z "${STRESS_IN_NS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
   unshare -pf --mount-proc true 2>/dev/null; then
  exec unshare -pf --mount-proc env STRESS_IN_NS=1 GSMAPPER="$GSM" GSM_CTARGETS_DIR="$(dirname "$CHURN")" \
    bash "$0" "$@"
fi
window=()
[ -n "${STRESS_IN_NS:-}" ] && window=(-w "${CHURN_WINDOW:-1024}")

out=${STRESS_OUT:-}
if [ -z "$out" ]; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
mkdir -p "$out"; rm -f "$out/stop" "$out"/scrape-*.prom "$out"/*.json
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
SPID= WPID= CPID= KPID=
cleanup() { for p in $SPID $WPID $CPID $KPID; do kill "$p" 2>/dev/null; done; }
trap 'cleanup; [ -z "${STRESS_OUT:-}" ] && rm -rf "$out"' EXIT

"$GSM" serve --all --listen "127.0.0.1:$port" --interval "$INTERVAL" --top 100000 --max-series 0 \
  > "$out/serve.jsonl" 2> "$out/serve.err" &
SPID=$!
"$GSM" watch --all -o json --interval "$INTERVAL" --emit-samples --stats \
  > >(python3 "$here/churn_check.py" samples "$out") 2> "$out/watch.err" &
WPID=$!
for _ in $(seq 1 300); do curl -sf "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf --max-time 15 "$url/metrics" > "$out/before.prom" || { fail pid_churn_serve_up "no /metrics: $(tail -n 3 "$out/serve.err")"; exit 0; }

python3 "$here/churn_check.py" scrape "$url/metrics" "$out/stop" "$out" &
KPID=$!
# the scraper's first scrape before the churn starts (a loaded machine can take seconds to start it)
for _ in $(seq 1 600); do [ -e "$out/scrape-0.prom" ] && break; sleep 0.1; done
t0=$(date +%s.%N)
"$CHURN" -r "$RATE" -s "$S" -L 3000 "${window[@]}" -o "$out/churn.log" > "$out/churn.out" 2>&1 &
CPID=$!
wait "$CPID"; CPID=
sleep $((2 * INTERVAL + 2))       # gsmapper sees the last exits
curl -sf --max-time 15 "$url/metrics" > "$out/after.prom"
touch "$out/stop"; wait "$KPID"; KPID=
t1=$(date +%s.%N)

# RSS and CPU of both before they stop
usage() {   # PID -> "rss_kib hwm_kib cpu_seconds"
  local rss hwm cpu
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null)
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null)
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat" 2>/dev/null)
  echo "${rss:-?} ${hwm:-?} ${cpu:-?}"
}
read -r s_rss s_hwm s_cpu <<<"$(usage "$SPID")"
read -r w_rss w_hwm w_cpu <<<"$(usage "$WPID")"
alive=1
kill -0 "$SPID" 2>/dev/null || alive=0
kill -0 "$WPID" 2>/dev/null || alive=0
kill -TERM "$SPID" "$WPID" 2>/dev/null
wait "$SPID"; src=$?; SPID=
wait "$WPID"; wrc=$?; WPID=
for _ in $(seq 1 600); do [ -s "$out/samples.json" ] && break; sleep 0.1; done
python3 "$here/churn_check.py" verify "$out/churn.log" "$out"
promtool_rc=0 promtool_out=
if command -v promtool >/dev/null; then
  for f in "$out"/before.prom "$out"/scrape-*.prom "$out"/after.prom; do
    [ -s "$f" ] || continue
    o=$(promtool check metrics < "$f" 2>&1) || { promtool_rc=1; promtool_out="$f: $(head -c 300 <<<"$o")"; }
  done
fi

python3 - "$out" "$alive" "$src" "$wrc" "$promtool_rc" "$promtool_out" "$t0" "$t1" \
  "$s_rss $s_hwm $s_cpu" "$w_rss $w_hwm $w_cpu" "$RATE" "$S" <<'PY'
import json, os, re, sys
out, alive, src, wrc, prc, pout = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
t0, t1 = float(sys.argv[7]), float(sys.argv[8])
srv, wat, target, want_s = sys.argv[9].split(), sys.argv[10].split(), float(sys.argv[11]), float(sys.argv[12])
def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
def load(n):
    try: return json.load(open(os.path.join(out, n)))
    except Exception as e: return {"_error": repr(e)}
sc, sa, ve = load("scrape.json"), load("samples.json"), load("verify.json")
churn = open(os.path.join(out, "churn.out")).read()
m = re.search(r"forks=(\d+) exits=(\d+) seconds=([\d.]+) rate=(\d+)/s .*reused_pids=(\d+)", churn)
forks, exits, secs, rate, reused = (int(m[1]), int(m[2]), float(m[3]), int(m[4]), int(m[5])) if m else (0, 0, 0, 0, 0)
print(f"# churn: {churn.strip()}")
check("pid_churn_ran", m is not None and exits == forks and rate >= target * 0.1 and secs >= want_s * 0.95
      and "stopped_by_signal=0" in churn, churn.strip()[-300:])
check("pid_churn_no_crash", alive and src == 0 and wrc == 0,
      f"alive at the end: {alive}; serve exit {src}, watch exit {wrc}")
def errors(path):
    d = {}
    for l in open(path):
        mm = re.match(r'gsmapper_errors_total\{tier="([^"]*)",reason="([^"]*)"\} (\S+)', l)
        if mm: d[f"{mm[1]}/{mm[2]}"] = float(mm[3])
        mm = re.match(r'gsmapper_targets_gone_total\{tier="([^"]*)"\} (\S+)', l)
        if mm: d[f"gone:{mm[1]}"] = float(mm[2])
    return d
try:
    b, a = errors(os.path.join(out, "before.prom")), errors(os.path.join(out, "after.prom"))
except OSError as e:
    b, a = {}, {}
grown = {k: a[k] - b.get(k, 0) for k in a if not k.startswith("gone:") and a[k] > b.get(k, 0)}
gone = {k[5:]: int(a[k] - b.get(k, 0)) for k in a if k.startswith("gone:") and a[k] > b.get(k, 0)}
check("pid_churn_serve_no_errors_from_exits", bool(a) and not grown, f"errors_total grew: {grown}" if a else "no final scrape")
wst = (sa.get("stats") or {}).get("tiers", {})
werr = {k: v.get("errors", 0) for k, v in wst.items() if v.get("errors", 0)}
check("pid_churn_watch_no_errors_from_exits", bool(wst) and not werr, f"watch tier errors: {werr}" if wst else f"no watch stats: {sa}")
check("pid_churn_scrapes_parse", sc.get("scrapes", 0) > 0 and sc.get("failed", 1) == 0 and not sc.get("bad_lines"),
      f"{sc.get('failed')} of {sc.get('scrapes')} failed: {sc.get('failures')} {sc.get('bad_lines', [])[:3]}")
check("pid_churn_promtool", prc == 0, pout)
check("pid_churn_series_attribution", sc.get("checked", 0) > 0 and not sc.get("wrong") and not sc.get("mixed_names"),
      f"{sc.get('wrong')} {sc.get('mixed_names')}")
check("pid_churn_sample_attribution", sa.get("checked", 0) > 0 and not sa.get("wrong") and not sa.get("invalid"),
      f"{sa.get('wrong')} {sa.get('invalid')}")
check("pid_churn_pid_and_lifetime", ve.get("checked", 0) > 0 and not ve.get("wrong"), f"{ve.get('wrong')}")
check("pid_churn_children_seen", sc.get("k_series", 0) > 0 and sa.get("k_samples", 0) > 0,
      f"no churn child in the scrapes ({sc.get('k_series')}) or samples ({sa.get('k_samples')})")
el = t1 - t0
cpu = lambda v: f"{float(v) / el * 100:.1f}%" if v != "?" else "?"
print(f"RESULT pid_churn seconds={secs:.0f} forks={forks} rate={rate}/s target={target:.0f}/s reused_pids={reused} "
      f"scrapes={sc.get('scrapes')} failed={sc.get('failed')} max_scrape_s={sc.get('latency_max_s', 0):.2f} "
      f"max_scrape_bytes={sc.get('bytes_max')} child_series={sc.get('k_series')} child_samples={sa.get('k_samples')} "
      f"samples={sa.get('samples')} checked={ve.get('checked')} "
      f"serve_rss_kib={srv[0]} serve_hwm_kib={srv[1]} serve_cpu={cpu(srv[2])} "
      f"watch_rss_kib={wat[0]} watch_hwm_kib={wat[1]} watch_cpu={cpu(wat[2])} "
      f"errors_grown={grown or 0} watch_errors={werr or 0} gone={gone}")
PY
