#!/usr/bin/env bash
# `calibrate` on a large finished campaign: ROWS customers (default 1M), four
# arms (a control and three offers), ten attributes (eight numbers, two text
# columns), a spend column, with the default 200 posterior draws. Prints the
# whole command's wall time and peak memory, then its phases (--timings).
# The issue's goal: under 10 s.
#   benches/calibrate.sh [ROWS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows="${1:-1000000}"
table="$work/results_$rows.csv"
[ -f "$table" ] || python3 - "$rows" "$table" <<'PY'
import sys
import numpy as np
import pandas as pd
n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(7)
arms = np.array(["control", "10% off", "Spend 50 save 10", "Free shipping"])
arm = rng.integers(0, 4, n)
x = rng.normal(size=(n, 8))
region = rng.choice(["north", "south", "east", "west", "online"], n)
tier = rng.choice(["bronze", "silver", "gold"], n, p=[0.6, 0.3, 0.1])
# A heterogeneous truth: each offer's effect depends on two attributes.
z = -1.5 + 0.4 * x[:, 0] - 0.3 * x[:, 1] + 0.2 * (tier == "gold")
z += np.where(arm == 1, 0.3 + 0.3 * x[:, 2], 0) + np.where(arm == 2, 0.2 - 0.2 * x[:, 3], 0) + np.where(arm == 3, 0.15, 0)
bought = rng.random(n) < 1 / (1 + np.exp(-z))
spend = np.where(bought, np.round(np.exp(3.5 + 0.2 * x[:, 4] + rng.normal(0, 0.6, n)), 2), 0.0)
df = pd.DataFrame({"customer_id": np.arange(n), "arm": arms[arm], "converted": bought.astype(int), "spend": spend})
for j in range(8):
    df[f"a{j}"] = np.round(x[:, j], 4)
df["region"], df["tier"] = region, tier
df.to_csv(out, index=False)
PY
read -r wall mb < <(measure "$bin" calibrate --results "$table" --arm arm --control control --converted converted \
  --spend spend --out "$work/response.json" --timings)
echo "calibrate on $rows rows × 10 attributes × 4 arms: ${wall} s, peak ${mb} MB"
tail -n 1 "$work/stderr.txt"
