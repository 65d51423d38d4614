//! The headless twin (DESIGN.md principle 4): every stage as a subcommand that
//! reads files, writes CSV/JSON atomically, prints a one-line summary on
//! stdout, warnings on stderr, and exits non-zero with a clear message on bad input.
//! It calls the core's stage functions and constants, never the app.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

pub mod bundles;
pub mod campaigns;

use crate::core::cluster::{self, Engine};
use crate::core::features::{self, customer_features, read_features_csv};
use crate::core::import::{
    Canonical, LoadedEvents, ReportDetail, TextEncoding, load_events_encoded, parse, parse_override,
};
use crate::core::output;
use crate::core::progress::Silent;
use crate::core::recommend::{self, EventWeights, ModelKind, ModelSettings, Recommender};
use crate::core::sample::{self, ShopConfig, event_log};
use crate::core::segment::choose_k::{SILHOUETTE_SAMPLE, choose_k};
use crate::core::segment::{
    FeatureSpec, KMeansParams, SegmentationSettings, Transform, clustering_matrix, mixture_segments, profile,
    rfm_segments, segment_customers, segments_frame,
};
use crate::core::stages::dataset::{VALUE_HORIZON_DAYS, product_names_in, read_catalogue_file};
use crate::core::stages::recommendations::recommender_inputs;
use crate::core::table::text_column;
use crate::core::value::{TimeUnit, customer_value};
use polars::prelude::*;
use rayon::prelude::*;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Quality report of an events file: rows read and usable, reasons, duplicates, date range.
    Inspect {
        #[command(flatten)]
        input: EventsInput,
        /// Print the report as one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Customer features (DATA.md §2), one row per customer, sorted by customer_id.
    Features {
        #[command(flatten)]
        input: EventsInput,
        /// Reference time: rows after it are left out (date-only = midnight at its start).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Customer segments (DATA.md §3): k-means on the buyers, named; non-buyers are segment -1.
    Segment {
        /// Events file (features are computed first), or use --features.
        #[arg(long, required_unless_present = "features", conflicts_with = "features", value_parser = events_path)]
        events: Option<PathBuf>,
        #[arg(long = "map", value_parser = parse_override)]
        map: Vec<(Canonical, String)>,
        /// With --events: a CSV file's text encoding; default: detected.
        #[arg(long, value_parser = TextEncoding::from_label)]
        encoding: Option<TextEncoding>,
        /// With --events: `local`, or a Ballista cluster `ballista://HOST:PORT` that
        /// computes the features (DATA.md §11); only the customer table comes back.
        #[arg(long, value_parser = Engine::parse, default_value = "local")]
        engine: Engine,
        /// A features.csv written by `promo-studio features`.
        #[arg(long)]
        features: Option<PathBuf>,
        /// With --events: reference time for the features.
        #[arg(long)]
        as_of: Option<String>,
        /// kmeans (DATA.md §3), gmm (a Gaussian mixture: adds a membership column) or rfm
        /// (classic rule-based groups).
        #[arg(long, value_enum, default_value_t = Method::Kmeans)]
        method: Method,
        /// Number of segments among the buyers (k-means).
        #[arg(long)]
        k: Option<usize>,
        /// Score every k in a range, e.g. 2-10 (inertia and silhouette), and use the
        /// suggested one unless --k is given.
        #[arg(long, value_parser = parse_k_range)]
        k_range: Option<KRange>,
        /// Clustering column and transform, repeatable: recency_days, frequency:log1p,
        /// monetary:winsorise=99 (default: DATA.md §3's three).
        #[arg(long = "feature", value_parser = parse_feature)]
        feature: Vec<FeatureSpec>,
        /// k-means initialisations; the lowest inertia wins.
        #[arg(long, default_value_t = 10)]
        n_init: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Print {"read_s", "features_s", "kmeans_s", "total_s"} as the last line of stderr.
        #[arg(long)]
        timings: bool,
        #[arg(long)]
        out: PathBuf,
        /// Also write each segment's profile (size, value, averages, names) as JSON.
        #[arg(long)]
        profiles: Option<PathBuf>,
    },
    /// Customer value (DATA.md §5): BG/NBD + Gamma-Gamma fits, P(alive), expected purchases, CLV.
    Value {
        #[command(flatten)]
        input: EventsInput,
        /// End of the calibration period (date-only = midnight at its start); default: the last event.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Unit::Day)]
        time_unit: Unit,
        /// Forecast horizon for expected purchases and CLV, in days (the app's too).
        #[arg(long, default_value_t = VALUE_HORIZON_DAYS)]
        horizon_days: f64,
        /// Gross margin applied to CLV (1 = revenue).
        #[arg(long, default_value_t = 1.0)]
        margin: f64,
        #[arg(long)]
        out: PathBuf,
        /// Also write the fitted parameters (r, alpha, a, b, p, q, v) as JSON.
        #[arg(long)]
        params_out: Option<PathBuf>,
    },
    /// Recommendations (DATA.md §4): evaluate models offline, or write top-k per customer.
    Recommend {
        #[command(flatten)]
        input: EventsInput,
        /// The model; rp3beta (the default) measured best (README, "Recommendations").
        #[arg(long, value_enum, default_value_t = ModelArg::Rp3beta)]
        model: ModelArg,
        /// Items per customer.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// item-knn / user-knn / hybrid: neighbours kept per item or customer.
        #[arg(long, default_value_t = 50)]
        neighbours: usize,
        /// hybrid: share of item-knn in the blend with content (0..1).
        #[arg(long, default_value_t = 0.7)]
        hybrid_item_knn_weight: f64,
        /// A product catalogue CSV (item_id plus any of name, brand, category) for content and names.
        #[arg(long)]
        products: Option<PathBuf>,
        /// item-knn / hybrid: weight of a view in similarities and scores (a purchase weighs 1).
        #[arg(long, default_value_t = 0.0)]
        view_weight: f64,
        /// item-knn / hybrid: weight of an add-to-cart.
        #[arg(long, default_value_t = 0.0)]
        cart_weight: f64,
        /// Run the offline protocol (temporal holdout) and print the metrics.
        #[arg(long)]
        evaluate: bool,
        /// With --evaluate: one JSON line (per model).
        #[arg(long)]
        json: bool,
        /// With --evaluate: every model side by side on the same split.
        #[arg(long)]
        compare: bool,
        /// With --evaluate: write the protocol's split as customer_id,item_id,part (train/test),
        /// so that other tools (benches/recommend_peers.py) score on exactly the same split.
        #[arg(long, requires = "evaluate")]
        split_out: Option<PathBuf>,
        /// Write customer_id,rank,item_id,score,reason for every customer.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Preview one customer: their purchases and top-k with reasons.
        #[arg(long)]
        customer: Option<String>,
        /// Let items the customer already bought be recommended again (excluded by default).
        #[arg(long)]
        include_bought: bool,
        /// A segments.csv (from `segment`): popularity becomes each segment's top sellers
        /// ("popular in <segment>"), and --segment-out can list each segment's products.
        #[arg(long)]
        segments: Option<PathBuf>,
        /// Where the per-segment products go: segment,segment_name,rank,item_id,members,share.
        #[arg(long, requires = "segments")]
        segment_out: Option<PathBuf>,
    },
    /// Bundles from baskets: frequent itemsets (FP-growth) and association rules with
    /// support, confidence, lift, leverage and conviction, from purchase orders or a
    /// table of (basket, item) rows.
    Bundles(bundles::BundlesArgs),
    /// A campaign's plan (DATA.md §7, §8, §10): eligibility, each (customer, offer)'s expected
    /// value (default response model, or a calibrated arm with --response), the assignment and
    /// the holdout. No simulation.
    Plan(campaigns::PlanArgs),
    /// Learns from a finished randomised campaign (DATA.md §8): each arm's lift over the
    /// control with 95% intervals, and the per-customer response model `plan` uses.
    Calibrate(campaigns::CalibrateArgs),
    /// Simulates a campaign (DATA.md §9): Monte Carlo runs with the response redrawn from its
    /// uncertainty; every metric with its 90% interval, per offer and segment; the holdout's
    /// power, each assumption's sensitivity, fairness by group, and scenarios side by side.
    Simulate(campaigns::SimulateArgs),
    /// Exports a campaign: its plan as CSV or Parquet (customer ids optionally pseudonymised
    /// with your key) and, with --report, one self-contained HTML report of its forecast.
    Export(campaigns::ExportArgs),
    /// Writes the seeded demo shop: events.parquet, products.csv, customers.csv,
    /// past_campaign.csv (a randomised campaign's results).
    GenerateSample {
        #[arg(long, default_value_t = 3000)]
        customers: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Benchmark: fits k-means once on a matrix and prints {"fit_s", "inertia", "iterations"} as JSON.
    BenchKmeans {
        /// A features.csv: clusters DATA.md §3's standardised buyer matrix.
        #[arg(long, required_unless_present = "matrix", conflicts_with = "matrix")]
        features: Option<PathBuf>,
        /// A Parquet file whose numeric columns are the matrix, as they are.
        #[arg(long)]
        matrix: Option<PathBuf>,
        #[arg(long, default_value_t = 8)]
        k: usize,
        #[arg(long, default_value_t = 10)]
        n_init: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Writes Gaussian blobs (rows × dims, unit variance around seeded centres) as Parquet, for benchmarks.
    GenerateBlobs {
        #[arg(long)]
        rows: usize,
        #[arg(long, default_value_t = 8)]
        dims: usize,
        #[arg(long, default_value_t = 8)]
        centers: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Cluster nodes (DATA.md §11; built with `--features cluster`): a Ballista
    /// scheduler, or an executor that joins one. Runs until stopped.
    Cluster {
        #[command(subcommand)]
        node: ClusterNode,
    },
    /// Writes a synthetic clickstream of N rows for benchmarks.
    GenerateEvents {
        #[arg(long)]
        rows: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = LogFormat::Csv)]
        format: LogFormat,
        /// Parquet only: write a dataset of this many files into the directory --out
        /// (as a cluster reads a log), generated one file at a time.
        #[arg(long)]
        files: Option<usize>,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClusterNode {
    /// A Ballista scheduler: plans the queries and hands their tasks to executors.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50050", value_parser = socket_address)]
        bind: std::net::SocketAddr,
        /// Seconds without a heartbeat after which an executor is taken for dead
        /// and its tasks run elsewhere.
        #[arg(long, default_value_t = 30)]
        executor_timeout_secs: u64,
    },
    /// A Ballista executor: runs tasks, serves their results to others over Arrow Flight.
    Executor {
        /// The scheduler's address.
        #[arg(long, value_parser = socket_address)]
        scheduler: std::net::SocketAddr,
        /// Arrow Flight on this address; task control on the next port.
        #[arg(long, default_value = "127.0.0.1:50051", value_parser = socket_address)]
        bind: std::net::SocketAddr,
        /// Tasks at once (default: the machine's cores).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Directory for shuffle files (default: a temporary one).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

/// `HOST:PORT`, the host a name or an address.
fn socket_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .map_err(|e| format!("'{text}' is not HOST:PORT ({e})"))?
        .next()
        .ok_or_else(|| format!("'{text}' names no address"))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Method {
    Kmeans,
    /// A Gaussian mixture: segments as k-means', plus each buyer's membership probability.
    Gmm,
    Rfm,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModelArg {
    Popularity,
    ItemKnn,
    UserKnn,
    Content,
    Hybrid,
    Rp3beta,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Unit {
    Day,
    Week,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Csv,
    Parquet,
}

/// The events file and its column mapping, shared by every reading command.
#[derive(Args, Debug)]
pub struct EventsInput {
    /// Events file: CSV (any common separator), Parquet or NDJSON; `sample` for the bundled demo shop.
    #[arg(long, value_parser = events_path)]
    pub events: PathBuf,
    /// Column mapping override, canonical=FileColumn (repeatable), e.g. --map customer_id=Kunde.
    #[arg(long = "map", value_parser = parse_override)]
    pub map: Vec<(Canonical, String)>,
    /// A CSV file's text encoding (utf-8, utf-16le, gbk, gb18030, windows-1252, …); default: detected.
    #[arg(long, value_parser = TextEncoding::from_label)]
    pub encoding: Option<TextEncoding>,
    /// Where the events are read and aggregated: `local`, or a Ballista cluster
    /// `ballista://HOST:PORT` (DATA.md §11; the events must be Parquet every executor can read).
    #[arg(long, value_parser = Engine::parse, default_value = "local")]
    pub engine: Engine,
}

/// A failure shown to the user: one message, exit code 1.
pub struct Failure(pub String);

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// Runs a subcommand; its error is printed on stderr.
pub fn run(command: Command) -> ExitCode {
    match execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Customers per chunk of `recommend --out`.
const RECOMMEND_CHUNK: usize = 50_000;

/// `customer_id,rank,item_id,score,reason` for `customers`.
fn recommendations_table(
    rec: &Recommender,
    customers: &[String],
    k: usize,
    include_bought: bool,
) -> PolarsResult<DataFrame> {
    let rows: Vec<Vec<(usize, String, f64, String)>> = customers
        .par_iter()
        .map(|id| {
            rec.recommend(id, k, include_bought)
                .iter()
                .enumerate()
                .map(|(rank, r)| (rank + 1, rec.item_id(r.item).to_string(), r.score, rec.reason(r)))
                .collect()
        })
        .collect();
    let n: usize = rows.iter().map(Vec::len).sum();
    let mut id_col = Vec::with_capacity(n);
    let (mut rank_col, mut item_col, mut score_col, mut reason_col) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for (id, recs) in customers.iter().zip(&rows) {
        for (rank, item, score, reason) in recs {
            id_col.push(id.as_str());
            rank_col.push(*rank as u32);
            item_col.push(item.as_str());
            score_col.push(*score);
            reason_col.push(reason.as_str());
        }
    }
    DataFrame::new(
        n,
        vec![
            StringChunked::from_slice("customer_id".into(), &id_col).into_column(),
            UInt32Chunked::from_vec("rank".into(), rank_col).into_column(),
            StringChunked::from_slice("item_id".into(), &item_col).into_column(),
            Float64Chunked::from_vec("score".into(), score_col).into_column(),
            StringChunked::from_slice("reason".into(), &reason_col).into_column(),
        ],
    )
}

/// Loads for a command that computes per-customer tables itself, warning on stderr
/// about every row left out.
fn load(input: &EventsInput) -> Result<LoadedEvents, Failure> {
    let loaded = match input.engine {
        Engine::Local => load_events_encoded(&input.events, &input.map, ReportDetail::Rows, input.encoding)?,
        _ => cluster::cluster_events(&input.engine, &input.events, &input.map, &Silent)?,
    };
    for w in loaded.report.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(loaded)
}

/// The customer features computed on the cluster `input.engine` names, with
/// a warning on stderr for every kind of row left out.
fn cluster_features(input: &EventsInput, as_of_ms: Option<i64>) -> Result<cluster::ClusterFeatures, Failure> {
    let computed = cluster::cluster_features(&input.engine, &input.events, &input.map, as_of_ms, &Silent)?;
    for w in computed.report.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(computed)
}

fn run_cluster_node(node: ClusterNode) -> Result<(), Failure> {
    match node {
        ClusterNode::Scheduler { bind, executor_timeout_secs } => {
            cluster::run_scheduler(&cluster::SchedulerSettings {
                bind,
                executor_timeout_seconds: executor_timeout_secs.max(1),
            })?
        }
        ClusterNode::Executor { scheduler, bind, concurrency, work_dir } => {
            cluster::run_executor(&cluster::ExecutorSettings {
                scheduler,
                bind,
                concurrency,
                work_dir: work_dir.map(|d| d.display().to_string()),
            })?
        }
    }
    Ok(())
}

pub fn execute(command: Command) -> Result<(), Failure> {
    match command {
        Command::Inspect { input, json } => {
            let loaded = load_events_encoded(&input.events, &input.map, ReportDetail::Full, input.encoding)?;
            if json {
                println!("{}", serde_json::to_string(&loaded.report).map_err(|e| Failure(e.to_string()))?);
            } else {
                print!("{}", loaded.report);
            }
            Ok(())
        }
        Command::Features { input, as_of, out } => {
            let as_of_ms = parse_as_of(as_of)?;
            let (mut features, rows_usable, rows_read) = match input.engine {
                Engine::Local => {
                    let mut loaded = load(&input)?;
                    loaded.events.retain_columns(&features::COLUMNS_READ);
                    let features = {
                        let _t = crate::core::trace::phase("features");
                        customer_features(&loaded.events, as_of_ms)?
                    };
                    (features, loaded.report.rows_usable, loaded.report.rows_read)
                }
                _ => {
                    let computed = cluster_features(&input, as_of_ms)?;
                    (computed.features, computed.report.rows_usable, computed.report.rows_read)
                }
            };
            {
                let _t = crate::core::trace::phase("write");
                output::write_csv(&out, &mut features.df)?;
            }
            println!(
                "features: {} customers ({} with a purchase) as of {} from {} usable rows of {} → {}",
                features.customers(),
                features.purchasers(),
                parse::format_ms(features.as_of_ms),
                rows_usable,
                rows_read,
                out.display()
            );
            Ok(())
        }
        Command::Segment {
            events,
            map,
            encoding,
            engine,
            features,
            as_of,
            method,
            k,
            k_range,
            feature,
            n_init,
            seed,
            timings,
            out,
            profiles,
        } => {
            let started = std::time::Instant::now();
            let (table, loaded, read_s, features_s) = match (events, features) {
                (Some(events), _) if engine == Engine::Local => {
                    let as_of_ms = parse_as_of(as_of)?;
                    let loaded = load(&EventsInput { events, map, encoding, engine })?;
                    let read_s = started.elapsed().as_secs_f64();
                    let f = customer_features(&loaded.events, as_of_ms)?;
                    (f.df, Some((loaded, f.as_of_ms)), read_s, started.elapsed().as_secs_f64() - read_s)
                }
                (Some(events), _) => {
                    // The cluster reads and aggregates the events; only the
                    // customer table comes back (read_s is the whole query).
                    let as_of_ms = parse_as_of(as_of)?;
                    let computed = cluster_features(&EventsInput { events, map, encoding, engine }, as_of_ms)?;
                    (computed.features.df, None, started.elapsed().as_secs_f64(), 0.0)
                }
                (None, Some(path)) => (read_features_csv(&path)?, None, started.elapsed().as_secs_f64(), 0.0),
                (None, None) => return Err(Failure("give --events or --features".into())),
            };
            let (ids, assignment, segments, kmeans_s, detail, membership) = match method {
                Method::Rfm => {
                    let rfm = rfm_segments(&table)?;
                    (rfm.customer_ids, rfm.assignment, rfm.segments, 0.0, "RFM rules".to_string(), None)
                }
                Method::Kmeans | Method::Gmm => {
                    let features = if feature.is_empty() { FeatureSpec::defaults() } else { feature };
                    let mut params = KMeansParams { n_init, seed, k: k.unwrap_or(5), ..Default::default() };
                    if let Some(KRange(ks)) = k_range {
                        let matrix = clustering_matrix(&table, &features)?;
                        let choice = choose_k(matrix.values.view(), &ks, &params, SILHOUETTE_SAMPLE)?;
                        for s in &choice.scores {
                            eprintln!("k = {:>2}   inertia {:>12.2}   silhouette {:.3}", s.k, s.inertia, s.silhouette);
                        }
                        eprintln!(
                            "silhouettes of {} values of k on {} customers: {:.2} s",
                            choice.scores.len(),
                            choice.sample_size,
                            choice.silhouette_seconds
                        );
                        eprintln!("suggested: {}", choice.reason);
                        params.k = k.unwrap_or(choice.suggested_k);
                    }
                    let settings = SegmentationSettings { features, kmeans: params };
                    let (s, name) = match method {
                        Method::Gmm => (mixture_segments(&table, &settings, &|| false)?, "Gaussian mixture"),
                        _ => (segment_customers(&table, &settings)?, "k-means"),
                    };
                    let detail = format!("{name}, inertia {:.2}", s.inertia);
                    let membership = s.membership_by_customer();
                    (s.customer_ids, s.assignment, s.segments, s.kmeans_seconds, detail, membership)
                }
            };
            output::write_csv(&out, &mut segments_frame(&ids, &assignment, &segments, membership.as_deref())?)?;
            if let Some(path) = profiles {
                let mut p = profile::profiles(&table, &assignment, &segments)?;
                if let Some((loaded, as_of_ms)) = &loaded {
                    match customer_value(&loaded.events, *as_of_ms, TimeUnit::Day, VALUE_HORIZON_DAYS, 1.0) {
                        Ok(value) => profile::add_value(&mut p, &ids, &assignment, &value),
                        Err(e) => eprintln!("warning: profiles without customer value: {e}"),
                    }
                }
                output::write_json(&path, &p)?;
            }
            let summary: Vec<String> = segments.iter().map(|s| format!("{} {}", s.name, s.customers)).collect();
            println!(
                "segment: {} customers in {} segments ({detail}): {} → {}",
                ids.len(),
                segments.len(),
                summary.join(", "),
                out.display()
            );
            if timings {
                eprintln!(
                    "{}",
                    serde_json::json!({
                        "read_s": read_s,
                        "features_s": features_s,
                        "kmeans_s": kmeans_s,
                        "total_s": started.elapsed().as_secs_f64(),
                    })
                );
            }
            Ok(())
        }
        Command::Value { input, as_of, time_unit, horizon_days, margin, out, params_out } => {
            if !(horizon_days.is_finite() && horizon_days > 0.0) {
                return Err(Failure(format!("--horizon-days must be a positive number of days, got {horizon_days}")));
            }
            if !(margin.is_finite() && margin > 0.0 && margin <= 1.0) {
                return Err(Failure(format!("--margin must be in (0, 1], got {margin}")));
            }
            let as_of_ms = parse_as_of(as_of)?;
            let loaded = load(&input)?;
            let as_of_ms = match as_of_ms.or_else(|| loaded.events.last_timestamp_ms()) {
                Some(t) => t,
                None => return Err(Failure("no usable events".into())),
            };
            let unit = match time_unit {
                Unit::Day => TimeUnit::Day,
                Unit::Week => TimeUnit::Week,
            };
            let value = customer_value(&loaded.events, as_of_ms, unit, horizon_days, margin)?;
            output::write_csv(&out, &mut value.to_frame()?)?;
            let params = value.params(as_of_ms);
            if let Some(path) = params_out {
                output::write_json(&path, &params)?;
            }
            println!(
                "value: {} buyers as of {}; BG/NBD r={:.3} alpha={:.3} a={:.3} b={:.3}; Gamma-Gamma p={:.3} q={:.3} v={:.3} → {}",
                params.customers,
                params.as_of,
                params.r,
                params.alpha,
                params.a,
                params.b,
                params.p,
                params.q,
                params.v,
                out.display()
            );
            Ok(())
        }
        Command::Recommend {
            input,
            model,
            k,
            neighbours,
            hybrid_item_knn_weight,
            products,
            view_weight,
            cart_weight,
            evaluate,
            json,
            compare,
            split_out,
            out,
            customer,
            include_bought,
            segments,
            segment_out,
        } => {
            if k == 0 {
                return Err(Failure("--k must be at least 1".into()));
            }
            let kind = match model {
                ModelArg::Popularity => ModelKind::Popularity,
                ModelArg::ItemKnn => ModelKind::ItemKnn,
                ModelArg::UserKnn => ModelKind::UserKnn,
                ModelArg::Content => ModelKind::Content,
                ModelArg::Hybrid => ModelKind::Hybrid,
                ModelArg::Rp3beta => ModelKind::Rp3beta,
            };
            if !(view_weight >= 0.0 && cart_weight >= 0.0 && view_weight.is_finite() && cart_weight.is_finite()) {
                return Err(Failure("--view-weight and --cart-weight must be numbers ≥ 0".into()));
            }
            let weights = EventWeights { purchase: 1.0, cart: cart_weight, view: view_weight };
            let settings = ModelSettings { kind, weights, neighbours, hybrid_item_knn_weight, rp3beta: None };
            let loaded = load(&input)?;
            // The same names the app shows: the catalogue given, else a
            // Description-like column of the events file.
            let catalogue = match &products {
                Some(path) => Some(read_catalogue_file(path)?),
                None => loaded
                    .report
                    .mapping
                    .get("item_id")
                    .and_then(|column| product_names_in(&input.events, column, input.encoding)),
            };
            let (interactions, attributes) = {
                let _t = crate::core::trace::phase("interactions");
                recommender_inputs(&loaded.events, &settings, catalogue.as_ref())?
            };
            if let Some(path) = &split_out {
                output::write_csv(path, &mut recommend::split_table(&interactions)?)?;
            }
            if evaluate {
                let kinds: Vec<ModelKind> = if compare { ModelKind::ALL.to_vec() } else { vec![kind] };
                for kind in kinds {
                    let e = recommend::evaluate(&ModelSettings { kind, ..settings }, &interactions, &attributes, k);
                    if json {
                        println!("{}", serde_json::to_string(&e).map_err(|e| Failure(e.to_string()))?);
                    } else {
                        println!(
                            "{:<11} @{}: precision {:.4}, recall {:.4}, NDCG {:.4}, hit rate {:.4}, coverage {:.4} over {} customers",
                            e.model, e.k, e.precision, e.recall, e.ndcg, e.hit_rate, e.coverage, e.evaluated_customers
                        );
                    }
                }
                if !json {
                    println!(
                        "protocol: per customer with ≥ 2 items, the last ⌈20%⌉ bought (by first purchase time) held out; trained on the rest; bought items never recommended"
                    );
                }
            }
            if out.is_none() && customer.is_none() && segment_out.is_none() {
                if !evaluate {
                    return Err(Failure("give --evaluate, --out recs.csv or --customer ID".into()));
                }
                return Ok(());
            }
            let segment_table = match &segments {
                Some(path) => Some(read_segments_csv(path)?),
                None => None,
            };
            // Every customer with an event gets a list (new ones: popular items);
            // then the events are freed before the model is fitted.
            let customers = match &out {
                Some(_) => Some(text_column(
                    &loaded
                        .events
                        .df
                        .clone()
                        .lazy()
                        .select([loaded.events.customer_id_expr()])
                        .unique(None, UniqueKeepStrategy::Any)
                        .sort(["customer_id"], Default::default())
                        .collect()?,
                    "customer_id",
                )?),
                None => None,
            };
            drop(loaded);
            let rec = {
                let _t = crate::core::trace::phase("fit");
                Recommender::fit(settings, interactions, attributes, segment_table.as_deref())
            };
            if let Some(id) = customer {
                let bought = rec.bought(&id);
                println!(
                    "customer {id}: {} items bought{}",
                    bought.len(),
                    if bought.is_empty() { " (new: popular items)" } else { "" }
                );
                for &i in bought {
                    println!(
                        "  bought  {:<16} {}",
                        rec.item_id(i),
                        rec.attributes.name[i as usize].as_deref().unwrap_or("")
                    );
                }
                println!(
                    "top {k} by {} ({}):",
                    kind.name(),
                    if include_bought {
                        "items already bought may appear"
                    } else {
                        "items already bought are excluded"
                    }
                );
                for (rank, r) in rec.recommend(&id, k, include_bought).iter().enumerate() {
                    println!("  {:>2}. {:<16} {:>8.4}  {}", rank + 1, rec.item_id(r.item), r.score, rec.reason(r));
                }
            }
            if let Some(path) = out {
                let customers = customers.unwrap_or_default();
                // In chunks, so that memory holds one chunk's rows, not every customer's.
                let _t = crate::core::trace::phase("recommend + write");
                output::write_atomically(&path, |w| {
                    for (n, chunk) in customers.chunks(RECOMMEND_CHUNK).enumerate() {
                        let mut df =
                            recommendations_table(&rec, chunk, k, include_bought).map_err(|e| e.to_string())?;
                        CsvWriter::new(&mut *w).include_header(n == 0).finish(&mut df).map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })?;
                println!(
                    "recommend: top {k} by {} for {} customers → {}",
                    kind.name(),
                    customers.len(),
                    path.display()
                );
            }
            if let (Some(table), Some(segment_out)) = (&segment_table, segment_out) {
                let view = rec.segment_products(table, k);
                let mut rows: Vec<(i32, String, u32, String, u64, f64)> = Vec::new();
                for seg in &view {
                    for (rank, &(item, members, share)) in seg.items.iter().enumerate() {
                        rows.push((
                            seg.segment,
                            seg.name.clone(),
                            rank as u32 + 1,
                            rec.item_id(item).to_string(),
                            members as u64,
                            share,
                        ));
                    }
                }
                let mut df = DataFrame::new(
                    rows.len(),
                    vec![
                        Int32Chunked::from_iter_values("segment".into(), rows.iter().map(|r| r.0)).into_column(),
                        StringChunked::from_iter_values("segment_name".into(), rows.iter().map(|r| r.1.as_str()))
                            .into_column(),
                        UInt32Chunked::from_iter_values("rank".into(), rows.iter().map(|r| r.2)).into_column(),
                        StringChunked::from_iter_values("item_id".into(), rows.iter().map(|r| r.3.as_str()))
                            .into_column(),
                        UInt64Chunked::from_iter_values("members".into(), rows.iter().map(|r| r.4)).into_column(),
                        Float64Chunked::from_iter_values("share".into(), rows.iter().map(|r| r.5)).into_column(),
                    ],
                )?;
                output::write_csv(&segment_out, &mut df)?;
                println!("recommend: top {k} products of {} segments → {}", view.len(), segment_out.display());
            }
            Ok(())
        }
        Command::Bundles(args) => bundles::bundles_command(args),
        Command::Plan(args) => campaigns::plan_command(args),
        Command::Calibrate(args) => campaigns::calibrate_command(args),
        Command::Simulate(args) => campaigns::simulate_command(args),
        Command::Export(args) => campaigns::export_command(args),
        Command::GenerateSample { customers, seed, out } => {
            if customers == 0 {
                return Err(Failure("--customers must be at least 1".into()));
            }
            std::fs::create_dir_all(&out).map_err(|e| Failure(format!("{}: {e}", out.display())))?;
            let mut shop = sample::generate_shop(&ShopConfig { customers, seed, ..Default::default() })?;
            output::write_parquet(&out.join("events.parquet"), &mut shop.events)?;
            output::write_csv(&out.join("products.csv"), &mut shop.products)?;
            output::write_csv(&out.join("customers.csv"), &mut shop.customers)?;
            if let Some((results, _)) = &mut shop.past_campaign {
                output::write_csv(&out.join("past_campaign.csv"), results)?;
            }
            println!(
                "generate-sample: {} customers, {} products, {} events (seed {seed}) → {}",
                shop.customers.height(),
                shop.products.height(),
                shop.events.height(),
                out.display()
            );
            Ok(())
        }
        Command::BenchKmeans { features, matrix, k, n_init, seed } => {
            let data = match (features, matrix) {
                (Some(path), _) => clustering_matrix(&read_features_csv(&path)?, &FeatureSpec::defaults())?.values,
                (None, Some(path)) => sample::blobs::read_matrix(&path)?,
                (None, None) => return Err(Failure("give --features or --matrix".into())),
            };
            let params = KMeansParams { k, n_init, seed, ..Default::default() };
            let started = std::time::Instant::now();
            let fit = params.fit(data.view())?;
            println!(
                "{}",
                serde_json::json!({
                    "fit_s": started.elapsed().as_secs_f64(),
                    "inertia": fit.inertia,
                    "iterations": fit.iterations,
                    "rows": data.nrows(),
                    "dims": data.ncols(),
                })
            );
            Ok(())
        }
        Command::GenerateBlobs { rows, dims, centers, seed, out } => {
            if rows == 0 || dims == 0 || centers == 0 {
                return Err(Failure("--rows, --dims and --centers must be at least 1".into()));
            }
            output::write_parquet(&out, &mut sample::blobs::blobs(rows, dims, centers, seed)?)?;
            println!("generate-blobs: {rows} × {dims}, {centers} centres (seed {seed}) → {}", out.display());
            Ok(())
        }
        Command::Cluster { node } => run_cluster_node(node),
        Command::GenerateEvents { rows, seed, format, files, out } => {
            let cfg = event_log::EventLogConfig::with_rows(rows, seed);
            match (format, files) {
                (LogFormat::Csv, Some(_)) => {
                    return Err(Failure("--files writes Parquet: add --format parquet".into()));
                }
                (LogFormat::Csv, None) => {
                    output::write_atomically(&out, |w| event_log::write_csv(&cfg, w).map_err(|e| e.to_string()))?
                }
                (LogFormat::Parquet, None) => output::write_parquet(&out, &mut event_log::to_frame(&cfg)?)?,
                (LogFormat::Parquet, Some(n)) => {
                    std::fs::create_dir_all(&out).map_err(|e| Failure(format!("{}: {e}", out.display())))?;
                    for (i, part) in event_log::parts(&cfg, n).enumerate() {
                        output::write_parquet(&out.join(format!("part-{i:05}.parquet")), &mut part?)?;
                    }
                }
            }
            println!(
                "generate-events: {rows} rows, {} users, {} items (seed {seed}) → {}",
                cfg.users,
                cfg.items,
                out.display()
            );
            Ok(())
        }
    }
}

/// The ks of `--k-range`.
#[derive(Clone, Debug)]
pub struct KRange(pub Vec<usize>);

/// `2-10` → [2, 3, …, 10].
fn parse_k_range(arg: &str) -> Result<KRange, String> {
    let (lo, hi) =
        arg.split_once(['-', '.']).ok_or_else(|| format!("--k-range expects FROM-TO, e.g. 2-10, got {arg:?}"))?;
    let lo: usize = lo.trim_matches('.').parse().map_err(|_| format!("--k-range: {lo:?} is not a number"))?;
    let hi: usize = hi.trim_matches('.').parse().map_err(|_| format!("--k-range: {hi:?} is not a number"))?;
    if lo < 2 || hi < lo || hi > 50 {
        return Err(format!("--k-range: need 2 ≤ FROM ≤ TO ≤ 50, got {arg}"));
    }
    Ok(KRange((lo..=hi).collect()))
}

/// `column`, `column:log1p` or `column:winsorise=P`.
fn parse_feature(arg: &str) -> Result<FeatureSpec, String> {
    let (column, transform) = arg.split_once(':').unwrap_or((arg, "none"));
    let transform = match transform {
        "none" => Transform::None,
        "log1p" => Transform::Log1p,
        t if t.starts_with("winsorise=") || t.starts_with("winsorize=") => {
            let p: f64 = t[10..].parse().map_err(|_| format!("--feature {arg}: the percentile must be a number"))?;
            Transform::Winsorise { percentile: p }
        }
        other => {
            return Err(format!("--feature {arg}: unknown transform {other:?} (none, log1p, winsorise=P)"));
        }
    };
    Ok(FeatureSpec::new(column, transform))
}

/// Reads a CSV with every column as text.
fn read_table_csv(path: &Path) -> Result<DataFrame, Failure> {
    crate::core::table::read_text_csv(path).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

/// Reads a segments.csv: (customer_id, segment, segment_name) per row.
fn read_segments_csv(path: &Path) -> Result<Vec<(String, i32, String)>, Failure> {
    let table = read_table_csv(path)?;
    let column = |name: &str| {
        text_column(&table, name)
            .map_err(|_| Failure(format!("{}: expected the columns customer_id,segment,segment_name", path.display())))
    };
    let (ids, segments, names) = (column("customer_id")?, column("segment")?, column("segment_name")?);
    ids.into_iter()
        .zip(segments)
        .zip(names)
        .enumerate()
        .map(|(row, ((id, segment), name))| match segment.trim().parse::<i32>() {
            Ok(segment) => Ok((id, segment, name)),
            Err(_) => Err(Failure(format!(
                "{}: row {}, column 'segment': {segment:?} is not a segment number",
                path.display(),
                row + 1
            ))),
        })
        .collect()
}

fn parse_as_of(as_of: Option<String>) -> Result<Option<i64>, Failure> {
    as_of
        .map(|t| {
            parse::parse_timestamp(&t).ok_or_else(|| {
                Failure(format!("--as-of: cannot read {t:?} as a date or time (e.g. 2011-12-09 or 2011-12-09 12:00)"))
            })
        })
        .transpose()
}

/// An events path as given: the word `sample` names the bundled demo shop.
pub fn events_path(arg: &str) -> Result<PathBuf, String> {
    Ok(crate::core::sample::bundled::resolve(Path::new(arg)))
}

/// Wall time per phase of a command, for `--timings`.
struct Phases {
    started: std::time::Instant,
    last: std::time::Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new() -> Phases {
        let now = std::time::Instant::now();
        Phases { started: now, last: now, done: Vec::new() }
    }

    /// Ends the phase `name`, timed since the last one ended.
    fn lap(&mut self, name: &'static str) {
        self.done.push((name, self.last.elapsed().as_secs_f64()));
        self.last = std::time::Instant::now();
    }

    /// A phase timed elsewhere; the next lap starts now.
    fn add(&mut self, name: &'static str, seconds: f64) {
        self.done.push((name, seconds));
        self.last = std::time::Instant::now();
    }

    fn json(&self) -> String {
        let mut json = serde_json::Map::new();
        for (name, seconds) in &self.done {
            json.insert(name.to_string(), serde_json::json!(seconds));
        }
        json.insert("total_s".into(), serde_json::json!(self.started.elapsed().as_secs_f64()));
        serde_json::Value::Object(json).to_string()
    }
}
