#!/usr/bin/env bash
# Live: `gsmapper symbolize` agrees with `go tool addr2line` (debug/gosym) on 1,000 random PCs
# inside .text of each Go 1.19 target (plain, -s -w, PIE, cgo), symbolizes a running process
# (PIE load bias from /proc/PID/maps), and reports errors with the documented exit codes.
#
# Go 1.19's addr2line (cmd/internal/objfile/elf.go) only looks for a section named .gopclntab and
# answers "?" for everything in a PIE, whose table is .data.rel.ro.gopclntab: for the PIE we hand
# it a copy with the section renamed. (Its base for function offsets is the runtime.text symbol,
# else the .text section's address; gsmapper, like the runtime, uses pcHeader.textStart. They
# agree on every target here, including cgo, where .text starts with C code 0x100 bytes before
# runtime.text; they would differ on an externally linked binary stripped of its symbols.)
set -u
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$TARGETS_DIR/memshape" ]; then
  skip symbolize_targets "Go targets not built in $TARGETS_DIR (needs golang-go; tests/targets/build-go.sh)"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  skip symbolize_addr2line "go not installed (go tool addr2line is the reference)"; exit 0
fi
tmp=$(mktemp -d)
trap 'stop_target; rm -rf "$tmp"' EXIT
export GOCACHE="$tmp/gocache" HOME="${HOME:-$tmp}" GOFLAGS="" GOPROXY=off

# section_addr BINARY NAME -> "ADDR SIZE" (hex, no 0x)
section_addr() {
  readelf -SW "$1" | awk -v n="$2" '{ for (i = 1; i <= NF; i++) if ($i == n) { print $(i+2), $(i+4); exit } }'
}

for v in memshape memshape-stripped memshape-pie memshape-cgo; do
  bin=$TARGETS_DIR/$v
  [ -x "$bin" ] || { skip "symbolize_addr2line_$v" "$bin not built"; continue; }
  read -r text_addr text_size < <(section_addr "$bin" .text)
  if [ -z "${text_addr:-}" ]; then fail "symbolize_addr2line_$v" "no .text section in $bin"; continue; fi
  ref=$bin
  case $v in
    memshape-pie)
      ref=$tmp/$v.ref
      objcopy --rename-section .data.rel.ro.gopclntab=.gopclntab "$bin" "$ref" 2>"$tmp/err" \
        || { fail "symbolize_addr2line_$v" "objcopy: $(cat "$tmp/err")"; continue; } ;;
  esac
  # 1,000 random PCs in .text (fixed seed per variant) plus the edges of the range.
  python3 - "$text_addr" "$text_size" "$v" > "$tmp/pcs" <<'PY'
import random, sys, zlib
start, size = int(sys.argv[1], 16), int(sys.argv[2], 16)
rng = random.Random(zlib.crc32(sys.argv[3].encode()))
pcs = [rng.randrange(start, start + size) for _ in range(1000)]
pcs += [start - 1, start, start + size - 1, start + size, 0]
print("\n".join("0x%x" % p for p in pcs))
PY
  if ! go tool addr2line "$ref" < "$tmp/pcs" > "$tmp/ref.out" 2>"$tmp/err"; then
    fail "symbolize_addr2line_$v" "go tool addr2line: $(head -c 300 "$tmp/err")"; continue
  fi
  : > "$tmp/gsm.out"
  t0=$(date +%s%N)
  ok=1
  while read -r -a batch; do
    "$GSM" symbolize "$bin" "${batch[@]}" >> "$tmp/gsm.out" 2>"$tmp/err" || { ok=0; break; }
  done < <(xargs -n 200 < "$tmp/pcs")
  t1=$(date +%s%N)
  if [ $ok = 0 ]; then fail "symbolize_addr2line_$v" "gsmapper symbolize failed: $(head -c 300 "$tmp/err")"; continue; fi
  ms=$(( (t1 - t0) / 1000000 ))
  python3 - "$tmp/pcs" "$tmp/ref.out" "$tmp/gsm.out" "$v" "$ms" <<'PY'
import sys
pcs = [l.strip() for l in open(sys.argv[1])]
ref = open(sys.argv[2]).read().split("\n")
gsm = open(sys.argv[3]).read().rstrip("\n").split("\n")
v, ms = sys.argv[4], sys.argv[5]
name = "symbolize_addr2line_" + v
if len(gsm) != len(pcs) or len(ref) < 2 * len(pcs):
    print(f"FAIL {name}: {len(pcs)} PCs, {len(gsm)} gsmapper lines, {len(ref)//2} addr2line answers"); sys.exit()
bad, known = [], 0
for i, pc in enumerate(pcs):
    fn, fl = ref[2 * i], ref[2 * i + 1]
    if fn == "?":                      # addr2line's "unknown"; gsmapper prints addr2line's "?? ??:0"
        want = "?? ??:0"
    else:
        f, _, ln = fl.rpartition(":")
        want = f"{fn} {f or '??'}:{ln}"   # an empty file name is printed as ?? by gsmapper
        known += 1
    addr, _, got = gsm[i].partition(" ")
    if int(addr, 16) != int(pc, 16) or got != want:
        bad.append(f"{pc}: got '{got}' want '{want}'")
n = len(pcs)
if bad:
    print(f"FAIL {name}: {len(bad)}/{n} differ: " + "; ".join(bad[:5]))
else:
    print(f"PASS {name} ({n}/{n} PCs identical, {known} inside functions, {ms} ms for all)")
PY
  # The JSON form says the same thing as the table for the first addresses.
  mapfile -t first < <(head -5 "$tmp/pcs")
  if "$GSM" symbolize -o json "$bin" "${first[@]}" > "$tmp/out.json" 2>"$tmp/err"; then
    python3 - "$tmp/out.json" "$tmp/gsm.out" "$v" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); lines = open(sys.argv[2]).read().split("\n")[:5]; v = sys.argv[3]
ok = d["schema"] == "gsmapper.symbolize/v1" and len(d["symbols"]) == 5
for s, l in zip(d["symbols"], lines):
    t = f'{s["address"]} {s["function"] or "??"} {s["file"] or "??"}:{s["line"]}'
    ok = ok and t == l and (s["function"] is None or int(s["entry"], 16) <= int(s["address"], 16))
print(("PASS" if ok else "FAIL") + f" symbolize_json_{v}" + ("" if ok else f": {d['symbols'][:2]} vs {lines[:2]}"))
PY
  else
    fail "symbolize_json_$v" "$(cat "$tmp/err")"
  fi
done

# A running process: main.main's entry (from the symbol table) and the PCs threads sit at in
# /proc/PID/task/*/syscall (last field), given as run-time addresses.
for v in memshape memshape-pie; do
  bin=$TARGETS_DIR/$v
  [ -x "$bin" ] || continue
  if ! start_target "$bin" -heap-mib 1 -goroutines 1 -stdin-exit; then
    fail "symbolize_pid_$v" "target did not start"; continue
  fi
  entry=$(go tool nm "$bin" | awk '$3 == "main.main" { print $1 }')
  bias=0
  if [ "$v" = memshape-pie ]; then
    base=$(awk -v p="$(readlink -f "$bin")" '$6 == p && $3 == "00000000" { split($1, a, "-"); print a[1]; exit }' "/proc/$TARGET_PID/maps")
    link=$(readelf -lW "$bin" | awk '$1 == "LOAD" && $2 ~ /^0x0+$/ { print $3; exit }')
    bias=$(( 0x$base - link ))
  fi
  addr=$(printf '0x%x' $(( 0x$entry + bias )))
  out=$("$GSM" symbolize "$TARGET_PID" "$addr" 2>&1)
  case $out in
    "$addr main.main "*main.go:*) pass "symbolize_pid_${v}_main" ;;
    *) fail "symbolize_pid_${v}_main" "bias $bias: $out" ;;
  esac
  pcs=$(cat /proc/"$TARGET_PID"/task/*/syscall 2>/dev/null | awk 'NF > 2 { print $NF }' | sort -u)
  if [ -z "$pcs" ]; then
    skip "symbolize_pid_${v}_syscall_pcs" "/proc/PID/task/*/syscall not readable"
  else
    # shellcheck disable=SC2086
    out=$("$GSM" symbolize "$TARGET_PID" $pcs 2>&1)
    if [ -n "$out" ] && ! grep -qv ' runtime[./]\| syscall\.' <<<"$out"; then
      pass "symbolize_pid_${v}_syscall_pcs"
    else
      fail "symbolize_pid_${v}_syscall_pcs" "$(tr '\n' ';' <<<"$out")"
    fi
  fi
  stop_target
done

# Errors: one line, the documented exit codes.
expect_exit() {   # NAME CODE ARGS...
  local n=$1 want=$2; shift 2
  "$GSM" symbolize "$@" > "$tmp/o" 2> "$tmp/e"; local rc=$?
  if [ $rc -eq "$want" ] && [ "$(wc -l < "$tmp/e")" -eq 1 ] && grep -q '^gsmapper: ' "$tmp/e"; then
    pass "$n"
  else
    fail "$n" "exit $rc (want $want), stderr: $(head -c 200 "$tmp/e")"
  fi
}
expect_exit symbolize_err_no_addr 2 "$TARGETS_DIR/memshape"
expect_exit symbolize_err_bad_addr 2 "$TARGETS_DIR/memshape" 0xzz
expect_exit symbolize_err_no_file 3 "$tmp/nonexistent" 0x1
expect_exit symbolize_err_no_pid 3 999999999 0x1
expect_exit symbolize_err_not_go 1 "$(command -v sh)" 0x1
head -c 4096 /dev/urandom > "$tmp/garbage"
expect_exit symbolize_err_garbage 1 "$tmp/garbage" 0x1
head -c 200000 "$TARGETS_DIR/memshape" > "$tmp/truncated"
expect_exit symbolize_err_truncated 1 "$tmp/truncated" 0x401000
# ./NNN is a file even when a process NNN exists (PID 1 always does).
cp "$TARGETS_DIR/memshape" "$tmp/1"
gsm_abs=$(readlink -f "$(command -v "$GSM")")
out=$(cd "$tmp" && "$gsm_abs" symbolize ./1 0x401100 2>&1)
case $out in
  "0x401100 internal/cpu."*) pass symbolize_dot_slash_is_file ;;
  *) fail symbolize_dot_slash_is_file "$out" ;;
esac
