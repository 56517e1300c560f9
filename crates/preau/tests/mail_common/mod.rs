//! The harness of the messaging tests that run the real `preau serve` binary: a database on the
//! backend `PREAU_TEST_DATABASE` names, holding the fixture département, at a URL the binary can
//! open too; servers started, killed (`SIGKILL`) and stopped on loopback ports; sessions opened
//! by writing them with the store (the cookie then carries the id, the form the token); and a
//! small HTTP/1.1 client over a TCP stream, for forms, redirects and server-sent events.
#![allow(dead_code, unreachable_pub)]

pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub use store::fixtures::ids;

/// The name of the session cookie on a loopback base URL (secure cookies, `__Host-` prefix).
pub const SESSION_COOKIE: &str = "__Host-preau_session";

/// A migrated database holding the fixture, and the URL the binary opens it with.
pub struct Db {
    pub url: String,
    pub store: store::Store,
    /// The SQLite file's folder, or a folder for the servers' files on PostgreSQL.
    pub dir: tempfile::TempDir,
}

/// A new database on the backend of `PREAU_TEST_DATABASE` (a temporary SQLite file by
/// default), with the fixture loaded. A PostgreSQL database is named `preau_t_…`, like those of
/// `store::testing`, so that the test command drops it.
pub async fn fixture_db() -> Db {
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

impl Db {
    pub fn is_postgres(&self) -> bool {
        self.store.backend() == store::Backend::Postgres
    }
}

/// A running `preau serve`.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

/// A free port on the loopback (bound, then released for the server to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    /// Starts `preau serve` on the database with these extra `PREAU_*` settings, and waits
    /// until `/healthz` answers.
    pub async fn start(db: &Db, name: &str, env: &[(&str, String)]) -> Server {
        let port = free_port();
        let data = db.dir.path().join(format!("data-{name}"));
        let log = db.dir.path().join(format!("{name}-{port}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_preau"));
        command.arg("serve").current_dir(db.dir.path()).env_remove("RUST_LOG");
        for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("PREAU_")) {
            command.env_remove(key);
        }
        command
            .env("PREAU_DATABASE_URL", &db.url)
            .env("PREAU_DATA_DIR", &data)
            .env("PREAU_LISTEN", format!("127.0.0.1:{port}"))
            .env("PREAU_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("PREAU_LOG_FORMAT", "json")
            .env("PREAU_WORKER_POLL_INTERVAL", "1s")
            .env("RUST_LOG", "info");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = std::fs::File::create(&log).unwrap();
        command.stdout(Stdio::null()).stderr(Stdio::from(output));
        let child = command.spawn().expect("start preau serve");
        let mut server = Server { child, port, log };

        for _ in 0..400 {
            if let Ok(reply) = server.get("/healthz", None).await
                && reply.status == 200
            {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("preau serve stopped ({status}):\n{}", server.logs());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("preau serve does not answer:\n{}", server.logs());
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the server's log holds `needle` (fails after `deadline`).
    pub async fn wait_for_log(&self, needle: &str, deadline: Duration) {
        let started = tokio::time::Instant::now();
        while !self.logs().contains(needle) {
            assert!(started.elapsed() < deadline, "never logged {needle:?}:\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `kill -9`: the process stops at once, whatever it was doing.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "preau serve did not stop cleanly ({exit}):\n{}", self.logs());
    }

    /// A client of this server, for another task.
    pub fn client(&self) -> Client {
        Client { port: self.port }
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> std::io::Result<Reply> {
        self.client().get(path, session).await
    }

    pub async fn post_form(
        &self,
        path: &str,
        session: &Session,
        fields: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        self.client().post_form(path, session, fields).await
    }

    pub async fn post_urlencoded(
        &self,
        path: &str,
        session: &Session,
        fields: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        self.client().post_urlencoded(path, session, fields).await
    }

    pub async fn send(
        &self,
        session: &Session,
        key: &str,
        recipients: &[&str],
        subject: &str,
        body: &str,
    ) -> std::io::Result<Reply> {
        self.client().send(session, key, recipients, subject, body).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Requests to a server by its port: cheap to copy into tasks.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub port: u16,
}

impl Client {
    pub async fn get(&self, path: &str, session: Option<&Session>) -> std::io::Result<Reply> {
        let cookie = session.map(Session::cookie);
        request(self.port, "GET", path, cookie.as_deref(), None).await
    }

    /// A multipart POST of a form, as a browser of this site sends it.
    pub async fn post_form(
        &self,
        path: &str,
        session: &Session,
        fields: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        let body = Multipart::new(fields);
        let cookie = session.cookie();
        request(self.port, "POST", path, Some(&cookie), Some((&body.content_type(), &body.bytes)))
            .await
    }

    /// An urlencoded POST of a form (the actions on a message).
    pub async fn post_urlencoded(
        &self,
        path: &str,
        session: &Session,
        fields: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        let body: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        let body = body.join("&");
        let cookie = session.cookie();
        let form = ("application/x-www-form-urlencoded", body.as_bytes());
        request(self.port, "POST", path, Some(&cookie), Some(form)).await
    }

    /// Sends a message through the compose form with the given idempotency key.
    pub async fn send(
        &self,
        session: &Session,
        key: &str,
        recipients: &[&str],
        subject: &str,
        body: &str,
    ) -> std::io::Result<Reply> {
        let mut fields = vec![
            ("csrf_token", session.csrf.as_str()),
            ("cle", key),
            ("sujet", subject),
            ("corps", body),
        ];
        fields.extend(recipients.iter().map(|token| ("dest", *token)));
        fields.push(("envoyer", "1"));
        self.post_form("/messagerie/ecrire", session, &fields).await
    }
}

/// A session written straight into the database.
#[derive(Debug, Clone)]
pub struct Session {
    pub person_id: String,
    pub id: String,
    pub csrf: String,
}

impl Session {
    pub fn cookie(&self) -> String {
        format!("{SESSION_COOKIE}={}", self.id)
    }
}

/// Activates the person's account (any password hash: nobody logs in with it) and opens a
/// session for them.
pub async fn session(store: &store::Store, person_id: &str) -> Session {
    store.change_password(person_id, "$argon2id$unused", None).await.unwrap();
    let id = format!("s{}", store::new_id().replace('-', ""));
    let csrf = format!("c{}", store::new_id().replace('-', ""));
    let hash = hex::encode(Sha256::digest(id.as_bytes()));
    let now = store::now_unix();
    store.create_session(&hash, person_id, &csrf, now, now + 12 * 3600).await.unwrap();
    // Administrators owe a second factor: these sessions stand for a completed login.
    store.mark_second_factor(&hash, now).await.unwrap();
    Session { person_id: person_id.to_owned(), id, csrf }
}

/// Percent-encodes a form value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A multipart/form-data body.
pub struct Multipart {
    boundary: String,
    pub bytes: Vec<u8>,
}

impl Multipart {
    pub fn new(fields: &[(&str, &str)]) -> Multipart {
        let boundary = format!("preau-test-{}", store::new_id());
        let mut bytes = Vec::new();
        for (name, value) in fields {
            bytes.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n\
                     {value}\r\n"
                )
                .as_bytes(),
            );
        }
        bytes.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Multipart { boundary, bytes }
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The message id a successful send redirects to (`/messagerie/messages/<id>?…`).
    pub fn sent_message_id(&self) -> Option<String> {
        let location = self.header("location")?;
        let rest = location.strip_prefix("/messagerie/messages/")?;
        Some(rest.split(['?', '#']).next().unwrap_or(rest).to_owned())
    }
}

/// One request on a new connection (`Connection: close`), read to its end. The headers are
/// those of a same-origin form submission.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Origin: http://127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\n"
    );
    if let Some(cookie) = cookie {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if let Some((content_type, bytes)) = body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if let Some((_, bytes)) = body {
        stream.write_all(bytes).await?;
    }

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let broken = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated response");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(broken)?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(broken)?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(broken)?;
    }
    Ok(Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// A server-sent events stream read as it comes (`GET /messagerie/evenements`).
pub struct EventStream {
    reader: BufReader<TcpStream>,
    /// Decoded bytes not yet cut into events.
    pending: String,
    chunked: bool,
}

impl EventStream {
    /// Opens the stream; panics unless the server answers 200 with `text/event-stream`.
    pub async fn open(port: u16, session: &Session) -> EventStream {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let head = format!(
            "GET /messagerie/evenements HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Accept: text/event-stream\r\nCookie: {}\r\n\r\n",
            session.cookie()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).await.unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "event stream refused: {status}");
        let mut chunked = false;
        let mut event_stream = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            chunked |= line.starts_with("transfer-encoding:") && line.contains("chunked");
            event_stream |= line.starts_with("content-type:") && line.contains("text/event-stream");
        }
        assert!(event_stream, "not an event stream");
        EventStream { reader, pending: String::new(), chunked }
    }

    /// The next event of this name, as (event, data); `None` when `deadline` passes first
    /// (a failure deadline: the caller asserts on it).
    pub async fn next_event(&mut self, name: &str, deadline: Duration) -> Option<String> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            while let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let mut event = "message".to_owned();
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.trim().to_owned());
                    }
                }
                if event == name {
                    return Some(data.join("\n"));
                }
            }
            let more = tokio::time::timeout_at(until, self.read_more()).await.ok()?;
            if !more {
                return None;
            }
        }
    }

    /// Reads the next piece of the body; `false` at its end.
    async fn read_more(&mut self) -> bool {
        if self.chunked {
            let mut size_line = String::new();
            if self.reader.read_line(&mut size_line).await.unwrap_or(0) == 0 {
                return false;
            }
            let Ok(size) =
                usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
            else {
                return false;
            };
            if size == 0 {
                return false;
            }
            let mut chunk = vec![0u8; size + 2];
            if self.reader.read_exact(&mut chunk).await.is_err() {
                return false;
            }
            self.pending.push_str(&String::from_utf8_lossy(&chunk[..size]).replace("\r\n", "\n"));
            true
        } else {
            let mut buffer = [0u8; 4096];
            match self.reader.read(&mut buffer).await {
                Ok(0) | Err(_) => false,
                Ok(n) => {
                    self.pending
                        .push_str(&String::from_utf8_lossy(&buffer[..n]).replace("\r\n", "\n"));
                    true
                }
            }
        }
    }
}

/// The repository's `scripts` folder (the SMTP sink's handler lives there).
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts")
}
