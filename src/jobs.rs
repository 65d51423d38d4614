//! One registry of background jobs. Each job runs on its own named thread
//! (rayon inside where the work is parallel), reports a fraction and a phrase,
//! can be cancelled, and delivers its output as a boxed value with what the
//! caller asked to get back with it (`then`: for a stage, the pipeline's
//! ticket; for a task, what to do with the result). Starting a job under a key
//! that is already running cancels the old one, whose result is dropped.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::core::progress::Progress;
use crate::core::stages::StageError;

/// What a job is: a stage's name or a task's ("preview", "export"). At most
/// one job runs under a key.
pub type JobKey = &'static str;

/// A job's output, boxed: its kind is known to whoever started it.
pub type JobOutput = Box<dyn Any + Send + Sync>;

/// Progress as the status bar shows it.
#[derive(Clone, Debug, Default)]
pub struct JobStatus {
    pub fraction: Option<f32>,
    pub phrase: String,
}

/// What a job shares with its thread.
struct Shared {
    status: Mutex<JobStatus>,
    partial: Mutex<Option<Arc<dyn Any + Send + Sync>>>,
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

    fn partial(&self, result: Arc<dyn Any + Send + Sync>) {
        if let Ok(mut p) = self.partial.lock() {
            *p = Some(result);
        }
        (self.wake)();
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
pub struct Job<T> {
    pub key: JobKey,
    /// What the status bar calls it ("Loading events.parquet").
    pub label: String,
    pub started: Instant,
    shared: Arc<Shared>,
    result: Receiver<Result<JobOutput, StageError>>,
    then: Option<T>,
}

impl<T> Job<T> {
    pub fn status(&self) -> JobStatus {
        self.shared.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// A job that has ended: its output or why it failed (cancelled included).
pub struct Finished<T> {
    pub key: JobKey,
    pub label: String,
    pub seconds: f64,
    pub then: T,
    pub result: Result<JobOutput, JobFailure>,
}

#[derive(Debug)]
pub enum JobFailure {
    Cancelled,
    Failed(StageError),
}

/// All running jobs; `T` is what each brings back with its output.
pub struct Jobs<T> {
    running: Vec<Job<T>>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl<T> Default for Jobs<T> {
    fn default() -> Self {
        Jobs { running: Vec::new(), wake: Arc::new(|| {}) }
    }
}

impl<T> Jobs<T> {
    /// `wake` is called from job threads whenever there is news (egui: request_repaint).
    pub fn set_waker(&mut self, wake: Arc<dyn Fn() + Send + Sync>) {
        self.wake = wake;
    }

    /// Starts `work` on a new thread, cancelling any running job under the same key.
    pub fn start(
        &mut self,
        key: JobKey,
        label: impl Into<String>,
        then: T,
        work: impl FnOnce(&dyn Progress) -> Result<JobOutput, StageError> + Send + 'static,
    ) {
        self.cancel(key);
        let label = label.into();
        let shared = Arc::new(Shared {
            status: Mutex::new(JobStatus { fraction: None, phrase: "starting".into() }),
            partial: Mutex::new(None),
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
            Ok(_) => {
                self.running.push(Job { key, label, started: Instant::now(), shared, result: rx, then: Some(then) })
            }
            Err(e) => {
                let (tx, rx) = channel();
                let _ = tx.send(Err(StageError::Internal(format!("could not start a background thread: {e}"))));
                self.running.push(Job { key, label, started: Instant::now(), shared, result: rx, then: Some(then) });
            }
        }
    }

    /// Asks the running job under `key` to stop; its result will be dropped.
    pub fn cancel(&mut self, key: JobKey) {
        for job in self.running.iter().filter(|j| j.key == key) {
            job.shared.cancelled.store(true, Ordering::Relaxed);
        }
        self.running.retain(|j| j.key != key);
    }

    /// The jobs that finished since the last call.
    pub fn poll(&mut self) -> Vec<Finished<T>> {
        let mut finished = Vec::new();
        self.running.retain_mut(|job| match job.result.try_recv() {
            Ok(result) => {
                if let Some(then) = job.then.take() {
                    finished.push(Finished {
                        key: job.key,
                        label: job.label.clone(),
                        seconds: job.started.elapsed().as_secs_f64(),
                        then,
                        result: result
                            .map_err(|e| if e.is_cancelled() { JobFailure::Cancelled } else { JobFailure::Failed(e) }),
                    });
                }
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        });
        finished
    }

    pub fn running(&self) -> &[Job<T>] {
        &self.running
    }

    /// The latest result so far of the job running under `key`, if it gives any.
    pub fn partial(&self, key: JobKey) -> Option<Arc<dyn Any + Send + Sync>> {
        let job = self.running.iter().find(|j| j.key == key)?;
        job.shared.partial.lock().ok()?.clone()
    }

    pub fn is_running(&self, key: JobKey) -> bool {
        self.running.iter().any(|j| j.key == key)
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Polls until every job has finished (a minute at most: a panic's
    /// backtrace can take seconds to print on a busy machine).
    fn wait(jobs: &mut Jobs<u32>) -> Vec<Finished<u32>> {
        let mut all = Vec::new();
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            all.extend(jobs.poll());
            if jobs.is_idle() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        all
    }

    #[test]
    fn a_running_job_shows_its_latest_partial_result() {
        let mut jobs: Jobs<u32> = Jobs::default();
        let (go_on, wait_here) = std::sync::mpsc::channel::<()>();
        let (shown, partial_given) = std::sync::mpsc::channel::<()>();
        jobs.start("simulate", "t", 0, move |p| {
            p.partial(Arc::new(10_u32));
            p.partial(Arc::new(20_u32));
            let _ = shown.send(());
            let _ = wait_here.recv();
            Ok(Box::new(()))
        });
        assert!(jobs.partial("other").is_none());
        partial_given.recv().unwrap();
        let latest = jobs.partial("simulate").expect("given while running");
        assert_eq!(latest.downcast_ref::<u32>(), Some(&20), "the last one replaces the others");
        go_on.send(()).unwrap();
        wait(&mut jobs);
        assert!(jobs.partial("simulate").is_none(), "gone with the job");
    }

    #[test]
    fn a_job_reports_its_result_and_what_it_was_started_with() {
        let mut jobs: Jobs<u32> = Jobs::default();
        jobs.start("evaluate", "t", 7, |p| {
            p.update(Some(0.5), "half");
            Ok(Box::new(42_u64))
        });
        let done = wait(&mut jobs);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].then, 7);
        assert_eq!(done[0].result.as_ref().ok().and_then(|o| o.downcast_ref::<u64>()), Some(&42));
    }

    #[test]
    fn a_new_job_of_the_same_kind_supersedes_the_old() {
        let mut jobs: Jobs<u32> = Jobs::default();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        // The old job reports what it saw on its own channel: an assert inside
        // the job would be swallowed with its dropped result.
        let (seen_tx, seen_rx) = std::sync::mpsc::channel::<bool>();
        jobs.start("evaluate", "old", 1, move |p| {
            let _ = rx.recv_timeout(Duration::from_secs(5));
            let _ = seen_tx.send(p.is_cancelled());
            Ok(Box::new(()))
        });
        jobs.start("evaluate", "new", 2, |_| Ok(Box::new(())));
        let _ = tx.send(());
        let done = wait(&mut jobs);
        assert_eq!(done.iter().map(|f| f.label.as_str()).collect::<Vec<_>>(), vec!["new"]);
        assert_eq!(seen_rx.recv_timeout(Duration::from_secs(5)), Ok(true), "the old job was told to stop");
    }

    #[test]
    fn a_panicking_job_becomes_an_error() {
        let mut jobs: Jobs<u32> = Jobs::default();
        jobs.start("export", "boom", 0, |_| panic!("boom"));
        let done = wait(&mut jobs);
        assert!(matches!(&done[0].result, Err(JobFailure::Failed(e)) if e.to_string().contains("boom")));
    }
}
