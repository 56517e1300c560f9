//! The CAS server's state: service and proxy tickets (single use, consumed by the one
//! validation attempt that deletes them), proxy-granting tickets (alive while the session they
//! came from lives), and the login requests that prove credentials were presented for one
//! `/cas/login` (CAS `renew`). Only the SHA-256 of a ticket or token is stored. Tickets are drawn
//! here from the operating system's CSPRNG in `[A-Za-z0-9]` after their prefix. What a ticket is
//! valid for (service, renew, second factor) is decided by the web layer from what this module
//! returns; nothing here knows HTTP or the protocol's XML.

use domain::sso::TicketKind;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::cache::{GENERATION_COLUMNS, Generations};
use crate::{Store, StoreError, StoreResult};

/// How long an unvalidated service or proxy ticket lives, in seconds. Pronote and the other
/// clients validate a ticket as soon as the browser lands on them, within a second or two; a
/// minute leaves room for a slow phone connection and a busy application server, and is five
/// times shorter than the protocol's recommended ceiling (five minutes). A ticket that leaks
/// (browser history, an application's own logs) is useless after that, and after one use.
pub const SERVICE_TICKET_TTL_SECS: i64 = 60;

/// How long a login request waits for the person to type their password, in seconds.
pub const LOGIN_REQUEST_TTL_SECS: i64 = 15 * 60;

/// Random characters after the prefix of a service or proxy ticket: 29 characters of 62 are
/// 172 bits, and `ST-` plus 29 is 32 characters, the length every client must accept.
const TICKET_RANDOM_CHARS: usize = 29;
/// Random characters of a proxy-granting ticket, its IOU and a login request token (256 bits);
/// `PGTIOU-` plus 43 stays under the 64 characters every client must accept.
const LONG_RANDOM_CHARS: usize = 43;

/// A ticket to issue.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    /// [`TicketKind::Service`] (`ST-`) or [`TicketKind::Proxy`] (`PT-`).
    pub kind: TicketKind,
    pub service_id: &'a str,
    /// The exact service URL the ticket is for; validation must name the same.
    pub service_url: &'a str,
    pub person_id: &'a str,
    /// The SSO session it comes from; the ticket dies with it.
    pub session_hash: &'a str,
    /// Credentials were presented for this very ticket (CAS `renew`, `isFromNewLogin`).
    pub from_new_login: bool,
    /// The session had passed its second factor.
    pub second_factor: bool,
    /// When the session's credentials were presented (Unix seconds).
    pub authenticated_at: i64,
    /// A proxy ticket's chain of proxy callback URLs, most recent first.
    pub proxies: &'a [String],
}

/// A proxy-granting ticket to issue, for the session of a ticket just validated.
#[derive(Debug, Clone)]
pub struct NewProxyGranting<'a> {
    pub service_id: &'a str,
    pub person_id: &'a str,
    pub session_hash: &'a str,
    pub second_factor: bool,
    pub authenticated_at: i64,
    /// The chain of proxy callback URLs, the new callback first.
    pub proxies: &'a [String],
}

/// A ticket consumed by a validation attempt, still within its life and its session's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedTicket {
    pub kind: TicketKind,
    pub service_id: String,
    pub service_url: String,
    pub person_id: String,
    pub session_hash: String,
    pub from_new_login: bool,
    pub second_factor: bool,
    pub authenticated_at: i64,
    pub proxies: Vec<String>,
    /// The generations when it was consumed: what the validation reads next may be kept
    /// answers under them.
    pub generations: Generations,
}

/// A live proxy-granting ticket, as `/cas/proxy` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyGranting {
    pub service_id: String,
    pub person_id: String,
    pub session_hash: String,
    pub second_factor: bool,
    pub authenticated_at: i64,
    /// The chain of proxy callback URLs, this ticket's own first.
    pub proxies: Vec<String>,
}

/// A proxy-granting ticket just drawn and stored, and its IOU (not stored: it only correlates
/// the validation response with the callback).
#[derive(Debug, Clone)]
pub struct IssuedProxyGranting {
    pub ticket: String,
    pub iou: String,
}

/// A pending login request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub service_url: String,
    pub created_at: i64,
    /// The session the browser had when the request began, if any: a session opened by new
    /// credentials is always another one.
    pub previous_session_hash: Option<String>,
}

impl LoginRequest {
    /// Whether the session `session_hash`, opened at `authenticated_at`, was opened by
    /// credentials presented after this request began.
    pub fn answered_by(&self, session_hash: &str, authenticated_at: i64) -> bool {
        authenticated_at >= self.created_at
            && self.previous_session_hash.as_deref() != Some(session_hash)
    }
}

/// The stored form of a ticket or token.
pub fn ticket_hash(ticket: &str) -> String {
    hex::encode(Sha256::digest(ticket.as_bytes()))
}

/// The first 12 hexadecimal digits of a ticket's hash: what logs may show of it.
pub fn ticket_log_id(ticket: &str) -> String {
    ticket_hash(ticket)[..12].to_owned()
}

/// `n` characters of `[A-Za-z0-9]` from the CSPRNG, without bias (bytes of 248 and above are
/// drawn again: 248 is the largest multiple of 62 in a byte).
pub fn random_base62(n: usize) -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    let mut bytes = [0u8; 64];
    while out.len() < n {
        rand::fill(&mut bytes[..]);
        for byte in bytes {
            if byte < 248 && out.len() < n {
                out.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    out
}

fn prefix_of(kind: TicketKind) -> &'static str {
    match kind {
        TicketKind::Service => "ST",
        TicketKind::Proxy => "PT",
        TicketKind::ProxyGranting => "PGT",
    }
}

fn proxies_json(proxies: &[String]) -> StoreResult<String> {
    serde_json::to_string(proxies).map_err(|error| StoreError::Corrupt(format!("proxies: {error}")))
}

fn proxies_of(row: &AnyRow) -> StoreResult<Vec<String>> {
    let text: String = row.try_get("proxies")?;
    serde_json::from_str(&text).map_err(|error| StoreError::Corrupt(format!("proxies: {error}")))
}

/// "The session `s` is alive at `$now`" (bound with the idle limit as `$idle_param`): not past
/// its absolute end nor its idle limit, not waiting for its second factor, and its person active
/// with an activated, unfrozen account (as `Store::session` requires).
fn live_session_sql(now_param: &str, idle_param: &str) -> String {
    format!(
        "s.expires_at > {now_param} AND s.last_seen_at > {idle_param} \
         AND s.second_factor_pending = 0 \
         AND EXISTS (SELECT 1 FROM people p JOIN accounts a ON a.person_id = p.id \
           WHERE p.id = s.person_id AND p.active = 1 AND a.frozen = 0 \
           AND a.activated_at IS NOT NULL)"
    )
}

impl Store {
    /// Draws and stores a service or proxy ticket; returns it (the only time it exists in
    /// clear). It lives [`SERVICE_TICKET_TTL_SECS`] from `now`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a proxy-granting kind (see
    /// [`Store::cas_issue_proxy_granting`]); a database failure.
    pub async fn cas_issue_ticket(&self, new: &NewTicket<'_>, now: i64) -> StoreResult<String> {
        if new.kind == TicketKind::ProxyGranting {
            return Err(StoreError::Conflict("not a service or proxy ticket".to_owned()));
        }
        let ticket = format!("{}-{}", prefix_of(new.kind), random_base62(TICKET_RANDOM_CHARS));
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO cas_tickets (ticket_hash, kind, service_id, service_url, person_id, \
             session_hash, from_new_login, second_factor, authenticated_at, proxies, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(ticket_hash(&ticket))
        .bind(prefix_of(new.kind))
        .bind(new.service_id)
        .bind(new.service_url)
        .bind(new.person_id)
        .bind(new.session_hash)
        .bind(i64::from(new.from_new_login))
        .bind(i64::from(new.second_factor))
        .bind(new.authenticated_at)
        .bind(proxies_json(new.proxies)?)
        .bind(now)
        .bind(now.saturating_add(SERVICE_TICKET_TTL_SECS))
        .execute(self.pool())
        .await?;
        Ok(ticket)
    }

    /// Consumes a service or proxy ticket: the row is deleted whatever follows (one validation
    /// attempt per ticket, successful or not), atomically, so that of concurrent attempts only
    /// one can get it. Returns it only when it had not expired at `now` and its session is still
    /// alive (`idle_secs`: the sessions' idle limit); `None` for an unknown, used, expired or
    /// orphaned ticket. One statement: the session is checked, and the generations read, by the
    /// delete itself.
    pub async fn cas_consume_ticket(
        &self,
        ticket: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<ConsumedTicket>> {
        let row = {
            let _place = self.write_place().await;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM cas_tickets WHERE ticket_hash = $1 RETURNING kind, service_id, \
                 service_url, person_id, session_hash, from_new_login, second_factor, \
                 authenticated_at, proxies, expires_at, \
                 (SELECT COUNT(*) FROM sessions s \
                  WHERE s.id_hash = cas_tickets.session_hash AND {}) AS session_alive, \
                 {GENERATION_COLUMNS}",
                live_session_sql("$2", "$3")
            )))
            .bind(ticket_hash(ticket))
            .bind(now)
            .bind(now.saturating_sub(idle_secs))
            .fetch_optional(self.pool())
            .await?
        };
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.try_get("expires_at")?;
        let session_alive: i64 = row.try_get("session_alive")?;
        if expires_at <= now || session_alive == 0 {
            return Ok(None);
        }
        let kind: String = row.try_get("kind")?;
        let kind = match kind.as_str() {
            "ST" => TicketKind::Service,
            "PT" => TicketKind::Proxy,
            other => return Err(StoreError::Corrupt(format!("ticket kind {other}"))),
        };
        Ok(Some(ConsumedTicket {
            kind,
            service_id: row.try_get("service_id")?,
            service_url: row.try_get("service_url")?,
            person_id: row.try_get("person_id")?,
            session_hash: row.try_get("session_hash")?,
            from_new_login: row.try_get::<i64, _>("from_new_login")? != 0,
            second_factor: row.try_get::<i64, _>("second_factor")? != 0,
            authenticated_at: row.try_get("authenticated_at")?,
            proxies: proxies_of(&row)?,
            generations: Generations::of_row(&row)?,
        }))
    }

    /// Draws and stores a proxy-granting ticket for a validated ticket's session. It lives as
    /// long as the session at most, and dies with it. `None` when the session has ended
    /// meanwhile.
    pub async fn cas_issue_proxy_granting(
        &self,
        new: &NewProxyGranting<'_>,
        now: i64,
    ) -> StoreResult<Option<IssuedProxyGranting>> {
        let ticket = format!("PGT-{}", random_base62(LONG_RANDOM_CHARS));
        let iou = format!("PGTIOU-{}", random_base62(LONG_RANDOM_CHARS));
        let _place = self.write_place().await;
        let done = sqlx::query(
            "INSERT INTO cas_proxy_granting_tickets (ticket_hash, service_id, person_id, \
             session_hash, second_factor, authenticated_at, proxies, created_at, expires_at) \
             SELECT $1, $2, $3, s.id_hash, $5, $6, $7, $8, s.expires_at FROM sessions s \
             WHERE s.id_hash = $4",
        )
        .bind(ticket_hash(&ticket))
        .bind(new.service_id)
        .bind(new.person_id)
        .bind(new.session_hash)
        .bind(i64::from(new.second_factor))
        .bind(new.authenticated_at)
        .bind(proxies_json(new.proxies)?)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok((done.rows_affected() == 1).then_some(IssuedProxyGranting { ticket, iou }))
    }

    /// Withdraws a proxy-granting ticket (its callback did not accept it).
    pub async fn cas_revoke_proxy_granting(&self, ticket: &str) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query("DELETE FROM cas_proxy_granting_tickets WHERE ticket_hash = $1")
            .bind(ticket_hash(ticket))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A proxy-granting ticket, only while it and its session live at `now`.
    pub async fn cas_proxy_granting(
        &self,
        ticket: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<ProxyGranting>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT g.service_id, g.person_id, g.session_hash, g.second_factor, \
             g.authenticated_at, g.proxies FROM cas_proxy_granting_tickets g \
             JOIN sessions s ON s.id_hash = g.session_hash \
             WHERE g.ticket_hash = $1 AND g.expires_at > $2 AND {}",
            live_session_sql("$2", "$3")
        )))
        .bind(ticket_hash(ticket))
        .bind(now)
        .bind(now.saturating_sub(idle_secs))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ProxyGranting {
            service_id: row.try_get("service_id")?,
            person_id: row.try_get("person_id")?,
            session_hash: row.try_get("session_hash")?,
            second_factor: row.try_get::<i64, _>("second_factor")? != 0,
            authenticated_at: row.try_get("authenticated_at")?,
            proxies: proxies_of(&row)?,
        }))
    }

    /// Records that a `/cas/login` for `service_url` sent the browser to the login form, with
    /// the session the browser had then; returns the token the browser keeps (in a cookie).
    pub async fn cas_start_login_request(
        &self,
        service_url: &str,
        previous_session_hash: Option<&str>,
        now: i64,
    ) -> StoreResult<String> {
        let token = random_base62(LONG_RANDOM_CHARS);
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO cas_login_requests (token_hash, service_url, previous_session_hash, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(ticket_hash(&token))
        .bind(service_url)
        .bind(previous_session_hash.map(str::to_owned))
        .bind(now)
        .bind(now.saturating_add(LOGIN_REQUEST_TTL_SECS))
        .execute(self.pool())
        .await?;
        Ok(token)
    }

    /// A pending login request, left in place.
    pub async fn cas_login_request(
        &self,
        token: &str,
        now: i64,
    ) -> StoreResult<Option<LoginRequest>> {
        let row = sqlx::query(
            "SELECT service_url, previous_session_hash, created_at FROM cas_login_requests \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(ticket_hash(token))
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| login_request_of(&row)).transpose()
    }

    /// Consumes a login request (used once): `None` when it was already used or has expired.
    pub async fn cas_finish_login_request(
        &self,
        token: &str,
        now: i64,
    ) -> StoreResult<Option<LoginRequest>> {
        let row = {
            let _place = self.write_place().await;
            sqlx::query(
                "DELETE FROM cas_login_requests WHERE token_hash = $1 \
                 RETURNING service_url, previous_session_hash, created_at, expires_at",
            )
            .bind(ticket_hash(token))
            .fetch_optional(self.pool())
            .await?
        };
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(None);
        }
        login_request_of(&row).map(Some)
    }

    /// Sweeps what has expired at `now`: service and proxy tickets never validated,
    /// proxy-granting tickets past their session's end, abandoned login requests. (What belongs
    /// to a deleted session went with it.) Returns how many rows went.
    pub async fn purge_cas_tickets(&self, now: i64) -> StoreResult<u64> {
        let mut purged = 0;
        for sql in [
            "DELETE FROM cas_tickets WHERE expires_at <= $1",
            "DELETE FROM cas_proxy_granting_tickets WHERE expires_at <= $1",
            "DELETE FROM cas_login_requests WHERE expires_at <= $1",
        ] {
            let _place = self.write_place().await;
            purged += sqlx::query(sql).bind(now).execute(self.pool()).await?.rows_affected();
        }
        Ok(purged)
    }
}

fn login_request_of(row: &AnyRow) -> StoreResult<LoginRequest> {
    Ok(LoginRequest {
        service_url: row.try_get("service_url")?,
        created_at: row.try_get("created_at")?,
        previous_session_hash: row.try_get("previous_session_hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_have_the_shape_clients_accept() {
        let random = random_base62(TICKET_RANDOM_CHARS);
        assert_eq!(random.len(), TICKET_RANDOM_CHARS);
        assert!(random.bytes().all(|b| b.is_ascii_alphanumeric()));
        let ticket = format!("ST-{random}");
        assert_eq!(ticket.len(), 32);
        assert_eq!(domain::sso::ticket_kind(&ticket), Some(TicketKind::Service));
        assert_ne!(random_base62(TICKET_RANDOM_CHARS), random);
        assert_eq!(ticket_log_id(&ticket).len(), 12);
    }
}
