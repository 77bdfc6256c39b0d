//! Text folding shared by the watchlist matcher and the search analyzer, so that a watch
//! term, a query and a document compare equal however they are written. Folding never
//! strips separators or punctuation: that is the caller's choice.
//!
//! [`fold`] applies, in order, to each normalisation segment (a starter and the characters
//! that combine with it, so half-width `ｽﾞ` becomes `ず`):
//! 1. Unicode NFKC (full-width → ASCII, half-width kana → full, circled and mathematical letters);
//! 2. zero-width characters, soft hyphens and other default-ignorable code points removed;
//! 3. look-alike letters from other scripts → Latin, per Unicode confusables, *before* case
//!    folding (the tables are case-sensitive: Greek `Ν` → `N`, but `ν` → `v`);
//! 4. case folding (lower case, `ß` → `ss`, final sigma → `σ`);
//! 5. katakana → hiragana (`ミズホ` ≡ `みずほ`);
//! 6. kanji variants → one canonical form, derived from OpenCC's Jp2t and T2s dictionaries
//!    (`総務省` ≡ `總務省` ≡ `总务省`).
//!
//! The per-character table behind this is built once, on first use (see [`warm_up`]).
//!
//! ```
//! let f = textfold::fold("ＭＵＦＧ 總務省");
//! assert_eq!(f.as_str(), "mufg 总务省");
//! assert_eq!(f.original_range(0..4), 0..12); // "ＭＵＦＧ" in the original
//! ```

mod confusables;
mod folded;
mod kanji;
mod script;
mod table;

pub use folded::{fold, fold_str, FoldedText};
pub use folded::{fold_char, CharFolding};
pub use script::{is_cjk, is_han, is_kana};

/// Builds the fold tables now rather than on the first call to [`fold`] (they take some tens
/// of milliseconds); returns how long that took. Call it at start-up to keep latency flat.
pub fn warm_up() -> std::time::Duration {
    let t = std::time::Instant::now();
    std::sync::LazyLock::force(&table::TABLE);
    t.elapsed()
}

#[cfg(test)]
mod tests;
