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
        _ => c.cast(DataType::String),
    }
}

/// One raw column, in the physical form `raw_expr` produced.
enum Cells<'a> {
    Text(&'a StringChunked),
    Number(&'a Float64Chunked),
    Millis(&'a Int64Chunked),
}

impl Cells<'_> {
    fn text(&self, i: usize) -> Option<String> {
        match self {
            Cells::Text(c) => c.get(i).map(str::to_string),
            Cells::Number(c) => c.get(i).map(|v| v.to_string()),
            Cells::Millis(c) => c.get(i).map(parse::format_ms),
        }
    }

    fn number(&self, i: usize) -> NumberCell {
        match self {
            Cells::Text(c) => c.get(i).map_or(NumberCell::Empty, parse::parse_number),
            Cells::Number(c) => match c.get(i) {
                None => NumberCell::Empty,
                Some(v) if v.is_finite() => NumberCell::Value(v),
                Some(_) => NumberCell::Invalid,
            },
            Cells::Millis(c) => c.get(i).map_or(NumberCell::Empty, |v| NumberCell::Value(v as f64)),
        }
    }

    fn timestamp(&self, i: usize) -> Option<i64> {
        match self {
            Cells::Text(c) => c.get(i).and_then(parse::parse_timestamp),
            Cells::Millis(c) => c.get(i),
            Cells::Number(c) => c.get(i).and_then(|v| parse::parse_timestamp(&format!("{v:.0}"))),
        }
    }

    fn str_at(&self, i: usize) -> Option<&str> {
        match self {
            Cells::Text(c) => c.get(i),
            _ => None,
        }
    }
}

fn cells<'a>(series: &'a [(Canonical, Series)], canonical: Canonical) -> PolarsResult<Option<Cells<'a>>> {
    let Some((_, s)) = series.iter().find(|(c, _)| *c == canonical) else {
        return Ok(None);
    };
    Ok(Some(match s.dtype() {
        DataType::String => Cells::Text(s.str()?),
        DataType::Float64 => Cells::Number(s.f64()?),
        DataType::Int64 => Cells::Millis(s.i64()?),
        other => polars_bail!(ComputeError: "unexpected type {other} for column {canonical}"),
    }))
}

const OK: u8 = 0;

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

/// Checks and converts every row of the raw columns.
pub(super) fn check_rows(raw: &DataFrame, mapping: &ColumnMapping) -> PolarsResult<(EventTable, QualityReport)> {
    let n = raw.height();
    let series: Vec<(Canonical, Series)> = mapping
        .columns
        .keys()
        .map(|c| Ok((*c, raw.column(c.name())?.as_materialized_series().rechunk())))
        .collect::<PolarsResult<_>>()?;
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
    let mut customer_out: Vec<Option<&str>> = vec![None; n];
    let mut ts_out = vec![0i64; n];
    let mut kind_out = vec![EventKind::Purchase; n];
    let mut qty_out = vec![1.0f64; n];
    let mut price_out: Vec<Option<f64>> = vec![None; n];
    let mut amount_out = vec![0.0f64; n];

    reason
        .par_chunks_mut(CHUNK)
        .zip(customer_out.par_chunks_mut(CHUNK))
        .zip(ts_out.par_chunks_mut(CHUNK))
        .zip(kind_out.par_chunks_mut(CHUNK))
        .zip(qty_out.par_chunks_mut(CHUNK))
        .zip(price_out.par_chunks_mut(CHUNK))
        .zip(amount_out.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(chunk, ((((((r, cust), ts), kind), qty), pr), amt))| {
            let base = chunk * CHUNK;
            for j in 0..r.len() {
                let i = base + j;
                let fail = |why| reason_code(why);
                // Ids always arrive as text: raw_expr casts them.
                cust[j] = customer.str_at(i).and_then(parse::normalise_id);
                if cust[j].is_none() {
                    r[j] = fail(UnusableReason::MissingCustomerId);
                    continue;
                }
                match timestamp.timestamp(i) {
                    Some(t) => ts[j] = t,
                    None => {
                        r[j] = fail(UnusableReason::UnparseableTimestamp);
                        continue;
                    }
                }
                if let Some(event) = &event {
                    match event.str_at(i).and_then(EventKind::parse) {
                        Some(k) => kind[j] = k,
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
                        NumberCell::Value(v) => pr[j] = Some(v),
                        NumberCell::Empty => {}
                        NumberCell::Invalid => {
                            r[j] = fail(UnusableReason::NonNumericPrice);
                            continue;
                        }
                    }
                }
                let derived = pr[j].map_or(0.0, |p| qty[j] * p);
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
                    r[j] = fail(if amount.is_some() { UnusableReason::NonNumericAmount } else { UnusableReason::NonNumericQuantity });
                }
            }
        });

    let mut report = QualityReport { rows_read: n as u64, ..Default::default() };
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
            .map(|(i, _)| RowExample { row: i as u64 + 1, value: cells_at_fault.and_then(|c| c.text(i)) })
            .collect();
        report.unusable.push(UnusableRows {
            reason: why,
            column: why.column().name().to_string(),
            file_column: mapping.get(why.column()).unwrap_or_default().to_string(),
            count,
            examples,
        });
    }
    report.rows_unusable = report.unusable.iter().map(|u| u.count).sum();

    let text_column = |cells: &Option<Cells>, name: &str, is_id: bool| -> Option<Column> {
        let cells = cells.as_ref()?;
        let values: Vec<Option<&str>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let v = cells.str_at(i)?;
                if is_id { parse::normalise_id(v) } else { Some(v.trim()).filter(|s| !s.is_empty()) }
            })
            .collect();
        Some(StringChunked::from_slice_options(name.into(), &values).into_column())
    };
    let kinds: Vec<&str> = kind_out.iter().map(|k| k.as_str()).collect();
    let mut columns = vec![
        UInt64Chunked::from_vec(col_name::ROW.into(), (1..=n as u64).collect()).into_column(),
        StringChunked::from_slice_options(col_name::CUSTOMER_ID.into(), &customer_out).into_column(),
        Int64Chunked::from_vec(col_name::TIMESTAMP_MS.into(), ts_out).into_column(),
        StringChunked::from_slice(col_name::EVENT_TYPE.into(), &kinds).into_column(),
    ];
    drop(kinds);
    columns.extend(text_column(&order, col_name::ORDER_ID, true));
    columns.extend(text_column(&item, col_name::ITEM_ID, true));
    columns.extend(text_column(&category, col_name::CATEGORY, false));
    columns.push(Float64Chunked::from_vec(col_name::QUANTITY.into(), qty_out).into_column());
    if price.is_some() {
        columns.push(Float64Chunked::from_slice_options(col_name::PRICE.into(), &price_out).into_column());
    }
    columns.push(Float64Chunked::from_vec(col_name::AMOUNT.into(), amount_out).into_column());
    let usable_mask = BooleanChunked::from_iter_values("usable".into(), reason.iter().map(|&r| r == OK));
    let checked = DataFrame::new(n, columns)?.filter(&usable_mask)?;
    drop(customer_out);

    // Exact duplicates: identical in every canonical column (the row number aside).
    let subset: Vec<String> = checked
        .get_column_names()
        .into_iter()
        .filter(|c| c.as_str() != col_name::ROW)
        .map(|c| c.to_string())
        .collect();
    let df = checked.unique_stable(Some(&subset), UniqueKeepStrategy::First, None)?;
    report.duplicates_removed = (checked.height() - df.height()) as u64;
    if report.duplicates_removed > 0 {
        report.duplicate_examples = removed_rows(&checked, &df, MAX_EXAMPLES)?;
    }

    let events = EventTable {
        df,
        has_order_id: order.is_some(),
        has_item_id: item.is_some(),
        has_category: category.is_some(),
        has_price: price.is_some(),
    };
    summarise(&events, &mut report)?;
    Ok((events, report))
}

/// The first `max` row numbers present in `before` but not in `after` (both in file order).
fn removed_rows(before: &DataFrame, after: &DataFrame, max: usize) -> PolarsResult<Vec<u64>> {
    let b = before.column(col_name::ROW)?.u64()?;
    let a = after.column(col_name::ROW)?.u64()?;
    let mut kept = a.into_no_null_iter().peekable();
    let mut out = Vec::new();
    for row in b.into_no_null_iter() {
        if kept.peek() == Some(&row) {
            kept.next();
        } else {
            out.push(row);
            if out.len() == max {
                break;
            }
        }
    }
    Ok(out)
}

/// Fills the counts of the usable table into the report.
fn summarise(events: &EventTable, report: &mut QualityReport) -> PolarsResult<()> {
    use col_name::*;
    let count_if = |e: Expr| e.cast(DataType::UInt64).sum();
    let mut aggs = vec![
        count_if(is_kind(EventKind::View)).alias("view"),
        count_if(is_kind(EventKind::Cart)).alias("cart"),
        count_if(is_kind(EventKind::Purchase)).alias("purchase"),
        count_if(is_kind(EventKind::Purchase).and(col(QUANTITY).lt(lit(0.0)))).alias("returns"),
        col(CUSTOMER_ID).n_unique().cast(DataType::UInt64).alias("customers"),
    ];
    if events.has_price {
        aggs.push(count_if(col(PRICE).lt(lit(0.0))).alias("negative_prices"));
        aggs.push(count_if(col(PRICE).eq(lit(0.0))).alias("zero_prices"));
    }
    if events.has_item_id {
        aggs.push(col(ITEM_ID).drop_nulls().n_unique().cast(DataType::UInt64).alias("items"));
    }
    let stats = events.df.clone().lazy().select(aggs).collect()?;
    let get = |name: &str| -> u64 {
        stats.column(name).ok().and_then(|c| c.u64().ok()).and_then(|c| c.get(0)).unwrap_or(0)
    };
    report.rows_usable = events.len() as u64;
    report.events = EventCounts { view: get("view"), cart: get("cart"), purchase: get("purchase") };
    report.returns = get("returns");
    report.customers = get("customers");
    report.negative_prices = get("negative_prices");
    report.zero_prices = get("zero_prices");
    report.items = events.has_item_id.then(|| get("items"));
    report.purchase_orders = events.purchase_orders().collect()?.height() as u64;
    report.first_timestamp = events.first_timestamp_ms().map(parse::format_ms);
    report.last_timestamp = events.last_timestamp_ms().map(parse::format_ms);
    Ok(())
}
