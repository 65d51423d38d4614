//! The layering the code keeps, checked: the core computes without the GUI
//! or the command line, and the command line never reaches into the app.
//! (One crate keeps builds and the test binaries' links fast on 2 cores; this
//! test is the compiler's check a workspace split would give.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Lines of `files` (comments left out) that mention any of `words`.
fn mentions(files: &[PathBuf], words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if let Some(word) = words.iter().find(|w| code.contains(*w)) {
                found.push(format!("{}:{}: {word}", file.display(), i + 1));
            }
        }
    }
    found
}

fn src(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(folder)
}

#[test]
fn the_core_knows_nothing_of_the_gui_the_jobs_or_the_command_line() {
    let files = rust_files(&src("core"));
    assert!(files.len() > 20, "the core's files were found");
    let found =
        mentions(&files, &["egui", "eframe", "egui_plot", "rfd::", "crate::app", "crate::cli", "crate::jobs", "clap"]);
    assert!(found.is_empty(), "the core must stay free of the shell:\n{}", found.join("\n"));
}

#[test]
fn the_command_line_never_reaches_into_the_app() {
    let found = mentions(&rust_files(&src("cli")), &["crate::app", "egui", "eframe"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
    let found = mentions(&rust_files(&src("app")), &["crate::cli"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}
