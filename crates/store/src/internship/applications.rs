//! Applications of 3e pupils to internship offers, on every side: a pupil (or a legal guardian
//! for them) applies for one week of an offer; the host's people read, accept, reject or cancel
//! it; a legal guardian gives consent; the pupil or a guardian confirms an accepted one, which
//! takes a place, supersedes the pupil's other pending applications for that week and creates
//! the agreement (`agreements::create_agreement_in`); either side may cancel (a confirmed one
//! takes its agreement with it); and `Store::internship_sweep` expires what waited too long and
//! sends one reminder before each deadline. Every move is checked against
//! `ApplicationState::apply` and written by an UPDATE conditional on the state it read, in a
//! transaction with its history row and its e-mails (`queue_mail_in`). Who may act is decided
//! in SQL from the person's link to the application: the pupil, a legal guardian (1 or 2), or a
//! person of the offer's host; anyone else gets `NotFound`, like an application that does not
//! exist. The places left are counted from the `confirmed` rows only, never from a counter.
//! The reads give the family their applications with the deadlines' zone, and the host the
//! pupil's name, class, school and motivation only (no address, no contact).

use domain::internship::{
    ApplicationAction, ApplicationActor, ApplicationState, IsoWeek, MAX_TEXT_CHARS,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::internship::queue_mail_in;
use crate::{Backend, Store, StoreError, StoreResult, new_id};

/// One day in seconds: the delays of `internship_settings` are in days.
const DAY: i64 = 86_400;

/// The most applications a host's list shows at once.
const HOST_LIST_LIMIT: i64 = 500;

/// What a concurrent move left: the page was out of date.
const ALREADY_CHANGED: &str =
    "Cette candidature a changé entre-temps : rechargez la page pour voir où elle en est.";

/// The French refusal of a move the state machine does not allow from `state`.
fn not_allowed(state: ApplicationState) -> StoreError {
    StoreError::Conflict(format!(
        "Cette candidature est à l'état « {} » : cette action n'est pas possible.",
        state.label_fr()
    ))
}

/// A motivation as stored: line breaks made `\n`, spaces around trimmed; or why it is refused.
///
/// # Errors
/// A French message for an empty text, a text over [`MAX_TEXT_CHARS`] characters, or one with
/// control characters other than line breaks.
pub fn clean_motivation(text: &str) -> Result<String, &'static str> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err("Écrivez quelques lignes de motivation.");
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err("La motivation ne doit pas dépasser 2 000 caractères.");
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("La motivation contient des caractères non valides.");
    }
    Ok(text.to_owned())
}

/// The département's delays, in days (`internship_settings`).
#[derive(Debug, Clone, Copy)]
struct Delays {
    application: i64,
    read_extension: i64,
    confirmation: i64,
    reminder: i64,
}

async fn delays(conn: &mut sqlx::AnyConnection) -> StoreResult<Delays> {
    let row = sqlx::query(
        "SELECT application_days, read_extension_days, confirmation_days, reminder_days \
         FROM internship_settings WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::Corrupt("internship_settings has no row".to_owned()))?;
    Ok(Delays {
        application: row.try_get(0)?,
        read_extension: row.try_get(1)?,
        confirmation: row.try_get(2)?,
        reminder: row.try_get(3)?,
    })
}

/// An application as a move reads it, with who the acting person is to it.
#[derive(Debug, Clone)]
struct Loaded {
    id: String,
    state: ApplicationState,
    pupil_id: String,
    pupil_first_name: String,
    offer_id: String,
    offer_title: String,
    host_id: Option<String>,
    iso_week: String,
    consent_at: Option<i64>,
    expires_at: Option<i64>,
    actor: ApplicationActor,
}

impl Loaded {
    fn week_label(&self) -> String {
        week_label(&self.iso_week)
    }
}

/// `semaine du … au …` of a stored week, or the code itself when it does not read.
fn week_label(iso_week: &str) -> String {
    IsoWeek::parse(iso_week).map_or_else(|_| iso_week.to_owned(), IsoWeek::label_fr)
}

fn parse_state(code: &str) -> StoreResult<ApplicationState> {
    ApplicationState::parse(code)
        .ok_or_else(|| StoreError::Corrupt(format!("application state {code}")))
}

/// Loads an application and what `person_id` is to it (the pupil, a legal guardian, a person
/// of the offer's host), or `NotFound` when they are nothing to it or not active.
async fn load(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    person_id: &str,
) -> StoreResult<Loaded> {
    let row = sqlx::query(
        "SELECT a.id, a.state, a.pupil_id, pp.first_name, a.offer_id, o.title, o.host_id, \
           a.iso_week, a.consent_at, a.expires_at, \
           CASE WHEN a.pupil_id = $2 THEN 'pupil' \
             WHEN EXISTS (SELECT 1 FROM guardianships g WHERE g.pupil_id = a.pupil_id \
               AND g.relative_id = $2 AND g.legal IN (1, 2)) THEN 'guardian' \
             WHEN EXISTS (SELECT 1 FROM host_members m JOIN hosts h ON h.id = m.host_id \
               WHERE m.person_id = $2 AND m.host_id = o.host_id \
               AND h.status IN ('pending', 'verified')) THEN 'host' \
             ELSE '' END AS actor \
         FROM internship_applications a \
         JOIN internship_offers o ON o.id = a.offer_id \
         JOIN people pp ON pp.id = a.pupil_id \
         WHERE a.id = $1 AND pp.active = 1 \
         AND EXISTS (SELECT 1 FROM people me WHERE me.id = $2 AND me.active = 1)",
    )
    .bind(application_id)
    .bind(person_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let actor = match row.try_get::<String, _>("actor")?.as_str() {
        "pupil" => ApplicationActor::Pupil,
        "guardian" => ApplicationActor::Guardian,
        "host" => ApplicationActor::Host,
        _ => return Err(StoreError::NotFound),
    };
    Ok(Loaded {
        id: row.try_get(0)?,
        state: parse_state(&row.try_get::<String, _>(1)?)?,
        pupil_id: row.try_get(2)?,
        pupil_first_name: row.try_get(3)?,
        offer_id: row.try_get(4)?,
        offer_title: row.try_get(5)?,
        host_id: row.try_get(6)?,
        iso_week: row.try_get(7)?,
        consent_at: row.try_get(8)?,
        expires_at: row.try_get(9)?,
        actor,
    })
}

/// Moves an application from the state it was read in, if the table allows `action` by
/// `actor`: a conditional UPDATE (a concurrent move makes it touch nothing, answered as
/// [`ALREADY_CHANGED`]) and its history row. The reminder of the previous deadline is
/// forgotten: a new deadline gets its own.
async fn move_in(
    conn: &mut sqlx::AnyConnection,
    application: &Loaded,
    action: ApplicationAction,
    actor: ApplicationActor,
    person_id: Option<&str>,
    expires_at: Option<i64>,
    now: i64,
) -> StoreResult<ApplicationState> {
    let next = application.state.apply(action, actor).ok_or(not_allowed(application.state))?;

    let moved = sqlx::query(
        "UPDATE internship_applications SET state = $3, expires_at = $4, reminded_at = NULL, \
         updated_at = $5 WHERE id = $1 AND state = $2",
    )
    .bind(&application.id)
    .bind(application.state.as_str())
    .bind(next.as_str())
    .bind(expires_at)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(conflict_of)?
    .rows_affected();
    if moved != 1 {
        return Err(StoreError::Conflict(ALREADY_CHANGED.to_owned()));
    }

    record_event(conn, &application.id, Some(application.state), next, person_id, now).await?;
    Ok(next)
}

async fn record_event(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    from: Option<ApplicationState>,
    to: ApplicationState,
    person_id: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO internship_application_events (id, application_id, from_state, to_state, \
         actor_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(application_id)
    .bind(from.map(ApplicationState::as_str))
    .bind(to.as_str())
    .bind(person_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A database refusal that is a conflict with another write, in French: the one-per-week
/// index (or any unique constraint), a deadlock or a serialisation failure on PostgreSQL.
fn conflict_of(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => StoreError::Conflict(
            "Un autre stage est déjà confirmé pour cette semaine, ou cette candidature \
                 existe déjà."
                .to_owned(),
        ),
        sqlx::Error::Database(database)
            if matches!(database.code().as_deref(), Some("40P01" | "40001")) =>
        {
            StoreError::Conflict(ALREADY_CHANGED.to_owned())
        }
        _ => StoreError::Database(error),
    }
}

/// The addresses of the host's people (their directory e-mail), active ones.
async fn host_addresses(
    conn: &mut sqlx::AnyConnection,
    host_id: Option<&str>,
) -> StoreResult<Vec<String>> {
    let Some(host_id) = host_id else { return Ok(Vec::new()) };
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT p.email FROM host_members m JOIN people p ON p.id = m.person_id \
         WHERE m.host_id = $1 AND p.active = 1 AND p.email IS NOT NULL AND p.email <> '' \
         ORDER BY p.email",
    )
    .bind(host_id)
    .fetch_all(conn)
    .await?)
}

/// The addresses of a pupil's family: the legal guardians' directory e-mail, and the
/// address the pupil gave for notifications, if any.
async fn family_addresses(
    conn: &mut sqlx::AnyConnection,
    pupil_id: &str,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT r.email FROM guardianships g JOIN people r ON r.id = g.relative_id \
         WHERE g.pupil_id = $1 AND g.legal IN (1, 2) AND r.active = 1 \
         AND r.email IS NOT NULL AND r.email <> '' \
         UNION SELECT pr.notify_email FROM preferences pr WHERE pr.person_id = $1 \
         AND pr.notify_email IS NOT NULL AND pr.notify_email <> '' \
         ORDER BY 1",
    )
    .bind(pupil_id)
    .fetch_all(conn)
    .await?)
}

/// Queues the same e-mail to each address.
async fn mail_all(
    conn: &mut sqlx::AnyConnection,
    addresses: &[String],
    subject: &str,
    body: &str,
    now: i64,
) -> StoreResult<()> {
    for address in addresses {
        queue_mail_in(conn, address, subject, body, now).await?;
    }
    Ok(())
}

/// E-mails the host's people about an application. The text names the offer and the week,
/// never the pupil: the host reads who applied in Préau.
async fn mail_host(
    conn: &mut sqlx::AnyConnection,
    application: &Loaded,
    subject: &str,
    news: &str,
    now: i64,
) -> StoreResult<()> {
    let addresses = host_addresses(conn, application.host_id.as_deref()).await?;
    let body = format!(
        "Bonjour,\n\n{news}\n\nOffre : « {} »\nSemaine : {}\n\n\
         Retrouvez les candidatures dans votre espace organisme de Préau (Candidatures).",
        application.offer_title,
        application.week_label()
    );
    mail_all(conn, &addresses, subject, &body, now).await
}

/// E-mails the pupil's family about their application. The text names the child by first
/// name only, the offer and the week.
async fn mail_family(
    conn: &mut sqlx::AnyConnection,
    application: &Loaded,
    subject: &str,
    news: &str,
    now: i64,
) -> StoreResult<()> {
    let addresses = family_addresses(conn, &application.pupil_id).await?;
    let body = format!(
        "Bonjour,\n\n{news}\n\nÉlève : {}\nOffre : « {} »\nSemaine : {}\n\n\
         Retrouvez les candidatures dans Préau (Stages, puis Candidatures).",
        application.pupil_first_name,
        application.offer_title,
        application.week_label()
    );
    mail_all(conn, &addresses, subject, &body, now).await
}

/// Where a pupil stands for an application made by or for them.
struct PupilPlace {
    school_id: String,
    third_year: bool,
}

/// The school of an active pupil whom `actor_id` may act for (the pupil or a legal guardian),
/// and whether they are in 3e; `None` otherwise.
async fn pupil_place(
    conn: &mut sqlx::AnyConnection,
    pupil_id: &str,
    actor_id: &str,
    now: i64,
) -> StoreResult<Option<PupilPlace>> {
    let sql = format!(
        "SELECT c.school_id, CASE WHEN p.mef_code LIKE '103%' OR m.level LIKE '3EME%' \
           THEN 1 ELSE 0 END AS third \
         FROM people p JOIN pupil_classes pc ON pc.pupil_id = p.id \
         JOIN classes c ON c.id = pc.class_id \
         LEFT JOIN mefs m ON m.code = p.mef_code \
         WHERE p.id = $1 AND p.active = 1 AND p.profile = 'pupil' AND {current} \
         AND (p.id = $2 OR EXISTS (SELECT 1 FROM guardianships g \
           JOIN people r ON r.id = g.relative_id WHERE g.pupil_id = p.id \
           AND g.relative_id = $2 AND g.legal IN (1, 2) AND r.active = 1)) \
         ORDER BY c.school_id LIMIT 1",
        current = crate::directory::current_membership("pc", "$3")
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(pupil_id)
        .bind(actor_id)
        .bind(crate::directory::membership_clock_at(now))
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(PupilPlace { school_id: row.try_get(0)?, third_year: row.try_get::<i64, _>(1)? == 1 }))
}

/// An application as the pupil and their family see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyApplication {
    pub id: String,
    pub offer_id: String,
    pub offer_title: String,
    /// The host's name (or the partner offer's employer).
    pub host_name: String,
    pub city: String,
    pub iso_week: String,
    /// `semaine du … au …`.
    pub week_label: String,
    pub state: ApplicationState,
    pub motivation: String,
    /// The legal guardian who consented, and when.
    pub consent_by: Option<String>,
    pub consent_at: Option<i64>,
    /// When the current state lapses, if it does.
    pub expires_at: Option<i64>,
    /// The zone of the pupil's school, for the deadlines.
    pub time_zone: String,
    /// The agreement of a confirmed application, once created.
    pub agreement_id: Option<String>,
    pub created_at: i64,
}

/// An application as the host's people see it: who applied (name, class, school) and why;
/// never an address before the agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostApplication {
    pub id: String,
    pub offer_id: String,
    pub offer_title: String,
    pub iso_week: String,
    pub week_label: String,
    pub state: ApplicationState,
    pub pupil_first_name: String,
    pub pupil_last_name: String,
    /// The pupil's class code in their school (empty when none is current).
    pub class_code: String,
    pub school_name: String,
    pub motivation: String,
    pub consent: bool,
    pub expires_at: Option<i64>,
    pub time_zone: String,
    pub agreement_id: Option<String>,
    pub created_at: i64,
}

/// The filters of a host's list; empty fields filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostApplicationFilter {
    pub offer_id: String,
    pub state: Option<ApplicationState>,
    pub iso_week: String,
}

/// An offer as a pupil (or a guardian for them) sees it before applying.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferForPupil {
    pub id: String,
    pub title: String,
    pub description: String,
    pub host_name: String,
    pub sector: Option<String>,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub tutor_name: String,
    pub tutor_role: String,
    pub accessible: bool,
    pub places_per_week: i64,
    /// A partner's offer: pupils apply on the partner's site, at this address (empty when the
    /// partner gave none).
    pub permalink: Option<String>,
    /// The weeks this pupil may apply for now.
    pub open_weeks: Vec<IsoWeek>,
    /// The pupil's application to it, if any: its id, state and week.
    pub application: Option<(String, ApplicationState, String)>,
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: u64,
    pub reminded: u64,
}

const FAMILY_COLUMNS: &str = "a.id, a.offer_id, o.title, COALESCE(h.name, o.employer_name) \
    AS host_name, o.city, a.iso_week, a.state, a.motivation, \
    CASE WHEN cp.id IS NULL THEN NULL ELSE cp.first_name || ' ' || cp.last_name END \
    AS consent_name, a.consent_at, a.expires_at, s.time_zone, ag.id AS agreement_id, \
    a.created_at";

const FAMILY_FROM: &str = "FROM internship_applications a \
    JOIN internship_offers o ON o.id = a.offer_id LEFT JOIN hosts h ON h.id = o.host_id \
    JOIN schools s ON s.id = a.school_id LEFT JOIN people cp ON cp.id = a.consent_by \
    LEFT JOIN internship_agreements ag ON ag.application_id = a.id";

fn family_application(row: &AnyRow) -> StoreResult<FamilyApplication> {
    let iso_week: String = row.try_get("iso_week")?;
    Ok(FamilyApplication {
        id: row.try_get("id")?,
        offer_id: row.try_get("offer_id")?,
        offer_title: row.try_get("title")?,
        host_name: row.try_get("host_name")?,
        city: row.try_get("city")?,
        week_label: week_label(&iso_week),
        iso_week,
        state: parse_state(&row.try_get::<String, _>("state")?)?,
        motivation: row.try_get("motivation")?,
        consent_by: row.try_get("consent_name")?,
        consent_at: row.try_get("consent_at")?,
        expires_at: row.try_get("expires_at")?,
        time_zone: row.try_get("time_zone")?,
        agreement_id: row.try_get("agreement_id")?,
        created_at: row.try_get("created_at")?,
    })
}

const HOST_COLUMNS: &str = "a.id, a.offer_id, o.title, a.iso_week, a.state, \
    p.first_name, p.last_name, COALESCE((SELECT MIN(c.code) FROM pupil_classes pc \
      JOIN classes c ON c.id = pc.class_id WHERE pc.pupil_id = a.pupil_id \
      AND c.school_id = a.school_id), '') AS class_code, s.name AS school_name, a.motivation, \
    a.consent_at, a.expires_at, s.time_zone, ag.id AS agreement_id, a.created_at";

/// The applications to the offers of the host `$1` is a person of (a pending or verified
/// host).
const HOST_FROM: &str = "FROM internship_applications a \
    JOIN internship_offers o ON o.id = a.offer_id \
    JOIN host_members m ON m.host_id = o.host_id AND m.person_id = $1 \
    JOIN hosts h ON h.id = m.host_id AND h.status IN ('pending', 'verified') \
    JOIN people p ON p.id = a.pupil_id JOIN schools s ON s.id = a.school_id \
    LEFT JOIN internship_agreements ag ON ag.application_id = a.id";

fn host_application(row: &AnyRow) -> StoreResult<HostApplication> {
    let iso_week: String = row.try_get("iso_week")?;
    Ok(HostApplication {
        id: row.try_get("id")?,
        offer_id: row.try_get("offer_id")?,
        offer_title: row.try_get("title")?,
        week_label: week_label(&iso_week),
        iso_week,
        state: parse_state(&row.try_get::<String, _>("state")?)?,
        pupil_first_name: row.try_get("first_name")?,
        pupil_last_name: row.try_get("last_name")?,
        class_code: row.try_get("class_code")?,
        school_name: row.try_get("school_name")?,
        motivation: row.try_get("motivation")?,
        consent: row.try_get::<Option<i64>, _>("consent_at")?.is_some(),
        expires_at: row.try_get("expires_at")?,
        time_zone: row.try_get("time_zone")?,
        agreement_id: row.try_get("agreement_id")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// A pupil applies (or a legal guardian applies for them) to one week of an offer, with a
    /// motivation; returns the application's id. In one transaction: the actor is the active
    /// pupil or one of their legal guardians, the pupil is in 3e, the offer is open to them
    /// that week (`search::offer_open_to_pupil`), the pupil has not applied to it yet; the
    /// application waits for the host until `now` + the application delay; its history starts;
    /// the host's people are e-mailed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the actor may not act for this pupil;
    /// [`StoreError::Conflict`] (French) for a bad motivation or week, a pupil not in 3e, an
    /// offer not open to them that week, or a second application to the same offer.
    pub async fn submit_application(
        &self,
        pupil_id: &str,
        actor_id: &str,
        offer_id: &str,
        iso_week: &str,
        motivation: &str,
        now: i64,
    ) -> StoreResult<String> {
        let motivation =
            clean_motivation(motivation).map_err(|e| StoreError::Conflict(e.to_owned()))?;
        let week = IsoWeek::parse(iso_week)
            .map_err(|_| StoreError::Conflict("Choisissez une semaine de stage.".to_owned()))?;
        let week = week.to_string();

        let mut tx = self.begin_write().await?;
        let place =
            pupil_place(&mut tx, pupil_id, actor_id, now).await?.ok_or(StoreError::NotFound)?;
        if !place.third_year {
            return Err(StoreError::Conflict(
                "Le stage d'observation concerne les élèves de 3e.".to_owned(),
            ));
        }
        let applied: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM internship_applications WHERE pupil_id = $1 AND offer_id = $2",
        )
        .bind(pupil_id)
        .bind(offer_id)
        .fetch_one(&mut *tx)
        .await?;
        if applied > 0 {
            return Err(duplicate());
        }
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM internship_applications WHERE pupil_id = $1 AND iso_week = $2 \
             AND state = 'confirmed'",
        )
        .bind(pupil_id)
        .bind(&week)
        .fetch_one(&mut *tx)
        .await?;
        if taken > 0 {
            return Err(StoreError::Conflict(
                "Cet élève a déjà un stage confirmé cette semaine-là.".to_owned(),
            ));
        }
        if !open_to_pupil(&mut tx, pupil_id, offer_id, &week, now).await? {
            return Err(StoreError::Conflict(
                "Cette offre n'est pas ouverte à cet élève pour cette semaine : elle est \
                 complète, retirée, ou hors des semaines de stage de son collège."
                    .to_owned(),
            ));
        }

        let delays = delays(&mut tx).await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, iso_week, \
             state, motivation, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(offer_id)
        .bind(pupil_id)
        .bind(&place.school_id)
        .bind(&week)
        .bind(ApplicationState::Submitted.as_str())
        .bind(&motivation)
        .bind(now + delays.application * DAY)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|error| match conflict_of(error) {
            StoreError::Conflict(_) => duplicate(),
            other => other,
        })?;
        record_event(&mut tx, &id, None, ApplicationState::Submitted, Some(actor_id), now).await?;

        let application = load(&mut tx, &id, actor_id).await?;
        mail_host(
            &mut tx,
            &application,
            "Nouvelle candidature de stage de 3e",
            "Un élève de 3e a candidaté à votre offre de stage d'observation.",
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(application.id = %id, offer.id = %offer_id, "candidature de stage envoyée");
        Ok(id)
    }

    /// A person of the host opens an application: one still `submitted` becomes `read`, and
    /// its deadline moves on by the read extension. Returns the application as the host sees
    /// it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless `person_id` is a person of the offer's host.
    pub async fn open_application_as_host(
        &self,
        person_id: &str,
        application_id: &str,
        now: i64,
    ) -> StoreResult<HostApplication> {
        let mut tx = self.begin_write().await?;
        let application = load(&mut tx, application_id, person_id).await?;
        if application.actor != ApplicationActor::Host {
            return Err(StoreError::NotFound);
        }
        if application.state == ApplicationState::Submitted {
            let delays = delays(&mut tx).await?;
            let expires_at = application.expires_at.map(|at| at + delays.read_extension * DAY);
            let read = move_in(
                &mut tx,
                &application,
                ApplicationAction::Read,
                ApplicationActor::Host,
                Some(person_id),
                expires_at,
                now,
            )
            .await;
            match read {
                // Another person of the host opened it at the same moment: it is read.
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        tx.commit().await?;

        let sql = format!("SELECT {HOST_COLUMNS} {HOST_FROM} WHERE a.id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(person_id)
            .bind(application_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        host_application(&row)
    }

    /// The host accepts an application (submitted or read): the pupil has the confirmation
    /// delay to confirm; the family is e-mailed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless `person_id` is a person of the offer's host;
    /// [`StoreError::Conflict`] (French) for a move the state does not allow or a concurrent
    /// one.
    pub async fn accept_application(
        &self,
        person_id: &str,
        application_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let application = self.host_side(&mut tx, application_id, person_id).await?;
        let delays = delays(&mut tx).await?;
        let expires_at = now + delays.confirmation * DAY;
        move_in(
            &mut tx,
            &application,
            ApplicationAction::Accept,
            ApplicationActor::Host,
            Some(person_id),
            Some(expires_at),
            now,
        )
        .await?;
        let news = format!(
            "Bonne nouvelle : l'organisme a accepté la candidature. Pour réserver la place, \
             un responsable légal donne son accord et l'élève (ou un responsable légal) \
             confirme dans Préau dans les {} jours.",
            delays.confirmation
        );
        mail_family(&mut tx, &application, "Candidature de stage acceptée", &news, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The host rejects an application (submitted or read); the family is e-mailed.
    ///
    /// # Errors
    /// As [`Store::accept_application`].
    pub async fn reject_application(
        &self,
        person_id: &str,
        application_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let application = self.host_side(&mut tx, application_id, person_id).await?;
        move_in(
            &mut tx,
            &application,
            ApplicationAction::Reject,
            ApplicationActor::Host,
            Some(person_id),
            None,
            now,
        )
        .await?;
        let news = "L'organisme n'a pas retenu la candidature. D'autres offres attendent \
                    dans Préau.";
        mail_family(&mut tx, &application, "Candidature de stage non retenue", news, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads an application for a move of the host's: `NotFound` for anyone else.
    async fn host_side(
        &self,
        conn: &mut sqlx::AnyConnection,
        application_id: &str,
        person_id: &str,
    ) -> StoreResult<Loaded> {
        let application = load(conn, application_id, person_id).await?;
        if application.actor == ApplicationActor::Host {
            Ok(application)
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// Cancels an application, by the pupil, a legal guardian or a person of the host. A
    /// confirmed one gives its place back and cancels its agreement
    /// (`agreements::cancel_for_application_in`). The other side is e-mailed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a person who is nothing to the application;
    /// [`StoreError::Conflict`] (French) when it can no longer be cancelled.
    pub async fn cancel_application(
        &self,
        person_id: &str,
        application_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let application = load(&mut tx, application_id, person_id).await?;
        let actor = application.actor;
        move_in(
            &mut tx,
            &application,
            ApplicationAction::Cancel,
            actor,
            Some(person_id),
            None,
            now,
        )
        .await?;
        if application.state == ApplicationState::Confirmed {
            cancel_agreement(&mut tx, &application.id, now).await?;
        }

        if actor == ApplicationActor::Host {
            let news = "L'organisme a annulé la candidature.";
            mail_family(&mut tx, &application, "Candidature de stage annulée", news, now).await?;
        } else {
            let news = "L'élève a annulé sa candidature.";
            mail_host(&mut tx, &application, "Candidature de stage annulée", news, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A legal guardian consents to an accepted application (the pupil may then confirm it).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a person who is nothing to the application;
    /// [`StoreError::Conflict`] (French) for anyone but a legal guardian, or an application
    /// that is not (or no longer) accepted.
    pub async fn consent_application(
        &self,
        guardian_id: &str,
        application_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let application = load(&mut tx, application_id, guardian_id).await?;
        if application.actor != ApplicationActor::Guardian {
            return Err(StoreError::Conflict(
                "Seul un responsable légal de l'élève peut donner son accord.".to_owned(),
            ));
        }
        if application.state != ApplicationState::Accepted {
            return Err(StoreError::Conflict(format!(
                "Cette candidature est à l'état « {} » : l'accord se donne quand l'organisme \
                 l'a acceptée.",
                application.state.label_fr()
            )));
        }
        give_consent(&mut tx, &application.id, guardian_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The pupil or a legal guardian confirms an accepted application. A guardian confirming
    /// gives consent; the pupil needs a guardian's consent first. In one transaction: the
    /// pupil's applications for that week and then the offer are locked (PostgreSQL; SQLite's
    /// write queue serialises), the places left that week and in all are counted again from
    /// the `confirmed` rows, the application becomes `confirmed`, the pupil's other pending
    /// applications for the same week are superseded (their hosts e-mailed), and the
    /// agreement is created. The partial unique index `internship_applications_one_per_week`
    /// is the database's last guard. Returns the agreement's id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a person who is neither the pupil nor a legal guardian;
    /// [`StoreError::Conflict`] (French) without consent, without a place left, with another
    /// internship confirmed that week, or after a concurrent move.
    pub async fn confirm_application(
        &self,
        person_id: &str,
        application_id: &str,
        now: i64,
    ) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        let first = load(&mut tx, application_id, person_id).await?;
        if first.actor == ApplicationActor::Host {
            return Err(StoreError::NotFound);
        }
        if self.backend() == Backend::Postgres {
            // The pupil's week first, then the offer: every confirmation takes them in this
            // order, so two of them wait for each other instead of deadlocking.
            sqlx::query(
                "SELECT id FROM internship_applications WHERE pupil_id = $1 AND iso_week = $2 \
                 ORDER BY id FOR UPDATE",
            )
            .bind(&first.pupil_id)
            .bind(&first.iso_week)
            .fetch_all(&mut *tx)
            .await
            .map_err(conflict_of)?;
            sqlx::query("SELECT id FROM internship_offers WHERE id = $1 FOR UPDATE")
                .bind(&first.offer_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(conflict_of)?;
        }
        // Read again under the locks: what another confirmation committed meanwhile shows.
        let application = load(&mut tx, application_id, person_id).await?;
        let actor = application.actor;
        if application.state.apply(ApplicationAction::Confirm, actor).is_none() {
            return Err(not_allowed(application.state));
        }
        if application.consent_at.is_none() {
            if actor != ApplicationActor::Guardian {
                return Err(StoreError::Conflict(
                    "Un responsable légal doit d'abord donner son accord à ce stage.".to_owned(),
                ));
            }
            give_consent(&mut tx, &application.id, person_id, now).await?;
        }
        check_places(&mut tx, &application).await?;
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM internship_applications WHERE pupil_id = $1 \
             AND iso_week = $2 AND state = 'confirmed'",
        )
        .bind(&application.pupil_id)
        .bind(&application.iso_week)
        .fetch_one(&mut *tx)
        .await?;
        if held > 0 {
            return Err(StoreError::Conflict(
                "Un autre stage est déjà confirmé pour cette semaine.".to_owned(),
            ));
        }

        move_in(
            &mut tx,
            &application,
            ApplicationAction::Confirm,
            actor,
            Some(person_id),
            None,
            now,
        )
        .await?;
        supersede_others(&mut tx, &application, now).await?;
        let agreement_id = create_agreement(&mut tx, &application.id, now).await?;
        let news = "L'élève a confirmé son stage : la place est réservée. La convention de \
                    stage est prête à être complétée dans Préau (Conventions).";
        mail_host(&mut tx, &application, "Stage confirmé", news, now).await?;
        tx.commit().await?;
        tracing::info!(application.id = %application.id, agreement.id = %agreement_id,
            "stage confirmé");
        Ok(agreement_id)
    }

    /// Expires the pending applications whose deadline passed at `now` (both sides e-mailed),
    /// and sends one reminder for each deadline that falls within the reminder delay: to the
    /// host for an application waiting for its answer (submitted or read), to the family for
    /// one waiting for the pupil's confirmation (accepted).
    ///
    /// # Errors
    /// Database errors only.
    pub async fn internship_sweep(&self, now: i64) -> StoreResult<SweepReport> {
        let mut tx = self.begin_write().await?;
        let mut report = SweepReport::default();

        let due: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM internship_applications WHERE expires_at IS NOT NULL \
             AND expires_at <= $1 AND state IN ('submitted', 'read', 'accepted') ORDER BY id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for id in due {
            let application = load_as_system(&mut tx, &id).await?;
            match move_in(
                &mut tx,
                &application,
                ApplicationAction::Expire,
                ApplicationActor::System,
                None,
                None,
                now,
            )
            .await
            {
                Ok(_) => report.expired += 1,
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other),
            }
            let news = "Le délai de réponse est dépassé : la candidature a expiré.";
            mail_host(&mut tx, &application, "Candidature de stage expirée", news, now).await?;
            mail_family(&mut tx, &application, "Candidature de stage expirée", news, now).await?;
        }

        let delays = delays(&mut tx).await?;
        let soon: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM internship_applications WHERE expires_at IS NOT NULL \
             AND expires_at > $1 AND expires_at <= $2 AND reminded_at IS NULL \
             AND state IN ('submitted', 'read', 'accepted') ORDER BY id",
        )
        .bind(now)
        .bind(now + delays.reminder * DAY)
        .fetch_all(&mut *tx)
        .await?;
        for id in soon {
            let application = load_as_system(&mut tx, &id).await?;
            let marked = sqlx::query(
                "UPDATE internship_applications SET reminded_at = $3 \
                 WHERE id = $1 AND state = $2 AND reminded_at IS NULL",
            )
            .bind(&application.id)
            .bind(application.state.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked != 1 {
                continue;
            }
            report.reminded += 1;
            if application.state == ApplicationState::Accepted {
                let news = "Rappel : la candidature acceptée attend l'accord d'un responsable \
                            légal et la confirmation ; sans elle, elle expirera bientôt.";
                mail_family(&mut tx, &application, "Rappel : stage à confirmer", news, now).await?;
            } else {
                let news = "Rappel : une candidature attend votre réponse ; sans réponse, \
                            elle expirera bientôt.";
                mail_host(&mut tx, &application, "Rappel : candidature à examiner", news, now)
                    .await?;
            }
        }
        tx.commit().await?;
        if report != SweepReport::default() {
            tracing::info!(
                expired = report.expired,
                reminded = report.reminded,
                "candidatures de stage : échéances traitées"
            );
        }
        Ok(report)
    }

    /// The applications of `pupil_id`, for the pupil or one of their legal guardians (empty
    /// for anyone else), by week then date.
    pub async fn family_applications(
        &self,
        viewer_id: &str,
        pupil_id: &str,
    ) -> StoreResult<Vec<FamilyApplication>> {
        let sql = format!(
            "SELECT {FAMILY_COLUMNS} {FAMILY_FROM} WHERE a.pupil_id = $1 \
             AND (a.pupil_id = $2 OR EXISTS (SELECT 1 FROM guardianships g \
               WHERE g.pupil_id = a.pupil_id AND g.relative_id = $2 AND g.legal IN (1, 2))) \
             ORDER BY a.iso_week, a.created_at, a.id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pupil_id)
            .bind(viewer_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(family_application)
            .collect()
    }

    /// The applications to the offers of the host `person_id` is a person of, newest first,
    /// filtered (at most 500).
    pub async fn host_applications(
        &self,
        person_id: &str,
        filter: &HostApplicationFilter,
    ) -> StoreResult<Vec<HostApplication>> {
        let sql = format!(
            "SELECT {HOST_COLUMNS} {HOST_FROM} WHERE ($2 = '' OR a.offer_id = $2) \
             AND ($3 = '' OR a.state = $3) AND ($4 = '' OR a.iso_week = $4) \
             ORDER BY a.created_at DESC, a.id DESC LIMIT $5"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(person_id)
            .bind(&filter.offer_id)
            .bind(filter.state.map_or("", ApplicationState::as_str))
            .bind(&filter.iso_week)
            .bind(HOST_LIST_LIMIT)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(host_application)
            .collect()
    }

    /// The offers of the host `person_id` is a person of that have applications, as
    /// `(id, title)`, for the list's filter.
    pub async fn host_application_offers(
        &self,
        person_id: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT o.id, o.title FROM internship_offers o \
             JOIN host_members m ON m.host_id = o.host_id AND m.person_id = $1 \
             WHERE EXISTS (SELECT 1 FROM internship_applications a WHERE a.offer_id = o.id) \
             ORDER BY o.title, o.id",
        )
        .bind(person_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// An offer as `pupil_id` may see it, for the pupil or one of their legal guardians
    /// (`viewer_id`): with the weeks the pupil may apply for now. `None` unless the pupil may
    /// apply to it for at least one week or already applied to it, and for anyone who may not
    /// act for the pupil. A partner's offer shows when it is published by an active partner for
    /// one of the weeks of the pupil's school, with the partner's address to apply.
    pub async fn offer_for_pupil(
        &self,
        viewer_id: &str,
        pupil_id: &str,
        offer_id: &str,
        now: i64,
    ) -> StoreResult<Option<OfferForPupil>> {
        let mut conn = self.pool().acquire().await?;
        let Some(place) = pupil_place(&mut conn, pupil_id, viewer_id, now).await? else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT o.id, o.title, o.description, COALESCE(h.name, o.employer_name) AS host_name, \
               sc.name AS sector, o.street, o.postal_code, o.city, o.tutor_name, o.tutor_role, \
               o.accessible, o.places_per_week, o.permalink, o.partner_id, o.state, \
               CASE WHEN pa.active = 1 THEN 1 ELSE 0 END AS partner_active \
             FROM internship_offers o LEFT JOIN hosts h ON h.id = o.host_id \
             LEFT JOIN internship_sectors sc ON sc.id = o.sector_id \
             LEFT JOIN internship_partners pa ON pa.id = o.partner_id WHERE o.id = $1",
        )
        .bind(offer_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };

        let application = sqlx::query(
            "SELECT id, state, iso_week FROM internship_applications \
             WHERE pupil_id = $1 AND offer_id = $2",
        )
        .bind(pupil_id)
        .bind(offer_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| -> StoreResult<(String, ApplicationState, String)> {
            Ok((row.try_get(0)?, parse_state(&row.try_get::<String, _>(1)?)?, row.try_get(2)?))
        })
        .transpose()?;

        let school_weeks: Vec<String> = sqlx::query_scalar(
            "SELECT ow.iso_week FROM internship_offer_weeks ow \
             JOIN school_internship_weeks sw ON sw.iso_week = ow.iso_week \
             AND sw.school_id = $2 AND sw.level = '3e' WHERE ow.offer_id = $1 \
             ORDER BY ow.iso_week",
        )
        .bind(offer_id)
        .bind(&place.school_id)
        .fetch_all(&mut *conn)
        .await?;
        let partner: Option<String> = row.try_get("partner_id")?;
        let mut open_weeks = Vec::new();
        let visible = if partner.is_some() {
            let published = row.try_get::<String, _>("state")? == "published";
            published
                && row.try_get::<i64, _>("partner_active")? == 1
                && place.third_year
                && !school_weeks.is_empty()
        } else {
            if place.third_year {
                for week in &school_weeks {
                    if open_to_pupil(&mut conn, pupil_id, offer_id, week, now).await?
                        && let Ok(week) = IsoWeek::parse(week)
                    {
                        open_weeks.push(week);
                    }
                }
            }
            !open_weeks.is_empty()
        };
        if !visible && application.is_none() {
            return Ok(None);
        }
        if application.is_some() {
            open_weeks.clear();
        }

        Ok(Some(OfferForPupil {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            host_name: row.try_get("host_name")?,
            sector: row.try_get("sector")?,
            street: row.try_get("street")?,
            postal_code: row.try_get("postal_code")?,
            city: row.try_get("city")?,
            tutor_name: row.try_get("tutor_name")?,
            tutor_role: row.try_get("tutor_role")?,
            accessible: row.try_get::<i64, _>("accessible")? == 1,
            places_per_week: row.try_get("places_per_week")?,
            permalink: match partner {
                Some(_) => Some(row.try_get::<Option<String>, _>("permalink")?.unwrap_or_default()),
                None => None,
            },
            open_weeks,
            application,
        }))
    }
}

/// A second application of a pupil to one offer.
fn duplicate() -> StoreError {
    StoreError::Conflict("Une candidature à cette offre existe déjà pour cet élève.".to_owned())
}

/// Records a legal guardian's consent on an application still accepted.
async fn give_consent(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    guardian_id: &str,
    now: i64,
) -> StoreResult<()> {
    let given = sqlx::query(
        "UPDATE internship_applications SET consent_by = $2, consent_at = $3, updated_at = $3 \
         WHERE id = $1 AND state = 'accepted'",
    )
    .bind(application_id)
    .bind(guardian_id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    if given == 1 { Ok(()) } else { Err(StoreError::Conflict(ALREADY_CHANGED.to_owned())) }
}

/// Checks that the offer has a place left for the application's week and in all, counted
/// from the `confirmed` rows (the caller holds the offer's lock).
async fn check_places(conn: &mut sqlx::AnyConnection, application: &Loaded) -> StoreResult<()> {
    let row = sqlx::query(
        "SELECT o.places_per_week, o.places_total, \
           (SELECT COUNT(*) FROM internship_applications a WHERE a.offer_id = o.id \
             AND a.iso_week = $2 AND a.state = 'confirmed') AS that_week, \
           (SELECT COUNT(*) FROM internship_applications a WHERE a.offer_id = o.id \
             AND a.state = 'confirmed') AS in_all \
         FROM internship_offers o WHERE o.id = $1",
    )
    .bind(&application.offer_id)
    .bind(&application.iso_week)
    .fetch_one(conn)
    .await?;
    let per_week: i64 = row.try_get(0)?;
    let total: i64 = row.try_get(1)?;
    let that_week: i64 = row.try_get(2)?;
    let in_all: i64 = row.try_get(3)?;
    if that_week >= per_week || in_all >= total {
        return Err(StoreError::Conflict(
            "Il n'y a plus de place pour ce stage cette semaine : un autre élève a confirmé \
             avant vous."
                .to_owned(),
        ));
    }
    Ok(())
}

/// Supersedes the pupil's other pending applications for the confirmed one's week (not
/// those of other weeks), e-mailing their hosts.
async fn supersede_others(
    conn: &mut sqlx::AnyConnection,
    confirmed: &Loaded,
    now: i64,
) -> StoreResult<()> {
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM internship_applications WHERE pupil_id = $1 AND iso_week = $2 \
         AND id <> $3 AND state IN ('submitted', 'read', 'accepted') ORDER BY id",
    )
    .bind(&confirmed.pupil_id)
    .bind(&confirmed.iso_week)
    .bind(&confirmed.id)
    .fetch_all(&mut *conn)
    .await?;
    for id in others {
        let other = load_as_system(conn, &id).await?;
        move_in(
            conn,
            &other,
            ApplicationAction::Supersede,
            ApplicationActor::System,
            None,
            None,
            now,
        )
        .await?;
        let news = "L'élève a confirmé un autre stage pour cette semaine : sa candidature à \
                    votre offre est annulée.";
        mail_host(conn, &other, "Candidature de stage annulée", news, now).await?;
    }
    Ok(())
}

/// Loads an application for a move of Préau itself (expiry, supersession, reminders).
async fn load_as_system(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
) -> StoreResult<Loaded> {
    let row = sqlx::query(
        "SELECT a.id, a.state, a.pupil_id, pp.first_name, a.offer_id, o.title, o.host_id, \
           a.iso_week, a.consent_at, a.expires_at \
         FROM internship_applications a JOIN internship_offers o ON o.id = a.offer_id \
         JOIN people pp ON pp.id = a.pupil_id WHERE a.id = $1",
    )
    .bind(application_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(Loaded {
        id: row.try_get(0)?,
        state: parse_state(&row.try_get::<String, _>(1)?)?,
        pupil_id: row.try_get(2)?,
        pupil_first_name: row.try_get(3)?,
        offer_id: row.try_get(4)?,
        offer_title: row.try_get(5)?,
        host_id: row.try_get(6)?,
        iso_week: row.try_get(7)?,
        consent_at: row.try_get(8)?,
        expires_at: row.try_get(9)?,
        actor: ApplicationActor::System,
    })
}

/// Whether the pupil may apply to the offer for this week (helper B's rule).
async fn open_to_pupil(
    conn: &mut sqlx::AnyConnection,
    pupil_id: &str,
    offer_id: &str,
    iso_week: &str,
    now: i64,
) -> StoreResult<bool> {
    super::search::offer_open_to_pupil(conn, pupil_id, offer_id, iso_week, now).await
}

/// Creates the agreement of a confirmed application (helper D's).
async fn create_agreement(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    now: i64,
) -> StoreResult<String> {
    super::agreements::create_agreement_in(conn, application_id, now).await.map_err(|error| {
        match error {
            StoreError::Database(sqlx::Error::Database(database))
                if database.is_unique_violation() =>
            {
                StoreError::Conflict("Cette candidature a déjà sa convention de stage.".to_owned())
            }
            other => other,
        }
    })
}

/// Cancels the agreement of a confirmed application being cancelled (helper D's).
async fn cancel_agreement(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    now: i64,
) -> StoreResult<()> {
    super::agreements::cancel_for_application_in(conn, application_id, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motivations_are_cleaned_and_limited() {
        assert_eq!(
            clean_motivation("  J'aime le pain.\r\nVraiment.  ").unwrap(),
            "J'aime le pain.\nVraiment."
        );
        assert!(clean_motivation(" \n ").is_err());
        assert!(clean_motivation("a\u{7}b").is_err());
        assert!(clean_motivation("a\tb").is_err());
        assert!(clean_motivation(&"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(clean_motivation(&"é".repeat(MAX_TEXT_CHARS + 1)).is_err());
    }
}
