//! One crawl pass over a site: breadth-first from the seeds, following the
//! profile's links, handing each extracted document to a bounded channel
//! (the consumer's pace throttles the crawl).
//!
//! This pass keeps its frontier in memory; a failed page is reported and
//! skipped, never fatal to the pass.

use std::collections::{HashSet, VecDeque};

use tokio::sync::mpsc;
use url::Url;

use crate::document::Document;
use crate::error::CrawlError;
use crate::extract::extract_page;
use crate::fetch::Fetcher;
use crate::profile::SiteProfile;

/// Progress of a crawl, for progress bars and logs.
#[derive(Debug)]
pub enum CrawlEvent<'a> {
    Fetched {
        url: &'a Url,
        bytes: usize,
        documents: usize,
        queued: usize,
    },
    Failed {
        url: &'a Url,
        error: &'a CrawlError,
    },
}

/// Counts of one pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrawlStats {
    pub pages: usize,
    pub failed: usize,
    pub documents: usize,
    pub bytes: usize,
}

/// Crawls `profile`'s site once. Returns early (with the counts so far) if
/// the receiver of `documents` is gone.
pub async fn crawl_site(
    fetcher: &Fetcher,
    profile: &SiteProfile,
    documents: mpsc::Sender<Document>,
    mut on_event: impl FnMut(CrawlEvent<'_>),
) -> CrawlStats {
    let span = tracing::info_span!("site", site = %profile.name);
    let _guard = span.enter();
    let mut stats = CrawlStats::default();
    let mut seen: HashSet<Url> = HashSet::new();
    let mut queue: VecDeque<(Url, u32)> = VecDeque::new();
    for seed in &profile.seeds {
        if seen.insert(seed.clone()) {
            queue.push_back((seed.clone(), 0));
        }
    }
    while let Some((url, depth)) = queue.pop_front() {
        if stats.pages + stats.failed >= profile.max_pages {
            tracing::info!(max_pages = profile.max_pages, "page limit reached");
            break;
        }
        let page = match fetcher.fetch(profile, &url).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%url, %error, "fetch failed");
                stats.failed += 1;
                on_event(CrawlEvent::Failed {
                    url: &url,
                    error: &error,
                });
                continue;
            }
        };
        stats.pages += 1;
        stats.bytes += page.bytes;
        let extracted = extract_page(
            profile,
            &page.url,
            &page.decoded.text,
            page.fetched_at,
            Some(page.decoded.encoding.name()),
        );
        if depth < profile.max_depth {
            for link in extracted.links {
                if seen.insert(link.clone()) {
                    queue.push_back((link, depth + 1));
                }
            }
        }
        on_event(CrawlEvent::Fetched {
            url: &url,
            bytes: page.bytes,
            documents: extracted.documents.len(),
            queued: queue.len(),
        });
        for doc in extracted.documents {
            stats.documents += 1;
            if documents.send(doc).await.is_err() {
                return stats;
            }
        }
    }
    stats
}
