//! Timetables: the import of a parsed timetable file into a school's courses (`import.rs`), the
//! occurrences a viewer may see for a pupil, a class, a room or a teacher across every collège
//! they teach in (`views.rs`), the changes of one occurrence and their notification through the
//! outbox (`changes.rs`), the private calendar feeds (`feeds.rs`), and the light lists the
//! pages of one school need: its classes, teachers, zone and coordinates (`schools.rs`).
//!
//! A course is a weekly pattern in its school's local wall-clock time; an occurrence is computed
//! for a local date in the school's time zone (`schools.time_zone`) with
//! `domain::timetable`, never stored as an instant. Every function that returns a timetable takes
//! the viewer and checks in its SQL that the viewer may see it; what they may not see is
//! `StoreError::NotFound`, like what does not exist.

mod changes;
mod feeds;
mod import;
mod lookup;
mod schools;
mod views;

use domain::timetable::LessonTime;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::{StoreError, StoreResult};

pub use changes::{
    BusyLesson, ChangeNotification, ChangeRequest, ChangeTarget, change_delivery_subject,
};
pub use feeds::{CalendarFeed, FeedAccess, MAX_LIVE_FEEDS, NewFeed};
pub use import::{
    ImportOptions, ImportRefusal, ImportScope, MatchProblem, ReplacedTimetable,
    TimetableImportOutcome, TimetableImportReport, TimetableImportSummary,
};
pub use lookup::ImportSchool;
pub use schools::SchoolPlace;
pub use views::MAX_VIEW_DAYS;

/// How many days ahead a change is announced (home pages, e-mail).
pub const CHANGE_NOTICE_DAYS: i64 = 7;

/// The outbox kind of a timetable change.
pub const CHANGE_OUTBOX_KIND: &str = "timetable_change";

/// Whose timetable is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimetableSubject {
    /// A pupil's: their classes and their groups. The pupil, their legal guardians, the adults
    /// of their schools and the département may see it.
    Pupil(String),
    /// A teacher's, merged across every school (courses they teach and occurrences they
    /// replace someone in). The teacher, administrators of one of their schools and the
    /// département may see it.
    Teacher(String),
    /// A class's courses. Its current pupils, the adults of its school and the département.
    Class(String),
    /// A room's courses. The adults of its school and the département.
    Room(String),
}

/// A teacher as a lesson shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonTeacher {
    pub id: String,
    pub name: String,
}

/// What changed for one occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceChange {
    pub id: String,
    pub cancelled: bool,
    pub exam: bool,
    /// Set when the occurrence was moved: where it was (the original date and time).
    pub moved_from: Option<(Date, LessonTime)>,
    pub new_room: Option<String>,
    pub substitute: Option<LessonTeacher>,
    pub note: String,
    pub changed_at: i64,
    /// `"import"` or `"manual"`.
    pub origin: String,
}

/// One lesson on one day, as the viewer sees it (after its change, if any).
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub course_id: String,
    pub school_id: String,
    pub school_uai: String,
    pub school_name: String,
    /// The school's IANA zone.
    pub time_zone: String,
    /// The school's `(latitude, longitude)`, if known.
    pub school_place: Option<(f64, f64)>,
    /// The local date and time it happens (moved, if it was).
    pub date: Date,
    pub time: LessonTime,
    /// The local date of the occurrence in the course's pattern (the key of its change).
    pub original_date: Date,
    pub start: Timestamp,
    pub end: Timestamp,
    pub subject_label: String,
    pub teachers: Vec<LessonTeacher>,
    /// Names from the file that matched nobody, shown as written.
    pub unmatched_teachers: Vec<String>,
    pub classes: Vec<String>,
    pub groups: Vec<String>,
    pub rooms: Vec<String>,
    pub change: Option<OccurrenceChange>,
    /// For calendar feeds: the course's sequence plus its change's.
    pub sequence: i64,
    /// When the course or its change last changed (Unix seconds).
    pub updated_at: i64,
    /// Whose lesson it is, when the viewer sees it for someone else (a parent's upcoming
    /// changes: the child's id and name); `None` for the viewer's own.
    pub for_person: Option<LessonTeacher>,
}

/// The occurrences of a subject between two local dates (both included), in start order.
#[derive(Debug, Clone, PartialEq)]
pub struct Timetable {
    /// Who it is (a name, a class code, a room name), for the page's title.
    pub title: String,
    /// The zone "today" and "now" are computed in for this subject: the school's, or for a
    /// teacher of several, the first school's.
    pub time_zone: String,
    pub occurrences: Vec<Occurrence>,
}

/// A school's timetable settings, as its console shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolYearInfo {
    pub first_monday: Date,
    pub last_day: Date,
    pub places: Vec<(u16, LessonTime)>,
    pub courses: i64,
}

/// A room of a school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRef {
    pub id: String,
    pub name: String,
}

/// The dates between `from` and `to`, both included (empty when `to < from`).
pub(crate) fn dates_between(from: Date, to: Date) -> impl Iterator<Item = Date> {
    let mut next = (from <= to).then_some(from);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.tomorrow().ok().filter(|date| *date <= to);
        Some(current)
    })
}

/// The zone named `name`, or `Europe/Paris` (the default of `schools.time_zone`) when the name
/// is unknown to the time zone database.
pub(crate) fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).or_else(|_| TimeZone::get("Europe/Paris")).unwrap_or(TimeZone::UTC)
}

/// The local date of `now` in `zone`.
pub(crate) fn local_today(now: Timestamp, zone: &TimeZone) -> Date {
    now.to_zoned_datetime(zone.clone()).date()
}

/// A stored `YYYY-MM-DD` date.
pub(crate) fn parse_date(text: &str) -> StoreResult<Date> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("bad stored date {text}")))
}

/// `date` shifted by `days`, or `date` itself at the ends of the calendar.
pub(crate) fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days)).unwrap_or(date)
}

/// A stored lesson time (minutes after local midnight).
pub(crate) fn lesson_time(start: i64, end: i64) -> StoreResult<LessonTime> {
    let start = u16::try_from(start).map_err(|_| StoreError::Corrupt(format!("minute {start}")))?;
    let end = u16::try_from(end).map_err(|_| StoreError::Corrupt(format!("minute {end}")))?;
    LessonTime::new(start, end).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// A class, group or room name folded for matching: ASCII, lower case, letters and digits
/// only, so that `"3E B"`, `"3eB"` and `"3e-b"` are the same class.
pub(crate) fn code_key(text: &str) -> String {
    domain::names::fold_for_search(text).chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The teachers of the school bound to `school` (e.g. `$1`), as a subquery of person ids
/// (`person_id`): an `ENS` function there, a class or group of the school taught, or attached
/// to it with the teacher profile. (The teachers of its courses are among them: the import
/// matches only those.)
///
/// Bind `school` to a parameter and join people to the result by id (`FROM (…) t JOIN people
/// p ON p.id = t.person_id`): each branch then starts from the school's own links. Written as
/// `people.id IN (…)` over a column of an outer row, PostgreSQL evaluates the whole union
/// again for every person of the département (tens of seconds on 46,000 people).
pub(crate) fn teachers_of_school(school: &str) -> String {
    format!(
        "SELECT f.person_id FROM person_functions f WHERE f.school_id = {school} \
           AND f.code = 'ENS' \
         UNION SELECT ct.teacher_id FROM class_teachers ct \
           JOIN classes tc ON tc.id = ct.class_id WHERE tc.school_id = {school} \
         UNION SELECT gt.teacher_id FROM group_teachers gt \
           JOIN teaching_groups tg ON tg.id = gt.group_id WHERE tg.school_id = {school} \
         UNION SELECT ps.person_id FROM person_schools ps \
           JOIN people tp ON tp.id = ps.person_id \
           WHERE ps.school_id = {school} AND tp.profile = 'teacher'"
    )
}

/// "The active person bound to `actor` administers the school `school`": a département
/// administrator, the school's `school_admin`, or its direction (`DIR`).
pub(crate) fn administers(actor: &str, school: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM people ap WHERE ap.id = {actor} AND ap.active = 1) \
          AND (EXISTS (SELECT 1 FROM roles ar WHERE ar.person_id = {actor} \
                AND (ar.role = 'departement_admin' \
                  OR (ar.role = 'school_admin' AND ar.school_id = {school}))) \
            OR EXISTS (SELECT 1 FROM person_functions af WHERE af.person_id = {actor} \
                AND af.code = 'DIR' AND af.school_id = {school})))"
    )
}

/// User-written text (a note, a room name, a feed's label) on one line: control characters
/// (line breaks included) become spaces, and the bidirectional and invisible characters that
/// `domain::names` refuses in names (U+202A–U+202E, U+2066–U+2069, zero-width ones) are
/// dropped, so that no text shown later reverses or hides what follows it.
pub(crate) fn one_line(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter_map(|c| match c {
            c if c.is_control() => Some(' '),
            c if domain::names::is_forbidden(c) => None,
            c => Some(c),
        })
        .collect();
    kept.trim().to_owned()
}

/// An audit entry inside the caller's transaction; the CLI and the demo (no actor) are
/// recorded without an actor.
pub(crate) async fn audit(
    conn: &mut sqlx::AnyConnection,
    actor_id: Option<&str>,
    action: &str,
    target_id: &str,
    detail: &str,
) -> StoreResult<()> {
    match actor_id {
        Some(actor) => crate::accounts::audit_in(conn, actor, action, target_id, detail).await,
        None => {
            sqlx::query(
                "INSERT INTO audit_log (id, at, actor_id, action, target_id, detail) \
                 VALUES ($1, $2, NULL, $3, $4, $5)",
            )
            .bind(crate::new_id())
            .bind(crate::now_unix())
            .bind(action)
            .bind(target_id)
            .bind(detail)
            .execute(conn)
            .await?;
            Ok(())
        }
    }
}

/// Reads a list selected with a `LEFT JOIN` from the one row that says the viewer may see it:
/// no row at all is `NotFound`; the `(id, label)` pairs of the rows that have one are the list
/// (a school without classes is one row of NULLs, an empty list).
pub(crate) async fn allowed_pairs(
    store: &crate::Store,
    sql: String,
    viewer_id: &str,
    school_id: &str,
    label: &str,
) -> StoreResult<Vec<(String, String)>> {
    use sqlx::Row;

    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(viewer_id)
        .bind(school_id)
        .fetch_all(store.pool())
        .await?;
    if rows.is_empty() {
        return Err(StoreError::NotFound);
    }
    let mut pairs = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: Option<String> = row.try_get("id")?;
        let text: Option<String> = row.try_get(label)?;
        if let (Some(id), Some(text)) = (id, text) {
            pairs.push((id, text));
        }
    }
    Ok(pairs)
}
