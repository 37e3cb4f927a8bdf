#!/usr/bin/env bash
# cgroup fixture trees (tests/fixtures/cg-*, see each README): `explain --root TREE PID -o json`
# must reproduce tests/golden/<tree>.json (or <tree>-<pid>.json for a tree's further processes)
# exactly, minus taken_ms. UPDATE_GOLDEN=1 writes the goldens instead of comparing.
# The per-process files (status, stat, statm, smaps, smaps_rollup, oom_score*, limits, task/) in
# these trees are hand-made from proc-c-shape/1001 with an anonymous region sized to the cgroup's
# anon; only the cgroup files are real or modelled on real hosts.
# Beyond the goldens, the facts each README states (limit, binding level, identity, events) are
# checked directly, so a golden regenerated from a wrong output does not pass unnoticed.
set -u
. "$(dirname "$0")/../lib.sh"
F=$TESTS_DIR/fixtures G=$TESTS_DIR/golden
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# tree:pid:golden-name
CASES="cg-v1:32292:cg-v1 cg-hybrid:1888:cg-hybrid cg-hybrid:1999:cg-hybrid-1999
  cg-v2-docker:2817:cg-v2-docker cg-v2-k8s-systemd:4101:cg-v2-k8s-systemd
  cg-v2-k8s-systemd:4202:cg-v2-k8s-systemd-4202 cg-v2-nested:7001:cg-v2-nested
  cg-v2-hostile:9001:cg-v2-hostile cg-v2-hostile:9002:cg-v2-hostile-9002
  cg-v2-hostile:9003:cg-v2-hostile-9003 cg-v2-hostile:9004:cg-v2-hostile-9004
  cg-v2-pod:5101:cg-v2-pod cg-v2-pod-nohost:5101:cg-v2-pod-nohost cg-v1-pod:5101:cg-v1-pod
  cg-v2-malformed:7001:cg-v2-malformed cg-v2-malformed:7006:cg-v2-malformed-7006"

for c in $CASES; do
  IFS=: read -r tree pid name <<<"$c"
  if [ ! -f "$F/$tree/proc/$pid/status" ]; then fail "golden_$name" "$F/$tree/proc/$pid/status missing"; continue; fi
  if ! "$GSM" explain --root "$F/$tree" "$pid" -o json > "$tmp/$name.json" 2> "$tmp/err"; then
    fail "golden_$name" "explain --root $F/$tree $pid failed: $(head -c 400 "$tmp/err" | tr '\n' ' ')"; continue
  fi
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("taken_ms",None); json.dump(d,sys.stdout,indent=1,sort_keys=True); print()' \
    "$tmp/$name.json" > "$tmp/$name.norm"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    if cp "$tmp/$name.norm" "$G/$name.json"; then pass "golden_$name"; else fail "golden_$name" "could not write $G/$name.json"; fi
  elif [ ! -f "$G/$name.json" ]; then
    fail "golden_$name" "no $G/$name.json (run with UPDATE_GOLDEN=1 and review it)"
  elif diff -u "$G/$name.json" "$tmp/$name.norm" > "$tmp/diff"; then
    pass "golden_$name"
  else
    fail "golden_$name" "differs from $G/$name.json: $(head -c 600 "$tmp/diff" | tr '\n' ' ')"
  fi
done

# The facts the fixture READMEs state, checked on the fresh outputs.
python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
MiB = 1 << 20
def load(name):
    p = os.path.join(tmp, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
def get(d, path):
    for k in path.split("."):
        d = d[int(k)] if isinstance(d, list) else d[k]
    return d
# name: [(check-name, dotted path, expected)]
E = {
    "cg-v1": [("version", "cgroup.version", 1),
              ("limit", "cgroup.effective_limit.max.bytes", 128 * MiB),
              ("binding_level", "cgroup.effective_limit.max.level", 1),
              ("binding_path", "cgroup.effective_limit.max.path", "/process_api/0723faa0def216f536fed327a0f69058/gsm-fx"),
              ("own_limit_none", "cgroup.limits.max_bytes", None),
              ("usage", "cgroup.usage_bytes", 50315264)],
    "cg-hybrid": [("version", "cgroup.version", 1),
                  ("limit", "cgroup.effective_limit.max.bytes", 512 * MiB),
                  ("binding_level", "cgroup.effective_limit.max.level", 0),
                  ("runtime", "cgroup.identity.runtime", "docker"),
                  ("container_id", "cgroup.identity.container_id", "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"),
                  ("not_k8s", "cgroup.identity.kubernetes", False),
                  ("memsw_absent", "cgroup.memsw_usage_bytes", None)],
    "cg-hybrid-1999": [("no_cgroup", "cgroup", None)],
    "cg-v2-docker": [("version", "cgroup.version", 2),
                     ("limit", "cgroup.effective_limit.max.bytes", 256 * MiB),
                     ("binding_level", "cgroup.effective_limit.max.level", 0),
                     ("swap_max", "cgroup.limits.swap_max_bytes", 256 * MiB),
                     ("runtime", "cgroup.identity.runtime", "docker"),
                     ("container_id", "cgroup.identity.container_id", "3f8e1c2b7a9d4e5f6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"),
                     ("events_max", "cgroup.events.max", 12)],
    "cg-v2-k8s-systemd": [("version", "cgroup.version", 2),
                          ("limit", "cgroup.effective_limit.max.bytes", 512 * MiB),
                          ("binding_level_tie", "cgroup.effective_limit.max.level", 0),
                          ("k8s", "cgroup.identity.kubernetes", True),
                          ("pod_uid", "cgroup.identity.pod_uid", "4a3b2c1d-5e6f-4a1b-9c8d-7e6f5a4b3c2d"),
                          ("qos", "cgroup.identity.qos_class", "burstable"),
                          ("runtime", "cgroup.identity.runtime", "containerd"),
                          ("container_id", "cgroup.identity.container_id", "0f4b5f3b1c0e8a2d9e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e")],
    "cg-v2-k8s-systemd-4202": [("limit", "cgroup.effective_limit.max.bytes", 1024 * MiB),
                               ("binding_level", "cgroup.effective_limit.max.level", 0),
                               ("pod_uid", "cgroup.identity.pod_uid", "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
                               ("qos", "cgroup.identity.qos_class", "guaranteed"),
                               ("container_id", "cgroup.identity.container_id", "6b2a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b")],
    "cg-v2-nested": [("max_binding", "cgroup.effective_limit.max.bytes", 256 * MiB),
                     ("max_binding_level", "cgroup.effective_limit.max.level", 1),
                     ("high_binding", "cgroup.effective_limit.high.bytes", 192 * MiB),
                     ("high_binding_level", "cgroup.effective_limit.high.level", 0),
                     ("own_max", "cgroup.limits.max_bytes", 512 * MiB),
                     ("oom_kill", "cgroup.events.oom_kill", 2),
                     ("local_oom_kill", "cgroup.events_local.oom_kill", 2),
                     ("local_max", "cgroup.events_local.max", 0),
                     ("unit", "cgroup.identity.systemd_unit", "app.service")],
    "cg-v2-hostile": [("path_with_colon_space", "cgroup.path", "/odd:name x.scope"),
                      ("bad_current_null", "cgroup.usage_bytes", None),
                      ("empty_max_null", "cgroup.limits.max_bytes", None),
                      ("oom_kill", "cgroup.events.oom_kill", 1)],
    "cg-v2-hostile-9002": [("no_cgroup", "cgroup", None)],
    "cg-v2-hostile-9003": [("no_cgroup", "cgroup", None)],
    "cg-v2-hostile-9004": [("no_cgroup", "cgroup", None)],
    # issue 12: nothing malformed passes silently (tests/fixtures/cg-v2-malformed/README).
    "cg-v2-malformed": [("max_malformed_unknown", "cgroup.effective_limit.max.unknown", True),
                        ("parent_still_binds", "cgroup.effective_limit.max.bytes", 256 * MiB),
                        ("own_max_null", "cgroup.limits.max_bytes", None),
                        ("psi_out_of_range_rejected", "cgroup.pressure", None),
                        ("pagetables_saturated", "cgroup.breakdown.parts.7.bytes", 2**64 - 1),
                        ("breakdown_saturated", "cgroup.breakdown.saturated", True),
                        ("excess_not_wrapped", "cgroup.breakdown.excess_bytes", 0)],
    "cg-v2-malformed-7006": [("no_cgroup", "cgroup", None), ("incomplete", "complete", False),
                             ("missing_says_cgroup", "missing", ["cgroup (malformed /proc/PID/cgroup)"])],
    # Cgroup namespaces (more in test_cgroup_namespace.sh).
    "cg-v2-pod": [("pod_uid", "cgroup.identity.pod_uid", "2b7c9d4e-5f60-4a71-8b82-93a4b5c6d7e8"),
                  ("limit", "cgroup.effective_limit.max.bytes", 512 * MiB)],
    "cg-v2-pod-nohost": [("no_cgroup", "cgroup", None)],
    "cg-v1-pod": [("pod_uid", "cgroup.identity.pod_uid", "2b7c9d4e-5f60-4a71-8b82-93a4b5c6d7e8"),
                  ("limit", "cgroup.effective_limit.max.bytes", 512 * MiB)],
}
for name, checks in E.items():
    d = load(name)
    for cname, path, want in checks:
        n = f"fact_{name}_{cname}"
        if d is None:
            print(f"FAIL {n}: no output (explain failed)"); continue
        try:
            got = get(d, path)
        except (KeyError, TypeError) as e:
            got = None if path == "cgroup" else e
            if got is not None:
                print(f"FAIL {n}: {path} missing ({type(e).__name__}: {e})"); continue
        ok = got == want and type(got) is type(want)
        print(("PASS " if ok else "FAIL ") + n + ("" if ok else f": {path} = {got!r}, want {want!r}"))
    # a process without a cgroup section must say why
    if d is not None and d.get("cgroup") is None:
        n = f"fact_{name}_unavailable_reason"
        r = d.get("cgroup_unavailable")
        print(("PASS " if isinstance(r, str) and r else "FAIL ") + n + ("" if r else ": no cgroup_unavailable reason"))
PY
