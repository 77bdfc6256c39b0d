//! `leakwatch extract`: run a site profile on a saved page and print the
//! documents (JSON lines), for people writing profiles.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use crawler::{decode_html, extract_page, SiteProfile};
use url::Url;

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The site profile (TOML) to extract with.
    #[arg(long, value_name = "FILE")]
    profile: PathBuf,
    /// The saved page.
    page: PathBuf,
    /// The URL the page was fetched from (decides whether it is a topic
    /// page); default: the profile's base URL + the file name.
    #[arg(long)]
    url: Option<String>,
    /// Print documents as JSON lines (the default); kept for the CLI contract.
    #[arg(long)]
    json: bool,
    /// Also print the links the crawler would follow (to stderr).
    #[arg(long)]
    links: bool,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let profile = SiteProfile::load(&args.profile)?;
    let bytes = std::fs::read(&args.page)
        .with_context(|| format!("{}: cannot read the page", args.page.display()))?;
    let url = match &args.url {
        Some(u) => Url::parse(u).with_context(|| format!("--url {u:?} is not an absolute URL"))?,
        None => {
            let name = args
                .page
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            profile
                .base_url
                .join(name)
                .with_context(|| format!("cannot make a URL from {name:?}; pass --url"))?
        }
    };
    let decoded = decode_html(&bytes, None, profile.encoding);
    let out = extract_page(
        &profile,
        &url,
        &decoded.text,
        chrono::Utc::now(),
        Some(decoded.encoding.name()),
    );
    let mut stdout = std::io::stdout().lock();
    for doc in &out.documents {
        serde_json::to_writer(&mut stdout, doc).context("writing documents")?;
        writeln!(stdout).context("writing documents")?;
    }
    if args.links {
        for link in &out.links {
            eprintln!("link: {link}");
        }
    }
    if out.documents.is_empty() {
        eprintln!(
            "{}: no document (URL {url} {} the profile's topic pattern; {} links)",
            args.page.display(),
            if profile.topic.url.is_match(url.as_str()) {
                "matches"
            } else {
                "does not match"
            },
            out.links.len()
        );
        let _ = args.json;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
