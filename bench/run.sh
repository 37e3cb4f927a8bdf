#!/usr/bin/env bash
# `make bench`: run every bench/*.sh (each compares gsmapper with the real alternative in the
# same run and prints ratios). Record results with the date in bench/RESULTS.md.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
for b in bench/*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  echo "### $b"
  bash "$b" || rc=1
done
exit $rc
