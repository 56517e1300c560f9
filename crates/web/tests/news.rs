//! News over HTTP: a head publishes through the form (CSRF and one-time token, a date typed in
//! the school's zone), a parent sees it on the home page, reads and acknowledges it, the author
//! counts "1 / N"; scripts in the title or body are neutralised; the item and its image answer
//! 404 to anyone not targeted; a file that is not an image, whatever its name, is refused with
//! nothing stored; teachers and heads of other schools cannot publish; withdrawal hides an item.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A 1×1 PNG.
const PNG: [u8; 69] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0,
    0, 0, 144, 119, 83, 222, 0, 0, 0, 12, 73, 68, 65, 84, 120, 156, 99, 248, 207, 192, 0, 0, 3, 1,
    1, 0, 201, 254, 146, 239, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];
const BOUNDARY: &str = "----preau-news-test-boundary";

/// A `multipart/form-data` body with text fields and an optional file named `image`.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((file_name, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; \
                 filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(app: &App, cookie: &str, body: Vec<u8>, site: &str) -> Reply {
    let request = Request::post("/actualites/publier")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("sec-fetch-site", site)
        .header(header::ORIGIN, "http://127.0.0.1:8080")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// The exact bytes of an item's image as its reader receives them.
async fn image_bytes(app: &App, id: &str, cookie: &str) -> Vec<u8> {
    let request = Request::get(format!("/actualites/{id}/image"))
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    response.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// The value of a hidden field of a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).expect("the hidden field") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// The form's session token and one-time token, read from the publication page.
async fn form_tokens(app: &App, cookie: &str) -> (String, String) {
    let page = app.get("/actualites/publier", Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (hidden_token(&page.body), hidden(&page.body, "jeton"))
}

/// Publishes through the form: the tokens, then `fields`, then the image if any.
async fn publish(
    app: &App,
    cookie: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Reply {
    let (csrf, token) = form_tokens(app, cookie).await;
    let mut all = vec![("csrf_token", csrf.as_str()), ("jeton", token.as_str())];
    all.extend_from_slice(fields);
    post_multipart(app, cookie, multipart(&all, file), "same-origin").await
}

/// The id of the first item linked from a page.
fn first_item(body: &str) -> String {
    let marker = "href=\"/actualites/";
    body.match_indices(marker)
        .map(|(at, _)| body[at + marker.len()..].split('"').next().unwrap().to_owned())
        .find(|id| id != "publier" && id != "gestion")
        .expect("a link to an item")
}

async fn news_count(app: &App) -> i64 {
    app.store.fixture_count("SELECT COUNT(*) FROM news", &[]).await.unwrap()
}

const MEETING: &[(&str, &str)] = &[
    ("titre", "Réunion parents-professeurs"),
    ("texte", "Rendez-vous le 12 mars.\n\nSalle 4, bâtiment B."),
    ("format", "texte"),
    ("ecoles", "school-1"),
    ("profils", "relative"),
    ("accuse", "1"),
];

#[tokio::test]
async fn a_head_publishes_a_parent_acknowledges_and_the_head_counts_one_of_four() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let form = app.get("/actualites/publier", Some(&helene)).await;
    assert!(form.body.contains("Collège Jean Moulin") && form.body.contains(">6A<"));
    assert!(!form.body.contains("Camille Claudel") && !form.body.contains("Tout le département"));
    let published = publish(&app, &helene, MEETING, None).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);
    assert_eq!(published.location(), "/actualites/gestion?etat=publiee");

    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let home = app.get("/accueil", Some(&paul)).await;
    assert!(home.body.contains("Réunion parents-professeurs"));
    assert!(home.body.contains("à lire et signer"));
    let id = first_item(&home.body);
    let item = app.get(&format!("/actualites/{id}"), Some(&paul)).await;
    assert_eq!(item.status, StatusCode::OK);
    assert!(item.body.contains("<p>Rendez-vous le 12 mars.</p>"));
    assert!(item.body.contains("pris connaissance</button>"));
    let csrf = app.csrf(&paul).await;
    for _ in 0..2 {
        let path = format!("/actualites/{id}/lu");
        let ack = app.post(&path, Some(&paul), &[("csrf_token", &csrf)]).await;
        assert_eq!(ack.status, StatusCode::SEE_OTHER);
        assert_eq!(ack.location(), format!("/actualites/{id}?lu=1"));
    }
    let after = app.get(&format!("/actualites/{id}?lu=1"), Some(&paul)).await;
    assert!(after.body.contains("votre prise de connaissance est enregistrée"));
    assert!(!after.body.contains("<button type=\"submit\">J"));
    assert!(!app.get("/accueil", Some(&paul)).await.body.contains("à lire et signer"));

    let managed = app.get("/actualites/gestion", Some(&helene)).await;
    assert_eq!(managed.status, StatusCode::OK);
    assert!(managed.body.contains("1 / 4 ont pris connaissance"), "{}", managed.body);
    assert!(managed.body.contains("Parents"));
    let acks = app.store.fixture_count("SELECT COUNT(*) FROM news_acks", &[]).await.unwrap();
    assert_eq!(acks, 1);
}

#[tokio::test]
async fn a_forged_or_cross_site_form_and_a_double_submit_publish_at_most_once() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let (csrf, token) = form_tokens(&app, &helene).await;

    let mut forged = vec![("csrf_token", "faux"), ("jeton", token.as_str())];
    forged.extend_from_slice(MEETING);
    let refused = post_multipart(&app, &helene, multipart(&forged, None), "same-origin").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let mut genuine = vec![("csrf_token", csrf.as_str()), ("jeton", token.as_str())];
    genuine.extend_from_slice(MEETING);
    let cross = post_multipart(&app, &helene, multipart(&genuine, None), "cross-site").await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(news_count(&app).await, 0);

    for _ in 0..2 {
        let sent = post_multipart(&app, &helene, multipart(&genuine, None), "same-origin").await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(news_count(&app).await, 1);

    // Back, edit, send again with the same form: refused, not confirmed, nothing new.
    let mut edited = vec![("csrf_token", csrf.as_str()), ("jeton", token.as_str())];
    edited.extend(
        MEETING.iter().map(|&(k, v)| if k == "titre" { (k, "Autre titre") } else { (k, v) }),
    );
    let again = post_multipart(&app, &helene, multipart(&edited, None), "same-origin").await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.body.contains("rien n&#39;a été publié")
            || again.body.contains("rien n'a été publié")
    );
    assert!(again.body.contains("Autre titre"), "the input is kept");
    assert_eq!(news_count(&app).await, 1);
}

#[tokio::test]
async fn only_the_profiles_the_form_offers_can_be_targeted() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    for profile in ["agent", "official", "admin'--"] {
        let fields: Vec<(&str, &str)> = MEETING
            .iter()
            .map(|&(k, v)| if k == "profils" { (k, profile) } else { (k, v) })
            .collect();
        let refused = publish(&app, &helene, &fields, None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{profile}");
    }
    assert_eq!(news_count(&app).await, 0);
}

#[tokio::test]
async fn scripts_in_the_title_and_body_are_neutralised_everywhere_they_show() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let fields = [
        ("titre", "<script>alert(1)</script> {{7*7}}"),
        (
            "texte",
            "<p onclick=\"alert(3)\">Bonjour</p><img src=x onerror=alert(4)>\
             <a href=\"javascript:alert(5)\">lien</a><script>alert(6)</script>\
             <iframe srcdoc=\"<script>alert(7)</script>\"></iframe><svg><script>alert(8)</script></svg>",
        ),
        ("format", "html"),
        ("ecoles", "school-1"),
    ];
    let published = publish(&app, &helene, &fields, None).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);

    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let home = app.get("/accueil", Some(&alice)).await;
    let id = first_item(&home.body);
    let pages = [
        home,
        app.get("/actualites", Some(&alice)).await,
        app.get(&format!("/actualites/{id}"), Some(&alice)).await,
        app.get("/actualites/gestion", Some(&helene)).await,
    ];
    for page in &pages {
        assert_eq!(page.status, StatusCode::OK);
        for bad in ["<script>alert", "<img", "onerror", "onclick", "javascript:", "<iframe", "<svg"]
        {
            assert!(!page.body.contains(bad), "{bad} in {}", page.body);
        }
        assert!(page.body.contains("&#60;script&#62;alert(1)&#60;/script&#62; {{7*7}}"));
    }
    assert!(pages[2].body.contains("Bonjour"));
}

#[tokio::test]
async fn the_item_and_its_image_answer_404_to_anyone_not_targeted() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let fields = [
        ("titre", "Photo de classe"),
        ("texte", "La photo de la 6A."),
        ("ecoles", "school-1"),
        ("classes", "class-6a"),
        ("image_alt", "Les élèves de 6A devant le collège"),
    ];
    let published = publish(&app, &helene, &fields, Some(("photo.png", "image/png", &PNG))).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);

    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let id = first_item(&app.get("/actualites", Some(&paul)).await.body);
    let item = app.get(&format!("/actualites/{id}"), Some(&paul)).await;
    assert!(item.body.contains("alt=\"Les élèves de 6A devant le collège\""));
    let image = app.get(&format!("/actualites/{id}/image"), Some(&paul)).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(image.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(image.headers[header::CONTENT_SECURITY_POLICY], "sandbox");
    assert_eq!(image_bytes(&app, &id, &paul).await, PNG.as_slice());

    for (person, login) in
        [(ids::SAMI, "sami.petit"), (ids::DAVID, "david.martin"), (ids::MARC, "marc.blanc")]
    {
        let cookie = app.login_as(person, login).await;
        for path in [format!("/actualites/{id}"), format!("/actualites/{id}/image")] {
            let reply = app.get(&path, Some(&cookie)).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{login} {path}");
        }
        let csrf = app.csrf(&cookie).await;
        for action in ["lu", "retirer"] {
            let path = format!("/actualites/{id}/{action}");
            let reply = app.post(&path, Some(&cookie), &[("csrf_token", &csrf)]).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{login} {action}");
        }
    }
    for path in ["/actualites/inconnu", "/actualites/inconnu/image", "/actualites/..%2F..%2Fetc"] {
        assert_eq!(app.get(path, Some(&paul)).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let anonymous = app.get(&format!("/actualites/{id}/image"), None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn files_that_are_not_images_are_refused_whatever_their_name() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let fields = [("titre", "Affiche"), ("texte", "Voir l'affiche."), ("ecoles", "school-1")];
    let html = b"<html><body><script>alert(1)</script></body></html>".as_slice();
    let svg =
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".as_slice();
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n".as_slice();

    for (name, bytes) in [
        ("affiche.png", html),
        ("affiche.jpg", svg),
        ("affiche.svg", svg),
        ("affiche.pdf", pdf),
        ("affiche.gif", PNG.as_slice()),
    ] {
        let reply = publish(&app, &helene, &fields, Some((name, "image/png", bytes))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(reply.body.contains("id=\"erreur-image\""), "{name}: {}", reply.body);
        assert!(reply.body.contains("Affiche"), "the form keeps what was typed");
    }

    assert_eq!(news_count(&app).await, 0);
    let files = app.store.fixture_count("SELECT COUNT(*) FROM attachments", &[]).await.unwrap();
    assert_eq!(files, 0);
}

#[tokio::test]
async fn teachers_parents_and_heads_of_other_schools_cannot_publish_there() {
    let app = app().await;

    for (person, login) in [(ids::THOMAS, "thomas.bernard"), (ids::PAUL, "paul.martin")] {
        let cookie = app.login_as(person, login).await;
        let form = app.get("/actualites/publier", Some(&cookie)).await;
        assert_eq!(form.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.get("/actualites/gestion", Some(&cookie)).await.status,
            StatusCode::NOT_FOUND
        );
        let csrf = app.csrf(&cookie).await;
        let mut fields = vec![("csrf_token", csrf.as_str()), ("jeton", "un-jeton")];
        fields.extend_from_slice(MEETING);
        let reply = post_multipart(&app, &cookie, multipart(&fields, None), "same-origin").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }

    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let forged = publish(&app, &marc, MEETING, None).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    let olivier = app.login_as(ids::OLIVIER, "olivier.faure").await;
    let whole = [("titre", "Info"), ("texte", "Texte"), ("departement", "1")];
    assert_eq!(
        publish(&app, &olivier, &whole, None).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(news_count(&app).await, 0);
    let school_2 = [("titre", "Info"), ("texte", "Texte"), ("ecoles", "school-2")];
    assert_eq!(publish(&app, &olivier, &school_2, None).await.status, StatusCode::SEE_OTHER);
    assert_eq!(news_count(&app).await, 1);
}

#[tokio::test]
async fn dates_are_typed_in_the_school_zone_and_a_future_item_waits() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let fields = [
        ("titre", "Rentrée 2030"),
        ("texte", "Accueil des 6e."),
        ("ecoles", "school-1"),
        ("publication", "2030-07-01T08:00"),
        ("fin", "2030-06-01T08:00"),
    ];
    let backwards = publish(&app, &helene, &fields, None).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(backwards.body.contains("id=\"erreur-dates\""));

    let fields = [
        ("titre", "Rentrée 2030"),
        ("texte", "Accueil des 6e."),
        ("ecoles", "school-1"),
        ("publication", "2030-07-01T08:00"),
        ("fin", "2030-09-30T18:00"),
    ];
    let published = publish(&app, &helene, &fields, None).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);

    let at = app.store.fixture_count("SELECT publish_at FROM news", &[]).await.unwrap();
    assert_eq!(at, 1_909_116_000, "8:00 in Paris in summer is 6:00 UTC");
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    assert!(!app.get("/accueil", Some(&alice)).await.body.contains("Rentrée 2030"));
    let managed = app.get("/actualites/gestion", Some(&helene)).await;
    assert!(managed.body.contains("Programmée"));
    assert!(managed.body.contains("1er juillet 2030 à 8 h 00"));
}

#[tokio::test]
async fn a_withdrawn_item_is_no_longer_shown() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let fields = [("titre", "Cantine fermée"), ("texte", "Lundi."), ("ecoles", "school-1")];
    publish(&app, &helene, &fields, None).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let id = first_item(&app.get("/actualites", Some(&alice)).await.body);

    let csrf = app.csrf(&helene).await;
    let path = format!("/actualites/{id}/retirer");
    let withdrawn = app.post(&path, Some(&helene), &[("csrf_token", &csrf)]).await;

    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    assert_eq!(withdrawn.location(), "/actualites/gestion?etat=retiree");
    let gone = app.get(&format!("/actualites/{id}"), Some(&alice)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(!app.get("/accueil", Some(&alice)).await.body.contains("Cantine fermée"));
    assert!(app.get("/actualites/gestion", Some(&helene)).await.body.contains("Retirée"));
}
