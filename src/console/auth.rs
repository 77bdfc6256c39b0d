//! Who is calling: a bearer token (API clients) or a session cookie (the
//! browser, after exchanging a token at `/login`), failed attempts limited
//! per address, and the CSRF check of session requests that change state.
//! Token values and session ids are never logged.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::access::{constant_time_eq, Principal};
use crate::console::api::json_error;
use crate::console::ConsoleState;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "lw_session";

/// The header an API call made with a session cookie carries its CSRF
/// token in (bearer calls need none: nothing ambient authenticates them).
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Failed attempts an address may make per window.
const MAX_FAILURES: u32 = 10;
/// The window failed attempts are counted over.
const FAILURE_WINDOW: Duration = Duration::from_secs(300);

/// Failed logins (and bad bearer tokens) per address.
#[derive(Default)]
pub(crate) struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginLimiter {
    /// Whether `ip` may try now.
    pub(crate) fn allows(&self, ip: IpAddr, now: Instant) -> bool {
        let map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&ip) {
            Some((n, since)) => *n < MAX_FAILURES || now.duration_since(*since) >= FAILURE_WINDOW,
            None => true,
        }
    }

    /// Counts a failed attempt from `ip`.
    pub(crate) fn failed(&self, ip: IpAddr, now: Instant) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FAILURE_WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub principal: Principal,
    /// The session's CSRF token when the call came with the session cookie.
    pub session_csrf: Option<String>,
}

impl Caller {
    /// For a session call that changes state: the CSRF token presented
    /// (form field or header) must be the session's. The refusal, if not.
    pub(crate) fn csrf_refusal(&self, presented: Option<&str>) -> Option<Response> {
        match &self.session_csrf {
            None => None,
            Some(csrf) if presented.is_some_and(|p| constant_time_eq(p, csrf)) => None,
            Some(_) => Some(json_error(
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token: reload the page and try again",
            )),
        }
    }
}

/// The caller's address (the connection's peer).
pub(crate) fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
}

/// The value of cookie `name`, if sent.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// How a request authenticated, before checking it.
enum Credential {
    Bearer(String),
    Session(String),
}

fn credential(headers: &HeaderMap) -> Option<Credential> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or("");
        return Some(Credential::Bearer(token.trim().to_owned()));
    }
    cookie(headers, SESSION_COOKIE).map(|s| Credential::Session(s.to_owned()))
}

/// Resolves the request's credential; `Ok(None)` when it has none.
pub(crate) async fn authenticate(
    state: &ConsoleState,
    parts: &Parts,
) -> Result<Option<Caller>, Response> {
    let Some(credential) = credential(&parts.headers) else {
        return Ok(None);
    };
    let ip = peer(parts);
    if !state.limiter.allows(ip, Instant::now()) {
        return Err(json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed attempts from this address; wait five minutes",
        ));
    }
    let reader = state.clone();
    let found = tokio::task::spawn_blocking(move || match credential {
        Credential::Bearer(token) => reader.authenticate(&token).map(|p| {
            p.map(|principal| Caller {
                principal,
                session_csrf: None,
            })
        }),
        Credential::Session(id) => reader.session(&id).map(|s| {
            s.map(|s| Caller {
                principal: s.principal,
                session_csrf: Some(s.csrf),
            })
        }),
    })
    .await;
    match found {
        Ok(Ok(Some(caller))) => Ok(Some(caller)),
        Ok(Ok(None)) => {
            state.limiter.failed(ip, Instant::now());
            Err(json_error(
                StatusCode::UNAUTHORIZED,
                "token unknown, expired or revoked (or the session ended): log in again",
            ))
        }
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "console: state store failed");
            Err(json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "state store failed",
            ))
        }
        Err(_) => Err(json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "state store failed",
        )),
    }
}

impl FromRequestParts<ConsoleState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Caller, Response> {
        match authenticate(state, parts).await? {
            Some(caller) => Ok(caller),
            None => Err((
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                json_error(
                    StatusCode::UNAUTHORIZED,
                    "send Authorization: Bearer lw_… (a token from `leakwatch token create`)",
                ),
            )
                .into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_limited_per_address_and_window() {
        let limiter = LoginLimiter::default();
        let (a, b) = (IpAddr::from([127, 0, 0, 1]), IpAddr::from([127, 0, 0, 2]));
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.allows(a, t0));
            limiter.failed(a, t0);
        }
        assert!(!limiter.allows(a, t0));
        assert!(limiter.allows(b, t0), "another address is not limited");
        assert!(limiter.allows(a, t0 + FAILURE_WINDOW), "the window passes");
        limiter.failed(a, t0 + FAILURE_WINDOW);
        assert!(
            limiter.allows(a, t0 + FAILURE_WINDOW),
            "counting starts again"
        );
    }

    #[test]
    fn cookies_and_credentials() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; lw_session=abc; lang=ja".parse().expect("header"),
        );
        assert_eq!(cookie(&h, "lw_session"), Some("abc"));
        assert_eq!(cookie(&h, "lang"), Some("ja"));
        assert!(matches!(credential(&h), Some(Credential::Session(s)) if s == "abc"));
        h.insert(
            header::AUTHORIZATION,
            "Bearer lw_x".parse().expect("header"),
        );
        assert!(matches!(credential(&h), Some(Credential::Bearer(t)) if t == "lw_x"));
    }
}
