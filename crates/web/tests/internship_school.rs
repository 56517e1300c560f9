//! A collège's internship page `/etablissement/{uai}/stages` through the router: its head and
//! the département open it (another collège's head, a teacher, a pupil or a parent get the
//! ordinary 404), the weeks are declared with a form token and within limits (French errors,
//! nothing changed), the status table counts and filters the 3e pupils, and the CSV export
//! neutralises a pupil named like a spreadsheet formula.

mod common;

use axum::http::StatusCode;
use common::{App, app, hidden_token};
use store::fixtures::ids as base;
use store::fixtures::internship::{FixtureOffer, POITIERS, ids, weeks};

async fn internship_app() -> App {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    app
}

const PAGE: &str = "/etablissement/0860001A/stages";

/// An application written straight into the database (texts only).
async fn application(app: &App, offer: &str, pupil: &str, week: &str, state: &str) {
    let id = store::new_id();
    app.store
        .fixture_execute(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, created_at, updated_at) VALUES ($1, $2, $3, 'school-1', $4, $5, 0, 0)",
            &[&id, offer, pupil, week, state],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn only_the_collèges_head_and_the_département_open_it() {
    let app = internship_app().await;
    let helene = app.login_as(base::HELENE, "helene.roux").await;
    let page = app.get(PAGE, Some(&helene)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let [first, second] = weeks();
    for expected in [
        "Stages de 3e : ",
        &format!("name=\"semaine\" value=\"{first}\" checked"),
        &format!("name=\"semaine\" value=\"{second}\" checked"),
        "name=\"niveau\" value=\"4e\"",
        "<bdi>L&#39;Hôte-Éluard Zoé</bdi>",
        "Sans candidature en cours : 2",
        "/etablissement/0860001A/stages/eleves.csv",
        "éducation prioritaire",
    ] {
        assert!(page.body.contains(expected), "{expected}\n{}", page.body);
    }
    assert!(!page.body.contains("Benali"), "collège 2's pupils are not listed");

    let agnes = app.login_as(base::AGNES, "agnes.vidal").await;
    assert_eq!(app.get(PAGE, Some(&agnes)).await.status, StatusCode::OK);
    for (person, login) in [
        (base::MARC, "marc.blanc"),
        (base::SOPHIE, "sophie.lambert"),
        (ids::ZOE, ids::ZOE),
        (ids::YVES, ids::YVES),
        (ids::HUGUES, ids::HUGUES),
    ] {
        let cookie = app.login_as(person, login).await;
        for path in [PAGE.to_owned(), format!("{PAGE}/eleves.csv")] {
            let reply = app.get(&path, Some(&cookie)).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{person} {path}");
        }
    }
    let marc = app.login_as(base::MARC, "marc.blanc").await;
    let csrf = app.csrf(&marc).await;
    let fields = [("csrf_token", csrf.as_str()), ("niveau", "3e")];
    let refused = app.post(&format!("{PAGE}/semaines"), Some(&marc), &fields).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap().weeks.len(), 2);
}

#[tokio::test]
async fn weeks_are_declared_with_a_token_and_within_limits() {
    let app = internship_app().await;
    let helene = app.login_as(base::HELENE, "helene.roux").await;
    let page = app.get(PAGE, Some(&helene)).await;
    let csrf = hidden_token(&page.body);
    let [first, second] = weeks();
    let (first, second) = (first.to_string(), second.to_string());
    let path = format!("{PAGE}/semaines");

    let forged = [("csrf_token", "faux"), ("niveau", "3e"), ("semaine", first.as_str())];
    assert_eq!(app.post(&path, Some(&helene), &forged).await.status, StatusCode::FORBIDDEN);

    let fields = [("csrf_token", csrf.as_str()), ("niveau", "3e"), ("semaine", first.as_str())];
    let saved = app.post(&path, Some(&helene), &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), format!("{PAGE}?enregistre=1"));
    let zoe = app.store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert_eq!(zoe.weeks, vec![weeks()[0]]);
    let page = app.get(&format!("{PAGE}?enregistre=1"), Some(&helene)).await;
    assert!(page.body.contains("Les semaines de stage sont enregistrées."));

    let fields = [("csrf_token", csrf.as_str()), ("niveau", "4e"), ("semaine", second.as_str())];
    assert_eq!(app.post(&path, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let school = app.store.school_internship(base::HELENE, "0860001A").await.unwrap();
    assert_eq!(school.weeks_4e, vec![weeks()[1]]);

    let mut many: Vec<String> = Vec::new();
    let mut week = weeks()[0];
    for _ in 0..7 {
        many.push(week.to_string());
        week = week.next();
    }
    let mut fields = vec![("csrf_token", csrf.as_str()), ("niveau", "3e")];
    fields.extend(many.iter().map(|w| ("semaine", w.as_str())));
    let refused = app.post(&path, Some(&helene), &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Cochez au plus 6 semaines (7 cochées)."), "{}", refused.body);
    for bad in ["2027-W99", "semaine", "<b>"] {
        let fields = [("csrf_token", csrf.as_str()), ("niveau", "3e"), ("semaine", bad)];
        let refused = app.post(&path, Some(&helene), &fields).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(refused.body.contains("Une des semaines cochées n&#39;existe pas."));
    }
    let fields = [("csrf_token", csrf.as_str()), ("niveau", "5e")];
    assert_eq!(app.post(&path, Some(&helene), &fields).await.status, StatusCode::BAD_REQUEST);
    let zoe = app.store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert_eq!(zoe.weeks, vec![weeks()[0]], "nothing changed");

    // A week with a confirmed internship stays declared.
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Boulangerie")).await.unwrap();
    application(&app, &offer, ids::ZOE, &first, "confirmed").await;
    let fields = [("csrf_token", csrf.as_str()), ("niveau", "3e"), ("semaine", second.as_str())];
    let refused = app.post(&path, Some(&helene), &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Des stages sont déjà confirmés"), "{}", refused.body);
}

#[tokio::test]
async fn the_status_table_filters_and_exports_safely() {
    let app = internship_app().await;
    app.store
        .fixture_third_year_pupil(
            "p-formula",
            "=HYPERLINK(\"http://example.org\";\"clic\")",
            "+Nadia",
            "2012-02-02",
            ids::CLASS_3A,
            base::SCHOOL_1,
            POITIERS,
        )
        .await
        .unwrap();
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Boulangerie")).await.unwrap();
    let [first, _] = weeks();
    application(&app, &offer, ids::ZOE, &first.to_string(), "confirmed").await;
    application(&app, &offer, "p-formula", &first.to_string(), "submitted").await;
    let helene = app.login_as(base::HELENE, "helene.roux").await;

    let page = app.get(&format!("{PAGE}?statut=confirmee"), Some(&helene)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("L&#39;Hôte-Éluard Zoé"));
    assert!(!page.body.contains("Nguyễn"), "Minh has no confirmed internship");
    assert!(page.body.contains("Boulangerie Éluard &#38; Fils"), "{}", page.body);
    assert!(
        page.body.contains("Stage confirmé : 1") && page.body.contains("Candidature envoyée : 1")
    );
    let page = app.get(&format!("{PAGE}?classe=class-3b"), Some(&helene)).await;
    assert!(page.body.contains("Aucun élève de 3e pour ces critères."));

    let csv = app.get(&format!("{PAGE}/eleves.csv"), Some(&helene)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.headers["content-disposition"].to_str().unwrap().contains("stages-eleves-0860001a.csv")
    );
    assert!(csv.body.starts_with("\u{FEFF}Nom;Prénom;Classe;Statut;"));
    assert!(csv.body.contains("\"'=HYPERLINK(\"\"http://example.org\"\";\"\"clic\"\")\";'+Nadia;3A;Candidature envoyée;;;1"), "{}", csv.body);
    assert!(csv.body.contains(&format!(
        "L'Hôte-Éluard;Zoé;3A;Stage confirmé;{first};Boulangerie Éluard & Fils;0"
    )));
    for line in csv.body.lines().skip(1) {
        assert!(!line.starts_with('=') && !line.contains(";=") && !line.contains(";+"), "{line}");
    }
    let filtered = app.get(&format!("{PAGE}/eleves.csv?statut=confirmee"), Some(&helene)).await;
    assert_eq!(filtered.body.lines().count(), 2, "{}", filtered.body);
}
