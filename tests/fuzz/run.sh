#!/usr/bin/env bash
# Run the libFuzzer harnesses (README.md). One line per harness: PASS, FAIL (with the crash
# input's path) or SKIP.
#   run.sh smoke   each harness over its seed corpus, then mutations for SMOKE_SECONDS (default
#                  3) or SMOKE_RUNS (default 20000) runs, whichever ends first (`make test`)
#   run.sh fuzz    each harness for FUZZ_SECONDS (default 60); new inputs are kept in
#                  build-fuzz/corpus/<harness> (not in the repository), crashes in
#                  build-fuzz/artifacts/
#   run.sh merge   fold build-fuzz/corpus/<harness> into tests/fuzz/corpus/<harness>, keeping
#                  only inputs that add coverage (-merge=1)
# HARNESSES="smaps pclntab" limits the run; FUZZ_BUILD (default build-fuzz) names the build.
set -u
cd "$(dirname "$0")/../.."
mode=${1:-smoke}
B=${FUZZ_BUILD:-build-fuzz}
all=$(for f in tests/fuzz/fuzz_*.c; do f=${f##*/fuzz_}; echo "${f%.c}"; done)
names=${HARNESSES:-$all}
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

mkdir -p "$B/artifacts"
for h in $names; do
  bin=$B/tests/fuzz/fuzz_$h
  seeds=tests/fuzz/corpus/$h
  if [ ! -x "$bin" ]; then
    echo "SKIP fuzz_$h: $bin not built (make fuzz-build)"
    continue
  fi
  log=$B/artifacts/$h.log
  case $mode in
  smoke)
    work=$(mktemp -d)
    "$bin" "$work" "$seeds" -max_total_time="${SMOKE_SECONDS:-3}" -runs="${SMOKE_RUNS:-20000}" \
      -rss_limit_mb=1024 -timeout=10 -artifact_prefix="$B/artifacts/$h-" -print_final_stats=1 > "$log" 2>&1
    rc=$?
    rm -rf "$work" ;;
  fuzz)
    mkdir -p "$B/corpus/$h"
    "$bin" "$B/corpus/$h" "$seeds" -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=1024 -timeout=10 \
      -artifact_prefix="$B/artifacts/$h-" -print_final_stats=1 > "$log" 2>&1
    rc=$? ;;
  merge)
    [ -d "$B/corpus/$h" ] || continue
    "$bin" -merge=1 "$seeds" "$B/corpus/$h" > "$log" 2>&1
    rc=$? ;;
  *)
    echo "run.sh: unknown mode '$mode' (smoke, fuzz, merge)" >&2
    exit 2 ;;
  esac
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+|^Done [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$')
  if [ "$rc" -eq 0 ]; then
    echo "PASS fuzz_$h ($mode: ${execs:-?} executions)"
  else
    crash=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/Test unit written to //')
    echo "FAIL fuzz_$h: exit $rc${crash:+, input $crash}; $(grep -m1 -E 'ERROR|SUMMARY|runtime error' "$log")"
  fi
done
