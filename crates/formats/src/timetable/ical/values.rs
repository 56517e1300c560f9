//! The value types of iCalendar that timetables use, read without panicking: DATE
//! (`20260907`), DATE-TIME (`20260907T080000`, with `Z` for UTC), DURATION (`PT1H30M`,
//! `P1W`), UTC-OFFSET (`+0100`), PERIOD and escaped TEXT. Civil dates and times are counted
//! here as plain numbers (days since 1970-01-01, seconds since its midnight) so that the
//! recurrence arithmetic never overflows or panics; [`to_date`] and [`local_datetime`] hand
//! them to jiff at the edges.

use jiff::civil::{Date, DateTime};

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;

/// The first and last years a value may name (jiff's civil range is wider; these are plenty).
const YEARS: std::ops::RangeInclusive<i64> = 1..=9999;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The year, month and day of a day number.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// 0 for Monday … 6 for Sunday.
pub(crate) fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

pub(crate) fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day number of a valid date, `None` otherwise.
pub(crate) fn checked_days(year: i64, month: i64, day: i64) -> Option<i64> {
    let valid = YEARS.contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day);
    valid.then(|| days_from_civil(year, month, day))
}

/// The jiff date of a day number, if inside jiff's range.
pub(crate) fn to_date(days: i64) -> Option<Date> {
    let (year, month, day) = civil_from_days(days);
    Date::new(i16::try_from(year).ok()?, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The day number of a jiff date.
pub(crate) fn from_date(date: Date) -> i64 {
    days_from_civil(i64::from(date.year()), i64::from(date.month()), i64::from(date.day()))
}

/// The jiff civil date-time of local seconds (seconds since 1970-01-01T00:00 on the wall clock).
pub(crate) fn local_datetime(local: i64) -> Option<DateTime> {
    let days = local.div_euclid(DAY);
    let seconds = local.rem_euclid(DAY);
    let date = to_date(days)?;
    let time = jiff::civil::Time::new(
        i8::try_from(seconds / 3600).ok()?,
        i8::try_from(seconds % 3600 / 60).ok()?,
        i8::try_from(seconds % 60).ok()?,
        0,
    )
    .ok()?;
    Some(date.to_datetime(time))
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A DATE value as a day number.
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() != 8 || !text.is_ascii() {
        return None;
    }
    checked_days(digits(&text[..4])?, digits(&text[4..6])?, digits(&text[6..8])?)
}

/// A DATE-TIME value as local seconds, and whether it ends in `Z` (UTC).
pub(crate) fn parse_datetime(text: &str) -> Option<(i64, bool)> {
    let text = text.trim();
    let (text, utc) = match text.strip_suffix(['Z', 'z']) {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    if text.len() != 15 || !text.is_ascii() || !matches!(text.as_bytes()[8], b'T' | b't') {
        return None;
    }
    let days = parse_date(&text[..8])?;
    let (hour, minute, second) =
        (digits(&text[9..11])?, digits(&text[11..13])?, digits(&text[13..15])?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // A leap second is read as the last second of its minute.
    let second = second.min(59);
    Some((days * DAY + hour * 3600 + minute * 60 + second, utc))
}

/// A DATE or DATE-TIME value, whichever its shape is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateOrTime {
    Date(i64),
    Time { local: i64, utc: bool },
}

pub(crate) fn parse_date_or_time(text: &str) -> Option<DateOrTime> {
    if let Some(days) = parse_date(text) {
        return Some(DateOrTime::Date(days));
    }
    parse_datetime(text).map(|(local, utc)| DateOrTime::Time { local, utc })
}

/// A DURATION: nominal days (weeks counted as 7 days) and exact seconds, with a sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Duration {
    pub(crate) days: i64,
    pub(crate) seconds: i64,
}

/// The longest duration read: ten years. Longer ones are refused rather than overflowing.
const MAX_DURATION_DAYS: i64 = 3653;

pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim().to_ascii_uppercase();
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text.as_str()),
    };
    let rest = rest.strip_prefix('P')?;
    let mut duration = Duration::default();
    let mut in_time = false;
    let mut number = String::new();
    let mut seen_unit = false;

    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let value: i64 = if number.len() > 12 { return None } else { digits(&number)? };
                number.clear();
                seen_unit = true;
                match (c, in_time) {
                    ('W', false) => {
                        duration.days = duration.days.checked_add(value.checked_mul(7)?)?
                    }
                    ('D', false) => duration.days = duration.days.checked_add(value)?,
                    ('H', true) => duration.seconds = duration.seconds.checked_add(value * 3600)?,
                    ('M', true) => duration.seconds = duration.seconds.checked_add(value * 60)?,
                    ('S', true) => duration.seconds = duration.seconds.checked_add(value)?,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    if !number.is_empty() || !seen_unit {
        return None;
    }
    if duration.days + duration.seconds / DAY > MAX_DURATION_DAYS {
        return None;
    }
    if negative {
        duration.days = -duration.days;
        duration.seconds = -duration.seconds;
    }
    Some(duration)
}

/// A UTC-OFFSET (`+0100`, `-0330`, `+013000`) in seconds, under 24 hours.
pub(crate) fn parse_offset(text: &str) -> Option<i64> {
    let text = text.trim();
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &text[1..];
    if !(rest.len() == 4 || rest.len() == 6) || !rest.is_ascii() {
        return None;
    }
    let hours = digits(&rest[..2])?;
    let minutes = digits(&rest[2..4])?;
    let seconds = if rest.len() == 6 { digits(&rest[4..6])? } else { 0 };
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60 + seconds))
}

/// A TEXT value with its backslash escapes undone (`\n`, `\N`, `\,`, `\;`, `\\`).
pub(crate) fn unescape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a list value on the commas that are not escaped.
pub(crate) fn split_unescaped_commas(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            ',' if !escaped => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => escaped = false,
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_across_centuries() {
        for days in [-719_162, -1, 0, 59, 10_957, 20_000, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(weekday(days_from_civil(2026, 9, 7)), 0, "7 September 2026 is a Monday");
    }

    #[test]
    fn dates_and_times_are_checked() {
        assert_eq!(parse_date("20240229"), Some(days_from_civil(2024, 2, 29)));
        assert_eq!(parse_date("20230229"), None);
        assert_eq!(parse_date("2024-02-2"), None);
        assert_eq!(
            parse_datetime("20260907T080000Z"),
            Some((days_from_civil(2026, 9, 7) * DAY + 28_800, true))
        );
        assert_eq!(parse_datetime("20261307T080000"), None);
        assert_eq!(parse_datetime("20260907T250000"), None);
        assert_eq!(parse_datetime("INVALID-DATE"), None);
        assert_eq!(parse_datetime("2026090７T080000"), None);
    }

    #[test]
    fn durations_are_read_and_absurd_ones_refused() {
        assert_eq!(parse_duration("PT1H30M"), Some(Duration { days: 0, seconds: 5400 }));
        assert_eq!(parse_duration("P1W"), Some(Duration { days: 7, seconds: 0 }));
        assert_eq!(parse_duration("-P1DT2H"), Some(Duration { days: -1, seconds: -7200 }));
        assert_eq!(parse_duration("P999999999999999999W"), None);
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("P1H"), None);
    }

    #[test]
    fn offsets_and_text_are_read() {
        assert_eq!(parse_offset("+0100"), Some(3600));
        assert_eq!(parse_offset("-0330"), Some(-12_600));
        assert_eq!(parse_offset("+5744"), None);
        assert_eq!(unescape_text(r"a\, b\; c\nd\Ne\\f\"), "a, b; c\nd\ne\\f\\");
        assert_eq!(split_unescaped_commas(r"a\,b,c"), vec![r"a\,b", "c"]);
    }
}
