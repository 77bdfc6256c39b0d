//! `bench console`: the analyst console's server time against the raw
//! queries underneath it, in the same run. Builds a data folder of N
//! generated listings (the index bench's corpus) and M alerts over them,
//! serves it with `leakwatch serve`, and times the alert-queue API call and
//! page and the search API call and page by their `Server-Timing` header;
//! the baselines are the same store query (rusqlite) and index search
//! (`DocumentIndex::search_with_facets`: the page of hits and the facet
//! counts) run directly.
//!
//! ```text
//! cargo bench --bench console                                     # defaults
//! cargo bench --bench console -- --docs 1000000 --alerts 100000  # the issue's size
//! ```
//! Options: `--docs N` (default 200000: a 2-core machine indexes 1,000,000
//! in tens of minutes), `--alerts N` (default 100000), `--requests N` per
//! kind (default 300), `--seed N`, `--data DIR`: keep the generated data
//! folder there and reuse it on the next run when it was made with the same
//! sizes, seed and index schema (so that indexing 1,000,000 listings is paid
//! once; a folder of other sizes is rebuilt, a folder that is not the
//! bench's is refused). Without `--data`, a temporary folder. Targets from
//! issue 17: queue p99 < 50 ms, search p99 < 100 ms server time.

#[path = "../indexer/benches/index/corpus.rs"]
#[allow(dead_code)]
mod corpus;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use indexer::{DocumentIndex, SearchRequest, WriterMemory};
use rusqlite::params;
use watchlists::{Alert, Severity};

const BIN: &str = env!("CARGO_BIN_EXE_leakwatch");
/// The customer whose token the queue is also timed with (one of 50, as
/// `fill_alerts` spreads them: about 2,000 alerts of 100,000).
const BENCH_CUSTOMER: &str = "customer-7";
const STATUSES: [&str; 6] = [
    "new",
    "delivered",
    "acknowledged",
    "investigating",
    "resolved",
    "false_positive",
];

struct Options {
    docs: usize,
    alerts: usize,
    requests: usize,
    seed: u64,
    data: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        docs: 200_000,
        alerts: 100_000,
        requests: 300,
        seed: 7,
        data: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let n = || -> usize {
            args.get(i + 1)
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| panic!("{} takes a number", args[i]))
        };
        match args[i].as_str() {
            "--docs" => o.docs = n(),
            "--alerts" => o.alerts = n(),
            "--requests" => o.requests = n(),
            "--seed" => o.seed = n() as u64,
            "--data" => {
                o.data = Some(PathBuf::from(
                    args.get(i + 1).expect("--data takes a folder"),
                ))
            }
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn p(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn summary(name: &str, mut ms: Vec<f64>) -> f64 {
    ms.sort_by(|a, b| a.total_cmp(b));
    let p99 = p(&ms, 0.99);
    println!(
        "  {name:<34} p50 {:>7.2} ms  p99 {:>7.2} ms  ({} runs)",
        p(&ms, 0.5),
        p99,
        ms.len()
    );
    p99
}

/// What a data folder was made with: `bench.json` in it.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Made {
    docs: usize,
    alerts: usize,
    seed: u64,
    schema_version: u32,
}

const MADE: &str = "bench.json";

/// The data folder: `--data DIR` reused when it was made for these
/// options, else built (there, or in a temporary folder).
fn data_folder(o: &Options) -> (Option<tempfile::TempDir>, PathBuf) {
    let wanted = Made {
        docs: o.docs,
        alerts: o.alerts,
        seed: o.seed,
        schema_version: indexer::SCHEMA_VERSION,
    };
    let (temp, data) = match &o.data {
        Some(dir) => (None, dir.clone()),
        None => {
            let temp = tempfile::tempdir().expect("tempdir");
            let path = temp.path().to_owned();
            (Some(temp), path)
        }
    };
    let made: Option<Made> = std::fs::read(data.join(MADE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if made.as_ref() == Some(&wanted) {
        println!("reusing {} (made for these sizes)", data.display());
        return (temp, data);
    }
    let empty = std::fs::read_dir(&data).map_or(true, |mut d| d.next().is_none());
    assert!(
        made.is_some() || empty,
        "{}: not empty and not a bench data folder (no {MADE}); choose another --data",
        data.display()
    );
    let index_made = made.as_ref().is_some_and(|m| {
        m.docs == wanted.docs && m.seed == wanted.seed && m.schema_version == wanted.schema_version
    });
    let _ = std::fs::remove_file(data.join(MADE));
    for file in ["state.db", "state.db-wal", "state.db-shm"] {
        let _ = std::fs::remove_file(data.join(file));
    }
    let ids = if index_made {
        println!("reusing the index of {}; new alerts", data.display());
        (0..o.docs).map(|i| corpus::listing(o.seed, i).id).collect()
    } else {
        let _ = std::fs::remove_dir_all(data.join("index"));
        std::fs::create_dir_all(&data).expect("data folder");
        build_index(&data.join("index"), o)
    };
    fill_alerts(&data.join("state.db"), &ids, o);
    std::fs::write(data.join(MADE), serde_json::to_vec(&wanted).expect("JSON"))
        .expect("bench.json");
    (temp, data)
}

fn build_index(dir: &Path, o: &Options) -> Vec<String> {
    let started = Instant::now();
    let mut index = DocumentIndex::open_or_create(dir).expect("index");
    index.set_writer_memory(WriterMemory::bulk());
    let mut ids = Vec::with_capacity(o.docs);
    for i in 0..o.docs {
        let doc = corpus::listing(o.seed, i);
        ids.push(doc.id.clone());
        let _ = index.upsert(&doc).expect("upsert");
        if (i + 1) % 50_000 == 0 {
            index.commit().expect("commit");
        }
    }
    index.commit().expect("commit");
    index.close_writer().expect("close");
    println!(
        "indexed {} listings in {:.0} s",
        o.docs,
        started.elapsed().as_secs_f64()
    );
    ids
}

fn fill_alerts(db: &Path, ids: &[String], o: &Options) {
    let started = Instant::now();
    // The store's tables, as the service makes them.
    let made = Command::new(BIN)
        .args(["token", "list", "--data-dir"])
        .arg(db.parent().expect("data folder"))
        .output()
        .expect("token list");
    assert!(made.status.success(), "token list failed");
    let mut conn = rusqlite::Connection::open(db).expect("state.db");
    let tx = conn.transaction().expect("transaction");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO alerts (customer, asset, doc_id, severity, status, first_seen,
                 last_seen, simhash, alert_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0, ?7)",
            )
            .expect("prepare");
        let mut rng = corpus::Rng::new(o.seed ^ 0xA1E7);
        let base = chrono::Utc::now() - chrono::Duration::days(365);
        for i in 0..o.alerts {
            let customer = format!("customer-{}", rng.below(50));
            let asset = format!("asset-{i}");
            let doc_id = &ids[rng.below(ids.len())];
            let severity = [
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ][rng.below(4)];
            let status = STATUSES[rng.below(STATUSES.len())];
            let seen = (base + chrono::Duration::seconds((i as i64) * 300))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let alert = Alert {
                doc_id: doc_id.clone(),
                customer: customer.clone(),
                asset: asset.clone(),
                asset_name: format!("Asset {asset} of {customer}"),
                severity,
                terms: vec!["三菱UFJ".into()],
                context: vec!["出售".into()],
                snippet: "出售 三菱UFJ 网银 账户 带登录密码".into(),
                url: Some(format!("http://example{}.onion/t/{i}", rng.below(100))),
                site: Some(format!("site-{}", rng.below(100))),
                entities: Vec::new(),
            };
            let json = serde_json::to_string(&alert).expect("alert JSON");
            insert
                .execute(params![
                    customer,
                    asset,
                    doc_id,
                    severity.as_str(),
                    status,
                    seen,
                    json
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    println!(
        "stored {} alerts in {:.1} s",
        o.alerts,
        started.elapsed().as_secs_f64()
    );
}

/// The store queries behind the queue, as the console makes them: a page
/// of 50 with the filters given (`customer` for an operator's filter,
/// `scope` for a customer token's own), and the counts by status of the
/// caller's scope.
fn raw_queue(
    conn: &rusqlite::Connection,
    scope: Option<&str>,
    customer: Option<&str>,
    status: Option<&str>,
) {
    let mut conditions = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for (condition, value) in [
        ("customer = ?", scope),
        ("customer = ?", customer),
        ("status = ?", status),
    ] {
        if let Some(v) = value {
            conditions.push(condition);
            values.push(v);
        }
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let mut page = conn
        .prepare_cached(&format!(
            "SELECT id, status, first_seen, last_seen, alert_json FROM alerts
             {filter} ORDER BY id DESC LIMIT 51"
        ))
        .expect("prepare");
    let rows: Vec<(i64, String)> = page
        .query_map(rusqlite::params_from_iter(values), |r| {
            Ok((r.get(0)?, r.get(4)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (_, json) in &rows {
        let _: Alert = serde_json::from_str(json).expect("alert");
    }
    let mut counts = match scope {
        Some(_) => conn.prepare_cached(
            "SELECT status, count(*) FROM alerts WHERE customer = ?1 GROUP BY status",
        ),
        None => conn.prepare_cached("SELECT status, count(*) FROM alerts GROUP BY status"),
    }
    .expect("prepare");
    let _: Vec<(String, i64)> = counts
        .query_map(rusqlite::params_from_iter(scope), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
}

fn server_ms(runtime: &tokio::runtime::Runtime, request: reqwest::RequestBuilder) -> f64 {
    runtime.block_on(async {
        let response = request.send().await.expect("request");
        assert!(response.status().is_success(), "{}", response.status());
        let timing = response
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("app;dur="))
            .and_then(|v| v.parse::<f64>().ok())
            .expect("Server-Timing header");
        let _ = response.bytes().await;
        timing
    })
}

fn main() {
    let o = options();
    println!(
        "console bench: {} listings, {} alerts, {} requests a kind",
        o.docs, o.alerts, o.requests
    );
    println!(
        "machine: {} cores (shared with whatever else runs: numbers are of this run only)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let (_temp, data) = data_folder(&o);
    let data = data.as_path();
    let name = format!(
        "bench-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let token = Command::new(BIN)
        .args([
            "token",
            "create",
            "--name",
            &name,
            "--operator",
            "--data-dir",
        ])
        .arg(data)
        .output()
        .expect("token create");
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    assert!(token.starts_with("lw_"), "token create failed");
    let customer_token = Command::new(BIN)
        .args([
            "token",
            "create",
            "--name",
            &format!("{name}-customer"),
            "--customer",
            BENCH_CUSTOMER,
            "--data-dir",
        ])
        .arg(data)
        .output()
        .expect("token create");
    let customer_token = String::from_utf8_lossy(&customer_token.stdout)
        .trim()
        .to_owned();
    assert!(customer_token.starts_with("lw_"), "token create failed");

    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("address");
    let _server = Killed(child);
    let base = first
        .trim()
        .trim_start_matches("console at ")
        .trim_end_matches('/')
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = reqwest::Client::builder()
        .no_proxy()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    // A browser session for the pages.
    let login = runtime.block_on(async {
        http.get(format!("{base}/login"))
            .send()
            .await
            .expect("login page")
            .text()
            .await
            .expect("body")
    });
    let at = login.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    let csrf = &login[at..at + 64];
    runtime.block_on(async {
        let r = http
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}&csrf={csrf}"))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login");
    });

    let queries = corpus::queries(o.seed, o.requests);
    let mut rng = corpus::Rng::new(o.seed ^ 0x77);
    let filters: Vec<(Option<String>, Option<&str>)> = (0..o.requests)
        .map(|_| {
            let customer = rng
                .chance(50)
                .then(|| format!("customer-{}", rng.below(50)));
            let status = rng.chance(50).then(|| STATUSES[rng.below(STATUSES.len())]);
            (customer, status)
        })
        .collect();
    let query_string = |c: &Option<String>, s: Option<&str>| {
        let mut q = String::new();
        if let Some(c) = c {
            q.push_str(&format!("customer={c}&"));
        }
        if let Some(s) = s {
            q.push_str(&format!("status={s}&"));
        }
        q
    };

    // Warm both sides once (page cache, the server's index reader).
    for (c, s) in filters.iter().take(10) {
        let qs = query_string(c, *s);
        let _ = server_ms(
            &runtime,
            http.get(format!("{base}/api/v1/alerts?{qs}"))
                .bearer_auth(&token),
        );
    }

    // Each request of a kind runs raw, through the API and as a page, one
    // after the other, so that the machine's load weighs alike; which goes
    // first turns with each request, so that none of them always meets
    // the cold caches.
    let conn = rusqlite::Connection::open(data.join("state.db")).expect("state.db");
    let mut queue_p99 = Vec::new();
    for (who, scope, bearer) in [
        ("operator", None, &token),
        ("customer", Some(BENCH_CUSTOMER), &customer_token),
    ] {
        println!("alert queue, {who} token (50 a page, counts by status):");
        let (mut raw, mut api, mut page) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (c, s)) in filters.iter().enumerate() {
            // A customer token has no customer filter: its scope is one.
            let c = if scope.is_some() { &None } else { c };
            let qs = query_string(c, *s);
            for step in 0..3 {
                match (i + step) % 3 {
                    0 => {
                        let t = Instant::now();
                        raw_queue(&conn, scope, c.as_deref(), *s);
                        raw.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    1 => api.push(server_ms(
                        &runtime,
                        http.get(format!("{base}/api/v1/alerts?{qs}"))
                            .bearer_auth(bearer),
                    )),
                    // The page as the operator's browser session.
                    _ if scope.is_none() => {
                        page.push(server_ms(&runtime, http.get(format!("{base}/alerts?{qs}"))))
                    }
                    _ => {}
                }
            }
        }
        let raw_p99 = summary("raw store queries", raw);
        let api_p99 = summary("API GET /api/v1/alerts", api);
        let page_p99 = (!page.is_empty()).then(|| summary("page GET /alerts", page));
        queue_p99.push((who, raw_p99, api_p99, page_p99));
    }

    println!("search (20 hits, facets):");
    let index = DocumentIndex::open(&data.join("index")).expect("index");
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let (mut raw, mut api, mut page) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_kind: std::collections::BTreeMap<&str, (Vec<f64>, Vec<f64>)> = Default::default();
    for (i, q) in queries.iter().enumerate() {
        let request = SearchRequest {
            query: q.query.clone(),
            site: q.site.clone(),
            limit: 20,
            ..Default::default()
        };
        let mut qs = format!("q={}", encode(&q.query));
        if let Some(site) = &q.site {
            qs.push_str(&format!("&site={}", encode(site)));
        }
        for step in 0..3 {
            match (i + step) % 3 {
                0 => {
                    let t = Instant::now();
                    let _ = index.search_with_facets(&request);
                    raw.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                1 => api.push(server_ms(
                    &runtime,
                    http.get(format!("{base}/api/v1/search?{qs}"))
                        .bearer_auth(&token),
                )),
                _ => page.push(server_ms(&runtime, http.get(format!("{base}/search?{qs}")))),
            }
        }
        let kind = by_kind.entry(q.kind).or_default();
        kind.0.extend(raw.last());
        kind.1.extend(api.last());
    }
    println!("  by kind of query (raw index / API):");
    for (kind, (raw, api)) in by_kind {
        let (mut raw, mut api) = (raw, api);
        raw.sort_by(|a, b| a.total_cmp(b));
        api.sort_by(|a, b| a.total_cmp(b));
        println!(
            "    {kind:<14} {:>3} runs  raw p50 {:>7.2} max {:>7.2} ms  API p50 {:>7.2} max {:>7.2} ms",
            raw.len(),
            p(&raw, 0.5),
            p(&raw, 1.0),
            p(&api, 0.5),
            p(&api, 1.0)
        );
    }
    let raw_search_p99 = summary("raw index search + facets", raw);
    let api_search_p99 = summary("API GET /api/v1/search", api);
    let page_search_p99 = summary("page GET /search", page);

    println!("p99 ratios (console server time / raw query, same run):");
    for (who, raw, api, page) in queue_p99 {
        match page {
            Some(page) => println!(
                "  queue ({who}) API {:.2}×, page {:.2}× (target p99 < 50 ms: {api:.1} / {page:.1} ms)",
                api / raw,
                page / raw,
            ),
            None => println!(
                "  queue ({who}) API {:.2}× (target p99 < 50 ms: {api:.1} ms)",
                api / raw
            ),
        }
    }
    println!(
        "  search API {:.2}×, search page {:.2}× (target p99 < 100 ms: {:.1} / {:.1} ms)",
        api_search_p99 / raw_search_p99,
        page_search_p99 / raw_search_p99,
        api_search_p99,
        page_search_p99
    );
}
