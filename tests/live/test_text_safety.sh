#!/usr/bin/env bash
# Live (issue 12, item 1; docs/text-safety.md): one unprivileged process must not break the
# node's monitoring with the strings it controls. The target `badname` renames itself with
# prctl(PR_SET_NAME, "\xff\xfe\"bad\n") and maps a file whose name holds invalid UTF-8, a
# quote, a newline, ';' and ESC; it runs in a child of our own v1 memory cgroup whose directory
# name is invalid UTF-8 too. Then:
#   - `explain PID -o json --mappings` and `explain --cgroup -o json` parse with Python's strict
#     json (UTF-8 decoding that refuses invalid bytes), and the comm, the status name, the
#     mapping path and the cgroup path equal what Python's decode("utf-8", "replace") makes of
#     the raw bytes read from /proc/PID/stat, status, maps and our own mkdir (independent of
#     gsmapper);
#   - `serve` /metrics passes `promtool check metrics`, and the name and cgroup label values are
#     the replaced strings with the text format's escapes;
#   - `watch` JSON lines (samples and the target_gone event) all parse and name the target;
#     `watch -o text` and `explain -o table` / `-o folded` are valid UTF-8 with no control
#     character but newline (and tab in tables), one line per event.
# The cgroup part needs root and the v1 memory controller (SKIP otherwise).
set -u
. "$(dirname "$0")/../lib.sh"
V1=/sys/fs/cgroup/memory
BAD=$CTARGETS_DIR/badname
CHECKS="text_target_started text_explain_json_strict text_explain_comm text_explain_mapping_path
  text_explain_cgroup_path text_explain_cgroup_json_strict text_explain_table_clean text_folded_clean
  text_serve_promtool text_serve_labels text_watch_json_lines text_watch_gone_event text_watch_text_lines"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
[ -x "$BAD" ] || skip_all "target $BAD not built"

T=$(mktemp -d)
CG= SERVE_PID= WATCH_PID=
cleanup() {
  for p in $SERVE_PID $WATCH_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  stop_target
  if [ -n "$CG" ] && [ -d "$CG" ]; then
    # Move anything left back to our own cgroup, then remove the test cgroup.
    while read -r p; do echo "$p" > "$V1$own/cgroup.procs" 2>/dev/null; done < "$CG/cgroup.procs"
    rmdir "$CG" 2>/dev/null
  fi
  rm -rf "$T"
}
trap cleanup EXIT

# The cgroup: a child of our own v1 memory cgroup named with invalid UTF-8 bytes.
own= REL=
if [ "$(id -u)" -eq 0 ] && [ -d "$V1" ]; then
  while IFS=: read -r _ ctrls path; do
    case ",$ctrls," in *,memory,*) own=$path ;; esac
  done < /proc/self/cgroup
  if [ -n "$own" ] && [ -d "$V1$own" ]; then
    REL=${own%/}/gsm-text-$$-$'\xff\xfe"bad\x01'
    CG=$V1$REL
    mkdir "$CG" 2>/dev/null || { CG=; REL=; }
  fi
fi

if ! start_target "$BAD" "$T"; then
  skip_all "badname did not start"
fi
pass text_target_started
PID=$TARGET_PID
[ -n "$CG" ] && echo "$PID" > "$CG/cgroup.procs"

# Expected strings from the kernel's own bytes, decoded by Python (not by gsmapper).
expect() { python3 - "$PID" "$REL" <<'EOF'
import sys, re
pid, rel = sys.argv[1], sys.argv[2].encode("utf-8", "surrogateescape")
stat = open(f"/proc/{pid}/stat", "rb").read()
comm = stat[stat.index(b"(") + 1:stat.rindex(b")")]
name = next(l[5:].lstrip(b"\t") for l in open(f"/proc/{pid}/status", "rb").read().split(b"\n") if l.startswith(b"Name:"))
path = next(l.split(None, 5)[5] for l in open(f"/proc/{pid}/maps", "rb").read().split(b"\n") if b"/map-" in l)
r = lambda b: b.decode("utf-8", "replace")
print(repr({"comm": r(comm), "name": r(name), "path": r(path), "cgroup": r(rel)}))
EOF
}
expect > "$T/expect" || skip_all "cannot read the target's /proc files"

# strict_json FILE: every byte valid UTF-8, and strict JSON (no raw control characters).
strict_json() { python3 -c 'import json,sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1" 2>/dev/null; }
jcheck() { python3 - "$T/expect" "$1" "$2" <<'EOF'
import ast, json, sys
e = ast.literal_eval(open(sys.argv[1]).read())
d = json.loads(open(sys.argv[2], "rb").read().decode("utf-8"))
sys.exit(0 if eval(sys.argv[3]) else 1)
EOF
}
# clean_text FILE TABS: valid UTF-8, no control character but newline (and tab if TABS=1).
clean_text() { python3 -c '
import sys
s = open(sys.argv[1], "rb").read().decode("utf-8")
bad = [c for c in s if (ord(c) < 32 or 127 <= ord(c) < 160) and c != "\n" and not (c == "\t" and sys.argv[2] == "1")]
sys.exit(1 if bad or not s else 0)' "$1" "$2" 2>/dev/null; }

"$GSM" explain "$PID" -o json --mappings > "$T/explain.json" 2> "$T/explain.err"
check text_explain_json_strict strict_json "$T/explain.json"
check text_explain_comm jcheck "$T/explain.json" 'd["target"]["comm"] == e["comm"]'
check text_explain_mapping_path jcheck "$T/explain.json" 'any(m["path"] == e["path"] for m in d["mappings"])'
if [ -n "$CG" ]; then
  check text_explain_cgroup_path jcheck "$T/explain.json" 'd["cgroup"]["path"] == e["cgroup"]'
  "$GSM" explain --cgroup "$REL" -o json > "$T/cg.json" 2> "$T/cg.err"
  check text_explain_cgroup_json_strict jcheck "$T/cg.json" \
    'd["target"]["cgroup"] == e["cgroup"] and any(p["name"] == e["name"] for p in d["processes"])'
else
  skip text_explain_cgroup_path "no v1 memory cgroup of our own (needs root)"
  skip text_explain_cgroup_json_strict "no v1 memory cgroup of our own (needs root)"
fi
"$GSM" explain "$PID" -o table > "$T/explain.txt" 2>/dev/null
check text_explain_table_clean clean_text "$T/explain.txt" 1
"$GSM" explain "$PID" -o folded > "$T/folded.txt" 2>/dev/null
# Folded: clean, and every line is "frames count" (a name cannot split a line).
check text_folded_clean eval 'clean_text "$T/folded.txt" 0 && ! grep -avqE " [0-9]+$" "$T/folded.txt"'

# serve: /metrics through promtool, and the label values as the text format escapes them.
PROMTOOL=$(command -v promtool 2>/dev/null)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cgarg=(); [ -n "$REL" ] && cgarg=(--cgroup "$REL")
"$GSM" serve --listen "127.0.0.1:$port" --interval 0.5 --quiet "$PID" "${cgarg[@]}" > "$T/serve.out" 2>&1 &
SERVE_PID=$!
got=
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/metrics" -o "$T/metrics.txt" 2>/dev/null &&
     grep -q '^gsmapper_process_threads{' "$T/metrics.txt"; then got=1; break; fi
  sleep 0.1
done
if [ -z "$PROMTOOL" ]; then
  skip text_serve_promtool "no promtool (apt-get install prometheus)"
elif [ -z "$got" ]; then
  fail text_serve_promtool "no /metrics with the target from serve: $(tail -n 3 "$T/serve.out")"
else
  check text_serve_promtool eval '"$PROMTOOL" check metrics < "$T/metrics.txt" > "$T/promtool.out" 2>&1'
fi
labels() { python3 - "$T/expect" "$T/metrics.txt" "$PID" "$REL" <<'EOF'
import ast, sys
e = ast.literal_eval(open(sys.argv[1]).read())
text = open(sys.argv[2], "rb").read().decode("utf-8")
q = lambda s: s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
want = [f'gsmapper_process_threads{{pid="{sys.argv[3]}",name="{q(e["comm"])}"']
if sys.argv[4]:
    want.append(f'gsmapper_cgroup_usage_bytes{{cgroup="{q(e["cgroup"])}"')
sys.exit(0 if all(w in text for w in want) else 1)
EOF
}
if [ -n "$got" ]; then check text_serve_labels labels; else fail text_serve_labels "no /metrics"; fi
kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=

# watch: JSON lines (samples, then the target_gone event when the target exits).
"$GSM" watch "$PID" "${cgarg[@]}" --interval 0.3 --emit-samples --duration 6 > "$T/watch.jsonl" 2> "$T/watch.err" &
WATCH_PID=$!
"$GSM" watch "$PID" --interval 0.3 -o text --duration 6 > "$T/watch.txt" 2> "$T/watchtext.err" &
WATCH2_PID=$!
sleep 2
stop_target
wait "$WATCH_PID" 2>/dev/null; WATCH_PID=
wait "$WATCH2_PID" 2>/dev/null
wlines() { python3 - "$T/expect" "$T/watch.jsonl" "$1" <<'EOF'
import ast, json, sys
e = ast.literal_eval(open(sys.argv[1]).read())
raw = open(sys.argv[2], "rb").read().decode("utf-8")
lines = [json.loads(l) for l in raw.splitlines()]
named = [l for l in lines if (l.get("target") or {}).get("name") == e["comm"]]
if sys.argv[3] == "samples":
    ok = len(named) >= 2
else:
    ok = any(l.get("kind") == "target_gone" for l in named)
sys.exit(0 if ok else 1)
EOF
}
check text_watch_json_lines wlines samples
check text_watch_gone_event wlines gone
# Text: one line per event, the gone event's line names the target as printable text.
check text_watch_text_lines eval 'clean_text "$T/watch.txt" 0 && [ "$(grep -ac "target_gone" "$T/watch.txt")" -eq 1 ] &&
  grep -aq "\\\\x0a\[$PID\]" "$T/watch.txt"'
