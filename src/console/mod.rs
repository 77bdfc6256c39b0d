//! The analyst console: a JSON API (`/api/v1/…`) and server-rendered pages
//! (askama templates, htmx) over the state store and the index, served by
//! `leakwatch serve` or beside the crawl by `leakwatch run` (`[api]
//! listen`). Authorization happens in one place ([`scoped::Scoped`]); every
//! response carries a strict Content-Security-Policy, and crawled text is
//! only ever escaped text.

mod api;
mod auth;
mod html;
mod i18n;
mod marks;
mod reads;
mod routes;
mod scoped;
mod ui;

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use indexer::{DocumentIndex, IndexError};

use crate::alert_store::AlertStore;

/// The Content-Security-Policy of every response: nothing but our own
/// scripts, styles and images, no inline script, no plugins, no framing.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// How stale the index reader may be before a request reloads it.
const INDEX_RELOAD: Duration = Duration::from_secs(1);

/// What the console serves from.
pub(crate) struct ConsoleConfig {
    pub store: AlertStore,
    pub index_dir: PathBuf,
    /// The watchlists folder, when known (`run`'s config, `serve --watchlists`).
    pub watchlists: Option<PathBuf>,
    /// Set the cookie's `Secure` flag (behind a TLS-terminating proxy).
    pub secure_cookies: bool,
}

/// Shared by every request.
#[derive(Clone)]
pub(crate) struct ConsoleState(Arc<Inner>);

pub(crate) struct Inner {
    /// The console's writes: triage, sessions, a token's last use.
    store: AlertStore,
    /// The console's reads, beside any writer.
    readers: reads::Readers,
    index_dir: PathBuf,
    index: RwLock<Option<IndexSlot>>,
    watchlists: Option<PathBuf>,
    limiter: auth::LoginLimiter,
    secure_cookies: bool,
}

struct IndexSlot {
    index: DocumentIndex,
    reloaded: Instant,
}

impl Deref for ConsoleState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl ConsoleState {
    pub(crate) fn new(config: ConsoleConfig) -> ConsoleState {
        ConsoleState(Arc::new(Inner {
            readers: reads::Readers::new(&config.store),
            store: config.store,
            index_dir: config.index_dir,
            index: RwLock::new(None),
            watchlists: config.watchlists,
            limiter: auth::LoginLimiter::default(),
            secure_cookies: config.secure_cookies,
        }))
    }

    /// Runs `f` on one of the console's own read connections to the state
    /// store (never waiting behind a writer).
    fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.readers.read(f)
    }

    /// The live session with this id, read beside any writer.
    pub(crate) fn session(&self, id: &str) -> anyhow::Result<Option<crate::access::Session>> {
        self.read(|db| crate::access::live_session(db, id, chrono::Utc::now()))
    }

    /// The principal of a presented token, read beside any writer; its
    /// last use is recorded through the store (at most once a minute).
    pub(crate) fn authenticate(
        &self,
        token: &str,
    ) -> anyhow::Result<Option<crate::access::Principal>> {
        let now = chrono::Utc::now();
        let Some((principal, due)) = self.read(|db| crate::access::live_token(db, token, now))?
        else {
            return Ok(None);
        };
        if due {
            self.store.touch_token(principal.token_id, now)?;
        }
        Ok(Some(principal))
    }

    /// Runs `f` on an index reader at most a second behind the last commit;
    /// `None` when there is no index yet.
    fn with_index<T>(
        &self,
        f: impl FnOnce(&DocumentIndex) -> anyhow::Result<T>,
    ) -> anyhow::Result<Option<T>> {
        let fresh = {
            let slot = self.index.read().unwrap_or_else(PoisonError::into_inner);
            slot.as_ref()
                .is_some_and(|s| s.reloaded.elapsed() < INDEX_RELOAD)
        };
        if !fresh {
            let mut slot = self.index.write().unwrap_or_else(PoisonError::into_inner);
            match slot.as_mut() {
                Some(s) if s.reloaded.elapsed() < INDEX_RELOAD => {}
                Some(s) => {
                    s.index.reload().with_context(|| {
                        format!("{}: cannot reload the index", self.index_dir.display())
                    })?;
                    s.reloaded = Instant::now();
                }
                None => match DocumentIndex::open(&self.index_dir) {
                    Ok(index) => {
                        *slot = Some(IndexSlot {
                            index,
                            reloaded: Instant::now(),
                        })
                    }
                    Err(IndexError::Missing { .. }) => return Ok(None),
                    Err(e) => {
                        return Err(anyhow::Error::from(e).context(format!(
                            "{}: cannot open the index (run `leakwatch search` once to upgrade it)",
                            self.index_dir.display()
                        )))
                    }
                },
            }
        }
        let slot = self.index.read().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().map(|s| f(&s.index)).transpose()
    }
}

/// The console's routes: the API from the route table, the pages, the
/// embedded assets; security headers on every response.
pub(crate) fn router(state: ConsoleState) -> Router {
    routes::api_router()
        .merge(ui::router())
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves the console on `addr` until the task is dropped; returns the
/// bound address (port 0 picks one).
pub(crate) async fn serve(
    addr: SocketAddr,
    state: ConsoleState,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("console: cannot listen on {addr} (in use? change [api] listen or --listen)")
    })?;
    let bound = listener.local_addr().context("console listener address")?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "console server stopped");
        }
    });
    Ok((bound, task))
}

/// The security headers of every response, and `Server-Timing` (the time
/// the server spent, which the benchmark reads).
async fn security_headers(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        h.insert("server-timing", v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
