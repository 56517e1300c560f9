//! Activation, login, throttling, logout and session lifetime over HTTP, with the router in
//! process.

mod common;

use axum::http::StatusCode;
use common::*;
use web::WebConfig;

const NEW_PASSWORD: &str = "Tromblon-Girafe-Velours-9";

fn activation<'a>(
    login: &'a str,
    code: &'a str,
    birth: &'a str,
    pw: &'a str,
    again: &'a str,
) -> [(&'a str, &'a str); 6] {
    [
        ("csrf_token", PRE_TOKEN),
        ("login", login),
        ("code", code),
        ("birth_date", birth),
        ("password", pw),
        ("password_confirm", again),
    ]
}

#[tokio::test]
async fn a_pupil_activates_with_code_and_birth_date_then_the_code_is_dead() {
    let app = app().await;
    let code = code_for("alice.martin");
    let typed_code = format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]).to_lowercase();

    let done = app
        .post(
            "/activation",
            Some(PRE_COOKIE),
            &activation("Alice.Martin", &typed_code, "07/03/2013", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/connexion?active=1");

    let again = app
        .post(
            "/activation",
            Some(PRE_COOKIE),
            &activation("alice.martin", &code, "07/03/2013", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.body.contains("ne permettent pas d&#39;activer un compte")
            || again.body.contains("ne permettent pas d'activer")
    );

    let login = app.try_login("alice.martin", NEW_PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let audits = app
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account_activated' AND target_id = $1",
            &[ids::ALICE],
        )
        .await
        .unwrap();
    assert_eq!(audits, 1);
}

#[tokio::test]
async fn a_wrong_code_a_wrong_birth_date_and_an_unknown_login_get_the_same_refusal() {
    let app = app().await;
    let code = code_for("alice.martin");

    let wrong_code = app
        .post(
            "/activation",
            Some(PRE_COOKIE),
            &activation("alice.martin", "ABCDABCDABCD", "07/03/2013", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    let wrong_birth = app
        .post(
            "/activation",
            Some(PRE_COOKIE),
            &activation("alice.martin", &code, "08/03/2013", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    let unknown = app
        .post(
            "/activation",
            Some(PRE_COOKIE),
            &activation("alice.martin", &code, "", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;

    for reply in [&wrong_code, &wrong_birth, &unknown] {
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("demandez un nouveau code"));
    }
    assert!(app.store.activation_target("alice.martin").await.unwrap().unwrap().code_alive);
}

#[tokio::test]
async fn an_expired_code_is_refused_like_a_wrong_one() {
    let app = app().await;
    app.store
        .fixture_execute(
            "UPDATE accounts SET activation_expires_at = 1 WHERE person_id = $1",
            &[ids::PAUL],
        )
        .await
        .unwrap();

    let reply = app
        .post(
            "/activation",
            Some(PRE_COOKIE),
            &activation("paul.martin", &code_for("paul.martin"), "", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("demandez un nouveau code"));
}

#[tokio::test]
async fn a_weak_or_personal_or_mismatched_password_is_refused_and_the_code_stays_alive() {
    let app = app().await;
    let code = code_for("paul.martin");

    for (password, again, expected) in [
        ("court", "court", "au moins 10 caractères"),
        ("Martin2024!", "Martin2024!", "votre nom"),
        // Paul's children are at Jean Moulin and Camille Claudel.
        ("JeanMoulin2024", "JeanMoulin2024", "votre nom"),
        ("camille-claudel!", "camille-claudel!", "votre nom"),
        (NEW_PASSWORD, "autre chose encore", "différents"),
    ] {
        let reply = app
            .post(
                "/activation",
                Some(PRE_COOKIE),
                &activation("paul.martin", &code, "", password, again),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert!(reply.body.contains(expected), "{password}: {}", reply.body);
        assert!(reply.body.contains("aria-describedby=\"aide-mdp erreur-mdp\""));
    }
    assert!(app.store.activation_target("paul.martin").await.unwrap().unwrap().code_alive);
}

#[tokio::test]
async fn a_login_succeeds_with_a_new_session_cookie_and_goes_to_next() {
    let app = app().await;
    app.set_password(ids::ALICE).await;

    let fields = [
        ("csrf_token", PRE_TOKEN),
        ("login", " Alice.Martin "),
        ("password", PASSWORD),
        ("next", "/annuaire"),
    ];
    let reply = app.post("/connexion", Some(PRE_COOKIE), &fields).await;

    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/annuaire");
    let set = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with("__Host-preau_session=")).unwrap();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{session}");
    }
    let value = session.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(value.len(), 32, "128 bits in hexadecimal");
    assert!(
        value.bytes().all(|b| b.is_ascii_hexdigit()),
        "the CAS ticket-granting cookie's charset, [A-Za-z0-9-]: {value}"
    );
}

#[tokio::test]
async fn a_hostile_next_is_ignored() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    for next in ["//evil.tld", "https://evil.tld", "/\\evil.tld"] {
        let fields = [
            ("csrf_token", PRE_TOKEN),
            ("login", "alice.martin"),
            ("password", PASSWORD),
            ("next", next),
        ];
        let reply = app.post("/connexion", Some(PRE_COOKIE), &fields).await;
        assert_eq!(reply.location(), "/accueil", "{next}");
    }
}

#[tokio::test]
async fn an_unknown_login_and_a_wrong_password_get_the_same_status_and_body() {
    let app = app().await;
    app.set_password(ids::ALICE).await;

    let wrong = app.try_login("alice.martin", "pas le bon mot de passe").await;
    let unknown = app.try_login("alice.martinez", "pas le bon mot de passe").await;
    let not_activated = app.try_login("bruno.durand", "pas le bon mot de passe").await;

    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Identifiant ou mot de passe incorrect."));
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert_eq!((wrong.status, &wrong.body), (not_activated.status, &not_activated.body));
}

#[tokio::test]
async fn a_frozen_account_gets_the_same_refusal_even_with_the_right_password() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    app.store
        .fixture_execute("UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();

    let frozen = app.try_login("alice.martin", PASSWORD).await;
    let unknown = app.try_login("nobody.at.all", PASSWORD).await;

    assert_eq!(frozen.status, StatusCode::UNAUTHORIZED);
    assert_eq!(frozen.body, unknown.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_parallel_attempts_gets_only_the_free_attempts_through() {
    let app = std::sync::Arc::new(app().await);
    app.set_password(ids::ALICE).await;

    let attempts = (0..20).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { app.try_login("alice.martin", "not the password").await.status })
    });
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }

    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, throttled), (3, 17), "{statuses:?}");
    let right = app.try_login("alice.martin", PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "the right password waits too");
}

#[tokio::test]
async fn repeated_failures_are_throttled_the_same_for_known_and_unknown_logins() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    app.set_password(ids::BRUNO).await;

    for login in ["alice.martin", "ghost.login"] {
        for _ in 0..3 {
            assert_eq!(
                app.try_login(login, "mauvais mot de passe").await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let throttled = app.try_login(login, PASSWORD).await;
        assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{login}");
        assert!(
            throttled.body.contains("Trop de tentatives : réessayez dans 1 secondes"),
            "{}",
            throttled.body
        );
        assert_eq!(throttled.headers.get("retry-after").unwrap(), "1");
    }

    let other = app.try_login("bruno.durand", PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_delay_doubles_and_a_success_resets_it() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    app.store.throttle_failure("alice.martin", now_ms).await.unwrap();
    for _ in 0..5 {
        app.store.throttle_failure("alice.martin", now_ms).await.unwrap();
    }

    let throttled = app.try_login("alice.martin", PASSWORD).await;
    assert!(throttled.body.contains("réessayez dans 8 secondes"), "{}", throttled.body);

    app.store
        .fixture_execute(
            "UPDATE login_throttle SET last_failure_ms = 0 WHERE login_key = $1",
            &["alice.martin"],
        )
        .await
        .unwrap();
    assert_eq!(app.try_login("alice.martin", PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert!(app.store.throttle_state("alice.martin").await.unwrap().is_none());
}

#[tokio::test]
async fn a_login_without_the_form_token_is_refused() {
    let app = app().await;
    app.set_password(ids::ALICE).await;

    let no_cookie = app
        .post(
            "/connexion",
            None,
            &[("csrf_token", PRE_TOKEN), ("login", "alice.martin"), ("password", PASSWORD)],
        )
        .await;
    let wrong = app
        .post(
            "/connexion",
            Some(PRE_COOKIE),
            &[
                ("csrf_token", "autre-chose-de-bien-long-123"),
                ("login", "alice.martin"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("Action refusée"));
}

#[tokio::test]
async fn the_login_form_sets_a_prelogin_token_cookie() {
    let app = app().await;

    let page = app.get("/connexion", None).await;

    assert_eq!(page.status, StatusCode::OK);
    let cookie = page.cookie("__Host-preau_csrf").unwrap();
    assert_eq!(cookie.split_once('=').unwrap().1, hidden_token(&page.body));
}

#[tokio::test]
async fn logout_kills_the_session_on_the_server() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    let token = app.csrf(&cookie).await;

    let out = app.post("/deconnexion", Some(&cookie), &[("csrf_token", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));

    let replay = app.get("/accueil", Some(&cookie)).await;
    assert_eq!(replay.status, StatusCode::SEE_OTHER);
    assert!(replay.location().starts_with("/connexion"));
    assert_eq!(
        app.store
            .fixture_count("SELECT COUNT(*) FROM sessions WHERE person_id = $1", &[ids::ALICE])
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    assert_eq!(app.get("/accueil", Some(&cookie)).await.status, StatusCode::OK);

    app.store
        .fixture_execute(
            "UPDATE sessions SET last_seen_at = last_seen_at - 1801 WHERE person_id = $1",
            &[ids::ALICE],
        )
        .await
        .unwrap();

    let reply = app.get("/accueil", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/connexion?next=/accueil");
}

#[tokio::test]
async fn activity_slides_the_idle_timeout() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    let age = "UPDATE sessions SET last_seen_at = last_seen_at - 1700 WHERE person_id = $1";

    app.store.fixture_execute(age, &[ids::ALICE]).await.unwrap();
    assert_eq!(app.get("/accueil", Some(&cookie)).await.status, StatusCode::OK);
    app.store.fixture_execute(age, &[ids::ALICE]).await.unwrap();

    // 3400 s after login but only 1700 s after the last request: still alive.
    assert_eq!(app.get("/accueil", Some(&cookie)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn with_a_short_idle_limit_an_active_person_stays_logged_in() {
    let app =
        app_with(WebConfig { session_idle: std::time::Duration::from_secs(20), ..config() }).await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    let age = "UPDATE sessions SET last_seen_at = last_seen_at - 12 WHERE person_id = $1";

    for _ in 0..4 {
        app.store.fixture_execute(age, &[ids::ALICE]).await.unwrap();
        assert_eq!(app.get("/accueil", Some(&cookie)).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_limit_even_when_active() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    app.store
        .fixture_execute(
            "UPDATE sessions SET expires_at = expires_at - 43200 WHERE person_id = $1",
            &[ids::ALICE],
        )
        .await
        .unwrap();

    let reply = app.get("/accueil", Some(&cookie)).await;

    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store
            .fixture_count("SELECT COUNT(*) FROM sessions WHERE person_id = $1", &[ids::ALICE])
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_session_cookie_set_before_login_is_not_adopted() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    let planted = "__Host-preau_session=AAAAAAAAAAAAAAAAAAAAAA";

    let fields = [("csrf_token", PRE_TOKEN), ("login", "alice.martin"), ("password", PASSWORD)];
    let reply = app.post("/connexion", Some(&format!("{PRE_COOKIE}; {planted}")), &fields).await;

    let issued = reply.cookie(SESSION).unwrap();
    assert_ne!(issued, planted);
    assert_eq!(app.get("/accueil", Some(planted)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/accueil", Some(&issued)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_frozen_persons_session_is_refused() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    app.store
        .fixture_execute("UPDATE people SET active = 0 WHERE id = $1", &[ids::ALICE])
        .await
        .unwrap();

    assert_eq!(app.get("/accueil", Some(&cookie)).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn changing_ones_password_ends_the_other_sessions_only() {
    let app = app().await;
    let phone = app.login_as(ids::PAUL, "paul.martin").await;
    let laptop = app.try_login("paul.martin", PASSWORD).await.cookie(SESSION).unwrap();
    let token = app.csrf(&laptop).await;

    let fields = [
        ("csrf_token", token.as_str()),
        ("current_password", PASSWORD),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    let reply = app.post("/parametres/mot-de-passe", Some(&laptop), &fields).await;

    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(app.get("/accueil", Some(&laptop)).await.status, StatusCode::OK);
    assert_eq!(app.get("/accueil", Some(&phone)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.try_login("paul.martin", NEW_PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guessing_the_current_password_from_an_open_session_is_throttled() {
    let app = std::sync::Arc::new(app().await);
    let cookie = app.login_as(ids::PAUL, "paul.martin").await;
    let token = app.csrf(&cookie).await;

    let guesses = (0..12).map(|n| {
        let (app, cookie, token) = (app.clone(), cookie.clone(), token.clone());
        tokio::spawn(async move {
            let guess = format!("mauvais essai {n}");
            let fields = [
                ("csrf_token", token.as_str()),
                ("current_password", guess.as_str()),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ];
            app.post("/parametres/mot-de-passe", Some(&cookie), &fields).await.status
        })
    });
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }

    let checked = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, throttled), (3, 9), "{statuses:?}");
}

#[tokio::test]
async fn an_old_hash_is_upgraded_at_login() {
    use argon2::PasswordHasher;
    let app = app().await;
    let weak = argon2::Argon2::from(argon2::Params::new(8192, 1, 1, None).unwrap())
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    app.store.change_password(ids::ALICE, &weak, None).await.unwrap();

    assert_eq!(app.try_login("alice.martin", PASSWORD).await.status, StatusCode::SEE_OTHER);

    let stored =
        app.store.login_account("alice.martin").await.unwrap().unwrap().password_hash.unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
}

fn login_from(
    peer: &str,
    forwarded: Option<&str>,
    login: &str,
) -> axum::http::Request<axum::body::Body> {
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    let fields =
        [("csrf_token", PRE_TOKEN), ("login", login), ("password", "mauvais mot de passe")];
    let mut request = axum::http::Request::post("/connexion")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", PRE_COOKIE);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let mut request = request.body(axum::body::Body::from(form_body(&fields))).unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    request
}

#[tokio::test]
async fn many_failures_from_one_address_slow_it_down_without_refusing_it() {
    let config = web::WebConfig {
        trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
        max_concurrent_hashes: 2,
        ..web::WebConfig::default()
    };
    let app = app_with(config).await;
    app.set_password(ids::ALICE).await;

    for n in 0..101 {
        let reply =
            app.send(login_from("10.0.0.1:4000", Some("203.0.113.9"), &format!("eleve.{n}"))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }

    let started = std::time::Instant::now();
    let slowed = app.send(login_from("10.0.0.1:4000", Some("203.0.113.9"), "eleve.x")).await;
    assert_eq!(slowed.status, StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));

    // Another pupil behind another address, or a spoofed header from an untrusted peer, is not
    // slowed down.
    let started = std::time::Instant::now();
    let other = app.send(login_from("10.0.0.1:4000", Some("198.51.100.7"), "eleve.y")).await;
    let spoofed = app.send(login_from("192.0.2.50:4000", Some("203.0.113.9"), "eleve.z")).await;
    assert_eq!(
        (other.status, spoofed.status),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
