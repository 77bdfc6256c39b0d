//! The phrase scanner: reports every occurrence (overlapping, across all customers) of
//! every watch phrase in a text. One compact Aho-Corasick NFA holds all phrases; at each
//! character start, small prefix bitsets (which stay in cache) decide whether an anchored
//! walk of the NFA is needed. Finds exactly what one overlapping automaton scan finds.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

/// Hashed prefix filters have 2^HASH_BITS bits each (64 KiB: both stay in L2).
const HASH_BITS: u32 = 19;

/// Prefix lengths (bytes) of the filters: a phrase of length `n` registers its first
/// `prefix_class(n)` bytes. Lengths 1–2 index exact bitsets; 3, 6 and 9 hashed ones (9
/// bytes are three CJK characters: two-character prefixes of names are common words).
fn prefix_class(len: usize) -> usize {
    match len {
        0 | 1 => 1,
        2 => 2,
        3..=5 => 3,
        6..=8 => 6,
        _ => 9,
    }
}

#[derive(Debug)]
pub(crate) struct PhraseScanner {
    nfa: NFA,
    start: StateID,
    /// Exact bitsets over the first byte / first two bytes.
    first1: Vec<u64>,
    first2: Vec<u64>,
    /// Hashed bitsets over the first three / six / nine bytes.
    first3: Vec<u64>,
    first6: Vec<u64>,
    first9: Vec<u64>,
    /// First-character filter, checked before the prefix filters: for phrases starting with
    /// ASCII by their first two bytes (`b0 << 8 | b1`, `b1` = 0 at the end of the text), for
    /// the others by the code point of their first character (BMP), the set of prefix
    /// classes (bit 0–4: prefix lengths 1, 2, 3, 6, 9) of the phrases starting so; 0 when none does.
    lead_ascii: Vec<u8>,
    lead_bmp: Vec<u8>,
    /// Bit `cp` set when `lead_bmp[cp] != 0`: an 8 KiB first look that stays in L1.
    lead_bmp_any: Vec<u64>,
    /// Classes of the phrases starting with a character outside the BMP.
    lead_astral: u8,
    max_len: usize,
}

/// Length of the UTF-8 sequence a byte starts (continuation bytes: 1, never at a start).
const UTF8_LEN: [u8; 256] = {
    let mut t = [1u8; 256];
    let mut b = 0xC0;
    while b < 256 {
        t[b] = if b < 0xE0 {
            2
        } else if b < 0xF0 {
            3
        } else {
            4
        };
        b += 1;
    }
    t
};

#[inline]
fn hash(v: u64) -> usize {
    (v.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - HASH_BITS)) as usize
}

/// Hash of nine bytes: the first eight (little-endian) and the ninth.
#[inline]
fn hash9(first8: u64, ninth: u8) -> usize {
    let h = (first8.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ninth as u64)
        .wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (h >> (64 - HASH_BITS)) as usize
}

#[inline]
fn bit(set: &[u64], i: usize) -> bool {
    set[i / 64] & (1 << (i % 64)) != 0
}

fn set_bit(set: &mut [u64], i: usize) {
    set[i / 64] |= 1 << (i % 64);
}

/// Little-endian value of the first `n` (≤ 8) bytes.
#[inline]
fn le_prefix(bytes: &[u8], n: usize) -> u64 {
    let mut v = 0u64;
    for (k, &b) in bytes[..n].iter().enumerate() {
        v |= (b as u64) << (8 * k);
    }
    v
}

impl PhraseScanner {
    /// `keys[i]` is reported as pattern `i`. Keys must be non-empty.
    pub(crate) fn new(keys: &[String]) -> PhraseScanner {
        let nfa = NFA::builder()
            .match_kind(MatchKind::Standard)
            .build(keys)
            .expect("watch phrases fit aho-corasick's limits (far below 2^31 states)");
        let start = nfa
            .start_state(Anchored::Yes)
            .expect("a contiguous NFA supports anchored starts");
        let mut s = PhraseScanner {
            nfa,
            start,
            first1: vec![0; 256 / 64],
            first2: vec![0; 65536 / 64],
            first3: vec![0; (1 << HASH_BITS) / 64],
            first6: vec![0; (1 << HASH_BITS) / 64],
            first9: vec![0; (1 << HASH_BITS) / 64],
            lead_ascii: vec![0; 65536],
            lead_bmp: vec![0; 65536],
            lead_bmp_any: vec![0; 65536 / 64],
            lead_astral: 0,
            max_len: keys.iter().map(String::len).max().unwrap_or(0),
        };
        for k in keys {
            let b = k.as_bytes();
            let first = k.chars().next().expect("keys are non-empty");
            let class = 1u8
                << match prefix_class(b.len()) {
                    1 => 0,
                    2 => 1,
                    3 => 2,
                    6 => 3,
                    _ => 4,
                };
            if first.is_ascii() {
                if b.len() == 1 {
                    for b1 in 0..256 {
                        s.lead_ascii[(b[0] as usize) << 8 | b1] |= class;
                    }
                } else {
                    s.lead_ascii[(b[0] as usize) << 8 | b[1] as usize] |= class;
                }
            } else if (first as u32) <= 0xFFFF {
                s.lead_bmp[first as usize] |= class;
                set_bit(&mut s.lead_bmp_any, first as usize);
            } else {
                s.lead_astral |= class;
            }
            match prefix_class(b.len()) {
                1 => {
                    set_bit(&mut s.first1, b[0] as usize);
                }
                2 => {
                    set_bit(&mut s.first2, le_prefix(b, 2) as usize);
                }
                3 => {
                    set_bit(&mut s.first3, hash(le_prefix(b, 3)));
                }
                6 => {
                    set_bit(&mut s.first6, hash(le_prefix(b, 6)));
                }
                _ => {
                    set_bit(&mut s.first9, hash9(le_prefix(b, 8), b[8]));
                }
            }
        }
        s
    }

    /// Heap bytes used by the automaton and the filters.
    pub(crate) fn memory_usage(&self) -> usize {
        self.nfa.memory_usage()
            + 8 * (self.first1.len()
                + self.first2.len()
                + self.first3.len()
                + self.first6.len()
                + self.first9.len())
            + self.lead_ascii.len()
            + self.lead_bmp.len()
            + 8 * self.lead_bmp_any.len()
    }

    /// The prefix classes of the phrases that start with the character at `bytes[i]` (a
    /// character start): a cheap first check that also tells
    /// [`may_start`](Self::may_start) which filters to look at.
    #[inline(always)]
    fn lead_classes(&self, bytes: &[u8], i: usize) -> u8 {
        let b = bytes[i];
        if b < 0x80 {
            let b1 = bytes.get(i + 1).copied().unwrap_or(0);
            return self.lead_ascii[(b as usize) << 8 | b1 as usize];
        }
        let cont = |k: usize| (bytes.get(i + k).copied().unwrap_or(0x80) & 0x3F) as usize;
        let cp = if b < 0xE0 {
            ((b as usize & 0x1F) << 6) | cont(1)
        } else if b < 0xF0 {
            ((b as usize & 0x0F) << 12) | (cont(1) << 6) | cont(2)
        } else {
            return self.lead_astral;
        };
        if !bit(&self.lead_bmp_any, cp) {
            return 0;
        }
        self.lead_bmp[cp]
    }

    /// Whether some phrase of the prefix classes `classes` may start at `bytes[i]`.
    #[inline(always)]
    fn may_start(&self, bytes: &[u8], i: usize, classes: u8) -> bool {
        let rest = &bytes[i..];
        let n = rest.len();
        let word = match rest.get(..8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            Some(w) => u64::from_le_bytes(w),
            None => le_prefix(rest, n.min(8)),
        };
        (classes & 16 != 0 && n >= 9 && bit(&self.first9, hash9(word, rest[8])))
            || (classes & 8 != 0 && n >= 6 && bit(&self.first6, hash(word & 0xFFFF_FFFF_FFFF)))
            || (classes & 4 != 0 && n >= 3 && bit(&self.first3, hash(word & 0xFF_FFFF)))
            || (classes & 2 != 0 && n >= 2 && bit(&self.first2, (word & 0xFFFF) as usize))
            || (classes & 1 != 0 && bit(&self.first1, (word & 0xFF) as usize))
    }

    /// Calls `f(pattern, start, end)` for every occurrence in `hay` of every phrase that could
    /// pass a left word-boundary check: `run_starts` (sorted) are the offsets in `hay` that
    /// follow a removed separator; elsewhere an ASCII letter or digit right after another
    /// one cannot start a match (its phrase starts with a word character and would fail the
    /// boundary check), so those positions are skipped.
    pub(crate) fn for_each_match(
        &self,
        hay: &str,
        run_starts: &[u32],
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let bytes = hay.as_bytes();
        let mut i = 0;
        let mut run = 0;
        let mut prev_alnum = false;
        while i < bytes.len() {
            let b = bytes[i];
            let alnum = b.is_ascii_alphanumeric();
            if alnum && prev_alnum {
                // Inside an ASCII word unless a separator was removed right before.
                while run < run_starts.len() && (run_starts[run] as usize) < i {
                    run += 1;
                }
                if run_starts.get(run).is_none_or(|&r| r as usize != i) {
                    i += 1;
                    continue;
                }
            }
            prev_alnum = alnum;
            let at = i;
            // Step from character start to character start.
            i += UTF8_LEN[b as usize] as usize;
            let classes = self.lead_classes(bytes, at);
            if classes == 0 || !self.may_start(bytes, at, classes) {
                continue;
            }
            self.walk(bytes, at, &mut f);
        }
    }

    /// Walks the anchored NFA from `bytes[i]`, reporting the phrases that start there. A
    /// match state also lists the matches of its suffixes, which start later and are
    /// reported from their own start.
    #[inline]
    fn walk(&self, bytes: &[u8], i: usize, f: &mut impl FnMut(usize, usize, usize)) {
        let end = (i + self.max_len).min(bytes.len());
        let mut sid = self.start;
        for (j, &b) in bytes[i..end].iter().enumerate() {
            sid = self.nfa.next_state(Anchored::Yes, sid, b);
            if self.nfa.is_dead(sid) {
                break;
            }
            if self.nfa.is_match(sid) {
                for k in 0..self.nfa.match_len(sid) {
                    let pid = self.nfa.match_pattern(sid, k);
                    if self.nfa.pattern_len(pid) == j + 1 {
                        f(pid.as_usize(), i, i + j + 1);
                    }
                }
            }
        }
    }

    /// (character starts, starts passing the first-character filter, positions where an
    /// anchored walk ran, bytes walked, matches) for `hay`, without the word-start skip:
    /// how selective the filters are. For benchmarks.
    #[cfg(feature = "bench")]
    pub(crate) fn filter_stats(&self, hay: &str) -> [usize; 5] {
        let bytes = hay.as_bytes();
        let mut st = [0usize; 5];
        for i in (0..bytes.len()).filter(|&i| (bytes[i] as i8) >= -0x40) {
            st[0] += 1;
            let classes = self.lead_classes(bytes, i);
            if classes == 0 {
                continue;
            }
            st[1] += 1;
            if self.may_start(bytes, i, classes) {
                st[2] += 1;
                let end = (i + self.max_len).min(bytes.len());
                let mut sid = self.start;
                for &b in &bytes[i..end] {
                    sid = self.nfa.next_state(Anchored::Yes, sid, b);
                    st[3] += 1;
                    if self.nfa.is_dead(sid) {
                        break;
                    }
                    if self.nfa.is_match(sid) {
                        st[4] += 1;
                    }
                }
            }
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;

    /// The scanner for `keys`, and one overlapping automaton over them (the reference).
    fn scanners(keys: &[&str]) -> (PhraseScanner, AhoCorasick) {
        let keys: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        let reference = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&keys)
            .expect("builds");
        (PhraseScanner::new(&keys), reference)
    }

    #[test]
    fn finds_what_one_overlapping_automaton_finds() {
        let keys = [
            "三菱",
            "三菱ufj银行",
            "ufj",
            "mufg",
            "出",
            "出售",
            "mitsubishiufj",
            "菱ufj银",
            "银行",
            "nec",
            "ゆうちょ银行",
            "jr",
            "x",
            "ab",
            "abcdef",
            "abcdefgh",
        ];
        let (scanner, reference) = scanners(&keys);
        for hay in [
            "出售三菱ufj银行mufg",
            "mitsubishiufj nec 出 三菱ufj银 ゆうちょ银行",
            "",
            "三",
            "三菱ufj银行三菱ufj银行",
            "jrx abcdefghab abcdefg",
            "x",
        ] {
            let mut got = Vec::new();
            // Every position a run start: nothing is skipped.
            let runs: Vec<u32> = (0..hay.len() as u32).collect();
            scanner.for_each_match(hay, &runs, |p, s, e| got.push((p, s, e)));
            let mut want: Vec<_> = reference
                .find_overlapping_iter(hay)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{hay}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Every occurrence one overlapping automaton finds, less those starting inside an
        /// ASCII word (right after a letter or digit, no removed separator between), in
        /// order of start.
        #[test]
        fn finds_every_occurrence_a_word_boundary_allows(
            chars in proptest::collection::vec(
                ("[abx12三菱银行ゆうちょ出售]", proptest::bool::ANY),
                0..60,
            )
        ) {
            let keys = [
                "三菱", "三菱银行", "菱银", "ab", "abx", "b", "x", "12", "2ab", "ゆうちょ", "うち",
                "出", "出售", "售三菱", "xxxx", "银",
            ];
            let (scanner, reference) = scanners(&keys);
            let mut hay = String::new();
            let mut runs = Vec::new();
            for (c, run) in &chars {
                if *run {
                    runs.push(hay.len() as u32);
                }
                hay.push_str(c);
            }
            let word = |i: usize| hay[i..].starts_with(|c: char| c.is_ascii_alphanumeric());
            let prev_word = |i: usize| {
                hay[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric())
            };
            let mut want: Vec<_> = reference
                .find_overlapping_iter(&hay)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .filter(|&(_, s, _)| {
                    !(word(s) && prev_word(s)) || runs.contains(&(s as u32))
                })
                .collect();
            let mut got = Vec::new();
            scanner.for_each_match(&hay, &runs, |p, s, e| got.push((p, s, e)));
            proptest::prop_assert!(got.windows(2).all(|w| w[0].1 <= w[1].1));
            got.sort();
            want.sort();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
