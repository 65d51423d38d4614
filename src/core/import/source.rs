//! Opening an events file: format, header, encoding, and the checks that must
//! fail with a clear message before polars ever sees the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::ImportError;
use super::csv_pieces::{read_header, strip_bom};
use super::encoding::{self, FileEncoding, SAMPLE_BYTES, TextEncoding, TextReader};

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
    /// The text encoding of a CSV file and how it was settled (`None` for
    /// Parquet and JSON, which are UTF-8 by definition).
    pub encoding: Option<FileEncoding>,
}

const SEPARATOR_CANDIDATES: [u8; 4] = [b',', b'\t', b';', b'|'];

impl EventsFile {
    /// Checks the file and reads its header (without reading its rows); a
    /// CSV file's encoding is detected.
    pub fn open(path: &Path) -> Result<EventsFile, ImportError> {
        EventsFile::open_with_encoding(path, None)
    }

    /// [`EventsFile::open`], reading a CSV file's text in `encoding` rather
    /// than the one detected (`None`: detect it), unless the file's
    /// byte-order mark names another. Parquet and JSON files ignore it.
    pub fn open_with_encoding(path: &Path, encoding: Option<TextEncoding>) -> Result<EventsFile, ImportError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ImportError::NotFound { path: shown.clone() }
            } else {
                ImportError::io(path, e)
            }
        })?;
        if meta.is_dir() {
            // A dataset written as many Parquet files (as a cluster keeps
            // its logs) is read as one table, its files in name order.
            let files = parquet_files(path).map_err(|e| ImportError::io(path, e))?;
            if files.is_empty() {
                return Err(ImportError::IsDirectory { path: shown });
            }
            let schema = scan(path, FileFormat::Parquet)
                .and_then(|mut lf| lf.collect_schema())
                .map_err(|e| ImportError::polars(&shown, e))?;
            let headers = schema.iter_names().map(|n| n.to_string()).collect();
            return Ok(EventsFile { path: path.to_path_buf(), format: FileFormat::Parquet, headers, encoding: None });
        }
        if meta.len() == 0 {
            return Err(ImportError::EmptyFile { path: shown });
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        let mut file_encoding = None;
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
                // The start of the file settles its encoding, and a UTF-8
                // file has it checked (what a preview of its first rows
                // reads, so that the preview fails with the line and column).
                let sample = encoding::read_start(path, SAMPLE_BYTES).map_err(|e| ImportError::io(path, e))?;
                let whole = sample.len() as u64 >= meta.len();
                let found = encoding::settle(&sample, whole, encoding);
                let header_line = read_header_line(path, found.encoding)?;
                let separator = sniff_separator(&header_line);
                if found.encoding.is_utf8() && found.origin != encoding::EncodingOrigin::Detected {
                    // Detection settles on UTF-8 only for a valid sample; a
                    // given or marked UTF-8 is checked here. The rest is
                    // checked piece by piece as the import reads it.
                    check_utf8_start(path, &sample, whole, separator)?;
                }
                file_encoding = Some(found);
                let headers = split_header(&header_line, separator);
                if headers.iter().all(|h| h.trim().is_empty()) {
                    return Err(ImportError::EmptyFile { path: shown });
                }
                (FileFormat::Csv { separator }, headers)
            }
        };
        Ok(EventsFile { path: path.to_path_buf(), format, headers, encoding: file_encoding })
    }

    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// The format in words, with a CSV file's encoding: `CSV, separator ',',
    /// GBK (detected)`.
    pub fn describe(&self) -> String {
        match &self.encoding {
            Some(e) => format!("{}, {}", self.format.describe(), e.describe()),
            None => self.format.describe(),
        }
    }

    /// The encoding the file's text is read in (UTF-8 for Parquet and JSON).
    pub fn text_encoding(&self) -> TextEncoding {
        self.encoding.map_or_else(TextEncoding::utf8, |e| e.encoding)
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
                let size = std::fs::metadata(&self.path).ok()?.len();
                let mut head = Vec::with_capacity(256 * 1024);
                let mut reader = TextReader::open(&self.path, self.text_encoding()).ok()?;
                (&mut reader).take(256 * 1024).read_to_end(&mut head).ok()?;
                let lines = head.iter().filter(|&&b| b == b'\n').count() as u64;
                let read = reader.file_offset(head.len() as u64).max(1);
                (lines > 1).then(|| size * lines / read)
            }
        }
    }

    /// A lazy scan of the whole file, CSV columns as text (for a preview of
    /// its first rows; the import reads CSV in pieces). A CSV file in another
    /// encoding than UTF-8 is decoded into memory first.
    pub fn scan(&self) -> Result<LazyFrame, ImportError> {
        self.scan_up_to(u64::MAX)
    }

    /// A scan of the file's first rows, for a preview: a file that must be
    /// decoded is decoded only as far as its first megabyte's last line end,
    /// not whole.
    pub fn scan_start(&self) -> Result<LazyFrame, ImportError> {
        self.scan_up_to(SAMPLE_BYTES as u64)
    }

    fn scan_up_to(&self, limit: u64) -> Result<LazyFrame, ImportError> {
        let encoding = self.text_encoding();
        match self.format {
            FileFormat::Csv { separator } if !encoding.is_utf8() => {
                let mut text = Vec::new();
                TextReader::open(&self.path, encoding)
                    .and_then(|reader| reader.take(limit).read_to_end(&mut text))
                    .map_err(|e| ImportError::io(&self.path, e))?;
                if text.len() as u64 >= limit
                    && let Some(end) = memchr::memrchr(b'\n', &text)
                {
                    text.truncate(end + 1);
                }
                scan_csv_text(polars_buffer::Buffer::from_vec(text), separator, &[])
            }
            format => scan(&self.path, format),
        }
        .map_err(|e| ImportError::polars(&self.shown(), e))
    }
}

fn pl_path(path: &Path) -> PolarsResult<PlRefPath> {
    PlRefPath::try_from_path(path)
}

/// The Parquet files (`.parquet`, `.pq`) directly in `dir`, in name order.
pub fn parquet_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        if path.is_file() && matches!(ext.as_deref(), Some("parquet" | "pq")) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn scan(path: &Path, format: FileFormat) -> PolarsResult<LazyFrame> {
    match format {
        FileFormat::Parquet if path.is_dir() => {
            let files = parquet_files(path).map_err(|e| polars_err!(ComputeError: "{}: {e}", path.display()))?;
            let paths = files.iter().map(|f| pl_path(f)).collect::<PolarsResult<Vec<_>>>()?;
            LazyFrame::scan_parquet_files(polars_buffer::Buffer::from_iter(paths), ScanArgsParquet::default())
        }
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

/// Reads the header (without its line end; as UTF-8 text, but for bytes a
/// UTF-8 file holds that are not) and checks that data follows it.
fn read_header_line(path: &Path, encoding: TextEncoding) -> Result<Vec<u8>, ImportError> {
    let shown = path.display().to_string();
    let io = |e| ImportError::io(path, e);
    let mut reader = BufReader::new(TextReader::open(path, encoding).map_err(io)?);
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

/// Fails on the first byte sequence that is not UTF-8 in `sample`, the start
/// of a CSV file (the `whole` file, or cut anywhere), naming its line and column.
fn check_utf8_start(path: &Path, sample: &[u8], whole: bool, separator: u8) -> Result<(), ImportError> {
    match std::str::from_utf8(sample) {
        Ok(_) => Ok(()),
        // A sequence cut by the end of the sample: the rest is not ours to check.
        Err(e) if e.error_len().is_none() && !whole => Ok(()),
        Err(e) => Err(locate_bad_utf8(path, e.valid_up_to() as u64, Some(separator))),
    }
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
    // What the bytes around the bad one look like, for the message.
    let looks_like = File::open(path).ok().and_then(|mut file| {
        use std::io::{Seek, SeekFrom};
        let from = bad_at.saturating_sub(line_start.len() as u64);
        file.seek(SeekFrom::Start(from)).ok()?;
        let mut around = Vec::new();
        file.take(64 << 10).read_to_end(&mut around).ok()?;
        Some(encoding::guess(&around, false).name().to_string())
    });
    ImportError::NotUtf8 { path: shown, line, column, byte_offset: bad_at, looks_like }
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

    /// A UTF-8 file has its start checked when it is opened (what a preview
    /// reads), and the rest as the import reads it, with the same words: one
    /// declared UTF-8 (its byte-order mark, or given) from its first byte, one
    /// detected as UTF-8 past the sample that settled it.
    #[test]
    fn a_file_read_as_utf8_has_bad_bytes_named_by_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let early = dir.path().join("early.csv");
        std::fs::write(&early, b"\xEF\xBB\xBFcustomer_id,timestamp,category\n1,2024-01-01,caf\xE9\n").unwrap();
        match EventsFile::open(&early) {
            Err(ImportError::NotUtf8 { line: 2, column: Some(c), .. }) => assert_eq!(c, "category"),
            other => panic!("{other:?}"),
        }
        let given = dir.path().join("given.csv");
        std::fs::write(&given, b"customer_id,timestamp,category\n1,2024-01-01,caf\xE9\n").unwrap();
        match EventsFile::open_with_encoding(&given, Some(TextEncoding::utf8())) {
            Err(e @ ImportError::NotUtf8 { line: 2, .. }) => {
                let message = e.to_string();
                assert!(
                    message.contains("column 'category'") && message.contains("--encoding windows-1252"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let late = dir.path().join("late.csv");
        let mut text = b"customer_id,timestamp,category\n".to_vec();
        while text.len() <= SAMPLE_BYTES {
            text.extend_from_slice(b"1,2024-01-01,Shoes\n");
        }
        text.extend_from_slice(b"2,2024-01-02,caf\xE9\n");
        std::fs::write(&late, &text).unwrap();
        let opened = EventsFile::open(&late).unwrap();
        assert_eq!(opened.describe(), "CSV, separator ',', UTF-8 (detected)");
        match crate::core::import::load_events(&late, &[]) {
            Err(ImportError::NotUtf8 { column: Some(c), .. }) => assert_eq!(c, "category"),
            other => panic!("{:?}", other.map(|l| l.report.rows_read)),
        }
    }

    /// A preview of a large file that must be decoded decodes its start, in
    /// whole rows, and the rows it shows are the file's first.
    #[test]
    fn a_preview_decodes_only_the_start_of_a_large_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gbk.csv");
        let mut text = String::from("客户编号,订单日期,类目\n");
        let rows = 3 * SAMPLE_BYTES / 20;
        for i in 0..rows {
            text.push_str(&format!("{i},2024-01-01,女装\n"));
        }
        std::fs::write(&path, encoding_rs::GBK.encode(&text).0).unwrap();
        let file = EventsFile::open(&path).unwrap();
        let start = file.scan_start().unwrap().collect().unwrap();
        assert!(start.height() > 8 && start.height() < rows, "{} of {rows} rows", start.height());
        let whole = file.scan().unwrap().collect().unwrap();
        assert_eq!(whole.height(), rows);
        assert_eq!(start, whole.head(Some(start.height())), "the same first rows, none cut");
    }

    /// A small file that is not UTF-8 is read in the encoding it was
    /// detected in: its header, its preview and its rows.
    #[test]
    fn a_file_in_another_encoding_is_read_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin.csv");
        std::fs::write(
            &path,
            b"customer_id;timestamp;cat\xE9gorie\n1;2024-01-01;Caf\xE9 cr\xE8me\n2;2024-01-02;Th\xE9\n",
        )
        .unwrap();
        let file = EventsFile::open(&path).unwrap();
        assert_eq!(file.describe(), "CSV, separator ';', Windows-1252 (detected)");
        assert_eq!(file.headers, ["customer_id", "timestamp", "catégorie"]);
        let head = file.scan().unwrap().collect().unwrap();
        let names = head.column("catégorie").unwrap().str().unwrap().iter().flatten().collect::<Vec<_>>();
        assert_eq!(names, ["Café crème", "Thé"]);
        assert_eq!(file.estimated_rows(), Some(3), "the header counts as a line");
    }
}
