#!/usr/bin/env bash
# gsmapper report on fixture trees: inputs (explain file, bundle directory, --diff), exit codes
# and one-line errors, the atomic write (no partial file, a symlink at -o replaced, not followed),
# the page's offline contract (CSP, no URL), the size cap at 20,000 mappings, then the page in
# headless Chromium (tests/browser/check_report.py; skipped with a reason when it is absent).
# Expected figures come from the explain JSON, worked out here, never from the page's own data.
set -u
. "$(dirname "$0")/../lib.sh"
F=$TESTS_DIR/fixtures
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
shots=${GSM_REPORT_SHOTS:-$tmp/shots}; mkdir -p "$shots"

"$GSM" explain --root "$F/proc-go" 2001 -o json --mappings > "$tmp/go.json" 2> "$tmp/err" ||
  { fail report_setup "explain failed: $(cat "$tmp/err")"; exit 1; }

# data_of PAGE: the embedded data object as JSON (for structural checks only)
data_of() {
  python3 - "$1" <<'PY'
import json, re, sys
s = open(sys.argv[1]).read()
m = re.search(r'<script type="application/json" id="gsm-data">(.*?)</script>', s, re.S)
print(json.dumps(json.loads(m.group(1))))
PY
}

# ---- a saved explain file --------------------------------------------------------------------
if "$GSM" report "$tmp/go.json" -o "$tmp/go.html" 2> "$tmp/err"; then pass report_from_file
else fail report_from_file "$(cat "$tmp/err")"; fi
data_of "$tmp/go.html" > "$tmp/go.data"
r=$(python3 - "$tmp/go.data" "$tmp/go.json" <<'PY'
import json, sys
d, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
# the tree's root and every class against sums of the mappings, done here
cls = {}
for m in e["mappings"]:
    cls[m["class"]] = cls.get(m["class"], 0) + m["smaps"]["rss_bytes"]
got = {c["n"]: c["v"][0] for c in d["tree"]["c"]}
want = {k: v for k, v in cls.items() if v > 0}
print("ok" if d["tree"]["v"][0] == sum(cls.values()) == e["totals"]["rss_bytes"] and got == want else "bad %s %s" % (got, want))
PY
)
check report_tree_sums_match_json [ "$r" = ok ]
check report_has_csp grep -q "Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" "$tmp/go.html"
if grep -Eqi 'https?://' "$tmp/go.html"; then fail report_no_urls "$(grep -Eoi '.{20}https?://.{20}' "$tmp/go.html" | head -3)"
else pass report_no_urls; fi
check report_no_external_refs bash -c "! grep -Eqi '<(link|img|iframe|object|embed)[ >]|src=|@import|url\\(' '$tmp/go.html'"

# stdout when not a terminal; the same page
"$GSM" report "$tmp/go.json" > "$tmp/go-stdout.html" 2>/dev/null
check report_to_stdout [ "$(data_of "$tmp/go-stdout.html" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree"]["v"][0])')" = \
  "$(json_get "$tmp/go.json" 'd["totals"]["rss_bytes"]')" ]

# A hostile name cannot end the data's <script> element or inject markup.
python3 - "$tmp/go.json" "$tmp/evil.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["target"]["name"] = "</script><script>document.body.dataset.pwned=1</script><!--"
for m in d["mappings"]:
    if m["smaps"]["rss_bytes"] > 0:
        m["path"] = "/tmp/</script><img src=x onerror=alert(1)>"
        break
json.dump(d, open(sys.argv[2], "w"))
PY
"$GSM" report "$tmp/evil.json" -o "$tmp/evil.html" 2>/dev/null
n=$(grep -o '</script>' "$tmp/evil.html" | wc -l)
check report_escapes_script_end [ "$n" -eq 2 ]   # the data's and the code's own, no more
check report_escapes_title bash -c "grep -q '<title>Memory of &lt;/script&gt;' '$tmp/evil.html'"

# ---- errors: exit codes, one line, no file left ----------------------------------------------
expect_err() {   # NAME CODE ARGS... : exit CODE, one stderr line "gsmapper: ...", no page written
  local name=$1 code=$2; shift 2
  rm -f "$tmp/out.html"
  "$GSM" report "$@" > /dev/null 2> "$tmp/err"; local rc=$?
  local lines; lines=$(wc -l < "$tmp/err")
  if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -q '^gsmapper: ' "$tmp/err" && [ ! -e "$tmp/out.html" ] &&
     [ -z "$(ls -A "$tmp" | grep '^\.out\.html\.tmp')" ]; then pass "$name"
  else fail "$name" "rc=$rc (want $code), $lines lines: $(head -c 300 "$tmp/err")"; fi
}
echo '{"schema":"gsmapper.explain/v1", "target": ' > "$tmp/trunc.json"
echo '{"schema":"gsmapper.sample/v1"}' > "$tmp/other.json"
mkdir -p "$tmp/notbundle"
expect_err report_no_input 2 -o "$tmp/out.html"
expect_err report_no_such_file 3 "$tmp/nope.json" -o "$tmp/out.html"
expect_err report_truncated_json 1 "$tmp/trunc.json" -o "$tmp/out.html"
expect_err report_wrong_schema 1 "$tmp/other.json" -o "$tmp/out.html"
expect_err report_not_a_bundle 1 "$tmp/notbundle" -o "$tmp/out.html"
expect_err report_not_a_file 1 /dev/null -o "$tmp/out.html"
expect_err report_bad_top 2 --top 1 "$tmp/go.json" -o "$tmp/out.html"
expect_err report_json_not_an_output 2 "$tmp/go.json" -o "$tmp/out.json"
expect_err report_diff_needs_two 2 --diff "$tmp/go.json" -o "$tmp/out.html"
expect_err report_unknown_option 2 --bogus "$tmp/go.json" -o "$tmp/out.html"
expect_err report_no_such_pid 3 999999999 -o "$tmp/out.html"
expect_err report_output_dir_missing 1 "$tmp/go.json" -o "$tmp/no/such/dir/out.html"
# the failed write above left nothing in a directory we can look at either
check report_no_temp_left bash -c "! ls -A '$tmp' | grep -q '\\.tmp\\.'"

# -o names a symlink: the link is replaced by the page, its target is untouched
echo victim > "$tmp/victim"; ln -s "$tmp/victim" "$tmp/link.html"
"$GSM" report "$tmp/go.json" -o "$tmp/link.html" 2>/dev/null
check report_symlink_not_followed bash -c "[ \"\$(cat '$tmp/victim')\" = victim ] && [ -f '$tmp/link.html' ] && [ ! -L '$tmp/link.html' ]"

# ---- a bundle: samples with a known shape, the event at sample 45 -------------------------------
B=$tmp/gsmapper-pid-2001-1700000000000; mkdir -p "$B"
cp "$tmp/go.json" "$B/explain.json"
python3 - "$B" <<'PY'
import json, sys
d = sys.argv[1]
t0, target = 1700000000000, {"type": "process", "pid": 2001, "name": "memshape", "start_time_ticks": 97074, "cgroup": "/x", "container": None}
with open(d + "/samples.jsonl", "w") as f:
    for i in range(60):
        s = {"schema": "gsmapper.sample/v1", "time_ms": t0 + i * 1000, "target": target,
             "usage_bytes": 100 << 20 | i << 20, "unreclaimable_bytes": (60 + 2 * i) << 20, "value_bytes": 0,
             "go_adjusted": False, "limit_bytes": 512 << 20, "anon_bytes": (50 + 2 * i) << 20,
             "file_bytes": (40 - (i // 2)) << 20, "working_set_bytes": 90 << 20, "swap_bytes": 0,
             "others_bytes": 5 << 20, "rss_bytes": 100 << 20, "threads": 7, "oom_kill": 0, "failcnt": 0,
             "max_events": 0, "high_events": 0, "pss_bytes": None, "go_heap_goal_bytes": None}
        f.write(json.dumps(s) + "\n")
    # another target's sample: left out of the heat map
    f.write(json.dumps({"schema": "gsmapper.sample/v1", "time_ms": t0, "target": {"type": "cgroup", "cgroup": "/y"},
                        "anon_bytes": 1}) + "\n")
json.dump({"schema": "gsmapper.event/v1", "time_ms": t0 + 45 * 1000 + 300, "level": "critical", "kind": "eta",
           "state": "firing", "message": "memshape[2001] reaches its limit in 40 s", "target": target,
           "value": 1, "threshold": 2, "eta_seconds": 40.0, "evidence": {}, "bundle": None}, open(d + "/event.json", "w"))
open(d + "/summary.txt", "w").write("event: critical eta: memshape[2001] reaches its limit in 40 s\nanon grew most\n")
PY
head -n 60 "$B/samples.jsonl" > "$tmp/samples-one.jsonl"
if "$GSM" report "$B" -o "$tmp/bundle.html" 2> "$tmp/err"; then pass report_from_bundle
else fail report_from_bundle "$(cat "$tmp/err")"; fi
r=$(data_of "$tmp/bundle.html" | python3 -c '
import json, sys
d = json.load(sys.stdin); h = d["heat"]
rows = {r["n"]: r["v"] for r in h["rows"]}
print("ok" if len(h["t"]) == 60 and rows["anon"][45] == (50 + 90) << 20 and "go_heap_goal" not in rows and h["event_ms"] > 0 else "bad %s" % sorted(rows))')
check report_bundle_heat_rows [ "$r" = ok ]
# -o FILE.csv: the heat map's table, checked against the samples written above
if "$GSM" report "$B" -o "$tmp/heat.csv" 2> "$tmp/err"; then
  r=$(python3 - "$tmp/heat.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
ok = (len(rows) == 60 and int(rows[45]["anon_bytes"]) == (50 + 90) << 20 and int(rows[0]["file_bytes"]) == 40 << 20
      and "go_heap_goal_bytes" not in rows[0])   # no sample had it: no column
ev = [i for i, r in enumerate(rows) if r["event"]]
print("ok" if ok and ev == [46] and "reaches its limit" in rows[46]["event"] and int(rows[3]["limit_bytes"]) == 512 << 20
      else "bad %s %s" % (ev, rows[45] if len(rows) > 45 else len(rows)))
PY
)
  check report_csv_heat_table [ "$r" = ok ]
else fail report_csv_heat_table "$(cat "$tmp/err")"; fi
expect_err report_csv_needs_samples 2 "$tmp/go.json" -o "$tmp/out.csv"
# -o FILE.svg: the flame graph alone, well-formed XML, no script end or fetch, the same root total
if "$GSM" report "$tmp/go.json" -o "$tmp/go.svg" 2> "$tmp/err"; then
  r=$(python3 - "$tmp/go.svg" "$tmp/go.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
e = json.load(open(sys.argv[2]))
g = [x for x in root.iter("{http://www.w3.org/2000/svg}g") if x.get("class") == "n"]
ok = root.tag.endswith("svg") and g and float(g[0].get("data-w")) == 1.0
ok = ok and all(x.tag.endswith(("svg", "style", "rect", "text", "g", "title", "script")) for x in root.iter())
print("ok" if ok else "bad")
PY
)
  check report_svg_well_formed [ "$r" = ok ]
  check report_svg_no_urls bash -c "! grep -Eo 'https?://[^\"]*' '$tmp/go.svg' | grep -v '^http://www.w3.org/2000/svg\$' | grep -q ."
else fail report_svg_well_formed "$(cat "$tmp/err")"; fi
# a bundle whose explain failed (samples only) still makes a page
mkdir -p "$tmp/samples-only"; cp "$B/samples.jsonl" "$B/event.json" "$tmp/samples-only/"
"$GSM" report "$tmp/samples-only" -o "$tmp/samples-only.html" 2> "$tmp/err"
check report_bundle_without_explain [ -s "$tmp/samples-only.html" ]

# ---- diff: before has 8 MiB less go-heap and 1 MiB more binary than after ----------------------
python3 - "$tmp/go.json" "$tmp/before.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
heap = max((m for m in d["mappings"] if m["class"] == "go-heap"), key=lambda m: m["smaps"]["rss_bytes"])
heap["smaps"]["rss_bytes"] -= 8 << 20; heap["smaps"]["pss_bytes"] -= 8 << 20
binm = max((m for m in d["mappings"] if m["class"] == "binary"), key=lambda m: m["smaps"]["rss_bytes"])
binm["smaps"]["rss_bytes"] += 1 << 20; binm["smaps"]["pss_bytes"] += 1 << 20
d["target"]["pid"] = 2999   # another run of the same program
json.dump(d, open(sys.argv[2], "w"))
PY
if "$GSM" report --diff "$tmp/before.json" "$tmp/go.json" -o "$tmp/diff.html" 2> "$tmp/err"; then pass report_diff
else fail report_diff "$(cat "$tmp/err")"; fi
r=$(data_of "$tmp/diff.html" | python3 -c '
import json, sys
d = json.load(sys.stdin); t = d["tree"]
proc = t["c"][0] if t["k"] == "g" else t
c = {x["n"]: (x["b"][0], x["v"][0]) for x in proc["c"]}
print("ok" if d["diff"] and c["go-heap"][1] - c["go-heap"][0] == 8 << 20 and c["binary"][0] - c["binary"][1] == 1 << 20 else "bad %s" % c)')
check report_diff_deltas [ "$r" = ok ]

# ---- the size cap: 20,000 mappings ------------------------------------------------------------
if command -v xz >/dev/null; then
  mkdir -p "$tmp/mm"; cp -a "$F/proc-manymaps/." "$tmp/mm/"
  for f in "$tmp"/mm/proc/3001/*.xz; do xz -d "$f"; done
  "$GSM" explain --root "$tmp/mm" 3001 -o json --mappings > "$tmp/mm.json" 2> "$tmp/err"
  if "$GSM" report "$tmp/mm.json" -o "$tmp/mm.html" 2> "$tmp/err"; then
    size=$(stat -c %s "$tmp/mm.html")
    check report_20000_mappings_under_2MiB [ "$size" -le 2097152 ]
    r=$(data_of "$tmp/mm.html" | python3 -c '
import json, sys
d = json.load(sys.stdin); e = json.load(open(sys.argv[1]))
def walk(n, depth=0):
    kids = n.get("c", [])
    assert len(kids) <= 40, (n["n"], len(kids))
    if kids:
        for i in range(4):
            assert sum(k["v"][i] for k in kids) == n["v"][i], (n["n"], i)
    for k in kids: walk(k, depth + 1)
walk(d["tree"])
print("ok" if d["tree"]["v"][0] == e["totals"]["rss_bytes"] and d["strip"]["mappings"] == e["totals"]["mappings"] else "bad")' "$tmp/mm.json")
    check report_20000_capped_sums_exact [ "$r" = ok ]
  else fail report_20000_mappings "$(cat "$tmp/err")"; fi
else
  skip report_20000_mappings "xz not installed"
fi

# ---- in a real browser ------------------------------------------------------------------------
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  skip report_browser "chromium is not installed (scripts/install-deps.sh installs it)"
  exit 0
fi
B_PY=$TESTS_DIR/browser/check_report.py
# browser NAME ARGS...: one scenario; a hang (killed after 120 s) or a crash is a FAIL line too
browser() {
  local name=$1; shift
  timeout 120 python3 "$B_PY" "$@" > "$tmp/b.out" 2>&1; local rc=$?
  grep -E '^(PASS|FAIL|SKIP) ' "$tmp/b.out"
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$tmp/b.out"; then
    fail "browser_$name" "exit $rc: $(tail -n 3 "$tmp/b.out" | tr '\n' ' ')"
  fi
}
browser single single "$tmp/go.html" "$tmp/go.json" "$shots" '^/opt/'
browser diff diff "$tmp/diff.html" "$tmp/before.json" "$tmp/go.json" "$shots"
browser bundle bundle "$tmp/bundle.html" "$tmp/samples-one.jsonl" "$B/event.json" "$shots"
browser nonet nonet "$tmp/go.html"
[ -f "$tmp/go.svg" ] && browser svg svg "$tmp/go.svg" "$tmp/go.json" "$shots" '^/opt/'
[ -f "$tmp/mm.html" ] && mkdir -p "$shots/mm" && browser mm single "$tmp/mm.html" "$tmp/mm.json" "$shots/mm" 'libc' mm
true
