//! `leakwatch demo`: the whole product offline — serve the bundled demo
//! market (forums, Telegram channels, a paste site) on loopback, crawl it,
//! index, match the example watchlists, print the alerts and searches to try.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use crawler::{SiteProfile, Transport};
use url::Url;
use watchlists::{Matcher, WatchlistSet};

use crate::commands::use_colour;
use crate::crawl_pass::{self, print_summary};
use crate::demo_market::{DemoMarket, PROFILES, WATCHLISTS};
use crate::format::format_alert;
use crate::pipeline::Pipeline;
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Only serve the demo market (prints its URL) until interrupted.
    #[arg(long)]
    serve: bool,
    /// After the demo, serve the analyst console on its data (a demo
    /// operator token is made and printed) until interrupted.
    #[arg(long)]
    serve_ui: bool,
    /// Where `--serve-ui` listens.
    #[arg(long, default_value = crate::commands::serve::DEFAULT_LISTEN)]
    listen: std::net::SocketAddr,
}

pub(crate) fn run(global: &GlobalArgs, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    if args.serve {
        return runtime.block_on(async {
            let market = DemoMarket::start().await?;
            let url = market.url();
            let banner = format!(
                "demo market at {url}\n  {url}market/index.php (GBK)\n  {url}jp/board.cgi?page=1 (Shift_JIS)\n  {url}forum/index.php (UTF-8)\n  {url}s/riben_zhanghu and {url}s/kouza_ichiba (Telegram channel previews)\n  {url}paste/archive (paste site)\n"
            );
            // One write, errors ignored: whoever started us may stop reading
            // after the first line, and serving must go on.
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = out.write_all(banner.as_bytes()).and_then(|_| out.flush());
            tokio::signal::ctrl_c()
                .await
                .context("cannot wait for Ctrl-C")?;
            Ok(ExitCode::SUCCESS)
        });
    }
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let watchlist_dir = data_dir.join("demo").join("watchlists");
    write_demo_watchlists(&watchlist_dir)?;
    let set = WatchlistSet::load(&watchlist_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let frontier = crawler::Frontier::open(&paths::state_db(&data_dir))?;
    let mut pipeline = Pipeline::open(&data_dir, Matcher::new(&set))?;
    let outcome = runtime.block_on(async {
        let market = DemoMarket::start().await?;
        let root = Url::parse(&market.url()).context("demo market URL")?;
        let mut sites = Vec::new();
        for (file, text) in PROFILES {
            let mut profile = SiteProfile::parse(text, Path::new(file))?;
            let rebased = root
                .join(profile.rules().base_url.path())
                .context("rebasing a demo profile")?;
            profile.rebase(&rebased);
            sites.push(profile);
        }
        println!(
            "Demo market serving on {} — crawling {} sites…",
            market.url(),
            sites.len()
        );
        crawl_pass::run(
            sites,
            crawl_pass::PassSettings {
                transport: Transport::Direct,
                fetch: crawler::FetchOptions::default(),
                crawl: crawler::CrawlOptions::default(),
            },
            frontier,
            &data_dir,
            true,
            &mut pipeline,
        )
        .await
    })?;
    let colour = use_colour();
    let mut alerts: Vec<_> = outcome.alerts.iter().collect();
    alerts.sort_by(|a, b| {
        b.alert
            .severity
            .cmp(&a.alert.severity)
            .then(a.alert.doc_id.cmp(&b.alert.doc_id))
    });
    println!();
    for raised in &alerts {
        println!(
            "{}\n",
            format_alert(&raised.alert, Some(raised.recorded.id()), colour)
        );
    }
    print_summary(&outcome, pipeline.documents);
    let dd = match &global.data_dir {
        Some(d) => format!(" --data-dir {}", shell_quote(&d.display().to_string())),
        None => String::new(),
    };
    println!("\nData folder: {}", data_dir.display());
    println!("Try:");
    println!("  leakwatch{dd} search 三菱日联");
    println!("  leakwatch{dd} search ゆうちょ --site demo-jp");
    println!("  leakwatch{dd} search '总务省 OR 外務省' --json");
    println!("  leakwatch{dd} alerts --customer mufg-group");
    println!("  leakwatch{dd} pivot @wasabi_mail");
    println!("  leakwatch{dd} actor 银狐");
    if args.serve_ui {
        return serve_console(&runtime, &data_dir, args.listen);
    }
    println!("The analyst console on this data (alert queue, triage, search):");
    println!("  leakwatch{dd} demo --serve-ui");
    Ok(ExitCode::SUCCESS)
}

/// Serves the console on the demo's data with a fresh operator token.
fn serve_console(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
    listen: std::net::SocketAddr,
) -> anyhow::Result<ExitCode> {
    use crate::access::{Role, Scope};
    let store = crate::alert_store::AlertStore::open(&paths::state_db(data_dir))?;
    let name = format!("demo-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    let token = store.create_token(&name, &Scope::Operator, Role::Analyst, None)?;
    let state = crate::console::ConsoleState::new(crate::console::ConsoleConfig {
        store,
        index_dir: paths::index_dir(data_dir),
        watchlists: Some(data_dir.join("demo").join("watchlists")),
        secure_cookies: false,
    });
    runtime.block_on(super::serve::serve_until_interrupted(listen, state, |bound| {
        println!("\nAnalyst console: http://{bound}/  (Ctrl-C stops it)");
        println!("Log in with this demo operator token (shown once; `leakwatch token revoke {name}` ends it):");
        println!("  {token}");
        println!("A customer's view: leakwatch token create --name bank --customer mufg-group");
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the embedded example watchlists where the user can read and edit
/// them (overwriting an earlier demo's copies).
fn write_demo_watchlists(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in WATCHLISTS.files() {
        let target = dir.join(file.path());
        std::fs::write(&target, file.contents())
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
