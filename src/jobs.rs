//! One registry of background jobs. Each job runs on its own named thread
//! (rayon inside where the work is parallel), reports a fraction and a phrase,
//! can be cancelled, and delivers a typed [`JobOutput`]. Starting a job of a
//! kind that is already running cancels the old one, whose result is dropped;
//! each job also carries the dataset generation it was started for, so the app
//! can drop a result computed for data that has since been replaced.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::core::progress::Progress;
use crate::core::recommend::Evaluation;
use crate::core::segment::choose_k::KSuggestion;
use crate::core::stages::StageError;
use crate::core::stages::dataset::{Dataset, FilePreview};
use crate::core::stages::recommendations::{CustomerView, RecommendationLab};
use crate::core::stages::segments::SegmentAnalysis;

/// What a job does; at most one job of each kind runs at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobKind {
    Preview,
    Load,
    Segment,
    ScanK,
    Recommend,
    Evaluate,
    Lookup,
    Export,
}

impl JobKind {
    /// Whether the result is about a file (read, previewed or written) rather
    /// than about the data on screen: it is shown even after new data loaded.
    pub fn reports_on_a_file(self) -> bool {
        matches!(self, JobKind::Preview | JobKind::Load | JobKind::Export)
    }
}

/// A finished job's typed result.
pub enum JobOutput {
    Previewed(FilePreview),
    Loaded(Box<Dataset>),
    Segmented(Box<SegmentAnalysis>),
    Scanned(KSuggestion),
    Fitted(Box<RecommendationLab>),
    Evaluated(Vec<Evaluation>),
    LookedUp(CustomerView),
    Exported { path: std::path::PathBuf, rows: usize },
}

/// Progress as the status bar shows it.
#[derive(Clone, Debug, Default)]
pub struct JobStatus {
    pub fraction: Option<f32>,
    pub phrase: String,
}

/// What a job shares with its thread.
struct Shared {
    status: Mutex<JobStatus>,
    cancelled: AtomicBool,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Progress for Shared {
    fn update(&self, fraction: Option<f32>, phrase: &str) {
        if let Ok(mut s) = self.status.lock() {
            s.fraction = fraction.or(s.fraction);
            s.phrase = phrase.to_string();
        }
        (self.wake)();
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// Nice value of job threads: the lowest, so that a frame waits for no job.
/// Measured with `--bench frames` on a 1M-event log and the software renderer,
/// frames drawn continuously: frame-interval p99 26-29 ms at nice 19, 30-36 ms
/// at 10, 38 ms at 5. Jobs still get every cycle the UI leaves (it redraws five
/// times a second while they run, unless the user is interacting).
const JOB_NICENESS: i32 = 19;

/// Makes the calling thread yield to the UI thread under load. On Linux the
/// nice value is per thread and inherited by threads it creates, and the rayon
/// and polars pools are created lazily by the first job that uses them (the UI
/// thread never computes), so their workers run at this priority too.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only changes the scheduling priority of this thread (its tid).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, JOB_NICENESS);
    }
}

/// A running job as the registry holds it.
pub struct Job {
    pub kind: JobKind,
    /// What the status bar calls it ("Loading events.parquet").
    pub label: String,
    pub generation: u64,
    pub started: Instant,
    shared: Arc<Shared>,
    result: Receiver<Result<JobOutput, StageError>>,
}

impl Job {
    pub fn status(&self) -> JobStatus {
        self.shared.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// A job that has ended: its output or why it failed (cancelled included).
pub struct Finished {
    pub kind: JobKind,
    pub label: String,
    pub generation: u64,
    pub seconds: f64,
    pub result: Result<JobOutput, JobFailure>,
}

#[derive(Debug)]
pub enum JobFailure {
    Cancelled,
    Failed(StageError),
}

/// All running jobs.
pub struct Jobs {
    running: Vec<Job>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs { running: Vec::new(), wake: Arc::new(|| {}) }
    }
}

impl Jobs {
    /// `wake` is called from job threads whenever there is news (egui: request_repaint).
    pub fn set_waker(&mut self, wake: Arc<dyn Fn() + Send + Sync>) {
        self.wake = wake;
    }

    /// Starts `work` on a new thread, cancelling any running job of the same kind.
    pub fn start(
        &mut self,
        kind: JobKind,
        label: impl Into<String>,
        generation: u64,
        work: impl FnOnce(&dyn Progress) -> Result<JobOutput, StageError> + Send + 'static,
    ) {
        self.cancel(kind);
        let label = label.into();
        let shared = Arc::new(Shared {
            status: Mutex::new(JobStatus { fraction: None, phrase: "starting".into() }),
            cancelled: AtomicBool::new(false),
            wake: self.wake.clone(),
        });
        let (tx, rx) = channel();
        let thread_shared = shared.clone();
        let spawned = std::thread::Builder::new().name(format!("job: {label}")).spawn(move || {
            lower_priority();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&*thread_shared)));
            let result = outcome.unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown".into());
                Err(StageError::Internal(what))
            });
            let _ = tx.send(result);
            (thread_shared.wake)();
        });
        match spawned {
            Ok(_) => self.running.push(Job { kind, label, generation, started: Instant::now(), shared, result: rx }),
            Err(e) => {
                let (tx, rx) = channel();
                let _ = tx.send(Err(StageError::Internal(format!("could not start a background thread: {e}"))));
                self.running.push(Job { kind, label, generation, started: Instant::now(), shared, result: rx });
            }
        }
    }

    /// Asks the running job of `kind` to stop; its result will be dropped.
    pub fn cancel(&mut self, kind: JobKind) {
        for job in self.running.iter().filter(|j| j.kind == kind) {
            job.shared.cancelled.store(true, Ordering::Relaxed);
        }
        self.running.retain(|j| j.kind != kind);
    }

    /// The jobs that finished since the last call.
    pub fn poll(&mut self) -> Vec<Finished> {
        let mut finished = Vec::new();
        self.running.retain(|job| match job.result.try_recv() {
            Ok(result) => {
                finished.push(Finished {
                    kind: job.kind,
                    label: job.label.clone(),
                    generation: job.generation,
                    seconds: job.started.elapsed().as_secs_f64(),
                    result: result
                        .map_err(|e| if e.is_cancelled() { JobFailure::Cancelled } else { JobFailure::Failed(e) }),
                });
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        });
        finished
    }

    pub fn running(&self) -> &[Job] {
        &self.running
    }

    pub fn is_running(&self, kind: JobKind) -> bool {
        self.running.iter().any(|j| j.kind == kind)
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn wait(jobs: &mut Jobs) -> Vec<Finished> {
        let mut all = Vec::new();
        for _ in 0..500 {
            all.extend(jobs.poll());
            if jobs.is_idle() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        all
    }

    #[test]
    fn a_job_reports_its_result_and_generation() {
        let mut jobs = Jobs::default();
        jobs.start(JobKind::Evaluate, "t", 7, |p| {
            p.update(Some(0.5), "half");
            Ok(JobOutput::Evaluated(vec![]))
        });
        let done = wait(&mut jobs);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].generation, 7);
        assert!(matches!(done[0].result, Ok(JobOutput::Evaluated(_))));
    }

    #[test]
    fn a_new_job_of_the_same_kind_supersedes_the_old() {
        let mut jobs = Jobs::default();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        // The old job reports what it saw on its own channel: an assert inside
        // the job would be swallowed with its dropped result.
        let (seen_tx, seen_rx) = std::sync::mpsc::channel::<bool>();
        jobs.start(JobKind::Evaluate, "old", 1, move |p| {
            let _ = rx.recv_timeout(Duration::from_secs(5));
            let _ = seen_tx.send(p.is_cancelled());
            Ok(JobOutput::Evaluated(vec![]))
        });
        jobs.start(JobKind::Evaluate, "new", 2, |_| Ok(JobOutput::Evaluated(vec![])));
        let _ = tx.send(());
        let done = wait(&mut jobs);
        assert_eq!(done.iter().map(|f| f.label.as_str()).collect::<Vec<_>>(), vec!["new"]);
        assert_eq!(seen_rx.recv_timeout(Duration::from_secs(5)), Ok(true), "the old job was told to stop");
    }

    #[test]
    fn a_panicking_job_becomes_an_error() {
        let mut jobs = Jobs::default();
        jobs.start(JobKind::Export, "boom", 0, |_| panic!("boom"));
        let done = wait(&mut jobs);
        assert!(matches!(&done[0].result, Err(JobFailure::Failed(e)) if e.to_string().contains("boom")));
    }
}
