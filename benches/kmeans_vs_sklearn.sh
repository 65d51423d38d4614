#!/usr/bin/env bash
# k-means benchmark: our fit vs scikit-learn's KMeans, side by side in one run,
# k = 8, n_init 1 and 10, on
#   (a) DATA.md §3's matrix of the ~400k buyers of a generated 10M-event log,
#   (b) 5M × 8 Gaussian blobs,
# plus single starts over six seeds, and the silhouette of --k-range 2-10 on a
# 5,000-customer sample.
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
# One start lands in whichever local optimum its seed leads to, for us and for
# scikit-learn alike: compare single starts over several seeds, not one.
echo
echo "single starts (n_init 1) on buyers-400kx3, seeds 42-47: total time and mean inertia"
python3 - "$bin" "$work/features_10M.csv" <<'PY'
import json, subprocess, sys
bin, features = sys.argv[1], sys.argv[2]
ours, peer = [], []
for seed in range(42, 48):
    run = lambda cmd: json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    ours.append(run([bin, "bench-kmeans", "--features", features, "--k", "8", "--n-init", "1", "--seed", str(seed)]))
    peer.append(run(["python3", "benches/kmeans_sklearn.py", "--features", features, "8", "1", str(seed)]))
t_o, t_p = sum(r["fit_s"] for r in ours), sum(r["fit_s"] for r in peer)
i_o, i_p = sum(r["inertia"] for r in ours) / 6, sum(r["inertia"] for r in peer) / 6
print(f"  ours {t_o:.3f} s, sklearn {t_p:.3f} s, ratio {t_o / t_p:.2f}; mean inertia ours {i_o:.1f}, sklearn {i_p:.1f}")
PY
echo
echo "silhouette for k = 2..10 (5,000-customer sample), whole segment command:"
/usr/bin/time -f "  %e s wall" "$bin" segment --features "$work/features_10M.csv" --k-range 2-10 --n-init 1 --out "$work/segments.csv" 2>&1 | grep -E "wall|suggested"
