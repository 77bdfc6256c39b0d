//! Search behaviour an analyst sees: every folding case of issue 7, the query
//! fields, the filters behind `--site/--customer/--since/--until`, paging,
//! sorting, prices and snippets. Documents are small hand-written listings
//! shaped like the demo market's (title, body, price, seller, dates).

use chrono::{DateTime, TimeZone, Utc};
use indexer::{Currency, DocumentIndex, IndexDocument, SearchRequest, SortOrder};

fn at(day: u32) -> Option<DateTime<Utc>> {
    Utc.with_ymd_and_hms(2026, 10, day, 12, 0, 0).single()
}

fn doc(id: &str, title: &str, body: &str) -> IndexDocument {
    IndexDocument {
        id: id.into(),
        site: "deepmix".into(),
        url: format!("http://x.onion/{id}"),
        kind: "listing".into(),
        title: Some(title.into()),
        body: Some(body.into()),
        ..Default::default()
    }
}

/// An index of the listings every test here searches.
fn corpus() -> (tempfile::TempDir, DocumentIndex) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = DocumentIndex::open_or_create(&dir.path().join("index")).expect("create");
    let docs = [
        IndexDocument {
            lang: Some("zh".into()),
            price: Some("0.35 [BTC]".into()),
            seller: Some("fullbitmin".into()),
            posted_at: at(1),
            customers: vec!["mufg-group".into()],
            alerts: vec!["mufg-group/mufg".into()],
            ..doc(
                "a",
                "【出售】日本三菱日联银行网银账户",
                "带登录密码，支持担保",
            )
        },
        IndexDocument {
            lang: Some("ja".into()),
            price: Some("5,000円".into()),
            posted_at: at(5),
            customers: vec!["mufg-group".into()],
            alerts: vec!["mufg-group/mufg".into()],
            ..doc("b", "三菱ＵＦＪ銀行 口座 売ります", "即日発送します")
        },
        IndexDocument {
            lang: Some("ja".into()),
            price: Some("USDT 150/个".into()),
            posted_at: at(10),
            customers: vec!["japan-post".into()],
            ..doc("c", "ゆうちょ銀行 四件套", "ﾕｳﾁｮ 通帳+カード")
        },
        IndexDocument {
            site: "RuMarket".into(),
            kind: "post".into(),
            lang: Some("ru".into()),
            price: Some("$500".into()),
            fetched_at: at(20),
            ..doc("d", "Продам доступ", "MUFG customer database, fresh")
        },
        IndexDocument {
            lang: Some("zh".into()),
            price: Some("200元".into()),
            ..doc("e", "總務省 内部资料", "总务省 文件 打包")
        },
    ];
    for d in &docs {
        let _ = index.upsert(d).expect("upsert");
    }
    index.commit().expect("commit");
    (dir, index)
}

fn ids_for(index: &DocumentIndex, request: SearchRequest) -> Vec<String> {
    let (_, hits) = index
        .search(&SearchRequest {
            limit: 50,
            ..request
        })
        .expect("search");
    hits.into_iter().map(|h| h.document.id).collect()
}

fn ids(index: &DocumentIndex, q: &str) -> Vec<String> {
    let mut ids = ids_for(
        index,
        SearchRequest {
            query: q.into(),
            ..Default::default()
        },
    );
    ids.sort();
    ids
}

#[test]
fn folding_cases_of_issue_7() {
    let (_dir, index) = corpus();
    // Kanji variants: Japanese, simplified, and the compatibility ideograph 行 (U+FA08).
    assert_eq!(ids(&index, "銀行"), ["a", "b", "c"]);
    assert_eq!(ids(&index, "银行"), ["a", "b", "c"]);
    assert_eq!(ids(&index, "銀\u{FA08}"), ["a", "b", "c"]);
    // Full-width Latin.
    assert_eq!(ids(&index, "三菱UFJ"), ["b"]);
    assert_eq!(ids(&index, "三菱ＵＦＪ"), ["b"]);
    // Kana: hiragana ≡ katakana ≡ half-width katakana.
    assert_eq!(ids(&index, "ゆうちょ"), ["c"]);
    assert_eq!(ids(&index, "ユウチョ"), ["c"]);
    assert_eq!(ids(&index, "ﾕｳﾁｮ"), ["c"]);
    // Shinjitai, traditional and simplified.
    for q in ["総務省", "總務省", "总务省"] {
        assert_eq!(ids(&index, q), ["e"], "{q}");
    }
    // Case, Cyrillic, and a Cyrillic look-alike М in MUFG.
    assert_eq!(ids(&index, "продам"), ["d"]);
    assert_eq!(ids(&index, "mufg"), ["d"]);
    assert_eq!(ids(&index, "\u{041C}UFG"), ["d"]);
    // One character finds it inside words (index unigrams).
    assert_eq!(ids(&index, "行"), ["a", "b", "c"]);
    assert_eq!(ids(&index, "菱"), ["a", "b"]);
}

#[test]
fn query_language() {
    let (_dir, index) = corpus();
    assert_eq!(ids(&index, "三菱日联"), ["a"]);
    assert_eq!(ids(&index, "\"银行网银\""), ["a"]);
    assert!(ids(&index, "\"网银银行\"").is_empty());
    assert_eq!(ids(&index, "\"三菱 UFJ 銀行\""), ["b"]);
    assert_eq!(ids(&index, "三菱 AND 担保"), ["a"]);
    assert_eq!(ids(&index, "担保 OR 発送"), ["a", "b"]);
    assert_eq!(ids(&index, "銀行 NOT 口座"), ["a", "c"]);
    assert_eq!(ids(&index, "銀行 -ゆうちょ"), ["a", "b"]);
    assert_eq!(ids(&index, "site:rumarket"), ["d"]);
    assert_eq!(ids(&index, "site:RuMarket"), ["d"]);
    assert_eq!(ids(&index, "lang:ja"), ["b", "c"]);
    assert_eq!(ids(&index, "kind:post"), ["d"]);
    assert_eq!(ids(&index, "seller:fullbitmin"), ["a"]);
    assert_eq!(ids(&index, "customer:mufg-group"), ["a", "b"]);
    // An empty query lists everything (filters alone).
    assert_eq!(ids(&index, ""), ["a", "b", "c", "d", "e"]);
}

#[test]
fn prices_are_searchable_by_amount_and_currency() {
    let (_dir, index) = corpus();
    assert_eq!(ids(&index, "currency:btc"), ["a"]);
    assert_eq!(ids(&index, "currency:JPY"), ["b"]);
    assert_eq!(ids(&index, "currency:usdt"), ["c"]);
    assert_eq!(ids(&index, "currency:cny"), ["e"]);
    assert_eq!(ids(&index, "amount:[100 TO 600]"), ["c", "d", "e"]);
    assert_eq!(ids(&index, "amount:>1000"), ["b"]);
    assert_eq!(ids(&index, "currency:usd AND amount:<1000"), ["d"]);
    let (_, hits) = index
        .search(&SearchRequest {
            query: "三菱日联".into(),
            limit: 1,
            ..Default::default()
        })
        .expect("search");
    let price = hits[0].price.expect("parsed price");
    assert_eq!((price.amount, price.currency), (0.35, Some(Currency::Btc)));
}

#[test]
fn filters_of_the_cli_flags() {
    let (_dir, index) = corpus();
    let q = |request: SearchRequest| {
        let mut v = ids_for(&index, request);
        v.sort();
        v
    };
    // --site (any case)
    let site = |s: &str| SearchRequest {
        site: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(q(site("RUMARKET")), ["d"]);
    assert_eq!(q(site("deepmix")), ["a", "b", "c", "e"]);
    // --customer
    let customer = SearchRequest {
        customer: Some("mufg-group".into()),
        query: "銀行".into(),
        ..Default::default()
    };
    assert_eq!(q(customer), ["a", "b"]);
    // --since (inclusive) and --until (exclusive), on posted_at else fetched_at;
    // documents with no date never match a date filter.
    let range = |since: Option<u32>, until: Option<u32>| SearchRequest {
        since: since.and_then(at),
        until: until.and_then(at),
        ..Default::default()
    };
    assert_eq!(q(range(Some(5), None)), ["b", "c", "d"]);
    assert_eq!(q(range(None, Some(10))), ["a", "b"]);
    assert_eq!(q(range(Some(5), Some(20))), ["b", "c"]);
    assert_eq!(q(range(Some(21), None)), Vec::<String>::new());
}

#[test]
fn sorting_and_paging() {
    let (_dir, index) = corpus();
    let page = |offset: usize, limit: usize, sort: SortOrder| {
        index
            .search(&SearchRequest {
                offset,
                limit,
                sort,
                ..Default::default()
            })
            .expect("search")
    };
    // --sort date: newest first, the undated document last.
    let (total, hits) = page(0, 10, SortOrder::Date);
    assert_eq!(total, 5);
    let order: Vec<&str> = hits.iter().map(|h| h.document.id.as_str()).collect();
    assert_eq!(order, ["d", "c", "b", "a", "e"]);
    // --offset/--limit page through the same order without overlap.
    let pages: Vec<String> = (0..3)
        .flat_map(|p| page(p * 2, 2, SortOrder::Date).1)
        .map(|h| h.document.id)
        .collect();
    assert_eq!(pages, ["d", "c", "b", "a", "e"]);
    let (total, beyond) = page(10, 5, SortOrder::Date);
    assert_eq!((total, beyond.len()), (5, 0));
    // --sort score: the title match (boosted) ranks above the body match, and
    // scores do not increase down the list.
    let (_, hits) = index
        .search(&SearchRequest {
            query: "总务省".into(),
            limit: 10,
            ..Default::default()
        })
        .expect("search");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let (_, hits) = index
        .search(&SearchRequest {
            query: "mufg OR 三菱".into(),
            limit: 10,
            ..Default::default()
        })
        .expect("search");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(hits[0].score > 0.0);
}

#[test]
fn snippets_mark_the_original_text() {
    let (_dir, index) = corpus();
    let marked = |q: &str| {
        let (_, hits) = index
            .search(&SearchRequest {
                query: q.into(),
                limit: 1,
                ..Default::default()
            })
            .expect("search");
        let s = &hits[0].snippet;
        s.ranges
            .iter()
            .map(|r| s.text[r.clone()].to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(marked("三菱UFJ"), ["三菱ＵＦＪ"]);
    assert_eq!(marked("ユウチョ"), ["ﾕｳﾁｮ"]);
    assert_eq!(marked("总务省 打包"), ["总务省", "打包"]);
    assert_eq!(marked("mufg"), ["MUFG"]);
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let (_dir, mut index) = corpus();
    let _ = index
        .upsert(&doc("a", "已售出", "nothing left"))
        .expect("upsert");
    // Not visible before the commit.
    assert_eq!(ids(&index, "三菱日联"), ["a"]);
    index.commit().expect("commit");
    assert!(ids(&index, "三菱日联").is_empty());
    assert_eq!(ids(&index, "已售出"), ["a"]);
    assert_eq!(index.num_docs(), 5);
    // The same id twice in one batch keeps the last.
    let _ = index.upsert(&doc("f", "first", "x")).expect("upsert");
    let _ = index.upsert(&doc("f", "second", "x")).expect("upsert");
    index.commit().expect("commit");
    assert!(ids(&index, "first").is_empty());
    assert_eq!(ids(&index, "second"), ["f"]);
    let _ = index.delete("f").expect("delete");
    index.commit().expect("commit");
    assert_eq!(index.get("f").expect("get"), None);
    assert_eq!(index.num_docs(), 5);
    let stored = index.get("b").expect("get").expect("b is stored");
    assert_eq!(stored.price.as_deref(), Some("5,000円"));
    assert_eq!(stored.alerts, ["mufg-group/mufg"]);
}

#[test]
fn one_character_prefix_and_negative_queries() {
    let (_dir, mut index) = corpus();
    let _ = index
        .upsert(&doc("f", "网银U盾账号", "第1号 包邮"))
        .expect("upsert");
    let _ = index
        .upsert(&doc("g", "全新U盾", "fresh stock"))
        .expect("upsert");
    index.commit().expect("commit");
    // A character inside a run, at its end, and alone.
    assert_eq!(ids(&index, "盾"), ["f", "g"]);
    assert_eq!(ids(&index, "号"), ["f"]);
    assert_eq!(ids(&index, "邮"), ["f"]);
    // A Latin letter then one CJK character: the character is a prefix.
    assert_eq!(ids(&index, "U盾"), ["f", "g"]);
    assert_eq!(ids(&index, "\"U盾账\""), ["f"]);
    // An explicit prefix.
    assert_eq!(ids(&index, "fres*"), ["d", "g"]);
    assert_eq!(ids(&index, "\"fres\"*"), ["d", "g"]);
    assert_eq!(ids(&index, "\"u 盾\"*"), ["f", "g"]);
    // Only exclusions: everything else.
    assert_eq!(ids(&index, "NOT 銀行"), ["d", "e", "f", "g"]);
    assert_eq!(ids(&index, "-銀行 -盾"), ["d", "e"]);
}

#[test]
fn a_title_hit_ranks_above_a_body_hit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
    let filler = "数据 ".repeat(20);
    let _ = index
        .upsert(&doc("body", "数据打包", &format!("{filler} 瑞穗银行 网银")))
        .expect("upsert");
    let _ = index
        .upsert(&doc("title", "瑞穗银行 网银", &filler))
        .expect("upsert");
    index.commit().expect("commit");
    let ranked = ids_for(
        &index,
        SearchRequest {
            query: "瑞穗银行".into(),
            ..Default::default()
        },
    );
    assert_eq!(ranked, ["title", "body"]);
}

#[test]
fn scan_reads_every_match_once() {
    let (_dir, index) = corpus();
    let scan = index
        .scan(&SearchRequest {
            site: Some("deepmix".into()),
            limit: 1,
            ..Default::default()
        })
        .expect("scan");
    assert_eq!(scan.remaining(), 4);
    let mut ids: Vec<String> = scan.map(|d| d.expect("stored").id).collect();
    ids.sort();
    assert_eq!(ids, ["a", "b", "c", "e"]);
    let since = index
        .scan(&SearchRequest {
            since: at(5),
            ..Default::default()
        })
        .expect("scan");
    assert_eq!(since.count(), 3);
}

#[test]
fn a_filter_only_query_shows_the_start_of_the_body() {
    let (_dir, index) = corpus();
    let (_, hits) = index
        .search(&SearchRequest {
            query: "currency:btc".into(),
            limit: 1,
            ..Default::default()
        })
        .expect("search");
    assert_eq!(hits[0].snippet.text, "带登录密码，支持担保");
    assert!(hits[0].snippet.ranges.is_empty());
}

#[test]
fn everyday_text_is_not_a_syntax_error() {
    let (_dir, mut index) = corpus();
    let _ = index
        .upsert(&doc(
            "h",
            "Selling C++ source, mail x@mufg.jp",
            "see http://shop.onion/item?id=5 and mufg.jp 50% off",
        ))
        .expect("upsert");
    index.commit().expect("commit");
    for q in [
        "x@mufg.jp",
        "mufg.jp",
        "http://shop.onion/item?id=5",
        "50%",
        "C++",
        "价格：100",
    ] {
        let result = index.search(&SearchRequest {
            query: q.into(),
            limit: 5,
            ..Default::default()
        });
        match result {
            Ok((n, _)) if q != "价格：100" => assert_eq!(n, 1, "{q}"),
            Ok(_) => {}
            Err(e) => panic!("{q}: {e}"),
        }
    }
}

#[test]
fn a_phrase_matches_only_contiguous_text() {
    // Phrases skip every other bigram (see `query`); these documents hold
    // the words split by punctuation, a word, or another character.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
    for (id, body) in [
        ("whole", "出售三菱日联银行客户数据库"),
        ("punct", "三菱。日联银行，客户、数据库"),
        ("word", "三菱 abc 日联银行 客户 x 数据库"),
        ("char", "三菱X日联银行 客户X数据库"),
    ] {
        let _ = index.upsert(&doc(id, "listing", body)).expect("upsert");
    }
    index.commit().expect("commit");
    assert_eq!(ids(&index, "三菱日联银行"), ["whole"]);
    assert_eq!(ids(&index, "三菱日联"), ["whole"]);
    assert_eq!(ids(&index, "客户数据库"), ["whole"]);
    assert_eq!(ids(&index, "日联银行"), ["char", "punct", "whole", "word"]);
    assert_eq!(ids(&index, "\"三菱 abc 日联银行\""), ["word"]);
}
