"""Reference for tests/recommend.rs: the `implicit` package's
CosineRecommender(K=50) under DATA.md §4's protocol on Online Retail.

    python3 tests/reference/implicit_online_retail.py ../shared/data/online_retail/online_retail.parquet
"""
import math
import sys

import numpy as np
import polars as pl
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender

k = 10
df = pl.read_parquet(sys.argv[1])
pairs = (
    df.filter(pl.col("CustomerID").is_not_null() & (pl.col("Quantity") > 0))
    .with_columns(
        pl.col("CustomerID").cast(pl.Int64).cast(pl.Utf8).alias("c"),
        pl.col("StockCode").str.strip_chars().alias("i"),
        pl.col("InvoiceDate").str.to_datetime("%Y-%m-%d %H:%M:%S").alias("t"),
    )
    .group_by("c", "i")
    .agg(pl.col("t").min())
    .sort("c", "t", "i")
)
users = {u: n for n, u in enumerate(sorted(pairs["c"].unique().to_list()))}
items = {i: n for n, i in enumerate(sorted(pairs["i"].unique().to_list()))}
train, test = [], {}
for (c,), g in pairs.group_by("c", maintain_order=True):
    ordered = g["i"].to_list()  # sorted by time, then item id
    if len(ordered) < 2:
        train += [(users[c], items[i]) for i in ordered]
        continue
    held = max(1, math.ceil(0.2 * len(ordered)))
    train += [(users[c], items[i]) for i in ordered[:-held]]
    test[users[c]] = {items[i] for i in ordered[-held:]}
rows, cols = zip(*train)
m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items)))
model = CosineRecommender(K=50)
model.fit(m, show_progress=False)
uids = np.array(sorted(test))
ids, _ = model.recommend(uids, m[uids], N=k, filter_already_liked_items=True)
p = r = g = h = 0.0
recommended = set()
for u, recs in zip(uids, ids):
    recs = [x for x in recs if x >= 0][:k]
    recommended.update(recs)
    held = test[u]
    hits = [1 if x in held else 0 for x in recs]
    p += sum(hits) / k
    r += sum(hits) / len(held)
    dcg = sum(hit / math.log2(n + 2) for n, hit in enumerate(hits))
    g += dcg / sum(1 / math.log2(n + 2) for n in range(min(k, len(held))))
    h += 1 if sum(hits) else 0
n = len(uids)
print({"model": "implicit CosineRecommender(K=50)", "precision": p / n, "recall": r / n, "ndcg": g / n, "hit_rate": h / n,
       "coverage": len(recommended) / len(set(cols)), "evaluated_customers": n})
