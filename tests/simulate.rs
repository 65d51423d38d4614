//! `simulate` (DATA.md §9, §10): closed-form means and spreads, determinism,
//! honest intervals against real held-out halves, the holdout's power,
//! scenarios, sensitivity and fairness, and the command line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{assert_failed_saying, run, shared_data, stderr, stdout};
use polars::prelude::*;
use promo_studio::core::campaign::calibrate::{self, CalibrationSettings, ResultsColumns, results_from_table};
use promo_studio::core::campaign::file::{Campaign, read_campaign};
use promo_studio::core::campaign::plan::{CampaignInputs, CustomerTable, plan};
use promo_studio::core::campaign::simulate::metrics::metric;
use promo_studio::core::campaign::simulate::{self, Design, Exposure, SimulationSettings, power};
use promo_studio::core::progress::Silent;
use rand::SeedableRng;
use rand::seq::SliceRandom;

fn manifest(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative).display().to_string()
}

/// `n` customers alike: a 20% chance of buying in the horizon (the recent
/// purchase rate, without a value fit) and orders of 50.
fn alike(n: usize) -> DataFrame {
    let ids: Vec<String> = (0..n).map(|i| format!("C{i:05}")).collect();
    let recency: Vec<f64> = (0..n).map(|i| if i % 5 == 0 { 10.0 } else { 200.0 }).collect();
    df!("customer_id" => ids, "recency_days" => recency, "avg_order_value" => vec![50.0; n]).unwrap()
}

/// One plain e-mail with a fixed lift (its range collapsed), half held out.
const FIXED: &str = r#"{
  "name": "fixed", "horizon_days": 30, "margin": 0.5, "holdout": 0.5, "assignment": "everyone",
  "channels": [{"name": "email", "cost_per_message": 0.01}],
  "offers": [{"name": "hello", "kind": "message", "channel": "email"}],
  "assumptions": {"message_lift": {"value": 0.25, "low": 0.25, "high": 0.25, "source": "test"}}
}"#;

#[test]
fn with_fixed_responses_the_runs_match_the_closed_form() {
    let table = alike(4000);
    let campaign = read_campaign(FIXED).unwrap();
    let inputs = CampaignInputs { customers: &table, value: None, segments: None, rfm: None, response: None };
    let p = plan(&campaign, &inputs).unwrap();
    let design = Design::from_plan(&p, None, None);
    let runs = 2000;
    let f = simulate::simulate(&design, &SimulationSettings { runs, seed: 5 }, &Silent, &|_| {}).unwrap();
    let (nt, nc) = (f.treated as f64, f.control as f64);
    assert_eq!((f.treated, f.control), (2000, 2000));
    // p0 = 0.2 (the share who bought in the last 30 days); p1 on the odds scale: 0.25 × 1.25 = 0.3125.
    let (p0, p1) = (0.2, 0.3125 / 1.3125);
    let s = 50.0;
    let mean_sd = |m: usize| {
        let values: Vec<f64> = f.overall().runs.iter().map(|r| r[m]).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
        (mean, var.sqrt())
    };
    let close = |m: &str, expected_mean: f64, expected_sd: f64| {
        let (mean, sd) = mean_sd(metric(m));
        // The mean within 4 standard errors; the spread within 8% (2000 runs: its own error is ~1.6%).
        assert!(
            (mean - expected_mean).abs() < 4.0 * expected_sd / (runs as f64).sqrt(),
            "{m}: mean {mean} vs {expected_mean}"
        );
        assert!((sd / expected_sd - 1.0).abs() < 0.08, "{m}: sd {sd} vs {expected_sd}");
    };
    // Binomial: var(rate) = p(1 − p)/n.
    close("conversion_rate_treated", p1, (p1 * (1.0 - p1) / nt).sqrt());
    close("conversion_rate_control", p0, (p0 * (1.0 - p0) / nc).sqrt());
    // Compound: a customer's spend Y = bought × S, S log-normal with mean s and CV² 1
    // (no value fit): var(Y) = p·s²·(1 + 1) − (p·s)².
    let var_y = |p: f64| p * s * s * 2.0 - (p * s).powi(2);
    close("spend_per_treated", p1 * s, (var_y(p1) / nt).sqrt());
    let lift_sd = (var_y(p1) / nt + var_y(p0) / nc).sqrt();
    close("lift_spend", (p1 - p0) * s, lift_sd);
    // Incremental profit = lift_spend × treated × margin − messages (no incentive).
    close("incremental_profit", (p1 - p0) * s * nt * 0.5 - 0.01 * nt, lift_sd * nt * 0.5);
    let messages = f.overall().spread(metric("message_cost"));
    assert!((messages.mean - 20.0).abs() < 1e-9 && messages.p5 == messages.p95);
}

#[test]
fn power_and_detectable_lift_match_statsmodels() {
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(manifest("tests/reference/simulate_power.json")).unwrap())
            .unwrap();
    for case in reference["conversion"].as_array().unwrap() {
        let g = |k: &str| case[k].as_f64().unwrap();
        let h = power::cohens_h(g("p1"), g("p0"));
        assert!((h - g("h")).abs() < 1e-12, "{case}");
        let got = power::power(h, g("n1"), g("n2"), 0.05);
        assert!((got - g("power")).abs() < 1e-9, "{case}: {got}");
        let mde = power::detectable_effect(g("n1"), g("n2"), 0.05, 0.8);
        assert!((mde - g("mde_h")).abs() < 1e-6, "{case}: {mde}");
        // The holdout share said to give 80% power gives it.
        let total = g("n1") + g("n2");
        if let Some(q) = power::holdout_needed(h, total, 0.05, 0.8) {
            let achieved = power::power(h, total * (1.0 - q), total * q, 0.05);
            assert!((achieved - 0.8).abs() < 1e-3, "{case}: {q} gives {achieved}");
        }
    }
    for case in reference["spend"].as_array().unwrap() {
        let g = |k: &str| case[k].as_f64().unwrap();
        let p = power::holdout_power(g("n1") as usize, g("n2") as usize, 0.1, 0.1, g("lift"), g("sd"));
        assert!((p.power_spend - g("power")).abs() < 1e-9, "{case}");
    }
    // A hand case: 10% vs 12% with 9,000 against 1,000 is under-powered (0.48);
    // 80% needs ((1.960 + 0.842) / h)² = 1,917 effective customers, h = 0.0640:
    // q(1 − q) · 10,000 = 1,917, a holdout of 25.9%.
    let p = power::holdout_power(9000, 1000, 0.10, 0.12, 0.0, 0.0);
    assert!((p.power_conversion - 0.4839).abs() < 1e-4);
    let q = p.holdout_for_80_conversion.unwrap();
    assert!((q - 0.2586).abs() < 1e-3, "{q}");
}

/// Splits rows into two halves, seeded, stratified by arm.
fn halves(arms: &[usize], seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for arm in 0..=*arms.iter().max().unwrap() {
        let mut rows: Vec<usize> = (0..arms.len()).filter(|&i| arms[i] == arm).collect();
        rows.shuffle(&mut rng);
        let cut = rows.len() / 2;
        a.extend_from_slice(&rows[..cut]);
        b.extend_from_slice(&rows[cut..]);
    }
    a.sort_unstable();
    b.sort_unstable();
    (a, b)
}

/// Calibrates on one seeded half of a finished campaign, simulates the same
/// design on the other half's customers (each arm against the control, as
/// the campaign ran), and says per arm whether the 90% interval of the
/// forecast lift covers the lift the other half showed.
fn holds_out(
    table: &DataFrame,
    columns: &ResultsColumns,
    seed: u64,
) -> Vec<(String, bool, f64, simulate::metrics::Spread)> {
    let results = results_from_table(table, columns, "results").unwrap();
    let (a, b) = halves(&results.arm, seed);
    let response =
        calibrate::calibrate(&results.subset(&a), &CalibrationSettings { seed, ..Default::default() }).unwrap();
    let b_table = table.take(&IdxCa::from_vec("rows".into(), b.iter().map(|&i| i as IdxSize).collect())).unwrap();
    let b_results = results.subset(&b);
    let inputs =
        CampaignInputs { customers: &b_table, value: None, segments: None, rfm: None, response: Some(&response) };
    let customers = CustomerTable::build(&inputs, 30.0).unwrap();
    let mut out = Vec::new();
    for arm in 1..results.arms.len() {
        let name = &results.arms[arm];
        // The offer's value: the mean the other half was offered (an incentive's amount).
        let treated: Vec<usize> = (0..b.len()).filter(|&i| b_results.arm[i] == arm).collect();
        let value = b_results
            .value
            .as_ref()
            .map(|v| treated.iter().map(|&i| v[i].unwrap_or(0.0)).sum::<f64>() / treated.len() as f64);
        // An arm tested at one value is used at it (a message, no value); a dose
        // arm at the mean value the other half was offered (an incentive's amount).
        let offer = match value {
            Some(v) => {
                serde_json::json!({"name": name, "kind": "gift", "value": v, "channel": "email", "response": name})
            }
            None => serde_json::json!({"name": name, "kind": "message", "channel": "email", "response": name}),
        };
        let campaign: Campaign = read_campaign(
            &serde_json::json!({
                "name": "the past campaign", "horizon_days": 30,
                "channels": [{"name": "email", "cost_per_message": 0.0}],
                "offers": [offer]
            })
            .to_string(),
        )
        .unwrap();
        let exposures: Vec<Exposure> = (0..b.len())
            .filter(|&i| b_results.arm[i] == arm || b_results.arm[i] == 0)
            .map(|i| Exposure { customer: i, offer: 0, treated: b_results.arm[i] == arm })
            .collect();
        let design = Design::new(&campaign, &customers, Some(&response), vec![response.arm(name)], exposures, None);
        let f = simulate::simulate(&design, &SimulationSettings { runs: 400, seed }, &Silent, &|_| {}).unwrap();
        let rate = |a: usize| {
            let rows: Vec<usize> = (0..b.len()).filter(|&i| b_results.arm[i] == a).collect();
            rows.iter().filter(|&&i| b_results.converted[i]).count() as f64 / rows.len() as f64
        };
        let observed = rate(arm) - rate(0);
        let interval = f.overall().spread(metric("lift_conversion"));
        out.push((name.clone(), interval.contains(observed), observed, interval));
        if let Some(spend) = &b_results.spend {
            let per_customer = |a: usize| {
                let rows: Vec<usize> = (0..b.len()).filter(|&i| b_results.arm[i] == a).collect();
                rows.iter().map(|&i| spend[i]).sum::<f64>() / rows.len() as f64
            };
            let observed = per_customer(arm) - per_customer(0);
            let interval = f.overall().spread(metric("lift_spend"));
            out.push((format!("{name} (spend)"), interval.contains(observed), observed, interval));
        }
    }
    out
}

fn coverage(table: &DataFrame, columns: &ResultsColumns, what: &str, seeds: u64) -> f64 {
    let all: Vec<_> = (1..=seeds).flat_map(|seed| holds_out(table, columns, seed)).collect();
    let covered = all.iter().filter(|c| c.1).count() as f64 / all.len() as f64;
    for (arm, _, observed, interval) in all.iter().filter(|c| !c.1) {
        eprintln!("{what}: missed {arm}: observed {observed:.4}, forecast {interval:?}");
    }
    eprintln!(
        "{what}: 90% forecast intervals cover the held-out half's lift in {:.1}% of {}",
        covered * 100.0,
        all.len()
    );
    covered
}

#[test]
fn forecast_intervals_cover_the_held_out_half_of_the_shops_past_campaign() {
    let table = promo_studio::core::table::read_table(Path::new(&manifest("sample_data/past_campaign.csv"))).unwrap();
    let columns = ResultsColumns {
        arm: "arm".into(),
        control: "control".into(),
        converted: "converted".into(),
        spend: Some("spend".into()),
        value: None,
        attributes: Some(["recency_days", "frequency", "monetary", "tenure_days"].map(String::from).to_vec()),
    };
    let covered = coverage(&table, &columns, "shop", 20);
    assert!((0.80..=0.97).contains(&covered), "{covered}");
}

#[test]
fn forecast_intervals_cover_the_held_out_half_of_thornton() {
    let Some(path) = shared_data("thornton_hiv/thornton_hiv.csv") else { return };
    let table = promo_studio::core::table::read_table(&path)
        .unwrap()
        .lazy()
        .filter(col("got").is_not_null().and(col("tinc").is_not_null()))
        .with_columns([
            when(col("any").eq(lit(1.0))).then(lit("incentive")).otherwise(lit("none")).alias("arm"),
            col("person_id").alias("customer_id"),
        ])
        .collect()
        .unwrap();
    let columns = ResultsColumns {
        arm: "arm".into(),
        control: "none".into(),
        converted: "got".into(),
        spend: None,
        value: Some("tinc".into()),
        attributes: Some(["distvct", "age", "hiv2004"].map(String::from).to_vec()),
    };
    // One arm: 40 splits, so that the share is measured finer than in 5% steps.
    let covered = coverage(&table, &columns, "thornton", 40);
    assert!((0.80..=0.97).contains(&covered), "{covered}");
}

/// `simulate` on the bundled shop with `extra` arguments.
fn simulate_sample(campaign: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["simulate", "--campaign", campaign, "--events", "sample", "--runs", "200"];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn the_json_line_has_every_metric_per_offer_and_segment() {
    let o = simulate_sample(&manifest("sample_data/campaign.json"), &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.trim().lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    for key in ["campaign", "runs", "customers", "targeted", "treated", "control", "metrics", "by_offer", "by_segment"]
    {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["runs"], 200);
    assert_eq!(v["treated"].as_u64().unwrap() + v["control"].as_u64().unwrap(), v["targeted"].as_u64().unwrap());
    for m in promo_studio::core::campaign::simulate::metrics::METRICS {
        let s = &v["metrics"][m];
        let (p5, p50, p95) = (s["p5"].as_f64().unwrap(), s["p50"].as_f64().unwrap(), s["p95"].as_f64().unwrap());
        assert!(p5 <= p50 && p50 <= p95, "{m}: {s}");
    }
    assert_eq!(v["by_offer"].as_array().unwrap().len(), 4);
    assert!(
        v["by_offer"][0]["offer"].is_string() && v["by_offer"][0]["metrics"]["incremental_profit"]["mean"].is_number()
    );
    assert!(v["by_segment"].as_array().unwrap().len() >= 2);
    // The default model's assumptions are what moves the profit most: the tornado's rows, widest first.
    let swings = v["sensitivity"].as_array().unwrap();
    let width =
        |s: &serde_json::Value| (s["profit_at_high"].as_f64().unwrap() - s["profit_at_low"].as_f64().unwrap()).abs();
    assert!(swings.windows(2).all(|w| width(&w[0]) >= width(&w[1])));
    assert_eq!(swings[0]["parameter"], "message_lift");
    assert!(v["holdout"]["power_conversion"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_forecast_is_the_same_whatever_the_thread_count() {
    let campaign = manifest("sample_data/campaign.json");
    let outputs: Vec<String> = ["1", "3"]
        .iter()
        .map(|threads| {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_promo-studio"))
                .args(["simulate", "--campaign", &campaign, "--events", "sample", "--runs", "100", "--json"])
                .env("RAYON_NUM_THREADS", threads)
                .env("POLARS_MAX_THREADS", threads)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            stdout(&o)
        })
        .collect();
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn scenarios_prefer_the_campaign_that_is_better_by_construction() {
    let dir = tempfile::tempdir().unwrap();
    // An A/B/n test of two offers, and the same with every message costing 2.00
    // more: the same customers, assignment and chances, so worse in every run.
    let campaign = |cost: f64| {
        serde_json::json!({
            "name": format!("messages at {cost}"), "horizon_days": 30, "margin": 0.4, "holdout": 0.1,
            "assignment": "everyone",
            "channels": [{"name": "email", "cost_per_message": cost}],
            "offers": [{"name": "10% off", "kind": "percent_off", "value": 10, "channel": "email"},
                       {"name": "Free shipping", "kind": "free_shipping", "value": 4.5, "channel": "email"}]
        })
        .to_string()
    };
    let (cheaper, dearer) = (dir.path().join("cheaper.json"), dir.path().join("dearer.json"));
    std::fs::write(&cheaper, campaign(0.003)).unwrap();
    std::fs::write(&dearer, campaign(2.003)).unwrap();
    let o = simulate_sample(cheaper.to_str().unwrap(), &["--json", "--compare", dearer.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let p = v["scenarios"][0]["p_first_beats_it"].as_f64().unwrap();
    assert_eq!(p, 1.0, "P(cheaper beats dearer)");
    let text =
        stdout(&simulate_sample(&manifest("sample_data/campaign.json"), &["--compare", dearer.to_str().unwrap()]));
    assert!(text.contains("P(this campaign beats it)"), "{text}");
}

#[test]
fn fairness_flags_a_group_the_campaign_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    // Only recent buyers get the offer: the lapsed segments are left out.
    let narrow = dir.path().join("narrow.json");
    std::fs::write(
        &narrow,
        r#"{"name": "recent only", "horizon_days": 30,
            "channels": [{"name": "email", "cost_per_message": 0.003}],
            "offers": [{"name": "10% off", "kind": "percent_off", "value": 10, "channel": "email",
                        "eligible": {"rules": [{"feature": "recency_days", "op": "<=", "value": 60}]}}]}"#,
    )
    .unwrap();
    let o = simulate_sample(narrow.to_str().unwrap(), &["--json", "--fairness-by", "monetary"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let groups = v["fairness"].as_array().unwrap();
    let lost = groups.iter().find(|g| g["by"] == "segment" && g["group"] == "Lost").expect("the Lost segment");
    assert_eq!(lost["share_targeted"], 0.0);
    assert!(lost["flags"][0].as_str().unwrap().starts_with("targeted 0%"), "{lost}");
    assert!(groups.iter().any(|g| g["by"] == "monetary"), "quartile bands of the attribute");
}

#[test]
fn bad_simulation_settings_are_refused() {
    let campaign = manifest("sample_data/campaign.json");
    let o = run(&["simulate", "--campaign", &campaign, "--events", "sample", "--runs", "5"]);
    assert_failed_saying(&o, &["--runs", "20"]);
    assert_failed_saying(&simulate_sample(&campaign, &["--fairness-by", "shoe_size"]), &["shoe_size", "recency_days"]);
    assert_failed_saying(&simulate_sample(&campaign, &["--fairness-ratio", "1.5"]), &["--fairness-ratio"]);
}

#[test]
fn a_calibrated_campaign_is_simulated_with_its_posterior_draws() {
    let dir = tempfile::tempdir().unwrap();
    let response = dir.path().join("response.json");
    let o = common::calibrate_sample_campaign(&response);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = simulate_sample(
        &manifest("sample_data/campaign_calibrated.json"),
        &["--json", "--response", response.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let lift = &v["metrics"]["lift_conversion"];
    assert!(lift["p5"].as_f64().unwrap() < lift["mean"].as_f64().unwrap());
    assert!(lift["mean"].as_f64().unwrap() > 0.0);
    // The calibrated response is the one row of the tornado besides nothing: no offer uses the assumptions.
    let swings = v["sensitivity"].as_array().unwrap();
    assert_eq!(swings.len(), 1);
    assert_eq!(swings[0]["parameter"], "calibrated response");
}

/// Cancels once it has seen `after` progress reports.
struct CancelAfter {
    after: usize,
    seen: std::sync::atomic::AtomicUsize,
}

impl promo_studio::core::progress::Progress for CancelAfter {
    fn update(&self, _: Option<f32>, _: &str) {
        self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn is_cancelled(&self) -> bool {
        self.seen.load(std::sync::atomic::Ordering::SeqCst) >= self.after
    }
}

#[test]
fn partial_forecasts_arrive_and_a_cancel_stops_between_chunks() {
    let table = alike(500);
    let campaign = read_campaign(FIXED).unwrap();
    let inputs = CampaignInputs { customers: &table, value: None, segments: None, rfm: None, response: None };
    let p = plan(&campaign, &inputs).unwrap();
    let design = Design::from_plan(&p, None, None);
    let sizes = std::sync::Mutex::new(Vec::new());
    let record = |f: &simulate::Forecast| sizes.lock().unwrap().push(f.runs());
    let settings = SimulationSettings { runs: 100, seed: 1 };
    let done = simulate::simulate(&design, &settings, &Silent, &record).unwrap();
    assert_eq!(done.runs(), 100);
    // The forecast fills in chunk by chunk (a histogram can grow with it).
    assert_eq!(*sizes.lock().unwrap(), vec![25, 50, 75, 100]);
    let cancel = CancelAfter { after: 2, seen: Default::default() };
    let stopped = simulate::simulate(&design, &settings, &cancel, &|_| {});
    assert!(matches!(stopped, Err(simulate::SimulateError::Cancelled)));
}
