//! Reading a file as checked batches of rows: polars' lazy scans in batches,
//! rows numbered across them, progress after each batch, and a cancel check.

use polars::prelude::*;
use polars_buffer::Buffer;

use super::columns::ColumnMapping;
use super::csv_pieces::{CsvPiece, CsvPieces, PIECE_BYTES};
use super::rows::{self, CheckedBatch};
use super::{EventsFile, FileFormat, ImportError, source};
use crate::core::progress::Progress;

/// Rows per import batch: the raw text of one batch is in memory at a time.
const BATCH_ROWS: usize = 1 << 18;

/// Reads and checks every row of `file`; also says whether some bytes of a
/// decoded CSV file were not valid in its encoding (read as U+FFFD).
///
/// CSV is read piece by piece ([`CsvPieces`]), its number columns as numbers:
/// a piece where one of them holds text is read again with every column as
/// text, so that the row checks can say which cell, and so are the pieces
/// after it (a column with text in one piece likely has more).
pub(super) fn read_checked(
    file: &EventsFile,
    mapping: &ColumnMapping,
    progress: &dyn Progress,
) -> Result<(Vec<CheckedBatch>, bool), ImportError> {
    read_in_pieces(file, mapping, progress, PIECE_BYTES).map(|(batches, counts)| (batches, counts.undecodable))
}

/// How a CSV file was read.
#[derive(Debug, Default, PartialEq)]
struct PieceCounts {
    pieces: usize,
    /// Pieces read again (or from the start) with every column as text.
    read_as_text: usize,
    /// Some bytes of a decoded file were not valid in its encoding.
    undecodable: bool,
}

/// [`read_checked`] with CSV pieces of about `piece_bytes`.
fn read_in_pieces(
    file: &EventsFile,
    mapping: &ColumnMapping,
    progress: &dyn Progress,
    piece_bytes: usize,
) -> Result<(Vec<CheckedBatch>, PieceCounts), ImportError> {
    let reader = BatchReader { file, mapping };
    let mut checked =
        CheckedRows { file, mapping, progress, batches: Vec::new(), rows_before: 0, shown: Shown::default() };
    let mut counts = PieceCounts::default();
    let FileFormat::Csv { separator } = file.format else {
        let estimate = file.estimated_rows().filter(|&n| n > 0);
        checked.check_all(reader.start(file.scan()?)?, &|rows| estimate.map(|n| rows as f32 / n as f32))?;
        return Ok((checked.batches, counts));
    };
    let numeric: Vec<&str> = mapping.columns.iter().filter(|(c, _)| c.is_numeric()).map(|(_, f)| f.as_str()).collect();
    let size = std::fs::metadata(&file.path).map_err(|e| ImportError::io(&file.path, e))?.len().max(1);
    let mut pieces = CsvPieces::open(&file.path, separator, file.text_encoding(), piece_bytes)?;
    let mut start_next = |as_text: bool| -> Result<Option<StartedPiece>, ImportError> {
        let Some(piece) = pieces.next_piece()? else { return Ok(None) };
        let lf = reader.csv(piece.text.clone(), separator, if as_text { &[] } else { &numeric })?;
        Ok(Some(StartedPiece { batches: reader.start(lf)?, piece, as_text }))
    };
    // The next piece is read and its scan started while the current one is
    // checked, so that polars does not wait for the checks between pieces.
    let mut all_text = numeric.is_empty();
    let mut next = start_next(all_text)?;
    let mut bytes_before = 0u64;
    while let Some(current) = next.take() {
        next = start_next(all_text)?;
        counts.pieces += 1;
        counts.read_as_text += usize::from(current.as_text && !numeric.is_empty());
        let (batches_before, rows_before) = (checked.batches.len(), checked.rows_before);
        // Within a piece, progress counts its rows against its line ends.
        let piece_bytes = (current.piece.bytes_read - bytes_before) as f64;
        let lines = current.piece.lines.max(1) as f64;
        let fraction = |rows: u64| {
            let within = ((rows - rows_before) as f64 / lines).min(1.0) * piece_bytes;
            Some(((bytes_before as f64 + within) / size as f64) as f32)
        };
        match checked.check_all(current.batches, &fraction) {
            Err(ImportError::Cancelled) => return Err(ImportError::Cancelled),
            Err(_) if !current.as_text => {
                all_text = true;
                counts.read_as_text += 1;
                checked.batches.truncate(batches_before);
                checked.rows_before = rows_before;
                let lf = reader.csv(current.piece.text.clone(), separator, &[])?;
                checked.check_all(reader.start(lf)?, &fraction)?;
            }
            other => other?,
        }
        bytes_before = current.piece.bytes_read;
    }
    counts.undecodable = pieces.had_replacements();
    Ok((checked.batches, counts))
}

/// A piece of a CSV file whose scan has started.
struct StartedPiece {
    piece: CsvPiece,
    batches: CollectBatches,
    /// Read with every column as text (no number fast path).
    as_text: bool,
}

/// Starts scans of the mapped columns.
struct BatchReader<'a> {
    file: &'a EventsFile,
    mapping: &'a ColumnMapping,
}

impl BatchReader<'_> {
    fn error(&self, e: PolarsError) -> ImportError {
        ImportError::polars(&self.file.shown(), e)
    }

    /// A scan of one piece of the CSV file, `numeric` columns as numbers.
    fn csv(&self, text: Buffer<u8>, separator: u8, numeric: &[&str]) -> Result<LazyFrame, ImportError> {
        source::scan_csv_text(text, separator, numeric).map_err(|e| self.error(e))
    }

    /// Starts reading the mapped columns of `lf` in batches, renamed to their
    /// canonical names, in the physical form the row checks expect; and the
    /// file's other columns as they are, named [`rows::OTHER_PREFIX`] and
    /// their position, for the rows' fingerprints.
    fn start(&self, mut lf: LazyFrame) -> Result<CollectBatches, ImportError> {
        let schema = lf.collect_schema().map_err(|e| self.error(e))?;
        let mut select: Vec<Expr> = self
            .mapping
            .columns
            .iter()
            .map(|(canonical, file_column)| {
                let dtype = schema.get(file_column.as_str()).cloned().unwrap_or(DataType::String);
                rows::raw_expr(*canonical, file_column, &dtype).alias(canonical.name())
            })
            .collect();
        let mapped = |name: &str| self.mapping.columns.values().any(|f| f == name);
        for (i, name) in schema.iter_names().enumerate().filter(|(_, n)| !mapped(n.as_str())) {
            select.push(col(name.clone()).alias(format!("{}{i}", rows::OTHER_PREFIX)));
        }
        lf.select(select)
            .collect_batches(Engine::Streaming, true, std::num::NonZeroUsize::new(BATCH_ROWS), false)
            .map_err(|e| self.error(e))
    }
}

/// The checked batches so far, their rows numbered across scans.
struct CheckedRows<'a> {
    file: &'a EventsFile,
    mapping: &'a ColumnMapping,
    progress: &'a dyn Progress,
    batches: Vec<CheckedBatch>,
    /// Data rows checked so far.
    rows_before: u64,
    shown: Shown,
}

/// The rows read and the fraction last reported. A piece read again as text
/// counts its rows from its start again; what is shown never moves back.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Shown {
    rows: u64,
    fraction: f32,
}

impl Shown {
    /// What to show after `rows` rows at `fraction` (below 1 until the import ends).
    fn advance(&mut self, rows: u64, fraction: Option<f32>) -> (u64, Option<f32>) {
        self.rows = self.rows.max(rows);
        let fraction = fraction.map(|f| f.min(0.99).max(self.fraction));
        self.fraction = fraction.unwrap_or(self.fraction);
        (self.rows, fraction)
    }
}

impl CheckedRows<'_> {
    /// Checks every batch of a started scan; `fraction` says how far the
    /// import is after a given number of rows, for the progress bar.
    fn check_all(&mut self, batches: CollectBatches, fraction: &dyn Fn(u64) -> Option<f32>) -> Result<(), ImportError> {
        let error = |e| ImportError::polars(&self.file.shown(), e);
        for batch in batches {
            let batch = batch.map_err(error)?;
            let rows = batch.height() as u64;
            self.batches.push(rows::check_batch(batch, self.mapping, self.rows_before).map_err(error)?);
            self.rows_before += rows;
            if self.progress.is_cancelled() {
                return Err(ImportError::Cancelled);
            }
            let (rows, done) = self.shown.advance(self.rows_before, fraction(self.rows_before));
            self.progress.update(done, &format!("{} rows read", crate::core::format::thousands(rows)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::EventTable;
    use crate::core::import::{QualityReport, UnusableReason, map_columns};
    use crate::core::progress::Silent;

    fn load(path: &std::path::Path, piece_bytes: usize) -> (EventTable, QualityReport, PieceCounts) {
        let file = EventsFile::open(path).unwrap();
        let mapping = map_columns(&file, &[]).unwrap();
        let (batches, counts) = read_in_pieces(&file, &mapping, &Silent, piece_bytes).unwrap();
        let (events, report) = super::super::assemble::assemble(batches, &mapping).unwrap();
        (events, report, counts)
    }

    /// A file read in pieces of a few hundred bytes gives the table and the
    /// report of one read whole: rows numbered across pieces, a bad number in
    /// one piece read again as text (that piece only), quoted line ends and
    /// duplicates across pieces (judged on every column, the unmapped `note` too).
    #[test]
    fn pieces_read_as_the_whole_file() {
        let mut csv = String::from("customer_id,timestamp,event_type,item_id,category,quantity,price,note\n");
        for i in 0..600 {
            let quantity = if i == 450 { "two".to_string() } else { (1 + i % 3).to_string() };
            let timestamp =
                if i == 170 { "yesterday".to_string() } else { format!("2024-03-{:02} 10:00:00", 1 + i % 28) };
            let category = if i % 7 == 0 { "\"Bags,\nbig\"" } else { "Shoes" };
            csv += &format!("{},{timestamp},purchase,{},{category},{quantity},2.5,-\n", i % 40, i % 11);
        }
        csv += "3,2024-03-04 10:00:00,purchase,3,Shoes,1,2.5,-\n"; // repeats row 124
        csv += "3,2024-03-04 10:00:00,purchase,3,Shoes,1,2.5,other\n"; // and this one only in its note
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        std::fs::write(&path, &csv).unwrap();

        let (whole, whole_report, whole_counts) = load(&path, 1 << 20);
        let (pieces, pieces_report, counts) = load(&path, 300);
        assert_eq!(whole_counts, PieceCounts { pieces: 1, read_as_text: 1, undecodable: false });
        // Quantities are read as numbers up to the piece with "two", as text from
        // there on, but for the piece after it, whose scan had already started.
        let mut cut = CsvPieces::open(&path, b',', crate::core::import::TextEncoding::utf8(), 300).unwrap();
        let mut bad_piece = 0;
        while let Some(piece) = cut.next_piece().unwrap() {
            if piece.text.windows(3).any(|w| w == b"two") {
                break;
            }
            bad_piece += 1;
        }
        assert!(counts.pieces > 50 && bad_piece > 30, "{counts:?}, piece {bad_piece}");
        assert_eq!(counts.read_as_text, counts.pieces - bad_piece - 1, "{counts:?}, piece {bad_piece}");
        assert!(whole.df.equals_missing(&pieces.df));
        assert_eq!(pieces_report.rows_read, 602);
        assert_eq!(pieces_report.unusable_count(UnusableReason::UnparseableTimestamp), 1);
        assert_eq!(pieces_report.unusable_count(UnusableReason::NonNumericQuantity), 1);
        assert_eq!(pieces_report.duplicates_removed, 1);
        let examples =
            |r: &QualityReport| r.unusable.iter().flat_map(|u| u.examples.iter().map(|e| e.row)).collect::<Vec<_>>();
        assert_eq!(examples(&pieces_report), [171, 451]);
        assert_eq!(examples(&whole_report), examples(&pieces_report));
        assert_eq!(pieces_report.duplicate_examples, whole_report.duplicate_examples);
        let categories = pieces.df.column("category").unwrap().cast(&DataType::String).unwrap();
        assert_eq!(categories.str().unwrap().get(0), Some("Bags,\nbig"));
    }

    /// A file in another encoding, decoded as it streams and cut into pieces
    /// of a few hundred bytes (characters cut between reads of the file),
    /// gives the table and report of its UTF-8 twin.
    #[test]
    fn a_decoded_file_in_pieces_reads_as_its_utf8_twin() {
        let mut csv = String::from("客户编号,订单日期,商品,类目,数量,单价,备注\n");
        for i in 0..500 {
            let (day, item, category, quantity) = (1 + i % 28, i % 13, i % 5, 1 + i % 3);
            csv += &format!(
                "{},2024-03-{day:02} 10:00:00,商品{item},类目{category},{quantity},2.5,\"说明\n第{i}行\"\n",
                i % 37
            );
        }
        csv += "5,2024-03-06 10:00:00,商品5,类目0,3,2.5,\"说明\n第5行\"\n"; // repeats row 6
        let dir = tempfile::tempdir().unwrap();
        let utf8 = dir.path().join("utf8.csv");
        std::fs::write(&utf8, &csv).unwrap();
        let (twin, twin_report, _) = load(&utf8, 1 << 20);
        assert_eq!(twin_report.duplicates_removed, 1);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(csv.encode_utf16().flat_map(u16::to_le_bytes));
        for (name, bytes) in [("gbk.csv", encoding_rs::GBK.encode(&csv).0.into_owned()), ("utf16.csv", utf16)] {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let (events, report, counts) = load(&path, 300);
            assert!(counts.pieces > 50 && !counts.undecodable, "{name}: {counts:?}");
            assert!(events.df.equals_missing(&twin.df), "{name}");
            assert_eq!(
                (report.rows_read, report.rows_usable, &report.duplicate_examples),
                (twin_report.rows_read, twin_report.rows_usable, &twin_report.duplicate_examples),
                "{name}"
            );
        }
    }

    /// The fractions a CSV import reports, in order.
    #[derive(Default)]
    struct Fractions(std::sync::Mutex<Vec<f32>>);

    impl Progress for Fractions {
        fn update(&self, fraction: Option<f32>, _: &str) {
            self.0.lock().unwrap().push(fraction.expect("a CSV import knows how far it is"));
        }
        fn is_cancelled(&self) -> bool {
            false
        }
    }

    /// Progress rises with every piece, a piece read again as text among
    /// them, and ends near the end of the file without claiming to be done.
    #[test]
    fn progress_follows_the_bytes_read() {
        let mut csv = String::from("customer_id,timestamp,event_type,quantity\n");
        for i in 0..3000 {
            let quantity = if i == 1500 { "lots" } else { "1" };
            csv += &format!("{},2024-03-01 10:00:00,view,{quantity}\n", i % 50);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        std::fs::write(&path, &csv).unwrap();
        let file = EventsFile::open(&path).unwrap();
        let mapping = map_columns(&file, &[]).unwrap();
        let fractions = Fractions::default();
        let (_, counts) = read_in_pieces(&file, &mapping, &fractions, 8_000).unwrap();
        assert!(counts.read_as_text > 0 && counts.read_as_text < counts.pieces, "{counts:?}");
        let fractions = fractions.0.into_inner().unwrap();
        assert!(fractions.len() >= 10, "{fractions:?}");
        assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
        let last = *fractions.last().unwrap();
        assert!((0.9..=0.99).contains(&last), "{fractions:?}");
    }

    /// A piece read again as text counts its rows from its start again: what
    /// is shown holds until the count passes it, and stays below 1.
    #[test]
    fn shown_progress_never_moves_back() {
        let mut shown = Shown::default();
        assert_eq!(shown.advance(500, Some(0.5)), (500, Some(0.5)));
        assert_eq!(shown.advance(200, Some(0.3)), (500, Some(0.5)), "a piece read again");
        assert_eq!(shown.advance(700, None), (700, None));
        assert_eq!(shown.advance(900, Some(1.0)), (900, Some(0.99)));
    }
}
