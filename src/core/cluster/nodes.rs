//! The two kinds of cluster node, embedded in the app's own binary so that a
//! team stands a cluster up without another install: Ballista's scheduler
//! and executor, each told about the cell functions the features query uses.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::protobuf::CancelJobParams;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::FunctionRegistry;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

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
        // Only a scheduler has jobs to stop; executors skip the formatting.
        if let Some(jobs) = JOBS_TO_STOP.get()
            && record.level() <= log::Level::Warn
            && let Some(job) = job_touched_by_a_lost_executor(&record.args().to_string())
        {
            let _ = jobs.send(job.to_string());
        }
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

/// Jobs that an executor's loss touched, for the scheduler to stop.
static JOBS_TO_STOP: OnceLock<UnboundedSender<String>> = OnceLock::new();

/// The job a scheduler line names when Ballista starts re-running work an
/// executor lost: tasks reset on a lost executor, a stage rolled back, or a
/// stage resubmitted because its input could not be fetched. Ballista 55's
/// re-run of such work was measured to give wrong answers here (a 4M-event
/// log, one of two executors killed 6 to 9 s into the run: purchase counts
/// and sums too high, a different number of customers), so the scheduler
/// stops the job instead and the client runs the query again on the
/// executors left.
fn job_touched_by_a_lost_executor(line: &str) -> Option<&str> {
    let after = |marker: &str| line.split_once(marker).and_then(|(_, rest)| rest.split('/').next());
    if line.contains("on lost Executor") || line.starts_with("Roll back running job/stage") {
        after("job/stage ")
    } else if line.contains("FetchPartitionError") {
        after("TID ")
    } else {
        None
    }
}

/// Cancels each job sent on `jobs` through the scheduler's own gRPC address:
/// the client then sees the job fail with "Cancelled" though it did not ask.
async fn stop_jobs_touched_by_lost_executors(address: SocketAddr, mut jobs: UnboundedReceiver<String>) {
    let mut stopped = HashSet::new();
    let host = if address.ip().is_unspecified() { "127.0.0.1".to_string() } else { address.ip().to_string() };
    let url = format!("http://{host}:{}", address.port());
    while let Some(job) = jobs.recv().await {
        if !stopped.insert(job.clone()) {
            continue;
        }
        let cancelled = match SchedulerGrpcClient::connect(url.clone()).await {
            Ok(mut scheduler) => scheduler
                .cancel_job(CancelJobParams { job_id: job.clone() })
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match cancelled {
            Ok(()) => log::warn!(
                "job {job}: an executor was lost while it ran; stopped rather than re-running the lost work (Ballista 55's re-run was seen to miscount); the client runs it again"
            ),
            Err(e) => log::error!("job {job}: an executor was lost while it ran, and stopping the job failed: {e}"),
        }
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
        // Executors ask for work when they have a free slot. With Ballista's
        // default, the scheduler pushes tasks and counts free slots itself,
        // and after an executor was killed mid-stage it was seen to launch
        // nothing more: the job ran forever (README, "Limits").
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        ..SchedulerConfig::default()
    };
    config = config.with_override_session_builder(Arc::new(|session_config| {
        let mut state = default_session_builder(session_config)?;
        for f in cell_functions() {
            state.register_udf(f)?;
        }
        Ok(state)
    }));
    let (stop, jobs) = unbounded_channel();
    let _ = JOBS_TO_STOP.set(stop);
    runtime("scheduler")?.block_on(async move {
        tokio::spawn(stop_jobs_touched_by_lost_executors(bind, jobs));
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
        // As the scheduler's: see run_scheduler.
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
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

#[cfg(test)]
mod tests {
    use super::job_touched_by_a_lost_executor as touched;

    /// Lines as Ballista 55's scheduler wrote them when an executor was killed.
    #[test]
    fn the_jobs_an_executor_loss_touched_are_read_from_the_schedulers_lines() {
        let lines = [
            "Reset 1 tasks for running job/stage 038HECJG7Y000/9 on lost Executor a7e2da83-7b23-47af-91b4-434ae1816536",
            "Reset 2 tasks for successful job/stage 038HECJG7Y000/3 on lost Executor a7e2da83",
            "Roll back running job/stage 038HECJG7Y000/4 and change ShuffleReaderExec back to UnresolvedShuffleExec",
            "Need to resubmit the current running Stage 5 and its map Stage 2 due to FetchPartitionError from task TID 038HECJG7Y000/5.0/0",
        ];
        for line in lines {
            assert_eq!(touched(line), Some("038HECJG7Y000"), "{line}");
        }
        for line in [
            "ACTIVE executor a7e2da83 heartbeat timed out after 10s",
            "Removing executor a7e2da83: Some(\"heartbeat timed out\")",
            "Job finished successfully: [038HECJG7Y000]",
        ] {
            assert_eq!(touched(line), None, "{line}");
        }
    }
}
