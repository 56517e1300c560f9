//! The département's desk of the internship platform and the statistics pages, through the
//! router: only département administrators open the desk (a head, a teacher, a pupil or a host
//! get the ordinary 404), settings out of bounds come back with a French error on their field
//! and change nothing, a collège's profile is saved, a collège's head reads their collège's
//! statistics and not another's, and every CSV export neutralises a formula-like cell.

mod common;

use axum::http::StatusCode;
use common::{App, app, hidden_token};
use store::fixtures::ids as base;
use store::fixtures::internship::{FixtureOffer, ids, weeks};

async fn internship_app() -> App {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    app
}

const GOOD: [(&str, &str); 6] = [
    ("delai_reponse", "12"),
    ("prolongation", "6"),
    ("delai_confirmation", "5"),
    ("rappel", "1"),
    ("avance", "3"),
    ("rayon", "40"),
];

fn with<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields: Vec<(&str, &str)> = vec![("csrf_token", csrf)];
    for (name, value) in GOOD {
        let value = changes.iter().find(|(n, _)| *n == name).map_or(value, |(_, v)| *v);
        fields.push((name, value));
    }
    fields
}

#[tokio::test]
async fn only_the_departement_opens_the_desk_and_its_settings_are_bounded() {
    let app = internship_app().await;
    let agnes = app.login_as(base::AGNES, "agnes.vidal").await;

    let page = app.get("/departement/stages", Some(&agnes)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for expected in [
        "/departement/stages/organismes",
        "/departement/stages/partenaires",
        "/departement/stages/statistiques",
        "name=\"delai_reponse\"",
        "value=\"15\"",
    ] {
        assert!(page.body.contains(expected), "{expected}");
    }
    let csrf = hidden_token(&page.body);

    let saved = app.post("/departement/stages/reglages", Some(&agnes), &with(&csrf, &[])).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let settings = app.store.internship_settings().await.unwrap();
    assert_eq!((settings.application_days, settings.default_radius_km), (12, 40));

    let far = with(&csrf, &[("rayon", "500")]);
    let refused = app.post("/departement/stages/reglages", Some(&agnes), &far).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Le rayon de recherche par défaut doit être compris entre 1 et 200.")
    );
    assert!(refused.body.contains("value=\"500\""), "the typed value comes back");
    let words = with(&csrf, &[("avance", "une semaine")]);
    let refused = app.post("/departement/stages/reglages", Some(&agnes), &words).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Saisissez un nombre entier entre 0 et 30."));
    assert_eq!(app.store.internship_settings().await.unwrap().default_radius_km, 40);

    let forged = app.post("/departement/stages/reglages", Some(&agnes), &with("faux", &[])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    for (person, login) in [
        (base::HELENE, "helene.roux"),
        (base::SOPHIE, "sophie.lambert"),
        (ids::ZOE, ids::ZOE),
        (ids::HUGUES, ids::HUGUES),
    ] {
        let cookie = app.login_as(person, login).await;
        assert_eq!(
            app.get("/departement/stages", Some(&cookie)).await.status,
            StatusCode::NOT_FOUND
        );
        let csrf = app.csrf(&cookie).await;
        let tried = with(&csrf, &[("rayon", "3")]);
        let reply = app.post("/departement/stages/reglages", Some(&cookie), &tried).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{login}");
        let profile = [("csrf_token", csrf.as_str()), ("ecole", base::SCHOOL_1), ("rural", "oui")];
        let reply = app.post("/departement/stages/colleges", Some(&cookie), &profile).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{login}");
        let stats = app.get("/departement/stages/statistiques", Some(&cookie)).await;
        assert_eq!(stats.status, StatusCode::NOT_FOUND, "{login}");
    }
    assert_eq!(app.store.internship_settings().await.unwrap().default_radius_km, 40);
    assert_eq!(app.get("/departement/stages", None).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_departement_sets_a_colleges_profile_with_a_french_date() {
    let app = internship_app().await;
    let agnes = app.login_as(base::AGNES, "agnes.vidal").await;
    let csrf = hidden_token(&app.get("/departement/stages", Some(&agnes)).await.body);

    let fields = [
        ("csrf_token", csrf.as_str()),
        ("ecole", base::SCHOOL_1),
        ("rural", "oui"),
        ("prioritaire", "rep_plus"),
        ("deliberation", "03/10/2026"),
    ];
    let saved = app.post("/departement/stages/colleges", Some(&agnes), &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.get(saved.location(), Some(&agnes)).await;
    assert!(page.body.contains("Le profil du collège est enregistré."));
    assert!(page.body.contains("éducation prioritaire REP+"));
    assert!(page.body.contains("value=\"2026-10-03\""));

    let bad = [
        ("csrf_token", csrf.as_str()),
        ("ecole", base::SCHOOL_2),
        ("prioritaire", "rep"),
        ("deliberation", "31/02/2026"),
    ];
    let refused = app.post("/departement/stages/colleges", Some(&agnes), &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Date de délibération non comprise"));
    let unknown = [("csrf_token", csrf.as_str()), ("ecole", "school-x")];
    let reply = app.post("/departement/stages/colleges", Some(&agnes), &unknown).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// The fixture with a sector whose name a spreadsheet would run, an offer in it, and Zoé's
/// internship there confirmed.
async fn placed(app: &App) {
    app.store
        .fixture_execute(
            "UPDATE internship_sectors SET name = '=HYPERLINK(\"http://evil\";\"x\")' \
             WHERE id = $1",
            &[ids::SECTOR_FOOD],
        )
        .await
        .unwrap();
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();
    app.store
        .fixture_execute(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, created_at, updated_at) VALUES ('app-1', $1, $2, $3, $4, 'confirmed', 0, 0)",
            &[&offer, ids::ZOE, base::SCHOOL_1, &weeks()[0].to_string()],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn statistics_pages_and_their_csv_are_for_the_right_people_and_formula_safe() {
    let app = internship_app().await;
    placed(&app).await;
    let agnes = app.login_as(base::AGNES, "agnes.vidal").await;

    let page = app.get("/departement/stages/statistiques", Some(&agnes)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("1 élève(s) de 3e sur 4 ont un stage confirmé (25 %)."));
    assert!(!page.body.contains("Zoé"));
    for table in [
        "colleges",
        "semaines",
        "semaines-colleges",
        "secteurs",
        "communes",
        "distances",
        "groupes",
    ] {
        let csv =
            app.get(&format!("/departement/stages/statistiques/{table}.csv"), Some(&agnes)).await;
        assert_eq!(csv.status, StatusCode::OK, "{table}");
        assert!(csv.body.starts_with('\u{FEFF}'), "{table}");
        assert!(!csv.body.contains("Zoé") && !csv.body.contains("L'Hôte"), "{table}");
    }
    let sectors = app.get("/departement/stages/statistiques/secteurs.csv", Some(&agnes)).await;
    assert!(sectors.body.contains("\"'=HYPERLINK("), "{}", sectors.body);
    assert!(!sectors.body.contains(";=HYPERLINK") && !sectors.body.contains("\n=HYPERLINK"));
    let missing = app.get("/departement/stages/statistiques/eleves.csv", Some(&agnes)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let helene = app.login_as(base::HELENE, "helene.roux").await;
    let own = format!("/etablissement/{}/stages/statistiques", base::UAI_1);
    let page = app.get(&own, Some(&helene)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("1 élève(s) de 3e sur 2 ont un stage confirmé (50 %)."));
    let csv = app.get(&format!("{own}/semaines-colleges.csv"), Some(&helene)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("stages-0860001a-"));
    let other = format!("/etablissement/{}/stages/statistiques", base::UAI_2);
    assert_eq!(app.get(&other, Some(&helene)).await.status, StatusCode::NOT_FOUND);
    let other_csv = format!("{other}/secteurs.csv");
    assert_eq!(app.get(&other_csv, Some(&helene)).await.status, StatusCode::NOT_FOUND);
    let departement = app.get("/departement/stages/statistiques", Some(&helene)).await;
    assert_eq!(departement.status, StatusCode::NOT_FOUND);

    let sophie = app.login_as(base::SOPHIE, "sophie.lambert").await;
    assert_eq!(app.get(&own, Some(&sophie)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&other, Some(&agnes)).await.status, StatusCode::OK);
}
