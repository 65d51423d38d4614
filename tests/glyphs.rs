//! Every character the app can draw has a glyph in the fonts it bundles: the
//! non-ASCII characters of the source outside comments (labels, messages,
//! segment names, sample product names, `\u{..}` escapes) and of the sample
//! product table. A new symbol without a glyph would show as a tofu box on a
//! machine without system fonts (and make the GUI tests panic there); this test
//! names it with its file and line on every machine. The fix: add it to
//! assets/fonts/NotoSansSC-chars.txt (hanzi) or DejaVuSans-symbols.txt
//! (symbols) and rebuild that subset (see assets/fonts/README.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use egui::{FontFamily, FontId};
use promo_studio::app::theme;

/// A character found in a file, with its 1-based line.
#[derive(Debug, PartialEq)]
struct Found {
    c: char,
    line: usize,
}

/// The non-ASCII characters of Rust source outside comments, and the
/// characters written as `\u{..}` escapes in string and char literals.
///
/// A small lexer, enough to tell comments from literals: line and (nested)
/// block comments, strings with escapes, raw strings (`r#"…"#`, `br""`,
/// `cr""`), char literals and lifetimes. A `//` inside a string is no comment.
fn source_chars(text: &str) -> Vec<Found> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Counts the newlines of chars[from..to].
    let newlines = |from: usize, to: usize| chars[from..to].iter().filter(|&&c| c == '\n').count();
    let push = |c: char, line: usize, found: &mut Vec<Found>| {
        if !c.is_ascii() {
            found.push(Found { c, line });
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let ident_start = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let (start, mut depth) = (i, 0);
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            line += newlines(start, i.min(chars.len()));
        } else if let Some(hashes) = raw_string_start(&chars, i).filter(|_| ident_start) {
            // Skip the prefix, the hashes and the opening quote; no escapes inside.
            while chars[i] != '"' {
                i += 1;
            }
            i += 1;
            let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                if chars[i] == '\n' {
                    line += 1;
                }
                push(chars[i], line, &mut found);
                i += 1;
            }
            i += closing.len();
        } else if c == '"' {
            i = literal(&chars, i + 1, '"', &mut line, &mut |c, line| push(c, line, &mut found));
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\u{25B6}'); otherwise a lifetime or label.
            i = literal(&chars, i + 1, '\'', &mut line, &mut |c, line| push(c, line, &mut found));
        } else {
            if c == '\n' {
                line += 1;
            }
            push(c, line, &mut found);
            i += 1;
        }
    }
    found
}

/// If a raw string (`r"`, `r#"`, `br"`, `cr##"`, ...) starts at `i`, its number of hashes.
fn raw_string_start(chars: &[char], mut i: usize) -> Option<usize> {
    if matches!(chars[i], 'b' | 'c') {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    (chars.get(i + hashes) == Some(&'"')).then_some(hashes)
}

/// Reads a string or char literal from `i` (after the opening quote) to its
/// closing `quote`, handing each character (escapes decoded) to `found`.
/// Returns the index after the closing quote.
fn literal(chars: &[char], mut i: usize, quote: char, line: &mut usize, found: &mut impl FnMut(char, usize)) -> usize {
    while i < chars.len() && chars[i] != quote {
        match chars[i] {
            '\\' if chars.get(i + 1) == Some(&'u') => {
                let close = i + chars[i..].iter().position(|&c| c == '}').expect("a closed \\u{..} escape");
                let hex: String = chars[i + 3..close].iter().filter(|&&c| c != '_').collect();
                let code = u32::from_str_radix(&hex, 16).expect("a hex \\u{..} escape");
                found(char::from_u32(code).expect("a valid \\u{..} escape"), *line);
                i = close + 1;
            }
            '\\' => {
                if chars.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            c => {
                if c == '\n' {
                    *line += 1;
                }
                found(c, *line);
                i += 1;
            }
        }
    }
    i + 1
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// Every non-ASCII character the app may draw, with the first place it occurs
/// ("file:line"), in order of appearance.
fn drawn_chars() -> Vec<(char, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut chars: Vec<(char, String)> = Vec::new();
    let mut add = |c: char, place: String| {
        if !chars.iter().any(|(seen, _)| *seen == c) {
            chars.push((c, place));
        }
    };
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(root).unwrap().display().to_string();
        for Found { c, line } in source_chars(&text) {
            add(c, format!("{name}:{line}"));
        }
    }
    // The sample's product names and categories (English and Chinese).
    let products = "sample_data/products.csv";
    for (n, row) in std::fs::read_to_string(root.join(products)).unwrap().lines().enumerate() {
        for c in row.chars().filter(|c| !c.is_ascii()) {
            add(c, format!("{products}:{}", n + 1));
        }
    }
    chars
}

/// A context with the app's fonts as a fresh machine has them: bundled only.
fn bundled_fonts_context() -> egui::Context {
    let ctx = egui::Context::default();
    theme::apply_bundled_only(&ctx);
    // Fonts are built in the first pass.
    let _ = ctx.run_ui(egui::RawInput::default(), |_| {});
    ctx
}

#[test]
fn every_drawn_character_has_a_bundled_glyph() {
    let chars = drawn_chars();
    assert!(chars.iter().any(|(c, _)| *c == '▶'), "the scan finds the symbols of the source");
    assert!(chars.iter().any(|(c, _)| *c == '竹'), "the scan finds the Chinese product names");
    let ctx = bundled_fonts_context();
    let mut missing = Vec::new();
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        let font = FontId::new(theme::BODY_SIZE, family.clone());
        for (c, place) in &chars {
            if !ctx.fonts_mut(|fonts| fonts.has_glyph(&font, *c)) {
                missing.push(format!("  {c:?} (U+{:04X}) in {family:?}, first at {place}", *c as u32));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} character(s) have no glyph in the bundled fonts (add hanzi to \
         assets/fonts/NotoSansSC-chars.txt, symbols to assets/fonts/DejaVuSans-symbols.txt \
         and rebuild the subset, see assets/fonts/README.md):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// The check itself notices a missing glyph.
#[test]
fn a_character_outside_the_bundled_fonts_is_missing() {
    let ctx = bundled_fonts_context();
    let font = FontId::proportional(theme::BODY_SIZE);
    assert!(ctx.fonts_mut(|fonts| fonts.has_glyph(&font, '▶')));
    // A snowman: in none of the bundled fonts.
    assert!(!ctx.fonts_mut(|fonts| fonts.has_glyph(&font, '\u{2603}')));
}

#[test]
fn the_scan_skips_comments_and_reads_literals() {
    let source = concat!(
        "// → in a line comment\n",
        "/* ← in a /* nested */ block comment */\n",
        "let url = \"http://x\"; let a = \"▶ run\"; // ▼ trailing comment\n",
        "let b = '…'; let c = '\\u{2192}'; fn f<'a>(x: &'a str) {}\n",
        "let d = r#\"raw \"quoted\" ≥\"#; let e = \"esc \\\" ≤\";\n",
        "/// ⚠ doc comment\n",
        "let g = \"two\n lines ×\";\n",
    );
    let found: Vec<(char, usize)> = source_chars(source).into_iter().map(|f| (f.c, f.line)).collect();
    assert_eq!(found, [('▶', 3), ('…', 4), ('→', 4), ('≥', 5), ('≤', 5), ('×', 8)]);
}
