//! Campaign simulation (DATA.md §9, `simulate`): per run, the response
//! model's parameters are redrawn from their uncertainty (the default
//! model's assumption ranges, a calibrated arm's posterior draws), then every
//! targeted customer's outcome — buys or not, and spend — for the treated and
//! the holdout; the metrics of §9 per run, and their spread over runs, overall,
//! per offer and per segment (`metrics`). Also: the holdout's power
//! (`power`), what each assumption is worth (`sensitivity`), who is targeted
//! and at what price by group (`fairness`).
//!
//! Random numbers are keyed by (seed, run, customer), not drawn in sequence:
//! the same customer sees the same chances in every scenario simulated with
//! the same seed (common random numbers), on any number of threads.

pub mod fairness;
pub mod metrics;
pub mod power;
pub mod sensitivity;

use rayon::prelude::*;

use super::calibrate::CalibratedResponse;
use super::file::{Assumptions, Campaign, Channel};
use super::plan::{Calibrated, CustomerTable, Group, Plan, customer_effect};
use super::response::Effect;
use crate::core::progress::{Cancelled, Progress};
use metrics::{METRICS, Spread, Totals};

/// Runs per chunk between progress reports (and partial results).
const CHUNK_RUNS: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{0}")]
    Setting(String),
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for SimulateError {
    fn from(_: Cancelled) -> Self {
        SimulateError::Cancelled
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimulationSettings {
    pub runs: usize,
    pub seed: u64,
}

impl Default for SimulationSettings {
    fn default() -> Self {
        SimulationSettings { runs: 1000, seed: 42 }
    }
}

impl SimulationSettings {
    pub fn check(&self) -> Result<(), SimulateError> {
        if !(20..=1_000_000).contains(&self.runs) {
            return Err(SimulateError::Setting(format!(
                "--runs must be between 20 and 1,000,000 (percentiles need runs), got {}",
                self.runs
            )));
        }
        Ok(())
    }
}

/// One targeted customer: the offer, and whether it was sent or held out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exposure {
    /// Index into the customer table (what keys the customer's random numbers).
    pub customer: usize,
    pub offer: usize,
    pub treated: bool,
}

/// A campaign ready to simulate: who gets what, and how each responds.
pub struct Design<'a> {
    pub campaign: &'a Campaign,
    pub customers: &'a CustomerTable,
    pub response: Option<&'a CalibratedResponse>,
    /// Per offer, its calibrated arm.
    pub arms: Vec<Option<usize>>,
    pub exposures: Vec<Exposure>,
    channels: Vec<Channel>,
    /// Per exposure: the calibrated model's inputs (empty for a default-model offer).
    inputs: Vec<Vec<f64>>,
    /// Gamma-Gamma's shape p: how much one order's value varies (CV² 1/p).
    order_value_shape: Option<f64>,
    /// The segment names, and each exposure's segment (an index into them).
    pub segments: Vec<String>,
    segment_of: Vec<usize>,
}

impl<'a> Design<'a> {
    /// Everyone `plan` targeted, treated or held out.
    pub fn from_plan(plan: &'a Plan, response: Option<&'a CalibratedResponse>, order_value_shape: Option<f64>) -> Self {
        let exposures = (0..plan.customers.len())
            .filter_map(|i| {
                let offer = plan.assignment.chosen[i].map(|c| plan.candidates.candidates()[c].offer as usize)?;
                match plan.group[i] {
                    Group::Treated => Some(Exposure { customer: i, offer, treated: true }),
                    Group::Control => Some(Exposure { customer: i, offer, treated: false }),
                    Group::NotTargeted => None,
                }
            })
            .collect();
        Design::new(&plan.campaign, &plan.customers, response, plan.arms.clone(), exposures, order_value_shape)
    }

    /// Any assignment (a past campaign's own, for checking the forecast against it).
    pub fn new(
        campaign: &'a Campaign,
        customers: &'a CustomerTable,
        response: Option<&'a CalibratedResponse>,
        arms: Vec<Option<usize>>,
        exposures: Vec<Exposure>,
        order_value_shape: Option<f64>,
    ) -> Self {
        let channels = campaign
            .offers
            .iter()
            .map(|o| campaign.channel(&o.channel).cloned().unwrap_or_else(|| Channel::new(&o.channel)))
            .collect();
        let inputs = exposures
            .iter()
            .map(|e| match (response, arms.get(e.offer).copied().flatten()) {
                (Some(r), Some(_)) => r.inputs(customers, e.customer),
                _ => Vec::new(),
            })
            .collect();
        let mut segments: Vec<String> = Vec::new();
        let segment_of = exposures
            .iter()
            .map(|e| {
                let name = customers.segment[e.customer].clone().unwrap_or_else(|| "no segment".to_string());
                match segments.iter().position(|s| *s == name) {
                    Some(k) => k,
                    None => {
                        segments.push(name);
                        segments.len() - 1
                    }
                }
            })
            .collect();
        Design {
            campaign,
            customers,
            response,
            arms,
            exposures,
            channels,
            inputs,
            order_value_shape,
            segments,
            segment_of,
        }
    }

    /// Exposure `k`'s expected effect under a run's parameters.
    pub fn effect(&self, k: usize, params: &RunParameters) -> Effect {
        let e = &self.exposures[k];
        let offer = &self.campaign.offers[e.offer];
        let base = &self.customers.baseline[e.customer];
        let calibrated = match (self.response, self.arms[e.offer]) {
            (Some(response), Some(arm)) => {
                Some(Calibrated { response, arm, x: &self.inputs[k], replicate: params.replicate })
            }
            _ => None,
        };
        customer_effect(self.campaign, offer, &self.channels[e.offer], base, &params.assumptions, calibrated)
    }

    /// The squared coefficient of variation of exposure `k`'s spend if it buys
    /// (treated: under its offer; else without it).
    fn spend_cv2(&self, k: usize, treated: bool) -> f64 {
        let e = &self.exposures[k];
        match (self.response, self.arms[e.offer]) {
            (Some(r), Some(arm)) => {
                let model = if treated { r.arms[arm].spend.as_ref() } else { None };
                model.or(r.arms[0].spend.as_ref()).map_or(1.0, |m| m.sigma2.exp_m1())
            }
            _ => {
                // A buyer's spend is a sum of N orders, each Gamma with shape p
                // (CV² 1/p), N − 1 Poisson around the expected orders:
                // CV² = (E[N]/p + Var N) / E[N]².
                let orders = self.customers.baseline[e.customer].orders.max(1.0);
                let per_order = self.order_value_shape.filter(|p| *p > 0.0).map_or(1.0, |p| 1.0 / p);
                (orders * per_order + (orders - 1.0)) / (orders * orders)
            }
        }
    }

    /// The groups results are given for: everyone, each offer, each segment.
    pub fn groups(&self) -> Vec<(GroupKind, String)> {
        let mut groups = vec![(GroupKind::Overall, "all".to_string())];
        groups.extend(self.campaign.offers.iter().map(|o| (GroupKind::Offer, o.name.clone())));
        groups.extend(self.segments.iter().map(|s| (GroupKind::Segment, s.clone())));
        groups
    }

    fn groups_of(&self, k: usize) -> [usize; 3] {
        let offers = self.campaign.offers.len();
        [0, 1 + self.exposures[k].offer, 1 + offers + self.segment_of[k]]
    }

    /// Whether any offer rests on the default model's assumptions.
    pub fn uses_assumptions(&self) -> bool {
        self.arms.iter().any(Option::is_none)
    }
}

/// What one run believes about the response.
#[derive(Clone, Debug)]
pub struct RunParameters {
    pub assumptions: Assumptions,
    /// The calibrated model's posterior draw (None: its estimate).
    pub replicate: Option<usize>,
}

impl RunParameters {
    /// The estimates: assumptions at their values, calibrated arms at their fits.
    pub fn expected(campaign: &Campaign) -> RunParameters {
        RunParameters { assumptions: campaign.assumptions_or_default(), replicate: None }
    }

    /// Run `run`'s draw: each assumption from a triangular distribution over
    /// its range, peaked at its value; one posterior draw of the calibrated model.
    pub fn draw(campaign: &Campaign, replicates: usize, seed: u64, run: usize) -> RunParameters {
        let mut assumptions = campaign.assumptions_or_default();
        for (k, (_, a)) in assumptions.all_mut().into_iter().enumerate() {
            a.value = triangular(a.low, a.value, a.high, unit(seed, run as u64, u64::MAX, k as u64));
        }
        let replicate = (replicates > 0)
            .then(|| ((unit(seed, run as u64, u64::MAX, 99) * replicates as f64) as usize).min(replicates - 1));
        RunParameters { assumptions, replicate }
    }
}

/// The inverse CDF of a triangular distribution on [low, high] peaking at mode.
fn triangular(low: f64, mode: f64, high: f64, u: f64) -> f64 {
    if high <= low {
        return mode;
    }
    let mode = mode.clamp(low, high);
    let cut = (mode - low) / (high - low);
    if u < cut {
        low + (u * (high - low) * (mode - low)).sqrt()
    } else {
        high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
    }
}

/// A uniform number in (0, 1) keyed by (seed, run, customer, stream): SplitMix64
/// finalisation of the combined key, so any customer's chances in any run
/// can be had without drawing anyone else's.
fn unit(seed: u64, run: u64, customer: u64, stream: u64) -> f64 {
    let mut z = seed
        .wrapping_add(run.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(customer.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(stream.wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// A standard normal from two keyed uniforms (Box–Muller).
fn normal(seed: u64, run: u64, customer: u64) -> f64 {
    let (u1, u2) = (unit(seed, run, customer, 1), unit(seed, run, customer, 2));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A buyer's spend with mean `mean` and squared coefficient of variation
/// `cv2`: log-normal, from the standard normal `z`.
fn spend(mean: f64, cv2: f64, z: f64) -> f64 {
    let sigma2 = cv2.ln_1p();
    mean * (sigma2.sqrt() * z - sigma2 / 2.0).exp()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Overall,
    Offer,
    Segment,
}

/// One group's forecast: its size and each run's metrics.
#[derive(Clone, Debug)]
pub struct GroupForecast {
    pub kind: GroupKind,
    pub name: String,
    pub treated: usize,
    pub control: usize,
    /// Per run, [`METRICS`] in order.
    pub runs: Vec<[f64; METRICS.len()]>,
}

impl GroupForecast {
    pub fn spread(&self, metric: usize) -> Spread {
        Spread::of(&self.runs.iter().map(|m| m[metric]).collect::<Vec<_>>())
    }
}

/// The simulation's result.
#[derive(Clone, Debug)]
pub struct Forecast {
    pub campaign: String,
    pub seed: u64,
    pub customers: usize,
    pub targeted: usize,
    pub treated: usize,
    pub control: usize,
    /// Everyone first, then each offer, then each segment.
    pub groups: Vec<GroupForecast>,
}

impl Forecast {
    pub fn runs(&self) -> usize {
        self.groups.first().map_or(0, |g| g.runs.len())
    }

    pub fn overall(&self) -> &GroupForecast {
        &self.groups[0]
    }

    /// The share of runs in which this campaign's incremental profit beats
    /// `other`'s: meaningful between forecasts of the same customers with the
    /// same seed (common random numbers).
    pub fn beats(&self, other: &Forecast) -> f64 {
        let m = metrics::metric("incremental_profit");
        let (a, b) = (&self.overall().runs, &other.overall().runs);
        let n = a.len().min(b.len());
        if n == 0 {
            return 0.5;
        }
        a.iter().zip(b).filter(|(x, y)| x[m] > y[m]).count() as f64 / n as f64
    }
}

/// A plan's forecast and what surrounds it: the holdout's power, the
/// sensitivity, fairness by group, and scenarios beside it.
pub struct Outlook {
    pub forecast: Forecast,
    pub expected_profit: f64,
    pub holdout: power::HoldoutPower,
    pub swings: Vec<sensitivity::Swing>,
    pub fairness: Vec<fairness::GroupFairness>,
    /// Other campaigns on the same customers and random numbers: (name, forecast).
    pub scenarios: Vec<(String, Forecast)>,
}

/// Simulates `plan` and measures what surrounds the forecast.
pub fn outlook(
    plan: &Plan,
    response: Option<&CalibratedResponse>,
    order_value_shape: Option<f64>,
    settings: &SimulationSettings,
    check: fairness::FairnessCheck,
    progress: &dyn Progress,
    partial: &(dyn Fn(&Forecast) + Sync),
) -> Result<Outlook, SimulateError> {
    let design = Design::from_plan(plan, response, order_value_shape);
    let forecast = simulate(&design, settings, progress, partial)?;
    let holdout = expected_power(&design);
    let (expected_profit, swings) = sensitivity::sensitivity(&design);
    let fairness = fairness::fairness(plan, check.by, check.ratio);
    Ok(Outlook { forecast, expected_profit, holdout, swings, fairness, scenarios: Vec::new() })
}

/// Where the response of a plan's offers comes from, in words.
pub fn response_words(plan: &Plan, response: Option<&CalibratedResponse>) -> String {
    let calibrated = plan.arms.iter().filter(|a| a.is_some()).count();
    match (response, calibrated) {
        (Some(r), k) if k > 0 => {
            let source = if r.source.is_empty() { "a past campaign" } else { &r.source };
            if k == plan.arms.len() {
                format!("every offer calibrated on {source} (redrawn from its posterior draws)")
            } else {
                format!(
                    "{k} of {} offers calibrated on {source} (posterior draws), the others on the default assumptions",
                    plan.arms.len()
                )
            }
        }
        _ => "the default model: BG/NBD and Gamma-Gamma baselines, offer effects from cited assumptions with ranges"
            .to_string(),
    }
}

/// The holdout's power for the lifts the design is expected to show (the
/// estimates, no draws): conversion, and spend per customer with its
/// standard deviation from the buyers' spend model.
pub fn expected_power(design: &Design) -> power::HoldoutPower {
    let params = RunParameters::expected(design.campaign);
    let (mut n, mut p0, mut p1, mut y0, mut y1, mut y0_2, mut y1_2) = (0.0_f64, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for k in 0..design.exposures.len() {
        let e = design.effect(k, &params);
        n += 1.0;
        p0 += e.p0;
        p1 += e.p1;
        // A customer's spend Y = bought × S: E[Y] = p·s, E[Y²] = p·s²·(1 + cv²).
        y0 += e.p0 * e.s0;
        y1 += e.p1 * e.s1;
        y0_2 += e.p0 * e.s0 * e.s0 * (1.0 + design.spend_cv2(k, false));
        y1_2 += e.p1 * e.s1 * e.s1 * (1.0 + design.spend_cv2(k, true));
    }
    let n = n.max(1.0);
    let var = |m: f64, m2: f64| (m2 / n - (m / n).powi(2)).max(0.0);
    let sd = ((var(y0, y0_2) + var(y1, y1_2)) / 2.0).sqrt();
    let treated = design.exposures.iter().filter(|e| e.treated).count();
    power::holdout_power(treated, design.exposures.len() - treated, p0 / n, p1 / n, (y1 - y0) / n, sd)
}

/// Simulates `design`. `partial` sees the forecast so far after each chunk
/// of runs (a histogram can fill in); cancelled between chunks.
pub fn simulate(
    design: &Design,
    settings: &SimulationSettings,
    progress: &dyn Progress,
    partial: &(dyn Fn(&Forecast) + Sync),
) -> Result<Forecast, SimulateError> {
    settings.check()?;
    let groups = design.groups();
    let mut sizes = vec![(0usize, 0usize); groups.len()];
    for k in 0..design.exposures.len() {
        for g in design.groups_of(k) {
            if design.exposures[k].treated {
                sizes[g].0 += 1;
            } else {
                sizes[g].1 += 1;
            }
        }
    }
    let mut forecast = Forecast {
        campaign: design.campaign.name.clone(),
        seed: settings.seed,
        customers: design.customers.len(),
        targeted: design.exposures.len(),
        treated: sizes[0].0,
        control: sizes[0].1,
        groups: groups
            .iter()
            .zip(&sizes)
            .map(|((kind, name), &(treated, control))| GroupForecast {
                kind: *kind,
                name: name.clone(),
                treated,
                control,
                runs: Vec::with_capacity(settings.runs),
            })
            .collect(),
    };
    let replicates = design.response.map_or(0, |r| r.replicates());
    let margin = design.campaign.margin;
    let mut done = 0;
    while done < settings.runs {
        if progress.is_cancelled() {
            return Err(SimulateError::Cancelled);
        }
        let end = (done + CHUNK_RUNS).min(settings.runs);
        let chunk: Vec<Vec<[f64; METRICS.len()]>> = (done..end)
            .into_par_iter()
            .map(|run| {
                let params = RunParameters::draw(design.campaign, replicates, settings.seed, run);
                run_once(design, &params, settings.seed, run, groups.len()).iter().map(|t| t.metrics(margin)).collect()
            })
            .collect();
        for per_group in chunk {
            for (g, m) in per_group.into_iter().enumerate() {
                forecast.groups[g].runs.push(m);
            }
        }
        done = end;
        progress.update(Some(done as f32 / settings.runs as f32), &format!("{done} of {} runs", settings.runs));
        partial(&forecast);
    }
    Ok(forecast)
}

/// One run: every exposure's outcome under `params`, summed per group.
fn run_once(design: &Design, params: &RunParameters, seed: u64, run: usize, groups: usize) -> Vec<Totals> {
    let mut totals = vec![Totals::default(); groups];
    for (k, e) in design.exposures.iter().enumerate() {
        let effect = design.effect(k, params);
        let customer = e.customer as u64;
        let u = unit(seed, run as u64, customer, 0);
        let z = normal(seed, run as u64, customer);
        let mut t = Totals::default();
        // The same u decides with and without the offer: a customer who
        // would have bought anyway buys with it too.
        let buys_anyway = u < effect.p0;
        let spend_anyway = if buys_anyway { spend(effect.s0, design.spend_cv2(k, false), z) } else { 0.0 };
        if e.treated {
            let buys = u < effect.p1;
            t.treated = 1.0;
            t.message_cost = effect.message_cost;
            if buys {
                t.treated_buyers = 1.0;
                t.treated_spend = spend(effect.s1, design.spend_cv2(k, true), z);
                t.discount_cost = if effect.p1 > 0.0 { effect.incentive_cost / effect.p1 } else { 0.0 };
            }
            t.counterfactual_buyers = f64::from(u8::from(buys_anyway));
            t.counterfactual_spend = spend_anyway;
        } else {
            t.control = 1.0;
            t.control_buyers = f64::from(u8::from(buys_anyway));
            t.control_spend = spend_anyway;
        }
        for g in design.groups_of(k) {
            totals[g].add(&t);
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_uniforms_are_uniform_and_independent_of_order() {
        let draws: Vec<f64> = (0..20_000).map(|c| unit(7, 3, c, 0)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!(draws.iter().all(|u| *u > 0.0 && *u < 1.0));
        assert_eq!(unit(7, 3, 11, 0), unit(7, 3, 11, 0));
        assert_ne!(unit(7, 3, 11, 0), unit(7, 4, 11, 0));
    }

    #[test]
    fn triangular_stays_in_its_range_around_its_mode() {
        let draws: Vec<f64> = (0..10_000).map(|k| triangular(0.0, 0.2, 0.6, unit(1, k, 0, 5))).collect();
        assert!(draws.iter().all(|x| (0.0..=0.6).contains(x)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        // The mean of a triangular distribution is (low + mode + high) / 3.
        assert!((mean - 0.8 / 3.0).abs() < 0.01, "{mean}");
        assert_eq!(triangular(0.3, 0.3, 0.3, 0.9), 0.3);
    }

    #[test]
    fn log_normal_spend_keeps_its_mean() {
        let draws: Vec<f64> = (0..50_000).map(|c| spend(40.0, 0.5, normal(3, 1, c))).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!((mean - 40.0).abs() < 0.5, "{mean}");
        assert!((var / (40.0 * 40.0) - 0.5).abs() < 0.05, "{}", var / 1600.0);
    }
}
