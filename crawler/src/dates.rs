//! Parsing of the posted-time strings that forums and markets print
//! (`2018年-8月-29日 19:16`, `2026/11/20(金) 19:16:03`, `11-20-2026, 07:16 PM`,
//! ISO 8601) into UTC, given the site's UTC offset.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use regex::Regex;

static YMD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(\d{4})\s*(?:年\s*-?|[/.-])\s*(\d{1,2})\s*(?:月\s*-?|[/.-])\s*(\d{1,2})\s*日?(?:\s*\([^)]*\))?(?:[\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?",
    )
    .expect("YMD pattern is valid")
});
static MDY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,2})-(\d{1,2})-(\d{4}),?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?)?",
    )
    .expect("MDY pattern is valid")
});

/// Parses a posted time; `utc_offset_secs` is the site's local offset.
/// Returns `None` when no known form is found.
pub fn parse_posted_at(text: &str, utc_offset_secs: i32) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text.trim()) {
        return Some(dt.with_timezone(&Utc));
    }
    let tz = FixedOffset::east_opt(utc_offset_secs)?;
    let num = |m: Option<regex::Match<'_>>| m.and_then(|m| m.as_str().parse::<u32>().ok());
    let (y, mo, d, h, mi, s) = if let Some(c) = YMD.captures(text) {
        (
            num(c.get(1))? as i32,
            num(c.get(2))?,
            num(c.get(3))?,
            num(c.get(4)).unwrap_or(0),
            num(c.get(5)).unwrap_or(0),
            num(c.get(6)).unwrap_or(0),
        )
    } else if let Some(c) = MDY.captures(text) {
        let mut h = num(c.get(4)).unwrap_or(0);
        match c.get(7).map(|m| m.as_str().to_ascii_lowercase()) {
            Some(ref p) if p == "pm" && h < 12 => h += 12,
            Some(ref p) if p == "am" && h == 12 => h = 0,
            _ => {}
        }
        (
            num(c.get(3))? as i32,
            num(c.get(1))?,
            num(c.get(2))?,
            h,
            num(c.get(5)).unwrap_or(0),
            num(c.get(6)).unwrap_or(0),
        )
    } else {
        return None;
    };
    let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, s)?;
    tz.from_local_datetime(&naive)
        .single()
        .map(|dt| dt.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str, offset_h: i32) -> String {
        parse_posted_at(text, offset_h * 3600)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    }

    #[test]
    fn forms_seen_on_boards() {
        assert_eq!(utc("2018年-8月-29日 19:16", 8), "2018-08-29T11:16:00+00:00");
        assert_eq!(
            utc("交易发布时间：2026年-11月-20日 19:16", 8),
            "2026-11-20T11:16:00+00:00"
        );
        assert_eq!(
            utc("2026/11/20(金) 19:16:03", 9),
            "2026-11-20T10:16:03+00:00"
        );
        assert_eq!(utc("11-20-2026, 07:16 PM", 0), "2026-11-20T19:16:00+00:00");
        assert_eq!(utc("11-20-2026, 12:05 AM", 0), "2026-11-20T00:05:00+00:00");
        assert_eq!(
            utc("2026-11-20T19:16:00+09:00", 0),
            "2026-11-20T10:16:00+00:00"
        );
        assert_eq!(utc("posted a while ago", 0), "");
        assert_eq!(utc("2026年-13月-40日", 0), "");
    }
}
