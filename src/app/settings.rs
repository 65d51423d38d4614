//! What the user chose, saved between runs (eframe persistence). Every field
//! has a default, so a state file from an older version still loads; a file
//! that does not decode at all is reported and replaced. The stages' own
//! choices are saved by the pipeline, under each stage's name.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The title of the screen shown ("" = the first).
    pub screen: String,
    /// The last events file loaded by the user (None: the bundled sample).
    pub last_file: Option<PathBuf>,
    /// Canonical column → file column choices made for `last_file`.
    pub mapping: Vec<(String, String)>,
    /// The text encoding chosen for CSV files ("" = detected).
    pub encoding: String,
    /// Each stage's choices by stage name (`Flow::save_choices`).
    pub stages: serde_json::Map<String, serde_json::Value>,
    /// Whether files are read on a cluster, and which.
    pub cluster: ClusterChoice,
}

/// "Compute on: this computer / a cluster" on the Data screen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterChoice {
    pub on: bool,
    /// The scheduler's HOST:PORT.
    pub scheduler: String,
}

impl ClusterChoice {
    /// The engine files are read on, or why the address is not one. A choice
    /// saved by a build with the cluster engine means nothing to one without.
    pub fn engine(&self) -> Result<crate::core::cluster::Engine, String> {
        if !(self.on && crate::core::cluster::AVAILABLE) {
            return Ok(crate::core::cluster::Engine::Local);
        }
        crate::core::cluster::Engine::parse(&format!("ballista://{}", self.scheduler.trim()))
    }
}

impl Default for ClusterChoice {
    fn default() -> Self {
        ClusterChoice { on: false, scheduler: "127.0.0.1:50050".into() }
    }
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
        let s = decode(r#"{"screen":"Segments","stages":{"segments":{"k":7}}}"#).unwrap();
        assert_eq!(s.screen, "Segments");
        // The stage's saved choices come back, the missing ones at their defaults.
        let mut flow = crate::core::pipeline::Flow::new(crate::core::stages::flow());
        assert!(flow.restore_choices(&s.stages).is_empty());
        let segments = flow.choices.of::<crate::core::stages::segments::Segments>();
        assert_eq!((segments.k, segments.n_init), (7, 10));
        assert!(s.last_file.is_none());
        assert!(decode("{not json").unwrap_err().contains("defaults are used"));
        let round = decode(&encode(&s)).unwrap();
        assert_eq!(round, s);
    }
}
