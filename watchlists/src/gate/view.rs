//! The folded view: a document's text as one `u32` record per kept character (its folded
//! code point and flags), separators dropped, as the gate's probe reads it. The AVX2 folds
//! (`x86_64/avx2.rs`) must write exactly the records of the plain loop here.

use std::sync::LazyLock;

use textfold::CharFolding;

use super::Avx2;
use crate::text::{is_separator, is_transparent};

/// Table entry bits: the folded code point, then flags.
pub(super) const CP_MASK: u32 = (1 << 21) - 1;
/// Folds to a separator or a transparent mark: dropped from the view, starts a new run.
pub(super) const SEP: u32 = 1 << 21;
/// Folds to an ASCII letter or digit.
pub(super) const ALNUM: u32 = 1 << 22;
/// Folds to nothing or to several characters, or joins its predecessor: handled out of line.
pub(super) const SLOW: u32 = 1 << 23;
/// In a kept character's record: a separator was dropped right before it.
pub(super) const AFTER_SEP: u32 = 1 << 31;

/// An entry per BMP character: every code point below 0x10000 is inside, by type.
pub(super) type FoldTable = [u32; 0x10000];

/// How each BMP character folds, as the gate needs it.
pub(super) static TABLE: LazyLock<Box<FoldTable>> = LazyLock::new(|| {
    (0..0x10000u32)
        .map(|cp| match char::from_u32(cp).map(textfold::fold_char) {
            Some(CharFolding::One(f)) => classify(f),
            _ => SLOW,
        })
        .collect::<Box<[u32]>>()
        .try_into()
        .expect("one entry per BMP code point")
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

/// Folds `text` into `view[*k..]`, one record per kept character (folded code point,
/// `ALNUM`, `AFTER_SEP`); separators are dropped. `false` when a character joins its
/// predecessor (the view is then incomplete).
pub(super) fn fold_into_view(
    text: &str,
    view: &mut Vec<u32>,
    k: &mut usize,
    need_run: &mut bool,
) -> bool {
    fold_into_view_with(text, view, k, need_run, super::avx2())
}

/// [`fold_into_view`], with blocks of eight characters folded by the AVX2 kernels when
/// given the proof that the CPU runs them.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn fold_into_view_with(
    text: &str,
    view: &mut Vec<u32>,
    k: &mut usize,
    need_run: &mut bool,
    avx2: Option<Avx2>,
) -> bool {
    let table: &FoldTable = &TABLE;
    let n = text.len();
    // Room for a record per byte of the text: no character but an expansion (which makes
    // room for itself below) adds more records than it has bytes. The vector folds rely on it.
    if view.len() < *k + n {
        view.resize(*k + n, 0);
    }
    let mut out = *k;
    let mut after_sep = (*need_run as u32) << 31;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        #[cfg(target_arch = "x86_64")]
        if avx2.is_some() && (0xE0..0xF0).contains(&b) && i + 28 <= n {
            use super::x86_64::avx2::fold_run;
            // SAFETY: `avx2` proves the CPU has AVX2; `view` has room for a record per byte
            // of `text[i..]` from `out` on (see above).
            let run = unsafe { fold_run(text, i, table, view, out, after_sep) };
            if run.chars > 0 {
                i += 3 * run.chars;
                out += run.kept;
                after_sep = run.after_sep;
                continue;
            }
        }
        if b < 0x80 {
            #[cfg(target_arch = "x86_64")]
            if let (Some(_), Some(separators)) =
                (avx2, super::x86_64::avx2::ASCII_SEPARATORS.as_ref())
            {
                use super::x86_64::avx2::fold_ascii;
                // SAFETY: `avx2` proves the CPU has AVX2; `view` has room for a record per
                // byte of `text[i..]` from `out` on (see above).
                let run = unsafe { fold_ascii(bytes, i, separators, view, out, after_sep) };
                i += run.chars;
                out += run.kept;
                after_sep = run.after_sep;
            }
            // The rest of the run of ASCII, without branching on separators: each byte's
            // record is written, and kept (the write position advances) unless a separator.
            let mut j = i;
            while j < n && bytes[j] < 0x80 {
                let e = table[bytes[j] as usize];
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
            (((b as u32 & 0x1F) << 6) | (bytes[i + 1] as u32 & 0x3F), 2)
        } else if b < 0xF0 {
            (
                ((b as u32 & 0x0F) << 12)
                    | ((bytes[i + 1] as u32 & 0x3F) << 6)
                    | (bytes[i + 2] as u32 & 0x3F),
                3,
            )
        } else {
            (
                ((b as u32 & 0x07) << 18)
                    | ((bytes[i + 1] as u32 & 0x3F) << 12)
                    | ((bytes[i + 2] as u32 & 0x3F) << 6)
                    | (bytes[i + 3] as u32 & 0x3F),
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Folding eight characters at a time gives the view of the plain loop.
        #[test]
        fn vector_fold_is_the_plain_fold(text in "([三菱日行銀總ゆうちょミズホ]{1,12}|[，。・　]|[a-c ]|[A-Za-z0-9 .,@_!~-]{1,20}|[①ﬁ\u{200B}𠀋]){0,30}") {
            let fold = |avx2: Option<Avx2>| {
                let mut view = vec![7; 3];
                let (mut k, mut need_run) = (1, true);
                let whole = fold_into_view_with(&text, &mut view, &mut k, &mut need_run, avx2);
                view.truncate(k);
                (whole, view, need_run)
            };
            proptest::prop_assert_eq!(fold(crate::gate::avx2()), fold(None));
        }
    }
}
