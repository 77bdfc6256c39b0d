//! `/api/v1/search` and `/api/v1/documents/{id}`: the collected listings,
//! searched in `leakwatch search`'s query language, with highlighted
//! snippets and facet counts.

use axum::extract::{Path, Query, State};
use axum::response::Response;

use crate::console::api::{reply, scoped};
use crate::console::auth::Caller;
use crate::console::scoped::SearchQuery;
use crate::console::ConsoleState;

/// GET /api/v1/search
pub(crate) async fn search(
    State(state): State<ConsoleState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Response {
    reply(scoped(&state, &caller.principal, move |s| s.search(&query)).await)
}

/// GET /api/v1/documents/{id}
pub(crate) async fn document(
    State(state): State<ConsoleState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    reply(scoped(&state, &caller.principal, move |s| s.document(&id)).await)
}
