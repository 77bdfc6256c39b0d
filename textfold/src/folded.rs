//! `FoldedText`: the folded string plus a run-length map from folded byte offsets back to
//! the original's, and the single pass that builds both. Lookups only; no I/O, no panics on input.

use std::ops::Range;

use crate::table::{
    fold_segment_fixpoint, joins_previous, CharFold, FoldTable, CHAR_MAPS, JOINS_PREVIOUS,
    SAME_LEN, TABLE, TABLE_END,
};

/// Folded text with a map back to byte offsets of the original text.
///
/// Built by [`fold`](crate::fold). Offsets into [`as_str`](Self::as_str) convert back to the
/// original with [`original_range`](Self::original_range).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldedText {
    text: String,
    /// Runs in order of both offsets; run `i` covers folded `[runs[i].folded, runs[i+1].folded)`
    /// and original `[runs[i].original, runs[i+1].original)` (the last runs to the ends).
    runs: Vec<Run>,
    original_len: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    folded: u32,
    original: u32,
    kind: RunKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunKind {
    /// Byte `k` of the run is byte `k` of the original run (same-length characters).
    Exact,
    /// One normalisation segment: every folded byte maps to the whole original segment.
    Segment,
    /// Original characters that fold to nothing (zero-width, soft hyphen): empty in folded text.
    Removed,
}

impl FoldedText {
    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Folds `text` into `self`, reusing its buffers: the same result as
    /// [`fold`](crate::fold)`(text)` without allocating once the buffers are large enough
    /// (for loops over many documents).
    pub fn refold(&mut self, text: &str) {
        self.text.clear();
        self.runs.clear();
        fold_into(text, &mut self.text, &mut self.runs);
        self.original_len = text.len() as u32;
    }

    /// Consumes the folded text, keeping only the string.
    pub fn into_string(self) -> String {
        self.text
    }

    /// Length in bytes of the original text this was folded from.
    pub fn original_len(&self) -> usize {
        self.original_len as usize
    }

    /// Original byte range (on char boundaries of the original) for a byte range of the
    /// folded text. Out-of-range or mid-character bounds are clamped and widened to whole
    /// characters; a range inside one normalisation segment maps to the whole segment.
    pub fn original_range(&self, folded: Range<usize>) -> Range<usize> {
        let len = self.text.len();
        let mut a = folded.start.min(len);
        let mut b = folded.end.clamp(a, len);
        while !self.text.is_char_boundary(a) {
            a -= 1;
        }
        while !self.text.is_char_boundary(b) {
            b += 1;
        }
        if self.runs.is_empty() {
            return 0..0;
        }
        if a == b {
            let at = if a < len {
                self.start_of(a)
            } else {
                self.end_of(len)
            };
            return at..at;
        }
        self.start_of(a)..self.end_of(b)
    }

    /// Original offset of folded byte `a` (`a < len`).
    fn start_of(&self, a: usize) -> usize {
        let i = self
            .runs
            .partition_point(|r| r.folded as usize <= a)
            .saturating_sub(1);
        let r = self.runs[i];
        match r.kind {
            RunKind::Exact => r.original as usize + (a - r.folded as usize),
            _ => r.original as usize,
        }
    }

    /// Original offset just after folded byte `b - 1` (`b > 0`).
    fn end_of(&self, b: usize) -> usize {
        if b == 0 {
            return 0;
        }
        let j = self
            .runs
            .partition_point(|r| (r.folded as usize) < b)
            .saturating_sub(1);
        let r = self.runs[j];
        match r.kind {
            RunKind::Exact => r.original as usize + (b - r.folded as usize),
            _ => self
                .runs
                .get(j + 1)
                .map_or(self.original_len as usize, |n| n.original as usize),
        }
    }
}

/// Receives the offset map while folding; `()` ignores it (the `fold_str` fast path).
trait MapSink {
    fn exact(&mut self, folded: usize, original: usize);
    fn segment(&mut self, folded: usize, original: usize);
    fn removed(&mut self, folded: usize, original: usize);
    /// Forgets everything from original offset `original` on (a segment being re-folded).
    fn retract(&mut self, original: usize);
}

impl MapSink for () {
    #[inline]
    fn exact(&mut self, _: usize, _: usize) {}
    #[inline]
    fn segment(&mut self, _: usize, _: usize) {}
    #[inline]
    fn removed(&mut self, _: usize, _: usize) {}
    #[inline]
    fn retract(&mut self, _: usize) {}
}

impl MapSink for Vec<Run> {
    #[inline]
    fn exact(&mut self, folded: usize, original: usize) {
        if let Some(last) = self.last() {
            if last.kind == RunKind::Exact
                && folded - last.folded as usize == original - last.original as usize
            {
                return;
            }
        }
        self.push(Run {
            folded: folded as u32,
            original: original as u32,
            kind: RunKind::Exact,
        });
    }

    #[inline]
    fn segment(&mut self, folded: usize, original: usize) {
        self.push(Run {
            folded: folded as u32,
            original: original as u32,
            kind: RunKind::Segment,
        });
    }

    #[inline]
    fn removed(&mut self, folded: usize, original: usize) {
        if self
            .last()
            .is_some_and(|l| l.kind == RunKind::Removed && l.folded as usize == folded)
        {
            return;
        }
        self.push(Run {
            folded: folded as u32,
            original: original as u32,
            kind: RunKind::Removed,
        });
    }

    fn retract(&mut self, original: usize) {
        while self.last().is_some_and(|l| l.original as usize >= original) {
            self.pop();
        }
    }
}

/// Folds `text` (see the crate documentation for what folding does), keeping the offset map.
///
/// Offsets are stored as `u32`: texts of 4 GiB or more are not supported (they are folded, but
/// offsets past 4 GiB wrap).
pub fn fold(text: &str) -> FoldedText {
    let mut out = String::with_capacity(text.len());
    let mut runs = Vec::with_capacity(8);
    fold_into(text, &mut out, &mut runs);
    FoldedText {
        text: out,
        runs,
        original_len: text.len() as u32,
    }
}

/// Folds `text` without building the offset map (fast path for analyzers and keys).
pub fn fold_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out, &mut ());
    out
}

/// What one character folds to on its own: see [`fold_char`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharFolding {
    /// One character (possibly itself).
    One(char),
    /// Nothing (zero-width characters, soft hyphens, variation selectors).
    Removed,
    /// Several characters (`ﬁ` → `fi`, `⑴` → `(1)`).
    Many(&'static str),
    /// The character may combine with the one before it under NFKC (combining marks,
    /// half-width voiced sound marks, conjoining jamo): how it folds depends on its
    /// neighbour, so only [`fold`] of the whole text says.
    Joins,
}

/// How `c` folds on its own. In a text where no character [`Joins`](CharFolding::Joins),
/// [`fold_str`] is exactly the concatenation of every character's folding, so a caller can
/// build its own per-character table from this (a filter that never needs offsets).
pub fn fold_char(c: char) -> CharFolding {
    if c.is_ascii() {
        return CharFolding::One(c.to_ascii_lowercase());
    }
    let table: &'static FoldTable = &TABLE;
    if (c as u32) >= TABLE_END {
        if joins_previous(c) {
            return CharFolding::Joins;
        }
        let mut s = String::new();
        let mut one = [0u8; 4];
        fold_segment_fixpoint(c.encode_utf8(&mut one), &CHAR_MAPS, &mut s);
        let mut chars = s.chars();
        return match (chars.next(), chars.next()) {
            (None, _) => CharFolding::Removed,
            (Some(f), None) => CharFolding::One(f),
            // Rare planes: leaked once per distinct character asked about (a table build).
            _ => CharFolding::Many(Box::leak(s.into_boxed_str())),
        };
    }
    let entry = table.entry(c);
    if entry & JOINS_PREVIOUS != 0 {
        return CharFolding::Joins;
    }
    match table.decode(entry) {
        CharFold::Same => CharFolding::One(c),
        CharFold::Removed => CharFolding::Removed,
        CharFold::Replaced(r) => {
            let mut chars = r.chars();
            match (chars.next(), chars.next()) {
                (Some(f), None) => CharFolding::One(f),
                _ => CharFolding::Many(r),
            }
        }
    }
}

/// Lower-cases 8 ASCII bytes at once (every byte must be below 0x80).
#[inline(always)]
fn ascii_lower8(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // High bit set in bytes >= 'A' and in bytes > 'Z': upper case is the first without the second.
    let ge_a = x.wrapping_add(ONES * (0x80 - b'A' as u64));
    let gt_z = x.wrapping_add(ONES * (0x80 - b'Z' as u64 - 1));
    x | (((ge_a & !gt_z) & (ONES * 0x80)) >> 2)
}

// The fold writes bytes into the output `String` directly (no per-char
// encode): the one unsafe hand-over, with its contract below.
#[allow(unsafe_code)]
fn fold_into<S: MapSink>(text: &str, out: &mut String, sink: &mut S) {
    let table = &*TABLE;
    let bytes = text.as_bytes();
    let n = bytes.len();
    // SAFETY: only whole UTF-8 sequences are appended to `buf`: lower-cased ASCII bytes,
    // complete characters copied from `text`, and the table's replacements (valid UTF-8).
    let buf = unsafe { out.as_mut_vec() };
    buf.reserve(n);
    let mut i = 0;
    // `out.len() - i` of the exact run the sink saw last, while it is still the open run:
    // characters that keep this delta extend it without telling the sink.
    let mut exact_delta: Option<usize> = None;
    // Start (folded, original) of the last segment emitted: a joining character that follows
    // is normalised together with it. Removed characters are transparent here.
    let mut prev: Option<(usize, usize)> = None;
    macro_rules! exact_at {
        ($f:expr, $o:expr) => {{
            let (f, o): (usize, usize) = ($f, $o);
            let d = f.wrapping_sub(o);
            if exact_delta != Some(d) {
                sink.exact(f, o);
                exact_delta = Some(d);
            }
        }};
    }
    while i < n {
        let b = bytes[i];
        if b < 0x80 {
            // A run of ASCII: lower-cased and copied, 8 bytes at a time where possible.
            let f = buf.len();
            exact_at!(f, i);
            let start = i;
            while i + 8 <= n {
                let w = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0x80; 8]));
                if w & 0x8080_8080_8080_8080 != 0 {
                    break;
                }
                buf.extend_from_slice(&ascii_lower8(w).to_le_bytes());
                i += 8;
            }
            while i < n && bytes[i] < 0x80 {
                buf.push(bytes[i].to_ascii_lowercase());
                i += 1;
            }
            if i > start {
                prev = Some((f + (i - 1 - start), i - 1));
            }
            continue;
        }
        let (c, l) = decode(bytes, i);
        let entry = if (c as u32) < TABLE_END {
            table.entry(c)
        } else if joins_previous(c) {
            JOINS_PREVIOUS
        } else {
            // Rare planes: fold through the slow path as a segment of its own.
            let f = buf.len();
            exact_delta = None;
            with_string(buf, |out| fold_slow_segment(text, i, i + l, f, out, sink));
            if buf.len() > f {
                // A removed character (a tag) is transparent to a joining one after it.
                prev = Some((f, i));
            }
            i += l;
            continue;
        };
        if entry == 0 {
            // Folds to itself and starts a segment.
            let f = buf.len();
            exact_at!(f, i);
            push_char(buf, &bytes[i..i + l]);
            prev = Some((f, i));
            i += l;
            continue;
        }
        if entry & (JOINS_PREVIOUS | SAME_LEN) == SAME_LEN {
            // One character of the same length (katakana → hiragana, kanji variants).
            let f = buf.len();
            exact_at!(f, i);
            push_char(buf, table.replacement_bytes(entry));
            prev = Some((f, i));
            i += l;
            continue;
        }
        exact_delta = None;
        if entry & JOINS_PREVIOUS != 0 {
            let (pf, po) = prev.unwrap_or((buf.len(), i));
            let mut j = i + l;
            while j < n && bytes[j] >= 0x80 {
                let (d, dl) = decode(bytes, j);
                let joins = if (d as u32) < TABLE_END {
                    table.entry(d) & JOINS_PREVIOUS != 0
                } else {
                    joins_previous(d)
                };
                if !joins {
                    break;
                }
                j += dl;
            }
            buf.truncate(pf);
            sink.retract(po);
            with_string(buf, |out| fold_slow_segment(text, po, j, pf, out, sink));
            prev = Some((pf, po));
            i = j;
            continue;
        }
        let f = buf.len();
        match table.decode(entry) {
            CharFold::Removed => sink.removed(f, i),
            CharFold::Same => {
                sink.exact(f, i);
                buf.extend_from_slice(&bytes[i..i + l]);
                prev = Some((f, i));
            }
            CharFold::Replaced(r) => {
                if r.len() == l && r.chars().nth(1).is_none() {
                    sink.exact(f, i);
                } else {
                    sink.segment(f, i);
                }
                buf.extend_from_slice(r.as_bytes());
                prev = Some((f, i));
            }
        }
        i += l;
    }
}

/// Appends one character's bytes (1–4) without a `memcpy` call for the usual lengths.
#[inline(always)]
fn push_char(buf: &mut Vec<u8>, c: &[u8]) {
    match *c {
        [a, b, c] => buf.extend_from_slice(&[a, b, c]),
        [a, b] => buf.extend_from_slice(&[a, b]),
        _ => buf.extend_from_slice(c),
    }
}

/// Lends the fold buffer out as the `String` it is (no copy).
#[inline]
#[allow(unsafe_code)]
fn with_string(buf: &mut Vec<u8>, f: impl FnOnce(&mut String)) {
    // SAFETY: `fold_into` only ever appends whole UTF-8 sequences to `buf`, so it is valid
    // UTF-8 whenever this is called.
    let mut s = unsafe { String::from_utf8_unchecked(std::mem::take(buf)) };
    f(&mut s);
    *buf = s.into_bytes();
}

/// Decodes the (non-ASCII) character starting at `bytes[i]` of valid UTF-8.
#[inline]
fn decode(bytes: &[u8], i: usize) -> (char, usize) {
    let b = bytes[i] as u32;
    let cont = |k: usize| (bytes.get(i + k).copied().unwrap_or(0x80) & 0x3F) as u32;
    let (v, l) = if b < 0xE0 {
        (((b & 0x1F) << 6) | cont(1), 2)
    } else if b < 0xF0 {
        (((b & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        (
            ((b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        )
    };
    (char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER), l)
}

/// Folds original `text[from..to]` as one normalisation segment, appending at folded offset `f`.
fn fold_slow_segment<S: MapSink>(
    text: &str,
    from: usize,
    to: usize,
    f: usize,
    out: &mut String,
    sink: &mut S,
) {
    fold_segment_fixpoint(&text[from..to], &CHAR_MAPS, out);
    if out.len() == f {
        sink.removed(f, from);
    } else {
        sink.segment(f, from);
    }
}

#[cfg(test)]
mod fast_path_oracle {
    //! The straightforward fold loop (span copying, no fast paths) that `fold_into` must agree
    //! with exactly: same folded text, same offset map.
    use super::*;
    pub(crate) fn fold_into_ref<S: MapSink>(text: &str, out: &mut String, sink: &mut S) {
        let table = &*TABLE;
        let bytes = text.as_bytes();
        let mut i = 0;
        // `text[span..i]` is a pending run of characters that fold to themselves (ASCII is
        // lower-cased in place when copied): copied in one go when something else comes.
        let mut span = 0;
        // Original start of the last character when it lies in the pending span.
        let mut last_in_span: Option<usize> = None;
        // Start (folded, original) of the last segment emitted: a joining character that follows
        // is normalised together with it. Removed characters are transparent here.
        let mut prev: Option<(usize, usize)> = None;
        let flush = |span: usize,
                     end: usize,
                     last_in_span: Option<usize>,
                     out: &mut String,
                     sink: &mut S,
                     prev: &mut Option<(usize, usize)>| {
            if span < end {
                let f = out.len();
                sink.exact(f, span);
                out.push_str(&text[span..end]);
                out[f..].make_ascii_lowercase();
                if let Some(lo) = last_in_span {
                    *prev = Some((f + (lo - span), lo));
                }
            }
        };
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                i += 1;
                while i < bytes.len() && bytes[i] < 0x80 {
                    i += 1;
                }
                last_in_span = Some(i - 1);
                continue;
            }
            let (c, l) = decode(bytes, i);
            let entry = if (c as u32) < TABLE_END {
                table.entry(c)
            } else if joins_previous(c) {
                JOINS_PREVIOUS
            } else {
                // Rare planes: fold through the slow path as a segment of its own.
                flush(span, i, last_in_span, out, sink, &mut prev);
                let f = out.len();
                fold_slow_segment(text, i, i + l, f, out, sink);
                if out.len() > f {
                    prev = Some((f, i));
                }
                i += l;
                span = i;
                last_in_span = None;
                continue;
            };
            if entry == 0 {
                // Folds to itself and starts a segment: stays in the pending span.
                last_in_span = Some(i);
                i += l;
                continue;
            }
            flush(span, i, last_in_span, out, sink, &mut prev);
            last_in_span = None;
            if entry & JOINS_PREVIOUS != 0 {
                let (pf, po) = prev.unwrap_or((out.len(), i));
                let mut j = i + l;
                while j < bytes.len() && bytes[j] >= 0x80 {
                    let (d, dl) = decode(bytes, j);
                    let joins = if (d as u32) < TABLE_END {
                        table.entry(d) & JOINS_PREVIOUS != 0
                    } else {
                        joins_previous(d)
                    };
                    if !joins {
                        break;
                    }
                    j += dl;
                }
                out.truncate(pf);
                sink.retract(po);
                fold_slow_segment(text, po, j, pf, out, sink);
                prev = Some((pf, po));
                i = j;
                span = i;
                continue;
            }
            let f = out.len();
            match table.decode(entry) {
                CharFold::Removed => sink.removed(f, i),
                CharFold::Same => {
                    sink.exact(f, i);
                    out.push_str(&text[i..i + l]);
                    prev = Some((f, i));
                }
                CharFold::Replaced(r) => {
                    if r.len() == l && r.chars().nth(1).is_none() {
                        sink.exact(f, i);
                    } else {
                        sink.segment(f, i);
                    }
                    out.push_str(r);
                    prev = Some((f, i));
                }
            }
            i += l;
            span = i;
        }
        flush(span, bytes.len(), last_in_span, out, sink, &mut prev);
    }

    use proptest::prelude::*;
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20000))]
        #[test]
        fn same_as_reference(s in "[aZ. 9\u{301}\u{200B}\u{E0041}ＭミみﾄﾞｽﾞΣМ總総银行三\u{3099}ßİ\u{1D40C}\u{1F600}\n]{0,24}") {
            let new = fold(&s);
            let mut out = String::new();
            let mut runs = Vec::new();
            fold_into_ref(&s, &mut out, &mut runs);
            prop_assert_eq!(new.as_str(), out.as_str());
            prop_assert_eq!(&new.runs, &runs);
            prop_assert_eq!(fold_str(&s), out.clone());
            let mut re = fold("ＭＵＦＧ junk ｽﾞ");
            re.refold(&s);
            prop_assert_eq!(re, new);
        }
    }
}

#[cfg(test)]
mod per_character {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// Without joining characters, folding a text is folding each character.
        #[test]
        fn fold_is_per_character_without_joins(s in "[aZ. 9\u{301}\u{200B}\u{E0041}ＭミみﾄﾞｽΣМ總総银行三ßİﬁ⑴①\u{1D40C}\u{1F600}\u{2F800}\n]{0,24}") {
            let mut each = String::new();
            let mut joins = false;
            for c in s.chars() {
                match fold_char(c) {
                    CharFolding::One(f) => each.push(f),
                    CharFolding::Removed => {}
                    CharFolding::Many(m) => each.push_str(m),
                    CharFolding::Joins => joins = true,
                }
            }
            if !joins {
                prop_assert_eq!(each, fold_str(&s));
            }
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(fold_char('Ｍ'), CharFolding::One('m'));
        assert_eq!(fold_char('總'), CharFolding::One('总'));
        assert_eq!(fold_char('\u{200B}'), CharFolding::Removed);
        assert_eq!(fold_char('ﬁ'), CharFolding::Many("fi"));
        assert_eq!(fold_char('\u{301}'), CharFolding::Joins);
        assert_eq!(fold_char('ﾞ'), CharFolding::Joins);
    }
}
