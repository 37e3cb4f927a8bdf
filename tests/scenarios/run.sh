#!/usr/bin/env bash
# gsmapper watch scenario suite (issue 5, item 6 "Quality, measured").
#
# Each scenario runs a Go workload (tests/scenarios/workload) in its own v1 memory cgroup,
# a child of ours (<own>/gsm-scn-<name>-<pid>) with memory.limit_in_bytes = --limit MiB, under
#   gsmapper watch --cgroup <rel> --interval 2 --emit-samples --dump-dir <dir>
# until the workload is OOM-killed (leaks; bounded by a timeout) or its duration ends (benign).
# Then tests/scenarios/analyze.py computes, from gsmapper's events and its own sample series:
# OOM-killed or not, leak start → kill, lead of gsmapper's first warn / first critical, the lead
# of a plain 85%-of-limit threshold and of a pure Z-score of the growth rate on the same
# samples, false alarms, and whether a bundle was written; then PASS/MISS lines for the
# issue's targets.
#
# usage: tests/scenarios/run.sh [--quick] [--only NAME,...] [--benign-secs N] [--out DIR]
#                               [--sampler auto|gsmapper|builtin] [--overlap] [--list]
#                               [--limit MIB] [--seed N] [--target cgroup|pid]
#   --limit        the cgroups' memory limit (default: 384, 448, 512 or 640 MiB, chosen by the seed)
#   --seed         the workloads' random seed (default: from the clock); printed, so a run repeats
#   --quick        the `make test` subset: the 32 MiB/s heap leak and a 60 s sawtooth, in parallel
#   --only         run just these scenarios (names from --list)
#   --benign-secs  how long each benign workload runs (default 600; --quick: 60)
#   --out          results directory (default build/scenarios/run-<time>; build/scenarios/latest
#                  points at the last one)
#   --sampler      gsmapper: `gsmapper watch` (events + samples); builtin: tests/scenarios/
#                  sampler.py (samples only, no events: for the reference methods and the
#                  workloads when watch is not there); auto (default): gsmapper if
#                  `gsmapper watch --help` works
#   --target       what watch is given: cgroup (default: `watch --cgroup REL`) or pid (`watch PID`,
#                  as a user watching one process does; its limit is still its cgroup's; the
#                  crash loop, whose PID changes, is watched by cgroup either way)
#   --overlap      run the benign scenarios at the same time as the leaks (shorter, noisier)
# Exit: 0 all targets PASS, 1 some MISS, 2 cannot run (not root, no v1 memory controller, no go).
# Needs root. Cleans up after itself: our processes are killed by PID, cgroups removed.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
GSM=${GSMAPPER:-$ROOT/build/gsmapper}
V1=/sys/fs/cgroup/memory
LIMIT_MIB=''
SEED=''
INTERVAL=2
POST_KILL_S=12   # watch keeps running this long after a kill (oom_kill event, bundle)

quick=0 only='' benign_secs='' out='' sampler=auto overlap=0 list=0 target=cgroup
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --benign-secs) benign_secs=$2; shift ;;
    --out) out=$2; shift ;;
    --sampler) sampler=$2; shift ;;
    --overlap) overlap=1 ;;
    --list) list=1 ;;
    --limit) LIMIT_MIB=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --target) target=$2; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case $target in cgroup|pid) ;; *) echo "run.sh: --target cgroup|pid" >&2; exit 2 ;; esac
[ -n "$benign_secs" ] || { [ $quick = 1 ] && benign_secs=60 || benign_secs=600; }

[ -n "$SEED" ] || SEED=$(( $(date +%s) % 100000 ))
if [ -z "$LIMIT_MIB" ]; then LIMITS=(384 448 512 640); LIMIT_MIB=${LIMITS[$((SEED % 4))]}; fi
LIMIT=$((LIMIT_MIB << 20))
P70=$((LIMIT_MIB * 70 / 100)) P60=$((LIMIT_MIB * 60 / 100))
# name|class|timeout or duration (s)|goal|workload arguments
#   class: steady (a leak after a 30 s flat phase), start (a leak that starts with the process),
#   leak (other leaks after a flat phase), burst, loop (a crash loop: the harness restarts the
#   workload, in the cgroup, after each kill), benign (must not alarm; runs for its duration)
#   class@steady: the watcher attaches once the workload says "PHASE steady" (its start-up done),
#   as to a service already running; the sawtooth's subject is the GC sawtooth, and its start-up
#   (loading a live set whose heap goal is ~45 % of the limit: several seconds of rise on a loaded
#   machine, a leak from start's shape) is the start-up scenarios' subject (stepup-start, spike)
#   py: the workload is tests/scenarios/pyleak.py (CPython), not the Go program
#   node: the workload is tests/scenarios/nodeleak.js (Node.js: V8's heap and GC), run with a V8
#     heap limit of twice the cgroup's (Node >= 19 sizes its heap from the cgroup's limit and
#     would abort with "JavaScript heap out of memory" before the OOM killer acts); skipped with
#     the reason when node is not installed
#   burst: 600 MiB over 2 s (1.5 x the limit above 400 MiB: a burst that does not reach the limit
#     is not an OOM scenario)
#   goal: the lead the first warn must have, as a fraction of the time from the work's start (or
#   the leak's, for steady) to the kill; 0: a warn before the kill; -: none
SCENARIOS="
heap-2|steady|600|0.7|-mode heapleak -rate 2 -leak-after 30
heap-8|steady|300|0.7|-mode heapleak -rate 8 -leak-after 30
heap-32|steady|180|0|-mode heapleak -rate 32 -leak-after 30
heap-2s|start|600|0.7|-mode heapleak -rate 2 -leak-after 0
heap-8s|start|300|0.7|-mode heapleak -rate 8 -leak-after 0
heap-32s|start|120|0.5|-mode heapleak -rate 32 -leak-after 0
heap-128s|start|60|0|-mode heapleak -rate 128 -leak-after 0
mmap-4|leak|400|0|-mode mmapleak -rate 4 -leak-after 30
mmap-8s|start|300|0|-mode mmapleak -rate 8 -leak-after 0
goroutine-30|leak|500|0|-mode goroutineleak -rate 30 -stack 64 -leak-after 30
goroutine-60s|start|500|0|-mode goroutineleak -rate 60 -stack 64 -leak-after 0
thread-50|leak|500|0|-mode threadleak -rate 50 -leak-after 30
thread-100s|start|500|0|-mode threadleak -rate 100 -leak-after 0
burst|burst|240|0|-mode burst -base 100 -at 60 -burst $((LIMIT_MIB * 3 / 2 > 600 ? LIMIT_MIB * 3 / 2 : 600)) -burst-secs 2
burst-short|burst|120|0|-mode burst -base 100 -at 12 -burst $((LIMIT_MIB * 2)) -burst-secs 2
crashloop|loop|150|0|-mode heapleak -rate 64 -leak-after 0 -garbage 8
py-8s|start|300|0.7|py: -rate 8
py-32s|start|120|0.5|py: -rate 32
node-8s|start|300|0.7|node: -rate 8
node-32s|start|120|0.5|node: -rate 32
sawtooth|benign@steady|$benign_secs|-|-mode sawtooth -base $((LIMIT_MIB * 110 / 512)) -seed $SEED
pagecache|benign|$benign_secs|-|-mode pagecache -file-mib 1536
stepup|benign|$benign_secs|-|-mode stepup -base 40 -at 30 -step $P70
stepup-start|benign|$benign_secs|-|-mode stepup -base 20 -at 0 -step $P70
spike|benign|$benign_secs|-|-mode spike -base 30 -step $P60 -hold 3
"
if [ $quick = 1 ] && [ -z "$only" ]; then
  only=heap-32,sawtooth
  SCENARIOS=${SCENARIOS/heap-32|steady|180|0|-mode heapleak -rate 32 -leak-after 30/heap-32|steady|120|0|-mode heapleak -rate 32 -leak-after 20}
  overlap=1
fi
if [ $list = 1 ]; then grep -v '^$' <<<"$SCENARIOS" | cut -d'|' -f1-4 | tr '|' ' '; exit 0; fi

cannot() { echo "SKIPPED: $1"; exit 2; }
[ "$(id -u)" -eq 0 ] || cannot "needs root (creates memory cgroups)"
awk '$5 == "'"$V1"'" { for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "cgroup" && ("," $(i+3) ",") ~ /,memory,/) found = 1 }
     END { exit !found }' /proc/self/mountinfo || cannot "cgroup v1 memory controller not mounted at $V1"
command -v go >/dev/null 2>&1 || cannot "go not installed (the workloads are Go programs)"
command -v python3 >/dev/null 2>&1 || cannot "python3 not installed (analysis)"
OWN=
while IFS=: read -r _ ctrls path; do
  case ",$ctrls," in *,memory,*) OWN=$path ;; esac
done < /proc/self/cgroup
[ -n "$OWN" ] || cannot "no memory line in /proc/self/cgroup"
[ -d "$V1$OWN" ] || cannot "own memory cgroup $V1$OWN not visible"

# ---- the workload binary (rebuilt when its source is newer)
WL=$ROOT/build/scenarios/workload
mkdir -p "$ROOT/build/scenarios"
if [ ! -x "$WL" ] || [ -n "$(find "$ROOT/tests/scenarios/workload" -newer "$WL" -name '*.go' -print -quit)" ]; then
  (cd "$ROOT/tests/scenarios/workload" &&
   GOCACHE=$ROOT/build/.gocache GOPATH=$ROOT/build/.gopath GOPROXY=off GOFLAGS=-mod=mod \
   GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0 \
   go build -trimpath -buildvcs=false -o "$WL.tmp" . && mv -f "$WL.tmp" "$WL") ||
    cannot "building the workload failed"
fi

if [ "$sampler" = auto ]; then
  if [ -x "$GSM" ] && "$GSM" watch --help >/dev/null 2>&1; then sampler=gsmapper; else sampler=builtin; fi
fi
case $sampler in
  gsmapper) [ -x "$GSM" ] && "$GSM" watch --help >/dev/null 2>&1 || cannot "$GSM watch not available" ;;
  builtin) ;;
  *) echo "run.sh: --sampler auto|gsmapper|builtin" >&2; exit 2 ;;
esac

[ -n "$out" ] || out=$ROOT/build/scenarios/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"; out=$(cd "$out" && pwd)
[ "$out" = "$ROOT/build/scenarios/latest" ] || ln -sfn "$out" "$ROOT/build/scenarios/latest"
echo "# scenarios: sampler=$sampler out=$out limit=$((LIMIT >> 20)) MiB seed=$SEED interval=${INTERVAL}s benign=${benign_secs}s target=$target own=$OWN"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
alive() { # PID running (not gone, not a zombie)
  local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$1/memory.oom_control" 2>/dev/null; }

# run_scenario NAME CLASS SECONDS ARGS... : one scenario, results in $out/NAME/ (meta.json,
# workload.out, watch.jsonl, watch.err, dump/). Runs in a subshell with its own cleanup.
run_scenario() (
  name=$1 class=${2%@*} secs=$3 goal=$4 attach=start
  [ "$2" = "${2%@*}" ] || attach=${2#*@}
  shift 4
  d=$out/$name
  rm -rf "$d"; mkdir -p "$d/dump"
  rel=${OWN%/}/gsm-scn-$name-$$
  cg=$V1$rel
  WPID='' SPID='' FD='' status='' kill_ms='' note=''
  log() { echo "# [$name] $*"; }
  cleanup() {
    local p _
    if [ -n "$SPID" ]; then
      kill -TERM "$SPID" 2>/dev/null
      for _ in $(seq 1 100); do alive "$SPID" || break; sleep 0.1; done
      alive "$SPID" && { log "watch did not stop on SIGTERM in 10 s; killing it"; kill -KILL "$SPID" 2>/dev/null; }
      { wait "$SPID"; } 2>/dev/null
    fi
    [ -n "$FD" ] && exec {FD}>&- 2>/dev/null
    if [ -n "$WPID" ]; then
      kill -TERM "$WPID" 2>/dev/null
      for _ in $(seq 1 50); do alive "$WPID" || break; sleep 0.1; done
      alive "$WPID" && kill -KILL "$WPID" 2>/dev/null
      { wait "$WPID"; } 2>/dev/null
    fi
    if [ -d "$cg" ]; then
      for _ in $(seq 1 100); do [ -z "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
      for _ in $(seq 1 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
      [ -d "$cg" ] && log "ERROR: could not remove $cg (procs: $(tr '\n' ' ' < "$cg/cgroup.procs"))"
    fi
  }
  trap cleanup EXIT
  trap 'exit 1' INT TERM HUP
  fail_meta() { # harness failure: write a meta.json saying so
    printf '{"name":"%s","class":"%s","error":"%s"}\n' "$name" "$class" "$1" > "$d/meta.json"
    log "ERROR: $1"; exit 1
  }

  mkdir "$cg" 2>"$d/err" || fail_meta "mkdir $cg: $(tr -d '\n"' < "$d/err")"
  echo "$LIMIT" > "$cg/memory.limit_in_bytes" 2>"$d/err" || fail_meta "set limit: $(tr -d '\n"' < "$d/err")"
  fifo=$d/stdin.fifo
  mkfifo "$fifo" || fail_meta "mkfifo"
  if [ "${1:-}" = py: ]; then   # the CPython workload (tests/scenarios/pyleak.py)
    shift
    python3 "$ROOT/tests/scenarios/pyleak.py" "$@" -wait-stdin < "$fifo" > "$d/workload.out" 2>&1 &
  elif [ "${1:-}" = node: ]; then   # the Node.js workload (tests/scenarios/nodeleak.js)
    shift
    node --max-old-space-size=$((LIMIT_MIB * 2)) "$ROOT/tests/scenarios/nodeleak.js" "$@" -wait-stdin \
      < "$fifo" > "$d/workload.out" 2>&1 &
  else
    "$WL" "$@" -wait-stdin < "$fifo" > "$d/workload.out" 2>&1 &
  fi
  WPID=$!
  exec {FD}> "$fifo"
  rm -f "$fifo"
  for _ in $(seq 1 100); do grep -q '^READY' "$d/workload.out" && break; alive "$WPID" || break; sleep 0.05; done
  grep -q '^READY' "$d/workload.out" || fail_meta "workload did not print READY: $(head -c 200 "$d/workload.out" | tr -d '\n"')"
  echo "$WPID" > "$cg/cgroup.procs" 2>"$d/err" || fail_meta "move $WPID into $cg: $(tr -d '\n"' < "$d/err")"
  k0=$(oom_kills "$cg")

  if [ "$attach" = steady ]; then # start the work, attach once its start-up is done
    go_ms=$(now_ms)
    echo go >&"$FD"
    for _ in $(seq 1 1200); do grep -q '^PHASE steady' "$d/workload.out" && break; alive "$WPID" || break; sleep 0.05; done
    grep -q '^PHASE steady' "$d/workload.out" || fail_meta "workload did not reach PHASE steady in 60 s"
    log "steady after $(( $(now_ms) - go_ms )) ms: watcher attaches now"
  fi
  if [ "$sampler" = gsmapper ]; then
    what=(--cgroup "$rel")
    [ "$target" = pid ] && [ "$class" != loop ] && what=("$WPID")
    "$GSM" watch "${what[@]}" --interval "$INTERVAL" --emit-samples --dump-dir "$d/dump" \
      > "$d/watch.jsonl" 2> "$d/watch.err" &
  else
    python3 "$ROOT/tests/scenarios/sampler.py" "$cg" "$rel" "$INTERVAL" > "$d/watch.jsonl" 2> "$d/watch.err" &
  fi
  SPID=$!
  sleep 3 # the watcher's first samples come from before the work starts
  alive "$SPID" || fail_meta "watcher exited at once: $(head -c 300 "$d/watch.err" | tr -d '\n"')"
  if [ "$attach" = start ]; then go_ms=$(now_ms); echo go >&"$FD"; fi
  log "started pid $WPID in $rel ($class, ${secs}s): $*"
  end=$(( $(date +%s) + secs ))
  { # (stderr: bash's "Killed" notice)
    while alive "$WPID" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
  } 2>/dev/null
  kills_ms=''
  if [ "$class" = loop ]; then
    # a supervisor: each time the workload is killed, start it again in the cgroup
    while [ "$(date +%s)" -lt "$end" ]; do
      if ! alive "$WPID"; then
        { wait "$WPID"; } 2>/dev/null
        kills_ms="$kills_ms${kills_ms:+,}$(now_ms)"
        [ "$(( $(oom_kills "$cg") - ${k0:-0} ))" -ge 4 ] && break
        "$WL" "$@" > "$d/workload.$(now_ms).out" 2>&1 &
        WPID=$!
        echo "$WPID" > "$cg/cgroup.procs" 2>/dev/null
      fi
      sleep 0.1
    done 2>/dev/null
    kill -KILL "$WPID" 2>/dev/null; { wait "$WPID"; } 2>/dev/null; WPID=''
    log "crash loop: kills at ${kills_ms:-none}"
    # from here on, as a leak: killed at the first kill
    first_kill=${kills_ms%%,*}
  fi
  end_ms=$(now_ms)
  killed=false
  if [ "$class" = loop ]; then
    kill_ms=${first_kill:-}
    k1=$(oom_kills "$cg")
    [ -n "$kill_ms" ] && [ "${k1:-0}" -gt "${k0:-0}" ] && { killed=true; status=137; }
    alive "$SPID" && sleep "$POST_KILL_S"
  elif ! alive "$WPID"; then
    kill_ms=$end_ms
    { wait "$WPID"; } 2>/dev/null; status=$?
    WPID=''
    k1=$(oom_kills "$cg")
    [ "$status" -eq 137 ] && [ "${k1:-0}" -gt "${k0:-0}" ] && killed=true
    log "workload gone after $(( (kill_ms - go_ms) / 1000 )) s: exit $status, oom_kill ${k0:-?} -> ${k1:-?}"
    alive "$SPID" && sleep "$POST_KILL_S"
  else
    log "ran its ${secs}s without being killed (usage $(( $(cat "$cg/memory.usage_in_bytes") >> 20 )) MiB, max $(( $(cat "$cg/memory.max_usage_in_bytes") >> 20 )) MiB)"
  fi
  k1=$(oom_kills "$cg")
  maxu=$(cat "$cg/memory.max_usage_in_bytes" 2>/dev/null || echo 0)
  # stop the watcher first (a benign workload's exit is not the watcher's business)
  if alive "$SPID"; then watch_alive=true; else watch_alive=false; fi
  kill -TERM "$SPID" 2>/dev/null
  for _ in $(seq 1 100); do alive "$SPID" || break; sleep 0.1; done
  alive "$SPID" && { log "watch did not stop on SIGTERM in 10 s; killing it"; kill -KILL "$SPID" 2>/dev/null; }
  { wait "$SPID"; } 2>/dev/null; watch_rc=$?
  SPID=''
  printf '{"name":"%s","class":"%s","args":"%s","limit_bytes":%d,"interval_s":%s,"sampler":"%s","cgroup":"%s","pid":%s,"go_ms":%s,"end_ms":%s,"kill_ms":%s,"exit_status":%s,"oom_kill_before":%s,"oom_kill_after":%s,"oom_killed":%s,"max_usage_bytes":%s,"watch_alive_at_end":%s,"watch_rc":%s,"secs":%s,"goal":"%s","kills_ms":[%s]}\n' \
    "$name" "$class" "$*" "$LIMIT" "$INTERVAL" "$sampler" "$rel" "$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$d/workload.out")" \
    "$go_ms" "$end_ms" "${kill_ms:-null}" "${status:-null}" "${k0:-null}" "${k1:-null}" "$killed" "$maxu" \
    "$watch_alive" "$watch_rc" "$secs" "$goal" "$kills_ms" > "$d/meta.json"
)

names=()
declare -A CLASS SECS ARGS GOAL
while IFS='|' read -r n c s g a; do
  [ -n "$n" ] || continue
  if [ -n "$only" ] && [[ ",$only," != *",$n,"* ]]; then continue; fi
  if [[ $a == node:* ]] && ! command -v node >/dev/null 2>&1; then
    echo "# SKIPPED $n: node not installed (scripts/install-deps.sh scenarios)"; continue
  fi
  names+=("$n"); CLASS[$n]=$c SECS[$n]=$s ARGS[$n]=$a GOAL[$n]=$g
done <<<"$SCENARIOS"
[ ${#names[@]} -gt 0 ] || { echo "run.sh: no scenario matches --only $only" >&2; exit 2; }

t0=$(date +%s)
bg=()
run_bg() { local n=$1; run_scenario "$n" "${CLASS[$n]}" "${SECS[$n]}" "${GOAL[$n]}" ${ARGS[$n]} & bg+=($!); }
on_signal() { local p; for p in "${bg[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait; exit 1; }
trap on_signal INT TERM HUP
# benign scenarios run side by side (they only have to stay quiet); leaks one at a time
for n in "${names[@]}"; do
  if [ "${CLASS[$n]%@*}" = benign ] && [ $overlap = 1 ]; then run_bg "$n"; fi
done
for n in "${names[@]}"; do
  [ "${CLASS[$n]%@*}" = benign ] && continue
  run_scenario "$n" "${CLASS[$n]}" "${SECS[$n]}" "${GOAL[$n]}" ${ARGS[$n]}
done
if [ $overlap = 0 ]; then
  for n in "${names[@]}"; do [ "${CLASS[$n]%@*}" = benign ] && run_bg "$n"; done
fi
for p in "${bg[@]}"; do wait "$p"; done
echo "# all scenarios done in $(( $(date +%s) - t0 )) s"
python3 "$ROOT/tests/scenarios/analyze.py" "$out" "${names[@]}"
