//! Facet counts of a search: how many of the matching documents each site,
//! language and kind has, and each month of their date. Counted in the
//! search's own pass over the matches, from columns: the `site`, `lang` and
//! `kind` fast fields give each match a value number (counted in an array)
//! and the `date` fast field its month; no stored document is read, and the
//! cost follows the number of matches, not the size of the index. Values are
//! named once per segment, after the pass. Read-only.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentReader;
use tantivy::{DocId, Score, SegmentOrdinal};

use crate::error::IndexError;
use crate::index::DocumentIndex;
use crate::schema::{DATE_FIELD, KIND_FIELD, LANG_FIELD, SITE_FIELD};
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
    /// (its limit, offset and sort are ignored). A search that also needs
    /// its hits counts them in the same pass:
    /// [`search_with_facets`](Self::search_with_facets).
    pub fn facets(&self, request: &SearchRequest) -> Result<FacetCounts, IndexError> {
        let (query, _) = self.filtered_query(request)?;
        let searcher = self.reader.searcher();
        Ok(searcher.search(&query, &FacetCollector)?)
    }
}

/// Most frequent first, then by value.
fn by_count(map: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Months since year 0 (`year * 12 + month - 1`) of a date in seconds,
/// in UTC: the proleptic Gregorian calendar's arithmetic (H. Hinnant's
/// `civil_from_days`), as every match of a search needs it.
fn month_number(secs: i64) -> i64 {
    let days = secs.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March.
    let mp = (5 * day_of_year + 2) / 153;
    let month0 = if mp < 10 { mp + 2 } else { mp - 10 };
    let year = year_of_era + era * 400 + i64::from(month0 < 2);
    year * 12 + month0
}

/// `2026-11` for a month number.
fn month_name(n: i64) -> String {
    format!("{:04}-{:02}", n.div_euclid(12), n.rem_euclid(12) + 1)
}

/// Counts matches by site, language, kind and month: a collector to run
/// alone or in a tuple beside the search's own (one pass over the matches).
pub(crate) struct FacetCollector;

/// One keyword column of a segment and its counts by value number.
struct KeywordCounts {
    column: StrColumn,
    ords: Column<u64>,
    counts: Vec<u64>,
}

impl KeywordCounts {
    fn open(reader: &SegmentReader, field: &str) -> tantivy::Result<Option<KeywordCounts>> {
        // A segment without one value of the field has no column for it.
        let Some(column) = reader.fast_fields().str(field)? else {
            return Ok(None);
        };
        Ok(Some(KeywordCounts {
            counts: vec![0; column.num_terms()],
            ords: column.ords().clone(),
            column,
        }))
    }

    fn collect(&mut self, doc: DocId) {
        // A document has one site, kind and language (or none): its first
        // value is its only one, read without an iterator.
        if let Some(n) = self
            .ords
            .first(doc)
            .and_then(|ord| self.counts.get_mut(ord as usize))
        {
            *n += 1;
        }
    }

    /// The counted values, named.
    fn harvest(self, into: &mut BTreeMap<String, u64>) -> tantivy::Result<()> {
        let mut name = String::new();
        for (ord, n) in self.counts.into_iter().enumerate() {
            if n > 0 && self.column.ord_to_str(ord as u64, &mut name)? {
                *into.entry(name.clone()).or_default() += n;
            }
        }
        Ok(())
    }
}

/// Months a dense count array spans at most (a thousand years); dates
/// beyond it are counted in a map.
const DENSE_MONTHS: i64 = 12_000;

/// Matches by month number: an array from the first month seen, a map for
/// dates far from it.
#[derive(Default)]
struct MonthCounts {
    base: i64,
    dense: Vec<u64>,
    sparse: BTreeMap<i64, u64>,
}

impl MonthCounts {
    fn add(&mut self, month: i64) {
        if self.dense.is_empty() {
            self.base = month;
        }
        if month < self.base && self.base - month + (self.dense.len() as i64) <= DENSE_MONTHS {
            let shift = (self.base - month) as usize;
            self.dense.splice(0..0, std::iter::repeat_n(0, shift));
            self.base = month;
        }
        let i = month - self.base;
        if (0..DENSE_MONTHS).contains(&i) {
            let i = i as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, 0);
            }
            self.dense[i] += 1;
        } else {
            *self.sparse.entry(month).or_default() += 1;
        }
    }

    fn into_map(self) -> BTreeMap<i64, u64> {
        let mut map = self.sparse;
        for (i, n) in self.dense.into_iter().enumerate() {
            if n > 0 {
                *map.entry(self.base + i as i64).or_default() += n;
            }
        }
        map
    }
}

/// A segment's counts, before the values are named.
pub(crate) struct FacetSegmentCollector {
    matched: usize,
    keywords: [Option<KeywordCounts>; 3],
    dates: Option<Column<tantivy::DateTime>>,
    months: MonthCounts,
}

/// A segment's counts, named.
pub(crate) struct SegmentFacets {
    matched: usize,
    keyed: [BTreeMap<String, u64>; 3],
    months: BTreeMap<i64, u64>,
}

impl Collector for FacetCollector {
    type Fruit = FacetCounts;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        Ok(FacetSegmentCollector {
            matched: 0,
            keywords: [
                KeywordCounts::open(reader, SITE_FIELD)?,
                KeywordCounts::open(reader, LANG_FIELD)?,
                KeywordCounts::open(reader, KIND_FIELD)?,
            ],
            dates: reader.fast_fields().date(DATE_FIELD).ok(),
            months: MonthCounts::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<tantivy::Result<SegmentFacets>>,
    ) -> tantivy::Result<FacetCounts> {
        let mut keyed: [BTreeMap<String, u64>; 3] = Default::default();
        let mut months: BTreeMap<i64, u64> = BTreeMap::new();
        let mut total = 0;
        for segment in fruits {
            let segment = segment?;
            total += segment.matched;
            for (map, counts) in keyed.iter_mut().zip(segment.keyed) {
                for (value, n) in counts {
                    *map.entry(value).or_default() += n;
                }
            }
            for (month, n) in segment.months {
                *months.entry(month).or_default() += n;
            }
        }
        let [site, lang, kind] = keyed.map(by_count);
        Ok(FacetCounts {
            total,
            site,
            lang,
            kind,
            month: months
                .into_iter()
                .map(|(m, n)| (month_name(m), n))
                .collect(),
        })
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = tantivy::Result<SegmentFacets>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.matched += 1;
        for keyword in self.keywords.iter_mut().flatten() {
            keyword.collect(doc);
        }
        if let Some(date) = self.dates.as_ref().and_then(|c| c.first(doc)) {
            self.months.add(month_number(date.into_timestamp_secs()));
        }
    }

    fn harvest(self) -> tantivy::Result<SegmentFacets> {
        let mut keyed: [BTreeMap<String, u64>; 3] = Default::default();
        for (map, keyword) in keyed.iter_mut().zip(self.keywords) {
            if let Some(keyword) = keyword {
                keyword.harvest(map)?;
            }
        }
        Ok(SegmentFacets {
            matched: self.matched,
            keyed,
            months: self.months.into_map(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndexDocument;
    use chrono::{DateTime, Datelike, TimeZone, Utc};

    #[test]
    fn month_numbers_agree_with_the_calendar() {
        // Every day from 1960 to 2100, and the seconds around midnight.
        let mut secs = Utc
            .with_ymd_and_hms(1960, 1, 1, 0, 0, 0)
            .single()
            .expect("date")
            .timestamp();
        let end = Utc
            .with_ymd_and_hms(2100, 12, 31, 0, 0, 0)
            .single()
            .expect("date")
            .timestamp();
        while secs < end {
            for s in [secs - 1, secs, secs + 43_200] {
                let t = DateTime::from_timestamp(s, 0).expect("in range");
                let expected = i64::from(t.year()) * 12 + i64::from(t.month0());
                assert_eq!(month_number(s), expected, "{t}");
                assert_eq!(month_name(expected), t.format("%Y-%m").to_string());
            }
            secs += 86_400;
        }
    }

    #[test]
    fn month_counts_grow_both_ways_and_keep_far_dates() {
        let mut m = MonthCounts::default();
        for month in [24_300, 24_310, 24_290, 24_300, 99_999, 0, 24_289] {
            m.add(month);
        }
        let map = m.into_map();
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            [
                (0, 1),
                (24_289, 1),
                (24_290, 1),
                (24_300, 2),
                (24_310, 1),
                (99_999, 1)
            ]
        );
    }

    /// A small index of several segments (and replaced documents) whose
    /// values are known: sites in mixed case, documents without a language
    /// or a date, dates over several years.
    fn varied_index(dir: &std::path::Path) -> (DocumentIndex, Vec<IndexDocument>) {
        let mut index = DocumentIndex::open_or_create(dir).expect("create");
        let sites = ["demo-cn", "Demo-CN", "demo-jp", "paste", "TG-Channel"];
        let words = [
            "出售 银行 账户",
            "銀行口座 売ります",
            "bank logs escrow",
            "nothing",
        ];
        let mut docs: Vec<IndexDocument> = Vec::new();
        for i in 0..240u32 {
            let posted = (i % 3 != 0).then(|| {
                Utc.with_ymd_and_hms(
                    2023 + (i % 4) as i32,
                    1 + (i * 7) % 12,
                    1 + i % 28,
                    i % 24,
                    0,
                    0,
                )
                .single()
                .expect("date")
            });
            let fetched = (i % 5 != 0).then(|| {
                Utc.with_ymd_and_hms(2026, 1 + i % 12, 2, 0, 0, 0)
                    .single()
                    .expect("date")
            });
            docs.push(IndexDocument {
                id: format!("d{i}"),
                site: sites[(i % 5) as usize].into(),
                url: format!("http://x.onion/{i}"),
                kind: ["listing", "Thread", "post"][(i % 3) as usize].into(),
                lang: match i % 4 {
                    0 => None,
                    1 => Some("zh".into()),
                    2 => Some("JA".into()),
                    _ => Some("en".into()),
                },
                title: Some(words[(i % 4) as usize].into()),
                body: Some(words[((i / 4) % 4) as usize].into()),
                posted_at: posted,
                fetched_at: fetched,
                customers: if i % 6 == 0 {
                    vec!["bank-a".into()]
                } else {
                    Vec::new()
                },
                ..Default::default()
            });
        }
        for (n, doc) in docs.iter().enumerate() {
            let _ = index.upsert(doc).expect("upsert");
            if n % 70 == 69 {
                index.commit().expect("commit");
            }
        }
        // Replace some documents with another site and kind: only the
        // new versions may be counted.
        for doc in docs.iter_mut().filter(|d| d.id.ends_with('7')) {
            doc.site = "moved".into();
            doc.kind = "listing".into();
            let _ = index.upsert(doc).expect("upsert");
        }
        index.commit().expect("commit");
        (index, docs)
    }

    /// The counts of `docs`, one by one.
    fn naive<'a>(docs: impl Iterator<Item = &'a IndexDocument>) -> FacetCounts {
        let mut keyed: [BTreeMap<String, u64>; 3] = Default::default();
        let mut months: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0;
        for d in docs {
            total += 1;
            *keyed[0].entry(d.site.to_lowercase()).or_default() += 1;
            if let Some(lang) = &d.lang {
                *keyed[1].entry(lang.to_lowercase()).or_default() += 1;
            }
            *keyed[2].entry(d.kind.to_lowercase()).or_default() += 1;
            if let Some(date) = d.posted_at.or(d.fetched_at) {
                *months.entry(date.format("%Y-%m").to_string()).or_default() += 1;
            }
        }
        let [site, lang, kind] = keyed.map(by_count);
        FacetCounts {
            total,
            site,
            lang,
            kind,
            month: months.into_iter().collect(),
        }
    }

    #[test]
    fn counts_equal_a_naive_count_of_the_matches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (index, docs) = varied_index(dir.path());
        let since = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).single();
        let request = |query: &str, site: Option<&str>, customer: Option<&str>| SearchRequest {
            query: query.into(),
            site: site.map(Into::into),
            customer: customer.map(Into::into),
            limit: 5,
            ..Default::default()
        };
        // Filters alone: the matches are known without the index.
        let all = index.facets(&request("", None, None)).expect("facets");
        assert_eq!(all, naive(docs.iter()));
        assert_eq!(all.total, 240);
        let cn = index
            .facets(&request("", Some("DEMO-cn"), None))
            .expect("facets");
        assert_eq!(
            cn,
            naive(
                docs.iter()
                    .filter(|d| d.site.eq_ignore_ascii_case("demo-cn"))
            )
        );
        let bank = index
            .facets(&request("", None, Some("bank-a")))
            .expect("facets");
        assert_eq!(bank, naive(docs.iter().filter(|d| !d.customers.is_empty())));
        let recent = SearchRequest {
            since,
            ..request("", None, None)
        };
        assert_eq!(
            index.facets(&recent).expect("facets"),
            naive(docs.iter().filter(|d| {
                d.posted_at
                    .or(d.fetched_at)
                    .is_some_and(|t| Some(t) >= since)
            }))
        );
        // Word queries: the matches as the index reads them back.
        for query in [
            "银行",
            "bank",
            "売ります OR escrow",
            "銀行 NOT bank",
            "site:paste 银行",
        ] {
            for site in [None, Some("demo-jp")] {
                let r = request(query, site, None);
                let matches: Vec<IndexDocument> = index
                    .scan(&r)
                    .expect("scan")
                    .collect::<Result<_, _>>()
                    .expect("documents");
                let facets = index.facets(&r).expect("facets");
                assert_eq!(facets, naive(matches.iter()), "{query} {site:?}");
                // The search's own pass counts the same, and finds the same
                // page as a search without counts.
                let (results, together) = index.search_with_facets(&r).expect("search");
                assert_eq!(together, facets, "{query} {site:?}");
                let plain = index.search_page(&r).expect("search");
                assert_eq!(results.total, plain.total);
                assert_eq!(results.total, facets.total);
                let ids = |hits: &[crate::SearchHit]| {
                    hits.iter()
                        .map(|h| h.document.id.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(ids(&results.hits), ids(&plain.hits), "{query} {site:?}");
                let by_date = SearchRequest {
                    sort: crate::SortOrder::Date,
                    ..r.clone()
                };
                let (dated, dated_facets) = index.search_with_facets(&by_date).expect("search");
                assert_eq!(dated_facets, facets);
                assert_eq!(
                    ids(&dated.hits),
                    ids(&index.search_page(&by_date).expect("search").hits)
                );
            }
        }
    }

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
