//! The recommendations stage: a model fitted on every customer's history,
//! the offline comparison of models (DATA.md §4), one customer's view, and
//! the products each segment would be offered.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::StageError;
use super::dataset::{Catalogue, Dataset, LoadData, RecommenderInputs};
use super::segments::{SegmentAnalysis, Segments};
use crate::core::events::EventTable;
use crate::core::pipeline::{Choices, Stage};
use crate::core::progress::{Progress, step};
use crate::core::recommend::{
    Evaluation, EventWeights, Interactions, ItemAttributes, ModelKind, ModelSettings, Recommender, SegmentProducts,
    evaluate,
};

/// The protocol in one line, shown under the evaluation table.
pub const PROTOCOL: &str = "Protocol: for each customer with 2 or more items, the last 20% (rounded up) bought, by first \
     purchase time, are held out; models train on the rest; bought items are never recommended (DATA.md §4).";

/// What the analyst chooses on the Recommendations screen (saved between runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecommendChoices {
    pub model: ModelKind,
    /// Products per customer.
    pub k: usize,
    pub neighbours: usize,
    pub hybrid_item_knn_weight: f64,
    pub view_weight: f64,
    pub cart_weight: f64,
    pub include_bought: bool,
    /// The customer whose recommendations are shown.
    pub customer_id: String,
}

impl Default for RecommendChoices {
    fn default() -> Self {
        let d = ModelSettings::new(ModelKind::DEFAULT);
        RecommendChoices {
            model: d.kind,
            k: 10,
            neighbours: d.neighbours,
            hybrid_item_knn_weight: d.hybrid_item_knn_weight,
            view_weight: 0.0,
            cart_weight: 0.0,
            include_bought: false,
            customer_id: String::new(),
        }
    }
}

impl RecommendChoices {
    pub fn settings(&self) -> ModelSettings {
        ModelSettings {
            kind: self.model,
            weights: EventWeights { purchase: 1.0, cart: self.cart_weight, view: self.view_weight },
            neighbours: self.neighbours.max(1),
            hybrid_item_knn_weight: self.hybrid_item_knn_weight,
            rp3beta: None,
        }
    }
}

/// The recommender in use, fitted on everyone's purchases after the segments
/// (Popularity recommends each segment's own top sellers).
pub struct Recommendations;

impl Stage for Recommendations {
    const NAME: &'static str = "recommendations";
    type Needs = (LoadData, Segments);
    type Choices = RecommendChoices;
    /// The model and the number of products per customer.
    type Params = (ModelSettings, usize);
    type Output = RecommendationLab;

    fn params(choices: &Choices) -> Option<Self::Params> {
        let c = choices.of::<Recommendations>();
        Some((c.settings(), c.k.max(1)))
    }

    fn label((settings, _): &Self::Params) -> String {
        format!("Fitting {}", settings.kind.name())
    }

    fn run(
        (dataset, segments): (Arc<Dataset>, Arc<SegmentAnalysis>),
        (settings, k): &Self::Params,
        progress: &dyn Progress,
    ) -> Result<RecommendationLab, StageError> {
        fit_recommender(&dataset, *settings, *k, Some(&segments), progress)
    }
}

/// Every model scored by the offline protocol (DATA.md §4), after every load.
pub struct ModelComparison;

impl Stage for ModelComparison {
    const NAME: &'static str = "model comparison";
    type Needs = (LoadData,);
    type Choices = ();
    type Params = (ModelSettings, usize);
    type Output = Vec<Evaluation>;

    fn params(choices: &Choices) -> Option<Self::Params> {
        Recommendations::params(choices)
    }

    fn label(_: &Self::Params) -> String {
        "Comparing models".to_string()
    }

    fn run(
        (dataset,): (Arc<Dataset>,),
        (settings, k): &Self::Params,
        progress: &dyn Progress,
    ) -> Result<Vec<Evaluation>, StageError> {
        evaluate_models(&dataset, *settings, *k, progress)
    }
}

/// One customer's purchases and recommendations, for the chosen customer id.
pub struct CustomerLookup;

impl Stage for CustomerLookup {
    const NAME: &'static str = "customer";
    type Needs = (LoadData, Recommendations);
    type Choices = ();
    /// The customer id and whether bought products may come back.
    type Params = (String, bool);
    type Output = CustomerView;

    fn params(choices: &Choices) -> Option<Self::Params> {
        let c = choices.of::<Recommendations>();
        let id = c.customer_id.trim();
        (!id.is_empty()).then(|| (id.to_string(), c.include_bought))
    }

    fn label((id, _): &Self::Params) -> String {
        format!("Recommending for {id}")
    }

    fn run(
        (dataset, lab): (Arc<Dataset>, Arc<RecommendationLab>),
        (id, include_bought): &Self::Params,
        _: &dyn Progress,
    ) -> Result<CustomerView, StageError> {
        let known = dataset.feature_rows.row_of(id).is_some();
        Ok(customer_view(&lab, id, *include_bought, known))
    }
}

/// A fitted model and what it offers each segment.
pub struct RecommendationLab {
    pub recommender: Recommender,
    pub k: usize,
    /// Empty without a segmentation.
    pub segment_products: Vec<SegmentProducts>,
    /// Someone worth showing first: a regular with a history to read, not the
    /// largest wholesaler (the buyer at the 90th percentile of distinct products).
    pub example_customer: Option<String>,
    pub seconds: f64,
}

/// The dataset's recommender inputs for `settings`, built once and shared by
/// the model comparison and the fit. The lock is held while building, so the
/// stage that asks second waits for the first one's result instead of
/// building the same tables again.
pub(super) fn inputs(dataset: &Dataset, settings: &ModelSettings) -> Result<RecommenderInputs, StageError> {
    let purchases_only = settings.weights.purchases_only();
    let mut cache = dataset.recommender_inputs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, inputs)) = cache.iter().find(|(p, _)| *p == purchases_only) {
        return Ok(inputs.clone());
    }
    let built = recommender_inputs(&dataset.events, settings, dataset.catalogue.as_ref())?;
    cache.push((purchases_only, built.clone()));
    Ok(built)
}

/// What every model is fitted on: the interactions (views and carts only when
/// the settings weigh them) and the items' attributes, named from `catalogue`.
pub fn recommender_inputs(
    events: &EventTable,
    settings: &ModelSettings,
    catalogue: Option<&Catalogue>,
) -> Result<(Interactions, ItemAttributes), StageError> {
    let interactions = Interactions::from_events_with(events, !settings.weights.purchases_only())?;
    let mut attributes =
        ItemAttributes::from_events(events, &interactions).map_err(StageError::table("reading item attributes"))?;
    if let Some(c) = catalogue {
        attributes
            .add_catalogue(&c.table, &interactions)
            .map_err(StageError::table(format!("reading {}", c.path.display())))?;
    }
    Ok((interactions, attributes))
}

/// Fits `settings` on all purchases; with segments, also each segment's top products.
pub fn fit_recommender(
    dataset: &Dataset,
    settings: ModelSettings,
    k: usize,
    segments: Option<&SegmentAnalysis>,
    progress: &dyn Progress,
) -> Result<RecommendationLab, StageError> {
    let started = std::time::Instant::now();
    step(progress, 0.05, "collecting purchases")?;
    let (interactions, attributes) = inputs(dataset, &settings)?;
    step(progress, 0.3, &format!("fitting {}", settings.kind.name()))?;
    let rows = segments.map(SegmentAnalysis::rows);
    let recommender = Recommender::fit(settings, interactions, attributes, rows.as_deref());
    step(progress, 0.7, "top products per segment")?;
    let segment_products = rows.map(|r| recommender.segment_products(&r, k)).unwrap_or_default();
    step(progress, 1.0, "done")?;
    let example_customer = example_customer(&recommender.interactions);
    Ok(RecommendationLab {
        recommender,
        k,
        segment_products,
        example_customer,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn example_customer(interactions: &Interactions) -> Option<String> {
    let bought = &interactions.bought;
    let mut by_size: Vec<usize> = (0..bought.len()).collect();
    by_size.sort_by_key(|&c| (bought[c].len(), c));
    by_size.get(by_size.len() * 9 / 10).map(|&c| interactions.customers[c].clone())
}

/// Every model evaluated by the DATA.md §4 protocol with `settings`' parameters.
pub fn evaluate_models(
    dataset: &Dataset,
    settings: ModelSettings,
    k: usize,
    progress: &dyn Progress,
) -> Result<Vec<Evaluation>, StageError> {
    step(progress, 0.02, "collecting purchases")?;
    let (interactions, attributes) = inputs(dataset, &settings)?;
    let mut out = Vec::new();
    for (i, kind) in ModelKind::ALL.into_iter().enumerate() {
        step(progress, 0.05 + 0.95 * i as f32 / ModelKind::ALL.len() as f32, &format!("evaluating {}", kind.name()))?;
        out.push(evaluate(&ModelSettings { kind, ..settings }, &interactions, &attributes, k));
    }
    step(progress, 1.0, "done")?;
    Ok(out)
}

/// A product as the screen lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductLine {
    pub item_id: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub category: String,
}

/// One recommended product with its score and reason.
#[derive(Clone, Debug, PartialEq)]
pub struct RecommendedLine {
    pub product: ProductLine,
    pub score: f64,
    pub reason: String,
}

/// A customer's purchases and top-N.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerView {
    pub customer_id: String,
    pub known: bool,
    pub bought: Vec<ProductLine>,
    pub recommended: Vec<RecommendedLine>,
    pub include_bought: bool,
    pub model: ModelKind,
}

pub fn product(rec: &Recommender, item: u32) -> ProductLine {
    ProductLine {
        item_id: rec.item_id(item).to_string(),
        name: rec.item_name(item),
        name_zh: rec.attributes.name_zh[item as usize].clone(),
        category: rec.item_category(item).unwrap_or("").to_string(),
    }
}

/// What the Recommendations screen shows for one customer id.
pub fn customer_view(lab: &RecommendationLab, customer_id: &str, include_bought: bool, known: bool) -> CustomerView {
    let rec = &lab.recommender;
    let bought = rec.bought(customer_id).iter().map(|&i| product(rec, i)).collect();
    let recommended = rec
        .recommend(customer_id, lab.k, include_bought)
        .iter()
        .map(|r| RecommendedLine { product: product(rec, r.item), score: r.score, reason: rec.reason(r) })
        .collect();
    CustomerView {
        customer_id: customer_id.to_string(),
        known,
        bought,
        recommended,
        include_bought,
        model: rec.settings.kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::Silent;
    use crate::core::stages::dataset::load_dataset;
    use crate::core::stages::segments::{Method, analyse_segments};

    #[test]
    fn a_customer_gets_k_reasoned_products_not_already_bought() {
        let d = load_dataset(&crate::core::sample::bundled::events_path(), &[], None, &Silent).unwrap();
        let seg = analyse_segments(&d, Method::KMeans, &Default::default(), &Silent).unwrap();
        let lab = fit_recommender(&d, ModelSettings::new(ModelKind::ItemKnn), 10, Some(&seg), &Silent).unwrap();
        // The inputs are built once per dataset and setting, then reused.
        assert_eq!(d.recommender_inputs.lock().unwrap().len(), 1);
        let again = fit_recommender(&d, ModelSettings::new(ModelKind::Popularity), 10, None, &Silent).unwrap();
        assert_eq!(d.recommender_inputs.lock().unwrap().len(), 1);
        assert_eq!(again.recommender.interactions.customers, lab.recommender.interactions.customers);
        // Views weighed in are another setting: their own inputs, with the signals.
        let mut with_views = ModelSettings::new(ModelKind::Popularity);
        with_views.weights.view = 0.2;
        let viewed = fit_recommender(&d, with_views, 10, None, &Silent).unwrap();
        assert_eq!(d.recommender_inputs.lock().unwrap().len(), 2);
        let signals = |l: &RecommendationLab| l.recommender.interactions.signals.iter().map(Vec::len).sum::<usize>();
        assert!(signals(&viewed) > signals(&lab), "views in one, not in the other");
        let id = &lab.recommender.interactions.customers[0];
        let v = customer_view(&lab, id, false, true);
        assert_eq!(v.recommended.len(), 10);
        assert!(!v.bought.is_empty());
        assert!(v.recommended.iter().all(|r| !r.reason.is_empty() && !v.bought.contains(&r.product)));
        assert!(v.recommended[0].product.name_zh.is_some());
        assert_eq!(lab.segment_products.len(), seg.segments.len());
        // The example customer has a typical history: more products than the median buyer, fewer than the most.
        let example = lab.example_customer.as_deref().unwrap();
        let sizes: Vec<usize> = lab.recommender.interactions.bought.iter().map(Vec::len).collect();
        let n = lab.recommender.bought(example).len();
        assert!(
            n >= {
                let mut s = sizes.clone();
                s.sort();
                s[s.len() / 2]
            },
            "{n}"
        );
        assert!(n < *sizes.iter().max().unwrap());
    }
}
