//! Recrawl policy: when list and topic pages of a site are due again. What
//! counts as changed content is `extract`'s (content hashes of documents,
//! row signatures of list pages).

use std::time::Duration;

/// How often pages of a site are fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecrawlPolicy {
    /// List and index pages (everything that is not a topic page).
    pub list_interval: Duration,
    /// Topic pages, unless a list page shows them changed first.
    pub topic_interval: Duration,
}

impl Default for RecrawlPolicy {
    fn default() -> Self {
        RecrawlPolicy {
            list_interval: Duration::from_secs(3600),
            topic_interval: Duration::from_secs(30 * 24 * 3600),
        }
    }
}
