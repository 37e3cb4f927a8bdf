#!/usr/bin/env bash
# Live: real Go 1.19 programs (plain, stripped with -s -w, PIE, cgo) are recognised as Go with
# the version `go version -m` reports, and the go-heap class matches the runtime's own
# MemStats: arena RSS ~= HeapInuse + StackInuse + (HeapIdle - HeapReleased) (PRODUCT.md),
# within 2% or 1 MiB.
set -u
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$TARGETS_DIR/memshape" ]; then
  skip go_targets "Go targets not built in $TARGETS_DIR (needs golang-go; tests/targets/build-go.sh)"; exit 0
fi
tmp=$(mktemp -d)
trap 'stop_target; rm -rf "$tmp"' EXIT
for v in memshape memshape-stripped memshape-pie memshape-cgo; do
  bin=$TARGETS_DIR/$v
  if ! start_target "$bin" -heap-mib 64 -goroutines 200 -memstats -stdin-exit; then
    fail "go_${v}_start" "did not start"; continue
  fi
  "$GSM" explain "$TARGET_PID" -o json > "$tmp/out.json" 2>"$tmp/err" || { fail "go_${v}_explain" "$(cat "$tmp/err")"; stop_target; continue; }
  grep '^MEMSTATS ' "$TARGET_OUT" | head -1 | cut -d' ' -f2- > "$tmp/memstats.json"
  want_version=$(head -1 "$bin.gover" | awk '{print $2}')
  python3 - "$tmp/out.json" "$tmp/memstats.json" "$want_version" "$v" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); ms = json.load(open(sys.argv[2])); want, v = sys.argv[3], sys.argv[4]
go = d["target"]["go"]
ok = go["is_go"] and go["version"] == want
print(("PASS" if ok else "FAIL") + f" go_{v}_version" + ("" if ok else f": {go} want {want}"))
cls = {c["class"]: c for c in d["classes"]}
heap = cls.get("go-heap", {}).get("rss_bytes", 0)
expect = ms["HeapInuse"] + ms["StackInuse"] + ms["HeapIdle"] - ms["HeapReleased"]
ok = abs(heap - expect) <= max(expect * 0.02, 1 << 20)
print(("PASS" if ok else "FAIL") + f" go_{v}_heap_matches_memstats" + ("" if ok else f": go-heap rss {heap} vs MemStats {expect}"))
ok = "binary" in cls and "go-runtime" in cls and cls["go-heap"]["mappings"] >= 1
print(("PASS" if ok else "FAIL") + f" go_{v}_classes" + ("" if ok else f": {sorted(cls)}"))
if v == "memshape-cgo":
    ok = "shared-lib" in cls
    print(("PASS" if ok else "FAIL") + f" go_{v}_libc" + ("" if ok else f": {sorted(cls)}"))
PY
  stop_target
done
