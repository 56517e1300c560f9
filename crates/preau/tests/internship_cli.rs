//! `preau import sectors` and `preau import communes` as the département runs them, on both
//! engines: the real shared files (the national list's 42 sectors; the communes around the
//! Vienne, whose repeated header is skipped with a notice), a second run that only updates,
//! and broken files refused with their file, line and reason in French, exit code 2 and
//! nothing written.

use std::path::Path;
use std::process::{Command, Output};

const SECTORS_FILE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/internships/monstage_sectors.yml");
const COMMUNES_FILE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/towns-around-vienne.csv");

/// A migrated database holding the fixture, and the URL the binary opens it with.
struct Db {
    url: String,
    store: store::Store,
    dir: tempfile::TempDir,
}

/// A new database on the backend of `PREAU_TEST_DATABASE` (a temporary SQLite file by
/// default); a PostgreSQL one is named `preau_t_…` so that the test command drops it.
async fn fixture_db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("PREAU_TEST_DATABASE") {
        Ok(server) if server.starts_with("postgres") => {
            let base = server.trim_end_matches('/');
            let name = format!("preau_t_{}", store::new_id().replace('-', ""));
            let mut admin =
                <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{base}/postgres"))
                    .await
                    .expect("reach PostgreSQL");
            // The name is generated here, never typed by anyone.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}", dir.path().join("preau.db").display()),
    };
    let config = store::StoreConfig { url: url.clone(), max_connections: 4 };
    let store = store::Store::open(&config).await.unwrap();
    store.load_fixture().await.unwrap();
    Db { url, store, dir }
}

fn preau(dir: &Path, database_url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_preau"));
    command.args(args).current_dir(dir).env_remove("RUST_LOG");
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("PREAU_")) {
        command.env_remove(key);
    }
    command.env("PREAU_DATA_DIR", dir.join("data")).env("PREAU_DATABASE_URL", database_url);
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_shared_files_are_imported_and_a_second_run_only_updates() {
    let db = fixture_db().await;

    let sectors = preau(db.dir.path(), &db.url, &["import", "sectors", SECTORS_FILE]);
    assert!(
        sectors.status.success(),
        "{}{}",
        stdout(&sectors),
        String::from_utf8_lossy(&sectors.stderr)
    );
    assert!(stdout(&sectors).contains("42 secteurs lus, 42 ajoutés"), "{}", stdout(&sectors));
    assert_eq!(db.store.sectors().await.unwrap().len(), 42);

    let communes = preau(db.dir.path(), &db.url, &["import", "communes", COMMUNES_FILE]);
    let report = stdout(&communes);
    assert!(communes.status.success(), "{report}");
    assert!(
        report.contains("towns-around-vienne.csv, ligne 2 : remarque : en-tête répété"),
        "{report}"
    );
    assert!(report.contains("116 communes lues, 116 ajoutées"), "{report}");
    assert_eq!(db.store.commune_count().await.unwrap(), 116);
    let poitiers = db.store.find_commune("Poitiers").await.unwrap().unwrap();
    assert!((poitiers.point.latitude - 46.58261).abs() < 1e-6);

    let again = preau(db.dir.path(), &db.url, &["import", "sectors", SECTORS_FILE]);
    assert!(stdout(&again).contains("0 ajoutés, 42 mis à jour"), "{}", stdout(&again));
}

#[tokio::test]
async fn broken_files_are_refused_with_their_line_and_nothing_is_written() {
    let db = fixture_db().await;
    let dir = db.dir.path();

    let yaml = std::fs::read_to_string(SECTORS_FILE).unwrap();
    let broken = yaml.replacen("b7564ac4-e184-41c4-a7a9-57233a9d244a", "pas-un-uuid", 1);
    std::fs::write(dir.join("secteurs.yml"), broken).unwrap();
    let refused = preau(dir, &db.url, &["import", "sectors", "secteurs.yml"]);
    assert_eq!(refused.status.code(), Some(2));
    let report = stdout(&refused);
    assert!(
        report.contains("secteurs.yml, ligne 2 : secteur refusé : uuid « pas-un-uuid » mal formé"),
        "{report}"
    );
    assert!(report.contains("rien n'a été importé"), "{report}");
    assert!(db.store.sectors().await.unwrap().is_empty());

    std::fs::write(dir.join("autre.yml"), "---\n- !ruby/object:User\n  name: x\n").unwrap();
    let other = preau(dir, &db.url, &["import", "sectors", "autre.yml"]);
    assert_eq!(other.status.code(), Some(2));
    assert!(stdout(&other).contains("autre.yml, ligne 2 : fichier refusé"), "{}", stdout(&other));

    let csv = "geonames_id,name,admin1_code,population,lat,lon\n\
               2986495,\"Poitiers\",75,85960,46.58261,0.34348\n\
               3026141,\"Châtellerault\",75,37210,146.81705,0.54518\n\
               3025809,\"Chauvigny\",75,beaucoup,46.56979,0.64346\n";
    std::fs::write(dir.join("communes.csv"), csv).unwrap();
    let refused = preau(dir, &db.url, &["import", "communes", "communes.csv"]);
    assert_eq!(refused.status.code(), Some(2));
    let report = stdout(&refused);
    assert!(report.contains("communes.csv, ligne 3 : commune refusée"), "{report}");
    assert!(report.contains("hors du globe"), "{report}");
    assert!(
        report.contains(
            "communes.csv, ligne 4 : commune refusée : population « beaucoup » illisible"
        ),
        "{report}"
    );
    assert_eq!(db.store.commune_count().await.unwrap(), 0);

    std::fs::write(dir.join("vide.csv"), "nom;code\n").unwrap();
    let empty = preau(dir, &db.url, &["import", "communes", "vide.csv"]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(stdout(&empty).contains("vide.csv, ligne 1 : fichier refusé"), "{}", stdout(&empty));
}
