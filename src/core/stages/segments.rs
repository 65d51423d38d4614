//! The segments stage: k-means (or the RFM rules) on the dataset's feature
//! table, profiled, valued and projected for the scatter plot.

use rand::SeedableRng;
use rand::seq::index::sample;
use rand_xoshiro::Xoshiro256PlusPlus;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::StageError;
use super::dataset::{Dataset, LoadData};
use crate::core::pipeline::{Choices, Stage};
use crate::core::progress::{Progress, step};
use crate::core::segment::choose_k::{KSuggestion, SILHOUETTE_SAMPLE, choose_k};
use crate::core::segment::profile::{self, SegmentProfile};
use crate::core::segment::{
    FeatureSpec, KMeansParams, RfmSegmentation, Segment, SegmentationSettings, clustering_matrix, mixture_segments,
    rfm_segments, segment_customers_unless,
};

/// How customers are put into segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    #[default]
    KMeans,
    /// A Gaussian mixture: k-means' soft cousin, with a membership probability per buyer.
    Mixture,
    Rfm,
}

/// What the analyst chooses on the Segments screen (saved between runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentChoices {
    pub method: Method,
    pub features: Vec<FeatureSpec>,
    pub k: usize,
    pub n_init: usize,
    pub seed: u64,
    /// The k range scanned for the elbow and silhouette chart.
    pub k_min: usize,
    pub k_max: usize,
}

impl Default for SegmentChoices {
    fn default() -> Self {
        let d = KMeansParams::default();
        SegmentChoices {
            method: Method::KMeans,
            features: FeatureSpec::defaults(),
            k: d.k,
            n_init: d.n_init,
            seed: d.seed,
            k_min: 2,
            k_max: 10,
        }
    }
}

impl SegmentChoices {
    pub fn settings(&self) -> SegmentationSettings {
        SegmentationSettings {
            features: self.features.clone(),
            kmeans: KMeansParams { k: self.k, n_init: self.n_init, seed: self.seed, ..Default::default() },
        }
    }

    /// The k range to scan, at least 2.
    pub fn ks(&self) -> Vec<usize> {
        let lo = self.k_min.max(2);
        (lo..=self.k_max.max(lo)).collect()
    }
}

/// The segmentation in use: runs after every load, and when asked.
pub struct Segments;

impl Stage for Segments {
    const NAME: &'static str = "segments";
    type Needs = (LoadData,);
    type Choices = SegmentChoices;
    type Params = (Method, SegmentationSettings);
    type Output = SegmentAnalysis;

    fn params(choices: &Choices) -> Option<Self::Params> {
        let c = choices.of::<Segments>();
        // The RFM rules read no k-means settings: changing those leaves them current.
        let settings = match c.method {
            Method::KMeans | Method::Mixture => c.settings(),
            Method::Rfm => SegmentationSettings::default(),
        };
        Some((c.method, settings))
    }

    fn label((method, settings): &Self::Params) -> String {
        match method {
            Method::KMeans => format!("Segmenting (k = {})", settings.kmeans.k),
            Method::Mixture => format!("Fitting a Gaussian mixture (k = {})", settings.kmeans.k),
            Method::Rfm => "Scoring RFM".to_string(),
        }
    }

    fn run(
        (dataset,): (Arc<Dataset>,),
        (method, settings): &Self::Params,
        progress: &dyn Progress,
    ) -> Result<SegmentAnalysis, StageError> {
        analyse_segments(&dataset, *method, settings, progress)
    }
}

/// Inertia and silhouette over a range of k, to choose k: only when asked.
pub struct KScan;

impl Stage for KScan {
    const NAME: &'static str = "k scan";
    const FOLLOWS_INPUTS: bool = false;
    type Needs = (LoadData,);
    type Choices = ();
    type Params = (SegmentationSettings, Vec<usize>);
    type Output = KSuggestion;

    fn params(choices: &Choices) -> Option<Self::Params> {
        let c = choices.of::<Segments>();
        Some((c.settings(), c.ks()))
    }

    fn label((_, ks): &Self::Params) -> String {
        format!("Scanning k = {}..{}", ks.first().unwrap_or(&2), ks.last().unwrap_or(&2))
    }

    fn run(
        (dataset,): (Arc<Dataset>,),
        (settings, ks): &Self::Params,
        progress: &dyn Progress,
    ) -> Result<KSuggestion, StageError> {
        scan_k(&dataset, settings, ks, progress)
    }
}

/// A buyer this sure of its segment is a clear member (the mixture's summary).
pub const SURE_MEMBER: f64 = 0.8;

/// At most this many customers are drawn in the scatter, a seeded sample.
pub const SCATTER_POINTS: usize = 4000;

/// One segment's sampled buyers in the scatter (a plot series, a legend entry).
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterSeries {
    pub segment: i32,
    /// PCA coordinates.
    pub points: Vec<[f64; 2]>,
    /// The feature-table row of each point, for hover.
    pub rows: Vec<usize>,
}

/// The buyers on the first two principal components (a seeded sample),
/// grouped by segment once, so that drawing only borrows.
#[derive(Clone, Debug)]
pub struct Scatter {
    pub explained_variance: [f64; 2],
    /// Segments 0..k in order (empty series included).
    pub series: Vec<ScatterSeries>,
    /// Points drawn, over all series.
    pub sampled: usize,
    /// Buyers in all (the sample is drawn from them).
    pub buyers: usize,
}

/// A segmentation with everything the Segments screen shows.
#[derive(Clone, Debug)]
pub struct SegmentAnalysis {
    pub method: Method,
    pub settings: SegmentationSettings,
    pub customer_ids: Vec<String>,
    pub assignment: Vec<i32>,
    pub segments: Vec<Segment>,
    pub profiles: Vec<SegmentProfile>,
    /// k-means and the mixture (the mixture's labelling scored the same way).
    pub inertia: Option<f64>,
    /// Gaussian mixture only: each customer's probability of its segment
    /// (None for those without a purchase), in `customer_ids` order.
    pub membership: Option<Vec<Option<f64>>>,
    /// Gaussian mixture only: the share of buyers at least [`SURE_MEMBER`] sure of their segment.
    pub sure_share: Option<f64>,
    pub scatter: Option<Scatter>,
    /// The RFM scores, always (the rule-based view beside k-means).
    pub rfm: RfmSegmentation,
    /// Buyers per (R, FM) score pair, from `rfm` ([`RfmSegmentation::grid`]).
    pub rfm_grid: [[usize; 5]; 5],
    pub seconds: f64,
}

impl SegmentAnalysis {
    /// (customer id, segment id, segment name) per customer: the export and the
    /// recommender's per-segment view.
    pub fn rows(&self) -> Vec<crate::core::recommend::SegmentRow> {
        self.customer_ids
            .iter()
            .zip(&self.assignment)
            .map(|(id, &s)| (id.clone(), s, self.name_of(s).to_string()))
            .collect()
    }

    pub fn name_of(&self, segment: i32) -> &str {
        self.segments.iter().find(|s| s.id == segment).map_or("", |s| s.name.as_str())
    }
}

/// Segments the dataset's customers.
pub fn analyse_segments(
    dataset: &Dataset,
    method: Method,
    settings: &SegmentationSettings,
    progress: &dyn Progress,
) -> Result<SegmentAnalysis, StageError> {
    let started = std::time::Instant::now();
    let table = &dataset.features.df;
    step(progress, 0.05, "scoring RFM")?;
    let rfm = rfm_segments(table)?;
    let (customer_ids, assignment, segments, inertia, scatter, membership) = match method {
        Method::Rfm => (rfm.customer_ids.clone(), rfm.assignment.clone(), rfm.segments.clone(), None, None, None),
        Method::KMeans | Method::Mixture => {
            let s = if method == Method::KMeans {
                let starts = settings.kmeans.n_init;
                step(progress, 0.15, &format!("k-means, k = {}, {starts} starts", settings.kmeans.k))?;
                segment_customers_unless(table, settings, &|| progress.is_cancelled())?
            } else {
                step(progress, 0.15, &format!("Gaussian mixture, k = {}", settings.kmeans.k))?;
                mixture_segments(table, settings, &|| progress.is_cancelled())?
            };
            let scatter = scatter_sample(&s, settings.kmeans.seed);
            let membership = s.membership_by_customer();
            (s.customer_ids, s.assignment, s.segments, Some(s.inertia), Some(scatter), membership)
        }
    };
    step(progress, 0.8, "profiling segments")?;
    let mut profiles = profile::profiles(table, &assignment, &segments).map_err(StageError::table("profiling"))?;
    if let Ok(value) = &dataset.value {
        profile::add_value(&mut profiles, &customer_ids, &assignment, value);
    }
    step(progress, 1.0, "done")?;
    Ok(SegmentAnalysis {
        method,
        settings: settings.clone(),
        customer_ids,
        assignment,
        segments,
        profiles,
        inertia,
        scatter,
        sure_share: membership.as_ref().map(|m| {
            let buyers: Vec<f64> = m.iter().flatten().copied().collect();
            buyers.iter().filter(|&&p| p >= SURE_MEMBER).count() as f64 / buyers.len().max(1) as f64
        }),
        membership,
        rfm_grid: rfm.grid(),
        rfm,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A seeded sample of the projected buyers, in feature-table order.
fn scatter_sample(s: &crate::core::segment::Segmentation, seed: u64) -> Scatter {
    let n = s.matrix_rows.len();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut picked = sample(&mut rng, n, SCATTER_POINTS.min(n)).into_vec();
    picked.sort_unstable();
    let c = &s.projection.coordinates;
    let k = s.segments.iter().filter(|x| x.id >= 0).count();
    let mut series: Vec<ScatterSeries> =
        (0..k as i32).map(|segment| ScatterSeries { segment, points: vec![], rows: vec![] }).collect();
    for &i in &picked {
        let row = s.matrix_rows[i];
        let one = &mut series[s.assignment[row] as usize];
        one.points.push([c[[i, 0]], c[[i, 1]]]);
        one.rows.push(row);
    }
    Scatter { explained_variance: s.projection.explained_variance, series, sampled: picked.len(), buyers: n }
}

/// Inertia and silhouette for each k in `ks`, and the suggested k.
pub fn scan_k(
    dataset: &Dataset,
    settings: &SegmentationSettings,
    ks: &[usize],
    progress: &dyn Progress,
) -> Result<KSuggestion, StageError> {
    step(progress, 0.05, "building the clustering matrix")?;
    let matrix = clustering_matrix(&dataset.features.df, &settings.features)?;
    step(progress, 0.2, &format!("k-means and silhouettes for k = {}..{}", ks[0], ks[ks.len() - 1]))?;
    let suggestion = choose_k(matrix.values.view(), ks, &settings.kmeans, SILHOUETTE_SAMPLE)?;
    step(progress, 1.0, "done")?;
    Ok(suggestion)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::Silent;
    use crate::core::stages::dataset::load_dataset;

    #[test]
    fn sample_segments_are_profiled_and_projected() {
        let d = load_dataset(&crate::core::sample::bundled::events_path(), &[], None, &Silent).unwrap();
        let settings = SegmentationSettings::default();
        let a = analyse_segments(&d, Method::KMeans, &settings, &Silent).unwrap();
        assert_eq!(a.segments.iter().filter(|s| s.id >= 0).count(), 5);
        let scatter = a.scatter.as_ref().unwrap();
        assert_eq!(scatter.sampled, SCATTER_POINTS.min(scatter.buyers));
        assert_eq!(scatter.series.iter().map(|s| s.points.len()).sum::<usize>(), scatter.sampled);
        assert_eq!(scatter.series.len(), 5);
        for s in &scatter.series {
            assert_eq!(s.points.len(), s.rows.len());
            assert!(s.rows.iter().all(|&row| a.assignment[row] == s.segment));
        }
        assert!(a.profiles.iter().any(|p| p.mean_clv.is_some()));
        assert!(a.membership.is_none(), "k-means is hard");
        let soft = analyse_segments(&d, Method::Mixture, &settings, &Silent).unwrap();
        assert_eq!(soft.segments.iter().filter(|s| s.id >= 0).count(), 5);
        let membership = soft.membership.as_ref().unwrap();
        for (m, &segment) in membership.iter().zip(&soft.assignment) {
            assert_eq!(m.is_some(), segment >= 0, "buyers, and only buyers, have a membership");
            assert!(m.is_none_or(|p| (0.2..=1.0).contains(&p)), "{m:?}");
        }
        let rfm = analyse_segments(&d, Method::Rfm, &settings, &Silent).unwrap();
        assert!(rfm.scatter.is_none() && rfm.segments.len() > 3);
        let rows = a.rows();
        assert_eq!(rows.len(), d.features.customers());
        // The RFM grid and group sizes count every buyer once, where the scores put them.
        let scores = &a.rfm.scores;
        assert_eq!(a.rfm_grid.iter().flatten().sum::<usize>(), scores.len());
        let top = scores.iter().filter(|s| s.r == 5 && crate::core::segment::rfm::fm_score(s.f, s.m) == 5).count();
        assert_eq!(a.rfm_grid[4][4], top);
        for g in 0..crate::core::segment::rfm::RFM_GROUPS.len() {
            assert_eq!(a.rfm.group_size(g), scores.iter().filter(|s| s.group == g).count());
        }
    }
}
