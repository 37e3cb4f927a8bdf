# Shared helpers for the shell test suites (tests/cli, tests/live). Source it.
# Each check prints one line: "PASS name", "FAIL name: why" or "SKIP name: why";
# tests/run.sh adds them up.
GSM=${GSMAPPER:-build/gsmapper}
TESTS_DIR=${GSM_TESTS_DIR:-tests}
TARGETS_DIR=${GSM_TARGETS_DIR:-build/targets}
CTARGETS_DIR=${GSM_CTARGETS_DIR:-build/tests/targets}
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
# own_memory_cgroup: our own cgroup in the v1 memory hierarchy (the path on the memory line of
# /proc/self/cgroup, "4:memory:/a/b" or "4:cpu,memory:/a/b"); empty when there is none. Tests
# make their cgroups only as children of it.
own_memory_cgroup() { awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/self/cgroup; }
# check NAME CONDITION-COMMAND... : PASS if the command succeeds
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "$*"; fi; }

# Start a target that prints "READY ..." on stdout and exits when its stdin closes.
# Sets TARGET_PID; the target's stdin is held open on fd 9 (close it with stop_target).
start_target() {
  local out; out=$(mktemp)
  exec 9> >(exec "$@" >"$out" 2>&1)
  TARGET_PID=$!          # the process substitution exec'd the target: this is its PID
  TARGET_OUT=$out
  for _ in $(seq 1 200); do
    if grep -q '^READY' "$out" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  echo "target did not get ready: $*: $(cat "$out")" >&2
  return 1
}
stop_target() {
  exec 9>&- 2>/dev/null || true
  if [ -n "${TARGET_PID:-}" ]; then
    kill "$TARGET_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$TARGET_PID" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -f "${TARGET_OUT:-}"
  TARGET_PID=
}
# json_get FILE PYTHON-EXPR : evaluate an expression on the parsed JSON as `d`
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# For a memshape target started with start_target (it prints runtime.ReadMemStats as
# "MEMSTATS {...}" on SIGUSR1):
# memshape_memstats FILE: its ReadMemStats now (SIGUSR1, then the newest MEMSTATS line).
memshape_memstats() {
  local n; n=$(grep -c '^MEMSTATS ' "$TARGET_OUT")
  kill -USR1 "$TARGET_PID"
  for _ in $(seq 1 100); do [ "$(grep -c '^MEMSTATS ' "$TARGET_OUT")" -gt "$n" ] && break; sleep 0.02; done
  grep '^MEMSTATS ' "$TARGET_OUT" | tail -1 | cut -d' ' -f2- > "$1"
}
# memshape_settle DIR: wait (up to 9 s) until no GC cycle or scavenger step moved NumGC,
# HeapReleased or HeapInuse for 0.3 s (a young heap counts pages it never touched). Uses
# DIR/settle0.json and DIR/settle1.json.
memshape_settle() {
  local a=$1/settle0.json b=$1/settle1.json
  memshape_memstats "$a"
  for _ in $(seq 1 30); do
    sleep 0.3; memshape_memstats "$b"
    python3 -c 'import json, sys
d0, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(0 if all(d0[k] == d[k] for k in ("NumGC", "HeapReleased", "HeapInuse")) else 1)' "$a" "$b" && return 0
    cp "$b" "$a"
  done
  return 1
}
# same_gc_count FILE1 FILE2: both MEMSTATS snapshots have the same NumGC (no GC cycle in between).
same_gc_count() {
  python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["NumGC"] == json.load(open(sys.argv[2]))["NumGC"] else 1)' "$1" "$2"
}
