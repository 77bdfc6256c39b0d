//! Rebuilding an index written under an older schema: every stored document of
//! the old generation is read back and written into a new generation with the
//! current schema and analysis; then the marker is switched to it in one
//! rename. Readers keep the old generation until they reload. The caller holds
//! the writer lock; a crash leaves the old generation live and a stale folder
//! that the next writer removes.

use std::path::Path;

use tantivy::directory::INDEX_WRITER_LOCK;
use tantivy::schema::TantivyDocument;
use tantivy::{Directory, Index, ReloadPolicy};

use crate::document::{to_tantivy, StoredFields};
use crate::error::IndexError;
use crate::index::{register_analyzers, WRITER_HEAP_BYTES};
use crate::layout::{self, Marker};
use crate::schema::{self, SCHEMA_VERSION};

/// How far a reindex has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexProgress {
    /// Documents written to the new generation so far.
    pub done: u64,
    /// Documents in the old generation.
    pub total: u64,
}

/// Documents between progress reports.
const REPORT_EVERY: u64 = 1000;

/// Rebuilds the generation named by `old` under the current schema and makes
/// it live; returns the new marker. The writer lock must be held.
pub(crate) fn reindex(
    root: &Path,
    old: &Marker,
    progress: &mut dyn FnMut(ReindexProgress),
) -> Result<Marker, IndexError> {
    let old_dir = old.tantivy_dir(root);
    let old_index = Index::open_in_dir(&old_dir)?;
    // A writer of the old layout takes Tantivy's own lock: hold it too, so an
    // older leakwatch cannot write while its documents are copied.
    let _old_lock = old_index
        .directory()
        .acquire_lock(&INDEX_WRITER_LOCK)
        .map_err(|_| IndexError::Locked {
            path: root.to_owned(),
        })?;
    let old_reader = old_index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = old_reader.searcher();
    let stored = StoredFields::resolve(&old_index.schema());
    let total = searcher.num_docs();
    let checkpoint = old_index.load_metas()?.payload;

    let marker = Marker {
        schema_version: SCHEMA_VERSION,
        generation: Some(layout::new_generation_name(SCHEMA_VERSION)),
    };
    let new_dir = marker.tantivy_dir(root);
    std::fs::create_dir(&new_dir).map_err(|source| IndexError::Io {
        path: new_dir.clone(),
        error: source,
    })?;
    let (new_schema, fields) = schema::build();
    let new_index = Index::create_in_dir(&new_dir, new_schema)?;
    register_analyzers(&new_index);
    let writer = new_index.writer::<TantivyDocument>(WRITER_HEAP_BYTES)?;
    writer.set_merge_policy(crate::writer::merge_policy());
    let mut writer = writer;

    let mut done = 0u64;
    let mut since_report = 0u64;
    progress(ReindexProgress { done, total });
    for segment in searcher.segment_readers() {
        let store = segment
            .get_store_reader(64)
            .map_err(|source| IndexError::Io {
                path: old_dir.clone(),
                error: source,
            })?;
        for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
            let document = stored.read(&doc?);
            writer.add_document(to_tantivy(&fields, &document))?;
            done += 1;
            since_report += 1;
            if since_report == REPORT_EVERY {
                since_report = 0;
                progress(ReindexProgress { done, total });
            }
        }
    }
    let mut commit = writer.prepare_commit()?;
    if let Some(checkpoint) = &checkpoint {
        commit.set_payload(checkpoint);
    }
    commit.commit()?;
    writer.wait_merging_threads()?;
    progress(ReindexProgress { done, total });

    layout::write_marker(root, &marker)?;
    Ok(marker)
}
