//! Live updates across instances: on PostgreSQL, two `preau serve` on one database; a page open
//! on instance B (its event stream) learns of a message sent through instance A, of its reader
//! reading it or marking it unread on A, and of its recall, within seconds (through
//! LISTEN/NOTIFY). On SQLite, which one instance serves, the
//! same stream on that instance learns of the send and the recall through its own hub. The
//! LISTEN task is also checked on its own, in process.

mod mail_common;

use std::sync::Arc;
use std::time::Duration;

use domain::communication::{GroupKind, Recipient};
use mail_common::{EventStream, Server, fixture_db, ids, session};
use preau::workers::{Publish, WorkerSettings, Workers};
use store::messaging::{ComposeMode, SendOutcome, SendRequest};

/// How long an event may take before the test fails: a failure deadline, not a speed target.
const DEADLINE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_through_one_instance_reaches_a_page_open_on_the_other() {
    let db = fixture_db().await;
    let thomas = session(&db.store, ids::THOMAS).await;
    let alice = session(&db.store, ids::ALICE).await;
    let sender = Server::start(&db, "a", &[]).await;
    let other = if db.is_postgres() { Some(Server::start(&db, "b", &[]).await) } else { None };
    let reader = other.as_ref().unwrap_or(&sender);
    if let Some(other) = &other {
        other.wait_for_log("live : à l'écoute", DEADLINE).await;
    }

    let mut stream = EventStream::open(reader.port, &alice).await;
    assert_eq!(stream.next_event("unread", DEADLINE).await.as_deref(), Some("0"));

    let key = store::new_id();
    let reply = sender
        .send(&thomas, &key, &["class_pupils:class-6a"], "Sortie au musée", "Départ 8 h.")
        .await
        .unwrap();
    assert_eq!(reply.status, 303, "{}", reply.body);
    let message_id = reply.sent_message_id().unwrap();
    let event = stream.next_event("unread", DEADLINE).await;
    assert_eq!(event.as_deref(), Some("1"), "instance logs:\n{}", reader.logs());

    // Alice reads it on the sender's instance (another tab), then marks it unread there: the
    // page open on the other instance follows both.
    let read = sender.get(&format!("/messagerie/messages/{message_id}"), Some(&alice)).await;
    assert_eq!(read.unwrap().status, 200);
    let event = stream.next_event("unread", DEADLINE).await;
    assert_eq!(event.as_deref(), Some("0"), "instance logs:\n{}", reader.logs());
    let unread = sender
        .post_urlencoded(
            "/messagerie/actions",
            &alice,
            &[
                ("csrf_token", alice.csrf.as_str()),
                ("action", "non-lu"),
                ("ids", message_id.as_str()),
                ("retour", "/messagerie/dossiers/reception"),
            ],
        )
        .await
        .unwrap();
    assert!(matches!(unread.status, 200 | 303), "{} {}", unread.status, unread.body);
    let event = stream.next_event("unread", DEADLINE).await;
    assert_eq!(event.as_deref(), Some("1"), "instance logs:\n{}", reader.logs());

    // The recall, made on the sender's instance, takes the message off the other page too.
    let recall = sender
        .post_urlencoded(
            &format!("/messagerie/messages/{message_id}/rappeler"),
            &thomas,
            &[("csrf_token", thomas.csrf.as_str())],
        )
        .await
        .unwrap();
    assert!(matches!(recall.status, 200 | 303), "{} {}", recall.status, recall.body);
    let event = stream.next_event("unread", DEADLINE).await;
    assert_eq!(event.as_deref(), Some("0"), "instance logs:\n{}", reader.logs());
    assert_eq!(db.store.unread_count(ids::ALICE).await.unwrap(), 0);
}

/// The LISTEN task itself, in process: on PostgreSQL, the workers of a second "instance" (their
/// own store on the same database) hear each send and each recall committed through the first,
/// and publish the message's recipients. On SQLite there is no LISTEN task: the workers drain
/// the outbox (without e-mail settings, entries are completed) and publish nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listen_task_publishes_the_recipients_of_sends_and_recalls_of_other_instances() {
    let db = fixture_db().await;
    let config = store::StoreConfig { url: db.url.clone(), max_connections: 2 };
    let other = store::Store::open(&config).await.unwrap();
    let (published, mut heard) = tokio::sync::mpsc::unbounded_channel::<Vec<String>>();
    let publish: Publish = Arc::new(move |ids: &[String]| {
        let _ = published.send(ids.to_vec());
    });
    let settings = WorkerSettings {
        smtp: None,
        base_url: "http://127.0.0.1:8080".to_owned(),
        poll_interval: Duration::from_secs(1),
        database_url: db.url.clone().into(),
    };
    let files_dir = tempfile::tempdir().unwrap();
    let files = store::files::FileStore::local(files_dir.path()).unwrap();
    let workers = Workers::start(other, publish, &settings, files).unwrap();
    if db.is_postgres() {
        let started = tokio::time::Instant::now();
        loop {
            let listening = db
                .store
                .fixture_count(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND query LIKE 'LISTEN%preau_live%'",
                    &[],
                )
                .await
                .unwrap();
            if listening == 1 {
                break;
            }
            assert!(started.elapsed() < DEADLINE, "the LISTEN task never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let request = SendRequest {
        sender_id: ids::THOMAS.to_owned(),
        idempotency_key: store::new_id(),
        recipients: vec![Recipient::Group(GroupKind::ClassPupils, ids::CLASS_6A.to_owned())],
        subject: "Sortie".to_owned(),
        body_html: "<p>Départ 8 h.</p>".to_owned(),
        body_text: "Départ 8 h.".to_owned(),
        mode: ComposeMode::New,
        parent_id: None,
        attachment_ids: Vec::new(),
        draft_id: None,
    };
    let Ok(SendOutcome::Sent { message_id, .. }) = db.store.send_message(&request).await.unwrap()
    else {
        panic!("not sent");
    };
    let pupils = vec![ids::ALICE.to_owned(), ids::BRUNO.to_owned()];
    let done = "SELECT COUNT(*) FROM outbox WHERE subject_id = $1 AND done_at IS NOT NULL";
    if db.is_postgres() {
        let ids = tokio::time::timeout(DEADLINE, heard.recv()).await.unwrap().unwrap();
        assert_eq!(ids, pupils);
        db.store.recall_message(ids::THOMAS, &message_id).await.unwrap();
        let ids = tokio::time::timeout(DEADLINE, heard.recv()).await.unwrap().unwrap();
        assert_eq!(ids, pupils, "a recall changes the same mailboxes");
    } else {
        let started = tokio::time::Instant::now();
        while db.store.fixture_count(done, &[&message_id]).await.unwrap() == 0 {
            assert!(started.elapsed() < DEADLINE, "the outbox entry is never completed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(heard.try_recv().is_err(), "nothing to publish on SQLite");
    }

    let stopping = tokio::time::Instant::now();
    workers.stop(Duration::from_secs(5)).await;
    assert!(stopping.elapsed() < Duration::from_secs(5), "the workers did not stop by themselves");
}
