//! The text encoding of a CSV file, and its text read as UTF-8.
//!
//! Shops export CSV as Excel writes it: UTF-8 with or without a byte-order
//! mark, UTF-16 (with a mark, sometimes without), GBK/GB18030 in China,
//! Windows-1252 in the West. The encoding is found from a sample of the
//! file's start ([`detect`]): a byte-order mark; else the NUL bytes of UTF-16
//! text without one; else UTF-8 if the whole sample is valid UTF-8; else the
//! guess of chardetng (the detector Firefox uses on unlabelled pages). The
//! user may name it instead ([`TextEncoding::from_label`]).
//!
//! A UTF-8 file is read as it is (no copy); any other is decoded to UTF-8 as
//! it streams, by encoding_rs (Firefox's decoders, the WHATWG Encoding
//! Standard), so that everything after the reader sees UTF-8 text only.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use encoding_rs::{CoderResult, Decoder, Encoding};

/// Bytes of a file's start that detection reads: also what a UTF-8 file has
/// checked when it is opened.
pub(super) const SAMPLE_BYTES: usize = 1 << 20;

/// An encoding the importer can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextEncoding(&'static Encoding);

impl TextEncoding {
    /// UTF-8, what polars reads.
    pub fn utf8() -> TextEncoding {
        TextEncoding(encoding_rs::UTF_8)
    }

    /// The encoding a label names: any label of the WHATWG Encoding Standard
    /// (`utf-8`, `utf-16le`, `utf-16be`, `gbk`, `gb2312`, `gb18030`,
    /// `windows-1252`, `latin1`, `shift_jis`, `big5`, …; case and surrounding
    /// spaces ignored), plus Windows' `cp936` for GBK. An unknown label is an
    /// error in words.
    pub fn from_label(label: &str) -> Result<TextEncoding, String> {
        let trimmed = label.trim();
        let lower = trimmed.to_ascii_lowercase();
        let known = match lower.as_str() {
            "cp936" | "ms936" | "windows-936" => Some(encoding_rs::GBK),
            "utf8bom" | "utf-8-bom" | "utf-8-sig" | "utf8-sig" => Some(encoding_rs::UTF_8),
            _ => Encoding::for_label(trimmed.as_bytes()),
        };
        match known {
            // The "replacement" encoding (labels such as iso-2022-kr) decodes
            // every byte to U+FFFD: never what a user means.
            Some(e) if e != encoding_rs::REPLACEMENT => Ok(TextEncoding(e)),
            _ => Err(format!(
                "unknown encoding {trimmed:?}; use a name such as utf-8, utf-16le, utf-16be, gbk, gb18030, \
                 windows-1252, shift_jis or big5"
            )),
        }
    }

    /// The encoding's name as people write it: `UTF-8`, `GBK`, `GB18030`,
    /// `Windows-1252`, `UTF-16LE`, `Shift_JIS`, ….
    pub fn name(self) -> String {
        let name = self.0.name();
        match name.strip_prefix("windows-") {
            Some(page) => format!("Windows-{page}"),
            None if name == "gb18030" => "GB18030".into(),
            None => name.to_string(),
        }
    }

    pub fn is_utf8(self) -> bool {
        self.0 == encoding_rs::UTF_8
    }

    pub(super) fn encoding(self) -> &'static Encoding {
        self.0
    }
}

/// How the encoding of a file was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodingOrigin {
    /// Named by the user.
    Given,
    /// Its byte-order mark.
    ByteOrderMark,
    /// Detected from a sample of the file's start.
    Detected,
}

/// A file's encoding and how it was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileEncoding {
    pub encoding: TextEncoding,
    pub origin: EncodingOrigin,
}

impl FileEncoding {
    /// In words: `GBK (detected)`, `UTF-8 (byte-order mark)`, `Windows-1252 (given)`.
    pub fn describe(&self) -> String {
        let how = match self.origin {
            EncodingOrigin::Given => "given",
            EncodingOrigin::ByteOrderMark => "byte-order mark",
            EncodingOrigin::Detected => "detected",
        };
        format!("{} ({how})", self.encoding.name())
    }
}

/// The encoding to read a file in whose first bytes are `sample` (`whole`
/// when the sample is the whole file): the one `given`, unless the file's
/// byte-order mark names another (a mark is never wrong: UTF-8 bytes EF BB BF
/// read as GBK would only be a stray character before the first column's name);
/// else the one detected.
pub(super) fn settle(sample: &[u8], whole: bool, given: Option<TextEncoding>) -> FileEncoding {
    match (given, Encoding::for_bom(sample)) {
        (Some(given), None) => FileEncoding { encoding: given, origin: EncodingOrigin::Given },
        (Some(given), Some((marked, _))) if marked == given.0 => {
            FileEncoding { encoding: given, origin: EncodingOrigin::Given }
        }
        _ => detect(sample, whole),
    }
}

/// The encoding of a file whose first bytes are `sample` (`whole` when the
/// sample is the whole file): see the module's documentation.
pub(super) fn detect(sample: &[u8], whole: bool) -> FileEncoding {
    let found = |e: &'static Encoding, origin| FileEncoding { encoding: TextEncoding(e), origin };
    if let Some((e, _)) = Encoding::for_bom(sample) {
        return found(e, EncodingOrigin::ByteOrderMark);
    }
    // UTF-16 text of mostly ASCII characters is valid UTF-8 (NUL is a
    // character): look at its NUL bytes first.
    if let Some(e) = utf16_by_nuls(sample) {
        return found(e, EncodingOrigin::Detected);
    }
    if valid_utf8(sample, whole) {
        return found(encoding_rs::UTF_8, EncodingOrigin::Detected);
    }
    found(guess(sample, whole), EncodingOrigin::Detected)
}

/// chardetng's guess for bytes that are not UTF-8 (never UTF-8 itself, nor
/// ISO-2022-JP, whose escapes no spreadsheet writes), with a second look at
/// its Japanese and Korean guesses ([`not_japanese_or_korean`]).
pub(super) fn guess(sample: &[u8], whole: bool) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, whole);
    let guessed = detector.guess(None, chardetng::Utf8Detection::Deny);
    if not_japanese_or_korean(sample, whole, guessed) { encoding_rs::GBK } else { guessed }
}

/// Is a guess of EUC-JP or EUC-KR really Chinese in GBK? On short or
/// repetitive samples (a few product names over and over) chardetng may pick
/// EUC-JP or EUC-KR for GBK text: all three write a character as two bytes
/// from the same range, so GBK text is valid in both. But Japanese is never
/// written without kana, nor Korean with more than a few Chinese characters
/// among its Hangul, and GBK text read as EUC-JP has no kana, read as EUC-KR
/// about as many Chinese characters as Hangul. Such a guess is taken for GBK
/// when the sample is valid GBK.
fn not_japanese_or_korean(sample: &[u8], whole: bool, guessed: &'static Encoding) -> bool {
    if guessed != encoding_rs::EUC_JP && guessed != encoding_rs::EUC_KR {
        return false;
    }
    // Whole lines only: the sample may end inside a character.
    let lines = if whole { sample } else { &sample[..memchr::memrchr(b'\n', sample).map_or(0, |at| at + 1)] };
    if encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(lines).is_none() {
        return false;
    }
    let (as_guessed, _) = guessed.decode_without_bom_handling(lines);
    let (mut kana, mut hangul, mut han) = (0usize, 0usize, 0usize);
    for c in as_guessed.chars() {
        // Kana (and half-width katakana); Hangul syllables; CJK ideographs.
        match u32::from(c) {
            0x3041..=0x30FF | 0xFF66..=0xFF9F => kana += 1,
            0xAC00..=0xD7A3 => hangul += 1,
            0x4E00..=0x9FFF | 0xF900..=0xFAFF => han += 1,
            _ => {}
        }
    }
    if guessed == encoding_rs::EUC_JP { kana == 0 } else { han * 10 >= han + hangul }
}

/// Is `sample` UTF-8, but for a character cut by its end (when it is not the
/// whole file)?
fn valid_utf8(sample: &[u8], whole: bool) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => !whole && e.error_len().is_none(),
    }
}

/// UTF-16 without a byte-order mark, known by its NUL bytes: the high byte of
/// every ASCII character (digits, separators, line ends, Latin letters).
/// Little-endian text has them at odd offsets, big-endian at even ones; text
/// in any 8-bit encoding or UTF-8 has none at all.
fn utf16_by_nuls(sample: &[u8]) -> Option<&'static Encoding> {
    let pairs = &sample[..sample.len().min(4096) & !1];
    if pairs.len() < 4 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in pairs.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    // A CSV's separators and line ends alone are a few per cent of its
    // characters; a NUL in both halves of one pair (U+0000) is not text.
    let units = pairs.len() / 2;
    let enough = |n: usize| n * 20 >= units;
    if enough(odd) && even * 10 < odd {
        Some(encoding_rs::UTF_16LE)
    } else if enough(even) && odd * 10 < even {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Reads up to `limit` bytes of the start of `path` (fewer only at its end).
pub(super) fn read_start(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    let mut sample = Vec::with_capacity(limit.min(1 << 20));
    File::open(path)?.take(limit as u64).read_to_end(&mut sample)?;
    Ok(sample)
}

/// A file's text as UTF-8: the file itself when it is UTF-8, else decoded
/// as it is read.
pub(super) enum TextReader {
    Utf8(File),
    Decoded(Box<DecodingReader<File>>),
}

impl TextReader {
    /// Opens `path` to read its text in `encoding`. A decoded file loses its
    /// byte-order mark; a UTF-8 one keeps it (its readers drop it).
    pub(super) fn open(path: &Path, encoding: TextEncoding) -> io::Result<TextReader> {
        let file = File::open(path)?;
        Ok(if encoding.is_utf8() {
            TextReader::Utf8(file)
        } else {
            TextReader::Decoded(Box::new(DecodingReader::new(file, encoding.encoding())))
        })
    }

    /// About how far into the file `text_bytes` bytes of its text reach (for
    /// progress): the same number for UTF-8, else in proportion to what the
    /// decoder has read and written so far.
    pub(super) fn file_offset(&self, text_bytes: u64) -> u64 {
        match self {
            TextReader::Utf8(_) => text_bytes,
            TextReader::Decoded(d) if d.written > 0 => {
                (text_bytes as f64 * d.consumed as f64 / d.written as f64).round() as u64
            }
            TextReader::Decoded(_) => 0,
        }
    }

    /// Whether some bytes were not valid in the encoding (decoded as U+FFFD).
    pub(super) fn had_replacements(&self) -> bool {
        matches!(self, TextReader::Decoded(d) if d.replaced)
    }
}

impl Read for TextReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            TextReader::Utf8(f) => f.read(buf),
            TextReader::Decoded(d) => d.read(buf),
        }
    }
}

/// Bytes read from the source per refill.
const RAW_BLOCK: usize = 1 << 16;

/// Reads a source in a legacy encoding as UTF-8 text, decoding as it goes
/// (malformed sequences become U+FFFD, as a spreadsheet shows them).
pub(super) struct DecodingReader<R> {
    source: R,
    decoder: Decoder,
    raw: Vec<u8>,
    /// `raw[start..end]` is read from the source and not yet decoded.
    start: usize,
    end: usize,
    source_done: bool,
    /// The decoder has seen the end of the stream: it must not be used again.
    finished: bool,
    /// Decoded text that did not fit into a caller's small buffer.
    pending: Vec<u8>,
    pending_at: usize,
    /// Bytes taken from the source and bytes of text given out.
    consumed: u64,
    written: u64,
    replaced: bool,
}

impl<R: Read> DecodingReader<R> {
    pub(super) fn new(source: R, encoding: &'static Encoding) -> DecodingReader<R> {
        DecodingReader {
            source,
            decoder: encoding.new_decoder_with_bom_removal(),
            raw: vec![0; RAW_BLOCK],
            start: 0,
            end: 0,
            source_done: false,
            finished: false,
            pending: Vec::new(),
            pending_at: 0,
            consumed: 0,
            written: 0,
            replaced: false,
        }
    }

    /// Decodes into `dst` (at least 4 bytes); 0 only at the end.
    fn decode_into(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.finished {
                return Ok(0);
            }
            if self.start == self.end && !self.source_done {
                let n = loop {
                    match self.source.read(&mut self.raw) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                self.start = 0;
                self.end = n;
                self.source_done = n == 0;
            }
            let last = self.source_done;
            let (result, read, written, replaced) =
                self.decoder.decode_to_utf8(&self.raw[self.start..self.end], dst, last);
            self.start += read;
            self.consumed += read as u64;
            self.written += written as u64;
            self.replaced |= replaced;
            if last && result == CoderResult::InputEmpty {
                self.finished = true;
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pending_at == self.pending.len() && buf.len() >= 16 {
            return self.decode_into(buf);
        }
        if self.pending_at == self.pending.len() {
            let mut staging = std::mem::take(&mut self.pending);
            staging.resize(64, 0);
            let n = self.decode_into(&mut staging)?;
            staging.truncate(n);
            self.pending = staging;
            self.pending_at = 0;
        }
        let n = (self.pending.len() - self.pending_at).min(buf.len());
        buf[..n].copy_from_slice(&self.pending[self.pending_at..self.pending_at + n]);
        self.pending_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{text:?} in {}", encoding.name());
        bytes.into_owned()
    }

    fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if little { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
        }
        for unit in text.encode_utf16() {
            out.extend_from_slice(&if little { unit.to_le_bytes() } else { unit.to_be_bytes() });
        }
        out
    }

    fn detected(bytes: &[u8]) -> String {
        detect(bytes, true).describe()
    }

    const CHINESE: &str = "客户编号,订单日期,商品,数量,单价\n\
        10001,2024-03-01 10:00:00,绿茶礼盒,2,38.5\n\
        10002,2024-03-02 11:30:00,手工香皂,1,12\n\
        10001,2024-03-05 09:15:00,陶瓷茶杯,4,25\n";

    #[test]
    fn byte_order_marks_name_their_encoding() {
        let text = "customer_id,timestamp\n1,2024-01-01\n";
        assert_eq!(detected(&[b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()), "UTF-8 (byte-order mark)");
        assert_eq!(detected(&utf16(text, true, true)), "UTF-16LE (byte-order mark)");
        assert_eq!(detected(&utf16(text, false, true)), "UTF-16BE (byte-order mark)");
    }

    #[test]
    fn utf16_without_a_mark_is_known_by_its_nul_bytes() {
        let text = "customer_id,timestamp,category\n1,2024-01-01,Café\n2,2024-01-02,绿茶\n";
        assert_eq!(detected(&utf16(text, true, false)), "UTF-16LE (detected)");
        assert_eq!(detected(&utf16(text, false, false)), "UTF-16BE (detected)");
        // Chinese headers: NULs only in the separators, digits and line ends.
        assert_eq!(detected(&utf16(CHINESE, true, false)), "UTF-16LE (detected)");
    }

    #[test]
    fn valid_utf8_is_utf8_and_a_character_cut_by_the_sample_does_not_count() {
        assert_eq!(detected(CHINESE.as_bytes()), "UTF-8 (detected)");
        assert_eq!(detected(b"customer_id,timestamp\n1,2024-01-01\n"), "UTF-8 (detected)", "ASCII is UTF-8");
        let cut = &CHINESE.as_bytes()[..CHINESE.find("绿").unwrap() + 1];
        assert_eq!(detect(cut, false).describe(), "UTF-8 (detected)");
        assert_ne!(detect(cut, true).describe(), "UTF-8 (detected)", "cut at the end of the file: not UTF-8");
    }

    #[test]
    fn gbk_and_windows_1252_are_guessed() {
        assert_eq!(detected(&encode(CHINESE, encoding_rs::GBK)), "GBK (detected)");
        let western = "customer_id,timestamp,product,category\n\
            1,2024-01-01,Café crème,Boissons\n2,2024-01-02,Crème brûlée,Desserts\n3,2024-01-03,Pâté,Épicerie\n";
        assert_eq!(detected(&encode(western, encoding_rs::WINDOWS_1252)), "Windows-1252 (detected)");
        // One accented letter in a short file.
        let one =
            encode("customer_id,timestamp,category\n1,2024-01-01,Toys\n2,2024-01-02,Café\n", encoding_rs::WINDOWS_1252);
        assert_eq!(detected(&one), "Windows-1252 (detected)");
    }

    /// Short or repetitive Chinese samples chardetng alone takes for
    /// Japanese or Korean are GBK. (Japanese, Korean and Traditional Chinese
    /// files stay what they are: tests/import_encodings.rs, whose characters
    /// the app's fonts need not draw.)
    #[test]
    fn chinese_is_not_taken_for_japanese_or_korean() {
        let one_row = "客户编号,订单日期,商品,数量,单价\n10001,2024-03-01,绿茶,2,38.5\n";
        let mut repeated = String::from(CHINESE);
        while repeated.len() < 2 * SAMPLE_BYTES {
            repeated += "10003,2024-03-06 09:15:00,陶瓷茶杯,茶具,1,25\n";
        }
        for text in [one_row, &repeated] {
            let bytes = encode(text, encoding_rs::GBK);
            let sample = &bytes[..bytes.len().min(SAMPLE_BYTES)];
            assert_eq!(detect(sample, sample.len() == bytes.len()).describe(), "GBK (detected)", "{}", &text[..60]);
        }
    }

    #[test]
    fn a_given_encoding_is_used_unless_a_byte_order_mark_names_another() {
        let gbk = TextEncoding::from_label("gbk").unwrap();
        let text = encode(CHINESE, encoding_rs::GBK);
        assert_eq!(settle(&text, true, Some(gbk)).describe(), "GBK (given)");
        assert_eq!(settle(&text, true, None).describe(), "GBK (detected)");
        let latin = TextEncoding::from_label("latin1").unwrap();
        assert_eq!(settle(&text, true, Some(latin)).describe(), "Windows-1252 (given)", "the user's word");
        let marked = [b"\xEF\xBB\xBF".as_slice(), CHINESE.as_bytes()].concat();
        assert_eq!(settle(&marked, true, Some(gbk)).describe(), "UTF-8 (byte-order mark)");
        let utf8 = TextEncoding::utf8();
        assert_eq!(settle(&marked, true, Some(utf8)).describe(), "UTF-8 (given)");
        let utf16 = utf16(CHINESE, true, true);
        assert_eq!(settle(&utf16, true, Some(utf8)).describe(), "UTF-16LE (byte-order mark)");
    }

    #[test]
    fn labels_name_encodings_and_an_unknown_one_is_an_error() {
        for (label, name) in [
            ("gbk", "GBK"),
            ("GB2312", "GBK"),
            ("cp936", "GBK"),
            ("gb18030", "GB18030"),
            ("windows-1252", "Windows-1252"),
            ("latin1", "Windows-1252"),
            (" utf-8 ", "UTF-8"),
            ("utf8", "UTF-8"),
            ("utf-16le", "UTF-16LE"),
            ("utf-16", "UTF-16LE"),
            ("utf-16be", "UTF-16BE"),
            ("shift_jis", "Shift_JIS"),
        ] {
            assert_eq!(TextEncoding::from_label(label).map(TextEncoding::name), Ok(name.to_string()), "{label}");
        }
        for label in ["klingon", "", "iso-2022-kr"] {
            let e = TextEncoding::from_label(label).unwrap_err();
            assert!(e.contains("unknown encoding") && e.contains("gbk"), "{e}");
        }
    }

    /// Decoding in reads of every size gives the text decoded whole, also
    /// with a character cut between two refills of the source.
    #[test]
    fn decoding_in_small_reads_gives_the_whole_text() {
        let text = CHINESE.repeat(3000);
        let bytes = encode(&text, encoding_rs::GBK);
        for size in [1, 3, 7, 16, 1000, 1 << 20] {
            let mut reader = DecodingReader::new(bytes.as_slice(), encoding_rs::GBK);
            let mut out = Vec::new();
            let mut buf = vec![0u8; size];
            loop {
                let n = reader.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            assert_eq!(String::from_utf8(out).unwrap(), text, "reads of {size}");
            assert_eq!((reader.consumed, reader.written), (bytes.len() as u64, text.len() as u64));
            assert!(!reader.replaced);
        }
        let mut with_bom = utf16(&text, true, true);
        let mut out = String::new();
        DecodingReader::new(with_bom.as_slice(), encoding_rs::UTF_16LE).read_to_string(&mut out).unwrap();
        assert_eq!(out, text, "the byte-order mark is dropped");
        with_bom.push(0xD8); // half a code unit at the end
        let mut reader = DecodingReader::new(with_bom.as_slice(), encoding_rs::UTF_16LE);
        out.clear();
        reader.read_to_string(&mut out).unwrap();
        assert!(out.ends_with('\u{FFFD}') && reader.replaced);
    }
}
