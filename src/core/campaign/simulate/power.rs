//! The holdout as an A/B test: the power to detect the forecast lift at
//! α = 0.05 (two-sided z-test), the smallest lift it would detect with 80%
//! power, and the holdout share that 80% power needs. Conversion uses
//! Cohen's h = 2·asin√p1 − 2·asin√p0 as the effect size; spend per customer
//! the difference of means over the pooled standard deviation. The same
//! formulas as statsmodels' `NormalIndPower` (and Evan Miller's calculator
//! up to its variance approximation).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

pub const ALPHA: f64 = 0.05;
pub const TARGET_POWER: f64 = 0.8;

fn normal() -> Normal {
    Normal::standard()
}

/// Cohen's h between two rates.
pub fn cohens_h(p1: f64, p0: f64) -> f64 {
    2.0 * p1.clamp(0.0, 1.0).sqrt().asin() - 2.0 * p0.clamp(0.0, 1.0).sqrt().asin()
}

/// The effective sample size of two groups: 1 / (1/n1 + 1/n2).
fn effective(n1: f64, n2: f64) -> f64 {
    if n1 <= 0.0 || n2 <= 0.0 { 0.0 } else { 1.0 / (1.0 / n1 + 1.0 / n2) }
}

/// Power of a two-sided z-test at `alpha` for standardised effect `d` with
/// groups of n1 and n2 (both tails, as statsmodels counts them).
pub fn power(d: f64, n1: f64, n2: f64, alpha: f64) -> f64 {
    let crit = normal().inverse_cdf(1.0 - alpha / 2.0);
    let shift = d.abs() * effective(n1, n2).sqrt();
    normal().sf(crit - shift) + normal().cdf(-crit - shift)
}

/// The standardised effect detected with `target` power (the far tail ignored).
pub fn detectable_effect(n1: f64, n2: f64, alpha: f64, target: f64) -> f64 {
    let n = effective(n1, n2);
    if n <= 0.0 {
        return f64::INFINITY;
    }
    (normal().inverse_cdf(1.0 - alpha / 2.0) + normal().inverse_cdf(target)) / n.sqrt()
}

/// The holdout share q of `total` targeted customers at which effect `d`
/// is detected with `target` power: q(1 − q)·total = ((z_α/2 + z_β)/d)².
/// None when even a half-and-half split falls short.
pub fn holdout_needed(d: f64, total: f64, alpha: f64, target: f64) -> Option<f64> {
    let need = ((normal().inverse_cdf(1.0 - alpha / 2.0) + normal().inverse_cdf(target)) / d.abs()).powi(2);
    let x = need / total;
    (d != 0.0 && x <= 0.25).then(|| (1.0 - (1.0 - 4.0 * x).sqrt()) / 2.0)
}

/// The holdout's power for the forecast lifts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoldoutPower {
    pub treated: usize,
    pub control: usize,
    pub conversion_control: f64,
    pub conversion_treated: f64,
    /// Power to detect the forecast conversion lift.
    pub power_conversion: f64,
    /// The smallest conversion lift (points of rate) detected with 80% power.
    pub mde_conversion: f64,
    pub spend_lift: f64,
    pub spend_sd: f64,
    pub power_spend: f64,
    /// The smallest spend-per-customer lift detected with 80% power.
    pub mde_spend: f64,
    /// The holdout shares that would give 80% power; None: not even half.
    pub holdout_for_80_conversion: Option<f64>,
    pub holdout_for_80_spend: Option<f64>,
}

/// The power of a holdout of `control` against `treated` customers for a
/// forecast conversion from `p0` to `p1` and a spend lift of `spend_lift`
/// with per-customer spend standard deviation `spend_sd`.
pub fn holdout_power(treated: usize, control: usize, p0: f64, p1: f64, spend_lift: f64, spend_sd: f64) -> HoldoutPower {
    let (n1, n2) = (treated as f64, control as f64);
    let h = cohens_h(p1, p0);
    let d = if spend_sd > 0.0 { spend_lift / spend_sd } else { 0.0 };
    let mde_h = detectable_effect(n1, n2, ALPHA, TARGET_POWER);
    // Back from h to rates: the treated rate whose h over p0 is the detectable one.
    let p_detect = (p0.clamp(0.0, 1.0).sqrt().asin() + mde_h / 2.0).min(std::f64::consts::FRAC_PI_2).sin().powi(2);
    HoldoutPower {
        treated,
        control,
        conversion_control: p0,
        conversion_treated: p1,
        power_conversion: power(h, n1, n2, ALPHA),
        mde_conversion: if mde_h.is_finite() { p_detect - p0 } else { f64::INFINITY },
        spend_lift,
        spend_sd,
        power_spend: power(d, n1, n2, ALPHA),
        mde_spend: if spend_sd > 0.0 { mde_h * spend_sd } else { 0.0 },
        holdout_for_80_conversion: holdout_needed(h, n1 + n2, ALPHA, TARGET_POWER),
        holdout_for_80_spend: holdout_needed(d, n1 + n2, ALPHA, TARGET_POWER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohens_h_of_equal_rates_is_zero() {
        assert_eq!(cohens_h(0.3, 0.3), 0.0);
        assert!(cohens_h(0.35, 0.3) > 0.0);
    }

    #[test]
    fn no_holdout_has_no_power() {
        assert!(power(0.2, 1000.0, 0.0, 0.05) <= 0.05 + 1e-12);
        assert_eq!(holdout_needed(0.0, 1000.0, 0.05, 0.8), None);
    }
}
