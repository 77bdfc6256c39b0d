//! `/api/v1/alerts`: the queue with its filters, one alert with everything
//! known of it, and triage moves (one alert or many).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::console::api::{reply, scoped};
use crate::console::auth::{Caller, CSRF_HEADER};
use crate::console::scoped::{AlertQuery, Refusal};
use crate::console::ConsoleState;
use crate::triage::NotMoved;

/// GET /api/v1/alerts
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    caller: Caller,
    Query(query): Query<AlertQuery>,
) -> Response {
    reply(scoped(&state, &caller.principal, move |s| s.alerts(&query)).await)
}

/// GET /api/v1/alerts/{id}
pub(crate) async fn one(
    State(state): State<ConsoleState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Response {
    reply(scoped(&state, &caller.principal, move |s| s.alert(id)).await)
}

/// GET /api/v1/alerts/{id}/evidence: the page the alert was raised on,
/// as received, in a ZIP with its text, metadata and a `sha256sum -c`
/// manifest.
pub(crate) async fn evidence(
    State(state): State<ConsoleState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Response {
    match scoped(&state, &caller.principal, move |s| s.evidence_bundle(id)).await {
        Ok(zip) => (
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"evidence-{id}.zip\""),
                ),
            ],
            zip,
        )
            .into_response(),
        Err(r) => r.into_response(),
    }
}

/// The body of a status change.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    pub status: String,
    #[serde(default)]
    pub note: String,
}

/// The body of a bulk status change.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkStatusBody {
    pub ids: Vec<i64>,
    pub status: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, serde::Serialize)]
struct NotMovedJson {
    id: i64,
    reason: String,
}

fn not_moved_json(n: &NotMoved) -> NotMovedJson {
    match n {
        NotMoved::Missing(id) => NotMovedJson {
            id: *id,
            reason: "not found".into(),
        },
        NotMoved::Refused { id, .. } => NotMovedJson {
            id: *id,
            reason: n.to_string(),
        },
    }
}

/// POST /api/v1/alerts/{id}/status: 404 when the alert is not the
/// caller's, 409 when the move is not allowed from where it stands.
pub(crate) async fn set_status(
    State(state): State<ConsoleState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<StatusBody>,
) -> Response {
    if let Some(r) = caller.csrf_refusal(headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
        return r;
    }
    let result = scoped(&state, &caller.principal, move |s| {
        match s.set_status(&[id], &body.status, &body.note)?.first() {
            None => s.alert(id),
            Some(NotMoved::Missing(_)) => Err(Refusal::NotFound),
            Some(refused) => Err(Refusal::Conflict(refused.to_string())),
        }
    })
    .await;
    reply(result)
}

/// POST /api/v1/alerts/status: moves many alerts; lists those that did
/// not move and why.
pub(crate) async fn bulk_status(
    State(state): State<ConsoleState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<BulkStatusBody>,
) -> Response {
    if let Some(r) = caller.csrf_refusal(headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
        return r;
    }
    let ids = body.ids.clone();
    let result = scoped(&state, &caller.principal, move |s| {
        s.set_status(&body.ids, &body.status, &body.note)
    })
    .await;
    reply(result.map(|not_moved| {
        let moved: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !not_moved.iter().any(|n| not_moved_id(n) == *id))
            .collect();
        serde_json::json!({
            "moved": moved,
            "not_moved": not_moved.iter().map(not_moved_json).collect::<Vec<_>>(),
        })
    }))
}

fn not_moved_id(n: &NotMoved) -> i64 {
    match n {
        NotMoved::Missing(id) | NotMoved::Refused { id, .. } => *id,
    }
}
