//! Row checks: every cell of the mapped columns is parsed once, in parallel;
//! a row that cannot serve is counted under its first reason, never dropped silently.

use polars::prelude::*;
use rayon::prelude::*;

use super::columns::{Canonical, ColumnMapping};
use super::parse::{self, EventKind, NumberCell};
use super::quality::{EventCounts, MAX_EXAMPLES, QualityReport, RowExample, UnusableReason, UnusableRows};
use crate::core::events::{EventTable, col_name, is_kind};

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

/// One raw column, in the physical form `raw_expr` produced, with its cells
/// read by position straight from the (single) array: the per-cell lookup
/// through the chunked array was a tenth of the check's time.
enum Cells<'a> {
    Text(&'a StringChunked, Option<&'a TextArray>),
    Number(Slots<'a, Float64Type>),
    /// Epoch milliseconds of a typed timestamp, or an integer id.
    Integer(&'a Int64Chunked, Slots<'a, Int64Type>),
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

    fn text(&self, i: usize) -> Option<String> {
        match self {
            Cells::Text(_, arr) => Self::str_cell(*arr, i).map(str::to_string),
            Cells::Number(c) => c.get(i).map(|v| v.to_string()),
            Cells::Integer(_, c) => c.get(i).map(|v| v.to_string()),
        }
    }

    #[inline]
    fn number(&self, i: usize) -> NumberCell {
        match self {
            Cells::Text(_, arr) => Self::str_cell(*arr, i).map_or(NumberCell::Empty, parse::parse_number),
            Cells::Number(c) => match c.get(i) {
                None => NumberCell::Empty,
                Some(v) if v.is_finite() => NumberCell::Value(v),
                Some(_) => NumberCell::Invalid,
            },
            Cells::Integer(_, c) => c.get(i).map_or(NumberCell::Empty, |v| NumberCell::Value(v as f64)),
        }
    }

    #[inline]
    fn timestamp(&self, i: usize) -> Option<i64> {
        match self {
            Cells::Text(_, arr) => Self::str_cell(*arr, i).and_then(parse::parse_timestamp),
            Cells::Integer(_, c) => c.get(i),
            Cells::Number(c) => c.get(i).and_then(|v| parse::parse_timestamp(&format!("{v:.0}"))),
        }
    }

    #[inline]
    fn str_at(&self, i: usize) -> Option<&'a str> {
        match *self {
            Cells::Text(_, arr) => Self::str_cell(arr, i),
            _ => None,
        }
    }

    /// The id in cell `i` after `normalise`, and whether normalising changed the text.
    #[inline]
    fn id_at(&self, i: usize, normalise: fn(&str) -> Option<&str>) -> (Option<Id<'a>>, bool) {
        match *self {
            Cells::Text(_, arr) => {
                let raw = Self::str_cell(arr, i);
                let id = raw.and_then(normalise);
                (id.map(Id::Text), changed(raw, id))
            }
            Cells::Integer(_, ref c) => (c.get(i).map(Id::Number), false),
            Cells::Number(_) => (None, false),
        }
    }
}

fn cells<'a>(series: &'a [(Canonical, Series)], canonical: Canonical) -> PolarsResult<Option<Cells<'a>>> {
    let Some((_, s)) = series.iter().find(|(c, _)| *c == canonical) else {
        return Ok(None);
    };
    Ok(Some(match s.dtype() {
        DataType::String => {
            let ca = s.str()?;
            Cells::Text(ca, ca.downcast_iter().next())
        }
        DataType::Float64 => Cells::Number(Slots::of(s.f64()?)),
        DataType::Int64 => {
            let ca = s.i64()?;
            Cells::Integer(ca, Slots::of(ca))
        }
        other => polars_bail!(ComputeError: "unexpected type {other} for column {canonical}"),
    }))
}

const OK: u8 = 0;
const NO_ITEM: u64 = u64::MAX;

fn reason_code(reason: UnusableReason) -> u8 {
    reason as u8 + 1
}

const REASONS: [UnusableReason; 6] = [
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
    category: bool,
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
            category: self.category || o.category,
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
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let fold = |x: u64, y: u64| {
        let full = u128::from(x) * u128::from(y);
        (full as u64) ^ ((full >> 64) as u64)
    };
    words.iter().fold(K, |h, &w| fold(h ^ w, K).rotate_left(23))
}

/// The usable rows of one batch, checked and converted, with what was left out.
pub(super) struct CheckedBatch {
    /// Canonical columns of the usable rows, plus `__fingerprint`.
    df: DataFrame,
    rows_read: u64,
    unusable: Vec<UnusableRows>,
    numeric_ids: bool,
    numeric_items: bool,
}

impl CheckedBatch {
    pub(super) fn rows_read(&self) -> u64 {
        self.rows_read
    }
}

const FINGERPRINT: &str = "__fingerprint";

/// Checks and converts every row of one batch of raw columns; `first_row` is
/// the number of data rows before this batch.
pub(super) fn check_batch(raw: DataFrame, mapping: &ColumnMapping, first_row: u64) -> PolarsResult<CheckedBatch> {
    let n = raw.height();
    // One contiguous array per column (fast random access); each original is
    // dropped as soon as its copy exists, so only one column is held twice.
    let mut series: Vec<(Canonical, Series)> = Vec::new();
    for column in raw.into_columns() {
        let canonical = Canonical::from_name(column.name())
            .ok_or_else(|| polars_err!(ComputeError: "unexpected column {}", column.name()))?;
        let s = column.take_materialized_series();
        series.push((canonical, if s.n_chunks() > 1 { s.rechunk() } else { s }));
    }
    let customer = cells(&series, Canonical::CustomerId)?;
    let timestamp = cells(&series, Canonical::Timestamp)?;
    let event = cells(&series, Canonical::EventType)?;
    let order = cells(&series, Canonical::OrderId)?;
    let item = cells(&series, Canonical::ItemId)?;
    let category = cells(&series, Canonical::Category)?;
    let quantity = cells(&series, Canonical::Quantity)?;
    let price = cells(&series, Canonical::Price)?;
    let amount = cells(&series, Canonical::Amount)?;
    let (Some(customer), Some(timestamp)) = (customer, timestamp) else {
        polars_bail!(ComputeError: "customer_id and timestamp must be mapped");
    };

    let mut reason = vec![OK; n];
    let mut ts_out = vec![0i64; n];
    let mut kind_out = vec![EventKind::Purchase; n];
    let mut qty_out = vec![1.0f64; n];
    // NaN marks a missing price (parsed prices are always finite).
    let mut price_out = vec![f64::NAN; n];
    let mut amount_out = vec![0.0f64; n];
    let mut key_out = vec![0u64; n];
    // u64::MAX marks a row without an item id.
    let mut item_key_out = vec![NO_ITEM; n];
    let mut fingerprint = vec![0u64; n];
    let hasher = foldhash::fast::FixedState::with_seed(0x5EED);

    let changes = reason
        .par_chunks_mut(CHUNK)
        .zip(ts_out.par_chunks_mut(CHUNK))
        .zip(kind_out.par_chunks_mut(CHUNK))
        .zip(qty_out.par_chunks_mut(CHUNK))
        .zip(price_out.par_chunks_mut(CHUNK))
        .zip(amount_out.par_chunks_mut(CHUNK))
        .zip(key_out.par_chunks_mut(CHUNK))
        .zip(fingerprint.par_chunks_mut(CHUNK))
        .zip(item_key_out.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(chunk, ((((((((r, ts), kind), qty), pr), amt), keys), fp), item_keys))| {
            let base = chunk * CHUNK;
            let mut seen = TextChanges::numeric();
            for j in 0..r.len() {
                let i = base + j;
                let fail = |why| reason_code(why);
                let (id, id_changed) = customer.id_at(i, parse::normalise_id);
                seen.customer |= id_changed;
                let Some(id) = id else {
                    r[j] = fail(UnusableReason::MissingCustomerId);
                    continue;
                };
                let customer_key = id.key();
                match customer_key {
                    Some(k) if seen.numeric_ids => keys[j] = k,
                    _ => seen.numeric_ids = false,
                }
                let mut texts: [Option<Id>; 3] = [None; 3];
                for (slot, (cells, norm, flag)) in texts.iter_mut().zip([
                    (&order, parse::normalise_id as fn(&str) -> Option<&str>, &mut seen.order),
                    (&item, parse::normalise_id, &mut seen.item),
                    (&category, normalise_category, &mut seen.category),
                ]) {
                    if let Some(cells) = cells {
                        let (value, value_changed) = cells.id_at(i, norm);
                        *slot = value;
                        *flag |= value_changed;
                    }
                }
                let item_key = texts[1].and_then(Id::key);
                if texts[1].is_some() {
                    match item_key {
                        Some(k) if seen.numeric_items && k != NO_ITEM => item_keys[j] = k,
                        _ => seen.numeric_items = false,
                    }
                }
                match timestamp.timestamp(i) {
                    Some(t) => ts[j] = t,
                    None => {
                        r[j] = fail(UnusableReason::UnparseableTimestamp);
                        continue;
                    }
                }
                if let Some(event) = &event {
                    let label = event.str_at(i);
                    match label.and_then(EventKind::parse) {
                        Some(k) => {
                            kind[j] = k;
                        }
                        None => {
                            r[j] = fail(UnusableReason::UnknownEventType);
                            continue;
                        }
                    }
                }
                if let Some(quantity) = &quantity {
                    match quantity.number(i) {
                        NumberCell::Value(v) => qty[j] = v,
                        NumberCell::Empty => {}
                        NumberCell::Invalid => {
                            r[j] = fail(UnusableReason::NonNumericQuantity);
                            continue;
                        }
                    }
                }
                if let Some(price) = &price {
                    match price.number(i) {
                        NumberCell::Value(v) => pr[j] = v,
                        NumberCell::Empty => {}
                        NumberCell::Invalid => {
                            r[j] = fail(UnusableReason::NonNumericPrice);
                            continue;
                        }
                    }
                }
                let derived = if pr[j].is_nan() { 0.0 } else { qty[j] * pr[j] };
                amt[j] = match amount.as_ref().map(|a| a.number(i)) {
                    Some(NumberCell::Value(v)) => v,
                    Some(NumberCell::Invalid) => {
                        r[j] = fail(UnusableReason::NonNumericAmount);
                        continue;
                    }
                    Some(NumberCell::Empty) | None => derived,
                };
                if !amt[j].is_finite() {
                    // quantity × price overflowed: the inputs are absurd, not the arithmetic.
                    r[j] = fail(if amount.is_some() {
                        UnusableReason::NonNumericAmount
                    } else {
                        UnusableReason::NonNumericQuantity
                    });
                    continue;
                }
                let words = [
                    customer_key.unwrap_or_else(|| id_word(Some(id), &hasher)),
                    ts[j] as u64,
                    kind[j].code() as u64,
                    id_word(texts[0], &hasher),
                    item_key.unwrap_or_else(|| id_word(texts[1], &hasher)),
                    id_word(texts[2], &hasher),
                    qty[j].to_bits(),
                    pr[j].to_bits(),
                    amt[j].to_bits(),
                ];
                fp[j] = fold_words(&words);
            }
            seen
        })
        .reduce(TextChanges::numeric, TextChanges::merge);

    let mut unusable = Vec::new();
    for why in REASONS {
        let code = reason_code(why);
        let cells_at_fault = match why {
            UnusableReason::MissingCustomerId => Some(&customer),
            UnusableReason::UnparseableTimestamp => Some(&timestamp),
            UnusableReason::UnknownEventType => event.as_ref(),
            UnusableReason::NonNumericQuantity => quantity.as_ref(),
            UnusableReason::NonNumericPrice => price.as_ref(),
            UnusableReason::NonNumericAmount => amount.as_ref(),
        };
        let count = reason.par_iter().filter(|&&r| r == code).count() as u64;
        if count == 0 {
            continue;
        }
        let examples = reason
            .iter()
            .enumerate()
            .filter(|&(_, &r)| r == code)
            .take(MAX_EXAMPLES)
            .map(|(i, _)| RowExample { row: first_row + i as u64 + 1, value: cells_at_fault.and_then(|c| c.text(i)) })
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
    let text_column =
        |cells: &Option<Cells>, name: &str, changed: bool, norm: fn(&str) -> Option<&str>| -> Option<Column> {
            let cells = cells.as_ref()?;
            match cells {
                Cells::Text(ca, _) if !changed => {
                    return Some((*ca).clone().with_name(name.into()).into_column());
                }
                Cells::Integer(ca, _) => {
                    return (*ca).cast(&DataType::String).ok().map(|s| s.with_name(name.into()).into_column());
                }
                _ => {}
            }
            let values: Vec<Option<&str>> = (0..n).into_par_iter().map(|i| cells.str_at(i).and_then(norm)).collect();
            Some(StringChunked::from_slice_options(name.into(), &values).into_column())
        };
    let codes: Vec<i8> = kind_out.iter().map(|k| k.code()).collect();
    let event_column = Int8Chunked::from_vec(col_name::EVENT_CODE.into(), codes).into_column();
    let customer_column = Some(customer);
    let first = first_row as u32 + 1;
    let mut columns =
        vec![UInt32Chunked::from_iter_values(col_name::ROW.into(), first..first + n as u32).into_column()];
    if changes.numeric_ids {
        columns.push(key_column(col_name::CUSTOMER_KEY, &key_out));
    } else {
        drop(key_out);
        columns.extend(text_column(&customer_column, col_name::CUSTOMER_ID, changes.customer, parse::normalise_id));
    }
    columns.push(Int64Chunked::from_vec(col_name::TIMESTAMP_MS.into(), ts_out).into_column());
    columns.push(event_column);
    drop(kind_out);
    columns.extend(text_column(&order, col_name::ORDER_ID, changes.order, parse::normalise_id));
    let numeric_items = item.is_some() && changes.numeric_items;
    if numeric_items {
        columns.push(key_column(col_name::ITEM_KEY, &item_key_out));
    } else {
        columns.extend(text_column(&item, col_name::ITEM_ID, changes.item, parse::normalise_id));
    }
    drop(item_key_out);
    if let Some(category) = text_column(&category, col_name::CATEGORY, changes.category, normalise_category) {
        columns.push(category.cast(&crate::core::events::category_dtype())?);
    }
    columns.push(Float64Chunked::from_vec(col_name::QUANTITY.into(), qty_out).into_column());
    if price.is_some() {
        columns.push(
            Float64Chunked::from_iter_options(
                col_name::PRICE.into(),
                price_out.iter().map(|&p| (!p.is_nan()).then_some(p)),
            )
            .into_column(),
        );
    }
    drop(price_out);
    columns.push(Float64Chunked::from_vec(col_name::AMOUNT.into(), amount_out).into_column());
    columns.push(UInt64Chunked::from_vec(FINGERPRINT.into(), fingerprint).into_column());
    let mut df = DataFrame::new(n, columns)?;
    if reason.iter().any(|&r| r != OK) {
        df = df.filter(&BooleanChunked::from_iter_values("usable".into(), reason.iter().map(|&r| r == OK)))?;
    }
    Ok(CheckedBatch {
        df,
        rows_read: n as u64,
        unusable,
        numeric_ids: changes.numeric_ids,
        numeric_items: item.is_some() && changes.numeric_items,
    })
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

/// Joins checked batches into the events table: one id representation for
/// all (numeric keys only if every batch had them), exact duplicates removed
/// across batches, and the report's counts.
pub(super) fn assemble(
    batches: Vec<CheckedBatch>,
    mapping: &ColumnMapping,
) -> PolarsResult<(EventTable, QualityReport)> {
    let mut report = QualityReport { rows_read: batches.iter().map(|b| b.rows_read).sum(), ..Default::default() };
    for why in REASONS {
        let parts: Vec<&UnusableRows> =
            batches.iter().flat_map(|b| b.unusable.iter().filter(move |u| u.reason == why)).collect();
        let Some(first) = parts.first() else { continue };
        report.unusable.push(UnusableRows {
            count: parts.iter().map(|u| u.count).sum(),
            examples: parts.iter().flat_map(|u| u.examples.iter().cloned()).take(MAX_EXAMPLES).collect(),
            ..(*first).clone()
        });
    }
    report.rows_unusable = report.unusable.iter().map(|u| u.count).sum();

    let numeric_ids = batches.iter().all(|b| b.numeric_ids);
    let has_item = mapping.has(Canonical::ItemId);
    let numeric_items = has_item && batches.iter().all(|b| b.numeric_items);
    // One batch with an id past u32 makes the whole key column 64-bit.
    let wide = |key: &str| batches.iter().any(|b| b.df.column(key).is_ok_and(|c| c.dtype() == &DataType::UInt64));
    let wide_keys: Vec<&str> = [col_name::CUSTOMER_KEY, col_name::ITEM_KEY].into_iter().filter(|k| wide(k)).collect();
    let mut df: Option<DataFrame> = None;
    for batch in batches {
        let mut part = batch.df;
        for &key in &wide_keys {
            if let Ok(index) = part.try_get_column_index(key) {
                let widened = part.columns()[index].cast(&DataType::UInt64)?;
                part.replace_column(index, widened)?;
            }
        }
        // A batch with numeric ids joins others with text ids: write its numbers out.
        for (numeric, batch_numeric, key, text) in [
            (numeric_ids, batch.numeric_ids, col_name::CUSTOMER_KEY, col_name::CUSTOMER_ID),
            (numeric_items, batch.numeric_items, col_name::ITEM_KEY, col_name::ITEM_ID),
        ] {
            if !numeric && batch_numeric {
                let as_text = part.column(key)?.cast(&DataType::String)?.with_name(text.into());
                part.replace_column(part.try_get_column_index(key)?, as_text)?;
            }
        }
        match df.as_mut() {
            None => df = Some(part),
            Some(all) => {
                all.vstack_mut_owned(part)?;
            }
        }
    }
    let Some(mut df) = df else {
        polars_bail!(NoData: "no rows");
    };

    let t = crate::core::trace::phase("dedupe");
    let duplicates = find_duplicates(&df)?;
    report.duplicates_removed = duplicates.len() as u64;
    let rows = df.column(col_name::ROW)?.u32()?;
    report.duplicate_examples =
        duplicates.iter().take(MAX_EXAMPLES).filter_map(|&i| rows.get(i as usize).map(u64::from)).collect();
    let _ = df.drop_in_place(FINGERPRINT)?;
    if !duplicates.is_empty() {
        let mut keep = vec![true; df.height()];
        for &i in &duplicates {
            keep[i as usize] = false;
        }
        df = df.filter(&BooleanChunked::from_iter_values("keep".into(), keep.into_iter()))?;
    }
    drop(t);

    let _t = crate::core::trace::phase("summarise");
    let events = EventTable {
        df,
        has_order_id: mapping.has(Canonical::OrderId),
        has_item_id: has_item,
        has_category: mapping.has(Canonical::Category),
        has_price: mapping.has(Canonical::Price),
        has_customer_key: numeric_ids,
        has_item_key: numeric_items,
    };
    summarise(&events, &mut report)?;
    Ok((events, report))
}

/// Positions (ascending) of rows that repeat an earlier row exactly in every
/// canonical column. Fingerprints (a seeded hash of each row's values) are
/// sorted to find the few that occur twice; only rows carrying one of those
/// are compared in full, so a hash collision can never remove a row.
fn find_duplicates(df: &DataFrame) -> PolarsResult<Vec<u32>> {
    let fingerprint = df.column(FINGERPRINT)?.u64()?;
    let mut sorted: Vec<u64> = Vec::with_capacity(df.height());
    for arr in fingerprint.downcast_iter() {
        sorted.extend_from_slice(arr.values());
    }
    // Plain u64s sort twice as fast as (fingerprint, position) pairs.
    sorted.par_sort_unstable();
    let repeated: std::collections::HashSet<u64> =
        sorted.par_windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    drop(sorted);
    if repeated.is_empty() {
        return Ok(Vec::new());
    }
    // Rows with a repeated fingerprint, in file order, grouped by it.
    let mut groups: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    for (i, h) in fingerprint.into_no_null_iter().enumerate() {
        if repeated.contains(&h) {
            groups.entry(h).or_default().push(i);
        }
    }
    // Columns compared in full: all but the row number and the fingerprint.
    let compared: Vec<&Column> =
        df.columns().iter().filter(|c| c.name() != col_name::ROW && c.name() != FINGERPRINT).collect();
    let same = |a: usize, b: usize| -> PolarsResult<bool> {
        for c in &compared {
            if c.get(a)? != c.get(b)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let mut duplicates = Vec::new();
    for rows in groups.values() {
        // A row is a duplicate if an earlier kept row equals it.
        let mut kept: Vec<usize> = Vec::new();
        for &i in rows {
            let mut duplicate = false;
            for &k in &kept {
                if same(k, i)? {
                    duplicate = true;
                    break;
                }
            }
            if duplicate {
                duplicates.push(i as u32);
            } else {
                kept.push(i);
            }
        }
    }
    duplicates.sort_unstable();
    Ok(duplicates)
}

/// Counts what the usable table holds: customers, items, purchase orders.
/// Apart from the row counts because it costs three group-bys, which a
/// command that computes features anyway can skip.
pub(super) fn count_contents(events: &EventTable, report: &mut QualityReport) -> PolarsResult<()> {
    let mut aggs = vec![col(events.customer_key()).n_unique().cast(DataType::UInt64).alias("customers")];
    if events.has_item_id {
        aggs.push(col(events.item_key()).drop_nulls().n_unique().cast(DataType::UInt64).alias("items"));
    }
    let stats = events.df.clone().lazy().select(aggs).collect()?;
    let get = |name: &str| stats.column(name).ok().and_then(|c| c.u64().ok()).and_then(|c| c.get(0));
    report.customers = get("customers");
    report.items = get("items");
    report.purchase_orders = Some(events.purchase_orders().collect()?.height() as u64);
    Ok(())
}

/// Fills the row counts of the usable table into the report.
fn summarise(events: &EventTable, report: &mut QualityReport) -> PolarsResult<()> {
    use col_name::*;
    // A boolean column sums to its count of trues: no 8-byte-per-row copy as numbers.
    let count_if = |e: Expr| e.sum().cast(DataType::UInt64);
    let mut aggs = vec![
        count_if(is_kind(EventKind::View)).alias("view"),
        count_if(is_kind(EventKind::Cart)).alias("cart"),
        count_if(is_kind(EventKind::Purchase)).alias("purchase"),
        count_if(is_kind(EventKind::Purchase).and(col(QUANTITY).lt(lit(0.0)))).alias("returns"),
    ];
    if events.has_price {
        aggs.push(count_if(col(PRICE).lt(lit(0.0))).alias("negative_prices"));
        aggs.push(count_if(col(PRICE).eq(lit(0.0))).alias("zero_prices"));
    }
    let stats = events.df.clone().lazy().select(aggs).collect()?;
    let get =
        |name: &str| -> u64 { stats.column(name).ok().and_then(|c| c.u64().ok()).and_then(|c| c.get(0)).unwrap_or(0) };
    report.rows_usable = events.len() as u64;
    report.events = EventCounts { view: get("view"), cart: get("cart"), purchase: get("purchase") };
    report.returns = get("returns");
    report.negative_prices = get("negative_prices");
    report.zero_prices = get("zero_prices");
    report.first_timestamp = events.first_timestamp_ms().map(parse::format_ms);
    report.last_timestamp = events.last_timestamp_ms().map(parse::format_ms);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
