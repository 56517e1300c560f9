//! `preau verify-agreement FILE` on a database of the backend `PREAU_TEST_DATABASE` names: a
//! sealed and complete agreement exits 0 with its details in French; a tampered copy, an
//! incomplete one and a PDF without a seal exit 1; a missing file or a folder exits 2.

mod mail_common;

use std::path::Path;
use std::process::{Command, Output};

use domain::internship::agreement::GuardianDetails;
use domain::internship::{AgreementContent, SignatoryRole};
use mail_common::{fixture_db, ids};
use store::fixtures::internship::ids as iids;

fn verify(dir: &Path, database_url: &str, file: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_preau"));
    command.args(["verify-agreement"]).arg(file).current_dir(dir).env_remove("RUST_LOG");
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("PREAU_")) {
        command.env_remove(key);
    }
    command.env("PREAU_DATA_DIR", dir.join("data")).env("PREAU_DATABASE_URL", database_url);
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn content() -> AgreementContent {
    AgreementContent {
        pupil_id: iids::FATIMA.into(),
        pupil_name: "فاطمة الزهراء بن علي".into(),
        school_id: ids::SCHOOL_1.into(),
        guardians: vec![
            GuardianDetails { name: "Karim".into(), ..GuardianDetails::default() },
            GuardianDetails { name: "Laure".into(), ..GuardianDetails::default() },
        ],
        ..AgreementContent::default()
    }
}

#[tokio::test]
async fn exit_codes_say_authentic_and_complete_or_not() {
    let db = fixture_db().await;
    db.store.load_internship_fixture().await.unwrap();
    let every: Vec<SignatoryRole> = SignatoryRole::ALL.to_vec();
    let id = db.store.fixture_signed_agreement(&content(), &every).await.unwrap();
    let sealed = db.store.seal_agreement(&id).await.unwrap();
    let dir = db.dir.path();

    let good = dir.join("convention.pdf");
    std::fs::write(&good, &sealed).unwrap();
    let output = verify(dir, &db.url, &good);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("Authentique : oui"), "{stdout}");
    assert!(stdout.contains("Complète : oui"), "{stdout}");
    assert!(stdout.contains(&id), "{stdout}");
    assert!(stdout.contains("Le second représentant légal : Signataire"), "{stdout}");
    assert!(stdout.contains("convention authentique et complète"), "{stdout}");

    let mut altered = sealed.clone();
    altered[sealed.len() / 3] ^= 0x04;
    let tampered = dir.join("modifiee.pdf");
    std::fs::write(&tampered, &altered).unwrap();
    let output = verify(dir, &db.url, &tampered);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("Authentique : non"));

    let partial: Vec<SignatoryRole> =
        every.iter().copied().filter(|role| *role != SignatoryRole::Pupil).collect();
    let incomplete_id = db.store.fixture_signed_agreement(&content(), &partial).await.unwrap();
    let incomplete = dir.join("incomplete.pdf");
    std::fs::write(&incomplete, db.store.fixture_seal_unchecked(&incomplete_id).await.unwrap())
        .unwrap();
    let output = verify(dir, &db.url, &incomplete);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Authentique : oui") && stdout.contains("Complète : non"), "{stdout}");
    assert!(stdout.contains("il manque la signature de L'élève"), "{stdout}");

    let unsealed = dir.join("frozen.pdf");
    std::fs::write(&unsealed, formats::agreement_pdf::render_frozen(&content(), &id, 1).unwrap())
        .unwrap();
    let output = verify(dir, &db.url, &unsealed);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("ne porte pas de sceau"));

    let output = verify(dir, &db.url, &dir.join("absent.pdf"));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("fichier illisible"));
    let output = verify(dir, &db.url, dir);
    assert_eq!(output.status.code(), Some(2), "a folder");
}
