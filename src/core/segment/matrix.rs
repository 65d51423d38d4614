//! The clustering matrix of DATA.md §3: the purchasers' chosen feature columns,
//! transformed and standardised (mean 0, population standard deviation 1).

use ndarray::Array2;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::SegmentError;
use crate::core::table::{f64_values, text_column};

/// How a feature column is transformed before standardising.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Transform {
    None,
    /// log(1 + max(x, 0)): tames long tails; negative values (net returns) count as 0.
    Log1p,
    /// Clips to the [100 − p, p] percentiles (e.g. p = 99 → 1st..99th).
    Winsorise {
        percentile: f64,
    },
}

/// One column of the clustering matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub column: String,
    pub transform: Transform,
}

impl FeatureSpec {
    pub fn new(column: &str, transform: Transform) -> FeatureSpec {
        FeatureSpec { column: column.to_string(), transform }
    }

    /// DATA.md §3: recency_days, log1p(frequency), log1p(max(monetary, 0)).
    pub fn defaults() -> Vec<FeatureSpec> {
        vec![
            FeatureSpec::new("recency_days", Transform::None),
            FeatureSpec::new("frequency", Transform::Log1p),
            FeatureSpec::new("monetary", Transform::Log1p),
        ]
    }
}

/// The standardised matrix of the purchasers and how it was made.
#[derive(Clone, Debug)]
pub struct ClusteringMatrix {
    /// Row `i` of `values` is the customer at `rows[i]` of the feature table.
    pub rows: Vec<usize>,
    pub values: Array2<f64>,
    pub features: Vec<FeatureSpec>,
    /// Mean and population standard deviation of each transformed column.
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
}

fn column_f64(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, SegmentError> {
    let column = df.column(name).map_err(|_| SegmentError::UnknownFeature {
        column: name.to_string(),
        available: df.get_column_names().iter().map(|c| c.to_string()).collect(),
    })?;
    if !column.dtype().is_primitive_numeric() {
        return Err(SegmentError::NotNumeric { column: name.to_string() });
    }
    Ok(f64_values(column)?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

/// Builds the matrix from a feature table (one row per customer, with
/// `customer_id` and `frequency`): purchasers only.
pub fn clustering_matrix(features: &DataFrame, specs: &[FeatureSpec]) -> Result<ClusteringMatrix, SegmentError> {
    if specs.is_empty() {
        return Err(SegmentError::NoFeatures);
    }
    let frequency = column_f64(features, "frequency")?;
    let rows: Vec<usize> = (0..frequency.len()).filter(|&i| frequency[i].is_some_and(|f| f >= 1.0)).collect();
    if rows.is_empty() {
        return Err(SegmentError::NoPurchasers { customers: features.height() });
    }
    let ids = text_column(features, "customer_id")?;
    let mut values = Array2::<f64>::zeros((rows.len(), specs.len()));
    let (mut means, mut stds) = (Vec::new(), Vec::new());
    for (j, spec) in specs.iter().enumerate() {
        let raw = column_f64(features, &spec.column)?;
        let mut col: Vec<f64> = Vec::with_capacity(rows.len());
        for &i in &rows {
            match raw[i] {
                Some(v) if v.is_finite() => col.push(v),
                other => {
                    return Err(SegmentError::NotFinite {
                        column: spec.column.clone(),
                        customer: ids[i].clone(),
                        value: other.map_or("empty".into(), |v| v.to_string()),
                    });
                }
            }
        }
        match spec.transform {
            Transform::None => {}
            Transform::Log1p => col.iter_mut().for_each(|v| *v = v.max(0.0).ln_1p()),
            Transform::Winsorise { percentile: p } => {
                if !(50.0..=100.0).contains(&p) {
                    return Err(SegmentError::BadPercentile { column: spec.column.clone(), percentile: p });
                }
                let mut sorted = col.clone();
                sorted.sort_by(f64::total_cmp);
                let (lo, hi) = (percentile(&sorted, 100.0 - p), percentile(&sorted, p));
                col.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
            }
        }
        let n = col.len() as f64;
        let mean = col.iter().sum::<f64>() / n;
        let std = (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        if std == 0.0 || !std.is_finite() {
            return Err(SegmentError::ZeroVariance { column: spec.column.clone(), value: mean });
        }
        for (r, v) in col.iter().enumerate() {
            values[[r, j]] = (v - mean) / std;
        }
        means.push(mean);
        stds.push(std);
    }
    Ok(ClusteringMatrix { rows, values, features: specs.to_vec(), means, stds })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DataFrame {
        df!(
            "customer_id" => ["a", "b", "c", "d", "e"],
            "frequency" => [1u32, 2, 0, 3, 1],
            "monetary" => [-10.0, 0.0, 5.0, 100.0, 1e6],
        )
        .unwrap()
    }

    #[test]
    fn buyers_only_transformed_then_z_scored() {
        let m = clustering_matrix(&table(), &[FeatureSpec::new("monetary", Transform::Log1p)]).unwrap();
        // c never bought: rows are a, b, d, e.
        assert_eq!(m.rows, vec![0, 1, 3, 4]);
        // log1p(max(x, 0)): a's net return counts as 0.
        let raw = [0.0, 0.0, 101f64.ln(), 1_000_001f64.ln()];
        let mean = raw.iter().sum::<f64>() / 4.0;
        let std = (raw.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        for (r, v) in raw.iter().enumerate() {
            assert!((m.values[[r, 0]] - (v - mean) / std).abs() < 1e-12);
        }
        assert!((m.means[0] - mean).abs() < 1e-12 && (m.stds[0] - std).abs() < 1e-12);
    }

    #[test]
    fn winsorising_clips_to_the_percentiles() {
        let spec = [FeatureSpec::new("monetary", Transform::Winsorise { percentile: 75.0 })];
        let m = clustering_matrix(&table(), &spec).unwrap();
        // Buyers' monetary: −10, 0, 100, 1e6; 25th percentile −2.5, 75th 250,075.
        let clipped = [-2.5, 0.0, 100.0, 250_075.0];
        let mean = clipped.iter().sum::<f64>() / 4.0;
        let std = (clipped.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        for (r, v) in clipped.iter().enumerate() {
            assert!((m.values[[r, 0]] - (v - mean) / std).abs() < 1e-9, "row {r}");
        }
        let bad = [FeatureSpec::new("monetary", Transform::Winsorise { percentile: 20.0 })];
        assert!(matches!(clustering_matrix(&table(), &bad), Err(SegmentError::BadPercentile { .. })));
    }
}
