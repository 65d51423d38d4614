//! The quality report of DATA.md §1: every row read is accounted for.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

use super::columns::Canonical;
use crate::core::format::thousands;

/// How many example rows a report keeps per reason.
pub const MAX_EXAMPLES: usize = 5;

/// Why a row cannot serve, in the order rows are checked: a row is counted
/// under the first reason that applies, so the counts add up to the rows left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnusableReason {
    MissingCustomerId,
    UnparseableTimestamp,
    UnknownEventType,
    NonNumericQuantity,
    NonNumericPrice,
    NonNumericAmount,
}

impl UnusableReason {
    pub fn column(self) -> Canonical {
        match self {
            UnusableReason::MissingCustomerId => Canonical::CustomerId,
            UnusableReason::UnparseableTimestamp => Canonical::Timestamp,
            UnusableReason::UnknownEventType => Canonical::EventType,
            UnusableReason::NonNumericQuantity => Canonical::Quantity,
            UnusableReason::NonNumericPrice => Canonical::Price,
            UnusableReason::NonNumericAmount => Canonical::Amount,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            UnusableReason::MissingCustomerId => "missing customer id",
            UnusableReason::UnparseableTimestamp => "missing or unparseable timestamp",
            UnusableReason::UnknownEventType => "unknown event type",
            UnusableReason::NonNumericQuantity => "non-numeric quantity",
            UnusableReason::NonNumericPrice => "non-numeric price",
            UnusableReason::NonNumericAmount => "non-numeric amount",
        }
    }
}

/// One example of an unusable row: its number (1 = first data row, header not
/// counted) and the offending cell as read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowExample {
    pub row: u64,
    pub value: Option<String>,
}

/// The rows left out for one reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnusableRows {
    pub reason: UnusableReason,
    /// The canonical column at fault.
    pub column: String,
    /// The file's own column at fault.
    pub file_column: String,
    pub count: u64,
    pub examples: Vec<RowExample>,
}

/// Counts of usable rows per event kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EventCounts {
    pub view: u64,
    pub cart: u64,
    pub purchase: u64,
}

/// What an import found in a file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QualityReport {
    pub file: String,
    pub format: String,
    /// A CSV file's text encoding and how it was settled: `UTF-8 (detected)`,
    /// `GBK (detected)`, `UTF-16LE (byte-order mark)`, `Windows-1252 (given)`.
    pub encoding: Option<String>,
    /// Some bytes were not valid in that encoding and were read as U+FFFD (�).
    pub undecodable_bytes: bool,
    pub columns_found: Vec<String>,
    /// canonical column → file column
    pub mapping: BTreeMap<String, String>,
    pub rows_read: u64,
    pub rows_usable: u64,
    pub rows_unusable: u64,
    pub unusable: Vec<UnusableRows>,
    pub duplicates_removed: u64,
    pub duplicate_examples: Vec<u64>,
    /// Usable rows with a price below zero / exactly zero (kept).
    pub negative_prices: u64,
    pub zero_prices: u64,
    /// Usable purchase lines with a negative quantity (returns; kept, they reduce monetary).
    pub returns: u64,
    pub events: EventCounts,
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
    /// Distinct customers (absent when the contents were not counted).
    pub customers: Option<u64>,
    /// Distinct item ids (absent without an item_id column).
    pub items: Option<u64>,
    /// Distinct purchase orders (orders with a purchase line of quantity > 0).
    pub purchase_orders: Option<u64>,
}

impl QualityReport {
    pub fn unusable_count(&self, reason: UnusableReason) -> u64 {
        self.unusable.iter().find(|u| u.reason == reason).map_or(0, |u| u.count)
    }

    /// Plain-text lines for the warnings a command prints when rows were left out.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        // A cluster does not number the rows of a multi-file dataset: no examples then.
        let for_example = |text: String| if text.is_empty() { text } else { format!(", e.g. {text}") };
        for u in &self.unusable {
            out.push(format!(
                "{}: {} row(s) left out, {} in column '{}' ({}){}",
                self.file,
                u.count,
                u.reason.describe(),
                u.file_column,
                u.column,
                for_example(examples_text(&u.examples))
            ));
        }
        if self.undecodable_bytes {
            out.push(format!(
                "{}: some bytes are not valid {} and were read as \u{FFFD}; if the file is in another encoding, name it (--encoding)",
                self.file,
                self.encoding.as_deref().unwrap_or("text"),
            ));
        }
        if self.duplicates_removed > 0 {
            let rows = join_rows(&self.duplicate_examples);
            out.push(format!(
                "{}: {} exact duplicate row(s) removed{}",
                self.file,
                self.duplicates_removed,
                for_example(if rows.is_empty() { rows } else { format!("rows {rows}") })
            ));
        }
        out
    }
}

/// Row numbers as a list: "3, 17, 42".
pub fn join_rows(rows: &[u64]) -> String {
    rows.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// Example rows with their values, long values cut: `row 3 ("abc")`, `row 9 (empty)`.
pub fn examples_text(examples: &[RowExample]) -> String {
    examples
        .iter()
        .map(|e| match &e.value {
            Some(v) => format!("row {} ({:?})", e.row, truncate(v, 40)),
            None => format!("row {} (empty)", e.row),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let _ = writeln!(s, "Quality report for {} ({})", self.file, self.format);
        if let Some(encoding) = &self.encoding {
            let _ = write!(s, "  encoding         {encoding}");
            if self.undecodable_bytes {
                let _ = write!(s, "   some bytes not valid in it, read as \u{FFFD}");
            }
            s.push('\n');
        }
        let mapping: Vec<String> =
            Canonical::ALL.iter().filter_map(|c| self.mapping.get(c.name()).map(|f| format!("{c} ← {f}"))).collect();
        let _ = writeln!(s, "  columns mapped   {}", mapping.join(", "));
        let _ = writeln!(s, "  rows read        {:>12}", thousands(self.rows_read));
        let _ = writeln!(s, "  rows usable      {:>12}", thousands(self.rows_usable));
        let _ = writeln!(s, "  rows left out    {:>12}", thousands(self.rows_unusable));
        for u in &self.unusable {
            let _ = writeln!(
                s,
                "    {:<32} {:>10}   column '{}', e.g. {}",
                u.reason.describe(),
                thousands(u.count),
                u.file_column,
                examples_text(&u.examples)
            );
        }
        let _ = write!(s, "  duplicates removed {:>10}", thousands(self.duplicates_removed));
        if !self.duplicate_examples.is_empty() {
            let _ = write!(s, "   e.g. rows {}", join_rows(&self.duplicate_examples));
        }
        s.push('\n');
        let _ = writeln!(s, "  negative prices  {:>12}", thousands(self.negative_prices));
        let _ = writeln!(s, "  zero prices      {:>12}", thousands(self.zero_prices));
        let _ = writeln!(s, "  return lines     {:>12}", thousands(self.returns));
        let _ = writeln!(
            s,
            "  events           {:>12} views, {} carts, {} purchase lines",
            thousands(self.events.view),
            thousands(self.events.cart),
            thousands(self.events.purchase)
        );
        let _ = writeln!(s, "  purchase orders  {:>12}", self.purchase_orders.map_or("–".into(), thousands));
        let _ = writeln!(s, "  customers        {:>12}", self.customers.map_or("–".into(), thousands));
        if let Some(items) = self.items {
            let _ = writeln!(s, "  items            {:>12}", thousands(items));
        }
        let _ = writeln!(
            s,
            "  date range       {} → {}",
            self.first_timestamp.as_deref().unwrap_or("–"),
            self.last_timestamp.as_deref().unwrap_or("–")
        );
        let _ = writeln!(s, "  (rows are numbered from 1 = first data row; the header is not counted)");
        f.write_str(&s)
    }
}
