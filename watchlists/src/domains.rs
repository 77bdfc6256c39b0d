//! Domain hits: host names in folded text (plain, in URLs and e-mail addresses, or
//! defanged as `mufg[.]jp`, `mufg(dot)jp`) whose name is a watched domain or a subdomain
//! of one. Never a longer label: `notmufg.jp` is not `mufg.jp`.

use std::collections::HashMap;
use std::ops::Range;

/// Watched domains → indexes of the assets that watch them.
#[derive(Debug, Default)]
pub(crate) struct DomainIndex {
    by_name: HashMap<String, Vec<u32>>,
}

/// Dot spellings accepted between labels, longest first (after folding: lower case,
/// full-width forms already ASCII).
const DOTS: &[&str] = &[
    "[dot]", "(dot)", "{dot}", " [.] ", " (.) ", " dot ", "[.]", "(.)", "{.}", "\\.", "。", ".",
];

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl DomainIndex {
    pub(crate) fn insert(&mut self, domain: &str, asset: u32) {
        let v = self.by_name.entry(domain.to_string()).or_default();
        if !v.contains(&asset) {
            v.push(asset);
        }
    }

    /// The watched domain names.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Calls `hit(asset, folded_range_of_host)` for every host in `folded` that is a watched
    /// domain or one of its subdomains.
    pub(crate) fn scan(&self, folded: &str, mut hit: impl FnMut(u32, Range<usize>)) {
        if self.by_name.is_empty() {
            return;
        }
        let bytes = folded.as_bytes();
        let mut host = String::new();
        let mut i = 0;
        while i < bytes.len() {
            if !is_label_byte(bytes[i]) || (i > 0 && is_label_byte(bytes[i - 1])) {
                i += 1;
                continue;
            }
            // A host starts here: labels joined by dot spellings.
            let start = i;
            host.clear();
            let mut end = i;
            let mut labels = 0;
            loop {
                let l0 = i;
                while i < bytes.len() && is_label_byte(bytes[i]) {
                    i += 1;
                }
                if i == l0 {
                    break;
                }
                host.push_str(&folded[l0..i]);
                end = i;
                labels += 1;
                // Every dot spelling starts with one of these bytes (`。` with E3).
                if !matches!(
                    bytes.get(i),
                    Some(b'[' | b'(' | b'{' | b' ' | b'\\' | b'.' | 0xE3)
                ) {
                    break;
                }
                let Some(dot) = DOTS.iter().find(|d| folded[i..].starts_with(**d)) else {
                    break;
                };
                let after = i + dot.len();
                if after < bytes.len() && is_label_byte(bytes[after]) {
                    host.push('.');
                    i = after;
                } else {
                    break;
                }
            }
            if labels >= 2 {
                let trimmed = host.trim_matches('-');
                // The host itself, then each parent domain.
                let mut suffix = trimmed;
                loop {
                    if let Some(assets) = self.by_name.get(suffix) {
                        for &a in assets {
                            hit(a, start..end);
                        }
                    }
                    match suffix.find('.') {
                        Some(dot) => suffix = &suffix[dot + 1..],
                        None => break,
                    }
                }
            }
            i = end.max(start + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<String> {
        let mut idx = DomainIndex::default();
        idx.insert("mufg.jp", 0);
        idx.insert("mofa.go.jp", 1);
        let folded = textfold::fold_str(text);
        let mut out = Vec::new();
        idx.scan(&folded, |a, r| out.push(format!("{a}:{}", &folded[r])));
        out
    }

    #[test]
    fn domain_forms() {
        let cases: &[(&str, &[&str])] = &[
            ("mufg.jp", &["0:mufg.jp"]),
            ("https://login.bk.mufg.jp/path", &["0:login.bk.mufg.jp"]),
            ("mail x@mufg.jp now", &["0:mufg.jp"]),
            ("mufg[.]jp", &["0:mufg[.]jp"]),
            ("hxxps://mufg(dot)jp/", &["0:mufg(dot)jp"]),
            ("mofa[.]go[.]jp, full AD", &["1:mofa[.]go[.]jp"]),
            ("ＭＵＦＧ．ＪＰ", &["0:mufg.jp"]),
            ("notmufg.jp", &[]),
            ("mufg.jpn", &[]),
            ("mufg.jp.evil.com", &[]),
            ("mufg jp", &[]),
            ("ajaxa.jp mofa.go.jp.", &["1:mofa.go.jp"]),
            ("mufg dot jp", &["0:mufg dot jp"]),
            ("mufg。jp", &["0:mufg。jp"]),
            ("the dot com era", &[]),
        ];
        for &(text, want) in cases {
            assert_eq!(hosts(text), want, "{text}");
        }
    }
}
