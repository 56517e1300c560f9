//! The internship fixture loads on both engines and says what the other internship tests rely
//! on: four 3e pupils with their guardians, two weeks per collège, two hosts, three sectors.

use store::fixtures::internship::{FixtureOffer, ids, weeks};

#[tokio::test]
async fn the_internship_fixture_loads_and_holds_its_promises() {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();

    let count = |sql: &'static str| store.fixture_count(sql, &[]);
    assert_eq!(
        count("SELECT COUNT(*) FROM people WHERE mef_code = '10310019110'").await.unwrap(),
        4
    );
    assert_eq!(count("SELECT COUNT(*) FROM school_internship_weeks").await.unwrap(), 4);
    assert_eq!(count("SELECT COUNT(*) FROM host_members").await.unwrap(), 2);
    assert_eq!(count("SELECT COUNT(*) FROM internship_sectors").await.unwrap(), 3);
    assert!(weeks()[0] < weeks()[1]);

    let offer = store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();
    let weeks_of_offer = store
        .fixture_count("SELECT COUNT(*) FROM internship_offer_weeks WHERE offer_id = $1", &[&offer])
        .await
        .unwrap();
    assert_eq!(weeks_of_offer, 2);

    let membership = store.host_membership(ids::HUGUES).await.unwrap().unwrap();
    assert_eq!(membership.host_id, ids::HOST_BAKERY);
    assert!(store.host_membership(ids::ZOE).await.unwrap().is_none());
}
