//! Parsing of the posted-time strings that forums and markets print
//! (`2018年-8月-29日 19:16`, `08-29 19:17`, `06-27-2023, 04:51 PM`,
//! `4 minutes ago`, `昨天 13:20`, `3日前`, unix stamps, ISO 8601) into UTC.
//! Local times use the site's clock (a UTC offset, or a named zone with its
//! daylight-saving rules); relative and year-less forms are anchored at the
//! fetch time, never at the clock of the machine re-reading.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use regex::Regex;

/// What a date string is read against: the site's clock and the moment the
/// page was fetched (the anchor of `4 minutes ago`, `昨天`, and of the year
/// of `08-29 19:17`).
#[derive(Debug, Clone, Copy)]
pub struct DateContext {
    /// The site's clock.
    pub zone: SiteZone,
    /// When the page was fetched.
    pub fetched_at: DateTime<Utc>,
}

/// A site's clock: a fixed offset from UTC (`+08:00`), or a named IANA zone
/// (`Europe/Moscow`, `America/New_York`) whose offset follows its
/// daylight-saving rules on each date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteZone {
    /// A fixed offset (`+08:00`).
    Fixed(FixedOffset),
    /// An IANA zone with its daylight-saving rules (`Europe/Moscow`).
    Named(chrono_tz::Tz),
}

impl SiteZone {
    /// UTC itself.
    pub fn utc() -> SiteZone {
        SiteZone::Fixed(FixedOffset::east_opt(0).expect("0 is a valid offset"))
    }

    /// A fixed offset of `secs` east of UTC (`None` beyond ±24 h).
    pub fn from_offset_secs(secs: i32) -> Option<SiteZone> {
        FixedOffset::east_opt(secs).map(SiteZone::Fixed)
    }

    /// `UTC`, `Z`, `GMT`, an offset (`+08:00`, `UTC+9`, `-0330`) or an IANA
    /// zone name (`Asia/Tokyo`).
    pub fn parse(text: &str) -> Option<SiteZone> {
        let text = text.trim();
        if matches!(text, "UTC" | "Z" | "GMT" | "utc") {
            return Some(SiteZone::utc());
        }
        if let Some(secs) = crate::rules::parse_utc_offset(text) {
            return SiteZone::from_offset_secs(secs);
        }
        text.parse::<chrono_tz::Tz>().ok().map(SiteZone::Named)
    }

    /// As a profile writes it: `+08:00`, `UTC`, `Europe/Moscow`.
    pub fn name(&self) -> String {
        match self {
            SiteZone::Fixed(offset) if offset.local_minus_utc() == 0 => "UTC".to_owned(),
            SiteZone::Fixed(offset) => offset.to_string(),
            SiteZone::Named(tz) => tz.name().to_owned(),
        }
    }

    /// The site's wall-clock time at `utc`.
    pub fn local(&self, utc: DateTime<Utc>) -> NaiveDateTime {
        match self {
            SiteZone::Fixed(offset) => utc.with_timezone(offset).naive_local(),
            SiteZone::Named(tz) => utc.with_timezone(tz).naive_local(),
        }
    }

    /// The UTC time of the site's wall-clock time `local`. In the hour that
    /// repeats when clocks go back, the first; a time that never was (clocks
    /// went forward over it) is read with the offset from before the change,
    /// as software adding a stale offset would print it.
    pub fn to_utc(&self, local: &NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            SiteZone::Fixed(offset) => offset
                .from_local_datetime(local)
                .single()
                .map(|d| d.with_timezone(&Utc)),
            SiteZone::Named(tz) => match tz.from_local_datetime(local) {
                chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => {
                    Some(d.with_timezone(&Utc))
                }
                chrono::LocalResult::None => {
                    // The offset from before the clocks moved (gaps are
                    // at most a day long; most are an hour).
                    (1..=24).find_map(|h| {
                        let back = Duration::minutes(30 * h);
                        tz.from_local_datetime(&(*local - back))
                            .earliest()
                            .map(|before| before.with_timezone(&Utc) + back)
                    })
                }
            },
        }
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("date patterns are valid")
}

/// A clock time with optional seconds and am/pm, reused by several forms.
const TIME: &str = r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?|上午|下午|午前|午後)?";

static YMD: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(\d{{4}})\s*(?:年\s*-?|[/.-])\s*(\d{{1,2}})\s*(?:月\s*-?|[/.-])\s*(\d{{1,2}})\s*日?(?:\s*[(（][^)）]*[)）])?(?:[\sT,]*(?:at\s+)?{TIME})?"
    ))
});
static MDY: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(\d{{1,2}})[-/](\d{{1,2}})[-/](\d{{4}}),?(?:\s+(?:at\s+)?{TIME})?"
    ))
});
static DMY_DOTS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}),?(?:\s+(?:в\s+)?{TIME})?"
    ))
});
/// Month names and their abbreviations in English, French, German, Spanish,
/// Italian, Portuguese and Russian (`Juil`, `März`, `авг`, `января`).
const MONTHS: &str = r"((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|févr|fevr|fév|fev|avr|mai|juin|juil|août|aout|déc|mär|okt|dez|ene|abr|ago|dic|gen|mag|giu|lug|set|ott|out|янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек)\p{L}*)\.?";
static MONTH_DAY_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b{MONTHS}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?:,?\s*(?:at\s+|-\s*)?{TIME})?"
    ))
});
static DAY_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{MONTHS},?\s+(\d{{4}})(?:,?\s*(?:at\s+|à\s+|um\s+|в\s+|alle\s+|a las\s+)?{TIME})?"
    ))
});
/// Year-less forms: `08-29 19:17`, `8/29 19:17`, `8月29日 19:17`.
static MD_TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?:^|[^\d/.-])(\d{{1,2}})\s*(?:[-/]|月)\s*(\d{{1,2}})\s*日?(?:\s*[(（][^)）]*[)）])?\s+{TIME}"
    ))
});
static MD_CJK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^|[^\d])(\d{1,2})\s*月\s*(\d{1,2})\s*日"));
/// `today`/`昨天`/`вчера` with an optional clock time.
static DAY_WORD: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(today|yesterday|今天|今日|昨天|昨日|前天|一昨日|сегодня|позавчера|вчера)[\s,]*(?:at\s+|в\s+)?(?:{TIME})?"
    ))
});
static AGO_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(\d+|an?|one)\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\b",
    )
});
static AGO_CJK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(\d+|半|一|两|兩)\s*(秒钟|秒鐘|秒|分钟|分鐘|分|个小时|個小時|小时|小時|時間|天|日|周|週間|週|星期|个月|個月|ヶ月|か月|ヵ月|年)\s*(?:前|以前)",
    )
});
static AGO_RU: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(\d+)\s*(секунд\w*|сек|минут\w*|мин|час\w*|дн\w*|день|недел\w*|месяц\w*|год\w*|лет)\s+назад",
    )
});
static JUST_NOW: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(just now|moments? ago|a moment ago)\b|刚刚|剛剛|たった今|только что")
});
static OFFSET_NO_COLON: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?[+-]\d{4}$"));

/// Parses an absolute posted time in the site's offset. Relative and
/// year-less forms are anchored at the current time; prefer [`parse_date`]
/// with the fetch time.
pub fn parse_posted_at(text: &str, utc_offset_secs: i32) -> Option<DateTime<Utc>> {
    parse_date(
        text,
        &DateContext {
            zone: SiteZone::from_offset_secs(utc_offset_secs)?,
            fetched_at: Utc::now(),
        },
    )
}

/// Parses a posted time in any form the boards print. `None` when no known
/// form is found or the date does not exist (`2026年-13月-40日`).
pub fn parse_date(text: &str, ctx: &DateContext) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    if OFFSET_NO_COLON.is_match(text) {
        for format in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"] {
            if let Ok(dt) = DateTime::parse_from_str(text, format) {
                return Some(dt.with_timezone(&Utc));
            }
        }
    }
    // A bare unix time stamp (XenForo's data-time, Discuz's spans).
    if (9..=11).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = text.parse().ok()?;
        return Utc.timestamp_opt(secs, 0).single();
    }
    let local_fetch = ctx.zone.local(ctx.fetched_at);
    // The first date in the text is the one meant (`April 03, 2021 …
    // last modified 11 hours ago` was posted in April).
    let first = |patterns: &[&Regex]| {
        patterns
            .iter()
            .filter_map(|r| r.find(text))
            .map(|m| m.start())
            .min()
    };
    let first_absolute = first(&[&YMD, &MDY, &DMY_DOTS, &MONTH_DAY_YEAR, &DAY_MONTH_YEAR]);
    let first_relative = first(&[&JUST_NOW, &DAY_WORD, &AGO_EN, &AGO_CJK, &AGO_RU]);
    let relative_first = match (first_absolute, first_relative) {
        (Some(a), Some(r)) => r < a,
        _ => true,
    };
    if relative_first {
        if let Some(found) = relative(text, ctx, local_fetch) {
            return found;
        }
    }
    let naive = absolute(text).or_else(|| year_less(text, local_fetch))?;
    ctx.zone.to_utc(&naive)
}

/// Relative forms. `Some(None)` means a relative form was found but does not
/// make a valid time (so no other form is tried on it).
fn relative(
    text: &str,
    ctx: &DateContext,
    local_fetch: NaiveDateTime,
) -> Option<Option<DateTime<Utc>>> {
    if JUST_NOW.is_match(text) {
        return Some(Some(ctx.fetched_at));
    }
    if let Some(c) = DAY_WORD.captures(text) {
        let word = c[1].to_lowercase();
        let days_back = match word.as_str() {
            "today" | "今天" | "今日" | "сегодня" => 0,
            "yesterday" | "昨天" | "昨日" | "вчера" => 1,
            _ => 2,
        };
        let date = local_fetch.date() - Duration::days(days_back);
        let (h, m, s) = clock(&c, 2).unwrap_or((0, 0, 0));
        let naive = date.and_hms_opt(h, m, s);
        return Some(naive.and_then(|n| ctx.zone.to_utc(&n)));
    }
    let (count, unit) = if let Some(c) = AGO_EN.captures(text) {
        let n = match c[1].to_ascii_lowercase().as_str() {
            "a" | "an" | "one" => 1,
            digits => digits.parse().ok()?,
        };
        let unit = c[2].to_ascii_lowercase();
        let unit = match unit.trim_end_matches('s') {
            "second" | "sec" => Unit::Second,
            "minute" | "min" => Unit::Minute,
            "hour" | "hr" => Unit::Hour,
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            _ => Unit::Year,
        };
        (f64::from(n), unit)
    } else if let Some(c) = AGO_CJK.captures(text) {
        let n = match &c[1] {
            "半" => 0.5,
            "一" => 1.0,
            "两" | "兩" => 2.0,
            digits => f64::from(digits.parse::<u32>().ok()?),
        };
        let unit = match &c[2] {
            "秒钟" | "秒鐘" | "秒" => Unit::Second,
            "分钟" | "分鐘" | "分" => Unit::Minute,
            "个小时" | "個小時" | "小时" | "小時" | "時間" => Unit::Hour,
            "天" | "日" => Unit::Day,
            "周" | "週間" | "週" | "星期" => Unit::Week,
            "年" => Unit::Year,
            _ => Unit::Month,
        };
        (n, unit)
    } else if let Some(c) = AGO_RU.captures(text) {
        let n: u32 = c[1].parse().ok()?;
        let unit = c[2].to_lowercase();
        let unit = if unit.starts_with("сек") {
            Unit::Second
        } else if unit.starts_with("мин") {
            Unit::Minute
        } else if unit.starts_with("час") {
            Unit::Hour
        } else if unit.starts_with("д") {
            Unit::Day
        } else if unit.starts_with("нед") {
            Unit::Week
        } else if unit.starts_with("мес") {
            Unit::Month
        } else {
            Unit::Year
        };
        (f64::from(n), unit)
    } else {
        return None;
    };
    let secs = count * unit.seconds();
    if !(0.0..=3.2e9).contains(&secs) {
        return Some(None);
    }
    // Whole seconds: `half an hour` is 1800 s exactly.
    Some(
        ctx.fetched_at
            .checked_sub_signed(Duration::seconds(secs as i64)),
    )
}

#[derive(Debug, Clone, Copy)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Unit {
    fn seconds(self) -> f64 {
        match self {
            Unit::Second => 1.0,
            Unit::Minute => 60.0,
            Unit::Hour => 3600.0,
            Unit::Day => 86_400.0,
            Unit::Week => 7.0 * 86_400.0,
            // Boards round these; 30 and 365 days are what they mean.
            Unit::Month => 30.0 * 86_400.0,
            Unit::Year => 365.0 * 86_400.0,
        }
    }
}

/// Forms that carry a year; the one that starts first in the text.
fn absolute(text: &str) -> Option<NaiveDateTime> {
    fn num(m: Option<regex::Match<'_>>) -> Option<u32> {
        m.and_then(|m| m.as_str().parse::<u32>().ok())
    }
    type Ymd = fn(&regex::Captures<'_>) -> Option<(u32, u32, u32)>;
    let forms: [(&Regex, Ymd); 5] = [
        (&YMD, |c| {
            Some((num(c.get(1))?, num(c.get(2))?, num(c.get(3))?))
        }),
        (&MDY, |c| {
            let (a, b) = (num(c.get(1))?, num(c.get(2))?);
            // US boards print month first; a first number above 12 is a day.
            let (mo, d) = if a > 12 { (b, a) } else { (a, b) };
            Some((num(c.get(3))?, mo, d))
        }),
        (&DMY_DOTS, |c| {
            Some((num(c.get(3))?, num(c.get(2))?, num(c.get(1))?))
        }),
        (&MONTH_DAY_YEAR, |c| {
            Some((num(c.get(3))?, month(&c[1])?, num(c.get(2))?))
        }),
        (&DAY_MONTH_YEAR, |c| {
            Some((num(c.get(3))?, month(&c[2])?, num(c.get(1))?))
        }),
    ];
    let (c, ymd) = forms
        .iter()
        .filter_map(|(re, ymd)| re.captures(text).map(|c| (c, ymd)))
        .min_by_key(|(c, _)| c.get(0).map_or(usize::MAX, |m| m.start()))?;
    let (y, mo, d) = ymd(&c)?;
    let (h, mi, s) = clock(&c, 4).unwrap_or((0, 0, 0));
    date_time(i32::try_from(y).ok()?, mo, d, h, mi, s)
}

/// Forms without a year (`08-29 19:17`, `8月29日`): the latest such date that
/// is not after the fetch (a day of slack for clock and zone skew).
fn year_less(text: &str, local_fetch: NaiveDateTime) -> Option<NaiveDateTime> {
    let num = |m: Option<regex::Match<'_>>| m.and_then(|m| m.as_str().parse::<u32>().ok());
    let (mo, d, (h, mi, s)) = if let Some(c) = MD_TIME.captures(text) {
        (num(c.get(1))?, num(c.get(2))?, clock(&c, 3)?)
    } else if let Some(c) = MD_CJK.captures(text) {
        (num(c.get(1))?, num(c.get(2))?, (0, 0, 0))
    } else {
        return None;
    };
    let year = local_fetch.year();
    let this_year = date_time(year, mo, d, h, mi, s);
    match this_year {
        Some(t) if t <= local_fetch + Duration::days(1) => Some(t),
        // Not yet this year (or 29 February of a common year): last year's.
        _ => date_time(year - 1, mo, d, h, mi, s),
    }
}

/// Hour, minute, second from the [`TIME`] groups starting at `first`.
fn clock(c: &regex::Captures<'_>, first: usize) -> Option<(u32, u32, u32)> {
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let mut h = num(first)?;
    let mi = num(first + 1)?;
    let s = num(first + 2).unwrap_or(0);
    if let Some(half) = c.get(first + 3) {
        let half = half.as_str().to_ascii_lowercase();
        let pm = half.starts_with('p') || half == "下午" || half == "午後";
        if pm && h < 12 {
            h += 12;
        } else if !pm && h == 12 {
            h = 0;
        }
    }
    Some((h, mi, s))
}

fn date_time(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, s)
}

fn month(name: &str) -> Option<u32> {
    const PREFIXES: &[(&str, u32)] = &[
        ("jan", 1),
        ("ene", 1),
        ("gen", 1),
        ("янв", 1),
        ("fév", 2),
        ("fev", 2),
        ("feb", 2),
        ("фев", 2),
        ("mar", 3),
        ("mär", 3),
        ("мар", 3),
        ("avr", 4),
        ("apr", 4),
        ("abr", 4),
        ("апр", 4),
        ("mai", 5),
        ("may", 5),
        ("mag", 5),
        ("май", 5),
        ("мая", 5),
        ("juin", 6),
        ("jun", 6),
        ("giu", 6),
        ("июн", 6),
        ("juil", 7),
        ("jul", 7),
        ("lug", 7),
        ("июл", 7),
        ("août", 8),
        ("aout", 8),
        ("aug", 8),
        ("ago", 8),
        ("авг", 8),
        ("sep", 9),
        ("set", 9),
        ("сен", 9),
        ("oct", 10),
        ("okt", 10),
        ("ott", 10),
        ("out", 10),
        ("окт", 10),
        ("nov", 11),
        ("ноя", 11),
        ("déc", 12),
        ("dec", 12),
        ("dez", 12),
        ("dic", 12),
        ("дек", 12),
    ];
    let name = name.to_lowercase();
    PREFIXES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2018-10-31 02:47 UTC (10:47 in Beijing): the `creation_time` of the
    /// saved 暗网中文网 pages.
    fn fetched() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 10, 31, 2, 47, 0)
            .single()
            .expect("valid time")
    }

    fn utc(text: &str, offset_h: i32) -> String {
        let ctx = DateContext {
            zone: SiteZone::from_offset_secs(offset_h * 3600).expect("offset"),
            fetched_at: fetched(),
        };
        parse_date(text, &ctx)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    #[test]
    fn forms_with_a_year() {
        assert_eq!(utc("2018年-8月-29日 19:16", 8), "2018-08-29T11:16:00Z");
        assert_eq!(
            utc("交易发布时间：2026年-11月-20日 19:16", 8),
            "2026-11-20T11:16:00Z"
        );
        assert_eq!(utc("2026/11/20(金) 19:16:03", 9), "2026-11-20T10:16:03Z");
        assert_eq!(utc("11-20-2026, 07:16 PM", 0), "2026-11-20T19:16:00Z");
        assert_eq!(utc("06-27-2023, 04:51 PM", 0), "2023-06-27T16:51:00Z");
        assert_eq!(utc("11-20-2026, 12:05 AM", 0), "2026-11-20T00:05:00Z");
        assert_eq!(utc("2026-11-20T19:16:00+09:00", 0), "2026-11-20T10:16:00Z");
        assert_eq!(utc("2018-08-29T19:16:00+0800", 0), "2018-08-29T11:16:00Z");
        assert_eq!(utc("2018-8-29 19:16", 8), "2018-08-29T11:16:00Z");
        assert_eq!(utc("Wed Aug 29, 2018 7:16 pm", 0), "2018-08-29T19:16:00Z");
        assert_eq!(utc("Aug 29, 2018 at 7:16 PM", 0), "2018-08-29T19:16:00Z");
        assert_eq!(
            utc("August 29, 2018, 07:16:22 PM", 0),
            "2018-08-29T19:16:22Z"
        );
        assert_eq!(utc("29 Aug 2018, 19:16", 3), "2018-08-29T16:16:00Z");
        assert_eq!(utc("29.08.2018, 19:16", 3), "2018-08-29T16:16:00Z");
        assert_eq!(utc("1535541360", 8), "2018-08-29T11:16:00Z");
        // The first date is the post's; an edit note after it is not.
        assert_eq!(
            utc(
                "April 03, 2021 at 01:41 PM This post was last modified: 11 hours ago",
                0
            ),
            "2021-04-03T13:41:00Z"
        );
        // Month names in other languages (a French phpBB, a Russian board).
        assert_eq!(utc("Mar 07 Juil 2015, 11:12", 2), "2015-07-07T09:12:00Z");
        assert_eq!(utc("» Lun 13 Avr 2020, 16:28", 0), "2020-04-13T16:28:00Z");
        assert_eq!(utc("12 März 2021, 08:00", 1), "2021-03-12T07:00:00Z");
        assert_eq!(utc("5 августа 2019, 10:00", 3), "2019-08-05T07:00:00Z");
        assert_eq!(utc("17 déc. 2019 à 10:00", 0), "2019-12-17T10:00:00Z");
    }

    #[test]
    fn year_less_forms_take_the_fetch_year() {
        assert_eq!(utc("08-29 19:17", 8), "2018-08-29T11:17:00Z");
        assert_eq!(utc("8月29日 19:17", 8), "2018-08-29T11:17:00Z");
        // December, fetched in October: last December.
        assert_eq!(utc("12-24 08:00", 8), "2017-12-24T00:00:00Z");
    }

    #[test]
    fn relative_forms_are_anchored_at_the_fetch() {
        assert_eq!(utc("4 minutes ago", 8), "2018-10-31T02:43:00Z");
        assert_eq!(utc("an hour ago", 0), "2018-10-31T01:47:00Z");
        assert_eq!(utc("3日前", 9), "2018-10-28T02:47:00Z");
        assert_eq!(utc("5 分钟前", 8), "2018-10-31T02:42:00Z");
        assert_eq!(utc("半小时前", 8), "2018-10-31T02:17:00Z");
        assert_eq!(utc("2時間前", 9), "2018-10-31T00:47:00Z");
        assert_eq!(utc("5 минут назад", 3), "2018-10-31T02:42:00Z");
        assert_eq!(utc("刚刚", 8), "2018-10-31T02:47:00Z");
        // 10:47 on the 31st in Beijing: yesterday is the 30th.
        assert_eq!(utc("昨天 13:20", 8), "2018-10-30T05:20:00Z");
        assert_eq!(utc("前天 13:20", 8), "2018-10-29T05:20:00Z");
        // In UTC-5 it is still the 30th at fetch time.
        assert_eq!(utc("Yesterday at 3:12 PM", -5), "2018-10-29T20:12:00Z");
        assert_eq!(utc("Today, 04:51 PM", 0), "2018-10-31T16:51:00Z");
        assert_eq!(utc("вчера в 13:20", 3), "2018-10-30T10:20:00Z");
    }

    #[test]
    fn non_dates() {
        assert_eq!(utc("posted a while ago", 0), "");
        assert_eq!(utc("2026年-13月-40日", 0), "");
        assert_eq!(utc("", 0), "");
        assert_eq!(utc("99999999999999999999 days ago", 0), "");
        assert_eq!(utc("Replies: 12", 0), "");
    }

    fn in_zone(text: &str, zone: &str, fetched_at: DateTime<Utc>) -> String {
        let ctx = DateContext {
            zone: SiteZone::parse(zone).expect("a zone"),
            fetched_at,
        };
        parse_date(text, &ctx)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    #[test]
    fn named_zones_follow_daylight_saving_time() {
        let summer = Utc
            .with_ymd_and_hms(2024, 7, 2, 12, 0, 0)
            .single()
            .expect("time");
        let winter = Utc
            .with_ymd_and_hms(2024, 1, 16, 12, 0, 0)
            .single()
            .expect("time");
        // New York: UTC−4 in summer, UTC−5 in winter.
        assert_eq!(
            in_zone("06-27-2024, 04:51 PM", "America/New_York", summer),
            "2024-06-27T20:51:00Z"
        );
        assert_eq!(
            in_zone("01-15-2024, 04:51 PM", "America/New_York", winter),
            "2024-01-15T21:51:00Z"
        );
        // Relative forms too: 昨天 in summer Berlin (UTC+2).
        assert_eq!(
            in_zone("昨天 13:20", "Europe/Berlin", summer),
            "2024-07-01T11:20:00Z"
        );
        // Moscow keeps +03:00 all year.
        assert_eq!(
            in_zone("2024-01-15 10:00", "Europe/Moscow", winter),
            "2024-01-15T07:00:00Z"
        );
        // The repeated hour when clocks go back: its first occurrence (EDT).
        assert_eq!(
            in_zone("2024-11-03 01:30", "America/New_York", winter),
            "2024-11-03T05:30:00Z"
        );
        // A time skipped when clocks go forward reads with the old offset.
        assert_eq!(
            in_zone("2024-03-10 02:30", "America/New_York", winter),
            "2024-03-10T07:30:00Z"
        );
        assert_eq!(SiteZone::parse("Mars/Olympus"), None);
        assert_eq!(
            SiteZone::parse("+09:00"),
            SiteZone::from_offset_secs(9 * 3600)
        );
    }
}
