//! The directory from a viewer's side: links, home facts, figures, the directory search under
//! the default communication rules, and who may administer whom.

use store::fixtures::{code_for, ids};

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

async fn found(store: &store::Store, viewer: &str, query: &str) -> Vec<String> {
    let mut ids: Vec<String> =
        store.search_directory(viewer, query).await.unwrap().into_iter().map(|p| p.id).collect();
    ids.sort();
    ids
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    list.sort();
    list
}

#[tokio::test]
async fn a_pupil_reaches_classmates_and_the_adults_of_their_class_only() {
    let store = fixture().await;

    let everyone = found(&store, ids::ALICE, "").await;

    // Bruno (classmate), Thomas (maths, principal), Sophie (LATIN group), Paul and Quitterie
    // (her own guardians). Not Chloé (6B), not Rachel (a classmate's parent), not David's
    // teacher Hugo, not the head.
    assert_eq!(
        everyone,
        sorted(&[ids::BRUNO, ids::THOMAS, ids::SOPHIE, ids::PAUL, ids::QUITTERIE])
    );
}

#[tokio::test]
async fn a_pupil_reaches_the_staff_attached_to_their_class_but_not_other_staff() {
    let store = fixture().await;
    // The head of collège 1 attached to 6A without a subject, as AAF's ENTAuxEnsClasses says.
    store
        .fixture_execute(
            "INSERT INTO class_teachers (teacher_id, class_id, subject_code) VALUES ($1, $2, '')",
            &[ids::HELENE, ids::CLASS_6A],
        )
        .await
        .unwrap();

    assert!(found(&store, ids::ALICE, "").await.contains(&ids::HELENE.to_owned()));
    assert!(!found(&store, ids::CHLOE, "").await.contains(&ids::HELENE.to_owned()));
}

#[tokio::test]
async fn a_parent_reaches_teachers_parents_and_direction_of_their_childrens_classes() {
    let store = fixture().await;

    let everyone = found(&store, ids::PAUL, "").await;

    assert_eq!(
        everyone,
        sorted(&[
            ids::ALICE,
            ids::DAVID,
            ids::THOMAS,
            ids::SOPHIE,
            ids::HUGO,
            ids::QUITTERIE,
            ids::RACHEL,
            ids::HELENE,
            ids::MARC,
        ])
    );
    assert!(found(&store, ids::PAUL, "petit").await.is_empty());
}

#[tokio::test]
async fn a_non_legal_contact_reaches_nobody_through_the_child() {
    let store = fixture().await;
    assert!(found(&store, ids::NINA, "").await.is_empty());
}

#[tokio::test]
async fn a_teacher_in_two_collèges_reaches_people_of_both() {
    let store = fixture().await;

    let everyone = found(&store, ids::THOMAS, "").await;

    for id in [
        ids::ALICE,
        ids::CHLOE,
        ids::DAVID,
        ids::SAMI,
        ids::PAUL,
        ids::HELENE,
        ids::MARC,
        ids::HUGO,
    ] {
        assert!(everyone.contains(&id.to_owned()), "{id}");
    }
    // Agnès's scope is the whole département: school adults reach her (and she them).
    assert!(everyone.contains(&ids::AGNES.to_owned()));
    let sophie = found(&store, ids::SOPHIE, "").await;
    // Olivier's scope is collège 2 only, where Sophie does not work.
    assert!(!sophie.contains(&ids::OLIVIER.to_owned()));
    assert!(!sophie.contains(&ids::DAVID.to_owned()));
    assert!(!sophie.contains(&ids::HUGO.to_owned()));
}

#[tokio::test]
async fn the_search_ignores_accents_case_and_the_order_of_names() {
    let store = fixture().await;

    for query in ["chloe", "CHLOÉ", "petit chloe", "Chloé Petit", "  chloe   petit "] {
        assert_eq!(found(&store, ids::THOMAS, query).await, [ids::CHLOE], "{query}");
    }
    assert_eq!(found(&store, ids::THOMAS, "helene").await, [ids::HELENE]);
    assert!(found(&store, ids::THOMAS, "chloe martin").await.is_empty());
}

#[tokio::test]
async fn the_search_matches_names_and_escapes_wildcards() {
    let store = fixture().await;
    assert_eq!(found(&store, ids::ALICE, "BERN").await, sorted(&[ids::THOMAS]));
    assert_eq!(found(&store, ids::ALICE, "thomas bernard").await, sorted(&[ids::THOMAS]));
    assert!(found(&store, ids::ALICE, "%").await.is_empty());
    assert!(found(&store, ids::ALICE, "_").await.is_empty());
}

#[tokio::test]
async fn deactivated_people_are_not_found() {
    let store = fixture().await;
    store
        .fixture_execute("UPDATE people SET active = 0 WHERE id = $1", &[ids::BRUNO])
        .await
        .unwrap();
    assert!(!found(&store, ids::ALICE, "").await.contains(&ids::BRUNO.to_owned()));
}

#[tokio::test]
async fn a_child_is_only_a_legal_guardians_child() {
    let store = fixture().await;
    assert!(store.child_of(ids::PAUL, ids::DAVID).await.unwrap().is_some());
    assert!(store.child_of(ids::QUITTERIE, ids::ALICE).await.unwrap().is_some());
    assert!(store.child_of(ids::QUITTERIE, ids::DAVID).await.unwrap().is_none());
    assert!(store.child_of(ids::PAUL, ids::BRUNO).await.unwrap().is_none());
    assert!(store.child_of(ids::NINA, ids::CHLOE).await.unwrap().is_none());
    let children = store.children_of(ids::PAUL).await.unwrap();
    assert_eq!(children.len(), 2);
}

#[tokio::test]
async fn a_pupil_card_shows_school_class_groups_and_teachers() {
    let store = fixture().await;
    let alice = store.viewer_facts(ids::ALICE).await.unwrap().unwrap();

    let card = store.pupil_card(&alice.person).await.unwrap();

    assert_eq!(card.school.unwrap().name, "Collège Jean Moulin");
    assert_eq!(card.class_code.as_deref(), Some("6A"));
    assert_eq!(card.groups, ["LATIN"]);
    let teachers: Vec<(&str, Vec<String>)> =
        card.teachers.iter().map(|t| (t.teacher.id.as_str(), t.subjects.clone())).collect();
    assert_eq!(
        teachers,
        [(ids::THOMAS, vec!["Mathématiques".to_owned()]), (ids::SOPHIE, vec!["Latin".to_owned()])]
    );
    assert_eq!(card.principals.len(), 1);
    assert_eq!(card.principals[0].id, ids::THOMAS);
}

#[tokio::test]
async fn a_teacher_sees_every_school_and_class() {
    let store = fixture().await;

    let places = store.teaching_places(ids::THOMAS).await.unwrap();

    let summary: Vec<(String, Vec<String>)> = places
        .iter()
        .map(|p| (p.school.name.clone(), p.teachings.iter().map(|t| t.code.clone()).collect()))
        .collect();
    assert_eq!(
        summary,
        [
            ("Collège Camille Claudel".to_owned(), vec!["5A".to_owned()]),
            ("Collège Jean Moulin".to_owned(), vec!["6A".to_owned()]),
        ]
    );
}

#[tokio::test]
async fn figures_count_pupils_and_activated_accounts_per_class() {
    let store = fixture().await;
    store.activate_account(ids::ALICE, &code_for("alice.martin"), "h").await.unwrap();
    let helene = store.viewer_facts(ids::HELENE).await.unwrap().unwrap();
    assert_eq!(helene.schools.len(), 1);

    let figures = store.school_figures(&helene.schools[0]).await.unwrap();

    assert_eq!(figures.pupils, 4);
    let classes: Vec<(String, i64, i64)> =
        figures.classes.iter().map(|c| (c.code.clone(), c.pupils, c.activated)).collect();
    assert_eq!(classes, [("6A".to_owned(), 2, 1), ("6B".to_owned(), 2, 0)]);
}

#[tokio::test]
async fn agents_see_their_scope() {
    let store = fixture().await;
    assert_eq!(store.scope_schools(ids::AGNES).await.unwrap().len(), 2);
    let olivier = store.scope_schools(ids::OLIVIER).await.unwrap();
    assert_eq!(olivier.len(), 1);
    assert_eq!(olivier[0].id, ids::SCHOOL_2);
}

#[tokio::test]
async fn school_admins_administer_only_people_of_their_school_alone() {
    let store = fixture().await;
    assert!(store.administrable_person(ids::HELENE, ids::ALICE).await.unwrap().is_some());
    assert!(store.administrable_person(ids::HELENE, ids::QUITTERIE).await.unwrap().is_some());
    // Paul has a child in each collège and Thomas teaches in both: one head alone may not
    // freeze them or hand out their codes; the département may.
    assert!(store.administrable_person(ids::HELENE, ids::PAUL).await.unwrap().is_none());
    assert!(store.administrable_person(ids::HELENE, ids::THOMAS).await.unwrap().is_none());
    assert!(store.administrable_person(ids::MARC, ids::THOMAS).await.unwrap().is_none());
    assert!(store.administrable_person(ids::AGNES, ids::PAUL).await.unwrap().is_some());
    assert!(store.administrable_person(ids::AGNES, ids::THOMAS).await.unwrap().is_some());
    assert!(store.administrable_person(ids::HELENE, ids::DAVID).await.unwrap().is_none());
    assert!(store.administrable_person(ids::HELENE, ids::HUGO).await.unwrap().is_none());
    assert!(store.administrable_person(ids::MARC, ids::DAVID).await.unwrap().is_some());
    assert!(store.administrable_person(ids::THOMAS, ids::ALICE).await.unwrap().is_none());
    assert!(store.administrable_person(ids::AGNES, ids::HUGO).await.unwrap().is_some());
}

#[tokio::test]
async fn viewer_facts_gather_links() {
    let store = fixture().await;
    let paul = store.viewer_facts(ids::PAUL).await.unwrap().unwrap();
    assert_eq!(paul.children.len(), 2);
    let alice = store.viewer_facts(ids::ALICE).await.unwrap().unwrap();
    assert_eq!(alice.classes, [(ids::CLASS_6A.to_owned(), "6A".to_owned())]);
    let helene = store.viewer_facts(ids::HELENE).await.unwrap().unwrap();
    assert!(helene.functions.iter().any(|(_, code)| code == "DIR"));
    assert_eq!(helene.roles, [("school_admin".to_owned(), ids::SCHOOL_1.to_owned())]);
    let thomas = store.viewer_facts(ids::THOMAS).await.unwrap().unwrap();
    assert_eq!(thomas.schools.len(), 2);
}
