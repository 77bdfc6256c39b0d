//! The search index of leakwatch documents: a Tantivy index with CJK-aware
//! analysis built on [`textfold`], so `銀行`/`银行`, `三菱UFJ`/`三菱ＵＦＪ` and
//! `ゆうちょ`/`ユウチョ` find each other. It knows nothing of crawling or
//! watchlists: the binary converts its documents into [`IndexDocument`]s.
//!
//! [`DocumentIndex`] opens a folder (creating it, or rebuilding it from its
//! stored documents when the schema changed), writes (upsert by id, batched
//! commits with a checkpoint) and searches (Tantivy's query language, filters,
//! snippets in the original text).

mod analyzer;
mod document;
mod error;
mod exclusion;
mod facets;
mod index;
mod layout;
mod query;
mod reindex;
mod schema;
mod search;
mod writer;

pub use analyzer::{FoldingTokenizer, TokenizerMode, ANALYZER_NAME, KEYWORD_ANALYZER_NAME};
pub use document::{entity_text, IndexDocument};
pub use entities::{Entity, EntityKind};
pub use error::{IndexError, QuerySyntaxError};
pub use facets::FacetCounts;
pub use index::DocumentIndex;
pub use prices::{Currency, Price};
pub use reindex::ReindexProgress;
pub use schema::SCHEMA_VERSION;
pub use search::{DocumentScan, Highlighted, SearchHit, SearchRequest, SearchResults, SortOrder};
pub use writer::{CommitPolicy, WriteOutcome, WriterMemory};
