//! Sessions in the store: found by hash, refused once the person is frozen or deactivated,
//! touched, deleted one by one or all but the current one on a password change.

use store::fixtures::{code_for, ids};

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.activate_account(ids::ALICE, &code_for("alice.martin"), "h").await.unwrap();
    store
}

#[tokio::test]
async fn a_session_is_found_by_its_hash_and_touched() {
    let store = fixture().await;
    store.create_session("hash-1", ids::ALICE, "token", 100, 1000).await.unwrap();

    let session = store.session("hash-1").await.unwrap().unwrap();
    assert_eq!(session.person_id, ids::ALICE);
    assert_eq!(session.csrf_token, "token");
    assert_eq!((session.created_at, session.last_seen_at, session.expires_at), (100, 100, 1000));

    store.touch_session("hash-1", 160).await.unwrap();
    assert_eq!(store.session("hash-1").await.unwrap().unwrap().last_seen_at, 160);
    assert!(store.session("hash-2").await.unwrap().is_none());
}

#[tokio::test]
async fn frozen_and_deactivated_people_have_no_session() {
    let store = fixture().await;
    store.create_session("hash-1", ids::ALICE, "token", 100, i64::MAX).await.unwrap();

    store
        .fixture_execute("UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert!(store.session("hash-1").await.unwrap().is_none());

    store
        .fixture_execute("UPDATE accounts SET frozen = 0 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert!(store.session("hash-1").await.unwrap().is_some());
    store
        .fixture_execute("UPDATE people SET active = 0 WHERE id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert!(store.session("hash-1").await.unwrap().is_none());
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let store = fixture().await;
    for hash in ["current", "phone", "tablet"] {
        store.create_session(hash, ids::ALICE, "t", 100, i64::MAX).await.unwrap();
    }

    store.change_password(ids::ALICE, "new-hash", Some("current")).await.unwrap();

    assert!(store.session("current").await.unwrap().is_some());
    assert!(store.session("phone").await.unwrap().is_none());
    assert!(store.session("tablet").await.unwrap().is_none());
    store.change_password(ids::ALICE, "newer", None).await.unwrap();
    assert!(store.session("current").await.unwrap().is_none());
}

#[tokio::test]
async fn deleted_and_expired_sessions_are_gone() {
    let store = fixture().await;
    store.create_session("a", ids::ALICE, "t", 100, 200).await.unwrap();
    store.create_session("b", ids::ALICE, "t", 1000, 5000).await.unwrap();
    store.create_session("c", ids::ALICE, "t", 1000, 5000).await.unwrap();

    store.delete_session("c").await.unwrap();
    assert_eq!(store.purge_sessions(1100, 600).await.unwrap(), 1);

    assert!(store.session("a").await.unwrap().is_none());
    assert!(store.session("b").await.unwrap().is_some());
    assert!(store.session("c").await.unwrap().is_none());
}
