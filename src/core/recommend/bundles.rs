//! Bundles from baskets: frequent itemsets by FP-growth and the association
//! rules marketers know ("customers who buy A and B also buy C"), with
//! support, confidence and lift as `mlxtend` and R's `arules` define them.
//!
//! A basket is one purchase order's distinct items. Itemsets are grown from
//! projected baskets (FP-growth's pattern growth without the tree's pointer
//! chasing), in parallel over the first item, then sorted, so the result is
//! the same whatever the thread count.

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::core::events::{EventTable, col_name, is_bought_line};
use crate::core::table::text_column;

/// The largest itemset mined: every itemset of n items makes 2^n − 2 rules.
pub const MAX_LEN: usize = 16;

/// Thresholds, checked by [`BundleSettings::check`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct BundleSettings {
    /// Minimum share of baskets that hold the whole itemset (0 < s ≤ 1).
    pub min_support: f64,
    /// Minimum P(consequent | antecedent) of a rule (0 ≤ c ≤ 1).
    pub min_confidence: f64,
    /// Minimum lift of a rule (0 = any).
    pub min_lift: f64,
    /// Largest itemset mined (at least 2).
    pub max_len: usize,
}

impl Default for BundleSettings {
    /// Mined in about a second on Online Retail (18,536 orders: 9,499 rules);
    /// the bundled shop's random baskets give a handful.
    fn default() -> Self {
        BundleSettings { min_support: 0.005, min_confidence: 0.2, min_lift: 1.0, max_len: 4 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("min_support must be above 0 and at most 1, got {0}")]
    Support(f64),
    #[error("min_confidence must be between 0 and 1, got {0}")]
    Confidence(f64),
    #[error("min_lift must be 0 or more, got {0}")]
    Lift(f64),
    #[error("max_len must be between 2 (a bundle has two items or more) and {MAX_LEN}, got {0}")]
    Length(usize),
    #[error("there are no baskets with an item")]
    NoBaskets,
    #[error(
        "the events have no item_id column, so there are no baskets of products; map one with --map item_id=<column>"
    )]
    NoItems,
    #[error("the baskets file has no column \"{0}\" (columns: {1})")]
    MissingColumn(String, String),
    #[error("reading the baskets failed: {0}")]
    Table(#[from] PolarsError),
}

/// Baskets as item numbers, and the items' ids (sorted; index = number).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BasketData {
    pub items: Vec<String>,
    pub baskets: Vec<Vec<u32>>,
}

impl BasketData {
    /// From (basket key, item id) rows sorted by basket key.
    fn from_rows(keys: &[String], item_ids: Vec<String>) -> BasketData {
        let mut items = item_ids.clone();
        items.sort();
        items.dedup();
        let mut baskets: Vec<Vec<u32>> = Vec::new();
        for (row, id) in item_ids.iter().enumerate() {
            if row == 0 || keys[row] != keys[row - 1] {
                baskets.push(Vec::new());
            }
            if let (Ok(n), Some(b)) = (items.binary_search(id), baskets.last_mut()) {
                b.push(n as u32);
            }
        }
        BasketData { items, baskets }
    }

    /// One basket per purchase order (DATA.md §1: `order_id`, else one
    /// (customer, timestamp)): the items of its lines with quantity > 0.
    pub fn from_orders(events: &EventTable) -> Result<BasketData, BundleError> {
        if !events.has_item_id {
            return Err(BundleError::NoItems);
        }
        let order = if events.has_order_id { col(col_name::ORDER_ID) } else { col(col_name::TIMESTAMP_MS) };
        let df = events
            .df
            .clone()
            .lazy()
            .filter(is_bought_line().and(col(events.item_key()).is_not_null()))
            .select([
                col(events.customer_key()).cast(DataType::String).alias("__customer"),
                order.cast(DataType::String).alias("__order"),
                events.item_id_expr(),
            ])
            .sort(["__customer", "__order"], SortMultipleOptions::default())
            .collect()?;
        let keys: Vec<String> = text_column(&df, "__customer")?
            .into_iter()
            .zip(text_column(&df, "__order")?)
            .map(|(c, o)| format!("{c}\u{1f}{o}"))
            .collect();
        Ok(BasketData::from_rows(&keys, text_column(&df, col_name::ITEM_ID)?))
    }

    /// From a table of (basket, item) rows, such as a point-of-sale export
    /// (`transaction_id,item`).
    pub fn from_table(df: &DataFrame, basket: &str, item: &str) -> Result<BasketData, BundleError> {
        for name in [basket, item] {
            if df.column(name).is_err() {
                let columns: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
                return Err(BundleError::MissingColumn(name.to_string(), columns.join(", ")));
            }
        }
        let df = df
            .clone()
            .lazy()
            .select([
                col(basket).cast(DataType::String).alias("__basket"),
                col(item).cast(DataType::String).alias("__item"),
            ])
            .filter(col("__basket").is_not_null().and(col("__item").is_not_null()))
            .sort(["__basket"], SortMultipleOptions::default())
            .collect()?;
        Ok(BasketData::from_rows(&text_column(&df, "__basket")?, text_column(&df, "__item")?))
    }
}

impl BundleSettings {
    pub fn check(&self) -> Result<(), BundleError> {
        if !(self.min_support > 0.0 && self.min_support <= 1.0) {
            return Err(BundleError::Support(self.min_support));
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return Err(BundleError::Confidence(self.min_confidence));
        }
        if !(self.min_lift >= 0.0 && self.min_lift.is_finite()) {
            return Err(BundleError::Lift(self.min_lift));
        }
        if !(2..=MAX_LEN).contains(&self.max_len) {
            return Err(BundleError::Length(self.max_len));
        }
        Ok(())
    }
}

/// A set of items bought together, and in how many baskets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Itemset {
    /// Item numbers, ascending.
    pub items: Vec<u32>,
    pub baskets: u64,
    pub support: f64,
}

/// "Baskets with `antecedent` also hold `consequent`".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// Item numbers, ascending.
    pub antecedent: Vec<u32>,
    pub consequent: Vec<u32>,
    pub antecedent_support: f64,
    pub consequent_support: f64,
    /// Share of baskets holding both sides.
    pub support: f64,
    /// support / antecedent_support.
    pub confidence: f64,
    /// confidence / consequent_support: how much likelier the consequent is
    /// in a basket with the antecedent than in any basket.
    pub lift: f64,
    /// support − antecedent_support × consequent_support.
    pub leverage: f64,
    /// (1 − consequent_support) / (1 − confidence); infinite at confidence 1.
    pub conviction: f64,
}

/// What mining found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bundles {
    pub baskets: usize,
    pub settings: BundleSettings,
    /// Every frequent itemset, by size then items.
    pub itemsets: Vec<Itemset>,
    /// Rules passing the thresholds, by lift (descending), then confidence, then items.
    pub rules: Vec<Rule>,
}

/// Mines `baskets` (item numbers per basket; duplicates and order do not
/// matter) for frequent itemsets and rules.
pub fn mine(baskets: &[Vec<u32>], settings: &BundleSettings) -> Result<Bundles, BundleError> {
    settings.check()?;
    let baskets: Vec<Vec<u32>> = baskets
        .iter()
        .map(|b| {
            let mut b = b.clone();
            b.sort_unstable();
            b.dedup();
            b
        })
        .filter(|b| !b.is_empty())
        .collect();
    if baskets.is_empty() {
        return Err(BundleError::NoBaskets);
    }
    let n = baskets.len();
    // mlxtend and arules keep an itemset when count / n ≥ min_support.
    let frequent = |count: u64| count as f64 / n as f64 >= settings.min_support;
    let n_items = baskets.iter().flatten().max().map_or(0, |&m| m as usize + 1);
    let mut counts = vec![0u64; n_items];
    baskets.iter().flatten().for_each(|&i| counts[i as usize] += 1);
    // Rank frequent items by descending count (ties: lower item number).
    let mut ranked: Vec<u32> = (0..n_items as u32).filter(|&i| frequent(counts[i as usize])).collect();
    ranked.sort_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
    let mut rank_of = vec![u32::MAX; n_items];
    for (r, &i) in ranked.iter().enumerate() {
        rank_of[i as usize] = r as u32;
    }
    // Baskets as ascending ranks of their frequent items, identical ones merged.
    let mut merged: HashMap<Vec<u32>, u64> = HashMap::new();
    for b in &baskets {
        let mut ranks: Vec<u32> = b.iter().map(|&i| rank_of[i as usize]).filter(|&r| r != u32::MAX).collect();
        if !ranks.is_empty() {
            ranks.sort_unstable();
            *merged.entry(ranks).or_default() += 1;
        }
    }
    let mut database: Vec<(Vec<u32>, u64)> = merged.into_iter().collect();
    database.sort_unstable();
    let found: Vec<(Vec<u32>, u64)> = (0..ranked.len() as u32)
        .into_par_iter()
        .flat_map_iter(|r| {
            let mut out = vec![(vec![r], counts[ranked[r as usize] as usize])];
            if settings.max_len > 1 {
                let projected = project(&database, r);
                grow(&projected, &mut vec![r], &frequent, settings.max_len, &mut out);
            }
            out
        })
        .collect();
    let mut itemsets: Vec<Itemset> = found
        .into_iter()
        .map(|(ranks, count)| {
            let mut items: Vec<u32> = ranks.iter().map(|&r| ranked[r as usize]).collect();
            items.sort_unstable();
            Itemset { items, baskets: count, support: count as f64 / n as f64 }
        })
        .collect();
    itemsets.sort_by(|a, b| a.items.len().cmp(&b.items.len()).then_with(|| a.items.cmp(&b.items)));
    let rules = rules(&itemsets, settings);
    Ok(Bundles { baskets: n, settings: *settings, itemsets, rules })
}

/// The baskets holding rank `r`, cut to the ranks before it (more frequent
/// ones): the database in which itemsets ending in `r` grow.
fn project(database: &[(Vec<u32>, u64)], r: u32) -> Vec<(Vec<u32>, u64)> {
    database
        .iter()
        .filter_map(|(ranks, count)| {
            let at = ranks.binary_search(&r).ok()?;
            (at > 0).then(|| (ranks[..at].to_vec(), *count))
        })
        .collect()
}

/// Pattern growth: every frequent item of the projected database extends
/// `suffix`; each extension recurses on its own projection.
fn grow(
    database: &[(Vec<u32>, u64)],
    suffix: &mut Vec<u32>,
    frequent: &dyn Fn(u64) -> bool,
    max_len: usize,
    out: &mut Vec<(Vec<u32>, u64)>,
) {
    if database.is_empty() || suffix.len() >= max_len {
        return;
    }
    let mut counts: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    for (ranks, count) in database {
        for &r in ranks {
            *counts.entry(r).or_default() += count;
        }
    }
    for (&r, &count) in &counts {
        if !frequent(count) {
            continue;
        }
        suffix.push(r);
        out.push((suffix.clone(), count));
        if suffix.len() < max_len {
            grow(&project(database, r), suffix, frequent, max_len, out);
        }
        suffix.pop();
    }
}

/// Every rule A → S∖A of every frequent itemset S (|S| ≥ 2) passing the
/// confidence and lift minimums. Every subset of a frequent itemset is
/// frequent, so every support needed is among `itemsets`.
fn rules(itemsets: &[Itemset], settings: &BundleSettings) -> Vec<Rule> {
    let support: HashMap<&[u32], (u64, f64)> =
        itemsets.iter().map(|s| (&s.items[..], (s.baskets, s.support))).collect();
    let mut rules: Vec<Rule> = itemsets
        .par_iter()
        .filter(|s| s.items.len() >= 2)
        .flat_map_iter(|s| {
            let size = s.items.len();
            let mut out = Vec::new();
            // Each proper, non-empty subset as a bit mask over the itemset.
            for mask in 1..(1u64 << size) - 1 {
                let (antecedent, consequent): (Vec<u32>, Vec<u32>) = {
                    let mut a = Vec::new();
                    let mut c = Vec::new();
                    for (bit, &item) in s.items.iter().enumerate() {
                        if mask & (1 << bit) != 0 { a.push(item) } else { c.push(item) }
                    }
                    (a, c)
                };
                let (Some(&(count_a, sa)), Some(&(_, sc))) =
                    (support.get(&antecedent[..]), support.get(&consequent[..]))
                else {
                    continue;
                };
                // From the counts: 16 of 20 baskets is a confidence of exactly 0.8.
                let confidence = s.baskets as f64 / count_a as f64;
                let lift = confidence / sc;
                if confidence >= settings.min_confidence && lift >= settings.min_lift {
                    out.push(Rule {
                        antecedent,
                        consequent,
                        antecedent_support: sa,
                        consequent_support: sc,
                        support: s.support,
                        confidence,
                        lift,
                        leverage: s.support - sa * sc,
                        conviction: if confidence < 1.0 { (1.0 - sc) / (1.0 - confidence) } else { f64::INFINITY },
                    });
                }
            }
            out.into_iter()
        })
        .collect();
    rules.sort_by(|a, b| {
        b.lift
            .total_cmp(&a.lift)
            .then(b.confidence.total_cmp(&a.confidence))
            .then_with(|| a.antecedent.cmp(&b.antecedent))
            .then_with(|| a.consequent.cmp(&b.consequent))
    });
    rules
}

impl Bundles {
    /// Rules whose antecedent is within `bought` (sorted) and whose
    /// consequent is not: what to suggest next to a basket, strongest first.
    pub fn for_basket<'a>(&'a self, bought: &'a [u32]) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| {
            r.antecedent.iter().all(|i| bought.binary_search(i).is_ok())
                && r.consequent.iter().any(|i| bought.binary_search(i).is_err())
        })
    }

    /// The strongest bundles to offer: itemsets of two or more items, each
    /// with its best rule, by that rule's lift; at most `n`.
    pub fn top_bundles(&self, n: usize) -> Vec<(&Itemset, &Rule)> {
        let mut seen: std::collections::BTreeSet<Vec<u32>> = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for rule in &self.rules {
            let mut items: Vec<u32> = rule.antecedent.iter().chain(&rule.consequent).copied().collect();
            items.sort_unstable();
            if seen.insert(items.clone())
                && let Ok(at) = self
                    .itemsets
                    .binary_search_by(|s| s.items.len().cmp(&items.len()).then_with(|| s.items.cmp(&items)))
            {
                out.push((&self.itemsets[at], rule));
                if out.len() == n {
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five baskets over items 0 (bread), 1 (milk), 2 (butter), 3 (beer):
    /// {0,1}, {0,1,2}, {0,2}, {1,3}, {0,1,2}.
    fn toy() -> Vec<Vec<u32>> {
        vec![vec![0, 1], vec![0, 1, 2], vec![2, 0], vec![1, 3], vec![0, 1, 2, 2]]
    }

    fn settings(min_support: f64, min_confidence: f64) -> BundleSettings {
        BundleSettings { min_support, min_confidence, min_lift: 0.0, max_len: 4 }
    }

    #[test]
    fn itemsets_and_rules_by_hand() {
        let b = mine(&toy(), &settings(0.4, 0.0)).unwrap();
        // Supports: 0: 4/5, 1: 4/5, 2: 3/5, 3: 1/5 (out); {0,1}: 3/5, {0,2}: 3/5, {1,2}: 2/5, {0,1,2}: 2/5.
        let sets: Vec<(Vec<u32>, u64)> = b.itemsets.iter().map(|s| (s.items.clone(), s.baskets)).collect();
        assert_eq!(
            sets,
            vec![
                (vec![0], 4),
                (vec![1], 4),
                (vec![2], 3),
                (vec![0, 1], 3),
                (vec![0, 2], 3),
                (vec![1, 2], 2),
                (vec![0, 1, 2], 2)
            ]
        );
        // {2} → {0}: support 3/5, confidence (3/5)/(3/5) = 1, lift 1/(4/5) = 1.25,
        // leverage 3/5 − 3/5·4/5 = 0.12, conviction infinite.
        let r = b.rules.iter().find(|r| r.antecedent == [2] && r.consequent == [0]).unwrap();
        assert!((r.support - 0.6).abs() < 1e-12 && (r.confidence - 1.0).abs() < 1e-12);
        assert!((r.lift - 1.25).abs() < 1e-12 && (r.leverage - 0.12).abs() < 1e-12);
        assert!(r.conviction.is_infinite());
        // {0,1} → {2}: (2/5)/(3/5) = 2/3; lift (2/3)/(3/5) = 10/9; conviction (1 − 3/5)/(1 − 2/3) = 1.2.
        let r = b.rules.iter().find(|r| r.antecedent == [0, 1] && r.consequent == [2]).unwrap();
        assert!((r.confidence - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.lift - 10.0 / 9.0).abs() < 1e-12);
        assert!((r.conviction - 1.2).abs() < 1e-12);
        // Every rule of 2 items × 2 directions, and the 6 of the triple: 3·2 + 6 = 12.
        assert_eq!(b.rules.len(), 12);
        // Sorted by lift, descending.
        assert!(b.rules.windows(2).all(|w| w[0].lift >= w[1].lift));
    }

    #[test]
    fn thresholds_filter() {
        let b =
            mine(&toy(), &BundleSettings { min_support: 0.4, min_confidence: 0.9, min_lift: 1.1, max_len: 2 }).unwrap();
        // Pairs only; confidence ≥ 0.9: {2}→{0} (1.0, lift 1.25). {0}→{2} is 0.75.
        assert_eq!(b.rules.len(), 1);
        assert!(b.itemsets.iter().all(|s| s.items.len() <= 2));
        // Support is compared as a share: 2/5 = 0.4 is kept at 0.4.
        assert!(mine(&toy(), &settings(0.4, 0.0)).unwrap().itemsets.iter().any(|s| s.baskets == 2));
    }

    #[test]
    fn the_same_whatever_the_thread_count() {
        let baskets: Vec<Vec<u32>> =
            (0..400u32).map(|b| (0..(2 + b % 5)).map(|j| (b * 7 + j * 3) % 23).collect()).collect();
        let s = settings(0.01, 0.1);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| mine(&baskets, &s));
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap().install(|| mine(&baskets, &s));
        let (one, four) = (one.unwrap(), four.unwrap());
        assert_eq!(one, four);
        assert!(!one.rules.is_empty());
    }

    #[test]
    fn bad_settings_and_empty_baskets_are_errors() {
        assert!(matches!(mine(&toy(), &settings(0.0, 0.5)), Err(BundleError::Support(0.0))));
        assert!(matches!(mine(&toy(), &settings(0.1, 1.5)), Err(BundleError::Confidence(1.5))));
        let too_short = BundleSettings { max_len: 1, ..Default::default() };
        assert!(matches!(mine(&toy(), &too_short), Err(BundleError::Length(1))));
        let too_long = BundleSettings { max_len: MAX_LEN + 1, ..Default::default() };
        assert!(matches!(mine(&toy(), &too_long), Err(BundleError::Length(_))));
        assert!(matches!(mine(&[vec![]], &settings(0.1, 0.1)), Err(BundleError::NoBaskets)));
    }

    #[test]
    fn suggestions_for_a_basket() {
        let b = mine(&toy(), &settings(0.4, 0.5)).unwrap();
        // A basket with butter (2): suggests bread (0), the {2} → {0} rule first.
        let first = b.for_basket(&[2]).next().unwrap();
        assert_eq!((first.antecedent.as_slice(), first.consequent.as_slice()), (&[2][..], &[0][..]));
        // Bundles by their best rule's lift: {1,2} → {0} and {2} → {0} both have 1.25.
        let bundles: Vec<Vec<u32>> = b.top_bundles(10).iter().map(|(s, _)| s.items.clone()).collect();
        assert_eq!(bundles[..2], [vec![0, 1, 2], vec![0, 2]]);
    }
}
