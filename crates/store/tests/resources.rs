//! The catalogue of resources: who sees what (profile, schools, the bound application's own
//! rules), the filters, administration scoped to a school (another school's resource is not
//! found), the opening counter (one aggregate row per resource, school and day in the school's
//! zone, with no column that could say who), the way an opening goes (through CAS when the
//! resource is bound to a CAS application that registered its address), a teacher of two
//! collèges opening each collège's own Pronote, and the statistics of the département.

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use store::fixtures::ids;
use store::resources::{NewResource, OpenTarget, ResourceFilter};
use store::sso::admin::{AdminScope, NewService};
use store::{Backend, StoreError};

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

fn school(id: &str) -> AdminScope {
    AdminScope::School(id.to_owned())
}

fn resource(title: &str, kind: &str, url: &str, profiles: &[Profile]) -> NewResource {
    NewResource {
        title: title.to_owned(),
        description: format!("{title}, pour tous."),
        kind: kind.to_owned(),
        url: url.to_owned(),
        profiles: profiles.to_vec(),
        ..NewResource::default()
    }
}

const EVERYONE: [Profile; 4] =
    [Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff];

fn pronote_app(uai: &str) -> NewService {
    NewService {
        name: "Pronote".to_owned(),
        protocol: Protocol::Cas,
        school_id: None,
        principal: Principal::Login,
        attributes: Attribute::PRONOTE.to_vec(),
        require_second_factor: false,
        allow_proxy: false,
        client_id: None,
        client_secret_hash: None,
        urls: vec![(UrlMatch::Prefix, pronote_url(uai))],
        logout_urls: Vec::new(),
        schools: Vec::new(),
        profiles: EVERYONE.to_vec(),
    }
}

fn pronote_url(uai: &str) -> String {
    format!("https://{}.index-education.net/pronote/", uai.to_ascii_lowercase())
}

/// Registers Pronote for a collège (by its head) and its tile; returns (application, resource).
async fn pronote(store: &store::Store, head: &str, school_id: &str, uai: &str) -> (String, String) {
    let scope = school(school_id);
    let app = store.create_service(head, &scope, &pronote_app(uai)).await.unwrap();
    let mut tile = resource("Pronote", "vie-scolaire", &pronote_url(uai), &EVERYONE);
    tile.service_id = Some(app.clone());
    let id = store.create_resource(head, &scope, &tile).await.unwrap();
    (app, id)
}

fn titles(tiles: &[store::resources::Tile]) -> Vec<String> {
    tiles.iter().map(|t| t.title.clone()).collect()
}

async fn seen(store: &store::Store, person: &str) -> Vec<String> {
    titles(&store.resources_for(person, &ResourceFilter::default()).await.unwrap())
}

#[tokio::test]
async fn each_person_sees_the_resources_of_their_profile_and_schools() {
    let store = fixture().await;
    let departement = AdminScope::Departement;
    let agnes = ids::AGNES;
    let library = resource("Bibliothèque", "livres", "https://bib.example.fr/", &EVERYONE);
    store.create_resource(agnes, &departement, &library).await.unwrap();
    let mut for_two = resource("Atelier 2", "plateforme", "https://atelier.example.fr/", &EVERYONE);
    for_two.schools = vec![ids::SCHOOL_2.to_owned()];
    store.create_resource(agnes, &departement, &for_two).await.unwrap();
    let parents =
        resource("Famille", "famille", "https://famille.example.fr/", &[Profile::Relative]);
    store.create_resource(agnes, &departement, &parents).await.unwrap();
    let mut own = resource("Manuel 1", "manuel", "https://manuel.example.fr/", &[Profile::Pupil]);
    own.profiles.push(Profile::Teacher);
    store.create_resource(ids::HELENE, &school(ids::SCHOOL_1), &own).await.unwrap();

    assert_eq!(seen(&store, ids::ALICE).await, ["Bibliothèque", "Manuel 1"]);
    assert_eq!(seen(&store, ids::DAVID).await, ["Atelier 2", "Bibliothèque"]);
    assert_eq!(seen(&store, ids::PAUL).await, ["Atelier 2", "Bibliothèque", "Famille"]);
    assert_eq!(seen(&store, ids::QUITTERIE).await, ["Bibliothèque", "Famille"]);
    assert_eq!(seen(&store, ids::THOMAS).await, ["Atelier 2", "Bibliothèque", "Manuel 1"]);
    assert_eq!(seen(&store, ids::HUGO).await, ["Atelier 2", "Bibliothèque"]);
    assert!(seen(&store, ids::AGNES).await.is_empty(), "no agent profile listed");
    let manual = store.resources_for(ids::ALICE, &ResourceFilter::default()).await.unwrap();
    assert_eq!(manual[1].owner.as_ref().map(|o| o.uai.as_str()), Some(ids::UAI_1));
    assert!(manual[0].owner.is_none());
}

#[tokio::test]
async fn a_bound_resource_follows_its_applications_rules() {
    let store = fixture().await;
    let departement = AdminScope::Departement;
    let mut app = pronote_app("ent");
    app.urls = vec![(UrlMatch::Prefix, "https://app.example.fr/".to_owned())];
    app.profiles = vec![Profile::Teacher];
    let app = store.create_service(ids::AGNES, &departement, &app).await.unwrap();
    let mut tile = resource("Appli", "plateforme", "https://app.example.fr/entree", &EVERYONE);
    tile.service_id = Some(app.clone());
    store.create_resource(ids::AGNES, &departement, &tile).await.unwrap();

    assert_eq!(seen(&store, ids::THOMAS).await, ["Appli"]);
    assert!(seen(&store, ids::ALICE).await.is_empty(), "the application refuses pupils");
    store.set_service_enabled(ids::AGNES, &departement, &app, false).await.unwrap();
    assert!(seen(&store, ids::THOMAS).await.is_empty(), "a disabled application hides its tile");
}

#[tokio::test]
async fn filters_select_level_subject_kind_and_dys_resources() {
    let store = fixture().await;
    let departement = AdminScope::Departement;
    let mut maths6 = resource("Maths 6e", "manuel", "https://m6.example.fr/", &EVERYONE);
    maths6.subjects = vec!["mathematiques".to_owned()];
    maths6.levels = vec!["6e".to_owned()];
    let mut french3 = resource("Français 3e", "manuel", "https://f3.example.fr/", &EVERYONE);
    french3.subjects = vec!["francais".to_owned()];
    french3.levels = vec!["3e".to_owned()];
    french3.dys = vec!["livre-audio".to_owned(), "police-adaptee".to_owned()];
    let dictionary =
        resource("Dictionnaire", "dictionnaire", "https://dico.example.fr/", &EVERYONE);
    for new in [&maths6, &french3, &dictionary] {
        store.create_resource(ids::AGNES, &departement, new).await.unwrap();
    }
    let filtered = |level: &str, subject: &str, kind: &str, dys: bool| {
        let filter = ResourceFilter {
            level: level.to_owned(),
            subject: subject.to_owned(),
            kind: kind.to_owned(),
            dys,
        };
        let store = store.clone();
        async move { titles(&store.resources_for(ids::ALICE, &filter).await.unwrap()) }
    };

    assert_eq!(filtered("", "", "", false).await, ["Dictionnaire", "Français 3e", "Maths 6e"]);
    assert_eq!(filtered("6e", "", "", false).await, ["Dictionnaire", "Maths 6e"], "no level: all");
    assert_eq!(filtered("", "francais", "", false).await, ["Français 3e"]);
    assert_eq!(filtered("", "", "manuel", false).await, ["Français 3e", "Maths 6e"]);
    assert_eq!(filtered("", "", "", true).await, ["Français 3e"]);
    assert!(filtered("6e", "francais", "", false).await.is_empty());
    assert!(filtered("", "'; DROP TABLE resources; --", "", false).await.is_empty());
    assert_eq!(
        filtered("' OR 1=1 --", "", "", false).await,
        ["Dictionnaire"],
        "bound, not spliced"
    );
    let tiles = store.resources_for(ids::ALICE, &ResourceFilter::default()).await.unwrap();
    assert_eq!(tiles[1].dys, ["livre-audio", "police-adaptee"]);
    assert_eq!(tiles[1].subjects, ["francais"]);
}

#[tokio::test]
async fn a_school_administrator_manages_only_their_schools_resources() {
    let store = fixture().await;
    let theirs = store
        .create_resource(
            ids::MARC,
            &school(ids::SCHOOL_2),
            &resource("Club 2", "plateforme", "https://club2.example.fr/", &EVERYONE),
        )
        .await
        .unwrap();
    let departement_wide = store
        .create_resource(
            ids::AGNES,
            &AdminScope::Departement,
            &resource("Bibliothèque", "livres", "https://bib.example.fr/", &EVERYONE),
        )
        .await
        .unwrap();
    let scope = school(ids::SCHOOL_1);

    assert!(store.managed_resource(ids::HELENE, &scope, &theirs).await.unwrap().is_none());
    let change = resource("Volé", "autre", "https://club2.example.fr/", &EVERYONE);
    for refused in [
        store.update_resource(ids::HELENE, &scope, &theirs, &change).await,
        store.delete_resource(ids::HELENE, &scope, &theirs).await,
        store.update_resource(ids::HELENE, &scope, &departement_wide, &change).await,
        store.delete_resource(ids::HELENE, &school(ids::SCHOOL_2), &theirs).await,
    ] {
        assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    }
    let lines = store.managed_resources(ids::HELENE, &scope).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert!(!lines[0].editable, "the département's is read-only for a school");
    assert!(store.managed_resources(ids::THOMAS, &scope).await.unwrap().is_empty());

    let mut wide = resource("Le mien", "autre", "https://mien.example.fr/", &EVERYONE);
    wide.schools = vec![ids::SCHOOL_2.to_owned()];
    wide.profiles.push(Profile::Official);
    let mine = store.create_resource(ids::HELENE, &scope, &wide).await.unwrap();
    let read = store.managed_resource(ids::HELENE, &scope, &mine).await.unwrap().unwrap();
    assert_eq!(read.resource.schools, [ids::SCHOOL_1], "a school's resource reaches it only");
    assert!(!read.resource.profiles.contains(&Profile::Official));
    assert_eq!(read.owner.map(|o| o.id).as_deref(), Some(ids::SCHOOL_1));
}

#[tokio::test]
async fn a_resource_binds_only_to_an_application_its_scope_may_use_and_that_covers_its_url() {
    let store = fixture().await;
    let (their_app, _) = pronote(&store, ids::MARC, ids::SCHOOL_2, ids::UAI_2).await;
    let scope = school(ids::SCHOOL_1);
    let mut borrowed = resource("Pronote", "vie-scolaire", &pronote_url(ids::UAI_2), &EVERYONE);
    borrowed.service_id = Some(their_app);
    let refused = store.create_resource(ids::HELENE, &scope, &borrowed).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(r)) if r.contains("ouverte")),
        "{refused:?}"
    );

    let own_app =
        store.create_service(ids::HELENE, &scope, &pronote_app(ids::UAI_1)).await.unwrap();
    let mut elsewhere =
        resource("Pronote", "vie-scolaire", "https://ailleurs.example.fr/", &EVERYONE);
    elsewhere.service_id = Some(own_app);
    let refused = store.create_resource(ids::HELENE, &scope, &elsewhere).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(r)) if r.contains("ne correspond")),
        "{refused:?}"
    );

    let mut bad_url = resource("Piège", "autre", "javascript:alert(1)", &EVERYONE);
    bad_url.service_id = None;
    let refused = store.create_resource(ids::HELENE, &scope, &bad_url).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    let count = store.fixture_count("SELECT COUNT(*) FROM resources", &[]).await.unwrap();
    assert_eq!(count, 1, "only collège 2's Pronote");
}

#[tokio::test]
async fn opening_counts_one_aggregate_row_per_resource_school_and_local_day() {
    let store = fixture().await;
    store
        .fixture_execute(
            "UPDATE schools SET time_zone = 'America/Martinique' WHERE id = $1",
            &[ids::SCHOOL_2],
        )
        .await
        .unwrap();
    let library = store
        .create_resource(
            ids::AGNES,
            &AdminScope::Departement,
            &resource("Bibliothèque", "livres", "https://bib.example.fr/livres", &EVERYONE),
        )
        .await
        .unwrap();
    // 2026-03-01 23:30 UTC: 2 March in Paris, 1 March in Martinique.
    let late = 1_772_407_800;

    for person in [ids::ALICE, ids::BRUNO, ids::ALICE] {
        let target = store.open_resource(person, &library, late, true).await.unwrap();
        assert_eq!(target, Some(OpenTarget::Direct("https://bib.example.fr/livres".to_owned())));
    }
    store.open_resource(ids::DAVID, &library, late, true).await.unwrap();
    assert_eq!(
        store.open_resource(ids::AGNES, &library, late, true).await.unwrap(),
        None,
        "unseen"
    );
    let uncounted = store.open_resource(ids::ALICE, &library, late, false).await.unwrap();
    assert!(uncounted.is_some(), "opened, not counted");

    let count = |sql: &'static str, params: &'static [&'static str]| {
        let store = store.clone();
        async move { store.fixture_count(sql, params).await.unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM resource_openings", &[]).await, 2);
    assert_eq!(
        count(
            "SELECT openings FROM resource_openings WHERE school_id = $1 AND day = '2026-03-02'",
            &[ids::SCHOOL_1]
        )
        .await,
        3
    );
    assert_eq!(
        count(
            "SELECT openings FROM resource_openings WHERE school_id = $1 AND day = '2026-03-01'",
            &[ids::SCHOOL_2]
        )
        .await,
        1
    );

    // Nothing in the table can say who opened what: exactly these four columns.
    let columns = match store.backend() {
        Backend::Sqlite => {
            count(
                "SELECT COUNT(*) FROM pragma_table_info('resource_openings') \
                 WHERE name IN ('resource_id', 'school_id', 'day', 'openings')",
                &[],
            )
            .await
                - count("SELECT COUNT(*) FROM pragma_table_info('resource_openings')", &[]).await
        }
        Backend::Postgres => {
            count(
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public' \
                 AND table_name = 'resource_openings' \
                 AND column_name IN ('resource_id', 'school_id', 'day', 'openings')",
                &[],
            )
            .await
                - count(
                    "SELECT COUNT(*) FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = 'resource_openings'",
                    &[],
                )
                .await
        }
    };
    assert_eq!(columns, 0, "no other column in resource_openings");
    let four = match store.backend() {
        Backend::Sqlite => {
            count("SELECT COUNT(*) FROM pragma_table_info('resource_openings')", &[]).await
        }
        Backend::Postgres => {
            count(
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public' \
                 AND table_name = 'resource_openings'",
                &[],
            )
            .await
        }
    };
    assert_eq!(four, 4);
}

#[tokio::test]
async fn a_teacher_of_two_collèges_opens_each_collèges_own_pronote_through_cas() {
    let store = fixture().await;
    let (_, first) = pronote(&store, ids::HELENE, ids::SCHOOL_1, ids::UAI_1).await;
    let (_, second) = pronote(&store, ids::MARC, ids::SCHOOL_2, ids::UAI_2).await;

    let tiles = store.resources_for(ids::THOMAS, &ResourceFilter::default()).await.unwrap();
    let places: Vec<(String, Option<String>)> =
        tiles.iter().map(|t| (t.title.clone(), t.owner.as_ref().map(|o| o.uai.clone()))).collect();
    assert_eq!(
        places,
        [
            ("Pronote".to_owned(), Some(ids::UAI_2.to_owned())),
            ("Pronote".to_owned(), Some(ids::UAI_1.to_owned()))
        ],
        "one tile per collège, by collège name"
    );
    assert!(tiles.iter().all(|t| t.signed_on));
    assert_eq!(seen(&store, ids::ALICE).await, ["Pronote"], "a pupil sees her collège's only");

    let now = store::now_unix();
    let one = store.open_resource(ids::THOMAS, &first, now, true).await.unwrap();
    let two = store.open_resource(ids::THOMAS, &second, now, true).await.unwrap();
    assert_eq!(one, Some(OpenTarget::Cas(pronote_url(ids::UAI_1))));
    assert_eq!(two, Some(OpenTarget::Cas(pronote_url(ids::UAI_2))));
    for (resource, school) in [(&first, ids::SCHOOL_1), (&second, ids::SCHOOL_2)] {
        let counted = store
            .fixture_count(
                "SELECT COUNT(*) FROM resource_openings WHERE resource_id = $1 AND school_id = $2",
                &[resource.as_str(), school],
            )
            .await
            .unwrap();
        assert_eq!(counted, 1, "each collège's Pronote counts for that collège");
    }
    assert_eq!(store.open_resource(ids::ALICE, &second, now, true).await.unwrap(), None);
}

#[tokio::test]
async fn the_departement_reads_openings_per_resource_and_collège_over_a_period() {
    let store = fixture().await;
    let library = store
        .create_resource(
            ids::AGNES,
            &AdminScope::Departement,
            &resource(
                "=HYPERLINK(\"http://evil\")",
                "livres",
                "https://bib.example.fr/",
                &EVERYONE,
            ),
        )
        .await
        .unwrap();
    let march = 1_772_407_800;
    let april = march + 31 * 24 * 3600;
    for (person, at) in
        [(ids::ALICE, march), (ids::BRUNO, march), (ids::DAVID, march), (ids::ALICE, april)]
    {
        store.open_resource(person, &library, at, true).await.unwrap();
    }

    let lines = store.opening_stats(ids::AGNES, "2026-03-01", "2026-03-31").await.unwrap().unwrap();
    let figures: Vec<(Option<String>, i64)> =
        lines.iter().map(|l| (l.school.as_ref().map(|s| s.uai.clone()), l.openings)).collect();
    assert_eq!(
        figures,
        [(Some(ids::UAI_2.to_owned()), 1), (Some(ids::UAI_1.to_owned()), 2)],
        "by collège name: Camille Claudel, then Jean Moulin"
    );
    let all = store.opening_stats(ids::AGNES, "2026-01-01", "2026-12-31").await.unwrap().unwrap();
    assert_eq!(all.iter().map(|l| l.openings).sum::<i64>(), 4);
    assert_eq!(store.opening_stats(ids::HELENE, "2026-01-01", "2026-12-31").await.unwrap(), None);
    assert_eq!(store.opening_stats(ids::THOMAS, "2026-01-01", "2026-12-31").await.unwrap(), None);
}
