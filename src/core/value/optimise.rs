//! Nelder–Mead minimisation for the small maximum-likelihood fits of customer
//! value (3–4 parameters, no gradients). Hand-written rather than a crate: it
//! is 80 lines, and a failed fit must report the optimiser's state in the
//! marketer's error message.

/// Where the search ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    pub point: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Minimises `f` from `start` with an initial simplex of side `step`;
/// restarts from the best point until a restart no longer improves (a guard
/// against the simplex collapsing early).
pub fn nelder_mead(f: impl Fn(&[f64]) -> f64, start: &[f64], step: f64, max_iter: usize, tol: f64) -> Minimum {
    let mut best = simplex_search(&f, start, step, max_iter, tol);
    for _ in 0..5 {
        let again = simplex_search(&f, &best.point, step, max_iter, tol);
        let improved = again.value < best.value - tol;
        let iterations = best.iterations + again.iterations;
        if again.value <= best.value {
            best = Minimum { iterations, ..again };
        } else {
            best.iterations = iterations;
        }
        if !improved {
            break;
        }
    }
    best
}

fn simplex_search(f: &impl Fn(&[f64]) -> f64, start: &[f64], step: f64, max_iter: usize, tol: f64) -> Minimum {
    let n = start.len();
    let value = |x: &[f64]| {
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((start.to_vec(), value(start)));
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] += step;
        let v = value(&x);
        simplex.push((x, v));
    }
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (lo, hi) = (simplex[0].1, simplex[n].1);
        if (hi - lo).abs() <= tol * (1.0 + lo.abs()) {
            converged = true;
            break;
        }
        let centroid: Vec<f64> =
            (0..n).map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64).collect();
        let along =
            |t: f64| -> Vec<f64> { (0..n).map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j])).collect() };
        let reflected = along(-1.0);
        let fr = value(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(-2.0);
            let fe = value(&expanded);
            simplex[n] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = if fr < simplex[n].1 { along(-0.5) } else { along(0.5) };
            let fc = value(&contracted);
            if fc < simplex[n].1.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                // Shrink towards the best point.
                let best = simplex[0].0.clone();
                for (x, v) in simplex.iter_mut().skip(1) {
                    for j in 0..n {
                        x[j] = best[j] + 0.5 * (x[j] - best[j]);
                    }
                    *v = value(x);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (point, value) = simplex.swap_remove(0);
    Minimum { point, value, iterations, converged }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_valley_floor() {
        let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(rosenbrock, &[-1.2, 1.0], 0.5, 5000, 1e-14);
        assert!(m.converged);
        assert!((m.point[0] - 1.0).abs() < 1e-4 && (m.point[1] - 1.0).abs() < 1e-4, "{m:?}");
    }
}
