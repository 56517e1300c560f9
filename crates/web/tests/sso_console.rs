//! The registry's administration over HTTP: every hostile registration refused with its
//! reason next to its field and the form kept as typed, one application for a double submit,
//! the Pronote profile, a school administrator answered 404 on another school's applications
//! whatever the action, a confidential client's secret shown once (and again only when
//! regenerated), enabling and disabling as seen by the sign-on lookups, the deletion's
//! confirmation, and the CSRF refusals.

mod common;

use axum::http::StatusCode;
use common::*;
use domain::sso::{Attribute, Principal};
use sha2::Digest;

const DEPARTEMENT: &str = "/departement/applications";

fn school(uai: &str) -> String {
    format!("/etablissement/{uai}/applications")
}

/// The value of a hidden field of a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("a {name} field")) + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// The secret a secret page shows.
fn shown_secret(body: &str) -> String {
    let marker = "Secret du client (client_secret)</dt><dd class=\"code\">";
    let start = body.find(marker).expect("a secret") + marker.len();
    body[start..].split('<').next().unwrap().to_owned()
}

async fn count(app: &App, sql: &'static str, params: &[&str]) -> i64 {
    app.store.fixture_count(sql, params).await.unwrap()
}

/// Opens the creation form of a desk and returns (csrf, one-time token).
async fn creation_form(app: &App, cookie: &str, base: &str) -> (String, String) {
    let page = app.get(&format!("{base}/nouvelle"), Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (hidden_token(&page.body), hidden(&page.body, "jeton"))
}

/// A CAS registration's fields.
fn cas_fields<'a>(
    csrf: &'a str,
    token: &'a str,
    name: &'a str,
    prefix: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf_token", csrf),
        ("jeton", token),
        ("nom", name),
        ("protocole", "cas"),
        ("exactes", ""),
        ("prefixes", prefix),
        ("profils", "pupil"),
        ("profils", "teacher"),
        ("principal", "opaque"),
    ]
}

/// Registers a CAS application through a desk; returns its id.
async fn register(app: &App, cookie: &str, base: &str, name: &str, prefix: &str) -> String {
    let (csrf, token) = creation_form(app, cookie, base).await;
    let reply = app
        .post(&format!("{base}/nouvelle"), Some(cookie), &cas_fields(&csrf, &token, name, prefix))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.location().to_owned();
    let id = location.strip_prefix(&format!("{base}/")).unwrap().split('?').next().unwrap();
    id.to_owned()
}

#[tokio::test]
async fn every_hostile_registration_is_refused_with_its_reason_and_the_form_keeps_what_was_typed() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let (csrf, token) = creation_form(&app, &agnes, DEPARTEMENT).await;

    for (field, url, reason) in [
        ("prefixes", "https://*.index-education.net/pronote/", "ni « * »"),
        ("prefixes", "https://0860001a.index-education.net/pronote/.*", "ni « * »"),
        ("prefixes", "http://0860001a.index-education.net/pronote/", "commencer par https://"),
        (
            "prefixes",
            "https://0860001a.index-education.net@evil.tld/pronote/",
            "ni identifiant ni mot de passe",
        ),
        ("prefixes", "javascript:alert(1)//x/", "commencer par https://"),
        ("prefixes", "//evil.tld/pronote/", "URL absolue valide"),
        ("prefixes", "https://0860001a.index-education.net./pronote/", "URL absolue valide"),
        (
            "prefixes",
            "https://0860001A.INDEX-EDUCATION.NET/pronote/",
            "forme canonique : https://0860001a.index-education.net/pronote/",
        ),
        ("prefixes", "https://0860001a.index-education.net:443/pronote/", "forme canonique"),
        (
            "prefixes",
            "https://0860001a.index-education.net/pronote/%2e%2e/admin",
            "forme canonique : https://0860001a.index-education.net/admin",
        ),
        ("prefixes", "https://0860001a.index-education.net/pronote/..%2fadmin", "caractère encodé"),
        ("prefixes", "https://0860001a.index-education.net/pronote/?u=1", "pas de paramètres"),
        ("exactes", "https://0860001a.index-education.net/pronote/#top", "fragment (#)"),
        ("exactes", "https://0860001a.index-education.net/a/../admin", "forme canonique"),
    ] {
        let mut fields = cas_fields(&csrf, &token, "Pronote <b>test</b>", "");
        fields.retain(|(k, _)| *k != field);
        let typed = format!("https://ok.example.fr/pronote/\n{url}");
        fields.push((field, &typed));

        let reply = app.post(&format!("{DEPARTEMENT}/nouvelle"), Some(&agnes), &fields).await;

        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let error_id = if field == "prefixes" { "erreur-prefixes" } else { "erreur-exactes" };
        let error = reply.body.split(&format!("id=\"{error_id}\">")).nth(1).unwrap_or("");
        let error = error.split("</span>").next().unwrap_or("");
        assert!(error.contains("Ligne 2"), "{url}: {error}");
        assert!(error.contains(reason), "{url}: {error}");
        assert!(
            reply.body.contains("Pronote &#60;b&#62;test&#60;/b&#62;")
                || reply.body.contains("Pronote &lt;b&gt;test&lt;/b&gt;"),
            "the name is kept, escaped"
        );
        assert!(reply.body.contains("https://ok.example.fr/pronote/"), "the good line is kept");
        assert!(reply.body.contains("aria-invalid=\"true\""));
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sso_services", &[]).await, 0);

    let mut missing = cas_fields(&csrf, &token, "", "");
    missing.retain(|(k, _)| *k != "profils");
    let reply = app.post(&format!("{DEPARTEMENT}/nouvelle"), Some(&agnes), &missing).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Donnez un nom"));
    assert!(reply.body.contains("au moins une adresse de service"));
    assert!(reply.body.contains("au moins un profil"));

    let mut oidc = cas_fields(&csrf, &token, "Client", "");
    oidc.retain(|(k, _)| *k != "protocole");
    oidc.extend([
        ("protocole", "oidc"),
        ("redirections", "https://rp.example.fr/cb\nhttps://rp.example.fr/cb?x=1#f"),
    ]);
    let reply = app.post(&format!("{DEPARTEMENT}/nouvelle"), Some(&agnes), &oidc).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Ligne 2") && reply.body.contains("fragment (#)"));
}

#[tokio::test]
async fn a_double_submit_registers_one_pronote_application_with_its_profile() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let (csrf, token) = creation_form(&app, &agnes, DEPARTEMENT).await;
    let mut fields = cas_fields(
        &csrf,
        &token,
        "Pronote Jean Moulin",
        "https://0860001a.index-education.net/pronote/",
    );
    fields.extend([
        ("pronote", "1"),
        ("ecoles", ids::SCHOOL_1),
        ("profils", "relative"),
        ("profils", "staff"),
    ]);

    let first = app.post(&format!("{DEPARTEMENT}/nouvelle"), Some(&agnes), &fields).await;
    let second = app.post(&format!("{DEPARTEMENT}/nouvelle"), Some(&agnes), &fields).await;

    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location(), second.location());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sso_services", &[]).await, 1);
    let service = app
        .store
        .cas_service_for_url("https://0860001a.index-education.net/pronote/eleve.html")
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(service.principal, Principal::Login, "the Pronote profile sends the login");
    assert_eq!(service.attributes, Attribute::PRONOTE.to_vec());
    assert!(app.store.service_allows(&service.id, ids::ALICE).await.unwrap());
    assert!(!app.store.service_allows(&service.id, ids::DAVID).await.unwrap(), "collège 1 only");
    let audited =
        "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_registered' AND target_id = $1";
    assert_eq!(count(&app, audited, &[&service.id]).await, 1);

    let page = app.get(first.location(), Some(&agnes)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("L&#39;application est enregistrée")
            || page.body.contains("L&#x27;application est enregistrée")
    );
    assert!(page.body.contains("https://0860001a.index-education.net/pronote/"));
}

#[tokio::test]
async fn a_school_administrator_is_answered_404_on_another_schools_applications() {
    let app = app().await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let theirs =
        register(&app, &marc, &school(ids::UAI_2), "Pronote 2", "https://p2.example.fr/pronote/")
            .await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let csrf = app.csrf(&helene).await;
    let mine =
        register(&app, &helene, &school(ids::UAI_1), "Pronote 1", "https://p1.example.fr/pronote/")
            .await;

    let own_list = app.get(&school(ids::UAI_1), Some(&helene)).await;
    assert_eq!(own_list.status, StatusCode::OK);
    assert!(own_list.body.contains("Pronote 1") && !own_list.body.contains("Pronote 2"));
    for path in [
        school(ids::UAI_2),
        format!("{}/nouvelle", school(ids::UAI_2)),
        format!("{}/{theirs}", school(ids::UAI_2)),
        format!("{}/{theirs}", school(ids::UAI_1)),
        format!("{}/{theirs}/supprimer", school(ids::UAI_1)),
        DEPARTEMENT.to_owned(),
        format!("{DEPARTEMENT}/{theirs}"),
    ] {
        let reply = app.get(&path, Some(&helene)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.body.contains("Pronote 2"), "{path}");
    }
    let change = cas_fields(&csrf, "", "Volé", "https://p2.example.fr/pronote/");
    for (path, fields) in [
        (format!("{}/{theirs}", school(ids::UAI_1)), change.clone()),
        (format!("{}/{theirs}", school(ids::UAI_2)), change.clone()),
        (
            format!("{}/{theirs}/etat", school(ids::UAI_1)),
            vec![("csrf_token", csrf.as_str()), ("actif", "0")],
        ),
        (format!("{}/{theirs}/supprimer", school(ids::UAI_1)), vec![("csrf_token", csrf.as_str())]),
        (format!("{}/{theirs}/secret", school(ids::UAI_1)), vec![("csrf_token", csrf.as_str())]),
        (format!("{DEPARTEMENT}/{theirs}/supprimer"), vec![("csrf_token", csrf.as_str())]),
    ] {
        let reply = app.post(&path, Some(&helene), &fields).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let still = app.store.sso_service(&theirs).await.unwrap().unwrap();
    assert_eq!((still.name.as_str(), still.enabled), ("Pronote 2", true));

    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    for path in
        [school(ids::UAI_1), DEPARTEMENT.to_owned(), format!("{}/{mine}", school(ids::UAI_1))]
    {
        assert_eq!(app.get(&path, Some(&thomas)).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_confidential_clients_secret_is_shown_once_and_only_stored_hashed() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let (csrf, token) = creation_form(&app, &agnes, DEPARTEMENT).await;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", token.as_str()),
        ("nom", "Appli"),
        ("protocole", "oidc"),
        ("redirections", "https://rp.example.fr/callback"),
        ("deconnexions", "https://rp.example.fr/"),
        ("client", "confidentiel"),
        ("profils", "teacher"),
        ("principal", "opaque"),
    ];

    let created = app.post(&format!("{DEPARTEMENT}/nouvelle"), Some(&agnes), &fields).await;

    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("une seule fois"));
    let secret = shown_secret(&created.body);
    assert!(secret.len() >= 43, "256 bits");
    let hash = hex::encode(sha2::Sha256::digest(secret.as_bytes()));
    let stored =
        "SELECT COUNT(*) FROM sso_services WHERE client_secret_hash = $1 AND client_id IS NOT NULL";
    assert_eq!(count(&app, stored, &[&hash]).await, 1);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sso_services WHERE client_secret_hash = $1", &[&secret])
            .await,
        0
    );
    let header = created.headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(header.contains("no-store"));

    let reload = app.post(&format!("{DEPARTEMENT}/nouvelle"), Some(&agnes), &fields).await;
    assert_eq!(reload.status, StatusCode::SEE_OTHER, "a reload does not draw or show it again");
    let page = app.get(reload.location(), Some(&agnes)).await;
    assert!(!page.body.contains(&secret));
    assert!(page.body.contains("Confidentiel"));
    let id = reload
        .location()
        .strip_prefix(&format!("{DEPARTEMENT}/"))
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let client_id = app.store.sso_service(&id).await.unwrap().unwrap().client_id.unwrap();
    assert!(page.body.contains(&client_id));
    assert!(
        client_id.len() >= 22
            && client_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );

    let regenerated = app
        .post(&format!("{DEPARTEMENT}/{id}/secret"), Some(&agnes), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(regenerated.status, StatusCode::OK);
    let new_secret = shown_secret(&regenerated.body);
    assert_ne!(new_secret, secret);
    assert_eq!(count(&app, stored, &[&hash]).await, 0, "the old secret stops working");
    let new_hash = hex::encode(sha2::Sha256::digest(new_secret.as_bytes()));
    assert_eq!(count(&app, stored, &[&new_hash]).await, 1);
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'sso_service_secret_regenerated' AND target_id = $1";
    assert_eq!(count(&app, audited, &[&id]).await, 1);
}

#[tokio::test]
async fn disabling_through_the_console_hides_the_application_from_every_sign_on_lookup() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let base = school(ids::UAI_1);
    let id = register(&app, &helene, &base, "Pronote", "https://p1.example.fr/pronote/").await;
    let csrf = app.csrf(&helene).await;
    let url = "https://p1.example.fr/pronote/eleve.html";
    assert!(app.store.cas_service_for_url(url).await.unwrap().is_some());

    let off = app
        .post(&format!("{base}/{id}/etat"), Some(&helene), &[("csrf_token", &csrf), ("actif", "0")])
        .await;

    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.cas_service_for_url(url).await.unwrap(), None);
    let list = app.get(&base, Some(&helene)).await;
    assert!(list.body.contains("Désactivée"));
    let on = app
        .post(&format!("{base}/{id}/etat"), Some(&helene), &[("csrf_token", &csrf), ("actif", "1")])
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert!(app.store.cas_service_for_url(url).await.unwrap().is_some());
    let forged = app.post(&format!("{base}/{id}/etat"), Some(&helene), &[("actif", "0")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no form token");
    assert!(app.store.cas_service_for_url(url).await.unwrap().is_some());
}

#[tokio::test]
async fn a_change_keeps_what_was_typed_when_refused_and_a_deletion_is_confirmed_first() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let base = school(ids::UAI_1);
    let id = register(&app, &helene, &base, "Pronote", "https://p1.example.fr/pronote/").await;
    let csrf = app.csrf(&helene).await;

    let bad = cas_fields(
        &csrf,
        "",
        "Pronote renommé",
        "https://p1.example.fr/pronote/\nhttps://P1.example.fr/x/",
    );
    let refused = app.post(&format!("{base}/{id}"), Some(&helene), &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Pronote renommé")
            && refused.body.contains("https://P1.example.fr/x/")
    );
    assert!(refused.body.contains("forme canonique : https://p1.example.fr/x/"));
    assert_eq!(app.store.sso_service(&id).await.unwrap().unwrap().name, "Pronote");

    let good = cas_fields(&csrf, "", "Pronote renommé", "https://p1.example.fr/pronote/");
    let saved = app.post(&format!("{base}/{id}"), Some(&helene), &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(app.store.sso_service(&id).await.unwrap().unwrap().name, "Pronote renommé");

    let confirm = app.get(&format!("{base}/{id}/supprimer"), Some(&helene)).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Supprimer définitivement"));
    assert!(
        app.store.sso_service(&id).await.unwrap().is_some(),
        "the confirmation page deletes nothing"
    );
    let deleted =
        app.post(&format!("{base}/{id}/supprimer"), Some(&helene), &[("csrf_token", &csrf)]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(app.store.sso_service(&id).await.unwrap().is_none());
    let audited = "SELECT COUNT(*) FROM audit_log WHERE target_id = $1 AND action IN \
                   ('sso_service_registered', 'sso_service_updated', 'sso_service_deleted')";
    assert_eq!(count(&app, audited, &[&id]).await, 3);
}
