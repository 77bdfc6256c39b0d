//! Prices as markets write them (`0.35 [BTC]`, `$150`, `USDT 150/个`, `5,000円`,
//! `200元`, `5k$`) parsed into an amount and a currency: the crawler puts them
//! on documents, the index filters and ranks by them. Pure string work; never
//! fails, an unreadable price is `None`.

use std::fmt;

/// A currency a market price can be quoted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    /// Bitcoin: `BTC`, `XBT`, `₿`, `฿`, `比特币`.
    Btc,
    /// Monero: `XMR`, `门罗币`.
    Xmr,
    /// Ether: `ETH`, `以太坊`.
    Eth,
    /// Litecoin: `LTC`, `莱特币`.
    Ltc,
    /// Tether: `USDT`, `泰达币`, and `150u` right after a number.
    Usdt,
    /// US dollar: `$`, `US$`, `USD`, `美元`, `ドル`.
    Usd,
    /// Euro: `€`, `EUR`, `欧元`, `ユーロ`.
    Eur,
    /// Pound sterling: `£`, `GBP`, `英镑`.
    Gbp,
    /// Japanese yen: `円`, `JPY`, `日元`, and `¥` on Japanese pages.
    Jpy,
    /// Chinese yuan: `元`, `块`, `RMB`, `人民币`, and `¥` on other pages.
    Cny,
    /// Hong Kong dollar: `HKD`, `港币`.
    Hkd,
    /// New Taiwan dollar: `TWD`, `NTD`, `台币`.
    Twd,
    /// South Korean won: `₩`, `KRW`, `원`.
    Krw,
    /// Russian rouble: `₽`, `руб`, `RUB`.
    Rub,
}

impl Currency {
    /// ISO 4217 code (or the ticker of a crypto currency), upper case.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Btc => "BTC",
            Currency::Xmr => "XMR",
            Currency::Eth => "ETH",
            Currency::Ltc => "LTC",
            Currency::Usdt => "USDT",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Cny => "CNY",
            Currency::Hkd => "HKD",
            Currency::Twd => "TWD",
            Currency::Krw => "KRW",
            Currency::Rub => "RUB",
        }
    }

    /// The currency with this code (any case).
    pub fn from_code(code: &str) -> Option<Currency> {
        ALL.iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(code))
    }
}

const ALL: [Currency; 14] = [
    Currency::Btc,
    Currency::Xmr,
    Currency::Eth,
    Currency::Ltc,
    Currency::Usdt,
    Currency::Usd,
    Currency::Eur,
    Currency::Gbp,
    Currency::Jpy,
    Currency::Cny,
    Currency::Hkd,
    Currency::Twd,
    Currency::Krw,
    Currency::Rub,
];

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A parsed price: the first amount in the text and the currency written
/// nearest to it (`None` when the text names none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// The amount in whole units of the currency (`0.35` for `0.35 BTC`),
    /// with a written magnitude applied (`5k` is `5000.0`, `3万` is `30000.0`).
    pub amount: f64,
    /// The currency marker nearest the amount; `None` when the text has none
    /// (`5w`, `subtotal 5`).
    pub currency: Option<Currency>,
}

/// How a currency marker is written. Latin markers must stand on word
/// boundaries (`btc` but not `subtotal`); symbols and CJK markers anywhere.
struct Marker {
    text: &'static str,
    currency: Option<Currency>,
}

/// `None` currency: the yen sign, which is CNY or JPY depending on the market.
const MARKERS: &[Marker] = &[
    m("bitcoin", Currency::Btc),
    m("比特币", Currency::Btc),
    m("比特幣", Currency::Btc),
    m("btc", Currency::Btc),
    m("xbt", Currency::Btc),
    m("₿", Currency::Btc),
    m("฿", Currency::Btc),
    m("monero", Currency::Xmr),
    m("门罗币", Currency::Xmr),
    m("xmr", Currency::Xmr),
    m("ether", Currency::Eth),
    m("以太坊", Currency::Eth),
    m("以太币", Currency::Eth),
    m("eth", Currency::Eth),
    m("litecoin", Currency::Ltc),
    m("莱特币", Currency::Ltc),
    m("ltc", Currency::Ltc),
    m("tether", Currency::Usdt),
    m("泰达币", Currency::Usdt),
    m("usdt", Currency::Usdt),
    m("dollars", Currency::Usd),
    m("dollar", Currency::Usd),
    m("us$", Currency::Usd),
    m("usd", Currency::Usd),
    m("美元", Currency::Usd),
    m("美金", Currency::Usd),
    m("ドル", Currency::Usd),
    m("$", Currency::Usd),
    m("euros", Currency::Eur),
    m("euro", Currency::Eur),
    m("eur", Currency::Eur),
    m("欧元", Currency::Eur),
    m("ユーロ", Currency::Eur),
    m("€", Currency::Eur),
    m("gbp", Currency::Gbp),
    m("英镑", Currency::Gbp),
    m("£", Currency::Gbp),
    m("日元", Currency::Jpy),
    m("日币", Currency::Jpy),
    m("jpy", Currency::Jpy),
    m("yen", Currency::Jpy),
    m("円", Currency::Jpy),
    m("港币", Currency::Hkd),
    m("港元", Currency::Hkd),
    m("hkd", Currency::Hkd),
    m("台币", Currency::Twd),
    m("新台币", Currency::Twd),
    m("twd", Currency::Twd),
    m("ntd", Currency::Twd),
    m("krw", Currency::Krw),
    m("₩", Currency::Krw),
    m("원", Currency::Krw),
    m("人民币", Currency::Cny),
    m("rmb", Currency::Cny),
    m("cny", Currency::Cny),
    m("元", Currency::Cny),
    m("块", Currency::Cny),
    m("рублей", Currency::Rub),
    m("рубля", Currency::Rub),
    m("рубль", Currency::Rub),
    m("руб", Currency::Rub),
    m("rub", Currency::Rub),
    m("₽", Currency::Rub),
    Marker {
        text: "¥",
        currency: None,
    },
];

const fn m(text: &'static str, currency: Currency) -> Marker {
    Marker {
        text,
        currency: Some(currency),
    }
}

impl Price {
    /// Parses a price as a market shows it. `lang` (the document's language)
    /// decides what a bare `¥` means: JPY on Japanese pages, CNY otherwise.
    pub fn parse(text: &str, lang: Option<&str>) -> Option<Price> {
        let text = narrow(text);
        let bytes = text.as_bytes();
        let mut amount: Option<(f64, usize, usize)> = None;
        // (currency or yen sign, start, end) of every marker, in order.
        let mut markers: Vec<(Option<Currency>, usize, usize)> = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let c = bytes[i];
            if c.is_ascii_digit() && amount.is_none() {
                let (value, end) = number(&text, i);
                let (value, end) = multiplier(&text, value, end);
                amount = Some((value, i, end));
                i = end;
                continue;
            }
            if let Some(marker) = marker_at(&text, i) {
                markers.push((marker.currency, i, i + marker.text.len()));
                i += marker.text.len();
                continue;
            }
            // "150u" / "150U": USDT in Chinese markets, right after a number.
            if c == b'u'
                && amount.is_some_and(|(_, _, end)| end == i)
                && !bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
            {
                markers.push((Some(Currency::Usdt), i, i + 1));
            }
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
        let (amount, start, end) = amount?;
        let yen = if lang.is_some_and(|l| l.starts_with("ja")) || text.contains('円') {
            Currency::Jpy
        } else {
            Currency::Cny
        };
        let distance = |&(_, s, e): &(Option<Currency>, usize, usize)| {
            if e <= start {
                start - e
            } else {
                s.saturating_sub(end)
            }
        };
        let currency = markers
            .iter()
            .min_by_key(|m| distance(m))
            .map(|&(c, _, _)| c.unwrap_or(yen));
        Some(Price { amount, currency })
    }
}

/// Full-width ASCII and currency signs to their narrow forms, ASCII lower
/// case (a price is short: a copy is cheaper than an offset map).
fn narrow(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{FFE5}' => '¥',
            '\u{FFE0}' => '¢',
            '\u{FFE1}' => '£',
            '\u{FFE6}' => '₩',
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The number starting at `start` (a digit): `5,000`, `0.35`, `0,35`.
fn number(text: &str, start: usize) -> (f64, usize) {
    let b = text.as_bytes();
    let digits_from = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut digits = String::new();
    let mut i = start;
    let n = digits_from(i);
    digits.push_str(&text[i..i + n]);
    i += n;
    let mut decimal = false;
    loop {
        match b.get(i) {
            Some(b',') => {
                let n = digits_from(i + 1);
                if n == 3 {
                    digits.push_str(&text[i + 1..i + 4]);
                } else if n > 0 && !decimal {
                    decimal = true;
                    digits.push('.');
                    digits.push_str(&text[i + 1..i + 1 + n]);
                } else {
                    break;
                }
                i += 1 + n;
            }
            Some(b'.') if !decimal && digits_from(i + 1) > 0 => {
                let n = digits_from(i + 1);
                decimal = true;
                digits.push('.');
                digits.push_str(&text[i + 1..i + 1 + n]);
                i += 1 + n;
            }
            _ => break,
        }
    }
    (digits.parse().unwrap_or(0.0), i)
}

/// Applies a magnitude written right after a number: `5k`, `2m`, `5w`/`5万`
/// (×10⁴), `3千`, `1亿`.
fn multiplier(text: &str, value: f64, end: usize) -> (f64, usize) {
    let rest = &text[end..];
    let spaced = rest.trim_start_matches(' ');
    for (suffix, factor, ascii) in [
        ("k", 1e3, true),
        ("m", 1e6, true),
        ("w", 1e4, true),
        ("千", 1e3, false),
        ("万", 1e4, false),
        ("萬", 1e4, false),
        ("亿", 1e8, false),
        ("億", 1e8, false),
    ] {
        let candidate = if ascii { rest } else { spaced };
        if let Some(after) = candidate.strip_prefix(suffix) {
            if ascii && after.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue;
            }
            return (value * factor, text.len() - after.len());
        }
    }
    (value, end)
}

/// The longest currency marker at byte `i`, respecting word boundaries for
/// Latin-letter markers.
fn marker_at(text: &str, i: usize) -> Option<&'static Marker> {
    let rest = &text[i..];
    let before = text[..i].chars().next_back();
    MARKERS
        .iter()
        .filter(|mk| rest.starts_with(mk.text))
        .filter(|mk| {
            let letter =
                |c: Option<char>| c.is_some_and(|c| c.is_alphabetic() && !textfold::is_cjk(c));
            if !letter(mk.text.chars().next()) {
                return true;
            }
            let after = rest[mk.text.len()..].chars().next();
            !letter(before) && !letter(after)
        })
        .max_by_key(|mk| mk.text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<(f64, Option<&'static str>)> {
        Price::parse(text, None).map(|p| (p.amount, p.currency.map(Currency::code)))
    }

    #[test]
    fn market_price_forms() {
        // The forms named in issue 7, as crawled markets show them.
        assert_eq!(parse("0.35 [BTC]"), Some((0.35, Some("BTC"))));
        assert_eq!(parse("$150"), Some((150.0, Some("USD"))));
        assert_eq!(parse("USDT 150/个"), Some((150.0, Some("USDT"))));
        assert_eq!(parse("5,000円"), Some((5000.0, Some("JPY"))));
        assert_eq!(parse("200元"), Some((200.0, Some("CNY"))));
        assert_eq!(parse("5k$"), Some((5000.0, Some("USD"))));
    }

    #[test]
    fn more_forms() {
        assert_eq!(parse("1 BTC"), Some((1.0, Some("BTC"))));
        assert_eq!(parse("0.0123btc"), Some((0.0123, Some("BTC"))));
        assert_eq!(parse("＄１５０"), Some((150.0, Some("USD"))));
        assert_eq!(parse("150U"), Some((150.0, Some("USDT"))));
        assert_eq!(parse("5w"), Some((50000.0, None)));
        assert_eq!(parse("3万円"), Some((30000.0, Some("JPY"))));
        assert_eq!(parse("1.5 万 人民币"), Some((15000.0, Some("CNY"))));
        assert_eq!(parse("€20"), Some((20.0, Some("EUR"))));
        assert_eq!(parse("5000 руб."), Some((5000.0, Some("RUB"))));
        assert_eq!(parse("0,35 XMR"), Some((0.35, Some("XMR"))));
        assert_eq!(parse("100美元"), Some((100.0, Some("USD"))));
        assert_eq!(parse("1,234,567.89 USD"), Some((1234567.89, Some("USD"))));
        // The nearest marker wins: the BTC price, with a dollar estimate after.
        assert_eq!(parse("0.01 BTC (~$600)"), Some((0.01, Some("BTC"))));
    }

    #[test]
    fn yen_sign_depends_on_language() {
        assert_eq!(
            Price::parse("¥3000", None).and_then(|p| p.currency),
            Some(Currency::Cny)
        );
        assert_eq!(
            Price::parse("￥3000", Some("ja")).and_then(|p| p.currency),
            Some(Currency::Jpy)
        );
    }

    #[test]
    fn word_boundaries_and_non_prices() {
        assert_eq!(parse("面议"), None);
        assert_eq!(parse("price on request"), None);
        assert_eq!(parse("subtotal 5"), Some((5.0, None)));
        // "5 months": m is not a multiplier when a word follows.
        assert_eq!(parse("5months"), Some((5.0, None)));
        assert_eq!(Currency::from_code("btc"), Some(Currency::Btc));
    }
}
