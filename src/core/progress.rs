//! How a long computation tells its caller how far it got, and learns that
//! the caller no longer wants the answer. The app's background jobs implement
//! [`Progress`]; the command line passes [`Silent`].

/// Receives progress reports and answers whether to stop.
pub trait Progress: Send + Sync {
    /// `fraction` in 0..=1, or None when the total is not known yet.
    fn update(&self, fraction: Option<f32>, phrase: &str);
    fn is_cancelled(&self) -> bool;
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
