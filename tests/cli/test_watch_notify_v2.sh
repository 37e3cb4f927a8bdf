#!/usr/bin/env bash
# `watch` on a cgroup v2 tree under --root (a copy of the docker fixture, so no root and no v2
# memory controller needed): the inotify watch on memory.events (engine/notify.c,
# readers/kernel_notify) wakes the loop when a counter moves, so an OOM kill written into
# memory.events is reported at once, not at the next 60 s tick; where the watch is refused (no
# memory.events: two cgroups), the fallback to polling is said once. The PSI trigger is tested
# against /proc/pressure/memory in the unit tests (tests/unit/test_kernel_notify.c).
set -u
. "$(dirname "$0")/../lib.sh"
CHECKS="notify_v2_first_sample notify_v2_oom_kill_seen notify_v2_before_next_tick notify_v2_refused_said_once notify_v2_refused_still_polls"
"$GSM" watch --help >/dev/null 2>&1 || { for n in $CHECKS; do skip "$n" "$GSM has no watch command"; done; exit 0; }
command -v python3 >/dev/null 2>&1 || { for n in $CHECKS; do skip "$n" "python3 not installed"; done; exit 0; }

tmp=$(mktemp -d)
wpid=''
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null; rm -rf "$tmp"' EXIT
cp -a "$TESTS_DIR/fixtures/cg-v2-docker" "$tmp/fx"
cg=/system.slice/docker-3f8e1c2b7a9d4e5f6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f.scope
d=$tmp/fx/sys/fs/cgroup$cg
echo 8589934592 > "$d/memory.max"   # far from the limit: sampled at the interval, not faster
now_ms() { echo $(($(date +%s%N) / 1000000)); }

"$GSM" watch --root "$tmp/fx" --cgroup "$cg" --interval 60 --emit-samples -o json --duration 120 \
  > "$tmp/out" 2> "$tmp/err" &
wpid=$!
for _ in $(seq 1 200); do grep -q "sample/v1" "$tmp/out" && break; sleep 0.05; done
samples=$(grep -c 'sample/v1' "$tmp/out")
check notify_v2_first_sample [ "$samples" -ge 1 ]
sleep 0.5
t_write=$(now_ms)
# in place (the watch follows the file, as the kernel rewrites memory.events in place)
printf 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n' > "$d/memory.events"
for _ in $(seq 1 600); do grep -q '"kind":"oom_kill"' "$tmp/out" && break; sleep 0.05; done
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null; wpid=''
ev=$(grep '"kind":"oom_kill"' "$tmp/out" | head -n 1)
if [ -n "$ev" ]; then
  pass notify_v2_oom_kill_seen
  t_ev=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["time_ms"])' "$ev")
  echo "# memory.events written at $t_write, oom_kill event at $t_ev: $((t_ev - t_write)) ms (interval 60 s)"
  # the next tick was 60 s after the first samples: an event before it came from the notification
  check notify_v2_before_next_tick [ $((t_ev - t_write)) -lt 30000 ]
else
  fail notify_v2_oom_kill_seen "no oom_kill event within 30 s of the write: $(tail -c 300 "$tmp/out") $(cat "$tmp/err")"
  fail notify_v2_before_next_tick "no event"
fi

# refused: two cgroups without memory.events
cp -a "$d" "$(dirname "$d")/other.scope"
rm -f "$d/memory.events" "$(dirname "$d")/other.scope/memory.events"
"$GSM" watch --root "$tmp/fx" --cgroup "$cg" --cgroup /system.slice/other.scope --interval 0.5 --emit-samples \
  -o json --duration 3 > "$tmp/out2" 2> "$tmp/err2"
n=$(grep -c 'refused memory notifications' "$tmp/err2")
check notify_v2_refused_said_once [ "$n" -eq 1 ]
[ "$n" -eq 1 ] || echo "# stderr: $(cat "$tmp/err2")"
check notify_v2_refused_still_polls [ "$(grep -c 'sample/v1' "$tmp/out2")" -ge 4 ]
