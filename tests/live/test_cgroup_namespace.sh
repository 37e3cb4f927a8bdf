#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller, unshare(1)): gsmapper in a cgroup namespace of its
# own. A child memory cgroup gsm-ns-PID/inner is made under ours; a shell moves into it and
# runs `unshare -C`, so its namespace root is inner. From there the kernel prints the test
# shell's memory cgroup as "/../.." (two levels up) and the memory mount's root as "/.." once
# per level of inner (cgroup_show_path()). gsmapper must place both the test shell and itself
# at their real paths (docs/cgroups.md, Cgroup namespaces), as the fixture tests assume.
set -u
. "$(dirname "$0")/../lib.sh"

V1=/sys/fs/cgroup/memory
CHECKS="mech_ns_path_printed mech_mount_root_printed nslive_outer_path nslive_outer_ns_path
  nslive_self_path nslive_self_ns_path"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a memory cgroup, unshare -C)"
command -v unshare >/dev/null 2>&1 || skip_all "no unshare(1)"
own=$(sed -n 's/^[0-9]*:\(.*,\)\{0,1\}memory\(,.*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup)
[ -n "$own" ] || skip_all "no v1 memory line in /proc/self/cgroup"
awk -v mp="$V1" '$5 == mp && $4 == "/" { found = 1 } END { exit !found }' /proc/self/mountinfo ||
  skip_all "cgroup v1 memory hierarchy not mounted at $V1 with root /"
case $own in /..*) skip_all "already outside our cgroup namespace ($own)";; esac
unshare -C true 2>/dev/null || skip_all "unshare -C not permitted here"

base=${own%/}
dir=$V1$base/gsm-ns-$$
tmp=$(mktemp -d)
cleanup() { rmdir "$dir/inner" "$dir" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$dir/inner" || skip_all "cannot create $dir"

outer=$$
GSMABS=$(readlink -f "$GSM")
# The probe runs inside the namespace: what the kernel prints, then gsmapper on both PIDs.
cat > "$tmp/probe.sh" <<EOF
grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/$outer/cgroup | cut -d: -f3- > "$tmp/outer.cg"
awk '\$5 == "$V1" { print \$4 }' /proc/self/mountinfo > "$tmp/mount.root"
"$GSMABS" explain $outer --best-effort -o json > "$tmp/outer.json" 2> "$tmp/outer.err"
"$GSMABS" explain \$\$ --best-effort -o json > "$tmp/self.json" 2> "$tmp/self.err"
EOF
sh -c "echo \$\$ > '$dir/inner/cgroup.procs' && exec unshare -C sh '$tmp/probe.sh'"

# The base path's depth + 2 (gsm-ns-PID, inner) levels above the namespace root.
depth=$(( $(tr -cd / <<<"$base/gsm-ns-$$/inner" | wc -c) ))
want_root=$(printf '/..%.0s' $(seq 1 "$depth"))
check mech_ns_path_printed test "$(cat "$tmp/outer.cg" 2>/dev/null)" = "/../.."
check mech_mount_root_printed test "$(cat "$tmp/mount.root" 2>/dev/null)" = "$want_root"

field() { json_get "$1" "(d.get('cgroup') or {}).get('$2')" 2>/dev/null; }
if [ -s "$tmp/outer.json" ]; then
  got=$(field "$tmp/outer.json" path)
  check nslive_outer_path test "$got" = "${base:-/}"
  check nslive_outer_ns_path test "$(field "$tmp/outer.json" ns_path)" = "/../.."
else
  fail nslive_outer_path "explain $outer in the namespace: $(head -c 300 "$tmp/outer.err" | tr '\n' ' ')"
  fail nslive_outer_ns_path "no output"
fi
if [ -s "$tmp/self.json" ]; then
  check nslive_self_path test "$(field "$tmp/self.json" path)" = "$base/gsm-ns-$$/inner"
  check nslive_self_ns_path test "$(field "$tmp/self.json" ns_path)" = "/"
else
  fail nslive_self_path "explain self in the namespace: $(head -c 300 "$tmp/self.err" | tr '\n' ' ')"
  fail nslive_self_ns_path "no output"
fi
