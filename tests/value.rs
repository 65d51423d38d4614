//! Customer value (DATA.md §5) against the published CDNOW results.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, run, shared_data, stderr, stdout};

/// The CDNOW 1/10 sample as published (whitespace-aligned, no header) turned
/// into a CSV the importer reads: customer id, sample index, date, CDs, dollars.
fn cdnow_sample_csv() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    let raw = std::fs::read_to_string(shared_data("cdnow/CDNOW_sample.txt")?).unwrap();
    let mut csv = String::from("customer_id,sample_id,date,number_of_cds,dollar_value\n");
    for line in raw.lines().filter(|l| !l.trim().is_empty()) {
        csv.push_str(&line.split_whitespace().collect::<Vec<_>>().join(","));
        csv.push('\n');
    }
    Some(fixture("cdnow_sample.csv", csv))
}

#[test]
fn bgnbd_reproduces_the_published_cdnow_fit() {
    let Some((dir, events)) = cdnow_sample_csv() else {
        return;
    };
    let out = dir.path().join("value.csv");
    let params = dir.path().join("params.json");
    let o = run(&[
        "value",
        "--events",
        events.to_str().unwrap(),
        "--as-of",
        "1997-09-30",
        "--time-unit",
        "week",
        "--out",
        out.to_str().unwrap(),
        "--params-out",
        params.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("value: 2357 buyers"), "{}", stdout(&o));
    let p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(params).unwrap()).unwrap();
    let get = |k: &str| p[k].as_f64().unwrap();
    // Fader, Hardie & Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4.
    for (k, published) in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)] {
        assert!((get(k) - published).abs() / published < 0.01, "{k} = {} vs {published}", get(k));
    }
    assert!((get("bgnbd_log_likelihood") + 9582.4).abs() < 0.1);
    assert_eq!(get("repeat_purchases"), 2457.0);
    // Gamma-Gamma on the 946 repeat buyers: FHL (2005b) report p = 6.25, q = 3.74,
    // v = 15.44 from per-transaction averages; ours averages per purchase day. The
    // `lifetimes` package on our per-customer input gives p = 6.276, q = 3.7416,
    // v = 15.3499 (tests/reference/lifetimes_cdnow.py), as we do.
    for (k, published) in [("p", 6.25), ("q", 3.74), ("v", 15.44)] {
        assert!((get(k) - published).abs() / published < 0.02, "{k} = {} vs {published}", get(k));
    }
    assert_eq!(p["gamma_gamma_customers"], 946);

    let text = std::fs::read_to_string(out).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("customer_id,x,t_x,T,mean_spend,p_alive,expected_purchases,expected_spend,clv")
    );
    assert_eq!(text.lines().count(), 2357 + 1);
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let p_alive: f64 = f[5].parse().unwrap();
        assert!((0.0..=1.0).contains(&p_alive), "{line}");
        if f[1] == "0.0" {
            assert_eq!(p_alive, 1.0, "no repeat purchase: alive by the model's definition");
        }
        assert!(f[6].parse::<f64>().unwrap() >= 0.0);
    }
}

#[test]
fn too_few_buyers_is_explained() {
    let (_d, e) = fixture("tiny.csv", "customer_id,timestamp,amount\n1,2024-01-01,5\n1,2024-02-01,5\n2,2024-01-03,9\n");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.csv");
    let o = run(&["value", "--events", e.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    common::assert_failed_saying(
        &o,
        &["too few buyers to fit customer value: 2 buyers, 1 of them with repeat purchases"],
    );
    assert!(!out.exists());
}
