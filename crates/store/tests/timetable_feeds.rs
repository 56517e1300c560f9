//! Private calendar feeds in the store: who may create one (themself, a parent for their own
//! child), the secret stored only as its hash, at most ten live feeds, revocation at once, and
//! tokens that stop working for a frozen owner or a parent who lost legal responsibility.

mod timetable_support;

use sha2::{Digest, Sha256};
use store::StoreError;
use store::fixtures::ids;
use store::timetable::MAX_LIVE_FEEDS;
use timetable_support::*;

async fn setup() -> store::testing::TestStore {
    let store = fixture().await;
    exec(&store, "UPDATE accounts SET activated_at = 1", &[]).await;
    store
}

#[tokio::test]
async fn a_feed_serves_its_subject_to_its_owner_through_a_hashed_secret() {
    let store = setup().await;
    let feed = store.create_feed(ids::ALICE, ids::ALICE, "Mon téléphone").await.unwrap();
    assert_eq!(feed.token.len(), 64);
    assert!(feed.token.bytes().all(|b| b.is_ascii_hexdigit()));
    let stored = "SELECT COUNT(*) FROM calendar_feeds WHERE token_hash = $1";
    assert_eq!(count(&store, stored, &[&feed.token]).await, 0, "the secret itself is never stored");
    let hash: String =
        Sha256::digest(feed.token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(count(&store, stored, &[&hash]).await, 1);

    let access = store.feed_by_token(&feed.token).await.unwrap();
    assert_eq!((access.owner_id.as_str(), access.subject_id.as_str()), (ids::ALICE, ids::ALICE));
    assert!(!access.subject_is_teacher);
    let listed = store.feeds(ids::ALICE).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].label, "Mon téléphone");
    assert!(listed[0].last_used_at.is_some(), "the use is recorded");

    let thomas = store.create_feed(ids::THOMAS, ids::THOMAS, "").await.unwrap();
    let access = store.feed_by_token(&thomas.token).await.unwrap();
    assert!(access.subject_is_teacher);
    assert_eq!(store.feeds(ids::THOMAS).await.unwrap()[0].label, "Emploi du temps");

    let child = store.create_feed(ids::PAUL, ids::DAVID, "David").await.unwrap();
    assert_eq!(store.feed_by_token(&child.token).await.unwrap().subject_id, ids::DAVID);
    for unknown in ["", "abc", &"0".repeat(64), &feed.token[..63]] {
        assert!(
            matches!(store.feed_by_token(unknown).await, Err(StoreError::NotFound)),
            "{unknown}"
        );
    }
}

#[tokio::test]
async fn nobody_follows_a_timetable_that_is_not_theirs() {
    let store = setup().await;
    for (owner, subject) in [
        (ids::ALICE, ids::BRUNO),
        (ids::PAUL, ids::BRUNO),
        (ids::NINA, ids::CHLOE),
        (ids::QUITTERIE, ids::DAVID),
        (ids::SOPHIE, ids::THOMAS),
        (ids::HELENE, ids::ALICE),
        (ids::ALICE, "nobody"),
    ] {
        let refused = store.create_feed(owner, subject, "x").await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{owner} for {subject}");
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM calendar_feeds", &[]).await, 0);

    let feed = store.create_feed(ids::QUITTERIE, ids::ALICE, "Alice").await.unwrap();
    exec(&store, "UPDATE guardianships SET legal = 0 WHERE relative_id = $1", &[ids::QUITTERIE])
        .await;
    assert!(
        matches!(store.feed_by_token(&feed.token).await, Err(StoreError::NotFound)),
        "no longer her guardian"
    );

    let own = store.create_feed(ids::BRUNO, ids::BRUNO, "x").await.unwrap();
    exec(&store, "UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::BRUNO]).await;
    assert!(
        matches!(store.feed_by_token(&own.token).await, Err(StoreError::NotFound)),
        "frozen owner"
    );
    assert!(matches!(
        store.create_feed(ids::BRUNO, ids::BRUNO, "x").await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn feeds_are_capped_and_revoked_at_once() {
    let store = setup().await;
    let mut feeds = Vec::new();
    for n in 0..MAX_LIVE_FEEDS {
        feeds.push(store.create_feed(ids::PAUL, ids::ALICE, &format!("feed {n}")).await.unwrap());
    }
    let over = store.create_feed(ids::PAUL, ids::DAVID, "one more").await;
    assert!(matches!(over, Err(StoreError::Conflict(_))));

    let first = &feeds[0];
    assert!(
        matches!(store.revoke_feed(ids::QUITTERIE, &first.id).await, Err(StoreError::NotFound)),
        "not hers"
    );
    store.feed_by_token(&first.token).await.unwrap();
    store.revoke_feed(ids::PAUL, &first.id).await.unwrap();
    assert!(matches!(store.feed_by_token(&first.token).await, Err(StoreError::NotFound)));
    assert!(matches!(store.revoke_feed(ids::PAUL, &first.id).await, Err(StoreError::NotFound)));
    assert_eq!(store.feeds(ids::PAUL).await.unwrap().len() as i64, MAX_LIVE_FEEDS - 1);
    store.create_feed(ids::PAUL, ids::DAVID, "one more").await.unwrap();
    store.feed_by_token(&feeds[1].token).await.unwrap();
}

#[tokio::test]
async fn a_feeds_label_loses_its_bidirectional_controls() {
    let store = setup().await;
    store
        .create_feed(ids::ALICE, ids::ALICE, "Tél\u{202E}éphone\u{2067} perso\u{2069}")
        .await
        .unwrap();
    let feeds = store.feeds(ids::ALICE).await.unwrap();
    assert_eq!(feeds[0].label, "Téléphone perso");
    store.create_feed(ids::ALICE, ids::ALICE, "\u{202E}\u{202D}").await.unwrap();
    let feeds = store.feeds(ids::ALICE).await.unwrap();
    assert!(feeds.iter().any(|f| f.label == "Emploi du temps"), "{feeds:?}");
}
