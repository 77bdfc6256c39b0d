//! The cost entity extraction adds to a crawled page: decode + extract of
//! every demo-market page (each encoded to its site's charset, extracted
//! with its site profile) and of every real fixture page
//! (`../shared/fixtures/real/**`, engine `auto`), timed without and with
//! `extract_entities` over each document's title and body, interleaved in
//! the same run; printed as the ratio (target under 1.10). The demo's
//! planted entities must all be found, so a broken extractor cannot pass
//! for a fast one. LEAKWATCH_BENCH_ROUNDS sets the rounds (default 15).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use extract::{decode_html, extract_page, EngineChoice, SiteRules, RULE_KEYS};
use url::Url;

/// One page as a crawler receives it.
struct Page {
    bytes: Vec<u8>,
    content_type: Option<String>,
    url: Url,
    rules: usize,
}

fn demo_pages(root: &Path, rules: &mut Vec<SiteRules>) -> Vec<Page> {
    let demo = root.join("examples/demo-market");
    let routes: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(demo.join("routes.json")).expect("routes.json"),
    )
    .expect("routes.json is JSON");
    let mut sites = Vec::new();
    for (prefix, profile) in [
        ("/market/", "demo-market.toml"),
        ("/jp/", "demo-jp.toml"),
        ("/forum/", "demo-forum.toml"),
    ] {
        let path = root.join("examples/sites").join(profile);
        let text = std::fs::read_to_string(&path).expect("demo profile");
        // The crawler's half of the profile is not extraction's business.
        let table: toml::Table = toml::from_str(&text).expect("profile TOML");
        let others: Vec<&str> = table
            .keys()
            .map(String::as_str)
            .filter(|k| !RULE_KEYS.contains(k))
            .collect();
        rules.push(SiteRules::parse_with(&text, &path, &others).expect("demo profile loads"));
        sites.push((prefix, rules.len() - 1));
    }
    let mut pages = Vec::new();
    for route in routes["routes"].as_array().expect("routes") {
        let path = route["path"].as_str().expect("path");
        let charset = route["charset"].as_str().expect("charset");
        let Some(&(_, rules)) = sites.iter().find(|(p, _)| path.starts_with(p)) else {
            continue;
        };
        let text = std::fs::read_to_string(
            demo.join("site")
                .join(route["file"].as_str().expect("file")),
        )
        .expect("demo page");
        let encoding = encoding_rs::Encoding::for_label(charset.as_bytes()).expect("known charset");
        pages.push(Page {
            bytes: encoding.encode(&text).0.into_owned(),
            content_type: Some(format!("text/html; charset={charset}")),
            url: Url::parse(&format!("http://demo.invalid{path}")).expect("url"),
            rules,
        });
    }
    pages
}

fn real_pages(dir: &Path, rules: &mut Vec<SiteRules>) -> Vec<Page> {
    let base = Url::parse("http://real.invalid/").expect("url");
    rules.push(SiteRules::for_engine("real", &base, EngineChoice::Auto).expect("auto rules"));
    let index = rules.len() - 1;
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "html" || e == "htm") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some(Page {
                bytes,
                content_type: None,
                url: base.join(&name).ok()?,
                rules: index,
            })
        })
        .collect()
}

/// Decode + extract every page (and find entities, if `entities`): the
/// time, and (documents, entities).
fn pass(pages: &[Page], rules: &[SiteRules], entities: bool) -> (Duration, usize, usize) {
    let started = Instant::now();
    let (mut documents, mut found) = (0, 0);
    let now = chrono::Utc::now();
    for page in pages {
        let decoded = decode_html(&page.bytes, page.content_type.as_deref(), None);
        let out = extract_page(&rules[page.rules], &page.url, &decoded.text, now, None);
        documents += out.documents.len();
        if entities {
            for d in &out.documents {
                let text = format!(
                    "{}\n{}",
                    d.title.as_deref().unwrap_or(""),
                    d.body.as_deref().unwrap_or("")
                );
                found += black_box(entities::extract_entities(&text)).len();
            }
        }
        black_box(out);
    }
    (started.elapsed(), documents, found)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(name: &str, pages: &[Page], rules: &[SiteRules], rounds: usize) -> usize {
    pass(pages, rules, true); // warm-up (fold tables, automata)
    let (mut without, mut with) = (Vec::new(), Vec::new());
    let mut found = 0;
    for _ in 0..rounds {
        without.push(pass(pages, rules, false).0);
        let (t, _, f) = pass(pages, rules, true);
        with.push(t);
        found = f;
    }
    let (without, with) = (median(without), median(with));
    // Entity extraction alone over the same documents' texts: its cost
    // without the noise of the two whole passes.
    let now = chrono::Utc::now();
    let texts: Vec<String> = pages
        .iter()
        .flat_map(|page| {
            let decoded = decode_html(&page.bytes, page.content_type.as_deref(), None);
            extract_page(&rules[page.rules], &page.url, &decoded.text, now, None).documents
        })
        .map(|d| {
            format!(
                "{}\n{}",
                d.title.unwrap_or_default(),
                d.body.unwrap_or_default()
            )
        })
        .collect();
    let alone = median(
        (0..rounds * 5)
            .map(|_| {
                let started = Instant::now();
                for t in &texts {
                    black_box(entities::extract_entities(t));
                }
                started.elapsed()
            })
            .collect(),
    );
    let per_page = |d: Duration| d.as_secs_f64() * 1e6 / pages.len() as f64;
    let ratio = with.as_secs_f64() / without.as_secs_f64();
    println!(
        "{name}: {} pages, {found} entities; decode+extract {:.0} µs/page, with entities {:.0} µs/page \
         → ratio {ratio:.3} (target < 1.10: {}); entity extraction alone {:.1} µs/page = {:.4} of decode+extract",
        pages.len(),
        per_page(without),
        per_page(with),
        if ratio < 1.10 { "met" } else { "NOT met" },
        per_page(alone),
        alone.as_secs_f64() / without.as_secs_f64(),
    );
    found
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let rounds = std::env::var("LEAKWATCH_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let mut rules = Vec::new();
    let demo = demo_pages(&root, &mut rules);
    let found = measure("demo market", &demo, &rules, rounds);
    // Every planted entity of the demo's topic pages is found (see
    // examples/demo-market/README.md: 13 planted, and the sample address of
    // listing 10002).
    assert_eq!(found, 14, "entities found on the demo pages");
    let real_dir = root.join("../shared/fixtures/real");
    let real = real_pages(&real_dir, &mut rules);
    if real.is_empty() {
        println!("real pages: skipped ({} is missing)", real_dir.display());
    } else {
        measure("real fixture pages", &real, &rules, rounds);
    }
}
