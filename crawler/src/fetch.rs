//! Fetching one page politely and safely: per-site rate limit (governor),
//! timeouts, redirect limit, content-type allow-list, a body cap enforced
//! while streaming (so a decompression bomb stops at the cap too), retries
//! with backoff for transient failures.
//!
//! Never logs cookies or header values from a profile.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use url::Url;

use crate::charset::{decode_html, Decoded};
use crate::error::CrawlError;
use crate::profile::SiteProfile;

/// How requests leave the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Straight to the site; refused for `.onion` hosts.
    Direct,
    /// Through an external Tor SOCKS5 proxy, DNS included (`socks5h`).
    Socks(SocketAddr),
}

/// Limits of every fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Cap on the (decompressed) body; the fetch fails past it.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Further attempts after a transient failure.
    pub retries: u32,
    /// First backoff delay; doubles each retry, with jitter.
    pub backoff: Duration,
    pub user_agent: String,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            retries: 2,
            backoff: Duration::from_secs(2),
            user_agent: "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
                .to_owned(),
        }
    }
}

/// A fetched and decoded page.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The final URL after redirects.
    pub url: Url,
    pub status: u16,
    pub decoded: Decoded,
    pub bytes: usize,
    pub fetched_at: DateTime<Utc>,
}

/// Fetches pages through one transport, rate-limited per site.
pub struct Fetcher {
    client: reqwest::Client,
    transport: Transport,
    options: FetchOptions,
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

impl Fetcher {
    /// Builds the HTTP client for `transport`.
    pub fn new(transport: Transport, options: FetchOptions) -> Result<Fetcher, CrawlError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::limited(options.max_redirects))
            .cookie_store(true)
            .no_proxy();
        if let Transport::Socks(addr) = &transport {
            let proxy = reqwest::Proxy::all(format!("socks5h://{addr}")).map_err(|e| {
                CrawlError::Transport {
                    url: format!("socks5h://{addr}"),
                    message: e.to_string(),
                }
            })?;
            builder = builder.proxy(proxy);
        }
        let client = builder.build().map_err(|e| CrawlError::Transport {
            url: String::new(),
            message: format!("cannot build the HTTP client: {e}"),
        })?;
        Ok(Fetcher {
            client,
            transport,
            options,
            limiters: Mutex::new(HashMap::new()),
        })
    }

    fn limiter(&self, profile: &SiteProfile) -> Arc<DefaultDirectRateLimiter> {
        let mut map = self
            .limiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(profile.name.clone())
            .or_insert_with(|| {
                let quota = Quota::per_minute(profile.rate_limit.per_minute)
                    .allow_burst(profile.rate_limit.burst);
                Arc::new(RateLimiter::direct(quota))
            })
            .clone()
    }

    /// Fetches `url` of `profile`'s site, waiting for the site's rate limit
    /// before each attempt and retrying transient failures.
    pub async fn fetch(&self, profile: &SiteProfile, url: &Url) -> Result<FetchedPage, CrawlError> {
        if self.transport == Transport::Direct
            && url.host_str().is_some_and(|h| h.ends_with(".onion"))
        {
            return Err(CrawlError::Refused {
                url: url.to_string(),
                reason: "an .onion address cannot be reached with tor = \"off\"; configure tor = { socks = \"127.0.0.1:9050\" }".into(),
            });
        }
        let limiter = self.limiter(profile);
        let mut attempt = 0;
        loop {
            limiter.until_ready().await;
            match self.fetch_once(profile, url).await {
                Ok(page) => return Ok(page),
                Err((err, retry_after)) if err.is_transient() && attempt < self.options.retries => {
                    let delay =
                        retry_after.unwrap_or_else(|| backoff(self.options.backoff, attempt));
                    tracing::warn!(site = %profile.name, %url, error = %err, attempt, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err((err, _)) => return Err(err),
            }
        }
    }

    async fn fetch_once(
        &self,
        profile: &SiteProfile,
        url: &Url,
    ) -> Result<FetchedPage, (CrawlError, Option<Duration>)> {
        let transport_err = |e: reqwest::Error| {
            (
                CrawlError::Transport {
                    url: url.to_string(),
                    message: error_chain(&e),
                },
                None,
            )
        };
        let mut headers = HeaderMap::new();
        let ua = profile
            .user_agent
            .as_deref()
            .unwrap_or(&self.options.user_agent);
        if let Ok(v) = HeaderValue::from_str(ua) {
            headers.insert(USER_AGENT, v);
        }
        for (k, v) in &profile.headers {
            if let (Ok(k), Ok(mut v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                v.set_sensitive(true);
                headers.insert(k, v);
            }
        }
        let started = std::time::Instant::now();
        let mut response = self
            .client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(transport_err)?;
        let status = response.status().as_u16();
        let final_url = response.url().clone();
        if !response.status().is_success() {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(3600)));
            return Err((
                CrawlError::Status {
                    url: url.to_string(),
                    status,
                },
                retry_after,
            ));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(ct) = &content_type {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if !(mime.starts_with("text/") || mime == "application/xhtml+xml" || mime.is_empty()) {
                return Err((
                    CrawlError::ContentType {
                        url: url.to_string(),
                        content_type: ct.clone(),
                    },
                    None,
                ));
            }
        }
        let limit = self.options.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err((
                CrawlError::TooLarge {
                    url: url.to_string(),
                    limit,
                },
                None,
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_err)? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err((
                    CrawlError::TooLarge {
                        url: url.to_string(),
                        limit,
                    },
                    None,
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let decoded = decode_html(&body, content_type.as_deref(), profile.encoding);
        tracing::debug!(site = %profile.name, url = %final_url, status, bytes = body.len(), ms = started.elapsed().as_millis() as u64, encoding = decoded.encoding.name(), "fetched");
        Ok(FetchedPage {
            url: final_url,
            status,
            bytes: body.len(),
            decoded,
            fetched_at: Utc::now(),
        })
    }
}

/// Exponential backoff with ±25 % jitter.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.min(10));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = 0.75 + f64::from(nanos % 1000) / 2000.0;
    exp.mul_f64(jitter)
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
