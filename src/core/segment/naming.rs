//! Human names for segments, derived from how each segment's recency,
//! frequency and spend compare with all buyers', and a one-sentence
//! description in the marketer's words.

/// The averages of one segment, in the features' own units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SegmentAverages {
    pub recency_days: f64,
    pub frequency: f64,
    pub monetary: f64,
}

/// Where a segment sits among all buyers, in standard deviations of
/// recency, log(1 + frequency) and log(1 + spend): negative recency is recent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub recency: f64,
    pub frequency: f64,
    pub monetary: f64,
}

/// Archetypes in the same coordinates. Each segment gets the nearest free one.
const ARCHETYPES: [(&str, [f64; 3]); 9] = [
    ("Champions", [-0.8, 1.5, 1.5]),
    ("Loyal regulars", [-0.4, 0.9, 0.6]),
    ("Big spenders", [0.0, 0.2, 1.2]),
    ("New customers", [-1.0, -0.8, -0.4]),
    ("Promising", [-0.6, -0.2, 0.0]),
    ("Need attention", [0.1, 0.0, -0.1]),
    ("At risk", [0.9, 0.5, 0.5]),
    ("Hibernating", [0.9, -0.6, -0.5]),
    ("Lost", [1.6, -0.9, -0.9]),
];

/// The name of customers who never bought (segment −1).
pub const NO_PURCHASE_YET: &str = "No purchase yet";

/// One name per position, unique: the closest (segment, archetype) pair is
/// fixed first, then the next closest among what is left. Segments beyond the
/// archetypes are named after the nearest one with a number.
pub fn name_segments(positions: &[Position]) -> Vec<String> {
    let mut names: Vec<Option<String>> = vec![None; positions.len()];
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (s, p) in positions.iter().enumerate() {
        for (a, (_, proto)) in ARCHETYPES.iter().enumerate() {
            let d = (p.recency - proto[0]).powi(2) + (p.frequency - proto[1]).powi(2) + (p.monetary - proto[2]).powi(2);
            pairs.push((d, s, a));
        }
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut used = [false; ARCHETYPES.len()];
    for &(_, s, a) in &pairs {
        if names[s].is_none() && !used[a] {
            names[s] = Some(ARCHETYPES[a].0.to_string());
            used[a] = true;
        }
    }
    // More segments than archetypes: number the repeats of the nearest name.
    let mut taken: Vec<String> = names.iter().flatten().cloned().collect();
    for (s, name) in names.iter_mut().enumerate() {
        if name.is_none() {
            let nearest = pairs.iter().find(|&&(_, seg, _)| seg == s).map_or("Segment", |&(_, _, a)| ARCHETYPES[a].0);
            let mut n = 2;
            while taken.contains(&format!("{nearest} {n}")) {
                n += 1;
            }
            *name = Some(format!("{nearest} {n}"));
            taken.push(format!("{nearest} {n}"));
        }
    }
    names.into_iter().map(Option::unwrap_or_default).collect()
}

/// "Bought 6.2 times, last 40 days ago on average; spends 3.1× the average buyer."
pub fn describe(segment: &SegmentAverages, all_buyers: &SegmentAverages) -> String {
    let ratio = if all_buyers.monetary > 0.0 { segment.monetary / all_buyers.monetary } else { 0.0 };
    let times = if (segment.frequency - 1.0).abs() < 0.05 {
        "once".to_string()
    } else {
        format!("{:.1} times", segment.frequency)
    };
    // Small ratios keep two significant digits: "0.04×", not "0.0×".
    let spends = if ratio < 0.095 { format!("{ratio:.2}×") } else { format!("{ratio:.1}×") };
    format!(
        "Bought {times}, the last time {:.0} days ago on average; spends {spends} the average buyer.",
        segment.recency_days
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(recency: f64, frequency: f64, monetary: f64) -> Position {
        Position { recency, frequency, monetary }
    }

    #[test]
    fn names_follow_the_centroids() {
        let names = name_segments(&[
            at(1.7, -1.0, -1.0),  // long gone, bought little
            at(-0.9, 1.6, 1.7),   // recent, often, much
            at(-1.1, -0.9, -0.5), // recent, first purchase
            at(0.8, 0.6, 0.4),    // used to buy a lot, not lately
        ]);
        assert_eq!(names, ["Lost", "Champions", "New customers", "At risk"]);
    }

    #[test]
    fn names_are_unique_even_for_twins_and_many_segments() {
        let same = at(-0.8, 1.5, 1.5);
        let names = name_segments(&vec![same; 12]);
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 12, "{names:?}");
        assert_eq!(names[0], "Champions");
    }

    #[test]
    fn descriptions_speak_plainly() {
        let all = SegmentAverages { recency_days: 120.0, frequency: 3.0, monetary: 300.0 };
        let seg = SegmentAverages { recency_days: 40.2, frequency: 6.0, monetary: 930.0 };
        assert_eq!(
            describe(&seg, &all),
            "Bought 6.0 times, the last time 40 days ago on average; spends 3.1× the average buyer."
        );
        let once = SegmentAverages { recency_days: 300.0, frequency: 1.0, monetary: 60.0 };
        assert!(describe(&once, &all).starts_with("Bought once,"));
        let small = SegmentAverages { recency_days: 300.0, frequency: 1.0, monetary: 12.0 };
        assert!(describe(&small, &all).ends_with("spends 0.04× the average buyer."));
    }
}
