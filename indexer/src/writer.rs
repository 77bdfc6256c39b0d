//! Writing: upsert by document id, batched commits (every N documents or T
//! seconds, whichever comes first) and a checkpoint stored atomically with
//! each commit, so a service can tell after a crash which of its records made
//! it into the index and replay the rest. Nothing here is visible to readers
//! before a commit; a commit is all or nothing.

use std::time::{Duration, Instant};

use tantivy::index::SegmentId;
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy, MergeCandidate, MergePolicy};
use tantivy::schema::TantivyDocument;
use tantivy::SegmentMeta;
use tantivy::{IndexWriter, Term};

use crate::document::{to_tantivy, IndexDocument};
use crate::error::IndexError;
use crate::index::{DocumentIndex, WRITER_HEAP_BYTES};
use crate::layout::{self, FolderState, WriterLock};

/// When buffered documents are committed on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitPolicy {
    /// Commit once this many documents are buffered.
    pub max_documents: Option<usize>,
    /// Commit once the oldest buffered document has waited this long
    /// (checked on each write and by [`DocumentIndex::commit_if_due`]).
    pub max_delay: Option<Duration>,
}

impl CommitPolicy {
    /// Only explicit [`DocumentIndex::commit`] calls commit (the default).
    pub const MANUAL: CommitPolicy = CommitPolicy {
        max_documents: None,
        max_delay: None,
    };

    /// Commit every `documents` documents or `delay` after the first
    /// uncommitted one, whichever comes first.
    pub fn every(documents: usize, delay: Duration) -> CommitPolicy {
        CommitPolicy {
            max_documents: Some(documents.max(1)),
            max_delay: Some(delay),
        }
    }
}

/// How much the writer buffers before it writes a segment out, and on how
/// many threads it indexes and merges. Tantivy gives each indexing thread a
/// segment writer of its own, with a term table of a few MB allocated
/// before the first document; every commit ends them and the next write
/// starts new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterMemory {
    /// Bytes buffered across the indexing threads (at least 15 MB each).
    pub heap_bytes: usize,
    /// Indexing threads (each with its own segment writer).
    pub threads: usize,
    /// Threads that merge segments in the background.
    pub merge_threads: usize,
}

impl WriterMemory {
    /// Bulk loads (a reindex, many documents between commits): 96 MB over
    /// the cores (at most 8 threads).
    pub fn bulk() -> WriterMemory {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        WriterMemory {
            heap_bytes: WRITER_HEAP_BYTES,
            threads: cores.clamp(1, 8),
            merge_threads: 4,
        }
    }

    /// A stream committed every few hundred documents (the service, a
    /// crawl pass): one indexing and one merging thread with Tantivy's
    /// smallest budget. A commit writes out whatever is buffered, so a
    /// bigger heap would hold memory such a stream never fills, and each
    /// further thread another segment writer, another term table, another
    /// small segment to merge.
    pub const STREAM: WriterMemory = WriterMemory {
        heap_bytes: 16 * 1024 * 1024,
        threads: 1,
        merge_threads: 1,
    };

    /// Each indexing thread's budget, raised to Tantivy's floor.
    fn per_thread_bytes(&self) -> usize {
        (self.heap_bytes / self.threads.max(1)).max(TANTIVY_MIN_BYTES_PER_THREAD)
    }

    /// Tantivy's options for this memory.
    pub(crate) fn options(&self) -> IndexWriterOptions {
        IndexWriterOptions::builder()
            .num_worker_threads(self.threads.max(1))
            .memory_budget_per_thread(self.per_thread_bytes())
            .num_merge_threads(self.merge_threads.max(1))
            .build()
    }
}

/// Tantivy's floor under one indexing thread's budget (its
/// `MEMORY_BUDGET_NUM_BYTES_MIN`, not exported): 15 × its 1 MB margin.
const TANTIVY_MIN_BYTES_PER_THREAD: usize = 15_000_000;

impl Default for WriterMemory {
    fn default() -> Self {
        WriterMemory::bulk()
    }
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Buffered; visible after the next commit.
    Buffered,
    /// The commit policy committed it (and everything before it).
    Committed,
}

/// Merges never make a segment of more documents than this, so a large
/// index is several segments that a search runs through in parallel (one
/// thread per core), and the writer never rewrites the whole index at once.
const SEGMENT_DOCS: u32 = 200_000;

/// A segment whose replaced documents pass this share is rewritten.
const DELETED_RATIO: f32 = 0.3;

/// Tantivy's log merge policy, with merges capped at [`SEGMENT_DOCS`].
#[derive(Debug)]
pub(crate) struct CappedMergePolicy {
    inner: LogMergePolicy,
}

pub(crate) fn merge_policy() -> Box<CappedMergePolicy> {
    let mut inner = LogMergePolicy::default();
    inner.set_max_docs_before_merge(SEGMENT_DOCS as usize);
    inner.set_del_docs_ratio_before_merge(DELETED_RATIO);
    Box::new(CappedMergePolicy { inner })
}

impl MergePolicy for CappedMergePolicy {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let by_id: std::collections::HashMap<_, _> = segments.iter().map(|s| (s.id(), s)).collect();
        let mut out = Vec::new();
        for MergeCandidate(ids) in self.inner.compute_merge_candidates(segments) {
            // Split the log policy's group into merges of at most SEGMENT_DOCS.
            let mut group: Vec<SegmentId> = Vec::new();
            let mut docs = 0u32;
            let mut flush = |group: &mut Vec<SegmentId>| {
                let purges_deletes = group.len() == 1
                    && by_id.get(&group[0]).is_some_and(|s| {
                        s.num_deleted_docs() as f32 > DELETED_RATIO * s.max_doc() as f32
                    });
                if group.len() > 1 || purges_deletes {
                    out.push(MergeCandidate(std::mem::take(group)));
                }
                group.clear();
            };
            for id in ids {
                let n = by_id.get(&id).map_or(0, |s| s.num_docs());
                if !group.is_empty() && docs + n > SEGMENT_DOCS {
                    flush(&mut group);
                    docs = 0;
                }
                group.push(id);
                docs += n;
            }
            flush(&mut group);
        }
        out
    }
}

/// The open writer of a [`DocumentIndex`].
pub(crate) struct Writer {
    writer: IndexWriter,
    _lock: WriterLock,
    /// Documents written since the last commit.
    pending: usize,
    /// When the first of them was written.
    pending_since: Option<Instant>,
}

impl DocumentIndex {
    /// Sets when buffered writes commit on their own (default: manual).
    pub fn set_commit_policy(&mut self, policy: CommitPolicy) {
        self.policy = policy;
    }

    /// Sizes the writer to the work (default: [`WriterMemory::bulk`]); a
    /// writer already open keeps its size until it is closed.
    pub fn set_writer_memory(&mut self, memory: WriterMemory) {
        self.writer_memory = memory;
    }

    /// Records how far the caller's own log has been written to the index
    /// (e.g. a state-store sequence number). It is saved with the next commit
    /// and read back with [`committed_checkpoint`](Self::committed_checkpoint).
    pub fn set_checkpoint(&mut self, checkpoint: impl Into<String>) {
        self.checkpoint = Some(checkpoint.into());
    }

    /// The checkpoint saved with the last commit, if any (after a crash: what
    /// the index has; replay what came after it).
    pub fn committed_checkpoint(&self) -> Option<&str> {
        self.saved_checkpoint.as_deref()
    }

    /// Documents written but not committed.
    pub fn pending_documents(&self) -> usize {
        self.writer.as_ref().map_or(0, |w| w.pending)
    }

    /// Adds `doc`, replacing any document with the same id. Visible to readers
    /// after the next commit (which the commit policy may make right away).
    pub fn upsert(&mut self, doc: &IndexDocument) -> Result<WriteOutcome, IndexError> {
        let tantivy_doc = to_tantivy(&self.fields, doc);
        let id = Term::from_field_text(self.fields.id, &doc.id);
        let writer = self.writer()?;
        writer.writer.delete_term(id);
        writer.writer.add_document(tantivy_doc)?;
        self.after_write()
    }

    /// Removes the document with this id (from the next commit on).
    pub fn delete(&mut self, id: &str) -> Result<WriteOutcome, IndexError> {
        let id = Term::from_field_text(self.fields.id, id);
        self.writer()?.writer.delete_term(id);
        self.after_write()
    }

    /// Makes every write so far durable and visible to readers, with the
    /// last checkpoint set. A no-op when nothing changed.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        let checkpoint = self.checkpoint.clone();
        let checkpoint_moved = checkpoint.is_some() && checkpoint != self.saved_checkpoint;
        if self.pending_documents() == 0 && !checkpoint_moved {
            return Ok(());
        }
        let writer = self.writer()?;
        let mut prepared = writer.writer.prepare_commit()?;
        if let Some(c) = &checkpoint {
            prepared.set_payload(c);
        }
        prepared.commit()?;
        writer.pending = 0;
        writer.pending_since = None;
        self.refresh_reader()?;
        // Our own commit: its checkpoint is known even if a retry gave up.
        self.saved_checkpoint = checkpoint.or(self.saved_checkpoint.take());
        Ok(())
    }

    /// Commits if the policy's delay has passed since the first uncommitted
    /// write. Call it from a timer when writes may pause.
    pub fn commit_if_due(&mut self) -> Result<WriteOutcome, IndexError> {
        let due = match (&self.writer, self.policy.max_delay) {
            (Some(w), Some(delay)) => w.pending_since.is_some_and(|t| t.elapsed() >= delay),
            _ => false,
        };
        if due {
            self.commit()?;
            Ok(WriteOutcome::Committed)
        } else {
            Ok(WriteOutcome::Buffered)
        }
    }

    /// Waits for background merges to finish and closes the writer (its lock
    /// is released). Uncommitted writes are dropped: commit first.
    pub fn close_writer(&mut self) -> Result<(), IndexError> {
        if let Some(w) = self.writer.take() {
            w.writer.wait_merging_threads()?;
        }
        Ok(())
    }

    fn after_write(&mut self) -> Result<WriteOutcome, IndexError> {
        let writer = self.writer.as_mut().expect("a write opened the writer");
        writer.pending += 1;
        let since = *writer.pending_since.get_or_insert_with(Instant::now);
        let full = self
            .policy
            .max_documents
            .is_some_and(|n| writer.pending >= n);
        let late = self.policy.max_delay.is_some_and(|d| since.elapsed() >= d);
        if full || late {
            self.commit()?;
            Ok(WriteOutcome::Committed)
        } else {
            Ok(WriteOutcome::Buffered)
        }
    }

    /// The writer, opened on first use: takes the folder's writer lock and
    /// clears what an interrupted reindex or creation left behind.
    fn writer(&mut self) -> Result<&mut Writer, IndexError> {
        if self.writer.is_none() {
            let lock = layout::lock_writer(&self.root)?;
            // Under the lock: the generation must still be the live one.
            match layout::read_state(&self.root)? {
                FolderState::Index(m) if m == self.marker => {}
                _ => {
                    return Err(IndexError::Replaced {
                        path: self.root.clone(),
                    })
                }
            }
            layout::remove_stale(&self.root, &self.marker);
            let writer = self
                .index
                .writer_with_options::<TantivyDocument>(self.writer_memory.options())
                .map_err(|e| match e {
                    tantivy::TantivyError::LockFailure(..) => IndexError::Locked {
                        path: self.root.clone(),
                    },
                    other => IndexError::Tantivy(other),
                })?;
            writer.set_merge_policy(merge_policy());
            self.writer = Some(Writer {
                writer,
                _lock: lock,
                pending: 0,
                pending_since: None,
            });
        }
        Ok(self.writer.as_mut().expect("writer was just set"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_sized_writer_indexes_on_one_thread_within_tantivys_floor() {
        assert_eq!(WriterMemory::STREAM.per_thread_bytes(), 16 * 1024 * 1024);
        // Below Tantivy's floor a budget is raised to it, not refused.
        let tiny = WriterMemory {
            heap_bytes: 1,
            threads: 2,
            merge_threads: 0,
        };
        assert_eq!(tiny.per_thread_bytes(), TANTIVY_MIN_BYTES_PER_THREAD);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
        index.set_writer_memory(WriterMemory::STREAM);
        let doc = IndexDocument {
            id: "s:1".into(),
            title: Some("出售 数据".into()),
            ..IndexDocument::default()
        };
        index.upsert(&doc).expect("write");
        index.commit().expect("commit");
        assert_eq!(index.num_docs(), 1);
    }

    #[test]
    fn merges_stop_at_the_segment_cap() {
        let index = tantivy::Index::create_in_ram(crate::schema::build().0);
        let metas: Vec<SegmentMeta> = (0..8)
            .map(|_| index.new_segment_meta(SegmentId::generate_random(), 90_000))
            .collect();
        let merges = merge_policy().compute_merge_candidates(&metas);
        // Eight segments of 90k: the log policy would merge them into one of
        // 720k; capped, they pair up.
        assert_eq!(merges.len(), 4, "{merges:?}");
        assert!(merges.iter().all(|m| m.0.len() == 2));
        let small: Vec<SegmentMeta> = (0..8)
            .map(|_| index.new_segment_meta(SegmentId::generate_random(), 1_000))
            .collect();
        let merges = merge_policy().compute_merge_candidates(&small);
        assert_eq!(merges.len(), 1);
        assert_eq!(merges[0].0.len(), 8);
    }
}
