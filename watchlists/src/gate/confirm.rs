//! Confirmation: whether a watch key does start at a place the probe named, by an anchored
//! walk of an Aho-Corasick NFA over the keys, with the right-boundary checks the matcher
//! applies. It may pass what the matcher later rejects, never reject what it would report.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use super::view::{AFTER_SEP, CP_MASK};
use super::GateKey;
use crate::text::is_word_char;

/// The gate's keys as an automaton walked anchored at a kept character of a view.
#[derive(Debug)]
pub(super) struct AnchoredKeys {
    nfa: NFA,
    max_len: usize,
    keys: Vec<GateKey>,
    /// Whether some key has one / two / three or more characters (which prefixes to look up).
    has_len: [bool; 3],
    /// Where the confirming walk starts: the NFA state after each key's first one, two or
    /// three characters, with the bytes they take.
    prefixes: PrefixTable,
}

impl AnchoredKeys {
    /// The automaton of `keys` (non-empty, none of them empty).
    pub(super) fn new(keys: Vec<GateKey>) -> AnchoredKeys {
        let nfa = NFA::builder()
            .match_kind(MatchKind::Standard)
            .build(keys.iter().map(|k| &k.key))
            .expect("watch keys fit aho-corasick's limits (far below 2^31 states)");
        let start = nfa
            .start_state(Anchored::Yes)
            .expect("a contiguous NFA supports anchored starts");
        // The state after each key's first characters (one, two or three of them).
        let mut entries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut has_len = [false; 3];
        for k in &keys {
            let prefix: Vec<char> = k.key.chars().take(3).collect();
            has_len[prefix.len() - 1] = true;
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
        AnchoredKeys {
            prefixes: PrefixTable::new(entries),
            nfa,
            max_len: keys.iter().map(|k| k.key.len()).max().unwrap_or(0),
            keys,
            has_len,
        }
    }

    pub(super) fn memory_usage(&self) -> usize {
        self.nfa.memory_usage() + self.keys.iter().map(|k| k.key.len() + 40).sum::<usize>()
    }

    /// Whether some key starts at kept character `at` of `view` and passes the right-boundary
    /// checks: for each length of prefix some key has, the prefix table gives the NFA state
    /// after the view's characters from `at`, and an anchored walk over the rest of the view's
    /// UTF-8 goes on from there.
    pub(super) fn occur_at(&self, view: &[u32], at: usize) -> bool {
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
