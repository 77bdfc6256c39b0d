//! `leakwatch extract`: run a site profile, an engine preset or generic
//! extraction on a saved page and print the documents (JSON lines); with
//! `--explain`, say which rule produced each field, for people writing
//! profiles. Reads one file; never fetches.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use crawler::{looks_binary, FetchOptions, SiteProfile};
use extract::{
    canonical_link, decode_html, extract_page_explained, EngineChoice, ExtractOptions, SiteRules,
};
use url::Url;

#[derive(Debug, Args)]
pub(crate) struct ExtractArgs {
    /// The site profile (TOML) to extract with.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// An engine preset (phpbb, anwang, mybb, xenforo, discuz, smf,
    /// vbulletin, invision, telegram, paste), `auto` (recognise it on the
    /// page; generic extraction when none fits) or `generic`. Default: the
    /// profile's choice, or `auto` without a profile.
    #[arg(long, value_name = "NAME")]
    engine: Option<String>,
    /// The saved page.
    page: PathBuf,
    /// The URL the page was fetched from (decides whether it is a topic
    /// page, and the document ids). Default: the page's canonical link, else
    /// the profile's base URL + the file name, else a file: URL.
    #[arg(long)]
    url: Option<String>,
    /// When the page was fetched (RFC 3339): the anchor of relative dates
    /// such as `4 minutes ago`. Default: the file's modification time.
    #[arg(long, value_name = "TIME")]
    fetched_at: Option<String>,
    /// Print documents as JSON lines (the default); kept for the CLI contract.
    #[arg(long)]
    json: bool,
    /// Explain on stderr which rule produced each field.
    #[arg(long)]
    explain: bool,
    /// Show only what a crawl emits: leave out list rows whose topic page the
    /// crawl visits anyway (by default every row is printed).
    #[arg(long)]
    crawl_view: bool,
    /// Also print the links the crawler would follow (to stderr).
    #[arg(long)]
    links: bool,
}

pub(crate) fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let _ = args.json;
    let bytes = match read_page(&args.page)? {
        Ok(bytes) => bytes,
        Err(not_a_page) => {
            eprintln!("{}: not a page: {not_a_page}", args.page.display());
            return Ok(ExitCode::from(1));
        }
    };
    let engine = args
        .engine
        .as_deref()
        .map(|name| {
            EngineChoice::parse(name).with_context(|| {
                format!(
                    "--engine {name:?}: unknown engine; use one of {}",
                    EngineChoice::known_names()
                )
            })
        })
        .transpose()?;
    let loaded = match &args.profile {
        // A profile file holds crawl settings too; extraction reads its rules.
        Some(path) => Some(SiteProfile::load(path)?.into_rules()),
        None => None,
    };
    let decoded = decode_html(&bytes, None, loaded.as_ref().and_then(|p| p.encoding));
    let canonical = canonical_link(&decoded.text);
    let (url, url_is_guess) = match (&args.url, &canonical, &loaded) {
        (Some(u), _, _) => (
            Url::parse(u).with_context(|| format!("--url {u:?} is not an absolute URL"))?,
            false,
        ),
        (None, Some(c), _) => (c.clone(), false),
        (None, None, Some(profile)) => {
            let name = args
                .page
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let url = profile
                .base_url
                .join(name)
                .with_context(|| format!("cannot make a URL from {name:?}; pass --url"))?;
            (url, true)
        }
        (None, None, None) => (file_url(&args.page)?, true),
    };
    let profile = match loaded {
        Some(p) => p,
        None => engine_profile(&url, engine.unwrap_or(EngineChoice::Auto))?,
    };
    let fetched_at = fetched_at(&args)?;
    let options = ExtractOptions {
        all_rows: !args.crawl_view,
        url_is_guess,
        engine,
    };
    let (out, explanation) = extract_page_explained(
        &profile,
        &url,
        &decoded.text,
        fetched_at,
        Some(decoded.encoding.name()),
        &options,
    );
    let mut stdout = std::io::stdout().lock();
    for doc in &out.documents {
        serde_json::to_writer(&mut stdout, doc).context("writing documents")?;
        writeln!(stdout).context("writing documents")?;
    }
    stdout.flush().context("writing documents")?;
    if args.explain {
        eprintln!(
            "page:   {} ({})",
            args.page.display(),
            decoded.encoding.name()
        );
        eprintln!(
            "url:    {url}{}",
            if url_is_guess {
                " (a guess; pass --url)"
            } else {
                ""
            }
        );
        eprintln!("rules:  {}", explanation.rules);
        eprintln!("kind:   {}", explanation.page);
        for (i, doc) in out.documents.iter().enumerate() {
            eprintln!("document {} ({}):", i + 1, doc.id);
            for f in explanation.fields.iter().filter(|f| f.document == i) {
                let mut line = format!("  {:<15} ← {} {}", f.field, f.origin, f.rule);
                if !f.raw.is_empty() && f.raw != f.value {
                    line.push_str(&format!(
                        "\n  {:<15}   read {:?} → {:?}",
                        "",
                        short(&f.raw),
                        short(&f.value)
                    ));
                } else {
                    line.push_str(&format!("\n  {:<15}   = {:?}", "", short(&f.value)));
                }
                if f.field == "price" || f.field.starts_with("price_") {
                    // The indexer's parser: the one reading of prices.
                    if let Some(p) = indexer::Price::parse(&f.value, profile.lang.as_deref()) {
                        let currency = p.currency.map_or("unknown currency", |c| c.code());
                        line.push_str(&format!(" (amount {}, {currency})", p.amount));
                    }
                }
                eprintln!("{line}");
            }
        }
    }
    if args.links {
        for link in &out.links {
            eprintln!("link: {link}");
        }
    }
    if out.documents.is_empty() {
        eprintln!(
            "{}: no document ({}; {} links){}",
            args.page.display(),
            explanation.page,
            out.links.len(),
            if args.explain {
                ""
            } else {
                "; --explain says why"
            }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a saved page, or says why the file is not one, as the crawler would
/// refuse it: empty, larger than the crawler's body cap, or binary.
pub(crate) fn read_page(path: &Path) -> anyhow::Result<Result<Vec<u8>, String>> {
    let cannot = || format!("{}: cannot read the page", path.display());
    let limit = FetchOptions::default().max_body_bytes;
    let size = std::fs::metadata(path).with_context(cannot)?.len();
    if size > limit {
        return Ok(Err(format!(
            "the file is too large ({size} bytes; the crawler stops at {limit})"
        )));
    }
    let bytes = std::fs::read(path).with_context(cannot)?;
    if bytes.is_empty() {
        return Ok(Err("the file is empty".to_owned()));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Err("the file holds only whitespace".to_owned()));
    }
    if looks_binary(&bytes) {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Ok(Err(format!(
            "the file looks binary (starts {}), not HTML or text",
            head.join(" ")
        )));
    }
    Ok(Ok(bytes))
}

/// A profile from nothing but the page's URL and an engine. A URL the crawler
/// would refuse as a site root (a retired v2 onion of a saved page) keeps the
/// page's path under a placeholder root: only ids and link scope use it.
pub(crate) fn engine_profile(url: &Url, engine: EngineChoice) -> anyhow::Result<SiteRules> {
    let name = url
        .host_str()
        .map_or("page", |h| h.split('.').next().unwrap_or(h))
        .to_owned();
    let root = url.join("/").unwrap_or_else(|_| url.clone());
    match SiteRules::for_engine(&name, &root, engine) {
        Ok(p) => Ok(p),
        Err(_) => {
            let placeholder =
                Url::parse("http://saved-page.invalid/").context("placeholder URL")?;
            SiteRules::for_engine(&name, &placeholder, engine)
                .context("building a profile for --engine")
        }
    }
}

fn fetched_at(args: &ExtractArgs) -> anyhow::Result<DateTime<Utc>> {
    if let Some(t) = &args.fetched_at {
        return DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .with_context(|| {
                format!("--fetched-at {t:?} is not an RFC 3339 time (e.g. 2018-10-31T02:47:00Z)")
            });
    }
    let modified = std::fs::metadata(&args.page)
        .and_then(|m| m.modified())
        .ok();
    Ok(modified.map_or_else(Utc::now, DateTime::<Utc>::from))
}

fn file_url(path: &Path) -> anyhow::Result<Url> {
    let abs = std::path::absolute(path)
        .with_context(|| format!("{}: cannot resolve the path", path.display()))?;
    Url::from_file_path(&abs)
        .map_err(|()| anyhow::anyhow!("{}: cannot make a file: URL; pass --url", abs.display()))
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(100).collect();
    if text.chars().count() > 100 {
        out.push('…');
    }
    out.replace('\n', "⏎")
}
