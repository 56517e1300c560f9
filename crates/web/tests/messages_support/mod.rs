//! What the messaging tests share: an application whose attachments live in a temporary
//! folder, multipart bodies as a browser sends them, reading hidden fields back from a page,
//! sending a message through the compose form, and a count of the rows of every messaging table
//! to show that a refused request changed nothing.
#![allow(dead_code, unreachable_pub, unused_imports)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

pub use crate::common::*;

pub struct MailApp {
    pub app: App,
    pub files: tempfile::TempDir,
}

impl std::ops::Deref for MailApp {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// The fixture département behind a router whose attachments go to a temporary folder.
pub async fn mail_app() -> MailApp {
    mail_app_with(config()).await
}

pub async fn mail_app_with(config: web::WebConfig) -> MailApp {
    let files = tempfile::tempdir().unwrap();
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    let config = web::WebConfig { files_dir: files.path().to_path_buf(), ..config };
    let router = web::router(store.store.clone(), config);
    MailApp { app: App { router, store }, files }
}

const BOUNDARY: &str = "----preau-test-boundary-7MA4YWxkTrZu0gW";

/// A file of a multipart form: field name is `fichier`.
pub struct File<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
    pub content_type: &'a str,
}

/// A `multipart/form-data` body of text fields and at most one file.
pub fn multipart(fields: &[(&str, &str)], file: Option<&File<'_>>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    if let Some(file) = file {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"fichier\"; filename=\"{}\"\r\n\
                 Content-Type: {}\r\n\r\n",
                file.name, file.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl MailApp {
    /// Posts a multipart form to the compose route as a same-origin browser would.
    pub async fn post_compose(
        &self,
        cookie: &str,
        fields: &[(&str, &str)],
        file: Option<&File<'_>>,
    ) -> Reply {
        self.post_multipart("/messagerie/ecrire", cookie, &[], multipart(fields, file)).await
    }

    pub async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .header(header::COOKIE, cookie);
        let cross = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("sec-fetch-site"));
        if !cross {
            request = request.header("sec-fetch-site", "same-origin");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Opens the compose page (with a query) and returns it with its form token and key.
    pub async fn open_compose(&self, cookie: &str, query: &str) -> (Reply, String, String) {
        let page = self.get(&format!("/messagerie/ecrire{query}"), Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = hidden_token(&page.body);
        let key = field_value(&page.body, "cle");
        (page, csrf, key)
    }

    /// Sends a new message through the form; returns the reply (303 to the message on success).
    pub async fn send_message(
        &self,
        cookie: &str,
        recipients: &[&str],
        subject: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let (_, csrf, key) = self.open_compose(cookie, "").await;
        let mut fields: Vec<(&str, &str)> = vec![
            ("csrf_token", &csrf),
            ("cle", &key),
            ("mode", "new"),
            ("sujet", subject),
            ("corps", body),
            ("format", "texte"),
        ];
        for token in recipients {
            fields.push(("dest", token));
        }
        fields.extend_from_slice(extra);
        fields.push(("envoyer", "1"));
        self.post_compose(cookie, &fields, None).await
    }

    /// Rows of one text-only query (`store`'s test support).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.store.rules_test_rows(sql).await.unwrap()
    }

    /// How many rows each messaging table holds.
    pub async fn snapshot(&self) -> Vec<(&'static str, String)> {
        let mut counts = Vec::new();
        for table in [
            "messages",
            "mailbox_entries",
            "mail_folders",
            "drafts",
            "attachments",
            "draft_attachments",
            "message_attachments",
            "send_requests",
            "outbox",
            "message_reports",
            "communication_rules",
        ] {
            let rows = self.rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await;
            counts.push((table, rows[0][0].clone().unwrap_or_default()));
        }
        counts
    }

    /// The files stored in the attachment folder, by name.
    pub fn stored_files(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut pending = vec![self.files.path().to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_dir() {
                    pending.push(entry.path());
                } else {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        names
    }
}

/// The value of the first field named `name` of a page.
pub fn field_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let at = body.find(&marker).unwrap_or_else(|| panic!("a field {name}"));
    let tag_start = body[..at].rfind('<').unwrap();
    let tag_end = at + body[at..].find('>').unwrap();
    let tag = &body[tag_start..tag_end];
    let start = tag.find("value=\"").unwrap_or_else(|| panic!("a value for {name}")) + 7;
    tag[start..].split('"').next().unwrap().to_owned()
}

/// The message id of a `/messagerie/messages/{id}?…` location.
pub fn message_id(location: &str) -> String {
    let rest = location.strip_prefix("/messagerie/messages/").expect("a message location");
    rest.split('?').next().unwrap().to_owned()
}

/// The draft id of a `/messagerie/ecrire?brouillon={id}&…` location.
pub fn draft_id(location: &str) -> String {
    let rest = location.strip_prefix("/messagerie/ecrire?brouillon=").expect("a draft location");
    rest.split('&').next().unwrap().to_owned()
}

/// The part of a page between two markers (both must be there).
pub fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body.find(start).unwrap_or_else(|| panic!("{start} in page")) + start.len();
    let to = body[from..].find(end).unwrap_or_else(|| panic!("{end} in page")) + from;
    &body[from..to]
}

/// The next event of an open server-sent event stream, within a failure deadline.
pub async fn next_event(body: &mut Body) -> String {
    use http_body_util::BodyExt;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
            .await
            .expect("an event in time")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    text
}
