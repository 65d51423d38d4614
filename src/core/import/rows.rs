//! Row checks: every cell of the mapped columns is parsed once, in parallel;
//! a row that cannot serve is counted under its first reason, never dropped silently.
//! The file's other columns are read only to fingerprint each row (exact
//! duplicates are rows equal in every column of the file, DATA.md §2).

use polars::prelude::*;
use rayon::prelude::*;

use super::columns::{Canonical, ColumnMapping};
use super::parse::{self, EventKind, NumberCell};
use super::quality::{MAX_EXAMPLES, RowExample, UnusableReason, UnusableRows};
use crate::core::events::col_name;

/// Rows per parallel work unit.
const CHUNK: usize = 1 << 15;

/// The expression that reads one mapped column in the form the row checks
/// expect: text, `f64` for numbers already typed (Parquet/JSON), or epoch
/// milliseconds for timestamps already typed.
pub(super) fn raw_expr(canonical: Canonical, file_column: &str, dtype: &DataType) -> Expr {
    let c = col(file_column);
    match (canonical, dtype) {
        (Canonical::Timestamp, DataType::Date) => {
            c.cast(DataType::Datetime(TimeUnit::Milliseconds, None)).cast(DataType::Int64)
        }
        (Canonical::Timestamp, DataType::Datetime(_, tz)) => {
            c.cast(DataType::Datetime(TimeUnit::Milliseconds, tz.clone())).cast(DataType::Int64)
        }
        (k, d) if k.is_numeric() && d.is_primitive_numeric() => c.cast(DataType::Float64),
        // Integer ids stay numbers: writing 10M of them out as text only to
        // parse them back costs a second and a few hundred MB.
        (Canonical::CustomerId | Canonical::OrderId | Canonical::ItemId, d) if d.is_integer() => {
            c.cast(DataType::Int64)
        }
        _ => c.cast(DataType::String),
    }
}

/// The cells of one raw column over one block of rows, in the physical form
/// `raw_expr` produced, read by position straight from the block's single
/// array: the per-cell lookup through a chunked array was a tenth of the
/// check's time.
enum Cells<'a> {
    Text(Option<&'a TextArray>),
    Number(Slots<'a, Float64Type>),
    /// Epoch milliseconds of a typed timestamp, or an integer id.
    Integer(Slots<'a, Int64Type>),
}

/// The arrow array of a text column.
type TextArray = <StringType as PolarsDataType>::Array;

/// The values of a one-chunk numeric column, and its array for nulls.
struct Slots<'a, T: PolarsNumericType> {
    values: &'a [T::Native],
    array: Option<&'a <T as PolarsDataType>::Array>,
}

impl<'a, T: PolarsNumericType> Slots<'a, T> {
    fn of(ca: &'a ChunkedArray<T>) -> Slots<'a, T> {
        let array = ca.downcast_iter().next();
        Slots {
            values: array.map_or(&[], |a| a.values().as_slice()),
            array: array.filter(|a| a.validity().is_some_and(|v| v.unset_bits() > 0)),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> Option<T::Native> {
        match self.array {
            Some(a) if a.validity().is_some_and(|v| !v.get_bit(i)) => None,
            _ => Some(self.values[i]),
        }
    }
}

/// An id cell after normalisation: text, or an integer from a typed column.
#[derive(Clone, Copy, Debug, Hash, PartialEq)]
enum Id<'a> {
    Text(&'a str),
    Number(i64),
}

impl Id<'_> {
    /// The id as a number, where it is a plain non-negative integer.
    fn key(self) -> Option<u64> {
        match self {
            Id::Text(t) => decimal_key(t),
            Id::Number(v) => u64::try_from(v).ok(),
        }
    }
}

impl<'a> Cells<'a> {
    #[inline]
    fn str_cell(arr: Option<&'a TextArray>, i: usize) -> Option<&'a str> {
        arr.and_then(|a| a.get(i))
    }

    #[inline]
    fn number(&self, i: usize) -> NumberCell {
        match self {
            Cells::Text(arr) => Self::str_cell(*arr, i).map_or(NumberCell::Empty, parse::parse_number),
            Cells::Number(c) => match c.get(i) {
                None => NumberCell::Empty,
                Some(v) if v.is_finite() => NumberCell::Value(v),
                Some(_) => NumberCell::Invalid,
            },
            Cells::Integer(c) => c.get(i).map_or(NumberCell::Empty, |v| NumberCell::Value(v as f64)),
        }
    }

    #[inline]
    fn timestamp(&self, i: usize) -> Option<i64> {
        match self {
            Cells::Text(arr) => Self::str_cell(*arr, i).and_then(parse::parse_timestamp),
            Cells::Integer(c) => c.get(i),
            Cells::Number(c) => c.get(i).and_then(|v| parse::parse_timestamp(&format!("{v:.0}"))),
        }
    }

    #[inline]
    fn str_at(&self, i: usize) -> Option<&'a str> {
        match *self {
            Cells::Text(arr) => Self::str_cell(arr, i),
            _ => None,
        }
    }

    /// The id in cell `i` after [`parse::normalise_id`], and whether
    /// normalising changed the text.
    #[inline]
    fn id_at(&self, i: usize) -> (Option<Id<'a>>, bool) {
        match *self {
            Cells::Text(arr) => {
                let raw = Self::str_cell(arr, i);
                let id = raw.and_then(parse::normalise_id);
                (id.map(Id::Text), changed(raw, id))
            }
            Cells::Integer(ref c) => (c.get(i).map(Id::Number), false),
            Cells::Number(_) => (None, false),
        }
    }
}

/// The raw column of `canonical`, where it is mapped.
fn column(series: &[(Canonical, Series)], canonical: Canonical) -> Option<&Series> {
    series.iter().find(|(c, _)| *c == canonical).map(|(_, s)| s)
}

/// The cells of `canonical` in a block whose columns are one array each
/// ([`block_of`]).
fn cells(block: &[(Canonical, Series)], canonical: Canonical) -> PolarsResult<Option<Cells<'_>>> {
    let Some(s) = column(block, canonical) else {
        return Ok(None);
    };
    Ok(Some(match s.dtype() {
        DataType::String => Cells::Text(s.str()?.downcast_iter().next()),
        DataType::Float64 => Cells::Number(Slots::of(s.f64()?)),
        DataType::Int64 => Cells::Integer(Slots::of(s.i64()?)),
        other => polars_bail!(ComputeError: "unexpected type {other} for column {canonical}"),
    }))
}

/// A cell as text, for the examples of a report.
fn cell_text(s: &Series, i: usize) -> Option<String> {
    match s.get(i).ok()? {
        AnyValue::Null => None,
        AnyValue::String(t) => Some(t.to_string()),
        AnyValue::Float64(v) => Some(v.to_string()),
        AnyValue::Int64(v) => Some(v.to_string()),
        other => Some(other.to_string()),
    }
}

/// A column over rows `start..start + len`, one array: a slice in a range
/// from [`block_ranges`] is one array without a copy, except where the
/// column holds an empty array at the range's start (then it is copied).
fn slice_of(s: &Series, start: usize, len: usize) -> Series {
    let s = s.slice(start as i64, len);
    if s.n_chunks() > 1 { s.rechunk() } else { s }
}

/// The columns over rows `start..start + len`, one array each ([`slice_of`]).
fn block_of(series: &[(Canonical, Series)], start: usize, len: usize) -> Vec<(Canonical, Series)> {
    series.iter().map(|(c, s)| (*c, slice_of(s, start, len))).collect()
}

/// Row ranges (start, length) of at most [`CHUNK`] rows, each within one
/// array of every column, so that a block of a column slices to one array
/// without a copy. (Streamed batches arrive as a few dozen arrays per column.)
fn block_ranges<'a>(series: impl IntoIterator<Item = &'a Series>, n: usize) -> Vec<(usize, usize)> {
    let mut cuts = vec![0, n];
    for s in series {
        cuts.extend(s.chunk_lengths().scan(0, |end, len| {
            *end += len;
            Some(*end)
        }));
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .flat_map(|w| (w[0]..w[1]).step_by(CHUNK).map(move |start| (start, CHUNK.min(w[1] - start))))
        .collect()
}

const OK: u8 = 0;
/// Marks a row without an item id; no key reaches it (keys are at most 19
/// decimal digits, or non-negative `i64`s).
const NO_ITEM: u64 = u64::MAX;
const NO_CATEGORY: u32 = u32::MAX;

fn reason_code(reason: UnusableReason) -> u8 {
    reason as u8 + 1
}

pub(crate) const REASONS: [UnusableReason; 6] = [
    UnusableReason::MissingCustomerId,
    UnusableReason::UnparseableTimestamp,
    UnusableReason::UnknownEventType,
    UnusableReason::NonNumericQuantity,
    UnusableReason::NonNumericPrice,
    UnusableReason::NonNumericAmount,
];

/// What one parallel block learned about its text cells: whether any of them
/// changes under normalisation (else the raw column is reused as it is).
#[derive(Clone, Copy, Default)]
struct TextChanges {
    customer: bool,
    order: bool,
    item: bool,
    /// Every customer id so far is a plain decimal integer.
    numeric_ids: bool,
    /// Every item id so far is one.
    numeric_items: bool,
}

impl TextChanges {
    /// Nothing seen yet: no changes, and every id numeric so far.
    fn numeric() -> TextChanges {
        TextChanges { numeric_ids: true, numeric_items: true, ..Default::default() }
    }

    fn merge(self, o: TextChanges) -> TextChanges {
        TextChanges {
            customer: self.customer || o.customer,
            order: self.order || o.order,
            item: self.item || o.item,
            numeric_ids: self.numeric_ids && o.numeric_ids,
            numeric_items: self.numeric_items && o.numeric_items,
        }
    }
}

/// A plain decimal integer id (`0`, `12346`; no sign, no leading zero, at
/// most 19 digits) as a number; other ids (`00001`, `C123`) have none.
fn decimal_key(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.is_empty() || b.len() > 19 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    // One pass that checks and adds up the digits (19 of them cannot overflow).
    b.iter().try_fold(0u64, |value, &c| {
        let digit = c.wrapping_sub(b'0');
        (digit < 10).then(|| value * 10 + u64::from(digit))
    })
}

fn normalise_category(v: &str) -> Option<&str> {
    Some(v.trim()).filter(|s| !s.is_empty())
}

/// Did normalising `raw` change it (a trimmed, shortened or emptied cell)?
fn changed(raw: Option<&str>, normalised: Option<&str>) -> bool {
    match (raw, normalised) {
        (Some(r), Some(n)) => r.len() != n.len(),
        (Some(_), None) => true,
        _ => false,
    }
}

/// One id or text cell as a word of a row's fingerprint: a number as it is,
/// text by its hash (callers pass an id's key instead where it has one:
/// the same word for the same id, without hashing). A number and a text may
/// share a word; fingerprints only pick the rows to compare in full.
#[inline]
fn id_word(id: Option<Id>, hasher: &foldhash::fast::FixedState) -> u64 {
    use std::hash::BuildHasher;
    match id {
        None => 0x243F_6A88_85A3_08D3,
        Some(Id::Number(v)) => v as u64,
        Some(Id::Text(t)) => hasher.hash_one(t),
    }
}

/// A row's words folded into one well-mixed u64 (a multiply-fold per word):
/// a few nanoseconds, where hashing the row's cells one by one took a tenth
/// of the import.
#[inline]
fn fold_words(words: &[u64]) -> u64 {
    words.iter().fold(FOLD_K, |h, &w| fold_word(h, w))
}

const FOLD_K: u64 = 0x9E37_79B9_7F4A_7C15;

/// One more word folded into `h`.
#[inline]
fn fold_word(h: u64, w: u64) -> u64 {
    let full = u128::from(h ^ w) * u128::from(FOLD_K);
    ((full as u64) ^ ((full >> 64) as u64)).rotate_left(23)
}

/// The word of a missing cell in a column the features do not read.
const NULL_WORD: u64 = 0x1319_8A2E_0370_7344;

/// The cells of one column the features do not read, over one block: text,
/// or the binary row encoding of the typed ones (Parquet, JSON), read only to
/// fingerprint rows.
enum OtherCells<'a> {
    Text(Option<&'a TextArray>),
    Encoded(Option<&'a <BinaryOffsetType as PolarsDataType>::Array>),
}

impl OtherCells<'_> {
    fn of(s: &Series) -> PolarsResult<OtherCells<'_>> {
        Ok(match s.dtype() {
            DataType::String => OtherCells::Text(s.str()?.downcast_iter().next()),
            _ => OtherCells::Encoded(s.binary_offset()?.downcast_iter().next()),
        })
    }

    /// Cell `i` as a word of its row's fingerprint: its raw text (or bytes) hashed.
    #[inline]
    fn word(&self, i: usize, hasher: &foldhash::fast::FixedState) -> u64 {
        use std::hash::BuildHasher;
        let cell = match self {
            OtherCells::Text(a) => a.and_then(|a| a.get(i)).map(str::as_bytes),
            OtherCells::Encoded(a) => a.and_then(|a| a.get(i)),
        };
        cell.map_or(NULL_WORD, |bytes| hasher.hash_one(bytes))
    }
}

/// Prefix of the names under which the scan hands over the columns that no
/// canonical column maps (`__other0`, …).
pub(super) const OTHER_PREFIX: &str = "__other";

/// The columns no canonical column maps, as their fingerprint reads them:
/// text columns as they are, all others row-encoded together into one binary
/// column (any type, nested ones too, has a row encoding).
fn other_columns(others: Vec<Series>) -> PolarsResult<Vec<Series>> {
    let (mut text, typed): (Vec<Series>, Vec<Series>) =
        others.into_iter().partition(|s| s.dtype() == &DataType::String);
    if !typed.is_empty() {
        let typed: Vec<Column> = typed.into_iter().map(Column::from).collect();
        text.push(row_encode::encode_rows_unordered(&typed)?.into_series());
    }
    Ok(text)
}

/// The usable rows of one batch, checked and converted, with what was left out.
pub(super) struct CheckedBatch {
    /// Canonical columns of the usable rows, plus [`FINGERPRINT`].
    pub(super) df: DataFrame,
    pub(super) rows_read: u64,
    pub(super) unusable: Vec<UnusableRows>,
    pub(super) numeric_ids: bool,
    pub(super) numeric_items: bool,
}

/// A seeded hash of a row's values: rows that share one are compared in full.
pub(super) const FINGERPRINT: &str = "__fingerprint";

/// What the row checks write for each row of a batch.
struct RowValues {
    /// `OK`, or the code of the first reason the row cannot serve.
    reason: Vec<u8>,
    timestamp_ms: Vec<i64>,
    kind: Vec<EventKind>,
    quantity: Vec<f64>,
    /// NaN marks a missing price (parsed prices are always finite).
    price: Vec<f64>,
    amount: Vec<f64>,
    customer_key: Vec<u64>,
    /// `NO_ITEM` marks a row without an item id.
    item_key: Vec<u64>,
    /// The code of the row's category in polars' global categories;
    /// `NO_CATEGORY` marks a row without one.
    category_code: Vec<u32>,
    fingerprint: Vec<u64>,
}

/// [`RowValues`] of one block of rows.
struct BlockValues<'a> {
    reason: &'a mut [u8],
    timestamp_ms: &'a mut [i64],
    kind: &'a mut [EventKind],
    quantity: &'a mut [f64],
    price: &'a mut [f64],
    amount: &'a mut [f64],
    customer_key: &'a mut [u64],
    item_key: &'a mut [u64],
    category_code: &'a mut [u32],
    fingerprint: &'a mut [u64],
}

impl RowValues {
    fn new(n: usize) -> RowValues {
        RowValues {
            reason: vec![OK; n],
            timestamp_ms: vec![0; n],
            kind: vec![EventKind::Purchase; n],
            quantity: vec![1.0; n],
            price: vec![f64::NAN; n],
            amount: vec![0.0; n],
            customer_key: vec![0; n],
            item_key: vec![NO_ITEM; n],
            category_code: vec![NO_CATEGORY; n],
            fingerprint: vec![0; n],
        }
    }

    /// The values of each block, in order.
    fn split_by_blocks(&mut self, blocks: &[(usize, usize)]) -> Vec<BlockValues<'_>> {
        fn split<'a, T>(mut rest: &'a mut [T], blocks: &[(usize, usize)]) -> impl Iterator<Item = &'a mut [T]> {
            blocks.iter().map(move |&(_, len)| {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
                rest = tail;
                head
            })
        }
        let mut reason = split(&mut self.reason, blocks);
        let mut timestamp_ms = split(&mut self.timestamp_ms, blocks);
        let mut kind = split(&mut self.kind, blocks);
        let mut quantity = split(&mut self.quantity, blocks);
        let mut price = split(&mut self.price, blocks);
        let mut amount = split(&mut self.amount, blocks);
        let mut customer_key = split(&mut self.customer_key, blocks);
        let mut item_key = split(&mut self.item_key, blocks);
        let mut category_code = split(&mut self.category_code, blocks);
        let mut fingerprint = split(&mut self.fingerprint, blocks);
        let mut next = || -> Option<BlockValues<'_>> {
            Some(BlockValues {
                reason: reason.next()?,
                timestamp_ms: timestamp_ms.next()?,
                kind: kind.next()?,
                quantity: quantity.next()?,
                price: price.next()?,
                amount: amount.next()?,
                customer_key: customer_key.next()?,
                item_key: item_key.next()?,
                category_code: category_code.next()?,
                fingerprint: fingerprint.next()?,
            })
        };
        std::iter::from_fn(&mut next).collect()
    }
}

/// The cells of every mapped column over one block of rows, and of the
/// file's other columns.
struct BlockCells<'a> {
    customer: Cells<'a>,
    timestamp: Cells<'a>,
    event: Option<Cells<'a>>,
    order: Option<Cells<'a>>,
    item: Option<Cells<'a>>,
    category: Option<Cells<'a>>,
    quantity: Option<Cells<'a>>,
    price: Option<Cells<'a>>,
    amount: Option<Cells<'a>>,
    others: Vec<OtherCells<'a>>,
}

impl BlockCells<'_> {
    fn of<'a>(block: &'a [(Canonical, Series)], others: &'a [Series]) -> PolarsResult<BlockCells<'a>> {
        let (Some(customer), Some(timestamp)) =
            (cells(block, Canonical::CustomerId)?, cells(block, Canonical::Timestamp)?)
        else {
            polars_bail!(ComputeError: "customer_id and timestamp must be mapped");
        };
        Ok(BlockCells {
            customer,
            timestamp,
            event: cells(block, Canonical::EventType)?,
            order: cells(block, Canonical::OrderId)?,
            item: cells(block, Canonical::ItemId)?,
            category: cells(block, Canonical::Category)?,
            quantity: cells(block, Canonical::Quantity)?,
            price: cells(block, Canonical::Price)?,
            amount: cells(block, Canonical::Amount)?,
            others: others.iter().map(OtherCells::of).collect::<PolarsResult<_>>()?,
        })
    }

    /// Checks and converts every row of the block into `out`; category names
    /// get their codes in `categories` (polars' global categories).
    fn check_rows(
        &self,
        out: BlockValues,
        hasher: &foldhash::fast::FixedState,
        categories: &CategoricalMapping,
    ) -> PolarsResult<TextChanges> {
        let mut seen = TextChanges::numeric();
        // A block names a few categories thousands of times: a local table
        // spares most lookups in the shared one.
        let mut category_codes: std::collections::HashMap<&str, u32, _> =
            std::collections::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0));
        for i in 0..out.reason.len() {
            let (id, id_changed) = self.customer.id_at(i);
            seen.customer |= id_changed;
            let Some(id) = id else {
                out.reason[i] = reason_code(UnusableReason::MissingCustomerId);
                continue;
            };
            let customer_key = id.key();
            match customer_key {
                Some(k) if seen.numeric_ids => out.customer_key[i] = k,
                _ => seen.numeric_ids = false,
            }
            let mut texts: [Option<Id>; 2] = [None; 2];
            for (slot, (cells, flag)) in
                texts.iter_mut().zip([(&self.order, &mut seen.order), (&self.item, &mut seen.item)])
            {
                if let Some(cells) = cells {
                    let (value, value_changed) = cells.id_at(i);
                    *slot = value;
                    *flag |= value_changed;
                }
            }
            let item_key = texts[1].and_then(Id::key);
            if texts[1].is_some() {
                match item_key {
                    Some(k) if seen.numeric_items => out.item_key[i] = k,
                    _ => seen.numeric_items = false,
                }
            }
            match self.timestamp.timestamp(i) {
                Some(t) => out.timestamp_ms[i] = t,
                None => {
                    out.reason[i] = reason_code(UnusableReason::UnparseableTimestamp);
                    continue;
                }
            }
            if let Some(event) = &self.event {
                match event.str_at(i).and_then(EventKind::parse) {
                    Some(k) => out.kind[i] = k,
                    None => {
                        out.reason[i] = reason_code(UnusableReason::UnknownEventType);
                        continue;
                    }
                }
            }
            // An empty quantity or price keeps its default (1, missing).
            let mut invalid = None;
            for (cells, value, why) in [
                (&self.quantity, &mut out.quantity[i], UnusableReason::NonNumericQuantity),
                (&self.price, &mut out.price[i], UnusableReason::NonNumericPrice),
            ] {
                match cells.as_ref().map(|c| c.number(i)) {
                    Some(NumberCell::Value(v)) => *value = v,
                    Some(NumberCell::Invalid) => {
                        invalid = Some(why);
                        break;
                    }
                    Some(NumberCell::Empty) | None => {}
                }
            }
            if let Some(why) = invalid {
                out.reason[i] = reason_code(why);
                continue;
            }
            let derived = if out.price[i].is_nan() { 0.0 } else { out.quantity[i] * out.price[i] };
            out.amount[i] = match self.amount.as_ref().map(|a| a.number(i)) {
                Some(NumberCell::Value(v)) => v,
                Some(NumberCell::Invalid) => {
                    out.reason[i] = reason_code(UnusableReason::NonNumericAmount);
                    continue;
                }
                Some(NumberCell::Empty) | None => derived,
            };
            if !out.amount[i].is_finite() {
                // quantity × price overflowed: the inputs are absurd, not the arithmetic.
                out.reason[i] = reason_code(if self.amount.is_some() {
                    UnusableReason::NonNumericAmount
                } else {
                    UnusableReason::NonNumericQuantity
                });
                continue;
            }
            if let Some(name) = self.category.as_ref().and_then(|c| c.str_at(i)).and_then(normalise_category) {
                out.category_code[i] = match category_codes.get(name) {
                    Some(&code) => code,
                    None => {
                        let code = categories.insert_cat(name)?;
                        category_codes.insert(name, code);
                        code
                    }
                };
            }
            let words = [
                customer_key.unwrap_or_else(|| id_word(Some(id), hasher)),
                out.timestamp_ms[i] as u64,
                out.kind[i].code() as u64,
                id_word(texts[0], hasher),
                item_key.unwrap_or_else(|| id_word(texts[1], hasher)),
                u64::from(out.category_code[i]),
                out.quantity[i].to_bits(),
                out.price[i].to_bits(),
                out.amount[i].to_bits(),
            ];
            // The file's other columns: two lines that differ only in a
            // column the features do not read are both kept.
            out.fingerprint[i] =
                self.others.iter().fold(fold_words(&words), |h, cells| fold_word(h, cells.word(i, hasher)));
        }
        Ok(seen)
    }
}

/// Checks and converts every row of one batch of raw columns; `first_row` is
/// the number of data rows before this batch.
pub(super) fn check_batch(raw: DataFrame, mapping: &ColumnMapping, first_row: u64) -> PolarsResult<CheckedBatch> {
    let n = raw.height();
    let mut series: Vec<(Canonical, Series)> = Vec::new();
    let mut others: Vec<Series> = Vec::new();
    for column in raw.into_columns() {
        if column.name().starts_with(OTHER_PREFIX) {
            others.push(column.take_materialized_series());
            continue;
        }
        let canonical = Canonical::from_name(column.name())
            .ok_or_else(|| polars_err!(ComputeError: "unexpected column {}", column.name()))?;
        series.push((canonical, column.take_materialized_series()));
    }
    let others = other_columns(others)?;
    let blocks = block_ranges(series.iter().map(|(_, s)| s).chain(&others), n);
    let mut values = RowValues::new(n);
    let hasher = foldhash::fast::FixedState::with_seed(0x5EED);
    let category_dtype = crate::core::events::category_dtype();
    let categories = category_dtype.cat_mapping()?;
    let changes = values
        .split_by_blocks(&blocks)
        .into_par_iter()
        .zip(&blocks)
        .map(|(out, &(start, len))| {
            let block = block_of(&series, start, len);
            let other_block: Vec<Series> = others.iter().map(|s| slice_of(s, start, len)).collect();
            BlockCells::of(&block, &other_block)?.check_rows(out, &hasher, categories)
        })
        .try_reduce(TextChanges::numeric, |a, b| Ok(a.merge(b)))?;
    let RowValues {
        reason,
        timestamp_ms,
        kind,
        quantity,
        price,
        amount,
        customer_key,
        item_key,
        category_code,
        fingerprint,
    } = values;

    let mut unusable = Vec::new();
    for why in REASONS {
        let code = reason_code(why);
        let count = reason.par_iter().filter(|&&r| r == code).count() as u64;
        if count == 0 {
            continue;
        }
        let at_fault = column(&series, why.column());
        let examples = reason
            .iter()
            .enumerate()
            .filter(|&(_, &r)| r == code)
            .take(MAX_EXAMPLES)
            .map(|(i, _)| RowExample { row: first_row + i as u64 + 1, value: at_fault.and_then(|s| cell_text(s, i)) })
            .collect();
        unusable.push(UnusableRows {
            reason: why,
            column: why.column().name().to_string(),
            file_column: mapping.get(why.column()).unwrap_or_default().to_string(),
            count,
            examples,
        });
    }
    // A text column: the raw one where no cell changes, else a normalised copy.
    let text_column = |canonical: Canonical, name: &str, changed: bool, norm: fn(&str) -> Option<&str>| {
        let s = column(&series, canonical)?;
        let renamed = |c: Series| Some(c.with_name(name.into()).into_column());
        match s.dtype() {
            DataType::Int64 => renamed(s.cast(&DataType::String).ok()?),
            _ if !changed => renamed(s.clone()),
            _ => renamed(s.str().ok()?.iter().map(|v| v.and_then(norm)).collect::<StringChunked>().into_series()),
        }
    };
    let codes: Vec<i8> = kind.iter().map(|k| k.code()).collect();
    drop(kind);
    let first = first_row as u32 + 1;
    let mut columns =
        vec![UInt32Chunked::from_iter_values(col_name::ROW.into(), first..first + n as u32).into_column()];
    if changes.numeric_ids {
        columns.push(key_column(col_name::CUSTOMER_KEY, &customer_key));
    } else {
        columns.extend(text_column(
            Canonical::CustomerId,
            col_name::CUSTOMER_ID,
            changes.customer,
            parse::normalise_id,
        ));
    }
    drop(customer_key);
    columns.push(Int64Chunked::from_vec(col_name::TIMESTAMP_MS.into(), timestamp_ms).into_column());
    columns.push(Int8Chunked::from_vec(col_name::EVENT_CODE.into(), codes).into_column());
    columns.extend(text_column(Canonical::OrderId, col_name::ORDER_ID, changes.order, parse::normalise_id));
    let numeric_items = mapping.has(Canonical::ItemId) && changes.numeric_items;
    if numeric_items {
        columns.push(key_column(col_name::ITEM_KEY, &item_key));
    } else {
        columns.extend(text_column(Canonical::ItemId, col_name::ITEM_ID, changes.item, parse::normalise_id));
    }
    drop(item_key);
    if mapping.has(Canonical::Category) {
        let codes = category_code.iter().map(|&c| (c != NO_CATEGORY).then_some(c));
        let codes = UInt32Chunked::from_iter_options(col_name::CATEGORY.into(), codes);
        polars_ensure!(category_dtype.cat_physical()? == CategoricalPhysical::U32, ComputeError: "categories are not 32-bit");
        // SAFETY: every code came from `categories`, the mapping of `category_dtype`, which is 32-bit.
        let column = unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(codes, category_dtype.clone()) };
        columns.push(column.into_series().into_column());
    }
    columns.push(Float64Chunked::from_vec(col_name::QUANTITY.into(), quantity).into_column());
    if mapping.has(Canonical::Price) {
        columns.push(
            Float64Chunked::from_iter_options(
                col_name::PRICE.into(),
                price.iter().map(|&p| (!p.is_nan()).then_some(p)),
            )
            .into_column(),
        );
    }
    drop(price);
    columns.push(Float64Chunked::from_vec(col_name::AMOUNT.into(), amount).into_column());
    columns.push(UInt64Chunked::from_vec(FINGERPRINT.into(), fingerprint).into_column());
    let mut df = DataFrame::new(n, columns)?;
    if reason.iter().any(|&r| r != OK) {
        df = df.filter(&BooleanChunked::from_iter_values("usable".into(), reason.iter().map(|&r| r == OK)))?;
    }
    Ok(CheckedBatch { df, rows_read: n as u64, unusable, numeric_ids: changes.numeric_ids, numeric_items })
}

/// A numeric id column (`NO_ITEM` marks a missing id), stored as `u32` when
/// every id fits, as most shops' ids do: half the memory, faster group-bys.
fn key_column(name: &str, keys: &[u64]) -> Column {
    let option = |&k: &u64| (k != NO_ITEM).then_some(k);
    if keys.iter().all(|&k| k == NO_ITEM || k <= u64::from(u32::MAX)) {
        UInt32Chunked::from_iter_options(name.into(), keys.iter().map(|k| option(k).map(|k| k as u32))).into_column()
    } else {
        UInt64Chunked::from_iter_options(name.into(), keys.iter().map(option)).into_column()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw batch as the CSV scan gives it (canonical names, text cells),
    /// `parts` frames stacked into one, so each column has `parts` arrays.
    fn raw_batch(rows: usize, parts: usize) -> DataFrame {
        let text = |f: &dyn Fn(usize) -> String| (0..rows).map(f).collect::<Vec<_>>();
        let whole = df![
            "customer_id" => text(&|i| if i == 77 { String::new() } else { (i % 9).to_string() }),
            "timestamp" => text(&|i| if i == 160 { "soon".into() } else { format!("2024-05-{:02} 08:00:00", 1 + i % 30) }),
            "event_type" => text(&|i| ["view", "cart", "purchase"][i % 3].to_string()),
            "item_id" => text(&|i| format!("{}", i % 13)),
            "category" => text(&|i| match i {
                33 => "  ".into(),
                _ if i % 5 == 0 => " Bags ".into(),
                _ => "Shoes".into(),
            }),
            "quantity" => (0..rows).map(|i| (1 + i % 2) as f64).collect::<Vec<_>>(),
        ]
        .unwrap();
        let size = rows.div_ceil(parts);
        let mut stacked = whole.slice(0, size);
        for p in 1..parts {
            stacked.vstack_mut_owned(whole.slice((p * size) as i64, size)).unwrap();
        }
        stacked
    }

    fn mapping() -> ColumnMapping {
        let names = ["customer_id", "timestamp", "event_type", "item_id", "category", "quantity"];
        ColumnMapping::propose(&names.map(String::from), &[]).0
    }

    /// A column whose first array is empty (polars keeps such arrays in a
    /// slice) still reads as one array per block.
    #[test]
    fn an_empty_array_in_a_column_is_read_past() {
        let mut batch = raw_batch(50, 1);
        let ids = batch.column("customer_id").unwrap().as_materialized_series().clone();
        let arrays = vec![ids.slice(0, 0).chunks()[0].clone(), ids.chunks()[0].clone()];
        let with_empty = Series::try_from((PlSmallStr::from("customer_id"), arrays)).unwrap();
        assert_eq!(with_empty.chunk_lengths().collect::<Vec<_>>(), [0, 50]);
        batch.replace("customer_id", with_empty.into_column()).unwrap();
        let checked = check_batch(batch, &mapping(), 0).unwrap();
        let plain = check_batch(raw_batch(50, 1), &mapping(), 0).unwrap();
        assert_eq!(checked.df.height(), 50);
        assert!(checked.df.equals_missing(&plain.df));
    }

    /// A batch whose columns arrive in many arrays, cut at different rows in
    /// different columns, checks exactly as the same batch in one array each.
    #[test]
    fn a_batch_in_many_arrays_checks_as_one() {
        let one = check_batch(raw_batch(200, 1), &mapping(), 1000).unwrap();
        let mut many = raw_batch(200, 7);
        // The quantity column cut elsewhere: blocks must respect every column's arrays.
        let quantity = raw_batch(200, 3).column("quantity").unwrap().clone();
        many.replace("quantity", quantity).unwrap();
        assert!(many.column("customer_id").unwrap().n_chunks() == 7);
        let many = check_batch(many, &mapping(), 1000).unwrap();
        assert!(one.df.equals_missing(&many.df));
        assert_eq!(one.df.height(), 198);
        let rows = |b: &CheckedBatch| b.unusable.iter().map(|u| (u.reason, u.examples.clone())).collect::<Vec<_>>();
        assert_eq!(rows(&one), rows(&many));
        assert_eq!(
            rows(&many),
            [
                (UnusableReason::MissingCustomerId, vec![RowExample { row: 1078, value: Some(String::new()) }]),
                (UnusableReason::UnparseableTimestamp, vec![RowExample { row: 1161, value: Some("soon".into()) }]),
            ]
        );
        let category = many.df.column(col_name::CATEGORY).unwrap().cast(&DataType::String).unwrap();
        assert_eq!(category.str().unwrap().get(0), Some("Bags"), "trimmed across arrays");
        assert_eq!(category.str().unwrap().get(1), Some("Shoes"));
        assert_eq!(category.null_count(), 1, "a blank name is no category");
    }

    #[test]
    fn decimal_keys_are_plain_integers_only() {
        assert_eq!(decimal_key("0"), Some(0));
        assert_eq!(decimal_key("12346"), Some(12346));
        assert_eq!(decimal_key("9999999999999999999"), Some(9_999_999_999_999_999_999));
        // Twenty digits may not fit; leading zeros, signs and letters make text ids.
        for text in ["", "18446744073709551615", "00001", "-5", "+5", "C123", "12 3", "1.0"] {
            assert_eq!(decimal_key(text), None, "{text:?}");
        }
    }
}
