//! The JSON API's handlers, one module per resource, and what they share:
//! running a store or index call off the async threads, and turning a
//! refusal into a status and a JSON error.

pub(crate) mod alerts;
pub(crate) mod schema;
pub(crate) mod search;
pub(crate) mod sites;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::access::Principal;
use crate::console::scoped::{Refusal, Scoped};
use crate::console::ConsoleState;

/// `{"error": message}` with `status`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::BadRequest(m) => json_error(StatusCode::BAD_REQUEST, &m),
            Refusal::NotFound => json_error(StatusCode::NOT_FOUND, "not found"),
            Refusal::Forbidden(m) => json_error(StatusCode::FORBIDDEN, &m),
            Refusal::Conflict(m) => json_error(StatusCode::CONFLICT, &m),
            Refusal::Failed(e) => {
                tracing::error!(error = %format!("{e:#}"), "console request failed");
                json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server failed; its log says why",
                )
            }
        }
    }
}

/// Runs `f` on the caller's scoped view, on the blocking pool.
pub(crate) async fn scoped<T: Send + 'static>(
    state: &ConsoleState,
    principal: &Principal,
    f: impl FnOnce(&Scoped<'_>) -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    let state = state.clone();
    let principal = principal.clone();
    tokio::task::spawn_blocking(move || f(&Scoped::new(&state, &principal)))
        .await
        .map_err(|e| Refusal::Failed(anyhow::anyhow!("console task failed: {e}")))?
}

/// `T` as JSON, or the refusal.
pub(crate) fn reply<T: serde::Serialize>(result: Result<T, Refusal>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}
