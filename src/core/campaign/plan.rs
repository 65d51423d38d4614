//! From a campaign file and the shop's customers to a plan (DATA.md §7, §8,
//! §10): who is eligible for which offer, each pair's expected value, the
//! assignment (budget-optimal, or an A/B/n test), the holdout, and the
//! tables `plan.csv` and `candidates.csv`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;
use thiserror::Error;

use super::assign::{self, AssignError, Assignment, Candidate, Candidates};
use super::calibrate::CalibratedResponse;
use super::calibrate::design::AttributeSource;
use super::file::{self, Campaign, Known};
use super::response::{self, Baseline, BaselineSource, Effect};
use crate::core::segment::{RfmSegmentation, Segment};
use crate::core::table::{f64_column, text_column};
use crate::core::value::CustomerValue;

#[derive(Debug, Error)]
pub enum PlanError {
    #[error(transparent)]
    Campaign(#[from] file::CampaignError),
    #[error("the customer table: {0}")]
    Table(#[from] PolarsError),
    #[error("the assignment: {0}")]
    Assign(#[from] AssignError),
}

/// What the plan is made from, all in the feature table's customer order.
pub struct CampaignInputs<'a> {
    /// DATA.md §2's features (customer_id first), or a `--customers` table.
    pub customers: &'a DataFrame,
    /// BG/NBD and Gamma-Gamma, fitted on the events; None: the fallback baseline.
    pub value: Option<&'a CustomerValue>,
    /// The segmentation in use: a segment id per customer, and the segments.
    pub segments: Option<(&'a [i32], &'a [Segment])>,
    pub rfm: Option<&'a RfmSegmentation>,
    /// A calibrated response (`calibrate`), for offers that name one of its arms.
    pub response: Option<&'a CalibratedResponse>,
}

/// Everything a rule, a segment test and the response model read per customer.
pub struct CustomerTable {
    pub ids: Vec<String>,
    /// Numeric columns by name (features, value, `--customers` columns).
    pub numbers: BTreeMap<String, Vec<Option<f64>>>,
    /// Text columns by name (a region, a tier: attributes a calibrated response may read).
    pub texts: BTreeMap<String, Vec<Option<String>>>,
    pub segment: Vec<Option<String>>,
    pub rfm_group: Vec<Option<String>>,
    pub baseline: Vec<Baseline>,
    /// How the baselines were made, in words, for the summary.
    pub baseline_note: String,
}

impl CustomerTable {
    pub fn build(inputs: &CampaignInputs, horizon_days: f64) -> Result<CustomerTable, PlanError> {
        let table = inputs.customers;
        let ids = text_column(table, "customer_id")?;
        let n = ids.len();
        let mut numbers = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for column in table.columns() {
            if column.name().as_str() == "customer_id" {
                continue;
            }
            // Numbers and flags read as numbers, text and categories as text:
            // as `calibrate` read them.
            if column.dtype().is_primitive_numeric() || column.dtype().is_bool() {
                numbers.insert(column.name().to_string(), f64_column(table, column.name())?);
            } else if column.dtype().is_string() || column.dtype().is_categorical() || column.dtype().is_enum() {
                let values = column.cast(&DataType::String)?;
                let values = values.str()?;
                texts.insert(column.name().to_string(), values.iter().map(|v| v.map(str::to_string)).collect());
            }
        }
        let row_of: std::collections::HashMap<&str, usize> =
            ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        // The value columns, per customer (buyers only; others have none).
        let mut history_row = vec![None; n];
        if let Some(value) = inputs.value {
            let mut columns: [Vec<Option<f64>>; 4] = std::array::from_fn(|_| vec![None; n]);
            for (h, id) in value.history.customer_ids.iter().enumerate() {
                if let Some(&i) = row_of.get(id.as_str()) {
                    history_row[i] = Some(h);
                    columns[0][i] = Some(value.p_alive[h]);
                    columns[1][i] = Some(value.expected_purchases[h]);
                    columns[2][i] = value.expected_spend[h];
                    columns[3][i] = value.clv[h];
                }
            }
            for (name, column) in file::VALUE_FEATURES.iter().zip(columns) {
                numbers.entry(name.to_string()).or_insert(column);
            }
        }
        let segment = match inputs.segments {
            Some((assignment, segments)) => {
                assignment.iter().map(|s| segments.iter().find(|x| x.id == *s).map(|x| x.name.clone())).collect()
            }
            None => vec![None; n],
        };
        let rfm_group = match inputs.rfm {
            Some(rfm) => rfm
                .assignment
                .iter()
                .map(|&g| usize::try_from(g).ok().and_then(|g| crate::core::segment::rfm::RFM_GROUPS.get(g)))
                .map(|g| g.map(|g| g.to_string()))
                .collect(),
            None => vec![None; n],
        };
        let (baseline, baseline_note) = baselines(&numbers, inputs.value, &history_row, horizon_days);
        Ok(CustomerTable { ids, numbers, texts, segment, rfm_group, baseline, baseline_note })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// What a campaign may name, for validating it against this table.
    pub fn known(&self, segments: Option<Vec<String>>) -> Known {
        Known {
            features: self.numbers.keys().cloned().collect(),
            segments,
            rfm_groups: crate::core::segment::rfm::RFM_GROUPS.iter().map(|g| g.to_string()).collect(),
            arms: None,
        }
    }

    /// How many customers each offer of `campaign` may go to: cheap enough to
    /// recompute as an eligibility rule is edited.
    pub fn eligible_counts(&self, campaign: &Campaign) -> Vec<usize> {
        campaign
            .offers
            .iter()
            .map(|o| (0..self.len()).into_par_iter().filter(|&i| self.eligible(i, o)).count())
            .collect()
    }

    /// Whether customer `i` may get `offer`: in one of its segments, one of
    /// its RFM groups, and passing every rule.
    pub fn eligible(&self, i: usize, offer: &file::Offer) -> bool {
        let Some(e) = &offer.eligible else { return true };
        let in_list = |list: &[String], value: &Option<String>| {
            list.is_empty() || value.as_ref().is_some_and(|v| list.iter().any(|x| x == v))
        };
        in_list(&e.segments, &self.segment[i])
            && in_list(&e.rfm_groups, &self.rfm_group[i])
            && e.rules.iter().all(|r| r.holds(self.numbers.get(&r.feature).and_then(|c| c[i])))
    }
}

/// A calibrated response reads its attributes by name: numeric columns,
/// text columns, and the segment in use (as `segment`).
impl AttributeSource for CustomerTable {
    fn number(&self, attribute: &str, row: usize) -> Option<f64> {
        match self.numbers.get(attribute) {
            Some(column) => column[row],
            None => self.text(attribute, row).and_then(|t| t.trim().parse().ok()),
        }
    }

    fn text(&self, attribute: &str, row: usize) -> Option<Cow<'_, str>> {
        if let Some(column) = self.texts.get(attribute) {
            return column[row].as_deref().map(Cow::Borrowed);
        }
        if let Some(column) = self.numbers.get(attribute) {
            return column[row].map(|x| Cow::Owned(x.to_string()));
        }
        if attribute == "segment" { self.segment[row].as_deref().map(Cow::Borrowed) } else { None }
    }

    fn has(&self, attribute: &str) -> bool {
        self.numbers.contains_key(attribute)
            || self.texts.contains_key(attribute)
            || (attribute == "segment" && self.segment.iter().any(Option::is_some))
    }
}

/// Each customer's baseline: fitted where the customer has a history, the
/// new-customer BG/NBD where not, and the recent purchase rate without a fit.
fn baselines(
    numbers: &BTreeMap<String, Vec<Option<f64>>>,
    value: Option<&CustomerValue>,
    history_row: &[Option<usize>],
    horizon_days: f64,
) -> (Vec<Baseline>, String) {
    let n = history_row.len();
    let column = |name: &str| numbers.get(name).cloned().unwrap_or_else(|| vec![None; n]);
    let (aov, recency) = (column("avg_order_value"), column("recency_days"));
    let known: Vec<f64> = aov.iter().flatten().copied().filter(|v| *v > 0.0).collect();
    let mean_order = if known.is_empty() { 0.0 } else { known.iter().sum::<f64>() / known.len() as f64 };
    let basket = |i: usize| aov[i].filter(|v| *v > 0.0).unwrap_or(mean_order);
    let recent = recency.iter().filter(|r| r.is_some_and(|d| d <= horizon_days)).count() as f64 / n.max(1) as f64;
    let made: Vec<Baseline> = (0..n)
        .into_par_iter()
        .map(|i| match (value, history_row[i]) {
            (Some(v), Some(h)) => response::fitted_baseline(v, h, horizon_days, Some(basket(i)))
                .unwrap_or_else(|| response::recent_rate_baseline(recent, basket(i))),
            (Some(v), None) => response::new_customer_baseline(v, horizon_days, mean_order),
            (None, _) => response::recent_rate_baseline(recent, basket(i)),
        })
        .collect();
    let count = |s: BaselineSource| made.iter().filter(|b| b.source == s).count();
    let note = match value {
        Some(_) => format!(
            "baseline from BG/NBD + Gamma-Gamma for {} buyers, a new customer's BG/NBD for {} without a purchase{}",
            count(BaselineSource::Fitted),
            count(BaselineSource::NewCustomer),
            match count(BaselineSource::RecentRate) {
                0 => String::new(),
                k => format!(", the recent purchase rate for {k} the fit could not score"),
            }
        ),
        None => format!(
            "no customer-value fit: every baseline is the share who bought in the last {horizon_days} days ({:.1}%)",
            recent * 100.0
        ),
    };
    (made, note)
}

/// Who is targeted, and who is held out as control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Treated,
    Control,
    NotTargeted,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Treated => "treated",
            Group::Control => "control",
            Group::NotTargeted => "not_targeted",
        }
    }
}

/// A campaign's plan, before any simulation.
pub struct Plan {
    pub campaign: Campaign,
    pub customers: CustomerTable,
    /// Eligible (customer, offer) pairs; `offer` indexes `campaign.offers`.
    pub candidates: Candidates,
    /// The expected effect of each candidate, in the same order.
    pub effects: Vec<Effect>,
    pub assignment: Assignment,
    pub group: Vec<Group>,
    /// What the user should know about the plan's response (said, not fatal).
    pub notes: Vec<String>,
    /// Per offer, the calibrated arm it uses (an index into the response's arms).
    pub arms: Vec<Option<usize>>,
    /// Seconds spent on the expected values, and on the assignment with its holdout.
    pub values_s: f64,
    pub assign_s: f64,
}

/// Plans `campaign` for the customers of `inputs`.
pub fn plan(campaign: &Campaign, inputs: &CampaignInputs) -> Result<Plan, PlanError> {
    let customers = CustomerTable::build(inputs, campaign.horizon_days)?;
    plan_for(campaign, inputs, customers)
}

/// [`plan`] on a customer table already built from `inputs` (the editor
/// builds it once to count who is eligible, then plans on it).
pub fn plan_for(campaign: &Campaign, inputs: &CampaignInputs, customers: CustomerTable) -> Result<Plan, PlanError> {
    let segments = inputs.segments.map(|(_, s)| s.iter().map(|x| x.name.clone()).collect());
    campaign.check(&customers.known(segments))?;
    let (arms, notes) = calibrated_arms(campaign, inputs.response, &customers)?;
    let started = std::time::Instant::now();
    let assumptions = campaign.assumptions_or_default();
    let offers: Vec<(&file::Offer, file::Channel)> = campaign
        .offers
        .iter()
        .map(|o| (o, campaign.channel(&o.channel).cloned().unwrap_or_else(|| file::Channel::new(&o.channel))))
        .collect();
    let per_customer: Vec<Vec<(Candidate, Effect)>> = (0..customers.len())
        .into_par_iter()
        .map(|i| {
            let base = &customers.baseline[i];
            // The calibrated model's inputs for this customer, when an offer needs them.
            let x = inputs.response.filter(|_| arms.iter().any(Option::is_some)).map(|r| r.inputs(&customers, i));
            offers
                .iter()
                .enumerate()
                .filter(|(_, (offer, _))| customers.eligible(i, offer))
                .map(|(k, (offer, channel))| {
                    let calibrated = match (arms[k], inputs.response, x.as_deref()) {
                        (Some(arm), Some(response), Some(x)) => Some(Calibrated { response, arm, x, replicate: None }),
                        _ => None,
                    };
                    let effect = customer_effect(campaign, offer, channel, base, &assumptions, calibrated);
                    let profit = effect.incremental_profit(campaign.margin);
                    (Candidate { offer: k as u32, profit, cost: effect.cost() }, effect)
                })
                .collect()
        })
        .collect();
    let effects: Vec<Effect> = per_customer.iter().flatten().map(|(_, e)| *e).collect();
    let candidates =
        Candidates::new(per_customer.into_iter().map(|c| c.into_iter().map(|(c, _)| c).collect()).collect())?;
    let values_s = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let assignment = match campaign.assignment {
        file::Assignment::Optimise => assign::optimise(&candidates, campaign.budget)?,
        file::Assignment::Everyone => assign::everyone(&candidates, campaign.seed),
    };
    // An A/B/n test gives every eligible customer an offer: a budget it would
    // break is said before anything is sent, not reported as 140% used.
    if let (file::Assignment::Everyone, Some(budget)) = (campaign.assignment, campaign.budget)
        && assignment.total_cost > budget
    {
        return Err(file::CampaignError::Invalid(vec![file::Problem::new(
            "budget",
            format!(
                "an A/B/n test of every eligible customer ({}) is expected to cost {:.2}, over the budget of \
                 {budget:.2}; raise the budget, narrow the offers' eligibility, or use \"assignment\": \"optimise\"",
                assignment.targeted(),
                assignment.total_cost
            ),
        )])
        .into());
    }
    let assigned = assignment.assigned();
    let held_out = assign::holdout(&assigned, campaign.holdout, campaign.seed);
    let group = assigned
        .iter()
        .zip(&held_out)
        .map(|(&a, &h)| match (a, h) {
            (true, true) => Group::Control,
            (true, false) => Group::Treated,
            _ => Group::NotTargeted,
        })
        .collect();
    let assign_s = started.elapsed().as_secs_f64();
    Ok(Plan {
        campaign: campaign.clone(),
        customers,
        candidates,
        effects,
        assignment,
        group,
        notes,
        arms,
        values_s,
        assign_s,
    })
}

/// A calibrated arm as one customer sees it: the response, the arm, the
/// customer's inputs, and which posterior draw (None: the estimate).
#[derive(Clone, Copy)]
pub struct Calibrated<'a> {
    pub response: &'a CalibratedResponse,
    pub arm: usize,
    pub x: &'a [f64],
    pub replicate: Option<usize>,
}

/// What `offer` does for a customer with baseline `base`: from a calibrated
/// arm where it names one, else from the default model's `assumptions`.
pub fn customer_effect(
    campaign: &Campaign,
    offer: &file::Offer,
    channel: &file::Channel,
    base: &Baseline,
    assumptions: &file::Assumptions,
    calibrated: Option<Calibrated>,
) -> Effect {
    match calibrated {
        Some(c) => {
            let value = offer_value_for(c.response, c.arm, offer);
            let control = c.response.predict(0, c.x, value, c.replicate);
            let arm = c.response.predict(c.arm, c.x, value, c.replicate);
            response::calibrated_effect(assumptions, offer, channel, base, (control.p, control.s), (arm.p, arm.s))
        }
        None => response::offer_effect(assumptions, offer, channel, base, campaign.margin),
    }
}

/// The offer value a calibrated arm is asked at: any value for an arm fitted
/// as a curve in it; for an arm tested at one depth read from its name
/// ("10% off"), a percent-off offer's depth; otherwise none (the arm as tested).
fn offer_value_for(response: &CalibratedResponse, arm: usize, offer: &file::Offer) -> Option<f64> {
    let a = &response.arms[arm];
    let comparable = a.dose.is_some() || (a.tested_value.is_some() && offer.kind == file::OfferKind::PercentOff);
    offer.value.filter(|_| comparable)
}

/// Each offer's calibrated arm (an index into the response's arms), checked
/// against the response and the customers' attributes; and what the user
/// should know about using them (another window, an untested value).
fn calibrated_arms(
    campaign: &Campaign,
    response: Option<&CalibratedResponse>,
    customers: &CustomerTable,
) -> Result<(Vec<Option<usize>>, Vec<String>), PlanError> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut arms = vec![None; campaign.offers.len()];
    for (k, offer) in campaign.offers.iter().enumerate() {
        let Some(name) = &offer.response else { continue };
        let at = format!("offers[{k}].response");
        let Some(r) = response else {
            problems.push(file::Problem::new(
                at,
                format!(
                    "the calibrated arm {name:?} needs a response file (--response, written by `calibrate`); \
                     leave `response` out to use the default model"
                ),
            ));
            continue;
        };
        match r.arm(name) {
            Some(0) => problems.push(file::Problem::new(
                at,
                format!("{name:?} is the control of the past campaign: it has no effect to use"),
            )),
            Some(a) => {
                arms[k] = Some(a);
                let arm = &r.arms[a];
                let untested = match (&arm.dose, arm.tested_value, offer_value_for(r, a, offer)) {
                    (Some(curve), _, Some(v)) if v < curve.tested[0] || v > curve.tested[1] => {
                        Some(format!("{}–{}", curve.tested[0], curve.tested[1]))
                    }
                    (None, Some(v0), Some(v)) if (v - v0).abs() > 1e-9 => Some(format!("{v0} only")),
                    _ => None,
                };
                if let (Some(range), Some(v)) = (untested, offer.value) {
                    notes.push(format!(
                        "offer {:?}: value {v} is outside what arm {name:?} was tested at ({range}); \
                         its forecast extrapolates and its interval widens",
                        offer.name
                    ));
                }
            }
            None => {
                let list: Vec<&str> = r.arms[1..].iter().map(|a| a.name.as_str()).collect();
                problems.push(file::Problem::new(
                    at,
                    format!("no calibrated arm {name:?}; the response file has: {}", list.join(", ")),
                ));
            }
        }
    }
    if let Some(r) = response.filter(|_| arms.iter().any(Option::is_some)) {
        let missing = r.missing_attributes(customers);
        if !missing.is_empty() {
            problems.push(file::Problem::new(
                "response",
                format!(
                    "the calibrated response reads attributes the customers lack: {} (give them as columns of \
                     --customers, or calibrate with --attributes the shop has)",
                    missing.join(", ")
                ),
            ));
        }
        if let Some(w) = r.window_days.filter(|w| (w - campaign.horizon_days).abs() > 1e-9) {
            notes.push(format!(
                "the calibrated response was measured over {w} days; this campaign's horizon is {} days, \
                 and the response is used as measured",
                campaign.horizon_days
            ));
        }
    }
    if problems.is_empty() { Ok((arms, notes)) } else { Err(file::CampaignError::Invalid(problems).into()) }
}

impl Plan {
    /// The candidate shown for customer `i`: the assigned one, else the best eligible.
    pub fn shown_candidate(&self, i: usize) -> Option<usize> {
        self.assignment.chosen[i].or_else(|| {
            self.candidates.range(i).max_by(|&a, &b| {
                let (x, y) = (self.candidates.candidates()[a], self.candidates.candidates()[b]);
                x.profit.total_cmp(&y.profit).then(b.cmp(&a))
            })
        })
    }

    /// `plan.csv` (DATA.md §10), `items(i)` giving customer i's products.
    pub fn plan_frame(&self, items: &(dyn Fn(usize) -> String + Sync)) -> PolarsResult<DataFrame> {
        let n = self.customers.len();
        let mut offer = Vec::with_capacity(n);
        let mut channel = Vec::with_capacity(n);
        let mut numbers: [Vec<Option<f64>>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
        for i in 0..n {
            let base = &self.customers.baseline[i];
            let shown = self.shown_candidate(i);
            let e = shown.map(|c| self.effects[c]);
            let o = shown.map(|c| &self.campaign.offers[self.candidates.candidates()[c].offer as usize]);
            // None, not "": an empty cell, as CSV readers expect (polars quotes an empty string).
            offer.push(o.map(|o| o.name.as_str()));
            channel.push(o.map(|o| o.channel.as_str()));
            let values = [
                Some(e.map_or(base.p0, |e| e.p0)),
                e.map(|e| e.p1),
                e.map(|e| e.uplift()),
                Some(e.map_or(base.s0, |e| e.s0)),
                e.map(|e| e.s1),
                e.map(|e| e.cost()),
                e.map(|e| e.incremental_profit(self.campaign.margin)),
            ];
            for (column, v) in numbers.iter_mut().zip(values) {
                column.push(v);
            }
        }
        let items: Vec<String> = (0..n).into_par_iter().map(items).collect();
        let [p0, p1, uplift, s0, s1, cost, profit] = numbers;
        let float = |name: &str, v: Vec<Option<f64>>| Float64Chunked::from_iter_options(name.into(), v.into_iter());
        DataFrame::new(
            n,
            vec![
                StringChunked::from_iter_values("customer_id".into(), self.customers.ids.iter().map(String::as_str))
                    .into_column(),
                StringChunked::from_iter_values("group".into(), self.group.iter().map(|g| g.name())).into_column(),
                StringChunked::from_iter_options("offer".into(), offer.into_iter()).into_column(),
                StringChunked::from_iter_options("channel".into(), channel.into_iter()).into_column(),
                float("p0", p0).into_column(),
                float("p1", p1).into_column(),
                float("expected_uplift", uplift).into_column(),
                float("s0", s0).into_column(),
                float("s1", s1).into_column(),
                float("expected_cost", cost).into_column(),
                float("expected_incremental_profit", profit).into_column(),
                StringChunked::from_iter_options(
                    "items".into(),
                    items.iter().map(|i| (!i.is_empty()).then_some(i.as_str())),
                )
                .into_column(),
            ],
        )
    }

    /// `candidates.csv`: every eligible (customer, offer) pair.
    pub fn candidates_frame(&self) -> PolarsResult<DataFrame> {
        let mut ids = Vec::new();
        let mut offers = Vec::new();
        let (mut profit, mut cost) = (Vec::new(), Vec::new());
        for i in 0..self.customers.len() {
            for c in self.candidates.of(i) {
                ids.push(self.customers.ids[i].as_str());
                offers.push(self.campaign.offers[c.offer as usize].name.as_str());
                profit.push(c.profit);
                cost.push(c.cost);
            }
        }
        DataFrame::new(
            ids.len(),
            vec![
                StringChunked::from_slice("customer_id".into(), &ids).into_column(),
                StringChunked::from_slice("offer".into(), &offers).into_column(),
                Float64Chunked::from_vec("expected_incremental_profit".into(), profit).into_column(),
                Float64Chunked::from_vec("expected_cost".into(), cost).into_column(),
            ],
        )
    }

    /// Each offer's expected cost and incremental profit over the customers
    /// it is assigned to (treated and held out alike, as the budget counts them).
    pub fn offer_totals(&self) -> Vec<(f64, f64)> {
        let mut totals = vec![(0.0, 0.0); self.campaign.offers.len()];
        for c in self.assignment.chosen.iter().flatten() {
            let cand = &self.candidates.candidates()[*c];
            let t = &mut totals[cand.offer as usize];
            t.0 += cand.cost;
            t.1 += cand.profit;
        }
        totals
    }

    /// Customers per group and per offer, with the expected cost and profit of the targeted.
    pub fn summary(&self) -> PlanSummary {
        let mut per_offer = vec![(0usize, 0usize); self.campaign.offers.len()];
        for (i, chosen) in self.assignment.chosen.iter().enumerate() {
            if let Some(c) = chosen {
                let slot = &mut per_offer[self.candidates.candidates()[*c].offer as usize];
                match self.group[i] {
                    Group::Treated => slot.0 += 1,
                    _ => slot.1 += 1,
                }
            }
        }
        let count = |g: Group| self.group.iter().filter(|x| **x == g).count();
        PlanSummary {
            customers: self.customers.len(),
            targeted: self.assignment.targeted(),
            treated: count(Group::Treated),
            control: count(Group::Control),
            per_offer: self.campaign.offers.iter().map(|o| o.name.clone()).zip(per_offer).collect(),
            expected_cost: self.assignment.total_cost,
            expected_incremental_profit: self.assignment.total_profit,
            budget: self.campaign.budget,
            lp_bound: self.assignment.lp_bound,
        }
    }
}

/// A plan in figures, for the one-line summary.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSummary {
    pub customers: usize,
    pub targeted: usize,
    pub treated: usize,
    pub control: usize,
    /// (offer, treated, held out).
    pub per_offer: Vec<(String, (usize, usize))>,
    /// Over every targeted customer, before the holdout is taken out.
    pub expected_cost: f64,
    pub expected_incremental_profit: f64,
    pub budget: Option<f64>,
    pub lp_bound: Option<f64>,
}

impl std::fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let offers: Vec<String> = self.per_offer.iter().map(|(name, (t, c))| format!("{name} {}", t + c)).collect();
        write!(
            f,
            "{} of {} customers targeted ({} treated, {} control): {}; expected cost {:.2}, expected incremental profit {:.2}",
            self.targeted,
            self.customers,
            self.treated,
            self.control,
            if offers.is_empty() { "no offers".to_string() } else { offers.join(", ") },
            self.expected_cost,
            self.expected_incremental_profit
        )?;
        if let Some(budget) = self.budget {
            let used = if budget > 0.0 { self.expected_cost / budget * 100.0 } else { 0.0 };
            write!(f, "; budget {budget:.2}, {used:.1}% used")?;
        }
        if let Some(bound) = self.lp_bound.filter(|b| *b > 0.0) {
            write!(f, " ({:.2}% of the LP bound)", self.expected_incremental_profit / bound * 100.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::campaign::file::{Comparison, Eligibility, Offer, OfferKind, Rule};

    fn table() -> DataFrame {
        df!(
            "customer_id" => ["a", "b", "c", "d"],
            "recency_days" => [Some(5.0), Some(90.0), Some(200.0), None],
            "frequency" => [3.0, 1.0, 2.0, 0.0],
            "monetary" => [300.0, 40.0, 150.0, 0.0],
            "avg_order_value" => [Some(100.0), Some(40.0), Some(75.0), None],
        )
        .unwrap()
    }

    fn segments() -> Vec<Segment> {
        ["Loyal", "Lapsing"]
            .iter()
            .enumerate()
            .map(|(i, n)| Segment { id: i as i32, name: n.to_string(), description: String::new(), customers: 1 })
            .collect()
    }

    #[test]
    fn eligibility_is_any_listed_segment_and_every_rule() {
        let (df, segs) = (table(), segments());
        let assignment = [0, 1, 1, -1];
        let inputs = CampaignInputs {
            customers: &df,
            value: None,
            segments: Some((&assignment, &segs)),
            rfm: None,
            response: None,
        };
        let customers = CustomerTable::build(&inputs, 30.0).unwrap();
        let mut campaign = Campaign::new("t");
        campaign.channels.push(file::Channel::new("email"));
        let mut lapsing = Offer::new("lapsing", OfferKind::Message, "email");
        lapsing.eligible = Some(Eligibility {
            segments: vec!["Lapsing".into(), "Gone".into()],
            rfm_groups: vec![],
            rules: vec![Rule { feature: "recency_days".into(), op: Comparison::AtLeast, value: 100.0 }],
        });
        let everyone = Offer::new("everyone", OfferKind::Message, "email");
        campaign.offers = vec![lapsing, everyone];
        // c is Lapsing and 200 days away; b is Lapsing but seen 90 days ago; d has no recency at all.
        assert_eq!(customers.eligible_counts(&campaign), vec![1, 4]);
        assert!(customers.eligible(2, &campaign.offers[0]) && !customers.eligible(1, &campaign.offers[0]));
        // Without a fit, every baseline is the share who bought within the horizon (1 of 4 within 30 days).
        assert!(customers.baseline.iter().all(|b| (b.p0 - 0.25).abs() < 1e-12));
        assert_eq!(customers.baseline[3].basket, (100.0 + 40.0 + 75.0) / 3.0, "the mean order for a non-buyer");
    }
}
