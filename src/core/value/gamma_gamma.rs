//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005b, "RFM and CLV"): what a
//! customer spends per purchase, shrunk towards the population's mean.

use serde::Serialize;

use super::optimise::{Minimum, nelder_mead};
use super::special::ln_gamma;
use super::{CustomerHistory, ValueError};

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
    pub log_likelihood: f64,
    pub customers: usize,
}

#[cfg(test)]
fn log_likelihood(p: f64, q: f64, v: f64, x: f64, m: f64) -> f64 {
    ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * v.ln() + (p * x - 1.0) * m.ln() + (p * x) * x.ln()
        - (p * x + q) * (x * m + v).ln()
}

/// The parts of the summed log-likelihood that do not depend on each
/// customer's (x, m) pair jointly with the parameters, computed once: the
/// Gamma functions depend on x alone (a handful of distinct values), and the
/// log terms in m and x are linear in p.
struct Sums {
    /// (x, customers with that x)
    by_x: Vec<(f64, f64)>,
    n: f64,
    x_ln_m: f64,
    ln_m: f64,
    x_ln_x: f64,
}

impl Sums {
    fn new(data: &[(f64, f64)]) -> Sums {
        let mut xs: Vec<f64> = data.iter().map(|d| d.0).collect();
        xs.sort_by(f64::total_cmp);
        let mut by_x: Vec<(f64, f64)> = Vec::new();
        for x in xs {
            match by_x.last_mut() {
                Some((last, n)) if *last == x => *n += 1.0,
                _ => by_x.push((x, 1.0)),
            }
        }
        Sums {
            by_x,
            n: data.len() as f64,
            x_ln_m: data.iter().map(|&(x, m)| x * m.ln()).sum(),
            ln_m: data.iter().map(|&(_, m)| m.ln()).sum(),
            x_ln_x: data.iter().map(|&(x, _)| x * x.ln()).sum(),
        }
    }

    /// Σ over customers of [`log_likelihood`], rearranged.
    fn log_likelihood(&self, data: &[(f64, f64)], p: f64, q: f64, v: f64) -> f64 {
        let gammas: f64 = self.by_x.iter().map(|&(x, n)| n * (ln_gamma(p * x + q) - ln_gamma(p * x))).sum();
        // Fixed chunks summed in order: parallel, yet the same sum on any number of threads.
        use rayon::prelude::*;
        let partial: Vec<f64> = data
            .par_chunks(8192)
            .map(|chunk| chunk.iter().map(|&(x, m)| (p * x + q) * (x * m + v).ln()).sum())
            .collect();
        let tail: f64 = partial.iter().sum();
        gammas - self.n * ln_gamma(q) + self.n * q * v.ln() + p * self.x_ln_m - self.ln_m + p * self.x_ln_x - tail
    }
}

/// |ln p| and |ln q| beyond this (about 160,000) mean the fit is running away.
const LOG_BOUND: f64 = 12.0;

/// Fits p, q, v on the customers with repeat purchases and a positive mean spend.
pub fn fit(history: &CustomerHistory) -> Result<GammaGamma, ValueError> {
    let data: Vec<(f64, f64)> = history
        .x
        .iter()
        .zip(&history.mean_spend)
        .filter_map(|(&x, &m)| match m {
            Some(m) if x > 0.0 && m > 0.0 => Some((x, m)),
            _ => None,
        })
        .collect();
    if data.len() < 5 {
        return Err(ValueError::TooFewBuyers { buyers: history.len(), repeaters: data.len() });
    }
    let sums = Sums::new(&data);
    let neg_ll = |phi: &[f64]| -> f64 {
        // Without heterogeneity in spend the likelihood keeps rising as q and v
        // grow together; a bound stops that walk early.
        if phi[0].abs() > LOG_BOUND || phi[1].abs() > LOG_BOUND {
            return f64::INFINITY;
        }
        let (p, q, v) = (phi[0].exp(), phi[1].exp(), phi[2].exp());
        -sums.log_likelihood(&data, p, q, v)
    };
    let mean_m = data.iter().map(|d| d.1).sum::<f64>() / data.len() as f64;
    let start = [0.0, 0.0, mean_m.ln()];
    let Minimum { point, value, iterations, converged } = nelder_mead(neg_ll, &start, 0.5, 4000, 1e-12);
    let (p, q, v) = (point[0].exp(), point[1].exp(), point[2].exp());
    if point[1] > LOG_BOUND - 0.5 {
        return Err(ValueError::NoSpendHeterogeneity { p, q, v });
    }
    if !converged || !value.is_finite() || ![p, q, v].iter().all(|x| x.is_finite() && *x > 0.0) {
        return Err(ValueError::NoConvergence {
            model: "Gamma-Gamma",
            iterations,
            log_likelihood: -value,
            state: format!("p={p:.4}, q={q:.4}, v={v:.4}"),
        });
    }
    Ok(GammaGamma { p, q, v, log_likelihood: -value, customers: data.len() })
}

impl GammaGamma {
    /// Expected spend per purchase given x repeat purchases of mean value m
    /// (x = 0: the population mean). Needs q > 1; otherwise the mean is infinite.
    pub fn expected_spend(&self, x: f64, m: f64) -> Option<f64> {
        let denominator = self.p * x + self.q - 1.0;
        (denominator > 0.0).then(|| self.p * (self.v + x * m) / denominator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spend_without_heterogeneity_is_named_not_chased() {
        // Every customer spends the same per order: the likelihood keeps rising
        // as q and v grow together, and the fit must stop at the bound and say why.
        let n = 40;
        let history = CustomerHistory {
            customer_ids: (0..n).map(|i| i.to_string()).collect(),
            x: (0..n).map(|i| 1.0 + (i % 5) as f64).collect(),
            t_x: vec![10.0; n],
            big_t: vec![20.0; n],
            mean_spend: vec![Some(50.0); n],
        };
        assert!(matches!(fit(&history), Err(ValueError::NoSpendHeterogeneity { .. })), "{:?}", fit(&history));
    }

    #[test]
    fn the_rearranged_sum_equals_the_per_customer_sum() {
        let data = [(1.0, 20.0), (3.0, 35.5), (1.0, 12.0), (7.0, 80.0), (3.0, 5.0)];
        let sums = Sums::new(&data);
        for (p, q, v) in [(6.25, 3.74, 15.44), (0.5, 2.0, 100.0), (12.0, 40.0, 3.0)] {
            let direct: f64 = data.iter().map(|&(x, m)| log_likelihood(p, q, v, x, m)).sum();
            let rearranged = sums.log_likelihood(&data, p, q, v);
            assert!((direct - rearranged).abs() < 1e-9 * direct.abs(), "{direct} vs {rearranged}");
        }
    }
}
