//! The campaign stages: what a finished campaign showed (calibrated on its
//! results, DATA.md §8). The bundled shop's past campaign is calibrated as
//! soon as the shop is loaded, so the demo opens on real evidence.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::StageError;
use super::dataset::{Dataset, LoadData};
use crate::core::campaign::calibrate::{self, CalibratedResponse, CalibrationSettings, ResultsColumns};
use crate::core::pipeline::{Choices, Stage};
use crate::core::progress::{Progress, step};
use crate::core::sample::bundled;

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
        Ok(Some(CampaignEvidence { source, customers: results.len(), response }))
    }
}
