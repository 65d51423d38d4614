//! Gaussian blobs for clustering benchmarks: `centers` seeded centres in
//! [−10, 10]^dims, each row a centre plus unit-variance noise.

use ndarray::Array2;
use polars::prelude::*;
use rand::prelude::*;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::core::table::f64_values;

const BLOCK: usize = 65_536;

/// The blobs as a table with columns x0, x1, ….
pub fn blobs(rows: usize, dims: usize, centers: usize, seed: u64) -> PolarsResult<DataFrame> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let centres: Vec<f64> = (0..centers * dims).map(|_| rng.gen_range(-10.0..10.0)).collect();
    // Column-major values, generated in seeded blocks (thread-count independent).
    let blocks: Vec<Vec<f64>> = (0..rows.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let n = BLOCK.min(rows - b * BLOCK);
            let mut out = Vec::with_capacity(n * dims);
            for _ in 0..n {
                let c = rng.gen_range(0..centers);
                for j in 0..dims {
                    let noise: f64 = rng.sample(StandardNormal);
                    out.push(centres[c * dims + j] + noise);
                }
            }
            out
        })
        .collect();
    let columns: Vec<Column> = (0..dims)
        .map(|j| {
            let values: Vec<f64> = blocks.iter().flat_map(|b| b.iter().skip(j).step_by(dims).copied()).collect();
            Float64Chunked::from_vec(format!("x{j}").into(), values).into_column()
        })
        .collect();
    DataFrame::new(rows, columns)
}

/// Reads the numeric columns of a Parquet file as a row-major matrix.
pub fn read_matrix(path: &std::path::Path) -> PolarsResult<Array2<f64>> {
    let df = LazyFrame::scan_parquet(PlRefPath::try_from_path(path)?, ScanArgsParquet::default())?.collect()?;
    let numeric: Vec<Vec<f64>> = df
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| Ok(f64_values(c)?.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect()))
        .collect::<PolarsResult<_>>()?;
    let (n, d) = (df.height(), numeric.len());
    Ok(Array2::from_shape_fn((n, d), |(i, j)| numeric[j][i]))
}
