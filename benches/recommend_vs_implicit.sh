#!/usr/bin/env bash
# Recommendations benchmark: top-10 item-kNN for every customer of a generated
# event log (whole command: read, fit, recommend, write CSV) vs implicit's
# CosineRecommender(K=50) doing the same, side by side; wall time and peak memory.
#
#   benches/recommend_vs_implicit.sh [ROWS]      (default 10000000; pip install polars implicit)
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows="${1:-10000000}"
log="$work/events_${rows}.parquet"
[ -f "$log" ] || "$bin" generate-events --rows "$rows" --format parquet --out "$log" >/dev/null
read -r ours_s ours_mb < <(measure "$bin" recommend --events "$log" --out "$work/recs_ours.csv")
read -r peer_s peer_mb < <(measure python3 benches/recommend_implicit.py "$log" "$work/recs_implicit.csv")
printf "%-10s %10s %10s %12s %12s %8s\n" rows ours_s ours_MB implicit_s implicit_MB ratio
printf "%-10s %10s %10s %12s %12s %8s\n" "$rows" "$ours_s" "$ours_mb" "$peer_s" "$peer_mb" "$(python3 -c "print(f'{$ours_s/$peer_s:.2f}')")"
