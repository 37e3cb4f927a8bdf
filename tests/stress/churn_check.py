#!/usr/bin/env python3
"""The checks of the PID-churn stress run (tests/stress/pid_churn.sh).

  churn_check.py scrape URL STOPFILE OUTDIR   scrape /metrics until STOPFILE exists
  churn_check.py samples OUTDIR               read watch's JSON lines on stdin
  churn_check.py verify CHURN_LOG OUTDIR                the records above against the churn log

A child of tests/targets/churn is named "churn" (1 thread), then "b", then "k<seq hex>" with
exactly 2 + seq % 3 threads, then "z" (churn.c). So a per-process sample or series is wrong when
  - it is labelled "churn" (churn itself, or a child before its first rename) and has more than
    one thread;
  - it is labelled "k<seq>" and has another thread count;
  - (verify) "k<seq>" is at another PID than the one churn gave seq, or the sample's tick started
    after seq had been reaped (watch samples carry their tick's time).
Every line of every scrape is checked against the text format 0.0.4 (a strict regex); a scrape
that is not HTTP 200 with a parseable body counts as failed. Each mode writes OUTDIR/<mode>.json.
"""
import json, os, re, sys, time, urllib.request

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN)"
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?,?\}})? ({VALUE})(?: -?[0-9]+)?$")
COMMENT = re.compile(rf"^# (?:HELP {NAME} .*|TYPE {NAME} (?:counter|gauge|histogram|summary|untyped))$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
KNAME = re.compile(r"k([0-9a-f]+)")
# cgroup_churn.sh's cgroups: .../gsm-stress-cg-<pid>/c<i> with a limit of (i % 16 + 1) MiB
CGNAME = re.compile(r"/gsm-stress-cg-[0-9]+/c([0-9]+)$")
MAX_BAD = 20


def fingerprint(name, threads, pid):
    """None when the (name, threads) pair can be right, else why not."""
    m = KNAME.fullmatch(name)
    if m:
        want = 2 + int(m.group(1), 16) % 3
        return None if threads == want else f"{name} has {threads} threads, its fingerprint says {want}"
    if name == "churn" and threads != 1:
        return f"pid {pid} labelled churn has {threads} threads, not 1 (a renamed child under its old name)"
    return None


def parse_scrape(text):
    """(series, bad lines): series as (name, labels dict, value)."""
    out, bad = [], []
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("#"):
            if not COMMENT.match(line):
                bad.append(line)
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        labels = dict(LABEL_RE.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out, bad


def scrape(url, stopfile, outdir):
    st = {"scrapes": 0, "failed": 0, "failures": [], "bad_lines": [], "wrong": [], "checked": 0,
          "k_series": 0, "mixed_names": [], "errors_first": None, "errors_last": None, "gone_last": None,
          "bytes_max": 0, "latency_max_s": 0.0}
    recs = open(os.path.join(outdir, "scrape-k.tsv"), "w")
    saved = 0
    next_save = 0
    while not os.path.exists(stopfile):
        t0 = time.time()
        try:
            with urllib.request.urlopen(url, timeout=15) as r:
                body = r.read().decode("utf-8")
                code = r.status
        except Exception as e:  # a refused connection, a timeout, an HTTP error, invalid UTF-8
            st["scrapes"] += 1
            st["failed"] += 1
            if len(st["failures"]) < MAX_BAD:
                st["failures"].append(f"{time.strftime('%H:%M:%S')} {e!r}")
            time.sleep(0.2)
            continue
        t1 = time.time()
        st["scrapes"] += 1
        st["latency_max_s"] = max(st["latency_max_s"], t1 - t0)
        st["bytes_max"] = max(st["bytes_max"], len(body))
        series, bad = parse_scrape(body)
        if code != 200 or bad or not series:
            st["failed"] += 1
            st["bad_lines"].extend(bad[: MAX_BAD - len(st["bad_lines"])])
            if code != 200 and len(st["failures"]) < MAX_BAD:
                st["failures"].append(f"HTTP {code}")
        if t0 >= next_save and saved < 6:   # a few whole scrapes for promtool
            with open(os.path.join(outdir, f"scrape-{saved}.prom"), "w") as f:
                f.write(body)
            saved += 1
            next_save = t0 + 60
        names = {}
        errors = {}
        for name, lab, v in series:
            if name == "gsmapper_errors_total":
                errors[f'{lab.get("tier")}/{lab.get("reason")}'] = v
            elif name == "gsmapper_targets_gone_total":
                st["gone_last"] = (st["gone_last"] or {}) | {lab.get("tier"): v}
            if name == "gsmapper_cgroup_limit_bytes" and CGNAME.search(lab.get("cgroup", "")):
                st["cg_series"] = st.get("cg_series", 0) + 1
                want = (int(CGNAME.search(lab["cgroup"]).group(1)) % 16 + 1) << 20
                if v != want and len(st["wrong"]) < MAX_BAD:
                    st["wrong"].append(f"cgroup {lab['cgroup']}: limit {v:.0f}, it was made with {want}")
            if "pid" not in lab or "name" not in lab:
                continue
            pid = int(lab["pid"])
            prev = names.setdefault(pid, lab["name"])
            if prev != lab["name"] and len(st["mixed_names"]) < MAX_BAD:
                st["mixed_names"].append(f"pid {pid}: {prev} and {lab['name']} in one scrape")
            if name == "gsmapper_process_threads":
                st["checked"] += 1
                why = fingerprint(lab["name"], int(v), pid)
                if why and len(st["wrong"]) < MAX_BAD:
                    st["wrong"].append(why)
                elif why:
                    st["wrong_more"] = st.get("wrong_more", 0) + 1
                m = KNAME.fullmatch(lab["name"])
                if m:
                    st["k_series"] += 1
                    recs.write(f"{int(m.group(1), 16)}\t{pid}\t{int(t0 * 1000)}\n")
        if st["errors_first"] is None:
            st["errors_first"] = errors
        st["errors_last"] = errors
        time.sleep(0.2)
    recs.close()
    json.dump(st, open(os.path.join(outdir, "scrape.json"), "w"), indent=1)


def samples(outdir):
    st = {"lines": 0, "samples": 0, "events": 0, "checked": 0, "k_samples": 0, "wrong": [], "invalid": [],
          "stats": None}
    recs = open(os.path.join(outdir, "samples-k.tsv"), "w")
    for line in sys.stdin:
        st["lines"] += 1
        try:
            o = json.loads(line)
        except ValueError:
            if len(st["invalid"]) < MAX_BAD:
                st["invalid"].append(line[:200])
            continue
        schema = o.get("schema", "")
        if schema == "gsmapper.watch-stats/v1":
            st["stats"] = o
            continue
        tgt = o.get("target") or {}
        if schema == "gsmapper.event/v1":
            st["events"] += 1
        if tgt.get("type") != "process":
            continue
        name, pid = tgt.get("name", ""), tgt.get("pid")
        m = KNAME.fullmatch(name)
        if m:
            recs.write(f"{int(m.group(1), 16)}\t{pid}\t{o.get('time_ms')}\n")
        if schema != "gsmapper.sample/v1":
            continue
        st["samples"] += 1
        st["checked"] += 1
        st["k_samples"] += bool(m)
        why = fingerprint(name, o.get("threads"), pid)
        if why and len(st["wrong"]) < MAX_BAD:
            st["wrong"].append(why)
        elif why:
            st["wrong_more"] = st.get("wrong_more", 0) + 1
    recs.close()
    json.dump(st, open(os.path.join(outdir, "samples.json"), "w"), indent=1)


def verify(churn_log, outdir):
    """Every "k<seq>" record: at seq's PID; for watch samples (their time is the tick's start,
    read after it), seq not reaped before the tick began."""
    from array import array
    pid, fork, reap = array("q"), array("q"), array("q")
    for line in open(churn_log):
        s, p, f, r = map(int, line.split())
        while len(pid) <= s:
            pid.append(-1); fork.append(0); reap.append(0)
        pid[s], fork[s], reap[s] = p, f, r
    st = {"children": sum(1 for p in pid if p >= 0), "checked": 0, "wrong": [], "stale_max_ms": 0}
    for kind in ("scrape", "samples"):
        path = os.path.join(outdir, f"{kind}-k.tsv")
        if not os.path.exists(path):
            continue
        for line in open(path):
            s, p, t = map(int, line.split())
            st["checked"] += 1
            why = None
            if s >= len(pid) or pid[s] < 0:
                why = f"{kind}: k{s:x} at pid {p}: churn has no such child (not reaped?)"
            elif pid[s] != p:
                why = f"{kind}: k{s:x} at pid {p}, churn gave it pid {pid[s]}"
            elif kind == "samples" and reap[s] + 5 < t:
                why = f"{kind}: k{s:x} (pid {p}) sampled at {t}, reaped {t - reap[s]} ms before"
            if kind == "scrape":   # a scrape shows the last tick's render: how old can it be
                st["stale_max_ms"] = max(st["stale_max_ms"], t - reap[s])
            if why and len(st["wrong"]) < MAX_BAD:
                st["wrong"].append(why)
    json.dump(st, open(os.path.join(outdir, "verify.json"), "w"), indent=1)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "scrape":
        scrape(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "samples":
        samples(sys.argv[2])
    elif mode == "verify":
        verify(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: churn_check.py scrape|samples|verify ...")
