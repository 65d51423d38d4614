//! The calibrated response (DATA.md §8): per arm, P(buy | attributes) by a
//! penalised logistic regression and the spend of a buyer by a log-normal
//! regression, each arm's coefficients pulled towards the control's (a
//! T-learner that shares strength where an arm is thin), with posterior
//! draws ("replicates") that the simulation redraws per run. Where an arm's
//! offers differed in value, its response is a curve in the value.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::CalibrateError;
use super::design::{AttributeSource, Encoding};
use super::fit::{self, Data, Penalty, dot, sigmoid};
use super::lift::{ObservedLifts, observed_lifts};
use super::results::CampaignResults;

pub const FORMAT: &str = "promo-studio response 1";

/// Penalties tried for an arm's coefficients (per unit of a standardised
/// attribute), chosen by cross-validated likelihood.
const LAMBDAS: [f64; 4] = [0.3, 3.0, 30.0, 300.0];
/// Saturation scales tried for a dose curve, as multiples of the median value.
const DOSE_SCALES: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];
const FOLDS: usize = 5;
/// Cross-validation looks at most at this many rows of an arm.
const CV_ROWS: usize = 20_000;
/// The spend model's pull towards the control (log scale, per standardised attribute).
const SPEND_LAMBDA: f64 = 1.0;

/// How to calibrate.
#[derive(Clone, Debug)]
pub struct CalibrationSettings {
    /// Posterior draws kept per arm.
    pub replicates: usize,
    pub seed: u64,
    /// The days over which the results were counted (None: the campaign's horizon).
    pub window_days: Option<f64>,
    /// The results file, said back in the response file.
    pub source: String,
}

impl Default for CalibrationSettings {
    fn default() -> Self {
        CalibrationSettings { replicates: 200, seed: 42, window_days: None, source: String::new() }
    }
}

impl CalibrationSettings {
    pub fn check(&self) -> Result<(), CalibrateError> {
        if self.replicates < 20 {
            return Err(CalibrateError::Setting("replicates must be at least 20".into()));
        }
        if self.window_days.is_some_and(|w| !(w > 0.0 && w.is_finite())) {
            return Err(CalibrateError::Setting("--window-days must be a positive number of days".into()));
        }
        Ok(())
    }
}

/// An arm's response to the value of its offer: the logit rises by
/// γ · (1 − e^(−value/scale)) — diminishing returns, as in the Thornton
/// incentive experiment. `tested` is the range the arm's values covered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoseCurve {
    pub scale: f64,
    pub tested: [f64; 2],
    /// The mean value the arm was tested at (used when an offer gives none).
    pub mean: f64,
}

impl DoseCurve {
    fn shape(&self, value: f64) -> f64 {
        1.0 - (-value.max(0.0) / self.scale).exp()
    }
}

/// Coefficients with their posterior draws.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coefficients {
    pub coef: Vec<f64>,
    pub replicates: Vec<Vec<f64>>,
}

impl Coefficients {
    fn pick(&self, replicate: Option<usize>) -> &[f64] {
        match replicate {
            Some(r) if !self.replicates.is_empty() => &self.replicates[r % self.replicates.len()],
            _ => &self.coef,
        }
    }
}

/// The spend of a buyer: ln(spend) ~ Normal(coef · x, sigma2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpendModel {
    #[serde(flatten)]
    pub coefficients: Coefficients,
    pub sigma2: f64,
    pub buyers: usize,
}

/// One arm of the calibrated response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmModel {
    pub name: String,
    pub customers: usize,
    /// The penalty cross-validation chose for the conversion model.
    pub lambda: f64,
    /// P(buy): the logit's coefficients; with a dose curve, one more (γ) last.
    pub conversion: Coefficients,
    pub dose: Option<DoseCurve>,
    /// The one value the arm was tested at, read from its name ("10% off").
    pub tested_value: Option<f64>,
    pub spend: Option<SpendModel>,
}

/// What `calibrate` writes to `response.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibratedResponse {
    pub format: String,
    pub source: String,
    pub window_days: Option<f64>,
    pub seed: u64,
    pub encoding: Encoding,
    /// The control first.
    pub arms: Vec<ArmModel>,
    pub observed: ObservedLifts,
    /// What the user should know about the fit (a model that did not converge).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Per replicate, how much of a curve's extrapolation beyond the tested
    /// values is believed (0 to 2): an untested value's interval widens.
    pub extrapolation: Vec<f64>,
}

/// A prediction for one customer and arm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArmPrediction {
    pub p: f64,
    /// Expected spend of a buyer; None without a spend model.
    pub s: Option<f64>,
    /// The value asked for lies outside what the arm was tested at.
    pub extrapolated: bool,
}

impl CalibratedResponse {
    /// Whether a response read from a file holds together (a hand-edited or
    /// damaged file is refused here, not by a panic later); why not.
    pub fn check(&self) -> Result<(), String> {
        let w = self.encoding.width();
        if self.arms.len() < 2 {
            return Err("it needs a control and at least one arm".into());
        }
        for input in &self.encoding.inputs {
            if let super::design::Input::Number { attribute, sd, mean, .. } = input
                && !(*sd > 0.0 && sd.is_finite() && mean.is_finite())
            {
                return Err(format!("attribute {attribute:?} has no usable scale"));
            }
        }
        for arm in &self.arms {
            let width = w + usize::from(arm.dose.is_some());
            let c = &arm.conversion;
            if c.coef.len() != width || c.replicates.iter().any(|r| r.len() != width) {
                return Err(format!("arm {:?}: its conversion model has the wrong number of coefficients", arm.name));
            }
            if let Some(s) = &arm.spend
                && (s.coefficients.coef.len() != w
                    || s.coefficients.replicates.iter().any(|r| r.len() != w)
                    || !(s.sigma2 >= 0.0 && s.sigma2.is_finite()))
            {
                return Err(format!("arm {:?}: its spend model does not fit the encoding", arm.name));
            }
            if arm.dose.as_ref().is_some_and(|d| !(d.scale > 0.0 && d.tested[0] <= d.tested[1])) {
                return Err(format!("arm {:?}: its dose curve is not usable", arm.name));
            }
            if c.replicates.len() != self.extrapolation.len() {
                return Err(format!(
                    "arm {:?}: {} posterior draws, expected {}",
                    arm.name,
                    c.replicates.len(),
                    self.extrapolation.len()
                ));
            }
        }
        Ok(())
    }

    pub fn arm(&self, name: &str) -> Option<usize> {
        self.arms.iter().position(|a| a.name == name)
    }

    pub fn replicates(&self) -> usize {
        self.extrapolation.len()
    }

    /// P(buy) and spend for inputs `x` (from `encoding`) under arm `a`, at the
    /// offer value `value`; `replicate` picks a posterior draw (None: the estimate).
    pub fn predict(&self, a: usize, x: &[f64], value: Option<f64>, replicate: Option<usize>) -> ArmPrediction {
        let arm = &self.arms[a];
        let w = self.encoding.width();
        let beta = arm.conversion.pick(replicate);
        let mut z = dot(&beta[..w], x);
        // Between the curve's extrapolation ignored (0) and doubled (2); the estimate believes it (1).
        let belief = replicate.and_then(|r| self.extrapolation.get(r % self.extrapolation.len().max(1)));
        let mut extrapolated = false;
        if let (Some(curve), Some(&gamma)) = (&arm.dose, beta.get(w)) {
            let v = value.unwrap_or(curve.mean);
            let inside = v.clamp(curve.tested[0], curve.tested[1]);
            extrapolated = v != inside;
            let m = belief.copied().unwrap_or(1.0);
            z += gamma * (curve.shape(inside) + (curve.shape(v) - curve.shape(inside)) * m);
        } else if let (Some(v0), Some(v)) = (arm.tested_value, value)
            && a != 0
            && v0 > 0.0
            && (v - v0).abs() > 1e-9
        {
            // One tested value: the effect at another is somewhere between the
            // tested effect and one proportional to the value.
            extrapolated = true;
            let control = dot(&self.arms[0].conversion.pick(replicate)[..w], x);
            let rho = belief.map_or(0.5, |b| b / 2.0);
            z = control + (z - control) * (v / v0).max(0.0).powf(rho);
        }
        let spend = arm.spend.as_ref().or(self.arms[0].spend.as_ref()).map(|m| {
            let gamma = m.coefficients.pick(replicate);
            (dot(gamma, x) + m.sigma2 / 2.0).exp()
        });
        ArmPrediction { p: sigmoid(z), s: spend, extrapolated }
    }

    /// The inputs of row `row` of `source`.
    pub fn inputs(&self, source: &(impl AttributeSource + ?Sized), row: usize) -> Vec<f64> {
        let mut x = vec![0.0; self.encoding.width()];
        self.encoding.encode_into(source, row, &mut x);
        x
    }

    /// The attributes the model needs that `source` lacks.
    pub fn missing_attributes(&self, source: &(impl AttributeSource + ?Sized)) -> Vec<String> {
        self.encoding.attributes().into_iter().filter(|a| !source.has(a)).map(str::to_string).collect()
    }

    /// The mean uplift p(arm) − p(control) over `rows` (inputs `x`, row-major),
    /// with its 90% interval over the replicates.
    pub fn mean_uplift(&self, a: usize, x: &[f64], rows: &[usize], value: Option<f64>) -> Interval {
        let w = self.encoding.width();
        let mean_at = |r: Option<usize>| {
            let total: f64 = rows
                .iter()
                .map(|&i| {
                    let xi = &x[i * w..(i + 1) * w];
                    self.predict(a, xi, value, r).p - self.predict(0, xi, value, r).p
                })
                .sum();
            total / rows.len().max(1) as f64
        };
        let draws: Vec<f64> = (0..self.replicates()).map(|r| mean_at(Some(r))).collect();
        Interval::of(mean_at(None), draws)
    }
}

/// An estimate and its 90% interval (the 5th and 95th percentiles of its draws).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub p5: f64,
    pub p95: f64,
}

impl Interval {
    pub fn of(estimate: f64, mut draws: Vec<f64>) -> Interval {
        draws.sort_by(f64::total_cmp);
        let q = |p: f64| {
            if draws.is_empty() { estimate } else { draws[((draws.len() - 1) as f64 * p).round() as usize] }
        };
        Interval { estimate, p5: q(0.05), p95: q(0.95) }
    }

    pub fn contains(&self, x: f64) -> bool {
        self.p5 <= x && x <= self.p95
    }
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

/// "10% off" → 10: the depth an arm was tested at, when its name says it.
pub fn percent_in_name(name: &str) -> Option<f64> {
    let percent = name.find('%')?;
    let head = &name[..percent];
    // The number is the run of digits and points just before the sign (char
    // boundaries: an arm may well be named 满100减10%).
    let start = head
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    head[start..].parse().ok().filter(|v: &f64| *v > 0.0)
}

/// Calibrates the response on a finished campaign's `results`.
pub fn calibrate(
    results: &CampaignResults,
    settings: &CalibrationSettings,
) -> Result<CalibratedResponse, CalibrateError> {
    settings.check()?;
    let encoding = Encoding::learn(&results.attributes);
    let w = encoding.width();
    let x = encoding.encode_all(results.attributes.as_slice(), results.len());
    let y: Vec<f64> = results.converted.iter().map(|&c| f64::from(u8::from(c))).collect();

    let mut arms: Vec<ArmModel> = Vec::with_capacity(results.arms.len());
    let mut notes = Vec::new();
    for (a, name) in results.arms.iter().enumerate() {
        let rows = results.rows_of(a);
        let prior = match arms.first() {
            Some(control) => control.conversion.coef[..w].to_vec(),
            None => {
                let rate = rows.iter().map(|&i| y[i]).sum::<f64>() / rows.len().max(1) as f64;
                let mut p = vec![0.0; w];
                p[0] = logit(rate);
                p
            }
        };
        // A row without a value takes the arm's median one: it was offered
        // something, only its amount was not recorded.
        let doses: Option<Vec<f64>> = results
            .value
            .as_ref()
            .filter(|_| a > 0)
            .and_then(|v| {
                let mut known: Vec<f64> = rows.iter().filter_map(|&i| v[i]).collect();
                known.sort_by(f64::total_cmp);
                let median = *known.get(known.len() / 2)?;
                Some(rows.iter().map(|&i| v[i].unwrap_or(median)).collect())
            })
            .filter(|d: &Vec<f64>| distinct_count(d) >= 2);
        let arm_seed = settings.seed ^ (a as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let design = ArmData { x: &x, w, y: &y, rows: &rows, prior: &prior };
        let (fit, lambda, dose) = fit_conversion(&design, doses.as_deref(), arm_seed)
            .ok_or_else(|| CalibrateError::NoFit { arm: name.clone(), what: "conversion".into() })?;
        if !fit.converged {
            notes.push(format!(
                "arm {name:?}: the conversion model stopped before converging; treat its estimates with care"
            ));
        }
        let conversion = Coefficients {
            replicates: draws(&fit.coef, &fit.covariance, settings.replicates, arm_seed),
            coef: fit.coef,
        };
        let spend_prior = arms.first().and_then(|c| c.spend.as_ref()).map(|s| s.coefficients.coef.clone());
        let spend = results
            .spend
            .as_ref()
            .and_then(|s| fit_spend(&x, w, s, &results.converted, &rows, spend_prior.as_deref()))
            .map(|(fit, sigma2, buyers)| SpendModel {
                coefficients: Coefficients {
                    replicates: draws(&fit.coef, &fit.covariance, settings.replicates, arm_seed ^ 0x5EED),
                    coef: fit.coef,
                },
                sigma2,
                buyers,
            });
        let tested_value = match (&dose, &results.value) {
            (None, Some(v)) if a > 0 => rows.iter().find_map(|&i| v[i]),
            (None, None) => percent_in_name(name),
            _ => None,
        };
        arms.push(ArmModel {
            name: name.clone(),
            customers: rows.len(),
            lambda,
            conversion,
            dose,
            tested_value,
            spend,
        });
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(settings.seed ^ 0xE87A);
    let extrapolation = (0..settings.replicates).map(|_| 2.0 * rand::Rng::r#gen::<f64>(&mut rng)).collect();
    Ok(CalibratedResponse {
        format: FORMAT.to_string(),
        source: settings.source.clone(),
        window_days: settings.window_days,
        seed: settings.seed,
        encoding,
        arms,
        observed: observed_lifts(results),
        notes,
        extrapolation,
    })
}

fn distinct_count(values: &[f64]) -> usize {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v.len()
}

/// The arm's rows as a compact design, with the dose column appended when given.
fn arm_design(x: &[f64], w: usize, rows: &[usize], dose: Option<(&[f64], &DoseCurve)>) -> (Vec<f64>, usize) {
    let width = w + usize::from(dose.is_some());
    let mut out = Vec::with_capacity(rows.len() * width);
    for (k, &i) in rows.iter().enumerate() {
        out.extend_from_slice(&x[i * w..(i + 1) * w]);
        if let Some((values, curve)) = dose {
            out.push(curve.shape(values[k]));
        }
    }
    (out, width)
}

/// One arm's rows of the whole design, and the coefficients it is pulled towards.
struct ArmData<'a> {
    x: &'a [f64],
    w: usize,
    y: &'a [f64],
    rows: &'a [usize],
    prior: &'a [f64],
}

impl ArmData<'_> {
    /// The intercept is pulled by one observation's worth of information;
    /// the attributes' coefficients by λ; a dose curve's height barely.
    fn penalty(&self, lambda: f64, width: usize) -> (Vec<f64>, Vec<f64>) {
        let rate = self.rows.iter().map(|&i| self.y[i]).sum::<f64>() / self.rows.len().max(1) as f64;
        let mut weights = vec![lambda; width];
        weights[0] = (rate * (1.0 - rate)).max(0.05);
        let mut prior = self.prior.to_vec();
        if width > self.w {
            weights[self.w] = 0.01;
            prior.push(0.0);
        }
        (weights, prior)
    }

    /// A seeded order of the arm's rows (positions in `rows`), at most CV_ROWS long.
    fn cv_order(&self, seed: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut Xoshiro256PlusPlus::seed_from_u64(seed));
        order.truncate(CV_ROWS);
        order
    }
}

/// Fold `fold`'s training and held-out positions of `order`.
fn split(order: &[usize], fold: usize) -> (Vec<usize>, Vec<usize>) {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (k, &i) in order.iter().enumerate() {
        if k % FOLDS == fold { test.push(i) } else { train.push(i) }
    }
    (train, test)
}

/// The conversion model of one arm, fitted on all its rows with the
/// penalty (and dose curve) that cross-validation chose by held-out
/// likelihood. (Choosing a treated arm's penalty by held-out uplift — the
/// error against the transformed outcome — was measured too: it ranked
/// worse on the sample shop's halves and its intervals covered less.)
fn fit_conversion(arm: &ArmData, doses: Option<&[f64]>, seed: u64) -> Option<(fit::Fit, f64, Option<DoseCurve>)> {
    let (x, w, rows) = (arm.x, arm.w, arm.rows);
    let ys: Vec<f64> = rows.iter().map(|&i| arm.y[i]).collect();
    let curves: Vec<Option<DoseCurve>> = match doses {
        Some(d) => {
            let mut sorted = d.to_vec();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2].max(f64::MIN_POSITIVE);
            let tested = [sorted[0], sorted[sorted.len() - 1]];
            let mean = d.iter().sum::<f64>() / d.len() as f64;
            DOSE_SCALES.iter().map(|m| Some(DoseCurve { scale: m * median, tested, mean })).collect()
        }
        None => vec![None],
    };
    let order = arm.cv_order(seed);
    let candidates: Vec<(f64, Option<DoseCurve>)> =
        curves.iter().flat_map(|c| LAMBDAS.iter().map(move |&l| (l, c.clone()))).collect();
    let scored: Vec<f64> = candidates
        .iter()
        .map(|(lambda, curve)| {
            let (design, width) = arm_design(x, w, rows, doses.zip(curve.as_ref()));
            let (weights, prior) = arm.penalty(*lambda, width);
            let mut total = 0.0;
            for fold in 0..FOLDS {
                let (train, test) = split(&order, fold);
                let data = Data { x: &design, width, y: &ys, rows: &train };
                let Some(f) = fit::logistic(&data, &Penalty { weights: &weights, prior: &prior }) else {
                    return f64::NEG_INFINITY;
                };
                total += fit::log_likelihood(&Data { x: &design, width, y: &ys, rows: &test }, &f.coef);
            }
            total
        })
        .collect();
    let best = scored.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)?;
    let (lambda, curve) = candidates[best].clone();
    let (design, width) = arm_design(x, w, rows, doses.zip(curve.as_ref()));
    let (weights, prior) = arm.penalty(lambda, width);
    let all: Vec<usize> = (0..rows.len()).collect();
    let data = Data { x: &design, width, y: &ys, rows: &all };
    let fitted = fit::logistic(&data, &Penalty { weights: &weights, prior: &prior })?;
    Some((fitted, lambda, curve))
}

/// The spend model of one arm, on its buyers with a positive spend: None
/// with fewer than two (the control's model then serves).
fn fit_spend(
    x: &[f64],
    w: usize,
    spend: &[f64],
    converted: &[bool],
    rows: &[usize],
    prior: Option<&[f64]>,
) -> Option<(fit::Fit, f64, usize)> {
    let buyers: Vec<usize> = rows.iter().copied().filter(|&i| converted[i] && spend[i] > 0.0).collect();
    if buyers.len() < 2 {
        return None;
    }
    let (design, _) = arm_design(x, w, &buyers, None);
    let ys: Vec<f64> = buyers.iter().map(|&i| spend[i].ln()).collect();
    let mean = ys.iter().sum::<f64>() / ys.len() as f64;
    let mut p = prior.map_or_else(|| vec![0.0; w], <[f64]>::to_vec);
    if prior.is_none() {
        p[0] = mean;
    }
    // Few buyers: only the level moves; the slopes stay the control's.
    let lambda = if buyers.len() < w + 5 { 1e6 } else { SPEND_LAMBDA };
    let mut weights = vec![lambda; w];
    weights[0] = 1e-6;
    let all: Vec<usize> = (0..buyers.len()).collect();
    let (fit, sigma2) = fit::least_squares(
        &Data { x: &design, width: w, y: &ys, rows: &all },
        &Penalty { weights: &weights, prior: &p },
    )?;
    Some((fit, sigma2, buyers.len()))
}

/// `count` draws from Normal(mean, covariance), seeded.
fn draws(mean: &[f64], covariance: &[f64], count: usize, seed: u64) -> Vec<Vec<f64>> {
    let d = mean.len();
    let Some(l) = fit::cholesky(covariance, d) else { return vec![mean.to_vec(); count] };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let z: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
            (0..d).map(|i| mean[i] + (0..=i).map(|k| l[i * d + k] * z[k]).sum::<f64>()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_depth_is_read_from_an_arm_name() {
        assert_eq!(percent_in_name("10% off"), Some(10.0));
        assert_eq!(percent_in_name("Save 12.5%"), Some(12.5));
        assert_eq!(percent_in_name("Free shipping"), None);
        assert_eq!(percent_in_name("Spend 50 save 10"), None);
        assert_eq!(percent_in_name("打折10%"), Some(10.0));
        assert_eq!(percent_in_name("满100减10%"), Some(10.0));
        assert_eq!(percent_in_name("−10%"), Some(10.0));
    }

    #[test]
    fn intervals_are_the_draws_percentiles() {
        let i = Interval::of(0.5, (0..=100).map(|k| k as f64 / 100.0).collect());
        assert_eq!((i.p5, i.p95), (0.05, 0.95));
        assert!(i.contains(0.5) && !i.contains(0.99));
    }
}
