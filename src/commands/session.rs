//! `leakwatch session import`: an operator hands a site the session a
//! person made in a browser (logged in, a CAPTCHA solved, a queue waited
//! out) — a Netscape cookie file as Tor Browser's export add-ons write it,
//! or a `Cookie` header. It goes into the state store, where a running
//! `leakwatch run` picks it up within its reload poll and resumes the site
//! at once; a stopped site's next `crawl` uses it too. Values never reach
//! the terminal or a log.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use crawler::{parse_cookie_file, parse_cookie_header, Frontier, SessionCookie};

use crate::{paths, GlobalArgs};

#[derive(Debug, Subcommand)]
pub(crate) enum SessionCommand {
    /// Give a site a session made by a person (cookie file or `--cookie`).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The site's name, as in its profile (`leakwatch sites` lists them).
    site: String,
    /// A Netscape cookie file (tab-separated: domain, subdomains, path,
    /// secure, expiry, name, value).
    #[arg(required_unless_present = "cookie", conflicts_with = "cookie")]
    cookies: Option<PathBuf>,
    /// The cookies as a `Cookie` header: `name=value; other=value`.
    #[arg(long, value_name = "HEADER")]
    cookie: Option<String>,
}

pub(crate) fn run(global: &GlobalArgs, command: SessionCommand) -> anyhow::Result<ExitCode> {
    match command {
        SessionCommand::Import(args) => import(global, args),
    }
}

fn import(global: &GlobalArgs, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let cookies = read_cookies(&args)?;
    if cookies.is_empty() {
        bail!("no cookies to import: the file or header holds none");
    }
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let db = paths::existing_state_db(&data_dir, "`leakwatch crawl` or `leakwatch run`")?;
    // Beside a running crawler: it holds the frontier's lock and only reads
    // the imported sessions.
    let mut frontier = Frontier::open_for_report(&db)?;
    let sites = frontier.sites()?;
    if !sites.iter().any(|s| s == &args.site) {
        bail!(
            "{}: no site named {:?} has been crawled; the sites are: {}",
            db.display(),
            args.site,
            if sites.is_empty() {
                "none yet".to_owned()
            } else {
                sites.join(", ")
            }
        );
    }
    let now = chrono::Utc::now().timestamp_millis();
    frontier.import_session(&args.site, &cookies, now)?;
    let state = frontier.site_state(&args.site)?;
    let names: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
    println!(
        "{}: imported {} cookie{} ({}){}",
        args.site,
        cookies.len(),
        if cookies.len() == 1 { "" } else { "s" },
        names.join(", "),
        match state.pause_reason {
            Some(reason) => format!(
                "; the site was stopped ({reason}) and resumes with them: at once under a running `leakwatch run`, else at the next `crawl`"
            ),
            None => "; used from the site's next pass".to_owned(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn read_cookies(args: &ImportArgs) -> anyhow::Result<Vec<SessionCookie>> {
    if let Some(header) = &args.cookie {
        return parse_cookie_header(header).map_err(|e| anyhow::anyhow!("--cookie: {e}"));
    }
    let Some(path) = &args.cookies else {
        bail!("give a cookie file or --cookie 'name=value; …'");
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the cookie file", path.display()))?;
    Ok(parse_cookie_file(&text, path)?)
}
