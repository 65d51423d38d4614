//! The campaign stages: what a finished campaign showed (calibrated on its
//! results, DATA.md §8), and what a campaign will probably earn and cost
//! (its plan, simulated, DATA.md §9). The bundled shop's past campaign is
//! calibrated as soon as the shop is loaded, so the demo opens on real evidence.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::StageError;
use super::dataset::{Dataset, LoadData};
use super::segments::{SegmentAnalysis, Segments};
use crate::core::campaign::calibrate::{self, CalibratedResponse, CalibrationSettings, ResultsColumns};
use crate::core::campaign::file::{Campaign, read_campaign};
use crate::core::campaign::plan::{CampaignInputs, PlanSummary, plan};
use crate::core::campaign::simulate::metrics::{Histogram, Spread, metric};
use crate::core::campaign::simulate::{self, Outlook, SimulationSettings, fairness::FairnessCheck};
use crate::core::pipeline::{Choices, Stage};
use crate::core::progress::{Progress, step};
use crate::core::sample::bundled;
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

/// What the Simulation screen runs (saved between runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForecastChoices {
    /// A campaign file; None: the bundled shop's own campaign.
    pub campaign: Option<PathBuf>,
    pub runs: usize,
    pub seed: u64,
}

impl Default for ForecastChoices {
    fn default() -> Self {
        let s = SimulationSettings::default();
        ForecastChoices { campaign: None, runs: s.runs, seed: s.seed }
    }
}

/// A campaign's plan and forecast, as the Simulation screen shows them.
pub struct CampaignOutlook {
    pub campaign: Campaign,
    /// Where the campaign came from, in words.
    pub source: String,
    pub summary: PlanSummary,
    pub outlook: Outlook,
    /// Where the response came from, in words.
    pub response: String,
    pub notes: Vec<String>,
    /// Incremental profit over the runs, counted once for the screen's histogram.
    pub profit: Spread,
    pub profit_histogram: Histogram,
}

/// Plans the chosen campaign for the loaded customers and simulates it.
pub struct Forecasting;

impl Stage for Forecasting {
    const NAME: &'static str = "forecast";
    /// Hundreds of runs over every customer: run when asked.
    const FOLLOWS_INPUTS: bool = false;
    type Needs = (LoadData, Segments, Calibration);
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
        (dataset, segments, evidence): (Arc<Dataset>, Arc<SegmentAnalysis>, Arc<Option<CampaignEvidence>>),
        c: &Self::Params,
        progress: &dyn Progress,
    ) -> Result<CampaignOutlook, StageError> {
        let response = evidence.as_ref().as_ref().map(|e| &e.response);
        let (campaign, source) = match &c.campaign {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| StageError::Campaign(format!("{}: {e}", path.display())))?;
                let campaign =
                    read_campaign(&text).map_err(|e| StageError::Campaign(format!("{}: {e}", path.display())))?;
                (campaign, path.display().to_string())
            }
            None if bundled::is_sample(&dataset.path) => {
                // With the past campaign calibrated, its offers re-run on the evidence.
                let (text, words) = match response {
                    Some(_) => {
                        (bundled::CALIBRATED_CAMPAIGN, "the bundled shop's campaign, calibrated on its past one")
                    }
                    None => (bundled::CAMPAIGN, "the bundled shop's campaign"),
                };
                (read_campaign(text).map_err(|e| StageError::Internal(e.to_string()))?, words.to_string())
            }
            None => return Err(StageError::Campaign("choose a campaign file to simulate".into())),
        };
        step(progress, 0.02, "Planning the campaign")?;
        let features = &dataset.features.df;
        let ids = crate::core::table::text_column(features, "customer_id")
            .map_err(|e| StageError::Table { context: "the customer features".into(), source: e })?;
        // The segments in the feature table's order.
        let by_id: std::collections::HashMap<&str, i32> =
            segments.customer_ids.iter().map(String::as_str).zip(segments.assignment.iter().copied()).collect();
        let assignment: Vec<i32> = ids.iter().map(|id| by_id.get(id.as_str()).copied().unwrap_or(-1)).collect();
        let rfm = rfm_segments(features).ok();
        let inputs = CampaignInputs {
            customers: features,
            value: dataset.value.as_ref().ok(),
            segments: Some((&assignment, &segments.segments)),
            rfm: rfm.as_ref(),
            response,
        };
        let planned = plan(&campaign, &inputs).map_err(|e| StageError::Campaign(format!("{source}: {e}")))?;
        let settings = SimulationSettings { runs: c.runs, seed: c.seed };
        let shape = dataset.value.as_ref().ok().map(|v| v.gamma_gamma.p);
        let outlook =
            simulate::outlook(&planned, response, shape, &settings, FairnessCheck::default(), progress, &|_| {})
                .map_err(|e| match e {
                    simulate::SimulateError::Cancelled => StageError::Cancelled,
                    e => StageError::Campaign(e.to_string()),
                })?;
        let profits: Vec<f64> =
            outlook.forecast.overall().runs.iter().map(|m| m[metric("incremental_profit")]).collect();
        Ok(CampaignOutlook {
            profit: Spread::of(&profits),
            profit_histogram: Histogram::of(&profits, 40),
            response: simulate::response_words(&planned, response),
            summary: planned.summary(),
            notes: planned.notes.clone(),
            campaign,
            source,
            outlook,
        })
    }
}
