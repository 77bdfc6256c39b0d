//! The analyzer shared by indexing and querying: text is folded by
//! `textfold` (NFKC, case, kana, kanji variants, confusables), then CJK runs
//! become character bigrams and other scripts become word tokens.
//!
//! Positions are laid out so that a query's bigram sequence is a phrase of
//! the indexed one: a run of n ≥ 2 CJK characters takes n − 1 positions in
//! both modes. The index mode adds each character as a unigram at the
//! position of a bigram that contains it, so one-character queries match.
//! Token offsets point into the original (unfolded) text, for highlighting.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name under which both modes are registered (index and query parser
/// each get the mode they need).
pub const ANALYZER_NAME: &str = "leakwatch";

/// Longest word token kept, in bytes; longer runs are noise (hashes, base64).
const MAX_WORD_BYTES: usize = 80;

/// Whether tokens are made for the index or for a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerMode {
    /// Bigrams plus unigrams of CJK runs.
    Index,
    /// Bigrams only (a lone CJK character is a unigram).
    Query,
}

/// Folding + CJK bigram tokenizer.
#[derive(Debug, Clone)]
pub struct FoldingTokenizer {
    mode: TokenizerMode,
    tokens: Vec<Token>,
}

impl FoldingTokenizer {
    pub fn new(mode: TokenizerMode) -> FoldingTokenizer {
        FoldingTokenizer {
            mode,
            tokens: Vec::new(),
        }
    }
}

/// Iterates over the tokens made by [`FoldingTokenizer`].
pub struct FoldingTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for FoldingTokenizer {
    type TokenStream<'a> = FoldingTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FoldingTokenStream<'a> {
        self.tokens.clear();
        tokenize(text, self.mode, &mut self.tokens);
        FoldingTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for FoldingTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Cjk,
    Word,
    Other,
}

fn class(c: char) -> Class {
    if textfold::is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

/// Appends the tokens of `text` to `out`.
pub(crate) fn tokenize(text: &str, mode: TokenizerMode, out: &mut Vec<Token>) {
    let folded = textfold::fold(text);
    let f = folded.as_str();
    let mut position = 0usize;
    let push = |out: &mut Vec<Token>, range: std::ops::Range<usize>, position: usize| {
        let original = folded.original_range(range.clone());
        out.push(Token {
            offset_from: original.start,
            offset_to: original.end,
            position,
            text: f[range].to_owned(),
            position_length: 1,
        });
    };
    let chars: Vec<(usize, char)> = f.char_indices().collect();
    let end_of = |i: usize| chars.get(i + 1).map_or(f.len(), |&(b, _)| b);
    let mut i = 0;
    while i < chars.len() {
        let kind = class(chars[i].1);
        let mut j = i;
        while j + 1 < chars.len() && class(chars[j + 1].1) == kind {
            j += 1;
        }
        // chars[i..=j] is one run of the same class.
        match kind {
            Class::Other => {}
            Class::Word => {
                let range = chars[i].0..end_of(j);
                if range.len() <= MAX_WORD_BYTES {
                    push(out, range, position);
                    position += 1;
                }
            }
            Class::Cjk if i == j => {
                push(out, chars[i].0..end_of(i), position);
                position += 1;
            }
            Class::Cjk => {
                for k in i..j {
                    if mode == TokenizerMode::Index {
                        push(out, chars[k].0..end_of(k), position);
                    }
                    push(out, chars[k].0..end_of(k + 1), position);
                    if mode == TokenizerMode::Index && k + 1 == j {
                        push(out, chars[j].0..end_of(j), position);
                    }
                    position += 1;
                }
            }
        }
        i = j + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, mode: TokenizerMode) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        tokenize(text, mode, &mut out);
        out.into_iter().map(|t| (t.text, t.position)).collect()
    }

    fn query(text: &str) -> Vec<String> {
        texts(text, TokenizerMode::Query)
            .into_iter()
            .map(|t| t.0)
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
        assert_eq!(words.len(), 4, "{q:?}");
        assert_eq!(words[1], "ufj");
        assert_eq!(words[3], "sale");
        let positions: Vec<usize> = q.iter().map(|t| t.1).collect();
        assert_eq!(positions, [0, 1, 2, 3]);
    }

    #[test]
    fn index_mode_adds_unigrams_at_bigram_positions() {
        let idx = texts("銀行卡x", TokenizerMode::Index);
        let at = |p: usize| -> Vec<String> {
            idx.iter()
                .filter(|t| t.1 == p)
                .map(|t| t.0.clone())
                .collect()
        };
        assert_eq!(at(0).len(), 2);
        assert_eq!(at(1).len(), 3, "{idx:?}");
        assert_eq!(at(2), ["x"]);
    }

    #[test]
    fn variants_fold_to_the_same_tokens() {
        assert_eq!(query("銀行"), query("银行"));
        assert_eq!(query("総務省"), query("总务省"));
        assert_eq!(query("ゆうちょ"), query("ユウチョ"));
        assert_eq!(query("ゆうちょ"), query("ﾕｳﾁｮ"));
        assert_eq!(query("Продам"), query("продам"));
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "【出售】三菱ＵＦＪ銀行";
        let mut out = Vec::new();
        tokenize(text, TokenizerMode::Query, &mut out);
        let ufj = out.iter().find(|t| t.text == "ufj").expect("ufj token");
        assert_eq!(&text[ufj.offset_from..ufj.offset_to], "ＵＦＪ");
    }
}
