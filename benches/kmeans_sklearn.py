"""The peer for benches/kmeans_vs_sklearn.sh: scikit-learn's KMeans fit on the
same matrix, printed as the same JSON as `promo-studio bench-kmeans`.

Usage: python3 kmeans_sklearn.py (--features F.csv | --matrix F.parquet) K N_INIT SEED
"""
import json
import sys
import time

import numpy as np
import polars as pl
from sklearn.cluster import KMeans

kind, path, k, n_init, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if kind == "--features":
    f = pl.read_csv(path, schema_overrides={"customer_id": pl.Utf8, "top_category": pl.Utf8})
    b = f.filter(pl.col("frequency") >= 1)
    x = np.column_stack([
        b["recency_days"].to_numpy(),
        np.log1p(b["frequency"].to_numpy()),
        np.log1p(np.maximum(b["monetary"].to_numpy(), 0)),
    ])
    x = (x - x.mean(0)) / x.std(0)
else:
    x = pl.read_parquet(path).to_numpy().astype(np.float64)
x = np.ascontiguousarray(x)
t = time.time()
km = KMeans(n_clusters=k, n_init=n_init, max_iter=300, tol=1e-4, random_state=seed).fit(x)
print(json.dumps({"fit_s": time.time() - t, "inertia": km.inertia_, "iterations": int(km.n_iter_), "rows": x.shape[0], "dims": x.shape[1]}))
