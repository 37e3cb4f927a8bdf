#!/usr/bin/env bash
# Live: serve exports the Go findings of the Go processes it watches, so the
# GsmapperGomemlimitMisconfigured alert (deploy/prometheus) can fire. Two Go 1.19 programs in a
# 256 MiB v1 cgroup: one without GOMEMLIMIT, one with GOMEMLIMIT=150MiB (room left under the
# limit). `serve PID PID --read-env` must export GSM-GO-MEMLIMIT (warn) for the first, with its
# pid and cgroup labels, and none for the second; promtool accepts the exposition. Without
# --read-env a pprof endpoint gives no GOMEMLIMIT, and the finding stays silent (unknown is not
# "unset").
set -u
. "$(dirname "$0")/../lib.sh"
if [ ! -x "$TARGETS_DIR/memshape" ]; then skip serve_go_findings "Go targets not built in $TARGETS_DIR"; exit 0; fi
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ]; then
  skip serve_go_findings "needs root and the v1 memory controller with our own cgroup visible"; exit 0
fi
tmp=$(mktemp -d)
cg=$V1${own%/}/gsm-serve-findings-$$
SERVE= GOOD=
cleanup() {
  # Under strace (section 4) the server is strace's child: stop it, and strace ends with it.
  [ -n "$SERVE" ] && kill $(cat "/proc/$SERVE/task/$SERVE/children" 2>/dev/null) 2>/dev/null
  [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
  stop_target
  exec 8>&- 2>/dev/null
  [ -n "$GOOD" ] && kill "$GOOD" 2>/dev/null
  if [ -d "$cg" ]; then
    # Only the two targets were moved in here; a Go program can take a moment to exit.
    local i
    for i in $(seq 1 200); do
      [ -s "$cg/cgroup.procs" ] || break
      [ "$i" = 100 ] && for p in $(cat "$cg/cgroup.procs"); do kill -KILL "$p" 2>/dev/null; done
      sleep 0.05
    done
    for i in $(seq 1 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done   # EBUSY while a killed task exits
    [ -d "$cg" ] && echo "note: could not remove $cg" >&2
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" && echo $((256 << 20)) > "$cg/memory.limit_in_bytes"

start_target "$TARGETS_DIR/memshape" -heap-mib 16 -goroutines 20 -pprof-port 0 -stdin-exit ||
  { fail serve_go_findings_start "did not start"; exit 0; }
UNSET=$TARGET_PID
echo "$UNSET" > "$cg/cgroup.procs"
# The second program: stdin on fd 8, ended by closing it.
exec 8> >(exec env GOMEMLIMIT=150MiB "$TARGETS_DIR/memshape" -heap-mib 16 -goroutines 20 -pprof-port 0 -stdin-exit \
  > "$tmp/good.out" 2>&1)
GOOD=$!
for _ in $(seq 1 200); do grep -q '^READY' "$tmp/good.out" 2>/dev/null && break; sleep 0.05; done
echo "$GOOD" > "$cg/cgroup.procs"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# scrape_until FILE PYTHON-CONDITION: scrape every 0.3 s for up to 20 s until the condition on
# the exposition text `t` holds; leaves the last scrape in FILE.
scrape_until() {
  for _ in $(seq 1 66); do
    curl -s -m 2 "127.0.0.1:$port/metrics" > "$1" 2>/dev/null
    if python3 -c "import re, sys; t = open(sys.argv[1]).read(); sys.exit(0 if ($2) else 1)" "$1"; then return 0; fi
    sleep 0.3
  done
  return 1
}

# 1. Without --read-env: the Go statistics arrive (heap goal exported), GOMEMLIMIT stays unknown.
"$GSM" serve --listen "127.0.0.1:$port" "$UNSET" "$GOOD" --interval 0.2 --quiet > /dev/null 2> "$tmp/serve1.err" &
SERVE=$!
# Positive control instead of a fixed sleep: after both processes' statistics arrived, the Go
# rules ran twice more (without --read-env only processes with statistics are evaluated, once
# each per pass: both were judged with their statistics).
go_evals="int((re.findall(r'^gsmapper_findings_evaluations_total\\{category=\"go\"\\} (\\d+)', t, re.M) or ['0'])[0])"
if scrape_until "$tmp/m1.txt" "t.count('gsmapper_process_go_heap_goal_bytes{') == 2" &&
   e0=$(python3 -c "import re, sys; t = open(sys.argv[1]).read(); print($go_evals)" "$tmp/m1.txt") &&
   scrape_until "$tmp/m1.txt" "$go_evals >= $e0 + 2"; then
  check serve_go_findings_evaluated grep -q '^gsmapper_findings_evaluations_total{category="go"} [1-9]' "$tmp/m1.txt"
  check serve_go_findings_unknown_limit_silent [ "$(grep -c 'id="GSM-GO-MEMLIMIT"' "$tmp/m1.txt")" = 0 ]
else
  fail serve_go_findings_stats "no Go statistics for both processes within 20 s: $(head -c 300 "$tmp/serve1.err")"
fi
kill "$SERVE"; wait "$SERVE" 2>/dev/null; SERVE=

# 2. With --read-env: the unset one warns, with its pid, cgroup; the one with room does not.
"$GSM" serve --listen "127.0.0.1:$port" "$UNSET" "$GOOD" --interval 0.2 --quiet --read-env > /dev/null \
  2> "$tmp/serve2.err" &
SERVE=$!
if scrape_until "$tmp/m2.txt" "'id=\"GSM-GO-MEMLIMIT\"' in t"; then
  python3 - "$tmp/m2.txt" "$UNSET" "$GOOD" "${own%/}/gsm-serve-findings-$$" <<'PY'
import re, sys
text, unset, good, cgroup = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
rows = [dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))) for m in
        re.finditer(r'^gsmapper_finding_active\{([^}]*)\} 1$', text, re.M)]
mem = [r for r in rows if r.get("id") == "GSM-GO-MEMLIMIT"]
ok = [r for r in mem if r.get("pid") == unset]
print(("PASS" if len(ok) == 1 and ok[0]["severity"] == "warn" else "FAIL") + " serve_go_findings_unset_warns"
      + ("" if len(ok) == 1 and ok[0]["severity"] == "warn" else f": {mem}"))
print(("PASS" if ok and ok[0].get("cgroup") == cgroup else "FAIL") + " serve_go_findings_cgroup_label"
      + ("" if ok and ok[0].get("cgroup") == cgroup else f": {ok} vs {cgroup}"))
bad = [r for r in mem if r.get("pid") == good]
print(("PASS" if not bad else "FAIL") + " serve_go_findings_room_left_is_quiet" + ("" if not bad else f": {bad}"))
PY
  if command -v promtool > /dev/null; then
    check serve_go_findings_promtool sh -c "promtool check metrics < '$tmp/m2.txt' > '$tmp/promtool.out' 2>&1 && ! [ -s '$tmp/promtool.out' ]"
  else
    skip serve_go_findings_promtool "promtool not installed"
  fi
else
  fail serve_go_findings_unset_warns "no GSM-GO-MEMLIMIT row within 20 s: $(grep finding_active "$tmp/m2.txt" | head -3) $(head -c 300 "$tmp/serve2.err")"
fi
kill "$SERVE"; wait "$SERVE" 2>/dev/null; SERVE=

# 3. No runtime statistics at all (--no-go-stats: the DaemonSet's situation, where other pods'
# loopback endpoints are in other network namespaces) but --read-env: the Go process targets are
# still found from their executables and the unset one warns.
"$GSM" serve --listen "127.0.0.1:$port" "$UNSET" "$GOOD" --interval 0.2 --quiet --read-env --no-go-stats \
  > /dev/null 2> "$tmp/serve3.err" &
SERVE=$!
if scrape_until "$tmp/m3.txt" "'id=\"GSM-GO-MEMLIMIT\"' in t"; then
  check serve_go_findings_without_stats [ "$(grep -c "^gsmapper_finding_active{id=\"GSM-GO-MEMLIMIT\",severity=\"warn\",.*pid=\"$UNSET\"} 1" "$tmp/m3.txt")" = 1 ]
  check serve_go_findings_without_stats_quiet [ "$(grep -c "id=\"GSM-GO-MEMLIMIT\".*pid=\"$GOOD\"" "$tmp/m3.txt")" = 0 ]
  check serve_go_findings_without_stats_no_http [ "$(grep -c 'gsmapper_process_go_heap_goal_bytes{' "$tmp/m3.txt")" = 0 ]
else
  fail serve_go_findings_without_stats "no GSM-GO-MEMLIMIT row within 20 s: $(head -c 300 "$tmp/serve3.err")"
fi
kill "$SERVE"; wait "$SERVE" 2>/dev/null; SERVE=

# 4. The Go findings take the classes tier's totals: a Go process's smaps is opened once per
# tier read (every 10 s at most), never by the findings (evaluated every 15 ticks = 3 s here).
# strace counts the opens of /proc/PID/smaps; the tier's read count comes from the exposition;
# the GSM-GO-MEMLIMIT warning (it needs the process's classes) shows the findings had them.
if ! command -v strace > /dev/null; then
  skip serve_go_findings_smaps_once "strace not installed"
else
  strace -f -y -qq -e trace=openat -o "$tmp/strace.txt" \
    "$GSM" serve --listen "127.0.0.1:$port" "$UNSET" --interval 0.2 --quiet --read-env --no-go-stats \
    > /dev/null 2> "$tmp/serve4.err" &
  SERVE=$!
  smaps_reads="int((re.findall(r'^gsmapper_tier_reads_total\\{tier=\"smaps\"\\} (\\d+)', t, re.M) or ['0'])[0])"
  # Two tier reads, and at least four evaluations (at least two between them); scrape once more
  # at once and stop (the next tier read is ~10 s away).
  if scrape_until "$tmp/m4.txt" "$smaps_reads >= 2 and $go_evals >= 4 and 'id=\"GSM-GO-MEMLIMIT\"' in t" &&
     curl -s -m 2 "127.0.0.1:$port/metrics" > "$tmp/m4.txt"; then
    kill $(cat "/proc/$SERVE/task/$SERVE/children"); wait "$SERVE" 2>/dev/null; SERVE=
    reads=$(python3 -c "import re, sys; t = open(sys.argv[1]).read(); print($smaps_reads)" "$tmp/m4.txt")
    evals=$(python3 -c "import re, sys; t = open(sys.argv[1]).read(); print($go_evals)" "$tmp/m4.txt")
    opens=$(grep -cE "= [0-9]+</proc/$UNSET/smaps>" "$tmp/strace.txt")
    check serve_go_findings_smaps_once_per_tier_read [ "$opens" = "$reads" ]
    check serve_go_findings_more_evaluations_than_reads [ "$evals" -gt "$reads" ]
    check serve_go_findings_memlimit_from_tier_classes grep -q "^gsmapper_finding_active{id=\"GSM-GO-MEMLIMIT\",severity=\"warn\",.*pid=\"$UNSET\"} 1" "$tmp/m4.txt"
    [ -s "$tmp/m4.txt" ] && grep -q GSM-GO-MEMLIMIT "$tmp/m4.txt" || grep finding_active "$tmp/m4.txt" >&2
    echo "note: smaps of $UNSET opened $opens times, tier reads $reads, Go evaluations $evals" >&2
  else
    fail serve_go_findings_smaps_once "no two tier reads and four evaluations within 20 s: $(head -c 300 "$tmp/serve4.err")"
  fi
fi
