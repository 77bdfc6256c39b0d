//! Facet counts of a search: how many of the matching documents each site,
//! language and kind has, and each month of their date. One pass: the
//! matching documents are collected into a bit set per segment, then each
//! keyword field's postings are walked once against it (no stored document
//! is read, and the schema needs no new fast field). Read-only.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::index::{InvertedIndexReader, SegmentReader};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentOrdinal, TERMINATED};

use crate::error::IndexError;
use crate::index::DocumentIndex;
use crate::schema::DATE_FIELD;
use crate::search::SearchRequest;

/// Counts of matching documents by value, most frequent first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetCounts {
    /// Documents matching (all facets count within these).
    pub total: usize,
    /// By site profile name.
    pub site: Vec<(String, u64)>,
    /// By language code.
    pub lang: Vec<(String, u64)>,
    /// By document kind (listing, thread, …).
    pub kind: Vec<(String, u64)>,
    /// By month of the date (`2026-11`), oldest first; undated documents
    /// are not counted.
    pub month: Vec<(String, u64)>,
}

impl DocumentIndex {
    /// Facet counts of the documents matching `request`'s query and filters
    /// (its limit, offset and sort are ignored).
    pub fn facets(&self, request: &SearchRequest) -> Result<FacetCounts, IndexError> {
        let (query, _) = self.filtered_query(request)?;
        let searcher = self.reader.searcher();
        let collector = FacetCollector {
            fields: [self.fields.site, self.fields.lang, self.fields.kind],
        };
        let per_segment = searcher.search(&query, &collector)?;
        let mut keyed: [BTreeMap<String, u64>; 3] = Default::default();
        let mut months: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0;
        for segment in per_segment {
            total += segment.matched;
            for (map, counts) in keyed.iter_mut().zip(segment.by_field) {
                for (value, n) in counts {
                    *map.entry(value).or_default() += n;
                }
            }
            for (month, n) in segment.by_month {
                *months.entry(month).or_default() += n;
            }
        }
        let [site, lang, kind] = keyed.map(by_count);
        Ok(FacetCounts {
            total,
            site,
            lang,
            kind,
            month: months.into_iter().collect(),
        })
    }
}

/// Most frequent first, then by value.
fn by_count(map: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// `2026-11` for a date.
fn month_of(secs: i64) -> Option<String> {
    let t: DateTime<Utc> = DateTime::from_timestamp(secs, 0)?;
    Some(format!("{:04}-{:02}", t.year(), t.month()))
}

struct FacetCollector {
    fields: [Field; 3],
}

struct SegmentFacets {
    matched: usize,
    by_field: [Vec<(String, u64)>; 3],
    by_month: Vec<(String, u64)>,
}

struct FacetSegmentCollector {
    matched: Vec<u64>,
    count: usize,
    inverted: [Arc<InvertedIndexReader>; 3],
    dates: Option<Column<tantivy::DateTime>>,
    months: BTreeMap<i64, u64>,
}

impl Collector for FacetCollector {
    type Fruit = Vec<SegmentFacets>;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        let [a, b, c] = self.fields;
        Ok(FacetSegmentCollector {
            matched: vec![0; (reader.max_doc() as usize).div_ceil(64)],
            count: 0,
            inverted: [
                reader.inverted_index(a)?,
                reader.inverted_index(b)?,
                reader.inverted_index(c)?,
            ],
            dates: reader.fast_fields().date(DATE_FIELD).ok(),
            months: BTreeMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<tantivy::Result<SegmentFacets>>,
    ) -> tantivy::Result<Vec<SegmentFacets>> {
        fruits.into_iter().collect()
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = tantivy::Result<SegmentFacets>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let (word, bit) = (doc as usize / 64, doc % 64);
        if let Some(w) = self.matched.get_mut(word) {
            *w |= 1 << bit;
        }
        self.count += 1;
        if let Some(date) = self.dates.as_ref().and_then(|c| c.first(doc)) {
            // Counted by the month's first second, named after the loop.
            let secs = date.into_timestamp_secs();
            *self.months.entry(secs).or_default() += 1;
        }
    }

    fn harvest(self) -> tantivy::Result<SegmentFacets> {
        let mut by_field: [Vec<(String, u64)>; 3] = Default::default();
        for (out, inverted) in by_field.iter_mut().zip(&self.inverted) {
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                let mut postings = inverted
                    .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
                let mut n = 0u64;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let (word, bit) = (doc as usize / 64, doc % 64);
                    if self.matched.get(word).is_some_and(|w| w & (1 << bit) != 0) {
                        n += 1;
                    }
                    doc = postings.advance();
                }
                if n > 0 {
                    out.push((String::from_utf8_lossy(terms.key()).into_owned(), n));
                }
            }
        }
        let mut by_month: BTreeMap<String, u64> = BTreeMap::new();
        for (secs, n) in self.months {
            if let Some(month) = month_of(secs) {
                *by_month.entry(month).or_default() += n;
            }
        }
        Ok(SegmentFacets {
            matched: self.count,
            by_field,
            by_month: by_month.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndexDocument;
    use chrono::TimeZone;

    #[test]
    fn counts_follow_the_query_and_filters() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
        for i in 0..6u32 {
            let doc = IndexDocument {
                id: format!("d{i}"),
                site: if i < 4 { "demo-cn" } else { "demo-jp" }.into(),
                url: format!("http://x.onion/{i}"),
                kind: if i % 2 == 0 { "listing" } else { "thread" }.into(),
                lang: Some(if i < 4 { "zh" } else { "ja" }.into()),
                title: Some(
                    if i == 5 {
                        "nothing here"
                    } else {
                        "出售 银行 账户"
                    }
                    .into(),
                ),
                posted_at: Utc.with_ymd_and_hms(2026, 9 + i % 2, 3, 0, 0, 0).single(),
                ..Default::default()
            };
            let _ = index.upsert(&doc).expect("upsert");
        }
        index.commit().expect("commit");
        let request = |query: &str, site: Option<&str>| SearchRequest {
            query: query.into(),
            site: site.map(Into::into),
            limit: 10,
            ..Default::default()
        };
        let f = index.facets(&request("银行", None)).expect("facets");
        assert_eq!(f.total, 5);
        assert_eq!(
            f.site,
            [("demo-cn".to_owned(), 4), ("demo-jp".to_owned(), 1)]
        );
        assert_eq!(
            f.kind,
            [("listing".to_owned(), 3), ("thread".to_owned(), 2)]
        );
        assert_eq!(
            f.month,
            [("2026-09".to_owned(), 3), ("2026-10".to_owned(), 2)]
        );
        let jp = index.facets(&request("", Some("demo-jp"))).expect("facets");
        assert_eq!(jp.total, 2);
        assert_eq!(jp.lang, [("ja".to_owned(), 2)]);
    }
}
