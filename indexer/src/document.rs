//! [`IndexDocument`], the document as the index stores it, and its conversion
//! to and from Tantivy documents. Reading goes by field name, so documents
//! stored under an older schema read back too (that is how reindexing works).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::schema::{Field, Schema, TantivyDocument, Value};

use crate::schema::Fields;
use entities::Entity;
use prices::Price;

/// A document as the index stores it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IndexDocument {
    /// The document's stable id (site plus listing number or path); writing
    /// a document with the same id replaces the stored one.
    pub id: String,
    /// The site profile's name (`site:` filters on it, any case).
    pub site: String,
    /// The page the document was read from.
    pub url: String,
    /// `listing`, `post` or `thread` (`kind:` filters on it).
    pub kind: String,
    /// The site's language (`zh`, `ja`), when its profile names one; also
    /// decides whether a bare `¥` in `price` is yen or yuan.
    pub lang: Option<String>,
    /// The title, searched by word queries and ranked above body hits.
    pub title: Option<String>,
    /// The text of the post or listing, searched by word queries and
    /// stored for snippets.
    pub body: Option<String>,
    /// The price as the page wrote it; the amount and currency are parsed
    /// from it when indexing (see [`IndexDocument::parsed_price`]).
    pub price: Option<String>,
    /// The seller's or author's name (`seller:` searches it).
    pub seller: Option<String>,
    /// The board or market category, as the page names it.
    pub category: Option<String>,
    /// When the author posted it, if the page shows a date; stored to the
    /// second. Date filters and sorting use it, else `fetched_at`.
    pub posted_at: Option<DateTime<Utc>>,
    /// When leakwatch fetched the page; stored to the second.
    pub fetched_at: Option<DateTime<Utc>>,
    /// The character encoding the page was decoded from (`GBK`), stored
    /// only.
    pub encoding: Option<String>,
    /// Customers with an alert on this document (for `--customer`).
    pub customers: Vec<String>,
    /// `customer/asset` of each alert on this document.
    pub alerts: Vec<String>,
    /// Wallets, contacts and keys in the title and body (offsets into the
    /// title, a newline and the body: [`IndexDocument::entity_text`]);
    /// `entity:` and `wallet:` search their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
}

impl IndexDocument {
    /// The price's amount and currency, when the price text has a number.
    pub fn parsed_price(&self) -> Option<Price> {
        Price::parse(self.price.as_deref()?, self.lang.as_deref())
    }

    /// The text entities are found in, and their offsets point into: the
    /// title, a newline and the body (as the watchlist matcher reads it).
    pub fn entity_text(&self) -> String {
        entity_text(self.title.as_deref(), self.body.as_deref())
    }
}

/// The title, a newline and the body: the text whose offsets
/// [`IndexDocument::entities`] hold.
pub fn entity_text(title: Option<&str>, body: Option<&str>) -> String {
    match (title, body) {
        (Some(t), Some(b)) => format!("{t}\n{b}"),
        (Some(t), None) => t.to_owned(),
        (None, Some(b)) => b.to_owned(),
        (None, None) => String::new(),
    }
}

fn tantivy_date(d: DateTime<Utc>) -> tantivy::DateTime {
    tantivy::DateTime::from_timestamp_secs(d.timestamp())
}

/// The Tantivy document for `d` under the current schema.
pub(crate) fn to_tantivy(f: &Fields, d: &IndexDocument) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &d.id);
    doc.add_text(f.site, &d.site);
    doc.add_text(f.url, &d.url);
    doc.add_text(f.kind, &d.kind);
    let texts = [
        (f.lang, &d.lang),
        (f.title, &d.title),
        (f.body, &d.body),
        (f.price, &d.price),
        (f.seller, &d.seller),
        (f.category, &d.category),
        (f.encoding, &d.encoding),
    ];
    for (field, value) in texts {
        if let Some(v) = value {
            doc.add_text(field, v);
        }
    }
    // The searchable text, in this order; Tantivy leaves a position gap
    // between values, so no phrase spans two of them.
    for v in [&d.title, &d.body, &d.seller, &d.category, &d.price]
        .into_iter()
        .flatten()
    {
        doc.add_text(f.text, v);
    }
    if let Some(price) = d.parsed_price() {
        doc.add_f64(f.amount, price.amount);
        if let Some(currency) = price.currency {
            doc.add_text(f.currency, currency.code());
        }
    }
    if let Some(p) = d.posted_at {
        doc.add_date(f.posted_at, tantivy_date(p));
    }
    if let Some(p) = d.fetched_at {
        doc.add_date(f.fetched_at, tantivy_date(p));
    }
    if let Some(p) = d.posted_at.or(d.fetched_at) {
        doc.add_date(f.date, tantivy_date(p));
    }
    for c in &d.customers {
        doc.add_text(f.customer, c);
    }
    for a in &d.alerts {
        doc.add_text(f.alert, a);
    }
    for (kind, value) in entities::distinct(&d.entities) {
        doc.add_text(f.entity, &value);
        if kind.is_wallet() {
            doc.add_text(f.wallet, &value);
        }
    }
    for e in &d.entities {
        if let Ok(json) = serde_json::to_string(e) {
            doc.add_text(f.entities, json);
        }
    }
    doc
}

/// The stored fields of some schema version, looked up by name (a field an
/// older schema lacks is `None`).
#[derive(Debug, Clone)]
pub(crate) struct StoredFields {
    id: Option<Field>,
    site: Option<Field>,
    url: Option<Field>,
    kind: Option<Field>,
    lang: Option<Field>,
    title: Option<Field>,
    body: Option<Field>,
    price: Option<Field>,
    seller: Option<Field>,
    category: Option<Field>,
    posted_at: Option<Field>,
    fetched_at: Option<Field>,
    encoding: Option<Field>,
    customer: Option<Field>,
    alert: Option<Field>,
    entities: Option<Field>,
}

impl StoredFields {
    pub(crate) fn resolve(schema: &Schema) -> StoredFields {
        let f = |name: &str| schema.get_field(name).ok();
        StoredFields {
            id: f("id"),
            site: f("site"),
            url: f("url"),
            kind: f("kind"),
            lang: f("lang"),
            title: f("title"),
            body: f("body"),
            price: f("price"),
            seller: f("seller"),
            category: f("category"),
            posted_at: f("posted_at"),
            fetched_at: f("fetched_at"),
            encoding: f("encoding"),
            customer: f("customer"),
            alert: f("alert"),
            entities: f("entities"),
        }
    }

    /// The document stored as `doc`.
    pub(crate) fn read(&self, doc: &TantivyDocument) -> IndexDocument {
        let text = |field: Option<Field>| {
            doc.get_first(field?)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let texts = |field: Option<Field>| match field {
            Some(field) => doc
                .get_all(field)
                .filter_map(|v| v.as_str())
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        };
        let date = |field: Option<Field>| {
            doc.get_first(field?)
                .and_then(|v| v.as_datetime())
                .and_then(|d| DateTime::from_timestamp(d.into_timestamp_secs(), 0))
        };
        let title = text(self.title);
        let body = text(self.body);
        let entities = match self.entities {
            Some(field) => doc
                .get_all(field)
                .filter_map(|v| v.as_str())
                .filter_map(|json| serde_json::from_str(json).ok())
                .collect(),
            // Stored before entities were: find them now (a reindex).
            None => entities::extract_entities(&entity_text(title.as_deref(), body.as_deref())),
        };
        IndexDocument {
            id: text(self.id).unwrap_or_default(),
            site: text(self.site).unwrap_or_default(),
            url: text(self.url).unwrap_or_default(),
            kind: text(self.kind).unwrap_or_default(),
            lang: text(self.lang),
            title,
            body,
            price: text(self.price),
            seller: text(self.seller),
            category: text(self.category),
            posted_at: date(self.posted_at),
            fetched_at: date(self.fetched_at),
            encoding: text(self.encoding),
            customers: texts(self.customer),
            alerts: texts(self.alert),
            entities,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_tantivy() {
        let (schema, fields) = crate::schema::build();
        let d = IndexDocument {
            id: "deepmix/8647".into(),
            site: "DeepMix".into(),
            url: "http://x.onion/viewtopic.php?t=8647".into(),
            kind: "listing".into(),
            lang: Some("zh".into()),
            title: Some("出售 三菱UFJ銀行 账户".into()),
            body: Some("带登录 QQ：12345678".into()),
            price: Some("0.35 [BTC]".into()),
            seller: Some("fullbitmin".into()),
            category: Some("数据-情报类".into()),
            posted_at: DateTime::from_timestamp(1_535_570_160, 0),
            fetched_at: DateTime::from_timestamp(1_790_000_000, 0),
            encoding: Some("gbk".into()),
            customers: vec!["mufg-group".into()],
            alerts: vec!["mufg-group/mufg".into()],
            entities: entities::extract_entities("出售 三菱UFJ銀行 账户\n带登录 QQ：12345678"),
        };
        assert_eq!(d.entities.len(), 1);
        assert_eq!(d.entities, entities::extract_entities(&d.entity_text()));
        let t = to_tantivy(&fields, &d);
        assert_eq!(StoredFields::resolve(&schema).read(&t), d);
        assert_eq!(
            t.get_first(fields.amount).and_then(|v| v.as_f64()),
            Some(0.35)
        );
        assert_eq!(
            t.get_first(fields.currency).and_then(|v| v.as_str()),
            Some("BTC")
        );
        assert_eq!(
            t.get_first(fields.entity).and_then(|v| v.as_str()),
            Some("12345678")
        );
        assert_eq!(t.get_first(fields.wallet), None, "a QQ number is no wallet");
    }
}
