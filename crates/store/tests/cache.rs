//! What the store keeps in memory (`store::cache`): the generations move on every committed
//! change of their family and on nothing else, whoever writes (this store, another instance
//! on the same database); a kept timetable or viewer is never returned under newer
//! generations, so a change made through another instance shows at the next request; a kept
//! answer is per viewer, so what one viewer may see never reaches another; and kept answers
//! stop at the next instant a class membership ends.

mod timetable_support;

use jiff::civil::date;
use store::StoreError;
use store::fixtures::ids;
use store::timetable::TimetableSubject;
use timetable_support::*;

fn pupil(id: &str) -> TimetableSubject {
    TimetableSubject::Pupil(id.to_owned())
}

#[tokio::test]
async fn each_family_moves_on_its_own_committed_changes_only() {
    let store = fixture().await;
    let before = store.generations().await.unwrap();

    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    let after_import = store.generations().await.unwrap();
    assert!(after_import.timetable > before.timetable);
    assert_eq!(after_import.internship, before.internship);

    exec(&store, "UPDATE people SET first_name = 'Alicia' WHERE id = $1", &[ids::ALICE]).await;
    let after_rename = store.generations().await.unwrap();
    assert!(after_rename.directory > after_import.directory);
    assert_eq!(after_rename.timetable, after_import.timetable);

    // A message, a session or a password moves nothing kept.
    exec(&store, "UPDATE accounts SET password_hash = 'x' WHERE person_id = $1", &[ids::ALICE])
        .await;
    exec(&store, "UPDATE accounts SET frozen = frozen WHERE person_id = $1", &[ids::ALICE]).await;
    assert_eq!(store.generations().await.unwrap(), after_rename);

    // A login is shown in the viewer's bar: it counts.
    exec(&store, "UPDATE accounts SET login = 'alicia.martin' WHERE person_id = $1", &[ids::ALICE])
        .await;
    assert!(store.generations().await.unwrap().directory > after_rename.directory);
}

#[tokio::test]
async fn a_change_made_through_another_instance_shows_at_the_next_request() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    let monday = date(2026, 12, 7);
    let subject = pupil(ids::ALICE);

    let generations = store.generations().await.unwrap();
    let first =
        store.timetable_kept(ids::ALICE, &subject, monday, monday, generations).await.unwrap();
    assert_eq!(first.occurrences[0].subject_label, "Mathématiques");

    let other = store.another_instance().await;
    sqlx::query("UPDATE courses SET subject_label = 'Algèbre'")
        .execute(other.import_test_pool())
        .await
        .unwrap();

    // Under the generations read before the change, the kept answer stands (the same
    // request); under those read after it, the change shows.
    let kept =
        store.timetable_kept(ids::ALICE, &subject, monday, monday, generations).await.unwrap();
    assert_eq!(kept.occurrences[0].subject_label, "Mathématiques");
    let now = store.generations().await.unwrap();
    assert!(now.timetable > generations.timetable);
    let fresh = store.timetable_kept(ids::ALICE, &subject, monday, monday, now).await.unwrap();
    assert_eq!(fresh.occurrences[0].subject_label, "Algèbre");
    other.close().await;
}

#[tokio::test]
async fn a_kept_viewer_follows_renames_and_losses_of_links() {
    let store = fixture().await;
    let other = store.another_instance().await;
    let generations = store.generations().await.unwrap();
    let facts = store.viewer_facts_kept(ids::PAUL, generations).await.unwrap().unwrap();
    assert!(facts.children.iter().any(|child| child.id == ids::ALICE));

    sqlx::query("DELETE FROM guardianships WHERE relative_id = $1 AND pupil_id = $2")
        .bind(ids::PAUL)
        .bind(ids::ALICE)
        .execute(other.import_test_pool())
        .await
        .unwrap();
    let now = store.generations().await.unwrap();
    let facts = store.viewer_facts_kept(ids::PAUL, now).await.unwrap().unwrap();
    assert!(facts.children.iter().all(|child| child.id != ids::ALICE));
    other.close().await;
}

#[tokio::test]
async fn what_one_viewer_may_see_is_never_handed_to_another() {
    let store = fixture().await;
    import(&store, ids::SCHOOL_1, &edt(vec![maths_6a()])).await;
    let monday = date(2026, 12, 7);
    let generations = store.generations().await.unwrap();

    let own = store
        .timetable_kept(ids::ALICE, &pupil(ids::ALICE), monday, monday, generations)
        .await
        .unwrap();
    assert_eq!(own.occurrences.len(), 1);
    let stranger =
        store.timetable_kept(ids::DAVID, &pupil(ids::ALICE), monday, monday, generations).await;
    assert!(matches!(stranger, Err(StoreError::NotFound)), "{stranger:?}");
}

#[tokio::test]
async fn kept_answers_stop_when_the_next_class_membership_ends() {
    let store = fixture().await;
    let now = store::now_unix();
    let generations = store.generations().await.unwrap();
    let horizon = store.membership_horizon(generations.directory, now).await.unwrap();
    assert!(horizon <= now + 15 * 60, "never kept longer than a quarter of an hour");

    // Alice leaves 6A in ten minutes (as the import stamps an exit).
    let exit = (now + 600).to_string();
    exec(
        &store,
        "UPDATE pupil_classes SET exit_date = '2026-12-07', exit_after = CAST($1 AS BIGINT) \
         WHERE pupil_id = $2",
        &[&exit, ids::ALICE],
    )
    .await;
    let generations = store.generations().await.unwrap();
    assert_eq!(store.membership_horizon(generations.directory, now).await.unwrap(), now + 600);
}

#[tokio::test]
async fn a_change_rolled_back_moves_nothing() {
    let store = fixture().await;
    let before = store.generations().await.unwrap();

    let mut tx = store.import_test_pool().begin().await.unwrap();
    sqlx::query("UPDATE people SET first_name = 'Personne'").execute(&mut *tx).await.unwrap();
    sqlx::query("DELETE FROM courses").execute(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();

    assert_eq!(store.generations().await.unwrap(), before);
}

#[tokio::test]
async fn an_application_moves_who_applied_and_a_confirmation_the_places_not_the_offers() {
    use store::fixtures::internship::{FixtureOffer, ids as internship, weeks};
    let store = fixture().await;
    store.load_internship_fixture().await.unwrap();
    let offer = store.fixture_offer(&FixtureOffer::bakery("Fournil")).await.unwrap();
    let week = weeks()[0].to_string();
    let before = store.generations().await.unwrap();

    exec(
        &store,
        "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
         state, created_at, updated_at) VALUES ('a-1', $1, $2, $3, $4, 'submitted', 0, 0)",
        &[&offer, internship::ZOE, ids::SCHOOL_1, &week],
    )
    .await;
    let applied = store.generations().await.unwrap();
    assert!(applied.applications > before.applications);
    assert_eq!((applied.places, applied.internship), (before.places, before.internship));

    exec(&store, "UPDATE internship_applications SET state = 'confirmed' WHERE id = 'a-1'", &[])
        .await;
    let confirmed = store.generations().await.unwrap();
    assert!(confirmed.places > applied.places);
    assert_eq!(confirmed.internship, applied.internship, "the offers stay as they were read");

    exec(&store, "UPDATE internship_applications SET motivation = 'Oui.' WHERE id = 'a-1'", &[])
        .await;
    assert_eq!(store.generations().await.unwrap(), confirmed, "nothing kept reads it");
}
