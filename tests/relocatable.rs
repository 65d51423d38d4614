//! A binary copied away from the checkout still opens on the bundled demo
//! shop: it never looks in the build directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::ErrorKind;
use std::process::{Command, Output};

#[test]
fn a_copied_binary_finds_the_bundled_sample_without_the_checkout() {
    let installed = tempfile::tempdir().unwrap();
    let binary = installed.path().join("promo-studio");
    std::fs::copy(env!("CARGO_BIN_EXE_promo-studio"), &binary).unwrap();
    let (elsewhere, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = output_of_a_fresh_copy(
        Command::new(&binary)
            .args(["inspect", "--events", "sample", "--json"])
            .current_dir(elsewhere.path())
            .env("XDG_CACHE_HOME", cache.path()),
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rows_read"], 470_461, "the whole demo shop: {report}");
    // It was unpacked from the binary into the cache, with its catalogue.
    let unpacked: Vec<_> = walk(cache.path()).into_iter().filter_map(|p| Some(p.file_name()?.to_owned())).collect();
    for name in ["events.parquet", "products.csv", "customers.csv"] {
        assert!(unpacked.iter().any(|n| n == name), "{name} unpacked: {unpacked:?}");
    }
}

#[test]
fn a_sample_folder_beside_the_binary_is_preferred() {
    let installed = tempfile::tempdir().unwrap();
    let binary = installed.path().join("promo-studio");
    std::fs::copy(env!("CARGO_BIN_EXE_promo-studio"), &binary).unwrap();
    // A package's own sample beside the binary: a small generated shop.
    let beside = installed.path().join("sample_data");
    std::fs::create_dir(&beside).unwrap();
    let events = beside.join("events.parquet");
    let o = common::run(&["generate-events", "--rows", "25", "--format", "parquet", "--out", events.to_str().unwrap()]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let cache = tempfile::tempdir().unwrap();
    let o = output_of_a_fresh_copy(
        Command::new(&binary).args(["inspect", "--events", "sample", "--json"]).env("XDG_CACHE_HOME", cache.path()),
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rows_read"], 25, "the folder beside the binary: {report}");
    assert!(walk(cache.path()).is_empty(), "nothing unpacked");
}

/// Runs a binary this test binary has just copied. Another test's thread may
/// fork while the copy is still open for writing; until that child execs,
/// it holds the file open, and running the copy fails with "Text file busy"
/// (ETXTBSY). That passes within moments, so it is retried.
fn output_of_a_fresh_copy(command: &mut Command) -> Output {
    let mut tries = 0;
    loop {
        match command.output() {
            Err(e) if e.kind() == ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result.unwrap(),
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
