//! Changes of one occurrence in the store: who may make them, what is checked (the substitute
//! teaches in the collège, a move stays in the year, the date is an occurrence), the outbox
//! entry written only for the next days, the revert, the upcoming changes of a pupil, a parent
//! (per child) and a teacher (own and replaced lessons), and the e-mail targets of a change
//! (only those who asked, with an active account, not notified of this version yet).

mod timetable_support;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use store::StoreError;
use store::fixtures::ids;
use store::timetable::{
    CHANGE_OUTBOX_KIND, ChangeRequest, ChangeTarget, TimetableSubject, change_delivery_subject,
};
use timetable_support::*;

/// Thursday 3 December 2026, noon in Paris.
fn now() -> Timestamp {
    instant(date(2026, 12, 3), 12, 0, "Europe/Paris")
}

async fn setup() -> (store::testing::TestStore, String, String) {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a(), french_6b(), latin()])).await;
    let maths = course_id(&store, ids::SCHOOL_1, "C1").await;
    let french = course_id(&store, ids::SCHOOL_1, "C2").await;
    (store, maths, french)
}

fn target(course: &str, day: Date) -> ChangeTarget {
    ChangeTarget { course_id: course.to_owned(), original_date: day }
}

fn cancel() -> ChangeRequest {
    ChangeRequest { cancelled: true, ..ChangeRequest::default() }
}

async fn outbox(store: &store::Store) -> i64 {
    count(store, "SELECT COUNT(*) FROM outbox WHERE kind = $1", &[CHANGE_OUTBOX_KIND]).await
}

#[tokio::test]
async fn only_the_school_changes_its_lessons_and_requests_are_checked() {
    let (store, maths, _) = setup().await;
    let monday = date(2026, 12, 7);
    for actor in [ids::SOPHIE, ids::MARC, ids::ALICE, ids::OLIVIER] {
        let refused =
            store.change_occurrence(actor, &target(&maths, monday), &cancel(), now()).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{actor}");
    }
    let tuesday = store
        .change_occurrence(ids::HELENE, &target(&maths, date(2026, 12, 8)), &cancel(), now())
        .await;
    assert!(matches!(tuesday, Err(StoreError::NotFound)), "not an occurrence of the course");
    let unknown =
        store.change_occurrence(ids::HELENE, &target("nothing", monday), &cancel(), now()).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)));

    let hugo = ChangeRequest { substitute_id: Some(ids::HUGO.into()), ..ChangeRequest::default() };
    let refused = store.change_occurrence(ids::HELENE, &target(&maths, monday), &hugo, now()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "Hugo teaches in collège 2 only");
    let summer = ChangeRequest {
        moved_to: Some((date(2027, 7, 20), at((8, 0), (9, 0)))),
        ..ChangeRequest::default()
    };
    let refused =
        store.change_occurrence(ids::HELENE, &target(&maths, monday), &summer, now()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "after the last day");
    let bad_time = ChangeRequest {
        moved_to: Some((
            monday,
            domain::timetable::LessonTime { start_minute: 600, end_minute: 500 },
        )),
        ..ChangeRequest::default()
    };
    let refused =
        store.change_occurrence(ids::HELENE, &target(&maths, monday), &bad_time, now()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM course_changes", &[]).await, 0);

    store.change_occurrence(ids::AGNES, &target(&maths, monday), &cancel(), now()).await.unwrap();
    let sophie =
        ChangeRequest { substitute_id: Some(ids::SOPHIE.into()), ..ChangeRequest::default() };
    store.change_occurrence(ids::HELENE, &target(&maths, monday), &sophie, now()).await.unwrap();
    let row = "SELECT sequence FROM course_changes WHERE course_id = $1 AND cancelled = 0 \
               AND substitute_id = $2";
    assert_eq!(count(&store, row, &[&maths, ids::SOPHIE]).await, 2, "each edit bumps the sequence");
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'timetable_changed'";
    assert_eq!(count(&store, audited, &[]).await, 2);

    store
        .change_occurrence(ids::HELENE, &target(&maths, monday), &ChangeRequest::default(), now())
        .await
        .unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM course_changes", &[]).await, 0, "reverted");
    let alice = store
        .timetable(ids::ALICE, &TimetableSubject::Pupil(ids::ALICE.into()), monday, monday)
        .await
        .unwrap();
    assert_eq!(alice.occurrences.len(), 1);
    assert_eq!(alice.occurrences[0].change, None);
}

#[tokio::test]
async fn the_outbox_hears_of_changes_within_the_next_days_only() {
    let (store, maths, _) = setup().await;
    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2027, 1, 11)), &cancel(), now())
        .await
        .unwrap();
    assert_eq!(outbox(&store).await, 0, "five weeks ahead");

    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2026, 12, 7)), &cancel(), now())
        .await
        .unwrap();
    assert_eq!(outbox(&store).await, 1);
    let subject = "SELECT COUNT(*) FROM outbox o JOIN course_changes c ON c.id = o.subject_id \
                   WHERE c.occurrence_date = '2026-12-07'";
    assert_eq!(count(&store, subject, &[]).await, 1, "the subject is the change");

    let closer = ChangeRequest {
        moved_to: Some((date(2026, 12, 9), at((14, 0), (15, 0)))),
        ..ChangeRequest::default()
    };
    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2027, 1, 18)), &closer, now())
        .await
        .unwrap();
    assert_eq!(outbox(&store).await, 2, "moved into the next days");

    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2026, 11, 30)), &cancel(), now())
        .await
        .unwrap();
    assert_eq!(outbox(&store).await, 2, "in the past");
}

#[tokio::test]
async fn upcoming_changes_reach_pupils_parents_and_teachers_concerned() {
    let (store, maths, french) = setup().await;
    let replaced = ChangeRequest {
        substitute_id: Some(ids::SOPHIE.into()),
        new_room: Some("Salle 12".into()),
        ..ChangeRequest::default()
    };
    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2026, 12, 7)), &replaced, now())
        .await
        .unwrap();
    store
        .change_occurrence(ids::HELENE, &target(&french, date(2026, 12, 8)), &cancel(), now())
        .await
        .unwrap();
    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2027, 1, 11)), &cancel(), now())
        .await
        .unwrap();

    let seen = |viewer: &'static str| {
        let store = &store;
        async move {
            store
                .upcoming_changes(viewer, now())
                .await
                .unwrap()
                .into_iter()
                .map(|o| (o.subject_label, o.date, o.for_person.map(|p| p.name)))
                .collect::<Vec<_>>()
        }
    };
    let maths_on = ("Mathématiques".to_owned(), date(2026, 12, 7));
    let french_on = ("Français".to_owned(), date(2026, 12, 8));
    assert_eq!(seen(ids::ALICE).await, vec![(maths_on.0.clone(), maths_on.1, None)]);
    assert_eq!(seen(ids::BRUNO).await, vec![(maths_on.0.clone(), maths_on.1, None)]);
    assert_eq!(
        seen(ids::PAUL).await,
        vec![(maths_on.0.clone(), maths_on.1, Some("Alice Martin".into()))]
    );
    assert_eq!(
        seen(ids::SAMI).await,
        vec![(french_on.0.clone(), french_on.1, Some("Chloé Petit".into()))]
    );
    assert!(seen(ids::NINA).await.is_empty(), "no legal responsibility");
    assert!(seen(ids::DAVID).await.is_empty());
    assert!(seen(ids::HUGO).await.is_empty());
    assert_eq!(seen(ids::THOMAS).await, vec![(maths_on.0.clone(), maths_on.1, None)]);
    assert_eq!(
        seen(ids::SOPHIE).await,
        vec![(maths_on.0.clone(), maths_on.1, None), (french_on.0.clone(), french_on.1, None)],
        "her own cancelled lesson and the one she replaces in"
    );

    // On Monday at 18:30 the morning's lesson is over; Tuesday's is still ahead.
    let evening = instant(date(2026, 12, 7), 18, 30, "Europe/Paris");
    let later = store.upcoming_changes(ids::SOPHIE, evening).await.unwrap();
    assert_eq!(later.iter().map(|o| o.date).collect::<Vec<_>>(), vec![date(2026, 12, 8)]);
}

#[tokio::test]
async fn change_emails_go_to_those_who_asked_once_per_version() {
    let (store, maths, french) = setup().await;
    exec(&store, "UPDATE accounts SET activated_at = 1", &[]).await;
    for person in [ids::ALICE, ids::PAUL, ids::RACHEL, ids::THOMAS, ids::SOPHIE, ids::SAMI] {
        store.set_notify_email(person, Some(&format!("{person}@example.org"))).await.unwrap();
    }
    exec(&store, "UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::RACHEL]).await;
    let replaced = ChangeRequest {
        substitute_id: Some(ids::SOPHIE.into()),
        new_room: Some("Salle 12".into()),
        ..ChangeRequest::default()
    };
    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2026, 12, 7)), &replaced, now())
        .await
        .unwrap();
    let change_id: String =
        sqlx::query_scalar("SELECT id FROM course_changes WHERE course_id = $1")
            .bind(&maths)
            .fetch_one(store.import_test_pool())
            .await
            .unwrap();

    let people = |targets: &[store::outbox::EmailTarget]| {
        targets.iter().map(|t| t.person_id.clone()).collect::<Vec<_>>()
    };
    let targets = store.change_email_targets(&change_id).await.unwrap();
    let mut expected = vec![ids::ALICE, ids::PAUL, ids::SOPHIE, ids::THOMAS];
    expected.sort();
    assert_eq!(people(&targets), expected, "not Bruno (no address) nor Rachel (frozen)");
    assert_eq!(
        targets[0].subject,
        "Changement de salle : Mathématiques, lundi 7 décembre à 08:00, salle Salle 12"
    );
    assert_eq!(targets[0].sender_name, "Collège Jean Moulin");
    assert!(targets.iter().all(|t| !t.subject.contains("Alice") && !t.subject.contains("Martin")));

    let notification = store.change_notification(&change_id).await.unwrap().unwrap();
    assert_eq!(notification.delivery_subject, change_delivery_subject(&change_id, 1));
    store.mark_delivered(&notification.delivery_subject, ids::ALICE, "email").await.unwrap();
    let targets = store.change_email_targets(&change_id).await.unwrap();
    assert!(!people(&targets).contains(&ids::ALICE.to_owned()), "already told of this version");
    assert_eq!(targets.len(), 3);

    store
        .change_occurrence(ids::HELENE, &target(&maths, date(2026, 12, 7)), &cancel(), now())
        .await
        .unwrap();
    let targets = store.change_email_targets(&change_id).await.unwrap();
    assert!(people(&targets).contains(&ids::ALICE.to_owned()), "a new version is news again");
    assert_eq!(targets[0].subject, "Cours annulé : Mathématiques, lundi 7 décembre à 08:00");

    store
        .change_occurrence(ids::HELENE, &target(&french, date(2026, 12, 8)), &cancel(), now())
        .await
        .unwrap();
    let french_change: String =
        sqlx::query_scalar("SELECT id FROM course_changes WHERE course_id = $1")
            .bind(&french)
            .fetch_one(store.import_test_pool())
            .await
            .unwrap();
    let targets = store.change_email_targets(&french_change).await.unwrap();
    let mut expected = vec![ids::SAMI, ids::SOPHIE];
    expected.sort();
    assert_eq!(people(&targets), expected);
    assert_eq!(targets[0].subject, "Cours annulé : Français, mardi 8 décembre à 10:00");
    assert!(store.change_email_targets("gone").await.unwrap().is_empty());
}

/// Mathematics for 4A of collège 3 with Thomas, Tuesday 10:30-11:30.
fn maths_4a_tuesday() -> formats::timetable::ParsedCourse {
    with(
        weekly("C9", "Mathématiques", 2, at((10, 30), (11, 30)), all_weeks()),
        vec![teacher("BERNARD", "Thomas")],
        &["4A"],
        &[],
        &["Salle 9"],
    )
}

#[tokio::test]
async fn a_substitute_busy_in_another_collège_is_found_with_where_and_when() {
    let (store, _, french) = setup().await;
    add_third_school(&store).await;
    import(&store, SCHOOL_3, &edt(vec![maths_4a_tuesday()])).await;
    let tuesday = date(2026, 12, 8);
    let french_tuesday = target(&french, tuesday);

    let busy = store
        .teacher_busy(ids::HELENE, &french_tuesday, ids::THOMAS, tuesday, at((10, 0), (11, 0)))
        .await
        .unwrap();
    assert_eq!(busy.len(), 1, "{busy:?}");
    assert_eq!(busy[0].school_name, "Collège Gérard Philipe");
    assert_eq!((busy[0].date, busy[0].time), (tuesday, at((10, 30), (11, 30))));

    // Moved to noon, or the other lesson cancelled: free.
    let noon = store
        .teacher_busy(ids::HELENE, &french_tuesday, ids::THOMAS, tuesday, at((12, 0), (13, 0)))
        .await
        .unwrap();
    assert_eq!(noon, vec![]);
    let other = course_id(&store, SCHOOL_3, "C9").await;
    exec(
        &store,
        "INSERT INTO course_changes (id, course_id, occurrence_date, origin, cancelled, exam, \
         note, sequence, created_at, updated_at) \
         VALUES ('x-cancel', $1, '2026-12-08', 'manual', 1, 0, '', 1, 0, 0)",
        &[&other],
    )
    .await;
    let cancelled = store
        .teacher_busy(ids::HELENE, &french_tuesday, ids::THOMAS, tuesday, at((10, 0), (11, 0)))
        .await
        .unwrap();
    assert_eq!(cancelled, vec![]);

    // The occurrence itself does not keep its own teacher busy.
    let own = store
        .teacher_busy(ids::HELENE, &french_tuesday, ids::SOPHIE, tuesday, at((10, 0), (11, 0)))
        .await
        .unwrap();
    assert_eq!(own, vec![]);

    // Only the school's administrators, about a teacher of the school.
    let marc = store
        .teacher_busy(ids::MARC, &french_tuesday, ids::THOMAS, tuesday, at((10, 0), (11, 0)))
        .await;
    assert!(matches!(marc, Err(StoreError::NotFound)));
    let hugo = store
        .teacher_busy(ids::HELENE, &french_tuesday, ids::HUGO, tuesday, at((10, 0), (11, 0)))
        .await;
    assert!(matches!(hugo, Err(StoreError::NotFound)), "Hugo teaches in collège 2 only");
}

#[tokio::test]
async fn a_room_typed_in_a_change_is_offered_only_while_a_change_uses_it() {
    let (store, maths, _) = setup().await;
    let monday = date(2026, 12, 7);
    let names = |rooms: Vec<store::timetable::RoomRef>| {
        rooms.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.school_rooms(ids::HELENE, ids::SCHOOL_1).await.unwrap()),
        vec!["Salle 101", "Salle 102"]
    );

    let typo = ChangeRequest { new_room: Some("Sale 1O1".into()), ..ChangeRequest::default() };
    store.change_occurrence(ids::HELENE, &target(&maths, monday), &typo, now()).await.unwrap();
    assert_eq!(
        names(store.school_rooms(ids::HELENE, ids::SCHOOL_1).await.unwrap()),
        vec!["Sale 1O1", "Salle 101", "Salle 102"]
    );
    let revert = ChangeRequest::default();
    store.change_occurrence(ids::HELENE, &target(&maths, monday), &revert, now()).await.unwrap();
    assert_eq!(
        names(store.school_rooms(ids::HELENE, ids::SCHOOL_1).await.unwrap()),
        vec!["Salle 101", "Salle 102"],
        "the typo is no longer offered"
    );
}

#[tokio::test]
async fn bidirectional_controls_are_dropped_from_notes_and_room_names() {
    let (store, maths, _) = setup().await;
    let monday = date(2026, 12, 7);
    let request = ChangeRequest {
        new_room: Some("Labo\u{202E} 3\u{2066}".into()),
        note: "Apportez\u{202E} vos cahiers\u{2069}\u{202A}".into(),
        ..ChangeRequest::default()
    };
    store.change_occurrence(ids::HELENE, &target(&maths, monday), &request, now()).await.unwrap();

    let occurrence = store.occurrence(ids::HELENE, &maths, monday).await.unwrap();
    let change = occurrence.change.expect("a change");
    assert_eq!(change.note, "Apportez vos cahiers");
    assert_eq!(change.new_room.as_deref(), Some("Labo 3"));
    let rooms = store.school_rooms(ids::HELENE, ids::SCHOOL_1).await.unwrap();
    assert!(rooms.iter().all(|r| !r.name.contains('\u{202E}')), "{rooms:?}");
}
