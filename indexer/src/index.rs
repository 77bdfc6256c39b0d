//! Opening an index folder: creating it, refusing what is not ours, reindexing
//! an older schema, and reading the live generation. One writer at a time
//! (the folder's writer lock, across processes); readers in other processes
//! see the last commit and never a partial one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tantivy::query::QueryParser;
use tantivy::schema::Schema;
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::{Index, IndexReader, ReloadPolicy};

use crate::analyzer::{
    keyword_analyzer, FoldingTokenizer, TokenizerMode, ANALYZER_NAME, KEYWORD_ANALYZER_NAME,
};
use crate::document::StoredFields;
use crate::error::IndexError;
use crate::layout::{self, FolderState, Marker, MARKER};
use crate::reindex::{self, ReindexProgress};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::writer::{CommitPolicy, Writer, WriterMemory};

/// Memory for the writer's in-memory segments (split across its threads).
pub(crate) const WRITER_HEAP_BYTES: usize = 96 * 1024 * 1024;

/// Attempts at opening when another process switches generations meanwhile.
const OPEN_ATTEMPTS: usize = 5;

/// The leakwatch index in one folder.
pub struct DocumentIndex {
    pub(crate) root: PathBuf,
    pub(crate) marker: Marker,
    pub(crate) index: Index,
    pub(crate) fields: Fields,
    pub(crate) stored: StoredFields,
    pub(crate) reader: IndexReader,
    pub(crate) query_parser: QueryParser,
    pub(crate) writer: Option<Writer>,
    pub(crate) policy: CommitPolicy,
    pub(crate) writer_memory: WriterMemory,
    /// Checkpoint to save with the next commit.
    pub(crate) checkpoint: Option<String>,
    /// Checkpoint of the last commit this handle has seen.
    pub(crate) saved_checkpoint: Option<String>,
}

/// Registers the analyzers the schema names, index mode, on `index`: for
/// the inverted index and for the keyword columns (fast fields).
pub(crate) fn register_analyzers(index: &Index) {
    index.tokenizers().register(
        ANALYZER_NAME,
        TextAnalyzer::from(FoldingTokenizer::for_writing()),
    );
    index
        .tokenizers()
        .register(KEYWORD_ANALYZER_NAME, keyword_analyzer());
    index
        .fast_field_tokenizer()
        .register(KEYWORD_ANALYZER_NAME, keyword_analyzer());
}

/// What to do with a folder that is not a current index.
struct OpenMode<'p> {
    create: bool,
    /// Reindex an older schema (with this progress callback) instead of failing.
    upgrade: Option<&'p mut dyn FnMut(ReindexProgress)>,
}

impl DocumentIndex {
    /// Opens the index in `path` for searching. Fails with
    /// [`IndexError::Missing`], [`IndexError::Foreign`],
    /// [`IndexError::TooNew`] or [`IndexError::TooOld`] when the folder does
    /// not hold an index of this schema.
    pub fn open(path: &Path) -> Result<DocumentIndex, IndexError> {
        DocumentIndex::open_with(
            path,
            OpenMode {
                create: false,
                upgrade: None,
            },
        )
    }

    /// Like [`open`](Self::open), but an index of an older schema is rebuilt
    /// from its stored documents first (needs the writer lock).
    pub fn open_upgrading(
        path: &Path,
        mut progress: impl FnMut(ReindexProgress),
    ) -> Result<DocumentIndex, IndexError> {
        DocumentIndex::open_with(
            path,
            OpenMode {
                create: false,
                upgrade: Some(&mut progress),
            },
        )
    }

    /// Opens the index in `path`, creating it if the folder is absent or
    /// empty and rebuilding it if it has an older schema.
    pub fn open_or_create(path: &Path) -> Result<DocumentIndex, IndexError> {
        DocumentIndex::open_or_create_with_progress(path, |_| {})
    }

    /// [`open_or_create`](Self::open_or_create), reporting reindex progress.
    pub fn open_or_create_with_progress(
        path: &Path,
        mut progress: impl FnMut(ReindexProgress),
    ) -> Result<DocumentIndex, IndexError> {
        DocumentIndex::open_with(
            path,
            OpenMode {
                create: true,
                upgrade: Some(&mut progress),
            },
        )
    }

    fn open_with(path: &Path, mut mode: OpenMode<'_>) -> Result<DocumentIndex, IndexError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let marker = match layout::read_state(path)? {
                FolderState::Missing | FolderState::Empty if !mode.create => {
                    return Err(IndexError::Missing {
                        path: path.to_owned(),
                    })
                }
                FolderState::Missing | FolderState::Empty => create(path)?,
                FolderState::Index(m) if m.schema_version > SCHEMA_VERSION => {
                    return Err(IndexError::TooNew {
                        path: path.to_owned(),
                        found: m.schema_version,
                        known: SCHEMA_VERSION,
                    })
                }
                FolderState::Index(m) if m.schema_version < SCHEMA_VERSION => {
                    match &mut mode.upgrade {
                        Some(progress) => upgrade(path, &mut **progress)?,
                        None => {
                            return Err(IndexError::TooOld {
                                path: path.to_owned(),
                                found: m.schema_version,
                                known: SCHEMA_VERSION,
                            })
                        }
                    }
                }
                FolderState::Index(m) => m,
            };
            match DocumentIndex::open_generation(path, marker) {
                Ok(index) => return Ok(index),
                // The generation may have been switched and removed between
                // reading the marker and opening it: read the marker again.
                Err(IndexError::Tantivy(_) | IndexError::Io { .. }) if attempt < OPEN_ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(20 * attempt as u64))
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn open_generation(root: &Path, marker: Marker) -> Result<DocumentIndex, IndexError> {
        let mut index = Index::open_in_dir(marker.tantivy_dir(root))?;
        // Segments are searched in parallel, one thread per core (up to 4).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if threads > 1 {
            index.set_multithread_executor(threads)?;
        }
        register_analyzers(&index);
        let (expected, fields) = schema::build();
        check_schema(root, &index.schema(), &expected)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut opened = DocumentIndex {
            root: root.to_owned(),
            marker,
            stored: StoredFields::resolve(&expected),
            query_parser: query_parser(&expected, &fields),
            index,
            fields,
            reader,
            writer: None,
            policy: CommitPolicy::MANUAL,
            writer_memory: WriterMemory::default(),
            checkpoint: None,
            saved_checkpoint: None,
        };
        opened.refresh_reader()?;
        Ok(opened)
    }

    /// The folder of this index.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Number of documents visible to readers.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Bytes on disk of the live generation.
    pub fn size_on_disk(&self) -> Result<u64, IndexError> {
        let dir = self.marker.tantivy_dir(&self.root);
        let mut total = 0;
        let entries = std::fs::read_dir(&dir).map_err(|source| IndexError::Io {
            path: dir.clone(),
            error: source,
        })?;
        for entry in entries.flatten() {
            if let Ok(meta) = entry.metadata() {
                if meta.is_file() {
                    total += meta.len();
                }
            }
        }
        Ok(total)
    }

    /// Sees the last commit, which another process may have made (and
    /// follows a switch to a new generation).
    pub fn reload(&mut self) -> Result<(), IndexError> {
        match layout::read_state(&self.root)? {
            FolderState::Index(m) if m == self.marker => self.refresh_reader(),
            FolderState::Index(m)
                if self.writer.is_none() && m.schema_version == SCHEMA_VERSION =>
            {
                let fresh = DocumentIndex::open_with(
                    &self.root,
                    OpenMode {
                        create: false,
                        upgrade: None,
                    },
                )?;
                let policy = self.policy;
                *self = DocumentIndex { policy, ..fresh };
                Ok(())
            }
            _ => Err(IndexError::Replaced {
                path: self.root.clone(),
            }),
        }
    }

    /// Moves the reader to the last commit and reads that commit's
    /// checkpoint. Retries when a writer in another process removes merged
    /// segments between our reading `meta.json` and opening them, or commits
    /// between the two reads.
    pub(crate) fn refresh_reader(&mut self) -> Result<(), IndexError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.index.load_metas().and_then(|metas| {
                self.reader.reload()?;
                Ok(same_commit(&self.reader.searcher(), &metas).then_some(metas.payload))
            });
            match result {
                Ok(Some(payload)) => {
                    self.saved_checkpoint = payload;
                    return Ok(());
                }
                // A commit landed between reading the metas and the reload.
                Ok(None) if attempt < 10 * OPEN_ATTEMPTS => {}
                Ok(None) => return Ok(()),
                Err(_) if attempt < OPEN_ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(10 * attempt as u64))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Whether `searcher` shows exactly the commit described by `metas`.
fn same_commit(searcher: &tantivy::Searcher, metas: &tantivy::IndexMeta) -> bool {
    let mut seen: Vec<_> = searcher
        .segment_readers()
        .iter()
        .map(|s| (s.segment_id(), s.num_deleted_docs()))
        .collect();
    let mut committed: Vec<_> = metas
        .segments
        .iter()
        .map(|m| (m.id(), m.num_deleted_docs()))
        .collect();
    seen.sort();
    committed.sort();
    seen == committed
}

/// Creates an index in an absent or empty folder (under the writer lock, so
/// two processes cannot both create one).
fn create(root: &Path) -> Result<Marker, IndexError> {
    std::fs::create_dir_all(root).map_err(|source| IndexError::Io {
        path: root.to_owned(),
        error: source,
    })?;
    let _lock = layout::lock_writer(root)?;
    match layout::read_state(root)? {
        FolderState::Index(m) => return Ok(m),
        FolderState::Missing | FolderState::Empty => {}
    }
    let marker = Marker {
        schema_version: SCHEMA_VERSION,
        generation: Some(layout::new_generation_name(SCHEMA_VERSION)),
    };
    layout::remove_stale(root, &marker);
    let dir = marker.tantivy_dir(root);
    std::fs::create_dir(&dir).map_err(|source| IndexError::Io {
        path: dir.clone(),
        error: source,
    })?;
    let (schema, _) = schema::build();
    Index::create_in_dir(&dir, schema)?;
    layout::write_marker(root, &marker)?;
    Ok(marker)
}

/// Rebuilds an older index under the writer lock; returns the live marker.
fn upgrade(root: &Path, progress: &mut dyn FnMut(ReindexProgress)) -> Result<Marker, IndexError> {
    let _lock = layout::lock_writer(root)?;
    let old = match layout::read_state(root)? {
        FolderState::Index(m) if m.schema_version < SCHEMA_VERSION => m,
        // Another process upgraded it while we waited for the lock.
        FolderState::Index(m) => return Ok(m),
        FolderState::Missing | FolderState::Empty => {
            return Err(IndexError::Missing {
                path: root.to_owned(),
            })
        }
    };
    let marker = reindex::reindex(root, &old, progress)?;
    layout::remove_stale(root, &marker);
    Ok(marker)
}

fn check_schema(path: &Path, found: &Schema, expected: &Schema) -> Result<(), IndexError> {
    let names = |s: &Schema| {
        s.fields()
            .map(|(_, e)| (e.name().to_owned(), format!("{:?}", e.field_type())))
            .collect::<Vec<_>>()
    };
    if names(found) != names(expected) {
        return Err(IndexError::Foreign {
            path: path.to_owned(),
            marker: MARKER,
        });
    }
    Ok(())
}

/// Tantivy's query parser, for the leaves `query` does not build itself
/// (keyword fields, numbers, dates, ranges, sets).
fn query_parser(schema: &Schema, f: &Fields) -> QueryParser {
    let tokenizers = TokenizerManager::default();
    tokenizers.register(
        ANALYZER_NAME,
        TextAnalyzer::from(FoldingTokenizer::new(TokenizerMode::Query)),
    );
    tokenizers.register(KEYWORD_ANALYZER_NAME, keyword_analyzer());
    let mut parser = QueryParser::new(schema.clone(), vec![f.text], tokenizers);
    parser.set_conjunction_by_default();
    parser
}
