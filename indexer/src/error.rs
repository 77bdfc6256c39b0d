//! Errors of the index, each saying what to do about it.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{path}: not a leakwatch index (no valid {marker}); point --data-dir at a leakwatch data folder or remove the folder")]
    Foreign { path: PathBuf, marker: &'static str },
    #[error("{path}: index schema version {found} is newer than this leakwatch understands ({known}); upgrade leakwatch")]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("{path}: index schema version {found} is older than {known}; the next `leakwatch crawl`, `run` or `search` rebuilds it from its stored documents")]
    TooOld {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("{path}: no index yet; run `leakwatch demo` or `leakwatch crawl` first")]
    Missing { path: PathBuf },
    #[error("{path}: the index is locked by another writer (is `leakwatch run` running?); stop it or retry when it is done")]
    Locked { path: PathBuf },
    #[error("{path}: the index was replaced by a newer schema while open; restart to use it")]
    Replaced { path: PathBuf },
    #[error(transparent)]
    Query(#[from] QuerySyntaxError),
    // The causes below are part of the message, not a `source()`, so that
    // printing the error chain does not repeat them.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("index: {0}")]
    Tantivy(tantivy::TantivyError),
}

impl IndexError {
    /// Whether the error concerns the index as a whole (its files, disk,
    /// lock or format) rather than one document or query: retrying or
    /// skipping a document cannot help, the index needs attention.
    pub fn concerns_storage(&self) -> bool {
        match self {
            IndexError::Query(_) => false,
            IndexError::Tantivy(e) => !matches!(
                e,
                tantivy::TantivyError::InvalidArgument(_)
                    | tantivy::TantivyError::SchemaError(_)
                    | tantivy::TantivyError::FieldNotFound(_)
                    | tantivy::TantivyError::AggregationError(_)
            ),
            _ => true,
        }
    }
}

impl From<tantivy::TantivyError> for IndexError {
    fn from(e: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy(e)
    }
}

/// A query that cannot be run, with where in it the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySyntaxError {
    /// The query as typed.
    pub query: String,
    /// Byte offset in `query` of the problem, when it can be placed.
    pub position: Option<usize>,
    /// What is wrong, in words.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub hint: Option<String>,
}

impl QuerySyntaxError {
    /// Column of the problem as a terminal shows it (wide CJK characters take
    /// two columns), counting from 1.
    pub fn column(&self) -> Option<usize> {
        self.position.map(|p| {
            let p = p.min(self.query.len());
            let prefix = self.query.get(..p).unwrap_or(&self.query);
            unicode_width::UnicodeWidthStr::width(one_line(prefix).as_str()) + 1
        })
    }
}

impl std::error::Error for QuerySyntaxError {}

impl fmt::Display for QuerySyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column() {
            Some(column) => {
                writeln!(f, "query syntax error at column {column}: {}", self.message)?;
                writeln!(f, "  {}", one_line(&self.query))?;
                write!(f, "  {}^", " ".repeat(column - 1))?;
            }
            None => {
                writeln!(f, "query syntax error: {}", self.message)?;
                write!(f, "  {}", one_line(&self.query))?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// The query on one line: control characters (tabs, newlines) as spaces, so
/// the caret lines up.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
