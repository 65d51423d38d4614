//! Recommendation models: popularity (the cold-start fallback) and item-kNN
//! (item–item links on the customer × item purchase matrix: cosine, or the
//! RP3beta random walk).

use rayon::prelude::*;

/// One recommended item with its score and a reason a marketer can read.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    pub item: u32,
    pub score: f64,
    pub reason: Reason,
}

/// Why an item is recommended; `describe` turns it into a sentence.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// Bought by this many customers in the training data.
    Popular { customers: u32 },
    /// Bought by this many customers of the customer's segment.
    PopularIn { segment: String, customers: u32 },
    /// Bought together with `with` (an item the customer bought) by `customers` customers.
    BoughtTogether { with: u32, customers: u32 },
    /// Viewed, carted or bought together with `with` by `customers` customers.
    ChosenTogether { with: u32, customers: u32 },
    /// Bought by this many of the customer's most similar customers.
    SimilarCustomers { customers: u32 },
    /// In the category the customer buys most.
    MatchesCategory { category: String },
    /// Shares attributes (brand, price band, name words) with what the customer bought.
    SimilarAttributes,
}

/// "1 customer", "3 customers".
fn customers_text(n: u32) -> String {
    if n == 1 { "1 customer".to_string() } else { format!("{n} customers") }
}

impl Reason {
    pub fn describe(&self, item_name: impl Fn(u32) -> String) -> String {
        match self {
            Reason::Popular { customers } => format!("popular: bought by {}", customers_text(*customers)),
            Reason::PopularIn { segment, customers } => {
                format!("popular in {segment}: bought by {customers} of its customers")
            }
            Reason::BoughtTogether { with, customers } => {
                format!("bought together with {} by {}", item_name(*with), customers_text(*customers))
            }
            Reason::ChosenTogether { with, customers } => {
                format!("viewed or bought together with {} by {}", item_name(*with), customers_text(*customers))
            }
            Reason::SimilarCustomers { customers } => {
                format!("bought by {} with similar baskets", customers_text(*customers))
            }
            Reason::MatchesCategory { category } => format!("matches {category}, the category you buy most"),
            Reason::SimilarAttributes => "like items you bought (brand, price, name)".to_string(),
        }
    }
}

/// Top `k` of `(item, score)` by score (descending), ties by item (ascending).
fn top_k(mut scored: Vec<(u32, f64)>, k: usize) -> Vec<(u32, f64)> {
    let order = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if scored.len() > k && k > 0 {
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
    }
    scored.sort_by(order);
    scored.truncate(k);
    scored
}

/// Items ranked by how many customers bought them.
#[derive(Clone, Debug)]
pub struct Popularity {
    /// Items by descending buyer count (ties: lower item number first).
    ranked: Vec<(u32, u32)>,
}

impl Popularity {
    pub fn fit(train: &[Vec<u32>], n_items: usize) -> Popularity {
        let mut counts = vec![0u32; n_items];
        for items in train {
            for &i in items {
                counts[i as usize] += 1;
            }
        }
        let mut ranked: Vec<(u32, u32)> =
            (0..n_items as u32).filter(|&i| counts[i as usize] > 0).map(|i| (i, counts[i as usize])).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Popularity { ranked }
    }

    /// Tops `out` up to `k` items with the most popular ones that are neither
    /// in `exclude` (sorted) nor already in `out`: the cold-start fallback of
    /// every model.
    pub fn fill(&self, out: &mut Vec<Recommendation>, exclude: &[u32], k: usize) {
        if out.len() >= k {
            return;
        }
        let mut skip: Vec<u32> = exclude.iter().copied().chain(out.iter().map(|r| r.item)).collect();
        skip.sort_unstable();
        out.extend(self.recommend(&skip, k - out.len()));
    }

    /// The `k` most popular items not in `exclude` (sorted).
    pub fn recommend(&self, exclude: &[u32], k: usize) -> Vec<Recommendation> {
        self.ranked
            .iter()
            .filter(|(i, _)| exclude.binary_search(i).is_err())
            .take(k)
            .map(|&(item, customers)| Recommendation {
                item,
                score: f64::from(customers),
                reason: Reason::Popular { customers },
            })
            .collect()
    }
}

/// Top sellers per segment, the global ones filling in (for segments whose
/// members bought little, or customers in no segment).
#[derive(Clone, Debug)]
pub struct SegmentPopularity {
    segments: std::collections::BTreeMap<i32, (String, Popularity)>,
    global: Popularity,
}

impl SegmentPopularity {
    /// `segment_of[c]`: the (id, name) of training customer `c`'s segment, if any.
    pub fn fit(train: &[Vec<u32>], segment_of: &[Option<(i32, String)>], n_items: usize) -> SegmentPopularity {
        let mut members: std::collections::BTreeMap<i32, (String, Vec<Vec<u32>>)> = std::collections::BTreeMap::new();
        for (items, segment) in train.iter().zip(segment_of) {
            if let Some((id, name)) = segment {
                members.entry(*id).or_insert_with(|| (name.clone(), Vec::new())).1.push(items.clone());
            }
        }
        SegmentPopularity {
            segments: members.into_iter().map(|(id, (name, t))| (id, (name, Popularity::fit(&t, n_items)))).collect(),
            global: Popularity::fit(train, n_items),
        }
    }

    /// The segment's `k` top sellers not in `exclude` (sorted), then global ones.
    pub fn recommend(&self, segment: Option<i32>, exclude: &[u32], k: usize) -> Vec<Recommendation> {
        let mut out: Vec<Recommendation> = match segment.and_then(|s| self.segments.get(&s)) {
            Some((name, popularity)) => popularity
                .recommend(exclude, k)
                .into_iter()
                .map(|r| match r.reason {
                    Reason::Popular { customers } => {
                        Recommendation { reason: Reason::PopularIn { segment: name.clone(), customers }, ..r }
                    }
                    _ => r,
                })
                .collect(),
            None => Vec::new(),
        };
        self.global.fill(&mut out, exclude, k);
        out
    }
}

/// Per-thread working arrays for scoring one customer: dense by item, reset
/// through the list of touched items (no allocation per customer).
struct Scratch {
    score: Vec<f64>,
    /// (similarity, customers who bought both, the bought item) of the strongest link.
    link: Vec<(f64, u32, u32)>,
    touched: Vec<u32>,
}

impl Scratch {
    fn prepare(&mut self, n_items: usize) {
        if self.score.len() < n_items {
            self.score.resize(n_items, 0.0);
            self.link.resize(n_items, (0.0, 0, u32::MAX));
        }
    }

    fn clear(&mut self) {
        for &j in &self.touched {
            self.score[j as usize] = 0.0;
            self.link[j as usize] = (0.0, 0, u32::MAX);
        }
        self.touched.clear();
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> =
        const { std::cell::RefCell::new(Scratch { score: Vec::new(), link: Vec::new(), touched: Vec::new() }) };
}

/// One neighbour of an item.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    pub item: u32,
    /// The link's weight: cosine similarity, or RP3beta's walk probability.
    pub similarity: f64,
    /// Customers who bought both.
    pub together: u32,
}

/// How two items' shared customers become the weight of the link between them.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub enum Linkage {
    /// Σ w_ci w_cj / √(Σ w_ci² · Σ w_cj²) over customers c.
    Cosine,
    /// RP3beta (Paudel et al. 2017; Dacrema et al. 2019): the chance that a
    /// walk item i → a buyer c of i → an item j of c ends at j, each step's
    /// probability raised to `alpha`, divided by j's buyer count to the power
    /// `beta` so that best-sellers do not crowd out everything else:
    /// W_ij = deg_i^−α · Σ_{c buys i and j} deg_c^−α · deg_j^−β (binary purchases).
    Rp3beta { alpha: f64, beta: f64 },
}

/// When each customer first bought each item, for links with a direction:
/// a customer who bought j before i adds only `backward` (0..1) of their
/// share to the link i → j, so that a link points to what people buy next.
#[derive(Clone, Copy, Debug)]
pub struct Direction<'a> {
    /// Per customer, aligned with their signals.
    pub times: &'a [Vec<i64>],
    pub backward: f64,
}

/// Item–item neighbours, at most `k` per item, strongest first.
#[derive(Clone, Debug)]
pub struct ItemKnn {
    pub neighbours: Vec<Vec<Neighbour>>,
    popularity: Popularity,
    purchases_only: bool,
}

impl ItemKnn {
    /// Cosine similarity on the binary customer × item matrix: |A ∩ B| / √(|A| |B|).
    pub fn fit(train: &[Vec<u32>], n_items: usize, k: usize) -> ItemKnn {
        let signals: Vec<Vec<(u32, f64)>> = train.iter().map(|t| t.iter().map(|&i| (i, 1.0)).collect()).collect();
        ItemKnn::fit_weighted(&signals, train, n_items, k, true)
    }

    /// RP3beta links on the binary purchase matrix (see [`Linkage::Rp3beta`]).
    pub fn fit_rp3beta(train: &[Vec<u32>], n_items: usize, k: usize, alpha: f64, beta: f64) -> ItemKnn {
        ItemKnn::fit_rp3beta_directed(train, None, n_items, k, alpha, beta)
    }

    /// RP3beta links, directed by first purchase times when `direction` is given.
    pub fn fit_rp3beta_directed(
        train: &[Vec<u32>],
        direction: Option<Direction>,
        n_items: usize,
        k: usize,
        alpha: f64,
        beta: f64,
    ) -> ItemKnn {
        let fitted = ItemKnn::fit_rp3beta_betas(train, direction, n_items, k, alpha, &[beta]);
        fitted.into_iter().next().unwrap_or_else(|| ItemKnn {
            neighbours: vec![Vec::new(); n_items],
            popularity: Popularity::fit(train, n_items),
            purchases_only: true,
        })
    }

    /// RP3beta links for each of `betas` from one pass over the customers
    /// (β only rescales the sums), optionally directed.
    pub fn fit_rp3beta_betas(
        train: &[Vec<u32>],
        direction: Option<Direction>,
        n_items: usize,
        k: usize,
        alpha: f64,
        betas: &[f64],
    ) -> Vec<ItemKnn> {
        let signals: Vec<Vec<(u32, f64)>> = train.iter().map(|t| t.iter().map(|&i| (i, 1.0)).collect()).collect();
        let linkages: Vec<Linkage> = betas.iter().map(|&beta| Linkage::Rp3beta { alpha, beta }).collect();
        let popularity = Popularity::fit(train, n_items);
        link_tables(&signals, direction, n_items, k, &linkages)
            .into_iter()
            .map(|neighbours| ItemKnn { neighbours, popularity: popularity.clone(), purchases_only: true })
            .collect()
    }

    /// The popularity ranking the model falls back on.
    pub fn popularity(&self) -> &Popularity {
        &self.popularity
    }

    /// The same links, at most `k` per item (the strongest): what fitting
    /// with `k` neighbours would give, without fitting again.
    pub fn truncated(&self, k: usize) -> ItemKnn {
        ItemKnn {
            neighbours: self.neighbours.iter().map(|n| n[..n.len().min(k)].to_vec()).collect(),
            popularity: self.popularity.clone(),
            purchases_only: self.purchases_only,
        }
    }

    /// Cosine on a weighted customer × item matrix (`signals`: per customer,
    /// (item, weight) sorted by item): Σ w_ci w_cj / √(Σ w_ci² · Σ w_cj²). With
    /// weight 1 for purchases only, this is the binary cosine of [`ItemKnn::fit`].
    /// `purchases_only` says whether the signals are purchases (for the reasons).
    pub fn fit_weighted(
        signals: &[Vec<(u32, f64)>],
        bought: &[Vec<u32>],
        n_items: usize,
        k: usize,
        purchases_only: bool,
    ) -> ItemKnn {
        ItemKnn::fit_linked(signals, bought, n_items, k, purchases_only, Linkage::Cosine)
    }

    /// Links by `linkage` from each customer's (item, weight) signals.
    pub fn fit_linked(
        signals: &[Vec<(u32, f64)>],
        bought: &[Vec<u32>],
        n_items: usize,
        k: usize,
        purchases_only: bool,
        linkage: Linkage,
    ) -> ItemKnn {
        let neighbours = link_tables(signals, None, n_items, k, &[linkage]).pop().unwrap_or_default();
        ItemKnn { neighbours, popularity: Popularity::fit(bought, n_items), purchases_only }
    }

    /// Scores every item by the summed similarity to the customer's items
    /// (`bought`, sorted), leaving those out; the top `k`, then popular items
    /// if the neighbours run out (cold start).
    pub fn recommend(&self, bought: &[u32], k: usize) -> Vec<Recommendation> {
        self.recommend_with(bought, k, true)
    }

    /// [`ItemKnn::recommend`], optionally keeping already bought items in the running.
    pub fn recommend_with(&self, bought: &[u32], k: usize, exclude_bought: bool) -> Vec<Recommendation> {
        let signals: Vec<(u32, f64)> = bought.iter().map(|&i| (i, 1.0)).collect();
        self.recommend_signals(&signals, bought, k, exclude_bought)
    }

    /// Scores items by Σ weight × similarity over the customer's weighted
    /// signals, leaving out `bought` (sorted) when `exclude_bought`.
    pub fn recommend_signals(
        &self,
        signals: &[(u32, f64)],
        bought: &[u32],
        k: usize,
        exclude_bought: bool,
    ) -> Vec<Recommendation> {
        let mut out = SCRATCH.with(|scratch| {
            let mut s = scratch.borrow_mut();
            s.prepare(self.neighbours.len());
            for &(i, weight) in signals {
                for n in &self.neighbours[i as usize] {
                    if exclude_bought && bought.binary_search(&n.item).is_ok() {
                        continue;
                    }
                    let j = n.item as usize;
                    if s.score[j] == 0.0 && s.link[j].2 == u32::MAX {
                        s.touched.push(n.item);
                    }
                    s.score[j] += weight * n.similarity;
                    // The reason names the strongest link.
                    if s.link[j].2 == u32::MAX || n.similarity > s.link[j].0 {
                        s.link[j] = (n.similarity, n.together, i);
                    }
                }
            }
            let scored: Vec<(u32, f64)> = s.touched.iter().map(|&j| (j, s.score[j as usize])).collect();
            let out: Vec<Recommendation> = top_k(scored, k)
                .into_iter()
                .map(|(item, score)| {
                    let (_, together, with) = s.link[item as usize];
                    let reason = if self.purchases_only {
                        Reason::BoughtTogether { with, customers: together }
                    } else {
                        Reason::ChosenTogether { with, customers: together }
                    };
                    Recommendation { item, score, reason }
                })
                .collect();
            s.clear();
            out
        });
        self.popularity.fill(&mut out, if exclude_bought { bought } else { &[] }, k);
        out
    }
}

/// One neighbour table per linkage, from one pass over the customers of
/// each item (in parallel over items). The linkages must share their
/// per-customer share: all cosine, or all RP3beta with one α.
fn link_tables(
    signals: &[Vec<(u32, f64)>],
    direction: Option<Direction>,
    n_items: usize,
    k: usize,
    linkages: &[Linkage],
) -> Vec<Vec<Vec<Neighbour>>> {
    // Per item: its customers, with the customer's position in their own signals.
    let mut users: Vec<Vec<(u32, u32, f64)>> = vec![Vec::new(); n_items];
    for (c, items) in signals.iter().enumerate() {
        for (n, &(i, w)) in items.iter().enumerate() {
            users[i as usize].push((c as u32, n as u32, w));
        }
    }
    let power = |degree: usize, p: f64| if degree > 0 { (degree as f64).powf(-p) } else { 0.0 };
    // What one shared customer adds to a link: 1 (cosine) or deg_c^−α (RP3beta).
    let customer_share: Vec<f64> = match linkages.first() {
        Some(Linkage::Rp3beta { alpha, .. }) => signals.iter().map(|s| power(s.len(), *alpha)).collect(),
        _ => vec![1.0; signals.len()],
    };
    let norm2: Vec<f64> = users.iter().map(|u| u.iter().map(|(_, _, w)| w * w).sum()).collect();
    let degree_power: Vec<(Vec<f64>, Vec<f64>)> = linkages
        .iter()
        .map(|l| match l {
            Linkage::Cosine => (Vec::new(), Vec::new()),
            Linkage::Rp3beta { alpha, beta } => (
                users.iter().map(|u| power(u.len(), *alpha)).collect(),
                users.iter().map(|u| power(u.len(), *beta)).collect(),
            ),
        })
        .collect();
    let per_item: Vec<Vec<Vec<Neighbour>>> = (0..n_items)
        .into_par_iter()
        .map_init(
            || (vec![0.0f64; n_items], vec![0u32; n_items], Vec::<u32>::new()),
            |(dot, together, touched), i| {
                for &(c, at, wi) in &users[i] {
                    let share = customer_share[c as usize] * wi;
                    let (times, backward) = match direction {
                        Some(d) => (Some(&d.times[c as usize]), d.backward),
                        None => (None, 1.0),
                    };
                    for (n, &(j, wj)) in signals[c as usize].iter().enumerate() {
                        if j as usize != i {
                            if together[j as usize] == 0 {
                                touched.push(j);
                            }
                            together[j as usize] += 1;
                            let towards = match times {
                                Some(t) if t[n] < t[at as usize] => backward,
                                _ => 1.0,
                            };
                            dot[j as usize] += share * wj * towards;
                        }
                    }
                }
                let tables = linkages
                    .iter()
                    .zip(&degree_power)
                    .map(|(linkage, (from, to))| {
                        let scored: Vec<(u32, f64)> = touched
                            .iter()
                            .map(|&j| {
                                let (j, d) = (j as usize, dot[j as usize]);
                                let link = match linkage {
                                    Linkage::Cosine => d / (norm2[i] * norm2[j]).sqrt(),
                                    Linkage::Rp3beta { .. } => d * from[i] * to[j],
                                };
                                (j as u32, link)
                            })
                            // A link only backward-buyers made is worth 0 when they count
                            // 0: not a neighbour (popular items fill in instead).
                            .filter(|&(_, link)| link > 0.0)
                            .collect();
                        top_k(scored, k)
                            .into_iter()
                            .map(|(j, similarity)| Neighbour { item: j, similarity, together: together[j as usize] })
                            .collect()
                    })
                    .collect();
                for &j in touched.iter() {
                    together[j as usize] = 0;
                    dot[j as usize] = 0.0;
                }
                touched.clear();
                tables
            },
        )
        .collect();
    // Per item per linkage → per linkage per item.
    let mut tables: Vec<Vec<Vec<Neighbour>>> = linkages.iter().map(|_| Vec::with_capacity(n_items)).collect();
    for item in per_item {
        for (table, neighbours) in tables.iter_mut().zip(item) {
            table.push(neighbours);
        }
    }
    tables
}

/// Customer–customer cosine neighbours (for comparison with item-kNN): a
/// customer's score for an item sums the similarities of their neighbours who
/// bought it.
#[derive(Clone, Debug)]
pub struct UserKnn {
    /// Per customer: (neighbour, similarity), at most k.
    neighbours: Vec<Vec<(u32, f64)>>,
    train: Vec<Vec<u32>>,
    popularity: Popularity,
    n_items: usize,
}

impl UserKnn {
    pub fn fit(train: &[Vec<u32>], n_items: usize, k: usize) -> UserKnn {
        let mut buyers: Vec<Vec<u32>> = vec![Vec::new(); n_items];
        for (c, items) in train.iter().enumerate() {
            for &i in items {
                buyers[i as usize].push(c as u32);
            }
        }
        let n = train.len();
        let neighbours = (0..n)
            .into_par_iter()
            .map_init(
                || (vec![0u32; n], Vec::<u32>::new()),
                |(together, touched), u| {
                    for &i in &train[u] {
                        for &v in &buyers[i as usize] {
                            if v as usize != u {
                                if together[v as usize] == 0 {
                                    touched.push(v);
                                }
                                together[v as usize] += 1;
                            }
                        }
                    }
                    let nu = train[u].len() as f64;
                    let scored: Vec<(u32, f64)> = touched
                        .iter()
                        .map(|&v| (v, f64::from(together[v as usize]) / (nu * train[v as usize].len() as f64).sqrt()))
                        .collect();
                    for &v in touched.iter() {
                        together[v as usize] = 0;
                    }
                    touched.clear();
                    top_k(scored, k)
                },
            )
            .collect();
        UserKnn { neighbours, train: train.to_vec(), popularity: Popularity::fit(train, n_items), n_items }
    }

    /// Top `k` for training customer `customer` (or, for an unknown customer, popularity).
    pub fn recommend(&self, customer: Option<usize>, bought: &[u32], k: usize) -> Vec<Recommendation> {
        let mut score = vec![0.0f64; self.n_items];
        let mut votes = vec![0u32; self.n_items];
        if let Some(u) = customer.filter(|&u| u < self.neighbours.len()) {
            for &(v, sim) in &self.neighbours[u] {
                for &i in &self.train[v as usize] {
                    if bought.binary_search(&i).is_err() {
                        score[i as usize] += sim;
                        votes[i as usize] += 1;
                    }
                }
            }
        }
        let scored: Vec<(u32, f64)> =
            (0..self.n_items as u32).filter(|&i| votes[i as usize] > 0).map(|i| (i, score[i as usize])).collect();
        let mut out: Vec<Recommendation> = top_k(scored, k)
            .into_iter()
            .map(|(item, s)| Recommendation {
                item,
                score: s,
                reason: Reason::SimilarCustomers { customers: votes[item as usize] },
            })
            .collect();
        self.popularity.fill(&mut out, bought, k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four items, four customers (rows: customers, their items):
    /// c0: {0, 1}, c1: {0, 1, 2}, c2: {1, 2}, c3: {3}.
    fn toy() -> Vec<Vec<u32>> {
        vec![vec![0, 1], vec![0, 1, 2], vec![1, 2], vec![3]]
    }

    #[test]
    fn cosine_neighbours_by_hand() {
        let knn = ItemKnn::fit(&toy(), 4, 50);
        // Buyers: item0 {c0,c1}, item1 {c0,c1,c2}, item2 {c1,c2}, item3 {c3}.
        // sim(0,1) = 2/√(2·3) = 0.8165, sim(0,2) = 1/√(2·2) = 0.5, sim(1,2) = 2/√(3·2) = 0.8165.
        let n0 = &knn.neighbours[0];
        assert_eq!(n0.iter().map(|n| n.item).collect::<Vec<_>>(), [1, 2]);
        assert!((n0[0].similarity - 2.0 / 6f64.sqrt()).abs() < 1e-12);
        assert!((n0[1].similarity - 0.5).abs() < 1e-12);
        assert_eq!(n0[0].together, 2);
        assert!(knn.neighbours[3].is_empty(), "item 3 shares no buyer");
    }

    #[test]
    fn scores_sum_similarities_and_skip_bought_items() {
        let knn = ItemKnn::fit(&toy(), 4, 50);
        // A customer who bought item 0 only: item 1 scores 0.8165, item 2 scores 0.5.
        let recs = knn.recommend(&[0], 3);
        assert_eq!(recs.iter().map(|r| r.item).collect::<Vec<_>>(), [1, 2, 3]);
        assert!((recs[0].score - 2.0 / 6f64.sqrt()).abs() < 1e-12);
        assert_eq!(recs[0].reason, Reason::BoughtTogether { with: 0, customers: 2 });
        // Item 3 has no link: it comes from popularity, after the neighbours.
        assert_eq!(recs[2].reason, Reason::Popular { customers: 1 });
        // Bought items 0 and 2: item 1 scores 0.8165 + 0.8165.
        let recs = knn.recommend(&[0, 2], 1);
        assert_eq!(recs[0].item, 1);
        assert!((recs[0].score - 4.0 / 6f64.sqrt()).abs() < 1e-12);
        assert!(recs.iter().all(|r| r.item != 0 && r.item != 2));
    }

    #[test]
    fn user_knn_by_hand() {
        // c0 {0,1} and c1 {0,1,2}: cosine 2/√(2·3); c0 and c2 {1,2}: 1/√(2·2).
        let knn = UserKnn::fit(&toy(), 4, 50);
        let recs = knn.recommend(Some(0), &[0, 1], 2);
        // Item 2 was bought by c1 and c2: 2/√6 + 1/2. Then popularity (item 3).
        assert_eq!(recs[0].item, 2);
        assert!((recs[0].score - (2.0 / 6f64.sqrt() + 0.5)).abs() < 1e-12);
        assert_eq!(recs[0].reason, Reason::SimilarCustomers { customers: 2 });
        assert_eq!(recs[1].reason, Reason::Popular { customers: 1 });
    }

    #[test]
    fn segment_top_sellers_then_global() {
        // Segment 7 = customers 0 and 1: item 0 (2 buyers), item 1 (2), item 2 (1).
        let segs = vec![Some((7, "Champions".to_string())), Some((7, "Champions".to_string())), None, None];
        let p = SegmentPopularity::fit(&toy(), &segs, 4);
        let recs = p.recommend(Some(7), &[0], 3);
        assert_eq!(recs.iter().map(|r| r.item).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(recs[0].reason, Reason::PopularIn { segment: "Champions".into(), customers: 2 });
        assert_eq!(recs[2].reason, Reason::Popular { customers: 1 }, "item 3 only from the global list");
        assert_eq!(p.recommend(None, &[], 1)[0].reason, Reason::Popular { customers: 3 });
    }

    #[test]
    fn cold_start_gets_popularity() {
        let knn = ItemKnn::fit(&toy(), 4, 50);
        let recs = knn.recommend(&[], 2);
        assert_eq!(recs.iter().map(|r| r.item).collect::<Vec<_>>(), [1, 0]);
        assert!(recs.iter().all(|r| matches!(r.reason, Reason::Popular { .. })));
    }
}
