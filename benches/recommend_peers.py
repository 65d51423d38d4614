"""The peers of `recommend --evaluate --compare`, scored on exactly the same
split (DATA.md §4), written by `promo-studio recommend --evaluate
--split-out split.csv`: implicit's CosineRecommender(K=50),
BM25Recommender(K=100) and AlternatingLeastSquares(64 factors, seeded,
one thread), and EASE (Steck 2019; λ = 500, numpy).

    python3 benches/recommend_peers.py split.csv        (pip install implicit polars numpy scipy)

Prints one JSON line per peer with DATA.md §4's metrics at k = 10.
"""
import json
import math
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import polars as pl
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

K = 10
split = pl.read_csv(sys.argv[1], schema_overrides={"customer_id": pl.Utf8, "item_id": pl.Utf8})
users = sorted(split["customer_id"].unique().to_list())
train_items = sorted(split.filter(pl.col("part") == "train")["item_id"].unique().to_list())
user_no = {u: n for n, u in enumerate(users)}
item_no = {i: n for n, i in enumerate(train_items)}
train = split.filter(pl.col("part") == "train")
rows = np.array([user_no[u] for u in train["customer_id"]])
cols = np.array([item_no[i] for i in train["item_id"]])
m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(train_items)))
test = {}
for u, i in split.filter(pl.col("part") == "test").select("customer_id", "item_id").iter_rows():
    test.setdefault(user_no[u], set()).add(item_no.get(i, -1))
evaluated = np.array(sorted(test))


def score(name, ids):
    p = r = g = h = 0.0
    recommended = set()
    for u, recs in zip(evaluated, ids):
        recs = [int(x) for x in recs if x >= 0][:K]
        recommended.update(recs)
        held = test[u]
        hits = [1 if x in held else 0 for x in recs]
        p += sum(hits) / K
        r += sum(hits) / len(held)
        dcg = sum(hit / math.log2(n + 2) for n, hit in enumerate(hits))
        g += dcg / sum(1 / math.log2(n + 2) for n in range(min(K, len(held))))
        h += 1 if sum(hits) else 0
    n = len(evaluated)
    print(json.dumps({"model": name, "k": K, "precision": p / n, "recall": r / n, "ndcg": g / n, "hit_rate": h / n,
                      "coverage": len(recommended) / len(train_items), "evaluated_customers": n}), flush=True)


for name, model in [
    ("implicit Cosine(K=50)", CosineRecommender(K=50)),
    ("implicit BM25(K=100)", BM25Recommender(K=100)),
    ("implicit ALS(64)", AlternatingLeastSquares(factors=64, random_state=42, num_threads=1)),
]:
    model.fit(m, show_progress=False)
    ids, _ = model.recommend(evaluated, m[evaluated], N=K, filter_already_liked_items=True)
    score(name, ids)

# EASE: B = I − P / diag(P) with P = (XᵀX + λI)⁻¹, diag(B) = 0; scores = X B.
lam = 500.0
gram = (m.T @ m).toarray().astype(np.float64)
gram[np.diag_indices_from(gram)] += lam
p_inv = np.linalg.inv(gram)
b = -p_inv / np.diag(p_inv)
b[np.diag_indices_from(b)] = 0.0
x = m[evaluated]
scores = np.asarray(x @ b)
scores[x.nonzero()] = -np.inf
top = np.argsort(-scores, axis=1, kind="stable")[:, :K]
score("EASE(λ=500)", top)
