//! `leakwatch.toml`: the service configuration, parsed and validated once
//! (paths resolved relative to the config file, site profiles loaded, sinks
//! checked) before anything runs. Errors name the file, the line and the fix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use crawler::{CrawlOptions, FetchOptions, RateFloor, Secret, SiteProfile};
use serde::Deserialize;

use crate::export::misp::Grouping;
use crate::export::Tlp;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    data_dir: Option<PathBuf>,
    #[serde(default)]
    tor: Option<RawTor>,
    sites: PathBuf,
    watchlists: PathBuf,
    #[serde(default)]
    log_format: Option<String>,
    #[serde(default)]
    metrics_addr: Option<String>,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    crawl: RawCrawl,
    #[serde(default)]
    sinks: Vec<RawSink>,
    #[serde(default)]
    evidence: Option<toml::Spanned<String>>,
    #[serde(default)]
    evidence_days: Option<toml::Spanned<i64>>,
    #[serde(default)]
    evidence_max_bytes: Option<toml::Spanned<i64>>,
    #[serde(default)]
    api: Option<RawApi>,
}

/// Which pages the evidence archive keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum EvidenceMode {
    /// Pages whose documents raised an alert, and later versions of them
    /// (`evidence = "alerts"`, the default).
    #[default]
    Alerts,
    /// Every page that yielded a document (`evidence = "all"`).
    All,
}

/// The evidence archive's settings (`evidence`, `evidence_days`,
/// `evidence_max_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EvidenceConfig {
    pub mode: EvidenceMode,
    /// How long pages of no alert are kept.
    pub max_age: Duration,
    /// The archive's size budget; pages of no alert go oldest first past it.
    pub max_bytes: u64,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            mode: EvidenceMode::Alerts,
            max_age: Duration::from_secs(30 * 86_400),
            max_bytes: 10 << 30,
        }
    }
}

/// `[api]`: where `run` serves the analyst console.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: String,
    #[serde(default)]
    secure_cookies: bool,
}

/// Where `run` serves the console (`[api]`).
#[derive(Debug, Clone)]
pub(crate) struct ApiConfig {
    pub listen: SocketAddr,
    /// The session cookie is marked Secure (a TLS proxy serves the console).
    pub secure_cookies: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrawl {
    #[serde(default)]
    max_in_flight: Option<toml::Spanned<i64>>,
}

/// The most `crawl.max_in_flight` may be: each request in flight is a
/// connection (two file descriptors through the embedded Tor bridge).
const MAX_IN_FLIGHT_LIMIT: i64 = 65_536;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    #[serde(default)]
    min_transfer_rate: Option<RawRateFloor>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateFloor {
    bytes_per_sec: u64,
    window_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTor {
    Mode(String),
    Socks { socks: String },
    Embedded { embedded: RawEmbedded },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbedded {
    #[serde(default)]
    test_network: Option<PathBuf>,
    #[serde(default)]
    bootstrap_timeout_secs: Option<u64>,
}

/// How requests leave the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TorMode {
    /// Direct; `.onion` refused.
    Off,
    /// An external Tor daemon's SOCKS port.
    Socks(SocketAddr),
    /// The in-process arti client (default).
    Embedded {
        /// A private test network description (tests/tornet).
        test_network: Option<PathBuf>,
        bootstrap_timeout: Duration,
    },
}

impl TorMode {
    /// The default: embedded Tor on the real network.
    pub(crate) fn embedded() -> TorMode {
        TorMode::Embedded {
            test_network: None,
            bootstrap_timeout: Duration::from_secs(180),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    recrawl_minutes: Option<f64>,
    shutdown_deadline_secs: Option<u64>,
    commit_every_docs: Option<usize>,
    commit_every_secs: Option<u64>,
    reload_poll_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum RawSink {
    Jsonl(RawJsonlSink),
    Webhook(RawWebhookSink),
    Email(RawEmailSink),
    Taxii(RawTaxiiSink),
    Misp(RawMispSink),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxiiSink {
    name: String,
    #[serde(default)]
    customers: Vec<String>,
    api_root: String,
    collection: String,
    #[serde(default)]
    user_env: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    tlp: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMispSink {
    name: String,
    #[serde(default)]
    customers: Vec<String>,
    url: String,
    key_env: String,
    #[serde(default)]
    verify_tls: Option<bool>,
    #[serde(default)]
    distribution: Option<u8>,
    #[serde(default)]
    event_per: Option<String>,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    tlp: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJsonlSink {
    name: String,
    #[serde(default)]
    customers: Vec<String>,
    path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhookSink {
    name: String,
    #[serde(default)]
    customers: Vec<String>,
    url: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    secret_env: Option<String>,
    #[serde(default)]
    timeout_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmailSink {
    name: String,
    #[serde(default)]
    customers: Vec<String>,
    smtp: String,
    #[serde(default)]
    security: Option<String>,
    from: String,
    to: Vec<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
}

/// How the service schedules work.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    /// Time between two passes over a site.
    pub recrawl: Duration,
    /// How long shutdown may take before in-flight work is abandoned.
    pub shutdown_deadline: Duration,
    pub commit_every_docs: usize,
    pub commit_every: Duration,
    /// How often the watchlists folder is checked for changes.
    pub reload_poll: Duration,
}

/// E-mail transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmtpSecurity {
    /// Plain SMTP, for a relay on the local machine.
    None,
    StartTls,
    Tls,
}

/// When non-critical alerts are mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Digest {
    Immediate,
    Every(Duration),
}

/// Where a sink delivers.
#[derive(Debug, Clone)]
pub(crate) enum SinkKind {
    Jsonl {
        path: PathBuf,
    },
    Webhook {
        url: reqwest::Url,
        /// The HMAC-SHA256 key; `Debug` prints `<redacted>`.
        secret: Secret,
        timeout: Duration,
    },
    Email {
        host: String,
        port: u16,
        security: SmtpSecurity,
        from: String,
        to: Vec<String>,
        digest: Digest,
        /// User name and password; `Debug` prints the password as `<redacted>`.
        credentials: Option<(String, Secret)>,
    },
    /// A TAXII 2.1 collection that the alerts' STIX objects are added to.
    Taxii {
        /// The API root, ending in `/`.
        api_root: reqwest::Url,
        collection: String,
        auth: HttpAuth,
        timeout: Duration,
        tlp: Tlp,
    },
    /// A MISP instance's REST API: an event per alert (or per customer and
    /// day), a sighting when the listing is seen again.
    Misp {
        /// The instance's base URL, ending in `/`.
        url: reqwest::Url,
        /// The API key (sent as `Authorization`), from `key_env`.
        key: Secret,
        /// Its environment variable's name, for error messages.
        key_env: String,
        verify_tls: bool,
        /// Overrides the events' distribution (else the TLP's).
        distribution: Option<u8>,
        event_per: Grouping,
        timeout: Duration,
        tlp: Tlp,
    },
}

/// How a sink authenticates over HTTP; the secret comes from the environment
/// and `Debug` prints it as `<redacted>`.
#[derive(Debug, Clone)]
pub(crate) enum HttpAuth {
    Basic {
        user: String,
        password: Secret,
        /// The variables' names, for error messages.
        user_env: String,
        password_env: String,
    },
    Bearer {
        token: Secret,
        token_env: String,
    },
}

impl HttpAuth {
    /// Where the credentials come from, for an error message (names only).
    pub(crate) fn source(&self) -> String {
        match self {
            HttpAuth::Basic {
                user_env,
                password_env,
                ..
            } => format!("${user_env} and ${password_env}"),
            HttpAuth::Bearer { token_env, .. } => format!("${token_env}"),
        }
    }
}

/// A validated sink.
#[derive(Debug, Clone)]
pub(crate) struct SinkConfig {
    /// Unique; deliveries are tracked per sink name.
    pub name: String,
    /// Customers whose alerts go here; empty means all.
    pub customers: Vec<String>,
    pub kind: SinkKind,
}

impl SinkConfig {
    pub(crate) fn accepts(&self, customer: &str) -> bool {
        self.customers.is_empty() || self.customers.iter().any(|c| c == customer)
    }
}

/// A validated configuration.
#[derive(Debug)]
pub(crate) struct Config {
    pub path: PathBuf,
    pub data_dir: Option<PathBuf>,
    pub tor: TorMode,
    pub sites_dir: PathBuf,
    pub sites: Vec<SiteProfile>,
    pub watchlists: PathBuf,
    pub log_json: bool,
    pub metrics_addr: Option<SocketAddr>,
    pub schedule: Schedule,
    /// Limits of every fetch (`[fetch]`; a site profile may override the
    /// transfer-rate floor).
    pub fetch: FetchOptions,
    /// Crawl-wide limits (`[crawl]`: the ceiling on requests in flight).
    pub crawl: CrawlOptions,
    pub sinks: Vec<SinkConfig>,
    /// The evidence archive (`evidence`, `evidence_days`, `evidence_max_bytes`).
    pub evidence: EvidenceConfig,
    /// `[api]`: serve the console beside the crawl.
    pub api: Option<ApiConfig>,
}

impl Config {
    pub(crate) fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the config", path.display()))?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
        })?;
        let file = path.display().to_string();
        let base = path.parent().unwrap_or(Path::new("."));
        let tor = match raw.tor {
            None => TorMode::embedded(),
            Some(RawTor::Mode(m)) if m == "off" => TorMode::Off,
            Some(RawTor::Mode(m)) if m == "embedded" => TorMode::embedded(),
            Some(RawTor::Mode(m)) => bail!(
                "{file}: tor = {m:?} is unknown; use \"embedded\", \"off\" or {{ socks = \"127.0.0.1:9050\" }}"
            ),
            Some(RawTor::Socks { socks }) => TorMode::Socks(socks.parse().with_context(|| {
                format!("{file}: tor.socks = {socks:?} is not an IP:port")
            })?),
            Some(RawTor::Embedded { embedded }) => TorMode::Embedded {
                test_network: embedded.test_network.map(|p| base.join(p)),
                bootstrap_timeout: Duration::from_secs(embedded.bootstrap_timeout_secs.unwrap_or(180).max(1)),
            },
        };
        let sites_dir = base.join(&raw.sites);
        let sites = load_profiles(&sites_dir)?;
        if sites.is_empty() {
            bail!(
                "{file}: no site profiles (*.toml) in {}",
                sites_dir.display()
            );
        }
        let log_json = match raw.log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => bail!("{file}: log_format = {other:?}; use \"text\" or \"json\""),
        };
        let metrics_addr = raw
            .metrics_addr
            .map(|a| {
                a.parse::<SocketAddr>()
                    .with_context(|| format!("{file}: metrics_addr = {a:?} is not an IP:port"))
            })
            .transpose()?;
        let api = raw
            .api
            .map(|a| {
                Ok::<_, anyhow::Error>(ApiConfig {
                    listen: a.listen.parse().with_context(|| {
                        format!("{file}: [api] listen = {:?} is not an IP:port", a.listen)
                    })?,
                    secure_cookies: a.secure_cookies,
                })
            })
            .transpose()?;
        let s = raw.schedule;
        let recrawl_minutes = s.recrawl_minutes.unwrap_or(60.0);
        if !(recrawl_minutes.is_finite() && recrawl_minutes > 0.0) {
            bail!("{file}: schedule.recrawl_minutes must be a positive number");
        }
        let schedule = Schedule {
            recrawl: Duration::from_secs_f64(recrawl_minutes * 60.0),
            shutdown_deadline: Duration::from_secs(s.shutdown_deadline_secs.unwrap_or(30)),
            commit_every_docs: s.commit_every_docs.unwrap_or(200).max(1),
            commit_every: Duration::from_secs(s.commit_every_secs.unwrap_or(10).max(1)),
            reload_poll: Duration::from_secs(s.reload_poll_secs.unwrap_or(5).max(1)),
        };
        let mut fetch = FetchOptions::default();
        if let Some(floor) = raw.fetch.min_transfer_rate {
            if floor.window_secs == 0 {
                bail!("{file}: fetch.min_transfer_rate.window_secs must be at least 1 (set bytes_per_sec = 0 to turn the floor off)");
            }
            fetch.min_transfer_rate = Some(RateFloor {
                bytes_per_sec: floor.bytes_per_sec,
                window: Duration::from_secs(floor.window_secs),
            });
        }
        let mut crawl = CrawlOptions::default();
        if let Some(max) = raw.crawl.max_in_flight {
            let line = text[..max.span().start.min(text.len())]
                .matches('\n')
                .count()
                + 1;
            let n = *max.get_ref();
            if !(1..=MAX_IN_FLIGHT_LIMIT).contains(&n) {
                bail!(
                    "{file}:{line}: crawl.max_in_flight = {n}: use 1 to {MAX_IN_FLIGHT_LIMIT} (requests in flight across all sites; default {}, enough for hundreds of onion sites)",
                    CrawlOptions::default().max_in_flight
                );
            }
            crawl.max_in_flight = n as usize;
        }
        let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
        let mut evidence = EvidenceConfig::default();
        if let Some(mode) = &raw.evidence {
            evidence.mode = match mode.get_ref().as_str() {
                "alerts" => EvidenceMode::Alerts,
                "all" => EvidenceMode::All,
                other => bail!(
                    "{file}:{}: evidence = {other:?}; use \"alerts\" (pages that raised an alert, the default) or \"all\" (every page)",
                    line_of(mode.span().start)
                ),
            };
        }
        if let Some(days) = &raw.evidence_days {
            let n = *days.get_ref();
            if !(1..=36_500).contains(&n) {
                bail!(
                    "{file}:{}: evidence_days = {n}: use 1 to 36500 (days pages of no alert are kept; alert evidence is kept as long as its alert)",
                    line_of(days.span().start)
                );
            }
            evidence.max_age = Duration::from_secs(n as u64 * 86_400);
        }
        if let Some(bytes) = &raw.evidence_max_bytes {
            let n = *bytes.get_ref();
            if n < 1 {
                bail!(
                    "{file}:{}: evidence_max_bytes = {n}: give the archive's budget in bytes (default 10737418240, 10 GiB)",
                    line_of(bytes.span().start)
                );
            }
            evidence.max_bytes = n as u64;
        }
        let mut sinks = Vec::new();
        for raw in raw.sinks {
            let sink = sink(raw, base, &file)?;
            if sinks.iter().any(|s: &SinkConfig| s.name == sink.name) {
                bail!(
                    "{file}: two sinks are named {:?}; sink names must be unique",
                    sink.name
                );
            }
            sinks.push(sink);
        }
        Ok(Config {
            path: path.to_owned(),
            data_dir: raw.data_dir.map(|d| base.join(d)),
            tor,
            sites_dir,
            sites,
            watchlists: base.join(raw.watchlists),
            log_json,
            metrics_addr,
            schedule,
            fetch,
            crawl,
            sinks,
            evidence,
            api,
        })
    }
}

/// Loads every site profile in a folder (or one file).
pub(crate) fn load_profiles(dir: &Path) -> anyhow::Result<Vec<SiteProfile>> {
    let mut sites: Vec<SiteProfile> = Vec::new();
    for file in toml_files(dir)? {
        let profile = SiteProfile::load(&file)?;
        if sites.iter().any(|s| s.name() == profile.name()) {
            bail!(
                "{}: site name {:?} is used by another profile",
                file.display(),
                profile.name()
            );
        }
        sites.push(profile);
    }
    Ok(sites)
}

fn sink(raw: RawSink, base: &Path, file: &str) -> anyhow::Result<SinkConfig> {
    let check_name = |name: &str| -> anyhow::Result<()> {
        if name.trim().is_empty() {
            bail!("{file}: a sink has an empty name");
        }
        Ok(())
    };
    Ok(match raw {
        RawSink::Jsonl(s) => {
            check_name(&s.name)?;
            SinkConfig {
                name: s.name,
                customers: s.customers,
                kind: SinkKind::Jsonl {
                    path: base.join(s.path),
                },
            }
        }
        RawSink::Webhook(s) => {
            check_name(&s.name)?;
            let url = reqwest::Url::parse(&s.url).with_context(|| {
                format!("{file}: sink {:?}: url {:?} is not a URL", s.name, s.url)
            })?;
            let secret = match (s.secret, s.secret_env) {
                (Some(secret), None) => secret,
                (None, Some(var)) => std::env::var(&var).with_context(|| {
                    format!("{file}: sink {:?}: environment variable {var} (secret_env) is not set", s.name)
                })?,
                _ => bail!(
                    "{file}: sink {:?}: give exactly one of secret or secret_env (the HMAC-SHA256 key)",
                    s.name
                ),
            };
            if secret.is_empty() {
                bail!("{file}: sink {:?}: the webhook secret is empty", s.name);
            }
            SinkConfig {
                name: s.name,
                customers: s.customers,
                kind: SinkKind::Webhook {
                    url,
                    secret: Secret::new(secret),
                    timeout: Duration::from_secs(s.timeout_secs.unwrap_or(10).max(1)),
                },
            }
        }
        RawSink::Email(s) => {
            check_name(&s.name)?;
            let (host, port) = s
                .smtp
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
                .with_context(|| {
                    format!(
                        "{file}: sink {:?}: smtp = {:?}; write host:port",
                        s.name, s.smtp
                    )
                })?;
            let security = match s.security.as_deref() {
                None | Some("starttls") => SmtpSecurity::StartTls,
                Some("tls") => SmtpSecurity::Tls,
                Some("none") => SmtpSecurity::None,
                Some(other) => bail!(
                    "{file}: sink {:?}: security = {other:?}; use \"starttls\", \"tls\" or \"none\" (local relays only)",
                    s.name
                ),
            };
            let digest = parse_digest(s.digest.as_deref().unwrap_or("hourly")).with_context(|| {
                format!("{file}: sink {:?}: digest must be \"immediate\", \"hourly\", \"daily\" or a duration like \"15m\" (units s, m, h, d, w)", s.name)
            })?;
            for address in std::iter::once(&s.from).chain(&s.to) {
                address.parse::<lettre::Address>().with_context(|| {
                    format!(
                        "{file}: sink {:?}: {address:?} is not an e-mail address",
                        s.name
                    )
                })?;
            }
            if s.to.is_empty() {
                bail!("{file}: sink {:?}: `to` needs at least one address", s.name);
            }
            let credentials = match (s.username, s.password_env) {
                (None, None) => None,
                (Some(user), Some(var)) => Some((
                    user,
                    Secret::new(std::env::var(&var).with_context(|| {
                        format!("{file}: sink {:?}: environment variable {var} (password_env) is not set", s.name)
                    })?),
                )),
                _ => bail!("{file}: sink {:?}: username and password_env go together", s.name),
            };
            SinkConfig {
                name: s.name,
                customers: s.customers,
                kind: SinkKind::Email {
                    host,
                    port,
                    security,
                    from: s.from,
                    to: s.to,
                    digest,
                    credentials,
                },
            }
        }
        RawSink::Taxii(s) => {
            check_name(&s.name)?;
            taxii_sink(s, file)?
        }
        RawSink::Misp(s) => {
            check_name(&s.name)?;
            misp_sink(s, file)?
        }
    })
}

/// The value of environment variable `var`, named by `key` of sink `sink`;
/// unset or empty is an error that names both (never a value).
fn env_secret(file: &str, sink: &str, key: &str, var: &str) -> anyhow::Result<Secret> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
        Ok(_) => bail!("{file}: sink {sink:?}: environment variable {var} ({key}) is empty"),
        Err(_) => bail!(
            "{file}: sink {sink:?}: environment variable {var} ({key}) is not set; export it before starting leakwatch"
        ),
    }
}

/// A sink's `tlp` (default amber, as `leakwatch export`).
fn sink_tlp(file: &str, sink: &str, tlp: Option<&str>) -> anyhow::Result<Tlp> {
    match tlp {
        None => Ok(Tlp::Amber),
        Some(name) => Tlp::parse(name).with_context(|| {
            format!(
                "{file}: sink {sink:?}: tlp = {name:?}; use one of {}",
                Tlp::NAMES.join(", ")
            )
        }),
    }
}

/// An `http(s)` base URL that ends in `/` (so relative paths append).
fn base_url(file: &str, sink: &str, key: &str, text: &str) -> anyhow::Result<reqwest::Url> {
    let with_slash = if text.ends_with('/') {
        text.to_owned()
    } else {
        format!("{text}/")
    };
    let url = reqwest::Url::parse(&with_slash)
        .with_context(|| format!("{file}: sink {sink:?}: {key} {text:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{file}: sink {sink:?}: {key} {text:?} must be an http:// or https:// URL");
    }
    Ok(url)
}

fn taxii_sink(s: RawTaxiiSink, file: &str) -> anyhow::Result<SinkConfig> {
    let name = s.name.as_str();
    let api_root = base_url(file, name, "api_root", &s.api_root)?;
    let collection = s.collection.trim().to_owned();
    if collection.is_empty() || collection.contains(['/', '?', '#']) {
        bail!(
            "{file}: sink {name:?}: collection = {:?}; give the collection's id as the server lists it at {api_root}collections/",
            s.collection
        );
    }
    let auth = match (s.user_env, s.password_env, s.token_env) {
        (Some(user_env), Some(password_env), None) => HttpAuth::Basic {
            user: env_secret(file, name, "user_env", &user_env)?
                .expose()
                .to_owned(),
            password: env_secret(file, name, "password_env", &password_env)?,
            user_env,
            password_env,
        },
        (None, None, Some(token_env)) => HttpAuth::Bearer {
            token: env_secret(file, name, "token_env", &token_env)?,
            token_env,
        },
        _ => bail!(
            "{file}: sink {name:?}: give user_env and password_env (HTTP Basic) or token_env (a bearer token): the names of environment variables holding the credentials"
        ),
    };
    Ok(SinkConfig {
        kind: SinkKind::Taxii {
            api_root,
            collection,
            auth,
            timeout: Duration::from_secs(s.timeout_secs.unwrap_or(30).max(1)),
            tlp: sink_tlp(file, name, s.tlp.as_deref())?,
        },
        name: s.name,
        customers: s.customers,
    })
}

fn misp_sink(s: RawMispSink, file: &str) -> anyhow::Result<SinkConfig> {
    let name = s.name.as_str();
    let url = base_url(file, name, "url", &s.url)?;
    let key = env_secret(file, name, "key_env", &s.key_env)?;
    let event_per = match s.event_per.as_deref() {
        None | Some("alert") => Grouping::Alert,
        Some("customer-day") => Grouping::Day,
        Some(other) => bail!(
            "{file}: sink {name:?}: event_per = {other:?}; use \"alert\" (one event per alert) or \"customer-day\" (one per customer per day)"
        ),
    };
    if let Some(d) = s.distribution {
        if d > 3 {
            bail!(
                "{file}: sink {name:?}: distribution = {d}; use 0 (your organisation), 1 (this community), 2 (connected communities) or 3 (all communities); sharing groups are not supported"
            );
        }
    }
    Ok(SinkConfig {
        kind: SinkKind::Misp {
            url,
            key,
            key_env: s.key_env.clone(),
            verify_tls: s.verify_tls.unwrap_or(true),
            distribution: s.distribution,
            event_per,
            timeout: Duration::from_secs(s.timeout_secs.unwrap_or(30).max(1)),
            tlp: sink_tlp(file, name, s.tlp.as_deref())?,
        },
        name: s.name,
        customers: s.customers,
    })
}

fn parse_digest(text: &str) -> Option<Digest> {
    Some(match text {
        "immediate" => Digest::Immediate,
        "hourly" => Digest::Every(Duration::from_secs(3600)),
        "daily" => Digest::Every(Duration::from_secs(86_400)),
        other => Digest::Every(crawler::parse_duration(other).ok()?),
    })
}

/// The `*.toml` files of a folder, sorted; or the file itself.
pub(crate) fn toml_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, config: &str) -> PathBuf {
        std::fs::create_dir_all(dir.join("sites")).expect("mkdir");
        let profile = include_str!("../examples/sites/demo-forum.toml");
        std::fs::write(dir.join("sites/f.toml"), profile).expect("write");
        let path = dir.join("leakwatch.toml");
        std::fs::write(&path, config).expect("write");
        path
    }

    #[test]
    fn full_config_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            dir.path(),
            r#"tor = { socks = "127.0.0.1:9050" }
sites = "sites"
watchlists = "w"
metrics_addr = "127.0.0.1:9187"
[schedule]
recrawl_minutes = 0.5
[[sinks]]
kind = "jsonl"
name = "file"
path = "alerts.jsonl"
[[sinks]]
kind = "webhook"
name = "soc"
customers = ["mufg-group"]
url = "http://127.0.0.1:9/hook"
secret = "k"
[[sinks]]
kind = "email"
name = "mail"
smtp = "127.0.0.1:2525"
security = "none"
from = "lw@example.org"
to = ["soc@example.org"]
digest = "15m"
"#,
        );
        let c = Config::load(&path).expect("valid");
        assert_eq!(c.sinks.len(), 3);
        assert_eq!(c.schedule.recrawl, Duration::from_secs(30));
        assert!(c.sinks[1].accepts("mufg-group") && !c.sinks[1].accepts("other"));
        assert!(matches!(
            c.sinks[2].kind,
            SinkKind::Email { digest: Digest::Every(d), .. } if d == Duration::from_secs(900)
        ));
    }

    #[test]
    fn the_annotated_example_loads() {
        std::env::set_var("LEAKWATCH_SOC_SECRET", "s");
        std::env::set_var("LEAKWATCH_SMTP_PASSWORD", "p");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/leakwatch.toml");
        let c = Config::load(&path).expect("examples/leakwatch.toml is valid");
        assert_eq!(c.sinks.len(), 3);
        assert!(c.log_json);
        assert!(matches!(c.tor, TorMode::Socks(_)));
        assert_eq!(c.evidence, EvidenceConfig::default());
    }

    #[test]
    fn evidence_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = "tor = \"off\"\nsites = \"sites\"\nwatchlists = \"w\"\n";
        let path = write(dir.path(), base);
        assert_eq!(
            Config::load(&path).expect("valid").evidence,
            EvidenceConfig::default()
        );
        let path = write(
            dir.path(),
            &format!("{base}evidence = \"all\"\nevidence_days = 7\nevidence_max_bytes = 1000\n"),
        );
        let e = Config::load(&path).expect("valid").evidence;
        assert_eq!(e.mode, EvidenceMode::All);
        assert_eq!(e.max_age, Duration::from_secs(7 * 86_400));
        assert_eq!(e.max_bytes, 1000);
        for (bad, says) in [
            ("evidence = \"some\"", ":4: evidence = \"some\""),
            ("evidence_days = 0", ":4: evidence_days = 0"),
            ("evidence_max_bytes = -1", ":4: evidence_max_bytes = -1"),
        ] {
            let path = write(dir.path(), &format!("{base}{bad}\n"));
            let err = format!("{:#}", Config::load(&path).expect_err(bad));
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::env::set_var("LEAKWATCH_TEST_SMTP_PASSWORD", "pa55-smtp-value");
        let path = write(
            dir.path(),
            r#"tor = "off"
sites = "sites"
watchlists = "w"
[[sinks]]
kind = "webhook"
name = "soc"
url = "http://127.0.0.1:9/hook"
secret = "hmac-key-value"
[[sinks]]
kind = "email"
name = "mail"
smtp = "127.0.0.1:2525"
from = "lw@example.org"
to = ["soc@example.org"]
username = "lw"
password_env = "LEAKWATCH_TEST_SMTP_PASSWORD"
"#,
        );
        let c = Config::load(&path).expect("valid");
        let shown = format!("{c:?} {:?} {:#?}", c.sinks, c.sinks[1].kind);
        assert!(!shown.contains("hmac-key-value"), "{shown}");
        assert!(!shown.contains("pa55-smtp-value"), "{shown}");
        let sinks = format!("{:?}", c.sinks);
        assert_eq!(sinks.matches("<redacted>").count(), 2, "{sinks}");
        // The values are still there for the one place that sends them.
        let SinkKind::Webhook { secret, .. } = &c.sinks[0].kind else {
            panic!("the first sink is the webhook")
        };
        assert_eq!(secret.expose(), "hmac-key-value");
    }

    /// The keys the README's configuration table names (`schedule.recrawl_minutes`).
    fn readme_config_keys() -> Vec<String> {
        let readme = include_str!("../README.md");
        let table = readme
            .split("| key | meaning |")
            .nth(1)
            .expect("the README has the configuration table");
        table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.split('`').nth(1))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_example_file_loads_and_has_every_key_the_readme_names() {
        std::env::set_var("LEAKWATCH_SOC_SECRET", "s");
        std::env::set_var("LEAKWATCH_SMTP_PASSWORD", "p");
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let path = examples.join("leakwatch.toml");
        let config = Config::load(&path).expect("examples/leakwatch.toml is valid");
        assert_eq!(
            config.fetch.min_transfer_rate,
            Some(RateFloor::DEFAULT),
            "the example states the default floor"
        );
        assert_eq!(
            config.crawl.max_in_flight,
            CrawlOptions::default().max_in_flight,
            "the example states the default ceiling"
        );
        let text = std::fs::read_to_string(&path).expect("readable");
        let value: toml::Value = toml::from_str(&text).expect("TOML");
        let keys = readme_config_keys();
        assert_eq!(keys.len(), 19, "{keys:?}");
        let api = config.api.as_ref().expect("the example serves the console");
        assert_eq!(api.listen.to_string(), "127.0.0.1:8080");
        for key in &keys {
            let found = key
                .split('.')
                .try_fold(&value, |v, part| v.get(part))
                .is_some();
            assert!(
                found,
                "the README names `{key}`, the annotated example lacks it"
            );
        }
        // Every site profile and every watchlist beside it loads too.
        let sites = load_profiles(&examples.join("sites")).expect("example profiles load");
        assert!(sites.len() >= 4, "{} profiles", sites.len());
        let lists = watchlists::WatchlistSet::load(&examples.join("watchlists"))
            .unwrap_or_else(|e| panic!("example watchlists: {e}"));
        assert!(lists.asset_count() > 0);
    }

    #[test]
    fn the_ceiling_on_requests_in_flight_is_read_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = "tor = \"off\"\nsites = \"sites\"\nwatchlists = \"w\"\n";
        let c = Config::load(&write(dir.path(), base)).expect("valid");
        assert_eq!(c.crawl.max_in_flight, CrawlOptions::default().max_in_flight);
        assert!(c.crawl.max_in_flight > 32, "sized for hundreds of sites");
        let path = write(
            dir.path(),
            &format!("{base}[crawl]\nmax_in_flight = 1500\n"),
        );
        assert_eq!(
            Config::load(&path).expect("valid").crawl.max_in_flight,
            1500
        );
        for bad in ["0", "-3", "1000000"] {
            let path = write(
                dir.path(),
                &format!("{base}[crawl]\nmax_in_flight = {bad}\n"),
            );
            let err = Config::load(&path)
                .expect_err("the config is refused")
                .to_string();
            assert!(
                err.contains("leakwatch.toml:5") && err.contains("use 1 to"),
                "{bad}: {err}"
            );
        }
        let path = write(dir.path(), &format!("{base}[crawl]\nmax_inflight = 8\n"));
        let err = Config::load(&path)
            .expect_err("the config is refused")
            .to_string();
        assert!(err.contains("leakwatch.toml:5"), "{err}");
    }

    #[test]
    fn push_sinks_take_their_credentials_from_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::env::set_var("LW_CFG_TAXII_USER", "lw");
        std::env::set_var("LW_CFG_TAXII_PASSWORD", "taxii-pa55-value");
        std::env::set_var("LW_CFG_MISP_KEY", "misp-key-value");
        let base = "tor = \"off\"\nsites = \"sites\"\nwatchlists = \"w\"\n";
        let path = write(
            dir.path(),
            &format!(
                "{base}[[sinks]]\nkind = \"taxii\"\nname = \"cti\"\napi_root = \"http://127.0.0.1:9/api1\"\n\
                 collection = \"abc\"\nuser_env = \"LW_CFG_TAXII_USER\"\npassword_env = \"LW_CFG_TAXII_PASSWORD\"\n\
                 [[sinks]]\nkind = \"misp\"\nname = \"misp\"\nurl = \"https://misp.example.org\"\n\
                 key_env = \"LW_CFG_MISP_KEY\"\nevent_per = \"customer-day\"\ndistribution = 1\ntlp = \"green\"\n"
            ),
        );
        let c = Config::load(&path).expect("valid");
        let SinkKind::Taxii {
            api_root,
            auth,
            tlp,
            ..
        } = &c.sinks[0].kind
        else {
            panic!("a TAXII sink")
        };
        assert_eq!(
            api_root.as_str(),
            "http://127.0.0.1:9/api1/",
            "a slash is added"
        );
        assert_eq!(*tlp, Tlp::Amber);
        assert_eq!(
            auth.source(),
            "$LW_CFG_TAXII_USER and $LW_CFG_TAXII_PASSWORD"
        );
        assert!(matches!(
            &c.sinks[1].kind,
            SinkKind::Misp {
                event_per: Grouping::Day,
                distribution: Some(1),
                tlp: Tlp::Green,
                verify_tls: true,
                ..
            }
        ));
        let shown = format!("{:?}", c.sinks);
        assert!(
            !shown.contains("taxii-pa55-value") && !shown.contains("misp-key-value"),
            "{shown}"
        );

        for (sink, needle) in [
            (
                "[[sinks]]\nkind = \"misp\"\nname = \"m\"\nurl = \"http://127.0.0.1:9\"\nkey_env = \"LW_CFG_UNSET\"\n",
                "sink \"m\": environment variable LW_CFG_UNSET (key_env) is not set",
            ),
            (
                "[[sinks]]\nkind = \"taxii\"\nname = \"t\"\napi_root = \"http://127.0.0.1:9/\"\ncollection = \"c\"\n",
                "give user_env and password_env",
            ),
            (
                "[[sinks]]\nkind = \"misp\"\nname = \"m\"\nurl = \"http://127.0.0.1:9\"\nkey_env = \"LW_CFG_MISP_KEY\"\nevent_per = \"day\"\n",
                "event_per = \"day\"",
            ),
            (
                "[[sinks]]\nkind = \"misp\"\nname = \"m\"\nurl = \"http://127.0.0.1:9\"\nkey_env = \"LW_CFG_MISP_KEY\"\ndistribution = 4\n",
                "sharing groups are not supported",
            ),
        ] {
            let path = write(dir.path(), &format!("{base}{sink}"));
            let err = format!("{:#}", Config::load(&path).expect_err("refused"));
            assert!(err.contains("leakwatch.toml") && err.contains(needle), "{err}");
        }
    }

    #[test]
    fn errors_name_file_line_and_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            dir.path(),
            "tor = \"off\"\nsites = \"sites\"\nwatchlists = \"w\"\nrecrawl = 5\n",
        );
        let err = Config::load(&path)
            .expect_err("the config is refused")
            .to_string();
        assert!(err.contains("leakwatch.toml:4"), "{err}");
        let path = write(
            dir.path(),
            "tor = \"off\"\nsites = \"sites\"\nwatchlists = \"w\"\n[[sinks]]\nkind = \"webhook\"\nname = \"x\"\nurl = \"http://127.0.0.1:1/\"\n",
        );
        let err = Config::load(&path)
            .expect_err("the config is refused")
            .to_string();
        assert!(err.contains("secret"), "{err}");
        let path = write(
            dir.path(),
            "tor = \"tor\"\nsites = \"sites\"\nwatchlists = \"w\"\n",
        );
        assert!(Config::load(&path)
            .expect_err("the config is refused")
            .to_string()
            .contains("\"off\""));
    }
}
