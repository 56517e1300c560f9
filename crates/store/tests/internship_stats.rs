//! The département's desk and statistics of the internship platform, on both engines: the
//! settings and their bounds, the collèges' profiles, who may read and write them (a head or a
//! teacher is answered as if nothing existed), and the statistics computed on the internship
//! fixture with confirmed applications written straight into the database: placed pupils by
//! collège and week, offers and places by sector and commune, the distances from home (a pupil
//! living abroad counted apart), and the shares of rural and priority-education pupils.

use domain::internship::geo::{Point, distance_km};
use store::StoreError;
use store::fixtures::ids as base;
use store::fixtures::internship::{
    CHAUVIGNY, FixtureOffer, LUSSAC, MONTMORILLON, POITIERS, VOUNEUIL_SOUS_BIARD, ids, weeks,
};
use store::internship::desk::{InternshipSettings, PriorityEducation, SchoolInternshipProfile};
use store::internship::stats::{InternshipStats, StatsScope};

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    store
}

fn settings() -> InternshipSettings {
    InternshipSettings {
        application_days: 10,
        read_extension_days: 5,
        confirmation_days: 4,
        reminder_days: 1,
        head_start_days: 0,
        default_radius_km: 25,
    }
}

#[tokio::test]
async fn the_departement_writes_bounded_settings_and_nobody_else_does() {
    let store = fixture().await;
    let initial = store.internship_settings().await.unwrap();
    assert_eq!((initial.application_days, initial.default_radius_km), (15, 30));

    store.set_internship_settings(base::AGNES, &settings()).await.unwrap();
    assert_eq!(store.internship_settings().await.unwrap(), settings());
    let audited = store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'internship_settings_set' \
             AND actor_id = $1",
            &[base::AGNES],
        )
        .await
        .unwrap();
    assert_eq!(audited, 1);

    for outsider in [base::HELENE, base::MARC, base::SOPHIE, ids::ZOE, ids::HUGUES] {
        let changed = InternshipSettings { default_radius_km: 99, ..settings() };
        let refused = store.set_internship_settings(outsider, &changed).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{outsider}: {refused:?}");
    }
    for bad in [
        InternshipSettings { application_days: 0, ..settings() },
        InternshipSettings { default_radius_km: 201, ..settings() },
        InternshipSettings { head_start_days: -3, ..settings() },
        InternshipSettings { reminder_days: 4, ..settings() },
    ] {
        let refused = store.set_internship_settings(base::AGNES, &bad).await;
        assert!(matches!(refused, Err(StoreError::Conflict(ref reason)) if !reason.is_empty()));
    }
    assert_eq!(store.internship_settings().await.unwrap(), settings());
}

#[tokio::test]
async fn school_profiles_are_listed_and_written_by_the_departement_only() {
    let store = fixture().await;

    let lines = store.school_internship_profiles(base::AGNES).await.unwrap().unwrap();
    let one = lines.iter().find(|l| l.school.id == base::SCHOOL_1).unwrap();
    assert_eq!(one.profile.priority_education, Some(PriorityEducation::Rep));
    assert!(!one.profile.rural && one.written);
    let two = lines.iter().find(|l| l.school.id == base::SCHOOL_2).unwrap();
    assert!(two.profile.rural);
    assert_eq!(two.profile.delegation_date.as_deref(), Some("2026-09-22"));

    let changed = SchoolInternshipProfile {
        rural: true,
        priority_education: Some(PriorityEducation::RepPlus),
        delegation_date: Some("2026-10-01".to_owned()),
    };
    store.set_school_internship_profile(base::AGNES, base::SCHOOL_1, &changed).await.unwrap();
    let lines = store.school_internship_profiles(base::AGNES).await.unwrap().unwrap();
    let one = lines.iter().find(|l| l.school.id == base::SCHOOL_1).unwrap();
    assert_eq!(one.profile, changed);
    let cleared = SchoolInternshipProfile::default();
    store.set_school_internship_profile(base::AGNES, base::SCHOOL_2, &cleared).await.unwrap();
    let lines = store.school_internship_profiles(base::AGNES).await.unwrap().unwrap();
    let two = lines.iter().find(|l| l.school.id == base::SCHOOL_2).unwrap();
    assert_eq!(two.profile, cleared);

    for outsider in [base::HELENE, base::MARC, base::SOPHIE] {
        assert!(store.school_internship_profiles(outsider).await.unwrap().is_none());
        let refused = store.set_school_internship_profile(outsider, base::SCHOOL_1, &cleared).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{outsider}");
    }
    let unknown = store.set_school_internship_profile(base::AGNES, "school-x", &cleared).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)));
    let bad_date =
        SchoolInternshipProfile { delegation_date: Some("2026-02-30".to_owned()), ..cleared };
    let refused = store.set_school_internship_profile(base::AGNES, base::SCHOOL_1, &bad_date).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
    assert_eq!(
        store
            .fixture_count(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'school_internship_profile_set'",
                &[],
            )
            .await
            .unwrap(),
        2
    );
}

/// The gazetteer's communes the fixture's pupils live in (Madrid is not one).
async fn communes(store: &store::Store) {
    for (id, town) in [
        ("86194", POITIERS),
        ("86165", MONTMORILLON),
        ("86297", VOUNEUIL_SOUS_BIARD),
        ("86070", CHAUVIGNY),
        ("86140", LUSSAC),
    ] {
        let (lat, lon) = (town.2.to_string(), town.3.to_string());
        store
            .fixture_execute(
                "INSERT INTO communes (id, name, folded_name, postal_code, latitude, longitude) \
                 VALUES ($1, $2, $3, $4, CAST($5 AS DOUBLE PRECISION), \
                 CAST($6 AS DOUBLE PRECISION))",
                &[id, town.0, &domain::names::fold_for_search(town.0), town.1, &lat, &lon],
            )
            .await
            .unwrap();
    }
}

async fn confirmed(store: &store::Store, pupil: &str, offer: &str, school: &str, week: usize) {
    apply(store, pupil, offer, school, week, "confirmed").await;
}

async fn apply(
    store: &store::Store,
    pupil: &str,
    offer: &str,
    school: &str,
    week: usize,
    state: &str,
) {
    let id = format!("app-{pupil}-{offer}");
    store
        .fixture_execute(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, 0)",
            &[&id, offer, pupil, school, &weeks()[week].to_string(), state],
        )
        .await
        .unwrap();
}

/// The fixture with offers and confirmed internships: Zoé (Vouneuil) and Minh (Chauvigny) at
/// the bakery in Poitiers, Fatima at a farm in Montmorillon, a fifth 3e pupil living in Madrid
/// at the farm too; Léo has only applied.
async fn placed_fixture() -> store::testing::TestStore {
    let store = fixture().await;
    communes(&store).await;

    let bakery = store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();
    let farm = store
        .fixture_offer(&FixtureOffer {
            title: "Éleveur de chèvres".to_owned(),
            sector_id: Some(ids::SECTOR_AGRICULTURE.to_owned()),
            city: MONTMORILLON.0.to_owned(),
            latitude: MONTMORILLON.2,
            longitude: MONTMORILLON.3,
            places_per_week: 2,
            places_total: 3,
            ..FixtureOffer::bakery("")
        })
        .await
        .unwrap();
    store
        .fixture_offer(&FixtureOffer {
            title: "Brouillon".to_owned(),
            state: "draft".to_owned(),
            ..FixtureOffer::bakery("")
        })
        .await
        .unwrap();
    store
        .fixture_offer(&FixtureOffer {
            host_id: ids::HOST_GARAGE.to_owned(),
            title: "Mécanique".to_owned(),
            sector_id: Some(ids::SECTOR_ARCHITECTURE.to_owned()),
            city: CHAUVIGNY.0.to_owned(),
            ..FixtureOffer::bakery("")
        })
        .await
        .unwrap();
    let extra = store.fixture_more_third_year_pupils(1).await.unwrap().remove(0);
    store
        .fixture_execute(
            "UPDATE people SET postal_code = '28001', city = 'MADRID' WHERE id = $1",
            &[&extra],
        )
        .await
        .unwrap();
    // The AAF writes towns in capitals without accents or hyphens.
    store
        .fixture_execute(
            "UPDATE people SET city = 'VOUNEUIL SOUS BIARD' WHERE id = $1",
            &[ids::ZOE],
        )
        .await
        .unwrap();

    confirmed(&store, ids::ZOE, &bakery, base::SCHOOL_1, 0).await;
    confirmed(&store, ids::MINH, &bakery, base::SCHOOL_1, 1).await;
    confirmed(&store, ids::FATIMA, &farm, base::SCHOOL_2, 0).await;
    confirmed(&store, &extra, &farm, base::SCHOOL_1, 1).await;
    apply(&store, ids::LEO, &bakery, base::SCHOOL_2, 0, "accepted").await;
    store
}

fn km(a: (&str, &str, f64, f64), b: (&str, &str, f64, f64)) -> f64 {
    distance_km(Point::new(a.2, a.3).unwrap(), Point::new(b.2, b.3).unwrap())
}

#[tokio::test]
async fn statistics_count_placed_pupils_offers_distances_and_shares() {
    let store = placed_fixture().await;
    let stats: InternshipStats =
        store.internship_stats(base::AGNES, &StatsScope::Departement).await.unwrap().unwrap();

    let counts: Vec<(&str, i64, i64)> =
        stats.schools.iter().map(|s| (s.school.id.as_str(), s.third_year, s.placed)).collect();
    assert!(counts.contains(&(base::SCHOOL_1, 3, 3)), "{counts:?}");
    assert!(counts.contains(&(base::SCHOOL_2, 2, 1)), "{counts:?}");

    let [first, second] = weeks().map(|w| w.to_string());
    let cells: Vec<(&str, &str, bool, i64, i64)> = stats
        .weeks
        .iter()
        .map(|w| (w.school.id.as_str(), w.iso_week.as_str(), w.declared, w.placed, w.third_year))
        .collect();
    for expected in [
        (base::SCHOOL_1, first.as_str(), true, 1, 3),
        (base::SCHOOL_1, second.as_str(), true, 2, 3),
        (base::SCHOOL_2, first.as_str(), true, 1, 2),
        (base::SCHOOL_2, second.as_str(), true, 0, 2),
    ] {
        assert!(cells.contains(&expected), "{expected:?} in {cells:?}");
    }
    let totals: Vec<(&str, i64, i64)> =
        stats.week_totals.iter().map(|w| (w.iso_week.as_str(), w.placed, w.third_year)).collect();
    assert_eq!(totals, [(first.as_str(), 2, 5), (second.as_str(), 2, 5)]);

    let sectors: Vec<(&str, i64, i64, i64)> =
        stats.sectors.iter().map(|l| (l.label.as_str(), l.offers, l.places, l.confirmed)).collect();
    // The draft and the pending host's offer are not counted; confirmed internships are.
    assert_eq!(sectors, [("Agriculture", 1, 3, 2), ("Agroalimentaire", 1, 4, 2)]);
    let communes: Vec<(&str, i64, i64, i64)> = stats
        .communes
        .iter()
        .map(|l| (l.label.as_str(), l.offers, l.places, l.confirmed))
        .collect();
    assert_eq!(communes, [("Montmorillon", 1, 3, 2), ("Poitiers", 1, 4, 2)]);

    let distance = &stats.distance;
    assert_eq!((distance.located, distance.unlocated), (3, 1));
    let zoe = km(VOUNEUIL_SOUS_BIARD, POITIERS);
    let minh = km(CHAUVIGNY, POITIERS);
    assert!((5.0..10.0).contains(&zoe) && (20.0..30.0).contains(&minh), "{zoe} {minh}");
    assert_eq!(distance.buckets, [1, 1, 0, 1, 0]);
    assert!((distance.median_km.unwrap() - zoe).abs() < 1e-9);

    let groups: Vec<(&str, i64, i64)> =
        stats.groups.iter().map(|g| (g.group, g.third_year, g.placed)).collect();
    assert_eq!(
        groups,
        [("rural", 2, 1), ("rep", 3, 3), ("rep_plus", 0, 0), ("other", 0, 0), ("all", 5, 4)]
    );

    // Aggregates only: nothing of a pupil's identity.
    let text = format!("{stats:?}");
    for leak in ["Zoé", "Minh", "فاطمة", "Léo", "p-zoe", "p-extra", "MADRID", "Vouneuil"] {
        assert!(!text.contains(leak), "{leak} in the statistics");
    }
}

#[tokio::test]
async fn a_college_reads_its_own_statistics_and_nobody_else_reads_them() {
    let store = placed_fixture().await;
    let one = StatsScope::School(base::SCHOOL_1.to_owned());
    let two = StatsScope::School(base::SCHOOL_2.to_owned());

    let stats = store.internship_stats(base::HELENE, &one).await.unwrap().unwrap();
    assert_eq!(stats.schools.len(), 1);
    assert_eq!((stats.schools[0].third_year, stats.schools[0].placed), (3, 3));
    assert!(stats.weeks.iter().all(|w| w.school.id == base::SCHOOL_1));
    assert_eq!((stats.distance.located, stats.distance.unlocated), (2, 1));
    let confirmed: i64 = stats.sectors.iter().map(|l| l.confirmed).sum();
    assert_eq!(confirmed, 3);
    // The offers are the département's, whoever looks.
    let offers: i64 = stats.sectors.iter().map(|l| l.offers).sum();
    assert_eq!(offers, 2);

    let marc = store.internship_stats(base::MARC, &two).await.unwrap().unwrap();
    assert_eq!((marc.schools[0].third_year, marc.schools[0].placed), (2, 1));
    assert!(store.internship_stats(base::AGNES, &two).await.unwrap().is_some());

    for (outsider, scope) in [
        (base::HELENE, &two),
        (base::MARC, &one),
        (base::SOPHIE, &one),
        (ids::ZOE, &one),
        (ids::HUGUES, &one),
        (base::HELENE, &StatsScope::Departement),
        (base::SOPHIE, &StatsScope::Departement),
    ] {
        assert!(store.internship_stats(outsider, scope).await.unwrap().is_none(), "{outsider}");
    }
    let unknown = StatsScope::School("school-x".to_owned());
    assert!(store.internship_stats(base::AGNES, &unknown).await.unwrap().is_none());
}

#[tokio::test]
async fn statistics_of_an_empty_platform_are_zeros() {
    let store = fixture().await;
    let stats =
        store.internship_stats(base::AGNES, &StatsScope::Departement).await.unwrap().unwrap();
    assert!(stats.sectors.is_empty() && stats.communes.is_empty());
    assert_eq!(stats.distance.median_km, None);
    assert_eq!(stats.distance.buckets, [0; 5]);
    assert!(stats.week_totals.iter().all(|w| w.placed == 0 && w.third_year > 0));
}

#[tokio::test]
async fn the_departement_reads_a_host_managers_pending_code_and_nobody_else_does() {
    let store = fixture().await;
    let (login, code) =
        store.host_manager_account(base::AGNES, ids::HOST_BAKERY).await.unwrap().unwrap();
    assert_eq!(login, ids::HUGUES);
    assert_eq!(code, Some(store::fixtures::code_for(ids::HUGUES)));
    assert!(store.host_manager_account(base::HELENE, ids::HOST_BAKERY).await.unwrap().is_none());
    assert!(store.host_manager_account(ids::HUGUES, ids::HOST_BAKERY).await.unwrap().is_none());

    store
        .fixture_execute(
            "UPDATE accounts SET activated_at = 1 WHERE person_id = $1",
            &[ids::HUGUES],
        )
        .await
        .unwrap();
    let (_, code) =
        store.host_manager_account(base::AGNES, ids::HOST_BAKERY).await.unwrap().unwrap();
    assert_eq!(code, None, "an activated account's code is not given again");
}
