#!/usr/bin/env bash
# `simulate` for every customer of a generated event log (default 10M events,
# ≈480k customers) with benches/plan_campaign.json (four offers, a binding
# budget) and RUNS Monte Carlo runs (default 200): the whole command's wall
# time and peak memory, and its phases (--timings). No peer: no open-source
# tool forecasts a campaign's incremental profit per customer.
#   benches/simulate.sh [ROWS] [RUNS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows="${1:-10000000}"
runs="${2:-200}"
log="$work/events_$rows.csv"
[ -f "$log" ] || "$bin" generate-events --rows "$rows" --out "$log" >/dev/null
read -r wall mb < <(measure "$bin" simulate --campaign benches/plan_campaign.json --events "$log" --runs "$runs" --timings)
echo "simulate on $rows events, $runs runs: ${wall} s, peak ${mb} MB"
tail -n 1 "$work/stderr.txt"
