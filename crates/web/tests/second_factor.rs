//! The second factor over HTTP: an administrator's password alone opens a session that reaches
//! nothing (pages, consoles, messages, CAS, OpenID Connect) until a TOTP code passes; codes
//! that are wrong, used or expired are refused and throttled; enrolment at the first login, with
//! recovery codes that work once; the deployment flag; the step-up an application asks for;
//! hostile `next` values; replacing and removing a factor (password and code, other sessions
//! ended, never for an administrator's removal); the page that moves a login on to a sign-on
//! request; pupils are not offered a factor.

mod common;

use axum::http::StatusCode;
use common::*;
use domain::profile::Profile;
use domain::sso::{Principal, Protocol, UrlMatch};
use store::sso::admin::NewService;

const PRONOTE: &str = "https://pronote.example/";
const APP_RETURN: &str = "https://appli.example/retour";
const CHALLENGE: &str = "/connexion/second-facteur?next=/accueil";

/// The current TOTP step.
fn current_step() -> i64 {
    store::now_unix().div_euclid(STEP)
}

/// A six-digit code that no step of the window accepts for `secret`.
fn wrong_code(secret: &str) -> String {
    let step = current_step();
    let valid: Vec<String> = (step - 2..=step + 2).map(|s| totp_code(secret, s * STEP)).collect();
    (0..)
        .map(|n: u32| format!("{:06}", (123_457 + n * 7919) % 1_000_000))
        .find(|code| !valid.contains(code))
        .unwrap()
}

/// Logs Hélène (head, school administrator) in with her password only: the waiting session.
/// (Her password is set once per test: setting it ends her sessions.)
async fn helene_waiting(app: &App) -> String {
    let reply = app.try_login("helene.roux", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), CHALLENGE);
    reply.cookie(SESSION).unwrap()
}

/// Posts a code on the second-factor step of a session, going on to `next`.
async fn post_code(app: &App, cookie: &str, code: &str, next: &str) -> Reply {
    let page = app.get(CHALLENGE, Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = hidden_token(&page.body);
    let fields = [("csrf_token", csrf.as_str()), ("code", code), ("next", next)];
    app.post("/connexion/second-facteur", Some(cookie), &fields).await
}

/// The manual key shown by the enrolment page, without its spaces.
fn shown_secret(body: &str) -> String {
    let marker = "id=\"cle-second-facteur\">";
    let start = body.find(marker).expect("the key is shown") + marker.len();
    body[start..].split('<').next().unwrap().replace(' ', "")
}

/// The recovery codes a page shows.
fn shown_recovery_codes(body: &str) -> Vec<String> {
    body.split("<li class=\"code\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

/// Posts a code confirming the enrolment shown to a session.
async fn post_confirmation(app: &App, cookie: &str, csrf: &str, code: &str, next: &str) -> Reply {
    let fields =
        [("csrf_token", csrf), ("code", code), ("next", next), ("current_password", PASSWORD)];
    app.post("/parametres/second-facteur/activer", Some(cookie), &fields).await
}

/// Posts the removal of the factor of a session.
async fn post_removal(app: &App, cookie: &str, password: &str, code: &str) -> Reply {
    let csrf = app.csrf(cookie).await;
    let fields = [("csrf_token", csrf.as_str()), ("current_password", password), ("code", code)];
    app.post("/parametres/second-facteur/supprimer", Some(cookie), &fields).await
}

/// The next code the server accepts for the person's factor, waiting for the next step when
/// this test used the window up.
async fn fresh_code(app: &App, person_id: &str) -> String {
    if let Some(code) = app.next_code(person_id).await {
        return code;
    }
    tokio::time::sleep(std::time::Duration::from_secs(31)).await;
    app.next_code(person_id).await.unwrap()
}

async fn register(app: &App, new: NewService) {
    app.store.register_service(None, &new).await.unwrap();
}

fn cas_service(require_second_factor: bool) -> NewService {
    NewService {
        name: "Pronote".to_owned(),
        protocol: Protocol::Cas,
        school_id: None,
        principal: Principal::Login,
        attributes: Vec::new(),
        require_second_factor,
        allow_proxy: false,
        client_id: None,
        client_secret_hash: None,
        urls: vec![(UrlMatch::Prefix, PRONOTE.to_owned())],
        logout_urls: Vec::new(),
        schools: Vec::new(),
        profiles: vec![Profile::Teacher, Profile::Staff, Profile::Relative],
    }
}

fn oidc_client() -> NewService {
    NewService {
        name: "Appli".to_owned(),
        protocol: Protocol::Oidc,
        client_id: Some("appli".to_owned()),
        urls: vec![(UrlMatch::Exact, APP_RETURN.to_owned())],
        ..cas_service(false)
    }
}

fn cas_login_path() -> String {
    format!("/cas/login?service={}", encode(PRONOTE))
}

fn authorize_path() -> String {
    format!(
        "/oidc/authorize?response_type=code&client_id=appli&redirect_uri={}&scope=openid\
         &state=etat&code_challenge={}&code_challenge_method=S256",
        encode(APP_RETURN),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
}

#[tokio::test]
async fn an_administrator_s_password_alone_reaches_nothing() {
    let app = app().await;
    app.set_password(ids::HELENE).await;
    register(&app, cas_service(false)).await;
    register(&app, oidc_client()).await;
    app.enrol_second_factor(ids::HELENE, "").await;
    let waiting = helene_waiting(&app).await;

    for path in [
        "/accueil",
        "/parametres",
        "/annuaire?q=mar",
        "/messagerie/dossiers/reception",
        "/messagerie/ecrire",
        "/actualites",
        "/emploi-du-temps",
        "/etablissement/0860001A",
        "/etablissement/0860001A/codes.csv",
    ] {
        let reply = app.get(path, Some(&waiting)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}: {}", reply.body);
        assert!(reply.location().starts_with("/connexion?next="), "{path}: {}", reply.location());
    }
    let events = app.get("/messagerie/evenements", Some(&waiting)).await;
    assert_eq!(events.status, StatusCode::NO_CONTENT, "no live count either");
    let csrf = hidden_token(&app.get(CHALLENGE, Some(&waiting)).await.body);
    let post = app.post("/parametres", Some(&waiting), &[("csrf_token", &csrf)]).await;
    assert_eq!(post.location(), "/connexion?next=/accueil");

    // The sign-on endpoints treat the waiting session as no session: no ticket, no code.
    let cas = app.get(&cas_login_path(), Some(&waiting)).await;
    assert!(cas.location().starts_with("/connexion"), "{} {}", cas.status, cas.location());
    assert!(!cas.location().contains("ticket="));
    let oidc = app.get(&authorize_path(), Some(&waiting)).await;
    assert!(oidc.location().starts_with("/connexion"), "{} {}", oidc.status, oidc.location());
    assert!(!oidc.location().contains("code="));

    // The login page sends the waiting session on to its second factor.
    let login_page = app.get("/connexion?next=/annuaire", Some(&waiting)).await;
    assert_eq!(login_page.location(), "/connexion/second-facteur?next=/annuaire");

    // Once the code passes, the same requests succeed.
    let whole = app.pass_second_factor(ids::HELENE, &waiting).await;
    assert_eq!(app.get("/etablissement/0860001A", Some(&whole)).await.status, StatusCode::OK);
    let cas = app.get(&cas_login_path(), Some(&whole)).await;
    assert!(cas.location().starts_with(PRONOTE) && cas.location().contains("ticket=ST-"));
    let oidc = app.get(&authorize_path(), Some(&whole)).await;
    assert!(oidc.location().starts_with(APP_RETURN), "{}", oidc.location());
    assert!(oidc.location().contains("code="));
}

#[tokio::test]
async fn the_departement_administrator_passes_a_second_factor_too() {
    let app = app().await;
    app.set_password(ids::AGNES).await;
    let reply = app.try_login("agnes.vidal", PASSWORD).await;
    assert_eq!(reply.location(), CHALLENGE, "{}", reply.body);
    let waiting = reply.cookie(SESSION).unwrap();
    assert_eq!(app.get("/departement", Some(&waiting)).await.status, StatusCode::SEE_OTHER);

    // Without a factor yet, the second-factor step is the enrolment.
    let step = app.get(CHALLENGE, Some(&waiting)).await;
    assert_eq!(step.location(), "/parametres/second-facteur?next=/accueil");
}

#[tokio::test]
async fn the_code_opens_a_new_session_and_ends_the_waiting_one() {
    let app = app().await;
    app.set_password(ids::HELENE).await;
    app.enrol_second_factor(ids::HELENE, "").await;
    let waiting = helene_waiting(&app).await;

    let code = app.next_code(ids::HELENE).await.unwrap();
    let reply = post_code(&app, &waiting, &code, "/annuaire").await;

    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/annuaire");
    let whole = reply.cookie(SESSION).unwrap();
    assert_ne!(whole, waiting);
    assert_eq!(app.get("/accueil", Some(&whole)).await.status, StatusCode::OK);
    assert_eq!(app.get("/accueil", Some(&waiting)).await.status, StatusCode::SEE_OTHER);
    let session = app.store.session(&session_hash(&whole)).await.unwrap().unwrap();
    assert!(session.second_factor_at.is_some());
}

#[tokio::test]
async fn wrong_used_and_expired_codes_are_refused() {
    let app = app().await;
    app.set_password(ids::HELENE).await;
    app.enrol_second_factor(ids::HELENE, "").await;
    let first = helene_waiting(&app).await;
    let code = app.next_code(ids::HELENE).await.unwrap();
    assert_eq!(post_code(&app, &first, &code, "/accueil").await.status, StatusCode::SEE_OTHER);

    let waiting = helene_waiting(&app).await;
    let used = post_code(&app, &waiting, &code, "/accueil").await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED, "a code counts once");
    assert!(used.body.contains("ne sert qu'une fois"));
    let wrong = post_code(&app, &waiting, &wrong_code(TOTP_SECRET), "/accueil").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let expired = totp_code(TOTP_SECRET, (current_step() - 3) * STEP);
    let late = post_code(&app, &waiting, &expired, "/accueil").await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED, "a code three steps old");
    assert_eq!(app.get("/accueil", Some(&waiting)).await.status, StatusCode::SEE_OTHER);

    app.store.throttle_reset(&format!("second-factor:{}", ids::HELENE)).await.unwrap();
    let code = app.next_code(ids::HELENE).await.unwrap();
    assert_eq!(post_code(&app, &waiting, &code, "/accueil").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn codes_are_throttled_per_person() {
    let app = app().await;
    app.set_password(ids::HELENE).await;
    app.enrol_second_factor(ids::HELENE, "").await;
    let waiting = helene_waiting(&app).await;
    for _ in 0..3 {
        let reply = post_code(&app, &waiting, &wrong_code(TOTP_SECRET), "/accueil").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }

    let code = app.next_code(ids::HELENE).await.unwrap();
    let throttled = post_code(&app, &waiting, &code, "/accueil").await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{}", throttled.body);
    assert!(throttled.headers.get("retry-after").is_some());
    assert!(throttled.body.contains("Trop de tentatives"));

    // Another person is not slowed down.
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    assert_eq!(app.get("/accueil", Some(&marc)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_administrator_enrols_at_first_login_and_recovery_codes_work_once() {
    let app = app().await;
    app.set_password(ids::HELENE).await;
    let waiting = helene_waiting(&app).await;
    let step = app.get(CHALLENGE, Some(&waiting)).await;
    assert_eq!(step.location(), "/parametres/second-facteur?next=/accueil");

    let page = app.get("/parametres/second-facteur?next=/accueil", Some(&waiting)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<img class=\"qr\" src=\"data:image/svg+xml;base64,"));
    assert!(!page.body.contains("Navigation principale"), "nothing else is offered yet");
    let secret = shown_secret(&page.body);
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    let csrf = hidden_token(&page.body);

    let refused = post_confirmation(&app, &waiting, &csrf, &wrong_code(&secret), "/accueil").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.second_factor(ids::HELENE).await.unwrap().is_none());

    let code = totp_code(&secret, store::now_unix());
    let done = post_confirmation(&app, &waiting, &csrf, &code, "/accueil").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let codes = shown_recovery_codes(&done.body);
    assert_eq!(codes.len(), 10, "{}", done.body);
    assert!(done.body.contains("href=\"/accueil\""));
    let whole = done.cookie(SESSION).expect("a new session");
    assert_eq!(app.get("/accueil", Some(&whole)).await.status, StatusCode::OK);
    assert_eq!(app.get("/accueil", Some(&waiting)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.second_factor(ids::HELENE).await.unwrap().unwrap().secret, secret);
    let audited = app
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'second_factor_enrolled' \
             AND target_id = $1",
            &[ids::HELENE],
        )
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // A recovery code replaces a TOTP code once; typed in capitals with spaces, it still reads.
    let again = helene_waiting(&app).await;
    assert_eq!(post_code(&app, &again, &codes[0], "/accueil").await.status, StatusCode::SEE_OTHER);
    let third = helene_waiting(&app).await;
    let reused = post_code(&app, &third, &codes[0], "/accueil").await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    let typed = codes[1].to_uppercase().replace('-', " ");
    assert_eq!(post_code(&app, &third, &typed, "/accueil").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.second_factor(ids::HELENE).await.unwrap().unwrap().recovery_codes_left, 8);
}

#[tokio::test]
async fn with_the_flag_off_administrators_log_in_with_their_password_alone() {
    let app = app_with(web::WebConfig { second_factor_for_admins: false, ..config() }).await;
    assert!(web::WebConfig::default().second_factor_for_admins, "on by default");

    app.set_password(ids::HELENE).await;
    let reply = app.try_login("helene.roux", PASSWORD).await;
    assert_eq!(reply.location(), "/accueil");
    let helene = reply.cookie(SESSION).unwrap();
    assert_eq!(app.get("/etablissement/0860001A", Some(&helene)).await.status, StatusCode::OK);

    // Whoever enrolled a factor passes it all the same.
    app.enrol_second_factor(ids::MARC, "").await;
    app.set_password(ids::MARC).await;
    let marc = app.try_login("marc.blanc", PASSWORD).await;
    assert_eq!(marc.location(), CHALLENGE);
}

#[tokio::test]
async fn a_step_up_enrols_or_asks_a_code_then_returns_to_next() {
    let app = app().await;
    register(&app, cas_service(true)).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    assert_eq!(app.get("/accueil", Some(&thomas)).await.status, StatusCode::OK, "optional");

    // The application asks for a factor Thomas has not enrolled: a page that explains.
    let cas = app.get(&cas_login_path(), Some(&thomas)).await;
    assert!(cas.location().starts_with("/connexion/second-facteur?next="), "{}", cas.location());
    let explained = app.get(cas.location(), Some(&thomas)).await;
    assert_eq!(explained.status, StatusCode::FORBIDDEN);
    assert!(explained.body.contains("demande une double authentification"));
    let marker = "<a href=\"/parametres/second-facteur?next=/cas/login";
    let start = explained.body.find(marker).expect("a link to enrol, back to CAS") + 9;
    let enrol = explained.body[start..].split('"').next().unwrap().replace("&amp;", "&");
    let page = app.get(&enrol, Some(&thomas)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Navigation principale"));
    let secret = shown_secret(&page.body);
    let next_marker = "name=\"next\" value=\"";
    let start = page.body.find(next_marker).unwrap() + next_marker.len();
    let next = page.body[start..].split('"').next().unwrap().replace("&amp;", "&");
    assert!(next.starts_with("/cas/login?service="), "{next}");
    let code = totp_code(&secret, store::now_unix());
    let csrf = hidden_token(&page.body);
    let done = post_confirmation(&app, &thomas, &csrf, &code, &next).await;
    assert!(done.body.contains(&format!("href=\"{}\"", next.replace('&', "&amp;"))));
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.cookie(SESSION).is_none(), "a whole session keeps its id");
    let cas = app.get(&cas_login_path(), Some(&thomas)).await;
    assert!(cas.location().contains("ticket=ST-"), "{}", cas.location());
    let passed = app.get("/connexion/second-facteur?next=/annuaire", Some(&thomas)).await;
    assert_eq!(passed.location(), "/annuaire");
}

#[tokio::test]
async fn a_whole_session_without_its_factor_is_asked_the_code_and_keeps_its_id() {
    let app = app().await;
    app.set_password(ids::PAUL).await;
    app.enrol_second_factor(ids::PAUL, "").await;
    // A session opened before the factor (or by another way in): it must pass it now.
    let id = "anciennesession0123456789";
    let now = store::now_unix();
    let hash = session_hash(id);
    app.store.create_session(&hash, ids::PAUL, "jeton", now, now + 3600).await.unwrap();
    let cookie = format!("{SESSION}={id}");

    let home = app.get("/accueil", Some(&cookie)).await;
    assert_eq!(home.location(), "/connexion?next=/accueil");
    let login = app.get("/connexion?next=/accueil", Some(&cookie)).await;
    assert_eq!(login.location(), CHALLENGE);
    let code = app.next_code(ids::PAUL).await.unwrap();
    let passed = post_code(&app, &cookie, &code, "/accueil").await;
    assert_eq!(passed.location(), "/accueil", "{}", passed.body);
    assert!(passed.cookie(SESSION).is_none());
    assert_eq!(app.get("/accueil", Some(&cookie)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_hostile_next_is_neutralised() {
    let app = app().await;
    app.enrol_second_factor(ids::HELENE, "").await;
    app.set_password(ids::HELENE).await;
    for hostile in ["//evil.tld", "https://evil.tld/", "/\\evil.tld"] {
        let fields = [
            ("csrf_token", PRE_TOKEN),
            ("login", "helene.roux"),
            ("password", PASSWORD),
            ("next", hostile),
        ];
        let reply = app.post("/connexion", Some(PRE_COOKIE), &fields).await;
        assert_eq!(reply.location(), CHALLENGE, "{hostile}");
        let waiting = reply.cookie(SESSION).unwrap();
        let step = app
            .get(&format!("/connexion/second-facteur?next={}", encode(hostile)), Some(&waiting))
            .await;
        assert!(step.body.contains("name=\"next\" value=\"/accueil\""), "{hostile}");
        let code = fresh_code(&app, ids::HELENE).await;
        let reply = post_code(&app, &waiting, &code, hostile).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{hostile}: {}", reply.body);
        assert_eq!(reply.location(), "/accueil", "{hostile}");
    }
}

#[tokio::test]
async fn removing_a_factor_needs_the_password_and_a_code_and_ends_the_other_sessions() {
    let app = app().await;
    app.set_password(ids::PAUL).await;
    app.enrol_second_factor(ids::PAUL, "").await;
    let laptop = app.login_as(ids::PAUL, "paul.martin").await;
    let waiting = app.try_login("paul.martin", PASSWORD).await.cookie(SESSION).unwrap();
    let phone = app.pass_second_factor(ids::PAUL, &waiting).await;
    assert_eq!(app.get("/accueil", Some(&laptop)).await.status, StatusCode::OK);
    let page = app.get("/parametres/second-facteur", Some(&phone)).await;
    assert!(page.body.contains("/parametres/second-facteur/supprimer"));

    let code = app.next_code(ids::PAUL).await.unwrap_or_else(|| wrong_code(TOTP_SECRET));
    let no_password = post_removal(&app, &phone, "pas le bon", &code).await;
    assert_eq!(no_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_code = post_removal(&app, &phone, PASSWORD, &wrong_code(TOTP_SECRET)).await;
    assert_eq!(no_code.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.second_factor(ids::PAUL).await.unwrap().is_some());

    app.store.throttle_reset(&format!("second-factor:{}", ids::PAUL)).await.unwrap();
    let code = fresh_code(&app, ids::PAUL).await;
    let removed = post_removal(&app, &phone, PASSWORD, &code).await;
    assert_eq!(removed.location(), "/parametres/second-facteur?fait=supprime", "{}", removed.body);
    assert!(app.store.second_factor(ids::PAUL).await.unwrap().is_none());
    assert_eq!(app.get("/accueil", Some(&laptop)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/accueil", Some(&phone)).await.status, StatusCode::OK);
    let audited = app
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'second_factor_removed' \
             AND target_id = $1",
            &[ids::PAUL],
        )
        .await
        .unwrap();
    assert_eq!(audited, 1);
    // Without a factor, Paul logs in with his password alone again.
    assert_eq!(app.try_login("paul.martin", PASSWORD).await.location(), "/accueil");
}

#[tokio::test]
async fn an_administrator_cannot_remove_the_factor_only_replace_it() {
    let app = app().await;
    app.set_password(ids::HELENE).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let other = app.pass_second_factor(ids::HELENE, &helene_waiting(&app).await).await;
    assert_eq!(app.get("/accueil", Some(&other)).await.status, StatusCode::OK);
    let csrf = app.csrf(&helene).await;
    let page = app.get("/parametres/second-facteur", Some(&helene)).await;
    assert!(!page.body.contains("/parametres/second-facteur/supprimer"));
    assert!(page.body.contains("obligatoire pour les administrateurs"));

    let fields = [("csrf_token", csrf.as_str()), ("current_password", PASSWORD), ("code", "")];
    let refused = app.post("/parametres/second-facteur/supprimer", Some(&helene), &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(app.store.second_factor(ids::HELENE).await.unwrap().is_some());

    // Replacing: the password and a code, then a code of the new secret.
    let code = app.next_code(ids::HELENE).await.unwrap_or_else(|| wrong_code(TOTP_SECRET));
    let fields = [("csrf_token", csrf.as_str()), ("current_password", "faux"), ("code", &code)];
    let wrong = app.post("/parametres/second-facteur/remplacer", Some(&helene), &fields).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.store.throttle_reset(&format!("second-factor:{}", ids::HELENE)).await.unwrap();
    let code = fresh_code(&app, ids::HELENE).await;
    let fields = [("csrf_token", csrf.as_str()), ("current_password", PASSWORD), ("code", &code)];
    let started = app.post("/parametres/second-facteur/remplacer", Some(&helene), &fields).await;
    assert_eq!(started.location(), "/parametres/second-facteur?fait=remplacement");
    let page = app.get(started.location(), Some(&helene)).await;
    let secret = shown_secret(&page.body);
    assert_ne!(secret, TOTP_SECRET);
    let code = totp_code(&secret, store::now_unix());
    let fields = [("csrf_token", csrf.as_str()), ("code", &code)];
    let done = app.post("/parametres/second-facteur/activer", Some(&helene), &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("nouvelle double authentification"));
    assert_eq!(app.store.second_factor(ids::HELENE).await.unwrap().unwrap().secret, secret);
    assert_eq!(app.get("/accueil", Some(&other)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/accueil", Some(&helene)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_sign_on_request_is_reached_by_a_page_that_moves_on_by_itself() {
    let app = app().await;
    app.set_password(ids::HELENE).await;
    app.set_password(ids::PAUL).await;
    let next = format!("/cas/login?service={}", encode(PRONOTE));
    let fields = [
        ("csrf_token", PRE_TOKEN),
        ("login", "paul.martin"),
        ("password", PASSWORD),
        ("next", &next),
    ];
    let reply = app.post("/connexion", Some(PRE_COOKIE), &fields).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.cookie(SESSION).is_some());
    let escaped = next.replace('&', "&amp;");
    assert!(
        reply.body.contains(&format!("<meta http-equiv=\"refresh\" content=\"0;url={escaped}\">")),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(&format!("<a href=\"{escaped}\">")));

    // The same after a second factor, for OpenID Connect; other paths keep their 303.
    app.enrol_second_factor(ids::HELENE, "").await;
    let waiting = helene_waiting(&app).await;
    let code = app.next_code(ids::HELENE).await.unwrap();
    let resume = "/oidc/authorize/resume?demande=abc";
    let moved = post_code(&app, &waiting, &code, resume).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert!(moved.body.contains("content=\"0;url=/oidc/authorize/resume?demande=abc\""));
    assert!(moved.cookie(SESSION).is_some());
    assert_eq!(app.try_login("paul.martin", PASSWORD).await.location(), "/accueil");
}

#[tokio::test]
async fn pupils_are_not_offered_a_second_factor() {
    let app = app().await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let settings = app.get("/parametres", Some(&alice)).await;
    assert!(!settings.body.contains("/parametres/second-facteur"));
    let page = app.get("/parametres/second-facteur", Some(&alice)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let settings = app.get("/parametres", Some(&thomas)).await;
    assert!(settings.body.contains("href=\"/parametres/second-facteur\""));
}

#[tokio::test]
async fn a_head_resets_the_factor_of_someone_of_their_school_only() {
    let app = app().await;
    app.set_password(ids::SOPHIE).await;
    app.enrol_second_factor(ids::SOPHIE, "").await;
    let sophie = app.login_as(ids::SOPHIE, "sophie.lambert").await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let console = app.get(&format!("/etablissement/{}", ids::UAI_1), Some(&helene)).await;
    assert!(
        console.body.contains(&format!("/personnes/{}/second-facteur", ids::SOPHIE)),
        "the console offers the reset"
    );
    assert!(!console.body.contains(&format!("/personnes/{}/second-facteur", ids::ALICE)));

    let path = format!("/personnes/{}/second-facteur", ids::SOPHIE);
    let csrf = app.csrf(&marc).await;
    let refused = app.post(&path, Some(&marc), &[("csrf_token", &csrf)]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "another school's head");
    assert!(app.store.second_factor(ids::SOPHIE).await.unwrap().is_some());
    let forged = app.post(&path, Some(&helene), &[("csrf_token", "faux")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let csrf = app.csrf(&helene).await;
    let back = format!("/etablissement/{}", ids::UAI_1);
    let done = app.post(&path, Some(&helene), &[("csrf_token", &csrf), ("retour", &back)]).await;
    assert_eq!(done.location(), format!("{back}?compte=facteur"), "{}", done.body);
    assert!(app.store.second_factor(ids::SOPHIE).await.unwrap().is_none());
    assert_eq!(app.get("/accueil", Some(&sophie)).await.status, StatusCode::SEE_OTHER);
    let again = app.post(&path, Some(&helene), &[("csrf_token", &csrf), ("retour", &back)]).await;
    assert_eq!(again.location(), format!("{back}?compte=sans-facteur"));
    let own = format!("/personnes/{}/second-facteur", ids::HELENE);
    let own = app.post(&own, Some(&helene), &[("csrf_token", &csrf)]).await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_first_factor_enrolled_from_an_open_session_asks_for_the_password() {
    let app = app().await;
    let sophie = app.login_as(ids::SOPHIE, "sophie.lambert").await;
    let page = app.get("/parametres/second-facteur", Some(&sophie)).await;
    assert!(page.body.contains("name=\"current_password\""), "the form asks for it");
    let secret = shown_secret(&page.body);
    let csrf = hidden_token(&page.body);

    let code = totp_code(&secret, store::now_unix());
    let fields = [("csrf_token", csrf.as_str()), ("code", code.as_str()), ("next", "")];
    let refused = app.post("/parametres/second-facteur/activer", Some(&sophie), &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("mot de passe est incorrect"));
    assert!(app.store.second_factor(ids::SOPHIE).await.unwrap().is_none());

    let done = post_confirmation(&app, &sophie, &csrf, &code, "").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(app.store.second_factor(ids::SOPHIE).await.unwrap().is_some());
}
