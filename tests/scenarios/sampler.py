#!/usr/bin/env python3
"""Fallback sampler for the scenario harness (tests/scenarios/run.sh --sampler builtin).

Emits the same JSON lines as `gsmapper watch --emit-samples` (schema gsmapper.sample/v1
fields, but schema "scenario.sample/v1" so nobody takes them for gsmapper's) for one v1
memory cgroup, every INTERVAL seconds, until SIGTERM. It lets the harness, the workloads and
the two reference methods (85% threshold, pure Z-score) be exercised when gsmapper watch is
not available; it produces no events.

usage: sampler.py CGROUP_DIR REL_PATH INTERVAL
"""
import json, os, signal, sys, time

cg, rel, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)

def read(name):
    try:
        with open(os.path.join(cg, name)) as f:
            return f.read()
    except OSError:
        return None

def kv(text):
    d = {}
    for line in (text or "").splitlines():
        p = line.split()
        if len(p) == 2:
            try:
                d[p[0]] = int(p[1])
            except ValueError:
                pass
    return d

def rss_of(pids):
    tot = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        tot += int(line.split()[1]) * 1024
        except OSError:
            pass
    return tot

next_t = time.monotonic()
while not stop:
    usage = read("memory.usage_in_bytes")
    if usage is None:
        break
    st = kv(read("memory.stat"))
    oc = kv(read("memory.oom_control"))
    limit = int(read("memory.limit_in_bytes") or 0)
    pids = (read("cgroup.procs") or "").split()
    usage = int(usage)
    anon = st.get("total_rss", 0) + st.get("total_shmem", 0)
    file_ = st.get("total_cache", 0)
    ws = max(0, usage - st.get("total_inactive_file", 0))
    print(json.dumps({
        "schema": "scenario.sample/v1", "time_ms": int(time.time() * 1000),
        "target": {"type": "cgroup", "cgroup": rel},
        "usage_bytes": usage, "unreclaimable_bytes": anon,
        "limit_bytes": limit if 0 < limit < (1 << 62) else None,
        "anon_bytes": anon, "file_bytes": file_, "working_set_bytes": ws,
        "oom_kill": oc.get("oom_kill", 0), "failcnt": int(read("memory.failcnt") or 0),
        "rss_bytes": rss_of(pids), "go_heap_live_bytes": None,
    }), flush=True)
    next_t += interval
    d = next_t - time.monotonic()
    if d > 0:
        time.sleep(d)
    else:
        next_t = time.monotonic()
