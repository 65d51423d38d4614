//! Segment profiles: who is in a segment and what it is worth, in numbers a
//! marketer can check against the feature table.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;

use super::Segment;
use crate::core::table::{f64_column, f64_values};
use crate::core::value::CustomerValue;

/// The portrait of one segment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentProfile {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub customers: usize,
    pub share_of_customers: f64,
    /// Share of all customers' monetary value.
    pub share_of_revenue: f64,
    /// Mean and median of every numeric feature.
    pub mean: BTreeMap<String, f64>,
    pub median: BTreeMap<String, f64>,
    /// The most common top categories among members, with member counts (up to 3).
    pub top_categories: Vec<(String, usize)>,
    /// Mean P(alive) and CLV of the members the value model scored (buyers).
    pub mean_p_alive: Option<f64>,
    pub mean_clv: Option<f64>,
    /// Sum of the members' CLV over the value model's horizon.
    pub total_clv: Option<f64>,
}

/// Adds P(alive) and CLV from a fitted value model to the profiles.
pub fn add_value(profiles: &mut [SegmentProfile], customer_ids: &[String], assignment: &[i32], value: &CustomerValue) {
    let segment_of: std::collections::HashMap<&str, i32> =
        customer_ids.iter().map(String::as_str).zip(assignment.iter().copied()).collect();
    for p in profiles.iter_mut() {
        let members: Vec<usize> = (0..value.history.len())
            .filter(|&i| segment_of.get(value.history.customer_ids[i].as_str()) == Some(&p.id))
            .collect();
        if members.is_empty() {
            continue;
        }
        let n = members.len() as f64;
        p.mean_p_alive = Some(members.iter().map(|&i| value.p_alive[i]).sum::<f64>() / n);
        let clv: Vec<f64> = members.iter().filter_map(|&i| value.clv[i]).collect();
        if !clv.is_empty() {
            p.total_clv = Some(clv.iter().sum());
            p.mean_clv = Some(clv.iter().sum::<f64>() / clv.len() as f64);
        }
    }
}

/// Profiles of every segment, computed on the feature table the assignment
/// (one segment id per row) was made from.
pub fn profiles(features: &DataFrame, assignment: &[i32], segments: &[Segment]) -> PolarsResult<Vec<SegmentProfile>> {
    let n = features.height();
    let monetary = f64_column(features, "monetary")?;
    let total_revenue: f64 = monetary.iter().flatten().sum();
    let numeric: Vec<(String, Vec<Option<f64>>)> = features
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| Ok((c.name().to_string(), f64_values(c)?)))
        .collect::<PolarsResult<_>>()?;
    let top = features.column("top_category").ok().and_then(|c| c.str().ok().cloned());
    let mut out = Vec::new();
    for seg in segments {
        let members: Vec<usize> = (0..n).filter(|&i| assignment[i] == seg.id).collect();
        let mut mean = BTreeMap::new();
        let mut median = BTreeMap::new();
        for (name, values) in &numeric {
            let mut v: Vec<f64> = members.iter().filter_map(|&i| values[i]).collect();
            if v.is_empty() {
                continue;
            }
            mean.insert(name.clone(), v.iter().sum::<f64>() / v.len() as f64);
            v.sort_by(f64::total_cmp);
            let mid = v.len() / 2;
            median.insert(name.clone(), if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 });
        }
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        if let Some(top) = &top {
            for &i in &members {
                if let Some(c) = top.get(i) {
                    *counts.entry(c.to_string()).or_default() += 1;
                }
            }
        }
        let mut top_categories: Vec<(String, usize)> = counts.into_iter().collect();
        top_categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top_categories.truncate(3);
        let revenue: f64 = members.iter().filter_map(|&i| monetary[i]).sum();
        out.push(SegmentProfile {
            id: seg.id,
            name: seg.name.clone(),
            description: seg.description.clone(),
            customers: members.len(),
            share_of_customers: members.len() as f64 / n.max(1) as f64,
            share_of_revenue: if total_revenue != 0.0 { revenue / total_revenue } else { 0.0 },
            mean,
            median,
            top_categories,
            mean_p_alive: None,
            mean_clv: None,
            total_clv: None,
        });
    }
    Ok(out)
}
