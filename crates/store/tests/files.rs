//! The file store on both of its backends: a folder on disk, and a real S3-compatible server on
//! the loopback interface. The S3 test uses the server named by `PREAU_TEST_S3_ENDPOINT` (a moto
//! server, e.g. `http://127.0.0.1:9074`), or starts `moto_server` itself; when neither is there it
//! fails and says how to install moto, so it never passes without talking to S3.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use store::files::{FileStore, FileStoreError, S3Config, is_valid_key};

fn sample(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Put, overwrite, get, delete and the missing cases, the same on every backend.
async fn round_trip(files: &FileStore) {
    let key = FileStore::new_key();
    assert!(is_valid_key(&key), "{key}");
    let bytes = sample(1024 * 1024 + 7);

    files.put(&key, bytes.clone()).await.unwrap();
    assert_eq!(files.get(&key).await.unwrap(), bytes);

    let every_byte: Vec<u8> = (0..=255).collect();
    files.put(&key, every_byte.clone()).await.unwrap();
    assert_eq!(files.get(&key).await.unwrap(), every_byte);

    let empty = FileStore::new_key();
    files.put(&empty, Vec::new()).await.unwrap();
    assert_eq!(files.get(&empty).await.unwrap(), Vec::<u8>::new());

    let missing = FileStore::new_key();
    assert!(matches!(files.get(&missing).await, Err(FileStoreError::NotFound)));

    files.delete(&key).await.unwrap();
    assert!(matches!(files.get(&key).await, Err(FileStoreError::NotFound)));
    files.delete(&key).await.unwrap();
    files.delete(&missing).await.unwrap();
    assert_eq!(files.get(&empty).await.unwrap(), Vec::<u8>::new());
}

#[tokio::test]
async fn local_files_round_trip_in_a_folder_created_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("pieces").join("jointes");
    let files = FileStore::local(&folder).unwrap();
    assert!(folder.is_dir());

    round_trip(&files).await;

    let key = FileStore::new_key();
    files.put(&key, b"contenu".to_vec()).await.unwrap();
    assert_eq!(std::fs::read(folder.join(&key)).unwrap(), b"contenu");
    let again = FileStore::local(&folder).unwrap();
    assert_eq!(again.get(&key).await.unwrap(), b"contenu");
}

#[tokio::test]
async fn keys_that_a_name_could_be_are_refused_before_any_access() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(&dir.path().join("f")).unwrap();
    let too_long = "a".repeat(129);
    for key in [
        "",
        "..",
        "../etc/passwd",
        "a/b",
        "a\\b",
        "/abs",
        ".cache",
        "a.pdf",
        "a b",
        "é",
        "a%2e",
        "a\0b",
        too_long.as_str(),
    ] {
        assert!(!is_valid_key(key), "{key:?}");
        assert!(matches!(files.put(key, vec![1]).await, Err(FileStoreError::InvalidKey)));
        assert!(matches!(files.get(key).await, Err(FileStoreError::InvalidKey)));
        assert!(matches!(files.delete(key).await, Err(FileStoreError::InvalidKey)));
    }
    assert!(is_valid_key(&"a".repeat(128)));
    assert_eq!(FileStoreError::InvalidKey.to_string(), "Identifiant de fichier invalide.");
    assert_eq!(FileStoreError::NotFound.to_string(), "Fichier introuvable.");
}

#[test]
fn a_folder_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("un-fichier");
    std::fs::write(&file, b"x").unwrap();
    let error = FileStore::local(&file.join("dessous")).unwrap_err();
    assert!(matches!(error, FileStoreError::Folder { .. }), "{error:?}");
    assert!(error.to_string().starts_with("Le dossier des fichiers "), "{error}");
}

fn s3_config(endpoint: &str, bucket: &str) -> S3Config {
    S3Config {
        endpoint: endpoint.to_owned(),
        bucket: bucket.to_owned(),
        region: "us-east-1".to_owned(),
        access_key_id: "preau-test".to_owned(),
        secret_access_key: "preau-test-secret".to_owned(),
        allow_http: true,
    }
}

#[test]
fn s3_settings_must_be_complete_and_the_secret_stays_out_of_debug() {
    let complete = s3_config("http://127.0.0.1:1", "preau");
    for incomplete in [
        S3Config { endpoint: String::new(), ..complete.clone() },
        S3Config { bucket: " ".to_owned(), ..complete.clone() },
        S3Config { access_key_id: String::new(), ..complete.clone() },
        S3Config { secret_access_key: String::new(), ..complete.clone() },
    ] {
        let error = FileStore::s3(&incomplete).unwrap_err();
        assert!(matches!(error, FileStoreError::Config(_)), "{error:?}");
    }
    assert!(!format!("{complete:?}").contains("preau-test-secret"));
}

/// An S3-compatible server on the loopback interface, stopped on drop when this test started it.
struct S3Server {
    endpoint: String,
    child: Option<Child>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

const HOW_TO_GET_MOTO: &str = "the S3 test needs an S3-compatible server on the loopback \
    interface: install moto with `pip install 'moto[server]'` (this test then starts \
    `moto_server` itself), or start `moto_server -H 127.0.0.1 -p 9074` and set \
    PREAU_TEST_S3_ENDPOINT=http://127.0.0.1:9074";

fn start_s3_server() -> S3Server {
    if let Ok(endpoint) = std::env::var("PREAU_TEST_S3_ENDPOINT") {
        let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
        assert!(
            loopback.iter().any(|prefix| endpoint.starts_with(prefix)),
            "PREAU_TEST_S3_ENDPOINT must be a loopback http address, not {endpoint}"
        );
        wait_for(&endpoint, None);
        return S3Server { endpoint, child: None };
    }

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run moto_server ({error}): {HOW_TO_GET_MOTO}"));
    let mut server = S3Server { endpoint: format!("http://127.0.0.1:{port}"), child: Some(child) };
    wait_for(&server.endpoint.clone(), server.child.as_mut());
    server
}

/// Waits up to 60 s for the server to accept connections.
fn wait_for(endpoint: &str, mut child: Option<&mut Child>) {
    let address = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(address).is_err() {
        if let Some(child) = child.as_deref_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!("moto_server stopped at once ({status}): {HOW_TO_GET_MOTO}");
        }
        assert!(Instant::now() < deadline, "no S3 server answers at {endpoint}: {HOW_TO_GET_MOTO}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Creates a bucket with a plain request (moto does not check signatures).
fn create_bucket(endpoint: &str, bucket: &str) {
    let address = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.lines().next().unwrap_or_default();
    assert!(status.contains(" 200"), "bucket creation at {endpoint} answered {status:?}");
}

#[tokio::test]
async fn s3_files_round_trip_against_a_loopback_server() {
    let server = start_s3_server();
    let bucket = format!("preau-test-{}", uuid_like());
    create_bucket(&server.endpoint, &bucket);

    let files = FileStore::s3(&s3_config(&server.endpoint, &bucket)).unwrap();
    round_trip(&files).await;

    let other = FileStore::s3(&s3_config(&server.endpoint, &format!("{bucket}-absent"))).unwrap();
    let error = other.put(&FileStore::new_key(), vec![1]).await.unwrap_err();
    assert!(matches!(error, FileStoreError::Backend(_)), "{error:?}");
    assert_eq!(error.to_string(), "Le stockage des fichiers est indisponible.");
}

#[tokio::test]
async fn an_unreachable_s3_server_is_a_backend_error() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let files = FileStore::s3(&s3_config(&format!("http://127.0.0.1:{port}"), "preau")).unwrap();
    let error = files.get(&FileStore::new_key()).await.unwrap_err();
    assert!(matches!(error, FileStoreError::Backend(_)), "{error:?}");
    assert!(std::error::Error::source(&error).is_some());
}

fn uuid_like() -> String {
    FileStore::new_key().to_lowercase()
}
