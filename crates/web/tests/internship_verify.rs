//! The agreement's PDF on the web: a party downloads it (sealed on demand once signed) as an
//! attachment with `nosniff`, anyone else gets 404; the public verification page accepts the
//! sealed file and refuses a tampered one, a non-PDF and a form without its token.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{PRE_COOKIE, PRE_TOKEN, app};
use domain::internship::agreement::GuardianDetails;
use domain::internship::{AgreementContent, SignatoryRole};
use http_body_util::BodyExt;
use store::fixtures::internship::ids as iids;
use tower::ServiceExt;

const BOUNDARY: &str = "----preau-verification-boundary";

fn content() -> AgreementContent {
    AgreementContent {
        pupil_id: iids::ZOE.into(),
        pupil_name: "Zoé L'Hôte-Éluard".into(),
        school_id: common::ids::SCHOOL_1.into(),
        school_name: "Collège 1".into(),
        guardians: vec![GuardianDetails { name: "Parent".into(), ..GuardianDetails::default() }],
        ..AgreementContent::default()
    }
}

fn roles() -> Vec<SignatoryRole> {
    SignatoryRole::ALL.into_iter().filter(|role| *role != SignatoryRole::Guardian2).collect()
}

/// The raw bytes and headers of a GET.
async fn get_bytes(
    app: &common::App,
    path: &str,
    cookie: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

/// Posts a file to the verification page, with the pre-login token unless `token` is false.
async fn verify(app: &common::App, bytes: &[u8], token: bool) -> common::Reply {
    let mut body = Vec::new();
    if token {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\
                 {PRE_TOKEN}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; \
             filename=\"convention.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let request = Request::post("/verification")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("sec-fetch-site", "same-origin")
        .header(header::ORIGIN, "http://127.0.0.1:8080")
        .header(header::COOKIE, PRE_COOKIE)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn parties_download_the_sealed_pdf_and_the_page_verifies_it() {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    let id = app.store.fixture_signed_agreement(&content(), &roles()).await.unwrap();

    let stranger = app.login_as(iids::MINH, iids::MINH).await;
    let (status, _, _) =
        get_bytes(&app, &format!("/conventions/{id}/convention.pdf"), &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a party");
    let (status, _, _) =
        get_bytes(&app, "/conventions/no-such-agreement/convention.pdf", &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let pupil = app.login_as(iids::ZOE, iids::ZOE).await;
    let (status, headers, pdf) =
        get_bytes(&app, &format!("/conventions/{id}/convention.pdf"), &pupil).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert_eq!(disposition, format!("attachment; filename=\"convention-{id}-signee.pdf\""));
    assert!(pdf.starts_with(b"%PDF-"));

    // Sealed on demand once, then served from the FileStore: the same bytes.
    let (_, _, again) = get_bytes(&app, &format!("/conventions/{id}/convention.pdf"), &pupil).await;
    assert_eq!(again, pdf);

    let page = app.get("/verification", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));

    let good = verify(&app, &pdf, true).await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert!(good.body.contains("Convention authentique et complète"), "{}", good.body);
    assert!(good.body.contains(&id));
    assert!(good.body.contains("Signataire Le tuteur"), "the seal's signatories are listed");

    let mut tampered = pdf.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x20;
    let bad = verify(&app, &tampered, true).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("n'est pas une convention scellée valable"), "{}", bad.body);
    assert!(bad.body.contains("modifié"), "{}", bad.body);

    let junk = verify(&app, b"GIF89a not a pdf at all", true).await;
    assert!(junk.body.contains("ne porte pas de sceau"), "{}", junk.body);

    let forged = verify(&app, &pdf, false).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no token");
}

#[tokio::test]
async fn an_agreement_being_completed_downloads_as_a_draft() {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    let id = app.store.fixture_signed_agreement(&content(), &roles()).await.unwrap();
    app.store.fixture_set_agreement_state(&id, "school_pending").await.unwrap();

    let pupil = app.login_as(iids::ZOE, iids::ZOE).await;
    let (status, headers, pdf) =
        get_bytes(&app, &format!("/conventions/{id}/convention.pdf"), &pupil).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("-projet.pdf"));
    let verdict = app.store.verify_agreement_pdf(&pdf).await.unwrap();
    assert!(!verdict.authentic, "a draft has no seal");
}

/// A body that is not a multipart form (a URL-encoded one, or no boundary) gets the site's
/// French error page, never the framework's English text.
#[tokio::test]
async fn a_form_that_is_not_multipart_gets_a_french_refusal() {
    let app = app().await;
    for content_type in ["application/x-www-form-urlencoded", "multipart/form-data"] {
        let request = Request::post("/verification")
            .header("content-type", content_type)
            .body(Body::from("csrf_token=x&fichier=y"))
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{content_type}");
        assert!(reply.body.contains("pas au bon format"), "{content_type}: {}", reply.body);
    }
}
