//! Where the bundled demo shop is found, wherever the binary runs: a
//! `sample_data/` folder beside the executable (as a package may ship it),
//! else the copy built into the binary, unpacked once into a cache folder.
//! The build directory is never consulted, so a copied or installed binary
//! opens on the demo after the checkout moves.

use crate::core::campaign::file::{Campaign, read_campaign};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

/// The word that names the bundled sample where a file is expected (`--events sample`).
pub const SAMPLE_WORD: &str = "sample";

/// The demo shop's files, as built into the binary.
const FILES: [(&str, &[u8]); 4] = [
    ("events.parquet", include_bytes!("../../../sample_data/events.parquet")),
    ("products.csv", include_bytes!("../../../sample_data/products.csv")),
    ("customers.csv", include_bytes!("../../../sample_data/customers.csv")),
    ("past_campaign.csv", include_bytes!("../../../sample_data/past_campaign.csv")),
];

/// The demo shop's campaigns: four offers on the default response model, and
/// the past campaign's three offers on the arms calibrated from it.
pub const CAMPAIGN: &str = include_str!("../../../sample_data/campaign.json");
pub const CALIBRATED_CAMPAIGN: &str = include_str!("../../../sample_data/campaign_calibrated.json");

/// The bundled events file (see the module comment for where it is found).
pub fn events_path() -> PathBuf {
    sample_dir().join(FILES[0].0)
}

/// The bundled shop's past campaign results (`past_campaign.csv`).
pub fn past_campaign_path() -> PathBuf {
    sample_dir().join(FILES[3].0)
}

/// `path` itself, or the bundled events file where the path is the word `sample`.
pub fn resolve(path: &Path) -> PathBuf {
    if path.as_os_str() == SAMPLE_WORD && !path.exists() { events_path() } else { path.to_path_buf() }
}

/// Whether `path` is the bundled events file.
pub fn is_sample(path: &Path) -> bool {
    path == events_path()
}

/// How a path is shown to people: the bundled sample by that name, not by
/// the cache folder it was unpacked into.
pub fn shown(path: &Path) -> String {
    if is_sample(path) { "the bundled sample shop".to_string() } else { path.display().to_string() }
}

/// How a path is written in a path field: `sample` for the bundled shop,
/// which the loaders read back as the bundled events.
pub fn shown_in_field(path: &Path) -> String {
    if is_sample(path) { SAMPLE_WORD.to_string() } else { path.display().to_string() }
}

/// The folder holding the demo shop's files, found (and unpacked) once per run.
pub fn sample_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(beside) = beside_executable() {
            return beside;
        }
        let dir = unpack_dir();
        // A failure to unpack leaves the path to a file that is not there: the
        // load then says so, naming it, like any missing file.
        let _ = unpack(&dir);
        dir
    })
    .clone()
}

fn beside_executable() -> Option<PathBuf> {
    let dir = std::env::current_exe().ok()?.parent()?.join("sample_data");
    dir.join(FILES[0].0).is_file().then_some(dir)
}

/// A cache folder named after the bundled contents, so that a binary with
/// another sample never reads this one's files.
fn unpack_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("promo-studio").join(format!("sample-{:016x}", contents_hash()))
}

fn contents_hash() -> u64 {
    let mut hasher = foldhash::fast::FixedState::with_seed(0x5a_17_e5).build_hasher();
    for (name, bytes) in FILES {
        hasher.write(name.as_bytes());
        hasher.write(bytes);
    }
    hasher.finish()
}

/// Writes every file that is missing or of another size, atomically (two
/// app instances starting together never see half a file).
fn unpack(dir: &Path) -> Result<(), crate::core::output::OutputError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| crate::core::output::OutputError { path: dir.display().to_string(), message: e.to_string() })?;
    for (name, bytes) in FILES {
        let path = dir.join(name);
        let same = std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64);
        if !same {
            crate::core::output::write_atomically(&path, |w| {
                std::io::Write::write_all(w, bytes).map_err(|e| e.to_string())
            })?;
        }
    }
    Ok(())
}

/// The campaign the editor starts from before anyone edits: the bundled
/// autumn offers, on the arms the bundled shop's July test calibrated when
/// that evidence is there (`calibrated`), else on the default assumptions
/// (another shop's data has no such arms).
pub fn starting_campaign(calibrated: bool) -> Campaign {
    let mut campaign = read_campaign(CALIBRATED_CAMPAIGN).unwrap_or_else(|_| Campaign::new("Autumn offers"));
    if !calibrated {
        campaign.name = "Autumn offers".to_string();
        for offer in &mut campaign.offers {
            offer.response = None;
        }
    }
    if campaign.offers.is_empty() {
        campaign.add_offer();
    }
    campaign
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starting_campaign_uses_arms_only_where_they_were_calibrated() {
        let on_arms = starting_campaign(true);
        assert!(on_arms.offers.iter().all(|o| o.response.is_some()));
        let elsewhere = starting_campaign(false);
        assert!(elsewhere.offers.iter().all(|o| o.response.is_none()));
        assert_eq!(elsewhere.offers.len(), on_arms.offers.len());
        assert!(elsewhere.validate(&Default::default()).is_empty());
    }

    #[test]
    fn the_built_in_copy_unpacks_whole_and_repairs_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        unpack(dir.path()).unwrap();
        for (name, bytes) in FILES {
            assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), bytes, "{name}");
        }
        std::fs::write(dir.path().join("products.csv"), b"truncated").unwrap();
        unpack(dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join("products.csv")).unwrap(), FILES[1].1);
    }

    #[test]
    fn the_word_sample_names_the_bundled_events() {
        assert_eq!(resolve(Path::new("sample")), events_path());
        assert_eq!(resolve(Path::new("other.csv")), PathBuf::from("other.csv"));
        assert!(events_path().is_file());
    }
}
