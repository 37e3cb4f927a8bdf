#!/usr/bin/env bash
# Live (issue 12, item 4; docs/permissions.md): least privilege, tested. A permission matrix of
# explain, watch and serve run
#   (a) as another non-root user (`nobody`, through setpriv --reuid/--regid --clear-groups)
#       against a root-owned target and against its own;
#   (b) as that user with only CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (ambient, as the systemd
#       unit grants them);
#   (c) against a non-dumpable target (tests/targets/nodump.c: prctl(PR_SET_DUMPABLE, 0)) of
#       the same user;
#   (d) with /proc mounted hidepid=2 (a fresh proc in unshare --mount --pid --fork --mount-proc,
#       remounted hidepid=2);
# each giving the documented exit code (0; 3 no such process; 4 permission denied) and the
# one-line message naming the capability (or, for watch and serve, which go on from
# /proc/PID/status, exit 0 and one warning naming it). And the systemd unit's exposure:
# `systemd-analyze security --offline=true deploy/systemd/gsmapper.service` <= 2.0.
# Needs root (to become another user); SKIP otherwise. Prints the matrix as "# " lines.
set -u
. "$(dirname "$0")/../lib.sh"
ND=$CTARGETS_DIR/nodump
[ -x "$ND" ] && ND=$(cd "$(dirname "$ND")" && pwd)/nodump
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
UNIT=deploy/systemd/gsmapper.service
[ -f "$UNIT" ] || UNIT=$TESTS_DIR/../deploy/systemd/gsmapper.service

T=$(mktemp -d)
chmod 755 "$T"
PIDS=
cleanup() {
  local p
  for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

# ---- the unit's exposure (needs no root) -------------------------------------------------------
unit_exposure() {
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    skip perm_unit_exposure "systemd-analyze not installed (Debian package systemd)"
    return
  fi
  local out score
  out=$(systemd-analyze security --offline=true "$UNIT" 2>&1)
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
  if [ -z "$score" ]; then
    if grep -q -- "--offline" <<<"$out"; then
      skip perm_unit_exposure "this systemd-analyze has no --offline (systemd < 252)"
    else
      fail perm_unit_exposure "no exposure level in: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
    fi
    return
  fi
  echo "# unit exposure: $score ($UNIT)"
  if awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
    pass perm_unit_exposure
  else
    fail perm_unit_exposure "exposure $score > 2.0: $(grep '✗' <<<"$out" | sed 's/  */ /g' | tr '\n' ';')"
  fi
}

CHECKS_A="perm_a_explain_root_target perm_a_explain_own_target perm_a_watch_root_target perm_a_watch_own_target
  perm_a_serve_root_target perm_a_serve_own_target"
CHECKS_B="perm_b_explain_root_target perm_b_watch_root_target perm_b_serve_root_target"
CHECKS_C="perm_c_explain_nodump perm_c_explain_nodump_caps perm_c_watch_nodump perm_c_watch_nodump_caps
  perm_c_serve_nodump perm_c_serve_nodump_caps"
CHECKS_D="perm_d_explain_hidden perm_d_explain_hidden_caps perm_d_explain_own perm_d_watch_hidden
  perm_d_watch_hidden_caps perm_d_serve_hidden"
skip_list() { local n; for n in $1; do skip "$n" "$2"; done; }

AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
CAPS=(--inh-caps=+sys_ptrace,+dac_read_search --ambient-caps=+sys_ptrace,+dac_read_search)
NOCAP="permission denied"

# run_as WHO CMD...: WHO is root, user (nobody, no capabilities) or caps (nobody with the two).
run_as() {
  local who=$1; shift
  case $who in
  root) "$@" ;;
  user) "${AS[@]}" "$@" ;;
  caps) "${AS[@]}" "${CAPS[@]}" "$@" ;;
  esac
}

# start_bg VAR WHO CMD...: start a target printing "READY" in the background; its PID in VAR.
start_bg() {
  local var=$1 who=$2 out=$T/target.$RANDOM; shift 2
  case $who in   # not through run_as: $! must be the target itself (setpriv execs it)
  root) "$@" > "$out" 2>&1 & ;;
  user) "${AS[@]}" "$@" > "$out" 2>&1 & ;;
  esac
  local pid=$!
  PIDS="$PIDS $pid"
  for _ in $(seq 1 100); do grep -q '^READY' "$out" && break; sleep 0.05; done
  grep -q '^READY' "$out" || { echo "target did not start: $*: $(cat "$out")" >&2; return 1; }
  printf -v "$var" '%s' "$pid"
}

row() { printf '# %-28s %-6s %-10s exit %-3s %s\n' "$1" "$2" "$3" "$4" "$5"; }

# expect NAME WHO TARGET-KIND WANT-RC MESSAGE-ERE CMD...: CMD run as WHO must exit WANT-RC and
# print on stderr exactly one line, matching MESSAGE-ERE; an empty ERE: stderr must be empty.
# With OUT_RE set, stdout must have a line matching it too.
OUT_RE=
expect() {
  local n=$1 who=$2 kind=$3 want=$4 re=$5 rc; shift 5
  run_as "$who" "$@" > "$T/out" 2> "$T/err"
  rc=$?
  local first; first=$(head -n 1 "$T/err")
  row "$n" "$who" "$kind" "$rc" "${first:-(no message)}"
  if [ "$rc" -ne "$want" ]; then
    fail "$n" "exit $rc, wanted $want; stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
  elif [ -z "$re" ] && [ -s "$T/err" ]; then
    fail "$n" "unexpected stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
  elif [ -n "$re" ] && { [ "$(grep -c '' "$T/err")" -ne 1 ] || ! grep -qE -- "$re" "$T/err"; }; then
    fail "$n" "wanted one line matching /$re/, got: $(head -c 300 "$T/err" | tr '\n' ' ')"
  elif [ -n "$OUT_RE" ] && ! grep -qE -- "$OUT_RE" "$T/out"; then
    fail "$n" "no line matching /$OUT_RE/ on stdout"
  else
    pass "$n"
  fi
}

# serve_expect NAME WHO TARGET-KIND PID MESSAGE-ERE: serve PID as WHO; its /metrics must show
# PID (the status tier needs no privilege), then SIGINT ends it with exit 0. With an ERE, the
# warning naming the capability must be on stderr (once, however many ticks), else stderr empty.
serve_expect() {
  local n=$1 who=$2 kind=$3 pid=$4 re=$5 port rc
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local args=("$G" serve "$pid" --listen "127.0.0.1:$port" --interval 1 --quiet)
  case $who in
  user) "${AS[@]}" "${args[@]}" > "$T/out" 2> "$T/err" & ;;
  caps) "${AS[@]}" "${CAPS[@]}" "${args[@]}" > "$T/out" 2> "$T/err" & ;;
  esac
  local spid=$! seen=false
  for _ in $(seq 1 200); do
    if curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q "pid=\"$pid\""; then seen=true; break; fi
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  if $seen && [ -n "$re" ]; then   # the classes tier reads smaps on its own budget: give it a few ticks
    for _ in $(seq 1 100); do grep -qE -- "$re" "$T/err" && break; sleep 0.1; done
  elif $seen; then
    sleep 3
  fi
  kill -INT "$spid" 2>/dev/null
  wait "$spid"
  rc=$?
  local first; first=$(head -n 1 "$T/err")
  row "$n" "$who" "$kind" "$rc" "${first:-(no message)}"
  if ! $seen; then
    fail "$n" "pid $pid never in /metrics (exit $rc); stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
  elif [ "$rc" -ne 0 ]; then
    fail "$n" "exit $rc after SIGINT; stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
  elif [ -z "$re" ] && [ -s "$T/err" ]; then
    fail "$n" "unexpected stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
  elif [ -n "$re" ] && { [ "$(grep -cE -- "$re" "$T/err")" -ne 1 ] || [ "$(grep -c '' "$T/err")" -ne 1 ]; }; then
    fail "$n" "wanted one line matching /$re/, got: $(head -c 300 "$T/err" | tr '\n' ' ')"
  else
    pass "$n"
  fi
}

# watch_expect NAME WHO TARGET-KIND PID MESSAGE-ERE: as serve, for watch --duration with samples
# (exit 0, samples of PID on stdout).
watch_expect() {
  local n=$1 who=$2 kind=$3 pid=$4 re=$5
  OUT_RE="\"pid\":$pid," expect "$n" "$who" "$kind" 0 "$re" "$G" watch "$pid" --duration 4 --interval 1 --emit-samples
}

engine_warn() { # the warning watch and serve print for a target they cannot read all of
  echo "^gsmapper: warning: [a-z_]+: pid $1 \\(nodump\\): permission \\(Permission denied; needs CAP_SYS_PTRACE\\)\$"
}

# ---- (d) inside a new PID and mount namespace: hidepid=2 ------------------------------------
if [ "${1:-}" = --hidepid-inner ]; then
  G=$2
  if ! mount -o remount,hidepid=2 /proc 2>"$T/mount.err"; then
    skip_list "$CHECKS_D" "cannot remount /proc hidepid=2: $(cat "$T/mount.err")"
    exit 0
  fi
  mode=$(grep ' /proc ' /proc/self/mountinfo | tail -n 1 | sed 's/.* - //')
  echo "# /proc in the namespace: $mode"
  start_bg R root "$ND" || { skip_list "$CHECKS_D" "nodump did not start"; exit 0; }
  start_bg N user "$ND" || { skip_list "$CHECKS_D" "nodump did not start as nobody"; exit 0; }
  HID="^gsmapper: no process $R \\(or hidden from this user: /proc is mounted hidepid=[a-z0-9]+; CAP_SYS_PTRACE sees it\\)\$"
  expect perm_d_explain_hidden user hidden-root 3 "$HID" "$G" explain "$R" -o json
  expect perm_d_explain_hidden_caps caps hidden-root 0 "" "$G" explain "$R" -o json
  expect perm_d_explain_own user own 0 "" "$G" explain "$N" -o json
  expect perm_d_watch_hidden user hidden-root 3 "$HID" "$G" watch "$R" --duration 2 --interval 1
  watch_expect perm_d_watch_hidden_caps caps hidden-root "$R" ""
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  expect perm_d_serve_hidden user hidden-root 3 "$HID" "$G" serve "$R" --listen "127.0.0.1:$port" --interval 1
  exit 0
fi

unit_exposure
if [ "$(id -u)" -ne 0 ]; then
  skip_list "$CHECKS_A $CHECKS_B $CHECKS_C $CHECKS_D" "needs root (to run gsmapper as another user)"
  exit 0
fi
for c in setpriv curl python3; do
  command -v "$c" >/dev/null 2>&1 || { skip_list "$CHECKS_A $CHECKS_B $CHECKS_C $CHECKS_D" "no $c"; exit 0; }
done
[ -x "$ND" ] || { skip_list "$CHECKS_A $CHECKS_B $CHECKS_C $CHECKS_D" "target $ND not built"; exit 0; }
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
  { skip_list "$CHECKS_A $CHECKS_B $CHECKS_C $CHECKS_D" "no user nobody / group nogroup"; exit 0; }

# The binary and the target where nobody can run them (a build tree may be closed to others).
G=$(cd "$(dirname "$GSM")" && pwd)/$(basename "$GSM")
if ! "${AS[@]}" test -x "$G"; then cp "$G" "$T/gsmapper"; G=$T/gsmapper; fi
if ! "${AS[@]}" test -x "$ND"; then cp "$ND" "$T/nodump"; ND=$T/nodump; fi
cd "$T" || exit 1   # a working directory nobody may enter

echo "# check                        as     target     exit    first line of stderr"
R= N= D=
start_bg R root "$ND" && start_bg N user "$ND" || { skip_list "$CHECKS_A $CHECKS_B" "nodump did not start"; R=; }
start_bg D user "$ND" nodump || skip_list "$CHECKS_C" "nodump did not start non-dumpable"

# matrix_denied KIND PID MESSAGE-ERE NAME...: explain, watch and serve of PID as the user
# (explain: exit 4 and MESSAGE-ERE; watch, serve: exit 0 and the warning), then the same with the
# two capabilities (0, nothing on stderr); the six NAMEs in that order.
matrix_denied() {
  local kind=$1 pid=$2 msg=$3
  expect "$4" user "$kind" 4 "$msg" "$G" explain "$pid" -o json
  watch_expect "$5" user "$kind" "$pid" "$(engine_warn "$pid")"
  serve_expect "$6" user "$kind" "$pid" "$(engine_warn "$pid")"
  expect "$7" caps "$kind" 0 "" "$G" explain "$pid" -o json
  watch_expect "$8" caps "$kind" "$pid" ""
  serve_expect "$9" caps "$kind" "$pid" ""
}

if [ -n "$R" ]; then
  # (a) another non-root user, against root's process and its own; (b) with the two capabilities
  matrix_denied root "$R" \
    "^gsmapper: cannot read /proc/$R/[a-z_]+: $NOCAP \\(run as the process's user, or grant CAP_SYS_PTRACE; --best-effort reports what is readable\\)\$" \
    perm_a_explain_root_target perm_a_watch_root_target perm_a_serve_root_target \
    perm_b_explain_root_target perm_b_watch_root_target perm_b_serve_root_target
  expect perm_a_explain_own_target user own 0 "" "$G" explain "$N" -o json
  watch_expect perm_a_watch_own_target user own "$N" ""
  serve_expect perm_a_serve_own_target user own "$N" ""
fi
if [ -n "$D" ]; then
  # (c) a non-dumpable target of the same user
  matrix_denied nodump "$D" \
    "^gsmapper: cannot read /proc/$D/[a-z_]+: $NOCAP \\(the process is not dumpable: only CAP_SYS_PTRACE opens its files, even for its own user\\)\$" \
    perm_c_explain_nodump perm_c_watch_nodump perm_c_serve_nodump \
    perm_c_explain_nodump_caps perm_c_watch_nodump_caps perm_c_serve_nodump_caps
fi

# (d) hidepid=2, in namespaces of its own (this script again, inside)
if ! command -v unshare >/dev/null 2>&1; then
  skip_list "$CHECKS_D" "no unshare"
else
  out=$(GSM_CTARGETS_DIR=$(dirname "$ND") unshare --mount --pid --fork --mount-proc bash "$SELF" --hidepid-inner "$G" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  if [ "$rc" -ne 0 ] && ! grep -q '^\(PASS\|FAIL\|SKIP\) perm_d' <<<"$out"; then
    skip_list "$CHECKS_D" "unshare --mount --pid --fork --mount-proc failed (exit $rc)"
  fi
fi
