//! What leaves the app: the campaign plan as a file a sending tool reads
//! (customer → group → offer → channel → recommended products; CSV or
//! Parquet; customer ids optionally pseudonymised with the user's key), and
//! the campaign report as one self-contained HTML file.

pub mod pseudonym;
pub mod report;

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use super::plan::Plan;
use crate::core::output::{self, OutputError};
use crate::core::recommend::Recommender;
pub use pseudonym::{KeyError, Pseudonymiser};

/// The file formats a plan is exported in, by the output's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Csv,
    Parquet,
}

impl PlanFormat {
    pub fn of(path: &Path) -> PlanFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("parquet") => PlanFormat::Parquet,
            _ => PlanFormat::Csv,
        }
    }
}

/// `plan.csv`'s table (DATA.md §10), its customer ids replaced by their
/// pseudonyms when a pseudonymiser is given.
pub fn plan_table(
    plan: &Plan,
    items: &(dyn Fn(usize) -> String + Sync),
    pseudonyms: Option<&Pseudonymiser>,
) -> PolarsResult<DataFrame> {
    let mut table = plan.plan_frame(items)?;
    if let Some(p) = pseudonyms {
        let ids =
            StringChunked::from_iter_values("customer_id".into(), plan.customers.ids.iter().map(|id| p.pseudonym(id)));
        table.replace("customer_id", ids.into_column())?;
    }
    Ok(table)
}

/// Products recommended to each customer of the plan, for its `items`
/// column: up to [`PLAN_ITEMS`] product ids joined by `|` (none without a recommender).
pub fn recommended_items(plan: &Plan, recommender: Option<&Recommender>) -> Vec<String> {
    use rayon::prelude::*;
    (0..plan.customers.len())
        .into_par_iter()
        .map(|i| match recommender {
            Some(rec) => rec
                .recommend(&plan.customers.ids[i], PLAN_ITEMS, false)
                .iter()
                .map(|r| rec.item_id(r.item).to_string())
                .collect::<Vec<_>>()
                .join("|"),
            None => String::new(),
        })
        .collect()
}

/// Products recommended to each customer in the plan.
pub const PLAN_ITEMS: usize = 5;

/// Writes the plan's table to `path` (CSV or Parquet by its extension), whole or not at all.
pub fn write_plan(path: &Path, table: &mut DataFrame) -> Result<(), OutputError> {
    match PlanFormat::of(path) {
        PlanFormat::Csv => output::write_csv(path, table),
        PlanFormat::Parquet => output::write_parquet(path, table),
    }
}

/// Writes the report, whole or not at all.
pub fn write_report(path: &Path, html: &str) -> Result<(), OutputError> {
    output::write_atomically(path, |w| w.write_all(html.as_bytes()).map_err(|e| e.to_string()))
}
