//! `/api/v1/sites`, `/api/v1/watchlists` and `/api/v1/me`: crawl health
//! (the operator's), watchlists with their validation (one's own), and who
//! the token is.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::console::api::{reply, scoped};
use crate::console::auth::{Caller, CSRF_HEADER};
use crate::console::ConsoleState;

/// The body of a session import.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionBody {
    /// `name=value; other=value`, as a browser's `Cookie` header.
    pub cookies: String,
}

/// POST /api/v1/sites/{site}/session: a person's browser session for a
/// site stopped at a CAPTCHA, a queue or a login (operator analysts).
pub(crate) async fn import_session(
    State(state): State<ConsoleState>,
    caller: Caller,
    headers: HeaderMap,
    Path(site): Path<String>,
    Json(body): Json<SessionBody>,
) -> Response {
    if let Some(r) = caller.csrf_refusal(headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
        return r;
    }
    let result = scoped(&state, &caller.principal, move |s| {
        let names = s.import_session(&site, &body.cookies)?;
        Ok(serde_json::json!({ "site": site, "imported": names }))
    })
    .await;
    reply(result)
}

/// GET /api/v1/sites
pub(crate) async fn sites(State(state): State<ConsoleState>, caller: Caller) -> Response {
    reply(scoped(&state, &caller.principal, |s| s.sites()).await)
}

/// GET /api/v1/watchlists
pub(crate) async fn watchlists(State(state): State<ConsoleState>, caller: Caller) -> Response {
    reply(scoped(&state, &caller.principal, |s| s.watchlists()).await)
}

/// GET /api/v1/me
pub(crate) async fn me(caller: Caller) -> Response {
    let p = &caller.principal;
    Json(serde_json::json!({
        "name": p.name,
        "scope": p.scope.to_string(),
        "role": p.role.as_str(),
    }))
    .into_response()
}
