//! Penalised regressions on a dense row-major design (intercept first):
//! logistic for P(buy), least squares for log spend. The penalty pulls the
//! coefficients (not the intercept) towards a prior mean: zero for the
//! control arm, the control's coefficients for a treated arm, so that an arm
//! with little data differs from the control only where the data say so.
//! Sums over rows run in fixed chunks added in order: the same result on
//! any number of threads.

use rayon::prelude::*;

const CHUNK: usize = 4096;

/// A penalised fit and its posterior (Laplace) covariance.
#[derive(Clone, Debug)]
pub struct Fit {
    pub coef: Vec<f64>,
    /// Row-major d × d.
    pub covariance: Vec<f64>,
    pub converged: bool,
}

/// The rows to fit, their design and outcomes.
pub struct Data<'a> {
    /// Row-major, `width` values per row, over all rows.
    pub x: &'a [f64],
    pub width: usize,
    pub y: &'a [f64],
    /// Which rows take part (an arm, a fold).
    pub rows: &'a [usize],
}

/// The penalty ½ Σ_j weight_j · (β_j − prior_j)². A small weight on the
/// intercept (worth an observation or so) keeps an arm where nobody (or
/// everybody) bought finite.
pub struct Penalty<'a> {
    pub weights: &'a [f64],
    pub prior: &'a [f64],
}

/// Σ over the chosen rows of f(row): a scalar (f's return), a d-vector and
/// a d × d matrix (f adds into them).
fn accumulate(
    data: &Data,
    f: impl Fn(&[f64], usize, &mut [f64], &mut [f64]) -> f64 + Sync,
) -> (f64, Vec<f64>, Vec<f64>) {
    let d = data.width;
    let parts: Vec<(f64, Vec<f64>, Vec<f64>)> = data
        .rows
        .par_chunks(CHUNK)
        .map(|rows| {
            let (mut total, mut g, mut h) = (0.0, vec![0.0; d], vec![0.0; d * d]);
            for &i in rows {
                total += f(&data.x[i * d..(i + 1) * d], i, &mut g, &mut h);
            }
            (total, g, h)
        })
        .collect();
    let (mut total, mut g, mut h) = (0.0, vec![0.0; d], vec![0.0; d * d]);
    for (pt, pg, ph) in parts {
        total += pt;
        g.iter_mut().zip(pg).for_each(|(a, b)| *a += b);
        h.iter_mut().zip(ph).for_each(|(a, b)| *a += b);
    }
    (total, g, h)
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) }
}

/// Adds the penalty's gradient and curvature.
fn penalise(beta: &[f64], p: &Penalty, g: &mut [f64], h: &mut [f64]) {
    let d = beta.len();
    for j in 0..d {
        g[j] -= p.weights[j] * (beta[j] - p.prior[j]);
        h[j * d + j] += p.weights[j];
    }
}

/// The last point Newton's method accepted: its value, β, the step from it, its curvature.
struct Accepted {
    value: f64,
    beta: Vec<f64>,
    step: Vec<f64>,
    hessian: Vec<f64>,
}

/// Penalised logistic regression by Newton's method with step halving.
pub fn logistic(data: &Data, penalty: &Penalty) -> Option<Fit> {
    let d = data.width;
    // One pass gives the penalised log-likelihood, its gradient and curvature
    // at β; a step that lowers the likelihood is halved from the last good β.
    let pass = |beta: &[f64]| {
        let (ll, mut g, mut h) = accumulate(data, |x, i, g, h| {
            let z = dot(x, beta);
            let p = sigmoid(z);
            let r = data.y[i] - p;
            let w = p * (1.0 - p);
            for a in 0..d {
                g[a] += x[a] * r;
                let wa = w * x[a];
                if wa != 0.0 {
                    for b in 0..=a {
                        h[a * d + b] += wa * x[b];
                    }
                }
            }
            // log σ(z) for y = 1, log σ(−z) for y = 0, computed stably.
            let s = if data.y[i] > 0.5 { z } else { -z };
            -(if s > 0.0 { (-s).exp().ln_1p() } else { -s + s.exp().ln_1p() })
        });
        symmetrise(&mut h, d);
        penalise(beta, penalty, &mut g, &mut h);
        let pen: f64 = (0..d).map(|j| penalty.weights[j] * (beta[j] - penalty.prior[j]).powi(2)).sum();
        (ll - 0.5 * pen, g, h)
    };
    let mut beta = penalty.prior.to_vec();
    let mut accepted: Option<Accepted> = None;
    let mut t = 1.0;
    let mut converged = false;
    for _ in 0..200 {
        let (value, g, h) = pass(&beta);
        // A NaN value counts as worse: the step is halved.
        let worse = |last: f64| value.is_nan() || value < last - 1e-12 * last.abs().max(1.0);
        if let Some(Accepted { value: last, beta: from, step, .. }) = &accepted
            && worse(*last)
        {
            t *= 0.5;
            if t < 1e-9 {
                beta.clone_from(from);
                converged = true;
                break;
            }
            beta = from.iter().zip(step).map(|(b, s)| b + t * s).collect();
            continue;
        }
        let step = solve(&h, &g, d)?;
        let size = step.iter().map(|s| s.abs()).fold(0.0, f64::max);
        let next: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + s).collect();
        accepted = Some(Accepted { value, beta, step, hessian: h });
        t = 1.0;
        beta = next;
        if size < 1e-8 {
            converged = true;
            break;
        }
    }
    let accepted = accepted?;
    // Out of iterations: the last accepted point, not an untried step.
    if !converged {
        beta = accepted.beta;
    }
    let covariance = invert(&accepted.hessian, d)?;
    Some(Fit { coef: beta, covariance, converged })
}

/// The log-likelihood of `beta` on `data` (held-out rows, for choosing λ).
pub fn log_likelihood(data: &Data, beta: &[f64]) -> f64 {
    let d = data.width;
    data.rows
        .iter()
        .map(|&i| {
            let p = sigmoid(dot(&data.x[i * d..(i + 1) * d], beta)).clamp(1e-12, 1.0 - 1e-12);
            if data.y[i] > 0.5 { p.ln() } else { (1.0 - p).ln() }
        })
        .sum()
}

/// Penalised least squares; the covariance is σ² (XᵀX + λ)⁻¹, σ² from the residuals.
pub fn least_squares(data: &Data, penalty: &Penalty) -> Option<(Fit, f64)> {
    let d = data.width;
    let (_, mut g, mut h) = accumulate(data, |x, i, g, h| {
        for a in 0..d {
            g[a] += x[a] * data.y[i];
            for b in 0..=a {
                h[a * d + b] += x[a] * x[b];
            }
        }
        0.0
    });
    symmetrise(&mut h, d);
    let gram = h.clone();
    // Normal equations with the pull towards the prior: (XᵀX + Λ) β = Xᵀy + Λ prior.
    for j in 0..d {
        h[j * d + j] += penalty.weights[j];
        g[j] += penalty.weights[j] * penalty.prior[j];
    }
    let coef = solve(&h, &g, d)?;
    let n = data.rows.len();
    let rss: f64 = data.rows.iter().map(|&i| (data.y[i] - dot(&data.x[i * d..(i + 1) * d], &coef)).powi(2)).sum();
    let inverse = invert(&h, d)?;
    // The residual variance on the effective degrees of freedom,
    // tr((XᵀX + Λ)⁻¹ XᵀX): coefficients held by the penalty do not use up data.
    let used: f64 =
        (0..d).flat_map(|i| (0..d).map(move |j| (i, j))).map(|(i, j)| inverse[i * d + j] * gram[j * d + i]).sum();
    let sigma2 = rss / (n as f64 - used).max(1.0);
    let covariance = inverse.iter().map(|v| v * sigma2).collect();
    Some((Fit { coef, covariance, converged: true }, sigma2))
}

fn symmetrise(h: &mut [f64], d: usize) {
    for a in 0..d {
        for b in 0..a {
            h[b * d + a] = h[a * d + b];
        }
    }
}

/// The Cholesky factor L (row-major, lower) of a symmetric positive definite matrix.
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                let v = a[i * d + i] - s;
                if v <= 0.0 || !v.is_finite() {
                    return None;
                }
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// Solves A x = b for symmetric positive definite A.
fn solve(a: &[f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, d)?;
    let mut y = vec![0.0; d];
    for i in 0..d {
        y[i] = (b[i] - (0..i).map(|k| l[i * d + k] * y[k]).sum::<f64>()) / l[i * d + i];
    }
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        x[i] = (y[i] - (i + 1..d).map(|k| l[k * d + i] * x[k]).sum::<f64>()) / l[i * d + i];
    }
    Some(x)
}

fn invert(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut inverse = vec![0.0; d * d];
    for j in 0..d {
        let mut e = vec![0.0; d];
        e[j] = 1.0;
        let column = solve(a, &e, d)?;
        for i in 0..d {
            inverse[i * d + j] = column[i];
        }
    }
    Some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpenalised_logistic_fit_reproduces_group_rates() {
        // Two groups: 3/10 and 6/10 buy. Intercept + group indicator, no penalty:
        // the fitted rates are the observed ones (the score equations).
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (g, buyers) in [(0.0, 3), (1.0, 6)] {
            for k in 0..10 {
                x.extend([1.0, g]);
                y.push(if k < buyers { 1.0 } else { 0.0 });
            }
        }
        let rows: Vec<usize> = (0..20).collect();
        let data = Data { x: &x, width: 2, y: &y, rows: &rows };
        let fit = logistic(&data, &Penalty { weights: &[0.0, 0.0], prior: &[0.0, 0.0] }).unwrap();
        assert!((sigmoid(fit.coef[0]) - 0.3).abs() < 1e-9);
        assert!((sigmoid(fit.coef[0] + fit.coef[1]) - 0.6).abs() < 1e-9);
        // The intercept's variance is 1 / (n p (1 − p)) on the logit scale.
        assert!((fit.covariance[0] - 1.0 / (10.0 * 0.3 * 0.7)).abs() < 1e-6);
    }

    #[test]
    fn nobody_buying_still_gives_a_finite_estimate() {
        let x = vec![1.0; 12];
        let y = vec![0.0; 12];
        let rows: Vec<usize> = (0..12).collect();
        let data = Data { x: &x, width: 1, y: &y, rows: &rows };
        let fit = logistic(&data, &Penalty { weights: &[0.25], prior: &[-2.0] }).unwrap();
        assert!(fit.coef[0].is_finite() && sigmoid(fit.coef[0]) < 0.05, "{:?}", fit.coef);
        assert!(fit.covariance[0] > 0.1);
    }

    #[test]
    fn least_squares_recovers_a_line() {
        let x: Vec<f64> = (0..50).flat_map(|i| [1.0, i as f64 / 10.0]).collect();
        let y: Vec<f64> =
            (0..50).map(|i| 2.0 + 0.5 * (i as f64 / 10.0) + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
        let rows: Vec<usize> = (0..50).collect();
        let data = Data { x: &x, width: 2, y: &y, rows: &rows };
        let (fit, sigma2) = least_squares(&data, &Penalty { weights: &[0.0, 0.0], prior: &[0.0, 0.0] }).unwrap();
        assert!((fit.coef[0] - 2.0).abs() < 0.05 && (fit.coef[1] - 0.5).abs() < 0.01, "{:?}", fit.coef);
        assert!((sigma2 - 0.0102).abs() < 0.002, "{sigma2}");
    }
}

#[cfg(test)]
mod pinned {
    use super::*;

    #[test]
    fn pinned_coefficients_leave_the_residual_variance_alone() {
        // Ten rows, six inputs held at zero by a huge penalty: one free
        // coefficient, so σ² is the plain variance around the mean (n − 1).
        let d = 7;
        let x: Vec<f64> =
            (0..10).flat_map(|i| (0..d).map(move |j| if j == 0 { 1.0 } else { ((i * j) % 5) as f64 })).collect();
        let y: Vec<f64> = (0..10).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let rows: Vec<usize> = (0..10).collect();
        let mut weights = vec![1e9; d];
        weights[0] = 0.0;
        let prior = vec![0.0; d];
        let (_, sigma2) =
            least_squares(&Data { x: &x, width: d, y: &y, rows: &rows }, &Penalty { weights: &weights, prior: &prior })
                .unwrap();
        assert!((sigma2 - 10.0 / 9.0).abs() < 1e-3, "{sigma2}");
    }
}
