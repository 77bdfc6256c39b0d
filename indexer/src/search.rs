//! Searching: the query language (Tantivy's parser over title, body, seller,
//! category, price, with `site:`, `lang:`, `kind:`, `seller:` fields), filters,
//! sorting and highlighted snippets in the original text.

use std::ops::{Bound, Range};

use chrono::{DateTime, Utc};
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, TantivyDocument};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::{DocAddress, Order, Term};

use crate::analyzer::{FoldingTokenizer, TokenizerMode, ANALYZER_NAME};
use crate::error::IndexError;
use crate::index::{DocumentIndex, IndexDocument};

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Score,
    /// Newest first (posted time, else fetch time).
    Date,
}

/// One search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    pub site: Option<String>,
    pub customer: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: usize,
    pub offset: usize,
    pub sort: SortOrder,
}

/// A piece of original text with the byte ranges that matched the query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Highlighted {
    pub text: String,
    /// Sorted, non-overlapping byte ranges into `text`.
    pub ranges: Vec<Range<usize>>,
}

/// One hit.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub score: f32,
    pub document: IndexDocument,
    /// The best fragment of the body (or title) with the hits marked.
    pub snippet: Highlighted,
}

impl DocumentIndex {
    /// Runs `request`; returns the total number of matches and one page of hits.
    pub fn search(&self, request: &SearchRequest) -> Result<(usize, Vec<SearchHit>), IndexError> {
        let f = &self.fields;
        let text_query: Box<dyn Query> = if request.query.trim().is_empty() {
            Box::new(AllQuery)
        } else {
            let tokenizers = TokenizerManager::default();
            tokenizers.register(
                ANALYZER_NAME,
                TextAnalyzer::from(FoldingTokenizer::new(TokenizerMode::Query)),
            );
            let mut parser = QueryParser::new(
                self.index.schema(),
                vec![f.title, f.body, f.seller, f.category, f.price],
                tokenizers,
            );
            parser.set_conjunction_by_default();
            parser.set_field_boost(f.title, 2.0);
            parser.parse_query(&request.query).map_err(|e| IndexError::Query {
                query: request.query.clone(),
                message: format!(
                    "{e}; write words or \"phrases\", combine with AND/OR/NOT, filter with site:, lang:, kind:, seller:"
                ),
            })?
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query.box_clone())];
        let term = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        if let Some(site) = &request.site {
            clauses.push((Occur::Must, term(f.site, site)));
        }
        if let Some(customer) = &request.customer {
            clauses.push((Occur::Must, term(f.customer, customer)));
        }
        if request.since.is_some() || request.until.is_some() {
            let bound = |d: Option<DateTime<Utc>>, inclusive: bool| match d {
                None => Bound::Unbounded,
                Some(d) => {
                    let t = Term::from_field_date_for_search(
                        f.date,
                        tantivy::DateTime::from_timestamp_secs(d.timestamp()),
                    );
                    if inclusive {
                        Bound::Included(t)
                    } else {
                        Bound::Excluded(t)
                    }
                }
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(request.since, true),
                    bound(request.until, false),
                )),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let limit = request.limit.max(1);
        let total = searcher.search(&query, &tantivy::collector::Count)?;
        let addresses: Vec<(f32, DocAddress)> = match request.sort {
            SortOrder::Score => searcher.search(
                &query,
                &TopDocs::with_limit(limit)
                    .and_offset(request.offset)
                    .order_by_score(),
            )?,
            SortOrder::Date => searcher
                .search(
                    &query,
                    &TopDocs::with_limit(limit)
                        .and_offset(request.offset)
                        .order_by_fast_field::<tantivy::DateTime>("date", Order::Desc),
                )?
                .into_iter()
                .map(|(_, addr)| (0.0, addr))
                .collect(),
        };
        let body_snippets = SnippetGenerator::create(&searcher, &*text_query, f.body)?;
        let title_snippets = SnippetGenerator::create(&searcher, &*text_query, f.title)?;
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let mut snippet = highlighted(body_snippets.snippet_from_doc(&doc));
            if snippet.ranges.is_empty() {
                let title = highlighted(title_snippets.snippet_from_doc(&doc));
                if !title.ranges.is_empty() || snippet.text.is_empty() {
                    snippet = title;
                }
            }
            hits.push(SearchHit {
                score,
                document: self.from_tantivy(&doc),
                snippet,
            });
        }
        Ok((total, hits))
    }

    /// The stored document with this id, if any.
    pub fn get(&self, id: &str) -> Result<Option<IndexDocument>, IndexError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            Some((_, address)) => {
                let doc: TantivyDocument = searcher.doc(*address)?;
                Ok(Some(self.from_tantivy(&doc)))
            }
            None => Ok(None),
        }
    }
}

/// Merges overlapping highlight ranges (bigrams overlap by one character).
fn highlighted(snippet: tantivy::snippet::Snippet) -> Highlighted {
    let mut ranges: Vec<Range<usize>> = snippet.highlighted().to_vec();
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    Highlighted {
        text: snippet.fragment().to_owned(),
        ranges: merged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, title: &str, body: &str) -> IndexDocument {
        IndexDocument {
            id: id.into(),
            site: "s".into(),
            url: format!("http://x.onion/{id}"),
            kind: "listing".into(),
            title: Some(title.into()),
            body: Some(body.into()),
            ..Default::default()
        }
    }

    fn ids(index: &DocumentIndex, q: &str) -> Vec<String> {
        let (_, hits) = index
            .search(&SearchRequest {
                query: q.into(),
                limit: 10,
                ..Default::default()
            })
            .expect("search");
        let mut ids: Vec<String> = hits.into_iter().map(|h| h.document.id).collect();
        ids.sort();
        ids
    }

    #[test]
    fn folded_cjk_search_and_upsert() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
        index
            .upsert(&doc("a", "【出售】日本三菱日联银行网银账户", "带登录密码"))
            .expect("add");
        index
            .upsert(&doc("b", "三菱ＵＦＪ銀行 口座 売ります", "即日発送"))
            .expect("add");
        index
            .upsert(&doc("c", "ゆうちょ銀行 四件套", "ユウチョ 存折+卡"))
            .expect("add");
        index
            .upsert(&doc(
                "d",
                "Продам доступ",
                "MUFG customer database, price $500",
            ))
            .expect("add");
        index.commit().expect("commit");
        assert_eq!(ids(&index, "三菱日联"), ["a"]);
        assert_eq!(ids(&index, "三菱UFJ"), ["b"]);
        assert_eq!(ids(&index, "銀行"), ["a", "b", "c"]);
        assert_eq!(ids(&index, "银行"), ["a", "b", "c"]);
        assert_eq!(ids(&index, "ユウチョ"), ["c"]);
        assert_eq!(ids(&index, "行"), ["a", "b", "c"]);
        assert_eq!(ids(&index, "продам"), ["d"]);
        assert_eq!(ids(&index, "mufg"), ["d"]);
        assert_eq!(ids(&index, "site:s AND mufg"), ["d"]);
        // Upsert replaces.
        index.upsert(&doc("a", "已售出", "nothing")).expect("add");
        index.commit().expect("commit");
        assert!(ids(&index, "三菱日联").is_empty());
        assert_eq!(index.num_docs(), 4);
    }

    #[test]
    fn snippet_marks_the_original_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
        index
            .upsert(&doc("b", "口座", "三菱ＵＦＪ銀行の口座を売ります"))
            .expect("add");
        index.commit().expect("commit");
        let (_, hits) = index
            .search(&SearchRequest {
                query: "三菱UFJ".into(),
                limit: 5,
                ..Default::default()
            })
            .expect("search");
        let s = &hits[0].snippet;
        let marked: Vec<&str> = s.ranges.iter().map(|r| &s.text[r.clone()]).collect();
        assert_eq!(marked, ["三菱ＵＦＪ"]);
    }

    #[test]
    fn foreign_and_missing_folders_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("none");
        assert!(matches!(
            DocumentIndex::open(&missing),
            Err(IndexError::Missing { .. })
        ));
        std::fs::write(dir.path().join("something.txt"), "x").expect("write");
        assert!(matches!(
            DocumentIndex::open_or_create(dir.path()),
            Err(IndexError::Foreign { .. })
        ));
    }

    #[test]
    fn syntax_error_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = DocumentIndex::open_or_create(dir.path()).expect("create");
        let err = index
            .search(&SearchRequest {
                query: "title:(".into(),
                limit: 5,
                ..Default::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("title:("), "{err}");
    }
}
