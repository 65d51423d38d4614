//! What widgets ask for, applied at the end of the frame, and what happens
//! when a job finishes. Every computation starts here as a background job.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Level, PromoStudioApp};
use crate::core::import::{Canonical, ImportError};
use crate::core::stages::StageError;
use crate::core::stages::dataset::{load_dataset, preview_file};
use crate::core::stages::recommendations::{customer_view, evaluate_models, fit_recommender};
use crate::core::stages::segments::{analyse_segments, scan_k};
use crate::core::{format, output};
use crate::jobs::{Finished, JobFailure, JobKind, JobOutput};

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
    Segment,
    ScanK,
    Recommend,
    Evaluate,
    LookUp,
    ExportSegments {
        path: PathBuf,
    },
    Cancel(JobKind),
}

pub(super) fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

impl PromoStudioApp {
    pub(super) fn apply(&mut self, command: Command) {
        let generation = self.generation;
        match command {
            Command::Preview { path } => {
                self.view.path_text = path.display().to_string();
                let label = format!("Reading {}", file_name(&path));
                self.jobs.start(JobKind::Preview, label, generation, move |_| {
                    preview_file(&path, &[]).map(JobOutput::Previewed)
                });
            }
            Command::Load { path, overrides } => {
                let parsed: Vec<(Canonical, String)> =
                    overrides.iter().filter_map(|(c, f)| Some((Canonical::from_name(c)?, f.clone()))).collect();
                let label = format!("Loading {}", file_name(&path));
                self.jobs.start(JobKind::Load, label, generation, move |p| {
                    load_dataset(&path, &parsed, p).map(|d| JobOutput::Loaded(Box::new(d)))
                });
            }
            Command::Segment => {
                let Some(dataset) = self.dataset.clone() else { return };
                let choices = self.settings.segments.clone();
                let label = match choices.method {
                    crate::core::stages::segments::Method::KMeans => format!("Segmenting (k = {})", choices.k),
                    crate::core::stages::segments::Method::Rfm => "Scoring RFM".to_string(),
                };
                self.jobs.start(JobKind::Segment, label, generation, move |p| {
                    analyse_segments(&dataset, choices.method, &choices.settings(), p)
                        .map(|a| JobOutput::Segmented(Box::new(a)))
                });
            }
            Command::ScanK => {
                let Some(dataset) = self.dataset.clone() else { return };
                let choices = self.settings.segments.clone();
                let (lo, hi) = (choices.k_min.max(2), choices.k_max.max(choices.k_min.max(2)));
                let ks: Vec<usize> = (lo..=hi).collect();
                self.jobs.start(JobKind::ScanK, format!("Scanning k = {lo}..{hi}"), generation, move |p| {
                    scan_k(&dataset, &choices.settings(), &ks, p).map(JobOutput::Scanned)
                });
            }
            Command::Recommend => {
                let Some(dataset) = self.dataset.clone() else { return };
                let segments = self.segments.clone();
                let choices = self.settings.recommend.clone();
                let label = format!("Fitting {}", choices.model.name());
                self.jobs.start(JobKind::Recommend, label, generation, move |p| {
                    fit_recommender(&dataset, choices.settings(), choices.k.max(1), segments.as_deref(), p)
                        .map(|lab| JobOutput::Fitted(Box::new(lab)))
                });
            }
            Command::Evaluate => {
                let Some(dataset) = self.dataset.clone() else { return };
                let choices = self.settings.recommend.clone();
                self.jobs.start(JobKind::Evaluate, "Comparing models", generation, move |p| {
                    evaluate_models(&dataset, choices.settings(), choices.k.max(1), p).map(JobOutput::Evaluated)
                });
            }
            Command::LookUp => {
                let Some(lab) = self.lab.clone() else { return };
                let id = self.settings.recommend.customer_id.trim().to_string();
                if id.is_empty() {
                    return;
                }
                let known = self.dataset.as_ref().is_some_and(|d| d.feature_rows.row_of(&id).is_some());
                let include_bought = self.settings.recommend.include_bought;
                self.jobs.start(JobKind::Lookup, format!("Recommending for {id}"), generation, move |_| {
                    Ok(JobOutput::LookedUp(customer_view(&lab, &id, include_bought, known)))
                });
            }
            Command::ExportSegments { path } => {
                let Some(segments) = self.segments.clone() else { return };
                self.view.export_path = path.display().to_string();
                self.jobs.start(JobKind::Export, format!("Writing {}", file_name(&path)), generation, move |_| {
                    let mut frame = crate::core::segment::segments_frame(
                        &segments.customer_ids,
                        &segments.assignment,
                        &segments.segments,
                    )
                    .map_err(crate::core::stages::StageError::table("building the segment list"))?;
                    output::write_csv(&path, &mut frame)?;
                    Ok(JobOutput::Exported { path, rows: frame.height() })
                });
            }
            Command::Cancel(kind) => {
                self.jobs.cancel(kind);
                self.notify(Level::Info, "Cancelled");
            }
        }
    }

    pub(super) fn on_finished(&mut self, finished: Finished) {
        // A result computed for data that has since been replaced is never shown.
        if finished.generation != self.generation && !finished.kind.reports_on_a_file() {
            return;
        }
        let output = match finished.result {
            Ok(output) => output,
            Err(JobFailure::Cancelled) => return,
            Err(JobFailure::Failed(error)) => {
                let mut message = error.to_string();
                if matches!(error, StageError::Import(ImportError::Mapping { .. })) {
                    message.push_str("\nIn the app: press Preview and choose the column in the mapping.");
                }
                let what = match finished.kind {
                    JobKind::Load | JobKind::Preview if self.dataset.is_some() => {
                        format!("{message}\nThe data loaded before is still in use.")
                    }
                    _ => message,
                };
                self.notify(Level::Error, what);
                return;
            }
        };
        match output {
            JobOutput::Previewed(preview) => {
                self.view.mapping_edit = every_column(&preview.mapping).collect();
                self.preview = Some(preview);
                self.view.data_tab = super::views::data::DataTab::Preview;
                self.settings.screen = super::Screen::Data;
            }
            JobOutput::Loaded(dataset) => {
                let is_sample = dataset.path == crate::cli::sample_events_path();
                self.notify(
                    Level::Info,
                    format!(
                        "Loaded {}: {} usable rows, {} customers in {}",
                        file_name(&dataset.path),
                        format::thousands(dataset.report.rows_usable),
                        format::thousands(dataset.features.customers() as u64),
                        format::seconds(finished.seconds)
                    ),
                );
                if let Err(e) = &dataset.value {
                    self.notify(Level::Warning, format!("Customer value (P(alive), CLV) is not available: {e}"));
                }
                self.settings.last_file = (!is_sample).then(|| dataset.path.clone());
                self.settings.mapping = if is_sample { vec![] } else { every_column(&dataset.mapping).collect() };
                // Features chosen for an earlier file may not exist in this one.
                let numeric = dataset.feature_rows.numeric_columns();
                self.settings.segments.features.retain(|f| numeric.contains(&f.column));
                if self.settings.segments.features.is_empty() {
                    self.settings.segments.features = crate::core::segment::FeatureSpec::defaults();
                }
                self.generation += 1;
                self.dataset = Some(Arc::from(dataset));
                self.preview = None;
                self.segments = None;
                self.k_scan = None;
                self.lab = None;
                self.evaluations = None;
                self.customer = None;
                self.view.feature_sort = None;
                self.jobs.cancel(JobKind::Segment);
                self.jobs.cancel(JobKind::Recommend);
                self.jobs.cancel(JobKind::Evaluate);
                self.jobs.cancel(JobKind::ScanK);
                self.jobs.cancel(JobKind::Lookup);
                // The flow runs on by itself: segments, then recommendations.
                self.commands.push(Command::Segment);
                self.commands.push(Command::Evaluate);
            }
            JobOutput::Segmented(analysis) => {
                self.segments = Some(Arc::from(analysis));
                self.commands.push(Command::Recommend);
            }
            JobOutput::Scanned(suggestion) => self.k_scan = Some(suggestion),
            JobOutput::Fitted(lab) => {
                // Keep the customer the user chose if this data has them; else show the example.
                let chosen = self.settings.recommend.customer_id.trim();
                let known = self.dataset.as_ref().is_some_and(|d| d.feature_rows.row_of(chosen).is_some());
                if !known && let Some(id) = &lab.example_customer {
                    self.settings.recommend.customer_id = id.clone();
                }
                self.lab = Some(Arc::from(lab));
                self.commands.push(Command::LookUp);
            }
            JobOutput::Evaluated(e) => self.evaluations = Some(e),
            JobOutput::LookedUp(view) => self.customer = Some(Arc::new(view)),
            JobOutput::Exported { path, rows } => self
                .notify(Level::Info, format!("Wrote {} customers to {}", format::count(rows as f64), path.display())),
        }
    }
}

/// Every canonical column with the file column it is mapped to, and "" for
/// "(not used)": the shape overrides take, so that a column the analyst left
/// out stays out when the file is loaded again (a mapping of only the mapped
/// columns would let the aliases find it anew).
fn every_column(
    mapping: &std::collections::BTreeMap<Canonical, String>,
) -> impl Iterator<Item = (String, String)> + '_ {
    Canonical::ALL.iter().map(|c| (c.name().to_string(), mapping.get(c).cloned().unwrap_or_default()))
}
