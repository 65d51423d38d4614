//! Recommendations (DATA.md §4): interactions, models, the offline
//! evaluation protocol and its metrics.

pub mod bundles;
pub mod content;
pub mod interactions;
pub mod models;
pub mod recommender;
pub mod rp3beta;
pub mod split;

use rayon::prelude::*;
use serde::Serialize;

pub use content::{ContentModel, ItemAttributes};
pub use interactions::{Interactions, InteractionsError};
pub use models::{ItemKnn, Linkage, Popularity, Reason, Recommendation, SegmentPopularity, UserKnn};
pub use recommender::{Recommender, SegmentRow};
pub use rp3beta::{Rp3beta, Rp3betaParams, Tuning};
pub use split::{Holdout, holdout_by_time, split_table, temporal_holdout};

/// The models the command line and the app offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    Popularity,
    ItemKnn,
    UserKnn,
    Content,
    Hybrid,
    Rp3beta,
}

impl ModelKind {
    /// What the app and the command line use unless told otherwise: the best
    /// by DATA.md §4's protocol on Online Retail and the sample (README).
    pub const DEFAULT: ModelKind = ModelKind::Rp3beta;

    pub const ALL: [ModelKind; 6] = [
        ModelKind::Popularity,
        ModelKind::ItemKnn,
        ModelKind::UserKnn,
        ModelKind::Content,
        ModelKind::Hybrid,
        ModelKind::Rp3beta,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Popularity => "popularity",
            ModelKind::ItemKnn => "item-knn",
            ModelKind::UserKnn => "user-knn",
            ModelKind::Content => "content",
            ModelKind::Hybrid => "hybrid",
            ModelKind::Rp3beta => "rp3beta",
        }
    }
}

/// A fitted model.
pub enum Model {
    Popularity(Popularity),
    ItemKnn(ItemKnn),
    UserKnn(UserKnn),
    Content(ContentModel),
    Hybrid(Hybrid),
    Rp3beta(Rp3beta),
}

/// How much each kind of event counts in item-kNN's similarities and scores
/// (purchases define the protocol; views and carts may add weight).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EventWeights {
    pub purchase: f64,
    pub cart: f64,
    pub view: f64,
}

impl Default for EventWeights {
    fn default() -> Self {
        EventWeights { purchase: 1.0, cart: 0.0, view: 0.0 }
    }
}

impl EventWeights {
    pub fn purchases_only(&self) -> bool {
        self.cart <= 0.0 && self.view <= 0.0
    }
}

/// What a customer did, as the models see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Basket {
    /// Items bought (sorted): never recommended back unless asked.
    pub bought: Vec<u32>,
    /// When each item of `bought` was first bought (ms), aligned with it.
    pub bought_at: Vec<i64>,
    /// (item, weight), sorted by item: purchases, and views/carts by their weights.
    pub signals: Vec<(u32, f64)>,
}

/// Every customer's basket. With a holdout, only training purchases count, and
/// views/carts only from before the customer's first held-out purchase (no
/// peeking at the future).
pub fn baskets(interactions: &Interactions, holdout: Option<&Holdout>, weights: &EventWeights) -> Vec<Basket> {
    (0..interactions.customers.len())
        .map(|c| {
            let bought: Vec<u32> = match holdout {
                Some(h) => h.train[c].clone(),
                None => interactions.bought[c].iter().map(|b| b.0).collect(),
            };
            let all = &interactions.bought[c];
            let bought_at: Vec<i64> = match holdout {
                Some(_) => {
                    bought.iter().map(|i| all.binary_search_by_key(i, |b| b.0).map_or(0, |n| all[n].1)).collect()
                }
                None => all.iter().map(|b| b.1).collect(),
            };
            let cutoff = holdout
                .map(|h| &h.test[c])
                .filter(|t| !t.is_empty())
                .map(|test| {
                    interactions.bought[c]
                        .iter()
                        .filter(|(i, _)| test.binary_search(i).is_ok())
                        .map(|b| b.1)
                        .min()
                        .unwrap_or(i64::MAX)
                })
                .unwrap_or(i64::MAX);
            if weights.purchases_only() {
                let signals = if weights.purchase > 0.0 {
                    bought.iter().map(|&i| (i, weights.purchase)).collect()
                } else {
                    Vec::new()
                };
                return Basket { bought, bought_at, signals };
            }
            let mut weight: std::collections::BTreeMap<u32, f64> = std::collections::BTreeMap::new();
            if weights.purchase > 0.0 {
                for &i in &bought {
                    weight.insert(i, weights.purchase);
                }
            }
            for &(i, t, kind) in &interactions.signals[c] {
                let w = if kind == crate::core::import::parse::EventKind::Cart { weights.cart } else { weights.view };
                if w > 0.0 && t < cutoff {
                    let entry = weight.entry(i).or_insert(0.0);
                    *entry = entry.max(w);
                }
            }
            Basket { bought, bought_at, signals: weight.into_iter().collect() }
        })
        .collect()
}

/// Tuning optimises precision at this many items (DATA.md §4's default k).
pub const TUNING_K: usize = 10;

/// How a model is built.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ModelSettings {
    pub kind: ModelKind,
    /// item-knn and hybrid: weights of purchases, carts and views.
    pub weights: EventWeights,
    /// item-knn / user-knn / hybrid: neighbours kept per item or customer.
    pub neighbours: usize,
    /// hybrid: the share of item-knn in the blend (the rest is content).
    pub hybrid_item_knn_weight: f64,
    /// rp3beta: its settings; None: chosen on a validation split of the
    /// training data (defaults where the data is too large to tune on).
    pub rp3beta: Option<Rp3betaParams>,
}

impl ModelSettings {
    pub fn new(kind: ModelKind) -> ModelSettings {
        ModelSettings {
            kind,
            weights: EventWeights::default(),
            neighbours: 50,
            hybrid_item_knn_weight: 0.7,
            rp3beta: None,
        }
    }
}

/// A weighted blend of item-kNN and content scores (each scaled to its best
/// candidate), popularity filling in for customers without history.
pub struct Hybrid {
    item_knn: ItemKnn,
    content: ContentModel,
    weight: f64,
}

impl Hybrid {
    pub fn recommend(&self, basket: &Basket, k: usize, exclude_bought: bool) -> Vec<Recommendation> {
        let knn = self.item_knn.recommend_signals(&basket.signals, &basket.bought, k * BLEND_POOL, exclude_bought);
        blend_with_content(knn, &self.content, basket, exclude_bought, self.weight, k, self.item_knn.popularity())
    }
}

/// A blend draws on each side's top k × this many.
pub const BLEND_POOL: usize = 5;

/// A collaborative model's top k × [`BLEND_POOL`] (`links`) blended with
/// the content model's, `weight` on the links (see [`blend`]).
pub fn blend_with_content(
    links: Vec<Recommendation>,
    content: &ContentModel,
    basket: &Basket,
    exclude_bought: bool,
    weight: f64,
    k: usize,
    popularity: &Popularity,
) -> Vec<Recommendation> {
    let exclude: &[u32] = if exclude_bought { &basket.bought } else { &[] };
    let similar = content.recommend(&basket.bought, exclude, k * BLEND_POOL);
    blend(links, similar, weight, k, popularity, exclude)
}

/// `weight` × the collaborative scores + (1 − `weight`) × the content scores,
/// each scaled to its best candidate (popularity fill-ins left out); the
/// reason is the larger part's. The top `k`, popular items filling in.
pub fn blend(
    collaborative: Vec<Recommendation>,
    content: Vec<Recommendation>,
    weight: f64,
    k: usize,
    popularity: &Popularity,
    exclude: &[u32],
) -> Vec<Recommendation> {
    let scaled = |recs: Vec<Recommendation>| -> Vec<Recommendation> {
        let recs: Vec<Recommendation> =
            recs.into_iter().filter(|r| !matches!(r.reason, Reason::Popular { .. })).collect();
        let best = recs.iter().map(|r| r.score).fold(0.0, f64::max);
        recs.into_iter().map(|r| Recommendation { score: if best > 0.0 { r.score / best } else { 0.0 }, ..r }).collect()
    };
    let mut blend: std::collections::BTreeMap<u32, (f64, f64, Reason)> = std::collections::BTreeMap::new();
    for r in scaled(collaborative) {
        blend.insert(r.item, (weight * r.score, weight * r.score, r.reason));
    }
    for r in scaled(content) {
        let part = (1.0 - weight) * r.score;
        let entry = blend.entry(r.item).or_insert((0.0, 0.0, r.reason.clone()));
        entry.0 += part;
        if part > entry.1 {
            (entry.1, entry.2) = (part, r.reason);
        }
    }
    let mut ranked: Vec<(u32, (f64, f64, Reason))> = blend.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.0.cmp(&b.0)));
    ranked.truncate(k);
    let mut out: Vec<Recommendation> =
        ranked.into_iter().map(|(item, (score, _, reason))| Recommendation { item, score, reason }).collect();
    popularity.fill(&mut out, exclude, k);
    out
}

impl Model {
    /// Fits `kind` on training items per customer.
    pub fn fit(settings: &ModelSettings, baskets: &[Basket], attributes: &ItemAttributes) -> Model {
        let n_items = attributes.category.len();
        let neighbours = settings.neighbours;
        let train: Vec<Vec<u32>> = baskets.iter().map(|b| b.bought.clone()).collect();
        let train = &train[..];
        let signals: Vec<Vec<(u32, f64)>> = baskets.iter().map(|b| b.signals.clone()).collect();
        let purchases_only = settings.weights.purchases_only();
        let item_knn = || ItemKnn::fit_weighted(&signals, train, n_items, neighbours, purchases_only);
        match settings.kind {
            ModelKind::Popularity => Model::Popularity(Popularity::fit(train, n_items)),
            ModelKind::ItemKnn => Model::ItemKnn(item_knn()),
            ModelKind::UserKnn => Model::UserKnn(UserKnn::fit(train, n_items, neighbours)),
            ModelKind::Content => Model::Content(ContentModel::fit(attributes, train, n_items)),
            ModelKind::Hybrid => Model::Hybrid(Hybrid {
                item_knn: item_knn(),
                content: ContentModel::fit(attributes, train, n_items),
                weight: settings.hybrid_item_knn_weight.clamp(0.0, 1.0),
            }),
            ModelKind::Rp3beta => Model::Rp3beta(match settings.rp3beta {
                Some(params) => Rp3beta::fit(baskets, attributes, params),
                None => Rp3beta::fit_tuned(baskets, attributes, TUNING_K),
            }),
        }
    }

    /// How the model's settings were chosen, where it tuned them.
    pub fn tuning(&self) -> Option<Tuning> {
        match self {
            Model::Rp3beta(m) => m.tuning,
            _ => None,
        }
    }

    /// Top `k` items for training customer `customer` (None: not in the
    /// training data) with `basket`, none of the items bought.
    pub fn recommend(&self, customer: Option<usize>, basket: &Basket, k: usize) -> Vec<Recommendation> {
        self.recommend_with(customer, basket, k, true)
    }

    /// Top `k` items; with `exclude_bought` false, items already bought may appear.
    pub fn recommend_with(
        &self,
        customer: Option<usize>,
        basket: &Basket,
        k: usize,
        exclude_bought: bool,
    ) -> Vec<Recommendation> {
        let bought = &basket.bought[..];
        let exclude: &[u32] = if exclude_bought { bought } else { &[] };
        match self {
            Model::Popularity(m) => m.recommend(exclude, k),
            Model::ItemKnn(m) => m.recommend_signals(&basket.signals, bought, k, exclude_bought),
            Model::UserKnn(m) => m.recommend(customer, exclude, k),
            Model::Content(m) => m.recommend(bought, exclude, k),
            Model::Hybrid(m) => m.recommend(basket, k, exclude_bought),
            Model::Rp3beta(m) => m.recommend(basket, k, exclude_bought),
        }
    }
}

/// DATA.md §4's metrics, averaged over evaluated customers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub model: String,
    pub k: usize,
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub hit_rate: f64,
    pub coverage: f64,
    pub evaluated_customers: usize,
    /// rp3beta: the settings tuning chose on its validation split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tuning: Option<Tuning>,
}

/// One customer's metrics: (hits / k, hits / |held out|, NDCG, 1 if any hit).
pub type CustomerMetrics = (f64, f64, f64, f64);

/// Per-customer metrics of a top-`k` list against the held-out items.
pub fn customer_metrics(recommended: &[u32], held_out: &[u32], k: usize) -> CustomerMetrics {
    let mut dcg = 0.0;
    let mut hits = 0usize;
    for (rank, item) in recommended.iter().take(k).enumerate() {
        if held_out.contains(item) {
            hits += 1;
            dcg += 1.0 / ((rank + 2) as f64).log2();
        }
    }
    let ideal: f64 = (0..held_out.len().min(k)).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
    (
        hits as f64 / k as f64,
        hits as f64 / held_out.len().max(1) as f64,
        if ideal > 0.0 { dcg / ideal } else { 0.0 },
        if hits > 0 { 1.0 } else { 0.0 },
    )
}

/// Trains `kind` on the holdout's training items and scores its top `k` for
/// every evaluated customer.
pub fn evaluate(
    settings: &ModelSettings,
    interactions: &Interactions,
    attributes: &ItemAttributes,
    k: usize,
) -> Evaluation {
    let holdout = temporal_holdout(interactions);
    let baskets = baskets(interactions, Some(&holdout), &settings.weights);
    let model = Model::fit(settings, &baskets, attributes);
    let evaluated: Vec<usize> = (0..holdout.test.len()).filter(|&c| !holdout.test[c].is_empty()).collect();
    let per_customer: Vec<(CustomerMetrics, Vec<u32>)> = evaluated
        .par_iter()
        .map(|&c| {
            let items: Vec<u32> = model.recommend(Some(c), &baskets[c], k).iter().map(|r| r.item).collect();
            (customer_metrics(&items, &holdout.test[c], k), items)
        })
        .collect();
    let n = per_customer.len().max(1) as f64;
    let mut sums = (0.0, 0.0, 0.0, 0.0);
    let mut recommended = vec![false; interactions.items.len()];
    for ((p, r, g, h), items) in &per_customer {
        sums = (sums.0 + p, sums.1 + r, sums.2 + g, sums.3 + h);
        for &i in items {
            recommended[i as usize] = true;
        }
    }
    let mut in_training = vec![false; interactions.items.len()];
    holdout.train.iter().flatten().for_each(|&i| in_training[i as usize] = true);
    let training_items = in_training.iter().filter(|&&b| b).count();
    Evaluation {
        model: settings.kind.name().to_string(),
        k,
        precision: sums.0 / n,
        recall: sums.1 / n,
        ndcg: sums.2 / n,
        hit_rate: sums.3 / n,
        coverage: recommended.iter().filter(|&&b| b).count() as f64 / training_items.max(1) as f64,
        evaluated_customers: per_customer.len(),
        tuning: model.tuning(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        // Held out {5, 9}; recommended [5, 1, 9] at k = 3: hits at ranks 1 and 3.
        let (p, r, g, h) = customer_metrics(&[5, 1, 9], &[5, 9], 3);
        assert!((p - 2.0 / 3.0).abs() < 1e-12);
        assert!((r - 1.0).abs() < 1e-12);
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((g - dcg / ideal).abs() < 1e-12);
        assert_eq!(h, 1.0);
        assert_eq!(customer_metrics(&[1, 2], &[7], 2), (0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn evaluation_never_recommends_training_items_and_is_deterministic() {
        let mut triples = Vec::new();
        let names: Vec<String> = (0..30).map(|i| format!("i{i:02}")).collect();
        let customers: Vec<String> = (0..40).map(|c| format!("c{c:02}")).collect();
        for c in 0..40usize {
            for j in 0..(3 + c % 5) {
                triples.push((customers[c].as_str(), names[(c * 7 + j * 3) % 30].as_str(), (j * 10 + c) as i64));
            }
        }
        let interactions = Interactions::from_triples(&triples);
        let attributes = ItemAttributes {
            category: vec![None; interactions.items.len()],
            brand: vec![None; interactions.items.len()],
            name: vec![None; interactions.items.len()],
            name_zh: vec![None; interactions.items.len()],
            price: vec![None; interactions.items.len()],
        };
        for kind in [ModelKind::ItemKnn, ModelKind::Rp3beta] {
            let settings = ModelSettings::new(kind);
            let a = evaluate(&settings, &interactions, &attributes, 5);
            let b = evaluate(&settings, &interactions, &attributes, 5);
            assert_eq!(a, b);
            assert_eq!(a.evaluated_customers, 40);
            assert_eq!(a.tuning.is_some(), kind == ModelKind::Rp3beta, "rp3beta says what it chose");
            let holdout = temporal_holdout(&interactions);
            let baskets = baskets(&interactions, Some(&holdout), &settings.weights);
            let model = Model::fit(&settings, &baskets, &attributes);
            for (c, basket) in baskets.iter().enumerate() {
                for r in model.recommend(Some(c), basket, 5) {
                    assert!(holdout.train[c].binary_search(&r.item).is_err(), "{kind:?}");
                }
            }
        }
    }
}

/// One segment's most recommended products.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentProducts {
    pub segment: i32,
    pub name: String,
    pub members: usize,
    /// (item number, members who get it in their top-k, share of members), most common first.
    pub items: Vec<(u32, usize, f64)>,
}

/// Aggregates members' top-k lists per segment: the `n` items most often
/// recommended to a segment's members, with the share of members who get each.
/// `segments`: (segment id, name) per customer, aligned with `recommended`.
pub fn segment_top_products(recommended: &[Vec<u32>], segments: &[(i32, String)], n: usize) -> Vec<SegmentProducts> {
    let mut by_segment: std::collections::BTreeMap<i32, (String, usize, std::collections::BTreeMap<u32, usize>)> =
        std::collections::BTreeMap::new();
    for (items, (id, name)) in recommended.iter().zip(segments) {
        let entry = by_segment.entry(*id).or_insert_with(|| (name.clone(), 0, Default::default()));
        entry.1 += 1;
        for &i in items {
            *entry.2.entry(i).or_default() += 1;
        }
    }
    by_segment
        .into_iter()
        .map(|(segment, (name, members, counts))| {
            let mut items: Vec<(u32, usize, f64)> =
                counts.into_iter().map(|(i, c)| (i, c, c as f64 / members as f64)).collect();
            items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            items.truncate(n);
            SegmentProducts { segment, name, members, items }
        })
        .collect()
}

#[cfg(test)]
mod basket_tests {
    use super::*;
    use crate::core::import::parse::EventKind;

    #[test]
    fn views_count_only_before_the_held_out_purchase() {
        let mut i = Interactions::from_triples(&[("a", "x", 1), ("a", "y", 10), ("b", "x", 1)]);
        // a viewed y at t=3 (before buying it at 10, the held-out purchase) and carted z at t=20.
        let y = i.items.binary_search(&"y".to_string()).unwrap() as u32;
        i.items.push("z".into());
        let z = (i.items.len() - 1) as u32;
        i.signals[0] = vec![(y, 3, EventKind::View), (z, 20, EventKind::Cart)];
        let h = temporal_holdout(&i);
        let weights = EventWeights { purchase: 1.0, cart: 0.5, view: 0.2 };
        let b = baskets(&i, Some(&h), &weights);
        // Training purchases: x. Held out: y (first bought at 10). The view of y at t=3 counts;
        // the cart at t=20 is after the cut-off and does not.
        assert_eq!(b[0].bought, vec![0]);
        assert_eq!(b[0].signals, vec![(0, 1.0), (y, 0.2)]);
        // Without a holdout everything counts.
        let all = baskets(&i, None, &weights);
        assert_eq!(all[0].signals, vec![(0, 1.0), (y, 1.0), (z, 0.5)]);
        // Default weights: purchases only.
        assert_eq!(baskets(&i, None, &EventWeights::default())[0].signals, vec![(0, 1.0), (y, 1.0)]);
    }
}

#[cfg(test)]
mod segment_tests {
    use super::*;

    #[test]
    fn segment_view_by_hand() {
        let recs = vec![vec![1, 2], vec![2, 3], vec![2], vec![9]];
        let segs = vec![(0, "A".to_string()), (0, "A".to_string()), (0, "A".to_string()), (-1, "New".to_string())];
        let v = segment_top_products(&recs, &segs, 2);
        assert_eq!(v[0].segment, -1);
        assert_eq!(v[1].members, 3);
        assert_eq!(v[1].items, vec![(2, 3, 1.0), (1, 1, 1.0 / 3.0)]);
    }
}
