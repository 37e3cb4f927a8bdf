#!/usr/bin/env bash
# deploy/: Prometheus rules (promtool check + unit tests), the example Prometheus config, the
# Grafana dashboard (JSON, metric names, PromQL syntax), the Kubernetes DaemonSet and the systemd
# unit. Run from the repository root (tests/run.sh does). promtool comes with Debian's
# `prometheus` package (scripts/install-deps.sh); without it those checks SKIP.
set -uo pipefail
. "${GSM_TESTS_DIR:-tests}/lib.sh"

D=deploy
PROM=$D/prometheus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The metric names the exporter documents (first column of docs/serve.md's table), plus
# gsmapper_finding_active (per-finding gauge: labels id, severity, cgroup; pid when known).
sed -n 's/^| `\(gsmapper_[a-z0-9_]*\)` |.*/\1/p' docs/serve.md | sort -u > "$tmp/known"
echo gsmapper_finding_active >> "$tmp/known"
if [ "$(wc -l < "$tmp/known")" -lt 10 ]; then
  fail deploy_metric_names "could not read the metric table of docs/serve.md"
fi

have_promtool=false
command -v promtool >/dev/null 2>&1 && have_promtool=true

# promtool_check NAME ARGS...: PASS when promtool succeeds, else FAIL with its output.
promtool_check() {
  local n=$1; shift
  if ! $have_promtool; then skip "$n" "promtool not installed (Debian package prometheus)"; return; fi
  local out
  if out=$(promtool "$@" 2>&1); then pass "$n"; else fail "$n" "promtool $*: $(tr '\n' ' ' <<<"$out")"; fi
}

promtool_check deploy_rules_check check rules "$PROM/gsmapper-rules.yml"
promtool_check deploy_rules_unit_tests test rules "$PROM/gsmapper-rules.test.yml"
promtool_check deploy_prometheus_config check config "$PROM/prometheus.yml"

# Every rule names the five alerts and uses only documented metrics.
rules_ok=true why=
for a in GsmapperOOMPredicted GsmapperOOMKilled GsmapperGomemlimitMisconfigured GsmapperNearLimit; do
  grep -q "alert: $a\$" "$PROM/gsmapper-rules.yml" || { rules_ok=false; why+="no alert $a; "; }
done
grep -q 'runbook:' "$PROM/gsmapper-rules.yml" || { rules_ok=false; why+="no runbook annotations; "; }
unknown=$(grep -E '^\s+expr:' "$PROM/gsmapper-rules.yml" | grep -oE 'gsmapper_[a-z0-9_]+' | sort -u |
  grep -vxFf "$tmp/known" | tr '\n' ' ')
[ -z "$unknown" ] || { rules_ok=false; why+="undocumented metrics: $unknown"; }
if $rules_ok; then pass deploy_rules_metrics; else fail deploy_rules_metrics "$why"; fi

# --- Grafana dashboard ------------------------------------------------------------------------
DASH=$D/grafana/gsmapper-dashboard.json
if out=$(python3 - "$DASH" "$tmp/known" "$tmp/exprs" 2>&1 <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
known = set(open(sys.argv[2]).read().split())
errs, exprs = [], []
if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 37:
    errs.append("schemaVersion %r < 37" % d.get("schemaVersion"))
for k in ("title", "uid", "panels", "templating"):
    if k not in d:
        errs.append("no " + k)
vars_ = {v.get("name") for v in d.get("templating", {}).get("list", [])}
for v in ("cgroup", "pod_uid"):
    if v not in vars_:
        errs.append("no templating variable " + v)
ids, n = set(), 0
def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))
for p in walk(d.get("panels", [])):
    if p.get("id") in ids:
        errs.append("duplicate panel id %r" % p.get("id"))
    ids.add(p.get("id"))
    gp = p.get("gridPos", {})
    if not all(isinstance(gp.get(k), int) for k in ("h", "w", "x", "y")):
        errs.append("panel %r: bad gridPos" % p.get("title"))
    if p.get("type") == "row":
        continue
    n += 1
    ts = p.get("targets") or []
    if not ts:
        errs.append("panel %r has no targets" % p.get("title"))
    for t in ts:
        e = t.get("expr", "")
        if "gsmapper_" not in e:
            errs.append("panel %r: expr without a gsmapper metric: %r" % (p.get("title"), e))
        exprs.append(e)
for v in d.get("templating", {}).get("list", []):
    q = v.get("query")
    q = q.get("query", "") if isinstance(q, dict) else (q or "")
    m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", q)
    if m:
        exprs.append(m.group(1))
    elif v.get("type") == "query":
        errs.append("variable %s: unexpected query %r" % (v.get("name"), q))
bad = sorted({m for e in exprs for m in re.findall(r"gsmapper_[a-z0-9_]+", e)} - known)
if bad:
    errs.append("metrics not in docs/serve.md: " + " ".join(bad))
titles = " ".join(p.get("title", "").lower() for p in walk(d.get("panels", [])))
for w in ("usage", "working set", "unreclaimable", "breakdown", "eta", "oom kills", "pressure",
          "processes", "tier", "duration"):
    if w not in titles:
        errs.append("no panel about " + w)
open(sys.argv[3], "w").write("\n".join(exprs) + "\n")
if errs:
    print("; ".join(errs)); sys.exit(1)
print("%d panels, %d expressions" % (n, len(exprs)))
EOF
); then pass deploy_dashboard_json; else fail deploy_dashboard_json "$out"; fi

# The dashboard's PromQL parses: Grafana's variables replaced, each expression becomes a
# recording rule that `promtool check rules` parses.
if ! $have_promtool; then
  skip deploy_dashboard_promql "promtool not installed (Debian package prometheus)"
elif [ ! -s "$tmp/exprs" ]; then
  fail deploy_dashboard_promql "no expressions extracted from $DASH"
else
  python3 - "$tmp/exprs" > "$tmp/dash-rules.yml" <<'EOF'
import json, re, sys
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(l for l in open(sys.argv[1]).read().split("\n") if l.strip()):
    e = re.sub(r"\$__rate_interval|\$__interval", "1m", e)
    e = re.sub(r"\$__range", "1h", e)
    e = re.sub(r"\$\{?\w+\}?", ".*", e)
    print("      - record: dashboard:expr_%d\n        expr: %s" % (i, json.dumps(e)))
EOF
  if out=$(promtool check rules "$tmp/dash-rules.yml" 2>&1); then pass deploy_dashboard_promql
  else fail deploy_dashboard_promql "$(tr '\n' ' ' <<<"$out")"; fi
fi

# --- Kubernetes DaemonSet ----------------------------------------------------------------------
DS=$D/kubernetes/daemonset.yaml
if python3 -c 'import yaml' 2>/dev/null; then
  serve_help=$("$GSM" serve --help 2>&1)
  if out=$(SERVE_HELP=$serve_help python3 - "$DS" 2>&1 <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
errs = []
kinds = {d["kind"]: d for d in docs}
for k in ("Namespace", "ServiceAccount", "DaemonSet"):
    if k not in kinds:
        errs.append("no " + k)
ds = kinds.get("DaemonSet", {})
if ds.get("metadata", {}).get("namespace") != "gsmapper":
    errs.append("DaemonSet not in namespace gsmapper")
spec = ds.get("spec", {}).get("template", {}).get("spec", {})
if spec.get("hostPID") is not True:
    errs.append("hostPID is not true")
if spec.get("serviceAccountName") != kinds.get("ServiceAccount", {}).get("metadata", {}).get("name"):
    errs.append("serviceAccountName does not name the ServiceAccount")
cs = spec.get("containers", [])
if len(cs) != 1:
    errs.append("expected one container")
c = cs[0] if cs else {}
sc = c.get("securityContext", {})
caps = sc.get("capabilities", {})
if sorted(caps.get("add", [])) != ["DAC_READ_SEARCH", "SYS_PTRACE"]:
    errs.append("capabilities.add is %r, want exactly SYS_PTRACE and DAC_READ_SEARCH" % caps.get("add"))
if caps.get("drop") != ["ALL"]:
    errs.append("capabilities.drop is %r, want [ALL]" % caps.get("drop"))
want = {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}
for k, v in want.items():
    if sc.get(k) is not v:
        errs.append("securityContext.%s is not %s" % (k, v))
uid = sc.get("runAsUser", spec.get("securityContext", {}).get("runAsUser"))
if not isinstance(uid, int) or uid == 0:
    errs.append("no fixed non-zero runAsUser")
if (sc.get("seccompProfile") or spec.get("securityContext", {}).get("seccompProfile") or {}).get("type") != "RuntimeDefault":
    errs.append("seccompProfile is not RuntimeDefault")
if sc.get("privileged"):
    errs.append("privileged")
args = c.get("args", [])
a = " ".join(args)
for w in ("serve", "--listen 0.0.0.0:9731", "--root /host", "--dump-dir ", "--read-env"):
    if w not in a:
        errs.append("args lack %r" % w)
# Every option the manifest passes is one `gsmapper serve --help` documents (a typo would
# make the pod crash-loop with exit 2).
import os, re
known = set(re.findall(r"(--[a-z][a-z-]*)", os.environ.get("SERVE_HELP", "")))
for x in args:
    if x.startswith("--") and x not in known:
        errs.append("serve does not know the option %r" % x)
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in spec.get("volumes", [])}
for mp, hp in (("/host/proc", "/proc"), ("/host/sys/fs/cgroup", "/sys/fs/cgroup")):
    m = mounts.get(mp)
    if not m or m.get("readOnly") is not True:
        errs.append("%s not mounted read-only" % mp)
    elif vols.get(m["name"], {}).get("hostPath", {}).get("path") != hp:
        errs.append("%s is not hostPath %s" % (mp, hp))
dump = args[args.index("--dump-dir") + 1] if "--dump-dir" in args[:-1] else None
if dump not in mounts:
    errs.append("--dump-dir %r is not a mounted volume" % dump)
for m in mounts.values():
    hp = vols.get(m["name"], {}).get("hostPath")
    if hp and m.get("readOnly") is not True:
        errs.append("hostPath %s mounted writable" % hp.get("path"))
r = c.get("resources", {})
for k in ("requests", "limits"):
    if not all(x in r.get(k, {}) for x in ("cpu", "memory")):
        errs.append("resources.%s lacks cpu or memory" % k)
for p in ("livenessProbe", "readinessProbe"):
    if c.get(p, {}).get("httpGet", {}).get("path") != "/healthz":
        errs.append(p + " is not GET /healthz")
ann = ds.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations", {})
if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != "9731":
    errs.append("no Prometheus scrape annotations")
if errs:
    print("; ".join(errs)); sys.exit(1)
EOF
  ); then pass deploy_daemonset; else fail deploy_daemonset "$out"; fi
else
  # No PyYAML: the same essentials by text (one capability per list item, as written).
  caps=$(sed -n '/capabilities:/,/resources:/p' "$DS" | sed -n '/add:/,/^ *[a-z]*:$/p' |
    grep -oE '^\s*- [A-Z_]+' | awk '{print $2}' | sort | tr '\n' ' ')
  ok=true why=
  [ "$caps" = "DAC_READ_SEARCH SYS_PTRACE " ] || { ok=false; why+="capabilities.add: $caps; "; }
  for s in 'hostPID: true' 'runAsNonRoot: true' 'readOnlyRootFilesystem: true' \
           'allowPrivilegeEscalation: false' '- ALL' 'type: RuntimeDefault' '0.0.0.0:9731' \
           'mountPath: /host/proc' 'mountPath: /host/sys/fs/cgroup' 'path: /healthz' \
           'kind: DaemonSet' 'kind: ServiceAccount' 'prometheus.io/scrape: "true"'; do
    grep -qF -- "$s" "$DS" || { ok=false; why+="no '$s'; "; }
  done
  [ "$(grep -c 'readOnly: true' "$DS")" -ge 2 ] || { ok=false; why+="host mounts not read-only; "; }
  if $ok; then pass deploy_daemonset_text; else fail deploy_daemonset_text "$why"; fi
  skip deploy_daemonset "python3-yaml not installed: checked by text only"
fi

# --- systemd unit -------------------------------------------------------------------------------
UNIT=$D/systemd/gsmapper.service
ok=true why=
for s in 'NoNewPrivileges=yes' 'AmbientCapabilities=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' \
         'CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' 'ProtectSystem=strict' \
         'ProtectControlGroups=yes' 'SystemCallFilter=@system-service' 'StateDirectory=gsmapper' \
         'MemoryMax=' 'CPUQuota=' 'Restart=on-failure'; do
  grep -qxF -- "$s" "$UNIT" || grep -qx -- "${s}.*" "$UNIT" || { ok=false; why+="no $s; "; }
done
grep -qE '^ExecStart=/usr/local/bin/gsmapper serve( |$)' "$UNIT" || { ok=false; why+="ExecStart is not gsmapper serve; "; }
grep -qE '^(DynamicUser=yes|User=[a-z])' "$UNIT" || { ok=false; why+="runs as root; "; }
grep -q -- '--dump-dir /var/lib/gsmapper' "$UNIT" || { ok=false; why+="no --dump-dir in the StateDirectory; "; }
# No other capability anywhere in the unit.
other=$(grep -E '^(Ambient|CapabilityBounding)' "$UNIT" | grep -oE 'CAP_[A-Z_]+' | sort -u |
  grep -vxE 'CAP_SYS_PTRACE|CAP_DAC_READ_SEARCH' | tr '\n' ' ')
[ -z "$other" ] || { ok=false; why+="other capabilities: $other; "; }
if $ok; then pass deploy_systemd_unit; else fail deploy_systemd_unit "$why"; fi

# The unit's ExecStart runs: serve accepts every option it passes (a typo, or an option only
# `watch` has, makes the service fail with exit 2 and restart forever).
if [ -x "$GSM" ]; then
  help=$("$GSM" serve --help 2>&1)
  unknown=
  for o in $(sed -n 's/^ExecStart=[^ ]* serve //p' "$UNIT" | grep -oE -- '--[a-z][a-z-]*'); do
    grep -qF -- "$o" <<<"$help" || unknown+="$o "
  done
  if [ -z "$unknown" ]; then pass deploy_systemd_options; else fail deploy_systemd_options "serve does not know: $unknown"; fi
else
  skip deploy_systemd_options "no gsmapper binary at $GSM"
fi

# systemd-analyze verify: ExecStart must exist, so point it at the binary under test.
if ! command -v systemd-analyze >/dev/null 2>&1; then
  skip deploy_systemd_verify "systemd-analyze not installed"
elif [ ! -x "$GSM" ]; then
  skip deploy_systemd_verify "no gsmapper binary at $GSM"
else
  bin=$(cd "$(dirname "$GSM")" && pwd)/$(basename "$GSM")
  sed "s|/usr/local/bin/gsmapper|$bin|" "$UNIT" > "$tmp/gsmapper.service"
  if out=$(systemd-analyze verify "$tmp/gsmapper.service" 2>&1) && [ -z "$out" ]; then
    pass deploy_systemd_verify
  else
    fail deploy_systemd_verify "$(tr '\n' ' ' <<<"$out")"
  fi
fi
