//! The dataset stage: an events file, previewed and mapped, then loaded with
//! its quality report, customer features, customer value and an optional
//! product catalogue.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::StageError;
use super::browse::{EventRows, FeatureRows};
use crate::core::cluster::Engine;
use crate::core::features::{CustomerFeatures, customer_features};
use crate::core::import::parse::normalise_name;
use crate::core::import::{
    Canonical, ColumnMapping, EventsFile, ImportError, QualityReport, ReportDetail, TextEncoding,
    describe_mapping_problem,
};
use crate::core::pipeline::{Choices, Stage};
use crate::core::progress::{Progress, step};
use crate::core::value::{CustomerValue, TimeUnit, customer_value};

/// Rows shown in the mapping preview.
pub const PREVIEW_ROWS: usize = 8;

/// What a file holds before it is loaded: its columns, the proposed mapping
/// and its first rows as text.
#[derive(Clone, Debug)]
pub struct FilePreview {
    pub path: PathBuf,
    pub format: String,
    pub headers: Vec<String>,
    /// Canonical column → file column, as proposed from the headers (and overrides).
    pub mapping: BTreeMap<Canonical, String>,
    /// Required columns the proposal could not find, in words.
    pub problems: Vec<String>,
    /// The first rows, one text cell per header.
    pub rows: Vec<Vec<String>>,
}

/// Reads a file's headers and first rows and proposes a mapping.
pub fn preview_file(
    path: &Path,
    overrides: &[(Canonical, String)],
    encoding: Option<TextEncoding>,
) -> Result<FilePreview, StageError> {
    let file = EventsFile::open_with_encoding(path, encoding)?;
    let (mapping, problems) = ColumnMapping::propose(&file.headers, overrides);
    let problems = problems.iter().map(|p| describe_mapping_problem(p, &file.headers)).collect();
    let head = file
        .scan_start()?
        .limit(PREVIEW_ROWS as IdxSize)
        .collect()
        .map_err(|e| StageError::Import(ImportError::polars(&file.shown(), e)))?;
    let rows = (0..head.height())
        .map(|i| {
            head.columns()
                .iter()
                .map(|c| match c.get(i) {
                    Ok(AnyValue::Null) | Err(_) => String::new(),
                    Ok(AnyValue::String(s)) => s.to_string(),
                    Ok(AnyValue::StringOwned(s)) => s.to_string(),
                    Ok(other) => other.to_string(),
                })
                .collect()
        })
        .collect();
    Ok(FilePreview {
        path: path.to_path_buf(),
        format: file.describe(),
        headers: file.headers.clone(),
        mapping: mapping.columns,
        problems,
        rows,
    })
}

/// Product names and attributes from a catalogue file beside the events.
#[derive(Clone, Debug)]
pub struct Catalogue {
    pub path: PathBuf,
    /// Where the names come from, in words ("products.csv", "the Description column").
    pub source: String,
    /// `item_id` and any of `name`, `name_zh`, `brand`, `category`.
    pub table: DataFrame,
}

/// A loaded events file and everything computed from it per customer.
pub struct Dataset {
    pub path: PathBuf,
    pub mapping: BTreeMap<Canonical, String>,
    pub report: QualityReport,
    pub events: crate::core::events::EventTable,
    pub features: CustomerFeatures,
    /// Customers with a purchase order (counted once, at load).
    pub purchasers: usize,
    /// BG/NBD + Gamma-Gamma over a year, or why the data cannot support a fit.
    pub value: Result<CustomerValue, String>,
    pub catalogue: Option<Catalogue>,
    pub event_rows: EventRows,
    pub feature_rows: FeatureRows,
    pub seconds: f64,
    /// What the recommenders are fitted on, per "purchases only" setting: built
    /// by the first stage that asks (the model comparison or the fit, which
    /// run side by side after a load) and copied for the other.
    pub(crate) recommender_inputs: std::sync::Mutex<Vec<(bool, RecommenderInputs)>>,
}

/// The interactions and item attributes every recommender is fitted on.
pub type RecommenderInputs = (crate::core::recommend::Interactions, crate::core::recommend::ItemAttributes);

/// The horizon of the customer value shown in the app.
pub const VALUE_HORIZON_DAYS: f64 = 365.0;

/// The catalogue looked for beside an events file.
pub const CATALOGUE_FILE: &str = "products.csv";

/// Which file to load, and how to read it.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSource {
    pub path: PathBuf,
    /// Mapping choices on top of the proposed mapping (canonical column, file column; "" = not used).
    pub overrides: Vec<(Canonical, String)>,
    /// A CSV file's text encoding; None: detected.
    pub encoding: Option<TextEncoding>,
    /// Where the rows are read and checked: here, or on a Ballista cluster
    /// (a Parquet file or folder every executor can read; DATA.md §11).
    pub engine: Engine,
}

/// The loaded events with their features and customer value: the root of the
/// flow, run when the user opens a file (its params come with the request).
pub struct LoadData;

impl Stage for LoadData {
    const NAME: &'static str = "data";
    type Needs = ();
    type Choices = ();
    type Params = DataSource;
    type Output = Dataset;

    fn params(_: &Choices) -> Option<DataSource> {
        None
    }

    fn label(source: &DataSource) -> String {
        match &source.engine {
            Engine::Local => format!("Loading {}", crate::core::format::file_name(&source.path)),
            engine => format!("Loading {} on {engine}", crate::core::format::file_name(&source.path)),
        }
    }

    fn run(_: (), source: &DataSource, progress: &dyn Progress) -> Result<Dataset, StageError> {
        load_dataset_on(&source.engine, &source.path, &source.overrides, source.encoding, progress)
    }
}

/// [`load_dataset`], the rows read and checked by `engine`: on a cluster,
/// every row is parsed, checked and de-duplicated by the executors, and the
/// usable rows come back for the app's stages.
pub fn load_dataset_on(
    engine: &Engine,
    path: &Path,
    overrides: &[(Canonical, String)],
    encoding: Option<TextEncoding>,
    progress: &dyn Progress,
) -> Result<Dataset, StageError> {
    match engine {
        Engine::Local => load_dataset(path, overrides, encoding, progress),
        engine => {
            let started = std::time::Instant::now();
            let reading = crate::core::progress::Part { whole: progress, from: 0.0, to: 0.5 };
            let loaded = crate::core::cluster::cluster_events(engine, path, overrides, &reading)?;
            let mapping: BTreeMap<Canonical, String> =
                loaded.report.mapping.iter().filter_map(|(c, f)| Some((Canonical::from_name(c)?, f.clone()))).collect();
            let file = EventsFile::open(path)?;
            finish_loading(started, path, &file, ColumnMapping { columns: mapping }, loaded, progress)
        }
    }
}

/// Loads an events file with `overrides` on top of the proposed mapping.
pub fn load_dataset(
    path: &Path,
    overrides: &[(Canonical, String)],
    encoding: Option<TextEncoding>,
    progress: &dyn Progress,
) -> Result<Dataset, StageError> {
    let started = std::time::Instant::now();
    step(progress, 0.0, "opening the file")?;
    let file = EventsFile::open_with_encoding(path, encoding)?;
    let mapping = crate::core::import::map_columns(&file, overrides)?;
    let reading = crate::core::progress::Part { whole: progress, from: 0.0, to: 0.5 };
    let loaded = crate::core::import::load_mapped_with_progress(&file, &mapping, ReportDetail::Rows, &reading)?;
    finish_loading(started, path, &file, mapping, loaded, progress)
}

/// Features, customer value, the browse tables and the catalogue of loaded
/// events; `started` is when the load began (for the time it took).
fn finish_loading(
    started: std::time::Instant,
    path: &Path,
    file: &EventsFile,
    mapping: ColumnMapping,
    mut loaded: crate::core::import::LoadedEvents,
    progress: &dyn Progress,
) -> Result<Dataset, StageError> {
    step(progress, 0.55, "computing customer features")?;
    let features = {
        let _t = crate::core::trace::phase("features");
        customer_features(&loaded.events, None)?
    };
    // The report's distinct counts, from the features rather than the same
    // group-bys again (a customer per row; frequency counts purchase orders).
    loaded.report.customers = Some(features.customers() as u64);
    loaded.report.purchase_orders = Some(features.purchase_orders());
    loaded.report.items =
        crate::core::import::count_items(&loaded.events).map_err(StageError::table("counting items"))?;
    step(progress, 0.7, "fitting customer value (BG/NBD, Gamma-Gamma) and preparing the tables")?;
    // The value fit is iterative and mostly serial; the tables fill the other cores meanwhile.
    let (value, tables) = rayon::join(
        || {
            let _t = crate::core::trace::phase("value");
            customer_value(&loaded.events, features.as_of_ms, TimeUnit::Day, VALUE_HORIZON_DAYS, 1.0)
                .map_err(|e| e.to_string())
        },
        || {
            let _t = crate::core::trace::phase("browse tables");
            let events =
                EventRows::from_events(&loaded.events).map_err(StageError::table("preparing the events table"));
            let features =
                FeatureRows::from_frame(&features.df).map_err(StageError::table("preparing the feature table"));
            (events, features, read_catalogue(path).or_else(|| names_from_events(file, &mapping)))
        },
    );
    let (event_rows, feature_rows, catalogue) = (tables.0?, tables.1?, tables.2);
    step(progress, 1.0, "done")?;
    Ok(Dataset {
        path: path.to_path_buf(),
        mapping: mapping.columns,
        report: loaded.report,
        events: loaded.events,
        purchasers: features.purchasers(),
        features,
        value,
        catalogue,
        event_rows,
        feature_rows,
        seconds: started.elapsed().as_secs_f64(),
        recommender_inputs: Default::default(),
    })
}

/// `products.csv` beside the events file, if there is one with an `item_id`.
fn read_catalogue(events_path: &Path) -> Option<Catalogue> {
    read_catalogue_file(&events_path.parent()?.join(CATALOGUE_FILE)).ok()
}

/// Why a product catalogue could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{path}: no such file")]
    NotFound { path: String },
    #[error("{path}: cannot read the catalogue: {source}")]
    Read { path: String, source: PolarsError },
    #[error("{path}: not a product catalogue: it has no item_id column (it has: {})", found.join(", "))]
    NoItemId { path: String, found: Vec<String> },
}

/// A product catalogue CSV (`item_id` plus any of name, name_zh, brand,
/// category), every column read as text.
pub fn read_catalogue_file(path: &Path) -> Result<Catalogue, CatalogueError> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(CatalogueError::NotFound { path: shown });
    }
    let table = crate::core::table::read_text_csv(path)
        .map_err(|source| CatalogueError::Read { path: shown.clone(), source })?;
    if table.column("item_id").is_err() {
        let found = table.get_column_names().iter().map(|c| c.to_string()).collect();
        return Err(CatalogueError::NoItemId { path: shown, found });
    }
    let source = path.file_name().map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    Ok(Catalogue { path: path.to_path_buf(), source, table })
}

/// Headers that name products in event exports (compared without case,
/// spaces or punctuation): Online Retail's `Description`, `product_name`, ….
const NAME_HEADERS: [&str; 6] = ["description", "productname", "itemname", "productdescription", "title", "name"];

/// Product names from a name column of an events file (`item_column` is the
/// file's item id column), for when there is no catalogue.
pub fn product_names_in(path: &Path, item_column: &str, encoding: Option<TextEncoding>) -> Option<Catalogue> {
    let file = EventsFile::open_with_encoding(path, encoding).ok()?;
    names_in_file(&file, item_column)
}

fn names_from_events(file: &EventsFile, mapping: &ColumnMapping) -> Option<Catalogue> {
    names_in_file(file, mapping.get(Canonical::ItemId)?)
}

/// The first name each item has in the file's name column, if it has one.
fn names_in_file(file: &EventsFile, item_column: &str) -> Option<Catalogue> {
    let name_column = NAME_HEADERS.iter().find_map(|n| file.headers.iter().find(|h| normalise_name(h) == *n))?;
    let table = file
        .scan()
        .ok()?
        .select([
            col(item_column).cast(DataType::String).str().strip_chars(lit(NULL)).alias("item_id"),
            col(name_column.as_str()).cast(DataType::String).str().strip_chars(lit(NULL)).alias("name"),
        ])
        .filter(col("item_id").is_not_null().and(col("name").is_not_null()))
        .group_by_stable([col("item_id")])
        .agg([col("name").first()])
        .collect()
        .ok()?;
    Some(Catalogue { path: file.path.clone(), source: format!("the {name_column} column"), table })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::Silent;

    /// The app's report counts customers, items and purchase orders from the
    /// features; they must equal the import's own full count, with order ids
    /// and without.
    #[test]
    fn the_apps_report_counts_what_the_full_import_counts() {
        let dir = tempfile::tempdir().unwrap();
        let with_orders = dir.path().join("orders.csv");
        std::fs::write(
            &with_orders,
            "customer_id,order_id,timestamp,item_id,quantity,price\n\
             1,A,2024-01-02,x,2,3\n1,A,2024-01-02,y,1,3\n1,B,2024-01-05,x,-1,3\n2,C,2024-01-03,z,1,4\n3,,2024-01-04,x,0,1\n",
        )
        .unwrap();
        let without = dir.path().join("lines.csv");
        std::fs::write(
            &without,
            "customer_id,timestamp,item_id,quantity,event_type\n\
             1,2024-01-02,x,2,purchase\n1,2024-01-02,y,1,purchase\n1,2024-01-06,x,1,purchase\n2,2024-01-03,z,1,view\n",
        )
        .unwrap();
        for path in [with_orders, without] {
            let app = load_dataset(&path, &[], None, &Silent).unwrap().report;
            let full = crate::core::import::load_events(&path, &[]).unwrap().report;
            assert_eq!(
                (app.customers, app.items, app.purchase_orders),
                (full.customers, full.items, full.purchase_orders)
            );
            assert!(full.purchase_orders.unwrap() >= 2, "{path:?}");
        }
    }

    #[test]
    fn preview_proposes_a_mapping_and_shows_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, "CustomerID,InvoiceDate,StockCode,Quantity,UnitPrice\n7,2024-01-02,A,2,3.5\n").unwrap();
        let p = preview_file(&path, &[], None).unwrap();
        assert_eq!(p.mapping.get(&Canonical::CustomerId).map(String::as_str), Some("CustomerID"));
        assert_eq!(p.rows, vec![vec!["7", "2024-01-02", "A", "2", "3.5"]]);
        assert!(p.problems.is_empty());
    }

    #[test]
    fn the_progress_bar_knows_how_many_rows_to_expect() {
        let sample = EventsFile::open(&crate::core::sample::bundled::events_path()).unwrap();
        assert_eq!(sample.estimated_rows(), Some(470_461), "Parquet metadata");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        let rows: String = (0..1000).map(|i| format!("{i},2024-01-02,view\n")).collect();
        std::fs::write(&path, format!("customer_id,timestamp,event_type\n{rows}")).unwrap();
        // A small text file is read whole: its lines, header included.
        assert_eq!(EventsFile::open(&path).unwrap().estimated_rows(), Some(1001));
    }

    #[test]
    fn product_names_come_from_a_description_column_without_a_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.csv");
        std::fs::write(
            &path,
            "CustomerID,InvoiceDate,StockCode,Description,Quantity,UnitPrice\n\
             1,2024-01-02,A, RED MUG ,1,2\n1,2024-01-03,A,red mug (damaged),1,2\n2,2024-01-02,B,BLUE BOWL,1,3\n",
        )
        .unwrap();
        let d = load_dataset(&path, &[], None, &Silent).unwrap();
        let c = d.catalogue.expect("names from the Description column");
        assert_eq!(c.source, "the Description column");
        let names = crate::core::table::text_column(&c.table, "name").unwrap();
        assert_eq!(names, vec!["RED MUG", "BLUE BOWL"], "the first name each item has, trimmed");
    }

    #[test]
    fn a_cancelled_load_stops() {
        // Cancelled once the first batch of rows is read: the import must stop
        // before the next batch (the sample has two).
        struct CancelAfterFirstBatch(std::sync::Mutex<Vec<String>>);
        impl Progress for CancelAfterFirstBatch {
            fn update(&self, _: Option<f32>, phrase: &str) {
                self.0.lock().unwrap().push(phrase.to_string());
            }
            fn is_cancelled(&self) -> bool {
                self.0.lock().unwrap().iter().any(|p| p.contains("rows read"))
            }
        }
        let path = crate::core::sample::bundled::events_path();
        let cancelling = CancelAfterFirstBatch(Default::default());
        assert!(load_dataset(&path, &[], None, &cancelling).err().is_some_and(|e| e.is_cancelled()));
        let phrases = cancelling.0.into_inner().unwrap();
        assert_eq!(phrases.iter().filter(|p| p.contains("rows read")).count(), 1, "{phrases:?}");
        let d = load_dataset(&path, &[], None, &Silent).unwrap();
        assert_eq!(d.feature_rows.len(), d.features.customers());
        assert_eq!(d.event_rows.len() as u64, d.report.rows_usable);
        assert!(d.catalogue.is_some() && d.value.is_ok());
        assert_eq!(d.catalogue.as_ref().unwrap().source, "products.csv");
    }
}
