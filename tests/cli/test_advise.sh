#!/usr/bin/env bash
# gsmapper advise on a synthetic history (built here with the sqlite3 CLI in the schema that
# watch --history writes): 8 days of hour rows and 2 days of minute rows of a cgroup whose
# working set sits at 300 MiB with a 700 MiB spike in 2% of the minutes (non-heap 60 MiB in another 2%), and a Go process.
# Checked against the rows themselves (python over the same numbers), not against gsmapper:
# the limit is above every peak of the last four days and below 2 × the p99 of the minute
# peaks; the request is below the limit; the confidence is high (8 days); GOMEMLIMIT equals
# limit − non-heap p99 − max(5%, 16 MiB); and the usage errors and exit codes.
set -u
. "$(dirname "$0")/../lib.sh"
CHECKS="advise_schema advise_limit_above_peaks advise_limit_below_2p99 advise_request_le_limit
  advise_confidence_high advise_gomemlimit advise_table advise_exit_usage advise_exit_missing
  advise_exit_notarget"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 CLI not installed (scripts/install-deps.sh)"
"$GSM" advise --help >/dev/null 2>&1 || skip_all "$GSM has no advise command"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/h.db

# Make the file the way watch does (schema included), then fill it.
"$GSM" watch $$ --duration 0.3 --interval 0.1 --history "$db" >/dev/null 2>&1
python3 - "$tmp/rows.sql" <<'PY'
import sys
MIB = 1 << 20
end = 1800000000000 - 1800000000000 % 3600000
out = open(sys.argv[1], "w")
out.write("BEGIN;DELETE FROM samples;DELETE FROM events;DELETE FROM targets;\n")
out.write("INSERT INTO targets VALUES(1,'cgroup:/system.slice/api.service','cgroup','/system.slice/api.service',NULL,0,0,0);\n")
out.write("INSERT INTO targets VALUES(2,'process:42:1000','process','server','/system.slice/api.service',42,0,0);\n")
def row(t, res, ws, gonh=0):
    v = ",".join(str(x) for x in [ws, ws, ws] * 4 + [gonh, gonh, gonh])
    return f"({{tid}},{res},{t},30,{v},{1024*MIB},{ws - 8*MIB},{8*MIB})"
rows = {1: [], 2: []}
mins = 2 * 24 * 60
first_min = end - mins * 60000
for h in range(6 * 24):              # hour rows before the minute rows: 300 MiB, max 420
    t = first_min - (6 * 24 - h) * 3600000
    for tid in (1, 2):
        rows[tid].append(row(t, 3600, 420 * MIB, (40 + h % 5) * MIB if tid == 2 else 0))
for m in range(mins):
    t = first_min + m * 60000
    ws = 700 * MIB if m % 50 == 37 else 300 * MIB
    for tid in (1, 2):
        rows[tid].append(row(t, 60, ws, (60 if m % 50 == 11 else 40) * MIB if tid == 2 else 0))
for tid in (1, 2):
    for i in range(0, len(rows[tid]), 500):
        out.write("INSERT INTO samples VALUES" + ",".join(r.replace("{tid}", str(tid)) for r in rows[tid][i:i+500]) + ";\n")
out.write("COMMIT;\n")
PY
sqlite3 "$db" < "$tmp/rows.sql" || skip_all "could not fill the synthetic history"

"$GSM" advise --history "$db" -o json > "$tmp/a.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(json_get "$tmp/a.json" 'd["schema"]')" = gsmapper.advise/v1 ] && pass advise_schema ||
  fail advise_schema "exit $rc: $(head -c 300 "$tmp/err")"
# Independent figures from the rows: the largest minute peak of the last 4 days, p99 of minute peaks.
peak=$(sqlite3 "$db" "SELECT max(ws_max) FROM samples WHERE target=1 AND res=60")
p99=$(sqlite3 "$db" "SELECT ws_max FROM samples WHERE target=1 AND res=60 ORDER BY ws_max
                     LIMIT 1 OFFSET (SELECT CAST(count(*) * 0.99 AS INT) - 1 FROM samples WHERE target=1 AND res=60)")
lim=$(json_get "$tmp/a.json" '[t for t in d["targets"] if t["type"] == "cgroup"][0]["limit_bytes"]')
req=$(json_get "$tmp/a.json" '[t for t in d["targets"] if t["type"] == "cgroup"][0]["request_bytes"]')
[ "${lim:-0}" -gt "${peak:-0}" ] && pass advise_limit_above_peaks || fail advise_limit_above_peaks "limit $lim <= peak $peak"
[ "${lim:-0}" -lt $((2 * ${p99:-0})) ] && pass advise_limit_below_2p99 || fail advise_limit_below_2p99 "limit $lim >= 2 × p99 $p99"
[ "${req:-0}" -gt 0 ] && [ "$req" -le "$lim" ] && pass advise_request_le_limit || fail advise_request_le_limit "request $req, limit $lim"
conf=$(json_get "$tmp/a.json" '[t for t in d["targets"] if t["type"] == "cgroup"][0]["confidence"]["level"]')
[ "$conf" = high ] && pass advise_confidence_high || fail advise_confidence_high "confidence $conf"
read -r glim gml gnh gmar <<<"$(json_get "$tmp/a.json" '" ".join(str(x) for x in [[t for t in d["targets"] if t["type"] == "process"][0][k] for k in ["limit_bytes"]] + [[t for t in d["targets"] if t["type"] == "process"][0]["go"][k] for k in ["gomemlimit_bytes", "nonheap_p99_bytes", "margin_bytes"]])')"
want_mar=$(( glim / 20 > 16 * 1048576 ? glim / 20 : 16 * 1048576 ))
if [ "${gnh:-0}" = $((60 * 1048576)) ] && [ "${gmar:-0}" -ge $((want_mar - 1)) ] && [ "${gmar:-0}" -le $((want_mar + 1)) ] &&
   [ "${gml:-0}" = $((glim - gnh - gmar)) ]; then pass advise_gomemlimit
else fail advise_gomemlimit "limit $glim, GOMEMLIMIT $gml, non-heap p99 $gnh (want 60 MiB), margin $gmar (want $want_mar)"; fi
"$GSM" advise --history "$db" --target /system.slice/api.service > "$tmp/t.txt" 2>&1
grep -q 'MemoryMax=' "$tmp/t.txt" && grep -q '^  why: working_set peaked at 700 MiB' "$tmp/t.txt" && pass advise_table ||
  fail advise_table "$(head -c 400 "$tmp/t.txt")"

"$GSM" advise > /dev/null 2> "$tmp/e1"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < "$tmp/e1")" -eq 1 ] && pass advise_exit_usage || fail advise_exit_usage "exit $rc: $(cat "$tmp/e1")"
"$GSM" advise --history "$tmp/none.db" > /dev/null 2> "$tmp/e2"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$tmp/e2")" -eq 1 ] && [ ! -e "$tmp/none.db" ] && pass advise_exit_missing ||
  fail advise_exit_missing "exit $rc: $(cat "$tmp/e2")"
"$GSM" advise --history "$db" --target /nope > /dev/null 2> "$tmp/e3"; rc=$?
[ $rc -eq 3 ] && [ "$(wc -l < "$tmp/e3")" -eq 1 ] && pass advise_exit_notarget || fail advise_exit_notarget "exit $rc: $(cat "$tmp/e3")"
