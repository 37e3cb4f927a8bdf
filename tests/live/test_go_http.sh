#!/usr/bin/env bash
# Live: the Go runtime statistics reader (src/readers/go_http.c, go_discover.c) through the test
# driver gofetch (tests/targets/gofetch.c, linked with libgsm; not part of gsmapper).
#  1. memshape (Go 1.19, net/http/pprof + expvar + hand-written Prometheus /metrics): each source
#     agrees with the program's own runtime.ReadMemStats (printed on SIGUSR1 just before the
#     fetch) within 2% or 1 MiB, NumGC and PauseTotalNs exactly when no GC ran in between;
#     discovery finds memshape's port from its PID alone.
#  2. a hostile server (tests/targets/hostile_http.py on 127.0.0.1): 1 GiB bodies (with and
#     without Content-Length, chunked), a never-ending trickle, silence, a gzip bomb, a 302, endless
#     headers, a connect that never completes, garbage bodies. Each must give the expected clean
#     error within 5 s, with the driver's peak RSS (VmHWM) under 64 MiB (128 MiB for the ASan
#     build: its quarantine keeps freed buffers resident), and no crash.
set -u
. "$(dirname "$0")/../lib.sh"

# The driver from the same build as $GSM (build-asan/gsmapper -> build-asan/tests/targets/gofetch).
GOFETCH=$(dirname "$GSM")/tests/targets/gofetch
[ -x "$GOFETCH" ] || GOFETCH=$CTARGETS_DIR/gofetch
RSS_MAX=$((64 << 20))
case "$GOFETCH" in
  *asan*) RSS_MAX=$((128 << 20))   # shadow memory, and freed buffers parked in the quarantine
          export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:quarantine_size_mb=16" ;;
esac

if [ ! -x "$GOFETCH" ]; then
  skip go_http "test driver gofetch not built ($GOFETCH)"; exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  skip go_http "python3 not installed"; exit 0
fi
tmp=$(mktemp -d)
trap 'stop_target; rm -rf "$tmp"' EXIT

# ---- 1. memshape ----
if [ ! -x "$TARGETS_DIR/memshape" ]; then
  skip go_http_memshape "Go targets not built in $TARGETS_DIR (tests/targets/build-go.sh)"
elif ! start_target "$TARGETS_DIR/memshape" -heap-mib 64 -goroutines 200 -pprof-port 0 -prom -memstats -stdin-exit; then
  fail go_http_memshape_start "memshape did not start"
else
  addr=$(awk '/^PPROF /{print $2; exit}' "$TARGET_OUT")
  # fresh_memstats FILE: ask memshape for its MemStats now (SIGUSR1) and store the newest line
  fresh_memstats() {
    local before; before=$(grep -c '^MEMSTATS ' "$TARGET_OUT")
    kill -USR1 "$TARGET_PID"
    for _ in $(seq 1 100); do
      [ "$(grep -c '^MEMSTATS ' "$TARGET_OUT")" -gt "$before" ] && break
      sleep 0.02
    done
    grep '^MEMSTATS ' "$TARGET_OUT" | tail -1 | cut -d' ' -f2- > "$1"
  }
  for src in pprof expvar prometheus; do
    case $src in
      pprof) url="http://$addr" ;;
      expvar) url="http://$addr/debug/vars" ;;
      prometheus) url="http://$addr/metrics" ;;
    esac
    fresh_memstats "$tmp/ms-before.json"
    "$GOFETCH" "$url" > "$tmp/$src.json" 2>"$tmp/err"; rc=$?
    fresh_memstats "$tmp/ms-after.json"
    if [ $rc -ne 0 ]; then
      fail "go_http_${src}_fetch" "rc $rc: $(cat "$tmp/$src.json" "$tmp/err")"; continue
    fi
    python3 - "$tmp/$src.json" "$tmp/ms-before.json" "$tmp/ms-after.json" "$src" <<'PY'
import json, sys
got = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2])); a = json.load(open(sys.argv[3])); src = sys.argv[4]
s = got["stats"]
want_source = {"pprof": "pprof-heap-debug1", "expvar": "expvar", "prometheus": "prometheus"}[src]
ok = s["source"] == want_source
print(("PASS" if ok else "FAIL") + f" go_http_{src}_source" + ("" if ok else f": {s['source']}"))
close = [("heap_alloc_bytes", "HeapAlloc"), ("heap_sys_bytes", "HeapSys"), ("heap_idle_bytes", "HeapIdle"),
         ("heap_inuse_bytes", "HeapInuse"), ("heap_released_bytes", "HeapReleased"),
         ("stack_inuse_bytes", "StackInuse"), ("stack_sys_bytes", "StackSys"),
         ("mspan_sys_bytes", "MSpanSys"), ("mcache_sys_bytes", "MCacheSys"), ("gc_sys_bytes", "GCSys"),
         ("other_sys_bytes", "OtherSys"), ("next_gc_bytes", "NextGC"), ("sys_bytes", "Sys")]
bad = []
for ours, go in close:
    v = s.get(ours)
    lo, hi = min(b[go], a[go]), max(b[go], a[go])      # the truth lies between the two readings
    tol = max(hi * 0.02, 1 << 20)
    if v is None or v < lo - tol or v > hi + tol:
        bad.append(f"{ours}={v} vs {go} {lo}..{hi}")
print(("PASS" if not bad else "FAIL") + f" go_http_{src}_memstats_within_2pct" + ("" if not bad else ": " + "; ".join(bad)))
if a["NumGC"] == b["NumGC"]:            # no GC ran around the fetch: these are exact
    exact = {"num_gc": b["NumGC"], "pause_total_ns": b["PauseTotalNs"]}
    # last_gc: ns in MemStats; pprof/expvar truncate to ms, Prometheus goes through float seconds
    last_ms = b["LastGC"] // 1000000
    bad = [f"{k}={s.get(k)} want {w}" for k, w in exact.items() if s.get(k) != w]
    if abs(s.get("last_gc_ms", 0) - last_ms) > 1:
        bad.append(f"last_gc_ms={s.get('last_gc_ms')} want {last_ms}")
    print(("PASS" if not bad else "FAIL") + f" go_http_{src}_gc_exact" + ("" if not bad else ": " + "; ".join(bad)))
else:
    print(f"SKIP go_http_{src}_gc_exact: a GC ran during the fetch")
if src == "prometheus":
    ok = s.get("goroutines", 0) >= 200 and s.get("gomemlimit_bytes") == 2**63 - 1
    print(("PASS" if ok else "FAIL") + " go_http_prometheus_goroutines_memlimit" + ("" if ok else f": {s}"))
PY
  done

  # discovery: the port from the PID alone, then the whole fetch by PID
  port=${addr##*:}
  "$GOFETCH" --discover "$TARGET_PID" > "$tmp/disc.json" 2>&1
  check go_http_discover_port python3 -c "
import json,sys; d=json.load(open('$tmp/disc.json'))
sys.exit(0 if d['rc']==0 and d['same_netns']==1 and any(p['port']==$port and p['host']=='127.0.0.1' for p in d['ports']) else 1)"
  "$GOFETCH" --pid "$TARGET_PID" > "$tmp/bypid.json" 2>&1
  check go_http_fetch_by_pid python3 -c "
import json,sys; d=json.load(open('$tmp/bypid.json'))
sys.exit(0 if d['rc']==0 and d['stats']['endpoint'].startswith('http://127.0.0.1:$port/') else 1)"
  stop_target
fi

# ---- 2. the hostile server ----
if ! start_target python3 -u "$TESTS_DIR/targets/hostile_http.py" --max-seconds 240; then
  fail go_http_hostile_start "hostile_http.py did not start"; exit 0
fi
read -r _ P S < <(grep '^READY ' "$TARGET_OUT")
H=http://127.0.0.1:$P

# hostile NAME WANT_ERRNO GOFETCH-ARGS...: a clean error (or success for WANT_ERRNO "ok"),
# within 5 s, with bounded RSS, and no crash; one line per check, with the measured time and
# VmHWM on a "# NAME: ..." line after it (the suites count only PASS/FAIL/SKIP lines).
hostile() {
  local name=$1 want=$2; shift 2
  local t0 t1 rc
  t0=$(date +%s%N)
  timeout 20 "$GOFETCH" "$@" > "$tmp/h.json" 2>"$tmp/h.err"; rc=$?
  t1=$(date +%s%N)
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    fail "go_http_hostile_$name" "driver exited $rc (crash or hang): $(head -c 400 "$tmp/h.err")"; return
  fi
  python3 - "$tmp/h.json" "$name" "$want" "$(( (t1 - t0) / 1000000 ))" "$RSS_MAX" "$rc" <<'PY'
import json, sys
path, name, want, wall_ms, rss_max, rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
try:
    d = json.load(open(path))
except Exception as e:
    print(f"FAIL go_http_hostile_{name}: no JSON from driver ({e})"); sys.exit()
got = "ok" if d["rc"] == 0 else d["errno_name"]
why = []
if got != want: why.append(f"got {got} want {want} ({d['error']})")
if (rc == 0) != (want == "ok"): why.append(f"exit {rc}")
if wall_ms >= 5000: why.append(f"took {wall_ms} ms")
if d["vm_hwm_bytes"] >= rss_max: why.append(f"VmHWM {d['vm_hwm_bytes']} >= {rss_max}")
if want == "ok" and "body_bytes" in d and d["body_bytes"] >= 2 << 20: why.append(f"body {d['body_bytes']}")
msg = f"{got} in {wall_ms} ms, VmHWM {d['vm_hwm_bytes'] >> 20} MiB"
print(f"PASS go_http_hostile_{name}" if not why else f"FAIL go_http_hostile_{name}: " + "; ".join(why) + f" [{msg}]")
print(f"# {name}: {msg}")
PY
}

hostile big_content_length EFBIG --get "$H/big-length"
hostile big_close_delimited EFBIG --get "$H/big-close"
hostile big_chunked EFBIG --get "$H/big-chunked"
hostile big_fetch EFBIG "$H/big-chunked"                       # all three endpoint paths 1 GiB
hostile trickle ETIMEDOUT --get "$H/trickle"
hostile trickle_fetch ETIMEDOUT "$H/trickle"                    # one 3 s budget for the whole fetch
hostile trickle_short_budget ETIMEDOUT --timeout-ms 1500 "$H/trickle"
hostile silent ETIMEDOUT --get "$H/silent"
hostile silent_fetch ETIMEDOUT "$H/silent"
hostile gzip_bomb EFBIG --gzip --get "$H/gzip-bomb"
hostile gzip_not_asked ok --get "$H/gzip-bomb"                  # stays compressed: ~1 MiB
hostile gzip_bomb_fetch EPROTO "$H/gzip-bomb"                   # text endpoints never ask for gzip
hostile redirect EPROTO --get "$H/redirect"
hostile redirect_fetch EPROTO "$H/redirect"                     # following would reach /debug/vars
hostile endless_headers EPROTO --get "$H/headers"
hostile connect_stall ETIMEDOUT --get "http://127.0.0.1:$S/"
hostile connect_stall_fetch ETIMEDOUT "http://127.0.0.1:$S"
hostile garbage_bodies EPROTO "$H/garbage"
hostile fallback_to_expvar ok "$H"                              # pprof 404, then /debug/vars
hostile non_loopback EPERM "http://192.0.2.1:6060"
hostile small_cap EFBIG --max-bytes 1000 --get "$H/big-length"
stop_target
