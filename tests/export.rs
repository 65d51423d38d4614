//! `export` (issue: Export): the plan as CSV or Parquet with pseudonymised
//! ids under the user's key, and the self-contained HTML report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{assert_failed_saying, run, stderr};

fn manifest(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative).display().to_string()
}

fn export(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let out = dir.join(out);
    let campaign = manifest("sample_data/campaign.json");
    let mut args = vec!["export", "--campaign", &campaign, "--events", "sample", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

fn ids(path: &Path) -> Vec<String> {
    let table = promo_studio::core::table::read_table(path).unwrap();
    promo_studio::core::table::text_column(&table, "customer_id").unwrap()
}

#[test]
fn pseudonymised_plans_hide_the_ids_and_the_same_key_gives_the_same_pseudonyms() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.txt");
    std::fs::write(&key, "a long and private phrase of ours\n").unwrap();
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "somebody else's long private phrase").unwrap();
    let key_arg = key.to_str().unwrap();
    for (out, extra) in [
        ("plain.csv", vec![]),
        ("a.csv", vec!["--key-file", key_arg]),
        ("b.parquet", vec!["--key-file", key_arg]),
        ("c.csv", vec!["--key-file", other.to_str().unwrap()]),
    ] {
        let o = export(dir.path(), out, &extra);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let plain = ids(&dir.path().join("plain.csv"));
    let (a, b, c) =
        (ids(&dir.path().join("a.csv")), ids(&dir.path().join("b.parquet")), ids(&dir.path().join("c.csv")));
    assert_eq!(plain.len(), 3000);
    assert_eq!(a, b, "the same key, the same pseudonyms (CSV and Parquet alike)");
    assert_ne!(a, c, "another key, other pseudonyms");
    // No original id survives anywhere in the file, and the key is not in it.
    let text = std::fs::read_to_string(dir.path().join("a.csv")).unwrap();
    let originals: std::collections::HashSet<&str> = plain.iter().map(String::as_str).collect();
    let fields: Vec<&str> = text.lines().skip(1).flat_map(|l| l.split([',', '|'])).collect();
    assert!(fields.iter().all(|f| !originals.contains(f)), "an original id is in the file");
    assert!(!text.contains("private phrase"));
    let distinct: std::collections::HashSet<&String> = a.iter().collect();
    assert_eq!(distinct.len(), 3000, "one pseudonym per customer");
    // The rest of the plan is the same plan.
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "customer_id,group,offer,channel,p0,p1,expected_uplift,s0,s1,expected_cost,expected_incremental_profit,items"
    );
}

#[test]
fn the_report_is_one_self_contained_html_file_with_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let o = export(dir.path(), "plan.csv", &["--report", report.to_str().unwrap(), "--runs", "200"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), 2, "the profit histogram and the tornado");
    for part in [
        "Incremental profit over the runs",
        "Per offer",
        "Per segment",
        "The holdout as an A/B test",
        "What the forecast hangs on",
        "Fairness",
        "message_lift",
        "break-even",
    ] {
        assert!(html.contains(part), "{part}");
    }
    // Inside the charts every attribute value is quoted: an unquoted value
    // ending in "/" would swallow the self-closing slash and hide what follows.
    for svg in html.split("<svg").skip(1) {
        let svg = &svg[..svg.find("</svg>").unwrap()];
        for (i, _) in svg.match_indices('=') {
            assert_eq!(&svg[i + 1..i + 2], "\"", "unquoted attribute near {:?}", &svg[i.saturating_sub(20)..i + 10]);
        }
    }
    // Nothing fetched from elsewhere, nothing run.
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("http"), "self-contained");
}

#[test]
fn a_weak_or_missing_key_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.txt");
    std::fs::write(&key, "short").unwrap();
    let o = export(dir.path(), "plan.csv", &["--key-file", key.to_str().unwrap()]);
    assert_failed_saying(&o, &["--key-file", "5 bytes", "16"]);
    let o = export(dir.path(), "plan.csv", &["--key-file", dir.path().join("nope.txt").to_str().unwrap()]);
    assert_failed_saying(&o, &["--key-file", "nope.txt"]);
    assert!(!dir.path().join("plan.csv").exists());
}
