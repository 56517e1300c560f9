//! Préau's calendar feed: one VCALENDAR that Google Calendar, Apple Calendar and Thunderbird
//! subscribe to. Times are written on the lesson's own wall clock with its IANA `TZID`, and a
//! VTIMEZONE per zone lists every change of clocks over the events' range (taken from jiff's
//! database), so that a client without that zone still shows 08:00 on both sides of a change.
//! Text is escaped and lines folded at 75 octets (never inside a UTF-8 character), with CRLF
//! line ends, as RFC 5545 requires.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// One occurrence of a lesson, as the feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// Stable across versions of the feed (one per occurrence).
    pub uid: String,
    /// Bumped whenever the occurrence changes.
    pub sequence: i64,
    /// The IANA name of the school's zone.
    pub zone: String,
    pub start: DateTime,
    pub end: DateTime,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub cancelled: bool,
    pub last_modified: Timestamp,
}

/// The longest content line, in octets, before folding.
const LINE_OCTETS: usize = 75;

/// Margin around the events' range when listing changes of clocks.
const RANGE_MARGIN_SECONDS: i64 = 7 * 86_400;

/// The most observances written per zone (a feed spans a few years at most).
const MAX_OBSERVANCES: usize = 400;

/// Writes the feed: `calendar_name` is what the client shows, `now` the DTSTAMP.
pub fn write_feed(calendar_name: &str, events: &[FeedEvent], now: Timestamp) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Préau//Emploi du temps//FR".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", escape(calendar_name)),
    ];
    let zones = zones_used(events);
    if let Some((name, _)) = zones.first() {
        lines.push(format!("X-WR-TIMEZONE:{}", escape(name)));
    }
    lines.push("REFRESH-INTERVAL;VALUE=DURATION:PT1H".into());
    lines.push("X-PUBLISHED-TTL:PT1H".into());

    for (name, zone) in &zones {
        if let Some(zone) = zone {
            let range = instant_range(events, name, zone);
            lines.extend(vtimezone(name, zone, range));
        }
    }
    for event in events {
        let known = zones.iter().any(|(name, zone)| name == &event.zone && zone.is_some());
        lines.extend(vevent(event, known, now));
    }
    lines.push("END:VCALENDAR".into());

    let mut out = String::new();
    for line in lines {
        fold_into(&mut out, &line);
    }
    out
}

/// The zones of the events in order of first use, with jiff's zone when it knows the name.
fn zones_used(events: &[FeedEvent]) -> Vec<(String, Option<TimeZone>)> {
    let mut zones: Vec<(String, Option<TimeZone>)> = Vec::new();
    for event in events {
        if !zones.iter().any(|(name, _)| name == &event.zone) {
            let zone = iana_name(&event.zone).then(|| TimeZone::get(&event.zone).ok()).flatten();
            zones.push((event.zone.clone(), zone));
        }
    }
    zones
}

/// Whether a name can be written as a TZID parameter without quoting and looked up safely.
fn iana_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.contains("..")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c))
}

/// The first start and last end of the events of `name`, as instants.
fn instant_range(events: &[FeedEvent], name: &str, zone: &TimeZone) -> (Timestamp, Timestamp) {
    let instants = events.iter().filter(|event| event.zone == name).flat_map(|event| {
        [event.start, event.end]
            .into_iter()
            .filter_map(|at| zone.to_ambiguous_timestamp(at).compatible().ok())
    });
    let (mut first, mut last) = (Timestamp::MAX, Timestamp::MIN);
    for instant in instants {
        first = first.min(instant);
        last = last.max(instant);
    }
    if first > last {
        return (Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH);
    }
    let widen = |at: Timestamp, seconds: i64| {
        Timestamp::from_second(at.as_second().saturating_add(seconds)).unwrap_or(at)
    };
    (widen(first, -RANGE_MARGIN_SECONDS), widen(last, RANGE_MARGIN_SECONDS))
}

/// A VTIMEZONE with the observance in force at the range's start and every change inside it.
fn vtimezone(name: &str, zone: &TimeZone, (first, last): (Timestamp, Timestamp)) -> Vec<String> {
    let mut lines = vec!["BEGIN:VTIMEZONE".to_string(), format!("TZID:{name}")];
    let info = zone.to_offset_info(first);
    let current = info.offset();
    // An onset before 1970 (often from local mean time, with seconds) is written as a plain
    // observance from 1970: the range never reaches back that far.
    let recent = zone.preceding(first).next().filter(|onset| onset.timestamp().as_second() >= 0);
    match recent {
        Some(onset) => {
            let before = offset_before(zone, onset.timestamp());
            let before = if before.seconds() % 60 == 0 { before } else { current };
            lines.extend(observance(
                info.dst().is_dst(),
                before.to_datetime(onset.timestamp()),
                before,
                current,
                info.abbreviation(),
            ));
        }
        None => lines.extend(observance(
            info.dst().is_dst(),
            DateTime::constant(1970, 1, 1, 0, 0, 0, 0),
            current,
            current,
            info.abbreviation(),
        )),
    }

    let mut previous = current;
    for change in
        zone.following(first).take_while(|change| change.timestamp() <= last).take(MAX_OBSERVANCES)
    {
        lines.extend(observance(
            change.dst().is_dst(),
            previous.to_datetime(change.timestamp()),
            previous,
            change.offset(),
            change.abbreviation(),
        ));
        previous = change.offset();
    }
    lines.push("END:VTIMEZONE".into());
    lines
}

fn offset_before(zone: &TimeZone, at: Timestamp) -> Offset {
    let just_before = Timestamp::from_second(at.as_second().saturating_sub(1)).unwrap_or(at);
    zone.to_offset(just_before)
}

fn observance(
    daylight: bool,
    start: DateTime,
    from: Offset,
    to: Offset,
    name: &str,
) -> Vec<String> {
    let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{}", civil(start)),
        format!("TZOFFSETFROM:{}", offset(from)),
        format!("TZOFFSETTO:{}", offset(to)),
    ];
    if !name.is_empty() {
        lines.push(format!("TZNAME:{}", escape(name)));
    }
    lines.push(format!("END:{kind}"));
    lines
}

fn vevent(event: &FeedEvent, zone_known: bool, now: Timestamp) -> Vec<String> {
    let time = |property: &str, at: DateTime| {
        if zone_known {
            format!("{property};TZID={}:{}", event.zone, civil(at))
        } else {
            format!("{property}:{}", civil(at))
        }
    };
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", escape(&event.uid)),
        format!("DTSTAMP:{}", utc(now)),
        format!("LAST-MODIFIED:{}", utc(event.last_modified)),
        format!("SEQUENCE:{}", event.sequence.max(0)),
        time("DTSTART", event.start),
        time("DTEND", event.end),
        format!("SUMMARY:{}", escape(&event.summary)),
    ];
    if !event.location.is_empty() {
        lines.push(format!("LOCATION:{}", escape(&event.location)));
    }
    if !event.description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", escape(&event.description)));
    }
    if event.cancelled {
        lines.push("STATUS:CANCELLED".into());
        lines.push("TRANSP:TRANSPARENT".into());
    } else {
        lines.push("STATUS:CONFIRMED".into());
        lines.push("TRANSP:OPAQUE".into());
    }
    lines.push("END:VEVENT".into());
    lines
}

/// `20260907T080000`.
fn civil(at: DateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        at.year().max(0),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// `20260907T060000Z`.
fn utc(at: Timestamp) -> String {
    format!("{}Z", civil(Offset::UTC.to_datetime(at)))
}

/// `+0100`, or `+013000` when the offset has seconds.
fn offset(offset: Offset) -> String {
    let seconds = offset.seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.unsigned_abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if rest == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{rest:02}")
    }
}

/// A TEXT value escaped (RFC 5545 section 3.3.11); control characters other than line breaks
/// and tabs are dropped.
fn escape(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets, each physical line ended by CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = LINE_OCTETS;
    loop {
        if rest.len() <= limit {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = LINE_OCTETS - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_lines_short_and_characters_whole() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "é🎒a".repeat(40));
        fold_into(&mut out, &line);
        for physical in out.split("\r\n").filter(|physical| !physical.is_empty()) {
            assert!(physical.len() <= LINE_OCTETS, "{} octets", physical.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a,b;c\\d\r\ne\nf\u{7}"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn offsets_are_written_with_seconds_only_when_needed() {
        assert_eq!(offset(Offset::constant(1)), "+0100");
        assert_eq!(offset(Offset::constant(-5)), "-0500");
        assert_eq!(offset(Offset::from_seconds(-(3 * 3600 + 30 * 60)).unwrap()), "-0330");
        assert_eq!(offset(Offset::from_seconds(13_332).unwrap()), "+034212");
    }
}
