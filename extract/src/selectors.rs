//! The extraction half of a site profile: where each field of a list row or a
//! topic page is, as written in TOML (`[list]`, `[topic]`) and compiled.
//! Engine presets and profiles share this shape, so a profile overrides a
//! preset field by field. Compiling only: no page is read here.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use scraper::Selector;
use serde::Deserialize;

use crate::document::DocumentKind;
use crate::error::ProfileError;

/// One field as written: a CSS selector, a table, or a list of either
/// (alternatives, tried in order until one yields a value).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawField {
    // Alternatives first: serde would read a list of strings as a table's
    // fields in order.
    Alternatives(Vec<RawFieldOne>),
    One(RawFieldOne),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawFieldOne {
    Css(String),
    Spec(RawFieldSpec),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFieldSpec {
    #[serde(default)]
    css: Option<String>,
    #[serde(default)]
    attr: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    pick: Option<Pick>,
    #[serde(default)]
    drop: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    page: bool,
}

/// `[topic]`: which URLs are topic pages and where their fields are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTopic {
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    kind: Option<DocumentKind>,
    #[serde(default)]
    title: Option<RawField>,
    #[serde(default)]
    body: Option<RawField>,
    #[serde(default)]
    price: Option<RawField>,
    #[serde(default)]
    seller: Option<RawField>,
    #[serde(default)]
    posted_at: Option<RawField>,
    #[serde(default)]
    category: Option<RawField>,
    #[serde(default)]
    listing_number: Option<RawField>,
    #[serde(default)]
    replies: Option<RawField>,
    #[serde(default)]
    extra: BTreeMap<String, RawField>,
}

/// `[list]`: the rows of a list page (forum index, search results, a
/// market's category page) and where each row's fields are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawList {
    #[serde(default)]
    row: Option<String>,
    #[serde(default)]
    kind: Option<DocumentKind>,
    #[serde(default)]
    title: Option<RawField>,
    #[serde(default)]
    link: Option<RawField>,
    #[serde(default)]
    price: Option<RawField>,
    #[serde(default)]
    seller: Option<RawField>,
    #[serde(default)]
    posted_at: Option<RawField>,
    #[serde(default)]
    category: Option<RawField>,
    #[serde(default)]
    replies: Option<RawField>,
    #[serde(default)]
    extra: BTreeMap<String, RawField>,
}

/// Which of several matching elements a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pick {
    /// The first in page order that yields a value (the default).
    #[default]
    First,
    /// The last that yields a value (the innermost breadcrumb).
    Last,
}

/// How one field is found, one alternative of a [`FieldRule`].
///
/// `css` selects elements (none: the row itself, or nothing when `url` is
/// given); the first one (or last, by `pick`) whose text starts with `label`
/// (when given) is used: its `attr`, or its text without `drop`ped elements,
/// with the label cut off — or, when the label is alone in its element (a
/// `<td>交易编号:</td><td>8647</td>` table), the next element's text. Then
/// `regex`'s first capture group (or whole match) is kept. `url` is a regex
/// on the page URL instead of the page. `page` makes a list-row field look at
/// the whole page.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// The elements the value is read from, searched within the list row
    /// (on a topic page, the page); `None`: that row or page itself.
    pub css: Option<Selector>,
    /// `css` as written, for `--explain`; empty when there is none.
    pub css_source: String,
    /// The attribute read instead of the text (`href`, `title`,
    /// `datetime`); with a `label`, the attribute of the element after the
    /// label's.
    pub attr: Option<String>,
    /// Text the element must start with (`交易编号`); it is cut off the
    /// value with the `:` or `：` after it. A label alone in its element
    /// takes the next element's value.
    pub label: Option<String>,
    /// Narrows the value to the regex's first capture group (or its whole
    /// match); a value it does not match is no value.
    pub regex: Option<Regex>,
    /// Which element wins when `css` matches several that yield a value.
    pub pick: Pick,
    /// Elements left out of the text (signatures, quoted posts).
    pub drop: Option<Selector>,
    /// A regex on the page URL whose first capture group (or whole match)
    /// is the value; the page itself is not read.
    pub url: Option<Regex>,
    /// Search `css` in the whole page, not only in the list row: the
    /// board's name above its rows, as each row's category.
    pub page: bool,
}

impl FieldSpec {
    /// A short human form for `--explain`: `dl.info dd [label 交易编号] @href /re/`.
    pub fn describe(&self) -> String {
        let mut out = match &self.url {
            Some(re) => format!("page URL =~ /{}/", re.as_str()),
            None if self.css_source.is_empty() => "(the row itself)".to_owned(),
            None => self.css_source.clone(),
        };
        if self.page {
            out.push_str(" (whole page)");
        }
        if let Some(label) = &self.label {
            out.push_str(&format!(" [label {label:?}]"));
        }
        if let Some(attr) = &self.attr {
            out.push_str(&format!(" @{attr}"));
        }
        if self.pick == Pick::Last {
            out.push_str(" (last)");
        }
        if let Some(re) = self.regex.as_ref().filter(|_| self.url.is_none()) {
            out.push_str(&format!(" =~ /{}/", re.as_str()));
        }
        out
    }
}

/// Where a rule came from, for `--explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOrigin {
    /// The site profile file.
    Profile,
    /// A shipped engine preset (its name).
    Preset(&'static str),
}

impl std::fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleOrigin::Profile => f.write_str("profile"),
            RuleOrigin::Preset(name) => write!(f, "preset {name}"),
        }
    }
}

/// A field's alternatives, tried in order; never empty.
#[derive(Debug, Clone)]
pub struct FieldRule {
    /// The ways to find the field, tried in order until one yields a value.
    pub alternatives: Vec<FieldSpec>,
    /// The profile or the preset that wrote the rule, for `--explain`.
    pub origin: RuleOrigin,
}

/// Selectors of a topic (listing/thread) page. Fields left `None` fall back
/// to the engine preset, if any.
#[derive(Debug, Clone)]
pub struct TopicSelectors {
    /// Which pages are topic pages (regex on the full URL).
    pub url: Regex,
    /// The kind of a topic page's document; with neither the profile nor
    /// the preset naming one, a post.
    pub kind: Option<DocumentKind>,
    /// Where the topic's title is.
    pub title: Option<FieldRule>,
    /// Where the text of the listing or first post is.
    pub body: Option<FieldRule>,
    /// Where the price is (tidied, then parsed into amount and currency).
    pub price: Option<FieldRule>,
    /// Where the seller's or first poster's name is.
    pub seller: Option<FieldRule>,
    /// Where the posting date is; the first alternative whose text reads
    /// as a date wins.
    pub posted_at: Option<FieldRule>,
    /// Where the board or category name is (often the last breadcrumb).
    pub category: Option<FieldRule>,
    /// Where the market's listing number is; it makes the document's id.
    pub listing_number: Option<FieldRule>,
    /// Where the reply count is, kept as the `replies` extra field.
    pub replies: Option<FieldRule>,
    /// Further labelled fields (`price_usd`, `trade_type`), kept in
    /// [`Document::extra`](crate::Document::extra).
    pub extra: Vec<(String, FieldRule)>,
}

/// Selectors of a list page's rows.
#[derive(Debug, Clone, Default)]
pub struct ListSelectors {
    /// The rows of a list page: the compiled selector and its text (for
    /// messages); a row is one topic or listing.
    pub row: Option<(Selector, String)>,
    /// The kind of a row's document; with neither the profile nor the
    /// preset naming one, a thread.
    pub kind: Option<DocumentKind>,
    /// Where a row's title is; a row without one yields no document.
    pub title: Option<FieldRule>,
    /// Where a row's link to its topic page is (an `href`); a row whose
    /// link the crawl visits anyway is left to that page. Without it the
    /// row's document takes the list page's URL.
    pub link: Option<FieldRule>,
    /// Where a row's price is.
    pub price: Option<FieldRule>,
    /// Where a row's seller or topic starter is.
    pub seller: Option<FieldRule>,
    /// Where a row's posting date is.
    pub posted_at: Option<FieldRule>,
    /// Where a row's category is.
    pub category: Option<FieldRule>,
    /// Where a row's reply count is: the crawl revisits a topic whose count
    /// went up.
    pub replies: Option<FieldRule>,
    /// Further named fields of a row, kept in
    /// [`Document::extra`](crate::Document::extra).
    pub extra: Vec<(String, FieldRule)>,
}

/// Compiles selectors and patterns, naming `path` and the field in errors.
pub(crate) struct Compiler<'a> {
    pub path: &'a Path,
    pub origin: RuleOrigin,
}

impl Compiler<'_> {
    fn invalid(&self, field: &str, message: String) -> ProfileError {
        ProfileError::Invalid {
            path: self.path.to_owned(),
            field: field.to_owned(),
            message,
        }
    }

    pub(crate) fn selector(&self, field: &str, css: &str) -> Result<Selector, ProfileError> {
        Selector::parse(css)
            .map_err(|e| self.invalid(field, format!("bad CSS selector {css:?}: {e}")))
    }

    pub(crate) fn regex(&self, field: &str, re: &str) -> Result<Regex, ProfileError> {
        Regex::new(re).map_err(|e| self.invalid(field, format!("bad regex {re:?}: {e}")))
    }

    fn spec(&self, name: &str, raw: RawFieldOne) -> Result<FieldSpec, ProfileError> {
        let spec = match raw {
            RawFieldOne::Css(css) => RawFieldSpec {
                css: Some(css),
                attr: None,
                label: None,
                regex: None,
                pick: None,
                drop: None,
                url: None,
                page: false,
            },
            RawFieldOne::Spec(spec) => spec,
        };
        if spec.url.is_none() && spec.css.is_none() && spec.attr.is_none() {
            return Err(self.invalid(
                name,
                "give css (a selector), attr (of the row itself) or url (a regex on the page URL)"
                    .into(),
            ));
        }
        if spec.url.is_some() && (spec.css.is_some() || spec.attr.is_some() || spec.label.is_some())
        {
            return Err(self.invalid(
                name,
                "`url` reads the page URL; it cannot be combined with css, attr or label".into(),
            ));
        }
        Ok(FieldSpec {
            css: spec
                .css
                .as_deref()
                .map(|css| self.selector(name, css))
                .transpose()?,
            css_source: spec.css.unwrap_or_default(),
            attr: spec.attr,
            label: spec.label,
            regex: spec
                .regex
                .as_deref()
                .map(|r| self.regex(name, r))
                .transpose()?,
            pick: spec.pick.unwrap_or_default(),
            drop: spec
                .drop
                .as_deref()
                .map(|css| self.selector(name, css))
                .transpose()?,
            url: spec
                .url
                .as_deref()
                .map(|r| self.regex(name, r))
                .transpose()?,
            page: spec.page,
        })
    }

    pub(crate) fn field(
        &self,
        name: &str,
        raw: Option<RawField>,
    ) -> Result<Option<FieldRule>, ProfileError> {
        let alternatives = match raw {
            None => return Ok(None),
            Some(RawField::One(one)) => vec![one],
            Some(RawField::Alternatives(many)) => many,
        };
        if alternatives.is_empty() {
            return Err(self.invalid(
                name,
                "an empty list of alternatives; give at least one selector".into(),
            ));
        }
        let alternatives = alternatives
            .into_iter()
            .map(|one| self.spec(name, one))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(FieldRule {
            alternatives,
            origin: self.origin.clone(),
        }))
    }

    fn extra(
        &self,
        section: &str,
        raw: BTreeMap<String, RawField>,
    ) -> Result<Vec<(String, FieldRule)>, ProfileError> {
        let mut out = Vec::new();
        for (name, field) in raw {
            let key = format!("{section}.extra.{name}");
            if let Some(rule) = self.field(&key, Some(field))? {
                out.push((name, rule));
            }
        }
        Ok(out)
    }

    /// Compiles `[topic]`; `url` is the topic pattern already chosen (the
    /// profile's, or the preset's).
    pub(crate) fn topic(&self, raw: RawTopic, url: Regex) -> Result<TopicSelectors, ProfileError> {
        Ok(TopicSelectors {
            url,
            kind: raw.kind,
            title: self.field("topic.title", raw.title)?,
            body: self.field("topic.body", raw.body)?,
            price: self.field("topic.price", raw.price)?,
            seller: self.field("topic.seller", raw.seller)?,
            posted_at: self.field("topic.posted_at", raw.posted_at)?,
            category: self.field("topic.category", raw.category)?,
            listing_number: self.field("topic.listing_number", raw.listing_number)?,
            replies: self.field("topic.replies", raw.replies)?,
            extra: self.extra("topic", raw.extra)?,
        })
    }

    /// Compiles `[list]`.
    pub(crate) fn list(&self, raw: RawList) -> Result<ListSelectors, ProfileError> {
        Ok(ListSelectors {
            row: raw
                .row
                .map(|css| self.selector("list.row", &css).map(|s| (s, css)))
                .transpose()?,
            kind: raw.kind,
            title: self.field("list.title", raw.title)?,
            link: self.field("list.link", raw.link)?,
            price: self.field("list.price", raw.price)?,
            seller: self.field("list.seller", raw.seller)?,
            posted_at: self.field("list.posted_at", raw.posted_at)?,
            category: self.field("list.category", raw.category)?,
            replies: self.field("list.replies", raw.replies)?,
            extra: self.extra("list", raw.extra)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(toml_text: &str) -> Result<TopicSelectors, ProfileError> {
        let raw: RawTopic = toml::from_str(toml_text).expect("valid TOML of [topic]");
        let c = Compiler {
            path: Path::new("t.toml"),
            origin: RuleOrigin::Profile,
        };
        c.topic(raw, Regex::new("x").expect("valid"))
    }

    #[test]
    fn fields_take_three_shapes() {
        let t = compile(
            r#"
title = "h2"
body = { css = "div.content", drop = ".sig" }
price = [{ css = "td", label = "商品单价" }, "span.price"]
listing_number = { url = 't=(\d+)' }
[extra]
price_usd = { css = "td", label = "约合美金" }
"#,
        )
        .expect("valid");
        assert_eq!(t.title.as_ref().map(|r| r.alternatives.len()), Some(1));
        assert_eq!(t.price.as_ref().map(|r| r.alternatives.len()), Some(2));
        assert!(t
            .body
            .as_ref()
            .is_some_and(|r| r.alternatives[0].drop.is_some()));
        assert_eq!(
            t.listing_number
                .as_ref()
                .map(|r| r.alternatives[0].describe()),
            Some(r"page URL =~ /t=(\d+)/".to_owned())
        );
        assert_eq!(t.extra[0].0, "price_usd");
    }

    #[test]
    fn bad_fields_name_themselves() {
        let err = compile(r#"title = { css = "h2[[" }"#)
            .expect_err("a bad selector is rejected")
            .to_string();
        assert!(
            err.contains("topic.title") && err.contains("bad CSS"),
            "{err}"
        );
        let err = compile(r#"seller = { url = "x", css = "a" }"#)
            .expect_err("url with css is rejected")
            .to_string();
        assert!(err.contains("topic.seller"), "{err}");
        let err = compile("category = []")
            .expect_err("no alternatives is rejected")
            .to_string();
        assert!(err.contains("alternatives"), "{err}");
    }
}
