//! The narrow fold entity extraction needs: full-width ASCII (`ＱＱ：１２３`,
//! `＠`) and the ideographic space become ASCII, with a map back to byte
//! offsets in the original text. Nothing else changes: addresses are
//! case-sensitive, so no case or NFKC folding beyond these forms.

use std::borrow::Cow;

/// Text with full-width ASCII folded, and the way back to original offsets.
pub(crate) struct Folded<'a> {
    text: Cow<'a, str>,
    /// (folded offset, original offset) after each folded character, in
    /// order; empty when nothing was folded.
    breaks: Vec<(usize, usize)>,
}

impl<'a> Folded<'a> {
    /// Folds `text`; borrows it when it has nothing to fold.
    pub(crate) fn new(text: &'a str) -> Folded<'a> {
        // Full-width forms are U+FF01..U+FF5E (UTF-8 EF BC xx / EF BD xx),
        // the ideographic space U+3000 (E3 80 80).
        let bytes = text.as_bytes();
        let first = memchr::memchr2_iter(0xEF, 0xE3, bytes).find(|&i| {
            matches!(
                (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)),
                (Some(0xEF), Some(0xBC), _)
                    | (Some(0xEF), Some(0xBD), _)
                    | (Some(0xE3), Some(0x80), Some(0x80))
            )
        });
        let Some(first) = first else {
            return Folded {
                text: Cow::Borrowed(text),
                breaks: Vec::new(),
            };
        };
        let mut out = String::with_capacity(text.len());
        out.push_str(&text[..first]);
        let mut breaks = Vec::new();
        for (i, c) in text[first..].char_indices() {
            let original = first + i;
            match fold_char(c) {
                Some(ascii) => {
                    out.push(ascii);
                    breaks.push((out.len(), original + c.len_utf8()));
                }
                None => out.push(c),
            }
        }
        Folded {
            text: Cow::Owned(out),
            breaks,
        }
    }

    /// The folded text.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The original byte offset of folded byte offset `at` (a character
    /// boundary of the folded text).
    pub(crate) fn original(&self, at: usize) -> usize {
        // The last break at or before `at`; bytes after it are unchanged.
        let i = self.breaks.partition_point(|&(folded, _)| folded <= at);
        match i.checked_sub(1).and_then(|i| self.breaks.get(i)) {
            Some(&(folded, original)) => original + (at - folded),
            None => at,
        }
    }
}

/// The ASCII form of a full-width character or the ideographic space.
fn fold_char(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' => Some(' '),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_maps_back() {
        let text = "联系ＱＱ：１２３ ok";
        let f = Folded::new(text);
        assert_eq!(f.as_str(), "联系QQ:123 ok");
        let at = f.as_str().find("123").expect("digits");
        assert_eq!(&text[f.original(at)..f.original(at + 3)], "１２３");
        let ok = f.as_str().find("ok").expect("ok");
        assert_eq!(&text[f.original(ok)..f.original(ok + 2)], "ok");
        assert_eq!(f.original(0), 0);
    }

    #[test]
    fn unchanged_text_is_borrowed() {
        let f = Folded::new("平文 plain，");
        assert!(
            matches!(f.text, Cow::Owned(_)),
            "the full-width comma folds"
        );
        let f = Folded::new("平文 plain");
        assert!(matches!(f.text, Cow::Borrowed(_)));
        assert_eq!(f.original(5), 5);
    }
}
