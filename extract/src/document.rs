//! The document: one extracted listing, post or thread, in the shape that
//! `extract` prints and `match` reads (DESIGN.md "The document").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What kind of page a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// A market listing (an offer with a price block).
    Listing,
    /// A forum post (the first post of a thread).
    #[default]
    Post,
    /// A whole thread.
    Thread,
}

impl DocumentKind {
    /// The lowercase name used in JSON and in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Listing => "listing",
            DocumentKind::Post => "post",
            DocumentKind::Thread => "thread",
        }
    }
}

/// One extracted listing or post.
///
/// `id` is stable across recrawls (site + listing number, or site + the
/// canonical path and query), so a recrawled listing replaces itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Document {
    /// `site:listing_number`, or `site:` plus the path and query under the
    /// site root (`market:viewtopic.php?tid=8647`); see the type's docs.
    pub id: String,
    /// The name of the site profile the page was read with.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub site: String,
    /// The page the document was read from; for a list row, the row's link.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Listing, post or thread; a post when the JSON omits it.
    #[serde(default)]
    pub kind: DocumentKind,
    /// The site's language from its profile (`zh`, `ja`, `en`), when the
    /// profile names one; it decides what a bare `¥` in `price` means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The listing's or thread's title as the page shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The visible text of the post, listing or paste, lines kept; `None`
    /// for a list row, which shows no body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The price as the page writes it, tidied (`1 BTC` for `1  [BTC]`);
    /// [`Document::parse_price`] reads the amount and currency from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// The amount of `price` (`0.35` of `0.35 [BTC]`, `5000` of `5k$`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_amount: Option<f64>,
    /// The currency of `price`: an ISO 4217 code or a crypto ticker (`BTC`,
    /// `USDT`, `JPY`), when the price names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_currency: Option<String>,
    /// The seller's or author's name as the page shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    /// The board or market category the document sits in, as the page
    /// names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The market's own number for the listing (交易编号); when present it
    /// makes the `id`, so the listing keeps its id if its URL changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_number: Option<String>,
    /// When the author posted it (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<String>,
    /// When leakwatch fetched the page (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
    /// The character encoding the page was decoded from (e.g. `GBK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Further fields a profile or preset names (`price_usd`, `trade_type`,
    /// `replies`), as the page shows them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Document {
    /// Sets `price_amount` and `price_currency` from `price` (a bare `¥` is
    /// JPY on a Japanese page, CNY otherwise; a bare number is in `default`,
    /// the site's currency, when it has one); clears them when `price` is
    /// absent or unreadable.
    pub fn parse_price(&mut self, default: Option<prices::Currency>) {
        let parsed = self
            .price
            .as_deref()
            .and_then(|p| prices::Price::parse(p, self.lang.as_deref()));
        self.price_amount = parsed.map(|p| p.amount);
        self.price_currency = parsed
            .and_then(|p| p.currency.or(default))
            .map(|c| c.code().to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_get_amount_and_currency_with_the_site_default_for_bare_numbers() {
        let mut doc = Document {
            price: Some("0.013902".into()),
            ..Document::default()
        };
        doc.parse_price(None);
        assert_eq!(
            (doc.price_amount, doc.price_currency.as_deref()),
            (Some(0.013902), None)
        );
        doc.parse_price(Some(prices::Currency::Btc));
        assert_eq!(doc.price_currency.as_deref(), Some("BTC"));
        for (text, amount, currency) in [
            ("5k$", 5000.0, "USD"),
            ("USDT 150/个", 150.0, "USDT"),
            ("5,000円", 5000.0, "JPY"),
            ("200元", 200.0, "CNY"),
            ("1 [BTC]", 1.0, "BTC"),
        ] {
            doc.price = Some(text.into());
            doc.parse_price(Some(prices::Currency::Btc));
            assert_eq!(
                (doc.price_amount, doc.price_currency.as_deref()),
                (Some(amount), Some(currency)),
                "{text}"
            );
        }
    }
}
