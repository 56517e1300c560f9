//! Host organisations in the store, on both engines: self-registration (one transaction:
//! host, person, login, activated account, manager), a SIRET registered twice, the checks of
//! typed details (SIRET key, lengths, bidi characters), a manager inviting and removing a
//! colleague (an e-mail queued with the login and code; a mere member cannot), the
//! département's list, decisions and merge (offers and members move), the reference lists
//! (sectors and communes imported from the real shared files, the built-in gazetteer), and
//! the partner tokens.

use std::time::Duration;

use domain::internship::HostStatus;
use formats::internship_reference::{parse_communes, parse_sectors};
use store::fixtures::ids as base;
use store::fixtures::internship::{FixtureOffer, ids};
use store::internship::hosts::{HostAction, HostField, HostFilter, HostForm, PersonForm};
use store::{StoreError, now_unix};

const SECTORS_FILE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/internships/monstage_sectors.yml");
const COMMUNES_FILE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/towns-around-vienne.csv");

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    store
}

fn host_form(siret: &str) -> HostForm {
    HostForm {
        name: "Menuiserie Lévêque".to_owned(),
        siret: siret.to_owned(),
        kind: "company".to_owned(),
        street: "4 rue des Artisans".to_owned(),
        postal_code: "86000".to_owned(),
        city: "Poitiers".to_owned(),
        contact_name: "Lou Lévêque".to_owned(),
        contact_email: "contact@menuiserie.example".to_owned(),
        contact_phone: "05 49 11 22 33".to_owned(),
        representative_name: "Lou Lévêque".to_owned(),
        representative_role: "Gérante".to_owned(),
    }
}

fn person_form() -> PersonForm {
    PersonForm {
        last_name: "Lévêque".to_owned(),
        first_name: "Lou".to_owned(),
        email: "lou@menuiserie.example".to_owned(),
    }
}

/// The SIRET of the INSEE's head office (valid key), free in the fixture.
const FREE_SIRET: &str = "120 027 016 00019";

#[tokio::test]
async fn a_host_registers_itself_in_one_transaction() {
    let store = fixture().await;
    store.ensure_gazetteer().await.unwrap();
    let details = host_form(FREE_SIRET).check().unwrap();
    let person = person_form().check().unwrap();

    let registration = store.register_host(&details, &person, "hash", now_unix()).await.unwrap();

    assert_eq!(registration.login, "lou.leveque");
    let membership = store.host_membership(&registration.person_id).await.unwrap().unwrap();
    assert_eq!(membership.host_id, registration.host_id);
    assert_eq!(membership.role, "manager");
    assert_eq!(membership.status, HostStatus::Pending);
    let host = store.host_of_member(&registration.person_id).await.unwrap().unwrap();
    assert_eq!(host.siret, "12002701600019");
    assert_eq!(host.city, "Poitiers");

    // A second registration with the same SIRET is refused and writes nothing.
    let other = PersonForm { first_name: "Max".to_owned(), ..person_form() }.check().unwrap();
    let again = store.register_host(&details, &other, "hash", now_unix()).await;
    assert!(matches!(again, Err(StoreError::Conflict(ref m)) if m.contains("SIRET")), "{again:?}");
    let filter = HostFilter { status: None, query: "12002701600019".to_owned() };
    let found = store.departement_hosts(base::AGNES, &filter, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(store.host_members(&registration.person_id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn typed_details_are_checked_field_by_field() {
    let bad_key = host_form("120 027 016 00018").check().unwrap_err();
    assert!(bad_key.iter().any(|(field, _)| *field == HostField::Siret));

    let long = HostForm { name: "x".repeat(151), ..host_form(FREE_SIRET) };
    let errors = long.check().unwrap_err();
    assert!(errors.iter().any(|(f, r)| *f == HostField::Name && r.contains("trop long")));

    let bidi = HostForm { name: "Garage\u{202E}xuaeB".to_owned(), ..host_form(FREE_SIRET) };
    assert!(bidi.check().unwrap_err().iter().any(|(f, _)| *f == HostField::Name));

    let person = PersonForm { first_name: "Lo\u{200B}u".to_owned(), ..person_form() };
    assert!(person.check().unwrap_err().iter().any(|(f, _)| *f == HostField::FirstName));
    let email = PersonForm { email: "pas une adresse".to_owned(), ..person_form() };
    assert!(email.check().unwrap_err().iter().any(|(f, _)| *f == HostField::Email));
}

#[tokio::test]
async fn a_manager_invites_and_removes_a_colleague_and_a_member_cannot() {
    let store = fixture().await;
    let colleague = PersonForm {
        last_name: "Farine".to_owned(),
        first_name: "Jeanne".to_owned(),
        email: "jeanne@example.org".to_owned(),
    }
    .check()
    .unwrap();

    let account = store
        .invite_host_member(
            ids::HUGUES,
            &colleague,
            "http://127.0.0.1:8080/activation",
            Duration::from_secs(3600),
            now_unix(),
        )
        .await
        .unwrap();

    let members = store.host_members(ids::HUGUES).await.unwrap();
    assert_eq!(members.len(), 2);
    let invited = members.iter().find(|m| m.person_id == account.person_id).unwrap();
    assert_eq!(invited.role, "member");
    assert!(!invited.activated);
    let membership = store.host_membership(&account.person_id).await.unwrap().unwrap();
    assert_eq!(membership.host_id, ids::HOST_BAKERY);

    // The e-mail waits in the outbox with the login, the code and the address.
    let claimed = store.claim_outbox("test", 50, 60).await.unwrap();
    let mail_id = claimed
        .iter()
        .find(|entry| entry.kind == store::internship::MAIL_OUTBOX_KIND)
        .map(|entry| entry.subject_id.clone())
        .expect("an internship mail");
    let mail = store.pending_internship_mail(&mail_id).await.unwrap().unwrap();
    assert_eq!(mail.to_email, "jeanne@example.org");
    assert!(mail.body.contains(&account.login));
    assert!(mail.body.contains("http://127.0.0.1:8080/activation"));
    let code = domain::activation::format_code(&account.activation_code);
    assert!(mail.body.contains(&code));

    // The member cannot invite nor remove; the manager removes them.
    let refused = store
        .invite_host_member(
            &account.person_id,
            &colleague,
            "http://x",
            Duration::from_secs(60),
            now_unix(),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    let refused = store.remove_host_member(&account.person_id, ids::HUGUES, now_unix()).await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    // Another host's manager cannot remove them either.
    let foreign = store.remove_host_member(ids::GAELLE, &account.person_id, now_unix()).await;
    assert!(matches!(foreign, Err(StoreError::NotFound)));
    store.remove_host_member(ids::HUGUES, &account.person_id, now_unix()).await.unwrap();
    assert_eq!(store.host_members(ids::HUGUES).await.unwrap().len(), 1);
    assert!(store.host_membership(&account.person_id).await.unwrap().is_none());
}

#[tokio::test]
async fn the_departement_decides_on_hosts_and_nobody_else_can() {
    let store = fixture().await;
    let now = now_unix();

    let refused = store
        .departement_set_host_status(base::HELENE, ids::HOST_GARAGE, HostAction::Verify, now)
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    let list = store.departement_hosts(ids::HUGUES, &HostFilter::default(), 10).await;
    assert!(matches!(list, Err(StoreError::NotFound)));

    let next = store
        .departement_set_host_status(base::AGNES, ids::HOST_GARAGE, HostAction::Verify, now)
        .await
        .unwrap();
    assert_eq!(next, HostStatus::Verified);
    let again = store
        .departement_set_host_status(base::AGNES, ids::HOST_GARAGE, HostAction::Verify, now)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let reinstate = store
        .departement_set_host_status(base::AGNES, ids::HOST_GARAGE, HostAction::Reinstate, now)
        .await;
    assert!(matches!(reinstate, Err(StoreError::Conflict(_))));

    store
        .departement_set_host_status(base::AGNES, ids::HOST_BAKERY, HostAction::Suspend, now)
        .await
        .unwrap();
    let membership = store.host_membership(ids::HUGUES).await.unwrap().unwrap();
    assert_eq!(membership.status, HostStatus::Suspended);
    let filter = HostFilter { status: Some(HostStatus::Suspended), query: String::new() };
    let suspended = store.departement_hosts(base::AGNES, &filter, 10).await.unwrap();
    assert_eq!(suspended.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), [ids::HOST_BAKERY]);
    let by_name = HostFilter { status: None, query: "eluard".to_owned() };
    assert_eq!(store.departement_hosts(base::AGNES, &by_name, 10).await.unwrap().len(), 1);
    store
        .departement_set_host_status(base::AGNES, ids::HOST_BAKERY, HostAction::Reinstate, now)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_merge_moves_offers_and_members_in_one_go() {
    let store = fixture().await;
    let offer = store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();

    store
        .departement_merge_hosts(base::AGNES, ids::HOST_BAKERY, ids::HOST_GARAGE, now_unix())
        .await
        .unwrap();

    let membership = store.host_membership(ids::HUGUES).await.unwrap().unwrap();
    assert_eq!(membership.host_id, ids::HOST_GARAGE);
    assert_eq!(store.host_members(ids::GAELLE).await.unwrap().len(), 2);
    let offers = store.host_offers(ids::GAELLE).await.unwrap();
    assert_eq!(offers.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [offer.as_str()]);
    let (merged, members) =
        store.departement_host(base::AGNES, ids::HOST_BAKERY).await.unwrap().unwrap();
    assert_eq!(merged.status, HostStatus::Merged);
    assert_eq!(merged.merged_into.as_deref(), Some(ids::HOST_GARAGE));
    assert!(members.is_empty());

    let twice = store
        .departement_merge_hosts(base::AGNES, ids::HOST_BAKERY, ids::HOST_GARAGE, now_unix())
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))));
    let itself = store
        .departement_merge_hosts(base::AGNES, ids::HOST_GARAGE, ids::HOST_GARAGE, now_unix())
        .await;
    assert!(matches!(itself, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn the_departement_creates_a_verified_host_with_its_first_person() {
    let store = fixture().await;
    let details = host_form(FREE_SIRET).check().unwrap();
    let person = person_form().check().unwrap();

    let (host_id, account) = store
        .departement_create_host(
            base::AGNES,
            &details,
            Some(&person),
            Duration::from_secs(3600),
            now_unix(),
        )
        .await
        .unwrap();

    let account = account.unwrap();
    let (host, members) = store.departement_host(base::AGNES, &host_id).await.unwrap().unwrap();
    assert_eq!(host.status, HostStatus::Verified);
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].login, account.login);
    assert!(!account.activation_code.is_empty());
    let refused = store
        .departement_create_host(base::HELENE, &details, None, Duration::from_secs(60), now_unix())
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn the_national_sectors_and_the_communes_are_imported_from_the_shared_files() {
    let store = fixture().await;

    let sectors = parse_sectors(&std::fs::read(SECTORS_FILE).unwrap()).unwrap();
    assert_eq!(sectors.records.len(), 42);
    assert!(sectors.rejections.is_empty());
    let counts = store.import_sectors(&sectors.records).await.unwrap();
    assert_eq!(counts.added, 42);
    let again = store.import_sectors(&sectors.records).await.unwrap();
    assert_eq!((again.added, again.updated), (0, 42));
    assert_eq!(store.sectors().await.unwrap().len(), 42 + 3);

    assert_eq!(store.ensure_gazetteer().await.unwrap(), domain::internship::communes::VIENNE.len());
    assert_eq!(store.ensure_gazetteer().await.unwrap(), 0);
    let communes = parse_communes(&std::fs::read(COMMUNES_FILE).unwrap()).unwrap();
    assert_eq!(communes.notices.len(), 1, "the repeated header");
    assert!(communes.rejections.is_empty());
    assert_eq!(communes.records.len(), 116);
    let counts = store.import_communes(&communes.records).await.unwrap();
    assert_eq!(counts.added + counts.updated, 116);
    assert!(counts.updated >= 40, "the built-in communes are recognised: {counts:?}");

    // Poitiers keeps its postcode (the GeoNames file has none) and is found both ways.
    let poitiers = store.find_commune("86000").await.unwrap().unwrap();
    assert_eq!(poitiers.name, "Poitiers");
    let by_name = store.find_commune("poitiers").await.unwrap().unwrap();
    assert_eq!(by_name.id, poitiers.id);
    let typed = store.locate_commune("86280", "Saint Benoit").await.unwrap().unwrap();
    assert_eq!(typed.name, "Saint-Benoît");
    assert!(store.find_commune("Nulle-Part-sur-Mer").await.unwrap().is_none());
}

#[tokio::test]
async fn a_partner_token_works_until_it_is_deactivated() {
    let store = fixture().await;
    let refused = store.create_partner(ids::HUGUES, "Plateforme", now_unix()).await;
    assert!(matches!(refused, Err(StoreError::NotFound)));

    let (id, token) =
        store.create_partner(base::AGNES, "Plateforme régionale", now_unix()).await.unwrap();

    let partner = store.partner_by_token(&token, now_unix()).await.unwrap().unwrap();
    assert_eq!(partner.id, id);
    assert!(store.partner_by_token("forged", now_unix()).await.unwrap().is_none());
    assert!(store.partner_by_token(&token[1..], now_unix()).await.unwrap().is_none());
    store.deactivate_partner(base::AGNES, &id, now_unix()).await.unwrap();
    assert!(store.partner_by_token(&token, now_unix()).await.unwrap().is_none());
    let listed = store.departement_partners(base::AGNES).await.unwrap();
    assert!(!listed[0].active);
}
