#!/usr/bin/env bash
# `plan` for every customer of a generated event log (default 10M events,
# ≈480k customers) with four offers and a binding budget: the whole command's
# wall time and peak memory, and its phases (--timings). The issue's goal is
# the assignment itself (assign_s) under 1 s.
#   benches/plan.sh [ROWS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows="${1:-10000000}"
log="$work/events_$rows.csv"
[ -f "$log" ] || "$bin" generate-events --rows "$rows" --out "$log" >/dev/null
read -r wall mb < <(measure "$bin" plan --campaign benches/plan_campaign.json --events "$log" --out "$work/plan.csv" --timings)
echo "plan on $rows events: ${wall} s, peak ${mb} MB"
tail -n 1 "$work/stderr.txt"
