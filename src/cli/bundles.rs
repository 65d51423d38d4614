//! `bundles`: association rules from purchase orders (or any table of
//! baskets), with the measures mlxtend and arules report.

use std::path::PathBuf;

use clap::Args;
use polars::prelude::*;

use super::{EventsInput, Failure, events_path, load};
use crate::core::import::{Canonical, TextEncoding, parse_override};
use crate::core::output;
use crate::core::recommend::bundles::{self, BasketData, BundleSettings, Bundles};
use crate::core::table::read_table;

/// `bundles`' arguments.
#[derive(Args, Debug)]
pub struct BundlesArgs {
    /// Events file: one basket per purchase order (DATA.md §1).
    #[arg(long, value_parser = events_path, required_unless_present = "baskets", conflicts_with = "baskets")]
    events: Option<PathBuf>,
    /// Column mapping override for --events, canonical=FileColumn (repeatable).
    #[arg(long = "map", value_parser = parse_override)]
    map: Vec<(Canonical, String)>,
    /// A CSV file's text encoding for --events; default: detected.
    #[arg(long, value_parser = TextEncoding::from_label)]
    encoding: Option<TextEncoding>,
    /// Instead of events: a table (CSV or Parquet) of one row per (basket, item).
    #[arg(long)]
    baskets: Option<PathBuf>,
    /// With --baskets: the column naming the basket.
    #[arg(long, default_value = "transaction_id", requires = "baskets")]
    basket_column: String,
    /// With --baskets: the column naming the item.
    #[arg(long, default_value = "item", requires = "baskets")]
    item_column: String,
    /// Minimum share of baskets holding an itemset (0 < s ≤ 1).
    #[arg(long, default_value_t = BundleSettings::default().min_support)]
    min_support: f64,
    /// Minimum confidence of a rule (0..1).
    #[arg(long, default_value_t = BundleSettings::default().min_confidence)]
    min_confidence: f64,
    /// Minimum lift of a rule (0 = any).
    #[arg(long, default_value_t = BundleSettings::default().min_lift)]
    min_lift: f64,
    /// Largest itemset (items in a rule's two sides together).
    #[arg(long, default_value_t = BundleSettings::default().max_len)]
    max_len: usize,
    /// Where the rules go: antecedents,consequents,antecedent_support,consequent_support,
    /// support,confidence,lift,leverage,conviction (items joined by "|").
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where the frequent itemsets go: itemset,size,baskets,support.
    #[arg(long)]
    itemsets_out: Option<PathBuf>,
    /// Print one JSON line: baskets, items, itemsets, rules and the settings.
    #[arg(long)]
    json: bool,
}

pub fn bundles_command(args: BundlesArgs) -> Result<(), Failure> {
    let settings = BundleSettings {
        min_support: args.min_support,
        min_confidence: args.min_confidence,
        min_lift: args.min_lift,
        max_len: args.max_len,
    };
    settings.check()?;
    let data = match (&args.events, &args.baskets) {
        (Some(events), _) => {
            let input = EventsInput {
                events: events.clone(),
                map: args.map.clone(),
                encoding: args.encoding,
                engine: Default::default(),
            };
            BasketData::from_orders(&load(&input)?.events)?
        }
        (None, Some(path)) => {
            let df = read_table(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
            BasketData::from_table(&df, &args.basket_column, &args.item_column)
                .map_err(|e| Failure(format!("{}: {e}", path.display())))?
        }
        (None, None) => return Err(Failure("give --events or --baskets".into())),
    };
    let mined = bundles::mine(&data.baskets, &settings)?;
    if let Some(path) = &args.out {
        output::write_csv(path, &mut rules_table(&mined, &data.items)?)?;
    }
    if let Some(path) = &args.itemsets_out {
        output::write_csv(path, &mut itemsets_table(&mined, &data.items)?)?;
    }
    if args.json {
        let line = serde_json::json!({
            "baskets": mined.baskets,
            "items": data.items.len(),
            "itemsets": mined.itemsets.len(),
            "rules": mined.rules.len(),
            "settings": settings,
        });
        println!("{line}");
    } else {
        println!(
            "bundles: {} baskets, {} items: {} frequent itemsets, {} rules (support ≥ {}, confidence ≥ {}, lift ≥ {}, up to {} items){}",
            mined.baskets,
            data.items.len(),
            mined.itemsets.len(),
            mined.rules.len(),
            settings.min_support,
            settings.min_confidence,
            settings.min_lift,
            settings.max_len,
            args.out.as_ref().map(|p| format!(" → {}", p.display())).unwrap_or_default()
        );
    }
    Ok(())
}

/// Item ids joined by "|", in id order.
fn names(items: &[u32], ids: &[String]) -> String {
    let mut names: Vec<&str> = items.iter().map(|&i| ids[i as usize].as_str()).collect();
    names.sort_unstable();
    names.join("|")
}

fn rules_table(mined: &Bundles, ids: &[String]) -> PolarsResult<DataFrame> {
    let r = &mined.rules;
    let text = |name: &str, f: &dyn Fn(&bundles::Rule) -> String| {
        StringChunked::from_iter_values(name.into(), r.iter().map(f)).into_column()
    };
    let number = |name: &str, f: &dyn Fn(&bundles::Rule) -> f64| {
        Float64Chunked::from_iter_values(name.into(), r.iter().map(f)).into_column()
    };
    DataFrame::new(
        r.len(),
        vec![
            text("antecedents", &|x| names(&x.antecedent, ids)),
            text("consequents", &|x| names(&x.consequent, ids)),
            number("antecedent_support", &|x| x.antecedent_support),
            number("consequent_support", &|x| x.consequent_support),
            number("support", &|x| x.support),
            number("confidence", &|x| x.confidence),
            number("lift", &|x| x.lift),
            number("leverage", &|x| x.leverage),
            number("conviction", &|x| x.conviction),
        ],
    )
}

fn itemsets_table(mined: &Bundles, ids: &[String]) -> PolarsResult<DataFrame> {
    let s = &mined.itemsets;
    DataFrame::new(
        s.len(),
        vec![
            StringChunked::from_iter_values("itemset".into(), s.iter().map(|x| names(&x.items, ids))).into_column(),
            UInt32Chunked::from_iter_values("size".into(), s.iter().map(|x| x.items.len() as u32)).into_column(),
            UInt64Chunked::from_iter_values("baskets".into(), s.iter().map(|x| x.baskets)).into_column(),
            Float64Chunked::from_iter_values("support".into(), s.iter().map(|x| x.support)).into_column(),
        ],
    )
}
