//! RFM rule segments: the transparent alternative to k-means. Recency,
//! frequency and monetary quintile scores 1–5 among buyers, and the classic
//! named groups from R and FM = round((F + M) / 2).

use serde::Serialize;

/// The classic RFM groups, in the order their rules are tried.
pub const RFM_GROUPS: [&str; 11] = [
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "Can't lose them",
    "At risk",
    "Hibernating",
    "Lost",
];

/// One buyer's scores and group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RfmScore {
    pub r: u8,
    pub f: u8,
    pub m: u8,
    /// Index into [`RFM_GROUPS`].
    pub group: usize,
}

/// Quintile scores: 1 + ⌊5 × (share of buyers strictly below)⌋, so ties share a score.
fn quintiles(values: &[f64], higher_is_better: bool) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    values
        .iter()
        .map(|&v| {
            let below = if higher_is_better {
                sorted.partition_point(|&x| x < v)
            } else {
                values.len() - sorted.partition_point(|&x| x <= v)
            };
            1 + ((5.0 * below as f64 / n).floor() as u8).min(4)
        })
        .collect()
}

/// The group of an (R, FM) pair; every pair has exactly one.
pub fn rfm_group(r: u8, fm: u8) -> usize {
    match (r, fm) {
        (4..=5, 4..=5) => 0,
        (3, 3..=5) | (4..=5, 3) => 1,
        (4..=5, 2) => 2,
        (5, ..=1) => 3,
        (4, ..=1) => 4,
        (3, 2) => 5,
        (3, ..=1) => 6,
        (..=2, 5..) => 7,
        (..=2, 3..=4) => 8,
        (2, ..=2) => 9,
        _ => 10,
    }
}

/// The combined frequency-monetary score: the mean of F and M, rounded up.
pub fn fm_score(f: u8, m: u8) -> u8 {
    (f + m).div_ceil(2)
}

/// Scores for buyers given their recency (days), frequency and monetary value.
pub fn rfm_scores(recency_days: &[f64], frequency: &[f64], monetary: &[f64]) -> Vec<RfmScore> {
    let r = quintiles(recency_days, false);
    let f = quintiles(frequency, true);
    let m = quintiles(monetary, true);
    (0..r.len())
        .map(|i| {
            let fm = fm_score(f[i], m[i]);
            RfmScore { r: r[i], f: f[i], m: m[i], group: rfm_group(r[i], fm) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_on_a_hand_made_table() {
        // Ten buyers: recency 1..10 days, frequency 10..1, monetary in steps.
        let recency: Vec<f64> = (1..=10).map(f64::from).collect();
        let frequency: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        let monetary = [500.0, 400.0, 400.0, 300.0, 200.0, 150.0, 100.0, 50.0, 20.0, 10.0];
        let s = rfm_scores(&recency, &frequency, &monetary);
        // The most recent two buyers score R = 5, the least recent two R = 1.
        assert_eq!(s.iter().map(|x| x.r).collect::<Vec<_>>(), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
        assert_eq!(s.iter().map(|x| x.f).collect::<Vec<_>>(), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
        // Ties share a score: both 400s are above 7 of 10 values → M = 1 + ⌊3.5⌋ = 4.
        assert_eq!(s.iter().map(|x| x.m).collect::<Vec<_>>(), [5, 4, 4, 4, 3, 3, 2, 2, 1, 1]);
        assert_eq!(RFM_GROUPS[s[0].group], "Champions");
        assert_eq!(RFM_GROUPS[s[9].group], "Lost");
    }

    #[test]
    fn every_pair_has_one_documented_group() {
        assert_eq!(RFM_GROUPS[rfm_group(5, 1)], "New");
        assert_eq!(RFM_GROUPS[rfm_group(4, 1)], "Promising");
        assert_eq!(RFM_GROUPS[rfm_group(4, 2)], "Potential loyalist");
        assert_eq!(RFM_GROUPS[rfm_group(3, 3)], "Loyal");
        assert_eq!(RFM_GROUPS[rfm_group(3, 2)], "Need attention");
        assert_eq!(RFM_GROUPS[rfm_group(3, 1)], "About to sleep");
        assert_eq!(RFM_GROUPS[rfm_group(1, 5)], "Can't lose them");
        assert_eq!(RFM_GROUPS[rfm_group(2, 4)], "At risk");
        assert_eq!(RFM_GROUPS[rfm_group(2, 2)], "Hibernating");
        assert_eq!(RFM_GROUPS[rfm_group(1, 1)], "Lost");
        for r in 1..=5 {
            for fm in 1..=5 {
                assert!(rfm_group(r, fm) < RFM_GROUPS.len());
            }
        }
    }
}
