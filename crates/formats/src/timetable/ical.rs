//! iCalendar (RFC 5545) for timetables, both ways. [`parse`] reads the feed of a class's or a
//! teacher's timetable, Pronote's export or any other producer's, into one [`ParsedCourse`]
//! per series of events, every occurrence expanded inside the imported days and put on the
//! school's clock; [`write_feed`] writes the private feed each person subscribes to from
//! Google Calendar, Apple Calendar or Thunderbird.
//!
//! Reading is layered: `content` (lines, parameters, components), `values` (dates, durations,
//! text), `zones` (which clock a TZID names), `recur` (recurrence rules) and `events` (one
//! VEVENT); this file groups the events of a series (an override replaces the occurrence its
//! RECURRENCE-ID names) and turns instants into the school's dates and minutes. What is not a
//! lesson (a whole day, a task, an event longer than a lesson) is a notice, not an error.

mod content;
mod events;
mod feed;
mod recur;
mod values;
mod zones;

pub use feed::{FeedEvent, write_feed};

use std::collections::HashMap;

use domain::timetable::LessonTime;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::timetable::ical::content::{Component, read_document};
use crate::timetable::ical::events::{
    EventKind, EventRead, Lesson, Parties, Reader, RecurrenceId, is_at,
};
use crate::timetable::ical::recur::Budget;
use crate::timetable::ical::values::{DAY, from_date, to_date};
use crate::timetable::ical::zones::{Zone, Zones};
use crate::timetable::{
    CourseWhen, ParsedCourse, ParsedTimetable, Rejection, TimetableFileError, TimetableSource,
};

/// The most occurrences kept from one file.
pub const MAX_OCCURRENCES_PER_FILE: usize = 200_000;

/// The days of recurrence arithmetic one file may cost (a school year of daily events is a
/// few hundred per event).
const FILE_BUDGET: u64 = 50_000_000;

/// The most stray lines reported one by one.
const MAX_LINE_NOTICES: usize = 50;

/// Reads an iCalendar file (one or several VCALENDAR) of a class's or a teacher's timetable.
/// Occurrences are kept when their local date in `zone` (the school's) is inside `window`
/// (both days included).
pub fn parse(
    bytes: &[u8],
    file: &str,
    zone: &TimeZone,
    window: (Date, Date),
) -> Result<ParsedTimetable, TimetableFileError> {
    crate::timetable::refuse_other_format(bytes, file, TimetableSource::Ical)?;
    let document = read_document(bytes).map_err(|(line, reason)| TimetableFileError {
        file: file.to_string(),
        line,
        reason,
    })?;
    let mut report = Report { file: file.to_string(), ..Report::default() };
    if document.decoded_as_windows_1252 {
        report.notice(0, "", "le fichier n'est pas en UTF-8 : lu comme du Windows-1252".into());
    }
    for (line, reason) in document.stray_lines.iter().take(MAX_LINE_NOTICES) {
        report.notice(*line, "", format!("ligne ignorée : {reason}"));
    }

    let calendars: Vec<&Component> = document.components.iter().collect();
    let mut events = Vec::new();
    let mut definitions = Vec::new();
    for component in &calendars {
        if component.name != "VCALENDAR" {
            report.notice(
                component.line,
                "",
                format!("composant {} hors d'un VCALENDAR, ignoré", component.name),
            );
            continue;
        }
        for (line, reason) in component.errors.iter().take(MAX_LINE_NOTICES) {
            report.notice(*line, "", format!("ligne ignorée : {reason}"));
        }
        for child in &component.children {
            match child.name.as_str() {
                "VEVENT" => events.push(child),
                "VTIMEZONE" => definitions.push(child),
                "VTODO" | "VJOURNAL" | "VFREEBUSY" | "VAVAILABILITY" => {
                    report.notice(child.line, &uid_of(child), skipped_component(&child.name));
                }
                _ => {}
            }
        }
    }

    let days = (from_date(window.0), from_date(window.1));
    let mut reader = Reader {
        school: Zone::Known(zone.clone()),
        zones: Zones::new(definitions),
        days: (days.0.min(days.1), days.1.max(days.0)),
        budget: Budget(FILE_BUDGET),
    };
    let read: Vec<EventRead> = events.into_iter().map(|event| reader.read(event)).collect();
    let courses = assemble(read, &reader.school, reader.days, &mut report);
    report.rejections.sort_by_key(|entry| entry.line);
    report.notices.sort_by_key(|entry| entry.line);

    Ok(ParsedTimetable {
        source: TimetableSource::Ical,
        school_uai: None,
        first_monday: None,
        last_day: None,
        places: Vec::new(),
        courses,
        rejections: report.rejections,
        notices: report.notices,
    })
}

fn skipped_component(name: &str) -> String {
    let what = match name {
        "VTODO" => "une tâche (VTODO)",
        "VJOURNAL" => "une note de journal (VJOURNAL)",
        "VFREEBUSY" => "des disponibilités (VFREEBUSY)",
        _ => "des disponibilités (VAVAILABILITY)",
    };
    format!("{what} n'est pas une séance de cours : ignorée")
}

fn uid_of(component: &Component) -> String {
    component.property("UID").map(|uid| uid.value.trim().to_string()).unwrap_or_default()
}

#[derive(Debug, Default)]
struct Report {
    file: String,
    rejections: Vec<Rejection>,
    notices: Vec<Rejection>,
    occurrences: usize,
    out_of_window: usize,
}

impl Report {
    fn entry(&self, line: u64, record: &str, reason: String) -> Rejection {
        Rejection { file: self.file.clone(), line, record: record.to_string(), reason }
    }

    fn reject(&mut self, line: u64, record: &str, reason: String) {
        let entry = self.entry(line, record, reason);
        self.rejections.push(entry);
    }

    fn notice(&mut self, line: u64, record: &str, reason: String) {
        let entry = self.entry(line, record, reason);
        self.notices.push(entry);
    }
}

/// One occurrence on its way to the school's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Occurrence {
    start: i64,
    end: i64,
    cancelled: bool,
}

/// A course being built: a series, or an override that changes more than the time.
struct Draft {
    line: u64,
    key: String,
    parties: Parties,
    occurrences: Vec<Occurrence>,
}

/// Groups the events of each UID into courses, applies overrides, and reports the rest.
fn assemble(
    read: Vec<EventRead>,
    school: &Zone,
    days: (i64, i64),
    report: &mut Report,
) -> Vec<ParsedCourse> {
    let mut masters: Vec<(EventRead, Lesson)> = Vec::new();
    let mut master_of: HashMap<String, usize> = HashMap::new();
    let mut overrides: HashMap<String, Vec<(EventRead, RecurrenceId)>> = HashMap::new();
    let mut refused_series: HashMap<String, String> = HashMap::new();

    for mut event in read {
        let uid = event.uid.clone().unwrap_or_default();
        let kind = std::mem::replace(&mut event.kind, EventKind::Notice(String::new()));
        if let Some(recurrence_id) = event.recurrence_id.take() {
            event.kind = kind;
            overrides.entry(uid).or_default().push((event, recurrence_id));
            continue;
        }
        match kind {
            EventKind::Rejected(reason) => {
                refused_series.insert(uid.clone(), "la série est refusée".into());
                report.reject(event.line, &uid, reason);
            }
            EventKind::Notice(reason) => {
                refused_series.insert(uid.clone(), "la série n'est pas une séance".into());
                report.notice(event.line, &uid, reason);
            }
            EventKind::Lesson(lesson) => match master_of.get(&uid).copied() {
                Some(index) if masters[index].0.sequence >= event.sequence => {
                    let first = masters[index].0.line;
                    report.reject(
                        event.line,
                        &uid,
                        format!("UID déjà utilisé ligne {first} : doublon ignoré"),
                    );
                }
                Some(index) => {
                    let replaced = masters[index].0.line;
                    report.notice(
                        replaced,
                        &uid,
                        format!(
                            "remplacé par la version plus récente (SEQUENCE) de la ligne {}",
                            event.line
                        ),
                    );
                    masters[index] = (event, lesson);
                }
                None => {
                    master_of.insert(uid, masters.len());
                    masters.push((event, lesson));
                }
            },
        }
    }

    let mut drafts = Vec::new();
    for (event, lesson) in masters {
        let uid = event.uid.clone().unwrap_or_default();
        let series_overrides = overrides.remove(&uid).unwrap_or_default();
        if let Some((change, _)) = series_overrides.iter().find(|(_, id)| id.this_and_future) {
            let reason = format!(
                "la modification de la ligne {} vaut pour toutes les occurrences suivantes \
                 (RANGE=THISANDFUTURE), ce qui n'est pas pris en charge",
                change.line
            );
            report.reject(event.line, &uid, reason);
            continue;
        }
        drafts.extend(apply_overrides(event, lesson, series_overrides, report));
    }

    let mut orphans: Vec<(EventRead, RecurrenceId)> = overrides.into_values().flatten().collect();
    orphans.sort_by_key(|(event, _)| event.line);
    for (event, recurrence_id) in orphans {
        let uid = event.uid.clone().unwrap_or_default();
        if let Some(why) = refused_series.get(&uid) {
            report.notice(
                event.line,
                &uid,
                format!("modification d'une occurrence ignorée : {why}"),
            );
            continue;
        }
        match event.kind {
            EventKind::Lesson(lesson) => {
                drafts.push(override_draft(&uid, event.line, &recurrence_id, lesson))
            }
            EventKind::Notice(reason) => report.notice(event.line, &uid, reason),
            EventKind::Rejected(reason) => report.reject(event.line, &uid, reason),
        }
    }

    drafts.sort_by_key(|draft| draft.line);
    let courses: Vec<ParsedCourse> =
        drafts.into_iter().filter_map(|draft| finish(draft, school, days, report)).collect();
    if report.out_of_window > 0 {
        let (first, last) = (to_date(days.0), to_date(days.1));
        let period = match (first, last) {
            (Some(first), Some(last)) => format!(" (du {first} au {last})"),
            _ => String::new(),
        };
        let count = report.out_of_window;
        report.notice(
            0,
            "",
            format!(
                "{count} évènement(s) sans séance dans la période importée{period} : ignoré(s)"
            ),
        );
    }
    courses
}

/// Applies the overrides of one series: each removes the occurrence its RECURRENCE-ID names,
/// and brings its own occurrence, in the series when only the time changes, as a course of
/// its own when the subject, people or rooms change.
fn apply_overrides(
    event: EventRead,
    lesson: Lesson,
    mut series_overrides: Vec<(EventRead, RecurrenceId)>,
    report: &mut Report,
) -> Vec<Draft> {
    let uid = event.uid.clone().unwrap_or_default();
    let mut series = Draft {
        line: event.line,
        key: uid.clone(),
        parties: lesson.parties.clone(),
        occurrences: occurrences(&lesson),
    };
    let mut drafts = Vec::new();
    series_overrides.sort_by_key(|(event, _)| event.line);

    for (change, recurrence_id) in series_overrides {
        series
            .occurrences
            .retain(|occurrence| !is_at(recurrence_id.at, occurrence.start, &lesson.zone));
        match change.kind {
            EventKind::Lesson(moved) if moved.parties == lesson.parties => {
                series.occurrences.extend(occurrences(&moved));
            }
            EventKind::Lesson(changed) => {
                drafts.push(override_draft(&uid, change.line, &recurrence_id, changed));
            }
            EventKind::Notice(reason) => report.notice(
                change.line,
                &uid,
                format!("occurrence retirée de la série : {reason}"),
            ),
            EventKind::Rejected(reason) => report.reject(
                change.line,
                &uid,
                format!("occurrence retirée de la série : {reason}"),
            ),
        }
    }
    series.occurrences.sort_unstable();
    series.occurrences.dedup();
    drafts.insert(0, series);
    drafts
}

fn override_draft(uid: &str, line: u64, recurrence_id: &RecurrenceId, lesson: Lesson) -> Draft {
    Draft {
        line,
        key: format!("{uid}#{}", recurrence_id.label),
        occurrences: occurrences(&lesson),
        parties: lesson.parties,
    }
}

fn occurrences(lesson: &Lesson) -> Vec<Occurrence> {
    lesson
        .occurrences
        .iter()
        .map(|(start, end)| Occurrence { start: *start, end: *end, cancelled: lesson.cancelled })
        .collect()
}

/// Puts a draft's occurrences on the school's clock, keeps those inside the days read, and
/// makes the course (`None` when nothing is left, or when it is refused).
fn finish(
    draft: Draft,
    school: &Zone,
    days: (i64, i64),
    report: &mut Report,
) -> Option<ParsedCourse> {
    let mut kept = Vec::new();
    let mut cancelled = Vec::new();
    for occurrence in &draft.occurrences {
        let (Some(start), Some(end)) =
            (school.to_local(occurrence.start), school.to_local(occurrence.end))
        else {
            report.reject(draft.line, &draft.key, "date hors du calendrier".into());
            return None;
        };
        let day = start.div_euclid(DAY);
        if day < days.0 || day > days.1 {
            continue;
        }
        let start_minute = (start - day * DAY) / 60;
        let end_minute = (end - day * DAY + 59).div_euclid(60);
        let time = u16::try_from(start_minute)
            .ok()
            .zip(u16::try_from(end_minute).ok())
            .ok_or_else(|| "horaire impossible".to_string())
            .and_then(|(start, end)| {
                LessonTime::new(start, end).map_err(|error| error.to_string())
            });
        let (time, date) = match (time, to_date(day)) {
            (Ok(time), Some(date)) => (time, date),
            (Err(reason), date) => {
                let date = date.map(|date| date.to_string()).unwrap_or_default();
                report.reject(draft.line, &draft.key, format!("séance du {date} : {reason}"));
                return None;
            }
            (Ok(_), None) => {
                report.reject(draft.line, &draft.key, "date hors du calendrier".into());
                return None;
            }
        };
        kept.push((date, time));
        if occurrence.cancelled {
            cancelled.push((date, time));
        }
    }

    if kept.is_empty() {
        report.out_of_window += 1;
        return None;
    }
    if report.occurrences + kept.len() > MAX_OCCURRENCES_PER_FILE {
        report.reject(
            draft.line,
            &draft.key,
            format!("le fichier dépasse {MAX_OCCURRENCES_PER_FILE} séances : évènement ignoré"),
        );
        return None;
    }
    report.occurrences += kept.len();
    kept.sort_unstable();
    kept.dedup();
    cancelled.sort_unstable();
    cancelled.dedup();

    let parties = draft.parties;
    Some(ParsedCourse {
        line: draft.line,
        key: draft.key,
        subject_code: None,
        subject_label: parties.subject,
        teachers: parties.teachers,
        classes: parties.classes,
        groups: parties.groups,
        rooms: parties.rooms,
        when: CourseWhen::Dated { occurrences: kept, cancelled },
    })
}
