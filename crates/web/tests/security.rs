//! What protects every request: CSRF refusals, security headers, body limits and hostile form
//! input, cookie names per base URL, health endpoints and the French error pages.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;

async fn post_raw(
    app: &App,
    path: &str,
    cookie: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::from(body)).unwrap()).await
}

#[tokio::test]
async fn state_changes_need_the_session_token() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    let token = app.csrf(&cookie).await;

    let missing = app.post("/parametres", Some(&cookie), &[("reading_mode", "1")]).await;
    let wrong = app
        .post(
            "/parametres",
            Some(&cookie),
            &[("csrf_token", "x".repeat(43).as_str()), ("reading_mode", "1")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("Action refusée"));
    assert!(!app.store.reading_mode(ids::ALICE).await.unwrap());

    let good = app
        .post("/parametres", Some(&cookie), &[("csrf_token", &token), ("reading_mode", "1")])
        .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER);
    assert!(app.store.reading_mode(ids::ALICE).await.unwrap());
}

#[tokio::test]
async fn cross_site_and_foreign_origin_posts_are_refused_even_with_the_token() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    let token = app.csrf(&cookie).await;
    let body = format!("csrf_token={token}&reading_mode=1").into_bytes();

    let cross =
        post_raw(&app, "/parametres", &cookie, &[("sec-fetch-site", "cross-site")], body.clone())
            .await;
    let same_site =
        post_raw(&app, "/parametres", &cookie, &[("sec-fetch-site", "same-site")], body.clone())
            .await;
    let foreign =
        post_raw(&app, "/parametres", &cookie, &[("origin", "https://evil.tld")], body.clone())
            .await;
    let null = post_raw(&app, "/parametres", &cookie, &[("origin", "null")], body.clone()).await;
    let logout =
        post_raw(&app, "/deconnexion", &cookie, &[("sec-fetch-site", "cross-site")], body.clone())
            .await;

    for reply in [&cross, &same_site, &foreign, &null, &logout] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.body.contains("lang=\"fr\""));
    }
    assert!(!app.store.reading_mode(ids::ALICE).await.unwrap());
    assert_eq!(app.get("/accueil", Some(&cookie)).await.status, StatusCode::OK);

    let plain = post_raw(&app, "/parametres", &cookie, &[], body.clone()).await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);

    // The same server opened as http://localhost:8080: its own Origin and Host agree.
    let other_name = [("origin", "http://localhost:8080"), ("host", "localhost:8080")];
    let renamed = post_raw(&app, "/parametres", &cookie, &other_name, body.clone()).await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    let mismatch = [("origin", "http://localhost:8080"), ("host", "127.0.0.1:8080")];
    let refused = post_raw(&app, "/parametres", &cookie, &mismatch, body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;

    for reply in [
        app.get("/connexion", None).await,
        app.get("/accueil", Some(&cookie)).await,
        app.get("/nulle-part", None).await,
        app.get("/healthz", None).await,
    ] {
        let h = &reply.headers;
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"));
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
        assert_eq!(h.get("cache-control").unwrap(), "no-store");
        assert!(h.get_all("vary").iter().any(|v| v.to_str().unwrap().contains("Sec-Fetch-Site")));
        assert!(h.get("strict-transport-security").is_none());
    }
}

#[tokio::test]
async fn https_adds_hsts_and_plain_http_drops_the_host_prefix() {
    let tls = app_with(WebConfigExt::with_base("https://ent.example")).await;
    assert!(tls.get("/connexion", None).await.headers.get("strict-transport-security").is_some());
    let cookie = tls.get("/connexion", None).await.cookie("__Host-preau_csrf");
    assert!(cookie.is_some());

    let plain = app_with(WebConfigExt::with_base("http://ent.example")).await;
    let page = plain.get("/connexion", None).await;
    let set = page.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(set.starts_with("preau_csrf="), "{set}");
    assert!(!set.contains("Secure"));
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
}

struct WebConfigExt;
impl WebConfigExt {
    fn with_base(base: &str) -> web::WebConfig {
        web::WebConfig { base_url: base.to_owned(), ..config() }
    }
}

#[tokio::test]
async fn the_style_sheet_is_cached_under_a_versioned_url() {
    let app = app().await;
    let page = app.get("/connexion", None).await;
    let start = page.body.find("href=\"/static/").unwrap() + 6;
    let href = page.body[start..].split('"').next().unwrap().to_owned();

    let css = app.get(&href, None).await;

    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers.get("cache-control").unwrap().to_str().unwrap().contains("max-age=31536000")
    );
    assert!(css.body.contains("body.lecture"));
    assert_eq!(app.get("/static/preau-000000000000.css", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_form_input_gets_a_400_never_a_500() {
    let app = app().await;
    let cookie = PRE_COOKIE;

    let nul = post_raw(
        &app,
        "/connexion",
        cookie,
        &[],
        format!("csrf_token={PRE_TOKEN}&login=a%00b&password=x").into_bytes(),
    )
    .await;
    let invalid = post_raw(
        &app,
        "/connexion",
        cookie,
        &[],
        format!("csrf_token={PRE_TOKEN}&login=%FF%FE&password=x").into_bytes(),
    )
    .await;
    let mut raw = format!("csrf_token={PRE_TOKEN}&password=x&login=").into_bytes();
    raw.extend([0xC3, 0x28]);
    let raw_invalid = post_raw(&app, "/connexion", cookie, &[], raw).await;
    let long = post_raw(
        &app,
        "/connexion",
        cookie,
        &[],
        format!("csrf_token={PRE_TOKEN}&password=x&login={}", "a".repeat(3000)).into_bytes(),
    )
    .await;
    let huge = post_raw(&app, "/connexion", cookie, &[], vec![b'a'; 200 * 1024]).await;

    for reply in [&nul, &invalid, &raw_invalid, &long] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.body.contains("Demande non valide"));
    }
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(huge.body.contains("trop volumineux"));

    let json = app
        .send(
            Request::post("/connexion")
                .header(header::CONTENT_TYPE, "text/plain")
                .header(header::COOKIE, PRE_COOKIE)
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(json.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_pages_get_a_french_404() {
    let app = app().await;
    let reply = app.get("/nulle-part", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("Page introuvable") && reply.body.contains("lang=\"fr\""));
    let wrong_method = app.get("/deconnexion", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.body.contains("lang=\"fr\""));
}

#[tokio::test]
async fn pages_need_a_session_and_come_back_after_login() {
    let app = app().await;
    let reply = app.get("/annuaire?q=ber", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/connexion?next=/annuaire%3Fq%3Dber");
    let root = app.get("/", None).await;
    assert_eq!(root.location(), "/connexion");
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = app().await;
    let health = app.get("/healthz", None).await;
    assert_eq!((health.status, health.body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);

    app.store.close().await;
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn pages_hold_no_inline_script_or_style() {
    let app = app().await;
    let cookie = app.login_as(ids::PAUL, "paul.martin").await;
    for path in ["/accueil", "/annuaire?q=mar", "/parametres"] {
        let page = app.get(path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        // The only scripts are files of the site (the mailbox script); none inline.
        let scripts = page.body.matches("<script").count();
        assert_eq!(scripts, page.body.matches("<script src=\"/static/mail-").count(), "{path}");
        assert!(!page.body.contains("style="), "{path}");
        assert!(!page.body.contains("<style"));
    }
    let login = app.get("/connexion", None).await.body;
    assert!(!login.contains("<script") && !login.contains("style="));
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_a_408() {
    let config =
        web::WebConfig { request_timeout: std::time::Duration::from_millis(300), ..config() };
    let app = app_with(config).await;
    let trickle = futures_util::stream::unfold(0u32, |sent| async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        (sent < 100).then(|| (Ok::<_, std::io::Error>(bytes_of("a")), sent + 1))
    });
    let request = Request::post("/connexion")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, "100")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from_stream(trickle))
        .unwrap();

    let reply = app.send(request).await;

    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT);
}

fn bytes_of(text: &str) -> axum::body::Bytes {
    axum::body::Bytes::copy_from_slice(text.as_bytes())
}
