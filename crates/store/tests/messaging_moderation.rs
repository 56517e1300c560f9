//! Moderation on the fixture département: a recall empties every recipient's mailbox and keeps
//! the sender's copy, audited and announced; only the sender, the heads of the sender's or the
//! reporter's school and the département may recall; the kill switch freezes and recalls; a
//! report reaches the head of the reporter's school and nobody else.

mod messaging_support;

use messaging_support::{count, count_for, fixture, send, snapshot};
use store::StoreError;
use store::fixtures::ids;
use store::messaging::{Folder, SendRefusal};

#[tokio::test]
async fn a_recall_removes_the_message_from_every_recipient_and_keeps_the_senders_copy() {
    let store = fixture().await;
    let message_id =
        send(&store, ids::THOMAS, &["class_pupils:class-6a", "class_parents:class-6a"], "Oups")
            .await;
    let kept = send(&store, ids::THOMAS, &["p:p-alice"], "Autre").await;
    store
        .move_messages(ids::BRUNO, std::slice::from_ref(&message_id), &Folder::Trash)
        .await
        .unwrap();
    let before = snapshot(&store).await;

    for intruder in [ids::ALICE, ids::PAUL, ids::SOPHIE, ids::HUGO, ids::OLIVIER] {
        let refused = store.recall_message(intruder, &message_id).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{intruder}");
    }
    assert!(matches!(
        store.recall_message(ids::THOMAS, "missing").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(snapshot(&store).await, before);

    let removed = store.recall_message(ids::THOMAS, &message_id).await.unwrap();

    assert_eq!(removed, 5);
    for person in [ids::ALICE, ids::BRUNO, ids::PAUL, ids::QUITTERIE, ids::RACHEL] {
        assert!(
            matches!(store.open_message(person, &message_id).await, Err(StoreError::NotFound)),
            "{person}"
        );
    }
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 1);
    assert_eq!(store.unread_count(ids::PAUL).await.unwrap(), 0);
    let own = store.open_message(ids::THOMAS, &message_id).await.unwrap();
    assert!(own.recalled_at.is_some());
    assert!(!own.can_recall);
    assert!(store.mailbox(ids::THOMAS, &Folder::Sent, 1).await.unwrap().messages[1].recalled);
    assert_eq!(
        count_for(
            &store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'message_recalled' AND target_id = $1 \
             AND actor_id = 't-thomas'",
            &message_id
        )
        .await,
        1
    );
    assert_eq!(
        count_for(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'message_recalled' AND subject_id = $1",
            &message_id
        )
        .await,
        1
    );
    assert_eq!(store.recall_message(ids::THOMAS, &message_id).await.unwrap(), 0);
    assert!(store.open_message(ids::ALICE, &kept).await.is_ok());
    assert_eq!(store.message_recipient_ids(&message_id).await.unwrap().len(), 5);
}

#[tokio::test]
async fn the_heads_of_the_senders_schools_and_the_departement_may_recall() {
    let store = fixture().await;
    let by_alice = send(&store, ids::ALICE, &["p:p-bruno"], "Méchant").await;
    let by_david = send(&store, ids::DAVID, &["p:t-hugo"], "Question").await;
    let by_thomas = send(&store, ids::THOMAS, &["p:p-david"], "Maths").await;

    assert!(matches!(store.recall_message(ids::MARC, &by_alice).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.recall_message(ids::HELENE, &by_david).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.recall_message(ids::HELENE, &by_alice).await.unwrap(), 1);
    assert_eq!(store.recall_message(ids::AGNES, &by_david).await.unwrap(), 1);
    assert_eq!(
        store.recall_message(ids::MARC, &by_thomas).await.unwrap(),
        1,
        "Thomas teaches in both"
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM audit_log WHERE action = 'message_recalled'").await,
        3
    );
}

#[tokio::test]
async fn a_report_reaches_the_head_of_the_reporters_school_only() {
    let store = fixture().await;
    let to_alice = send(&store, ids::THOMAS, &["p:p-alice", "p:r-paul"], "Maths").await;
    let to_paul = send(&store, ids::HUGO, &["p:r-paul"], "Histoire").await;

    assert!(matches!(
        store.report_message(ids::THOMAS, &to_alice, "x").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.report_message(ids::ALICE, &to_alice, &"x".repeat(2_001)).await,
        Err(StoreError::Conflict(_))
    ));
    store.report_message(ids::ALICE, &to_alice, "  Message déplacé.\u{0} ").await.unwrap();
    store.report_message(ids::ALICE, &to_alice, "Deuxième fois").await.unwrap();
    store.report_message(ids::PAUL, &to_paul, "Ton agressif").await.unwrap();

    let helene = store.reports_for_school(ids::HELENE, ids::SCHOOL_1).await.unwrap();
    assert_eq!(helene.len(), 1);
    let report = &helene[0];
    assert_eq!(report.message_id, to_alice);
    assert_eq!(report.reporter.id, ids::ALICE);
    assert_eq!(report.sender.id, ids::THOMAS);
    assert_eq!(report.reason, "Message déplacé.");
    assert_eq!(report.subject, "Maths");
    assert!(report.handled_at.is_none());
    let marc = store.reports_for_school(ids::MARC, ids::SCHOOL_2).await.unwrap();
    assert_eq!(marc.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>(), [to_paul.as_str()]);
    assert_eq!(marc[0].reporter.id, ids::PAUL, "Paul's child in the sender's school");
    for (actor, school) in [
        (ids::MARC, ids::SCHOOL_1),
        (ids::HELENE, ids::SCHOOL_2),
        (ids::THOMAS, ids::SCHOOL_1),
        (ids::ALICE, ids::SCHOOL_1),
        (ids::HELENE, ""),
    ] {
        assert!(
            matches!(store.reports_for_school(actor, school).await, Err(StoreError::NotFound)),
            "{actor} {school}"
        );
    }
    assert_eq!(store.reports_for_school(ids::AGNES, ids::SCHOOL_1).await.unwrap().len(), 1);

    let before = snapshot(&store).await;
    assert!(matches!(
        store.mark_report_handled(ids::MARC, &report.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(snapshot(&store).await, before);
    store.mark_report_handled(ids::HELENE, &report.id).await.unwrap();
    assert!(
        store.reports_for_school(ids::HELENE, ids::SCHOOL_1).await.unwrap()[0].handled_at.is_some()
    );

    assert!(matches!(store.recall_message(ids::HUGO, &to_alice).await, Err(StoreError::NotFound)));
    assert_eq!(store.recall_message(ids::HELENE, &to_alice).await.unwrap(), 2);
    assert!(
        store.reports_for_school(ids::HELENE, ids::SCHOOL_1).await.unwrap()[0]
            .recalled_at
            .is_some()
    );
}

#[tokio::test]
async fn a_head_recalls_a_message_reported_to_their_school_from_another_school() {
    let store = fixture().await;
    let message_id = send(&store, ids::HUGO, &["p:r-paul"], "Histoire").await;
    assert!(matches!(
        store.recall_message(ids::HELENE, &message_id).await,
        Err(StoreError::NotFound)
    ));

    store.report_message(ids::PAUL, &message_id, "").await.unwrap();
    let reported = "SELECT school_id FROM message_reports";
    assert_eq!(messaging_support::texts(&store, reported).await, [ids::SCHOOL_2]);
    // As if Paul's only child were in collège 1: the report reaches collège 1's head.
    store.fixture_execute("UPDATE message_reports SET school_id = 'school-1'", &[]).await.unwrap();

    assert_eq!(store.recall_message(ids::HELENE, &message_id).await.unwrap(), 1);
}

#[tokio::test]
async fn the_kill_switch_freezes_the_account_and_recalls_what_it_sent() {
    let store = fixture().await;
    let old = send(&store, ids::ALICE, &["p:p-bruno"], "Ancien").await;
    store
        .fixture_execute(
            "UPDATE messages SET created_at = created_at - 7200 WHERE id = $1",
            &[&old],
        )
        .await
        .unwrap();
    let since = store::now_unix() - 3600;
    let first = send(&store, ids::ALICE, &["class_pupils:class-6a"], "Menace").await;
    let second = send(&store, ids::ALICE, &["p:t-thomas", "p:p-bruno"], "Menace 2").await;
    store
        .fixture_execute(
            "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES ('h', $1, 'c', 0, 0, 99999999999)",
            &[ids::ALICE],
        )
        .await
        .unwrap();
    let before = snapshot(&store).await;

    assert!(matches!(
        store.freeze_and_recall(ids::MARC, ids::ALICE, since).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.freeze_and_recall(ids::THOMAS, ids::ALICE, since).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(snapshot(&store).await, before);

    let recalled = store.freeze_and_recall(ids::HELENE, ids::ALICE, since).await.unwrap();

    assert_eq!(recalled, 2);
    for message in [&first, &second] {
        assert!(matches!(store.open_message(ids::BRUNO, message).await, Err(StoreError::NotFound)));
    }
    assert!(store.open_message(ids::BRUNO, &old).await.is_ok(), "older than `since`");
    assert_eq!(store.unread_count(ids::THOMAS).await.unwrap(), 0);
    assert_eq!(count(&store, "SELECT frozen FROM accounts WHERE person_id = 'p-alice'").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM sessions WHERE person_id = 'p-alice'").await, 0);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM audit_log WHERE action = 'account_frozen'").await,
        1
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM audit_log WHERE action = 'message_recalled'").await,
        2
    );
    let refused = store
        .send_message(&messaging_support::request(ids::ALICE, &["p:p-bruno"], "Encore", "x"))
        .await
        .unwrap();
    assert_eq!(refused, Err(SendRefusal::Frozen));
    assert_eq!(store.freeze_and_recall(ids::AGNES, ids::ALICE, since).await.unwrap(), 0);
}
