//! `plan` (DATA.md §10) on the bundled shop and on bad campaigns: the plan's
//! columns and groups, the budget kept, the holdout drawn, each customer's
//! choice explained, and every mistake named by its path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_failed_saying, fixture, run, stdout};

fn campaign_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/sample_data/campaign.json").to_string()
}

fn plan(campaign: &str, extra: &[&str]) -> (tempfile::TempDir, std::process::Output, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.csv");
    let candidates = dir.path().join("candidates.csv");
    let mut args = vec![
        "plan",
        "--campaign",
        campaign,
        "--events",
        "sample",
        "--out",
        out.to_str().unwrap(),
        "--candidates",
        candidates.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    let plan = std::fs::read_to_string(&out).unwrap_or_default();
    let candidates = std::fs::read_to_string(&candidates).unwrap_or_default();
    (dir, o, plan, candidates)
}

fn column<'a>(csv: &'a str, name: &str) -> Vec<&'a str> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == name).unwrap();
    lines.map(|l| l.split(',').nth(at).unwrap()).collect()
}

#[test]
fn the_sample_campaign_plans_every_customer_within_its_budget() {
    let (_dir, o, plan, candidates) = plan(&campaign_path(), &[]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(
        plan.lines().next(),
        Some(
            "customer_id,group,offer,channel,p0,p1,expected_uplift,s0,s1,expected_cost,expected_incremental_profit,items"
        )
    );
    assert_eq!(plan.lines().count(), 3001, "one row per customer");
    assert_eq!(candidates.lines().next(), Some("customer_id,offer,expected_incremental_profit,expected_cost"));
    let groups = column(&plan, "group");
    let (treated, control) =
        (groups.iter().filter(|g| **g == "treated").count(), groups.iter().filter(|g| **g == "control").count());
    assert!(treated > 0 && control > 0);
    let share = control as f64 / (treated + control) as f64;
    assert!((share - 0.1).abs() < 0.002, "holdout of 10%: {share}");
    // The budget holds over the targeted (treated and control alike).
    let cost: f64 = groups
        .iter()
        .zip(column(&plan, "expected_cost"))
        .filter(|(g, _)| **g != "not_targeted")
        .map(|(_, c)| c.parse::<f64>().unwrap())
        .sum();
    assert!(cost <= 2500.0 + 1e-6, "expected cost {cost}");
    // Uplift is p1 − p0, and items come from the recommender.
    for ((p0, p1), u) in column(&plan, "p0").iter().zip(column(&plan, "p1")).zip(column(&plan, "expected_uplift")) {
        if !u.is_empty() {
            let (p0, p1, u): (f64, f64, f64) = (p0.parse().unwrap(), p1.parse().unwrap(), u.parse().unwrap());
            assert!((p1 - p0 - u).abs() < 1e-9);
        }
    }
    assert!(column(&plan, "items").iter().all(|i| i.split('|').count() == 5), "five products each");
    let summary = stdout(&o);
    assert!(summary.starts_with("plan: ") && summary.contains("budget 2500.00"), "{summary}");
}

#[test]
fn the_same_campaign_gives_the_same_plan_on_any_thread_count() {
    let one = {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("plan.csv");
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_promo-studio"))
            .args(["plan", "--campaign", &campaign_path(), "--events", "sample", "--out", out.to_str().unwrap()])
            .env("RAYON_NUM_THREADS", "1")
            .env("POLARS_MAX_THREADS", "1")
            .output()
            .unwrap();
        assert!(o.status.success());
        std::fs::read_to_string(out).unwrap()
    };
    let (_dir, o, three, _) = plan(&campaign_path(), &[]);
    assert!(o.status.success());
    assert_eq!(one, three);
}

#[test]
fn a_customer_s_offer_is_explained() {
    let (_dir, o, _, _) = plan(&campaign_path(), &["--customer", "100001"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("customer 100001: without the campaign P(buys in 30 days)"), "{text}");
    assert!(text.contains("→"), "the chosen offer is marked: {text}");
    assert!(text.contains("expected incremental profit"));
}

#[test]
fn a_budget_too_small_for_anyone_gives_an_empty_plan_not_an_error() {
    let text = std::fs::read_to_string(campaign_path()).unwrap().replace("\"budget\": 2500.0", "\"budget\": 0.0");
    let (_d, path) = fixture("campaign.json", text);
    let (_dir, o, plan, _) = plan(path.to_str().unwrap(), &[]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(column(&plan, "group").iter().all(|g| *g == "not_targeted"));
    assert!(stdout(&o).starts_with("plan: 0 of 3000 customers targeted"), "{}", stdout(&o));
}

#[test]
fn bad_campaigns_name_the_field_and_write_nothing() {
    let good = std::fs::read_to_string(campaign_path()).unwrap();
    let cases = [
        (good.replace("\"Hibernating\"", "\"Hibernatin\""), "offers[0].eligible.segments[0]"),
        (good.replace("\"recency_days\"", "\"recencyy\""), "offers[0].eligible.rules[0].feature"),
        (
            good.replace(
                "\"min_spend\": 100,",
                "\"min_spend\": 100, \"starts\": \"2026-02-01\", \"ends\": \"2026-01-01\",",
            ),
            "offers[1].ends",
        ),
        (good.replace("\"holdout\": 0.1", "\"holdout\": 1.5"), "holdout"),
        (good.replace("\"channel\": \"email\"}", "\"channel\": \"sms\"}"), "channel"),
        (good.replace("\"margin\": 0.4,", "\"margin\": 0.4, \"colour\": 1,"), "colour"),
    ];
    for (text, path) in cases {
        let (_d, file) = fixture("campaign.json", text);
        let (_dir, o, plan, _) = plan(file.to_str().unwrap(), &[]);
        assert_failed_saying(&o, &["campaign.json", path]);
        assert!(plan.is_empty(), "nothing written for {path}");
    }
    let arm = good.replace(
        "\"kind\": \"message\", \"channel\": \"email\"",
        "\"kind\": \"message\", \"channel\": \"email\", \"response\": \"e-mail only\"",
    );
    assert_ne!(arm, good);
    let (_d, file) = fixture("campaign.json", arm);
    let (_dir, o, _, _) = plan(file.to_str().unwrap(), &[]);
    assert_failed_saying(&o, &["offers[3].response", "needs a response file"]);
    let everyone = good.replace("\"seed\": 42,", "\"seed\": 42, \"assignment\": \"everyone\",");
    assert_ne!(everyone, good);
    let (_d, file) = fixture("campaign.json", everyone.replace("\"budget\": 2500.0", "\"budget\": 10.0"));
    let (_dir, o, plan_text, _) = plan(file.to_str().unwrap(), &[]);
    assert_failed_saying(&o, &["budget", "A/B/n test of every eligible customer", "over the budget of 10.00"]);
    assert!(plan_text.is_empty());
    let empty = r#"{"name": "x", "channels": [{"name": "email"}], "offers": []}"#;
    let (_d, file) = fixture("campaign.json", empty);
    let (_dir, o, _, _) = plan(file.to_str().unwrap(), &[]);
    assert_failed_saying(&o, &["offers", "no offers"]);
    let (_d, file) = fixture("campaign.json", "{\n  \"name\": \"x\",\n  oops\n}");
    let (_dir, o, _, _) = plan(file.to_str().unwrap(), &[]);
    assert_failed_saying(&o, &["campaign.json", "line 3"]);
}

#[test]
fn a_customer_table_plans_with_rules_on_its_own_columns() {
    let (_d, table) = fixture(
        "customers.csv",
        "customer_id,recency_days,avg_order_value,frequency,monetary,loyalty_score\n\
         A,10,50,4,200,0.9\nB,200,80,1,80,0.2\nC,45,120,2,240,0.5\n",
    );
    let campaign = r#"{"name": "Table", "horizon_days": 30,
        "channels": [{"name": "email", "cost_per_message": 0.01}],
        "offers": [{"name": "Come back", "kind": "amount_off", "value": 5, "channel": "email",
                    "eligible": {"rules": [{"feature": "loyalty_score", "op": "<", "value": 0.6}]}}]}"#;
    let (_c, campaign) = fixture("campaign.json", campaign);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.csv");
    let o = run(&[
        "plan",
        "--campaign",
        campaign.to_str().unwrap(),
        "--customers",
        table.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(common::stderr(&o).contains("no customer-value fit"), "the fallback is said: {}", common::stderr(&o));
    let plan = std::fs::read_to_string(out).unwrap();
    let offers = column(&plan, "offer");
    assert_eq!(offers, vec!["", "Come back", "Come back"], "only B and C are eligible: {plan}");
}

#[test]
fn segments_from_a_file_target_the_named_segment() {
    let dir = tempfile::tempdir().unwrap();
    let segments = dir.path().join("segments.csv");
    let o = run(&["segment", "--events", "sample", "--out", segments.to_str().unwrap()]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let (_d, path) = fixture("campaign.json", std::fs::read_to_string(campaign_path()).unwrap());
    let (_dir, o, plan_text, _) = plan(path.to_str().unwrap(), &["--segments", segments.to_str().unwrap()]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    // "10% off" is for Hibernating and Lost customers only: every customer it is shown for is in one.
    let named: std::collections::HashMap<String, String> = std::fs::read_to_string(&segments)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[2].to_string())
        })
        .collect();
    let shown = column(&plan_text, "customer_id").into_iter().zip(column(&plan_text, "offer"));
    let mut ten_off = 0;
    for (id, offer) in shown {
        if offer == "10% off" {
            ten_off += 1;
            assert!(["Hibernating", "Lost"].contains(&named[id].as_str()), "{id} is {}", named[id]);
        }
    }
    assert!(ten_off > 0, "the discount is the best eligible offer for someone");
}
