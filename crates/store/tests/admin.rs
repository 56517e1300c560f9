//! The consoles' store queries on the fixture département: who administers which school, a
//! school's roster, the département's own people, freezing (sessions ended, audited, refused to
//! anyone who may not administer the person) and the pages of import runs.

use store::admin::AccountState;
use store::fixtures::ids;

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

#[tokio::test]
async fn a_school_is_administered_by_its_admin_its_direction_and_the_departement_only() {
    let store = fixture().await;

    for (actor, uai, expected) in [
        (ids::HELENE, ids::UAI_1, true),
        (ids::HELENE, ids::UAI_2, false),
        (ids::MARC, ids::UAI_2, true),
        (ids::MARC, ids::UAI_1, false),
        (ids::AGNES, ids::UAI_1, true),
        (ids::AGNES, ids::UAI_2, true),
        (ids::OLIVIER, ids::UAI_2, false),
        (ids::THOMAS, ids::UAI_1, false),
        (ids::PAUL, ids::UAI_1, false),
        (ids::HELENE, "0000000Z", false),
    ] {
        let found = store.administered_school(actor, uai).await.unwrap();
        assert_eq!(found.is_some(), expected, "{actor} {uai}");
    }
    let helene = store.administered_schools(ids::HELENE).await.unwrap();
    assert_eq!(helene.iter().map(|s| s.uai.as_str()).collect::<Vec<_>>(), [ids::UAI_1]);
    assert!(store.administered_schools(ids::AGNES).await.unwrap().is_empty());
    assert!(store.is_departement_admin(ids::AGNES).await.unwrap());
    assert!(!store.is_departement_admin(ids::OLIVIER).await.unwrap());
}

#[tokio::test]
async fn a_roster_lists_current_pupils_their_legal_guardians_and_the_staff() {
    let store = fixture().await;
    store
        .fixture_execute(
            "UPDATE accounts SET activated_at = 1, frozen = 1 WHERE person_id = $1",
            &[ids::BRUNO],
        )
        .await
        .unwrap();
    let school = store.administered_school(ids::HELENE, ids::UAI_1).await.unwrap().unwrap();

    let roster = store.school_roster(&school).await.unwrap();

    let codes: Vec<&str> = roster.classes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["6A", "6B"]);
    let six_a = &roster.classes[0];
    let pupils: Vec<&str> = six_a.pupils.iter().map(|p| p.pupil.person.id.as_str()).collect();
    assert_eq!(pupils, [ids::BRUNO, ids::ALICE]);
    assert_eq!(six_a.pupils[0].pupil.state, AccountState::Frozen);
    assert_eq!(six_a.pupils[1].pupil.state, AccountState::Pending);
    let alice_guardians: Vec<&str> =
        six_a.pupils[1].guardians.iter().map(|g| g.person.id.as_str()).collect();
    assert_eq!(alice_guardians, [ids::PAUL, ids::QUITTERIE]);
    let chloe = roster.classes[1].pupils.iter().find(|p| p.pupil.person.id == ids::CHLOE).unwrap();
    assert_eq!(chloe.guardians.len(), 1, "a contact without legal responsibility is left out");
    let staff: Vec<&str> = roster.staff.iter().map(|s| s.person.id.as_str()).collect();
    assert_eq!(staff, [ids::THOMAS, ids::SOPHIE, ids::HELENE]);
}

#[tokio::test]
async fn freezing_ends_sessions_and_is_audited_only_for_an_administrator_of_the_person() {
    let store = fixture().await;
    store.create_session("h1", ids::BRUNO, "t", 1, i64::MAX / 2).await.unwrap();
    store.create_session("h2", ids::DAVID, "t", 1, i64::MAX / 2).await.unwrap();

    let frozen = store.set_account_frozen(ids::HELENE, ids::BRUNO, true).await.unwrap();
    let refused = store.set_account_frozen(ids::HELENE, ids::DAVID, true).await.unwrap();

    assert_eq!(frozen.map(|p| p.id), Some(ids::BRUNO.to_owned()));
    assert!(refused.is_none());
    assert_eq!(
        store
            .fixture_count("SELECT frozen FROM accounts WHERE person_id = $1", &[ids::BRUNO])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .fixture_count("SELECT frozen FROM accounts WHERE person_id = $1", &[ids::DAVID])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .fixture_count("SELECT COUNT(*) FROM sessions WHERE person_id = $1", &[ids::BRUNO])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .fixture_count("SELECT COUNT(*) FROM sessions WHERE person_id = $1", &[ids::DAVID])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .fixture_count(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'account_frozen' AND target_id = $1",
                &[ids::BRUNO]
            )
            .await
            .unwrap(),
        1
    );

    store.set_account_frozen(ids::AGNES, ids::BRUNO, false).await.unwrap().unwrap();
    assert_eq!(
        store
            .fixture_count("SELECT frozen FROM accounts WHERE person_id = $1", &[ids::BRUNO])
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn only_a_departement_admin_reads_the_departement_people() {
    let store = fixture().await;

    let people = store.departement_people(ids::AGNES).await.unwrap();

    let names: Vec<(&str, bool, usize)> =
        people.iter().map(|p| (p.login.as_str(), p.departement_admin, p.scope.len())).collect();
    assert_eq!(names, [("olivier.faure", false, 1), ("agnes.vidal", true, 0)]);
    assert_eq!(people[0].scope[0].uai, ids::UAI_2);
    assert!(store.departement_people(ids::OLIVIER).await.unwrap().is_empty());
    assert!(store.departement_schools(ids::HELENE).await.unwrap().is_none());
    assert_eq!(store.departement_schools(ids::AGNES).await.unwrap().unwrap().len(), 2);
}

#[tokio::test]
async fn import_runs_come_most_recent_first_with_capped_rejections() {
    let store = fixture().await;
    let report = r#"{"run_id":"x","files":[{"file":"bad.xml","records":0,"written":false,"error":"ligne 3, colonne 1 : fin inattendue"}],"counts":{"pupil":{"created":2,"updated":0,"unchanged":0,"deleted":0,"deactivated":0,"rejected":3},"school":{"created":1,"updated":0,"unchanged":0,"deleted":0,"deactivated":0,"rejected":0}},"rejections":[],"pending":[{"file":"f","line":1,"record_id":"r","kind":"relative","target":"t"}],"resolved":4,"warnings":["Un avertissement."]}"#;
    for sql in [
        "INSERT INTO import_runs (id, started_at, finished_at, report) VALUES ('old', 100, 110, '{}')",
        "INSERT INTO import_runs (id, started_at, finished_at, report) VALUES ('mid', 200, NULL, 'pas du json')",
    ] {
        store.fixture_execute(sql, &[]).await.unwrap();
    }
    store
        .fixture_execute(
            "INSERT INTO import_runs (id, started_at, finished_at, report) VALUES ('new', 300, 310, $1)",
            &[report],
        )
        .await
        .unwrap();
    for record in ["r1", "r2", "r3"] {
        store
            .fixture_execute(
                "INSERT INTO import_rejections (run_id, file, line, record_id, reason) \
                 VALUES ('new', 'ENT_Complet_20250901_Eleve_0000.xml', 7, $1, 'nom trop long')",
                &[record],
            )
            .await
            .unwrap();
    }

    let first = store.import_runs(ids::AGNES, 0, 2, 2).await.unwrap();
    let second = store.import_runs(ids::AGNES, 1, 2, 2).await.unwrap();

    assert_eq!(first.runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["new", "mid"]);
    assert!(first.has_more);
    assert_eq!(second.runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["old"]);
    assert!(!second.has_more);
    let new = &first.runs[0];
    assert_eq!(new.counts.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["school", "pupil"]);
    assert_eq!(new.counts[1].1.rejected, 3);
    assert_eq!((new.rejections.len(), new.rejections_total), (2, 3));
    assert_eq!(new.rejections[0].record_id, "r1");
    assert_eq!(new.file_errors[0].file, "bad.xml");
    assert_eq!((new.pending, new.resolved, new.warnings.len()), (1, 4, 1));
    assert!(first.runs[1].counts.is_empty() && first.runs[1].finished_at.is_none());
    assert!(store.import_runs(ids::HELENE, 0, 2, 2).await.unwrap().runs.is_empty());
}
