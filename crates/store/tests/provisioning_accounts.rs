//! Accounts for new people: logins `prenom.nom` folded and numbered, never reused, stable
//! when names change; activation codes for everyone, expiring after the validity asked; the
//! département's own people with their scope and role.

mod import_support;

use std::time::Duration;

use domain::profile::Profile;
use import_support::{aaf, count, execute, import_with, texts};
use store::import::ImportOptions;
use store::provisioning::NewLocalPerson;

fn agent(first: &str, last: &str) -> NewLocalPerson {
    NewLocalPerson {
        profile: Profile::Agent,
        last_name: last.to_owned(),
        first_name: first.to_owned(),
        email: None,
        scope_uais: Vec::new(),
        departement_admin: false,
    }
}

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn logins_fold_accents_and_apostrophes_and_number_collisions() {
    let store = store::testing::store().await;
    let first = store.create_local_person(&agent("Jean-Éric", "D'Arc"), DAY).await.unwrap();
    assert_eq!(first.login, "jean-eric.darc");
    let zoe = store.create_local_person(&agent("Zoé", "Le Guen"), DAY).await.unwrap();
    let zoe2 = store.create_local_person(&agent("Zoe", "LE GUEN"), DAY).await.unwrap();
    let zoe3 = store.create_local_person(&agent("ZOÉ", "le guen"), DAY).await.unwrap();
    assert_eq!(
        [zoe.login, zoe2.login, zoe3.login],
        ["zoe.le-guen", "zoe.le-guen2", "zoe.le-guen3"]
    );
}

#[tokio::test]
async fn a_login_is_never_handed_out_again_after_its_person_is_deleted() {
    let store = store::testing::store().await;
    let first = store.create_local_person(&agent("Anaïs", "N’Diaye"), DAY).await.unwrap();
    assert_eq!(first.login, "anais.ndiaye");
    execute(&store, &format!("DELETE FROM people WHERE id = '{}'", first.person_id)).await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM accounts").await, 0);

    let second = store.create_local_person(&agent("Anaïs", "N'Diaye"), DAY).await.unwrap();
    assert_eq!(second.login, "anais.ndiaye2");
    // Even with the counter lost, the logins table alone keeps both taken.
    execute(&store, "DELETE FROM login_counters").await;
    let third = store.create_local_person(&agent("Anais", "Ndiaye"), DAY).await.unwrap();
    assert_eq!(third.login, "anais.ndiaye3");
}

#[tokio::test]
async fn imported_people_get_unique_logins_even_with_shared_names() {
    let store = store::testing::store().await;
    import_with(&store, &[aaf("entcore-2013")], &ImportOptions::default()).await;
    let logins = texts(&store, "SELECT login FROM accounts ORDER BY login").await;
    assert_eq!(logins.len(), 1228);
    let mut distinct = logins.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 1228);
    assert!(logins.iter().all(|login| login.is_ascii() && !login.contains(' ')));
    // The 2013 relatives hold many people named Wheeler: numbered from 2.
    let wheelers = count(&store, "SELECT COUNT(*) FROM logins WHERE login LIKE '%.wheeler%'").await;
    assert!(wheelers > 1);
    // The 2013 names are generated with accents: « Méng Wheeler » is 2854682.
    let meng = texts(
        &store,
        "SELECT a.login FROM accounts a JOIN people p ON p.id = a.person_id \
         WHERE p.external_id = '2854682'",
    )
    .await;
    assert!(meng[0].starts_with("meng.wheeler"), "{meng:?}");
}

#[tokio::test]
async fn every_new_person_gets_an_activation_code_valid_for_the_time_asked() {
    let store = store::testing::store().await;
    let options = ImportOptions { activation_validity: 10 * DAY, ..ImportOptions::default() };
    import_with(&store, &[aaf("entcore-2013")], &options).await;

    let codes =
        texts(&store, "SELECT activation_code FROM accounts ORDER BY activation_code").await;
    assert_eq!(codes.len(), 1228);
    let alphabet = domain::activation::ALPHABET;
    assert!(
        codes.iter().all(|code| code.len() == 12 && code.bytes().all(|b| alphabet.contains(&b)))
    );
    let mut distinct = codes.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), codes.len());
    let validity = "SELECT COUNT(*) FROM accounts WHERE activation_expires_at - created_at = 864000 \
                    AND password_hash IS NULL AND activated_at IS NULL";
    assert_eq!(count(&store, validity).await, 1228);

    let agent = store.create_local_person(&agent("Élodie", "Martin"), 3 * DAY).await.unwrap();
    assert_eq!(agent.activation_code.len(), 12);
    let stored = texts(
        &store,
        &format!(
            "SELECT activation_code FROM accounts WHERE person_id = '{}' \
             AND activation_expires_at - created_at = 259200",
            agent.person_id
        ),
    )
    .await;
    assert_eq!(stored, [agent.activation_code]);
}

#[tokio::test]
async fn local_people_get_their_scope_and_role() {
    let store = store::testing::store().await;
    import_with(&store, &[aaf("entcore-2024")], &ImportOptions::default()).await;

    let mut official = agent("Paul", "Élu");
    official.profile = Profile::Official;
    official.scope_uais = vec!["0123456A".to_owned()];
    let official = store.create_local_person(&official, DAY).await.unwrap();
    let scope = texts(
        &store,
        &format!(
            "SELECT s.uai FROM departement_scopes d JOIN schools s ON s.id = d.school_id \
             WHERE d.person_id = '{}'",
            official.person_id
        ),
    )
    .await;
    assert_eq!(scope, ["0123456A"]);

    let mut admin = agent("Claire", "Dupont");
    admin.departement_admin = true;
    let admin = store.create_local_person(&admin, DAY).await.unwrap();
    let whole = format!(
        "SELECT COUNT(*) FROM departement_scopes WHERE person_id = '{}' AND school_id = ''",
        admin.person_id
    );
    assert_eq!(count(&store, &whole).await, 1);
    let role = format!(
        "SELECT COUNT(*) FROM roles WHERE person_id = '{}' AND role = 'departement_admin' \
         AND school_id = ''",
        admin.person_id
    );
    assert_eq!(count(&store, &role).await, 1);
    let source = format!("SELECT source FROM people WHERE id = '{}'", admin.person_id);
    assert_eq!(texts(&store, &source).await, ["local"]);

    let mut unknown = agent("Luc", "Perdu");
    unknown.scope_uais = vec!["9999999Z".to_owned()];
    assert!(store.create_local_person(&unknown, DAY).await.is_err());
    let mut pupil = agent("Luc", "Perdu");
    pupil.profile = Profile::Pupil;
    assert!(store.create_local_person(&pupil, DAY).await.is_err());
    assert!(store.create_local_person(&agent("Luc", &"x".repeat(300)), DAY).await.is_err());
    assert_eq!(count(&store, "SELECT COUNT(*) FROM people WHERE last_name = 'Perdu'").await, 0);
}

#[tokio::test]
async fn the_departement_is_written_once_and_renamed_in_place() {
    let store = store::testing::store().await;
    store.set_departement("86", "Vienne").await.unwrap();
    store.set_departement("86", "Département de la Vienne").await.unwrap();
    let rows = texts(&store, "SELECT code || ' ' || name FROM departement").await;
    assert_eq!(rows, ["86 Département de la Vienne"]);
}

#[tokio::test]
async fn heads_of_school_get_the_school_admin_role_and_lose_it_with_the_function() {
    let store = store::testing::store().await;
    import_with(&store, &[aaf("entcore-2024")], &ImportOptions::default()).await;
    let admins = "SELECT p.external_id FROM roles r JOIN people p ON p.id = r.person_id \
                  JOIN schools s ON s.id = r.school_id \
                  WHERE r.role = 'school_admin' AND s.jointure = '43'";
    assert_eq!(texts(&store, admins).await, ["314159"]);

    let dir = tempfile::tempdir().unwrap();
    import_support::write(
        dir.path(),
        "ENT_Delta_20240917_PersEducNat_0000.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ficAlimMENESR>\n<modifyRequest>\
         <operationalAttributes><attr name=\"categoriePersonne\"><value>PersEducNat</value>\
         </attr></operationalAttributes><identifier><id>314159</id></identifier><modifications>\
         <modification name=\"ENTPersonFonctions\" operation=\"replace\">\
         <value>43$AEH$ACCOMPAGNEMENT$D0021$ACCOMPAGNEMENT</value></modification>\
         </modifications></modifyRequest>\n</ficAlimMENESR>\n",
    );
    let report = import_with(&store, &[dir.path().to_path_buf()], &ImportOptions::default()).await;
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert!(texts(&store, admins).await.is_empty());
    let functions = "SELECT COUNT(*) FROM person_functions f JOIN people p ON p.id = f.person_id \
                     WHERE p.external_id = '314159'";
    assert_eq!(count(&store, functions).await, 1);
}

#[tokio::test]
async fn an_implausible_or_header_injecting_email_is_refused_and_nobody_created() {
    let store = store::testing::store().await;
    for email in ["not-an-email", "a@b.fr\nX-Injected: 1", "a b@c.fr", "@c.fr", "a@b@c.fr"] {
        let mut person = agent("Léa", "Morel");
        person.email = Some(email.to_owned());

        let refused = store.create_local_person(&person, DAY).await;

        assert!(matches!(refused, Err(store::StoreError::Conflict(_))), "{email:?}: {refused:?}");
    }
    let mut person = agent("Léa", "Morel");
    person.email = Some(" lea.morel@departement.fr ".to_owned());
    store.create_local_person(&person, DAY).await.unwrap();
    let people = store.fixture_count("SELECT COUNT(*) FROM people", &[]).await.unwrap();
    assert_eq!(people, 1);
}
