//! The timetable import in the store: matching to the directory (national ids, folded names,
//! initials, civilities, ambiguous and unknown names reported and never guessed), re-imports
//! (unchanged writes nothing, changed bumps the sequence, missing is removed), dated courses
//! grouped into weekly patterns with dates outside the year rejected, scoped iCalendar imports
//! replacing their own courses only, a school-wide import replacing the timetable of the other
//! format, cancellations of the file as import changes that leave manual changes alone, who may
//! import, the list of runs, and the refusals that write nothing: another school's UAI, and
//! unless confirmed a file that would wipe its scope or replace most of it with unknown
//! teachers.

mod timetable_support;

use domain::timetable::WeekSet;
use formats::timetable::{CourseWhen, PartyRef};
use formats::timetable::{ParsedTimetable, TimetableSource};
use jiff::civil::date;
use store::StoreError;
use store::fixtures::ids;
use store::timetable::{
    ChangeRequest, ChangeTarget, ImportOptions, ImportScope, ReplacedTimetable,
    TimetableImportOutcome, TimetableSubject,
};
use timetable_support::*;

#[tokio::test]
async fn an_edt_import_matches_the_directory_and_reimporting_it_changes_nothing() {
    let store = fixture().await;
    let file = edt(vec![maths_6a(), french_6b(), latin()]);

    let report = import(&store, ids::SCHOOL_1, &file).await;
    assert_eq!((report.created, report.updated, report.unchanged, report.removed), (3, 0, 0, 0));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.rejections.is_empty() && report.notices.is_empty());
    let maths = course_id(&store, ids::SCHOOL_1, "C1").await;
    let latin_id = course_id(&store, ids::SCHOOL_1, "C3").await;
    let links = "SELECT COUNT(*) FROM course_teachers WHERE course_id = $1 AND person_id = $2";
    assert_eq!(count(&store, links, &[&maths, ids::THOMAS]).await, 1);
    let groups = "SELECT COUNT(*) FROM course_groups WHERE course_id = $1 AND group_id = $2";
    assert_eq!(count(&store, groups, &[&latin_id, ids::GROUP_LATIN]).await, 1);
    let classes = "SELECT COUNT(*) FROM course_classes WHERE course_id = $1";
    assert_eq!(count(&store, classes, &[&latin_id]).await, 2);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM rooms WHERE school_id = $1", &[ids::SCHOOL_1]).await,
        2
    );
    let info = store.school_year_info(ids::SCHOOL_1).await.unwrap().unwrap();
    assert_eq!((info.first_monday, info.last_day, info.courses), (FIRST_MONDAY, LAST_DAY, 3));
    assert_eq!(info.places.len(), 2);
    assert_eq!(store.school_year_info(ids::SCHOOL_2).await.unwrap(), None);

    let stamp = "SELECT updated_at FROM courses WHERE id = $1";
    let before = count(&store, stamp, &[&maths]).await;
    let again = import(&store, ids::SCHOOL_1, &file).await;
    assert_eq!((again.created, again.updated, again.unchanged, again.removed), (0, 0, 3, 0));
    assert_eq!(count(&store, stamp, &[&maths]).await, before);
    let sequences = "SELECT CAST(SUM(sequence) AS BIGINT) FROM courses WHERE school_id = $1";
    assert_eq!(count(&store, sequences, &[ids::SCHOOL_1]).await, 0);

    let mut moved = maths_6a();
    moved.when = CourseWhen::Weekly {
        weekday: 1,
        time: at((9, 0), (10, 0)),
        weeks: all_weeks(),
        cancelled_weeks: WeekSet::EMPTY,
    };
    let changed = import(&store, ids::SCHOOL_1, &edt(vec![moved, latin()])).await;
    assert_eq!(
        (changed.created, changed.updated, changed.unchanged, changed.removed),
        (0, 1, 1, 1)
    );
    let sequence = "SELECT sequence FROM courses WHERE id = $1";
    assert_eq!(count(&store, sequence, &[&maths]).await, 1);
    assert_eq!(
        count(&store, "SELECT start_minute FROM courses WHERE id = $1", &[&maths]).await,
        540
    );
    assert_eq!(count(&store, links, &[&maths, ids::THOMAS]).await, 1, "links rewritten");
    let remaining = "SELECT COUNT(*) FROM courses WHERE school_id = $1 AND source_key = 'C2'";
    assert_eq!(count(&store, remaining, &[ids::SCHOOL_1]).await, 0);

    let runs = store.timetable_imports(ids::SCHOOL_1, 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!((runs[0].0.updated, runs[0].0.removed, runs[0].0.source.as_str()), (1, 1, "edt"));
    assert_eq!(runs[2].0.created, 3);
}

#[tokio::test]
async fn ambiguous_and_unknown_names_are_reported_and_never_guessed() {
    let store = fixture().await;
    add_teacher(&store, "t-thomas-2", "Bernard", "Thomas", "ext-thomas-2").await;
    let by_id = PartyRef {
        external_id: Some(ids::SOPHIE.to_owned()),
        last_name: "NOM".into(),
        first_name: "Faux".into(),
        ..PartyRef::default()
    };
    let file = edt(vec![
        with(maths_6a(), vec![teacher("Bernard", "Thomas")], &["6A"], &[], &[]),
        with(
            french_6b(),
            vec![teacher("DUPUIS", "Marie"), teacher("LAMBERT", "S.")],
            &["6b"],
            &[],
            &[],
        ),
        with(latin(), vec![by_id], &["6Z"], &["LATIN"], &[]),
        with(
            weekly("C4", "Étude", 5, at((16, 0), (17, 0)), all_weeks()),
            Vec::new(),
            &[],
            &[],
            &["CDI"],
        ),
    ]);

    let report = import(&store, ids::SCHOOL_1, &file).await;
    assert_eq!(report.created, 4, "every course is kept");
    let problem = |kind: &str, label: &str| {
        report.problems.iter().find(|p| p.kind == kind && p.label == label).cloned()
    };
    let ambiguous = problem("enseignant", "Bernard Thomas").expect("ambiguous teacher reported");
    assert_eq!((ambiguous.candidates, ambiguous.lines.clone()), (2, vec![10]));
    assert_eq!(problem("enseignant", "DUPUIS Marie").map(|p| p.candidates), Some(0));
    assert_eq!(problem("classe", "6Z").map(|p| p.candidates), Some(0));
    assert_eq!(report.problems.len(), 3, "{:?}", report.problems);
    assert_eq!(report.notices.len(), 1, "the course that matched nobody is reported");
    assert_eq!(report.notices[0].record, "C4");

    let maths = course_id(&store, ids::SCHOOL_1, "C1").await;
    let teachers = "SELECT COUNT(*) FROM course_teachers WHERE course_id = $1";
    assert_eq!(count(&store, teachers, &[&maths]).await, 0, "no guess between homonyms");
    let unmatched: String =
        sqlx::query_scalar("SELECT unmatched_teachers FROM courses WHERE id = $1")
            .bind(&maths)
            .fetch_one(store.import_test_pool())
            .await
            .unwrap();
    assert_eq!(unmatched, "Bernard Thomas");
    let french = course_id(&store, ids::SCHOOL_1, "C2").await;
    let link = "SELECT COUNT(*) FROM course_teachers WHERE course_id = $1 AND person_id = $2";
    assert_eq!(count(&store, link, &[&french, ids::SOPHIE]).await, 1, "an initial is enough");
    let classes = "SELECT COUNT(*) FROM course_classes WHERE course_id = $1 AND class_id = $2";
    assert_eq!(count(&store, classes, &[&french, ids::CLASS_6B]).await, 1, "codes are folded");
    let latin_id = course_id(&store, ids::SCHOOL_1, "C3").await;
    assert_eq!(count(&store, link, &[&latin_id, ids::SOPHIE]).await, 1, "national id first");

    let room = store
        .timetable(
            ids::HELENE,
            &TimetableSubject::Room(room_id(&store, "cdi").await),
            date(2026, 9, 4),
            date(2026, 9, 4),
        )
        .await
        .unwrap();
    assert_eq!(summary(&room.occurrences), vec![("Étude".to_owned(), date(2026, 9, 4))]);

    let moreau = PartyRef { label: "M. MOREAU".into(), ..PartyRef::default() };
    let other = edt(vec![with(
        weekly("H1", "Histoire", 3, at((8, 0), (9, 0)), all_weeks()),
        vec![moreau],
        &["5A"],
        &[],
        &[],
    )]);
    let report = import(&store, ids::SCHOOL_2, &other).await;
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let history = course_id(&store, ids::SCHOOL_2, "H1").await;
    assert_eq!(count(&store, link, &[&history, ids::HUGO]).await, 1, "civility and surname");
}

async fn room_id(store: &store::Store, code: &str) -> String {
    sqlx::query_scalar::<_, String>("SELECT id FROM rooms WHERE code = $1")
        .bind(code.to_owned())
        .fetch_one(store.import_test_pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn dated_courses_become_weekly_patterns_and_dates_outside_the_year_are_rejected() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![french_6b()])).await;
    let eight = at((8, 0), (9, 0));
    let ten = at((10, 0), (11, 0));
    let mut course = weekly("uid-1@pronote", "Mathématiques", 1, eight, WeekSet::EMPTY);
    course.line = 42;
    course.when = CourseWhen::Dated {
        occurrences: vec![
            (date(2026, 9, 7), eight),
            (date(2026, 9, 14), eight),
            (date(2026, 9, 28), eight),
            (date(2026, 9, 9), ten),
            (date(2027, 8, 2), eight),
        ],
        cancelled: vec![(date(2026, 9, 21), eight)],
    };
    let mut other = weekly("uid-2@pronote", "Musique", 5, eight, WeekSet::EMPTY);
    other.when =
        CourseWhen::Dated { occurrences: vec![(date(2026, 9, 11), eight)], cancelled: Vec::new() };
    let scope = ImportScope::Class(ids::CLASS_6A.to_owned());

    let report = store
        .import_timetable(
            Some(ids::HELENE),
            ids::SCHOOL_1,
            "6A.ics",
            &ical(vec![course, other.clone()]),
            &scope,
        )
        .await
        .unwrap();
    assert_eq!(report.created, 3, "two patterns for the first event, one for the second");
    assert_eq!(report.rejections.len(), 1);
    assert_eq!((report.rejections[0].line, report.rejections[0].file.as_str()), (42, "6A.ics"));
    assert!(report.rejections[0].reason.contains("2027-08-02"), "{}", report.rejections[0].reason);

    let week = store
        .timetable(
            ids::ALICE,
            &TimetableSubject::Pupil(ids::ALICE.to_owned()),
            date(2026, 9, 7),
            date(2026, 9, 30),
        )
        .await
        .unwrap();
    let mut got = summary(&week.occurrences);
    got.sort();
    let maths = |d| ("Mathématiques".to_owned(), d);
    let mut expected = vec![
        maths(date(2026, 9, 7)),
        maths(date(2026, 9, 9)),
        maths(date(2026, 9, 14)),
        maths(date(2026, 9, 21)),
        maths(date(2026, 9, 28)),
        ("Musique".to_owned(), date(2026, 9, 11)),
    ];
    expected.sort();
    assert_eq!(got, expected);
    let cancelled: Vec<_> = week
        .occurrences
        .iter()
        .filter(|o| o.change.as_ref().is_some_and(|c| c.cancelled && c.origin == "import"))
        .map(|o| o.date)
        .collect();
    assert_eq!(cancelled, vec![date(2026, 9, 21)]);

    // An empty feed would wipe the class: refused, nothing written, until confirmed; then it
    // removes the class's courses, and only them.
    let refused = store
        .import_timetable(Some(ids::HELENE), ids::SCHOOL_1, "6A.ics", &ical(vec![]), &scope)
        .await;
    let Err(StoreError::Conflict(reason)) = refused else { panic!("{refused:?}") };
    assert!(reason.contains("retirerait les 3 cours de la classe"), "{reason}");
    let left = "SELECT COUNT(*) FROM courses WHERE school_id = $1";
    assert_eq!(count(&store, left, &[ids::SCHOOL_1]).await, 4, "nothing removed");
    let runs = store.timetable_imports(ids::SCHOOL_1, 1).await.unwrap();
    assert_eq!((runs[0].0.outcome.as_str(), runs[0].0.file_name.as_str()), ("refused", "6A.ics"));
    let confirmed = ImportOptions { confirmed: true };
    let outcome = store
        .import_timetable_with(
            Some(ids::HELENE),
            ids::SCHOOL_1,
            "6A.ics",
            &ical(vec![]),
            &scope,
            confirmed,
        )
        .await
        .unwrap();
    let TimetableImportOutcome::Applied(report) = outcome else { panic!("{outcome:?}") };
    assert_eq!(report.removed, 3);
    assert_eq!(count(&store, left, &[ids::SCHOOL_1]).await, 1, "the EDT course stays");
    let report = store
        .import_timetable(None, ids::SCHOOL_1, "6A.ics", &ical(vec![other.clone()]), &scope)
        .await
        .unwrap();
    assert_eq!(report.created, 1);
    let six_b = ImportScope::Class(ids::CLASS_6B.to_owned());
    store.import_timetable(None, ids::SCHOOL_1, "6B.ics", &ical(vec![]), &six_b).await.unwrap();
    assert_eq!(count(&store, left, &[ids::SCHOOL_1]).await, 2, "another class's feed is apart");
}

#[tokio::test]
async fn cancellations_of_the_file_are_replaced_at_each_import_and_manual_changes_stay() {
    let store = fixture().await;
    let with_cancelled = |weeks: &[u8]| {
        let mut course = maths_6a();
        course.when = CourseWhen::Weekly {
            weekday: 1,
            time: at((8, 0), (9, 0)),
            weeks: all_weeks(),
            cancelled_weeks: WeekSet::from_weeks(weeks.iter().copied()),
        };
        edt(vec![course])
    };
    import(&store, ids::SCHOOL_1, &with_cancelled(&[3])).await;
    let maths = course_id(&store, ids::SCHOOL_1, "C1").await;
    let changes = "SELECT COUNT(*) FROM course_changes WHERE course_id = $1 AND origin = $2 \
                   AND occurrence_date = $3 AND cancelled = 1";
    assert_eq!(count(&store, changes, &[&maths, "import", "2026-09-14"]).await, 1);

    let target = ChangeTarget { course_id: maths.clone(), original_date: date(2026, 9, 21) };
    let request = ChangeRequest { exam: true, ..ChangeRequest::default() };
    store
        .change_occurrence(
            ids::HELENE,
            &target,
            &request,
            instant(date(2026, 9, 1), 9, 0, "Europe/Paris"),
        )
        .await
        .unwrap();

    import(&store, ids::SCHOOL_1, &with_cancelled(&[4])).await;
    assert_eq!(count(&store, changes, &[&maths, "import", "2026-09-14"]).await, 0);
    let manual = "SELECT COUNT(*) FROM course_changes WHERE course_id = $1 AND origin = 'manual' \
                  AND occurrence_date = $2 AND cancelled = 0 AND exam = 1";
    assert_eq!(count(&store, manual, &[&maths, "2026-09-21"]).await, 1, "the manual change wins");
    let again = import(&store, ids::SCHOOL_1, &with_cancelled(&[4, 5])).await;
    assert_eq!(again.updated, 0, "cancellations are not the course's content");
    assert_eq!(count(&store, changes, &[&maths, "import", "2026-09-28"]).await, 1);
    let all = "SELECT COUNT(*) FROM course_changes WHERE course_id = $1";
    assert_eq!(count(&store, all, &[&maths]).await, 2);
}

#[tokio::test]
async fn only_administrators_of_the_school_import_and_refused_files_are_listed() {
    let store = fixture().await;
    let file = edt(vec![maths_6a()]);
    let scope = ImportScope::School;
    for (actor, school) in [
        (ids::SOPHIE, ids::SCHOOL_1),
        (ids::MARC, ids::SCHOOL_1),
        (ids::ALICE, ids::SCHOOL_1),
        (ids::HELENE, "nowhere"),
    ] {
        let refused = store.import_timetable(Some(actor), school, "f.xml", &file, &scope).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{actor} on {school}");
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM courses", &[]).await, 0);
    store.import_timetable(Some(ids::HELENE), ids::SCHOOL_1, "f.xml", &file, &scope).await.unwrap();
    store
        .import_timetable(Some(ids::AGNES), ids::SCHOOL_2, "f.xml", &edt(vec![]), &scope)
        .await
        .unwrap();
    let audited =
        "SELECT COUNT(*) FROM audit_log WHERE action = 'timetable_imported' AND actor_id = $1";
    assert_eq!(count(&store, audited, &[ids::HELENE]).await, 1);

    let hugo = ImportScope::Teacher(ids::HUGO.to_owned());
    let outside = store
        .import_timetable(Some(ids::HELENE), ids::SCHOOL_1, "h.ics", &ical(vec![]), &hugo)
        .await;
    assert!(matches!(outside, Err(StoreError::NotFound)), "a teacher of another collège");
    let class_5a = ImportScope::Class(ids::CLASS_5A.to_owned());
    let outside =
        store.import_timetable(None, ids::SCHOOL_1, "c.ics", &ical(vec![]), &class_5a).await;
    assert!(matches!(outside, Err(StoreError::NotFound)), "a class of another collège");

    store
        .record_refused_timetable(
            Some(ids::HELENE),
            ids::SCHOOL_1,
            "udt",
            "bad.zip",
            "archive illisible",
        )
        .await
        .unwrap();
    let refused =
        store.record_refused_timetable(Some(ids::SOPHIE), ids::SCHOOL_1, "udt", "x.zip", "x").await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    let runs = store.timetable_imports(ids::SCHOOL_1, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0].0.outcome.as_str(), runs[0].0.rejections), ("refused", 1));
    assert_eq!(runs[0].1.rejections[0].reason, "archive illisible");
    assert_eq!(runs[1].0.outcome, "applied");
}

/// The file as UDT would give it.
fn udt(courses: Vec<formats::timetable::ParsedCourse>) -> ParsedTimetable {
    ParsedTimetable { source: TimetableSource::Udt, ..edt(courses) }
}

async fn sources(store: &store::Store) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT source, source_scope FROM courses WHERE school_id = $1 ORDER BY source, source_key",
    )
    .bind(ids::SCHOOL_1)
    .fetch_all(store.import_test_pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_school_wide_import_replaces_the_timetable_imported_from_the_other_format() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a(), french_6b(), latin()])).await;
    let mut music = weekly("uid-m@pronote", "Musique", 5, at((8, 0), (9, 0)), WeekSet::EMPTY);
    music.when = CourseWhen::Dated {
        occurrences: vec![(date(2026, 9, 11), at((8, 0), (9, 0)))],
        cancelled: Vec::new(),
    };
    let six_a = ImportScope::Class(ids::CLASS_6A.to_owned());
    store
        .import_timetable(None, ids::SCHOOL_1, "6A.ics", &ical(vec![music]), &six_a)
        .await
        .unwrap();

    let report = import(&store, ids::SCHOOL_1, &udt(vec![maths_6a(), french_6b()])).await;

    assert_eq!((report.created, report.unchanged, report.removed), (2, 0, 3));
    assert_eq!(report.replaced, vec![ReplacedTimetable { source: "edt".into(), courses: 3 }]);
    let expected = vec![
        ("ical".to_owned(), format!("class:{}", ids::CLASS_6A)),
        ("udt".to_owned(), String::new()),
        ("udt".to_owned(), String::new()),
    ];
    assert_eq!(sources(&store).await, expected, "one school-wide timetable; the class feed stays");
    let runs = store.timetable_imports(ids::SCHOOL_1, 1).await.unwrap();
    assert_eq!(runs[0].1.replaced, report.replaced, "the history keeps it");

    // And back: the EDT file replaces the UDT one; the same format replaces nothing else.
    let back = import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    assert_eq!((back.created, back.removed), (1, 2));
    assert_eq!(back.replaced, vec![ReplacedTimetable { source: "udt".into(), courses: 2 }]);
    let again = import(&store, ids::SCHOOL_1, &edt(vec![maths_6a(), latin()])).await;
    assert!(again.replaced.is_empty());
}

#[tokio::test]
async fn a_file_naming_another_school_is_refused_even_confirmed_and_writes_nothing() {
    let store = fixture().await;
    let other =
        ParsedTimetable { school_uai: Some(ids::UAI_2.to_owned()), ..edt(vec![maths_6a()]) };

    for confirmed in [false, true] {
        let outcome = store
            .import_timetable_with(
                Some(ids::HELENE),
                ids::SCHOOL_1,
                "edt.xml",
                &other,
                &ImportScope::School,
                ImportOptions { confirmed },
            )
            .await
            .unwrap();
        let TimetableImportOutcome::Refused(refusal) = outcome else { panic!("{outcome:?}") };
        assert!(!refusal.confirmable);
        assert!(
            refusal.reason.contains(ids::UAI_2) && refusal.reason.contains(ids::UAI_1),
            "{}",
            refusal.reason
        );
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM courses", &[]).await, 0);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM school_years", &[]).await, 0);
    let runs = store.timetable_imports(ids::SCHOOL_1, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|(summary, _)| summary.outcome == "refused"));

    let own = ParsedTimetable { school_uai: Some("0860001a".to_owned()), ..edt(vec![maths_6a()]) };
    assert_eq!(import(&store, ids::SCHOOL_1, &own).await.created, 1, "its own UAI, any case");
}

#[tokio::test]
async fn a_file_replacing_most_courses_with_unknown_teachers_needs_a_confirmation() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a(), french_6b(), latin()])).await;
    let stranger = |key: &str, last: &str| {
        with(
            weekly(key, "Histoire", 2, at((8, 0), (9, 0)), all_weeks()),
            vec![teacher(last, "Jean")],
            &["6A"],
            &[],
            &[],
        )
    };
    let foreign = edt(vec![stranger("X1", "INCONNU"), stranger("X2", "AILLEURS")]);

    let outcome = store
        .import_timetable_with(
            Some(ids::HELENE),
            ids::SCHOOL_1,
            "autre.xml",
            &foreign,
            &ImportScope::School,
            ImportOptions { confirmed: false },
        )
        .await
        .unwrap();

    let TimetableImportOutcome::Refused(refusal) = outcome else { panic!("{outcome:?}") };
    assert!(refusal.confirmable);
    assert!(
        refusal.reason.contains("3 des 3 cours") && refusal.reason.contains("0 des 2 enseignants"),
        "{}",
        refusal.reason
    );
    course_id(&store, ids::SCHOOL_1, "C1").await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM courses", &[]).await, 3, "nothing written");
    let runs = store.timetable_imports(ids::SCHOOL_1, 1).await.unwrap();
    assert_eq!(runs[0].0.outcome, "refused");
    assert_eq!(runs[0].1.rejections[0].reason, refusal.reason);

    // A file whose teachers are known may replace most courses; a confirmed one is applied.
    let known = edt(vec![with(
        weekly("K1", "Histoire", 2, at((8, 0), (9, 0)), all_weeks()),
        vec![teacher("BERNARD", "Thomas")],
        &["6A"],
        &[],
        &[],
    )]);
    let report = import(&store, ids::SCHOOL_1, &known).await;
    assert_eq!((report.created, report.removed), (1, 3));
    let outcome = store
        .import_timetable_with(
            None,
            ids::SCHOOL_1,
            "autre.xml",
            &foreign,
            &ImportScope::School,
            ImportOptions { confirmed: true },
        )
        .await
        .unwrap();
    let TimetableImportOutcome::Applied(report) = outcome else { panic!("{outcome:?}") };
    assert_eq!((report.created, report.removed), (2, 1));
}
