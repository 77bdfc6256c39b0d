//! `entity:` and `wallet:`: exact search on the canonical values of a
//! document's entities, however the query writes them, and entities read
//! back with their kinds and offsets.

use indexer::{DocumentIndex, EntityKind, IndexDocument, SearchRequest};

fn doc(id: &str, title: &str, body: &str) -> IndexDocument {
    let mut d = IndexDocument {
        id: id.into(),
        site: "demo-market".into(),
        url: format!("http://x.onion/{id}"),
        kind: "listing".into(),
        title: Some(title.into()),
        body: Some(body.into()),
        ..Default::default()
    };
    d.entities = entities::extract_entities(&d.entity_text());
    d
}

fn ids(index: &DocumentIndex, q: &str) -> Vec<String> {
    let mut ids: Vec<String> = index
        .search(&SearchRequest {
            query: q.into(),
            limit: 50,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .1
        .into_iter()
        .map(|h| h.document.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn entity_and_wallet_fields_are_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = DocumentIndex::open_or_create(&dir.path().join("index")).expect("create");
    for d in [
        doc(
            "a",
            "出售 银行卡 联系TG@abc_shop",
            "USDT: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t QQ：１２３４５６７８",
        ),
        doc(
            "b",
            "Fresh logs",
            "pay 0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359, mail Seller@Example.com, +86 138-0013-8000",
        ),
        doc(
            "c",
            "另一个卖家",
            "电报：ABC_shop 付款 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        ),
        // The handle's name as a word, and the number without a label: no entity.
        doc("d", "abc_shop 12345678", "nothing to pivot on"),
    ] {
        index.upsert(&d).expect("write");
    }
    index.commit().expect("commit");

    assert_eq!(ids(&index, "entity:@abc_shop"), ["a", "c"]);
    assert_eq!(ids(&index, "entity:@ABC_Shop"), ["a", "c"]);
    assert_eq!(ids(&index, "entity:12345678"), ["a"]);
    assert_eq!(ids(&index, "entity:\"QQ：12345678\""), ["a"]);
    assert_eq!(
        ids(&index, "wallet:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        ["a"]
    );
    // EIP-55 or lower case, the same wallet.
    assert_eq!(
        ids(&index, "wallet:0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359"),
        ["b", "c"]
    );
    assert_eq!(ids(&index, "entity:seller@example.com"), ["b"]);
    assert_eq!(ids(&index, "entity:\"+86 138 0013 8000\""), ["b"]);
    // A contact is no wallet; words and fields combine.
    assert!(ids(&index, "wallet:@abc_shop").is_empty());
    assert_eq!(ids(&index, "entity:@abc_shop AND 银行卡"), ["a"]);
    assert_eq!(ids(&index, "abc_shop"), ["a", "c", "d"]);

    let a = index.get("a").expect("get").expect("stored");
    let text = a.entity_text();
    let found: Vec<(EntityKind, &str, &str)> = a
        .entities
        .iter()
        .map(|e| (e.kind, e.value.as_str(), &text[e.start..e.end]))
        .collect();
    assert_eq!(
        found,
        [
            (EntityKind::Telegram, "@abc_shop", "@abc_shop"),
            (
                EntityKind::Tron,
                "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
                "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
            ),
            (EntityKind::Qq, "12345678", "１２３４５６７８"),
        ]
    );
}
