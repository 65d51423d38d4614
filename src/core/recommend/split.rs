//! The offline protocol's temporal holdout (DATA.md §4).

use super::interactions::Interactions;

/// Training items per customer, and the held-out items of evaluated customers.
#[derive(Clone, Debug, Default)]
pub struct Holdout {
    /// Per customer (same numbering as the interactions): items to train on, sorted.
    pub train: Vec<Vec<u32>>,
    /// Per customer: held-out items (empty = not evaluated).
    pub test: Vec<Vec<u32>>,
}

impl Holdout {
    pub fn evaluated_customers(&self) -> usize {
        self.test.iter().filter(|t| !t.is_empty()).count()
    }
}

/// For every customer with at least 2 distinct items: order them by first
/// purchase time (ties by item id, ascending text), hold out the last ⌈20%⌉
/// (at least 1); everything else is training data.
pub fn temporal_holdout(interactions: &Interactions) -> Holdout {
    holdout_by_time(&interactions.bought)
}

/// [`temporal_holdout`] of per-customer (item, first purchase time) lists.
/// Items are numbered in the order of their ids, so ties by number are ties
/// by id. Used again on training data alone to carve a validation split.
pub fn holdout_by_time(bought: &[Vec<(u32, i64)>]) -> Holdout {
    let mut train = Vec::with_capacity(bought.len());
    let mut test = Vec::with_capacity(bought.len());
    for items in bought {
        if items.len() < 2 {
            train.push(items.iter().map(|b| b.0).collect());
            test.push(Vec::new());
            continue;
        }
        let mut ordered: Vec<(i64, u32)> = items.iter().map(|&(item, t)| (t, item)).collect();
        ordered.sort_unstable();
        let held = (items.len() as f64 * 0.2).ceil().max(1.0) as usize;
        let cut = ordered.len() - held;
        let mut tr: Vec<u32> = ordered[..cut].iter().map(|o| o.1).collect();
        let mut te: Vec<u32> = ordered[cut..].iter().map(|o| o.1).collect();
        tr.sort_unstable();
        te.sort_unstable();
        train.push(tr);
        test.push(te);
    }
    Holdout { train, test }
}

/// The protocol's split as a table: customer_id, item_id, part (`train` or `test`).
pub fn split_table(interactions: &Interactions) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let holdout = temporal_holdout(interactions);
    let mut rows: Vec<(&str, &str, &str)> = Vec::new();
    for (c, id) in interactions.customers.iter().enumerate() {
        for (part, items) in [("train", &holdout.train[c]), ("test", &holdout.test[c])] {
            rows.extend(items.iter().map(|&i| (id.as_str(), interactions.items[i as usize].as_str(), part)));
        }
    }
    DataFrame::new(
        rows.len(),
        vec![
            StringChunked::from_iter_values("customer_id".into(), rows.iter().map(|r| r.0)).into_column(),
            StringChunked::from_iter_values("item_id".into(), rows.iter().map(|r| r.1)).into_column(),
            StringChunked::from_iter_values("part".into(), rows.iter().map(|r| r.2)).into_column(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_by_first_purchase_time_ties_by_item_id() {
        let i = Interactions::from_triples(&[
            // a: five items; the last ⌈20%⌉ = 1 is held out. "z" and "b" tie at t=5: b first.
            ("a", "x", 1),
            ("a", "y", 2),
            ("a", "y", 9),
            ("a", "w", 3),
            ("a", "z", 5),
            ("a", "b", 5),
            // b: one item, not evaluated.
            ("b", "x", 1),
            // c: six items → ⌈1.2⌉ = 2 held out.
            ("c", "1", 1),
            ("c", "2", 2),
            ("c", "3", 3),
            ("c", "4", 4),
            ("c", "5", 5),
            ("c", "6", 6),
        ]);
        let h = temporal_holdout(&i);
        let names = |v: &[u32]| v.iter().map(|&x| i.items[x as usize].clone()).collect::<Vec<_>>();
        assert_eq!(names(&h.test[0]), ["z"]);
        assert_eq!(names(&h.train[0]), ["b", "w", "x", "y"]);
        assert!(h.test[1].is_empty());
        assert_eq!(names(&h.train[1]), ["x"]);
        assert_eq!(names(&h.test[2]), ["5", "6"]);
        assert_eq!(h.evaluated_customers(), 2);
    }
}
