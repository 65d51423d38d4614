//! Output files written atomically: a sibling temporary file, renamed over the
//! target only once complete, so a failed run never leaves half a file where a
//! good one stood.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("{path}: cannot write: {message}")]
pub struct OutputError {
    pub path: String,
    pub message: String,
}

/// Writes `path` through `write`, atomically.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), String>,
) -> Result<(), OutputError> {
    let err = |message: String| OutputError { path: path.display().to_string(), message };
    if path.is_dir() {
        return Err(err("is a directory".into()));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".promo-studio-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| err(e.to_string()))?;
    {
        let mut writer = BufWriter::new(tmp.as_file_mut());
        write(&mut writer).map_err(err)?;
        writer.flush().map_err(|e| err(e.to_string()))?;
    }
    tmp.as_file().sync_all().map_err(|e| err(e.to_string()))?;
    // Temporary files are private (0600); an output file is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| err(e.error.to_string()))?;
    Ok(())
}

pub fn write_csv(path: &Path, df: &mut DataFrame) -> Result<(), OutputError> {
    write_atomically(path, |w| CsvWriter::new(w).include_header(true).finish(df).map_err(|e| e.to_string()))
}

pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), OutputError> {
    write_atomically(path, |w| {
        ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), OutputError> {
    write_atomically(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "good").unwrap();
        let result = write_atomically(&path, |w| {
            w.write_all(b"half").map_err(|e| e.to_string())?;
            Err("disk on fire".into())
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "good");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn successful_write_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_json(&path, &serde_json::json!({"a": 1})).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("\"a\": 1"));
    }
}
