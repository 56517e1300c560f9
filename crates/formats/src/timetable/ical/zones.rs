//! Which clock a time of the file is read on. A `TZID` is looked up, in order, as an IANA name
//! (jiff's database), as a common Windows name ("Romance Standard Time" is `Europe/Paris`), as
//! a `VTIMEZONE` of the file whose `STANDARD`/`DAYLIGHT` observances are expanded like any
//! recurrence, and finally as an IANA name hidden in a longer identifier
//! (`/mozilla.org/20050126_1/Europe/Paris`, `posix/Europe/Vaduz`, `X-LIC-LOCATION`). A name
//! none of these explains is refused, so that no time is ever read on a guessed clock.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::timetable::ical::content::Component;
use crate::timetable::ical::recur::{Budget, Limits, Rule, Until, expand, parse_rule};
use crate::timetable::ical::values::{
    DAY, civil_from_days, days_from_civil, local_datetime, parse_date, parse_datetime,
    parse_offset, split_unescaped_commas,
};

/// A clock: a zone of jiff's database, or the rules of a `VTIMEZONE` of the file.
#[derive(Debug, Clone)]
pub(crate) enum Zone {
    Known(TimeZone),
    Custom(Rc<CustomZone>),
}

impl Zone {
    /// The instant (Unix seconds) of a wall-clock time (local seconds). A time skipped by a
    /// change of clocks moves forward by the gap; a repeated one is taken the first time.
    pub(crate) fn to_instant(&self, local: i64) -> Option<i64> {
        match self {
            Zone::Known(zone) => {
                let datetime = local_datetime(local)?;
                let instant = zone.to_ambiguous_timestamp(datetime).compatible().ok()?;
                Some(instant.as_second())
            }
            Zone::Custom(zone) => zone.to_instant(local),
        }
    }

    /// The wall-clock time (local seconds) of an instant.
    pub(crate) fn to_local(&self, instant: i64) -> Option<i64> {
        match self {
            Zone::Known(zone) => {
                let timestamp = Timestamp::from_second(instant).ok()?;
                Some(instant + i64::from(zone.to_offset(timestamp).seconds()))
            }
            Zone::Custom(zone) => Some(instant + zone.offset_at(instant)),
        }
    }
}

/// The zones of one file, resolved once each.
pub(crate) struct Zones<'a> {
    definitions: HashMap<String, &'a Component>,
    cache: HashMap<String, Result<Zone, String>>,
}

impl<'a> Zones<'a> {
    /// The `VTIMEZONE` components of the file, by `TZID`.
    pub(crate) fn new(definitions: impl IntoIterator<Item = &'a Component>) -> Zones<'a> {
        let mut map = HashMap::new();
        for component in definitions {
            if let Some(tzid) = component.property("TZID") {
                map.entry(tzid.value.trim().to_string()).or_insert(component);
            }
        }
        Zones { definitions: map, cache: HashMap::new() }
    }

    /// The clock a `TZID` names, or why it cannot be read.
    pub(crate) fn resolve(&mut self, tzid: &str) -> Result<Zone, String> {
        let tzid = tzid.trim();
        if let Some(known) = self.cache.get(tzid) {
            return known.clone();
        }
        let resolved = self.lookup(tzid);
        self.cache.insert(tzid.to_string(), resolved.clone());
        resolved
    }

    fn lookup(&self, tzid: &str) -> Result<Zone, String> {
        if let Some(zone) = iana(tzid) {
            return Ok(Zone::Known(zone));
        }
        if let Some(zone) = windows_zone(tzid).and_then(iana) {
            return Ok(Zone::Known(zone));
        }

        let definition = self.definitions.get(tzid).copied().or_else(|| {
            self.definitions
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(tzid))
                .map(|(_, component)| *component)
        });
        let custom = definition.map(CustomZone::from_component);
        if let Some(Ok(zone)) = custom {
            return Ok(Zone::Custom(Rc::new(zone)));
        }

        let location = definition.and_then(|component| component.property("X-LIC-LOCATION"));
        let embedded = location
            .and_then(|location| iana(location.value.trim()))
            .or_else(|| embedded_iana(tzid));
        if let Some(zone) = embedded {
            return Ok(Zone::Known(zone));
        }
        Err(match custom {
            Some(Err(reason)) => {
                format!("fuseau horaire « {tzid} » : VTIMEZONE inutilisable ({reason})")
            }
            _ => format!("fuseau horaire « {tzid} » inconnu et sans VTIMEZONE dans le fichier"),
        })
    }
}

/// A zone of jiff's database, refusing names that look like paths.
fn iana(name: &str) -> Option<TimeZone> {
    let plausible = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('/')
        && !name.contains("..")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
    if !plausible {
        return None;
    }
    TimeZone::get(name).ok()
}

/// An IANA name at the end of a longer identifier.
fn embedded_iana(tzid: &str) -> Option<TimeZone> {
    let segments: Vec<&str> = tzid.split('/').filter(|segment| !segment.is_empty()).collect();
    (1..=segments.len().min(3)).rev().find_map(|take| {
        let name = segments[segments.len() - take..].join("/");
        if take == 1 && !matches!(name.as_str(), "UTC" | "GMT") {
            return None;
        }
        iana(&name)
    })
}

/// The IANA zone of the Windows zone names met in the calendars of French schools and of
/// the software they exchange with.
fn windows_zone(name: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("Romance Standard Time", "Europe/Paris"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Central Europe Standard Time", "Europe/Budapest"),
        ("Central European Standard Time", "Europe/Warsaw"),
        ("GMT Standard Time", "Europe/London"),
        ("Greenwich Standard Time", "Atlantic/Reykjavik"),
        ("UTC", "UTC"),
        ("Coordinated Universal Time", "UTC"),
        ("E. Europe Standard Time", "Europe/Chisinau"),
        ("FLE Standard Time", "Europe/Kyiv"),
        ("GTB Standard Time", "Europe/Bucharest"),
        ("Russian Standard Time", "Europe/Moscow"),
        ("Turkey Standard Time", "Europe/Istanbul"),
        ("Morocco Standard Time", "Africa/Casablanca"),
        ("W. Central Africa Standard Time", "Africa/Lagos"),
        ("South Africa Standard Time", "Africa/Johannesburg"),
        ("E. Africa Standard Time", "Africa/Nairobi"),
        ("Egypt Standard Time", "Africa/Cairo"),
        ("Israel Standard Time", "Asia/Jerusalem"),
        ("Arabian Standard Time", "Asia/Dubai"),
        ("Mauritius Standard Time", "Indian/Mauritius"),
        ("India Standard Time", "Asia/Kolkata"),
        ("SE Asia Standard Time", "Asia/Bangkok"),
        ("Singapore Standard Time", "Asia/Singapore"),
        ("China Standard Time", "Asia/Shanghai"),
        ("Tokyo Standard Time", "Asia/Tokyo"),
        ("Korea Standard Time", "Asia/Seoul"),
        ("AUS Eastern Standard Time", "Australia/Sydney"),
        ("Central Pacific Standard Time", "Pacific/Guadalcanal"),
        ("New Zealand Standard Time", "Pacific/Auckland"),
        ("Fiji Standard Time", "Pacific/Fiji"),
        ("Hawaiian Standard Time", "Pacific/Honolulu"),
        ("Marquesas Standard Time", "Pacific/Marquesas"),
        ("Alaskan Standard Time", "America/Anchorage"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("Mountain Standard Time", "America/Denver"),
        ("US Mountain Standard Time", "America/Phoenix"),
        ("Central Standard Time", "America/Chicago"),
        ("Canada Central Standard Time", "America/Regina"),
        ("Eastern Standard Time", "America/New_York"),
        ("Atlantic Standard Time", "America/Halifax"),
        ("SA Western Standard Time", "America/La_Paz"),
        ("SA Eastern Standard Time", "America/Cayenne"),
        ("Newfoundland Standard Time", "America/St_Johns"),
        ("Saint Pierre Standard Time", "America/Miquelon"),
        ("Greenland Standard Time", "America/Nuuk"),
        ("Azores Standard Time", "Atlantic/Azores"),
        ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ];
    NAMES
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name.trim()))
        .map(|(_, iana)| *iana)
}

/// One `STANDARD` or `DAYLIGHT` block: from its onsets on, the offset is `to`.
#[derive(Debug, Clone)]
struct Observance {
    /// Wall-clock onset, on the clock in force before it (`from`).
    start: i64,
    rule: Option<Rule>,
    dates: Vec<i64>,
    from: i64,
    to: i64,
}

/// The onsets of one year as `(instant, offset after)`, sorted.
type Onsets = Vec<(i64, i64)>;

/// A zone defined by the file's own `VTIMEZONE`.
#[derive(Debug)]
pub(crate) struct CustomZone {
    observances: Vec<Observance>,
    first_year: i64,
    /// Per year, computed when first needed.
    years: RefCell<HashMap<i64, Rc<Onsets>>>,
}

impl CustomZone {
    fn from_component(component: &Component) -> Result<CustomZone, String> {
        let mut observances = Vec::new();
        for child in &component.children {
            if child.name != "STANDARD" && child.name != "DAYLIGHT" {
                continue;
            }
            observances.push(observance(child)?);
        }
        let first = observances.iter().map(|observance| observance.start).min();
        let first = first.ok_or("ni STANDARD ni DAYLIGHT")?;
        Ok(CustomZone {
            first_year: civil_from_days(first.div_euclid(DAY)).0,
            observances,
            years: RefCell::new(HashMap::new()),
        })
    }

    /// The offset in force at an instant: that of the latest onset at or before it.
    fn offset_at(&self, instant: i64) -> i64 {
        let year = civil_from_days(instant.div_euclid(DAY)).0;
        let mut candidate = year + 1;
        while candidate >= self.first_year - 1 {
            let onsets = self.onsets(candidate);
            if let Some((_, to)) = onsets.iter().rev().find(|(at, _)| *at <= instant) {
                return *to;
            }
            candidate -= 1;
        }
        self.observances.iter().min_by_key(|observance| observance.start).map_or(0, |o| o.to)
    }

    fn to_instant(&self, local: i64) -> Option<i64> {
        let mut offsets: Vec<i64> = self
            .observances
            .iter()
            .flat_map(|observance| [observance.from, observance.to])
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let valid = offsets
            .iter()
            .map(|offset| local - offset)
            .filter(|instant| self.offset_at(*instant) == local - instant);
        if let Some(earliest) = valid.min() {
            return Some(earliest);
        }
        Some(local - self.offset_at(local - DAY))
    }

    fn onsets(&self, year: i64) -> Rc<Onsets> {
        if let Some(known) = self.years.borrow().get(&year) {
            return Rc::clone(known);
        }
        let range = (days_from_civil(year, 1, 1), days_from_civil(year, 12, 31));
        let mut onsets = Vec::new();
        for observance in &self.observances {
            let mut locals: Vec<i64> = observance
                .dates
                .iter()
                .chain(std::iter::once(&observance.start))
                .copied()
                .filter(|local| (range.0..=range.1).contains(&local.div_euclid(DAY)))
                .collect();
            if let Some(rule) = &observance.rule {
                let until = rule.until.map(|until| match until {
                    Until::Date(days) => days * DAY + DAY - 1,
                    Until::Local(local) => local,
                    Until::Utc(utc) => utc + observance.from,
                });
                let limits = Limits { max_occurrences: 400 };
                let expanded =
                    expand(rule, observance.start, until, range, limits, &mut Budget(200_000));
                locals.extend(expanded.unwrap_or_default());
            }
            onsets.extend(locals.into_iter().map(|local| (local - observance.from, observance.to)));
        }
        onsets.sort_unstable();
        onsets.dedup();
        let onsets = Rc::new(onsets);
        self.years.borrow_mut().insert(year, Rc::clone(&onsets));
        onsets
    }
}

fn observance(child: &Component) -> Result<Observance, String> {
    let start = child
        .property("DTSTART")
        .and_then(|property| parse_datetime(&property.value))
        .map(|(local, _)| local)
        .ok_or_else(|| format!("{} sans DTSTART lisible", child.name))?;
    let offset = |name: &str| {
        child
            .property(name)
            .and_then(|property| parse_offset(&property.value))
            .ok_or_else(|| format!("{} : {name} manquant ou illisible", child.name))
    };
    let (from, to) = (offset("TZOFFSETFROM")?, offset("TZOFFSETTO")?);
    let rule = match child.property("RRULE") {
        Some(property) => Some(parse_rule(&property.value)?),
        None => None,
    };

    let mut dates = Vec::new();
    for property in child.all("RDATE") {
        for item in split_unescaped_commas(&property.value) {
            let item = item.split('/').next().unwrap_or_default();
            if let Some((local, _)) = parse_datetime(item) {
                dates.push(local);
            } else if let Some(days) = parse_date(item) {
                dates.push(days * DAY + start.rem_euclid(DAY));
            }
        }
    }
    Ok(Observance { start, rule, dates, from, to })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timetable::ical::content::read_document;

    const NEW_YORK: &str = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:custom\nBEGIN:DAYLIGHT\n\
        DTSTART:20070311T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\nTZOFFSETFROM:-0500\n\
        TZOFFSETTO:-0400\nEND:DAYLIGHT\nBEGIN:STANDARD\nDTSTART:20071104T020000\n\
        RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\n\
        END:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n";

    #[test]
    fn a_custom_vtimezone_agrees_with_the_iana_zone_it_copies() {
        let document = read_document(NEW_YORK.as_bytes()).unwrap();
        let mut zones = Zones::new(document.components[0].children.iter());
        let custom = zones.resolve("custom").unwrap();
        let known = Zone::Known(TimeZone::get("America/New_York").unwrap());
        for (month, day, hour) in
            [(1, 15, 8), (3, 8, 1), (3, 8, 2), (3, 8, 3), (7, 1, 8), (11, 1, 1), (11, 1, 3)]
        {
            let local = days_from_civil(2026, month, day) * DAY + hour * 3600;
            assert_eq!(custom.to_instant(local), known.to_instant(local), "{month}-{day} {hour}h");
            let instant = known.to_instant(local).unwrap();
            assert_eq!(custom.to_local(instant), known.to_local(instant));
        }
    }

    #[test]
    fn names_resolve_in_order_and_unknown_ones_are_refused() {
        let mut zones = Zones::new(std::iter::empty());
        assert!(matches!(zones.resolve("Europe/Paris"), Ok(Zone::Known(_))));
        let paris = zones.resolve("Romance Standard Time").unwrap();
        let Zone::Known(paris) = paris else { panic!("a Windows name maps to a known zone") };
        assert_eq!(paris.iana_name(), Some("Europe/Paris"));
        assert!(zones.resolve("/mozilla.org/20050126_1/Europe/Paris").is_ok());
        assert!(zones.resolve("Western/Central Europe").unwrap_err().contains("inconnu"));
        assert!(zones.resolve("../../etc/passwd").is_err());
    }
}
