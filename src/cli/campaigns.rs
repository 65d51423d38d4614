//! The campaign commands: `calibrate` (learn from a finished campaign),
//! `plan` (who gets which offer) and `simulate` (what the plan will probably
//! earn and cost, with intervals). They share how a campaign's customers are
//! loaded, so scenarios reuse one load.

use std::path::{Path, PathBuf};

use clap::Args;
use polars::prelude::*;

use super::{EventsInput, Failure, Phases, events_path, load, parse_as_of, read_segments_csv};
use crate::core::campaign::calibrate::{self, CalibratedResponse};
use crate::core::campaign::file::{self, Campaign};
use crate::core::campaign::plan::{self, Plan};
use crate::core::campaign::simulate::{self, Design, Outlook, SimulationSettings, fairness, metrics};
use crate::core::campaign::{assign, export};
use crate::core::features::customer_features;
use crate::core::import::{Canonical, LoadedEvents, TextEncoding, parse_override};
use crate::core::output;
use crate::core::progress::Silent;
use crate::core::recommend::{ModelKind, ModelSettings, Recommender};
use crate::core::segment::{RfmSegmentation, Segment, SegmentationSettings, rfm_segments, segment_customers};
use crate::core::stages::dataset::VALUE_HORIZON_DAYS;
use crate::core::stages::recommendations::recommender_inputs;
use crate::core::table::text_column;
use crate::core::value::{CustomerValue, TimeUnit, customer_value};

/// `calibrate`'s arguments.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The results: one row per customer (CSV or Parquet).
    #[arg(long)]
    results: PathBuf,
    /// The column naming each customer's arm.
    #[arg(long)]
    arm: String,
    /// The control arm's name in that column.
    #[arg(long)]
    control: String,
    /// The 0/1 outcome column (converted, visited, ...).
    #[arg(long)]
    converted: String,
    /// The spend column (list prices over the window), if any.
    #[arg(long)]
    spend: Option<String>,
    /// A column with each customer's offer value (a discount's percent, an incentive's
    /// amount): the response is then fitted as a function of it.
    #[arg(long)]
    value: Option<String>,
    /// Attribute columns, comma-separated; default: every other column.
    #[arg(long, value_delimiter = ',')]
    attributes: Option<Vec<String>>,
    /// An events file: its customer features (DATA.md §2) join the results by customer_id.
    #[arg(long, value_parser = events_path)]
    events: Option<PathBuf>,
    /// With --events: reference time for the features (the campaign's send date).
    #[arg(long)]
    as_of: Option<String>,
    /// The days over which the results were counted; default: the campaign's horizon.
    #[arg(long)]
    window_days: Option<f64>,
    /// Posterior draws of the model kept for simulation.
    #[arg(long, default_value_t = 200)]
    replicates: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Print the arms' lifts as one line of JSON (DATA.md §10).
    #[arg(long)]
    json: bool,
    /// Print {"read_s", "fit_s", "write_s", "total_s"} as the last line of stderr.
    #[arg(long)]
    timings: bool,
}

/// A campaign and where its customers come from (`plan` and `simulate`).
#[derive(Args, Debug)]
pub struct CampaignSource {
    /// The campaign file (JSON, DATA.md §7).
    #[arg(long)]
    campaign: PathBuf,
    /// Events file: features, customer value, segments and recommended products come from it.
    #[arg(long, required_unless_present = "customers", conflicts_with = "customers", value_parser = events_path)]
    events: Option<PathBuf>,
    #[arg(long = "map", value_parser = parse_override)]
    map: Vec<(Canonical, String)>,
    /// With --events: a CSV file's text encoding; default: detected.
    #[arg(long, value_parser = TextEncoding::from_label)]
    encoding: Option<TextEncoding>,
    /// With --events: `local`, or a Ballista cluster `ballista://HOST:PORT` that
    /// checks the events and sends back the usable rows (DATA.md §11).
    #[arg(long, value_parser = crate::core::cluster::Engine::parse, default_value = "local")]
    engine: crate::core::cluster::Engine,
    /// A customer table instead (CSV or Parquet: customer_id plus attribute columns).
    #[arg(long)]
    customers: Option<PathBuf>,
    /// A segments.csv (from `segment`); without it, DATA.md §3's default segmentation.
    #[arg(long)]
    segments: Option<PathBuf>,
    /// A response.json from `calibrate`, for offers that name one of its arms.
    #[arg(long)]
    response: Option<PathBuf>,
}

/// `plan`'s arguments.
#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    source: CampaignSource,
    #[arg(long)]
    out: PathBuf,
    /// Also write every eligible (customer, offer) pair with its expected profit and cost.
    #[arg(long)]
    candidates: Option<PathBuf>,
    /// Explain one customer's offer: the eligible offers and why the chosen one won.
    #[arg(long)]
    customer: Option<String>,
    /// Print {"read_s", "features_s", "value_s", "segments_s", "values_s", "assign_s",
    /// "recommend_s", "write_s", "total_s"} as the last line of stderr.
    #[arg(long)]
    timings: bool,
}

/// `simulate`'s arguments.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    source: CampaignSource,
    /// Monte Carlo runs.
    #[arg(long, default_value_t = 1000)]
    runs: usize,
    /// Seed of the runs' random numbers; default: the campaign's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Print the forecast as one line of JSON (DATA.md §10).
    #[arg(long)]
    json: bool,
    /// Also write the plan (as `plan --out`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Other campaign files to simulate on the same customers with the same random
    /// numbers, side by side, with the probability that each beats the first.
    #[arg(long, value_delimiter = ',')]
    compare: Vec<PathBuf>,
    /// An attribute (a customer-table column or feature) whose values (numbers:
    /// quartile bands) are checked for fairness, beside the segments.
    #[arg(long)]
    fairness_by: Option<String>,
    /// Flag a group whose share targeted (or discount per targeted customer) is
    /// below this ratio of the population's, or above its inverse.
    #[arg(long, default_value_t = fairness::DEFAULT_RATIO)]
    fairness_ratio: f64,
    /// Print {"read_s", ..., "simulate_s", "sensitivity_s", "total_s"} as the last line of stderr.
    #[arg(long)]
    timings: bool,
}

/// A campaign's customers, loaded once: the table, the events it came from,
/// value, segments, and the calibrated response if any.
struct CampaignCustomers {
    table: DataFrame,
    loaded: Option<LoadedEvents>,
    value: Option<CustomerValue>,
    rfm: Option<RfmSegmentation>,
    segments: Option<(Vec<i32>, Vec<Segment>)>,
    response: Option<CalibratedResponse>,
}

fn read_campaign(path: &Path) -> Result<Campaign, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    file::read_campaign(&text).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

impl CampaignCustomers {
    /// The customers: features and value from the events, or a table as it is.
    fn load(source: &CampaignSource, phases: &mut Phases) -> Result<CampaignCustomers, Failure> {
        let (table, loaded, value) = match (&source.events, &source.customers) {
            (Some(events), _) => {
                let input = EventsInput {
                    events: events.clone(),
                    map: source.map.clone(),
                    encoding: source.encoding,
                    engine: source.engine.clone(),
                };
                let loaded = load(&input)?;
                phases.lap("read_s");
                let features = customer_features(&loaded.events, None)?;
                phases.lap("features_s");
                let value =
                    match customer_value(&loaded.events, features.as_of_ms, TimeUnit::Day, VALUE_HORIZON_DAYS, 1.0) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            eprintln!("warning: no customer-value fit ({e}); baselines use the recent purchase rate");
                            None
                        }
                    };
                phases.lap("value_s");
                (features.df, Some(loaded), value)
            }
            (None, Some(path)) => (read_customer_table(path)?, None, None),
            (None, None) => return Err(Failure("give --events or --customers".into())),
        };
        let ids = text_column(&table, "customer_id")
            .map_err(|_| Failure("the customer table has no customer_id column".to_string()))?;
        let rfm = rfm_segments(&table).ok();
        let segments = match &source.segments {
            Some(path) => Some(segments_in_order(&read_segments_csv(path)?, &ids, path)?),
            // The default segmentation where the table allows one; a campaign that
            // names segments without one is then told there are none.
            None if table.column("recency_days").is_ok() => {
                match segment_customers(&table, &SegmentationSettings::default()) {
                    Ok(s) => Some((s.assignment, s.segments)),
                    Err(e) => {
                        eprintln!("warning: no segments ({e}); give --segments to target segments");
                        None
                    }
                }
            }
            None => None,
        };
        phases.lap("segments_s");
        let response = match &source.response {
            Some(path) => Some(calibrate::load_response(path).map_err(|e| Failure(e.to_string()))?),
            None => None,
        };
        Ok(CampaignCustomers { table, loaded, value, rfm, segments, response })
    }

    /// Plans `campaign` (read from `path`, named in errors) for these customers.
    fn plan(&self, campaign: &Campaign, path: &Path) -> Result<Plan, Failure> {
        let inputs = plan::CampaignInputs {
            customers: &self.table,
            value: self.value.as_ref(),
            segments: self.segments.as_ref().map(|(a, s)| (a.as_slice(), s.as_slice())),
            rfm: self.rfm.as_ref(),
            response: self.response.as_ref(),
        };
        plan::plan(campaign, &inputs).map_err(|e| Failure(format!("{}: {e}", path.display())))
    }

    /// Gamma-Gamma's shape: how much a customer's order values vary.
    fn order_value_shape(&self) -> Option<f64> {
        self.value.as_ref().map(|v| v.gamma_gamma.p)
    }

    /// `plan.csv` (or .parquet) with each customer's top products, ids pseudonymised with a key.
    fn write_plan(
        &self,
        plan: &Plan,
        out: &Path,
        pseudonyms: Option<&export::Pseudonymiser>,
        phases: &mut Phases,
    ) -> Result<(), Failure> {
        let recommender = match &self.loaded {
            Some(loaded) => {
                let settings = ModelSettings::new(ModelKind::DEFAULT);
                let (interactions, attributes) = recommender_inputs(&loaded.events, &settings, None)?;
                Some(Recommender::fit(settings, interactions, attributes, None))
            }
            None => None,
        };
        let items = export::recommended_items(plan, recommender.as_ref());
        phases.lap("recommend_s");
        export::write_plan(out, &mut export::plan_table(plan, &|i| items[i].clone(), pseudonyms)?)?;
        Ok(())
    }
}

/// Notes about a plan, on stderr.
fn say_notes(plan: &Plan) {
    eprintln!("{}", plan.customers.baseline_note);
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    if plan.assignment.targeted() == 0 && plan.candidates.candidates().iter().any(|c| c.profit > 0.0) {
        eprintln!("note: the budget is too small for any profitable offer, so the plan targets no one");
    }
}

pub fn plan_command(args: PlanArgs) -> Result<(), Failure> {
    let mut phases = Phases::new();
    let campaign = read_campaign(&args.source.campaign)?;
    let customers = CampaignCustomers::load(&args.source, &mut phases)?;
    let plan = customers.plan(&campaign, &args.source.campaign)?;
    phases.add("values_s", plan.values_s);
    phases.add("assign_s", plan.assign_s);
    customers.write_plan(&plan, &args.out, None, &mut phases)?;
    if let Some(path) = &args.candidates {
        output::write_csv(path, &mut plan.candidates_frame()?)?;
    }
    phases.lap("write_s");
    if let Some(id) = &args.customer {
        explain_customer(&plan, id)?;
    }
    say_notes(&plan);
    println!("plan: {} → {}", plan.summary(), args.out.display());
    if args.timings {
        eprintln!("{}", phases.json());
    }
    Ok(())
}

/// One customer's offers and why the chosen one won.
fn explain_customer(plan: &Plan, id: &str) -> Result<(), Failure> {
    let Some(i) = plan.customers.ids.iter().position(|c| c == id) else {
        return Err(Failure(format!("--customer {id}: no such customer in the data")));
    };
    let names: Vec<&str> = plan.campaign.offers.iter().map(|o| o.name.as_str()).collect();
    let why = assign::explain(&plan.candidates, &plan.assignment, i, &names);
    // Without the campaign, as the shown offer's response model sees it
    // (a calibrated arm has its own control).
    let base = &plan.customers.baseline[i];
    let (p0, s0) = plan.shown_candidate(i).map_or((base.p0, base.s0), |c| (plan.effects[c].p0, plan.effects[c].s0));
    println!(
        "customer {id}: without the campaign P(buys in {} days) {p0:.3}, spend if buying {s0:.2}",
        plan.campaign.horizon_days
    );
    for o in &why.options {
        println!(
            "  {} {:<24} expected incremental profit {:>9.2}   expected cost {:>8.2}",
            if o.chosen { "→" } else { " " },
            names.get(o.offer as usize).copied().unwrap_or("?"),
            o.profit,
            o.cost
        );
    }
    println!("  {}", why.sentence);
    Ok(())
}

/// `calibrate`: reads the results (joined with the customer features when
/// events are given), prints each arm's lift, writes the response model.
pub fn calibrate_command(args: CalibrateArgs) -> Result<(), Failure> {
    let columns = calibrate::ResultsColumns {
        arm: args.arm,
        control: args.control,
        converted: args.converted,
        spend: args.spend,
        value: args.value,
        attributes: args.attributes,
    };
    let settings = calibrate::CalibrationSettings {
        replicates: args.replicates,
        seed: args.seed,
        window_days: args.window_days,
        source: args.results.display().to_string(),
    };
    let mut phases = Phases::new();
    let shown = args.results.display().to_string();
    let results = match &args.events {
        None => calibrate::read_results(&args.results, &columns).map_err(|e| Failure(e.to_string()))?,
        Some(events) => {
            let table = crate::core::table::read_table(&args.results).map_err(|e| Failure(format!("{shown}: {e}")))?;
            let input =
                EventsInput { events: events.clone(), map: Vec::new(), encoding: None, engine: Default::default() };
            let loaded = load(&input)?;
            let features = customer_features(&loaded.events, parse_as_of(args.as_of.clone())?)?;
            let joined = join_features(table, features.df).map_err(|e| Failure(format!("{shown}: {e}")))?;
            calibrate::results_from_table(&joined, &columns, &shown).map_err(|e| Failure(e.to_string()))?
        }
    };
    phases.lap("read_s");
    settings.check().map_err(|e| Failure(e.to_string()))?;
    let response = calibrate::calibrate(&results, &settings).map_err(|e| Failure(e.to_string()))?;
    phases.lap("fit_s");
    calibrate::save_response(&args.out, &response).map_err(|e| Failure(e.to_string()))?;
    phases.lap("write_s");
    let observed = &response.observed;
    if args.json {
        println!("{}", serde_json::to_string(observed).map_err(|e| Failure(e.to_string()))?);
    } else {
        print!("{}", calibrate::report::lifts_table(observed));
        for line in calibrate::report::model_notes(&response) {
            println!("{line}");
        }
        println!(
            "calibrate: {} customers, {} treated arm{} and the control {:?} → {}",
            results.len(),
            results.arms.len() - 1,
            if results.arms.len() == 2 { "" } else { "s" },
            columns.control,
            args.out.display()
        );
    }
    if args.timings {
        eprintln!("{}", phases.json());
    }
    Ok(())
}

/// The results with the customer features joined by customer_id (a
/// customer without events gets nulls); the results' own columns win.
fn join_features(results: DataFrame, features: DataFrame) -> PolarsResult<DataFrame> {
    let own: Vec<String> = results.get_column_names().iter().map(|c| c.to_string()).collect();
    let keep: Vec<Expr> = features
        .get_column_names()
        .iter()
        .filter(|c| c.as_str() == "customer_id" || !own.iter().any(|o| o == c.as_str()))
        .map(|c| col(c.as_str()))
        .collect();
    results
        .lazy()
        .with_column(col("customer_id").cast(DataType::String))
        .join(
            features.lazy().select(keep),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) },
        )
        .collect()
}

/// A customer table: CSV (every column as text, numbers converted where they
/// all parse) or Parquet.
fn read_customer_table(path: &Path) -> Result<DataFrame, Failure> {
    let shown = path.display();
    let df = crate::core::table::read_table(path).map_err(|e| Failure(format!("{shown}: {e}")))?;
    if df.column("customer_id").is_err() {
        return Err(Failure(format!("{shown}: a customer table needs a customer_id column")));
    }
    Ok(df)
}

/// segments.csv rows put in the customer table's order; the segments it names.
fn segments_in_order(
    rows: &[(String, i32, String)],
    ids: &[String],
    path: &Path,
) -> Result<(Vec<i32>, Vec<crate::core::segment::Segment>), Failure> {
    let by_id: std::collections::HashMap<&str, (i32, &str)> =
        rows.iter().map(|(id, s, name)| (id.as_str(), (*s, name.as_str()))).collect();
    let mut assignment = Vec::with_capacity(ids.len());
    // Sizes count the customers planned, not every row of the file.
    let mut segments: Vec<crate::core::segment::Segment> = Vec::new();
    for id in ids {
        let Some(&(segment, name)) = by_id.get(id.as_str()) else {
            return Err(Failure(format!("{}: customer {id} has no segment", path.display())));
        };
        assignment.push(segment);
        match segments.iter_mut().find(|s| s.id == segment) {
            Some(s) => s.customers += 1,
            None => segments.push(crate::core::segment::Segment {
                id: segment,
                name: name.to_string(),
                description: String::new(),
                customers: 1,
            }),
        }
    }
    Ok((assignment, segments))
}

pub fn simulate_command(args: SimulateArgs) -> Result<(), Failure> {
    let mut phases = Phases::new();
    let campaign = read_campaign(&args.source.campaign)?;
    let settings = SimulationSettings { runs: args.runs, seed: args.seed.unwrap_or(campaign.seed) };
    settings.check()?;
    if !(args.fairness_ratio > 0.0 && args.fairness_ratio < 1.0) {
        return Err(Failure(format!(
            "--fairness-ratio must be between 0 and 1 (0.8: the four-fifths rule), got {}",
            args.fairness_ratio
        )));
    }
    let customers = CampaignCustomers::load(&args.source, &mut phases)?;
    let plan = customers.plan(&campaign, &args.source.campaign)?;
    phases.add("values_s", plan.values_s);
    phases.add("assign_s", plan.assign_s);
    if let Some(name) = &args.fairness_by
        && !plan.customers.numbers.contains_key(name)
        && !plan.customers.texts.contains_key(name)
    {
        let known: Vec<&str> =
            plan.customers.numbers.keys().chain(plan.customers.texts.keys()).map(String::as_str).collect();
        return Err(Failure(format!("--fairness-by: no attribute {name:?}; the customers have: {}", known.join(", "))));
    }
    let mut outlook = customers.outlook(&plan, &settings, args.fairness_by.as_deref(), args.fairness_ratio)?;
    phases.lap("simulate_s");
    // Scenarios: the same customers and random numbers, another campaign.
    for path in &args.compare {
        let other = read_campaign(path)?;
        let other_plan = customers.plan(&other, path)?;
        let design = Design::from_plan(&other_plan, customers.response.as_ref(), customers.order_value_shape());
        outlook.scenarios.push((path.display().to_string(), simulate::simulate(&design, &settings, &Silent, &|_| {})?));
    }
    phases.lap("scenarios_s");
    if let Some(out) = &args.out {
        customers.write_plan(&plan, out, None, &mut phases)?;
        phases.lap("write_s");
    }
    say_notes(&plan);
    if args.json {
        println!("{}", outlook.json(&plan.notes));
    } else {
        print!("{}", outlook.text());
        if let Some(out) = &args.out {
            println!("plan → {}", out.display());
        }
    }
    if args.timings {
        eprintln!("{}", phases.json());
    }
    Ok(())
}

impl CampaignCustomers {
    /// Simulates `plan` and measures what surrounds the forecast.
    fn outlook(
        &self,
        plan: &Plan,
        settings: &SimulationSettings,
        fairness_by: Option<&str>,
        fairness_ratio: f64,
    ) -> Result<Outlook, Failure> {
        let response = self.response.as_ref();
        let shape = self.order_value_shape();
        let check = fairness::FairnessCheck { by: fairness_by, ratio: fairness_ratio };
        Ok(simulate::outlook(plan, response, shape, settings, check, &Silent, &|_| {})?)
    }
}

fn spreads(g: &simulate::GroupForecast) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, name) in metrics::METRICS.iter().enumerate() {
        m.insert(name.to_string(), serde_json::json!(g.spread(k)));
    }
    serde_json::Value::Object(m)
}

/// `simulate`'s two ways of saying the outlook.
trait Say {
    fn json(&self, notes: &[String]) -> String;
    fn text(&self) -> String;
}

impl Say for Outlook {
    /// DATA.md §10's line, with the holdout, sensitivity, fairness and scenarios after it.
    fn json(&self, notes: &[String]) -> String {
        let f = &self.forecast;
        let groups = |kind: simulate::GroupKind, key: &str| -> Vec<serde_json::Value> {
            f.groups
                .iter()
                .filter(|g| g.kind == kind)
                .map(|g| serde_json::json!({key: g.name, "treated": g.treated, "control": g.control, "metrics": spreads(g)}))
                .collect()
        };
        let profit = metrics::metric("incremental_profit");
        let scenarios: Vec<serde_json::Value> = self
            .scenarios
            .iter()
            .map(|(name, other)| {
                serde_json::json!({
                    "campaign": name,
                    "name": other.campaign,
                    "targeted": other.targeted,
                    "incremental_profit": other.overall().spread(profit),
                    "p_first_beats_it": f.beats(other),
                })
            })
            .collect();
        serde_json::json!({
            "campaign": f.campaign,
            "runs": f.runs(),
            "seed": f.seed,
            "customers": f.customers,
            "targeted": f.targeted,
            "treated": f.treated,
            "control": f.control,
            "metrics": spreads(f.overall()),
            "by_offer": groups(simulate::GroupKind::Offer, "offer"),
            "by_segment": groups(simulate::GroupKind::Segment, "segment"),
            "expected_incremental_profit": self.expected_profit,
            "holdout": self.holdout,
            "sensitivity": self.swings,
            "fairness": self.fairness,
            "scenarios": scenarios,
            "notes": notes,
        })
        .to_string()
    }

    fn text(&self) -> String {
        use std::fmt::Write;
        let f = &self.forecast;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "simulate: {:?}, {} runs (seed {}): {} of {} customers targeted, {} treated, {} held out",
            f.campaign,
            f.runs(),
            f.seed,
            f.targeted,
            f.customers,
            f.treated,
            f.control
        );
        let shown = [
            ("incremental profit", "incremental_profit", 2),
            ("incremental revenue", "incremental_revenue", 2),
            ("incremental conversions", "incremental_conversions", 1),
            ("discounts paid", "discount_cost", 2),
            ("messages", "message_cost", 2),
            ("ROI", "roi", 2),
            ("conversion, treated", "conversion_rate_treated", 4),
            ("conversion, control", "conversion_rate_control", 4),
            ("lift in conversion", "lift_conversion", 4),
            ("lift in spend per customer", "lift_spend", 2),
        ];
        let _ = writeln!(out, "{:<28} {:>12}  {:>27}", "", "mean", "90% interval (p5 to p95)");
        for (label, name, decimals) in shown {
            let s = f.overall().spread(metrics::metric(name));
            let _ = writeln!(
                out,
                "{label:<28} {:>12.decimals$}  [{:>12.decimals$}, {:>12.decimals$}]",
                s.mean, s.p5, s.p95
            );
        }
        let profit = metrics::metric("incremental_profit");
        let _ = writeln!(out, "by offer (incremental profit, mean [90% interval]):");
        for g in f.groups.iter().filter(|g| g.kind == simulate::GroupKind::Offer && g.treated + g.control > 0) {
            let s = g.spread(profit);
            let _ = writeln!(
                out,
                "  {:<26} {:>7} treated  {:>12.2}  [{:.2}, {:.2}]",
                g.name, g.treated, s.mean, s.p5, s.p95
            );
        }
        let _ = writeln!(out, "by segment:");
        for g in f.groups.iter().filter(|g| g.kind == simulate::GroupKind::Segment) {
            let s = g.spread(profit);
            let _ = writeln!(
                out,
                "  {:<26} {:>7} treated  {:>12.2}  [{:.2}, {:.2}]",
                g.name, g.treated, s.mean, s.p5, s.p95
            );
        }
        let h = &self.holdout;
        let share = |q: Option<f64>| {
            q.map_or_else(|| "more than half (not reachable)".to_string(), |q| format!("{:.1}%", q * 100.0))
        };
        let _ = writeln!(
            out,
            "holdout of {}: power {:.2} to detect the forecast conversion lift ({:+.2} points), smallest detectable {:.2} points; 80% power needs a holdout of {}",
            h.control,
            h.power_conversion,
            (h.conversion_treated - h.conversion_control) * 100.0,
            h.mde_conversion * 100.0,
            share(h.holdout_for_80_conversion)
        );
        let _ = writeln!(
            out,
            "  spend per customer: power {:.2} for {:+.2}, smallest detectable {:.2}; 80% power needs {}",
            h.power_spend,
            h.spend_lift,
            h.mde_spend,
            share(h.holdout_for_80_spend)
        );
        let _ =
            writeln!(out, "sensitivity (expected incremental profit {:.2} at the estimates):", self.expected_profit);
        for s in self.swings.iter().take(6) {
            let _ = writeln!(
                out,
                "  {:<26} {:>10.2} at {} .. {:>10.2} at {}",
                s.parameter, s.profit_at_low, s.low, s.profit_at_high, s.high
            );
        }
        let flagged: Vec<&fairness::GroupFairness> = self.fairness.iter().filter(|g| !g.flags.is_empty()).collect();
        if flagged.is_empty() {
            let _ = writeln!(out, "fairness: no group's share targeted or discount strays beyond the ratio");
        }
        for g in flagged {
            let _ =
                writeln!(out, "fairness: {} {:?} ({} customers): {}", g.by, g.group, g.customers, g.flags.join("; "));
        }
        for (name, other) in &self.scenarios {
            let s = other.overall().spread(profit);
            let _ = writeln!(
                out,
                "scenario {name}: incremental profit {:.2} [{:.2}, {:.2}]; P(this campaign beats it) {:.2}",
                s.mean,
                s.p5,
                s.p95,
                f.beats(other)
            );
        }
        out
    }
}

/// `export`'s arguments.
#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    source: CampaignSource,
    /// The plan file (customer → group → offer → channel → products): .csv or .parquet.
    #[arg(long)]
    out: PathBuf,
    /// A file holding your pseudonymisation key (16 bytes or more): customer ids become
    /// keyed hashes, the same for the same key; the key is never written anywhere.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Also write the campaign report with its forecast: one self-contained HTML file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Monte Carlo runs for the report's forecast.
    #[arg(long, default_value_t = 1000)]
    runs: usize,
    /// Seed of the forecast's runs; default: the campaign's seed.
    #[arg(long)]
    seed: Option<u64>,
}

pub fn export_command(args: ExportArgs) -> Result<(), Failure> {
    let mut phases = Phases::new();
    let campaign = read_campaign(&args.source.campaign)?;
    let settings = SimulationSettings { runs: args.runs, seed: args.seed.unwrap_or(campaign.seed) };
    settings.check()?;
    // The key first: a bad key file is said before any work.
    let pseudonyms = match &args.key_file {
        Some(path) => {
            let key = std::fs::read(path).map_err(|e| Failure(format!("--key-file {}: {e}", path.display())))?;
            Some(export::Pseudonymiser::new(&key).map_err(|e| Failure(format!("--key-file {}: {e}", path.display())))?)
        }
        None => None,
    };
    let customers = CampaignCustomers::load(&args.source, &mut phases)?;
    let plan = customers.plan(&campaign, &args.source.campaign)?;
    customers.write_plan(&plan, &args.out, pseudonyms.as_ref(), &mut phases)?;
    say_notes(&plan);
    println!(
        "export: {} customers{} → {}",
        plan.customers.len(),
        if pseudonyms.is_some() { ", ids pseudonymised" } else { "" },
        args.out.display()
    );
    if let Some(path) = &args.report {
        let outlook = customers.outlook(&plan, &settings, None, fairness::DEFAULT_RATIO)?;
        let response = simulate::response_words(&plan, customers.response.as_ref());
        let html = export::report::outlook_report(&plan.campaign, &outlook, &response, &plan.notes);
        export::write_report(path, &html)?;
        println!("export: the campaign report ({} runs) → {}", settings.runs, path.display());
    }
    Ok(())
}
