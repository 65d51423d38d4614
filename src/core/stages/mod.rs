//! The app's pipeline, one stage per file: the loaded dataset, the customer
//! segments, the recommender, the campaigns. Each stage is a type implementing
//! [`Stage`](crate::core::pipeline::Stage) — what it needs, its choices, how it
//! runs, what it yields — and [`flow`] lists them once, in flow order. The
//! desktop app runs them as background jobs and the pipeline decides what is
//! stale and what runs next; nothing here knows about the GUI.

pub mod browse;
pub mod bundles;
pub mod campaigns;
pub mod dataset;
pub mod recommendations;
pub mod segments;

use thiserror::Error;

use crate::core::pipeline::StageList;

use crate::core::import::ImportError;
use crate::core::progress::Cancelled;
use crate::core::segment::{KMeansError, SegmentError};

/// Every stage of the app's flow, in flow order: the one place a new stage is declared.
pub fn flow() -> StageList {
    StageList::new()
        .with::<dataset::LoadData>()
        .with::<segments::Segments>()
        .with::<segments::KScan>()
        .with::<recommendations::Recommendations>()
        .with::<recommendations::ModelComparison>()
        .with::<recommendations::CustomerLookup>()
        .with::<bundles::OftenBoughtTogether>()
        .with::<campaigns::Calibration>()
        .with::<campaigns::Planning>()
        .with::<campaigns::Forecasting>()
}

/// Why a stage did not produce its result. Messages are for the user.
#[derive(Debug, Error)]
pub enum StageError {
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Import(crate::core::import::ImportError),
    #[error(transparent)]
    Features(#[from] crate::core::features::FeatureError),
    #[error(transparent)]
    Segment(crate::core::segment::SegmentError),
    #[error(transparent)]
    KMeans(crate::core::segment::kmeans::KMeansError),
    #[error(transparent)]
    Recommend(#[from] crate::core::recommend::InteractionsError),
    #[error(transparent)]
    Bundles(#[from] crate::core::recommend::bundles::BundleError),
    #[error(transparent)]
    Output(#[from] crate::core::output::OutputError),
    #[error(transparent)]
    Calibrate(#[from] crate::core::campaign::calibrate::CalibrateError),
    #[error(transparent)]
    Cluster(crate::core::cluster::ClusterError),
    /// A campaign that cannot be planned or simulated (its file, its fields).
    #[error("{0}")]
    Campaign(String),
    #[error("{context}: {source}")]
    Table { context: String, source: polars::prelude::PolarsError },
    /// A fault of the program, not of the data: a panic, or no thread to run on.
    #[error("internal error (please report): {0}")]
    Internal(String),
}

impl From<Cancelled> for StageError {
    fn from(_: Cancelled) -> Self {
        StageError::Cancelled
    }
}

// A cancellation reported by any part arrives as the one `Cancelled`.
impl From<ImportError> for StageError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Cancelled => StageError::Cancelled,
            e => StageError::Import(e),
        }
    }
}

impl From<crate::core::cluster::ClusterError> for StageError {
    fn from(e: crate::core::cluster::ClusterError) -> Self {
        match e {
            crate::core::cluster::ClusterError::Cancelled => StageError::Cancelled,
            e => StageError::Cluster(e),
        }
    }
}

impl From<KMeansError> for StageError {
    fn from(e: KMeansError) -> Self {
        match e {
            KMeansError::Cancelled => StageError::Cancelled,
            e => StageError::KMeans(e),
        }
    }
}

impl From<SegmentError> for StageError {
    fn from(e: SegmentError) -> Self {
        match e {
            SegmentError::KMeans(e) => e.into(),
            e => StageError::Segment(e),
        }
    }
}

impl StageError {
    pub(crate) fn table(context: impl Into<String>) -> impl FnOnce(polars::prelude::PolarsError) -> StageError {
        let context = context.into();
        move |source| StageError::Table { context, source }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self, StageError::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancellation_from_any_part_is_the_one_cancelled() {
        assert!(StageError::from(ImportError::Cancelled).is_cancelled());
        assert!(StageError::from(KMeansError::Cancelled).is_cancelled());
        assert!(StageError::from(SegmentError::KMeans(KMeansError::Cancelled)).is_cancelled());
        assert!(!StageError::from(KMeansError::ZeroInits).is_cancelled());
        assert!(!StageError::from(SegmentError::NoFeatures).is_cancelled());
    }
}
