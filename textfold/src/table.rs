//! The per-character fold table: for every code point below `TABLE_END`, what one
//! character folds to on its own and whether it may combine with the character
//! before it. Built once, lazily; the fold loop only looks things up here.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Code points at or above this are folded without the table (rare: CJK Ext. G+, tags, private use).
pub(crate) const TABLE_END: u32 = 0x30000;

/// Entry bit: the character may combine with (or reorder around) the one before it under
/// NFKC, so it must be normalised together with its predecessor as one segment.
pub(crate) const JOINS_PREVIOUS: u32 = 1 << 31;
/// Entry bit: the character folds to nothing (zero-width characters, soft hyphen, variation selectors).
pub(crate) const REMOVED: u32 = 1 << 30;
/// Entry bit: the character folds to one other character of the same UTF-8 length
/// (katakana → hiragana, kanji variants): the fold loop copies it without breaking an
/// exact run of the offset map.
pub(crate) const SAME_LEN: u32 = 1 << 29;
pub(crate) const LEN_BITS: u32 = 6;
const VALUE_MASK: u32 = SAME_LEN - 1;

/// Lookup table plus the pool holding every non-identity replacement.
pub(crate) struct FoldTable {
    entries: Vec<u32>,
    pool: String,
}

/// What a single character folds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CharFold<'a> {
    Same,
    Removed,
    Replaced(&'a str),
}

pub(crate) static TABLE: LazyLock<FoldTable> = LazyLock::new(FoldTable::build);

/// The character-level equivalences folded after NFKC: look-alikes and kanji variants.
pub(crate) struct CharMaps {
    lookalikes: HashMap<char, char>,
    kanji: HashMap<char, char>,
}

pub(crate) static CHAR_MAPS: LazyLock<CharMaps> = LazyLock::new(|| CharMaps {
    lookalikes: crate::confusables::latin_lookalikes().into_iter().collect(),
    kanji: crate::kanji::variant_pairs().into_iter().collect(),
});

impl FoldTable {
    fn build() -> FoldTable {
        let maps = &*CHAR_MAPS;
        let mut entries = vec![0u32; TABLE_END as usize];
        let mut pool = String::new();
        let mut buf = String::new();
        for cp in 0x80..TABLE_END {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            // Unified ideographs and hangul syllables are NFKC-stable starters: only their
            // variant mapping can change them (saves most of the start-up time).
            if stable_starter(cp) {
                if let Some(&k) = maps.kanji.get(&c) {
                    let offset = pool.len() as u32;
                    pool.push(k);
                    let same = if k.len_utf8() == c.len_utf8() {
                        SAME_LEN
                    } else {
                        0
                    };
                    entries[cp as usize] = same | (offset << LEN_BITS) | k.len_utf8() as u32;
                }
                continue;
            }
            let mut entry = if joins_previous(c) { JOINS_PREVIOUS } else { 0 };
            if !quick_identity(c, maps) {
                buf.clear();
                fold_char_fixpoint(c, maps, &mut buf);
                let mut one = [0u8; 4];
                if buf.is_empty() {
                    entry |= REMOVED;
                } else if buf != *c.encode_utf8(&mut one) {
                    let offset = pool.len() as u32;
                    let len = buf.len() as u32;
                    assert!(
                        len < (1 << LEN_BITS),
                        "a single character folds to fewer than 64 bytes"
                    );
                    pool.push_str(&buf);
                    entry |= (offset << LEN_BITS) | len;
                    if buf.chars().nth(1).is_none() && buf.len() == c.len_utf8() {
                        entry |= SAME_LEN;
                    }
                }
            }
            entries[cp as usize] = entry;
        }
        FoldTable { entries, pool }
    }

    /// The table entry of a non-ASCII character (`TABLE_END` and above: computed).
    #[inline]
    pub(crate) fn entry(&self, c: char) -> u32 {
        self.entries
            .get(c as usize)
            .copied()
            .unwrap_or(JOINS_PREVIOUS)
    }

    #[inline]
    pub(crate) fn decode(&self, entry: u32) -> CharFold<'_> {
        if entry & REMOVED != 0 {
            return CharFold::Removed;
        }
        let v = entry & VALUE_MASK;
        if v == 0 {
            return CharFold::Same;
        }
        CharFold::Replaced(self.replacement(entry))
    }

    /// The replacement text of an entry that has one (not removed, not identity).
    #[inline]
    pub(crate) fn replacement(&self, entry: u32) -> &str {
        let v = entry & VALUE_MASK;
        let offset = (v >> LEN_BITS) as usize;
        let len = (v & ((1 << LEN_BITS) - 1)) as usize;
        &self.pool[offset..offset + len]
    }

    /// The replacement bytes of a `SAME_LEN` entry (`len` bytes, as the original character).
    #[inline]
    pub(crate) fn replacement_bytes(&self, entry: u32) -> &[u8] {
        let v = entry & VALUE_MASK;
        let offset = (v >> LEN_BITS) as usize;
        let len = (v & ((1 << LEN_BITS) - 1)) as usize;
        &self.pool.as_bytes()[offset..offset + len]
    }
}

/// Code points that are NFKC starters, unchanged by NFKC, case folding and kana folding:
/// CJK unified ideographs (BMP, extension A, extensions B–F) and hangul syllables.
fn stable_starter(cp: u32) -> bool {
    matches!(cp, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7A3 | 0x20000..=0x2EBEF)
}

/// Characters NFKC may compose with, or reorder around, the character before them:
/// non-starters, NFKC_QC=Maybe characters (hangul vowel jamo, voiced sound marks) and
/// characters whose compatibility decomposition starts with one (half-width ﾞ → U+3099).
pub(crate) fn joins_previous(c: char) -> bool {
    let unstable = |d: char| {
        canonical_combining_class(d) != 0
            || is_nfkc_quick(std::iter::once(d)) == IsNormalized::Maybe
    };
    if unstable(c) {
        return true;
    }
    let mut first = None;
    decompose_compatible(c, |d| {
        first.get_or_insert(d);
    });
    first.is_some_and(unstable)
}

/// Cheap test that a character certainly folds to itself (most of the table).
fn quick_identity(c: char, maps: &CharMaps) -> bool {
    if is_ignorable(c) || maps.lookalikes.contains_key(&c) || maps.kanji.contains_key(&c) {
        return false;
    }
    if kana_fold(c) != c || matches!(c, 'ß' | 'ẞ' | 'ς') {
        return false;
    }
    let mut lower = c.to_lowercase();
    if lower.next() != Some(c) || lower.next().is_some() {
        return false;
    }
    is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// Folds one character (or one normalisation segment) until the result no longer changes,
/// appending the result to `out`.
pub(crate) fn fold_char_fixpoint(c: char, maps: &CharMaps, out: &mut String) {
    let mut one = [0u8; 4];
    fold_segment_fixpoint(c.encode_utf8(&mut one), maps, out);
}

/// Folds a normalisation segment (a starter and the characters that join it) to a fixed point.
pub(crate) fn fold_segment_fixpoint(segment: &str, maps: &CharMaps, out: &mut String) {
    let mut cur = fold_once(segment, maps);
    for _ in 0..4 {
        let next = fold_once(&cur, maps);
        if next == cur {
            break;
        }
        cur = next;
    }
    out.push_str(&cur);
}

/// One round of the pipeline: NFKC, drop ignorables, look-alikes → Latin (before case
/// folding: the confusable tables are case-sensitive), case fold, katakana → hiragana,
/// kanji variant → canonical form.
fn fold_once(s: &str, maps: &CharMaps) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkc() {
        if is_ignorable(c) {
            continue;
        }
        let c = maps.lookalikes.get(&c).copied().unwrap_or(c);
        let mut push = |l: char| {
            let k = kana_fold(l);
            out.push(maps.kanji.get(&k).copied().unwrap_or(k));
        };
        match c {
            'ß' | 'ẞ' => "ss".chars().for_each(&mut push),
            'ς' => push('σ'),
            _ => c.to_lowercase().for_each(&mut push),
        }
    }
    out
}

/// Katakana → hiragana (ミズホ → みずほ); characters without a hiragana twin are kept.
pub(crate) fn kana_fold(c: char) -> char {
    match c as u32 {
        0x30A1..=0x30F6 | 0x30FD..=0x30FE => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Characters removed by folding: Unicode default-ignorable code points (zero-width
/// space / joiners, soft hyphen, bidi controls, variation selectors, tags, fillers).
pub(crate) fn is_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_decode() {
        let t = &*TABLE;
        assert_eq!(t.decode(t.entry('ミ')), CharFold::Replaced("み"));
        assert_eq!(t.decode(t.entry('み')), CharFold::Same);
        assert_eq!(t.decode(t.entry('\u{200B}')), CharFold::Removed);
        assert_eq!(t.decode(t.entry('Ｍ')), CharFold::Replaced("m"));
        assert_eq!(t.decode(t.entry('總')), CharFold::Replaced("总"));
        assert_ne!(
            t.entry('ﾞ') & JOINS_PREVIOUS,
            0,
            "half-width voiced mark joins the kana before it"
        );
        assert_eq!(
            t.entry('，') & JOINS_PREVIOUS,
            0,
            "full-width comma starts its own segment"
        );
    }
}
