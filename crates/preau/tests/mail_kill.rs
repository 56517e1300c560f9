//! No loss, no duplicates, with the real server: a burst of sends over HTTP from several
//! senders at once, the server killed (`kill -9`) in the middle of it and restarted on the same
//! database; every send that was acknowledged is in each of its recipients' mailboxes exactly
//! once, nothing is half there, and the sends that got no answer, sent again with their key,
//! end up sent exactly once. And the same key sent 50 times at once makes one message. On the
//! backend `PREAU_TEST_DATABASE` names.

mod mail_common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mail_common::{Db, Server, Session, fixture_db, ids, session};
use tokio::sync::Mutex;

/// One sender of the burst, and the groups they write to.
struct Sender {
    person_id: &'static str,
    recipients: &'static [&'static str],
}

const SENDERS: [Sender; 4] = [
    Sender {
        person_id: ids::THOMAS,
        recipients: &["class_pupils:class-6a", "class_parents:class-6a"],
    },
    Sender {
        person_id: ids::SOPHIE,
        recipients: &["class_pupils:class-6b", "class_parents:class-6b"],
    },
    Sender { person_id: ids::HELENE, recipients: &["school_parents:school-1"] },
    Sender {
        person_id: ids::HUGO,
        recipients: &["class_pupils:class-5a", "class_parents:class-5a"],
    },
];

/// How many sends each sender tries at most before the kill stops them.
const SENDS_PER_SENDER: usize = 40;
/// The server is killed once this many sends were acknowledged.
const KILL_AFTER_ACKS: usize = 24;

/// What one send attempt became.
#[derive(Debug, Clone)]
enum Attempt {
    /// The server answered with the message (303 to it).
    Acknowledged(String),
    /// No answer: the connection broke (the kill) or another status came back.
    Unanswered,
}

/// The subject of a send: unique per key, so that a message can be found by it.
fn subject(key: &str) -> String {
    format!("Essai {key}")
}

async fn count(db: &Db, sql: &'static str, params: &[&str]) -> i64 {
    db.store.fixture_count(sql, params).await.unwrap()
}

/// Every message in the database is whole: one mailbox entry per recipient plus the sender's,
/// its send request done and pointing to it, and its outbox entry.
async fn assert_nothing_half_there(db: &Db) {
    let broken = count(
        db,
        "SELECT COUNT(*) FROM messages m WHERE \
         NOT EXISTS (SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id \
           AND e.owner_id = m.sender_id AND e.origin = 'sent') \
         OR NOT EXISTS (SELECT 1 FROM send_requests s WHERE s.message_id = m.id \
           AND s.state = 'done' AND s.sender_id = m.sender_id) \
         OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subject_id = m.id \
           AND o.kind = 'message_sent')",
        &[],
    )
    .await;
    assert_eq!(broken, 0, "messages without all their parts");

    let inboxes = db
        .store
        .rules_test_rows(
            "SELECT e.message_id, e.owner_id FROM mailbox_entries e WHERE e.origin = 'inbox' \
             ORDER BY e.message_id, e.owner_id",
        )
        .await
        .unwrap();
    let mut reached: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in inboxes {
        let [Some(message_id), Some(owner_id)] = <[Option<String>; 2]>::try_from(row).unwrap()
        else {
            panic!("an inbox entry without its message or owner");
        };
        reached.entry(message_id).or_default().push(owner_id);
    }
    let messages = db.store.rules_test_rows("SELECT id FROM messages").await.unwrap();
    for row in messages {
        let message_id = row[0].clone().unwrap();
        let recipients = db.store.message_recipient_ids(&message_id).await.unwrap();
        assert!(!recipients.is_empty(), "message {message_id} without recipients");
        let mut entries = reached.remove(&message_id).unwrap_or_default();
        entries.sort();
        assert_eq!(entries, recipients, "message {message_id}: inboxes and recipients differ");
    }
    assert!(reached.is_empty(), "mailbox entries of messages that do not exist: {reached:?}");
}

/// The message of `key` exists once, and each of its recipients has it once in their inbox.
async fn assert_sent_exactly_once(db: &Db, sender: &str, key: &str, message_id: Option<&str>) {
    let subject = subject(key);
    let messages = count(
        db,
        "SELECT COUNT(*) FROM messages WHERE sender_id = $1 AND subject = $2",
        &[sender, &subject],
    )
    .await;
    assert_eq!(messages, 1, "key {key}: {messages} messages");
    if let Some(message_id) = message_id {
        let same = count(
            db,
            "SELECT COUNT(*) FROM messages WHERE id = $1 AND subject = $2",
            &[message_id, &subject],
        )
        .await;
        assert_eq!(same, 1, "key {key}: the acknowledged id is not its message");
        let recipients = db.store.message_recipient_ids(message_id).await.unwrap();
        assert!(!recipients.is_empty());
        for recipient in &recipients {
            let entries = count(
                db,
                "SELECT COUNT(*) FROM mailbox_entries WHERE owner_id = $1 AND message_id = $2 \
                 AND folder = 'inbox'",
                &[recipient, message_id],
            )
            .await;
            assert_eq!(entries, 1, "key {key}: {recipient} has it {entries} times");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_no_acknowledged_send_and_leaves_nothing_half_there() {
    let db = fixture_db().await;
    let mut sessions = Vec::new();
    for sender in &SENDERS {
        sessions.push(session(&db.store, sender.person_id).await);
    }
    let mut server = Server::start(&db, "a", &[]).await;

    // Each sender can reach its groups: one send each before the burst, checked.
    for (sender, session) in SENDERS.iter().zip(&sessions) {
        let key = store::new_id();
        let reply = server
            .send(session, &key, sender.recipients, &subject(&key), "Bonjour.")
            .await
            .unwrap();
        assert_eq!(reply.status, 303, "{}: {}", sender.person_id, reply.body);
    }

    let attempts: Arc<Mutex<BTreeMap<String, (usize, Attempt)>>> = Arc::default();
    let acks = Arc::new(AtomicUsize::new(0));
    let port = server.port;
    let mut tasks = Vec::new();
    for (index, session) in sessions.iter().enumerate() {
        let session = session.clone();
        let attempts = attempts.clone();
        let acks = acks.clone();
        tasks.push(tokio::spawn(async move {
            let probe = mail_common::Client { port };
            for _ in 0..SENDS_PER_SENDER {
                let key = store::new_id();
                let recipients = SENDERS[index].recipients;
                let reply = probe
                    .send(&session, &key, recipients, &subject(&key), "Corps du message.")
                    .await;
                let attempt = match reply {
                    Ok(reply) if reply.status == 303 => match reply.sent_message_id() {
                        Some(id) => Attempt::Acknowledged(id),
                        None => Attempt::Unanswered,
                    },
                    _ => Attempt::Unanswered,
                };
                let answered = matches!(attempt, Attempt::Acknowledged(_));
                attempts.lock().await.insert(key, (index, attempt));
                if answered {
                    acks.fetch_add(1, Ordering::SeqCst);
                } else {
                    // The server is gone: this sender stops, as a browser would.
                    break;
                }
            }
        }));
    }

    let started = tokio::time::Instant::now();
    while acks.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
        assert!(started.elapsed() < Duration::from_secs(120), "the burst does not progress");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }

    let attempts = attempts.lock().await.clone();
    let acknowledged: Vec<_> = attempts
        .iter()
        .filter_map(|(key, (index, attempt))| match attempt {
            Attempt::Acknowledged(id) => Some((key.clone(), *index, id.clone())),
            Attempt::Unanswered => None,
        })
        .collect();
    let unanswered: Vec<_> = attempts
        .iter()
        .filter(|(_, (_, attempt))| matches!(attempt, Attempt::Unanswered))
        .map(|(key, (index, _))| (key.clone(), *index))
        .collect();
    assert!(acknowledged.len() >= KILL_AFTER_ACKS);
    assert!(!unanswered.is_empty(), "the kill interrupted no send");

    // After the restart: every acknowledged send whole and once; nothing half there.
    let server = Server::start(&db, "b", &[]).await;
    assert_nothing_half_there(&db).await;
    for (key, index, message_id) in &acknowledged {
        assert_sent_exactly_once(&db, SENDERS[*index].person_id, key, Some(message_id)).await;
    }
    for (key, index) in &unanswered {
        let subject = subject(key);
        let found = count(
            &db,
            "SELECT COUNT(*) FROM messages WHERE sender_id = $1 AND subject = $2",
            &[SENDERS[*index].person_id, &subject],
        )
        .await;
        assert!(found <= 1, "key {key}: {found} messages");
    }

    let committed = unanswered.len() - {
        let mut absent = 0;
        for (key, index) in &unanswered {
            let sql = "SELECT COUNT(*) FROM messages WHERE sender_id = $1 AND subject = $2";
            absent += usize::from(
                count(&db, sql, &[SENDERS[*index].person_id, &subject(key)]).await == 0,
            );
        }
        absent
    };
    eprintln!(
        "acknowledged {}, unanswered {} (of which committed before the kill: {committed})",
        acknowledged.len(),
        unanswered.len()
    );

    // The unanswered sends, sent again with their keys, are sent (or replayed) exactly once,
    // at once: a key is claimed in its send's transaction, so a send cut short by the kill
    // left no claim behind (nothing says "in progress", 409).
    for (key, index) in &unanswered {
        let sender = &SENDERS[*index];
        let reply = server
            .send(&sessions[*index], key, sender.recipients, &subject(key), "Corps du message.")
            .await
            .unwrap();
        assert_eq!(reply.status, 303, "key {key}: {}", reply.body);
        assert!(reply.sent_message_id().is_some());
    }
    for (key, index) in &unanswered {
        assert_sent_exactly_once(&db, SENDERS[*index].person_id, key, None).await;
    }
    for (key, index, message_id) in &acknowledged {
        assert_sent_exactly_once(&db, SENDERS[*index].person_id, key, Some(message_id)).await;
    }
    assert_nothing_half_there(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_sends_with_one_key_make_one_message() {
    let db = fixture_db().await;
    let thomas: Session = session(&db.store, ids::THOMAS).await;
    let server = Server::start(&db, "a", &[]).await;
    let key = store::new_id();
    let recipients = ["class_pupils:class-6a", "class_parents:class-6a"];

    let mut tasks = Vec::new();
    for _ in 0..50 {
        let thomas = thomas.clone();
        let key = key.clone();
        let probe = server.client();
        tasks.push(tokio::spawn(async move {
            // Each request is retried, as a client does, while the server says "in progress"
            // (409) or "too many forms at once" (429), until it gets the message.
            let mut statuses = Vec::new();
            for _ in 0..600 {
                let reply = probe
                    .send(&thomas, &key, &recipients, &subject(&key), "Une seule fois.")
                    .await
                    .unwrap();
                statuses.push(reply.status);
                match reply.status {
                    303 => return (statuses, reply.sent_message_id()),
                    409 | 429 => tokio::time::sleep(Duration::from_millis(20)).await,
                    other => panic!("unexpected {other}: {}", reply.body),
                }
            }
            (statuses, None)
        }));
    }
    let mut message_ids = Vec::new();
    let mut answers: BTreeMap<u16, usize> = BTreeMap::new();
    for task in tasks {
        let (statuses, id) = task.await.unwrap();
        for status in &statuses {
            *answers.entry(*status).or_default() += 1;
        }
        message_ids.push(id.unwrap_or_else(|| panic!("never acknowledged: {statuses:?}")));
    }
    eprintln!("answers by status: {answers:?}");
    message_ids.sort();
    message_ids.dedup();
    assert_eq!(message_ids.len(), 1, "several messages: {message_ids:?}");
    assert_sent_exactly_once(&db, ids::THOMAS, &key, Some(&message_ids[0])).await;
    assert_nothing_half_there(&db).await;
    let all =
        count(&db, "SELECT COUNT(*) FROM messages WHERE sender_id = $1", &[ids::THOMAS]).await;
    assert_eq!(all, 1);
}
