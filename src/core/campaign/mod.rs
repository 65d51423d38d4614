//! Campaigns (DATA.md §7–§8): the campaign file (`file`), the default
//! response model (`response`), who gets which offer (`assign`), and the plan
//! that puts them together for a shop's customers (`plan`).

pub mod assign;
pub mod calibrate;
pub mod draft;
pub mod export;
pub mod file;
pub mod plan;
pub mod response;
pub mod simulate;
