#!/usr/bin/env bash
# Live: explain -o folded and -o pprof on a Go process serving net/http/pprof. The pprof file
# opens in `go tool pprof -top`; its total RSS and the folded sum equal explain's total RSS;
# Go frames (main.main, from the heap profile) sit under the go-heap node; --output-file is
# written atomically and a failed write leaves nothing behind; --cgroup builds one tree.
set -u
. "$(dirname "$0")/../lib.sh"
if [ ! -x "$TARGETS_DIR/memshape" ]; then skip explain_profiles "Go targets not built in $TARGETS_DIR"; exit 0; fi
tmp=$(mktemp -d); trap 'stop_target; rm -rf "$tmp"' EXIT
start_target "$TARGETS_DIR/memshape" -heap-mib 64 -goroutines 50 -pprof-port 0 -stdin-exit ||
  { fail explain_profiles_start "did not start"; exit 0; }
sleep 0.3


# Totals from three separate runs agree only while the process stands still: without HTTP (which
# asks the runtime for a GC) the idle target does.
"$GSM" explain "$TARGET_PID" --no-go-stats -o json > "$tmp/e.json"
"$GSM" explain "$TARGET_PID" --no-go-stats -o folded > "$tmp/f.txt"
"$GSM" explain "$TARGET_PID" --no-go-stats -o pprof --output-file "$tmp/p.pb.gz"; rc=$?
"$GSM" explain "$TARGET_PID" -o folded > "$tmp/fg.txt"
"$GSM" explain "$TARGET_PID" -o pprof --output-file "$tmp/pg.pb.gz"
# Both conditions inside the check (a `check ... && [ ... ]` would keep only the first).
check pprof_written eval '[ "$rc" -eq 0 ] && [ -s "$tmp/p.pb.gz" ] && [ "$(head -c2 "$tmp/p.pb.gz" | od -An -tx1 | tr -d " ")" = 1f8b ]'
check pprof_no_temp_left [ "$(ls -A "$tmp" | grep -c '\.tmp\.')" = 0 ]
python3 - "$tmp/e.json" "$tmp/f.txt" "$tmp/fg.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); lines = open(sys.argv[2]).read().splitlines()
glines = open(sys.argv[3]).read().splitlines()
total = d["totals"]["rss_bytes"]
fsum = sum(int(l.rsplit(" ", 1)[1]) for l in lines)
ok = abs(fsum - total) <= total * 0.01
print(("PASS" if ok else "FAIL") + " folded_sum_is_rss" + ("" if ok else f": {fsum} vs {total}"))
heap = [l for l in glines if ";go-heap;" in l]
ok = any(";main.main" in l for l in heap)
print(("PASS" if ok else "FAIL") + " folded_go_frames_under_heap" + ("" if ok else f": {heap[:3]}"))
ok = all(l.split(";")[0].startswith("/") for l in lines)   # the cgroup path is the root frame
print(("PASS" if ok else "FAIL") + " folded_root_is_cgroup" + ("" if ok else f": {lines[:2]}"))
PY
if command -v go >/dev/null; then
  HOME=$tmp GOCACHE=$tmp/gocache go tool pprof -top -sample_index=rss "$tmp/p.pb.gz" > "$tmp/top.txt" 2>&1; rc=$?
  check pprof_opens_in_go_tool [ $rc -eq 0 ]
  python3 - "$tmp/top.txt" "$tmp/e.json" <<'PY'
import json, re, sys
top = open(sys.argv[1]).read(); total = json.load(open(sys.argv[2]))["totals"]["rss_bytes"]
m = re.search(r"of ([0-9.]+)([kMG]?B) total", top)
mult = {"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}   # pprof's units are binary
got = float(m.group(1)) * mult[m.group(2)] if m else -1
ok = m is not None and abs(got - total) <= total * 0.01
print(("PASS" if ok else "FAIL") + " pprof_total_is_rss" + ("" if ok else f": {m and m.group(0)} vs {total}"))
PY
  HOME=$tmp GOCACHE=$tmp/gocache go tool pprof -top -sample_index=rss "$tmp/pg.pb.gz" > "$tmp/topg.txt" 2>&1
  check pprof_has_go_frames grep -q 'main.main' "$tmp/topg.txt"
else
  skip pprof_opens_in_go_tool "go not installed"
fi
# A write that cannot succeed leaves no file under the final name and no temp file.
mkdir "$tmp/ro"; chmod 555 "$tmp/ro"
"$GSM" explain "$TARGET_PID" -o json --output-file "$tmp/ro/out.json" 2>"$tmp/err"; rc=$?
if [ "$(id -u)" -eq 0 ]; then
  # root ignores directory permissions: use a missing directory instead
  "$GSM" explain "$TARGET_PID" -o json --output-file "$tmp/missing/out.json" 2>"$tmp/err"; rc=$?
  check output_file_error_exit eval '[ "$rc" -eq 1 ] && grep -q "^gsmapper: writing .*missing/out.json" "$tmp/err"'
  check output_file_nothing_left [ ! -e "$tmp/missing" ]
else
  check output_file_error_exit [ $rc -eq 4 ]
  check output_file_nothing_left [ -z "$(ls -A "$tmp/ro")" ]
fi
"$GSM" explain "$TARGET_PID" -o pprof > /dev/null 2>&1
check pprof_to_devnull_ok [ $? -eq 0 ]
own=$(own_memory_cgroup)
if [ -n "$own" ] && [ -d "/sys/fs/cgroup/memory$own" ]; then
  "$GSM" explain --cgroup "$own" -o folded > "$tmp/cg.txt"
  check cgroup_folded_has_target grep -Eq "memshape\[$TARGET_PID\]( uss_bytes=[0-9]+)?;go-heap" "$tmp/cg.txt"
else
  skip cgroup_folded_has_target "own memory cgroup not visible"
fi
