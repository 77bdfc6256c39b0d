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
//! 4. Latency (Tor-like): N sites (100, then 500), each a loopback server
//!    that answers after a random 1–5 s and allows a few requests a minute,
//!    crawled with the default crawl options (as the service runs them).
//!    Requests per second over the summed budget (bar ≥ 0.9), sites over
//!    budget in some window by the servers' clocks (bar 0), peak RSS per site
//!    (bar: 500 sites under 300 MB in all). Each N runs in its own process,
//!    so its peak RSS is its own.
//!
//! Env: `BENCH_HOSTS` (50), `BENCH_RATE` (req/s per host, 5: a brisk dark-web forum budget),
//! `BENCH_SECONDS` (30), `BENCH_FRONTIER_URLS` (1000000); `BENCH_GAPS=1` lists
//! each host's requests that came closer than 0.8 of the interval.
//! Latency mode: `BENCH_LATENCY_SITES` ("100,500"; "" skips it),
//! `BENCH_LATENCY_SECONDS` (90: how long each site's budget keeps it busy),
//! `BENCH_LATENCY_RPM` (6 requests a minute a site), `BENCH_LATENCY_MS`
//! ("1000-5000": the servers' answer delay). `BENCH_ONLY=latency` runs the
//! latency mode alone.

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
    if let Some(sites) = std::env::var_os(LATENCY_CHILD) {
        let sites = sites.to_string_lossy().parse().expect("a number of sites");
        runtime.block_on(latency(sites));
        return;
    }
    if std::env::var("BENCH_ONLY").as_deref() != Ok("latency") {
        frontier_scale(env("BENCH_FRONTIER_URLS", 1_000_000));
        runtime.block_on(utilisation(
            env("BENCH_HOSTS", 50) as u8,
            env("BENCH_RATE", 5) as u32,
            env("BENCH_SECONDS", 30),
        ));
        cpu_per_page();
    }
    let sizes = std::env::var("BENCH_LATENCY_SITES").unwrap_or_else(|_| "100,500".into());
    for sites in sizes
        .split(',')
        .filter_map(|n| n.trim().parse::<usize>().ok())
    {
        // A process of its own: the peak RSS it reports is this run's alone.
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .env(LATENCY_CHILD, sites.to_string())
            .status()
            .expect("run the latency mode");
        assert!(status.success(), "latency mode with {sites} sites failed");
    }
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
    let cpu_before = process_cpu();
    let started = Instant::now();
    let (_, documents) = crawl_acknowledging(&crawler, sites, None).await;
    let elapsed = started.elapsed();
    let cpu = process_cpu() - cpu_before;
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

/// Set in the child process that runs the latency mode for this many sites.
const LATENCY_CHILD: &str = "BENCH_LATENCY_CHILD";

/// Tor-like latency over many slow, strictly limited sites: whether the
/// crawler keeps enough requests in flight to spend every site's budget,
/// without passing any, and what that costs in memory per site.
async fn latency(n_sites: usize) {
    let seconds = env("BENCH_LATENCY_SECONDS", 90);
    let per_minute = env("BENCH_LATENCY_RPM", 6) as u32;
    let (lo, hi) = std::env::var("BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| {
            let (a, b) = v.split_once('-')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .unwrap_or((1000u64, 5000u64));
    // Enough pages that no site runs dry: one request a page, the budget's
    // worth for `seconds`.
    let per_page = 20u32;
    let max_pages = 1 + (u64::from(per_minute) * seconds).div_ceil(60);
    let list_pages = (max_pages / u64::from(per_page + 1) + 2) as u32;
    let mut servers = Vec::new();
    let mut sites = Vec::new();
    for i in 0..n_sites {
        // 127.0.1.1 … : one loopback address a site, as onions are one host each.
        let ip = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            1 + (i / 250) as u8,
            1 + (i % 250) as u8,
        ));
        let server = TestServer::start_on(ip, move |req| {
            match board_page(&req.path, list_pages, per_page) {
                Some(html) => Reply::html(html)
                    .delayed(Duration::from_millis(lo + fastrand::u64(0..=hi - lo))),
                None => Reply::status(404),
            }
        })
        .await;
        // The profile's own defaults (concurrency 2, burst 1) but for the
        // rate and the page count.
        let extra = format!(
            "max_depth = 100000\nmax_pages = {max_pages}\n[rate_limit]\nrequests_per_minute = {per_minute}"
        );
        sites.push(board_profile(&format!("site{i}"), &server.url("/"), &extra));
        servers.push(server);
    }
    let rss_servers = rss_kib("VmRSS:");
    let dir = tempfile::tempdir().expect("tempdir");
    let fetcher = Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher");
    let crawler = Crawler::new(
        Arc::new(fetcher),
        Frontier::open(&dir.path().join("state.db")).expect("frontier"),
        CrawlOptions::default(),
    );
    let started = Instant::now();
    // A crawler that cannot keep up is stopped at twice the planned time.
    let deadline = Duration::from_secs(seconds * 2 + 30);
    let (finished, documents) = crawl_acknowledging(&crawler, sites, Some(deadline)).await;
    let elapsed = started.elapsed();
    let hwm = rss_kib("VmHWM:");

    let burst = 1.0;
    let rate = f64::from(per_minute) / 60.0;
    let mut requests = 0usize;
    let mut over_budget = 0usize;
    let mut last_arrival = started;
    let mut site_utilisation = Vec::new();
    let mut most_at_once = 0usize;
    for server in &servers {
        let times: Vec<Instant> = server.hits().iter().map(|h| h.at).collect();
        requests += times.len();
        over_budget +=
            usize::from(rate_violations(&times, per_minute, 1, Duration::from_millis(2)) > 0);
        most_at_once = most_at_once.max(server.max_concurrent());
        if let Some(last) = times.last() {
            last_arrival = last_arrival.max(*last);
            let span = last.saturating_duration_since(started).as_secs_f64();
            site_utilisation.push(times.len() as f64 / (burst + span * rate));
        }
    }
    // The sites' summed budget from the start of the pass to the last
    // request any server saw (the last answers' latency is not counted
    // against the crawler).
    let window = last_arrival
        .saturating_duration_since(started)
        .as_secs_f64();
    let budget = n_sites as f64 * (burst + window * rate);
    let ratio = requests as f64 / budget;
    let mean_site = site_utilisation.iter().sum::<f64>() / site_utilisation.len().max(1) as f64;
    let worst_site = site_utilisation
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hwm_mb = hwm as f64 / 1024.0;
    let bar_mb = 300.0 * n_sites as f64 / 500.0;
    println!(
        "latency {n_sites} sites: {requests} requests, {documents} documents in {:.1} s{}; each site {per_minute}/min, answers after {lo}–{hi} ms",
        elapsed.as_secs_f64(),
        if finished { "" } else { " (stopped: the pass had not finished)" }
    );
    println!(
        "latency {n_sites} sites: {:.2} req/s over the {:.2} req/s the summed budget allowed in {window:.1} s ({per_minute}/min a site, and its burst of 1 at the start) = {ratio:.3} (bar ≥ 0.9: {}); per site mean {mean_site:.3}, worst {worst_site:.3}",
        requests as f64 / window,
        budget / window,
        if ratio >= 0.9 { "pass" } else { "FAIL" }
    );
    println!(
        "latency {n_sites} sites: sites over budget in some window by the servers' clocks {over_budget}/{n_sites} = {:.3} (bar 0: {}); most requests at once at one site {most_at_once}",
        over_budget as f64 / n_sites as f64,
        if over_budget == 0 { "pass" } else { "FAIL" }
    );
    println!(
        "latency {n_sites} sites: peak RSS {hwm_mb:.0} MB ({:.0} MB of it the servers' before the pass) = {:.2} MB per site; {:.2} of the 300 MB-for-500-sites bar ({})",
        rss_servers as f64 / 1024.0,
        hwm_mb / n_sites as f64,
        hwm_mb / bar_mb,
        if hwm_mb <= bar_mb { "pass" } else { "FAIL" }
    );
}

/// Runs one pass over `sites` with a consumer that acknowledges in
/// batches; returns the reports and the number of documents.
/// A pass still running at `deadline` is stopped there (`false`).
async fn crawl_acknowledging(
    crawler: &Crawler,
    sites: Vec<SiteProfile>,
    deadline: Option<Duration>,
) -> (bool, usize) {
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
    let crawl = crawler.crawl_once(sites, tx, |_| {});
    let finished = match deadline {
        Some(d) => match tokio::time::timeout(d, crawl).await {
            Ok(reports) => reports.map(|_| true).expect("crawl"),
            Err(_) => false,
        },
        None => crawl.await.map(|_| true).expect("crawl"),
    };
    (finished, consumer.await.expect("consumer"))
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
        .rules()
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
            profile.rules(),
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
