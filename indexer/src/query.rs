//! The query language — Tantivy's parser: words, "phrases", AND/OR/NOT, `-x`,
//! and fields (`site:`, `lang:`, `kind:`, `seller:`, `currency:`,
//! `amount:[0 TO 1]`, …) — and its errors, which say where in the query the
//! problem is. Parsing only; running queries is `search`'s job.

use tantivy::query::{AllQuery, Query, QueryParserError};

use crate::error::QuerySyntaxError;
use crate::index::DocumentIndex;

/// Fields a query may name, for hints.
const QUERY_FIELDS: &str = "title, body, seller, category, price, site, lang, kind, currency, amount, customer, alert, date";

const GENERAL_HINT: &str = "write words or \"phrases\", combine with AND/OR/NOT, filter with site:, lang:, kind:, seller:, currency:, amount:[MIN TO MAX]";

impl DocumentIndex {
    /// Parses `text` into a query (an empty text matches every document).
    pub(crate) fn parse_query(&self, text: &str) -> Result<Box<dyn Query>, QuerySyntaxError> {
        if text.trim().is_empty() {
            return Ok(Box::new(AllQuery));
        }
        let (_, errors) = tantivy::query_grammar::parse_query_lenient(text);
        if let Some(first) = errors.first() {
            return Err(grammar_error(text, first.pos, &first.message));
        }
        self.query_parser
            .parse_query(text)
            .map_err(|e| parser_error(text, e))
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
        QueryParserError::AllButQueryForbidden => (
            None,
            "the query only excludes things".to_owned(),
            "add something to look for, e.g. `* -sold` or `银行 NOT 测试`".to_owned(),
        ),
        QueryParserError::FieldNotIndexed(name) => (
            find_field(text, name),
            format!("field {name:?} cannot be searched"),
            format!("searchable fields are {QUERY_FIELDS}"),
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
