//! Who the campaign reaches, and at what price, group by group: per segment
//! (and per value of an attribute the user picks, numbers in quartile bands),
//! the share targeted, the expected discount per customer and the expected
//! uplift, flagged where a group's share targeted or discount per targeted
//! customer strays from the population's beyond a ratio (by default the
//! four-fifths rule: below 0.8 or above 1.25 times) — personalisation must
//! not quietly exclude or overcharge a group.

use serde::{Deserialize, Serialize};

use super::super::plan::{Group, Plan};

/// The four-fifths rule of adverse-impact checks, and its inverse.
pub const DEFAULT_RATIO: f64 = 0.8;
/// Groups smaller than this are listed but never flagged: their shares are noise.
pub const MIN_FLAGGED_GROUP: usize = 20;

/// What fairness is checked by: the attribute beside the segments, and the ratio.
#[derive(Clone, Copy, Debug)]
pub struct FairnessCheck<'a> {
    pub by: Option<&'a str>,
    pub ratio: f64,
}

impl Default for FairnessCheck<'_> {
    fn default() -> Self {
        FairnessCheck { by: None, ratio: DEFAULT_RATIO }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupFairness {
    /// "segment" or the attribute's name.
    pub by: String,
    pub group: String,
    pub customers: usize,
    pub share_targeted: f64,
    /// Expected incentives per customer of the group (targeted or not).
    pub discount_per_customer: f64,
    /// Expected incentives per targeted customer.
    pub discount_per_targeted: f64,
    /// Expected uplift in P(buy) per customer of the group.
    pub uplift_per_customer: f64,
    /// Why the group is flagged; empty: not flagged.
    pub flags: Vec<String>,
}

/// Every group's figures: the segments, then the attribute's values.
pub fn fairness(plan: &Plan, attribute: Option<&str>, ratio: f64) -> Vec<GroupFairness> {
    let n = plan.customers.len();
    let mut labellings: Vec<(String, Vec<String>)> = vec![(
        "segment".to_string(),
        (0..n).map(|i| plan.customers.segment[i].clone().unwrap_or_else(|| "no segment".into())).collect(),
    )];
    if let Some(name) = attribute {
        labellings.push((name.to_string(), attribute_labels(plan, name)));
    }
    let overall = figures(plan, &(0..n).collect::<Vec<_>>());
    let mut out = Vec::new();
    for (by, labels) in labellings {
        let mut names: Vec<&String> = labels.iter().collect();
        names.sort();
        names.dedup();
        for name in names {
            let rows: Vec<usize> = (0..n).filter(|&i| &labels[i] == name).collect();
            let f = figures(plan, &rows);
            let mut flags = Vec::new();
            if rows.len() >= MIN_FLAGGED_GROUP {
                let strays = |x: f64, y: f64| y > 0.0 && (x / y < ratio || x / y > 1.0 / ratio);
                if strays(f.0, overall.0) {
                    flags.push(format!("targeted {:.0}% vs {:.0}% overall", f.0 * 100.0, overall.0 * 100.0));
                }
                if f.0 > 0.0 && strays(f.2, overall.2) {
                    flags.push(format!("discount per targeted customer {:.2} vs {:.2} overall", f.2, overall.2));
                }
            }
            out.push(GroupFairness {
                by: by.clone(),
                group: name.clone(),
                customers: rows.len(),
                share_targeted: f.0,
                discount_per_customer: f.1,
                discount_per_targeted: f.2,
                uplift_per_customer: f.3,
                flags,
            });
        }
    }
    out
}

/// (share targeted, discount per customer, discount per targeted, uplift per customer).
fn figures(plan: &Plan, rows: &[usize]) -> (f64, f64, f64, f64) {
    let (mut targeted, mut treated, mut discount, mut uplift) = (0usize, 0usize, 0.0, 0.0);
    for &i in rows {
        let Some(c) = plan.assignment.chosen[i] else { continue };
        targeted += 1;
        if plan.group[i] == Group::Treated {
            treated += 1;
            discount += plan.effects[c].incentive_cost;
            uplift += plan.effects[c].uplift();
        }
    }
    let per = |x: f64, n: usize| if n == 0 { 0.0 } else { x / n as f64 };
    // Discounts go to the treated; the held-out are targeted but paid nothing.
    (per(targeted as f64, rows.len()), per(discount, rows.len()), per(discount, treated), per(uplift, rows.len()))
}

/// A text attribute's values, or a numeric one's quartile band.
fn attribute_labels(plan: &Plan, name: &str) -> Vec<String> {
    let n = plan.customers.len();
    if let Some(texts) = plan.customers.texts.get(name) {
        return texts.iter().map(|t| t.clone().unwrap_or_else(|| "(missing)".into())).collect();
    }
    let Some(numbers) = plan.customers.numbers.get(name) else { return vec!["(no such attribute)".into(); n] };
    let mut known: Vec<f64> = numbers.iter().flatten().copied().filter(|x| x.is_finite()).collect();
    known.sort_by(f64::total_cmp);
    if known.is_empty() {
        return vec!["(missing)".into(); n];
    }
    let q = |p: f64| known[((known.len() - 1) as f64 * p).round() as usize];
    let cuts = [q(0.25), q(0.5), q(0.75)];
    numbers
        .iter()
        .map(|v| match v.filter(|x| x.is_finite()) {
            None => "(missing)".to_string(),
            Some(x) => {
                let band = cuts.iter().filter(|c| x > **c).count();
                let (lo, hi) = (
                    if band == 0 { known[0] } else { cuts[band - 1] },
                    if band == 3 { known[known.len() - 1] } else { cuts[band] },
                );
                format!("Q{} ({} to {})", band + 1, short(lo), short(hi))
            }
        })
        .collect()
}

fn short(x: f64) -> String {
    if x.abs() >= 100.0 || x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.2}") }
}
