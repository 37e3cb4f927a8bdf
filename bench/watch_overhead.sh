#!/usr/bin/env bash
# Overhead of `gsmapper watch` (issue 5, item 7): 500 processes spread over 10 memory cgroups
# (children of our own v1 memory cgroup), watched at the default 2 s tick for DURATION seconds
# (default 60): gsmapper's CPU (% of one core) and peak RSS, next to the cost of reading the same
# files with `cat` once per tick (the floor: what the kernel charges to produce them).
# Targets: < 1% of one core, < 8 MiB RSS. Prints a table and PASS/MISS lines.
set -uo pipefail
cd "$(dirname "$0")/.."
GSM=${GSMAPPER:-build/gsmapper}
DURATION=${DURATION:-60}
NPROC=${NPROC:-500}
NCG=${NCG:-10}
own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ]; then
  echo "bench/watch_overhead.sh: needs root and the v1 memory controller (skipped)"; exit 0
fi
pids=() cgs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for c in "${cgs[@]}"; do rmdir "$c" 2>/dev/null; done
}
trap cleanup EXIT
for i in $(seq 1 "$NCG"); do
  c=$V1${own%/}/gsm-bench-$$-$i; mkdir "$c"; echo $((512 << 20)) > "$c/memory.limit_in_bytes"; cgs+=("$c")
done
for i in $(seq 1 "$NPROC"); do
  sleep 100000 & p=$!; pids+=("$p")
  echo "$p" > "${cgs[$((i % NCG))]}/cgroup.procs"
done
rel=(); for c in "${cgs[@]}"; do rel+=(--cgroup "${c#$V1}"); done

# gsmapper: all 500 PIDs and the 10 cgroups.
/usr/bin/time -f '%e %U %S %M' -o /tmp/gsm-watch-bench.time \
  "$GSM" watch "${pids[@]}" "${rel[@]}" --duration "$DURATION" --stats --no-go-stats > /tmp/gsm-watch-bench.out
read -r wall user sys maxrss < /tmp/gsm-watch-bench.time
cpu_pct=$(python3 -c "print(round(($user + $sys) / $wall * 100, 3))")
# Start-up alone (discovery of 510 targets: identity, cgroup, executable): a 2 s run, so the
# steady state is (long - short) / (wall long - wall short).
/usr/bin/time -f '%e %U %S %M' -o /tmp/gsm-watch-bench.time2 \
  "$GSM" watch "${pids[@]}" "${rel[@]}" --duration 2 --no-go-stats > /dev/null
read -r swall suser ssys _ < /tmp/gsm-watch-bench.time2
steady_pct=$(python3 -c "print(round((($user + $sys) - ($suser + $ssys)) / max(1, $wall - $swall) * 100, 3))")
startup_ms=$(python3 -c "print(round(($suser + $ssys) * 1000))")

# The floor: cat of the same files once per tick (status + stat per process, memory files per cgroup).
files=()
for p in "${pids[@]}"; do files+=("/proc/$p/status" "/proc/$p/stat"); done
for c in "${cgs[@]}"; do files+=("$c/memory.usage_in_bytes" "$c/memory.stat" "$c/memory.limit_in_bytes" "$c/memory.oom_control" "$c/memory.failcnt"); done
ticks=$((DURATION / 2))
start=$(date +%s.%N)
/usr/bin/time -f '%e %U %S %M' -o /tmp/gsm-cat-bench.time bash -c '
  for t in $(seq 1 '"$ticks"'); do cat "$@" > /dev/null; done' _ "${files[@]}"
read -r cwall cuser csys cmaxrss < /tmp/gsm-cat-bench.time
cat_cpu_per_tick=$(python3 -c "print(round(($cuser + $csys) / $ticks * 1000, 2))")
gsm_cpu_per_tick=$(python3 -c "print(round(($user + $sys) / max(1, $ticks) * 1000, 2))")
stats=$(grep '"gsmapper.watch-stats/v1"' /tmp/gsm-watch-bench.out)
echo "## watch overhead, $NPROC processes in $NCG cgroups, ${DURATION}s at a 2 s tick ($(date +%F), kernel $(uname -r))"
echo "| | CPU % of one core | CPU ms per tick | peak RSS KiB |"
echo "|---|---|---|---|"
echo "| gsmapper watch | $cpu_pct | $gsm_cpu_per_tick | $maxrss |"
echo "| gsmapper watch, steady state (start-up of ${startup_ms} ms CPU excluded) | $steady_pct | | |"
echo "| cat of the same files per tick (floor) | $(python3 -c "print(round(($cuser + $csys) / $DURATION * 100, 3))") | $cat_cpu_per_tick | $cmaxrss |"
echo "(ratio gsmapper / cat CPU per tick: $(python3 -c "print(round($gsm_cpu_per_tick / max(0.001, $cat_cpu_per_tick), 2))"))"
echo "stats: $stats"
python3 -c "import sys; sys.exit(0 if $steady_pct < 1 else 1)" && echo "target < 1% of one core (steady state): PASS ($steady_pct%; with start-up over ${DURATION} s: $cpu_pct%)" || echo "target < 1% of one core (steady state): MISS ($steady_pct%; with start-up over ${DURATION} s: $cpu_pct%)"
[ "$maxrss" -lt 8192 ] && echo "target < 8 MiB RSS: PASS ($maxrss KiB)" || echo "target < 8 MiB RSS: MISS ($maxrss KiB)"
