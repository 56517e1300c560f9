//! What the timetable tests of the `preau` binary share: the school year they run in (the one
//! around today in Paris, as the calendar feeds and the import count it), synthetic timetables
//! of the store's fixture département written from `formats::timetable::synthetic` (teachers,
//! classes and groups named as the fixture names them, so that every name matches), and the
//! `preau` binary run on a test database.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Output};

use domain::timetable::{LessonTime, SchoolYear, WeekSet};
use formats::timetable::synthetic::{SyntheticCourse, SyntheticTimetable, college_places};
use jiff::civil::Date;

/// Today in Paris.
pub fn paris_today() -> Date {
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    jiff::Timestamp::now().to_zoned_datetime(zone).date()
}

/// The school year around today in Paris.
pub fn this_year() -> SchoolYear {
    SchoolYear::around(paris_today())
}

/// `date` shifted by `days`.
pub fn shift(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days)).unwrap()
}

/// A course of the model on `weeks`, with one teacher.
fn course(
    weeks: WeekSet,
    weekday: u8,
    first_place: u16,
    place_count: u16,
    subject: usize,
    teacher: usize,
) -> SyntheticCourse {
    SyntheticCourse {
        weekday,
        first_place,
        place_count,
        weeks,
        cancelled_weeks: WeekSet::EMPTY,
        subject,
        teachers: vec![teacher],
        classes: Vec::new(),
        groups: Vec::new(),
        rooms: Vec::new(),
    }
}

/// The week of the fixture's collège 1 (UAI 0860001A) whose Latin lesson is cancelled.
pub const CANCELLED_LATIN_WEEK: u8 = 6;

/// Collège 1's timetable: maths in 6A on Monday at 08:00 and Thursday 10:05–11:55 (Thomas
/// Bernard, matched by his national id), French in 6B on Tuesday at 08:55 and in 6A on
/// Wednesday at 08:00 on A weeks (Sophie Lambert, matched by her names), Latin for the LATIN
/// group on Friday at 13:30, cancelled in week [`CANCELLED_LATIN_WEEK`].
pub fn college_1(year: SchoolYear) -> SyntheticTimetable {
    let mut model = SyntheticTimetable::new(year.first_monday, year.last_day, college_places());
    let weeks = WeekSet::all(year.week_count());
    let thomas = model.add_teacher("T1", Some(store::fixtures::ids::THOMAS), "Bernard", "Thomas");
    let sophie = model.add_teacher("T2", None, "Lambert", "Sophie");
    let six_a = model.add_class("6A");
    let six_b = model.add_class("6B");
    let latin = model.add_group("LATIN", six_a, false);
    let room_101 = model.add_room("Salle 101");
    let room_102 = model.add_room("Salle 102");
    let maths = model.add_subject("MATHS", "Mathématiques");
    let french = model.add_subject("FRANC", "Français");
    let latin_subject = model.add_subject("LCALA", "Latin");
    let (a_weeks, _) = formats::timetable::synthetic::alternating(weeks);

    let courses = [
        SyntheticCourse {
            classes: vec![six_a],
            rooms: vec![room_101],
            ..course(weeks, 1, 1, 1, maths, thomas)
        },
        SyntheticCourse {
            classes: vec![six_a],
            rooms: vec![room_101],
            ..course(weeks, 4, 3, 2, maths, thomas)
        },
        SyntheticCourse {
            classes: vec![six_b],
            rooms: vec![room_102],
            ..course(weeks, 2, 2, 1, french, sophie)
        },
        SyntheticCourse {
            classes: vec![six_a],
            rooms: vec![room_102],
            ..course(a_weeks, 3, 1, 1, french, sophie)
        },
        SyntheticCourse {
            groups: vec![latin],
            rooms: vec![room_102],
            cancelled_weeks: WeekSet::from_weeks([CANCELLED_LATIN_WEEK]),
            ..course(weeks, 5, 6, 1, latin_subject, sophie)
        },
    ];
    for course in courses {
        model.add_course(course);
    }
    model
}

/// Collège 2's timetable (UAI 0860002B): maths in 5A on Tuesday at 14:25 (Thomas Bernard, who
/// also teaches in collège 1) and history in 5A on Monday at 10:05 (Hugo Moreau).
pub fn college_2(year: SchoolYear) -> SyntheticTimetable {
    let mut model = SyntheticTimetable::new(year.first_monday, year.last_day, college_places());
    let weeks = WeekSet::all(year.week_count());
    let thomas = model.add_teacher("P1", Some(store::fixtures::ids::THOMAS), "Bernard", "Thomas");
    let hugo = model.add_teacher("P2", Some(store::fixtures::ids::HUGO), "Moreau", "Hugo");
    let five_a = model.add_class("5A");
    let room = model.add_room("Salle B12");
    let maths = model.add_subject("MATHS", "Mathématiques");
    let history = model.add_subject("HIGEO", "Histoire-géographie");
    model.add_course(SyntheticCourse {
        classes: vec![five_a],
        rooms: vec![room],
        ..course(weeks, 2, 7, 1, maths, thomas)
    });
    model.add_course(SyntheticCourse {
        classes: vec![five_a],
        rooms: vec![room],
        ..course(weeks, 1, 3, 1, history, hugo)
    });
    model
}

/// The lesson time of a place of the collège grid (1 = 08:00–08:55).
pub fn place(number: u16) -> LessonTime {
    college_places().into_iter().find(|(n, _)| *n == number).map(|(_, time)| time).unwrap()
}

/// Runs `preau` in `dir` on the database at `database_url`, with no other `PREAU_*` setting
/// of the environment.
pub fn preau(dir: &Path, database_url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_preau"));
    command.args(args).current_dir(dir).env_remove("RUST_LOG");
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("PREAU_")) {
        command.env_remove(key);
    }
    command.env("PREAU_DATA_DIR", dir.join("data")).env("PREAU_DATABASE_URL", database_url);
    command.output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
