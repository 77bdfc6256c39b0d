//! `cargo bench -p crawler --bench crawl`: the crawler's performance bars,
//! each printed as a ratio against its budget or baseline in the same run.
//!
//! 1. Frontier scale: 1,000,000 URLs in the SQLite frontier, peak RSS
//!    against the 200 MB bar, and the cost of taking the next due URL.
//! 2. Utilisation: 50 loopback hosts (127.0.0.1 … 127.0.0.50), each limited
//!    to R requests/s; requests made against the summed budget (bar ≥ 0.95)
//!    and rate violations seen by the servers' clocks (bar: 0).
//! 3. CPU per page: decode + extract of real phpBB market pages, against
//!    the floor of parsing the HTML alone.
//!
//! Env: `BENCH_HOSTS` (50), `BENCH_RATE` (req/s per host, 5: a brisk dark-web forum budget),
//! `BENCH_SECONDS` (30), `BENCH_FRONTIER_URLS` (1000000); `BENCH_GAPS=1` lists
//! each host's requests that came closer than 0.8 of the interval.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crawler::{
    CrawlOptions, Crawler, FetchOptions, Fetcher, Frontier, NewLink, PageRole, SiteProfile,
    Transport,
};
use extract::{decode_html, extract_page, CanonicalUrl, UrlRules};
use support::{board_page, board_profile, rate_violations, Reply, TestServer};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    frontier_scale(env("BENCH_FRONTIER_URLS", 1_000_000));
    runtime.block_on(utilisation(
        env("BENCH_HOSTS", 50) as u8,
        env("BENCH_RATE", 5) as u32,
        env("BENCH_SECONDS", 30),
    ));
    cpu_per_page();
}

fn frontier_scale(urls: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut frontier = Frontier::open(&dir.path().join("state.db")).expect("frontier");
    let rules = UrlRules::default();
    let rss_before = rss_kib("VmRSS:");
    let started = Instant::now();
    let batch = 10_000;
    let mut n = 0u64;
    while n < urls {
        for site in 0..50u64 {
            let links: Vec<NewLink> = (n..(n + batch).min(urls))
                .filter(|i| i % 50 == site)
                .map(|i| NewLink {
                    url: CanonicalUrl::parse(
                        &format!(
                            "http://bench{site}.example/forum/viewtopic.php?f={}&t={i}",
                            i % 97
                        ),
                        &rules,
                    )
                    .expect("url"),
                    depth: 1,
                    role: PageRole::Topic,
                    row_signature: None,
                })
                .collect();
            frontier
                .add_links(&format!("bench{site}"), &links, 0)
                .expect("insert");
        }
        n += batch;
    }
    let insert = started.elapsed();
    let claims = 2_000;
    let started = Instant::now();
    let mut skip = HashSet::new();
    for i in 0..claims {
        let site = format!("bench{}", i % 50);
        if let Some(u) = frontier.next_due(&site, 1, &skip).expect("claim") {
            skip.insert(u.id);
        }
        if skip.len() > 8 {
            skip.clear();
        }
    }
    let claim = started.elapsed() / claims;
    let hwm_mb = rss_kib("VmHWM:") as f64 / 1024.0;
    let disk_mb = std::fs::metadata(dir.path().join("state.db"))
        .map(|m| m.len())
        .unwrap_or(0) as f64
        / 1e6;
    println!(
        "frontier: {urls} URLs inserted in {:.1} s ({:.0} URLs/s); next due URL in {:.0} µs; db {disk_mb:.0} MB on disk",
        insert.as_secs_f64(),
        urls as f64 / insert.as_secs_f64(),
        claim.as_secs_f64() * 1e6
    );
    println!(
        "frontier: peak RSS {hwm_mb:.0} MB (was {:.0} MB before) → {:.2} of the 200 MB bar ({})",
        rss_before as f64 / 1024.0,
        hwm_mb / 200.0,
        if hwm_mb < 200.0 { "pass" } else { "FAIL" }
    );
}

async fn utilisation(hosts: u8, rate: u32, seconds: u64) {
    let per_minute = rate * 60;
    // Enough pages that no site runs dry before its budget is spent.
    let per_page = 20;
    let pages_per_site = rate as u64 * seconds;
    let list_pages = (pages_per_site / (per_page as u64 + 1) + 2) as u32;
    let mut servers = Vec::new();
    let mut sites = Vec::new();
    for h in 1..=hosts {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, h));
        let server = TestServer::start_on(ip, move |req| {
            match board_page(&req.path, list_pages, per_page) {
                Some(html) => Reply::html(html),
                None => Reply::status(404),
            }
        })
        .await;
        let extra = format!(
            "concurrency = 4\nmax_depth = 100000\nmax_pages = {pages_per_site}\n[rate_limit]\nrequests_per_minute = {per_minute}\nburst = 1"
        );
        sites.push(board_profile(&format!("host{h}"), &server.url("/"), &extra));
        servers.push(server);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let fetcher = Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher");
    let crawler = Crawler::new(
        Arc::new(fetcher),
        Frontier::open(&dir.path().join("state.db")).expect("frontier"),
        CrawlOptions {
            max_in_flight: hosts as usize * 4,
            ..CrawlOptions::default()
        },
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<crawler::Delivery>(1024);
    let consumer = {
        let crawler = crawler.clone();
        tokio::spawn(async move {
            let mut receipts = Vec::new();
            let mut n = 0usize;
            while let Some(d) = rx.recv().await {
                receipts.push(d.receipt);
                n += 1;
                if receipts.len() >= 256 {
                    crawler.acknowledge(&receipts).expect("ack");
                    receipts.clear();
                }
            }
            crawler.acknowledge(&receipts).expect("ack");
            n
        })
    };
    let cpu_before = process_cpu();
    let started = Instant::now();
    crawler.crawl_once(sites, tx, |_| {}).await.expect("crawl");
    let elapsed = started.elapsed();
    let cpu = process_cpu() - cpu_before;
    let documents = consumer.await.expect("consumer");
    let mut requests = 0usize;
    let mut violations = 0usize;
    let mut violations_jitter = 0usize;
    let mut site_utilisation = Vec::new();
    let interval = Duration::from_secs(1) / rate;
    let mut shortest_gap = Duration::MAX;
    for server in &servers {
        let times: Vec<Instant> = server.hits().iter().map(|h| h.at).collect();
        if std::env::var_os("BENCH_GAPS").is_some() {
            let hits = server.hits();
            let short: Vec<String> = hits
                .windows(2)
                .enumerate()
                .filter(|(_, w)| w[1].at - w[0].at < interval * 4 / 5)
                .map(|(k, w)| {
                    format!(
                        "#{k} {}→{} {:.1}ms",
                        w[0].path,
                        w[1].path,
                        (w[1].at - w[0].at).as_secs_f64() * 1e3
                    )
                })
                .collect();
            eprintln!("{}: {short:?}", server.addr);
        }
        for w in times.windows(2) {
            shortest_gap = shortest_gap.min(w[1] - w[0]);
        }
        requests += times.len();
        // Hosts that ever saw more requests in some window than the budget
        // allows (the worst excess is almost always 1).
        violations +=
            usize::from(rate_violations(&times, per_minute, 1, Duration::from_millis(2)) > 0);
        violations_jitter += usize::from(rate_violations(&times, per_minute, 1, interval / 5) > 0);
        if let (Some(first), Some(last)) = (times.first(), times.last()) {
            // Requests made over what the budget allowed in the same span.
            let allowed = 1.0 + (*last - *first).as_secs_f64() * rate as f64;
            site_utilisation.push(times.len() as f64 / allowed);
        }
    }
    let budget = hosts as f64 * rate as f64 * elapsed.as_secs_f64() + hosts as f64;
    let mean_site = site_utilisation.iter().sum::<f64>() / site_utilisation.len().max(1) as f64;
    let worst_site = site_utilisation
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    println!(
        "utilisation: {requests} requests, {documents} documents in {:.2} s from {hosts} hosts × {rate} req/s",
        elapsed.as_secs_f64()
    );
    println!(
        "utilisation: {:.3} of the summed budget (bar ≥ 0.95: {}); per site mean {mean_site:.3}, worst {worst_site:.3}; hosts over budget in some window {violations}/{hosts} (bar 0: {})",
        requests as f64 / budget,
        if requests as f64 / budget >= 0.95 { "pass" } else { "FAIL" },
        if violations == 0 { "pass" } else { "FAIL" }
    );
    println!(
        "utilisation: shortest gap between two requests to one host {:.1} ms (interval {:.1} ms); \
         hosts over budget when arrival jitter up to {:.0} ms is forgiven: {violations_jitter}",
        shortest_gap.as_secs_f64() * 1e3,
        interval.as_secs_f64() * 1e3,
        (interval / 5).as_secs_f64() * 1e3
    );
    println!(
        "utilisation: crawler CPU {:.2} ms per page ({:.0} % of one core)",
        cpu.as_secs_f64() * 1e3 / requests.max(1) as f64,
        cpu.as_secs_f64() / elapsed.as_secs_f64() * 100.0
    );
}

/// User + system CPU time of this process.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11usize, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

fn cpu_per_page() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let pages_dir = root.join("../../shared/fixtures/real/anwang-2018");
    let profile_path = root.join("../examples/sites/demo-market.toml");
    let Ok(profile) = SiteProfile::load(&profile_path) else {
        println!(
            "cpu per page: skipped ({} not loadable)",
            profile_path.display()
        );
        return;
    };
    // Real 暗网中文网 topic pages, served as that market serves them: GBK,
    // labelled in the header.
    let mut pages: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(&pages_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            let text = text
                .replace("charset=utf-8", "charset=gbk")
                .replace("charset=UTF-8", "charset=gbk");
            pages.push(encoding_rs::GBK.encode(&text).0.into_owned());
        }
    }
    if pages.is_empty() {
        println!("cpu per page: skipped ({} is missing)", pages_dir.display());
        return;
    }
    let url = profile
        .rules
        .base_url
        .join("viewtopic.php?t=8647")
        .expect("url");
    let rounds = 100u32;
    let per_page = |f: &mut dyn FnMut(&[u8])| {
        let started = Instant::now();
        for _ in 0..rounds {
            for page in &pages {
                f(page);
            }
        }
        started.elapsed() / (rounds * pages.len() as u32)
    };
    let decode = per_page(&mut |page| {
        std::hint::black_box(decode_html(page, Some("text/html; charset=gbk"), None));
    });
    let texts: Vec<String> = pages
        .iter()
        .map(|p| decode_html(p, Some("text/html; charset=gbk"), None).text)
        .collect();
    let mut documents = 0;
    let mut i = 0;
    let extract = per_page(&mut |_| {
        let out = extract_page(
            &profile.rules,
            &url,
            &texts[i % texts.len()],
            chrono::Utc::now(),
            Some("GBK"),
        );
        documents += out.documents.len();
        i += 1;
    });
    let mut i = 0;
    let parse = per_page(&mut |_| {
        std::hint::black_box(scraper::Html::parse_document(&texts[i % texts.len()]));
        i += 1;
    });
    let kib = pages.iter().map(Vec::len).sum::<usize>() as f64 / pages.len() as f64 / 1024.0;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "cpu per page ({kib:.0} KiB, {documents} documents): decode {:.0} µs + extract {:.0} µs = {:.0} µs; \
         the HTML parse alone {:.0} µs → ratio {:.2} to the parse floor",
        us(decode),
        us(extract),
        us(decode + extract),
        us(parse),
        us(decode + extract) / us(parse)
    );
}
