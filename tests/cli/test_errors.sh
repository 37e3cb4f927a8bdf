#!/usr/bin/env bash
# Bad input gets a one-line error starting "gsmapper: ", a documented exit code, no crash.
set -u
. "$(dirname "$0")/../lib.sh"

# expect NAME CODE PATTERN ARGS...: exit code CODE and stderr is one line matching PATTERN
expect() {
  local name=$1 code=$2 pat=$3; shift 3
  local err rc
  err=$("$GSM" "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -ne "$code" ]; then fail "$name" "exit $rc, want $code ($err)"; return; fi
  if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || ! grep -Eq "^gsmapper: $pat" <<<"$err"; then
    fail "$name" "stderr '$err' does not match '$pat'"; return
  fi
  pass "$name"
}

# A PID that cannot exist (above pid_max).
expect no_such_pid 3 'no process 99999999' explain 99999999
expect no_such_pid_in_root 3 'no process 4242' explain --root "$TESTS_DIR/fixtures" 4242
expect not_a_pid 2 "explain: 'abc' is not a PID" explain abc
expect negative_pid 2 "explain: '-5' is not a PID" explain -- -5
expect missing_pid 2 'explain: expected one PID' explain
expect unknown_format 2 "explain: unknown output format 'xml'" explain -o xml 1
expect unknown_command 2 "unknown command 'frobnicate'" frobnicate
expect bad_root 2 'cannot open root /nonexistent' explain --root /nonexistent 1
expect top_range 2 'explain: --top wants a number' explain --top 1000 1
expect self_with_root 2 'explain: --self reads the live /proc' explain --self --root /tmp

# Malformed fixture files: exit 1 naming the file and the line.
expect malformed_smaps 1 '.*/proc/101/smaps:3: Rss: number out of range' explain --root "$TESTS_DIR/fixtures/hostile" 101
expect malformed_status 1 '.*/proc/102/status:2: VmRSS: no number' explain --root "$TESTS_DIR/fixtures/hostile" 102
expect smaps_garbage 1 '.*/proc/103/smaps:2: neither a mapping header' explain --root "$TESTS_DIR/fixtures/hostile" 103
expect stat_truncated 1 '.*/proc/104/stat:1: ' explain --root "$TESTS_DIR/fixtures/hostile" 104

# Hostile but valid: ')' and spaces in comm, (deleted) and very long paths, unknown keys.
out=$("$GSM" explain --root "$TESTS_DIR/fixtures/hostile" 105 -o json --mappings 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && python3 -c '
import json,sys
d=json.loads(sys.argv[1])
assert d["target"]["comm"] == "a) (b c", d["target"]["comm"]
m=d["mappings"]
assert any(x["path"] and len(x["path"])>4000 for x in m)
assert any(x.get("deleted") for x in m)
assert any("unknown_fields" in x["smaps"] for x in m)
' "$out"; then pass hostile_but_valid; else fail hostile_but_valid "rc=$rc"; fi

# Permission: as nobody, another user's smaps is unreadable -> exit 4 with a hint naming the
# capability; --best-effort reports status and says smaps is missing.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  sleep 30 & victim=$!
  err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$GSM" explain $victim 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 4 ] && grep -q 'CAP_SYS_PTRACE' <<<"$err"; then pass permission_denied; else fail permission_denied "rc=$rc $err"; fi
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$GSM" explain --best-effort -o json $victim 2>/dev/null); rc=$?
  if [ $rc -eq 0 ] && python3 -c '
import json,sys
d=json.loads(sys.argv[1])
assert d["complete"] is False and "smaps" in d["missing"]
assert d["status"]["vm_rss_bytes"] > 0 and "classes" not in d
' "$out"; then pass best_effort; else fail best_effort "rc=$rc"; fi
  kill $victim 2>/dev/null; wait $victim 2>/dev/null
else
  skip permission_denied "needs root (to drop to nobody with setpriv) to test an unreadable smaps"
  skip best_effort "needs root and setpriv"
fi

# A process that exits between listing and reading: explain of an exited PID is "no process".
sh -c 'exit 0' & gone=$!; wait $gone
expect process_gone 3 "no process $gone" explain $gone
