//! The importer's cell rules (DATA.md §1) as DataFusion functions, so that
//! the cluster reads an id, a time, an event type or a number exactly as
//! the local import does: they call the same parsers (`import::parse`).
//! Every node registers them: the client and the scheduler to plan a query
//! that names them, the executors to run it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int8Array, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::core::import::EventKind;
use crate::core::import::parse::{self, NumberCell};

/// Which cell rule a function applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cell {
    /// `ps_id`: an id as text, trimmed, `12346.0` read as `12346`; empty is null.
    Id,
    /// `ps_time_ms`: epoch milliseconds (UTC) of a text or typed time; null if unparseable.
    TimeMs,
    /// `ps_event_code`: the event type's code (view 0, cart 1, purchase 2); null if unknown.
    EventCode,
    /// `ps_number`: a number; null where empty, NaN where not a finite number.
    Number,
    /// `ps_text`: text trimmed; empty is null (categories).
    Text,
}

impl Cell {
    pub const ALL: [Cell; 5] = [Cell::Id, Cell::TimeMs, Cell::EventCode, Cell::Number, Cell::Text];

    pub fn function_name(self) -> &'static str {
        match self {
            Cell::Id => "ps_id",
            Cell::TimeMs => "ps_time_ms",
            Cell::EventCode => "ps_event_code",
            Cell::Number => "ps_number",
            Cell::Text => "ps_text",
        }
    }

    fn return_type(self) -> DataType {
        match self {
            Cell::Id | Cell::Text => DataType::Utf8,
            Cell::TimeMs => DataType::Int64,
            Cell::EventCode => DataType::Int8,
            Cell::Number => DataType::Float64,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CellFunction {
    cell: Cell,
    signature: Signature,
}

/// The five cell functions, for a session or an executor's registry.
pub fn cell_functions() -> Vec<Arc<ScalarUDF>> {
    Cell::ALL
        .into_iter()
        .map(|cell| {
            Arc::new(ScalarUDF::from(CellFunction { cell, signature: Signature::any(1, Volatility::Immutable) }))
        })
        .collect()
}

impl ScalarUDFImpl for CellFunction {
    fn name(&self) -> &str {
        self.cell.function_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.cell.return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let input = &arrays[0];
        let out: ArrayRef = match self.cell {
            Cell::Id => Arc::new(map_text(input, parse::normalise_id)?),
            Cell::Text => Arc::new(map_text(input, |s| Some(s.trim()).filter(|t| !t.is_empty()))?),
            Cell::EventCode => {
                let text = cast(input, &DataType::Utf8)?;
                Arc::new(
                    text.as_string::<i32>()
                        .iter()
                        .map(|v| v.and_then(EventKind::parse).map(EventKind::code))
                        .collect::<Int8Array>(),
                )
            }
            Cell::TimeMs => Arc::new(times_ms(input)?),
            Cell::Number => Arc::new(numbers(input)?),
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Any column as text (numbers written out as the local import writes them), mapped cell by cell.
fn map_text(input: &ArrayRef, rule: impl Fn(&str) -> Option<&str>) -> Result<StringArray> {
    let text = cast(input, &DataType::Utf8)?;
    Ok(text.as_string::<i32>().iter().map(|v| v.and_then(&rule)).collect())
}

/// Typed times and dates as they are (in UTC); anything else as text through
/// the importer's timestamp parser.
fn times_ms(input: &ArrayRef) -> Result<Int64Array> {
    let typed = match input.data_type() {
        DataType::Timestamp(_, zone) => Some(DataType::Timestamp(TimeUnit::Millisecond, zone.clone())),
        DataType::Date32 | DataType::Date64 => Some(DataType::Timestamp(TimeUnit::Millisecond, None)),
        _ => None,
    };
    if let Some(to) = typed {
        let ms = cast(input, &to)?;
        return Ok(ms.as_primitive::<TimestampMillisecondType>().reinterpret_cast());
    }
    let text = cast(input, &DataType::Utf8)?;
    Ok(text.as_string::<i32>().iter().map(|v| v.and_then(parse::parse_timestamp)).collect())
}

/// Typed numbers as they are (non-finite ones invalid), text through the importer's number parser.
fn numbers(input: &ArrayRef) -> Result<Float64Array> {
    let cell_value = |cell: NumberCell| match cell {
        NumberCell::Empty => None,
        NumberCell::Value(v) => Some(v),
        NumberCell::Invalid => Some(f64::NAN),
    };
    if input.data_type().is_numeric() {
        let values = cast(input, &DataType::Float64)?;
        return Ok(values
            .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
            .iter()
            .map(|v| v.map(|x| if x.is_finite() { x } else { f64::NAN }))
            .collect());
    }
    let text = cast(input, &DataType::Utf8)?;
    Ok(text.as_string::<i32>().iter().map(|v| v.and_then(|s| cell_value(parse::parse_number(s)))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cell: Cell, input: ArrayRef) -> ArrayRef {
        let f = CellFunction { cell, signature: Signature::any(1, Volatility::Immutable) };
        let n = input.len();
        let args = ScalarFunctionArgs {
            args: vec![ColumnarValue::Array(input.clone())],
            arg_fields: vec![Arc::new(datafusion::arrow::datatypes::Field::new("x", input.data_type().clone(), true))],
            number_rows: n,
            return_field: Arc::new(datafusion::arrow::datatypes::Field::new("y", cell.return_type(), true)),
            config_options: Arc::new(Default::default()),
        };
        f.invoke_with_args(args).unwrap().into_array(n).unwrap()
    }

    #[test]
    fn cells_read_as_the_local_import_reads_them() {
        let ids = run(Cell::Id, Arc::new(StringArray::from(vec![Some(" 12346.0 "), Some(""), None, Some("C7")])));
        let ids = ids.as_string::<i32>();
        assert_eq!(ids.iter().collect::<Vec<_>>(), vec![Some("12346"), None, None, Some("C7")]);

        let int_ids = run(Cell::Id, Arc::new(Int64Array::from(vec![Some(17), None])));
        assert_eq!(int_ids.as_string::<i32>().iter().collect::<Vec<_>>(), vec![Some("17"), None]);

        let times = run(Cell::TimeMs, Arc::new(StringArray::from(vec![Some("12/1/2010 8:26"), Some("soon"), None])));
        let times = times.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        assert_eq!(times.value(0), parse::parse_timestamp("2010-12-01 08:26").unwrap());
        assert!(times.is_null(1) && times.is_null(2));

        let kinds = run(Cell::EventCode, Arc::new(StringArray::from(vec!["pv", "加购", "buy", "refund"])));
        let kinds = kinds.as_primitive::<datafusion::arrow::datatypes::Int8Type>();
        assert_eq!((kinds.value(0), kinds.value(1), kinds.value(2)), (0, 1, 2));
        assert!(kinds.is_null(3));

        let numbers =
            run(Cell::Number, Arc::new(StringArray::from(vec![Some(" +2.5"), Some(""), Some("abc"), Some("inf")])));
        let numbers = numbers.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        assert_eq!(numbers.value(0), 2.5);
        assert!(numbers.is_null(1));
        assert!(numbers.value(2).is_nan() && numbers.value(3).is_nan());

        let categories = run(Cell::Text, Arc::new(StringArray::from(vec![Some(" Tea "), Some("  "), None])));
        assert_eq!(categories.as_string::<i32>().iter().collect::<Vec<_>>(), vec![Some("Tea"), None, None]);
    }
}
