//! The segments stage: k-means (or the RFM rules) on the dataset's feature
//! table, profiled, valued and projected for the scatter plot.

use rand::SeedableRng;
use rand::seq::index::sample;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::StageError;
use super::dataset::Dataset;
use crate::core::progress::{Progress, step};
use crate::core::segment::choose_k::{KSuggestion, SILHOUETTE_SAMPLE, choose_k};
use crate::core::segment::profile::{self, SegmentProfile};
use crate::core::segment::{
    RfmSegmentation, Segment, SegmentationSettings, clustering_matrix, rfm_segments, segment_customers_unless,
};

/// How customers are put into segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Method {
    #[default]
    KMeans,
    Rfm,
}

/// At most this many customers are drawn in the scatter, a seeded sample.
pub const SCATTER_POINTS: usize = 4000;

/// One customer in the scatter: PCA coordinates, segment and feature-table row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScatterPoint {
    pub x: f64,
    pub y: f64,
    pub segment: i32,
    pub row: usize,
}

/// The buyers on the first two principal components (a seeded sample).
#[derive(Clone, Debug)]
pub struct Scatter {
    pub explained_variance: [f64; 2],
    pub points: Vec<ScatterPoint>,
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
    /// k-means only.
    pub inertia: Option<f64>,
    pub scatter: Option<Scatter>,
    /// The RFM scores, always (the rule-based view beside k-means).
    pub rfm: RfmSegmentation,
    pub seconds: f64,
}

impl SegmentAnalysis {
    /// (customer id, segment id, segment name) per customer: the export and the
    /// recommender's per-segment view.
    pub fn rows(&self) -> Vec<(String, i32, String)> {
        self.customer_ids
            .iter()
            .zip(&self.assignment)
            .map(|(id, &s)| {
                let name = self.segments.iter().find(|x| x.id == s).map_or("", |x| x.name.as_str());
                (id.clone(), s, name.to_string())
            })
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
    let (customer_ids, assignment, segments, inertia, scatter) = match method {
        Method::Rfm => (rfm.customer_ids.clone(), rfm.assignment.clone(), rfm.segments.clone(), None, None),
        Method::KMeans => {
            step(progress, 0.15, &format!("k-means, k = {}, {} starts", settings.kmeans.k, settings.kmeans.n_init))?;
            let s = segment_customers_unless(table, settings, &|| progress.is_cancelled())?;
            let scatter = scatter_sample(&s, settings.kmeans.seed);
            (s.customer_ids, s.assignment, s.segments, Some(s.inertia), Some(scatter))
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
    let points = picked
        .into_iter()
        .map(|i| {
            let row = s.matrix_rows[i];
            ScatterPoint { x: c[[i, 0]], y: c[[i, 1]], segment: s.assignment[row], row }
        })
        .collect();
    Scatter { explained_variance: s.projection.explained_variance, points, buyers: n }
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
        let d = load_dataset(&crate::cli::sample_events_path(), &[], &Silent).unwrap();
        let settings = SegmentationSettings::default();
        let a = analyse_segments(&d, Method::KMeans, &settings, &Silent).unwrap();
        assert_eq!(a.segments.iter().filter(|s| s.id >= 0).count(), 5);
        let scatter = a.scatter.as_ref().unwrap();
        assert_eq!(scatter.points.len(), SCATTER_POINTS.min(scatter.buyers));
        assert!(scatter.points.iter().all(|p| a.assignment[p.row] == p.segment && p.segment >= 0));
        assert!(a.profiles.iter().any(|p| p.mean_clv.is_some()));
        let rfm = analyse_segments(&d, Method::Rfm, &settings, &Silent).unwrap();
        assert!(rfm.scatter.is_none() && rfm.segments.len() > 3);
        let rows = a.rows();
        assert_eq!(rows.len(), d.features.customers());
    }
}
