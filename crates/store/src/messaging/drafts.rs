//! Drafts: saved as the compose form is typed (created, then updated by id), listed, opened,
//! deleted (and deleted by the send that uses them); the labels of their recipients; and the
//! forms a reply, a reply to all or a forward start from (subject `Re:`/`Tr:`, quoted body,
//! recipients, forwarded attachments). A draft that is not the owner's is `NotFound`.

use std::collections::BTreeMap;

use domain::communication::{
    GroupKind, MAX_BODY_BYTES, MAX_SUBJECT_BYTES, MAX_SUBJECT_CHARS, Recipient,
};
use sqlx::Row;

use super::{
    AttachmentRef, ComposeMode, Draft, DraftInput, Folder, MAX_BATCH, MailboxPage, MessageSummary,
    PAGE_SIZE, batch_ids, clean_line, escape_html, is_id, parse_labels, placeholders, snippet_of,
    truncate_bytes, without_nul,
};
use crate::directory::{PersonRef, person_ref};
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// The most drafts one person keeps.
pub const MAX_DRAFTS: i64 = 500;

/// The most recipient tokens a draft keeps.
pub const MAX_DRAFT_RECIPIENTS: usize = 500;

/// What a recipient that cannot be named is shown as.
const UNKNOWN_RECIPIENT: &str = "Destinataire inconnu";

/// Whether an idempotency key is one we keep: 1 to 128 visible ASCII characters.
pub(crate) fn is_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 128 && key.bytes().all(|b| b.is_ascii_graphic())
}

/// A date as the quoted header of a reply shows it, in Europe/Paris.
fn quoted_date(unix: i64) -> String {
    let Ok(timestamp) = jiff::Timestamp::from_second(unix) else { return String::new() };
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    timestamp.to_zoned_datetime(zone).strftime("%d/%m/%Y à %H:%M").to_string()
}

/// `Re: subject` or `Tr: subject`, without doubling the prefix, within the subject cap.
fn prefixed(prefix: &str, subject: &str) -> String {
    let already =
        subject.get(..prefix.len()).is_some_and(|start| start.eq_ignore_ascii_case(prefix));
    let full = if already { subject.to_owned() } else { format!("{prefix} {subject}") };
    let chars: String = full.chars().take(MAX_SUBJECT_CHARS).collect();
    truncate_bytes(&chars, MAX_SUBJECT_BYTES).to_owned()
}

fn full_name(person: &PersonRef) -> String {
    format!("{} {}", person.first_name, person.last_name)
}

impl Store {
    /// Saves the compose form: creates a draft (`id: None`) or updates the owner's draft.
    /// Returns the draft's id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a draft, or a message replied to, not the owner's;
    /// [`StoreError::Conflict`] (French) for an overlong subject or body, too many recipients
    /// or too many drafts.
    pub async fn save_draft(&self, owner_id: &str, draft: &DraftInput) -> StoreResult<String> {
        let subject = clean_line(&draft.subject);
        if subject.chars().count() > MAX_SUBJECT_CHARS || subject.len() > MAX_SUBJECT_BYTES {
            return Err(StoreError::Conflict(format!(
                "L'objet ne peut dépasser {MAX_SUBJECT_CHARS} caractères."
            )));
        }
        let body = without_nul(&draft.body_html);
        if body.len() > MAX_BODY_BYTES {
            return Err(StoreError::Conflict("Le message est trop long.".to_owned()));
        }
        if draft.recipients.len() > MAX_DRAFT_RECIPIENTS {
            return Err(StoreError::Conflict("Trop de destinataires.".to_owned()));
        }
        let tokens: Vec<String> = draft.recipients.iter().map(Recipient::token).collect();
        let tokens = serde_json::to_string(&tokens).unwrap_or_else(|_| "[]".to_owned());
        let parent = match (draft.mode, &draft.parent_id) {
            (ComposeMode::New, _) => None,
            (_, Some(parent)) if self.in_mailbox(owner_id, parent).await? => Some(parent.clone()),
            _ => return Err(StoreError::NotFound),
        };
        let now = now_unix();

        if let Some(id) = &draft.id {
            let updated = sqlx::query(
                "UPDATE drafts SET subject = $3, body_html = $4, recipients = $5, mode = $6, \
                 parent_id = $7, updated_at = $8 WHERE id = $1 AND owner_id = $2",
            )
            .bind(id)
            .bind(owner_id)
            .bind(&subject)
            .bind(&body)
            .bind(&tokens)
            .bind(draft.mode.code())
            .bind(&parent)
            .bind(now)
            .execute(self.pool())
            .await?
            .rows_affected();
            return if updated == 1 { Ok(id.clone()) } else { Err(StoreError::NotFound) };
        }

        let key =
            if is_key(&draft.idempotency_key) { draft.idempotency_key.clone() } else { new_id() };
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO drafts (id, owner_id, subject, body_html, recipients, mode, parent_id, \
             idempotency_key, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9 \
             WHERE (SELECT COUNT(*) FROM drafts WHERE owner_id = $2) < $10",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&subject)
        .bind(&body)
        .bind(&tokens)
        .bind(draft.mode.code())
        .bind(&parent)
        .bind(&key)
        .bind(now)
        .bind(MAX_DRAFTS)
        .execute(self.pool())
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "Vous avez déjà {MAX_DRAFTS} brouillons : supprimez-en avant d'en créer un autre."
            )));
        }
        Ok(id)
    }

    /// One of the owner's drafts.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is not theirs.
    pub async fn draft(&self, owner_id: &str, draft_id: &str) -> StoreResult<Draft> {
        let row = sqlx::query(
            "SELECT id, subject, body_html, recipients, mode, parent_id, idempotency_key, \
             updated_at FROM drafts WHERE id = $1 AND owner_id = $2",
        )
        .bind(draft_id)
        .bind(owner_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        self.draft_of(owner_id, &row).await
    }

    /// A page (from 1) of the owner's drafts, the latest saved first.
    pub async fn drafts(&self, owner_id: &str, page: i64) -> StoreResult<Vec<Draft>> {
        let page = super::page_number(page);
        let rows = sqlx::query(
            "SELECT id, subject, body_html, recipients, mode, parent_id, idempotency_key, \
             updated_at FROM drafts WHERE owner_id = $1 \
             ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3",
        )
        .bind(owner_id)
        .bind(PAGE_SIZE)
        .bind((page - 1) * PAGE_SIZE)
        .fetch_all(self.pool())
        .await?;
        let mut drafts = Vec::with_capacity(rows.len());
        for row in &rows {
            drafts.push(self.draft_of(owner_id, row).await?);
        }
        Ok(drafts)
    }

    /// Deletes one of the owner's drafts (its uploaded files stay the owner's).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is not theirs.
    pub async fn delete_draft(&self, owner_id: &str, draft_id: &str) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM drafts WHERE id = $1 AND owner_id = $2")
            .bind(draft_id)
            .bind(owner_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        if deleted == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// The compose form of a reply, a reply to all or a forward of a message of the owner's
    /// mailbox, not saved yet (empty id, a fresh idempotency key): the subject prefixed with
    /// `Re:` or `Tr:`, the message quoted, and as recipients the sender (reply), the sender and
    /// the other recipients the owner may write to (reply to all), nobody (forward). Replying
    /// to one's own message goes to its recipients as chosen. A forward carries the message's
    /// attachments.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the message is in the owner's mailbox and not recalled,
    /// or for [`ComposeMode::New`].
    pub async fn compose_from(
        &self,
        owner_id: &str,
        mode: ComposeMode,
        message_id: &str,
    ) -> StoreResult<Draft> {
        if mode == ComposeMode::New {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(
            "SELECT m.id AS message_id, m.subject, m.body_html, m.recipients_label, \
             m.created_at, p.id, p.last_name, p.first_name, p.profile \
             FROM mailbox_entries e JOIN messages m ON m.id = e.message_id \
             JOIN people p ON p.id = m.sender_id \
             WHERE e.owner_id = $1 AND e.message_id = $2 AND m.recalled_at IS NULL",
        )
        .bind(owner_id)
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let sender = person_ref(&row)?;
        let subject: String = row.try_get("subject")?;
        let body: String = row.try_get("body_html")?;
        let labels = parse_labels(&row.try_get::<String, _>("recipients_label")?);
        let created_at: i64 = row.try_get("created_at")?;

        let own = sender.id == owner_id;
        let chosen: Vec<Recipient> =
            labels.iter().filter_map(|(token, _)| Recipient::parse(token)).collect();
        let recipients = match mode {
            ComposeMode::Reply | ComposeMode::ReplyAll if own => chosen,
            ComposeMode::Reply => vec![Recipient::Person(sender.id.clone())],
            ComposeMode::ReplyAll => {
                let mut people = vec![sender.id.clone()];
                people.extend(self.message_recipient_ids(message_id).await?);
                let mut seen = std::collections::HashSet::new();
                people.retain(|id| id != owner_id && seen.insert(id.clone()));
                let allowed = self.may_write_to(owner_id, &people).await?;
                people
                    .into_iter()
                    .filter(|id| allowed.contains(id))
                    .map(Recipient::Person)
                    .collect()
            }
            ComposeMode::Forward | ComposeMode::New => Vec::new(),
        };

        let name = escape_html(&full_name(&sender));
        let date = escape_html(&quoted_date(created_at));
        let (subject, body_html) = if mode == ComposeMode::Forward {
            let to = labels.iter().map(|(_, label)| label.as_str()).collect::<Vec<_>>().join(", ");
            (
                prefixed("Tr:", &subject),
                format!(
                    "<p></p><p>-------- Message transféré --------<br>De : {name}<br>\
                     Date : {date}<br>Objet : {}<br>À : {}</p>{body}",
                    escape_html(&subject),
                    escape_html(&to)
                ),
            )
        } else {
            (
                prefixed("Re:", &subject),
                format!("<p></p><blockquote><p>Le {date}, {name} a écrit :</p>{body}</blockquote>"),
            )
        };
        let attachments = if mode == ComposeMode::Forward {
            self.message_attachments(message_id).await?
        } else {
            Vec::new()
        };
        let recipient_labels = self.recipient_labels(owner_id, &recipients).await?;
        Ok(Draft {
            id: String::new(),
            subject,
            body_html,
            recipients,
            recipient_labels,
            mode,
            parent_id: Some(message_id.to_owned()),
            idempotency_key: new_id(),
            attachments,
            updated_at: now_unix(),
        })
    }

    /// `(token, label)` of each recipient as a compose form shows it: a person by name when
    /// the owner may write to them, a group by the name of its class, teaching group or
    /// school; anything else as an unknown recipient.
    pub async fn recipient_labels(
        &self,
        owner_id: &str,
        recipients: &[Recipient],
    ) -> StoreResult<Vec<(String, String)>> {
        let people: Vec<String> = recipients
            .iter()
            .filter_map(|r| match r {
                Recipient::Person(id) => Some(id.clone()),
                Recipient::Group(..) => None,
            })
            .collect();
        let reachable = if people.is_empty() {
            Vec::new()
        } else {
            self.may_write_to(owner_id, &people).await?
        };
        let names = self.person_names(&reachable).await?;

        let mut labels = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            let label = match recipient {
                Recipient::Person(id) => names.get(id).cloned(),
                Recipient::Group(kind, target) => self.group_target_name(*kind, target).await?,
            };
            labels.push((recipient.token(), label.unwrap_or_else(|| UNKNOWN_RECIPIENT.to_owned())));
        }
        Ok(labels)
    }

    /// The owner's drafts as a folder page (the drafts folder of [`Store::mailbox`]).
    pub(crate) async fn drafts_page(&self, owner_id: &str, page: i64) -> StoreResult<MailboxPage> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM drafts WHERE owner_id = $1")
            .bind(owner_id)
            .fetch_one(self.pool())
            .await?;
        let owner =
            sqlx::query("SELECT id, last_name, first_name, profile FROM people WHERE id = $1")
                .bind(owner_id)
                .fetch_optional(self.pool())
                .await?;
        let Some(owner) = owner.as_ref().map(person_ref).transpose()? else {
            return Ok(MailboxPage { messages: Vec::new(), total: 0, page, page_size: PAGE_SIZE });
        };

        let page = super::page_within(page, total);
        let drafts = self.drafts(owner_id, page).await?;
        let messages = drafts
            .into_iter()
            .map(|draft| MessageSummary {
                snippet: snippet_of(&formats::rich_text::to_plain_text(&draft.body_html)),
                recipients: draft
                    .recipient_labels
                    .iter()
                    .map(|(_, label)| label.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                id: draft.id,
                sender: owner.clone(),
                subject: draft.subject,
                created_at: draft.updated_at,
                unread: false,
                has_attachments: !draft.attachments.is_empty(),
                recalled: false,
                folder: Folder::Drafts,
            })
            .collect();
        Ok(MailboxPage { messages, total, page, page_size: PAGE_SIZE })
    }

    /// Whether the message is in the owner's mailbox and not recalled.
    pub(crate) async fn in_mailbox(&self, owner_id: &str, message_id: &str) -> StoreResult<bool> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT m.id FROM mailbox_entries e JOIN messages m ON m.id = e.message_id \
             WHERE e.owner_id = $1 AND e.message_id = $2 AND m.recalled_at IS NULL",
        )
        .bind(owner_id)
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// The attachments of a draft, in the order they were added.
    pub(crate) async fn draft_attachments(
        &self,
        draft_id: &str,
    ) -> StoreResult<Vec<AttachmentRef>> {
        sqlx::query(
            "SELECT a.id, a.display_name, a.content_type, a.size_bytes \
             FROM draft_attachments da JOIN attachments a ON a.id = da.attachment_id \
             WHERE da.draft_id = $1 ORDER BY a.created_at, a.id",
        )
        .bind(draft_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(AttachmentRef {
                id: row.try_get("id")?,
                display_name: row.try_get("display_name")?,
                content_type: row.try_get("content_type")?,
                size_bytes: row.try_get("size_bytes")?,
            })
        })
        .collect()
    }

    async fn draft_of(&self, owner_id: &str, row: &sqlx::any::AnyRow) -> StoreResult<Draft> {
        let id: String = row.try_get("id")?;
        let tokens: String = row.try_get("recipients")?;
        let mode: String = row.try_get("mode")?;
        let recipients: Vec<Recipient> = serde_json::from_str::<Vec<String>>(&tokens)
            .unwrap_or_default()
            .iter()
            .filter_map(|token| Recipient::parse(token))
            .collect();
        let recipient_labels = self.recipient_labels(owner_id, &recipients).await?;
        let attachments = self.draft_attachments(&id).await?;
        Ok(Draft {
            subject: row.try_get("subject")?,
            body_html: row.try_get("body_html")?,
            recipients,
            recipient_labels,
            mode: ComposeMode::parse(&mode).unwrap_or(ComposeMode::New),
            parent_id: row.try_get("parent_id")?,
            idempotency_key: row.try_get("idempotency_key")?,
            attachments,
            updated_at: row.try_get("updated_at")?,
            id,
        })
    }

    /// "First Last" of each person, read in a few statements.
    async fn person_names(&self, person_ids: &[String]) -> StoreResult<BTreeMap<String, String>> {
        let mut names = BTreeMap::new();
        for chunk in person_ids.chunks(MAX_BATCH) {
            let ids = batch_ids(chunk);
            if ids.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT id, first_name, last_name FROM people WHERE id IN ({})",
                placeholders(1, ids.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in &ids {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.pool()).await? {
                let first: String = row.try_get("first_name")?;
                let last: String = row.try_get("last_name")?;
                names.insert(row.try_get("id")?, format!("{first} {last}"));
            }
        }
        Ok(names)
    }

    /// The French name of a group ("Parents de 6A"), from its class, teaching group or school.
    async fn group_target_name(
        &self,
        kind: GroupKind,
        target: &str,
    ) -> StoreResult<Option<String>> {
        if !is_id(target) {
            return Ok(None);
        }
        let sql = if kind.targets_school() {
            "SELECT name FROM schools WHERE id = $1 AND active = 1"
        } else if kind.targets_group() {
            "SELECT code FROM teaching_groups WHERE id = $1"
        } else {
            "SELECT code FROM classes WHERE id = $1"
        };
        let name: Option<String> =
            sqlx::query_scalar(sql).bind(target).fetch_optional(self.pool()).await?;
        Ok(name.map(|name| kind.label_fr(&name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_not_doubled() {
        assert_eq!(prefixed("Re:", "Sortie"), "Re: Sortie");
        assert_eq!(prefixed("Re:", "RE: Sortie"), "RE: Sortie");
        assert_eq!(prefixed("Tr:", "Re: Sortie"), "Tr: Re: Sortie");
        assert!(prefixed("Re:", &"é".repeat(200)).len() <= MAX_SUBJECT_BYTES);
        assert_eq!(prefixed("Re:", &"é".repeat(300)).chars().count(), MAX_SUBJECT_CHARS);
        assert!(is_key("0190abcd-1234"));
        assert!(!is_key("") && !is_key("a b") && !is_key(&"k".repeat(129)));
    }
}
