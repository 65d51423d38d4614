//! Customer features of DATA.md §2, computed with polars lazy group-bys.

use polars::prelude::*;
use thiserror::Error;

use crate::core::events::{EventTable, col_name::*, is_bought_line, is_kind};
use crate::core::import::parse::{EventKind, format_ms};

const MS_PER_DAY: f64 = 86_400_000.0;

#[derive(Debug, Error)]
pub enum FeatureError {
    #[error("{path}: cannot read the feature table: {message}")]
    Read { path: String, message: String },
    #[error("{path}: the feature table has no column '{column}' (it has: {})", found.join(", "))]
    MissingColumn { path: String, column: String, found: Vec<String> },
    #[error("no events on or before the as-of time {as_of}; the data starts at {first}")]
    NothingBeforeAsOf { as_of: String, first: String },
    #[error("there are no usable events")]
    NoEvents,
    #[error("computing features failed: {0}")]
    Compute(#[from] PolarsError),
}

/// One row per customer, sorted by `customer_id`, with `customer_id` and the
/// features of DATA.md §2 in its order; `as_of_ms` is the reference time the
/// recencies count from.
#[derive(Clone, Debug)]
pub struct CustomerFeatures {
    pub df: DataFrame,
    pub as_of_ms: i64,
}

impl CustomerFeatures {
    pub fn customers(&self) -> usize {
        self.df.height()
    }

    /// Customers with at least one purchase order.
    pub fn purchasers(&self) -> usize {
        self.df
            .column("frequency")
            .ok()
            .and_then(|c| c.u32().ok())
            .map_or(0, |f| (0..f.len()).filter(|&i| f.get(i).is_some_and(|v| v > 0)).count())
    }
}

/// The event columns [`customer_features`] reads. A caller that needs the
/// events for nothing else can drop the rest first ([`EventTable::retain_columns`]):
/// at 10M events the row numbers and prices are 120 MB.
pub const COLUMNS_READ: [&str; 10] =
    [CUSTOMER_ID, CUSTOMER_KEY, TIMESTAMP_MS, EVENT_CODE, ORDER_ID, ITEM_ID, ITEM_KEY, CATEGORY, QUANTITY, AMOUNT];

/// Computes the features of every customer with a usable event up to `as_of_ms`
/// (default: the latest event). Rows after `as_of_ms` are left out.
pub fn customer_features(events: &EventTable, as_of_ms: Option<i64>) -> Result<CustomerFeatures, FeatureError> {
    let cut;
    let events = match as_of_ms {
        Some(t) => {
            cut = events.up_to(t)?;
            if cut.is_empty() {
                return Err(FeatureError::NothingBeforeAsOf {
                    as_of: format_ms(t),
                    first: events.first_timestamp_ms().map(format_ms).unwrap_or_default(),
                });
            }
            &cut
        }
        None => events,
    };
    let as_of = match as_of_ms {
        Some(t) => t,
        None => events.last_timestamp_ms().ok_or(FeatureError::NoEvents)?,
    };
    let key = events.customer_key();
    let u32_len = || len().cast(DataType::UInt32);

    // Events and carts over the whole log: whole numbers, so the streaming
    // engine (twice as fast here) gives the same answer in any order. Sums of
    // amounts are not order-free in floating point: they are taken in memory,
    // in row order, over the purchases alone (a tenth of a typical log).
    let t = crate::core::trace::phase("features: counts");
    let counts = events
        .df
        .clone()
        .lazy()
        .group_by([col(key)])
        .agg([u32_len().alias("events"), is_kind(EventKind::Cart).sum().cast(DataType::UInt32).alias("carts")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    drop(t);
    let t = crate::core::trace::phase("features: purchases");
    // Sorted by customer (stable: each customer's rows keep their order, and
    // so do the sums), polars groups them by slices instead of hashing: the
    // group-bys below run three to four times faster.
    let purchases = events
        .df
        .clone()
        .lazy()
        .filter(is_kind(EventKind::Purchase))
        .sort([key], SortMultipleOptions::default().with_maintain_order(true))
        .collect()?;
    let purchases = EventTable { df: purchases, ..events.clone() };
    drop(t);
    let per_purchase = purchases
        .df
        .clone()
        .lazy()
        .group_by([col(key)])
        .agg([u32_len().alias("purchases"), col(AMOUNT).sum().alias("monetary")]);
    let mut table = counts
        .lazy()
        .left_join(per_purchase, col(key), col(key))
        .with_column((col("events") - col("carts") - col("purchases").fill_null(lit(0u32))).alias("views"));

    // One group-by over the bought lines: orders, distinct items and categories.
    let mut bought_aggs = Vec::new();
    if events.has_order_id {
        // An order's time is its earliest line, so the last order is not simply the last line.
        let orders = purchases.purchase_orders().group_by([col(key)]).agg([
            col("order_ms").min().alias("first_ms"),
            col("order_ms").max().alias("last_ms"),
            u32_len().alias("frequency"),
        ]);
        table = table.left_join(orders, col(key), col(key));
    } else {
        // Without order ids an order is a (customer, timestamp) pair.
        bought_aggs.extend([
            col(TIMESTAMP_MS).min().alias("first_ms"),
            col(TIMESTAMP_MS).max().alias("last_ms"),
            col(TIMESTAMP_MS).n_unique().cast(DataType::UInt32).alias("frequency"),
        ]);
    }
    let distinct = |column: &str, alias: &str| col(column).drop_nulls().n_unique().cast(DataType::UInt32).alias(alias);
    if events.has_item_id {
        bought_aggs.push(distinct(events.item_key(), "distinct_items"));
    }
    if events.has_category {
        bought_aggs.push(distinct(CATEGORY, "distinct_categories"));
    }
    if !bought_aggs.is_empty() {
        let bought = purchases.df.clone().lazy().filter(is_bought_line()).group_by([col(key)]).agg(bought_aggs);
        table = table.left_join(bought, col(key), col(key));
    }
    let null_u32 = || lit(NULL).cast(DataType::UInt32);
    if events.has_category {
        // The first row per customer after sorting by amount (descending), then
        // category name: the largest spend, ties to the first name.
        let top = purchases
            .df
            .clone()
            .lazy()
            .filter(col(CATEGORY).is_not_null())
            .group_by([col(key), col(CATEGORY)])
            .agg([col(AMOUNT).sum().alias("category_amount")])
            .with_column(col(CATEGORY).cast(DataType::String))
            .sort_by_exprs(
                [col(key), col("category_amount"), col(CATEGORY)],
                SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
            )
            .unique_stable(Some(cols([key])), UniqueKeepStrategy::First)
            .select([col(key), col(CATEGORY).alias("top_category")]);
        table = table.left_join(top, col(key), col(key));
    }
    drop(purchases);

    let days_since = |c: &str| (lit(as_of) - col(c)).cast(DataType::Float64) / lit(MS_PER_DAY);
    let frequency = col("frequency").fill_null(lit(0u32));
    let _t = crate::core::trace::phase("features: join");
    let df = table
        .select([
            events.customer_id_expr(),
            days_since("last_ms").alias("recency_days"),
            days_since("first_ms").alias("tenure_days"),
            frequency.clone().alias("frequency"),
            col("monetary").fill_null(lit(0.0)),
            when(frequency.clone().gt(lit(0u32)))
                .then(col("monetary") / frequency.cast(DataType::Float64))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("avg_order_value"),
            col("views"),
            col("carts"),
            col("purchases").fill_null(lit(0u32)),
            if events.has_item_id { col("distinct_items").fill_null(lit(0u32)) } else { null_u32() }
                .alias("distinct_items"),
            if events.has_category { col("distinct_categories").fill_null(lit(0u32)) } else { null_u32() }
                .alias("distinct_categories"),
            if events.has_category { col("top_category") } else { lit(NULL).cast(DataType::String) }
                .alias("top_category"),
        ])
        .sort([CUSTOMER_ID], SortMultipleOptions::default())
        .collect()?;
    Ok(CustomerFeatures { df, as_of_ms: as_of })
}

/// Reads a `features.csv` written by `promo-studio features` (or by hand with
/// the same header): `customer_id` and `top_category` as text, the rest as numbers.
pub fn read_features_csv(path: &std::path::Path) -> Result<DataFrame, FeatureError> {
    let shown = path.display().to_string();
    let err = |e: PolarsError| FeatureError::Read { path: shown.clone(), message: e.to_string() };
    let text_columns: Schema =
        ["customer_id", "top_category"].iter().map(|c| Field::new((*c).into(), DataType::String)).collect();
    let df = LazyCsvReader::new(PlRefPath::try_from_path(path).map_err(err)?)
        .with_has_header(true)
        .with_dtype_overwrite(Some(std::sync::Arc::new(text_columns)))
        .finish()
        .and_then(|lf| lf.collect())
        .map_err(err)?;
    let found: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
    for column in ["customer_id", "recency_days", "frequency", "monetary"] {
        if !found.iter().any(|f| f == column) {
            return Err(FeatureError::MissingColumn { path: shown, column: column.to_string(), found });
        }
    }
    Ok(df)
}
