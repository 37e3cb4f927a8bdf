#!/usr/bin/env python3
"""Analysis for tests/scenarios/run.sh: one row per scenario, then PASS/MISS lines for the
issue's targets (issue 5, item 6).

usage: analyze.py RESULTS_DIR NAME...

Per scenario (RESULTS_DIR/NAME/: meta.json, workload.out, watch.jsonl, dump/):
  killed        the workload died of SIGKILL and the cgroup's oom_control oom_kill went up
  leak→kill s   from the workload's "PHASE leak" line to the moment the harness saw it gone
  gsm warn/crit the lead (kill − event time, s) of gsmapper's first firing event of level
                warn (or higher) / critical, of any kind but the after-the-fact ones
                (oom_kill, oom, target_gone, bundle), after the work started
  gsm eta       the same for the first `eta` (time-to-limit) event of level warn or higher:
                the forecast alone, without the Z-score (which the leaks' 30 s flat start
                flatters: a leak that starts with the process gives it no baseline)
  thr           a plain threshold: the first sample with usage_bytes >= 85% of the limit
  z             a pure Z-score of the growth rate of usage_bytes: rate between consecutive
                samples, against a Welford mean/sd of the rates of the previous 180 s (at least
                10 of them; sd floored at 256 KiB/s like gsmapper's), fires when |z| > 3.5;
                no trend
  FA            false alarms: firings of each method in a benign scenario (over its whole
                run), or before the leak started in a leak scenario
  bundle        a `bundle` event, or a bundle directory in the dump dir
Both reference methods use gsmapper's own --emit-samples series of the same run.
"""
import json, os, sys

MIB = 1 << 20
HORIZON = 300.0
Z_BASELINE_MS, Z_MIN, Z_THRESH, Z_FLOOR = 180_000, 10, 3.5, 256 * 1024
AFTER_THE_FACT = {"oom_kill", "oom", "target_gone", "bundle"}
LEVEL = {"info": 1, "warn": 2, "critical": 3}


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    phases = {}
    try:
        for line in open(os.path.join(d, "workload.out")):
            p = line.split()
            if len(p) == 3 and p[0] == "PHASE":
                phases.setdefault(p[1], int(p[2]))
    except OSError:
        pass
    samples, events, bad = [], [], 0
    try:
        for line in open(os.path.join(d, "watch.jsonl")):
            line = line.strip()
            if not line:
                continue
            try:
                o = json.loads(line)
            except ValueError:
                bad += 1
                continue
            s = o.get("schema", "")
            if s.endswith("sample/v1"):
                samples.append(o)
            elif s == "gsmapper.event/v1":
                events.append(o)
    except OSError:
        pass
    # the scenario cgroup itself (watch may also report processes under it)
    cg = meta.get("cgroup")
    cs = [s for s in samples if (s.get("target") or {}).get("type") == "cgroup"
          and (s.get("target") or {}).get("cgroup") in (cg, None)]
    if not cs:
        cs = [s for s in samples if (s.get("target") or {}).get("type") == "cgroup"]
    if not cs:  # run.sh --target pid: the process's samples (usage_bytes: its cgroup's usage)
        cs = [s for s in samples if (s.get("target") or {}).get("type") == "process"]
    cs.sort(key=lambda s: s["time_ms"])
    return meta, phases, cs, events, bad, samples


def threshold_first(samples, limit):
    for s in samples:
        u = s.get("usage_bytes")
        if u is not None and u >= 0.85 * limit:
            return s["time_ms"]
    return None


def zscore_firings(samples):
    """Times (ms) at which |z| > 3.5 starts (one per excursion)."""
    pts = [(s["time_ms"], s["usage_bytes"]) for s in samples if s.get("usage_bytes") is not None]
    rates = []  # (t_ms, bytes/s)
    for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
        if t1 > t0:
            rates.append((t1, (v1 - v0) * 1000.0 / (t1 - t0)))
    out, firing = [], False
    for i, (t, r) in enumerate(rates):
        n = mean = m2 = 0.0
        for tb, rb in rates[:i]:
            if tb >= t - Z_BASELINE_MS:
                n += 1
                dlt = rb - mean
                mean += dlt / n
                m2 += dlt * (rb - mean)
        if n < Z_MIN:
            continue
        sd = max((m2 / (n - 1)) ** 0.5 if n > 1 else 0.0, Z_FLOOR)
        z = (r - mean) / sd
        if abs(z) > Z_THRESH:
            if not firing:
                out.append(t)
            firing = True
        else:
            firing = False
    return out


def fmt(v, nd=0):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:.{nd}f}"


def main():
    d, names = sys.argv[1], sys.argv[2:]
    rows, checks = [], []
    for name in names:
        sd = os.path.join(d, name)
        try:
            meta, phases, samples, events, bad, allsamples = load(sd)
        except (OSError, ValueError) as e:
            rows.append({"name": name, "error": f"no results ({e})"})
            continue
        if "error" in meta:
            rows.append({"name": name, "error": meta["error"]})
            continue
        gsm = meta["sampler"] == "gsmapper"
        cls = meta["class"]
        limit = meta["limit_bytes"]
        killed = meta["oom_killed"]
        kill = meta["kill_ms"] if killed else None
        start = phases.get("start", meta["go_ms"])
        leak = phases.get("leak") if cls != "benign" else None
        end = kill if kill else meta["end_ms"]
        firing = [e for e in events if e.get("state") == "firing"
                  and e.get("kind") not in AFTER_THE_FACT
                  and LEVEL.get(e.get("level"), 0) >= 2 and e["time_ms"] >= start - 1000]
        firing.sort(key=lambda e: e["time_ms"])
        warn = next((e for e in firing if e["time_ms"] <= end), None)
        crit = next((e for e in firing if e["level"] == "critical" and e["time_ms"] <= end), None)
        eta = next((e for e in firing if e["kind"] == "eta" and e["time_ms"] <= end), None)
        thr = threshold_first([s for s in samples if s["time_ms"] <= end], limit)
        zs = [t for t in zscore_firings([s for s in samples if s["time_ms"] <= end])]
        lead = lambda t: (kill - t) / 1000.0 if (kill and t is not None) else None
        if cls == "benign":
            fa_g = len(firing) if gsm else None
            fa_t = 1 if thr is not None else 0
            fa_z = len(zs)
        else:  # alarms before the leak began
            cut = leak or end
            fa_g = len([e for e in firing if e["time_ms"] < cut]) if gsm else None
            fa_t = 1 if (thr is not None and thr < cut) else 0
            fa_z = len([t for t in zs if t < cut])
        z_first = next((t for t in zs if leak is None or t >= leak), None)
        bundle_ev = [e for e in events if e.get("kind") == "bundle"]
        try:
            bundle_dirs = [x for x in os.listdir(os.path.join(sd, "dump")) if not x.startswith(".")]
        except OSError:
            bundle_dirs = []
        us = [s["usage_bytes"] for s in samples if s.get("usage_bytes") is not None]
        an = [s["anon_bytes"] for s in samples if s.get("anon_bytes") is not None]
        fl = [s["file_bytes"] for s in samples if s.get("file_bytes") is not None]
        kinds = sorted({f"{e['kind']}:{e['level']}" for e in firing})
        rows.append({
            "name": name, "class": cls, "killed": killed, "gsm": gsm,
            "leak_to_kill": (kill - leak) / 1000.0 if (kill and leak) else None,
            "goal": meta.get("goal", "-"), "limit_mib": limit // MIB,
            "loops": len([e for e in events if e.get("kind") == "crash_loop" and e.get("state") == "firing"]),
            "kills": len(meta.get("kills_ms") or []),
            "warn": lead(warn["time_ms"]) if warn else None,
            "warn_kind": warn["kind"] if warn else None,
            "crit": lead(crit["time_ms"]) if crit else None,
            "eta": lead(eta["time_ms"]) if eta else None,
            "thr": lead(thr), "z": lead(z_first),
            "fa_g": fa_g, "fa_t": fa_t, "fa_z": fa_z,
            "bundle": bool(bundle_ev or bundle_dirs) if gsm else None,
            "n_samples": len(samples), "bad_lines": bad, "n_events": len(events),
            "max_usage": max(us) if us else None, "max_anon": max(an) if an else None,
            "max_file": max(fl) if fl else None, "kinds": kinds,
            "exit": meta["exit_status"], "oomk": (meta["oom_kill_before"], meta["oom_kill_after"]),
            "watch_rc": meta.get("watch_rc"), "watch_alive": meta.get("watch_alive_at_end"),
        })

    hdr = ["scenario", "killed", "leak→kill s", "gsm warn lead s", "gsm crit lead s", "gsm eta≥warn lead s",
           "85% thr lead s", "z-score lead s", "FA gsm/thr/z", "bundle", "max usage MiB (anon/file)"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join("---" for _ in hdr) + "|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | ERROR: {r['error']} |" + " |" * (len(hdr) - 2))
            continue
        na = lambda v, nd=0: fmt(v, nd) if r["gsm"] else "n/a"
        wl = na(r["warn"]) + (f" ({r['warn_kind']})" if r["warn_kind"] else "")
        lines.append("| " + " | ".join([
            r["name"], fmt(r["killed"]), fmt(r["leak_to_kill"]), wl, na(r["crit"]), na(r["eta"]),
            fmt(r["thr"]), fmt(r["z"]),
            f"{na(r['fa_g'])}/{r['fa_t']}/{r['fa_z']}", na(r["bundle"]),
            f"{fmt(r['max_usage'] / MIB if r['max_usage'] else None)} "
            f"({fmt(r['max_anon'] / MIB if r['max_anon'] else None)}/{fmt(r['max_file'] / MIB if r['max_file'] is not None else None)})",
        ]) + " |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(d, "table.md"), "w") as f:
        f.write(table + "\n")
    for r in rows:
        if "error" not in r:
            print(f"# {r['name']}: samples {r['n_samples']}, events {r['n_events']}, bad lines {r['bad_lines']}, "
                  f"exit {r['exit']}, oom_kill {r['oomk'][0]}->{r['oomk'][1]}, watch rc {r['watch_rc']}"
                  f"{'' if r['watch_alive'] in (True, None) else ' (watch had exited before the end)'}, "
                  f"firing kinds {', '.join(r['kinds']) or 'none'}")

    # ---- targets
    res = []
    def check(name, ok, why):
        if ok is None:
            res.append(f"SKIP {name}: {why}")
        else:
            res.append(f"PASS {name}" if ok else f"MISS {name}: {why}")
    for r in rows:
        if "error" in r:
            res.append(f"MISS {r['name']}_ran: {r['error']}")
            continue
        n = r["name"]
        if r["class"] != "benign":
            check(f"{n}_oom_killed", r["killed"], f"not OOM-killed (exit {r['exit']}, oom_kill {r['oomk'][0]}->{r['oomk'][1]})")
        else:
            check(f"{n}_not_killed", not r["killed"], "the benign workload was OOM-killed")
        if not r["gsm"]:
            continue
        if r["class"] in ("steady", "start") and r["killed"] and r["leak_to_kill"] and r["goal"] not in ("-", "0", None):
            g = float(r["goal"])
            need = min(g * r["leak_to_kill"], HORIZON)
            check(f"{n}_warn_lead", r["warn"] is not None and r["warn"] >= need,
                  f"first warn {fmt(r['warn'])} s before the kill, want >= {need:.0f} s "
                  f"({g * 100:.0f}% of {r['leak_to_kill']:.0f} s, capped at {HORIZON:.0f})")
        if r["class"] != "benign" and r["killed"]:
            # issue 10: a warn before every kill, never later than the 85% threshold's first alert
            check(f"{n}_warn_before_kill", r["warn"] is not None and r["warn"] > 0, "no warn before the kill")
            if r["thr"] is not None:
                check(f"{n}_not_later_than_threshold", r["warn"] is not None and r["warn"] >= r["thr"],
                      f"warn lead {fmt(r['warn'], 1)} s, the 85% threshold's {fmt(r['thr'], 1)} s")
        if r["class"] == "loop":
            check(f"{n}_one_crash_loop_event", r["kills"] >= 3 and r["loops"] == 1,
                  f"{r['kills']} kills, {r['loops']} crash_loop events")
            if n == "heap-2":
                t = r["thr"]
                check(f"{n}_warn_4x_threshold", (r["warn"] is not None and t is not None and r["warn"] >= 4 * t) if t is not None else None,
                      f"warn lead {fmt(r['warn'])} s vs 4 × threshold lead {fmt(t)} s" if t is not None else "the threshold never fired")
        if r["class"] == "benign":
            check(f"{n}_no_false_alarm", r["fa_g"] == 0, f"{r['fa_g']} warn/critical firings ({', '.join(r['kinds'])})")
        if r["killed"]:
            check(f"{n}_bundle", r["bundle"], "no bundle event and no bundle directory after the OOM kill")
    if rows and not rows[0].get("gsm", True):
        res.append("SKIP gsmapper_targets: samples from the builtin sampler (gsmapper watch not used): reference methods only")
    for line in res:
        print(line)
    p = sum(l.startswith("PASS") for l in res)
    m = sum(l.startswith("MISS") for l in res)
    print(f"RESULT: {p} PASS, {m} MISS")
    sys.exit(1 if m else 0)


if __name__ == "__main__":
    main()
