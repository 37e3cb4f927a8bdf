#!/usr/bin/env bash
# Live (root): serve run as `nobody` (setpriv) against processes of root, whose smaps and
# smaps_rollup it may not read. The refusals are counted as errors with reason="permission"
# (and keep growing), and the log names the target (pid and name) and the reason, rate-limited:
# at most one line per target per minute and ten in all per minute, never one per tick per
# process, while the count goes on.
set -u
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null; then
  skip serve_permission "needs root and setpriv"; exit 0
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
# nobody must be able to run the binary: a copy in a directory anyone may enter.
cp "$GSM" "$tmp/gsmapper" && chmod 755 "$tmp/gsmapper"
if ! setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/gsmapper" --help > /dev/null 2>&1; then
  skip serve_permission "nobody cannot run $tmp/gsmapper (no search permission on the way?)"; rm -rf "$tmp"; exit 0
fi
SERVE= TARGETS=()
cleanup() {
  [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
  for p in "${TARGETS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
# Three processes of root that serve names (chosen for classes whatever their rank), next to --all.
for _ in 1 2 3; do sleep 1000 & TARGETS+=($!); done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/gsmapper" serve --listen "127.0.0.1:$port" \
  "${TARGETS[@]}" --all --interval 0.2 --quiet --no-go-stats > /dev/null 2> "$tmp/serve.err" &
SERVE=$!
started=$SECONDS
perm="sum(int(v) for v in re.findall(r'^gsmapper_errors_total\\{tier=\"[^\"]*\",reason=\"permission\"\\} (\\d+)', t, re.M))"
ticks="int((re.findall(r'^gsmapper_ticks_total (\\d+)', t, re.M) or ['0'])[0])"
scrape() { curl -s -m 2 "127.0.0.1:$port/metrics" > "$1" 2>/dev/null && [ -s "$1" ]; }
val() { python3 -c "import re, sys; t = open(sys.argv[1]).read(); print($2)" "$1"; }
ok=0
for _ in $(seq 1 100); do
  if scrape "$tmp/m1.txt" && [ "$(val "$tmp/m1.txt" "$perm")" -gt 0 ]; then ok=1; break; fi
  sleep 0.2
done
if [ $ok = 0 ]; then
  fail serve_permission_counted "no permission error within 20 s: $(head -c 300 "$tmp/serve.err")"; exit 0
fi
# 40 more ticks (8 s at 0.2 s): the rollup tier keeps meeting refused processes.
t1=$(val "$tmp/m1.txt" "$ticks")
for _ in $(seq 1 150); do scrape "$tmp/m2.txt" && [ "$(val "$tmp/m2.txt" "$ticks")" -ge $((t1 + 40)) ] && break; sleep 0.2; done
kill "$SERVE"; wait "$SERVE" 2>/dev/null; SERVE=
minutes=$(( (SECONDS - started) / 60 + 1 ))   # ten lines per started minute (a loaded machine ticks slowly)
e1=$(val "$tmp/m1.txt" "$perm") e2=$(val "$tmp/m2.txt" "$perm")
ticks_run=$(( $(val "$tmp/m2.txt" "$ticks") - t1 ))
check serve_permission_counted [ "$e1" -gt 0 ]
check serve_permission_grows [ "$e2" -gt "$e1" ]
check serve_permission_ticks_ran [ "$ticks_run" -ge 40 ]
python3 - "$tmp/serve.err" "$e2" "$minutes" <<'PY'
import collections, re, sys
err, errors, minutes = open(sys.argv[1], errors="replace").read().splitlines(), int(sys.argv[2]), int(sys.argv[3])
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
lines = [l for l in err if re.search(r": pid \d+ \(.*\).*: permission \(", l)]
# The processes named are root's like most others; which ones fill the ten lines of the first
# minute depends on the order of the reads (the largest first), so any refused process will do.
per_pid = collections.Counter(re.search(r": pid (\d+) ", l).group(1) for l in lines)
check("serve_permission_log_names_target_and_reason", len(lines) >= 1,
      f"no line naming a pid, its name and 'permission': {err[:5]}")
check("serve_permission_log_once_per_target", max(per_pid.values(), default=0) <= 1, f"{per_pid.most_common(3)}")
check("serve_permission_log_rate_limited", len(lines) <= 10 * minutes and len(lines) < errors,
      f"{len(lines)} per-target lines for {errors} permission errors in {minutes} minute(s)")
print(f"note: {errors} permission errors, {len(lines)} per-target lines in {minutes} minute(s), e.g. {lines[0] if lines else ''!r}", file=sys.stderr)
PY
