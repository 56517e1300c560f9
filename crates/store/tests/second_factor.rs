//! The second factor in the store: an enrolment is confirmed once and only with its own secret
//! while it is fresh, a TOTP step is spent once (also when two requests race), a recovery code
//! works once, removing a factor ends the other sessions, a session waiting for its second
//! factor is no session until it passes (then under a new id), and a new activation code leaves
//! the factor in place.

use store::fixtures::{code_for, ids};
use store::second_factor::{Confirmation, Confirmed, ENROLMENT_LIFETIME_SECS, recovery_code_hash};

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const OTHER_SECRET: &str = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU";

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.activate_account(ids::HELENE, &code_for("helene.roux"), "h").await.unwrap();
    store
}

fn hashes(person: &str, codes: &[&str]) -> Vec<String> {
    codes.iter().map(|code| recovery_code_hash(person, code)).collect()
}

/// Enrols `SECRET` for Hélène at `now`, confirmed by a code of `step`, from session `keep`.
async fn enrol(store: &store::Store, now: i64, step: i64, keep: &str) -> Option<Confirmed> {
    store.start_enrolment(ids::HELENE, SECRET, now).await.unwrap();
    let recovery = hashes(ids::HELENE, &["aaaaabbbbb", "cccccddddd"]);
    let confirmation = Confirmation {
        person_id: ids::HELENE,
        secret: SECRET,
        step,
        recovery_hashes: &recovery,
        keep_session: keep,
        now,
    };
    store.confirm_enrolment(&confirmation).await.unwrap()
}

/// How many audit entries of this action concern Hélène.
async fn audited(store: &store::Store, action: &str) -> i64 {
    store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE target_id = $1 AND action = $2",
            &[ids::HELENE, action],
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn an_enrolment_becomes_the_factor_once_and_ends_the_other_sessions() {
    let store = fixture().await;
    for hash in ["current", "phone"] {
        store.create_session(hash, ids::HELENE, "t", 1000, i64::MAX).await.unwrap();
    }
    assert!(store.second_factor(ids::HELENE).await.unwrap().is_none());

    assert_eq!(enrol(&store, 1000, 33, "current").await, Some(Confirmed::Enrolled));

    let factor = store.second_factor(ids::HELENE).await.unwrap().unwrap();
    assert_eq!((factor.secret.as_str(), factor.last_step), (SECRET, 33));
    assert_eq!((factor.confirmed_at, factor.recovery_codes_left), (1000, 2));
    assert!(store.enrolment(ids::HELENE, 1000).await.unwrap().is_none(), "used up");
    assert!(store.session("current").await.unwrap().unwrap().has_second_factor);
    assert!(store.session("phone").await.unwrap().is_none(), "other sessions end");
    assert_eq!(audited(&store, "second_factor_enrolled").await, 1);

    // The same confirmation a second time (a double click) finds no enrolment.
    let recovery = hashes(ids::HELENE, &["x"]);
    let again = Confirmation {
        person_id: ids::HELENE,
        secret: SECRET,
        step: 34,
        recovery_hashes: &recovery,
        keep_session: "current",
        now: 1001,
    };
    assert_eq!(store.confirm_enrolment(&again).await.unwrap(), None);
    assert_eq!(store.second_factor(ids::HELENE).await.unwrap().unwrap().last_step, 33);
}

#[tokio::test]
async fn an_enrolment_is_confirmed_only_with_its_secret_and_while_fresh() {
    let store = fixture().await;
    store.start_enrolment(ids::HELENE, SECRET, 1000).await.unwrap();
    // Another tab drew a new secret: a code checked against the first confirms nothing.
    store.start_enrolment(ids::HELENE, OTHER_SECRET, 1010).await.unwrap();
    let none: Vec<String> = Vec::new();
    let stale = Confirmation {
        person_id: ids::HELENE,
        secret: SECRET,
        step: 1,
        recovery_hashes: &none,
        keep_session: "",
        now: 1020,
    };
    assert_eq!(store.confirm_enrolment(&stale).await.unwrap(), None);

    let expired_at = 1010 + ENROLMENT_LIFETIME_SECS;
    assert!(store.enrolment(ids::HELENE, expired_at - 1).await.unwrap().is_some());
    assert!(store.enrolment(ids::HELENE, expired_at).await.unwrap().is_none());
    let late = Confirmation { secret: OTHER_SECRET, now: expired_at, ..stale.clone() };
    assert_eq!(store.confirm_enrolment(&late).await.unwrap(), None);
    assert!(store.second_factor(ids::HELENE).await.unwrap().is_none());
}

#[tokio::test]
async fn a_replacement_changes_the_secret_the_step_and_the_recovery_codes() {
    let store = fixture().await;
    enrol(&store, 1000, 33, "").await;
    assert!(
        store
            .use_recovery_code(ids::HELENE, &hashes(ids::HELENE, &["aaaaabbbbb"])[0], 1001)
            .await
            .unwrap()
    );

    store.start_enrolment(ids::HELENE, OTHER_SECRET, 2000).await.unwrap();
    let recovery = hashes(ids::HELENE, &["eeeeefffff"]);
    let confirmation = Confirmation {
        person_id: ids::HELENE,
        secret: OTHER_SECRET,
        step: 66,
        recovery_hashes: &recovery,
        keep_session: "",
        now: 2000,
    };
    assert_eq!(store.confirm_enrolment(&confirmation).await.unwrap(), Some(Confirmed::Replaced));

    let factor = store.second_factor(ids::HELENE).await.unwrap().unwrap();
    assert_eq!((factor.secret.as_str(), factor.last_step), (OTHER_SECRET, 66));
    assert_eq!(factor.recovery_codes_left, 1);
    let old = hashes(ids::HELENE, &["cccccddddd"]);
    assert!(!store.use_recovery_code(ids::HELENE, &old[0], 2001).await.unwrap(), "old codes go");
    assert!(store.use_recovery_code(ids::HELENE, &recovery[0], 2001).await.unwrap());
    assert_eq!(audited(&store, "second_factor_replaced").await, 1);
}

#[tokio::test]
async fn a_totp_step_is_spent_once_and_never_an_older_one() {
    let store = fixture().await;
    assert!(!store.claim_totp_step(ids::HELENE, 40).await.unwrap(), "no factor, no step");
    enrol(&store, 1000, 33, "").await;

    assert!(!store.claim_totp_step(ids::HELENE, 33).await.unwrap(), "the confirming step");
    assert!(!store.claim_totp_step(ids::HELENE, 32).await.unwrap());
    assert!(store.claim_totp_step(ids::HELENE, 34).await.unwrap());
    assert!(!store.claim_totp_step(ids::HELENE, 34).await.unwrap(), "the same code twice");
    assert!(store.claim_totp_step(ids::HELENE, 36).await.unwrap());
    assert!(!store.claim_totp_step(ids::HELENE, 35).await.unwrap(), "older than the last");
}

#[tokio::test]
async fn of_parallel_claims_of_one_step_only_one_passes() {
    let store = fixture().await;
    enrol(&store, 1000, 33, "").await;

    let claims = (0..8).map(|_| {
        let store = store.store.clone();
        tokio::spawn(async move { store.claim_totp_step(ids::HELENE, 34).await.unwrap() })
    });
    let mut passed = 0;
    for claim in claims {
        passed += usize::from(claim.await.unwrap());
    }
    assert_eq!(passed, 1);
}

#[tokio::test]
async fn a_recovery_code_works_once_and_only_for_its_person() {
    let store = fixture().await;
    enrol(&store, 1000, 33, "").await;
    let code = hashes(ids::HELENE, &["aaaaabbbbb"]).remove(0);

    assert!(!store.use_recovery_code(ids::MARC, &code, 1001).await.unwrap());
    let marcs = recovery_code_hash(ids::MARC, "aaaaabbbbb");
    assert_ne!(marcs, code, "the same code of two people is stored differently");
    assert!(!store.use_recovery_code(ids::HELENE, &marcs, 1001).await.unwrap());

    assert!(store.use_recovery_code(ids::HELENE, &code, 1001).await.unwrap());
    assert!(!store.use_recovery_code(ids::HELENE, &code, 1002).await.unwrap(), "used");
    assert_eq!(store.second_factor(ids::HELENE).await.unwrap().unwrap().recovery_codes_left, 1);
    assert_eq!(audited(&store, "recovery_code_used").await, 1);
}

#[tokio::test]
async fn removing_the_factor_ends_the_other_sessions_and_its_codes() {
    let store = fixture().await;
    enrol(&store, 1000, 33, "").await;
    for hash in ["current", "phone"] {
        store.create_session(hash, ids::HELENE, "t", 1000, i64::MAX).await.unwrap();
    }

    assert!(store.remove_second_factor(ids::HELENE, ids::HELENE, "current").await.unwrap());

    assert!(store.second_factor(ids::HELENE).await.unwrap().is_none());
    assert!(store.session("current").await.unwrap().is_some());
    assert!(store.session("phone").await.unwrap().is_none());
    let code = hashes(ids::HELENE, &["cccccddddd"]).remove(0);
    assert!(!store.use_recovery_code(ids::HELENE, &code, 1001).await.unwrap());
    assert!(
        !store.remove_second_factor(ids::HELENE, ids::HELENE, "current").await.unwrap(),
        "nothing left"
    );
    assert_eq!(audited(&store, "second_factor_removed").await, 1);
}

#[tokio::test]
async fn a_waiting_session_is_no_session_until_it_passes_then_changes_id() {
    let store = fixture().await;
    store.create_pending_session("waiting", ids::HELENE, "t1", 1000, 1900).await.unwrap();

    assert!(store.session("waiting").await.unwrap().is_none(), "every reader refuses it");
    let row = store.session_at_any_stage("waiting").await.unwrap().unwrap();
    assert!(row.second_factor_pending);
    assert_eq!((row.second_factor_at, row.expires_at), (None, 1900));
    assert!(!store.mark_second_factor("waiting", 1001).await.unwrap(), "not a step-up");

    assert!(store.complete_second_factor("waiting", "whole", "t2", 1010, 50_000).await.unwrap());
    assert!(!store.complete_second_factor("waiting", "again", "t3", 1011, 50_000).await.unwrap());
    assert!(store.session_at_any_stage("waiting").await.unwrap().is_none(), "the old id is gone");
    let whole = store.session("whole").await.unwrap().unwrap();
    assert_eq!(whole.csrf_token, "t2");
    assert_eq!((whole.created_at, whole.second_factor_at), (1000, Some(1010)));
    assert_eq!((whole.expires_at, whole.second_factor_pending), (50_000, false));
}

#[tokio::test]
async fn a_whole_session_is_marked_by_a_step_up_without_changing_id() {
    let store = fixture().await;
    store.create_session("whole", ids::HELENE, "t", 1000, i64::MAX).await.unwrap();
    assert_eq!(store.session("whole").await.unwrap().unwrap().second_factor_at, None);

    assert!(store.mark_second_factor("whole", 1200).await.unwrap());

    assert_eq!(store.session("whole").await.unwrap().unwrap().second_factor_at, Some(1200));
    assert!(!store.mark_second_factor("unknown", 1200).await.unwrap());
}

#[tokio::test]
async fn a_new_activation_code_leaves_the_factor_in_place() {
    // ASVS 6.4.3: resetting the password (a new code from the school) bypasses no factor.
    let store = fixture().await;
    enrol(&store, 1000, 33, "").await;

    store.issue_activation_code(ids::HELENE, std::time::Duration::from_secs(3600)).await.unwrap();

    let factor = store.second_factor(ids::HELENE).await.unwrap().unwrap();
    assert_eq!((factor.secret.as_str(), factor.last_step), (SECRET, 33));
}
