#!/usr/bin/env bash
# explain --cgroup PATH on fixture trees: a whole cgroup with its processes (from cgroup.procs
# of it and its descendants), the reconciliation, the OOM forecast and findings; golden JSON;
# --fail-on; bad paths. UPDATE_GOLDEN=1 rewrites the goldens.
set -u
. "$(dirname "$0")/../lib.sh"
F=$TESTS_DIR/fixtures G=$TESTS_DIR/golden
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
norm() { python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("taken_ms"); json.dump(d,sys.stdout,indent=1,sort_keys=True); print()'; }

cases=(
  "cg-v2-k8s-systemd|/kubepods.slice|cgroup-k8s-kubepods"
  "cg-v2-k8s-systemd|/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod4a3b2c1d_5e6f_4a1b_9c8d_7e6f5a4b3c2d.slice/cri-containerd-0f4b5f3b1c0e8a2d9e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e.scope|cgroup-k8s-container"
  "cg-v2-nested|/workload.slice|cgroup-v2-nested"
  "cg-v2-nested|/workload.slice/app.service|cgroup-v2-nested-app"
  "cg-v2-docker|/sys/fs/cgroup/system.slice/docker-3f8e1c2b7a9d4e5f6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f.scope|cgroup-v2-docker"
  "cg-hybrid|/system.slice/docker-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2.scope|cgroup-hybrid"
  "cg-v1|/process_api/0723faa0def216f536fed327a0f69058/gsm-fx|cgroup-v1"
  "cg-v2-malformed|/workload.slice/app.service|cgroup-v2-malformed"
)
for c in "${cases[@]}"; do
  IFS='|' read -r tree path golden <<<"$c"
  if ! "$GSM" explain --root "$F/$tree" --cgroup "$path" -o json > "$tmp/out.json" 2> "$tmp/err"; then
    fail "cgroup_$golden" "exit $?: $(cat "$tmp/err")"; continue
  fi
  norm < "$tmp/out.json" > "$tmp/norm.json"
  if [ -n "${UPDATE_GOLDEN:-}" ]; then cp "$tmp/norm.json" "$G/$golden.json"; pass "cgroup_$golden (golden written)"; continue; fi
  if diff -u "$G/$golden.json" "$tmp/norm.json" > "$tmp/diff"; then pass "cgroup_$golden"
  else fail "cgroup_$golden" "differs from golden: $(head -c 500 "$tmp/diff")"; fi
  # Invariants that must hold whatever the golden says.
  python3 - "$tmp/out.json" "$golden" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); name = sys.argv[2]
rec = d.get("reconciliation")
if rec is None:
    print(f"SKIP reconcile_adds_up_{name}: this fixture level has no memory.stat (no breakdown)")
elif rec.get("saturated"):
    # a part held at 2^64 - 1 (malformed memory.stat) cannot add up; it must say so
    ok = d["cgroup"]["breakdown"].get("saturated") is True
    print(("PASS" if ok else "FAIL") + f" reconcile_says_saturated_{name}")
else:
    add = sum(i["bytes"] for i in rec["items"] if i["name"] != "file_mapped_by_processes")
    bd = d["cgroup"]["breakdown"]
    # the items add up to usage (or usage + excess when the kernel's stats overcount)
    ok = add == rec["usage_bytes"] + (bd.get("excess_bytes") or 0)
    print(("PASS" if ok else "FAIL") + f" reconcile_adds_up_{name}" + ("" if ok else f": {rec}"))
procs = d["processes"]
# ranked by PSS; a member without smaps by its status VmRSS
pss = [p["pss_bytes"] if p["pss_bytes"] is not None else p["rss_bytes"] for p in procs]
print(("PASS" if pss == sorted(pss, reverse=True) else "FAIL") + f" ranked_by_pss_{name}")
f = d["oom_forecast"]
if procs:
    ok = f["victim_pid"] in [p["pid"] for p in procs if p.get("oom_score_adj", 0) > -1000]
    best = max((p["oom_badness_pages"] for p in procs if p.get("oom_score_adj", 0) > -1000), default=None)
    ok = ok and [p for p in procs if p["pid"] == f["victim_pid"]][0]["oom_badness_pages"] == best
    print(("PASS" if ok else "FAIL") + f" oom_victim_is_worst_{name}" + ("" if ok else f": {f}"))
PY
done

# issue 12, silent drops: a member whose smaps is malformed stays listed (complete false, with the
# reason) and the OOM forecast still picks a victim from its status figures (it is the largest).
"$GSM" explain --root "$F/cg-v2-malformed" --cgroup /workload.slice/app.service -o json > "$tmp/m.json" 2> "$tmp/m.err"
python3 - "$tmp/m.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["pid"]: x for x in d["processes"]}
def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
check("malformed_smaps_member_listed", 7005 in p, f"pids {sorted(p)}")
m = p.get(7005, {})
check("malformed_smaps_member_incomplete", m.get("complete") is False and "smaps" in (m.get("reason") or ""), str(m.get("reason")))
check("malformed_smaps_member_not_gone", d["processes_gone"] == 1, f"processes_gone {d['processes_gone']} (7002 only)")
check("readable_member_complete", p.get(7001, {}).get("complete") is True)
check("victim_from_status", d["oom_forecast"]["victim_pid"] == 7005, str(d["oom_forecast"]))
check("reconciliation_saturated", d["reconciliation"].get("saturated") is True)
PY
check malformed_smaps_member_warned grep -q 'cgroup member 7005: smaps: line 31' "$tmp/m.err"

# The nested fixture records 2 OOM kills: --fail-on critical exits 1, table shows the finding.
"$GSM" explain --root "$F/cg-v2-nested" --cgroup /workload.slice --fail-on critical -o json > /dev/null 2>&1
check fail_on_critical_exits_1 [ $? -eq 1 ]
"$GSM" explain --root "$F/cg-v2-docker" --cgroup /system.slice/docker-3f8e1c2b7a9d4e5f6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f.scope --fail-on critical -o json > "$tmp/d.json" 2>&1; rc=$?
crit=$(json_get "$tmp/d.json" 'sum(1 for f in d["findings"] if f["severity"]=="critical")' 2>/dev/null || echo x)
check fail_on_only_when_reached [ "$rc" -eq "$([ "$crit" = 0 ] && echo 0 || echo 1)" ]
"$GSM" explain --root "$F/cg-v2-nested" --cgroup /workload.slice -o table > "$tmp/t.txt"
check table_has_oom_finding grep -q 'GSM-OOM-KILLS' "$tmp/t.txt"
check table_has_forecast grep -q 'next victim: PID' "$tmp/t.txt"

# Bad input.
"$GSM" explain --root "$F/cg-v2-nested" --cgroup /no/such/cgroup >/dev/null 2>"$tmp/e"; rc=$?
check no_such_cgroup_exit_3 [ $rc -eq 3 ]
check no_such_cgroup_message grep -q '^gsmapper: no cgroup /no/such/cgroup$' "$tmp/e"
"$GSM" explain --root "$F/cg-v2-nested" --cgroup /workload.slice/../etc >/dev/null 2>&1
check dotdot_is_usage_error [ $? -eq 2 ]
"$GSM" explain --cgroup /x 1234 >/dev/null 2>&1
check cgroup_and_pid_is_usage_error [ $? -eq 2 ]
"$GSM" explain --fail-on info 1 >/dev/null 2>&1
check fail_on_info_is_usage_error [ $? -eq 2 ]
