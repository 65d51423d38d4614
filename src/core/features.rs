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

    /// Purchase orders of all customers (the sum of their frequencies).
    pub fn purchase_orders(&self) -> u64 {
        self.df.column("frequency").ok().and_then(|c| c.u32().ok()).map_or(0, |f| f.sum().map_or(0, u64::from))
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
    let counts = {
        let _t = crate::core::trace::phase("features: counts");
        event_counts(events)?
    };
    let purchases = {
        let _t = crate::core::trace::phase("features: purchases");
        purchases_by_customer(events)?
    };
    let mut table = counts.lazy().left_join(spend(&purchases), col(key), col(key)).left_join(
        orders_and_variety(&purchases),
        col(key),
        col(key),
    );
    if events.has_category {
        table = table.left_join(top_category(&purchases), col(key), col(key));
    }
    let _t = crate::core::trace::phase("features: joined");
    let columns = FeatureColumns { has_item_id: events.has_item_id, has_category: events.has_category };
    let df = finish(table, events.customer_id_expr(), as_of, columns).collect()?;
    Ok(CustomerFeatures { df, as_of_ms: as_of })
}

/// Which optional columns the events had: without them the variety
/// features are null rather than 0 (DATA.md §2).
#[derive(Clone, Copy, Debug)]
pub struct FeatureColumns {
    pub has_item_id: bool,
    pub has_category: bool,
}

/// The feature table from per-customer aggregates, whichever engine made
/// them: `last_ms`, `first_ms` (purchase orders), `frequency`, `monetary`,
/// `views`, `carts`, `purchases`, and where the events have them
/// `distinct_items`, `distinct_categories`, `top_category`. Customers
/// without purchase orders get their nulls and zeros here, and the result
/// is sorted by `customer_id`.
pub fn finish(table: LazyFrame, customer_id: Expr, as_of: i64, columns: FeatureColumns) -> LazyFrame {
    let null_u32 = || lit(NULL).cast(DataType::UInt32);
    let days_since = |c: &str| (lit(as_of) - col(c)).cast(DataType::Float64) / lit(MS_PER_DAY);
    let frequency = col("frequency").fill_null(lit(0u32));
    table
        .select([
            customer_id,
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
            if columns.has_item_id { col("distinct_items").fill_null(lit(0u32)) } else { null_u32() }
                .alias("distinct_items"),
            if columns.has_category { col("distinct_categories").fill_null(lit(0u32)) } else { null_u32() }
                .alias("distinct_categories"),
            if columns.has_category { col("top_category") } else { lit(NULL).cast(DataType::String) }
                .alias("top_category"),
        ])
        .sort([CUSTOMER_ID], SortMultipleOptions::default())
}

fn u32_len() -> Expr {
    len().cast(DataType::UInt32)
}

/// Views and carts per customer over the whole log. Whole numbers, so
/// polars' streaming engine (twice as fast here) gives the same answer in any
/// order of rows; sums of amounts are not order-free in floating point and
/// are taken in memory over the purchases alone ([`spend`]).
fn event_counts(events: &EventTable) -> PolarsResult<DataFrame> {
    Ok(events
        .df
        .clone()
        .lazy()
        .group_by([col(events.customer_key())])
        .agg(
            [(EventKind::View, "views"), (EventKind::Cart, "carts")]
                .map(|(kind, name)| is_kind(kind).sum().cast(DataType::UInt32).alias(name)),
        )
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

/// The purchase lines (a tenth of a typical log), sorted by customer. The
/// sort is stable, so each customer's rows, and so their sums, keep file
/// order; and polars groups sorted rows by slices instead of hashing, which
/// makes the group-bys on them three to four times faster.
fn purchases_by_customer(events: &EventTable) -> PolarsResult<EventTable> {
    let df = events
        .df
        .clone()
        .lazy()
        .filter(is_kind(EventKind::Purchase))
        .sort([events.customer_key()], SortMultipleOptions::default().with_maintain_order(true))
        .collect()?;
    Ok(events.with_rows(df))
}

/// Purchase lines and monetary (returns included) per customer.
fn spend(purchases: &EventTable) -> LazyFrame {
    purchases
        .df
        .clone()
        .lazy()
        .group_by([col(purchases.customer_key())])
        .agg([u32_len().alias("purchases"), col(AMOUNT).sum().alias("monetary")])
}

/// Per customer, over the bought lines (quantity > 0): first and last order
/// time and the order count, distinct items and distinct categories, in one
/// group-by where the log has no order ids.
fn orders_and_variety(purchases: &EventTable) -> LazyFrame {
    let key = purchases.customer_key();
    let distinct = |column: &str, alias: &str| col(column).drop_nulls().n_unique().cast(DataType::UInt32).alias(alias);
    let mut aggs = Vec::new();
    if !purchases.has_order_id {
        // Without order ids an order is a (customer, timestamp) pair.
        aggs.extend([
            col(TIMESTAMP_MS).min().alias("first_ms"),
            col(TIMESTAMP_MS).max().alias("last_ms"),
            col(TIMESTAMP_MS).n_unique().cast(DataType::UInt32).alias("frequency"),
        ]);
    }
    if purchases.has_item_id {
        aggs.push(distinct(purchases.item_key(), "distinct_items"));
    }
    if purchases.has_category {
        aggs.push(distinct(CATEGORY, "distinct_categories"));
    }
    let table = purchases.df.clone().lazy().filter(is_bought_line()).group_by([col(key)]).agg(aggs);
    if !purchases.has_order_id {
        return table;
    }
    // An order's time is its earliest line, so the last order is not simply the last line.
    let orders = purchases.purchase_orders().group_by([col(key)]).agg([
        col("order_ms").min().alias("first_ms"),
        col("order_ms").max().alias("last_ms"),
        u32_len().alias("frequency"),
    ]);
    table.left_join(orders, col(key), col(key))
}

/// The category each customer spent most on (purchase lines, returns
/// included): the first row per customer after sorting by amount, largest
/// first, then by category name, so ties go to the first name.
fn top_category(purchases: &EventTable) -> LazyFrame {
    let key = purchases.customer_key();
    purchases
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
        .select([col(key), col(CATEGORY).alias("top_category")])
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
