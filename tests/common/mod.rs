//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod app;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Writes `contents` to `name` in a fresh temporary directory.
pub fn fixture(name: &str, contents: impl AsRef<[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write fixture");
    (dir, path)
}

/// Runs the real binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promo-studio")).args(args).output().expect("run promo-studio")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that a finished run failed and that its error message contains
/// each of `expected`.
pub fn assert_failed_saying(o: &Output, expected: &[&str]) {
    let err = stderr(o);
    assert!(!o.status.success(), "should fail; stderr: {err}");
    for e in expected {
        assert!(err.contains(e), "message should contain {e:?}; got: {err}");
    }
}

/// The shared real datasets, or `None` (with a message) when they are absent.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIPPED: {} not found (the shared real datasets are not beside this checkout)", path.display());
        None
    }
}

/// A finished `features` run: the process output and its output file, kept
/// in a temporary directory that lives as long as this value.
pub struct FeaturesRun {
    pub output: Output,
    pub out: PathBuf,
    pub dir: tempfile::TempDir,
}

impl FeaturesRun {
    pub fn csv(&self) -> String {
        std::fs::read_to_string(&self.out).expect("features.csv written")
    }
}

/// Runs `features --events input --out <temp>/features.csv` plus `extra`.
pub fn run_features(input: &Path, extra: &[&str]) -> FeaturesRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("features.csv");
    let mut args = vec!["features", "--events", input.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    FeaturesRun { output: run(&args), out, dir }
}

/// Runs `args` followed by `--out <file>` with 1 and then 3 threads (rayon and
/// polars) and checks that the output files are byte for byte the same.
pub fn assert_same_output_on_1_and_3_threads(args: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut outputs = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.path().join(format!("out_{threads}.csv"));
        let o = Command::new(env!("CARGO_BIN_EXE_promo-studio"))
            .args(args)
            .args(["--out", out.to_str().unwrap()])
            .env("RAYON_NUM_THREADS", threads)
            .env("POLARS_MAX_THREADS", threads)
            .output()
            .expect("run promo-studio");
        assert!(o.status.success(), "{}", stderr(&o));
        outputs.push(std::fs::read(&out).expect("output written"));
    }
    assert_eq!(outputs[0], outputs[1], "{args:?}: output differs between 1 and 3 threads");
}

/// `calibrate` on `results` with the usual column names (arm, control,
/// converted), then `extra` arguments.
pub fn calibrate_with(results: &str, extra: &[&str]) -> Output {
    let mut args =
        vec!["calibrate", "--results", results, "--arm", "arm", "--control", "control", "--converted", "converted"];
    args.extend_from_slice(extra);
    run(&args)
}

/// Calibrates the bundled shop's past campaign (spend, a 30-day window) into `out`.
pub fn calibrate_sample_campaign(out: &Path) -> Output {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/past_campaign.csv");
    calibrate_with(
        results.to_str().expect("utf-8 path"),
        &["--spend", "spend", "--window-days", "30", "--out", out.to_str().expect("utf-8 path")],
    )
}
