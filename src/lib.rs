//! Promo Studio: e-commerce promotion analytics. `core` computes (no egui),
//! `cli` is the headless twin, `app` is the desktop shell.

pub mod app;
pub mod cli;
pub mod core;
pub mod jobs;
