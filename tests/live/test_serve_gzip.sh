#!/usr/bin/env bash
# Live: `gsmapper serve` compresses /metrics with gzip when the scraper accepts it (Prometheus
# sends "Accept-Encoding: gzip"), made once per tick and kept until the next (docs/serve.md).
# serve watches two `sleep` processes of its own at --interval 1. Checks: the gzip response's
# headers (Content-Encoding gzip, Vary, the 0.0.4 type); it decodes to the same bytes as an
# uncompressed scrape of the same tick (a pair is taken again if a tick fell between them),
# for the text format and for OpenMetrics; refused or other codings ("gzip;q=0", "identity",
# "br", none) get the uncompressed body, "*" and "x-gzip" get gzip; after a tick the gzip body
# is the new tick's (gsmapper_ticks_total grows: not a stale copy); promtool accepts the
# decoded text; 16 concurrent gzip scrapers x 3 s all decode (the first scrape of a tick
# compresses under the lock while the others wait); SIGTERM exits 0 (under ASan: nothing
# leaked, the kept compressed bodies included). About 10 s.
set -u
. "$(dirname "$0")/../lib.sh"
CHECKS="gzip_serve_started gzip_headers gzip_same_body gzip_openmetrics_same_body gzip_refused_identity
  gzip_star_and_xgzip gzip_new_after_tick gzip_promtool gzip_concurrent gzip_sigterm_exit0"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
"$GSM" serve --help >/dev/null 2>&1 || skip_all "$GSM has no serve command"
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
  skip_all "cannot bind 127.0.0.2 (loopback /8 not routed to lo)"

T=$(mktemp -d)
SERVE_PID= S1= S2=
cleanup() {
  for p in $SERVE_PID $S1 $S2; do kill "$p" 2>/dev/null; done
  for p in $SERVE_PID $S1 $S2; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# get.py PORT OUT [HEADER: VALUE]...: one GET /metrics; the body (decoded when gzip) to OUT,
# the status and headers (lower-cased names) as JSON on stdout. conc PORT N SECONDS: N threads
# scraping with Accept-Encoding: gzip from 127.0.0.2-5 (the server allows 16 connections per
# address, and a closed one may not be counted off yet when the next opens); counts the scrapes
# that decoded to a text ending in "\n".
cat > "$T/get.py" <<'EOF'
import gzip, http.client, json, sys, threading, time
def get(port, hdrs, src=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0) if src else None)
    c.request("GET", "/metrics", headers=hdrs)
    r = c.getresponse()
    raw = r.read()
    h = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    body = gzip.decompress(raw) if h.get("content-encoding") == "gzip" else raw
    return r.status, h, raw, body
a = sys.argv[1:]
if a[0] == "get":
    hdrs = dict(x.split(": ", 1) for x in a[3:])
    st, h, raw, body = get(int(a[1]), hdrs)
    open(a[2], "wb").write(body)
    print(json.dumps({"status": st, "headers": h, "wire_bytes": len(raw)}))
elif a[0] == "conc":
    port, n, dur = int(a[1]), int(a[2]), float(a[3])
    ok, bad = [0], []
    lock = threading.Lock()
    def worker(src):
        until = time.time() + dur
        while time.time() < until:
            try:
                st, h, raw, body = get(port, {"Accept-Encoding": "gzip"}, src)
                good = st == 200 and h.get("content-encoding") == "gzip" and body.startswith(b"# HELP") and body.endswith(b"\n")
                with lock:
                    if good:
                        ok[0] += 1
                    else:
                        bad.append("status %s encoding %s" % (st, h.get("content-encoding")))
            except Exception as e:
                with lock:
                    bad.append(type(e).__name__ + ": " + str(e)[:80])
    ts = [threading.Thread(target=worker, args=("127.0.0.%d" % (2 + i % 4),)) for i in range(n)]
    [t.start() for t in ts]; [t.join() for t in ts]
    print(json.dumps({"ok": ok[0], "bad": len(bad), "first_bad": bad[:3]}))
EOF
G="python3 $T/get.py"
jq_() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

sleep 1000 & S1=$!
sleep 1000 & S2=$!
for _ in 1 2 3; do
  PORT=$(free_port)
  "$GSM" serve --listen "127.0.0.1:$PORT" "$S1" "$S2" --interval 1 --quiet > /dev/null 2> "$T/serve.err" &
  SERVE_PID=$!
  ok=0
  for _ in $(seq 1 100); do
    kill -0 "$SERVE_PID" 2>/dev/null || break
    r=$($G get "$PORT" "$T/x" 2>/dev/null) && [ "$(jq_ "$r" 'd["status"]')" = 200 ] && { ok=1; break; }
    sleep 0.1
  done
  [ $ok = 1 ] && break
  kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
done
[ -n "$SERVE_PID" ] || { fail gzip_serve_started "no 200 from /metrics within 10 s: $(head -c 300 "$T/serve.err")"; exit 0; }
pass gzip_serve_started

# The headers of a gzip scrape
h=$($G get "$PORT" "$T/g0" "Accept-Encoding: gzip")
enc=$(jq_ "$h" 'd["headers"].get("content-encoding")'); vary=$(jq_ "$h" 'd["headers"].get("vary")')
ct=$(jq_ "$h" 'd["headers"].get("content-type")'); wire=$(jq_ "$h" 'd["wire_bytes"]')
if [ "$enc" = gzip ] && [ "$vary" = Accept-Encoding ] && [[ $ct == "text/plain; version=0.0.4"* ]] &&
   [ "$wire" -lt "$(wc -c < "$T/g0")" ]; then pass gzip_headers
else fail gzip_headers "Content-Encoding '$enc', Vary '$vary', Content-Type '$ct', $wire bytes on the wire for $(wc -c < "$T/g0")"; fi

# same_pair NAME [HEADER]...: identity, gzip, identity of the same tick (the two identity bodies
# equal), up to 10 tries; PASS when the decoded gzip body equals them byte for byte
same_pair() {
  local name=$1 i why=""; shift
  for i in $(seq 1 10); do
    $G get "$PORT" "$T/a" "$@" > "$T/a.h"
    $G get "$PORT" "$T/g" "Accept-Encoding: gzip" "$@" > "$T/g.h"
    $G get "$PORT" "$T/b" "$@" > "$T/b.h"
    cmp -s "$T/a" "$T/b" || { why="a tick between the scrapes ($i tries)"; continue; }
    if [ "$(jq_ "$(cat "$T/g.h")" 'd["headers"].get("content-encoding")')" != gzip ]; then
      why="not compressed: $(cat "$T/g.h")"
    elif cmp -s "$T/a" "$T/g"; then
      why=""; pass "$name"; cp "$T/a" "$T/$name.txt"; return
    else why="the decoded body differs: $(cmp "$T/a" "$T/g" 2>&1 | head -c 200)"; fi
    break
  done
  fail "$name" "$why"
}
same_pair gzip_same_body
same_pair gzip_openmetrics_same_body "Accept: application/openmetrics-text; version=1.0.0"
if [ -s "$T/gzip_openmetrics_same_body.txt" ] && [ "$(tail -n 1 "$T/gzip_openmetrics_same_body.txt")" != "# EOF" ]; then
  echo "  (the OpenMetrics body does not end with # EOF)"; fail gzip_openmetrics_same_body "no # EOF"
fi

# Codings that refuse gzip or name another get the plain body.
bad=""
for ae in "gzip;q=0" "gzip; q=0.000, identity" "identity" "br" "" "x-gzip;Q=0, *;q=0"; do
  if [ -n "$ae" ]; then h=$($G get "$PORT" "$T/r" "Accept-Encoding: $ae"); else h=$($G get "$PORT" "$T/r"); fi
  enc=$(jq_ "$h" 'd["headers"].get("content-encoding")')
  [ "$enc" = None ] && head -c 6 "$T/r" | grep -q '^# HELP' || bad="$bad '$ae'->$enc"
done
if [ -z "$bad" ]; then pass gzip_refused_identity; else fail gzip_refused_identity "compressed for:$bad"; fi
bad=""
for ae in "*" "x-gzip" "deflate, GZIP;q=0.5" "br;q=1.0, gzip;q=0.001"; do
  h=$($G get "$PORT" "$T/r" "Accept-Encoding: $ae")
  enc=$(jq_ "$h" 'd["headers"].get("content-encoding")')
  [ "$enc" = gzip ] && head -c 6 "$T/r" | grep -q '^# HELP' || bad="$bad '$ae'->$enc"
done
if [ -z "$bad" ]; then pass gzip_star_and_xgzip; else fail gzip_star_and_xgzip "not compressed for:$bad"; fi

# After a tick (1 s) the compressed body is the new tick's.
ticks() { awk '$1 == "gsmapper_ticks_total" {print $2}' "$1"; }
$G get "$PORT" "$T/t1" "Accept-Encoding: gzip" > /dev/null
sleep 2.5
$G get "$PORT" "$T/t2" "Accept-Encoding: gzip" > /dev/null
k1=$(ticks "$T/t1"); k2=$(ticks "$T/t2")
if [ -n "$k1" ] && [ -n "$k2" ] && [ "$k2" -gt "$k1" ]; then pass gzip_new_after_tick
else fail gzip_new_after_tick "gsmapper_ticks_total '$k1' then '$k2' 2.5 s later"; fi

if command -v promtool >/dev/null 2>&1; then
  po=$(promtool check metrics < "$T/t2" 2>&1); prc=$?
  if [ $prc -eq 0 ] && [ -z "$po" ]; then pass gzip_promtool
  else fail gzip_promtool "rc $prc: $(head -n 3 <<<"$po" | tr '\n' ' ')"; fi
else
  skip gzip_promtool "promtool not installed (Debian package prometheus)"
fi

# 16 concurrent gzip scrapers across ticks
c=$($G conc "$PORT" 16 3)
echo "  16 gzip scrapers x 3 s: $c"
if [ "$(jq_ "$c" 'd["bad"]')" = 0 ] && [ "$(jq_ "$c" 'd["ok"]')" -gt 16 ] && kill -0 "$SERVE_PID" 2>/dev/null; then
  pass gzip_concurrent
else fail gzip_concurrent "$c; serve alive: $(kill -0 "$SERVE_PID" 2>/dev/null && echo yes || echo no)"; fi

kill -TERM "$SERVE_PID"
for _ in $(seq 1 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$SERVE_PID" 2>/dev/null; then fail gzip_sigterm_exit0 "still running 5 s after SIGTERM"
else wait "$SERVE_PID"; rc=$?; SERVE_PID=
  if [ "$rc" = 0 ]; then pass gzip_sigterm_exit0; else fail gzip_sigterm_exit0 "exit $rc: $(tail -c 300 "$T/serve.err")"; fi; fi
