//! The bundles stage: association rules mined from the shop's purchase
//! orders ("often bought together"), shown on the Recommendations screen and
//! proposed to the campaign's `bundle` offers.

use std::sync::Arc;

use super::StageError;
use super::dataset::{Dataset, LoadData};
use super::recommendations::inputs;
use crate::core::pipeline::{Choices, Stage};
use crate::core::progress::{Progress, step};
use crate::core::recommend::bundles::{self, BasketData, BundleSettings, Bundles, Itemset, Rule};
use crate::core::recommend::{ModelKind, ModelSettings};

/// Rules mined from the orders, with the products' ids and names.
pub struct BasketRules {
    pub bundles: Bundles,
    /// Item ids; index = the item numbers of the rules.
    pub items: Vec<String>,
    /// Product names (the id where there is none), aligned with `items`.
    pub names: Vec<String>,
    /// The strongest bundles with their best rules, picked once here for the
    /// screens that list them every frame.
    pub top: Vec<(Itemset, Rule)>,
}

/// Bundles the screens list and propose.
pub const TOP_BUNDLES: usize = 12;

impl BasketRules {
    /// "Name A + Name B".
    pub fn label(&self, items: &[u32]) -> String {
        items.iter().map(|&i| self.names[i as usize].as_str()).collect::<Vec<_>>().join(" + ")
    }

    pub fn ids(&self, items: &[u32]) -> Vec<String> {
        items.iter().map(|&i| self.items[i as usize].clone()).collect()
    }
}

/// Often bought together, mined after every load.
pub struct OftenBoughtTogether;

impl Stage for OftenBoughtTogether {
    const NAME: &'static str = "bundles";
    type Needs = (LoadData,);
    type Choices = BundleSettings;
    type Params = BundleSettings;
    type Output = BasketRules;

    fn params(choices: &Choices) -> Option<Self::Params> {
        let settings = choices.of::<OftenBoughtTogether>();
        settings.check().is_ok().then_some(settings)
    }

    fn label(_: &Self::Params) -> String {
        "Mining baskets".to_string()
    }

    fn run(
        (dataset,): (Arc<Dataset>,),
        settings: &BundleSettings,
        progress: &dyn Progress,
    ) -> Result<BasketRules, StageError> {
        step(progress, 0.05, "collecting orders")?;
        let data = BasketData::from_orders(&dataset.events)?;
        step(progress, 0.4, "mining itemsets")?;
        let mined = bundles::mine(&data.baskets, settings)?;
        step(progress, 0.9, "naming products")?;
        // The recommender's attributes carry the catalogue's names (shared, cached).
        let (interactions, attributes) = inputs(&dataset, &ModelSettings::new(ModelKind::DEFAULT))?;
        let names = data
            .items
            .iter()
            .map(|id| {
                interactions
                    .items
                    .binary_search(id)
                    .ok()
                    .and_then(|n| attributes.name[n].clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| id.clone())
            })
            .collect();
        let top = mined.top_bundles(TOP_BUNDLES).into_iter().map(|(s, r)| (s.clone(), r.clone())).collect();
        step(progress, 1.0, "done")?;
        Ok(BasketRules { bundles: mined, items: data.items, names, top })
    }
}
