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
    let lf = events.df.clone().lazy();
    let key = events.customer_key();
    let count_of = |kind| is_kind(kind).cast(DataType::UInt32).sum();

    let activity_aggs = vec![
        count_of(EventKind::View).alias("views"),
        count_of(EventKind::Cart).alias("carts"),
        count_of(EventKind::Purchase).alias("purchases"),
        col(AMOUNT).filter(is_kind(EventKind::Purchase)).sum().alias("monetary"),
    ];
    let activity = lf.clone().group_by([col(key)]).agg(activity_aggs);
    let orders = events.purchase_orders().group_by([col(key)]).agg([
        col("order_ms").min().alias("first_ms"),
        col("order_ms").max().alias("last_ms"),
        len().cast(DataType::UInt32).alias("frequency"),
    ]);
    let mut table = activity.left_join(orders, col(key), col(key));

    // Distinct items and categories over bought lines, in one pass.
    let distinct = |column: &str, alias: &str| col(column).drop_nulls().n_unique().cast(DataType::UInt32).alias(alias);
    let mut distinct_aggs = Vec::new();
    if events.has_item_id {
        distinct_aggs.push(distinct(events.item_key(), "distinct_items"));
    }
    if events.has_category {
        distinct_aggs.push(distinct(CATEGORY, "distinct_categories"));
    }
    if !distinct_aggs.is_empty() {
        let bought = lf.clone().filter(is_bought_line()).group_by([col(key)]).agg(distinct_aggs);
        table = table.left_join(bought, col(key), col(key));
    }
    let null_u32 = || lit(NULL).cast(DataType::UInt32);
    if events.has_category {
        let top = lf
            .clone()
            .filter(is_kind(EventKind::Purchase).and(col(CATEGORY).is_not_null()))
            .group_by([col(key), col(CATEGORY)])
            .agg([col(AMOUNT).sum().alias("category_amount")])
            .group_by([col(key)])
            .agg([col(CATEGORY)
                .sort_by(
                    [col("category_amount"), col(CATEGORY)],
                    SortMultipleOptions::default().with_order_descending_multi([true, false]),
                )
                .first()
                .alias("top_category")]);
        table = table.left_join(top, col(key), col(key));
    }

    let days_since = |c: &str| (lit(as_of) - col(c)).cast(DataType::Float64) / lit(MS_PER_DAY);
    let frequency = col("frequency").fill_null(lit(0u32));
    let df = table
        .select([
            events.customer_id_expr(),
            days_since("last_ms").alias("recency_days"),
            days_since("first_ms").alias("tenure_days"),
            frequency.clone().alias("frequency"),
            col("monetary"),
            when(frequency.clone().gt(lit(0u32)))
                .then(col("monetary") / frequency.cast(DataType::Float64))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("avg_order_value"),
            col("views"),
            col("carts"),
            col("purchases"),
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
