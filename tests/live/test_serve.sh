#!/usr/bin/env bash
# Live: `gsmapper serve` (issue 6, items 1, 3 and 6, the quick part; bench/serve.sh is the long
# one). Starts serve on a free loopback port watching two `sleep` processes of its own (by PID,
# --interval 0.5) and checks the HTTP contract (docs/serve.md): /metrics 200 with the 0.0.4
# content type, `promtool check metrics` silent, HELP and TYPE on every family, OpenMetrics on
# request, /healthz, /, 404, 405; malformed requests (garbage request lines, a 100 KB header,
# requests with a body) get a 4xx or a closed connection and the server keeps serving; the
# sleeping PIDs in gsmapper_process_threads; 20 concurrent scrapers for 10 s without errors
# (p99 printed, VmHWM < 32 MiB); 200 idle connections from one address (the per-IP limit is 16:
# the rest are refused) while scrapes from another address are answered; exit codes (--listen
# garbage 2, port in use 1 with one line on stderr, SIGTERM 0).
# Concurrency: the server allows 16 connections per IP and 64 in all, so the 20 scrapers bind
# their sockets to 127.0.0.2..127.0.0.5 (all loopback). About 30 s; everything bounded.
set -u
. "$(dirname "$0")/../lib.sh"
CHECKS="serve_started metrics_200_content_type promtool_check_metrics help_type_every_family
  openmetrics_negotiated healthz_ok index_html not_found_404 method_405 malformed_4xx_or_closed
  serves_after_malformed sleep_pids_exported load_20x10s_no_errors load_vmhwm_bound
  idle_200_server_up idle_200_later_scrape listen_garbage_exit2 port_in_use_exit1
  sigterm_exit0"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
"$GSM" serve --help >/dev/null 2>&1 || skip_all "$GSM has no serve command"
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
  skip_all "cannot bind 127.0.0.2 (loopback /8 not routed to lo)"
ASAN=0; grep -qa AddressSanitizer "$GSM" && ASAN=1

T=$(mktemp -d)
SERVE_PID= S1= S2= EXTRA=
cleanup() {
  for p in $SERVE_PID $EXTRA $S1 $S2; do kill "$p" 2>/dev/null; done
  for p in $SERVE_PID $EXTRA $S1 $S2; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
hdr() { tr -d '\r' < "$1" | awk -v k="$(echo "$2" | tr A-Z a-z)" 'BEGIN{FS=": "} NR>1 && tolower($1)==k {print substr($0, length($1)+3); exit}'; }
status() { head -n 1 "$1" | tr -d '\r' | awk '{print $2}'; }

cat > "$T/load.py" <<'EOF'
import asyncio, json, socket, sys, threading, time
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")
def parse(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return None, False
    lines = head.split(b"\r\n")
    try:
        st = int(lines[0].split()[1])
    except Exception:
        return None, False
    cl = None
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            cl = int(v.strip())
    return st, cl is None or len(body) == cl
REQ = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
def once(port, src, timeout):
    s = socket.socket(); s.settimeout(timeout); t0 = time.perf_counter()
    try:
        s.bind((src, 0)); s.connect(("127.0.0.1", port)); s.sendall(REQ); buf = b""
        while True:
            d = s.recv(262144)
            if not d:
                break
            buf += d
        st, ok = parse(buf)
        return time.perf_counter() - t0, None if st == 200 and ok else "status %s" % st
    except Exception as e:
        return time.perf_counter() - t0, type(e).__name__
    finally:
        s.close()
async def worker(port, src, until, lat, errs):
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0)), 10)
            w.write(REQ); buf = await asyncio.wait_for(r.read(), 10); w.close()
            st, ok = parse(buf)
            if st == 200 and ok:
                lat.append(time.perf_counter() - t0)
            else:
                errs.append("status %s" % st)
        except Exception as e:
            errs.append(type(e).__name__); await asyncio.sleep(0.01)
def hammer(port, n, dur, srcs):
    lat, errs = [], []
    async def main():
        until = time.perf_counter() + dur
        await asyncio.gather(*[worker(port, srcs[i % len(srcs)], until, lat, errs) for i in range(n)])
    asyncio.run(main())
    kinds = {}
    for e in errs:
        kinds[e] = kinds.get(e, 0) + 1
    print(json.dumps({"n": len(lat), "errors": len(errs), "kinds": kinds, "p50_ms": round(pct(lat, 50) * 1e3, 2),
                      "p99_ms": round(pct(lat, 99) * 1e3, 2)}))
def hold(port, n, dur, src, flag):
    socks = []
    for _ in range(n):
        s = socket.socket(); s.settimeout(2)
        try:
            s.bind((src, 0)); s.connect(("127.0.0.1", port)); s.setblocking(False); socks.append(s)
        except Exception:
            s.close()
    open(flag, "w").write("%d\n" % len(socks))
    time.sleep(dur)
    closed = 0
    for s in socks:
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print(json.dumps({"opened": len(socks), "closed_by_server": closed, "held": len(socks) - closed}))
def raw(port):
    cases = {
        "garbage_line": b"GARBAGE nonsense here\r\n\r\n",
        "binary_garbage": b"\x00\x01\x02GARBAGE\xff\xfe\r\n\r\n",
        "long_header_100k": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 100000 + b"\r\n\r\n",
        "get_with_body": b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
        "post_with_body": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
        "bad_content_length": b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    }
    out = {}
    def one(name, data):
        t0 = time.time(); s = socket.create_connection(("127.0.0.1", port), timeout=14); buf = b""; how = "closed"
        try:
            s.sendall(data)
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        except socket.timeout:
            how = "open"
        except OSError:
            pass
        finally:
            s.close()
        st = None
        if buf.startswith(b"HTTP/"):
            try:
                st = int(buf.split()[1])
            except Exception:
                pass
        out[name] = {"status": st, "how": how, "secs": round(time.time() - t0, 1)}
    ts = [threading.Thread(target=one, args=kv) for kv in cases.items()]
    [t.start() for t in ts]; [t.join() for t in ts]
    print(json.dumps(out))
a = sys.argv[1:]
if a[0] == "once":
    dt, e = once(int(a[1]), a[2], float(a[3])); print(json.dumps({"ms": round(dt * 1e3, 2), "error": e}))
elif a[0] == "hammer":
    hammer(int(a[1]), int(a[2]), float(a[3]), a[4].split(","))
elif a[0] == "hold":
    hold(int(a[1]), int(a[2]), float(a[3]), a[4], a[5])
elif a[0] == "raw":
    raw(int(a[1]))
EOF
L="python3 $T/load.py"

sleep 1000 & S1=$!
sleep 1000 & S2=$!
PORT=
for _ in 1 2 3; do
  PORT=$(free_port)
  "$GSM" serve --listen "127.0.0.1:$PORT" "$S1" "$S2" --interval 0.5 --quiet > "$T/serve.out" 2> "$T/serve.err" &
  SERVE_PID=$!
  ok=0
  for _ in $(seq 1 100); do
    kill -0 "$SERVE_PID" 2>/dev/null || break
    [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "127.0.0.1:$PORT/metrics")" = 200 ] && { ok=1; break; }
    sleep 0.1
  done
  [ $ok = 1 ] && break
  kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
done
[ -n "$SERVE_PID" ] || { fail serve_started "no 200 from /metrics within 10 s: $(head -c 300 "$T/serve.err")"; exit 0; }
pass serve_started
U=http://127.0.0.1:$PORT

# /metrics, text format 0.0.4
curl -s -m 5 -D "$T/m.h" -o "$T/m.txt" "$U/metrics"
ct=$(hdr "$T/m.h" Content-Type)
if [ "$(status "$T/m.h")" = 200 ] && [[ $ct == "text/plain; version=0.0.4"* ]]; then pass metrics_200_content_type
else fail metrics_200_content_type "status $(status "$T/m.h"), Content-Type '$ct'"; fi

if command -v promtool >/dev/null 2>&1; then
  po=$(promtool check metrics < "$T/m.txt" 2>&1); prc=$?
  if [ $prc -eq 0 ] && [ -z "$po" ]; then pass promtool_check_metrics
  else fail promtool_check_metrics "rc $prc: $(head -n 3 <<<"$po" | tr '\n' ' ')"; fi
else
  skip promtool_check_metrics "promtool not installed (Debian package prometheus; scripts/install-deps.sh)"
fi

# Every sample's family has HELP and TYPE (histogram/summary suffixes map to their family).
bad=$(awk '
  /^# HELP / { help[$3] = 1; next }
  /^# TYPE / { type[$3] = 1; next }
  /^#/ || NF == 0 { next }
  { n = $0; sub(/[{ ].*/, "", n); fam[n] = 1 }
  END {
    for (n in fam) {
      f = n
      if (!(f in type)) { sub(/_(bucket|sum|count|total|created)$/, "", f) }
      if (!(f in help) || !(f in type)) print n
    }
    for (t in type) if (!(t in help)) print t " (TYPE without HELP)"
  }' "$T/m.txt" | head -n 5 | tr '\n' ' ')
fams=$(grep -c '^# TYPE ' "$T/m.txt")
if [ -z "$bad" ] && [ "$fams" -gt 0 ]; then pass help_type_every_family
else fail help_type_every_family "$fams families; without HELP or TYPE: ${bad:-none}"; fi

# OpenMetrics when asked
curl -s -m 5 -H 'Accept: application/openmetrics-text; version=1.0.0,text/plain;q=0.5' -D "$T/om.h" -o "$T/om.txt" "$U/metrics"
ct=$(hdr "$T/om.h" Content-Type); last=$(tail -n 1 "$T/om.txt")
if [ "$(status "$T/om.h")" = 200 ] && [[ $ct == application/openmetrics-text* ]] && [ "$last" = "# EOF" ]; then
  pass openmetrics_negotiated
else fail openmetrics_negotiated "status $(status "$T/om.h"), Content-Type '$ct', last line '$last'"; fi

body=$(curl -s -m 5 "$U/healthz")
check healthz_ok [ "$body" = ok ]
curl -s -m 5 -D "$T/i.h" -o "$T/i.html" "$U/"
if [ "$(status "$T/i.h")" = 200 ] && [[ $(hdr "$T/i.h" Content-Type) == text/html* ]] && grep -q 'href="/metrics"' "$T/i.html"; then
  pass index_html
else fail index_html "status $(status "$T/i.h"), Content-Type '$(hdr "$T/i.h" Content-Type)'"; fi
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$U/no/such/path")
check not_found_404 [ "$code" = 404 ]
codes=""
for m in POST PUT DELETE; do codes="$codes $m=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X "$m" "$U/metrics")"; done
if [ "$codes" = " POST=405 PUT=405 DELETE=405" ]; then pass method_405; else fail method_405 "got$codes"; fi

# Malformed requests on raw sockets, all at once (a silent close takes the 10 s timeout).
$L raw "$PORT" > "$T/raw.json" 2>&1
bad=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k, v in d.items():
    print("  %s: %s" % (k, v), file=sys.stderr)
    ok = (v["status"] is not None and 400 <= v["status"] < 500) or (v["status"] is None and v["how"] == "closed")
    if not ok:
        print("%s=%s" % (k, v))' "$T/raw.json" 2>"$T/raw.txt")
cat "$T/raw.txt"
if [ -s "$T/raw.json" ] && [ -z "$bad" ]; then pass malformed_4xx_or_closed
else fail malformed_4xx_or_closed "${bad:-no result: $(head -c 200 "$T/raw.json")}"; fi
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$U/metrics")
if kill -0 "$SERVE_PID" 2>/dev/null && [ "$code" = 200 ]; then pass serves_after_malformed
else fail serves_after_malformed "scrape answered $code; serve alive: $(kill -0 "$SERVE_PID" 2>/dev/null && echo yes || echo no)"; fi

curl -s -m 5 -o "$T/m2.txt" "$U/metrics"
miss=""
for p in $S1 $S2; do grep -Eq "^gsmapper_process_threads\{([^}]*,)?pid=\"$p\"" "$T/m2.txt" || miss="$miss $p"; done
if [ -z "$miss" ]; then pass sleep_pids_exported; else fail sleep_pids_exported "no gsmapper_process_threads for pid$miss"; fi

# Moderate load: 20 scrapers, fresh connection per scrape, 5 per source address.
$L hammer "$PORT" 20 10 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 > "$T/load.json" 2>&1
echo "  load 20 scrapers x 10 s: $(cat "$T/load.json")"
n=$(json_get "$T/load.json" 'd["n"]' 2>/dev/null || echo 0)
errs=$(json_get "$T/load.json" 'd["errors"]' 2>/dev/null || echo '?')
p99=$(json_get "$T/load.json" 'd["p99_ms"]' 2>/dev/null || echo '?')
if [ "$errs" = 0 ] && [ "$n" -gt 0 ]; then pass load_20x10s_no_errors
else fail load_20x10s_no_errors "$n scrapes, $errs errors: $(head -c 200 "$T/load.json")"; fi
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVE_PID/status" 2>/dev/null)
echo "  serve VmHWM ${hwm:-?} KiB after the load (p99 ${p99} ms)"
if [ "$ASAN" = 1 ]; then skip load_vmhwm_bound "ASan build (shadow memory); VmHWM ${hwm:-?} KiB"
elif [ -n "$hwm" ] && [ "$hwm" -lt $((32 * 1024)) ]; then pass load_vmhwm_bound
else fail load_vmhwm_bound "VmHWM ${hwm:-?} KiB >= 32 MiB"; fi

# 200 idle connections from 127.0.0.1 (per-IP limit 16: the server drops the rest at once).
$L hold "$PORT" 200 5 127.0.0.1 "$T/held" > "$T/hold.json" 2>&1 &
HP=$!; EXTRA=$HP
for _ in $(seq 1 50); do [ -s "$T/held" ] && break; sleep 0.1; done
same=$($L once "$PORT" 127.0.0.1 3)
other=$($L once "$PORT" 127.0.0.6 3)
wait "$HP"; EXTRA=
echo "  idle 200 from 127.0.0.1: $(cat "$T/hold.json"); scrape meanwhile from 127.0.0.1: $same, from 127.0.0.6: $other"
if kill -0 "$SERVE_PID" 2>/dev/null && [[ $other == *'"error": null'* ]]; then pass idle_200_server_up
else fail idle_200_server_up "scrape from another address: $other; serve alive: $(kill -0 "$SERVE_PID" 2>/dev/null && echo yes || echo no)"; fi
later=$($L once "$PORT" 127.0.0.1 5)
if [[ $later == *'"error": null'* ]]; then pass idle_200_later_scrape; else fail idle_200_later_scrape "$later"; fi

# Exit codes
for bad in garbage 127.0.0.1:99999 127.0.0.1: ':abc' '[::1'; do
  timeout 10 "$GSM" serve --listen "$bad" "$S1" --quiet > /dev/null 2>&1; rc=$?
  [ $rc = 2 ] || { fail listen_garbage_exit2 "--listen '$bad' exited $rc"; break; }
done
[ $rc = 2 ] && pass listen_garbage_exit2
timeout 10 "$GSM" serve --listen "127.0.0.1:$PORT" "$S1" --quiet > /dev/null 2> "$T/inuse.err"; rc=$?
lines=$(grep -c . "$T/inuse.err")
if [ $rc = 1 ] && [ "$lines" = 1 ]; then pass port_in_use_exit1
else fail port_in_use_exit1 "exit $rc, $lines stderr lines: $(head -c 200 "$T/inuse.err")"; fi

kill -TERM "$SERVE_PID"
rc=
for _ in $(seq 1 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$SERVE_PID" 2>/dev/null; then fail sigterm_exit0 "still running 5 s after SIGTERM"
else wait "$SERVE_PID"; rc=$?; SERVE_PID=; check sigterm_exit0 [ "$rc" = 0 ]; fi
