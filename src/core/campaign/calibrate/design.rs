//! How attributes become model inputs, fixed at calibration and stored in
//! `response.json`, so that a customer table read later is encoded the same
//! way: numbers standardised (long-tailed amounts on a log scale, a missing
//! value as the mean plus a flag), text as one column per common level.

use std::borrow::Cow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::results::{Attribute, AttributeValues};

/// Levels of a text attribute beyond this many (the rarest) share the baseline.
const MAX_LEVELS: usize = 30;

/// One model input made from an attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// (f(x) − mean) / sd, f = ln(1 + x) when `log`; a missing value gives 0.
    /// f(x) is held within the range calibration saw (`lowest`, `highest`):
    /// the model does not extrapolate a customer beyond anyone it learnt from.
    Number {
        attribute: String,
        log: bool,
        mean: f64,
        sd: f64,
        #[serde(default)]
        lowest: Option<f64>,
        #[serde(default)]
        highest: Option<f64>,
    },
    /// 1 where the attribute is missing.
    Missing { attribute: String },
    /// 1 where the text attribute equals `level`.
    Level { attribute: String, level: String },
}

/// The inputs, in the order of the model's coefficients (after the intercept).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub inputs: Vec<Input>,
}

/// Where a customer's attributes are read from: a results table at
/// calibration, a customer table when a campaign is planned.
pub trait AttributeSource {
    fn number(&self, attribute: &str, row: usize) -> Option<f64>;
    fn text(&self, attribute: &str, row: usize) -> Option<Cow<'_, str>>;
    fn has(&self, attribute: &str) -> bool;
}

impl AttributeSource for [Attribute] {
    fn number(&self, attribute: &str, row: usize) -> Option<f64> {
        match &self.iter().find(|a| a.name == attribute)?.values {
            AttributeValues::Number(v) => v[row],
            AttributeValues::Text(v) => v[row].as_deref().and_then(|t| t.trim().parse().ok()),
        }
    }

    fn text(&self, attribute: &str, row: usize) -> Option<Cow<'_, str>> {
        match &self.iter().find(|a| a.name == attribute)?.values {
            AttributeValues::Number(v) => v[row].map(|x| Cow::Owned(x.to_string())),
            AttributeValues::Text(v) => v[row].as_deref().map(Cow::Borrowed),
        }
    }

    fn has(&self, attribute: &str) -> bool {
        self.iter().any(|a| a.name == attribute)
    }
}

impl Encoding {
    /// The encoding learnt from `attributes` (the rows of a results table).
    pub fn learn(attributes: &[Attribute]) -> Encoding {
        let mut inputs = Vec::new();
        for a in attributes {
            match &a.values {
                AttributeValues::Number(values) => {
                    let known: Vec<f64> = values.iter().flatten().copied().filter(|x| x.is_finite()).collect();
                    let log = long_tailed(&known);
                    let f = |x: f64| if log { x.max(0.0).ln_1p() } else { x };
                    let n = known.len().max(1) as f64;
                    let mean = known.iter().map(|&x| f(x)).sum::<f64>() / n;
                    let var = known.iter().map(|&x| (f(x) - mean).powi(2)).sum::<f64>() / n;
                    // A constant column carries nothing; it is left out.
                    if var > 1e-12 {
                        let lowest = known.iter().map(|&x| f(x)).fold(f64::INFINITY, f64::min);
                        let highest = known.iter().map(|&x| f(x)).fold(f64::NEG_INFINITY, f64::max);
                        inputs.push(Input::Number {
                            attribute: a.name.clone(),
                            log,
                            mean,
                            sd: var.sqrt(),
                            lowest: Some(lowest),
                            highest: Some(highest),
                        });
                    }
                    let missing = values.len() - known.len();
                    if missing > 0 && missing < values.len() {
                        inputs.push(Input::Missing { attribute: a.name.clone() });
                    }
                }
                AttributeValues::Text(values) => {
                    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
                    for v in values.iter().flatten() {
                        *counts.entry(v.as_str()).or_default() += 1;
                    }
                    let mut levels: Vec<(&str, usize)> = counts.into_iter().collect();
                    // Most common first; ties by name, so the encoding is the same on every run.
                    levels.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
                    if levels.len() > 1 {
                        for (level, _) in levels.into_iter().take(MAX_LEVELS) {
                            inputs.push(Input::Level { attribute: a.name.clone(), level: level.to_string() });
                        }
                    }
                }
            }
        }
        Encoding { inputs }
    }

    /// Number of coefficients: the intercept and one per input.
    pub fn width(&self) -> usize {
        1 + self.inputs.len()
    }

    /// The attributes a customer table must have to be scored.
    pub fn attributes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .inputs
            .iter()
            .map(|i| match i {
                Input::Number { attribute, .. } | Input::Missing { attribute } | Input::Level { attribute, .. } => {
                    attribute.as_str()
                }
            })
            .collect();
        names.dedup();
        names
    }

    /// Row `row` of `source` as model inputs, the intercept first, into `out`.
    pub fn encode_into(&self, source: &(impl AttributeSource + ?Sized), row: usize, out: &mut [f64]) {
        out[0] = 1.0;
        for (input, slot) in self.inputs.iter().zip(&mut out[1..]) {
            *slot = match input {
                Input::Number { attribute, log, mean, sd, lowest, highest } => match source.number(attribute, row) {
                    Some(x) if x.is_finite() => {
                        let fx = if *log { x.max(0.0).ln_1p() } else { x };
                        let held = fx.max(lowest.unwrap_or(f64::NEG_INFINITY)).min(highest.unwrap_or(f64::INFINITY));
                        (held - mean) / sd
                    }
                    _ => 0.0,
                },
                Input::Missing { attribute } => {
                    f64::from(u8::from(!source.number(attribute, row).is_some_and(f64::is_finite)))
                }
                Input::Level { attribute, level } => {
                    f64::from(u8::from(source.text(attribute, row).is_some_and(|t| t == level.as_str())))
                }
            };
        }
    }

    /// Every row of `source`, row-major, `width()` values per row.
    pub fn encode_all(&self, source: &(impl AttributeSource + Sync + ?Sized), rows: usize) -> Vec<f64> {
        let w = self.width();
        let mut x = vec![0.0; rows * w];
        x.par_chunks_mut(w).enumerate().for_each(|(row, out)| self.encode_into(source, row, out));
        x
    }
}

/// Non-negative amounts with a long right tail (spend, order counts) are
/// modelled on a log scale, where a linear effect is plausible.
fn long_tailed(values: &[f64]) -> bool {
    if values.is_empty() || values.iter().any(|&x| x < 0.0) {
        return false;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let (median, p99) = (quantile(0.5), quantile(0.99));
    p99 > 5.0 * median.max(f64::MIN_POSITIVE) && p99 > 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs() -> Vec<Attribute> {
        vec![
            Attribute { name: "age".into(), values: AttributeValues::Number(vec![Some(20.0), Some(40.0), None]) },
            Attribute {
                name: "region".into(),
                values: AttributeValues::Text(vec![Some("n".into()), Some("s".into()), Some("n".into())]),
            },
        ]
    }

    #[test]
    fn numbers_are_standardised_missing_flagged_levels_one_hot() {
        let a = attrs();
        let e = Encoding::learn(&a);
        assert_eq!(e.width(), 5);
        let x = e.encode_all(a.as_slice(), 3);
        // age: mean 30, sd 10 (population), missing → 0 and a flag.
        assert_eq!(&x[0..5], &[1.0, -1.0, 0.0, 1.0, 0.0]);
        assert_eq!(&x[5..10], &[1.0, 1.0, 0.0, 0.0, 1.0]);
        assert_eq!(&x[10..15], &[1.0, 0.0, 1.0, 1.0, 0.0]);
        assert_eq!(e.attributes(), vec!["age", "region"]);
    }

    #[test]
    fn a_customer_beyond_the_calibration_range_is_held_at_its_edge() {
        let a = attrs();
        let e = Encoding::learn(&a);
        let later =
            vec![Attribute { name: "age".into(), values: AttributeValues::Number(vec![Some(90.0), Some(5.0)]) }];
        let x = e.encode_all(later.as_slice(), 2);
        // Ages 20 to 40 were seen: 90 reads as 40, 5 as 20.
        assert_eq!((x[1], x[e.width() + 1]), (1.0, -1.0));
    }

    #[test]
    fn long_tails_go_on_a_log_scale() {
        assert!(long_tailed(&[1.0, 1.0, 2.0, 1.0, 100.0]));
        assert!(!long_tailed(&[20.0, 30.0, 40.0]));
        assert!(!long_tailed(&[-1.0, 100.0]));
    }
}
