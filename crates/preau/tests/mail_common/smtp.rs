//! The real SMTP server of the e-mail tests: aiosmtpd on the loopback, which keeps what it
//! receives in a folder (`scripts/smtp_sink.py`). The test command starts it and names it in
//! `PREAU_TEST_SMTP` (address) and `PREAU_TEST_SMTP_DIR` (folder); without them, each test starts
//! its own with `python3 -m aiosmtpd`, and fails pointing to `scripts/test.sh` when it cannot.
//! Also reading what it received: the e-mails of one address, a header, the decoded text.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, scripts_dir};

/// How long a delivery may take before the test fails: a failure deadline, not a speed target.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The SMTP server a test talks to, and the folder where it keeps what it receives.
pub struct Smtp {
    address: String,
    folder: PathBuf,
    /// Set when this test started its own server (stopped when dropped).
    own: Option<(Child, tempfile::TempDir)>,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some((child, _)) = &mut self.own {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub async fn smtp() -> Smtp {
    if let (Ok(address), Ok(folder)) =
        (std::env::var("PREAU_TEST_SMTP"), std::env::var("PREAU_TEST_SMTP_DIR"))
    {
        return Smtp { address, folder: PathBuf::from(folder), own: None };
    }

    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("messages");
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let spawned = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &address, "-c", "smtp_sink.FolderSink"])
        .arg(&folder)
        .env("PYTHONPATH", scripts_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = spawned.unwrap_or_else(|error| {
        panic!("cannot run python3 for the SMTP server ({error}): run bash scripts/test.sh")
    });
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            return Smtp { address, folder, own: Some((child, dir)) };
        }
        if let Ok(Some(_)) = child.try_wait() {
            let mut errors = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut errors);
            }
            panic!(
                "`python3 -m aiosmtpd` does not start: install it (pip install aiosmtpd) or run \
                 bash scripts/test.sh, which does.\n{errors}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("aiosmtpd does not answer on {address}");
}

impl Smtp {
    /// The settings of a server that sends through this SMTP server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let (host, port) = self.address.rsplit_once(':').unwrap();
        vec![
            ("PREAU_SMTP_HOST", host.to_owned()),
            ("PREAU_SMTP_PORT", port.to_owned()),
            ("PREAU_SMTP_TLS", "none".to_owned()),
            ("PREAU_SMTP_FROM", "Préau <ne-pas-repondre@ent.example.fr>".to_owned()),
        ]
    }

    /// Every e-mail received for `address` so far, oldest first.
    pub fn received_for(&self, address: &str) -> Vec<String> {
        let wanted = format!("X-Envelope-To: {address}\r\n");
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&self.folder) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names.iter().filter_map(|path| read(path)).filter(|email| email.contains(&wanted)).collect()
    }

    /// Waits until `address` received `count` e-mails (fails after [`DEADLINE`]).
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<String> {
        let started = tokio::time::Instant::now();
        loop {
            let received = self.received_for(address);
            if received.len() >= count {
                return received;
            }
            assert!(started.elapsed() < DEADLINE, "{address}: {} e-mails", received.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// An address of its own for each test and recipient (the SMTP folder is shared).
pub fn unique_address(name: &str) -> String {
    format!("{name}.{}@familles.example.fr", store::new_id().replace('-', ""))
}

/// The value of a header of an e-mail.
pub fn header<'a>(email: &'a str, name: &str) -> Option<&'a str> {
    let head = email.split("\r\n\r\n").next()?;
    head.split("\r\n").find_map(|line| line.strip_prefix(name)?.strip_prefix(':')).map(str::trim)
}

/// The text of a single-part e-mail, its transfer encoding undone.
pub fn body_text(email: &str) -> String {
    let (_, body) = email.split_once("\r\n\r\n").unwrap();
    match header(email, "Content-Transfer-Encoding").unwrap_or("7bit") {
        "quoted-printable" => decode_quoted_printable(body),
        "7bit" | "8bit" => body.replace("\r\n", "\n"),
        other => panic!("unexpected transfer encoding {other}"),
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let mut bytes = Vec::new();
    let raw = text.replace("=\r\n", "");
    let raw = raw.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let hex = raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (raw[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                bytes.push(byte);
                i += 3;
            }
            (byte, _) => {
                bytes.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}
