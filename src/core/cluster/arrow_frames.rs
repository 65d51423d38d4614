//! Query results (Arrow record batches) as polars columns. The two speak
//! different Arrow crates, so values are copied across, one column at a
//! time, in the type the customer table wants.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType as ArrowType, Float64Type, Int8Type, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;
use polars::prelude::*;

/// The type a result column is copied into.
#[derive(Clone, Copy, Debug)]
pub enum Want {
    Text,
    Categorical,
    I64,
    I8,
    U32,
    F64,
}

fn arrow_error(name: &str, e: impl std::fmt::Display) -> PolarsError {
    polars_err!(ComputeError: "result column '{name}': {e}")
}

/// Column `name` of every batch, in batch order, as a polars column.
pub fn column(batches: &[RecordBatch], name: &str, want: Want) -> PolarsResult<Column> {
    let arrays = batches
        .iter()
        .map(|b| b.column_by_name(name).cloned().ok_or_else(|| arrow_error(name, "missing from the result")))
        .collect::<PolarsResult<Vec<_>>>()?;
    let to = match want {
        Want::Text | Want::Categorical => ArrowType::Utf8,
        Want::I64 | Want::U32 => ArrowType::Int64,
        Want::I8 => ArrowType::Int8,
        Want::F64 => ArrowType::Float64,
    };
    let arrays =
        arrays.iter().map(|a| cast(a, &to).map_err(|e| arrow_error(name, e))).collect::<PolarsResult<Vec<_>>>()?;
    let name = PlSmallStr::from(name);
    let series = match want {
        Want::Text | Want::Categorical => {
            let values: StringChunked = arrays.iter().flat_map(|a| a.as_string::<i32>().iter()).collect();
            let s = values.with_name(name).into_series();
            if matches!(want, Want::Categorical) { s.cast(&crate::core::events::category_dtype())? } else { s }
        }
        Want::I64 => {
            let values: Int64Chunked = arrays.iter().flat_map(|a| a.as_primitive::<Int64Type>().iter()).collect();
            values.with_name(name).into_series()
        }
        Want::U32 => {
            let values: UInt32Chunked = arrays
                .iter()
                .flat_map(|a| {
                    a.as_primitive::<Int64Type>().iter().map(|v| v.map(|x| x.clamp(0, u32::MAX as i64) as u32))
                })
                .collect();
            values.with_name(name).into_series()
        }
        Want::I8 => {
            let values: Int8Chunked = arrays.iter().flat_map(|a| a.as_primitive::<Int8Type>().iter()).collect();
            values.with_name(name).into_series()
        }
        Want::F64 => {
            let values: Float64Chunked = arrays.iter().flat_map(|a| a.as_primitive::<Float64Type>().iter()).collect();
            values.with_name(name).into_series()
        }
    };
    Ok(series.into_column())
}

/// The named columns of the batches as one data frame.
pub fn frame(batches: &[RecordBatch], columns: &[(&str, Want)]) -> PolarsResult<DataFrame> {
    let height = batches.iter().map(RecordBatch::num_rows).sum();
    let columns = columns.iter().map(|&(name, want)| column(batches, name, want)).collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, columns)
}
