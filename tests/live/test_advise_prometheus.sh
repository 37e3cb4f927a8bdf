#!/usr/bin/env bash
# Live (a real Prometheus, loopback): `advise --prometheus URL` gives the same answer as the
# SQLite path on the same numbers. Two days of a cgroup's per-minute working set (300 MiB, with
# a 650 MiB spike in 5% of the minutes) are backfilled into a TSDB with
# `promtool tsdb create-blocks-from openmetrics` as gsmapper's own series
# gsmapper_cgroup_working_set_bytes, and also as cAdvisor's container_memory_working_set_bytes;
# the same minutes go into a history file with the sqlite3 CLI. Prometheus serves the TSDB on
# 127.0.0.1; advise's request and limit from both sources must be equal, and equal to the
# rule computed here (request 300 MiB × 1.15, limit 650 MiB × 1.15). About 15 s.
set -u
. "$(dirname "$0")/../lib.sh"
CHECKS="advise_prom_server advise_prom_gsmapper advise_prom_cadvisor advise_prom_same_as_sqlite advise_prom_rule
  advise_prom_refuses_remote"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }
PROM=${PROMETHEUS:-$(command -v prometheus 2>/dev/null)}
PROMTOOL=$(command -v promtool 2>/dev/null)
[ -n "$PROM" ] && [ -n "$PROMTOOL" ] || skip_all "no prometheus/promtool (apt-get install prometheus)"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 CLI not installed"
"$GSM" advise --help 2>/dev/null | grep -q -- --prometheus || skip_all "$GSM has no advise --prometheus"
tmp=$(mktemp -d)
PP=''
trap '[ -n "$PP" ] && kill "$PP" 2>/dev/null && wait "$PP" 2>/dev/null; rm -rf "$tmp"' EXIT
MIB=$((1 << 20))
now=$(date +%s)
end=$(( (now - 600) / 60 * 60 ))
python3 - "$tmp" "$end" <<'PY'
import sys
d, end = sys.argv[1], int(sys.argv[2])
MIB = 1 << 20
mins = 2 * 24 * 60
om = open(d + "/data.om", "w")
sql = open(d + "/rows.sql", "w")
sql.write("BEGIN;DELETE FROM samples;DELETE FROM events;DELETE FROM targets;\n")
sql.write("INSERT INTO targets VALUES(1,'cgroup:/adv','cgroup','/adv',NULL,0,0,0);\n")
vals = []
for m in range(mins):
    ts = end - (mins - 1 - m) * 60
    ws = 650 * MIB if m % 20 == 7 else 300 * MIB
    vals.append((ts, ws))
om.write("# TYPE gsmapper_cgroup_working_set_bytes gauge\n")
for ts, ws in vals:
    om.write(f'gsmapper_cgroup_working_set_bytes{{cgroup="/adv"}} {ws} {ts}\n')
om.write("# TYPE container_memory_working_set_bytes gauge\n")
for ts, ws in vals:
    om.write(f'container_memory_working_set_bytes{{namespace="ns",pod="p",container="c"}} {ws} {ts}\n')
om.write("# EOF\n")
rows = []
for ts, ws in vals:
    # the history's row for the minute that ends at ts (what max_over_time(...[60s]) at ts covers)
    t_ms = (ts - 60) * 1000
    v = ",".join(str(x) for x in [ws, ws, ws] * 4 + [0, 0, 0])
    rows.append(f"(1,60,{t_ms},30,{v},NULL,{ws},0)")
for i in range(0, len(rows), 500):
    sql.write("INSERT INTO samples VALUES" + ",".join(rows[i:i+500]) + ";\n")
sql.write("COMMIT;\n")
PY
"$PROMTOOL" tsdb create-blocks-from openmetrics "$tmp/data.om" "$tmp/tsdb" > "$tmp/promtool.log" 2>&1 ||
  skip_all "promtool backfill failed: $(tail -n 2 "$tmp/promtool.log" | tr '\n' ' ')"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'global:\n  scrape_interval: 1h\n' > "$tmp/prom.yml"
"$PROM" --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" --web.listen-address="127.0.0.1:$port" \
  --storage.tsdb.retention.time=30d > "$tmp/prom.log" 2>&1 &
PP=$!
ok=''
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && { ok=1; break; }
  sleep 0.2
done
[ -n "$ok" ] && pass advise_prom_server || { fail advise_prom_server "not ready: $(tail -n 3 "$tmp/prom.log" | tr '\n' ' ')"; exit 0; }

"$GSM" watch $$ --duration 0.3 --interval 0.1 --history "$tmp/h.db" >/dev/null 2>&1
sqlite3 "$tmp/h.db" < "$tmp/rows.sql"
"$GSM" advise --history "$tmp/h.db" --target /adv -o json > "$tmp/s.json" 2> "$tmp/s.err"
"$GSM" advise --prometheus "http://127.0.0.1:$port" --range 3d --target /adv -o json > "$tmp/g.json" 2> "$tmp/g.err"; rc=$?
"$GSM" advise --prometheus "http://127.0.0.1:$port" --source cadvisor --range 3d -o json > "$tmp/c.json" 2> "$tmp/c.err"; rc2=$?
rl() { json_get "$1" '"%d %d" % (d["targets"][0]["request_bytes"], d["targets"][0]["limit_bytes"])' 2>/dev/null; }
s=$(rl "$tmp/s.json") g=$(rl "$tmp/g.json") c=$(rl "$tmp/c.json")
[ $rc -eq 0 ] && [ -n "$g" ] && pass advise_prom_gsmapper || fail advise_prom_gsmapper "exit $rc: $(head -c 300 "$tmp/g.err")"
key=$(json_get "$tmp/c.json" 'd["targets"][0]["key"]' 2>/dev/null)
[ $rc2 -eq 0 ] && [ "$key" = container:ns/p/c ] && pass advise_prom_cadvisor ||
  fail advise_prom_cadvisor "exit $rc2, key ${key:-?}: $(head -c 300 "$tmp/c.err")"
[ -n "$s" ] && [ "$s" = "$g" ] && [ "$s" = "$c" ] && pass advise_prom_same_as_sqlite ||
  fail advise_prom_same_as_sqlite "request/limit: sqlite '$s', prometheus gsmapper '$g', cadvisor '$c'"
want="$(python3 -c "print('%d %d' % (int(300*2**20*1.15), int(650*2**20*1.15)))")"
[ "$g" = "$want" ] && pass advise_prom_rule || fail advise_prom_rule "got '$g', want '$want'"
"$GSM" advise --prometheus "http://192.0.2.1:9090" -o json > /dev/null 2> "$tmp/r.err"; rc=$?
[ $rc -ne 0 ] && [ "$(wc -l < "$tmp/r.err")" -eq 1 ] && pass advise_prom_refuses_remote ||
  fail advise_prom_refuses_remote "exit $rc: $(cat "$tmp/r.err")"
