//! Server-side sessions: rows keyed by the SHA-256 of the cookie value (never the value itself),
//! with their CSRF token and their timestamps. Timeouts are decided by the caller, which passes
//! the instants; a session of a frozen, deactivated or not-activated account is never returned.

use sqlx::Row;

use crate::{Store, StoreResult};

/// A live session row, joined with the state of its account.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub person_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
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

    /// The session with this hash, only when its person is active and its account activated
    /// and not frozen.
    pub async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT s.person_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
             FROM sessions s JOIN people p ON p.id = s.person_id \
             JOIN accounts a ON a.person_id = s.person_id \
             WHERE s.id_hash = $1 AND p.active = 1 AND a.frozen = 0 \
             AND a.activated_at IS NOT NULL",
        )
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
            })),
            None => Ok(None),
        }
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
