//! Server-side sessions: rows keyed by the SHA-256 of the cookie value (never the value itself),
//! with their CSRF token, their timestamps and their second-factor stage. Timeouts are decided by
//! the caller, which passes the instants; a session of a frozen, deactivated or not-activated
//! account is never returned. A session that still waits for its second factor is returned only
//! by [`Store::session_at_any_stage`], which the second-factor step alone uses: every other
//! reader calls [`Store::session`] and never sees it.

use sqlx::Row;

use crate::cache::{GENERATION_COLUMNS, Generations};
use crate::{Store, StoreResult};

/// A live session row, joined with the state of its account.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub person_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// When the second factor was checked in this session, if it was.
    pub second_factor_at: Option<i64>,
    /// The session waits for its second factor: it is no session for anything else (only
    /// [`Store::session_at_any_stage`] returns such a row).
    pub second_factor_pending: bool,
    /// Whether the person has a confirmed second factor (then every session of theirs must
    /// pass it).
    pub has_second_factor: bool,
    /// The generations of what is kept in memory, read in the same statement
    /// (`cache::Generations`): the reads the request makes may use what was kept under them.
    pub generations: Generations,
}

impl Store {
    /// Stores a new session. `expires_at` is its absolute end.
    pub async fn create_session(
        &self,
        id_hash: &str,
        person_id: &str,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id_hash)
        .bind(person_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stores a new session that waits for its second factor (the password was right): no
    /// page, console, API or sign-on accepts it until [`Store::complete_second_factor`].
    /// `expires_at` is short: the time to type a code.
    pub async fn create_pending_session(
        &self,
        id_hash: &str,
        person_id: &str,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, \
             expires_at, second_factor_pending) VALUES ($1, $2, $3, $4, $4, $5, 1)",
        )
        .bind(id_hash)
        .bind(person_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The session with this hash, only when it is a whole session (not waiting for its second
    /// factor), its person is active and its account activated and not frozen.
    pub async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRow>> {
        Ok(self.session_at_any_stage(id_hash).await?.filter(|row| !row.second_factor_pending))
    }

    /// The session with this hash, whether or not it still waits for its second factor (for
    /// the second-factor step only), when its person is active and its account activated and
    /// not frozen.
    pub async fn session_at_any_stage(&self, id_hash: &str) -> StoreResult<Option<SessionRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.person_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, \
             s.second_factor_at, s.second_factor_pending, \
             (SELECT COUNT(*) FROM second_factors f WHERE f.person_id = s.person_id) \
               AS factors, {GENERATION_COLUMNS} \
             FROM sessions s JOIN people p ON p.id = s.person_id \
             JOIN accounts a ON a.person_id = s.person_id \
             WHERE s.id_hash = $1 AND p.active = 1 AND a.frozen = 0 \
             AND a.activated_at IS NOT NULL"
        )))
        .bind(id_hash)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some(SessionRow {
                person_id: row.try_get("person_id")?,
                csrf_token: row.try_get("csrf_token")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                expires_at: row.try_get("expires_at")?,
                second_factor_at: row.try_get("second_factor_at")?,
                second_factor_pending: row.try_get::<i64, _>("second_factor_pending")? != 0,
                has_second_factor: row.try_get::<i64, _>("factors")? > 0,
                generations: Generations::of_row(&row)?,
            })),
            None => Ok(None),
        }
    }

    /// A waiting session passed its second factor at `now`: it becomes a whole session under a
    /// new id (the old cookie value stops working, since the privilege changed) and a new form
    /// token, with its absolute end now at `expires_at`. False when no waiting session has
    /// `old_hash` (already completed by a parallel request, or ended).
    pub async fn complete_second_factor(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<bool> {
        let _place = self.write_place().await;
        let done = sqlx::query(
            "UPDATE sessions SET id_hash = $2, csrf_token = $3, second_factor_at = $4, \
             second_factor_pending = 0, last_seen_at = $4, expires_at = $5 \
             WHERE id_hash = $1 AND second_factor_pending = 1",
        )
        .bind(old_hash)
        .bind(new_hash)
        .bind(new_csrf)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A whole session passed a second factor at `now` (a step-up, or an enrolment made from
    /// it). It keeps its id: what it already signed in to may refer to it. False when no whole
    /// session has this hash.
    pub async fn mark_second_factor(&self, id_hash: &str, now: i64) -> StoreResult<bool> {
        let _place = self.write_place().await;
        let done = sqlx::query(
            "UPDATE sessions SET second_factor_at = $2 \
             WHERE id_hash = $1 AND second_factor_pending = 0",
        )
        .bind(id_hash)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records activity on a session (the sliding idle timeout).
    pub async fn touch_session(&self, id_hash: &str, now: i64) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends one session.
    pub async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every session of a person except `keep` (the current one).
    pub async fn delete_other_sessions(&self, person_id: &str, keep: &str) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND id_hash <> $2")
            .bind(person_id)
            .bind(keep)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes sessions whose absolute end or idle limit has passed, and the throttle counters
    /// of typed logins that have failed nothing for a day (one row per typed login, known or
    /// not, would otherwise pile up).
    pub async fn purge_sessions(&self, now: i64, idle_secs: i64) -> StoreResult<u64> {
        let _place = self.write_place().await;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(now.saturating_sub(idle_secs))
            .execute(self.pool())
            .await?;
        sqlx::query("DELETE FROM login_throttle WHERE last_failure_ms <= $1")
            .bind(now.saturating_sub(24 * 3600).saturating_mul(1000))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
