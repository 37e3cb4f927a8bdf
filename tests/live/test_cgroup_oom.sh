#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller): a child memory cgroup of our own with a 128 MiB
# limit, a target (tests/targets/grow.c) holding 64 MiB in it, then a second target that grows
# in the same cgroup until the memcg OOM killer kills it. `explain PID` and `explain --cgroup`
# must report the v1 cgroup, its limit (binding at level 0), its usage (within 2% of
# memory.usage_in_bytes), its processes, the oom_kill event and a GSM-OOM-KILLS finding.
# The cgroup mechanics (usage grows, memory.oom_control's oom_kill increments) are checked
# directly too, so a FAIL of an explain_* check with the mech_* checks passing is gsmapper's.
#
# Notes on v1 behaviour this relies on:
#  - charges stay where a page was first charged: the target is moved into the cgroup before
#    it grows (grow -w waits for a line on stdin), so its growth is charged to the test cgroup;
#  - the memcg OOM killer picks the largest task in the cgroup, which would be the 64 MiB
#    holder, not the grower (measured: it kills the first target): the grower gets
#    oom_score_adj 1000 so that it is the victim;
#  - (measured on 6.18) with memory.memsw.limit_in_bytes set equal to the limit, neither
#    memory.failcnt nor memory.memsw.failcnt counts the failed charges (both stay 0 through the
#    OOM kill); with only memory.limit_in_bytes set, memory.failcnt does count. The oom_kill
#    line of memory.oom_control is the reliable v1 signal.
# Every wait is bounded; the script keeps to a 55 s budget.
set -u
. "$(dirname "$0")/../lib.sh"

V1=/sys/fs/cgroup/memory
MIB=$((1 << 20)) LIMIT=$((128 << 20))
grow=$CTARGETS_DIR/grow
CHECKS="mech_cgroup_setup mech_grow_hold mech_usage_grew explain_pid_ok explain_cgroup_version
  explain_effective_limit explain_binding_level0 explain_cgroup_path explain_usage_2pct
  explain_cgroup_ok explain_cgroup_lists_pid explain_cgroup_limit_max mech_oom_victim_gone
  mech_oom_kill_counter mech_holder_survived explain_oom_kill_event explain_oom_finding
  explain_missing_cgroup_exit3"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a memory cgroup)"
awk '$5 == "'"$V1"'" { for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "cgroup" && ("," $(i+3) ",") ~ /,memory,/) found = 1 }
     END { exit !found }' /proc/self/mountinfo ||
  skip_all "cgroup v1 memory controller not mounted at $V1"
[ -x "$grow" ] || skip_all "target $grow not built"

# Our own memory cgroup: the memory line of /proc/self/cgroup ("4:memory:/a/b"; controllers
# may be co-mounted, "4:cpu,memory:/a/b"). The path may itself contain ':'.
own=$(own_memory_cgroup)
[ -n "$own" ] || skip_all "no memory line in /proc/self/cgroup"
REL=${own%/}/gsm-oom-test-$$ # relative to the v1 hierarchy root (what --cgroup takes)
CG=$V1$REL
[ -d "$V1$own" ] || skip_all "own memory cgroup $V1$own not visible (cgroup namespace?)"

START=$(date +%s)
# budget N: N seconds, or what is left of the 55 s budget less 2 s if that is smaller (>= 1)
budget() { local left=$((START + 55 - $(date +%s) - 2)); [ "$left" -lt "$1" ] && { [ "$left" -lt 1 ] && echo 1 || echo "$left"; } || echo "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
alive() { # PID running (not gone, not a zombie)
  local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
v1() { cat "$CG/$1" 2>/dev/null; }
errtxt() { head -c 400 "$tmp/err" | tr '\n' ' '; }
oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control" 2>/dev/null; }

tmp=$(mktemp -d)
P1='' P2='' F1='' F2=''
cleanup() {
  local p _
  [ -n "$F1" ] && exec {F1}>&- 2>/dev/null
  [ -n "$F2" ] && exec {F2}>&- 2>/dev/null
  for p in $P1 $P2; do kill "$p" 2>/dev/null; done
  for p in $P1 $P2; do
    for _ in $(seq 1 40); do alive "$p" || break; sleep 0.05; done
    alive "$p" && kill -KILL "$p" 2>/dev/null
  done
  if [ -d "$CG" ]; then
    for _ in $(seq 1 100); do [ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.05; done
    for _ in $(seq 1 20); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
    [ -d "$CG" ] && fail cleanup "could not remove $CG (procs: $(tr '\n' ' ' < "$CG/cgroup.procs"))"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# start_grow OUTFILE ARGS... : start grow with its stdin on a FIFO we hold open for writing.
# Sets G_PID and G_FD. The target blocks (-w) until a line arrives on G_FD.
start_grow() {
  local out=$1; shift
  local fifo; fifo=$tmp/in.$RANDOM$RANDOM
  mkfifo "$fifo" || return 1
  "$grow" "$@" < "$fifo" > "$out" 2>&1 &
  G_PID=$!
  exec {G_FD}> "$fifo" # blocks until the target has opened its end
  rm -f "$fifo"
}
# wait_for FILE REGEX SECONDS PID : until FILE has a line matching REGEX, or PID is gone
wait_for() {
  local _
  for _ in $(seq 1 $(($3 * 20))); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    alive "$4" || { grep -qE "$2" "$1" 2>/dev/null; return; }
    sleep 0.05
  done
  return 1
}

# ---- the cgroup
if ! mkdir "$CG" 2> "$tmp/err"; then fail mech_cgroup_setup "mkdir $CG: $(cat "$tmp/err")"; exit 0; fi
if ! echo "$LIMIT" > "$CG/memory.limit_in_bytes" 2> "$tmp/err"; then
  fail mech_cgroup_setup "set memory.limit_in_bytes: $(cat "$tmp/err")"; exit 0
fi
if [ -e "$CG/memory.memsw.limit_in_bytes" ] && ! echo "$LIMIT" > "$CG/memory.memsw.limit_in_bytes" 2> "$tmp/err"; then
  fail mech_cgroup_setup "set memory.memsw.limit_in_bytes: $(cat "$tmp/err")"; exit 0
fi
got=$(v1 memory.limit_in_bytes)
if [ "$got" != "$LIMIT" ]; then fail mech_cgroup_setup "memory.limit_in_bytes reads $got, want $LIMIT"; exit 0; fi

# ---- a holder: 64 MiB, grown inside the cgroup
if ! start_grow "$tmp/grow1.out" -s 8 -i 50 -m 64 -w; then fail mech_cgroup_setup "could not start $grow"; exit 0; fi
P1=$G_PID F1=$G_FD
if ! wait_for "$tmp/grow1.out" '^READY' 5 "$P1"; then
  fail mech_cgroup_setup "grow did not print READY: $(head -c 300 "$tmp/grow1.out" | tr '\n' ' ')"; exit 0
fi
if ! echo "$P1" > "$CG/cgroup.procs" 2> "$tmp/err"; then
  fail mech_cgroup_setup "move $P1 into $CG: $(cat "$tmp/err")"; exit 0
fi
pass mech_cgroup_setup
echo go >&"$F1"
if ! wait_for "$tmp/grow1.out" '^HOLD' "$(budget 10)" "$P1"; then
  fail mech_grow_hold "no HOLD from $P1 (alive: $(alive "$P1" && echo yes || echo no)): $(tail -n 3 "$tmp/grow1.out" | tr '\n' ' ')"
  exit 0
fi
pass mech_grow_hold
u=$(v1 memory.usage_in_bytes)
echo "# holder $P1 at HOLD: memory.usage_in_bytes $u ($((u / MIB)) MiB)"
check mech_usage_grew [ "${u:-0}" -ge $((64 << 20)) ]

# ---- explain PID
u_before=$(v1 memory.usage_in_bytes)
timeout "$(budget 10)" "$GSM" explain "$P1" -o json > "$tmp/pid.json" 2> "$tmp/err"; rc=$?
u_after=$(v1 memory.usage_in_bytes)
if [ $rc -ne 0 ]; then
  fail explain_pid_ok "exit $rc: $(errtxt)"
  for n in explain_cgroup_version explain_effective_limit explain_binding_level0 explain_cgroup_path explain_usage_2pct; do
    fail "$n" "explain $P1 failed"
  done
else
  pass explain_pid_ok
  python3 - "$tmp/pid.json" "$LIMIT" "$u_before" "$u_after" "$REL" "$CG" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
limit, ub, ua, rel, cgdir = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
def get(expr):
    try:
        return True, eval(expr, {"d": d})
    except (KeyError, IndexError, TypeError) as e:
        return False, f"{expr}: missing ({type(e).__name__}: {e})"
def chk(name, expr, ok_fn, want):
    ok, v = get(expr)
    if not ok:
        print(f"FAIL {name}: {v}"); return
    good = ok_fn(v)
    print(("PASS " if good else "FAIL ") + name + ("" if good else f": {expr} = {v!r}, want {want}"))
chk("explain_cgroup_version", 'd["cgroup"]["version"]', lambda v: v == 1, 1)
chk("explain_effective_limit", 'd["cgroup"]["effective_limit"]["max"]["bytes"]', lambda v: v == limit, limit)
chk("explain_binding_level0", 'd["cgroup"]["effective_limit"]["max"]["level"]', lambda v: v == 0, 0)
chk("explain_cgroup_path", 'd["cgroup"]["path"]', lambda v: v in (rel, cgdir), f"{rel!r} (or {cgdir!r})")
within = lambda v, ref: isinstance(v, int) and abs(v - ref) <= ref * 0.02
chk("explain_usage_2pct", 'd["cgroup"]["usage_bytes"]', lambda v: within(v, ub) or within(v, ua),
    f"within 2% of usage_in_bytes read before ({ub}) or after ({ua})")
PY
fi

# ---- explain --cgroup
timeout "$(budget 10)" "$GSM" explain --cgroup "$REL" -o json > "$tmp/cg.json" 2> "$tmp/err"; rc=$?
if [ $rc -ne 0 ]; then
  fail explain_cgroup_ok "explain --cgroup $REL: exit $rc: $(errtxt)"
  fail explain_cgroup_lists_pid "explain --cgroup failed"
  fail explain_cgroup_limit_max "explain --cgroup failed"
else
  pass explain_cgroup_ok
  python3 - "$tmp/cg.json" "$LIMIT" "$P1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
limit, pid = int(sys.argv[2]), int(sys.argv[3])
try:
    pids = [p["pid"] for p in d["processes"]]
    ok = pid in pids
    print(("PASS" if ok else "FAIL") + " explain_cgroup_lists_pid" + ("" if ok else f": {pid} not in {pids}"))
except (KeyError, TypeError) as e:
    print(f"FAIL explain_cgroup_lists_pid: processes[].pid missing ({type(e).__name__}: {e})")
try:
    v = d["cgroup"]["limits"]["max_bytes"]
    print(("PASS" if v == limit else "FAIL") + " explain_cgroup_limit_max" + ("" if v == limit else f": {v!r}, want {limit}"))
except (KeyError, TypeError) as e:
    print(f"FAIL explain_cgroup_limit_max: cgroup.limits.max_bytes missing ({type(e).__name__}: {e})")
PY
fi

# ---- a grower: grows in the same cgroup until the memcg OOM killer kills it
k0=$(oom_kills)
fc0=$(v1 memory.failcnt) msw0=$(v1 memory.memsw.failcnt)
if ! start_grow "$tmp/grow2.out" -s 8 -i 50 -m 0 -w || ! wait_for "$tmp/grow2.out" '^READY' 5 "$G_PID"; then
  fail mech_oom_victim_gone "second grow did not start: $(head -c 300 "$tmp/grow2.out" | tr '\n' ' ')"
  exit 0
fi
P2=$G_PID F2=$G_FD
if ! echo "$P2" > "$CG/cgroup.procs" 2> "$tmp/err"; then
  fail mech_oom_victim_gone "move $P2 into $CG: $(cat "$tmp/err")"; exit 0
fi
echo 1000 > "/proc/$P2/oom_score_adj" # the victim must be the grower, not the larger holder
t0=$(now_ms)
echo go >&"$F2"
limit_s=$(budget 30) gone=
{ # (stderr: bash's "Killed" job notice for the victim)
  for _ in $(seq 1 $((limit_s * 20))); do
    alive "$P2" || { gone=1; break; }
    sleep 0.05
  done
} 2>/dev/null
t1=$(now_ms)
last=$(grep '^GREW' "$tmp/grow2.out" | tail -n 1)
exec {F2}>&-; F2=
if [ -n "$gone" ]; then
  { wait "$P2"; } 2>/dev/null; st=$?
  P2=
  echo "# grower gone after $((t1 - t0)) ms, last line '$last', exit status $st;" \
    "memory.failcnt $fc0 -> $(v1 memory.failcnt), memsw.failcnt ${msw0:-n/a} -> $(v1 memory.memsw.failcnt)," \
    "max_usage_in_bytes $(v1 memory.max_usage_in_bytes)"
  if [ "$st" -eq 137 ]; then pass mech_oom_victim_gone
  else fail mech_oom_victim_gone "grower exited with status $st, not 137 (SIGKILL): $(tail -n 2 "$tmp/grow2.out" | tr '\n' ' ')"; fi
else
  fail mech_oom_victim_gone "grower $P2 still alive after ${limit_s} s ($last; usage $(v1 memory.usage_in_bytes))"
fi
k1=$(oom_kills)
echo "# memory.oom_control oom_kill: $k0 -> $k1"
if [ -z "$k1" ]; then fail mech_oom_kill_counter "no oom_kill line in $CG/memory.oom_control (kernel < 4.13?)"
elif [ "$k1" -ge $((${k0:-0} + 1)) ]; then pass mech_oom_kill_counter
else fail mech_oom_kill_counter "oom_kill $k0 -> $k1"; fi
if alive "$P1"; then pass mech_holder_survived
else fail mech_holder_survived "the 64 MiB holder $P1 was killed too (oom_kill $k0 -> $k1)"; fi

timeout "$(budget 10)" "$GSM" explain --cgroup "$REL" -o json > "$tmp/cg2.json" 2> "$tmp/err"; rc=$?
if [ $rc -ne 0 ]; then
  fail explain_oom_kill_event "explain --cgroup $REL: exit $rc: $(errtxt)"
  fail explain_oom_finding "explain --cgroup failed"
else
  python3 - "$tmp/cg2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
try:
    v = d["cgroup"]["events"]["oom_kill"]
    ok = isinstance(v, int) and v >= 1
    print(("PASS" if ok else "FAIL") + " explain_oom_kill_event" + ("" if ok else f": cgroup.events.oom_kill = {v!r}, want >= 1"))
except (KeyError, TypeError) as e:
    print(f"FAIL explain_oom_kill_event: cgroup.events.oom_kill missing ({type(e).__name__}: {e})")
try:
    f = d["findings"]
    hit = [x for x in f if x.get("id") == "GSM-OOM-KILLS"]
    ok = any(x.get("severity") == "critical" for x in hit)
    why = f"GSM-OOM-KILLS with severity {[x.get('severity') for x in hit]}" if hit else \
          f"no GSM-OOM-KILLS among {[x.get('id') for x in f]}"
    print(("PASS" if ok else "FAIL") + " explain_oom_finding" + ("" if ok else f": {why}, want critical"))
except (KeyError, TypeError, AttributeError) as e:
    print(f"FAIL explain_oom_finding: findings missing or malformed ({type(e).__name__}: {e})")
PY
fi

# ---- a cgroup that does not exist
timeout "$(budget 10)" "$GSM" explain --cgroup /no/such/cgroup -o json > /dev/null 2> "$tmp/err"; rc=$?
check explain_missing_cgroup_exit3 [ "$rc" -eq 3 ]
[ "$rc" -eq 3 ] || echo "# explain --cgroup /no/such/cgroup: exit $rc: $(errtxt)"
echo "# took $(($(date +%s) - START)) s"
