#!/usr/bin/env bash
# Live (root, cgroup v1 memory controller, Go): the quick subset of the watch scenario suite
# (tests/scenarios/run.sh --quick: a 32 MiB/s Go-heap leak into a 384-640 MiB limit, and a 60 s
# GC sawtooth that must stay quiet, watched once its live set is loaded), under `gsmapper watch`. Turns the suite's
# PASS/MISS lines into PASS/FAIL lines; SKIPs with the reason when the machine cannot run it.
# About 75 s.
set -u
. "$(dirname "$0")/../lib.sh"
CHECKS="watch_quick_ran heap-32_oom_killed heap-32_warn_before_kill heap-32_not_later_than_threshold heap-32_bundle
  sawtooth_not_killed sawtooth_no_false_alarm"
skip_all() { local n; for n in $CHECKS; do skip "$n" "$1"; done; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates memory cgroups)"
awk '$5 == "/sys/fs/cgroup/memory" { for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "cgroup" && ("," $(i+3) ",") ~ /,memory,/) found = 1 }
     END { exit !found }' /proc/self/mountinfo || skip_all "cgroup v1 memory controller not mounted"
command -v go >/dev/null 2>&1 || skip_all "go not installed (the scenario workloads are Go)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
"$GSM" watch --help >/dev/null 2>&1 || skip_all "$GSM has no watch command yet"

root=$(cd "$TESTS_DIR/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
GSMAPPER=$(cd "$(dirname "$GSM")" && pwd)/$(basename "$GSM") \
  timeout 150 bash "$root/tests/scenarios/run.sh" --quick --sampler gsmapper --out "$out/run" > "$out/log" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q '^SKIPPED: ' "$out/log"; then
  skip_all "$(sed -n 's/^SKIPPED: //p' "$out/log" | head -n 1)"
fi
grep -E '^(# |\|)' "$out/log"
if ! grep -q '^RESULT: ' "$out/log"; then
  fail watch_quick_ran "run.sh --quick exited $rc without a result: $(tail -n 5 "$out/log" | tr '\n' ' ')"
  exit 0
fi
pass watch_quick_ran
for n in $CHECKS; do
  [ "$n" = watch_quick_ran ] && continue
  line=$(grep -E "^(PASS|MISS|SKIP) $n(:|$)" "$out/log" | head -n 1)
  case $line in
    "PASS $n") pass "$n" ;;
    "MISS $n: "*) fail "$n" "${line#"MISS $n: "}"
      # what fired, for the log (the run's directory is removed on exit)
      for f in "$out"/run/*/watch.jsonl; do
        grep '"state":"firing"' "$f" | grep -E '"level":"(warn|critical)"' | grep -v '"kind":"health"' | head -n 3 |
          sed "s|^|# $(basename "$(dirname "$f")") event: |" | cut -c1-600
      done ;;
    "SKIP $n: "*) skip "$n" "${line#"SKIP $n: "}" ;;
    *) fail "$n" "no result line for $n from run.sh --quick" ;;
  esac
done
