//! URL canonicalisation: one spelling per page, so the frontier never holds
//! the same page twice. It never changes which page a URL names, except by
//! dropping the query parameters a profile declares meaningless (sessions,
//! tracking).

use std::borrow::Cow;
use std::fmt;

use encoding_rs::Encoding;
use url::Url;

/// Resolves `href` against `base` as a browser does on a page in
/// `encoding`: non-ASCII characters in the query are percent-encoded in the
/// page's encoding (WHATWG URL "encoding override"), so a GBK board's
/// `search.php?kw=银行` asks for what the board expects. Paths and
/// fragments are always UTF-8. `None`, UTF-8 and UTF-16 pages use UTF-8.
pub fn resolve_href(base: &Url, href: &str, encoding: Option<&'static Encoding>) -> Option<Url> {
    let href = href.trim();
    match encoding.filter(|e| *e != encoding_rs::UTF_8 && e.output_encoding() != encoding_rs::UTF_8)
    {
        Some(encoding) if !href.is_ascii() => {
            let encode = encoder(encoding);
            Url::options()
                .base_url(Some(base))
                .encoding_override(Some(&encode))
                .parse(href)
                .ok()
        }
        _ => base.join(href).ok(),
    }
}

/// Encodes query text in `encoding`. A character the encoding lacks
/// becomes an HTML numeric reference, escaped as browsers send it
/// (`%26%23128512%3B`), so its `&` and `;` do not split the parameter.
fn encoder(encoding: &'static Encoding) -> impl Fn(&str) -> Cow<'_, [u8]> {
    move |s| {
        let mut encoder = encoding.new_encoder();
        let mut out = Vec::with_capacity(s.len() * 2);
        let mut buf = [0u8; 1024];
        let mut rest = s;
        loop {
            let (result, read, written) =
                encoder.encode_from_utf8_without_replacement(rest, &mut buf, true);
            out.extend_from_slice(&buf[..written]);
            rest = &rest[read..];
            match result {
                encoding_rs::EncoderResult::InputEmpty => break,
                encoding_rs::EncoderResult::OutputFull => {}
                encoding_rs::EncoderResult::Unmappable(c) => {
                    out.extend_from_slice(format!("%26%23{}%3B", u32::from(c)).as_bytes());
                }
            }
        }
        Cow::Owned(out)
    }
}

/// The encoding named by `label` (as kept on a document), if known.
pub fn encoding_for_label(label: Option<&str>) -> Option<&'static Encoding> {
    label.and_then(|l| Encoding::for_label(l.trim().as_bytes()))
}

/// Query parameters dropped unless a profile says otherwise: phpBB `sid`,
/// MyBB `s`, PHP/Java session ids, click trackers, and the "jump to the
/// newest post" of forum engines (a link to the thread itself). A trailing
/// `*` is a prefix match; `name=value` drops the pair only with that value;
/// names and values compare case-insensitively.
pub const DEFAULT_STRIP_PARAMS: &[&str] = &[
    "action=lastpost",
    "action=newpost",
    "goto=lastpost",
    "goto=newpost",
    "view=getlastpost",
    "view=getnewpost",
    "sid",
    "s",
    "phpsessid",
    "sessionid",
    "session_id",
    "jsessionid",
    "utm_*",
    "fbclid",
    "gclid",
];

/// How a site's URLs are canonicalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRules {
    /// Lowercased parameter names (a trailing `*` matches a prefix).
    strip: Vec<String>,
    /// Sort the remaining parameters by name (stable: equal names keep
    /// their order).
    sort_query: bool,
}

impl Default for UrlRules {
    fn default() -> Self {
        UrlRules::new(DEFAULT_STRIP_PARAMS.iter().copied(), true)
    }
}

impl UrlRules {
    /// Rules that drop the query parameters matching `strip` (entries as in
    /// [`DEFAULT_STRIP_PARAMS`]: a name, a `prefix*` or a `name=value` pair,
    /// any case) and, if `sort_query`, sort the remaining ones by name.
    pub fn new<'a>(strip: impl IntoIterator<Item = &'a str>, sort_query: bool) -> UrlRules {
        UrlRules {
            strip: strip.into_iter().map(|s| s.to_ascii_lowercase()).collect(),
            sort_query,
        }
    }

    fn strips(&self, pair: &str) -> bool {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode_lossy(raw_name).to_ascii_lowercase();
        self.strip.iter().any(|p| {
            if let Some((n, v)) = p.split_once('=') {
                return name == n && percent_decode_lossy(raw_value).eq_ignore_ascii_case(v);
            }
            match p.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == *p,
            }
        })
    }
}

/// Why a URL has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL (held as written) is not http or https.
    #[error("{0}: only http and https URLs are crawled")]
    Scheme(String),
    /// The URL (held as written) has no host, or the text given to
    /// [`CanonicalUrl::parse`] is not an absolute URL at all.
    #[error("{0}: no host")]
    NoHost(String),
}

/// An absolute http(s) URL in canonical form: no fragment, lowercase host
/// without a trailing dot, no default port, percent-escapes in upper case
/// with unreserved characters decoded, `;jsessionid=` path parameters and
/// the rules' query parameters removed, the rest optionally sorted by name.
/// Canonicalising a canonical URL changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CanonicalUrl(Url);

impl CanonicalUrl {
    /// Canonicalises `url` with `rules`.
    pub fn new(mut url: Url, rules: &UrlRules) -> Result<CanonicalUrl, UrlError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlError::Scheme(url.to_string()));
        }
        let Some(host) = url.host_str().map(str::to_owned) else {
            return Err(UrlError::NoHost(url.to_string()));
        };
        url.set_fragment(None);
        let _ = url.set_username("");
        let _ = url.set_password(None);
        if let Some(trimmed) = host.strip_suffix('.').filter(|h| !h.is_empty()) {
            let trimmed = trimmed.to_ascii_lowercase();
            if url.set_host(Some(&trimmed)).is_err() {
                return Err(UrlError::NoHost(url.to_string()));
            }
        }
        let path = canonical_path(url.path());
        if path != url.path() {
            url.set_path(&path);
        }
        let query = url.query().map(|q| canonical_query(q, rules));
        match query {
            Some(q) if !q.is_empty() => url.set_query(Some(&q)),
            _ => url.set_query(None),
        }
        Ok(CanonicalUrl(url))
    }

    /// Parses and canonicalises a URL string.
    pub fn parse(text: &str, rules: &UrlRules) -> Result<CanonicalUrl, UrlError> {
        let url = Url::parse(text.trim()).map_err(|_| UrlError::NoHost(text.to_owned()))?;
        CanonicalUrl::new(url, rules)
    }

    /// The canonical URL, borrowed.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The canonical spelling: two URLs for one page give the same string.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The canonical URL, owned (a later change to it is no longer
    /// guaranteed canonical).
    pub fn into_url(self) -> Url {
        self.0
    }
}

impl fmt::Display for CanonicalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Path with normalised escapes and without `;jsessionid=…` parameters.
fn canonical_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let segment = match segment.to_ascii_lowercase().find(";jsessionid=") {
            Some(at) => &segment[..at],
            None => segment,
        };
        out.push_str(&normalise_escapes(segment));
    }
    out
}

fn canonical_query(query: &str, rules: &UrlRules) -> String {
    let mut pairs: Vec<(String, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| !rules.strips(p))
        .map(|p| {
            let key = p.split_once('=').map_or(p, |(k, _)| k);
            (normalise_escapes(key), p)
        })
        .collect();
    if rules.sort_query {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
    }
    pairs
        .iter()
        .map(|(_, p)| normalise_escapes(p))
        .collect::<Vec<_>>()
        .join("&")
}

/// Upper-cases the hex digits of `%xx` escapes and decodes escapes of
/// unreserved characters (RFC 3986 §6.2.2).
fn normalise_escapes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                let b = h * 16 + l;
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    out.push(char::from(b));
                } else {
                    out.push('%');
                    out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
                    out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
                }
                i += 3;
                continue;
            }
        }
        // `i` is always at a character boundary: escapes are ASCII.
        let next = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + next]);
        i += next;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn percent_decode_lossy(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        CanonicalUrl::parse(s, &UrlRules::default())
            .map(|c| c.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    const ONION: &str = "bbcnewsd73hkzno2ini43t4gblxvycyac5aw4gnv7t2rccijh7745uqd.onion";

    #[test]
    fn phpbb_session_id_and_fragment_are_dropped() {
        assert_eq!(
            canon(&format!("http://{ONION}/viewtopic.php?f=2&t=8647&sid=0123456789abcdef0123456789abcdef#p9001")),
            format!("http://{ONION}/viewtopic.php?f=2&t=8647")
        );
        // The same topic linked with parameters in another order.
        assert_eq!(
            canon(&format!("http://{ONION}/viewtopic.php?t=8647&sid=ff&f=2")),
            format!("http://{ONION}/viewtopic.php?f=2&t=8647")
        );
    }

    #[test]
    fn mybb_session_parameter_is_dropped() {
        assert_eq!(
            canon("http://forum.example/showthread.php?tid=4521&s=5b9e2f2a1c3d4e5f6a7b8c9d0e1f2a3b&page=2"),
            "http://forum.example/showthread.php?page=2&tid=4521"
        );
    }

    #[test]
    fn jump_to_the_newest_post_is_the_thread() {
        assert_eq!(
            canon("https://bf.example/Thread-Welcome?action=lastpost"),
            "https://bf.example/Thread-Welcome"
        );
        assert_eq!(
            canon("http://bbs.example/redirect.php?tid=60817&goto=lastpost#lastpost"),
            "http://bbs.example/redirect.php?tid=60817"
        );
        // Other values of the same names stay.
        assert_eq!(
            canon("http://f.example/index.php?action=profile;u=1"),
            "http://f.example/index.php?action=profile;u=1"
        );
    }

    #[test]
    fn discuz_thread_keeps_its_meaningful_parameters() {
        assert_eq!(
            canon("http://bbs.example/forum.php?mod=viewthread&tid=1234567&extra=page%3D1&utm_source=x"),
            "http://bbs.example/forum.php?extra=page%3D1&mod=viewthread&tid=1234567"
        );
    }

    #[test]
    fn xenforo_paths_survive_and_lose_their_fragment() {
        assert_eq!(
            canon("http://xf.example/threads/selling-bank-logs.123/page-2#post-456"),
            "http://xf.example/threads/selling-bank-logs.123/page-2"
        );
    }

    #[test]
    fn onion_hosts_are_lowercased_and_lose_a_trailing_dot() {
        let upper = ONION.to_ascii_uppercase();
        assert_eq!(
            canon(&format!("HTTP://{upper}.:80/index.php")),
            format!("http://{ONION}/index.php")
        );
    }

    #[test]
    fn cjk_paths_have_one_spelling() {
        let raw = canon("http://x.example/板块/数据-情报类/?page=1");
        let lower = canon("http://x.example/%e6%9d%bf%e5%9d%97/%e6%95%b0%e6%8d%ae-%e6%83%85%e6%8a%a5%e7%b1%bb/?page=1");
        assert_eq!(raw, lower);
        assert_eq!(
            raw,
            "http://x.example/%E6%9D%BF%E5%9D%97/%E6%95%B0%E6%8D%AE-%E6%83%85%E6%8A%A5%E7%B1%BB/?page=1"
        );
        // Escaped unreserved characters are decoded; reserved ones are kept.
        assert_eq!(
            canon("http://x.example/%7Euser/a%2Fb?q=%41%26"),
            "http://x.example/~user/a%2Fb?q=A%26"
        );
    }

    #[test]
    fn java_session_path_parameter_and_empty_query_are_removed() {
        assert_eq!(
            canon("http://x.example/list.do;jsessionid=ABC123?"),
            "http://x.example/list.do"
        );
        assert_eq!(canon("http://x.example/a?&&b=1&"), "http://x.example/a?b=1");
    }

    #[test]
    fn rules_are_configurable() {
        let rules = UrlRules::new(["token", "ref*"], false);
        let c = CanonicalUrl::parse(
            "http://x.example/a?z=1&token=t&referrer=r&s=keep&a=2",
            &rules,
        )
        .expect("url");
        assert_eq!(c.as_str(), "http://x.example/a?z=1&s=keep&a=2");
    }

    #[test]
    fn non_http_urls_have_no_canonical_form() {
        assert!(canon("javascript:alert(1)").starts_with("error"));
        assert!(canon("mailto:x@example.com").starts_with("error"));
        assert!(canon("ftp://x.example/file").starts_with("error"));
    }

    #[test]
    fn canonicalising_twice_changes_nothing() {
        for u in [
            "http://x.example/%e6%9d%bf?sid=1&b=%7e&a=%2f#x",
            "http://X.example./a/./b/../c?t=1",
            "https://x.example:443/?",
        ] {
            let once = canon(u);
            assert_eq!(canon(&once), once, "{u}");
        }
    }

    #[test]
    fn queries_on_legacy_pages_are_encoded_in_the_page_encoding() {
        let base = Url::parse("http://bbs.example/forum.php?mod=forumdisplay").expect("url");
        let gbk = resolve_href(&base, "search.php?kw=银行", Some(encoding_rs::GBK)).expect("gbk");
        assert_eq!(
            gbk.as_str(),
            "http://bbs.example/search.php?kw=%D2%F8%D0%D0"
        );
        let sjis =
            resolve_href(&base, "search?q=銀行", Some(encoding_rs::SHIFT_JIS)).expect("sjis");
        assert_eq!(sjis.as_str(), "http://bbs.example/search?q=%8B%E2%8Ds");
        // The path stays UTF-8, as in browsers.
        let path = resolve_href(&base, "/银行/?q=银", Some(encoding_rs::GBK)).expect("path");
        assert_eq!(
            path.as_str(),
            "http://bbs.example/%E9%93%B6%E8%A1%8C/?q=%D2%F8"
        );
        // A character GBK lacks goes as an escaped numeric reference.
        let emoji =
            resolve_href(&base, "search.php?kw=银😀&x=1", Some(encoding_rs::GBK)).expect("emoji");
        assert_eq!(
            emoji.as_str(),
            "http://bbs.example/search.php?kw=%D2%F8%26%23128512%3B&x=1"
        );
        let utf8 = resolve_href(&base, "search.php?kw=银行", None).expect("utf8");
        assert_eq!(
            utf8.as_str(),
            "http://bbs.example/search.php?kw=%E9%93%B6%E8%A1%8C"
        );
        assert_eq!(
            encoding_for_label(Some("Shift_JIS")),
            Some(encoding_rs::SHIFT_JIS)
        );
    }
}
