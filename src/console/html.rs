//! Links in the console's pages: which hrefs are ours (a path on this
//! server) and how a link's query is written. The pages themselves are
//! askama templates (`templates/console/`), which escape every value; a
//! template writes a runtime href only through the `link` macro, which
//! checks it here and writes anything else as text, never as a link.

/// Whether `href` is a path on this server (not `//host`, no scheme).
pub(crate) fn is_local_path(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("//") && !href.starts_with("/\\")
}

/// `key=value&…` with each value percent-encoded (empty ones left out),
/// for local links.
pub(crate) fn query_string(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_and_queries() {
        assert!(is_local_path("/alerts?status=new"));
        for foreign in [
            "javascript:alert(1)",
            "//evil.example/",
            "/\\evil.example",
            "http://abc.onion/",
            "alerts",
            "",
        ] {
            assert!(!is_local_path(foreign), "{foreign}");
        }
        assert_eq!(
            query_string(&[("q", "三菱 UFJ"), ("site", "")]),
            "q=%E4%B8%89%E8%8F%B1+UFJ"
        );
    }
}
