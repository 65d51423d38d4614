//! What widgets ask for, applied at the end of the frame, and what happens
//! when a job finishes. Every computation starts here as a background job:
//! a stage of the pipeline, or a task (a preview, an export) whose result
//! goes to the screen that asked for it.

use std::path::PathBuf;

use super::{Level, PromoStudioApp, views};
use crate::core::campaign::export;
use crate::core::campaign::file::Campaign;
use crate::core::cluster::Engine;
use crate::core::import::{Canonical, ImportError, TextEncoding};
use crate::core::pipeline::{Stage, StageKey, StageRun};
use crate::core::sample::bundled;
use crate::core::stages::StageError;
use crate::core::stages::campaigns::{Calibration, Forecasting, Planning};
use crate::core::stages::dataset::{DataSource, LoadData, preview_file};
use crate::core::stages::recommendations::Recommendations;
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
    /// Change the campaign being edited. `field`: the path of the text field
    /// or number typed in, so that typing in one field is one undo step; None:
    /// a click, a step of its own.
    EditCampaign {
        field: Option<String>,
        campaign: Box<Campaign>,
    },
    UndoCampaign,
    RedoCampaign,
    /// Start a new, empty campaign (undoable).
    NewCampaign,
    /// Edit the campaign in this file (undoable).
    OpenCampaign {
        path: PathBuf,
    },
    SaveCampaign {
        path: PathBuf,
    },
    /// Point the offers at the calibrated arms of their names.
    UseCalibratedArms,
    /// A file chosen in a dialog, for one of the export fields.
    ChosePath {
        field: PathField,
        path: PathBuf,
    },
    /// Write the plan (CSV or Parquet by the extension), ids pseudonymised with the key in `key_file`.
    ExportPlan {
        path: PathBuf,
        key_file: Option<PathBuf>,
    },
    /// Write the campaign report of the current forecast.
    ExportReport {
        path: PathBuf,
    },
    Cancel(JobKey),
}

/// The export fields a dialog can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathField {
    Plan,
    Report,
    Key,
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
                // The bundled sample is a small CSV file: always read here.
                let engine = if bundled::is_sample(&path) { Ok(Engine::Local) } else { self.settings.cluster.engine() };
                let engine = match engine {
                    Ok(engine) => engine,
                    Err(message) => {
                        self.notify(Level::Error, message);
                        return;
                    }
                };
                if let Some(run) = self.flow.prepare_with::<LoadData>(DataSource { path, overrides, encoding, engine })
                {
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
            Command::EditCampaign { field, campaign } => {
                let result = match field {
                    Some(field) => self.draft.edit_field(&field, |c| *c = *campaign),
                    None => self.draft.edit(|c| *c = *campaign),
                };
                self.after_draft_change(result);
            }
            Command::UndoCampaign => {
                let result = self.draft.undo();
                self.after_draft_change(result);
            }
            Command::RedoCampaign => {
                let result = self.draft.redo();
                self.after_draft_change(result);
            }
            Command::NewCampaign => {
                let result = self.draft.edit(|c| {
                    *c = Campaign::new("New campaign");
                    c.add_offer();
                });
                self.draft.file = None;
                self.after_draft_change(result);
            }
            Command::OpenCampaign { path } => {
                let result = self.draft.open(&path);
                if result.is_ok() {
                    self.notify(Level::Info, format!("Opened {}", path.display()));
                }
                self.after_draft_change(result);
            }
            Command::SaveCampaign { path } => match self.draft.save_as(&path) {
                Ok(()) => self.notify(Level::Info, format!("Saved the campaign to {}", path.display())),
                Err(e) => self.notify(Level::Error, format!("The campaign was not saved: {e}")),
            },
            Command::UseCalibratedArms => self.use_calibrated_arms(),
            Command::ChosePath { field, path } => {
                let text = path.display().to_string();
                match field {
                    PathField::Plan => self.view.plan_path = text,
                    PathField::Report => self.view.report_path = text,
                    PathField::Key => self.view.key_path = text,
                }
            }
            Command::ExportPlan { path, key_file } => self.export_plan(path, key_file),
            Command::ExportReport { path } => self.export_report(path),
            Command::Cancel(key) => {
                self.jobs.cancel(key);
                self.notify(Level::Info, "Cancelled");
            }
        }
    }

    /// After the draft changed (or failed to): the planner gets the new
    /// campaign and plans it again; a failed autosave is said.
    pub(super) fn after_draft_change(&mut self, result: Result<(), crate::core::campaign::draft::DraftError>) {
        if let Err(e) = result {
            self.notify(Level::Error, e.to_string());
        }
        let campaign = self.draft.campaign().clone();
        let choices = self.flow.choices.of_mut::<Planning>();
        if choices.campaign.as_ref() != Some(&campaign) {
            choices.campaign = Some(campaign);
            self.commands.push(Command::run::<Planning>());
        }
    }

    fn use_calibrated_arms(&mut self) {
        let Some(Some(evidence)) = self.flow.get::<Calibration>().map(|e| e.as_ref().as_ref()) else { return };
        let arms: Vec<String> = evidence.response.arms.iter().skip(1).map(|a| a.name.clone()).collect();
        let mut matched = Vec::new();
        let result = self.draft.edit(|c| matched = c.use_arms(&arms));
        let unmatched: Vec<String> = self
            .draft
            .campaign()
            .offers
            .iter()
            .filter(|o| !matched.contains(&o.name))
            .map(|o| format!("“{}”", o.name))
            .collect();
        let mut message = match matched.len() {
            0 => "No offer of the campaign has the name of a tested arm".to_string(),
            _ => format!("{} now use the arms the past campaign tested", matched.join(", ")),
        };
        if !unmatched.is_empty() {
            message.push_str(&format!(
                "; {} keep their response (choose an arm for them on the Promotions screen)",
                unmatched.join(", ")
            ));
        }
        self.notify(Level::Info, message);
        self.after_draft_change(result);
    }

    /// The plan of the campaign as it is now: None while an edit is being
    /// planned, or when the campaign has problems (a plan of an earlier
    /// version must not be exported or simulated).
    pub fn current_plan(&self) -> Option<std::sync::Arc<crate::core::stages::campaigns::CampaignPreview>> {
        let preview = self.flow.get::<Planning>()?;
        let current = preview.campaign == *self.draft.campaign() && !self.is_running::<Planning>();
        (current && preview.plan.is_some()).then(|| preview.clone())
    }

    fn export_plan(&mut self, path: PathBuf, key_file: Option<PathBuf>) {
        let Some(preview) = self.current_plan() else {
            return self.notify(
                Level::Warning,
                "The campaign is being planned or has problems to fix: export once it is planned",
            );
        };
        let lab = self.flow.get::<Recommendations>().cloned();
        self.view.plan_path = path.display().to_string();
        let label = format!("Writing {}", format::file_name(&path));
        self.start_task(
            EXPORT,
            label,
            move |progress| {
                // The key first: a bad key file is said before any work.
                let pseudonyms = match &key_file {
                    Some(key) => {
                        let bytes = std::fs::read(key)
                            .map_err(|e| StageError::Campaign(format!("the key file {}: {e}", key.display())))?;
                        Some(
                            export::Pseudonymiser::new(&bytes)
                                .map_err(|e| StageError::Campaign(format!("the key file {}: {e}", key.display())))?,
                        )
                    }
                    None => None,
                };
                let Some(plan) = &preview.plan else {
                    return Err(StageError::Campaign(
                        "the campaign has problems to fix before it can be exported".into(),
                    ));
                };
                crate::core::progress::step(progress, 0.2, "Recommending products")?;
                let items = export::recommended_items(plan, lab.as_ref().map(|l| &l.recommender));
                let mut table = export::plan_table(plan, &|i| items[i].clone(), pseudonyms.as_ref())
                    .map_err(StageError::table("building the plan"))?;
                export::write_plan(&path, &mut table)?;
                Ok((path, table.height(), pseudonyms.is_some()))
            },
            |app, (path, rows, hashed): (PathBuf, usize, bool)| {
                let ids = if hashed { ", customer ids pseudonymised" } else { "" };
                app.notify(
                    Level::Info,
                    format!("Wrote the plan of {} customers{ids} to {}", format::count(rows as f64), path.display()),
                )
            },
        );
    }

    fn export_report(&mut self, path: PathBuf) {
        let Some(outlook) = self.flow.get::<Forecasting>().cloned() else { return };
        self.view.report_path = path.display().to_string();
        let label = format!("Writing {}", format::file_name(&path));
        self.start_task(
            EXPORT,
            label,
            move |_| {
                let html = export::report::outlook_report(
                    &outlook.campaign,
                    &outlook.outlook,
                    &outlook.response,
                    &outlook.notes,
                );
                export::write_report(&path, &html)?;
                Ok(path)
            },
            |app, path: PathBuf| app.notify(Level::Info, format!("Wrote the campaign report to {}", path.display())),
        );
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
                // Freeing a replaced result can take long (a million customers'
                // plan); the frame does not wait for it.
                let retired = self.flow.take_retired();
                if !retired.is_empty() {
                    let _ = std::thread::Builder::new().name("freeing old results".into()).spawn(move || drop(retired));
                }
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
