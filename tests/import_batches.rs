//! Files larger than one import batch: rows are numbered, de-duplicated and
//! keyed across batches exactly as within one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use promo_studio::core::features::customer_features;
use promo_studio::core::import::{UnusableReason, load_events};

/// Rows past one import batch (2^18 rows), each at its own second from
/// 2024-02-01 00:00 UTC (Unix seconds).
const ROWS: usize = 300_000;

/// A CSV of `header` and [`ROWS`] rows, row `i` written by `row(i, seconds)`.
fn csv_of(header: &str, row: impl Fn(usize, usize) -> String) -> String {
    let mut csv = String::with_capacity(ROWS * 40);
    csv.push_str(header);
    for i in 0..ROWS {
        csv.push_str(&row(i, 1_706_745_600 + i));
        csv.push('\n');
    }
    csv
}

#[test]
fn duplicates_bad_rows_and_mixed_ids_across_batches() {
    // Numeric ids first, text ids only near the end, a bad row and a
    // duplicate of row 1 far from it.
    let mut csv = csv_of("customer_id,timestamp,quantity,price\n", |i, seconds| {
        let id = if i < 299_990 { format!("{}", 1 + i % 1000) } else { format!("C{i}") };
        format!("{id},{seconds},1,{}", 1 + i % 7)
    });
    csv.push_str("1,1706745600,1,1\n"); // row 300,001 repeats row 1
    csv.push_str("2,not a time,1,1\n"); // row 300,002
    let (_dir, path) = common::fixture("big.csv", csv);
    let loaded = load_events(&path, &[]).unwrap();
    let r = &loaded.report;
    assert_eq!(r.rows_read, 300_002);
    assert_eq!(r.duplicates_removed, 1);
    assert_eq!(r.duplicate_examples, vec![300_001]);
    assert_eq!(r.unusable_count(UnusableReason::UnparseableTimestamp), 1);
    assert_eq!(r.unusable[0].examples[0].row, 300_002);
    assert_eq!(r.customers, Some(1000 + 10));
    assert_eq!(r.rows_usable, 300_000);

    let f = customer_features(&loaded.events, None).unwrap();
    assert_eq!(f.customers(), 1010);
    let ids = f.df.column("customer_id").unwrap().str().unwrap();
    let ids: Vec<&str> = (0..ids.len()).filter_map(|i| ids.get(i)).collect();
    assert!(ids.contains(&"1") && ids.contains(&"999") && ids.contains(&"C299995"), "numbers written out, text kept");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted as text");
}

#[test]
fn ids_past_u32_keep_their_value_and_small_ids_are_stored_narrow() {
    use polars::prelude::DataType;
    use promo_studio::core::events::col_name;
    // 4,294,967,296 is one past u32::MAX: the key must stay 64-bit.
    let csv = "customer_id,item_id,category,timestamp,event_type,quantity,price\n\
               4294967296,7,Shoes,2024-01-02,purchase,1,10\n\
               12,4294967297,Hats,2024-01-03,purchase,2,5\n\
               12,7, Shoes ,2024-01-04,view,1,10\n";
    let (_dir, path) = common::fixture("wide.csv", csv);
    let loaded = load_events(&path, &[]).unwrap();
    let df = &loaded.events.df;
    assert_eq!(df.column(col_name::CUSTOMER_KEY).unwrap().dtype(), &DataType::UInt64);
    assert_eq!(df.column(col_name::ITEM_KEY).unwrap().dtype(), &DataType::UInt64);
    assert_eq!(df.column(col_name::CATEGORY).unwrap().dtype(), &promo_studio::core::events::category_dtype());
    let categories = df.column(col_name::CATEGORY).unwrap().cast(&DataType::String).unwrap();
    let mut categories: Vec<&str> = categories.str().unwrap().iter().flatten().collect();
    categories.sort_unstable();
    assert_eq!(categories, ["Hats", "Shoes", "Shoes"], "category names, trimmed");
    let f = customer_features(&loaded.events, None).unwrap();
    let ids = f.df.column("customer_id").unwrap().str().unwrap();
    assert_eq!(ids.get(0), Some("12"));
    assert_eq!(ids.get(1), Some("4294967296"));
    let top = f.df.column("top_category").unwrap().str().unwrap();
    assert_eq!((top.get(0), top.get(1)), (Some("Hats"), Some("Shoes")));

    let small = "customer_id,item_id,timestamp\n3,5,2024-01-02\n4,6,2024-01-03\n";
    let (_dir, path) = common::fixture("small.csv", small);
    let df = load_events(&path, &[]).unwrap().events.df;
    assert_eq!(df.column(col_name::CUSTOMER_KEY).unwrap().dtype(), &DataType::UInt32);
    assert_eq!(df.column(col_name::ITEM_KEY).unwrap().dtype(), &DataType::UInt32);
}

#[test]
fn one_wide_id_in_a_later_batch_widens_the_whole_key_column() {
    use polars::prelude::DataType;
    use promo_studio::core::events::col_name;
    // 300,000 rows (two batches): small ids, then one past u32::MAX at the end.
    let mut csv = csv_of("customer_id,timestamp\n", |i, seconds| format!("{},{seconds}", 1 + i % 1000));
    csv.push_str("4294967296,1706745600\n");
    let (_dir, path) = common::fixture("widen.csv", csv);
    let loaded = load_events(&path, &[]).unwrap();
    let keys = loaded.events.df.column(col_name::CUSTOMER_KEY).unwrap();
    assert_eq!(keys.dtype(), &DataType::UInt64);
    let keys = keys.u64().unwrap();
    assert_eq!((keys.get(0), keys.get(ROWS)), (Some(1), Some(4_294_967_296)));
    assert_eq!(loaded.report.customers, Some(1001));
}
