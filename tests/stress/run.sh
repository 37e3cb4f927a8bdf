#!/usr/bin/env bash
# `make stress` (issue 12, item 5): the long stress runs, each with the normal build and then,
# shorter, with the ASan+UBSan build (build-asan/, when built). Defaults: PID churn and cgroup
# churn 10 minutes each (STRESS_SECONDS), 200 SIGKILL rounds (KILL_ROUNDS); ASan: a fifth of
# the time and of the rounds (STRESS_ASAN_SECONDS, STRESS_ASAN_ROUNDS; 0 skips ASan).
# Each script prints PASS/FAIL lines and a "RESULT ..." line (the figures for bench/RESULTS.md);
# the records of each run are kept under STRESS_DIR (default build/stress/run-<time>).
# Ends with "N passed, N failed"; exit 1 on any FAIL. `make test` runs the short versions
# (tests/live/test_stress_short.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
export GSM_TESTS_DIR=$PWD/tests GSM_CTARGETS_DIR=$PWD/build/tests/targets
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=98}
S=${STRESS_SECONDS:-600} ROUNDS=${KILL_ROUNDS:-200}
AS=${STRESS_ASAN_SECONDS:-$((S / 5))} AROUNDS=${STRESS_ASAN_ROUNDS:-$((ROUNDS / 5))}
dir=${STRESS_DIR:-build/stress/run-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$dir"
passed=0 failed=0
run() {   # NAME BINARY ENV... -- SCRIPT
  local name=$1 bin=$2; shift 2
  local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  echo "### $name ($bin, $(date -u +%H:%M:%S))"
  mkdir -p "$dir/$name"
  out=$(env GSMAPPER="$bin" STRESS_OUT="$PWD/$dir/$name" "${envs[@]}" bash "$@" 2>&1 | grep -v ' Killed ')
  echo "$out" | tee "$dir/$name.log" | grep -E '^(FAIL|SKIP|RESULT|#)'
  passed=$((passed + $(grep -c '^PASS ' <<<"$out"))); failed=$((failed + $(grep -c '^FAIL ' <<<"$out")))
}
run pid_churn build/gsmapper STRESS_SECONDS="$S" -- tests/stress/pid_churn.sh
run cgroup_churn build/gsmapper STRESS_SECONDS="$S" -- tests/stress/cgroup_churn.sh
run bundle_kill build/gsmapper KILL_ROUNDS="$ROUNDS" -- tests/stress/bundle_kill.sh
if [ -x build-asan/gsmapper ] && [ "$AS" -gt 0 ]; then
  run pid_churn_asan build-asan/gsmapper STRESS_SECONDS="$AS" -- tests/stress/pid_churn.sh
  run cgroup_churn_asan build-asan/gsmapper STRESS_SECONDS="$AS" -- tests/stress/cgroup_churn.sh
  run bundle_kill_asan build-asan/gsmapper KILL_ROUNDS="$AROUNDS" -- tests/stress/bundle_kill.sh
fi
echo "$passed passed, $failed failed (records in $dir)"
[ "$failed" -eq 0 ]
