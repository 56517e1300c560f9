//! Applications to internship offers through the store, on both engines: who may apply (the
//! pupil or a legal guardian, a 3e pupil, an offer open to them), every allowed and forbidden
//! move from every state, the consent a confirmation needs, the supersession of the pupil's
//! other pending applications for the same week only, expiry and reminders with a controlled
//! clock, the e-mails queued for the outbox, the unique constraints (a second application to
//! one offer, a second confirmed internship in one week even when the code is bypassed, a second
//! agreement for one application), the reads of each side (no other pupil's, no other host's),
//! and 20 pupils confirming the last place at the same moment: exactly one wins.

use std::sync::Arc;

use domain::internship::{ApplicationAction, ApplicationActor, ApplicationState};
use store::StoreError;
use store::fixtures::internship::{FixtureOffer, ids, weeks};
use store::internship::applications::HostApplicationFilter;
use store::testing::TestStore;

const DAY: i64 = 86_400;

async fn fixture() -> TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    store
}

fn week(i: usize) -> String {
    weeks()[i].to_string()
}

async fn offer(store: &TestStore, title: &str) -> String {
    store.fixture_offer(&FixtureOffer::bakery(title)).await.unwrap()
}

async fn state_of(store: &TestStore, id: &str) -> String {
    let states = ApplicationState::ALL;
    for state in states {
        let n = store
            .fixture_count(
                "SELECT COUNT(*) FROM internship_applications WHERE id = $1 AND state = $2",
                &[id, state.as_str()],
            )
            .await
            .unwrap();
        if n == 1 {
            return state.as_str().to_owned();
        }
    }
    panic!("application {id} not found")
}

async fn count(store: &TestStore, sql: &'static str, params: &[&str]) -> i64 {
    store.fixture_count(sql, params).await.unwrap()
}

async fn mails_to(store: &TestStore, address: &str) -> i64 {
    count(
        store,
        "SELECT COUNT(*) FROM internship_mails m JOIN outbox o ON o.subject_id = m.id \
         AND o.kind = 'internship_mail' WHERE m.to_email = $1",
        &[address],
    )
    .await
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "expected not found, got {result:?}");
}

const HUGUES_MAIL: &str = "h-hugues@example.org";
const YVES_MAIL: &str = "r-yves@example.org";
const INES_MAIL: &str = "r-ines@example.org";

#[tokio::test]
async fn a_pupil_applies_the_deadline_is_set_and_the_host_is_emailed() {
    let store = fixture().await;
    let offer = offer(&store, "Boulanger").await;
    let now = store::now_unix();

    let id = store
        .submit_application(
            ids::ZOE,
            ids::ZOE,
            &offer,
            &week(0),
            "J'aime le pain.\r\nBeaucoup.",
            now,
        )
        .await
        .unwrap();

    assert_eq!(state_of(&store, &id).await, "submitted");
    let deadline = (now + 15 * DAY).to_string();
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_applications WHERE id = $1 \
             AND CAST(expires_at AS TEXT) = $2 AND school_id = 'school-1'",
            &[&id, &deadline],
        )
        .await,
        1
    );
    let listed = store.family_applications(ids::ZOE, ids::ZOE).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].motivation, "J'aime le pain.\nBeaucoup.");
    assert_eq!(listed[0].state, ApplicationState::Submitted);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_application_events WHERE application_id = $1 \
             AND from_state IS NULL AND to_state = 'submitted' AND actor_id = 'p-zoe'",
            &[&id],
        )
        .await,
        1
    );
    assert_eq!(mails_to(&store, HUGUES_MAIL).await, 1);
    assert_eq!(mails_to(&store, YVES_MAIL).await, 0, "the family is not told of its own move");
}

#[tokio::test]
async fn a_legal_guardian_may_apply_for_their_child_and_nobody_else_may() {
    let store = fixture().await;
    let offer = offer(&store, "Boulanger").await;
    let now = store::now_unix();
    let submit = |actor: &'static str| {
        let store = &store;
        let offer = offer.clone();
        async move {
            store.submit_application(ids::ZOE, actor, &offer, &week(0), "Motivée.", now).await
        }
    };

    not_found(submit(ids::KIM).await);
    not_found(submit(ids::MINH).await);
    not_found(submit(ids::HUGUES).await);
    not_found(submit(store::fixtures::ids::SOPHIE).await);
    let id = submit(ids::INES).await.unwrap();
    assert_eq!(state_of(&store, &id).await, "submitted");

    let message = conflict(submit(ids::ZOE).await);
    assert!(message.contains("existe déjà"), "{message}");
}

#[tokio::test]
async fn bad_motivations_weeks_offers_and_levels_are_refused_in_french() {
    let store = fixture().await;
    let offer = offer(&store, "Boulanger").await;
    let now = store::now_unix();

    for motivation in ["", "  \n ", "a\u{0}b", "tab\there", &"x".repeat(2_001)] {
        conflict(
            store.submit_application(ids::ZOE, ids::ZOE, &offer, &week(0), motivation, now).await,
        );
    }
    assert!(
        store
            .submit_application(ids::ZOE, ids::ZOE, &offer, &week(0), &"é".repeat(2_000), now)
            .await
            .is_ok()
    );
    conflict(store.submit_application(ids::MINH, ids::MINH, &offer, "2027-W99", "Oui.", now).await);
    let other_week = weeks()[1].next().to_string();
    conflict(
        store.submit_application(ids::MINH, ids::MINH, &offer, &other_week, "Oui.", now).await,
    );

    let mut draft = FixtureOffer::bakery("Brouillon");
    draft.state = "draft".to_owned();
    let draft = store.fixture_offer(&draft).await.unwrap();
    conflict(store.submit_application(ids::MINH, ids::MINH, &draft, &week(0), "Oui.", now).await);
    let mut garage = FixtureOffer::bakery("Garage");
    garage.host_id = ids::HOST_GARAGE.to_owned();
    let garage = store.fixture_offer(&garage).await.unwrap();
    conflict(store.submit_application(ids::MINH, ids::MINH, &garage, &week(0), "Oui.", now).await);

    // A 6e pupil of the base fixture, applying for themself.
    let alice = store::fixtures::ids::ALICE;
    let message =
        conflict(store.submit_application(alice, alice, &offer, &week(0), "Oui.", now).await);
    assert!(message.contains("3e"), "{message}");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_applications WHERE pupil_id <> 'p-zoe'",
            &[]
        )
        .await,
        0
    );
}

/// What one operation of the store is, by whom.
#[derive(Debug, Clone, Copy)]
enum Op {
    Read,
    Accept,
    Reject,
    ConfirmByPupil,
    ConfirmByGuardian,
    CancelByPupil,
    CancelByGuardian,
    CancelByHost,
    Consent,
}

const OPS: [Op; 9] = [
    Op::Read,
    Op::Accept,
    Op::Reject,
    Op::ConfirmByPupil,
    Op::ConfirmByGuardian,
    Op::CancelByPupil,
    Op::CancelByGuardian,
    Op::CancelByHost,
    Op::Consent,
];

/// The state after `op` from `state` as the domain's table says, or `None` when refused
/// (consent changes no state: allowed on accepted applications only).
fn expected(state: ApplicationState, op: Op) -> Option<ApplicationState> {
    use ApplicationAction as Do;
    use ApplicationActor as By;
    match op {
        Op::Read => state.apply(Do::Read, By::Host),
        Op::Accept => state.apply(Do::Accept, By::Host),
        Op::Reject => state.apply(Do::Reject, By::Host),
        Op::ConfirmByPupil => state.apply(Do::Confirm, By::Pupil),
        Op::ConfirmByGuardian => state.apply(Do::Confirm, By::Guardian),
        Op::CancelByPupil => state.apply(Do::Cancel, By::Pupil),
        Op::CancelByGuardian => state.apply(Do::Cancel, By::Guardian),
        Op::CancelByHost => state.apply(Do::Cancel, By::Host),
        Op::Consent => (state == ApplicationState::Accepted).then_some(state),
    }
}

async fn run(store: &TestStore, op: Op, id: &str, now: i64) -> Result<(), StoreError> {
    match op {
        Op::Read => store.open_application_as_host(ids::HUGUES, id, now).await.map(|_| ()),
        Op::Accept => store.accept_application(ids::HUGUES, id, now).await,
        Op::Reject => store.reject_application(ids::HUGUES, id, now).await,
        Op::ConfirmByPupil => store.confirm_application(ids::ZOE, id, now).await.map(|_| ()),
        Op::ConfirmByGuardian => store.confirm_application(ids::YVES, id, now).await.map(|_| ()),
        Op::CancelByPupil => store.cancel_application(ids::ZOE, id, now).await,
        Op::CancelByGuardian => store.cancel_application(ids::INES, id, now).await,
        Op::CancelByHost => store.cancel_application(ids::HUGUES, id, now).await,
        Op::Consent => store.consent_application(ids::YVES, id, now).await,
    }
}

/// Every operation from every state, through the store: an allowed move lands where the
/// domain's table says (with its history row), a forbidden one is a French conflict and
/// changes nothing. The application starts in each state by a direct write, with consent given,
/// so that only the state decides.
#[tokio::test]
async fn every_move_from_every_state_is_allowed_or_refused_as_the_table_says() {
    let store = fixture().await;
    let now = store::now_unix();
    for state in ApplicationState::ALL {
        for op in OPS {
            store
                .fixture_execute(
                    "UPDATE internship_applications SET state = 'expired', expires_at = NULL \
                     WHERE pupil_id = 'p-zoe'",
                    &[],
                )
                .await
                .unwrap();
            let offer = offer(&store, &format!("{state:?} {op:?}")).await;
            let id = store
                .submit_application(ids::ZOE, ids::ZOE, &offer, &week(0), "Motivée.", now)
                .await
                .unwrap();
            store
                .fixture_execute(
                    "UPDATE internship_applications SET state = $2, consent_by = 'r-ines', \
                     consent_at = 1 WHERE id = $1",
                    &[&id, state.as_str()],
                )
                .await
                .unwrap();
            let events_before = count(
                &store,
                "SELECT COUNT(*) FROM internship_application_events WHERE application_id = $1",
                &[&id],
            )
            .await;

            let result = run(&store, op, &id, now).await;

            let after = state_of(&store, &id).await;
            let events = count(
                &store,
                "SELECT COUNT(*) FROM internship_application_events WHERE application_id = $1",
                &[&id],
            )
            .await;
            match (expected(state, op), op) {
                (_, Op::Read) => {
                    // Opening is allowed to the host whatever the state; it reads only a
                    // submitted one.
                    result.unwrap();
                    let next = state.apply(ApplicationAction::Read, ApplicationActor::Host);
                    assert_eq!(after, next.unwrap_or(state).as_str(), "{state:?} {op:?}");
                }
                (Some(next), _) => {
                    assert!(result.is_ok(), "{state:?} {op:?}: {result:?}");
                    assert_eq!(after, next.as_str(), "{state:?} {op:?}");
                    if next != state {
                        assert_eq!(events, events_before + 1, "{state:?} {op:?}");
                    }
                }
                (None, _) => {
                    let message = conflict(result);
                    assert!(!message.is_empty());
                    assert_eq!(after, state.as_str(), "{state:?} {op:?} changed nothing");
                    assert_eq!(events, events_before, "{state:?} {op:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_stranger_to_the_application_gets_not_found_for_every_move() {
    let store = fixture().await;
    let offer = offer(&store, "Boulanger").await;
    let now = store::now_unix();
    let id =
        store.submit_application(ids::ZOE, ids::ZOE, &offer, &week(0), "Oui.", now).await.unwrap();

    for stranger in [ids::MINH, ids::KIM, ids::GAELLE, store::fixtures::ids::AGNES] {
        not_found(store.open_application_as_host(stranger, &id, now).await);
        not_found(store.accept_application(stranger, &id, now).await);
        not_found(store.reject_application(stranger, &id, now).await);
        not_found(store.cancel_application(stranger, &id, now).await);
        not_found(store.confirm_application(stranger, &id, now).await);
        not_found(store.consent_application(stranger, &id, now).await);
        assert!(store.family_applications(stranger, ids::ZOE).await.unwrap().is_empty());
        assert!(
            store
                .host_applications(stranger, &HostApplicationFilter::default())
                .await
                .unwrap()
                .is_empty()
        );
    }
    // The family's own moves on the host's side are not theirs either.
    not_found(store.accept_application(ids::ZOE, &id, now).await);
    not_found(store.open_application_as_host(ids::YVES, &id, now).await);
    not_found(store.confirm_application(ids::HUGUES, &id, now).await);
    assert_eq!(state_of(&store, &id).await, "submitted");
}

#[tokio::test]
async fn a_confirmation_needs_a_guardians_consent_and_a_guardian_confirming_gives_it() {
    let store = fixture().await;
    let now = store::now_unix();
    let first = offer(&store, "Boulanger").await;
    let second = offer(&store, "Pâtissier").await;
    let a =
        store.submit_application(ids::ZOE, ids::ZOE, &first, &week(0), "Oui.", now).await.unwrap();
    let b =
        store.submit_application(ids::ZOE, ids::ZOE, &second, &week(1), "Oui.", now).await.unwrap();
    store.accept_application(ids::HUGUES, &a, now).await.unwrap();
    store.accept_application(ids::HUGUES, &b, now).await.unwrap();
    assert_eq!(mails_to(&store, YVES_MAIL).await, 2, "acceptances reach the guardians");
    assert_eq!(mails_to(&store, INES_MAIL).await, 2);

    let message = conflict(store.confirm_application(ids::ZOE, &a, now).await);
    assert!(message.contains("accord"), "{message}");
    conflict(store.consent_application(ids::ZOE, &a, now).await);
    store.consent_application(ids::INES, &a, now).await.unwrap();
    store.confirm_application(ids::ZOE, &a, now).await.unwrap();
    assert_eq!(state_of(&store, &a).await, "confirmed");

    store.confirm_application(ids::YVES, &b, now).await.unwrap();
    assert_eq!(state_of(&store, &b).await, "confirmed");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_applications WHERE id = $1 AND consent_by = 'r-yves' \
             AND consent_at IS NOT NULL AND expires_at IS NULL",
            &[&b],
        )
        .await,
        1
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM internship_agreements", &[]).await, 2);

    let listed = store.family_applications(ids::INES, ids::ZOE).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|a| a.agreement_id.is_some() && a.time_zone == "Europe/Paris"));
    assert_eq!(listed[0].consent_by.as_deref(), Some("Inès Éluard"));
}

#[tokio::test]
async fn confirming_supersedes_the_pupils_other_pending_applications_of_that_week_only() {
    let store = fixture().await;
    let now = store::now_unix();
    let chosen = offer(&store, "Boulanger").await;
    let same_week = offer(&store, "Vendeur").await;
    let same_week_accepted = offer(&store, "Livreur").await;
    let same_week_rejected = offer(&store, "Pâtissier").await;
    let other_week = offer(&store, "Meunier").await;
    let submit = |offer: String, week: String| {
        let store = &store;
        async move {
            store.submit_application(ids::ZOE, ids::ZOE, &offer, &week, "Oui.", now).await.unwrap()
        }
    };
    let chosen = submit(chosen, week(0)).await;
    let same_week = submit(same_week, week(0)).await;
    let same_week_accepted = submit(same_week_accepted, week(0)).await;
    let same_week_rejected = submit(same_week_rejected, week(0)).await;
    let other_week = submit(other_week, week(1)).await;
    let minh_offer = offer(&store, "Boulanger de Minh").await;
    let minh = store
        .submit_application(ids::MINH, ids::KIM, &minh_offer, &week(0), "Oui.", now)
        .await
        .unwrap();
    store.accept_application(ids::HUGUES, &chosen, now).await.unwrap();
    store.accept_application(ids::HUGUES, &same_week_accepted, now).await.unwrap();
    store.reject_application(ids::HUGUES, &same_week_rejected, now).await.unwrap();
    store.open_application_as_host(ids::HUGUES, &other_week, now).await.unwrap();
    let mails_before = mails_to(&store, HUGUES_MAIL).await;

    let agreement = store.confirm_application(ids::YVES, &chosen, now).await.unwrap();

    assert_eq!(state_of(&store, &chosen).await, "confirmed");
    assert_eq!(state_of(&store, &same_week).await, "superseded");
    assert_eq!(state_of(&store, &same_week_accepted).await, "superseded");
    assert_eq!(state_of(&store, &same_week_rejected).await, "rejected");
    assert_eq!(state_of(&store, &other_week).await, "read");
    assert_eq!(state_of(&store, &minh).await, "submitted", "another pupil's are untouched");
    for id in [&same_week, &same_week_accepted] {
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM internship_application_events WHERE application_id = $1 \
                 AND to_state = 'superseded' AND actor_id IS NULL",
                &[id],
            )
            .await,
            1
        );
    }
    // Two supersessions and the confirmation.
    assert_eq!(mails_to(&store, HUGUES_MAIL).await, mails_before + 3);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_agreements WHERE id = $1 AND application_id = $2",
            &[&agreement, &chosen],
        )
        .await,
        1
    );
}

#[tokio::test]
async fn cancelling_a_confirmed_application_cancels_its_agreement_and_frees_the_place() {
    let store = fixture().await;
    let now = store::now_unix();
    let mut single = FixtureOffer::bakery("Une place");
    single.places_per_week = 1;
    single.places_total = 1;
    let offer = store.fixture_offer(&single).await.unwrap();
    let zoe =
        store.submit_application(ids::ZOE, ids::ZOE, &offer, &week(0), "Oui.", now).await.unwrap();
    let minh = store
        .submit_application(ids::MINH, ids::MINH, &offer, &week(0), "Oui.", now)
        .await
        .unwrap();
    store.accept_application(ids::HUGUES, &zoe, now).await.unwrap();
    store.accept_application(ids::HUGUES, &minh, now).await.unwrap();
    store.confirm_application(ids::YVES, &zoe, now).await.unwrap();
    let message = conflict(store.confirm_application(ids::KIM, &minh, now).await);
    assert!(message.contains("plus de place"), "{message}");
    assert_eq!(state_of(&store, &minh).await, "accepted");

    store.cancel_application(ids::HUGUES, &zoe, now).await.unwrap();
    assert_eq!(state_of(&store, &zoe).await, "cancelled_by_host");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_agreements WHERE application_id = $1 \
             AND state = 'cancelled'",
            &[&zoe],
        )
        .await,
        1
    );
    assert!(mails_to(&store, YVES_MAIL).await >= 2, "the family hears of the cancellation");

    store.confirm_application(ids::KIM, &minh, now).await.unwrap();
    assert_eq!(state_of(&store, &minh).await, "confirmed");
}

#[tokio::test]
async fn deadlines_expire_and_remind_once_each_with_a_controlled_clock() {
    let store = fixture().await;
    let t0 = 2_000_000_000;
    let first = offer(&store, "Boulanger").await;
    let second = offer(&store, "Pâtissier").await;
    // Submitted with a clock of our own: the deadline is t0 + 15 days, reminders 2 days before.
    let waiting =
        store.submit_application(ids::ZOE, ids::ZOE, &first, &week(0), "Oui.", t0).await.unwrap();
    let host_mails = mails_to(&store, HUGUES_MAIL).await;

    let report = store.internship_sweep(t0 + 12 * DAY).await.unwrap();
    assert_eq!((report.expired, report.reminded), (0, 0));
    let report = store.internship_sweep(t0 + 13 * DAY + 3_600).await.unwrap();
    assert_eq!((report.expired, report.reminded), (0, 1));
    assert_eq!(mails_to(&store, HUGUES_MAIL).await, host_mails + 1, "the host is reminded");
    assert_eq!(mails_to(&store, YVES_MAIL).await, 0);
    let report = store.internship_sweep(t0 + 14 * DAY).await.unwrap();
    assert_eq!((report.expired, report.reminded), (0, 0), "one reminder per deadline");

    // Opening it extends the deadline by 15 days: a new deadline, a new reminder.
    store.open_application_as_host(ids::HUGUES, &waiting, t0 + 14 * DAY).await.unwrap();
    assert_eq!(state_of(&store, &waiting).await, "read");
    let report = store.internship_sweep(t0 + 16 * DAY).await.unwrap();
    assert_eq!((report.expired, report.reminded), (0, 0), "the first deadline passed unharmed");
    let report = store.internship_sweep(t0 + 28 * DAY + 3_600).await.unwrap();
    assert_eq!((report.expired, report.reminded), (0, 1));
    let report = store.internship_sweep(t0 + 30 * DAY).await.unwrap();
    assert_eq!((report.expired, report.reminded), (1, 0));
    assert_eq!(state_of(&store, &waiting).await, "expired");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_application_events WHERE application_id = $1 \
             AND from_state = 'read' AND to_state = 'expired' AND actor_id IS NULL",
            &[&waiting],
        )
        .await,
        1
    );
    assert_eq!(mails_to(&store, YVES_MAIL).await, 1, "the family hears of the expiry");

    // Accepted: 7 days to confirm, the family reminded, then expired.
    let accepted =
        store.submit_application(ids::ZOE, ids::YVES, &second, &week(1), "Oui.", t0).await.unwrap();
    store.accept_application(ids::HUGUES, &accepted, t0 + DAY).await.unwrap();
    let family_mails = mails_to(&store, INES_MAIL).await;
    let host_mails = mails_to(&store, HUGUES_MAIL).await;
    let report = store.internship_sweep(t0 + 6 * DAY + 3_600).await.unwrap();
    assert_eq!((report.expired, report.reminded), (0, 1));
    assert_eq!(mails_to(&store, INES_MAIL).await, family_mails + 1);
    assert_eq!(mails_to(&store, HUGUES_MAIL).await, host_mails, "the host is not reminded");
    let report = store.internship_sweep(t0 + 8 * DAY + 1).await.unwrap();
    assert_eq!((report.expired, report.reminded), (1, 0));
    assert_eq!(state_of(&store, &accepted).await, "expired");
    conflict(store.confirm_application(ids::YVES, &accepted, t0 + 9 * DAY).await);

    // Nothing left to do.
    let report = store.internship_sweep(t0 + 60 * DAY).await.unwrap();
    assert_eq!((report.expired, report.reminded), (0, 0));
}

#[tokio::test]
async fn the_database_refuses_a_second_application_a_second_confirmed_week_and_agreement() {
    let store = fixture().await;
    let now = store::now_unix();
    let first = offer(&store, "Boulanger").await;
    let second = offer(&store, "Pâtissier").await;
    let a =
        store.submit_application(ids::ZOE, ids::ZOE, &first, &week(0), "Oui.", now).await.unwrap();
    let b =
        store.submit_application(ids::ZOE, ids::ZOE, &second, &week(0), "Oui.", now).await.unwrap();

    // A second application to the same offer, even for another week, written by hand.
    let duplicate = store
        .fixture_execute(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, created_at, updated_at) VALUES ('dup', $1, 'p-zoe', 'school-1', $2, \
             'submitted', 1, 1)",
            &[&first, &week(1)],
        )
        .await;
    assert!(duplicate.is_err(), "UNIQUE (pupil_id, offer_id)");

    // Two confirmed applications for one week, bypassing the code.
    store
        .fixture_execute(
            "UPDATE internship_applications SET state = 'confirmed' WHERE id = $1",
            &[&a],
        )
        .await
        .unwrap();
    let second_week = store
        .fixture_execute(
            "UPDATE internship_applications SET state = 'confirmed' WHERE id = $1",
            &[&b],
        )
        .await;
    assert!(second_week.is_err(), "internship_applications_one_per_week");

    // The code says so in French when it gets there.
    store
        .fixture_execute(
            "UPDATE internship_applications SET state = 'accepted', consent_at = 1 WHERE id = $1",
            &[&b],
        )
        .await
        .unwrap();
    let message = conflict(store.confirm_application(ids::ZOE, &b, now).await);
    assert!(message.contains("déjà confirmé"), "{message}");

    // A second agreement for one application.
    store
        .fixture_execute(
            "UPDATE internship_applications SET state = 'accepted', consent_at = 1 WHERE id = $1",
            &[&a],
        )
        .await
        .unwrap();
    store.confirm_application(ids::ZOE, &a, now).await.unwrap();
    let second_agreement = store
        .fixture_execute(
            "INSERT INTO internship_agreements (id, application_id, school_id, host_id, state, \
             content, created_at, updated_at) VALUES ('second', $1, 'school-1', $2, \
             'host_pending', '{}', 1, 1)",
            &[&a, ids::HOST_BAKERY],
        )
        .await;
    assert!(second_agreement.is_err(), "UNIQUE (application_id)");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM internship_agreements", &[]).await, 1);
}

#[tokio::test]
async fn two_moves_at_once_one_wins_and_the_other_is_told_it_changed() {
    let store = fixture().await;
    let now = store::now_unix();
    let offer = offer(&store, "Boulanger").await;
    let id =
        store.submit_application(ids::ZOE, ids::ZOE, &offer, &week(0), "Oui.", now).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let accept = {
        let (store, id, barrier) = (store.store.clone(), id.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            store.accept_application(ids::HUGUES, &id, now).await
        })
    };
    let cancel = {
        let (store, id, barrier) = (store.store.clone(), id.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            store.cancel_application(ids::ZOE, &id, now).await
        })
    };
    let (accept, cancel) = (accept.await.unwrap(), cancel.await.unwrap());

    let after = state_of(&store, &id).await;
    match (&accept, &cancel) {
        // Accepted first: an accepted application may still be cancelled.
        (Ok(()), Ok(())) => assert_eq!(after, "cancelled_by_pupil"),
        (Err(StoreError::Conflict(_)), Ok(())) => assert_eq!(after, "cancelled_by_pupil"),
        // Both read it submitted (PostgreSQL): the cancellation's conditional update finds
        // it accepted and says it changed.
        (Ok(()), Err(StoreError::Conflict(message))) => {
            assert!(message.contains("changé entre-temps"), "{message}");
            assert_eq!(after, "accepted");
        }
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// Applies `pupils` to `offer` (in `weeks` in turn), has the host accept each one, and writes a
/// consent on each: ready to confirm.
async fn ready_to_confirm(
    store: &TestStore,
    offer: &str,
    pupils: &[String],
    weeks_used: &[String],
    now: i64,
) -> Vec<String> {
    let mut applications = Vec::new();
    for (i, pupil) in pupils.iter().enumerate() {
        let week = &weeks_used[i % weeks_used.len()];
        let id = store.submit_application(pupil, pupil, offer, week, "Motivé.", now).await.unwrap();
        store.accept_application(ids::HUGUES, &id, now).await.unwrap();
        applications.push(id);
    }
    store
        .fixture_execute(
            "UPDATE internship_applications SET consent_at = 1 WHERE offer_id = $1",
            &[offer],
        )
        .await
        .unwrap();
    applications
}

/// Every pupil confirms at the same moment (tokio tasks behind a barrier); returns how many
/// won and checks that every other one got a French refusal.
async fn confirm_all_at_once(
    store: &TestStore,
    pupils: &[String],
    applications: &[String],
    now: i64,
) -> usize {
    let barrier = Arc::new(tokio::sync::Barrier::new(pupils.len()));
    let mut tasks = Vec::new();
    for (pupil, application) in pupils.iter().zip(applications) {
        let (store, barrier) = (store.store.clone(), barrier.clone());
        let (pupil, application) = (pupil.clone(), application.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.confirm_application(&pupil, &application, now).await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(message)) => {
                assert!(message.contains("plus de place"), "{message}");
            }
            Err(other) => panic!("not a clear refusal: {other:?}"),
        }
    }
    won
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_pupils_confirm_the_last_place_at_once_and_exactly_one_wins() {
    let store = fixture().await;
    let now = store::now_unix();
    let pupils = store.fixture_more_third_year_pupils(20).await.unwrap();
    let mut last_place = FixtureOffer::bakery("La dernière place");
    last_place.places_per_week = 1;
    let offer = store.fixture_offer(&last_place).await.unwrap();
    let applications = ready_to_confirm(&store, &offer, &pupils, &[week(0)], now).await;

    let won = confirm_all_at_once(&store, &pupils, &applications, now).await;

    assert_eq!(won, 1);
    let confirmed = "SELECT COUNT(*) FROM internship_applications WHERE offer_id = $1 \
                     AND state = 'confirmed'";
    assert_eq!(count(&store, confirmed, &[&offer]).await, 1);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_applications WHERE offer_id = $1 AND state = 'accepted'",
            &[&offer],
        )
        .await,
        19
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM internship_agreements", &[]).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_place_in_total_is_taken_once_across_two_weeks() {
    let store = fixture().await;
    let now = store::now_unix();
    let pupils = store.fixture_more_third_year_pupils(20).await.unwrap();
    let mut one_in_all = FixtureOffer::bakery("Une place en tout");
    one_in_all.places_per_week = 20;
    one_in_all.places_total = 1;
    let offer = store.fixture_offer(&one_in_all).await.unwrap();
    let applications = ready_to_confirm(&store, &offer, &pupils, &[week(0), week(1)], now).await;

    let won = confirm_all_at_once(&store, &pupils, &applications, now).await;

    assert_eq!(won, 1);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internship_applications WHERE offer_id = $1 AND state = 'confirmed'",
            &[&offer],
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_host_sees_name_class_school_and_motivation_with_filters() {
    let store = fixture().await;
    let now = store::now_unix();
    let first = offer(&store, "Boulanger").await;
    let second = offer(&store, "Pâtissier").await;
    let zoe = store
        .submit_application(ids::ZOE, ids::ZOE, &first, &week(0), "J'aime le pain.", now)
        .await
        .unwrap();
    store
        .submit_application(ids::FATIMA, ids::KARIM, &second, &week(1), "أحب الخبز", now)
        .await
        .unwrap();

    let all =
        store.host_applications(ids::HUGUES, &HostApplicationFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let by_offer = HostApplicationFilter { offer_id: first.clone(), ..Default::default() };
    let listed = store.host_applications(ids::HUGUES, &by_offer).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].pupil_first_name, "Zoé");
    assert_eq!(listed[0].class_code, "3A");
    assert_eq!(listed[0].motivation, "J'aime le pain.");
    let by_week = HostApplicationFilter { iso_week: week(1), ..Default::default() };
    let listed = store.host_applications(ids::HUGUES, &by_week).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].class_code, "3B");
    let by_state =
        HostApplicationFilter { state: Some(ApplicationState::Read), ..Default::default() };
    assert!(store.host_applications(ids::HUGUES, &by_state).await.unwrap().is_empty());

    let opened = store.open_application_as_host(ids::HUGUES, &zoe, now).await.unwrap();
    assert_eq!(opened.state, ApplicationState::Read);
    assert_eq!(store.host_applications(ids::HUGUES, &by_state).await.unwrap().len(), 1);
    assert_eq!(store.host_application_offers(ids::HUGUES).await.unwrap().len(), 2);
    assert!(store.host_application_offers(ids::GAELLE).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_offer_shows_to_a_pupil_who_may_apply_or_applied_and_to_no_one_else() {
    let store = fixture().await;
    let now = store::now_unix();
    let mut single = FixtureOffer::bakery("Une place");
    single.places_per_week = 1;
    single.places_total = 1;
    let offer = store.fixture_offer(&single).await.unwrap();

    let seen = store.offer_for_pupil(ids::ZOE, ids::ZOE, &offer, now).await.unwrap().unwrap();
    assert_eq!(seen.open_weeks, weeks().to_vec());
    assert!(seen.application.is_none() && seen.permalink.is_none());
    assert!(store.offer_for_pupil(ids::YVES, ids::ZOE, &offer, now).await.unwrap().is_some());
    assert!(store.offer_for_pupil(ids::KIM, ids::ZOE, &offer, now).await.unwrap().is_none());
    assert!(store.offer_for_pupil(ids::HUGUES, ids::ZOE, &offer, now).await.unwrap().is_none());

    // Full once Zoé confirms: Minh no longer sees it; Zoé still does (she applied).
    let id =
        store.submit_application(ids::ZOE, ids::ZOE, &offer, &week(0), "Oui.", now).await.unwrap();
    store.accept_application(ids::HUGUES, &id, now).await.unwrap();
    store.confirm_application(ids::YVES, &id, now).await.unwrap();
    assert!(store.offer_for_pupil(ids::MINH, ids::MINH, &offer, now).await.unwrap().is_none());
    let seen = store.offer_for_pupil(ids::ZOE, ids::ZOE, &offer, now).await.unwrap().unwrap();
    assert!(seen.open_weeks.is_empty());
    assert_eq!(seen.application.unwrap().1, ApplicationState::Confirmed);

    let mut draft = FixtureOffer::bakery("Brouillon");
    draft.state = "draft".to_owned();
    let draft = store.fixture_offer(&draft).await.unwrap();
    assert!(store.offer_for_pupil(ids::MINH, ids::MINH, &draft, now).await.unwrap().is_none());
}
