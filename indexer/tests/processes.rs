//! Two real processes on one index, as `leakwatch run` (writer) and
//! `leakwatch search` (reader) are: the reader only ever sees whole batches,
//! never a broken index; and a writer killed with SIGKILL mid-batch loses
//! exactly the uncommitted batch, nothing committed, and leaves the lock free.
//!
//! The writer is this test binary run again (`writer_process`, idle unless
//! the role variable is set), so no helper binary has to be built.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indexer::{CommitPolicy, DocumentIndex, IndexDocument, SearchRequest, WriteOutcome};

const ROLE: &str = "LEAKWATCH_INDEXER_TEST_ROLE";
const DIR: &str = "LEAKWATCH_INDEXER_TEST_DIR";
const BATCH: usize = 200;
/// The writer of the concurrency test stops after this many documents.
const CONCURRENT_DOCS: usize = 30 * BATCH;
/// A crashing writer never runs longer than this, even if its parent is gone.
const WRITER_LIFETIME: Duration = Duration::from_secs(60);

/// Document `i`: its content is a function of `i`, so a reader can check it.
fn listing(i: usize) -> IndexDocument {
    let banks = [
        "三菱UFJ銀行",
        "ゆうちょ銀行",
        "中国工商银行",
        "Sberbank",
        "みずほ銀行",
    ];
    IndexDocument {
        id: format!("doc-{i}"),
        site: "deepmix".into(),
        url: format!("http://x.onion/t/{i}"),
        kind: "listing".into(),
        title: Some(format!("出售 {} 账户 {i}", banks[i % banks.len()])),
        body: Some(format!(
            "marker{i} 带登录密码 支持担保 fresh logs {}",
            "数据 ".repeat(i % 40)
        )),
        price: Some(format!("{}.5 BTC", i % 7)),
        ..Default::default()
    }
}

/// The writer side, run in a child process. Idle in a normal test run.
#[test]
fn writer_process() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let dir = std::env::var(DIR).expect("the parent sets the index folder");
    let mut index = DocumentIndex::open_or_create(Path::new(&dir)).expect("writer opens");
    index.set_commit_policy(CommitPolicy::every(BATCH, Duration::from_secs(3600)));
    let start: usize = index
        .committed_checkpoint()
        .map_or(0, |c| c.parse().expect("checkpoint is a count"));
    println!("ready {start}");
    let started = Instant::now();
    let mut i = start;
    while started.elapsed() < WRITER_LIFETIME {
        if role == "concurrent" && i == CONCURRENT_DOCS {
            break;
        }
        if role == "crash" && i % BATCH == BATCH - 1 {
            // The next write commits.
            println!("committing {}", i + 1);
        }
        index.set_checkpoint((i + 1).to_string());
        let outcome = index.upsert(&listing(i)).expect("upsert");
        i += 1;
        if outcome == WriteOutcome::Committed {
            println!("committed {i}");
        } else if role == "crash" && i % BATCH == BATCH / 2 {
            println!("mid-batch {i}");
        }
    }
    println!("done {i}");
}

fn spawn_writer(role: &str, dir: &Path) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "writer_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(DIR, dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the writer process");
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    (child, stdout)
}

/// The next line of the writer that starts with one of `words`, as (word, n).
fn next_event(out: &mut BufReader<ChildStdout>, words: &[&str]) -> Option<(String, usize)> {
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).ok()? == 0 {
            return None;
        }
        // The test harness may print "test writer_process ... " first, on the same line.
        let parts: Vec<&str> = line.split_whitespace().collect();
        for pair in parts.windows(2) {
            if words.contains(&pair[0]) {
                if let Ok(n) = pair[1].parse() {
                    return Some((pair[0].to_owned(), n));
                }
            }
        }
    }
}

fn total(index: &DocumentIndex, q: &str) -> usize {
    index
        .search(&SearchRequest {
            query: q.into(),
            limit: 1,
            ..Default::default()
        })
        .expect("search never fails on a committed index")
        .0
}

/// What a reader must see at any moment: whole batches, a checkpoint equal to
/// the count, every document searchable and stored as written.
fn check_consistent(index: &DocumentIndex) -> usize {
    let n = index.num_docs() as usize;
    assert_eq!(n % BATCH, 0, "a partial batch is visible: {n} documents");
    let checkpoint = index
        .committed_checkpoint()
        .map_or(0, |c| c.parse().expect("number"));
    assert_eq!(checkpoint, n, "checkpoint and documents disagree");
    assert_eq!(total(index, "出售"), n);
    assert_eq!(total(index, "currency:btc"), n);
    if n > 0 {
        for i in [0, n / 2, n - 1] {
            let stored = index
                .get(&format!("doc-{i}"))
                .expect("get")
                .expect("committed doc stored");
            assert_eq!(stored, listing(i));
            assert_eq!(total(index, &format!("marker{i}")), 1);
        }
    }
    n
}

#[test]
fn reader_process_sees_only_whole_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("index");
    let (mut child, mut out) = spawn_writer("concurrent", &root);
    next_event(&mut out, &["ready"]).expect("writer starts");
    // Drain the writer's output so it never blocks on a full pipe.
    let drain = std::thread::spawn(move || while next_event(&mut out, &["done"]).is_some() {});
    let mut long_lived = DocumentIndex::open(&root).expect("reader opens");
    let mut seen = 0;
    let mut checks = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen < CONCURRENT_DOCS && Instant::now() < deadline {
        // A reader that stays open and reloads, and one that opens afresh,
        // as `leakwatch search` does each time.
        long_lived.reload().expect("reload never fails");
        let n = check_consistent(&long_lived);
        assert!(n >= seen, "documents went backwards: {seen} → {n}");
        let fresh = DocumentIndex::open(&root).expect("open never fails");
        let m = check_consistent(&fresh);
        assert!(m >= n);
        seen = m;
        checks += 1;
    }
    assert!(
        child.wait().expect("writer exits").success(),
        "writer failed"
    );
    drain.join().expect("drain thread");
    long_lived.reload().expect("reload");
    assert_eq!(check_consistent(&long_lived), CONCURRENT_DOCS);
    assert!(
        checks > 3,
        "the reader ran only {checks} times while the writer wrote"
    );
}

#[test]
fn kill_9_mid_batch_loses_only_the_uncommitted_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("index");
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(7, |d| d.subsec_nanos() as usize);
    let mut expected = 0;
    for round in 0..4 {
        let (mut child, mut out) = spawn_writer("crash", &root);
        let (_, start) = next_event(&mut out, &["ready"]).expect("writer starts");
        assert_eq!(
            start, expected,
            "round {round}: the writer resumes from the checkpoint"
        );
        // Let a few batches commit, then kill in the middle of a batch or
        // just as a commit starts (alternating), with a little jitter.
        let commits = 2 + (seed >> round) % 3;
        let mut committed = start;
        while committed < start + commits * BATCH {
            let (_, n) = next_event(&mut out, &["committed"]).expect("writer commits");
            committed = n;
        }
        let kill_at = if round % 2 == 0 {
            "mid-batch"
        } else {
            "committing"
        };
        next_event(&mut out, &[kill_at]).expect("writer reaches the kill point");
        std::thread::sleep(Duration::from_micros(((seed >> (round * 3)) % 3000) as u64));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        // Whatever the writer printed before dying is committed; a commit
        // in flight may or may not have landed, but never partly.
        while let Some((_, n)) = next_event(&mut out, &["committed"]) {
            committed = n;
        }
        let mut index = DocumentIndex::open_or_create(&root).expect("reopens after kill -9");
        let n = check_consistent(&index);
        assert!(
            n == committed || n == committed + BATCH,
            "round {round}: {n} documents after a crash with {committed} committed"
        );
        // The lock died with the writer: writing works at once.
        let _ = index.upsert(&listing(n)).expect("writer lock is free");
        index.close_writer().expect("close without committing");
        expected = n;
    }
}
