//! The index folder over time: creation, clear refusals (missing, foreign,
//! too new, locked), batched commits with checkpoints, and the rebuild of a
//! schema-version-1 index (the flat layout of the first release, recreated
//! here field for field) from its stored documents.

use std::time::Duration;

use indexer::{
    CommitPolicy, DocumentIndex, IndexDocument, IndexError, ReindexProgress, SearchRequest,
    WriteOutcome, ANALYZER_NAME,
};
use tantivy::schema::{
    DateOptions, IndexRecordOption, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index};

fn listing(i: usize) -> IndexDocument {
    IndexDocument {
        id: format!("doc-{i}"),
        site: "deepmix".into(),
        url: format!("http://x.onion/t/{i}"),
        kind: "listing".into(),
        title: Some(format!("出售 银行卡 第{i}号")),
        body: Some(format!("listing number {i}")),
        ..Default::default()
    }
}

fn count(index: &DocumentIndex, q: &str) -> usize {
    index
        .search(&SearchRequest {
            query: q.into(),
            limit: 1,
            ..Default::default()
        })
        .expect("search")
        .0
}

#[test]
fn refuses_what_is_not_a_current_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("index");
    assert!(matches!(
        DocumentIndex::open(&root),
        Err(IndexError::Missing { .. })
    ));
    // A folder of something else is never taken over.
    std::fs::create_dir(&root).expect("mkdir");
    std::fs::write(root.join("notes.txt"), "x").expect("write");
    let err = DocumentIndex::open_or_create(&root).err().expect("refused");
    assert!(matches!(err, IndexError::Foreign { .. }), "{err}");
    assert!(err.to_string().contains("not a leakwatch index"));
    std::fs::remove_file(root.join("notes.txt")).expect("rm");
    // A newer schema is refused with the versions named.
    std::fs::write(
        root.join("leakwatch-index.json"),
        r#"{"schema_version": 99, "generation": "v99-1"}"#,
    )
    .expect("write");
    let err = DocumentIndex::open_or_create(&root).err().expect("refused");
    assert!(matches!(err, IndexError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade leakwatch"));
}

#[test]
fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = DocumentIndex::open_or_create(dir.path()).expect("create");
    let _ = first.upsert(&listing(1)).expect("upsert");
    let mut second = DocumentIndex::open(dir.path()).expect("open for reading");
    let err = second
        .upsert(&listing(2))
        .expect_err("second writer refused");
    assert!(matches!(err, IndexError::Locked { .. }), "{err}");
    first.commit().expect("commit");
    first.close_writer().expect("close");
    let _ = second.upsert(&listing(2)).expect("lock free again");
    second.commit().expect("commit");
    assert_eq!(second.num_docs(), 2);
}

#[test]
fn commit_policy_batches_by_count_and_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = DocumentIndex::open_or_create(dir.path()).expect("create");
    writer.set_commit_policy(CommitPolicy::every(3, Duration::from_millis(200)));
    let mut reader = DocumentIndex::open(dir.path()).expect("reader");
    let outcomes: Vec<WriteOutcome> = (0..7)
        .map(|i| writer.upsert(&listing(i)).expect("upsert"))
        .collect();
    use WriteOutcome::{Buffered as B, Committed as C};
    assert_eq!(outcomes, [B, B, C, B, B, C, B]);
    reader.reload().expect("reload");
    assert_eq!(reader.num_docs(), 6);
    assert_eq!(writer.pending_documents(), 1);
    // Nothing new arrives: the timer's call commits the straggler once due.
    assert_eq!(writer.commit_if_due().expect("tick"), B);
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(writer.commit_if_due().expect("tick"), C);
    reader.reload().expect("reload");
    assert_eq!(reader.num_docs(), 7);
}

#[test]
fn checkpoint_is_committed_with_the_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
        assert_eq!(index.committed_checkpoint(), None);
        let _ = index.upsert(&listing(1)).expect("upsert");
        index.set_checkpoint("seq-1");
        index.commit().expect("commit");
        let _ = index.upsert(&listing(2)).expect("upsert");
        index.set_checkpoint("seq-2");
        // Dropped without a commit: document 2 and seq-2 are lost together.
    }
    let index = DocumentIndex::open(dir.path()).expect("reopen");
    assert_eq!(index.committed_checkpoint(), Some("seq-1"));
    assert_eq!(index.num_docs(), 1);
}

/// Writes an index exactly as schema version 1 (the first release) did: Tantivy
/// files directly in the folder, `STRING` keyword fields, no amount/currency.
fn write_version_1(root: &std::path::Path, docs: usize) {
    std::fs::create_dir_all(root).expect("mkdir");
    let mut b = tantivy::schema::Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER_NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let date = DateOptions::default().set_indexed().set_stored();
    let id = b.add_text_field("id", STRING | STORED);
    let site = b.add_text_field("site", STRING | STORED | FAST);
    let url = b.add_text_field("url", STORED);
    let kind = b.add_text_field("kind", STRING | STORED);
    let _lang = b.add_text_field("lang", STRING | STORED);
    let title = b.add_text_field("title", text.clone());
    let body = b.add_text_field("body", text.clone());
    let price = b.add_text_field("price", text.clone());
    let _seller = b.add_text_field("seller", text.clone());
    let _category = b.add_text_field("category", text);
    let posted_at = b.add_date_field("posted_at", date.clone());
    let _fetched_at = b.add_date_field("fetched_at", date.clone());
    let date_field = b.add_date_field("date", date.set_fast());
    let _encoding = b.add_text_field("encoding", STORED);
    let customer = b.add_text_field("customer", STRING | STORED);
    let alert = b.add_text_field("alert", STRING | STORED);
    let index = Index::create_in_dir(root, b.build()).expect("v1 index");
    index.tokenizers().register(
        ANALYZER_NAME,
        TextAnalyzer::from(indexer::FoldingTokenizer::new(
            indexer::TokenizerMode::Index,
        )),
    );
    let mut writer = index
        .writer::<tantivy::TantivyDocument>(20_000_000)
        .expect("writer");
    let when = tantivy::DateTime::from_timestamp_secs(1_790_000_000);
    for i in 0..docs {
        writer
            .add_document(doc!(
                id => format!("doc-{i}"), site => "DeepMix", url => format!("http://x.onion/t/{i}"),
                kind => "listing", title => format!("出售 三菱ＵＦＪ銀行 口座 {i}"),
                body => "即日発送 QQ：12345678", price => "0.35 [BTC]", posted_at => when, date_field => when,
                customer => "mufg-group", alert => "mufg-group/mufg",
            ))
            .expect("add");
    }
    let mut commit = writer.prepare_commit().expect("prepare");
    commit.set_payload("state-seq-42");
    commit.commit().expect("commit");
    writer.wait_merging_threads().expect("merge");
    std::fs::write(root.join("leakwatch-index.json"), r#"{"schema_version":1}"#).expect("marker");
}

#[test]
fn version_1_index_is_rebuilt_from_stored_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("index");
    write_version_1(&root, 2500);
    // Readers get a clear message until a writer rebuilds it.
    let err = DocumentIndex::open(&root)
        .err()
        .expect("old schema refused");
    assert!(matches!(err, IndexError::TooOld { found: 1, .. }), "{err}");

    let mut reports: Vec<ReindexProgress> = Vec::new();
    let index =
        DocumentIndex::open_or_create_with_progress(&root, |p| reports.push(p)).expect("rebuilt");
    assert_eq!(index.num_docs(), 2500);
    let last = reports.last().expect("progress reported");
    assert_eq!((last.done, last.total), (2500, 2500));
    assert!(reports.len() >= 3, "{reports:?}");
    assert!(reports.windows(2).all(|w| w[0].done <= w[1].done));
    // Everything carried over, and the new fields were derived.
    assert_eq!(index.committed_checkpoint(), Some("state-seq-42"));
    assert_eq!(count(&index, "三菱UFJ"), 2500);
    assert_eq!(count(&index, "currency:btc AND amount:[0.3 TO 0.4]"), 2500);
    assert_eq!(count(&index, "site:deepmix customer:mufg-group"), 2500);
    let d = index.get("doc-7").expect("get").expect("stored");
    assert_eq!(d.alerts, ["mufg-group/mufg"]);
    // Entities did not exist then: found in the stored text on the way.
    assert_eq!(count(&index, "entity:12345678"), 2500);
    assert_eq!(d.entities.len(), 1, "{:?}", d.entities);
    // The flat files of version 1 are gone; only the marker, the lock and the
    // live generation remain.
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    let generation = format!("v{}-", indexer::SCHEMA_VERSION);
    assert!(
        names.iter().any(|n| n.starts_with(&generation)),
        "{names:?}"
    );
    // Opening again does not rebuild.
    let mut again = 0;
    let reopened =
        DocumentIndex::open_or_create_with_progress(&root, |_| again += 1).expect("open");
    assert_eq!((again, reopened.num_docs()), (0, 2500));
}

#[test]
fn reader_follows_a_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("index");
    // An index already open when another process switches generations keeps
    // its view, and reload() moves it to the new generation.
    let mut writer = DocumentIndex::open_or_create(&root).expect("create");
    let _ = writer.upsert(&listing(1)).expect("upsert");
    writer.commit().expect("commit");
    let mut reader = DocumentIndex::open(&root).expect("reader");
    writer.close_writer().expect("close");
    drop(writer);
    // Simulate an upgrade by rewriting the marker to claim version 1 and
    // letting open_or_create rebuild it.
    let marker = std::fs::read_to_string(root.join("leakwatch-index.json")).expect("marker");
    std::fs::write(
        root.join("leakwatch-index.json"),
        marker.replace("\"schema_version\":2", "\"schema_version\":1"),
    )
    .expect("rewrite");
    let rebuilt = DocumentIndex::open_or_create(&root).expect("rebuild");
    assert_eq!(rebuilt.num_docs(), 1);
    assert_eq!(count(&reader, "银行卡"), 1);
    reader.reload().expect("reload follows the new generation");
    assert_eq!(count(&reader, "银行卡"), 1);
}
