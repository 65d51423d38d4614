//! Small bridges from polars columns to plain vectors, for the numeric code
//! (k-means, models) that works on slices.

use polars::prelude::*;

/// The column as `f64` values (integers converted), nulls as `None`.
pub fn f64_values(column: &Column) -> PolarsResult<Vec<Option<f64>>> {
    let values = column.cast(&DataType::Float64)?;
    let values = values.f64()?;
    Ok((0..values.len()).map(|i| values.get(i)).collect())
}

/// The named column of `df` as `f64` values.
pub fn f64_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    f64_values(df.column(name)?)
}

/// The named column of `df` as text (numbers written out), nulls as "".
pub fn text_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    let values = df.column(name)?.cast(&DataType::String)?;
    let values = values.str()?;
    Ok((0..values.len()).map(|i| values.get(i).unwrap_or_default().to_string()).collect())
}
