//! Interactions (DATA.md §4): who bought which item, with customers and items
//! numbered densely so that the models work on sparse index lists.

use polars::prelude::*;

use crate::core::events::{EventTable, col_name, is_bought_line, is_kind};
use crate::core::import::parse::EventKind;
use crate::core::table::{f64_column, text_column};

/// (customer, item) pairs from purchase lines with quantity > 0, each with the
/// time the customer first bought the item.
#[derive(Clone, Debug, Default)]
pub struct Interactions {
    /// Customer ids, sorted; index = customer number.
    pub customers: Vec<String>,
    /// Item ids, sorted; index = item number.
    pub items: Vec<String>,
    /// Per customer: (item, first purchase time in ms), sorted by item.
    pub bought: Vec<Vec<(u32, i64)>>,
    /// Per customer: views and carts of items someone bought, as (item, first
    /// time in ms, kind); models may weigh them in (see `EventWeights`).
    pub signals: Vec<Vec<(u32, i64, EventKind)>>,
}

#[derive(Debug, thiserror::Error)]
pub enum InteractionsError {
    #[error("the events have no item_id column, so there is nothing to recommend; map one with --map item_id=<column>")]
    NoItems,
    #[error("there are no purchase lines with an item and a positive quantity")]
    NoPurchases,
    #[error("reading the events failed: {0}")]
    Table(#[from] PolarsError),
}

impl Interactions {
    /// Purchases only (what the protocol and most models need).
    pub fn from_events(events: &EventTable) -> Result<Interactions, InteractionsError> {
        Interactions::from_events_with(events, false)
    }

    /// Purchases, and with `views_and_carts` also the first view/cart of each
    /// (customer, item) — a group-by over all events, so only when weighted in.
    pub fn from_events_with(events: &EventTable, views_and_carts: bool) -> Result<Interactions, InteractionsError> {
        if !events.has_item_id {
            return Err(InteractionsError::NoItems);
        }
        let df = events
            .df
            .clone()
            .lazy()
            .filter(is_bought_line().and(col(events.item_key()).is_not_null()))
            .group_by([col(events.customer_key()), col(events.item_key())])
            .agg([col(col_name::TIMESTAMP_MS).min().alias("first_ms")])
            .select([events.customer_id_expr(), events.item_id_expr(), col("first_ms")])
            .sort(["customer_id", "item_id"], SortMultipleOptions::default())
            .collect()?;
        if df.height() == 0 {
            return Err(InteractionsError::NoPurchases);
        }
        let customer_ids = text_column(&df, "customer_id")?;
        let item_ids = text_column(&df, "item_id")?;
        let first = f64_column(&df, "first_ms")?;
        let mut items: Vec<String> = item_ids.clone();
        items.sort();
        items.dedup();
        let mut customers = Vec::new();
        let mut bought: Vec<Vec<(u32, i64)>> = Vec::new();
        for row in 0..df.height() {
            if customers.last() != Some(&customer_ids[row]) {
                customers.push(customer_ids[row].clone());
                bought.push(Vec::new());
            }
            let item = items.binary_search(&item_ids[row]).unwrap_or(0) as u32;
            if let Some(list) = bought.last_mut() {
                list.push((item, first[row].unwrap_or(0.0) as i64));
            }
        }
        let mut signals = vec![Vec::new(); customers.len()];
        if !views_and_carts {
            return Ok(Interactions { customers, items, bought, signals });
        }
        let seen = events
            .df
            .clone()
            .lazy()
            .filter((is_kind(EventKind::View).or(is_kind(EventKind::Cart))).and(col(events.item_key()).is_not_null()))
            .group_by([col(events.customer_key()), col(events.item_key()), col(col_name::EVENT_CODE)])
            .agg([col(col_name::TIMESTAMP_MS).min().alias("first_ms")])
            .select([events.customer_id_expr(), events.item_id_expr(), col(col_name::EVENT_CODE), col("first_ms")])
            .sort(["customer_id", "item_id", col_name::EVENT_CODE], SortMultipleOptions::default())
            .collect()?;
        let (ids, seen_items) = (text_column(&seen, "customer_id")?, text_column(&seen, "item_id")?);
        let (codes, times) = (f64_column(&seen, col_name::EVENT_CODE)?, f64_column(&seen, "first_ms")?);
        for row in 0..seen.height() {
            let (Ok(c), Ok(i)) = (customers.binary_search(&ids[row]), items.binary_search(&seen_items[row])) else {
                continue; // a customer who never bought, or an item nobody bought
            };
            let kind =
                if codes[row] == Some(f64::from(EventKind::Cart.code())) { EventKind::Cart } else { EventKind::View };
            signals[c].push((i as u32, times[row].unwrap_or(0.0) as i64, kind));
        }
        Ok(Interactions { customers, items, bought, signals })
    }

    /// Builds interactions from explicit (customer, item, time) triples (tests, tools).
    pub fn from_triples(triples: &[(&str, &str, i64)]) -> Interactions {
        let mut items: Vec<String> = triples.iter().map(|t| t.1.to_string()).collect();
        items.sort();
        items.dedup();
        let mut customers: Vec<String> = triples.iter().map(|t| t.0.to_string()).collect();
        customers.sort();
        customers.dedup();
        let mut bought = vec![Vec::new(); customers.len()];
        for &(c, i, t) in triples {
            let c = customers.binary_search(&c.to_string()).unwrap_or(0);
            let i = items.binary_search(&i.to_string()).unwrap_or(0) as u32;
            match bought[c].iter_mut().find(|(item, _): &&mut (u32, i64)| *item == i) {
                Some(entry) => entry.1 = entry.1.min(t),
                None => bought[c].push((i, t)),
            }
        }
        for list in &mut bought {
            list.sort();
        }
        let signals = vec![Vec::new(); customers.len()];
        Interactions { customers, items, bought, signals }
    }
}
