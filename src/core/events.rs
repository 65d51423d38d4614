//! The canonical events table every later stage reads: one row per usable,
//! de-duplicated event, with typed columns named as in DATA.md §1.

use polars::prelude::*;

use crate::core::import::parse::EventKind;

/// Column names of the canonical table.
pub mod col_name {
    pub const ROW: &str = "row";
    pub const CUSTOMER_ID: &str = "customer_id";
    /// The customer id as a number, in place of `customer_id` when every id
    /// is a plain decimal integer (its text is the number written out):
    /// grouping by a number is several times faster than by text.
    pub const CUSTOMER_KEY: &str = "customer_key";
    /// The same for `item_id`.
    pub const ITEM_KEY: &str = "item_key";
    /// Event time as milliseconds since the Unix epoch (UTC).
    pub const TIMESTAMP_MS: &str = "timestamp_ms";
    /// The event type as a small integer code ([`EventKind::code`]).
    pub const EVENT_CODE: &str = "event_code";
    pub const ORDER_ID: &str = "order_id";
    pub const ITEM_ID: &str = "item_id";
    pub const CATEGORY: &str = "category";
    pub const QUANTITY: &str = "quantity";
    pub const PRICE: &str = "price";
    pub const AMOUNT: &str = "amount";
}

use col_name::*;

/// Usable events: `row` (1-based data row in the file), `customer_id` (or
/// `customer_key`), `timestamp_ms`, `event_code` (view 0, cart 1, purchase 2),
/// `quantity`, `amount`, and `order_id`, `item_id` (or `item_key`),
/// `category` ([`category_dtype`]), `price` when the file has them.
#[derive(Clone, Debug)]
pub struct EventTable {
    pub df: DataFrame,
    pub has_order_id: bool,
    pub has_item_id: bool,
    pub has_category: bool,
    pub has_price: bool,
    pub has_customer_key: bool,
    pub has_item_key: bool,
}

/// The type of the `category` column: categorical, because a log names a few
/// hundred categories ten million times. A code per row takes a quarter of a
/// text cell's memory, and group-bys on it run twice as fast. Read it as text
/// with a cast; its sort order is not the names' order.
pub fn category_dtype() -> DataType {
    DataType::from_categories(Categories::global())
}

/// `event_type == kind`
pub fn is_kind(kind: EventKind) -> Expr {
    col(EVENT_CODE).eq(lit(kind.code()))
}

/// A purchase line with a positive quantity: what makes an order a purchase order.
pub fn is_bought_line() -> Expr {
    is_kind(EventKind::Purchase).and(col(QUANTITY).gt(lit(0.0)))
}

impl EventTable {
    pub fn len(&self) -> usize {
        self.df.height()
    }

    pub fn is_empty(&self) -> bool {
        self.df.height() == 0
    }

    /// Keeps only the named columns (those it has), dropping the others' memory.
    pub fn retain_columns(&mut self, keep: &[&str]) {
        let drop: Vec<String> = self
            .df
            .get_column_names()
            .into_iter()
            .filter(|c| !keep.contains(&c.as_str()))
            .map(|c| c.to_string())
            .collect();
        for name in drop {
            let _ = self.df.drop_in_place(&name);
        }
        self.has_price &= self.df.column(PRICE).is_ok();
        self.has_order_id &= self.df.column(ORDER_ID).is_ok();
        self.has_category &= self.df.column(CATEGORY).is_ok();
        self.has_item_id &= self.df.column(self.item_key()).is_ok();
    }

    /// The latest event time, in epoch milliseconds.
    pub fn last_timestamp_ms(&self) -> Option<i64> {
        self.df.column(TIMESTAMP_MS).ok()?.i64().ok()?.max()
    }

    pub fn first_timestamp_ms(&self) -> Option<i64> {
        self.df.column(TIMESTAMP_MS).ok()?.i64().ok()?.min()
    }

    /// The events up to and including `as_of_ms` (a calibration cut).
    pub fn up_to(&self, as_of_ms: i64) -> PolarsResult<EventTable> {
        let df = self.df.clone().lazy().filter(col(TIMESTAMP_MS).lt_eq(lit(as_of_ms))).collect()?;
        Ok(self.with_rows(df))
    }

    /// Other rows of this table (a filter or a sort of it), with its columns' flags.
    pub fn with_rows(&self, df: DataFrame) -> EventTable {
        EventTable { df, ..self.clone() }
    }

    /// The column that identifies a customer in group-bys and joins: the
    /// numeric key where there is one, else the id text.
    pub fn customer_key(&self) -> &'static str {
        if self.has_customer_key { CUSTOMER_KEY } else { CUSTOMER_ID }
    }

    /// The customer id as text, named `customer_id`.
    pub fn customer_id_expr(&self) -> Expr {
        if self.has_customer_key {
            col(CUSTOMER_KEY).cast(DataType::String).alias(CUSTOMER_ID)
        } else {
            col(CUSTOMER_ID)
        }
    }

    /// The column that identifies an item (numeric key or text); only with `has_item_id`.
    pub fn item_key(&self) -> &'static str {
        if self.has_item_key { ITEM_KEY } else { ITEM_ID }
    }

    /// The item id as text, named `item_id`; only with `has_item_id`.
    pub fn item_id_expr(&self) -> Expr {
        if self.has_item_key { col(ITEM_KEY).cast(DataType::String).alias(ITEM_ID) } else { col(ITEM_ID) }
    }

    /// One row per purchase order: the customer key, `order_ms` (the earliest
    /// time of its purchase lines with quantity > 0). An order is identified by
    /// `order_id` when the file has one, else by (customer_id, timestamp).
    /// (`features::orders_and_variety` counts orders without order ids by
    /// the same rule, in its own group-by: keep the two together.)
    pub fn purchase_orders(&self) -> LazyFrame {
        let order_key = if self.has_order_id { col(ORDER_ID) } else { col(TIMESTAMP_MS) };
        self.df
            .clone()
            .lazy()
            .filter(is_bought_line())
            .group_by([col(self.customer_key()), order_key.alias("__order")])
            .agg([col(TIMESTAMP_MS).min().alias("order_ms")])
            .select([col(self.customer_key()), col("order_ms")])
    }
}
