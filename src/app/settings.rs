//! What the user chose, saved between runs (eframe persistence). Every field
//! has a default, so a state file from an older version still loads; a file
//! that does not decode at all is reported and replaced.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::recommend::{EventWeights, ModelKind, ModelSettings};
use crate::core::segment::{FeatureSpec, KMeansParams, SegmentationSettings};
use crate::core::stages::segments::Method;

/// The screens, in flow order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Screen {
    #[default]
    Data,
    Segments,
    Recommendations,
}

impl Screen {
    pub const ALL: [Screen; 3] = [Screen::Data, Screen::Segments, Screen::Recommendations];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Data => "Data",
            Screen::Segments => "Segments",
            Screen::Recommendations => "Recommendations",
        }
    }

    pub fn from_name(name: &str) -> Option<Screen> {
        Screen::ALL.into_iter().find(|s| s.title().eq_ignore_ascii_case(name))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentChoices {
    pub method: Method,
    pub features: Vec<FeatureSpec>,
    pub k: usize,
    pub n_init: usize,
    pub seed: u64,
    /// The k range scanned for the elbow and silhouette chart.
    pub k_min: usize,
    pub k_max: usize,
}

impl Default for SegmentChoices {
    fn default() -> Self {
        let d = KMeansParams::default();
        SegmentChoices {
            method: Method::KMeans,
            features: FeatureSpec::defaults(),
            k: d.k,
            n_init: d.n_init,
            seed: d.seed,
            k_min: 2,
            k_max: 10,
        }
    }
}

impl SegmentChoices {
    pub fn settings(&self) -> SegmentationSettings {
        SegmentationSettings {
            features: self.features.clone(),
            kmeans: KMeansParams { k: self.k, n_init: self.n_init, seed: self.seed, ..Default::default() },
        }
    }
}

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
    pub customer_id: String,
}

impl Default for RecommendChoices {
    fn default() -> Self {
        let d = ModelSettings::new(ModelKind::ItemKnn);
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
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub screen: Screen,
    /// The last events file loaded by the user (None: the bundled sample).
    pub last_file: Option<PathBuf>,
    /// Canonical column → file column choices made for `last_file`.
    pub mapping: Vec<(String, String)>,
    pub segments: SegmentChoices,
    pub recommend: RecommendChoices,
}

/// The storage key of [`Settings`].
pub const STORAGE_KEY: &str = "promo-studio-settings";

/// Decodes saved settings; an error says what was wrong, for the user.
pub fn decode(text: &str) -> Result<Settings, String> {
    serde_json::from_str(text).map_err(|e| format!("the saved settings could not be read ({e}); defaults are used"))
}

pub fn encode(settings: &Settings) -> String {
    serde_json::to_string(settings).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_or_partial_state_loads_with_defaults() {
        let s = decode(r#"{"screen":"Segments","segments":{"k":7}}"#).unwrap();
        assert_eq!(s.screen, Screen::Segments);
        assert_eq!(s.segments.k, 7);
        assert_eq!(s.segments.n_init, 10);
        assert_eq!(s.recommend.k, 10);
        assert!(decode("{not json").unwrap_err().contains("defaults are used"));
        let round = decode(&encode(&s)).unwrap();
        assert_eq!(round, s);
    }
}
