//! A finished campaign's results (DATA.md §8): one row per customer, the arm
//! they were randomised to, whether they converted, what they spent, and
//! what was known about them. Read once, checked row by row, so that every
//! later step works on plain vectors.

use polars::prelude::*;

use super::CalibrateError;
use crate::core::table::f64_values;

/// Which columns of the table mean what.
#[derive(Clone, Debug, Default)]
pub struct ResultsColumns {
    pub arm: String,
    /// The control arm's name, as written in the arm column.
    pub control: String,
    pub converted: String,
    pub spend: Option<String>,
    /// A numeric column giving each row's offer value (a discount's percent,
    /// an incentive's amount): the arm's response is then fitted as a
    /// function of it.
    pub value: Option<String>,
    /// The attribute columns; None: every other column.
    pub attributes: Option<Vec<String>>,
}

/// One attribute's values, per row.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValues {
    Number(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub values: AttributeValues,
}

/// The results, checked.
#[derive(Clone, Debug)]
pub struct CampaignResults {
    pub customer_ids: Vec<String>,
    /// The arms' names; index 0 is the control.
    pub arms: Vec<String>,
    /// Each row's arm, an index into `arms`.
    pub arm: Vec<usize>,
    pub converted: Vec<bool>,
    /// Spend over the window (list prices), when the table has it.
    pub spend: Option<Vec<f64>>,
    /// The offer value per row, with `ResultsColumns::value`.
    pub value: Option<Vec<Option<f64>>>,
    pub attributes: Vec<Attribute>,
}

impl CampaignResults {
    pub fn len(&self) -> usize {
        self.arm.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arm.is_empty()
    }

    /// The rows of arm `a`.
    pub fn rows_of(&self, a: usize) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.arm[i] == a).collect()
    }

    /// The results of the given rows only (a half, a bootstrap sample).
    pub fn subset(&self, rows: &[usize]) -> CampaignResults {
        let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
        CampaignResults {
            customer_ids: rows.iter().map(|&i| self.customer_ids[i].clone()).collect(),
            arms: self.arms.clone(),
            arm: rows.iter().map(|&i| self.arm[i]).collect(),
            converted: rows.iter().map(|&i| self.converted[i]).collect(),
            spend: self.spend.as_deref().map(pick),
            value: self.value.as_ref().map(|v| rows.iter().map(|&i| v[i]).collect()),
            attributes: self
                .attributes
                .iter()
                .map(|a| Attribute {
                    name: a.name.clone(),
                    values: match &a.values {
                        AttributeValues::Number(v) => AttributeValues::Number(rows.iter().map(|&i| v[i]).collect()),
                        AttributeValues::Text(v) => AttributeValues::Text(rows.iter().map(|&i| v[i].clone()).collect()),
                    },
                })
                .collect(),
        }
    }
}

/// Checks `table` (read from `file`, named in messages) and takes its columns.
pub fn results_from_table(
    table: &DataFrame,
    columns: &ResultsColumns,
    file: &str,
) -> Result<CampaignResults, CalibrateError> {
    let column = |name: &str| {
        table.column(name).map_err(|_| CalibrateError::MissingColumn {
            file: file.to_string(),
            column: name.to_string(),
            found: table.get_column_names().iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
        })
    };
    let n = table.height();
    let customer_ids = match table.column("customer_id") {
        Ok(c) => {
            texts(c)?.into_iter().enumerate().map(|(i, t)| t.unwrap_or_else(|| format!("row {}", i + 1))).collect()
        }
        Err(_) => (1..=n).map(|i| format!("row {i}")).collect(),
    };

    // Arms: the control first, the others in order of first appearance.
    let arm_text = texts(column(&columns.arm)?)?;
    let mut arms = vec![columns.control.clone()];
    let mut arm = Vec::with_capacity(n);
    for (row, value) in arm_text.iter().enumerate() {
        let Some(name) = value.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            return Err(CalibrateError::bad_value(file, &columns.arm, row, "", "an empty arm"));
        };
        let index = match arms.iter().position(|a| a == name) {
            Some(i) => i,
            None => {
                arms.push(name.to_string());
                arms.len() - 1
            }
        };
        arm.push(index);
    }
    if !arm.contains(&0) {
        return Err(CalibrateError::NoControl {
            file: file.to_string(),
            column: columns.arm.clone(),
            control: columns.control.clone(),
            arms: arms[1..].join(", "),
        });
    }
    if arms.len() < 2 {
        return Err(CalibrateError::NoTreatedArm { file: file.to_string(), column: columns.arm.clone() });
    }

    let outcome = column(&columns.converted)?;
    let not_binary = |row: usize, shown: &str| {
        CalibrateError::bad_value(file, &columns.converted, row, shown, "an outcome of 0 or 1")
    };
    // Numbers are checked as numbers; text ("yes", "true") word by word.
    let converted = if outcome.dtype().is_primitive_numeric() {
        f64_values(outcome)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| match v {
                Some(1.0) => Ok(true),
                Some(0.0) => Ok(false),
                other => Err(not_binary(row, &other.map(format_number).unwrap_or_default())),
            })
            .collect::<Result<Vec<bool>, _>>()?
    } else {
        texts(outcome)?
            .iter()
            .enumerate()
            .map(|(row, v)| {
                let shown = v.as_deref().unwrap_or("");
                match shown.trim().to_ascii_lowercase().as_str() {
                    "1" | "1.0" | "true" | "yes" => Ok(true),
                    "0" | "0.0" | "false" | "no" => Ok(false),
                    _ => Err(not_binary(row, shown)),
                }
            })
            .collect::<Result<Vec<bool>, _>>()?
    };

    let numbers = |name: &str, what: &str| -> Result<Vec<Option<f64>>, CalibrateError> {
        let c = column(name)?;
        let values = numbers_of(c);
        match values {
            Ok(v) => Ok(v),
            Err((row, text)) => Err(CalibrateError::bad_value(file, name, row, &text, what)),
        }
    };
    let spend = match &columns.spend {
        Some(name) => {
            let values = numbers(name, "a spend amount (a number, 0 or more)")?;
            let mut spend = Vec::with_capacity(n);
            for (row, v) in values.into_iter().enumerate() {
                match v {
                    Some(x) if x >= 0.0 && x.is_finite() => spend.push(x),
                    // No spend recorded: nothing bought in the window.
                    None => spend.push(0.0),
                    Some(x) => {
                        return Err(CalibrateError::bad_value(
                            file,
                            name,
                            row,
                            &x.to_string(),
                            "a spend amount (a number, 0 or more)",
                        ));
                    }
                }
            }
            Some(spend)
        }
        None => None,
    };
    let value = match &columns.value {
        Some(name) => {
            let values = numbers(name, "an offer value (a number)")?;
            if let Some(row) = values.iter().position(|v| v.is_some_and(|x| !x.is_finite() || x < 0.0)) {
                return Err(CalibrateError::bad_value(file, name, row, "", "an offer value of 0 or more"));
            }
            Some(values)
        }
        None => None,
    };

    let reserved: Vec<&str> = [Some(columns.arm.as_str()), Some(columns.converted.as_str()), Some("customer_id")]
        .into_iter()
        .chain([columns.spend.as_deref(), columns.value.as_deref()])
        .flatten()
        .collect();
    let names: Vec<String> = match &columns.attributes {
        Some(list) => {
            for name in list {
                column(name)?;
                if reserved.contains(&name.as_str()) {
                    return Err(CalibrateError::ReservedAttribute { column: name.clone() });
                }
            }
            list.clone()
        }
        None => {
            table.get_column_names().iter().map(|c| c.to_string()).filter(|c| !reserved.contains(&c.as_str())).collect()
        }
    };
    let attributes = names
        .into_iter()
        .map(|name| {
            let c = column(&name)?;
            let values = match numbers_of(c) {
                Ok(v) => AttributeValues::Number(v),
                Err(_) => AttributeValues::Text(texts(c)?),
            };
            Ok(Attribute { name, values })
        })
        .collect::<Result<Vec<_>, CalibrateError>>()?;

    Ok(CampaignResults { customer_ids, arms, arm, converted, spend, value, attributes })
}

/// A column as text, numbers written out (1.0 as "1").
fn texts(column: &Column) -> Result<Vec<Option<String>>, CalibrateError> {
    if column.dtype().is_primitive_numeric() {
        let values = f64_values(column)?;
        return Ok(values.into_iter().map(|v| v.map(format_number)).collect());
    }
    let values = column.cast(&DataType::String)?;
    let values = values.str()?;
    Ok((0..values.len()).map(|i| values.get(i).map(str::to_string)).collect())
}

/// 1.0 → "1", 0.5 → "0.5": arm names written by a spreadsheet as numbers.
fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

/// A column as numbers; Err names the first row that is not one.
fn numbers_of(column: &Column) -> Result<Vec<Option<f64>>, (usize, String)> {
    if column.dtype().is_primitive_numeric() || column.dtype().is_bool() {
        return f64_values(column).map_err(|e| (0, e.to_string()));
    }
    let values = column.cast(&DataType::String).map_err(|e| (0, e.to_string()))?;
    let values = values.str().map_err(|e| (0, e.to_string()))?;
    (0..values.len())
        .map(|i| match values.get(i).map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text.parse::<f64>().map(Some).map_err(|_| (i, text.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(csv: &str) -> DataFrame {
        CsvReadOptions::default()
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(std::io::Cursor::new(csv.as_bytes().to_vec()))
            .finish()
            .unwrap()
    }

    fn columns() -> ResultsColumns {
        ResultsColumns {
            arm: "arm".into(),
            control: "control".into(),
            converted: "bought".into(),
            spend: Some("spend".into()),
            ..Default::default()
        }
    }

    #[test]
    fn reads_arms_outcomes_and_attributes() {
        let t = table(
            "customer_id,arm,bought,spend,age,region\nA,10% off,1,20.5,30,north\nB,control,0,,41,south\nC,10% off,0,0,,north\n",
        );
        let r = results_from_table(&t, &columns(), "past.csv").unwrap();
        assert_eq!(r.arms, vec!["control", "10% off"]);
        assert_eq!(r.arm, vec![1, 0, 1]);
        assert_eq!(r.converted, vec![true, false, false]);
        assert_eq!(r.spend, Some(vec![20.5, 0.0, 0.0]));
        assert_eq!(r.attributes.len(), 2);
        assert_eq!(r.attributes[0].values, AttributeValues::Number(vec![Some(30.0), Some(41.0), None]));
        assert!(matches!(r.attributes[1].values, AttributeValues::Text(_)));
    }

    #[test]
    fn bad_input_names_the_column_and_row() {
        let no_control = table("arm,bought,spend\nA,1,2\nB,0,0\n");
        let e = results_from_table(&no_control, &columns(), "past.csv").unwrap_err().to_string();
        assert!(e.contains("control") && e.contains("A, B"), "{e}");

        let not_binary = table("arm,bought,spend\ncontrol,1,2\nA,2,0\n");
        let e = results_from_table(&not_binary, &columns(), "past.csv").unwrap_err().to_string();
        assert!(e.contains("bought") && e.contains("row 2") && e.contains("\"2\""), "{e}");

        let bad_spend = table("arm,bought,spend\ncontrol,1,2\nA,1,lots\n");
        let e = results_from_table(&bad_spend, &columns(), "past.csv").unwrap_err().to_string();
        assert!(e.contains("spend") && e.contains("row 2") && e.contains("lots"), "{e}");

        let missing = table("arm,converted\ncontrol,1\nA,0\n");
        let e = results_from_table(&missing, &columns(), "past.csv").unwrap_err().to_string();
        assert!(e.contains("bought") && e.contains("arm, converted"), "{e}");

        let only_control = table("arm,bought,spend\ncontrol,1,2\n");
        let e = results_from_table(&only_control, &columns(), "past.csv").unwrap_err().to_string();
        assert!(e.contains("only the control"), "{e}");
    }
}
