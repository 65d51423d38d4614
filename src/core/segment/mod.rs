//! Customer segments (DATA.md §3): k-means on the purchasers' standardised
//! features, segments numbered by size, named and described; customers who
//! never bought form segment −1.

pub mod choose_k;
pub mod kmeans;
pub mod matrix;
pub mod mixture;
pub mod naming;
pub mod profile;
pub mod projection;
pub mod rfm;

use polars::prelude::*;
use thiserror::Error;

use crate::core::table::{f64_column, text_column};

pub use kmeans::{KMeansError, KMeansFit, KMeansParams};
pub use matrix::{ClusteringMatrix, FeatureSpec, Transform, clustering_matrix};
pub use naming::NO_PURCHASE_YET;
use naming::{Position, SegmentAverages};

/// The segment id of customers without a purchase order.
pub const NO_PURCHASE_SEGMENT: i32 = -1;

#[derive(Debug, Error)]
pub enum SegmentError {
    #[error("no clustering features chosen")]
    NoFeatures,
    #[error("feature column '{column}' not found; the feature table has: {}", available.join(", "))]
    UnknownFeature { column: String, available: Vec<String> },
    #[error("feature column '{column}' is not numeric")]
    NotNumeric { column: String },
    #[error("feature column '{column}' has no usable value for customer {customer} ({value})")]
    NotFinite { column: String, customer: String, value: String },
    #[error(
        "feature column '{column}' has the same value ({value}) for every buyer, so it cannot separate segments; leave it out"
    )]
    ZeroVariance { column: String, value: f64 },
    #[error("winsorising '{column}' needs a percentile between 50 and 100, got {percentile}")]
    BadPercentile { column: String, percentile: f64 },
    #[error("none of the {customers} customers has a purchase order, so there is nothing to segment")]
    NoPurchasers { customers: usize },
    #[error("{0}")]
    KMeans(#[from] KMeansError),
    #[error("{0}")]
    Mixture(#[from] mixture::MixtureError),
    #[error("reading the feature table failed: {0}")]
    Table(#[from] PolarsError),
}

/// What a segmentation is made from.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentationSettings {
    pub features: Vec<FeatureSpec>,
    pub kmeans: KMeansParams,
}

impl Default for SegmentationSettings {
    fn default() -> Self {
        SegmentationSettings { features: FeatureSpec::defaults(), kmeans: KMeansParams::default() }
    }
}

/// One segment: its id (0 = largest), name, description and size.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Segment {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub customers: usize,
}

/// Customers assigned to segments.
#[derive(Clone, Debug)]
pub struct Segmentation {
    /// In the feature table's order.
    pub customer_ids: Vec<String>,
    /// Segment id per customer, −1 for customers without a purchase.
    pub assignment: Vec<i32>,
    /// Segments 0..k, then −1 if any customer never bought.
    pub segments: Vec<Segment>,
    pub inertia: f64,
    pub iterations: usize,
    /// Wall time of the k-means fit alone.
    pub kmeans_seconds: f64,
    /// The buyers on the first two principal components of the clustering
    /// matrix, row `i` for the customer `matrix_rows[i]` of the feature table.
    pub projection: projection::Projection,
    pub matrix_rows: Vec<usize>,
    /// Gaussian mixture only: each buyer's probability of its segment, row
    /// `i` for the customer `matrix_rows[i]`.
    pub membership: Option<Vec<f64>>,
    pub settings: SegmentationSettings,
}

impl Segmentation {
    /// The mixture's membership per customer of the feature table (None for
    /// those without a purchase); None for k-means.
    pub fn membership_by_customer(&self) -> Option<Vec<Option<f64>>> {
        let membership = self.membership.as_ref()?;
        let mut by_customer = vec![None; self.customer_ids.len()];
        for (&row, &p) in self.matrix_rows.iter().zip(membership) {
            by_customer[row] = Some(p);
        }
        Some(by_customer)
    }
}

/// `customer_id, segment, segment_name`, one row per customer (DATA.md §3).
/// With a mixture's `membership` (per customer, None without a purchase),
/// also `membership`: the probability of the customer's segment.
pub fn segments_frame(
    customer_ids: &[String],
    assignment: &[i32],
    segments: &[Segment],
    membership: Option<&[Option<f64>]>,
) -> PolarsResult<DataFrame> {
    let name_of = |id: i32| segments.iter().find(|s| s.id == id).map_or("", |s| s.name.as_str());
    let names: Vec<&str> = assignment.iter().map(|&s| name_of(s)).collect();
    let mut columns = vec![
        StringChunked::from_iter_values("customer_id".into(), customer_ids.iter().map(String::as_str)).into_column(),
        Int32Chunked::from_slice("segment".into(), assignment).into_column(),
        StringChunked::from_slice("segment_name".into(), &names).into_column(),
    ];
    if let Some(membership) = membership {
        columns.push(Float64Chunked::from_iter_options("membership".into(), membership.iter().copied()).into_column());
    }
    DataFrame::new(customer_ids.len(), columns)
}

/// Customers in the classic RFM groups (the rule-based alternative).
#[derive(Clone, Debug)]
pub struct RfmSegmentation {
    pub customer_ids: Vec<String>,
    /// Index into [`rfm::RFM_GROUPS`] per customer, −1 without a purchase.
    pub assignment: Vec<i32>,
    /// The groups that have members, then −1 if any customer never bought.
    pub segments: Vec<Segment>,
    /// Scores of the buyers, row `i` for customer `buyer_rows[i]`.
    pub scores: Vec<rfm::RfmScore>,
    pub buyer_rows: Vec<usize>,
}

impl RfmSegmentation {
    /// Buyers per (R score, FM score), both 1–5, at `[r - 1][fm - 1]`.
    pub fn grid(&self) -> [[usize; 5]; 5] {
        let mut counts = [[0usize; 5]; 5];
        for s in &self.scores {
            counts[s.r as usize - 1][rfm::fm_score(s.f, s.m) as usize - 1] += 1;
        }
        counts
    }

    /// Buyers in RFM group `group`.
    pub fn group_size(&self, group: usize) -> usize {
        self.segments.iter().find(|s| s.id == group as i32).map_or(0, |s| s.customers)
    }
}

/// The rule behind each RFM group, in words (R and FM scores 1–5).
pub const RFM_RULES: [&str; 11] = [
    "R 4–5 and FM 4–5: bought recently, often and much.",
    "R 3 with FM 3–5, or R 4–5 with FM 3: steady buyers.",
    "R 4–5 and FM 2: recent, could become loyal.",
    "R 5 and FM 1: just made their first purchases.",
    "R 4 and FM 1: recent but small so far.",
    "R 3 and FM 2: average on everything; a nudge helps.",
    "R 3 and FM 1: slipping away, never bought much.",
    "R 1–2 and FM 5: used to be the best; win them back.",
    "R 1–2 and FM 3–4: valuable but not seen for a while.",
    "R 2 and FM 1–2: long gone quiet, bought little.",
    "R 1 and FM 1–2: gone.",
];

/// Scores every buyer of the feature table and puts them in RFM groups.
pub fn rfm_segments(features: &DataFrame) -> Result<RfmSegmentation, SegmentError> {
    let (recency, frequency, monetary) =
        (f64_column(features, "recency_days")?, f64_column(features, "frequency")?, f64_column(features, "monetary")?);
    let buyer_rows: Vec<usize> = (0..features.height()).filter(|&i| frequency[i].is_some_and(|f| f >= 1.0)).collect();
    if buyer_rows.is_empty() {
        return Err(SegmentError::NoPurchasers { customers: features.height() });
    }
    let pick = |v: &[Option<f64>]| -> Vec<f64> { buyer_rows.iter().map(|&i| v[i].unwrap_or(0.0)).collect() };
    let scores = rfm::rfm_scores(&pick(&recency), &pick(&frequency), &pick(&monetary));
    let mut assignment = vec![NO_PURCHASE_SEGMENT; features.height()];
    let mut sizes = [0usize; rfm::RFM_GROUPS.len()];
    for (s, &i) in scores.iter().zip(&buyer_rows) {
        assignment[i] = s.group as i32;
        sizes[s.group] += 1;
    }
    let mut segments: Vec<Segment> = (0..rfm::RFM_GROUPS.len())
        .filter(|&g| sizes[g] > 0)
        .map(|g| Segment {
            id: g as i32,
            name: rfm::RFM_GROUPS[g].to_string(),
            description: RFM_RULES[g].to_string(),
            customers: sizes[g],
        })
        .collect();
    let never_bought = features.height() - buyer_rows.len();
    if never_bought > 0 {
        segments.push(no_purchase_segment(never_bought));
    }
    Ok(RfmSegmentation {
        customer_ids: text_column(features, "customer_id")?,
        assignment,
        segments,
        scores,
        buyer_rows,
    })
}

fn no_purchase_segment(customers: usize) -> Segment {
    Segment {
        id: NO_PURCHASE_SEGMENT,
        name: NO_PURCHASE_YET.to_string(),
        description: "Seen in the data (views, carts or returns) but no purchase order yet.".to_string(),
        customers,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Segments the customers of a feature table.
pub fn segment_customers(features: &DataFrame, settings: &SegmentationSettings) -> Result<Segmentation, SegmentError> {
    segment_customers_unless(features, settings, &|| false)
}

/// [`segment_customers`], stopping between k-means initialisations when `cancelled`.
pub fn segment_customers_unless(
    features: &DataFrame,
    settings: &SegmentationSettings,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Segmentation, SegmentError> {
    let matrix = clustering_matrix(features, &settings.features)?;
    let started = std::time::Instant::now();
    let fit = settings.kmeans.fit_unless(matrix.values.view(), cancelled)?;
    let fitted = Fitted {
        labels: fit.labels,
        inertia: fit.inertia,
        iterations: fit.iterations,
        seconds: started.elapsed().as_secs_f64(),
        membership: None,
    };
    named_segments(features, settings, &matrix, fitted)
}

/// Segments from a Gaussian mixture on the same matrix: each buyer in its
/// most probable component, with that probability as its membership.
///
/// linfa's EM cannot be stopped midway: `cancelled` is asked before the fit
/// and after it, so a cancelled job ends as soon as the fit returns.
pub fn mixture_segments(
    features: &DataFrame,
    settings: &SegmentationSettings,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Segmentation, SegmentError> {
    let matrix = clustering_matrix(features, &settings.features)?;
    settings.kmeans.check(matrix.values.view())?;
    let started = std::time::Instant::now();
    let stop = || if cancelled() { Err(KMeansError::Cancelled) } else { Ok(()) };
    stop()?;
    let fit = mixture::fit_mixture(matrix.values.view(), &settings.kmeans)?;
    stop()?;
    let inertia = within_sum_of_squares(matrix.values.view(), &fit.labels, settings.kmeans.k);
    let fitted = Fitted {
        labels: fit.labels,
        inertia,
        iterations: 0,
        seconds: started.elapsed().as_secs_f64(),
        membership: Some(fit.membership),
    };
    named_segments(features, settings, &matrix, fitted)
}

/// Squared distances of rows to their group's mean, summed: k-means' inertia
/// for any labelling, so that methods compare on one scale.
fn within_sum_of_squares(m: ndarray::ArrayView2<f64>, labels: &[usize], k: usize) -> f64 {
    let mut sums = ndarray::Array2::<f64>::zeros((k, m.ncols()));
    let mut counts = vec![0usize; k];
    for (row, &l) in m.rows().into_iter().zip(labels) {
        sums.row_mut(l).scaled_add(1.0, &row);
        counts[l] += 1;
    }
    m.rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &l)| {
            let n = counts[l].max(1) as f64;
            row.iter().zip(sums.row(l)).map(|(x, s)| (x - s / n).powi(2)).sum::<f64>()
        })
        .sum()
}

/// Labels 0..k of the matrix rows from some clustering, before numbering and naming.
struct Fitted {
    labels: Vec<usize>,
    inertia: f64,
    iterations: usize,
    seconds: f64,
    membership: Option<Vec<f64>>,
}

/// Numbers the groups of `fitted` by size and names them from their buyers.
fn named_segments(
    features: &DataFrame,
    settings: &SegmentationSettings,
    matrix: &ClusteringMatrix,
    fit: Fitted,
) -> Result<Segmentation, SegmentError> {
    let kmeans_seconds = fit.seconds;
    let k = settings.kmeans.k;

    // Segments numbered by size, largest first (ties: lower k-means label).
    let mut sizes = vec![0usize; k];
    for &l in &fit.labels {
        sizes[l] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut relabel = vec![0i32; k];
    for (new, &old) in order.iter().enumerate() {
        relabel[old] = new as i32;
    }
    let mut assignment = vec![NO_PURCHASE_SEGMENT; features.height()];
    for (r, &i) in matrix.rows.iter().enumerate() {
        assignment[i] = relabel[fit.labels[r]];
    }

    // Names and descriptions from each segment's average recency, frequency and spend.
    let column = |name: &str| -> Result<Vec<f64>, SegmentError> {
        Ok(f64_column(features, name)?.into_iter().map(|v| v.unwrap_or(0.0)).collect())
    };
    let (recency, frequency, monetary) = (column("recency_days")?, column("frequency")?, column("monetary")?);
    let averages_of = |rows: &mut dyn Iterator<Item = usize>| {
        let rows: Vec<usize> = rows.collect();
        SegmentAverages {
            recency_days: mean(rows.iter().map(|&i| recency[i])),
            frequency: mean(rows.iter().map(|&i| frequency[i])),
            monetary: mean(rows.iter().map(|&i| monetary[i])),
        }
    };
    let buyers = averages_of(&mut matrix.rows.iter().copied());
    // Spread of all buyers in the coordinates the archetypes use.
    let spread = |f: &dyn Fn(usize) -> f64| {
        let values: Vec<f64> = matrix.rows.iter().map(|&i| f(i)).collect();
        let m = mean(values.iter().copied());
        let sd = mean(values.iter().map(|v| (v - m) * (v - m))).sqrt();
        (m, if sd > 0.0 { sd } else { 1.0 })
    };
    let log_f = |i: usize| frequency[i].max(0.0).ln_1p();
    let log_m = |i: usize| monetary[i].max(0.0).ln_1p();
    let (r_mean, r_sd) = spread(&|i| recency[i]);
    let (f_mean, f_sd) = spread(&log_f);
    let (m_mean, m_sd) = spread(&log_m);
    let mut positions = Vec::with_capacity(k);
    let mut averages = Vec::with_capacity(k);
    for id in 0..k as i32 {
        let members: Vec<usize> = (0..assignment.len()).filter(|&i| assignment[i] == id).collect();
        positions.push(Position {
            recency: (mean(members.iter().map(|&i| recency[i])) - r_mean) / r_sd,
            frequency: (mean(members.iter().map(|&i| log_f(i))) - f_mean) / f_sd,
            monetary: (mean(members.iter().map(|&i| log_m(i))) - m_mean) / m_sd,
        });
        averages.push(averages_of(&mut members.iter().copied()));
    }
    let names = naming::name_segments(&positions);
    let mut segments: Vec<Segment> = (0..k)
        .map(|s| Segment {
            id: s as i32,
            name: names[s].clone(),
            description: naming::describe(&averages[s], &buyers),
            customers: sizes[order[s]],
        })
        .collect();
    let never_bought = features.height() - matrix.rows.len();
    if never_bought > 0 {
        segments.push(no_purchase_segment(never_bought));
    }
    Ok(Segmentation {
        customer_ids: text_column(features, "customer_id")?,
        assignment,
        segments,
        inertia: fit.inertia,
        iterations: fit.iterations,
        kmeans_seconds,
        projection: projection::principal_components(matrix.values.view()),
        matrix_rows: matrix.rows.clone(),
        membership: fit.membership,
        settings: settings.clone(),
    })
}
