//! The text a document is matched as: title and body joined, folded, and a view with
//! separators removed (so `三 菱 U F J` and `M.U.F.G` are contiguous), each with a map
//! back to the layer below. Builds views only; deciding what a hit means is `matcher`'s job.

use std::ops::Range;

use textfold::{is_cjk, FoldedText};

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

/// ASCII bytes kept in the stripped view (letters and digits).
const ASCII_KEEP: [bool; 128] = {
    let mut t = [false; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// Copies `folded` without separators into `stripped` (cleared first), recording in `runs`
/// `(stripped_start, folded_start)` of every run of kept text (a new run starts after every
/// removed separator) and in `run_starts` the same stripped starts. Writes bytes into the
/// `String` directly: the unsafe hand-over's contract is at the block.
#[allow(unsafe_code)]
fn strip_separators(
    folded: &str,
    stripped: &mut String,
    runs: &mut Vec<(u32, u32)>,
    run_starts: &mut Vec<u32>,
) {
    let bytes = folded.as_bytes();
    let n = bytes.len();
    stripped.clear();
    runs.clear();
    run_starts.clear();
    // SAFETY: `out` ends up holding whole characters of `folded` (valid UTF-8) only: it is
    // truncated to `w`, and every byte below `w` belongs to a kept character.
    let out = unsafe { stripped.as_mut_vec() };
    out.resize(n, 0);
    // Next write position; `w <= i` throughout, so writes stay inside `out`.
    let mut w = 0;
    let mut need_run = true;
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        if b < 0x80 {
            // ASCII: letters and digits are kept, anything else is a separator.
            if ASCII_KEEP[b as usize] {
                if need_run {
                    runs.push((w as u32, i as u32));
                    run_starts.push(w as u32);
                    need_run = false;
                }
                // The rest of the word.
                while i < n && bytes[i] < 0x80 && ASCII_KEEP[bytes[i] as usize] {
                    out[w] = bytes[i];
                    w += 1;
                    i += 1;
                }
            } else {
                need_run = true;
                i += 1;
                while i < n && bytes[i] < 0x80 && !ASCII_KEEP[bytes[i] as usize] {
                    i += 1;
                }
            }
            continue;
        }
        if (0xE4..=0xE9).contains(&b) {
            // Han ideographs U+4E00–U+9FFF: never separators; copied as a run.
            if need_run {
                runs.push((w as u32, i as u32));
                run_starts.push(w as u32);
                need_run = false;
            }
            while i + 3 <= n && (0xE4..=0xE9).contains(&bytes[i]) {
                out[w..w + 3].copy_from_slice(&bytes[i..i + 3]);
                w += 3;
                i += 3;
            }
            continue;
        }
        let (len, sep) = match b {
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
            need_run = true;
        } else {
            if need_run {
                runs.push((w as u32, i as u32));
                run_starts.push(w as u32);
                need_run = false;
            }
            if len == 3 && i + 3 <= n {
                out[w..w + 3].copy_from_slice(&bytes[i..i + 3]);
            } else {
                out[w..w + len].copy_from_slice(&bytes[i..i + len]);
            }
            w += len;
        }
        i += len;
    }
    out.truncate(w);
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

/// Buffers of dropped `MatchText`s, reused by the next one on the same thread (the match
/// loop then allocates nothing per document once the buffers have grown).
#[derive(Default)]
struct Buffers {
    original: String,
    folded: FoldedText,
    stripped: String,
    strip_runs: Vec<(u32, u32)>,
    run_starts: Vec<u32>,
}

thread_local! {
    static SPARE: std::cell::RefCell<Option<Buffers>> = const { std::cell::RefCell::new(None) };
}

impl Drop for MatchText {
    fn drop(&mut self) {
        let spare = Buffers {
            original: std::mem::take(&mut self.original),
            folded: std::mem::take(&mut self.folded),
            stripped: std::mem::take(&mut self.stripped),
            strip_runs: std::mem::take(&mut self.strip_runs),
            run_starts: std::mem::take(&mut self.run_starts),
        };
        // Keep buffers of ordinary documents only: one huge document should not pin its memory.
        if spare.original.capacity() <= 1 << 20 {
            let _ = SPARE.try_with(|s| *s.borrow_mut() = Some(spare));
        }
    }
}

impl MatchText {
    pub(crate) fn new(title: Option<&str>, body: Option<&str>) -> MatchText {
        let mut buf = SPARE
            .try_with(|s| s.borrow_mut().take())
            .ok()
            .flatten()
            .unwrap_or_default();
        let original = &mut buf.original;
        original.clear();
        let title_end = match (title, body) {
            (Some(t), Some(b)) => {
                original.reserve(t.len() + 1 + b.len());
                original.push_str(t);
                original.push('\n');
                original.push_str(b);
                t.len()
            }
            (Some(t), None) => {
                original.push_str(t);
                t.len()
            }
            (None, Some(b)) => {
                original.push_str(b);
                0
            }
            (None, None) => 0,
        };
        buf.folded.refold(&buf.original);
        strip_separators(
            buf.folded.as_str(),
            &mut buf.stripped,
            &mut buf.strip_runs,
            &mut buf.run_starts,
        );
        MatchText {
            original: buf.original,
            title_end,
            folded: buf.folded,
            stripped: buf.stripped,
            strip_runs: buf.strip_runs,
            run_starts: buf.run_starts,
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

    /// The plain per-character reading of [`strip_separators`]: what the block copy must
    /// reproduce exactly.
    fn strip_oracle(folded: &str) -> (String, Vec<(u32, u32)>) {
        let (mut out, mut runs, mut in_run) = (String::new(), Vec::new(), false);
        for (i, c) in folded.char_indices() {
            if is_separator(c) || is_transparent(c) {
                in_run = false;
            } else {
                if !in_run {
                    runs.push((out.len() as u32, i as u32));
                    in_run = true;
                }
                out.push(c);
            }
        }
        (out, runs)
    }

    proptest::proptest! {
        #[test]
        fn block_copy_strips_like_the_plain_reading(
            text in "([a-z0-9 .,_\\-]|[三菱銀行日联]|[ぁ-んァ-ヶ・ー]|[\u{300}\u{2014}\u{3000}、。]|[я😀é]){0,60}"
        ) {
            let (mut stripped, mut runs, mut starts) = (String::new(), Vec::new(), Vec::new());
            strip_separators(&text, &mut stripped, &mut runs, &mut starts);
            let (want, want_runs) = strip_oracle(&text);
            proptest::prop_assert_eq!(&stripped, &want);
            proptest::prop_assert_eq!(&runs, &want_runs);
            let want_starts: Vec<u32> = want_runs.iter().map(|r| r.0).collect();
            proptest::prop_assert_eq!(starts, want_starts);
        }
    }
}
