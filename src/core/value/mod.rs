//! Customer value (DATA.md §5): BG/NBD for how often customers will buy and
//! whether they are still active, Gamma-Gamma for how much they spend, and
//! CLV over a horizon.

pub mod bgnbd;
pub mod gamma_gamma;
pub mod optimise;
pub mod special;

use polars::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::core::events::{EventTable, col_name, is_kind};
use crate::core::import::parse::{EventKind, format_ms};
pub use bgnbd::BgNbd;
pub use gamma_gamma::GammaGamma;

const MS_PER_DAY: i64 = 86_400_000;

#[derive(Debug, Error)]
pub enum ValueError {
    #[error(
        "too few buyers to fit customer value: {buyers} buyers, {repeaters} of them with repeat purchases (need at least 10 and 5); use a longer history"
    )]
    TooFewBuyers { buyers: usize, repeaters: usize },
    #[error(
        "the {model} fit did not converge after {iterations} iterations (log-likelihood {log_likelihood:.3} at {state}); try --time-unit week, a longer history, or an earlier --as-of"
    )]
    NoConvergence { model: &'static str, iterations: usize, log_likelihood: f64, state: String },
    #[error(
        "spend per purchase varies too little between customers for the Gamma-Gamma model (q ran to {q:.0} at p={p:.4}, v={v:.1}): every customer looks like the average spender, so CLV cannot be told apart by spend"
    )]
    NoSpendHeterogeneity { p: f64, q: f64, v: f64 },
    #[error("no purchase orders on or before {as_of}")]
    NoPurchases { as_of: String },
    #[error("computing customer histories failed: {0}")]
    Table(#[from] PolarsError),
}

/// The time unit of x, t_x and T.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Day,
    Week,
}

impl TimeUnit {
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }
}

/// Per buyer, from purchase orders up to `as_of`: x = distinct purchase days − 1,
/// t_x = last − first purchase day, T = as_of − first purchase day (in the
/// time unit), and the mean spend per repeat purchase day.
#[derive(Clone, Debug, Default)]
pub struct CustomerHistory {
    pub customer_ids: Vec<String>,
    pub x: Vec<f64>,
    pub t_x: Vec<f64>,
    pub big_t: Vec<f64>,
    /// Mean amount of the purchase lines per purchase day, the first day left
    /// out; None without repeat days.
    pub mean_spend: Vec<Option<f64>>,
}

impl CustomerHistory {
    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Distinct (x, t_x, T) with their counts, in a fixed order.
    pub fn grouped(&self) -> Vec<(f64, f64, f64, f64)> {
        let mut keys: Vec<(u64, u64, u64)> =
            (0..self.len()).map(|i| (self.x[i].to_bits(), self.t_x[i].to_bits(), self.big_t[i].to_bits())).collect();
        keys.sort_unstable();
        let mut out: Vec<(f64, f64, f64, f64)> = Vec::new();
        for k in keys {
            let v = (f64::from_bits(k.0), f64::from_bits(k.1), f64::from_bits(k.2));
            match out.last_mut() {
                Some(last) if (last.0, last.1, last.2) == v => last.3 += 1.0,
                _ => out.push((v.0, v.1, v.2, 1.0)),
            }
        }
        out
    }
}

/// Builds the histories of every customer with a purchase order up to `as_of_ms`.
pub fn customer_history(events: &EventTable, as_of_ms: i64, unit: TimeUnit) -> Result<CustomerHistory, ValueError> {
    let events = events.up_to(as_of_ms)?;
    let key = events.customer_key();
    let day = |c: &str| col(c).floor_div(lit(MS_PER_DAY));
    let order_days =
        events.purchase_orders().select([col(key), day("order_ms").alias("day")]).unique(None, UniqueKeepStrategy::Any);
    // Spend per purchase day: purchase lines (returns included) on days with a purchase order.
    let spend = events
        .df
        .clone()
        .lazy()
        .filter(is_kind(EventKind::Purchase))
        .group_by([col(key), day(col_name::TIMESTAMP_MS).alias("day")])
        .agg([col(col_name::AMOUNT).sum().alias("spend")]);
    let ids = if events.has_customer_key {
        col(key).cast(DataType::String).alias("customer_id")
    } else {
        col(key).alias("customer_id")
    };
    let df = order_days
        .join(spend, [col(key), col("day")], [col(key), col("day")], JoinArgs::new(JoinType::Left))
        .sort([key, "day"], SortMultipleOptions::default())
        .group_by([col(key)])
        .agg([
            col("day").min().alias("first"),
            col("day").max().alias("last"),
            len().alias("days"),
            col("spend").fill_null(lit(0.0)).slice(lit(1), lit(u32::MAX as i64)).mean().alias("mean_spend"),
        ])
        .select([ids, col("first"), col("last"), col("days"), col("mean_spend")])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    if df.height() == 0 {
        return Err(ValueError::NoPurchases { as_of: format_ms(as_of_ms) });
    }
    let as_of_days = as_of_ms as f64 / MS_PER_DAY as f64;
    let u = unit.days();
    let get_i64 = |name: &str| -> Result<Vec<i64>, ValueError> {
        let c = df.column(name)?.cast(&DataType::Int64)?;
        let c = c.i64()?;
        Ok((0..c.len()).map(|i| c.get(i).unwrap_or(0)).collect())
    };
    let (first, last, days) = (get_i64("first")?, get_i64("last")?, get_i64("days")?);
    let ids = df.column("customer_id")?.str()?.clone();
    let spend = df.column("mean_spend")?.cast(&DataType::Float64)?;
    let spend = spend.f64()?;
    Ok(CustomerHistory {
        customer_ids: (0..ids.len()).map(|i| ids.get(i).unwrap_or_default().to_string()).collect(),
        x: days.iter().map(|&d| (d - 1) as f64).collect(),
        t_x: first.iter().zip(&last).map(|(&f, &l)| (l - f) as f64 / u).collect(),
        big_t: first.iter().map(|&f| (as_of_days - f as f64) / u).collect(),
        mean_spend: (0..spend.len()).map(|i| spend.get(i).filter(|v| v.is_finite())).collect(),
    })
}

/// Both models fitted, and what they say about every buyer.
#[derive(Clone, Debug)]
pub struct CustomerValue {
    pub history: CustomerHistory,
    pub bgnbd: BgNbd,
    pub gamma_gamma: GammaGamma,
    pub unit: TimeUnit,
    pub horizon_days: f64,
    pub margin: f64,
    pub p_alive: Vec<f64>,
    pub expected_purchases: Vec<f64>,
    pub expected_spend: Vec<Option<f64>>,
    pub clv: Vec<Option<f64>>,
}

/// The parameters written by `value --params-out`.
#[derive(Clone, Debug, Serialize)]
pub struct ValueParams {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub p: f64,
    pub q: f64,
    pub v: f64,
    pub time_unit: TimeUnit,
    pub as_of: String,
    pub customers: usize,
    pub repeat_purchases: f64,
    pub bgnbd_log_likelihood: f64,
    pub gamma_gamma_log_likelihood: f64,
    pub gamma_gamma_customers: usize,
}

/// Fits both models and scores every buyer over `horizon_days`.
pub fn customer_value(
    events: &EventTable,
    as_of_ms: i64,
    unit: TimeUnit,
    horizon_days: f64,
    margin: f64,
) -> Result<CustomerValue, ValueError> {
    let history = {
        let _t = crate::core::trace::phase("value: histories");
        customer_history(events, as_of_ms, unit)?
    };
    let bgnbd = {
        let _t = crate::core::trace::phase("value: BG/NBD fit");
        bgnbd::fit(&history)?
    };
    let gamma_gamma = {
        let _t = crate::core::trace::phase("value: Gamma-Gamma fit");
        gamma_gamma::fit(&history)?
    };
    let horizon = horizon_days / unit.days();
    let n = history.len();
    let p_alive: Vec<f64> = (0..n).map(|i| bgnbd.p_alive(history.x[i], history.t_x[i], history.big_t[i])).collect();
    let expected_purchases: Vec<f64> =
        (0..n).map(|i| bgnbd.expected_purchases(history.x[i], history.t_x[i], history.big_t[i], horizon)).collect();
    let expected_spend: Vec<Option<f64>> = (0..n)
        .map(|i| {
            let m = history.mean_spend[i].filter(|m| *m > 0.0 && history.x[i] > 0.0);
            gamma_gamma.expected_spend(if m.is_some() { history.x[i] } else { 0.0 }, m.unwrap_or(0.0))
        })
        .collect();
    let clv = (0..n).map(|i| expected_spend[i].map(|s| s * expected_purchases[i] * margin)).collect();
    Ok(CustomerValue {
        history,
        bgnbd,
        gamma_gamma,
        unit,
        horizon_days,
        margin,
        p_alive,
        expected_purchases,
        expected_spend,
        clv,
    })
}

impl CustomerValue {
    pub fn params(&self, as_of_ms: i64) -> ValueParams {
        ValueParams {
            r: self.bgnbd.r,
            alpha: self.bgnbd.alpha,
            a: self.bgnbd.a,
            b: self.bgnbd.b,
            p: self.gamma_gamma.p,
            q: self.gamma_gamma.q,
            v: self.gamma_gamma.v,
            time_unit: self.unit,
            as_of: format_ms(as_of_ms),
            customers: self.history.len(),
            repeat_purchases: self.history.x.iter().sum(),
            bgnbd_log_likelihood: self.bgnbd.log_likelihood,
            gamma_gamma_log_likelihood: self.gamma_gamma.log_likelihood,
            gamma_gamma_customers: self.gamma_gamma.customers,
        }
    }

    /// One row per buyer: `customer_id, x, t_x, T, mean_spend, p_alive,
    /// expected_purchases, expected_spend, clv` (x, t_x, T in the time unit).
    pub fn to_frame(&self) -> PolarsResult<DataFrame> {
        let h = &self.history;
        DataFrame::new(
            h.len(),
            vec![
                StringChunked::from_iter_values("customer_id".into(), h.customer_ids.iter().map(String::as_str))
                    .into_column(),
                Float64Chunked::from_slice("x".into(), &h.x).into_column(),
                Float64Chunked::from_slice("t_x".into(), &h.t_x).into_column(),
                Float64Chunked::from_slice("T".into(), &h.big_t).into_column(),
                Float64Chunked::from_slice_options("mean_spend".into(), &h.mean_spend).into_column(),
                Float64Chunked::from_slice("p_alive".into(), &self.p_alive).into_column(),
                Float64Chunked::from_slice("expected_purchases".into(), &self.expected_purchases).into_column(),
                Float64Chunked::from_slice_options("expected_spend".into(), &self.expected_spend).into_column(),
                Float64Chunked::from_slice_options("clv".into(), &self.clv).into_column(),
            ],
        )
    }
}
