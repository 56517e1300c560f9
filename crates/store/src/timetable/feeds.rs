//! Private calendar feeds: a secret, revocable URL per person and subject, stored hashed.
//!
//! A token is 32 random bytes written in hex (64 characters); only its SHA-256 (hex) is
//! stored, like a session id. A person has at most [`MAX_LIVE_FEEDS`] live feeds, of their own
//! timetable or of a child they are the legal guardian of. A token stops working at once when
//! revoked, when its owner's account is frozen or deactivated, or when the owner is no longer
//! the subject's legal guardian. Feeds do not render calendars (see `formats::timetable::ical`).

use jiff::civil::Date;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::views::{current, teacher_schools};
use super::{one_line, parse_date};
use crate::directory::membership_clock;
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// The most live feeds one person may have.
pub const MAX_LIVE_FEEDS: i64 = 10;

/// The longest label kept, in characters.
const MAX_LABEL_CHARS: usize = 80;

/// How often the last use of a feed is written at most, in seconds.
const USE_RECORD_SECS: i64 = 60;

/// A feed as its owner lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFeed {
    pub id: String,
    pub subject_id: String,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A feed just created: the secret is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    pub id: String,
    pub token: String,
}

/// Who a feed's token serves: the owner (as viewer) and the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedAccess {
    pub feed_id: String,
    pub owner_id: String,
    pub subject_id: String,
    /// Whether the subject is a teacher (merged view) or a pupil.
    pub subject_is_teacher: bool,
    /// The zone of the subject's first school (by name), where "today" is for the feed;
    /// `Europe/Paris` for a subject without a school.
    pub time_zone: String,
    /// The last day of the latest school year among the subject's schools, where the feed
    /// ends; `None` before any timetable import.
    pub year_end: Option<Date>,
}

/// The stored form of a token.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// "The owner `f.person_id` may still follow the subject `f.subject_id`": themself, or the
/// legal guardian of an active pupil.
const OWNER_MAY_SEE: &str = "(f.subject_id = f.person_id OR EXISTS (SELECT 1 FROM guardianships g \
     JOIN people kid ON kid.id = g.pupil_id WHERE g.pupil_id = f.subject_id \
     AND g.relative_id = f.person_id AND g.legal IN (1, 2) AND kid.active = 1 \
     AND kid.profile = 'pupil'))";

impl Store {
    /// Creates a feed of `subject_id`'s timetable for `owner_id` (themself, or a parent's
    /// child); `NotFound` if the owner may not see it. At most 10 live feeds per person.
    pub async fn create_feed(
        &self,
        owner_id: &str,
        subject_id: &str,
        label: &str,
    ) -> StoreResult<NewFeed> {
        let label: String = one_line(label).chars().take(MAX_LABEL_CHARS).collect();
        let label = match label.trim() {
            "" => "Emploi du temps".to_owned(),
            text => text.to_owned(),
        };
        let mut tx = self.begin_write().await?;
        let allowed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM people o JOIN accounts a ON a.person_id = o.id \
             JOIN people s ON s.id = $2 \
             WHERE o.id = $1 AND o.active = 1 AND a.frozen = 0 AND s.active = 1 \
             AND (($1 = $2 AND s.profile IN ('pupil', 'teacher', 'staff')) \
               OR (s.profile = 'pupil' AND EXISTS (SELECT 1 FROM guardianships g \
                 WHERE g.pupil_id = $2 AND g.relative_id = $1 AND g.legal IN (1, 2))))",
        )
        .bind(owner_id)
        .bind(subject_id)
        .fetch_one(&mut *tx)
        .await?;
        if allowed == 0 {
            return Err(StoreError::NotFound);
        }
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM calendar_feeds WHERE person_id = $1 AND revoked_at IS NULL",
        )
        .bind(owner_id)
        .fetch_one(&mut *tx)
        .await?;
        if live >= MAX_LIVE_FEEDS {
            return Err(StoreError::Conflict(format!(
                "Vous avez déjà {MAX_LIVE_FEEDS} calendriers partagés : révoquez-en un d'abord."
            )));
        }

        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let id = new_id();
        sqlx::query(
            "INSERT INTO calendar_feeds (id, person_id, subject_id, token_hash, label, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(subject_id)
        .bind(token_hash(&token))
        .bind(&label)
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NewFeed { id, token })
    }

    /// The owner's live feeds, newest first.
    pub async fn feeds(&self, owner_id: &str) -> StoreResult<Vec<CalendarFeed>> {
        sqlx::query(
            "SELECT id, subject_id, label, created_at, last_used_at FROM calendar_feeds \
             WHERE person_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
        )
        .bind(owner_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(CalendarFeed {
                id: row.try_get("id")?,
                subject_id: row.try_get("subject_id")?,
                label: row.try_get("label")?,
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
            })
        })
        .collect()
    }

    /// Revokes one of the owner's feeds at once; `NotFound` for a feed that is not theirs or
    /// already revoked.
    pub async fn revoke_feed(&self, owner_id: &str, feed_id: &str) -> StoreResult<()> {
        let _place = self.write_place().await;
        let revoked = sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $3 \
             WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL",
        )
        .bind(feed_id)
        .bind(owner_id)
        .bind(now_unix())
        .execute(self.pool())
        .await?
        .rows_affected();
        if revoked == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The live feed of a token (compared by hash), with its use recorded (at most once a
    /// minute); `NotFound` for a revoked or unknown token, or an owner whose account is frozen
    /// or gone.
    pub async fn feed_by_token(&self, token: &str) -> StoreResult<FeedAccess> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT f.id, f.person_id, f.subject_id, s.profile, f.last_used_at \
             FROM calendar_feeds f JOIN people o ON o.id = f.person_id \
             JOIN accounts a ON a.person_id = f.person_id JOIN people s ON s.id = f.subject_id \
             WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND o.active = 1 \
             AND a.frozen = 0 AND a.activated_at IS NOT NULL AND s.active = 1 \
             AND {OWNER_MAY_SEE}"
        )))
        .bind(token_hash(&token.to_ascii_lowercase()))
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let profile: String = row.try_get("profile")?;
        let last_used: Option<i64> = row.try_get("last_used_at")?;
        let subject_id: String = row.try_get("subject_id")?;
        let subject_is_teacher = profile == "teacher" || profile == "staff";
        let (time_zone, year_end) = self.subject_calendar(&subject_id, subject_is_teacher).await?;
        let access = FeedAccess {
            feed_id: row.try_get("id")?,
            owner_id: row.try_get("person_id")?,
            subject_id,
            subject_is_teacher,
            time_zone,
            year_end,
        };

        let now = now_unix();
        if last_used.is_none_or(|at| now - at >= USE_RECORD_SECS) {
            let _place = self.write_place().await;
            sqlx::query("UPDATE calendar_feeds SET last_used_at = $2 WHERE id = $1")
                .bind(&access.feed_id)
                .bind(now)
                .execute(self.pool())
                .await?;
        }
        Ok(access)
    }

    /// The zone of the subject's first school and the latest end of their schools' years:
    /// a teacher's schools, or a pupil's current classes' and attachments'.
    async fn subject_calendar(
        &self,
        subject_id: &str,
        teacher: bool,
    ) -> StoreResult<(String, Option<Date>)> {
        let schools = if teacher {
            teacher_schools("$1")
        } else {
            format!(
                "SELECT k.school_id FROM pupil_classes pc JOIN classes k ON k.id = pc.class_id \
                 WHERE pc.pupil_id = $1 AND {} \
                 UNION SELECT school_id FROM person_schools WHERE person_id = $1",
                current("pc", "$2")
            )
        };
        let sql = format!(
            "SELECT s.time_zone, (SELECT MAX(y.last_day) FROM school_years y \
               WHERE y.school_id IN ({schools})) AS year_end \
             FROM schools s WHERE s.active = 1 AND $2 = $2 AND s.id IN ({schools}) \
             ORDER BY s.name, s.id LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(subject_id)
            .bind(membership_clock())
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok((domain::time_zone::DEFAULT_ZONE.to_owned(), None));
        };
        let year_end: Option<String> = row.try_get("year_end")?;
        let year_end = match year_end {
            Some(text) => Some(parse_date(&text)?),
            None => None,
        };
        Ok((row.try_get("time_zone")?, year_end))
    }
}
