#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller): a process moved to another cgroup is attributed to
# and limited by the new one (issue 12). Two child memory cgroups of our own, A (192 MiB limit)
# and B (96 MiB); a `sleep` starts in A and `gsmapper watch PID --emit-samples` samples it every
# 0.2 s; after about 1.5 s the script writes the PID to B's cgroup.procs (what systemd, kubelet
# or an operator does). The samples before the move must name A and its limit; within 6 samples
# of the move they must name B and B's limit, and stay so. With GSMAPPER_DEBUG=1 the watch says
# it registered kernel notifications again, for B. The move itself is checked in
# /proc/PID/cgroup, so a FAIL of a watch_* check with mech_moved passing is gsmapper's.
set -u
. "$(dirname "$0")/../lib.sh"

V1=/sys/fs/cgroup/memory
LA=$((192 << 20)) LB=$((96 << 20))
CHECKS="mech_moved watch_ran watch_before_move_names_a watch_after_move_names_b watch_limit_follows_move
  watch_notify_reregistered"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates memory cgroups)"
awk '$5 == "'"$V1"'" { for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "cgroup" && ("," $(i+3) ",") ~ /,memory,/) found = 1 }
     END { exit !found }' /proc/self/mountinfo ||
  skip_all "cgroup v1 memory controller not mounted at $V1"
own=$(own_memory_cgroup)
[ -n "$own" ] || skip_all "no memory line in /proc/self/cgroup"
[ -d "$V1$own" ] || skip_all "own memory cgroup $V1$own not visible (cgroup namespace?)"
RA=${own%/}/gsm-move-a-$$ RB=${own%/}/gsm-move-b-$$
A=$V1$RA B=$V1$RB

tmp=$(mktemp -d)
P='' W=''
cleanup() {
  [ -n "$W" ] && kill "$W" 2>/dev/null
  [ -n "$P" ] && kill "$P" 2>/dev/null
  wait 2>/dev/null
  local d _
  for d in "$A" "$B"; do
    [ -d "$d" ] || continue
    for _ in $(seq 1 40); do rmdir "$d" 2>/dev/null && break; sleep 0.05; done
    [ -d "$d" ] && fail cleanup "could not remove $d"
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$A" "$B" 2>/dev/null || skip_all "cannot create child cgroups under $V1$own"
echo "$LA" > "$A/memory.limit_in_bytes" && echo "$LB" > "$B/memory.limit_in_bytes" ||
  skip_all "cannot set memory.limit_in_bytes in child cgroups"

# The sleep joins A itself before exec, so it never runs in our own cgroup.
( echo "$BASHPID" > "$A/cgroup.procs" && exec sleep 60 ) &
P=$!
for _ in $(seq 1 40); do grep -q ":memory:$RA\$" "/proc/$P/cgroup" 2>/dev/null && break; sleep 0.05; done

GSMAPPER_DEBUG=1 "$GSM" watch "$P" --interval 0.2 --emit-samples --duration 6 -o json >"$tmp/out" 2>"$tmp/err" &
W=$!
sleep 1.5
move_ms=$(($(date +%s%N) / 1000000))
echo "$P" > "$B/cgroup.procs"
if grep -q ":memory:$RB\$" "/proc/$P/cgroup"; then pass mech_moved; else fail mech_moved "$(cat "/proc/$P/cgroup")"; fi
wait "$W"; rc=$?; W=''
if [ "$rc" -eq 0 ] && [ -s "$tmp/out" ]; then pass watch_ran
else fail watch_ran "exit $rc: $(head -c 400 "$tmp/err" | tr '\n' ' ')"; fi

# One line per sample: time_ms cgroup limit_bytes
python3 - "$tmp/out" "$P" > "$tmp/samples" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try: d = json.loads(line)
    except ValueError: continue
    if d.get("schema") == "gsmapper.sample/v1" and d["target"].get("pid") == int(sys.argv[2]):
        print(d["time_ms"], d["target"].get("cgroup"), d.get("limit_bytes"))
PY
before=$(awk -v m="$move_ms" '$1 < m' "$tmp/samples")
after=$(awk -v m="$move_ms" '$1 > m' "$tmp/samples")
if [ -n "$before" ] && ! awk -v c="$RA" -v l="$LA" '$2 != c || $3 != l { bad = 1 } END { exit bad }' <<<"$before"; then
  fail watch_before_move_names_a "want $RA $LA before the move: $(head -n 3 <<<"$before" | tr '\n' ';')"
elif [ -z "$before" ]; then fail watch_before_move_names_a "no sample before the move"
else pass watch_before_move_names_a; fi
# The first sample naming B, counted from the move; every one after it names B.
first_b=$(awk -v c="$RB" '$2 == c { print NR; exit }' <<<"$after")
if [ -n "$first_b" ] && [ "$first_b" -le 6 ] &&
   awk -v c="$RB" -v f="$first_b" 'NR >= f && $2 != c { bad = 1 } END { exit bad }' <<<"$after"; then
  pass watch_after_move_names_b
else fail watch_after_move_names_b "want $RB within 6 samples of the move, then always: $(tr '\n' ';' <<<"$after" | head -c 600)"; fi
if [ -n "$first_b" ] && awk -v f="$first_b" -v l="$LB" 'NR >= f && $3 != l { bad = 1 } END { exit bad }' <<<"$after" &&
   [ "$(tail -n 1 <<<"$after" | awk '{ print $3 }')" = "$LB" ]; then
  pass watch_limit_follows_move
else fail watch_limit_follows_move "want limit $LB once B is named: $(tr '\n' ';' <<<"$after" | head -c 600)"; fi
if grep -q "kernel notifications for $RB registered" "$tmp/err"; then pass watch_notify_reregistered
else fail watch_notify_reregistered "no 'kernel notifications for $RB registered' in: $(grep -i notif "$tmp/err" | head -n 5 | tr '\n' ' ')"; fi
