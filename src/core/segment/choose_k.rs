//! Choosing k: inertia (the elbow) and the silhouette score for a range of k,
//! computed in parallel; the silhouette on a seeded sample of customers, never
//! the full n × n distance matrix.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

use super::kmeans::{KMeansError, KMeansParams};

/// The scores of one k.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KScore {
    pub k: usize,
    pub inertia: f64,
    /// Mean silhouette on the sample, −1..1 (higher = better separated).
    pub silhouette: f64,
}

/// Scores for each k and the suggestion, with its reason in plain words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KSuggestion {
    pub scores: Vec<KScore>,
    pub suggested_k: usize,
    pub reason: String,
    pub sample_size: usize,
    /// Wall time of the silhouettes alone (all k).
    pub silhouette_seconds: f64,
}

/// Default number of customers the silhouette is computed on.
pub const SILHOUETTE_SAMPLE: usize = 5000;

/// Mean silhouette of `labels` over the rows of `data`.
pub fn silhouette(data: ArrayView2<f64>, labels: &[usize], k: usize) -> f64 {
    let n = data.nrows();
    if k < 2 || n < 2 {
        return 0.0;
    }
    let sizes = labels.iter().fold(vec![0usize; k], |mut s, &l| {
        s[l] += 1;
        s
    });
    let scores: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut sums = vec![0.0; k];
            let row = data.row(i);
            for j in 0..n {
                if i != j {
                    let d: f64 = row.iter().zip(data.row(j).iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                    sums[labels[j]] += d;
                }
            }
            let own = labels[i];
            if sizes[own] <= 1 {
                return 0.0; // a singleton's silhouette is 0 by convention
            }
            let a = sums[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && sizes[c] > 0)
                .map(|c| sums[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            if !b.is_finite() { 0.0 } else { (b - a) / a.max(b) }
        })
        .collect();
    scores.iter().sum::<f64>() / n as f64
}

/// Fits k-means for every k in `ks` (in parallel) and suggests a k: the
/// largest whose silhouette (on a seeded sample of at most `sample_size`
/// rows) is within 10% of the highest.
pub fn choose_k(
    data: ArrayView2<f64>,
    ks: &[usize],
    params: &KMeansParams,
    sample_size: usize,
) -> Result<KSuggestion, KMeansError> {
    let n = data.nrows();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(params.seed);
    let mut picked: Vec<usize> = sample(&mut rng, n, sample_size.min(n)).into_vec();
    picked.sort_unstable();
    let sampled = Array2::from_shape_fn((picked.len(), data.ncols()), |(i, j)| data[[picked[i], j]]);
    let fits: Vec<(usize, f64, Vec<usize>)> = ks
        .par_iter()
        .map(|&k| {
            let fit = KMeansParams { k, ..params.clone() }.fit(data)?;
            Ok((k, fit.inertia, picked.iter().map(|&i| fit.labels[i]).collect()))
        })
        .collect::<Result<_, KMeansError>>()?;
    let started = std::time::Instant::now();
    let scores: Vec<KScore> = fits
        .iter()
        .map(|(k, inertia, labels)| KScore {
            k: *k,
            inertia: *inertia,
            silhouette: silhouette(sampled.view(), labels, *k),
        })
        .collect();
    let silhouette_seconds = started.elapsed().as_secs_f64();
    // The best silhouette, then the largest k within 10% of it: more segments to
    // act on for (almost) the same separation.
    let top = scores
        .iter()
        .filter(|s| s.k >= 2)
        .max_by(|a, b| a.silhouette.total_cmp(&b.silhouette).then(b.k.cmp(&a.k)))
        .or(scores.first())
        .ok_or(KMeansError::ZeroClusters)?;
    let best = scores
        .iter()
        .filter(|s| s.k >= 2 && s.silhouette >= top.silhouette - 0.1 * top.silhouette.abs())
        .max_by_key(|s| s.k)
        .unwrap_or(top);
    let previous = scores.iter().find(|s| s.k + 1 == best.k);
    let elbow = previous.map_or(String::new(), |p| {
        format!("; inertia falls {:.0}% from k = {}", 100.0 * (1.0 - best.inertia / p.inertia), p.k)
    });
    let reason = if best.k == top.k {
        format!(
            "k = {} has the highest silhouette ({:.2}) on a sample of {} customers{}",
            best.k,
            best.silhouette,
            picked.len(),
            elbow
        )
    } else {
        format!(
            "k = {} separates almost as well as the best (silhouette {:.2} vs {:.2} at k = {}, on a sample of {} customers) with more segments to act on{}",
            best.k,
            best.silhouette,
            top.silhouette,
            top.k,
            picked.len(),
            elbow
        )
    };
    Ok(KSuggestion { suggested_k: best.k, scores, reason, sample_size: picked.len(), silhouette_seconds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn silhouette_by_hand() {
        // Two pairs: {0, 1} and {10, 11} on a line.
        let data = array![[0.0], [1.0], [10.0], [11.0]];
        // Point 0: a = 1, b = (10 + 11) / 2 = 10.5 → s = 9.5 / 10.5.
        // Point 1: a = 1, b = (9 + 10) / 2 = 9.5 → s = 8.5 / 9.5. Symmetric for 2 and 3.
        let expected = (9.5 / 10.5 + 8.5 / 9.5) / 2.0;
        assert!((silhouette(data.view(), &[0, 0, 1, 1], 2) - expected).abs() < 1e-12);
    }

    #[test]
    fn suggests_the_true_number_of_groups() {
        let mut rows = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (8.0, 0.0), (0.0, 8.0), (8.0, 8.0)] {
            for i in 0..50 {
                rows.push([cx + (i % 7) as f64 * 0.2, cy + (i % 5) as f64 * 0.2]);
            }
        }
        let data = Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap();
        let s =
            choose_k(data.view(), &[2, 3, 4, 5, 6], &KMeansParams { n_init: 3, ..Default::default() }, 1000).unwrap();
        assert_eq!(s.suggested_k, 4, "{s:?}");
        assert!(s.reason.starts_with("k = 4 has the highest silhouette"));
        assert!(s.scores.windows(2).all(|w| w[1].inertia <= w[0].inertia + 1e-9), "inertia falls with k");
    }
}
