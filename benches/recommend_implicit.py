"""The peer for benches/recommend_vs_implicit.sh: implicit's
CosineRecommender(K=50) (or BM25Recommender(K=100) with `bm25`) fit + top-10
for every customer of a generated event log, including reading the file and
writing the CSV. Prints `in_process_s` (fit + recommend only) on stderr.

Usage: python3 recommend_implicit.py EVENTS.parquet OUT.csv [cosine|bm25]
"""
import sys
import time

import numpy as np
import polars as pl
import scipy.sparse as sp
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

events = pl.read_parquet(sys.argv[1])
pairs = (
    events.filter((pl.col("event_type") == "purchase") & (pl.col("quantity") > 0))
    .select(pl.col("user_id").cast(pl.Utf8), pl.col("item_id").cast(pl.Utf8))
    .unique()
)
customers = events.select(pl.col("user_id").cast(pl.Utf8)).unique().sort("user_id")["user_id"]
items_list = pairs["item_id"].unique().sort()
# Codes by joins (vectorised), not Python dictionaries: the peer should be fast too.
user_codes = pl.DataFrame({"user_id": customers, "u": np.arange(len(customers))})
item_codes = pl.DataFrame({"item_id": items_list, "i": np.arange(len(items_list))})
coded = pairs.join(user_codes, on="user_id").join(item_codes, on="item_id")
rows, cols = coded["u"].to_numpy(), coded["i"].to_numpy()
users = customers
items_list = items_list.to_list()
m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items_list)))
started = time.perf_counter()
model = BM25Recommender(K=100) if sys.argv[3:] == ["bm25"] else CosineRecommender(K=50)
model.fit(m, show_progress=False)
ids, scores = model.recommend(np.arange(len(users)), m, N=10, filter_already_liked_items=True)
# In-process time: fit and recommend only (no reading, coding or writing).
print(f"in_process_s {time.perf_counter() - started:.2f}", file=sys.stderr)
names = np.array(items_list + [""])
ranks = np.tile(np.arange(1, 11), len(users))
pl.DataFrame({
    "customer_id": np.repeat(customers.to_numpy(), 10),
    "rank": ranks,
    "item_id": names[ids.ravel()],
    "score": scores.ravel(),
}).filter(pl.col("item_id") != "").write_csv(sys.argv[2])
