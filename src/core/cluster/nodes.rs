//! The two kinds of cluster node, embedded in the app's own binary so that a
//! team stands a cluster up without another install: Ballista's scheduler
//! and executor, each told about the cell functions the features query uses.

use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::FunctionRegistry;

use super::cell_functions::cell_functions;
use super::{ClusterError, ExecutorSettings, HEARTBEAT_SECONDS, SchedulerSettings, runtime};

/// Ballista's log lines on stdout: its scheduling and task lines (info),
/// warnings and errors from everything else. An operator reads these.
struct NodeLog;

static NODE_LOG: NodeLog = NodeLog;

impl log::Log for NodeLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        let ballista = metadata.target().starts_with("ballista");
        metadata.level() <= if ballista { log::Level::Info } else { log::Level::Warn }
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let at = crate::core::import::parse::format_ms(now.as_millis() as i64);
            println!("{at} {} {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

fn start_logging() {
    if log::set_logger(&NODE_LOG).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// Runs a scheduler until the process is stopped.
pub fn run_scheduler(settings: &SchedulerSettings) -> Result<(), ClusterError> {
    start_logging();
    let bind = settings.bind;
    let mut config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        executor_timeout_seconds: settings.executor_timeout_seconds,
        expire_dead_executor_interval_seconds: HEARTBEAT_SECONDS,
        no_executors_grace_period_seconds: settings.executor_timeout_seconds,
        ..SchedulerConfig::default()
    };
    config = config.with_override_session_builder(Arc::new(|session_config| {
        let mut state = default_session_builder(session_config)?;
        for f in cell_functions() {
            state.register_udf(f)?;
        }
        Ok(state)
    }));
    runtime("scheduler")?.block_on(async move {
        let cluster = BallistaCluster::new_from_config(&config)
            .await
            .map_err(|e| ClusterError::Node(format!("scheduler: {e}")))?;
        println!(
            "scheduler listening on {bind}; executors join with `promo-studio cluster executor --scheduler {bind}`"
        );
        start_server(cluster, bind, Arc::new(config))
            .await
            .map_err(|e| ClusterError::Node(format!("scheduler on {bind}: {e}")))
    })
}

/// Runs an executor until the process is stopped.
pub fn run_executor(settings: &ExecutorSettings) -> Result<(), ClusterError> {
    start_logging();
    let mut registry = BallistaFunctionRegistry::default();
    for f in cell_functions() {
        registry.scalar_functions.insert(f.name().to_string(), f);
    }
    let grpc_port = settings.bind.port().checked_add(1).ok_or_else(|| {
        ClusterError::Node(format!("executor: port {} leaves no port for task control", settings.bind.port()))
    })?;
    let host = settings.bind.ip().to_string();
    let mut config = ExecutorProcessConfig {
        bind_host: host.clone(),
        external_host: Some(host),
        port: settings.bind.port(),
        grpc_port,
        scheduler_host: settings.scheduler.ip().to_string(),
        scheduler_port: settings.scheduler.port(),
        scheduler_connect_timeout_seconds: 30,
        work_dir: settings.work_dir.clone(),
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        override_function_registry: Some(Arc::new(registry)),
        ..ExecutorProcessConfig::default()
    };
    if let Some(n) = settings.concurrency {
        config.vcores = n.max(1);
    }
    let (bind, scheduler, vcores) = (settings.bind, settings.scheduler, config.vcores);
    runtime("executor")?.block_on(async move {
        println!("executor on {bind} ({vcores} task slots) joining the scheduler at {scheduler}");
        start_executor_process(Arc::new(config))
            .await
            .map_err(|e| ClusterError::Node(format!("executor on {bind}: {e}")))
    })
}
