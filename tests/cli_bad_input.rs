//! Bad input through the real binary: a clear message naming file, column and
//! row, a non-zero exit, and no output file left behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, run, stderr, stdout};

/// Runs `features` on `input` and checks the failure: non-zero exit, every
/// `expected` fragment in the message, no output file.
fn fails_with(input: &std::path::Path, extra: &[&str], expected: &[&str]) {
    let run = common::run_features(input, extra);
    common::assert_failed_saying(&run.output, expected);
    assert!(!run.out.exists(), "no output file may be left behind");
    assert_eq!(std::fs::read_dir(run.dir.path()).unwrap().count(), 0, "no temporary file either");
}

#[test]
fn missing_required_column_lists_columns_and_aliases() {
    let (_d, p) = fixture("baskets.csv", "transaction_id,item\n1,citrus fruit\n");
    fails_with(
        &p,
        &[],
        &[
            "baskets.csv",
            "required column 'customer_id' not found",
            "'transaction_id', 'item'",
            "visitorid",
            "--map customer_id=",
        ],
    );
}

#[test]
fn map_to_an_absent_column_is_named() {
    let (_d, p) = fixture("e.csv", "who,when\n1,2024-01-01\n");
    fails_with(
        &p,
        &["--map", "customer_id=nobody", "--map", "timestamp=when"],
        &["e.csv", "no column 'nobody'", "'who', 'when'"],
    );
}

#[test]
fn unparseable_timestamps_name_column_and_rows() {
    let (_d, p) = fixture("dates.csv", "customer_id,order_date\n1,yesterday\n2,31/31/2020\n");
    fails_with(
        &p,
        &[],
        &["dates.csv", "unparseable timestamp", "column 'order_date'", "row 1 (\"yesterday\")", "row 2"],
    );
}

#[test]
fn non_numeric_quantity_names_column_and_row() {
    let (_d, p) = fixture("q.csv", "customer_id,timestamp,Qty\n1,2024-01-01,three\n");
    fails_with(&p, &[], &["q.csv", "non-numeric quantity", "column 'Qty'", "row 1 (\"three\")"]);
}

#[test]
fn some_bad_rows_warn_but_succeed() {
    let (_d, p) = fixture("mixed.csv", "customer_id,timestamp,quantity\n1,2024-01-01,1\n2,soon,1\n3,2024-01-02,x\n");
    let run = common::run_features(&p, &[]);
    let (o, out) = (&run.output, &run.out);
    assert!(o.status.success(), "{}", stderr(o));
    let err = stderr(o);
    assert!(err.contains("row 2 (\"soon\")") && err.contains("row 3 (\"x\")"), "{err}");
    let csv = std::fs::read_to_string(out).unwrap();
    assert_eq!(csv.lines().count(), 2, "header + customer 1: {csv}");
    assert!(stdout(o).contains("1 customers"), "{}", stdout(o));
}

#[test]
fn empty_file() {
    let (_d, p) = fixture("empty.csv", "");
    fails_with(&p, &[], &["empty.csv", "empty"]);
}

#[test]
fn header_only_file() {
    let (_d, p) = fixture("header.csv", "customer_id,timestamp\n\n");
    fails_with(&p, &[], &["header.csv", "no data rows"]);
}

/// A file that says it is UTF-8 (its byte-order mark) but holds other bytes:
/// the bytes are named by line and column, with the encoding they look like.
#[test]
fn non_utf8_bytes_name_line_and_column() {
    let mut bytes = b"\xEF\xBB\xBFcustomer_id,timestamp,category\n1,2024-01-01,Toys\n2,2024-01-02,Caf".to_vec();
    bytes.extend_from_slice(&[0xE9, b'\n']); // Latin-1 "é"
    let (_d, p) = fixture("latin1.csv", bytes);
    fails_with(&p, &[], &["latin1.csv", "line 3", "column 'category'", "not UTF-8", "--encoding windows-1252"]);
}

/// The same bytes without a byte-order mark: detected as Windows-1252 and read.
#[test]
fn a_latin1_file_without_a_mark_is_read_in_its_encoding() {
    let mut bytes = b"customer_id,timestamp,category\n1,2024-01-01,Toys\n2,2024-01-02,Caf".to_vec();
    bytes.extend_from_slice(&[0xE9, b'\n']);
    let (_d, p) = fixture("latin1.csv", bytes);
    let run = common::run_features(&p, &[]);
    assert!(run.output.status.success(), "{}", stderr(&run.output));
    assert!(run.csv().lines().nth(2).is_some_and(|l| l.starts_with("2,") && l.ends_with(",Café")), "{}", run.csv());
    let o = run_inspect(&p);
    assert!(stdout(&o).contains("Windows-1252 (detected)"), "{}", stdout(&o));
}

fn run_inspect(p: &std::path::Path) -> std::process::Output {
    run(&["inspect", "--events", p.to_str().unwrap()])
}

/// `--encoding` names the encoding; a name that is none is a usage error
/// that says what names look like.
#[test]
fn an_unknown_encoding_is_named_and_a_known_one_is_used() {
    let (_d, p) = fixture("gbk.csv", encoding_rs::GBK.encode("客户编号,订单日期,类目\n1,2024-01-01,茶叶\n").0);
    fails_with(&p, &["--encoding", "klingon"], &["klingon", "unknown encoding", "gbk", "windows-1252"]);
    let features = common::run_features(&p, &["--encoding", "gb18030"]);
    assert!(features.output.status.success(), "{}", stderr(&features.output));
    assert!(features.csv().ends_with(",茶叶\n"), "{}", features.csv());
    let o = run(&["inspect", "--events", p.to_str().unwrap(), "--encoding", "GBK"]);
    assert!(stdout(&o).contains("GBK (given)"), "{}", stdout(&o));
}

#[test]
fn a_line_several_megabytes_long_is_read() {
    let long = "x".repeat(5 << 20);
    let (_d, p) =
        fixture("long.csv", format!("customer_id,timestamp,category\n1,2024-01-01,{long}\n2,2024-01-02,Toys\n"));
    let run = common::run_features(&p, &[]);
    let o = &run.output;
    assert!(o.status.success(), "{}", stderr(o));
    assert!(stdout(o).contains("2 customers"));
}

#[test]
fn huge_values_are_unusable_not_infinite() {
    let (_d, p) = fixture(
        "huge.csv",
        "customer_id,timestamp,quantity,price\n1,2024-01-01,1e308,1e308\n2,2024-01-01,1e999,1\n3,2024-01-01,1,2\n",
    );
    let run = common::run_features(&p, &[]);
    let (o, out) = (&run.output, &run.out);
    assert!(o.status.success(), "{}", stderr(o));
    let err = stderr(o);
    assert!(err.contains("non-numeric quantity") && err.contains("row 1") && err.contains("row 2"), "{err}");
    let csv = std::fs::read_to_string(out).unwrap();
    assert!(!csv.contains("inf"), "{csv}");
}

#[test]
fn file_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(&dir.path().join("nope.csv"), &[], &["nope.csv", "no such file"]);
}

#[test]
fn a_directory() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(dir.path(), &[], &["is a directory"]);
}

#[test]
fn garbage_as_of() {
    let (_d, p) = fixture("e.csv", "customer_id,timestamp\n1,2024-01-01\n");
    fails_with(&p, &["--as-of", "someday"], &["--as-of", "someday"]);
}

#[test]
fn failed_run_keeps_the_previous_output() {
    let (_d, bad) = fixture("bad.csv", "transaction_id,item\n1,x\n");
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("features.csv");
    std::fs::write(&out, "the good old file").unwrap();
    let o = run(&["features", "--events", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the good old file");
}

#[test]
fn unknown_map_target_is_a_usage_error() {
    let (_d, p) = fixture("e.csv", "customer_id,timestamp\n1,2024-01-01\n");
    let o = run(&["inspect", "--events", p.to_str().unwrap(), "--map", "shopper=who"]);
    common::assert_failed_saying(&o, &["unknown canonical column"]);
}

#[test]
fn a_bad_product_catalogue_is_named_with_what_is_wrong() {
    let sample = promo_studio::core::sample::bundled::events_path();
    let (dir, wrong) = fixture("products.csv", "sku,name\nP1,Tea\n");
    let missing = dir.path().join("nowhere.csv");
    for (catalogue, expected) in [
        (&missing, vec!["nowhere.csv: no such file"]),
        (&wrong, vec!["products.csv", "no item_id column", "sku, name"]),
    ] {
        let out = dir.path().join("recs.csv");
        let o = run(&[
            "recommend",
            "--events",
            sample.to_str().unwrap(),
            "--products",
            catalogue.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        common::assert_failed_saying(&o, &expected);
        assert!(!out.exists());
    }
}
