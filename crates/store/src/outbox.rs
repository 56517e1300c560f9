//! The notification outbox and what its workers need: entries are written in the same
//! transaction as the change they announce (a send, a recall), claimed by one worker at a time
//! under a lease, completed or put back for a later try; deliveries are recorded per
//! (subject, recipient, channel) so that a second pass sends nothing twice; and each person's
//! e-mail address for notifications. On PostgreSQL a change also wakes the live listeners of
//! every instance (`pg_notify('preau_live', <message id>)`): a send once it has committed, a
//! rarer change (a recall) inside its transaction.

use sqlx::Row;

use crate::messaging::{json_strings, parse_recipient_ids, recipient_list_bytes};
use crate::{Backend, Store, StoreError, StoreResult, new_id, now_unix};

/// The PostgreSQL channel the live notifications go through; the payload is a message id.
pub const LIVE_CHANNEL: &str = "preau_live";

/// The longest error text kept with an entry put back, in bytes.
const MAX_ERROR_BYTES: usize = 500;

/// The longest notification address kept, in bytes.
const MAX_EMAIL_BYTES: usize = 254;

/// An outbox entry claimed by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: String,
    /// `message_sent`, `message_recalled`, …
    pub kind: String,
    /// What it is about (a message id).
    pub subject_id: String,
    /// How many times it was claimed, this claim included.
    pub attempts: i64,
}

/// Someone to notify by e-mail of a new message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTarget {
    pub person_id: String,
    pub email: String,
    pub sender_name: String,
    pub subject: String,
}

/// The statement that writes an outbox entry due now: its id, kind, subject and the time.
pub(crate) const ENQUEUE: &str = "INSERT INTO outbox (id, kind, subject_id, created_at, \
                                  available_at) VALUES ($1, $2, $3, $4, $4)";

/// Writes an outbox entry inside the caller's transaction, due now.
pub(crate) async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    kind: &str,
    subject_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(ENQUEUE).bind(new_id()).bind(kind).bind(subject_id).bind(now).execute(conn).await?;
    Ok(())
}

/// Announces a message (its id) or a person ([`LIVE_PERSON_PREFIX`] and their id) to the live
/// listeners of every instance (PostgreSQL only), on `conn`: inside a transaction, PostgreSQL
/// delivers it at commit, and never if it rolls back. A transaction that notifies holds a lock
/// of the whole database from its commit's start to its end, its wait for the disk included:
/// frequent changes announce themselves once committed ([`Store::announce_live`]) instead.
pub(crate) async fn notify_live(conn: &mut sqlx::AnyConnection, payload: &str) -> StoreResult<()> {
    sqlx::query("SELECT CAST(1 AS BIGINT) FROM (SELECT pg_notify($1, $2)) AS notified")
        .bind(LIVE_CHANNEL)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// The prefix of a live notification that names a person rather than a message: their mailbox
/// changed by their own hand (a read, a move), and only their pages need to know.
pub const LIVE_PERSON_PREFIX: &str = "p:";

impl Store {
    /// Tells the live listeners of every instance (PostgreSQL only) that `person_id` changed
    /// their own mailbox, so that their pages open on another instance update their badge.
    /// Sent once the change has committed; one lost on the way is made up for at the next.
    pub async fn announce_mailbox_change(&self, person_id: &str) -> StoreResult<()> {
        self.announce_live(&format!("{LIVE_PERSON_PREFIX}{person_id}")).await
    }

    /// Announces `payload` (see [`notify_live`]) once the change it names has committed, in a
    /// transaction of its own (PostgreSQL only). That transaction's commit does not wait for
    /// the disk: it changes nothing that a crash could lose (a notification is delivered only
    /// to the listeners connected at the time), and it holds the database's lock of
    /// notifications for a moment instead of a disk write, so that the transactions that
    /// notify, one per send, do not queue behind one another's writes.
    pub(crate) async fn announce_live(&self, payload: &str) -> StoreResult<()> {
        if self.backend() != crate::Backend::Postgres {
            return Ok(());
        }
        sqlx::query(
            "SELECT CAST(1 AS BIGINT) FROM (SELECT set_config('synchronous_commit', 'off', true), \
             pg_notify($1, $2)) AS notified",
        )
        .bind(LIVE_CHANNEL)
        .bind(payload)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// Whether an address looks like one a mail server accepts: one `@`, something on each side,
/// a dot in the domain, no white space or control characters, at most 254 bytes.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    email.len() <= MAX_EMAIL_BYTES
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

impl Store {
    /// Claims up to `limit` due entries for `worker_id` for `lease_secs` seconds, oldest first.
    /// An entry is someone's while its lease runs: two workers never both get it (the outer
    /// `WHERE` is checked again on the row each update locks; on PostgreSQL the candidates are
    /// also locked with `SKIP LOCKED`, so that concurrent workers take different entries).
    pub async fn claim_outbox(
        &self,
        worker_id: &str,
        limit: i64,
        lease_secs: i64,
    ) -> StoreResult<Vec<OutboxItem>> {
        let _place = self.write_place().await;
        let now = now_unix();
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let free = "done_at IS NULL AND available_at <= $3 \
                    AND (claimed_until IS NULL OR claimed_until < $3)";
        let sql = format!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
             WHERE {free} AND id IN (SELECT id FROM outbox WHERE {free} \
               ORDER BY available_at, id LIMIT $4{lock}) \
             RETURNING id, kind, subject_id, attempts"
        );
        let mut items = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker_id)
            .bind(now.saturating_add(lease_secs.max(1)))
            .bind(now)
            .bind(limit.clamp(1, 1_000))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    subject_id: row.try_get("subject_id")?,
                    attempts: row.try_get("attempts")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        items.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(items)
    }

    /// Marks an entry done.
    pub async fn complete_outbox(&self, id: &str) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query(
            "UPDATE outbox SET done_at = $2, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Puts an entry back, due again at `retry_at`, with what went wrong (no personal data:
    /// the caller logs ids and causes only).
    pub async fn retry_outbox(&self, id: &str, error: &str, retry_at: i64) -> StoreResult<()> {
        let _place = self.write_place().await;
        let error = crate::messaging::without_nul(error);
        let error = crate::messaging::truncate_bytes(&error, MAX_ERROR_BYTES);
        sqlx::query(
            "UPDATE outbox SET available_at = $2, last_error = $3, claimed_by = NULL, \
             claimed_until = NULL WHERE id = $1 AND done_at IS NULL",
        )
        .bind(id)
        .bind(retry_at)
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The recipients of a message to notify by e-mail: those with a notification address,
    /// active, not frozen, not yet notified of it by e-mail; none once it is recalled.
    pub async fn email_targets(&self, message_id: &str) -> StoreResult<Vec<EmailTarget>> {
        // The list is read here, not by the database's JSON functions: a row edited by hand
        // into something else than a list of ids must not stop the notifications of others.
        let list = recipient_list_bytes(self.backend(), "recipient_ids");
        let listed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT sender_id, {list} AS recipient_ids FROM messages \
             WHERE id = $1 AND recalled_at IS NULL"
        )))
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(listed) = listed else { return Ok(Vec::new()) };
        let sender: String = listed.try_get("sender_id")?;
        let mut ids = parse_recipient_ids(&listed.try_get::<Vec<u8>, _>("recipient_ids")?);
        ids.retain(|id| *id != sender);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(&ids)
            .map_err(|error| StoreError::Corrupt(format!("recipients: {error}")))?;

        let recipients = json_strings(self.backend(), 2, "r");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.value AS person_id, pr.notify_email, s.first_name, s.last_name, \
             m.subject FROM messages m CROSS JOIN {recipients} \
             JOIN people s ON s.id = m.sender_id \
             JOIN preferences pr ON pr.person_id = r.value \
             JOIN people p ON p.id = r.value JOIN accounts a ON a.person_id = r.value \
             WHERE m.id = $1 AND m.recalled_at IS NULL \
             AND pr.notify_email IS NOT NULL AND pr.notify_email <> '' \
             AND p.active = 1 AND a.frozen = 0 \
             AND NOT EXISTS (SELECT 1 FROM notification_deliveries d \
               WHERE d.subject_id = m.id AND d.recipient_id = r.value \
               AND d.channel = 'email') \
             ORDER BY r.value"
        )))
        .bind(message_id)
        .bind(ids)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            let first: String = row.try_get("first_name")?;
            let last: String = row.try_get("last_name")?;
            Ok(EmailTarget {
                person_id: row.try_get("person_id")?,
                email: row.try_get("notify_email")?,
                sender_name: format!("{first} {last}"),
                subject: row.try_get("subject")?,
            })
        })
        .collect()
    }

    /// Records that `recipient_id` was notified of `subject_id` on `channel`; `true` if this
    /// is the first time.
    pub async fn mark_delivered(
        &self,
        subject_id: &str,
        recipient_id: &str,
        channel: &str,
    ) -> StoreResult<bool> {
        let _place = self.write_place().await;
        let inserted = sqlx::query(
            "INSERT INTO notification_deliveries (subject_id, recipient_id, channel, \
             delivered_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subject_id, recipient_id, channel) DO NOTHING",
        )
        .bind(subject_id)
        .bind(recipient_id)
        .bind(channel)
        .bind(now_unix())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Sets (or, with `None` or an empty text, removes) the address a person is notified at.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (French) for an address that cannot be one.
    pub async fn set_notify_email(&self, person_id: &str, email: Option<&str>) -> StoreResult<()> {
        let _place = self.write_place().await;
        let email = email.map(str::trim).filter(|email| !email.is_empty());
        if email.is_some_and(|email| !plausible_email(email)) {
            return Err(StoreError::Conflict(
                "Cette adresse électronique n'est pas valide.".to_owned(),
            ));
        }
        sqlx::query(
            "INSERT INTO preferences (person_id, notify_email) VALUES ($1, $2) \
             ON CONFLICT (person_id) DO UPDATE SET notify_email = excluded.notify_email",
        )
        .bind(person_id)
        .bind(email.map(str::to_owned))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The address a person is notified at, if any.
    pub async fn notify_email(&self, person_id: &str) -> StoreResult<Option<String>> {
        let email: Option<Option<String>> =
            sqlx::query_scalar("SELECT notify_email FROM preferences WHERE person_id = $1")
                .bind(person_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(email.flatten())
    }
}

impl Store {
    /// Everyone a person's messages since `since` reached, distinct: whose open pages a kill
    /// switch must tell (read before the recall, published after it). Ids only, for the live
    /// fan-out; never shown.
    pub async fn recipients_since(&self, sender_id: &str, since: i64) -> StoreResult<Vec<String>> {
        // Read here, not by the database's JSON functions: a list edited by hand into
        // something else must not stop a freeze.
        let list = recipient_list_bytes(self.backend(), "recipient_ids");
        let lists: Vec<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {list} FROM messages \
             WHERE sender_id = $1 AND created_at >= $2 AND recalled_at IS NULL"
        )))
        .bind(sender_id)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        let reached: std::collections::BTreeSet<String> =
            lists.iter().flat_map(|list| parse_recipient_ids(list)).collect();
        Ok(reached.into_iter().collect())
    }
}

/// How long a completed send's idempotency key is kept: a retry within this time returns the
/// first message; after it, the same key would send again. Published in ARCHITECTURE.md.
pub const SEND_KEY_RETENTION_SECS: i64 = 7 * 24 * 3600;

/// How long completed outbox entries and their delivery records are kept, for inquiries.
pub const OUTBOX_RETENTION_SECS: i64 = 30 * 24 * 3600;

/// How long a person deleted by hand is remembered, so that housekeeping deletes their rows
/// again (see migration 0016).
const REMOVED_PEOPLE_RETENTION_SECS: i64 = 24 * 3600;

/// How long an uploaded file that no message, draft or news item holds is kept.
pub const ORPHAN_FILE_RETENTION_SECS: i64 = 24 * 3600;

/// What a housekeeping pass removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Housekeeping {
    pub send_keys: u64,
    pub outbox_entries: u64,
    pub deliveries: u64,
    /// Messages in nobody's mailbox any more and never reported.
    pub messages: u64,
    /// Mailbox rows of people deleted by hand, and messages whose recipients named them.
    pub removed_people_rows: u64,
    /// The storage keys of the files removed from `attachments`: the caller deletes the bytes.
    pub file_keys: Vec<String>,
}

impl Store {
    /// Removes what the send path no longer needs at `now`: completed idempotency keys older
    /// than [`SEND_KEY_RETENTION_SECS`] (pending ones are taken over after a minute anyway),
    /// and completed outbox entries with their delivery records older than
    /// [`OUTBOX_RETENTION_SECS`]. Entries not completed are never removed. Messages that every
    /// mailbox has let go of (trash emptied, recalled copies) and nobody reported are deleted
    /// after the same time, and uploads that no message, draft or news item holds after
    /// [`ORPHAN_FILE_RETENTION_SECS`]; their storage keys are returned for the bytes. The
    /// delivery records of timetable changes go after [`OUTBOX_RETENTION_SECS`] too, or as
    /// soon as their change no longer exists; they count in `Housekeeping::deliveries`.
    pub async fn housekeeping(&self, now: i64) -> StoreResult<Housekeeping> {
        let mut tx = self.begin_write().await?;
        let send_keys =
            sqlx::query("DELETE FROM send_requests WHERE state = 'done' AND created_at < $1")
                .bind(now - SEND_KEY_RETENTION_SECS)
                .execute(&mut *tx)
                .await?
                .rows_affected();

        let horizon = now - OUTBOX_RETENTION_SECS;
        let deliveries = sqlx::query(
            "DELETE FROM notification_deliveries WHERE delivered_at < $1 AND subject_id IN \
             (SELECT o.subject_id FROM outbox o WHERE o.done_at IS NOT NULL AND o.done_at < $2)",
        )
        .bind(horizon)
        .bind(horizon)
        .execute(&mut *tx)
        .await?
        .rows_affected();

        // A timetable change's deliveries are recorded per version, `"<change id>:<sequence>"`
        // (`timetable::change_delivery_subject`): the change id is the subject without its
        // trailing digits and colon. They go after the same time unless their change is still
        // waiting in the outbox, and at once when the change is gone (reverted, or its course
        // removed): change ids are never reused, so nothing would be sent twice.
        let change_id = "rtrim(rtrim(notification_deliveries.subject_id, '0123456789'), ':')";
        let timetable_deliveries = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM notification_deliveries WHERE subject_id LIKE '%:%' \
             AND ((delivered_at < $1 AND NOT EXISTS (SELECT 1 FROM outbox o \
                 WHERE o.done_at IS NULL AND o.kind = $2 AND o.subject_id = {change_id})) \
               OR NOT EXISTS (SELECT 1 FROM course_changes ch WHERE ch.id = {change_id}))"
        )))
        .bind(horizon)
        .bind(crate::timetable::CHANGE_OUTBOX_KIND)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let deliveries = deliveries + timetable_deliveries;

        let outbox_entries =
            sqlx::query("DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < $1")
                .bind(horizon)
                .execute(&mut *tx)
                .await?
                .rows_affected();

        let messages = sqlx::query(
            "DELETE FROM messages WHERE created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM mailbox_entries e WHERE e.message_id = messages.id) \
             AND NOT EXISTS (SELECT 1 FROM message_reports r WHERE r.message_id = messages.id)",
        )
        .bind(horizon)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if messages > 0 && self.backend() == Backend::Sqlite {
            sqlx::query(
                "DELETE FROM messages_fts WHERE message_id NOT IN (SELECT id FROM messages)",
            )
            .execute(&mut *tx)
            .await?;
        }

        // The people deleted by hand (migration 0016): their mailbox rows, whatever a send
        // racing the deletion wrote for them, and their ids in the recipients of messages
        // (migration 0019), which a person given the same id later must not inherit. The note
        // stays a day, far longer than a send; it goes at once if the id is a person again.
        // Nothing is read when nobody was deleted; the lists, once per deletion.
        let removed = "SELECT r.person_id FROM people_removed r \
             WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = r.person_id)";
        let anyone_removed: Option<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{removed} LIMIT 1")))
                .fetch_optional(&mut *tx)
                .await?;
        let mut removed_people_rows = 0;
        if anyone_removed.is_some() {
            removed_people_rows += sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM mailbox_entries WHERE owner_id IN ({removed})"
            )))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            removed_people_rows += self.forget_removed_recipients(&mut tx).await?;
        }
        sqlx::query(
            "DELETE FROM people_removed WHERE removed_at < $1 \
             OR EXISTS (SELECT 1 FROM people p WHERE p.id = people_removed.person_id)",
        )
        .bind(now - REMOVED_PEOPLE_RETENTION_SECS)
        .execute(&mut *tx)
        .await?;

        let orphans = "FROM attachments a WHERE a.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = a.id) \
             AND NOT EXISTS (SELECT 1 FROM draft_attachments da WHERE da.attachment_id = a.id) \
             AND NOT EXISTS (SELECT 1 FROM news n WHERE n.image_attachment_id = a.id)";
        let file_horizon = now - ORPHAN_FILE_RETENTION_SECS;
        let file_keys: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT a.storage_key {orphans}")))
                .bind(file_horizon)
                .fetch_all(&mut *tx)
                .await?;
        if !file_keys.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM attachments WHERE id IN (SELECT a.id {orphans})"
            )))
            .bind(file_horizon)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Housekeeping {
            send_keys,
            outbox_entries,
            deliveries,
            messages,
            removed_people_rows,
            file_keys,
        })
    }
}

impl Store {
    /// Takes the people deleted by hand, not taken out yet, out of the recipients of every
    /// message (migration 0019), in the caller's transaction; returns how many messages
    /// changed. The lists that may name them are found by their text (`LIKE`, which no list
    /// edited by hand makes fail), then read and written again here.
    async fn forget_removed_recipients(&self, tx: &mut sqlx::AnyConnection) -> StoreResult<u64> {
        let pending = "SELECT r.person_id FROM people_removed r WHERE r.recipients_cleaned = 0 \
             AND NOT EXISTS (SELECT 1 FROM people p WHERE p.id = r.person_id)";
        let removed: std::collections::BTreeSet<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(pending))
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        if removed.is_empty() {
            return Ok(0);
        }

        // A list that escapes some character (never one Préau wrote: ids have none to escape)
        // may name them without their text: it is read too.
        let list = recipient_list_bytes(self.backend(), "m.recipient_ids");
        let naming = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.id, {list} AS recipient_ids FROM messages m \
             WHERE m.recipient_ids LIKE '%\\%' ESCAPE '!' OR EXISTS (SELECT 1 FROM ({pending}) \
             AS gone WHERE m.recipient_ids LIKE '%\"' || gone.person_id || '\"%')"
        )))
        .fetch_all(&mut *tx)
        .await?;
        let mut changed = 0;
        for row in &naming {
            let id: String = row.try_get("id")?;
            let ids = parse_recipient_ids(&row.try_get::<Vec<u8>, _>("recipient_ids")?);
            let kept: Vec<&String> = ids.iter().filter(|id| !removed.contains(*id)).collect();
            if kept.len() == ids.len() {
                continue;
            }
            let kept = serde_json::to_string(&kept)
                .map_err(|error| StoreError::Corrupt(format!("recipients: {error}")))?;
            changed += sqlx::query("UPDATE messages SET recipient_ids = $2 WHERE id = $1")
                .bind(id)
                .bind(kept)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }

        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE people_removed SET recipients_cleaned = 1 WHERE person_id IN ({pending})"
        )))
        .execute(&mut *tx)
        .await?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_loosely() {
        assert!(plausible_email("paul.martin@example.org"));
        for bad in ["", "paul", "@x.fr", "a@b", "a b@c.fr", "a@b.fr\nBcc: x@y.fr", "a@.fr"] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }
}
