//! The uplift (Qini) curve of a calibrated arm: customers ranked by the
//! model's predicted uplift, and for each top share the incremental buyers
//! the campaign's own results show among them — Q(k) = Yt(k) − Yc(k)·Nt(k)/Nc(k),
//! as scikit-uplift draws it. Above the straight line from the origin to the
//! whole campaign's figure, the ranking finds the responsive customers first.

use serde::{Deserialize, Serialize};

use super::model::CalibratedResponse;
use super::results::CampaignResults;

/// Points (share of the arm's and control's customers ranked, incremental buyers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpliftCurve {
    pub arm: String,
    pub points: Vec<[f64; 2]>,
}

/// At most this many points per curve (a plot needs no more).
const POINTS: usize = 101;

/// Each treated arm's curve on `results` (the rows of that arm and the control).
pub fn uplift_curves(response: &CalibratedResponse, results: &CampaignResults) -> Vec<UpliftCurve> {
    let x = response.encoding.encode_all(results.attributes.as_slice(), results.len());
    let w = response.encoding.width();
    (1..results.arms.len())
        .filter_map(|a| {
            let model_arm = response.arm(&results.arms[a])?;
            let value = |i: usize| results.value.as_ref().and_then(|v| v[i]);
            let mut scored: Vec<(f64, bool, bool)> = (0..results.len())
                .filter(|&i| results.arm[i] == a || results.arm[i] == 0)
                .map(|i| {
                    let xi = &x[i * w..(i + 1) * w];
                    let uplift =
                        response.predict(model_arm, xi, value(i), None).p - response.predict(0, xi, value(i), None).p;
                    (uplift, results.arm[i] == a, results.converted[i])
                })
                .collect();
            // Highest predicted uplift first; ties keep the table's order.
            scored.sort_by(|p, q| q.0.total_cmp(&p.0));
            let n = scored.len();
            let (mut nt, mut nc, mut yt, mut yc) = (0.0, 0.0, 0.0, 0.0);
            let mut points = vec![[0.0, 0.0]];
            let every = (n / (POINTS - 1)).max(1);
            for (k, (_, treated, bought)) in scored.iter().enumerate() {
                let b = f64::from(u8::from(*bought));
                if *treated {
                    nt += 1.0;
                    yt += b;
                } else {
                    nc += 1.0;
                    yc += b;
                }
                if (k + 1) % every == 0 || k + 1 == n {
                    let q = if nc > 0.0 { yt - yc * nt / nc } else { yt };
                    points.push([(k + 1) as f64 / n as f64, q]);
                }
            }
            Some(UpliftCurve { arm: results.arms[a].clone(), points })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::campaign::calibrate::model::{CalibrationSettings, calibrate};
    use crate::core::campaign::calibrate::results::{Attribute, AttributeValues};

    #[test]
    fn a_model_that_finds_the_responders_bends_the_curve_above_the_diagonal() {
        // Half the customers (x = 1) respond to the offer (20% → 60%); the others do not.
        let n = 800;
        let x: Vec<Option<f64>> = (0..n).map(|i| Some(f64::from(u8::from(i % 4 < 2)))).collect();
        let arm: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let converted: Vec<bool> = (0..n)
            .map(|i| {
                let responds = arm[i] == 1 && x[i] == Some(1.0);
                // A fixed pattern with the right rates: 3 of 5 for responders, 1 of 5 otherwise.
                if responds { (i / 4) % 5 < 3 } else { (i / 4) % 5 < 1 }
            })
            .collect();
        let results = CampaignResults {
            customer_ids: (0..n).map(|i| i.to_string()).collect(),
            arms: vec!["control".into(), "offer".into()],
            arm,
            converted,
            spend: None,
            value: None,
            attributes: vec![Attribute { name: "x".into(), values: AttributeValues::Number(x) }],
        };
        let response = calibrate(&results, &CalibrationSettings::default()).unwrap();
        let curves = uplift_curves(&response, &results);
        assert_eq!(curves.len(), 1);
        let points = &curves[0].points;
        let end = points.last().unwrap()[1];
        assert!(end > 50.0, "the offer brought buyers: {end}");
        let half = points.iter().find(|p| p[0] >= 0.5).unwrap()[1];
        // All the gain is among the responders, ranked first: at half the customers, (almost) all of it.
        assert!(half > 0.9 * end, "{half} of {end}");
    }
}
