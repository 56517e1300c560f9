//! The resources over HTTP: the catalogue of each viewer (profile, schools), its filters as a
//! plain GET form, a tile's opening (counted per school and day without anything about the
//! person, then redirected: through `/cas/login?service=…` for a CAS-bound resource), THOMAS's
//! two Pronote tiles each opening its own collège's, a school administrator answered 404 on
//! another school's resources, the form's refusals, and the département's statistics with a
//! CSV export where a formula in a title is neutralised.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("a {name} field")) + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

async fn count(app: &App, sql: &'static str, params: &[&str]) -> i64 {
    app.store.fixture_count(sql, params).await.unwrap()
}

/// Adds a resource through a desk's form (`base` is `/departement` or `/etablissement/{uai}`);
/// returns its id.
async fn add(app: &App, cookie: &str, base: &str, extra: &[(&str, &str)]) -> String {
    let page = app.get(&format!("{base}/ressources/nouvelle"), Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = hidden_token(&page.body);
    let token = hidden(&page.body, "jeton");
    let mut fields: Vec<(&str, &str)> = vec![("csrf_token", &csrf), ("jeton", &token)];
    fields.extend_from_slice(extra);
    let reply = app.post(&format!("{base}/ressources/nouvelle"), Some(cookie), &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let prefix = format!("{base}/ressources/");
    reply.location().strip_prefix(&prefix).unwrap().split('?').next().unwrap().to_owned()
}

/// Registers a collège's Pronote through its console and adds its tile; returns the tile's id.
async fn pronote(app: &App, cookie: &str, uai: &str) -> String {
    let base = format!("/etablissement/{uai}");
    let url = format!("https://{}.index-education.net/pronote/", uai.to_ascii_lowercase());
    let page = app.get(&format!("{base}/applications/nouvelle"), Some(cookie)).await;
    let csrf = hidden_token(&page.body);
    let token = hidden(&page.body, "jeton");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", &token),
        ("nom", "Pronote"),
        ("protocole", "cas"),
        ("prefixes", &url),
        ("pronote", "1"),
        ("profils", "pupil"),
        ("profils", "relative"),
        ("profils", "teacher"),
        ("profils", "staff"),
    ];
    let reply = app.post(&format!("{base}/applications/nouvelle"), Some(cookie), &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let service =
        reply.location().rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    add(
        app,
        cookie,
        &base,
        &[
            ("titre", "Pronote"),
            ("type", "vie-scolaire"),
            ("adresse", &url),
            ("application", &service),
            ("profils", "pupil"),
            ("profils", "relative"),
            ("profils", "teacher"),
            ("profils", "staff"),
        ],
    )
    .await
}

/// The tiles' ids of a catalogue page, in order.
fn tiles(body: &str) -> Vec<String> {
    body.split("href=\"/ressources/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/ouvrir\"").map(|(id, _)| id.to_owned()))
        .collect()
}

async fn open(app: &App, cookie: &str, id: &str, site: Option<&str>) -> Reply {
    let mut request =
        Request::get(format!("/ressources/{id}/ouvrir")).header(header::COOKIE, cookie);
    if let Some(site) = site {
        request = request.header("sec-fetch-site", site);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn each_viewer_sees_the_tiles_of_their_profile_and_schools_and_filters_work_without_javascript()
 {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let manual = add(
        &app,
        &agnes,
        "/departement",
        &[
            ("titre", "Manuels de 6e"),
            ("type", "manuel"),
            ("adresse", "https://manuels.example.fr/6e"),
            ("niveaux", "6e"),
            ("matieres", "mathematiques"),
            ("profils", "pupil"),
        ],
    )
    .await;
    let audio = add(
        &app,
        &agnes,
        "/departement",
        &[
            ("titre", "Livres audio"),
            ("type", "livres"),
            ("adresse", "https://audio.example.fr/"),
            ("dys", "livre-audio"),
            ("profils", "pupil"),
            ("profils", "relative"),
            ("ecoles", ids::SCHOOL_1),
        ],
    )
    .await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let david = app.login_as(ids::DAVID, "david.martin").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;

    let page = app.get("/ressources", Some(&alice)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(tiles(&page.body), [audio.clone(), manual.clone()]);
    assert!(page.body.contains("Adaptée DYS : Livre audio."));
    assert!(page.body.contains("<label for=\"niveau\">Niveau</label>"));
    assert!(page.body.contains("href=\"/ressources\""), "the navigation links the catalogue");
    assert_eq!(
        tiles(&app.get("/ressources", Some(&david)).await.body),
        std::slice::from_ref(&manual)
    );
    assert_eq!(
        tiles(&app.get("/ressources", Some(&paul)).await.body),
        std::slice::from_ref(&audio)
    );

    for (query, expected) in [
        ("?dys=1", vec![audio.clone()]),
        ("?niveau=6e", vec![audio.clone(), manual.clone()]),
        ("?matiere=mathematiques", vec![manual.clone()]),
        ("?type=livres", vec![audio.clone()]),
        ("?type=livres&matiere=mathematiques", vec![]),
        ("?niveau=%3Cscript%3E&type=inconnu", vec![audio.clone(), manual.clone()]),
    ] {
        let reply = app.get(&format!("/ressources{query}"), Some(&alice)).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}");
        assert_eq!(tiles(&reply.body), expected, "{query}");
    }
    let filtered = app.get("/ressources?matiere=mathematiques", Some(&alice)).await;
    assert!(filtered.body.contains("<option value=\"mathematiques\" selected>"));
    assert!(!filtered.body.contains("<script>"));
}

#[tokio::test]
async fn an_opening_counts_per_school_and_day_and_redirects_without_recording_who() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let library = add(
        &app,
        &agnes,
        "/departement",
        &[
            ("titre", "Bibliothèque"),
            ("type", "livres"),
            ("adresse", "https://bib.example.fr/livres?x=1"),
            ("profils", "pupil"),
        ],
    )
    .await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let bruno = app.login_as(ids::BRUNO, "bruno.durand").await;
    let audits = "SELECT COUNT(*) FROM audit_log";
    let audited_before = count(&app, audits, &[]).await;

    for cookie in [&alice, &bruno, &alice] {
        let reply = open(&app, cookie, &library, Some("same-origin")).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.location(), "https://bib.example.fr/livres?x=1");
    }
    let cross = open(&app, &alice, &library, Some("cross-site")).await;
    assert_eq!(cross.status, StatusCode::SEE_OTHER, "another site's link still opens it");

    let rows = "SELECT COUNT(*) FROM resource_openings";
    assert_eq!(count(&app, rows, &[]).await, 1, "one aggregate row");
    let total = "SELECT openings FROM resource_openings WHERE resource_id = $1 AND school_id = $2";
    assert_eq!(count(&app, total, &[&library, ids::SCHOOL_1]).await, 3, "not the cross-site one");
    assert_eq!(
        count(&app, audits, &[]).await,
        audited_before,
        "an opening is not logged per person"
    );
    let david = app.login_as(ids::DAVID, "david.martin").await;
    let page = app.get("/ressources", Some(&david)).await;
    assert!(tiles(&page.body).contains(&library));

    let stranger = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let refused = open(&app, &stranger, &library, None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "not for teachers");
    assert_eq!(count(&app, total, &[&library, ids::SCHOOL_1]).await, 3);
    let nobody = app.get(&format!("/ressources/{library}/ouvrir"), None).await;
    assert_eq!(nobody.status, StatusCode::SEE_OTHER);
    assert!(nobody.location().starts_with("/connexion?next="));
}

#[tokio::test]
async fn thomas_gets_one_pronote_tile_per_collège_each_through_cas_to_its_own() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let first = pronote(&app, &helene, ids::UAI_1).await;
    let second = pronote(&app, &marc, ids::UAI_2).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;

    let page = app.get("/ressources", Some(&thomas)).await;

    let ids_seen = tiles(&page.body);
    assert_eq!(ids_seen.len(), 2);
    assert!(ids_seen.contains(&first) && ids_seen.contains(&second));
    assert!(
        page.body.contains("Collège Jean Moulin") && page.body.contains("Collège Camille Claudel")
    );
    for (tile, school, uai) in
        [(&first, ids::SCHOOL_1, "0860001a"), (&second, ids::SCHOOL_2, "0860002b")]
    {
        let reply = open(&app, &thomas, tile, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(
            reply.location(),
            format!("/cas/login?service=https%3A%2F%2F{uai}.index-education.net%2Fpronote%2F")
        );
        let counted =
            "SELECT COUNT(*) FROM resource_openings WHERE resource_id = $1 AND school_id = $2";
        assert_eq!(count(&app, counted, &[tile, school]).await, 1);
    }
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    assert_eq!(
        tiles(&app.get("/ressources", Some(&alice)).await.body),
        std::slice::from_ref(&first)
    );
    assert_eq!(open(&app, &alice, &second, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_school_administrator_is_answered_404_on_another_schools_resources() {
    let app = app().await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let theirs = add(
        &app,
        &marc,
        &format!("/etablissement/{}", ids::UAI_2),
        &[
            ("titre", "Club 2"),
            ("type", "plateforme"),
            ("adresse", "https://club2.example.fr/"),
            ("profils", "pupil"),
        ],
    )
    .await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let csrf = app.csrf(&helene).await;
    let own = format!("/etablissement/{}/ressources", ids::UAI_1);
    let other = format!("/etablissement/{}/ressources", ids::UAI_2);

    assert_eq!(app.get(&own, Some(&helene)).await.status, StatusCode::OK);
    for path in [
        other.clone(),
        format!("{other}/{theirs}"),
        format!("{own}/{theirs}"),
        format!("{own}/{theirs}/supprimer"),
        "/departement/ressources".to_owned(),
        "/departement/ressources/statistiques".to_owned(),
        "/departement/ressources/statistiques.csv".to_owned(),
    ] {
        let reply = app.get(&path, Some(&helene)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.body.contains("Club 2"), "{path}");
    }
    let change = [
        ("csrf_token", csrf.as_str()),
        ("titre", "Volé"),
        ("type", "autre"),
        ("adresse", "https://x.example.fr/"),
        ("profils", "pupil"),
    ];
    for path in [
        format!("{own}/{theirs}"),
        format!("{other}/{theirs}"),
        format!("{own}/{theirs}/supprimer"),
    ] {
        let reply = app.post(&path, Some(&helene), &change).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let kept = "SELECT COUNT(*) FROM resources WHERE id = $1 AND title = 'Club 2'";
    assert_eq!(count(&app, kept, &[&theirs]).await, 1);
}

#[tokio::test]
async fn the_resource_form_refuses_each_bad_field_with_its_reason_and_keeps_the_rest() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let base = format!("/etablissement/{}", ids::UAI_1);
    let page = app.get(&format!("{base}/ressources/nouvelle"), Some(&helene)).await;
    let csrf = hidden_token(&page.body);
    let token = hidden(&page.body, "jeton");
    assert!(!page.body.contains("name=\"ecoles\""), "a school's resource is for the school");
    assert!(!page.body.contains("value=\"agent\""), "no département profile for a school");

    for (url, reason) in [
        ("javascript:alert(1)", "commencer par https://"),
        ("http://manuel.example.fr/", "commencer par https://"),
        ("https://a:b@manuel.example.fr/", "ni identifiant ni mot de passe"),
        ("https://Manuel.example.fr/", "forme canonique : https://manuel.example.fr/"),
        ("", "Indiquez l"),
    ] {
        let fields = [
            ("csrf_token", csrf.as_str()),
            ("jeton", &token),
            ("titre", "Mon manuel"),
            ("type", "manuel"),
            ("adresse", url),
            ("niveaux", "5e"),
            ("profils", "pupil"),
        ];
        let reply = app.post(&format!("{base}/ressources/nouvelle"), Some(&helene), &fields).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let error = reply.body.split("id=\"erreur-adresse\">").nth(1).unwrap_or("");
        assert!(error.split("</span>").next().unwrap_or("").contains(reason), "{url}: {error}");
        assert!(reply.body.contains("value=\"Mon manuel\""));
        assert!(reply.body.contains("value=\"5e\" checked"));
    }
    let mut other =
        vec![("csrf_token", csrf.as_str()), ("jeton", &token), ("titre", ""), ("type", "??")];
    other.push(("adresse", "https://ok.example.fr/"));
    let reply = app.post(&format!("{base}/ressources/nouvelle"), Some(&helene), &other).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for expected in ["erreur-titre", "erreur-type", "erreur-profils"] {
        assert!(reply.body.contains(&format!("id=\"{expected}\"")), "{expected}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM resources", &[]).await, 0);
}

#[tokio::test]
async fn the_departement_reads_openings_per_collège_and_exports_a_csv_without_formulas() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let hostile = add(
        &app,
        &agnes,
        "/departement",
        &[
            ("titre", "=HYPERLINK(\"http://evil.tld\";\"clic\")"),
            ("type", "presse"),
            ("adresse", "https://presse.example.fr/"),
            ("profils", "pupil"),
        ],
    )
    .await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let david = app.login_as(ids::DAVID, "david.martin").await;
    for cookie in [&alice, &alice, &david] {
        assert_eq!(open(&app, cookie, &hostile, None).await.status, StatusCode::SEE_OTHER);
    }

    let page = app.get("/departement/ressources/statistiques", Some(&agnes)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<td>Collège Jean Moulin (0860001A)</td><td>2</td>"));
    assert!(page.body.contains("<td>Collège Camille Claudel (0860002B)</td><td>1</td>"));
    assert!(page.body.contains("<th scope=\"row\" colspan=\"3\">Total</th><td>3</td>"));
    assert!(!page.body.contains("alice") && !page.body.contains("Martin"));

    let csv = app.get("/departement/ressources/statistiques.csv", Some(&agnes)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let content_type = csv.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some("text/csv; charset=utf-8"));
    assert!(csv.body.starts_with("\u{FEFF}Ressource;Gérée par;Collège;UAI;Ouvertures;Du;Au"));
    assert!(csv.body.contains("\"'=HYPERLINK(\"\"http://evil.tld\"\";\"\"clic\"\")\";Le département;Collège Jean Moulin;0860001A;2;"));
    for line in csv.body.lines().skip(1) {
        assert!(!line.starts_with('=') && !line.starts_with("\"="), "{line}");
    }

    let past = app
        .get("/departement/ressources/statistiques?du=2001-01-01&au=2001-12-31", Some(&agnes))
        .await;
    assert!(past.body.contains("Aucune ouverture"));
    let reversed = app
        .get("/departement/ressources/statistiques?du=2026-05-01&au=2026-01-01", Some(&agnes))
        .await;
    assert_eq!(reversed.status, StatusCode::OK);
    assert!(reversed.body.contains("vient avant son début"));
    for path in ["/departement/ressources/statistiques", "/departement/ressources/statistiques.csv"]
    {
        assert_eq!(app.get(path, Some(&alice)).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}
