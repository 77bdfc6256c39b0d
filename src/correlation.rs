//! Correlation by entities: which documents, sites and sellers share a
//! wallet, a contact or a key (`leakwatch pivot`), and what one seller's
//! listings reveal and whom they link to (`leakwatch actor`). Pure: it takes
//! documents read from the index and returns reports; the commands read
//! and print.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entities::EntityKind;
use indexer::IndexDocument;
use serde::Serialize;

/// A document as the reports list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Listing {
    pub doc_id: String,
    pub site: String,
    pub seller: Option<String>,
    pub title: Option<String>,
    pub url: String,
    /// Posted, else fetched.
    pub date: Option<DateTime<Utc>>,
}

impl From<&IndexDocument> for Listing {
    fn from(d: &IndexDocument) -> Listing {
        Listing {
            doc_id: d.id.clone(),
            site: d.site.clone(),
            seller: d.seller.clone(),
            title: d.title.clone(),
            url: d.url.clone(),
            date: d.posted_at.or(d.fetched_at),
        }
    }
}

/// Sorts oldest first (posted, else fetched), undated last, then by id.
fn oldest_first(docs: &mut [IndexDocument]) {
    docs.sort_by(|a, b| {
        let key = |d: &IndexDocument| {
            (
                d.posted_at.or(d.fetched_at).is_none(),
                d.posted_at.or(d.fetched_at),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
}

/// Pushes `value` unless an equal one (without case) is there already.
fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        list.push(value.to_owned());
    }
}

/// Everything that shares one value.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PivotReport {
    /// The canonical value looked for.
    pub value: String,
    /// What it is, as the documents found it.
    pub kind: Option<EntityKind>,
    /// Oldest first.
    pub documents: Vec<Listing>,
    /// In order of first appearance.
    pub sites: Vec<String>,
    /// In order of first appearance.
    pub sellers: Vec<String>,
}

/// The pivot report on `value` over `docs` (the documents that carry it).
pub(crate) fn pivot(value: &str, mut docs: Vec<IndexDocument>) -> PivotReport {
    oldest_first(&mut docs);
    let kind = docs
        .iter()
        .flat_map(|d| &d.entities)
        .find(|e| e.value.eq_ignore_ascii_case(value))
        .map(|e| e.kind);
    let mut sites = Vec::new();
    let mut sellers = Vec::new();
    for d in &docs {
        push_unique(&mut sites, &d.site);
        if let Some(s) = &d.seller {
            push_unique(&mut sellers, s);
        }
    }
    PivotReport {
        value: value.to_owned(),
        kind,
        documents: docs.iter().map(Listing::from).collect(),
        sites,
        sellers,
    }
}

/// One entity of a seller's listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Held {
    pub kind: EntityKind,
    pub value: String,
    /// The seller's listings that carry it.
    pub listings: usize,
}

/// Another seller name that shares an entity with the actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LinkedSeller {
    pub seller: String,
    /// Where that name sells with a shared entity, in order of appearance.
    pub sites: Vec<String>,
    /// The entities it shares with the actor.
    pub shared: Vec<Shared>,
    /// Its documents that carry one of them.
    pub documents: usize,
}

/// An entity two sellers share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Shared {
    pub kind: EntityKind,
    pub value: String,
}

/// A linked seller as it is gathered.
#[derive(Default)]
struct Link {
    /// The name as first seen.
    seller: String,
    sites: Vec<String>,
    shared: BTreeSet<Shared>,
    /// Ids of its documents that share something.
    documents: BTreeSet<String>,
}

/// A seller's listings, what they hold, and whom that links to.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActorReport {
    pub seller: String,
    pub site: Option<String>,
    /// Oldest first.
    pub listings: Vec<Listing>,
    pub wallets: Vec<Held>,
    pub contacts: Vec<Held>,
    /// Most shared entities first, then by name.
    pub linked_sellers: Vec<LinkedSeller>,
}

/// Whether `doc` is a listing of `seller` (any case), on `site` if given.
pub(crate) fn is_by(doc: &IndexDocument, seller: &str, site: Option<&str>) -> bool {
    doc.seller
        .as_deref()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case(seller.trim()))
        && site.is_none_or(|site| doc.site.eq_ignore_ascii_case(site))
}

/// The actor report of `seller` (on `site`, if given) from `own` (documents
/// that may be theirs: the ones that are not are dropped), looking up the
/// documents that share each value with `sharing`. Another name counts as
/// linked when it differs from `seller`; with a `site`, the same name on
/// another site counts too.
pub(crate) fn actor<E>(
    seller: &str,
    site: Option<&str>,
    own: Vec<IndexDocument>,
    mut sharing: impl FnMut(&str) -> Result<Vec<IndexDocument>, E>,
) -> Result<ActorReport, E> {
    let mut own: Vec<IndexDocument> = own.into_iter().filter(|d| is_by(d, seller, site)).collect();
    oldest_first(&mut own);
    let mut held: BTreeMap<(EntityKind, String), usize> = BTreeMap::new();
    for d in &own {
        for key in entities::distinct(&d.entities) {
            *held.entry(key).or_default() += 1;
        }
    }
    // By seller name in lower case.
    let mut linked: BTreeMap<String, Link> = BTreeMap::new();
    for (kind, value) in held.keys() {
        for other in sharing(value)? {
            let Some(name) = other.seller.as_deref() else {
                continue;
            };
            if is_by(&other, seller, site) {
                continue;
            }
            let link = linked.entry(name.to_lowercase()).or_insert_with(|| Link {
                seller: name.to_owned(),
                ..Link::default()
            });
            push_unique(&mut link.sites, &other.site);
            link.shared.insert(Shared {
                kind: *kind,
                value: value.clone(),
            });
            link.documents.insert(other.id.clone());
        }
    }
    let mut linked_sellers: Vec<LinkedSeller> = linked
        .into_values()
        .map(|link| LinkedSeller {
            seller: link.seller,
            sites: link.sites,
            shared: link.shared.into_iter().collect(),
            documents: link.documents.len(),
        })
        .collect();
    linked_sellers.sort_by(|a, b| {
        b.shared
            .len()
            .cmp(&a.shared.len())
            .then_with(|| a.seller.cmp(&b.seller))
    });
    let (wallets, contacts): (Vec<Held>, Vec<Held>) = held
        .into_iter()
        .map(|((kind, value), listings)| Held {
            kind,
            value,
            listings,
        })
        .partition(|h| h.kind.is_wallet());
    Ok(ActorReport {
        seller: seller.trim().to_owned(),
        site: site.map(str::to_owned),
        listings: own.iter().map(Listing::from).collect(),
        wallets,
        contacts,
        linked_sellers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn doc(id: &str, site: &str, seller: &str, day: u32, body: &str) -> IndexDocument {
        let mut d = IndexDocument {
            id: id.into(),
            site: site.into(),
            url: format!("http://{site}.onion/{id}"),
            kind: "listing".into(),
            title: Some(format!("listing {id}")),
            body: Some(body.into()),
            seller: Some(seller.into()),
            posted_at: Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).single(),
            ..Default::default()
        };
        d.entities = entities::extract_entities(&d.entity_text());
        d
    }

    const WALLET: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";

    fn corpus() -> Vec<IndexDocument> {
        vec![
            doc(
                "m:2",
                "market",
                "wasabi88",
                12,
                &format!("USDT {WALLET} TG@wasabi_shop"),
            ),
            doc("m:1", "market", "Wasabi88", 10, "QQ：12345678"),
            doc("f:7", "forum", "shadow_dumps", 11, "联系TG@wasabi_shop"),
            doc("j:3", "board", "匿名", 14, &format!("送金先 {WALLET}")),
            doc(
                "j:4",
                "board",
                "wasabi88",
                15,
                "QQ 12345678 微信：wasabi_88",
            ),
            doc("x:1", "market", "other", 9, "nothing shared"),
        ]
    }

    fn sharing(all: &[IndexDocument]) -> impl FnMut(&str) -> Result<Vec<IndexDocument>, ()> + '_ {
        |value: &str| {
            Ok(all
                .iter()
                .filter(|d| {
                    d.entities
                        .iter()
                        .any(|e| e.value.eq_ignore_ascii_case(value))
                })
                .cloned()
                .collect())
        }
    }

    #[test]
    fn pivot_lists_documents_oldest_first_with_sites_and_sellers() {
        let all = corpus();
        let docs = sharing(&all)("@wasabi_shop").expect("lookup");
        let report = pivot("@wasabi_shop", docs);
        let ids: Vec<&str> = report.documents.iter().map(|d| d.doc_id.as_str()).collect();
        assert_eq!(ids, ["f:7", "m:2"]);
        assert_eq!(report.kind, Some(EntityKind::Telegram));
        assert_eq!(report.sites, ["forum", "market"]);
        assert_eq!(report.sellers, ["shadow_dumps", "wasabi88"]);
    }

    #[test]
    fn actor_finds_holdings_and_linked_names() {
        let all = corpus();
        let report = actor("WASABI88", None, all.clone(), sharing(&all)).expect("report");
        let ids: Vec<&str> = report.listings.iter().map(|d| d.doc_id.as_str()).collect();
        assert_eq!(ids, ["m:1", "m:2", "j:4"]);
        assert_eq!(
            report.wallets,
            [Held {
                kind: EntityKind::Tron,
                value: WALLET.into(),
                listings: 1
            }]
        );
        let contacts: Vec<(EntityKind, &str, usize)> = report
            .contacts
            .iter()
            .map(|h| (h.kind, h.value.as_str(), h.listings))
            .collect();
        assert_eq!(
            contacts,
            [
                (EntityKind::Telegram, "@wasabi_shop", 1),
                (EntityKind::Qq, "12345678", 2),
                (EntityKind::Wechat, "wasabi_88", 1),
            ]
        );
        let linked: Vec<(&str, &[String], usize)> = report
            .linked_sellers
            .iter()
            .map(|l| (l.seller.as_str(), l.sites.as_slice(), l.shared.len()))
            .collect();
        assert_eq!(
            linked,
            [
                ("shadow_dumps", &["forum".to_owned()][..], 1),
                ("匿名", &["board".to_owned()][..], 1),
            ]
        );

        // On one site only: the same name elsewhere is a link of its own.
        let report = actor("wasabi88", Some("market"), all.clone(), sharing(&all)).expect("report");
        assert_eq!(report.listings.len(), 2);
        assert!(report
            .linked_sellers
            .iter()
            .any(|l| l.seller == "wasabi88" && l.sites == ["board"]));
        // Nobody of that name: no listings, no links.
        let report = actor("nobody", None, all.clone(), sharing(&all)).expect("report");
        assert!(report.listings.is_empty() && report.linked_sellers.is_empty());
    }
}
