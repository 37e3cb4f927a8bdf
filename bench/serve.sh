#!/usr/bin/env bash
# Load and abuse for `gsmapper serve` (issue 6, item 6), and the same processes under Debian's
# prometheus-process-exporter, in one run. 500 `sleep` processes started here (ended by PID on
# exit). Prints tables and PASS/MISS lines.
#  (a) 200 concurrent scrapers for DURATION_A s (60) against `serve PID...` naming the 500
#      sleeps (so all 500 are exported: the largest exposition), each scraper scraping in a loop
#      on a fresh connection ("Connection: close"), plus one "ordinary" scraper that scrapes
#      every 0.1 s from its own address: its p99 is the target (< 100 ms); errors; serve's RSS.
#      Then 20 s of the same with every scraper sending "Accept-Encoding: gzip" (as Prometheus
#      does: serve answers with the tick's compressed body), and 20 s against the default
#      `serve` (--all, top 50 exported), uncompressed.
#  (b) 1,000 slow connections (slowloris: a partial request, one more header line every 2 s)
#      for DURATION_B s (20) while the ordinary scraper goes on: b1 all from one address,
#      b2 spread over 100 addresses; then how long until a scrape succeeds again (≤ 30 s).
#  (c) serve --all and prometheus-process-exporter (a config that matches every process) side
#      by side: 50 sequential scrapes, alternating, median latency; VmRSS after and VmHWM.
#      Targets: gsmapper ≤ 1/4 of the exporter's median latency and ≤ 1/3 of its RSS (VmRSS
#      after STEADY_S s of running side by side).
# Source addresses: the server allows 16 connections per IP and 64 in all. One client address
# could hold only 16, so scraper i binds its socket to 127.0.0.(2 + i % 20) (10 per address;
# all of 127/8 is loopback on Linux), the ordinary scraper to 127.0.0.250, the slowloris
# connections to 127.0.0.100 (b1) or 127.0.1.1-100 (b2). Everything on 127.0.0.1:free ports.
# Knobs: PARTS (abc: which of (a), (b), (c) to run), DURATION_A, DURATION_B, STEADY_S (320: the RSS verdict is taken after serve's 300 s
# flight-recorder ring has filled), NPROC (500), GO_TARGETS (3 Go programs from build/targets with
# /debug/pprof on loopback, whose statistics serve reads), GSMAPPER.
set -uo pipefail
cd "$(dirname "$0")/.."
GSM=${GSMAPPER:-build/gsmapper}
PARTS=${PARTS:-abc}
DURATION_A=${DURATION_A:-60}
DURATION_B=${DURATION_B:-20}
STEADY_S=${STEADY_S:-320}
NPROC=${NPROC:-500}
GO_TARGETS=${GO_TARGETS:-3}
PE=/usr/bin/prometheus-process-exporter
command -v python3 >/dev/null || { echo "bench/serve.sh: needs python3 (skipped)"; exit 0; }
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.1.100", 0))' 2>/dev/null ||
  { echo "bench/serve.sh: cannot bind 127.0.1.100 (skipped)"; exit 0; }
[ "$(ulimit -n)" -ge 2200 ] 2>/dev/null || ulimit -n 4096 2>/dev/null ||
  { echo "bench/serve.sh: needs ulimit -n >= 2200 (skipped)"; exit 0; }
T=$(mktemp -d)
pids=() SERVE= SERVE2= PEXP= SAMPLER=
cleanup() {
  for p in $SAMPLER $SERVE $SERVE2 $PEXP; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
j() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# start_serve ARGS...: on a free port; sets SERVE and PORT; waits for a 200 from /metrics
start_serve() {
  local ok _
  PORT=$(free_port)
  "$GSM" serve --listen "127.0.0.1:$PORT" --quiet "$@" > /dev/null 2> "$T/serve.err" & SERVE=$!
  for _ in $(seq 1 100); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "127.0.0.1:$PORT/metrics")" = 200 ] && return 0
    kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1
  done
  echo "serve did not come up: $(head -c 300 "$T/serve.err")"; return 1
}
stop_serve() { kill "$SERVE" 2>/dev/null; wait "$SERVE" 2>/dev/null; SERVE=; }
# sample_rss PID FILE: VmRSS (KiB) every 0.5 s into FILE until stopped (SAMPLER)
sample_rss() { ( while kill -0 "$1" 2>/dev/null; do awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; sleep 0.5; done ) > "$2" & SAMPLER=$!; }
stop_sampler() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=; }
maxof() { sort -n "$1" | tail -n 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
verdict() { if python3 -c "import sys; sys.exit(0 if $2 else 1)"; then echo "PASS $1 ($3)"; else echo "MISS $1 ($3)"; fi; }
SRCS=$(seq -s, -f '127.0.0.%g' 2 21)
HZ=$(getconf CLK_TCK)

cat > "$T/load.py" <<'EOF'
import asyncio, json, os, socket, sys, threading, time

def pct(xs, p):
    if not xs:
        return float('nan')
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

def parse_response(buf):
    """(status, ok): ok when the body is as long as Content-Length says."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return None, False
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except Exception:
        return None, False
    cl = None
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            cl = int(v.strip())
    return status, (cl is None or len(body) == cl)

# LOAD_GZIP=1: the request accepts gzip, as Prometheus's does (the response is then compressed)
REQ = (b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (b"Accept-Encoding: gzip\r\n" if os.environ.get("LOAD_GZIP") == "1" else b"")
       + b"Connection: close\r\n\r\n")

def scrape_once(host, port, src, path=b"/metrics", timeout=10.0):
    """One scrape on a fresh connection. Returns (seconds, error or None)."""
    t0 = time.perf_counter()
    s = socket.socket()
    try:
        s.settimeout(timeout)
        if src:
            s.bind((src, 0))
        s.connect((host, port))
        s.sendall(REQ % path)
        chunks = []
        while True:
            d = s.recv(262144)
            if not d:
                break
            chunks.append(d)
        st, ok = parse_response(b"".join(chunks))
        dt = time.perf_counter() - t0
        if st != 200:
            return dt, "status %s" % st if st else "closed without a response"
        if not ok:
            return dt, "short body"
        return dt, None
    except Exception as e:
        return time.perf_counter() - t0, type(e).__name__
    finally:
        s.close()

async def hammer_worker(host, port, src, until, lat, errs):
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            r, w = await asyncio.wait_for(
                asyncio.open_connection(host, port, local_addr=(src, 0) if src else None), 10)
            w.write(REQ % b"/metrics")
            buf = await asyncio.wait_for(r.read(), 10)
            w.close()
            st, ok = parse_response(buf)
            if st != 200 or not ok:
                errs.append("status %s" % st if st else "closed without a response")
                await asyncio.sleep(0.01)
                continue
            lat.append(time.perf_counter() - t0)
        except Exception as e:
            errs.append(type(e).__name__)
            await asyncio.sleep(0.01)

def cmd_hammer(host, port, n, duration, srcs):
    """n scrapers, each scraping in a loop on fresh connections; scraper i binds srcs[i % len]."""
    lat, errs = [], []
    async def main():
        until = time.perf_counter() + duration
        await asyncio.gather(*[hammer_worker(host, port, srcs[i % len(srcs)], until, lat, errs) for i in range(n)])
    t0 = time.perf_counter()
    asyncio.run(main())
    el = time.perf_counter() - t0
    kinds = {}
    for e in errs:
        kinds[e] = kinds.get(e, 0) + 1
    print(json.dumps({"n": len(lat), "errors": len(errs), "error_kinds": kinds, "rps": round(len(lat) / el, 1),
                      "p50_ms": round(pct(lat, 50) * 1000, 2), "p99_ms": round(pct(lat, 99) * 1000, 2),
                      "max_ms": round(max(lat) * 1000, 2) if lat else None}))

def cmd_probe(host, port, src, count, interval, timeout):
    """The ordinary scrape: one at a time, fresh connection each, every `interval` seconds."""
    lat, errs = [], {}
    for _ in range(count):
        t0 = time.perf_counter()
        dt, e = scrape_once(host, port, src, timeout=timeout)
        if e:
            errs[e] = errs.get(e, 0) + 1
        else:
            lat.append(dt)
        rest = interval - (time.perf_counter() - t0)
        if rest > 0:
            time.sleep(rest)
    print(json.dumps({"n": len(lat), "errors": sum(errs.values()), "error_kinds": errs,
                      "p50_ms": round(pct(lat, 50) * 1000, 2), "p99_ms": round(pct(lat, 99) * 1000, 2),
                      "max_ms": round(max(lat) * 1000, 2) if lat else None}))

def cmd_hold(host, port, n, duration, srcs, slow):
    """Open n connections (connection i from srcs[i % len]) and hold them for `duration` seconds.
    slow: send a partial request, then one more header line every 2 s, never finishing it
    (slowloris). Prints how many connected, and how many the server closed (EOF/reset) or
    answered, and when."""
    socks, connect_fail = [], 0
    for i in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.bind((srcs[i % len(srcs)], 0))
            s.connect((host, port))
            if slow:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            s.setblocking(False)
            socks.append(s)
        except Exception:
            connect_fail += 1
            s.close()
    print("HELD %d" % len(socks), flush=True)
    closed, answered, t0 = {}, {}, time.time()
    live = list(socks)
    while time.time() - t0 < duration:
        time.sleep(min(2, max(0, duration - (time.time() - t0))))
        nxt = []
        for s in live:
            gone = False
            try:
                d = s.recv(4096)
                if d == b"":
                    gone = True
                else:
                    answered[s] = answered.get(s, 0) or time.time() - t0
            except BlockingIOError:
                pass
            except OSError:
                gone = True
            if not gone and slow:
                try:
                    s.send(b"X-Slow: x\r\n")
                except BlockingIOError:
                    pass
                except OSError:
                    gone = True
            if gone:
                closed[s] = time.time() - t0
            else:
                nxt.append(s)
        live = nxt
    res = {"opened": len(socks), "connect_failed": connect_fail, "closed_by_server": len(closed),
           "closed_within_1s": sum(1 for v in closed.values() if v <= 2.1),
           "answered": len(answered), "still_open": len(live)}
    for s in socks:
        s.close()
    print(json.dumps(res), flush=True)

def cmd_raw(host, port):
    """Malformed requests, concurrently (a silent one waits out the server's timeout)."""
    cases = {
        "garbage_line": b"GARBAGE nonsense here\r\n\r\n",
        "binary_garbage": b"\x00\x01\x02GARBAGE\xff\xfe\r\n\r\n",
        "long_header_100k": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 100000 + b"\r\n\r\n",
        "get_with_body": b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
        "post_with_body": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
        "bad_content_length": b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "http_9_9": b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n",
    }
    out = {}
    def one(name, data):
        t0 = time.time()
        s = socket.create_connection((host, port), timeout=15)
        buf = b""
        try:
            s.sendall(data)
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            how = "closed"
        except socket.timeout:
            how = "timeout"
        except OSError as e:
            how = "closed" if buf or isinstance(e, ConnectionResetError) else type(e).__name__
        finally:
            s.close()
        st = None
        if buf.startswith(b"HTTP/"):
            try:
                st = int(buf.split()[1])
            except Exception:
                pass
        out[name] = {"status": st, "how": how, "secs": round(time.time() - t0, 2)}
    ts = [threading.Thread(target=one, args=kv) for kv in cases.items()]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(out))

def cmd_compare(ports, names, rounds, warmup):
    """Sequential scrapes, alternating between the servers round by round (drift hits both)."""
    lat = {n: [] for n in names}
    size = {}
    for r in range(warmup + rounds):
        for port, name in zip(ports, names):
            t0 = time.perf_counter()
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(REQ % b"/metrics")
            buf = b""
            while True:
                d = s.recv(262144)
                if not d:
                    break
                buf += d
            s.close()
            dt = time.perf_counter() - t0
            st, ok = parse_response(buf)
            if st != 200 or not ok:
                print(json.dumps({"error": "%s answered %s" % (name, st)}))
                return
            size[name] = len(buf)
            if r >= warmup:
                lat[name].append(dt)
    print(json.dumps({n: {"median_ms": round(pct(lat[n], 50) * 1000, 2), "p90_ms": round(pct(lat[n], 90) * 1000, 2),
                          "min_ms": round(min(lat[n]) * 1000, 2), "bytes": size[n]} for n in names}))

if __name__ == "__main__":
    a = sys.argv[1:]
    host, port = "127.0.0.1", (int(a[1]) if a[0] != "compare" else 0)
    if a[0] == "hammer":
        cmd_hammer(host, port, int(a[2]), float(a[3]), a[4].split(","))
    elif a[0] == "probe":
        cmd_probe(host, port, a[2], int(a[3]), float(a[4]), float(a[5]) if len(a) > 5 else 10.0)
    elif a[0] == "hold":
        cmd_hold(host, port, int(a[2]), float(a[3]), a[4].split(","), a[5] == "slow")
    elif a[0] == "raw":
        cmd_raw(host, port)
    elif a[0] == "compare":
        cmd_compare([int(x) for x in a[1].split(",")], a[2].split(","), int(a[3]), int(a[4]))
    elif a[0] == "once":
        dt, e = scrape_once(host, port, a[2], timeout=float(a[3]) if len(a) > 3 else 5.0)
        print(json.dumps({"ms": round(dt * 1000, 2), "error": e}))
EOF
L="python3 $T/load.py"

for _ in $(seq 1 "$NPROC"); do sleep 100000 & pids+=($!); done
# Go services whose statistics serve reads (net/http/pprof on a loopback port): the classes
# tier, the Go split and the Go findings all run for them.
GO_N=0
if [ -x build/targets/memshape ]; then
  for _ in $(seq 1 "$GO_TARGETS"); do
    build/targets/memshape -heap-mib 16 -goroutines 20 -pprof-port 0 < /dev/null > /dev/null 2>&1 & pids+=($!)
    GO_N=$((GO_N + 1))
  done
fi
echo "## gsmapper serve under load ($(date +%F), kernel $(uname -r), $(nproc) CPUs, $NPROC sleep processes, $GO_N Go targets with /debug/pprof, $(ls -d /proc/[0-9]* | wc -l) processes in all)"
echo

# (a) 200 scrapers
run_a() { # LABEL DURATION [GZIP]: hammer + ordinary scraper against the running serve (GZIP=1:
          # every request accepts gzip; the bytes column is then the compressed size)
  local label=$1 dur=$2 gz=${3:-0} c0 c1
  sample_rss "$SERVE" "$T/rss.a"
  c0=$(cpu_ticks "$SERVE")
  LOAD_GZIP=$gz $L probe "$PORT" 127.0.0.250 "$(python3 -c "print(int($dur / 0.1))")" 0.1 10 > "$T/probe.a" & local pp=$!
  LOAD_GZIP=$gz $L hammer "$PORT" 200 "$dur" "$SRCS" > "$T/hammer.a"
  wait "$pp"
  c1=$(cpu_ticks "$SERVE")
  stop_sampler
  local bytes; bytes=$(curl -s -m 5 -H "Accept-Encoding: $( [ "$gz" = 1 ] && echo gzip || echo identity)" "127.0.0.1:$PORT/metrics" | wc -c)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$bytes" \
    "$(j "$T/hammer.a" 'd["n"]')" "$(j "$T/hammer.a" 'd["rps"]')" "$(j "$T/hammer.a" 'd["errors"]')" \
    "$(j "$T/hammer.a" 'd["p50_ms"]')" "$(j "$T/hammer.a" 'd["p99_ms"]')" \
    "$(j "$T/probe.a" 'd["p50_ms"]') / $(j "$T/probe.a" 'd["p99_ms"]') / $(j "$T/probe.a" 'd["max_ms"]')" \
    "$(j "$T/probe.a" 'd["errors"]')/$(( $(j "$T/probe.a" 'd["n"]') + $(j "$T/probe.a" 'd["errors"]') ))" \
    "$(python3 -c "print(round(($c1 - $c0) / $HZ / $dur * 100, 1))")" "$(maxof "$T/rss.a") / $(hwm "$SERVE")"
  [ "$(j "$T/hammer.a" 'd["errors"]')" != 0 ] && echo "|   errors: $(j "$T/hammer.a" 'd["error_kinds"]') |"
}
echo "### (a) 200 concurrent scrapers (fresh connection per scrape, 20 source addresses) + one ordinary scraper every 0.1 s"
echo
echo "| serve | exposition bytes | scrapes | scrapes/s | errors | p50 ms | p99 ms | ordinary p50 / p99 / max ms | ordinary errors | serve CPU % | serve max VmRSS / VmHWM KiB |"
echo "|---|--:|--:|--:|--:|--:|--:|---|--:|--:|---|"
start_serve "${pids[@]}" || exit 1
run_a "$NPROC PIDs named (all exported), ${DURATION_A} s" "$DURATION_A"
A_P99=$(j "$T/probe.a" 'd["p99_ms"]'); A_ERR=$(( $(j "$T/probe.a" 'd["errors"]') + $(j "$T/hammer.a" 'd["errors"]') ))
run_a "$NPROC PIDs named, every scraper accepting gzip, 20 s" 20 1
AZ_P99=$(j "$T/probe.a" 'd["p99_ms"]'); A_ERR=$(( A_ERR + $(j "$T/probe.a" 'd["errors"]') + $(j "$T/hammer.a" 'd["errors"]') ))
A_RSS=$(hwm "$SERVE")
stop_serve
start_serve || exit 1
run_a "--all, top 50 (default), 20 s" 20
A2_P99=$(j "$T/probe.a" 'd["p99_ms"]')
stop_serve
echo

if [[ $PARTS == *b* ]]; then
# (b) slowloris
echo "### (b) 1,000 slow connections for ${DURATION_B} s while the ordinary scraper goes on (serve with the $NPROC PIDs)"
echo
echo "| slow connections from | held open at the end | closed by serve | ordinary scrapes ok / all | ordinary p50 / p99 / max ms (ok ones) | serve max VmRSS / VmHWM KiB |"
echo "|---|--:|--:|---|---|---|"
start_serve "${pids[@]}" || exit 1
run_b() { # LABEL SRCS
  sample_rss "$SERVE" "$T/rss.b"
  $L hold "$PORT" 1000 "$DURATION_B" "$2" slow > "$T/hold.b" & local hp=$!
  for _ in $(seq 1 100); do grep -q '^HELD' "$T/hold.b" && break; sleep 0.1; done
  $L probe "$PORT" 127.0.0.250 "$(python3 -c "print(int(($DURATION_B - 2) / 0.2))")" 0.2 5 > "$T/probe.b"
  wait "$hp"
  stop_sampler
  tail -n 1 "$T/hold.b" > "$T/hold.bj"
  local n e; n=$(j "$T/probe.b" 'd["n"]'); e=$(j "$T/probe.b" 'd["errors"]')
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(j "$T/hold.bj" 'd["still_open"]')" \
    "$(j "$T/hold.bj" 'd["closed_by_server"]')" "$n / $((n + e)) $( [ "$e" != 0 ] && j "$T/probe.b" 'd["error_kinds"]')" \
    "$(j "$T/probe.b" 'd["p50_ms"]') / $(j "$T/probe.b" 'd["p99_ms"]') / $(j "$T/probe.b" 'd["max_ms"]')" \
    "$(maxof "$T/rss.b") / $(hwm "$SERVE")"
}
run_b "one address (127.0.0.100)" 127.0.0.100
B1_OK=$(j "$T/probe.b" 'd["errors"] == 0'); B1_P99=$(j "$T/probe.b" 'd["p99_ms"]')
run_b "100 addresses (127.0.1.1-100)" "$(seq -s, -f '127.0.1.%g' 1 100)"
B2_OK=$(j "$T/probe.b" 'd["errors"] == 0'); B2_P99=$(j "$T/probe.b" 'd["p99_ms"]')
B_ALIVE=$(kill -0 "$SERVE" 2>/dev/null && echo yes || echo no)
B_RSS=$(hwm "$SERVE")
t0=$(date +%s.%N) rec=
while python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 < 30 else 1)"; do
  r=$($L once "$PORT" 127.0.0.250 2)
  [[ $r == *'"error": null'* ]] && { rec=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))"); break; }
done
echo
echo "After the slow clients went away: first successful scrape after ${rec:-more than 30} s; connections on the port then: $(ss -tn "( sport = :$PORT )" | awk 'NR > 1 {print $1}' | sort | uniq -c | tr -s ' \n' ' ')"
stop_serve
echo
fi

# (c) side by side with prometheus-process-exporter
C_DONE=0
if [[ $PARTS != *c* ]]; then :
elif [ -x "$PE" ]; then
  echo "### (c) gsmapper serve --all and prometheus-process-exporter, same processes, same run"
  echo
  cat > "$T/pe.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    cmdline:
      - '.+'
EOF
  PEPORT=$(free_port)
  "$PE" -config.path "$T/pe.yml" -web.listen-address "127.0.0.1:$PEPORT" > "$T/pe.log" 2>&1 & PEXP=$!
  start_serve --no-go-stats || exit 1
  SERVE2=$SERVE PORT2=$PORT
  start_serve || exit 1
  for _ in $(seq 1 100); do [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "127.0.0.1:$PEPORT/metrics")" = 200 ] && break; sleep 0.1; done
  $L compare "$PORT,$PORT2,$PEPORT" gsmapper,gsmapper-nogo,process-exporter 50 3 > "$T/cmp.json"
  if grep -q '"error"' "$T/cmp.json"; then echo "compare failed: $(cat "$T/cmp.json")"
  else
    C_DONE=1
    G_MED=$(j "$T/cmp.json" 'd["gsmapper"]["median_ms"]'); P_MED=$(j "$T/cmp.json" 'd["process-exporter"]["median_ms"]')
    G_RSS=$(rss "$SERVE"); P_RSS=$(rss "$PEXP"); G_HWM=$(hwm "$SERVE"); P_HWM=$(hwm "$PEXP")
    curl -s "127.0.0.1:$PORT/metrics" > "$T/g.txt"
    ticks=$(awk '$1 == "gsmapper_ticks_total" {print $2}' "$T/g.txt")
    tier=$(awk '$1 ~ /^gsmapper_tier_seconds_total/ {s += $2} END {print s}' "$T/g.txt")
    echo "| exporter | processes seen | median ms | p90 ms | min ms | bytes | VmRSS KiB after | VmHWM KiB |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|"
    echo "| gsmapper serve (--all, top 50) | $(awk '$1 == "gsmapper_targets{type=\"process\"}" {print $2}' "$T/g.txt") | $G_MED | $(j "$T/cmp.json" 'd["gsmapper"]["p90_ms"]') | $(j "$T/cmp.json" 'd["gsmapper"]["min_ms"]') | $(j "$T/cmp.json" 'd["gsmapper"]["bytes"]') | $G_RSS | $G_HWM |"
    echo "| gsmapper serve --no-go-stats (--all, top 50) | $(curl -s "127.0.0.1:$PORT2/metrics" | awk '$1 == "gsmapper_targets{type=\"process\"}" {print $2}') | $(j "$T/cmp.json" 'd["gsmapper-nogo"]["median_ms"]') | $(j "$T/cmp.json" 'd["gsmapper-nogo"]["p90_ms"]') | $(j "$T/cmp.json" 'd["gsmapper-nogo"]["min_ms"]') | $(j "$T/cmp.json" 'd["gsmapper-nogo"]["bytes"]') | $(rss "$SERVE2") | $(hwm "$SERVE2") |"
    echo "| prometheus-process-exporter $(dpkg-query -W -f '${Version}' prometheus-process-exporter 2>/dev/null) (every process, grouped by comm) | $(curl -s "127.0.0.1:$PEPORT/metrics" | awk '$1 ~ /^namedprocess_namegroup_num_procs/ {s += $2} END {print s}') | $P_MED | $(j "$T/cmp.json" 'd["process-exporter"]["p90_ms"]') | $(j "$T/cmp.json" 'd["process-exporter"]["min_ms"]') | $(j "$T/cmp.json" 'd["process-exporter"]["bytes"]') | $P_RSS | $P_HWM |"
    echo
    echo "(gsmapper samples off the scrape path: $ticks ticks so far, $(python3 -c "print(round($tier / max(1, $ticks) * 1000, 1))") ms of sampling per tick; the exporter reads /proc at each scrape.)"
    # Steady state: serve's flight-recorder ring fills for 300 s (its size at the default
    # tick). One gsmapper, as on a node: the two above are stopped (running side by side they
    # share their library pages, which keeps serve from releasing its start-up-only ones), a
    # fresh `serve --all` (Go statistics on) runs beside the exporter for STEADY_S, both
    # scraped every 15 s as Prometheus would.
    G2_SRSS=$(rss "$SERVE2")
    kill "$SERVE2" "$SERVE"; wait "$SERVE2" "$SERVE" 2>/dev/null; SERVE2=
    start_serve || exit 1
    echo
    echo "Steady state after ${STEADY_S} s, one gsmapper serve --all beside the exporter, both scraped every 15 s:"
    gc0=$(cpu_ticks "$SERVE") pc0=$(cpu_ticks "$PEXP") w0=$(date +%s.%N)
    for _ in $(seq 1 $((STEADY_S / 15))); do
      for p in "$PORT" "$PEPORT"; do curl -s -m 5 -o /dev/null "127.0.0.1:$p/metrics"; done
      sleep 15
    done
    wall=$(python3 -c "print($(date +%s.%N) - $w0)")
    G_CPU=$(python3 -c "print(round(($(cpu_ticks "$SERVE") - $gc0) / $HZ / $wall * 100, 2))")
    P_CPU=$(python3 -c "print(round(($(cpu_ticks "$PEXP") - $pc0) / $HZ / $wall * 100, 2))")
    G_RSS=$(rss "$SERVE"); P_RSS=$(rss "$PEXP"); G_SHWM=$(hwm "$SERVE")
    curl -s "127.0.0.1:$PORT/metrics" > "$T/g2.txt"
    echo
    echo "| exporter | VmRSS KiB | RssAnon KiB | RssFile KiB | VmHWM KiB | CPU % of a core (steady, scraped every 15 s) |"
    echo "|---|--:|--:|--:|--:|--:|"
    for row in "gsmapper serve --all:$SERVE:$G_CPU" "prometheus-process-exporter:$PEXP:$P_CPU"; do
      rest=${row#*:}; pid=${rest%%:*}
      echo "| ${row%%:*} | $(rss "$pid") | $(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status") | $(awk '/^RssFile:/ {print $2}' "/proc/$pid/status") | $(hwm "$pid") | ${row##*:} |"
    done
    echo
    echo "(gsmapper: $(awk '$1 == "gsmapper_targets{type=\"process\"}" {print $2}' "$T/g2.txt") processes watched, Go heap goals exported for $(grep -c '^gsmapper_process_go_heap_goal_bytes{' "$T/g2.txt"), processes with classes $(awk '$1 == "gsmapper_class_processes" {print $2}' "$T/g2.txt"); serve's mappings by RSS:"
    awk '/^[0-9a-f]+-[0-9a-f]+ / {n = ($6 == "" ? "[anon]" : $6); sub(".*/", "", n)} /^Rss:/ {r[n] += $2} END {for (k in r) if (r[k] >= 64) printf "%s %d KiB, ", k, r[k]}' "/proc/$SERVE/smaps"
    echo ")"
  fi
else
  echo "prometheus-process-exporter not installed (apt-get install prometheus-process-exporter): (c) skipped"
fi
echo

A_NOTE="ordinary scrape p99 ${A_P99} ms with 200 scrapers, $NPROC PIDs exported; ${A2_P99} ms with --all top 50"
verdict "a_ordinary_p99_under_100ms" "$A_P99 < 100" "$A_NOTE"
verdict "a_gzip_ordinary_p99_under_100ms" "$AZ_P99 < 100" "ordinary scrape p99 ${AZ_P99} ms, $NPROC PIDs exported, every scraper accepting gzip"
verdict "a_no_errors" "$A_ERR == 0" "$A_ERR errors"
verdict "a_rss_under_32MiB" "$A_RSS < 32768" "VmHWM $A_RSS KiB"
[[ $PARTS == *b* ]] && {
verdict "b_no_crash" "'$B_ALIVE' == 'yes'" "serve alive after 2 x 1,000 slow connections: $B_ALIVE"
verdict "b_rss_under_32MiB" "$B_RSS < 32768" "VmHWM $B_RSS KiB"
verdict "b_scrapes_one_address" "$B1_OK and $B1_P99 < 100" "slowloris from one address: all ordinary scrapes ok: $B1_OK, p99 $B1_P99 ms"
verdict "b_scrapes_100_addresses" "$B2_OK and $B2_P99 < 100" "slowloris from 100 addresses: all ordinary scrapes ok: $B2_OK, p99 $B2_P99 ms"
verdict "b_recovers_within_30s" "'${rec:-}' != ''" "first scrape ok after ${rec:-> 30} s"
}
if [ "$C_DONE" = 1 ]; then
  verdict "c_latency_quarter" "$G_MED <= $P_MED / 4" "gsmapper $G_MED ms vs exporter $P_MED ms: $(python3 -c "print(round($P_MED / max(0.001, $G_MED), 1))")x"
  verdict "c_rss_third" "$G_RSS <= $P_RSS / 3" "gsmapper $G_RSS KiB vs exporter $P_RSS KiB: $(python3 -c "print(round($P_RSS / max(1, $G_RSS), 1))")x"
  verdict "c_rss_6MiB" "$G_RSS <= 6144" "gsmapper VmRSS $G_RSS KiB after ${STEADY_S} s (goal 6 MiB)"
  verdict "c_hwm_10MiB" "$G_SHWM <= 10240" "gsmapper VmHWM $G_SHWM KiB from the start (goal 10 MiB)"
  verdict "c_cpu_below_exporter" "$G_CPU <= $P_CPU" "steady CPU: gsmapper $G_CPU% vs exporter $P_CPU% of a core"
  G2_RSS=$G2_SRSS
  echo "(with --no-go-stats, which does not load libcurl, right after the latency comparison: $G2_RSS KiB, exporter / gsmapper $(python3 -c "print(round($P_RSS / max(1, $G2_RSS), 1))")x; median $(j "$T/cmp.json" 'd["gsmapper-nogo"]["median_ms"]') ms)"
fi
