//! Fetching one page safely: each request (redirect hops included) waits
//! for the site's gate; connect, read and total timeouts; redirects
//! followed by hand so each hop is checked for loops, the limit and the
//! site's scope; a content-type allow-list checked before the body is read;
//! a body cap counted after decompression while streaming, so a 2 GB body
//! or a gzip bomb stops at the cap; a transfer-rate floor, so a body that
//! trickles (a byte every few seconds: the read timeout never fires) stops
//! long before the request timeout. Conditional GET with the last ETag and
//! Last-Modified. No JavaScript is ever run. A request takes a place under
//! the crawl-wide ceiling once its site's turn has come, and its body's
//! bytes from the crawl-wide body budget as they arrive (held until the
//! page is dropped, i.e. extracted).
//!
//! Never logs cookies or header values from a profile.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, ACCEPT_LANGUAGE, CONTENT_ENCODING,
    CONTENT_LANGUAGE, CONTENT_TYPE, DATE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
    LOCATION, RETRY_AFTER, SERVER, USER_AGENT,
};
use url::Url;

use extract::{decode_html, CanonicalUrl, Decoded};

use crate::cookies::{CookieVault, SiteJar};
use crate::error::{CrawlError, CrawlErrorKind};
use crate::in_flight::{BodyLease, InFlight, FIRST_SHARE};
use crate::politeness::{parse_retry_after, SiteGate};
use crate::profile::SiteProfile;

/// How requests leave the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Straight to the site; refused for `.onion` hosts.
    Direct,
    /// Through an external Tor SOCKS5 proxy, DNS included (`socks5h`). Each
    /// site gets its own SOCKS credentials, so Tor isolates its circuits.
    Socks(SocketAddr),
}

/// Limits of every fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// How long to wait for a connection (through Tor: the circuit and the stream).
    pub connect_timeout: Duration,
    /// Longest wait for any single read (headers or a body chunk).
    pub read_timeout: Duration,
    /// Longest time for one request from sending to the last body byte (a
    /// page that trickles forever stops here).
    pub request_timeout: Duration,
    /// Cap on the decompressed body; the fetch fails past it.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    /// The `User-Agent` sent unless a profile sets its own.
    pub user_agent: String,
    /// The slowest transfer tolerated once a response has started, unless
    /// the site's profile sets its own (`min_transfer_rate`); `None`: off.
    pub min_transfer_rate: Option<RateFloor>,
}

/// A floor under a response's transfer rate: once the response has started
/// (its headers are in), every `window` must bring at least
/// `bytes_per_sec × window` bytes of body, or the fetch stops as too slow.
/// A page that completes within one window is never stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateFloor {
    /// The slowest average rate tolerated, in bytes a second (0: no floor).
    pub bytes_per_sec: u64,
    /// Over how long the rate is averaged once the body has started.
    pub window: Duration,
}

impl RateFloor {
    /// The default, for Tor: 1 KiB/s over 30 s. A Tor circuit carries tens
    /// of KiB/s even when slow; less than 30 KiB in 30 s is a trickle.
    pub const DEFAULT: RateFloor = RateFloor {
        bytes_per_sec: 1024,
        window: Duration::from_secs(30),
    };

    /// Bytes each window must bring.
    fn bytes_per_window(&self) -> f64 {
        self.bytes_per_sec as f64 * self.window.as_secs_f64()
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(180),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            max_retry_after: Duration::from_secs(6 * 3600),
            user_agent: "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
                .to_owned(),
            min_transfer_rate: Some(RateFloor::DEFAULT),
        }
    }
}

/// The response headers a capture keeps: what a reader of the page as
/// evidence needs (its type, dates and validators). Never cookies.
const CAPTURED_HEADERS: [HeaderName; 7] = [
    CONTENT_TYPE,
    CONTENT_ENCODING,
    CONTENT_LANGUAGE,
    LAST_MODIFIED,
    ETAG,
    DATE,
    SERVER,
];

/// A page's final response as it was received, for whoever keeps pages as
/// evidence: the body's bytes before charset decoding (after the transfer's
/// own gzip/brotli, which is not part of the page), with the facts of the
/// fetch. The crawler only reports it; it never stores it beyond the
/// frontier's outbox.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageCapture {
    /// The URL the crawl asked for (under the site's `base_url`).
    pub requested_url: String,
    /// The URL that answered, after redirects (a mirror's address when the
    /// site was reached through one).
    pub final_url: String,
    /// The HTTP status of the final response.
    pub status: u16,
    /// The response headers that matter as evidence (content type and
    /// encoding, `Last-Modified`, `ETag`, the server's `Date`, `Server`),
    /// lower-case names in the order received.
    pub headers: Vec<(String, String)>,
    /// When the response arrived.
    pub fetched_at: DateTime<Utc>,
    /// How the request left: `direct`, or `socks5h://HOST:PORT`.
    pub transport: String,
    /// The site's isolation identity: the SOCKS username its circuits were
    /// built for (none for a direct fetch).
    pub identity: Option<String>,
    /// The charset the body was decoded from.
    pub encoding: String,
    /// The body as received.
    #[serde(skip)]
    pub body: Arc<[u8]>,
}

impl std::fmt::Debug for PageCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCapture")
            .field("final_url", &self.final_url)
            .field("status", &self.status)
            .field("fetched_at", &self.fetched_at)
            .field("encoding", &self.encoding)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// A fetched and decoded page.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The final URL after redirects.
    pub url: Url,
    /// The HTTP status.
    pub status: u16,
    /// The body as text, with the encoding it was decoded from.
    pub decoded: Decoded,
    /// Body bytes received (after decompression).
    pub bytes: usize,
    /// When the response arrived.
    pub fetched_at: DateTime<Utc>,
    /// The `ETag` header, for a conditional request next time.
    pub etag: Option<String>,
    /// The `Last-Modified` header, for a conditional request next time.
    pub last_modified: Option<String>,
    /// The response as received, raw body included.
    pub capture: Arc<PageCapture>,
    /// The page's share of the crawl-wide body budget, given back when the
    /// last clone of the page is dropped.
    _budget: Arc<BodyLease>,
}

/// What a conditional fetch gave.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// The page, fetched.
    Page(Box<FetchedPage>),
    /// The page has not changed since the validators were taken.
    NotModified,
}

/// A failed fetch, with the site's requested pause if it gave one.
#[derive(Debug, Clone)]
pub struct FetchFailure {
    /// Why the fetch failed.
    pub error: CrawlError,
    /// The pause the site asked for (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
}

impl From<CrawlError> for FetchFailure {
    fn from(error: CrawlError) -> Self {
        FetchFailure {
            error,
            retry_after: None,
        }
    }
}

/// Validators from the last fetch of a URL, for a conditional GET.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    /// The `ETag` header, for a conditional request next time.
    pub etag: Option<String>,
    /// The `Last-Modified` header, for a conditional request next time.
    pub last_modified: Option<String>,
}

/// One site's HTTP client (its own cookie jar and, over Tor, its own
/// circuits) and gate.
struct SiteClient {
    /// `None` once released (the site's pass is over): the next request
    /// builds a new one.
    client: Option<reqwest::Client>,
    gate: Arc<SiteGate>,
    /// The cookie jar, kept across rebuilds while the profile's cookies
    /// stay the same (a new Tor identity keeps the session).
    jar: Arc<SiteJar>,
    session: String,
    /// What the client was built from; a changed profile rebuilds it.
    built_from: String,
}

/// Fetches pages through one transport; one client and gate per site.
/// Clones share the clients and gates.
#[derive(Clone)]
pub struct Fetcher {
    transport: Transport,
    options: FetchOptions,
    /// The ceiling on requests in flight and the body budget.
    in_flight: Arc<InFlight>,
    /// The TLS settings every site's client starts from (`None`: each
    /// client loads its own).
    tls: Option<Arc<rustls::ClientConfig>>,
    sites: Arc<Mutex<HashMap<String, Arc<SiteClient>>>>,
    /// Where cookies the sites set are kept across restarts (none: in
    /// memory only).
    cookies: Option<Arc<CookieVault>>,
    /// Per site, how many times its identity was renewed: over Tor, a new
    /// SOCKS username and so new circuits.
    identities: Arc<Mutex<HashMap<String, u32>>>,
    /// Per site with mirrors, the root its requests go to (0: `base_url`,
    /// k: the k-th mirror).
    roots: Arc<Mutex<HashMap<String, usize>>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("transport", &self.transport)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher for `transport`. Clients are built per site on first use.
    pub fn new(transport: Transport, options: FetchOptions) -> Result<Fetcher, CrawlError> {
        let in_flight = InFlight::new(
            InFlight::DEFAULT_MAX_REQUESTS,
            InFlight::DEFAULT_BODY_BYTES,
            options.max_body_bytes,
        );
        Ok(Fetcher {
            transport,
            options,
            in_flight,
            tls: shared_tls().map(Arc::new),
            sites: Arc::new(Mutex::new(HashMap::new())),
            cookies: None,
            identities: Arc::new(Mutex::new(HashMap::new())),
            roots: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Sends `profile`'s next requests to its next address (base URL, then
    /// each mirror in turn, then the base URL again); for a site that keeps
    /// failing where it is. Pages keep their URLs under `base_url`. Returns
    /// the new root, `None` for a site without mirrors.
    pub fn fail_over(&self, profile: &SiteProfile) -> Option<Url> {
        if profile.rules().mirrors.is_empty() {
            return None;
        }
        let mut roots = self
            .roots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let root = roots.entry(profile.rules().name.clone()).or_default();
        *root = (*root + 1) % (profile.rules().mirrors.len() + 1);
        let url = if *root == 0 {
            profile.rules().base_url.clone()
        } else {
            profile.rules().mirrors[*root - 1].clone()
        };
        tracing::warn!(site = %profile.rules().name, to = %url, "switching the site to its next address");
        Some(url)
    }

    /// The root `profile`'s requests go to now.
    fn root(&self, profile: &SiteProfile) -> usize {
        self.roots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&profile.rules().name)
            .copied()
            .unwrap_or(0)
            .min(profile.rules().mirrors.len())
    }

    /// Gives `site` a new identity for its next requests: over Tor, a new
    /// SOCKS username, so Tor builds it new circuits (a site that keeps
    /// failing may be failing on a bad circuit or a stale onion descriptor).
    /// Cookies and the rate budget carry over. Returns the new generation.
    pub fn renew_identity(&self, site: &str) -> u32 {
        let mut identities = self
            .identities
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = identities.entry(site.to_owned()).or_default();
        *generation += 1;
        if matches!(self.transport, Transport::Socks(_)) {
            tracing::info!(%site, generation = *generation, "new Tor circuits for the site");
        }
        *generation
    }

    /// The SOCKS username of `site` (Tor isolates circuits by it).
    fn socks_username(&self, site: &str) -> String {
        let generation = self
            .identities
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(site)
            .copied()
            .unwrap_or(0);
        if generation == 0 {
            site.to_owned()
        } else {
            format!("{site}~{generation}")
        }
    }

    /// Keeps the cookies sites set in `vault`, so that a restart continues
    /// their sessions.
    pub fn with_cookie_vault(mut self, vault: Arc<CookieVault>) -> Fetcher {
        self.cookies = Some(vault);
        self
    }

    /// The options this fetcher was built with.
    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Fetches through this fetcher (and its clones made from now on) keep
    /// at most `max_requests` requests in flight, and page bodies within
    /// `body_bytes` (plus one size cap).
    pub fn with_limits(mut self, max_requests: usize, body_bytes: u64) -> Fetcher {
        self.in_flight = InFlight::new(max_requests, body_bytes, self.options.max_body_bytes);
        self
    }

    /// The ceiling on requests in flight and the body budget.
    pub fn in_flight(&self) -> &Arc<InFlight> {
        &self.in_flight
    }

    /// The gate of `profile`'s site (shared by every fetch of the site).
    pub fn gate(&self, profile: &SiteProfile) -> Result<Arc<SiteGate>, CrawlError> {
        Ok(self.site(profile)?.gate.clone())
    }

    /// Lets go of `site`'s HTTP client, with its idle connections and their
    /// buffers, when its pass is over; its gate and cookies stay, and its
    /// next request builds a new client. Fetches still running keep theirs.
    pub fn release(&self, site: &str) {
        let mut sites = self
            .sites
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = sites.get_mut(site).filter(|e| e.client.is_some()) {
            *entry = Arc::new(SiteClient {
                client: None,
                gate: entry.gate.clone(),
                jar: entry.jar.clone(),
                session: entry.session.clone(),
                built_from: entry.built_from.clone(),
            });
        }
    }

    fn site(&self, profile: &SiteProfile) -> Result<Arc<SiteClient>, CrawlError> {
        let username = self.socks_username(&profile.rules().name);
        let built_from = format!(
            "{}:{}/{}/{}/{}/{username}",
            profile.rate_limit().per_minute,
            profile.rate_limit().headroom_percent,
            profile.rate_limit().burst,
            profile.session().fingerprint(),
            profile.headers().len()
        );
        let mut sites = self
            .sites
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(site) = sites
            .get(&profile.rules().name)
            .filter(|s| s.built_from == built_from && s.client.is_some())
        {
            return Ok(site.clone());
        }
        let session = profile.session().fingerprint();
        let jar = match sites.get(&profile.rules().name) {
            Some(old) if old.session == session => old.jar.clone(),
            _ => Arc::new(SiteJar::new(
                profile.session().jar(&profile.rules().base_url),
                self.cookies.clone(),
                &profile.rules().name,
                session.clone(),
            )),
        };
        let gate = match sites.get(&profile.rules().name) {
            // Keep the budget already spent when only cookies changed.
            Some(old)
                if old
                    .built_from
                    .split('/')
                    .take(2)
                    .eq(built_from.split('/').take(2)) =>
            {
                old.gate.clone()
            }
            _ => Arc::new(SiteGate::new(profile.rate_limit())),
        };
        let mut builder = reqwest::Client::builder()
            .connector_layer(ConnectWatch { gate: gate.clone() })
            .connect_timeout(self.options.connect_timeout)
            .read_timeout(self.options.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .pool_idle_timeout(Duration::from_secs(90))
            .no_proxy();
        if let Some(tls) = &self.tls {
            let mut tls = rustls::ClientConfig::clone(tls);
            // The site's own few session tickets: a site on new circuits
            // must not resume the TLS session of its old identity.
            tls.resumption = rustls::client::Resumption::in_memory_sessions(4);
            builder = builder.tls_backend_preconfigured(tls);
        }
        if let Transport::Socks(addr) = &self.transport {
            // Tor isolates streams by SOCKS credentials (IsolateSOCKSAuth):
            // one identity per site keeps the sites' circuits apart.
            let mut proxy_url = Url::parse(&format!("socks5h://{addr}")).map_err(|e| {
                CrawlError::new(
                    format!("socks5h://{addr}"),
                    CrawlErrorKind::Transport {
                        message: e.to_string(),
                    },
                )
            })?;
            let _ = proxy_url.set_username(&username);
            let _ = proxy_url.set_password(Some("leakwatch"));
            let proxy = reqwest::Proxy::all(proxy_url.as_str()).map_err(|e| {
                CrawlError::new(
                    format!("socks5h://{addr}"),
                    CrawlErrorKind::Transport {
                        message: e.to_string(),
                    },
                )
            })?;
            builder = builder.proxy(proxy);
        }
        let client = builder.build().map_err(|e| {
            CrawlError::new(
                profile.rules().base_url.to_string(),
                CrawlErrorKind::Transport {
                    message: format!("cannot build the HTTP client: {}", error_chain(&e)),
                },
            )
        })?;
        let site = Arc::new(SiteClient {
            client: Some(client),
            gate,
            jar,
            session,
            built_from,
        });
        sites.insert(profile.rules().name.clone(), site.clone());
        Ok(site)
    }

    /// Fetches `url` of `profile`'s site once (no validators): the simple
    /// form for tools and the one-off crawl.
    pub async fn fetch(&self, profile: &SiteProfile, url: &Url) -> Result<FetchedPage, CrawlError> {
        let url =
            CanonicalUrl::new(url.clone(), &profile.rules().links.url_rules).map_err(|e| {
                CrawlError::new(
                    url.to_string(),
                    CrawlErrorKind::Refused {
                        reason: e.to_string(),
                    },
                )
            })?;
        match self
            .fetch_conditional(profile, &url, &Validators::default())
            .await
        {
            Ok(FetchOutcome::Page(page)) => Ok(*page),
            Ok(FetchOutcome::NotModified) => Err(CrawlError::new(
                url.to_string(),
                CrawlErrorKind::Status { status: 304 },
            )),
            Err(f) => Err(f.error),
        }
    }

    /// Fetches `url`, sending `validators` for a conditional GET. Every
    /// request, redirect hops included, waits for the site's gate.
    pub async fn fetch_conditional(
        &self,
        profile: &SiteProfile,
        url: &CanonicalUrl,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchFailure> {
        if self.transport == Transport::Direct
            && url
                .as_url()
                .host_str()
                .is_some_and(|h| h.ends_with(".onion"))
        {
            return Err(CrawlError::new(
url.to_string(),
CrawlErrorKind::Refused { reason: "an .onion address cannot be reached with tor = \"off\"; configure tor = { socks = \"127.0.0.1:9050\" }".into(), },
)
            .into());
        }
        let site = self.site(profile)?;
        let client = site
            .client
            .clone()
            .expect("site() returns a site with its client");
        // On a mirror: the same page at the mirror's address.
        let root = self.root(profile);
        let first = if root == 0 {
            url.clone()
        } else {
            CanonicalUrl::new(
                profile.rules().on_root(url.as_url(), root),
                &profile.rules().links.url_rules,
            )
            .map_err(|e| {
                CrawlError::new(
                    url.to_string(),
                    CrawlErrorKind::Refused {
                        reason: e.to_string(),
                    },
                )
            })?
        };
        let mut current = first.clone();
        let mut visited: HashSet<CanonicalUrl> = HashSet::from([first]);
        for _hop in 0..=self.options.max_redirects {
            let turn = site.gate.wait_turn_within(&self.in_flight).await;
            let total = self.options.request_timeout;
            let attempt = self.request(&client, profile, &current, validators);
            let hop = tokio::time::timeout(total, attempt).await;
            drop(turn);
            let hop = match hop {
                Ok(result) => result?,
                Err(_) => {
                    return Err(CrawlError::new(
                        current.to_string(),
                        CrawlErrorKind::Timeout {
                            phase: "request",
                            secs: total.as_secs_f64(),
                        },
                    )
                    .into())
                }
            };
            match hop {
                // A page fetched from a mirror (ours, or one a redirect led
                // to) keeps its URL under base_url.
                Hop::Done(FetchOutcome::Page(mut page)) => {
                    page.url = profile.rules().to_primary(page.url.clone());
                    if let Some(capture) = Arc::get_mut(&mut page.capture) {
                        capture.requested_url = url.to_string();
                    }
                    return Ok(FetchOutcome::Page(page));
                }
                Hop::Done(outcome) => return Ok(outcome),
                Hop::Redirect(location) => {
                    let target = current.as_url().join(&location).map_err(|_| {
                        CrawlError::new(
                            current.to_string(),
                            CrawlErrorKind::Refused {
                                reason: format!("redirect to an invalid URL {location:?}"),
                            },
                        )
                    })?;
                    if profile
                        .session()
                        .login_url
                        .as_ref()
                        .is_some_and(|r| r.is_match(target.as_str()))
                    {
                        return Err(
                            CrawlError::new(url.to_string(), CrawlErrorKind::LoggedOut).into()
                        );
                    }
                    let target = CanonicalUrl::new(target, &profile.rules().links.url_rules)
                        .map_err(|e| {
                            CrawlError::new(
                                current.to_string(),
                                CrawlErrorKind::OffSiteRedirect {
                                    target: e.to_string(),
                                },
                            )
                        })?;
                    if !profile.rules().contains_any(target.as_url()) {
                        return Err(CrawlError::new(
                            current.to_string(),
                            CrawlErrorKind::OffSiteRedirect {
                                target: target.to_string(),
                            },
                        )
                        .into());
                    }
                    if !visited.insert(target.clone()) {
                        return Err(CrawlError::new(
                            url.to_string(),
                            CrawlErrorKind::RedirectLoop {
                                target: target.to_string(),
                            },
                        )
                        .into());
                    }
                    current = target;
                }
            }
        }
        Err(CrawlError::new(
            url.to_string(),
            CrawlErrorKind::TooManyRedirects {
                limit: self.options.max_redirects,
            },
        )
        .into())
    }

    /// One request, body included.
    async fn request(
        &self,
        client: &reqwest::Client,
        profile: &SiteProfile,
        url: &CanonicalUrl,
        validators: &Validators,
    ) -> Result<Hop, FetchFailure> {
        let transport_err = |e: reqwest::Error| -> FetchFailure {
            if e.is_timeout() {
                CrawlError::new(
                    url.to_string(),
                    CrawlErrorKind::Timeout {
                        phase: if e.is_connect() { "connect" } else { "read" },
                        secs: if e.is_connect() {
                            self.options.connect_timeout.as_secs_f64()
                        } else {
                            self.options.read_timeout.as_secs_f64()
                        },
                    },
                )
            } else {
                CrawlError::new(
                    url.to_string(),
                    CrawlErrorKind::Transport {
                        message: error_chain(&e),
                    },
                )
            }
            .into()
        };
        let started = Instant::now();
        let mut response = client
            .get(url.as_url().clone())
            .headers(request_headers(profile, &self.options, validators))
            .send()
            .await
            .map_err(transport_err)?;
        let status = response.status();
        let headers = response.headers();
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        if status.is_redirection() && status.as_u16() != 304 {
            return match header(LOCATION) {
                Some(location) => Ok(Hop::Redirect(location)),
                None => Err(CrawlError::new(
                    url.to_string(),
                    CrawlErrorKind::Status {
                        status: status.as_u16(),
                    },
                )
                .into()),
            };
        }
        if status.as_u16() == 304 {
            return Ok(Hop::Done(FetchOutcome::NotModified));
        }
        if !status.is_success() {
            let retry_after = header(RETRY_AFTER)
                .and_then(|v| parse_retry_after(&v, Utc::now(), self.options.max_retry_after));
            return Err(FetchFailure {
                error: CrawlError::new(
                    url.to_string(),
                    CrawlErrorKind::Status {
                        status: status.as_u16(),
                    },
                ),
                retry_after,
            });
        }
        let captured_headers: Vec<(String, String)> = CAPTURED_HEADERS
            .iter()
            .flat_map(|name| {
                headers.get_all(name).iter().map(move |v| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
            })
            .collect();
        let content_type = header(CONTENT_TYPE);
        if let Some(ct) = &content_type {
            if !is_page_type(ct) {
                return Err(CrawlError::new(
                    url.to_string(),
                    CrawlErrorKind::ContentType {
                        content_type: ct.clone(),
                    },
                )
                .into());
            }
        }
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        let limit = self.options.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(
                CrawlError::new(url.to_string(), CrawlErrorKind::TooLarge { limit }).into(),
            );
        }
        let floor = profile
            .min_transfer_rate()
            .or(self.options.min_transfer_rate)
            .filter(|f| f.bytes_per_sec > 0 && !f.window.is_zero());
        let mut watch = floor.map(|f| RateWatch::new(f, Instant::now()));
        // The body takes its bytes from the budget before it holds them:
        // the announced length at once, else a first share, then doubling.
        let mut lease = self.in_flight.body_lease();
        let first = response.content_length().unwrap_or(FIRST_SHARE).min(limit);
        let mut room = lease.hold(first).await;
        let mut body: Vec<u8> = Vec::with_capacity(room.min(first) as usize);
        loop {
            let chunk = match watch.as_mut() {
                None => response.chunk().await,
                Some(w) => {
                    let check_at = tokio::time::Instant::from_std(w.next_check(Instant::now()));
                    match tokio::time::timeout_at(check_at, response.chunk()).await {
                        Ok(chunk) => chunk,
                        // No byte since the last look: is the window's total
                        // still above the floor?
                        Err(_) => match w.too_slow(Instant::now()) {
                            Some(received) => {
                                return Err(w.error(url, received).into());
                            }
                            None => continue,
                        },
                    }
                }
            };
            let Some(chunk) = chunk.map_err(transport_err)? else {
                break;
            };
            if let Some(w) = watch.as_mut() {
                let now = Instant::now();
                w.record(now, chunk.len());
                if let Some(received) = w.too_slow(now) {
                    return Err(w.error(url, received).into());
                }
            }
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(
                    CrawlError::new(url.to_string(), CrawlErrorKind::TooLarge { limit }).into(),
                );
            }
            let len = (body.len() + chunk.len()) as u64;
            if len > room {
                room = lease.hold(len.max(room * 2).min(limit)).await;
            }
            if len > body.capacity() as u64 {
                body.reserve_exact((room.min(limit).max(len) - body.len() as u64) as usize);
            }
            body.extend_from_slice(&chunk);
            if content_type.is_none() && body.len() >= 512 && looks_binary(&body) {
                break;
            }
        }
        if content_type.is_none() && looks_binary(&body) {
            return Err(CrawlError::new(
                url.to_string(),
                CrawlErrorKind::ContentType {
                    content_type: "(none; the body is binary)".into(),
                },
            )
            .into());
        }
        let decoded = decode_html(&body, content_type.as_deref(), profile.rules().encoding);
        tracing::debug!(
            site = %profile.rules().name,
            url = %url,
            status = status.as_u16(),
            bytes = body.len(),
            ms = started.elapsed().as_millis() as u64,
            encoding = decoded.encoding.name(),
            "fetched"
        );
        let fetched_at = Utc::now();
        let capture = PageCapture {
            requested_url: String::new(), // the first hop's, set by the caller
            final_url: url.to_string(),
            status: status.as_u16(),
            headers: captured_headers,
            fetched_at,
            transport: match &self.transport {
                Transport::Direct => "direct".to_owned(),
                Transport::Socks(addr) => format!("socks5h://{addr}"),
            },
            identity: match &self.transport {
                Transport::Direct => None,
                Transport::Socks(_) => Some(self.socks_username(&profile.rules().name)),
            },
            encoding: decoded.encoding.name().to_owned(),
            body: Arc::from(body),
        };
        Ok(Hop::Done(FetchOutcome::Page(Box::new(FetchedPage {
            url: url.as_url().clone(),
            status: status.as_u16(),
            bytes: capture.body.len(),
            decoded,
            fetched_at,
            etag,
            last_modified,
            capture: Arc::new(capture),
            _budget: Arc::new(lease),
        }))))
    }
}

enum Hop {
    Done(FetchOutcome),
    Redirect(String),
}

/// TLS settings for every site's client, as reqwest would make them (the
/// platform's verifier and root certificates, HTTP/1.1), built once: each
/// client building its own holds its own copy of the roots, about 100 KiB a
/// site. `None` (each client on its own) when the platform has no roots.
fn shared_tls() -> Option<rustls::ClientConfig> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = match rustls_platform_verifier::Verifier::new(provider.clone()) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "no shared TLS verifier; each site's client loads its own");
            return None;
        }
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(config)
}

/// Tells a site's gate when one of its connections is opening and when it
/// has opened (its request leaves then, not at its turn): a layer around
/// the client's connector, through SOCKS and Tor included.
#[derive(Clone)]
struct ConnectWatch {
    gate: Arc<SiteGate>,
}

impl<S> tower_layer::Layer<S> for ConnectWatch {
    type Service = WatchedConnector<S>;

    fn layer(&self, inner: S) -> WatchedConnector<S> {
        WatchedConnector {
            inner,
            gate: self.gate.clone(),
        }
    }
}

#[derive(Clone)]
struct WatchedConnector<S> {
    inner: S,
    gate: Arc<SiteGate>,
}

impl<S, R> tower_service::Service<R> for WatchedConnector<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, target: R) -> Self::Future {
        let opening = self.gate.connection_opening();
        let connecting = self.inner.call(target);
        Box::pin(async move {
            let connection = connecting.await;
            if connection.is_ok() {
                opening.opened();
            }
            connection
        })
    }
}

/// Samples closer together than this are merged (into the earlier one), so
/// a body sent in tiny chunks keeps a few hundred samples at most; the
/// window a check sees may end up this much shorter.
const RATE_SAMPLE_SPACING: Duration = Duration::from_millis(100);

/// Watches one response against a [`RateFloor`]: the body bytes received in
/// the last window, from arrival times sampled as chunks come in. Pure:
/// times are given, never read, so tests step a clock by hand.
#[derive(Debug)]
struct RateWatch {
    floor: RateFloor,
    started: Instant,
    received: u64,
    /// `(time, bytes received by then)`, oldest first; the oldest is kept at
    /// or before the start of the current window.
    samples: VecDeque<(Instant, u64)>,
}

impl RateWatch {
    fn new(floor: RateFloor, started: Instant) -> RateWatch {
        RateWatch {
            floor,
            started,
            received: 0,
            samples: VecDeque::from([(started, 0)]),
        }
    }

    fn record(&mut self, now: Instant, bytes: usize) {
        self.received += bytes as u64;
        let merge = self.samples.len() > 1;
        match self.samples.back_mut() {
            Some(last) if merge && now.saturating_duration_since(last.0) < RATE_SAMPLE_SPACING => {
                last.1 = self.received
            }
            _ => self.samples.push_back((now, self.received)),
        }
    }

    /// The bytes of the last window when a whole window has passed and they
    /// fall short of the floor; `None` while the transfer is fast enough.
    fn too_slow(&mut self, now: Instant) -> Option<u64> {
        let window_start = now.checked_sub(self.floor.window)?;
        if window_start < self.started {
            return None;
        }
        while self.samples.len() > 1 && self.samples[1].0 <= window_start {
            self.samples.pop_front();
        }
        let before = self.samples.front().map_or(0, |s| s.1);
        let in_window = self.received - before;
        ((in_window as f64) < self.floor.bytes_per_window()).then_some(in_window)
    }

    /// When to look again if no byte comes: the end of the first window,
    /// then every quarter window (at most a second apart).
    fn next_check(&self, now: Instant) -> Instant {
        let step = (self.floor.window / 4).min(Duration::from_secs(1));
        (self.started + self.floor.window).max(now + step)
    }

    fn error(&self, url: &CanonicalUrl, received: u64) -> CrawlError {
        CrawlError::new(
            url.to_string(),
            CrawlErrorKind::TooSlow {
                received,
                window_secs: self.floor.window.as_secs_f64(),
                floor: self.floor.bytes_per_sec,
            },
        )
    }
}

fn request_headers(
    profile: &SiteProfile,
    options: &FetchOptions,
    validators: &Validators,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let ua = profile.user_agent().unwrap_or(&options.user_agent);
    if let Ok(v) = HeaderValue::from_str(ua) {
        headers.insert(USER_AGENT, v);
    }
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"),
    );
    headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en-US,en;q=0.5"));
    for (k, v) in profile.headers() {
        if let (Ok(k), Ok(mut v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v.expose()),
        ) {
            v.set_sensitive(true);
            headers.insert(k, v);
        }
    }
    if let Some(v) = validators
        .etag
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        headers.insert(IF_NONE_MATCH, v);
    }
    if let Some(v) = validators
        .last_modified
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        headers.insert(IF_MODIFIED_SINCE, v);
    }
    headers
}

/// The allow-list: HTML, XHTML and plain text.
fn is_page_type(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        mime.as_str(),
        "text/html" | "application/xhtml+xml" | "text/plain" | ""
    )
}

/// Whether a body is not text (for a response without a content type, and for
/// `leakwatch extract` on a saved file): the magic number of an archive, image,
/// executable or document, a NUL byte, or more than 2 % control characters
/// (other than tab, line breaks, form feed and the escape of ISO-2022-JP) in
/// the first 4 KiB — no text encoding a page uses (UTF-8, GBK, Big5,
/// Shift_JIS, EUC, windows-125x) puts those in text.
pub fn looks_binary(body: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"PK\x03\x04",
        b"%PDF",
        b"GIF8",
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"7z\xBC\xAF",
        b"Rar!",
        b"\x1F\x8B",
        b"MZ",
        b"\x7FELF",
    ];
    let head = &body[..body.len().min(512)];
    if MAGIC.iter().any(|m| head.starts_with(m)) || head.contains(&0) {
        return true;
    }
    let sample = &body[..body.len().min(4096)];
    let controls = sample
        .iter()
        .filter(|&&b| {
            (b < 0x20 && !matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0x1B)) || b == 0x7F
        })
        .count();
    controls >= 4 && controls * 50 > sample.len()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_allow_list() {
        for ok in [
            "text/html; charset=gbk",
            "TEXT/HTML",
            "application/xhtml+xml",
            "text/plain",
            "",
        ] {
            assert!(is_page_type(ok), "{ok}");
        }
        for bad in [
            "application/octet-stream",
            "image/jpeg",
            "application/zip",
            "text/javascript",
            "application/pdf",
        ] {
            assert!(!is_page_type(bad), "{bad}");
        }
    }

    #[test]
    fn a_trickle_is_too_slow_once_a_whole_window_has_passed() {
        let floor = RateFloor {
            bytes_per_sec: 100,
            window: Duration::from_secs(10),
        };
        let t0 = Instant::now();
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        // One byte every 5 s: fine until the first window ends, then slow.
        let mut w = RateWatch::new(floor, t0);
        for s in [5.0, 9.9] {
            w.record(at(s), 1);
            assert_eq!(w.too_slow(at(s)), None, "at {s} s");
        }
        assert_eq!(w.next_check(at(9.9)), at(10.9));
        assert_eq!(w.too_slow(at(10.0)), Some(2));
        // 1000 bytes in the first 10 s pass; the window then slides.
        let mut w = RateWatch::new(floor, t0);
        w.record(at(1.0), 1000);
        assert_eq!(w.too_slow(at(10.0)), None);
        assert_eq!(w.too_slow(at(10.9)), None);
        w.record(at(11.0), 10);
        assert_eq!(
            w.too_slow(at(11.0)),
            Some(10),
            "the 1000 bytes left the window"
        );
        // A fast start followed by silence: slow one window after the last burst.
        let mut w = RateWatch::new(floor, t0);
        for i in 0..50 {
            w.record(at(f64::from(i) * 0.01), 100);
        }
        assert_eq!(w.too_slow(at(10.3)), None);
        assert!(w.too_slow(at(10.6)).is_some());
        assert!(w.samples.len() <= 2, "{} samples kept", w.samples.len());
        assert_eq!(w.next_check(at(0.0)), at(10.0));
    }

    #[test]
    fn binary_sniffing() {
        assert!(looks_binary(b"PK\x03\x04rest"));
        assert!(looks_binary(b"\x7FELF\x02\x01"));
        assert!(looks_binary(b"<html>\0</html>"));
        assert!(!looks_binary("<html><body>出售</body></html>".as_bytes()));
        // Random bytes without a NUL in the first 512 still have ~10 % controls.
        let mut x: u32 = 0x2545_F491;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8 | 1
            })
            .collect();
        assert!(!noise[..512].contains(&0));
        assert!(looks_binary(&noise));
        // ISO-2022-JP escapes and a stray control or two are still text.
        assert!(!looks_binary(b"<p>\x1B$B%F%9%H\x1B(B</p>\x01\x02 ok"));
        let (gbk, _, _) = encoding_rs::GBK.encode("<p>出售三菱日联网银，价格私聊</p>");
        assert!(!looks_binary(&gbk));
    }
}
