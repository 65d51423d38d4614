//! Segment profiles: who is in a segment and what it is worth, in numbers a
//! marketer can check against the feature table.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;

use super::Segmentation;

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
}

/// Profiles of every segment of `segmentation`, computed on its feature table.
pub fn profiles(
    features: &DataFrame,
    segmentation: &Segmentation,
) -> PolarsResult<Vec<SegmentProfile>> {
    let n = features.height();
    let monetary = features.column("monetary")?.cast(&DataType::Float64)?;
    let monetary = monetary.f64()?;
    let total_revenue: f64 = (0..n).filter_map(|i| monetary.get(i)).sum();
    let numeric: Vec<(String, Vec<Option<f64>>)> = features
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| {
            let f = c.cast(&DataType::Float64)?;
            let f = f.f64()?;
            Ok((c.name().to_string(), (0..n).map(|i| f.get(i)).collect()))
        })
        .collect::<PolarsResult<_>>()?;
    let top = features
        .column("top_category")
        .ok()
        .and_then(|c| c.str().ok().cloned());
    let mut out = Vec::new();
    for seg in &segmentation.segments {
        let members: Vec<usize> = (0..n)
            .filter(|&i| segmentation.assignment[i] == seg.id)
            .collect();
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
            median.insert(
                name.clone(),
                if v.len() % 2 == 1 {
                    v[mid]
                } else {
                    (v[mid - 1] + v[mid]) / 2.0
                },
            );
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
        let revenue: f64 = members.iter().filter_map(|&i| monetary.get(i)).sum();
        out.push(SegmentProfile {
            id: seg.id,
            name: seg.name.clone(),
            description: seg.description.clone(),
            customers: members.len(),
            share_of_customers: members.len() as f64 / n.max(1) as f64,
            share_of_revenue: if total_revenue != 0.0 {
                revenue / total_revenue
            } else {
                0.0
            },
            mean,
            median,
            top_categories,
        });
    }
    Ok(out)
}
