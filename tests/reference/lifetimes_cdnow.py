"""Reference fits for tests/value.rs with the `lifetimes` package on the same
per-customer input our `value` command computes (x, t_x, T in weeks, mean
spend per repeat purchase day), read back from its value.csv.

    promo-studio value --events cdnow_sample.csv --as-of 1997-09-30 --time-unit week --out /tmp/value.csv
    python3 tests/reference/lifetimes_cdnow.py /tmp/value.csv
"""
import sys

from lifetimes import BetaGeoFitter, GammaGammaFitter

import pandas as pd
v = pd.read_csv(sys.argv[1], dtype={"customer_id": str})
bg = BetaGeoFitter().fit(v["x"], v["t_x"], v["T"])
print("BG/NBD", {k: round(float(x), 4) for k, x in bg.params_.items()})
rep = v[(v["x"] > 0) & (v["mean_spend"] > 0)]
gg = GammaGammaFitter().fit(rep["x"], rep["mean_spend"])
print("Gamma-Gamma", {k: round(float(x), 4) for k, x in gg.params_.items()}, "customers", len(rep))
