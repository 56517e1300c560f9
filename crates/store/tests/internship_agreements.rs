//! Agreements in the store, on both engines: creation from a confirmed application with every
//! party pre-filled from the directory, one agreement per application, the order of the
//! stages (host, then school), the checks before freezing (required fields, the hours of
//! minors), signatures by each role with a session and refusals for the wrong role, who may
//! read an agreement (IDOR), the single-use links and their codes (replay, expiry, wrong code,
//! older version), a change after a signature voiding every signature, one signature per role
//! and version, the head's signing of a selection, signatures on paper, and cancellation.

use domain::internship::agreement::DayHours;
use domain::internship::{AgreementState, SignatoryRole, WeekHours};
use store::fixtures::ids as base;
use store::fixtures::internship::{FixtureOffer, ids, weeks};
use store::internship::agreements::{HostPart, SchoolOutcome, SchoolPart};
use store::internship::signatures::{LinkSignOutcome, LinkState, SignContext};
use store::{StoreError, now_unix};

const BASE_URL: &str = "http://127.0.0.1:8080";

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    store
}

/// A confirmed application of `pupil` (of `school`) to a new bakery offer, for the first week.
async fn confirmed_application(store: &store::Store, pupil: &str, school: &str) -> String {
    let offer = store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();
    let id = format!("app-{pupil}");
    let week = weeks()[0].to_string();
    let now = now_unix().to_string();
    store
        .fixture_execute(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'confirmed', CAST($6 AS BIGINT), CAST($6 AS BIGINT))",
            &[&id, &offer, pupil, school, &week, &now],
        )
        .await
        .unwrap();
    id
}

fn day(start_h: u16, end_h: u16, break_minutes: u16) -> Option<DayHours> {
    Some(DayHours { start: start_h * 60, end: end_h * 60, break_minutes })
}

fn lawful_hours() -> WeekHours {
    WeekHours {
        days: [day(9, 17, 60), day(9, 17, 60), day(9, 12, 0), day(9, 17, 60), day(9, 16, 60), None],
    }
}

/// The bakery's part; its representative is Hugues, a member (who signs with his session).
fn host_part() -> HostPart {
    HostPart {
        representative_name: "Hugues Meunier".to_owned(),
        representative_role: "Gérant".to_owned(),
        representative_email: "h-hugues@example.org".to_owned(),
        representative_phone: "05 49 00 00 00".to_owned(),
        tutor_name: "Hugues Meunier".to_owned(),
        tutor_role: "Maître boulanger".to_owned(),
        tutor_email: "tuteur@example.org".to_owned(),
        tutor_phone: String::new(),
        internship_address: String::new(),
        host_insurer: "MAIF, contrat 1234".to_owned(),
        planned_activities: "Pétrir, façonner, cuire ; accueillir les clients.".to_owned(),
        meals: "Repas tiré du sac.".to_owned(),
        hours: lawful_hours(),
    }
}

/// The school's part as the agreement's snapshot has it.
async fn school_part(store: &store::Store, viewer: &str, id: &str) -> SchoolPart {
    let record = store.agreement_for_viewer(viewer, id).await.unwrap().unwrap();
    let content = record.content;
    SchoolPart {
        pupil_address: content.pupil_address,
        pupil_phone: content.pupil_phone,
        guardians: content.guardians,
        referent_teacher_id: content.referent_teacher_id,
        health_plan: content.health_plan,
        school_extra_article: content.school_extra_article,
        delegation_date: content.delegation_date,
    }
}

fn context() -> SignContext {
    SignContext { ip: "127.0.0.1".to_owned(), user_agent: "test".to_owned(), now: now_unix() }
}

/// Zoé's agreement, completed by the bakery and frozen by Hélène: being signed.
async fn frozen_agreement(store: &store::Store) -> String {
    let application = confirmed_application(store, ids::ZOE, base::SCHOOL_1).await;
    let id = store.fixture_create_agreement(&application).await.unwrap();
    store.save_host_part(ids::HUGUES, &id, &host_part(), now_unix()).await.unwrap();
    let part = school_part(store, base::HELENE, &id).await;
    let outcome =
        store.save_school_part(base::HELENE, &id, &part, true, BASE_URL, now_unix()).await.unwrap();
    assert_eq!(outcome, SchoolOutcome::Frozen { links: 1 }, "the tutor's link only");
    id
}

async fn sha(store: &store::Store, id: &str) -> String {
    let record = store.agreement_for_viewer(base::HELENE, id).await.unwrap().unwrap();
    record.document_sha256.unwrap()
}

/// The token of the last signing link e-mailed to `email`.
async fn link_token(store: &store::Store, email: &str) -> String {
    let mails = store.fixture_internship_mails(email).await.unwrap();
    let body = &mails.iter().rev().find(|(_, body)| body.contains("/signature/")).unwrap().1;
    let start = body.find("/signature/").unwrap() + "/signature/".len();
    body[start..].chars().take_while(char::is_ascii_hexdigit).collect()
}

/// The last code e-mailed to `email`.
async fn last_code(store: &store::Store, email: &str) -> String {
    let mails = store.fixture_internship_mails(email).await.unwrap();
    let body = &mails.iter().rev().find(|(subject, _)| subject.contains("code")).unwrap().1;
    let start = body.find(" : ").unwrap() + 3;
    body[start..start + 6].to_owned()
}

/// Signs every session role of Zoé's agreement but the head's.
async fn sign_sessions_but_head(store: &store::Store, id: &str) {
    let sha = sha(store, id).await;
    for (person, role) in [
        (ids::HUGUES, SignatoryRole::HostRepresentative),
        (base::SOPHIE, SignatoryRole::ReferentTeacher),
        (ids::ZOE, SignatoryRole::Pupil),
        (ids::YVES, SignatoryRole::Guardian1),
        (ids::INES, SignatoryRole::Guardian2),
    ] {
        let signed = store.sign_with_session(person, id, role, &sha, &context()).await.unwrap();
        assert!(!signed.completed, "{role:?} is not the last");
    }
}

async fn sign_by_link(store: &store::Store, email: &str, id: &str) -> LinkSignOutcome {
    let token = link_token(store, email).await;
    store.send_link_code(&token, false, now_unix()).await.unwrap();
    let code = last_code(store, email).await;
    store.sign_with_link(&token, &code, &sha(store, id).await, &context()).await.unwrap()
}

#[tokio::test]
async fn an_agreement_is_created_from_a_confirmed_application_with_every_party() {
    let store = fixture().await;
    let application = confirmed_application(&store, ids::ZOE, base::SCHOOL_1).await;

    let id = store.fixture_create_agreement(&application).await.unwrap();

    let record = store.agreement_for_viewer(ids::ZOE, &id).await.unwrap().unwrap();
    assert_eq!(record.state, AgreementState::HostPending);
    assert_eq!(record.version, 1);
    assert!(record.document_sha256.is_none() && record.signatures.is_empty());
    let content = &record.content;
    assert_eq!(content.pupil_name, "Zoé L'Hôte-Éluard");
    assert_eq!(content.pupil_birth_date, "2012-04-18");
    assert_eq!(content.pupil_class, "3A");
    assert!(content.pupil_address.contains("Vouneuil-sous-Biard"), "{}", content.pupil_address);
    let guardians: Vec<&str> = content.guardians.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(guardians, ["Yves L'Hôte", "Inès Éluard"]);
    assert_eq!(content.guardians[0].email, "r-yves@example.org");
    assert_eq!(content.guardians[1].person_id, ids::INES);
    assert!(content.guardians[0].address.contains("86580"));
    assert_eq!(content.school_name, "Collège Jean Moulin");
    assert_eq!(content.school_uai, base::UAI_1);
    assert_eq!(content.school_address, "1 rue du Collège, 86000 Poitiers");
    assert_eq!(content.school_email, "ce.0860001A@ac-poitiers.fr");
    assert_eq!(
        (content.head_person_id.as_str(), content.head_name.as_str()),
        (base::HELENE, "Hélène Roux")
    );
    assert_eq!(content.referent_teacher_id, base::SOPHIE);
    assert_eq!(content.referent_teacher_name, "Sophie Lambert");
    assert_eq!(content.delegation_date, "2026-09-15");
    assert_eq!(content.host_name, "Boulangerie Éluard & Fils");
    assert_eq!(content.host_siret, ids::BAKERY_SIRET);
    assert_eq!(content.host_address, "12 rue Carnot, 86000 Poitiers");
    assert_eq!(content.representative_name, "Hugues Meunier");
    assert_eq!(content.representative_email, "contact@example.org");
    assert_eq!(content.tutor_name, "Hugues Meunier");
    assert_eq!(content.tutor_role, "Maître boulanger");
    assert_eq!(content.tutor_email, "tuteur@example.org");
    assert_eq!(content.host_activity, "Agroalimentaire");
    assert_eq!(content.iso_week, weeks()[0].to_string());
    assert_eq!(content.first_day, weeks()[0].monday().to_string());
    assert_eq!(content.last_day, weeks()[0].day(jiff::civil::Weekday::Friday).to_string());

    // The head of collège 2 is Marc (direction), the referent of 3B is Hugo.
    let application = confirmed_application(&store, ids::FATIMA, base::SCHOOL_2).await;
    let id = store.fixture_create_agreement(&application).await.unwrap();
    let content = store.agreement_for_viewer(ids::FATIMA, &id).await.unwrap().unwrap().content;
    assert_eq!(content.head_name, "Marc Blanc");
    assert_eq!(content.referent_teacher_id, base::HUGO);
    assert_eq!(content.pupil_name, "فاطمة الزهراء بن علي");
    assert_eq!(content.guardians.len(), 1);
}

#[tokio::test]
async fn one_application_has_one_agreement_and_only_once_confirmed() {
    let store = fixture().await;
    let application = confirmed_application(&store, ids::ZOE, base::SCHOOL_1).await;
    store.fixture_create_agreement(&application).await.unwrap();

    let again = store.fixture_create_agreement(&application).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let now = now_unix().to_string();
    let raw = store
        .fixture_execute(
            "INSERT INTO internship_agreements (id, application_id, school_id, state, content, \
             created_at, updated_at) VALUES ('dup', $1, $2, 'host_pending', '{}', \
             CAST($3 AS BIGINT), CAST($3 AS BIGINT))",
            &[&application, base::SCHOOL_1, &now],
        )
        .await;
    assert!(raw.is_err(), "the database refuses a second agreement");

    let other = confirmed_application(&store, ids::MINH, base::SCHOOL_1).await;
    store
        .fixture_execute(
            "UPDATE internship_applications SET state = 'accepted' WHERE id = $1",
            &[&other],
        )
        .await
        .unwrap();
    let refused = store.fixture_create_agreement(&other).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert!(matches!(
        store.fixture_create_agreement("no-such-application").await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn the_host_completes_first_then_the_school_validates_and_freezes() {
    let store = fixture().await;
    let application = confirmed_application(&store, ids::ZOE, base::SCHOOL_1).await;
    let id = store.fixture_create_agreement(&application).await.unwrap();
    let part = school_part(&store, base::HELENE, &id).await;

    let early = store.save_school_part(base::HELENE, &id, &part, false, BASE_URL, now_unix()).await;
    assert!(
        matches!(&early, Err(StoreError::Conflict(reason)) if reason.contains("organisme")),
        "{early:?}"
    );

    let incomplete = HostPart { host_insurer: String::new(), ..host_part() };
    let refused = store.save_host_part(ids::HUGUES, &id, &incomplete, now_unix()).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(reason)) if reason.contains("assureur")),
        "{refused:?}"
    );
    let too_long = HostPart { planned_activities: "é".repeat(1_501), ..host_part() };
    assert!(matches!(
        store.save_host_part(ids::HUGUES, &id, &too_long, now_unix()).await,
        Err(StoreError::Conflict(_))
    ));
    let state = store.save_host_part(ids::HUGUES, &id, &host_part(), now_unix()).await.unwrap();
    assert_eq!(state, AgreementState::SchoolPending);

    let saved = store.save_school_part(base::HELENE, &id, &part, false, BASE_URL, now_unix());
    assert_eq!(saved.await.unwrap(), SchoolOutcome::Saved);
    let frozen = store.save_school_part(base::HELENE, &id, &part, true, BASE_URL, now_unix());
    assert_eq!(frozen.await.unwrap(), SchoolOutcome::Frozen { links: 1 });

    let record = store.agreement_for_viewer(base::HELENE, &id).await.unwrap().unwrap();
    assert_eq!(record.state, AgreementState::Signing);
    assert_eq!(record.version, 1);
    assert!(record.frozen_at.is_some());
    let pdf = formats::agreement_pdf::render_frozen(&record.content, &id, 1).unwrap();
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&pdf))
    };
    assert_eq!(record.document_sha256.as_deref(), Some(expected.as_str()));
    let mails = store.fixture_internship_mails("tuteur@example.org").await.unwrap();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].1.contains(&format!("{BASE_URL}/signature/")));
    assert!(store.fixture_internship_mails("h-hugues@example.org").await.unwrap().is_empty());
}

#[tokio::test]
async fn freezing_is_refused_with_long_days_or_missing_fields_and_lists_them() {
    let store = fixture().await;
    let application = confirmed_application(&store, ids::ZOE, base::SCHOOL_1).await;
    let id = store.fixture_create_agreement(&application).await.unwrap();
    let mut long_days = host_part();
    long_days.hours.days[0] = day(8, 17, 30);
    store.save_host_part(ids::HUGUES, &id, &long_days, now_unix()).await.unwrap();

    let mut part = school_part(&store, base::HELENE, &id).await;
    part.pupil_address = String::new();
    part.delegation_date = String::new();
    part.guardians[1].email = String::new();
    part.guardians[1].phone = String::new();
    let outcome =
        store.save_school_part(base::HELENE, &id, &part, true, BASE_URL, now_unix()).await.unwrap();

    let SchoolOutcome::Refused(reasons) = outcome else { panic!("{outcome:?}") };
    assert!(reasons.iter().any(|r| r.contains("7 heures")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("l'adresse de l'élève")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("délibération")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("représentant légal 2")), "{reasons:?}");
    let record = store.agreement_for_viewer(base::HELENE, &id).await.unwrap().unwrap();
    assert_eq!(record.state, AgreementState::SchoolPending);
    assert!(record.document_sha256.is_none());
    assert!(!record.content.pupil_address.is_empty(), "nothing saved on a refusal");

    let bad_date = SchoolPart { delegation_date: "15/09/2026".to_owned(), ..part };
    let outcome = store.save_school_part(base::HELENE, &id, &bad_date, false, BASE_URL, now_unix());
    assert!(matches!(outcome.await.unwrap(), SchoolOutcome::Refused(_)));
}

#[tokio::test]
async fn every_role_signs_with_its_session_or_link_and_the_last_completes() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;

    sign_sessions_but_head(&store, &id).await;
    let outcome = sign_by_link(&store, "tuteur@example.org", &id).await;
    assert_eq!(outcome, LinkSignOutcome::Signed { agreement_id: id.clone(), completed: false });
    let record = store.agreement_for_viewer(base::HELENE, &id).await.unwrap().unwrap();
    assert_eq!(record.missing_roles(), [SignatoryRole::Head]);

    let signed = store
        .sign_with_session(
            base::HELENE,
            &id,
            SignatoryRole::Head,
            &sha(&store, &id).await,
            &context(),
        )
        .await
        .unwrap();
    assert!(signed.completed);

    let record = store.agreement_for_viewer(ids::ZOE, &id).await.unwrap().unwrap();
    assert_eq!(record.state, AgreementState::Signed);
    assert_eq!(record.signatures.len(), 7);
    let sha = record.document_sha256.clone().unwrap();
    for signature in &record.signatures {
        assert_eq!(signature.document_sha256, sha);
        assert_eq!(signature.version, 1);
        assert_eq!(signature.ip, "127.0.0.1");
        assert_eq!(signature.user_agent, "test");
    }
    let head = record.signatures.iter().find(|s| s.role == SignatoryRole::Head).unwrap();
    assert_eq!((head.signer_name.as_str(), head.method.as_str()), ("Hélène Roux", "session"));
    assert_eq!(head.person_id.as_deref(), Some(base::HELENE));
    let tutor = record.signatures.iter().find(|s| s.role == SignatoryRole::Tutor).unwrap();
    assert_eq!((tutor.method.as_str(), tutor.person_id.as_deref()), ("link", None));
}

#[tokio::test]
async fn signing_as_a_role_one_does_not_hold_is_refused_and_writes_nothing() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let sha = sha(&store, &id).await;

    for (person, role) in [
        (ids::ZOE, SignatoryRole::Head),
        (ids::YVES, SignatoryRole::Guardian2),
        (ids::INES, SignatoryRole::Guardian1),
        (ids::YVES, SignatoryRole::Pupil),
        (base::SOPHIE, SignatoryRole::Head),
        (base::HELENE, SignatoryRole::Pupil),
        (ids::HUGUES, SignatoryRole::Tutor),
        (base::AGNES, SignatoryRole::Head),
    ] {
        let refused = store.sign_with_session(person, &id, role, &sha, &context()).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{person} as {role:?}: {refused:?}"
        );
    }
    // Strangers do not even learn that the agreement exists.
    for person in [base::MARC, ids::GAELLE, ids::KIM, ids::MINH, base::HUGO] {
        let ctx = context();
        let refused = store.sign_with_session(person, &id, SignatoryRole::Head, &sha, &ctx);
        assert!(matches!(refused.await, Err(StoreError::NotFound)), "{person}");
    }
    // The hash of another document is refused.
    let stale = store
        .sign_with_session(ids::ZOE, &id, SignatoryRole::Pupil, &"0".repeat(64), &context())
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))));
    let count = store
        .fixture_count("SELECT COUNT(*) FROM internship_signatures WHERE agreement_id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn only_the_parties_read_an_agreement() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;

    for party in
        [ids::ZOE, ids::YVES, ids::INES, base::SOPHIE, base::HELENE, ids::HUGUES, base::AGNES]
    {
        assert!(store.agreement_for_viewer(party, &id).await.unwrap().is_some(), "{party}");
        assert_eq!(store.agreements_for_viewer(party).await.unwrap().len(), 1, "{party}");
    }
    // Another school's head, another host, another pupil and their guardian, a teacher.
    for stranger in [base::MARC, ids::GAELLE, ids::MINH, ids::KIM, base::HUGO, base::THOMAS] {
        assert!(store.agreement_for_viewer(stranger, &id).await.unwrap().is_none(), "{stranger}");
        assert!(store.agreements_for_viewer(stranger).await.unwrap().is_empty(), "{stranger}");
    }
    assert!(store.school_agreements(base::MARC, base::UAI_1).await.unwrap().is_none());
    let (_, list) = store.school_agreements(base::HELENE, base::UAI_1).await.unwrap().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].missing.len(), 7);

    // Another school's head and another host cannot complete it either.
    let part = school_part(&store, base::HELENE, &id).await;
    let other_head = store.save_school_part(base::MARC, &id, &part, true, BASE_URL, now_unix());
    assert!(matches!(other_head.await, Err(StoreError::NotFound)));
    let other_host = store.save_host_part(ids::GAELLE, &id, &host_part(), now_unix()).await;
    assert!(matches!(other_host, Err(StoreError::NotFound)));
    let pupil = store.save_host_part(ids::ZOE, &id, &host_part(), now_unix()).await;
    assert!(matches!(pupil, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn a_link_signs_once_with_its_code_and_never_otherwise() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let token = link_token(&store, "tuteur@example.org").await;
    let sha = sha(&store, &id).await;

    let view = store.sign_link_view(&token, now_unix()).await.unwrap().unwrap();
    assert_eq!((view.state, view.role), (LinkState::Open, SignatoryRole::Tutor));
    assert_eq!(view.masked_email, "t…@example.org");
    assert!(store.sign_link_view("not-a-token", now_unix()).await.unwrap().is_none());

    // No code sent yet: nothing signs.
    let early = store.sign_with_link(&token, "123456", &sha, &context()).await.unwrap();
    assert!(matches!(early, LinkSignOutcome::WrongCode { .. }), "{early:?}");

    store.send_link_code(&token, false, now_unix()).await.unwrap();
    let code = last_code(&store, "tuteur@example.org").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let outcome = store.sign_with_link(&token, wrong, &sha, &context()).await.unwrap();
    assert_eq!(outcome, LinkSignOutcome::WrongCode { tries_left: 3 });

    let signed = store.sign_with_link(&token, &code, &sha, &context()).await.unwrap();
    assert!(matches!(signed, LinkSignOutcome::Signed { .. }), "{signed:?}");
    let replay = store.sign_with_link(&token, &code, &sha, &context()).await.unwrap();
    assert!(matches!(replay, LinkSignOutcome::Refused(_)), "{replay:?}");
    let view = store.sign_link_view(&token, now_unix()).await.unwrap().unwrap();
    assert_eq!(view.state, LinkState::Used);
    let count = store
        .fixture_count("SELECT COUNT(*) FROM internship_signatures WHERE agreement_id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn an_expired_link_an_expired_code_and_five_wrong_codes_never_sign() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let sha = sha(&store, &id).await;
    let token = link_token(&store, "tuteur@example.org").await;

    // An expired code.
    store.send_link_code(&token, false, now_unix()).await.unwrap();
    let code = last_code(&store, "tuteur@example.org").await;
    store
        .fixture_execute(
            "UPDATE internship_sign_links SET code_expires_at = code_expires_at - 601",
            &[],
        )
        .await
        .unwrap();
    let late = store.sign_with_link(&token, &code, &sha, &context()).await.unwrap();
    assert!(matches!(late, LinkSignOutcome::WrongCode { .. }), "{late:?}");

    // Five wrong codes block the link, even with the right one afterwards.
    store.send_link_code(&token, false, now_unix()).await.unwrap();
    let code = last_code(&store, "tuteur@example.org").await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    for _ in 0..4 {
        store.sign_with_link(&token, wrong, &sha, &context()).await.unwrap();
    }
    let blocked = store.sign_with_link(&token, &code, &sha, &context()).await.unwrap();
    assert!(matches!(blocked, LinkSignOutcome::Refused(_)), "{blocked:?}");
    assert_eq!(
        store.sign_link_view(&token, now_unix()).await.unwrap().unwrap().state,
        LinkState::Blocked
    );

    // The school sends a new link; it expires after seven days.
    let sent = store.resend_sign_links(base::HELENE, &id, BASE_URL, now_unix()).await.unwrap();
    assert_eq!(sent, 1);
    assert!(store.sign_link_view(&token, now_unix()).await.unwrap().is_none(), "the old one died");
    let token = link_token(&store, "tuteur@example.org").await;
    store.send_link_code(&token, false, now_unix()).await.unwrap();
    let code = last_code(&store, "tuteur@example.org").await;
    store
        .fixture_execute("UPDATE internship_sign_links SET expires_at = expires_at - 604801", &[])
        .await
        .unwrap();
    let expired = store.sign_with_link(&token, &code, &sha, &context()).await.unwrap();
    assert!(matches!(expired, LinkSignOutcome::Refused(_)), "{expired:?}");
    assert!(matches!(
        store.resend_sign_links(base::MARC, &id, BASE_URL, now_unix()).await,
        Err(StoreError::NotFound)
    ));
    let count = store
        .fixture_count("SELECT COUNT(*) FROM internship_signatures WHERE agreement_id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_change_after_a_signature_voids_every_signature_and_needs_new_ones() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let old_token = link_token(&store, "tuteur@example.org").await;
    store.send_link_code(&old_token, false, now_unix()).await.unwrap();
    let old_code = last_code(&store, "tuteur@example.org").await;
    let old_sha = sha(&store, &id).await;
    sign_sessions_but_head(&store, &id).await;

    // The host changes the activities: version 2, back to the school, signatures voided.
    let changed = HostPart { planned_activities: "Observer la vente.".to_owned(), ..host_part() };
    let state = store.save_host_part(ids::HUGUES, &id, &changed, now_unix()).await.unwrap();
    assert_eq!(state, AgreementState::SchoolPending);
    let record = store.agreement_for_viewer(base::HELENE, &id).await.unwrap().unwrap();
    assert_eq!(record.version, 2);
    assert!(record.signatures.is_empty());
    assert!(record.document_sha256.is_none() && record.frozen_at.is_none());
    let voided = store
        .fixture_count(
            "SELECT COUNT(*) FROM internship_signatures WHERE agreement_id = $1 \
             AND voided_at IS NOT NULL AND version = 1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(voided, 5);

    // The old link (and its code) for version 1 no longer signs.
    let outcome = store.sign_with_link(&old_token, &old_code, &old_sha, &context()).await;
    assert!(matches!(outcome, Err(StoreError::NotFound)), "the link died: {outcome:?}");

    // The school validates again: a new document, and everyone signs again.
    let part = school_part(&store, base::HELENE, &id).await;
    let frozen = store.save_school_part(base::HELENE, &id, &part, true, BASE_URL, now_unix());
    assert_eq!(frozen.await.unwrap(), SchoolOutcome::Frozen { links: 1 });
    let new_sha = sha(&store, &id).await;
    assert_ne!(new_sha, old_sha);
    let ctx = context();
    let stale = store.sign_with_session(ids::ZOE, &id, SignatoryRole::Pupil, &old_sha, &ctx);
    assert!(matches!(stale.await, Err(StoreError::Conflict(_))));
    sign_sessions_but_head(&store, &id).await;
    let outcome = sign_by_link(&store, "tuteur@example.org", &id).await;
    assert!(matches!(outcome, LinkSignOutcome::Signed { completed: false, .. }));
    let head = store.sign_with_session(base::HELENE, &id, SignatoryRole::Head, &new_sha, &ctx);
    assert!(head.await.unwrap().completed);

    // Editing the signed agreement voids its signatures too.
    let part = SchoolPart { school_extra_article: "Tenue de travail fournie.".to_owned(), ..part };
    let saved = store.save_school_part(base::HELENE, &id, &part, false, BASE_URL, now_unix());
    assert_eq!(saved.await.unwrap(), SchoolOutcome::Saved);
    let record = store.agreement_for_viewer(base::HELENE, &id).await.unwrap().unwrap();
    assert_eq!((record.state, record.version), (AgreementState::SchoolPending, 3));
    assert!(record.signatures.is_empty() && record.sealed_file_key.is_none());

    // Saving the same content again changes nothing.
    let frozen = store.save_school_part(base::HELENE, &id, &part, true, BASE_URL, now_unix());
    assert!(matches!(frozen.await.unwrap(), SchoolOutcome::Frozen { .. }));
    store.save_host_part(ids::HUGUES, &id, &changed, now_unix()).await.unwrap();
    let record = store.agreement_for_viewer(base::HELENE, &id).await.unwrap().unwrap();
    assert_eq!((record.state, record.version), (AgreementState::Signing, 3));
}

#[tokio::test]
async fn a_role_signs_a_version_once() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let sha = sha(&store, &id).await;
    store.sign_with_session(ids::ZOE, &id, SignatoryRole::Pupil, &sha, &context()).await.unwrap();

    let again =
        store.sign_with_session(ids::ZOE, &id, SignatoryRole::Pupil, &sha, &context()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // Paper cannot add a second one either, nor can the database.
    let paper = store
        .sign_on_paper(base::HELENE, &id, SignatoryRole::Pupil, &sha, "scan-key", &context())
        .await;
    assert!(matches!(paper, Err(StoreError::Conflict(_))), "{paper:?}");
    let now = now_unix().to_string();
    let raw = store
        .fixture_execute(
            "INSERT INTO internship_signatures (id, agreement_id, role, version, document_sha256, \
             signer_name, method, signed_at) VALUES ('dup', $1, 'pupil', 1, $2, 'X', 'session', \
             CAST($3 AS BIGINT))",
            &[&id, &sha, &now],
        )
        .await;
    assert!(raw.is_err(), "UNIQUE (agreement_id, role, version)");
}

#[tokio::test]
async fn the_head_signs_a_selection_each_checked() {
    let store = fixture().await;
    let first = frozen_agreement(&store).await;
    let application = confirmed_application(&store, ids::MINH, base::SCHOOL_1).await;
    let second = store.fixture_create_agreement(&application).await.unwrap();
    store.save_host_part(ids::HUGUES, &second, &host_part(), now_unix()).await.unwrap();
    let part = school_part(&store, base::HELENE, &second).await;
    store.save_school_part(base::HELENE, &second, &part, true, BASE_URL, now_unix()).await.unwrap();
    let application = confirmed_application(&store, ids::LEO, base::SCHOOL_2).await;
    let elsewhere = store.fixture_create_agreement(&application).await.unwrap();

    let items = vec![
        (first.clone(), sha(&store, &first).await),
        (second.clone(), "f".repeat(64)),
        (elsewhere.clone(), String::new()),
    ];
    let results =
        store.sign_selection_as_head(base::HELENE, base::UAI_1, &items, &context()).await.unwrap();

    assert!(results[0].1.is_ok(), "{results:?}");
    assert!(results[1].1.as_ref().is_err_and(|r| r.contains("changé")), "{results:?}");
    assert!(results[2].1.is_err(), "another school's agreement");
    let items = vec![(second.clone(), sha(&store, &second).await)];
    let results =
        store.sign_selection_as_head(base::MARC, base::UAI_1, &items, &context()).await.unwrap();
    assert!(results[0].1.is_err(), "Marc does not head collège 1");
    let heads = store
        .fixture_count("SELECT COUNT(*) FROM internship_signatures WHERE role = 'head'", &[])
        .await
        .unwrap();
    assert_eq!(heads, 1);
}

#[tokio::test]
async fn the_school_marks_a_paper_signature_with_its_scan() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let sha = sha(&store, &id).await;

    let refused = store
        .sign_on_paper(base::MARC, &id, SignatoryRole::Guardian2, &sha, "scan-1", &context())
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    let refused = store
        .sign_on_paper(ids::HUGUES, &id, SignatoryRole::Guardian2, &sha, "scan-1", &context())
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    store
        .sign_on_paper(base::HELENE, &id, SignatoryRole::Guardian2, &sha, "scan-1", &context())
        .await
        .unwrap();

    let record = store.agreement_for_viewer(ids::INES, &id).await.unwrap().unwrap();
    let paper = &record.signatures[0];
    assert_eq!(paper.role, SignatoryRole::Guardian2);
    assert_eq!((paper.method.as_str(), paper.signer_name.as_str()), ("paper", "Inès Éluard"));
    assert_eq!(paper.scan_file_key.as_deref(), Some("scan-1"));
    assert_eq!(paper.recorded_by.as_deref(), Some(base::HELENE));
    assert_eq!(paper.person_id.as_deref(), Some(ids::INES));
    let scan = store.paper_scan_for_viewer(ids::YVES, &id, SignatoryRole::Guardian2).await;
    assert_eq!(scan.unwrap().as_deref(), Some("scan-1"));
    assert!(
        store
            .paper_scan_for_viewer(ids::KIM, &id, SignatoryRole::Guardian2)
            .await
            .unwrap()
            .is_none()
    );
}

/// The school cannot sign the head's part on paper (the head signs online), and the host is
/// told by e-mail of a paper signature recorded in its name.
#[tokio::test]
async fn a_paper_signature_never_stands_for_the_head_and_the_host_hears_of_its_own() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let sha = sha(&store, &id).await;

    let refused = store
        .sign_on_paper(base::HELENE, &id, SignatoryRole::Head, &sha, "scan-1", &context())
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");

    let record = store.agreement_for_viewer(base::HELENE, &id).await.unwrap().unwrap();
    let tutor_email = record.content.tutor_email.clone();
    let before = store.fixture_internship_mails(&tutor_email).await.unwrap().len();
    store
        .sign_on_paper(base::HELENE, &id, SignatoryRole::Tutor, &sha, "scan-2", &context())
        .await
        .unwrap();
    let mails = store.fixture_internship_mails(&tutor_email).await.unwrap();
    assert_eq!(mails.len(), before + 1);
    assert!(mails.iter().any(|(subject, _)| subject == "Signature sur papier enregistrée"));
}

#[tokio::test]
async fn a_representative_without_an_account_gets_a_link_and_cancellation_ends_it_all() {
    let store = fixture().await;
    let application = confirmed_application(&store, ids::ZOE, base::SCHOOL_1).await;
    let id = store.fixture_create_agreement(&application).await.unwrap();
    let part = HostPart { representative_email: "direction@example.org".to_owned(), ..host_part() };
    store.save_host_part(ids::HUGUES, &id, &part, now_unix()).await.unwrap();
    let school = school_part(&store, base::HELENE, &id).await;
    let outcome = store.save_school_part(base::HELENE, &id, &school, true, BASE_URL, now_unix());
    assert_eq!(outcome.await.unwrap(), SchoolOutcome::Frozen { links: 2 });
    let outcome = sign_by_link(&store, "direction@example.org", &id).await;
    assert!(matches!(outcome, LinkSignOutcome::Signed { .. }), "{outcome:?}");
    let record = store.agreement_for_viewer(ids::ZOE, &id).await.unwrap().unwrap();
    assert_eq!(record.signatures[0].role, SignatoryRole::HostRepresentative);
    assert_eq!(record.signatures[0].signer_name, "Hugues Meunier");

    let token = link_token(&store, "tuteur@example.org").await;
    store.fixture_cancel_agreement(&application).await.unwrap();
    let record = store.agreement_for_viewer(ids::ZOE, &id).await.unwrap().unwrap();
    assert_eq!(record.state, AgreementState::Cancelled);
    assert!(store.sign_link_view(&token, now_unix()).await.unwrap().is_none());
    let refused = store
        .sign_with_session(ids::ZOE, &id, SignatoryRole::Pupil, &sha(&store, &id).await, &context())
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
    // Cancelling an application without an agreement does nothing.
    store.fixture_cancel_agreement("no-such-application").await.unwrap();
}

#[tokio::test]
async fn two_last_signatures_given_at_once_complete_the_agreement() {
    let store = fixture().await;
    let id = frozen_agreement(&store).await;
    let sha = sha(&store, &id).await;
    for (person, role) in [
        (ids::HUGUES, SignatoryRole::HostRepresentative),
        (base::SOPHIE, SignatoryRole::ReferentTeacher),
        (ids::YVES, SignatoryRole::Guardian1),
        (ids::INES, SignatoryRole::Guardian2),
    ] {
        store.sign_with_session(person, &id, role, &sha, &context()).await.unwrap();
    }
    let outcome = sign_by_link(&store, "tuteur@example.org", &id).await;
    assert!(matches!(outcome, LinkSignOutcome::Signed { completed: false, .. }));

    let tasks = [(ids::ZOE, SignatoryRole::Pupil), (base::HELENE, SignatoryRole::Head)].map(
        |(person, role)| {
            let (store, id, sha) = (store.store.clone(), id.clone(), sha.clone());
            tokio::spawn(async move {
                store.sign_with_session(person, &id, role, &sha, &context()).await.unwrap()
            })
        },
    );
    let mut completed = 0;
    for task in tasks {
        completed += usize::from(task.await.unwrap().completed);
    }

    assert_eq!(completed, 1, "exactly one of them completes it");
    assert_eq!(state(&store, &id).await, AgreementState::Signed);
}

async fn state(store: &store::Store, id: &str) -> AgreementState {
    store.agreement_for_viewer(base::HELENE, id).await.unwrap().unwrap().state
}

/// The agreement names the chef d'établissement (D0010), not a deputy (D0011) whose name comes
/// first in the alphabet; a school with only a deputy names them with their delegation.
#[tokio::test]
async fn the_head_named_is_the_chef_not_a_deputy() {
    let store = fixture().await;
    store.fixture_person("s-abadie", "staff", "Abadie", "Pierre", None).await.unwrap();
    for sql in [
        "INSERT INTO person_functions (person_id, school_id, code, label, discipline_code, \
         discipline_label) VALUES ('s-abadie', $1, 'DIR', 'DIRECTION', 'D0011', \
         'CHEF D''ETABLISSEMENT ADJOINT')",
        "UPDATE person_functions SET discipline_code = 'D0010' WHERE person_id = 's-helene' \
         AND school_id = $1",
    ] {
        store.fixture_execute(sql, &[base::SCHOOL_1]).await.unwrap();
    }

    let application = confirmed_application(&store, ids::ZOE, base::SCHOOL_1).await;
    let id = store.fixture_create_agreement(&application).await.unwrap();
    let record = store.agreement_for_viewer(ids::ZOE, &id).await.unwrap().unwrap();
    assert_eq!(record.content.head_name, "Hélène Roux");
    assert_eq!(record.content.head_role, "Chef d'établissement");

    store
        .fixture_execute(
            "DELETE FROM person_functions WHERE person_id = 's-helene' AND school_id = $1",
            &[base::SCHOOL_1],
        )
        .await
        .unwrap();
    let application = confirmed_application(&store, ids::MINH, base::SCHOOL_1).await;
    let id = store.fixture_create_agreement(&application).await.unwrap();
    let record = store.agreement_for_viewer(ids::MINH, &id).await.unwrap().unwrap();
    assert_eq!(record.content.head_name, "Pierre Abadie");
    assert!(record.content.head_role.contains("adjoint"), "{}", record.content.head_role);
}
