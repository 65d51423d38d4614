//! What widgets ask for, applied at the end of the frame, and what happens
//! when a job finishes. Every computation starts here as a background job:
//! a stage of the pipeline, or a task (a preview, an export) whose result
//! goes to the screen that asked for it.

use std::path::PathBuf;

use super::{Level, PromoStudioApp, views};
use crate::core::import::{Canonical, ImportError, TextEncoding};
use crate::core::pipeline::{Stage, StageKey, StageRun};
use crate::core::sample::bundled;
use crate::core::stages::StageError;
use crate::core::stages::dataset::{DataSource, LoadData, preview_file};
use crate::core::stages::segments::Segments;
use crate::core::{format, output};
use crate::jobs::{Finished, JobFailure, JobKey, JobOutput};

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Read a file's headers and first rows, and propose a mapping.
    Preview {
        path: PathBuf,
    },
    /// Load a file with mapping overrides (canonical name, file column).
    Load {
        path: PathBuf,
        overrides: Vec<(String, String)>,
    },
    /// Run a stage with the current choices.
    Run(StageKey),
    ExportSegments {
        path: PathBuf,
    },
    /// Simulate the campaign in this file from now on.
    SimulateCampaign {
        path: PathBuf,
    },
    Cancel(JobKey),
}

impl Command {
    /// Run stage `S`.
    pub fn run<S: Stage>() -> Command {
        Command::Run(StageKey::of::<S>())
    }
}

/// What a finished job's output is for.
pub enum AfterJob {
    /// A stage's result, for the pipeline.
    Stage(crate::core::pipeline::RunTicket),
    /// A task's result, for whoever started it.
    Task(TaskDone),
}

/// What to do with a task's output, on the UI thread.
pub type TaskDone = Box<dyn FnOnce(&mut PromoStudioApp, JobOutput)>;

/// The preview task's key.
pub const PREVIEW: JobKey = "preview";
/// The export task's key.
pub const EXPORT: JobKey = "export";

impl PromoStudioApp {
    pub(super) fn apply(&mut self, command: Command) {
        match command {
            Command::Preview { path } => {
                let path = bundled::resolve(&path);
                self.view.path_text = bundled::shown_in_field(&path);
                let label = format!("Reading {}", format::file_name(&path));
                let encoding = self.chosen_encoding();
                self.start_task(PREVIEW, label, move |_| preview_file(&path, &[], encoding), views::data::show_preview);
            }
            Command::Load { path, overrides } => {
                let path = bundled::resolve(&path);
                let overrides: Vec<(Canonical, String)> =
                    overrides.iter().filter_map(|(c, f)| Some((Canonical::from_name(c)?, f.clone()))).collect();
                let encoding = self.chosen_encoding();
                if let Some(run) = self.flow.prepare_with::<LoadData>(DataSource { path, overrides, encoding }) {
                    self.start_stage(run);
                }
            }
            Command::Run(stage) => {
                if let Some(run) = self.flow.prepare(stage) {
                    self.start_stage(run);
                }
            }
            Command::ExportSegments { path } => {
                let Some(segments) = self.flow.get::<Segments>().cloned() else { return };
                self.view.export_path = path.display().to_string();
                let label = format!("Writing {}", format::file_name(&path));
                self.start_task(
                    EXPORT,
                    label,
                    move |_| {
                        let mut frame = crate::core::segment::segments_frame(
                            &segments.customer_ids,
                            &segments.assignment,
                            &segments.segments,
                            segments.membership.as_deref(),
                        )
                        .map_err(StageError::table("building the segment list"))?;
                        output::write_csv(&path, &mut frame)?;
                        Ok((path, frame.height()))
                    },
                    |app, (path, rows): (PathBuf, usize)| {
                        app.notify(
                            Level::Info,
                            format!("Wrote {} customers to {}", format::count(rows as f64), path.display()),
                        )
                    },
                );
            }
            Command::SimulateCampaign { path } => {
                self.flow.choices.of_mut::<crate::core::stages::campaigns::Forecasting>().campaign = Some(path);
            }
            Command::Cancel(key) => {
                self.jobs.cancel(key);
                self.notify(Level::Info, "Cancelled");
            }
        }
    }

    /// The encoding the user chose on the Data screen; None: detect it.
    fn chosen_encoding(&self) -> Option<TextEncoding> {
        TextEncoding::from_label(&self.settings.encoding).ok()
    }

    fn start_stage(&mut self, run: StageRun) {
        let label = run.label.clone();
        let (ticket, work) = run.into_work();
        self.jobs.start(ticket.stage.name, label, AfterJob::Stage(ticket), work);
    }

    /// Starts a job that is not a stage; `done` gets its result on the UI thread.
    fn start_task<T: Send + Sync + 'static>(
        &mut self,
        key: JobKey,
        label: String,
        work: impl FnOnce(&dyn crate::core::progress::Progress) -> Result<T, StageError> + Send + 'static,
        done: impl FnOnce(&mut PromoStudioApp, T) + 'static,
    ) {
        let then = AfterJob::Task(Box::new(move |app, output: JobOutput| {
            if let Ok(result) = output.downcast::<T>() {
                done(app, *result);
            }
        }));
        self.jobs.start(key, label, then, move |p| work(p).map(|r| Box::new(r) as JobOutput));
    }

    pub(super) fn on_finished(&mut self, finished: Finished<AfterJob>) {
        let output = match finished.result {
            Ok(output) => output,
            Err(JobFailure::Cancelled) => return,
            Err(JobFailure::Failed(error)) => return self.on_failed(finished.key, &error),
        };
        match finished.then {
            AfterJob::Task(done) => done(self, output),
            AfterJob::Stage(ticket) => {
                let stage = ticket.stage;
                let accepted = self.flow.accept(ticket.with_output(output));
                if !accepted.kept {
                    return;
                }
                for cleared in &accepted.cleared {
                    self.jobs.cancel(cleared.name);
                }
                // Screens react first (a choice that depends on the new data),
                // then the stages that follow run with those choices.
                for screen in views::SCREENS {
                    (screen.on_result)(self, stage, finished.seconds);
                }
                self.commands.extend(accepted.next.into_iter().map(Command::Run));
            }
        }
    }

    fn on_failed(&mut self, key: JobKey, error: &StageError) {
        let mut message = error.to_string();
        if matches!(error, StageError::Import(ImportError::Mapping { .. })) {
            message.push_str("\nIn the app: press Preview and choose the column in the mapping.");
        }
        if let Some(stage) = self.flow.stages().into_iter().find(|s| s.name == key)
            && self.flow.has(stage)
        {
            message.push_str(&format!("\nThe {} shown before is still in use.", stage.name));
        }
        self.notify(Level::Error, message);
    }
}

/// Every canonical column with the file column it is mapped to, and "" for
/// "(not used)": the shape overrides take, so that a column the analyst left
/// out stays out when the file is loaded again (a mapping of only the mapped
/// columns would let the aliases find it anew).
pub(super) fn every_column(
    mapping: &std::collections::BTreeMap<Canonical, String>,
) -> impl Iterator<Item = (String, String)> + '_ {
    Canonical::ALL.iter().map(|c| (c.name().to_string(), mapping.get(c).cloned().unwrap_or_default()))
}
