//! BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
//! how many purchases a customer will make, and whether they are still "alive".

use rayon::prelude::*;
use serde::Serialize;

use super::optimise::{Minimum, nelder_mead};
use super::special::{hyp2f1, ln_gamma};
use super::{CustomerHistory, ValueError};

/// Fitted BG/NBD parameters: purchase rate ~ Gamma(r, α), dropout ~ Beta(a, b).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub log_likelihood: f64,
    pub iterations: usize,
}

/// One customer's log-likelihood (FHL 2005, eq. 6).
#[cfg(test)]
fn log_likelihood(r: f64, alpha: f64, a: f64, b: f64, x: f64, t_x: f64, t: f64) -> f64 {
    let ln_a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
    let ln_a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
    let ln_a3 = -(r + x) * (alpha + t).ln();
    if x > 0.0 {
        let ln_a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
        let m = ln_a3.max(ln_a4);
        ln_a1 + ln_a2 + m + ((ln_a3 - m).exp() + (ln_a4 - m).exp()).ln()
    } else {
        ln_a1 + ln_a2 + ln_a3
    }
}

/// Histories grouped by (x, t_x, T), with the few distinct x values apart:
/// the Gamma functions of the likelihood depend on x alone, so each is
/// computed once per distinct x instead of once per customer.
struct GroupedHistory {
    /// (x, t_x, T, customers)
    groups: Vec<(f64, f64, f64, f64)>,
    distinct_x: Vec<f64>,
    /// Index into `distinct_x` per group.
    x_index: Vec<usize>,
}

impl GroupedHistory {
    fn new(groups: Vec<(f64, f64, f64, f64)>) -> GroupedHistory {
        let mut distinct_x: Vec<f64> = groups.iter().map(|g| g.0).collect();
        distinct_x.sort_by(f64::total_cmp);
        distinct_x.dedup();
        let x_index = groups.iter().map(|g| distinct_x.partition_point(|&x| x < g.0)).collect();
        GroupedHistory { groups, distinct_x, x_index }
    }

    /// Σ customers' log-likelihoods (FHL 2005, eq. 6).
    fn log_likelihood(&self, r: f64, alpha: f64, a: f64, b: f64) -> f64 {
        let constant = -ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) - ln_gamma(b);
        let by_x: Vec<f64> = self
            .distinct_x
            .iter()
            .map(|&x| constant + ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x))
            .collect();
        let ln_a = a.ln();
        // Fixed chunks summed in order: parallel, yet the same sum on any number of threads.
        let partial: Vec<f64> = self
            .groups
            .par_chunks(4096)
            .zip(self.x_index.par_chunks(4096))
            .map(|(groups, index)| {
                groups
                    .iter()
                    .zip(index)
                    .map(|(&(x, t_x, t, n), &i)| {
                        let ln_a3 = -(r + x) * (alpha + t).ln();
                        let tail = if x > 0.0 {
                            let ln_a4 = ln_a - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
                            let m = ln_a3.max(ln_a4);
                            m + ((ln_a3 - m).exp() + (ln_a4 - m).exp()).ln()
                        } else {
                            ln_a3
                        };
                        n * (by_x[i] + tail)
                    })
                    .sum::<f64>()
            })
            .collect();
        partial.iter().sum()
    }
}

/// Fits r, α, a, b by maximum likelihood (Nelder–Mead on their logarithms).
pub fn fit(history: &CustomerHistory) -> Result<BgNbd, ValueError> {
    let repeaters = history.x.iter().filter(|&&x| x > 0.0).count();
    if history.len() < 10 || repeaters < 5 {
        return Err(ValueError::TooFewBuyers { buyers: history.len(), repeaters });
    }
    // Identical (x, t_x, T) triples are evaluated once, weighted by their count.
    let groups = GroupedHistory::new(history.grouped());
    let neg_ll = |phi: &[f64]| -> f64 {
        let (r, alpha, a, b) = (phi[0].exp(), phi[1].exp(), phi[2].exp(), phi[3].exp());
        -groups.log_likelihood(r, alpha, a, b)
    };
    let mean_t = history.big_t.iter().sum::<f64>() / history.len() as f64;
    let start = [0.0, mean_t.max(1e-3).ln(), 0.0, 0.0];
    let Minimum { point, value, iterations, converged } = nelder_mead(neg_ll, &start, 0.5, 4000, 1e-12);
    let params: Vec<f64> = point.iter().map(|p| p.exp()).collect();
    if !converged || !value.is_finite() || params.iter().any(|p| !p.is_finite() || *p <= 0.0) {
        return Err(ValueError::NoConvergence {
            model: "BG/NBD",
            iterations,
            log_likelihood: -value,
            state: format!("r={:.4}, α={:.4}, a={:.4}, b={:.4}", params[0], params[1], params[2], params[3]),
        });
    }
    Ok(BgNbd { r: params[0], alpha: params[1], a: params[2], b: params[3], log_likelihood: -value, iterations })
}

impl BgNbd {
    /// P(alive | x, t_x, T) (FHL 2005, eq. 11).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let ratio = (self.a / (self.b + x - 1.0)) * ((self.alpha + t) / (self.alpha + t_x)).powf(self.r + x);
        1.0 / (1.0 + ratio)
    }

    /// Expected purchases in the next `horizon` time units, given the history
    /// (FHL 2005, eq. 10).
    pub fn expected_purchases(&self, x: f64, t_x: f64, t: f64, horizon: f64) -> f64 {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        if a <= 1.0 {
            // The closed form divides by a − 1; fall back to the alive share × the rate.
            return self.p_alive(x, t_x, t) * (r + x) / (alpha + t) * horizon;
        }
        let z = horizon / (alpha + t + horizon);
        let head = (a + b + x - 1.0) / (a - 1.0);
        let tail = 1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let denominator =
            if x > 0.0 { 1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x) } else { 1.0 };
        head * tail / denominator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grouped_sum_equals_the_per_customer_sum() {
        let groups =
            vec![(0.0, 0.0, 30.0, 3.0), (2.0, 10.0, 38.0, 1.0), (2.0, 20.0, 39.0, 2.0), (5.0, 30.0, 31.0, 1.0)];
        let grouped = GroupedHistory::new(groups.clone());
        for (r, alpha, a, b) in [(0.243, 4.414, 0.793, 2.426), (1.5, 30.0, 2.0, 8.0)] {
            let direct: f64 = groups.iter().map(|&(x, t_x, t, n)| n * log_likelihood(r, alpha, a, b, x, t_x, t)).sum();
            let fast = grouped.log_likelihood(r, alpha, a, b);
            assert!((direct - fast).abs() < 1e-9 * direct.abs(), "{direct} vs {fast}");
        }
    }
}
