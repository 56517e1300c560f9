//! The matrix of who may write to whom on the real AAF samples (`../shared/data/aaf/`, read in
//! place): every pair of the imported people compared with the independent model of
//! `rules_support`, at the defaults, then with links the samples lack (a teacher of classes and
//! a group, a head, a pupil who moved, an inactive pupil, département people, a message) and
//! rules switched off in some schools.

mod import_support;
mod rules_support;

use domain::communication::Rule;
use import_support::{SETS, aaf, import};
use rules_support::{Model, analyze, compare, everyone, today};

async fn first(store: &store::Store, sql: &'static str) -> String {
    let rows = store.rules_test_rows(sql).await.unwrap();
    rows.first().and_then(|row| row[0].clone()).unwrap_or_else(|| panic!("nothing for {sql}"))
}

async fn run(store: &store::Store, sql: &'static str, params: &[&str]) {
    store.fixture_execute(sql, params).await.unwrap_or_else(|error| panic!("{sql}: {error}"));
}

#[tokio::test]
async fn every_pair_of_the_real_samples_follows_the_rules() {
    let store = store::testing::store().await;
    let dirs: Vec<_> = SETS.iter().map(|set| aaf(set)).collect();
    let report = import(&store, &dirs).await;
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    let today = today();
    analyze(&store).await;

    // As imported, at the defaults.
    let model = Model::load(&store, &today).await;
    let viewers = everyone(&model);
    assert!(viewers.len() > 1_200, "{} people", viewers.len());
    let (pairs, allowed) = compare(&store, &model, &viewers, 20).await;
    assert!(pairs > viewers.len() * viewers.len(), "{pairs} pairs");
    assert!(allowed > 1_000, "{allowed} pairs allowed");

    // What the samples lack, on their first school that has classes.
    let school = first(
        &store,
        "SELECT s.id FROM schools s WHERE EXISTS (SELECT 1 FROM classes c \
         JOIN teaching_groups g ON g.school_id = c.school_id WHERE c.school_id = s.id) \
         ORDER BY s.id",
    )
    .await;
    let other_school = first(
        &store,
        "SELECT s.id FROM schools s WHERE EXISTS (SELECT 1 FROM classes c \
         WHERE c.school_id = s.id) ORDER BY s.id DESC",
    )
    .await;
    let classes: Vec<String> = store
        .rules_test_rows(
            "SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id \
             WHERE EXISTS (SELECT 1 FROM pupil_classes pc WHERE pc.class_id = c.id) \
             ORDER BY s.id, c.id",
        )
        .await
        .unwrap()
        .into_iter()
        .filter_map(|row| row[0].clone())
        .collect();
    let teacher =
        first(&store, "SELECT id FROM people WHERE profile = 'teacher' ORDER BY id").await;
    let head = first(&store, "SELECT id FROM people WHERE profile = 'staff' ORDER BY id").await;
    let group = first(
        &store,
        "SELECT g.id FROM teaching_groups g WHERE EXISTS (SELECT 1 FROM pupil_groups pg \
         WHERE pg.group_id = g.id) ORDER BY g.id",
    )
    .await;
    let moved = first(
        &store,
        "SELECT pc.pupil_id FROM pupil_classes pc WHERE EXISTS (SELECT 1 FROM guardianships g \
         WHERE g.pupil_id = pc.pupil_id AND g.legal IN (1, 2)) ORDER BY pc.pupil_id",
    )
    .await;
    let gone = first(
        &store,
        "SELECT pc.pupil_id FROM pupil_classes pc WHERE EXISTS (SELECT 1 FROM guardianships g \
         WHERE g.pupil_id = pc.pupil_id AND g.legal IN (1, 2)) ORDER BY pc.pupil_id DESC",
    )
    .await;
    let class_of_school = |n: usize| classes[n % classes.len()].clone();

    for class in [class_of_school(0), class_of_school(1)] {
        run(
            &store,
            "INSERT INTO class_teachers (teacher_id, class_id, subject_code) VALUES ($1, $2, '')",
            &[&teacher, &class],
        )
        .await;
    }
    run(
        &store,
        "INSERT INTO principal_teachers (teacher_id, class_id) VALUES ($1, $2)",
        &[&teacher, &class_of_school(2)],
    )
    .await;
    run(
        &store,
        "INSERT INTO group_teachers (teacher_id, group_id, subject_code) VALUES ($1, $2, '')",
        &[&teacher, &group],
    )
    .await;
    run(
        &store,
        "INSERT INTO person_functions (person_id, school_id, code, label) \
         VALUES ($1, $2, 'DIR', 'DIRECTION')",
        &[&head, &school],
    )
    .await;
    run(&store, "UPDATE pupil_classes SET exit_date = '2013-01-10' WHERE pupil_id = $1", &[&moved])
        .await;
    let former: Vec<String> = store
        .rules_test_rows("SELECT pupil_id, class_id FROM pupil_classes")
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row[0].as_deref() == Some(moved.as_str()))
        .filter_map(|row| row[1].clone())
        .collect();
    let new_class = classes.iter().find(|class| !former.contains(class)).unwrap();
    run(
        &store,
        "INSERT INTO pupil_classes (pupil_id, class_id, entry_date) VALUES ($1, $2, '2013-01-11')",
        &[&moved, new_class],
    )
    .await;
    run(&store, "UPDATE people SET active = 0 WHERE id = $1", &[&gone]).await;
    for (id, profile, scope) in
        [("d-agent", "agent", ""), ("d-official", "official", school.as_str())]
    {
        run(
            &store,
            "INSERT INTO people (id, source, external_id, profile, last_name, first_name, \
             created_at, updated_at) VALUES ($1, 'local', $1, $2, 'Local', 'Personne', 0, 0)",
            &[id, profile],
        )
        .await;
        run(
            &store,
            "INSERT INTO departement_scopes (person_id, school_id) VALUES ($1, $2)",
            &[id, scope],
        )
        .await;
    }
    run(
        &store,
        "INSERT INTO roles (person_id, role, school_id) VALUES ($1, 'departement_admin', '')",
        &["d-agent"],
    )
    .await;
    run(
        &store,
        "INSERT INTO messages (id, sender_id, thread_id, subject, body_html, body_text, \
         recipients_label, search_text, created_at) \
         VALUES ('m-1', $1, 'm-1', 'Objet', '', '', '[]', '', 1)",
        &[&head],
    )
    .await;
    run(
        &store,
        "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, created_at) \
         VALUES ($1, 'm-1', 'inbox', 'inbox', 1, 1)",
        &[&moved],
    )
    .await;

    let rule_sets: [&[(&str, Rule, bool)]; 2] = [
        &[],
        &[
            (&school, Rule::ParentToClassParents, false),
            (&school, Rule::PupilToDirection, true),
            (&school, Rule::DepartementToSchoolAdults, false),
            (&other_school, Rule::PupilToClassmates, false),
            (&other_school, Rule::ParentToClassAdults, false),
        ],
    ];
    analyze(&store).await;
    let mut totals = Vec::new();
    for rule_set in rule_sets {
        for (school, rule, allowed) in rule_set {
            store.set_school_rules("d-agent", school, &[(*rule, *allowed)]).await.unwrap();
        }
        let model = Model::load(&store, &today).await;
        let viewers = everyone(&model);
        let (_, allowed) = compare(&store, &model, &viewers, 20).await;
        totals.push(allowed);
    }
    assert_ne!(totals[0], totals[1], "the switched rules change the matrix");
}
