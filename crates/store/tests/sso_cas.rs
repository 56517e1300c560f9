//! The CAS server's state in the store: a ticket is stored only as its hash, consumed by exactly
//! one attempt (also under concurrency), refused after its life or its session's, and swept;
//! proxy-granting tickets live and die with their session; login requests are used once and
//! answered only by another, newer session. The registry answers kept for a sign-on follow the
//! registry and the directory, and a ticket goes with its session, person or application.

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, TicketKind, UrlMatch};
use store::fixtures::{code_for, ids};
use store::sso::admin::NewService;
use store::sso::cas::{NewProxyGranting, NewTicket, SERVICE_TICKET_TTL_SECS};

const NOW: i64 = 1_800_000_000;
const IDLE: i64 = 1800;
const SERVICE_URL: &str = "https://0860001a.index-education.net/pronote/eleve.html";

struct Setup {
    store: store::testing::TestStore,
    service_id: String,
}

async fn setup() -> Setup {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.activate_account(ids::ALICE, &code_for("alice.martin"), "h").await.unwrap();
    store.create_session("session-1", ids::ALICE, "csrf", NOW, NOW + 3600).await.unwrap();
    let service_id = store
        .register_service(
            None,
            &NewService {
                name: "Pronote collège 1".to_owned(),
                protocol: Protocol::Cas,
                school_id: Some(ids::SCHOOL_1.to_owned()),
                principal: Principal::Login,
                attributes: Attribute::PRONOTE.to_vec(),
                require_second_factor: false,
                allow_proxy: true,
                client_id: None,
                client_secret_hash: None,
                urls: vec![(
                    UrlMatch::Prefix,
                    "https://0860001a.index-education.net/pronote/".to_owned(),
                )],
                logout_urls: Vec::new(),
                schools: vec![ids::SCHOOL_1.to_owned()],
                profiles: vec![Profile::Pupil],
            },
        )
        .await
        .unwrap();
    Setup { store, service_id }
}

fn new_granting<'a>(
    service_id: &'a str,
    second_factor: bool,
    proxies: &'a [String],
) -> NewProxyGranting<'a> {
    NewProxyGranting {
        service_id,
        person_id: ids::ALICE,
        session_hash: "session-1",
        second_factor,
        authenticated_at: NOW,
        proxies,
    }
}

fn new_ticket<'a>(service_id: &'a str, session: &'a str) -> NewTicket<'a> {
    NewTicket {
        kind: TicketKind::Service,
        service_id,
        service_url: SERVICE_URL,
        person_id: ids::ALICE,
        session_hash: session,
        from_new_login: true,
        second_factor: false,
        authenticated_at: NOW,
        proxies: &[],
    }
}

async fn count(store: &store::Store, sql: &'static str) -> i64 {
    store.fixture_count(sql, &[]).await.unwrap()
}

#[tokio::test]
async fn a_ticket_is_stored_as_its_hash_and_consumed_once() {
    let Setup { store, service_id } = setup().await;
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    assert!(ticket.starts_with("ST-") && ticket.len() == 32, "{ticket}");
    assert_eq!(domain::sso::ticket_kind(&ticket), Some(TicketKind::Service));
    let stored = store
        .fixture_count("SELECT COUNT(*) FROM cas_tickets WHERE ticket_hash = $1", &[&ticket])
        .await
        .unwrap();
    assert_eq!(stored, 0, "the ticket itself is never stored");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 1);

    let consumed = store.cas_consume_ticket(&ticket, NOW + 1, IDLE).await.unwrap().unwrap();
    assert_eq!(consumed.service_url, SERVICE_URL);
    assert_eq!(consumed.service_id, service_id);
    assert_eq!(consumed.person_id, ids::ALICE);
    assert_eq!(consumed.session_hash, "session-1");
    assert!(consumed.from_new_login);
    assert!(!consumed.second_factor);
    assert_eq!(consumed.kind, TicketKind::Service);

    assert_eq!(store.cas_consume_ticket(&ticket, NOW + 2, IDLE).await.unwrap(), None);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 0);
}

#[tokio::test]
async fn an_expired_ticket_is_refused_and_burned() {
    let Setup { store, service_id } = setup().await;
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    let late = NOW + SERVICE_TICKET_TTL_SECS;
    assert_eq!(store.cas_consume_ticket(&ticket, late, IDLE).await.unwrap(), None);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 0);

    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    assert!(store.cas_consume_ticket(&ticket, late - 1, IDLE).await.unwrap().is_some());
}

#[tokio::test]
async fn a_ticket_dies_with_its_session() {
    let Setup { store, service_id } = setup().await;
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    store.delete_session("session-1").await.unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 0);
    assert_eq!(store.cas_consume_ticket(&ticket, NOW, IDLE).await.unwrap(), None);

    // An idle session, or a frozen account, gives nothing either.
    store.create_session("session-2", ids::ALICE, "csrf", NOW, NOW + 3600).await.unwrap();
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-2"), NOW).await.unwrap();
    assert_eq!(store.cas_consume_ticket(&ticket, NOW + IDLE, IDLE).await.unwrap(), None);
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-2"), NOW).await.unwrap();
    store
        .fixture_execute("UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert_eq!(store.cas_consume_ticket(&ticket, NOW + 1, IDLE).await.unwrap(), None);
}

#[tokio::test]
async fn ten_concurrent_attempts_consume_a_ticket_once() {
    let Setup { store, service_id } = setup().await;
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = store.store.clone();
        let ticket = ticket.clone();
        tasks.push(tokio::spawn(async move {
            store.cas_consume_ticket(&ticket, NOW + 1, IDLE).await.unwrap().is_some()
        }));
    }
    let mut successes = 0;
    for task in tasks {
        successes += usize::from(task.await.unwrap());
    }
    assert_eq!(successes, 1);
}

#[tokio::test]
async fn a_proxy_granting_ticket_lives_and_dies_with_its_session() {
    let Setup { store, service_id } = setup().await;
    let proxies = vec!["https://0860001a.index-education.net/pronote/pgt".to_owned()];
    let issued = store
        .cas_issue_proxy_granting(&new_granting(&service_id, false, &proxies), NOW)
        .await
        .unwrap()
        .unwrap();
    assert!(issued.ticket.starts_with("PGT-") && issued.ticket.len() <= 64);
    assert!(issued.iou.starts_with("PGTIOU-") && issued.iou.len() <= 64);
    assert_eq!(domain::sso::ticket_kind(&issued.ticket), Some(TicketKind::ProxyGranting));

    let granting = store.cas_proxy_granting(&issued.ticket, NOW + 5, IDLE).await.unwrap().unwrap();
    assert_eq!(granting.person_id, ids::ALICE);
    assert_eq!(granting.proxies, proxies);
    assert_eq!(store.cas_proxy_granting(&issued.iou, NOW + 5, IDLE).await.unwrap(), None);
    assert_eq!(store.cas_proxy_granting(&issued.ticket, NOW + IDLE, IDLE).await.unwrap(), None);

    store.delete_session("session-1").await.unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_proxy_granting_tickets").await, 0);
    assert_eq!(store.cas_proxy_granting(&issued.ticket, NOW + 5, IDLE).await.unwrap(), None);
    let orphan = store
        .cas_issue_proxy_granting(&new_granting(&service_id, false, &proxies), NOW)
        .await
        .unwrap();
    assert!(orphan.is_none(), "no proxy-granting ticket for a session that has ended");
}

#[tokio::test]
async fn a_revoked_proxy_granting_ticket_yields_nothing() {
    let Setup { store, service_id } = setup().await;
    let issued = store
        .cas_issue_proxy_granting(&new_granting(&service_id, true, &[]), NOW)
        .await
        .unwrap()
        .unwrap();
    store.cas_revoke_proxy_granting(&issued.ticket).await.unwrap();
    assert_eq!(store.cas_proxy_granting(&issued.ticket, NOW, IDLE).await.unwrap(), None);
}

#[tokio::test]
async fn a_login_request_is_used_once_and_only_by_a_newer_session() {
    let Setup { store, .. } = setup().await;
    let token = store.cas_start_login_request(SERVICE_URL, Some("session-1"), NOW).await.unwrap();
    let request = store.cas_login_request(&token, NOW + 10).await.unwrap().unwrap();
    assert_eq!(request.service_url, SERVICE_URL);
    assert!(!request.answered_by("session-1", NOW + 5), "the session it began with");
    assert!(!request.answered_by("session-2", NOW - 1), "a session opened before it");
    assert!(request.answered_by("session-2", NOW));
    assert!(request.answered_by("session-2", NOW + 20));

    assert!(store.cas_finish_login_request(&token, NOW + 10).await.unwrap().is_some());
    assert_eq!(store.cas_finish_login_request(&token, NOW + 11).await.unwrap(), None);
    assert_eq!(store.cas_login_request(&token, NOW + 11).await.unwrap(), None);

    let late = store.cas_start_login_request(SERVICE_URL, None, NOW).await.unwrap();
    let after = NOW + store::sso::cas::LOGIN_REQUEST_TTL_SECS;
    assert_eq!(store.cas_login_request(&late, after).await.unwrap(), None);
    assert_eq!(store.cas_finish_login_request(&late, after).await.unwrap(), None);
}

#[tokio::test]
async fn the_sweep_removes_what_has_expired_only() {
    let Setup { store, service_id } = setup().await;
    store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW + 100).await.unwrap();
    store.cas_start_login_request(SERVICE_URL, None, NOW).await.unwrap();
    store
        .cas_issue_proxy_granting(&new_granting(&service_id, false, &[]), NOW)
        .await
        .unwrap()
        .unwrap();

    let purged = store.purge_cas_tickets(NOW + SERVICE_TICKET_TTL_SECS).await.unwrap();
    assert_eq!(purged, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_login_requests").await, 1);

    // The proxy-granting ticket lives as long as its session (one hour here).
    store.purge_cas_tickets(NOW + 3600).await.unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 0);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_login_requests").await, 0);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_proxy_granting_tickets").await, 0);
}

#[tokio::test]
async fn a_proxy_ticket_remembers_its_chain() {
    let Setup { store, service_id } = setup().await;
    let proxies = vec!["https://b.example/pgt".to_owned(), "https://a.example/pgt".to_owned()];
    let mut new = new_ticket(&service_id, "session-1");
    new.kind = TicketKind::Proxy;
    new.from_new_login = false;
    new.proxies = &proxies;
    let ticket = store.cas_issue_ticket(&new, NOW).await.unwrap();
    assert!(ticket.starts_with("PT-"));
    let consumed = store.cas_consume_ticket(&ticket, NOW, IDLE).await.unwrap().unwrap();
    assert_eq!(consumed.kind, TicketKind::Proxy);
    assert_eq!(consumed.proxies, proxies);

    new.kind = TicketKind::ProxyGranting;
    assert!(store.cas_issue_ticket(&new, NOW).await.is_err());
}

#[tokio::test]
async fn kept_registry_answers_follow_the_registry_and_the_directory() {
    let Setup { store, service_id } = setup().await;
    let before = store.generations().await.unwrap();
    let service = store.cas_service_for_url_kept(SERVICE_URL, before).await.unwrap().unwrap();
    assert_eq!(service.id, service_id);
    assert!(store.service_allows_kept(&service_id, ids::ALICE, before).await.unwrap());
    let released = store.release_kept(&service, ids::ALICE, before).await.unwrap();
    assert_eq!(released.principal, "alice.martin");
    assert_eq!(released.get(Attribute::LastName), Some(&["Martin".to_owned()][..]));

    // The registry changes: the application is disabled and no longer takes pupils.
    store.fixture_execute("UPDATE sso_services SET enabled = 0", &[]).await.unwrap();
    store.fixture_execute("DELETE FROM sso_service_profiles", &[]).await.unwrap();
    // The directory changes: Alice's last name.
    store
        .fixture_execute("UPDATE people SET last_name = 'Durand' WHERE id = $1", &[ids::ALICE])
        .await
        .unwrap();
    let after = store.generations().await.unwrap();
    assert!(after.sso > before.sso, "{before:?} {after:?}");
    assert!(after.directory > before.directory, "{before:?} {after:?}");

    // Under the generations read before the changes, the kept answers stand.
    let kept = store.cas_service_for_url_kept(SERVICE_URL, before).await.unwrap();
    assert_eq!(kept.map(|kept| kept.id), Some(service_id.clone()));
    assert!(store.service_allows_kept(&service_id, ids::ALICE, before).await.unwrap());
    let kept = store.release_kept(&service, ids::ALICE, before).await.unwrap();
    assert_eq!(kept.get(Attribute::LastName), Some(&["Martin".to_owned()][..]));

    // Under the new ones, every answer is read again.
    assert_eq!(store.cas_service_for_url_kept(SERVICE_URL, after).await.unwrap(), None);
    assert!(!store.service_allows_kept(&service_id, ids::ALICE, after).await.unwrap());
    let fresh = store.release_kept(&service, ids::ALICE, after).await.unwrap();
    assert_eq!(fresh.get(Attribute::LastName), Some(&["Durand".to_owned()][..]));

    // A change made through another instance on the same database shows as well.
    let other = store.another_instance().await;
    other.fixture_execute("UPDATE sso_services SET enabled = 1", &[]).await.unwrap();
    let later = store.generations().await.unwrap();
    assert!(later.sso > after.sso);
    let found = store.cas_service_for_url_kept(SERVICE_URL, later).await.unwrap();
    assert_eq!(found.map(|found| found.id), Some(service_id));
}

#[tokio::test]
async fn a_consumed_ticket_carries_the_generations_it_was_consumed_under() {
    let Setup { store, service_id } = setup().await;
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    let now = store.generations().await.unwrap();
    let consumed = store.cas_consume_ticket(&ticket, NOW + 1, IDLE).await.unwrap().unwrap();
    assert_eq!(consumed.generations, now);
}

#[tokio::test]
async fn a_ticket_dies_with_its_application_and_its_person() {
    let Setup { store, service_id } = setup().await;
    let ticket = store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    store.fixture_execute("DELETE FROM sso_services WHERE id = $1", &[&service_id]).await.unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 0);
    assert_eq!(store.cas_consume_ticket(&ticket, NOW + 1, IDLE).await.unwrap(), None);

    let Setup { store, service_id } = setup().await;
    store.cas_issue_ticket(&new_ticket(&service_id, "session-1"), NOW).await.unwrap();
    store.fixture_execute("DELETE FROM people WHERE id = $1", &[ids::ALICE]).await.unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cas_tickets").await, 0);
}
