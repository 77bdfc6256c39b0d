//! The gate's AVX2 kernels: the fold (`view.rs`) and the probe (`probe.rs`) eight characters
//! at a time. Each must give exactly what its plain loop gives (property tests there hold it
//! to that) and touch no memory beyond what its `# Safety` contract names.

use std::arch::x86_64::*;
use std::sync::LazyLock;

use crate::gate::probe::{Bitset, BITS, MUL};
use crate::gate::view::{FoldTable, AFTER_SEP, ALNUM, CP_MASK, SEP, SLOW, TABLE};

/// What a vector fold ([`fold_run`], [`fold_ascii`]) did.
pub(in crate::gate) struct Block {
    /// Characters read: three bytes each in a CJK block, one in an ASCII block.
    pub(in crate::gate) chars: usize,
    /// Records written (the characters read less the separators).
    pub(in crate::gate) kept: usize,
    /// `AFTER_SEP` when the last character read was a separator (else 0).
    pub(in crate::gate) after_sep: u32,
}

/// Folds the run of three-byte characters at `text[i..]` into `view[out..]`, eight at a
/// time with [`fold_block`], until a block reads fewer than eight or fewer than 28
/// bytes are left; returns what it did as one [`Block`].
///
/// A block that reads all eight is the predicted case, so the next block's loads do not
/// wait for this one's table gather (a data dependency on the count read would).
///
/// # Safety
/// The CPU must support AVX2 (the function is compiled for it); `view` has room for a
/// record per byte of `text[i..]` from `out` on.
#[target_feature(enable = "avx2")]
pub(in crate::gate) unsafe fn fold_run(
    text: &str,
    mut i: usize,
    table: &FoldTable,
    view: &mut [u32],
    mut out: usize,
    mut after_sep: u32,
) -> Block {
    let (start, first) = (out, i);
    while i + 28 <= text.len() {
        // SAFETY: the CPU has AVX2; `i + 28 <= text.len()`, and `view` has room for a record
        // per remaining byte (28 or more, and a block keeps no more records than it reads
        // bytes), so for eight records at `out`.
        let block = unsafe { fold_block(text, i, table, view, out, after_sep) };
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

/// Folds up to eight three-byte characters from `text[i..]` into `view[out..]`: the run of
/// them, from the first, that the table folds on its own (the common case inside Chinese
/// and Japanese text). Separators among them (CJK punctuation) are dropped, the record after
/// one marked `AFTER_SEP` (as is the first when `after_sep` says so). Records past the kept
/// ones in `view[out..out + 8]` are scratch.
///
/// # Safety
/// The CPU must support AVX2 (the function is compiled for it); `i + 28 <= text.len()`;
/// `out + 8 <= view.len()`.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn fold_block(
    text: &str,
    i: usize,
    table: &FoldTable,
    view: &mut [u32],
    out: usize,
    after_sep: u32,
) -> Block {
    debug_assert!(i + 28 <= text.len() && out + 8 <= view.len());
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
    // `text` is a `str`); the block keeps the leading run of those.
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
    // SAFETY: every code point is below 0x10000, the length of a `FoldTable`.
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

/// The ASCII separators as a 128-bit set, when ASCII folds as [`fold_ascii`] computes it:
/// to its lower case, flagged `ALNUM` when a letter or digit, and never slowly. (It does; a
/// unit test holds the table to it. `None` would only turn the vector path off.)
pub(in crate::gate) static ASCII_SEPARATORS: LazyLock<Option<[u32; 4]>> = LazyLock::new(|| {
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
/// The CPU must support AVX2 (the function is compiled for it); `view` has room for a
/// record per byte of `text[i..]` from `out` on.
#[target_feature(enable = "avx2")]
pub(in crate::gate) unsafe fn fold_ascii(
    text: &[u8],
    mut i: usize,
    separators: &[u32; 4],
    view: &mut [u32],
    mut out: usize,
    mut after_sep: u32,
) -> Block {
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

/// The probe ([`Probe::candidates`](crate::gate::probe::Probe::candidates)) eight prefix
/// ends at a time, for the ends from 3 on in whole blocks of eight; returns where it stopped
/// (0 when it did nothing). The ends below 3 and from the returned one on are for the
/// scalar loop. `bits` and `has_len` are the probe's.
///
/// # Safety
/// The CPU must support AVX2 (the function is compiled for it).
#[target_feature(enable = "avx2")]
pub(in crate::gate) unsafe fn probe(
    bits: &Bitset,
    has_len: [bool; 3],
    view: &[u32],
    cands: &mut Vec<u32>,
) -> usize {
    let [has1, has2, has3] = has_len;
    let n = view.len();
    if n < 3 + 8 {
        return 0;
    }
    let ptr = view.as_ptr();
    let bits = bits.as_ptr() as *const i32;
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
        // SAFETY: `s < 2^BITS`, so every word index `s / 32` is inside `bits` (a `Bitset`
        // of 2^(BITS - 5) words).
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
            let mask = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(h, one))) as u32;
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
        // SAFETY: `len` is within the capacity reserved for the block, and the first `len`
        // are set (the ones before, and those just counted).
        unsafe { cands.set_len(len) };
        e += 8;
    }
    e
}

/// For each eight-bit mask, the indexes of its set bits in order, then zeros: the
/// permutation that packs the set lanes of a vector to its front.
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
/// The CPU must support AVX2 (the function is compiled for it); `dst` is valid for writing
/// eight `u32`s.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn store_packed(dst: *mut u32, v: __m256i, mask: u32) {
    // SAFETY: `PACK[mask & 0xFF]` is eight bytes, the eight this load reads.
    let order = unsafe { _mm_loadl_epi64(PACK[mask as usize & 0xFF].as_ptr() as *const __m128i) };
    let packed = _mm256_permutevar8x32_epi32(v, _mm256_cvtepu8_epi32(order));
    // SAFETY: the caller vouches that `dst` is valid for writing eight `u32`s.
    unsafe { _mm256_storeu_si256(dst as *mut __m256i, packed) };
}

/// `AFTER_SEP` in the lanes whose bit is set in `mask` (bit `j`: lane `j`), else 0. Safe,
/// but compiled for AVX2: only AVX2 code calls it without `unsafe`.
#[target_feature(enable = "avx2")]
#[inline]
fn after_sep_lanes(mask: u32) -> __m256i {
    let lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    let set = _mm256_cmpeq_epi32(
        _mm256_and_si256(_mm256_set1_epi32(mask as i32), lane_bits),
        lane_bits,
    );
    _mm256_and_si256(set, _mm256_set1_epi32(AFTER_SEP as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ASCII folds as the vector fold computes it (and never slowly, as the plain loop
    /// assumes).
    #[test]
    fn ascii_folds_as_the_vector_fold_assumes() {
        assert!(ASCII_SEPARATORS.is_some());
    }
}
