//! The query language — Tantivy's grammar: words, "phrases", AND/OR/NOT,
//! `-x`, `x*`, and fields (`site:`, `lang:`, `kind:`, `seller:`, `currency:`,
//! `amount:[0 TO 1]`, …) — turned into queries over the folding analyzer, and
//! its errors, which say where in the query the problem is. Parsing only;
//! running queries is `search`'s job.
//!
//! Text is turned into queries here rather than by Tantivy's parser because
//! CJK needs rules the parser cannot express: a query ending in a single CJK
//! character matches it as a prefix (the index has bigrams, and unigrams
//! only for the last character of a run; see `analyzer`), and a phrase needs
//! only every other bigram of a word. A bare word searches the combined
//! `text` field, the title adding to the score. Every other leaf (ranges,
//! keyword fields, sets) goes to Tantivy's parser unchanged.

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    QueryParserError, TermQuery,
};
use tantivy::query_grammar::{UserInputAst, UserInputLeaf, UserInputLiteral};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{TokenStream, Tokenizer};
use tantivy::Term;

use crate::analyzer::{FoldingTokenizer, TokenizerMode};
use crate::error::QuerySyntaxError;
use crate::exclusion::Excluded;
use crate::index::DocumentIndex;

/// Fields a query may name, for hints.
const QUERY_FIELDS: &str = "title, body, seller, category, price, site, lang, kind, currency, amount, customer, alert, date, entity, wallet";

const GENERAL_HINT: &str = "write words or \"phrases\", combine with AND/OR/NOT, filter with site:, lang:, kind:, seller:, currency:, amount:[MIN TO MAX], entity:, wallet:";

/// How much a hit in the title adds, over the hit in the text.
const TITLE_BOOST: f32 = 2.0;

/// A prefix may expand to this many terms (a CJK character starts at most a
/// few thousand distinct bigrams).
const MAX_PREFIX_EXPANSIONS: u32 = 1 << 20;

/// A parsed query and the words to mark in snippets.
pub(crate) struct ParsedQuery {
    pub query: Box<dyn Query>,
    /// The folded tokens of every word the query looks for (not those it
    /// excludes).
    pub highlight: Vec<String>,
}

/// Where a word of the query is looked for.
#[derive(Clone, Copy)]
enum TextTarget {
    /// Anywhere in the searchable text, the title counting more.
    Everywhere,
    /// In one analysed field.
    Field(Field),
}

impl DocumentIndex {
    /// Parses `text` into a query (an empty text matches every document).
    pub(crate) fn parse_query(&self, text: &str) -> Result<ParsedQuery, QuerySyntaxError> {
        if text.trim().is_empty() {
            return Ok(ParsedQuery {
                query: Box::new(AllQuery),
                highlight: Vec::new(),
            });
        }
        let (_, errors) = tantivy::query_grammar::parse_query_lenient(text);
        let ast = match errors.first() {
            None => tantivy::query_grammar::parse_query(text).ok(),
            // A URL (`http://x.onion/a?b=1`) reads as a field and a regex:
            // quoted, it is a phrase to look for.
            Some(_) => quote_urls(text).and_then(|q| tantivy::query_grammar::parse_query(&q).ok()),
        };
        let ast = match (ast, errors.first()) {
            (Some(ast), _) => ast,
            (None, Some(first)) => return Err(grammar_error(text, first.pos, &first.message)),
            (None, None) => {
                return Err(grammar_error(text, text.len(), "the query cannot be read"))
            }
        };
        let mut builder = QueryBuilder {
            index: self,
            highlight: Vec::new(),
            tokenizer: FoldingTokenizer::new(TokenizerMode::Query),
        };
        let query = builder
            .convert(ast, false)
            .map_err(|e| parser_error(text, e))?
            .unwrap_or_else(|| Box::new(EmptyQuery));
        Ok(ParsedQuery {
            query,
            highlight: builder.highlight,
        })
    }
}

struct QueryBuilder<'a> {
    index: &'a DocumentIndex,
    highlight: Vec<String>,
    tokenizer: FoldingTokenizer,
}

impl QueryBuilder<'_> {
    /// The query for `ast`; `None` when it has nothing to search for (only
    /// punctuation, say). `negated`: inside a NOT (its words are not marked).
    fn convert(
        &mut self,
        ast: UserInputAst,
        negated: bool,
    ) -> Result<Option<Box<dyn Query>>, QueryParserError> {
        match ast {
            UserInputAst::Clause(children) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (occur, child) in children {
                    // Words without an operator must all match.
                    let occur = occur.unwrap_or(Occur::Must);
                    let negated = negated || occur == Occur::MustNot;
                    if let Some(q) = self.convert(child, negated)? {
                        let q: Box<dyn Query> = if occur == Occur::MustNot {
                            Box::new(Excluded(q))
                        } else {
                            q
                        };
                        clauses.push((occur, q));
                    }
                }
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    if clauses.is_empty() {
                        return Ok(None);
                    }
                    // "NOT x" alone: everything but x.
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                if clauses.len() == 1 && clauses[0].0 != Occur::MustNot {
                    return Ok(clauses.pop().map(|(_, q)| q));
                }
                Ok(Some(Box::new(BooleanQuery::new(clauses))))
            }
            UserInputAst::Boost(inner, boost) => Ok(self.convert(*inner, negated)?.map(|q| {
                Box::new(BoostQuery::new(q, boost.into_inner() as f32)) as Box<dyn Query>
            })),
            UserInputAst::Leaf(leaf) => match *leaf {
                UserInputLeaf::Literal(literal)
                    if matches!(literal.field_name.as_deref(), Some("entity" | "wallet")) =>
                {
                    Ok(Some(self.entity_literal(&literal)))
                }
                UserInputLeaf::Literal(literal) => {
                    let literal = url_as_text(literal);
                    match self.text_target(&literal) {
                        Some(target) => Ok(self.text_literal(target, &literal, negated)),
                        None => self.delegate(UserInputLeaf::Literal(literal)),
                    }
                }
                other => self.delegate(other),
            },
        }
    }

    /// Tantivy's own reading of a leaf (keyword fields, numbers, dates, ranges, sets).
    fn delegate(&self, leaf: UserInputLeaf) -> Result<Option<Box<dyn Query>>, QueryParserError> {
        self.index
            .query_parser
            .build_query_from_user_input_ast(UserInputAst::Leaf(Box::new(leaf)))
            .map(Some)
    }

    /// `entity:VALUE` or `wallet:VALUE`: the exact canonical value, however
    /// the query writes it (`entity:"QQ：12345678"`, `wallet:0xFB69…`).
    fn entity_literal(&self, literal: &UserInputLiteral) -> Box<dyn Query> {
        let f = &self.index.fields;
        let field = match literal.field_name.as_deref() {
            Some("wallet") => f.wallet,
            _ => f.entity,
        };
        let value = entities::canonical_value(&literal.phrase).to_lowercase();
        Box::new(TermQuery::new(
            Term::from_field_text(field, &value),
            IndexRecordOption::Basic,
        ))
    }

    /// Where a literal searches: the `text` field (with the title as an
    /// optional, boosted clause) for a bare word, or one analysed field;
    /// `None` for a literal on another field.
    fn text_target(&self, literal: &UserInputLiteral) -> Option<TextTarget> {
        let f = &self.index.fields;
        match literal.field_name.as_deref() {
            None => Some(TextTarget::Everywhere),
            // The body is searched through `text` (which also has the title).
            Some("body" | "text") => Some(TextTarget::Field(f.text)),
            Some("title") => Some(TextTarget::Field(f.title)),
            Some("seller") => Some(TextTarget::Field(f.seller)),
            Some("category") => Some(TextTarget::Field(f.category)),
            Some("price") => Some(TextTarget::Field(f.price)),
            Some(_) => None,
        }
    }

    /// A word or phrase. Everywhere: it must be in `text`, and a hit in the
    /// title adds a boosted score (only checked on documents `text` matched).
    fn text_literal(
        &mut self,
        target: TextTarget,
        literal: &UserInputLiteral,
        negated: bool,
    ) -> Option<Box<dyn Query>> {
        let tokens = self.tokens(&literal.phrase);
        let (_, last) = tokens.last()?;
        let last_is_one_cjk = {
            let mut chars = last.chars();
            matches!((chars.next(), chars.next()), (Some(c), None) if textfold::is_cjk(c))
        };
        // `"fres"*` in the grammar, or plainly `fres*`.
        let prefix = literal.prefix || literal.phrase.ends_with('*') || last_is_one_cjk;
        if !negated {
            self.highlight.extend(tokens.iter().map(|(_, t)| t.clone()));
        }
        let phrase = sparse(&tokens);
        let on = |field: Field| -> Box<dyn Query> {
            let terms: Vec<(usize, Term)> = phrase
                .iter()
                .map(|(p, t)| (*p, Term::from_field_text(field, t)))
                .collect();
            match (terms.len(), prefix) {
                (1, false) => Box::new(TermQuery::new(
                    terms[0].1.clone(),
                    IndexRecordOption::WithFreqs,
                )),
                (_, true) => {
                    let mut q = PhrasePrefixQuery::new_with_offset(terms);
                    q.set_max_expansions(MAX_PREFIX_EXPANSIONS);
                    Box::new(q)
                }
                (_, false) => Box::new(PhraseQuery::new_with_offset_and_slop(terms, literal.slop)),
            }
        };
        match target {
            TextTarget::Field(field) => Some(on(field)),
            TextTarget::Everywhere if negated => Some(on(self.index.fields.text)),
            TextTarget::Everywhere => {
                let title: Box<dyn Query> =
                    Box::new(BoostQuery::new(on(self.index.fields.title), TITLE_BOOST));
                Some(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, on(self.index.fields.text)),
                    (Occur::Should, title),
                ])))
            }
        }
    }

    /// The query-mode tokens of `text`: (position, folded text).
    fn tokens(&mut self, text: &str) -> Vec<(usize, String)> {
        let mut stream = self.tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.position, t.text.clone()));
        }
        out
    }
}

/// The tokens a phrase needs: of each run of consecutive CJK bigrams, every
/// other one and the last (`三菱日联银行` → 三菱 日联 联银 … 银行 at their
/// positions: 三菱@0 日联@2 银行@4). The skipped bigrams are implied: the
/// analyzer leaves a gap after every run, so bigrams two positions apart are
/// of one run, and their characters are contiguous. Fewer postings to
/// intersect, the same matches.
fn sparse(tokens: &[(usize, String)]) -> Vec<(usize, String)> {
    let is_bigram = |t: &str| {
        let mut chars = t.chars();
        matches!(
            (chars.next(), chars.next(), chars.next()),
            (Some(a), Some(b), None) if textfold::is_cjk(a) && textfold::is_cjk(b)
        )
    };
    let mut kept = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if !is_bigram(&tokens[i].1) {
            kept.push(tokens[i].clone());
            i += 1;
            continue;
        }
        // tokens[i..j] is one run of bigrams at consecutive positions.
        let mut j = i + 1;
        while j < tokens.len() && is_bigram(&tokens[j].1) && tokens[j].0 == tokens[j - 1].0 + 1 {
            j += 1;
        }
        let run = &tokens[i..j];
        for (k, token) in run.iter().enumerate() {
            if k % 2 == 0 || k + 1 == run.len() {
                kept.push(token.clone());
            }
        }
        i = j;
    }
    kept
}

/// `text` with every URL outside quotes put in quotes; `None` if it has none.
fn quote_urls(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_quotes = false;
    let mut found = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        let at_word_start =
            out.is_empty() || out.ends_with(|p: char| p.is_whitespace() || p == '(');
        if !in_quotes && at_word_start && is_url_start(rest) {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == ')' || c == '"')
                .unwrap_or(rest.len());
            out.push('"');
            out.push_str(&rest[..end]);
            out.push('"');
            rest = &rest[end..];
            found = true;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    found.then_some(out)
}

/// Whether `text` starts with `scheme://`.
fn is_url_start(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme.len() <= 10
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// `http://x.onion/…` reads as field `http`; a URL is text to look for.
fn url_as_text(literal: UserInputLiteral) -> UserInputLiteral {
    match &literal.field_name {
        Some(scheme) if literal.phrase.starts_with("//") => UserInputLiteral {
            phrase: format!("{scheme}:{}", literal.phrase),
            field_name: None,
            ..literal
        },
        _ => literal,
    }
}

/// An error of the grammar at byte `pos`, explained.
fn grammar_error(text: &str, pos: usize, message: &str) -> QuerySyntaxError {
    let pos = pos.min(text.len());
    let (position, message, hint) = if let Some(open) = unclosed(text, '"', '"') {
        (
            open,
            "this quote is never closed".to_owned(),
            "end the phrase with another \"".to_owned(),
        )
    } else if let Some(open) = unclosed(text, '(', ')') {
        (
            open,
            "this parenthesis is never closed".to_owned(),
            "add a ) or remove the (".to_owned(),
        )
    } else if let Some(open) = unclosed(text, '[', ']').or_else(|| unclosed(text, '{', '}')) {
        (
            open,
            "this range is never closed".to_owned(),
            "write ranges as amount:[1 TO 5] or date:{2026-01-01T00:00:00Z TO *}".to_owned(),
        )
    } else if let Some(stray) = stray_close(text) {
        (
            stray,
            "this parenthesis closes nothing".to_owned(),
            "remove it or add the matching (".to_owned(),
        )
    } else if let Some((at, word)) = dangling_operator(text) {
        (
            at,
            format!("{word} needs a word on each side"),
            format!("write a {word} b, or quote \"{word}\" to search for the word"),
        )
    } else if let Some((at, sign)) = lone_sign(text) {
        (
            at,
            format!("a lone {sign} applies to nothing"),
            format!("write {sign}word with no space (-word excludes it, +word requires it)"),
        )
    } else {
        let message = match message {
            "unparsed end of query" => "the query cannot be read from here".to_owned(),
            m => m.to_owned(),
        };
        (pos, message, GENERAL_HINT.to_owned())
    };
    QuerySyntaxError {
        query: text.to_owned(),
        position: Some(position),
        message,
        hint: Some(hint),
    }
}

/// Byte offset of the first `open` (outside quotes) that is never closed.
fn unclosed(text: &str, open: char, close: char) -> Option<usize> {
    let mut stack = Vec::new();
    let mut in_quotes = false;
    let mut quote_at = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        if c == '"' {
            if open == '"' {
                if in_quotes {
                    in_quotes = false;
                } else {
                    in_quotes = true;
                    quote_at = i;
                }
            } else {
                in_quotes = !in_quotes;
            }
            continue;
        }
        if in_quotes {
            continue;
        }
        if c == open {
            stack.push(i);
        } else if c == close {
            stack.pop();
        }
    }
    if open == '"' {
        return in_quotes.then_some(quote_at);
    }
    stack.first().copied()
}

/// Whitespace-separated words outside quotes, with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        if c.is_whitespace() && !in_quotes {
            if let Some(s) = start.take() {
                out.push((s, &text[s..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// An AND/OR/NOT at the end, or AND/OR at the start: (offset, word).
fn dangling_operator(text: &str) -> Option<(usize, &str)> {
    let words = words(text);
    let is_op = |w: &str| matches!(w, "AND" | "OR" | "NOT");
    match (words.first(), words.last()) {
        (_, Some(&(at, w))) if is_op(w) => Some((at, w)),
        (Some(&(at, w)), _) if w == "AND" || w == "OR" => Some((at, w)),
        _ => None,
    }
}

/// A `-` or `+` standing alone: (offset, sign).
fn lone_sign(text: &str) -> Option<(usize, &str)> {
    words(text)
        .into_iter()
        .find(|(_, w)| *w == "-" || *w == "+")
}

/// Byte offset of the first `)` with no `(` before it (outside quotes).
fn stray_close(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_quotes = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return Some(i),
            },
            _ => {}
        }
    }
    None
}

/// Byte offset of `name:` in `text` where it starts a clause.
fn find_field(text: &str, name: &str) -> Option<usize> {
    let needle = format!("{name}:");
    let mut from = 0;
    while let Some(found) = text[from..].find(&needle) {
        let at = from + found;
        let before = text[..at].chars().next_back();
        if before.is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '+' | '-')) {
            return Some(at);
        }
        from = at + needle.len();
    }
    None
}

/// A query the grammar accepts but the schema does not, explained.
fn parser_error(text: &str, error: QueryParserError) -> QuerySyntaxError {
    let (position, message, hint) = match &error {
        QueryParserError::FieldDoesNotExist(name) => (
            find_field(text, name),
            format!("there is no field {name:?}"),
            format!("fields are {QUERY_FIELDS}; to search for text with a colon, quote it: \"{name}:…\""),
        ),
        QueryParserError::ExpectedFloat(_) | QueryParserError::ExpectedInt(_) => (
            find_field(text, "amount"),
            "amount takes a number".to_owned(),
            "write amount:[0.1 TO 2] or amount:>100".to_owned(),
        ),
        QueryParserError::DateFormatError(_) => (
            ["date", "posted_at", "fetched_at"]
                .iter()
                .find_map(|f| find_field(text, f)),
            "dates in a query are RFC 3339 times".to_owned(),
            "write date:[2026-11-01T00:00:00Z TO *], or use --since/--until".to_owned(),
        ),
        QueryParserError::FieldNotIndexed(name) => (
            find_field(text, name),
            format!("field {name:?} cannot be searched"),
            format!("searchable fields are {QUERY_FIELDS}"),
        ),
        QueryParserError::UnsupportedQuery(m) if m.contains("Range") => (
            text.find(['[', '{', '<', '>']),
            "a range needs a field".to_owned(),
            "write amount:[1 TO 5], amount:>100 or date:[2026-01-01T00:00:00Z TO *]".to_owned(),
        ),
        other => (None, other.to_string(), GENERAL_HINT.to_owned()),
    };
    QuerySyntaxError {
        query: text.to_owned(),
        position,
        message,
        hint: Some(hint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(index: &DocumentIndex, q: &str) -> QuerySyntaxError {
        match index.parse_query(q) {
            Err(e) => e,
            Ok(_) => panic!("{q:?} parsed"),
        }
    }

    #[test]
    fn errors_point_at_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = DocumentIndex::open_or_create(dir.path()).expect("create");
        let cases = [
            ("title:(銀行", "(", "never closed"),
            ("三菱 AND \"出售 银行", "\"", "never closed"),
            ("三菱)", ")", "closes nothing"),
            ("銀行 foo:bar", "foo:", "no field"),
            ("amount:[abc TO 5]", "amount:", "number"),
            ("amount:[1 TO 5", "[", "never closed"),
            ("銀行 AND", "AND", "on each side"),
            ("OR 銀行", "OR", "on each side"),
            ("銀行 - 卡", "-", "lone"),
            ("[1 TO 2]", "[", "needs a field"),
        ];
        for (q, at, message) in cases {
            let e = error(&index, q);
            let pos = e
                .position
                .unwrap_or_else(|| panic!("{q:?}: no position in {e}"));
            assert!(q[pos..].starts_with(at), "{q:?}: position {pos} in {e}");
            assert!(e.message.contains(message), "{q:?}: {e}");
        }
    }

    #[test]
    fn phrases_keep_every_other_bigram() {
        let tokens = |text: &str| {
            let mut t = FoldingTokenizer::new(TokenizerMode::Query);
            let mut stream = t.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                out.push((stream.token().position, stream.token().text.clone()));
            }
            out
        };
        let kept = |text: &str| -> Vec<(usize, String)> { sparse(&tokens(text)) };
        let owned = |v: &[(usize, &str)]| -> Vec<(usize, String)> {
            v.iter().map(|(p, t)| (*p, t.to_string())).collect()
        };
        assert_eq!(
            kept("三菱日联银行"),
            owned(&[(0, "三菱"), (2, "日联"), (4, "银行")])
        );
        assert_eq!(
            kept("客户数据库"),
            owned(&[(0, "客户"), (2, "数据"), (3, "据库")])
        );
        assert_eq!(kept("银行卡"), owned(&[(0, "银行"), (1, "行卡")]));
        assert_eq!(
            kept("三菱UFJ银行"),
            owned(&[(0, "三菱"), (3, "ufj"), (4, "银行")])
        );
    }

    #[test]
    fn caret_lines_up_under_wide_characters() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = DocumentIndex::open_or_create(dir.path()).expect("create");
        let e = error(&index, "銀行 foo:bar");
        // 銀行 is four columns wide, then a space: foo starts at column 6.
        assert_eq!(e.column(), Some(6));
        let shown = e.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[2], "       ^", "{shown}");
    }

    #[test]
    fn valid_queries_parse() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = DocumentIndex::open_or_create(dir.path()).expect("create");
        for q in [
            "三菱UFJ",
            "\"出售 银行\"",
            "site:deepmix AND (mufg OR 三菱) -测试",
            "currency:btc amount:[0 TO 1]",
            "kind:listing lang:ja seller:fullbitmin",
            "date:[2026-01-01T00:00:00Z TO *]",
            "",
        ] {
            if let Err(e) = index.parse_query(q) {
                panic!("{q:?}: {e}");
            }
        }
    }
}
