#!/usr/bin/env bash
# k-means benchmark: our fit vs scikit-learn's KMeans, side by side in one run,
# k = 8, n_init 1 and 10, on
#   (a) DATA.md §3's matrix of the ~400k buyers of a generated 10M-event log,
#   (b) 5M × 8 Gaussian blobs,
# plus the silhouette of --k-range 2-10 on a 5,000-customer sample.
#
#   benches/kmeans_vs_sklearn.sh            (pip install polars scikit-learn first)
set -euo pipefail
source "$(dirname "$0")/common.sh"
log="$work/events_10000000.parquet"
[ -f "$log" ] || "$bin" generate-events --rows 10000000 --format parquet --out "$log" >/dev/null
[ -f "$work/features_10M.csv" ] || "$bin" features --events "$log" --out "$work/features_10M.csv" >/dev/null 2>&1
[ -f "$work/blobs_5M.parquet" ] || "$bin" generate-blobs --rows 5000000 --dims 8 --centers 8 --out "$work/blobs_5M.parquet" >/dev/null

field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$2'], ${3:-3}))" "$1"; }
printf "%-22s %6s %10s %10s %8s %16s %16s\n" matrix n_init ours_s sklearn_s ratio ours_inertia sklearn_inertia
for case in "--features $work/features_10M.csv buyers-400kx3" "--matrix $work/blobs_5M.parquet blobs-5Mx8"; do
  set -- $case
  for n in 1 10; do
    ours=$("$bin" bench-kmeans "$1" "$2" --k 8 --n-init "$n")
    peer=$(python3 benches/kmeans_sklearn.py "$1" "$2" 8 "$n" 42)
    o=$(field "$ours" fit_s); p=$(field "$peer" fit_s)
    printf "%-22s %6s %10s %10s %8s %16s %16s\n" "$3" "$n" "$o" "$p" "$(python3 -c "print(f'{$o/$p:.2f}')")" "$(field "$ours" inertia 2)" "$(field "$peer" inertia 2)"
  done
done
echo
echo "silhouette for k = 2..10 (5,000-customer sample), whole segment command:"
/usr/bin/time -f "  %e s wall" "$bin" segment --features "$work/features_10M.csv" --k-range 2-10 --n-init 1 --out "$work/segments.csv" 2>&1 | grep -E "wall|suggested"
