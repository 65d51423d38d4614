//! Opening an events file: format, header, encoding, and the checks that must
//! fail with a clear message before polars ever sees the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::ImportError;
use super::csv_pieces::{read_header, strip_bom};

/// The file formats DATA.md §1 accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv { separator: u8 },
    Parquet,
    NdJson,
}

impl FileFormat {
    pub fn describe(self) -> String {
        match self {
            FileFormat::Csv { separator: b'\t' } => "CSV, tab-separated".into(),
            FileFormat::Csv { separator } => format!("CSV, separator '{}'", separator as char),
            FileFormat::Parquet => "Parquet".into(),
            FileFormat::NdJson => "newline-delimited JSON".into(),
        }
    }
}

/// An events file that exists, is readable, and has a header.
#[derive(Clone, Debug)]
pub struct EventsFile {
    pub path: PathBuf,
    pub format: FileFormat,
    /// Column names as the file spells them.
    pub headers: Vec<String>,
}

/// Bytes of a CSV file checked to be UTF-8 when it is opened: what a preview
/// of its first rows reads, so that the preview fails with the line and column.
const CHECKED_AT_OPEN: u64 = 1 << 20;

const SEPARATOR_CANDIDATES: [u8; 4] = [b',', b'\t', b';', b'|'];

impl EventsFile {
    /// Checks the file and reads its header (without reading its rows).
    pub fn open(path: &Path) -> Result<EventsFile, ImportError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ImportError::NotFound { path: shown.clone() }
            } else {
                ImportError::io(path, e)
            }
        })?;
        if meta.is_dir() {
            return Err(ImportError::IsDirectory { path: shown });
        }
        if meta.len() == 0 {
            return Err(ImportError::EmptyFile { path: shown });
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        let (format, headers) = match ext.as_str() {
            "parquet" | "pq" => {
                let schema = scan(path, FileFormat::Parquet)
                    .and_then(|mut lf| lf.collect_schema())
                    .map_err(|e| ImportError::polars(&shown, e))?;
                (FileFormat::Parquet, schema.iter_names().map(|n| n.to_string()).collect())
            }
            "json" | "ndjson" | "jsonl" => {
                check_utf8(path, None, u64::MAX)?;
                let schema = scan(path, FileFormat::NdJson)
                    .and_then(|mut lf| lf.collect_schema())
                    .map_err(|e| ImportError::polars(&shown, e))?;
                (FileFormat::NdJson, schema.iter_names().map(|n| n.to_string()).collect())
            }
            _ => {
                let header_line = read_header_line(path)?;
                let separator = sniff_separator(&header_line);
                // The rest is checked piece by piece as the import reads it.
                check_utf8(path, Some(separator), CHECKED_AT_OPEN)?;
                let headers = split_header(&header_line, separator);
                if headers.iter().all(|h| h.trim().is_empty()) {
                    return Err(ImportError::EmptyFile { path: shown });
                }
                (FileFormat::Csv { separator }, headers)
            }
        };
        Ok(EventsFile { path: path.to_path_buf(), format, headers })
    }

    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// About how many data rows the file holds, for a progress bar: Parquet
    /// knows (its metadata); text files are guessed from their size and the
    /// line length of their first 256 KB.
    pub fn estimated_rows(&self) -> Option<u64> {
        match self.format {
            FileFormat::Parquet => {
                let counted = scan(&self.path, FileFormat::Parquet).and_then(|lf| lf.select([len()]).collect()).ok()?;
                counted.column("len").ok()?.cast(&DataType::UInt64).ok()?.u64().ok()?.get(0)
            }
            FileFormat::Csv { .. } | FileFormat::NdJson => {
                use std::io::Read;
                let size = std::fs::metadata(&self.path).ok()?.len();
                let mut head = vec![0u8; 256 * 1024];
                let read = std::fs::File::open(&self.path).ok()?.read(&mut head).ok()?;
                let lines = head[..read].iter().filter(|&&b| b == b'\n').count() as u64;
                (lines > 1).then(|| size * lines / read as u64)
            }
        }
    }

    /// A lazy scan of the whole file, CSV columns as text (for a preview of
    /// its first rows; the import reads CSV in pieces).
    pub fn scan(&self) -> Result<LazyFrame, ImportError> {
        scan(&self.path, self.format).map_err(|e| ImportError::polars(&self.shown(), e))
    }
}

fn pl_path(path: &Path) -> PolarsResult<PlRefPath> {
    PlRefPath::try_from_path(path)
}

fn scan(path: &Path, format: FileFormat) -> PolarsResult<LazyFrame> {
    match format {
        FileFormat::Parquet => LazyFrame::scan_parquet(pl_path(path)?, ScanArgsParquet::default()),
        FileFormat::NdJson => {
            LazyJsonLineReader::new(pl_path(path)?).with_infer_schema_length(std::num::NonZeroUsize::new(1000)).finish()
        }
        FileFormat::Csv { separator } => csv_reader(LazyCsvReader::new(pl_path(path)?), separator, &[]).finish(),
    }
}

/// A lazy scan of CSV text held in memory (a piece of a file: its header line
/// and whole rows), read as [`EventsFile::scan`] reads a file, except
/// `numeric_columns`, read as `f64` (a fast path: if one of them holds text
/// that is not a number, the scan fails and the caller reads the piece again
/// with every column as text).
pub(super) fn scan_csv_text(
    text: polars_buffer::Buffer<u8>,
    separator: u8,
    numeric_columns: &[&str],
) -> PolarsResult<LazyFrame> {
    let sources = ScanSources::Buffers(Arc::from([text]));
    csv_reader(LazyCsvReader::new_with_sources(sources), separator, numeric_columns).finish()
}

fn csv_reader(reader: LazyCsvReader, separator: u8, numeric_columns: &[&str]) -> LazyCsvReader {
    let numbers: Schema = numeric_columns.iter().map(|c| Field::new((*c).into(), DataType::Float64)).collect();
    reader
        .with_separator(separator)
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_dtype_overwrite((!numbers.is_empty()).then(|| Arc::new(numbers)))
        .with_truncate_ragged_lines(true)
        .with_glob(false)
}

/// Reads the header (without its line end) and checks that data follows it.
fn read_header_line(path: &Path) -> Result<Vec<u8>, ImportError> {
    let shown = path.display().to_string();
    let io = |e| ImportError::io(path, e);
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let (mut line, past) = read_header(&mut reader).map_err(io)?;
    // Is there anything but blank lines after the header?
    let mut rest = [0u8; 65_536];
    let mut has_data = past.iter().any(|b| !b.is_ascii_whitespace());
    while !has_data {
        let n = reader.read(&mut rest).map_err(io)?;
        if n == 0 {
            break;
        }
        if rest[..n].iter().any(|b| !b.is_ascii_whitespace()) {
            has_data = true;
            break;
        }
    }
    if !has_data {
        return Err(ImportError::HeaderOnly { path: shown });
    }
    strip_bom(&mut line);
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

/// Picks the separator that occurs most often outside quotes in the header.
fn sniff_separator(header: &[u8]) -> u8 {
    let mut counts = [0usize; SEPARATOR_CANDIDATES.len()];
    let mut in_quotes = false;
    for &b in header {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && let Some(i) = SEPARATOR_CANDIDATES.iter().position(|&c| c == b) {
            counts[i] += 1;
        }
    }
    let best = (0..counts.len()).max_by_key(|&i| (counts[i], usize::MAX - i)).unwrap_or(0);
    if counts[best] == 0 { b',' } else { SEPARATOR_CANDIDATES[best] }
}

fn split_header(header: &[u8], separator: u8) -> Vec<String> {
    let text = String::from_utf8_lossy(header);
    let mut out = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    for c in text.chars() {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && c == separator as char {
            out.push(std::mem::take(&mut field));
        } else {
            field.push(c);
        }
    }
    out.push(field);
    out
}

/// Fails on the first byte sequence that is not UTF-8 in the first `limit`
/// bytes, naming its line and (for CSV, with its `separator`) its column.
/// Reads in large blocks.
fn check_utf8(path: &Path, separator: Option<u8>, limit: u64) -> Result<(), ImportError> {
    let io = |e| ImportError::io(path, e);
    let mut file = File::open(path).map_err(io)?.take(limit);
    let mut buf = vec![0u8; (8 << 20).min(limit as usize)];
    let mut carry = 0usize;
    let mut offset = 0u64; // absolute offset of buf[0]
    loop {
        let n = file.read(&mut buf[carry..]).map_err(io)?;
        let filled = carry + n;
        if filled == 0 {
            return Ok(());
        }
        let at_limit = offset + filled as u64 == limit;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => {
                if n == 0 {
                    return Ok(());
                }
                offset += filled as u64;
                carry = 0;
            }
            // A sequence cut by the limit: the rest is not ours to check.
            Err(e) if e.error_len().is_none() && at_limit => return Ok(()),
            Err(e) if e.error_len().is_none() && n != 0 => {
                // A sequence cut by the block boundary: carry it over.
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                offset += valid as u64;
                carry = filled - valid;
            }
            Err(e) => {
                let bad_at = offset + e.valid_up_to() as u64;
                return Err(locate_bad_utf8(path, bad_at, separator));
            }
        }
    }
}

/// The error for a byte sequence that is not UTF-8 at offset `bad_at`, with its
/// line and (for CSV) its column.
pub(super) fn locate_bad_utf8(path: &Path, bad_at: u64, separator: Option<u8>) -> ImportError {
    let shown = path.display().to_string();
    let mut line = 1u64;
    let mut line_start = Vec::new();
    let mut header = Vec::new();
    if let Ok(file) = File::open(path) {
        let mut reader = BufReader::new(file.take(bad_at));
        let mut current = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut current) {
            if n == 0 {
                break;
            }
            if current.ends_with(b"\n") {
                if line == 1 {
                    header = current.clone();
                }
                line += 1;
                current.clear();
            } else {
                line_start = current.clone();
                break;
            }
        }
    }
    let column = separator.and_then(|sep| {
        if line == 1 {
            return None;
        }
        let index = line_start.iter().filter(|&&b| b == sep).count();
        split_header(&header, sep).get(index).map(|h| h.trim_end().to_string())
    });
    ImportError::NotUtf8 { path: shown, line, column, byte_offset: bad_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_separators() {
        assert_eq!(sniff_separator(b"a,b,c"), b',');
        assert_eq!(sniff_separator(b"a;b;c"), b';');
        assert_eq!(sniff_separator(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_separator(b"a|b"), b'|');
        assert_eq!(sniff_separator(b"\"x;y\",b"), b',');
        assert_eq!(sniff_separator(b"single"), b',');
    }

    #[test]
    fn splits_quoted_header() {
        assert_eq!(split_header(b"\"Customer ID\",date", b','), vec!["Customer ID", "date"]);
    }

    /// Opening a CSV file checks what a preview reads (its first megabyte) to
    /// be UTF-8; bytes past that are found by the import, with the same words.
    #[test]
    fn opening_checks_the_start_of_a_csv_file_and_the_import_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let early = dir.path().join("early.csv");
        std::fs::write(&early, b"customer_id,timestamp,category\n1,2024-01-01,caf\xE9\n").unwrap();
        match EventsFile::open(&early) {
            Err(ImportError::NotUtf8 { line: 2, column: Some(c), .. }) => assert_eq!(c, "category"),
            other => panic!("{other:?}"),
        }
        let late = dir.path().join("late.csv");
        let mut text = b"customer_id,timestamp,category\n".to_vec();
        while text.len() <= CHECKED_AT_OPEN as usize {
            text.extend_from_slice(b"1,2024-01-01,Shoes\n");
        }
        text.extend_from_slice(b"2,2024-01-02,caf\xE9\n");
        std::fs::write(&late, &text).unwrap();
        assert!(EventsFile::open(&late).is_ok());
        match crate::core::import::load_events(&late, &[]) {
            Err(ImportError::NotUtf8 { column: Some(c), .. }) => assert_eq!(c, "category"),
            other => panic!("{:?}", other.map(|l| l.report.rows_read)),
        }
    }
}
