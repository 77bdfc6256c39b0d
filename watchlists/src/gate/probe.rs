//! The probe: where in a folded view a watch key may start, from a hashed bitset over the
//! first one, two and three folded characters of every key. It may name too many places
//! (confirmation sorts them out), never too few; the AVX2 probe must name the plain loop's.

use super::view::{AFTER_SEP, ALNUM, CP_MASK};
use super::GateKey;

/// The prefix bitset has 2^BITS bits (256 KiB: stays in L2).
pub(super) const BITS: u32 = 21;
/// Odd multipliers of the prefix hash: row `n - 1` for prefixes of `n` characters (so that
/// prefixes of different lengths hash apart), one column per character.
pub(super) const MUL: [[u32; 3]; 3] = [
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

/// The prefix bitset's words: every index a [`slot`] can give is inside, by type.
pub(super) type Bitset = [u32; 1 << (BITS - 5)];

/// The keys' first one, two or three characters, as bits of a hashed set.
#[derive(Debug)]
pub(super) struct Probe {
    /// Bit `slot(prefix)` set for the first one, two or three characters of every key.
    bits: Box<Bitset>,
    /// Whether some key has one / two / three or more characters.
    has_len: [bool; 3],
}

impl Probe {
    pub(super) fn new(keys: &[GateKey]) -> Probe {
        let mut bits: Box<Bitset> = vec![0u32; (1 << BITS) / 32]
            .into_boxed_slice()
            .try_into()
            .expect("2^BITS bits are 2^(BITS - 5) words");
        let mut has_len = [false; 3];
        for k in keys {
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
        Probe { bits, has_len }
    }

    pub(super) fn memory_usage(&self) -> usize {
        4 * self.bits.len()
    }

    /// Pushes to `cands` every index of `view` where a key may start: its first one, two or
    /// three characters hash to a bit of `bits`, at a position the phrase scanner would try
    /// (see [`may_start`]).
    pub(super) fn candidates(&self, view: &[u32], cands: &mut Vec<u32>) {
        #[cfg(target_arch = "x86_64")]
        if let Some(_avx2) = super::avx2() {
            use super::x86_64::avx2::probe;
            // SAFETY: `_avx2` proves the CPU has AVX2, the kernel's one requirement.
            let done = unsafe { probe(&self.bits, self.has_len, view, cands) };
            if done > 0 {
                self.candidates_scalar(view, 0..3, cands);
            }
            self.candidates_scalar(view, done..view.len(), cands);
            return;
        }
        self.candidates_scalar(view, 0..view.len(), cands);
    }

    /// [`candidates`](Self::candidates) for the prefixes ending at `view[ends]`.
    fn candidates_scalar(&self, view: &[u32], ends: std::ops::Range<usize>, cands: &mut Vec<u32>) {
        let bits = &*self.bits;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::view::fold_into_view;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The vector probe finds exactly the candidates of the plain loop.
        #[test]
        fn vector_probe_is_the_plain_probe(text in "([a-c ]|[三菱日行]|[ゆうちょ]|[.、]){0,80}") {
            let keys = crate::gate::tests::keys(&["三菱", "ab", "c", "ゆうちょ", "日行三", "a b c"]);
            let probe = Probe::new(&keys);
            let mut view = Vec::new();
            let (mut k, mut need_run) = (0, true);
            proptest::prop_assert!(fold_into_view(&text, &mut view, &mut k, &mut need_run));
            let view = &view[..k];
            let mut fast = Vec::new();
            probe.candidates(view, &mut fast);
            let mut plain = Vec::new();
            probe.candidates_scalar(view, 0..view.len(), &mut plain);
            fast.sort_unstable();
            plain.sort_unstable();
            proptest::prop_assert_eq!(fast, plain);
        }
    }
}
