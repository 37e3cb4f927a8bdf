#!/usr/bin/env bash
# Fixture trees captured from real processes on this machine (tests/fixtures/make-fixtures.sh):
# `explain --root TREE PID` must reproduce the golden JSON exactly (minus taken_ms), the totals
# must reconcile with the captured smaps_rollup, and the 20,000-mapping tree must parse.
set -u
. "$(dirname "$0")/../lib.sh"
F=$TESTS_DIR/fixtures G=$TESTS_DIR/golden
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for t in proc-c-shape:1001 proc-go:2001 proc-go-stripped:2002 proc-go-cgo:2003; do
  name=${t%%:*} pid=${t##*:}
  if ! "$GSM" explain --root "$F/$name" "$pid" -o json --mappings --rollup > "$tmp/$name.json" 2> "$tmp/err"; then
    fail "golden_$name" "explain failed: $(cat "$tmp/err")"; continue
  fi
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("taken_ms"); json.dump(d,sys.stdout,indent=1,sort_keys=True); print()' \
    "$tmp/$name.json" > "$tmp/$name.norm"
  if diff -u "$G/$name.json" "$tmp/$name.norm" > "$tmp/diff"; then pass "golden_$name"
  else fail "golden_$name" "differs from $G/$name.json: $(head -c 600 "$tmp/diff")"; fi
  r=$(json_get "$tmp/$name.json" 'd["rollup"]["consistent"] and d["complete"]')
  check "rollup_consistent_$name" [ "$r" = True ]
  # table and folded render the same snapshot without error
  "$GSM" explain --root "$F/$name" "$pid" -o table > "$tmp/t" && grep -q '^total ' "$tmp/t" && pass "table_$name" || fail "table_$name" "no total row"
  "$GSM" explain --root "$F/$name" "$pid" -o folded > "$tmp/f" &&
    python3 - "$tmp/f" "$tmp/$name.json" <<'PY' && pass "folded_$name" || fail "folded_$name" "folded sum differs from total RSS"
import json, sys
tot = sum(int(l.rsplit(" ", 1)[1]) for l in open(sys.argv[1]))
assert all(len(l.rsplit(" ", 1)[0].split(";")) == 3 for l in open(sys.argv[1]))
sys.exit(0 if tot == json.load(open(sys.argv[2]))["totals"]["rss_bytes"] else 1)
PY
done

# USS (issue 17): the total's uss_bytes equals Private_Clean + Private_Dirty summed by this test
# straight from the fixture's smaps text; the folded process frame carries the same number.
for t in proc-c-shape:1001 proc-go:2001; do
  name=${t%%:*} pid=${t##*:}
  python3 - "$F/$name/proc/$pid/smaps" "$tmp/$name.json" <<'PY' && pass "uss_from_smaps_$name" || fail "uss_from_smaps_$name" "uss_bytes differs from the smaps text"
import json, sys
uss = sum(int(l.split()[1]) * 1024 for l in open(sys.argv[1]) if l.startswith(("Private_Clean:", "Private_Dirty:")))
d = json.load(open(sys.argv[2]))
assert uss > 0 and d["totals"]["uss_bytes"] == uss, (uss, d["totals"]["uss_bytes"])
assert sum(c["uss_bytes"] for c in d["classes"]) == uss
PY
  uss=$(json_get "$tmp/$name.json" 'd["totals"]["uss_bytes"]')
  "$GSM" explain --root "$F/$name" "$pid" -o folded | grep -q "\[$pid\] uss_bytes=$uss;" && pass "uss_folded_$name" || fail "uss_folded_$name" "no process frame with uss_bytes=$uss"
  "$GSM" explain --root "$F/$name" "$pid" -o table | grep -q '^CLASS .* USS ' && pass "uss_table_$name" || fail "uss_table_$name" "no USS column"
done
# The allocator named from the mapped libraries: the C fixture maps glibc's libc.so.6.
grep -q '/libc.so.6$' "$F/proc-c-shape/proc/1001/maps" &&
  check allocator_glibc_fixture [ "$(json_get "$tmp/proc-c-shape.json" 'd["target"]["allocator"]')" = glibc ]

# One moment (issue 17): the header's figures (status) come from the same moment as the totals
# (smaps), not from before the Go statistics' HTTP requests. The --go-endpoint here is this
# test's server, which rewrites the fixture's status (VmRSS 4242 kB) when it is asked: the
# output must show the status as it was when smaps was read, i.e. after the request.
mkdir -p "$tmp/moment"; cp -a "$F/proc-go/." "$tmp/moment/"
cat > "$tmp/moment.py" <<'PY'
import http.server, re, subprocess, sys, threading
status = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        t = open(status).read()
        open(status, "w").write(re.sub(r"VmRSS:\s+\d+ kB", "VmRSS:\t    4242 kB", t))
        self.send_response(404); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
r = subprocess.run(sys.argv[2:] + ["--go-endpoint", f"http://127.0.0.1:{srv.server_address[1]}", "--go-endpoint-any"], capture_output=True, text=True)
srv.shutdown()
sys.stdout.write(r.stdout); sys.exit(r.returncode)
PY
before=$(awk '/^VmRSS:/ {print $2}' "$tmp/moment/proc/2001/status")
if python3 "$tmp/moment.py" "$tmp/moment/proc/2001/status" "$GSM" explain --root "$tmp/moment" 2001 -o json > "$tmp/moment.json" 2> "$tmp/err"; then
  got=$(json_get "$tmp/moment.json" 'd["status"]["vm_rss_bytes"]')
  if [ "$got" = $((4242 * 1024)) ] && [ "$before" != 4242 ]; then pass header_and_totals_one_moment
  else fail header_and_totals_one_moment "status.vm_rss_bytes $got: read before the HTTP request (VmRSS was $before kB), not with smaps"; fi
else fail header_and_totals_one_moment "explain failed: $(cat "$tmp/err")"; fi

# Go recognition from the fixture's stand-in exe (only .go.buildinfo kept).
check go_fixture_is_go [ "$(json_get "$tmp/proc-go-stripped.json" 'd["target"]["go"]["version"]')" = go1.19.8 ]
check c_fixture_not_go [ "$(json_get "$tmp/proc-c-shape.json" 'd["target"]["go"]["is_go"]')" = False ]

# 20,000 mappings (stored xz-compressed: the smaps text is ~15 MB).
if command -v xz >/dev/null; then
  mkdir -p "$tmp/mm"; cp -a "$F/proc-manymaps/." "$tmp/mm/"
  for f in "$tmp"/mm/proc/3001/*.xz; do xz -d "$f"; done
  if "$GSM" explain --root "$tmp/mm" 3001 -o json --rollup > "$tmp/mm.json" 2> "$tmp/err"; then
    n=$(json_get "$tmp/mm.json" 'd["totals"]["mappings"]')
    check manymaps_20000 [ "$n" -ge 20000 ]
    check manymaps_rollup [ "$(json_get "$tmp/mm.json" 'd["rollup"]["consistent"]')" = True ]
  else fail manymaps_parse "$(cat "$tmp/err")"; fi
else
  skip manymaps_20000 "xz not installed"
fi
