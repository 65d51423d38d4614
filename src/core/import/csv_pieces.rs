//! A CSV file read in pieces: each piece is the header line followed by
//! whole rows, a stand-alone CSV that polars parses from memory.
//!
//! Why not let polars map the whole file: the mapped pages of a 500 MB file
//! count in the process's memory for the whole import (half its peak at 10M
//! events), and a file larger than memory could not be read at all. Read in
//! pieces, the import holds one piece of raw text at a time.
//!
//! Each piece of a UTF-8 file is checked to be UTF-8 as it is read; only the
//! start of the file (its first megabyte, checked when it is opened) is read
//! twice. A file in another encoding is decoded to UTF-8 as it is read
//! ([`TextReader`]), before it is cut: pieces are always UTF-8.
//!
//! A line end inside quotes does not end a row, but a quote may be a stray
//! one (`size 5"`): a header still in quotes after [`MAX_HEADER_LINES`]
//! lines, and rows still in quotes after [`STRAY_QUOTE_GROWTH`] times a
//! piece's size, end at a plain line end, so that one stray quote cannot pull
//! the rest of the file into one header or one piece.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars_buffer::Buffer;

use super::ImportError;
use super::encoding::{TextEncoding, TextReader};
use super::source::locate_bad_utf8;

/// About how many bytes of rows each piece holds (a row longer than this
/// makes its piece longer: a piece always ends at a row's end).
pub(super) const PIECE_BYTES: usize = 32 << 20;

/// The quote character polars' CSV reader uses (its default): a line end
/// between an odd and an even quote is inside a field, not the end of a row.
const QUOTE: u8 = b'"';

/// How many times its size a piece may grow looking for a row end outside
/// quotes before its quotes are taken for stray ones.
const STRAY_QUOTE_GROWTH: usize = 8;

/// Does `text` hold an odd number of quotes (so ends inside a quoted field,
/// if it starts outside one)?
fn odd_quotes(text: &[u8]) -> bool {
    memchr::memchr_iter(QUOTE, text).count() % 2 == 1
}

/// Lines a quoted column name may span before its quote is taken for a stray one.
const MAX_HEADER_LINES: usize = 16;

/// Reads the header of a CSV file: its first line, and further lines while a
/// quoted name is still open (a name may hold a line end). A quote still open
/// after [`MAX_HEADER_LINES`] lines is a stray one: the header is then the
/// first line, and the lines read past it come back second, to be read as
/// rows (rather than the whole file becoming the header). Line ends and any
/// byte-order mark are kept: the caller counts the bytes.
pub(super) fn read_header(reader: &mut impl BufRead) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut header = Vec::new();
    let mut first_line = None;
    for _ in 0..MAX_HEADER_LINES {
        let n = reader.read_until(b'\n', &mut header)?;
        first_line.get_or_insert(header.len());
        if n == 0 || !odd_quotes(&header) {
            return Ok((header, Vec::new()));
        }
    }
    let past = header.split_off(first_line.unwrap_or(0));
    Ok((header, past))
}

/// Drops a UTF-8 byte-order mark from the start of `text`.
pub(super) fn strip_bom(text: &mut Vec<u8>) {
    if text.starts_with(&[0xEF, 0xBB, 0xBF]) {
        text.drain(..3);
    }
}

/// One piece: the header line and whole rows.
pub(super) struct CsvPiece {
    pub text: Buffer<u8>,
    /// Bytes of the file read so far, this piece included (about as many, for
    /// a decoded file).
    pub bytes_read: u64,
    /// Line ends in the piece's rows: about its row count, for progress.
    pub lines: usize,
}

/// The pieces of one CSV file, in file order.
pub(super) struct CsvPieces {
    path: PathBuf,
    separator: u8,
    reader: TextReader,
    /// The header line, line end included (without a UTF-8 byte-order mark).
    header: Vec<u8>,
    /// Bytes read after the last piece's end: the start of the next row.
    carry: Vec<u8>,
    piece_bytes: usize,
    /// Bytes of text read (of the file itself, for a UTF-8 file).
    bytes_read: u64,
}

impl CsvPieces {
    /// Opens `path`, whose cells `separator` separates, to read its text in
    /// `encoding` in pieces of about `piece_bytes` ([`PIECE_BYTES`] but in tests).
    pub(super) fn open(
        path: &Path,
        separator: u8,
        encoding: TextEncoding,
        piece_bytes: usize,
    ) -> Result<CsvPieces, ImportError> {
        let io = |e| ImportError::io(path, e);
        let mut reader = BufReader::new(TextReader::open(path, encoding).map_err(io)?);
        let (mut header, mut carry) = read_header(&mut reader).map_err(io)?;
        if let Err(e) = std::str::from_utf8(&header) {
            return Err(locate_bad_utf8(path, e.valid_up_to() as u64, Some(separator)));
        }
        let bytes_read = header.len() as u64;
        strip_bom(&mut header);
        if !header.ends_with(b"\n") {
            header.push(b'\n');
        }
        // What was read past the header starts the first piece.
        carry.extend_from_slice(reader.buffer());
        let bytes_read = bytes_read + carry.len() as u64;
        Ok(CsvPieces {
            path: path.to_path_buf(),
            separator,
            reader: reader.into_inner(),
            header,
            carry,
            piece_bytes: piece_bytes.max(1),
            bytes_read,
        })
    }

    /// The next piece, or `None` after the last row.
    pub(super) fn next_piece(&mut self) -> Result<Option<CsvPiece>, ImportError> {
        let mut text = Vec::with_capacity(self.header.len() + self.piece_bytes + self.carry.len());
        text.extend_from_slice(&self.header);
        let rows_start = text.len();
        text.append(&mut self.carry);
        let mut want = self.piece_bytes;
        loop {
            let at_end = self.fill(&mut text, rows_start + want).map_err(|e| ImportError::io(&self.path, e))?;
            let rows = &text[rows_start..];
            let window = &rows[..want.min(rows.len())];
            let cut = if at_end && rows.len() <= want {
                Some(rows.len())
            } else if want / self.piece_bytes >= STRAY_QUOTE_GROWTH {
                last_row_end(window).or_else(|| memchr::memrchr(b'\n', window).map(|at| at + 1))
            } else {
                last_row_end(window)
            };
            match cut {
                Some(cut) => {
                    self.carry = text.split_off(rows_start + cut);
                    // (Only the end of the file leaves no row to cut after.)
                    if cut == 0 {
                        return Ok(None);
                    }
                    let bytes_read = self.bytes_read - self.carry.len() as u64;
                    // (Decoded text is UTF-8 by construction.)
                    if let TextReader::Utf8(_) = self.reader
                        && let Err(e) = std::str::from_utf8(&text[rows_start..])
                    {
                        let rows_offset = bytes_read - cut as u64;
                        return Err(locate_bad_utf8(
                            &self.path,
                            rows_offset + e.valid_up_to() as u64,
                            Some(self.separator),
                        ));
                    }
                    let lines = memchr::memchr_iter(b'\n', &text[rows_start..]).count();
                    let text = Buffer::from_vec(text);
                    let bytes_read = self.reader.file_offset(bytes_read);
                    return Ok(Some(CsvPiece { text, bytes_read, lines }));
                }
                // One row longer than the piece: read on until it ends.
                None => want = want.saturating_mul(2),
            }
        }
    }

    /// Whether some bytes of a decoded file were not valid in its encoding.
    pub(super) fn had_replacements(&self) -> bool {
        self.reader.had_replacements()
    }

    /// Reads until `text` holds `len` bytes or the file ends; true at the end.
    fn fill(&mut self, text: &mut Vec<u8>, len: usize) -> std::io::Result<bool> {
        let wanted = len.saturating_sub(text.len());
        // `read_to_end` reads into the spare capacity without zeroing it first.
        let n = (&mut self.reader).take(wanted as u64).read_to_end(text)?;
        self.bytes_read += n as u64;
        Ok(n < wanted)
    }
}

/// The length of `rows` up to and including its last line end outside
/// quotes, or `None` when it holds no such line end. `rows` starts at the
/// start of a row, so outside quotes.
fn last_row_end(rows: &[u8]) -> Option<usize> {
    // Quote parity at each line end, counted back from the end of `rows`.
    let mut after_odd = odd_quotes(rows);
    let mut end = rows.len();
    while let Some(newline) = memchr::memrchr(b'\n', &rows[..end]) {
        after_odd ^= odd_quotes(&rows[newline..end]);
        if !after_odd {
            return Some(newline + 1);
        }
        end = newline;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(content: &[u8], piece_bytes: usize) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, content).unwrap();
        let mut reader = CsvPieces::open(&path, b',', TextEncoding::utf8(), piece_bytes).unwrap();
        let mut out = Vec::new();
        while let Some(piece) = reader.next_piece().unwrap() {
            out.push(String::from_utf8(piece.text.to_vec()).unwrap());
        }
        assert_eq!(reader.bytes_read, content.len() as u64);
        out
    }

    #[test]
    fn every_piece_is_the_header_and_whole_rows() {
        let got = pieces(b"a,b\n1,2\n3,4\n5,6\n", 5);
        assert_eq!(got, ["a,b\n1,2\n", "a,b\n3,4\n", "a,b\n5,6\n"]);
        // One piece when the rows fit.
        assert_eq!(pieces(b"a,b\n1,2\n3,4\n", 1 << 20), ["a,b\n1,2\n3,4\n"]);
    }

    #[test]
    fn a_last_row_without_a_line_end_is_kept() {
        assert_eq!(pieces(b"a,b\n1,2\n3,4", 4), ["a,b\n1,2\n", "a,b\n3,4"]);
        assert_eq!(pieces(b"a,b\r\n1,2\r\n3,4\r\n", 6), ["a,b\r\n1,2\r\n", "a,b\r\n3,4\r\n"]);
    }

    #[test]
    fn a_line_end_inside_quotes_does_not_end_a_row() {
        let file = b"name,n\n\"two\nlines\",1\n\"say \"\"hi\"\"\nthere\",2\nplain,3\n";
        // 8 bytes hold no row end outside quotes: the piece grows to 16, then 32.
        let got = pieces(file, 8);
        assert_eq!(got, ["name,n\n\"two\nlines\",1\n", "name,n\n\"say \"\"hi\"\"\nthere\",2\nplain,3\n"]);
        assert_eq!(
            pieces(file, 24),
            ["name,n\n\"two\nlines\",1\n", "name,n\n\"say \"\"hi\"\"\nthere\",2\n", "name,n\nplain,3\n"]
        );
    }

    #[test]
    fn a_row_longer_than_a_piece_makes_its_piece_longer() {
        let long = "x".repeat(1000);
        let last = "z".repeat(30);
        let file = format!("a\n{long}\nshort\n{last}\n");
        let got = pieces(file.as_bytes(), 16);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], format!("a\n{long}\nshort\n"), "grown to 1,024 bytes, cut at its last row end");
        assert_eq!(got[1], format!("a\n{last}\n"));
    }

    #[test]
    fn a_header_only_file_has_no_pieces_and_a_bom_is_dropped() {
        assert!(pieces(b"a,b\n", 8).is_empty());
        assert!(pieces(b"a,b", 8).is_empty());
        assert_eq!(pieces(b"\xEF\xBB\xBFa,b\n1,2\n", 8), ["a,b\n1,2\n"]);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_found_in_any_piece_with_their_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        let mut file = b"a,b\n".to_vec();
        for i in 0..100 {
            file.extend_from_slice(format!("{i},x\n").as_bytes());
        }
        file.extend_from_slice(b"100,caf\xE9\n101,y\n");
        std::fs::write(&path, &file).unwrap();
        let mut reader = CsvPieces::open(&path, b',', TextEncoding::utf8(), 64).unwrap();
        let error = loop {
            match reader.next_piece() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the bad byte was not found"),
                Err(e) => break e,
            }
        };
        match error {
            ImportError::NotUtf8 { line, column, .. } => assert_eq!((line, column.as_deref()), (102, Some("b"))),
            other => panic!("{other}"),
        }
        std::fs::write(&path, b"a,\xFF\n1,2\n").unwrap();
        assert!(matches!(
            CsvPieces::open(&path, b',', TextEncoding::utf8(), 64),
            Err(ImportError::NotUtf8 { line: 1, .. })
        ));
    }

    /// A header longer than the reader's 8 KB buffer and rows read over many
    /// reads: every piece starts with the whole header, the pieces' rows are
    /// the file's rows, and each piece's `bytes_read` ends where it ends.
    #[test]
    fn pieces_of_a_large_file_account_for_every_byte() {
        let header = format!("id,{}\n", "h".repeat(10_000));
        let mut file = header.clone();
        for i in 0..20_000 {
            file += &format!("{i},\"x\ny\"\n");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, &file).unwrap();
        let mut reader = CsvPieces::open(&path, b',', TextEncoding::utf8(), 4096).unwrap();
        let (mut rows, mut count, mut end) = (String::new(), 0, header.len() as u64);
        while let Some(piece) = reader.next_piece().unwrap() {
            let text = String::from_utf8(piece.text.to_vec()).unwrap();
            let body = text.strip_prefix(&header).expect("the whole header first");
            assert!(body.starts_with(|c: char| c.is_ascii_digit()) && body.ends_with("\"\n"), "whole rows");
            end += body.len() as u64;
            assert_eq!(piece.bytes_read, end);
            rows += body;
            count += 1;
        }
        assert!(count > 50, "{count} pieces");
        assert_eq!(header + &rows, file);
    }

    /// A file in another encoding is cut as its UTF-8 text is, and its
    /// pieces' ends reach the end of the file.
    #[test]
    fn a_decoded_file_is_cut_as_its_utf8_text() {
        let mut text = String::from("名称,n\n");
        for i in 0..200 {
            text += &format!("\"两\n行{i}\",{i}\n茶,2\n");
        }
        let utf8_pieces = pieces(text.as_bytes(), 64);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, encoding_rs::GB18030.encode(&text).0).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        let mut reader = CsvPieces::open(&path, b',', TextEncoding::from_label("gb18030").unwrap(), 64).unwrap();
        let (mut got, mut last) = (Vec::new(), 0);
        while let Some(piece) = reader.next_piece().unwrap() {
            assert!(piece.bytes_read >= last && piece.bytes_read <= size, "{} of {size}", piece.bytes_read);
            last = piece.bytes_read;
            got.push(String::from_utf8(piece.text.to_vec()).unwrap());
        }
        assert_eq!(got, utf8_pieces);
        assert_eq!(last, size);
        assert!(!reader.had_replacements());
    }

    /// A quoted column name holding a line end: the header is both lines.
    #[test]
    fn a_header_with_a_quoted_line_end_is_one_header() {
        let got = pieces(b"\"a\nb\",c\n1,2\n3,4\n", 4);
        assert_eq!(got, ["\"a\nb\",c\n1,2\n", "\"a\nb\",c\n3,4\n"]);
    }

    /// A stray quote in the header does not make the whole file the header:
    /// after a few lines the header is its first line again.
    #[test]
    fn a_stray_quote_in_the_header_ends_it_at_its_first_line() {
        let header = "size,note 5\"\n";
        let mut file = String::from(header);
        for i in 10..50 {
            file += &format!("{i},x\n");
        }
        let got = pieces(file.as_bytes(), 5);
        assert_eq!(got.len(), 40, "one row per piece");
        for (piece, i) in got.iter().zip(10..) {
            assert_eq!(piece, &format!("{header}{i},x\n"));
        }
    }

    /// A stray quote in a row does not pull the rest of the file into one
    /// piece: past STRAY_QUOTE_GROWTH times its size a piece ends at a plain
    /// line end.
    #[test]
    fn a_stray_quote_in_a_row_keeps_pieces_small() {
        let mut file = String::from("size,note\n1,5\"\n");
        for i in 0..400 {
            file += &format!("{i},x\n");
        }
        let got = pieces(file.as_bytes(), 16);
        assert!(got.len() > 10, "{} pieces", got.len());
        for piece in &got {
            assert!(piece.len() <= "size,note\n".len() + 16 * STRAY_QUOTE_GROWTH, "{piece:?}");
        }
        let rows: String = got.iter().map(|p| p.strip_prefix("size,note\n").unwrap()).collect();
        assert_eq!(format!("size,note\n{rows}"), file);
    }
}
