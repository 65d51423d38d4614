//! Files larger than one import batch: rows are numbered, de-duplicated and
//! keyed across batches exactly as within one.

mod common;

use promo_studio::core::features::customer_features;
use promo_studio::core::import::{UnusableReason, load_events};

#[test]
fn duplicates_bad_rows_and_mixed_ids_across_batches() {
    // 300,000 rows: more than one batch (2^18 rows). Numeric ids first, text
    // ids only near the end, a bad row and a duplicate of row 1 far from it.
    let rows = 300_000;
    let mut csv = String::with_capacity(rows * 40);
    csv.push_str("customer_id,timestamp,quantity,price\n");
    for i in 0..rows {
        let id = if i < 299_990 { format!("{}", 1 + i % 1000) } else { format!("C{i}") };
        // Unix seconds from 2024-02-01 00:00 UTC: every row its own second.
        csv.push_str(&format!("{id},{},1,{}\n", 1_706_745_600 + i, 1 + i % 7));
    }
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
