#!/usr/bin/env bash
# Short versions of the stress runs of `make stress` (tests/stress/, issue 12 item 5), seconds
# each, so a regression shows in `make test`: PID churn under serve --all and watch --all,
# cgroup churn under serve --all, SIGKILL during bundle writes and rotation. First a
# deterministic check that a process's name follows its comm after exec (the engine used to keep
# the comm it saw when the target was made: a child caught between fork and exec was reported
# under its parent's name for its whole life; the PID churn found it).
set -u
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

sh -c 'sleep 1.5; exec sleep 3' & P=$!
"$GSM" watch "$P" --emit-samples --interval 0.2 --duration 3 -o json > "$tmp/exec.jsonl" 2> "$tmp/exec.err"
wait "$P"
names=$(python3 -c '
import json, sys
n = [json.loads(l)["target"]["name"] for l in open(sys.argv[1]) if "gsmapper.sample/v1" in l]
print(n[0] if n else "-", n[-1] if n else "-")' "$tmp/exec.jsonl")
if [ "$names" = "sh sleep" ]; then pass stress_name_follows_exec
else fail stress_name_follows_exec "first and last sample names: $names, want 'sh sleep' ($(head -c 200 "$tmp/exec.err"))"; fi

STRESS_SECONDS=${STRESS_SHORT_SECONDS:-8} bash "$TESTS_DIR/stress/pid_churn.sh"
STRESS_SECONDS=${STRESS_SHORT_SECONDS:-6} bash "$TESTS_DIR/stress/cgroup_churn.sh"
KILL_ROUNDS=${STRESS_SHORT_ROUNDS:-8} bash "$TESTS_DIR/stress/bundle_kill.sh" 2>&1 | grep -v ' Killed '
exit 0
