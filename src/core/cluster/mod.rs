//! The feature stage on a distributed engine (DATA.md §11): DATA.md §2 as a
//! DataFusion SQL query over a Parquet dataset, run by an Apache DataFusion
//! Ballista scheduler on its executors, and only the customer table pulled
//! back. A log of billions of rows stays in shared storage; the app holds
//! one row per customer.
//!
//! The interface (the engines, the nodes' settings, the entry points) is the
//! same in every build; the engine itself is behind the `cluster` feature,
//! and without it every entry point answers [`ClusterError::NotBuilt`]. So
//! callers (the command line, the app) never test the feature themselves.

#[cfg(feature = "cluster")]
mod arrow_frames;
#[cfg(feature = "cluster")]
mod cell_functions;
#[cfg(feature = "cluster")]
mod features_query;
#[cfg(feature = "cluster")]
mod nodes;
#[cfg(not(feature = "cluster"))]
mod not_built;

#[cfg(feature = "cluster")]
pub use features_query::{cluster_events, cluster_features};
#[cfg(feature = "cluster")]
pub use nodes::{run_executor, run_scheduler};
#[cfg(not(feature = "cluster"))]
pub use not_built::{cluster_events, cluster_features, run_executor, run_scheduler};

use std::net::SocketAddr;

use thiserror::Error;

use crate::core::features::CustomerFeatures;
use crate::core::import::QualityReport;

/// The customer table computed on an engine, and what the engine found in the rows.
#[derive(Clone, Debug)]
pub struct ClusterFeatures {
    pub features: CustomerFeatures,
    /// Row counts per reason, duplicates, prices, returns, event counts,
    /// dates, customers and purchase orders. The engine does not number the
    /// rows of a multi-file dataset, so no example rows are named.
    pub report: QualityReport,
}

/// How a scheduler listens and when it gives up on a silent executor.
#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    pub bind: SocketAddr,
    /// An executor that has not sent a heartbeat for this long is dead: the
    /// jobs its loss touched are stopped and run again by their clients.
    /// Ballista's default is 180 s; executors here send one every
    /// [`HEARTBEAT_SECONDS`].
    pub executor_timeout_seconds: u64,
}

/// How an executor joins a scheduler.
#[derive(Clone, Debug)]
pub struct ExecutorSettings {
    pub scheduler: SocketAddr,
    /// Arrow Flight (shuffle data) on this port; task control on the next one.
    pub bind: SocketAddr,
    /// Tasks run at once (default: the machine's cores).
    pub concurrency: Option<usize>,
    /// Where shuffle files go (default: a temporary directory).
    pub work_dir: Option<String>,
}

/// Seconds between an executor's heartbeats.
pub const HEARTBEAT_SECONDS: u64 = 5;

/// The async runtime a query or a node runs on (`what` names it in an error).
/// Ballista's own binaries give its threads 32 MB stacks: deep plans recurse.
#[cfg(feature = "cluster")]
fn runtime(what: &str) -> Result<tokio::runtime::Runtime, ClusterError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .map_err(|e| ClusterError::Node(format!("cannot start the {what}'s runtime: {e}")))
}

/// Where events are turned into customer tables.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Engine {
    /// In this process, with polars (the default).
    #[default]
    Local,
    /// The cluster's query run by DataFusion in this process (no scheduler):
    /// to compare engines, and to test the query without a cluster.
    DataFusion,
    /// On a Ballista cluster, through its scheduler at `host:port`.
    Ballista { scheduler: String },
}

impl Engine {
    /// `local`, or `ballista://HOST:PORT`.
    pub fn parse(text: &str) -> Result<Engine, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("local") {
            return Ok(Engine::Local);
        }
        if text.eq_ignore_ascii_case("datafusion") {
            return Ok(Engine::DataFusion);
        }
        let Some(address) = text.strip_prefix("ballista://") else {
            return Err(format!("'{text}' is not an engine: give `local` or `ballista://HOST:PORT`"));
        };
        let address = address.trim_end_matches('/');
        match address.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
                Ok(Engine::Ballista { scheduler: address.to_string() })
            }
            _ => Err(format!("'{text}': the scheduler's address must be HOST:PORT, as in ballista://127.0.0.1:50050")),
        }
    }

    /// The URL the Ballista client connects to (`df://HOST:PORT`).
    pub fn scheduler_url(&self) -> Option<String> {
        match self {
            Engine::Local | Engine::DataFusion => None,
            Engine::Ballista { scheduler } => Some(format!("df://{scheduler}")),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::Local => f.write_str("local"),
            Engine::DataFusion => f.write_str("datafusion"),
            Engine::Ballista { scheduler } => write!(f, "ballista://{scheduler}"),
        }
    }
}

/// Whether this build has the cluster engine (the `cluster` feature).
pub const AVAILABLE: bool = cfg!(feature = "cluster");

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error(
        "this build has no cluster engine: build it with `cargo build --release --features cluster` (README, \"Running on a cluster\")"
    )]
    NotBuilt,
    #[error("{path}: {message}")]
    Dataset { path: String, message: String },
    #[error("{path}: {message}")]
    Mapping { path: String, message: String },
    #[error("cannot reach the scheduler at {scheduler}: {message}")]
    Connect { scheduler: String, message: String },
    #[error("the cluster could not compute the features of {path}: {message}")]
    Query { path: String, message: String },
    #[error("{0}")]
    Node(String),
    #[error("{path}: none of the {rows_read} rows is usable")]
    NoUsableRows { path: String, rows_read: u64 },
    #[error(transparent)]
    Features(#[from] crate::core::features::FeatureError),
    #[error(
        "the cluster lost an executor while computing {path}, and again when it ran the query a second time: nothing was written; run it again once the executors are back (their logs say why they stopped)"
    )]
    ExecutorLost { path: String },
    #[error("cancelled")]
    Cancelled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_parsed_and_bad_ones_named() {
        assert_eq!(Engine::parse("local"), Ok(Engine::Local));
        assert_eq!(Engine::parse("DataFusion"), Ok(Engine::DataFusion));
        let e = Engine::parse("ballista://127.0.0.1:50050").unwrap();
        assert_eq!(e, Engine::Ballista { scheduler: "127.0.0.1:50050".into() });
        assert_eq!(e.scheduler_url().as_deref(), Some("df://127.0.0.1:50050"));
        assert_eq!(e.to_string(), "ballista://127.0.0.1:50050");
        assert_eq!(
            Engine::parse("ballista://sched.internal:50050/").unwrap().to_string(),
            "ballista://sched.internal:50050"
        );
        for bad in ["spark://x:1", "ballista://nohost", "ballista://:50050", "ballista://h:0", "ballista://h:99999"] {
            let err = Engine::parse(bad).unwrap_err();
            assert!(err.contains(bad.trim_end_matches('/')) || err.contains("HOST:PORT"), "{bad}: {err}");
        }
    }
}
