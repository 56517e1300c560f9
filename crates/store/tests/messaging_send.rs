//! The send on the fixture département: the fan-out to a class and its parents (every
//! recipient once, the sender's copy read), the idempotency key (a retry replays, another body
//! is refused, 50 concurrent sends make one message), the caps of a pupil, a frozen sender,
//! the rules' refusals and attachments, each refusal leaving the database as it was, a send
//! whose writes fail failing alone; on SQLite,
//! the write-ahead log that sends are synced in, and its size after a long reader.

mod messaging_support;

use std::collections::BTreeSet;

use messaging_support::{count, count_for, execute, fixture, request, send, send_ok, snapshot};
use store::fixtures::ids;
use store::messaging::{ComposeMode, Folder, NewAttachment, SendOutcome, SendRefusal, SendRequest};
use store::rules::RuleRefusal;

#[tokio::test]
async fn a_message_to_a_class_and_its_parents_reaches_each_of_them_once() {
    let store = fixture().await;
    let to = ["class_pupils:class-6a", "class_parents:class-6a", "p:r-paul"];

    let (message_id, recipients) =
        send_ok(&store, &request(ids::THOMAS, &to, "Sortie au musée", "Départ à 8 h.")).await;

    let expected: BTreeSet<&str> =
        [ids::ALICE, ids::BRUNO, ids::PAUL, ids::QUITTERIE, ids::RACHEL].into();
    assert_eq!(recipients.iter().map(String::as_str).collect::<BTreeSet<_>>(), expected);
    assert_eq!(recipients.len(), 5, "Paul is named twice but reached once");
    let entries = "SELECT COUNT(*) FROM mailbox_entries WHERE message_id = $1";
    assert_eq!(count_for(&store, entries, &message_id).await, 6);
    assert_eq!(store.message_recipient_ids(&message_id).await.unwrap().len(), 5);
    for person in &expected {
        let inbox = store.mailbox(person, &Folder::Inbox, 1).await.unwrap();
        assert_eq!(inbox.total, 1, "{person}");
        let summary = &inbox.messages[0];
        assert_eq!(summary.id, message_id);
        assert!(summary.unread);
        assert_eq!(summary.sender.id, ids::THOMAS);
        assert_eq!(summary.recipients, "Élèves de 6A, Parents de 6A, Paul Martin");
        assert_eq!(store.unread_count(person).await.unwrap(), 1);
    }
    let sent = store.mailbox(ids::THOMAS, &Folder::Sent, 1).await.unwrap();
    assert_eq!(sent.total, 1);
    assert!(!sent.messages[0].unread);
    assert_eq!(store.unread_count(ids::THOMAS).await.unwrap(), 0);
    assert_eq!(store.mailbox(ids::CHLOE, &Folder::Inbox, 1).await.unwrap().total, 0);
    assert_eq!(store.mailbox(ids::SAMI, &Folder::Inbox, 1).await.unwrap().total, 0);

    let mut live = store.message_recipient_ids(&message_id).await.unwrap();
    live.sort();
    let mut expected: Vec<String> = expected.iter().map(|id| id.to_string()).collect();
    expected.sort();
    assert_eq!(live, expected);
    let outbox = "SELECT COUNT(*) FROM outbox WHERE kind = 'message_sent' AND subject_id = $1";
    assert_eq!(count_for(&store, outbox, &message_id).await, 1);
}

#[tokio::test]
async fn a_group_kept_between_sends_follows_the_class_and_the_rules_changed_elsewhere() {
    let store = fixture().await;
    let to = ["class_pupils:class-6a"];
    let pupils = |ids: Vec<String>| ids.into_iter().collect::<BTreeSet<String>>();
    let (_, first) = send_ok(&store, &request(ids::THOMAS, &to, "Un", "1")).await;
    assert_eq!(pupils(first), [ids::ALICE.to_owned(), ids::BRUNO.to_owned()].into());

    // Bruno leaves 6A, through another instance: the next send no longer reaches him.
    let other = store.another_instance().await;
    execute(&other, "DELETE FROM pupil_classes WHERE pupil_id = $1", &[ids::BRUNO]).await;
    let (_, second) = send_ok(&store, &request(ids::THOMAS, &to, "Deux", "2")).await;
    assert_eq!(second, vec![ids::ALICE.to_owned()]);

    // The collège no longer lets its adults write to everyone in it: refused at once.
    execute(
        &other,
        "INSERT INTO communication_rules (school_id, rule, allowed, updated_at) \
         VALUES ($1, 'staff_to_school', 0, 0)",
        &[ids::SCHOOL_1],
    )
    .await;
    let before = snapshot(&store).await;
    let refused = store.send_message(&request(ids::THOMAS, &to, "Trois", "3")).await.unwrap();
    assert!(
        matches!(&refused, Err(SendRefusal::Rules(RuleRefusal::NotAllowed { .. }))),
        "{refused:?}"
    );
    assert_eq!(snapshot(&store).await, before);

    // The rules alone no longer reach the class, but a reply does: once Alice has written to
    // her teacher, the class (Alice alone now) may be written to again.
    send(&store, ids::ALICE, &["p:t-thomas"], "Question").await;
    let (_, replied) = send_ok(&store, &request(ids::THOMAS, &to, "Quatre", "4")).await;
    assert_eq!(replied, vec![ids::ALICE.to_owned()]);
    other.close().await;
}

#[tokio::test]
async fn a_retry_replays_the_first_send_and_another_body_with_the_key_is_refused() {
    let store = fixture().await;
    let first = request(ids::ALICE, &["p:p-bruno"], "Devoirs", "Tu as noté l'exercice ?");

    let (message_id, _) = send_ok(&store, &first).await;
    let again = store.send_message(&first).await.unwrap();
    let mut reordered = first.clone();
    reordered.subject = "  Devoirs\u{0} ".to_owned();
    let same = store.send_message(&reordered).await.unwrap();
    let mut other = first.clone();
    other.body_html = "<p>Autre chose</p>".to_owned();
    let before = snapshot(&store).await;
    let reused = store.send_message(&other).await.unwrap();

    assert_eq!(again, Ok(SendOutcome::Replayed { message_id: message_id.clone() }));
    assert_eq!(same, Ok(SendOutcome::Replayed { message_id: message_id.clone() }));
    assert_eq!(reused, Err(SendRefusal::KeyReused));
    assert_eq!(snapshot(&store).await, before);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(store.mailbox(ids::BRUNO, &Folder::Inbox, 1).await.unwrap().total, 1);
}

#[tokio::test]
async fn requests_with_one_key_in_one_transaction_of_sends_make_one_message() {
    let store = fixture().await;
    let first = request(ids::ALICE, &["p:p-bruno"], "Devoirs", "Tu as noté l'exercice ?");
    let mut other = first.clone();
    other.body_html = "<p>Autre chose</p>".to_owned();

    // On SQLite the three wait together behind a first send, for the same transaction.
    let before = request(ids::THOMAS, &[&format!("p:{}", ids::SOPHIE)], "Avant", "x");
    let answers: Vec<_> = sent_behind_a_first(&store, vec![before, first.clone(), first, other])
        .await
        .into_iter()
        .map(|(request, answer)| (request.body_html, answer.unwrap()))
        .collect();

    // Whichever of the three came first is sent; the others with its body replay it, the
    // others with another body are refused.
    let sent: Vec<_> = answers[1..]
        .iter()
        .filter_map(|(body, answer)| match answer {
            Ok(SendOutcome::Sent { message_id, .. }) => Some((body.clone(), message_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1, "{answers:?}");
    let (sent_body, message_id) = &sent[0];
    for (body, answer) in &answers[1..] {
        match answer {
            Ok(SendOutcome::Sent { .. }) => {}
            Ok(SendOutcome::Replayed { message_id: replayed }) => {
                assert_eq!((body, replayed), (sent_body, message_id));
            }
            Err(SendRefusal::KeyReused) => assert_ne!(body, sent_body),
            other => panic!("{other:?}"),
        }
    }
    let alice_sent = "SELECT COUNT(*) FROM messages WHERE sender_id = $1";
    assert_eq!(count_for(&store, alice_sent, ids::ALICE).await, 1);
    assert_eq!(store.mailbox(ids::BRUNO, &Folder::Inbox, 1).await.unwrap().total, 1);
}

#[tokio::test]
async fn a_key_left_pending_by_a_request_that_died_is_taken_over_and_completed() {
    let store = fixture().await;
    let form = request(ids::THOMAS, &["p:p-alice"], "Relance", "Le texte.");
    let (first, _) = send_ok(&store, &form).await;
    // As if the first request had died between its claim and its transaction, long ago.
    execute(
        &store,
        "UPDATE send_requests SET state = 'pending', message_id = NULL, \
         created_at = created_at - 120 WHERE message_id = $1",
        &[&first],
    )
    .await;
    execute(&store, "DELETE FROM messages WHERE id = $1", &[&first]).await;

    let (taken_over, recipients) = send_ok(&store, &form).await;

    assert_ne!(taken_over, first);
    assert_eq!(recipients, vec![ids::ALICE.to_owned()]);
    assert_eq!(
        store.send_message(&form).await.unwrap(),
        Ok(SendOutcome::Replayed { message_id: taken_over.clone() }),
        "the key now names the message that was sent"
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM send_requests WHERE state = 'pending'").await,
        0
    );
    let inbox = store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap();
    assert_eq!(inbox.messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [&taken_over]);
}

#[tokio::test]
async fn fifty_concurrent_sends_with_one_key_make_one_message() {
    let store = fixture().await;
    let request = request(
        ids::THOMAS,
        &["class_pupils:class-6a", "class_parents:class-6a"],
        "Réunion",
        "Jeudi à 18 h.",
    );

    let mut tasks = Vec::new();
    for _ in 0..50 {
        let store = store.store.clone();
        let request = request.clone();
        tasks.push(tokio::spawn(async move { store.send_message(&request).await }));
    }
    let mut sent = Vec::new();
    let mut replayed = Vec::new();
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Ok(SendOutcome::Sent { message_id, .. }) => sent.push(message_id),
            Ok(SendOutcome::Replayed { message_id }) => replayed.push(message_id),
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }

    // Each retry waited for the first send's end (on PostgreSQL, for its lock of the
    // sender's account; on SQLite, for its transaction of sends) and replays it.
    assert_eq!(sent.len(), 1);
    assert_eq!(replayed.len(), 49);
    assert!(replayed.iter().all(|id| *id == sent[0]));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM mailbox_entries").await, 6);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM (SELECT owner_id FROM mailbox_entries GROUP BY owner_id HAVING COUNT(*) > 1) d").await,
        0
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox").await, 1);
    let after = store.send_message(&request).await.unwrap();
    assert_eq!(after, Ok(SendOutcome::Replayed { message_id: sent[0].clone() }));
}

#[tokio::test]
async fn concurrent_sends_refused_or_not_each_end_on_their_own() {
    let store = fixture().await;
    let class = ["class_pupils:class-6a", "class_parents:class-6a"];
    let reused = request(ids::THOMAS, &["p:r-paul"], "Premier", "1");
    send_ok(&store, &reused).await;
    let before = count(&store, "SELECT COUNT(*) FROM send_requests").await;

    // Sends that go through, mixed with refused ones (rules, a reused key, a frozen sender)
    // that SQLite writes in the same transactions of sends: each refused for its own reason,
    // its sender's account and key read for it, not another's of the same transaction.
    execute(&store, "UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::BRUNO]).await;
    let mut requests = Vec::new();
    for n in 0..12 {
        requests.push((None, request(ids::THOMAS, &class, &format!("Sortie {n}"), "Départ.")));
        let refused = match n % 3 {
            0 => (
                SendRefusal::Rules(RuleRefusal::NotAllowed { token: "p:s-helene".to_owned() }),
                request(ids::ALICE, &["p:s-helene"], &format!("Question {n}"), "Bonjour."),
            ),
            1 => {
                let mut again = reused.clone();
                again.body_html = format!("<p>Autre {n}</p>");
                (SendRefusal::KeyReused, again)
            }
            _ => (
                SendRefusal::Frozen,
                request(ids::BRUNO, &["p:p-alice"], &format!("Gelé {n}"), "Salut."),
            ),
        };
        requests.push((Some(refused.0), refused.1));
    }
    let mut tasks = Vec::new();
    for (refusal, request) in requests {
        let store = store.store.clone();
        tasks.push(tokio::spawn(async move { (refusal, store.send_message(&request).await) }));
    }

    let mut sent = BTreeSet::new();
    for task in tasks {
        let (refusal, outcome) = task.await.unwrap();
        match (outcome.unwrap(), refusal) {
            (Ok(SendOutcome::Sent { message_id, recipient_ids }), None) => {
                assert_eq!(recipient_ids.len(), 5);
                sent.insert(message_id);
            }
            (Err(refused), Some(expected)) => assert_eq!(refused, expected),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sent.len(), 12);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 13);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM send_requests").await, before + 12);
    for message_id in &sent {
        let entries = "SELECT COUNT(*) FROM mailbox_entries WHERE message_id = $1";
        assert_eq!(count_for(&store, entries, message_id).await, 6);
    }
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 12);
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Sent, 1).await.unwrap().total, 0);
}

#[tokio::test]
async fn a_key_or_an_account_that_cannot_be_read_fails_its_own_send_and_no_other() {
    let store = fixture().await;
    // SQLite keeps whatever a hand edit stores in a column, a blob in a text column too; a
    // transaction of sends reads its keys and accounts for all its sends at once.
    if store.backend() != store::Backend::Sqlite {
        return;
    }
    let reused = request(ids::THOMAS, &["p:r-paul"], "Premier", "1");
    send_ok(&store, &reused).await;
    execute(
        &store,
        "UPDATE send_requests SET fingerprint = X'00ff' WHERE idempotency_key = $1",
        &[&reused.idempotency_key],
    )
    .await;
    execute(&store, "UPDATE people SET first_name = X'00ff' WHERE id = $1", &[ids::BRUNO]).await;

    let mut requests = Vec::new();
    for n in 0..12 {
        // People, not groups: a group is read before the send queues, and would come later.
        let good = request(ids::THOMAS, &["p:p-alice"], &format!("Sortie {n}"), "Départ.");
        requests.push((true, good));
        let unreadable = match n % 2 {
            0 => reused.clone(),
            _ => request(ids::BRUNO, &["p:p-alice"], &format!("Salut {n}"), "Salut."),
        };
        requests.push((false, unreadable));
    }
    let mut tasks = Vec::new();
    for (goes, request) in requests {
        let store = store.store.clone();
        tasks.push(tokio::spawn(async move { (goes, store.send_message(&request).await) }));
    }

    let mut sent = 0;
    for task in tasks {
        match task.await.unwrap() {
            (true, Ok(Ok(SendOutcome::Sent { .. }))) => sent += 1,
            (false, Err(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sent, 12);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 13);
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 12);
}

#[tokio::test]
async fn a_send_whose_writes_fail_fails_alone_and_the_sends_beside_it_go_through() {
    let store = fixture().await;
    // A failure that only the writes meet, after every check passed: the message's row is
    // refused for one subject. On SQLite it rolls the whole transaction back, as a failed
    // constraint does to the send's writes (INSERT OR ROLLBACK).
    let failing = request(ids::THOMAS, &CLASS_6A, "Échoue", "Jamais écrit.");
    refused_by_a_trigger(&store, "messages", "NEW.subject = 'Échoue'").await;

    fails_alone_beside_seven_sends_to_the_class(&store, &failing).await;

    // Its key was not taken: once the cause is gone, the same request goes through.
    no_more_trigger(&store, "messages").await;
    let again = store.send_message(&failing).await.unwrap();
    assert!(matches!(again, Ok(SendOutcome::Sent { .. })), "{again:?}");
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 8);
}

#[tokio::test]
async fn a_send_whose_counts_fail_fails_alone_and_the_sends_beside_it_go_through() {
    let store = fixture().await;
    // The counts of one recipient's inbox cannot change: on SQLite they are written for the
    // whole transaction of sends, then by the trigger, send by send; on PostgreSQL the
    // trigger writes their changes.
    let counts = match store.backend() {
        store::Backend::Sqlite => "mailbox_counts",
        store::Backend::Postgres => "mailbox_count_changes",
    };
    let failing = request(ids::THOMAS, &[&format!("p:{}", ids::SOPHIE)], "Collègue", "x");
    refused_by_a_trigger(&store, counts, &format!("NEW.owner_id = '{}'", ids::SOPHIE)).await;

    fails_alone_beside_seven_sends_to_the_class(&store, &failing).await;

    no_more_trigger(&store, counts).await;
    let again = store.send_message(&failing).await.unwrap();
    assert!(matches!(again, Ok(SendOutcome::Sent { .. })), "{again:?}");
    assert_eq!(store.mailbox(ids::SOPHIE, &Folder::Inbox, 1).await.unwrap().total, 1);
    assert_eq!(store.recount_mailboxes().await.unwrap(), 0);
}

#[tokio::test]
async fn the_wait_for_the_hourly_cap_counts_the_sends_before_it_in_its_transaction_once() {
    let store = fixture().await;
    // A pupil may send 20 messages an hour: 18 already, 5 s apart, the last 3,000 s ago.
    let now = store::now_unix();
    for n in 0..18 {
        execute(
            &store,
            "INSERT INTO messages (id, sender_id, thread_id, subject, body_html, body_text, \
             recipients_label, search_text, created_at) \
             VALUES ($1, $2, $1, 'Avant', '', '', '[]', 'avant', CAST($3 AS BIGINT))",
            &[&format!("m-old-{n:02}"), ids::ALICE, &(now - 3_000 - 5 * n).to_string()],
        )
        .await;
    }

    // Three more in one transaction of sends (on SQLite), beside a send whose writes fail:
    // the transaction's writes are then written send by send, the first two before the
    // third's check.
    let failing = request(ids::THOMAS, &CLASS_6A, "Échoue", "Jamais écrit.");
    refused_by_a_trigger(&store, "messages", "NEW.subject = 'Échoue'").await;
    let mut requests = vec![request(ids::THOMAS, &["p:p-alice"], "Premier", "x"), failing];
    for n in 0..3 {
        requests.push(request(ids::ALICE, &["p:t-thomas"], &format!("Question {n}"), "x"));
    }

    let mut waits = Vec::new();
    for (request, answer) in sent_behind_a_first(&store, requests).await {
        match answer {
            Ok(Err(SendRefusal::RateLimited { retry_after_secs })) => waits.push(retry_after_secs),
            Ok(Ok(SendOutcome::Sent { .. })) => {}
            Err(_) if request.subject == "Échoue" => {}
            other => panic!("{other:?}"),
        }
    }
    // The 20th message of the hour before the refused one is the oldest of the 18, sent
    // 3,085 s ago: it leaves the hour in 515 s (a second less if the clock turned since).
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!((513..=515).contains(&waits[0]), "{waits:?}");
    let sent = "SELECT COUNT(*) FROM messages WHERE sender_id = $1";
    assert_eq!(count_for(&store, sent, ids::ALICE).await, 20);
}

const CLASS_6A: [&str; 2] = ["class_pupils:class-6a", "class_parents:class-6a"];

/// A trigger named `refuse_one` that fails any insert or update of a row of `table` for which
/// `condition` (on `NEW`) holds.
async fn refused_by_a_trigger(store: &store::Store, table: &str, condition: &str) {
    if store.backend() == store::Backend::Sqlite {
        for event in ["INSERT", "UPDATE"] {
            execute(
                store,
                &format!(
                    "CREATE TRIGGER refuse_one_{event} BEFORE {event} ON {table} \
                     WHEN {condition} BEGIN SELECT RAISE(ROLLBACK, 'refusé par le test'); END"
                ),
                &[],
            )
            .await;
        }
    } else {
        let condition = condition.replace('\'', "''");
        execute(
            store,
            &format!(
                "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS \
                 'BEGIN IF {condition} THEN RAISE EXCEPTION ''refusé par le test''; \
                 END IF; RETURN NEW; END'"
            ),
            &[],
        )
        .await;
        execute(
            store,
            &format!(
                "CREATE TRIGGER refuse_one BEFORE INSERT OR UPDATE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION refuse_one()"
            ),
            &[],
        )
        .await;
    }
}

async fn no_more_trigger(store: &store::Store, table: &str) {
    if store.backend() == store::Backend::Sqlite {
        execute(store, "DROP TRIGGER refuse_one_INSERT", &[]).await;
        execute(store, "DROP TRIGGER refuse_one_UPDATE", &[]).await;
    } else {
        execute(store, &format!("DROP TRIGGER refuse_one ON {table}"), &[]).await;
    }
}

/// `requests`, all made at once, with their answers in their order. On SQLite the writer is
/// held up meanwhile by a transaction of the test's own, so that all of them but the first
/// wait together for the same transaction of sends (the first to come takes the writer's
/// place and waits alone).
async fn sent_behind_a_first(
    store: &store::Store,
    requests: Vec<SendRequest>,
) -> Vec<(SendRequest, store::StoreResult<Result<SendOutcome, SendRefusal>>)> {
    let held = match store.backend() {
        store::Backend::Sqlite => {
            Some(store.import_test_pool().begin_with("BEGIN IMMEDIATE").await.unwrap())
        }
        store::Backend::Postgres => None,
    };
    let mut tasks = Vec::new();
    for request in requests {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let answer = store.send_message(&request).await;
            (request, answer)
        }));
        if tasks.len() == 1 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    drop(held);

    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// `failing` and seven sends of Thomas's to class 6A and its parents, all at once: the seven
/// are sent with all their entries, `failing` fails and leaves nothing, not even its key. On
/// SQLite `failing` and six of the others share a transaction of sends.
async fn fails_alone_beside_seven_sends_to_the_class(store: &store::Store, failing: &SendRequest) {
    let mut requests = Vec::new();
    for n in 0..7 {
        requests.push(request(ids::THOMAS, &CLASS_6A, &format!("Sortie {n}"), "Départ."));
    }
    requests.insert(4, failing.clone());

    let mut sent = BTreeSet::new();
    for (request, answer) in sent_behind_a_first(store, requests).await {
        match answer {
            Err(_) if request.idempotency_key == failing.idempotency_key => {}
            Ok(Ok(SendOutcome::Sent { message_id, .. })) => {
                sent.insert(message_id);
            }
            other => panic!("{other:?}"),
        }
    }

    assert_eq!(sent.len(), 7);
    assert_eq!(count(store, "SELECT COUNT(*) FROM messages").await, 7);
    assert_eq!(count(store, "SELECT COUNT(*) FROM send_requests").await, 7);
    for message_id in &sent {
        let entries = "SELECT COUNT(*) FROM mailbox_entries WHERE message_id = $1";
        assert_eq!(count_for(store, entries, message_id).await, 6);
    }
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 7);
    assert_eq!(store.mailbox(ids::THOMAS, &Folder::Sent, 1).await.unwrap().total, 7);
}

#[tokio::test]
async fn on_sqlite_sends_are_synced_in_the_database_s_own_log() {
    let store = fixture().await;
    send(&store, ids::THOMAS, &["p:p-alice"], "Un").await;
    match store.sqlite_send_durability().await.unwrap() {
        Some((level, log)) => {
            assert_eq!(level, 1, "the commit writes the log, the sync follows it");
            let log = log.expect("a database in a file has a log to sync");
            let name = log.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.ends_with("-wal"), "{name}");
            assert!(log.is_file(), "{} holds the sends", log.display());
            let database = log.to_string_lossy().trim_end_matches("-wal").to_owned();
            assert!(std::path::Path::new(&database).is_file());
        }
        None => assert_eq!(store.backend(), store::Backend::Postgres),
    }
}

#[tokio::test]
async fn on_sqlite_no_send_is_acknowledged_once_its_log_is_gone() {
    let store = fixture().await;
    send(&store, ids::THOMAS, &["p:p-alice"], "Un").await;
    let Some((_, Some(log))) = store.sqlite_send_durability().await.unwrap() else {
        assert_eq!(store.backend(), store::Backend::Postgres);
        return;
    };

    // Someone removes the log under the running server: the commits that follow go to a file
    // without a name, which no sync can make last.
    std::fs::remove_file(&log).unwrap();
    let outcome = store.send_message(&request(ids::THOMAS, &["p:p-alice"], "Deux", "x")).await;

    assert!(outcome.is_err(), "a send whose log is gone was answered {outcome:?}");
}

/// On SQLite, the database's file and its write-ahead log; `None` on PostgreSQL.
async fn sqlite_files(store: &store::Store) -> Option<(String, std::path::PathBuf)> {
    let Some((_, Some(log))) = store.sqlite_send_durability().await.unwrap() else {
        assert_eq!(store.backend(), store::Backend::Postgres);
        return None;
    };
    let database = log.to_string_lossy().trim_end_matches("-wal").to_owned();
    Some((database, log))
}

#[tokio::test]
async fn on_sqlite_the_log_is_cut_back_once_a_long_reader_lets_it_go() {
    let store = fixture().await;
    let Some((database, log)) = sqlite_files(&store).await else { return };
    let size = || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);

    // A reader holds its snapshot while some 72 MiB are written: nothing can be copied into
    // the database meanwhile, and the log grows past its limit of 64 MiB.
    let limit = store::SQLITE_LOG_LIMIT_BYTES;
    let mut reader = reader_holding_the_log(&database).await;
    execute(&store, "CREATE TABLE filler (bytes BLOB)", &[]).await;
    for _ in 0..72 {
        execute(&store, "INSERT INTO filler VALUES (randomblob(1048576))", &[]).await;
    }
    let grown = size();
    assert!(grown > 72 << 20 && grown > limit, "the log holds {grown} bytes");

    sqlx::query("COMMIT").execute(&mut reader).await.unwrap();
    drop(reader);
    let mut cut = grown;
    for n in 0..50 {
        // Each transaction of sends has the log copied in the background; the next one,
        // finding it all copied, writes it again from its start, cut back to the limit.
        send(&store, ids::THOMAS, &["p:p-alice"], &format!("Après {n}")).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        cut = size();
        if cut <= limit {
            break;
        }
    }
    assert!(cut <= limit, "the log still holds {cut} bytes");
}

#[tokio::test]
async fn on_sqlite_the_sends_of_a_burst_are_copied_into_the_database_once_it_ends() {
    let store = fixture().await;
    let Some((database, _)) = sqlite_files(&store).await else { return };

    // Each send is a transaction of its own, and asks for a checkpoint: the first runs, the
    // others come while it runs or pauses, and one more runs after the pause for them.
    let mut sent = Vec::new();
    for n in 0..6 {
        sent.push(send(&store, ids::THOMAS, &["p:p-alice"], &format!("Rafale {n}")).await);
    }
    assert_eq!(in_database_file(&database, &sent).await, 6, "the last sends stay in the log");

    // A reader holds the log while three more are sent: the checkpoints cannot copy them.
    // Once it lets go, they are copied without waiting for another send.
    let mut reader = reader_holding_the_log(&database).await;
    let mut held = Vec::new();
    for n in 0..3 {
        held.push(send(&store, ids::THOMAS, &["p:p-alice"], &format!("Retenu {n}")).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("COMMIT").execute(&mut reader).await.unwrap();
    drop(reader);
    assert_eq!(in_database_file(&database, &held).await, 3, "the log is never copied");
}

/// A connection to `database` inside a transaction that has read: until it ends, no
/// checkpoint copies what is written after it into the database file.
async fn reader_holding_the_log(database: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let mut reader =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("sqlite://{database}"))
            .await
            .unwrap();
    sqlx::query("BEGIN").execute(&mut reader).await.unwrap();
    sqlx::query("SELECT COUNT(*) FROM messages").fetch_one(&mut reader).await.unwrap();
    reader
}

/// How many of `messages` the database file alone holds (`immutable`: without its log), once
/// it holds them all or after five seconds.
async fn in_database_file(database: &str, messages: &[String]) -> i64 {
    sqlx::any::install_default_drivers();
    let mut found = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let mut file = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{database}?immutable=true"
        ))
        .await
        .unwrap();
        found = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM messages WHERE id IN ('{}')",
            messages.join("', '")
        )))
        .fetch_one(&mut file)
        .await
        .unwrap();
        if found == i64::try_from(messages.len()).unwrap() {
            break;
        }
    }
    found
}

#[tokio::test]
async fn a_refused_send_leaves_nothing_and_the_corrected_form_goes_through_with_its_key() {
    let store = fixture().await;
    let before = snapshot(&store).await;
    let mut request = request(ids::ALICE, &["p:s-helene"], "Question", "Bonjour madame.");

    let refused = store.send_message(&request).await.unwrap();
    assert_eq!(
        refused,
        Err(SendRefusal::Rules(RuleRefusal::NotAllowed { token: "p:s-helene".to_owned() }))
    );
    assert_eq!(snapshot(&store).await, before);
    for (tokens, expected) in [
        (vec!["p:p-chloe"], RuleRefusal::NotAllowed { token: "p:p-chloe".to_owned() }),
        (vec!["p:nobody"], RuleRefusal::Unknown { token: "p:nobody".to_owned() }),
        (vec![], RuleRefusal::Empty),
    ] {
        let mut other = request.clone();
        other.recipients =
            tokens.iter().map(|t| domain::communication::Recipient::parse(t).unwrap()).collect();
        assert_eq!(store.send_message(&other).await.unwrap(), Err(SendRefusal::Rules(expected)));
    }
    let mut blank = request.clone();
    blank.subject = " \u{202E}\t ".to_owned();
    assert_eq!(store.send_message(&blank).await.unwrap(), Err(SendRefusal::EmptySubject));
    let mut orphan = request.clone();
    orphan.mode = ComposeMode::Reply;
    assert_eq!(store.send_message(&orphan).await.unwrap(), Err(SendRefusal::BadParent));
    let mut long = request.clone();
    long.subject = "x".repeat(301);
    assert!(matches!(store.send_message(&long).await, Err(store::StoreError::Conflict(_))));
    assert_eq!(snapshot(&store).await, before);

    request.recipients = vec![domain::communication::Recipient::Person(ids::THOMAS.to_owned())];
    let (message_id, recipients) = send_ok(&store, &request).await;
    assert_eq!(recipients, [ids::THOMAS]);
    assert_eq!(
        store.send_message(&request).await.unwrap(),
        Ok(SendOutcome::Replayed { message_id })
    );
}

#[tokio::test]
async fn the_subject_is_cleaned_and_the_text_is_searchable_by_the_senders_name() {
    let store = fixture().await;
    let mut request = request(ids::ALICE, &["p:t-thomas"], "  Mon\u{0} devoir\u{202E} ", "x");
    request.body_html = "<p>a\u{0}b</p>".to_owned();

    let (message_id, _) = send_ok(&store, &request).await;

    let view = store.open_message(ids::THOMAS, &message_id).await.unwrap();
    assert_eq!(view.subject, "Mon devoir");
    assert_eq!(view.body_html, "<p>ab</p>");
    assert_eq!(view.thread_id, message_id);
    let found = store.search_mailbox(ids::THOMAS, "martin", 1).await.unwrap();
    assert_eq!(found.total, 1);
}

#[tokio::test]
async fn a_pupil_cannot_reach_more_than_fifty_people_at_once() {
    let store = fixture().await;
    class_of(&store, 52).await;
    let before = snapshot(&store).await;

    let refused = store
        .send_message(&request(ids::ALICE, &["class_pupils:class-6a"], "Fête", "Samedi !"))
        .await
        .unwrap();
    assert_eq!(refused, Err(SendRefusal::TooManyRecipients { max: 50 }));
    assert_eq!(snapshot(&store).await, before);

    let (_, recipients) =
        send_ok(&store, &request(ids::THOMAS, &["class_pupils:class-6a"], "Fête", "Samedi !"))
            .await;
    assert_eq!(recipients.len(), 52, "a teacher is not capped at 50");
}

/// A class of `size` pupils: 6A's two and `size - 2` more, `p-many-0`, `p-many-1`, …
async fn class_of(store: &store::Store, size: usize) {
    let more = (size - 2).to_string();
    let numbers = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n \
                   WHERE i + 1 < CAST($1 AS BIGINT))";
    execute(
        store,
        &format!(
            "{numbers} INSERT INTO people (id, source, external_id, profile, last_name, \
             first_name, created_at, updated_at) SELECT 'p-many-' || i, 'aaf', 'p-many-' || i, \
             'pupil', 'Nombreux', 'Élève' || i, 0, 0 FROM n"
        ),
        &[&more],
    )
    .await;
    execute(
        store,
        &format!(
            "{numbers} INSERT INTO pupil_classes (pupil_id, class_id, entry_date) \
             SELECT 'p-many-' || i, 'class-6a', '2025-09-01' FROM n"
        ),
        &[&more],
    )
    .await;
}

#[tokio::test]
async fn sends_of_every_size_reach_each_recipient_once_and_nobody_else() {
    let store = fixture().await;
    // Sizes around the powers of two that the statements are padded to.
    class_of(&store, 257).await;
    let everyone = "SELECT COUNT(*) FROM mailbox_entries WHERE message_id = $1";
    let inboxes = "SELECT COUNT(*) FROM mailbox_entries WHERE message_id = $1 \
                   AND folder = 'inbox' AND unread = 1";

    let (message_id, reached) = send_ok(
        &store,
        &request(ids::THOMAS, &["class_pupils:class-6a", "p:p-many-0"], "Tous", "Bonjour"),
    )
    .await;
    assert_eq!(reached.len(), 257, "p-many-0 is in the class too, and reached once");
    assert_eq!(count_for(&store, everyone, &message_id).await, 258);
    assert_eq!(count_for(&store, inboxes, &message_id).await, 257);
    assert_eq!(store.message_recipient_ids(&message_id).await.unwrap().len(), 257);

    for size in [1_usize, 2, 3, 127, 128, 129] {
        let tokens: Vec<String> = (0..size).map(|n| format!("p:p-many-{n}")).collect();
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let (message_id, reached) =
            send_ok(&store, &request(ids::THOMAS, &tokens, &format!("À {size}"), "Bonjour")).await;
        assert_eq!(reached.len(), size);
        assert_eq!(count_for(&store, everyone, &message_id).await, (size + 1) as i64);
        assert_eq!(store.message_recipient_ids(&message_id).await.unwrap().len(), size);
    }
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM mailbox_entries WHERE owner_id = ''").await
            + count(&store, "SELECT COUNT(*) FROM messages WHERE recipient_ids LIKE '%\"\"%'")
                .await,
        0,
        "the padding of the statements is never written"
    );
    let last = store.mailbox("p-many-0", &Folder::Inbox, 1).await.unwrap();
    assert_eq!((last.total, store.unread_count("p-many-0").await.unwrap()), (7, 7));
    let untouched = store.mailbox("p-many-200", &Folder::Inbox, 1).await.unwrap();
    assert_eq!(untouched.total, 1, "only the message to the class");
}

#[tokio::test]
async fn a_teacher_reaches_a_class_as_large_as_their_cap() {
    let store = fixture().await;
    class_of(&store, 1_500).await;

    let (message_id, reached) =
        send_ok(&store, &request(ids::THOMAS, &["class_pupils:class-6a"], "Tous", "Bonjour")).await;

    assert_eq!(reached.len(), 1_500);
    let entries = "SELECT COUNT(*) FROM mailbox_entries WHERE message_id = $1";
    assert_eq!(count_for(&store, entries, &message_id).await, 1_501);
    assert_eq!(store.unread_count("p-many-1497").await.unwrap(), 1);
}

/// `count` messages from Alice to Bruno, sent 3,000 seconds ago.
async fn sent_by_alice_fifty_minutes_ago(store: &store::Store, count: usize) {
    for n in 0..count {
        send(store, ids::ALICE, &["p:p-bruno"], &format!("Message {n}")).await;
    }
    execute(
        store,
        "UPDATE messages SET created_at = created_at - 3000 WHERE sender_id = $1",
        &[ids::ALICE],
    )
    .await;
}

#[tokio::test]
async fn a_pupil_sends_at_most_twenty_messages_an_hour() {
    let store = fixture().await;
    sent_by_alice_fifty_minutes_ago(&store, 20).await;
    let before = snapshot(&store).await;

    let refused = store.send_message(&request(ids::ALICE, &["p:p-bruno"], "Encore", "x")).await;

    let Ok(Err(SendRefusal::RateLimited { retry_after_secs })) = refused else {
        panic!("not rate limited: {refused:?}");
    };
    assert!((595..=601).contains(&retry_after_secs), "{retry_after_secs}");
    assert_eq!(snapshot(&store).await, before);
    send(&store, ids::THOMAS, &["p:p-bruno"], "Pas limité").await;

    execute(
        &store,
        "UPDATE messages SET created_at = created_at - 700 WHERE sender_id = $1",
        &[ids::ALICE],
    )
    .await;
    send(&store, ids::ALICE, &["p:p-bruno"], "Une heure plus tard").await;
}

#[tokio::test]
async fn concurrent_sends_of_one_pupil_stop_at_the_cap_and_count_each_mailbox_once() {
    let store = fixture().await;
    sent_by_alice_fifty_minutes_ago(&store, 15).await;

    // Ten at once, mostly written in one transaction of sends on SQLite: the five that fit
    // under the cap of twenty go, whichever they are, and the cap counts them all.
    let mut sent = 0;
    for answer in burst(&store, ids::ALICE, ids::BRUNO, 10).await {
        match answer {
            Ok(SendOutcome::Sent { .. }) => sent += 1,
            Err(SendRefusal::RateLimited { retry_after_secs }) => {
                // The oldest of the twenty, sent 3,000 seconds ago, leaves the hour first.
                assert!((595..=601).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(sent, 5);
    let alice_sent = "SELECT COUNT(*) FROM messages WHERE sender_id = $1";
    assert_eq!(count_for(&store, alice_sent, ids::ALICE).await, 20);

    // A sender whose cap is reached by the sends of one burst alone waits the whole hour.
    let mut refused = 0;
    for answer in burst(&store, ids::BRUNO, ids::ALICE, 24).await {
        match answer {
            Ok(SendOutcome::Sent { .. }) => {}
            Err(SendRefusal::RateLimited { retry_after_secs }) => {
                assert!((3_595..=3_600).contains(&retry_after_secs), "{retry_after_secs}");
                refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(refused, 4);

    // Each mailbox counted once per message, whether its transaction of sends counted it or
    // the trigger did; and the trigger counts again once the transactions are over.
    assert_eq!(store.mailbox(ids::BRUNO, &Folder::Inbox, 1).await.unwrap().total, 20);
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 20);
    assert_eq!(store.recount_mailboxes().await.unwrap(), 0);
    if store.backend() == store::Backend::Sqlite {
        let by_hand = "SELECT COUNT(*) FROM mailbox_counting WHERE by_triggers <> 1";
        assert_eq!(count(&store, by_hand).await, 0);
    }
}

/// `count` sends of `sender`'s to `recipient`, all made at once; their answers.
async fn burst(
    store: &store::Store,
    sender: &str,
    recipient: &str,
    count: usize,
) -> Vec<Result<SendOutcome, SendRefusal>> {
    let mut tasks = Vec::new();
    for n in 0..count {
        let store = store.clone();
        let to = format!("p:{recipient}");
        let request = request(sender, &[&to], &format!("Rafale {n}"), "x");
        tasks.push(tokio::spawn(async move { store.send_message(&request).await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap().unwrap());
    }
    answers
}

#[tokio::test]
async fn a_frozen_or_inactive_sender_sends_nothing() {
    let store = fixture().await;
    execute(&store, "UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::ALICE]).await;
    execute(&store, "UPDATE people SET active = 0 WHERE id = $1", &[ids::BRUNO]).await;
    let before = snapshot(&store).await;

    let frozen = store.send_message(&request(ids::ALICE, &["p:p-bruno"], "Salut", "x")).await;
    let inactive = store.send_message(&request(ids::BRUNO, &["p:p-alice"], "Salut", "x")).await;
    let nobody = store.send_message(&request("nobody", &["p:p-alice"], "Salut", "x")).await;

    assert_eq!(frozen.unwrap(), Err(SendRefusal::Frozen));
    assert_eq!(inactive.unwrap(), Err(SendRefusal::Frozen));
    assert_eq!(nobody.unwrap(), Err(SendRefusal::Frozen));
    assert_eq!(snapshot(&store).await, before);
}

fn upload(name: &str) -> NewAttachment {
    NewAttachment {
        display_name: name.to_owned(),
        content_type: "application/pdf".to_owned(),
        size_bytes: 1234,
        sha256: "ab".repeat(32),
        storage_key: store::new_id(),
    }
}

#[tokio::test]
async fn attachments_travel_with_the_message_and_only_the_senders_own_or_forwarded_ones() {
    let store = fixture().await;
    let thomas_file = store.create_attachment(ids::THOMAS, &upload("sortie.pdf")).await.unwrap();
    let chloe_file = store.create_attachment(ids::CHLOE, &upload("chloe.pdf")).await.unwrap();
    let mut with_file = request(ids::THOMAS, &["p:p-alice"], "Autorisation", "Ci-joint.");
    with_file.attachment_ids = vec![thomas_file.id.clone()];

    let (message_id, _) = send_ok(&store, &with_file).await;

    let view = store.open_message(ids::ALICE, &message_id).await.unwrap();
    assert_eq!(view.attachments, std::slice::from_ref(&thomas_file));
    assert!(
        store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().messages[0].has_attachments
    );
    assert_eq!(store.attachment_for(ids::ALICE, &thomas_file.id).await.unwrap().id, thomas_file.id);
    assert!(matches!(
        store.attachment_for(ids::BRUNO, &thomas_file.id).await,
        Err(store::StoreError::NotFound)
    ));

    let before = snapshot(&store).await;
    for file in [&thomas_file.id, &chloe_file.id, &"missing".to_owned()] {
        let mut stolen = request(ids::ALICE, &["p:p-bruno"], "Regarde", "x");
        stolen.attachment_ids = vec![file.clone()];
        assert_eq!(store.send_message(&stolen).await.unwrap(), Err(SendRefusal::BadAttachment));
    }
    let mut too_many = request(ids::THOMAS, &["p:p-alice"], "Trop", "x");
    too_many.attachment_ids = (0..11).map(|n| format!("a{n}")).collect();
    assert_eq!(store.send_message(&too_many).await.unwrap(), Err(SendRefusal::BadAttachment));
    assert_eq!(snapshot(&store).await, before);

    let mut forward = request(ids::ALICE, &["p:p-bruno"], "Tr: Autorisation", "Regarde.");
    forward.mode = ComposeMode::Forward;
    forward.parent_id = Some(message_id.clone());
    forward.attachment_ids = vec![thomas_file.id.clone()];
    let (forwarded, _) = send_ok(&store, &forward).await;
    assert_eq!(store.attachment_for(ids::BRUNO, &thomas_file.id).await.unwrap().id, thomas_file.id);
    let view = store.open_message(ids::BRUNO, &forwarded).await.unwrap();
    assert_eq!(view.thread_id, message_id);
    assert_eq!(view.parent_id.as_deref(), Some(message_id.as_str()));
}

#[tokio::test]
async fn a_reply_stays_in_the_thread_and_needs_the_parent_in_the_senders_mailbox() {
    let store = fixture().await;
    let first = send(&store, ids::THOMAS, &["p:p-alice"], "Question").await;
    let other = send(&store, ids::THOMAS, &["p:p-bruno"], "Autre").await;

    let mut reply = request(ids::ALICE, &["p:t-thomas"], "Re: Question", "Réponse");
    reply.mode = ComposeMode::Reply;
    reply.parent_id = Some(first.clone());
    let (reply_id, _) = send_ok(&store, &reply).await;
    let mut foreign = reply.clone();
    foreign.idempotency_key = store::new_id();
    foreign.parent_id = Some(other.clone());
    let refused = store.send_message(&foreign).await.unwrap();

    assert_eq!(refused, Err(SendRefusal::BadParent));
    let view = store.open_message(ids::THOMAS, &reply_id).await.unwrap();
    assert_eq!(view.thread_id, first);
    assert_eq!(view.thread.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [first.as_str()]);
}
