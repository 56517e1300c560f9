//! `preau import timetable` as a school's administrator runs it, on the store's fixture
//! département (a database on the backend `PREAU_TEST_DATABASE` names): an EDT file and a UDT
//! export (ZIP, then the same export as a folder) written from one synthetic model whose names
//! are the directory's, imported with every name matched and the lessons at their local times;
//! a second import that changes nothing; an iCalendar file for one class (its code typed
//! loosely) and one teacher (by login); French errors with a non-zero exit for an unknown UAI,
//! an unknown or ambiguous class and a teacher who does not teach there; and a hostile or
//! truncated file refused whole, with its located reason, recorded, and nothing changed; a UDT
//! export replacing the EDT timetable; a file whose teachers are unknown refused until
//! `--confirmer`.

mod mail_common;
mod timetable_support;

use std::path::Path;

use jiff::civil::Date;
use mail_common::{Db, fixture_db, ids};
use store::timetable::{Occurrence, TimetableSubject};
use timetable_support::{
    CANCELLED_LATIN_WEEK, college_1, college_2, place, preau, shift, text, this_year,
};

/// A week of the year well inside it (the fifth), by its Monday.
fn fifth_monday() -> Date {
    this_year().date_of(5, 1).unwrap()
}

/// The occurrences of a subject over the week of `monday`, as the département's agent sees
/// them.
async fn week(db: &Db, subject: TimetableSubject, monday: Date) -> Vec<Occurrence> {
    let to = shift(monday, 6);
    db.store.timetable(ids::AGNES, &subject, monday, to).await.unwrap().occurrences
}

/// `(weekday, start minute, subject, teachers, rooms, cancelled)` of each occurrence.
fn summary(occurrences: &[Occurrence]) -> Vec<(i8, u16, String, String, String, bool)> {
    occurrences
        .iter()
        .map(|o| {
            let teachers: Vec<&str> = o.teachers.iter().map(|t| t.name.as_str()).collect();
            (
                o.date.weekday().to_monday_one_offset(),
                o.time.start_minute,
                o.subject_label.clone(),
                teachers.join(", "),
                o.rooms.join(", "),
                o.change.as_ref().is_some_and(|c| c.cancelled),
            )
        })
        .collect()
}

async fn course_count(db: &Db, school_id: &str) -> i64 {
    db.store
        .fixture_count("SELECT COUNT(*) FROM courses WHERE school_id = $1", &[school_id])
        .await
        .unwrap()
}

fn import(db: &Db, args: &[&str]) -> std::process::Output {
    let mut line = vec!["import", "timetable"];
    line.extend_from_slice(args);
    preau(db.dir.path(), &db.url, &line)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Unpacks a ZIP into `dir` with Python's standard library (the test command has Python).
fn unzip(zip: &str, dir: &Path) {
    let status = std::process::Command::new("python3")
        .args(["-m", "zipfile", "-e", zip])
        .arg(dir)
        .status()
        .unwrap_or_else(|error| panic!("python3 is needed to unpack the UDT ZIP ({error})"));
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edt_and_udt_exports_import_with_every_name_matched_and_again_without_change() {
    let db = fixture_db().await;
    let year = this_year();
    let files = tempfile::tempdir().unwrap();
    let edt = write(files.path(), "EDT_0860001A.xml", college_1(year).to_edt_xml().as_bytes());
    let udt = write(files.path(), "UDT_0860002B.zip", &college_2(year).to_udt_zip());

    let output = import(&db, &["--school", ids::UAI_1, "--format", "edt", &edt]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains(
            "Emploi du temps EDT_0860001A.xml : 5 cours créés, 0 modifiés, 0 inchangés, 0 retirés."
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("non reconnus") && !stdout.contains("refusés"), "{stdout}");

    let output = import(&db, &["--school", "0860002b", "--format", "udt", &udt]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("2 cours créés, 0 modifiés, 0 inchangés, 0 retirés."), "{stdout}");

    // The lessons, at their local times, with the directory's people and the file's rooms.
    let monday = fifth_monday();
    let maths = "Mathématiques".to_owned();
    let french = "Français".to_owned();
    let thomas = "Thomas Bernard".to_owned();
    let sophie = "Sophie Lambert".to_owned();
    let six_a = week(&db, TimetableSubject::Class(ids::CLASS_6A.into()), monday).await;
    let expected = vec![
        (1, place(1).start_minute, maths.clone(), thomas.clone(), "Salle 101".into(), false),
        (3, place(1).start_minute, french.clone(), sophie.clone(), "Salle 102".into(), false),
        (4, place(3).start_minute, maths.clone(), thomas.clone(), "Salle 101".into(), false),
    ];
    assert_eq!(summary(&six_a), expected, "week 5 is an A week");
    assert_eq!(six_a[2].time.end_minute, place(4).end_minute, "two places");
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let local = six_a[0].start.to_zoned_datetime(zone).datetime();
    assert_eq!(local, monday.at(8, 0, 0, 0));

    let alice = TimetableSubject::Pupil(ids::ALICE.into());
    let latin_week = this_year().date_of(CANCELLED_LATIN_WEEK, 1).unwrap();
    let latin = week(&db, alice, latin_week).await;
    let friday = latin.iter().find(|o| o.subject_label == "Latin").unwrap();
    assert!(friday.change.as_ref().is_some_and(|c| c.cancelled), "the file's cancelled week");

    let merged = week(&db, TimetableSubject::Teacher(ids::THOMAS.into()), monday).await;
    let schools: Vec<&str> = merged.iter().map(|o| o.school_uai.as_str()).collect();
    assert_eq!(schools, [ids::UAI_1, ids::UAI_2, ids::UAI_1], "one timetable, two collèges");

    // The same files again: nothing changes, and the UDT folder reads like its ZIP.
    let before = week(&db, TimetableSubject::Class(ids::CLASS_5A.into()), monday).await;
    let output = import(&db, &["--school", ids::UAI_1, "--format", "edt", &edt]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("0 cours créés, 0 modifiés, 5 inchangés, 0 retirés."), "{stdout}");
    let folder = files.path().join("udt");
    unzip(&udt, &folder);
    let folder = folder.join("Export UDT");
    let output =
        import(&db, &["--school", ids::UAI_2, "--format", "udt", folder.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains(
            "Emploi du temps Export UDT : 0 cours créés, 0 modifiés, 2 inchangés, 0 retirés."
        ),
        "{stdout}"
    );
    assert_eq!(week(&db, TimetableSubject::Class(ids::CLASS_5A.into()), monday).await, before);
    assert_eq!(week(&db, TimetableSubject::Class(ids::CLASS_6A.into()), monday).await, six_a);
}

/// An iCalendar feed of one class: four Mondays at 10:05 in Paris, the second left out
/// (EXDATE), the third cancelled by an override.
fn class_feed(first: Date) -> String {
    let day = |week: i64| shift(first, 7 * week).strftime("%Y%m%d").to_string();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Pronote//FR\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n\
         BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n\
         BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
         TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n\
         END:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:physique-6b@pronote\r\nDTSTAMP:20250901T000000Z\r\n\
         DTSTART;TZID=Europe/Paris:{d0}T100500\r\nDTEND;TZID=Europe/Paris:{d0}T110000\r\n\
         RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/Paris:{d1}T100500\r\n\
         SUMMARY:Physique-chimie\r\nLOCATION:Laboratoire\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:physique-6b@pronote\r\nDTSTAMP:20250901T000000Z\r\n\
         RECURRENCE-ID;TZID=Europe/Paris:{d2}T100500\r\n\
         DTSTART;TZID=Europe/Paris:{d2}T100500\r\nDTEND;TZID=Europe/Paris:{d2}T110000\r\n\
         STATUS:CANCELLED\r\nSUMMARY:Physique-chimie\r\nLOCATION:Laboratoire\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
        d0 = day(0),
        d1 = day(1),
        d2 = day(2),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_icalendar_file_imports_for_one_class_or_one_teacher_named_on_the_command_line() {
    let db = fixture_db().await;
    let files = tempfile::tempdir().unwrap();
    let monday = fifth_monday();
    let ics = write(files.path(), "6B.ics", class_feed(monday).as_bytes());

    let output = import(&db, &["--school", ids::UAI_1, "--format", "ical", "--class", "6 b", &ics]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("Emploi du temps 6B.ics : 1 cours créés"), "{stdout}");

    let subject = TimetableSubject::Class(ids::CLASS_6B.into());
    let four_weeks = db.store.timetable(ids::AGNES, &subject, monday, shift(monday, 27)).await;
    let lessons: Vec<(Date, u16, bool)> = four_weeks
        .unwrap()
        .occurrences
        .iter()
        .map(|o| (o.date, o.time.start_minute, o.change.as_ref().is_some_and(|c| c.cancelled)))
        .collect();
    let at_10_05 = 10 * 60 + 5;
    assert_eq!(
        lessons,
        [
            (monday, at_10_05, false),
            (shift(monday, 14), at_10_05, true),
            (shift(monday, 21), at_10_05, false)
        ]
    );

    // The same file for a teacher, by a login typed loosely.
    let output = import(
        &db,
        &["--school", ids::UAI_1, "--format", "ical", "--teacher", " Sophie.Lambert", &ics],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let subject = TimetableSubject::Teacher(ids::SOPHIE.into());
    let sophie = db.store.timetable(ids::AGNES, &subject, monday, shift(monday, 6)).await.unwrap();
    assert_eq!(sophie.occurrences.len(), 1);

    // Who the file is for must be one class or teacher of the collège, never a guess.
    let courses = course_count(&db, ids::SCHOOL_1).await;
    db.store
        .fixture_execute(
            "INSERT INTO classes (id, school_id, code) VALUES ('class-6a-bis', $1, '6 A')",
            &[ids::SCHOOL_1],
        )
        .await
        .unwrap();
    let refusals = [
        (
            vec!["--class", "6a"],
            "« 6a » désigne 2 classes du collège Collège Jean Moulin (0860001A)",
        ),
        (
            vec!["--class", "6Z"],
            "le collège Collège Jean Moulin (0860001A) n'a pas de classe « 6Z »",
        ),
        (
            vec!["--teacher", "hugo.moreau"],
            "« hugo.moreau » n'enseigne pas au collège Collège Jean Moulin (0860001A)",
        ),
        (
            vec!["--teacher", "personne.inconnue"],
            "aucun compte n'a l'identifiant « personne.inconnue »",
        ),
    ];
    for (target, message) in refusals {
        let mut args = vec!["--school", ids::UAI_1, "--format", "ical"];
        args.extend(target);
        args.push(&ics);
        let output = import(&db, &args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let output = import(&db, &["--school", ids::UAI_1, "--format", "ical", &ics]);
    assert_eq!(output.status.code(), Some(64), "no class nor teacher");
    assert!(text(&output.stderr).contains("précisez --class <CODE> ou --teacher <IDENTIFIANT>"));
    assert_eq!(course_count(&db, ids::SCHOOL_1).await, courses);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_or_truncated_file_is_refused_whole_and_changes_nothing() {
    let db = fixture_db().await;
    let files = tempfile::tempdir().unwrap();
    let xml = college_1(this_year()).to_edt_xml();
    let edt = write(files.path(), "EDT.xml", xml.as_bytes());
    let output = import(&db, &["--school", ids::UAI_1, "--format", "edt", &edt]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let monday = fifth_monday();
    let before = week(&db, TimetableSubject::Class(ids::CLASS_6A.into()), monday).await;
    assert_eq!(before.len(), 3);

    let truncated = write(files.path(), "EDT-tronque.xml", &xml.as_bytes()[..xml.len() * 2 / 3]);
    let hostile = write(
        files.path(),
        "EDT-entites.xml",
        b"<?xml version=\"1.0\"?>\n<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\">\
          <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n\
          <ExportEntEdt><GrilleHoraire DureePlace=\"55\">&b;</GrilleHoraire></ExportEntEdt>\n",
    );
    let garbage = write(files.path(), "UDT.zip", b"PK\x03\x04 pas vraiment un zip");
    for (format, file, name, place) in [
        ("edt", &truncated, "EDT-tronque.xml", ", ligne "),
        ("edt", &hostile, "EDT-entites.xml", ", ligne "),
        ("udt", &garbage, "UDT.zip", " : archive ZIP illisible"),
    ] {
        let output = import(&db, &["--school", ids::UAI_1, "--format", format, file]);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(2), "{name}: {stdout}{}", text(&output.stderr));
        let said = format!("Emploi du temps {name} refusé, rien n'a été importé : {name}{place}");
        assert!(stdout.contains(&said), "{stdout}");
        assert!(!stdout.contains("ligne 0"), "{stdout}");
    }
    assert_eq!(week(&db, TimetableSubject::Class(ids::CLASS_6A.into()), monday).await, before);
    let refused = db
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM timetable_imports WHERE school_id = $1 AND outcome = 'refused'",
            &[ids::SCHOOL_1],
        )
        .await
        .unwrap();
    assert_eq!(refused, 3, "each refusal is in the school's list of imports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_school_or_a_missing_file_is_an_error_in_french() {
    let db = fixture_db().await;
    let files = tempfile::tempdir().unwrap();
    let edt = write(files.path(), "EDT.xml", college_1(this_year()).to_edt_xml().as_bytes());

    let output = import(&db, &["--school", "0869999Z", "--format", "edt", &edt]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("erreur : aucun collège actif n'a l'UAI « 0869999Z »"), "{stderr}");

    let missing = files.path().join("absent.xml");
    let output =
        import(&db, &["--school", ids::UAI_1, "--format", "edt", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("impossible d'ouvrir"), "{}", text(&output.stderr));

    let imports =
        db.store.fixture_count("SELECT COUNT(*) FROM timetable_imports", &[]).await.unwrap();
    assert_eq!((imports, course_count(&db, ids::SCHOOL_1).await), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_udt_export_replaces_the_edt_one_and_a_strangers_file_needs_confirmer() {
    let db = fixture_db().await;
    let files = tempfile::tempdir().unwrap();
    let year = this_year();
    let edt = write(files.path(), "EDT.xml", college_1(year).to_edt_xml().as_bytes());
    let udt = write(files.path(), "UDT.zip", &college_1(year).to_udt_zip());
    let output = import(&db, &["--school", ids::UAI_1, "--format", "edt", &edt]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let courses = course_count(&db, ids::SCHOOL_1).await;

    let output = import(&db, &["--school", ids::UAI_1, "--format", "udt", &udt]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    let said = format!(
        "Remplace l'emploi du temps importé au format EDT (export ENT déchiffré) : ses {courses} \
         cours ont été retirés."
    );
    assert!(stdout.contains(&said), "{stdout}");
    assert_eq!(course_count(&db, ids::SCHOOL_1).await, courses, "one timetable, not two");

    let strangers = college_1(year)
        .to_edt_xml()
        .replace(ids::THOMAS, "x-1")
        .replace("Bernard", "Inconnu")
        .replace("Lambert", "Ailleurs");
    let other = write(files.path(), "autre.xml", strangers.as_bytes());
    let output = import(&db, &["--school", ids::UAI_1, "--format", "edt", &other]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("Emploi du temps autre.xml refusé, rien n'a été importé"), "{stdout}");
    assert!(stdout.contains("0 des 2 enseignants"), "{stdout}");
    assert!(stdout.contains("--confirmer"), "{stdout}");
    let sources = "SELECT COUNT(*) FROM courses WHERE school_id = $1 AND source = 'udt'";
    assert_eq!(db.store.fixture_count(sources, &[ids::SCHOOL_1]).await.unwrap(), courses);

    let output = import(&db, &["--school", ids::UAI_1, "--format", "edt", "--confirmer", &other]);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Emploi du temps autre.xml : "), "{stdout}{}", text(&output.stderr));
    assert_eq!(db.store.fixture_count(sources, &[ids::SCHOOL_1]).await.unwrap(), 0);
}
