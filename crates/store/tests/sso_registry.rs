//! The registry's administration from the consoles' scopes: a school administrator manages
//! only their school's applications (another school's is not found, whatever the action), reads
//! the département's that reach their school, and registers for their school only; URLs that
//! would take over another owner's registration are refused; a disabled application is found
//! by no sign-on path; secrets change as asked; every change is audited.

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use store::StoreError;
use store::fixtures::ids;
use store::sso::admin::{AdminScope, NewService, SecretChange};

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

fn cas(name: &str, url: &str) -> NewService {
    NewService {
        name: name.to_owned(),
        protocol: Protocol::Cas,
        school_id: None,
        principal: Principal::Login,
        attributes: Attribute::PRONOTE.to_vec(),
        require_second_factor: false,
        allow_proxy: false,
        client_id: None,
        client_secret_hash: None,
        urls: vec![(UrlMatch::Prefix, url.to_owned())],
        logout_urls: Vec::new(),
        schools: Vec::new(),
        profiles: vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff],
    }
}

fn oidc(name: &str, client_id: &str) -> NewService {
    NewService {
        protocol: Protocol::Oidc,
        principal: Principal::Opaque,
        attributes: Vec::new(),
        client_id: Some(client_id.to_owned()),
        client_secret_hash: Some("ab".repeat(32)),
        urls: vec![(UrlMatch::Exact, "https://rp.example.fr/callback".to_owned())],
        logout_urls: vec!["https://rp.example.fr/".to_owned()],
        ..cas(name, "https://unused.example.fr/")
    }
}

fn school_1() -> AdminScope {
    AdminScope::School(ids::SCHOOL_1.to_owned())
}

fn school_2() -> AdminScope {
    AdminScope::School(ids::SCHOOL_2.to_owned())
}

async fn audits(store: &store::Store, action: &'static str) -> i64 {
    let sql = match action {
        "sso_service_registered" => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_registered'"
        }
        "sso_service_updated" => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_updated'"
        }
        "sso_service_disabled" => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_disabled'"
        }
        "sso_service_enabled" => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_enabled'"
        }
        "sso_service_deleted" => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_deleted'"
        }
        _ => "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_secret_regenerated'",
    };
    store.fixture_count(sql, &[]).await.unwrap()
}

#[tokio::test]
async fn a_school_registration_belongs_to_that_school_and_reaches_it_only() {
    let store = fixture().await;
    let mut asked = cas("Pronote", "https://0860001a.index-education.net/pronote/");
    asked.school_id = Some(ids::SCHOOL_2.to_owned());
    asked.schools = vec![ids::SCHOOL_2.to_owned()];
    asked.profiles.push(Profile::Agent);

    let id = store.create_service(ids::HELENE, &school_1(), &asked).await.unwrap();

    let managed = store.managed_service(ids::HELENE, &school_1(), &id).await.unwrap().unwrap();
    assert_eq!(managed.service.school_id.as_deref(), Some(ids::SCHOOL_1));
    assert_eq!(managed.schools.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), [ids::SCHOOL_1]);
    assert!(!managed.profiles.contains(&Profile::Agent), "no département profile for a school");
    assert!(managed.editable);
    assert!(store.service_allows(&id, ids::ALICE).await.unwrap());
    assert!(!store.service_allows(&id, ids::DAVID).await.unwrap());
    assert_eq!(audits(&store, "sso_service_registered").await, 1);
}

#[tokio::test]
async fn another_schools_application_is_not_found_whatever_the_action() {
    let store = fixture().await;
    let theirs = store
        .create_service(ids::MARC, &school_2(), &cas("Pronote 2", "https://p2.example.fr/pronote/"))
        .await
        .unwrap();

    assert!(store.managed_service(ids::HELENE, &school_1(), &theirs).await.unwrap().is_none());
    assert!(store.managed_services(ids::HELENE, &school_1()).await.unwrap().is_empty());
    let change = cas("Volé", "https://p2.example.fr/pronote/");
    for result in [
        store.update_service(ids::HELENE, &school_1(), &theirs, &change, &SecretChange::Keep).await,
        store.set_service_enabled(ids::HELENE, &school_1(), &theirs, false).await,
        store.set_service_secret(ids::HELENE, &school_1(), &theirs, &"cd".repeat(32)).await,
        store.delete_service(ids::HELENE, &school_1(), &theirs).await,
    ] {
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
    // Acting in collège 2's scope without administering it changes nothing either.
    let posing = store.delete_service(ids::HELENE, &school_2(), &theirs).await;
    assert!(matches!(posing, Err(StoreError::NotFound)), "{posing:?}");
    assert!(store.managed_services(ids::HELENE, &school_2()).await.unwrap().is_empty());
    let teacher = store.create_service(ids::THOMAS, &school_1(), &change).await;
    assert!(matches!(teacher, Err(StoreError::NotFound)), "{teacher:?}");
    assert!(
        store.managed_services(ids::THOMAS, &AdminScope::Departement).await.unwrap().is_empty()
    );

    let still = store.sso_service(&theirs).await.unwrap().unwrap();
    assert_eq!(still.name, "Pronote 2");
    assert!(still.enabled);
    // The département sees and manages it.
    let lines = store.managed_services(ids::AGNES, &AdminScope::Departement).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].editable);
    assert_eq!(lines[0].owner.as_ref().map(|o| o.uai.as_str()), Some(ids::UAI_2));
}

#[tokio::test]
async fn a_school_reads_the_departements_applications_that_reach_it_without_changing_them() {
    let store = fixture().await;
    let everyone = store
        .create_service(
            ids::AGNES,
            &AdminScope::Departement,
            &cas("Bibliothèque", "https://bib.example.fr/"),
        )
        .await
        .unwrap();
    let mut only_two = cas("Plateforme 2", "https://plateforme.example.fr/");
    only_two.schools = vec![ids::SCHOOL_2.to_owned()];
    let for_two =
        store.create_service(ids::AGNES, &AdminScope::Departement, &only_two).await.unwrap();

    let lines = store.managed_services(ids::HELENE, &school_1()).await.unwrap();
    assert_eq!(lines.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), [everyone.as_str()]);
    assert!(!lines[0].editable);
    assert!(lines[0].owner.is_none());
    let read = store.managed_service(ids::HELENE, &school_1(), &everyone).await.unwrap().unwrap();
    assert!(!read.editable);
    assert!(store.managed_service(ids::HELENE, &school_1(), &for_two).await.unwrap().is_none());
    let refused = store.set_service_enabled(ids::HELENE, &school_1(), &everyone, false).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");

    let marc = store.managed_services(ids::MARC, &school_2()).await.unwrap();
    assert_eq!(marc.len(), 2, "collège 2 reads both");
}

#[tokio::test]
async fn a_url_that_takes_over_another_owners_registration_is_refused_with_its_reason() {
    let store = fixture().await;
    let departement = AdminScope::Departement;
    store
        .create_service(ids::AGNES, &departement, &cas("Portail", "https://ent.example.fr/"))
        .await
        .unwrap();
    store
        .create_service(ids::MARC, &school_2(), &cas("Pronote 2", "https://p2.example.fr/pronote/"))
        .await
        .unwrap();

    // A school's address inside a département entry would win the lookup and escape the
    // département's rules (second factor, profiles, attributes): refused, in good French.
    let carved = store
        .create_service(ids::HELENE, &school_1(), &cas("Pronote 1", "https://ent.example.fr/p1/"))
        .await;
    match carved {
        Err(StoreError::Conflict(reason)) => {
            assert!(reason.contains("recouvre"), "{reason}");
            assert!(reason.contains("d'une application"), "{reason}");
            assert!(!reason.contains("Portail"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    for (url, says) in [
        ("https://p2.example.fr/pronote/", "déjà enregistrée"),
        ("https://p2.example.fr/pronote/eleve.html", "recouvre"),
        ("https://p2.example.fr/", "recouvre"),
    ] {
        let refused = store.create_service(ids::HELENE, &school_1(), &cas("Pirate", url)).await;
        match refused {
            Err(StoreError::Conflict(reason)) => {
                assert!(reason.contains(says), "{url}: {reason}");
                assert!(!reason.contains("Pronote 2"), "another school's name is not told");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    let same = store
        .create_service(ids::AGNES, &departement, &cas("Doublon", "https://ent.example.fr/"))
        .await;
    assert!(matches!(&same, Err(StoreError::Conflict(r)) if r.contains("« Portail »")), "{same:?}");
    let inside = store
        .create_service(ids::AGNES, &departement, &cas("Dedans", "https://p2.example.fr/pronote/x"))
        .await;
    assert!(matches!(inside, Err(StoreError::Conflict(_))), "the département cannot take it over");

    let hostile = store
        .create_service(ids::AGNES, &departement, &cas("Motif", "https://*.example.fr/"))
        .await;
    assert!(matches!(hostile, Err(StoreError::Conflict(_))), "{hostile:?}");
    assert_eq!(audits(&store, "sso_service_registered").await, 2);
}

#[tokio::test]
async fn a_disabled_application_is_found_by_no_sign_on_path_until_enabled_again() {
    let store = fixture().await;
    let departement = AdminScope::Departement;
    let pronote = store
        .create_service(ids::AGNES, &departement, &cas("Pronote", "https://p1.example.fr/pronote/"))
        .await
        .unwrap();
    let client =
        store.create_service(ids::AGNES, &departement, &oidc("Appli", "client-abc")).await.unwrap();
    let url = "https://p1.example.fr/pronote/eleve.html";
    assert_eq!(store.cas_service_for_url(url).await.unwrap().map(|s| s.id), Some(pronote.clone()));
    assert_eq!(store.oidc_client("client-abc").await.unwrap().map(|s| s.id), Some(client.clone()));

    store.set_service_enabled(ids::AGNES, &departement, &pronote, false).await.unwrap();
    store.set_service_enabled(ids::AGNES, &departement, &client, false).await.unwrap();

    assert_eq!(store.cas_service_for_url(url).await.unwrap(), None);
    assert_eq!(store.oidc_client("client-abc").await.unwrap(), None);
    assert!(!store.service_allows(&pronote, ids::ALICE).await.unwrap());
    assert_eq!(audits(&store, "sso_service_disabled").await, 2);

    store.set_service_enabled(ids::AGNES, &departement, &pronote, true).await.unwrap();
    assert!(store.cas_service_for_url(url).await.unwrap().is_some());
    assert_eq!(audits(&store, "sso_service_enabled").await, 1);
}

#[tokio::test]
async fn a_change_replaces_urls_schools_and_profiles_and_keeps_protocol_and_client_id() {
    let store = fixture().await;
    let departement = AdminScope::Departement;
    let id =
        store.create_service(ids::AGNES, &departement, &oidc("Appli", "client-xyz")).await.unwrap();

    let mut changed = oidc("Appli renommée", "another-id");
    changed.protocol = Protocol::Cas;
    changed.urls = vec![(UrlMatch::Exact, "https://rp.example.fr/cb2".to_owned())];
    changed.schools = vec![ids::SCHOOL_2.to_owned()];
    changed.profiles = vec![Profile::Teacher];
    changed.allow_proxy = true;
    store
        .update_service(ids::AGNES, &departement, &id, &changed, &SecretChange::Keep)
        .await
        .unwrap();

    let managed = store.managed_service(ids::AGNES, &departement, &id).await.unwrap().unwrap();
    assert_eq!(managed.service.name, "Appli renommée");
    assert_eq!(managed.service.protocol, Protocol::Oidc);
    assert_eq!(managed.service.client_id.as_deref(), Some("client-xyz"));
    assert_eq!(managed.service.client_secret_hash, Some("ab".repeat(32)), "kept");
    assert!(!managed.service.allow_proxy, "proxies are CAS only");
    assert_eq!(
        managed.service.urls.iter().map(|u| u.url.as_str()).collect::<Vec<_>>(),
        ["https://rp.example.fr/cb2"]
    );
    assert_eq!(managed.schools.iter().map(|s| s.uai.as_str()).collect::<Vec<_>>(), [ids::UAI_2]);
    assert_eq!(managed.profiles, [Profile::Teacher]);

    store
        .update_service(ids::AGNES, &departement, &id, &changed, &SecretChange::Clear)
        .await
        .unwrap();
    assert_eq!(store.sso_service(&id).await.unwrap().unwrap().client_secret_hash, None);
    let set = SecretChange::Set("ef".repeat(32));
    store.update_service(ids::AGNES, &departement, &id, &changed, &set).await.unwrap();
    assert_eq!(
        store.sso_service(&id).await.unwrap().unwrap().client_secret_hash,
        Some("ef".repeat(32))
    );
    store.set_service_secret(ids::AGNES, &departement, &id, &"01".repeat(32)).await.unwrap();
    assert_eq!(
        store.sso_service(&id).await.unwrap().unwrap().client_secret_hash,
        Some("01".repeat(32))
    );
    assert_eq!(audits(&store, "sso_service_updated").await, 3);
    assert_eq!(audits(&store, "secret").await, 1);

    let mut bad = changed.clone();
    bad.urls = vec![(UrlMatch::Exact, "https://rp.example.fr/cb#frag".to_owned())];
    let refused =
        store.update_service(ids::AGNES, &departement, &id, &bad, &SecretChange::Keep).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(r)) if r.contains("fragment")),
        "{refused:?}"
    );
    let kept = store.sso_service(&id).await.unwrap().unwrap();
    assert_eq!(kept.urls[0].url, "https://rp.example.fr/cb2", "a refused change writes nothing");
}

#[tokio::test]
async fn deleting_an_application_unbinds_its_resources_and_is_audited() {
    let store = fixture().await;
    let id = store
        .create_service(ids::HELENE, &school_1(), &cas("Pronote", "https://p1.example.fr/pronote/"))
        .await
        .unwrap();
    let resource = store
        .create_resource(
            ids::HELENE,
            &school_1(),
            &store::resources::NewResource {
                title: "Pronote".to_owned(),
                kind: "vie-scolaire".to_owned(),
                url: "https://p1.example.fr/pronote/".to_owned(),
                service_id: Some(id.clone()),
                profiles: vec![Profile::Pupil],
                ..Default::default()
            },
        )
        .await
        .unwrap();

    store.delete_service(ids::HELENE, &school_1(), &id).await.unwrap();

    assert!(store.sso_service(&id).await.unwrap().is_none());
    let left = store.managed_resource(ids::HELENE, &school_1(), &resource).await.unwrap().unwrap();
    assert_eq!(left.resource.service_id, None);
    assert_eq!(audits(&store, "sso_service_deleted").await, 1);
    let again = store.delete_service(ids::HELENE, &school_1(), &id).await;
    assert!(matches!(again, Err(StoreError::NotFound)));
}
