#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller): history -> advise end to end around a real OOM
# kill. A child memory cgroup of our own with a 64 MiB limit is watched with --history; a
# target (grow) grows in it until the memcg OOM killer kills it. Checked against the kernel
# and the rule, not against gsmapper: the history holds an oom_kill event with the limit the
# test set; `advise --target CGROUP` recommends exactly max(peak before × 1.2, 64 MiB + 100 MiB)
# = 164 MiB (the peak cannot exceed the limit, so the +100 MiB side wins), which is above the
# cgroup's own memory.max_usage_in_bytes; the confidence is "low" (a minute of history); a second
# run gives the same answer (no bump of a bump). About 20 s.
set -u
. "$(dirname "$0")/../lib.sh"

V1=/sys/fs/cgroup/memory
MIB=$((1 << 20)) LIMIT=$((64 << 20))
grow=$CTARGETS_DIR/grow
CHECKS="advise_oom_setup advise_oom_event_recorded advise_oom_bump advise_above_kernel_peak
  advise_confidence_low advise_stable advise_integrity"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a memory cgroup)"
[ -e "$V1/memory.limit_in_bytes" ] || skip_all "cgroup v1 memory controller not mounted at $V1"
[ -x "$grow" ] || skip_all "target $grow not built"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 CLI not installed (scripts/install-deps.sh)"
"$GSM" advise --help >/dev/null 2>&1 || skip_all "$GSM has no advise command"

own=$(own_memory_cgroup)
[ -n "$own" ] && [ -d "$V1$own" ] || skip_all "own memory cgroup not visible"
REL=${own%/}/gsm-advise-test-$$
CG=$V1$REL
tmp=$(mktemp -d)
W='' G=''
alive() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1; [ "$st" != Z ] && [ "$st" != X ]; }
cleanup() {
  [ -n "$G" ] && kill -KILL "$G" 2>/dev/null
  [ -n "$W" ] && kill "$W" 2>/dev/null && wait "$W" 2>/dev/null
  if [ -d "$CG" ]; then
    for _ in $(seq 1 100); do [ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.05; done
    for _ in $(seq 1 20); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir "$CG" 2>/dev/null && echo "$LIMIT" > "$CG/memory.limit_in_bytes" || { fail advise_oom_setup "cannot make $CG"; exit 0; }
[ -e "$CG/memory.memsw.limit_in_bytes" ] && echo "$LIMIT" > "$CG/memory.memsw.limit_in_bytes"
db=$tmp/h.db
"$GSM" watch --cgroup "$REL" --interval 0.2 --history "$db" --history-flush 0.5 > "$tmp/watch.out" 2> "$tmp/watch.err" &
W=$!
sleep 1
mkfifo "$tmp/in"
"$grow" -s 2 -i 40 -w < "$tmp/in" > "$tmp/grow.out" 2>&1 &
G=$!
exec {F}> "$tmp/in"
echo "$G" > "$CG/cgroup.procs" && echo 1000 > "/proc/$G/oom_score_adj" || { fail advise_oom_setup "cannot move $G"; exit 0; }
echo go >&"$F"
for _ in $(seq 1 300); do alive "$G" || break; sleep 0.05; done
exec {F}>&-
if alive "$G"; then fail advise_oom_setup "grow was not killed within 15 s"; exit 0; fi
wait "$G" 2>/dev/null; G=''
kills=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control")
kernel_peak=$(cat "$CG/memory.max_usage_in_bytes")
[ "${kills:-0}" -ge 1 ] && pass advise_oom_setup || { fail advise_oom_setup "oom_kill counter ${kills:-?}"; exit 0; }
for _ in $(seq 1 50); do grep -q '"kind":"oom_kill"' "$tmp/watch.out" && break; sleep 0.1; done
sleep 0.6
kill -TERM "$W"; wait "$W"; W=''

ev=$(sqlite3 -separator ' ' "$db" "SELECT e.limit_bytes, e.peak_before_bytes FROM events e JOIN targets t ON t.id=e.target
                                     WHERE e.kind='oom_kill' AND t.key='cgroup:$REL'")
read -r ev_limit ev_peak <<<"$ev"
if [ "${ev_limit:-}" = "$LIMIT" ] && [ "${ev_peak:-0}" -gt $((LIMIT / 2)) ] && [ "${ev_peak:-0}" -le "$LIMIT" ]; then
  pass advise_oom_event_recorded
else
  fail advise_oom_event_recorded "events row: '${ev}' (want limit $LIMIT, peak in (32 MiB, 64 MiB]); watch: $(grep -c . "$tmp/watch.out") lines, $(head -c 200 "$tmp/watch.err")"
fi

"$GSM" advise --history "$db" --target "$REL" -o json > "$tmp/a1.json" 2> "$tmp/a1.err"; rc=$?
want=$((LIMIT + 100 * MIB))
lim=$(json_get "$tmp/a1.json" 'd["targets"][0]["limit_bytes"]' 2>/dev/null)
applied=$(json_get "$tmp/a1.json" 'd["targets"][0]["oom"]["applied"]' 2>/dev/null)
if [ $rc -eq 0 ] && [ "${lim:-}" = "$want" ] && [ "$applied" = True ]; then pass advise_oom_bump
else fail advise_oom_bump "exit $rc, limit ${lim:-?} (want $want), applied ${applied:-?}: $(head -c 300 "$tmp/a1.err")"; fi
if [ -n "${lim:-}" ] && [ "$lim" -gt "${kernel_peak:-0}" ]; then pass advise_above_kernel_peak
else fail advise_above_kernel_peak "limit ${lim:-?} <= memory.max_usage_in_bytes $kernel_peak"; fi
conf=$(json_get "$tmp/a1.json" 'd["targets"][0]["confidence"]["level"]' 2>/dev/null)
[ "$conf" = low ] && pass advise_confidence_low || fail advise_confidence_low "confidence '${conf:-?}'"
"$GSM" advise --history "$db" --target "$REL" -o json > "$tmp/a2.json" 2>/dev/null
lim2=$(json_get "$tmp/a2.json" 'd["targets"][0]["limit_bytes"]' 2>/dev/null)
[ -n "$lim2" ] && [ "$lim2" = "$lim" ] && pass advise_stable || fail advise_stable "second run ${lim2:-?} vs ${lim:-?}"
ic=$(sqlite3 "$db" 'PRAGMA integrity_check')
[ "$ic" = ok ] && pass advise_integrity || fail advise_integrity "$ic"
