//! Content-based recommendations: items described by their attributes
//! (category, brand, price band, name words weighted by TF-IDF), customers by
//! the sum of what they bought; the score is the cosine of the two.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::interactions::Interactions;
use super::models::{Popularity, Reason, Recommendation};
use crate::core::events::{EventTable, col_name, is_bought_line};
use crate::core::table::{f64_column, text_column};

/// What is known about each item (index = item number of the interactions).
#[derive(Clone, Debug, Default)]
pub struct ItemAttributes {
    pub category: Vec<Option<String>>,
    pub brand: Vec<Option<String>>,
    pub name: Vec<Option<String>>,
    /// The catalogue's Chinese name (`name_zh`), where it has one.
    pub name_zh: Vec<Option<String>>,
    /// Mean unit price of the item's purchase lines.
    pub price: Vec<Option<f64>>,
}

impl ItemAttributes {
    /// Category and mean price per item, from the events.
    pub fn from_events(events: &EventTable, interactions: &Interactions) -> PolarsResult<ItemAttributes> {
        let n = interactions.items.len();
        let mut attrs = ItemAttributes {
            category: vec![None; n],
            brand: vec![None; n],
            name: vec![None; n],
            name_zh: vec![None; n],
            price: vec![None; n],
        };
        let mut aggs = vec![];
        if events.has_category {
            aggs.push(col(col_name::CATEGORY).drop_nulls().first().alias("category"));
        }
        if events.has_price {
            aggs.push(col(col_name::PRICE).mean().alias("price"));
        }
        if aggs.is_empty() {
            return Ok(attrs);
        }
        let df = events
            .df
            .clone()
            .lazy()
            .filter(is_bought_line())
            .group_by([col(events.item_key())])
            .agg(aggs)
            .with_column(events.item_id_expr())
            .collect()?;
        let ids = text_column(&df, "item_id")?;
        let category = if events.has_category { Some(text_column(&df, "category")?) } else { None };
        let price = if events.has_price { Some(f64_column(&df, "price")?) } else { None };
        for (row, id) in ids.iter().enumerate() {
            if let Ok(i) = interactions.items.binary_search(id) {
                attrs.category[i] = category.as_ref().map(|c| c[row].clone()).filter(|c| !c.is_empty());
                attrs.price[i] = price.as_ref().and_then(|p| p[row]);
            }
        }
        Ok(attrs)
    }

    /// Adds names, brands (and categories where missing) from a product
    /// catalogue with an `item_id` column and any of `name`, `brand`, `category`.
    pub fn add_catalogue(&mut self, catalogue: &DataFrame, interactions: &Interactions) -> PolarsResult<()> {
        let ids = text_column(catalogue, "item_id")?;
        let column = |name: &str| text_column(catalogue, name).ok();
        let (names, brands, categories) = (column("name"), column("brand"), column("category"));
        let names_zh = column("name_zh");
        for (row, id) in ids.iter().enumerate() {
            if let Ok(i) = interactions.items.binary_search(id) {
                let pick = |c: &Option<Vec<String>>| c.as_ref().map(|c| c[row].clone()).filter(|v| !v.is_empty());
                self.name[i] = pick(&names).or(self.name[i].take());
                self.brand[i] = pick(&brands).or(self.brand[i].take());
                self.name_zh[i] = pick(&names_zh).or(self.name_zh[i].take());
                if self.category[i].is_none() {
                    self.category[i] = pick(&categories);
                }
            }
        }
        Ok(())
    }
}

/// Words of a product name worth matching on (lower case, 3+ letters).
fn tokens(name: &str) -> Vec<String> {
    let mut words: Vec<String> =
        name.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_lowercase).collect();
    words.sort();
    words.dedup();
    words
}

/// Items as sparse, L2-normalised attribute vectors.
#[derive(Clone, Debug)]
pub struct ContentModel {
    item_features: Vec<Vec<(u32, f64)>>,
    /// Inverted index: feature → (item, weight).
    feature_items: Vec<Vec<(u32, f64)>>,
    category_feature: Vec<Option<u32>>,
    feature_names: Vec<String>,
    popularity: Popularity,
}

impl ContentModel {
    /// Category weighs 1, brand 0.7, price band (quintile of item prices) 0.5,
    /// and name words share a weight of 1 by TF-IDF.
    pub fn fit(attrs: &ItemAttributes, train: &[Vec<u32>], n_items: usize) -> ContentModel {
        let mut feature_ids: BTreeMap<String, u32> = BTreeMap::new();
        let mut id_of = |name: String| -> u32 {
            let next = feature_ids.len() as u32;
            *feature_ids.entry(name).or_insert(next)
        };
        let mut prices: Vec<f64> = attrs.price.iter().flatten().copied().collect();
        prices.sort_by(f64::total_cmp);
        let band = |p: f64| prices.partition_point(|&x| x < p) * 5 / prices.len().max(1);
        let word_lists: Vec<Vec<String>> = (0..n_items)
            .map(|i| attrs.name.get(i).cloned().flatten().map(|n| tokens(&n)).unwrap_or_default())
            .collect();
        let mut document_frequency: BTreeMap<&str, usize> = BTreeMap::new();
        for words in &word_lists {
            for w in words {
                *document_frequency.entry(w.as_str()).or_default() += 1;
            }
        }
        let mut item_features = Vec::with_capacity(n_items);
        let mut category_feature = Vec::with_capacity(n_items);
        for (i, words) in word_lists.iter().enumerate() {
            let mut v: Vec<(u32, f64)> = Vec::new();
            let category = attrs.category.get(i).cloned().flatten().map(|c| id_of(format!("category:{c}")));
            category_feature.push(category);
            v.extend(category.map(|f| (f, 1.0)));
            if let Some(b) = attrs.brand.get(i).cloned().flatten() {
                v.push((id_of(format!("brand:{b}")), 0.7));
            }
            if let Some(p) = attrs.price.get(i).copied().flatten() {
                v.push((id_of(format!("price band {}", band(p) + 1)), 0.5));
            }
            let idf: Vec<f64> =
                words.iter().map(|w| (n_items as f64 / document_frequency[w.as_str()] as f64).ln() + 1.0).collect();
            let norm = idf.iter().map(|x| x * x).sum::<f64>().sqrt();
            for (w, x) in words.iter().zip(&idf) {
                v.push((id_of(format!("word:{w}")), x / norm.max(1e-12)));
            }
            let length = v.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
            v.iter_mut().for_each(|(_, x)| *x /= length.max(1e-12));
            v.sort_by_key(|(f, _)| *f);
            item_features.push(v);
        }
        let mut feature_items = vec![Vec::new(); feature_ids.len()];
        for (i, v) in item_features.iter().enumerate() {
            for &(f, x) in v {
                feature_items[f as usize].push((i as u32, x));
            }
        }
        let mut feature_names = vec![String::new(); feature_ids.len()];
        for (name, id) in feature_ids {
            feature_names[id as usize] = name;
        }
        ContentModel {
            item_features,
            feature_items,
            category_feature,
            feature_names,
            popularity: Popularity::fit(train, n_items),
        }
    }

    /// Items most like what the customer bought (cosine of attribute vectors),
    /// none of `bought`; popular items fill in.
    pub fn recommend(&self, bought: &[u32], exclude: &[u32], k: usize) -> Vec<Recommendation> {
        let mut profile: BTreeMap<u32, f64> = BTreeMap::new();
        let mut category_counts: BTreeMap<u32, usize> = BTreeMap::new();
        for &i in bought {
            for &(f, x) in &self.item_features[i as usize] {
                *profile.entry(f).or_default() += x;
            }
            if let Some(c) = self.category_feature[i as usize] {
                *category_counts.entry(c).or_default() += 1;
            }
        }
        let favourite = category_counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(&c, _)| c);
        let length = profile.values().map(|x| x * x).sum::<f64>().sqrt();
        let mut scores: BTreeMap<u32, f64> = BTreeMap::new();
        for (&f, &w) in &profile {
            for &(item, x) in &self.feature_items[f as usize] {
                if exclude.binary_search(&item).is_err() {
                    *scores.entry(item).or_default() += w * x / length.max(1e-12);
                }
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(k);
        let mut out: Vec<Recommendation> = ranked
            .into_iter()
            .map(|(item, score)| {
                let matches = self.category_feature[item as usize].filter(|c| Some(*c) == favourite);
                let reason = match matches {
                    Some(c) => Reason::MatchesCategory {
                        category: self.feature_names[c as usize].trim_start_matches("category:").to_string(),
                    },
                    None => Reason::SimilarAttributes,
                };
                Recommendation { item, score, reason }
            })
            .collect();
        self.popularity.fill(&mut out, exclude, k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_favourite_category() {
        let attrs = ItemAttributes {
            category: vec![Some("Toys".into()), Some("Toys".into()), Some("Books".into()), Some("Toys".into())],
            brand: vec![None; 4],
            name: vec![
                Some("Red toy car".into()),
                Some("Blue toy car".into()),
                Some("Cookbook".into()),
                Some("Kite".into()),
            ],
            name_zh: vec![None; 4],
            price: vec![Some(5.0), Some(6.0), Some(20.0), Some(30.0)],
        };
        let train = vec![vec![0], vec![2]];
        let model = ContentModel::fit(&attrs, &train, 4);
        let recs = model.recommend(&[0], &[0], 2);
        // Item 1 shares category, price band and the words "toy" and "car" with item 0.
        assert_eq!(recs[0].item, 1);
        assert_eq!(recs[0].reason, Reason::MatchesCategory { category: "Toys".into() });
        assert_eq!(recs[1].item, 3, "same category, fewer shared words");
        assert!(recs[0].score > recs[1].score);
    }
}
