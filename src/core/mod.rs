//! Compute core: no egui here. Every stage is a plain function over typed data,
//! shared by the GUI, the command line, the tests and the benchmarks.

pub mod campaign;
pub mod cluster;
pub mod events;
pub mod features;
pub mod format;
pub mod import;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod recommend;
pub mod sample;
pub mod segment;
pub mod stages;
pub mod table;
pub mod trace;
pub mod value;
