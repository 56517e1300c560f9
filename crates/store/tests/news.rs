//! News in the store: who an item reaches (schools, profiles, levels through a parent's own
//! children, classes with their adults, a pupil who left a class), publication and expiry
//! dates, withdrawal, idempotent and counted acknowledgements, who may publish where (a head
//! in their school only, an agent in their scope only, a teacher nowhere) with nothing written
//! on a refusal, and the outbox and audit entries written with the item.

use domain::profile::Profile;
use store::StoreError;
use store::fixtures::ids;
use store::news::{NewsImage, NewsInput, NewsTargets, TargetKind};

const EVERYONE: &[&str] = &[
    ids::ALICE,
    ids::BRUNO,
    ids::CHLOE,
    ids::DAVID,
    ids::XAVIER,
    ids::PAUL,
    ids::QUITTERIE,
    ids::RACHEL,
    ids::SAMI,
    ids::NINA,
    ids::THOMAS,
    ids::SOPHIE,
    ids::HUGO,
    ids::HELENE,
    ids::MARC,
    ids::AGNES,
    ids::OLIVIER,
];

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

/// Gives the fixture's pupils a level: the 6e for collège 1, the 5e for David.
async fn with_levels(store: &store::Store) {
    for (code, level) in [("10010012110", "6EME"), ("10110001110", "5EME")] {
        store
            .fixture_execute(
                "INSERT INTO mefs (code, label, level, updated_at) VALUES ($1, $2, $2, 0)",
                &[code, level],
            )
            .await
            .unwrap();
    }
    for (pupil, code) in [
        (ids::ALICE, "10010012110"),
        (ids::BRUNO, "10010012110"),
        (ids::CHLOE, "10010012110"),
        (ids::XAVIER, "10010012110"),
        (ids::DAVID, "10110001110"),
    ] {
        store
            .fixture_execute("UPDATE people SET mef_code = $1 WHERE id = $2", &[code, pupil])
            .await
            .unwrap();
    }
}

fn input(targets: NewsTargets) -> NewsInput {
    NewsInput {
        title: "Sortie au musée".to_owned(),
        body_html: "<p>Départ à 8 h.</p>".to_owned(),
        body_text: "Départ à 8 h.".to_owned(),
        image: None,
        publish_at: store::now_unix() - 60,
        expires_at: None,
        requires_ack: false,
        targets,
    }
}

fn schools(ids: &[&str]) -> NewsTargets {
    NewsTargets { school_ids: ids.iter().map(|s| (*s).to_owned()).collect(), ..Default::default() }
}

fn whole() -> NewsTargets {
    NewsTargets { whole_departement: true, ..Default::default() }
}

/// The fixture people who see the item in their list now.
async fn audience(store: &store::Store, news_id: &str) -> Vec<&'static str> {
    let mut seen = Vec::new();
    for person in EVERYONE {
        let items = store.news_for(person, store::now_unix()).await.unwrap();
        if items.iter().any(|item| item.id == news_id) {
            seen.push(*person);
        }
    }
    seen
}

async fn counts(store: &store::Store) -> (i64, i64, i64, i64) {
    let count = |sql: &'static str| store.fixture_count(sql, &[]);
    (
        count("SELECT COUNT(*) FROM news").await.unwrap(),
        count("SELECT COUNT(*) FROM news_targets").await.unwrap(),
        count("SELECT COUNT(*) FROM outbox").await.unwrap(),
        count("SELECT COUNT(*) FROM attachments").await.unwrap(),
    )
}

#[tokio::test]
async fn a_school_item_reaches_its_pupils_legal_guardians_and_adults_only() {
    let store = fixture().await;

    let id = store.publish_news(ids::HELENE, &input(schools(&[ids::SCHOOL_1]))).await.unwrap();

    assert_eq!(
        audience(&store, &id).await,
        vec![
            ids::ALICE,
            ids::BRUNO,
            ids::CHLOE,
            ids::XAVIER,
            ids::PAUL,
            ids::QUITTERIE,
            ids::RACHEL,
            ids::SAMI,
            ids::THOMAS,
            ids::SOPHIE,
            ids::HELENE,
        ]
    );
    let item = store.news_item(ids::PAUL, &id).await.unwrap();
    assert_eq!(item.origin.as_deref(), Some("Collège Jean Moulin"));
    assert_eq!(item.time_zone, "Europe/Paris");
    assert!(item.targeted && !item.can_manage);
    for outsider in [ids::NINA, ids::DAVID, ids::HUGO, ids::MARC, ids::OLIVIER] {
        assert!(matches!(store.news_item(outsider, &id).await, Err(StoreError::NotFound)));
    }
}

#[tokio::test]
async fn the_whole_departement_reaches_everyone_but_relatives_without_legal_responsibility() {
    let store = fixture().await;

    let id = store.publish_news(ids::AGNES, &input(whole())).await.unwrap();

    let seen = audience(&store, &id).await;
    let expected: Vec<&str> = EVERYONE.iter().copied().filter(|p| *p != ids::NINA).collect();
    assert_eq!(seen, expected);
    assert_eq!(store.news_item(ids::DAVID, &id).await.unwrap().origin, None);
}

#[tokio::test]
async fn profiles_narrow_the_audience() {
    let store = fixture().await;
    let targets = NewsTargets { profiles: vec![Profile::Relative], ..schools(&[ids::SCHOOL_1]) };

    let id = store.publish_news(ids::HELENE, &input(targets)).await.unwrap();

    assert_eq!(
        audience(&store, &id).await,
        vec![ids::PAUL, ids::QUITTERIE, ids::RACHEL, ids::SAMI]
    );
}

#[tokio::test]
async fn levels_reach_pupils_and_guardians_through_a_child_of_that_level_in_those_schools() {
    let store = fixture().await;
    with_levels(&store).await;
    let fifth = |schools: NewsTargets| NewsTargets { levels: vec!["5EME".to_owned()], ..schools };

    let departement = store.publish_news(ids::AGNES, &input(fifth(whole()))).await.unwrap();
    let school_1 =
        store.publish_news(ids::HELENE, &input(fifth(schools(&[ids::SCHOOL_1])))).await.unwrap();
    let sixth = NewsTargets { levels: vec!["6EME".to_owned()], ..schools(&[ids::SCHOOL_1]) };
    let sixth = store.publish_news(ids::HELENE, &input(sixth)).await.unwrap();

    assert_eq!(audience(&store, &departement).await, vec![ids::DAVID, ids::PAUL]);
    // Paul's 5e child is in collège 2: collège 1's news for the 5e is not for him.
    assert!(audience(&store, &school_1).await.is_empty());
    assert_eq!(
        audience(&store, &sixth).await,
        vec![
            ids::ALICE,
            ids::BRUNO,
            ids::CHLOE,
            ids::XAVIER,
            ids::PAUL,
            ids::QUITTERIE,
            ids::RACHEL,
            ids::SAMI,
        ]
    );
}

#[tokio::test]
async fn a_class_reaches_its_pupils_their_guardians_and_its_adults_until_a_pupil_leaves() {
    let store = fixture().await;
    let targets =
        NewsTargets { class_ids: vec![ids::CLASS_6A.to_owned()], ..schools(&[ids::SCHOOL_1]) };
    let id = store.publish_news(ids::HELENE, &input(targets)).await.unwrap();
    let in_class =
        vec![ids::ALICE, ids::BRUNO, ids::PAUL, ids::QUITTERIE, ids::RACHEL, ids::THOMAS];
    assert_eq!(audience(&store, &id).await, in_class);

    store
        .fixture_execute(
            "UPDATE pupil_classes SET exit_date = '2020-01-31' WHERE pupil_id = $1",
            &[ids::BRUNO],
        )
        .await
        .unwrap();

    assert_eq!(
        audience(&store, &id).await,
        vec![ids::ALICE, ids::PAUL, ids::QUITTERIE, ids::THOMAS]
    );
    assert!(matches!(store.news_item(ids::RACHEL, &id).await, Err(StoreError::NotFound)));
    let managed = store.authored_news(ids::HELENE).await.unwrap();
    assert_eq!(managed[0].targeted, 4);
    let mut notified = vec![ids::ALICE, ids::PAUL, ids::QUITTERIE, ids::THOMAS];
    notified.sort_unstable();
    assert_eq!(store.news_audience(&id).await.unwrap(), notified);
    store.withdraw_news(ids::HELENE, &id).await.unwrap();
    assert!(store.news_audience(&id).await.unwrap().is_empty());
}

#[tokio::test]
async fn future_expired_and_withdrawn_items_are_not_shown() {
    let store = fixture().await;
    let now = store::now_unix();
    let future = NewsInput { publish_at: now + 3600, ..input(schools(&[ids::SCHOOL_1])) };
    let expired = NewsInput {
        publish_at: now - 7200,
        expires_at: Some(now - 3600),
        ..input(schools(&[ids::SCHOOL_1]))
    };
    let future = store.publish_news(ids::HELENE, &future).await.unwrap();
    let expired = store.publish_news(ids::HELENE, &expired).await.unwrap();
    let withdrawn = store.publish_news(ids::HELENE, &input(schools(&[ids::SCHOOL_1]))).await;
    let withdrawn = withdrawn.unwrap();

    store.withdraw_news(ids::HELENE, &withdrawn).await.unwrap();
    store.withdraw_news(ids::HELENE, &withdrawn).await.unwrap();

    assert!(store.news_for(ids::PAUL, now).await.unwrap().is_empty());
    let later: Vec<String> =
        store.news_for(ids::PAUL, now + 7200).await.unwrap().into_iter().map(|n| n.id).collect();
    assert_eq!(later, vec![future.clone()]);
    for id in [&future, &expired, &withdrawn] {
        assert!(matches!(store.news_item(ids::PAUL, id).await, Err(StoreError::NotFound)));
        assert!(store.news_item(ids::HELENE, id).await.unwrap().can_manage);
    }
    assert!(store.news_item(ids::HELENE, &withdrawn).await.unwrap().withdrawn_at.is_some());
    let withdrawals = store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'news_withdrawn' AND target_id = $1",
            &[withdrawn.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(withdrawals, 1);
}

#[tokio::test]
async fn items_come_newest_first() {
    let store = fixture().await;
    let now = store::now_unix();
    let older = NewsInput { publish_at: now - 500, ..input(schools(&[ids::SCHOOL_1])) };
    let newer = NewsInput { publish_at: now - 100, ..input(whole()) };
    let older = store.publish_news(ids::HELENE, &older).await.unwrap();
    let newer = store.publish_news(ids::AGNES, &newer).await.unwrap();

    let ids: Vec<String> =
        store.news_for(ids::ALICE, now).await.unwrap().into_iter().map(|n| n.id).collect();

    assert_eq!(ids, vec![newer, older]);
}

#[tokio::test]
async fn acknowledgements_are_idempotent_counted_and_only_for_the_people_targeted() {
    let store = fixture().await;
    let targets = NewsTargets { profiles: vec![Profile::Relative], ..schools(&[ids::SCHOOL_1]) };
    let asked = NewsInput { requires_ack: true, ..input(targets) };
    let id = store.publish_news(ids::HELENE, &asked).await.unwrap();
    let plain = store.publish_news(ids::HELENE, &input(schools(&[ids::SCHOOL_1]))).await.unwrap();

    assert!(store.acknowledge(ids::PAUL, &id).await.unwrap());
    assert!(!store.acknowledge(ids::PAUL, &id).await.unwrap());
    for refused in [ids::NINA, ids::ALICE, ids::DAVID, ids::MARC] {
        assert!(matches!(store.acknowledge(refused, &id).await, Err(StoreError::NotFound)));
    }
    assert!(matches!(store.acknowledge(ids::PAUL, &plain).await, Err(StoreError::NotFound)));
    assert!(matches!(store.acknowledge(ids::PAUL, "inconnu").await, Err(StoreError::NotFound)));

    let managed = store.authored_news(ids::HELENE).await.unwrap();
    let item = managed.iter().find(|m| m.id == id).unwrap();
    assert_eq!((item.targeted, item.acknowledged), (4, 1));
    assert!(item.requires_ack);
    let seen = store.news_for(ids::PAUL, store::now_unix()).await.unwrap();
    let seen = seen.iter().find(|n| n.id == id).unwrap();
    assert!(seen.requires_ack && seen.acknowledged);
    let acks = store.fixture_count("SELECT COUNT(*) FROM news_acks", &[]).await.unwrap();
    assert_eq!(acks, 1);
}

#[tokio::test]
async fn a_head_publishes_only_in_their_school_and_a_teacher_nowhere() {
    let store = fixture().await;
    let before = counts(&store).await;

    for (actor, targets) in [
        (ids::MARC, schools(&[ids::SCHOOL_1])),
        (ids::MARC, schools(&[ids::SCHOOL_1, ids::SCHOOL_2])),
        (ids::HELENE, whole()),
        (ids::THOMAS, schools(&[ids::SCHOOL_1])),
        (ids::PAUL, schools(&[ids::SCHOOL_1])),
        (ids::OLIVIER, schools(&[ids::SCHOOL_1])),
        (ids::OLIVIER, whole()),
        (
            ids::HELENE,
            NewsTargets { class_ids: vec![ids::CLASS_5A.to_owned()], ..schools(&[ids::SCHOOL_1]) },
        ),
        (ids::HELENE, NewsTargets { levels: vec!["XEME".to_owned()], ..schools(&[ids::SCHOOL_1]) }),
        (ids::HELENE, schools(&["school-unknown"])),
    ] {
        let mut refused = input(targets);
        refused.image = Some(NewsImage {
            storage_key: "news/refused".to_owned(),
            display_name: "affiche.png".to_owned(),
            content_type: "image/png".to_owned(),
            size_bytes: 10,
            sha256: "00".to_owned(),
            alt_text: String::new(),
        });
        let outcome = store.publish_news(actor, &refused).await;
        assert!(matches!(outcome, Err(StoreError::NotFound)), "{actor}: {outcome:?}");
    }

    assert_eq!(counts(&store).await, before);
    let marc = store.publish_news(ids::MARC, &input(schools(&[ids::SCHOOL_2]))).await.unwrap();
    let olivier = store.publish_news(ids::OLIVIER, &input(schools(&[ids::SCHOOL_2]))).await;
    assert_eq!(
        store.news_item(ids::HUGO, &marc).await.unwrap().origin.as_deref(),
        Some("Collège Camille Claudel")
    );
    // An agent publishes in the département's name, even to one school.
    assert_eq!(store.news_item(ids::HUGO, &olivier.unwrap()).await.unwrap().origin, None);
}

#[tokio::test]
async fn invalid_items_are_refused_with_a_reason() {
    let store = fixture().await;
    let now = store::now_unix();

    let untitled = NewsInput { title: " ".to_owned(), ..input(schools(&[ids::SCHOOL_1])) };
    let backwards = NewsInput { expires_at: Some(now - 3600), ..input(schools(&[ids::SCHOOL_1])) };
    let nowhere = input(NewsTargets::default());

    for refused in [untitled, backwards, nowhere] {
        let outcome = store.publish_news(ids::HELENE, &refused).await;
        assert!(matches!(outcome, Err(StoreError::Conflict(_))), "{outcome:?}");
    }
    assert_eq!(counts(&store).await.0, 0);
}

#[tokio::test]
async fn publishing_writes_the_targets_outbox_audit_and_image_together() {
    let store = fixture().await;
    let later = store::now_unix() + 86_400;
    let item = NewsInput {
        publish_at: later,
        image: Some(NewsImage {
            storage_key: "news/abc".to_owned(),
            display_name: "affiche.png".to_owned(),
            content_type: "image/png".to_owned(),
            size_bytes: 1234,
            sha256: "ab".repeat(32),
            alt_text: "Affiche de la sortie".to_owned(),
        }),
        ..input(NewsTargets {
            profiles: vec![Profile::Relative, Profile::Pupil],
            class_ids: vec![ids::CLASS_6A.to_owned(), ids::CLASS_6B.to_owned()],
            ..schools(&[ids::SCHOOL_1])
        })
    };

    let id = store.publish_news(ids::HELENE, &item).await.unwrap();

    let outbox = store
        .fixture_count(
            "SELECT available_at FROM outbox WHERE kind = 'news_published' AND subject_id = $1",
            &[id.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(outbox, later);
    let audit = store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'news_published' AND target_id = $1 \
             AND actor_id = 's-helene'",
            &[id.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(audit, 1);
    let managed = store.authored_news(ids::HELENE).await.unwrap();
    let kinds: Vec<(TargetKind, &str)> =
        managed[0].targets.iter().map(|t| (t.kind, t.label.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (TargetKind::School, "Collège Jean Moulin"),
            (TargetKind::Profile, "pupil"),
            (TargetKind::Profile, "relative"),
            (TargetKind::Class, "6A"),
            (TargetKind::Class, "6B"),
        ]
    );
    assert_eq!(store.news_item(ids::HELENE, &id).await.unwrap().image_alt, "Affiche de la sortie");
    let image = store.news_image(ids::HELENE, &id).await.unwrap();
    assert_eq!((image.storage_key.as_str(), image.size_bytes), ("news/abc", 1234));
}

#[tokio::test]
async fn the_image_is_served_only_to_those_who_may_read_the_item() {
    let store = fixture().await;
    let targets =
        NewsTargets { class_ids: vec![ids::CLASS_6A.to_owned()], ..schools(&[ids::SCHOOL_1]) };
    let item = NewsInput {
        image: Some(NewsImage {
            storage_key: "news/img".to_owned(),
            display_name: "photo.jpg".to_owned(),
            content_type: "image/jpeg".to_owned(),
            size_bytes: 99,
            sha256: "cd".repeat(32),
            alt_text: String::new(),
        }),
        ..input(targets)
    };
    let id = store.publish_news(ids::HELENE, &item).await.unwrap();
    let plain = store.publish_news(ids::HELENE, &input(schools(&[ids::SCHOOL_1]))).await.unwrap();

    assert_eq!(store.news_image(ids::QUITTERIE, &id).await.unwrap().content_type, "image/jpeg");
    assert!(store.news_image(ids::AGNES, &id).await.is_ok());
    for outsider in [ids::SAMI, ids::CHLOE, ids::DAVID, ids::MARC, ids::SOPHIE] {
        assert!(matches!(store.news_image(outsider, &id).await, Err(StoreError::NotFound)));
    }
    assert!(matches!(store.news_image(ids::PAUL, &plain).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn managers_are_the_author_the_school_heads_and_the_departement() {
    let store = fixture().await;
    store
        .fixture_execute(
            "INSERT INTO roles (person_id, role, school_id) VALUES ($1, 'school_admin', $2)",
            &[ids::SOPHIE, ids::SCHOOL_1],
        )
        .await
        .unwrap();
    let id = store.publish_news(ids::SOPHIE, &input(schools(&[ids::SCHOOL_1]))).await.unwrap();

    assert_eq!(store.authored_news(ids::HELENE).await.unwrap().len(), 1);
    assert_eq!(store.authored_news(ids::AGNES).await.unwrap().len(), 1);
    assert!(store.authored_news(ids::MARC).await.unwrap().is_empty());
    assert!(store.authored_news(ids::THOMAS).await.unwrap().is_empty());
    assert!(matches!(store.withdraw_news(ids::MARC, &id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.withdraw_news(ids::THOMAS, &id).await, Err(StoreError::NotFound)));
    store.withdraw_news(ids::AGNES, &id).await.unwrap();
    assert!(store.news_for(ids::ALICE, store::now_unix()).await.unwrap().is_empty());
}

#[tokio::test]
async fn publishers_are_offered_their_own_schools_classes_and_the_levels() {
    let store = fixture().await;
    with_levels(&store).await;

    let helene = store.publish_options(ids::HELENE).await.unwrap();
    let agnes = store.publish_options(ids::AGNES).await.unwrap();
    let olivier = store.publish_options(ids::OLIVIER).await.unwrap();
    let thomas = store.publish_options(ids::THOMAS).await.unwrap();

    let names = |o: &store::news::PublishOptions| {
        o.schools.iter().map(|s| s.school.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&helene), vec![ids::SCHOOL_1]);
    assert!(!helene.departement);
    let classes: Vec<&str> = helene.schools[0].classes.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(classes, vec!["6A", "6B"]);
    assert_eq!(helene.levels, vec!["6EME", "5EME"]);
    assert_eq!(names(&agnes), vec![ids::SCHOOL_2, ids::SCHOOL_1]);
    assert!(agnes.departement);
    assert_eq!(names(&olivier), vec![ids::SCHOOL_2]);
    assert!(!olivier.departement);
    assert!(!thomas.may_publish() && thomas.levels.is_empty());
}
