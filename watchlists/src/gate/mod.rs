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
//! kept character ([`view`]), then a probe of a hashed bitset over the first one, two and
//! three folded characters of every key at each record ([`probe`]); an anchored walk of an
//! Aho-Corasick NFA over the keys confirms the candidates ([`confirm`]). Both loops take
//! eight characters at a time with AVX2 where the CPU has it: those kernels, the gate's only
//! `unsafe` functions, live apart in `x86_64/` and are tested against the plain loops.
//!
//! This module is the gate's safe surface: [`Gate`], [`GateKey`], [`Verdict`], and the
//! buffers a thread reuses from one document to the next.

mod confirm;
// The vector kernels and the safe entries that call them.
#[allow(unsafe_code)]
mod probe;
#[allow(unsafe_code)]
mod view;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86_64;

use std::cell::RefCell;
use std::sync::LazyLock;

use confirm::AnchoredKeys;
use probe::Probe;
use view::{fold_into_view, TABLE};
#[cfg(target_arch = "x86_64")]
use x86_64::Avx2;

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
    /// Where a key may start: a hashed bitset over every key's first characters.
    probe: Probe,
    /// Whether a key does start there: the keys' automaton, walked from the candidate.
    keys: AnchoredKeys,
}

impl Gate {
    /// A gate for `keys`; `None` without keys.
    pub(crate) fn new(keys: Vec<GateKey>) -> Option<Gate> {
        let keys: Vec<GateKey> = keys.into_iter().filter(|k| !k.key.is_empty()).collect();
        if keys.is_empty() {
            return None;
        }
        LazyLock::force(&TABLE);
        Some(Gate {
            probe: Probe::new(&keys),
            keys: AnchoredKeys::new(keys),
        })
    }

    pub(crate) fn memory_usage(&self) -> usize {
        self.keys.memory_usage() + self.probe.memory_usage()
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
            whole &= fold_into_view(t, view, &mut k, &mut need_run);
        }
        if let (true, Some(b)) = (whole, body) {
            need_run = true;
            whole &= fold_into_view(b, view, &mut k, &mut need_run);
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

    /// Whether a key occurs in a folded view (see [`fold_into_view`]): the probe, then an
    /// anchored walk at each candidate. `cands` is scratch space.
    pub(crate) fn scan_view(&self, view: &[u32], cands: &mut Vec<u32>) -> bool {
        cands.clear();
        self.probe.candidates(view, cands);
        cands
            .iter()
            .any(|&at| self.keys.occur_at(view, at as usize))
    }
}

/// The folded, separator-free view of `title + "\n" + body` the gate scans; `None` when a
/// character joins its predecessor (the gate is unsure there). For benchmarks.
#[cfg(feature = "bench")]
pub(crate) fn view_of(title: Option<&str>, body: Option<&str>) -> Option<Vec<u32>> {
    let mut view = Vec::new();
    let mut k = 0;
    for part in [title, body].into_iter().flatten() {
        let mut need_run = true;
        if !fold_into_view(part, &mut view, &mut k, &mut need_run) {
            return None;
        }
    }
    view.truncate(k);
    Some(view)
}

/// The AVX2 kernels' proof that the CPU runs them, when it does: made only by detection
/// (see `x86_64::Avx2`), so a safe function handed one may call them.
#[cfg(target_arch = "x86_64")]
fn avx2() -> Option<Avx2> {
    Avx2::detect()
}

/// Where no CPU has AVX2, the proof can never be made.
#[cfg(not(target_arch = "x86_64"))]
#[derive(Debug, Clone, Copy)]
enum Avx2 {}

#[cfg(not(target_arch = "x86_64"))]
fn avx2() -> Option<Avx2> {
    None
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
    use crate::text::{is_word_char, MatchText, PhraseKey};

    /// Gate keys for written phrases (folded and stripped as the matcher does), with the
    /// matcher's boundary flags.
    pub(super) fn keys(phrases: &[&str]) -> Vec<GateKey> {
        phrases
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
            .collect()
    }

    /// A gate for written phrases (see [`keys`]).
    fn gate(phrases: &[&str]) -> Gate {
        Gate::new(keys(phrases)).expect("keys")
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
                .filter_map(|&r| char::from_u32(r & view::CP_MASK))
                .collect();
            assert_eq!(read, MatchText::new(title, body).stripped);
        }
    }
}
