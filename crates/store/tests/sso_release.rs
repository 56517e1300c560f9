//! What the registry's read side answers: which application a service URL belongs to (the
//! longest registration wins, disabled ones and look-alikes find nothing), who may use an
//! application (profiles, schools, a parent through their children, a pupil who left), and what
//! a person releases (an opaque identifier per application by default, Pronote's attributes when
//! registered so).

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use store::fixtures::ids;
use store::sso::admin::NewService;

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

fn pronote(school: &str, url: &str) -> NewService {
    NewService {
        name: format!("Pronote {school}"),
        protocol: Protocol::Cas,
        school_id: Some(school.to_owned()),
        principal: Principal::Login,
        attributes: Attribute::PRONOTE.to_vec(),
        require_second_factor: false,
        allow_proxy: false,
        client_id: None,
        client_secret_hash: None,
        urls: vec![(UrlMatch::Prefix, url.to_owned())],
        logout_urls: Vec::new(),
        schools: vec![school.to_owned()],
        profiles: vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff],
    }
}

#[tokio::test]
async fn a_service_url_finds_its_registration_and_nothing_else() {
    let store = fixture().await;
    let one = store
        .register_service(None, &pronote(ids::SCHOOL_1, "https://0860001a.index-education.net/"))
        .await
        .unwrap();
    let narrower = store
        .register_service(
            None,
            &pronote(ids::SCHOOL_2, "https://0860001a.index-education.net/pronote/"),
        )
        .await
        .unwrap();

    let found = |url: &'static str| {
        let store = store.clone();
        async move { store.cas_service_for_url(url).await.unwrap().map(|s| s.id) }
    };
    assert_eq!(found("https://0860001a.index-education.net/autre").await, Some(one.clone()));
    assert_eq!(
        found("https://0860001a.index-education.net/pronote/eleve.html").await,
        Some(narrower.clone())
    );
    for hostile in [
        "https://0860001a.index-education.net.evil.tld/pronote/",
        "https://evil.tld/?u=https://0860001a.index-education.net/pronote/",
        "http://0860001a.index-education.net/pronote/",
        "https://0860001a.index-education.net/pronote/%2e%2e/",
    ] {
        assert_eq!(store.cas_service_for_url(hostile).await.unwrap(), None, "{hostile}");
    }

    store
        .fixture_execute("UPDATE sso_services SET enabled = 0 WHERE id = $1", &[narrower.as_str()])
        .await
        .unwrap();
    assert_eq!(
        found("https://0860001a.index-education.net/pronote/eleve.html").await,
        Some(one),
        "a disabled registration is skipped, the wider one answers"
    );
}

#[tokio::test]
async fn who_may_use_an_application_follows_profiles_and_schools() {
    let store = fixture().await;
    let first = store
        .register_service(None, &pronote(ids::SCHOOL_1, "https://p1.example.fr/pronote/"))
        .await
        .unwrap();
    let second = store
        .register_service(None, &pronote(ids::SCHOOL_2, "https://p2.example.fr/pronote/"))
        .await
        .unwrap();

    for (person, on_first, on_second) in [
        (ids::ALICE, true, false),
        (ids::DAVID, false, true),
        (ids::PAUL, true, true),
        (ids::QUITTERIE, true, false),
        (ids::THOMAS, true, true),
        (ids::SOPHIE, true, false),
        (ids::HUGO, false, true),
        (ids::AGNES, false, false),
    ] {
        assert_eq!(store.service_allows(&first, person).await.unwrap(), on_first, "{person} 1");
        assert_eq!(store.service_allows(&second, person).await.unwrap(), on_second, "{person} 2");
    }

    store
        .fixture_execute(
            "UPDATE pupil_classes SET exit_date = '2000-01-01', exit_after = 1 WHERE pupil_id = $1",
            &[ids::ALICE],
        )
        .await
        .unwrap();
    let still_linked = store
        .fixture_count("SELECT COUNT(*) FROM person_schools WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert_eq!(
        store.service_allows(&first, ids::ALICE).await.unwrap(),
        still_linked > 0,
        "a pupil who left her class keeps only her school links"
    );
}

#[tokio::test]
async fn people_release_an_opaque_identifier_unless_registered_otherwise() {
    let store = fixture().await;
    let mut minimal = pronote(ids::SCHOOL_1, "https://library.example.fr/");
    minimal.principal = Principal::Opaque;
    minimal.attributes = Vec::new();
    minimal.schools = Vec::new();
    let library = store.register_service(None, &minimal).await.unwrap();
    let mut other = minimal.clone();
    other.urls = vec![(UrlMatch::Prefix, "https://dictionary.example.fr/".to_owned())];
    let dictionary = store.register_service(None, &other).await.unwrap();

    let library = store.sso_service(&library).await.unwrap().unwrap();
    let dictionary = store.sso_service(&dictionary).await.unwrap().unwrap();
    let at_library = store.release(&library, ids::ALICE).await.unwrap();
    let again = store.release(&library, ids::ALICE).await.unwrap();
    let at_dictionary = store.release(&dictionary, ids::ALICE).await.unwrap();
    assert_eq!(at_library, again, "stable");
    assert!(at_library.attributes.is_empty());
    assert_eq!(at_library.principal.len(), 32);
    assert!(at_library.principal.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(at_library.principal, at_dictionary.principal, "one identifier per application");
    assert!(!at_library.principal.contains("alice"));

    let pronote = store
        .register_service(None, &pronote(ids::SCHOOL_1, "https://p1.example.fr/pronote/"))
        .await
        .unwrap();
    let pronote = store.sso_service(&pronote).await.unwrap().unwrap();
    let alice = store.release(&pronote, ids::ALICE).await.unwrap();
    assert_eq!(alice.principal, "alice.martin");
    assert_eq!(alice.get(Attribute::LastName), Some(&["Martin".to_owned()][..]));
    assert_eq!(alice.get(Attribute::FirstName), Some(&["Alice".to_owned()][..]));
    assert_eq!(alice.get(Attribute::BirthDate), Some(&["07/03/2013".to_owned()][..]));
    assert_eq!(alice.get(Attribute::Categories), Some(&["National_1".to_owned()][..]));
    assert_eq!(alice.get(Attribute::Email), None, "not registered for it");
    let paul = store.release(&pronote, ids::PAUL).await.unwrap();
    assert_eq!(paul.get(Attribute::Categories), Some(&["National_2".to_owned()][..]));
    assert_eq!(paul.get(Attribute::BirthDate), None, "no birth date known: left out");
    let thomas = store.release(&pronote, ids::THOMAS).await.unwrap();
    assert_eq!(thomas.get(Attribute::Categories), Some(&["National_3".to_owned()][..]));
    let helene = store.release(&pronote, ids::HELENE).await.unwrap();
    assert_eq!(helene.get(Attribute::Categories), Some(&["National_4".to_owned()][..]));
}

#[tokio::test]
async fn a_registration_with_a_bad_url_writes_nothing() {
    let store = fixture().await;
    let mut bad = pronote(ids::SCHOOL_1, "https://ok.example.fr/");
    bad.urls.push((UrlMatch::Prefix, "https://*.example.fr/".to_owned()));
    let refused = store.register_service(None, &bad).await;
    assert!(matches!(refused, Err(store::StoreError::Conflict(_))), "{refused:?}");
    let count = store.fixture_count("SELECT COUNT(*) FROM sso_services", &[]).await.unwrap();
    assert_eq!(count, 0);

    let mut prefix_oidc = pronote(ids::SCHOOL_1, "https://rp.example.fr/callback");
    prefix_oidc.protocol = Protocol::Oidc;
    assert!(store.register_service(None, &prefix_oidc).await.is_err());
}

#[tokio::test]
async fn names_with_invisible_or_direction_characters_are_refused() {
    let store = fixture().await;
    for hostile in
        ["Pronote\u{202E}txt.exe", "Pro\u{200B}note", "Pronote\u{2066}", "\u{FEFF}Pronote"]
    {
        let mut named = pronote(ids::SCHOOL_1, "https://p1.example.fr/pronote/");
        named.name = hostile.to_owned();
        let refused = store.register_service(None, &named).await;
        assert!(matches!(refused, Err(store::StoreError::Conflict(_))), "{hostile:?}");

        let resource =
            store::resources::NewResource { title: hostile.to_owned(), ..Default::default() };
        let errors = store::resources::check_resource(&resource);
        assert!(
            errors.iter().any(|(field, _)| *field == store::resources::ResourceField::Title),
            "{hostile:?}: {errors:?}"
        );
    }
    let count = store.fixture_count("SELECT COUNT(*) FROM sso_services", &[]).await.unwrap();
    assert_eq!(count, 0);
}
