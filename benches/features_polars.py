"""The peer for `benches/features_vs_polars.sh`: DATA.md §2 customer features
with polars (Python) on a generated event log (user_id, item_id, category,
price, quantity, timestamp, event_type), written to CSV sorted by customer_id.

Usage: python3 features_polars.py EVENTS.(csv|parquet) OUT.csv
"""
import sys

import polars as pl

src, out = sys.argv[1], sys.argv[2]
if src.endswith(".parquet"):
    lf = pl.scan_parquet(src)
    ts = pl.col("timestamp").cast(pl.Datetime("ms")).cast(pl.Int64)
else:
    lf = pl.scan_csv(src, schema_overrides={"user_id": pl.Utf8, "item_id": pl.Utf8, "timestamp": pl.Utf8})
    ts = pl.col("timestamp").str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="ms").cast(pl.Int64)

events = lf.select(
    pl.col("user_id").cast(pl.Utf8).alias("customer_id"),
    ts.alias("ts"),
    pl.col("event_type"),
    pl.col("item_id").cast(pl.Utf8),
    pl.col("category"),
    pl.col("quantity").cast(pl.Float64),
    (pl.col("quantity") * pl.col("price")).alias("amount"),
).collect()

as_of = events["ts"].max()
ev = events.lazy()
purchase = pl.col("event_type") == "purchase"
bought = purchase & (pl.col("quantity") > 0)
day_ms = 86_400_000.0

activity = ev.group_by("customer_id").agg(
    (pl.col("event_type") == "view").sum().alias("views"),
    (pl.col("event_type") == "cart").sum().alias("carts"),
    purchase.sum().alias("purchases"),
    pl.col("amount").filter(purchase).sum().alias("monetary"),
)
# No order_id in the log: a purchase order is a (customer, timestamp) pair.
orders = (
    ev.filter(bought)
    .group_by("customer_id", "ts")
    .agg()
    .group_by("customer_id")
    .agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"), pl.len().alias("frequency"))
)
distinct = ev.filter(bought).group_by("customer_id").agg(
    pl.col("item_id").n_unique().alias("distinct_items"),
    pl.col("category").n_unique().alias("distinct_categories"),
)
top = (
    ev.filter(purchase)
    .group_by("customer_id", "category")
    .agg(pl.col("amount").sum().alias("a"))
    .group_by("customer_id")
    .agg(pl.col("category").sort_by(["a", "category"], descending=[True, False]).first().alias("top_category"))
)
freq = pl.col("frequency").fill_null(0)
(
    activity.join(orders, on="customer_id", how="left")
    .join(distinct, on="customer_id", how="left")
    .join(top, on="customer_id", how="left")
    .select(
        "customer_id",
        ((as_of - pl.col("last")) / day_ms).alias("recency_days"),
        ((as_of - pl.col("first")) / day_ms).alias("tenure_days"),
        freq.alias("frequency"),
        "monetary",
        pl.when(freq > 0).then(pl.col("monetary") / freq).alias("avg_order_value"),
        "views",
        "carts",
        "purchases",
        pl.col("distinct_items").fill_null(0),
        pl.col("distinct_categories").fill_null(0),
        "top_category",
    )
    .sort("customer_id")
    .collect()
    .write_csv(out)
)
