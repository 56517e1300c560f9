//! The calendar feed read by an independent parser: a pupil's private feed
//! (`/agenda/<token>.ics`), fetched over HTTP from the real `preau serve` binary, parsed by the
//! `icalendar` package from PyPI (`scripts/ical_occurrences.py`), gives exactly the occurrences
//! `Store::timetable` returns over the feed's window (four weeks back to the end of the school
//! year): the same UIDs, UTC starts and ends, and cancellations. The timetable runs every week
//! of that window, so its lessons cross every change of clocks of Paris the window holds (the
//! last Sunday of October and of March, when inside), with a lesson cancelled by the file, one
//! cancelled by the school and one moved (across a change of clocks when there is one); the
//! Monday 08:00 lesson reads 08:00 in Paris on both sides of each change.
//!
//! The test command installs `icalendar` (`scripts/test.sh`); without it the test fails and
//! says so.

mod mail_common;
mod timetable_support;

use std::collections::BTreeSet;
use std::process::Command;

use domain::timetable::{LessonTime, SchoolYear, monday_of};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use mail_common::{Db, Server, fixture_db, ids, scripts_dir, session};
use store::timetable::{
    ChangeRequest, ChangeTarget, ImportScope, MAX_VIEW_DAYS, Occurrence, TimetableSubject,
};
use timetable_support::{college_1, paris_today, place, shift};

/// One occurrence as both sides see it: UID, UTC start and end, cancelled.
type Row = (String, String, String, bool);

/// The feed's window, as the server computes it: four weeks back to the end of the school
/// year around today (a week ahead at least).
fn feed_window() -> (Date, Date) {
    let today = paris_today();
    (shift(today, -28), SchoolYear::around(today).last_day.max(shift(today, 7)))
}

/// The last Sundays of October and March whose Mondays before and after are inside `window`:
/// Paris changes its clocks then.
fn clock_changes(window: (Date, Date)) -> Vec<Date> {
    let mut sundays = Vec::new();
    for year in window.0.year()..=window.1.year() {
        for month in [3, 10] {
            let last = Date::new(year, month, 31).unwrap();
            let back = i64::from(last.weekday().to_sunday_zero_offset());
            let sunday = shift(last, -back);
            if window.0 <= shift(sunday, -6) && shift(sunday, 1) <= window.1 {
                sundays.push(sunday);
            }
        }
    }
    sundays.sort();
    sundays
}

fn utc(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn uid(occurrence: &Occurrence) -> String {
    format!("{}-{}@preau", occurrence.course_id, occurrence.original_date.strftime("%Y%m%d"))
}

/// Alice's occurrences over the window, by pieces the store accepts.
async fn store_occurrences(db: &Db, window: (Date, Date)) -> Vec<Occurrence> {
    let subject = TimetableSubject::Pupil(ids::ALICE.into());
    let mut all = Vec::new();
    let mut from = window.0;
    while from <= window.1 {
        let days = MAX_VIEW_DAYS - 1;
        let to = shift(from, days).min(window.1);
        let part = db.store.timetable(ids::ALICE, &subject, from, to).await.unwrap();
        all.extend(part.occurrences);
        from = shift(to, 1);
    }
    all
}

/// The occurrence of 6A's lesson of `label` on `date`.
async fn occurrence_on(db: &Db, label: &str, date: Date) -> Occurrence {
    let subject = TimetableSubject::Class(ids::CLASS_6A.into());
    let day = db.store.timetable(ids::AGNES, &subject, date, date).await.unwrap();
    day.occurrences.into_iter().find(|o| o.subject_label == label).unwrap()
}

/// Runs `scripts/ical_occurrences.py` on the file with `python3`, else `/usr/bin/python3`.
fn independent_parse(path: &std::path::Path) -> Vec<serde_json::Value> {
    let script = scripts_dir().join("ical_occurrences.py");
    let mut missing = Vec::new();
    for python in ["python3", "/usr/bin/python3"] {
        let output = match Command::new(python).arg(&script).arg(path).output() {
            Ok(output) => output,
            Err(error) => {
                missing.push(format!("{python}: {error}"));
                continue;
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.code() == Some(3) {
            missing.push(format!("{python}: {}", stderr.trim()));
            continue;
        }
        assert!(output.status.success(), "{python} {}: {stderr}", script.display());
        return String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
    }
    panic!(
        "the Python package icalendar is missing: run bash scripts/test.sh, which installs it \
         ({})",
        missing.join("; ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_read_by_the_icalendar_package_gives_the_store_s_occurrences() {
    let db = fixture_db().await;
    let window = feed_window();
    let changes = clock_changes(window);
    let year = SchoolYear::new(monday_of(window.0), window.1).unwrap();
    let xml = college_1(year).to_edt_xml();
    let parsed = formats::timetable::edt::parse(xml.as_bytes(), "EDT.xml").unwrap();
    db.store
        .import_timetable(None, ids::SCHOOL_1, "EDT.xml", &parsed, &ImportScope::School)
        .await
        .unwrap();

    // The school cancels a Wednesday French lesson and moves a Monday maths lesson: across a
    // change of clocks when the window holds one (from the Monday after it to the Friday
    // before), else within its week.
    let cancelled_day = shift(year.first_monday, 16);
    let french = occurrence_on(&db, "Français", cancelled_day).await;
    let cancel = ChangeRequest { cancelled: true, ..ChangeRequest::default() };
    let target = ChangeTarget { course_id: french.course_id.clone(), original_date: cancelled_day };
    db.store.change_occurrence(ids::HELENE, &target, &cancel, Timestamp::now()).await.unwrap();
    let moved_from =
        changes.first().map_or(shift(year.first_monday, 14), |sunday| shift(*sunday, 1));
    let maths = occurrence_on(&db, "Mathématiques", moved_from).await;
    let afternoon = place(8);
    let move_to = ChangeRequest {
        moved_to: Some((shift(moved_from, -3), afternoon)),
        ..ChangeRequest::default()
    };
    let target = ChangeTarget { course_id: maths.course_id.clone(), original_date: moved_from };
    db.store.change_occurrence(ids::HELENE, &target, &move_to, Timestamp::now()).await.unwrap();

    // Alice's own feed, over HTTP.
    session(&db.store, ids::ALICE).await;
    let feed = db.store.create_feed(ids::ALICE, ids::ALICE, "Mon emploi du temps").await.unwrap();
    let server = Server::start(&db, "feed", &[]).await;
    let reply = server.get(&format!("/agenda/{}.ics", feed.token), None).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("text/calendar")));
    let file = db.dir.path().join("alice.ics");
    std::fs::write(&file, &reply.body).unwrap();
    let theirs: Vec<serde_json::Value> = independent_parse(&file);

    let ours = store_occurrences(&db, window).await;
    assert_eq!(window, feed_window(), "the day changed during the test: run it again");
    let expected: BTreeSet<Row> = ours
        .iter()
        .map(|o| {
            let cancelled = o.change.as_ref().is_some_and(|c| c.cancelled);
            (uid(o), utc(o.start), utc(o.end), cancelled)
        })
        .collect();
    let read: BTreeSet<Row> = theirs
        .iter()
        .map(|row| {
            let text = |key: &str| row[key].as_str().unwrap_or_default().to_owned();
            (text("uid"), text("start"), text("end"), text("status") == "CANCELLED")
        })
        .collect();
    assert_eq!(theirs.len(), read.len(), "one event per occurrence");
    assert_eq!(read, expected);

    // What the comparison covered: the cancellations, the move, and 08:00 in Paris on both
    // sides of each change of clocks, read from the independent parser's UTC times.
    assert!(expected.len() > 20, "{} occurrences", expected.len());
    let cancelled = ours.iter().filter(|o| o.change.as_ref().is_some_and(|c| c.cancelled));
    assert!(cancelled.clone().any(|o| o.original_date == cancelled_day));
    let latin_week = year.date_of(timetable_support::CANCELLED_LATIN_WEEK, 5);
    if let Some(friday) = latin_week.filter(|day| *day <= window.1) {
        assert!(cancelled.clone().any(|o| o.original_date == friday), "the file's cancellation");
    }
    let moved =
        ours.iter().find(|o| o.course_id == maths.course_id && o.original_date == moved_from);
    let moved = moved.expect("the moved lesson is in the feed");
    assert_eq!((moved.date, moved.time), (shift(moved_from, -3), afternoon));

    let paris = TimeZone::get("Europe/Paris").unwrap();
    let mondays: Vec<(Date, LessonTime)> = theirs
        .iter()
        .filter(|row| row["uid"].as_str().is_some_and(|u| u.starts_with(&maths.course_id)))
        .map(|row| {
            let start: Timestamp = row["start"].as_str().unwrap().parse().unwrap();
            let end: Timestamp = row["end"].as_str().unwrap().parse().unwrap();
            let (start, end) =
                (start.to_zoned_datetime(paris.clone()), end.to_zoned_datetime(paris.clone()));
            let minute = |t: &jiff::ZonedDateTime| {
                u16::try_from(t.hour()).unwrap() * 60 + u16::try_from(t.minute()).unwrap()
            };
            (start.date(), LessonTime::new(minute(&start), minute(&end)).unwrap())
        })
        .collect();
    for sunday in &changes {
        let on_mondays =
            mondays.iter().filter(|(day, _)| day.weekday() == jiff::civil::Weekday::Monday);
        let before = on_mondays.clone().rfind(|(day, _)| day < sunday);
        let after = on_mondays.clone().find(|(day, _)| day > sunday);
        for (side, found) in [("before", before), ("after", after)] {
            let (day, time) = found.unwrap_or_else(|| panic!("no Monday lesson {side} {sunday}"));
            assert_eq!(*time, place(1), "{day}, {side} the change of clocks of {sunday}");
        }
    }
    eprintln!("clock changes inside the feed's window: {changes:?}");
}
