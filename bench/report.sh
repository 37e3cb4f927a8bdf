#!/usr/bin/env bash
# bench/report.sh: `gsmapper report` on the 20,000-mapping fixture (tests/fixtures/proc-manymaps)
# with a synthetic Go heap profile of 2,000 frames under a 64 MiB go-heap mapping added to the
# explain document: the page's size (limit 2 MiB), the time to make it, and in headless Chromium
# the first paint (goal < 1 s) and a zoom's redraw (goal < 100 ms, median of 9).
# Verdicts are printed; exit 1 when a limit is missed.
set -uo pipefail
cd "$(dirname "$0")/.."
GSM=${GSMAPPER:-build/gsmapper}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rc=0

mkdir -p "$tmp/mm"; cp -a tests/fixtures/proc-manymaps/. "$tmp/mm/"
for f in "$tmp"/mm/proc/3001/*.xz; do xz -d "$f"; done
"$GSM" explain --root "$tmp/mm" 3001 -o json --mappings > "$tmp/mm.json" || exit 1
python3 - "$tmp/mm.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
heap = 64 << 20
d["mappings"].append({"start": "c000000000", "end": "c004000000", "perms": "rw-p", "offset": 0, "dev": "00:00",
    "inode": 0, "path": None, "class": "go-heap", "class_reason": "bench",
    "smaps": {"size_bytes": heap, "rss_bytes": heap, "pss_bytes": heap, "swap_bytes": 0,
              "private_clean_bytes": 0, "private_dirty_bytes": heap}})
stacks = []
for s in range(40):   # 40 stacks x 50 frames = 2,000 frames
    frames = ["pkg%d.fn%d /src/pkg%d/f%d.go:%d" % (s % 7, k, s % 7, k, 10 + k) for k in range(50)]
    stacks.append({"inuse_bytes": (heap // 2) // 40, "inuse_objects": 100, "frames": frames})
d["go_runtime"] = {"heap_profile": {"inuse_bytes": heap // 2, "inuse_objects": 4000, "top_stacks": stacks}}
json.dump(d, open(sys.argv[1], "w"))
PY
t0=$(date +%s%N)
"$GSM" report "$tmp/mm.json" -o "$tmp/mm.html" || exit 1
t1=$(date +%s%N)
size=$(stat -c %s "$tmp/mm.html")
maps=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["mappings"]))' "$tmp/mm.json")
echo "report: $maps mappings + 2000 Go frames -> $size bytes ($((size / 1024)) KiB) in $(((t1 - t0) / 1000000)) ms"
if [ "$size" -le 2097152 ]; then echo "size: ok (<= 2 MiB)"; else echo "size: OVER 2 MiB"; rc=1; fi

if ! command -v chromium >/dev/null 2>&1; then echo "browser: skipped (chromium not installed)"; exit $rc; fi
python3 - "$tmp/mm.html" <<'PY' || rc=1
import os, statistics, sys
sys.path.insert(0, "tests/browser")
from cdp import Browser
with Browser() as b:
    # one page load in a fresh browser (a second tab would be in the background and never paint)
    p = b.open("file://" + os.path.abspath(sys.argv[1]))
    p.wait_for('document.body.dataset.ready === "1"')
    p.wait_for('performance.getEntriesByName("first-contentful-paint").length > 0', timeout=10)
    fp = p.eval('performance.getEntriesByName("first-contentful-paint")[0].startTime')
    zoom = p.eval('''(function(){
      var out = [], flame = document.getElementById("flame");
      for (var i = 0; i < 9; i++) {
        var nodes = flame.querySelectorAll('.node[data-kind="c"], .node[data-kind="m"]');
        var n = nodes[i % nodes.length];
        var t = performance.now();
        n.click(); void flame.offsetHeight;   // the handler redraws synchronously; force layout
        out.push(performance.now() - t);
        document.getElementById("zoom-reset").click();
      }
      return out;
    })()''')
    nodes = p.eval('document.querySelectorAll("#flame .node").length')
    z = statistics.median(zoom)
    print("browser: first contentful paint %s ms after navigation; %d nodes drawn; zoom redraw median %.1f ms (max %.1f)"
          % ("%.0f" % fp if fp else "?", nodes, z, max(zoom)))
    ok = fp is not None and fp < 1000 and z < 100
    print("browser: %s (goals: first paint < 1000 ms, zoom < 100 ms)" % ("ok" if ok else "MISSED"))
    sys.exit(0 if ok else 1)
PY
exit $rc
