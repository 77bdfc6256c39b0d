//! Charset decoding of fetched pages: BOM, then the profile's override, then
//! the HTTP header, then `<meta charset>` / `http-equiv` / the XML
//! declaration, then statistical detection (chardetng). A label that the
//! bytes contradict wholesale (a GBK page served as UTF-8) loses to
//! detection; a few stray bad bytes do not overturn it.
//!
//! Never fails: undecodable bytes become U+FFFD, and the encoding used is
//! reported so a wrong guess can be seen on the document.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::Encoding;

/// Where the encoding of a page came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    /// A byte-order mark.
    Bom,
    /// The site profile's `encoding`.
    Profile,
    /// The HTTP `Content-Type` header's charset.
    Header,
    /// A `<meta charset>` or `http-equiv` in the page.
    Meta,
    /// `<?xml … encoding="…"?>` (XHTML pages, feeds).
    XmlDeclaration,
    /// Guessed from the bytes (chardetng).
    Detected,
}

/// A decoded page.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The page as text.
    pub text: String,
    /// The encoding it was decoded from.
    pub encoding: &'static Encoding,
    /// How that encoding was chosen.
    pub source: EncodingSource,
    /// Whether any byte sequence was invalid in the chosen encoding.
    pub had_errors: bool,
    /// The label's encoding when the bytes contradicted it and detection
    /// won (a site lying in its header or meta tag).
    pub overridden_label: Option<&'static Encoding>,
}

/// Decodes an HTML or text page.
///
/// `content_type` is the HTTP `Content-Type` header, `forced` a site
/// profile's encoding override (used only when the page has no BOM).
pub fn decode_html(
    bytes: &[u8],
    content_type: Option<&str>,
    forced: Option<&'static Encoding>,
) -> Decoded {
    let (encoding, source, overridden_label) = choose_encoding(bytes, content_type, forced);
    let (text, used, had_errors) = encoding.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: used,
        source,
        had_errors,
        overridden_label,
    }
}

/// Malformed sequences when `bytes` are decoded as `encoding`.
fn malformed(bytes: &[u8], encoding: &'static Encoding) -> usize {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        text.chars().filter(|&c| c == '\u{FFFD}').count()
    } else {
        0
    }
}

fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    detector.guess(None, Utf8Detection::Allow)
}

type Choice = (&'static Encoding, EncodingSource, Option<&'static Encoding>);

fn choose_encoding(
    bytes: &[u8],
    content_type: Option<&str>,
    forced: Option<&'static Encoding>,
) -> Choice {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return (enc, EncodingSource::Bom, None);
    }
    if let Some(enc) = forced {
        return (enc, EncodingSource::Profile, None);
    }
    let header = content_type
        .and_then(charset_param)
        .and_then(label)
        .map(|e| (e, EncodingSource::Header));
    let in_page = meta_charset(bytes)
        .map(|e| (e, EncodingSource::Meta))
        .or_else(|| xml_declaration(bytes).map(|e| (e, EncodingSource::XmlDeclaration)));
    let Some((labelled, source)) = header.or(in_page) else {
        return (detect(bytes), EncodingSource::Detected, None);
    };
    // A 7-bit page full of ISO-2022-JP escapes is ISO-2022-JP, whatever
    // the label: no error count can tell, since ASCII decodes as anything.
    if labelled != encoding_rs::ISO_2022_JP && bytes.is_ascii() && has_iso_2022_jp_escapes(bytes) {
        return (
            encoding_rs::ISO_2022_JP,
            EncodingSource::Detected,
            Some(labelled),
        );
    }
    // `ISO-8859-1` in a header is most often a server default (Apache's
    // AddDefaultCharset), not the page's word: a legacy page's own label
    // or a clean detection says more. windows-1252 never fails to decode,
    // so errors cannot tell.
    if labelled == encoding_rs::WINDOWS_1252 && source == EncodingSource::Header {
        if let Some((e, s)) = in_page.filter(|(e, _)| *e != labelled) {
            return (e, s, Some(labelled));
        }
        let detected = detect(bytes);
        if detected != labelled && malformed(bytes, detected) == 0 {
            return (detected, EncodingSource::Detected, Some(labelled));
        }
    }
    let errors = malformed(bytes, labelled);
    let non_ascii = bytes.iter().filter(|b| !b.is_ascii()).count();
    // A few bad bytes in a long page are damage, not a lie.
    if errors <= 3 || errors * 50 <= non_ascii {
        return (labelled, source, None);
    }
    let mut alternatives = Vec::new();
    if let Some((e, s)) = in_page.filter(|(e, _)| *e != labelled) {
        alternatives.push((e, s));
    }
    alternatives.push((detect(bytes), EncodingSource::Detected));
    for (alt, alt_source) in alternatives {
        if alt != labelled && malformed(bytes, alt) * 4 < errors {
            return (alt, alt_source, Some(labelled));
        }
    }
    (labelled, source, None)
}

/// `ESC $ B` / `ESC $ @` (into JIS X 0208) and `ESC ( B` / `ESC ( J`
/// (back to ASCII or Roman), both present.
fn has_iso_2022_jp_escapes(bytes: &[u8]) -> bool {
    let into = find(bytes, b"\x1B$B").is_some() || find(bytes, b"\x1B$@").is_some();
    let back = find(bytes, b"\x1B(B").is_some() || find(bytes, b"\x1B(J").is_some();
    into && back
}

/// The `encoding` of an XML declaration at the start of the document.
fn xml_declaration(bytes: &[u8]) -> Option<&'static Encoding> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &bytes[start..bytes.len().min(start + 256)];
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = find(rest, b"?>")?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let at = decl.find("encoding")?;
    let value = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &value[1..];
    label(&value[..value.find(quote)?])
}

/// Maps a label to an encoding; a UTF-16 label in a header or meta tag of a
/// page without BOM is a lie (the WHATWG rule), so it means UTF-8.
fn label(name: &str) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(name.trim().trim_matches(['"', '\'']).as_bytes())?;
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        Some(encoding_rs::UTF_8)
    } else {
        Some(enc)
    }
}

fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then_some(value.trim())
    })
}

/// The WHATWG prescan, simplified: looks in the first 4 KiB for
/// `<meta charset=…>` or `<meta http-equiv=content-type content="…charset=…">`.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |p| start + p);
        let tag = &lower[start..end];
        if let Some(at) = find(tag, b"charset") {
            let rest = &tag[at + b"charset".len()..];
            let rest = rest
                .iter()
                .skip_while(|b| b.is_ascii_whitespace())
                .copied()
                .collect::<Vec<u8>>();
            if let Some(value) = rest.strip_prefix(b"=") {
                let value: Vec<u8> = value
                    .iter()
                    .skip_while(|b| b.is_ascii_whitespace() || **b == b'"' || **b == b'\'')
                    .take_while(|b| {
                        !(b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';' | b'/'))
                    })
                    .copied()
                    .collect();
                if let Some(enc) = std::str::from_utf8(&value).ok().and_then(label) {
                    return Some(enc);
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_charset_wins_over_detection() {
        let (bytes, _, _) = encoding_rs::GBK.encode("<p>三菱日联银行 出售</p>");
        let d = decode_html(&bytes, Some("text/html; charset=gbk"), None);
        assert_eq!(d.encoding, encoding_rs::GBK);
        assert_eq!(d.source, EncodingSource::Header);
        assert!(d.text.contains("三菱日联银行"));
    }

    #[test]
    fn meta_charset_is_read() {
        let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"></head><body>三菱UFJ銀行を売ります</body></html>";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(html);
        let d = decode_html(&bytes, Some("text/html"), None);
        assert_eq!(d.encoding, encoding_rs::SHIFT_JIS);
        assert_eq!(d.source, EncodingSource::Meta);
        assert!(d.text.contains("三菱UFJ銀行を売ります"));
    }

    #[test]
    fn detection_without_labels() {
        let text =
            "日本邮政银行四件套，存折+卡+印章+手机卡，全套出售，实名，已激活网银。".repeat(5);
        let (bytes, _, _) = encoding_rs::GBK.encode(&text);
        let d = decode_html(&bytes, None, None);
        assert_eq!(d.source, EncodingSource::Detected);
        assert!(
            d.text.contains("日本邮政银行"),
            "decoded as {}",
            d.encoding.name()
        );
    }

    #[test]
    fn bom_beats_a_lying_header() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("総務省".as_bytes());
        let d = decode_html(&bytes, Some("text/html; charset=shift_jis"), None);
        assert_eq!(d.encoding, encoding_rs::UTF_8);
        assert_eq!(d.text, "総務省");
    }
}
