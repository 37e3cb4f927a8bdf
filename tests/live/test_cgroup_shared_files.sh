#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller), issue 17 item 7: `explain --cgroup` counts file pages
# shared by several members once. N copies of one C target (tests/targets/grow.c, idle: it waits
# for stdin) run in a child memory cgroup of our own, from private copies of the binary, libc and
# the dynamic loader written from inside that cgroup, so every file page they map is page cache
# charged to it (v1 charges a page to the cgroup of the task that brought it into the cache).
# Then:
#   - file_mapped_by_processes <= the cgroup's page_cache (active + inactive file): the members
#     cannot map more file pages than the cgroup holds;
#   - file_mapped_by_processes ~ the sum of the members' Pss_File from smaps_rollup, read here
#     (the kernel's own proportional split; within 5% or 64 KiB);
#   - each member's uss_bytes ~ Private_Clean + Private_Dirty of its smaps_rollup.
# Set-up checks (mech_*) show the test can fail: the members' summed status RssFile (what
# file_mapped_by_processes used to be) is more than the cgroup's page cache.
set -u
. "$(dirname "$0")/../lib.sh"

V1=/sys/fs/cgroup/memory
N=4
grow=$CTARGETS_DIR/grow
CHECKS="mech_cgroup_setup mech_copies_charged mech_members_running mech_rss_file_overcounts
  explain_cgroup_ok explain_lists_members file_mapped_within_page_cache file_mapped_is_pss_file
  uss_matches_rollup table_has_uss"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a memory cgroup)"
awk '$5 == "'"$V1"'" { for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "cgroup" && ("," $(i+3) ",") ~ /,memory,/) found = 1 }
     END { exit !found }' /proc/self/mountinfo ||
  skip_all "cgroup v1 memory controller not mounted at $V1"
[ -x "$grow" ] || skip_all "target $grow not built"
libc=$(ldd "$grow" | awk '$1 ~ /^libc\.so/ { print $3 }')
ldso=$(ldd "$grow" | awk '$1 ~ /ld-linux/ { print $1 }')
[ -f "$libc" ] && [ -f "$ldso" ] || skip_all "cannot find libc ($libc) or the loader ($ldso) of $grow"

own=$(own_memory_cgroup)
[ -n "$own" ] || skip_all "no memory line in /proc/self/cgroup"
REL=${own%/}/gsm-shared-test-$$
CG=$V1$REL
[ -d "$V1$own" ] || skip_all "own memory cgroup $V1$own not visible (cgroup namespace?)"

tmp=$(mktemp -d)
PIDS=''
cleanup() {
  local p _
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for p in $PIDS; do
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null
  done
  if [ -d "$CG" ]; then
    for _ in $(seq 1 100); do [ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.05; done
    for _ in $(seq 1 20); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
    [ -d "$CG" ] && fail cleanup "could not remove $CG"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! mkdir "$CG" 2> "$tmp/err"; then fail mech_cgroup_setup "mkdir $CG: $(cat "$tmp/err")"; exit 0; fi
pass mech_cgroup_setup

# The copies, written by a shell that joined the cgroup first: their page cache is charged here.
mkdir "$tmp/lib"
sh -c 'echo $$ > "$1/cgroup.procs" && cp "$2" "$5/grow" && cp "$3" "$5/lib/" && cp "$4" "$5/lib/ld.so" &&
       cat "$5/grow" "$5/lib/"* > /dev/null' _ "$CG" "$grow" "$libc" "$ldso" "$tmp" 2> "$tmp/err"
size=$(cat "$tmp/grow" "$tmp/lib/"* | wc -c)
cache=$(awk '$1 == "total_cache" { print $2 }' "$CG/memory.stat")
check mech_copies_charged [ "${cache:-0}" -ge $((size * 9 / 10)) ]
echo "# copies: $size bytes; the cgroup's total_cache: ${cache:-?}"

# N members, each waiting on its stdin (a sleep that outlives the test).
for i in $(seq 1 $N); do
  sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2/lib/ld.so" --library-path "$2/lib" "$2/grow" -w' _ "$CG" "$tmp" \
    < <(exec sleep 60) > "$tmp/out.$i" 2>&1 &
  PIDS="$PIDS $!"
done
ok=1
for p in $PIDS; do
  for _ in $(seq 1 100); do grep -q "$tmp/grow" "/proc/$p/maps" 2>/dev/null && break; sleep 0.05; done
  grep -q "$tmp/lib/ld.so" "/proc/$p/maps" 2>/dev/null || ok=0
done
check mech_members_running [ $ok -eq 1 ]
sleep 0.2

timeout 20 "$GSM" explain --cgroup "$REL" -o json > "$tmp/cg.json" 2> "$tmp/err"; rc=$?
# The kernel's view right after, read here: each member's rollup and status.
for p in $PIDS; do
  awk -v pid="$p" '/^(Pss_File|Private_Clean|Private_Dirty):/ { v[$1] = $2 * 1024 }
       END { print pid, v["Pss_File:"], v["Private_Clean:"] + v["Private_Dirty:"] }' "/proc/$p/smaps_rollup"
done > "$tmp/rollup"
rss_file=0
for p in $PIDS; do rss_file=$((rss_file + $(awk '$1 == "RssFile:" { print $2 * 1024 }' "/proc/$p/status"))); done
if [ $rc -ne 0 ]; then
  fail explain_cgroup_ok "exit $rc: $(head -c 400 "$tmp/err" | tr '\n' ' ')"
  exit 0
fi
pass explain_cgroup_ok
python3 - "$tmp/cg.json" "$tmp/rollup" "$rss_file" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
roll = {int(a): (int(b), int(c)) for a, b, c in (l.split() for l in open(sys.argv[2]))}
rss_file = int(sys.argv[3])
def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
procs = {p["pid"]: p for p in d["processes"]}
check("explain_lists_members", set(roll) <= set(procs) and all(procs[p].get("complete") is True for p in roll),
      f"members {sorted(roll)}, listed {sorted(procs)}")
items = {i["name"]: i["bytes"] for i in d["reconciliation"]["items"]}
fm, pc = items["file_mapped_by_processes"], items["page_cache"]
pss_file = sum(v[0] for p, v in roll.items())
print(f"# file_mapped_by_processes {fm}, page_cache {pc}, sum of Pss_File {pss_file}, sum of RssFile {rss_file}")
check("mech_rss_file_overcounts", rss_file > pc, f"sum of RssFile {rss_file} <= page_cache {pc}: this set-up "
      "cannot tell counting once from counting per process")
check("file_mapped_within_page_cache", fm <= pc, f"{fm} > {pc}")
check("file_mapped_is_pss_file", abs(fm - pss_file) <= max(64 << 10, pss_file // 20), f"{fm} vs {pss_file}")
bad = [(p, procs[p].get("uss_bytes"), v[1]) for p, v in roll.items()
       if p in procs and abs((procs[p].get("uss_bytes") or 0) - v[1]) > max(16 << 10, v[1] // 20)]
check("uss_matches_rollup", not bad, f"(pid, uss_bytes, rollup private) {bad}")
PY
timeout 20 "$GSM" explain --cgroup "$REL" -o table > "$tmp/t.txt" 2>&1
check table_has_uss grep -q ' USS ' "$tmp/t.txt"
