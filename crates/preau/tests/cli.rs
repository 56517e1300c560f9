//! The `preau` binary as a person runs it: French errors and exit codes (0, 1 on a bad
//! configuration, 2 when an import reports problems), the redacted configuration, the
//! demo's `--generate-only` files, the mailboxes recounted, and why a database cannot be opened.

use std::process::{Command, Output};

fn preau(data_dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_preau"));
    command.args(args).current_dir(data_dir).env_remove("RUST_LOG");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("PREAU_")) {
        command.env_remove(key);
    }
    command.env("PREAU_DATA_DIR", data_dir.join("data"));
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_prints_the_effective_values_without_the_database_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = ("PREAU_DATABASE_URL", "postgres://preau:tres-secret@127.0.0.1:5432/preau");
    let output = preau(dir.path(), &["config"], &[url]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.contains("database_url = \"postgres://preau:***@127.0.0.1:5432/preau\""));
    assert!(!stdout.contains("tres-secret"));
}

#[test]
fn a_bad_configuration_stops_the_program_with_a_french_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = preau(dir.path(), &["config"], &[("PREAU_BASE_URL", "javascript:alert(1)")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("erreur : base_url"), "{}", text(&output.stderr));

    std::fs::write(dir.path().join("preau.toml"), "listen = \"127.0.0.1:8080\"\ncolor = 1\n")
        .unwrap();
    let output = preau(dir.path(), &["config"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("clé inconnue « color »"), "{}", text(&output.stderr));
}

#[test]
fn an_import_with_a_broken_file_exits_with_2_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let aaf = dir.path().join("aaf");
    std::fs::create_dir_all(&aaf).unwrap();
    std::fs::write(
        aaf.join("ENT_Complet_20260901_EtabEducNat_0000.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ficAlimMENESR>\n<addRequest>\n",
    )
    .unwrap();
    let output = preau(dir.path(), &["import", "aaf", aaf.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("ENT_Complet_20260901_EtabEducNat_0000.xml"));
}

#[test]
fn the_demo_can_write_its_files_without_importing_them() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["demo", "--schools", "2", "--people", "600", "--generate-only"];
    let output = preau(dir.path(), &args, &[("PREAU_DEPARTEMENT_CODE", "79")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let names: Vec<String> = std::fs::read_dir(dir.path().join("data/demo-aaf"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.iter().all(|name| name.starts_with("PREAU79_Complet_")));
    assert!(!dir.path().join("data/preau.db").exists());
}

#[test]
fn the_mailboxes_are_recounted_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let output = preau(dir.path(), &["messages", "recount"], &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Boîtes aux lettres recomptées : 0 compteur(s)"), "{stdout}");
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_says_why() {
    let dir = tempfile::tempdir().unwrap();
    assert!(preau(dir.path(), &["messages", "recount"], &[]).status.success());
    let url = format!("sqlite://{}", dir.path().join("data/preau.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 16")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let output = preau(dir.path(), &["messages", "recount"], &[]);

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("impossible d'ouvrir la base de données"), "{stderr}");
    assert!(
        stderr.contains("migration 16 was previously applied but has been modified"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("data/preau.db"), b"pas une base SQLite, mais du texte")
        .unwrap();
    let output = preau(dir.path(), &["messages", "recount"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("not a database"), "{}", text(&output.stderr));
}

#[test]
fn unknown_commands_are_refused_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let output = preau(dir.path(), &["importer"], &[]);
    assert_eq!(output.status.code(), Some(64));
    assert!(text(&output.stderr).contains("commande inconnue : importer"));
}

/// A raw HTTP/1.1 GET on the loopback, for the status line only.
fn get_status(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};

    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_owned)
}

#[cfg(unix)]
#[test]
fn serve_answers_health_checks_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let base_url = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_preau"));
    command.arg("serve").current_dir(dir.path()).env_remove("RUST_LOG");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("PREAU_")) {
        command.env_remove(key);
    }
    command
        .env("PREAU_DATA_DIR", dir.path().join("data"))
        .env("PREAU_LISTEN", &listen)
        .env("PREAU_BASE_URL", &base_url)
        .env("PREAU_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().unwrap();

    let mut status = None;
    for _ in 0..200 {
        status = get_status(port, "/healthz");
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status.as_deref(), Some("HTTP/1.1 200 OK"));
    assert_eq!(get_status(port, "/readyz").as_deref(), Some("HTTP/1.1 200 OK"));

    // A client that never finishes its headers (slowloris) is cut off, and does not keep the
    // server from stopping.
    let mut slow = std::net::TcpStream::connect(&listen).unwrap();
    std::io::Write::write_all(&mut slow, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut buffer = [0u8; 256];
    let read = std::io::Read::read(&mut slow, &mut buffer);
    assert!(
        matches!(read, Ok(0))
            || read.as_ref().is_ok_and(|n| buffer[..*n].starts_with(b"HTTP/1.1 408")),
        "the slow connection was not closed: {read:?}"
    );
    let _still_open = std::net::TcpStream::connect(&listen).unwrap();

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let logs = text(&output.stderr);
    assert!(logs.contains(&format!("\"address\":\"{listen}\"")), "{logs}");
    assert!(logs.contains("signal reçu : SIGTERM"), "{logs}");
    assert!(dir.path().join("data/preau.db").exists());
}
