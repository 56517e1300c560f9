//! A pupil's class membership ends on the school's own calendar: the exit date of a collège of
//! Nouméa, Martinique or La Réunion ends at that collège's local midnight, not at Paris's. Checked
//! three ways: the instant a membership ends, the store's one membership check at chosen instants
//! on the database, and, end to end, a pupil imported from AAF files into an overseas collège.

mod import_support;

use std::path::Path;

use import_support::{execute, import, read, texts, write};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use store::Store;
use store::directory::{current_membership, membership_clock_at, membership_end};
use store::fixtures::ids;

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

fn instant(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_second()
}

#[test]
fn an_exit_date_ends_at_the_next_local_midnight_of_the_school() {
    let last_day = date(2026, 12, 4);
    let cases = [
        ("Pacific/Noumea", "2026-12-04T13:00:00Z"),
        ("America/Martinique", "2026-12-05T04:00:00Z"),
        ("Indian/Reunion", "2026-12-04T20:00:00Z"),
        ("Europe/Paris", "2026-12-04T23:00:00Z"),
    ];
    for (name, end) in cases {
        assert_eq!(membership_end(last_day, &zone(name)), Some(instant(end)), "{name}");
    }

    // Summer time, in Paris and in Saint-Pierre-et-Miquelon.
    assert_eq!(
        membership_end(date(2026, 7, 3), &zone("Europe/Paris")),
        Some(instant("2026-07-03T22:00:00Z"))
    );
    assert_eq!(
        membership_end(date(2026, 7, 3), &zone("America/Miquelon")),
        Some(instant("2026-07-04T02:00:00Z"))
    );
    assert_eq!(
        membership_end(date(2026, 12, 4), &zone("America/Miquelon")),
        Some(instant("2026-12-05T03:00:00Z"))
    );
}

/// How many memberships of `pupil` the store's check counts as current at the instant `now`.
async fn current_at(store: &Store, pupil: &str, now: i64) -> i64 {
    // The check is built at run time; the fixture helper wants a `'static` statement.
    let sql: &'static str = Box::leak(
        format!(
            "SELECT COUNT(*) FROM pupil_classes pc WHERE pc.pupil_id = $1 AND {}",
            current_membership("pc", "$2")
        )
        .into_boxed_str(),
    );
    store.fixture_count(sql, &[pupil, &membership_clock_at(now)]).await.unwrap()
}

async fn set_exit(store: &Store, pupil: &str, exit_date: &str) {
    store
        .fixture_execute(
            "UPDATE pupil_classes SET exit_date = $1 WHERE pupil_id = $2",
            &[exit_date, pupil],
        )
        .await
        .unwrap();
}

async fn set_zone(store: &Store, school: &str, name: &str) {
    store
        .fixture_execute("UPDATE schools SET time_zone = $1 WHERE id = $2", &[name, school])
        .await
        .unwrap();
}

#[tokio::test]
async fn in_noumea_a_membership_ends_ten_hours_before_paris_midnight() {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    set_zone(&store, ids::SCHOOL_1, "Pacific/Noumea").await;
    set_exit(&store, ids::ALICE, "2026-12-04").await;
    let before = instant("2026-12-04T12:59:59Z");
    let local_midnight = instant("2026-12-04T13:00:00Z");

    // Written by hand, the row has no end instant yet: the Paris date decides, as before.
    assert_eq!(current_at(&store, ids::ALICE, local_midnight).await, 1);
    assert_eq!(current_at(&store, ids::ALICE, instant("2026-12-04T23:00:00Z")).await, 0);

    assert_eq!(store.stamp_membership_ends().await.unwrap(), 1);
    assert_eq!(store.stamp_membership_ends().await.unwrap(), 0, "stamping twice does nothing");

    // 13:00 UTC is midnight in Nouméa but still the 4th in Paris: the membership has ended.
    assert_eq!(current_at(&store, ids::ALICE, before).await, 1);
    assert_eq!(current_at(&store, ids::ALICE, local_midnight).await, 0);
    // Bruno has no exit date: he stays at any instant.
    assert_eq!(current_at(&store, ids::BRUNO, instant("2099-01-01T00:00:00Z")).await, 1);

    // Editing the exit date by hand drops the stamp that no longer matches it.
    set_exit(&store, ids::ALICE, "2026-12-31").await;
    assert_eq!(current_at(&store, ids::ALICE, local_midnight).await, 1);
    set_exit(&store, ids::ALICE, "").await;
    assert_eq!(current_at(&store, ids::ALICE, instant("2099-01-01T00:00:00Z")).await, 1);
}

#[tokio::test]
async fn in_martinique_a_membership_lasts_five_hours_past_paris_midnight() {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    set_zone(&store, ids::SCHOOL_1, "America/Martinique").await;
    set_exit(&store, ids::ALICE, "2026-12-04").await;
    assert_eq!(store.stamp_membership_ends().await.unwrap(), 1);

    // At 01:00 UTC it is already the 5th in Paris, but 21:00 on the 4th in Fort-de-France.
    assert_eq!(current_at(&store, ids::ALICE, instant("2026-12-05T01:00:00Z")).await, 1);
    assert_eq!(current_at(&store, ids::ALICE, instant("2026-12-05T03:59:59Z")).await, 1);
    assert_eq!(current_at(&store, ids::ALICE, instant("2026-12-05T04:00:00Z")).await, 0);
}

#[tokio::test]
async fn in_la_réunion_a_membership_ends_at_its_midnight() {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    set_zone(&store, ids::SCHOOL_1, "Indian/Reunion").await;
    set_exit(&store, ids::ALICE, "2026-12-04").await;
    assert_eq!(store.stamp_membership_ends().await.unwrap(), 1);

    assert_eq!(current_at(&store, ids::ALICE, instant("2026-12-04T19:59:59Z")).await, 1);
    assert_eq!(current_at(&store, ids::ALICE, instant("2026-12-04T20:00:00Z")).await, 0);
}

const ETAB: &str = "ENT_Complet_20200101_EtabEducNat_0000.xml";
const ELEVE: &str = "ENT_Complet_20200101_Eleve_0000.xml";

/// A zone whose date differs from Paris's now and in ten minutes (so that the test cannot
/// straddle a midnight), with its local date now. Overseas France first; when all of it shares
/// Paris's date (around noon in Paris), the farthest zones of the Pacific.
fn zone_off_paris_date() -> (&'static str, Date) {
    let now = Timestamp::now();
    let later = now + jiff::SignedDuration::from_mins(10);
    let local = |at: Timestamp, name: &str| at.to_zoned_datetime(zone(name)).date();
    [
        "Pacific/Noumea",
        "Pacific/Wallis",
        "Pacific/Tahiti",
        "America/Martinique",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
    ]
    .into_iter()
    .find(|name| {
        local(now, name) != local(now, "Europe/Paris")
            && local(later, name) != local(later, "Europe/Paris")
            && local(now, name) == local(later, name)
    })
    .map(|name| (name, local(now, name)))
    .unwrap()
}

#[tokio::test]
async fn an_imported_overseas_pupil_leaves_their_class_on_the_schools_own_date() {
    let store = store::testing::store().await;
    let schools = tempfile::tempdir().unwrap();
    write(
        schools.path(),
        ETAB,
        &read("entcore-2020-minimal", ETAB).replace("0000000V", "9880001V"),
    );
    import(&store, &[schools.path().to_path_buf()]).await;
    assert_eq!(texts(&store, "SELECT time_zone FROM schools").await, ["Pacific/Noumea"]);

    // A school in the chosen zone. With a local date after Paris's, an exit on the local
    // yesterday (Paris's today) has ended; before it, an exit on the local today (Paris's
    // yesterday) still holds. The Paris date would say the opposite in both cases.
    let (name, local_today) = zone_off_paris_date();
    execute(&store, &format!("UPDATE schools SET time_zone = '{name}'")).await;
    let paris_today = Timestamp::now().to_zoned_datetime(zone("Europe/Paris")).date();
    let ahead = local_today > paris_today;
    let exit = if ahead { local_today.yesterday().unwrap() } else { local_today };

    let pupils = tempfile::tempdir().unwrap();
    write_pupil(pupils.path(), exit);
    import(&store, &[pupils.path().to_path_buf()]).await;

    let pupil = texts(&store, "SELECT id FROM people WHERE profile = 'pupil'").await;
    let facts = store.viewer_facts(&pupil[0]).await.unwrap().unwrap();
    let classes: Vec<&str> = facts.classes.iter().map(|(_, code)| code.as_str()).collect();
    let school = facts_school(&store).await;
    let figures = store.school_figures(&school).await.unwrap();
    if ahead {
        assert!(classes.is_empty(), "{name}: left on {exit}, {classes:?}");
        assert_eq!(figures.pupils, 0, "{name}");
    } else {
        assert_eq!(classes, ["1AQUA"], "{name}: leaves on {exit}");
        assert_eq!(figures.pupils, 1, "{name}");
    }
}

/// The minimal sample's pupil, in the class 1AQUA of the imported school, leaving it on `exit`.
fn write_pupil(dir: &Path, exit: Date) {
    let text = read("entcore-2020-minimal", ELEVE)
        .replace("3000$", "1$")
        .replace("<value>1000</value>", "<value>1</value>")
        .replace(
            "<attr name=\"ENTEleveDateSortieClasses\"><value/></attr>",
            &format!(
                "<attr name=\"ENTEleveDateSortieClasses\"><value>1${}$1AQUA</value></attr>",
                exit.strftime("%d/%m/%Y")
            ),
        );
    write(dir, ELEVE, &text);
}

async fn facts_school(store: &Store) -> store::directory::SchoolRef {
    let row = texts(store, "SELECT id || ' ' || uai || ' ' || name FROM schools").await;
    let (id, rest) = row[0].split_once(' ').unwrap();
    let (uai, name) = rest.split_once(' ').unwrap();
    store::directory::SchoolRef { id: id.to_owned(), uai: uai.to_owned(), name: name.to_owned() }
}
