//! `calibrate` (DATA.md §8, §10): observed lifts against statsmodels/scipy,
//! bad input, the generated shop's truth recovered with honest intervals,
//! Thornton's dose-response, and a calibrated arm used by `plan`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{assert_failed_saying, calibrate_sample_campaign, calibrate_with, run, shared_data, stderr, stdout};
use polars::prelude::*;
use promo_studio::core::campaign::calibrate::{self, CalibrationSettings, ResultsColumns, results_from_table};
use promo_studio::core::sample::past_campaign::{ARMS, Truth};
use promo_studio::core::sample::{ShopConfig, generate_shop};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calibrate").join(name).display().to_string()
}

fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9
}

#[test]
fn observed_lifts_match_statsmodels_and_scipy() {
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/calibrate_lifts.json"))
            .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (file, expected) in reference["files"].as_object().unwrap() {
        let out = dir.path().join("response.json");
        let o = calibrate_with(&fixture(file), &["--spend", "spend", "--out", out.to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        let got: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        let control = &got["control"];
        for key in ["customers", "conversion_rate", "spend_per_customer"] {
            assert!(close(&control[key], &expected["control"][key]), "{file} control {key}");
        }
        let arms = got["arms"].as_array().unwrap();
        assert_eq!(arms.len(), expected["arms"].as_object().unwrap().len(), "{file}");
        for arm in arms {
            let name = arm["arm"].as_str().unwrap();
            let want = &expected["arms"][name];
            for key in ["customers", "conversion_rate", "lift_conversion", "spend_per_customer", "lift_spend"] {
                assert!(close(&arm[key], &want[key]), "{file} {name} {key}: {} vs {}", arm[key], want[key]);
            }
            for key in ["lift_conversion_ci95", "lift_spend_ci95"] {
                for k in 0..2 {
                    assert!(
                        close(&arm[key][k], &want[key][k]),
                        "{file} {name} {key}[{k}]: {} vs {}",
                        arm[key][k],
                        want[key][k]
                    );
                }
            }
        }
        // The response file is written and reads back.
        let response = calibrate::load_response(&out).unwrap();
        assert_eq!(response.arms[0].name, "control");
        assert_eq!(response.replicates(), 200);
    }
}

#[test]
fn bad_results_are_named_by_column_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let out = dir.path().join("r.json").display().to_string();
    let call = |results: &str| calibrate_with(results, &["--spend", "spend", "--out", &out]);
    let no_control = write("a.csv", "arm,converted,spend\nA,1,3\nB,0,0\n");
    assert_failed_saying(&call(&no_control), &["a.csv", "control", "A, B", "--control"]);
    let not_binary = write("b.csv", "arm,converted,spend\ncontrol,1,3\nA,yes please,0\n");
    assert_failed_saying(&call(&not_binary), &["b.csv", "row 2", "\"converted\"", "yes please"]);
    let bad_spend = write("c.csv", "arm,converted,spend\ncontrol,1,3\nA,1,12,5\n");
    assert_failed_saying(&call(&bad_spend), &["c.csv"]);
    let text_spend = write("d.csv", "arm,converted,spend\ncontrol,1,3\nA,1,about 5\n");
    assert_failed_saying(&call(&text_spend), &["d.csv", "row 2", "\"spend\"", "about 5"]);
    let missing = write("e.csv", "arm,converted\ncontrol,1\nA,0\n");
    assert_failed_saying(&call(&missing), &["e.csv", "\"spend\"", "arm, converted"]);
    assert!(!Path::new(&out).exists(), "nothing is written on bad input");
}

/// The generated shop's results with each customer's persona as an attribute.
fn shop_results(seed: u64) -> (calibrate::CampaignResults, Vec<Truth>) {
    let shop = generate_shop(&ShopConfig { seed, ..Default::default() }).unwrap();
    let (mut table, truth) = shop.past_campaign.unwrap();
    let personas: Vec<&str> = truth.iter().map(|t| t.persona.name()).collect();
    table.with_column(Column::new("persona".into(), personas)).unwrap();
    let columns = ResultsColumns {
        arm: "arm".into(),
        control: "control".into(),
        converted: "converted".into(),
        spend: Some("spend".into()),
        value: None,
        attributes: Some(
            ["persona", "recency_days", "frequency", "monetary", "tenure_days"].map(String::from).to_vec(),
        ),
    };
    (results_from_table(&table, &columns, "past_campaign.csv").unwrap(), truth)
}

/// Per seed, per (persona, arm): whether the 90% interval of the calibrated
/// mean uplift covers the generator's true mean uplift.
fn persona_coverage(seed: u64) -> Vec<(String, String, bool, f64, calibrate::Interval)> {
    let (results, truth) = shop_results(seed);
    let response = calibrate::calibrate(&results, &CalibrationSettings { seed, ..Default::default() }).unwrap();
    let x = response.encoding.encode_all(results.attributes.as_slice(), results.len());
    let mut out = Vec::new();
    let personas: std::collections::BTreeSet<&str> = truth.iter().map(|t| t.persona.name()).collect();
    for persona in personas {
        let rows: Vec<usize> = (0..truth.len()).filter(|&i| truth[i].persona.name() == persona).collect();
        for (a, arm) in ARMS.iter().enumerate().skip(1) {
            let k = response.arm(arm).unwrap();
            let interval = response.mean_uplift(k, &x, &rows, None);
            let true_uplift = rows.iter().map(|&i| truth[i].uplift(a)).sum::<f64>() / rows.len() as f64;
            out.push((persona.to_string(), arm.to_string(), interval.contains(true_uplift), true_uplift, interval));
        }
    }
    out
}

#[test]
fn calibrated_uplift_per_persona_covers_the_generators_truth() {
    let seeds: Vec<u64> = (1..=20).collect();
    let all: Vec<_> = seeds.iter().flat_map(|&s| persona_coverage(s)).collect();
    let covered = all.iter().filter(|c| c.2).count() as f64 / all.len() as f64;
    for (persona, arm, _, truth, interval) in all.iter().filter(|c| !c.2).take(12) {
        eprintln!("missed: {persona} / {arm}: truth {truth:.4}, interval {interval:?}");
    }
    eprintln!("coverage of 90% intervals: {:.1}% of {}", covered * 100.0, all.len());
    assert!((0.80..=0.97).contains(&covered), "coverage {covered}");
    // The ranking is real: bargain hunters respond to 10% off far more than loyal customers.
    let first = persona_coverage(1);
    let estimate =
        |persona: &str, arm: &str| first.iter().find(|c| c.0 == persona && c.1 == arm).map(|c| c.4.estimate).unwrap();
    assert!(estimate("bargain hunter", "10% off") > estimate("loyal high spender", "10% off") + 0.1);
}

/// Wilson's 95% interval, as a band's observed rate is judged by.
fn wilson(k: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054;
    let p = k / n;
    let centre = p + z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - half) / (1.0 + z * z / n), (centre + half) / (1.0 + z * z / n))
}

#[test]
fn thornton_dose_response_matches_each_incentive_band() {
    let Some(path) = shared_data("thornton_hiv/thornton_hiv.csv") else { return };
    let raw = promo_studio::core::table::read_table(&path).unwrap();
    let table = raw
        .lazy()
        .filter(col("got").is_not_null().and(col("tinc").is_not_null()))
        .with_column(when(col("any").eq(lit(1.0))).then(lit("incentive")).otherwise(lit("none")).alias("arm"))
        .collect()
        .unwrap();
    assert_eq!(table.height(), 2834, "the README's count");
    let columns = ResultsColumns {
        arm: "arm".into(),
        control: "none".into(),
        converted: "got".into(),
        spend: None,
        value: Some("tinc".into()),
        attributes: Some(["distvct", "age", "hiv2004"].map(String::from).to_vec()),
    };
    let results = results_from_table(&table, &columns, "thornton_hiv.csv").unwrap();
    let response = calibrate::calibrate(&results, &CalibrationSettings::default()).unwrap();
    let incentive = response.arm("incentive").unwrap();
    assert!(response.arms[incentive].dose.is_some(), "the incentive arm is a curve in its value");
    // The README's known facts: 33.9% without an incentive, 78.9% with any.
    let observed = &response.observed;
    assert!((observed.control.conversion_rate - 0.339).abs() < 5e-4);
    assert!((observed.arms[0].outcome.conversion_rate - 0.789).abs() < 5e-4);

    let value = results.value.as_ref().unwrap();
    let x = response.encoding.encode_all(results.attributes.as_slice(), results.len());
    let w = response.encoding.width();
    let bands = [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 3.0)];
    for (lo, hi) in bands {
        let rows: Vec<usize> = (0..results.len())
            .filter(|&i| {
                let v = value[i].unwrap();
                if hi == 0.0 { v == 0.0 } else { v > lo && v <= hi }
            })
            .collect();
        let arm = if hi == 0.0 { 0 } else { incentive };
        let n = rows.len() as f64;
        let bought = rows.iter().filter(|&&i| results.converted[i]).count() as f64;
        let fitted: f64 =
            rows.iter().map(|&i| response.predict(arm, &x[i * w..(i + 1) * w], value[i], None).p).sum::<f64>() / n;
        let (low, high) = wilson(bought, n);
        eprintln!("band ({lo}, {hi}]: {n} people, observed {:.3}, fitted {fitted:.3}", bought / n);
        assert!((low..=high).contains(&fitted), "band ({lo}, {hi}]: fitted {fitted} outside [{low}, {high}]");
    }
    // Beyond the tested values the forecast says so, and its interval widens.
    let rows: Vec<usize> = (0..results.len()).collect();
    let inside = response.mean_uplift(incentive, &x, &rows, Some(2.0));
    let outside = response.mean_uplift(incentive, &x, &rows, Some(6.0));
    assert!(response.predict(incentive, &x[..w], Some(6.0), None).extrapolated);
    assert!(!response.predict(incentive, &x[..w], Some(2.0), None).extrapolated);
    assert!(outside.p95 - outside.p5 > inside.p95 - inside.p5, "{inside:?} {outside:?}");
}

/// A campaign whose offers use the bundled shop's calibrated arms.
const CALIBRATED_CAMPAIGN: &str = r#"{
  "name": "Autumn test, calibrated", "horizon_days": 30, "margin": 0.4, "assignment": "everyone",
  "channels": [{"name": "email", "cost_per_message": 0.003}],
  "offers": [
    {"name": "10% off", "kind": "percent_off", "value": DEPTH, "channel": "email", "response": "10% off"},
    {"name": "Spend 50 save 10", "kind": "amount_off", "value": 10, "min_spend": 50, "channel": "email",
     "response": "Spend 50 save 10"}
  ]
}"#;

#[test]
fn plan_uses_a_calibrated_arm_and_says_when_it_extrapolates() {
    let dir = tempfile::tempdir().unwrap();
    let response = dir.path().join("response.json");
    let o = calibrate_sample_campaign(&response);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("10% off") && stdout(&o).contains("tested at value 10"), "{}", stdout(&o));

    let plan_with = |depth: &str| {
        let campaign = dir.path().join(format!("c{depth}.json"));
        std::fs::write(&campaign, CALIBRATED_CAMPAIGN.replace("DEPTH", depth)).unwrap();
        let out = dir.path().join(format!("plan{depth}.csv"));
        let o = run(&[
            "plan",
            "--campaign",
            campaign.to_str().unwrap(),
            "--events",
            "sample",
            "--response",
            response.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        (o, out)
    };
    let (o, out) = plan_with("10");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("outside what arm"), "{}", stderr(&o));
    let plan = promo_studio::core::table::read_table(&out).unwrap();
    let offer = plan.column("offer").unwrap().str().unwrap().clone();
    let p0 = plan.column("p0").unwrap().f64().unwrap().clone();
    let p1 = plan.column("p1").unwrap().f64().unwrap().clone();
    let uplift = plan.column("expected_uplift").unwrap().f64().unwrap().clone();
    let mut mean_uplift = 0.0;
    let mut count = 0.0;
    for i in 0..plan.height() {
        if offer.get(i) == Some("10% off") {
            assert!((p1.get(i).unwrap() - p0.get(i).unwrap() - uplift.get(i).unwrap()).abs() < 1e-9);
            mean_uplift += uplift.get(i).unwrap();
            count += 1.0;
        }
    }
    assert!(count > 100.0);
    // The past campaign's 10% off arm lifted conversion by several points.
    assert!(mean_uplift / count > 0.02, "mean uplift {}", mean_uplift / count);

    let (o, _) = plan_with("15");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("value 15 is outside what arm \"10% off\" was tested at (10 only)"), "{}", stderr(&o));

    // Without the response file, or naming an arm it lacks: a clear error.
    let campaign = dir.path().join("c10.json");
    let o = run(&["plan", "--campaign", campaign.to_str().unwrap(), "--events", "sample", "--out", "x.csv"]);
    assert_failed_saying(&o, &["offers[0].response", "--response"]);
    let wrong = dir.path().join("wrong.json");
    std::fs::write(
        &wrong,
        CALIBRATED_CAMPAIGN.replace("DEPTH", "10").replace("\"response\": \"10% off\"", "\"response\": \"20% off\""),
    )
    .unwrap();
    let o = run(&[
        "plan",
        "--campaign",
        wrong.to_str().unwrap(),
        "--events",
        "sample",
        "--response",
        response.to_str().unwrap(),
        "--out",
        "x.csv",
    ]);
    assert_failed_saying(&o, &["offers[0].response", "20% off", "Free shipping"]);
}

#[test]
fn events_join_the_customer_features_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let out = dir.path().join("r.json");
    let results = sample.join("past_campaign.csv");
    let o = calibrate_with(
        results.to_str().unwrap(),
        &[
            "--events",
            "sample",
            "--as-of",
            "2026-07-03",
            "--attributes",
            "views,carts,frequency",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let response = calibrate::load_response(&out).unwrap();
    assert_eq!(response.encoding.attributes(), vec!["views", "carts", "frequency"]);
}

#[test]
fn the_response_is_the_same_whatever_the_thread_count() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/past_campaign.csv");
    common::assert_same_output_on_1_and_3_threads(&[
        "calibrate",
        "--results",
        sample.to_str().unwrap(),
        "--arm",
        "arm",
        "--control",
        "control",
        "--converted",
        "converted",
        "--spend",
        "spend",
    ]);
}
