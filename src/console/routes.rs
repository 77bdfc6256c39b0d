//! The API's route table: each entry's method, path, parameters and
//! description, and its handler. Both the router and the OpenAPI document
//! (`/api/v1/openapi.json`) are built from this one table, so the document
//! cannot list a route the server lacks, or miss one it has.

use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::console::api;
use crate::console::api::schema::{self, ApiSchema};
use crate::console::scoped::{
    AlertDetail, AlertPage, DocumentView, SearchPage, SiteHealth, WatchlistView,
};
use crate::console::ConsoleState;

/// Where a parameter goes.
#[derive(Clone, Copy)]
pub(crate) enum In {
    Path,
    Query,
}

/// A parameter: name, place, description.
pub(crate) struct Param(&'static str, In, &'static str);

/// One API route.
pub(crate) struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    /// The JSON body's fields and what they mean, for POST routes.
    pub body: Option<&'static [(&'static str, &'static str, bool)]>,
    /// What a success answers.
    pub answer: Answer,
    pub handler: fn() -> MethodRouter<ConsoleState>,
}

/// A route's successful answer.
#[derive(Clone, Copy)]
pub(crate) enum Answer {
    /// JSON of this schema ([`ApiSchema`] of the response type).
    Json(fn() -> Value),
    /// A ZIP file.
    Zip,
}

const ALERT_FILTERS: &[Param] = &[
    Param(
        "customer",
        In::Query,
        "only this customer's (operator tokens; a customer token always sees only its own)",
    ),
    Param(
        "status",
        In::Query,
        "new, delivered, acknowledged, investigating, resolved or false_positive",
    ),
    Param("severity", In::Query, "low, medium, high or critical"),
    Param("site", In::Query, "site profile name"),
    Param("asset", In::Query, "asset id of the customer's watchlist"),
    Param(
        "since",
        In::Query,
        "first seen at or after (2026-11-01, RFC 3339, or 7d)",
    ),
    Param("until", In::Query, "first seen before"),
    Param(
        "text",
        In::Query,
        "words the alert contains (asset, terms, snippet, URL)",
    ),
    Param("cursor", In::Query, "next_cursor of the previous page"),
    Param("limit", In::Query, "items per page (1–200, default 50)"),
];

const SEARCH_PARAMS: &[Param] = &[
    Param("q", In::Query, "query in `leakwatch search`'s language: words, \"phrases\", AND/OR/NOT, -word, word*, site:, lang:, kind:, seller:, currency:, amount:[0 TO 1]"),
    Param("site", In::Query, "only this site"),
    Param("since", In::Query, "posted (or fetched) at or after"),
    Param("until", In::Query, "posted (or fetched) before"),
    Param("sort", In::Query, "score (default) or date"),
    Param("cursor", In::Query, "next_cursor of the previous page"),
    Param("limit", In::Query, "hits per page (1–200, default 20)"),
];

/// Every API route.
pub(crate) const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/api/v1/me",
        summary: "The calling token's name, scope and role.",
        params: &[],
        body: None,
        answer: Answer::Json(schema::Me::schema),
        handler: || get(api::sites::me),
    },
    Route {
        method: "get",
        path: "/api/v1/alerts",
        summary: "The alert queue, newest first, with counts by status of the caller's scope.",
        params: ALERT_FILTERS,
        body: None,
        answer: Answer::Json(AlertPage::schema),
        handler: || get(api::alerts::list),
    },
    Route {
        method: "post",
        path: "/api/v1/alerts/status",
        summary: "Move many alerts to a triage status; lists those that did not move and why.",
        params: &[],
        body: Some(&[
            ("ids", "alert ids (1–200)", true),
            ("status", "acknowledged, investigating, resolved or false_positive", true),
            ("note", "why (kept in each alert's history)", false),
        ]),
        answer: Answer::Json(schema::BulkMoved::schema),
        handler: || post(api::alerts::bulk_status),
    },
    Route {
        method: "get",
        path: "/api/v1/alerts/{id}",
        summary: "One alert: its document, matched terms and sale cues with their offsets, also-seen-at, deliveries and history. 404 for an alert outside the caller's scope.",
        params: &[Param("id", In::Path, "alert id")],
        body: None,
        answer: Answer::Json(AlertDetail::schema),
        handler: || get(api::alerts::one),
    },
    Route {
        method: "get",
        path: "/api/v1/alerts/{id}/evidence",
        summary: "The alert's evidence bundle (application/zip): the page as received, its text, metadata.json and a sha256sum manifest; 404 when the archive holds no page for it.",
        params: &[Param("id", In::Path, "alert id")],
        body: None,
        answer: Answer::Zip,
        handler: || get(api::alerts::evidence),
    },
    Route {
        method: "post",
        path: "/api/v1/alerts/{id}/status",
        summary: "Move one alert to a triage status (analyst tokens); 409 when the move is not allowed from its status.",
        params: &[Param("id", In::Path, "alert id")],
        body: Some(&[
            ("status", "acknowledged, investigating, resolved or false_positive", true),
            ("note", "why (kept in the alert's history)", false),
        ]),
        answer: Answer::Json(AlertDetail::schema),
        handler: || post(api::alerts::set_status),
    },
    Route {
        method: "post",
        path: "/api/v1/sites/{site}/session",
        summary: "Hand a site the session a person made in a browser after passing its CAPTCHA, queue or login (operator analyst tokens); a running crawl resumes the site at once. Answers the cookie names, never their values.",
        params: &[Param("site", In::Path, "site profile name")],
        body: Some(&[(
            "cookies",
            "the cookies as a browser's Cookie header: name=value; other=value",
            true,
        )]),
        answer: Answer::Json(schema::SessionImported::schema),
        handler: || post(api::sites::import_session),
    },
    Route {
        method: "get",
        path: "/api/v1/search",
        summary: "Search the collected listings (a customer token: those with one of its alerts), with highlighted snippets and counts by site, language, kind and month.",
        params: SEARCH_PARAMS,
        body: None,
        answer: Answer::Json(SearchPage::schema),
        handler: || get(api::search::search),
    },
    Route {
        method: "get",
        path: "/api/v1/documents/{id}",
        summary: "One indexed document.",
        params: &[Param("id", In::Path, "document id")],
        body: None,
        answer: Answer::Json(DocumentView::schema),
        handler: || get(api::search::document),
    },
    Route {
        method: "get",
        path: "/api/v1/sites",
        summary: "Each crawled site's health: last success, pages in 24 h, failing URLs, circuit breaker, logged out (operator tokens).",
        params: &[],
        body: None,
        answer: Answer::Json(Vec::<SiteHealth>::schema),
        handler: || get(api::sites::sites),
    },
    Route {
        method: "get",
        path: "/api/v1/watchlists",
        summary: "The watchlists (a customer token: its own) and whether each loads, with the errors if not.",
        params: &[],
        body: None,
        answer: Answer::Json(Vec::<WatchlistView>::schema),
        handler: || get(api::sites::watchlists),
    },
    Route {
        method: "get",
        path: "/api/v1/openapi.json",
        summary: "This document.",
        params: &[],
        body: None,
        answer: Answer::Json(schema::OpenApiDocument::schema),
        handler: || get(openapi_json),
    },
];

/// The API's router, built from [`ROUTES`].
pub(crate) fn api_router() -> Router<ConsoleState> {
    ROUTES.iter().fold(Router::new(), |router, r| {
        router.route(r.path, (r.handler)())
    })
}

async fn openapi_json() -> Json<Value> {
    Json(openapi())
}

/// The OpenAPI 3.1 document of [`ROUTES`].
pub(crate) fn openapi() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in ROUTES {
        let params: Vec<Value> = r
            .params
            .iter()
            .map(|Param(name, place, description)| {
                let (place, required) = match place {
                    In::Path => ("path", true),
                    In::Query => ("query", false),
                };
                let schema = if *name == "id" && r.path.starts_with("/api/v1/alerts") || *name == "limit" {
                    json!({"type": "integer"})
                } else {
                    json!({"type": "string"})
                };
                json!({"name": name, "in": place, "required": required, "description": description, "schema": schema})
            })
            .collect();
        let ok = match r.answer {
            Answer::Json(schema) => {
                json!({"description": "OK", "content": {"application/json": {"schema": schema()}}})
            }
            Answer::Zip => json!({"description": "OK", "content": {"application/zip": {
                "schema": {"type": "string", "contentMediaType": "application/zip"}
            }}}),
        };
        let mut op = json!({
            "summary": r.summary,
            "parameters": params,
            "responses": {
                "200": ok,
                "400": {"description": "a parameter is wrong; `error` says which"},
                "401": {"description": "no token, or one unknown, expired or revoked"},
                "404": {"description": "not found, or not in the caller's scope"},
                "429": {"description": "too many failed attempts from this address"}
            }
        });
        if r.path == "/api/v1/openapi.json" {
            op["security"] = json!([]);
        }
        if let Some(fields) = r.body {
            let properties: Map<String, Value> = fields
                .iter()
                .map(|(name, description, _)| {
                    let schema = if *name == "ids" {
                        json!({"type": "array", "items": {"type": "integer"}, "description": description})
                    } else {
                        json!({"type": "string", "description": description})
                    };
                    ((*name).to_owned(), schema)
                })
                .collect();
            let required: Vec<&str> = fields.iter().filter(|f| f.2).map(|f| f.0).collect();
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {
                    "type": "object", "properties": properties, "required": required
                }}}
            });
            op["responses"]["403"] =
                json!({"description": "a viewer token, or a session call without its CSRF token"});
            op["responses"]["409"] =
                json!({"description": "the move is not allowed from the alert's status"});
        }
        paths
            .entry(r.path.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|o| o.insert(r.method.to_owned(), op));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "leakwatch console API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Alerts, triage, search, sites and watchlists. Authenticate with `Authorization: Bearer lw_…` (`leakwatch token create`). A customer token sees its own customer's data only."
        },
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_once() {
        let doc = openapi();
        let paths = doc["paths"].as_object().expect("paths");
        let ops: usize = paths
            .values()
            .map(|p| p.as_object().map_or(0, |o| o.len()))
            .sum();
        assert_eq!(ops, ROUTES.len());
        for r in ROUTES {
            assert!(
                doc["paths"][r.path][r.method].is_object(),
                "{} {}",
                r.method,
                r.path
            );
            for Param(name, place, _) in r.params {
                if matches!(place, In::Path) {
                    assert!(
                        r.path.contains(&format!("{{{name}}}")),
                        "{name} in {}",
                        r.path
                    );
                }
            }
        }
    }
}
