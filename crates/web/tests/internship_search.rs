//! The offer search page `/stages` through the router: a 3e pupil finds offers near home as a
//! numbered list and an SVG map with the same numbers, keywords without accents, pages that
//! keep the criteria, bad input answered with French errors (never a 500), a guardian who
//! picks their child and only theirs (anyone else's child is a 404), and the explanation that
//! a 5e pupil, a parent of younger children, a teacher or a head read instead.

mod common;

use axum::http::StatusCode;
use common::{App, app, encode};
use store::fixtures::ids as base;
use store::fixtures::internship::{CHAUVIGNY, FixtureOffer, ids, weeks};

async fn internship_app() -> App {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    app.store.ensure_gazetteer().await.unwrap();
    app
}

#[tokio::test]
async fn a_pupil_finds_offers_near_home_as_a_list_and_a_map() {
    let app = internship_app().await;
    let bakery =
        app.store.fixture_offer(&FixtureOffer::bakery("Boulangerie du marché")).await.unwrap();
    let mut garage = FixtureOffer::bakery("Mécanicien automobile");
    garage.city = CHAUVIGNY.0.to_owned();
    garage.latitude = CHAUVIGNY.2;
    garage.longitude = CHAUVIGNY.3;
    let garage = app.store.fixture_offer(&garage).await.unwrap();
    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;

    let page = app.get("/stages", Some(&zoe)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for expected in [
        "Autour du domicile (Vouneuil-sous-Biard)",
        "2 offres à moins de 30 km du domicile",
        &format!("href=\"/stages/offres/{bakery}\""),
        &format!("href=\"/stages/offres/{garage}\""),
        "role=\"img\"",
        "<title id=\"carte-titre\">Carte des offres autour du domicile</title>",
        "<ol class=\"offres\" start=\"1\">",
        "href=\"/stages/candidatures\"",
        &weeks()[0].label_fr(),
        "Agroalimentaire",
    ] {
        assert!(page.body.contains(expected), "{expected}\n{}", page.body);
    }
    let near = page.body.find("Boulangerie du marché</a>").unwrap();
    let far = page.body.find("Mécanicien automobile</a>").unwrap();
    assert!(near < far, "nearest first");
    for number in [">1</text>", ">2</text>"] {
        assert!(page.body.contains(number), "the map numbers the points like the list");
    }

    let page = app.get(&format!("/stages?mots={}", encode("BOULANGÈRES")), Some(&zoe)).await;
    assert!(page.body.contains("1 offre à moins de 30 km"), "{}", page.body);
    assert!(page.body.contains("Boulangerie du marché") && !page.body.contains("Mécanicien auto"));
    let page = app.get("/stages?mots=plomberie", Some(&zoe)).await;
    assert!(page.body.contains("Aucune offre à moins de 30 km"));
    assert!(!page.body.contains("role=\"img\""), "no map without offers");
    let page = app.get("/stages?autour=college&rayon=5", Some(&zoe)).await;
    assert!(page.body.contains("1 offre à moins de 5 km du collège"), "{}", page.body);
    assert!(page.body.contains("value=\"college\" checked"));
}

#[tokio::test]
async fn pages_keep_the_criteria() {
    let app = internship_app().await;
    for i in 0..23 {
        app.store.fixture_offer(&FixtureOffer::bakery(&format!("Fournil {i:02}"))).await.unwrap();
    }
    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;

    let page = app.get("/stages?mots=fournil&rayon=40", Some(&zoe)).await;
    assert!(page.body.contains("23 offres") && page.body.contains("(page 1 sur 2)"));
    assert!(
        page.body.contains("href=\"/stages?rayon=40&#38;mots=fournil&#38;page=2\""),
        "{}",
        page.body
    );
    let second = app.get("/stages?rayon=40&mots=fournil&page=2", Some(&zoe)).await;
    assert!(second.body.contains("<ol class=\"offres\" start=\"21\">"));
    assert_eq!(second.body.matches("class=\"carte\"").count(), 3);
    assert!(second.body.contains(">21</text>"));
}

#[tokio::test]
async fn bad_input_gets_a_french_error_and_never_a_500() {
    let app = internship_app().await;
    app.store.fixture_offer(&FixtureOffer::bakery("Boulangerie")).await.unwrap();
    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;

    let long = "a".repeat(300);
    for (query, error) in [
        ("rayon=abc", "Le rayon est un nombre de kilomètres entre 5 et 100."),
        ("rayon=1000", "Le rayon est un nombre de kilomètres entre 5 et 100."),
        ("rayon=-3", "Le rayon est un nombre de kilomètres entre 5 et 100."),
        ("semaine=2099-W01", "Cette semaine n'est pas une semaine de stage de votre collège."),
        ("semaine=%3Cscript%3E", "Cette semaine n'est pas une semaine de stage de votre collège."),
        ("secteur=inconnu", "Ce secteur d'activité n'existe pas."),
        (&format!("mots={long}"), "Les mots-clés tiennent en 200 caractères."),
    ] {
        let page = app.get(&format!("/stages?{query}"), Some(&zoe)).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        let escaped = error.replace('\'', "&#39;");
        assert!(page.body.contains(&escaped), "{query}: {error}\n{}", page.body);
        assert!(page.body.contains("1 offre"), "{query}: the rest of the search still runs");
    }
    for query in ["page=-1", "page=99999999999999999999999", "autour=%00", "accessible=oui"] {
        let page = app.get(&format!("/stages?{query}"), Some(&zoe)).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
    }
    let page = app.get("/stages?mots=%3Cscript%3Ealert(1)%3C%2Fscript%3E", Some(&zoe)).await;
    assert!(!page.body.contains("<script>alert"), "escaped");
}

#[tokio::test]
async fn guardians_search_for_their_own_children_only() {
    let app = internship_app().await;
    app.store.fixture_offer(&FixtureOffer::bakery("Boulangerie")).await.unwrap();

    let yves = app.login_as(ids::YVES, ids::YVES).await;
    let page = app.get("/stages", Some(&yves)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Stages de 3e : Zoé"), "{}", page.body);
    assert!(page.body.contains("name=\"enfant\" value=\"p-zoe\""));
    assert!(page.body.contains("href=\"/stages/candidatures?enfant=p-zoe\""));
    assert!(page.body.contains("1 offre"));
    let page = app.get("/stages?enfant=p-zoe&mots=boulangerie", Some(&yves)).await;
    assert!(page.body.contains("1 offre"));
    for other in ["p-fatima", "p-minh", "p-alice", "nobody", "x%20y"] {
        let page = app.get(&format!("/stages?enfant={other}"), Some(&yves)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{other}");
    }
    let karim = app.login_as(ids::KARIM, ids::KARIM).await;
    let page = app.get("/stages?enfant=p-zoe", Some(&karim)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // A parent of a 6e and a 5e pupil, and the 5e pupil: an explanation, no form.
    let paul = app.login_as(base::PAUL, "paul.martin").await;
    let page = app.get("/stages?enfant=p-david", Some(&paul)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("n&#39;est pas en 3e cette année"), "{}", page.body);
    assert!(!page.body.contains("name=\"mots\""));
    let david = app.login_as(base::DAVID, "david.martin").await;
    let page = app.get("/stages", Some(&david)).await;
    assert!(page.body.contains("réservée aux élèves de 3e"));
    assert!(!page.body.contains("Boulangerie"));
}

#[tokio::test]
async fn other_profiles_read_what_the_platform_is_for_them() {
    let app = internship_app().await;
    let sophie = app.login_as(base::SOPHIE, "sophie.lambert").await;
    let page = app.get("/stages", Some(&sophie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("réservée aux élèves de 3e et à leurs parents"));
    assert!(page.body.contains("href=\"/conventions\""));
    assert!(!page.body.contains("name=\"mots\""));

    let helene = app.login_as(base::HELENE, "helene.roux").await;
    let page = app.get("/stages", Some(&helene)).await;
    assert!(page.body.contains("href=\"/etablissement/0860001A/stages\""), "{}", page.body);
    let agnes = app.login_as(base::AGNES, "agnes.vidal").await;
    let page = app.get("/stages", Some(&agnes)).await;
    assert!(page.body.contains("href=\"/departement/stages\""));
}

/// Runs a statement on the test's database, as another instance or a command would.
async fn exec(app: &App, sql: &'static str, params: &[&str]) {
    app.store.fixture_execute(sql, params).await.unwrap();
}

#[tokio::test]
async fn what_changes_shows_at_the_next_search() {
    let app = internship_app().await;
    let mut bakery = FixtureOffer::bakery("Boulangerie du marché");
    bakery.weeks.truncate(1);
    bakery.places_per_week = 1;
    bakery.places_total = 1;
    let bakery = app.store.fixture_offer(&bakery).await.unwrap();
    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;
    let minh = app.login_as(ids::MINH, ids::MINH).await;
    let one_offer = "1 offre à moins de 30 km";
    for pupil in [&zoe, &minh] {
        assert!(app.get("/stages", Some(pupil)).await.body.contains(one_offer));
    }

    // A new offer, published by another instance.
    let garage = app.store.fixture_offer(&FixtureOffer::bakery("Garage")).await.unwrap();
    let page = app.get("/stages", Some(&zoe)).await;
    assert!(page.body.contains("2 offres à moins de 30 km"), "{}", page.body);

    // Its host suspended: gone at once.
    exec(&app, "UPDATE hosts SET status = 'suspended' WHERE id = $1", &[ids::HOST_BAKERY]).await;
    let page = app.get("/stages", Some(&zoe)).await;
    assert!(page.body.contains("Aucune offre"), "{}", page.body);
    exec(&app, "UPDATE hosts SET status = 'verified' WHERE id = $1", &[ids::HOST_BAKERY]).await;
    exec(&app, "UPDATE internship_offers SET state = 'archived' WHERE id = $1", &[&garage]).await;
    assert!(app.get("/stages", Some(&zoe)).await.body.contains(one_offer));

    // Minh takes the only place: Zoé no longer sees the offer, whose place is gone.
    let week = weeks()[0].to_string();
    exec(
        &app,
        "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
         state, created_at, updated_at) VALUES ('a-minh', $1, $2, $3, $4, 'confirmed', 0, 0)",
        &[&bakery, ids::MINH, base::SCHOOL_1, &week],
    )
    .await;
    let page = app.get("/stages", Some(&zoe)).await;
    assert!(page.body.contains("Aucune offre"), "{}", page.body);

    // Minh's own application hides it from him too, and giving the place back shows it to
    // Zoé again, but not to Minh, who applied.
    exec(&app, "UPDATE internship_applications SET state = 'cancelled' WHERE id = 'a-minh'", &[])
        .await;
    assert!(app.get("/stages", Some(&zoe)).await.body.contains(one_offer));
    assert!(app.get("/stages", Some(&minh)).await.body.contains("Aucune offre"));
}
