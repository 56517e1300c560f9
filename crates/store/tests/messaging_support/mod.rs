//! Shared helpers of the messaging tests: the fixture département, send requests built from
//! recipient tokens, a plain send that must succeed, counting rows and a snapshot of every
//! messaging table (to assert that a refused act changed nothing).
#![allow(dead_code, unreachable_pub)]

use domain::communication::Recipient;
use sqlx::AssertSqlSafe;
use store::Store;
use store::messaging::{ComposeMode, SendOutcome, SendRequest};
use store::testing::TestStore;

/// A fresh database holding the fixture département.
pub async fn fixture() -> TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

/// A new message from `sender` to the recipient tokens (`p:<id>`, `class_parents:<id>`…).
pub fn request(sender: &str, tokens: &[&str], subject: &str, body: &str) -> SendRequest {
    SendRequest {
        sender_id: sender.to_owned(),
        idempotency_key: store::new_id(),
        recipients: tokens
            .iter()
            .map(|token| Recipient::parse(token).unwrap_or_else(|| panic!("token {token}")))
            .collect(),
        subject: subject.to_owned(),
        body_html: format!("<p>{body}</p>"),
        body_text: body.to_owned(),
        mode: ComposeMode::New,
        parent_id: None,
        attachment_ids: Vec::new(),
        draft_id: None,
    }
}

/// Sends a request that must go through; returns the message id and its recipients.
pub async fn send_ok(store: &Store, request: &SendRequest) -> (String, Vec<String>) {
    match store.send_message(request).await.unwrap() {
        Ok(SendOutcome::Sent { message_id, recipient_ids }) => (message_id, recipient_ids),
        other => panic!("send refused: {other:?}"),
    }
}

/// Sends a new message that must go through; returns its id.
pub async fn send(store: &Store, sender: &str, tokens: &[&str], subject: &str) -> String {
    send_ok(store, &request(sender, tokens, subject, "Bonjour.")).await.0
}

/// A number read with one query.
pub async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned()))
        .fetch_one(store.import_test_pool())
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// A number read with one query binding one text.
pub async fn count_for(store: &Store, sql: &str, param: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned()))
        .bind(param.to_owned())
        .fetch_one(store.import_test_pool())
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Runs a statement binding texts (for setting up a case).
pub async fn execute(store: &Store, sql: &str, params: &[&str]) {
    let mut query = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for param in params {
        query = query.bind(param.to_string());
    }
    query.execute(store.import_test_pool()).await.unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The texts of a one-column query.
pub async fn texts(store: &Store, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.to_owned()))
        .fetch_all(store.import_test_pool())
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Every row of the messaging tables (and the accounts' frozen flags and the audit actions),
/// as sorted texts.
pub async fn snapshot(store: &Store) -> Vec<String> {
    const QUERIES: [&str; 11] = [
        "SELECT 'm|' || id || '|' || COALESCE(CAST(recalled_at AS TEXT), '-') FROM messages",
        "SELECT 'r|' || id || '|' || recipient_ids FROM messages",
        "SELECT 'e|' || owner_id || '|' || message_id || '|' || folder || '|' || \
         CAST(unread AS TEXT) FROM mailbox_entries",
        "SELECT 'f|' || id || '|' || owner_id || '|' || name FROM mail_folders",
        "SELECT 'd|' || id || '|' || owner_id || '|' || subject || '|' || \
         CAST(updated_at AS TEXT) FROM drafts",
        "SELECT 'da|' || draft_id || '|' || attachment_id FROM draft_attachments",
        "SELECT 'a|' || id || '|' || owner_id FROM attachments",
        "SELECT 's|' || sender_id || '|' || idempotency_key || '|' || state FROM send_requests",
        "SELECT 'rep|' || id || '|' || COALESCE(CAST(handled_at AS TEXT), '-') \
         FROM message_reports",
        "SELECT 'acc|' || person_id || '|' || CAST(frozen AS TEXT) FROM accounts",
        "SELECT 'log|' || action || '|' || COALESCE(target_id, '-') FROM audit_log",
    ];
    let mut rows = Vec::new();
    for sql in QUERIES {
        rows.extend(texts(store, sql).await);
    }
    rows.push(format!("outbox|{}", count(store, "SELECT COUNT(*) FROM outbox").await));
    rows.sort();
    rows
}
