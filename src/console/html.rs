//! HTML that escapes by default: markup can only be written from string
//! literals (`&'static str`, chosen by us at compile time); every other
//! string — above all a crawled page's title and body — goes through
//! [`Html::text`], which escapes it. There is no way to insert a runtime
//! string as markup.

/// An HTML document or fragment being written.
#[derive(Debug, Default)]
pub(crate) struct Html {
    out: String,
}

/// `s` with `& < > " ' \`` escaped, safe in text and in a quoted attribute.
pub(crate) fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
}

impl Html {
    pub(crate) fn new() -> Html {
        Html::default()
    }

    /// Markup written in our source: tags, attribute names, literal text.
    pub(crate) fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.out.push_str(markup);
        self
    }

    /// Any runtime text, escaped (in element content or in a quoted
    /// attribute value).
    pub(crate) fn text(&mut self, text: &str) -> &mut Html {
        escape(text, &mut self.out);
        self
    }

    /// A number.
    pub(crate) fn num(&mut self, n: impl Into<i128>) -> &mut Html {
        self.out.push_str(&n.into().to_string());
        self
    }

    /// `<tag>escaped text</tag>` with literal `open` and `close`.
    pub(crate) fn wrap(
        &mut self,
        open: &'static str,
        text: &str,
        close: &'static str,
    ) -> &mut Html {
        self.raw(open).text(text).raw(close)
    }

    /// A local link: `href` must be one of our paths (starting with one
    /// `/`); anything else is written as text, never as a link.
    pub(crate) fn local_link(&mut self, href: &str, label: &str) -> &mut Html {
        if is_local_path(href) {
            self.raw("<a href=\"")
                .text(href)
                .raw("\">")
                .text(label)
                .raw("</a>")
        } else {
            self.text(label)
        }
    }

    /// A crawled URL: text to copy, never a link (an analyst's browser must
    /// not fetch from the crawled sites).
    pub(crate) fn crawled_url(&mut self, url: &str) -> &mut Html {
        self.raw("<code class=\"url\" title=\"copy, do not open\">")
            .text(url)
            .raw("</code>")
    }

    pub(crate) fn into_string(self) -> String {
        self.out
    }
}

/// Whether `href` is a path on this server (not `//host`, no scheme).
pub(crate) fn is_local_path(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("//") && !href.starts_with("/\\")
}

/// `key=value&…` with each value percent-encoded, for local links.
pub(crate) fn query_string(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_text_never_becomes_markup() {
        let hostile = r#"<script>window.__lw_pwned=1</script><img src=x onerror="alert(1)"><a href='javascript:alert(1)'>x</a>`"#;
        let mut h = Html::new();
        h.raw("<p title=\"")
            .text(hostile)
            .raw("\">")
            .text(hostile)
            .raw("</p>");
        h.local_link("javascript:alert(1)", "click");
        h.local_link("//evil.example/", "click");
        h.crawled_url("http://abc.onion/<b>");
        let s = h.into_string();
        assert!(
            !s.contains("<script") && !s.contains("<img") && !s.contains("<a "),
            "{s}"
        );
        assert!(
            !s.contains("onerror=\"") && !s.contains("'javascript"),
            "{s}"
        );
        assert!(s.contains("&lt;script&gt;") && s.contains("&#96;"), "{s}");
        assert!(s.contains(
            "<code class=\"url\" title=\"copy, do not open\">http://abc.onion/&lt;b&gt;</code>"
        ));
        let mut ok = Html::new();
        ok.local_link("/alerts?status=new", "new");
        assert_eq!(ok.into_string(), "<a href=\"/alerts?status=new\">new</a>");
        assert_eq!(
            query_string(&[("q", "三菱 UFJ"), ("site", "")]),
            "q=%E4%B8%89%E8%8F%B1+UFJ"
        );
    }
}
