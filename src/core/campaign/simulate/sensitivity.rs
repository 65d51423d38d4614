//! What each assumption is worth: the campaign's expected incremental profit
//! with one assumption at each end of its range (the others at their values),
//! and with the calibrated response at its 5th and 95th percentile draw —
//! the data behind a tornado chart, largest swing first.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Design, RunParameters};

/// One bar of the tornado.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Swing {
    pub parameter: String,
    /// Where its range comes from.
    pub source: String,
    pub low: f64,
    pub high: f64,
    /// Expected incremental profit with the parameter at its low and high end.
    pub profit_at_low: f64,
    pub profit_at_high: f64,
}

impl Swing {
    pub fn width(&self) -> f64 {
        (self.profit_at_high - self.profit_at_low).abs()
    }
}

/// The expected incremental profit of the treated under `params`.
pub fn expected_profit(design: &Design, params: &RunParameters) -> f64 {
    let margin = design.campaign.margin;
    let treated: Vec<usize> = (0..design.exposures.len()).filter(|&k| design.exposures[k].treated).collect();
    // Fixed chunks added in order: the same sum on any number of threads.
    let parts: Vec<f64> = treated
        .par_chunks(4096)
        .map(|ks| ks.iter().map(|&k| design.effect(k, params).incremental_profit(margin)).sum())
        .collect();
    parts.iter().sum()
}

/// The expected profit at the estimates, and every parameter's swing, widest first.
pub fn sensitivity(design: &Design) -> (f64, Vec<Swing>) {
    let base = RunParameters::expected(design.campaign);
    let at_estimates = expected_profit(design, &base);
    let mut swings = Vec::new();
    if design.uses_assumptions() {
        let names: Vec<(&str, f64, f64, String)> =
            base.assumptions.all().iter().map(|(n, a)| (*n, a.low, a.high, a.source.clone())).collect();
        for (k, (name, low, high, source)) in names.into_iter().enumerate() {
            if high <= low {
                continue;
            }
            let at = |value: f64| {
                let mut p = base.clone();
                p.assumptions.all_mut()[k].1.value = value;
                expected_profit(design, &p)
            };
            swings.push(Swing {
                parameter: name.to_string(),
                source,
                low,
                high,
                profit_at_low: at(low),
                profit_at_high: at(high),
            });
        }
    }
    if let Some(r) = design.response.filter(|_| design.arms.iter().any(Option::is_some)) {
        let mut by_draw: Vec<(f64, usize)> = (0..r.replicates())
            .map(|d| (expected_profit(design, &RunParameters { replicate: Some(d), ..base.clone() }), d))
            .collect();
        by_draw.sort_by(|a, b| a.0.total_cmp(&b.0));
        if !by_draw.is_empty() {
            let at = |q: f64| by_draw[((by_draw.len() - 1) as f64 * q).round() as usize].0;
            swings.push(Swing {
                parameter: "calibrated response".to_string(),
                source: format!(
                    "posterior draws of {}",
                    if r.source.is_empty() { "the past campaign" } else { &r.source }
                ),
                low: 5.0,
                high: 95.0,
                profit_at_low: at(0.05),
                profit_at_high: at(0.95),
            });
        }
    }
    swings.sort_by(|a, b| b.width().total_cmp(&a.width()));
    (at_estimates, swings)
}
