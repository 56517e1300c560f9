//! The timetable pages: the viewer's own timetable and those of a pupil, a class, a room or a
//! teacher, by day or by week, printable (`views.rs`); the school's picker of classes, rooms
//! and teachers (`picker.rs`); the change of one occurrence by the school's administrators
//! (`changes.rs`); the import of a timetable file and its report (`import.rs`); the private
//! calendar feeds and their `.ics` (`feeds.rs`); the "Aujourd'hui" card of the home page
//! (`home.rs`); the département's form of the schools' coordinates (`places.rs`).
//!
//! Who may see which timetable is decided by the SQL of `store::timetable` (anything else is
//! the ordinary 404); this module reads requests, computes "today" in the subject's time zone
//! (never the server's), turns occurrences into French view structs and renders them. This
//! file holds what the submodules share: the routes, dates in French, the lesson view and the
//! conflicts box of a teacher's merged timetable.

mod changes;
mod feeds;
mod home;
mod import;
mod picker;
mod places;
mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use domain::timetable::{Conflict, LessonTime, Span, TravelPolicy, conflicts};
use jiff::civil::{self, Date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use store::timetable::{Occurrence, Timetable, TimetableSubject};

use crate::AppState;
use crate::error::{AppError, percent_encode};
use crate::session::Viewer;

pub(crate) use home::{HomeCard, home_card};

/// The most days one store query covers (`Store::timetable`'s limit).
const MAX_QUERY_DAYS: i64 = store::timetable::MAX_VIEW_DAYS;

/// The timetable routes, merged into the application's router by `lib.rs`. The import form
/// gets its own body limit (it carries a file); every other route keeps the site's.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/emploi-du-temps", get(views::own))
        .route("/emploi-du-temps/eleve/{id}", get(views::pupil))
        .route("/emploi-du-temps/classe/{id}", get(views::class))
        .route("/emploi-du-temps/salle/{id}", get(views::room))
        .route("/emploi-du-temps/enseignant/{id}", get(views::teacher))
        .route("/emploi-du-temps/etablissement/{uai}", get(picker::page))
        .route("/emploi-du-temps/agendas", get(feeds::list).post(feeds::create))
        .route("/emploi-du-temps/agendas/{id}/revocation", post(feeds::revoke))
        .route("/agenda/{file}", get(feeds::ics))
        .route(
            "/etablissement/{uai}/seances/{course_id}/{date}",
            get(changes::form).post(changes::save),
        )
        .route(
            "/etablissement/{uai}/emploi-du-temps",
            get(import::form).post(import::upload).layer(DefaultBodyLimit::max(import::MAX_BODY)),
        )
        .route("/departement/coordonnees", get(places::form).post(places::save))
}

/// A zone by name; Europe/Paris for a name the database of zones does not know.
pub(crate) fn zone(name: &str) -> TimeZone {
    TimeZone::get(name)
        .or_else(|_| TimeZone::get(domain::time_zone::DEFAULT_ZONE))
        .unwrap_or(TimeZone::UTC)
}

/// The local date of instant `now` in zone `zone_name`: at 23:30 in Paris it is still today
/// there, whatever the server's clock says.
pub(crate) fn today_in(now: Timestamp, zone_name: &str) -> Date {
    now.to_zoned_datetime(zone(zone_name)).date()
}

const WEEKDAYS: [&str; 7] =
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];

/// `lundi 2 mars 2026` (`1er` for the first of a month).
pub(crate) fn french_date(date: Date) -> String {
    format!("{} {}", french_day(date), date.year())
}

/// `lundi 2 mars`, without the year.
pub(crate) fn french_day(date: Date) -> String {
    let weekday = WEEKDAYS[usize::from(domain::timetable::weekday_number(date) - 1)];
    let day = match date.day() {
        1 => "1er".to_owned(),
        day => day.to_string(),
    };
    let month = crate::messages::MONTHS[usize::from(date.month().unsigned_abs()).clamp(1, 12) - 1];
    format!("{weekday} {day} {month}")
}

/// An instant as French text in a zone (« 1er mars 2026 à 8 h 05 »).
pub(crate) fn french_datetime_of(unix: i64, zone_name: &str) -> String {
    crate::news::french_datetime(unix, zone_name).0
}

/// A zone as French readers know it: the city of the zones of `domain::time_zone` (« Nouméa »
/// for `Pacific/Noumea`), else the IANA name itself.
pub(crate) fn zone_city(name: &str) -> &str {
    match name {
        "Europe/Paris" => "Paris",
        "America/Guadeloupe" => "la Guadeloupe",
        "America/Martinique" => "la Martinique",
        "America/Cayenne" => "Cayenne",
        "Indian/Reunion" => "La Réunion",
        "America/Miquelon" => "Saint-Pierre-et-Miquelon",
        "Indian/Mayotte" => "Mayotte",
        "America/St_Barthelemy" => "Saint-Barthélemy",
        "America/Marigot" => "Saint-Martin",
        "Pacific/Wallis" => "Wallis-et-Futuna",
        "Pacific/Tahiti" => "Tahiti",
        "Pacific/Noumea" => "Nouméa",
        other => other,
    }
}

/// « heure de Nouméa » next to a lesson's time when its collège's zone is not the page's (a
/// teacher of collèges in several zones); `None` in the page's own zone.
pub(crate) fn zone_note(lesson_zone: &str, page_zone: &str) -> Option<String> {
    (lesson_zone != page_zone).then(|| format!("heure de {}", zone_city(lesson_zone)))
}

/// `08:05–09:00`.
fn clock_range(time: LessonTime) -> String {
    format!("{}–{}", LessonTime::clock(time.start_minute), LessonTime::clock(time.end_minute))
}

/// The local civil date and time `minute` minutes after the local midnight of `date` (a
/// minute past 1440 is on the next day).
pub(crate) fn civil_at(date: Date, minute: u16) -> civil::DateTime {
    let days = i64::from(minute / domain::timetable::MINUTES_PER_DAY);
    let minute = minute % domain::timetable::MINUTES_PER_DAY;
    let date = date.checked_add(days.days()).unwrap_or(date);
    let time = civil::Time::new(
        i8::try_from(minute / 60).unwrap_or(0),
        i8::try_from(minute % 60).unwrap_or(0),
        0,
        0,
    )
    .unwrap_or(civil::Time::midnight());
    date.to_datetime(time)
}

/// Reads `YYYY-MM-DD` (what date fields send) or `dd/mm/yyyy`, within years 2000 to 2100.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let date = text.parse::<Date>().ok().or_else(|| Date::strptime("%d/%m/%Y", text).ok())?;
    (2000..=2100).contains(&date.year()).then_some(date)
}

/// `date` moved by `days` days, or `date` itself at the ends of the calendar.
pub(crate) fn shift(date: Date, days: i64) -> Date {
    date.checked_add(days.days()).unwrap_or(date)
}

/// The subject's occurrences from `from` to `to`, asked in chunks the store accepts; what the
/// store kept is used when the caller read the `generations` with its session.
pub(crate) async fn load(
    state: &AppState,
    viewer_id: &str,
    subject: &TimetableSubject,
    (from, to): (Date, Date),
    generations: Option<store::cache::Generations>,
) -> Result<Timetable, AppError> {
    let mut start = from;
    let mut all: Option<Timetable> = None;
    loop {
        let end = shift(start, MAX_QUERY_DAYS - 1).min(to);
        let part = match generations {
            Some(generations) => {
                state.store.timetable_kept(viewer_id, subject, start, end, generations).await?
            }
            None => state.store.timetable(viewer_id, subject, start, end).await?,
        };
        match &mut all {
            None => all = Some(part),
            Some(all) => all.occurrences.extend(part.occurrences),
        }
        if end >= to {
            break;
        }
        start = shift(end, 1);
    }
    all.ok_or(AppError::NotFound)
}

/// One lesson as a page shows it, changes spelled out.
pub(crate) struct LessonView {
    pub(crate) start: String,
    pub(crate) end: String,
    pub(crate) start_iso: String,
    pub(crate) end_iso: String,
    pub(crate) subject: String,
    pub(crate) teachers: String,
    pub(crate) rooms: String,
    pub(crate) audience: String,
    /// The collège's name, shown in a teacher's merged timetable and on home cards.
    pub(crate) school: String,
    pub(crate) cancelled: bool,
    pub(crate) exam: bool,
    /// « Déplacé du lundi 2 mars, 08:00–09:00 ».
    pub(crate) moved_from: Option<String>,
    pub(crate) room_changed: Option<String>,
    pub(crate) substitute: Option<String>,
    pub(crate) note: String,
    /// The change form, for the administrators of the course's school.
    pub(crate) edit_href: Option<String>,
    /// « heure de Nouméa » when the lesson's collège is in another zone than the page's.
    pub(crate) zone_note: Option<String>,
}

impl LessonView {
    /// Whether anything differs from the course's plan.
    pub(crate) fn changed(&self) -> bool {
        self.cancelled
            || self.exam
            || self.moved_from.is_some()
            || self.room_changed.is_some()
            || self.substitute.is_some()
            || !self.note.is_empty()
    }

    /// The view of an occurrence; `edit_from` is the view the change form comes back to, set
    /// when the viewer administers the occurrence's school.
    pub(crate) fn of(occurrence: &Occurrence, viewer: &Viewer, edit_from: Option<&str>) -> Self {
        let zone = zone(&occurrence.time_zone);
        let iso =
            |at: Timestamp| at.to_zoned_datetime(zone.clone()).strftime("%FT%T%:z").to_string();
        let change = occurrence.change.as_ref();
        let mut teachers: Vec<String> =
            occurrence.teachers.iter().map(|t| t.name.clone()).collect();
        teachers.extend(occurrence.unmatched_teachers.iter().cloned());
        let mut audience = occurrence.classes.clone();
        audience.extend(occurrence.groups.iter().cloned());
        let edit_href =
            edit_from.filter(|_| administers(viewer, &occurrence.school_uai)).map(|from| {
                format!(
                    "/etablissement/{}/seances/{}/{}?retour={}",
                    percent_encode(&occurrence.school_uai),
                    percent_encode(&occurrence.course_id),
                    occurrence.original_date,
                    percent_encode(from)
                )
            });
        LessonView {
            start: LessonTime::clock(occurrence.time.start_minute),
            end: LessonTime::clock(occurrence.time.end_minute),
            start_iso: iso(occurrence.start),
            end_iso: iso(occurrence.end),
            subject: occurrence.subject_label.clone(),
            teachers: teachers.join(", "),
            rooms: occurrence.rooms.iter().map(|r| room_label(r)).collect::<Vec<_>>().join(", "),
            audience: audience.join(", "),
            school: occurrence.school_name.clone(),
            cancelled: change.is_some_and(|c| c.cancelled),
            exam: change.is_some_and(|c| c.exam),
            moved_from: change.and_then(|c| c.moved_from).map(|(date, time)| {
                format!("Déplacé du {}, {}", french_day(date), clock_range(time))
            }),
            room_changed: change.and_then(|c| c.new_room.clone()),
            substitute: change.and_then(|c| c.substitute.as_ref()).map(|t| t.name.clone()),
            note: change.map(|c| c.note.clone()).unwrap_or_default(),
            edit_href,
            zone_note: None,
        }
    }

    /// The view with its zone named when it is not `page_zone` (merged timetables).
    pub(crate) fn in_page_zone(mut self, occurrence: &Occurrence, page_zone: &str) -> Self {
        self.zone_note = zone_note(&occurrence.time_zone, page_zone);
        self
    }
}

/// A room as a lesson names it: « Salle B2 » for a bare code, « Labo 3 » or « Salle 12 » as
/// written when the name says what it is.
fn room_label(name: &str) -> String {
    if name.trim().contains(' ') {
        name.trim().to_owned()
    } else {
        format!("Salle {}", name.trim())
    }
}

/// Whether the viewer administers the school with this UAI (or the département).
pub(crate) fn administers(viewer: &Viewer, uai: &str) -> bool {
    viewer.facts.departement_admin || viewer.facts.administered.iter().any(|s| s.uai == uai)
}

/// The conflicts of a teacher's merged timetable in French: overlaps and transfers between
/// collèges shorter than the trip (cancelled lessons left out).
pub(crate) fn conflict_lines(occurrences: &[Occurrence], travel: &TravelPolicy) -> Vec<String> {
    let kept: Vec<&Occurrence> =
        occurrences.iter().filter(|o| !o.change.as_ref().is_some_and(|c| c.cancelled)).collect();
    let spans: Vec<Span> = kept
        .iter()
        .enumerate()
        .map(|(index, o)| Span {
            key: index.to_string(),
            school_id: o.school_id.clone(),
            start: o.start,
            end: o.end,
            place: o.school_place,
        })
        .collect();
    let describe = |o: &Occurrence| {
        format!(
            "{} ({}, {}, {})",
            o.subject_label,
            o.school_name,
            french_day(o.date),
            clock_range(o.time)
        )
    };

    conflicts(&spans, travel)
        .into_iter()
        .map(|conflict| match conflict {
            Conflict::Overlap { first, second } => {
                format!("Chevauchement : {} et {}", describe(kept[first]), describe(kept[second]))
            }
            Conflict::ShortTransfer { first, second, available_minutes, needed_minutes } => {
                let (a, b) = (kept[first], kept[second]);
                format!(
                    "Trajet trop court : {available_minutes} min entre {} et {}, il en faut \
                     {needed_minutes} ({}, fin à {} puis début à {})",
                    a.school_name,
                    b.school_name,
                    french_day(b.date),
                    LessonTime::clock(a.time.end_minute),
                    LessonTime::clock(b.time.start_minute)
                )
            }
        })
        .collect()
}

/// Refuses ids that cannot be one (wrong characters, too long) as a page that does not exist.
pub(crate) fn plausible_id(id: &str) -> Result<(), AppError> {
    let plausible = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plausible { Ok(()) } else { Err(AppError::NotFound) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn today_is_the_schools_at_half_past_eleven_in_the_evening() {
        // 23:30 in Paris on 2 March 2026 is 22:30 UTC: still the 2nd in Paris, already the 3rd
        // in La Réunion and in Nouméa.
        let now: Timestamp = "2026-03-02T22:30:00Z".parse().unwrap();
        assert_eq!(today_in(now, "Europe/Paris"), date(2026, 3, 2));
        assert_eq!(today_in(now, "Indian/Reunion"), date(2026, 3, 3));
        assert_eq!(today_in(now, "Pacific/Noumea"), date(2026, 3, 3));
        // 18:30 in Paris in summer is 16:30 UTC.
        let evening: Timestamp = "2026-06-15T16:30:00Z".parse().unwrap();
        assert_eq!(today_in(evening, "Europe/Paris"), date(2026, 6, 15));
    }

    #[test]
    fn dates_are_written_in_french() {
        assert_eq!(french_date(date(2026, 3, 2)), "lundi 2 mars 2026");
        assert_eq!(french_day(date(2026, 3, 1)), "dimanche 1er mars");
        assert_eq!(parse_date("02/03/2026"), Some(date(2026, 3, 2)));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("1900-01-01"), None);
    }

    fn lesson(school: &str, date: Date, start: u16, end: u16) -> Occurrence {
        let time = LessonTime::new(start, end).unwrap();
        let (start_at, end_at) = time.instants(date, &zone("Europe/Paris"));
        Occurrence {
            course_id: format!("{school}-{start}"),
            school_id: school.to_owned(),
            school_uai: format!("uai-{school}"),
            school_name: format!("Collège {school}"),
            time_zone: "Europe/Paris".to_owned(),
            // Two collèges 30 km apart: 45 minutes at 40 km/h plus the 10 minutes' margin.
            school_place: Some(if school == "A" { (46.58, 0.34) } else { (46.85, 0.34) }),
            date,
            time,
            original_date: date,
            start: start_at,
            end: end_at,
            subject_label: "Mathématiques".to_owned(),
            teachers: Vec::new(),
            unmatched_teachers: Vec::new(),
            classes: vec!["6A".to_owned()],
            groups: Vec::new(),
            rooms: Vec::new(),
            change: None,
            sequence: 0,
            updated_at: 0,
            for_person: None,
        }
    }

    #[test]
    fn a_teachers_conflicts_are_said_in_words_and_a_feasible_day_has_none() {
        let day = date(2026, 3, 2);
        let travel = TravelPolicy::default();
        let feasible = [lesson("A", day, 480, 535), lesson("B", day, 600, 655)];
        assert!(conflict_lines(&feasible, &travel).is_empty());

        let short = [lesson("A", day, 480, 535), lesson("B", day, 560, 615)];
        let lines = conflict_lines(&short, &travel);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0]
                .starts_with("Trajet trop court : 25 min entre Collège A et Collège B, il en faut"),
            "{lines:?}"
        );

        let overlap = [lesson("A", day, 480, 535), lesson("A", day, 500, 560)];
        let lines = conflict_lines(&overlap, &travel);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with(
                "Chevauchement : Mathématiques (Collège A, lundi 2 mars, 08:00–08:55)"
            )
        );
    }

    #[test]
    fn a_cancelled_lesson_is_in_no_conflict() {
        let day = date(2026, 3, 2);
        let travel = TravelPolicy::default();
        let mut overlap = [lesson("A", day, 480, 535), lesson("A", day, 500, 560)];
        overlap[1].change = Some(store::timetable::OccurrenceChange {
            id: "change".to_owned(),
            cancelled: true,
            exam: false,
            moved_from: None,
            new_room: None,
            substitute: None,
            note: String::new(),
            changed_at: 0,
            origin: "manual".to_owned(),
        });
        assert_eq!(conflict_lines(&overlap, &travel), Vec::<String>::new());
        overlap[1].change.as_mut().unwrap().cancelled = false;
        assert_eq!(conflict_lines(&overlap, &travel).len(), 1, "a room change still conflicts");
    }

    #[test]
    fn a_lesson_in_another_zone_names_its_city() {
        assert_eq!(zone_note("Pacific/Noumea", "Europe/Paris").as_deref(), Some("heure de Nouméa"));
        assert_eq!(zone_note("Europe/Paris", "Europe/Paris"), None);
        assert_eq!(zone_city("Asia/Tokyo"), "Asia/Tokyo");
        assert_eq!(zone_city("Indian/Reunion"), "La Réunion");
    }

    #[test]
    fn a_lesson_ending_after_midnight_ends_on_the_next_civil_day() {
        assert_eq!(civil_at(date(2026, 10, 24), 24 * 60 + 30), date(2026, 10, 25).at(0, 30, 0, 0));
        assert_eq!(civil_at(date(2026, 10, 24), 8 * 60 + 5), date(2026, 10, 24).at(8, 5, 0, 0));
    }
}
