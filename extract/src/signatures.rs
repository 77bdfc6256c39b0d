//! Change detection of extracted pages: a hash of what was extracted (not of
//! the volatile HTML around it), and which topics a list page shows as
//! having new replies (the text of each topic's row changed). Pure: no I/O.

use scraper::{ElementRef, Html, Selector};
use siphasher::sip128::{Hasher128, SipHasher13};
use url::Url;

use crate::canonical::CanonicalUrl;
use crate::document::Document;
use crate::rules::SiteRules;
use crate::scope::admit;

/// A stable digest (hex) of the documents of one page: their content
/// fields, not `fetched_at`. Equal digests mean nothing new to report.
pub fn content_hash(documents: &[Document]) -> String {
    let mut h = SipHasher13::new();
    for d in documents {
        let fields = [
            Some(d.id.as_str()),
            d.title.as_deref(),
            d.body.as_deref(),
            d.price.as_deref(),
            d.seller.as_deref(),
            d.category.as_deref(),
            d.posted_at.as_deref(),
        ];
        for f in fields {
            // Length-prefixed so that field boundaries cannot shift.
            let f = f.unwrap_or("\u{0}");
            std::hash::Hasher::write(&mut h, &(f.len() as u64).to_le_bytes());
            std::hash::Hasher::write(&mut h, f.as_bytes());
        }
    }
    format!("{:032x}", h.finish128().as_u128())
}

/// For each in-scope topic link of a list page, a digest of the text of the
/// row it sits in (the nearest `tr` or `li`, else its parent): reply
/// counts and last-post times live there, so a changed digest means the
/// topic changed. First occurrence of a topic wins.
pub fn topic_row_signatures(
    profile: &SiteRules,
    page_url: &Url,
    page: &Html,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> Vec<(CanonicalUrl, String)> {
    let anchors = Selector::parse("a[href]").expect("a[href] is a valid selector");
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for a in page.select(&anchors) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let Some(link) = crate::canonical::resolve_href(page_url, href, encoding) else {
            continue;
        };
        let Ok(link) = admit(profile, link) else {
            continue;
        };
        if !profile.topic.url.is_match(link.as_str()) || !seen.insert(link.clone()) {
            continue;
        }
        let row = row_of(a);
        let mut h = SipHasher13::new();
        for word in row.text().flat_map(str::split_whitespace) {
            std::hash::Hasher::write(&mut h, word.as_bytes());
            std::hash::Hasher::write(&mut h, b" ");
        }
        out.push((link, format!("{:032x}", h.finish128().as_u128())));
    }
    out
}

fn row_of(a: ElementRef<'_>) -> ElementRef<'_> {
    let mut parent = None;
    for ancestor in a.ancestors().filter_map(ElementRef::wrap) {
        if parent.is_none() {
            parent = Some(ancestor);
        }
        match ancestor.value().name() {
            "tr" | "li" => return ancestor,
            "table" | "ul" | "ol" | "body" => break,
            _ => {}
        }
    }
    parent.unwrap_or(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const PROFILE: &str = r#"
name = "b"
base_url = "http://127.0.0.1/forum/"
[links]
follow = ["a.topictitle"]
[topic]
url = 'viewtopic\.php\?t=\d+$'
title = "h2"
body = "div.content"
"#;

    // phpBB prosilver topic list rows: title link, reply count, last post.
    fn list(replies_1: u32) -> String {
        format!(
            r#"<ul class="topiclist topics">
<li class="row"><dl><dt><a class="topictitle" href="./viewtopic.php?t=1&amp;sid=abc">出售 银行卡</a></dt>
<dd class="posts">{replies_1} <dfn>回复</dfn></dd><dd class="lastpost">2026-11-20 19:16</dd></dl></li>
<li class="row"><dl><dt><a class="topictitle" href="./viewtopic.php?t=2">收 账号</a></dt>
<dd class="posts">0 <dfn>回复</dfn></dd><dd class="lastpost">2026-11-19 08:00</dd></dl></li>
</ul>"#
        )
    }

    fn signatures(html: &str) -> Vec<(String, String)> {
        let p = SiteRules::parse(PROFILE, Path::new("b.toml")).expect("valid");
        let url = Url::parse("http://127.0.0.1/forum/viewforum.php?f=2").expect("url");
        topic_row_signatures(&p, &url, &Html::parse_document(html), None)
            .into_iter()
            .map(|(u, s)| (u.to_string(), s))
            .collect()
    }

    #[test]
    fn a_new_reply_changes_only_that_topics_signature() {
        let before = signatures(&list(3));
        let after = signatures(&list(4));
        assert_eq!(before.len(), 2);
        assert_eq!(before[0].0, "http://127.0.0.1/forum/viewtopic.php?t=1");
        assert_ne!(before[0].1, after[0].1);
        assert_eq!(before[1], after[1]);
        assert_eq!(signatures(&list(3)), before, "stable across calls");
    }

    #[test]
    fn content_hash_ignores_fetch_time_but_not_content() {
        let doc = Document {
            id: "b:1".into(),
            title: Some("出售".into()),
            body: Some("x".into()),
            fetched_at: Some("2026-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let mut later = doc.clone();
        later.fetched_at = Some("2026-02-01T00:00:00Z".into());
        assert_eq!(
            content_hash(std::slice::from_ref(&doc)),
            content_hash(&[later])
        );
        let mut edited = doc.clone();
        edited.body = Some("x (edited)".into());
        assert_ne!(
            content_hash(std::slice::from_ref(&doc)),
            content_hash(&[edited])
        );
        // Moving text between fields is a change too.
        let shifted = Document {
            title: Some("出售x".into()),
            body: Some(String::new()),
            ..doc.clone()
        };
        assert_ne!(content_hash(&[doc]), content_hash(&[shifted]));
    }
}
