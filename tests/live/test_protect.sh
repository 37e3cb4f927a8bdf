#!/bin/bash
# Live: watch/serve --protect NAME=ADJ on real processes. A process named gsmprot-<pid> (a copy
# of sleep) gets its oom_score_adj set once, with an event (old, new, pid, comm); lowering it
# needs CAP_SYS_RESOURCE (probed: without it the refusal event is checked instead, and raising,
# which needs no capability, shows the change); as nobody (setpriv) the write to root's process
# is refused and reported, not fatal; bad syntax exits 2 with one line; serve counts the changes.
set -u
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
PIDS=()
SPID=
cleanup() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Bad syntax: one line, exit 2 (PRODUCT.md: usage error).
for bad in "x" "=5" "x=" "x=-1001" "x=1001" "x=5y" "averyveryverylongname=1"; do
  "$GSM" watch --protect "$bad" --duration 0.1 > "$tmp/o" 2> "$tmp/e"; rc=$?
  check "protect_bad_syntax_exit_2 ($bad)" [ $rc -eq 2 ]
  check "protect_bad_syntax_one_line ($bad)" sh -c "[ \$(wc -l < '$tmp/e') -eq 1 ] && grep -q '^gsmapper: watch: --protect' '$tmp/e'"
done
"$GSM" serve --protect "x=abc" --listen 127.0.0.1:1 > /dev/null 2> "$tmp/e"; rc=$?
check protect_serve_bad_syntax_exit_2 [ $rc -eq 2 ]

name=gsmprot-$$
name=${name:0:15}
cp "$(command -v sleep)" "$tmp/$name"
chmod 755 "$tmp" "$tmp/$name"
start() { "$tmp/$name" 120 & PIDS+=($!); LAST=$!; }
start; P1=$LAST
sleep 0.2
check protect_target_comm [ "$(cat /proc/$P1/comm)" = "$name" ]
adj0=$(cat /proc/$P1/oom_score_adj)

# Can we lower an oom_score_adj at all? (root without CAP_SYS_RESOURCE cannot.) A shell lowers
# its own: nothing to kill (a background child killed before its exec would run our EXIT trap).
if sh -c 'echo -1 > /proc/self/oom_score_adj' 2>/dev/null; then can_lower=1; else can_lower=; fi

timeout 30 "$GSM" watch --protect "$name=-500" --duration 3 --interval 0.5 > "$tmp/w1.jsonl" 2> "$tmp/w1.err"
check protect_watch_exit_0 [ $? -eq 0 ]
if [ -n "$can_lower" ]; then
  check protect_lowered [ "$(cat /proc/$P1/oom_score_adj)" = -500 ]
  expect=set
else
  skip protect_lowered "this process has no CAP_SYS_RESOURCE (lowering oom_score_adj is refused): the refusal is checked"
  check protect_refused_left_alone [ "$(cat /proc/$P1/oom_score_adj)" = "$adj0" ]
  expect=refused_cap
fi
python3 - "$tmp/w1.jsonl" "$P1" "$name" "$expect" "$adj0" <<'PY'
import json, sys
f, pid, name, expect, adj0 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
ev = [json.loads(l) for l in open(f) if l.strip()]
pe = [e for e in ev if e["kind"] == "protect" and e["target"]["pid"] == pid]
def check(n, ok, why=""): print(("PASS " + n) if ok else f"FAIL {n}: {why}")
check("protect_one_event_per_process", len(pe) == 1, pe)
if pe:
    e = pe[0]
    check("protect_event_names_process", e["target"]["name"] == name and e["evidence"]["pid"] == pid
          and e["evidence"]["new_oom_score_adj"] == -500, e)
    if expect == "set":
        check("protect_event_old_new", e["level"] == "info" and e["evidence"]["old_oom_score_adj"] == adj0, e)
    else:
        check("protect_refusal_event_reason", e["level"] == "warn" and "CAP_SYS_RESOURCE" in e["message"]
              and e["evidence"]["errno"] == 13, e)
PY
check protect_refusal_logged_or_silent sh -c "[ '$expect' = set ] || grep -q 'protect: .*CAP_SYS_RESOURCE' '$tmp/w1.err'"

# Raising needs no capability: a second process of the same name, set to 500 and seen once.
start; P2=$LAST
sleep 0.2
timeout 30 "$GSM" watch --protect "$name=500" --duration 3 --interval 0.5 > "$tmp/w2.jsonl" 2> "$tmp/w2.err"
check protect_raised_p2 [ "$(cat /proc/$P2/oom_score_adj)" = 500 ]
python3 - "$tmp/w2.jsonl" "$P2" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pe = [e for e in ev if e["kind"] == "protect" and e["target"]["pid"] == int(sys.argv[2])]
def check(n, ok, why=""): print(("PASS " + n) if ok else f"FAIL {n}: {why}")
check("protect_raise_event", len(pe) == 1 and pe[0]["level"] == "info" and pe[0]["evidence"]["old_oom_score_adj"] == 0
      and pe[0]["evidence"]["new_oom_score_adj"] == 500 and "set from 0 to 500" in pe[0]["message"], pe)
PY

# The sandbox stays on with --protect (issue 12): Landlock refuses opening another process's
# oom_score_adj for writing, so the write goes through the /proc broker (which writes only the
# rule's value to a process of the rule's name, while the pidfd it is passed says the process
# has not exited). While watch runs: Seccomp 2 (filter) and NoNewPrivs 1 in its status; the
# value set; and, where Landlock is applied (its debug line), the write went through the broker.
start; P5=$LAST
sleep 0.2
GSMAPPER_DEBUG=1 "$GSM" watch --protect "$name=300" --duration 4 --interval 0.5 > "$tmp/w5.jsonl" 2> "$tmp/w5.err" &
WPID=$!
for _ in $(seq 1 40); do [ "$(cat /proc/$P5/oom_score_adj)" = 300 ] && break; sleep 0.1; done
check protect_sandbox_seccomp_filter grep -q '^Seccomp:[[:space:]]*2$' "/proc/$WPID/status"
check protect_sandbox_no_new_privs grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$WPID/status"
wait "$WPID"
check protect_sandbox_set [ "$(cat /proc/$P5/oom_score_adj)" = 300 ]
check protect_sandbox_event grep -q '"kind":"protect".*set from 0 to 300' "$tmp/w5.jsonl"
ll=$(grep -o "Landlock [^,]*" "$tmp/w5.err" | head -n 1)
if grep -q 'watch: sandbox: no_new_privs, Landlock ABI' "$tmp/w5.err"; then
  pass protect_sandbox_landlock_broker
else
  skip protect_sandbox_landlock_broker "Landlock not applied here (${ll:-no sandbox line}): the broker is not needed"
fi

# As nobody: root's process is not ours, the write is refused and reported; watch keeps going.
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
  start; P3=$LAST
  sleep 0.2
  timeout 30 setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    "$GSM" watch --protect "$name=600" --duration 2.5 --interval 0.5 > "$tmp/w3.jsonl" 2> "$tmp/w3.err"
  check protect_nobody_not_fatal [ $? -eq 0 ]
  check protect_nobody_left_alone [ "$(cat /proc/$P3/oom_score_adj)" = 0 ]
  python3 - "$tmp/w3.jsonl" "$P3" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pe = [e for e in ev if e["kind"] == "protect" and e["target"]["pid"] == int(sys.argv[2])]
def check(n, ok, why=""): print(("PASS " + n) if ok else f"FAIL {n}: {why}")
check("protect_nobody_refusal_event", len(pe) == 1 and pe[0]["level"] == "warn" and "Permission denied" in pe[0]["message"]
      and pe[0]["evidence"]["errno"] == 13, pe)
PY
  check protect_nobody_logged grep -q "protect: .*$name.*not set to 600" "$tmp/w3.err"
else
  skip protect_nobody "needs root and setpriv to run as nobody"
fi

# serve: the change is an event on stdout and a counter on /metrics.
start; P4=$LAST
sleep 0.2
port=$((20000 + ($$ + 7) % 20000))
"$GSM" serve --listen 127.0.0.1:$port --protect "$name=400" $P4 --interval 0.5 > "$tmp/s.jsonl" 2> "$tmp/s.err" &
SPID=$!
ok=
for _ in $(seq 1 60); do
  sleep 0.25
  curl -sf "http://127.0.0.1:$port/metrics" > "$tmp/m.txt" 2>/dev/null && grep -q '^gsmapper_protect_changes_total{result="set"} [1-9]' "$tmp/m.txt" && ok=1 && break
done
check protect_serve_counter [ -n "$ok" ]
check protect_serve_set [ "$(cat /proc/$P4/oom_score_adj)" = 400 ]
check protect_serve_event grep -q "\"kind\":\"protect\".*set from 0 to 400" "$tmp/s.jsonl"
# serve keeps its sandbox with --protect (issue 12): seccomp filter mode, no_new_privs.
check protect_serve_sandboxed grep -qz 'NoNewPrivs:[[:space:]]*1.*Seccomp:[[:space:]]*2' "/proc/$SPID/status"
if command -v promtool >/dev/null; then
  check protect_metrics_promtool sh -c "promtool check metrics < '$tmp/m.txt' > /dev/null 2>&1"
fi
