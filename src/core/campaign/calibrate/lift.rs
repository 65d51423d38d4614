//! What a finished campaign did, arm by arm, against its control: the
//! observed conversion and spend lifts with 95% confidence intervals that
//! hold for small counts (Newcombe's hybrid score interval for a difference
//! of rates, Welch's t interval for a difference of mean spends).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::results::CampaignResults;

/// One arm's observed outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmOutcome {
    pub arm: String,
    pub customers: usize,
    pub conversions: usize,
    pub conversion_rate: f64,
    /// Spend per customer (non-buyers count as 0); None without a spend column.
    pub spend_per_customer: Option<f64>,
}

/// A treated arm against the control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmLift {
    #[serde(flatten)]
    pub outcome: ArmOutcome,
    pub lift_conversion: f64,
    pub lift_conversion_ci95: [f64; 2],
    pub lift_spend: Option<f64>,
    /// None without a spend column, or with fewer than two customers a side.
    pub lift_spend_ci95: Option<[f64; 2]>,
}

/// Every arm's lift over the control (DATA.md §10's `--json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObservedLifts {
    pub arms: Vec<ArmLift>,
    pub control: ArmOutcome,
}

/// The observed lifts of `results`' arms over its control.
pub fn observed_lifts(results: &CampaignResults) -> ObservedLifts {
    let groups: Vec<Group> = (0..results.arms.len()).map(|a| Group::of(results, a)).collect();
    let control = &groups[0];
    let arms = groups[1..]
        .iter()
        .map(|g| ArmLift {
            outcome: g.outcome(),
            lift_conversion: g.rate() - control.rate(),
            lift_conversion_ci95: newcombe_difference(
                g.conversions,
                g.customers,
                control.conversions,
                control.customers,
            ),
            lift_spend: g.mean_spend().zip(control.mean_spend()).map(|(a, b)| a - b),
            lift_spend_ci95: g.spend.as_ref().zip(control.spend.as_ref()).and_then(|(a, b)| welch_difference(a, b)),
        })
        .collect();
    ObservedLifts { arms, control: control.outcome() }
}

struct Group {
    name: String,
    customers: usize,
    conversions: usize,
    spend: Option<Moments>,
}

impl Group {
    fn of(results: &CampaignResults, a: usize) -> Group {
        let rows = results.rows_of(a);
        Group {
            name: results.arms[a].clone(),
            customers: rows.len(),
            conversions: rows.iter().filter(|&&i| results.converted[i]).count(),
            spend: results.spend.as_ref().map(|s| Moments::of(rows.iter().map(|&i| s[i]))),
        }
    }

    fn rate(&self) -> f64 {
        if self.customers == 0 { 0.0 } else { self.conversions as f64 / self.customers as f64 }
    }

    fn mean_spend(&self) -> Option<f64> {
        self.spend.as_ref().map(|m| m.mean)
    }

    fn outcome(&self) -> ArmOutcome {
        ArmOutcome {
            arm: self.name.clone(),
            customers: self.customers,
            conversions: self.conversions,
            conversion_rate: self.rate(),
            spend_per_customer: self.mean_spend(),
        }
    }
}

/// Count, mean and sample variance, accumulated in one pass (Welford).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub n: usize,
    pub mean: f64,
    m2: f64,
}

impl Moments {
    pub fn of(values: impl Iterator<Item = f64>) -> Moments {
        let mut m = Moments::default();
        for x in values {
            m.n += 1;
            let delta = x - m.mean;
            m.mean += delta / m.n as f64;
            m.m2 += delta * (x - m.mean);
        }
        m
    }

    /// The sample variance (n − 1 in the denominator); 0 for fewer than two values.
    pub fn variance(&self) -> f64 {
        if self.n < 2 { 0.0 } else { self.m2 / (self.n - 1) as f64 }
    }
}

/// The two-sided 95% normal quantile.
fn z95() -> f64 {
    Normal::standard().inverse_cdf(0.975)
}

/// Wilson's score interval for a rate of `k` in `n`, at 95%.
pub fn wilson(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (z, n, p) = (z95(), n as f64, k as f64 / n as f64);
    let centre = p + z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    let denominator = 1.0 + z * z / n;
    [((centre - half) / denominator).max(0.0), ((centre + half) / denominator).min(1.0)]
}

/// Newcombe's hybrid score interval (his method 10) for the difference of
/// two rates, k1/n1 − k2/n2, at 95%: combines each rate's Wilson interval,
/// so it stays inside [−1, 1] and keeps its coverage at 0 or n successes.
pub fn newcombe_difference(k1: usize, n1: usize, k2: usize, n2: usize) -> [f64; 2] {
    let p1 = if n1 == 0 { 0.0 } else { k1 as f64 / n1 as f64 };
    let p2 = if n2 == 0 { 0.0 } else { k2 as f64 / n2 as f64 };
    let [l1, u1] = wilson(k1, n1);
    let [l2, u2] = wilson(k2, n2);
    let d = p1 - p2;
    [d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(), d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt()]
}

/// Welch's 95% interval for the difference of means a − b (unequal
/// variances, Welch–Satterthwaite degrees of freedom). None with fewer than
/// two values on a side.
pub fn welch_difference(a: &Moments, b: &Moments) -> Option<[f64; 2]> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (va, vb) = (a.variance() / a.n as f64, b.variance() / b.n as f64);
    let d = a.mean - b.mean;
    let se2 = va + vb;
    if se2 <= 0.0 {
        return Some([d, d]);
    }
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let t = StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(0.975);
    let half = t * se2.sqrt();
    Some([d - half, d + half])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_the_textbook_case() {
        // Newcombe (1998), table II: 81/263 → 0.2553 to 0.3662.
        let [lo, hi] = wilson(81, 263);
        assert!((lo - 0.2553).abs() < 5e-5 && (hi - 0.3662).abs() < 5e-5, "{lo} {hi}");
    }

    #[test]
    fn newcombe_matches_the_paper() {
        // Newcombe (1998), example (a): 56/70 − 48/80 → 0.0524 to 0.3339.
        let [lo, hi] = newcombe_difference(56, 70, 48, 80);
        assert!((lo - 0.0524).abs() < 5e-5 && (hi - 0.3339).abs() < 5e-5, "{lo} {hi}");
        // Example (h), zero counts on both sides: 0/10 − 0/20 → −0.1611 to 0.2775.
        let [lo, hi] = newcombe_difference(0, 10, 0, 20);
        assert!((lo + 0.1611).abs() < 5e-5 && (hi - 0.2775).abs() < 5e-5, "{lo} {hi}");
    }

    #[test]
    fn welch_of_a_constant_difference_is_a_point() {
        let a = Moments::of([2.0, 2.0, 2.0].into_iter());
        let b = Moments::of([1.0, 1.0].into_iter());
        assert_eq!(welch_difference(&a, &b), Some([1.0, 1.0]));
        assert_eq!(welch_difference(&a, &Moments::of([1.0].into_iter())), None);
    }
}
