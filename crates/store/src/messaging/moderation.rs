//! Moderation: recalling a message from every mailbox it reached (by its sender, by an
//! administrator of the sender's school or of a school it was reported to, or by the
//! département), the kill switch that freezes an account and recalls everything it sent since
//! a moment, and the "report this message" button whose reports reach the administrators of the
//! reporter's school. Each act is audited in the same transaction as the change.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{ReportView, without_nul};
use crate::directory::{PersonRef, administered_by, current, membership_clock, school_memberships};
use crate::{Backend, Store, StoreError, StoreResult, new_id, now_unix};

/// The longest reason a report keeps, in bytes.
pub const MAX_REPORT_REASON_BYTES: usize = 2_000;

/// How many reports a school's list shows.
const REPORT_LIMIT: i64 = 200;

/// "`$1` is a département administrator", for a `WHERE`.
const ACTOR_IS_DEPARTEMENT_ADMIN: &str =
    "EXISTS (SELECT 1 FROM roles adm WHERE adm.person_id = $1 AND adm.role = 'departement_admin')";

/// Recalls one message inside a write transaction: marks it recalled, deletes every mailbox
/// entry but the sender's, and writes the audit entry and the outbox entry (and, on
/// PostgreSQL, the live notification). Returns how many entries went, 0 when it was recalled
/// already.
async fn recall_in(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    actor_id: &str,
    message_id: &str,
    now: i64,
) -> StoreResult<u64> {
    let marked = sqlx::query(
        "UPDATE messages SET recalled_at = $2, recalled_by = $3 \
         WHERE id = $1 AND recalled_at IS NULL",
    )
    .bind(message_id)
    .bind(now)
    .bind(actor_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(0);
    }

    let removed = sqlx::query(
        "DELETE FROM mailbox_entries WHERE message_id = $1 \
         AND owner_id <> (SELECT sender_id FROM messages WHERE id = $1)",
    )
    .bind(message_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    crate::accounts::audit_in(
        &mut *conn,
        actor_id,
        "message_recalled",
        message_id,
        &format!("mailboxes={removed}"),
    )
    .await?;
    crate::outbox::enqueue(&mut *conn, "message_recalled", message_id, now).await?;
    if backend == Backend::Postgres {
        crate::outbox::notify_live(&mut *conn, message_id).await?;
    }
    Ok(removed)
}

/// A person of a report row, from columns prefixed with `prefix`.
fn prefixed_person(row: &AnyRow, prefix: &str) -> StoreResult<PersonRef> {
    let profile: String = row.try_get(format!("{prefix}profile").as_str())?;
    Ok(PersonRef {
        id: row.try_get(format!("{prefix}id").as_str())?,
        last_name: row.try_get(format!("{prefix}last_name").as_str())?,
        first_name: row.try_get(format!("{prefix}first_name").as_str())?,
        profile: domain::profile::Profile::parse(&profile)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown profile {profile}")))?,
    })
}

impl Store {
    /// Recalls a message from every mailbox it reached; the sender keeps their copy, marked
    /// recalled. Allowed to its sender, to an administrator of one of the sender's schools or
    /// of a school it was reported to, and to a département administrator. Audited
    /// (`message_recalled`) and announced in the outbox. Returns how many mailboxes lost it
    /// (0 when it was recalled already).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message does not exist or the actor may not recall it.
    pub async fn recall_message(&self, actor_id: &str, message_id: &str) -> StoreResult<u64> {
        if !self.may_recall(actor_id, message_id).await? {
            return Err(StoreError::NotFound);
        }

        let mut tx = self.begin_write().await?;
        let removed = recall_in(&mut tx, self.backend(), actor_id, message_id, now_unix()).await?;
        tx.commit().await?;
        tracing::info!(%message_id, removed, "message recalled");
        Ok(removed)
    }

    /// The kill switch: freezes `person_id`'s account (their sessions end), then recalls every
    /// message they sent since `since` (Unix seconds), all in one transaction, each act
    /// audited. Allowed to those who may administer the person
    /// ([`Store::administrable_person`]). Returns how many messages were recalled.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the actor may not administer the person.
    pub async fn freeze_and_recall(
        &self,
        actor_id: &str,
        person_id: &str,
        since: i64,
    ) -> StoreResult<u64> {
        let Some(person) = self.administrable_person(actor_id, person_id).await? else {
            return Err(StoreError::NotFound);
        };
        let now = now_unix();

        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET frozen = 1 WHERE person_id = $1")
            .bind(&person.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE person_id = $1")
            .bind(&person.id)
            .execute(&mut *tx)
            .await?;
        crate::accounts::audit_in(&mut tx, actor_id, "account_frozen", &person.id, "kill_switch")
            .await?;

        let sent: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE sender_id = $1 AND created_at >= $2 \
             AND recalled_at IS NULL ORDER BY created_at, id",
        )
        .bind(&person.id)
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        for message_id in &sent {
            recall_in(&mut tx, self.backend(), actor_id, message_id, now).await?;
        }
        tx.commit().await?;
        tracing::info!(person_id = %person.id, recalled = sent.len(), "account frozen and recalled");
        Ok(u64::try_from(sent.len()).unwrap_or(u64::MAX))
    }

    /// Reports a message received by `reporter_id` to the administrators of the reporter's
    /// school (a pupil's class's school, a parent's child's school, an adult's school; among
    /// several, one the sender belongs to first; the département's when there is none).
    /// Reporting twice keeps the first report.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the reporter received the message (still in their
    /// mailbox); [`StoreError::Conflict`] (French) for an overlong reason.
    pub async fn report_message(
        &self,
        reporter_id: &str,
        message_id: &str,
        reason: &str,
    ) -> StoreResult<()> {
        let reason = without_nul(reason).trim().to_owned();
        if reason.len() > MAX_REPORT_REASON_BYTES {
            return Err(StoreError::Conflict("Le motif du signalement est trop long.".to_owned()));
        }
        let sender: Option<String> = sqlx::query_scalar(
            "SELECT m.sender_id FROM mailbox_entries e JOIN messages m ON m.id = e.message_id \
             WHERE e.owner_id = $1 AND e.message_id = $2 AND e.origin = 'inbox' \
             AND m.recalled_at IS NULL",
        )
        .bind(reporter_id)
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(sender) = sender else { return Err(StoreError::NotFound) };

        let school: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT s.school_id FROM ( \
               SELECT c.school_id AS school_id, 1 AS rank FROM pupil_classes pc \
                 JOIN classes c ON c.id = pc.class_id WHERE pc.pupil_id = $1 AND {current} \
               UNION ALL SELECT c.school_id, 2 FROM guardianships g \
                 JOIN pupil_classes pc ON pc.pupil_id = g.pupil_id \
                 JOIN classes c ON c.id = pc.class_id \
                 WHERE g.relative_id = $1 AND g.legal IN (1, 2) AND {current} \
               UNION ALL SELECT school_id, 3 FROM person_schools WHERE person_id = $1 \
               UNION ALL SELECT school_id, 4 FROM departement_scopes \
                 WHERE person_id = $1 AND school_id <> '') s \
             ORDER BY s.rank, CASE WHEN s.school_id IN \
               (SELECT sm.school_id FROM ({memberships}) sm) THEN 0 ELSE 1 END, s.school_id \
             LIMIT 1",
            current = current("pc"),
            memberships = school_memberships(Some("$2")),
        )))
        .bind(reporter_id)
        .bind(&sender)
        .bind(membership_clock())
        .fetch_optional(self.pool())
        .await?;
        let school = school.unwrap_or_default();

        let mut tx = self.begin_write().await?;
        let now = now_unix();
        let inserted = sqlx::query(
            "INSERT INTO message_reports (id, message_id, reporter_id, school_id, reason, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (message_id, reporter_id) DO NOTHING",
        )
        .bind(new_id())
        .bind(message_id)
        .bind(reporter_id)
        .bind(&school)
        .bind(&reason)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            crate::accounts::audit_in(
                &mut tx,
                reporter_id,
                "message_reported",
                message_id,
                &format!("school={school}"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The reports that reached a school (`''`: the département's), unhandled first, newest
    /// first, when the actor administers it (or the département).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] otherwise.
    pub async fn reports_for_school(
        &self,
        actor_id: &str,
        school_id: &str,
    ) -> StoreResult<Vec<ReportView>> {
        if !self.administers_report_school(actor_id, school_id).await? {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "SELECT r.id, r.message_id, r.school_id, r.reason, r.created_at, r.handled_at, \
             m.subject, m.body_text, m.created_at AS message_created_at, m.recalled_at, \
             rp.id AS r_id, rp.last_name AS r_last_name, rp.first_name AS r_first_name, \
             rp.profile AS r_profile, sp.id AS s_id, sp.last_name AS s_last_name, \
             sp.first_name AS s_first_name, sp.profile AS s_profile \
             FROM message_reports r JOIN messages m ON m.id = r.message_id \
             JOIN people rp ON rp.id = r.reporter_id JOIN people sp ON sp.id = m.sender_id \
             WHERE r.school_id = $1 \
             ORDER BY CASE WHEN r.handled_at IS NULL THEN 0 ELSE 1 END, r.created_at DESC, r.id \
             LIMIT $2",
        )
        .bind(school_id)
        .bind(REPORT_LIMIT)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(ReportView {
                id: row.try_get("id")?,
                message_id: row.try_get("message_id")?,
                school_id: row.try_get("school_id")?,
                reporter: prefixed_person(row, "r_")?,
                sender: prefixed_person(row, "s_")?,
                subject: row.try_get("subject")?,
                body_text: row.try_get("body_text")?,
                reason: row.try_get("reason")?,
                created_at: row.try_get("created_at")?,
                message_created_at: row.try_get("message_created_at")?,
                handled_at: row.try_get("handled_at")?,
                recalled_at: row.try_get("recalled_at")?,
            })
        })
        .collect()
    }

    /// Marks a report handled, when the actor administers the school it reached. Audited.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] otherwise.
    pub async fn mark_report_handled(&self, actor_id: &str, report_id: &str) -> StoreResult<()> {
        let school: Option<String> =
            sqlx::query_scalar("SELECT school_id FROM message_reports WHERE id = $1")
                .bind(report_id)
                .fetch_optional(self.pool())
                .await?;
        let Some(school) = school else { return Err(StoreError::NotFound) };
        if !self.administers_report_school(actor_id, &school).await? {
            return Err(StoreError::NotFound);
        }

        let mut tx = self.begin_write().await?;
        let now = now_unix();
        let updated = sqlx::query(
            "UPDATE message_reports SET handled_at = $2, handled_by = $3 \
             WHERE id = $1 AND handled_at IS NULL",
        )
        .bind(report_id)
        .bind(now)
        .bind(actor_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 1 {
            crate::accounts::audit_in(&mut tx, actor_id, "report_handled", report_id, "").await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether the actor may recall the message: its sender, an administrator of one of the
    /// sender's schools or of a school it was reported to, or a département administrator.
    async fn may_recall(&self, actor_id: &str, message_id: &str) -> StoreResult<bool> {
        let administered = administered_by("$1");
        let sender_schools = school_memberships(Some("$3"));
        let sql = format!(
            "SELECT m.id FROM messages m WHERE m.id = $2 AND m.sender_id = $3 AND ( \
               m.sender_id = $1 OR {ACTOR_IS_DEPARTEMENT_ADMIN} \
               OR EXISTS (SELECT 1 FROM ({sender_schools}) ss \
                 WHERE ss.school_id IN ({administered})) \
               OR EXISTS (SELECT 1 FROM message_reports mr WHERE mr.message_id = m.id \
                 AND mr.school_id IN ({administered})))"
        );
        let sender: Option<String> =
            sqlx::query_scalar("SELECT sender_id FROM messages WHERE id = $1")
                .bind(message_id)
                .fetch_optional(self.pool())
                .await?;
        let Some(sender) = sender else { return Ok(false) };
        let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(actor_id)
            .bind(message_id)
            .bind(&sender)
            .fetch_optional(self.pool())
            .await?;
        Ok(found.is_some())
    }

    /// Whether the actor receives the reports of `school_id`: an administrator of that school,
    /// or a département administrator (who also receives those of no school, `''`).
    async fn administers_report_school(
        &self,
        actor_id: &str,
        school_id: &str,
    ) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(1 AS BIGINT) FROM people p WHERE p.id = $1 AND p.active = 1 AND \
             ({ACTOR_IS_DEPARTEMENT_ADMIN} OR ($2 <> '' AND $2 IN ({})))",
            administered_by("$1")
        )))
        .bind(actor_id)
        .bind(school_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }
}
