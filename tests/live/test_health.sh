#!/bin/bash
# Live (root, cgroup v1): the health score (docs/health-score.md) drops for a target near its
# limit in a real child memory cgroup, and not for a relaxed one holding the same memory:
# explain --cgroup and explain PID (JSON "health"), watch (a "health" event and health_score on
# events), serve (gsmapper_health_score and gsmapper_health_part_penalty{part}).
set -u
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ] || [ ! -x "$CTARGETS_DIR/grow" ]; then
  skip health_live "needs root, the v1 memory controller with our own cgroup visible, and tests/targets/grow"
  rm -rf "$tmp"; exit 0
fi
rel_t=${own%/}/gsm-health-tight-$$ rel_r=${own%/}/gsm-health-relaxed-$$
T=$V1$rel_t R=$V1$rel_r
P2= SPID=
cleanup() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  stop_target
  exec 8>&- 2>/dev/null || true
  [ -n "$P2" ] && kill "$P2" 2>/dev/null
  for cg in "$T" "$R"; do
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    for _ in $(seq 1 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.05; done
    for _ in $(seq 1 50); do [ -d "$cg" ] || break; rmdir "$cg" 2>/dev/null && break; sleep 0.1; done   # EBUSY while a killed task exits
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$T" "$R" && echo $((64 << 20)) > "$T/memory.limit_in_bytes" && echo $((512 << 20)) > "$R/memory.limit_in_bytes" \
  || { fail health_cgroups "could not make the test cgroups"; exit 0; }

# The same 56 MiB in both: 12.5 % of the tight limit free, 89 % of the relaxed one.
start_target "$CTARGETS_DIR/grow" -s 8 -i 20 -m 56 -w || { fail health_start "grow did not start"; exit 0; }
P1=$TARGET_PID
echo "$P1" > "$T/cgroup.procs"
exec 8> >(exec "$CTARGETS_DIR/grow" -s 8 -i 20 -m 56 -w > "$tmp/g2.out" 2>&1)
P2=$!
for _ in $(seq 1 100); do grep -q READY "$tmp/g2.out" 2>/dev/null && break; sleep 0.05; done
echo "$P2" > "$R/cgroup.procs"
echo go >&9; echo go >&8
for _ in $(seq 1 200); do grep -q HOLD "$TARGET_OUT" && grep -q HOLD "$tmp/g2.out" && break; sleep 0.05; done
check health_targets_hold grep -q HOLD "$TARGET_OUT"

"$GSM" explain --cgroup "$rel_t" -o json > "$tmp/et.json" 2> "$tmp/err"
"$GSM" explain --cgroup "$rel_r" -o json > "$tmp/er.json" 2>> "$tmp/err"
"$GSM" explain "$P1" -o json > "$tmp/pt.json" 2>> "$tmp/err"
"$GSM" explain "$P2" -o json > "$tmp/pr.json" 2>> "$tmp/err"
"$GSM" explain --cgroup "$rel_t" -o table > "$tmp/et.txt" 2>> "$tmp/err"
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
def h(name): return json.load(open(f"{d}/{name}.json"))["health"]
def check(n, ok, why=""): print(("PASS " + n) if ok else f"FAIL {n}: {why}")
et, er, pt, pr = h("et"), h("er"), h("pt"), h("pr")
check("health_explain_cgroup_tight_lower", et["score"] < er["score"], f"{et['score']} vs {er['score']}")
check("health_explain_cgroup_relaxed_full", er["score"] == 100, er)
check("health_explain_cgroup_tight_band", et["score"] <= 80 and et["band"] in ("fair", "poor", "critical"), et)
hp = et["parts"]["headroom"]
check("health_explain_headroom_penalised", hp["status"] == "used" and hp["penalty"] > 20 and 0.05 < hp["value"] < 0.2, hp)
check("health_explain_trend_missing_said", et["parts"]["trend"]["status"] == "missing" and "one-shot" in et["parts"]["trend"]["note"]
      and et["missing"] >= 1, et["parts"]["trend"])
check("health_explain_parts_all_named", set(et["parts"]) == {"headroom", "trend", "pressure", "limit_hits", "oom_kills", "go_gc"}, list(et["parts"]))
# two reads a moment apart: the cgroup's kernel memory moves a little between them
check("health_explain_pid_tight_lower", pt["score"] < pr["score"] and abs(pt["score"] - et["score"]) <= 3, f"{pt['score']} {pr['score']} {et['score']}")
PY
check health_explain_table grep -q '^HEALTH [0-9]*/100 (' "$tmp/et.txt"

# watch: the tight cgroup's score leaves "good" once (a health event), the relaxed one's does not;
# every event carries the score.
timeout 30 "$GSM" watch --cgroup "$rel_t" --cgroup "$rel_r" --interval 0.5 --duration 4 > "$tmp/w.jsonl" 2> "$tmp/w.err"
check health_watch_exit_0 [ $? -eq 0 ]
python3 - "$tmp/w.jsonl" "$rel_t" "$rel_r" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ev = [e for e in ev if e.get("schema") == "gsmapper.event/v1"]
def check(n, ok, why=""): print(("PASS " + n) if ok else f"FAIL {n}: {why}")
ht = [e for e in ev if e["kind"] == "health" and e["target"]["cgroup"] == sys.argv[2]]
hr = [e for e in ev if e["kind"] == "health" and e["target"]["cgroup"] == sys.argv[3]]
check("health_watch_event_tight", len(ht) == 1 and ht[0]["health_score"] <= 80 and ht[0]["evidence"]["headroom_penalty"] > 20
      and "good ->" in ht[0]["message"], ht)
check("health_watch_no_event_relaxed", not hr, hr)
check("health_watch_events_carry_score", all(isinstance(e.get("health_score"), int) for e in ev), ev)
PY

# serve: the same numbers on /metrics, and the exposition passes promtool.
port=$((20000 + $$ % 20000))
"$GSM" serve --listen 127.0.0.1:$port --cgroup "$rel_t" --cgroup "$rel_r" --interval 0.5 > "$tmp/s.log" 2>&1 &
SPID=$!
ok=
for _ in $(seq 1 60); do
  sleep 0.25
  curl -sf "http://127.0.0.1:$port/metrics" > "$tmp/m.txt" 2>/dev/null && grep -q "^gsmapper_health_score{.*$rel_r" "$tmp/m.txt" \
    && grep -q "^gsmapper_health_score{.*$rel_t" "$tmp/m.txt" && ok=1 && break
done
check health_metrics_present [ -n "$ok" ]
st=$(grep "^gsmapper_health_score{.*cgroup=\"$rel_t\"" "$tmp/m.txt" | awk '{print $NF}')
sr=$(grep "^gsmapper_health_score{.*cgroup=\"$rel_r\"" "$tmp/m.txt" | awk '{print $NF}')
check health_metrics_tight_lower [ -n "$st" ] && [ -n "$sr" ] && [ "$st" -lt "$sr" ]
check health_metrics_part_family grep -q "^gsmapper_health_part_penalty{.*cgroup=\"$rel_t\".*part=\"headroom\"} [1-9]" "$tmp/m.txt"
if command -v promtool >/dev/null; then
  check health_metrics_promtool sh -c "promtool check metrics < '$tmp/m.txt' > '$tmp/pt.out' 2>&1"
else
  skip health_metrics_promtool "no promtool"
fi
echo "INFO health scores: explain tight $(json_get "$tmp/et.json" 'd["health"]["score"]') relaxed $(json_get "$tmp/er.json" 'd["health"]["score"]'); serve tight $st relaxed $sr"
