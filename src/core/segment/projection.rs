//! A 2-D view of the clustering matrix for plots: its first two principal
//! components (eigenvectors of the covariance, by Jacobi rotations; the
//! matrix has a handful of columns, so this is exact and instant).

use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;

/// Coordinates of every row on the first two principal components.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    /// n × 2
    #[serde(skip)]
    pub coordinates: Array2<f64>,
    /// Share of the total variance each component explains.
    pub explained_variance: [f64; 2],
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix.
fn jacobi_eigen(mut a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut v = Array2::<f64>::eye(n);
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[[i, j]] * a[[i, j]])
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[[p, q]].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[[k, p]], v[[k, q]]);
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[[i, i]]).collect(), v)
}

/// The first two principal components of `data` (rows = customers).
pub fn principal_components(data: ArrayView2<f64>) -> Projection {
    let n = data.nrows().max(1) as f64;
    let d = data.ncols();
    let mean = data.mean_axis(Axis(0)).unwrap_or_else(|| ndarray::Array1::zeros(d));
    let centred = &data - &mean;
    let cov = centred.t().dot(&centred) / n;
    let (values, vectors) = jacobi_eigen(cov);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let mut coordinates = Array2::<f64>::zeros((data.nrows(), 2));
    let mut explained = [0.0; 2];
    for (c, &component) in order.iter().take(2).enumerate() {
        // A fixed sign (largest loading positive) keeps plots from flipping between runs.
        let mut axis = vectors.column(component).to_owned();
        if axis.iter().copied().fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m }) < 0.0 {
            axis.mapv_inplace(|x| -x);
        }
        coordinates.column_mut(c).assign(&centred.dot(&axis));
        explained[c] = if total > 0.0 { values[component].max(0.0) / total } else { 0.0 };
    }
    Projection { coordinates, explained_variance: explained }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_line_is_one_component() {
        let data = array![[0.0, 0.0, 1.0], [1.0, 2.0, 1.0], [2.0, 4.0, 1.0], [3.0, 6.0, 1.0]];
        let p = principal_components(data.view());
        assert!((p.explained_variance[0] - 1.0).abs() < 1e-9, "{:?}", p.explained_variance);
        assert!(p.explained_variance[1].abs() < 1e-9);
        // Distances along the line are kept: consecutive points are √5 apart.
        let gaps: Vec<f64> = (1..4).map(|i| p.coordinates[[i, 0]] - p.coordinates[[i - 1, 0]]).collect();
        assert!(gaps.iter().all(|g| (g - 5f64.sqrt()).abs() < 1e-9), "{gaps:?}");
    }
}
