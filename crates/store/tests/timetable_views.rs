//! Timetable views in the store: instants right across both changes of clocks, in overseas
//! collèges and for a lesson at 23:00; the first and last weeks of the year and A/B weeks; who
//! may see which timetable (a pupil never another class's, a parent only their children's, a
//! teacher no room of another collège); part-class courses; moved, cancelled and replaced
//! occurrences in every view concerned; and a teacher's merged timetable across three
//! collèges with its conflicts.

mod timetable_support;

use domain::timetable::{Conflict, Span, TravelPolicy, WeekSet, conflicts};
use jiff::civil::{Date, date};
use store::StoreError;
use store::fixtures::ids;
use store::timetable::{ChangeRequest, ChangeTarget, Timetable, TimetableSubject};
use timetable_support::*;

fn pupil(id: &str) -> TimetableSubject {
    TimetableSubject::Pupil(id.to_owned())
}

async fn view(
    store: &store::Store,
    viewer: &str,
    subject: &TimetableSubject,
    from: Date,
    to: Date,
) -> Timetable {
    store.timetable(viewer, subject, from, to).await.unwrap_or_else(|e| panic!("{viewer}: {e:?}"))
}

#[tokio::test]
async fn a_monday_eight_oclock_lesson_stays_at_eight_across_both_changes_of_clocks() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;

    for (monday, next, utc_before, utc_after) in [
        (date(2026, 10, 19), date(2026, 10, 26), 6, 7),
        (date(2027, 3, 22), date(2027, 3, 29), 7, 6),
    ] {
        let got = view(&store, ids::ALICE, &pupil(ids::ALICE), monday, next).await;
        assert_eq!(
            summary(&got.occurrences),
            vec![("Mathématiques".into(), monday), ("Mathématiques".into(), next)]
        );
        assert_eq!(utc_hm(got.occurrences[0].start), (utc_before, 0));
        assert_eq!(utc_hm(got.occurrences[1].start), (utc_after, 0));
        for occurrence in &got.occurrences {
            let local = occurrence
                .start
                .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
            assert_eq!((local.date(), local.hour(), local.minute()), (occurrence.date, 8, 0));
            assert_eq!(occurrence.end.as_second() - occurrence.start.as_second(), 3600);
        }
    }
}

#[tokio::test]
async fn overseas_collèges_show_their_lessons_on_their_own_local_day() {
    let store = fixture().await;
    exec(&store, "UPDATE schools SET time_zone = 'Pacific/Noumea' WHERE id = $1", &[ids::SCHOOL_2])
        .await;
    exec(&store, "UPDATE schools SET time_zone = 'Indian/Reunion' WHERE id = $1", &[ids::SCHOOL_1])
        .await;
    let history = with(
        weekly("H1", "Histoire", 1, at((7, 30), (8, 30)), all_weeks()),
        vec![teacher("MOREAU", "Hugo")],
        &["5A"],
        &[],
        &[],
    );
    import(&store, ids::SCHOOL_2, &edt(vec![history])).await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;

    let monday = date(2026, 12, 7);
    let david = view(&store, ids::PAUL, &pupil(ids::DAVID), monday, monday).await;
    assert_eq!(david.time_zone, "Pacific/Noumea");
    assert_eq!(summary(&david.occurrences), vec![("Histoire".into(), monday)]);
    let start = david.occurrences[0].start;
    assert_eq!(start, instant(date(2026, 12, 6), 20, 30, "UTC"), "Sunday evening in UTC");
    let sunday =
        view(&store, ids::PAUL, &pupil(ids::DAVID), date(2026, 12, 6), date(2026, 12, 6)).await;
    assert!(sunday.occurrences.is_empty());

    let alice = view(&store, ids::PAUL, &pupil(ids::ALICE), monday, monday).await;
    assert_eq!(alice.occurrences[0].start, instant(monday, 4, 0, "UTC"), "08:00 in Réunion");
    assert_eq!(alice.occurrences[0].time_zone, "Indian/Reunion");
}

#[tokio::test]
async fn a_lesson_at_eleven_in_the_evening_stays_on_its_day() {
    let store = fixture().await;
    let late = with(
        weekly("N1", "Astronomie", 5, at((23, 0), (23, 59)), all_weeks()),
        Vec::new(),
        &["6A"],
        &[],
        &[],
    );
    let mut across = late.clone();
    across.key = "N2".into();
    across.when = formats::timetable::CourseWhen::Weekly {
        weekday: 6,
        time: domain::timetable::LessonTime::new(23 * 60, 24 * 60 + 30).unwrap(),
        weeks: all_weeks(),
        cancelled_weeks: WeekSet::EMPTY,
    };
    import(&store, ids::SCHOOL_1, &edt(vec![late, across])).await;

    let friday = date(2026, 10, 23);
    let got = view(&store, ids::ALICE, &pupil(ids::ALICE), friday, friday).await;
    assert_eq!(summary(&got.occurrences), vec![("Astronomie".into(), friday)]);
    assert_eq!(got.occurrences[0].start, instant(friday, 21, 0, "UTC"));
    let saturday = date(2026, 10, 24);
    let got = view(&store, ids::ALICE, &pupil(ids::ALICE), saturday, saturday).await;
    assert_eq!(got.occurrences.len(), 1, "the lesson across midnight belongs to its first day");
    let end =
        got.occurrences[0].end.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
    assert_eq!((end.date(), end.hour(), end.minute()), (date(2026, 10, 25), 0, 30));
    assert_eq!(got.occurrences[0].end.as_second() - got.occurrences[0].start.as_second(), 90 * 60);
}

#[tokio::test]
async fn the_first_and_last_weeks_of_the_year_and_alternating_weeks() {
    let store = fixture().await;
    let week_a = WeekSet::from_weeks((1..=45).step_by(2));
    let week_b = all_weeks().minus(week_a);
    import(
        &store,
        ids::SCHOOL_1,
        &edt(vec![
            maths_6a(),
            with(
                weekly("W", "SVT", 3, at((9, 0), (10, 0)), all_weeks()),
                Vec::new(),
                &["6A"],
                &[],
                &[],
            ),
            with(
                weekly("T", "Technologie", 4, at((9, 0), (10, 0)), all_weeks()),
                Vec::new(),
                &["6A"],
                &[],
                &[],
            ),
            with(
                weekly("A", "Physique (A)", 2, at((9, 0), (10, 0)), week_a),
                Vec::new(),
                &["6A"],
                &[],
                &[],
            ),
            with(
                weekly("B", "Chimie (B)", 2, at((9, 0), (10, 0)), week_b),
                Vec::new(),
                &["6A"],
                &[],
                &[],
            ),
        ]),
    )
    .await;
    let alice = pupil(ids::ALICE);

    let before = view(&store, ids::ALICE, &alice, date(2026, 8, 24), date(2026, 8, 30)).await;
    assert!(before.occurrences.is_empty(), "nothing before week 1");
    let first = view(&store, ids::ALICE, &alice, date(2026, 8, 31), date(2026, 9, 1)).await;
    assert_eq!(
        summary(&first.occurrences),
        vec![
            ("Mathématiques".into(), date(2026, 8, 31)),
            ("Physique (A)".into(), date(2026, 9, 1))
        ]
    );
    let second = view(&store, ids::ALICE, &alice, date(2026, 9, 8), date(2026, 9, 8)).await;
    assert_eq!(summary(&second.occurrences), vec![("Chimie (B)".into(), date(2026, 9, 8))]);
    let third = view(&store, ids::ALICE, &alice, date(2026, 9, 15), date(2026, 9, 15)).await;
    assert_eq!(summary(&third.occurrences), vec![("Physique (A)".into(), date(2026, 9, 15))]);

    let last = view(&store, ids::ALICE, &alice, date(2027, 7, 5), date(2027, 7, 11)).await;
    let got: Vec<_> = summary(&last.occurrences).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        got,
        vec!["Mathématiques", "Physique (A)", "SVT"],
        "the year ends on Wednesday 7 July"
    );
}

#[tokio::test]
async fn nobody_sees_a_timetable_that_is_not_theirs() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a(), french_6b(), latin()])).await;
    let history = with(
        weekly("H1", "Histoire", 1, at((10, 0), (11, 0)), all_weeks()),
        vec![teacher("MOREAU", "Hugo")],
        &["5A"],
        &[],
        &["Salle 7"],
    );
    import(&store, ids::SCHOOL_2, &edt(vec![history])).await;
    let room_of_school_2: String = sqlx::query_scalar("SELECT id FROM rooms WHERE school_id = $1")
        .bind(ids::SCHOOL_2)
        .fetch_one(store.import_test_pool())
        .await
        .unwrap();
    let (from, to) = (date(2026, 12, 7), date(2026, 12, 13));
    let class = |id: &str| TimetableSubject::Class(id.to_owned());
    let teacher_of = |id: &str| TimetableSubject::Teacher(id.to_owned());
    let room2 = TimetableSubject::Room(room_of_school_2.clone());

    let refused = [
        (ids::ALICE, pupil(ids::CHLOE)),
        (ids::ALICE, pupil(ids::BRUNO)),
        (ids::ALICE, class(ids::CLASS_6B)),
        (ids::ALICE, teacher_of(ids::THOMAS)),
        (ids::ALICE, room2.clone()),
        (ids::PAUL, pupil(ids::BRUNO)),
        (ids::PAUL, class(ids::CLASS_6A)),
        (ids::QUITTERIE, pupil(ids::DAVID)),
        (ids::NINA, pupil(ids::CHLOE)),
        (ids::HUGO, pupil(ids::ALICE)),
        (ids::SOPHIE, room2.clone()),
        (ids::SOPHIE, class(ids::CLASS_5A)),
        (ids::SOPHIE, teacher_of(ids::HUGO)),
        (ids::MARC, teacher_of(ids::SOPHIE)),
        (ids::OLIVIER, pupil(ids::ALICE)),
        (ids::AGNES, pupil("nobody")),
        (ids::AGNES, class("nowhere")),
    ];
    for (viewer, subject) in refused {
        let got = store.timetable(viewer, &subject, from, to).await;
        assert!(matches!(got, Err(StoreError::NotFound)), "{viewer} must not see {subject:?}");
    }
    let allowed = [
        (ids::ALICE, pupil(ids::ALICE)),
        (ids::ALICE, class(ids::CLASS_6A)),
        (ids::PAUL, pupil(ids::ALICE)),
        (ids::PAUL, pupil(ids::DAVID)),
        (ids::QUITTERIE, pupil(ids::ALICE)),
        (ids::SOPHIE, pupil(ids::ALICE)),
        (ids::SOPHIE, class(ids::CLASS_6A)),
        (ids::THOMAS, room2.clone()),
        (ids::HELENE, teacher_of(ids::SOPHIE)),
        (ids::MARC, teacher_of(ids::THOMAS)),
        (ids::OLIVIER, pupil(ids::DAVID)),
        (ids::AGNES, pupil(ids::CHLOE)),
        (ids::THOMAS, teacher_of(ids::THOMAS)),
    ];
    for (viewer, subject) in allowed {
        store
            .timetable(viewer, &subject, from, to)
            .await
            .unwrap_or_else(|e| panic!("{viewer} {subject:?}: {e:?}"));
    }
    assert!(matches!(
        store.school_rooms(ids::SOPHIE, ids::SCHOOL_2).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.school_rooms(ids::ALICE, ids::SCHOOL_1).await,
        Err(StoreError::NotFound)
    ));
    let rooms = store.school_rooms(ids::THOMAS, ids::SCHOOL_2).await.unwrap();
    assert_eq!(rooms.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["Salle 7"]);

    let subjects = |t: &Timetable| {
        let mut s: Vec<String> = t.occurrences.iter().map(|o| o.subject_label.clone()).collect();
        s.dedup();
        s
    };
    let alice = view(&store, ids::ALICE, &pupil(ids::ALICE), from, to).await;
    assert_eq!(subjects(&alice), vec!["Mathématiques", "Latin"], "her class and her group");
    assert_eq!(alice.title, "Alice Martin");
    let bruno = view(&store, ids::BRUNO, &pupil(ids::BRUNO), from, to).await;
    assert_eq!(subjects(&bruno), vec!["Mathématiques"], "not the Latin group's lesson");
    let chloe = view(&store, ids::SAMI, &pupil(ids::CHLOE), from, to).await;
    assert_eq!(subjects(&chloe), vec!["Français"]);
    let room = view(&store, ids::THOMAS, &room2, from, to).await;
    assert_eq!(subjects(&room), vec!["Histoire"]);

    exec(
        &store,
        "UPDATE pupil_classes SET exit_date = '2020-01-01' WHERE pupil_id = $1",
        &[ids::BRUNO],
    )
    .await;
    let got = store.timetable(ids::BRUNO, &class(ids::CLASS_6A), from, to).await;
    assert!(matches!(got, Err(StoreError::NotFound)), "a pupil who left the class");
    let left = view(&store, ids::BRUNO, &pupil(ids::BRUNO), from, to).await;
    assert!(left.occurrences.is_empty());

    for (a, b) in [(to, from), (date(2026, 9, 1), date(2026, 11, 2))] {
        let got = store.timetable(ids::ALICE, &pupil(ids::ALICE), a, b).await;
        assert!(matches!(got, Err(StoreError::Conflict(_))), "{a} to {b}");
    }
    view(&store, ids::ALICE, &pupil(ids::ALICE), date(2026, 9, 1), date(2026, 11, 1)).await;
}

#[tokio::test]
async fn moved_cancelled_and_replaced_occurrences_show_in_every_view_concerned() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    let maths = course_id(&store, ids::SCHOOL_1, "C1").await;
    let now = instant(date(2026, 11, 2), 12, 0, "Europe/Paris");
    let change = |day: Date, request: ChangeRequest| {
        let store = &store;
        let target = ChangeTarget { course_id: maths.clone(), original_date: day };
        async move { store.change_occurrence(ids::HELENE, &target, &request, now).await.unwrap() }
    };
    change(date(2026, 12, 7), ChangeRequest { cancelled: true, ..ChangeRequest::default() }).await;
    let wednesday = date(2026, 12, 16);
    let moved = ChangeRequest {
        moved_to: Some((wednesday, at((10, 0), (11, 0)))),
        new_room: Some("Salle 205".into()),
        note: "Sortie au musée le lundi".into(),
        ..ChangeRequest::default()
    };
    change(date(2026, 12, 14), moved).await;
    let replaced =
        ChangeRequest { substitute_id: Some(ids::SOPHIE.into()), ..ChangeRequest::default() };
    change(date(2026, 12, 21), replaced).await;
    let alice = pupil(ids::ALICE);

    let first = view(&store, ids::ALICE, &alice, date(2026, 12, 7), date(2026, 12, 13)).await;
    assert_eq!(first.occurrences.len(), 1);
    let cancelled = first.occurrences[0].change.clone().unwrap();
    assert!(cancelled.cancelled && cancelled.origin == "manual");
    assert_eq!(first.occurrences[0].sequence, 1);

    let only_monday =
        view(&store, ids::ALICE, &alice, date(2026, 12, 14), date(2026, 12, 14)).await;
    assert!(only_monday.occurrences.is_empty(), "the lesson left its Monday");
    let later = view(&store, ids::ALICE, &alice, date(2026, 12, 15), date(2026, 12, 18)).await;
    assert_eq!(summary(&later.occurrences), vec![("Mathématiques".into(), wednesday)]);
    let occurrence = &later.occurrences[0];
    assert_eq!(occurrence.original_date, date(2026, 12, 14));
    assert_eq!(occurrence.start, instant(wednesday, 10, 0, "Europe/Paris"));
    let change_of = occurrence.change.clone().unwrap();
    assert_eq!(change_of.moved_from, Some((date(2026, 12, 14), at((8, 0), (9, 0)))));
    assert_eq!(change_of.new_room.as_deref(), Some("Salle 205"));
    assert_eq!(occurrence.rooms, vec!["Salle 101".to_owned()], "the course's room, changed");

    let new_room: String = sqlx::query_scalar("SELECT id FROM rooms WHERE code = 'salle205'")
        .fetch_one(store.import_test_pool())
        .await
        .unwrap();
    let room = view(
        &store,
        ids::HELENE,
        &TimetableSubject::Room(new_room),
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    .await;
    assert_eq!(summary(&room.occurrences), vec![("Mathématiques".into(), wednesday)]);

    let (from, to) = (date(2026, 12, 14), date(2026, 12, 27));
    let sophie =
        view(&store, ids::SOPHIE, &TimetableSubject::Teacher(ids::SOPHIE.into()), from, to).await;
    assert_eq!(summary(&sophie.occurrences), vec![("Mathématiques".into(), date(2026, 12, 21))]);
    let thomas =
        view(&store, ids::THOMAS, &TimetableSubject::Teacher(ids::THOMAS.into()), from, to).await;
    let replaced: Vec<_> = thomas
        .occurrences
        .iter()
        .filter(|o| {
            o.change
                .as_ref()
                .is_some_and(|c| c.substitute.as_ref().is_some_and(|s| s.id == ids::SOPHIE))
        })
        .map(|o| o.date)
        .collect();
    assert_eq!(replaced, vec![date(2026, 12, 21)], "the replaced teacher still sees it, marked");
    assert_eq!(thomas.occurrences.len(), 2);
}

#[tokio::test]
async fn a_teacher_in_three_collèges_gets_one_merged_timetable_with_its_conflicts() {
    let store = fixture().await;
    add_third_school(&store).await;
    let places =
        [(ids::SCHOOL_1, 46.58, 0.34), (ids::SCHOOL_2, 47.01, 0.08), (SCHOOL_3, 46.82, 0.55)];
    for (school, latitude, longitude) in places {
        store.set_school_place(ids::AGNES, school, Some((latitude, longitude))).await.unwrap();
    }
    assert!(matches!(
        store.set_school_place(ids::HELENE, ids::SCHOOL_1, Some((1.0, 1.0))).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.set_school_place(ids::AGNES, ids::SCHOOL_1, Some((91.0, 1.0))).await,
        Err(StoreError::Conflict(_))
    ));
    let thomas = || vec![teacher("BERNARD", "Thomas")];
    let course = |key: &str, weekday, start, end, class: &str| {
        with(
            weekly(key, "Mathématiques", weekday, at(start, end), all_weeks()),
            thomas(),
            &[class],
            &[],
            &[],
        )
    };
    import(
        &store,
        ids::SCHOOL_1,
        &edt(vec![course("P1", 1, (8, 0), (9, 0), "6A"), course("P2", 2, (8, 0), (9, 0), "6A")]),
    )
    .await;
    import(
        &store,
        ids::SCHOOL_2,
        &edt(vec![
            course("L1", 1, (9, 30), (10, 30), "5A"),
            course("L2", 2, (11, 0), (12, 0), "5A"),
        ]),
    )
    .await;
    import(&store, SCHOOL_3, &edt(vec![course("C1", 1, (10, 0), (11, 0), "4A")])).await;

    let subject = TimetableSubject::Teacher(ids::THOMAS.into());
    let monday = date(2026, 12, 7);
    let merged = view(&store, ids::THOMAS, &subject, monday, date(2026, 12, 8)).await;
    let schools: Vec<_> =
        merged.occurrences.iter().map(|o| (o.school_id.as_str(), o.date)).collect();
    assert_eq!(
        schools,
        vec![
            (ids::SCHOOL_1, monday),
            (ids::SCHOOL_2, monday),
            (SCHOOL_3, monday),
            (ids::SCHOOL_1, date(2026, 12, 8)),
            (ids::SCHOOL_2, date(2026, 12, 8)),
        ]
    );
    assert_eq!(merged.occurrences[2].school_name, "Collège Gérard Philipe");
    assert_eq!(merged.occurrences[0].school_place, Some((46.58, 0.34)));

    let spans = |day: Date| -> Vec<Span> {
        merged
            .occurrences
            .iter()
            .filter(|o| o.date == day)
            .map(|o| Span {
                key: o.course_id.clone(),
                school_id: o.school_id.clone(),
                start: o.start,
                end: o.end,
                place: o.school_place,
            })
            .collect()
    };
    let travel = TravelPolicy::default();
    let found = conflicts(&spans(monday), &travel);
    assert!(found.contains(&Conflict::Overlap { first: 1, second: 2 }), "{found:?}");
    assert!(
        found.iter().any(|c| matches!(
            c,
            Conflict::ShortTransfer { first: 0, second: 1, available_minutes: 30, .. }
        )),
        "{found:?}"
    );
    assert!(conflicts(&spans(date(2026, 12, 8)), &travel).is_empty(), "a feasible Tuesday");
}
