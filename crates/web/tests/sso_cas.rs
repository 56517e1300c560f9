//! The CAS 3.0 server over HTTP, rule by rule (SECURITY.md §5.1, §8 items 23 and 24): only
//! registered services get a ticket or a redirect, at login and at logout; tickets are single
//! use, short-lived, burned on a service mismatch, checked in shape before any lookup and never
//! echoed unescaped; `renew`, `gateway` and the second factor behave as specified; Pronote gets
//! its attribute profile, per collège; proxy-granting tickets reach only an https callback
//! registered for an application allowed to proxy, with a certificate the server trusts.

mod cas_support;
mod common;

use axum::http::{StatusCode, header};
use cas_support::*;
use common::{App, PASSWORD, PRE_COOKIE, PRE_TOKEN, Reply, SESSION, app, encode, ids};
use domain::sso::{Attribute, Principal, TicketKind, UrlMatch};
use store::sso::cas::NewTicket;

/// The registered application of the service-manipulation list of §8-23.
const COLLEGE: &str = "https://pronote.college.fr/pronote/";

/// Logs a person in and gets a ticket for a service: returns the session cookie and ticket.
async fn ticket_for(app: &App, person: &str, login: &str, service: &str) -> (String, String) {
    let cookie = app.login_as(person, login).await;
    let reply = app.get(&login_path(service), Some(&cookie)).await;
    (cookie, ticket_of(&reply))
}

async fn login_requests(app: &App) -> i64 {
    count(app, "SELECT COUNT(*) FROM cas_login_requests").await
}

#[tokio::test]
async fn a_pupil_reaches_the_pronote_of_her_college_with_its_attribute_profile() {
    let app = app().await;
    register_pronotes(&app).await;
    app.store
        .fixture_execute("UPDATE schools SET postal_code = '86000' WHERE id = $1", &[ids::SCHOOL_1])
        .await
        .unwrap();
    let (_, ticket) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1_PUPIL).await;
    assert!(ticket.starts_with("ST-") && ticket.len() == 32, "{ticket}");
    assert!(ticket[3..].bytes().all(|b| b.is_ascii_alphanumeric()));

    let path = validation(
        "/cas/serviceValidate",
        &[("service", PRONOTE_1_PUPIL), ("ticket", ticket.as_str())],
    );
    let reply = app.get(&path, None).await;
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/xml; charset=utf-8");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert!(reply.headers.contains_key(header::REFERRER_POLICY));
    let doc = assert_success(&reply);
    assert_eq!(doc.text("cas:user").as_deref(), Some("alice.martin"));
    assert_eq!(doc.attribute("nom"), ["Martin"]);
    assert_eq!(doc.attribute("prenom"), ["Alice"]);
    assert_eq!(doc.attribute("dateNaissance"), ["07/03/2013"]);
    assert_eq!(doc.attribute("codePostal"), ["86000"]);
    assert_eq!(doc.attribute("categories"), ["National_1"]);
    assert_eq!(doc.attribute("longTermAuthenticationRequestTokenUsed"), ["false"]);
    assert_eq!(doc.attribute("isFromNewLogin"), ["false"]);
    assert_eq!(doc.attribute("authenticationDate").len(), 1);
    assert!(doc.attribute("login").is_empty() && doc.attribute("email").is_empty());
    assert_eq!(doc.count("cas:proxyGrantingTicket"), 0);

    // One validation attempt per ticket.
    let again = app.get(&path, None).await;
    assert_failure(&again, "INVALID_TICKET");
}

/// A ticket for Alice at Pronote 1, validated: the reply.
async fn alice_round_trip(app: &App, cookie: &str) -> Reply {
    let ticket = ticket_of(&app.get(&login_path(PRONOTE_1_PUPIL), Some(cookie)).await);
    let path = validation(
        "/cas/serviceValidate",
        &[("service", PRONOTE_1_PUPIL), ("ticket", ticket.as_str())],
    );
    app.get(&path, None).await
}

#[tokio::test]
async fn a_change_made_anywhere_to_the_registry_or_the_directory_shows_at_the_next_sign_on() {
    let app = app().await;
    let (pronote_1, _) = register_pronotes(&app).await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    let doc = assert_success(&alice_round_trip(&app, &cookie).await);
    assert_eq!(doc.attribute("nom"), ["Martin"]);
    let other = app.store.another_instance().await;

    // Renamed through another instance: the next validation releases the new name.
    other
        .fixture_execute("UPDATE people SET last_name = 'Durand' WHERE id = $1", &[ids::ALICE])
        .await
        .unwrap();
    let doc = assert_success(&alice_round_trip(&app, &cookie).await);
    assert_eq!(doc.attribute("nom"), ["Durand"]);

    // Pupils no longer listed: a ticket issued just before is refused, and no new one comes.
    let issued = ticket_of(&app.get(&login_path(PRONOTE_1_PUPIL), Some(&cookie)).await);
    other
        .fixture_execute(
            "DELETE FROM sso_service_profiles WHERE service_id = $1 AND profile = 'pupil'",
            &[&pronote_1],
        )
        .await
        .unwrap();
    let path = validation(
        "/cas/serviceValidate",
        &[("service", PRONOTE_1_PUPIL), ("ticket", issued.as_str())],
    );
    let refused = assert_failure(&app.get(&path, None).await, "INVALID_TICKET");
    assert!(refused.attribute("nom").is_empty());
    let reply = app.get(&login_path(PRONOTE_1_PUPIL), Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(tickets(&app).await, 0);

    // Listed again, then the application disabled: no ticket either.
    other
        .fixture_execute(
            "INSERT INTO sso_service_profiles (service_id, profile) VALUES ($1, 'pupil')",
            &[&pronote_1],
        )
        .await
        .unwrap();
    assert_success(&alice_round_trip(&app, &cookie).await);
    other
        .fixture_execute("UPDATE sso_services SET enabled = 0 WHERE id = $1", &[&pronote_1])
        .await
        .unwrap();
    let reply = app.get(&login_path(PRONOTE_1_PUPIL), Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(tickets(&app).await, 0);
}

#[tokio::test]
async fn a_parent_and_a_teacher_get_their_own_pronote_categories() {
    let app = app().await;
    register_pronotes(&app).await;
    app.store
        .fixture_execute("UPDATE people SET postal_code = '86100' WHERE id = $1", &[ids::PAUL])
        .await
        .unwrap();

    let (_, ticket) = ticket_for(&app, ids::PAUL, "paul.martin", PRONOTE_1).await;
    let path = validation(
        "/cas/p3/serviceValidate",
        &[("service", PRONOTE_1), ("ticket", ticket.as_str())],
    );
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.text("cas:user").as_deref(), Some("paul.martin"));
    assert_eq!(doc.attribute("nom"), ["Martin"]);
    assert_eq!(doc.attribute("prenom"), ["Paul"]);
    assert_eq!(doc.attribute("categories"), ["National_2"]);
    assert_eq!(doc.attribute("codePostal"), ["86100"]);
    assert!(doc.attribute("dateNaissance").is_empty(), "the fixture has no birth date for him");

    let (_, ticket) = ticket_for(&app, ids::THOMAS, "thomas.bernard", PRONOTE_2).await;
    let path = validation(
        "/cas/p3/serviceValidate",
        &[("service", PRONOTE_2), ("ticket", ticket.as_str())],
    );
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.text("cas:user").as_deref(), Some("thomas.bernard"));
    assert_eq!(doc.attribute("nom"), ["Bernard"]);
    assert_eq!(doc.attribute("categories"), ["National_3"]);
}

#[tokio::test]
async fn a_teacher_of_two_colleges_gets_both_and_a_pupil_only_her_own() {
    let app = app().await;
    register_pronotes(&app).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    for service in [PRONOTE_1_PUPIL, PRONOTE_2_PUPIL] {
        let ticket = ticket_of(&app.get(&login_path(service), Some(&thomas)).await);
        let path = validation("/cas/serviceValidate", &[("service", service), ("ticket", &ticket)]);
        assert_success(&app.get(&path, None).await);
    }

    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let before = tickets(&app).await;
    let reply = app.get(&login_path(PRONOTE_2_PUPIL), Some(&alice)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert!(reply.body.contains("Accès non autorisé"), "{}", reply.body);
    assert_eq!(tickets(&app).await, before);
}

/// The `service` manipulations of SECURITY.md §8-23, against `COLLEGE`.
fn hostile_services() -> Vec<&'static str> {
    vec![
        "https://evil.tld",
        "https://evil.tld/pronote/",
        "https://pronote.college.fr.evil.tld/pronote/",
        "https://pronote.college.fr@evil.tld/pronote/",
        "https://evil.tld/?u=https://pronote.college.fr/pronote/",
        "//evil.tld",
        "//pronote.college.fr/pronote/",
        "https://pronote.college.fr./pronote/",
        "https://PRONOTE.COLLEGE.FR/pronote/",
        "https://pronote.college.fr/PRONOTE/",
        "https://pronote.college.fr/pronote/%2e%2e/admin",
        "https://pronote.college.fr/pronote/%2E%2E/admin",
        "https://pronote.college.fr/pronote/..%2fadmin",
        "https://pronote.college.fr/pronote/../admin",
        "https://pronote.collеge.fr/pronote/",
        "https://xn--pronote.collge-5ij.fr/pronote/",
        "http://pronote.college.fr/pronote/",
        "javascript:alert(1)//pronote.college.fr/pronote/",
        "https://pronote.college.fr/pronotex/",
        "https://pronote.college.fr:443/pronote/",
        "https://pronote.college.fr/pronote/#x",
        " https://pronote.college.fr/pronote/",
    ]
}

#[tokio::test]
async fn every_service_manipulation_gets_the_explanatory_page_and_nothing_else() {
    let app = app().await;
    Registration::pronote(ids::SCHOOL_1, COLLEGE).register(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    // The registered service itself works.
    let reply = app.get(&login_path(COLLEGE), Some(&alice)).await;
    assert!(reply.location().starts_with("https://pronote.college.fr/pronote/?ticket=ST-"));
    let before = tickets(&app).await;

    for hostile in hostile_services() {
        for cookie in [Some(alice.as_str()), None] {
            for extra in ["", "&gateway=true", "&renew=true"] {
                let path = format!("{}{extra}", login_path(hostile));
                let reply = app.get(&path, cookie).await;
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{hostile}");
                assert!(reply.headers.get(header::LOCATION).is_none(), "{hostile}");
                assert!(reply.body.contains("Application non autorisée"), "{hostile}");
                assert!(!reply.body.contains("evil.tld"), "the page never links to it");
            }
            let reply = app.get(&format!("/cas/logout?service={}", encode(hostile)), cookie).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{hostile}");
            assert!(reply.headers.get(header::LOCATION).is_none(), "{hostile}");
            assert!(reply.body.contains("Application non autorisée"), "{hostile}");
            assert!(!reply.body.contains("evil.tld"));
        }
    }
    assert_eq!(tickets(&app).await, before, "no ticket was issued");
    assert_eq!(login_requests(&app).await, 0, "nothing was recorded either");
}

#[tokio::test]
async fn a_service_url_that_already_carries_a_ticket_gets_a_page_and_no_ticket() {
    let app = app().await;
    register_pronotes(&app).await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    for planted in [
        "https://0860001a.index-education.net/pronote/?ticket=ST-Planted0123456789abcdefghijk",
        "https://0860001a.index-education.net/pronote/eleve.html?a=1&TICKET=x",
        "https://0860001a.index-education.net/pronote/?tick%65t=ST-x",
    ] {
        for cookie in [Some(cookie.as_str()), None] {
            let reply = app.get(&format!("{}&gateway=true", login_path(planted)), cookie).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{planted}");
            assert!(reply.headers.get(header::LOCATION).is_none(), "{planted}");
            assert!(reply.body.contains("contient déjà un ticket"), "{}", reply.body);
        }
    }
    assert_eq!(tickets(&app).await, 0);
    assert_eq!(login_requests(&app).await, 0);
}

#[tokio::test]
async fn repeated_parameters_and_unsupported_methods_are_refused_with_a_page() {
    let app = app().await;
    register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    for path in [
        format!("{}&service={}", login_path(PRONOTE_1), encode("https://evil.tld/")),
        format!("{}&renew=true&renew=false", login_path(PRONOTE_1)),
        format!("{}&service=%FF", login_path(PRONOTE_1)),
        format!("{}&method=POST", login_path(PRONOTE_1)),
        format!("{}&method=HEADER", login_path(PRONOTE_1)),
    ] {
        let reply = app.get(&path, Some(&alice)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(reply.headers.get(header::LOCATION).is_none());
        assert!(reply.body.contains("Demande de connexion non valide"));
    }
    assert_eq!(tickets(&app).await, 0);

    let reply = app.get(&format!("{}&method=GET", login_path(PRONOTE_1)), Some(&alice)).await;
    let ticket = ticket_of(&reply);
    let path = format!(
        "{}&ticket={}",
        validation("/cas/serviceValidate", &[("service", PRONOTE_1), ("ticket", &ticket)]),
        "ST-aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );
    assert_failure(&app.get(&path, None).await, "INVALID_REQUEST");
    assert_failure(&app.get("/cas/serviceValidate?service=x", None).await, "INVALID_REQUEST");
}

#[tokio::test]
async fn without_a_session_login_goes_to_the_form_and_gateway_goes_back() {
    let app = app().await;
    register_pronotes(&app).await;

    let reply = app.get(&login_path(PRONOTE_1_PUPIL), None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let next = format!("/cas/login?service={}", encode_keep_slash(PRONOTE_1_PUPIL));
    assert_eq!(reply.location(), format!("/connexion?next={}", encode_keep_slash(&next)));
    assert!(reply.cookie("__Host-preau_cas_login").is_some());

    let reply = app.get(&format!("{}&gateway=true", login_path(PRONOTE_1_PUPIL)), None).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), PRONOTE_1_PUPIL, "back without a ticket");

    let reply = app.get("/cas/login", None).await;
    assert_eq!(reply.location(), "/connexion");
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let reply = app.get("/cas/login", Some(&alice)).await;
    assert_eq!(reply.location(), "/accueil");

    // With a session, gateway gives the ticket as usual.
    let path = format!("{}&gateway=true", login_path(PRONOTE_1_PUPIL));
    let ticket = ticket_of(&app.get(&path, Some(&alice)).await);
    assert!(ticket.starts_with("ST-"));
    // A query already in the service URL is kept, the ticket added after it.
    let with_query = "https://0860001a.index-education.net/pronote/eleve.html?fd=1";
    let reply = app.get(&login_path(with_query), Some(&alice)).await;
    assert!(reply.location().starts_with(&format!("{with_query}&ticket=ST-")));
}

#[tokio::test]
async fn warn_asks_before_single_sign_on() {
    let app = app().await;
    register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let reply = app.get(&format!("{}&warn=true", login_path(PRONOTE_1)), Some(&alice)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert_eq!(tickets(&app).await, 0);
    let link = format!("/cas/login?service={}", encode_keep_slash(PRONOTE_1));
    assert!(reply.body.contains(&format!("href=\"{link}\"")), "{}", reply.body);
    assert!(ticket_of(&app.get(&link, Some(&alice)).await).starts_with("ST-"));
}

/// Percent-encodes as the server does for `next` (slashes kept).
fn encode_keep_slash(text: &str) -> String {
    encode(text).replace("%2F", "/")
}

/// Logs in through the form with `next`, as a browser sent there by `/cas/login` does; returns
/// the new session cookie.
async fn login_with_next(app: &App, login: &str, next: &str, cookies: &str) -> String {
    let fields = [("csrf_token", PRE_TOKEN), ("login", login), ("password", PASSWORD)];
    let mut fields = fields.to_vec();
    fields.push(("next", next));
    let reply = app.post("/connexion", Some(&format!("{PRE_COOKIE}; {cookies}")), &fields).await;
    assert!(reply.status.is_success() || reply.status.is_redirection(), "{}", reply.body);
    reply.cookie(SESSION).expect("a new session")
}

/// The `next` a login redirect carries, decoded.
fn next_of(location: &str) -> String {
    let encoded = location.strip_prefix("/connexion?next=").expect("the login form");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(&format!("next={encoded}")).unwrap();
    pairs[0].1.clone()
}

#[tokio::test]
async fn a_login_for_a_service_marks_its_ticket_as_from_new_credentials() {
    let app = app().await;
    register_pronotes(&app).await;
    app.set_password(ids::ALICE).await;

    let reply = app.get(&login_path(PRONOTE_1_PUPIL), None).await;
    let request = reply.cookie("__Host-preau_cas_login").unwrap();
    let next = next_of(reply.location());
    let session = login_with_next(&app, "alice.martin", &next, &request).await;
    let reply = app.get(&next, Some(&format!("{session}; {request}"))).await;
    let ticket = ticket_of(&reply);
    assert!(reply.cookie("__Host-preau_cas_login").is_some_and(|c| c.ends_with('=')));
    assert_eq!(login_requests(&app).await, 0, "the request was used");

    let path = validation(
        "/cas/serviceValidate",
        &[("service", PRONOTE_1_PUPIL), ("ticket", &ticket), ("renew", "true")],
    );
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.attribute("isFromNewLogin"), ["true"]);
}

#[tokio::test]
async fn renew_asks_for_the_password_again_even_with_a_session() {
    let app = app().await;
    register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let renew = format!("{}&renew=true", login_path(PRONOTE_1_PUPIL));

    let reply = app.get(&renew, Some(&alice)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().starts_with("/connexion?next="));
    let request = reply.cookie("__Host-preau_cas_login").unwrap();
    let next = next_of(reply.location());
    assert!(next.ends_with("&renew=true"), "{next}");
    assert_eq!(tickets(&app).await, 0);

    // Coming back with the same session (no password typed) still gets no ticket.
    let reply = app.get(&next, Some(&format!("{alice}; {request}"))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().starts_with("/connexion?next="));
    assert_eq!(tickets(&app).await, 0);
    let request = reply.cookie("__Host-preau_cas_login").unwrap();

    // A gateway does not override renew.
    let reply = app.get(&format!("{renew}&gateway=true"), Some(&alice)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);

    // After typing the password: a new session, and the ticket.
    let session =
        login_with_next(&app, "alice.martin", &next, &format!("{alice}; {request}")).await;
    assert_ne!(session, alice);
    let reply = app.get(&next, Some(&format!("{session}; {request}"))).await;
    let ticket = ticket_of(&reply);
    let path = validation(
        "/cas/serviceValidate",
        &[("service", PRONOTE_1_PUPIL), ("ticket", &ticket), ("renew", "true")],
    );
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.attribute("isFromNewLogin"), ["true"]);

    // The login request was used once: replaying it gives no second renewed ticket.
    let reply = app.get(&next, Some(&format!("{session}; {request}"))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn renew_at_validation_refuses_a_single_sign_on_ticket() {
    let app = app().await;
    register_pronotes(&app).await;
    let (_, ticket) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1).await;
    let path = validation(
        "/cas/serviceValidate",
        &[("service", PRONOTE_1), ("ticket", &ticket), ("renew", "true")],
    );
    assert_failure(&app.get(&path, None).await, "INVALID_TICKET");
    let path = validation("/cas/serviceValidate", &[("service", PRONOTE_1), ("ticket", &ticket)]);
    assert_failure(&app.get(&path, None).await, "INVALID_TICKET");
}

#[tokio::test]
async fn a_ticket_for_another_service_is_refused_and_burned() {
    let app = app().await;
    register_pronotes(&app).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let issue = || async { ticket_of(&app.get(&login_path(PRONOTE_1_PUPIL), Some(&thomas)).await) };
    for wrong in [
        PRONOTE_2_PUPIL,
        "https://0860001a.index-education.net/pronote/prof.html",
        "https://0860001a.index-education.net/pronote/eleve.html?x=1",
        "https://evil.tld/",
    ] {
        let ticket = issue().await;
        let path = validation("/cas/serviceValidate", &[("service", wrong), ("ticket", &ticket)]);
        assert_failure(&app.get(&path, None).await, "INVALID_SERVICE");
        // Burned: the right service cannot use it any more.
        let path = validation(
            "/cas/serviceValidate",
            &[("service", PRONOTE_1_PUPIL), ("ticket", ticket.as_str())],
        );
        assert_failure(&app.get(&path, None).await, "INVALID_TICKET");
    }
    assert_eq!(tickets(&app).await, 0);
}

#[tokio::test]
async fn an_expired_ticket_is_refused() {
    let app = app().await;
    register_pronotes(&app).await;
    let (_, ticket) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1).await;
    app.store.fixture_execute("UPDATE cas_tickets SET expires_at = created_at", &[]).await.unwrap();
    let path = validation("/cas/serviceValidate", &[("service", PRONOTE_1), ("ticket", &ticket)]);
    assert_failure(&app.get(&path, None).await, "INVALID_TICKET");
    assert_eq!(tickets(&app).await, 0);
}

#[tokio::test]
async fn an_injected_or_oversized_ticket_is_refused_before_any_lookup_and_never_echoed() {
    let app = app().await;
    register_pronotes(&app).await;
    let (_, real) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1).await;
    let injected = format!(
        "{real}</cas:authenticationFailure><cas:authenticationSuccess><cas:user>admin</cas:user>\
         </cas:authenticationSuccess><cas:authenticationFailure code=\"x\">"
    );
    let huge = format!("ST-{}", "a".repeat(10 * 1024));
    for (ticket, endpoint) in [
        (injected.as_str(), "/cas/serviceValidate"),
        (injected.as_str(), "/cas/p3/proxyValidate"),
        (huge.as_str(), "/cas/serviceValidate"),
        ("ST-tooshort", "/cas/serviceValidate"),
        ("TGT-aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "/cas/serviceValidate"),
        ("PGT-aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "/cas/proxyValidate"),
        ("ST-aaaaaaaaaaaaaaaa%aaaaaaaaaaaaaaa", "/cas/serviceValidate"),
    ] {
        let path = validation(endpoint, &[("service", PRONOTE_1), ("ticket", ticket)]);
        let reply = app.get(&path, None).await;
        let doc = assert_failure(&reply, "INVALID_TICKET_SPEC");
        assert_eq!(doc.count("cas:user"), 0);
        assert!(!reply.body.contains("admin"), "{}", reply.body);
        assert!(!reply.body.contains(&real));
        let json = app.get(&format!("{path}&format=JSON"), None).await;
        let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        let failure = &value["serviceResponse"]["authenticationFailure"];
        assert_eq!(failure["code"], "INVALID_TICKET_SPEC");
        assert!(value["serviceResponse"].get("authenticationSuccess").is_none());
    }
    let reply = app
        .get(&validation("/cas/validate", &[("service", PRONOTE_1), ("ticket", &injected)]), None)
        .await;
    assert_eq!(reply.body, "no\n");

    // None of these touched the real ticket.
    let path = validation("/cas/serviceValidate", &[("service", PRONOTE_1), ("ticket", &real)]);
    assert_success(&app.get(&path, None).await);
}

#[tokio::test]
async fn a_proxy_ticket_is_refused_by_service_validate_and_burned() {
    let app = app().await;
    let (pronote, _) = register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let issue = || async {
        app.store
            .cas_issue_ticket(
                &NewTicket {
                    kind: TicketKind::Proxy,
                    service_id: &pronote,
                    service_url: PRONOTE_1,
                    person_id: ids::ALICE,
                    session_hash: &session_hash(&alice),
                    from_new_login: false,
                    second_factor: false,
                    authenticated_at: store::now_unix(),
                    proxies: &["https://proxy.example/pgt".to_owned()],
                },
                store::now_unix(),
            )
            .await
            .unwrap()
    };
    let pt = issue().await;
    for endpoint in ["/cas/serviceValidate", "/cas/p3/serviceValidate"] {
        let pt = issue().await;
        let path = validation(endpoint, &[("service", PRONOTE_1), ("ticket", &pt)]);
        let doc = assert_failure(&app.get(&path, None).await, "INVALID_TICKET_SPEC");
        assert!(doc.text("cas:authenticationFailure").unwrap().contains("proxyValidate"));
        let path = validation("/cas/proxyValidate", &[("service", PRONOTE_1), ("ticket", &pt)]);
        assert_failure(&app.get(&path, None).await, "INVALID_TICKET");
    }
    let cas1 = app
        .get(
            &validation("/cas/validate", &[("service", PRONOTE_1), ("ticket", &issue().await)]),
            None,
        )
        .await;
    assert_eq!(cas1.body, "no\n");

    let path = validation("/cas/proxyValidate", &[("service", PRONOTE_1), ("ticket", &pt)]);
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.text("cas:user").as_deref(), Some("alice.martin"));
    assert_eq!(doc.text("cas:proxy").as_deref(), Some("https://proxy.example/pgt"));
}

#[tokio::test]
async fn cas1_answers_yes_or_no() {
    let app = app().await;
    register_pronotes(&app).await;
    let (_, ticket) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1).await;
    let path = validation("/cas/validate", &[("service", PRONOTE_1), ("ticket", &ticket)]);
    let reply = app.get(&path, None).await;
    assert_eq!(reply.body, "yes\nalice.martin\n");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(app.get(&path, None).await.body, "no\n");
    assert_eq!(app.get("/cas/validate", None).await.body, "no\n");
}

#[tokio::test]
async fn json_answers_carry_the_same_content() {
    let app = app().await;
    register_pronotes(&app).await;
    let (_, ticket) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1).await;
    let path = validation(
        "/cas/p3/serviceValidate",
        &[("service", PRONOTE_1), ("ticket", &ticket), ("format", "JSON")],
    );
    let reply = app.get(&path, None).await;
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json; charset=utf-8");
    let value: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let success = &value["serviceResponse"]["authenticationSuccess"];
    assert_eq!(success["user"], "alice.martin");
    assert_eq!(success["attributes"]["categories"], "National_1");
    assert_eq!(success["attributes"]["dateNaissance"], "07/03/2013");
    assert_eq!(success["attributes"]["isFromNewLogin"], "false");

    let reply = app.get(&path, None).await;
    let value: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(value["serviceResponse"]["authenticationFailure"]["code"], "INVALID_TICKET");

    let bad = validation(
        "/cas/serviceValidate",
        &[("service", PRONOTE_1), ("ticket", &ticket), ("format", "YAML")],
    );
    assert_failure(&app.get(&bad, None).await, "INVALID_REQUEST");
}

#[tokio::test]
async fn ten_concurrent_validations_of_one_ticket_succeed_once() {
    let app = app().await;
    register_pronotes(&app).await;
    let (_, ticket) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1).await;
    let path = validation("/cas/serviceValidate", &[("service", PRONOTE_1), ("ticket", &ticket)]);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let router = app.router.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let request = axum::http::Request::get(&path).body(axum::body::Body::empty()).unwrap();
            let response = router.oneshot(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(body.to_vec()).unwrap().contains("<cas:authenticationSuccess>")
        }));
    }
    let mut successes = 0;
    for task in tasks {
        successes += usize::from(task.await.unwrap());
    }
    assert_eq!(successes, 1);
}

#[tokio::test]
async fn a_service_requiring_a_second_factor_needs_a_session_that_passed_it() {
    let app = app().await;
    let mut registration = Registration::pronote(ids::SCHOOL_1, PRONOTE_1);
    registration.require_second_factor = true;
    registration.register(&app).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;

    let reply = app.get(&login_path(PRONOTE_1), Some(&thomas)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let next = format!("/cas/login?service={}", encode_keep_slash(PRONOTE_1));
    assert_eq!(
        reply.location(),
        format!("/connexion/second-facteur?next={}", encode_keep_slash(&next))
    );
    assert_eq!(tickets(&app).await, 0);
    let gateway = app.get(&format!("{}&gateway=true", login_path(PRONOTE_1)), Some(&thomas)).await;
    assert_eq!(gateway.location(), PRONOTE_1, "gateway: back without a ticket");
    assert_eq!(tickets(&app).await, 0);

    let hash = session_hash(&thomas);
    app.store
        .fixture_execute("UPDATE sessions SET second_factor_at = 1 WHERE id_hash = $1", &[&hash])
        .await
        .unwrap();
    let ticket = ticket_of(&app.get(&login_path(PRONOTE_1), Some(&thomas)).await);
    let path = validation("/cas/serviceValidate", &[("service", PRONOTE_1), ("ticket", &ticket)]);
    assert_success(&app.get(&path, None).await);
}

#[tokio::test]
async fn logout_asks_first_then_ends_the_session_and_returns_only_to_a_registered_service() {
    let app = app().await;
    register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let pending = ticket_of(&app.get(&login_path(PRONOTE_1), Some(&alice)).await);

    let path =
        format!("/cas/logout?service={}&url={}", encode(PRONOTE_1), encode("https://evil.tld/"));
    let page = app.get(&path, Some(&alice)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("action=\"/cas/logout\""));
    assert!(page.body.contains(&format!("name=\"service\" value=\"{PRONOTE_1}\"")));
    assert!(!page.body.contains("evil.tld"), "url= is ignored");
    assert_eq!(
        app.get("/accueil", Some(&alice)).await.status,
        StatusCode::OK,
        "GET changed nothing"
    );

    let csrf = common::hidden_token(&page.body);
    let reply = app
        .post("/cas/logout", Some(&alice), &[("csrf_token", &csrf), ("service", PRONOTE_1)])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("Vous êtes déconnecté"));
    assert!(reply.body.contains(&format!("content=\"0;url={PRONOTE_1}\"")), "{}", reply.body);
    assert!(reply.cookie(SESSION).is_some_and(|c| c.ends_with('=')));
    assert_eq!(app.get("/accueil", Some(&alice)).await.status, StatusCode::SEE_OTHER);
    let path = validation("/cas/serviceValidate", &[("service", PRONOTE_1), ("ticket", &pending)]);
    assert_failure(&app.get(&path, None).await, "INVALID_TICKET");

    // Without a session: the logged-out page, with a link to a registered service only.
    let page = app.get(&format!("/cas/logout?service={}", encode(PRONOTE_1)), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Vous êtes déconnecté"));
    assert!(page.body.contains(&format!("href=\"{PRONOTE_1}\"")));
    let page = app.get("/cas/logout?url=https%3A%2F%2Fevil.tld%2F", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("evil.tld"));

    // A forged logout without the form token changes nothing.
    let bob = app.login_as(ids::BRUNO, "bruno.durand").await;
    let reply = app.post("/cas/logout", Some(&bob), &[("service", PRONOTE_1)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/accueil", Some(&bob)).await.status, StatusCode::OK);
}

/// An application allowed to proxy, whose callback is a loopback TLS server.
async fn proxying_service(app: &App, callback: &str) -> String {
    Registration {
        school: Some(ids::SCHOOL_1),
        urls: vec![
            (UrlMatch::Prefix, "https://app.college.fr/".to_owned()),
            (UrlMatch::Exact, callback.to_owned()),
            (UrlMatch::Exact, "http://127.0.0.1:18199/pgt".to_owned()),
        ],
        attributes: vec![Attribute::Login],
        principal: Principal::Opaque,
        profiles: vec![domain::profile::Profile::Pupil],
        allow_proxy: true,
        require_second_factor: false,
    }
    .register(app)
    .await
}

#[tokio::test]
async fn a_proxy_callback_over_http_or_with_an_untrusted_certificate_gets_no_ticket() {
    let app = app().await;
    let callback = callback(18150, self_signed(), 200).await;
    proxying_service(&app, &callback.url).await;
    register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let service = "https://app.college.fr/";

    for pgt_url in
        ["http://127.0.0.1:18199/pgt", "https://127.0.0.1:18150/autre", "https://evil.tld/pgt"]
    {
        let ticket = ticket_of(&app.get(&login_path(service), Some(&alice)).await);
        let path = validation(
            "/cas/serviceValidate",
            &[("service", service), ("ticket", &ticket), ("pgtUrl", pgt_url)],
        );
        let doc = assert_failure(&app.get(&path, None).await, "INVALID_PROXY_CALLBACK");
        assert_eq!(doc.count("cas:proxyGrantingTicket"), 0);
        assert_eq!(pgts(&app).await, 0, "{pgt_url}");
    }
    // The registered https callback with an untrusted certificate: the person is logged in
    // (CAS 3.0 §2.5.4), without a proxy-granting ticket.
    let ticket = ticket_of(&app.get(&login_path(service), Some(&alice)).await);
    let path = validation(
        "/cas/serviceValidate",
        &[("service", service), ("ticket", &ticket), ("pgtUrl", &callback.url)],
    );
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.count("cas:proxyGrantingTicket"), 0);
    assert_eq!(pgts(&app).await, 0);
    let connections = callback.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(connections, 1, "only the registered https callback was tried");
    assert!(callback.requests().is_empty(), "the TLS handshake failed: nothing was sent");

    // An application not allowed to proxy gets no proxy-granting ticket either.
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let ticket = ticket_of(&app.get(&login_path(PRONOTE_2), Some(&thomas)).await);
    let path = validation(
        "/cas/serviceValidate",
        &[
            ("service", PRONOTE_2),
            ("ticket", &ticket),
            ("pgtUrl", "https://0860002b.index-education.net/pronote/pgt"),
        ],
    );
    assert_failure(&app.get(&path, None).await, "UNAUTHORIZED_SERVICE_PROXY");
    assert_eq!(pgts(&app).await, 0);
}

#[tokio::test]
async fn proxy_tickets_come_from_a_live_proxy_granting_ticket_for_allowed_targets() {
    let app = app().await;
    let proxying = proxying_service(&app, "https://127.0.0.1:18151/pgt").await;
    register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let pgt_url = "https://127.0.0.1:18151/pgt".to_owned();
    let issued = app
        .store
        .cas_issue_proxy_granting(
            &store::sso::cas::NewProxyGranting {
                service_id: &proxying,
                person_id: ids::ALICE,
                session_hash: &session_hash(&alice),
                second_factor: false,
                authenticated_at: store::now_unix(),
                proxies: std::slice::from_ref(&pgt_url),
            },
            store::now_unix(),
        )
        .await
        .unwrap()
        .unwrap();

    let proxy = |target: &str| {
        validation("/cas/proxy", &[("pgt", &issued.ticket), ("targetService", target)])
    };
    let reply = app.get(&proxy(PRONOTE_1_PUPIL), None).await;
    let doc = CasDoc::parse(&reply.body);
    let pt = doc.text("cas:proxyTicket").expect("a proxy ticket");
    assert!(pt.starts_with("PT-") && pt.len() == 32);

    let path = validation("/cas/serviceValidate", &[("service", PRONOTE_1_PUPIL), ("ticket", &pt)]);
    assert_failure(&app.get(&path, None).await, "INVALID_TICKET_SPEC");
    let pt = CasDoc::parse(&app.get(&proxy(PRONOTE_1_PUPIL), None).await.body)
        .text("cas:proxyTicket")
        .unwrap();
    let path = validation("/cas/proxyValidate", &[("service", PRONOTE_1_PUPIL), ("ticket", &pt)]);
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.text("cas:user").as_deref(), Some("alice.martin"));
    assert_eq!(doc.text("cas:proxy").as_deref(), Some(pgt_url.as_str()));

    let failure = |reply: &common::Reply| CasDoc::parse(&reply.body).failure_code();
    // Collège 2's Pronote does not accept Alice; an unregistered target is nobody's.
    let reply = app.get(&proxy(PRONOTE_2_PUPIL), None).await;
    assert_eq!(failure(&reply).as_deref(), Some("UNAUTHORIZED_SERVICE"));
    let reply = app.get(&proxy("https://evil.tld/"), None).await;
    assert_eq!(failure(&reply).as_deref(), Some("UNAUTHORIZED_SERVICE"));
    let reply = app.get("/cas/proxy?targetService=x", None).await;
    assert_eq!(failure(&reply).as_deref(), Some("INVALID_REQUEST"));
    let reply = app
        .get(&validation("/cas/proxy", &[("pgt", "PGT-<x>"), ("targetService", PRONOTE_1)]), None)
        .await;
    assert_eq!(failure(&reply).as_deref(), Some("INVALID_REQUEST"));
    let reply = app
        .get(
            &validation(
                "/cas/proxy",
                &[("pgt", "PGT-aaaaaaaaaaaaaaaaaaaaaaaa"), ("targetService", PRONOTE_1)],
            ),
            None,
        )
        .await;
    assert_eq!(failure(&reply).as_deref(), Some("INVALID_TICKET"));
    // In JSON, a failure of /cas/proxy is a proxyFailure, as in XML.
    let path = validation(
        "/cas/proxy",
        &[
            ("pgt", "PGT-aaaaaaaaaaaaaaaaaaaaaaaa"),
            ("targetService", PRONOTE_1),
            ("format", "JSON"),
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&app.get(&path, None).await.body).unwrap();
    assert_eq!(json["serviceResponse"]["proxyFailure"]["code"], "INVALID_TICKET", "{json}");
    assert!(json["serviceResponse"].get("authenticationFailure").is_none(), "{json}");

    // The proxy-granting ticket dies with the session.
    let page = app.get("/cas/logout", Some(&alice)).await;
    let csrf = common::hidden_token(&page.body);
    app.post("/cas/logout", Some(&alice), &[("csrf_token", &csrf)]).await;
    assert_eq!(pgts(&app).await, 0);
    let reply = app.get(&proxy(PRONOTE_1_PUPIL), None).await;
    assert_eq!(failure(&reply).as_deref(), Some("INVALID_TICKET"));
}

/// Set in the child process of the trusted-callback test (see below): the folder holding the
/// callback's certificate and key.
const TRUSTED_CHILD: &str = "PREAU_CAS_TEST_TLS_DIR";

/// The server checks a callback's certificate against the system's trusted roots, and nothing
/// here weakens that: the test authority becomes the only trusted root of a child process
/// (`SSL_CERT_FILE`, which the system store honours), which runs this same test.
#[tokio::test]
async fn a_trusted_proxy_callback_gets_the_ticket_and_a_refusing_one_does_not() {
    match std::env::var_os(TRUSTED_CHILD) {
        Some(dir) => trusted_round_trip(std::path::Path::new(&dir)).await,
        None => {
            let dir = tempfile::tempdir().unwrap();
            let identity = from_test_authority();
            std::fs::write(dir.path().join("authority.pem"), &identity.authority_pem).unwrap();
            std::fs::write(dir.path().join("leaf.der"), identity.chain[0].as_ref()).unwrap();
            std::fs::write(dir.path().join("authority.der"), identity.chain[1].as_ref()).unwrap();
            std::fs::write(dir.path().join("key.der"), identity.key.secret_der()).unwrap();
            let output = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "a_trusted_proxy_callback_gets_the_ticket_and_a_refusing_one_does_not",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(TRUSTED_CHILD, dir.path())
                .env("SSL_CERT_FILE", dir.path().join("authority.pem"))
                .env_remove("SSL_CERT_DIR")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{text}");
            assert!(text.contains("1 passed"), "{text}");
        }
    }
}

fn identity_from(dir: &std::path::Path) -> Identity {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    Identity {
        chain: vec![read("leaf.der").into(), read("authority.der").into()],
        key: tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(read("key.der").into()),
        authority_pem: String::new(),
    }
}

async fn trusted_round_trip(dir: &std::path::Path) {
    let app = app().await;
    let accepting = callback(18153, identity_from(dir), 200).await;
    let refusing = callback(18154, identity_from(dir), 404).await;
    let service = "https://app.college.fr/";
    let proxying = proxying_service(&app, &accepting.url).await;
    app.store
        .fixture_execute(
            "INSERT INTO sso_service_urls (service_id, match_kind, url, origin) \
             VALUES ($1, 'exact', $2, 'https://127.0.0.1:18154')",
            &[&proxying, &refusing.url],
        )
        .await
        .unwrap();
    register_pronotes(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;

    // A callback that answers anything but 200 gets no ticket; the login itself succeeds.
    let ticket = ticket_of(&app.get(&login_path(service), Some(&alice)).await);
    let path = validation(
        "/cas/serviceValidate",
        &[("service", service), ("ticket", &ticket), ("pgtUrl", &refusing.url)],
    );
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.count("cas:proxyGrantingTicket"), 0);
    assert_eq!(refusing.requests().len(), 1, "the certificate was trusted, the answer was not 200");
    assert_eq!(pgts(&app).await, 0);

    let ticket = ticket_of(&app.get(&login_path(service), Some(&alice)).await);
    let path = validation(
        "/cas/p3/serviceValidate",
        &[("service", service), ("ticket", &ticket), ("pgtUrl", &accepting.url)],
    );
    let doc = assert_success(&app.get(&path, None).await);
    let iou = doc.text("cas:proxyGrantingTicket").expect("a PGT IOU");
    assert!(iou.starts_with("PGTIOU-"));
    assert_eq!(pgts(&app).await, 1);
    let requests = accepting.requests();
    assert_eq!(requests.len(), 1);
    let line = &requests[0];
    assert!(line.starts_with(&format!("GET /pgt?pgtIou={iou}&pgtId=PGT-")), "{line}");
    let pgt = line.split("pgtId=").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    assert!(!pgt.contains(&iou[7..]), "the IOU does not reveal the ticket");

    let proxy = validation("/cas/proxy", &[("pgt", &pgt), ("targetService", PRONOTE_1_PUPIL)]);
    let pt = CasDoc::parse(&app.get(&proxy, None).await.body).text("cas:proxyTicket").unwrap();
    let path = validation("/cas/proxyValidate", &[("service", PRONOTE_1_PUPIL), ("ticket", &pt)]);
    let doc = assert_success(&app.get(&path, None).await);
    assert_eq!(doc.text("cas:user").as_deref(), Some("alice.martin"));
    assert_eq!(doc.text("cas:proxy").as_deref(), Some(accepting.url.as_str()));
}

#[tokio::test]
async fn an_unreadable_validation_still_burns_the_ticket_it_names() {
    let app = app().await;
    register_pronotes(&app).await;
    for endpoint in ["/cas/p3/serviceValidate", "/cas/validate"] {
        let (_, ticket) = ticket_for(&app, ids::ALICE, "alice.martin", PRONOTE_1).await;
        let doubled = validation(
            endpoint,
            &[("service", PRONOTE_1), ("ticket", &ticket), ("ticket", &ticket)],
        );
        let refused = app.get(&doubled, None).await;
        assert_eq!(refused.status, StatusCode::OK);
        assert!(!refused.body.starts_with("yes"), "{}", refused.body);
        let retried = validation(endpoint, &[("service", PRONOTE_1), ("ticket", &ticket)]);
        let retried = app.get(&retried, None).await;
        if endpoint == "/cas/validate" {
            assert_eq!(retried.body, "no\n");
        } else {
            assert_failure(&retried, "INVALID_TICKET");
        }
    }
}
