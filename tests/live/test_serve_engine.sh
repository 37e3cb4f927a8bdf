#!/usr/bin/env bash
# Live (root, cgroup v1): what `serve` exports is the watch engine's sample of the same tick, and
# nothing is read twice. A process holds memory in a test cgroup; `serve --cgroup --emit-samples`
# prints every sample the engine took; each scrape's gsmapper_cgroup_usage_bytes must equal the
# usage of the sample of the tick it reports (gsmapper_ticks_total), the limit must be the one we
# set, and gsmapper_cgroup_memory_reads_total (every read of a cgroup's memory files in the
# process, counted in the reader) must equal the ticks: one read per tick for the one cgroup,
# also after serve's findings were evaluated (gsmapper_findings_evaluations_total > 0: the
# positive control that the findings pass ran and used the engine's read).
set -u
. "$(dirname "$0")/../lib.sh"
own=$(own_memory_cgroup)
V1=/sys/fs/cgroup/memory
if [ "$(id -u)" -ne 0 ] || [ -z "$own" ] || [ ! -d "$V1$own" ] || [ ! -x "$CTARGETS_DIR/grow" ]; then
  skip serve_engine_sample "needs root, the v1 memory controller with our own cgroup visible, and tests/targets/grow"; exit 0
fi
tmp=$(mktemp -d)
rel=${own%/}/gsm-serve-engine-$$
cg=$V1$rel
SERVE=
cleanup() {
  [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
  stop_target
  if [ -d "$cg" ]; then
    for _ in $(seq 1 100); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.05; done
    rmdir "$cg" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" && echo $((256 << 20)) > "$cg/memory.limit_in_bytes"
# grow: 4 MiB steps every 700 ms up to 64 MiB (11 s: a loaded machine may take seconds to start
# serve), so usage changes between ticks.
start_target "$CTARGETS_DIR/grow" -s 4 -i 700 -m 64 -w || { fail serve_engine_start "grow did not start"; exit 0; }
echo "$TARGET_PID" > "$cg/cgroup.procs"
echo go >&9
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$GSM" serve --listen "127.0.0.1:$port" --cgroup "$rel" --interval 0.2 --quiet --emit-samples --no-go-stats \
  > "$tmp/samples.jsonl" 2> "$tmp/serve.err" &
SERVE=$!
# Scrape until the findings were evaluated at least twice (FINDINGS_EVERY = 15 ticks), at most 30 s.
n=0
for i in $(seq 1 150); do
  if curl -s -m 2 "127.0.0.1:$port/metrics" > "$tmp/m.$n" 2>/dev/null && [ -s "$tmp/m.$n" ]; then
    n=$((n + 1))
    ev=$(awk '/^gsmapper_findings_evaluations_total\{category="cgroup"\}/ {print $2}' "$tmp/m.$((n - 1))")
    [ "${ev:-0}" -ge 2 ] && [ $n -ge 10 ] && break
  fi
  sleep 0.15
done
kill "$SERVE"; wait "$SERVE" 2>/dev/null; SERVE=
python3 - "$tmp" "$n" "$rel" <<'PY'
import json, re, sys
tmp, n, rel = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def check(name, ok, why=""): print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
samples = [json.loads(l) for l in open(f"{tmp}/samples.jsonl") if l.startswith("{")]
samples = [s for s in samples if s.get("schema") == "gsmapper.sample/v1" and s["target"]["cgroup"] == rel]
def metric(text, name, labels=""):
    m = re.search(r"^" + re.escape(name) + r"(\{[^}]*\})? (\S+)$", text, re.M) if not labels else \
        re.search(r"^" + re.escape(name) + r"\{" + labels + r"[^}]*\} (\S+)$", text, re.M)
    return None if not m else float(m.group(m.lastindex))
matched = mismatched = 0
reads_ok = True
why = []
last_eval = 0
usages = set()
for k in range(n):
    t = open(f"{tmp}/m.{k}").read()
    ticks = metric(t, "gsmapper_ticks_total")
    usage = metric(t, "gsmapper_cgroup_usage_bytes", 'cgroup="' + re.escape(rel) + '"')
    limit = metric(t, "gsmapper_cgroup_limit_bytes", 'cgroup="' + re.escape(rel) + '"')
    reads = metric(t, "gsmapper_cgroup_memory_reads_total")
    ev = metric(t, "gsmapper_findings_evaluations_total", 'category="cgroup"')
    if ticks is None or usage is None:
        why.append(f"scrape {k}: no ticks/usage"); mismatched += 1; continue
    i = int(ticks) - 1            # the engine samples the cgroup once per tick, from the first
    if i >= len(samples):
        why.append(f"scrape {k}: tick {ticks} but {len(samples)} samples"); mismatched += 1; continue
    s = samples[i]
    usages.add(usage)
    if s["usage_bytes"] == usage and s["limit_bytes"] == limit == 256 << 20:
        matched += 1
    else:
        mismatched += 1; why.append(f"tick {ticks}: /metrics {usage} {limit} vs sample {s['usage_bytes']} {s['limit_bytes']}")
    if reads != ticks:
        reads_ok = False; why.append(f"tick {ticks}: {reads} cgroup memory reads")
    last_eval = ev or 0
check("serve_engine_metrics_equal_tick_sample", matched >= 10 and mismatched == 0 and len(usages) >= 3,
      f"{matched} matched, {mismatched} not, {len(usages)} distinct usages: {why[:3]}")
check("serve_engine_one_read_per_tick", reads_ok and last_eval >= 2, f"findings evaluated {last_eval}: {why[:3]}")
PY
