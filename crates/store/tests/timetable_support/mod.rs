//! Shared helpers of the timetable tests: the fixture département with a school year
//! (2026-2027), a third collège, hand-built parsed timetables (weekly and dated courses, names
//! as files write them), and small readers of the tables the tests assert on.
#![allow(dead_code, unreachable_pub)]

use domain::timetable::{LessonTime, WeekSet};
use formats::timetable::{CourseWhen, ParsedCourse, ParsedTimetable, PartyRef, TimetableSource};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use sqlx::AssertSqlSafe;
use store::Store;
use store::fixtures::ids;
use store::testing::TestStore;
use store::timetable::{ImportScope, Occurrence, TimetableImportReport};

/// The third collège of the tests, where Thomas also teaches.
pub const SCHOOL_3: &str = "school-3";

/// Week 1 of the test year starts on Monday 31 August 2026; the year ends on 7 July 2027.
pub const FIRST_MONDAY: Date = date(2026, 8, 31);
pub const LAST_DAY: Date = date(2027, 7, 7);

/// A fresh database holding the fixture département.
pub async fn fixture() -> TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

/// Runs a statement binding texts.
pub async fn exec(store: &Store, sql: &str, params: &[&str]) {
    let mut query = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for param in params {
        query = query.bind(param.to_string());
    }
    query.execute(store.import_test_pool()).await.unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// A number read with one query binding texts.
pub async fn count(store: &Store, sql: &str, params: &[&str]) -> i64 {
    let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned()));
    for param in params {
        query = query.bind(param.to_string());
    }
    query.fetch_one(store.import_test_pool()).await.unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Adds a third collège with Thomas teaching there (an `ENS` function, attached).
pub async fn add_third_school(store: &Store) {
    exec(
        store,
        "INSERT INTO schools (id, jointure, uai, name, created_at, updated_at) \
         VALUES ($1, 'j-school-3', '0860003C', 'Collège Gérard Philipe', 0, 0)",
        &[SCHOOL_3],
    )
    .await;
    exec(
        store,
        "INSERT INTO classes (id, school_id, code) VALUES ('class-4a', $1, '4A')",
        &[SCHOOL_3],
    )
    .await;
    exec(
        store,
        "INSERT INTO person_schools (person_id, school_id) VALUES ($1, $2)",
        &[ids::THOMAS, SCHOOL_3],
    )
    .await;
    exec(
        store,
        "INSERT INTO person_functions (person_id, school_id, code, label) \
         VALUES ($1, $2, 'ENS', 'ENSEIGNEMENT')",
        &[ids::THOMAS, SCHOOL_3],
    )
    .await;
}

/// Adds a teacher of collège 1 (`ENS`) with an account.
pub async fn add_teacher(store: &Store, id: &str, last: &str, first: &str, external: &str) {
    exec(
        store,
        "INSERT INTO people (id, source, external_id, profile, last_name, first_name, \
         created_at, updated_at, search_key) VALUES ($1, 'aaf', $2, 'teacher', $3, $4, 0, 0, '')",
        &[id, external, last, first],
    )
    .await;
    exec(
        store,
        "INSERT INTO person_functions (person_id, school_id, code, label) \
         VALUES ($1, $2, 'ENS', 'ENSEIGNEMENT')",
        &[id, ids::SCHOOL_1],
    )
    .await;
    exec(store, "INSERT INTO accounts (person_id, login, created_at) VALUES ($1, $1, 0)", &[id])
        .await;
}

/// A teacher as a file names them.
pub fn teacher(last: &str, first: &str) -> PartyRef {
    PartyRef { last_name: last.into(), first_name: first.into(), ..PartyRef::default() }
}

/// A class, group or room as a file names it.
pub fn named(label: &str) -> PartyRef {
    PartyRef { label: label.into(), file_id: label.into(), ..PartyRef::default() }
}

/// `hh:mm` to `hh:mm`.
pub fn at(start: (u16, u16), end: (u16, u16)) -> LessonTime {
    LessonTime::new(start.0 * 60 + start.1, end.0 * 60 + end.1).unwrap()
}

/// Every week of the test year.
pub fn all_weeks() -> WeekSet {
    WeekSet::all(45)
}

/// A weekly course of `weeks`.
pub fn weekly(
    key: &str,
    subject: &str,
    weekday: u8,
    time: LessonTime,
    weeks: WeekSet,
) -> ParsedCourse {
    ParsedCourse {
        line: 10,
        key: key.into(),
        subject_code: None,
        subject_label: subject.into(),
        teachers: Vec::new(),
        classes: Vec::new(),
        groups: Vec::new(),
        rooms: Vec::new(),
        when: CourseWhen::Weekly { weekday, time, weeks, cancelled_weeks: WeekSet::EMPTY },
    }
}

/// The same course with names.
pub fn with(
    mut course: ParsedCourse,
    teachers: Vec<PartyRef>,
    classes: &[&str],
    groups: &[&str],
    rooms: &[&str],
) -> ParsedCourse {
    course.teachers = teachers;
    course.classes = classes.iter().map(|c| named(c)).collect();
    course.groups = groups.iter().map(|g| named(g)).collect();
    course.rooms = rooms.iter().map(|r| named(r)).collect();
    course
}

/// An EDT-like file of the test year.
pub fn edt(courses: Vec<ParsedCourse>) -> ParsedTimetable {
    ParsedTimetable {
        source: TimetableSource::Edt,
        school_uai: None,
        first_monday: Some(FIRST_MONDAY),
        last_day: Some(LAST_DAY),
        places: vec![(1, at((8, 0), (9, 0))), (2, at((9, 0), (10, 0)))],
        courses,
        rejections: Vec::new(),
        notices: Vec::new(),
    }
}

/// An iCalendar-like file (no year, dated courses).
pub fn ical(courses: Vec<ParsedCourse>) -> ParsedTimetable {
    ParsedTimetable {
        source: TimetableSource::Ical,
        school_uai: None,
        first_monday: None,
        last_day: None,
        places: Vec::new(),
        courses,
        rejections: Vec::new(),
        notices: Vec::new(),
    }
}

/// Imports a file into a school as the CLI does (no actor), whole school.
pub async fn import(
    store: &Store,
    school: &str,
    parsed: &ParsedTimetable,
) -> TimetableImportReport {
    store.import_timetable(None, school, "emploi.xml", parsed, &ImportScope::School).await.unwrap()
}

/// Mathematics for 6A with Thomas in room 101, Monday 08:00-09:00, every week.
pub fn maths_6a() -> ParsedCourse {
    with(
        weekly("C1", "Mathématiques", 1, at((8, 0), (9, 0)), all_weeks()),
        vec![teacher("BERNARD", "Thomas")],
        &["6A"],
        &[],
        &["Salle 101"],
    )
}

/// French for 6B with Sophie, Tuesday 10:00-11:00.
pub fn french_6b() -> ParsedCourse {
    with(
        weekly("C2", "Français", 2, at((10, 0), (11, 0)), all_weeks()),
        vec![teacher("LAMBERT", "Sophie")],
        &["6B"],
        &[],
        &["Salle 102"],
    )
}

/// Latin for the LATIN group (pupils of 6A and 6B) with Sophie, Thursday 14:00-15:00.
pub fn latin() -> ParsedCourse {
    with(
        weekly("C3", "Latin", 4, at((14, 0), (15, 0)), all_weeks()),
        vec![teacher("LAMBERT", "Sophie")],
        &["6A", "6B"],
        &["LATIN"],
        &["Salle 102"],
    )
}

/// The course id of a source key in a school.
pub async fn course_id(store: &Store, school: &str, key: &str) -> String {
    sqlx::query_scalar::<_, String>(
        "SELECT id FROM courses WHERE school_id = $1 AND source_key = $2",
    )
    .bind(school.to_owned())
    .bind(key.to_owned())
    .fetch_one(store.import_test_pool())
    .await
    .unwrap()
}

/// The instant of a local wall-clock time in a zone.
pub fn instant(day: Date, hour: i8, minute: i8, zone: &str) -> Timestamp {
    let zone = jiff::tz::TimeZone::get(zone).unwrap();
    day.at(hour, minute, 0, 0).to_zoned_datetime(zone).unwrap().timestamp()
}

/// The UTC hour and minute of an instant.
pub fn utc_hm(at: Timestamp) -> (i8, i8) {
    let zoned = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    (zoned.hour(), zoned.minute())
}

/// The subjects and dates of occurrences, for compact assertions.
pub fn summary(occurrences: &[Occurrence]) -> Vec<(String, Date)> {
    occurrences.iter().map(|o| (o.subject_label.clone(), o.date)).collect()
}
