//! The analyzer shared by indexing and querying: text is folded by
//! `textfold` (NFKC, case, kana, kanji variants, confusables — the matcher's
//! folding, never a copy), then CJK runs become character bigrams and other
//! scripts become word tokens.
//!
//! Positions are laid out so that a query's bigram sequence is a phrase of
//! the indexed one: a run of n ≥ 2 CJK characters takes n − 1 positions (one
//! per bigram) in every mode, and [`RUN_GAP`] empty positions follow a run. Single characters are indexed sparingly: a
//! run's last character as a unigram at its last bigram's position, a lone
//! character as a unigram. A one-character query is then a prefix query
//! (the unigram, or any bigram starting with it; see `query`), which finds
//! the character anywhere at about half the postings of indexing every
//! character twice. Token offsets point into the original (unfolded) text.
//! Tokens are produced lazily into one reused buffer: no allocation per token.

use std::ops::Range;

use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer};

/// The name under which the folding analyzer is registered (the index gets
/// the index mode, the query parser the query mode).
pub const ANALYZER_NAME: &str = "leakwatch";

/// The analyzer of keyword fields (site, kind, lang, currency, customer):
/// the whole value as one token, lower-cased.
pub const KEYWORD_ANALYZER_NAME: &str = "leakwatch_keyword";

/// Positions left empty after each CJK run. With them, two bigrams two
/// positions apart are always of the same run, so a query may skip every
/// other bigram of a word (`query`) and still match only the exact word.
const RUN_GAP: usize = 2;

/// Longest word token kept, in bytes; longer runs are noise (hashes, base64).
const MAX_WORD_BYTES: usize = 80;

/// What the tokens are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerMode {
    /// Bigrams of CJK runs, plus a unigram of each run's last character.
    Index,
    /// Bigrams only (a lone CJK character is a unigram).
    Query,
    /// Bigrams plus a unigram of every CJK character: for marking hits in a
    /// snippet, where a one-character query must light up everywhere.
    Highlight,
}

/// Folding + CJK bigram tokenizer.
#[derive(Debug, Clone)]
pub struct FoldingTokenizer {
    mode: TokenizerMode,
    /// Whether tokens carry offsets into the original text. Indexing never
    /// reads them (positions are what the postings keep), so the writer's
    /// analyzer skips the offset map; highlighting needs it.
    offsets: bool,
    token: Token,
}

impl FoldingTokenizer {
    /// A tokenizer whose tokens carry offsets into the original text.
    pub fn new(mode: TokenizerMode) -> FoldingTokenizer {
        FoldingTokenizer {
            mode,
            offsets: true,
            token: Token::default(),
        }
    }

    /// The index-mode tokenizer for the writer: same tokens and positions,
    /// offsets left at zero (faster; the postings do not store offsets).
    pub(crate) fn for_writing() -> FoldingTokenizer {
        FoldingTokenizer {
            offsets: false,
            ..FoldingTokenizer::new(TokenizerMode::Index)
        }
    }
}

/// The keyword analyzer: raw value, lower-cased.
pub(crate) fn keyword_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build()
}

/// Folded text, with or without the map back to the original.
enum Folded {
    Mapped(textfold::FoldedText),
    Plain(String),
}

impl Folded {
    fn as_str(&self) -> &str {
        match self {
            Folded::Mapped(f) => f.as_str(),
            Folded::Plain(s) => s,
        }
    }

    fn original_range(&self, range: Range<usize>) -> Range<usize> {
        match self {
            Folded::Mapped(f) => f.original_range(range),
            Folded::Plain(_) => 0..0,
        }
    }
}

/// Iterates over the tokens made by [`FoldingTokenizer`].
pub struct FoldingTokenStream<'a> {
    folded: Folded,
    mode: TokenizerMode,
    /// Byte offset in the folded text where scanning resumes.
    cursor: usize,
    /// Whether the character at `cursor` continues a CJK run (its bigram
    /// with the previous character was already emitted).
    in_run: bool,
    position: usize,
    /// Tokens decided but not yet handed out: (folded range, position).
    pending: [(Range<usize>, usize); 3],
    pending_len: usize,
    pending_next: usize,
    token: &'a mut Token,
}

impl Tokenizer for FoldingTokenizer {
    type TokenStream<'a> = FoldingTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FoldingTokenStream<'a> {
        let folded = if self.offsets {
            Folded::Mapped(textfold::fold(text))
        } else {
            Folded::Plain(textfold::fold_str(text))
        };
        self.token.reset();
        FoldingTokenStream {
            folded,
            mode: self.mode,
            cursor: 0,
            in_run: false,
            position: 0,
            pending: [(0..0, 0), (0..0, 0), (0..0, 0)],
            pending_len: 0,
            pending_next: 0,
            token: &mut self.token,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Cjk,
    Word,
    Other,
}

#[inline]
fn class(c: char) -> Class {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            Class::Word
        } else {
            Class::Other
        }
    } else if textfold::is_cjk(c) {
        Class::Cjk
    } else if matches!(c as u32, 0x2000..=0x206F | 0x3000..=0x303F | 0xFF00..=0xFFEF) {
        // General and CJK punctuation, full-width forms (their letters and
        // digits are folded to ASCII before this): skip the Unicode tables.
        Class::Other
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

/// The character at byte `at` of `s` and its byte length, if any.
#[inline]
fn char_at(s: &str, at: usize) -> Option<(char, usize)> {
    s[at..].chars().next().map(|c| (c, c.len_utf8()))
}

impl FoldingTokenStream<'_> {
    fn push(&mut self, range: Range<usize>, position: usize) {
        self.pending[self.pending_len] = (range, position);
        self.pending_len += 1;
    }

    /// Decides the next group of tokens (one position's worth); false at the end.
    fn refill(&mut self) -> bool {
        self.pending_len = 0;
        self.pending_next = 0;
        let every_unigram = self.mode == TokenizerMode::Highlight;
        let last_unigram = self.mode != TokenizerMode::Query;
        while self.pending_len == 0 {
            let text = self.folded.as_str();
            let Some((c, len)) = char_at(text, self.cursor) else {
                return false;
            };
            let start = self.cursor;
            match class(c) {
                Class::Other => {
                    self.cursor += len;
                    self.in_run = false;
                }
                Class::Word => {
                    let mut end = start + len;
                    while let Some((d, l)) = char_at(text, end) {
                        if class(d) != Class::Word {
                            break;
                        }
                        end += l;
                    }
                    self.cursor = end;
                    self.in_run = false;
                    if end - start <= MAX_WORD_BYTES {
                        let position = self.position;
                        self.push(start..end, position);
                        self.position += 1;
                    }
                }
                Class::Cjk => {
                    let next = start + len;
                    let next_char = char_at(text, next).filter(|&(d, _)| class(d) == Class::Cjk);
                    let continuing = self.in_run;
                    self.cursor = next;
                    match next_char {
                        Some((_, l2)) => {
                            // Bigram of this and the next character.
                            let after = next + l2;
                            let last_pair =
                                char_at(text, after).is_none_or(|(d, _)| class(d) != Class::Cjk);
                            let position = self.position;
                            if every_unigram {
                                self.push(start..next, position);
                            }
                            self.push(start..after, position);
                            if last_unigram && last_pair {
                                self.push(next..after, position);
                            }
                            self.position += 1;
                            if last_pair {
                                self.position += RUN_GAP;
                            }
                            self.in_run = true;
                        }
                        None => {
                            self.in_run = false;
                            if !continuing {
                                // A lone CJK character: a unigram in both modes.
                                let position = self.position;
                                self.push(start..next, position);
                                self.position += 1 + RUN_GAP;
                            }
                        }
                    }
                }
            }
        }
        true
    }
}

impl TokenStream for FoldingTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.pending_next == self.pending_len && !self.refill() {
            return false;
        }
        let (range, position) = self.pending[self.pending_next].clone();
        self.pending_next += 1;
        let original = self.folded.original_range(range.clone());
        let token = &mut *self.token;
        token.text.clear();
        token.text.push_str(&self.folded.as_str()[range]);
        token.position = position;
        token.offset_from = original.start;
        token.offset_to = original.end;
        token.position_length = 1;
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// The tokens of `text`.
#[cfg(test)]
pub(crate) fn tokenize(text: &str, mode: TokenizerMode) -> Vec<Token> {
    let mut tokenizer = FoldingTokenizer::new(mode);
    let mut stream = tokenizer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, mode: TokenizerMode) -> Vec<(String, usize)> {
        tokenize(text, mode)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    fn query(text: &str) -> Vec<String> {
        texts(text, TokenizerMode::Query)
            .into_iter()
            .map(|t| t.0)
            .collect()
    }

    fn index(text: &str) -> Vec<(&'static str, usize)> {
        // Leaked for terse assertions; tests only.
        texts(text, TokenizerMode::Index)
            .into_iter()
            .map(|(t, p)| (&*Box::leak(t.into_boxed_str()), p))
            .collect()
    }

    #[test]
    fn cjk_bigrams_and_words() {
        assert_eq!(
            texts("三菱UFJ銀行", TokenizerMode::Query),
            texts("三菱ＵＦＪ銀行", TokenizerMode::Query)
        );
        let q = texts("三菱UFJ銀行 sale", TokenizerMode::Query);
        let words: Vec<&str> = q.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(words, ["三菱", "ufj", "银行", "sale"], "{q:?}");
        // A CJK run is followed by two empty positions.
        let positions: Vec<usize> = q.iter().map(|t| t.1).collect();
        assert_eq!(positions, [0, 3, 4, 7]);
    }

    #[test]
    fn index_mode_adds_the_last_unigram_of_each_run() {
        assert_eq!(
            index("銀行卡x"),
            [("银行", 0), ("行卡", 1), ("卡", 1), ("x", 4)]
        );
        // Lone characters and runs separated by punctuation.
        assert_eq!(index("卡、三菱"), [("卡", 0), ("三菱", 3), ("菱", 3)]);
        // Highlighting sees every character.
        let highlight = texts("銀行卡", TokenizerMode::Highlight);
        let highlight: Vec<(&str, usize)> =
            highlight.iter().map(|(t, p)| (t.as_str(), *p)).collect();
        assert_eq!(
            highlight,
            [("银", 0), ("银行", 0), ("行", 1), ("行卡", 1), ("卡", 1)]
        );
    }

    #[test]
    fn a_character_before_a_word_is_indexed_where_a_phrase_finds_it() {
        // "行a" as a query is the phrase 行 a; in a document the character
        // before a word always ends its run, so its unigram is there.
        assert_eq!(index("银行a"), [("银行", 0), ("行", 0), ("a", 3)]);
        assert_eq!(
            texts("行a", TokenizerMode::Query),
            [("行".to_owned(), 0), ("a".to_owned(), 3)]
        );
    }

    #[test]
    fn query_mode_is_a_phrase_of_index_mode() {
        // Every query bigram appears in the index at the same relative position.
        let doc = index("【出售】三菱日联银行网银账户");
        let q = texts("三菱日联银行", TokenizerMode::Query);
        let base = doc.iter().find(|t| t.0 == q[0].0).expect("first bigram").1;
        for (text, pos) in &q {
            assert!(
                doc.contains(&(text.as_str(), base + pos)),
                "{text}@{pos} in {doc:?}"
            );
        }
    }

    #[test]
    fn chinese_japanese_english_russian() {
        assert_eq!(query("出售银行卡"), ["出售", "售银", "银行", "行卡"]);
        // 売 folds to its simplified form 卖, like every kanji variant.
        assert_eq!(
            query("口座を売ります"),
            ["口座", "座を", "を卖", "卖り", "りま", "ます"]
        );
        assert_eq!(
            query("Selling fresh LOGS, 10k balance!"),
            ["selling", "fresh", "logs", "10k", "balance"]
        );
        // Cyrillic words stay words; letters that look Latin fold to Latin
        // (textfold's confusables), the same way in documents and queries.
        assert_eq!(query("Продам базу клиентов").len(), 3);
        assert_eq!(query("ПРОДАМ БАЗУ"), query("продам базу"));
        assert_eq!(query("Москва"), query("москва"));
        // A Cyrillic look-alike inside a Latin word still folds to Latin.
        assert_eq!(query("МUFG"), ["mufg"]);
        assert_eq!(query("한국 은행"), ["한국", "은행"]);
        // Words longer than the cap (hashes, base64) are dropped.
        assert!(query(&"a".repeat(81)).is_empty());
        assert!(query("、。！？ --- ...").is_empty());
    }

    #[test]
    fn variants_fold_to_the_same_tokens() {
        assert_eq!(query("銀行"), query("银行"));
        assert_eq!(query("総務省"), query("总务省"));
        assert_eq!(query("總務省"), query("总务省"));
        assert_eq!(query("ゆうちょ"), query("ユウチョ"));
        assert_eq!(query("ゆうちょ"), query("ﾕｳﾁｮ"));
        assert_eq!(query("Продам"), query("продам"));
        assert_eq!(query("ＭＵＦＧ"), query("mufg"));
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "【出售】三菱ＵＦＪ銀行";
        let out = tokenize(text, TokenizerMode::Query);
        let ufj = out.iter().find(|t| t.text == "ufj").expect("ufj token");
        let text2 = "Продам Москва";
        let moscow = tokenize(text2, TokenizerMode::Query).pop().expect("token");
        assert_eq!(&text2[moscow.offset_from..moscow.offset_to], "Москва");
        assert_eq!(&text[ufj.offset_from..ufj.offset_to], "ＵＦＪ");
        let bank = out.iter().find(|t| t.text == "银行").expect("bank token");
        assert_eq!(&text[bank.offset_from..bank.offset_to], "銀行");
    }

    #[test]
    fn writing_tokens_equal_reading_tokens() {
        let text = "ゆうちょ銀行 四件套 MUFG ＵＦＪ 総務省 продам";
        let mut w = FoldingTokenizer::for_writing();
        let mut stream = w.token_stream(text);
        let mut written = Vec::new();
        while stream.advance() {
            written.push((stream.token().text.clone(), stream.token().position));
        }
        assert_eq!(written, texts(text, TokenizerMode::Index));
    }
}
