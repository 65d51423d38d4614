//! The campaign being edited: every change kept for undo and redo, and
//! written to an autosave file at once (atomically), so that an edit
//! survives a crash; the next start finds it there.

use std::path::{Path, PathBuf};

use super::file::{Campaign, CampaignError, read_campaign};
use crate::core::output::{self, OutputError};

/// Steps of undo kept; older ones are forgotten.
const HISTORY: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Campaign { path: String, source: CampaignError },
    #[error(transparent)]
    Write(#[from] OutputError),
}

/// A campaign under edit.
#[derive(Debug)]
pub struct CampaignDraft {
    current: Campaign,
    undo: Vec<Campaign>,
    redo: Vec<Campaign>,
    /// Where every edit is written at once (None: nowhere, as in tests of the screens).
    autosave: Option<PathBuf>,
    /// The file the user opened or last saved to.
    pub file: Option<PathBuf>,
    /// Whether there are edits since the file was opened or saved.
    pub modified: bool,
    /// The field the last edit changed and when: typing or dragging in one
    /// field is one undo step, not one per keystroke or pixel.
    last_field: Option<(String, std::time::Instant)>,
}

/// Edits of one field closer together than this are one undo step.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(1500);

impl CampaignDraft {
    pub fn new(campaign: Campaign, autosave: Option<PathBuf>) -> CampaignDraft {
        CampaignDraft {
            current: campaign,
            undo: Vec::new(),
            redo: Vec::new(),
            autosave,
            file: None,
            modified: false,
            last_field: None,
        }
    }

    /// The draft a crash left in `autosave`, if there is one; an unreadable
    /// one is an error to show (and `fallback` is edited instead).
    pub fn restore(autosave: PathBuf, fallback: Campaign) -> (CampaignDraft, Option<DraftError>) {
        if !autosave.exists() {
            return (CampaignDraft::new(fallback, Some(autosave)), None);
        }
        match read_file(&autosave) {
            Ok(campaign) => {
                let mut draft = CampaignDraft::new(campaign, Some(autosave));
                draft.modified = true;
                (draft, None)
            }
            Err(e) => (CampaignDraft::new(fallback, Some(autosave)), Some(e)),
        }
    }

    /// Replaces the campaign with no undo step and no autosave: the starting
    /// point changed (another shop was loaded), nobody edited anything.
    pub fn reset(&mut self, campaign: Campaign) {
        self.current = campaign;
        self.undo.clear();
        self.redo.clear();
        self.modified = false;
        self.last_field = None;
    }

    /// Whether nobody has edited, opened or saved anything yet.
    pub fn is_untouched(&self) -> bool {
        !self.modified && self.undo.is_empty() && self.file.is_none()
    }

    pub fn campaign(&self) -> &Campaign {
        &self.current
    }

    /// Changes the campaign through `change`; a change that changes nothing
    /// leaves no undo step. The autosave is written before this returns.
    pub fn edit(&mut self, change: impl FnOnce(&mut Campaign)) -> Result<(), DraftError> {
        self.last_field = None;
        self.change(change, false)
    }

    /// As [`CampaignDraft::edit`], for an edit of `field` (its path in the
    /// file): repeated edits of the same field in quick succession undo together.
    pub fn edit_field(&mut self, field: &str, change: impl FnOnce(&mut Campaign)) -> Result<(), DraftError> {
        let now = std::time::Instant::now();
        let same = self.last_field.as_ref().is_some_and(|(f, at)| f == field && now - *at < COALESCE);
        self.last_field = Some((field.to_string(), now));
        self.change(change, same && self.can_undo())
    }

    fn change(&mut self, change: impl FnOnce(&mut Campaign), merge: bool) -> Result<(), DraftError> {
        let mut next = self.current.clone();
        change(&mut next);
        if next == self.current {
            return Ok(());
        }
        let previous = std::mem::replace(&mut self.current, next);
        if !merge {
            self.undo.push(previous);
        }
        if self.undo.len() > HISTORY {
            self.undo.remove(0);
        }
        self.redo.clear();
        self.modified = true;
        self.autosave()
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self) -> Result<(), DraftError> {
        self.travel(true)
    }

    pub fn redo(&mut self) -> Result<(), DraftError> {
        self.travel(false)
    }

    /// One step back (undo) or forward (redo): the campaign taken from one
    /// history goes current, and the current one goes to the other history.
    fn travel(&mut self, back: bool) -> Result<(), DraftError> {
        self.last_field = None;
        let (from, to) = if back { (&mut self.undo, &mut self.redo) } else { (&mut self.redo, &mut self.undo) };
        if let Some(campaign) = from.pop() {
            to.push(std::mem::replace(&mut self.current, campaign));
            self.modified = true;
            self.autosave()?;
        }
        Ok(())
    }

    /// Opens a campaign file for editing (an undoable step).
    pub fn open(&mut self, path: &Path) -> Result<(), DraftError> {
        let campaign = read_file(path)?;
        self.edit(|c| *c = campaign)?;
        self.file = Some(path.to_path_buf());
        self.modified = false;
        Ok(())
    }

    /// Saves the campaign to `path` (the same JSON as the command line reads), whole or not at all.
    pub fn save_as(&mut self, path: &Path) -> Result<(), DraftError> {
        write_file(path, &self.current)?;
        self.file = Some(path.to_path_buf());
        self.modified = false;
        Ok(())
    }

    fn autosave(&self) -> Result<(), DraftError> {
        match &self.autosave {
            Some(path) => write_file(path, &self.current),
            None => Ok(()),
        }
    }
}

fn read_file(path: &Path) -> Result<Campaign, DraftError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| DraftError::Read { path: shown.clone(), source })?;
    read_campaign(&text).map_err(|source| DraftError::Campaign { path: shown, source })
}

fn write_file(path: &Path, campaign: &Campaign) -> Result<(), DraftError> {
    let text = campaign
        .to_json_pretty()
        .map_err(|source| DraftError::Campaign { path: path.display().to_string(), source })?;
    output::write_atomically(path, |w| std::io::Write::write_all(w, text.as_bytes()).map_err(|e| e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(name: &str) -> Campaign {
        read_campaign(&format!(
            r#"{{"name": "{name}", "channels": [{{"name": "email"}}],
                "offers": [{{"name": "10% off", "kind": "percent_off", "value": 10, "channel": "email"}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn edits_undo_and_redo_in_order() {
        let mut d = CampaignDraft::new(campaign("a"), None);
        d.edit(|c| c.budget = Some(100.0)).unwrap();
        d.edit(|c| c.budget = Some(200.0)).unwrap();
        d.edit(|c| c.budget = Some(200.0)).unwrap(); // no change, no step
        assert_eq!(d.campaign().budget, Some(200.0));
        d.undo().unwrap();
        assert_eq!(d.campaign().budget, Some(100.0));
        d.undo().unwrap();
        assert_eq!(d.campaign().budget, None);
        assert!(!d.can_undo());
        d.redo().unwrap();
        assert_eq!(d.campaign().budget, Some(100.0));
        // A new edit forgets what could be redone.
        d.edit(|c| c.holdout = 0.2).unwrap();
        assert!(!d.can_redo());
    }

    #[test]
    fn typing_in_one_field_is_one_undo_step() {
        let mut d = CampaignDraft::new(campaign("a"), None);
        for v in [1.0, 15.0, 150.0] {
            d.edit_field("budget", |c| c.budget = Some(v)).unwrap();
        }
        d.edit_field("holdout", |c| c.holdout = 0.2).unwrap();
        d.undo().unwrap();
        assert_eq!((d.campaign().budget, d.campaign().holdout), (Some(150.0), 0.0));
        d.undo().unwrap();
        assert_eq!(d.campaign().budget, None, "the three budget keystrokes undo together");
        assert!(!d.can_undo());
    }

    #[test]
    fn an_edit_survives_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let autosave = dir.path().join("campaign.autosave.json");
        {
            let (mut d, problem) = CampaignDraft::restore(autosave.clone(), campaign("a"));
            assert!(problem.is_none());
            d.edit(|c| c.offers[0].value = Some(15.0)).unwrap();
            // Dropped without saving: the process is gone.
        }
        let (d, problem) = CampaignDraft::restore(autosave.clone(), campaign("fallback"));
        assert!(problem.is_none());
        assert_eq!(d.campaign().name, "a");
        assert_eq!(d.campaign().offers[0].value, Some(15.0));
        assert!(d.modified);
        // A damaged autosave is reported, and the fallback is edited instead.
        std::fs::write(&autosave, "{ not json").unwrap();
        let (d, problem) = CampaignDraft::restore(autosave, campaign("fallback"));
        assert!(problem.unwrap().to_string().contains("campaign.autosave.json"));
        assert_eq!(d.campaign().name, "fallback");
    }

    #[test]
    fn saved_files_open_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.json");
        let mut d = CampaignDraft::new(campaign("a"), None);
        d.edit(|c| c.margin = 0.35).unwrap();
        d.save_as(&path).unwrap();
        assert!(!d.modified);
        let mut other = CampaignDraft::new(campaign("b"), None);
        other.open(&path).unwrap();
        assert_eq!(other.campaign(), d.campaign());
        other.undo().unwrap();
        assert_eq!(other.campaign().name, "b", "opening is an undoable step");
    }
}
