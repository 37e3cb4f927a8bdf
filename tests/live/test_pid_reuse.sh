#!/usr/bin/env bash
# A PID recycled between two reads of one `explain` is reported as gone (issue 16, one process
# handle). In a fresh PID namespace (unshare -pf --mount-proc, root only) a Go target gets PID N;
# explain reads its status and exe, then asks the --go-endpoint for statistics before reading
# smaps. The endpoint (this script's HTTP server) kills the target at that moment and starts
# `sleep` at the same PID N (through /proc/sys/kernel/ns_last_pid). explain must then exit 3
# "no process N" instead of describing the sleep's memory as the Go process's. A positive
# control runs the same thing without the swap (exit 0), and the swap itself is checked (the
# new process really got PID N) before the verdict counts.
set -u
. "$(dirname "$0")/../lib.sh"

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
