#!/usr/bin/env bash
# The sandbox through the real binary (docs/sandbox.md): a running watch and serve are restricted
# by default (Seccomp: 2, NoNewPrivs: 1 in /proc/PID/status, their /proc broker too) and not with
# --no-sandbox or GSMAPPER_SANDBOX=off; the self-test hook (GSMAPPER_SANDBOX_SELFTEST) shows
# execve, a write outside the allowed directories and ptrace refused, and allowed with
# --no-sandbox (the control: the checks fail when the sandbox is not applied), a read of a file
# on no read list refused while /proc stays readable; trap mode names the refused calls (and
# the refused read, with its path) in GSMAPPER_SANDBOX_LOG; Go detection and Go statistics still work inside
# (through the broker: Landlock hides /proc/PID/exe and fd/ links of processes outside it);
# --history (SQLite WAL) works inside with nothing refused.
set -u
. "${GSM_TESTS_DIR:-tests}/lib.sh"

tmp=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
asan=0
if grep -qa '__asan_init' "$GSM" 2>/dev/null; then asan=1; fi

status_field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
# wait_line FILE PATTERN: up to ~20 s for PATTERN in FILE
wait_line() { for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
broker_of() { pgrep -x -P "$1" gsmapper | head -1; }   # by name: an ASan build's llvm-symbolizer is a child too

sleep 300 & SP=$!
PIDS+=("$SP")

# ---- watch: restricted by default, not with --no-sandbox or GSMAPPER_SANDBOX=off ----------------
watch_status() {   # NAME EXPECT_SECCOMP EXPECT_NNP [env...] -- [args...]
  local name=$1 es=$2 en=$3; shift 3
  local envs=() ; while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env "${envs[@]}" "$GSM" watch "$SP" --interval 0.3 --duration 60 --emit-samples "$@" > "$tmp/$name.jsonl" 2> "$tmp/$name.err" &
  local w=$!; PIDS+=("$w")
  if ! wait_line "$tmp/$name.jsonl" gsmapper.sample; then
    fail "$name" "no sample within 20 s: $(head -c 300 "$tmp/$name.err")"; kill "$w"; return
  fi
  local s n; s=$(status_field "$w" Seccomp); n=$(status_field "$w" NoNewPrivs)
  if [ "$s" = "$es" ] && [ "$n" = "$en" ]; then pass "$name"; else fail "$name" "Seccomp: $s NoNewPrivs: $n (want $es/$en)"; fi
  if [ "$es" = 2 ]; then
    local b; b=$(broker_of "$w")
    if [ -n "$b" ] && [ "$(status_field "$b" Seccomp)" = 2 ] && [ "$(status_field "$b" NoNewPrivs)" = 1 ]; then
      pass "${name}_broker_restricted"
    elif grep -q 'Landlock skipped' "$tmp/$name.err"; then
      skip "${name}_broker_restricted" "Landlock not applied here: $(grep -o 'Landlock skipped[^,]*' "$tmp/$name.err")"
    else
      fail "${name}_broker_restricted" "broker '$b' Seccomp: $(status_field "$b" Seccomp) NoNewPrivs: $(status_field "$b" NoNewPrivs)"
    fi
  fi
  kill "$w"; wait "$w" 2>/dev/null
}
watch_status sandbox_watch_seccomp_nnp 2 1 GSMAPPER_DEBUG=1 --
watch_status sandbox_watch_no_sandbox 0 0 GSMAPPER_DEBUG=1 -- --no-sandbox
watch_status sandbox_watch_env_off 0 0 GSMAPPER_SANDBOX=off --
check sandbox_watch_logged_once [ "$(grep -c 'watch: sandbox: no_new_privs' "$tmp/sandbox_watch_seccomp_nnp.err")" = 1 ]

# ---- serve ---------------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
serve_status() {   # NAME EXPECT_SECCOMP EXPECT_NNP [args...]
  local name=$1 es=$2 en=$3; shift 3
  local port; port=$(free_port)
  "$GSM" serve --listen "127.0.0.1:$port" "$SP" --interval 0.5 --quiet "$@" > /dev/null 2> "$tmp/$name.err" &
  local s_pid=$!; PIDS+=("$s_pid")
  local up=0
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { up=1; break; }
    sleep 0.1
  done
  if [ $up = 0 ]; then fail "$name" "serve did not answer: $(head -c 300 "$tmp/$name.err")"; kill "$s_pid"; return; fi
  local s n; s=$(status_field "$s_pid" Seccomp); n=$(status_field "$s_pid" NoNewPrivs)
  if [ "$s" = "$es" ] && [ "$n" = "$en" ]; then pass "$name"; else fail "$name" "Seccomp: $s NoNewPrivs: $n (want $es/$en)"; fi
  # every thread (libmicrohttpd's too) carries the filter (TSYNC)
  if [ "$es" = 2 ]; then
    local bad; bad=$(for t in /proc/"$s_pid"/task/*; do awk '$1 == "Seccomp:" && $2 != 2 {print FILENAME}' "$t/status"; done)
    check "${name}_all_threads" [ -z "$bad" ]
    if curl -sf "http://127.0.0.1:$port/metrics" | grep -q "^gsmapper_build_info"; then pass "${name}_scrape"
    else fail "${name}_scrape" "no gsmapper_build_info in /metrics"; fi
  fi
  kill "$s_pid"; wait "$s_pid" 2>/dev/null
}
if command -v curl >/dev/null 2>&1; then
  serve_status sandbox_serve_seccomp_nnp 2 1
  serve_status sandbox_serve_no_sandbox 0 0 --no-sandbox
else
  skip sandbox_serve "curl not installed"
fi

# ---- what the sandbox refuses, through the real binary (and the control without it) -------------
selftest() {   # NAME ENV-COMMAND...: stderr of explain --self with the self-test hook
  shift
  rm -f "$tmp/probe"
  echo secret > "$tmp/probe.read"   # a file on no read list (an /etc/shadow stand-in)
  env GSMAPPER_SANDBOX_SELFTEST="$tmp/probe" "$@" "$GSM" explain --self -o json > /dev/null 2> "$tmp/st.err"
}
selftest on env GSMAPPER_SANDBOX_LOG="$tmp/trap.log" GSMAPPER_SANDBOX=on
check sandbox_refuses_execve grep -q 'selftest: execve refused (EPERM)' "$tmp/st.err"
if grep -q 'selftest: write .* refused (Permission denied)' "$tmp/st.err" && [ ! -e "$tmp/probe" ]; then
  pass sandbox_refuses_write_outside
elif [ "$(id -u)" -ne 0 ]; then
  skip sandbox_refuses_write_outside "Landlock needs CAP_SYS_PTRACE here (not root)"
else
  fail sandbox_refuses_write_outside "$(grep 'selftest: write' "$tmp/st.err")"
fi
# reads: only the read list (/proc, the cgroup mounts, ...); the file in our temp dir is refused
if grep -q "selftest: read $tmp/probe.read refused (Permission denied)" "$tmp/st.err"; then
  pass sandbox_refuses_read_outside
elif [ "$(id -u)" -ne 0 ]; then
  skip sandbox_refuses_read_outside "Landlock needs CAP_SYS_PTRACE here (not root)"
else
  fail sandbox_refuses_read_outside "$(grep 'selftest: read' "$tmp/st.err")"
fi
check sandbox_reads_proc grep -q 'selftest: read /proc/self/status allowed' "$tmp/st.err"
if [ $asan = 1 ]; then
  skip sandbox_refuses_ptrace "ASan build: LeakSanitizer needs ptrace, so the sandbox allows it there"
else
  check sandbox_refuses_ptrace grep -q 'selftest: ptrace refused (Operation not permitted)' "$tmp/st.err"
fi
selftest off env GSMAPPER_SANDBOX=off
if grep -q 'selftest: execve allowed' "$tmp/st.err" && grep -q 'selftest: write .* allowed' "$tmp/st.err" &&
   grep -q "selftest: read $tmp/probe.read allowed" "$tmp/st.err"; then
  pass sandbox_off_control_allows
else
  fail sandbox_off_control_allows "$(grep selftest "$tmp/st.err" | tr '\n' ' ')"
fi
rm -f "$tmp/trap.log"
selftest trap env GSMAPPER_SANDBOX=trap GSMAPPER_SANDBOX_LOG="$tmp/trap.log"
if grep -q 'refused system call execve' "$tmp/trap.log" 2>/dev/null && grep -q 'selftest: execve refused' "$tmp/st.err"; then
  pass sandbox_trap_names_execve
else
  fail sandbox_trap_names_execve "log: $(head -c 300 "$tmp/trap.log" 2>&1)"
fi
# a Landlock read refusal is not a system call: named once in the trap log with its path
if grep -q 'selftest: read .* refused' "$tmp/st.err"; then
  check sandbox_trap_names_read_refusal grep -q "sandbox: Landlock refused reading $tmp/probe.read (not on the read list" "$tmp/trap.log"
fi
if [ $asan = 0 ]; then
  check sandbox_trap_names_ptrace grep -q 'refused system call ptrace' "$tmp/trap.log"
fi

# ---- Go detection and statistics inside the sandbox ----------------------------------------------
if [ ! -x "$TARGETS_DIR/memshape" ]; then
  skip sandbox_go "no Go targets in $TARGETS_DIR (tests/targets/build-go.sh)"
else
  "$TARGETS_DIR/memshape" -goroutines 10 -pprof-port 0 > "$tmp/go.out" 2>&1 &
  GP=$!; PIDS+=("$GP")
  wait_line "$tmp/go.out" READY || sleep 2
  GSMAPPER_DEBUG=1 "$GSM" explain "$GP" -o json > "$tmp/go.json" 2> "$tmp/go.err"
  if ! grep -q 'explain: sandbox: .*Landlock ABI' "$tmp/go.err"; then
    skip sandbox_go_detected "Landlock not applied here: $(grep -o 'Landlock [^,]*' "$tmp/go.err" | head -1)"
  else
    r=$(json_get "$tmp/go.json" "'%s %s %s' % (d['target']['go']['is_go'], bool(d['target']['go'].get('version')), bool(d['target']['go'].get('main_module')))")
    check sandbox_go_detected [ "$r" = "True True True" ]
    check sandbox_go_exe_path [ "$(json_get "$tmp/go.json" "d['target']['exe']")" = "$(readlink -f "$TARGETS_DIR/memshape")" ]
    r=$(json_get "$tmp/go.json" "'go_runtime' in d and not d.get('go_runtime_unavailable')")
    if [ "$r" = True ]; then pass sandbox_go_stats_discovered
    else fail sandbox_go_stats_discovered "$(json_get "$tmp/go.json" "d.get('go_runtime_unavailable')")"; fi
  fi
  if command -v curl >/dev/null 2>&1; then
    port=$(free_port)
    GSMAPPER_DEBUG=1 "$GSM" serve --listen "127.0.0.1:$port" "$GP" --interval 0.5 --quiet > /dev/null 2> "$tmp/gs.err" &
    gs=$!; PIDS+=("$gs")
    got=0
    for _ in $(seq 1 100); do
      curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q "^gsmapper_process_go_heap_goal_bytes{pid=\"$GP\"" && { got=1; break; }
      sleep 0.2
    done
    if grep -q 'serve: sandbox: .*Landlock ABI' "$tmp/gs.err"; then
      check sandbox_serve_go_stats [ $got = 1 ]
    else
      skip sandbox_serve_go_stats "Landlock not applied here"
    fi
    kill "$gs"; wait "$gs" 2>/dev/null
  fi
fi

# ---- --history (SQLite WAL) inside the sandbox, in trap mode: nothing refused -------------------
if command -v sqlite3 >/dev/null 2>&1; then
  rm -f "$tmp/hist.log"
  mkdir "$tmp/h"
  GSMAPPER_SANDBOX=trap GSMAPPER_SANDBOX_LOG="$tmp/hist.log" GSMAPPER_DEBUG=1 \
    "$GSM" watch "$SP" --interval 0.2 --duration 2 --history "$tmp/h/m.db" --history-flush 0.5 > /dev/null 2> "$tmp/h.err"
  n=$(sqlite3 "$tmp/h/m.db" 'SELECT count(*) FROM samples' 2>/dev/null)
  if grep -q 'Landlock ABI' "$tmp/h.err" && [ "${n:-0}" -gt 0 ] && [ ! -s "$tmp/hist.log" ]; then
    pass sandbox_history_sqlite
  else
    fail sandbox_history_sqlite "samples ${n:-none}; refused: $(head -c 200 "$tmp/hist.log" 2>/dev/null); $(grep sandbox "$tmp/h.err" | head -2)"
  fi
else
  skip sandbox_history_sqlite "sqlite3 not installed"
fi

# ---- report and advise restrict themselves too ---------------------------------------------------
# advise: writes only beneath the history's directory (SQLite's -shm/-wal); report: only beneath
# the page's directory, execution only of gsmapper itself (its explain children, which get a
# socket to report's /proc broker as fd 3). In trap mode nothing may be refused; the self-test
# shows execve (report: execution by Landlock), a write outside and ptrace refused.
# selftest_held NAME FILE: the self-test lines of FILE say the sandbox held
selftest_held() {
  local name=$1 f=$2 ok=1
  grep -q 'selftest: execve allowed' "$f" && ok=0
  grep -q 'selftest: write .* refused' "$f" || ok=0
  [ $asan = 1 ] || grep -q 'selftest: ptrace refused' "$f" || ok=0
  if [ $ok = 1 ]; then pass "$name"; else fail "$name" "$(grep selftest "$f" | tr '\n' ' ')"; fi
}
if [ -s "$tmp/h/m.db" ]; then
  rm -f "$tmp/adv.log" "$tmp/probe"
  GSMAPPER_SANDBOX=trap GSMAPPER_SANDBOX_LOG="$tmp/adv.log" GSMAPPER_DEBUG=1 \
    "$GSM" advise --history "$tmp/h/m.db" -o json > "$tmp/adv.json" 2> "$tmp/adv.err"; rc=$?
  if grep -q 'advise: sandbox: no_new_privs, Landlock ABI' "$tmp/adv.err" && [ ! -s "$tmp/adv.log" ] &&
     { [ $rc = 0 ] || [ $rc = 3 ]; } && ! grep -qi 'unable to open\|disk I/O\|readonly' "$tmp/adv.err"; then
    pass sandbox_advise_history
  elif grep -q 'advise: sandbox: .*Landlock skipped' "$tmp/adv.err"; then
    skip sandbox_advise_history "Landlock not applied here"
  else
    fail sandbox_advise_history "exit $rc; refused: $(head -c 200 "$tmp/adv.log" 2>/dev/null); $(head -c 300 "$tmp/adv.err")"
  fi
  GSMAPPER_DEBUG=1 GSMAPPER_SANDBOX_SELFTEST="$tmp/probe" "$GSM" advise --history "$tmp/h/m.db" > /dev/null 2> "$tmp/adv.st"
  if grep -q 'advise: sandbox: .*Landlock skipped' "$tmp/adv.st"; then skip sandbox_advise_refuses "Landlock not applied here"
  else selftest_held sandbox_advise_refuses "$tmp/adv.st"; fi
  check sandbox_advise_no_sandbox_control sh -c "GSMAPPER_SANDBOX_SELFTEST='$tmp/probe' '$GSM' advise --no-sandbox --history '$tmp/h/m.db' 2>&1 >/dev/null | grep -q 'selftest: execve allowed'"
else
  skip sandbox_advise "no history database from the --history case"
fi

mkdir -p "$tmp/r"
rep_target=$SP
[ -n "${GP:-}" ] && rep_target=$GP   # a Go target: its detection needs the broker's exe
rm -f "$tmp/rep.log"
GSMAPPER_SANDBOX=trap GSMAPPER_SANDBOX_LOG="$tmp/rep.log" GSMAPPER_DEBUG=1 \
  "$GSM" report "$rep_target" -o "$tmp/r/page.html" > /dev/null 2> "$tmp/rep.err"; rc=$?
if grep -q 'report: sandbox: .*Landlock skipped' "$tmp/rep.err"; then
  skip sandbox_report "Landlock not applied here: $(grep -o 'Landlock [^,]*' "$tmp/rep.err" | head -1)"
elif ! grep -q 'report: sandbox: no_new_privs, Landlock ABI' "$tmp/rep.err"; then
  fail sandbox_report_page "report did not restrict itself: $(head -c 300 "$tmp/rep.err")"
else
  if [ $rc = 0 ] && [ -s "$tmp/r/page.html" ] && [ ! -s "$tmp/rep.log" ]; then pass sandbox_report_page
  else fail sandbox_report_page "exit $rc; refused: $(head -c 200 "$tmp/rep.log" 2>/dev/null); $(head -c 300 "$tmp/rep.err")"; fi
  # the explain child adopted report's broker (not one of its own, which Landlock would blind)
  check sandbox_report_child_inherits_broker grep -q 'explain: sandbox: .*/proc broker inherited' "$tmp/rep.err"
  if [ "$rep_target" = "${GP:-}" ]; then
    check sandbox_report_go_detected grep -q 'go1\.[0-9]' "$tmp/r/page.html"
  fi
fi
GSMAPPER_DEBUG=1 GSMAPPER_SANDBOX_SELFTEST="$tmp/probe" "$GSM" report "$SP" -o "$tmp/r/p2.html" > /dev/null 2> "$tmp/rep.st"
if grep -q 'report: sandbox: .*Landlock skipped' "$tmp/rep.st" 2>/dev/null; then skip sandbox_report_refuses "Landlock not applied here"
else selftest_held sandbox_report_refuses "$tmp/rep.st"; fi
