//! `bench index`: indexes generated market listings with leakwatch's index and
//! with raw Tantivy (default tokenizer, same documents, same writer memory and
//! threads) in the same run, and prints the throughput ratio; then query
//! latency over mixed analyst queries and index size per 1,000 documents.
//!
//! ```text
//! cargo bench -p indexer --bench index                       # default size
//! cargo bench -p indexer --bench index -- --docs 1000000     # the issue's size
//! ```
//! Options: `--docs N` (default 200000), `--queries N` (default 1000),
//! `--chunk N` (documents per commit, default 50000), `--seed N`, `--keep DIR`
//! (build the indexes in DIR and leave them there).
//! Targets from issue 7: indexing ≥ 0.5× raw Tantivy, query p99 < 50 ms.

mod corpus;

use std::path::Path;
use std::time::{Duration, Instant};

use indexer::{
    DocumentIndex, FoldingTokenizer, IndexDocument, SearchRequest, SortOrder, TokenizerMode,
};
use tantivy::schema::{Schema, TantivyDocument, STORED, STRING, TEXT};
use tantivy::tokenizer::{TokenStream, Tokenizer};
use tantivy::{Index, IndexWriter};

/// Same writer memory for both sides (leakwatch's writer uses this much).
const WRITER_HEAP_BYTES: usize = 96 * 1024 * 1024;

struct Options {
    docs: usize,
    queries: usize,
    chunk: usize,
    seed: u64,
    keep: Option<std::path::PathBuf>,
    /// Profile one side only (`leakwatch` or `raw`); no ratio is printed.
    only: Option<String>,
    /// Skip indexing: query the indexes a `--keep DIR` run left in DIR.
    queries_only: bool,
}

fn options() -> Options {
    let mut o = Options {
        docs: 200_000,
        queries: 1000,
        chunk: 50_000,
        seed: 7,
        keep: None,
        only: None,
        queries_only: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1);
        let number = || -> usize {
            value
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| panic!("{} takes a number", args[i]))
        };
        match args[i].as_str() {
            "--docs" => o.docs = number(),
            "--queries" => o.queries = number(),
            "--chunk" => o.chunk = number().max(1),
            "--seed" => o.seed = number() as u64,
            "--keep" => o.keep = value.map(Into::into),
            "--only" => o.only = value.cloned(),
            "--queries-only" => {
                o.queries_only = true;
                i += 1;
                continue;
            }
            // `cargo bench` passes --bench; filters and other flags are ignored.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// Raw Tantivy: the same fields, text with the default tokenizer.
struct RawIndex {
    writer: IndexWriter,
    f: [tantivy::schema::Field; 12],
}

impl RawIndex {
    fn create(dir: &Path) -> RawIndex {
        let mut b = Schema::builder();
        let f = [
            b.add_text_field("id", STRING | STORED),
            b.add_text_field("site", STRING | STORED),
            b.add_text_field("url", STORED),
            b.add_text_field("kind", STRING | STORED),
            b.add_text_field("lang", STRING | STORED),
            b.add_text_field("title", TEXT | STORED),
            b.add_text_field("body", TEXT | STORED),
            b.add_text_field("price", TEXT | STORED),
            b.add_text_field("seller", TEXT | STORED),
            b.add_text_field("category", TEXT | STORED),
            b.add_date_field(
                "date",
                tantivy::schema::INDEXED | STORED | tantivy::schema::FAST,
            ),
            b.add_text_field("customer", STRING | STORED),
        ];
        let index = Index::create_in_dir(dir, b.build()).expect("raw index");
        let writer = index.writer(WRITER_HEAP_BYTES).expect("raw writer");
        RawIndex { writer, f }
    }

    fn add(&mut self, d: &IndexDocument) {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        doc.add_text(f[0], &d.id);
        doc.add_text(f[1], &d.site);
        doc.add_text(f[2], &d.url);
        doc.add_text(f[3], &d.kind);
        for (field, value) in [
            (f[4], &d.lang),
            (f[5], &d.title),
            (f[6], &d.body),
            (f[7], &d.price),
            (f[8], &d.seller),
            (f[9], &d.category),
        ] {
            if let Some(v) = value {
                doc.add_text(field, v);
            }
        }
        if let Some(p) = d.posted_at.or(d.fetched_at) {
            doc.add_date(f[10], tantivy::DateTime::from_timestamp_secs(p.timestamp()));
        }
        for c in &d.customers {
            doc.add_text(f[11], c);
        }
        self.writer.add_document(doc).expect("raw add");
    }
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("read index dir").flatten() {
        let meta = entry.metadata().expect("metadata");
        total += if meta.is_dir() {
            dir_size(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

/// CPU seconds (user + system) from a `/proc/…/stat` file: the process's,
/// or one thread's. Unlike wall time, unaffected by other processes (two
/// cores shared with compilers give noisy wall times).
fn cpu_seconds(stat: &str) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports clock ticks of USER_HZ = 100.
    (tick(11) + tick(12)) / 100.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let o = options();
    let scratch = tempfile::tempdir().expect("tempdir");
    let base = o.keep.clone().unwrap_or_else(|| scratch.path().to_owned());
    let ours_dir = base.join("leakwatch");
    let raw_dir = base.join("raw");
    println!(
        "bench index: {} generated listings (zh/ja/en/ru, 300 B–5 KB), commit every {}, {} queries",
        o.docs, o.chunk, o.queries
    );
    // Build the fold tables before timing (a one-off of some milliseconds).
    let mut warm = FoldingTokenizer::new(TokenizerMode::Index);
    let mut stream = warm.token_stream("銀行 ゆうちょ ＵＦＪ");
    while stream.advance() {}

    if !o.queries_only {
        std::fs::create_dir_all(&raw_dir).expect("mkdir");
        if !index_both(&o, &ours_dir, &raw_dir) {
            return;
        }
    }
    let mut ours = DocumentIndex::open(&ours_dir).expect("open the leakwatch index");
    ours.reload().expect("reload");
    let docs = ours.num_docs() as f64;
    let ours_size = ours.size_on_disk().expect("size");
    let raw_size = dir_size(&raw_dir);
    println!("index size");
    println!(
        "  leakwatch: {:.1} MB = {:.0} KB per 1k docs;  raw: {:.1} MB = {:.0} KB per 1k docs;  ratio {:.2}×",
        ours_size as f64 / 1e6,
        ours_size as f64 / 1e3 / (docs / 1e3),
        raw_size as f64 / 1e6,
        raw_size as f64 / 1e3 / (docs / 1e3),
        ours_size as f64 / raw_size as f64
    );
    run_queries(&o, &ours);
}

/// Indexes the corpus with raw Tantivy, then with leakwatch, and prints the
/// ratios; false when only one side ran (`--only`).
fn index_both(o: &Options, ours_dir: &Path, raw_dir: &Path) -> bool {
    // Each side indexes all chunks on its own (two writers at once would
    // fight over the two cores with their merge threads). Generating a chunk
    // is not timed; adding it and committing is, and so are the final merges.
    let gen_cpu = std::cell::Cell::new(0.0f64);
    let chunks = |f: &mut dyn FnMut(&[IndexDocument])| {
        let mut start = 0;
        while start < o.docs {
            let end = (start + o.chunk).min(o.docs);
            let before = cpu_seconds("/proc/thread-self/stat");
            let docs: Vec<IndexDocument> =
                (start..end).map(|i| corpus::listing(o.seed, i)).collect();
            gen_cpu.set(gen_cpu.get() + cpu_seconds("/proc/thread-self/stat") - before);
            f(&docs);
            start = end;
            eprint!("\r  indexed {end}/{}", o.docs);
        }
        eprintln!();
    };
    // CPU seconds of one side: the process's, minus generating the documents.
    let side_cpu = |run: &mut dyn FnMut()| {
        gen_cpu.set(0.0);
        let before = cpu_seconds("/proc/self/stat");
        run();
        cpu_seconds("/proc/self/stat") - before - gen_cpu.get()
    };
    let wanted = |side: &str| o.only.as_deref().is_none_or(|only| only == side);
    let mut bytes = 0usize;
    let mut raw_time = Duration::ZERO;
    let mut raw_cpu = 0.0;
    if wanted("raw") {
        raw_cpu = side_cpu(&mut || {
            let mut raw = RawIndex::create(raw_dir);
            chunks(&mut |docs| {
                bytes += docs
                    .iter()
                    .map(|d| {
                        d.title.as_ref().map_or(0, String::len)
                            + d.body.as_ref().map_or(0, String::len)
                    })
                    .sum::<usize>();
                let t = Instant::now();
                for d in docs {
                    raw.add(d);
                }
                raw.writer.commit().expect("raw commit");
                raw_time += t.elapsed();
            });
            let t = Instant::now();
            let RawIndex { writer, .. } = raw;
            writer.wait_merging_threads().expect("raw merges");
            raw_time += t.elapsed();
        });
    }
    let mut ours_time = Duration::ZERO;
    let mut ours_cpu = 0.0;
    if wanted("leakwatch") {
        ours_cpu = side_cpu(&mut || {
            let mut ours = DocumentIndex::open_or_create(ours_dir).expect("leakwatch index");
            chunks(&mut |docs| {
                let t = Instant::now();
                for d in docs {
                    let _ = ours.upsert(d).expect("upsert");
                }
                ours.commit().expect("commit");
                ours_time += t.elapsed();
            });
            let t = Instant::now();
            ours.close_writer().expect("merges");
            ours_time += t.elapsed();
        });
    }
    if o.only.is_some() {
        let (time, cpu) = (ours_time.max(raw_time), ours_cpu.max(raw_cpu));
        println!(
            "{}: {:.0} docs/s, {:.0} docs per CPU second",
            o.only.as_deref().unwrap_or(""),
            o.docs as f64 / time.as_secs_f64(),
            o.docs as f64 / cpu
        );
        return false;
    }
    let rate = |d: Duration| o.docs as f64 / d.as_secs_f64();
    let (ours_rate, raw_rate) = (rate(ours_time), rate(raw_time));
    println!("indexing ({:.0} MB of title+body text)", bytes as f64 / 1e6);
    println!(
        "  leakwatch (folding CJK bigrams, parsed prices, upsert by id): {ours_rate:>9.0} docs/s"
    );
    println!(
        "  raw Tantivy (default tokenizer, add only):                    {raw_rate:>9.0} docs/s"
    );
    println!(
        "  ratio leakwatch / raw: {:.2}× wall clock   (target ≥ 0.5×) {}",
        ours_rate / raw_rate,
        if ours_rate / raw_rate >= 0.5 {
            "ok"
        } else {
            "BELOW TARGET"
        }
    );
    println!(
        "  CPU time: leakwatch {ours_cpu:.1} s, raw {raw_cpu:.1} s → ratio {:.2}× docs per CPU second \
         (unaffected by other load on the machine)",
        raw_cpu / ours_cpu
    );
    true
}

/// Runs the mixed queries as `leakwatch search` does (top 10, snippets) and
/// prints latency percentiles, overall and per kind of query.
fn run_queries(o: &Options, index: &DocumentIndex) {
    // Warm the page cache and the searcher threads as a running service
    // would have them (other queries than the measured ones).
    for q in corpus::queries(o.seed + 1, 50) {
        let request = SearchRequest {
            query: q.query,
            limit: 10,
            ..Default::default()
        };
        std::hint::black_box(index.search(&request).expect("warm-up query"));
    }
    let queries = corpus::queries(o.seed, o.queries);
    let mut times = Vec::with_capacity(queries.len());
    let mut by_kind: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    let mut hits = 0usize;
    for q in &queries {
        let request = SearchRequest {
            query: q.query.clone(),
            site: q.site.clone(),
            customer: q.customer.clone(),
            since: q.since,
            until: None,
            limit: 10,
            offset: 0,
            sort: if q.sort_by_date {
                SortOrder::Date
            } else {
                SortOrder::Score
            },
        };
        let t = Instant::now();
        let (total, page) = index.search(&request).expect("query runs");
        let elapsed = t.elapsed();
        hits += usize::from(total > 0);
        std::hint::black_box(page);
        times.push(elapsed);
        by_kind.entry(q.kind).or_default().push(elapsed);
        slowest.push((
            elapsed,
            format!(
                "{:?} ({}, {total} matches, sort {})",
                q.query,
                q.kind,
                if q.sort_by_date { "date" } else { "score" }
            ),
        ));
    }
    times.sort();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let p99 = percentile(&times, 0.99);
    println!(
        "queries ({} mixed, top 10 with snippets, {} with hits, after 50 warm-up queries)",
        times.len(),
        hits
    );
    println!(
        "  p50 {:.2} ms   p90 {:.2} ms   p99 {:.2} ms   max {:.2} ms   (target p99 < 50 ms) {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9)),
        ms(p99),
        ms(times[times.len() - 1]),
        if ms(p99) < 50.0 { "ok" } else { "ABOVE TARGET" }
    );
    for (kind, mut t) in by_kind {
        t.sort();
        println!(
            "  {kind:>12}: {:>4} queries  p50 {:>7.2} ms  p99 {:>7.2} ms",
            t.len(),
            ms(percentile(&t, 0.5)),
            ms(percentile(&t, 0.99))
        );
    }
    for (d, q) in slowest.iter().take(3) {
        println!("  slow: {:.2} ms {q}", ms(*d));
    }
}
