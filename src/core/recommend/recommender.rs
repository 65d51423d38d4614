//! A fitted recommender over one events table: the model, every customer's
//! basket and the item names, so that the command line and the app ask the
//! same object for a customer's top-N, their history and per-segment products.

use std::collections::HashMap;

use super::{
    Basket, ItemAttributes, Model, ModelKind, ModelSettings, Recommendation, SegmentPopularity, SegmentProducts,
    baskets, segment_top_products,
};
use crate::core::recommend::Interactions;

/// A customer's segment: (customer id, segment id, segment name).
pub type SegmentRow = (String, i32, String);

pub struct Recommender {
    pub settings: ModelSettings,
    pub interactions: Interactions,
    pub attributes: ItemAttributes,
    baskets: Vec<Basket>,
    model: Model,
    /// With segments, popularity means each segment's own top sellers.
    by_segment: Option<SegmentPopularity>,
    segment_of: HashMap<String, (i32, String)>,
}

impl Recommender {
    /// Fits `settings` on every customer's full history.
    pub fn fit(
        settings: ModelSettings,
        interactions: Interactions,
        attributes: ItemAttributes,
        segments: Option<&[SegmentRow]>,
    ) -> Recommender {
        let all = baskets(&interactions, None, &settings.weights);
        let model = Model::fit(&settings, &all, &attributes);
        let segment_of: HashMap<String, (i32, String)> =
            segments.iter().flat_map(|t| t.iter()).map(|(id, s, name)| (id.clone(), (*s, name.clone()))).collect();
        let by_segment = (settings.kind == ModelKind::Popularity && segments.is_some()).then(|| {
            let of: Vec<Option<(i32, String)>> =
                interactions.customers.iter().map(|c| segment_of.get(c.as_str()).cloned()).collect();
            let bought: Vec<Vec<u32>> = all.iter().map(|b| b.bought.clone()).collect();
            SegmentPopularity::fit(&bought, &of, interactions.items.len())
        });
        Recommender { settings, interactions, attributes, baskets: all, model, by_segment, segment_of }
    }

    /// The customer's number among buyers, if they bought anything.
    pub fn customer_number(&self, id: &str) -> Option<usize> {
        self.interactions.customers.binary_search_by(|c| c.as_str().cmp(id)).ok()
    }

    /// Items the customer bought (item numbers, sorted).
    pub fn bought(&self, id: &str) -> &[u32] {
        self.customer_number(id).map_or(&[], |c| &self.baskets[c].bought[..])
    }

    /// The customer's top `k`; already bought items left out unless `include_bought`.
    pub fn recommend(&self, id: &str, k: usize, include_bought: bool) -> Vec<Recommendation> {
        let number = self.customer_number(id);
        match &self.by_segment {
            Some(p) => {
                let bought = if include_bought { &[][..] } else { self.bought(id) };
                p.recommend(self.segment_of.get(id).map(|s| s.0), bought, k)
            }
            None => {
                let no_history = Basket::default();
                let basket = number.map_or(&no_history, |c| &self.baskets[c]);
                self.model.recommend_with(number, basket, k, !include_bought)
            }
        }
    }

    pub fn item_id(&self, item: u32) -> &str {
        &self.interactions.items[item as usize]
    }

    /// The product's name (catalogue or events file), or its id where it has none.
    pub fn item_name(&self, item: u32) -> String {
        match &self.attributes.name[item as usize] {
            Some(name) if !name.is_empty() => name.clone(),
            _ => self.item_id(item).to_string(),
        }
    }

    pub fn item_category(&self, item: u32) -> Option<&str> {
        self.attributes.category[item as usize].as_deref()
    }

    /// The recommendation's reason as a sentence, products named.
    pub fn reason(&self, r: &Recommendation) -> String {
        r.reason.describe(|i| self.item_name(i))
    }

    /// The `k` products most often in the top-`k` of each segment's members.
    pub fn segment_products(&self, segments: &[SegmentRow], k: usize) -> Vec<SegmentProducts> {
        use rayon::prelude::*;
        let recommended: Vec<Vec<u32>> = segments
            .par_iter()
            .map(|(id, _, _)| self.recommend(id, k, false).iter().map(|r| r.item).collect())
            .collect();
        let labels: Vec<(i32, String)> = segments.iter().map(|(_, s, n)| (*s, n.clone())).collect();
        segment_top_products(&recommended, &labels, k)
    }
}
