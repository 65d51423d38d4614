//! Native file dialogs off the UI thread: a modal dialog run from the frame
//! callback would stop the window from drawing until it closes. The chosen
//! path comes back as a command on a later frame. (macOS requires dialogs on
//! the main thread, so there they stay synchronous.)

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use super::Command;

/// What a dialog's answer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    OpenEvents,
    SaveSegments,
    OpenCampaign,
}

impl DialogPurpose {
    fn dialog(self) -> rfd::FileDialog {
        match self {
            DialogPurpose::OpenEvents => rfd::FileDialog::new()
                .set_title("Open an events file")
                .add_filter("Events", &["csv", "tsv", "txt", "parquet", "ndjson", "jsonl", "json"]),
            DialogPurpose::SaveSegments => rfd::FileDialog::new()
                .set_title("Save the segment list")
                .set_file_name("segments.csv")
                .add_filter("CSV", &["csv"]),
            DialogPurpose::OpenCampaign => {
                rfd::FileDialog::new().set_title("Open a campaign file").add_filter("Campaign", &["json"])
            }
        }
    }

    fn run(self) -> Option<PathBuf> {
        match self {
            DialogPurpose::OpenEvents | DialogPurpose::OpenCampaign => self.dialog().pick_file(),
            DialogPurpose::SaveSegments => self.dialog().save_file(),
        }
    }

    fn command(self, path: PathBuf) -> Command {
        match self {
            DialogPurpose::OpenEvents => Command::Preview { path },
            DialogPurpose::SaveSegments => Command::ExportSegments { path },
            DialogPurpose::OpenCampaign => Command::SimulateCampaign { path },
        }
    }
}

/// At most one open dialog.
#[derive(Default)]
pub struct Dialogs {
    open: Option<(DialogPurpose, Receiver<Option<PathBuf>>)>,
}

impl Dialogs {
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Opens a dialog unless one is open; `wake` repaints when it closes.
    pub fn open(&mut self, purpose: DialogPurpose, wake: impl Fn() + Send + 'static) -> Option<Command> {
        if self.open.is_some() {
            return None;
        }
        if cfg!(target_os = "macos") {
            return purpose.run().map(|p| purpose.command(p));
        }
        let (tx, rx) = channel();
        let spawned = std::thread::Builder::new().name("file dialog".into()).spawn(move || {
            let _ = tx.send(purpose.run());
            wake();
        });
        if spawned.is_ok() {
            self.open = Some((purpose, rx));
        }
        None
    }

    /// The command for a dialog that has closed with a choice.
    pub fn poll(&mut self) -> Option<Command> {
        let (purpose, rx) = self.open.as_ref()?;
        match rx.try_recv() {
            Ok(choice) => {
                let purpose = *purpose;
                self.open = None;
                choice.map(|p| purpose.command(p))
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.open = None;
                None
            }
        }
    }
}
