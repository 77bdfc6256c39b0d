//! A cap on element nesting, applied to a page before it is parsed:
//! html5ever's tree builder scans the open-element stack for every tag, so
//! a hostile page 100 000 `<div>`s deep costs minutes of CPU (16 000 deep
//! already takes 2 s). Tags beyond the cap are dropped, their text kept —
//! as browsers do past their own depth limit. A page nested less deeply
//! than the cap is returned untouched.

use std::borrow::Cow;

/// Blink's limit on the HTML parser's tree depth.
pub const MAX_DEPTH: usize = 512;

/// `html` with elements nested deeper than `max_depth` unwrapped.
pub fn cap_nesting(html: &str, max_depth: usize) -> Cow<'_, str> {
    if scan(html, max_depth, None) <= max_depth {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    scan(html, max_depth, Some(&mut out));
    Cow::Owned(out)
}

/// Walks the tags; returns the deepest nesting seen (before capping). With
/// `out`, copies the page there, leaving out tags past `max_depth`.
fn scan(html: &str, max_depth: usize, mut out: Option<&mut String>) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut dropped) = (0usize, 0usize, 0usize);
    let mut copied = 0;
    let mut i = 0;
    while let Some(lt) = memchr(b'<', &bytes[i..]).map(|p| i + p) {
        let Some(tag) = Tag::at(bytes, lt) else {
            i = lt + 1;
            continue;
        };
        let mut keep = true;
        if tag.nests {
            if tag.closing {
                if dropped > 0 {
                    dropped -= 1;
                    keep = false;
                } else {
                    depth = depth.saturating_sub(1);
                }
            } else if depth >= max_depth {
                dropped += 1;
                deepest = deepest.max(depth + dropped);
                keep = false;
            } else {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        if let (Some(out), false) = (out.as_deref_mut(), keep) {
            out.push_str(&html[copied..lt]);
            copied = tag.end;
        }
        i = tag.skip_to.max(lt + 1);
    }
    if let Some(out) = out {
        out.push_str(&html[copied..]);
    }
    deepest
}

/// One tag found at `<`.
struct Tag {
    closing: bool,
    /// Opens or closes a level of nesting (not void, not self-closing, not
    /// an element whose end tag is optional and so often left out).
    nests: bool,
    /// Just past the tag's `>`.
    end: usize,
    /// Where scanning resumes (past a comment, or a script's contents).
    skip_to: usize,
}

impl Tag {
    fn at(bytes: &[u8], lt: usize) -> Option<Tag> {
        let rest = &bytes[lt + 1..];
        if rest.starts_with(b"!--") {
            let end = find(rest, b"-->").map_or(bytes.len(), |p| lt + 1 + p + 3);
            return Some(Tag {
                closing: false,
                nests: false,
                end,
                skip_to: end,
            });
        }
        if rest.first().is_some_and(|&b| b == b'!' || b == b'?') {
            let end = memchr(b'>', rest).map_or(bytes.len(), |p| lt + 1 + p + 1);
            return Some(Tag {
                closing: false,
                nests: false,
                end,
                skip_to: end,
            });
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            return None;
        }
        let name = bytes[name_start..name_start + name_len].to_ascii_lowercase();
        // The tag ends at the first `>` outside quotes.
        let mut quote = None;
        let mut end = bytes.len();
        for (k, &b) in bytes[name_start + name_len..].iter().enumerate() {
            match (quote, b) {
                (Some(q), _) if b == q => quote = None,
                (None, b'"' | b'\'') => quote = Some(b),
                (None, b'>') => {
                    end = name_start + name_len + k + 1;
                    break;
                }
                _ => {}
            }
        }
        let self_closing = end >= 2 && bytes.get(end - 2) == Some(&b'/');
        let mut skip_to = end;
        if !closing
            && matches!(
                name.as_slice(),
                b"script" | b"style" | b"textarea" | b"title" | b"xmp" | b"plaintext"
            )
        {
            // Raw text: no tags inside until the matching end tag.
            let mut close = b"</".to_vec();
            close.extend_from_slice(&name);
            let lower: Vec<u8> = bytes[end..].iter().map(u8::to_ascii_lowercase).collect();
            skip_to = find(&lower, &close).map_or(bytes.len(), |p| end + p);
        }
        let nests = !self_closing && !is_void_or_optional_end(&name);
        Some(Tag {
            closing,
            nests,
            end,
            skip_to,
        })
    }
}

fn is_void_or_optional_end(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"tr"
            | b"td"
            | b"th"
            | b"thead"
            | b"tbody"
            | b"tfoot"
            | b"option"
            | b"optgroup"
            | b"rp"
            | b"rt"
            | b"colgroup"
            | b"caption"
            | b"html"
            | b"head"
            | b"body"
    )
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pages_are_untouched() {
        let page = r#"<html><body><div id="a" title="x > y"><p>one<p>two<ul><li>a<li>b</ul>
            <script>if (a < b) { document.write("<div><div>") }</script><!-- <div> --><br><img src=x>
            </div></body></html>"#;
        assert!(matches!(cap_nesting(page, 4), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_nesting_is_unwrapped_and_text_kept() {
        let page = format!(
            "<div class=body>{}出售 bottom{}</div><p>after",
            "<div>".repeat(10),
            "</div>".repeat(10)
        );
        let capped = cap_nesting(&page, 4);
        assert_eq!(
            capped,
            "<div class=body><div><div><div>出售 bottom</div></div></div></div><p>after"
        );
    }

    #[test]
    fn a_hundred_thousand_levels_parse_quickly_after_capping() {
        let depth = 100_000;
        let page = format!(
            "<div class=body>{}x{}</div>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let started = std::time::Instant::now();
        let capped = cap_nesting(&page, MAX_DEPTH);
        let html = scraper::Html::parse_document(&capped);
        assert!(html.root_element().text().any(|t| t == "x"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
