//! How a long computation tells its caller how far it got, and learns that
//! the caller no longer wants the answer. The app's background jobs implement
//! [`Progress`]; the command line passes [`Silent`].

/// Receives progress reports and answers whether to stop.
pub trait Progress: Send + Sync {
    /// `fraction` in 0..=1, or None when the total is not known yet.
    fn update(&self, fraction: Option<f32>, phrase: &str);
    fn is_cancelled(&self) -> bool;
    /// The result so far (a forecast after some of its runs), for a screen to
    /// show while the work goes on; the last one given replaces the others.
    fn partial(&self, _result: std::sync::Arc<dyn std::any::Any + Send + Sync>) {}
}

/// For callers that neither show progress nor cancel.
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _: Option<f32>, _: &str) {}
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// The computation stopped because its caller cancelled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Reports a step and fails with [`Cancelled`] if the caller has given up;
/// called between chunks of work.
pub fn step(progress: &dyn Progress, fraction: f32, phrase: &str) -> Result<(), Cancelled> {
    if progress.is_cancelled() {
        return Err(Cancelled);
    }
    progress.update(Some(fraction), phrase);
    Ok(())
}

/// Maps a part's progress (0..1) onto a slice of the whole (`from..to`).
pub struct Part<'a> {
    pub whole: &'a dyn Progress,
    pub from: f32,
    pub to: f32,
}

impl Progress for Part<'_> {
    fn update(&self, fraction: Option<f32>, phrase: &str) {
        self.whole.update(fraction.map(|f| self.from + (self.to - self.from) * f.clamp(0.0, 1.0)), phrase);
    }

    fn is_cancelled(&self) -> bool {
        self.whole.is_cancelled()
    }

    fn partial(&self, result: std::sync::Arc<dyn std::any::Any + Send + Sync>) {
        self.whole.partial(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Recorder(Mutex<Vec<Option<f32>>>);

    impl Progress for Recorder {
        fn update(&self, fraction: Option<f32>, _: &str) {
            self.0.lock().unwrap().push(fraction);
        }
        fn is_cancelled(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_part_reports_within_its_slice_of_the_whole() {
        let whole = Recorder(Mutex::new(vec![]));
        let part = Part { whole: &whole, from: 0.0, to: 0.5 };
        part.update(Some(0.5), "half");
        part.update(Some(2.0), "beyond");
        part.update(None, "unknown");
        assert_eq!(*whole.0.lock().unwrap(), vec![Some(0.25), Some(0.5), None]);
    }
}
