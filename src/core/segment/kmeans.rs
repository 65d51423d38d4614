//! K-means (Lloyd's algorithm with k-means++ seeding), written for speed and
//! determinism: every random choice comes from a seeded generator, and the
//! parallel sums are taken over fixed chunks combined in a fixed order, so the
//! same data and seed give the same clustering on any number of threads.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
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
        KMeansParams { k: 5, n_init: 10, max_iter: 300, tol: 1e-4, seed: 42 }
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
    NotFinite { row: usize, column: usize, value: f64 },
    #[error("{0}")]
    Linfa(String),
    #[error("cancelled")]
    Cancelled,
}

impl From<linfa::Error> for KMeansError {
    fn from(e: linfa::Error) -> Self {
        KMeansError::Linfa(e.to_string())
    }
}

// The model behind linfa's traits, so that it slots in wherever linfa's own
// KMeans would (`Fit::fit(&params, &dataset)`, `Predict::predict(&model, &records)`).
impl<D: ndarray::Data<Elem = f64>, T> linfa::traits::Fit<ndarray::ArrayBase<D, ndarray::Ix2>, T, KMeansError>
    for KMeansParams
{
    type Object = KMeansFit;

    fn fit(
        &self,
        dataset: &linfa::DatasetBase<ndarray::ArrayBase<D, ndarray::Ix2>, T>,
    ) -> Result<KMeansFit, KMeansError> {
        KMeansParams::fit(self, dataset.records().view())
    }
}

impl<D: ndarray::Data<Elem = f64>>
    linfa::traits::PredictInplace<ndarray::ArrayBase<D, ndarray::Ix2>, ndarray::Array1<usize>> for KMeansFit
{
    fn predict_inplace(&self, x: &ndarray::ArrayBase<D, ndarray::Ix2>, y: &mut ndarray::Array1<usize>) {
        for (target, label) in y.iter_mut().zip(assign(x.view(), self.centroids.view()).0) {
            *target = label;
        }
    }

    fn default_target(&self, x: &ndarray::ArrayBase<D, ndarray::Ix2>) -> ndarray::Array1<usize> {
        ndarray::Array1::zeros(x.nrows())
    }
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
            return Err(KMeansError::TooFewRows { k: self.k, n: data.nrows() });
        }
        if let Some(((row, column), &value)) = data.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(KMeansError::NotFinite { row, column, value });
        }
        Ok(())
    }

    /// Fits k-means: the best of `n_init` runs.
    pub fn fit(&self, data: ArrayView2<f64>) -> Result<KMeansFit, KMeansError> {
        self.fit_unless(data, &|| false)
    }

    /// [`Self::fit`], giving up with [`KMeansError::Cancelled`] when `cancelled`
    /// says so before an initialisation starts.
    pub fn fit_unless(
        &self,
        data: ArrayView2<f64>,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<KMeansFit, KMeansError> {
        self.check(data)?;
        let tol = self.tol * mean_variance(data);
        // Lloyd runs on the rows in space-filling order (see `spatial_order`),
        // unless the copy that takes would be large.
        let order = (data.len() * std::mem::size_of::<f64>() <= REORDER_MAX_BYTES).then(|| spatial_order(data));
        let reordered = order.as_ref().map(|order| data.select(Axis(0), order));
        let near = match &reordered {
            Some(m) => m.view(),
            None => data.view(),
        };
        // Initialisations run side by side: each is deterministic on its own, and
        // the best is chosen by inertia, ties to the earlier one.
        let fits: Vec<KMeansFit> = (0..self.n_init)
            .into_par_iter()
            .map(|init| {
                if cancelled() {
                    return Err(KMeansError::Cancelled);
                }
                // One generator per initialisation, derived from the seed: runs are independent.
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed.wrapping_add(init as u64));
                let centroids = kmeans_plus_plus(data, self.k, &mut rng);
                Ok(lloyd(near, centroids, self.max_iter, tol))
            })
            .collect::<Result<_, KMeansError>>()?;
        let best = fits.into_iter().reduce(|best, fit| if fit.inertia < best.inertia { fit } else { best });
        // n_init ≥ 1 was checked, so there is a best run.
        let best = best.ok_or(KMeansError::ZeroInits)?;
        let mut fit = run_to_fixed_point(near, best, self.max_iter);
        if let Some(order) = order {
            let mut labels = vec![0; fit.labels.len()];
            for (&row, &label) in order.iter().zip(&fit.labels) {
                labels[row] = label;
            }
            fit.labels = labels;
        }
        Ok(fit)
    }
}

/// Matrices up to this size are copied into space-filling order for Lloyd;
/// larger ones (the 5M × 8 benchmark blobs: 320 MB) are not, to spare the memory.
const REORDER_MAX_BYTES: usize = 128 << 20;

/// The rows' order along a Z-order (Morton) curve through their first three
/// coordinates, so that rows next to each other in memory are near each other
/// in space. Lloyd's bound tests then pass or fail in runs instead of at
/// random, which the processor predicts: on 400k overlapping buyers a
/// ten-start fit ran 1.7x faster (1.38 → 0.81 s, measured), for one sort of
/// the rows (15–20 ms).
fn spatial_order(data: ArrayView2<f64>) -> Vec<usize> {
    // 10 bits a coordinate: a grid of a billion cells, finer than any
    // customer matrix needs for locality, and the code fits beside the row.
    const BITS: u32 = 10;
    let (n, d) = data.dim();
    let dims = d.min(3);
    let range: Vec<(f64, f64)> = (0..dims)
        .map(|j| {
            let col = data.column(j);
            let lo = col.fold(f64::INFINITY, |a, &b| a.min(b));
            let hi = col.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            (lo, if hi > lo { f64::from((1u32 << BITS) - 1) / (hi - lo) } else { 0.0 })
        })
        .collect();
    let x = row_major(data);
    // Morton code in the high bits, row number in the low 32: one plain sort.
    let key = |i: usize| -> u64 {
        let mut code = 0u64;
        for (j, &(lo, scale)) in range.iter().enumerate() {
            let cell = ((x[i * d + j] - lo) * scale) as u64;
            for bit in 0..BITS {
                code |= ((cell >> bit) & 1) << (bit as usize * dims + j);
            }
        }
        (code << 32) | i as u64
    };
    let mut keys: Vec<u64> = (0..n).into_par_iter().map(key).collect();
    keys.par_sort_unstable();
    keys.into_iter().map(|k| (k & u64::from(u32::MAX)) as usize).collect()
}

/// Runs the chosen start on until no row changes cluster, within `max_iter`
/// iterations in all. The tolerance decides when each start stops and so
/// which start wins (scikit-learn's rule); going on with the winner can only
/// lower its inertia, and costs a few iterations of one start (3% of a
/// ten-start fit on 400k buyers, measured).
fn run_to_fixed_point(data: ArrayView2<f64>, fit: KMeansFit, max_iter: usize) -> KMeansFit {
    let left = max_iter.saturating_sub(fit.iterations);
    if left == 0 || fit.fixed_point {
        return fit;
    }
    let refined = lloyd(data, fit.centroids.clone(), left, 0.0);
    if refined.inertia <= fit.inertia {
        KMeansFit { iterations: fit.iterations + refined.iterations, ..refined }
    } else {
        fit
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
    /// No row changed cluster in the last iteration: every centre is the mean
    /// of its rows and every row is in its nearest cluster.
    pub fixed_point: bool,
}

fn mean_variance(data: ArrayView2<f64>) -> f64 {
    data.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0)
}

fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The rows of `data` as one contiguous row-major slice (copied only if needed).
fn row_major(data: ArrayView2<'_, f64>) -> std::borrow::Cow<'_, [f64]> {
    match data.to_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(data.iter().copied().collect()),
    }
}

/// Sum over fixed chunks, combined in a fixed order (thread-count independent).
fn chunked_sum(n: usize, f: impl Fn(usize) -> f64 + Sync) -> f64 {
    let parts: Vec<f64> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| (c * CHUNK..((c + 1) * CHUNK).min(n)).map(&f).sum::<f64>())
        .collect();
    parts.iter().sum()
}

/// k-means++: the first centre uniformly, each next one with probability
/// proportional to the squared distance to the nearest centre so far, taking
/// the best of 2 + ⌊ln k⌋ candidates per step (scikit-learn's greedy variant).
/// The candidates of a step are scored in one pass over the data.
fn kmeans_plus_plus(data: ArrayView2<f64>, k: usize, rng: &mut impl Rng) -> Array2<f64> {
    match data.ncols() {
        1 => seed_with(data, k, rng, dist2_fixed::<1>),
        2 => seed_with(data, k, rng, dist2_fixed::<2>),
        3 => seed_with(data, k, rng, dist2_fixed::<3>),
        4 => seed_with(data, k, rng, dist2_fixed::<4>),
        5 => seed_with(data, k, rng, dist2_fixed::<5>),
        6 => seed_with(data, k, rng, dist2_fixed::<6>),
        7 => seed_with(data, k, rng, dist2_fixed::<7>),
        8 => seed_with(data, k, rng, dist2_fixed::<8>),
        _ => seed_with(data, k, rng, dist2),
    }
}

/// Squared distance for a dimension known at compile time (unrolled, no bounds checks).
#[inline]
fn dist2_fixed<const D: usize>(a: &[f64], b: &[f64]) -> f64 {
    match (<&[f64; D]>::try_from(a), <&[f64; D]>::try_from(b)) {
        (Ok(a), Ok(b)) => {
            let mut s = 0.0;
            for j in 0..D {
                let diff = a[j] - b[j];
                s += diff * diff;
            }
            s
        }
        _ => dist2(a, b),
    }
}

/// Candidates drawn per new centre: 2 + ⌊ln k⌋ (scikit-learn's greedy k-means++).
fn candidates_per_step(k: usize) -> usize {
    2 + (k as f64).ln().floor() as usize
}

/// k-means++ with a given squared-distance function.
fn seed_with(
    data: ArrayView2<f64>,
    k: usize,
    rng: &mut impl Rng,
    dist2: impl Fn(&[f64], &[f64]) -> f64 + Sync,
) -> Array2<f64> {
    let (n, d) = data.dim();
    let x = row_major(data);
    let x: &[f64] = &x;
    let point = |i: usize| &x[i * d..(i + 1) * d];
    let mut chosen = vec![rng.gen_range(0..n)];
    let mut closest: Vec<f64> = (0..n).into_par_iter().map(|i| dist2(point(i), point(chosen[0]))).collect();
    let tries = candidates_per_step(k);
    let mut cumulative = vec![0.0f64; n];
    // One column of new nearest distances per candidate, reused from step to step.
    let mut spare: Vec<Vec<f64>> = Vec::new();
    for _ in 1..k {
        // Sampling proportional to the squared distances: one running sum, then
        // a binary search per candidate instead of a scan each.
        let mut running = 0.0;
        for (c, d) in cumulative.iter_mut().zip(&closest) {
            running += d;
            *c = running;
        }
        let total = running;
        let candidates: Vec<usize> = (0..tries)
            .map(|_| {
                if total <= 0.0 {
                    return rng.gen_range(0..n);
                }
                let target = rng.r#gen::<f64>() * total;
                cumulative.partition_point(|&c| c < target).min(n - 1)
            })
            .collect();
        // Each candidate's new nearest distances are kept, so that the winner's
        // become `closest` without another pass over the points.
        let mut columns = std::mem::take(&mut spare);
        columns.resize_with(tries, || vec![0.0; n]);
        let mut per_chunk: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(CHUNK)).map(|_| Vec::new()).collect();
        for column in columns.iter_mut() {
            for (c, part) in column.chunks_mut(CHUNK).enumerate() {
                per_chunk[c].push(part);
            }
        }
        let parts: Vec<Vec<f64>> = per_chunk
            .into_par_iter()
            .enumerate()
            .map(|(chunk, mut out)| {
                let start = chunk * CHUNK;
                let near = &closest[start..(start + CHUNK).min(n)];
                let points = x[start * d..(start + near.len()) * d].chunks_exact(d);
                // One candidate at a time: its point stays in registers and the
                // loop over the chunk's points runs without indirection.
                candidates
                    .iter()
                    .zip(out.iter_mut())
                    .map(|(&cand, column)| {
                        let c = point(cand);
                        let mut sum = 0.0;
                        for ((slot, &near), p) in column.iter_mut().zip(near).zip(points.clone()) {
                            let m = near.min(dist2(p, c));
                            *slot = m;
                            sum += m;
                        }
                        sum
                    })
                    .collect::<Vec<f64>>()
            })
            .collect();
        let potentials: Vec<f64> = (0..tries).map(|t| parts.iter().map(|p| p[t]).sum()).collect();
        let best = (0..tries).min_by(|&a, &b| potentials[a].total_cmp(&potentials[b]).then(a.cmp(&b))).unwrap_or(0);
        std::mem::swap(&mut closest, &mut columns[best]);
        spare = columns;
        chosen.push(candidates[best]);
    }
    Array2::from_shape_fn((k, d), |(c, j)| x[chosen[c] * d + j])
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
                    .fold((0, f64::INFINITY), |best, x| if x.1 < best.1 { x } else { best });
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

/// Squared distance between two points given as slices.
#[inline]
fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Closest and second-closest centre (index, distance, distance), for a
/// dimension known at compile time: the distance loop unrolls and the centres
/// are read as fixed-size rows, with no bounds checks in the inner loop.
#[inline]
fn nearest_two<const D: usize>(p: &[f64], centres: &[f64]) -> (u32, f64, f64) {
    nearest_two_by(p, centres, D, dist2_fixed::<D>)
}

/// [`nearest_two`] for any dimension.
fn nearest_two_any(p: &[f64], centres: &[f64], d: usize) -> (u32, f64, f64) {
    nearest_two_by(p, centres, d, dist2)
}

#[inline]
fn nearest_two_by(p: &[f64], centres: &[f64], d: usize, dist2: impl Fn(&[f64], &[f64]) -> f64) -> (u32, f64, f64) {
    let (mut best, mut d1, mut d2) = (0u32, f64::INFINITY, f64::INFINITY);
    for (c, centre) in centres.chunks_exact(d).enumerate() {
        let dc = dist2(p, centre);
        if dc < d1 {
            d2 = d1;
            d1 = dc;
            best = c as u32;
        } else if dc < d2 {
            d2 = dc;
        }
    }
    (best, d1.sqrt(), d2.sqrt())
}

/// Per-cluster sums of member coordinates and member counts.
#[derive(Clone)]
struct ClusterSums {
    sums: Vec<f64>,
    counts: Vec<i64>,
}

impl ClusterSums {
    fn zero(k: usize, d: usize) -> ClusterSums {
        ClusterSums { sums: vec![0.0; k * d], counts: vec![0; k] }
    }

    fn add(&mut self, c: usize, p: &[f64], sign: f64) {
        let d = p.len();
        for (s, v) in self.sums[c * d..(c + 1) * d].iter_mut().zip(p) {
            *s += sign * v;
        }
        self.counts[c] += sign as i64;
    }

    fn merge(&mut self, o: &ClusterSums) {
        self.sums.iter_mut().zip(&o.sums).for_each(|(a, b)| *a += b);
        self.counts.iter_mut().zip(&o.counts).for_each(|(a, b)| *a += b);
    }
}

/// Lloyd's algorithm with Hamerly's bounds (Hamerly 2010): each point keeps
/// an upper bound on the distance to its centre and a lower bound on the
/// distance to any other; when the bounds prove the assignment cannot change,
/// the point costs no distance at all. Cluster sums are updated only for the
/// points that move. Same fixed point as plain Lloyd, a fraction of the work
/// once centres settle; per-chunk results are combined in a fixed order.
fn lloyd(data: ArrayView2<f64>, centroids: Array2<f64>, max_iter: usize, tol: f64) -> KMeansFit {
    match data.ncols() {
        1 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<1>, nearest_two::<1>),
        2 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<2>, nearest_two::<2>),
        3 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<3>, nearest_two::<3>),
        4 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<4>, nearest_two::<4>),
        5 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<5>, nearest_two::<5>),
        6 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<6>, nearest_two::<6>),
        7 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<7>, nearest_two::<7>),
        8 => lloyd_with(data, centroids, max_iter, tol, dist2_fixed::<8>, nearest_two::<8>),
        d => lloyd_with(data, centroids, max_iter, tol, dist2, move |p, c| nearest_two_any(p, c, d)),
    }
}

/// [`lloyd`] with distance functions specialised for the dimension.
fn lloyd_with(
    data: ArrayView2<f64>,
    centroids: Array2<f64>,
    max_iter: usize,
    tol: f64,
    dist2: impl Fn(&[f64], &[f64]) -> f64 + Sync,
    full: impl Fn(&[f64], &[f64]) -> (u32, f64, f64) + Sync,
) -> KMeansFit {
    let (n, d) = data.dim();
    let x = row_major(data);
    let x: &[f64] = &x;
    let point = |i: usize| &x[i * d..(i + 1) * d];
    let k = centroids.nrows();
    let mut centres: Vec<f64> = centroids.iter().copied().collect();
    let mut label = vec![0u32; n];
    let mut upper = vec![0.0f64; n];
    let mut lower = vec![0.0f64; n];

    let initial: Vec<ClusterSums> = label
        .par_chunks_mut(CHUNK)
        .zip(upper.par_chunks_mut(CHUNK))
        .zip(lower.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(chunk, ((l, u), lo))| {
            let mut sums = ClusterSums::zero(k, d);
            for j in 0..l.len() {
                let p = point(chunk * CHUNK + j);
                (l[j], u[j], lo[j]) = full(p, &centres);
                sums.add(l[j] as usize, p, 1.0);
            }
            sums
        })
        .collect();
    let mut totals = ClusterSums::zero(k, d);
    initial.iter().for_each(|s| totals.merge(s));

    // Bounds are stored net of how far the centres have moved since the start
    // (`drift`, per centre, and `max_drift`, the sum of each step's largest
    // move): a point whose bounds still prove its assignment is only read,
    // never written, which halves the memory traffic of the common case.
    let mut drift = vec![0.0f64; k];
    let mut max_drift = 0.0f64;
    let mut iterations = 0;
    let mut fixed_point = false;
    for _ in 0..max_iter {
        iterations += 1;
        // M-step: each centre moves to the mean of its members.
        let mut moved = vec![0.0f64; k];
        let mut shift = 0.0;
        for c in 0..k {
            if totals.counts[c] <= 0 {
                continue; // an empty cluster keeps its centre
            }
            let new: Vec<f64> = totals.sums[c * d..(c + 1) * d].iter().map(|v| v / totals.counts[c] as f64).collect();
            let d2 = dist2(&new, &centres[c * d..(c + 1) * d]);
            shift += d2;
            moved[c] = d2.sqrt();
            centres[c * d..(c + 1) * d].copy_from_slice(&new);
        }
        // Half the distance from each centre to its nearest other centre.
        let half_gap: Vec<f64> = (0..k)
            .map(|c| {
                (0..k)
                    .filter(|&o| o != c)
                    .map(|o| dist2(&centres[c * d..(c + 1) * d], &centres[o * d..(o + 1) * d]))
                    .fold(f64::INFINITY, f64::min)
                    .sqrt()
                    / 2.0
            })
            .collect();
        max_drift += moved.iter().copied().fold(0.0, f64::max);
        for (total, m) in drift.iter_mut().zip(&moved) {
            *total += m;
        }
        // E-step with bounds; each chunk returns how its moves change the sums.
        let deltas: Vec<Option<ClusterSums>> = label
            .par_chunks_mut(CHUNK)
            .zip(upper.par_chunks_mut(CHUNK))
            .zip(lower.par_chunks_mut(CHUNK))
            .enumerate()
            .map(|(chunk, ((l, u), lo))| {
                let mut delta: Option<ClusterSums> = None;
                let start = chunk * CHUNK;
                // Zipped iterators: no bounds checks in the loop that visits every point.
                let points = x[start * d..(start + l.len()) * d].chunks_exact(d);
                for (((l, u), lo), p) in l.iter_mut().zip(u.iter_mut()).zip(lo.iter_mut()).zip(points) {
                    let own = *l as usize;
                    let bound = half_gap[own].max(*lo - max_drift);
                    if *u + drift[own] <= bound {
                        continue;
                    }
                    let exact = dist2(p, &centres[own * d..(own + 1) * d]).sqrt();
                    *u = exact - drift[own];
                    if exact <= bound {
                        continue;
                    }
                    let (nearest, first, second) = full(p, &centres);
                    *l = nearest;
                    *u = first - drift[nearest as usize];
                    *lo = second + max_drift;
                    if *l as usize != own {
                        let delta = delta.get_or_insert_with(|| ClusterSums::zero(k, d));
                        delta.add(own, p, -1.0);
                        delta.add(*l as usize, p, 1.0);
                    }
                }
                delta
            })
            .collect();
        deltas.iter().flatten().for_each(|delta| totals.merge(delta));
        fixed_point = deltas.iter().all(Option::is_none);
        // At a fixed point the next M-step would recompute the same centres.
        if fixed_point || shift <= tol {
            break;
        }
    }
    let inertia = chunked_sum(n, |i| {
        let c = label[i] as usize;
        dist2(point(i), &centres[c * d..(c + 1) * d])
    });
    KMeansFit {
        centroids: Array2::from_shape_vec((k, d), centres).unwrap_or(centroids),
        labels: label.into_iter().map(|l| l as usize).collect(),
        inertia,
        iterations,
        fixed_point,
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
    fn the_fit_is_a_fixed_point_of_lloyd() {
        // Overlapping groups, where the tolerance alone stops before the end.
        let mut rows = Vec::new();
        for i in 0..600 {
            let t = i as f64 * 0.37;
            rows.push([(t.sin() * 3.0) + (i % 7) as f64 * 0.3, (t * 1.3).cos() * 2.0 + (i % 5) as f64 * 0.2]);
        }
        let data = Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap();
        let params = KMeansParams { k: 4, n_init: 3, tol: 1e-2, ..Default::default() };
        // The tolerance alone stops this start short of a fixed point...
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(params.seed);
        let stopped =
            lloyd(data.view(), kmeans_plus_plus(data.view(), 4, &mut rng), 300, 1e-2 * mean_variance(data.view()));
        assert!(!stopped.fixed_point);
        let fit = params.fit(data.view()).unwrap();
        assert!(fit.fixed_point);
        // Every row is in its nearest cluster...
        let (nearest, inertia) = assign(data.view(), fit.centroids.view());
        assert_eq!(nearest, fit.labels);
        assert!((inertia - fit.inertia).abs() <= 1e-9 * inertia);
        // ...and every centre is the mean of its rows.
        for c in 0..4 {
            let members: Vec<usize> = (0..data.nrows()).filter(|&i| fit.labels[i] == c).collect();
            for j in 0..2 {
                let mean = members.iter().map(|&i| data[[i, j]]).sum::<f64>() / members.len() as f64;
                assert!((mean - fit.centroids[[c, j]]).abs() < 1e-9, "centre {c} is not the mean of its rows");
            }
        }
    }

    #[test]
    fn a_cancelled_fit_stops_before_its_initialisations() {
        let data = blobs();
        let params = KMeansParams { k: 3, ..Default::default() };
        assert_eq!(params.fit_unless(data.view(), &|| true), Err(KMeansError::Cancelled));
        assert!(params.fit_unless(data.view(), &|| false).is_ok());
    }

    #[test]
    fn finds_separated_groups() {
        let data = blobs();
        let fit = KMeansParams { k: 3, ..Default::default() }.fit(data.view()).unwrap();
        let mut sizes = [0; 3];
        for &l in &fit.labels {
            sizes[l] += 1;
        }
        sizes.sort();
        assert_eq!(sizes, [20, 25, 30]);
        let mut xs: Vec<f64> = fit.centroids.column(0).to_vec();
        xs.sort_by(f64::total_cmp);
        assert!((xs[0] - 0.2).abs() < 1e-9 && (xs[1] - 10.2).abs() < 1e-9 && (xs[2] - 20.2).abs() < 1e-9, "{xs:?}");
    }

    #[test]
    fn same_seed_same_result_on_any_thread_count() {
        let data = Array2::from_shape_fn((20_000, 3), |(i, j)| ((i * 7919 + j * 104_729) % 1000) as f64 / 37.0);
        let params = KMeansParams { k: 6, n_init: 3, ..Default::default() };
        // Explicit pools: the global one may have a single thread (one CPU, RAYON_NUM_THREADS=1).
        let many = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(|| params.fit(data.view()).unwrap());
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| params.fit(data.view()).unwrap());
        assert_eq!(many, one);
    }

    #[test]
    fn fits_and_predicts_through_linfa_traits() {
        use linfa::traits::{Fit, Predict};
        let data = blobs();
        let dataset = linfa::DatasetBase::from(data.clone());
        let params = KMeansParams { k: 3, ..Default::default() };
        let model: Result<KMeansFit, KMeansError> = Fit::fit(&params, &dataset);
        let model = model.unwrap();
        let predicted: ndarray::Array1<usize> = Predict::predict(&model, &data);
        assert_eq!(predicted.to_vec(), model.labels);
        assert_eq!(model, params.fit(data.view()).unwrap());
    }

    #[test]
    fn bad_settings_and_data_are_named() {
        let data = array![[1.0, 2.0], [3.0, f64::NAN]];
        assert_eq!(KMeansParams { k: 0, ..Default::default() }.fit(data.view()), Err(KMeansError::ZeroClusters));
        assert_eq!(
            KMeansParams { k: 3, ..Default::default() }.fit(data.view()),
            Err(KMeansError::TooFewRows { k: 3, n: 2 })
        );
        assert!(matches!(
            KMeansParams { k: 2, ..Default::default() }.fit(data.view()),
            Err(KMeansError::NotFinite { row: 1, column: 1, .. })
        ));
    }
}
