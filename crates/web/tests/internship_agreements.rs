//! Agreements over HTTP, on both engines: the host completes its part, the school validates
//! and freezes, every party signs (sessions, the tutor's link and code, the head's selection)
//! and the agreement is sealed; the forms' refusals in French (bad hours, long days, missing
//! fields); signing as a role one does not hold (403) and every stranger answered 404 (another
//! school's head, another host, another pupil's guardian); the link's replay, wrong code and
//! expiry, and an unknown token; a signature on paper with its scan served to the parties
//! only; a change after a signature voiding every signature.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use domain::internship::AgreementState;
use store::fixtures::internship::{FixtureOffer, ids as intern, weeks};

const BOUNDARY: &str = "----preau-agreement-test-boundary";

async fn app_with_agreement() -> (App, String) {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();
    let week = weeks()[0].to_string();
    let now = store::now_unix().to_string();
    app.store
        .fixture_execute(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, created_at, updated_at) \
             VALUES ('app-zoe', $1, $2, $3, $4, 'confirmed', CAST($5 AS BIGINT), \
             CAST($5 AS BIGINT))",
            &[&offer, intern::ZOE, ids::SCHOOL_1, &week, &now],
        )
        .await
        .unwrap();
    let id = app.store.fixture_create_agreement("app-zoe").await.unwrap();
    (app, id)
}

/// A page's text with the entities askama writes turned back into characters.
fn text(body: &str) -> String {
    body.replace("&#39;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("a {name} field")) + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

const HOST_FIELDS: &[(&str, &str)] = &[
    ("representant", "Hugues Meunier"),
    ("representant_fonction", "Gérant"),
    ("representant_email", "h-hugues@example.org"),
    ("tuteur", "Hugues Meunier"),
    ("tuteur_fonction", "Maître boulanger"),
    ("tuteur_email", "tuteur@example.org"),
    ("assureur", "MAIF"),
    ("activites", "Pétrir, façonner, cuire."),
    ("repas", "Repas tiré du sac."),
    ("debut_0", "09:00"),
    ("fin_0", "17:00"),
    ("pause_0", "60"),
    ("debut_1", "9h"),
    ("fin_1", "17h"),
    ("pause_1", "60"),
    ("debut_2", "09:00"),
    ("fin_2", "12:00"),
    ("debut_3", "09:00"),
    ("fin_3", "17:00"),
    ("pause_3", "60"),
    ("debut_4", "09:00"),
    ("fin_4", "16:00"),
    ("pause_4", "60"),
];

async fn post_host_part(app: &App, cookie: &str, id: &str, extra: &[(&str, &str)]) -> Reply {
    let csrf = app.csrf(cookie).await;
    let mut fields: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
    for (name, value) in HOST_FIELDS {
        if let Some((_, replaced)) = extra.iter().find(|(n, _)| n == name) {
            fields.push((name, replaced));
        } else {
            fields.push((name, value));
        }
    }
    app.post(&format!("/conventions/{id}/organisme"), Some(cookie), &fields).await
}

/// The school's form as the page fills it, with `action`.
async fn post_school_part(app: &App, cookie: &str, id: &str, action: &str) -> Reply {
    let page = app.get(&format!("/conventions/{id}/college"), Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = hidden_token(&page.body);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("adresse", "8 chemin des Écoliers, 86580 Vouneuil-sous-Biard"),
        ("telephone", ""),
        ("pai", "aucun"),
        ("responsable_1", "Yves L'Hôte"),
        ("responsable_1_email", "r-yves@example.org"),
        ("responsable_2", "Inès Éluard"),
        ("responsable_2_email", "r-ines@example.org"),
        ("referent", ids::SOPHIE),
        ("deliberation", "2026-09-15"),
        ("article", ""),
        ("action", action),
    ];
    app.post(&format!("/conventions/{id}/college"), Some(cookie), &fields).await
}

/// Logs in the bakery's Hugues and the head Hélène, has the host and the school complete the
/// agreement: returns their cookies.
async fn frozen(app: &App, id: &str) -> (String, String) {
    let hugues = app.login_as(intern::HUGUES, intern::HUGUES).await;
    let reply = post_host_part(app, &hugues, id, &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let reply = post_school_part(app, &helene, id, "valider").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(reply.location().ends_with("?fait=figee"), "{}", reply.location());
    (hugues, helene)
}

async fn sign(app: &App, cookie: &str, id: &str, role: &str) -> Reply {
    let page = app.get(&format!("/conventions/{id}"), Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = hidden_token(&page.body);
    let sha = app
        .store
        .agreement_for_viewer(ids::HELENE, id)
        .await
        .unwrap()
        .unwrap()
        .document_sha256
        .unwrap_or_default();
    let fields = [("csrf_token", csrf.as_str()), ("role", role), ("sha256", &sha)];
    app.post(&format!("/conventions/{id}/signer"), Some(cookie), &fields).await
}

async fn link_token(app: &App, email: &str) -> String {
    let mails = app.store.fixture_internship_mails(email).await.unwrap();
    let body = &mails.iter().rev().find(|(_, body)| body.contains("/signature/")).unwrap().1;
    let start = body.find("/signature/").unwrap() + "/signature/".len();
    body[start..].chars().take_while(char::is_ascii_hexdigit).collect()
}

async fn last_code(app: &App, email: &str) -> String {
    let mails = app.store.fixture_internship_mails(email).await.unwrap();
    let body = &mails.iter().rev().find(|(subject, _)| subject.contains("code")).unwrap().1;
    let start = body.find(" : ").unwrap() + 3;
    body[start..start + 6].to_owned()
}

async fn sign_with_link(app: &App, token: &str, code: &str, sha: &str) -> Reply {
    let fields = [("csrf_token", PRE_TOKEN), ("code", code), ("sha256", sha)];
    app.post(&format!("/signature/{token}"), Some(PRE_COOKIE), &fields).await
}

async fn state_of(app: &App, id: &str) -> (AgreementState, i64, usize) {
    let record = app.store.agreement_for_viewer(ids::HELENE, id).await.unwrap().unwrap();
    (record.state, record.version, record.signatures.len())
}

#[tokio::test]
async fn every_party_signs_over_http_and_the_agreement_is_sealed() {
    let (app, id) = app_with_agreement().await;
    let (hugues, helene) = frozen(&app, &id).await;

    let list = app.get("/conventions", Some(&hugues)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(text(&list.body).contains("Zoé L'Hôte-Éluard"), "{}", list.body);
    let page = app.get(&format!("/conventions/{id}"), Some(&hugues)).await;
    assert!(page.body.contains("Signer en tant que : Le représentant"), "{}", page.body);
    assert_eq!(sign(&app, &hugues, &id, "host_representative").await.status, StatusCode::SEE_OTHER);
    for (person, login, role) in [
        (ids::SOPHIE, "sophie.lambert", "referent_teacher"),
        (intern::ZOE, intern::ZOE, "pupil"),
        (intern::YVES, intern::YVES, "guardian_1"),
        (intern::INES, intern::INES, "guardian_2"),
    ] {
        let cookie = app.login_as(person, login).await;
        let reply = sign(&app, &cookie, &id, role).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{role}: {}", reply.body);
        assert!(reply.location().ends_with("?fait=signe"));
    }

    // The tutor: the link, the code by e-mail, one signature.
    let token = link_token(&app, "tuteur@example.org").await;
    let opened = app.get(&format!("/signature/{token}"), None).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    assert!(text(&opened.body).contains("Un code à six chiffres vient d'être envoyé"));
    let pdf = app.get(&format!("/signature/{token}/convention.pdf"), None).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with("%PDF"));
    let sha = hidden(&opened.body, "sha256");
    let code = last_code(&app, "tuteur@example.org").await;
    let signed = sign_with_link(&app, &token, &code, &sha).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert!(signed.body.contains("Votre signature est enregistrée"));

    // The head signs from the school's list, last.
    let list = app.get(&format!("/etablissement/{}/conventions", ids::UAI_1), Some(&helene)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let value = hidden(&list.body, "convention");
    assert!(value.starts_with(&format!("{id}:")));
    let csrf = hidden_token(&list.body);
    let fields = [("csrf_token", csrf.as_str()), ("convention", &value)];
    let path = format!("/etablissement/{}/conventions/signer", ids::UAI_1);
    let reply = app.post(&path, Some(&helene), &fields).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("1 convention(s) signée(s)"), "{}", reply.body);

    let record = app.store.agreement_for_viewer(ids::HELENE, &id).await.unwrap().unwrap();
    assert_eq!(record.state, AgreementState::Signed);
    assert_eq!(record.signatures.len(), 7);
    assert!(record.sealed_file_key.is_some(), "the completion sealed the agreement");
    let page = app.get(&format!("/conventions/{id}"), Some(&helene)).await;
    assert!(page.body.contains("Signée par tous"));
    assert!(page.body.contains("par lien et code reçu par e-mail"));
}

#[tokio::test]
async fn a_wrong_role_is_refused_and_strangers_get_404() {
    let (app, id) = app_with_agreement().await;
    let (hugues, _) = frozen(&app, &id).await;

    let zoe = app.login_as(intern::ZOE, intern::ZOE).await;
    for role in ["head", "guardian_1", "host_representative", "tutor"] {
        let reply = sign(&app, &zoe, &id, role).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role}");
        assert!(reply.body.contains("Vous ne pouvez pas signer"), "{}", reply.body);
    }
    let reply = sign(&app, &hugues, &id, "head").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let csrf = app.csrf(&zoe).await;
    let reply = app
        .post(
            &format!("/conventions/{id}/signer"),
            Some(&zoe),
            &[("csrf_token", &csrf), ("role", "pupil"), ("sha256", "abc")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "another document's hash");
    let reply = app
        .post(
            &format!("/conventions/{id}/signer"),
            Some(&zoe),
            &[("role", "pupil"), ("sha256", "abc")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "no form token");

    // Another school's head, another host, another pupil and her guardian.
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let gaelle = app.login_as(intern::GAELLE, intern::GAELLE).await;
    let kim = app.login_as(intern::KIM, intern::KIM).await;
    let minh = app.login_as(intern::MINH, intern::MINH).await;
    for cookie in [&marc, &gaelle, &kim, &minh] {
        for path in ["", "/organisme", "/college"] {
            let page = app.get(&format!("/conventions/{id}{path}"), Some(cookie)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        }
        let csrf = app.csrf(cookie).await;
        let fields = [("csrf_token", csrf.as_str()), ("role", "head"), ("sha256", "x")];
        let reply = app.post(&format!("/conventions/{id}/signer"), Some(cookie), &fields).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let list = app.get("/conventions", Some(cookie)).await;
        assert!(!list.body.contains(&id));
    }
    let other = app.get(&format!("/etablissement/{}/conventions", ids::UAI_1), Some(&marc)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let reply = post_host_part(&app, &gaelle, &id, &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(state_of(&app, &id).await, (AgreementState::Signing, 1, 0));
}

#[tokio::test]
async fn the_forms_refuse_bad_hours_long_days_and_missing_fields_in_french() {
    let (app, id) = app_with_agreement().await;
    let hugues = app.login_as(intern::HUGUES, intern::HUGUES).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let early = app.get(&format!("/conventions/{id}/college"), Some(&helene)).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "the host completes first");
    let reply = post_host_part(&app, &hugues, &id, &[("fin_0", "25:00")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("Horaires du lundi"), "{}", reply.body);
    let reply = post_host_part(&app, &hugues, &id, &[("tuteur_email", "pas-une-adresse")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("E-mail du tuteur"), "{}", reply.body);
    let reply =
        post_host_part(&app, &hugues, &id, &[("debut_0", "08:00"), ("pause_0", "30")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "long days are the school's check");

    let reply = post_school_part(&app, &helene, &id, "valider").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("Le lundi dépasse 7 heures de présence."), "{}", reply.body);
    assert_eq!(state_of(&app, &id).await.0, AgreementState::SchoolPending);

    let reply = post_host_part(&app, &hugues, &id, &[("assureur", "")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(text(&reply.body).contains("Il manque l'assureur."), "{}", reply.body);
    let reply = post_host_part(&app, &hugues, &id, &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let reply = post_school_part(&app, &helene, &id, "enregistrer").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, &id).await.0, AgreementState::SchoolPending);
    let reply = post_school_part(&app, &helene, &id, "valider").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(state_of(&app, &id).await.0, AgreementState::Signing);
}

#[tokio::test]
async fn a_link_never_signs_twice_nor_with_a_wrong_code_nor_once_expired() {
    let (app, id) = app_with_agreement().await;
    frozen(&app, &id).await;
    let token = link_token(&app, "tuteur@example.org").await;

    assert_eq!(
        app.get(&format!("/signature/{}", "0".repeat(64)), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/signature/pas-un-jeton", None).await.status, StatusCode::NOT_FOUND);
    let opened = app.get(&format!("/signature/{token}"), None).await;
    let sha = hidden(&opened.body, "sha256");
    let code = last_code(&app, "tuteur@example.org").await;
    let wrong = if code == "123456" { "654321" } else { "123456" };

    let reply = sign_with_link(&app, &token, wrong, &sha).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("Essais restants : 4"), "{}", reply.body);
    let fields = [("code", code.as_str()), ("sha256", sha.as_str())];
    let no_token = app.post(&format!("/signature/{token}"), Some(PRE_COOKIE), &fields).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);

    let reply = sign_with_link(&app, &token, &code, &sha).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let replay = sign_with_link(&app, &token, &code, &sha).await;
    assert_eq!(replay.status, StatusCode::CONFLICT);
    assert!(replay.body.contains("déjà servi"), "{}", replay.body);
    assert_eq!(
        app.get(&format!("/signature/{token}/convention.pdf"), None).await.status,
        StatusCode::NOT_FOUND
    );

    // A link sent again by the school, then expired.
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let csrf = app.csrf(&helene).await;
    let reply = app
        .post(&format!("/conventions/{id}/liens"), Some(&helene), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, &id).await.2, 1, "the tutor signed: no new link for the tutor");
    app.store
        .fixture_execute("UPDATE internship_signatures SET voided_at = 1 WHERE role = 'tutor'", &[])
        .await
        .unwrap();
    app.post(&format!("/conventions/{id}/liens"), Some(&helene), &[("csrf_token", &csrf)]).await;
    let token = link_token(&app, "tuteur@example.org").await;
    app.get(&format!("/signature/{token}"), None).await;
    let code = last_code(&app, "tuteur@example.org").await;
    app.store
        .fixture_execute("UPDATE internship_sign_links SET expires_at = 0", &[])
        .await
        .unwrap();
    let expired = sign_with_link(&app, &token, &code, &sha).await;
    assert_eq!(expired.status, StatusCode::CONFLICT);
    assert!(expired.body.contains("expiré"), "{}", expired.body);
}

fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (file_name, content_type, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"scan\"; \
             filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_paper(app: &App, cookie: &str, id: &str, body: Vec<u8>) -> Reply {
    let request = Request::post(format!("/conventions/{id}/papier"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("sec-fetch-site", "same-origin")
        .header(header::ORIGIN, "http://127.0.0.1:8080")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn the_school_records_a_paper_signature_with_its_scan() {
    let (app, id) = app_with_agreement().await;
    let (hugues, helene) = frozen(&app, &id).await;
    let csrf = app.csrf(&helene).await;
    let sha = app.store.agreement_for_viewer(ids::HELENE, &id).await.unwrap().unwrap();
    let sha = sha.document_sha256.unwrap();
    let fields = [("csrf_token", csrf.as_str()), ("role", "guardian_2"), ("sha256", &sha)];
    let scan: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

    let disguised = multipart(&fields, ("scan.pdf", "application/pdf", b"<html>hello</html>"));
    let reply = post_paper(&app, &helene, &id, disguised).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let csrf_host = app.csrf(&hugues).await;
    let host_fields =
        [("csrf_token", csrf_host.as_str()), ("role", "guardian_2"), ("sha256", &sha)];
    let reply =
        post_paper(&app, &hugues, &id, multipart(&host_fields, ("s.pdf", "application/pdf", scan)))
            .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "the host does not record paper");

    let reply =
        post_paper(&app, &helene, &id, multipart(&fields, ("scan.pdf", "application/pdf", scan)))
            .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let record = app.store.agreement_for_viewer(ids::HELENE, &id).await.unwrap().unwrap();
    assert_eq!(record.signatures[0].method, "paper");

    let yves = app.login_as(intern::YVES, intern::YVES).await;
    let download = app.get(&format!("/conventions/{id}/papier/guardian_2"), Some(&yves)).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body.as_bytes(), scan);
    assert_eq!(download.headers.get(header::CONTENT_TYPE).unwrap(), "application/pdf");
    let kim = app.login_as(intern::KIM, intern::KIM).await;
    let refused = app.get(&format!("/conventions/{id}/papier/guardian_2"), Some(&kim)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let again =
        post_paper(&app, &helene, &id, multipart(&fields, ("scan.pdf", "application/pdf", scan)))
            .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "one signature per role and version");
}

#[tokio::test]
async fn a_change_after_signatures_voids_them_over_http() {
    let (app, id) = app_with_agreement().await;
    let (hugues, helene) = frozen(&app, &id).await;
    let zoe = app.login_as(intern::ZOE, intern::ZOE).await;
    assert_eq!(sign(&app, &zoe, &id, "pupil").await.status, StatusCode::SEE_OTHER);
    assert_eq!(sign(&app, &helene, &id, "head").await.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, &id).await, (AgreementState::Signing, 1, 2));

    let form = app.get(&format!("/conventions/{id}/organisme"), Some(&hugues)).await;
    assert!(form.body.contains("toute modification annule les signatures"), "{}", form.body);
    let reply = post_host_part(&app, &hugues, &id, &[("activites", "Observer la vente.")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, &id).await, (AgreementState::SchoolPending, 2, 0));
    let page = app.get(&format!("/conventions/{id}"), Some(&zoe)).await;
    assert!(page.body.contains("version 2"), "{}", page.body);
    assert!(page.body.contains("Aucune signature pour cette version."));
    assert!(!page.body.contains("Signer en tant que"));

    let reply = post_school_part(&app, &helene, &id, "valider").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(sign(&app, &zoe, &id, "pupil").await.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, &id).await, (AgreementState::Signing, 2, 1));
}
