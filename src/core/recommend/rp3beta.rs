//! RP3beta with recency and names: item–item random-walk links (see
//! [`Linkage::Rp3beta`]), a customer's items weighted by how recently they
//! were first bought, blended with the content model where the catalogue
//! describes its products; the settings chosen on a validation split carved
//! from the training data (never on the items a test holds out).

use rayon::prelude::*;
use serde::Serialize;

use super::content::{ContentModel, ItemAttributes};
use super::models::{Direction, ItemKnn, Recommendation};
use super::split::holdout_by_time;
use super::{BLEND_POOL, Basket, blend, blend_with_content, customer_metrics};
use crate::core::trace;

const DAY_MS: f64 = 86_400_000.0;

/// RP3beta's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rp3betaParams {
    /// Exponent on each step's probability (1 = the plain random walk).
    pub alpha: f64,
    /// Exponent of the popularity penalty on the item reached.
    pub beta: f64,
    /// Links kept per item.
    pub neighbours: usize,
    /// A customer's item counts half as much this many days before their
    /// latest first purchase; None: every item counts the same.
    pub half_life_days: Option<f64>,
    /// Share of the content model (names, category, brand, price band) in
    /// the blend; 0: links only.
    pub content_share: f64,
    /// What a customer who bought j before i adds to the link i → j, against
    /// 1 for j after i: links point to what people buy next (1: no direction).
    pub backward: f64,
}

impl Default for Rp3betaParams {
    /// Used where the data is too large to tune on: what tuning chose on
    /// Online Retail's validation split, without the content share (whose
    /// worth depends on the catalogue's names).
    fn default() -> Self {
        Rp3betaParams {
            alpha: 0.5,
            beta: 0.6,
            neighbours: 200,
            half_life_days: Some(90.0),
            content_share: 0.0,
            backward: 0.0,
        }
    }
}

/// What tuning chose and what it measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tuning {
    pub chosen: Rp3betaParams,
    /// precision@k of the chosen settings on the validation split.
    pub validation_precision: f64,
    /// Validation customers scored.
    pub validation_customers: usize,
    /// Settings tried.
    pub tried: usize,
}

/// What tuning tries, one setting at a time (each step keeps the best so
/// far): links are fitted once per (α, β) with the most neighbours; fewer
/// neighbours, the half-lives and the content share only change the scoring.
const ALPHAS: [f64; 3] = [0.5, 0.75, 1.0];
const BETAS: [f64; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
const NEIGHBOURS: [usize; 3] = [50, 100, 200];
const HALF_LIVES: [Option<f64>; 5] = [None, Some(30.0), Some(90.0), Some(180.0), Some(365.0)];
const CONTENT_SHARES: [f64; 5] = [0.0, 0.1, 0.2, 0.3, 0.5];
const BACKWARDS: [f64; 4] = [1.0, 0.5, 0.25, 0.0];

/// Tuning fits the links |ALPHAS| × |BETAS| times: above this many
/// (customer, item) pairs the defaults are used instead.
pub const TUNE_LIMIT: usize = 3_000_000;
/// At most this many validation customers are scored per setting (every n-th).
const VALIDATION_CUSTOMERS: usize = 10_000;

/// A fitted RP3beta model.
#[derive(Clone, Debug)]
pub struct Rp3beta {
    knn: ItemKnn,
    /// Only when the content share is above 0.
    content: Option<ContentModel>,
    pub params: Rp3betaParams,
    /// How the settings were chosen (None: given, or defaults on large data).
    pub tuning: Option<Tuning>,
}

impl Rp3beta {
    /// Fits with `params`.
    pub fn fit(baskets: &[Basket], attributes: &ItemAttributes, params: Rp3betaParams) -> Rp3beta {
        let n_items = attributes.category.len();
        let train: Vec<Vec<u32>> = baskets.iter().map(|b| b.bought.clone()).collect();
        let knn = links(baskets, &train, n_items, params.neighbours, params.alpha, params.beta, params.backward);
        let content = (params.content_share > 0.0).then(|| ContentModel::fit(attributes, &train, n_items));
        Rp3beta { knn, content, params, tuning: None }
    }

    /// Chooses the settings on a validation split of `baskets` (if the data
    /// is small enough), then fits on all of `baskets` with them.
    pub fn fit_tuned(baskets: &[Basket], attributes: &ItemAttributes, k: usize) -> Rp3beta {
        let pairs: usize = baskets.iter().map(|b| b.bought.len()).sum();
        if pairs > TUNE_LIMIT {
            return Rp3beta::fit(baskets, attributes, Rp3betaParams::default());
        }
        let tuning = tune(baskets, attributes, k);
        let chosen = tuning.map_or(Rp3betaParams::default(), |t| t.chosen);
        Rp3beta { tuning, ..Rp3beta::fit(baskets, attributes, chosen) }
    }

    pub fn popularity(&self) -> &super::Popularity {
        self.knn.popularity()
    }

    /// Top `k` for a customer: Σ over their items of recency weight × link,
    /// blended with content.
    pub fn recommend(&self, basket: &Basket, k: usize, exclude_bought: bool) -> Vec<Recommendation> {
        let content = self.content.as_ref().map(|c| (c, self.params.content_share));
        score(&self.knn, content, basket, self.params.half_life_days, k, exclude_bought)
    }
}

fn score(
    knn: &ItemKnn,
    content: Option<(&ContentModel, f64)>,
    basket: &Basket,
    half_life_days: Option<f64>,
    k: usize,
    exclude_bought: bool,
) -> Vec<Recommendation> {
    let profile = recency_profile(basket, half_life_days);
    match content.filter(|(_, share)| *share > 0.0) {
        None => knn.recommend_signals(&profile, &basket.bought, k, exclude_bought),
        Some((content, share)) => {
            let links = knn.recommend_signals(&profile, &basket.bought, k * BLEND_POOL, exclude_bought);
            blend_with_content(links, content, basket, exclude_bought, 1.0 - share, k, knn.popularity())
        }
    }
}

/// RP3beta links, directed by first purchase times unless `backward` is 1.
fn links(
    baskets: &[Basket],
    train: &[Vec<u32>],
    n_items: usize,
    k: usize,
    alpha: f64,
    beta: f64,
    backward: f64,
) -> ItemKnn {
    let times: Vec<Vec<i64>> =
        if backward < 1.0 { baskets.iter().map(|b| b.bought_at.clone()).collect() } else { Vec::new() };
    let direction = (backward < 1.0).then_some(Direction { times: &times, backward });
    ItemKnn::fit_rp3beta_directed(train, direction, n_items, k, alpha, beta)
}

/// The customer's bought items weighted 0.5^(days before their latest first purchase / half-life).
pub fn recency_profile(basket: &Basket, half_life_days: Option<f64>) -> Vec<(u32, f64)> {
    let latest = basket.bought_at.iter().copied().max().unwrap_or(0);
    basket
        .bought
        .iter()
        .enumerate()
        .map(|(n, &item)| {
            let weight = match (half_life_days, basket.bought_at.get(n)) {
                (Some(h), Some(&t)) if h > 0.0 => 0.5f64.powf((latest - t) as f64 / DAY_MS / h),
                _ => 1.0,
            };
            (item, weight)
        })
        .collect()
}

/// Carves a validation split out of `baskets` by DATA.md §4's rule (each
/// customer's last ⌈20%⌉ items by first purchase time), fits on the rest and
/// keeps, one setting at a time, the values with the best precision@k
/// (ties keep the earlier, simpler value). None if no customer has two items.
pub fn tune(baskets: &[Basket], attributes: &ItemAttributes, k: usize) -> Option<Tuning> {
    let n_items = attributes.category.len();
    let timed: Vec<Vec<(u32, i64)>> =
        baskets.iter().map(|b| b.bought.iter().zip(&b.bought_at).map(|(&i, &t)| (i, t)).collect()).collect();
    let split = holdout_by_time(&timed);
    let fit_on: Vec<Basket> = baskets
        .iter()
        .zip(&split.train)
        .map(|(b, train)| {
            let bought_at = train.iter().map(|i| b.bought_at[b.bought.binary_search(i).unwrap_or(0)]).collect();
            Basket { bought: train.clone(), bought_at, signals: train.iter().map(|&i| (i, 1.0)).collect() }
        })
        .collect();
    let evaluated: Vec<usize> = (0..split.test.len()).filter(|&c| !split.test[c].is_empty()).collect();
    if evaluated.is_empty() {
        return None;
    }
    let step = evaluated.len().div_ceil(VALIDATION_CUSTOMERS);
    let scored: Vec<usize> = evaluated.into_iter().step_by(step).collect();
    let train: Vec<Vec<u32>> = fit_on.iter().map(|b| b.bought.clone()).collect();
    let precision = |knn: &ItemKnn, content: Option<(&ContentModel, f64)>, half_life: Option<f64>| {
        let each: Vec<f64> = scored
            .par_iter()
            .map(|&c| {
                let items: Vec<u32> =
                    score(knn, content, &fit_on[c], half_life, k, true).iter().map(|r| r.item).collect();
                customer_metrics(&items, &split.test[c], k).0
            })
            .collect();
        mean_in_order(&each)
    };
    let most = NEIGHBOURS[NEIGHBOURS.len() - 1];
    let mut tried = 0;
    // 1. The walk: α and β, with every link kept and no recency.
    let walk = trace::phase("tune: α, β");
    let mut best: Option<(f64, f64, f64, ItemKnn)> = None;
    for alpha in ALPHAS {
        for (beta, knn) in BETAS.into_iter().zip(ItemKnn::fit_rp3beta_betas(&train, None, n_items, most, alpha, &BETAS))
        {
            let p = precision(&knn, None, None);
            tried += 1;
            if best.as_ref().is_none_or(|b| p > b.0) {
                best = Some((p, alpha, beta, knn));
            }
        }
    }
    let (mut top, alpha, beta, mut full) = best?;
    drop(walk);
    let rest = trace::phase("tune: links, recency");
    let mut chosen =
        Rp3betaParams { alpha, beta, neighbours: most, half_life_days: None, content_share: 0.0, backward: 1.0 };
    // 2. Direction: what people buy next.
    for backward in BACKWARDS.into_iter().filter(|&b| b < 1.0) {
        let directed = links(&fit_on, &train, n_items, most, alpha, beta, backward);
        let p = precision(&directed, None, None);
        tried += 1;
        if p > top {
            (top, chosen.backward, full) = (p, backward, directed);
        }
    }
    // 3. Fewer links per item.
    let mut knn = full.clone();
    for neighbours in NEIGHBOURS.into_iter().filter(|&n| n != most) {
        let fewer = full.truncated(neighbours);
        let p = precision(&fewer, None, None);
        tried += 1;
        if p > top {
            (top, chosen.neighbours, knn) = (p, neighbours, fewer);
        }
    }
    // 4. Recency.
    for half_life in HALF_LIVES.into_iter().filter(|h| h.is_some()) {
        let p = precision(&knn, None, half_life);
        tried += 1;
        if p > top {
            (top, chosen.half_life_days) = (p, half_life);
        }
    }
    drop(rest);
    // 5. Names (with the other attributes), where the catalogue has them:
    // both lists once per customer, blended at each share. Categories and
    // prices alone did not help on the sample, and on a 50k-item catalogue
    // they cost more than the links.
    if names_products(attributes) {
        let _names = trace::phase("tune: content share");
        let content = ContentModel::fit(attributes, &train, n_items);
        let pool = k * BLEND_POOL;
        let lists: Vec<(Vec<Recommendation>, Vec<Recommendation>)> = scored
            .par_iter()
            .map(|&c| {
                let b = &fit_on[c];
                let links = knn.recommend_signals(&recency_profile(b, chosen.half_life_days), &b.bought, pool, true);
                (links, content.recommend(&b.bought, &b.bought, pool))
            })
            .collect();
        for share in CONTENT_SHARES.into_iter().filter(|&s| s > 0.0) {
            let each: Vec<f64> = scored
                .par_iter()
                .zip(&lists)
                .map(|(&c, (links, similar))| {
                    let b = &fit_on[c];
                    let recs = blend(links.clone(), similar.clone(), 1.0 - share, k, knn.popularity(), &b.bought);
                    let items: Vec<u32> = recs.iter().map(|r| r.item).collect();
                    customer_metrics(&items, &split.test[c], k).0
                })
                .collect();
            let p = mean_in_order(&each);
            tried += 1;
            if p > top {
                (top, chosen.content_share) = (p, share);
            }
        }
    }
    Some(Tuning { chosen, validation_precision: top, validation_customers: scored.len(), tried })
}

/// The mean, added in customer order: a parallel sum's order (and last
/// bits) would depend on the thread count, and so could a close choice.
fn mean_in_order(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Whether any product has a name for the content model to go on.
fn names_products(attributes: &ItemAttributes) -> bool {
    let any = |v: &[Option<String>]| v.iter().any(|x| x.as_deref().is_some_and(|s| !s.is_empty()));
    any(&attributes.name) || any(&attributes.name_zh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basket(items: &[(u32, i64)]) -> Basket {
        Basket {
            bought: items.iter().map(|x| x.0).collect(),
            bought_at: items.iter().map(|x| x.1).collect(),
            signals: items.iter().map(|x| (x.0, 1.0)).collect(),
        }
    }

    /// Customers (items): c0 {0, 1}, c1 {0, 1, 2}, c2 {1, 2}, c3 {3}.
    fn toy() -> Vec<Vec<u32>> {
        vec![vec![0, 1], vec![0, 1, 2], vec![1, 2], vec![3]]
    }

    #[test]
    fn rp3beta_links_by_hand() {
        // Degrees: customers c0 2, c1 3, c2 2; items 0: 2 buyers, 1: 3, 2: 2.
        // α = 1, β = 0.5: W_01 = 1/2 · (1/2 + 1/3) · 3^−½; W_02 = 1/2 · 1/3 · 2^−½.
        let knn = ItemKnn::fit_rp3beta(&toy(), 4, 10, 1.0, 0.5);
        let n0 = &knn.neighbours[0];
        assert_eq!(n0.iter().map(|n| n.item).collect::<Vec<_>>(), [1, 2]);
        assert!((n0[0].similarity - 0.5 * (0.5 + 1.0 / 3.0) / 3f64.sqrt()).abs() < 1e-12);
        assert!((n0[1].similarity - 0.5 / 3.0 / 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(n0[0].together, 2);
        // α = 0, β = 0: every walk step counts 1, so the link is the number of shared buyers.
        let counts = ItemKnn::fit_rp3beta(&toy(), 4, 10, 0.0, 0.0);
        assert_eq!(counts.neighbours[1].iter().map(|n| n.similarity).collect::<Vec<_>>(), [2.0, 2.0]);
        // Truncating keeps the strongest links, as fitting with fewer would.
        assert_eq!(knn.truncated(1).neighbours[0], knn.neighbours[0][..1].to_vec());
    }

    #[test]
    fn recency_halves_an_item_one_half_life_older() {
        let b = basket(&[(0, 0), (5, 30 * DAY_MS as i64)]);
        assert_eq!(recency_profile(&b, Some(30.0)), vec![(0, 0.5), (5, 1.0)]);
        assert_eq!(recency_profile(&b, None), vec![(0, 1.0), (5, 1.0)]);
        // Scores follow: with item 0 at half weight, item 0's neighbour scores half.
        let knn = ItemKnn::fit_rp3beta(&[vec![0, 1], vec![5, 6]], 7, 10, 1.0, 0.0);
        let m = Rp3beta {
            knn,
            content: None,
            params: Rp3betaParams { half_life_days: Some(30.0), ..Default::default() },
            tuning: None,
        };
        let recs = m.recommend(&b, 2, true);
        assert_eq!(recs.iter().map(|r| r.item).collect::<Vec<_>>(), [6, 1]);
        assert!((recs[0].score - 2.0 * recs[1].score).abs() < 1e-12);
    }

    #[test]
    fn tuning_is_deterministic_and_never_sees_the_test_items() {
        // 60 customers buying along a ring of 20 items, one item a week.
        let baskets: Vec<Basket> = (0..60u32)
            .map(|c| {
                let items: Vec<(u32, i64)> = (0..6).map(|j| ((c + j) % 20, i64::from(j) * 7 * DAY_MS as i64)).collect();
                let mut sorted = items.clone();
                sorted.sort();
                basket(&sorted)
            })
            .collect();
        let attributes = ItemAttributes {
            category: vec![None; 20],
            brand: vec![None; 20],
            name: vec![None; 20],
            name_zh: vec![None; 20],
            price: vec![None; 20],
        };
        let a = tune(&baskets, &attributes, 3).unwrap();
        let b =
            rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| tune(&baskets, &attributes, 3));
        assert_eq!(Some(a), b);
        // The walk's grid, then the other neighbour counts and half-lives; no content without names.
        assert_eq!(
            a.tried,
            ALPHAS.len() * BETAS.len() + BACKWARDS.len() - 1 + NEIGHBOURS.len() - 1 + HALF_LIVES.len() - 1
        );
        assert_eq!(a.validation_customers, 60);
        assert!(a.validation_precision > 0.0);
    }
}
