//! The demo through the real import, on the test database (SQLite, or PostgreSQL when
//! `PREAU_TEST_DATABASE` names one): no record is rejected, the showcase people get their
//! logins and codes, and the account tools export and create what they promise.

use preau::accounts::AgentRequest;
use preau::config::Config;
use preau::demo::model::{DemoSize, SimpleDate, generate};
use preau::demo::write_files;
use preau::demo_run::{ACCOUNTS_FILE, import_demo};
use web::letters::write_codes_csv;

fn config(data_dir: &std::path::Path) -> Config {
    let env = vec![("PREAU_DATA_DIR".to_owned(), data_dir.display().to_string())];
    Config::load(None, env).unwrap()
}

#[tokio::test]
async fn a_small_demo_imports_cleanly_and_prints_every_showcase_account() {
    let store = store::testing::store().await;
    let data = tempfile::tempdir().unwrap();
    let config = config(data.path());
    let size = DemoSize {
        schools: 3,
        people: 1_500,
        seed: 9,
        export_date: SimpleDate { year: 2026, month: 12, day: 4 },
        departement_code: "86".to_owned(),
    };
    let departement = generate(&size);
    let aaf = data.path().join("demo-aaf");
    write_files(&departement, &size, &aaf).unwrap();

    let accounts = import_demo(&config, &store, &departement, &aaf).await.unwrap();

    let roles: Vec<&str> = accounts.accounts.iter().map(|a| a.role.as_str()).collect();
    assert_eq!(roles, ["pupil", "parent", "teacher", "head", "agent", "host"]);
    assert!(
        accounts.accounts.iter().all(|a| a.activation_code.as_ref().is_some_and(|c| c.len() == 14))
    );
    let pupil = &accounts.accounts[0];
    assert_eq!(pupil.login, "maelys.lesage-ollivier");
    assert_eq!(
        pupil.birth_date_fr.as_deref(),
        Some(departement.pupils[departement.showcase.pupil].birth.aaf().as_str())
    );
    let written = std::fs::read_to_string(data.path().join(ACCOUNTS_FILE)).unwrap();
    assert!(written.contains("\"role\": \"agent\""));

    let again = store
        .import_aaf(
            std::slice::from_ref(&aaf),
            &config.import_options(),
            &store::import::NoProgress,
        )
        .await
        .unwrap();
    assert!(!again.has_problems(), "{}", again.to_french_text());
    for (category, counts) in &again.counts {
        assert_eq!((counts.created, counts.updated), (0, 0), "{category} changed on re-import");
    }

    let rerun = import_demo(&config, &store, &departement, &aaf).await.unwrap();
    assert_eq!(rerun.accounts, accounts.accounts, "a second demo run hands out the same accounts");
    let agents = store
        .fixture_count("SELECT COUNT(*) FROM people WHERE profile = 'agent'", &[])
        .await
        .unwrap();
    assert_eq!(agents, 1);
}

#[tokio::test]
async fn codes_export_as_csv_and_agents_get_a_login_and_a_code() {
    let store = store::testing::store().await;
    let data = tempfile::tempdir().unwrap();
    let config = config(data.path());
    let size = DemoSize {
        schools: 2,
        people: 800,
        seed: 3,
        export_date: SimpleDate { year: 2026, month: 12, day: 4 },
        departement_code: "86".to_owned(),
    };
    let departement = generate(&size);
    let aaf = data.path().join("demo-aaf");
    write_files(&departement, &size, &aaf).unwrap();
    let report = store
        .import_aaf(&[aaf], &config.import_options(), &store::import::NoProgress)
        .await
        .unwrap();
    assert!(!report.has_problems(), "{}", report.to_french_text());

    let school = &departement.schools[0];
    let rows =
        store.activation_codes(&school.uai, Some("6A"), config.activation_validity).await.unwrap();
    let pupils_6a = departement.pupils.iter().filter(|p| p.school == 0 && p.class == "6A").count();
    assert_eq!(
        rows.iter().filter(|r| r.profile == domain::profile::Profile::Pupil).count(),
        pupils_6a
    );
    let mut csv = Vec::new();
    write_codes_csv(&mut csv, &rows).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), rows.len() + 1);
    assert!(csv.contains(&school.name));

    let request = AgentRequest {
        last_name: "Marsac".to_owned(),
        first_name: "Ségolène".to_owned(),
        email: None,
        official: true,
        scope: vec![school.uai.to_lowercase()],
        admin: false,
    };
    let text = preau::accounts::create_agent(&config, &store, &request).await.unwrap();
    assert!(text.contains("Identifiant : segolene.marsac"), "{text}");
    assert!(text.contains("Code d'activation : "), "{text}");

    let unknown = AgentRequest { scope: vec!["0869999Z".to_owned()], ..request };
    assert!(preau::accounts::create_agent(&config, &store, &unknown).await.is_err());
}
