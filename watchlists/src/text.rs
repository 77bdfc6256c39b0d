//! The text a document is matched as: title and body joined, folded, and a view with
//! separators removed (so `三 菱 U F J` and `M.U.F.G` are contiguous), each with a map
//! back to the layer below. Builds views only; deciding what a hit means is `matcher`'s job.

use std::ops::Range;

use textfold::{fold, is_cjk, FoldedText};

/// True for characters ignored inside a term: whitespace, punctuation and common symbols
/// (ASCII, general punctuation, CJK punctuation and brackets, the katakana middle dot,
/// arrows, box drawing, dingbats, emoji). Letters, digits, `ー` and `々` are not separators.
pub(crate) fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_alphanumeric();
    }
    c.is_whitespace()
        || matches!(c as u32,
            0x00A1..=0x00BF | 0x00D7 | 0x00F7
            | 0x2000..=0x206F      // general punctuation
            | 0x20A0..=0x20CF      // currency symbols
            | 0x2190..=0x21FF      // arrows
            | 0x2500..=0x27BF      // box drawing, shapes, misc symbols, dingbats
            | 0x2E00..=0x2E7F      // supplemental punctuation
            | 0x3000..=0x3004 | 0x3008..=0x3020 | 0x3030 | 0x303D..=0x303F
            | 0x30FB               // ・
            | 0xFE10..=0xFE1F | 0xFE30..=0xFE6F
            | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65
            | 0x1F000..=0x1FAFF    // emoji and pictographs
        )
}

/// Combining marks left over after NFKC (no precomposed form): strike-through, Zalgo
/// stacks, enclosing marks. Ignored entirely when matching: `M̶U̶F̶G̶` is `MUFG`.
pub(crate) fn is_transparent(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// A letter or digit of a space-separated script: the characters word boundaries are about.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Copies `folded` without separators, in spans, recording where each span came from.
fn strip_separators(folded: &str) -> (String, Vec<(u32, u32)>) {
    let bytes = folded.as_bytes();
    let mut stripped = String::with_capacity(folded.len());
    let mut runs: Vec<(u32, u32)> = Vec::new();
    let mut span = 0;
    let mut i = 0;
    let mut flush = |span: usize, end: usize, stripped: &mut String| {
        if span < end {
            let contiguous = runs
                .last()
                .is_some_and(|&(s, f)| (f as usize) + (stripped.len() - s as usize) == span);
            if !contiguous {
                runs.push((stripped.len() as u32, span as u32));
            }
            stripped.push_str(&folded[span..end]);
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        let (len, sep) = match b {
            0x00..=0x7F => (1, !b.is_ascii_alphanumeric()),
            // Han ideographs U+4E00–U+9FFF: never separators.
            0xE4..=0xE9 => (3, false),
            // Hiragana and katakana U+3040–U+30FF: only the middle dot ・ (E3 83 BB).
            0xE3 if matches!(bytes.get(i + 1), Some(0x81..=0x83)) => {
                (3, bytes[i + 1] == 0x83 && bytes.get(i + 2) == Some(&0xBB))
            }
            _ => match folded[i..].chars().next() {
                Some(c) => (c.len_utf8(), is_separator(c) || is_transparent(c)),
                None => break,
            },
        };
        if sep {
            flush(span, i, &mut stripped);
            span = i + len;
        }
        i += len;
    }
    flush(span, bytes.len(), &mut stripped);
    (stripped, runs)
}

/// A watch phrase (term, exclude phrase or cue) in the form the automaton matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhraseKey {
    /// Folded text without separators.
    pub(crate) key: String,
    /// Offsets in `key` where the written phrase had a separator (word breaks it allows).
    pub(crate) breaks: Vec<u32>,
}

impl PhraseKey {
    /// Folds and strips a phrase; `None` when nothing is left.
    pub(crate) fn new(written: &str) -> Option<PhraseKey> {
        let folded = textfold::fold_str(written);
        let mut key = String::with_capacity(folded.len());
        let mut breaks = Vec::new();
        let mut pending_break = false;
        for c in folded.chars() {
            if is_transparent(c) {
                continue;
            }
            if is_separator(c) {
                pending_break = !key.is_empty();
                continue;
            }
            if pending_break {
                breaks.push(key.len() as u32);
                pending_break = false;
            }
            key.push(c);
        }
        (!key.is_empty()).then_some(PhraseKey { key, breaks })
    }
}

/// One document as matched: `title + "\n" + body`, folded, and stripped of separators.
pub(crate) struct MatchText {
    pub(crate) original: String,
    /// Original byte offset where the title ends (0 without a title).
    pub(crate) title_end: usize,
    pub(crate) folded: FoldedText,
    /// Folded text without separators.
    pub(crate) stripped: String,
    /// Runs of `stripped` copied from the folded text: `(stripped_start, folded_start)`;
    /// a new run starts after every removed separator.
    strip_runs: Vec<(u32, u32)>,
    /// `strip_runs[..].0`: offsets in `stripped` that follow a removed separator.
    pub(crate) run_starts: Vec<u32>,
}

impl MatchText {
    pub(crate) fn new(title: Option<&str>, body: Option<&str>) -> MatchText {
        let (original, title_end) = match (title, body) {
            (Some(t), Some(b)) => {
                let mut s = String::with_capacity(t.len() + 1 + b.len());
                s.push_str(t);
                s.push('\n');
                s.push_str(b);
                (s, t.len())
            }
            (Some(t), None) => (t.to_string(), t.len()),
            (None, Some(b)) => (b.to_string(), 0),
            (None, None) => (String::new(), 0),
        };
        let folded = fold(&original);
        let (stripped, strip_runs) = strip_separators(folded.as_str());
        let run_starts = strip_runs.iter().map(|&(s, _)| s).collect();
        MatchText {
            original,
            title_end,
            folded,
            stripped,
            strip_runs,
            run_starts,
        }
    }

    /// Folded byte offset of stripped byte `at` (`at < stripped.len()`).
    fn folded_offset(&self, at: usize) -> usize {
        let run = self
            .strip_runs
            .partition_point(|&(s, _)| s as usize <= at)
            .saturating_sub(1);
        let (s, f) = self.strip_runs.get(run).copied().unwrap_or((0, 0));
        f as usize + (at - s as usize)
    }

    /// Folded byte range of a stripped byte range.
    pub(crate) fn folded_range(&self, stripped: Range<usize>) -> Range<usize> {
        if stripped.start >= self.stripped.len() {
            let end = self.folded.as_str().len();
            return end..end;
        }
        let start = self.folded_offset(stripped.start);
        if stripped.is_empty() {
            return start..start;
        }
        start..self.folded_offset(stripped.end - 1) + 1
    }

    /// Original byte range of a folded byte range.
    pub(crate) fn original_range(&self, folded: Range<usize>) -> Range<usize> {
        self.folded.original_range(folded)
    }

    pub(crate) fn folded_str(&self) -> &str {
        self.folded.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrase_keys() {
        let k = PhraseKey::new("Yahoo! JAPAN").expect("non-empty");
        assert_eq!(k.key, "yahoojapan");
        assert_eq!(k.breaks, vec![5]);
        assert_eq!(
            PhraseKey::new("三菱UFJ銀行").map(|k| k.key),
            Some("三菱ufj银行".into())
        );
        assert_eq!(PhraseKey::new(" -・ "), None);
        assert_eq!(PhraseKey::new("\u{200B}"), None);
    }

    #[test]
    fn stripped_view_maps_back() {
        let t = MatchText::new(Some("出售 三 菱 U F J"), Some("M.U.F.G"));
        assert_eq!(t.stripped, "出售三菱ufjmufg");
        let at = t.stripped.find("三菱ufj").expect("present");
        let f = t.folded_range(at..at + "三菱ufj".len());
        let o = t.original_range(f);
        assert_eq!(&t.original[o], "三 菱 U F J");
        assert_eq!(t.title_end, "出售 三 菱 U F J".len());
    }

    #[test]
    fn separators() {
        for c in [
            ' ', '.', '-', '・', '　', '【', '】', '、', '。', '★', '→', '😀', '\n',
        ] {
            assert!(is_separator(c), "{c:?}");
        }
        for c in ['a', '1', '三', 'ー', '々', 'я', 'é'] {
            assert!(!is_separator(c), "{c:?}");
        }
    }
}
