//! The secure messaging, from the point of view of one person: the types a mailbox is read and
//! written through, and the helpers its submodules share. `send` is the one transaction of a
//! send and its idempotency key; `mailbox` the folders, pages, opening, moving, the trash and the
//! full-text search; `drafts` the drafts and the reply, reply-all and forward forms;
//! `attachments` the metadata of uploaded files (their bytes live in `files::FileStore`);
//! `moderation` the recall, the kill switch and the reports. Every query takes the acting
//! person and filters on them in its SQL: what is not theirs is [`crate::StoreError::NotFound`].

mod attachments;
mod drafts;
mod mailbox;
mod moderation;
mod send;

pub(crate) use send::SendQueue;

use domain::communication::Recipient;
use sqlx::Row;
use sqlx::any::AnyRow;

pub use drafts::{MAX_DRAFT_RECIPIENTS, MAX_DRAFTS};
pub use mailbox::{MAX_FOLDER_NAME_CHARS, MAX_FOLDERS};
pub use moderation::MAX_REPORT_REASON_BYTES;

use crate::directory::{PersonRef, person_ref};
use crate::{Backend, StoreResult};

/// How many messages a folder or search page holds.
pub const PAGE_SIZE: i64 = 25;

/// How many characters of the plain-text body a list shows.
const SNIPPET_CHARS: usize = 160;

/// The most messages one action (mark read, move) changes at once.
pub const MAX_BATCH: usize = 200;

/// A folder of a mailbox. The drafts are kept apart (the `drafts` table), the other folders
/// are places of mailbox entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Folder {
    Inbox,
    Sent,
    Drafts,
    Trash,
    /// One of the owner's own folders, by id.
    Custom(String),
}

impl Folder {
    /// The folder as URLs name it: `reception`, `envoyes`, `brouillons`, `corbeille`, or the
    /// id of an own folder.
    pub fn slug(&self) -> String {
        match self {
            Folder::Inbox => "reception".to_owned(),
            Folder::Sent => "envoyes".to_owned(),
            Folder::Drafts => "brouillons".to_owned(),
            Folder::Trash => "corbeille".to_owned(),
            Folder::Custom(id) => id.clone(),
        }
    }

    /// Parses a slug back; an own folder's id is taken as is when it looks like an id
    /// (whether it is the viewer's is checked by each query).
    pub fn parse(slug: &str) -> Option<Folder> {
        match slug {
            "reception" => Some(Folder::Inbox),
            "envoyes" => Some(Folder::Sent),
            "brouillons" => Some(Folder::Drafts),
            "corbeille" => Some(Folder::Trash),
            _ if is_id(slug) => Some(Folder::Custom(slug.to_owned())),
            _ => None,
        }
    }

    /// The value of `mailbox_entries.folder` (`None` for the drafts, which are no entries).
    pub(crate) fn stored(&self) -> Option<&str> {
        match self {
            Folder::Inbox => Some("inbox"),
            Folder::Sent => Some("sent"),
            Folder::Trash => Some("trash"),
            Folder::Custom(id) => Some(id),
            Folder::Drafts => None,
        }
    }

    /// The folder a stored `mailbox_entries.folder` names.
    pub(crate) fn from_stored(value: &str) -> Folder {
        match value {
            "inbox" => Folder::Inbox,
            "sent" => Folder::Sent,
            "trash" => Folder::Trash,
            other => Folder::Custom(other.to_owned()),
        }
    }

    /// The French name of a standard folder (an own folder's name is stored with it).
    pub fn standard_name(&self) -> Option<&'static str> {
        match self {
            Folder::Inbox => Some("Boîte de réception"),
            Folder::Sent => Some("Messages envoyés"),
            Folder::Drafts => Some("Brouillons"),
            Folder::Trash => Some("Corbeille"),
            Folder::Custom(_) => None,
        }
    }
}

/// Whether `text` can be one of our identifiers (UUIDs and the fixture's ids): 1 to 64
/// characters of `[A-Za-z0-9._-]`.
pub(crate) fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A folder in the folder list, with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    pub folder: Folder,
    pub name: String,
    pub unread: i64,
    pub total: i64,
}

/// A message as a folder page or a search lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    pub id: String,
    pub sender: PersonRef,
    pub subject: String,
    /// The first characters of the plain-text body.
    pub snippet: String,
    /// The recipients as the sender chose them, labels joined with ", ".
    pub recipients: String,
    pub created_at: i64,
    pub unread: bool,
    pub has_attachments: bool,
    pub recalled: bool,
    pub folder: Folder,
}

/// One page of a folder or of a search, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxPage {
    pub messages: Vec<MessageSummary>,
    /// How many messages the folder (or the search) holds in all.
    pub total: i64,
    /// The page shown, from 1.
    pub page: i64,
    pub page_size: i64,
}

/// An attachment as a message or a draft lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRef {
    pub id: String,
    pub display_name: String,
    pub content_type: String,
    pub size_bytes: i64,
}

/// An attachment with where its bytes are, for a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub id: String,
    pub display_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
}

/// What an upload recorded: the caller has checked the bytes (type by content, size) and
/// stored them under `storage_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// Already sanitised (`domain::files::display_name`).
    pub display_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub storage_key: String,
}

/// A message opened by one person of its mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub id: String,
    pub thread_id: String,
    pub parent_id: Option<String>,
    pub sender: PersonRef,
    pub subject: String,
    pub body_html: String,
    pub body_text: String,
    /// `(token, label)` as the sender chose them.
    pub recipients: Vec<(String, String)>,
    pub attachments: Vec<AttachmentRef>,
    pub created_at: i64,
    pub folder: Folder,
    /// Whether the viewer's copy is the sender's (else a received one).
    pub origin_sent: bool,
    pub recalled_at: Option<i64>,
    /// The other messages of the thread in the viewer's mailbox, oldest first.
    pub thread: Vec<MessageSummary>,
    /// Whether the viewer sent it and it is not recalled.
    pub can_recall: bool,
}

/// What a compose form does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComposeMode {
    New,
    Reply,
    ReplyAll,
    Forward,
}

impl ComposeMode {
    /// The stable code stored in drafts and carried by forms.
    pub fn code(self) -> &'static str {
        match self {
            ComposeMode::New => "new",
            ComposeMode::Reply => "reply",
            ComposeMode::ReplyAll => "reply_all",
            ComposeMode::Forward => "forward",
        }
    }

    /// Parses a code back; `None` for anything else.
    pub fn parse(code: &str) -> Option<ComposeMode> {
        [ComposeMode::New, ComposeMode::Reply, ComposeMode::ReplyAll, ComposeMode::Forward]
            .into_iter()
            .find(|mode| mode.code() == code)
    }
}

/// A draft as the compose form shows it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// Empty for a draft prefilled by [`crate::Store::compose_from`] and not saved yet.
    pub id: String,
    pub subject: String,
    pub body_html: String,
    pub recipients: Vec<Recipient>,
    /// `(token, label)` of each recipient, in the order of `recipients`: a person is named
    /// only when the owner may write to them, a group by its target's name.
    pub recipient_labels: Vec<(String, String)>,
    pub mode: ComposeMode,
    pub parent_id: Option<String>,
    pub idempotency_key: String,
    pub attachments: Vec<AttachmentRef>,
    pub updated_at: i64,
}

/// What a save of the compose form writes. `id: None` creates a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftInput {
    pub id: Option<String>,
    pub subject: String,
    pub body_html: String,
    pub recipients: Vec<Recipient>,
    pub mode: ComposeMode,
    pub parent_id: Option<String>,
    /// The key drawn when the compose window opened; a fresh one is drawn when empty.
    pub idempotency_key: String,
}

/// A send as the compose form submits it. The sender comes from the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub sender_id: String,
    pub idempotency_key: String,
    pub recipients: Vec<Recipient>,
    pub subject: String,
    /// Already sanitised by the caller (`formats::rich_text::sanitize`).
    pub body_html: String,
    pub body_text: String,
    pub mode: ComposeMode,
    pub parent_id: Option<String>,
    pub attachment_ids: Vec<String>,
    /// The draft this send came from, deleted with the send.
    pub draft_id: Option<String>,
}

/// A send that went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Sent now, to these people (the sender excluded).
    Sent { message_id: String, recipient_ids: Vec<String> },
    /// The same request was sent before with this key: its message.
    Replayed { message_id: String },
}

/// Why a send was refused. Nothing of a refused send stays in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    /// The same key is being sent right now (409).
    InProgress,
    /// The key was used for another message (422).
    KeyReused,
    /// The communication rules refuse a recipient.
    Rules(crate::rules::RuleRefusal),
    /// More people than the sender's profile may reach at once.
    TooManyRecipients { max: usize },
    /// The sender's hourly quota is used (429).
    RateLimited { retry_after_secs: i64 },
    /// The sender's account is frozen (or gone).
    Frozen,
    /// An attachment is not the sender's, not of the forwarded message, or too many.
    BadAttachment,
    /// The message replied to or forwarded is not in the sender's mailbox.
    BadParent,
    /// The subject is empty once cleaned.
    EmptySubject,
}

/// A report as the school's administrators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportView {
    pub id: String,
    pub message_id: String,
    /// The school whose administrators receive it ('' for the département's).
    pub school_id: String,
    pub reporter: PersonRef,
    pub sender: PersonRef,
    pub subject: String,
    pub body_text: String,
    pub reason: String,
    pub created_at: i64,
    pub message_created_at: i64,
    pub handled_at: Option<i64>,
    pub recalled_at: Option<i64>,
}

/// A text field as stored: characters that have no place in it (controls, NUL, bidi
/// overrides, zero-width) removed, white space trimmed.
pub(crate) fn clean_line(text: &str) -> String {
    // A line break between two words becomes a space rather than gluing them together.
    let spaced = text
        .chars()
        .map(|c| if matches!(c, '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}') { ' ' } else { c });
    let kept: String = spaced.filter(|c| !domain::names::is_forbidden(*c)).collect();
    kept.trim().to_owned()
}

/// A multi-line text as stored: NUL (refused by PostgreSQL) removed, the rest kept.
pub(crate) fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

/// `$first, $first+1, …` for `count` parameters, for an `IN (…)` list.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Distinct identifiers in their first order, at most [`MAX_BATCH`], dropping anything that
/// cannot be an id, for an `IN (…)` list: padded with the last one to a power of two, so that
/// lists of any length fall into a few statements that each connection prepares once.
pub(crate) fn batch_ids(ids: &[String]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut batch: Vec<String> = ids
        .iter()
        .filter(|id| is_id(id) && seen.insert(id.as_str()))
        .take(MAX_BATCH)
        .cloned()
        .collect();
    if let Some(last) = batch.last().cloned() {
        batch.resize(batch.len().next_power_of_two(), last);
    }
    batch
}

/// The strings of the JSON array bound as `$parameter`, as the rows of a table `alias` with
/// one column `value`, in `backend`'s dialect, for a `FROM` or a `JOIN`. A list of ids goes
/// as one such value (a send's recipients): some ninety values bound one by one cost SQLite's
/// driver a scan of the statement's parameters for each (`sqlite3_bind_parameter_name`),
/// about a tenth of the writer's time.
pub(crate) fn json_strings(backend: Backend, parameter: usize, alias: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each(${parameter}) AS {alias}"),
        Backend::Postgres => {
            format!("json_array_elements_text(${parameter}::json) AS {alias}(value)")
        }
    }
}

/// A message's recipients (`column`, its `recipient_ids`) as bytes, for
/// [`parse_recipient_ids`]: whatever a hand edit stored there (on SQLite a blob, or text that
/// is not UTF-8) is then read, not refused by the driver.
pub(crate) fn recipient_list_bytes(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("CAST({column} AS BLOB)"),
        Backend::Postgres => format!("convert_to({column}, 'UTF8')"),
    }
}

/// A message's recipients as stored (`messages.recipient_ids`, a JSON array of person ids),
/// sorted and distinct. Only what can be an id is read: a value that is not an array (a row
/// edited by hand) gives none, an element that is not a string of at most 256 bytes without
/// control characters (PostgreSQL refuses NUL in a text) is left out, so that no reader of the
/// list fails on it nor reads it differently from another.
pub(crate) fn parse_recipient_ids(json: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Array(values)) = serde_json::from_slice(json) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = values
        .into_iter()
        .filter_map(|value| match value {
            serde_json::Value::String(id)
                if !id.is_empty() && id.len() <= 256 && !id.chars().any(char::is_control) =>
            {
                Some(id)
            }
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The stored recipient labels of a message: a JSON array of `{"token", "label"}`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct StoredLabel {
    pub(crate) token: String,
    pub(crate) label: String,
}

/// Reads the stored labels of a message (an unreadable value gives none).
pub(crate) fn parse_labels(json: &str) -> Vec<(String, String)> {
    serde_json::from_str::<Vec<StoredLabel>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|l| (l.token, l.label))
        .collect()
}

/// The page number asked, from 1, bounded so that an offset never overflows.
pub(crate) fn page_number(page: i64) -> i64 {
    page.clamp(1, 100_000)
}

/// `page` for a listing of `total` messages: a page past the last one is the last one (a
/// page emptied by a move, or a number typed by hand, still shows messages and the way back).
pub(crate) fn page_within(page: i64, total: i64) -> i64 {
    let last = (total.max(0) + PAGE_SIZE - 1) / PAGE_SIZE;
    page_number(page).min(last.max(1))
}

/// The columns [`summary`] reads, for a query over `mailbox_entries e`, `messages m` and the
/// sender `p`.
pub(crate) const SUMMARY_COLUMNS: &str = "e.message_id, e.unread, e.folder, e.created_at, \
     m.subject, SUBSTR(m.body_text, 1, 200) AS snippet, m.recipients_label, m.recalled_at, \
     p.id, p.last_name, p.first_name, p.profile, \
     CASE WHEN EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.message_id = m.id) \
       THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS has_attachments";

/// A row of [`SUMMARY_COLUMNS`] as a summary.
pub(crate) fn summary(row: &AnyRow) -> StoreResult<MessageSummary> {
    let labels: String = row.try_get("recipients_label")?;
    let snippet: String = row.try_get("snippet")?;
    let unread: i64 = row.try_get("unread")?;
    let has_attachments: i64 = row.try_get("has_attachments")?;
    let recalled_at: Option<i64> = row.try_get("recalled_at")?;
    let folder: String = row.try_get("folder")?;
    Ok(MessageSummary {
        id: row.try_get("message_id")?,
        sender: person_ref(row)?,
        subject: row.try_get("subject")?,
        snippet: snippet_of(&snippet),
        recipients: parse_labels(&labels)
            .into_iter()
            .map(|(_, label)| label)
            .collect::<Vec<_>>()
            .join(", "),
        created_at: row.try_get("created_at")?,
        unread: unread != 0,
        has_attachments: has_attachments != 0,
        recalled: recalled_at.is_some(),
        folder: Folder::from_stored(&folder),
    })
}

/// The start of a plain text on one line, at most [`SNIPPET_CHARS`] characters.
pub(crate) fn snippet_of(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// Text made safe to place inside HTML (element content or a quoted attribute).
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_slugs_round_trip() {
        for folder in [
            Folder::Inbox,
            Folder::Sent,
            Folder::Drafts,
            Folder::Trash,
            Folder::Custom("0190-abc".to_owned()),
        ] {
            assert_eq!(Folder::parse(&folder.slug()), Some(folder));
        }
        assert_eq!(Folder::parse("../x"), None);
        assert_eq!(Folder::parse(""), None);
    }

    #[test]
    fn lines_lose_controls_and_bidi() {
        assert_eq!(clean_line(" a\u{0}b\u{202E}c\n "), "abc");
        assert_eq!(escape_html("<a href=\"x\">'&"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
        assert_eq!(truncate_bytes("éé", 3), "é");
        assert_eq!(snippet_of("a\n\n b"), "a b");
        assert_eq!(snippet_of(&"x".repeat(200)).chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn batches_keep_ids_only_once() {
        let ids = vec!["a".to_owned(), "b".to_owned(), "a".to_owned(), "x y".to_owned()];
        assert_eq!(batch_ids(&ids), ["a", "b"]);
        let three: Vec<String> = ["a", "b", "c"].map(str::to_owned).to_vec();
        assert_eq!(batch_ids(&three), ["a", "b", "c", "c"]);
        assert!(batch_ids(&["x y".to_owned()]).is_empty());
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }
}
