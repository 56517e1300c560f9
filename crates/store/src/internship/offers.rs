//! The offers of host organisations: written by the host's people (`create_offer`,
//! `update_offer`), moved between draft, published, unpublished and archived
//! (`set_offer_state`, under `OfferState::may_become`), and read back for the host's pages.
//! Every function takes the viewer and finds the offer through the viewer's membership of a
//! pending or verified host in its SQL: another host's offer, or any offer of a suspended or
//! merged host, is `NotFound`. An offer without a precise point is placed at the centre of its
//! commune (the gazetteer). Its `search_text` holds the stems of its title, description,
//! sector and host name. `OfferInput::check` holds the rules that need no database.

use domain::internship::geo::Point;
use domain::internship::search_terms::search_terms;
use domain::internship::{
    IsoWeek, MAX_TEXT_CHARS, MAX_TITLE_CHARS, OfferState, Reservation, WeekHours,
};
use sqlx::Row;

use super::hosts::{FieldErrors, acting_host_in, check_email, check_phone, check_text};
use super::reference::locate_commune_in;
use crate::{Store, StoreError, StoreResult, new_id};

/// The most places a week an offer may have.
pub const MAX_PLACES_PER_WEEK: i64 = 50;
/// The most places in all an offer may have.
pub const MAX_PLACES_TOTAL: i64 = 200;
/// The most weeks an offer may be open.
pub const MAX_WEEKS: usize = 40;
/// The longest address, tutor name or role, in characters.
pub const MAX_DETAIL_CHARS: usize = 200;

/// A field of the offer form, for the refusals shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferField {
    Title,
    Description,
    Sector,
    Street,
    PostalCode,
    City,
    Point,
    Weeks,
    PlacesPerWeek,
    PlacesTotal,
    TutorName,
    TutorRole,
    TutorEmail,
    TutorPhone,
    Hours,
    Reservation,
    Schools,
}

/// An offer as the host writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferInput {
    pub title: String,
    pub description: String,
    pub sector_id: Option<String>,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// A precise point; without it, the commune's centre.
    pub point: Option<Point>,
    pub weeks: Vec<IsoWeek>,
    pub places_per_week: i64,
    pub places_total: i64,
    pub tutor_name: String,
    pub tutor_role: String,
    pub tutor_email: String,
    pub tutor_phone: String,
    pub hours: WeekHours,
    pub accessible: bool,
    pub reservation: Reservation,
    /// The collèges of a `Reservation::Schools` offer.
    pub reserved_schools: Vec<String>,
}

impl OfferInput {
    /// Every rule the offer breaks that needs no database, with its field, in French; the
    /// texts are trimmed in place.
    pub fn check(&mut self) -> FieldErrors<OfferField> {
        use OfferField as F;
        let mut errors = Vec::new();
        let mut text = |field: F, value: &mut String, max: usize, required: bool| match check_text(
            value, max, required,
        ) {
            Ok(clean) => *value = clean,
            Err(reason) => errors.push((field, reason)),
        };
        text(F::Title, &mut self.title, MAX_TITLE_CHARS, true);
        text(F::Street, &mut self.street, MAX_DETAIL_CHARS, false);
        text(F::City, &mut self.city, MAX_DETAIL_CHARS, true);
        text(F::TutorName, &mut self.tutor_name, MAX_DETAIL_CHARS, true);
        text(F::TutorRole, &mut self.tutor_role, MAX_DETAIL_CHARS, true);
        match check_long_text(&self.description, MAX_TEXT_CHARS) {
            Ok(clean) => self.description = clean,
            Err(reason) => errors.push((F::Description, reason)),
        }
        match check_email(&self.tutor_email, true) {
            Ok(clean) => self.tutor_email = clean,
            Err(reason) => errors.push((F::TutorEmail, reason)),
        }
        match check_phone(&self.tutor_phone, false) {
            Ok(clean) => self.tutor_phone = clean,
            Err(reason) => errors.push((F::TutorPhone, reason)),
        }
        match super::hosts::check_postal_code(&self.postal_code, true) {
            Ok(clean) => self.postal_code = clean,
            Err(reason) => errors.push((F::PostalCode, reason)),
        }

        self.weeks.sort();
        self.weeks.dedup();
        let today = super::today_in_paris();
        if let Some(reason) = self
            .weeks
            .iter()
            .find_map(|week| domain::internship::weeks::offer_week_problem(*week, today))
        {
            errors.push((F::Weeks, reason));
        } else if self.weeks.is_empty() {
            errors.push((F::Weeks, "Choisissez au moins une semaine.".to_owned()));
        } else if self.weeks.len() > MAX_WEEKS {
            errors.push((F::Weeks, format!("Une offre est ouverte {MAX_WEEKS} semaines au plus.")));
        }
        if !(1..=MAX_PLACES_PER_WEEK).contains(&self.places_per_week) {
            let reason = format!("Entre 1 et {MAX_PLACES_PER_WEEK} places par semaine.");
            errors.push((F::PlacesPerWeek, reason));
        }
        if !(1..=MAX_PLACES_TOTAL).contains(&self.places_total) {
            errors.push((F::PlacesTotal, format!("Entre 1 et {MAX_PLACES_TOTAL} places en tout.")));
        } else if self.places_total < self.places_per_week {
            let reason = "Le total ne peut pas être inférieur aux places d'une semaine.";
            errors.push((F::PlacesTotal, reason.to_owned()));
        }
        for breach in self.hours.minor_limit_breaches() {
            errors.push((F::Hours, breach));
        }
        self.reserved_schools.sort();
        self.reserved_schools.dedup();
        if self.reservation == Reservation::Schools && self.reserved_schools.is_empty() {
            errors.push((F::Schools, "Choisissez au moins un collège.".to_owned()));
        }
        if self.reservation != Reservation::Schools {
            self.reserved_schools.clear();
        }
        if self.reserved_schools.len() > 200 {
            errors.push((F::Schools, "Trop de collèges choisis.".to_owned()));
        }
        errors
    }
}

/// A long text (a description): lines kept, each line's spaces folded, within `max`
/// characters, without control (other than line breaks), bidi or zero-width characters.
pub fn check_long_text(raw: &str, max: usize) -> Result<String, String> {
    let normalised = raw.replace("\r\n", "\n");
    if let Some(bad) = normalised.chars().find(|c| *c != '\n' && domain::names::is_forbidden(*c)) {
        return Err(format!(
            "Ce texte contient un caractère de contrôle ou de direction de texte (U+{:04X}).",
            bad as u32
        ));
    }
    let lines: Vec<String> = normalised
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let text = lines.join("\n").trim().to_owned();
    let count = text.chars().count();
    if count > max {
        return Err(format!("Ce texte est trop long ({count} caractères, {max} au plus)."));
    }
    Ok(text)
}

/// An offer of the host's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferSummary {
    pub id: String,
    pub title: String,
    pub state: OfferState,
    pub city: String,
    pub weeks: Vec<IsoWeek>,
    pub places_per_week: i64,
    pub places_total: i64,
    /// Places taken (confirmed applications).
    pub confirmed: i64,
}

/// An offer as stored, for its host.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    pub id: String,
    pub host_id: String,
    pub state: OfferState,
    pub sector_name: Option<String>,
    /// 'address' or 'commune'.
    pub location_precision: String,
    pub input: OfferInput,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    /// The stored search words (see `offer_search_text`).
    pub search_text: String,
}

/// Where an offer stands in the database.
struct Located {
    commune_id: Option<String>,
    point: Point,
    precision: &'static str,
}

/// Places an offer: the typed point (`address`), else its commune's centre (`commune`).
async fn locate_in(conn: &mut sqlx::AnyConnection, input: &OfferInput) -> StoreResult<Located> {
    let commune = locate_commune_in(conn, &input.postal_code, &input.city).await?;
    match (input.point, commune) {
        (Some(point), commune) => {
            Ok(Located { commune_id: commune.map(|c| c.id), point, precision: "address" })
        }
        (None, Some(commune)) => {
            Ok(Located { commune_id: Some(commune.id), point: commune.point, precision: "commune" })
        }
        (None, None) => Err(StoreError::Conflict(
            "Cette commune n'est pas dans le répertoire de Préau : vérifiez le code postal et \
             la commune, ou indiquez la latitude et la longitude du lieu du stage."
                .to_owned(),
        )),
    }
}

/// The sector's name, refusing an unknown sector.
async fn sector_name_in(
    conn: &mut sqlx::AnyConnection,
    sector_id: Option<&str>,
) -> StoreResult<String> {
    let Some(sector_id) = sector_id else { return Ok(String::new()) };
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM internship_sectors WHERE id = $1")
            .bind(sector_id)
            .fetch_optional(&mut *conn)
            .await?;
    name.ok_or_else(|| StoreError::Conflict("Ce secteur d'activité n'existe pas.".to_owned()))
}

/// Replaces an offer's weeks and reserved schools, refusing an unknown school.
async fn write_weeks_and_schools_in(
    conn: &mut sqlx::AnyConnection,
    offer_id: &str,
    weeks: &[IsoWeek],
    schools: &[String],
) -> StoreResult<()> {
    for sql in [
        "DELETE FROM internship_offer_weeks WHERE offer_id = $1",
        "DELETE FROM internship_offer_schools WHERE offer_id = $1",
    ] {
        sqlx::query(sql).bind(offer_id).execute(&mut *conn).await?;
    }
    write_weeks_in(conn, offer_id, weeks).await?;
    for school in schools {
        let known: Option<String> =
            sqlx::query_scalar("SELECT id FROM schools WHERE id = $1 AND active = 1")
                .bind(school)
                .fetch_optional(&mut *conn)
                .await?;
        if known.is_none() {
            return Err(StoreError::Conflict("Un des collèges choisis n'existe pas.".to_owned()));
        }
        sqlx::query("INSERT INTO internship_offer_schools (offer_id, school_id) VALUES ($1, $2)")
            .bind(offer_id)
            .bind(school)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Adds an offer's weeks.
pub(crate) async fn write_weeks_in(
    conn: &mut sqlx::AnyConnection,
    offer_id: &str,
    weeks: &[IsoWeek],
) -> StoreResult<()> {
    for week in weeks {
        sqlx::query(
            "INSERT INTO internship_offer_weeks (offer_id, iso_week, monday) VALUES ($1, $2, $3)",
        )
        .bind(offer_id)
        .bind(week.to_string())
        .bind(week.monday().to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The stored search words of an offer.
pub(crate) fn offer_search_text(
    title: &str,
    description: &str,
    sector: &str,
    host_name: &str,
) -> String {
    search_terms(&format!("{title} {description} {sector} {host_name}"))
}

/// The offer `offer_id` of the host `viewer_id` acts for, with its state; `NotFound` for any
/// other offer.
async fn own_offer_state_in(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    offer_id: &str,
) -> StoreResult<(String, OfferState)> {
    let host_id = acting_host_in(conn, viewer_id, false).await?.ok_or(StoreError::NotFound)?;
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM internship_offers WHERE id = $1 AND host_id = $2")
            .bind(offer_id)
            .bind(&host_id)
            .fetch_optional(&mut *conn)
            .await?;
    let state = state.ok_or(StoreError::NotFound)?;
    let state = OfferState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("offer state {state}")))?;
    Ok((host_id, state))
}

impl Store {
    /// A new draft offer of the viewer's host; returns its id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the viewer acts for a pending or verified host;
    /// [`StoreError::Conflict`] for an unknown sector, school or commune; database errors.
    pub async fn create_offer(
        &self,
        viewer_id: &str,
        input: &OfferInput,
        now: i64,
    ) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        let host_id =
            acting_host_in(&mut tx, viewer_id, false).await?.ok_or(StoreError::NotFound)?;
        let host_name: String = sqlx::query_scalar("SELECT name FROM hosts WHERE id = $1")
            .bind(&host_id)
            .fetch_one(&mut *tx)
            .await?;
        let sector = sector_name_in(&mut tx, input.sector_id.as_deref()).await?;
        let located = locate_in(&mut tx, input).await?;

        let id = new_id();
        sqlx::query(
            "INSERT INTO internship_offers (id, host_id, employer_name, title, description, \
             sector_id, street, postal_code, city, commune_id, latitude, longitude, \
             location_precision, places_per_week, places_total, tutor_name, tutor_role, \
             tutor_email, tutor_phone, daily_hours, accessible, reservation, state, \
             search_text, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
             'draft', $23, $24, $25, $25)",
        )
        .bind(&id)
        .bind(&host_id)
        .bind(&host_name)
        .bind(&input.title)
        .bind(&input.description)
        .bind(input.sector_id.as_deref())
        .bind(&input.street)
        .bind(&input.postal_code)
        .bind(&input.city)
        .bind(located.commune_id.as_deref())
        .bind(located.point.latitude)
        .bind(located.point.longitude)
        .bind(located.precision)
        .bind(input.places_per_week)
        .bind(input.places_total)
        .bind(&input.tutor_name)
        .bind(&input.tutor_role)
        .bind(&input.tutor_email)
        .bind(&input.tutor_phone)
        .bind(hours_json(&input.hours)?)
        .bind(i64::from(input.accessible))
        .bind(input.reservation.as_str())
        .bind(offer_search_text(&input.title, &input.description, &sector, &host_name))
        .bind(viewer_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        write_weeks_and_schools_in(&mut tx, &id, &input.weeks, &input.reserved_schools).await?;
        tx.commit().await?;
        tracing::info!(offer.id = %id, host.id = %host_id, "offer created");
        Ok(id)
    }

    /// Rewrites an offer of the viewer's host (not archived).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an offer that is not the viewer's host's;
    /// [`StoreError::Conflict`] for an archived offer, an unknown sector, school or commune.
    pub async fn update_offer(
        &self,
        viewer_id: &str,
        offer_id: &str,
        input: &OfferInput,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let (host_id, state) = own_offer_state_in(&mut tx, viewer_id, offer_id).await?;
        if state == OfferState::Archived {
            return Err(StoreError::Conflict("Une offre archivée ne se modifie plus.".to_owned()));
        }
        let host_name: String = sqlx::query_scalar("SELECT name FROM hosts WHERE id = $1")
            .bind(&host_id)
            .fetch_one(&mut *tx)
            .await?;
        let sector = sector_name_in(&mut tx, input.sector_id.as_deref()).await?;
        let located = locate_in(&mut tx, input).await?;

        sqlx::query(
            "UPDATE internship_offers SET employer_name = $3, title = $4, description = $5, \
             sector_id = $6, street = $7, postal_code = $8, city = $9, commune_id = $10, \
             latitude = $11, longitude = $12, location_precision = $13, places_per_week = $14, \
             places_total = $15, tutor_name = $16, tutor_role = $17, tutor_email = $18, \
             tutor_phone = $19, daily_hours = $20, accessible = $21, reservation = $22, \
             search_text = $23, updated_at = $24 WHERE id = $1 AND host_id = $2",
        )
        .bind(offer_id)
        .bind(&host_id)
        .bind(&host_name)
        .bind(&input.title)
        .bind(&input.description)
        .bind(input.sector_id.as_deref())
        .bind(&input.street)
        .bind(&input.postal_code)
        .bind(&input.city)
        .bind(located.commune_id.as_deref())
        .bind(located.point.latitude)
        .bind(located.point.longitude)
        .bind(located.precision)
        .bind(input.places_per_week)
        .bind(input.places_total)
        .bind(&input.tutor_name)
        .bind(&input.tutor_role)
        .bind(&input.tutor_email)
        .bind(&input.tutor_phone)
        .bind(hours_json(&input.hours)?)
        .bind(i64::from(input.accessible))
        .bind(input.reservation.as_str())
        .bind(offer_search_text(&input.title, &input.description, &sector, &host_name))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        write_weeks_and_schools_in(&mut tx, offer_id, &input.weeks, &input.reserved_schools)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves an offer of the viewer's host to `next`, if `OfferState::may_become` allows it.
    /// The first publication starts the head start: pupils without one see the offer from
    /// `visible_from` on (the département's `head_start_days` later).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an offer that is not the viewer's host's;
    /// [`StoreError::Conflict`] for a move that is not allowed.
    pub async fn set_offer_state(
        &self,
        viewer_id: &str,
        offer_id: &str,
        next: OfferState,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let (host_id, state) = own_offer_state_in(&mut tx, viewer_id, offer_id).await?;
        if !state.may_become(next) {
            return Err(StoreError::Conflict(format!(
                "Une offre « {} » ne peut pas devenir « {} ».",
                state.label_fr(),
                next.label_fr()
            )));
        }
        let head_start_days: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(head_start_days), 0) FROM internship_settings WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let publishing = i64::from(next == OfferState::Published);
        sqlx::query(
            "UPDATE internship_offers SET state = $3, updated_at = $4, \
             published_at = CASE WHEN $5 = 1 THEN COALESCE(published_at, $4) \
             ELSE published_at END, \
             visible_from = CASE WHEN $5 = 1 THEN COALESCE(visible_from, $6) \
             ELSE visible_from END \
             WHERE id = $1 AND host_id = $2 AND state = $7",
        )
        .bind(offer_id)
        .bind(&host_id)
        .bind(next.as_str())
        .bind(now)
        .bind(publishing)
        .bind(now + head_start_days.max(0) * 86_400)
        .bind(state.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(offer.id = %offer_id, state = next.as_str(), "offer state changed");
        Ok(())
    }

    /// The offers of the viewer's host, newest first, archived ones last.
    ///
    /// # Errors
    /// Database errors.
    pub async fn host_offers(&self, viewer_id: &str) -> StoreResult<Vec<OfferSummary>> {
        let rows = sqlx::query(
            "SELECT o.id, o.title, o.state, o.city, o.places_per_week, o.places_total, \
             (SELECT COUNT(*) FROM internship_applications a WHERE a.offer_id = o.id \
              AND a.state = 'confirmed') AS confirmed, \
             (SELECT COALESCE(MIN(w.iso_week), '') FROM internship_offer_weeks w \
              WHERE w.offer_id = o.id) AS first_week \
             FROM internship_offers o JOIN host_members m ON m.host_id = o.host_id \
             WHERE m.person_id = $1 \
             ORDER BY CASE WHEN o.state = 'archived' THEN 1 ELSE 0 END, o.created_at DESC, o.id",
        )
        .bind(viewer_id)
        .fetch_all(self.pool())
        .await?;
        let mut offers = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id")?;
            let state: String = row.try_get("state")?;
            offers.push(OfferSummary {
                weeks: self.offer_weeks(&id).await?,
                id,
                title: row.try_get("title")?,
                state: OfferState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("offer state {state}")))?,
                city: row.try_get("city")?,
                places_per_week: row.try_get("places_per_week")?,
                places_total: row.try_get("places_total")?,
                confirmed: row.try_get("confirmed")?,
            });
        }
        Ok(offers)
    }

    /// One offer of the viewer's host, whole; `None` for any other offer.
    ///
    /// # Errors
    /// Database errors.
    pub async fn host_offer(
        &self,
        viewer_id: &str,
        offer_id: &str,
    ) -> StoreResult<Option<OfferRecord>> {
        let row = sqlx::query(
            "SELECT o.*, s.name AS sector_name FROM internship_offers o \
             JOIN host_members m ON m.host_id = o.host_id AND m.person_id = $1 \
             LEFT JOIN internship_sectors s ON s.id = o.sector_id WHERE o.id = $2",
        )
        .bind(viewer_id)
        .bind(offer_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };

        let schools: Vec<String> = sqlx::query_scalar(
            "SELECT school_id FROM internship_offer_schools WHERE offer_id = $1 ORDER BY school_id",
        )
        .bind(offer_id)
        .fetch_all(self.pool())
        .await?;
        let state: String = row.try_get("state")?;
        let reservation: String = row.try_get("reservation")?;
        let hours: String = row.try_get("daily_hours")?;
        let precision: String = row.try_get("location_precision")?;
        let latitude: f64 = row.try_get("latitude")?;
        let longitude: f64 = row.try_get("longitude")?;
        let accessible: i64 = row.try_get("accessible")?;
        let input = OfferInput {
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            sector_id: row.try_get("sector_id")?,
            street: row.try_get("street")?,
            postal_code: row.try_get("postal_code")?,
            city: row.try_get("city")?,
            point: Point::new(latitude, longitude).filter(|_| precision == "address"),
            weeks: self.offer_weeks(offer_id).await?,
            places_per_week: row.try_get("places_per_week")?,
            places_total: row.try_get("places_total")?,
            tutor_name: row.try_get("tutor_name")?,
            tutor_role: row.try_get("tutor_role")?,
            tutor_email: row.try_get("tutor_email")?,
            tutor_phone: row.try_get("tutor_phone")?,
            hours: serde_json::from_str(&hours).unwrap_or_default(),
            accessible: accessible != 0,
            reservation: Reservation::parse(&reservation).unwrap_or(Reservation::None),
            reserved_schools: schools,
        };
        Ok(Some(OfferRecord {
            id: row.try_get("id")?,
            host_id: row.try_get("host_id")?,
            state: OfferState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("offer state {state}")))?,
            sector_name: row.try_get("sector_name")?,
            location_precision: precision,
            input,
            published_at: row.try_get("published_at")?,
            updated_at: row.try_get("updated_at")?,
            search_text: row.try_get("search_text")?,
        }))
    }

    /// The weeks an offer is open, in order.
    async fn offer_weeks(&self, offer_id: &str) -> StoreResult<Vec<IsoWeek>> {
        let weeks: Vec<String> = sqlx::query_scalar(
            "SELECT iso_week FROM internship_offer_weeks WHERE offer_id = $1 ORDER BY iso_week",
        )
        .bind(offer_id)
        .fetch_all(self.pool())
        .await?;
        weeks
            .iter()
            .map(|w| IsoWeek::parse(w).map_err(|_| StoreError::Corrupt(format!("week {w}"))))
            .collect()
    }

    /// The active collèges an offer may be reserved to, `(id, name)`, by name.
    ///
    /// # Errors
    /// Database errors.
    pub async fn reservable_schools(&self) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT id, name FROM schools WHERE active = 1 ORDER BY name, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }
}

/// The stored JSON of an offer's hours.
fn hours_json(hours: &WeekHours) -> StoreResult<String> {
    serde_json::to_string(hours).map_err(|error| StoreError::Corrupt(format!("hours: {error}")))
}
