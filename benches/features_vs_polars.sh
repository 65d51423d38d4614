#!/usr/bin/env bash
# Features benchmark: `promo-studio features` vs polars (Python) doing the same
# DATA.md §2 computation, side by side, on generated logs of growing size, from
# CSV and from Parquet. Reports wall time and peak memory (GNU time) of each
# whole process, and the ratio ours / polars.
#
#   benches/features_vs_polars.sh [ROWS ...]      (default: 1000000 10000000)
#
# Needs: a release build, python3 with polars (pip install polars), /usr/bin/time.
set -euo pipefail
source "$(dirname "$0")/common.sh"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)

printf "%-10s %-8s %12s %12s %12s %12s %8s\n" rows format ours_s ours_MB polars_s polars_MB ratio
for rows in "${sizes[@]}"; do
  for fmt in csv parquet; do
    log="$work/events_${rows}.$fmt"
    [ -f "$log" ] || "$bin" generate-events --rows "$rows" --format "$fmt" --out "$log" >/dev/null
    sync
    read -r ours_s ours_mb < <(measure "$bin" features --events "$log" --out "$work/ours.csv")
    read -r py_s py_mb < <(measure python3 benches/features_polars.py "$log" "$work/polars.csv")
    ratio=$(python3 -c "print(f'{$ours_s / $py_s:.2f}')")
    printf "%-10s %-8s %12s %12s %12s %12s %8s\n" "$rows" "$fmt" "$ours_s" "$ours_mb" "$py_s" "$py_mb" "$ratio"
  done
done
