//! One `VEVENT` read into what a timetable needs: its instants (DTSTART with DTEND or
//! DURATION, the recurrence set from RRULE and RDATE minus EXDATE), its status, its
//! RECURRENCE-ID when it overrides one occurrence of a series, and the people and places of
//! a lesson as Pronote writes them (`SUMMARY:Matière - Prof`, `DESCRIPTION:Matière : …\n
//! Professeur(s) : …\nSalle(s) : …\nGroupe(s) : …`). An event that is not a lesson (a whole
//! day, longer than a lesson, without duration) is a notice; one that cannot be read exactly
//! is refused with its reason. Instants are Unix seconds; the caller puts them on the school's
//! clock.

use domain::timetable::MAX_LESSON_MINUTES;
use jiff::tz::TimeZone;

use crate::timetable::PartyRef;
use crate::timetable::ical::content::{Component, Property, excerpt};
use crate::timetable::ical::recur::{Budget, Limits, Until, expand, parse_rule};
use crate::timetable::ical::values::{
    DAY, DateOrTime, Duration, parse_date_or_time, parse_duration, split_unescaped_commas, to_date,
    unescape_text,
};
use crate::timetable::ical::zones::{Zone, Zones};

/// The most occurrences one event may have inside the imported period.
pub(crate) const MAX_OCCURRENCES_PER_EVENT: usize = 3000;

/// The days of recurrence arithmetic one event may cost (a daily rule counted from 1990 is
/// about 13 000).
const EVENT_BUDGET: u64 = 500_000;

/// What one `VEVENT` is.
#[derive(Debug)]
pub(crate) struct EventRead {
    pub(crate) line: u64,
    pub(crate) uid: Option<String>,
    pub(crate) recurrence_id: Option<RecurrenceId>,
    pub(crate) sequence: i64,
    pub(crate) kind: EventKind,
}

#[derive(Debug)]
pub(crate) enum EventKind {
    Lesson(Lesson),
    /// Not a lesson, on purpose (French reason).
    Notice(String),
    /// Could not be read exactly (French reason).
    Rejected(String),
}

#[derive(Debug)]
pub(crate) struct Lesson {
    /// The clock of its DTSTART, to match a RECURRENCE-ID or EXDATE given as a date.
    pub(crate) zone: Zone,
    /// `(start, end)` instants, sorted, without duplicates.
    pub(crate) occurrences: Vec<(i64, i64)>,
    pub(crate) cancelled: bool,
    pub(crate) parties: Parties,
}

/// Which occurrence of a series an override replaces.
#[derive(Debug, Clone)]
pub(crate) struct RecurrenceId {
    pub(crate) at: Moment,
    /// `RANGE=THISANDFUTURE`, which this reader does not apply.
    pub(crate) this_and_future: bool,
    /// A stable text for the override's own key (`20260907T060000Z`).
    pub(crate) label: String,
}

/// A date (matched on the series' own clock) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moment {
    Date(i64),
    Instant(i64),
}

/// The subject, people and places of a lesson, as the file names them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Parties {
    pub(crate) subject: String,
    pub(crate) teachers: Vec<PartyRef>,
    pub(crate) classes: Vec<PartyRef>,
    pub(crate) groups: Vec<PartyRef>,
    pub(crate) rooms: Vec<PartyRef>,
}

/// What reading events needs from the file and the import.
pub(crate) struct Reader<'z> {
    pub(crate) school: Zone,
    pub(crate) zones: Zones<'z>,
    /// The imported days on the school's clock, widened by two days on each side.
    pub(crate) days: (i64, i64),
    pub(crate) budget: Budget,
}

impl Reader<'_> {
    pub(crate) fn read(&mut self, component: &Component) -> EventRead {
        let uid = text_of(component, "UID").filter(|uid| !uid.is_empty());
        let sequence = component
            .property("SEQUENCE")
            .and_then(|property| property.value.trim().parse().ok())
            .unwrap_or(0);
        let mut event = EventRead {
            line: component.line,
            uid,
            recurrence_id: None,
            sequence,
            kind: EventKind::Notice(String::new()),
        };
        event.kind = match self.classify(component, &mut event) {
            Ok(kind) => kind,
            Err(reason) => EventKind::Rejected(reason),
        };
        event
    }

    fn classify(
        &mut self,
        component: &Component,
        event: &mut EventRead,
    ) -> Result<EventKind, String> {
        if let Some((line, reason)) = component.errors.first() {
            return Err(format!("ligne {line} : {reason}"));
        }
        if !component.closed {
            return Err("END:VEVENT manquant".into());
        }
        if event.uid.is_none() {
            return Err(
                "UID manquant : l'évènement ne pourrait pas être suivi d'un export à l'autre"
                    .into(),
            );
        }
        let start = single(component, "DTSTART")?.ok_or("DTSTART manquant")?;
        let title = text_of(component, "SUMMARY").unwrap_or_default();

        let when = self.moment(start, &self.school.clone())?;
        let (zone, start_local, start_instant) = match when {
            Timed::Date(days) => return Ok(EventKind::Notice(all_day(&title, days))),
            Timed::At { zone, local, instant } => (zone, local, instant),
        };
        if let Some(property) = component.property("RECURRENCE-ID") {
            event.recurrence_id = Some(self.recurrence_id(property, &zone)?);
        }

        let length = self.length(component, &zone, start_instant)?;
        let seconds = length.exact_from(&zone, start_local, start_instant)?;
        if seconds < 0 {
            return Err("la fin (DTEND ou DURATION) précède le début (DTSTART)".into());
        }
        if seconds < 60 {
            return Ok(EventKind::Notice(format!(
                "« {} » : évènement sans durée, ce n'est pas une séance de cours",
                excerpt(&title)
            )));
        }
        if seconds > i64::from(MAX_LESSON_MINUTES) * 60 {
            return Ok(EventKind::Notice(format!(
                "« {} » : dure plus de {} heures, ce n'est pas une séance de cours",
                excerpt(&title),
                MAX_LESSON_MINUTES / 60
            )));
        }

        let starts = self.starts(component, &zone, start_local, event.recurrence_id.is_some())?;
        let mut occurrences = Vec::with_capacity(starts.len());
        for (local, end) in starts {
            let start = zone.to_instant(local).ok_or("date hors du calendrier")?;
            let end = match end {
                Some(end) => end,
                None => length.end_from(&zone, local, start)?,
            };
            occurrences.push((start, end));
        }
        self.remove_exceptions(component, &zone, &mut occurrences)?;
        occurrences.sort_unstable();
        occurrences.dedup();

        let cancelled = text_of(component, "STATUS")
            .is_some_and(|status| status.eq_ignore_ascii_case("CANCELLED"));
        let parties = parties(component, &title);
        Ok(EventKind::Lesson(Lesson { zone, occurrences, cancelled, parties }))
    }

    /// Reads a DATE or DATE-TIME property; floating times are on `floating`'s clock.
    fn moment(&mut self, property: &Property, floating: &Zone) -> Result<Timed, String> {
        read_moment(&property.value, property.param("TZID"), floating, &mut self.zones)
            .map_err(|reason| format!("{} : {reason}", property.name))
    }

    fn recurrence_id(&mut self, property: &Property, zone: &Zone) -> Result<RecurrenceId, String> {
        let this_and_future = property
            .param("RANGE")
            .is_some_and(|range| range.eq_ignore_ascii_case("THISANDFUTURE"));
        let (at, label) = match self.moment(property, zone)? {
            Timed::Date(days) => {
                (Moment::Date(days), to_date(days).map(|date| date.to_string()).unwrap_or_default())
            }
            Timed::At { instant, .. } => (Moment::Instant(instant), utc_label(instant)),
        };
        Ok(RecurrenceId { at, this_and_future, label })
    }

    fn length(&mut self, component: &Component, zone: &Zone, start: i64) -> Result<Length, String> {
        let end = single(component, "DTEND")?;
        let duration = single(component, "DURATION")?;
        match (end, duration) {
            (Some(_), Some(_)) => {
                Err("DTEND et DURATION ne peuvent pas être donnés ensemble".into())
            }
            (Some(end), None) => match self.moment(end, zone)? {
                Timed::Date(_) => Err("DTEND est une date alors que DTSTART a une heure".into()),
                Timed::At { instant, .. } => Ok(Length::Exact(instant - start)),
            },
            (None, Some(duration)) => parse_duration(&duration.value)
                .map(Length::Nominal)
                .ok_or_else(|| format!("DURATION illisible « {} »", excerpt(&duration.value))),
            (None, None) => Ok(Length::Exact(0)),
        }
    }

    /// The wall-clock starts of the recurrence set inside the days read, with the end of those
    /// given as a PERIOD.
    fn starts(
        &mut self,
        component: &Component,
        zone: &Zone,
        start_local: i64,
        is_override: bool,
    ) -> Result<Vec<(i64, Option<i64>)>, String> {
        let range = self.zone_days(zone);
        let rules: Vec<&Property> = component.all("RRULE").collect();
        if component.property("EXRULE").is_some() {
            return Err("EXRULE (abandonnée par la RFC 5545) n'est pas prise en charge".into());
        }
        if rules.len() > 1 {
            return Err(
                "plusieurs RRULE dans un même évènement ne sont pas prises en charge".into()
            );
        }
        let mut starts: Vec<(i64, Option<i64>)> = Vec::new();
        match rules.first() {
            Some(rule) if !is_override => {
                let rule = parse_rule(&rule.value).map_err(|reason| format!("RRULE : {reason}"))?;
                let until = match rule.until {
                    None => None,
                    Some(Until::Date(days)) => Some(days * DAY + DAY - 1),
                    Some(Until::Local(local)) => Some(local),
                    Some(Until::Utc(utc)) => {
                        Some(zone.to_local(utc).ok_or("UNTIL hors du calendrier")?)
                    }
                };
                let limits = Limits { max_occurrences: MAX_OCCURRENCES_PER_EVENT };
                let mut budget = Budget(self.budget.0.min(EVENT_BUDGET));
                let before = budget.0;
                let expanded = expand(&rule, start_local, until, range, limits, &mut budget);
                self.budget.0 = self.budget.0.saturating_sub(before - budget.0);
                starts.extend(
                    expanded
                        .map_err(|reason| format!("RRULE : {reason}"))?
                        .into_iter()
                        .map(|local| (local, None)),
                );
            }
            _ => starts.push((start_local, None)),
        }

        for property in component.all("RDATE") {
            for item in split_unescaped_commas(&property.value) {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                starts.push(self.rdate(property, item, zone, start_local)?);
            }
        }
        if starts.len() > MAX_OCCURRENCES_PER_EVENT {
            return Err(format!(
                "plus de {MAX_OCCURRENCES_PER_EVENT} occurrences dans la période importée"
            ));
        }
        Ok(starts)
    }

    fn rdate(
        &mut self,
        property: &Property,
        item: &str,
        zone: &Zone,
        start_local: i64,
    ) -> Result<(i64, Option<i64>), String> {
        let tzid = property.param("TZID");
        let (first, second) = match item.split_once('/') {
            Some((first, second)) => (first, Some(second)),
            None => (item, None),
        };
        let start = match read_moment(first, tzid, zone, &mut self.zones)
            .map_err(|r| format!("RDATE : {r}"))?
        {
            Timed::Date(days) => return Ok((days * DAY + start_local.rem_euclid(DAY), None)),
            Timed::At { instant, .. } => instant,
        };
        let local = zone.to_local(start).ok_or("RDATE hors du calendrier")?;
        let Some(second) = second else { return Ok((local, None)) };
        let end = if let Some(duration) = parse_duration(second) {
            Length::Nominal(duration).end_from(zone, local, start)?
        } else {
            match read_moment(second, tzid, zone, &mut self.zones)
                .map_err(|r| format!("RDATE : {r}"))?
            {
                Timed::At { instant, .. } => instant,
                Timed::Date(_) => {
                    return Err(format!("RDATE : période illisible « {} »", excerpt(item)));
                }
            }
        };
        if end <= start || end - start > i64::from(MAX_LESSON_MINUTES) * 60 {
            return Err(format!(
                "RDATE : la période « {} » n'est pas celle d'une séance",
                excerpt(item)
            ));
        }
        Ok((local, Some(end)))
    }

    fn remove_exceptions(
        &mut self,
        component: &Component,
        zone: &Zone,
        occurrences: &mut Vec<(i64, i64)>,
    ) -> Result<(), String> {
        let mut removed: Vec<Moment> = Vec::new();
        for property in component.all("EXDATE") {
            for item in split_unescaped_commas(&property.value) {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                match read_moment(item, property.param("TZID"), zone, &mut self.zones)
                    .map_err(|r| format!("EXDATE : {r}"))?
                {
                    Timed::Date(days) => removed.push(Moment::Date(days)),
                    Timed::At { instant, .. } => removed.push(Moment::Instant(instant)),
                }
            }
        }
        occurrences.retain(|(start, _)| !removed.iter().any(|moment| is_at(*moment, *start, zone)));
        Ok(())
    }

    /// The days read, on `zone`'s clock.
    fn zone_days(&self, zone: &Zone) -> (i64, i64) {
        let first = self.school.to_instant(self.days.0 * DAY).and_then(|at| zone.to_local(at));
        let last =
            self.school.to_instant(self.days.1 * DAY + DAY - 1).and_then(|at| zone.to_local(at));
        match (first, last) {
            (Some(first), Some(last)) => (first.div_euclid(DAY) - 1, last.div_euclid(DAY) + 1),
            _ => (self.days.0 - 2, self.days.1 + 2),
        }
    }
}

/// Whether an occurrence starting at `start` is the one `moment` names.
pub(crate) fn is_at(moment: Moment, start: i64, zone: &Zone) -> bool {
    match moment {
        Moment::Instant(instant) => instant == start,
        Moment::Date(days) => {
            zone.to_local(start).is_some_and(|local| local.div_euclid(DAY) == days)
        }
    }
}

/// A read DATE or DATE-TIME.
enum Timed {
    Date(i64),
    At { zone: Zone, local: i64, instant: i64 },
}

fn read_moment(
    value: &str,
    tzid: Option<&str>,
    floating: &Zone,
    zones: &mut Zones<'_>,
) -> Result<Timed, String> {
    let parsed = parse_date_or_time(value)
        .ok_or_else(|| format!("date illisible « {} »", excerpt(value)))?;
    let (local, utc) = match parsed {
        DateOrTime::Date(days) => return Ok(Timed::Date(days)),
        DateOrTime::Time { local, utc } => (local, utc),
    };
    let zone = match (utc, tzid) {
        (true, _) => Zone::Known(TimeZone::UTC),
        (false, Some(tzid)) => zones.resolve(tzid)?,
        (false, None) => floating.clone(),
    };
    let instant = zone.to_instant(local).ok_or("date hors du calendrier")?;
    Ok(Timed::At { zone, local, instant })
}

/// How long each occurrence lasts.
#[derive(Debug, Clone, Copy)]
enum Length {
    /// From DTEND: the same exact duration for every occurrence.
    Exact(i64),
    /// From DURATION: days on the wall clock, then exact seconds.
    Nominal(Duration),
}

impl Length {
    fn end_from(self, zone: &Zone, local: i64, start: i64) -> Result<i64, String> {
        match self {
            Length::Exact(seconds) => Ok(start + seconds),
            Length::Nominal(duration) if duration.days == 0 => Ok(start + duration.seconds),
            Length::Nominal(duration) => zone
                .to_instant(local + duration.days * DAY)
                .map(|day_later| day_later + duration.seconds)
                .ok_or_else(|| "durée hors du calendrier".into()),
        }
    }

    fn exact_from(self, zone: &Zone, local: i64, start: i64) -> Result<i64, String> {
        Ok(self.end_from(zone, local, start)? - start)
    }
}

fn single<'c>(component: &'c Component, name: &'c str) -> Result<Option<&'c Property>, String> {
    let mut all = component.all(name);
    let first = all.next();
    if all.next().is_some() {
        return Err(format!("{name} apparaît plusieurs fois"));
    }
    Ok(first)
}

fn text_of(component: &Component, name: &str) -> Option<String> {
    component.property(name).map(|property| unescape_text(&property.value).trim().to_string())
}

fn utc_label(instant: i64) -> String {
    jiff::Timestamp::from_second(instant)
        .map(|at| at.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|_| instant.to_string())
}

fn all_day(title: &str, days: i64) -> String {
    let date = to_date(days).map(|date| date.to_string()).unwrap_or_default();
    format!(
        "« {} » ({date}) : évènement sur la journée entière, ce n'est pas une séance de cours",
        excerpt(title)
    )
}

/// The subject, teachers, classes, groups and rooms of an event, Pronote's layout first.
fn parties(component: &Component, title: &str) -> Parties {
    let description = text_of(component, "DESCRIPTION").unwrap_or_default();
    let location = text_of(component, "LOCATION").unwrap_or_default();
    let mut parties = Parties::default();
    let mut subject = None;
    let mut rooms = None;

    for line in description.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match field(key).as_str() {
            "matiere" if !value.is_empty() => subject = Some(value.to_string()),
            "professeur" | "enseignant" => parties.teachers = list(value, teacher),
            "salle" => rooms = Some(list(value, labelled)),
            "groupe" => parties.groups = list(value, labelled),
            "classe" => parties.classes = list(value, labelled),
            _ => {}
        }
    }

    parties.subject = match subject {
        Some(subject) => subject,
        None if !parties.teachers.is_empty() => {
            title.rsplit_once(" - ").map_or(title, |(subject, _)| subject).trim().to_string()
        }
        None => title.to_string(),
    };
    if parties.subject.is_empty() {
        parties.subject = "Sans intitulé".into();
    }
    parties.rooms = match rooms {
        Some(rooms) if !rooms.is_empty() => rooms,
        _ if !location.is_empty() => vec![labelled(&location)],
        _ => Vec::new(),
    };
    parties
}

/// A description key reduced to compare: `Professeur(s)` and `Professeurs` are `professeur`.
fn field(key: &str) -> String {
    let key: String = key
        .trim()
        .to_lowercase()
        .replace("(s)", "")
        .chars()
        .map(|c| match c {
            'è' | 'é' | 'ê' => 'e',
            other => other,
        })
        .collect();
    let key = key.trim();
    key.strip_suffix('s').unwrap_or(key).to_string()
}

fn list(value: &str, item: fn(&str) -> PartyRef) -> Vec<PartyRef> {
    value.split([',', ';']).map(str::trim).filter(|part| !part.is_empty()).map(item).collect()
}

fn labelled(label: &str) -> PartyRef {
    PartyRef {
        file_id: label.trim().to_string(),
        label: label.trim().to_string(),
        ..PartyRef::default()
    }
}

/// A teacher written `NOM Prénom` (the usual French order in school software), best effort.
fn teacher(label: &str) -> PartyRef {
    const TITLES: [&str; 8] = ["M.", "M", "MR", "MR.", "MME", "MME.", "MLLE", "MLLE."];
    let words: Vec<&str> = label
        .split_whitespace()
        .skip_while(|word| TITLES.contains(&word.to_uppercase().as_str()))
        .collect();
    let is_initial = |word: &str| word.chars().count() <= 3 && word.ends_with('.');
    let is_upper = |word: &str| {
        word.chars().any(char::is_alphabetic)
            && !word.chars().any(char::is_lowercase)
            && !is_initial(word)
    };
    let upper = words.iter().take_while(|word| is_upper(word)).count();
    let split = match upper {
        0 if words.len() > 1 => 1,
        0 => words.len(),
        upper => upper,
    };
    PartyRef {
        file_id: label.trim().to_string(),
        external_id: None,
        last_name: words[..split].join(" "),
        first_name: words[split..].join(" "),
        label: label.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teachers_names_are_split_best_effort() {
        let names = |label: &str| {
            let party = teacher(label);
            (party.last_name, party.first_name)
        };
        assert_eq!(names("DUPONT Jean"), ("DUPONT".into(), "Jean".into()));
        assert_eq!(names("LE GALL Anne-Marie"), ("LE GALL".into(), "Anne-Marie".into()));
        assert_eq!(names("M. MARTIN P."), ("MARTIN".into(), "P.".into()));
        assert_eq!(names("Durand"), ("Durand".into(), String::new()));
        assert_eq!(names("ÉLOI Zoé"), ("ÉLOI".into(), "Zoé".into()));
    }

    #[test]
    fn description_keys_are_recognised_in_their_variants() {
        assert_eq!(field("Professeur(s) "), "professeur");
        assert_eq!(field("Matière"), "matiere");
        assert_eq!(field("Salles"), "salle");
        assert_eq!(field("Groupe(s)"), "groupe");
    }
}
