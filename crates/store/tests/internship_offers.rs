//! Offers in the store, on both engines: a host's person writes a draft (placed at its
//! commune's centre, or at the typed point), changes it, moves it through the allowed states
//! and is refused the others; the rules of `OfferInput::check` (places, weeks, the hours of
//! minors); another host's offer is not found (IDOR); a suspended host's person cannot act;
//! the search words; and partners' offers (create, duplicate, update, archive, another
//! partner's remote_id).

use domain::internship::agreement::DayHours;
use domain::internship::geo::Point;
use domain::internship::{OfferState, Reservation, WeekHours};
use store::fixtures::ids as base;
use store::fixtures::internship::{ids, weeks};
use store::internship::hosts::HostAction;
use store::internship::offers::{OfferField, OfferInput};
use store::internship::partners::{PartnerOfferInput, PartnerOutcome};
use store::{StoreError, now_unix};

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    store.ensure_gazetteer().await.unwrap();
    store
}

fn weekday() -> Option<DayHours> {
    Some(DayHours { start: 9 * 60, end: 16 * 60 + 30, break_minutes: 60 })
}

fn input() -> OfferInput {
    OfferInput {
        title: "Découverte de la boulangerie".to_owned(),
        description: "Pétrir, façonner, cuire.\nVendre au comptoir.".to_owned(),
        sector_id: Some(ids::SECTOR_FOOD.to_owned()),
        street: "12 rue Carnot".to_owned(),
        postal_code: "86000".to_owned(),
        city: "Poitiers".to_owned(),
        point: None,
        weeks: weeks().to_vec(),
        places_per_week: 2,
        places_total: 3,
        tutor_name: "Hugues Meunier".to_owned(),
        tutor_role: "Maître boulanger".to_owned(),
        tutor_email: "tuteur@example.org".to_owned(),
        tutor_phone: String::new(),
        hours: WeekHours { days: [weekday(), weekday(), weekday(), weekday(), weekday(), None] },
        accessible: true,
        reservation: Reservation::None,
        reserved_schools: Vec::new(),
    }
}

#[tokio::test]
async fn a_host_writes_an_offer_placed_at_its_commune() {
    let store = fixture().await;
    let mut offer = input();
    assert!(offer.check().is_empty());

    let id = store.create_offer(ids::HUGUES, &offer, now_unix()).await.unwrap();

    let stored = store.host_offer(ids::HUGUES, &id).await.unwrap().unwrap();
    assert_eq!(stored.state, OfferState::Draft);
    assert_eq!(stored.location_precision, "commune");
    assert_eq!(stored.input.weeks, weeks().to_vec());
    assert_eq!(stored.input.hours, offer.hours);
    assert_eq!(stored.sector_name.as_deref(), Some("Agroalimentaire"));

    // A typed point wins over the commune's centre.
    let mut moved = offer.clone();
    moved.point = Point::new(46.5801, 0.3405);
    store.update_offer(ids::HUGUES, &id, &moved, now_unix()).await.unwrap();
    let stored = store.host_offer(ids::HUGUES, &id).await.unwrap().unwrap();
    assert_eq!(stored.location_precision, "address");
    assert_eq!(stored.input.point, moved.point);

    // An unknown commune without a point, or an unknown sector, is refused.
    let lost =
        OfferInput { city: "Atlantide".to_owned(), postal_code: "99999".to_owned(), ..input() };
    let refused = store.create_offer(ids::HUGUES, &lost, now_unix()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    let sector = OfferInput { sector_id: Some("nope".to_owned()), ..input() };
    let refused = store.create_offer(ids::HUGUES, &sector, now_unix()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn the_search_words_hold_title_description_sector_and_host() {
    let store = fixture().await;
    let id = store.create_offer(ids::HUGUES, &input(), now_unix()).await.unwrap();
    store.set_offer_state(ids::HUGUES, &id, OfferState::Published, now_unix()).await.unwrap();

    let stored = store.host_offer(ids::HUGUES, &id).await.unwrap().unwrap().search_text;
    for typed in ["Boulangerie", "agroalimentaire", "ÉLUARD", "comptoirs", "façonner"] {
        for term in domain::internship::search_terms::query_terms(typed) {
            assert!(stored.contains(&format!(" {term}")), "{term} in {stored}");
        }
    }
    assert!(!stored.contains(" zoe"));
}

#[tokio::test]
async fn offers_move_only_as_the_states_allow() {
    let store = fixture().await;
    let id = store.create_offer(ids::HUGUES, &input(), now_unix()).await.unwrap();
    let set = |state| {
        let store = store.store.clone();
        let id = id.clone();
        async move { store.set_offer_state(ids::HUGUES, &id, state, now_unix()).await }
    };

    assert!(matches!(set(OfferState::Unpublished).await, Err(StoreError::Conflict(_))));
    set(OfferState::Published).await.unwrap();
    let published = store.host_offer(ids::HUGUES, &id).await.unwrap().unwrap();
    assert!(published.published_at.is_some());
    assert!(matches!(set(OfferState::Draft).await, Err(StoreError::Conflict(_))));
    set(OfferState::Unpublished).await.unwrap();
    set(OfferState::Published).await.unwrap();
    set(OfferState::Archived).await.unwrap();
    for state in OfferState::ALL {
        assert!(matches!(set(state).await, Err(StoreError::Conflict(_))), "{state:?}");
    }
    let refused = store.update_offer(ids::HUGUES, &id, &input(), now_unix()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn another_hosts_offer_is_not_found() {
    let store = fixture().await;
    let id = store.create_offer(ids::HUGUES, &input(), now_unix()).await.unwrap();

    assert!(store.host_offer(ids::GAELLE, &id).await.unwrap().is_none());
    let update = store.update_offer(ids::GAELLE, &id, &input(), now_unix()).await;
    assert!(matches!(update, Err(StoreError::NotFound)));
    let state = store.set_offer_state(ids::GAELLE, &id, OfferState::Published, now_unix()).await;
    assert!(matches!(state, Err(StoreError::NotFound)));
    assert!(store.host_offers(ids::GAELLE).await.unwrap().is_empty());
    // Nor can a pupil or a teacher act as a host.
    let pupil = store.create_offer(ids::ZOE, &input(), now_unix()).await;
    assert!(matches!(pupil, Err(StoreError::NotFound)));
    assert!(store.host_offer(base::SOPHIE, &id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_suspended_hosts_people_cannot_act() {
    let store = fixture().await;
    let id = store.create_offer(ids::HUGUES, &input(), now_unix()).await.unwrap();
    store
        .departement_set_host_status(base::AGNES, ids::HOST_BAKERY, HostAction::Suspend, now_unix())
        .await
        .unwrap();

    let create = store.create_offer(ids::HUGUES, &input(), now_unix()).await;
    assert!(matches!(create, Err(StoreError::NotFound)));
    let publish = store.set_offer_state(ids::HUGUES, &id, OfferState::Published, now_unix()).await;
    assert!(matches!(publish, Err(StoreError::NotFound)));
    let update = store.update_offer(ids::HUGUES, &id, &input(), now_unix()).await;
    assert!(matches!(update, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn the_rules_of_an_offer_are_checked_with_their_field() {
    let fields_of = |mut offer: OfferInput| -> Vec<OfferField> {
        offer.check().into_iter().map(|(field, _)| field).collect()
    };
    assert!(
        fields_of(OfferInput { places_per_week: 0, ..input() })
            .contains(&OfferField::PlacesPerWeek)
    );
    assert!(
        fields_of(OfferInput { places_per_week: 51, ..input() })
            .contains(&OfferField::PlacesPerWeek)
    );
    assert!(
        fields_of(OfferInput { places_total: 1, ..input() }).contains(&OfferField::PlacesTotal)
    );
    assert!(
        fields_of(OfferInput { places_total: 201, ..input() }).contains(&OfferField::PlacesTotal)
    );
    assert!(fields_of(OfferInput { weeks: Vec::new(), ..input() }).contains(&OfferField::Weeks));
    for odd in ["2020-W01", "9999-W01"] {
        let weeks = vec![domain::internship::IsoWeek::parse(odd).unwrap()];
        assert!(fields_of(OfferInput { weeks, ..input() }).contains(&OfferField::Weeks), "{odd}");
    }
    assert!(
        fields_of(OfferInput { title: "t".repeat(151), ..input() }).contains(&OfferField::Title)
    );
    assert!(
        fields_of(OfferInput { title: "a\u{202E}b".to_owned(), ..input() })
            .contains(&OfferField::Title)
    );
    let schools = OfferInput { reservation: Reservation::Schools, ..input() };
    assert!(fields_of(schools).contains(&OfferField::Schools));

    let long_day = Some(DayHours { start: 8 * 60, end: 18 * 60, break_minutes: 60 });
    let mut hours = input();
    hours.hours.days[0] = long_day;
    let reasons: Vec<String> = hours.check().into_iter().map(|(_, reason)| reason).collect();
    assert!(reasons.iter().any(|r| r.contains("7 heures")), "{reasons:?}");
}

fn partner_input(remote_id: &str) -> PartnerOfferInput {
    PartnerOfferInput {
        title: "Stage au cabinet d'architecture".to_owned(),
        description: "Maquettes et visites de chantier.".to_owned(),
        employer_name: "Atelier Clain".to_owned(),
        street: "1 place du Marché".to_owned(),
        zipcode: "86100".to_owned(),
        city: "Châtellerault".to_owned(),
        remote_id: remote_id.to_owned(),
        permalink: "https://partenaire.example/offres/1".to_owned(),
        sector_uuid: ids::SECTOR_ARCHITECTURE.to_owned(),
        max_candidates: 3,
        weeks: weeks().to_vec(),
        point: None,
        accessible: false,
    }
}

#[tokio::test]
async fn partners_publish_update_and_archive_only_their_own_offers() {
    let store = fixture().await;
    let (_, token_a) = store.create_partner(base::AGNES, "A", now_unix()).await.unwrap();
    let (_, token_b) = store.create_partner(base::AGNES, "B", now_unix()).await.unwrap();
    let a = store.partner_by_token(&token_a, now_unix()).await.unwrap().unwrap();
    let b = store.partner_by_token(&token_b, now_unix()).await.unwrap().unwrap();

    let PartnerOutcome::Done(created) =
        store.partner_create_offer(&a, &partner_input("r-1"), now_unix()).await.unwrap()
    else {
        panic!("created")
    };
    assert_eq!(created.state, OfferState::Published);
    let chatellerault = created.input.point.unwrap();
    assert!((chatellerault.latitude - 46.8178).abs() < 0.01);

    let duplicate = store.partner_create_offer(&a, &partner_input("r-1"), now_unix()).await;
    assert_eq!(duplicate.unwrap(), PartnerOutcome::Duplicate);
    // The same remote_id is free for another partner.
    let other = store.partner_create_offer(&b, &partner_input("r-1"), now_unix()).await.unwrap();
    assert!(matches!(other, PartnerOutcome::Done(_)));

    let mut change = partner_input("r-1");
    change.title = "Stage en agence".to_owned();
    change.point = Point::new(46.8, 0.55);
    let PartnerOutcome::Done(updated) =
        store.partner_update_offer(&a, &change, now_unix()).await.unwrap()
    else {
        panic!("updated")
    };
    assert_eq!(updated.input.title, "Stage en agence");
    let (total, offers) = store.partner_offers(&a.id, 1, 30).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(offers[0].input.title, "Stage en agence");

    let unknown = store.partner_update_offer(&a, &partner_input("r-9"), now_unix()).await;
    assert_eq!(unknown.unwrap(), PartnerOutcome::NotFound);
    assert!(store.partner_archive_offer(&a, "r-1", now_unix()).await.unwrap());
    assert!(!store.partner_archive_offer(&a, "r-1", now_unix()).await.unwrap());
    assert_eq!(store.partner_offers(&a.id, 1, 30).await.unwrap().0, 0);
    assert_eq!(store.partner_offers(&b.id, 1, 30).await.unwrap().0, 1);

    let mut bad = partner_input("r-2");
    bad.sector_uuid = "d8030346-f19d-42d2-b633-000000000000".to_owned();
    bad.permalink = "http://insecure.example".to_owned();
    let PartnerOutcome::Invalid(errors) =
        store.partner_create_offer(&a, &bad, now_unix()).await.unwrap()
    else {
        panic!("refused")
    };
    let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
    assert_eq!(fields, ["permalink"]);
    bad.permalink = "https://ok.example".to_owned();
    let PartnerOutcome::Invalid(errors) =
        store.partner_create_offer(&a, &bad, now_unix()).await.unwrap()
    else {
        panic!("refused")
    };
    assert_eq!(errors.iter().map(|(f, _)| *f).collect::<Vec<_>>(), ["sector_uuid"]);
}
