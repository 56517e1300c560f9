//! A lesson changed within the next days reaches, by e-mail through a real SMTP server, the
//! families concerned who asked for e-mails: the fixture's collège 1 has a timetable (imported
//! from an EDT file whose year surrounds today), its head cancels the next Monday's maths
//! lesson of 6A, and the real `preau serve` binary's outbox worker e-mails the parents of 6A's
//! pupils (not those of 6B), once each even when the entry is handled a second time; a second
//! edit of the same change is announced again. No e-mail names another family's child.
//!
//! The SMTP server is aiosmtpd on the loopback (`scripts/smtp_sink.py` keeps what it receives
//! in a folder): the test command starts it and names it in `PREAU_TEST_SMTP` and
//! `PREAU_TEST_SMTP_DIR`; without them the test starts its own with `python3 -m aiosmtpd`, and
//! fails with a message pointing to `scripts/test.sh` when it cannot (as `mail_smtp.rs` does).

mod mail_common;
mod timetable_support;

use std::time::Duration;

use domain::timetable::SchoolYear;
use jiff::Timestamp;
use jiff::civil::Date;
use mail_common::smtp::{DEADLINE, body_text, smtp, unique_address};
use mail_common::{Db, Server, fixture_db, ids, session};
use store::timetable::{ChangeRequest, ChangeTarget, ImportScope, TimetableSubject};
use timetable_support::{college_1, paris_today, shift};

/// Imports collège 1's timetable for a year that runs from four weeks before today to eight
/// weeks after, whatever the season, and returns the next Monday (tomorrow at the earliest).
async fn import_timetable(db: &Db) -> Date {
    let today = paris_today();
    let monday = domain::timetable::monday_of(today);
    let year = SchoolYear::new(shift(monday, -28), shift(today, 56)).unwrap();
    let xml = college_1(year).to_edt_xml();
    let parsed = formats::timetable::edt::parse(xml.as_bytes(), "EDT.xml").unwrap();
    let report = db
        .store
        .import_timetable(None, ids::SCHOOL_1, "EDT.xml", &parsed, &ImportScope::School)
        .await
        .unwrap();
    assert!(report.rejections.is_empty() && report.problems.is_empty(), "{report:?}");
    shift(monday, 7)
}

/// The course of 6A's Monday maths lesson, and its change's id once there is one.
async fn maths_of_6a(db: &Db, monday: Date) -> (String, Option<String>) {
    let subject = TimetableSubject::Class(ids::CLASS_6A.into());
    let day = db.store.timetable(ids::AGNES, &subject, monday, monday).await.unwrap();
    let maths = day.occurrences.iter().find(|o| o.subject_label == "Mathématiques").unwrap();
    (maths.course_id.clone(), maths.change.as_ref().map(|change| change.id.clone()))
}

/// Waits until every outbox entry of the change is completed.
async fn wait_until_done(db: &Db, change_id: &str) {
    let started = tokio::time::Instant::now();
    loop {
        let pending = db
            .store
            .fixture_count(
                "SELECT COUNT(*) FROM outbox WHERE subject_id = $1 AND kind = 'timetable_change' \
                 AND done_at IS NULL",
                &[change_id],
            )
            .await
            .unwrap();
        if pending == 0 {
            return;
        }
        assert!(started.elapsed() < DEADLINE, "the change's outbox entry is never completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Puts the change's completed entries back as due, as a crash after the deliveries but
/// before the completion leaves them.
async fn handle_again(db: &Db, change_id: &str) {
    let reopened = db
        .store
        .fixture_execute(
            "UPDATE outbox SET done_at = NULL, available_at = 0, claimed_by = NULL, \
             claimed_until = NULL WHERE subject_id = $1 AND kind = 'timetable_change'",
            &[change_id],
        )
        .await
        .unwrap();
    assert!(reopened >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_lesson_is_emailed_once_to_each_family_concerned_and_each_edit_again() {
    let smtp = smtp().await;
    let db = fixture_db().await;
    let monday = import_timetable(&db).await;
    let (course_id, _) = maths_of_6a(&db, monday).await;

    // Alice's parents (Paul, also David's father, and Quitterie), Bruno's mother (Rachel) and
    // Chloé's father (Sami, 6B) asked for e-mails; so did the maths teacher.
    let families: [(&str, String, &[&str]); 4] = [
        (ids::PAUL, unique_address("paul"), &["Alice", "David", "Martin"]),
        (ids::QUITTERIE, unique_address("quitterie"), &["Alice", "Martin"]),
        (ids::RACHEL, unique_address("rachel"), &["Bruno", "Durand"]),
        (ids::SAMI, unique_address("sami"), &["Chloé", "Petit"]),
    ];
    let thomas = unique_address("thomas");
    for (person, address) in
        families.iter().map(|(p, a, _)| (*p, a.as_str())).chain([(ids::THOMAS, thomas.as_str())])
    {
        session(&db.store, person).await;
        db.store.set_notify_email(person, Some(address)).await.unwrap();
    }
    let server = Server::start(&db, "a", &smtp.env()).await;

    let target = ChangeTarget { course_id: course_id.clone(), original_date: monday };
    let cancel = ChangeRequest { cancelled: true, ..ChangeRequest::default() };
    db.store.change_occurrence(ids::HELENE, &target, &cancel, Timestamp::now()).await.unwrap();
    let (_, change_id) = maths_of_6a(&db, monday).await;
    let change_id = change_id.expect("the occurrence is changed");

    let concerned = &families[..3];
    let mut first = Vec::new();
    for (_, address, _) in concerned {
        first.push(smtp.wait_for(address, 1).await.remove(0));
    }
    smtp.wait_for(&thomas, 1).await;
    wait_until_done(&db, &change_id).await;
    let text = body_text(&first[0]);
    assert!(text.contains("Cours annulé : Mathématiques, lundi"), "{text}");
    assert!(text.contains("à 08:00"), "{text}");
    assert!(text.contains(&format!("{}/emploi-du-temps", server.base_url())), "{text}");
    assert!(smtp.received_for(&families[3].1).is_empty(), "6B's families are not concerned");

    // Handled a second time (a crash after the deliveries): nobody gets a second e-mail.
    handle_again(&db, &change_id).await;
    wait_until_done(&db, &change_id).await;
    for (_, address, _) in concerned {
        assert_eq!(smtp.received_for(address).len(), 1, "{address}");
    }
    assert_eq!(smtp.received_for(&thomas).len(), 1);

    // The head edits the same change: it is announced again, once.
    let moved_room =
        ChangeRequest { new_room: Some("Salle 204".to_owned()), ..ChangeRequest::default() };
    db.store.change_occurrence(ids::HELENE, &target, &moved_room, Timestamp::now()).await.unwrap();
    let mut second = Vec::new();
    for (_, address, _) in concerned {
        second.push(smtp.wait_for(address, 2).await.remove(1));
    }
    wait_until_done(&db, &change_id).await;
    handle_again(&db, &change_id).await;
    wait_until_done(&db, &change_id).await;
    for (_, address, _) in concerned {
        assert_eq!(smtp.received_for(address).len(), 2, "{address}");
    }
    let text = body_text(&second[0]);
    assert!(text.contains("Changement de salle : Mathématiques"), "{text}");
    assert!(text.contains("salle Salle 204"), "{text}");
    assert!(smtp.received_for(&families[3].1).is_empty());

    // No e-mail names a child of another family.
    let pupils = ["Alice", "Bruno", "Chloé", "David", "Xavier", "Martin", "Durand", "Petit"];
    for (_, address, own) in &families {
        for email in smtp.received_for(address) {
            let text = format!("{email}\n{}", body_text(&email));
            for name in pupils.iter().filter(|name| !own.contains(name)) {
                assert!(!text.contains(name), "{address} reads {name}:\n{text}");
            }
        }
    }
}
