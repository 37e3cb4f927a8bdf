#!/usr/bin/env bash
# Live: `watch --history FILE` survives SIGKILL at any moment. A growing target (grow: 1 MiB
# per 40 ms up to 160 MiB, then holds) is watched 20 times with a 0.1 s tick and a 0.2 s flush;
# each run is killed with SIGKILL after a random 0.3-1.5 s. After every kill the file must pass
# `PRAGMA integrity_check` (the sqlite3 CLI, an independent reader), and its rows must be
# plausible against /proc/PID/status: the minute maxima never decrease (the target only grows),
# the largest recorded usage is at least the VmRSS read before that run started and at most the
# VmRSS read after the kill; p50 <= p95 <= max in every row. Also: the file is mode 0600 and a
# symlink as --history is refused with exit 1; a file filled past --history-max-mb 1 (with
# rows older than --history-retention among them) shrinks under the cap and loses the old rows
# at the next flush. About 45 s.
set -u
. "$(dirname "$0")/../lib.sh"
CHECKS="history_integrity history_monotonic history_vs_status history_percentiles history_mode history_symlink
  history_size_cap history_retention"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 CLI not installed (scripts/install-deps.sh)"
[ -x "$CTARGETS_DIR/grow" ] || skip_all "no $CTARGETS_DIR/grow (build first)"
"$GSM" watch --help 2>/dev/null | grep -q -- '--history FILE' || skip_all "$GSM has no watch --history"

dir=$(mktemp -d)
db=$dir/h.db
trap 'stop_target; rm -rf "$dir"' EXIT
start_target "$CTARGETS_DIR/grow" -s 1 -i 40 -m 160 || skip_all "grow target did not start"
pid=$TARGET_PID
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
# Largest usage recorded for the target (bytes), or 0.
db_max() { sqlite3 "$db" "SELECT coalesce(max(usage_max),0) FROM samples WHERE res=60" 2>/dev/null; }

bad_integrity="" bad_mono="" bad_status="" bad_pct="" runs=0
tol=$((2 * 1024 * 1024))   # VmRSS is read a moment apart from the sampler's read
for i in $(seq 1 20); do
  before=$(( $(rss_kib) * 1024 ))
  "$GSM" watch "$pid" --interval 0.1 --history "$db" --history-flush 0.2 >/dev/null 2>"$dir/err.$i" &
  wpid=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.2 }')"
  kill -KILL "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
  after=$(( $(rss_kib) * 1024 ))
  runs=$((runs + 1))
  ic=$(sqlite3 "$db" 'PRAGMA integrity_check' 2>&1)
  [ "$ic" = ok ] || bad_integrity+="run $i: $ic; "
  m=$(db_max)
  if [ "${m:-0}" -lt $((before - tol)) ] || [ "${m:-0}" -gt $((after + tol)) ]; then
    bad_status+="run $i: max usage $m not in [$before, $after] ± 2 MiB; "
  fi
  dec=$(sqlite3 "$db" "SELECT count(*) FROM (SELECT usage_max, lag(usage_max) OVER (ORDER BY t_ms) AS prev
                        FROM samples WHERE res=60) WHERE prev IS NOT NULL AND usage_max < prev")
  [ "$dec" = 0 ] || bad_mono+="run $i: $dec minute rows below the previous; "
  np=$(sqlite3 "$db" "SELECT count(*) FROM samples WHERE n < 1 OR usage_p50 > usage_p95 OR usage_p95 > usage_max
                       OR ws_p50 > ws_p95 OR ws_p95 > ws_max OR value_p50 > value_p95 OR value_p95 > value_max")
  [ "$np" = 0 ] || bad_pct+="run $i: $np rows; "
done
[ -z "$bad_integrity" ] && pass history_integrity || fail history_integrity "$bad_integrity"
[ -z "$bad_mono" ] && pass history_monotonic || fail history_monotonic "$bad_mono"
[ -z "$bad_status" ] && pass history_vs_status || fail history_vs_status "$bad_status (stderr: $(cat "$dir"/err.* | head -c 300))"
[ -z "$bad_pct" ] && pass history_percentiles || fail history_percentiles "$bad_pct"
mode=$(stat -c %a "$db")
[ "$mode" = 600 ] && pass history_mode || fail history_mode "mode $mode, want 600"

ln -s "$dir/elsewhere.db" "$dir/link.db"
"$GSM" watch "$pid" --duration 1 --history "$dir/link.db" >/dev/null 2>"$dir/symlink.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l < "$dir/symlink.err")" -eq 1 ] && grep -q symlink "$dir/symlink.err" &&
   [ ! -e "$dir/elsewhere.db" ]; then
  pass history_symlink
else
  fail history_symlink "exit $rc, stderr: $(cat "$dir/symlink.err")"
fi

# Size cap and retention: 40000 synthetic minute rows (about 6 MiB), 100 of them 30 days old.
cap=$dir/cap.db
"$GSM" watch "$pid" --duration 0.3 --interval 0.1 --history "$cap" >/dev/null 2>&1
now_ms=$(($(date +%s) * 1000))
python3 - "$dir/fill.sql" "$now_ms" <<'PY'
import sys
now = int(sys.argv[2])
out = open(sys.argv[1], "w")
out.write("BEGIN;INSERT INTO targets(id,key,type,name,pid,first_ms,last_ms) VALUES(99,'cgroup:/fill','cgroup','/fill',0,0,0);\n")
rows = []
for i in range(40000):
    t = now - 30 * 86400000 - i * 60000 if i < 100 else now - 3600000 - i * 1000
    v = ",".join(["123456789"] * 15)
    rows.append(f"(99,60,{t},30,{v},NULL,1,1)")
for i in range(0, len(rows), 1000):
    out.write("INSERT OR IGNORE INTO samples VALUES" + ",".join(rows[i:i+1000]) + ";\n")
out.write("COMMIT;\n")
PY
sqlite3 "$cap" < "$dir/fill.sql"
before=$(stat -c %s "$cap")
"$GSM" watch "$pid" --duration 1.5 --interval 0.2 --history "$cap" --history-max-mb 1 --history-retention 8d \
  --history-flush 0.5 >/dev/null 2>"$dir/cap.err"
after=$(stat -c %s "$cap")
old=$(sqlite3 "$cap" "SELECT count(*) FROM samples WHERE t_ms < $now_ms - 8 * 86400000")
ic=$(sqlite3 "$cap" 'PRAGMA integrity_check')
if [ "$before" -gt $((3 << 20)) ] && [ "$after" -le $((1 << 20)) ] && [ "$ic" = ok ]; then pass history_size_cap
else fail history_size_cap "file $before -> $after bytes (cap 1 MiB), integrity $ic: $(head -c 200 "$dir/cap.err")"; fi
[ "$old" = 0 ] && pass history_retention || fail history_retention "$old rows older than 8 days left"
