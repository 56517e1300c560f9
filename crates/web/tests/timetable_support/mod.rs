//! What the timetable tests share: a synthetic timetable for each fixture collège built with
//! `formats::timetable::synthetic` (the fixture's teachers, classes and group, a lesson every
//! day of the week so that "today" always has one), imported through the console's upload
//! form, multipart bodies as a browser sends them, and reading links back from pages.
#![allow(dead_code, unreachable_pub, unused_imports)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::timetable::{SchoolYear, WeekSet};
use formats::timetable::synthetic::{SyntheticCourse, SyntheticTimetable, college_places};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

pub use crate::common::*;

const BOUNDARY: &str = "----preau-timetable-boundary-5hQk2";

/// Today in Paris, where the fixture's collèges are.
pub fn paris_today() -> Date {
    Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap()).date()
}

/// A year of forty weeks that starts four weeks before this one.
fn year() -> SchoolYear {
    let monday = domain::timetable::monday_of(paris_today());
    let first = monday.checked_sub(28.days()).unwrap();
    SchoolYear::new(first, first.checked_add(279.days()).unwrap()).unwrap()
}

/// Collège 1: mathematics in 6A with Thomas Bernard in place 1 (08:00–08:55), French in 6B
/// and Latin for the LATIN group with Sophie Lambert in places 2 and 3, every day, in rooms
/// « Salle 12 » and « Salle 14 ».
pub fn college_1() -> SyntheticTimetable {
    let year = year();
    let mut model = SyntheticTimetable::new(year.first_monday, year.last_day, college_places());
    let thomas = model.add_teacher("PR1", Some("t-thomas"), "Bernard", "Thomas");
    let sophie = model.add_teacher("PR2", Some("t-sophie"), "Lambert", "Sophie");
    let six_a = model.add_class("6A");
    let six_b = model.add_class("6B");
    let latin = model.add_group("LATIN", six_a, false);
    let room_12 = model.add_room("Salle 12");
    let room_14 = model.add_room("Salle 14");
    let maths = model.add_subject("MATHS", "Mathématiques");
    let french = model.add_subject("FRANC", "Français");
    let latin_subject = model.add_subject("LCALA", "Latin");
    let weeks = WeekSet::all(year.week_count());
    for weekday in 1..=7 {
        let course = |place, subject, teacher, classes: Vec<usize>, groups: Vec<usize>, room| {
            SyntheticCourse {
                weekday,
                first_place: place,
                place_count: 1,
                weeks,
                cancelled_weeks: WeekSet::EMPTY,
                subject,
                teachers: vec![teacher],
                classes,
                groups,
                rooms: vec![room],
            }
        };
        model.add_course(course(1, maths, thomas, vec![six_a], vec![], room_12));
        model.add_course(course(2, french, sophie, vec![six_b], vec![], room_14));
        model.add_course(course(3, latin_subject, sophie, vec![], vec![latin], room_14));
    }
    model
}

/// Collège 2: mathematics in 5A with Thomas Bernard in place 1 every day (the same hour as in
/// collège 1: an overlap), and history with Hugo Moreau in place 2, in « Salle B2 ».
pub fn college_2() -> SyntheticTimetable {
    let year = year();
    let mut model = SyntheticTimetable::new(year.first_monday, year.last_day, college_places());
    let thomas = model.add_teacher("P01", Some("t-thomas"), "Bernard", "Thomas");
    let hugo = model.add_teacher("P02", Some("t-hugo"), "Moreau", "Hugo");
    let five_a = model.add_class("5A");
    let room = model.add_room("Salle B2");
    let maths = model.add_subject("MATHS", "Mathématiques");
    let history = model.add_subject("HIGEO", "Histoire-géographie");
    let weeks = WeekSet::all(year.week_count());
    for weekday in 1..=7 {
        for (place, subject, teacher) in [(1, maths, thomas), (2, history, hugo)] {
            model.add_course(SyntheticCourse {
                weekday,
                first_place: place,
                place_count: 1,
                weeks,
                cancelled_weeks: WeekSet::EMPTY,
                subject,
                teachers: vec![teacher],
                classes: vec![five_a],
                groups: vec![],
                rooms: vec![room],
            });
        }
    }
    model
}

/// A `multipart/form-data` body of text fields and one file named `fichier`.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Sends the import form of school `uai` with a file.
pub async fn upload(
    app: &App,
    cookie: &str,
    uai: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Reply {
    let csrf = app.csrf(cookie).await;
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    let request = Request::post(format!("/etablissement/{uai}/emploi-du-temps"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, cookie)
        .body(Body::from(multipart(&all, file)))
        .unwrap();
    app.send(request).await
}

/// The heads of both collèges import both timetables through the form.
pub async fn import_both(app: &App) {
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let xml = college_1().to_edt_xml();
    let reply =
        upload(app, &helene, ids::UAI_1, &[("format", "edt")], Some(("edt.xml", xml.as_bytes())))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let xml = college_2().to_edt_xml();
    let reply =
        upload(app, &marc, ids::UAI_2, &[("format", "edt")], Some(("edt.xml", xml.as_bytes())))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// Every `href` of a page that starts with `prefix`, HTML entities decoded.
pub fn links(body: &str, prefix: &str) -> Vec<String> {
    let marker = format!("href=\"{prefix}");
    body.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &body[at + "href=\"".len()..];
            rest.split('"').next().unwrap().replace("&amp;", "&").replace("&#x3d;", "=")
        })
        .collect()
}

/// The value of a hidden field of a page.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).expect("the hidden field") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// How many courses the database holds.
pub async fn course_count(app: &App) -> i64 {
    app.store.fixture_count("SELECT COUNT(*) FROM courses", &[]).await.unwrap()
}
