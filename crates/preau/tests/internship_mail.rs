//! Internship e-mails through a real SMTP server: a pupil's application queues an e-mail to the
//! host's people (an outbox entry of kind `internship_mail`), and the real `preau serve`
//! binary's outbox worker sends it, then marks it sent and forgets its text; its first hourly
//! pass also expires an application whose deadline passed, and both the host and the family
//! are told. The SMTP server is aiosmtpd on the loopback, as in `mail_smtp.rs`: the test
//! command names it in `PREAU_TEST_SMTP` and `PREAU_TEST_SMTP_DIR`, else the test starts its
//! own with `python3 -m aiosmtpd` and fails pointing to `scripts/test.sh` when it cannot.

mod mail_common;

use std::time::Duration;

use mail_common::smtp::{DEADLINE, body_text, header, smtp, unique_address};
use mail_common::{Server, fixture_db};
use store::fixtures::internship::{FixtureOffer, ids, weeks};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_is_emailed_to_the_host_and_an_expiry_to_both_sides() {
    let smtp = smtp().await;
    let db = fixture_db().await;
    db.store.load_internship_fixture().await.unwrap();
    let host = unique_address("hugues");
    let guardian = unique_address("yves");
    for (person, address) in [(ids::HUGUES, &host), (ids::YVES, &guardian)] {
        db.store
            .fixture_execute("UPDATE people SET email = $2 WHERE id = $1", &[person, address])
            .await
            .unwrap();
    }
    let week = weeks()[0].to_string();
    let fresh = db.store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();
    let stale = db.store.fixture_offer(&FixtureOffer::bakery("Pâtissier")).await.unwrap();
    let now = store::now_unix();
    let motivation = "J'aime le pain de Zoé L'Hôte-Éluard.";
    db.store.submit_application(ids::ZOE, ids::ZOE, &fresh, &week, motivation, now).await.unwrap();
    let expired = db
        .store
        .submit_application(ids::ZOE, ids::YVES, &stale, &week, motivation, now - 20 * 86_400)
        .await
        .unwrap();

    let server = Server::start(&db, "internship", &smtp.env()).await;

    // Two applications, then the expiry of the stale one.
    let received = smtp.wait_for(&host, 3).await;
    let subjects: Vec<&str> = received.iter().filter_map(|e| header(e, "Subject")).collect();
    assert!(subjects.iter().any(|s| s.contains("Nouvelle candidature")), "{subjects:?}");
    let first = body_text(&received[0]);
    assert!(first.contains("Boulanger") || first.contains("Pâtissier"), "{first}");
    assert!(!first.contains("Zoé"), "the host's e-mail does not name the pupil: {first}");
    assert!(first.contains(&server.base_url()), "{first}");
    let family = smtp.wait_for(&guardian, 1).await;
    let news = body_text(&family[0]);
    assert!(news.contains("expiré"), "{news}");
    assert!(news.contains("Pâtissier"), "{news}");

    // Sent once each, marked sent with their text forgotten, and the entries completed.
    let started = tokio::time::Instant::now();
    loop {
        let waiting = db
            .store
            .fixture_count(
                "SELECT COUNT(*) FROM internship_mails WHERE sent_at IS NULL OR body <> ''",
                &[],
            )
            .await
            .unwrap();
        let open = db
            .store
            .fixture_count(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'internship_mail' AND done_at IS NULL",
                &[],
            )
            .await
            .unwrap();
        if waiting == 0 && open == 0 {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "{waiting} e-mails and {open} entries left");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expired_now = db
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM internship_applications WHERE id = $1 AND state = 'expired' \
             AND school_id = $2",
            &[&expired, mail_common::ids::SCHOOL_1],
        )
        .await
        .unwrap();
    assert_eq!(expired_now, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received_for(&host).len(), 3, "no e-mail twice");
    assert_eq!(smtp.received_for(&guardian).len(), 1);
}
