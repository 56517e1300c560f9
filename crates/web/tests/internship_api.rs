//! The partners' JSON API through the router: create, update, delete (archive), index with the
//! national pagination object, and sectors; a missing, forged or deactivated token is a 401
//! in JSON; another partner's remote_id a 404; a duplicate remote_id a 409; bad input a 422
//! with the errors by field (oversized title, unknown sector, bad week, coordinates off the
//! globe, permalink not https); malformed JSON a 400 and an oversized body a 413; never a 500.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{App, app};
use serde_json::{Value, json};
use store::fixtures::ids as base;
use store::fixtures::internship::{ids, weeks};

async fn api_app() -> (App, String, String) {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    app.store.ensure_gazetteer().await.unwrap();
    let now = store::now_unix();
    let (_, first) = app.store.create_partner(base::AGNES, "Partenaire A", now).await.unwrap();
    let (_, second) = app.store.create_partner(base::AGNES, "Partenaire B", now).await.unwrap();
    (app, first, second)
}

async fn call(
    app: &App,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request = request.header(header::CONTENT_TYPE, "application/json");
    let reply = app.send(request.body(Body::from(body.unwrap_or_default())).unwrap()).await;
    let value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, value)
}

fn offer(remote_id: &str) -> Value {
    json!({"internship_offer": {
        "title": "Stage à l'atelier",
        "description": "Découvrir la menuiserie.",
        "employer_name": "Atelier du Clain",
        "employer_website": "http://ignored.example",
        "street": "1 place du Marché",
        "zipcode": "86300",
        "city": "Chauvigny",
        "remote_id": remote_id,
        "permalink": "https://partenaire.example/offres/42",
        "sector_uuid": ids::SECTOR_ARCHITECTURE,
        "max_candidates": 2,
        "weeks": [weeks()[0].to_string()],
    }})
}

#[tokio::test]
async fn a_partner_creates_updates_lists_and_deletes_its_offers() {
    let (app, token, _) = api_app().await;

    let (status, created) = call(
        &app,
        Method::POST,
        "/api/internship_offers",
        Some(&token),
        Some(offer("r-42").to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["remote_id"], "r-42");
    assert_eq!(created["max_candidates"], 2);
    let latitude = created["formatted_coordinates"]["latitude"].as_f64().unwrap();
    assert!((latitude - 46.5686).abs() < 0.01, "Chauvigny from the gazetteer");

    let (status, _) = call(
        &app,
        Method::POST,
        "/api/internship_offers",
        Some(&token),
        Some(offer("r-42").to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let patch = json!({"internship_offer": {"title": "Stage en atelier", "coordinates": {"latitude": 46.57, "longitude": 0.64}}});
    let (status, updated) = call(
        &app,
        Method::PATCH,
        "/api/internship_offers/r-42",
        Some(&token),
        Some(patch.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["title"], "Stage en atelier");
    assert_eq!(updated["formatted_coordinates"]["latitude"], 46.57);

    let (status, index) =
        call(&app, Method::GET, "/api/internship_offers", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(index["pagination"]["totalInternshipOffers"], 1);
    assert_eq!(index["pagination"]["internshipOffersPerPage"], 30);
    assert_eq!(index["pagination"]["isFirstPage"], true);
    assert_eq!(index["internshipOffers"][0]["url"], "https://partenaire.example/offres/42");

    let (status, _) =
        call(&app, Method::DELETE, "/api/internship_offers/r-42", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        call(&app, Method::DELETE, "/api/internship_offers/r-42", Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, index) = call(&app, Method::GET, "/api/internship_offers", Some(&token), None).await;
    assert_eq!(index["pagination"]["totalInternshipOffers"], 0);

    let (status, sectors) = call(&app, Method::GET, "/api/sectors", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sectors["sectors"].as_array().unwrap().len(), 3);
    assert_eq!(sectors["sectors"][0]["uuid"], ids::SECTOR_AGRICULTURE);
}

#[tokio::test]
async fn missing_forged_and_deactivated_tokens_get_a_json_401() {
    let (app, token, _) = api_app().await;
    for bad in [None, Some("forged"), Some(&token[..63])] {
        let (status, body) = call(&app, Method::GET, "/api/sectors", bad, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "UNAUTHORIZED");
        let (status, _) =
            call(&app, Method::POST, "/api/internship_offers", bad, Some(offer("r-1").to_string()))
                .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let partner = app.store.partner_by_token(&token, store::now_unix()).await.unwrap().unwrap();
    app.store.deactivate_partner(base::AGNES, &partner.id, store::now_unix()).await.unwrap();
    let (status, _) = call(&app, Method::GET, "/api/internship_offers", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_partners_remote_id_is_not_found() {
    let (app, first, second) = api_app().await;
    call(
        &app,
        Method::POST,
        "/api/internship_offers",
        Some(&first),
        Some(offer("r-7").to_string()),
    )
    .await;

    let patch = json!({"internship_offer": {"title": "Volée"}}).to_string();
    let (status, _) =
        call(&app, Method::PATCH, "/api/internship_offers/r-7", Some(&second), Some(patch)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        call(&app, Method::DELETE, "/api/internship_offers/r-7", Some(&second), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, index) = call(&app, Method::GET, "/api/internship_offers", Some(&second), None).await;
    assert_eq!(index["pagination"]["totalInternshipOffers"], 0);
    let (_, index) = call(&app, Method::GET, "/api/internship_offers", Some(&first), None).await;
    assert_eq!(index["internshipOffers"][0]["title"], "Stage à l'atelier");
}

#[tokio::test]
async fn bad_input_is_a_422_with_the_fields_and_never_a_500() {
    let (app, token, _) = api_app().await;
    let mut bad = offer("r-1");
    let fields = bad["internship_offer"].as_object_mut().unwrap();
    fields.insert("title".into(), json!("t".repeat(151)));
    fields.insert("sector_uuid".into(), json!("00000000-0000-0000-0000-000000000000"));
    fields.insert("weeks".into(), json!(["2027-W99", 5]));
    fields.insert("coordinates".into(), json!({"latitude": 95.0, "longitude": 0.0}));
    fields.insert("permalink".into(), json!("http://insecure.example"));
    fields.insert("max_candidates".into(), json!("beaucoup"));

    let (status, body) =
        call(&app, Method::POST, "/api/internship_offers", Some(&token), Some(bad.to_string()))
            .await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for field in ["weeks", "coordinates", "max_candidates"] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    // With the types right, the rules speak.
    let mut typed = offer("r-1");
    let fields = typed["internship_offer"].as_object_mut().unwrap();
    fields.insert("title".into(), json!("t".repeat(151)));
    fields.insert("permalink".into(), json!("http://insecure.example"));
    fields.insert("remote_id".into(), json!("bad id with spaces"));
    let (status, body) =
        call(&app, Method::POST, "/api/internship_offers", Some(&token), Some(typed.to_string()))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["title", "permalink", "remote_id"] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    let mut weekless = offer("r-1");
    weekless["internship_offer"].as_object_mut().unwrap().remove("weeks");
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/internship_offers",
        Some(&token),
        Some(weekless.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an offer nobody could see: {body}");
    assert!(body["fields"]["weeks"].is_array(), "{body}");
    let mut unknown = offer("r-1");
    unknown["internship_offer"]["sector_uuid"] = json!("00000000-0000-0000-0000-000000000000");
    let (status, body) =
        call(&app, Method::POST, "/api/internship_offers", Some(&token), Some(unknown.to_string()))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["fields"]["sector_uuid"].is_array());

    for (body, expected) in [
        ("{not json".to_owned(), StatusCode::BAD_REQUEST),
        ("[]".to_owned(), StatusCode::BAD_REQUEST),
        (json!({"other": {}}).to_string(), StatusCode::BAD_REQUEST),
        (
            format!("{{\"internship_offer\": {{\"title\": \"{}\"}}}}", "x".repeat(40_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let (status, reply) =
            call(&app, Method::POST, "/api/internship_offers", Some(&token), Some(body)).await;
        assert_eq!(status, expected, "{reply}");
    }
    let (status, _) = call(
        &app,
        Method::PATCH,
        "/api/internship_offers/..%2F..",
        Some(&token),
        Some("{}".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_browser_of_another_site_cannot_call_the_api() {
    let (app, token, _) = api_app().await;
    let request = Request::post("/api/internship_offers")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(offer("r-1").to_string()))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::FORBIDDEN);
}
