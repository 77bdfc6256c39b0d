//! The term gate: one pass over a document's original text that folds each character
//! (through a 64K-entry table built from `textfold`), drops separators and asks, at each
//! character, whether a watch term (or a watched domain's first label) may start there —
//! without building the offset-mapped views the full match needs. Most documents mention
//! no watched asset; the gate lets them skip everything else.
//!
//! The gate never misses: it answers [`Verdict::Clear`] only when no watch key occurs in
//! the separator-free folded text at a position where the phrase scanner would report it,
//! or every occurrence fails a right-boundary check the matcher would also apply.
//! The pass has two loops over the document: a fold into a view of one `u32` record per
//! kept character, then a probe of a hashed bitset over the first one, two and three folded
//! characters of every key at each record; an anchored walk of an Aho-Corasick NFA over the
//! keys confirms the candidates. Both loops take eight characters at a time with AVX2 where
//! the CPU has it (and are tested against their plain forms).

use std::cell::RefCell;
use std::sync::LazyLock;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};
use textfold::CharFolding;

use crate::text::{is_separator, is_transparent, is_word_char};

/// The prefix bitset has 2^BITS bits (256 KiB: stays in L2).
const BITS: u32 = 21;
/// Odd multipliers of the prefix hash: row `n - 1` for prefixes of `n` characters (so that
/// prefixes of different lengths hash apart), one column per character.
const MUL: [[u32; 3]; 3] = [
    [0x9E37_79B1, 0, 0],
    [0x85EB_CA77, 0xC2B2_AE3D, 0],
    [0x27D4_EB2F, 0x1656_67B1, 0xD3A2_646D],
];

/// Bitset index of the prefix `c[..n]` (folded code points; unused ones 0).
#[inline(always)]
fn slot(c: [u32; 3], n: usize) -> usize {
    let m = MUL[n - 1];
    let h = c[0].wrapping_mul(m[0]) ^ c[1].wrapping_mul(m[1]) ^ c[2].wrapping_mul(m[2]);
    (h >> (32 - BITS)) as usize
}

/// Table entry bits: the folded code point, then flags.
const CP_MASK: u32 = (1 << 21) - 1;
/// Folds to a separator or a transparent mark: dropped from the view, starts a new run.
const SEP: u32 = 1 << 21;
/// Folds to an ASCII letter or digit.
const ALNUM: u32 = 1 << 22;
/// Folds to nothing or to several characters, or joins its predecessor: handled out of line.
const SLOW: u32 = 1 << 23;
/// In a kept character's record: a separator was dropped right before it.
const AFTER_SEP: u32 = 1 << 31;

/// How each BMP character folds, as the gate needs it.
static TABLE: LazyLock<Vec<u32>> = LazyLock::new(|| {
    (0..0x10000u32)
        .map(|cp| match char::from_u32(cp).map(textfold::fold_char) {
            Some(CharFolding::One(f)) => classify(f),
            _ => SLOW,
        })
        .collect()
});

/// The entry of a folded character.
fn classify(f: char) -> u32 {
    if is_separator(f) || is_transparent(f) {
        SEP | f as u32
    } else if f.is_ascii_alphanumeric() {
        ALNUM | f as u32
    } else {
        f as u32
    }
}

/// What the gate says about a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No watch key occurs: the document raises no alert.
    Clear,
    /// Some watch key occurs (only some boundary checks applied).
    Candidate,
    /// The text has characters the gate does not fold on its own (combining marks): the
    /// caller must look at it the slow way.
    Unsure,
}

/// A key the gate looks for, with the right-boundary checks the matcher would apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GateKey {
    /// Folded, separator-free, non-empty.
    pub(crate) key: String,
    /// A match must not be followed directly by a letter or digit of a spaced script.
    pub(crate) right_word: bool,
    /// The key's last character when a following kana may continue the word.
    pub(crate) kana_tail: Option<char>,
}

#[derive(Debug)]
pub(crate) struct Gate {
    nfa: NFA,
    max_len: usize,
    keys: Vec<GateKey>,
    /// Bit `slot(prefix)` set for the first one, two or three characters of every key.
    bits: Vec<u32>,
    /// Whether some key has one / two / three or more characters.
    has_len: [bool; 3],
    /// Where the confirming walk starts: the NFA state after each key's first one, two or
    /// three characters, with the bytes they take.
    prefixes: PrefixTable,
}

/// An open-addressing hash table from a prefix of one to three folded characters (see
/// [`pack`]) to the NFA state after it and its length in bytes.
#[derive(Debug)]
struct PrefixTable {
    /// `(packed prefix, state, bytes)`; `EMPTY` marks a free slot. The length is a power of
    /// two, at least twice the number of prefixes.
    slots: Vec<(u64, StateID, u32)>,
}

const EMPTY: u64 = u64::MAX;

/// The characters `c` (1–3 folded code points) as one number; positions past them hold a
/// value no code point has, so prefixes of different lengths differ. Never `EMPTY`.
#[inline(always)]
fn pack(c: &[u32]) -> u64 {
    const NONE: u64 = 0x1F_FFFF;
    let at = |k: usize| c.get(k).map_or(NONE, |&c| u64::from(c & CP_MASK));
    at(0) | at(1) << 21 | at(2) << 42
}

impl PrefixTable {
    fn new(entries: Vec<(u64, StateID, u32)>) -> PrefixTable {
        let len = (2 * entries.len()).next_power_of_two().max(8);
        let mut slots = vec![(EMPTY, StateID::ZERO, 0); len];
        for entry in entries {
            let mut i = Self::home(entry.0, len);
            while slots[i].0 != EMPTY && slots[i].0 != entry.0 {
                i = (i + 1) & (len - 1);
            }
            slots[i] = entry;
        }
        PrefixTable { slots }
    }

    #[inline(always)]
    fn home(key: u64, len: usize) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (len - 1)
    }

    /// The state after `key` and the prefix's length in bytes, if some key starts with it.
    #[inline]
    fn get(&self, key: u64) -> Option<(StateID, usize)> {
        let mask = self.slots.len() - 1;
        let mut i = Self::home(key, self.slots.len());
        loop {
            let (k, sid, bytes) = self.slots[i];
            if k == key {
                return Some((sid, bytes as usize));
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

impl Gate {
    /// A gate for `keys`; `None` without keys.
    pub(crate) fn new(keys: Vec<GateKey>) -> Option<Gate> {
        let keys: Vec<GateKey> = keys.into_iter().filter(|k| !k.key.is_empty()).collect();
        if keys.is_empty() {
            return None;
        }
        LazyLock::force(&TABLE);
        let nfa = NFA::builder()
            .match_kind(MatchKind::Standard)
            .build(keys.iter().map(|k| &k.key))
            .expect("watch keys fit aho-corasick's limits (far below 2^31 states)");
        let start = nfa
            .start_state(Anchored::Yes)
            .expect("a contiguous NFA supports anchored starts");
        let mut bits = vec![0u32; (1 << BITS) / 32];
        let mut has_len = [false; 3];
        for k in &keys {
            let mut prefix = [0u32; 3];
            let mut n = 0;
            for c in k.key.chars().take(3) {
                prefix[n] = c as u32;
                n += 1;
            }
            let s = slot(prefix, n);
            bits[s / 32] |= 1 << (s % 32);
            has_len[n - 1] = true;
        }
        // The state after each key's first characters (one, two or three of them).
        let mut entries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for k in &keys {
            let prefix: Vec<char> = k.key.chars().take(3).collect();
            let cps: Vec<u32> = prefix.iter().map(|&c| c as u32).collect();
            let packed = pack(&cps);
            if !seen.insert(packed) {
                continue;
            }
            let text: String = prefix.iter().collect();
            let sid = text
                .bytes()
                .fold(start, |sid, b| nfa.next_state(Anchored::Yes, sid, b));
            entries.push((packed, sid, text.len() as u32));
        }
        Some(Gate {
            prefixes: PrefixTable::new(entries),
            nfa,
            max_len: keys.iter().map(|k| k.key.len()).max().unwrap_or(0),
            keys,
            bits,
            has_len,
        })
    }

    pub(crate) fn memory_usage(&self) -> usize {
        self.nfa.memory_usage()
            + 4 * self.bits.len()
            + self.keys.iter().map(|k| k.key.len() + 40).sum::<usize>()
    }

    /// Looks at `title + "\n" + body` (the text the matcher matches).
    pub(crate) fn check(&self, title: Option<&str>, body: Option<&str>) -> Verdict {
        let mut buffers = SPARE
            .try_with(|s| s.borrow_mut().take())
            .ok()
            .flatten()
            .unwrap_or_default();
        let verdict = self.check_with(title, body, &mut buffers);
        if buffers.view.capacity() <= 1 << 20 {
            let _ = SPARE.try_with(|s| *s.borrow_mut() = Some(buffers));
        }
        verdict
    }

    fn check_with(
        &self,
        title: Option<&str>,
        body: Option<&str>,
        Buffers { view, kept, cands }: &mut Buffers,
    ) -> Verdict {
        cands.clear();
        let mut k = 0;
        // The first kept character starts a run, as does the body's after the title.
        let mut need_run = true;
        let mut whole = true;
        if let Some(t) = title {
            whole &= fold_into_view(t.as_bytes(), view, &mut k, &mut need_run);
        }
        if let (true, Some(b)) = (whole, body) {
            need_run = true;
            whole &= fold_into_view(b.as_bytes(), view, &mut k, &mut need_run);
        }
        *kept = k;
        if !whole {
            return Verdict::Unsure;
        }
        if self.scan_view(&view[..k], cands) {
            Verdict::Candidate
        } else {
            Verdict::Clear
        }
    }

    /// Whether a key occurs in a folded view (see [`view_of`]): the probe, then an anchored
    /// walk at each candidate. `cands` is scratch space.
    pub(crate) fn scan_view(&self, view: &[u32], cands: &mut Vec<u32>) -> bool {
        cands.clear();
        self.probe(view, cands);
        cands.iter().any(|&at| self.confirmed(view, at as usize))
    }

    /// Pushes to `cands` every index of `view` where a key may start: its first one, two or
    /// three characters hash to a bit of `bits`, at a position the phrase scanner would try
    /// (see [`may_start`]).
    fn probe(&self, view: &[u32], cands: &mut Vec<u32>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            let done = unsafe { self.probe_avx2(view, cands) };
            if done > 0 {
                self.probe_scalar(view, 0..3, cands);
            }
            self.probe_scalar(view, done..view.len(), cands);
            return;
        }
        self.probe_scalar(view, 0..view.len(), cands);
    }

    /// [`probe`](Self::probe) for the prefixes ending at `view[ends]`.
    fn probe_scalar(&self, view: &[u32], ends: std::ops::Range<usize>, cands: &mut Vec<u32>) {
        let bits = &self.bits[..];
        let test = |s: usize| bits[s / 32] & (1 << (s % 32)) != 0;
        let [has1, has2, has3] = self.has_len;
        let cp = |i: usize| view[i] & CP_MASK;
        for e in ends {
            if has3
                && e >= 2
                && may_start(view, e - 2)
                && test(slot([cp(e - 2), cp(e - 1), cp(e)], 3))
            {
                cands.push(e as u32 - 2);
            }
            if has2 && e >= 1 && may_start(view, e - 1) && test(slot([cp(e - 1), cp(e), 0], 2)) {
                cands.push(e as u32 - 1);
            }
            if has1 && may_start(view, e) && test(slot([cp(e), 0, 0], 1)) {
                cands.push(e as u32);
            }
        }
    }

    /// [`probe`](Self::probe) eight prefix ends at a time, for the ends from 3 on in whole
    /// blocks of eight; returns where it stopped (0 when it did nothing). The ends below 3 and
    /// from the returned one on are for the scalar loop.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn probe_avx2(&self, view: &[u32], cands: &mut Vec<u32>) -> usize {
        use std::arch::x86_64::*;
        let [has1, has2, has3] = self.has_len;
        let n = view.len();
        if n < 3 + 8 {
            return 0;
        }
        let ptr = view.as_ptr();
        let bits = self.bits.as_ptr() as *const i32;
        let cp_mask = _mm256_set1_epi32(CP_MASK as i32);
        let one = _mm256_set1_epi32(1);
        // Lanes: 1 where a key may start at the record of `cur` (its predecessor `prev`).
        let may = |cur: __m256i, prev: __m256i| {
            let after_sep = _mm256_srli_epi32::<31>(cur);
            let both_alnum =
                _mm256_and_si256(_mm256_srli_epi32::<22>(_mm256_and_si256(cur, prev)), one);
            _mm256_or_si256(after_sep, _mm256_xor_si256(both_alnum, one))
        };
        // Lanes: 1 where the prefix of code points `c` (`n` of them) has its bit set.
        let test = |c: [__m256i; 3], n: usize| {
            let m = MUL[n - 1];
            let mut h = _mm256_mullo_epi32(c[0], _mm256_set1_epi32(m[0] as i32));
            for k in 1..n {
                h = _mm256_xor_si256(h, _mm256_mullo_epi32(c[k], _mm256_set1_epi32(m[k] as i32)));
            }
            let s = _mm256_srli_epi32::<{ 32 - BITS as i32 }>(h);
            // SAFETY: `s < 2^BITS`, so every word index `s / 32` is inside `bits`.
            let words = unsafe { _mm256_i32gather_epi32::<4>(bits, _mm256_srli_epi32::<5>(s)) };
            let bit = _mm256_and_si256(s, _mm256_set1_epi32(31));
            _mm256_and_si256(_mm256_srlv_epi32(words, bit), one)
        };
        let mut e = 3;
        while e + 8 <= n {
            // Room for this block's candidates: up to eight per prefix length, each store
            // writing eight lanes.
            cands.reserve(24);
            let out = cands.as_mut_ptr();
            let mut len = cands.len();
            // SAFETY: `3 <= e` and `e + 8 <= n`: every load reads view[e - 3 .. e + 8].
            let (r0, r1, r2, r3) = unsafe {
                (
                    _mm256_loadu_si256(ptr.add(e) as *const __m256i),
                    _mm256_loadu_si256(ptr.add(e - 1) as *const __m256i),
                    _mm256_loadu_si256(ptr.add(e - 2) as *const __m256i),
                    _mm256_loadu_si256(ptr.add(e - 3) as *const __m256i),
                )
            };
            let (c0, c1, c2) = (
                _mm256_and_si256(r0, cp_mask),
                _mm256_and_si256(r1, cp_mask),
                _mm256_and_si256(r2, cp_mask),
            );
            let zero = _mm256_setzero_si256();
            let h3 = if has3 {
                _mm256_and_si256(may(r2, r3), test([c2, c1, c0], 3))
            } else {
                zero
            };
            let h2 = if has2 {
                _mm256_and_si256(may(r1, r2), test([c1, c0, zero], 2))
            } else {
                zero
            };
            let h1 = if has1 {
                _mm256_and_si256(may(r0, r1), test([c0, zero, zero], 1))
            } else {
                zero
            };
            // Each lane's candidate starts, written without a branch on the gather's result
            // (an unpredictable branch would stall on it): the positions of the set lanes,
            // packed to the front by a permutation, are stored at the end of `cands`, which
            // then grows by their number.
            let base = _mm256_add_epi32(
                _mm256_set1_epi32(e as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            );
            let mut emit = |back: i32, h: __m256i| {
                let mask =
                    _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(h, one))) as u32;
                let at = _mm256_sub_epi32(base, _mm256_set1_epi32(back));
                // SAFETY: the CPU has AVX2; `cands` has room for eight more at `len`
                // (reserved for the block: the emits before wrote at most eight each).
                unsafe { store_packed(out.add(len), at, mask) };
                len += mask.count_ones() as usize;
            };
            if has3 {
                emit(2, h3);
            }
            if has2 {
                emit(1, h2);
            }
            if has1 {
                emit(0, h1);
            }
            // SAFETY: the first `len` are set (the ones before, and those just counted).
            unsafe { cands.set_len(len) };
            e += 8;
        }
        e
    }

    /// Whether some key starts at kept character `at` of `view` and passes the right-boundary
    /// checks: for each length of prefix some key has, the prefix table gives the NFA state
    /// after the view's characters from `at`, and an anchored walk over the rest of the view's
    /// UTF-8 goes on from there.
    fn confirmed(&self, view: &[u32], at: usize) -> bool {
        (1..=3).rev().any(|n| {
            self.has_len[n - 1]
                && at + n <= view.len()
                && self
                    .prefixes
                    .get(pack(&view[at..at + n]))
                    .is_some_and(|(sid, bytes)| self.walk(view, at, n, sid, bytes))
        })
    }

    /// The anchored walk from state `sid`, reached over the `n` characters (`walked` bytes)
    /// from `at`: whether a key ends at some character and passes the right-boundary checks.
    fn walk(&self, view: &[u32], at: usize, n: usize, mut sid: StateID, mut walked: usize) -> bool {
        let mut j = n - 1;
        loop {
            if self.nfa.is_match(sid) {
                for m in 0..self.nfa.match_len(sid) {
                    let pid = self.nfa.match_pattern(sid, m);
                    if self.nfa.pattern_len(pid) == walked
                        && self.passes_right(&self.keys[pid.as_usize()], view.get(at + j + 1))
                    {
                        return true;
                    }
                }
            }
            j += 1;
            if walked >= self.max_len || at + j >= view.len() {
                return false;
            }
            let c = char::from_u32(view[at + j] & CP_MASK).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut utf8 = [0u8; 4];
            for &b in c.encode_utf8(&mut utf8).as_bytes() {
                sid = self.nfa.next_state(Anchored::Yes, sid, b);
                walked += 1;
                if self.nfa.is_dead(sid) {
                    return false;
                }
            }
        }
    }

    /// The matcher's right-boundary checks, where the view can decide them: the character
    /// right after the match (when no separator came between) is not a word character
    /// continuing a key that ends in one, nor a kana continuing a kana word.
    fn passes_right(&self, key: &GateKey, next: Option<&u32>) -> bool {
        let Some(&rec) = next else {
            return true;
        };
        if rec & AFTER_SEP != 0 {
            return true;
        }
        let Some(next) = char::from_u32(rec & CP_MASK) else {
            return true;
        };
        if key.right_word && is_word_char(next) {
            return false;
        }
        !key.kana_tail
            .is_some_and(|last| crate::matcher::kana_continues(last, next))
    }
}

/// The folded, separator-free view of `title + "\n" + body` the gate scans; `None` when a
/// character joins its predecessor (the gate is unsure there). For benchmarks.
pub(crate) fn view_of(title: Option<&str>, body: Option<&str>) -> Option<Vec<u32>> {
    let mut view = Vec::new();
    let mut k = 0;
    for part in [title, body].into_iter().flatten() {
        let mut need_run = true;
        if !fold_into_view(part.as_bytes(), &mut view, &mut k, &mut need_run) {
            return None;
        }
    }
    view.truncate(k);
    Some(view)
}

/// For each eight-bit mask, the indexes of its set bits in order, then zeros: the
/// permutation that packs the set lanes of a vector to its front.
#[cfg(target_arch = "x86_64")]
static PACK: [[u8; 8]; 256] = {
    let mut table = [[0u8; 8]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut lane, mut n) = (0, 0);
        while lane < 8 {
            if mask & (1 << lane) != 0 {
                table[mask][n] = lane as u8;
                n += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    table
};

/// Stores the lanes of `v` whose bit is set in `mask`, packed to the front, at `dst`
/// (eight lanes are written; those past the packed ones are scratch).
///
/// # Safety
/// The CPU must support AVX2; `dst` is valid for writing eight `u32`s.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn store_packed(dst: *mut u32, v: std::arch::x86_64::__m256i, mask: u32) {
    use std::arch::x86_64::*;
    // SAFETY: `PACK[mask]` is eight bytes; the caller vouches for `dst`.
    unsafe {
        let order = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
            PACK[mask as usize & 0xFF].as_ptr() as *const __m128i
        ));
        _mm256_storeu_si256(dst as *mut __m256i, _mm256_permutevar8x32_epi32(v, order));
    }
}

/// `AFTER_SEP` in the lanes whose bit is set in `mask` (bit `j`: lane `j`), else 0.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn after_sep_lanes(mask: u32) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    let set = _mm256_cmpeq_epi32(
        _mm256_and_si256(_mm256_set1_epi32(mask as i32), lane_bits),
        lane_bits,
    );
    _mm256_and_si256(set, _mm256_set1_epi32(AFTER_SEP as i32))
}

/// What a vector fold ([`fold_run_avx2`], [`fold_ascii_avx2`]) did.
#[cfg(target_arch = "x86_64")]
struct Block {
    /// Characters read: three bytes each in a CJK block, one in an ASCII block.
    chars: usize,
    /// Records written (the characters read less the separators).
    kept: usize,
    /// `AFTER_SEP` when the last character read was a separator (else 0).
    after_sep: u32,
}

/// Folds up to eight three-byte characters from `text[i..]` into `view[out..]`: the run of
/// them, from the first, that the table folds on its own (the common case inside Chinese
/// and Japanese text). Separators among them (CJK punctuation) are dropped, the record after
/// one marked `AFTER_SEP` (as is the first when `after_sep` says so). Records past the kept
/// ones in `view[out..out + 8]` are scratch.
///
/// # Safety
/// The CPU must support AVX2; `i + 28 <= text.len()`; `out + 8 <= view.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn fold_block_avx2(
    text: &[u8],
    i: usize,
    table: &[u32],
    view: &mut [u32],
    out: usize,
    after_sep: u32,
) -> Block {
    use std::arch::x86_64::*;
    debug_assert!(i + 28 <= text.len() && out + 8 <= view.len() && table.len() == 0x10000);
    // SAFETY (loads): text[i..i + 16] and text[i + 12..i + 28] are in bounds.
    let (lo, hi) = unsafe {
        (
            _mm_loadu_si128(text.as_ptr().add(i) as *const __m128i),
            _mm_loadu_si128(text.as_ptr().add(i + 12) as *const __m128i),
        )
    };
    // Characters 0-3 start at lo[0, 3, 6, 9], characters 4-7 at hi[0, 3, 6, 9]: each
    // 32-bit lane gets its character's three bytes, the first lowest.
    let bytes = _mm256_shuffle_epi8(
        _mm256_set_m128i(hi, lo),
        _mm256_setr_epi8(
            0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7,
            8, -1, 9, 10, 11, -1,
        ),
    );
    // Which lanes start with a three-byte lead (their other bytes are then its continuations:
    // `text` is valid UTF-8); the block keeps the leading run of those.
    let lead = _mm256_and_si256(bytes, _mm256_set1_epi32(0xF0));
    let three = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(
        lead,
        _mm256_set1_epi32(0xE0),
    ))) as u32;
    let cp = _mm256_or_si256(
        _mm256_or_si256(
            _mm256_slli_epi32::<12>(_mm256_and_si256(bytes, _mm256_set1_epi32(0x0F))),
            _mm256_slli_epi32::<6>(_mm256_and_si256(
                _mm256_srli_epi32::<8>(bytes),
                _mm256_set1_epi32(0x3F),
            )),
        ),
        _mm256_and_si256(_mm256_srli_epi32::<16>(bytes), _mm256_set1_epi32(0x3F)),
    );
    // SAFETY: every code point is below 0x10000 = table.len().
    let e = unsafe { _mm256_i32gather_epi32::<4>(table.as_ptr() as *const i32, cp) };
    let movemask = |v: __m256i| _mm256_movemask_ps(_mm256_castsi256_ps(v)) as u32;
    let slow = movemask(_mm256_cmpeq_epi32(
        _mm256_and_si256(e, _mm256_set1_epi32(SLOW as i32)),
        _mm256_set1_epi32(SLOW as i32),
    ));
    let sep = movemask(_mm256_cmpeq_epi32(
        _mm256_and_si256(e, _mm256_set1_epi32(SEP as i32)),
        _mm256_set1_epi32(SEP as i32),
    ));
    // Lanes from the first that both start a three-byte character and fold on their own (a
    // lane after a character of another length is misaligned: it never counts).
    let chars = (!(three & !slow)).trailing_zeros().min(8) as usize;
    let read = (1u32 << chars) - 1;
    let keep = !sep & read;
    // A kept lane follows a separator when the lane before it is one (lane 0: `after_sep`).
    let after = ((sep << 1) | (after_sep >> 31)) & keep;
    let rec = _mm256_or_si256(e, after_sep_lanes(after));
    // SAFETY: the CPU has AVX2; out + 8 <= view.len().
    unsafe { store_packed(view.as_mut_ptr().add(out), rec, keep) };
    let last_sep = chars > 0 && sep >> (chars - 1) & 1 != 0;
    Block {
        chars,
        kept: keep.count_ones() as usize,
        // A block that read nothing leaves the state as it was.
        after_sep: if chars == 0 {
            after_sep
        } else {
            (last_sep as u32) << 31
        },
    }
}

/// Folds the run of three-byte characters at `text[i..]` into `view[out..]`, eight at a
/// time with [`fold_block_avx2`], until a block reads fewer than eight or fewer than 28
/// bytes are left; returns what it did as one [`Block`].
///
/// A block that reads all eight is the predicted case, so the next block's loads do not
/// wait for this one's table gather (a data dependency on the count read would).
///
/// # Safety
/// The CPU must support AVX2; `text` is valid UTF-8; `view` has room for a record per byte
/// of `text[i..]` from `out` on.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_run_avx2(
    text: &[u8],
    mut i: usize,
    table: &[u32],
    view: &mut [u32],
    mut out: usize,
    mut after_sep: u32,
) -> Block {
    let (start, first) = (out, i);
    while i + 28 <= text.len() {
        // SAFETY: the CPU has AVX2; `i + 28 <= text.len()`, and `view` has room for a record
        // per remaining byte (28 or more, and a block keeps no more records than it reads
        // bytes), so for eight records at `out`.
        let block = unsafe { fold_block_avx2(text, i, table, view, out, after_sep) };
        after_sep = block.after_sep;
        out += block.kept;
        if block.chars == 8 {
            // A constant step (not `3 * chars`): the next loads need not wait for the gather.
            i += 24;
            continue;
        }
        i += 3 * block.chars;
        break;
    }
    Block {
        chars: (i - first) / 3,
        kept: out - start,
        after_sep,
    }
}

/// The ASCII separators as a 128-bit set, when ASCII folds as `fold_ascii_avx2` computes
/// it: to its lower case, flagged `ALNUM` when a letter or digit, and never slowly. (It
/// does; a unit test holds the table to it. `None` would only turn the vector path off.)
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
static ASCII_SEPARATORS: LazyLock<Option<[u32; 4]>> = LazyLock::new(|| {
    let mut sep = [0u32; 4];
    for b in 0..0x80u8 {
        let e = TABLE[b as usize];
        let lower = b.to_ascii_lowercase();
        if e & SLOW != 0 {
            return None;
        }
        if e & SEP != 0 {
            sep[b as usize / 32] |= 1 << (b % 32);
        } else if e & CP_MASK != lower as u32 || (e & ALNUM != 0) != lower.is_ascii_alphanumeric() {
            return None;
        }
    }
    Some(sep)
});

/// Folds the ASCII at `text[i..]` into `view[out..]`, eight bytes at a time, while the next
/// eight are all ASCII; what it did, as a [`Block`] of one-byte characters.
///
/// # Safety
/// The CPU must support AVX2; `view` has room for a record per byte of `text[i..]` from
/// `out` on.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_ascii_avx2(
    text: &[u8],
    mut i: usize,
    separators: &[u32; 4],
    view: &mut [u32],
    mut out: usize,
    mut after_sep: u32,
) -> Block {
    use std::arch::x86_64::*;
    let (start, first) = (out, i);
    // SAFETY: `separators` is sixteen bytes.
    let sep_words =
        _mm256_castsi128_si256(unsafe { _mm_loadu_si128(separators.as_ptr() as *const __m128i) });
    let between = |v: __m256i, lo: u8, hi: u8| {
        _mm256_and_si256(
            _mm256_cmpgt_epi32(v, _mm256_set1_epi32(lo as i32 - 1)),
            _mm256_cmpgt_epi32(_mm256_set1_epi32(hi as i32 + 1), v),
        )
    };
    while i + 8 <= text.len() {
        let word = u64::from_le_bytes(text[i..i + 8].try_into().expect("eight bytes"));
        if word & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        let v = _mm256_cvtepu8_epi32(_mm_set_epi64x(0, word as i64));
        let folded = _mm256_or_si256(
            v,
            _mm256_and_si256(between(v, b'A', b'Z'), _mm256_set1_epi32(0x20)),
        );
        let alnum = _mm256_or_si256(between(folded, b'0', b'9'), between(folded, b'a', b'z'));
        // Each lane's bit in the separator set: word `b / 32`, bit `b % 32`.
        let in_set = _mm256_srlv_epi32(
            _mm256_permutevar8x32_epi32(sep_words, _mm256_srli_epi32::<5>(v)),
            _mm256_and_si256(v, _mm256_set1_epi32(31)),
        );
        let sep = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(in_set))) as u32;
        let keep = !sep & 0xFF;
        let after = ((sep << 1) | (after_sep >> 31)) & keep;
        let rec = _mm256_or_si256(
            _mm256_or_si256(
                folded,
                _mm256_and_si256(alnum, _mm256_set1_epi32(ALNUM as i32)),
            ),
            after_sep_lanes(after),
        );
        // SAFETY: the CPU has AVX2; eight more bytes of text, so `view` has room for eight
        // records at `out`.
        unsafe { store_packed(view.as_mut_ptr().add(out), rec, keep) };
        out += keep.count_ones() as usize;
        after_sep = (sep >> 7) << 31;
        i += 8;
    }
    Block {
        chars: i - first,
        kept: out - start,
        after_sep,
    }
}

/// Whether a key may start at `view[s]`: where the phrase scanner would try one, that is
/// not at an ASCII letter or digit right after another one with no separator between (a key
/// starting there fails its word-boundary check).
#[inline(always)]
fn may_start(view: &[u32], s: usize) -> bool {
    let r = view[s];
    let prev_alnum = s > 0 && view[s - 1] & ALNUM != 0;
    r & AFTER_SEP != 0 || !(r & ALNUM != 0 && prev_alnum)
}

/// Folds `text` (valid UTF-8) into `view[*k..]`, one record per kept character (folded code
/// point, `ALNUM`, `AFTER_SEP`); separators are dropped. `false` when a character joins its
/// predecessor (the view is then incomplete).
fn fold_into_view(text: &[u8], view: &mut Vec<u32>, k: &mut usize, need_run: &mut bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    let simd = std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    let simd = false;
    fold_into_view_with(text, view, k, need_run, simd)
}

/// [`fold_into_view`], with eight-character blocks folded by AVX2 when `simd` (which the
/// caller has checked the CPU supports).
fn fold_into_view_with(
    text: &[u8],
    view: &mut Vec<u32>,
    k: &mut usize,
    need_run: &mut bool,
    simd: bool,
) -> bool {
    let table = &TABLE[..];
    let n = text.len();
    // Room for a record per byte of the text: no character but an expansion (which makes
    // room for itself below) adds more records than it has bytes. The vector folds rely on it.
    if view.len() < *k + n {
        view.resize(*k + n, 0);
    }
    let mut out = *k;
    let mut after_sep = (*need_run as u32) << 31;
    let mut i = 0;
    while i < n {
        let b = text[i];
        #[cfg(target_arch = "x86_64")]
        if simd && (0xE0..0xF0).contains(&b) && i + 28 <= n {
            // SAFETY: the CPU has AVX2 (`simd`); `view` has room for a record per byte of
            // `text[i..]` from `out` on (see above), and `text` is valid UTF-8.
            let run = unsafe { fold_run_avx2(text, i, table, view, out, after_sep) };
            if run.chars > 0 {
                i += 3 * run.chars;
                out += run.kept;
                after_sep = run.after_sep;
                continue;
            }
        }
        if b < 0x80 {
            #[cfg(target_arch = "x86_64")]
            if let (true, Some(separators)) = (simd, ASCII_SEPARATORS.as_ref()) {
                // SAFETY: the CPU has AVX2 (`simd`); `view` has room for a record per byte
                // of `text[i..]` from `out` on (see above).
                let run = unsafe { fold_ascii_avx2(text, i, separators, view, out, after_sep) };
                i += run.chars;
                out += run.kept;
                after_sep = run.after_sep;
            }
            // The rest of the run of ASCII, without branching on separators: each byte's
            // record is written, and kept (the write position advances) unless a separator.
            let mut j = i;
            while j < n && text[j] < 0x80 {
                let e = table[text[j] as usize];
                let keep = e & SEP == 0;
                view[out] = e | after_sep;
                out += keep as usize;
                after_sep = (!keep as u32) << 31;
                j += 1;
            }
            i = j;
            continue;
        }
        let (cp, len) = if b < 0xE0 {
            (((b as u32 & 0x1F) << 6) | (text[i + 1] as u32 & 0x3F), 2)
        } else if b < 0xF0 {
            (
                ((b as u32 & 0x0F) << 12)
                    | ((text[i + 1] as u32 & 0x3F) << 6)
                    | (text[i + 2] as u32 & 0x3F),
                3,
            )
        } else {
            (
                ((b as u32 & 0x07) << 18)
                    | ((text[i + 1] as u32 & 0x3F) << 12)
                    | ((text[i + 2] as u32 & 0x3F) << 6)
                    | (text[i + 3] as u32 & 0x3F),
                4,
            )
        };
        i += len;
        let e = table.get(cp as usize).copied().unwrap_or(SLOW);
        if e & (SEP | SLOW) == 0 {
            view[out] = e | after_sep;
            out += 1;
            after_sep = 0;
            continue;
        }
        if e & SEP != 0 {
            after_sep = AFTER_SEP;
            continue;
        }
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        macro_rules! push {
            ($f:expr) => {{
                let e = classify($f);
                if e & SEP != 0 {
                    after_sep = AFTER_SEP;
                } else {
                    view[out] = e | after_sep;
                    out += 1;
                    after_sep = 0;
                }
            }};
        }
        match textfold::fold_char(c) {
            CharFolding::Joins => {
                *k = out;
                return false;
            }
            CharFolding::Removed => {}
            CharFolding::One(f) => push!(f),
            CharFolding::Many(s) => {
                // Room for the expansion and the rest of the text.
                let more = s.chars().count() + (n - i);
                if view.len() < out + more {
                    view.resize(out + more, 0);
                }
                for f in s.chars() {
                    push!(f);
                }
            }
        }
    }
    *k = out;
    *need_run = after_sep != 0;
    true
}

/// A gate pass's buffers, reused by the next document on the same thread.
#[derive(Default)]
struct Buffers {
    /// Records of kept characters: `view[..kept]` is the last document's view; the rest is
    /// room, not cleared between documents (it is written before it is read).
    view: Vec<u32>,
    kept: usize,
    /// Candidate starts (indexes in the view).
    cands: Vec<u32>,
}

thread_local! {
    static SPARE: RefCell<Option<Buffers>> = const { RefCell::new(None) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{MatchText, PhraseKey};

    /// A gate for written phrases (folded and stripped as the matcher does), with the
    /// matcher's boundary flags.
    fn gate(phrases: &[&str]) -> Gate {
        let keys: Vec<GateKey> = phrases
            .iter()
            .filter_map(|p| PhraseKey::new(p))
            .map(|k| {
                let last = k.key.chars().next_back();
                GateKey {
                    right_word: last.is_some_and(is_word_char),
                    kana_tail: last.filter(|&c| textfold::is_kana(c)),
                    key: k.key,
                }
            })
            .collect();
        Gate::new(keys).expect("keys")
    }

    /// ASCII folds as the vector fold computes it (and never slowly, as the plain loop
    /// assumes).
    #[test]
    fn ascii_folds_as_the_vector_fold_assumes() {
        assert!(ASCII_SEPARATORS.is_some());
    }

    #[test]
    fn verdicts() {
        let g = gate(&["三菱UFJ", "MUFG", "楽天", "省", "Yahoo Japan", "メルカリ"]);
        for (title, body, want) in [
            (
                Some("出售"),
                Some("三 菱 Ｕ Ｆ Ｊ 账号"),
                Verdict::Candidate,
            ),
            (None, Some("ＭＵＦＧ"), Verdict::Candidate),
            (Some("xmufg"), None, Verdict::Clear),
            (Some("mufgx"), None, Verdict::Clear),
            (Some("mufg.x"), None, Verdict::Candidate),
            (Some("x-mufg"), None, Verdict::Candidate),
            (None, Some("楽 天"), Verdict::Candidate),
            (None, Some("樂天"), Verdict::Candidate),
            (None, Some("天楽"), Verdict::Clear),
            (None, Some("总务省"), Verdict::Candidate),
            (Some("Yahoo!"), Some("JAPAN"), Verdict::Candidate),
            (Some("めるかりー"), None, Verdict::Clear),
            (Some("メルカリで"), None, Verdict::Candidate),
            (Some("今天的天气"), Some("hello world"), Verdict::Clear),
            (None, Some("ｽﾞ mufg"), Verdict::Unsure),
            (None, None, Verdict::Clear),
        ] {
            assert_eq!(g.check(title, body), want, "{title:?} {body:?}");
        }
    }

    /// The separator-free text the gate reads is the matcher's, character for character.
    #[test]
    fn reads_the_matchers_stripped_view() {
        let g = gate(&["xyz"]);
        for (title, body) in [
            (
                Some("出售 三 菱 U F J"),
                Some("M.U.F.G ①② ﬁ ⅷ Ⓜ 総務省 ﾐｽﾎ ㍿ ⑴"),
            ),
            (
                None,
                Some("Яндекс — ΑΒΓ ｱｲｳ  ・ 〜 x\u{200B}y \u{1F600} 𝐌𝐔 \u{2F800}"),
            ),
        ] {
            let mut buffers = Buffers::default();
            assert_ne!(g.check_with(title, body, &mut buffers), Verdict::Unsure);
            let read: String = buffers.view[..buffers.kept]
                .iter()
                .filter_map(|&r| char::from_u32(r & CP_MASK))
                .collect();
            assert_eq!(read, MatchText::new(title, body).stripped);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The vector probe finds exactly the candidates of the plain loop.
        #[test]
        fn vector_probe_is_the_plain_probe(text in "([a-c ]|[三菱日行]|[ゆうちょ]|[.、]){0,80}") {
            let g = gate(&["三菱", "ab", "c", "ゆうちょ", "日行三", "a b c"]);
            let mut view = Vec::new();
            let (mut k, mut need_run) = (0, true);
            proptest::prop_assert!(fold_into_view(text.as_bytes(), &mut view, &mut k, &mut need_run));
            let view = &view[..k];
            let mut fast = Vec::new();
            g.probe(view, &mut fast);
            let mut plain = Vec::new();
            g.probe_scalar(view, 0..view.len(), &mut plain);
            fast.sort_unstable();
            plain.sort_unstable();
            proptest::prop_assert_eq!(fast, plain);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Folding eight characters at a time gives the view of the plain loop.
        #[test]
        fn vector_fold_is_the_plain_fold(text in "([三菱日行銀總ゆうちょミズホ]{1,12}|[，。・　]|[a-c ]|[A-Za-z0-9 .,@_!~-]{1,20}|[①ﬁ\u{200B}𠀋]){0,30}") {
            let fold = |simd: bool| {
                let mut view = vec![7; 3];
                let (mut k, mut need_run) = (1, true);
                let whole = fold_into_view_with(text.as_bytes(), &mut view, &mut k, &mut need_run, simd);
                view.truncate(k);
                (whole, view, need_run)
            };
            #[cfg(target_arch = "x86_64")]
            let simd = std::arch::is_x86_feature_detected!("avx2");
            #[cfg(not(target_arch = "x86_64"))]
            let simd = false;
            proptest::prop_assert_eq!(fold(simd), fold(false));
        }
    }
}
