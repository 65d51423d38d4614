//! The app's pipeline, one stage per file: the loaded dataset, the customer
//! segments, the recommender. Each stage is a plain function from its inputs
//! and settings to a typed result that records the settings it was made
//! with; it reports progress and stops early when cancelled. The desktop app
//! runs these as background jobs; nothing here knows about the GUI.

pub mod browse;
pub mod dataset;
pub mod recommendations;
pub mod segments;

use thiserror::Error;

use crate::core::progress::Cancelled;

/// Why a stage did not produce its result. Messages are for the user.
#[derive(Debug, Error)]
pub enum StageError {
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Import(#[from] crate::core::import::ImportError),
    #[error(transparent)]
    Features(#[from] crate::core::features::FeatureError),
    #[error(transparent)]
    Segment(#[from] crate::core::segment::SegmentError),
    #[error(transparent)]
    KMeans(#[from] crate::core::segment::kmeans::KMeansError),
    #[error(transparent)]
    Recommend(#[from] crate::core::recommend::InteractionsError),
    #[error(transparent)]
    Output(#[from] crate::core::output::OutputError),
    #[error("{context}: {source}")]
    Table { context: String, source: polars::prelude::PolarsError },
}

impl From<Cancelled> for StageError {
    fn from(_: Cancelled) -> Self {
        StageError::Cancelled
    }
}

impl StageError {
    pub(crate) fn table(context: impl Into<String>) -> impl FnOnce(polars::prelude::PolarsError) -> StageError {
        let context = context.into();
        move |source| StageError::Table { context, source }
    }

    pub fn is_cancelled(&self) -> bool {
        use crate::core::segment::{KMeansError, SegmentError};
        matches!(
            self,
            StageError::Cancelled
                | StageError::Import(crate::core::import::ImportError::Cancelled)
                | StageError::KMeans(KMeansError::Cancelled)
                | StageError::Segment(SegmentError::KMeans(KMeansError::Cancelled))
        )
    }
}
