//! The demo shop's past campaign: a randomised test sent a few months before
//! its history ends (control, 10% off, spend 50 save 10, free shipping; by
//! e-mail), whose true effect differs by persona — bargain hunters respond
//! to depth, loyal customers barely, lapsing ones to a threshold. Its orders
//! are in the event log; its results are what the shop would export
//! (`past_campaign.csv`), and the truth behind them is kept for tests.

use polars::prelude::*;
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::catalogue::Product;
use super::{Event, MS_PER_DAY, Persona, time_of_day};

/// Days over which the campaign's outcome is counted.
pub const WINDOW_DAYS: i64 = 30;

/// The arms, the control first, as written in the results.
pub const ARMS: [&str; 4] = ["control", "10% off", "Spend 50 save 10", "Free shipping"];

/// The campaign's send day (days since 1970-01-01).
#[derive(Clone, Copy, Debug)]
pub struct PastCampaign {
    pub day: i64,
}

/// What the campaign needs to know of a customer.
pub(super) struct CustomerContext {
    pub persona: Persona,
    pub first_day: i64,
    /// P(at least one order in the window) without the campaign.
    pub base_p0: f64,
}

/// The chance that an arm brings an order the customer would not otherwise
/// have placed, by persona (arms in the order of `ARMS`, the control 0).
fn extra_order_chance(persona: Persona, arm: usize) -> f64 {
    let [pct, threshold, shipping] = match persona {
        Persona::LoyalHighSpender => [0.03, 0.02, 0.02],
        Persona::Regular => [0.08, 0.07, 0.05],
        Persona::BargainHunter => [0.30, 0.15, 0.10],
        Persona::NewCustomer => [0.10, 0.08, 0.08],
        Persona::Lapsing => [0.06, 0.18, 0.12],
        Persona::Churned => [0.02, 0.04, 0.02],
        Persona::WindowShopper => [0.04, 0.03, 0.08],
    };
    match arm {
        1 => pct,
        2 => threshold,
        3 => shipping,
        _ => 0.0,
    }
}

/// One customer's row of the results.
#[derive(Clone, Debug)]
pub struct PastCampaignRow {
    pub arm: usize,
    pub converted: bool,
    /// List-price spend over the window.
    pub spend: f64,
    /// Customer features at the send date (DATA.md §2, as of its midnight).
    pub recency_days: Option<f64>,
    pub frequency: usize,
    pub monetary: f64,
    pub tenure_days: Option<f64>,
    pub truth: Truth,
}

/// The generator's truth for one customer.
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    pub persona: Persona,
    pub arm: usize,
    /// P(buys in the window) without the campaign, and under each arm (the control's is p0).
    pub p0: f64,
    pub p1: [f64; 4],
}

impl Truth {
    /// The true uplift of arm `arm` for this customer.
    pub fn uplift(&self, arm: usize) -> f64 {
        self.p1[arm] - self.p0
    }
}

/// Sends the campaign to a customer known by its day (first seen before
/// it): draws the arm, adds the order it brings (if any) to `events`, and
/// measures the outcome over the window.
pub(super) fn run(
    campaign: &PastCampaign,
    customer: &CustomerContext,
    events: &mut Vec<Event>,
    rng: &mut Xoshiro256PlusPlus,
    mut pick: impl FnMut(&mut Xoshiro256PlusPlus) -> usize,
    products: &[Product],
    index: usize,
) -> Option<PastCampaignRow> {
    if customer.first_day >= campaign.day {
        return None;
    }
    let send_ms = campaign.day * MS_PER_DAY;
    let window_end_ms = (campaign.day + WINDOW_DAYS) * MS_PER_DAY;
    // A window shopper buys once at most: one who already has cannot again.
    let bought_before = events.iter().any(|e| e.kind == "purchase" && e.quantity > 0.0 && e.ts_ms < send_ms);
    let p0 = if customer.persona == Persona::WindowShopper && bought_before { 0.0 } else { customer.base_p0 };
    let arm = rng.gen_range(0..ARMS.len());
    let q = extra_order_chance(customer.persona, arm);
    let p1 = std::array::from_fn(|a| 1.0 - (1.0 - p0) * (1.0 - extra_order_chance(customer.persona, a)));
    let truth = Truth { persona: customer.persona, arm, p0, p1 };

    if rng.gen_bool(q) {
        let day = campaign.day + rng.gen_range(0..WINDOW_DAYS);
        let at = day * MS_PER_DAY + time_of_day(rng);
        let order_id = format!("PC{}", 100_000 + index);
        let mut basket: Vec<usize> = Vec::new();
        let mut list_value = 0.0;
        // A threshold offer's order is filled up to the threshold.
        let target = if arm == 2 { 50.0 } else { 0.0 };
        // Bounded: a small catalogue may not reach the threshold in 8 distinct items.
        for _ in 0..64 {
            if !basket.is_empty() && (list_value >= target || basket.len() >= 8) {
                break;
            }
            let item = pick(rng);
            if !basket.contains(&item) {
                basket.push(item);
                list_value += products[item].price;
            }
        }
        let paid_share = match arm {
            1 => 0.9,
            2 if list_value >= 50.0 => 1.0 - 10.0 / list_value,
            _ => 1.0,
        };
        for (k, &item) in basket.iter().enumerate() {
            let price = (products[item].price * paid_share * 100.0).round() / 100.0;
            let viewed = at - 300_000 * (k as i64 + 1);
            events.push(Event { ts_ms: viewed, kind: "view", order_id: None, item, quantity: 1.0, price });
            events.push(Event {
                ts_ms: at,
                kind: "purchase",
                order_id: Some(order_id.clone()),
                item,
                quantity: 1.0,
                price,
            });
        }
    }

    // The outcome over the window, at list prices; the features before the send.
    let mut spend = 0.0;
    let mut converted = false;
    let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);
    let mut orders: Vec<&str> = Vec::new();
    let mut monetary = 0.0;
    for e in events.iter().filter(|e| e.kind == "purchase") {
        if e.ts_ms < send_ms {
            monetary += e.price * e.quantity;
            if e.quantity > 0.0 {
                let id = e.order_id.as_deref().unwrap_or_default();
                if !orders.contains(&id) {
                    orders.push(id);
                }
                first = Some(first.map_or(e.ts_ms, |f| f.min(e.ts_ms)));
                last = Some(last.map_or(e.ts_ms, |l| l.max(e.ts_ms)));
            }
        } else if e.ts_ms < window_end_ms && e.quantity > 0.0 {
            converted = true;
            spend += products[e.item].price * e.quantity;
        }
    }
    let days = |ts: i64| (send_ms - ts) as f64 / MS_PER_DAY as f64;
    Some(PastCampaignRow {
        arm,
        converted,
        spend: (spend * 100.0).round() / 100.0,
        recency_days: last.map(days),
        frequency: orders.len(),
        monetary: (monetary * 100.0).round() / 100.0,
        tenure_days: first.map(days),
        truth,
    })
}

/// `past_campaign.csv`'s table, and the truth row by row.
pub(super) fn results_frame(rows: &[(&str, &PastCampaignRow)]) -> PolarsResult<(DataFrame, Vec<Truth>)> {
    let round = |x: f64| (x * 1e4).round() / 1e4;
    let df = DataFrame::new(
        rows.len(),
        vec![
            StringChunked::from_iter_values("customer_id".into(), rows.iter().map(|(id, _)| *id)).into_column(),
            StringChunked::from_iter_values("arm".into(), rows.iter().map(|(_, r)| ARMS[r.arm])).into_column(),
            Int32Chunked::from_iter_values("converted".into(), rows.iter().map(|(_, r)| i32::from(r.converted)))
                .into_column(),
            Float64Chunked::from_iter_values("spend".into(), rows.iter().map(|(_, r)| r.spend)).into_column(),
            Float64Chunked::from_iter_options(
                "recency_days".into(),
                rows.iter().map(|(_, r)| r.recency_days.map(round)),
            )
            .into_column(),
            Int32Chunked::from_iter_values("frequency".into(), rows.iter().map(|(_, r)| r.frequency as i32))
                .into_column(),
            Float64Chunked::from_iter_values("monetary".into(), rows.iter().map(|(_, r)| r.monetary)).into_column(),
            Float64Chunked::from_iter_options("tenure_days".into(), rows.iter().map(|(_, r)| r.tenure_days.map(round)))
                .into_column(),
        ],
    )?;
    Ok((df, rows.iter().map(|(_, r)| r.truth.clone()).collect()))
}
