//! Extraction speed on a 100 KB topic page, printed next to the time
//! `scraper` alone takes to parse it (the baseline in the same run) and the
//! ratio. The bar: ≤ 2 ms median and ≤ 2× the parse, in an optimised
//! build. Run: `cargo test -p crawler --test extract_speed -- --ignored --nocapture`
//! (add `--release` for the bar; a debug build only checks a loose ratio).
//! What the benchmark extracts is checked first, and by `cargo test` too.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use extract::{extract_page, EngineChoice, SiteRules};
use scraper::Html;
use url::Url;

/// The phpBB fixture grown to `bytes` by repeating its reply post.
fn page_of(bytes: usize) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/phpbb/viewtopic.html");
    let html = std::fs::read_to_string(file).expect("fixture");
    let start = html.find("<div id=\"p9912\"").expect("a reply post");
    let end = html[start..]
        .find("<div id=\"page-footer\"")
        .map(|i| start + i)
        .expect("the footer");
    let reply = &html[start..end];
    let mut out = html[..end].to_owned();
    let mut n = 0;
    while out.len() + (html.len() - end) < bytes {
        n += 1;
        out.push_str(&reply.replace("p9912", &format!("p{}", 20_000 + n)));
    }
    out.push_str(&html[end..]);
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    f();
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

/// The 100 KB page, the phpBB preset and `auto` for it, and the topic URL.
fn setup() -> (String, SiteRules, SiteRules, Url) {
    let html = page_of(100 * 1024);
    let url = Url::parse("http://forum.example/board/viewtopic.php?f=7&t=4821").expect("valid URL");
    let root = url.join("/").expect("root");
    let fixed = SiteRules::for_engine("b", &root, EngineChoice::parse("phpbb").expect("known"))
        .expect("profile");
    let auto = SiteRules::for_engine("b", &root, EngineChoice::Auto).expect("profile");
    (html, fixed, auto, url)
}

/// What is timed must be right: the grown page still yields its one listing
/// (the first post), the same with the preset and with `auto`.
fn check_extraction(fixed: &SiteRules, auto: &SiteRules, url: &Url, html: &str) {
    let now = Utc::now();
    assert!(html.len() >= 100 * 1024, "page of {} bytes", html.len());
    let preset_docs = extract_page(fixed, url, html, now, None).documents;
    assert_eq!(preset_docs.len(), 1, "{preset_docs:#?}");
    let doc = &preset_docs[0];
    assert_eq!(doc.id, "b:4821");
    assert_eq!(
        doc.title.as_deref(),
        Some("[WTS] Corporate VPN access - Japanese manufacturer")
    );
    assert_eq!(doc.seller.as_deref(), Some("kuro_broker"));
    assert!(
        doc.body
            .as_deref()
            .is_some_and(|b| b.starts_with("Selling GlobalProtect VPN access")),
        "{:?}",
        doc.body
    );
    assert_eq!(
        extract_page(auto, url, html, now, None).documents,
        preset_docs
    );
}

#[test]
fn the_timed_page_yields_its_listing() {
    let (html, fixed, auto, url) = setup();
    check_extraction(&fixed, &auto, &url, &html);
}

// Not run by `cargo test`: it is a benchmark (it times a release build and
// its 2 ms bar depends on the machine), run by hand as the module doc says.
#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn extraction_of_a_100_kb_page() {
    let (html, fixed, auto, url) = setup();
    let now = Utc::now();
    check_extraction(&fixed, &auto, &url, &html);
    let runs = 41;
    let parse = time(runs, || {
        std::hint::black_box(Html::parse_document(&html));
    });
    let with_preset = time(runs, || {
        std::hint::black_box(extract_page(&fixed, &url, &html, now, None));
    });
    let with_auto = time(runs, || {
        std::hint::black_box(extract_page(&auto, &url, &html, now, None));
    });
    let parsed = Html::parse_document(&html);
    let detect = time(runs, || {
        std::hint::black_box(extract::detect(&parsed, &html));
    });
    println!(
        "detect alone          {:>8.3} ms",
        detect.as_secs_f64() * 1e3
    );
    let ratio = |d: Duration| d.as_secs_f64() / parse.as_secs_f64();
    println!("page: {} KB", html.len() / 1024);
    println!(
        "scraper parse alone   {:>8.3} ms",
        parse.as_secs_f64() * 1e3
    );
    println!(
        "extract, preset phpbb {:>8.3} ms  ({:.2}× the parse)",
        with_preset.as_secs_f64() * 1e3,
        ratio(with_preset)
    );
    println!(
        "extract, auto         {:>8.3} ms  ({:.2}× the parse)",
        with_auto.as_secs_f64() * 1e3,
        ratio(with_auto)
    );
    let optimised = !cfg!(debug_assertions);
    if optimised {
        assert!(
            ratio(with_preset) <= 2.0,
            "preset extraction is {:.2}× the parse",
            ratio(with_preset)
        );
        assert!(
            ratio(with_auto) <= 2.0,
            "auto extraction is {:.2}× the parse",
            ratio(with_auto)
        );
        assert!(
            with_preset <= Duration::from_millis(2),
            "preset extraction takes {with_preset:?}"
        );
    } else {
        assert!(
            ratio(with_auto) <= 4.0,
            "auto extraction is {:.2}× the parse even for a debug build",
            ratio(with_auto)
        );
    }
}
