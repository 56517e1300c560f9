//! Accounts as the web side sees them: looking an account up by login, activating it with its
//! code, changing its password, issuing a new code, the per-login throttle, preferences, the
//! audit log and the activation codes a school prints. Password hashing itself is the caller's
//! business: this module only stores PHC strings.

use std::time::Duration;

use domain::profile::Profile;
use sqlx::Row;

use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// What a login attempt needs to know about an account.
#[derive(Debug, Clone)]
pub struct LoginAccount {
    pub person_id: String,
    pub login: String,
    pub password_hash: Option<String>,
    /// Whether the account may log in: activated, not frozen, person active.
    pub usable: bool,
}

/// What an activation needs to know about an account.
#[derive(Debug, Clone)]
pub struct ActivationTarget {
    pub person_id: String,
    pub login: String,
    pub profile: Profile,
    pub last_name: String,
    pub first_name: String,
    /// `YYYY-MM-DD` as stored in `people.birth_date`.
    pub birth_date: Option<String>,
    /// Whether a live code exists (set, not expired) and the person is active.
    pub code_alive: bool,
    pub code: Option<String>,
}

/// One line of the activation codes a school prints (see `contract.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationCodeRow {
    pub uai: String,
    pub school_name: String,
    pub class_code: Option<String>,
    pub profile: Profile,
    pub last_name: String,
    pub first_name: String,
    pub login: String,
    /// `None` once the account is activated (the code is then dead).
    pub code: Option<String>,
    /// `YYYY-MM-DD`, Europe/Paris.
    pub expires_on: Option<String>,
    /// For a relative: the pupil(s) of that class/school it is printed for.
    pub for_pupils: Vec<String>,
}

/// The failures recorded for one typed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i64,
    pub last_failure_ms: i64,
}

/// The wait after `extra` failures beyond the free ones, as [`Store::throttle_reserve`]
/// applies it: 1 s, doubling, capped at `max_delay_ms`.
pub fn throttle_delay_ms(extra: i64, max_delay_ms: i64) -> i64 {
    match extra {
        ..=0 => 1000,
        1..=5 => 1000 << extra,
        _ => max_delay_ms,
    }
    .min(max_delay_ms)
}

/// A fresh activation code from the operating system's CSPRNG.
pub fn new_activation_code() -> String {
    loop {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        if let Some(code) = domain::activation::code_from_random(bytes) {
            return code;
        }
    }
}

/// A Unix instant as a civil date in Europe/Paris (`YYYY-MM-DD`).
pub fn paris_date(unix: i64) -> Option<String> {
    let timestamp = jiff::Timestamp::from_second(unix).ok()?;
    let zoned = match jiff::tz::TimeZone::get("Europe/Paris") {
        Ok(tz) => timestamp.to_zoned_datetime(tz),
        Err(_) => timestamp.to_zoned_datetime(jiff::tz::TimeZone::UTC),
    };
    Some(zoned.date().to_string())
}

impl Store {
    /// The account a typed (already normalised) login names, if any.
    pub async fn login_account(&self, login: &str) -> StoreResult<Option<LoginAccount>> {
        let row = sqlx::query(
            "SELECT a.person_id, a.login, a.password_hash, a.activated_at, a.frozen, p.active \
             FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.login = $1",
        )
        .bind(login)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };

        let activated: Option<i64> = row.try_get("activated_at")?;
        let frozen: i64 = row.try_get("frozen")?;
        let active: i64 = row.try_get("active")?;
        let password_hash: Option<String> = row.try_get("password_hash")?;
        Ok(Some(LoginAccount {
            person_id: row.try_get("person_id")?,
            login: row.try_get("login")?,
            usable: activated.is_some() && frozen == 0 && active == 1 && password_hash.is_some(),
            password_hash,
        }))
    }

    /// The login of a person's account, if they have one.
    pub async fn login_of(&self, person_id: &str) -> StoreResult<Option<String>> {
        let login = sqlx::query_scalar("SELECT login FROM accounts WHERE person_id = $1")
            .bind(person_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(login)
    }

    /// The account an activation form names, if any.
    pub async fn activation_target(&self, login: &str) -> StoreResult<Option<ActivationTarget>> {
        let row = sqlx::query(
            "SELECT a.person_id, a.login, a.activation_code, a.activation_expires_at, a.frozen, \
             p.active, p.profile, p.last_name, p.first_name, p.birth_date \
             FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.login = $1",
        )
        .bind(login)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };

        let code: Option<String> = row.try_get("activation_code")?;
        let expires: Option<i64> = row.try_get("activation_expires_at")?;
        let frozen: i64 = row.try_get("frozen")?;
        let active: i64 = row.try_get("active")?;
        let profile: String = row.try_get("profile")?;
        let profile = Profile::parse(&profile)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown profile {profile}")))?;
        let code_alive = code.is_some()
            && expires.is_some_and(|at| at > now_unix())
            && frozen == 0
            && active == 1;
        Ok(Some(ActivationTarget {
            person_id: row.try_get("person_id")?,
            login: row.try_get("login")?,
            profile,
            last_name: row.try_get("last_name")?,
            first_name: row.try_get("first_name")?,
            birth_date: row.try_get("birth_date")?,
            code_alive,
            code,
        }))
    }

    /// Activates an account: stores the password hash and kills the code, only if `code` is still
    /// the live code. Returns whether it did (a concurrent activation makes it `false`).
    pub async fn activate_account(
        &self,
        person_id: &str,
        code: &str,
        password_hash: &str,
    ) -> StoreResult<bool> {
        let now = now_unix();
        let done = sqlx::query(
            "UPDATE accounts SET password_hash = $1, activation_code = NULL, \
             activation_expires_at = NULL, activated_at = $2, password_changed_at = $2 \
             WHERE person_id = $3 AND activation_code = $4 AND activation_expires_at > $2 \
             AND frozen = 0",
        )
        .bind(password_hash)
        .bind(now)
        .bind(person_id)
        .bind(code)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a password hash (a rehash at login or a new password) without touching sessions.
    pub async fn set_password_hash(&self, person_id: &str, password_hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE person_id = $2")
            .bind(password_hash)
            .bind(person_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Sets a new password chosen for the person (by themselves or by their parent) and ends
    /// every session of the person except `keep` (the hash of the current session, when the
    /// person changes their own password), in one transaction.
    pub async fn change_password(
        &self,
        person_id: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, password_changed_at = $2, \
             activated_at = COALESCE(activated_at, $2), activation_code = NULL, \
             activation_expires_at = NULL WHERE person_id = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND id_hash <> $2")
            .bind(person_id)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        // What the person let applications keep (OpenID Connect refresh tokens) goes too.
        crate::sso::oidc::revoke_person_grants_in(&mut tx, person_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues a new activation code: the old password stops working, every session of the
    /// person ends, and the person activates the account again. Returns the code.
    pub async fn issue_activation_code(
        &self,
        person_id: &str,
        validity: Duration,
    ) -> StoreResult<String> {
        let code = new_activation_code();
        let expires = now_unix().saturating_add(i64::try_from(validity.as_secs()).unwrap_or(0));
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE accounts SET activation_code = $1, activation_expires_at = $2, \
             password_hash = NULL, activated_at = NULL WHERE person_id = $3",
        )
        .bind(&code)
        .bind(expires)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        crate::sso::oidc::revoke_person_grants_in(&mut tx, person_id, now_unix()).await?;
        tx.commit().await?;
        Ok(code)
    }

    /// The failures recorded for a typed login key.
    pub async fn throttle_state(&self, key: &str) -> StoreResult<Option<ThrottleState>> {
        let row = sqlx::query(
            "SELECT failures, last_failure_ms FROM login_throttle WHERE login_key = $1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some(ThrottleState {
                failures: row.try_get("failures")?,
                last_failure_ms: row.try_get("last_failure_ms")?,
            })),
            None => Ok(None),
        }
    }

    /// Records one more failure for a typed login key at `now_ms`.
    pub async fn throttle_failure(&self, key: &str, now_ms: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_throttle (login_key, failures, last_failure_ms) VALUES ($1, 1, $2) \
             ON CONFLICT (login_key) DO UPDATE SET failures = login_throttle.failures + 1, \
             last_failure_ms = excluded.last_failure_ms",
        )
        .bind(key)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Reserves one attempt for a typed login key at `now_ms`, atomically, and counts it as a
    /// failure in advance (a success then calls [`Store::throttle_reset`]). The first
    /// `free_failures` attempts always pass; after that an attempt passes only once the delay
    /// since the last one has run out: 1 s, 2 s, 4 s … doubling up to `max_delay_ms`. Because
    /// the check and the count are one statement, a burst of parallel attempts cannot slip
    /// through between them. Returns `None` when the attempt may go on, or the milliseconds
    /// left to wait.
    ///
    /// # Errors
    /// Database errors.
    pub async fn throttle_reserve(
        &self,
        key: &str,
        now_ms: i64,
        free_failures: i64,
        max_delay_ms: i64,
    ) -> StoreResult<Option<i64>> {
        let reserved = sqlx::query(
            "INSERT INTO login_throttle (login_key, failures, last_failure_ms) VALUES ($1, 1, $2) \
             ON CONFLICT (login_key) DO UPDATE SET failures = login_throttle.failures + 1, \
             last_failure_ms = excluded.last_failure_ms \
             WHERE login_throttle.failures < $3 OR login_throttle.last_failure_ms + \
               CASE login_throttle.failures - $3 WHEN 0 THEN 1000 WHEN 1 THEN 2000 \
               WHEN 2 THEN 4000 WHEN 3 THEN 8000 WHEN 4 THEN 16000 WHEN 5 THEN 32000 \
               ELSE $4 END <= excluded.last_failure_ms",
        )
        .bind(key)
        .bind(now_ms)
        .bind(free_failures)
        .bind(max_delay_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        if reserved == 1 {
            return Ok(None);
        }

        let state = self.throttle_state(key).await?;
        let remaining = state.map_or(1000, |state| {
            let delay = throttle_delay_ms(state.failures - free_failures, max_delay_ms);
            state.last_failure_ms.saturating_add(delay) - now_ms
        });
        Ok(Some(remaining.max(1)))
    }

    /// Forgets the failures of a typed login key (after a success).
    pub async fn throttle_reset(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_throttle WHERE login_key = $1")
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The names and towns of the schools a person belongs to (their own, or their children's),
    /// which a password must not be built on.
    ///
    /// # Errors
    /// Database errors.
    pub async fn school_words(&self, person_id: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.name, COALESCE(s.city, '') AS city FROM schools s WHERE s.id IN ( \
               SELECT m.school_id FROM ({}) m)",
            crate::directory::school_memberships(Some("$1"))
        )))
        .bind(person_id)
        .fetch_all(self.pool())
        .await?;
        let mut words = Vec::new();
        for row in &rows {
            words.push(row.try_get::<String, _>("name")?);
            words.push(row.try_get::<String, _>("city")?);
        }
        Ok(words)
    }

    /// Whether the person reads in the DYS reading mode.
    pub async fn reading_mode(&self, person_id: &str) -> StoreResult<bool> {
        let mode: Option<i64> =
            sqlx::query_scalar("SELECT reading_mode FROM preferences WHERE person_id = $1")
                .bind(person_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(mode == Some(1))
    }

    /// Switches the DYS reading mode on or off.
    pub async fn set_reading_mode(&self, person_id: &str, on: bool) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO preferences (person_id, reading_mode) VALUES ($1, $2) \
             ON CONFLICT (person_id) DO UPDATE SET reading_mode = excluded.reading_mode",
        )
        .bind(person_id)
        .bind(i64::from(on))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Appends one entry to the audit log, on its own (see [`audit_in`] inside a transaction).
    /// `detail` never holds a password, code or session id.
    pub async fn audit(
        &self,
        actor_id: Option<&str>,
        action: &str,
        target_id: Option<&str>,
        detail: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_id, action, target_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(now_unix())
        .bind(actor_id.map(str::to_owned))
        .bind(action)
        .bind(target_id.map(str::to_owned))
        .bind(detail)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The codes of a school's people (pupils, their legal guardians, staff and teachers), or of
    /// one class (its pupils and their legal guardians), sorted by class then name. Frozen
    /// accounts are left out: their code cannot be used. Expired codes
    /// are renewed (new code, new expiry) before being returned.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no active school has this UAI, or the class does not exist.
    pub async fn activation_codes(
        &self,
        uai: &str,
        class_code: Option<&str>,
        validity: Duration,
    ) -> StoreResult<Vec<ActivationCodeRow>> {
        let school = sqlx::query("SELECT id, name FROM schools WHERE uai = $1 AND active = 1")
            .bind(uai)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        let school_id: String = school.try_get("id")?;
        let school_name: String = school.try_get("name")?;
        if let Some(code) = class_code {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT id FROM classes WHERE school_id = $1 AND code = $2")
                    .bind(&school_id)
                    .bind(code)
                    .fetch_optional(self.pool())
                    .await?;
            exists.ok_or(StoreError::NotFound)?;
        }

        self.renew_expired_codes(&school_id, validity).await?;

        let mut rows = self.class_code_rows(&school_id, uai, &school_name, class_code).await?;
        if class_code.is_none() {
            rows.extend(self.staff_code_rows(&school_id, uai, &school_name).await?);
        }
        rows.sort_by(|a, b| {
            (a.class_code.is_none(), &a.class_code, &a.last_name, &a.first_name, &a.login).cmp(&(
                b.class_code.is_none(),
                &b.class_code,
                &b.last_name,
                &b.first_name,
                &b.login,
            ))
        });
        Ok(rows)
    }

    /// Gives a new code to every not-yet-activated account of the school whose code expired.
    async fn renew_expired_codes(&self, school_id: &str, validity: Duration) -> StoreResult<()> {
        let now = now_unix();
        let expired: Vec<String> = sqlx::query_scalar(
            "SELECT a.person_id FROM accounts a WHERE a.activated_at IS NULL \
             AND (a.activation_code IS NULL OR a.activation_expires_at IS NULL \
                  OR a.activation_expires_at <= $2) \
             AND (a.person_id IN (SELECT person_id FROM person_schools WHERE school_id = $1) \
               OR a.person_id IN (SELECT pc.pupil_id FROM pupil_classes pc \
                    JOIN classes c ON c.id = pc.class_id WHERE c.school_id = $1) \
               OR a.person_id IN (SELECT g.relative_id FROM guardianships g \
                    JOIN pupil_classes pc ON pc.pupil_id = g.pupil_id \
                    JOIN classes c ON c.id = pc.class_id WHERE c.school_id = $1 \
                    AND g.legal IN (1, 2)))",
        )
        .bind(school_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?;

        let expires = now.saturating_add(i64::try_from(validity.as_secs()).unwrap_or(0));
        for person_id in expired {
            sqlx::query(
                "UPDATE accounts SET activation_code = $1, activation_expires_at = $2 \
                 WHERE person_id = $3 AND activated_at IS NULL",
            )
            .bind(new_activation_code())
            .bind(expires)
            .bind(&person_id)
            .execute(self.pool())
            .await?;
        }
        Ok(())
    }

    async fn class_code_rows(
        &self,
        school_id: &str,
        uai: &str,
        school_name: &str,
        class_code: Option<&str>,
    ) -> StoreResult<Vec<ActivationCodeRow>> {
        let pupils = sqlx::query(
            "SELECT c.code AS class_code, p.id, p.profile, p.last_name, p.first_name, a.login, \
             a.activation_code, a.activation_expires_at, a.activated_at \
             FROM pupil_classes pc JOIN classes c ON c.id = pc.class_id \
             JOIN people p ON p.id = pc.pupil_id \
             JOIN accounts a ON a.person_id = p.id AND a.frozen = 0 \
             WHERE c.school_id = $1 AND ($2 = '' OR c.code = $2) AND p.active = 1",
        )
        .bind(school_id)
        .bind(class_code.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let relatives = sqlx::query(
            "SELECT c.code AS class_code, r.id, r.profile, r.last_name, r.first_name, a.login, \
             a.activation_code, a.activation_expires_at, a.activated_at, \
             p.first_name AS pupil_first, p.last_name AS pupil_last \
             FROM pupil_classes pc JOIN classes c ON c.id = pc.class_id \
             JOIN people p ON p.id = pc.pupil_id \
             JOIN guardianships g ON g.pupil_id = p.id AND g.legal IN (1, 2) \
             JOIN people r ON r.id = g.relative_id \
             JOIN accounts a ON a.person_id = r.id AND a.frozen = 0 \
             WHERE c.school_id = $1 AND ($2 = '' OR c.code = $2) AND p.active = 1 \
             AND r.active = 1 ORDER BY p.last_name, p.first_name",
        )
        .bind(school_id)
        .bind(class_code.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;

        let mut out = Vec::new();
        for row in &pupils {
            out.push(code_row(row, uai, school_name, true)?);
        }
        let mut by_key: std::collections::BTreeMap<(String, String), ActivationCodeRow> =
            std::collections::BTreeMap::new();
        for row in &relatives {
            let class: String = row.try_get("class_code")?;
            let id: String = row.try_get("id")?;
            let pupil_first: String = row.try_get("pupil_first")?;
            let pupil_last: String = row.try_get("pupil_last")?;
            let pupil = format!("{pupil_first} {pupil_last}");
            match by_key.entry((class, id)) {
                std::collections::btree_map::Entry::Occupied(mut entry) => {
                    entry.get_mut().for_pupils.push(pupil);
                }
                std::collections::btree_map::Entry::Vacant(entry) => {
                    let mut line = code_row(row, uai, school_name, true)?;
                    line.for_pupils.push(pupil);
                    entry.insert(line);
                }
            }
        }
        out.extend(by_key.into_values());
        Ok(out)
    }

    async fn staff_code_rows(
        &self,
        school_id: &str,
        uai: &str,
        school_name: &str,
    ) -> StoreResult<Vec<ActivationCodeRow>> {
        let rows = sqlx::query(
            "SELECT p.id, p.profile, p.last_name, p.first_name, a.login, a.activation_code, \
             a.activation_expires_at, a.activated_at \
             FROM person_schools ps JOIN people p ON p.id = ps.person_id \
             JOIN accounts a ON a.person_id = p.id AND a.frozen = 0 \
             WHERE ps.school_id = $1 AND p.profile IN ('teacher', 'staff') AND p.active = 1",
        )
        .bind(school_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| code_row(row, uai, school_name, false)).collect()
    }
}

fn code_row(
    row: &sqlx::any::AnyRow,
    uai: &str,
    school_name: &str,
    with_class: bool,
) -> StoreResult<ActivationCodeRow> {
    let profile: String = row.try_get("profile")?;
    let profile = Profile::parse(&profile)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown profile {profile}")))?;
    let activated: Option<i64> = row.try_get("activated_at")?;
    let code: Option<String> = row.try_get("activation_code")?;
    let expires: Option<i64> = row.try_get("activation_expires_at")?;
    let (code, expires_on) = match activated {
        Some(_) => (None, None),
        None => (code, expires.and_then(paris_date)),
    };
    Ok(ActivationCodeRow {
        uai: uai.to_owned(),
        school_name: school_name.to_owned(),
        class_code: if with_class { Some(row.try_get("class_code")?) } else { None },
        profile,
        last_name: row.try_get("last_name")?,
        first_name: row.try_get("first_name")?,
        login: row.try_get("login")?,
        code,
        expires_on,
        for_pupils: Vec::new(),
    })
}

/// Appends one entry to the audit log inside the transaction of the act it records, so that
/// an act and its entry commit together. `detail` never holds a password, code or session id.
pub(crate) async fn audit_in(
    conn: &mut sqlx::AnyConnection,
    actor_id: &str,
    action: &str,
    target_id: &str,
    detail: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, action, target_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(now_unix())
    .bind(actor_id)
    .bind(action)
    .bind(target_id)
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
