//! The offer search with real coordinates: the towns of `shared/data/geo/towns-around-vienne.csv`
//! (read in place) as host and home places, the radius and its edges, the fallback on the
//! school when the home cannot be placed, every offer that must never be shown (not
//! published, of a host not verified, reserved for other collèges, outside the pupil's weeks,
//! full that week or in total, already applied to), the head start, keywords without accents
//! and with French stemming, sectors, accessibility, pages, and who may search for whom.
//! `offer_open_to_pupil`, which the applications call, is checked on the same cases.

use domain::internship::IsoWeek;
use domain::internship::geo::{Point, distance_km};
use sqlx::AssertSqlSafe;
use store::fixtures::ids as base;
use store::fixtures::internship::{
    FixtureOffer, MONTMORILLON, POITIERS, VOUNEUIL_SOUS_BIARD, ids, weeks,
};
use store::internship::search::{Around, SearchQuery, SearchResults, offer_open_to_pupil};
use store::{StoreError, now_unix};

/// One town of the GeoNames list: name, latitude, longitude.
struct Town {
    id: String,
    name: String,
    population: i64,
    point: Point,
}

/// The towns around the Vienne, read in place.
fn towns() -> Vec<Town> {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/towns-around-vienne.csv");
    let text = std::fs::read_to_string(path).expect("the towns of the shared data");
    let mut towns = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 6 || !fields[0].bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let point = Point::new(fields[4].parse().unwrap(), fields[5].parse().unwrap()).unwrap();
        towns.push(Town {
            id: fields[0].to_owned(),
            name: fields[1].trim_matches('"').to_owned(),
            population: fields[3].parse().unwrap_or(0),
            point,
        });
    }
    assert!(towns.len() > 100, "{} towns", towns.len());
    towns
}

/// The fixtures, with the towns as the gazetteer of communes.
async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    for town in towns() {
        sqlx::query(
            "INSERT INTO communes (id, name, folded_name, population, latitude, longitude) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&town.id)
        .bind(&town.name)
        .bind(store::internship::reference::commune_key(&town.name))
        .bind(town.population)
        .bind(town.point.latitude)
        .bind(town.point.longitude)
        .execute(store.import_test_pool())
        .await
        .unwrap();
    }
    store
}

/// The fixture with Zoé's and Minh's collège out of priority education: they then have no
/// head start (Fatima's and Léo's rural collège keeps one).
async fn fixture_without_priority_education() -> store::testing::TestStore {
    let store = fixture().await;
    exec(
        &store,
        "UPDATE school_internship_profiles SET priority_education = NULL WHERE school_id = $1",
        &[base::SCHOOL_1],
    )
    .await;
    store
}

/// Runs one statement binding texts.
async fn exec(store: &store::Store, sql: &str, params: &[&str]) {
    let mut query = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for param in params {
        query = query.bind(param.to_string());
    }
    query.execute(store.import_test_pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// An offer of the bakery at `point`.
fn offer_at(title: &str, city: &str, point: Point) -> FixtureOffer {
    let mut offer = FixtureOffer::bakery(title);
    offer.city = city.to_owned();
    offer.latitude = point.latitude;
    offer.longitude = point.longitude;
    offer
}

/// A point `km` kilometres due north of `from`.
fn north_of(from: Point, km: f64) -> Point {
    Point::new(from.latitude + (km / 6_371.0).to_degrees(), from.longitude).unwrap()
}

/// An application written straight into the database.
async fn application(store: &store::Store, offer: &str, pupil: &str, week: IsoWeek, state: &str) {
    let school =
        if [ids::FATIMA, ids::LEO].contains(&pupil) { base::SCHOOL_2 } else { base::SCHOOL_1 };
    sqlx::query(
        "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, state, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, 0)",
    )
    .bind(store::new_id())
    .bind(offer)
    .bind(pupil)
    .bind(school)
    .bind(week.to_string())
    .bind(state)
    .execute(store.import_test_pool())
    .await
    .unwrap();
}

fn query() -> SearchQuery {
    SearchQuery { page: 1, ..SearchQuery::default() }
}

async fn search(store: &store::Store, pupil: &str, query: &SearchQuery) -> SearchResults {
    store.search_offers(pupil, pupil, query).await.unwrap_or_else(|e| panic!("{pupil}: {e:?}"))
}

/// Every title found, all pages read.
async fn titles(store: &store::Store, pupil: &str, query: &SearchQuery) -> Vec<String> {
    let mut query = query.clone();
    let mut found = Vec::new();
    query.page = 1;
    loop {
        let results = search(store, pupil, &query).await;
        found.extend(results.offers.iter().map(|hit| hit.title.clone()));
        if results.page >= results.pages {
            assert_eq!(found.len(), results.total);
            return found;
        }
        query.page += 1;
    }
}

async fn open(store: &store::Store, pupil: &str, offer: &str, week: IsoWeek, now: i64) -> bool {
    let mut conn = store.import_test_pool().acquire().await.unwrap();
    offer_open_to_pupil(&mut conn, pupil, offer, &week.to_string(), now).await.unwrap()
}

#[tokio::test]
async fn the_pupil_context_places_the_home_with_the_gazetteer() {
    let store = fixture().await;

    let zoe = store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert_eq!(zoe.school_id, base::SCHOOL_1);
    assert_eq!(zoe.class, "3A");
    assert_eq!(zoe.weeks, weeks().to_vec());
    assert!(zoe.priority && !zoe.rural && zoe.has_head_start());
    assert_eq!(zoe.home_commune.as_deref(), Some(VOUNEUIL_SOUS_BIARD.0));
    assert_eq!(zoe.home, Point::new(VOUNEUIL_SOUS_BIARD.2, VOUNEUIL_SOUS_BIARD.3));
    assert_eq!(zoe.school_point, Point::new(POITIERS.2, POITIERS.3));
    assert_eq!(zoe.default_radius_km, 30);

    let fatima = store.pupil_internship_context(ids::FATIMA).await.unwrap().unwrap();
    assert!(fatima.rural && !fatima.priority);
    assert_eq!(fatima.school_point, Point::new(MONTMORILLON.2, MONTMORILLON.3));

    // An AAF spelling of the town (capitals, spaces, « Cedex »), then no town at all: the
    // legal guardian's address is read.
    exec(&store, "UPDATE people SET city = 'VOUNEUIL SOUS BIARD CEDEX' WHERE id = $1", &[ids::ZOE])
        .await;
    let zoe = store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert_eq!(zoe.home_commune.as_deref(), Some(VOUNEUIL_SOUS_BIARD.0));
    exec(
        &store,
        "UPDATE people SET city = 'ST GEORGES LES BAILLARGEAUX CEDEX 2' WHERE id = $1",
        &[ids::ZOE],
    )
    .await;
    let zoe = store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert_eq!(zoe.home_commune.as_deref(), Some("Saint-Georges-lès-Baillargeaux"));
    exec(&store, "UPDATE people SET city = NULL WHERE id = $1", &[ids::ZOE]).await;
    exec(&store, "UPDATE people SET city = 'Chauvigny' WHERE id = $1", &[ids::YVES]).await;
    let zoe = store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert_eq!(zoe.home_commune.as_deref(), Some("Chauvigny"));

    assert!(store.pupil_internship_context(base::DAVID).await.unwrap().is_none(), "5e");
    assert!(store.pupil_internship_context(base::PAUL).await.unwrap().is_none(), "a parent");
}

#[tokio::test]
async fn a_search_around_home_finds_exactly_the_towns_within_the_radius_nearest_first() {
    let store = fixture().await;
    let home = Point::new(VOUNEUIL_SOUS_BIARD.2, VOUNEUIL_SOUS_BIARD.3).unwrap();
    let school = Point::new(POITIERS.2, POITIERS.3).unwrap();
    let towns = towns();
    for town in &towns {
        store.fixture_offer(&offer_at(&town.id, &town.name, town.point)).await.unwrap();
    }

    for (around, centre, radius) in [
        (Around::Home, home, 30),
        (Around::Home, home, 5),
        (Around::School, school, 30),
        (Around::School, school, 60),
    ] {
        let asked = SearchQuery { around, radius_km: Some(radius), ..query() };
        let found = titles(&store, ids::ZOE, &asked).await;
        let mut expected: Vec<(f64, &str)> = towns
            .iter()
            .map(|town| (distance_km(centre, town.point), town.id.as_str()))
            .filter(|(distance, _)| *distance <= radius as f64)
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        let expected: Vec<String> = expected.iter().map(|(_, id)| id.to_string()).collect();
        assert!(!expected.is_empty() && expected.len() < towns.len(), "{radius} km");
        assert_eq!(found, expected, "{around:?} {radius} km");
    }

    let results = search(&store, ids::ZOE, &query()).await;
    assert_eq!(results.around, Around::Home);
    assert_eq!(results.radius_km, 30, "the département's default");
    assert_eq!(results.centre, Some(home));
    assert_eq!(results.offers.len(), 20, "a page");
    let first = &results.offers[0];
    assert_eq!(first.city, VOUNEUIL_SOUS_BIARD.0);
    assert_eq!(first.distance_km, 0.0);
    assert_eq!(first.host_name, "Boulangerie Éluard & Fils");
    assert_eq!(first.weeks, vec![(weeks()[0], 2), (weeks()[1], 2)]);
    assert!(results.offers.windows(2).all(|w| w[0].distance_km <= w[1].distance_km));
    let last_page = SearchQuery { page: 99, ..query() };
    let results = search(&store, ids::ZOE, &last_page).await;
    assert_eq!(results.page, results.pages, "a page past the end is the last one");
}

#[tokio::test]
async fn the_radius_edges_are_exact() {
    let store = fixture().await;
    let home = Point::new(VOUNEUIL_SOUS_BIARD.2, VOUNEUIL_SOUS_BIARD.3).unwrap();
    for km in [29.9, 30.1, 4.9, 5.1, 99.9, 100.1] {
        let point = north_of(home, km);
        assert!((distance_km(home, point) - km).abs() < 0.01);
        store.fixture_offer(&offer_at(&format!("{km}"), "Ailleurs", point)).await.unwrap();
    }

    for (radius, expected) in [
        (None, vec!["4.9", "5.1", "29.9"]),
        (Some(5), vec!["4.9"]),
        (Some(1), vec!["4.9"]),
        (Some(100), vec!["4.9", "5.1", "29.9", "30.1", "99.9"]),
        (Some(500), vec!["4.9", "5.1", "29.9", "30.1", "99.9"]),
    ] {
        let found = titles(&store, ids::ZOE, &SearchQuery { radius_km: radius, ..query() }).await;
        assert_eq!(found, expected, "{radius:?}");
    }
    let results = search(&store, ids::ZOE, &query()).await;
    assert_eq!(results.offers[2].distance_km, 29.9);
}

#[tokio::test]
async fn a_home_that_cannot_be_placed_falls_back_on_the_school() {
    let store = fixture().await;
    let school = Point::new(POITIERS.2, POITIERS.3).unwrap();
    store.fixture_offer(&offer_at("Au collège", POITIERS.0, school)).await.unwrap();
    exec(
        &store,
        "UPDATE people SET city = 'Atlantide', postal_code = '99999' WHERE id = $1",
        &[ids::ZOE],
    )
    .await;

    let results = search(&store, ids::ZOE, &query()).await;
    assert!(results.home_unplaced);
    assert_eq!(results.around, Around::School);
    assert_eq!(results.centre, Some(school));
    assert_eq!(results.offers.len(), 1);
    assert_eq!(results.offers[0].distance_km, 0.0);
}

#[tokio::test]
async fn offers_that_must_not_be_shown_are_not() {
    let store = fixture().await;
    let [first, second] = weeks();
    let extra = store.fixture_more_third_year_pupils(3).await.unwrap();
    let shown = store.fixture_offer(&FixtureOffer::bakery("Visible")).await.unwrap();

    let mut hidden = Vec::new();
    for state in ["draft", "unpublished", "archived"] {
        let offer = FixtureOffer { state: state.to_owned(), ..FixtureOffer::bakery(state) };
        hidden.push(store.fixture_offer(&offer).await.unwrap());
    }
    let garage = FixtureOffer {
        host_id: ids::HOST_GARAGE.to_owned(),
        ..FixtureOffer::bakery("Hôte non vérifié")
    };
    hidden.push(store.fixture_offer(&garage).await.unwrap());
    let elsewhere = FixtureOffer {
        weeks: vec![second.next().next()],
        ..FixtureOffer::bakery("Hors des semaines")
    };
    hidden.push(store.fixture_offer(&elsewhere).await.unwrap());

    let full_total = FixtureOffer { places_total: 1, ..FixtureOffer::bakery("Complète") };
    let full_total = store.fixture_offer(&full_total).await.unwrap();
    application(&store, &full_total, &extra[0], first, "confirmed").await;
    hidden.push(full_total);

    let both_weeks_full =
        FixtureOffer { places_per_week: 1, ..FixtureOffer::bakery("Deux semaines pleines") };
    let both_weeks_full = store.fixture_offer(&both_weeks_full).await.unwrap();
    application(&store, &both_weeks_full, &extra[0], second, "confirmed").await;
    application(&store, &both_weeks_full, &extra[1], first, "confirmed").await;
    hidden.push(both_weeks_full);

    let one_week_full =
        FixtureOffer { places_per_week: 1, ..FixtureOffer::bakery("Une semaine pleine") };
    let one_week_full = store.fixture_offer(&one_week_full).await.unwrap();
    application(&store, &one_week_full, &extra[2], first, "confirmed").await;
    // Applications not confirmed take no place.
    application(&store, &one_week_full, &extra[1], second, "accepted").await;
    application(&store, &one_week_full, ids::MINH, second, "submitted").await;

    let applied = store.fixture_offer(&FixtureOffer::bakery("Déjà demandée")).await.unwrap();
    application(&store, &applied, ids::ZOE, first, "rejected").await;
    hidden.push(applied.clone());

    let results = search(&store, ids::ZOE, &query()).await;
    let found: Vec<&str> = results.offers.iter().map(|hit| hit.title.as_str()).collect();
    assert_eq!(found, vec!["Une semaine pleine", "Visible"]);
    let partly = results.offers.iter().find(|hit| hit.id == one_week_full).unwrap();
    assert_eq!(partly.weeks, vec![(second, 1)], "only the week with a place left");

    let week_one = SearchQuery { week: Some(first), ..query() };
    assert_eq!(titles(&store, ids::ZOE, &week_one).await, vec!["Visible"]);
    let not_theirs = SearchQuery { week: Some(second.next().next()), ..query() };
    let results = search(&store, ids::ZOE, &not_theirs).await;
    assert!(results.offers.is_empty() && results.week.is_none());

    let now = now_unix();
    assert!(open(&store, ids::ZOE, &shown, first, now).await);
    assert!(open(&store, ids::ZOE, &one_week_full, second, now).await);
    assert!(!open(&store, ids::ZOE, &one_week_full, first, now).await, "week full");
    assert!(!open(&store, ids::ZOE, &shown, second.next().next(), now).await, "not their week");
    let mut conn = store.import_test_pool().acquire().await.unwrap();
    for week in ["2027-W99", "", "semaine 5"] {
        assert!(!offer_open_to_pupil(&mut conn, ids::ZOE, &shown, week, now).await.unwrap());
    }
    drop(conn);
    assert!(!open(&store, ids::ZOE, "no-such-offer", first, now).await);
    assert!(!open(&store, base::DAVID, &shown, first, now).await, "a 5e pupil");
    for offer in &hidden[..hidden.len() - 1] {
        assert!(!open(&store, ids::ZOE, offer, first, now).await);
        assert!(!open(&store, ids::ZOE, offer, second, now).await);
    }
    // Being already applied to hides an offer from the search, not from the confirmation.
    assert!(open(&store, ids::ZOE, &applied, second, now).await);
}

#[tokio::test]
async fn reserved_offers_are_shown_to_their_pupils_only() {
    let store = fixture().await;
    let mut rural = FixtureOffer::bakery("Réservée rural");
    rural.reservation = "rural".to_owned();
    let mut priority = FixtureOffer::bakery("Réservée REP");
    priority.reservation = "priority_education".to_owned();
    let mut school_2 = FixtureOffer::bakery("Réservée collège 2");
    school_2.reservation = "schools".to_owned();
    school_2.reserved_schools = vec![base::SCHOOL_2.to_owned()];
    let mut nobody = FixtureOffer::bakery("Réservée sans collège");
    nobody.reservation = "schools".to_owned();
    for offer in [&rural, &priority, &school_2, &nobody] {
        let mut offer = offer.clone();
        offer.latitude = MONTMORILLON.2;
        offer.longitude = MONTMORILLON.3;
        store.fixture_offer(&offer).await.unwrap();
    }

    let far = SearchQuery { radius_km: Some(100), ..query() };
    let mut zoe = titles(&store, ids::ZOE, &far).await;
    zoe.sort();
    assert_eq!(zoe, vec!["Réservée REP"]);
    let mut fatima = titles(&store, ids::FATIMA, &far).await;
    fatima.sort();
    assert_eq!(fatima, vec!["Réservée collège 2", "Réservée rural"]);
}

#[tokio::test]
async fn the_head_start_hides_new_offers_from_other_pupils_for_its_days() {
    let store = fixture_without_priority_education().await;
    let offer = store.fixture_offer(&FixtureOffer::bakery("Nouvelle")).await.unwrap();
    let now = now_unix();
    let first = weeks()[0];
    let far = SearchQuery { radius_km: Some(100), ..query() };

    let zoe = store.pupil_internship_context(ids::ZOE).await.unwrap().unwrap();
    assert!(!zoe.has_head_start());
    assert_eq!(zoe.head_start_days, 7);
    let early = store.search_offers_at(ids::ZOE, ids::ZOE, &far, now + 6 * 86_400).await.unwrap();
    assert!(early.offers.is_empty());
    assert!(!open(&store, ids::ZOE, &offer, first, now).await);
    let later = store.search_offers_at(ids::ZOE, ids::ZOE, &far, now + 7 * 86_400).await.unwrap();
    assert_eq!(later.offers.len(), 1);
    assert!(open(&store, ids::ZOE, &offer, first, now + 7 * 86_400).await);

    let fatima = store.search_offers_at(ids::FATIMA, ids::FATIMA, &far, now).await.unwrap();
    assert_eq!(fatima.offers.len(), 1, "a rural pupil sees it at once");
    assert!(open(&store, ids::FATIMA, &offer, first, now).await);

    exec(&store, "UPDATE internship_settings SET head_start_days = 0 WHERE id = 1", &[]).await;
    assert_eq!(search(&store, ids::ZOE, &far).await.offers.len(), 1, "no head start");
}

#[tokio::test]
async fn keywords_ignore_accents_and_inflections_and_filters_combine() {
    let store = fixture().await;
    let mut bakery = FixtureOffer::bakery("Boulangerie du marché");
    bakery.description = "Pétrir, façonner, cuire.".to_owned();
    let bakery = store.fixture_offer(&bakery).await.unwrap();
    let mut garage = FixtureOffer::bakery("Mécanicien automobile");
    garage.description = "Entretien des véhicules à l'atelier.".to_owned();
    garage.sector_id = Some(ids::SECTOR_ARCHITECTURE.to_owned());
    let garage = store.fixture_offer(&garage).await.unwrap();
    exec(&store, "UPDATE internship_offers SET accessible = 1 WHERE id = $1", &[&garage]).await;

    let keyword = |text: &str| SearchQuery { keyword: text.to_owned(), ..query() };
    for (text, expected) in [
        ("boulangère", vec!["Boulangerie du marché"]),
        ("BOULANGERIES", vec!["Boulangerie du marché"]),
        ("boulanger petrir", vec!["Boulangerie du marché"]),
        ("boulanger atelier", vec![]),
        ("mecaniciens", vec!["Mécanicien automobile"]),
        ("véhicule", vec!["Mécanicien automobile"]),
        ("de la", vec!["Boulangerie du marché", "Mécanicien automobile"]),
        ("plomberie", vec![]),
        ("%", vec!["Boulangerie du marché", "Mécanicien automobile"]),
        ("' OR 1=1 --", vec![]),
    ] {
        let mut found = titles(&store, ids::ZOE, &keyword(text)).await;
        found.sort();
        assert_eq!(found, expected, "« {text} »");
    }

    let sector = SearchQuery { sector_id: Some(ids::SECTOR_FOOD.to_owned()), ..query() };
    assert_eq!(titles(&store, ids::ZOE, &sector).await, vec!["Boulangerie du marché"]);
    let accessible = SearchQuery { accessible_only: true, ..query() };
    let results = search(&store, ids::ZOE, &accessible).await;
    assert_eq!(results.offers.len(), 1);
    assert_eq!(results.offers[0].id, garage);
    assert!(results.offers[0].accessible);
    assert_eq!(results.offers[0].sector.as_deref(), Some("Architecture"));
    let none = SearchQuery {
        sector_id: Some(ids::SECTOR_FOOD.to_owned()),
        keyword: "mécanique".to_owned(),
        ..query()
    };
    assert!(search(&store, ids::ZOE, &none).await.offers.is_empty());
    assert_ne!(bakery, garage);
}

#[tokio::test]
async fn partner_offers_are_shown_with_their_link_and_taken_on_the_partner_site() {
    let store = fixture().await;
    exec(
        &store,
        "INSERT INTO internship_partners (id, name, token_hash, active, created_at) \
         VALUES ('partner-1', 'Plateforme amie', 'hash', 1, 0)",
        &[],
    )
    .await;
    let offer = store.fixture_offer(&FixtureOffer::bakery("Chez un partenaire")).await.unwrap();
    exec(
        &store,
        "UPDATE internship_offers SET host_id = NULL, partner_id = 'partner-1', remote_id = 'r1', \
         employer_name = 'Menuiserie Dubois', permalink = 'https://example.org/offres/r1' \
         WHERE id = $1",
        &[&offer],
    )
    .await;

    let results = search(&store, ids::ZOE, &query()).await;
    assert_eq!(results.offers.len(), 1);
    assert_eq!(results.offers[0].host_name, "Menuiserie Dubois");
    assert_eq!(results.offers[0].permalink.as_deref(), Some("https://example.org/offres/r1"));
    assert!(!open(&store, ids::ZOE, &offer, weeks()[0], now_unix()).await);

    exec(&store, "UPDATE internship_partners SET active = 0", &[]).await;
    assert!(search(&store, ids::ZOE, &query()).await.offers.is_empty(), "partner off");
}

#[tokio::test]
async fn only_the_pupil_and_their_legal_guardians_may_search() {
    let store = fixture().await;
    store.fixture_offer(&FixtureOffer::bakery("Visible")).await.unwrap();

    for guardian in [ids::YVES, ids::INES] {
        let results = store.search_offers(guardian, ids::ZOE, &query()).await.unwrap();
        assert_eq!(results.offers.len(), 1, "{guardian}");
    }
    for stranger in [ids::KARIM, ids::MINH, base::HELENE, base::SOPHIE, ids::HUGUES, "nobody"] {
        let refused = store.search_offers(stranger, ids::ZOE, &query()).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{stranger}: {refused:?}");
        let refused = store.pupil_internship_context_for(stranger, ids::ZOE).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{stranger}");
    }
    assert!(matches!(
        store.search_offers(ids::YVES, ids::YVES, &query()).await,
        Err(StoreError::NotFound)
    ));

    // A 5e pupil, and their parent: nothing to search, and no error.
    for viewer in [base::DAVID, base::PAUL] {
        let results = store.search_offers(viewer, base::DAVID, &query()).await.unwrap();
        assert!(results.context.is_none() && results.offers.is_empty(), "{viewer}");
        assert!(store.pupil_internship_context_for(viewer, base::DAVID).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_week_with_a_confirmed_internship_is_offered_nothing_more() {
    let store = fixture().await;
    let [first, second] = weeks();
    let mut both = FixtureOffer::bakery("Deux semaines");
    both.weeks = vec![first, second];
    let both = store.fixture_offer(&both).await.unwrap();
    let mut only_first = FixtureOffer::bakery("Première semaine");
    only_first.weeks = vec![first];
    let only_first = store.fixture_offer(&only_first).await.unwrap();
    let taken = store.fixture_offer(&FixtureOffer::bakery("Déjà pris")).await.unwrap();
    store
        .fixture_execute(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, created_at, updated_at) VALUES ('a-zoe', $1, $2, $3, $4, 'confirmed', 0, 0)",
            &[&taken, ids::ZOE, base::SCHOOL_1, &first.to_string()],
        )
        .await
        .unwrap();

    let results = search(&store, ids::ZOE, &SearchQuery::default()).await;
    let found: Vec<(&str, Vec<IsoWeek>)> = results
        .offers
        .iter()
        .map(|hit| (hit.id.as_str(), hit.weeks.iter().map(|(week, _)| *week).collect()))
        .collect();
    assert_eq!(found, vec![(both.as_str(), vec![second])]);

    let refused = store
        .submit_application(ids::ZOE, ids::ZOE, &only_first, &first.to_string(), "Oui.", now_unix())
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(message)) if message.contains("déjà un stage confirmé")),
        "{refused:?}"
    );
    store
        .submit_application(ids::ZOE, ids::ZOE, &both, &second.to_string(), "Oui.", now_unix())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_search_and_the_applications_rule_agree_on_every_offer_pupil_week_and_instant() {
    let store = fixture_without_priority_education().await;
    let [first, second] = weeks();
    let now = now_unix();
    let mut offers = Vec::new();
    for (i, (reservation, schools)) in [
        ("none", vec![]),
        ("rural", vec![]),
        ("priority_education", vec![]),
        ("schools", vec![base::SCHOOL_1.to_owned()]),
        ("schools", vec![base::SCHOOL_2.to_owned()]),
        ("schools", vec![base::SCHOOL_1.to_owned(), base::SCHOOL_2.to_owned()]),
    ]
    .into_iter()
    .enumerate()
    {
        for (j, offer_weeks) in
            [vec![first], vec![second], vec![first, second]].into_iter().enumerate()
        {
            let mut offer = FixtureOffer::bakery(&format!("Offre {i}-{j}"));
            offer.latitude = MONTMORILLON.2;
            offer.longitude = MONTMORILLON.3;
            offer.reservation = reservation.to_owned();
            offer.reserved_schools = schools.clone();
            offer.weeks = offer_weeks;
            offer.places_per_week = 1;
            let id = store.fixture_offer(&offer).await.unwrap();
            // Published now, or ten days ago (past the seven-day head start), or shown from a
            // date set by hand.
            let published = match j {
                0 => now,
                1 => now - 10 * 86_400,
                _ => now - 86_400,
            };
            exec(
                &store,
                "UPDATE internship_offers SET published_at = CAST($1 AS BIGINT) WHERE id = $2",
                &[&published.to_string(), &id],
            )
            .await;
            offers.push(id);
        }
    }
    exec(
        &store,
        "UPDATE internship_offers SET visible_from = CAST($1 AS BIGINT) WHERE id = $2",
        &[&(now + 2 * 86_400).to_string(), &offers[5]],
    )
    .await;
    let extra = store.fixture_more_third_year_pupils(1).await.unwrap();
    application(&store, &offers[2], &extra[0], second, "confirmed").await;

    let far = SearchQuery { radius_km: Some(100), ..query() };
    for pupil in [ids::ZOE, ids::MINH, ids::FATIMA, ids::LEO] {
        for at in [now, now + 3 * 86_400, now + 8 * 86_400] {
            for week in [first, second] {
                let asked = SearchQuery { week: Some(week), ..far.clone() };
                let mut shown = Vec::new();
                let mut page = 1;
                loop {
                    let query = SearchQuery { page, ..asked.clone() };
                    let results = store.search_offers_at(pupil, pupil, &query, at).await.unwrap();
                    shown.extend(results.offers.iter().map(|hit| hit.id.clone()));
                    if page >= results.pages {
                        break;
                    }
                    page += 1;
                }
                for offer in &offers {
                    assert_eq!(
                        shown.contains(offer),
                        open(&store, pupil, offer, week, at).await,
                        "{pupil}, {offer}, {week}, {}",
                        at - now
                    );
                }
            }
        }
    }
}
