//! Exact duplicates are rows equal in every column of the file, mapped or not
//! (DATA.md §2): two lines that differ only in a column the features do not
//! read are both kept, in every format and whatever that column's type.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use polars::prelude::*;
use promo_studio::core::features::customer_features;
use promo_studio::core::import::{LoadedEvents, load_events};

fn monetary(loaded: &LoadedEvents) -> Vec<(String, f64)> {
    let f = customer_features(&loaded.events, None).unwrap();
    let ids = f.df.column("customer_id").unwrap().str().unwrap().clone();
    let m = f.df.column("monetary").unwrap().f64().unwrap().clone();
    ids.iter().zip(m.iter()).map(|(i, m)| (i.unwrap().to_string(), m.unwrap())).collect()
}

/// Online Retail's invoice 554084 in small: two lines of one product, same
/// time, quantity and price, whose descriptions differ, are two lines.
#[test]
fn lines_that_differ_only_in_an_unmapped_column_are_both_kept() {
    let csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n\
        554084,23298,\"BUNTING , SPOTTY\",3,2011-05-22 12:41:00,4.95,12909.0,United Kingdom\n\
        554084,23298,SPOTTY BUNTING,3,2011-05-22 12:41:00,4.95,12909.0,United Kingdom\n\
        554084,23298,SPOTTY BUNTING,3,2011-05-22 12:41:00,4.95,12909.0,United Kingdom\n\
        575335,23203,JUMBO BAG VINTAGE DOILY,100,2011-11-09 13:51:00,1.79,12931.0,United Kingdom\n\
        575335,23203,JUMBO BAG VINTAGE DOILY,100,2011-11-09 13:51:00,1.79,12931.0,\n\
        575335,23203,JUMBO BAG VINTAGE DOILY,100,2011-11-09 13:51:00,1.79,12931.0,\n";
    let (_dir, path) = common::fixture("retail.csv", csv);
    let loaded = load_events(&path, &[]).unwrap();
    let r = &loaded.report;
    assert_eq!((r.rows_read, r.rows_usable, r.duplicates_removed), (6, 4, 2));
    assert_eq!(r.duplicate_examples, [3, 6], "the third bunting line; the doily line without a country, twice");
    let m = monetary(&loaded);
    assert_eq!(m[0].0, "12909");
    assert!((m[0].1 - 2.0 * 14.85).abs() < 1e-9, "{m:?}");
    assert!((m[1].1 - 2.0 * 179.0).abs() < 1e-9, "{m:?}");
}

/// The same rows read in pieces and batches: the unmapped columns of every
/// piece enter its rows' fingerprints, duplicates are found across pieces.
#[test]
fn unmapped_columns_count_across_batches() {
    let mut csv = String::from("customer_id,timestamp,price,note\n");
    for i in 0..300_000 {
        csv += &format!("{},{},1.5,n{}\n", i % 1000, 1_700_000_000 + i, i % 3);
    }
    csv += "0,1700000000,1.5,n0\n"; // repeats row 1 exactly
    csv += "0,1700000000,1.5,other\n"; // differs in its note only
    let (_dir, path) = common::fixture("big.csv", csv);
    let r = load_events(&path, &[]).unwrap().report;
    assert_eq!((r.rows_read, r.duplicates_removed), (300_002, 1));
    assert_eq!(r.duplicate_examples, [300_001]);
}

/// Typed columns a Parquet file holds beside the mapped ones (numbers,
/// dates, lists) tell rows apart just as text does.
#[test]
fn typed_unmapped_parquet_columns_tell_rows_apart() {
    let tags = |t: &[&str]| Series::new("".into(), t);
    let mut df = df![
        "customer_id" => ["a", "a", "a", "a", "a"],
        "timestamp" => ["2024-01-01 10:00:00"; 5],
        "amount" => [5.0, 5.0, 5.0, 5.0, 5.0],
        "store" => [1i64, 2, 1, 1, 1],
        "weight" => [0.5, 0.5, 0.75, 0.5, 0.5],
        "tags" => [tags(&["x"]), tags(&["x"]), tags(&["x"]), tags(&["y"]), tags(&["x"])],
    ]
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap()).finish(&mut df).unwrap();
    let loaded = load_events(&path, &[]).unwrap();
    // Row 5 repeats row 1 in every column; rows 2, 3 and 4 differ from it in store, weight, tags.
    assert_eq!((loaded.report.rows_usable, loaded.report.duplicates_removed), (4, 1));
    assert_eq!(loaded.report.duplicate_examples, [5]);
    assert_eq!(monetary(&loaded), [("a".to_string(), 20.0)]);
}

/// Nested JSON objects are columns too.
#[test]
fn nested_json_columns_tell_rows_apart() {
    let json = r#"{"customer_id":"a","timestamp":"2024-01-01","amount":2,"meta":{"source":"app","n":1}}
{"customer_id":"a","timestamp":"2024-01-01","amount":2,"meta":{"source":"web","n":1}}
{"customer_id":"a","timestamp":"2024-01-01","amount":2,"meta":{"source":"app","n":1}}
"#;
    let (_dir, path) = common::fixture("events.ndjson", json);
    let loaded = load_events(&path, &[]).unwrap();
    assert_eq!((loaded.report.rows_usable, loaded.report.duplicates_removed), (2, 1));
    assert_eq!(loaded.report.duplicate_examples, [3]);
}
