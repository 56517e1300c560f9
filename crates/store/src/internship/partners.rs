//! Partner platforms and the offers they push through the JSON API. The département creates
//! a partner (its bearer token is drawn here, shown once, and only its SHA-256 is kept) and
//! may deactivate it. A call is authenticated by looking the token's hash up among active
//! partners: nothing is compared byte by byte with a secret. A partner's offers are stored
//! like the hosts' (`internship_offers`), with `partner_id`, the partner's `remote_id`
//! (unique per partner), the `permalink` where pupils apply, no host, and the state
//! 'published' until the partner deletes (archives) them. Every function on offers takes the
//! partner and finds the offer by `(partner_id, remote_id)`: another partner's offer is
//! `NotFound`. `PartnerOfferInput::check` holds the rules that need no database.

use domain::internship::geo::Point;
use domain::internship::{IsoWeek, MAX_TEXT_CHARS, MAX_TITLE_CHARS, OfferState};
use sqlx::Row;

use super::hosts::{FieldErrors, audit_in, check_text, is_unique_violation};
use super::offers::{
    MAX_DETAIL_CHARS, MAX_PLACES_PER_WEEK, MAX_PLACES_TOTAL, MAX_WEEKS, check_long_text,
    offer_search_text, write_weeks_in,
};
use super::reference::locate_commune_in;
use crate::{Store, StoreError, StoreResult, new_id};

/// The longest partner name, in characters.
pub const MAX_PARTNER_NAME_CHARS: usize = 100;
/// The longest `remote_id`, in bytes.
pub const MAX_REMOTE_ID_BYTES: usize = 100;
/// The longest `permalink`, in bytes.
pub const MAX_PERMALINK_BYTES: usize = 2_048;

/// A partner platform, as its token designates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: String,
    pub name: String,
}

/// A partner in the département's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub offers: i64,
}

/// An offer as a partner sends it (the national operator API's fields).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartnerOfferInput {
    pub title: String,
    pub description: String,
    pub employer_name: String,
    pub street: String,
    pub zipcode: String,
    pub city: String,
    pub remote_id: String,
    pub permalink: String,
    pub sector_uuid: String,
    pub max_candidates: i64,
    pub weeks: Vec<IsoWeek>,
    pub point: Option<Point>,
    pub accessible: bool,
}

/// A partner's offer as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerOffer {
    pub id: String,
    pub input: PartnerOfferInput,
    pub state: OfferState,
    pub published_at: Option<i64>,
}

/// What a partner's write came to.
#[derive(Debug, Clone, PartialEq)]
pub enum PartnerOutcome {
    Done(Box<PartnerOffer>),
    /// Field errors, by the API's field names.
    Invalid(FieldErrors<&'static str>),
    /// Another offer of this partner has this `remote_id`.
    Duplicate,
    /// No offer of this partner has this `remote_id` (or it is archived).
    NotFound,
}

impl PartnerOfferInput {
    /// Every rule broken that needs no database, by the API's field names, in French; texts
    /// are trimmed in place.
    pub fn check(&mut self) -> FieldErrors<&'static str> {
        let mut errors = Vec::new();
        let mut text =
            |field: &'static str, value: &mut String, max: usize, required: bool| match check_text(
                value, max, required,
            ) {
                Ok(clean) => *value = clean,
                Err(reason) => errors.push((field, reason)),
            };
        text("title", &mut self.title, MAX_TITLE_CHARS, true);
        text("employer_name", &mut self.employer_name, MAX_TITLE_CHARS, true);
        text("street", &mut self.street, MAX_DETAIL_CHARS, false);
        text("city", &mut self.city, MAX_DETAIL_CHARS, true);
        match check_long_text(&self.description, MAX_TEXT_CHARS) {
            Ok(clean) => self.description = clean,
            Err(reason) => errors.push(("description", reason)),
        }
        match super::hosts::check_postal_code(&self.zipcode, true) {
            Ok(clean) => self.zipcode = clean,
            Err(reason) => errors.push(("zipcode", reason)),
        }
        let remote_ok = !self.remote_id.is_empty()
            && self.remote_id.len() <= MAX_REMOTE_ID_BYTES
            && self.remote_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !remote_ok {
            let reason = format!(
                "identifiant de 1 à {MAX_REMOTE_ID_BYTES} caractères parmi lettres, chiffres, \
                 « - », « _ », « . » et « : »"
            );
            errors.push(("remote_id", reason));
        }
        if let Err(reason) = check_permalink(&self.permalink) {
            errors.push(("permalink", reason));
        }
        self.sector_uuid = self.sector_uuid.trim().to_ascii_lowercase();
        if !looks_like_uuid(&self.sector_uuid) {
            errors.push(("sector_uuid", "secteur inconnu".to_owned()));
        }
        if !(1..=MAX_PLACES_TOTAL).contains(&self.max_candidates) {
            errors.push(("max_candidates", format!("entre 1 et {MAX_PLACES_TOTAL}")));
        }
        self.weeks.sort();
        self.weeks.dedup();
        let today = super::today_in_paris();
        if let Some(reason) = self
            .weeks
            .iter()
            .find_map(|week| domain::internship::weeks::offer_week_problem(*week, today))
        {
            errors.push(("weeks", reason));
        } else if self.weeks.is_empty() {
            // Without weeks an offer would match no collège's internship weeks: it would be
            // stored and shown to nobody, which the partner would never learn.
            errors.push((
                "weeks",
                "au moins une semaine (forme 2027-W05) : sans semaine, aucun élève ne verrait \
                 l'offre"
                    .to_owned(),
            ));
        } else if self.weeks.len() > MAX_WEEKS {
            errors.push(("weeks", format!("{MAX_WEEKS} semaines au plus")));
        }
        errors
    }
}

fn looks_like_uuid(text: &str) -> bool {
    formats::internship_reference::is_uuid(text)
}

/// A permalink: an `https://` address with a host, without white space or control
/// characters, at most 2,048 bytes.
pub fn check_permalink(permalink: &str) -> Result<(), String> {
    let Some(rest) = permalink.strip_prefix("https://") else {
        return Err("adresse en https:// attendue".to_owned());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let valid = permalink.len() <= MAX_PERMALINK_BYTES
        && !host.is_empty()
        && !host.contains('@')
        && permalink.chars().all(|c| c.is_ascii_graphic());
    if valid { Ok(()) } else { Err("adresse https non valide".to_owned()) }
}

/// Refuses with `NotFound` an actor who does not administer the département.
async fn require_departement_admin(store: &Store, actor_id: &str) -> StoreResult<()> {
    if store.is_departement_admin(actor_id).await? { Ok(()) } else { Err(StoreError::NotFound) }
}

const OFFER_COLUMNS: &str = "id, title, description, employer_name, street, postal_code, city, \
    remote_id, permalink, sector_id, places_total, latitude, longitude, accessible, state, \
    published_at";

impl Store {
    /// The département creates a partner; returns its id and its token (shown once).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département;
    /// [`StoreError::Conflict`] for a bad name.
    pub async fn create_partner(
        &self,
        actor_id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<(String, String)> {
        require_departement_admin(self, actor_id).await?;
        let name = check_text(name, MAX_PARTNER_NAME_CHARS, true).map_err(StoreError::Conflict)?;
        let id = new_id();
        let token = super::new_secret();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO internship_partners (id, name, token_hash, active, created_by, \
             created_at) VALUES ($1, $2, $3, 1, $4, $5)",
        )
        .bind(&id)
        .bind(&name)
        .bind(super::secret_hash(&token))
        .bind(actor_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit_in(&mut tx, actor_id, "partner_created", &id, "", now).await?;
        tx.commit().await?;
        Ok((id, token))
    }

    /// The département deactivates a partner: its token stops working and its offers are
    /// archived.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département and the partner
    /// exists.
    pub async fn deactivate_partner(
        &self,
        actor_id: &str,
        partner_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        require_departement_admin(self, actor_id).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE internship_partners SET active = 0 WHERE id = $1")
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE internship_offers SET state = 'archived', updated_at = $2 \
             WHERE partner_id = $1 AND state <> 'archived'",
        )
        .bind(partner_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit_in(&mut tx, actor_id, "partner_deactivated", partner_id, "", now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The département's partners.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département.
    pub async fn departement_partners(&self, actor_id: &str) -> StoreResult<Vec<PartnerRecord>> {
        require_departement_admin(self, actor_id).await?;
        let rows = sqlx::query(
            "SELECT p.id, p.name, p.active, p.created_at, p.last_used_at, \
             (SELECT COUNT(*) FROM internship_offers o WHERE o.partner_id = p.id \
              AND o.state = 'published') AS offers \
             FROM internship_partners p ORDER BY p.active DESC, p.name, p.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let active: i64 = row.try_get("active")?;
                Ok(PartnerRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    active: active != 0,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                    offers: row.try_get("offers")?,
                })
            })
            .collect()
    }

    /// The active partner a bearer token designates (looked up by its SHA-256).
    ///
    /// # Errors
    /// Database errors.
    pub async fn partner_by_token(&self, token: &str, now: i64) -> StoreResult<Option<Partner>> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, name, last_used_at FROM internship_partners \
             WHERE token_hash = $1 AND active = 1",
        )
        .bind(super::secret_hash(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let partner = Partner { id: row.try_get("id")?, name: row.try_get("name")? };
        let last: Option<i64> = row.try_get("last_used_at")?;
        if last.is_none_or(|last| now - last >= 60) {
            let mut tx = self.begin_write().await?;
            sqlx::query("UPDATE internship_partners SET last_used_at = $2 WHERE id = $1")
                .bind(&partner.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(Some(partner))
    }

    /// A partner's offer by its `remote_id`, archived or not.
    ///
    /// # Errors
    /// Database errors.
    pub async fn partner_offer(
        &self,
        partner_id: &str,
        remote_id: &str,
    ) -> StoreResult<Option<PartnerOffer>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFER_COLUMNS} FROM internship_offers WHERE partner_id = $1 AND remote_id = $2"
        )))
        .bind(partner_id)
        .bind(remote_id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some(self.partner_offer_of(&row).await?)),
            None => Ok(None),
        }
    }

    /// A partner's offers that are not archived, newest first: `(total, page)`; `page` is
    /// 1-based.
    ///
    /// # Errors
    /// Database errors.
    pub async fn partner_offers(
        &self,
        partner_id: &str,
        page: i64,
        per_page: i64,
    ) -> StoreResult<(i64, Vec<PartnerOffer>)> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM internship_offers WHERE partner_id = $1 AND state <> 'archived'",
        )
        .bind(partner_id)
        .fetch_one(self.pool())
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFER_COLUMNS} FROM internship_offers WHERE partner_id = $1 \
             AND state <> 'archived' ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(partner_id)
        .bind(per_page)
        .bind((page.max(1) - 1).saturating_mul(per_page))
        .fetch_all(self.pool())
        .await?;
        let mut offers = Vec::with_capacity(rows.len());
        for row in &rows {
            offers.push(self.partner_offer_of(row).await?);
        }
        Ok((total, offers))
    }

    async fn partner_offer_of(&self, row: &sqlx::any::AnyRow) -> StoreResult<PartnerOffer> {
        let id: String = row.try_get("id")?;
        let weeks: Vec<String> = sqlx::query_scalar(
            "SELECT iso_week FROM internship_offer_weeks WHERE offer_id = $1 ORDER BY iso_week",
        )
        .bind(&id)
        .fetch_all(self.pool())
        .await?;
        let state: String = row.try_get("state")?;
        let latitude: f64 = row.try_get("latitude")?;
        let longitude: f64 = row.try_get("longitude")?;
        let accessible: i64 = row.try_get("accessible")?;
        let remote_id: Option<String> = row.try_get("remote_id")?;
        let permalink: Option<String> = row.try_get("permalink")?;
        let sector: Option<String> = row.try_get("sector_id")?;
        Ok(PartnerOffer {
            id,
            input: PartnerOfferInput {
                title: row.try_get("title")?,
                description: row.try_get("description")?,
                employer_name: row.try_get("employer_name")?,
                street: row.try_get("street")?,
                zipcode: row.try_get("postal_code")?,
                city: row.try_get("city")?,
                remote_id: remote_id.unwrap_or_default(),
                permalink: permalink.unwrap_or_default(),
                sector_uuid: sector.unwrap_or_default(),
                max_candidates: row.try_get("places_total")?,
                weeks: weeks.iter().filter_map(|w| IsoWeek::parse(w).ok()).collect(),
                point: Point::new(latitude, longitude),
                accessible: accessible != 0,
            },
            state: OfferState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("offer state {state}")))?,
            published_at: row.try_get("published_at")?,
        })
    }

    /// A partner publishes an offer.
    ///
    /// # Errors
    /// Database errors; bad input, a duplicate `remote_id` are outcomes, not errors.
    pub async fn partner_create_offer(
        &self,
        partner: &Partner,
        input: &PartnerOfferInput,
        now: i64,
    ) -> StoreResult<PartnerOutcome> {
        let mut input = input.clone();
        let errors = input.check();
        if !errors.is_empty() {
            return Ok(PartnerOutcome::Invalid(errors));
        }
        let mut tx = self.begin_write().await?;
        let located = match resolve_in(&mut tx, &input).await? {
            Ok(located) => located,
            Err(errors) => return Ok(PartnerOutcome::Invalid(errors)),
        };

        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO internship_offers (id, partner_id, remote_id, permalink, \
             employer_name, title, description, sector_id, street, postal_code, city, \
             commune_id, latitude, longitude, location_precision, places_per_week, \
             places_total, accessible, state, search_text, published_at, visible_from, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, 'published', $19, $20, $20, $20, $20)",
        )
        .bind(&id)
        .bind(&partner.id)
        .bind(&input.remote_id);
        let inserted =
            bind_offer_fields(inserted, &input, &located).bind(now).execute(&mut *tx).await;
        match inserted {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => return Ok(PartnerOutcome::Duplicate),
            Err(error) => return Err(error.into()),
        }
        write_weeks_in(&mut tx, &id, &input.weeks).await?;
        tx.commit().await?;
        tracing::info!(offer.id = %id, partner.id = %partner.id, "partner offer created");
        let point = Some(located.point);
        let offer = PartnerOffer {
            id,
            input: PartnerOfferInput { point, ..input },
            state: OfferState::Published,
            published_at: Some(now),
        };
        Ok(PartnerOutcome::Done(Box::new(offer)))
    }

    /// A partner rewrites one of its offers (not archived); `input.remote_id` must be the
    /// offer's.
    ///
    /// # Errors
    /// Database errors; bad input and an unknown offer are outcomes.
    pub async fn partner_update_offer(
        &self,
        partner: &Partner,
        input: &PartnerOfferInput,
        now: i64,
    ) -> StoreResult<PartnerOutcome> {
        let mut input = input.clone();
        let errors = input.check();
        if !errors.is_empty() {
            return Ok(PartnerOutcome::Invalid(errors));
        }
        let mut tx = self.begin_write().await?;
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM internship_offers WHERE partner_id = $1 AND remote_id = $2 \
             AND state <> 'archived'",
        )
        .bind(&partner.id)
        .bind(&input.remote_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else { return Ok(PartnerOutcome::NotFound) };
        let located = match resolve_in(&mut tx, &input).await? {
            Ok(located) => located,
            Err(errors) => return Ok(PartnerOutcome::Invalid(errors)),
        };

        let updated = sqlx::query(
            "UPDATE internship_offers SET permalink = $2, employer_name = $3, title = $4, \
             description = $5, sector_id = $6, street = $7, postal_code = $8, city = $9, \
             commune_id = $10, latitude = $11, longitude = $12, location_precision = $13, \
             places_per_week = $14, places_total = $15, accessible = $16, search_text = $17, \
             updated_at = $18 WHERE id = $1",
        )
        .bind(&id);
        bind_offer_fields(updated, &input, &located).bind(now).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM internship_offer_weeks WHERE offer_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        write_weeks_in(&mut tx, &id, &input.weeks).await?;
        tx.commit().await?;
        match self.partner_offer(&partner.id, &input.remote_id).await? {
            Some(offer) => Ok(PartnerOutcome::Done(Box::new(offer))),
            None => Ok(PartnerOutcome::NotFound),
        }
    }

    /// A partner deletes one of its offers: it is archived. Returns whether it was there.
    ///
    /// # Errors
    /// Database errors.
    pub async fn partner_archive_offer(
        &self,
        partner: &Partner,
        remote_id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE internship_offers SET state = 'archived', updated_at = $3 \
             WHERE partner_id = $1 AND remote_id = $2 AND state <> 'archived'",
        )
        .bind(&partner.id)
        .bind(remote_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Binds what a partner's offer says, in the order both its insert and its update name the
/// columns: permalink, employer, title, description, sector, street, postcode, city, commune,
/// latitude, longitude, precision, places per week, places in all, accessibility, search words.
fn bind_offer_fields<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    input: &'q PartnerOfferInput,
    located: &'q Resolved,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(&input.permalink)
        .bind(&input.employer_name)
        .bind(&input.title)
        .bind(&input.description)
        .bind(&input.sector_uuid)
        .bind(&input.street)
        .bind(&input.zipcode)
        .bind(&input.city)
        .bind(located.commune_id.as_deref())
        .bind(located.point.latitude)
        .bind(located.point.longitude)
        .bind(located.precision)
        .bind(input.max_candidates.min(MAX_PLACES_PER_WEEK))
        .bind(input.max_candidates)
        .bind(i64::from(input.accessible))
        .bind(offer_search_text(
            &input.title,
            &input.description,
            &located.sector_name,
            &input.employer_name,
        ))
}

/// Where a partner's offer stands, and its sector's name.
struct Resolved {
    sector_name: String,
    commune_id: Option<String>,
    point: Point,
    precision: &'static str,
}

/// Checks the sector and places the offer (its coordinates, else its commune's centre).
async fn resolve_in(
    conn: &mut sqlx::AnyConnection,
    input: &PartnerOfferInput,
) -> StoreResult<Result<Resolved, FieldErrors<&'static str>>> {
    let mut errors = Vec::new();
    let sector_name: Option<String> =
        sqlx::query_scalar("SELECT name FROM internship_sectors WHERE id = $1")
            .bind(&input.sector_uuid)
            .fetch_optional(&mut *conn)
            .await?;
    if sector_name.is_none() {
        errors.push(("sector_uuid", "secteur inconnu".to_owned()));
    }
    let commune = locate_commune_in(conn, &input.zipcode, &input.city).await?;
    let place = match (input.point, &commune) {
        (Some(point), _) => Some((point, "address")),
        (None, Some(commune)) => Some((commune.point, "commune")),
        (None, None) => {
            let reason = "commune inconnue : envoyez les coordonnées (coordinates)";
            errors.push(("city", reason.to_owned()));
            None
        }
    };
    match (sector_name, place) {
        (Some(sector_name), Some((point, precision))) if errors.is_empty() => {
            Ok(Ok(Resolved { sector_name, commune_id: commune.map(|c| c.id), point, precision }))
        }
        _ => Ok(Err(errors)),
    }
}
