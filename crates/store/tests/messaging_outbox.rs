//! The notification outbox: concurrent workers never claim one entry twice, a lease keeps an
//! entry from others until it runs out, an entry put back waits for its time, a completed one
//! is never claimed again; the e-mail targets of a message and the per-recipient deliveries.

mod messaging_support;

use std::collections::BTreeSet;

use messaging_support::{count, execute, fixture, send};
use store::StoreError;
use store::fixtures::ids;

/// Writes `n` due outbox entries.
async fn enqueue(store: &store::Store, n: usize) {
    execute(
        store,
        &format!(
            "INSERT INTO outbox (id, kind, subject_id, created_at, available_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             SELECT 'o-' || CAST(1000 + i AS TEXT), 'message_sent', 'm', 0, 0 FROM n"
        ),
        &[],
    )
    .await;
}

#[tokio::test]
async fn concurrent_workers_never_claim_one_entry_twice() {
    let store = fixture().await;
    enqueue(&store, 200).await;

    let mut workers = Vec::new();
    for worker in 0..4 {
        let store = store.store.clone();
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            loop {
                let items = store.claim_outbox(&format!("w{worker}"), 3, 60).await.unwrap();
                if items.is_empty() {
                    return claimed;
                }
                claimed.extend(items.into_iter().map(|item| item.id));
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }

    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an entry claimed twice");
    assert_eq!(all.len(), 200);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox WHERE attempts <> 1").await, 0);
}

#[tokio::test]
async fn a_lease_a_retry_and_a_completion_decide_who_gets_an_entry() {
    let store = fixture().await;
    let message_id = send(&store, ids::THOMAS, &["p:p-alice"], "Bonjour").await;

    let first = store.claim_outbox("w1", 10, 60).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].kind.as_str(), first[0].subject_id.as_str()),
        ("message_sent", message_id.as_str())
    );
    assert_eq!(first[0].attempts, 1);
    assert!(store.claim_outbox("w2", 10, 60).await.unwrap().is_empty(), "leased to w1");

    execute(&store, "UPDATE outbox SET claimed_until = claimed_until - 120", &[]).await;
    let again = store.claim_outbox("w2", 10, 60).await.unwrap();
    assert_eq!(again.len(), 1, "w1's lease ran out");
    assert_eq!(again[0].attempts, 2);

    store.retry_outbox(&again[0].id, "smtp\u{0} refusé", store::now_unix() + 300).await.unwrap();
    assert!(store.claim_outbox("w1", 10, 60).await.unwrap().is_empty(), "not due yet");
    assert_eq!(
        messaging_support::texts(&store, "SELECT last_error FROM outbox").await,
        ["smtp refusé"]
    );
    execute(&store, "UPDATE outbox SET available_at = available_at - 600", &[]).await;
    let third = store.claim_outbox("w1", 10, 60).await.unwrap();
    assert_eq!(third.len(), 1);

    store.complete_outbox(&third[0].id).await.unwrap();
    execute(&store, "UPDATE outbox SET claimed_until = 0", &[]).await;
    assert!(store.claim_outbox("w2", 10, 60).await.unwrap().is_empty(), "done");
}

#[tokio::test]
async fn email_targets_are_the_recipients_who_asked_and_were_not_notified_yet() {
    let store = fixture().await;
    store.set_notify_email(ids::PAUL, Some(" paul@example.org ")).await.unwrap();
    store.set_notify_email(ids::QUITTERIE, Some("quitterie@example.org")).await.unwrap();
    store.set_notify_email(ids::QUITTERIE, None).await.unwrap();
    store.set_notify_email(ids::RACHEL, Some("rachel@example.org")).await.unwrap();
    store.set_notify_email(ids::SAMI, Some("sami@example.org")).await.unwrap();
    store.set_reading_mode(ids::ALICE, true).await.unwrap();
    store.set_notify_email(ids::ALICE, Some("alice@example.org")).await.unwrap();
    execute(&store, "UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::RACHEL]).await;
    for bad in ["paul", "a b@c.fr", "x@y.fr\r\nBcc: z@w.fr"] {
        assert!(matches!(
            store.set_notify_email(ids::PAUL, Some(bad)).await,
            Err(StoreError::Conflict(_))
        ));
    }
    assert!(store.reading_mode(ids::ALICE).await.unwrap(), "the other preferences stay");

    let message_id =
        send(&store, ids::THOMAS, &["class_parents:class-6a", "p:p-alice"], "Réunion").await;
    let targets = store.email_targets(&message_id).await.unwrap();

    let found: Vec<(&str, &str)> =
        targets.iter().map(|t| (t.person_id.as_str(), t.email.as_str())).collect();
    assert_eq!(found, [(ids::ALICE, "alice@example.org"), (ids::PAUL, "paul@example.org")]);
    assert_eq!(targets[0].sender_name, "Thomas Bernard");
    assert_eq!(targets[0].subject, "Réunion");
    assert_eq!(store.notify_email(ids::PAUL).await.unwrap().as_deref(), Some("paul@example.org"));
    assert_eq!(store.notify_email(ids::QUITTERIE).await.unwrap(), None);
    assert_eq!(store.notify_email(ids::HUGO).await.unwrap(), None);

    assert!(store.mark_delivered(&message_id, ids::PAUL, "email").await.unwrap());
    assert!(!store.mark_delivered(&message_id, ids::PAUL, "email").await.unwrap());
    assert!(store.mark_delivered(&message_id, ids::PAUL, "live").await.unwrap());
    let left = store.email_targets(&message_id).await.unwrap();
    assert_eq!(left.iter().map(|t| t.person_id.as_str()).collect::<Vec<_>>(), [ids::ALICE]);

    store.recall_message(ids::THOMAS, &message_id).await.unwrap();
    assert!(store.email_targets(&message_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn housekeeping_forgets_old_keys_and_completed_entries_only() {
    let store = fixture().await;
    let message_id = send(&store, ids::THOMAS, &["class_parents:class-6a"], "Réunion").await;
    assert!(store.mark_delivered(&message_id, ids::PAUL, "email").await.unwrap());
    let entry: Vec<String> = messaging_support::texts(&store, "SELECT id FROM outbox").await;
    assert_eq!(entry.len(), 1);
    let now = store::now_unix();

    let nothing = store.housekeeping(now).await.unwrap();
    assert_eq!(nothing, store::outbox::Housekeeping::default());

    let week = store.housekeeping(now + store::outbox::SEND_KEY_RETENTION_SECS + 1).await.unwrap();
    assert_eq!(week.send_keys, 1);
    assert_eq!(week.outbox_entries, 0, "an entry never completed is kept");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM send_requests").await, 0);

    store.complete_outbox(&entry[0]).await.unwrap();
    let month = now + store::outbox::OUTBOX_RETENTION_SECS + 1;
    assert_eq!(
        store.housekeeping(month - 60).await.unwrap().outbox_entries,
        0,
        "completed just now"
    );
    let later = store.housekeeping(month + store::outbox::OUTBOX_RETENTION_SECS).await.unwrap();
    assert_eq!((later.outbox_entries, later.deliveries), (1, 1));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 1, "messages stay");
}

#[tokio::test]
async fn housekeeping_deletes_messages_no_one_holds_and_files_no_one_uses() {
    let store = fixture().await;
    let kept = send(&store, ids::THOMAS, &["class_parents:class-6a"], "Gardé").await;
    let dropped = send(&store, ids::THOMAS, &["p:p-alice"], "Oublié").await;
    let reported = send(&store, ids::THOMAS, &["p:p-bruno"], "Signalé").await;
    store.report_message(ids::BRUNO, &reported, "Insultant").await.unwrap();
    for (owner, message) in [
        (ids::THOMAS, &dropped),
        (ids::ALICE, &dropped),
        (ids::THOMAS, &reported),
        (ids::BRUNO, &reported),
    ] {
        execute(
            &store,
            "DELETE FROM mailbox_entries WHERE owner_id = $1 AND message_id = $2",
            &[owner, message],
        )
        .await;
    }
    execute(
        &store,
        "INSERT INTO attachments (id, owner_id, display_name, content_type, size_bytes, sha256, \
         storage_key, created_at) VALUES ('a-orphan', 't-thomas', 'x.txt', 'text/plain', 1, '', \
         'key-orphan', 0)",
        &[],
    )
    .await;
    let now = store::now_unix();

    let soon = store.housekeeping(now + 60).await.unwrap();
    assert_eq!(soon.messages, 0, "kept thirty days");
    assert_eq!(soon.file_keys, ["key-orphan"]);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM attachments").await, 0);

    let later = store.housekeeping(now + store::outbox::OUTBOX_RETENTION_SECS + 60).await.unwrap();
    assert_eq!(later.messages, 1);
    let left: BTreeSet<String> =
        messaging_support::texts(&store, "SELECT id FROM messages").await.into_iter().collect();
    assert_eq!(left, BTreeSet::from([kept.clone(), reported.clone()]));
    assert_eq!(store.search_mailbox(ids::PAUL, "garde", 1).await.unwrap().total, 1);
}
