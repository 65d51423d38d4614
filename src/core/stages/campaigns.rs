//! The campaign stages: what a finished campaign showed (calibrated on its
//! results, DATA.md §8), the plan of the campaign being edited (who may get
//! which offer, and who gets which, DATA.md §7), and what it will probably
//! earn and cost (the plan, simulated, DATA.md §9). The bundled shop's past campaign is
//! calibrated as soon as the shop is loaded, so the demo opens on real evidence.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::StageError;
use super::dataset::{Dataset, LoadData};
use super::segments::{SegmentAnalysis, Segments};
use crate::core::campaign::calibrate::{self, CalibratedResponse, CalibrationSettings, ResultsColumns};
use crate::core::campaign::file::{Campaign, Known, Problem};
use crate::core::campaign::plan::{CampaignInputs, CustomerTable, Plan, PlanError, PlanSummary, plan_for};
use crate::core::campaign::simulate::metrics::{Histogram, Spread, metric};
use crate::core::campaign::simulate::{self, Outlook, SimulationSettings, fairness::FairnessCheck};
use crate::core::pipeline::{Choices, Stage};
use crate::core::progress::{Progress, step};
use crate::core::sample::bundled;
use crate::core::segment::RfmSegmentation;
use crate::core::segment::rfm_segments;

/// Which results to learn from, and what their columns mean (saved between runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalibrationChoices {
    /// The results file; None: the bundled shop's past campaign, when the shop is loaded.
    pub results: Option<PathBuf>,
    pub arm: String,
    pub control: String,
    pub converted: String,
    pub spend: Option<String>,
    pub value: Option<String>,
    pub seed: u64,
}

impl Default for CalibrationChoices {
    fn default() -> Self {
        CalibrationChoices {
            results: None,
            arm: "arm".into(),
            control: "control".into(),
            converted: "converted".into(),
            spend: Some("spend".into()),
            value: None,
            seed: 42,
        }
    }
}

/// A finished campaign's evidence: where it came from and the response it calibrates.
pub struct CampaignEvidence {
    /// The results file, as shown to people.
    pub source: String,
    pub customers: usize,
    pub response: CalibratedResponse,
    /// Each arm's uplift curve on the results (in-sample: the data the model was fitted to).
    pub curves: Vec<crate::core::campaign::calibrate::curve::UpliftCurve>,
}

/// Calibrates the response on a finished campaign's results.
pub struct Calibration;

impl Stage for Calibration {
    const NAME: &'static str = "calibration";
    type Needs = (LoadData,);
    type Choices = CalibrationChoices;
    type Params = CalibrationChoices;
    /// None: no past campaign to learn from (another shop's data, no file chosen).
    type Output = Option<CampaignEvidence>;

    fn params(choices: &Choices) -> Option<Self::Params> {
        Some(choices.of::<Calibration>().clone())
    }

    fn label(_: &Self::Params) -> String {
        "Calibrating on the past campaign".to_string()
    }

    fn run(
        (dataset,): (Arc<Dataset>,),
        c: &Self::Params,
        progress: &dyn Progress,
    ) -> Result<Option<CampaignEvidence>, StageError> {
        let path = match &c.results {
            Some(path) => path.clone(),
            None if bundled::is_sample(&dataset.path) => bundled::past_campaign_path(),
            None => return Ok(None),
        };
        step(progress, 0.1, "Reading the results")?;
        let columns = ResultsColumns {
            arm: c.arm.clone(),
            control: c.control.clone(),
            converted: c.converted.clone(),
            spend: c.spend.clone(),
            value: c.value.clone(),
            attributes: None,
        };
        let results = calibrate::read_results(&path, &columns)?;
        step(progress, 0.3, "Fitting the response per arm")?;
        let source = if c.results.is_none() {
            "the bundled shop's past campaign".to_string()
        } else {
            path.display().to_string()
        };
        let settings = CalibrationSettings { seed: c.seed, source: source.clone(), ..Default::default() };
        let response = calibrate::calibrate(&results, &settings)?;
        let curves = calibrate::curve::uplift_curves(&response, &results);
        Ok(Some(CampaignEvidence { source, customers: results.len(), response, curves }))
    }
}

/// The campaign being edited, as the planner reads it. Not saved with the
/// settings: the draft has its own autosave (`core::campaign::draft`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanChoices {
    #[serde(skip)]
    pub campaign: Option<Campaign>,
}

/// The campaign being edited, planned for the loaded customers: what the
/// Promotions screen previews and the Simulation screen simulates.
pub struct CampaignPreview {
    pub campaign: Campaign,
    pub customers: usize,
    /// How many customers each offer may go to, in offer order.
    pub eligible: Vec<usize>,
    /// What the campaign may name here: features, segments, RFM groups, and
    /// the calibrated arms (None: no calibrated response here).
    pub known: Known,
    /// Everything wrong with the campaign here, by field; empty when it was planned.
    pub problems: Vec<Problem>,
    pub plan: Option<Plan>,
    pub summary: Option<PlanSummary>,
    /// Each offer's expected (cost, incremental profit) in the plan.
    pub offer_totals: Vec<(f64, f64)>,
}

/// Plans the campaign being edited; runs again at every edit.
pub struct Planning;

impl Stage for Planning {
    const NAME: &'static str = "plan";
    type Needs = (LoadData, Segments, Calibration);
    type Choices = PlanChoices;
    type Params = Campaign;
    type Output = CampaignPreview;

    fn params(choices: &Choices) -> Option<Self::Params> {
        choices.of::<Planning>().campaign
    }

    fn label(p: &Self::Params) -> String {
        format!("Planning “{}”", p.name)
    }

    fn run(
        (dataset, segments, evidence): (Arc<Dataset>, Arc<SegmentAnalysis>, Arc<Option<CampaignEvidence>>),
        campaign: &Self::Params,
        progress: &dyn Progress,
    ) -> Result<CampaignPreview, StageError> {
        let response = evidence.as_ref().as_ref().map(|e| &e.response);
        let columns = CustomerColumns::of(&dataset, &segments)?;
        let inputs = columns.inputs(&dataset, &segments, response);
        step(progress, 0.05, "Counting eligible customers")?;
        let table =
            CustomerTable::build(&inputs, campaign.horizon_days).map_err(|e| StageError::Campaign(e.to_string()))?;
        let eligible = table.eligible_counts(campaign);
        let mut known = table.known(Some(segments.segments.iter().map(|s| s.name.clone()).collect()));
        known.arms = response.map(|r| r.arms.iter().skip(1).map(|a| a.name.clone()).collect());
        let mut problems = campaign_problems(campaign, &known);
        let customers = table.len();
        step(progress, 0.3, "Assigning offers")?;
        let plan = if problems.is_empty() {
            match plan_for(campaign, &inputs, table) {
                Ok(plan) => Some(plan),
                Err(PlanError::Campaign(crate::core::campaign::file::CampaignError::Invalid(found))) => {
                    problems = found;
                    None
                }
                Err(e) => return Err(StageError::Campaign(e.to_string())),
            }
        } else {
            None
        };
        Ok(CampaignPreview {
            summary: plan.as_ref().map(Plan::summary),
            offer_totals: plan.as_ref().map(Plan::offer_totals).unwrap_or_default(),
            campaign: campaign.clone(),
            customers,
            eligible,
            known,
            problems,
            plan,
        })
    }
}

/// Everything wrong with `campaign` against what is `known` here, by field.
/// Without a calibrated response (`known.arms` None), an offer that names an
/// arm is one of them: here there is nothing for it to use.
pub fn campaign_problems(campaign: &Campaign, known: &Known) -> Vec<Problem> {
    let mut problems = campaign.validate(known);
    if known.arms.is_none() {
        for (i, offer) in campaign.offers.iter().enumerate() {
            if let Some(arm) = &offer.response {
                problems.push(Problem::new(
                    format!("offers[{i}].response"),
                    format!(
                        "no past campaign is calibrated here, so the arm {arm:?} is not there: use the default \
                         assumptions, or load a finished campaign's results on the Past campaign screen"
                    ),
                ));
            }
        }
    }
    problems
}

/// The segment and RFM group of each customer, in the feature table's order.
struct CustomerColumns {
    assignment: Vec<i32>,
    rfm: Option<RfmSegmentation>,
}

impl CustomerColumns {
    fn of(dataset: &Dataset, segments: &SegmentAnalysis) -> Result<CustomerColumns, StageError> {
        let features = &dataset.features.df;
        let ids = crate::core::table::text_column(features, "customer_id")
            .map_err(|e| StageError::Table { context: "the customer features".into(), source: e })?;
        let by_id: std::collections::HashMap<&str, i32> =
            segments.customer_ids.iter().map(String::as_str).zip(segments.assignment.iter().copied()).collect();
        let assignment = ids.iter().map(|id| by_id.get(id.as_str()).copied().unwrap_or(-1)).collect();
        Ok(CustomerColumns { assignment, rfm: rfm_segments(features).ok() })
    }

    fn inputs<'a>(
        &'a self,
        dataset: &'a Dataset,
        segments: &'a SegmentAnalysis,
        response: Option<&'a CalibratedResponse>,
    ) -> CampaignInputs<'a> {
        CampaignInputs {
            customers: &dataset.features.df,
            value: dataset.value.as_ref().ok(),
            segments: Some((&self.assignment, &segments.segments)),
            rfm: self.rfm.as_ref(),
            response,
        }
    }
}

/// How many runs the Simulation screen asks for, and their seed (saved between runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForecastChoices {
    pub runs: usize,
    pub seed: u64,
}

impl Default for ForecastChoices {
    fn default() -> Self {
        let s = SimulationSettings::default();
        ForecastChoices { runs: s.runs, seed: s.seed }
    }
}

/// A campaign's plan and forecast, as the Simulation screen shows them.
pub struct CampaignOutlook {
    pub campaign: Campaign,
    pub summary: PlanSummary,
    pub outlook: Outlook,
    /// Where the response came from, in words.
    pub response: String,
    pub notes: Vec<String>,
    /// Incremental profit and revenue over the runs, counted once for the screen's histograms.
    pub profit: Distribution,
    pub revenue: Distribution,
}

/// A metric over the runs: its spread and its histogram.
#[derive(Clone, Debug)]
pub struct Distribution {
    pub spread: Spread,
    pub histogram: Histogram,
}

impl Distribution {
    /// `name` (a metric of DATA.md §9) over the runs of the whole campaign.
    pub fn of(forecast: &simulate::Forecast, name: &str) -> Distribution {
        let m = metric(name);
        let values: Vec<f64> = forecast.overall().runs.iter().map(|r| r[m]).collect();
        Distribution { spread: Spread::of(&values), histogram: Histogram::of(&values, 40) }
    }
}

/// A forecast still running: its profit over the runs done so far.
pub struct PartialForecast {
    pub runs: usize,
    pub of_runs: usize,
    pub profit: Distribution,
}

/// Simulates the planned campaign; run when asked.
pub struct Forecasting;

impl Stage for Forecasting {
    const NAME: &'static str = "forecast";
    /// Hundreds of runs over every customer: run when asked.
    const FOLLOWS_INPUTS: bool = false;
    type Needs = (LoadData, Planning, Calibration);
    type Choices = ForecastChoices;
    type Params = ForecastChoices;
    type Output = CampaignOutlook;

    fn params(choices: &Choices) -> Option<Self::Params> {
        Some(choices.of::<Forecasting>().clone())
    }

    fn label(p: &Self::Params) -> String {
        format!("Simulating {} runs", p.runs)
    }

    fn run(
        (dataset, preview, evidence): (Arc<Dataset>, Arc<CampaignPreview>, Arc<Option<CampaignEvidence>>),
        c: &Self::Params,
        progress: &dyn Progress,
    ) -> Result<CampaignOutlook, StageError> {
        let response = evidence.as_ref().as_ref().map(|e| &e.response);
        let Some(planned) = &preview.plan else {
            let first = preview.problems.first().map(|p| format!(": {p}")).unwrap_or_default();
            return Err(StageError::Campaign(format!(
                "“{}” cannot be planned yet{first} (fix it on the Promotions screen)",
                preview.campaign.name
            )));
        };
        let settings = SimulationSettings { runs: c.runs, seed: c.seed };
        let shape = dataset.value.as_ref().ok().map(|v| v.gamma_gamma.p);
        let so_far = |f: &simulate::Forecast| {
            let partial =
                PartialForecast { runs: f.runs(), of_runs: c.runs, profit: Distribution::of(f, "incremental_profit") };
            progress.partial(Arc::new(partial));
        };
        let outlook =
            simulate::outlook(planned, response, shape, &settings, FairnessCheck::default(), progress, &so_far)
                .map_err(|e| match e {
                    simulate::SimulateError::Cancelled => StageError::Cancelled,
                    e => StageError::Campaign(e.to_string()),
                })?;
        Ok(CampaignOutlook {
            profit: Distribution::of(&outlook.forecast, "incremental_profit"),
            revenue: Distribution::of(&outlook.forecast, "incremental_revenue"),
            response: simulate::response_words(planned, response),
            summary: planned.summary(),
            notes: planned.notes.clone(),
            campaign: planned.campaign.clone(),
            outlook,
        })
    }
}
