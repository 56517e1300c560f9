//! The second factor of adults as the database keeps it: a person's TOTP secret (RFC 6238) and
//! the last time step it accepted, the enrolment that shows a new secret until a code confirms
//! it, and the one-time recovery codes (stored hashed). Computing and checking codes is the web
//! side's business (`web::second_factor`): this module only stores, and makes each code count
//! once when two requests race (conditional updates). Whether a person must use a factor
//! (administrators) is decided by the caller too.

// FIXME(#6): secrets are stored as they are (base32), readable by whoever reads the database;
// they should be encrypted with a key kept outside it once the configuration carries one.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Store, StoreResult};

/// How long a secret shown for enrolment can still be confirmed, in seconds.
pub const ENROLMENT_LIFETIME_SECS: i64 = 15 * 60;

/// A person's confirmed second factor.
#[derive(Debug, Clone)]
pub struct SecondFactor {
    /// The base32 of the shared secret.
    pub secret: String,
    /// The last TOTP time step accepted: no code of that step or an earlier one is accepted
    /// again.
    pub last_step: i64,
    pub confirmed_at: i64,
    /// The recovery codes not used yet.
    pub recovery_codes_left: i64,
}

/// A secret shown to the person and not confirmed yet.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The base32 of the new secret.
    pub secret: String,
    pub created_at: i64,
}

/// What a confirmed enrolment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// The person had no factor: this is their first.
    Enrolled,
    /// The new secret replaced the person's factor.
    Replaced,
}

/// An enrolment confirmed by a code of `step` (checked by the caller against `secret`).
#[derive(Debug, Clone)]
pub struct Confirmation<'a> {
    pub person_id: &'a str,
    /// The enrolment's secret the code was checked against: if the enrolment changed meanwhile
    /// (another tab drew a new one), nothing is confirmed.
    pub secret: &'a str,
    /// The step of the code that confirmed it: it is the factor's first used step.
    pub step: i64,
    /// The hashes ([`recovery_code_hash`]) of the new recovery codes, which replace the old.
    pub recovery_hashes: &'a [String],
    /// The session the person confirmed from, kept; their other sessions end.
    pub keep_session: &'a str,
    pub now: i64,
}

/// The stored form of a recovery code: the SHA-256 of the person's id and the code (already
/// normalised by the caller), so that the same code of two people never stores the same.
pub fn recovery_code_hash(person_id: &str, code: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(person_id.as_bytes());
    hasher.update(b":");
    hasher.update(code.as_bytes());
    hex::encode(hasher.finalize())
}

impl Store {
    /// The person's confirmed second factor, if they have one.
    ///
    /// # Errors
    /// Database errors.
    pub async fn second_factor(&self, person_id: &str) -> StoreResult<Option<SecondFactor>> {
        let row = sqlx::query(
            "SELECT f.secret, f.last_step, f.confirmed_at, \
             (SELECT COUNT(*) FROM recovery_codes r \
               WHERE r.person_id = f.person_id AND r.used_at IS NULL) AS left_codes \
             FROM second_factors f WHERE f.person_id = $1",
        )
        .bind(person_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SecondFactor {
            secret: row.try_get("secret")?,
            last_step: row.try_get("last_step")?,
            confirmed_at: row.try_get("confirmed_at")?,
            recovery_codes_left: row.try_get("left_codes")?,
        }))
    }

    /// Records a new secret shown to the person for enrolment, replacing any earlier one not
    /// confirmed. The caller draws it (20 bytes from a CSPRNG) and decides who may enrol.
    ///
    /// # Errors
    /// Database errors.
    pub async fn start_enrolment(
        &self,
        person_id: &str,
        secret: &str,
        now: i64,
    ) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO second_factor_enrolments (person_id, secret, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT (person_id) DO UPDATE \
             SET secret = excluded.secret, created_at = excluded.created_at",
        )
        .bind(person_id)
        .bind(secret)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The person's enrolment under way, if one was started less than
    /// [`ENROLMENT_LIFETIME_SECS`] before `now`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn enrolment(&self, person_id: &str, now: i64) -> StoreResult<Option<Enrolment>> {
        let row = sqlx::query(
            "SELECT secret, created_at FROM second_factor_enrolments \
             WHERE person_id = $1 AND created_at > $2",
        )
        .bind(person_id)
        .bind(now.saturating_sub(ENROLMENT_LIFETIME_SECS))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Enrolment {
            secret: row.try_get("secret")?,
            created_at: row.try_get("created_at")?,
        }))
    }

    /// Confirms an enrolment, in one transaction: the enrolment (still fresh, still with this
    /// secret) is used up, the secret becomes the person's factor with the code's step as its
    /// last used one, the recovery codes are replaced, every other session of the person ends,
    /// and the audit log says whether the factor was added or replaced. `None` when there was no
    /// such enrolment (expired, replaced by another, or confirmed by a parallel request).
    ///
    /// # Errors
    /// Database errors.
    pub async fn confirm_enrolment(
        &self,
        confirmation: &Confirmation<'_>,
    ) -> StoreResult<Option<Confirmed>> {
        let person_id = confirmation.person_id;
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "DELETE FROM second_factor_enrolments \
             WHERE person_id = $1 AND secret = $2 AND created_at > $3",
        )
        .bind(person_id)
        .bind(confirmation.secret)
        .bind(confirmation.now.saturating_sub(ENROLMENT_LIFETIME_SECS))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }

        let existing: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM second_factors WHERE person_id = $1")
                .bind(person_id)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO second_factors (person_id, secret, last_step, confirmed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO UPDATE \
             SET secret = excluded.secret, last_step = excluded.last_step, \
             confirmed_at = excluded.confirmed_at",
        )
        .bind(person_id)
        .bind(confirmation.secret)
        .bind(confirmation.step)
        .bind(confirmation.now)
        .execute(&mut *tx)
        .await?;

        sqlx::query("DELETE FROM recovery_codes WHERE person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        for hash in confirmation.recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)")
                .bind(person_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND id_hash <> $2")
            .bind(person_id)
            .bind(confirmation.keep_session)
            .execute(&mut *tx)
            .await?;

        let confirmed = if existing > 0 { Confirmed::Replaced } else { Confirmed::Enrolled };
        let action = match confirmed {
            Confirmed::Enrolled => "second_factor_enrolled",
            Confirmed::Replaced => "second_factor_replaced",
        };
        crate::accounts::audit_in(&mut tx, person_id, action, person_id, "totp").await?;
        tx.commit().await?;
        Ok(Some(confirmed))
    }

    /// Spends a TOTP time step the caller found the typed code to match: true only when the
    /// person has a factor whose last used step is older. One conditional statement, so that
    /// of two requests with the same code (or codes of the same or an older step) only one
    /// passes.
    ///
    /// # Errors
    /// Database errors.
    pub async fn claim_totp_step(&self, person_id: &str, step: i64) -> StoreResult<bool> {
        let _place = self.write_place().await;
        let done = sqlx::query(
            "UPDATE second_factors SET last_step = $2 WHERE person_id = $1 AND last_step < $2",
        )
        .bind(person_id)
        .bind(step)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends one recovery code (by its [`recovery_code_hash`]) at `now`: true only the first
    /// time, and only when the person still has a factor.
    ///
    /// # Errors
    /// Database errors.
    pub async fn use_recovery_code(
        &self,
        person_id: &str,
        code_hash: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 \
             WHERE person_id = $1 AND code_hash = $2 AND used_at IS NULL \
             AND EXISTS (SELECT 1 FROM second_factors f WHERE f.person_id = $1)",
        )
        .bind(person_id)
        .bind(code_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::accounts::audit_in(&mut tx, person_id, "recovery_code_used", person_id, "").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the person's factor, in one transaction: the secret, the recovery codes and any
    /// enrolment under way go, every session of the person but `keep_session` ends (`""`: all
    /// of them), and the audit log keeps who did it (`actor_id`: the person themselves, or an
    /// administrator resetting the factor of someone who lost it). False when the person had no
    /// factor. Whether they may (administrators may not remove their own) and the
    /// re-authentication are the caller's.
    ///
    /// # Errors
    /// Database errors.
    pub async fn remove_second_factor(
        &self,
        actor_id: &str,
        person_id: &str,
        keep_session: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM second_factors WHERE person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for statement in [
            "DELETE FROM recovery_codes WHERE person_id = $1",
            "DELETE FROM second_factor_enrolments WHERE person_id = $1",
        ] {
            sqlx::query(statement).bind(person_id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND id_hash <> $2")
            .bind(person_id)
            .bind(keep_session)
            .execute(&mut *tx)
            .await?;
        crate::accounts::audit_in(&mut tx, actor_id, "second_factor_removed", person_id, "")
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
