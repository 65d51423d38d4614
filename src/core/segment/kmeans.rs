//! K-means (Lloyd's algorithm with k-means++ seeding), written for speed and
//! determinism: every random choice comes from a seeded generator, and the
//! parallel sums are taken over fixed chunks combined in a fixed order, so the
//! same data and seed give the same clustering on any number of threads.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::Rng;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use thiserror::Error;

/// Rows per parallel work unit; fixed, so that results do not depend on the thread count.
const CHUNK: usize = 4096;

/// K-means settings, DATA.md §3 defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansParams {
    pub k: usize,
    /// Independent k-means++ initialisations; the lowest inertia wins.
    pub n_init: usize,
    pub max_iter: usize,
    /// Convergence: stop when the squared centroid shift falls below
    /// `tol` × the mean feature variance (scikit-learn's rule).
    pub tol: f64,
    pub seed: u64,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            k: 5,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 42,
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum KMeansError {
    #[error("k must be at least 1")]
    ZeroClusters,
    #[error("n_init must be at least 1")]
    ZeroInits,
    #[error("max_iter must be at least 1")]
    ZeroIterations,
    #[error("tolerance must be a finite number ≥ 0, got {0}")]
    BadTolerance(f64),
    #[error("k = {k} segments need at least {k} customers with purchases; there are {n}")]
    TooFewRows { k: usize, n: usize },
    #[error("the matrix has no columns")]
    NoColumns,
    #[error("value {value} at row {row}, column {column} is not a finite number")]
    NotFinite {
        row: usize,
        column: usize,
        value: f64,
    },
}

impl KMeansParams {
    /// Checks the settings against the data they will run on.
    pub fn check(&self, data: ArrayView2<f64>) -> Result<(), KMeansError> {
        if self.k == 0 {
            return Err(KMeansError::ZeroClusters);
        }
        if self.n_init == 0 {
            return Err(KMeansError::ZeroInits);
        }
        if self.max_iter == 0 {
            return Err(KMeansError::ZeroIterations);
        }
        if !self.tol.is_finite() || self.tol < 0.0 {
            return Err(KMeansError::BadTolerance(self.tol));
        }
        if data.ncols() == 0 {
            return Err(KMeansError::NoColumns);
        }
        if data.nrows() < self.k {
            return Err(KMeansError::TooFewRows {
                k: self.k,
                n: data.nrows(),
            });
        }
        if let Some(((row, column), &value)) = data.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(KMeansError::NotFinite { row, column, value });
        }
        Ok(())
    }

    /// Fits k-means: the best of `n_init` runs.
    pub fn fit(&self, data: ArrayView2<f64>) -> Result<KMeansFit, KMeansError> {
        self.check(data)?;
        let tol = self.tol * mean_variance(data);
        let mut best: Option<KMeansFit> = None;
        for init in 0..self.n_init {
            // One generator per initialisation, derived from the seed: runs are independent.
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed.wrapping_add(init as u64));
            let centroids = kmeans_plus_plus(data, self.k, &mut rng);
            let fit = lloyd(data, centroids, self.max_iter, tol);
            if best.as_ref().is_none_or(|b| fit.inertia < b.inertia) {
                best = Some(fit);
            }
        }
        // n_init ≥ 1 was checked, so there is a best run.
        best.ok_or(KMeansError::ZeroInits)
    }
}

/// A fitted clustering.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansFit {
    /// k × d centroids.
    pub centroids: Array2<f64>,
    /// The cluster of each row, 0..k.
    pub labels: Vec<usize>,
    /// Sum of squared distances of rows to their centroid.
    pub inertia: f64,
    pub iterations: usize,
}

impl KMeansFit {
    /// The nearest centroid of each row of `data`.
    pub fn predict(&self, data: ArrayView2<f64>) -> Vec<usize> {
        assign(data, self.centroids.view()).0
    }
}

fn mean_variance(data: ArrayView2<f64>) -> f64 {
    data.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0)
}

fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means++: the first centre uniformly, each next one with probability
/// proportional to the squared distance to the nearest centre so far, taking
/// the best of 2 + ln k candidates per step (scikit-learn's greedy variant).
fn kmeans_plus_plus(data: ArrayView2<f64>, k: usize, rng: &mut impl Rng) -> Array2<f64> {
    let n = data.nrows();
    let mut centroids = Array2::zeros((k, data.ncols()));
    let first = rng.gen_range(0..n);
    centroids.row_mut(0).assign(&data.row(first));
    let mut closest: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| squared_distance(data.row(i), data.row(first)))
        .collect();
    let candidates = 2 + (k as f64).ln().floor() as usize;
    for c in 1..k {
        let total: f64 = closest.iter().sum();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..candidates {
            let pick = if total > 0.0 {
                let mut x = rng.r#gen::<f64>() * total;
                let mut chosen = n - 1;
                for (i, d) in closest.iter().enumerate() {
                    x -= d;
                    if x <= 0.0 {
                        chosen = i;
                        break;
                    }
                }
                chosen
            } else {
                rng.gen_range(0..n)
            };
            let candidate = data.row(pick);
            let updated: Vec<f64> = closest
                .par_iter()
                .enumerate()
                .map(|(i, &d)| d.min(squared_distance(data.row(i), candidate)))
                .collect();
            let potential: f64 = updated.iter().sum();
            if best.as_ref().is_none_or(|(p, _, _)| potential < *p) {
                best = Some((potential, pick, updated));
            }
        }
        if let Some((_, pick, updated)) = best {
            centroids.row_mut(c).assign(&data.row(pick));
            closest = updated;
        }
    }
    centroids
}

/// Nearest centroid of every row, and the total squared distance.
fn assign(data: ArrayView2<f64>, centroids: ArrayView2<f64>) -> (Vec<usize>, f64) {
    let n = data.nrows();
    let parts: Vec<(Vec<usize>, f64)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
            let mut labels = Vec::with_capacity(rows.len());
            let mut inertia = 0.0;
            for i in rows {
                let row = data.row(i);
                let (label, d) = centroids
                    .outer_iter()
                    .enumerate()
                    .map(|(c, centre)| (c, squared_distance(row, centre)))
                    .fold(
                        (0, f64::INFINITY),
                        |best, x| if x.1 < best.1 { x } else { best },
                    );
                labels.push(label);
                inertia += d;
            }
            (labels, inertia)
        })
        .collect();
    let mut labels = Vec::with_capacity(n);
    let mut inertia = 0.0;
    for (l, d) in parts {
        labels.extend(l);
        inertia += d;
    }
    (labels, inertia)
}

/// Means of the rows of each cluster; an empty cluster keeps its old centre.
fn update(data: ArrayView2<f64>, labels: &[usize], old: ArrayView2<f64>) -> Array2<f64> {
    let (k, d) = old.dim();
    let n = data.nrows();
    let partials: Vec<(Array2<f64>, Vec<usize>)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut sums = Array2::<f64>::zeros((k, d));
            let mut counts = vec![0usize; k];
            let start = chunk * CHUNK;
            let end = (start + CHUNK).min(n);
            for (i, &c) in (start..end).zip(&labels[start..end]) {
                counts[c] += 1;
                let mut target = sums.row_mut(c);
                target += &data.row(i);
            }
            (sums, counts)
        })
        .collect();
    let mut sums = Array2::<f64>::zeros((k, d));
    let mut counts = vec![0usize; k];
    for (s, c) in partials {
        sums += &s;
        for (total, add) in counts.iter_mut().zip(c) {
            *total += add;
        }
    }
    let mut centroids = old.to_owned();
    for (c, &count) in counts.iter().enumerate() {
        if count > 0 {
            let mean: Array1<f64> = sums.row(c).mapv(|v| v / count as f64);
            centroids.row_mut(c).assign(&mean);
        }
    }
    centroids
}

fn lloyd(
    data: ArrayView2<f64>,
    mut centroids: Array2<f64>,
    max_iter: usize,
    tol: f64,
) -> KMeansFit {
    let mut iterations = 0;
    for _ in 0..max_iter {
        iterations += 1;
        let (labels, _) = assign(data, centroids.view());
        let next = update(data, &labels, centroids.view());
        let shift: f64 = (&next - &centroids).mapv(|v| v * v).sum();
        centroids = next;
        if shift <= tol {
            break;
        }
    }
    let (labels, inertia) = assign(data, centroids.view());
    KMeansFit {
        centroids,
        labels,
        inertia,
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn blobs() -> Array2<f64> {
        // Three tight groups on a line.
        let mut rows = Vec::new();
        for (centre, n) in [(0.0, 20), (10.0, 30), (20.0, 25)] {
            for i in 0..n {
                rows.push([centre + (i % 5) as f64 * 0.1, (i % 3) as f64 * 0.1]);
            }
        }
        Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap()
    }

    #[test]
    fn finds_separated_groups() {
        let data = blobs();
        let fit = KMeansParams {
            k: 3,
            ..Default::default()
        }
        .fit(data.view())
        .unwrap();
        let mut sizes = [0; 3];
        for &l in &fit.labels {
            sizes[l] += 1;
        }
        sizes.sort();
        assert_eq!(sizes, [20, 25, 30]);
        let mut xs: Vec<f64> = fit.centroids.column(0).to_vec();
        xs.sort_by(f64::total_cmp);
        assert!(
            (xs[0] - 0.2).abs() < 1e-9
                && (xs[1] - 10.2).abs() < 1e-9
                && (xs[2] - 20.2).abs() < 1e-9,
            "{xs:?}"
        );
    }

    #[test]
    fn same_seed_same_result_on_any_thread_count() {
        let data = Array2::from_shape_fn((20_000, 3), |(i, j)| {
            ((i * 7919 + j * 104_729) % 1000) as f64 / 37.0
        });
        let params = KMeansParams {
            k: 6,
            n_init: 3,
            ..Default::default()
        };
        let many = params.fit(data.view()).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| params.fit(data.view()).unwrap());
        assert_eq!(many, one);
    }

    #[test]
    fn bad_settings_and_data_are_named() {
        let data = array![[1.0, 2.0], [3.0, f64::NAN]];
        assert_eq!(
            KMeansParams {
                k: 0,
                ..Default::default()
            }
            .fit(data.view()),
            Err(KMeansError::ZeroClusters)
        );
        assert_eq!(
            KMeansParams {
                k: 3,
                ..Default::default()
            }
            .fit(data.view()),
            Err(KMeansError::TooFewRows { k: 3, n: 2 })
        );
        assert!(matches!(
            KMeansParams {
                k: 2,
                ..Default::default()
            }
            .fit(data.view()),
            Err(KMeansError::NotFinite {
                row: 1,
                column: 1,
                ..
            })
        ));
    }
}
