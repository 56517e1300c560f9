//! The occurrences a viewer may see, for a pupil, a teacher (merged across schools), a class or
//! a room, with the authorization in the SQL that selects the courses; the rooms of a school,
//! its year and grid, and its coordinates (for the transfer check of merged timetables).
//!
//! A view costs four statements whatever its size: the subject's title, selected only when the
//! viewer may see the subject (no row: `NotFound`); the courses with their school and year,
//! selected through a "course set" subquery that repeats that right in its `WHERE`; then, for
//! the ids those returned, their teachers, classes, groups and rooms in one `UNION ALL`, and
//! their changes on the dates asked. The occurrences are expanded here, date by date in each
//! school's zone (`Occurrence::start` from `LessonTime::instants`).

use std::collections::HashMap;

use domain::timetable::{LessonTime, SchoolYear, WeekSet, weekday_number};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sqlx::Row;

use super::{
    LessonTeacher, Occurrence, OccurrenceChange, RoomRef, SchoolYearInfo, Timetable,
    TimetableSubject, allowed_pairs, audit, dates_between, lesson_time, parse_date, zone,
};
use crate::directory::{administered_by, membership_clock};
use crate::{Store, StoreError, StoreResult};

/// The most days one view covers.
pub const MAX_VIEW_DAYS: i64 = 62;

/// The most course ids one statement looks up.
const ID_CHUNK: usize = 256;

/// "`$1` is a département administrator".
pub(super) const DEPARTEMENT_ADMIN: &str =
    "EXISTS (SELECT 1 FROM roles da WHERE da.person_id = $1 AND da.role = 'departement_admin')";

/// "The pupil-class link `alias` holds now", `clock` being bound to
/// `directory::membership_clock()`: [`crate::directory::current_membership`].
pub(super) fn current(alias: &str, clock: &str) -> String {
    crate::directory::current_membership(alias, clock)
}

/// "`$1` is an adult (teacher or staff) of the school `school`, or administers it".
pub(super) fn adult_of(school: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM people v WHERE v.id = $1 AND v.active = 1 \
            AND v.profile IN ('teacher', 'staff') \
            AND (EXISTS (SELECT 1 FROM person_schools vs WHERE vs.person_id = $1 \
                  AND vs.school_id = {school}) \
              OR EXISTS (SELECT 1 FROM person_functions vf WHERE vf.person_id = $1 \
                  AND vf.school_id = {school}))) \
          OR EXISTS (SELECT 1 FROM roles vr WHERE vr.person_id = $1 \
            AND vr.role = 'school_admin' AND vr.school_id = {school}))"
    )
}

/// "`$1` has the département scope of the school `school`".
pub(super) fn scope_of(school: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM departement_scopes ds WHERE ds.person_id = $1 \
         AND (ds.school_id = '' OR ds.school_id = {school}))"
    )
}

/// The courses of the pupil `pupil` (`course_id`, `own`): those of their current classes
/// that name no group, and those of their groups (a course for part of a class names its
/// group).
pub(crate) fn pupil_courses(pupil: &str, clock: &str) -> String {
    format!(
        "SELECT cc.course_id, CAST(1 AS BIGINT) AS own FROM pupil_classes pc \
           JOIN course_classes cc ON cc.class_id = pc.class_id \
           WHERE pc.pupil_id = {pupil} AND {} \
           AND NOT EXISTS (SELECT 1 FROM course_groups xg WHERE xg.course_id = cc.course_id) \
         UNION SELECT cg.course_id, CAST(1 AS BIGINT) FROM pupil_groups pg \
           JOIN course_groups cg ON cg.group_id = pg.group_id WHERE pg.pupil_id = {pupil}",
        current("pc", clock)
    )
}

/// The courses of the teacher `teacher` (`own` 1) and those where they replace someone
/// (`own` 0: only the occurrences they replace in are shown).
pub(crate) fn teacher_courses(teacher: &str) -> String {
    format!(
        "SELECT course_id, CAST(1 AS BIGINT) AS own FROM course_teachers \
           WHERE person_id = {teacher} \
         UNION SELECT course_id, CAST(0 AS BIGINT) FROM course_changes \
           WHERE substitute_id = {teacher}"
    )
}

/// The schools of the teacher bound to `teacher`.
pub(super) fn teacher_schools(teacher: &str) -> String {
    format!(
        "SELECT school_id FROM person_schools WHERE person_id = {teacher} \
         UNION SELECT school_id FROM person_functions WHERE person_id = {teacher} \
         UNION SELECT tc.school_id FROM course_teachers tt \
           JOIN courses tc ON tc.id = tt.course_id WHERE tt.person_id = {teacher}"
    )
}

/// "`$1` may see the timetable of subject `$2`", `$3` being today's date; every kind uses
/// the three parameters.
fn allowed(subject: &TimetableSubject) -> String {
    match subject {
        TimetableSubject::Pupil(_) => format!(
            "EXISTS (SELECT 1 FROM people ap WHERE ap.id = $2 AND ap.profile = 'pupil' \
               AND ap.active = 1 AND ($1 = $2 \
               OR EXISTS (SELECT 1 FROM guardianships g WHERE g.pupil_id = $2 \
                 AND g.relative_id = $1 AND g.legal IN (1, 2)) \
               OR EXISTS (SELECT 1 FROM (SELECT k.school_id FROM pupil_classes pc \
                   JOIN classes k ON k.id = pc.class_id WHERE pc.pupil_id = $2 AND {cur} \
                 UNION SELECT school_id FROM person_schools WHERE person_id = $2) ps \
                 WHERE {adult} OR {scope}) \
               OR {DEPARTEMENT_ADMIN}))",
            cur = current("pc", "$3"),
            adult = adult_of("ps.school_id"),
            scope = scope_of("ps.school_id"),
        ),
        TimetableSubject::Teacher(_) => format!(
            "EXISTS (SELECT 1 FROM people ap WHERE ap.id = $2 AND ap.active = 1 \
               AND ap.profile IN ('teacher', 'staff') AND $3 = $3 AND ($1 = $2 \
               OR EXISTS (SELECT 1 FROM ({schools}) ts \
                 WHERE ts.school_id IN ({administered}) OR {scope}) \
               OR {DEPARTEMENT_ADMIN}))",
            schools = teacher_schools("$2"),
            administered = administered_by("$1"),
            scope = scope_of("ts.school_id"),
        ),
        TimetableSubject::Class(_) => format!(
            "EXISTS (SELECT 1 FROM classes ak JOIN schools aks ON aks.id = ak.school_id \
               WHERE ak.id = $2 AND aks.active = 1 AND ( \
               EXISTS (SELECT 1 FROM pupil_classes pc WHERE pc.class_id = ak.id \
                 AND pc.pupil_id = $1 AND {cur}) \
               OR {adult} OR {scope} OR {DEPARTEMENT_ADMIN}))",
            cur = current("pc", "$3"),
            adult = adult_of("ak.school_id"),
            scope = scope_of("ak.school_id"),
        ),
        TimetableSubject::Room(_) => format!(
            "EXISTS (SELECT 1 FROM rooms ar JOIN schools ars ON ars.id = ar.school_id \
               WHERE ar.id = $2 AND ars.active = 1 AND $3 = $3 \
               AND ({adult} OR {scope} OR {DEPARTEMENT_ADMIN}))",
            adult = adult_of("ar.school_id"),
            scope = scope_of("ar.school_id"),
        ),
    }
}

/// The subject's title and zone, selected only when `$1` may see it.
fn title_sql(subject: &TimetableSubject) -> String {
    let allowed = allowed(subject);
    match subject {
        TimetableSubject::Pupil(_) => format!(
            "SELECT p.first_name || ' ' || p.last_name AS title, \
               COALESCE((SELECT s.time_zone FROM pupil_classes pc \
                 JOIN classes k ON k.id = pc.class_id JOIN schools s ON s.id = k.school_id \
                 WHERE pc.pupil_id = p.id AND {} ORDER BY s.name, s.id LIMIT 1), \
                 'Europe/Paris') AS time_zone \
             FROM people p WHERE p.id = $2 AND {allowed}",
            current("pc", "$3")
        ),
        TimetableSubject::Teacher(_) => format!(
            "SELECT p.first_name || ' ' || p.last_name AS title, \
               COALESCE((SELECT s.time_zone FROM schools s WHERE s.id IN ({}) \
                 ORDER BY s.name, s.id LIMIT 1), 'Europe/Paris') AS time_zone \
             FROM people p WHERE p.id = $2 AND {allowed}",
            teacher_schools("p.id")
        ),
        TimetableSubject::Class(_) => format!(
            "SELECT k.code AS title, s.time_zone FROM classes k \
             JOIN schools s ON s.id = k.school_id WHERE k.id = $2 AND {allowed}"
        ),
        TimetableSubject::Room(_) => format!(
            "SELECT r.name AS title, s.time_zone FROM rooms r \
             JOIN schools s ON s.id = r.school_id WHERE r.id = $2 AND {allowed}"
        ),
    }
}

/// Which occurrences of courses outside the subject's own are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Borrowed {
    /// None.
    Nothing,
    /// Those this teacher replaces someone in.
    Substitute(String),
    /// Those moved into this room.
    Room(String),
}

/// What [`Store::occurrences`] expands.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    /// A `SELECT` of `course_id`, `own` (1: all occurrences; 0: only the borrowed ones),
    /// `for_id` and `for_name` (whose lesson it is, `''` for the viewer's own), whose
    /// parameters are `params` in order (`$1`…, each used at least once).
    pub set: String,
    pub params: Vec<String>,
    pub from: Date,
    pub to: Date,
    /// Only the occurrences that have a change (and, for a move, those whose original date
    /// is in the range although the new one is not).
    pub changed_only: bool,
    pub borrowed: Borrowed,
}

/// A course as the expansion reads it.
struct CourseRow {
    own: bool,
    for_person: Option<LessonTeacher>,
    id: String,
    school_id: String,
    uai: String,
    school_name: String,
    time_zone: String,
    place: Option<(f64, f64)>,
    subject_label: String,
    weekday: u8,
    time: LessonTime,
    weeks: WeekSet,
    sequence: i64,
    updated_at: i64,
    unmatched: Vec<String>,
    year: SchoolYear,
}

/// A change as the expansion reads it.
struct ChangeRow {
    id: String,
    occurrence_date: Date,
    origin: String,
    cancelled: bool,
    exam: bool,
    moved: Option<(Date, LessonTime)>,
    new_room_id: Option<String>,
    new_room: Option<String>,
    substitute: Option<LessonTeacher>,
    note: String,
    sequence: i64,
    updated_at: i64,
}

/// The teachers, classes, groups and rooms of a course.
#[derive(Default)]
struct Links {
    teachers: Vec<LessonTeacher>,
    classes: Vec<String>,
    groups: Vec<String>,
    rooms: Vec<String>,
}

fn course_row(row: &sqlx::any::AnyRow) -> StoreResult<Option<CourseRow>> {
    let first: String = row.try_get("first_monday")?;
    let last: String = row.try_get("last_day")?;
    let Ok(year) = SchoolYear::new(parse_date(&first)?, parse_date(&last)?) else {
        return Ok(None);
    };
    let weekday: i64 = row.try_get("weekday")?;
    let for_id: String = row.try_get("for_id")?;
    let for_name: String = row.try_get("for_name")?;
    let latitude: Option<f64> = row.try_get("latitude")?;
    let longitude: Option<f64> = row.try_get("longitude")?;
    let unmatched: String = row.try_get("unmatched_teachers")?;
    let own: i64 = row.try_get("own")?;
    Ok(Some(CourseRow {
        own: own == 1,
        for_person: (!for_id.is_empty()).then_some(LessonTeacher { id: for_id, name: for_name }),
        id: row.try_get("id")?,
        school_id: row.try_get("school_id")?,
        uai: row.try_get("uai")?,
        school_name: row.try_get("school_name")?,
        time_zone: row.try_get("time_zone")?,
        place: latitude.zip(longitude),
        subject_label: row.try_get("subject_label")?,
        weekday: u8::try_from(weekday).unwrap_or(0),
        time: lesson_time(row.try_get("start_minute")?, row.try_get("end_minute")?)?,
        weeks: WeekSet::from_db(row.try_get("weeks")?),
        sequence: row.try_get("sequence")?,
        updated_at: row.try_get("updated_at")?,
        unmatched: unmatched.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        year,
    }))
}

fn change_row(row: &sqlx::any::AnyRow) -> StoreResult<ChangeRow> {
    let date: String = row.try_get("occurrence_date")?;
    let new_date: Option<String> = row.try_get("new_date")?;
    let new_start: Option<i64> = row.try_get("new_start_minute")?;
    let new_end: Option<i64> = row.try_get("new_end_minute")?;
    let moved = match (new_date, new_start, new_end) {
        (Some(date), Some(start), Some(end)) => {
            Some((parse_date(&date)?, lesson_time(start, end)?))
        }
        _ => None,
    };
    let substitute_id: Option<String> = row.try_get("substitute_id")?;
    let substitute_name: Option<String> = row.try_get("substitute_name")?;
    let cancelled: i64 = row.try_get("cancelled")?;
    let exam: i64 = row.try_get("exam")?;
    Ok(ChangeRow {
        id: row.try_get("id")?,
        occurrence_date: parse_date(&date)?,
        origin: row.try_get("origin")?,
        cancelled: cancelled == 1,
        exam: exam == 1,
        moved,
        new_room_id: row.try_get("new_room_id")?,
        new_room: row.try_get("new_room_name")?,
        substitute: substitute_id
            .map(|id| LessonTeacher { id, name: substitute_name.unwrap_or_default() }),
        note: row.try_get("note")?,
        sequence: row.try_get("sequence")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Binds the text parameters in order.
fn bind_texts<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    params: &[String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for param in params {
        query = query.bind(param.clone());
    }
    query
}

impl Store {
    /// [`Store::timetable`], kept in memory under `generations` (`cache`): computed again only
    /// when the directory or the timetables changed, or a class membership started or stopped
    /// counting. Kept per viewer, since what a viewer may see is decided in the query.
    pub async fn timetable_kept(
        &self,
        viewer_id: &str,
        subject: &TimetableSubject,
        from: Date,
        to: Date,
        generations: crate::cache::Generations,
    ) -> StoreResult<Timetable> {
        let stamp = crate::cache::Generations {
            directory: generations.directory,
            timetable: generations.timetable,
            ..Default::default()
        };
        let key = format!("{viewer_id}\u{1f}{subject:?}\u{1f}{from}\u{1f}{to}");
        let timetable = self
            .kept_or_read(
                &self.caches.timetables,
                key,
                stamp,
                generations,
                self.timetable(viewer_id, subject, from, to),
            )
            .await?;
        Ok(timetable.as_ref().clone())
    }

    /// The subject's occurrences between local dates `from` and `to` (both included, at most
    /// 62 days), as `viewer_id` may see them; `NotFound` if they may not.
    pub async fn timetable(
        &self,
        viewer_id: &str,
        subject: &TimetableSubject,
        from: Date,
        to: Date,
    ) -> StoreResult<Timetable> {
        if to < from || (to - from).get_days() >= MAX_VIEW_DAYS as i32 {
            return Err(StoreError::Conflict(format!(
                "La période demandée doit compter de 1 à {MAX_VIEW_DAYS} jours."
            )));
        }
        let (subject_id, courses, borrowed) = match subject {
            TimetableSubject::Pupil(id) => (id, pupil_courses("$2", "$3"), Borrowed::Nothing),
            TimetableSubject::Teacher(id) => {
                (id, teacher_courses("$2"), Borrowed::Substitute(id.clone()))
            }
            TimetableSubject::Class(id) => (
                id,
                "SELECT course_id, CAST(1 AS BIGINT) AS own FROM course_classes \
                 WHERE class_id = $2"
                    .to_owned(),
                Borrowed::Nothing,
            ),
            TimetableSubject::Room(id) => (
                id,
                "SELECT course_id, CAST(1 AS BIGINT) AS own FROM course_rooms WHERE room_id = $2 \
                 UNION SELECT course_id, CAST(0 AS BIGINT) FROM course_changes \
                 WHERE new_room_id = $2"
                    .to_owned(),
                Borrowed::Room(id.clone()),
            ),
        };
        let params = vec![viewer_id.to_owned(), subject_id.clone(), membership_clock()];

        let title = sqlx::query(sqlx::AssertSqlSafe(title_sql(subject)));
        let Some(row) = bind_texts(title, &params).fetch_optional(self.pool()).await? else {
            return Err(StoreError::NotFound);
        };
        let title: String = row.try_get("title")?;
        let time_zone: String = row.try_get("time_zone")?;

        let set = format!(
            "SELECT u.course_id, MAX(u.own) AS own, CAST('' AS TEXT) AS for_id, \
             CAST('' AS TEXT) AS for_name FROM ({courses}) u WHERE {} GROUP BY u.course_id",
            allowed(subject)
        );
        let selection = Selection { set, params, from, to, changed_only: false, borrowed };
        let occurrences = self.occurrences(&selection).await?;
        Ok(Timetable { title, time_zone, occurrences })
    }

    /// The occurrence of course `course_id` whose date in the course's pattern is
    /// `original_date`, as it stands (moved, cancelled…), for the viewers of its school's views
    /// (its adults and administrators, the département); `NotFound` for anyone else and for a
    /// date that is not an occurrence of the course.
    pub async fn occurrence(
        &self,
        viewer_id: &str,
        course_id: &str,
        original_date: Date,
    ) -> StoreResult<Occurrence> {
        let set = format!(
            "SELECT c.id AS course_id, CAST(1 AS BIGINT) AS own, CAST('' AS TEXT) AS for_id, \
             CAST('' AS TEXT) AS for_name FROM courses c \
             WHERE c.id = $2 AND $3 = $3 AND ({} OR {} OR {DEPARTEMENT_ADMIN})",
            adult_of("c.school_id"),
            scope_of("c.school_id")
        );
        let params = vec![viewer_id.to_owned(), course_id.to_owned(), original_date.to_string()];
        // An occurrence in place (changed or not) is found on its own date; a moved one only
        // among the changed occurrences, whose original date is in the range.
        for changed_only in [false, true] {
            let selection = Selection {
                set: set.clone(),
                params: params.clone(),
                from: original_date,
                to: original_date,
                changed_only,
                borrowed: Borrowed::Nothing,
            };
            let found = self
                .occurrences(&selection)
                .await?
                .into_iter()
                .find(|o| o.course_id == course_id && o.original_date == original_date);
            if let Some(occurrence) = found {
                return Ok(occurrence);
            }
        }
        Err(StoreError::NotFound)
    }

    /// Expands the courses of a selection into their occurrences, in start order.
    pub(crate) async fn occurrences(&self, selection: &Selection) -> StoreResult<Vec<Occurrence>> {
        let set = &selection.set;
        let courses_sql = format!(
            "SELECT cs.own, cs.for_id, cs.for_name, c.id, c.school_id, s.uai, \
             s.name AS school_name, s.time_zone, s.latitude, s.longitude, c.subject_label, \
             c.weekday, c.start_minute, c.end_minute, c.weeks, c.sequence, c.updated_at, \
             c.unmatched_teachers, y.first_monday, y.last_day \
             FROM ({set}) cs JOIN courses c ON c.id = cs.course_id \
             JOIN schools s ON s.id = c.school_id \
             JOIN school_years y ON y.school_id = c.school_id WHERE s.active = 1"
        );
        let rows = bind_texts(sqlx::query(sqlx::AssertSqlSafe(courses_sql)), &selection.params)
            .fetch_all(self.pool())
            .await?;
        let mut courses = Vec::with_capacity(rows.len());
        for row in &rows {
            courses.extend(course_row(row)?);
        }
        if courses.is_empty() {
            return Ok(Vec::new());
        }

        let mut ids: Vec<&str> = courses.iter().map(|course| course.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut links: HashMap<String, Links> = HashMap::new();
        let mut changes: HashMap<String, Vec<ChangeRow>> = HashMap::new();
        for chunk in ids.chunks(ID_CHUNK) {
            self.links_and_changes(chunk, selection, &mut links, &mut changes).await?;
        }

        let mut zones: HashMap<String, TimeZone> = HashMap::new();
        let mut occurrences = Vec::new();
        let no_links = Links::default();
        for course in &courses {
            let tz =
                zones.entry(course.time_zone.clone()).or_insert_with(|| zone(&course.time_zone));
            let expansion = Expansion {
                course,
                links: links.get(&course.id).unwrap_or(&no_links),
                changes: changes.get(&course.id).map_or(&[][..], Vec::as_slice),
                zone: tz,
                selection,
            };
            expansion.run(&mut occurrences);
        }
        occurrences.sort_by(|a, b| {
            (a.start, &a.course_id, a.for_person.as_ref().map(|p| &p.id)).cmp(&(
                b.start,
                &b.course_id,
                b.for_person.as_ref().map(|p| &p.id),
            ))
        });
        Ok(occurrences)
    }

    /// The links and the changes of the courses `ids` (at most [`ID_CHUNK`]), in two
    /// statements. The list is padded to a power of two with its first id, so that a few
    /// statement texts serve every size (and stay in each connection's statement cache).
    async fn links_and_changes(
        &self,
        ids: &[&str],
        selection: &Selection,
        links: &mut HashMap<String, Links>,
        changes: &mut HashMap<String, Vec<ChangeRow>>,
    ) -> StoreResult<()> {
        let Some(first) = ids.first() else { return Ok(()) };
        let size = ids.len().next_power_of_two().max(8);
        let mut params: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
        params.resize(size, (*first).to_owned());
        let list = (1..=size).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");

        let links_sql = format!(
            "SELECT 't' AS kind, ct.course_id, p.id AS ref_id, \
               p.first_name || ' ' || p.last_name AS label \
               FROM course_teachers ct JOIN people p ON p.id = ct.person_id \
               WHERE ct.course_id IN ({list}) \
             UNION ALL SELECT 'c', cc.course_id, k.id, k.code FROM course_classes cc \
               JOIN classes k ON k.id = cc.class_id WHERE cc.course_id IN ({list}) \
             UNION ALL SELECT 'g', cg.course_id, g.id, g.code FROM course_groups cg \
               JOIN teaching_groups g ON g.id = cg.group_id WHERE cg.course_id IN ({list}) \
             UNION ALL SELECT 'r', cr.course_id, r.id, r.name FROM course_rooms cr \
               JOIN rooms r ON r.id = cr.room_id WHERE cr.course_id IN ({list}) \
             ORDER BY 1, 2, 4"
        );
        let rows = bind_texts(sqlx::query(sqlx::AssertSqlSafe(links_sql)), &params)
            .fetch_all(self.pool())
            .await?;
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let course_id: String = row.try_get("course_id")?;
            let label: String = row.try_get("label")?;
            let entry = links.entry(course_id).or_default();
            match kind.as_str() {
                "t" => {
                    entry.teachers.push(LessonTeacher { id: row.try_get("ref_id")?, name: label })
                }
                "c" => entry.classes.push(label),
                "g" => entry.groups.push(label),
                _ => entry.rooms.push(label),
            }
        }

        let changes_sql = format!(
            "SELECT ch.id, ch.course_id, ch.occurrence_date, ch.origin, ch.cancelled, ch.exam, \
             ch.new_date, ch.new_start_minute, ch.new_end_minute, ch.new_room_id, \
             r.name AS new_room_name, ch.substitute_id, \
             sp.first_name || ' ' || sp.last_name AS substitute_name, ch.note, ch.sequence, \
             ch.updated_at FROM course_changes ch \
             LEFT JOIN rooms r ON r.id = ch.new_room_id \
             LEFT JOIN people sp ON sp.id = ch.substitute_id \
             WHERE ch.course_id IN ({list}) \
             AND ((ch.occurrence_date >= ${a} AND ch.occurrence_date <= ${b}) \
               OR (ch.new_date >= ${a} AND ch.new_date <= ${b}))",
            a = size + 1,
            b = size + 2
        );
        params.push(selection.from.to_string());
        params.push(selection.to.to_string());
        let rows = bind_texts(sqlx::query(sqlx::AssertSqlSafe(changes_sql)), &params)
            .fetch_all(self.pool())
            .await?;
        for row in &rows {
            let course_id: String = row.try_get("course_id")?;
            changes.entry(course_id).or_default().push(change_row(row)?);
        }
        Ok(())
    }

    /// The rooms of a school that a course or a change uses, for the room view's picker and
    /// the change form's suggestions (adults of the school only). A room typed once in the
    /// change form and no longer used by any change is not offered again.
    pub async fn school_rooms(
        &self,
        viewer_id: &str,
        school_id: &str,
    ) -> StoreResult<Vec<RoomRef>> {
        let sql = format!(
            "SELECT r.id, r.name FROM schools s LEFT JOIN rooms r ON r.school_id = s.id \
               AND (EXISTS (SELECT 1 FROM course_rooms cr WHERE cr.room_id = r.id) \
                 OR EXISTS (SELECT 1 FROM course_changes ch WHERE ch.new_room_id = r.id)) \
             WHERE s.id = $2 AND s.active = 1 AND ({} OR {} OR {DEPARTEMENT_ADMIN}) \
             ORDER BY r.name, r.id",
            adult_of("s.id"),
            scope_of("s.id")
        );
        let pairs = allowed_pairs(self, sql, viewer_id, school_id, "name").await?;
        Ok(pairs.into_iter().map(|(id, label)| RoomRef { id, name: label }).collect())
    }

    /// The school's year, grid and course count (`None` before any import).
    pub async fn school_year_info(&self, school_id: &str) -> StoreResult<Option<SchoolYearInfo>> {
        let row = sqlx::query(
            "SELECT y.first_monday, y.last_day, \
             (SELECT COUNT(*) FROM courses c WHERE c.school_id = y.school_id) AS courses \
             FROM school_years y WHERE y.school_id = $1",
        )
        .bind(school_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let first: String = row.try_get("first_monday")?;
        let last: String = row.try_get("last_day")?;
        let places = sqlx::query(
            "SELECT number, start_minute, end_minute FROM time_slots WHERE school_id = $1 \
             ORDER BY number",
        )
        .bind(school_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            let number: i64 = row.try_get("number")?;
            let number = u16::try_from(number)
                .map_err(|_| StoreError::Corrupt(format!("slot number {number}")))?;
            Ok((number, lesson_time(row.try_get("start_minute")?, row.try_get("end_minute")?)?))
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(SchoolYearInfo {
            first_monday: parse_date(&first)?,
            last_day: parse_date(&last)?,
            places,
            courses: row.try_get("courses")?,
        }))
    }

    /// Sets a school's coordinates (département administrators; audited).
    pub async fn set_school_place(
        &self,
        actor_id: &str,
        school_id: &str,
        place: Option<(f64, f64)>,
    ) -> StoreResult<()> {
        if let Some((latitude, longitude)) = place
            && !((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude))
        {
            return Err(StoreError::Conflict(
                "La latitude doit être comprise entre -90 et 90, la longitude entre -180 et 180."
                    .to_owned(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE schools SET latitude = $3, longitude = $4 WHERE id = $2 \
             AND EXISTS (SELECT 1 FROM people p WHERE p.id = $1 AND p.active = 1) \
             AND {DEPARTEMENT_ADMIN}"
        )))
        .bind(actor_id)
        .bind(school_id)
        .bind(place.map(|p| p.0))
        .bind(place.map(|p| p.1))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = match place {
            Some((latitude, longitude)) => format!("{latitude:.5}, {longitude:.5}"),
            None => "effacées".to_owned(),
        };
        audit(&mut tx, Some(actor_id), "school_place_set", school_id, &detail).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The expansion of one course over the selection's dates.
struct Expansion<'a> {
    course: &'a CourseRow,
    links: &'a Links,
    changes: &'a [ChangeRow],
    zone: &'a TimeZone,
    selection: &'a Selection,
}

impl Expansion<'_> {
    /// Whether the course's pattern has an occurrence on `date`.
    fn is_occurrence(&self, date: Date) -> bool {
        weekday_number(date) == self.course.weekday
            && self.course.year.week_of(date).is_some_and(|week| self.course.weeks.contains(week))
    }

    fn run(&self, out: &mut Vec<Occurrence>) {
        let (from, to) = (self.selection.from, self.selection.to);
        let first = from.max(self.course.year.first_monday);
        let last = to.min(self.course.year.last_day);
        for date in dates_between(first, last) {
            if !self.is_occurrence(date) {
                continue;
            }
            let change = self.changes.iter().find(|c| c.occurrence_date == date);
            if change.is_none_or(|c| c.moved.is_none()) {
                self.push(out, date, self.course.time, date, change);
            }
        }

        for change in self.changes {
            let Some((new_date, new_time)) = change.moved else { continue };
            let original = change.occurrence_date;
            let shown = (from..=to).contains(&new_date)
                || (self.selection.changed_only && (from..=to).contains(&original));
            if shown && self.is_occurrence(original) {
                self.push(out, new_date, new_time, original, Some(change));
            }
        }
    }

    fn push(
        &self,
        out: &mut Vec<Occurrence>,
        date: Date,
        time: LessonTime,
        original_date: Date,
        change: Option<&ChangeRow>,
    ) {
        if self.selection.changed_only && change.is_none() {
            return;
        }
        if !self.course.own {
            let borrowed = change.is_some_and(|c| match &self.selection.borrowed {
                Borrowed::Nothing => false,
                Borrowed::Substitute(id) => c.substitute.as_ref().is_some_and(|s| s.id == *id),
                Borrowed::Room(id) => c.new_room_id.as_deref() == Some(id.as_str()),
            });
            if !borrowed {
                return;
            }
        }
        let course = self.course;
        let (start, end) = time.instants(date, self.zone);
        out.push(Occurrence {
            course_id: course.id.clone(),
            school_id: course.school_id.clone(),
            school_uai: course.uai.clone(),
            school_name: course.school_name.clone(),
            time_zone: course.time_zone.clone(),
            school_place: course.place,
            date,
            time,
            original_date,
            start,
            end,
            subject_label: course.subject_label.clone(),
            teachers: self.links.teachers.clone(),
            unmatched_teachers: course.unmatched.clone(),
            classes: self.links.classes.clone(),
            groups: self.links.groups.clone(),
            rooms: self.links.rooms.clone(),
            change: change.map(|c| OccurrenceChange {
                id: c.id.clone(),
                cancelled: c.cancelled,
                exam: c.exam,
                moved_from: c.moved.map(|_| (c.occurrence_date, course.time)),
                new_room: c.new_room.clone(),
                substitute: c.substitute.clone(),
                note: c.note.clone(),
                changed_at: c.updated_at,
                origin: c.origin.clone(),
            }),
            sequence: course.sequence + change.map_or(0, |c| c.sequence),
            updated_at: course.updated_at.max(change.map_or(0, |c| c.updated_at)),
            for_person: course.for_person.clone(),
        });
    }
}
