//! `/api/v1/sites`, `/api/v1/watchlists` and `/api/v1/me`: crawl health
//! (the operator's), watchlists with their validation (one's own), and who
//! the token is.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::console::api::{reply, scoped};
use crate::console::auth::Caller;
use crate::console::ConsoleState;

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
