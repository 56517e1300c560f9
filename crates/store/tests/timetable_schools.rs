//! The lists the timetable pages of one school read (its classes and teachers for its adults
//! and the département only, its zone, the coordinates of every collège for the département),
//! one occurrence wherever it was moved, the zone and year end a calendar feed covers, and the
//! housekeeping of the delivery records of timetable changes.

mod timetable_support;

use jiff::Timestamp;
use jiff::civil::date;
use store::StoreError;
use store::fixtures::ids;
use store::timetable::{
    CHANGE_OUTBOX_KIND, ChangeRequest, ChangeTarget, LessonTeacher, change_delivery_subject,
};
use timetable_support::*;

/// Thursday 3 December 2026, noon in Paris.
fn now() -> Timestamp {
    instant(date(2026, 12, 3), 12, 0, "Europe/Paris")
}

fn not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

#[tokio::test]
async fn a_schools_adults_and_the_departement_list_its_classes_and_teachers_and_nobody_else() {
    let store = fixture().await;
    add_third_school(&store).await;

    for viewer in [ids::THOMAS, ids::SOPHIE, ids::HELENE, ids::AGNES] {
        let classes = store.school_classes(viewer, ids::SCHOOL_1).await.unwrap();
        let expected = [(ids::CLASS_6A, "6A"), (ids::CLASS_6B, "6B")]
            .map(|(id, code)| (id.to_owned(), code.to_owned()));
        assert_eq!(classes, expected, "{viewer}");
        let teachers = store.school_teachers(viewer, ids::SCHOOL_1).await.unwrap();
        let expected = [(ids::THOMAS, "Thomas Bernard"), (ids::SOPHIE, "Sophie Lambert")]
            .map(|(id, name)| LessonTeacher { id: id.into(), name: name.into() });
        assert_eq!(teachers, expected, "{viewer}");
    }
    for viewer in [ids::ALICE, ids::PAUL, ids::HUGO, ids::MARC, ids::OLIVIER, "nobody"] {
        assert!(not_found(store.school_classes(viewer, ids::SCHOOL_1).await), "{viewer}");
        assert!(not_found(store.school_teachers(viewer, ids::SCHOOL_1).await), "{viewer}");
    }
    assert!(not_found(store.school_classes(ids::AGNES, "no-such-school").await));

    // The elected official scoped to collège 2 sees its lists; a school without teachers
    // lists none rather than refusing.
    let five_a = store.school_classes(ids::OLIVIER, ids::SCHOOL_2).await.unwrap();
    assert_eq!(five_a, vec![(ids::CLASS_5A.to_owned(), "5A".to_owned())]);
    let teachers = store.school_teachers(ids::OLIVIER, ids::SCHOOL_2).await.unwrap();
    let names: Vec<&str> = teachers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Thomas Bernard", "Hugo Moreau"]);
    exec(&store, "UPDATE people SET active = 0 WHERE id = $1", &[ids::HUGO]).await;
    let teachers = store.school_teachers(ids::AGNES, ids::SCHOOL_2).await.unwrap();
    assert_eq!(teachers.len(), 1, "an inactive teacher is no substitute");
    exec(&store, "DELETE FROM person_functions WHERE school_id = $1", &[SCHOOL_3]).await;
    exec(&store, "DELETE FROM person_schools WHERE school_id = $1", &[SCHOOL_3]).await;
    assert_eq!(store.school_teachers(ids::AGNES, SCHOOL_3).await.unwrap(), vec![]);

    // An inactive school is nobody's.
    exec(&store, "UPDATE schools SET active = 0 WHERE id = $1", &[ids::SCHOOL_1]).await;
    assert!(not_found(store.school_classes(ids::HELENE, ids::SCHOOL_1).await));
}

#[tokio::test]
async fn a_schools_zone_is_its_own_or_paris_for_a_name_nobody_knows() {
    let store = fixture().await;
    exec(&store, "UPDATE schools SET time_zone = 'Pacific/Noumea' WHERE id = $1", &[ids::SCHOOL_2])
        .await;
    exec(&store, "UPDATE schools SET time_zone = 'Mars/Olympus' WHERE id = $1", &[ids::SCHOOL_1])
        .await;

    assert_eq!(store.school_zone(ids::SCHOOL_2).await.unwrap(), "Pacific/Noumea");
    assert_eq!(store.school_zone(ids::SCHOOL_1).await.unwrap(), "Europe/Paris");
    assert!(not_found(store.school_zone("no-such-school").await));
}

#[tokio::test]
async fn the_departement_reads_every_collèges_saved_coordinates() {
    let store = fixture().await;
    store.set_school_place(ids::AGNES, ids::SCHOOL_2, Some((46.58, 0.34))).await.unwrap();

    let places = store.school_places(ids::AGNES).await.unwrap();
    let got: Vec<(&str, Option<(f64, f64)>)> =
        places.iter().map(|p| (p.school.uai.as_str(), p.place)).collect();
    assert_eq!(got, vec![(ids::UAI_2, Some((46.58, 0.34))), (ids::UAI_1, None)]);
    assert_eq!(places[0].school.name, "Collège Camille Claudel");

    for actor in [ids::HELENE, ids::OLIVIER, ids::THOMAS, "nobody"] {
        assert!(not_found(store.school_places(actor).await), "{actor}");
    }
}

#[tokio::test]
async fn one_occurrence_is_found_as_it_stands_wherever_it_was_moved() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    let maths = course_id(&store, ids::SCHOOL_1, "C1").await;
    let (monday, next) = (date(2026, 12, 7), date(2026, 12, 14));

    let plain = store.occurrence(ids::THOMAS, &maths, monday).await.unwrap();
    assert_eq!((plain.date, plain.original_date, plain.change), (monday, monday, None));
    assert_eq!(plain.rooms, vec!["Salle 101".to_owned()]);

    let moved = ChangeRequest {
        moved_to: Some((date(2027, 1, 20), at((14, 0), (15, 0)))),
        ..ChangeRequest::default()
    };
    let target = ChangeTarget { course_id: maths.clone(), original_date: monday };
    store.change_occurrence(ids::HELENE, &target, &moved, now()).await.unwrap();
    let cancel = ChangeRequest { cancelled: true, ..ChangeRequest::default() };
    let target = ChangeTarget { course_id: maths.clone(), original_date: next };
    store.change_occurrence(ids::HELENE, &target, &cancel, now()).await.unwrap();

    let found = store.occurrence(ids::HELENE, &maths, monday).await.unwrap();
    assert_eq!((found.date, found.original_date), (date(2027, 1, 20), monday));
    assert_eq!(found.time, at((14, 0), (15, 0)));
    assert!(found.change.as_ref().is_some_and(|c| c.moved_from.is_some()));
    let cancelled = store.occurrence(ids::AGNES, &maths, next).await.unwrap();
    assert!(cancelled.change.as_ref().is_some_and(|c| c.cancelled));

    assert!(not_found(store.occurrence(ids::HELENE, &maths, date(2026, 12, 8)).await), "Tuesday");
    assert!(not_found(store.occurrence(ids::HELENE, &maths, date(2027, 8, 2)).await), "summer");
    assert!(not_found(store.occurrence(ids::HELENE, "no-such-course", monday).await));
    for viewer in [ids::ALICE, ids::PAUL, ids::HUGO, ids::MARC, ids::OLIVIER] {
        assert!(not_found(store.occurrence(viewer, &maths, monday).await), "{viewer}");
    }
}

#[tokio::test]
async fn a_feed_knows_its_subjects_zone_and_the_end_of_their_school_year() {
    let store = fixture().await;
    exec(&store, "UPDATE accounts SET activated_at = 1", &[]).await;
    exec(&store, "UPDATE schools SET time_zone = 'Indian/Reunion' WHERE id = $1", &[ids::SCHOOL_1])
        .await;
    let alice = store.create_feed(ids::ALICE, ids::ALICE, "").await.unwrap();
    let access = store.feed_by_token(&alice.token).await.unwrap();
    assert_eq!((access.time_zone.as_str(), access.year_end), ("Indian/Reunion", None));

    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    let access = store.feed_by_token(&alice.token).await.unwrap();
    assert_eq!(access.year_end, Some(LAST_DAY));

    // A teacher of two collèges: the first one's zone (by name, Camille Claudel), the latest
    // year end of both.
    let history = with(
        weekly("H1", "Histoire", 1, at((9, 0), (10, 0)), all_weeks()),
        vec![teacher("MOREAU", "Hugo")],
        &["5A"],
        &[],
        &[],
    );
    let mut later = edt(vec![history]);
    later.last_day = Some(date(2027, 7, 9));
    import(&store, ids::SCHOOL_2, &later).await;
    let thomas = store.create_feed(ids::THOMAS, ids::THOMAS, "").await.unwrap();
    let access = store.feed_by_token(&thomas.token).await.unwrap();
    assert_eq!(access.time_zone, "Europe/Paris");
    assert_eq!(access.year_end, Some(date(2027, 7, 9)));
}

#[tokio::test]
async fn housekeeping_forgets_the_deliveries_of_old_or_vanished_timetable_changes() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    let maths = course_id(&store, ids::SCHOOL_1, "C1").await;
    let cancel = ChangeRequest { cancelled: true, ..ChangeRequest::default() };
    let mut changes = Vec::new();
    for day in [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21)] {
        let target = ChangeTarget { course_id: maths.clone(), original_date: day };
        store.change_occurrence(ids::HELENE, &target, &cancel, now()).await.unwrap();
        let id = "SELECT id FROM course_changes WHERE course_id = $1 AND occurrence_date = $2";
        let id: String = sqlx::query_scalar(sqlx::AssertSqlSafe(id))
            .bind(&maths)
            .bind(day.to_string())
            .fetch_one(store.import_test_pool())
            .await
            .unwrap();
        changes.push(id);
    }
    let (kept, old, waiting) = (&changes[0], &changes[1], &changes[2]);
    let housekeeping_at = now().as_second() + 40 * 24 * 3600;
    let recent = (housekeeping_at - 3600).to_string();
    let long_ago = now().as_second().to_string();
    let deliver = "INSERT INTO notification_deliveries (subject_id, recipient_id, channel, \
                   delivered_at) VALUES ($1, $2, 'email', CAST($3 AS BIGINT))";
    for (change, at) in [(kept, &recent), (old, &long_ago), (waiting, &long_ago)] {
        let subject = change_delivery_subject(change, 1);
        exec(&store, deliver, &[&subject, ids::ALICE, at]).await;
    }
    // A message's delivery of the same age, whose outbox entry is still waiting, stays.
    exec(&store, deliver, &["message-1", ids::ALICE, &long_ago]).await;
    // The first change (within the week) was announced and done long ago; the last one waits.
    exec(
        &store,
        "UPDATE outbox SET done_at = CAST($2 AS BIGINT) WHERE kind = $1",
        &[CHANGE_OUTBOX_KIND, &long_ago],
    )
    .await;
    exec(
        &store,
        "INSERT INTO outbox (id, kind, subject_id, created_at, available_at) \
         VALUES ('entry-waiting', $1, $2, 0, 0)",
        &[CHANGE_OUTBOX_KIND, waiting],
    )
    .await;

    let done = store.housekeeping(housekeeping_at).await.unwrap();
    let left = "SELECT COUNT(*) FROM notification_deliveries WHERE subject_id = $1";
    assert_eq!(count(&store, left, &[&change_delivery_subject(kept, 1)]).await, 1, "recent");
    assert_eq!(count(&store, left, &[&change_delivery_subject(old, 1)]).await, 0, "too old");
    assert_eq!(
        count(&store, left, &[&change_delivery_subject(waiting, 1)]).await,
        1,
        "its change is still waiting in the outbox"
    );
    assert_eq!(count(&store, left, &["message-1"]).await, 1);
    assert_eq!(done.deliveries, 1);

    // Reverting the change drops its deliveries at the next pass, however recent.
    let target = ChangeTarget { course_id: maths.clone(), original_date: date(2026, 12, 7) };
    store.change_occurrence(ids::HELENE, &target, &ChangeRequest::default(), now()).await.unwrap();
    let done = store.housekeeping(housekeeping_at).await.unwrap();
    assert_eq!(count(&store, left, &[&change_delivery_subject(kept, 1)]).await, 0, "reverted");
    assert_eq!(done.deliveries, 1);
    assert_eq!(count(&store, left, &["message-1"]).await, 1);
}

#[tokio::test]
async fn a_postgresql_statement_stops_before_the_requests_thirty_seconds() {
    // A request that times out after 30 s must not leave its statement running: every
    // PostgreSQL connection of the store stops a statement after 25 s. (SQLite statements run
    // in the process and end with the request.)
    let store = fixture().await;
    if store.backend() != store::Backend::Postgres {
        return;
    }
    let limit = count(
        &store,
        "SELECT CAST(setting AS BIGINT) FROM pg_settings WHERE name = 'statement_timeout'",
        &[],
    )
    .await;
    assert_eq!(limit, 25_000, "milliseconds");
}
