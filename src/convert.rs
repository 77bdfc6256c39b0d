//! Conversions between the crates' document types (the crates do not know
//! each other).

use chrono::{DateTime, Utc};
use crawler::Document;
use entities::Entity;
use indexer::IndexDocument;
use watchlists::{Alert, MatchDocument};

/// The matcher's view of a document type with the fields `id`, `site`, `url`,
/// `kind`, `title`, `body` and `price` (an empty site or URL counts as absent).
macro_rules! match_view_of {
    ($doc:expr) => {{
        let doc = $doc;
        MatchDocument {
            id: &doc.id,
            site: Some(doc.site.as_str()).filter(|s| !s.is_empty()),
            url: Some(doc.url.as_str()).filter(|s| !s.is_empty()),
            kind: Some(doc.kind.as_str()),
            title: doc.title.as_deref(),
            body: doc.body.as_deref(),
            price: doc.price.as_deref(),
        }
    }};
}

/// The view of `doc` that the matcher reads.
pub(crate) fn match_view(doc: &Document) -> MatchDocument<'_> {
    match_view_of!(doc)
}

/// The view the matcher reads of a document read back from the index
/// (retro-hunts).
pub(crate) fn indexed_match_view(doc: &IndexDocument) -> MatchDocument<'_> {
    match_view_of!(doc)
}

/// The wallets, contacts and keys of `doc`, with offsets into its title, a
/// newline and its body (the text the matcher reads too).
pub(crate) fn document_entities(doc: &Document) -> Vec<Entity> {
    entities::extract_entities(&indexer::entity_text(
        doc.title.as_deref(),
        doc.body.as_deref(),
    ))
}

/// `alerts`, each carrying its document's `entities`.
pub(crate) fn with_entities(mut alerts: Vec<Alert>, entities: &[Entity]) -> Vec<Alert> {
    for alert in &mut alerts {
        alert.entities = entities.to_vec();
    }
    alerts
}

/// The index's form of `doc`, carrying the alerts raised on it and its
/// entities.
pub(crate) fn index_document(
    doc: &Document,
    alerts: &[Alert],
    entities: Vec<Entity>,
) -> IndexDocument {
    let date = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
    };
    let mut customers: Vec<String> = alerts.iter().map(|a| a.customer.clone()).collect();
    customers.sort();
    customers.dedup();
    IndexDocument {
        id: doc.id.clone(),
        site: doc.site.clone(),
        url: doc.url.clone(),
        kind: doc.kind.as_str().to_owned(),
        lang: doc.lang.clone(),
        title: doc.title.clone(),
        body: doc.body.clone(),
        price: doc.price.clone(),
        seller: doc.seller.clone(),
        category: doc.category.clone(),
        posted_at: date(&doc.posted_at),
        fetched_at: date(&doc.fetched_at),
        encoding: doc.encoding.clone(),
        customers,
        alerts: alerts
            .iter()
            .map(|a| format!("{}/{}", a.customer, a.asset))
            .collect(),
        entities,
    }
}
