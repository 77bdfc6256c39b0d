//! `leakwatch.toml`: the service configuration, parsed and validated once
//! (paths resolved relative to the config file, profiles and watchlists
//! loaded) before anything runs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use crawler::{SiteProfile, Transport};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    data_dir: Option<PathBuf>,
    tor: RawTor,
    sites: PathBuf,
    watchlists: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTor {
    Mode(String),
    Socks { socks: String },
}

/// A validated configuration.
#[derive(Debug)]
pub struct Config {
    pub data_dir: Option<PathBuf>,
    pub transport: Transport,
    pub sites: Vec<SiteProfile>,
    pub watchlists: PathBuf,
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the config", path.display()))?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let transport = match raw.tor {
            RawTor::Mode(m) if m == "off" => Transport::Direct,
            RawTor::Mode(m) if m == "embedded" => bail!(
                "{}: tor = \"embedded\" is not in this build yet; run a Tor daemon and set tor = {{ socks = \"127.0.0.1:9050\" }}, or tor = \"off\" for clearnet sites",
                path.display()
            ),
            RawTor::Mode(m) => bail!(
                "{}: tor = {m:?} is unknown; use \"off\" or {{ socks = \"127.0.0.1:9050\" }}",
                path.display()
            ),
            RawTor::Socks { socks } => Transport::Socks(socks.parse().with_context(|| {
                format!("{}: tor.socks = {socks:?} is not an IP:port", path.display())
            })?),
        };
        let sites_dir = base.join(&raw.sites);
        let mut sites = Vec::new();
        for file in toml_files(&sites_dir)? {
            sites.push(SiteProfile::load(&file)?);
        }
        if sites.is_empty() {
            bail!(
                "{}: no site profiles (*.toml) in {}",
                path.display(),
                sites_dir.display()
            );
        }
        Ok(Config {
            data_dir: raw.data_dir.map(|d| base.join(d)),
            transport,
            sites,
            watchlists: base.join(raw.watchlists),
        })
    }
}

/// The `*.toml` files of a folder, sorted; or the file itself.
pub fn toml_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("{}: cannot read the folder", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}
