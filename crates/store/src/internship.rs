//! The 3e internship platform's data: reference lists (`reference`: sectors and the gazetteer
//! of communes), host organisations and their people (`hosts`), offers (`offers`) and the
//! partner platforms that push them (`partners`), the collèges' weeks and the pupils' status
//! (`schools`), the offer search (`search`), applications and their state machine
//! (`applications`), agreements (`agreements`), their signatures and signing links
//! (`signatures`), the seal of a signed agreement (`seal`), the département's settings and
//! collège profiles (`desk`) and statistics (`stats`), and the e-mails waiting for the
//! notification worker (here). Every function that returns someone else's data takes the
//! viewer and checks their right in its SQL.

pub mod agreements;
pub mod applications;
pub mod desk;
pub mod hosts;
pub mod offers;
pub mod partners;
pub mod reference;
pub mod schools;
pub mod seal;
pub mod search;
pub mod signatures;
pub mod stats;

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Store, StoreResult, new_id};

/// The outbox kind of an internship e-mail; its subject is an `internship_mails` id.
pub const MAIL_OUTBOX_KIND: &str = "internship_mail";

/// The SHA-256 of a secret (a token or a code), in lower-case hex: what is stored of it.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh URL-safe secret of 32 random bytes, in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// Today's date in Paris, for the checks of the weeks an offer is open (a form does not know
/// which collège will read it; the département's collèges share the metropolitan calendar).
pub fn today_in_paris() -> jiff::civil::Date {
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    domain::timetable::local_date_minute(jiff::Timestamp::now(), &zone).0
}

/// A person's place in a host organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMembership {
    pub host_id: String,
    pub host_name: String,
    /// `manager` or `member`.
    pub role: String,
    pub status: domain::internship::HostStatus,
}

/// An internship e-mail waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMail {
    pub id: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
}

/// Queues an e-mail inside the caller's transaction: it is sent by the notification worker
/// once the transaction commits, and never if it rolls back.
pub(crate) async fn queue_mail_in(
    conn: &mut sqlx::AnyConnection,
    to_email: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> StoreResult<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO internship_mails (id, to_email, subject, body, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(to_email)
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    crate::outbox::enqueue(conn, MAIL_OUTBOX_KIND, &id, now).await
}

impl Store {
    /// The host organisation `person_id` belongs to, if any (merged hosts are followed by
    /// their members' move, so a member is always in a live host).
    pub async fn host_membership(&self, person_id: &str) -> StoreResult<Option<HostMembership>> {
        let row = sqlx::query(
            "SELECT h.id, h.name, m.role, h.status FROM host_members m \
             JOIN hosts h ON h.id = m.host_id WHERE m.person_id = $1",
        )
        .bind(person_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get(3)?;
        let status = domain::internship::HostStatus::parse(&status)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("host status {status}")))?;
        Ok(Some(HostMembership {
            host_id: row.try_get(0)?,
            host_name: row.try_get(1)?,
            role: row.try_get(2)?,
            status,
        }))
    }

    /// An internship e-mail not sent yet, for the notification worker; `None` once sent.
    pub async fn pending_internship_mail(&self, id: &str) -> StoreResult<Option<PendingMail>> {
        let row = sqlx::query(
            "SELECT id, to_email, subject, body FROM internship_mails \
             WHERE id = $1 AND sent_at IS NULL",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PendingMail {
            id: row.try_get(0)?,
            to_email: row.try_get(1)?,
            subject: row.try_get(2)?,
            body: row.try_get(3)?,
        }))
    }

    /// Marks an internship e-mail sent and forgets its body (it may hold a signing code).
    pub async fn internship_mail_sent(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE internship_mails SET sent_at = $2, body = '' WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
