//! E-mail notifications through a real SMTP server: aiosmtpd on the loopback, which keeps what
//! it receives in a folder (`scripts/smtp_sink.py`). The test command starts it and names it in
//! `PREAU_TEST_SMTP` (address) and `PREAU_TEST_SMTP_DIR` (folder); without them, each test
//! starts its own with `python3 -m aiosmtpd`. Messages are sent through the store (as the web
//! handlers of any instance do), the e-mails by the real `preau serve` binary's outbox worker.
//! A recipient who gave a notification address gets exactly one e-mail per message, even when
//! the outbox entry is handled a second time, and the e-mail never carries the message itself;
//! a relay that does not answer puts the entry back; an entry whose handling fails is put back
//! alone, and the others claimed with it are delivered.

mod mail_common;

use std::time::Duration;

use domain::communication::{GroupKind, Recipient};
use mail_common::smtp::{DEADLINE, body_text, header, smtp, unique_address};
use mail_common::{Db, Server, fixture_db, free_port, ids};
use store::messaging::{ComposeMode, SendOutcome, SendRequest};

/// Thomas writes to the parents of 6A (through the store: any instance's send is this one).
async fn send_to_parents_of_6a(db: &Db, subject: &str, body: &str) -> String {
    let request = SendRequest {
        sender_id: ids::THOMAS.to_owned(),
        idempotency_key: store::new_id(),
        recipients: vec![Recipient::Group(GroupKind::ClassParents, ids::CLASS_6A.to_owned())],
        subject: subject.to_owned(),
        body_html: format!("<p>{body}</p>"),
        body_text: body.to_owned(),
        mode: ComposeMode::New,
        parent_id: None,
        attachment_ids: Vec::new(),
        draft_id: None,
    };
    match db.store.send_message(&request).await.unwrap() {
        Ok(SendOutcome::Sent { message_id, .. }) => message_id,
        other => panic!("not sent: {other:?}"),
    }
}

async fn outbox_done(db: &Db, message_id: &str) -> bool {
    let done = db
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM outbox WHERE subject_id = $1 AND kind = 'message_sent' \
             AND done_at IS NOT NULL",
            &[message_id],
        )
        .await
        .unwrap();
    done == 1
}

async fn wait_until_done(db: &Db, message_id: &str) {
    let started = tokio::time::Instant::now();
    while !outbox_done(db, message_id).await {
        assert!(started.elapsed() < DEADLINE, "the outbox entry is never completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Puts a completed entry back as due, as a crash after the deliveries but before the
/// completion leaves it (the lease has run out).
async fn handle_again(db: &Db, message_id: &str) {
    let reopened = db
        .store
        .fixture_execute(
            "UPDATE outbox SET done_at = NULL, available_at = 0, claimed_by = NULL, \
             claimed_until = NULL WHERE subject_id = $1 AND kind = 'message_sent'",
            &[message_id],
        )
        .await
        .unwrap();
    assert_eq!(reopened, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_recipient_who_asked_gets_one_email_per_message_even_when_it_is_handled_twice() {
    let smtp = smtp().await;
    let db = fixture_db().await;
    let paul = unique_address("paul");
    let quitterie = unique_address("quitterie");
    db.store.set_notify_email(ids::PAUL, Some(&paul)).await.unwrap();
    db.store.set_notify_email(ids::QUITTERIE, Some(&quitterie)).await.unwrap();
    let server = Server::start(&db, "a", &smtp.env()).await;

    let secret = "Rendez-vous confidentiel devant la grille";
    let message_id = send_to_parents_of_6a(&db, "Sortie au musée", secret).await;
    let first = smtp.wait_for(&paul, 1).await.remove(0);
    smtp.wait_for(&quitterie, 1).await;
    wait_until_done(&db, &message_id).await;

    // What the e-mail says, and what it keeps in the ENT.
    let text = body_text(&first);
    assert!(
        text.contains("Vous avez reçu un nouveau message de Thomas Bernard sur Préau"),
        "{text}"
    );
    assert!(text.contains("Objet : Sortie au musée"), "{text}");
    let link = format!("{}/messagerie/messages/{message_id}", server.base_url());
    assert!(text.contains(&link), "{text}");
    assert!(!first.contains("confidentiel") && !text.contains(secret), "{first}");
    assert_eq!(header(&first, "Auto-Submitted"), Some("auto-generated"));
    assert!(
        header(&first, "From").is_some_and(|from| from.contains("ne-pas-repondre@ent.example.fr"))
    );
    let first_id = header(&first, "Message-ID").unwrap().to_owned();

    // Handled a second time (a crash after the deliveries, before the completion): nobody
    // gets a second e-mail.
    handle_again(&db, &message_id).await;
    wait_until_done(&db, &message_id).await;
    assert_eq!(smtp.received_for(&paul).len(), 1);
    assert_eq!(smtp.received_for(&quitterie).len(), 1);
    let attempts = db
        .store
        .fixture_count("SELECT attempts FROM outbox WHERE subject_id = $1", &[&message_id])
        .await
        .unwrap();
    assert!(attempts >= 2, "the entry was not handled again ({attempts})");

    // A crash after the relay accepted an e-mail but before its delivery was recorded sends it
    // again: with the same Message-ID, which lets the receiving server drop the copy.
    db.store
        .fixture_execute(
            "DELETE FROM notification_deliveries WHERE subject_id = $1 AND recipient_id = $2",
            &[&message_id, ids::PAUL],
        )
        .await
        .unwrap();
    handle_again(&db, &message_id).await;
    let both = smtp.wait_for(&paul, 2).await;
    assert_eq!(header(&both[1], "Message-ID"), Some(first_id.as_str()));
    wait_until_done(&db, &message_id).await;
    assert_eq!(smtp.received_for(&quitterie).len(), 1);
    let quitterie_id = header(&smtp.received_for(&quitterie)[0], "Message-ID").map(str::to_owned);
    assert_ne!(quitterie_id.as_deref(), Some(first_id.as_str()), "one Message-ID per recipient");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_does_not_answer_puts_the_entry_back_for_later() {
    let db = fixture_db().await;
    let paul = unique_address("paul");
    db.store.set_notify_email(ids::PAUL, Some(&paul)).await.unwrap();
    // A loopback port where nothing listens.
    let closed = free_port();
    let env = [
        ("PREAU_SMTP_HOST", "127.0.0.1".to_owned()),
        ("PREAU_SMTP_PORT", closed.to_string()),
        ("PREAU_SMTP_TLS", "none".to_owned()),
        ("PREAU_SMTP_FROM", "preau@ent.example.fr".to_owned()),
    ];
    let server = Server::start(&db, "a", &env).await;

    let message_id = send_to_parents_of_6a(&db, "Réunion", "Mardi.").await;

    let started = tokio::time::Instant::now();
    loop {
        let put_back = db
            .store
            .fixture_count(
                "SELECT COUNT(*) FROM outbox WHERE subject_id = $1 AND done_at IS NULL \
                 AND last_error IS NOT NULL AND claimed_until IS NULL \
                 AND available_at > CAST($2 AS BIGINT)",
                &[&message_id, &store::now_unix().to_string()],
            )
            .await;
        if put_back.is_ok_and(|n| n == 1) {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "not put back:\n{}", server.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = db
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM notification_deliveries WHERE subject_id = $1",
            &[&message_id],
        )
        .await
        .unwrap();
    assert_eq!(delivered, 0, "nothing was delivered, nothing is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_that_fails_is_put_back_alone_and_the_others_of_its_batch_go() {
    let smtp = smtp().await;
    let db = fixture_db().await;
    let paul = unique_address("paul");
    db.store.set_notify_email(ids::PAUL, Some(&paul)).await.unwrap();
    // The delivery records of one message are refused: its entry fails after its e-mail.
    let refused = if db.store.backend() == store::Backend::Sqlite {
        vec![
            "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON notification_deliveries \
             WHEN (SELECT subject FROM messages WHERE id = NEW.subject_id) = 'Refusée' \
             BEGIN SELECT RAISE(ABORT, 'refusé par le test'); END",
        ]
    } else {
        vec![
            "CREATE FUNCTION refuse_deliveries() RETURNS trigger LANGUAGE plpgsql AS \
             'BEGIN IF (SELECT subject FROM messages WHERE id = NEW.subject_id) = ''Refusée'' \
             THEN RAISE EXCEPTION ''refusé par le test''; END IF; RETURN NEW; END'",
            "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON notification_deliveries \
             FOR EACH ROW EXECUTE FUNCTION refuse_deliveries()",
        ]
    };
    for sql in refused {
        db.store.fixture_execute(sql, &[]).await.unwrap();
    }
    // Both are due when the worker starts, and claimed together, the failing one first.
    let failing = send_to_parents_of_6a(&db, "Refusée", "Lundi.").await;
    let next = send_to_parents_of_6a(&db, "Sortie", "Mardi.").await;
    let server = Server::start(&db, "a", &smtp.env()).await;

    wait_until_done(&db, &next).await;
    let delivered = db
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM notification_deliveries WHERE subject_id = $1 \
             AND recipient_id = $2",
            &[&next, ids::PAUL],
        )
        .await
        .unwrap();
    assert_eq!(delivered, 1, "{}", server.logs());
    let put_back = db
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM outbox WHERE subject_id = $1 AND done_at IS NULL \
             AND last_error IS NOT NULL AND claimed_until IS NULL",
            &[&failing],
        )
        .await
        .unwrap();
    assert_eq!(put_back, 1, "{}", server.logs());
}
