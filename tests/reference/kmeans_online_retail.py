"""Reference inertia for tests/segments.rs: scikit-learn's KMeans on the
DATA.md §3 matrix of the Online Retail customers.

    promo-studio features --events ../shared/data/online_retail/online_retail.parquet --out /tmp/or_features.csv
    python3 tests/reference/kmeans_online_retail.py /tmp/or_features.csv
"""
import sys

import numpy as np
import polars as pl
from sklearn.cluster import KMeans

f = pl.read_csv(sys.argv[1], schema_overrides={"customer_id": pl.Utf8, "top_category": pl.Utf8})
buyers = f.filter(pl.col("frequency") >= 1)
x = np.column_stack([
    buyers["recency_days"].to_numpy(),
    np.log1p(buyers["frequency"].to_numpy()),
    np.log1p(np.maximum(buyers["monetary"].to_numpy(), 0)),
])
x = (x - x.mean(axis=0)) / x.std(axis=0)  # population std
for k in (5,):
    km = KMeans(n_clusters=k, n_init=10, max_iter=300, tol=1e-4, random_state=42).fit(x)
    print(f"k={k} buyers={len(x)} inertia={km.inertia_:.6f}")
