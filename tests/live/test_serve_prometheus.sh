#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller, Debian's `prometheus`): a real Prometheus server on
# loopback scrapes `gsmapper serve`, which watches a leaking target in a child memory cgroup of
# our own with a 256 MiB limit, until the memcg OOM killer kills the target. Everything is read
# back through Prometheus's HTTP API (/api/v1/targets, query, query_range, alerts, rules):
#   - the scrape target is up and gsmapper_cgroup_limit_bytes{cgroup=...} is 268435456;
#   - gsmapper_cgroup_oom_eta_seconds{cgroup=...} becomes finite and falls as the leak goes on;
#   - the alert GsmapperOOMPredicted (deploy/prometheus/gsmapper-rules.yml, severity warning:
#     ETA < 300 s) goes pending, then firing, both before the OOM kill;
#   - after the kill gsmapper_cgroup_oom_kills_total{cgroup=...} has increased, and the
#     GsmapperOOMKilled alert fires.
# The timeline (seconds since the leak started) is printed as `# ...` lines.
#
# Timing: the watch engine gives no ETA while the cgroup's oldest process is younger than its
# warm-up (20 s; serve has no --warmup), so the target is started idle, Prometheus is started
# and checked meanwhile, and the leak begins 22 s after the target started. The leak is 2 MiB
# per 500 ms (about 4 MiB/s), so the 256 MiB limit is reached about 65 s later; the whole test
# takes about 100 s and every wait is bounded (worst case about 150 s).
# Prometheus runs with scrape_interval and evaluation_interval 1s, on a copy of the rules whose
# `for:` durations are all shortened to 5s by sed (1m / 30s / 5m / 10m in the shipped file), so
# that pending -> firing happens within the leak. Set GSM_PROM_RULES to test another rules file;
# when deploy/prometheus/gsmapper-rules.yml is missing, a minimal one is written here.
set -u
. "$(dirname "$0")/../lib.sh"

V1=/sys/fs/cgroup/memory
LIMIT=$((256 << 20))
grow=$CTARGETS_DIR/grow
PROM=${PROMETHEUS:-$(command -v prometheus 2>/dev/null)}
RULES=${GSM_PROM_RULES:-$(cd "$(dirname "$0")/../.." && pwd)/deploy/prometheus/gsmapper-rules.yml}
CHECKS="prom_setup_cgroup prom_serve_listening prom_server_ready prom_rules_loaded prom_target_up
  prom_limit_bytes prom_classes_sum prom_eta_finite prom_eta_falls prom_alert_pending prom_alert_firing
  prom_alert_before_kill prom_oom_kill prom_oom_kills_metric prom_oom_killed_alert prom_serve_bundle"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a memory cgroup)"
awk '$5 == "'"$V1"'" { for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "cgroup" && ("," $(i+3) ",") ~ /,memory,/) found = 1 }
     END { exit !found }' /proc/self/mountinfo ||
  skip_all "cgroup v1 memory controller not mounted at $V1"
[ -n "$PROM" ] && [ -x "$PROM" ] || skip_all "no prometheus binary (apt-get install prometheus)"
[ -x "$grow" ] || skip_all "target $grow not built"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
own=$(own_memory_cgroup)
[ -n "$own" ] || skip_all "no memory line in /proc/self/cgroup"
[ -d "$V1$own" ] || skip_all "own memory cgroup $V1$own not visible (cgroup namespace?)"
REL=${own%/}/gsm-prom-test-$$ # relative to the v1 hierarchy root (what --cgroup takes)
CG=$V1$REL

tmp=$(mktemp -d)
SPID='' PPID_PROM='' PYPID=''
alive() { # PID running (not gone, not a zombie)
  local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
stop_pid() { # TERM, up to 5 s, then KILL
  local p=$1 _
  [ -n "$p" ] || return 0
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 1 100); do alive "$p" || break; sleep 0.05; done
  alive "$p" && kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
}
cleanup() {
  local _ p
  stop_pid "$PYPID"
  stop_pid "$PPID_PROM"
  stop_pid "$SPID"
  stop_target
  if [ -d "$CG" ]; then
    for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    for _ in $(seq 1 100); do [ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.05; done
    for _ in $(seq 1 20); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
    [ -d "$CG" ] && echo "FAIL cleanup: could not remove $CG (procs: $(tr '\n' ' ' < "$CG/cgroup.procs"))"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# http_ok URL [BODY-REGEX]: GET returns 200 (and the body matches)
http_ok() {
  python3 - "$1" "${2:-}" <<'PY' 2>/dev/null
import re, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        body = r.read().decode("utf-8", "replace")
        sys.exit(0 if r.status == 200 and re.search(sys.argv[2], body) else 1)
except Exception:
    sys.exit(1)
PY
}
# fail_rest WHY: FAIL every check not yet reported, then exit
REPORTED=' '
report() { REPORTED="$REPORTED$1 "; }
fail_rest() {
  local n
  for n in $CHECKS; do case "$REPORTED" in *" $n "*) ;; *) fail "$n" "$1" ;; esac; done
  exit 0
}
P() { pass "$1"; report "$1"; }
F() { fail "$1" "$2"; report "$1"; }

START=$(date +%s)

# ---- 1. the cgroup (256 MiB, memsw too when present, so nothing can swap) and the idle target
if ! mkdir "$CG" 2> "$tmp/err" ||
   ! echo "$LIMIT" > "$CG/memory.limit_in_bytes" 2>> "$tmp/err" ||
   { [ -e "$CG/memory.memsw.limit_in_bytes" ] && ! echo "$LIMIT" > "$CG/memory.memsw.limit_in_bytes" 2>> "$tmp/err"; }; then
  F prom_setup_cgroup "create $CG with a $LIMIT limit: $(tr '\n' ' ' < "$tmp/err")"; fail_rest "no test cgroup"
fi
# The target moves itself into the cgroup before exec'ing grow, so every page it ever touches is
# charged there; grow -w then waits for "go" on fd 9.
if ! start_target sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -s 2 -i 500 -m 0 -w' sh "$CG" "$grow"; then
  F prom_setup_cgroup "grow did not start"; fail_rest "no target"
fi
GSTART=$(date +%s.%N)
if ! grep -qx "$TARGET_PID" "$CG/cgroup.procs"; then
  F prom_setup_cgroup "target $TARGET_PID not in $CG/cgroup.procs ($(tr '\n' ' ' < "$CG/cgroup.procs"))"; fail_rest "no target"
fi
P prom_setup_cgroup

# ---- 2. gsmapper serve on a free port (another process may take the port first: retry)
for _ in 1 2 3; do
  P1=$(free_port)
  mkdir -p "$tmp/bundles"
  "$GSM" serve --listen "127.0.0.1:$P1" --cgroup "$REL" --interval 1 --quiet --dump-dir "$tmp/bundles" \
    > "$tmp/serve.out" 2> "$tmp/serve.err" &
  SPID=$!
  ok=
  for _ in $(seq 1 50); do
    alive "$SPID" || break
    http_ok "http://127.0.0.1:$P1/healthz" '^ok' && { ok=1; break; }
    sleep 0.1
  done
  [ -n "$ok" ] && alive "$SPID" && break
  stop_pid "$SPID"; SPID=
done
if [ -z "$SPID" ]; then
  F prom_serve_listening "gsmapper serve did not answer /healthz: $(head -c 300 "$tmp/serve.err" | tr '\n' ' ')"
  fail_rest "no exporter"
fi
P prom_serve_listening

# ---- 3. Prometheus: 1 s scrapes and rule evaluations, the rules with every `for:` shortened
if [ -r "$RULES" ]; then
  RULES_DESC="$RULES (for: shortened to 5s)"
else
  RULES_DESC="minimal rules written by the test ($RULES missing)"
  RULES=$tmp/minimal-rules.yml
  cat > "$RULES" <<'EOF'
groups:
  - name: gsmapper-test
    rules:
      - alert: GsmapperOOMPredicted
        expr: gsmapper_cgroup_oom_eta_seconds < 300
        for: 1m
        labels:
          severity: warning
      - alert: GsmapperOOMKilled
        expr: increase(gsmapper_cgroup_oom_kills_total[5m]) > 0
        labels:
          severity: critical
EOF
fi
echo "# rules: $RULES_DESC"
# Shorten every `for:` (1m, 30s, 5m, ...) to 5s so that alerts go pending -> firing in seconds.
sed -E 's/^([[:space:]]*for:).*/\1 5s/' "$RULES" > "$tmp/rules.yml"
mkdir -p "$tmp/tsdb"
for _ in 1 2 3; do
  P2=$(free_port)
  [ "$P2" = "$P1" ] && continue
  cat > "$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $tmp/rules.yml
scrape_configs:
  - job_name: gsmapper
    static_configs:
      - targets: ['127.0.0.1:$P1']
EOF
  "$PROM" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$P2" --log.level=warn > "$tmp/prom.log" 2>&1 &
  PPID_PROM=$!
  ok=
  for _ in $(seq 1 300); do # up to 30 s
    alive "$PPID_PROM" || break
    http_ok "http://127.0.0.1:$P2/-/ready" && { ok=1; break; }
    sleep 0.1
  done
  [ -n "$ok" ] && alive "$PPID_PROM" && break
  grep -q 'address already in use' "$tmp/prom.log" || break # any other error: no retry
  stop_pid "$PPID_PROM"; PPID_PROM=
done
if [ -z "$ok" ] || [ -z "$PPID_PROM" ]; then
  F prom_server_ready "prometheus on 127.0.0.1:$P2 not ready: $(tail -c 400 "$tmp/prom.log" | tr '\n' ' ')"
  fail_rest "no Prometheus server"
fi
P prom_server_ready
echo "# serve on 127.0.0.1:$P1 (pid $SPID), prometheus on 127.0.0.1:$P2 (pid $PPID_PROM), cgroup $REL, target $TARGET_PID; setup took $(($(date +%s) - START)) s"

# ---- 4. and 5. everything else through Prometheus's HTTP API; the leak starts 22 s after the
# target did (fd 9 is grow's stdin, inherited by python)
# (in the background with `wait`, so that a SIGTERM to this script is handled at once)
python3 - "http://127.0.0.1:$P2" "$REL" "$TARGET_PID" "$CG" "$GSTART" "$LIMIT" <<'PY' &
import json, math, os, sys, time, urllib.parse, urllib.request

prom, rel, gpid, cgdir, gstart, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
reported = set()
def P(n):
    reported.add(n); print(f"PASS {n}", flush=True)
def F(n, why):
    reported.add(n); print(f"FAIL {n}: {why}", flush=True)
def C(n, ok, why):
    P(n) if ok else F(n, why)
def note(s):
    print(f"# {s}", flush=True)
ALL = ["prom_rules_loaded", "prom_target_up", "prom_limit_bytes", "prom_classes_sum", "prom_eta_finite", "prom_eta_falls",
       "prom_alert_pending", "prom_alert_firing", "prom_alert_before_kill", "prom_oom_kill",
       "prom_oom_kills_metric", "prom_oom_killed_alert"]
def fail_rest(why):
    for n in ALL:
        if n not in reported:
            F(n, why)
    sys.exit(0)

def api(path, **params):
    url = prom + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=3) as r:
        d = json.load(r)
    if d.get("status") != "success":
        raise RuntimeError(f"{path}: {d}")
    return d["data"]
def instant(expr):
    """value of a one-series instant query, None when empty"""
    res = api("/api/v1/query", query=expr)["result"]
    return float(res[0]["value"][1]) if res else None
def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st not in ("Z", "X")
    except (OSError, IndexError):
        return False
def oom_kills():
    try:
        for line in open(os.path.join(cgdir, "memory.oom_control")):
            k, v = line.split()
            if k == "oom_kill":
                return int(v)
    except OSError:
        pass
    return None
sel = '{cgroup="%s"}' % rel

# rules loaded: which alert names does the server know?
try:
    names = {r["name"] for g in api("/api/v1/rules")["groups"] for r in g["rules"] if r.get("type") == "alerting"}
    C("prom_rules_loaded", "GsmapperOOMPredicted" in names, f"no GsmapperOOMPredicted among alerting rules {sorted(names)}")
except Exception as e:
    names = set(); F("prom_rules_loaded", f"/api/v1/rules: {e}")

# the target is up (scraped at least once), within 15 s
up, why = False, "never scraped"
deadline = time.time() + 15
while time.time() < deadline:
    try:
        ts = api("/api/v1/targets")["activeTargets"]
        t = [x for x in ts if x["labels"].get("job") == "gsmapper"]
        if t:
            why = f"health {t[0]['health']!r}, lastError {t[0].get('lastError')!r}"
            if t[0]["health"] == "up" and instant('up{job="gsmapper"}') == 1:
                up = True; break
        else:
            why = f"no gsmapper job among {len(ts)} active targets"
    except Exception as e:
        why = str(e)
    time.sleep(0.25)
C("prom_target_up", up, why)
if not up:
    fail_rest("the gsmapper target is not up")

lim = None
deadline = time.time() + 5
while time.time() < deadline:
    lim = instant("gsmapper_cgroup_limit_bytes" + sel)
    if lim is not None:
        break
    time.sleep(0.25)
C("prom_limit_bytes", lim == limit, f"gsmapper_cgroup_limit_bytes{sel} = {lim}, want {limit}")
# PromQL over the test cgroup's processes: their anonymous classes add up to the cgroup's own
# anonymous memory (memory.stat rss, read here) within 2% (at least 128 KiB: the idle target is
# small), and the recording rule gsmapper:cgroup_anon_classes:bytes says the same.
ANON = 'class=~"go-heap|go-runtime|thread-stack|main-stack|native-heap|anon-other"'
q_proc = 'sum(gsmapper_process_memory_bytes{cgroup="%s",kind="rss",%s})' % (rel, ANON)
q_rule = 'sum(gsmapper:cgroup_anon_classes:bytes{cgroup="%s"})' % rel
got, why = None, "no classes in Prometheus within 10 s"
deadline = time.time() + 10
while time.time() < deadline:
    try:
        got, rule = instant(q_proc), instant(q_rule)
        stat = dict(l.split() for l in open(os.path.join(cgdir, "memory.stat")))
        want = int(stat["rss"])
        if got is not None and rule is not None:
            why = f"{q_proc} = {got}, {q_rule} = {rule}, memory.stat rss {want}"
            if abs(got - want) <= max(0.02 * want, 128 << 10) and rule == got:
                break
    except Exception as e:
        why = str(e)
    time.sleep(0.5)
else:
    got = None
C("prom_classes_sum", got is not None, why)
note(why)
eta0 = instant("gsmapper_cgroup_oom_eta_seconds" + sel)
note(f"before the leak: gsmapper_cgroup_oom_eta_seconds{sel} = {eta0}")
k0 = oom_kills()
m0 = instant("gsmapper_cgroup_oom_kills_total" + sel)

# ---- the leak
wait = gstart + 22 - time.time()
if wait > 0:
    time.sleep(wait)
if not alive(gpid):
    fail_rest(f"target {gpid} died before the leak")
os.write(9, b"go\n")
t0 = time.time()
note(f"leak started (2 MiB every 500 ms) {t0 - gstart:.1f} s after the target; oom_kill {k0}")

pending, firing = {}, {}       # (alertname, severity) -> first time seen in that state (s since t0)
active_at = {}
eta_seen = []                  # (t, value) instant values
t_kill = None
LEAK_MAX = 85                  # expected: about 65 s
while time.time() - t0 < LEAK_MAX:
    t = time.time() - t0
    try:
        v = instant("gsmapper_cgroup_oom_eta_seconds" + sel)
        if v is not None:
            eta_seen.append((t, v))
        for a in api("/api/v1/alerts")["alerts"]:
            if a["labels"].get("cgroup") != rel:
                continue
            key = (a["labels"].get("alertname"), a["labels"].get("severity", ""))
            book = pending if a["state"] == "pending" else firing if a["state"] == "firing" else None
            if book is not None and key not in book:
                book[key] = t
                active_at.setdefault(key, a.get("activeAt"))
    except Exception as e:
        note(f"t={t:.1f}: API error {e}")
    k = oom_kills()
    if not alive(gpid) or (k is not None and k0 is not None and k > k0):
        t_kill = time.time() - t0
        break
    time.sleep(0.5)
t_end = time.time()

# ---- the ETA series, as Prometheus stored it (the leak start to the kill)
series = []
try:
    res = api("/api/v1/query_range", query="gsmapper_cgroup_oom_eta_seconds" + sel,
              start=f"{t0 - 2:.3f}", end=f"{t0 + (t_kill if t_kill is not None else t_end - t0):.3f}", step="1")["result"]
    if res:
        series = [(float(ts) - t0, float(v)) for ts, v in res[0]["values"]]
except Exception as e:
    note(f"query_range: {e}")
if not series:  # fall back on the instant values
    series = eta_seen
fin = [(t, v) for t, v in series if math.isfinite(v)]
# first finite ETA: the earlier of the polled instant values and the query_range grid (1 s steps)
t_fin = min([t for t, v in eta_seen if math.isfinite(v)][:1] + [t for t, _ in fin[:1]], default=None)

if fin:
    P("prom_eta_finite")
else:
    F("prom_eta_finite", f"no finite ETA in {len(series)} points (values {sorted(set(v for _, v in series))[:5]})")
if len(fin) >= 5:
    vals = [v for _, v in fin]
    non_incr = sum(1 for a, b in zip(vals, vals[1:]) if b <= a + 1.0)
    frac = non_incr / (len(vals) - 1)
    C("prom_eta_falls", vals[-1] < vals[0] and frac >= 0.75,
      f"first {vals[0]:.1f} s, last {vals[-1]:.1f} s, {non_incr}/{len(vals) - 1} steps not rising")
    note(f"ETA series ({len(fin)} finite points of {len(series)}): " +
         " ".join(f"{t:.0f}:{v:.0f}" for t, v in fin[::max(1, len(fin) // 12)]) + f" ... last {fin[-1][0]:.0f}:{fin[-1][1]:.1f}")
    note(f"steps not rising: {non_incr}/{len(vals) - 1}")
else:
    F("prom_eta_falls", f"only {len(fin)} finite ETA points")

key = ("GsmapperOOMPredicted", "warning")
if key not in pending and key not in firing:  # a rules file without a warning/critical split
    cands = [k for k in set(pending) | set(firing) if k[0] == "GsmapperOOMPredicted"]
    if cands:
        key = min(cands, key=lambda k: pending.get(k, firing.get(k, 1e9)))
tp, tf = pending.get(key), firing.get(key)
C("prom_alert_pending", tp is not None, f"{key} never seen pending (states seen: pending {pending}, firing {firing})")
C("prom_alert_firing", tf is not None and (tp is None or tp <= tf), f"{key}: pending at {tp}, firing at {tf}")
C("prom_alert_before_kill", tp is not None and tf is not None and t_kill is not None and tp < t_kill and tf < t_kill,
  f"pending {tp}, firing {tf}, kill {t_kill} (s since the leak start)")

C("prom_oom_kill", t_kill is not None,
  f"target {gpid} still alive {LEAK_MAX} s after the leak started (oom_kill {k0} -> {oom_kills()})")
if t_kill is None:
    fail_rest("no OOM kill")

# ---- after the kill: the counter through Prometheus, and GsmapperOOMKilled
k1 = oom_kills()
m1, killed_state, t_m1, t_killed = None, None, None, None
deadline = time.time() + 15
while time.time() < deadline:
    try:
        if t_m1 is None:
            m1 = instant("gsmapper_cgroup_oom_kills_total" + sel)
            if m1 is not None and m1 >= (m0 or 0) + 1:
                t_m1 = time.time() - t0
        for a in api("/api/v1/alerts")["alerts"]:
            if a["labels"].get("cgroup") == rel and a["labels"].get("alertname") == "GsmapperOOMKilled":
                killed_state = a["state"]
                if killed_state == "firing" and t_killed is None:
                    t_killed = time.time() - t0
    except Exception as e:
        note(f"API error {e}")
    if t_m1 is not None and (t_killed is not None or "GsmapperOOMKilled" not in names):
        break
    time.sleep(0.5)
C("prom_oom_kills_metric", t_m1 is not None,
  f"gsmapper_cgroup_oom_kills_total{sel}: {m0} -> {m1} (memory.oom_control oom_kill {k0} -> {k1})")
if "GsmapperOOMKilled" in names:
    C("prom_oom_killed_alert", t_killed is not None, f"GsmapperOOMKilled state {killed_state!r} 15 s after the kill")
else:
    print("SKIP prom_oom_killed_alert: the rules have no GsmapperOOMKilled alert"); reported.add("prom_oom_killed_alert")

def fmt(x):
    return "-" if x is None else f"{x:.1f} s"
note(f"timeline (s since the leak start): first finite ETA {fmt(t_fin)}"
     + (f" ({fin[0][1]:.0f} s)" if fin else "")
     + f", {key[0]}/{key[1]} pending {fmt(tp)}, firing {fmt(tf)}, OOM kill {fmt(t_kill)}"
     + f", oom_kills_total seen {fmt(t_m1)}, GsmapperOOMKilled firing {fmt(t_killed)}")
for k in sorted(set(pending) | set(firing)):
    note(f"alert {k[0]}/{k[1]}: pending {fmt(pending.get(k))}, firing {fmt(firing.get(k))}, activeAt {active_at.get(k)}")
if fin:
    note(f"forecast check: first finite ETA {fin[0][1]:.1f} s at {fin[0][0]:.1f} s -> predicted kill at "
         f"{fin[0][0] + fin[0][1]:.1f} s, actual {t_kill:.1f} s; oom_kill {k0} -> {k1}")
PY
PYPID=$!
wait "$PYPID"; PYPID=
# The flight recorder inside serve (--dump-dir, as the DaemonSet and the systemd unit run it):
# the OOM kill gets its bundle, whose summary names the kill.
bundle=
for _ in $(seq 1 40); do
  bundle=$(grep -lE -- '^target: cgroup-.*-oom-kill(-[0-9]+)?$' "$tmp"/bundles/*/summary.txt 2>/dev/null | head -1)
  [ -n "$bundle" ] && break
  sleep 0.5
done
if [ -n "$bundle" ] && grep -q 'oom_kill' "$bundle"; then
  pass prom_serve_bundle
else
  fail prom_serve_bundle "no OOM-kill bundle under --dump-dir: $(ls "$tmp/bundles" 2>&1 | head -5 | tr '\n' ' ')"
fi
echo "# took $(($(date +%s) - START)) s"
