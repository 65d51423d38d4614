//! Native file dialogs off the UI thread: a modal dialog run from the frame
//! callback would stop the window from drawing until it closes. The chosen
//! path comes back as a command on a later frame. (macOS requires dialogs on
//! the main thread, so there they stay synchronous.)

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use super::Command;
use super::commands::PathField;

/// What a dialog's answer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    OpenEvents,
    SaveSegments,
    OpenCampaign,
    SaveCampaign,
    SavePlan,
    SaveReport,
    ChooseKey,
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
            DialogPurpose::SaveCampaign => rfd::FileDialog::new()
                .set_title("Save the campaign")
                .set_file_name("campaign.json")
                .add_filter("Campaign", &["json"]),
            DialogPurpose::SavePlan => rfd::FileDialog::new()
                .set_title("Save the campaign plan")
                .set_file_name("plan.csv")
                .add_filter("CSV", &["csv"])
                .add_filter("Parquet", &["parquet"]),
            DialogPurpose::SaveReport => rfd::FileDialog::new()
                .set_title("Save the campaign report")
                .set_file_name("report.html")
                .add_filter("HTML", &["html"]),
            DialogPurpose::ChooseKey => rfd::FileDialog::new().set_title("Choose your pseudonymisation key file"),
        }
    }

    fn run(self) -> Option<PathBuf> {
        match self {
            DialogPurpose::OpenEvents | DialogPurpose::OpenCampaign | DialogPurpose::ChooseKey => {
                self.dialog().pick_file()
            }
            DialogPurpose::SaveSegments
            | DialogPurpose::SaveCampaign
            | DialogPurpose::SavePlan
            | DialogPurpose::SaveReport => self.dialog().save_file(),
        }
    }

    fn command(self, path: PathBuf) -> Command {
        match self {
            DialogPurpose::OpenEvents => Command::Preview { path },
            DialogPurpose::SaveSegments => Command::ExportSegments { path },
            DialogPurpose::OpenCampaign => Command::OpenCampaign { path },
            DialogPurpose::SaveCampaign => Command::SaveCampaign { path },
            DialogPurpose::SavePlan => Command::ChosePath { field: PathField::Plan, path },
            DialogPurpose::SaveReport => Command::ChosePath { field: PathField::Report, path },
            DialogPurpose::ChooseKey => Command::ChosePath { field: PathField::Key, path },
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
