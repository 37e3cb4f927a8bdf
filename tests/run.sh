#!/usr/bin/env bash
# The whole `make test` run: unit tests (gcc build and clang ASan+UBSan build), fixture CLI
# tests and live tests (with both binaries). Ends with one line "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
export GSM_TESTS_DIR=$PWD/tests
export GSM_TARGETS_DIR=$PWD/build/targets
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=98}

passed=0 failed=0 skipped=0
failures=()   # every FAIL line, repeated at the end so the last lines of a run name them all
log=build/test-log.txt
: > "$log"

# suite NAME COMMAND...: run, echo FAIL/SKIP lines, count PASS/FAIL/SKIP lines; a non-zero exit
# with no FAIL line counts as one failure (a crash or a sanitizer report).
suite() {
  local name=$1; shift
  local out rc p f s
  out=$("$@" 2>&1); rc=$?
  printf '== %s\n%s\n' "$name" "$out" >> "$log"
  p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out"); s=$(grep -c '^SKIP ' <<<"$out")
  grep -E '^(FAIL|SKIP) ' <<<"$out" | sed "s/^/[$name] /"
  local l
  while IFS= read -r l; do failures+=("[$name] $l"); done < <(grep -E '^FAIL ' <<<"$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "[$name] FAIL: exited $rc without a FAIL line; last output:"; tail -n 15 <<<"$out"
    failures+=("[$name] FAIL: exited $rc without a FAIL line")
    f=1
  fi
  echo "$name: $p passed, $f failed, $s skipped"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

if command -v go >/dev/null 2>&1; then
  if ! bash tests/targets/build-go.sh build/targets > build/go-targets.log 2>&1; then
    echo "[go-targets] FAIL: building the Go test targets failed (build/go-targets.log)"; failed=$((failed + 1))
    failures+=("[go-targets] FAIL: building the Go test targets failed")
  fi
fi

suite unit build/tests/unit/unit-tests
suite unit-asan build-asan/tests/unit/unit-tests
# libFuzzer harnesses: a short smoke of each over its seed corpus (tests/fuzz/README.md).
if [ -d build-fuzz/tests/fuzz ]; then
  suite fuzz-smoke bash tests/fuzz/run.sh smoke
else
  echo "[fuzz-smoke] SKIP: build-fuzz not set up (make fuzz-build)"; skipped=$((skipped + 1))
fi
for t in tests/cli/test_*.sh tests/live/test_*.sh; do
  n=$(basename "$t" .sh)
  suite "$n" env GSMAPPER=build/gsmapper GSM_CTARGETS_DIR=build/tests/targets bash "$t"
  suite "$n-asan" env GSMAPPER=build-asan/gsmapper GSM_CTARGETS_DIR=build/tests/targets bash "$t"
done

if [ "${#failures[@]}" -gt 0 ]; then
  echo "== the failures (whole outputs in $log):"
  printf '%s\n' "${failures[@]}" | cut -c1-400
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
