//! `FoldedText`: the folded string plus a run-length map from folded byte offsets back to
//! the original's, and the single pass that builds both. Lookups only; no I/O, no panics on input.

use std::ops::Range;

use crate::table::{
    fold_segment_fixpoint, joins_previous, CharFold, CHAR_MAPS, JOINS_PREVIOUS, TABLE, TABLE_END,
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
            let at = if a < len { self.start_of(a) } else { self.end_of(len) };
            return at..at;
        }
        self.start_of(a)..self.end_of(b)
    }

    /// Original offset of folded byte `a` (`a < len`).
    fn start_of(&self, a: usize) -> usize {
        let i = self.runs.partition_point(|r| r.folded as usize <= a).saturating_sub(1);
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
        let j = self.runs.partition_point(|r| (r.folded as usize) < b).saturating_sub(1);
        let r = self.runs[j];
        match r.kind {
            RunKind::Exact => r.original as usize + (b - r.folded as usize),
            _ => self.runs.get(j + 1).map_or(self.original_len as usize, |n| n.original as usize),
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
        self.push(Run { folded: folded as u32, original: original as u32, kind: RunKind::Exact });
    }

    #[inline]
    fn segment(&mut self, folded: usize, original: usize) {
        self.push(Run { folded: folded as u32, original: original as u32, kind: RunKind::Segment });
    }

    #[inline]
    fn removed(&mut self, folded: usize, original: usize) {
        if self.last().is_some_and(|l| l.kind == RunKind::Removed && l.folded as usize == folded) {
            return;
        }
        self.push(Run { folded: folded as u32, original: original as u32, kind: RunKind::Removed });
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
    FoldedText { text: out, runs, original_len: text.len() as u32 }
}

/// Folds `text` without building the offset map (fast path for analyzers and keys).
pub fn fold_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out, &mut ());
    out
}

fn fold_into<S: MapSink>(text: &str, out: &mut String, sink: &mut S) {
    let table = &*TABLE;
    let bytes = text.as_bytes();
    let mut i = 0;
    // Start (folded, original) of the last segment emitted: a joining character that follows
    // is normalised together with it. Removed characters are transparent here.
    let mut prev: Option<(usize, usize)> = None;
    while i < bytes.len() {
        if bytes[i] < 0x80 {
            let start = i;
            while i < bytes.len() && bytes[i] < 0x80 {
                i += 1;
            }
            let f = out.len();
            sink.exact(f, start);
            out.push_str(&text[start..i]);
            out[f..].make_ascii_lowercase();
            prev = Some((out.len() - 1, i - 1));
            continue;
        }
        let Some(c) = text[i..].chars().next() else { break };
        let l = c.len_utf8();
        let entry = if (c as u32) < TABLE_END {
            table.entry(c)
        } else if joins_previous(c) {
            JOINS_PREVIOUS
        } else {
            // Rare planes: fold through the slow path as a segment of its own.
            let f = out.len();
            fold_slow_segment(text, i, i + l, f, out, sink);
            prev = Some((f, i));
            i += l;
            continue;
        };
        if entry & JOINS_PREVIOUS != 0 {
            let (pf, po) = prev.unwrap_or((out.len(), i));
            let mut j = i + l;
            while let Some(d) = text[j..].chars().next() {
                let joins = if (d as u32) < TABLE_END {
                    table.entry(d) & JOINS_PREVIOUS != 0
                } else {
                    joins_previous(d)
                };
                if !joins {
                    break;
                }
                j += d.len_utf8();
            }
            out.truncate(pf);
            sink.retract(po);
            fold_slow_segment(text, po, j, pf, out, sink);
            prev = Some((pf, po));
            i = j;
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
            CharFold::Replaced(s) => {
                if s.len() == l && s.chars().nth(1).is_none() {
                    sink.exact(f, i);
                } else {
                    sink.segment(f, i);
                }
                out.push_str(s);
                prev = Some((f, i));
            }
        }
        i += l;
    }
}

/// Folds original `text[from..to]` as one normalisation segment, appending at folded offset `f`.
fn fold_slow_segment<S: MapSink>(text: &str, from: usize, to: usize, f: usize, out: &mut String, sink: &mut S) {
    fold_segment_fixpoint(&text[from..to], &CHAR_MAPS, out);
    if out.len() == f {
        sink.removed(f, from);
    } else {
        sink.segment(f, from);
    }
}
