//! Accounts in the store: activation kills the code, new codes, throttle counters, reading
//! mode, and the activation codes a school or a class prints.

use std::time::Duration;

use domain::profile::Profile;
use store::fixtures::{code_for, ids};

const VALIDITY: Duration = Duration::from_secs(120 * 24 * 3600);

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

#[tokio::test]
async fn activation_stores_the_hash_and_kills_the_code() {
    let store = fixture().await;
    let code = code_for("alice.martin");

    assert!(!store.activate_account(ids::ALICE, "WRONGCODE234", "$argon2id$x").await.unwrap());
    assert!(store.activate_account(ids::ALICE, &code, "$argon2id$x").await.unwrap());
    assert!(!store.activate_account(ids::ALICE, &code, "$argon2id$y").await.unwrap());

    let account = store.login_account("alice.martin").await.unwrap().unwrap();
    assert!(account.usable);
    assert_eq!(account.password_hash.as_deref(), Some("$argon2id$x"));
    let target = store.activation_target("alice.martin").await.unwrap().unwrap();
    assert!(!target.code_alive);
}

#[tokio::test]
async fn an_expired_code_is_not_alive() {
    let store = fixture().await;
    store
        .fixture_execute(
            "UPDATE accounts SET activation_expires_at = 1 WHERE person_id = $1",
            &[ids::BRUNO],
        )
        .await
        .unwrap();

    let target = store.activation_target("bruno.durand").await.unwrap().unwrap();
    assert!(!target.code_alive);
    assert!(!store.activate_account(ids::BRUNO, &code_for("bruno.durand"), "h").await.unwrap());
}

#[tokio::test]
async fn a_new_code_ends_the_password_and_the_sessions() {
    let store = fixture().await;
    store.activate_account(ids::PAUL, &code_for("paul.martin"), "h").await.unwrap();
    store.create_session("s1", ids::PAUL, "csrf", store::now_unix(), i64::MAX).await.unwrap();

    let code = store.issue_activation_code(ids::PAUL, VALIDITY).await.unwrap();

    assert_eq!(code.len(), 12);
    assert!(store.session("s1").await.unwrap().is_none());
    assert!(!store.login_account("paul.martin").await.unwrap().unwrap().usable);
    assert!(store.activation_target("paul.martin").await.unwrap().unwrap().code_alive);
}

#[tokio::test]
async fn throttle_counts_failures_per_key_and_resets() {
    let store = fixture().await;
    for n in 0..3 {
        store.throttle_failure("nobody.here", 1000 + n).await.unwrap();
    }

    let state = store.throttle_state("nobody.here").await.unwrap().unwrap();
    assert_eq!(state.failures, 3);
    assert_eq!(state.last_failure_ms, 1002);
    assert!(store.throttle_state("alice.martin").await.unwrap().is_none());
    store.throttle_reset("nobody.here").await.unwrap();
    assert!(store.throttle_state("nobody.here").await.unwrap().is_none());
}

#[tokio::test]
async fn reading_mode_is_remembered() {
    let store = fixture().await;
    assert!(!store.reading_mode(ids::ALICE).await.unwrap());
    store.set_reading_mode(ids::ALICE, true).await.unwrap();
    assert!(store.reading_mode(ids::ALICE).await.unwrap());
    store.set_reading_mode(ids::ALICE, false).await.unwrap();
    assert!(!store.reading_mode(ids::ALICE).await.unwrap());
}

#[tokio::test]
async fn a_school_prints_codes_for_pupils_guardians_and_staff() {
    let store = fixture().await;
    store.activate_account(ids::BRUNO, &code_for("bruno.durand"), "h").await.unwrap();

    let rows = store.activation_codes(ids::UAI_1, None, VALIDITY).await.unwrap();

    let logins: Vec<&str> = rows.iter().map(|r| r.login.as_str()).collect();
    assert_eq!(
        logins,
        [
            // 6A, by name: pupils and their legal guardians (Quitterie is legal 2).
            "bruno.durand",
            "rachel.durand",
            "alice.martin",
            "paul.martin",
            "quitterie.martin",
            // 6B: the XSS surname sorts first; Nina has no legal responsibility.
            "xavier.x",
            "chloe.petit",
            "sami.petit",
            // Then the staff and teachers of collège 1.
            "thomas.bernard",
            "sophie.lambert",
            "helene.roux",
        ]
    );
    assert!(!logins.contains(&"nina.petit"));
    assert!(!logins.contains(&"david.martin"));
    assert!(!logins.contains(&"hugo.moreau"));

    let bruno = rows.iter().find(|r| r.login == "bruno.durand").unwrap();
    assert_eq!(bruno.code, None);
    let alice = rows.iter().find(|r| r.login == "alice.martin").unwrap();
    assert_eq!(alice.code.as_deref(), Some(code_for("alice.martin").as_str()));
    assert_eq!(alice.class_code.as_deref(), Some("6A"));
    assert_eq!(alice.profile, Profile::Pupil);
    assert!(alice.expires_on.as_deref().is_some_and(|d| d.len() == 10));
    let paul = rows.iter().find(|r| r.login == "paul.martin").unwrap();
    assert_eq!(paul.for_pupils, ["Alice Martin"]);
    let thomas = rows.iter().find(|r| r.login == "thomas.bernard").unwrap();
    assert_eq!(thomas.class_code, None);
}

#[tokio::test]
async fn a_class_prints_only_its_pupils_and_their_guardians() {
    let store = fixture().await;

    let rows = store.activation_codes(ids::UAI_2, Some("5A"), VALIDITY).await.unwrap();

    let mut logins: Vec<&str> = rows.iter().map(|r| r.login.as_str()).collect();
    logins.sort_unstable();
    assert_eq!(logins, ["david.martin", "paul.martin"]);
    let paul = rows.iter().find(|r| r.login == "paul.martin").unwrap();
    assert_eq!(paul.for_pupils, ["David Martin"]);
    assert!(store.activation_codes(ids::UAI_2, Some("6Z"), VALIDITY).await.is_err());
    assert!(store.activation_codes("9999999Z", None, VALIDITY).await.is_err());
}

#[tokio::test]
async fn expired_codes_are_renewed_before_printing() {
    let store = fixture().await;
    store
        .fixture_execute(
            "UPDATE accounts SET activation_expires_at = 1 WHERE person_id = $1",
            &[ids::DAVID],
        )
        .await
        .unwrap();

    let rows = store.activation_codes(ids::UAI_2, Some("5A"), VALIDITY).await.unwrap();

    let david = rows.iter().find(|r| r.login == "david.martin").unwrap();
    let code = david.code.clone().unwrap();
    assert_ne!(code, code_for("david.martin"));
    assert!(store.activation_target("david.martin").await.unwrap().unwrap().code_alive);
    assert!(store.activate_account(ids::DAVID, &code, "h").await.unwrap());
}

#[tokio::test]
async fn frozen_accounts_are_left_out_of_printed_codes() {
    let store = fixture().await;
    let before = store.activation_codes(ids::UAI_1, None, VALIDITY).await.unwrap();
    assert!(before.iter().any(|row| row.login == "alice.martin"));

    store
        .fixture_execute("UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();

    let after = store.activation_codes(ids::UAI_1, None, VALIDITY).await.unwrap();
    assert!(after.iter().all(|row| row.login != "alice.martin"));
    assert_eq!(after.len(), before.len() - 1);
}
