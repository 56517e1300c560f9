//! Préau's CAS server used by a client library nobody here wrote: `python-cas` from PyPI
//! (`scripts/cas_client_check.py`) completes a login round trip against the real `preau serve`
//! binary, as Pronote would: the collège's Pronote is registered with the Pronote attribute
//! profile (principal: the login), the account is activated and logged in through Préau's own
//! forms, the ticket comes back in the redirect to the service, and python-cas validates it on
//! `/cas/p3/serviceValidate` and reads `nom`, `prenom`, `dateNaissance` (dd/mm/yyyy),
//! `codePostal` and `categories` (`National_1` for a pupil, `National_3` for a teacher). A second
//! validation of the same ticket fails (single use).
//!
//! The test command installs python-cas and requests (`scripts/test.sh`); without them the test
//! fails and says so.

mod mail_common;

use std::process::Command;
use std::str::FromStr;

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use mail_common::{Db, Server, fixture_db, ids, scripts_dir};
use store::fixtures::code_for;
use store::sso::admin::NewService;

/// The password the accounts are activated with.
const PASSWORD: &str = "Cheval-Batterie-Agrafe-42";
/// Collège 1's postcode, which a pupil without an address of their own releases.
const POSTCODE: &str = "86000";
/// Where collège 1's Pronote would listen: nothing needs to, the client never follows the
/// redirect to it (a port of this test's range, on the loopback).
const PRONOTE_1: &str = "http://127.0.0.1:18501/pronote/";

/// Registers collège 1's Pronote as its administrators would: CAS, the Pronote attribute
/// profile, the login as principal, its people only.
async fn register_pronote(db: &Db) -> String {
    let pronote = NewService {
        name: "Pronote – Collège Jean Moulin".to_owned(),
        protocol: Protocol::Cas,
        school_id: Some(ids::SCHOOL_1.to_owned()),
        principal: Principal::Login,
        attributes: Attribute::PRONOTE.to_vec(),
        require_second_factor: false,
        allow_proxy: false,
        client_id: None,
        client_secret_hash: None,
        urls: vec![(UrlMatch::Prefix, PRONOTE_1.to_owned())],
        logout_urls: Vec::new(),
        schools: vec![ids::SCHOOL_1.to_owned()],
        profiles: vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff],
    };
    db.store.register_service(Some(ids::HELENE), &pronote).await.unwrap()
}

/// Gives collège 1 a postcode (the fixture has none), with a raw connection.
async fn set_school_postcode(db: &Db) {
    sqlx::any::install_default_drivers();
    let options = sqlx::any::AnyConnectOptions::from_str(&db.url).unwrap();
    let mut connection =
        <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options).await.unwrap();
    sqlx::query("UPDATE schools SET postal_code = $1 WHERE id = $2")
        .bind(POSTCODE)
        .bind(ids::SCHOOL_1)
        .execute(&mut connection)
        .await
        .unwrap();
}

/// What python-cas read, as `scripts/cas_client_check.py` prints it.
struct Read {
    user: String,
    attributes: serde_json::Value,
    json: serde_json::Value,
}

impl Read {
    /// One attribute as a single string (python-cas gives a string for one value).
    fn text(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(|value| value.as_str())
    }
}

/// Runs the python-cas round trip for `login` (activating the account with its fixture code
/// first) with `python3`, else `/usr/bin/python3`. Fails with the reason when neither has
/// python-cas.
fn python_cas_round_trip(server: &Server, login: &str, birth_date: Option<&str>) -> Read {
    let script = scripts_dir().join("cas_client_check.py");
    let code = code_for(login);
    let mut args = vec![
        script.display().to_string(),
        "--server".to_owned(),
        server.base_url(),
        "--service".to_owned(),
        PRONOTE_1.to_owned(),
        "--login".to_owned(),
        login.to_owned(),
        "--password".to_owned(),
        PASSWORD.to_owned(),
        "--activation-code".to_owned(),
        code,
    ];
    if let Some(date) = birth_date {
        args.extend(["--birth-date".to_owned(), date.to_owned()]);
    }
    let mut missing = Vec::new();
    for python in ["python3", "/usr/bin/python3"] {
        let output = match Command::new(python).args(&args).env_remove("PYTHONPATH").output() {
            Ok(output) => output,
            Err(error) => {
                missing.push(format!("{python}: {error}"));
                continue;
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.code() == Some(3) {
            missing.push(format!("{python}: {}", stderr.trim()));
            continue;
        }
        assert!(
            output.status.success(),
            "python-cas round trip for {login} failed: {stderr}\nserver log:\n{}",
            server.logs()
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stdout)));
        let user = json["user"].as_str().unwrap_or_default().to_owned();
        let attributes = json["attributes"].clone();
        return Read { user, attributes, json };
    }
    panic!(
        "Python with the PyPI packages python-cas and requests is missing: run bash \
         scripts/test.sh, which installs them ({})",
        missing.join("; ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_cas_logs_in_and_reads_the_pronote_attributes() {
    let db = fixture_db().await;
    register_pronote(&db).await;
    set_school_postcode(&db).await;
    let server = Server::start(&db, "cas-interop", &[]).await;

    // A pupil of collège 1.
    let alice = python_cas_round_trip(&server, "alice.martin", Some("07/03/2013"));
    assert_eq!(alice.user, "alice.martin", "{}", alice.json);
    assert_eq!(alice.text("nom"), Some("Martin"), "{}", alice.json);
    assert_eq!(alice.text("prenom"), Some("Alice"), "{}", alice.json);
    assert_eq!(alice.text("dateNaissance"), Some("07/03/2013"), "{}", alice.json);
    assert_eq!(alice.text("codePostal"), Some(POSTCODE), "{}", alice.json);
    assert_eq!(alice.text("categories"), Some("National_1"), "{}", alice.json);
    // Nothing beyond the Pronote profile.
    for name in ["login", "email", "profil", "etablissements"] {
        assert!(alice.attributes.get(name).is_none(), "{name} released: {}", alice.json);
    }
    assert_eq!(alice.json["ticket_prefix"], "ST-", "{}", alice.json);
    assert!(alice.json["second_validation_user"].is_null(), "ticket reused: {}", alice.json);

    // A teacher of both collèges, through collège 1's Pronote: no birth date in the fixture.
    let thomas = python_cas_round_trip(&server, "thomas.bernard", None);
    assert_eq!(thomas.user, "thomas.bernard", "{}", thomas.json);
    assert_eq!(thomas.text("nom"), Some("Bernard"), "{}", thomas.json);
    assert_eq!(thomas.text("prenom"), Some("Thomas"), "{}", thomas.json);
    assert_eq!(thomas.text("categories"), Some("National_3"), "{}", thomas.json);
    assert!(thomas.attributes.get("dateNaissance").is_none(), "{}", thomas.json);
    assert!(thomas.json["second_validation_user"].is_null(), "ticket reused: {}", thomas.json);
}
