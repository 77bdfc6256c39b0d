//! `leakwatch site doctor URL|PAGE.html`: for the analyst who adds a site.
//! Says which engine (and variant) the page was recognised as and why, the
//! rows found with each field, the links a crawl would follow and those it
//! would not (with the reason), and, when generic list detection found the
//! rows, a ready site profile whose `extract --profile` reproduces them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Subcommand};
use crawler::{FetchOptions, FetchedPage, Fetcher, SiteProfile};
use extract::{
    canonical_link, decode_html, extract_page_explained, unfollowed_links, EngineChoice,
    Explanation, ExtractOptions, Extracted, SiteRules,
};
use url::Url;

use crate::config::{Config, TorMode};
use crate::GlobalArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum SiteCommand {
    /// Diagnose extraction on one page of a site (a URL, fetched through
    /// Tor unless the config says otherwise, or a saved page).
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// A page URL (fetched) or a saved page (HTML file).
    page: String,
    /// The URL a saved page came from (default: its canonical link).
    #[arg(long)]
    url: Option<String>,
    /// Diagnose this site profile instead of `engine = "auto"`.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// How a URL is fetched: `embedded` (the default: the in-process Tor
    /// client), `off` (direct; refused for .onion), or the IP:port of a
    /// Tor daemon's SOCKS port.
    #[arg(long, value_name = "MODE", conflicts_with = "config")]
    tor: Option<String>,
    /// Or: the service configuration whose `tor` setting fetches a URL.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write the inferred site profile here (when generic detection found
    /// the rows).
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
    /// How many links of each kind to list (default 40).
    #[arg(long, default_value_t = 40)]
    max_links: usize,
}

pub(crate) fn run(global: &GlobalArgs, command: SiteCommand) -> anyhow::Result<ExitCode> {
    match command {
        SiteCommand::Doctor(args) => doctor(global, args),
    }
}

fn doctor(global: &GlobalArgs, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let fetched_url = Url::parse(&args.page)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let loaded = args
        .profile
        .as_deref()
        .map(|p| SiteProfile::load(p).map(SiteProfile::into_rules))
        .transpose()?;
    let (text, encoding, source_url) = match &fetched_url {
        Some(url) => {
            let page = fetch(global, &args, url)?;
            (page.decoded.text, page.decoded.encoding, Some(page.url))
        }
        None => {
            let bytes = match super::extract::read_page(std::path::Path::new(&args.page))? {
                Ok(bytes) => bytes,
                Err(not_a_page) => {
                    eprintln!("{}: not a page: {not_a_page}", args.page);
                    return Ok(ExitCode::from(1));
                }
            };
            let decoded = decode_html(&bytes, None, loaded.as_ref().and_then(|r| r.encoding));
            (decoded.text, decoded.encoding, None)
        }
    };
    let url = match (&args.url, source_url, canonical_link(&text)) {
        (Some(u), _, _) => {
            Url::parse(u).with_context(|| format!("--url {u:?} is not an absolute URL"))?
        }
        (None, Some(u), _) => u,
        (None, None, Some(c)) => c,
        (None, None, None) => anyhow::bail!(
            "{}: the page names no canonical URL; pass --url (the address it was saved from)",
            args.page
        ),
    };
    let rules = match loaded {
        Some(r) => r,
        None => super::extract::engine_profile(&url, EngineChoice::Auto)?,
    };
    let options = ExtractOptions {
        all_rows: true,
        ..ExtractOptions::default()
    };
    let (out, explain) = extract_page_explained(
        &rules,
        &url,
        &text,
        Utc::now(),
        Some(encoding.name()),
        &options,
    );
    let mut stdout = std::io::stdout().lock();
    report(&mut stdout, &args, &url, &text, &rules, &out, &explain)
        .context("writing the report")?;
    if let (Some(path), Some(profile)) = (
        &args.write,
        inferred_profile(&args.page, &rules, &url, &out, &explain),
    ) {
        std::fs::write(path, profile)
            .with_context(|| format!("{}: cannot write the profile", path.display()))?;
        writeln!(stdout, "\nprofile written to {}", path.display()).context("writing")?;
    }
    Ok(if out.documents.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn report(
    w: &mut impl Write,
    args: &DoctorArgs,
    url: &Url,
    html: &str,
    rules: &SiteRules,
    out: &Extracted,
    explain: &Explanation,
) -> std::io::Result<()> {
    writeln!(w, "page:    {} ({url})", args.page)?;
    writeln!(w, "engine:  {}", explain.rules)?;
    writeln!(w, "kind:    {}", explain.page)?;
    if let Some(zone) = &explain.zone {
        writeln!(w, "clock:   {} (dates are stored in UTC)", zone.name())?;
    }
    // Where each field came from, over all documents.
    let mut origins: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for f in &explain.fields {
        *origins
            .entry(f.field.as_str())
            .or_default()
            .entry(format!("{} {}", f.origin, f.rule))
            .or_default() += 1;
    }
    writeln!(w, "\nfields ({} documents):", out.documents.len())?;
    if origins.is_empty() {
        writeln!(w, "  (none)")?;
    }
    for (field, rules) in &origins {
        for (rule, n) in rules {
            writeln!(w, "  {field:<14} {n:>4}× {rule}")?;
        }
    }
    writeln!(w, "\nrows:")?;
    for (i, d) in out.documents.iter().enumerate() {
        writeln!(
            w,
            "  {:>3}. {}\n       {}{}{}{}{}",
            i + 1,
            short(d.title.as_deref().unwrap_or("(no title)"), 90),
            d.url,
            d.seller
                .as_deref()
                .map(|s| format!("  seller={s}"))
                .unwrap_or_default(),
            d.posted_at
                .as_deref()
                .map(|s| format!("  posted={s}"))
                .unwrap_or_default(),
            d.price
                .as_deref()
                .map(|s| format!("  price={s}"))
                .unwrap_or_default(),
            d.extra
                .get("replies")
                .map(|s| format!("  replies={s}"))
                .unwrap_or_default(),
        )?;
    }
    let followed = &out.links;
    let refused = unfollowed_links(rules, url, html, &out.links);
    writeln!(w, "\nlinks a crawl follows ({}):", followed.len())?;
    for link in followed.iter().take(args.max_links) {
        writeln!(w, "  {link}")?;
    }
    if followed.len() > args.max_links {
        writeln!(w, "  … {} more", followed.len() - args.max_links)?;
    }
    writeln!(w, "\nlinks it does not follow ({}):", refused.len())?;
    for (link, why) in refused.iter().take(args.max_links) {
        writeln!(w, "  {link}\n      {why}")?;
    }
    if refused.len() > args.max_links {
        writeln!(w, "  … {} more", refused.len() - args.max_links)?;
    }
    if let Some(profile) = inferred_profile(&args.page, rules, url, out, explain) {
        writeln!(
            w,
            "\nsite profile (generic detection found the rows; `leakwatch extract --profile FILE` reproduces them):\n"
        )?;
        write!(w, "{profile}")?;
    }
    Ok(())
}

/// A site profile that reproduces what generic detection found: the rows'
/// selector read by the generic row reader, in the clock the dates were
/// read in.
fn inferred_profile(
    page: &str,
    rules: &SiteRules,
    url: &Url,
    out: &Extracted,
    explain: &Explanation,
) -> Option<String> {
    let list = explain.generic_list.as_ref()?;
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut text = format!(
        "# Written by `leakwatch site doctor` from {page} ({url}):\n# {} rows found by generic list detection.\n",
        out.documents.len()
    );
    text.push_str(&format!("name = {}\n", quote(&rules.name)));
    text.push_str(&format!("base_url = {}\n", quote(rules.base_url.as_str())));
    text.push_str("engine = \"generic\"\n");
    if let Some(zone) = &explain.zone {
        text.push_str(&format!("time_zone = {}\n", quote(&zone.name())));
    }
    if let Some(encoding) = rules.encoding {
        text.push_str(&format!("encoding = {}\n", quote(encoding.name())));
    }
    text.push_str("\n[list]\n");
    for c in &list.columns {
        text.push_str(&format!("# {}: {}\n", c.field.name(), c.how));
    }
    text.push_str(&format!("row = {}\n", quote(&list.selector)));
    Some(text)
}

/// Fetches `url` through the configured transport.
fn fetch(global: &GlobalArgs, args: &DoctorArgs, url: &Url) -> anyhow::Result<FetchedPage> {
    let (mode, data_dir) = match &args.config {
        None if args.tor.is_some() => {
            let mode = match args.tor.as_deref().unwrap_or("embedded") {
                "embedded" => TorMode::embedded(),
                "off" => TorMode::Off,
                addr => TorMode::Socks(addr.parse().with_context(|| {
                    format!("--tor {addr:?}: use embedded, off, or the IP:port of a Tor SOCKS port")
                })?),
            };
            (mode, crate::paths::data_dir(global.data_dir.as_deref())?)
        }
        Some(path) => {
            let config = Config::load(path)?;
            let data_dir = match (&global.data_dir, &config.data_dir) {
                (Some(d), _) | (None, Some(d)) => d.clone(),
                (None, None) => crate::paths::data_dir(None)?,
            };
            (config.tor, data_dir)
        }
        None => (
            TorMode::embedded(),
            crate::paths::data_dir(global.data_dir.as_deref())?,
        ),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let tor = crate::tor::connect(&mode, &data_dir, true).await?;
        let fetcher = Arc::new(Fetcher::new(
            tor.transport.clone(),
            FetchOptions::default(),
        )?);
        let root = url.join("/").unwrap_or_else(|_| url.clone());
        let name = url
            .host_str()
            .map_or("page", |h| h.split('.').next().unwrap_or(h))
            .to_owned();
        let profile =
            SiteProfile::with_rules(SiteRules::for_engine(&name, &root, EngineChoice::Auto)?);
        let page = fetcher
            .fetch(&profile, url)
            .await
            .with_context(|| format!("{url}: cannot fetch the page"))?;
        Ok(page)
    })
}

fn short(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}
