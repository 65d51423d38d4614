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

fn log_likelihood(p: f64, q: f64, v: f64, x: f64, m: f64) -> f64 {
    ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * v.ln() + (p * x - 1.0) * m.ln() + (p * x) * x.ln()
        - (p * x + q) * (x * m + v).ln()
}

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
    let neg_ll = |phi: &[f64]| -> f64 {
        let (p, q, v) = (phi[0].exp(), phi[1].exp(), phi[2].exp());
        -data.iter().map(|&(x, m)| log_likelihood(p, q, v, x, m)).sum::<f64>()
    };
    let mean_m = data.iter().map(|d| d.1).sum::<f64>() / data.len() as f64;
    let start = [0.0, 0.0, mean_m.ln()];
    let Minimum { point, value, iterations, converged } = nelder_mead(neg_ll, &start, 0.5, 4000, 1e-12);
    let (p, q, v) = (point[0].exp(), point[1].exp(), point[2].exp());
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
