//! Errors of the index, each saying what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{path}: not a leakwatch index (no {marker}); point --data-dir at a leakwatch data folder or remove the folder")]
    Foreign { path: PathBuf, marker: &'static str },
    #[error("{path}: index schema version {found} is newer than this leakwatch understands ({known}); upgrade leakwatch")]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("{path}: index schema version {found} is older than {known}; remove the folder to rebuild it")]
    TooOld {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("{path}: no index yet; run `leakwatch demo` or `leakwatch crawl` first")]
    Missing { path: PathBuf },
    #[error("{path}: the index is locked by another writer (is `leakwatch run` running?)")]
    Locked { path: PathBuf },
    #[error("query {query:?}: {message}")]
    Query { query: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}
