//! Import (DATA.md §1): read CSV (in the encoding detected or given, see
//! [`TextEncoding`]), Parquet or NDJSON, map its columns onto the canonical
//! schema, check every cell, and account for every row in a [`QualityReport`].

mod assemble;
pub mod columns;
mod csv_pieces;
mod encoding;
pub mod parse;
pub mod quality;
mod reading;
mod rows;
mod source;

use std::path::Path;

use polars::prelude::*;
use thiserror::Error;

pub use assemble::count_items;
/// The report's counts of a finished events table (event kinds, prices, returns, dates).
#[cfg(feature = "cluster")]
pub(crate) use assemble::summarise as summarise_into;
pub use columns::{Canonical, ColumnMapping, MappingProblem, parse_override};
pub use encoding::{EncodingOrigin, FileEncoding, TextEncoding};
pub use parse::EventKind;
pub use quality::{QualityReport, UnusableReason};
/// The reasons a row cannot serve, in the order a row is checked (its first reason counts).
#[cfg(feature = "cluster")]
pub(crate) use rows::REASONS;
pub use source::{EventsFile, FileFormat, parquet_files};

use crate::core::events::EventTable;
use crate::core::progress::{Progress, Silent};

/// Everything that can stop an import. Each message names the file, and where
/// it applies the column and the row.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{path}: no such file")]
    NotFound { path: String },
    #[error("{path}: is a directory without Parquet files, not an events file")]
    IsDirectory { path: String },
    #[error("{path}: the file is empty")]
    EmptyFile { path: String },
    #[error("{path}: the file has a header but no data rows")]
    HeaderOnly { path: String },
    #[error("{path}: cannot read: {message}")]
    Io { path: String, message: String },
    #[error("{path}: line {line}{}: bytes that are not UTF-8 at byte offset {byte_offset}{}", column.as_ref().map(|c| format!(", column '{c}'")).unwrap_or_default(), not_utf8_advice(looks_like.as_deref()))]
    NotUtf8 {
        path: String,
        line: u64,
        column: Option<String>,
        byte_offset: u64,
        /// The encoding those bytes look like (chardetng's guess), if any.
        looks_like: Option<String>,
    },
    #[error("{path}: {}", describe_mapping_problems(problems, headers))]
    Mapping { path: String, problems: Vec<MappingProblem>, headers: Vec<String> },
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: none of the {rows_read} rows is usable:\n{}", details.join("\n"))]
    NoUsableRows { path: String, rows_read: u64, details: Vec<String> },
    #[error("import cancelled")]
    Cancelled,
}

impl ImportError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> ImportError {
        ImportError::Io { path: path.display().to_string(), message: e.to_string() }
    }

    pub(crate) fn polars(path: &str, e: PolarsError) -> ImportError {
        ImportError::Read { path: path.to_string(), message: e.to_string() }
    }
}

/// What to do about a file that is not UTF-8 where it was read as UTF-8.
fn not_utf8_advice(looks_like: Option<&str>) -> String {
    match looks_like {
        Some(name) => format!(
            " (they look like {name}): name the file's encoding (--encoding {}) or save it as UTF-8 and try again",
            name.to_ascii_lowercase()
        ),
        None => "; name the file's encoding (--encoding) or save it as UTF-8 and try again".into(),
    }
}

fn describe_mapping_problems(problems: &[MappingProblem], headers: &[String]) -> String {
    problems.iter().map(|p| describe_mapping_problem(p, headers)).collect::<Vec<_>>().join("; ")
}

/// One mapping problem in words, with the file's columns (`headers`) and the names tried.
pub fn describe_mapping_problem(problem: &MappingProblem, headers: &[String]) -> String {
    let found = headers.iter().map(|h| format!("'{h}'")).collect::<Vec<_>>().join(", ");
    match problem {
        MappingProblem::Missing(c) => format!(
            "required column '{c}' not found. Columns in the file: {found}. Names tried (case, spaces and punctuation ignored): {}. Name the column with --map {c}=<column>",
            std::iter::once(c.name()).chain(c.aliases().iter().copied()).collect::<Vec<_>>().join(", ")
        ),
        MappingProblem::UnknownFileColumn { canonical, file_column } => format!(
            "--map {canonical}={file_column}: the file has no column '{file_column}'. Columns in the file: {found}"
        ),
    }
}

/// A loaded events table and the report of how it was read.
#[derive(Clone, Debug)]
pub struct LoadedEvents {
    pub events: EventTable,
    pub report: QualityReport,
}

/// How much of the quality report an import computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportDetail {
    /// Everything, including distinct customers, items and purchase orders.
    Full,
    /// Row counts, reasons, duplicates, prices and dates; not the distinct
    /// counts (for commands that compute per-customer tables anyway).
    Rows,
}

/// Opens, maps and loads an events file in one call, with the full report.
pub fn load_events(path: &Path, overrides: &[(Canonical, String)]) -> Result<LoadedEvents, ImportError> {
    load_events_with(path, overrides, ReportDetail::Full)
}

/// [`load_events`] with a choice of report detail.
pub fn load_events_with(
    path: &Path,
    overrides: &[(Canonical, String)],
    detail: ReportDetail,
) -> Result<LoadedEvents, ImportError> {
    load_events_encoded(path, overrides, detail, None)
}

/// [`load_events_with`], reading a CSV file's text in `encoding` rather than
/// the one detected (`None`: detect it; see [`TextEncoding::from_label`] and
/// [`EventsFile::open_with_encoding`]).
pub fn load_events_encoded(
    path: &Path,
    overrides: &[(Canonical, String)],
    detail: ReportDetail,
    encoding: Option<TextEncoding>,
) -> Result<LoadedEvents, ImportError> {
    let file = EventsFile::open_with_encoding(path, encoding)?;
    let mapping = map_columns(&file, overrides)?;
    load_mapped(&file, &mapping, detail)
}

/// Proposes the column mapping for a file, failing when a required column is missing.
pub fn map_columns(file: &EventsFile, overrides: &[(Canonical, String)]) -> Result<ColumnMapping, ImportError> {
    let (mapping, problems) = ColumnMapping::propose(&file.headers, overrides);
    if problems.is_empty() {
        Ok(mapping)
    } else {
        Err(ImportError::Mapping { path: file.shown(), problems, headers: file.headers.clone() })
    }
}

/// Loads a file with a given mapping.
pub fn load_mapped(
    file: &EventsFile,
    mapping: &ColumnMapping,
    detail: ReportDetail,
) -> Result<LoadedEvents, ImportError> {
    load_mapped_with_progress(file, mapping, detail, &Silent)
}

/// [`load_mapped`], reporting rows read after each batch and stopping with
/// [`ImportError::Cancelled`] when `progress` is cancelled.
pub fn load_mapped_with_progress(
    file: &EventsFile,
    mapping: &ColumnMapping,
    detail: ReportDetail,
    progress: &dyn Progress,
) -> Result<LoadedEvents, ImportError> {
    let shown = file.shown();
    let (batches, undecodable) = {
        let _t = crate::core::trace::phase("read + check");
        reading::read_checked(file, mapping, progress)?
    };
    if batches.iter().all(|b| b.rows_read == 0) {
        return Err(ImportError::HeaderOnly { path: shown });
    }
    let (events, mut report) = assemble::assemble(batches, mapping).map_err(|e| ImportError::polars(&shown, e))?;
    if detail == ReportDetail::Full {
        let _t = crate::core::trace::phase("count contents");
        assemble::count_contents(&events, &mut report).map_err(|e| ImportError::polars(&shown, e))?;
    }
    report.file = shown.clone();
    report.format = file.format.describe();
    report.encoding = file.encoding.map(|e| e.describe());
    report.undecodable_bytes = undecodable;
    report.columns_found = file.headers.clone();
    report.mapping = mapping.columns.iter().map(|(c, f)| (c.name().to_string(), f.clone())).collect();
    if report.rows_usable == 0 {
        let mut details = report.warnings();
        if details.is_empty() {
            details.push("no row could be read".into());
        }
        return Err(ImportError::NoUsableRows { path: shown, rows_read: report.rows_read, details });
    }
    Ok(LoadedEvents { events, report })
}
