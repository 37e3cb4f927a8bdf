#!/usr/bin/env bash
# Rebuild the seed corpora under tests/fuzz/corpus/<harness>/ (committed; see README.md):
#   - captured inputs from tests/fixtures (smaps, maps, status, cgroup files, mountinfo, the
#     Go fixture executables' .go.buildinfo);
#   - live captures: /proc/net/tcp and tcp6 of this machine (loopback rows only), /proc/meminfo,
#     THP mode, and from the Go target memshape (build/targets, tests/targets/build-go.sh):
#     /debug/pprof/heap?debug=1, /debug/vars, /metrics and the gzipped heap profile;
#   - the unit tests' synthetic pclntabs in the 1.2/1.16/1.18/1.20 layouts
#     (tests/unit/test_pclntab.c, written when GSM_FUZZ_SEED_DIR is set);
#   - numeric edge cases (2^64-1 kB, 2^64, negative, 25 digits).
# Inputs that crashed a harness are kept as corpus/<harness>/crash-* and never removed here.
# Files are capped at 64 KiB (longer ones are cut: a cut input is a hostile input too).
#   - advise --prometheus: real /api/v1/query_range responses of a Prometheus server (the
#     `prometheus` binary, on 127.0.0.1) that scraped gsmapper serve for a while;
#   - serve's streaming smaps reader: the smaps seeds, plus this shell's own smaps.
# Usage: bash tests/fuzz/make-corpus.sh [BUILD_DIR (default build)]
#   ONLY="prom_range smaps_lean" rebuilds only those harnesses' corpora.
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
C=tests/fuzz/corpus
F=tests/fixtures
MAX=65536

seed() { # seed HARNESS NAME < bytes
  mkdir -p "$C/$1"
  head -c "$MAX" > "$C/$1/$2"
}
from() { # from HARNESS PREFIX FILE...
  local h=$1 p=$2 f; shift 2
  local i=0 tree
  for f in "$@"; do
    [ -f "$f" ] || continue
    i=$((i + 1)); tree=${f#"$F"/}; tree=${tree%%/*}
    seed "$h" "$p-$tree-$i" < "$f"
  done
}
want() { # want HARNESS...: a section is rebuilt unless ONLY names none of its harnesses
  [ -z "${ONLY:-}" ] && return 0
  local h; for h in "$@"; do case " $ONLY " in *" $h "*) return 0 ;; esac; done
  return 1
}
mkdir -p "$C"   # not emptied: crash-* inputs found by the fuzzers stay (README.md)

# ---- smaps / maps / smaps_rollup ------------------------------------------------------------
if want smaps; then
from smaps smaps $F/hostile/proc/*/smaps $F/proc-go/proc/2001/smaps $F/proc-c-shape/proc/1001/smaps \
  $F/proc-go-cgo/proc/2003/smaps $F/cg-v2-pod/proc/5101/smaps
from smaps rollup $F/proc-go/proc/2001/smaps_rollup $F/hostile/proc/*/smaps_rollup
from smaps maps $(find $F -name maps | head -n 4)
printf 'a-b' | seed smaps crash-hex-unterminated          # issue 12: gsm_parse_hex64 read past end
printf '00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nRss:' | seed smaps cut-in-field
for v in 18446744073709551615 18446744073709551616 -1 1234567890123456789012345 0x10; do
  printf '00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nSize: %s kB\nRss: %s kB\nPss: %s kB\n' "$v" "$v" "$v" |
    seed smaps "num-$v"
done
fi

# ---- status, stat, statm, oom_score, syscall, limits ------------------------------------------
if want proc_files; then
for f in status stat statm oom_score oom_score_adj limits; do
  from proc_files "$f" $(find $F -path "*/proc/[0-9]*/$f" | sort | head -n 3)
done
from proc_files syscall $(find $F -path "*/task/*/syscall" | sort | head -n 3)
for v in 18446744073709551615 18446744073709551616 -5 1234567890123456789012345; do
  printf 'Name:\tx\nVmRSS:\t%s kB\nVmHWM:\t%s kB\nThreads:\t%s\n' "$v" "$v" "$v" | seed proc_files "status-num-$v"
  printf '%s %s %s 0 0 0 0\n' "$v" "$v" "$v" | seed proc_files "statm-num-$v"
  printf '1 (x) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %s %s %s\n' "$v" "$v" "$v" | seed proc_files "stat-num-$v"
  printf 'Limit                     Soft Limit           Hard Limit           Units\nMax stack size            %s                  unlimited            bytes\n' "$v" |
    seed proc_files "limits-num-$v"
done
printf '1 (a) b) c) S 0' | seed proc_files stat-parens
fi

# ---- cgroup files and /proc/PID/cgroup ---------------------------------------------------------
if want cgroup_files; then
for f in memory.stat memory.events memory.pressure memory.oom_control memory.max memory.current \
         memory.limit_in_bytes memory.swap.max cgroup; do
  from cgroup_files "$f" $(find $F -name "$f" | sort | head -n 3)
done
for v in 18446744073709551615 18446744073709551616 -1 1234567890123456789012345 max; do
  printf '%s\n' "$v" | seed cgroup_files "one-$v"
  printf 'anon %s\nfile %s\ninactive_file %s\n' "$v" "$v" "$v" | seed cgroup_files "stat-$v"
  printf 'low 0\nhigh %s\nmax %s\noom 0\noom_kill %s\n' "$v" "$v" "$v" | seed cgroup_files "events-$v"
done
printf 'some avg10=100000.00 avg60=0.00 avg300=0.00 total=18446744073709551615\nfull avg10=-1 avg60=nan avg300=1e308 total=0\n' |
  seed cgroup_files psi-edges
printf '0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/cri-containerd-%064d.scope\n' 0 |
  seed cgroup_files proc-cgroup-k8s
printf '12:memory:/docker/%064d\n0::/\n' 0 | seed cgroup_files proc-cgroup-docker
fi

# ---- mountinfo ------------------------------------------------------------------------------
if want mountinfo; then
from mountinfo mountinfo $(find $F -name mountinfo | sort)
printf '36 35 98:0 /mnt\\0401 /mnt/a\\134b rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n' | seed mountinfo escapes
printf '29 1 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n30 1 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n' |
  seed mountinfo cgroups
fi

# ---- host files -------------------------------------------------------------------------------
if want host; then
seed host meminfo < /proc/meminfo
if [ -r /sys/kernel/mm/transparent_hugepage/enabled ]; then seed host thp < /sys/kernel/mm/transparent_hugepage/enabled; fi
printf 'always madvise [never]\n' | seed host thp-never
printf '65530\n' | seed host max_map_count
printf 'MemTotal: 18446744073709551615 kB\nSwapTotal: 1234567890123456789012345 kB\nSwapFree: -1 kB\n' | seed host meminfo-num
fi

# ---- /proc/net/tcp, tcp6 (loopback rows of this machine) -----------------------------------------
if want net_tcp; then
for t in tcp tcp6; do
  awk 'NR == 1 || $2 ~ /^(0100007F|00000000|00000000000000000000000001000000|00000000000000000000000000000000):/' \
    /proc/net/$t | head -n 20 | seed net_tcp "$t"
done
printf '  sl  local_address rem_address   st\n   0: 0100007F:FFFF 00000000:0000 0A 0:0 0 0 0 0 18446744073709551615\n' |
  seed net_tcp tcp-edges
fi

# ---- environ (synthetic: a real environment holds secrets) --------------------------------------
if want environ; then
printf 'PATH=/usr/bin\0GOMEMLIMIT=512MiB\0GOGC=50\0GODEBUG=madvdontneed=1,gctrace=1\0GOMAXPROCS=4\0HOME=/root\0' |
  seed environ go-all
printf 'GOGC=off\0GOMEMLIMIT=off\0GOGC=100\0GOMEMLIMIT' | seed environ dup-unterminated
{ printf 'GODEBUG='; head -c 600 /dev/zero | tr '\0' 'x'; printf '\0GOMEMLIMIT=9223372036854775807B\0'; } |
  seed environ long-value
printf 'GOMEMLIMIT=18446744073709551615\0GOGC=-1\0GOMEMLIMIT=1234567890123456789012345KiB\0' | seed environ numbers
fi

# ---- serve's Accept-Encoding header and gzip (synthetic: what scrapers and hostile clients send) ---
if want http_gzip; then
printf 'gzip' | seed http_gzip prometheus
printf 'gzip, deflate, br;q=0.9, *;q=0.1' | seed http_gzip browser
printf 'GZIP;q=0.000, identity' | seed http_gzip refused
printf 'br;q=1, x-gzip; q=0. , gzip ; q = 0.5 ;level=1,,,' | seed http_gzip params
{ printf 'gzip;q='; head -c 3000 /dev/zero | tr '\0' '0'; printf ',*'; } | seed http_gzip long-weight
fi

# ---- Go executables: .go.buildinfo (fixtures keep only that section) -----------------------------
if want buildinfo modinfo; then
from buildinfo elf $(find $F -path "*/opt/gsmapper-fixtures/*" -type f | sort)
from modinfo modinfo $(find "$B/targets" -maxdepth 1 -name "*.gover" 2>/dev/null | sort | head -n 2)
printf 'path\tx\nmod\tx\t(devel)\t\ndep\ty\tv1.0.0\th1:abc=\n=>\tz\tv2.0.0\th1:def=\nbuild\t"-ldflags"="-s \\"w\\""\n' |
  seed modinfo synthetic
fi

# ---- pclntab: the unit tests' synthetic tables ---------------------------------------------------
if want pclntab; then
if [ -x "$B/tests/unit/unit-tests" ]; then
  mkdir -p "$C/pclntab"
  GSM_FUZZ_SEED_DIR=$PWD/$C/pclntab GSM_TESTS_DIR=$PWD/tests "$B/tests/unit/unit-tests" >/dev/null 2>&1 || true
fi
fi

# ---- Go runtime statistics and the heap profile, from memshape ----------------------------------
if want go_stats pprof; then
ms=$B/targets/memshape
if [ -x "$ms" ]; then
  out=$(mktemp)
  "$ms" -pprof-port 0 -prom -heap-mib 4 -goroutines 8 > "$out" 2>&1 &
  mpid=$!
  for _ in $(seq 1 100); do grep -q '^READY' "$out" && break; sleep 0.05; done
  addr=$(awk '/^PPROF/ { print $2 }' "$out")
  if [ -n "$addr" ]; then
    curl -sf "http://$addr/debug/pprof/heap?debug=1" | seed go_stats pprof-debug1
    curl -sf "http://$addr/debug/pprof/heap?debug=1" | awk '/^# runtime.MemStats/ { on = 1 } on' | seed go_stats pprof-memstats
    curl -sf "http://$addr/debug/vars" | seed go_stats expvar
    curl -sf "http://$addr/metrics" | seed go_stats prometheus
    curl -sf "http://$addr/debug/pprof/heap" | seed pprof heap-gz
    curl -sf "http://$addr/debug/pprof/heap" | gzip -dc | seed pprof heap-raw
  fi
  kill "$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null || true
  rm -f "$out"
fi
printf '# runtime.MemStats\n# HeapAlloc = 18446744073709551615\n# Stack = 1 / 1234567890123456789012345\n# PauseNs = [1 2 3\n' |
  seed go_stats pprof-edges
printf '{"memstats": {"HeapAlloc": 1e400, "StackInuse": -1, "PauseNs": [1, 2, "x"], "NumGC": 18446744073709551616}}' |
  seed go_stats expvar-edges
printf 'go_memstats_heap_alloc_bytes 1.8446744073709552e+19\ngo_gc_duration_seconds{quantile="1"} NaN\ngo_goroutines{a="\\"} 1\n' |
  seed go_stats prom-edges
fi

# ---- sample ring: a few series (ring size byte, then records) -----------------------------------
if want sample_ring; then
printf '\x05\x00\x00\x00\x7f\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05\x00\x00\x00\x06\x00\x00\x00\x07\x00\x00\x00\x00\x00' |
  seed sample_ring small
{ printf '\x01'; for i in $(seq 1 100); do printf '\x00'; done; } | seed sample_ring idle-100
{ printf '\x40'; for i in $(seq 1 70); do printf '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'; printf '\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'; done; } |
  seed sample_ring extremes
fi

# ---- serve's streaming smaps reader: the smaps seeds and a live smaps -------------------------
if want smaps_lean; then
mkdir -p "$C/smaps_lean"
for f in "$C"/smaps/smaps-* "$C"/smaps/maps-* "$C"/smaps/crash-* "$C"/smaps/cut-* "$C"/smaps/num-*; do
  [ -f "$f" ] && cp "$f" "$C/smaps_lean/"
done
seed smaps_lean live-self < /proc/self/smaps
{ printf '00400000-00401000 r-xp 00000000 08:01 1 /'; head -c 9000 /dev/zero | tr '\0' 'p'; printf '\nRss: 4 kB\n'; } |
  seed smaps_lean long-path
fi

# ---- advise --prometheus: query_range responses of a real Prometheus ----------------------------
if want prom_range; then
mkdir -p "$C/prom_range"
if command -v prometheus >/dev/null && [ -x "$B/gsmapper" ]; then
  tmp=$(mktemp -d)
  read -r sp pp < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
  printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gsmapper\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
    "$sp" > "$tmp/prom.yml"
  "$B/gsmapper" serve --listen "127.0.0.1:$sp" --quiet --interval 1 > "$tmp/serve.log" 2>&1 &
  spid=$!
  prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/data" --web.listen-address="127.0.0.1:$pp" \
    > "$tmp/prom.log" 2>&1 &
  ppid_=$!
  sleep 20   # a few scrapes
  q() { # q NAME QUERY [STEP]: one query_range over the last minute
    local now; now=$(date +%s)
    curl -s "http://127.0.0.1:$pp/api/v1/query_range" --data-urlencode "query=$2" --data-urlencode "start=$((now - 60))" \
      --data-urlencode "end=$now" --data-urlencode "step=${3:-2}" | seed prom_range "$1"
  }
  ws=gsmapper_cgroup_working_set_bytes
  q gsmapper "max_over_time($ws[60s])"
  q cadvisor "label_replace(label_replace(label_replace(max_over_time($ws[60s]), \"namespace\", \"default\", \"\", \"\"), \"pod\", \"web-0\", \"\", \"\"), \"container\", \"app\", \"\", \"\")"
  q inf-nan "$ws / 0"
  q negative "-$ws - 1"
  q huge "$ws * 1e300 + 1e308"
  q empty "max_over_time(no_such_series[60s])"
  q error-bad-query "max_over_time($ws"
  q error-too-many-points "$ws" 0.001
  curl -s "http://127.0.0.1:$pp/api/v1/query?query=$ws" | seed prom_range instant-vector
  kill "$ppid_" "$spid" 2>/dev/null; wait "$ppid_" "$spid" 2>/dev/null || true
  rm -rf "$tmp"
fi
printf '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"cgroup":"/a"},"values":[[1e300,"1"],[-1,"2"],[1796527236,"1e400"],[1796527236.5,"18446744073709551616"],[0.001,"NaN"],[1796527236,null],[null,"1"]]}]}}' |
  seed prom_range edges
printf '{"status":"success","data":{"result":[{"metric":{"cgroup":null,"pod":5},"values":[]}]}}' | seed prom_range null-labels
fi

du -sh "$C"; for d in "$C"/*/; do printf '%-14s %3d files %6d KiB\n' "$(basename "$d")" "$(ls "$d" | wc -l)" "$(du -sk "$d" | cut -f1)"; done
