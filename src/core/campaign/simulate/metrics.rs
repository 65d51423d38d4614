//! A simulated campaign's metrics (DATA.md §9): what one run's treated and
//! control groups did, the metrics that follow, and their spread over runs.

use serde::{Deserialize, Serialize};

/// DATA.md §9's metrics, in its order.
pub const METRICS: [&str; 14] = [
    "conversion_rate_treated",
    "conversion_rate_control",
    "lift_conversion",
    "spend_per_treated",
    "spend_per_control",
    "lift_spend",
    "incremental_conversions",
    "incremental_revenue",
    "revenue",
    "discount_cost",
    "message_cost",
    "incremental_profit",
    "roi",
    // Not in §9's table, but what a manager pays: discounts and messages together.
    "cost",
];

/// Index of a metric in [`METRICS`].
pub fn metric(name: &str) -> usize {
    METRICS.iter().position(|m| *m == name).unwrap_or(0)
}

/// What one group did in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    pub treated: f64,
    pub treated_buyers: f64,
    pub treated_spend: f64,
    pub discount_cost: f64,
    pub message_cost: f64,
    pub control: f64,
    pub control_buyers: f64,
    pub control_spend: f64,
    /// The treated group's outcome had it not been treated (same random
    /// numbers): the counterfactual that stands in for a missing holdout.
    pub counterfactual_buyers: f64,
    pub counterfactual_spend: f64,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.treated += other.treated;
        self.treated_buyers += other.treated_buyers;
        self.treated_spend += other.treated_spend;
        self.discount_cost += other.discount_cost;
        self.message_cost += other.message_cost;
        self.control += other.control;
        self.control_buyers += other.control_buyers;
        self.control_spend += other.control_spend;
        self.counterfactual_buyers += other.counterfactual_buyers;
        self.counterfactual_spend += other.counterfactual_spend;
    }

    /// The metrics of [`METRICS`]. Without a holdout the treated group's
    /// counterfactual is the control (what the campaign caused, with no
    /// second group's noise).
    pub fn metrics(&self, margin: f64) -> [f64; 14] {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let rate_t = ratio(self.treated_buyers, self.treated);
        let spend_t = ratio(self.treated_spend, self.treated);
        let (rate_c, spend_c) = if self.control > 0.0 {
            (ratio(self.control_buyers, self.control), ratio(self.control_spend, self.control))
        } else {
            (ratio(self.counterfactual_buyers, self.treated), ratio(self.counterfactual_spend, self.treated))
        };
        let lift_conversion = rate_t - rate_c;
        let lift_spend = spend_t - spend_c;
        let incremental_revenue = lift_spend * self.treated;
        let cost = self.discount_cost + self.message_cost;
        let incremental_profit = incremental_revenue * margin - cost;
        [
            rate_t,
            rate_c,
            lift_conversion,
            spend_t,
            spend_c,
            lift_spend,
            lift_conversion * self.treated,
            incremental_revenue,
            self.treated_spend,
            self.discount_cost,
            self.message_cost,
            incremental_profit,
            ratio(incremental_profit, cost),
            cost,
        ]
    }
}

/// A metric over the runs: its mean and percentiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

impl Spread {
    /// Percentiles by the nearest rank on the sorted values.
    pub fn of(values: &[f64]) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Spread { mean: values.iter().sum::<f64>() / values.len() as f64, p5: at(0.05), p50: at(0.5), p95: at(0.95) }
    }

    pub fn contains(&self, x: f64) -> bool {
        self.p5 <= x && x <= self.p95
    }
}

/// Runs counted into equal bins over their range, widened to include 0 (break-even).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// The lower edge of the first bin, and every bin's width.
    pub lo: f64,
    pub width: f64,
    pub counts: Vec<usize>,
}

impl Histogram {
    pub fn of(values: &[f64], bins: usize) -> Histogram {
        let bins = bins.max(1);
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min).min(0.0);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max).max(0.0);
        let width = ((hi - lo) / bins as f64).max(1e-9);
        let mut counts = vec![0usize; bins];
        for v in values {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
        Histogram { lo, width, counts }
    }

    pub fn hi(&self) -> f64 {
        self.lo + self.width * self.counts.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_the_definitions() {
        let t = Totals {
            treated: 100.0,
            treated_buyers: 30.0,
            treated_spend: 3000.0,
            discount_cost: 150.0,
            message_cost: 1.0,
            control: 50.0,
            control_buyers: 10.0,
            control_spend: 1000.0,
            ..Default::default()
        };
        let m = t.metrics(0.5);
        assert_eq!(m[metric("conversion_rate_treated")], 0.3);
        assert_eq!(m[metric("conversion_rate_control")], 0.2);
        assert!((m[metric("lift_conversion")] - 0.1).abs() < 1e-12);
        assert_eq!(m[metric("lift_spend")], 10.0);
        assert!((m[metric("incremental_conversions")] - 10.0).abs() < 1e-9);
        assert_eq!(m[metric("incremental_revenue")], 1000.0);
        // 1000 × 0.5 − 150 − 1
        assert_eq!(m[metric("incremental_profit")], 349.0);
        assert!((m[metric("roi")] - 349.0 / 151.0).abs() < 1e-12);
    }

    #[test]
    fn without_a_holdout_the_counterfactual_is_the_control() {
        let t = Totals { treated: 10.0, treated_buyers: 5.0, counterfactual_buyers: 3.0, ..Default::default() };
        assert!((t.metrics(1.0)[metric("lift_conversion")] - 0.2).abs() < 1e-12);
    }

    #[test]
    fn histograms_count_every_run_and_reach_break_even() {
        let h = Histogram::of(&[10.0, 20.0, 20.0, 30.0], 3);
        assert_eq!((h.lo, h.width, h.hi()), (0.0, 10.0, 30.0));
        assert_eq!(h.counts, vec![0, 1, 3]);
    }

    #[test]
    fn spread_is_by_nearest_rank() {
        let s = Spread::of(&(0..=100).map(f64::from).collect::<Vec<_>>());
        assert_eq!((s.p5, s.p50, s.p95, s.mean), (5.0, 50.0, 95.0, 50.0));
    }
}
