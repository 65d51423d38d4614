//! Soft segments: a Gaussian mixture (linfa-clustering's EM, full
//! covariances) on the same standardised buyer matrix as k-means. Each buyer
//! gets the component it most probably belongs to, and that probability —
//! its *membership* — so a campaign can target the customers who clearly
//! belong to a segment and leave the borderline ones out.

use linfa::prelude::*;
use linfa_clustering::{GaussianMixtureModel, GmmError};
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use thiserror::Error;

use super::KMeansParams;

/// Why a mixture could not be fitted, in words a user can act on.
#[derive(Debug, Error)]
pub enum MixtureError {
    #[error("a Gaussian mixture of {k} segments needs more than {buyers} buyers")]
    TooFewBuyers { k: usize, buyers: usize },
    #[error("the Gaussian mixture did not settle ({0}); try fewer segments or k-means")]
    Fit(String),
}

impl From<GmmError> for MixtureError {
    fn from(e: GmmError) -> Self {
        MixtureError::Fit(e.to_string())
    }
}

/// A fitted mixture's verdict per matrix row.
#[derive(Clone, Debug, PartialEq)]
pub struct MixtureFit {
    /// The most probable component, 0..k.
    pub labels: Vec<usize>,
    /// The probability of that component, in (1/k, 1].
    pub membership: Vec<f64>,
}

/// Fits `params.k` components, initialised from a seeded k-means, stopping
/// when the likelihood bound moves less than the tolerance.
pub fn fit_mixture(matrix: ArrayView2<f64>, params: &KMeansParams) -> Result<MixtureFit, MixtureError> {
    let (rows, k) = (matrix.nrows(), params.k);
    if rows <= k {
        return Err(MixtureError::TooFewBuyers { k, buyers: rows });
    }
    let dataset = DatasetBase::from(matrix.to_owned());
    let model = GaussianMixtureModel::params_with_rng(k, Xoshiro256Plus::seed_from_u64(params.seed))
        .n_runs(1)
        .tolerance(1e-4)
        .max_n_iterations(params.max_iter as u64)
        // A little ridge on the covariances keeps a component of near-identical buyers invertible.
        .reg_covariance(1e-6)
        .fit(&dataset)?;
    let probabilities = model.predict_proba(&matrix);
    let mut labels = Vec::with_capacity(rows);
    let mut membership = Vec::with_capacity(rows);
    for row in probabilities.rows() {
        // Ties go to the lower component, as argmax does.
        let (best, p) =
            row.iter().enumerate().fold((0, f64::NEG_INFINITY), |acc, (j, &p)| if p > acc.1 { (j, p) } else { acc });
        labels.push(best);
        membership.push(p);
    }
    Ok(MixtureFit { labels, membership })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Two groups of the same shape, far apart (alternate rows), and one point halfway.
    fn two_groups() -> Array2<f64> {
        let mut rows = Vec::new();
        for i in 0..40 {
            let (dx, dy) = ((i % 5) as f64 * 0.5 - 1.0, (i / 5 % 8) as f64 * 0.3 - 1.05);
            rows.extend([dx, dy]);
            rows.extend([5.0 + dx, 5.0 + dy]);
        }
        rows.extend([2.5, 2.5]);
        Array2::from_shape_vec((81, 2), rows).unwrap()
    }

    #[test]
    fn clear_members_are_sure_and_the_point_between_is_not() {
        let m = two_groups();
        let fit = fit_mixture(m.view(), &KMeansParams { k: 2, ..Default::default() }).unwrap();
        assert_ne!(fit.labels[0], fit.labels[1], "the groups are told apart");
        assert!(fit.labels.iter().step_by(2).take(40).all(|&l| l == fit.labels[0]));
        let mut members = fit.membership[..80].to_vec();
        members.sort_by(f64::total_cmp);
        assert!(members[40] > 0.99, "clear members are sure: median {}", members[40]);
        assert!(members[0] > fit.membership[80], "the point halfway is the least sure: {}", fit.membership[80]);
    }

    #[test]
    fn the_same_seed_gives_the_same_mixture_on_any_thread_count() {
        let m = two_groups();
        let params = KMeansParams { k: 2, seed: 7, ..Default::default() };
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let a = one.install(|| fit_mixture(m.view(), &params)).unwrap();
        let b = three.install(|| fit_mixture(m.view(), &params)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn too_few_buyers_is_said_plainly() {
        let m = Array2::zeros((3, 2));
        let e = fit_mixture(m.view(), &KMeansParams { k: 5, ..Default::default() }).unwrap_err();
        assert_eq!(e.to_string(), "a Gaussian mixture of 5 segments needs more than 3 buyers");
    }
}
