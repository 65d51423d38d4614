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
/// column of the file (DATA.md §2). Fingerprints (a seeded hash of each row's
/// values, the file's unmapped columns included) that occur more than once
/// pick the few candidate rows; only those are compared in full on the
/// canonical columns, so a hash collision can never remove a row that differs
/// in a mapped column. The unmapped columns are not kept: two rows that
/// differ only there are told apart by their 64-bit fingerprints alone (a
/// collision between two such rows has odds of about 1 in 2^64).
fn find_duplicates(df: &DataFrame) -> PolarsResult<Vec<u32>> {
    let fingerprint = df.column(FINGERPRINT)?.u64()?;
    let parts: Vec<&[u64]> = fingerprint.downcast_iter().map(|a| a.values().as_slice()).collect();
    let repeated = repeated_values(&parts);
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

/// Bits of a value that pick its bucket in [`repeated_values`].
const BUCKET_BITS: u32 = 8;

/// The values that occur more than once in `parts`, for well-mixed values
/// (hashes). They are dealt into buckets by their top bits; each bucket,
/// small enough for the processor's cache, is then searched for repeats with
/// a hash table of its own, in parallel. A third of the time of sorting them all.
fn repeated_values(parts: &[&[u64]]) -> std::collections::HashSet<u64> {
    let bucket = |v: u64| (v >> (64 - BUCKET_BITS)) as usize;
    let mut starts = vec![0usize; (1 << BUCKET_BITS) + 1];
    for &v in parts.iter().flat_map(|p| p.iter()) {
        starts[bucket(v) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut dealt = vec![0u64; starts[starts.len() - 1]];
    let mut next = starts.clone();
    for &v in parts.iter().flat_map(|p| p.iter()) {
        let b = bucket(v);
        dealt[next[b]] = v;
        next[b] += 1;
    }
    starts
        .windows(2)
        .map(|w| &dealt[w[0]..w[1]])
        .collect::<Vec<_>>()
        .into_par_iter()
        .map_init(Vec::new, |table, bucket| repeats_in(bucket, table))
        .flatten_iter()
        .collect()
}

/// The values of `values` seen before in it, by open addressing on their low
/// bits in `table` (reused between buckets; 0 marks an empty slot, so the
/// value 0 is counted apart).
fn repeats_in(values: &[u64], table: &mut Vec<u64>) -> Vec<u64> {
    let slots = (values.len() * 2).next_power_of_two().max(16);
    table.clear();
    table.resize(slots, 0);
    let mask = slots - 1;
    let mut repeats = Vec::new();
    let mut zero_seen = false;
    for &v in values {
        if v == 0 {
            if zero_seen {
                repeats.push(0);
            }
            zero_seen = true;
            continue;
        }
        let mut slot = v as usize & mask;
        loop {
            match table[slot] {
                0 => {
                    table[slot] = v;
                    break;
                }
                t if t == v => {
                    repeats.push(v);
                    break;
                }
                _ => slot = (slot + 1) & mask,
            }
        }
    }
    repeats
}

/// Counts what the usable table holds: customers, items, purchase orders.
/// Apart from the row counts because it costs three group-bys, which a
/// command that computes features anyway can skip.
pub(super) fn count_contents(events: &EventTable, report: &mut QualityReport) -> PolarsResult<()> {
    let customers = col(events.customer_key()).n_unique().cast(DataType::UInt64).alias("customers");
    let stats = events.df.clone().lazy().select([customers]).collect()?;
    report.customers = first_u64(&stats, "customers");
    report.items = count_items(events)?;
    report.purchase_orders = Some(events.purchase_orders().collect()?.height() as u64);
    Ok(())
}

/// Distinct items in the table, where it has item ids.
pub fn count_items(events: &EventTable) -> PolarsResult<Option<u64>> {
    if !events.has_item_id {
        return Ok(None);
    }
    let items = col(events.item_key()).drop_nulls().n_unique().cast(DataType::UInt64).alias("items");
    Ok(first_u64(&events.df.clone().lazy().select([items]).collect()?, "items"))
}

/// The first value of a `u64` column of a one-row table of counts.
fn first_u64(stats: &DataFrame, name: &str) -> Option<u64> {
    stats.column(name).ok()?.u64().ok()?.get(0)
}

/// Fills the row counts of the usable table into the report.
pub(crate) fn summarise(events: &EventTable, report: &mut QualityReport) -> PolarsResult<()> {
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
    let get = |name: &str| first_u64(&stats, name).unwrap_or(0);
    report.rows_usable = events.len() as u64;
    report.events = EventCounts { view: get("view"), cart: get("cart"), purchase: get("purchase") };
    report.returns = get("returns");
    report.negative_prices = get("negative_prices");
    report.zero_prices = get("zero_prices");
    report.first_timestamp = events.first_timestamp_ms().map(parse::format_ms);
    report.last_timestamp = events.last_timestamp_ms().map(parse::format_ms);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The bucketed search finds exactly the values a sort finds repeated,
    /// across parts, including the value 0 (the empty-slot marker) and
    /// values that fill one bucket.
    #[test]
    fn repeated_values_are_those_a_sort_finds() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut values: Vec<u64> = (0..50_000).map(|_| rng.r#gen()).collect();
        for i in 0..300 {
            let v = values[i * 97];
            values.push(v);
        }
        values.extend([0, 7, 0, u64::MAX, u64::MAX, u64::MAX]);
        // One crowded bucket: same top bits, different low bits, one repeat.
        values.extend((0..5_000u64).map(|i| (3 << 56) | i));
        values.push(3 << 56);
        let (a, b) = values.split_at(20_011);
        let found = repeated_values(&[a, b]);

        let mut sorted = values.clone();
        sorted.sort_unstable();
        let expected: std::collections::HashSet<u64> =
            sorted.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
        assert_eq!(found, expected);
        assert!(found.contains(&0) && !found.contains(&7) && found.contains(&u64::MAX) && found.contains(&(3 << 56)));
        assert_eq!(found.len(), 303);
    }

    /// Rows that share a fingerprint but differ in a column are both kept;
    /// only a row equal in every column to an earlier one is a duplicate.
    #[test]
    fn a_shared_fingerprint_alone_removes_no_row() {
        let df = df![
            col_name::ROW => [1u32, 2, 3, 4],
            col_name::TIMESTAMP_MS => [10i64, 10, 11, 10],
            col_name::AMOUNT => [1.0, 2.0, 1.0, 1.0],
            FINGERPRINT => [7u64, 7, 9, 7],
        ]
        .unwrap();
        // Rows 1, 2 and 4 share fingerprint 7; only row 4 repeats row 1.
        assert_eq!(find_duplicates(&df).unwrap(), [3]);
    }
}
