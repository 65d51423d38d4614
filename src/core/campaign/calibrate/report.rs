//! The calibration in words and aligned columns, for the command line.

use super::lift::ObservedLifts;
use super::model::CalibratedResponse;

fn points(x: f64) -> String {
    format!("{:+.1}", x * 100.0)
}

/// One line per arm: customers, conversion, spend, and the lifts with their
/// 95% intervals (conversion in percentage points).
pub fn lifts_table(o: &ObservedLifts) -> String {
    let width = o.arms.iter().map(|a| a.outcome.arm.chars().count()).chain([o.control.arm.chars().count(), 3]).max();
    let w = width.unwrap_or(8);
    let mut out = format!(
        "{:<w$}  {:>9}  {:>10}  {:>26}  {:>14}  {:>26}\n",
        "arm", "customers", "conversion", "lift, points (95% CI)", "spend/customer", "spend lift (95% CI)"
    );
    let spend = |s: Option<f64>| s.map_or_else(|| "-".to_string(), |s| format!("{s:.2}"));
    out.push_str(&format!(
        "{:<w$}  {:>9}  {:>9.1}%  {:>26}  {:>14}  {:>26}\n",
        o.control.arm,
        o.control.customers,
        o.control.conversion_rate * 100.0,
        "(control)",
        spend(o.control.spend_per_customer),
        ""
    ));
    for a in &o.arms {
        let [lo, hi] = a.lift_conversion_ci95;
        let conversion = format!("{} [{}, {}]", points(a.lift_conversion), points(lo), points(hi));
        let spend_lift = match (a.lift_spend, a.lift_spend_ci95) {
            (Some(l), Some([lo, hi])) => format!("{l:+.2} [{lo:+.2}, {hi:+.2}]"),
            (Some(l), None) => format!("{l:+.2}"),
            _ => "-".to_string(),
        };
        out.push_str(&format!(
            "{:<w$}  {:>9}  {:>9.1}%  {:>26}  {:>14}  {:>26}\n",
            a.outcome.arm,
            a.outcome.customers,
            a.outcome.conversion_rate * 100.0,
            conversion,
            spend(a.outcome.spend_per_customer),
            spend_lift
        ));
    }
    out
}

/// How each arm's model was chosen, and where its offer value was tested.
pub fn model_notes(r: &CalibratedResponse) -> Vec<String> {
    let mut notes = vec![format!(
        "model: logistic P(buy) per arm on {} inputs from {} attributes ({}), {} posterior draws",
        r.encoding.inputs.len(),
        r.encoding.attributes().len(),
        r.encoding.attributes().join(", "),
        r.replicates()
    )];
    for a in &r.arms {
        let mut line = format!("  {}: penalty {} (cross-validated)", a.name, a.lambda);
        if let Some(curve) = &a.dose {
            line.push_str(&format!(
                "; response rises with the offer value, tested {}–{} (saturation scale {:.3})",
                curve.tested[0], curve.tested[1], curve.scale
            ));
        } else if let Some(v) = a.tested_value {
            line.push_str(&format!("; tested at value {v}"));
        }
        if let Some(s) = &a.spend {
            line.push_str(&format!("; spend model on {} buyers", s.buyers));
        }
        notes.push(line);
    }
    notes.extend(r.notes.iter().map(|n| format!("note: {n}")));
    notes
}
