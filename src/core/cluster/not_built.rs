//! The entry points of a build without the `cluster` feature: each says how
//! to get the engine.

use std::path::Path;

use super::{ClusterError, ClusterFeatures, Engine, ExecutorSettings, SchedulerSettings};
use crate::core::import::{Canonical, LoadedEvents};
use crate::core::progress::Progress;

pub fn cluster_features(
    _engine: &Engine,
    _path: &Path,
    _overrides: &[(Canonical, String)],
    _as_of_ms: Option<i64>,
    _progress: &dyn Progress,
) -> Result<ClusterFeatures, ClusterError> {
    Err(ClusterError::NotBuilt)
}

pub fn cluster_events(
    _engine: &Engine,
    _path: &Path,
    _overrides: &[(Canonical, String)],
    _progress: &dyn Progress,
) -> Result<LoadedEvents, ClusterError> {
    Err(ClusterError::NotBuilt)
}

pub fn run_scheduler(_settings: &SchedulerSettings) -> Result<(), ClusterError> {
    Err(ClusterError::NotBuilt)
}

pub fn run_executor(_settings: &ExecutorSettings) -> Result<(), ClusterError> {
    Err(ClusterError::NotBuilt)
}
