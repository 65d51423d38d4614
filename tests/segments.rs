//! Segments (DATA.md §3) through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, run, shared_data, stderr, stdout};
use promo_studio::core::sample::bundled::events_path as sample_events_path;

fn segment(args: &[&str]) -> (std::process::Output, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("segments.csv");
    let mut all = vec!["segment", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    (run(&all), dir, out)
}

#[test]
fn online_retail_inertia_matches_scikit_learn() {
    let Some(path) = shared_data("online_retail/online_retail.parquet") else {
        return;
    };
    let (o, _dir, out) = segment(&["--events", path.to_str().unwrap(), "--k", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let inertia: f64 = text.split("inertia ").nth(1).unwrap().split(')').next().unwrap().parse().unwrap();
    // scikit-learn 1.x KMeans(n_clusters=5, n_init=10, random_state=42) on the same
    // matrix: 2960.074755 (tests/reference/kmeans_online_retail.py).
    let reference = 2960.074755;
    assert!((inertia - reference).abs() / reference < 0.005, "ours {inertia}, scikit-learn {reference}");
    let csv = std::fs::read_to_string(out).unwrap();
    assert_eq!(csv.lines().next(), Some("customer_id,segment,segment_name"));
    assert_eq!(csv.lines().count(), 4_372 + 1);
    // The 33 customers with no purchase order are segment −1.
    assert_eq!(csv.lines().filter(|l| l.contains(",-1,No purchase yet")).count(), 33);
}

#[test]
fn same_seed_same_segments_on_one_or_many_threads() {
    let sample = sample_events_path();
    common::assert_same_output_on_1_and_3_threads(&[
        "segment",
        "--events",
        sample.to_str().unwrap(),
        "--k",
        "6",
        "--seed",
        "7",
    ]);
}

#[test]
fn profiles_and_timings() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles.json");
    let sample = sample_events_path();
    let (o, _d, _out) =
        segment(&["--events", sample.to_str().unwrap(), "--timings", "--profiles", profiles.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let last = stderr(&o).lines().last().unwrap().to_string();
    let timings: serde_json::Value = serde_json::from_str(&last).unwrap();
    for key in ["read_s", "kmeans_s", "total_s"] {
        assert!(timings[key].as_f64().is_some(), "{key} in {last}");
    }
    let p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(profiles).unwrap()).unwrap();
    let segments = p.as_array().unwrap();
    assert_eq!(segments.len(), 6, "5 segments and 'No purchase yet'");
    let names: std::collections::HashSet<&str> = segments.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 6, "unique names");
    let revenue: f64 = segments.iter().map(|s| s["share_of_revenue"].as_f64().unwrap()).sum();
    assert!((revenue - 1.0).abs() < 1e-9);
    let customers: u64 = segments.iter().map(|s| s["customers"].as_u64().unwrap()).sum();
    assert_eq!(customers, 3000);
}

const FEATURES_HEADER: &str = "customer_id,recency_days,tenure_days,frequency,monetary,avg_order_value,views,carts,purchases,distinct_items,distinct_categories,top_category\n";

#[test]
fn k_larger_than_the_buyers() {
    let (_d, f) = fixture(
        "f.csv",
        format!("{FEATURES_HEADER}a,1,5,2,10,5,0,0,2,1,1,x\nb,3,9,1,20,20,0,0,1,1,1,y\nc,,,0,0,,3,0,0,0,0,\n"),
    );
    let (o, _dir, out) = segment(&["--features", f.to_str().unwrap(), "--k", "3"]);
    common::assert_failed_saying(&o, &["k = 3 segments need at least 3 customers with purchases; there are 2"]);
    assert!(!out.exists());
}

#[test]
fn constant_feature_is_named() {
    let (_d, f) = fixture(
        "f.csv",
        format!("{FEATURES_HEADER}a,4,5,2,10,5,0,0,2,1,1,x\nb,4,9,1,20,20,0,0,1,1,1,y\nc,4,9,3,30,10,0,0,1,1,1,y\n"),
    );
    let (o, _dir, _out) = segment(&["--features", f.to_str().unwrap(), "--k", "2"]);
    common::assert_failed_saying(&o, &["'recency_days' has the same value (4) for every buyer"]);
}

#[test]
fn nan_in_a_feature_is_named() {
    let (_d, f) = fixture(
        "f.csv",
        format!("{FEATURES_HEADER}a,NaN,5,2,10,5,0,0,2,1,1,x\nb,4,9,1,20,20,0,0,1,1,1,y\nc,6,9,3,30,10,0,0,1,1,1,y\n"),
    );
    let (o, _dir, _out) = segment(&["--features", f.to_str().unwrap(), "--k", "2"]);
    common::assert_failed_saying(&o, &["'recency_days' has no usable value for customer a"]);
}

#[test]
fn nobody_bought() {
    let (_d, e) = fixture("views.csv", "customer_id,timestamp,event_type\n1,2024-01-01,view\n2,2024-01-02,cart\n");
    let (o, _dir, _out) = segment(&["--events", e.to_str().unwrap()]);
    common::assert_failed_saying(&o, &["none of the 2 customers has a purchase order"]);
}

#[test]
fn rfm_groups_and_k_range() {
    let sample = sample_events_path();
    let (o, _d, out) = segment(&["--events", sample.to_str().unwrap(), "--method", "rfm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out).unwrap();
    assert!(csv.contains(",0,Champions") && csv.contains(",-1,No purchase yet"));
    let (o, _d, _out) = segment(&["--events", sample.to_str().unwrap(), "--k-range", "2-6", "--n-init", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().filter(|l| l.starts_with("k = ")).count(), 5, "{err}");
    assert!(err.contains("suggested: k = "), "{err}");
}

#[test]
fn chosen_features_and_transforms() {
    let sample = sample_events_path();
    let events = sample.to_str().unwrap();
    let (o, _d, chosen) = segment(&[
        "--events",
        events,
        "--k",
        "4",
        "--feature",
        "recency_days",
        "--feature",
        "monetary:winsorise=99",
        "--feature",
        "views:log1p",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, _d2, default) = segment(&["--events", events, "--k", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Other columns cluster the buyers differently.
    assert_ne!(std::fs::read(chosen).unwrap(), std::fs::read(default).unwrap());
    let (o, _d, _out) = segment(&["--events", events, "--feature", "nope"]);
    common::assert_failed_saying(&o, &["feature column 'nope' not found"]);
}
