//! How far a crawl reads back into a Telegram channel. A channel's preview
//! shows its newest messages and links the page before them
//! (`/s/<channel>?before=N`). On the first passes the crawl follows those
//! links back to the profile's depth (`backfill_messages`,
//! `backfill_since`); afterwards each pass reads the newest page and goes
//! further back only while a page holds nothing but messages newer than
//! every earlier pass saw, stopping at the first known message. A page of
//! older messages is read once, never re-polled. Pure: the crawl keeps the
//! marks in the frontier.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use extract::{telegram_message_number, Document};
use url::Url;

/// How far back a channel is read on its first passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    /// Messages back from the newest (counted by message number: gaps from
    /// albums and deletions count too).
    pub messages: u64,
    /// Nothing older than this is read back to.
    pub since: Option<BackfillSince>,
}

impl Default for Backfill {
    fn default() -> Self {
        Backfill {
            messages: 200,
            since: None,
        }
    }
}

/// The oldest time a backfill reads back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillSince {
    /// A fixed time.
    At(DateTime<Utc>),
    /// A span before the pass.
    Ago(Duration),
}

impl BackfillSince {
    fn at(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            BackfillSince::At(t) => t,
            BackfillSince::Ago(span) => chrono::Duration::from_std(span)
                .ok()
                .and_then(|span| now.checked_sub_signed(span))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        }
    }
}

/// The messages one page of a channel showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChannelPage {
    /// The channel's name (`durov` of `durov/519`).
    pub(crate) channel: String,
    /// The lowest message number on the page.
    pub(crate) lowest: u64,
    /// The highest.
    pub(crate) highest: u64,
    /// When the oldest message with a time was posted.
    pub(crate) oldest: Option<DateTime<Utc>>,
}

impl ChannelPage {
    /// The page's messages, when its documents are messages of one channel
    /// (their listing numbers `channel/N`); `None` for any other page.
    pub(crate) fn of(documents: &[Document]) -> Option<ChannelPage> {
        let mut page: Option<ChannelPage> = None;
        for doc in documents {
            let number = telegram_message_number(doc)?;
            let channel = doc.listing_number.as_deref()?.split('/').next()?;
            let posted = doc
                .posted_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            match &mut page {
                None => {
                    page = Some(ChannelPage {
                        channel: channel.to_owned(),
                        lowest: number,
                        highest: number,
                        oldest: posted,
                    });
                }
                Some(p) if p.channel.eq_ignore_ascii_case(channel) => {
                    p.lowest = p.lowest.min(number);
                    p.highest = p.highest.max(number);
                    p.oldest = match (p.oldest, posted) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Some(_) => return None,
            }
        }
        page
    }
}

/// Whether `url` is a page of a channel's older messages (`?before=N`).
pub(crate) fn is_older_page(url: &Url) -> bool {
    url.path().starts_with("/s/") && url.query_pairs().any(|(k, _)| k == "before")
}

/// Each channel's newest message number: as earlier passes left it, and as
/// this pass has seen it.
#[derive(Debug, Default)]
pub(crate) struct ChannelMarks {
    at_start: HashMap<String, u64>,
    newest: HashMap<String, u64>,
}

impl ChannelMarks {
    /// The marks the frontier kept (channel names in lower case).
    pub(crate) fn new(at_start: HashMap<String, u64>) -> ChannelMarks {
        ChannelMarks {
            at_start,
            newest: HashMap::new(),
        }
    }

    /// The newest message number of `channel` that an earlier pass read.
    pub(crate) fn known(&self, channel: &str) -> Option<u64> {
        self.at_start.get(&channel.to_lowercase()).copied()
    }

    /// The newest message of each channel this pass raised, to keep.
    pub(crate) fn seen(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.newest.iter()
    }

    /// Notes a page; returns the channel's new newest number when the page
    /// raised it.
    pub(crate) fn saw(&mut self, page: &ChannelPage) -> Option<u64> {
        let key = page.channel.to_lowercase();
        let before = self
            .newest
            .get(&key)
            .or(self.at_start.get(&key))
            .copied()
            .unwrap_or(0);
        if page.highest > before {
            self.newest.insert(key, page.highest);
            Some(page.highest)
        } else {
            None
        }
    }

    /// Whether to read the page before `page`: not when `page` reaches a
    /// message an earlier pass saw, nor past the backfill's depth.
    pub(crate) fn follow_older(
        &self,
        page: &ChannelPage,
        backfill: &Backfill,
        now: DateTime<Utc>,
    ) -> bool {
        let key = page.channel.to_lowercase();
        let known = self.at_start.get(&key).copied();
        if known.is_some_and(|k| page.lowest <= k) {
            return false;
        }
        let newest = [self.newest.get(&key).copied(), known, Some(page.highest)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(page.highest);
        if newest.saturating_sub(page.lowest) + 1 >= backfill.messages {
            return false;
        }
        let too_old = match (backfill.since, page.oldest) {
            (Some(since), Some(oldest)) => oldest < since.at(now),
            _ => false,
        };
        !too_old
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(channel: &str, lowest: u64, highest: u64, oldest: &str) -> ChannelPage {
        ChannelPage {
            channel: channel.into(),
            lowest,
            highest,
            oldest: DateTime::parse_from_rfc3339(oldest)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_new_channel_is_read_back_to_the_depth() {
        let backfill = Backfill {
            messages: 50,
            since: None,
        };
        let mut marks = ChannelMarks::default();
        let newest = page("Shop", 81, 100, "2026-11-30T00:00:00Z");
        assert_eq!(marks.saw(&newest), Some(100));
        assert!(marks.follow_older(&newest, &backfill, now()));
        let older = page("shop", 61, 80, "2026-11-29T00:00:00Z");
        assert_eq!(marks.saw(&older), None, "it raised nothing");
        assert!(marks.follow_older(&older, &backfill, now()));
        // 100 - 41 + 1 = 60 messages back: deep enough.
        let oldest = page("shop", 41, 60, "2026-11-28T00:00:00Z");
        assert!(!marks.follow_older(&oldest, &backfill, now()));
    }

    #[test]
    fn a_known_channel_stops_at_the_first_known_message() {
        let backfill = Backfill::default();
        let marks = ChannelMarks::new(HashMap::from([("shop".to_owned(), 100)]));
        // Five new messages: the newest page reaches message 100.
        assert!(!marks.follow_older(
            &page("shop", 86, 105, "2026-11-30T00:00:00Z"),
            &backfill,
            now()
        ));
        // Thirty new: the newest page is all new; the one before is not.
        assert!(marks.follow_older(
            &page("shop", 111, 130, "2026-11-30T00:00:00Z"),
            &backfill,
            now()
        ));
        assert!(!marks.follow_older(
            &page("shop", 91, 110, "2026-11-30T00:00:00Z"),
            &backfill,
            now()
        ));
    }

    #[test]
    fn since_bounds_the_backfill_by_time() {
        let ago = Backfill {
            messages: 10_000,
            since: Some(BackfillSince::Ago(Duration::from_secs(7 * 86_400))),
        };
        let marks = ChannelMarks::default();
        assert!(marks.follow_older(&page("c", 81, 100, "2026-11-25T00:00:00Z"), &ago, now()));
        assert!(!marks.follow_older(&page("c", 61, 80, "2026-11-20T00:00:00Z"), &ago, now()));
        let at = Backfill {
            messages: 10_000,
            since: Some(BackfillSince::At(
                DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z")
                    .expect("time")
                    .with_timezone(&Utc),
            )),
        };
        assert!(!marks.follow_older(&page("c", 61, 80, "2026-11-29T00:00:00Z"), &at, now()));
    }

    #[test]
    fn pages_of_messages_and_older_pages_are_told_apart() {
        let doc = |post: &str| Document {
            listing_number: Some(post.into()),
            ..Document::default()
        };
        let p = ChannelPage::of(&[doc("shop/7"), doc("shop/9"), doc("Shop/8")]).expect("a page");
        assert_eq!((p.lowest, p.highest), (7, 9));
        assert_eq!(ChannelPage::of(&[doc("shop/7"), doc("other/8")]), None);
        assert_eq!(ChannelPage::of(&[doc("12345")]), None);
        assert_eq!(ChannelPage::of(&[]), None);
        let url = |u: &str| Url::parse(u).expect("url");
        assert!(is_older_page(&url("https://t.me/s/shop?before=120")));
        assert!(!is_older_page(&url("https://t.me/s/shop")));
        assert!(!is_older_page(&url("http://forum.example/list?before=3")));
    }
}
