#!/usr/bin/env bash
# Recommendations benchmark: top-10 for every customer of a generated event log
# (whole command: read, fit, recommend, write CSV), side by side:
#   ours, the default (rp3beta)  vs implicit CosineRecommender(K=50) and BM25Recommender(K=100)
#   ours, item-knn (K = 50)      vs implicit CosineRecommender(K=50)
# Wall time and peak memory of each whole process, and implicit's in-process
# time (fit + recommend, without reading, coding or writing).
#
#   benches/recommend_vs_implicit.sh [ROWS]      (default 10000000; pip install polars implicit)
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows="${1:-10000000}"
log="$work/events_${rows}.parquet"
[ -f "$log" ] || "$bin" generate-events --rows "$rows" --format parquet --out "$log" >/dev/null
peer() { # cosine|bm25 → "wall_s peak_mb in_process_s"
  read -r s mb < <(measure python3 benches/recommend_implicit.py "$log" "$work/recs_implicit.csv" "$1")
  echo "$s $mb $(grep -o 'in_process_s [0-9.]*' "$work/stderr.txt" | cut -d' ' -f2)"
}
read -r rp_s rp_mb < <(measure "$bin" recommend --events "$log" --out "$work/recs_ours.csv")
read -r knn_s knn_mb < <(measure "$bin" recommend --events "$log" --model item-knn --out "$work/recs_ours.csv")
read -r cos_s cos_mb cos_in < <(peer cosine)
read -r bm_s bm_mb bm_in < <(peer bm25)
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
printf "%-22s %8s %8s | %-18s %8s %8s %12s | %s\n" ours s MB peer s MB in_process_s "ours / peer in-process"
printf "%-22s %8s %8s | %-18s %8s %8s %12s | %s\n" rp3beta "$rp_s" "$rp_mb" "Cosine(K=50)" "$cos_s" "$cos_mb" "$cos_in" "$(ratio "$rp_s" "$cos_in")"
printf "%-22s %8s %8s | %-18s %8s %8s %12s | %s\n" rp3beta "$rp_s" "$rp_mb" "BM25(K=100)" "$bm_s" "$bm_mb" "$bm_in" "$(ratio "$rp_s" "$bm_in")"
printf "%-22s %8s %8s | %-18s %8s %8s %12s | %s\n" item-knn "$knn_s" "$knn_mb" "Cosine(K=50)" "$cos_s" "$cos_mb" "$cos_in" "$(ratio "$knn_s" "$cos_in")"
