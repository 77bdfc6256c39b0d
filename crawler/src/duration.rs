//! Spans of time as people write them: a whole number and a unit (`90s`,
//! `30m`, `1h`, `7d`, `2w`). The one parser for site profiles, the service
//! configuration and the command line, so all three accept the same units.
//! Never calendar units: a month or a year has no fixed length.

use std::time::Duration;

/// Seconds in each unit a duration may be written in.
const UNITS: [(&str, u64); 5] = [
    ("s", 1),
    ("m", 60),
    ("h", 3600),
    ("d", 86_400),
    ("w", 7 * 86_400),
];

/// A text that is not a duration; its message says how to write one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a duration; write a whole number and a unit (s, m, h, d or w), e.g. \"90s\", \"30m\", \"1h\" or \"7d\"")]
pub struct DurationError {
    text: String,
}

/// Parses a whole number followed by a unit: `s` seconds, `m` minutes, `h`
/// hours, `d` days, `w` weeks (`"90s"`, `"30m"`, `"7 d"`). Zero, a missing
/// unit, a fraction and a span too long to represent are errors.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError {
        text: text.to_owned(),
    };
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let n: u64 = number.parse().map_err(|_| error())?;
    let (_, seconds) = UNITS
        .iter()
        .find(|(name, _)| *name == unit.trim())
        .ok_or_else(error)?;
    match n.checked_mul(*seconds) {
        Some(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_and_nothing_else() {
        let ok = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(ok("90s"), Ok(90));
        assert_eq!(ok("30m"), Ok(1800));
        assert_eq!(ok(" 1h "), Ok(3600));
        assert_eq!(ok("7d"), Ok(604_800));
        assert_eq!(ok("7 d"), Ok(604_800));
        assert_eq!(ok("2w"), Ok(1_209_600));
        for bad in [
            "", "90", "0s", "1.5h", "-1d", "7y", "1mo", "d", "h1", "7dd", "1D",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse_duration(&format!("{}w", u64::MAX / 2)).is_err());
        let message = parse_duration("7y").expect_err("no years").to_string();
        assert!(message.contains("\"7y\"") && message.contains("s, m, h, d or w"));
    }
}
