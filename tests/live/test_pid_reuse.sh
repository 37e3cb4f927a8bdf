#!/usr/bin/env bash
# A PID recycled between two reads of one `explain` is reported as gone (issue 16, one process
# handle). In a fresh PID namespace (unshare -pf --mount-proc, root only) a Go target gets PID N;
# explain reads its status and exe, then asks the --go-endpoint for statistics before reading
# smaps. The endpoint (this script's HTTP server) kills the target at that moment and starts
# `sleep` at the same PID N (through /proc/sys/kernel/ns_last_pid). explain must then exit 3
# "no process N" instead of describing the sleep's memory as the Go process's. A positive
# control runs the same thing without the swap (exit 0), and the swap itself is checked (the
# new process really got PID N) before the verdict counts.
#
# The watch engine (issue 12): a target's identity was (PID, start time), and a start time has
# clock-tick resolution (10 ms), so a PID reused within the tick its process started in passed
# for the same process. build/tests/targets/pidreuse (linked against the library) forks A,
# makes it a watch target, kills and reaps it and forks B at the same PID until B's start time
# equals A's; one engine tick must then report A gone and sample nothing (before the fix: B's
# memory sampled as A's, with B's name). A control tick with A alive samples it.
set -u
. "$(dirname "$0")/../lib.sh"

driver=$CTARGETS_DIR/pidreuse
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
  skip pid_reuse_watch_same_tick "needs root and unshare for a private PID namespace"
elif [ ! -x "$driver" ]; then skip pid_reuse_watch_same_tick "driver $driver not built"
else
  out=$(unshare -pf --mount-proc "$driver" 2>&1); rc=$?
  if [ "$rc" -eq 2 ]; then skip pid_reuse_watch_same_tick "no PID reused within its start tick in 40 tries: $out"
  elif grep -q '^same_tick .* gone=1 sampled=0 ' <<<"$out"; then pass pid_reuse_watch_same_tick
  else fail pid_reuse_watch_same_tick "want gone=1 sampled=0 (the impostor not sampled as the target): rc=$rc $out"; fi
  out=$(unshare -pf --mount-proc "$driver" control 2>&1)
  if grep -q '^same_tick .* gone=0 sampled=1 name=original ' <<<"$out"; then pass pid_reuse_watch_control_sampled
  else fail pid_reuse_watch_control_sampled "want gone=0 sampled=1 name=original: $out"; fi
fi

target=$TARGETS_DIR/memshape
if [ ! -x "$target" ]; then skip pid_reuse "Go target $target not built"; exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
  skip pid_reuse "needs root and unshare for a private PID namespace"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/reuse.py" <<'PY'
import http.server, os, signal, socket, subprocess, sys, threading
gsm, target, swap = sys.argv[1], sys.argv[2], sys.argv[3] == "swap"
t = subprocess.Popen([target, "-heap-mib", "4", "-goroutines", "1", "-stdin-exit"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
while b"READY" not in t.stdout.readline():
    pass
n = t.pid
state = {"swapped": None}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if swap and state["swapped"] is None:
            t.kill(); t.wait()
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(n - 1))
            state["new"] = subprocess.Popen(["sleep", "30"])
            state["swapped"] = state["new"].pid
        self.send_response(404); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
r = subprocess.run([gsm, "explain", str(n), "-o", "json", "--go-endpoint", f"http://127.0.0.1:{srv.server_address[1]}", "--go-endpoint-any"],
                   capture_output=True, text=True)
srv.shutdown()
print(f"pid={n} swapped_to={state['swapped']} rc={r.returncode} err={r.stderr.strip()!r}")
if not swap:
    t.kill(); t.wait()
else:
    state.get("new") and state["new"].kill()
PY
# swap: the PID reused between the reads
out=$(unshare -pf --mount-proc python3 "$tmp/reuse.py" "$(realpath "$GSM")" "$(realpath "$target")" swap 2>&1)
read -r pid swapped rc <<<"$(sed -n 's/^pid=\([0-9]*\) swapped_to=\([0-9A-Za-z]*\) rc=\([0-9-]*\).*/\1 \2 \3/p' <<<"$out")"
if [ -z "${pid:-}" ]; then fail pid_reuse_setup "no result: $out"
elif [ "$swapped" != "$pid" ]; then skip pid_reuse "the namespace did not give PID $pid again (got $swapped): $out"
elif [ "$rc" = 3 ] && grep -q "no process $pid" <<<"$out"; then pass pid_reuse_reported_gone
else fail pid_reuse_reported_gone "want exit 3 'no process $pid': $out"; fi
# control: the same run without the swap describes the process
out=$(unshare -pf --mount-proc python3 "$tmp/reuse.py" "$(realpath "$GSM")" "$(realpath "$target")" keep 2>&1)
if grep -q "rc=0 " <<<"$out"; then pass pid_reuse_control_unchanged; else fail pid_reuse_control_unchanged "$out"; fi
