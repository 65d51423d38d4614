//! Tables prepared for browsing: plain vectors a virtualised table can index
//! row by row, with repeated text stored once, and every sort order of the
//! feature table computed up front, so that scrolling and sorting a million
//! rows costs the screen nothing.

use std::collections::HashMap;

use polars::prelude::*;

use crate::core::events::{EventTable, col_name};
use crate::core::import::parse::format_ms;

/// Text with few distinct values (ids, categories), each stored once.
#[derive(Clone, Debug, Default)]
pub struct TextColumn {
    values: Vec<String>,
    /// Index into `values` per row; `u32::MAX` = missing.
    codes: Vec<u32>,
}

impl TextColumn {
    fn encode<'a>(cells: impl Iterator<Item = Option<&'a str>>) -> TextColumn {
        let mut index: HashMap<&'a str, u32> = HashMap::new();
        let mut values = Vec::new();
        let codes = cells
            .map(|cell| match cell {
                None => u32::MAX,
                Some(v) => *index.entry(v).or_insert_with(|| {
                    values.push(v.to_string());
                    (values.len() - 1) as u32
                }),
            })
            .collect();
        TextColumn { values, codes }
    }

    pub fn get(&self, row: usize) -> &str {
        match self.codes.get(row) {
            Some(&c) if c != u32::MAX => &self.values[c as usize],
            _ => "",
        }
    }
}

/// An id column: numbers where every id is an integer, else text.
#[derive(Clone, Debug)]
pub enum IdColumn {
    Number(Vec<u64>),
    Text(TextColumn),
}

impl IdColumn {
    pub fn get(&self, row: usize) -> String {
        match self {
            IdColumn::Number(v) => v.get(row).map(u64::to_string).unwrap_or_default(),
            IdColumn::Text(t) => t.get(row).to_string(),
        }
    }
}

fn text(df: &DataFrame, name: &str) -> PolarsResult<TextColumn> {
    let column = df.column(name)?.cast(&DataType::String)?;
    Ok(TextColumn::encode(column.str()?.iter()))
}

fn id(df: &DataFrame, key: &str, text_name: &str, numeric: bool) -> PolarsResult<IdColumn> {
    if numeric {
        let c = df.column(key)?.cast(&DataType::UInt64)?;
        Ok(IdColumn::Number(c.u64()?.iter().map(|v| v.unwrap_or(0)).collect()))
    } else {
        Ok(IdColumn::Text(text(df, text_name)?))
    }
}

fn numbers(df: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// The loaded events, column by column, in file order.
#[derive(Clone, Debug)]
pub struct EventRows {
    pub file_row: Vec<u32>,
    pub time_ms: Vec<i64>,
    pub customer: IdColumn,
    /// 0 view, 1 cart, 2 purchase.
    pub kind: Vec<i32>,
    pub order: Option<TextColumn>,
    pub item: Option<IdColumn>,
    pub category: Option<TextColumn>,
    pub quantity: Vec<f64>,
    pub price: Option<Vec<f64>>,
    pub amount: Vec<f64>,
}

impl EventRows {
    pub fn from_events(events: &EventTable) -> PolarsResult<EventRows> {
        let df = &events.df;
        let ints = |name: &str| -> PolarsResult<Vec<i64>> {
            let c = df.column(name)?.cast(&DataType::Int64)?;
            Ok(c.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
        };
        Ok(EventRows {
            file_row: ints(col_name::ROW)?.into_iter().map(|v| v as u32).collect(),
            time_ms: ints(col_name::TIMESTAMP_MS)?,
            customer: id(df, events.customer_key(), col_name::CUSTOMER_ID, events.has_customer_key)?,
            kind: ints(col_name::EVENT_CODE)?.into_iter().map(|v| v as i32).collect(),
            order: events.has_order_id.then(|| text(df, col_name::ORDER_ID)).transpose()?,
            item: events
                .has_item_id
                .then(|| id(df, events.item_key(), col_name::ITEM_ID, events.has_item_key))
                .transpose()?,
            category: events.has_category.then(|| text(df, col_name::CATEGORY)).transpose()?,
            quantity: numbers(df, col_name::QUANTITY)?,
            price: events.has_price.then(|| numbers(df, col_name::PRICE)).transpose()?,
            amount: numbers(df, col_name::AMOUNT)?,
        })
    }

    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    pub fn time(&self, row: usize) -> String {
        format_ms(self.time_ms[row])
    }

    pub fn kind_name(&self, row: usize) -> &'static str {
        match self.kind[row] {
            0 => "view",
            1 => "cart",
            _ => "purchase",
        }
    }
}

/// One column of the feature table.
#[derive(Clone, Debug)]
pub enum FeatureValues {
    Number(Vec<Option<f64>>),
    Text(Vec<String>),
}

/// The customer feature table with each column's sort order.
#[derive(Clone, Debug)]
pub struct FeatureRows {
    pub customer_ids: Vec<String>,
    /// Every column but `customer_id`, in the table's order.
    pub columns: Vec<(String, FeatureValues)>,
    /// Per column, the rows in ascending order (missing values last; ties by customer).
    pub ascending: Vec<Vec<u32>>,
    /// Per column, how many rows have a value (they come first in `ascending`).
    present: Vec<usize>,
}

impl FeatureRows {
    pub fn from_frame(df: &DataFrame) -> PolarsResult<FeatureRows> {
        let customer_ids = crate::core::table::text_column(df, "customer_id")?;
        let mut columns = Vec::new();
        for c in df.columns() {
            if c.name() == "customer_id" {
                continue;
            }
            let values = if c.dtype().is_primitive_numeric() {
                FeatureValues::Number(crate::core::table::f64_values(c)?)
            } else {
                FeatureValues::Text(crate::core::table::text_column(df, c.name())?)
            };
            columns.push((c.name().to_string(), values));
        }
        use rayon::prelude::*;
        let ascending = columns
            .par_iter()
            .map(|(_, values)| {
                let mut order: Vec<u32> = (0..customer_ids.len() as u32).collect();
                match values {
                    FeatureValues::Number(v) => order.sort_by(|&a, &b| {
                        let (x, y) = (v[a as usize], v[b as usize]);
                        match (x, y) {
                            (Some(x), Some(y)) => x.total_cmp(&y),
                            (Some(_), None) => std::cmp::Ordering::Less,
                            (None, Some(_)) => std::cmp::Ordering::Greater,
                            (None, None) => std::cmp::Ordering::Equal,
                        }
                        .then(a.cmp(&b))
                    }),
                    // A missing text reads as "": it goes last, as missing numbers do.
                    FeatureValues::Text(v) => order.sort_by_key(|&i| (v[i as usize].is_empty(), &v[i as usize], i)),
                }
                order
            })
            .collect();
        let present = columns
            .iter()
            .map(|(_, values)| match values {
                FeatureValues::Number(v) => v.iter().filter(|x| x.is_some()).count(),
                FeatureValues::Text(v) => v.iter().filter(|t| !t.is_empty()).count(),
            })
            .collect();
        Ok(FeatureRows { customer_ids, columns, ascending, present })
    }

    /// The row shown at `position` when the table is sorted by `column`:
    /// largest first when `descending`, and missing values last either way.
    pub fn sorted_row(&self, column: usize, descending: bool, position: usize) -> usize {
        let order = &self.ascending[column];
        let present = self.present[column];
        let at = match descending {
            false => position,
            true if position < present => present - 1 - position,
            true => position,
        };
        order[at] as usize
    }

    pub fn len(&self) -> usize {
        self.customer_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customer_ids.is_empty()
    }

    /// The names of the numeric columns (what k-means can use).
    pub fn numeric_columns(&self) -> Vec<String> {
        self.columns.iter().filter(|(_, v)| matches!(v, FeatureValues::Number(_))).map(|(n, _)| n.clone()).collect()
    }

    pub fn number(&self, column: &str, row: usize) -> Option<f64> {
        self.columns.iter().find(|(n, _)| n == column).and_then(|(_, v)| match v {
            FeatureValues::Number(v) => v[row],
            FeatureValues::Text(_) => None,
        })
    }

    pub fn row_of(&self, customer_id: &str) -> Option<usize> {
        self.customer_ids.binary_search_by(|c| c.as_str().cmp(customer_id)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_columns_store_each_value_once() {
        let t = TextColumn::encode([Some("a"), Some("b"), None, Some("a")].into_iter());
        assert_eq!(t.values.len(), 2);
        assert_eq!((t.get(0), t.get(1), t.get(2), t.get(3)), ("a", "b", "", "a"));
        assert_eq!(t.get(99), "");
    }

    #[test]
    fn feature_sort_orders_put_missing_last() {
        let df = df!(
            "customer_id" => ["a", "b", "c", "d"],
            "monetary" => [Some(5.0), None, Some(1.0), Some(5.0)],
            "top_category" => [Some("x"), Some("z"), None, Some("x")],
        )
        .unwrap();
        let rows = FeatureRows::from_frame(&df).unwrap();
        assert_eq!(rows.ascending[0], vec![2, 0, 3, 1]);
        assert_eq!(rows.ascending[1], vec![0, 3, 1, 2], "the customer without a top category last");
        let text_descending: Vec<usize> = (0..4).map(|i| rows.sorted_row(1, true, i)).collect();
        assert_eq!(text_descending, vec![1, 3, 0, 2], "z first, the missing one still last");
        let descending: Vec<usize> = (0..4).map(|i| rows.sorted_row(0, true, i)).collect();
        assert_eq!(descending, vec![3, 0, 2, 1], "largest first, the missing one still last");
        let ascending: Vec<usize> = (0..4).map(|i| rows.sorted_row(0, false, i)).collect();
        assert_eq!(ascending, vec![2, 0, 3, 1]);
        assert_eq!(rows.numeric_columns(), vec!["monetary".to_string()]);
        assert_eq!(rows.row_of("c"), Some(2));
    }
}
