//! Learning from a finished randomised campaign (DATA.md §8, `calibrate`):
//! read its results (`results`), say what each arm did against the control
//! with confidence intervals (`lift`), and fit the per-customer response that
//! planning and simulation use (`design` encodes attributes, `fit` solves the
//! regressions, `model` puts them together with their uncertainty).

pub mod curve;
pub mod design;
pub mod fit;
pub mod lift;
pub mod model;
pub mod report;
pub mod results;

use std::path::Path;

use polars::prelude::PolarsError;

pub use lift::{ArmLift, ObservedLifts, observed_lifts};
pub use model::{CalibratedResponse, CalibrationSettings, Interval, calibrate};
pub use results::{CampaignResults, ResultsColumns, results_from_table};

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("{file}: no column {column:?} (the columns are: {found})")]
    MissingColumn { file: String, column: String, found: String },
    #[error(
        "{file}: no row of column {column:?} names the control arm {control:?} (the arms found: {arms}); \
         give the control's name with --control"
    )]
    NoControl { file: String, column: String, control: String, arms: String },
    #[error("{file}: column {column:?} has only the control arm; a campaign's results need a treated arm too")]
    NoTreatedArm { file: String, column: String },
    #[error("{file}: row {row}, column {column:?}: {value:?} is not {expected}")]
    BadValue { file: String, column: String, row: usize, value: String, expected: String },
    #[error("--attributes: {column:?} is already the arm, outcome, spend or value column")]
    ReservedAttribute { column: String },
    #[error("{0}")]
    Setting(String),
    #[error("arm {arm:?}: the {what} model could not be fitted (the data leave it undetermined)")]
    NoFit { arm: String, what: String },
    #[error("{path}: not a response file written by `calibrate`: {message}")]
    NotAResponse { path: String, message: String },
    #[error("{path}: cannot read it as a table (CSV with a header, or Parquet): {message}")]
    Read { path: String, message: String },
    #[error("{0}")]
    Table(#[from] PolarsError),
    #[error("{0}")]
    Output(#[from] crate::core::output::OutputError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl CalibrateError {
    /// A bad value at 0-based `row` (said 1-based, as a spreadsheet counts data rows).
    pub fn bad_value(file: &str, column: &str, row: usize, value: &str, expected: &str) -> CalibrateError {
        CalibrateError::BadValue {
            file: file.to_string(),
            column: column.to_string(),
            row: row + 1,
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }
}

/// Reads and checks a results file (CSV or Parquet).
pub fn read_results(path: &Path, columns: &ResultsColumns) -> Result<CampaignResults, CalibrateError> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(CalibrateError::Io { path: shown, source: std::io::Error::from(std::io::ErrorKind::NotFound) });
    }
    let table = crate::core::table::read_table(path)
        .map_err(|e| CalibrateError::Read { path: shown.clone(), message: e.to_string() })?;
    results_from_table(&table, columns, &shown)
}

/// Writes `response` to `path`, whole or not at all.
pub fn save_response(path: &Path, response: &CalibratedResponse) -> Result<(), CalibrateError> {
    crate::core::output::write_json(path, response)?;
    Ok(())
}

/// Reads a response file written by `calibrate`.
pub fn load_response(path: &Path) -> Result<CalibratedResponse, CalibrateError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CalibrateError::Io { path: shown.clone(), source })?;
    let response: CalibratedResponse = serde_json::from_str(&text)
        .map_err(|e| CalibrateError::NotAResponse { path: shown.clone(), message: e.to_string() })?;
    if response.format != model::FORMAT {
        return Err(CalibrateError::NotAResponse {
            path: shown,
            message: format!("format {:?}, expected {:?}", response.format, model::FORMAT),
        });
    }
    response.check().map_err(|message| CalibrateError::NotAResponse { path: shown, message })?;
    Ok(response)
}
