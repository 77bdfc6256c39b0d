//! Running a search: the parsed query plus filters (site, customer, date
//! range), one page of hits by score or date, and highlighted snippets in the
//! original text. Read-only.

use std::collections::BTreeMap;
use std::ops::{Bound, Range};

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, TantivyDocument};
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Order, Searcher, Term};

use crate::analyzer::{FoldingTokenizer, TokenizerMode};
use crate::document::{IndexDocument, StoredFields};
use crate::error::IndexError;
use crate::facets::{FacetCollector, FacetCounts};
use crate::index::DocumentIndex;
use crate::schema::DATE_FIELD;
use prices::Price;

/// Longest snippet, in bytes of the original text (about 80 CJK characters).
const SNIPPET_BYTES: usize = 240;

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Most relevant first (BM25, title hits weighing more).
    #[default]
    Score,
    /// Newest first (posted time, else fetch time); undated documents last.
    Date,
}

/// One search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query in the index's language (words, "phrases", AND/OR/NOT,
    /// `site:`/`lang:`/`amount:` fields); empty matches every document.
    pub query: String,
    /// Only documents of this site profile (any case).
    pub site: Option<String>,
    /// Only documents with an alert for this customer (any case).
    pub customer: Option<String>,
    /// Posted (else fetched) at or after.
    pub since: Option<DateTime<Utc>>,
    /// Posted (else fetched) before.
    pub until: Option<DateTime<Utc>>,
    /// Hits per page (at least one).
    pub limit: usize,
    /// Hits to skip (for paging).
    pub offset: usize,
    /// By relevance or by date.
    pub sort: SortOrder,
}

/// A piece of original text with the byte ranges that matched the query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Highlighted {
    /// The fragment of stored text (body or title), at most 240 bytes.
    pub text: String,
    /// Sorted, non-overlapping byte ranges into `text`.
    pub ranges: Vec<Range<usize>>,
}

/// One hit.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// Relevance (BM25); 0 when sorted by date.
    pub score: f32,
    /// The document that matched, as stored in the index.
    pub document: IndexDocument,
    /// The price's amount and currency, parsed.
    pub price: Option<Price>,
    /// The best fragment of the body (or title) with the hits marked.
    pub snippet: Highlighted,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// Documents matching (all pages).
    pub total: usize,
    /// This page's hits, in the requested order (at most `limit`).
    pub hits: Vec<SearchHit>,
}

impl DocumentIndex {
    /// Runs `request`; returns the total number of matches and one page of hits.
    pub fn search(&self, request: &SearchRequest) -> Result<(usize, Vec<SearchHit>), IndexError> {
        let results = self.search_page(request)?;
        Ok((results.total, results.hits))
    }

    /// Runs `request`.
    pub fn search_page(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        let (query, highlight) = self.filtered_query(request)?;
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
        let (total, addresses): (usize, Vec<(f32, DocAddress)>) = match request.sort {
            SortOrder::Score => searcher.search(&query, &(Count, top.order_by_score()))?,
            SortOrder::Date => {
                let (total, by_date) = searcher.search(
                    &query,
                    &(
                        Count,
                        top.order_by_fast_field::<tantivy::DateTime>(DATE_FIELD, Order::Desc),
                    ),
                )?;
                (total, by_date.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let hits = self.hits(&searcher, &highlight, addresses)?;
        Ok(SearchResults { total, hits })
    }

    /// Runs `request` and counts all its matches by site, language, kind
    /// and month ([`facets`](Self::facets)) in the same pass over them.
    pub fn search_with_facets(
        &self,
        request: &SearchRequest,
    ) -> Result<(SearchResults, FacetCounts), IndexError> {
        let (query, highlight) = self.filtered_query(request)?;
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
        let (facets, addresses): (FacetCounts, Vec<(f32, DocAddress)>) = match request.sort {
            SortOrder::Score => searcher.search(&query, &(FacetCollector, top.order_by_score()))?,
            SortOrder::Date => {
                let (facets, by_date) = searcher.search(
                    &query,
                    &(
                        FacetCollector,
                        top.order_by_fast_field::<tantivy::DateTime>(DATE_FIELD, Order::Desc),
                    ),
                )?;
                (facets, by_date.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let hits = self.hits(&searcher, &highlight, addresses)?;
        Ok((
            SearchResults {
                total: facets.total,
                hits,
            },
            facets,
        ))
    }

    /// The page's hits: each stored document read, with its snippet (only
    /// these documents are read and highlighted).
    fn hits(
        &self,
        searcher: &Searcher,
        highlight: &[String],
        addresses: Vec<(f32, DocAddress)>,
    ) -> Result<Vec<SearchHit>, IndexError> {
        let f = &self.fields;
        let mut hits = Vec::with_capacity(addresses.len());
        if addresses.is_empty() {
            return Ok(hits);
        }
        let body_snippets = snippet_generator(searcher, highlight, f.text, f.body)?;
        let title_snippets = snippet_generator(searcher, highlight, f.text, f.title)?;
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let document = self.stored.read(&doc);
            let mut snippet = highlighted(body_snippets.snippet_from_doc(&doc));
            if snippet.ranges.is_empty() {
                let title = highlighted(title_snippets.snippet_from_doc(&doc));
                snippet = if !title.ranges.is_empty() {
                    title
                } else {
                    // No word of the query is in the text (a filter-only
                    // query, say): the start of the body.
                    opening(document.body.as_deref().or(document.title.as_deref()))
                };
            }
            hits.push(SearchHit {
                score,
                price: document.parsed_price(),
                document,
                snippet,
            });
        }
        Ok(hits)
    }

    /// The query of `request` with its filters, and the words to highlight.
    pub(crate) fn filtered_query(
        &self,
        request: &SearchRequest,
    ) -> Result<(BooleanQuery, Vec<String>), IndexError> {
        let f = &self.fields;
        let parsed = self.parse_query(&request.query)?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, parsed.query)];
        let keyword = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &value.to_lowercase()),
                IndexRecordOption::Basic,
            ))
        };
        if let Some(site) = &request.site {
            clauses.push((Occur::Must, keyword(f.site, site)));
        }
        if let Some(customer) = &request.customer {
            clauses.push((Occur::Must, keyword(f.customer, customer)));
        }
        if request.since.is_some() || request.until.is_some() {
            let term = |d: DateTime<Utc>| {
                Term::from_field_date_for_search(
                    f.date,
                    tantivy::DateTime::from_timestamp_secs(d.timestamp()),
                )
            };
            let lower = request
                .since
                .map_or(Bound::Unbounded, |d| Bound::Included(term(d)));
            let upper = request
                .until
                .map_or(Bound::Unbounded, |d| Bound::Excluded(term(d)));
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        Ok((BooleanQuery::new(clauses), parsed.highlight))
    }

    /// Every document matching `request`'s query and filters (its limit,
    /// offset and sort are ignored), read lazily in index order from one
    /// snapshot: for passes over the whole index such as a retro-hunt, where
    /// paging with offsets would cost quadratic time.
    pub fn scan(&self, request: &SearchRequest) -> Result<DocumentScan, IndexError> {
        let (query, _) = self.filtered_query(request)?;
        self.scan_query(&query)
    }

    /// Every document with an entity of this canonical value (compared
    /// without case; [`entities::canonical_value`] turns what a user types
    /// into one), read lazily in index order.
    pub fn scan_entity(&self, value: &str) -> Result<DocumentScan, IndexError> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.entity, &value.to_lowercase()),
            IndexRecordOption::Basic,
        );
        self.scan_query(&query)
    }

    /// Every document `query` matches, lazily, in index order.
    fn scan_query(&self, query: &dyn Query) -> Result<DocumentScan, IndexError> {
        let searcher = self.reader.searcher();
        let mut addresses: Vec<DocAddress> = searcher
            .search(query, &DocSetCollector)?
            .into_iter()
            .collect();
        addresses.sort();
        Ok(DocumentScan {
            searcher,
            stored: self.stored.clone(),
            addresses: addresses.into_iter(),
        })
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
                Ok(Some(self.stored.read(&doc)))
            }
            None => Ok(None),
        }
    }
}

/// The documents of [`DocumentIndex::scan`].
pub struct DocumentScan {
    searcher: Searcher,
    stored: StoredFields,
    addresses: std::vec::IntoIter<DocAddress>,
}

impl DocumentScan {
    /// Documents left to read.
    pub fn remaining(&self) -> usize {
        self.addresses.len()
    }
}

impl Iterator for DocumentScan {
    type Item = Result<IndexDocument, IndexError>;

    fn next(&mut self) -> Option<Self::Item> {
        let address = self.addresses.next()?;
        Some(
            self.searcher
                .doc::<TantivyDocument>(address)
                .map(|doc| self.stored.read(&doc))
                .map_err(IndexError::from),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.addresses.size_hint()
    }
}

/// A snippet generator marking the query's words in `field`, rarer words
/// weighing more, over the highlight analyzer (every CJK character, with
/// offsets into the original text).
fn snippet_generator(
    searcher: &Searcher,
    words: &[String],
    text_field: Field,
    field: Field,
) -> Result<SnippetGenerator, IndexError> {
    let mut terms: BTreeMap<String, f32> = BTreeMap::new();
    for word in words {
        let doc_freq = searcher.doc_freq(&Term::from_field_text(text_field, word))?;
        terms.insert(word.clone(), 1.0 / (1.0 + doc_freq as f32));
    }
    Ok(SnippetGenerator::new(
        terms,
        TextAnalyzer::from(FoldingTokenizer::new(TokenizerMode::Highlight)),
        field,
        SNIPPET_BYTES,
    ))
}

/// The first [`SNIPPET_BYTES`] of `text` (cut at a character), unmarked.
fn opening(text: Option<&str>) -> Highlighted {
    let text = text.unwrap_or("").trim_start();
    let mut end = text.len().min(SNIPPET_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Highlighted {
        text: text[..end].to_owned(),
        ranges: Vec::new(),
    }
}

/// Merges overlapping highlight ranges (bigrams overlap by one character).
fn highlighted(snippet: Snippet) -> Highlighted {
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
