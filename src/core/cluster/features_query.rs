//! DATA.md §2 as DataFusion SQL over a Parquet dataset. The same query runs
//! on a Ballista cluster (`ballista://HOST:PORT`) or in one process
//! (DataFusion alone, for tests and comparisons); only one row per customer
//! comes back.
//!
//! Row rules (which cells are usable, what amount a line has) are the
//! importer's: the cell functions call its parsers, and the reasons are
//! checked in its order (`import::REASONS`), so a row left out locally is
//! left out here, for the same reason.

use std::path::Path;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use polars::prelude::*;

use super::arrow_frames::{Want, frame};
use super::cell_functions::{Cell, cell_functions};
use super::{ClusterError, ClusterFeatures, Engine, runtime};
use crate::core::events::{EventTable, col_name};
use crate::core::features::{CustomerFeatures, FeatureColumns, FeatureError, finish};
use crate::core::import::parse::format_ms;
use crate::core::import::quality::{EventCounts, QualityReport, UnusableRows};
use crate::core::import::{Canonical, ColumnMapping, LoadedEvents, REASONS, describe_mapping_problem, parquet_files};
use crate::core::progress::Progress;

/// Partitions a query is cut into: enough for every executor core to have
/// work, not so many that scheduling dominates.
const DEFAULT_PARTITIONS: usize = 8;

/// The dataset as the query sees it: its files, columns and mapping.
struct Dataset {
    shown: String,
    /// A file, or a directory URL ending in `/` (DataFusion reads every Parquet file in it).
    table_path: String,
    files: usize,
    mapping: ColumnMapping,
    headers: Vec<String>,
}

impl Dataset {
    fn open(path: &Path, overrides: &[(Canonical, String)]) -> Result<Dataset, ClusterError> {
        let shown = path.display().to_string();
        let bad = |message: String| ClusterError::Dataset { path: shown.clone(), message };
        let absolute = std::fs::canonicalize(path).map_err(|e| bad(format!("cannot open: {e}")))?;
        let (table_path, files) = if absolute.is_dir() {
            let files = parquet_files(&absolute).map_err(|e| bad(e.to_string()))?;
            if files.is_empty() {
                return Err(bad("a directory without Parquet files; a cluster reads Parquet".into()));
            }
            (format!("{}/", absolute.display()), files.len())
        } else {
            let ext = absolute.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            if !matches!(ext.as_deref(), Some("parquet" | "pq")) {
                return Err(bad(
                    "a cluster reads Parquet (a file, or a directory of files every executor can read); save the events as Parquet first".into(),
                ));
            }
            (absolute.display().to_string(), 1)
        };
        let file = crate::core::import::EventsFile::open(path).map_err(|e| bad(e.to_string()))?;
        let (mapping, problems) = ColumnMapping::propose(&file.headers, overrides);
        if !problems.is_empty() {
            let message =
                problems.iter().map(|p| describe_mapping_problem(p, &file.headers)).collect::<Vec<_>>().join("; ");
            return Err(ClusterError::Mapping { path: shown, message });
        }
        Ok(Dataset { shown, table_path, files, mapping, headers: file.headers })
    }

    /// The file column mapped to `canonical`, quoted for SQL.
    fn mapped(&self, canonical: Canonical) -> Option<String> {
        self.mapping.get(canonical).map(quote)
    }

    /// Unmapped columns: read only for the exact-duplicate rule.
    fn others(&self) -> Vec<String> {
        let mapped: Vec<&str> = self.mapping.columns.values().map(String::as_str).collect();
        self.headers.iter().filter(|h| !mapped.contains(&h.as_str())).map(|h| quote(h)).collect()
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The code a row gets for its first failing check (0: usable); the order is the importer's.
fn reason_code(reason: crate::core::import::UnusableReason) -> usize {
    REASONS.iter().position(|&r| r == reason).map_or(0, |i| i + 1)
}

/// `cells` (every row's cells read by the importer's rules, plus the raw
/// unmapped columns) and `checked` (the same with `quantity`, `amount` and
/// `reason`, 0 for a usable row).
fn checked_rows_sql(data: &Dataset) -> String {
    use crate::core::import::UnusableReason as R;
    let cell = |c: Cell, canonical: Canonical, absent: &str| match data.mapped(canonical) {
        Some(column) => format!("{}({column})", c.function_name()),
        None => absent.to_string(),
    };
    let others: String = data.others().iter().enumerate().map(|(i, c)| format!(", {c} AS other_{i}")).collect();
    let has_amount = data.mapping.has(Canonical::Amount);
    // quantity × price overflowing is the inputs' fault: the amount's where
    // the file has one, else the quantity's (as the importer says).
    let overflow = if has_amount { reason_code(R::NonNumericAmount) } else { reason_code(R::NonNumericQuantity) };
    format!(
        "cells AS (
  SELECT {customer} AS customer_id, {time} AS timestamp_ms, {event} AS event_code,
         {order} AS order_id, {item} AS item_id, {category} AS category,
         {quantity} AS quantity_cell, {price} AS price, {amount} AS amount_cell{others}
  FROM events),
valued AS (
  SELECT *, COALESCE(quantity_cell, 1.0) AS quantity,
         CASE WHEN amount_cell IS NOT NULL THEN amount_cell
              WHEN price IS NULL THEN 0.0
              ELSE COALESCE(quantity_cell, 1.0) * price END AS amount
  FROM cells),
checked AS (
  SELECT *, CASE
      WHEN customer_id IS NULL THEN {r_customer}
      WHEN timestamp_ms IS NULL THEN {r_time}
      WHEN event_code IS NULL THEN {r_event}
      WHEN isnan(quantity_cell) THEN {r_quantity}
      WHEN isnan(price) THEN {r_price}
      WHEN isnan(amount_cell) THEN {r_amount}
      WHEN NOT (abs(amount) <= 1.7976931348623157e308) THEN {overflow}
      ELSE 0 END AS reason
  FROM valued)",
        customer = cell(Cell::Id, Canonical::CustomerId, "CAST(NULL AS VARCHAR)"),
        time = cell(Cell::TimeMs, Canonical::Timestamp, "CAST(NULL AS BIGINT)"),
        event = cell(Cell::EventCode, Canonical::EventType, "CAST(2 AS TINYINT)"),
        order = cell(Cell::Id, Canonical::OrderId, "CAST(NULL AS VARCHAR)"),
        item = cell(Cell::Id, Canonical::ItemId, "CAST(NULL AS VARCHAR)"),
        category = cell(Cell::Text, Canonical::Category, "CAST(NULL AS VARCHAR)"),
        quantity = cell(Cell::Number, Canonical::Quantity, "CAST(NULL AS DOUBLE)"),
        price = cell(Cell::Number, Canonical::Price, "CAST(NULL AS DOUBLE)"),
        amount = cell(Cell::Number, Canonical::Amount, "CAST(NULL AS DOUBLE)"),
        r_customer = reason_code(R::MissingCustomerId),
        r_time = reason_code(R::UnparseableTimestamp),
        r_event = reason_code(R::UnknownEventType),
        r_quantity = reason_code(R::NonNumericQuantity),
        r_price = reason_code(R::NonNumericPrice),
        r_amount = reason_code(R::NonNumericAmount),
    )
}

/// The usable rows with exact duplicates removed: rows equal in every column
/// of the file, mapped (as read) or not, are one row (DATA.md §2).
fn usable_rows_sql(data: &Dataset, as_of_ms: Option<i64>) -> String {
    // Columns the file lacks are null in every row: left out of the
    // comparison (an all-null key column made DataFusion's group-by eight
    // times slower) and added back after it.
    let mut key = vec!["customer_id", "timestamp_ms", "event_code"];
    let mut absent = Vec::new();
    for (canonical, name) in [
        (Canonical::OrderId, "order_id"),
        (Canonical::ItemId, "item_id"),
        (Canonical::Category, "category"),
        (Canonical::Price, "price"),
    ] {
        if data.mapping.has(canonical) {
            key.push(name);
        } else {
            absent.push(if name == "price" {
                "CAST(NULL AS DOUBLE) AS price".to_string()
            } else {
                format!("CAST(NULL AS VARCHAR) AS {name}")
            });
        }
    }
    key.extend(["quantity", "amount"]);
    let others: String = (0..data.others().len()).map(|i| format!(", other_{i}")).collect();
    let absent: String = absent.iter().map(|a| format!(", {a}")).collect();
    let cut = as_of_ms.map(|t| format!(" AND timestamp_ms <= {t}")).unwrap_or_default();
    format!(
        "usable AS (
  SELECT distinct_rows.*{absent} FROM (
    SELECT DISTINCT {key}{others}
    FROM checked WHERE reason = 0{cut}) distinct_rows)",
        key = key.join(", ")
    )
}

/// One row per customer: the aggregates [`finish`] turns into DATA.md §2's
/// features, and the report's counts.
fn features_sql(data: &Dataset, as_of_ms: Option<i64>) -> String {
    let bought = "event_code = 2 AND quantity > 0";
    // An order is its order id where the file has one, else its (customer, time).
    let order_key = if data.mapping.has(Canonical::OrderId) { "order_id" } else { "timestamp_ms" };
    // Distinct items and categories per customer as two group-bys, not
    // COUNT(DISTINCT …): DataFusion keeps a hash set per customer for that,
    // which took 12 GB and 100 s on 480k customers.
    let (mut variety, mut variety_columns, mut variety_joins) = (String::new(), String::new(), String::new());
    for (canonical, column, name) in
        [(Canonical::ItemId, "item_id", "distinct_items"), (Canonical::Category, "category", "distinct_categories")]
    {
        if !data.mapping.has(canonical) {
            continue;
        }
        variety.push_str(&format!(
            "{name} AS (
  SELECT customer_id, COUNT(*) AS {name} FROM (
    SELECT customer_id, {column} FROM usable WHERE {bought} AND {column} IS NOT NULL GROUP BY customer_id, {column}) pairs
  GROUP BY customer_id),
"
        ));
        variety_columns.push_str(&format!(", {name}.{name}"));
        variety_joins.push_str(&format!("\nLEFT JOIN {name} ON c.customer_id = {name}.customer_id"));
    }
    format!(
        "WITH {checked},
{usable},
per_customer AS (
  SELECT customer_id,
         MIN(timestamp_ms) AS first_event_ms, MAX(timestamp_ms) AS last_event_ms,
         SUM(CASE WHEN event_code = 0 THEN 1 ELSE 0 END) AS views,
         SUM(CASE WHEN event_code = 1 THEN 1 ELSE 0 END) AS carts,
         SUM(CASE WHEN event_code = 2 THEN 1 ELSE 0 END) AS purchases,
         SUM(CASE WHEN event_code = 2 THEN amount END) AS monetary,
         SUM(CASE WHEN price < 0 THEN 1 ELSE 0 END) AS negative_prices,
         SUM(CASE WHEN price = 0 THEN 1 ELSE 0 END) AS zero_prices,
         SUM(CASE WHEN event_code = 2 AND quantity < 0 THEN 1 ELSE 0 END) AS returns
  FROM usable GROUP BY customer_id),
{variety}orders AS (
  SELECT customer_id, MIN(timestamp_ms) AS order_ms
  FROM usable WHERE {bought} GROUP BY customer_id, {order_key}),
order_stats AS (
  SELECT customer_id, MIN(order_ms) AS first_ms, MAX(order_ms) AS last_ms, COUNT(*) AS frequency
  FROM orders GROUP BY customer_id),
spent AS (
  SELECT customer_id, category, SUM(amount) AS category_amount
  FROM usable WHERE event_code = 2 AND category IS NOT NULL GROUP BY customer_id, category),
top AS (
  SELECT customer_id, category AS top_category FROM (
    SELECT customer_id, category,
           ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY category_amount DESC, category ASC) AS place
    FROM spent) ranked
  WHERE place = 1)
SELECT c.*, o.first_ms, o.last_ms, o.frequency, t.top_category{variety_columns}
FROM per_customer c
LEFT JOIN order_stats o ON c.customer_id = o.customer_id
LEFT JOIN top t ON c.customer_id = t.customer_id{variety_joins}",
        checked = checked_rows_sql(data),
        usable = usable_rows_sql(data, as_of_ms),
    )
}

/// Rows per reason (0: usable), over the whole dataset.
fn reasons_sql(data: &Dataset) -> String {
    format!("WITH {} SELECT reason, COUNT(*) AS row_count FROM checked GROUP BY reason", checked_rows_sql(data))
}

/// The usable, de-duplicated rows in the canonical columns.
fn events_sql(data: &Dataset) -> String {
    format!(
        "WITH {},
{}
SELECT customer_id, timestamp_ms, event_code, order_id, item_id, category, quantity, price, amount FROM usable",
        checked_rows_sql(data),
        usable_rows_sql(data, None)
    )
}

/// A session that knows the cell functions: on the cluster through
/// `engine`'s scheduler, or DataFusion in this process.
async fn session(engine: &Engine, partitions: usize) -> Result<SessionContext, ClusterError> {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let ctx = match engine.scheduler_url() {
        None => SessionContext::new_with_config(config),
        Some(url) => {
            reachable(engine)?;
            // The static planner, not Ballista 55's adaptive one (AQE, its
            // default): under AQE, a stage re-run after an executor is lost
            // can leave the job running forever (apache/datafusion-ballista
            // #2150, #1601). The static planner's re-runs end, but were seen
            // to miscount, so the scheduler stops such jobs (nodes.rs) and
            // run_checked runs the query again.
            let config = config.upgrade_for_ballista().with_ballista_adaptive_query_planner(false);
            let state = SessionStateBuilder::new().with_default_features().with_config(config).build();
            SessionContext::remote_with_state(&url, state).await.map_err(|e| ClusterError::Connect {
                scheduler: engine.to_string(),
                message: first_line(&e.to_string()),
            })?
        }
    };
    // After the Ballista upgrade, which builds the session's state anew.
    for f in cell_functions() {
        ctx.register_udf(f.as_ref().clone());
    }
    Ok(ctx)
}

/// Fails early, naming the address, when nothing answers at the scheduler's
/// address (Ballista would only say so when the first query is sent).
fn reachable(engine: &Engine) -> Result<(), ClusterError> {
    use std::net::ToSocketAddrs;
    let Engine::Ballista { scheduler } = engine else { return Ok(()) };
    let unreachable = |message: String| ClusterError::Connect { scheduler: scheduler.clone(), message };
    let addresses: Vec<_> = scheduler.to_socket_addrs().map_err(|e| unreachable(e.to_string()))?.collect();
    let mut last = String::from("the name has no address");
    for address in addresses {
        match std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(unreachable(format!("{last}; is `promo-studio cluster scheduler` running there?")))
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().to_string()
}

/// Runs `sql`, polling `progress` for a cancel while it runs.
async fn collect(
    ctx: &SessionContext,
    sql: &str,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<Vec<RecordBatch>, ClusterError> {
    let failed = |e: datafusion::error::DataFusionError| {
        let message = e.to_string();
        // The scheduler stops a job an executor's loss touched (nodes.rs):
        // the job ends "Cancelled" though nobody here asked for it.
        if message.ends_with("failed: Cancelled") && !progress.is_cancelled() {
            ClusterError::ExecutorLost { path: data.shown.clone() }
        } else {
            ClusterError::Query { path: data.shown.clone(), message }
        }
    };
    let run = async { ctx.sql(sql).await.map_err(failed)?.collect().await.map_err(failed) };
    tokio::pin!(run);
    loop {
        tokio::select! {
            result = &mut run => return result,
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                if progress.is_cancelled() {
                    return Err(ClusterError::Cancelled);
                }
            }
        }
    }
}

/// The customer features of the Parquet dataset at `path` (a file or a
/// directory of files every executor can read), computed by `engine`.
pub fn cluster_features(
    engine: &Engine,
    path: &Path,
    overrides: &[(Canonical, String)],
    as_of_ms: Option<i64>,
    progress: &dyn Progress,
) -> Result<ClusterFeatures, ClusterError> {
    let data = Dataset::open(path, overrides)?;
    let step = ("aggregating customers", "cluster: customers");
    let (reasons, batches) = run_checked(engine, &data, &features_sql(&data, as_of_ms), step, progress)?;
    progress.update(Some(0.95), "building the customer table");
    assemble(engine, &data, &reasons, &batches, as_of_ms)
}

/// Runs the rows-per-reason query, then `sql`, on `engine`: what both entry
/// points do. `step` is the second query's phrase for the progress bar and
/// its name in the trace.
fn run_checked(
    engine: &Engine,
    data: &Dataset,
    sql: &str,
    step: (&str, &'static str),
    progress: &dyn Progress,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>), ClusterError> {
    let runtime = runtime("query")?;
    let attempt = || {
        runtime.block_on(async {
            progress.update(None, &format!("connecting to {engine}"));
            let ctx = session(engine, DEFAULT_PARTITIONS.max(data.files)).await?;
            register(&ctx, data).await?;
            progress.update(Some(0.1), &format!("checking {} rows' cells on {engine}", data.shown));
            let reasons = {
                let _t = crate::core::trace::phase("cluster: rows per reason");
                collect(&ctx, &reasons_sql(data), data, progress).await?
            };
            progress.update(Some(0.4), &format!("{} on {engine}", step.0));
            let _t = crate::core::trace::phase(step.1);
            Ok((reasons, collect(&ctx, sql, data, progress).await?))
        })
    };
    // A job an executor's loss touched was stopped by the scheduler: the
    // executors left run the whole query again, once.
    match attempt() {
        Err(ClusterError::ExecutorLost { .. }) => {
            progress.update(None, &format!("an executor was lost; running the query again on {engine}"));
            attempt()
        }
        result => result,
    }
}

async fn register(ctx: &SessionContext, data: &Dataset) -> Result<(), ClusterError> {
    let options = ParquetReadOptions::default();
    ctx.register_parquet("events", &data.table_path, options)
        .await
        .map_err(|e| ClusterError::Dataset { path: data.shown.clone(), message: first_line(&e.to_string()) })
}

/// The customer table and the report from the two queries' results.
fn assemble(
    engine: &Engine,
    data: &Dataset,
    reasons: &[RecordBatch],
    batches: &[RecordBatch],
    as_of_ms: Option<i64>,
) -> Result<ClusterFeatures, ClusterError> {
    let query_error = |e: PolarsError| ClusterError::Query { path: data.shown.clone(), message: e.to_string() };
    let (mut report, usable_before) = quality_counts(engine, data, reasons).map_err(query_error)?;
    let columns = FeatureColumns {
        has_item_id: data.mapping.has(Canonical::ItemId),
        has_category: data.mapping.has(Canonical::Category),
    };
    let mut wanted = vec![
        ("customer_id", Want::Text),
        ("first_event_ms", Want::I64),
        ("last_event_ms", Want::I64),
        ("views", Want::U32),
        ("carts", Want::U32),
        ("purchases", Want::U32),
        ("monetary", Want::F64),
        ("negative_prices", Want::I64),
        ("zero_prices", Want::I64),
        ("returns", Want::I64),
        ("first_ms", Want::I64),
        ("last_ms", Want::I64),
        ("frequency", Want::U32),
    ];
    if columns.has_item_id {
        wanted.push(("distinct_items", Want::U32));
    }
    if columns.has_category {
        wanted.extend([("distinct_categories", Want::U32), ("top_category", Want::Text)]);
    }
    let table = frame(batches, &wanted).map_err(query_error)?;
    if table.height() == 0 {
        if let Some(t) = as_of_ms {
            return Err(FeatureError::NothingBeforeAsOf { as_of: format_ms(t), first: String::new() }.into());
        }
        return Err(ClusterError::NoUsableRows { path: data.shown.clone(), rows_read: report.rows_read });
    }
    let total = |name: &str| -> u64 {
        table
            .column(name)
            .ok()
            .and_then(|c| c.cast(&DataType::UInt64).ok())
            .and_then(|c| c.u64().ok().and_then(|v| v.sum()))
            .unwrap_or(0)
    };
    let (first_event, last_event) = (
        table.column("first_event_ms").ok().and_then(|c| c.i64().ok()?.min()),
        table.column("last_event_ms").ok().and_then(|c| c.i64().ok()?.max()),
    );
    let as_of = as_of_ms.or(last_event).unwrap_or_default();
    report.events = EventCounts { view: total("views"), cart: total("carts"), purchase: total("purchases") };
    report.rows_usable = report.events.view + report.events.cart + report.events.purchase;
    report.duplicates_removed = usable_before.saturating_sub(report.rows_usable);
    report.negative_prices = total("negative_prices");
    report.zero_prices = total("zero_prices");
    report.returns = total("returns");
    report.first_timestamp = first_event.map(format_ms);
    report.last_timestamp = last_event.map(format_ms);
    report.customers = Some(table.height() as u64);
    report.purchase_orders = Some(total("frequency"));
    let df = finish(table.lazy(), col("customer_id"), as_of, columns).collect().map_err(query_error)?;
    Ok(ClusterFeatures { features: CustomerFeatures { df, as_of_ms: as_of }, report })
}

/// The report's row counts from the rows-per-reason query, and how many
/// rows were usable before exact duplicates were removed.
fn quality_counts(engine: &Engine, data: &Dataset, reasons: &[RecordBatch]) -> PolarsResult<(QualityReport, u64)> {
    let files = if data.files > 1 { format!("Parquet, {} files", data.files) } else { "Parquet".into() };
    let mut report = QualityReport {
        file: data.shown.clone(),
        format: match engine {
            Engine::Local | Engine::DataFusion => format!("{files}, read by DataFusion"),
            engine => format!("{files}, read on {engine}"),
        },
        columns_found: data.headers.clone(),
        mapping: data.mapping.columns.iter().map(|(c, f)| (c.name().to_string(), f.clone())).collect(),
        ..Default::default()
    };
    let per_reason = frame(reasons, &[("reason", Want::I64), ("row_count", Want::I64)])?;
    let mut counts = vec![0u64; REASONS.len() + 1];
    for (code, n) in per_reason.column("reason")?.i64()?.iter().zip(per_reason.column("row_count")?.i64()?.iter()) {
        if let (Some(slot), Some(n)) = (code.and_then(|c| counts.get_mut(usize::try_from(c).ok()?)), n) {
            *slot += n.max(0) as u64;
        }
    }
    report.rows_read = counts.iter().sum();
    for (i, &why) in REASONS.iter().enumerate() {
        let count = counts[i + 1];
        if count > 0 {
            report.unusable.push(UnusableRows {
                reason: why,
                column: why.column().name().to_string(),
                file_column: data.mapping.get(why.column()).unwrap_or_default().to_string(),
                count,
                examples: Vec::new(),
            });
        }
    }
    report.rows_unusable = report.unusable.iter().map(|u| u.count).sum();
    Ok((report, counts[0]))
}

/// The usable, de-duplicated events of the dataset, checked on the cluster
/// and pulled back in canonical columns, for commands that need events
/// rather than the customer table (customer value, recommendations,
/// campaigns). Rows come back sorted by customer and time; `row` numbers
/// them in that order, not in the files' order.
pub fn cluster_events(
    engine: &Engine,
    path: &Path,
    overrides: &[(Canonical, String)],
    progress: &dyn Progress,
) -> Result<LoadedEvents, ClusterError> {
    let data = Dataset::open(path, overrides)?;
    let step = ("reading the usable rows", "cluster: usable rows");
    let (reasons, batches) = run_checked(engine, &data, &events_sql(&data), step, progress)?;
    let query_error = |e: PolarsError| ClusterError::Query { path: data.shown.clone(), message: e.to_string() };
    let (mut report, usable_before) = quality_counts(engine, &data, &reasons).map_err(query_error)?;
    let has = |c: Canonical| data.mapping.has(c);
    let mut wanted = vec![
        (col_name::CUSTOMER_ID, Want::Text),
        (col_name::TIMESTAMP_MS, Want::I64),
        (col_name::EVENT_CODE, Want::I8),
        (col_name::QUANTITY, Want::F64),
        (col_name::AMOUNT, Want::F64),
    ];
    for (canonical, name, want) in [
        (Canonical::OrderId, col_name::ORDER_ID, Want::Text),
        (Canonical::ItemId, col_name::ITEM_ID, Want::Text),
        (Canonical::Category, col_name::CATEGORY, Want::Categorical),
        (Canonical::Price, col_name::PRICE, Want::F64),
    ] {
        if has(canonical) {
            wanted.push((name, want));
        }
    }
    let df = frame(&batches, &wanted).map_err(query_error)?;
    // Results arrive in whatever order the executors finish: sort by every
    // canonical column, so that the same data gives the same table.
    let by: Vec<PlSmallStr> = wanted.iter().map(|(n, _)| PlSmallStr::from(*n)).collect();
    let mut df = df.sort(by, SortMultipleOptions::default().with_nulls_last(true)).map_err(query_error)?;
    let n = df.height();
    df.with_column(UInt32Chunked::from_iter_values(col_name::ROW.into(), 1..=n as u32).into_column())
        .map_err(query_error)?;
    let events = EventTable {
        df,
        has_order_id: has(Canonical::OrderId),
        has_item_id: has(Canonical::ItemId),
        has_category: has(Canonical::Category),
        has_price: has(Canonical::Price),
        has_customer_key: false,
        has_item_key: false,
    };
    if events.is_empty() {
        return Err(ClusterError::NoUsableRows { path: data.shown.clone(), rows_read: report.rows_read });
    }
    report.rows_usable = n as u64;
    report.duplicates_removed = usable_before.saturating_sub(report.rows_usable);
    crate::core::import::summarise_into(&events, &mut report).map_err(query_error)?;
    Ok(LoadedEvents { events, report })
}
