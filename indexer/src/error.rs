//! Errors of the index, each saying what to do about it.

use std::fmt;
use std::path::PathBuf;

/// Why the index could not be opened, written or searched; each message
/// names the index folder and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The folder holds something other than a leakwatch index: files
    /// besides ours, or a marker file that does not parse.
    #[error("{path}: not a leakwatch index (no valid {marker}); point --data-dir at a leakwatch data folder or remove the folder")]
    Foreign {
        /// The index folder.
        path: PathBuf,
        /// The name of the marker file a leakwatch index has
        /// (`leakwatch-index.json`).
        marker: &'static str,
    },
    /// The index was written by a newer leakwatch, with a schema this one
    /// cannot read.
    #[error("{path}: index schema version {found} is newer than this leakwatch understands ({known}); upgrade leakwatch")]
    TooNew {
        /// The index folder.
        path: PathBuf,
        /// The schema version in the folder's marker.
        found: u32,
        /// The newest schema version this build reads.
        known: u32,
    },
    /// The index has an older schema and was opened without upgrading;
    /// [`DocumentIndex::open_upgrading`](crate::DocumentIndex::open_upgrading)
    /// rebuilds it.
    #[error("{path}: index schema version {found} is older than {known}; the next `leakwatch crawl`, `run` or `search` rebuilds it from its stored documents")]
    TooOld {
        /// The index folder.
        path: PathBuf,
        /// The schema version in the folder's marker.
        found: u32,
        /// The schema version this build writes.
        known: u32,
    },
    /// The folder is absent or empty and was opened without creating.
    #[error("{path}: no index yet; run `leakwatch demo` or `leakwatch crawl` first")]
    Missing {
        /// The index folder.
        path: PathBuf,
    },
    /// Another process holds the writer lock.
    #[error("{path}: the index is locked by another writer (is `leakwatch run` running?); stop it or retry when it is done")]
    Locked {
        /// The index folder.
        path: PathBuf,
    },
    /// A reindex in another process switched the folder to a new
    /// generation while this handle had the old one open.
    #[error("{path}: the index was replaced by a newer schema while open; restart to use it")]
    Replaced {
        /// The index folder.
        path: PathBuf,
    },
    /// The search query cannot be parsed; not a problem of the index.
    #[error(transparent)]
    Query(#[from] QuerySyntaxError),
    // The causes below are part of the message, not a `source()`, so that
    // printing the error chain does not repeat them.
    /// Reading or writing a file or folder of the index failed.
    #[error("{path}: {error}")]
    Io {
        /// The file or folder the operation was on.
        path: PathBuf,
        /// The underlying I/O error.
        error: std::io::Error,
    },
    /// Tantivy failed (a corrupt segment, a full disk, a bad argument);
    /// [`IndexError::concerns_storage`] tells which.
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
