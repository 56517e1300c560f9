//! The collège's side of the internships in the store: who may read and declare a collège's
//! weeks (its administrators and the département's, nobody else), the limits on what is
//! declared, and the status of every 3e pupil computed from the applications and agreements
//! rows, with its counts and filters.

use domain::internship::IsoWeek;
use sqlx::AssertSqlSafe;
use store::StoreError;
use store::fixtures::ids as base;
use store::fixtures::internship::{FixtureOffer, ids, weeks};
use store::internship::schools::{PupilStatus, StatusFilter};

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    store
}

async fn exec(store: &store::Store, sql: &str, params: &[&str]) {
    let mut query = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for param in params {
        query = query.bind(param.to_string());
    }
    query.execute(store.import_test_pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// An application written straight into the database; returns its id.
async fn application(
    store: &store::Store,
    offer: &str,
    pupil: &str,
    week: IsoWeek,
    state: &str,
) -> String {
    let id = store::new_id();
    exec(
        store,
        "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, state, \
         created_at, updated_at) VALUES ($1, $2, $3, 'school-1', $4, $5, 0, 0)",
        &[&id, offer, pupil, &week.to_string(), state],
    )
    .await;
    id
}

#[tokio::test]
async fn only_the_collèges_administrators_and_the_département_see_it() {
    let store = fixture().await;

    let school = store.school_internship(base::HELENE, base::UAI_1).await.unwrap();
    assert_eq!(school.school_id, base::SCHOOL_1);
    assert_eq!(school.weeks_3e, weeks().to_vec());
    assert!(school.weeks_4e.is_empty());
    assert!(school.priority && !school.rural);
    let school = store.school_internship(base::AGNES, base::UAI_2).await.unwrap();
    assert!(school.rural);
    assert_eq!(store.school_internship(base::MARC, base::UAI_2).await.unwrap().name, school.name);

    for (viewer, uai) in [
        (base::MARC, base::UAI_1),
        (base::HELENE, base::UAI_2),
        (base::SOPHIE, base::UAI_1),
        (ids::ZOE, base::UAI_1),
        (ids::YVES, base::UAI_1),
        (ids::HUGUES, base::UAI_1),
        (base::HELENE, "0000000X"),
    ] {
        let refused = store.school_internship(viewer, uai).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{viewer} {uai}");
        let refused = store
            .school_pupil_statuses(
                viewer,
                if uai == base::UAI_1 { base::SCHOOL_1 } else { base::SCHOOL_2 },
                &StatusFilter::default(),
            )
            .await;
        if uai != "0000000X" {
            assert!(matches!(refused, Err(StoreError::NotFound)), "{viewer} {uai}");
        }
    }
    let refused =
        store.set_school_internship_weeks(base::MARC, base::SCHOOL_1, "3e", &weeks()).await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn a_collège_declares_its_weeks_per_level_within_limits() {
    let store = fixture().await;
    let [first, second] = weeks();
    let later = second.next().next();

    store
        .set_school_internship_weeks(base::HELENE, base::SCHOOL_1, "3e", &[later, first, first])
        .await
        .unwrap();
    store.set_school_internship_weeks(base::AGNES, base::SCHOOL_1, "4e", &[second]).await.unwrap();
    let school = store.school_internship(base::HELENE, base::UAI_1).await.unwrap();
    assert_eq!(school.weeks_3e, vec![first, later]);
    assert_eq!(school.weeks_4e, vec![second]);
    let zoe = store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert_eq!(zoe.weeks, vec![first, later], "the search reads the new weeks");

    let mut many = vec![first];
    while many.len() < 7 {
        many.push(many.last().unwrap().next());
    }
    let refused =
        store.set_school_internship_weeks(base::HELENE, base::SCHOOL_1, "3e", &many).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
    let refused =
        store.set_school_internship_weeks(base::HELENE, base::SCHOOL_1, "5e", &[first]).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));

    // A week holding a confirmed internship stays.
    let offer = store.fixture_offer(&FixtureOffer::bakery("Boulangerie")).await.unwrap();
    application(&store, &offer, ids::ZOE, first, "confirmed").await;
    let refused =
        store.set_school_internship_weeks(base::HELENE, base::SCHOOL_1, "3e", &[later]).await;
    match refused {
        Err(StoreError::Conflict(message)) => assert!(message.contains("semaine"), "{message}"),
        other => panic!("{other:?}"),
    }
    store.set_school_internship_weeks(base::HELENE, base::SCHOOL_1, "3e", &[first]).await.unwrap();
    store.set_school_internship_weeks(base::HELENE, base::SCHOOL_1, "4e", &[]).await.unwrap();
    let school = store.school_internship(base::HELENE, base::UAI_1).await.unwrap();
    assert_eq!((school.weeks_3e, school.weeks_4e), (vec![first], vec![]));
}

#[tokio::test]
async fn every_3e_pupil_has_the_status_of_their_furthest_application() {
    let store = fixture().await;
    let [first, second] = weeks();
    let extra = store.fixture_more_third_year_pupils(4).await.unwrap();
    let bakery = store.fixture_offer(&FixtureOffer::bakery("Boulangerie")).await.unwrap();
    let other = store.fixture_offer(&FixtureOffer::bakery("Fournil")).await.unwrap();

    let zoe = application(&store, &bakery, ids::ZOE, first, "confirmed").await;
    exec(
        &store,
        "INSERT INTO internship_agreements (id, application_id, school_id, host_id, state, content, \
         created_at, updated_at) VALUES ('ag-1', $1, 'school-1', $2, 'signed', '{}', 0, 0)",
        &[&zoe, ids::HOST_BAKERY],
    )
    .await;
    application(&store, &bakery, ids::MINH, second, "confirmed").await;
    application(&store, &other, ids::MINH, first, "cancelled_by_pupil").await;
    application(&store, &bakery, &extra[0], first, "accepted").await;
    application(&store, &other, &extra[0], second, "submitted").await;
    application(&store, &bakery, &extra[1], second, "read").await;
    application(&store, &bakery, &extra[2], second, "rejected").await;
    application(&store, &other, &extra[2], first, "expired").await;

    let all = store
        .school_pupil_statuses(base::HELENE, base::SCHOOL_1, &StatusFilter::default())
        .await
        .unwrap();
    let statuses: Vec<(&str, PupilStatus)> =
        all.rows.iter().map(|row| (row.pupil_id.as_str(), row.status)).collect();
    let mut expected = vec![
        (ids::ZOE, PupilStatus::AgreementSigned),
        (ids::MINH, PupilStatus::Confirmed),
        (extra[0].as_str(), PupilStatus::Accepted),
        (extra[1].as_str(), PupilStatus::Applied),
        (extra[2].as_str(), PupilStatus::NoApplication),
        (extra[3].as_str(), PupilStatus::NoApplication),
    ];
    expected.sort_by_key(|(id, _)| id.to_string());
    let mut sorted = statuses.clone();
    sorted.sort_by_key(|(id, _)| id.to_string());
    assert_eq!(sorted, expected, "the 5e and 6e pupils of collège 1 are not listed");
    assert_eq!(all.classes, vec![(ids::CLASS_3A.to_owned(), "3A".to_owned())]);
    assert_eq!(
        all.counts,
        vec![
            (PupilStatus::NoApplication, 2),
            (PupilStatus::Applied, 1),
            (PupilStatus::Accepted, 1),
            (PupilStatus::Confirmed, 1),
            (PupilStatus::AgreementSigned, 1),
        ]
    );
    let minh = all.rows.iter().find(|row| row.pupil_id == ids::MINH).unwrap();
    assert_eq!(minh.confirmed_week, Some(second));
    assert_eq!(minh.confirmed_host.as_deref(), Some("Boulangerie Éluard & Fils"));
    let accepted = all.rows.iter().find(|row| row.pupil_id == extra[0]).unwrap();
    assert_eq!(accepted.pending, 2);

    let only = StatusFilter { status: Some(PupilStatus::NoApplication), ..StatusFilter::default() };
    let none = store.school_pupil_statuses(base::HELENE, base::SCHOOL_1, &only).await.unwrap();
    assert_eq!(none.rows.len(), 2);
    assert_eq!(none.counts, all.counts, "the counts ignore the status filter");
    let other_class =
        StatusFilter { class_id: Some(ids::CLASS_3B.to_owned()), ..StatusFilter::default() };
    let empty =
        store.school_pupil_statuses(base::HELENE, base::SCHOOL_1, &other_class).await.unwrap();
    assert!(empty.rows.is_empty());
    assert!(empty.counts.iter().all(|(_, n)| *n == 0));

    let school_2 = store
        .school_pupil_statuses(base::MARC, base::SCHOOL_2, &StatusFilter::default())
        .await
        .unwrap();
    let mut pupils: Vec<&str> = school_2.rows.iter().map(|row| row.pupil_id.as_str()).collect();
    pupils.sort();
    assert_eq!(pupils, vec![ids::FATIMA, ids::LEO]);

    for code in ["aucune", "candidature", "acceptee", "confirmee", "convention-signee"] {
        assert_eq!(PupilStatus::parse(code).unwrap().as_str(), code);
    }
    assert!(PupilStatus::parse("autre").is_none());
}
