//! The JSON Schema of each API response, for the OpenAPI document: a small
//! trait on the response types, each listing the fields its `Serialize`
//! writes (fields that may be left out are not required). A test compares
//! every route's schema with a real response, so a field added to a type
//! and not here fails it.

use serde_json::{json, Map, Value};

use crate::console::scoped::{
    AlertDetail, AlertPage, AlertSummary, DeliveryRow, DocumentView, Facets, SearchItem,
    SearchPage, SiteHealth, WatchlistView,
};

/// A type the API answers with, and its JSON Schema.
pub(crate) trait ApiSchema {
    fn schema() -> Value;
}

fn string() -> Value {
    json!({"type": "string"})
}

fn integer() -> Value {
    json!({"type": "integer"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn nullable(mut schema: Value) -> Value {
    if let Some(t) = schema["type"].as_str().map(str::to_owned) {
        schema["type"] = json!([t, "null"]);
        schema
    } else {
        json!({"anyOf": [schema, {"type": "null"}]})
    }
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// An object of these fields; all are required but `optional`.
fn object(fields: Vec<(&str, Value)>, optional: &[&str]) -> Value {
    let required: Vec<&str> = fields
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !optional.contains(name))
        .collect();
    let properties: Map<String, Value> = fields
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect();
    json!({"type": "object", "properties": properties, "required": required})
}

/// One object schema of both objects' fields (`#[serde(flatten)]`).
fn merged(a: Value, b: Value) -> Value {
    let mut out = a;
    if let (Some(props), Some(more)) = (
        out["properties"].as_object().cloned(),
        b["properties"].as_object(),
    ) {
        let mut props = props;
        props.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
        out["properties"] = Value::Object(props);
    }
    if let (Some(required), Some(more)) = (
        out["required"].as_array().cloned(),
        b["required"].as_array(),
    ) {
        let mut required = required;
        required.extend(more.iter().cloned());
        out["required"] = Value::Array(required);
    }
    out
}

/// A `watchlists::Alert` as the API writes it (flattened into the alert
/// rows).
fn alert() -> Value {
    object(
        vec![
            ("doc_id", string()),
            ("customer", string()),
            ("asset", string()),
            ("asset_name", string()),
            (
                "severity",
                json!({"type": "string", "enum": ["low", "medium", "high", "critical"]}),
            ),
            ("terms", array(string())),
            ("context", array(string())),
            ("snippet", string()),
            ("url", nullable(string())),
            ("site", nullable(string())),
            ("entities", array(json!({"type": "object"}))),
        ],
        &["entities"],
    )
}

impl ApiSchema for AlertSummary {
    fn schema() -> Value {
        merged(
            object(
                vec![
                    ("id", integer()),
                    ("status", string()),
                    ("first_seen", string()),
                    ("last_seen", string()),
                ],
                &[],
            ),
            alert(),
        )
    }
}

impl ApiSchema for AlertPage {
    fn schema() -> Value {
        object(
            vec![
                ("items", array(AlertSummary::schema())),
                ("next_cursor", nullable(string())),
                (
                    "counts",
                    json!({"type": "object", "additionalProperties": {"type": "integer"},
                           "description": "alerts of the caller's scope by status"}),
                ),
            ],
            &[],
        )
    }
}

impl ApiSchema for DocumentView {
    fn schema() -> Value {
        let text = || nullable(string());
        object(
            vec![
                ("id", string()),
                ("site", string()),
                ("url", string()),
                ("kind", string()),
                ("lang", text()),
                ("title", text()),
                ("body", text()),
                ("price", text()),
                ("seller", text()),
                ("category", text()),
                ("posted_at", text()),
                ("fetched_at", text()),
                ("encoding", text()),
                ("customers", array(string())),
                ("alerts", array(string())),
            ],
            &[],
        )
    }
}

impl ApiSchema for DeliveryRow {
    fn schema() -> Value {
        object(
            vec![
                ("sink", string()),
                ("status", string()),
                ("attempts", integer()),
                ("last_error", nullable(string())),
                ("delivered_at", nullable(string())),
            ],
            &[],
        )
    }
}

impl ApiSchema for AlertDetail {
    fn schema() -> Value {
        merged(
            AlertSummary::schema(),
            object(
                vec![
                    ("document", nullable(DocumentView::schema())),
                    (
                        "marks",
                        array(object(
                            vec![
                                ("field", string()),
                                ("kind", string()),
                                ("start", integer()),
                                ("end", integer()),
                                ("text", string()),
                            ],
                            &[],
                        )),
                    ),
                    (
                        "also_seen_at",
                        array(object(
                            vec![
                                ("doc_id", string()),
                                ("url", nullable(string())),
                                ("site", nullable(string())),
                                ("seen_at", string()),
                            ],
                            &[],
                        )),
                    ),
                    ("deliveries", array(DeliveryRow::schema())),
                    (
                        "history",
                        array(object(
                            vec![
                                ("at", string()),
                                ("actor", string()),
                                ("from", string()),
                                ("to", string()),
                                ("note", string()),
                            ],
                            &[],
                        )),
                    ),
                ],
                &[],
            ),
        )
    }
}

impl ApiSchema for SearchItem {
    fn schema() -> Value {
        object(
            vec![
                ("score", json!({"type": "number"})),
                ("document", DocumentView::schema()),
                ("snippet", string()),
                (
                    "highlights",
                    array(json!({"type": "array", "items": {"type": "integer"},
                                 "minItems": 2, "maxItems": 2})),
                ),
            ],
            &[],
        )
    }
}

impl ApiSchema for Facets {
    fn schema() -> Value {
        let counts = || {
            array(
                json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                         "minItems": 2, "maxItems": 2}),
            )
        };
        object(
            vec![
                ("site", counts()),
                ("lang", counts()),
                ("kind", counts()),
                ("month", counts()),
            ],
            &[],
        )
    }
}

impl ApiSchema for SearchPage {
    fn schema() -> Value {
        object(
            vec![
                ("total", integer()),
                ("items", array(SearchItem::schema())),
                ("next_cursor", nullable(string())),
                ("facets", Facets::schema()),
            ],
            &[],
        )
    }
}

impl ApiSchema for SiteHealth {
    fn schema() -> Value {
        object(
            vec![
                ("site", string()),
                ("state", string()),
                ("reason", nullable(string())),
                ("urls", integer()),
                ("last_success", nullable(string())),
                ("pages_24h", integer()),
                ("failures_24h", integer()),
                ("failing", integer()),
                ("next_due", nullable(string())),
                (
                    "circuit_breaker",
                    json!({"type": "string", "enum": ["closed", "counting", "open"]}),
                ),
                ("consecutive_failures", integer()),
                ("paused_until", nullable(string())),
                ("pause_reason", nullable(string())),
                ("logged_out", boolean()),
                ("needs_human", boolean()),
            ],
            &[],
        )
    }
}

impl ApiSchema for WatchlistView {
    fn schema() -> Value {
        object(
            vec![
                ("file", string()),
                ("customer", nullable(string())),
                ("assets", array(string())),
                ("valid", boolean()),
                ("errors", array(string())),
                ("checked_at", string()),
            ],
            &[],
        )
    }
}

impl<T: ApiSchema> ApiSchema for Vec<T> {
    fn schema() -> Value {
        array(T::schema())
    }
}

/// `GET /api/v1/me`.
pub(crate) struct Me;

impl ApiSchema for Me {
    fn schema() -> Value {
        object(
            vec![
                ("name", string()),
                (
                    "scope",
                    json!({"type": "string", "description": "`operator` or `customer:ID`"}),
                ),
                (
                    "role",
                    json!({"type": "string", "enum": ["viewer", "analyst"]}),
                ),
            ],
            &[],
        )
    }
}

/// `POST /api/v1/alerts/status`.
pub(crate) struct BulkMoved;

impl ApiSchema for BulkMoved {
    fn schema() -> Value {
        object(
            vec![
                ("moved", array(integer())),
                (
                    "not_moved",
                    array(object(vec![("id", integer()), ("reason", string())], &[])),
                ),
            ],
            &[],
        )
    }
}

/// `POST /api/v1/sites/{site}/session`.
pub(crate) struct SessionImported;

impl ApiSchema for SessionImported {
    fn schema() -> Value {
        object(vec![("site", string()), ("imported", array(string()))], &[])
    }
}

/// `GET /api/v1/openapi.json`.
pub(crate) struct OpenApiDocument;

impl ApiSchema for OpenApiDocument {
    fn schema() -> Value {
        object(
            vec![
                ("openapi", string()),
                ("info", json!({"type": "object"})),
                ("servers", array(json!({"type": "object"}))),
                ("components", json!({"type": "object"})),
                ("security", array(json!({"type": "object"}))),
                ("paths", json!({"type": "object"})),
            ],
            &[],
        )
    }
}
