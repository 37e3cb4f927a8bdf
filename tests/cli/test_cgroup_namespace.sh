#!/usr/bin/env bash
# gsmapper inside a Kubernetes pod, in its own cgroup namespace (docs/cgroups.md, "Cgroup
# namespaces"): /proc/PID/cgroup of another pod reads "0::/../../kubepods-...", and the host's
# cgroupfs is mounted with root "/../../../..". Trees: tests/fixtures/cg-v2-pod (the DaemonSet's
# /host), cg-v2-pod-nohost (no host cgroupfs), cg-v1-pod (v1, private namespace); see their
# READMEs and tests/fixtures/make-cg-pod.py. Two more roots are made here from cg-v2-pod: the
# container's own "/" with the host's cgroupfs at /host/sys/fs/cgroup (proc/self/mountinfo is
# the container's table), and a node where gsmapper's own PID is in no cgroup.procs.
set -u
. "$(dirname "$0")/../lib.sh"
F=$TESTS_DIR/fixtures
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

POD_OTHER=2b7c9d4e-5f60-4a71-8b82-93a4b5c6d7e8
POD_SELF=6f1d2c3b-4a59-4e68-9b7a-8c9d0e1f2a3b
POD_GUAR=7e6d5c4b-3a29-4817-a6b5-c4d3e2f1a0b9
CID_OTHER=b0b09f8e7d6c9f8e7d6c9f8e7d6c9f8e7d6c9f8e7d6c9f8e7d6c9f8e7d6c9f8e
SLICE_OTHER=kubepods-burstable-pod${POD_OTHER//-/_}.slice
SLICE_SELF=kubepods-burstable-pod${POD_SELF//-/_}.slice
NS_ROOT=/kubepods.slice/kubepods-burstable.slice/$SLICE_SELF/cri-containerd-5e1f0a1b2c3d0a1b2c3d0a1b2c3d0a1b2c3d0a1b2c3d0a1b2c3d0a1b2c3d0a1b.scope
OTHER_PATH=/kubepods.slice/kubepods-burstable.slice/$SLICE_OTHER/cri-containerd-$CID_OTHER.scope

# run NAME ROOT PID: explain -o json into $tmp/NAME.json; FAIL when it does not exit 0
run() {
  if "$GSM" explain --root "$2" "$3" -o json > "$tmp/$1.json" 2> "$tmp/$1.err"; then return 0; fi
  fail "ns_$1_runs" "explain --root $2 $3 exited $?: $(head -c 300 "$tmp/$1.err" | tr '\n' ' ')"
  rm -f "$tmp/$1.json"
  return 1
}

run daemonset_other "$F/cg-v2-pod" 5101
run daemonset_guaranteed "$F/cg-v2-pod" 5202
run daemonset_self "$F/cg-v2-pod" 4242
run daemonset_sidecar "$F/cg-v2-pod" 4243
run v1_other "$F/cg-v1-pod" 5101
run nohost_self "$F/cg-v2-pod-nohost" 4242
run nohost_other "$F/cg-v2-pod-nohost" 5101
run nohost_sidecar "$F/cg-v2-pod-nohost" 4243

# The container's own "/" (the brief layout of docs/cgroups.md): runc's cgroupfs at
# /sys/fs/cgroup holds our namespace root, the host's at /host/sys/fs/cgroup; proc/self is ours
# and has no root link leading elsewhere, so proc/self/mountinfo (the container's table) is used.
C=$tmp/container
mkdir -p "$C/proc" "$C/host/sys/fs" "$C/sys/fs"
for p in 4242 4243 5101 5202; do cp -a "$F/cg-v2-pod/proc/$p" "$C/proc/"; done
rm "$C/proc/4242/root"
ln -s 4242 "$C/proc/self"
cp -a "$F/cg-v2-pod/sys/fs/cgroup" "$C/host/sys/fs/cgroup"
cp -a "$F/cg-v2-pod/sys/fs/cgroup$NS_ROOT" "$C/sys/fs/cgroup"
run container_other "$C" 5101
run container_self "$C" 4242

# A node where gsmapper cannot find itself: its namespace root's cgroup.procs does not list it
# (as when it runs without hostPID and its PID means nothing in the node's PID namespace).
N=$tmp/nohostpid
cp -a "$F/cg-v2-pod" "$N"
: > "$N/sys/fs/cgroup$NS_ROOT/cgroup.procs"
run noself_other "$N" 5101

python3 - "$tmp" "$OTHER_PATH" "$NS_ROOT" "$SLICE_OTHER" "$POD_OTHER" "$POD_SELF" "$POD_GUAR" "$CID_OTHER" <<'PY'
import json, os, sys
tmp, OTHER_PATH, NS_ROOT, SLICE_OTHER, POD_OTHER, POD_SELF, POD_GUAR, CID_OTHER = sys.argv[1:]
MiB = 1 << 20
def load(name):
    p = os.path.join(tmp, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
def get(d, path):
    for k in path.split("."):
        d = d[k]
    return d
OTHER_NS = "/../../%s/cri-containerd-%s.scope" % (SLICE_OTHER, CID_OTHER)
E = {
    "daemonset_other": [("path", "cgroup.path", OTHER_PATH),
                        ("ns_path", "cgroup.ns_path", OTHER_NS),
                        ("mount_point", "cgroup.mount_point", "/sys/fs/cgroup"),
                        ("pod_uid", "cgroup.identity.pod_uid", POD_OTHER),
                        ("qos", "cgroup.identity.qos_class", "burstable"),
                        ("runtime", "cgroup.identity.runtime", "containerd"),
                        ("container_id", "cgroup.identity.container_id", CID_OTHER),
                        ("own_limit", "cgroup.limits.max_bytes", 512 * MiB),
                        ("limit", "cgroup.effective_limit.max.bytes", 512 * MiB),
                        ("binding_level", "cgroup.effective_limit.max.level", 0),
                        ("levels_read", "cgroup.effective_limit.levels_read", 5),
                        ("complete", "cgroup.effective_limit.complete", True),
                        ("usage", "cgroup.usage_bytes", 372391936)],
    "daemonset_guaranteed": [("pod_uid", "cgroup.identity.pod_uid", POD_GUAR),
                             ("qos", "cgroup.identity.qos_class", "guaranteed"),
                             ("limit", "cgroup.effective_limit.max.bytes", 1024 * MiB),
                             ("levels_read", "cgroup.effective_limit.levels_read", 4)],
    "daemonset_self": [("path", "cgroup.path", NS_ROOT),
                       ("ns_path", "cgroup.ns_path", "/"),
                       ("pod_uid", "cgroup.identity.pod_uid", POD_SELF),
                       ("limit", "cgroup.effective_limit.max.bytes", 64 * MiB)],
    "daemonset_sidecar": [("pod_uid", "cgroup.identity.pod_uid", POD_SELF),
                          ("limit", "cgroup.effective_limit.max.bytes", 32 * MiB),
                          ("ns_path_one_up", "cgroup.ns_path",
                           "/../cri-containerd-c0ffee1234abcd1234abcd1234abcd1234abcd1234abcd1234abcd1234abcd12.scope")],
    "v1_other": [("version", "cgroup.version", 1),
                 ("path", "cgroup.path", "/kubepods/burstable/pod%s/%s" % (POD_OTHER, CID_OTHER)),
                 ("ns_path", "cgroup.ns_path", "/../../pod%s/%s" % (POD_OTHER, CID_OTHER)),
                 ("mount_point", "cgroup.mount_point", "/sys/fs/cgroup/memory"),
                 ("pod_uid", "cgroup.identity.pod_uid", POD_OTHER),
                 ("qos", "cgroup.identity.qos_class", "burstable"),
                 ("limit", "cgroup.effective_limit.max.bytes", 512 * MiB),
                 ("binding_level", "cgroup.effective_limit.max.level", 0),
                 ("complete", "cgroup.effective_limit.complete", True)],
    "nohost_self": [("path", "cgroup.path", "/"),
                    ("limit", "cgroup.effective_limit.max.bytes", 64 * MiB),
                    ("incomplete", "cgroup.effective_limit.complete", False)],
    "container_other": [("path", "cgroup.path", OTHER_PATH),
                        ("ns_path", "cgroup.ns_path", OTHER_NS),
                        ("mount_point", "cgroup.mount_point", "/host/sys/fs/cgroup"),
                        ("pod_uid", "cgroup.identity.pod_uid", POD_OTHER),
                        ("limit", "cgroup.effective_limit.max.bytes", 512 * MiB),
                        ("complete", "cgroup.effective_limit.complete", True)],
    "container_self": [("path", "cgroup.path", NS_ROOT),
                       ("mount_point", "cgroup.mount_point", "/host/sys/fs/cgroup"),
                       ("pod_uid", "cgroup.identity.pod_uid", POD_SELF)],
}
for name, checks in E.items():
    d = load(name)
    for cname, path, want in checks:
        n = "ns_%s_%s" % (name, cname)
        if d is None:
            print("FAIL %s: no output" % n); continue
        try:
            got = get(d, path)
        except (KeyError, TypeError) as e:
            print("FAIL %s: %s missing (%s; cgroup_unavailable: %r)" % (n, path, e, d.get("cgroup_unavailable"))); continue
        ok = got == want and type(got) is type(want)
        print(("PASS " if ok else "FAIL ") + n + ("" if ok else ": %s = %r, want %r" % (path, got, want)))

# Unreachable: no cgroup section, and a reason that names the cause and the fix.
R = {
    "nohost_other": ["above gsmapper's cgroup namespace root", "mount the host's /sys/fs/cgroup"],
    "nohost_sidecar": ["above gsmapper's cgroup namespace root"],
    "noself_other": ["did not find its own cgroup", "hostPID"],
}
for name, words in R.items():
    d = load(name)
    n = "ns_%s_unreachable" % name
    if d is None:
        print("FAIL %s: no output" % n); continue
    why = d.get("cgroup_unavailable") or ""
    ok = d.get("cgroup") is None and all(w in why for w in words)
    print(("PASS " if ok else "FAIL ") + n + ("" if ok else ": cgroup %r, cgroup_unavailable %r" % (d.get("cgroup"), why)))
# Outside a namespace nothing says ns_path.
d = load("nohost_self")
ok = d is not None and d.get("cgroup") is not None and "ns_path" not in d["cgroup"]
print(("PASS " if ok else "FAIL ") + "ns_nohost_self_no_ns_path")
PY

# The table says where the path came from, and why a cgroup is missing.
if out=$("$GSM" explain --root "$F/cg-v2-pod" 5101 -o table 2>&1); then
  check ns_table_shows_ns_path grep -qF "shown in /proc as /../../$SLICE_OTHER" <<<"$out"
  check ns_table_shows_path grep -qF "CGROUP v2 $OTHER_PATH" <<<"$out"
else
  fail ns_table_runs "explain -o table exited non-zero: $(head -c 300 <<<"$out")"
fi
if out=$("$GSM" explain --root "$F/cg-v2-pod-nohost" 5101 -o table 2>&1); then
  check ns_table_unreachable grep -qF "CGROUP: the process's cgroup lies above gsmapper's cgroup namespace root" <<<"$out"
else
  fail ns_table_unreachable "explain -o table exited non-zero: $(head -c 300 <<<"$out")"
fi

# explain --cgroup takes node paths in the DaemonSet's view, and finds the pod's processes.
if "$GSM" explain --root "$F/cg-v2-pod" --cgroup "/kubepods.slice/kubepods-burstable.slice/$SLICE_OTHER" -o json \
     > "$tmp/cg.json" 2> "$tmp/cg.err"; then
  got=$(json_get "$tmp/cg.json" '(d["cgroup"]["path"], [p["pid"] for p in d["processes"]], d["cgroup"]["effective_limit"]["max"]["bytes"])')
  want="('/kubepods.slice/kubepods-burstable.slice/$SLICE_OTHER', [5101], $((768 << 20)))"
  if [ "$got" = "$want" ]; then pass ns_explain_cgroup_node_path; else fail ns_explain_cgroup_node_path "got $got, want $want"; fi
else
  fail ns_explain_cgroup_node_path "explain --cgroup exited non-zero: $(head -c 300 "$tmp/cg.err" | tr '\n' ' ')"
fi
