#!/usr/bin/env bash
# Live: malloc'd memory is native-heap whatever the allocator (issue 17). tests/targets/allocs.c
# mallocs 64 MiB and writes every page; it runs linked against glibc, jemalloc, tcmalloc
# (gperftools), mimalloc and musl, and with jemalloc, tcmalloc and mimalloc preloaded (LD_PRELOAD)
# into it and into Debian's /usr/bin/python3 (a program nobody here wrote). For each,
# explain must class at least 90% of the 64 MiB (the target's own count, not gsmapper's) as
# native-heap and name the allocator in JSON (target.allocator, the class, the mappings' reason).
# A control: an anonymous mmap of the program's own (tests/targets/shape.c) stays anon-other
# (test_shape.sh). Then a real service from Debian: redis-server (jemalloc) filled with DEBUG
# POPULATE must be mostly native-heap. A missing package is a SKIP with its name.
set -u
. "$(dirname "$0")/../lib.sh"

tmp=$(mktemp -d)
trap 'stop_target; [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null; rm -rf "$tmp"' EXIT
MIB=64

# run_case NAME ALLOCATOR REASON_WORD CMD...: start the target, explain it, check.
run_case() {
  local name=$1 want=$2 word=$3; shift 3
  if ! start_target "$@"; then fail "alloc_$name" "target did not start: $*"; return; fi
  local pid; pid=$(awk '/^READY/ {print $2}' "$TARGET_OUT")
  if ! "$GSM" explain "$pid" -o json --mappings > "$tmp/$name.json" 2> "$tmp/err"; then
    fail "alloc_$name" "explain failed: $(cat "$tmp/err")"; stop_target; return
  fi
  local allocated; allocated=$(awk '/^READY/ {print $3}' "$TARGET_OUT")
  python3 - "$tmp/$name.json" "$allocated" "$want" "$word" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); allocated = int(sys.argv[2]); want, word, name = sys.argv[3:6]
nh = [c for c in d["classes"] if c["class"] == "native-heap"]
rss = nh[0]["rss_bytes"] if nh else 0
why = []
if rss < allocated * 0.9: why.append(f"native-heap {rss >> 20} MiB < 90% of the {allocated >> 20} MiB allocated; classes "
                                     + str([(c["class"], c["rss_bytes"] >> 20) for c in d["classes"]]))
if d["target"].get("allocator") != want: why.append(f"target.allocator {d['target'].get('allocator')!r}, want {want!r}")
if nh and nh[0].get("allocator") != want: why.append(f"class allocator {nh[0].get('allocator')!r}")
big = [m for m in d["mappings"] if m["class"] == "native-heap" and m["smaps"]["rss_bytes"] >= (1 << 20)]
if not big or not all(m.get("allocator") == want and word in m["class_reason"] for m in big):
    why.append("a native-heap mapping without the allocator: " + str([(m["start"], m["class_reason"], m.get("allocator")) for m in big][:3]))
print(("PASS" if not why else "FAIL") + f" alloc_{name}" + ("" if not why else ": " + "; ".join(why)))
PY
  stop_target
}

A=$CTARGETS_DIR/allocs
if [ ! -x "$A" ]; then skip allocators "target $A not built"; exit 0; fi
run_case glibc_brk glibc "glibc" "$A" -m $MIB -b 64
run_case glibc_arenas glibc "glibc" "$A" -m $MIB -b 64 -t 4
for a in jemalloc tcmalloc mimalloc; do
  if [ -x "$A-$a" ]; then run_case "$a" "$a" "$a" "$A-$a" -m $MIB
  else skip "alloc_$a" "allocs-$a not built: install the Debian package (scripts/install-deps.sh) and reconfigure"; fi
done
# gperftools grows with sbrk first ([heap]); TCMALLOC_SKIP_SBRK makes it use mmap.
[ -x "$A-tcmalloc" ] && run_case tcmalloc_mmap tcmalloc tcmalloc env TCMALLOC_SKIP_SBRK=1 "$A-tcmalloc" -m $MIB
[ -x "$A-mimalloc" ] && run_case mimalloc_threads mimalloc mimalloc "$A-mimalloc" -m $MIB -t 4 -b 16
# Preloaded (LD_PRELOAD, as a service's unit or container sets it): into allocs, which links none
# of them, and into a program from Debian, /usr/bin/python3, whose bytearrays of 256 KiB each come
# from malloc (64 MiB of them; glibc would mmap each one separately, above its 128 KiB threshold).
cat > "$tmp/pyalloc.py" <<'PY'
import os, sys
blocks = [bytearray(os.urandom(16)) * 16384 for _ in range(256)]
print("READY", os.getpid(), sum(len(b) for b in blocks), flush=True)
sys.stdin.read()
PY
for lib in libjemalloc.so.2:jemalloc libtcmalloc.so.4:tcmalloc libtcmalloc_minimal.so.4:tcmalloc libmimalloc.so.2:mimalloc; do
  so=${lib%%:*} a=${lib##*:} tag=${so%%.so*}; tag=${tag#lib}
  path=$(ldconfig -p 2>/dev/null | awk -v so="$so" '$1 == so {print $NF; exit}')
  if [ -z "$path" ]; then skip "alloc_${tag}_preloaded" "$so not installed"; continue; fi
  run_case "${tag}_preloaded" "$a" "$a" env LD_PRELOAD="$path" "$A" -m $MIB
  if [ -x /usr/bin/python3 ]; then run_case "python3_${tag}_preloaded" "$a" "$a" env LD_PRELOAD="$path" /usr/bin/python3 "$tmp/pyalloc.py"
  else skip "alloc_python3_${tag}_preloaded" "/usr/bin/python3 not installed"; fi
done
if command -v musl-gcc >/dev/null && musl-gcc -O2 -o "$tmp/allocs-musl" "$TESTS_DIR/targets/allocs.c" -lpthread 2>"$tmp/musl.err"; then
  run_case musl musl musl "$tmp/allocs-musl" -m $MIB -b 64
else skip alloc_musl "musl-gcc (musl-tools) not installed or failed: $(head -c 200 "$tmp/musl.err" 2>/dev/null)"; fi

# A real service: Debian's redis-server links jemalloc.
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  skip alloc_redis "redis-server and redis-tools not installed"; exit 0
fi
if ! ldd "$(command -v redis-server)" | grep -q libjemalloc; then skip alloc_redis "this redis-server does not link jemalloc"; exit 0; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --enable-debug-command yes \
  --dir "$tmp" > "$tmp/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
if ! redis-cli -p "$port" DEBUG POPULATE 300000 key 256 > "$tmp/pop" 2>&1 || ! grep -q OK "$tmp/pop"; then
  fail alloc_redis "DEBUG POPULATE: $(cat "$tmp/pop") $(tail -3 "$tmp/redis.log")"; exit 0
fi
used=$(redis-cli -p "$port" INFO memory | awk -F: '/^used_memory:/ {print $2+0}')
"$GSM" explain "$REDIS_PID" -o json --mappings > "$tmp/redis.json" 2> "$tmp/err" || { fail alloc_redis "explain: $(cat "$tmp/err")"; exit 0; }
python3 - "$tmp/redis.json" "$used" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); used = int(sys.argv[2])
cls = {c["class"]: c for c in d["classes"]}
nh = cls.get("native-heap", {}).get("rss_bytes", 0)
top = max(d["classes"], key=lambda c: c["rss_bytes"])["class"]
ok = d["target"]["allocator"] == "jemalloc" and top == "native-heap" and nh >= 0.9 * used
print(("PASS" if ok else "FAIL") + " alloc_redis_native_heap" + ("" if ok else
      f": allocator {d['target']['allocator']}, largest class {top}, native-heap {nh >> 20} MiB vs redis used_memory {used >> 20} MiB"))
PY
