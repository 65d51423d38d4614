//! Bundles from baskets (`bundles`) through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{assert_failed_saying, fixture, run, shared_data, stderr, stdout};

type Rules = BTreeMap<(String, String), BTreeMap<String, String>>;

fn read_rules(text: &str) -> Rules {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            // Item names hold no commas in these files.
            let fields: BTreeMap<String, String> =
                header.iter().zip(line.split(',')).map(|(h, v)| (h.to_string(), v.to_string())).collect();
            ((fields["antecedents"].clone(), fields["consequents"].clone()), fields)
        })
        .collect()
}

/// The rules and their measures equal mlxtend's on the same thresholds
/// (tests/reference/groceries_rules.py made the reference).
#[test]
fn groceries_rules_equal_mlxtend() {
    let Some(path) = shared_data("groceries/groceries_long.csv") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules.csv");
    let o = run(&[
        "bundles",
        "--baskets",
        path.to_str().unwrap(),
        "--min-support",
        "0.001",
        "--min-confidence",
        "0.8",
        "--min-lift",
        "0",
        "--max-len",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("9835 baskets"), "{}", stdout(&o));
    let ours = read_rules(&std::fs::read_to_string(&out).unwrap());
    let reference = read_rules(include_str!("reference/groceries_rules.csv"));
    assert_eq!(reference.len(), 415);
    assert_eq!(ours.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>(), "the same rules");
    for (rule, theirs) in &reference {
        for measure in ["support", "confidence", "lift", "leverage", "conviction"] {
            let (a, b) = (&ours[rule][measure], &theirs[measure]);
            if b.is_empty() {
                assert_eq!(a, "inf", "{rule:?} {measure}");
                continue;
            }
            let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!((a - b).abs() <= 1e-9 * b.abs(), "{rule:?} {measure}: {a} vs mlxtend {b}");
        }
    }
}

#[test]
fn purchase_orders_are_the_baskets() {
    // Orders: o1 {x, y}, o2 {x, y}, o3 {x, z}; a return line and a view do not count.
    let (_d, events) = fixture(
        "e.csv",
        "customer_id,timestamp,order_id,item_id,quantity,event_type\n\
         a,2024-01-01,o1,x,1,purchase\na,2024-01-01,o1,y,2,purchase\n\
         b,2024-01-02,o2,x,1,purchase\nb,2024-01-02,o2,y,1,purchase\nb,2024-01-02,o2,z,-1,purchase\n\
         c,2024-01-03,o3,x,1,purchase\nc,2024-01-03,o3,z,1,purchase\nc,2024-01-04,,y,1,view\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let (out, sets) = (dir.path().join("rules.csv"), dir.path().join("sets.csv"));
    let o = run(&[
        "bundles",
        "--events",
        events.to_str().unwrap(),
        "--min-support",
        "0.5",
        "--min-confidence",
        "0.9",
        "--min-lift",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--itemsets-out",
        sets.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(summary["baskets"], 3);
    // {x} 3/3, {y} 2/3, {x,y} 2/3 (z: 1/3, under 0.5). Rules at confidence ≥ 0.9: y → x only.
    let rules = read_rules(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(rules.len(), 1);
    let r = &rules[&("y".to_string(), "x".to_string())];
    assert_eq!(r["confidence"], "1.0");
    assert_eq!(r["lift"], "1.0");
    let sets = std::fs::read_to_string(&sets).unwrap();
    assert!(sets.contains("x|y,2,2,"), "{sets}");
    assert!(sets.lines().skip(1).all(|l| !l.split(',').next().unwrap().contains('z')), "z is in 1 of 3: {sets}");
}

#[test]
fn bad_thresholds_and_columns_are_explained() {
    let (_d, baskets) = fixture("b.csv", "order,product\n1,a\n1,b\n");
    let o = run(&["bundles", "--baskets", baskets.to_str().unwrap(), "--min-support", "0"]);
    assert_failed_saying(&o, &["min_support must be above 0"]);
    let o = run(&["bundles", "--baskets", baskets.to_str().unwrap(), "--max-len", "1"]);
    assert_failed_saying(&o, &["max_len must be between 2"]);
    let o = run(&["bundles", "--baskets", baskets.to_str().unwrap()]);
    assert_failed_saying(&o, &["b.csv", "no column \"transaction_id\"", "order, product"]);
    let o = run(&[
        "bundles",
        "--baskets",
        baskets.to_str().unwrap(),
        "--basket-column",
        "order",
        "--item-column",
        "product",
        "--min-support",
        "0.5",
        "--min-confidence",
        "0.5",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"rules\":2"), "{}", stdout(&o));
}

#[test]
fn the_same_rules_on_one_or_many_threads() {
    common::assert_same_output_on_1_and_3_threads(&["bundles", "--events", "sample", "--min-support", "0.002"]);
}
