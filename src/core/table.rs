//! Small bridges from polars columns to plain vectors, for the numeric code
//! (k-means, models) that works on slices.

use polars::prelude::*;

/// A CSV file with a header, every column read as text (ids keep their
/// leading zeros, names their quotes' contents).
pub fn read_text_csv(path: &std::path::Path) -> PolarsResult<DataFrame> {
    LazyCsvReader::new(PlRefPath::try_from_path(path)?)
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()?
        .collect()
}

/// The column as `f64` values (integers converted), nulls as `None`.
pub fn f64_values(column: &Column) -> PolarsResult<Vec<Option<f64>>> {
    let values = column.cast(&DataType::Float64)?;
    Ok(values.f64()?.iter().collect())
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

/// A table as a shop exports it (CSV or Parquet by the file's extension).
/// A CSV column whose every value reads as a number becomes numbers; ids
/// (`customer_id`) and everything else stay text.
pub fn read_table(path: &std::path::Path) -> PolarsResult<DataFrame> {
    let is_parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if is_parquet {
        let file = std::fs::File::open(path)?;
        return ParquetReader::new(file).finish();
    }
    let text = read_text_csv(path)?;
    let columns = text
        .columns()
        .iter()
        .map(|column| {
            let as_number = column.cast(&DataType::Float64).ok().filter(|c| c.null_count() == column.null_count());
            match as_number {
                Some(numbers) if column.name().as_str() != "customer_id" => numbers,
                _ => column.clone(),
            }
        })
        .collect();
    DataFrame::new(text.height(), columns)
}
