//! Extraction: one decoded page plus its site profile → documents and the
//! in-site links to follow. Pure: no I/O, so it is tested on saved pages.

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::dates::parse_posted_at;
use crate::document::Document;
use crate::profile::{FieldSpec, SiteProfile};

/// What one page yielded.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    pub documents: Vec<Document>,
    /// In-site links allowed by the profile, without fragments, deduplicated,
    /// in page order.
    pub links: Vec<Url>,
}

/// Extracts documents and links from a page of `profile`'s site.
pub fn extract_page(
    profile: &SiteProfile,
    url: &Url,
    html: &str,
    fetched_at: DateTime<Utc>,
    encoding: Option<&str>,
) -> Extracted {
    let page = Html::parse_document(html);
    let links = follow_links(profile, url, &page);
    let mut documents = Vec::new();
    if profile.topic.url.is_match(url.as_str()) {
        if let Some(doc) = topic_document(profile, url, &page, fetched_at, encoding) {
            documents.push(doc);
        }
    }
    Extracted { documents, links }
}

fn topic_document(
    profile: &SiteProfile,
    url: &Url,
    page: &Html,
    fetched_at: DateTime<Utc>,
    encoding: Option<&str>,
) -> Option<Document> {
    let t = &profile.topic;
    let title = field(page, &t.title);
    let body = field(page, &t.body);
    if title.is_none() && body.is_none() {
        tracing::debug!(site = %profile.name, %url, "topic page without title or body");
        return None;
    }
    let get = |spec: &Option<FieldSpec>| spec.as_ref().and_then(|s| field(page, s));
    let listing_number = get(&t.listing_number);
    let posted_at = get(&t.posted_at)
        .and_then(|raw| parse_posted_at(&raw, profile.utc_offset_secs))
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Some(Document {
        id: document_id(profile, url, listing_number.as_deref()),
        site: profile.name.clone(),
        url: url.to_string(),
        kind: t.kind,
        lang: profile.lang.clone(),
        title,
        body,
        price: get(&t.price),
        seller: get(&t.seller),
        category: get(&t.category),
        listing_number,
        posted_at,
        fetched_at: Some(fetched_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        encoding: encoding.map(str::to_owned),
    })
}

/// A stable id: the site and its listing number, or else the site and the
/// page's path and query relative to the site root (so a new mirror host or
/// port keeps ids).
pub(crate) fn document_id(
    profile: &SiteProfile,
    url: &Url,
    listing_number: Option<&str>,
) -> String {
    if let Some(n) = listing_number.filter(|n| !n.is_empty()) {
        return format!("{}:{}", profile.name, n);
    }
    let path = url.path();
    let rel = path.strip_prefix(profile.base_url.path()).unwrap_or(path);
    match url.query() {
        Some(q) => format!("{}:{}?{}", profile.name, rel, q),
        None => format!("{}:{}", profile.name, rel),
    }
}

/// Text of the first element matching `spec` (after its label), trimmed and
/// with runs of blank space collapsed; `None` when absent or empty.
fn field(page: &Html, spec: &FieldSpec) -> Option<String> {
    for element in page.select(&spec.css) {
        let raw = match &spec.attr {
            Some(attr) => element.value().attr(attr).unwrap_or_default().to_owned(),
            None => element_text(element),
        };
        let raw = raw.trim();
        let value = match &spec.label {
            Some(label) => match raw.strip_prefix(label.as_str()) {
                Some(rest) => rest.trim_start_matches([':', '：', ' ', '\u{3000}']).trim(),
                None => continue,
            },
            None => raw,
        };
        let value = match &spec.regex {
            Some(re) => match re.captures(value) {
                Some(c) => c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str()),
                None => continue,
            },
            None => value,
        };
        if !value.is_empty() {
            return Some(value.to_owned());
        }
    }
    None
}

/// Visible text of an element: block elements and `<br>` become line breaks,
/// scripts and styles are dropped, blank runs collapse.
fn element_text(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    push_text(element, &mut out);
    let mut lines: Vec<String> = Vec::new();
    for line in out.lines() {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if !collapsed.is_empty() {
            lines.push(collapsed);
        }
    }
    lines.join("\n")
}

fn push_text(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        if let Some(text) = child.value().as_text() {
            out.push_str(text);
        } else if let Some(el) = ElementRef::wrap(child) {
            let name = el.value().name();
            match name {
                "script" | "style" | "noscript" | "template" => continue,
                "br" => out.push('\n'),
                _ => {}
            }
            let block = matches!(
                name,
                "p" | "div"
                    | "li"
                    | "tr"
                    | "dd"
                    | "dt"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "blockquote"
                    | "pre"
                    | "table"
                    | "ul"
                    | "ol"
                    | "dl"
            );
            if block {
                out.push('\n');
            }
            push_text(el, out);
            if block {
                out.push('\n');
            }
        }
    }
}

fn follow_links(profile: &SiteProfile, page_url: &Url, page: &Html) -> Vec<Url> {
    let base = page_base(page_url, page);
    let anchors = Selector::parse("a[href]").expect("a[href] is a valid selector");
    let mut seen = std::collections::HashSet::new();
    let mut links = Vec::new();
    for selector in &profile.links.follow {
        for element in page.select(selector) {
            let hrefs: Vec<&str> = if element.value().name() == "a" {
                element.value().attr("href").into_iter().collect()
            } else {
                element
                    .select(&anchors)
                    .filter_map(|a| a.value().attr("href"))
                    .collect()
            };
            for href in hrefs {
                let Ok(mut link) = base.join(href.trim()) else {
                    continue;
                };
                link.set_fragment(None);
                if !profile.contains(&link) {
                    continue;
                }
                let s = link.as_str();
                let allowed = profile.links.allow.is_empty()
                    || profile.links.allow.iter().any(|r| r.is_match(s));
                if !allowed || profile.links.deny.iter().any(|r| r.is_match(s)) {
                    continue;
                }
                if seen.insert(link.clone()) {
                    links.push(link);
                }
            }
        }
    }
    links
}

/// The page's `<base href>` if it has a valid one, else its own URL.
fn page_base(page_url: &Url, page: &Html) -> Url {
    let base = Selector::parse("base[href]").expect("base[href] is a valid selector");
    page.select(&base)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href).ok())
        .unwrap_or_else(|| page_url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const PROFILE: &str = r#"
name = "mkt"
base_url = "http://abc.onion/market/"
time_zone = "+08:00"
[links]
follow = ["a.topictitle", ".pagination"]
allow = ['viewforum\.php', 'viewtopic\.php']
deny = ['mode=login']
[topic]
url = 'viewtopic\.php\?t=\d+'
kind = "listing"
title = "h2.topic-title"
body = "div.postbody div.content"
price = { css = "dl.info dd", label = "商品单价", regex = '([\d.]+\s*BTC)' }
listing_number = { css = "dl.info dd", label = "交易编号" }
posted_at = { css = "dl.info dd", label = "交易发布时间" }
"#;

    const PAGE: &str = r#"<html><body>
<div class="navbar"><a href="./ucp.php?mode=login">登录</a></div>
<h2 class="topic-title">【出售】日本三菱日联银行网银账户</h2>
<dl class="info"><dd>交易编号：10001</dd><dd>商品单价：0.0123 BTC</dd><dd>交易发布时间：2026年-11月-20日 19:16</dd></dl>
<div class="postbody"><div class="content">带登录密码+密保<br>可转账<script>x()</script></div></div>
<div class="postbody"><div class="content">second post</div></div>
<div class="pagination"><a href="./viewforum.php?f=2&amp;start=5#top">2</a><a href="http://elsewhere.onion/viewtopic.php?t=1">x</a></div>
<a class="topictitle" href="./viewtopic.php?t=10002">next</a>
<a class="topictitle" href="./ucp.php?mode=login">login</a>
</body></html>"#;

    #[test]
    fn topic_page_yields_one_document_and_in_site_links() {
        let profile = SiteProfile::parse(PROFILE, Path::new("p.toml")).expect("valid");
        let url = Url::parse("http://abc.onion/market/viewtopic.php?t=10001").expect("url");
        let out = extract_page(&profile, &url, PAGE, Utc::now(), Some("GBK"));
        assert_eq!(out.documents.len(), 1);
        let d = &out.documents[0];
        assert_eq!(d.id, "mkt:10001");
        assert_eq!(d.title.as_deref(), Some("【出售】日本三菱日联银行网银账户"));
        assert_eq!(d.body.as_deref(), Some("带登录密码+密保\n可转账"));
        assert_eq!(d.price.as_deref(), Some("0.0123 BTC"));
        assert_eq!(d.posted_at.as_deref(), Some("2026-11-20T11:16:00Z"));
        let links: Vec<&str> = out.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            [
                "http://abc.onion/market/viewtopic.php?t=10002",
                "http://abc.onion/market/viewforum.php?f=2&start=5"
            ]
        );
    }

    #[test]
    fn list_page_is_not_a_document() {
        let profile = SiteProfile::parse(PROFILE, Path::new("p.toml")).expect("valid");
        let url = Url::parse("http://abc.onion/market/viewforum.php?f=2").expect("url");
        let out = extract_page(&profile, &url, PAGE, Utc::now(), None);
        assert!(out.documents.is_empty());
        assert_eq!(out.links.len(), 2);
    }
}
