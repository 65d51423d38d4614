//! Checked batches joined into the events table: one id representation for
//! all, exact duplicates removed, and the report's counts.

use polars::prelude::*;
use rayon::prelude::*;

use super::columns::{Canonical, ColumnMapping};
use super::parse::{self, EventKind};
use super::quality::{EventCounts, MAX_EXAMPLES, QualityReport, UnusableRows};
use super::rows::{CheckedBatch, FINGERPRINT, REASONS};
use crate::core::events::{EventTable, col_name, is_kind};

/// Joins checked batches into the events table: one id representation for
/// all (numeric keys only if every batch had them), exact duplicates removed
/// across batches, and the report's counts.
pub(super) fn assemble(
    batches: Vec<CheckedBatch>,
    mapping: &ColumnMapping,
) -> PolarsResult<(EventTable, QualityReport)> {
    let mut report = QualityReport { rows_read: batches.iter().map(|b| b.rows_read).sum(), ..Default::default() };
    for why in REASONS {
        let parts: Vec<&UnusableRows> =
            batches.iter().flat_map(|b| b.unusable.iter().filter(move |u| u.reason == why)).collect();
        let Some(first) = parts.first() else { continue };
        report.unusable.push(UnusableRows {
            count: parts.iter().map(|u| u.count).sum(),
            examples: parts.iter().flat_map(|u| u.examples.iter().cloned()).take(MAX_EXAMPLES).collect(),
            ..(*first).clone()
        });
    }
    report.rows_unusable = report.unusable.iter().map(|u| u.count).sum();

    let numeric_ids = batches.iter().all(|b| b.numeric_ids);
    let has_item = mapping.has(Canonical::ItemId);
    let numeric_items = has_item && batches.iter().all(|b| b.numeric_items);
    // One batch with an id past u32 makes the whole key column 64-bit.
    let wide = |key: &str| batches.iter().any(|b| b.df.column(key).is_ok_and(|c| c.dtype() == &DataType::UInt64));
    let wide_keys: Vec<&str> = [col_name::CUSTOMER_KEY, col_name::ITEM_KEY].into_iter().filter(|k| wide(k)).collect();
    let mut df: Option<DataFrame> = None;
    for batch in batches {
        let mut part = batch.df;
        for &key in &wide_keys {
            if let Ok(index) = part.try_get_column_index(key) {
                let widened = part.columns()[index].cast(&DataType::UInt64)?;
                part.replace_column(index, widened)?;
            }
        }
        // A batch with numeric ids joins others with text ids: write its numbers out.
        for (numeric, batch_numeric, key, text) in [
            (numeric_ids, batch.numeric_ids, col_name::CUSTOMER_KEY, col_name::CUSTOMER_ID),
            (numeric_items, batch.numeric_items, col_name::ITEM_KEY, col_name::ITEM_ID),
        ] {
            if !numeric && batch_numeric {
                let as_text = part.column(key)?.cast(&DataType::String)?.with_name(text.into());
                part.replace_column(part.try_get_column_index(key)?, as_text)?;
            }
        }
        match df.as_mut() {
            None => df = Some(part),
            Some(all) => {
                all.vstack_mut_owned(part)?;
            }
        }
    }
    let Some(mut df) = df else {
        polars_bail!(NoData: "no rows");
    };

    let t = crate::core::trace::phase("dedupe");
    let duplicates = find_duplicates(&df)?;
    report.duplicates_removed = duplicates.len() as u64;
    let rows = df.column(col_name::ROW)?.u32()?;
    report.duplicate_examples =
        duplicates.iter().take(MAX_EXAMPLES).filter_map(|&i| rows.get(i as usize).map(u64::from)).collect();
    let _ = df.drop_in_place(FINGERPRINT)?;
    if !duplicates.is_empty() {
        let mut keep = vec![true; df.height()];
        for &i in &duplicates {
            keep[i as usize] = false;
        }
        df = df.filter(&BooleanChunked::from_iter_values("keep".into(), keep.into_iter()))?;
    }
    drop(t);

    let _t = crate::core::trace::phase("summarise");
    let events = EventTable {
        df,
        has_order_id: mapping.has(Canonical::OrderId),
        has_item_id: has_item,
        has_category: mapping.has(Canonical::Category),
        has_price: mapping.has(Canonical::Price),
        has_customer_key: numeric_ids,
        has_item_key: numeric_items,
    };
    summarise(&events, &mut report)?;
    Ok((events, report))
}

/// Positions (ascending) of rows that repeat an earlier row exactly in every
/// canonical column. Fingerprints (a seeded hash of each row's values) are
/// sorted to find the few that occur twice; only rows carrying one of those
/// are compared in full, so a hash collision can never remove a row.
fn find_duplicates(df: &DataFrame) -> PolarsResult<Vec<u32>> {
    let fingerprint = df.column(FINGERPRINT)?.u64()?;
    let mut sorted: Vec<u64> = Vec::with_capacity(df.height());
    for arr in fingerprint.downcast_iter() {
        sorted.extend_from_slice(arr.values());
    }
    // Plain u64s sort twice as fast as (fingerprint, position) pairs.
    sorted.par_sort_unstable();
    let repeated: std::collections::HashSet<u64> =
        sorted.par_windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    drop(sorted);
    if repeated.is_empty() {
        return Ok(Vec::new());
    }
    // Rows with a repeated fingerprint, in file order, grouped by it.
    let mut groups: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    for (i, h) in fingerprint.into_no_null_iter().enumerate() {
        if repeated.contains(&h) {
            groups.entry(h).or_default().push(i);
        }
    }
    // Columns compared in full: all but the row number and the fingerprint.
    let compared: Vec<&Column> =
        df.columns().iter().filter(|c| c.name() != col_name::ROW && c.name() != FINGERPRINT).collect();
    let same = |a: usize, b: usize| -> PolarsResult<bool> {
        for c in &compared {
            if c.get(a)? != c.get(b)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let mut duplicates = Vec::new();
    for rows in groups.values() {
        // A row is a duplicate if an earlier kept row equals it.
        let mut kept: Vec<usize> = Vec::new();
        for &i in rows {
            let mut duplicate = false;
            for &k in &kept {
                if same(k, i)? {
                    duplicate = true;
                    break;
                }
            }
            if duplicate {
                duplicates.push(i as u32);
            } else {
                kept.push(i);
            }
        }
    }
    duplicates.sort_unstable();
    Ok(duplicates)
}

/// Counts what the usable table holds: customers, items, purchase orders.
/// Apart from the row counts because it costs three group-bys, which a
/// command that computes features anyway can skip.
pub(super) fn count_contents(events: &EventTable, report: &mut QualityReport) -> PolarsResult<()> {
    let mut aggs = vec![col(events.customer_key()).n_unique().cast(DataType::UInt64).alias("customers")];
    if events.has_item_id {
        aggs.push(col(events.item_key()).drop_nulls().n_unique().cast(DataType::UInt64).alias("items"));
    }
    let stats = events.df.clone().lazy().select(aggs).collect()?;
    let get = |name: &str| stats.column(name).ok().and_then(|c| c.u64().ok()).and_then(|c| c.get(0));
    report.customers = get("customers");
    report.items = get("items");
    report.purchase_orders = Some(events.purchase_orders().collect()?.height() as u64);
    Ok(())
}

/// Fills the row counts of the usable table into the report.
fn summarise(events: &EventTable, report: &mut QualityReport) -> PolarsResult<()> {
    use col_name::*;
    // A boolean column sums to its count of trues: no 8-byte-per-row copy as numbers.
    let count_if = |e: Expr| e.sum().cast(DataType::UInt64);
    let mut aggs = vec![
        count_if(is_kind(EventKind::View)).alias("view"),
        count_if(is_kind(EventKind::Cart)).alias("cart"),
        count_if(is_kind(EventKind::Purchase)).alias("purchase"),
        count_if(is_kind(EventKind::Purchase).and(col(QUANTITY).lt(lit(0.0)))).alias("returns"),
    ];
    if events.has_price {
        aggs.push(count_if(col(PRICE).lt(lit(0.0))).alias("negative_prices"));
        aggs.push(count_if(col(PRICE).eq(lit(0.0))).alias("zero_prices"));
    }
    let stats = events.df.clone().lazy().select(aggs).collect()?;
    let get =
        |name: &str| -> u64 { stats.column(name).ok().and_then(|c| c.u64().ok()).and_then(|c| c.get(0)).unwrap_or(0) };
    report.rows_usable = events.len() as u64;
    report.events = EventCounts { view: get("view"), cart: get("cart"), purchase: get("purchase") };
    report.returns = get("returns");
    report.negative_prices = get("negative_prices");
    report.zero_prices = get("zero_prices");
    report.first_timestamp = events.first_timestamp_ms().map(parse::format_ms);
    report.last_timestamp = events.last_timestamp_ms().map(parse::format_ms);
    Ok(())
}
