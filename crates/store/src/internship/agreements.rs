//! The agreements (conventions de stage): created from a confirmed application with a snapshot
//! of every party taken from the directory (`create_agreement_in`), completed by the host and
//! then by the school, checked (required fields, the legal hours of minors) and frozen, with
//! the SHA-256 of the exact frozen document; read by the parties only (`agreement_for_viewer`,
//! `agreements_for_viewer`, the school's list). A change of the content once signing started
//! bumps the version and voids every signature given. Signatures and signing links are
//! `signatures`' business.

use domain::internship::agreement::GuardianDetails;
use domain::internship::{AgreementContent, AgreementState, IsoWeek, SignatoryRole, WeekHours};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::directory::{administered_by, current_membership, membership_clock_at};
use crate::internship::signatures;
use crate::{Store, StoreError, StoreResult, new_id};

/// The longest short field (a name, a role, an address line), in characters.
pub const MAX_FIELD_CHARS: usize = 200;
/// The longest e-mail address, in bytes.
pub const MAX_EMAIL_BYTES: usize = 254;
/// The longest phone number, in characters.
pub const MAX_PHONE_CHARS: usize = 30;
/// The most agreements a list shows.
pub const LIST_LIMIT: i64 = 500;

/// An agreement as its parties read it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementRecord {
    pub id: String,
    pub application_id: String,
    pub school_id: String,
    pub host_id: Option<String>,
    pub state: AgreementState,
    pub version: i64,
    pub content: AgreementContent,
    /// The SHA-256 of the frozen document, while it is frozen (`signing`, `signed`).
    pub document_sha256: Option<String>,
    pub frozen_at: Option<i64>,
    pub sealed_at: Option<i64>,
    pub sealed_file_key: Option<String>,
    pub sealed_sha256: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The valid signatures of the current version, in the order of `SignatoryRole::ALL`.
    pub signatures: Vec<SignatureRecord>,
}

/// A valid signature of an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    pub role: SignatoryRole,
    pub person_id: Option<String>,
    pub signer_name: String,
    /// `session`, `link` or `paper`.
    pub method: String,
    pub signed_at: i64,
    pub ip: String,
    pub user_agent: String,
    pub document_sha256: String,
    pub version: i64,
    /// The FileStore key of the scan of a paper signature.
    pub scan_file_key: Option<String>,
    /// Who marked a paper signature.
    pub recorded_by: Option<String>,
}

impl AgreementRecord {
    /// The roles that must sign this agreement: every party, the second guardian only when
    /// the content names one.
    pub fn required_roles(&self) -> Vec<SignatoryRole> {
        required_roles(&self.content)
    }

    /// The required roles without a valid signature of the current version.
    pub fn missing_roles(&self) -> Vec<SignatoryRole> {
        self.required_roles()
            .into_iter()
            .filter(|role| !self.signatures.iter().any(|s| s.role == *role))
            .collect()
    }
}

/// The roles that must sign an agreement with this content.
pub fn required_roles(content: &AgreementContent) -> Vec<SignatoryRole> {
    SignatoryRole::ALL
        .into_iter()
        .filter(|role| *role != SignatoryRole::Guardian2 || content.guardians.len() >= 2)
        .collect()
}

/// What the viewer is to an agreement; several can hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// An administrator of the agreement's school (role `school_admin` or function `DIR`).
    pub school_admin: bool,
    /// A member of the host organisation (pending or verified).
    pub host_member: bool,
    pub pupil: bool,
    /// The agreement's first legal guardian, still a legal guardian of the pupil.
    pub guardian_1: bool,
    pub guardian_2: bool,
    /// The agreement's referent teacher.
    pub referent_teacher: bool,
    pub departement_admin: bool,
}

impl Standing {
    /// The roles the viewer may sign as with their session.
    pub fn session_roles(&self) -> Vec<SignatoryRole> {
        let mut roles = Vec::new();
        if self.school_admin {
            roles.push(SignatoryRole::Head);
        }
        if self.host_member {
            roles.push(SignatoryRole::HostRepresentative);
        }
        if self.referent_teacher {
            roles.push(SignatoryRole::ReferentTeacher);
        }
        if self.pupil {
            roles.push(SignatoryRole::Pupil);
        }
        if self.guardian_1 {
            roles.push(SignatoryRole::Guardian1);
        }
        if self.guardian_2 {
            roles.push(SignatoryRole::Guardian2);
        }
        roles
    }
}

/// One line of a list of agreements.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementSummary {
    pub id: String,
    pub state: AgreementState,
    pub version: i64,
    pub pupil_name: String,
    pub pupil_class: String,
    pub school_name: String,
    pub host_name: String,
    pub iso_week: String,
    pub first_day: String,
    pub last_day: String,
    pub document_sha256: Option<String>,
    /// Required roles without a valid signature of the current version.
    pub missing: Vec<SignatoryRole>,
}

/// The host's part of the agreement, as its form sends it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostPart {
    pub representative_name: String,
    pub representative_role: String,
    pub representative_email: String,
    pub representative_phone: String,
    pub tutor_name: String,
    pub tutor_role: String,
    pub tutor_email: String,
    pub tutor_phone: String,
    pub internship_address: String,
    pub host_insurer: String,
    pub planned_activities: String,
    pub meals: String,
    pub hours: WeekHours,
}

/// The school's part of the agreement, as its form sends it. The guardians are those of the
/// snapshot (their person stays); only their details change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchoolPart {
    pub pupil_address: String,
    pub pupil_phone: String,
    pub guardians: Vec<GuardianDetails>,
    /// A teacher of the school; their name and e-mail are copied from the directory.
    pub referent_teacher_id: String,
    pub health_plan: domain::internship::agreement::HealthPlan,
    pub school_extra_article: String,
    /// `YYYY-MM-DD` or empty.
    pub delegation_date: String,
}

/// What became of the school's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchoolOutcome {
    /// Saved; the agreement waits for the school's validation.
    Saved,
    /// Checked and frozen: signatures may start; `links` e-mails were queued.
    Frozen { links: usize },
    /// Not frozen (and nothing saved): every reason, in French.
    Refused(Vec<String>),
}

/// A teacher who may be the referent, for the school's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherChoice {
    pub id: String,
    pub name: String,
}

/// The SQL condition "the person bound to `param` may read the agreement `a`" (joined with
/// its application `ap`): the pupil, a current legal guardian of the pupil, the referent
/// teacher, an administrator of the school, a member of a live host, a département admin.
pub(crate) fn readable_by(param: &str) -> String {
    format!(
        "(ap.pupil_id = {param} \
          OR EXISTS (SELECT 1 FROM guardianships g WHERE g.pupil_id = ap.pupil_id \
               AND g.relative_id = {param} AND g.legal IN (1, 2)) \
          OR a.referent_teacher_id = {param} \
          OR a.school_id IN ({admin}) \
          OR EXISTS (SELECT 1 FROM host_members hm JOIN hosts hh ON hh.id = hm.host_id \
               WHERE hm.person_id = {param} AND hm.host_id = a.host_id \
               AND hh.status IN ('pending', 'verified')) \
          OR EXISTS (SELECT 1 FROM roles dr WHERE dr.person_id = {param} \
               AND dr.role = 'departement_admin'))",
        admin = administered_by(param)
    )
}

const AGREEMENT_COLUMNS: &str = "a.id, a.application_id, a.school_id, a.host_id, a.state, \
     a.content, a.version, a.document_sha256, a.frozen_at, a.sealed_at, a.sealed_file_key, \
     a.sealed_sha256, a.created_at, a.updated_at";

/// Creates the agreement of a confirmed application inside the caller's transaction, with a
/// snapshot of every party from the directory, in state `host_pending`, version 1.
///
/// # Errors
/// `NotFound` for an unknown application; `Conflict` (French) when the application is not
/// confirmed or already has an agreement.
pub(crate) async fn create_agreement_in(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    now: i64,
) -> StoreResult<String> {
    let application = sqlx::query(
        "SELECT ap.pupil_id, ap.school_id, ap.iso_week, ap.state, o.host_id, o.title, \
         o.street, o.postal_code, o.city, o.tutor_name, o.tutor_role, o.tutor_email, \
         o.tutor_phone, o.daily_hours, COALESCE(se.name, '') \
         FROM internship_applications ap JOIN internship_offers o ON o.id = ap.offer_id \
         LEFT JOIN internship_sectors se ON se.id = o.sector_id WHERE ap.id = $1",
    )
    .bind(application_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let state: String = application.try_get(3)?;
    if state != "confirmed" {
        return Err(StoreError::Conflict(
            "Seule une candidature confirmée donne lieu à une convention.".to_owned(),
        ));
    }
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM internship_agreements WHERE application_id = $1")
            .bind(application_id)
            .fetch_optional(&mut *conn)
            .await?;
    if existing.is_some() {
        return Err(StoreError::Conflict("Cette candidature a déjà une convention.".to_owned()));
    }

    let pupil_id: String = application.try_get(0)?;
    let school_id: String = application.try_get(1)?;
    let iso_week: String = application.try_get(2)?;
    let host_id: Option<String> = application.try_get(4)?;
    let mut content = AgreementContent {
        offer_title: application.try_get(5)?,
        iso_week: iso_week.clone(),
        tutor_name: application.try_get(9)?,
        tutor_role: application.try_get(10)?,
        tutor_email: application.try_get(11)?,
        tutor_phone: application.try_get(12)?,
        host_activity: application.try_get(14)?,
        ..AgreementContent::default()
    };
    let hours: String = application.try_get(13)?;
    content.hours = serde_json::from_str(&hours).unwrap_or_default();
    if let Ok(week) = IsoWeek::parse(&iso_week) {
        content.first_day = week.monday().to_string();
        content.last_day = week.day(jiff::civil::Weekday::Friday).to_string();
    }
    let offer_address = address(
        &application.try_get::<String, _>(6)?,
        &application.try_get::<String, _>(7)?,
        &application.try_get::<String, _>(8)?,
    );

    fill_pupil(conn, &mut content, &pupil_id, &school_id, now).await?;
    fill_school(conn, &mut content, &school_id).await?;
    if let Some(host_id) = &host_id {
        fill_host(conn, &mut content, host_id).await?;
    }
    if !offer_address.is_empty() && offer_address != content.host_address {
        content.internship_address = offer_address;
    }

    let id = new_id();
    let json = content_json(&content)?;
    sqlx::query(
        "INSERT INTO internship_agreements (id, application_id, school_id, host_id, \
         referent_teacher_id, state, content, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'host_pending', $6, 1, $7, $7)",
    )
    .bind(&id)
    .bind(application_id)
    .bind(&school_id)
    .bind(host_id.as_deref())
    .bind(non_empty(&content.referent_teacher_id))
    .bind(&json)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    tracing::info!(agreement.id = %id, application.id = %application_id, "agreement created");
    Ok(id)
}

/// Cancels the agreement of an application (cancelled after confirmation) inside the caller's
/// transaction: state `cancelled`, its signing links gone. Nothing happens without one.
pub(crate) async fn cancel_for_application_in(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    now: i64,
) -> StoreResult<()> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT id FROM internship_agreements WHERE application_id = $1")
            .bind(application_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(id) = id else { return Ok(()) };

    sqlx::query(
        "UPDATE internship_agreements SET state = 'cancelled', updated_at = $2 WHERE id = $1",
    )
    .bind(&id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM internship_sign_links WHERE agreement_id = $1")
        .bind(&id)
        .execute(&mut *conn)
        .await?;
    tracing::info!(agreement.id = %id, "agreement cancelled");
    Ok(())
}

async fn fill_pupil(
    conn: &mut sqlx::AnyConnection,
    content: &mut AgreementContent,
    pupil_id: &str,
    school_id: &str,
    now: i64,
) -> StoreResult<()> {
    let pupil = sqlx::query(
        "SELECT first_name, last_name, COALESCE(birth_date, ''), COALESCE(address_lines, ''), \
         COALESCE(postal_code, ''), COALESCE(city, ''), COALESCE(email, ''), \
         COALESCE(mobile, '') FROM people WHERE id = $1",
    )
    .bind(pupil_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    content.pupil_id = pupil_id.to_owned();
    content.pupil_name = full_name(&pupil, 0)?;
    content.pupil_birth_date = pupil.try_get(2)?;
    content.pupil_address = address(
        &pupil.try_get::<String, _>(3)?,
        &pupil.try_get::<String, _>(4)?,
        &pupil.try_get::<String, _>(5)?,
    );
    content.pupil_email = pupil.try_get(6)?;
    content.pupil_phone = pupil.try_get(7)?;

    let class = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.id, c.code FROM pupil_classes pc JOIN classes c ON c.id = pc.class_id \
         WHERE pc.pupil_id = $1 AND c.school_id = $2 AND {} ORDER BY c.code LIMIT 1",
        current_membership("pc", "$3")
    )))
    .bind(pupil_id)
    .bind(school_id)
    .bind(membership_clock_at(now))
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(class) = class {
        let class_id: String = class.try_get(0)?;
        content.pupil_class = class.try_get(1)?;
        let referent = sqlx::query(
            "SELECT p.id, p.first_name, p.last_name, COALESCE(p.email, '') \
             FROM principal_teachers pt JOIN people p ON p.id = pt.teacher_id \
             WHERE pt.class_id = $1 AND p.active = 1 ORDER BY p.last_name, p.first_name, p.id \
             LIMIT 1",
        )
        .bind(&class_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(referent) = referent {
            content.referent_teacher_id = referent.try_get(0)?;
            content.referent_teacher_name = full_name(&referent, 1)?;
            content.referent_teacher_email = referent.try_get(3)?;
        }
    }

    let guardians = sqlx::query(
        "SELECT p.id, p.first_name, p.last_name, COALESCE(p.email, ''), COALESCE(p.mobile, ''), \
         COALESCE(p.address_lines, ''), COALESCE(p.postal_code, ''), COALESCE(p.city, '') \
         FROM guardianships g JOIN people p ON p.id = g.relative_id \
         WHERE g.pupil_id = $1 AND g.legal IN (1, 2) AND p.active = 1 \
         ORDER BY g.legal, p.last_name, p.id LIMIT 2",
    )
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?;
    for row in guardians {
        content.guardians.push(GuardianDetails {
            person_id: row.try_get(0)?,
            name: full_name(&row, 1)?,
            email: row.try_get(3)?,
            phone: row.try_get(4)?,
            address: address(
                &row.try_get::<String, _>(5)?,
                &row.try_get::<String, _>(6)?,
                &row.try_get::<String, _>(7)?,
            ),
        });
    }
    Ok(())
}

async fn fill_school(
    conn: &mut sqlx::AnyConnection,
    content: &mut AgreementContent,
    school_id: &str,
) -> StoreResult<()> {
    let school = sqlx::query(
        "SELECT s.uai, s.name, COALESCE(s.street, ''), COALESCE(s.postal_code, ''), \
         COALESCE(s.city, ''), COALESCE(s.email, ''), COALESCE(s.phone, ''), \
         COALESCE(ip.delegation_date, '') FROM schools s \
         LEFT JOIN school_internship_profiles ip ON ip.school_id = s.id WHERE s.id = $1",
    )
    .bind(school_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    content.school_id = school_id.to_owned();
    content.school_uai = school.try_get(0)?;
    content.school_name = school.try_get(1)?;
    content.school_address = address(
        &school.try_get::<String, _>(2)?,
        &school.try_get::<String, _>(3)?,
        &school.try_get::<String, _>(4)?,
    );
    content.school_email = school.try_get(5)?;
    content.school_phone = school.try_get(6)?;
    content.delegation_date = school.try_get(7)?;

    // The head: the chef d'établissement (direction function D0010) first, then another member
    // of the direction (a deputy, D0011), then a school administrator; the title follows.
    let head = sqlx::query(
        "SELECT p.id, p.first_name, p.last_name, \
         CASE WHEN EXISTS (SELECT 1 FROM person_functions f WHERE f.person_id = p.id \
           AND f.school_id = $1 AND f.code = 'DIR' AND f.discipline_code = 'D0010') THEN 0 \
         WHEN EXISTS (SELECT 1 FROM person_functions f WHERE f.person_id = p.id \
           AND f.school_id = $1 AND f.code = 'DIR' AND f.discipline_code = 'D0011') THEN 1 \
         WHEN EXISTS (SELECT 1 FROM person_functions f WHERE f.person_id = p.id \
           AND f.school_id = $1 AND f.code = 'DIR') THEN 2 ELSE 3 END AS rank \
         FROM people p WHERE p.active = 1 AND p.id IN \
         (SELECT person_id FROM person_functions WHERE school_id = $1 AND code = 'DIR' \
          UNION SELECT person_id FROM roles WHERE school_id = $1 AND role = 'school_admin') \
         ORDER BY rank, p.last_name, p.first_name, p.id LIMIT 1",
    )
    .bind(school_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(head) = head {
        content.head_person_id = head.try_get(0)?;
        content.head_name = full_name(&head, 1)?;
        let rank: i64 = head.try_get(3)?;
        content.head_role = match rank {
            0 | 2 => "Chef d'établissement",
            1 => "Chef d'établissement adjoint, par délégation",
            _ => "Administrateur de l'établissement, par délégation",
        }
        .to_owned();
    }
    Ok(())
}

async fn fill_host(
    conn: &mut sqlx::AnyConnection,
    content: &mut AgreementContent,
    host_id: &str,
) -> StoreResult<()> {
    let host = sqlx::query(
        "SELECT name, siret, street, postal_code, city, representative_name, \
         representative_role, contact_name, contact_email, contact_phone FROM hosts WHERE id = $1",
    )
    .bind(host_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    content.host_id = host_id.to_owned();
    content.host_name = host.try_get(0)?;
    content.host_siret = host.try_get(1)?;
    content.host_address = address(
        &host.try_get::<String, _>(2)?,
        &host.try_get::<String, _>(3)?,
        &host.try_get::<String, _>(4)?,
    );
    content.representative_name = host.try_get(5)?;
    content.representative_role = host.try_get(6)?;
    // The contact's e-mail and phone are the representative's only when they are one person.
    let contact: String = host.try_get(7)?;
    if !contact.is_empty() && contact == content.representative_name {
        content.representative_email = host.try_get(8)?;
        content.representative_phone = host.try_get(9)?;
    }
    Ok(())
}

fn full_name(row: &AnyRow, first: usize) -> StoreResult<String> {
    let first_name: String = row.try_get(first)?;
    let last_name: String = row.try_get(first + 1)?;
    Ok(format!("{} {}", first_name.trim(), last_name.trim()).trim().to_owned())
}

/// `street, postcode city`, leaving out what is empty; line breaks of the street become commas.
fn address(street: &str, postal_code: &str, city: &str) -> String {
    let street = street.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>();
    let town = format!("{} {}", postal_code.trim(), city.trim()).trim().to_owned();
    let mut parts = street;
    if !town.is_empty() {
        parts.push(&town);
    }
    parts.join(", ")
}

fn non_empty(text: &str) -> Option<&str> {
    if text.is_empty() { None } else { Some(text) }
}

pub(crate) fn content_json(content: &AgreementContent) -> StoreResult<String> {
    serde_json::to_string(content).map_err(|e| StoreError::Corrupt(format!("agreement json: {e}")))
}

fn parse_content(json: &str) -> StoreResult<AgreementContent> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("agreement json: {e}")))
}

pub(crate) fn parse_state(code: &str) -> StoreResult<AgreementState> {
    AgreementState::parse(code)
        .ok_or_else(|| StoreError::Corrupt(format!("agreement state {code}")))
}

/// An agreement row (columns of `AGREEMENT_COLUMNS`) without its signatures.
fn record_of(row: &AnyRow) -> StoreResult<AgreementRecord> {
    let state: String = row.try_get(4)?;
    let content: String = row.try_get(5)?;
    Ok(AgreementRecord {
        id: row.try_get(0)?,
        application_id: row.try_get(1)?,
        school_id: row.try_get(2)?,
        host_id: row.try_get(3)?,
        state: parse_state(&state)?,
        content: parse_content(&content)?,
        version: row.try_get(6)?,
        document_sha256: row.try_get(7)?,
        frozen_at: row.try_get(8)?,
        sealed_at: row.try_get(9)?,
        sealed_file_key: row.try_get(10)?,
        sealed_sha256: row.try_get(11)?,
        created_at: row.try_get(12)?,
        updated_at: row.try_get(13)?,
        signatures: Vec::new(),
    })
}

/// The agreement `id` with its valid signatures, without any check of who asks: for the
/// modules of this crate, inside a transaction.
pub(crate) async fn load_in(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> StoreResult<Option<AgreementRecord>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {AGREEMENT_COLUMNS} FROM internship_agreements a WHERE a.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut record = record_of(&row)?;
    record.signatures = signatures::valid_signatures_in(conn, id, record.version).await?;
    Ok(Some(record))
}

/// [`load_in`] inside a write transaction, after locking the agreement's row (a no-op update):
/// the writers of one agreement then take turns on PostgreSQL too, so that two last signatures
/// given at once both see each other and one of them completes the agreement, and a signature
/// never slips between a change of the content and its version.
pub(crate) async fn load_locked_in(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> StoreResult<Option<AgreementRecord>> {
    sqlx::query("UPDATE internship_agreements SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    load_in(conn, id).await
}

/// The SHA-256 (hex) of the frozen document of this content and version.
pub(crate) fn frozen_document_sha256(
    content: &AgreementContent,
    id: &str,
    version: i64,
) -> StoreResult<String> {
    let pdf = formats::agreement_pdf::render_frozen(content, id, version)
        .map_err(|reason| StoreError::Corrupt(format!("agreement {id} not rendered: {reason}")))?;
    Ok(hex::encode(Sha256::digest(&pdf)))
}

/// Writes a new content. Once signing started (the state is `signing` or `signed`, or any
/// signature is valid), the version grows, every signature is voided, the frozen document and
/// the seal are forgotten, the signing links die, and the agreement goes back to `next`.
async fn write_content_in(
    conn: &mut sqlx::AnyConnection,
    record: &AgreementRecord,
    content: &AgreementContent,
    next: AgreementState,
    now: i64,
) -> StoreResult<()> {
    let started = matches!(record.state, AgreementState::Signing | AgreementState::Signed)
        || !record.signatures.is_empty();
    let changed = content != &record.content;
    let version = if started && changed { record.version + 1 } else { record.version };
    let next = if started && !changed { record.state } else { next };

    if started && changed {
        sqlx::query(
            "UPDATE internship_signatures SET voided_at = $2 \
             WHERE agreement_id = $1 AND voided_at IS NULL",
        )
        .bind(&record.id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM internship_sign_links WHERE agreement_id = $1")
            .bind(&record.id)
            .execute(&mut *conn)
            .await?;
        tracing::info!(agreement.id = %record.id, version, "agreement changed: signatures voided");
    }
    let json = content_json(content)?;
    let frozen = !(started && changed) && record.document_sha256.is_some();
    sqlx::query(
        "UPDATE internship_agreements SET content = $2, referent_teacher_id = $3, state = $4, \
         version = $5, updated_at = $6, \
         document_sha256 = CASE WHEN $7 = 1 THEN document_sha256 ELSE NULL END, \
         frozen_at = CASE WHEN $7 = 1 THEN frozen_at ELSE NULL END, \
         sealed_at = CASE WHEN $7 = 1 THEN sealed_at ELSE NULL END, \
         sealed_file_key = CASE WHEN $7 = 1 THEN sealed_file_key ELSE NULL END, \
         sealed_sha256 = CASE WHEN $7 = 1 THEN sealed_sha256 ELSE NULL END \
         WHERE id = $1",
    )
    .bind(&record.id)
    .bind(&json)
    .bind(non_empty(&content.referent_teacher_id))
    .bind(next.as_str())
    .bind(version)
    .bind(now)
    .bind(i64::from(frozen))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether an address looks deliverable: one `@` with text on each side, a dot in the
/// domain, no white space, at most 254 bytes.
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    email.len() <= MAX_EMAIL_BYTES
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// Text of several lines: control characters other than line breaks dropped, line breaks
/// normalised, the bidirectional and invisible characters refused in names removed.
fn multi_line(text: &str) -> String {
    let kept: String = text
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .filter(|c| !domain::names::is_forbidden(*c))
        .collect();
    kept.trim().to_owned()
}

fn one_line(text: &str) -> String {
    crate::timetable::one_line(text)
}

/// Checks the length of a field; the label is French.
fn check_len(errors: &mut Vec<String>, label: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.push(format!("{label} : {max} caractères au plus."));
    }
}

fn check_email(errors: &mut Vec<String>, label: &str, value: &str) {
    if !value.is_empty() && !plausible_email(value) {
        errors.push(format!("{label} : l'adresse e-mail n'est pas valide."));
    }
}

impl HostPart {
    /// The part cleaned (one line per short field) and checked; the reasons are French.
    pub fn cleaned(&self) -> Result<HostPart, Vec<String>> {
        let part = HostPart {
            representative_name: one_line(&self.representative_name),
            representative_role: one_line(&self.representative_role),
            representative_email: one_line(&self.representative_email),
            representative_phone: one_line(&self.representative_phone),
            tutor_name: one_line(&self.tutor_name),
            tutor_role: one_line(&self.tutor_role),
            tutor_email: one_line(&self.tutor_email),
            tutor_phone: one_line(&self.tutor_phone),
            internship_address: one_line(&self.internship_address),
            host_insurer: one_line(&self.host_insurer),
            planned_activities: multi_line(&self.planned_activities),
            meals: multi_line(&self.meals),
            hours: self.hours,
        };
        let mut errors = Vec::new();
        for (label, value) in [
            ("Nom du représentant", &part.representative_name),
            ("Fonction du représentant", &part.representative_role),
            ("Nom du tuteur", &part.tutor_name),
            ("Fonction du tuteur", &part.tutor_role),
            ("Lieu du stage", &part.internship_address),
            ("Assureur", &part.host_insurer),
        ] {
            check_len(&mut errors, label, value, MAX_FIELD_CHARS);
        }
        for (label, value) in [
            ("Téléphone du représentant", &part.representative_phone),
            ("Téléphone du tuteur", &part.tutor_phone),
        ] {
            check_len(&mut errors, label, value, MAX_PHONE_CHARS);
        }
        check_email(&mut errors, "E-mail du représentant", &part.representative_email);
        check_email(&mut errors, "E-mail du tuteur", &part.tutor_email);
        check_len(
            &mut errors,
            "Activités prévues",
            &part.planned_activities,
            domain::internship::MAX_ACTIVITIES_CHARS,
        );
        check_len(&mut errors, "Restauration", &part.meals, domain::internship::MAX_TEXT_CHARS);
        if errors.is_empty() { Ok(part) } else { Err(errors) }
    }

    fn apply_to(&self, content: &mut AgreementContent) {
        content.representative_name = self.representative_name.clone();
        content.representative_role = self.representative_role.clone();
        content.representative_email = self.representative_email.clone();
        content.representative_phone = self.representative_phone.clone();
        content.tutor_name = self.tutor_name.clone();
        content.tutor_role = self.tutor_role.clone();
        content.tutor_email = self.tutor_email.clone();
        content.tutor_phone = self.tutor_phone.clone();
        content.internship_address = self.internship_address.clone();
        content.host_insurer = self.host_insurer.clone();
        content.planned_activities = self.planned_activities.clone();
        content.meals = self.meals.clone();
        content.hours = self.hours;
    }
}

impl SchoolPart {
    /// The part cleaned and checked; the reasons are French.
    pub fn cleaned(&self) -> Result<SchoolPart, Vec<String>> {
        let part = SchoolPart {
            pupil_address: one_line(&self.pupil_address),
            pupil_phone: one_line(&self.pupil_phone),
            guardians: self
                .guardians
                .iter()
                .map(|g| GuardianDetails {
                    person_id: g.person_id.clone(),
                    name: one_line(&g.name),
                    email: one_line(&g.email),
                    phone: one_line(&g.phone),
                    address: one_line(&g.address),
                })
                .collect(),
            referent_teacher_id: one_line(&self.referent_teacher_id),
            health_plan: self.health_plan,
            school_extra_article: multi_line(&self.school_extra_article),
            delegation_date: one_line(&self.delegation_date),
        };
        let mut errors = Vec::new();
        check_len(&mut errors, "Adresse de l'élève", &part.pupil_address, MAX_FIELD_CHARS);
        check_len(&mut errors, "Téléphone de l'élève", &part.pupil_phone, MAX_PHONE_CHARS);
        for (i, guardian) in part.guardians.iter().enumerate() {
            let n = i + 1;
            check_len(
                &mut errors,
                &format!("Nom du représentant légal {n}"),
                &guardian.name,
                MAX_FIELD_CHARS,
            );
            check_len(
                &mut errors,
                &format!("Adresse du représentant légal {n}"),
                &guardian.address,
                MAX_FIELD_CHARS,
            );
            check_len(
                &mut errors,
                &format!("Téléphone du représentant légal {n}"),
                &guardian.phone,
                MAX_PHONE_CHARS,
            );
            check_email(&mut errors, &format!("E-mail du représentant légal {n}"), &guardian.email);
        }
        check_len(
            &mut errors,
            "Article complémentaire",
            &part.school_extra_article,
            domain::internship::MAX_TEXT_CHARS,
        );
        if !part.delegation_date.is_empty()
            && part.delegation_date.parse::<jiff::civil::Date>().is_err()
        {
            errors.push("Date de la délibération : une date est attendue (AAAA-MM-JJ).".to_owned());
        }
        if errors.is_empty() { Ok(part) } else { Err(errors) }
    }
}

/// Every required field missing from a content and every breach of the hours for minors, in
/// French; empty when the agreement may be frozen.
pub fn freeze_problems(content: &AgreementContent) -> Vec<String> {
    let mut missing = Vec::new();
    let required: [(&str, &str); 19] = [
        ("le nom de l'élève", &content.pupil_name),
        ("la date de naissance de l'élève", &content.pupil_birth_date),
        ("la classe de l'élève", &content.pupil_class),
        ("l'adresse de l'élève", &content.pupil_address),
        ("le nom du collège", &content.school_name),
        ("l'adresse du collège", &content.school_address),
        ("l'adresse e-mail du collège", &content.school_email),
        ("le nom du chef d'établissement", &content.head_name),
        ("la date de la délibération du conseil d'administration", &content.delegation_date),
        ("le professeur référent", &content.referent_teacher_name),
        ("le nom de l'organisme d'accueil", &content.host_name),
        ("le nom du représentant de l'organisme", &content.representative_name),
        ("la fonction du représentant de l'organisme", &content.representative_role),
        ("l'adresse e-mail du représentant de l'organisme", &content.representative_email),
        ("le nom du tuteur", &content.tutor_name),
        ("la fonction du tuteur", &content.tutor_role),
        ("l'adresse e-mail du tuteur", &content.tutor_email),
        ("l'assureur de l'organisme d'accueil", &content.host_insurer),
        ("les activités prévues", &content.planned_activities),
    ];
    for (label, value) in required {
        if value.trim().is_empty() {
            missing.push(format!("Il manque {label}."));
        }
    }
    if content.first_day.is_empty() || content.last_day.is_empty() {
        missing.push("Il manque les dates du stage.".to_owned());
    }
    if content.guardians.is_empty() {
        missing.push("Il manque un représentant légal.".to_owned());
    }
    for (i, guardian) in content.guardians.iter().enumerate() {
        let n = i + 1;
        if guardian.name.trim().is_empty() {
            missing.push(format!("Il manque le nom du représentant légal {n}."));
        }
        if guardian.email.trim().is_empty() && guardian.phone.trim().is_empty() {
            missing.push(format!("Il manque l'e-mail ou le téléphone du représentant légal {n}."));
        }
    }
    missing.extend(content.hours.minor_limit_breaches());
    missing
}

/// The host's required fields missing from a content, in French.
pub fn host_part_problems(content: &AgreementContent) -> Vec<String> {
    let mut missing = Vec::new();
    for (label, value) in [
        ("le nom du représentant", &content.representative_name),
        ("la fonction du représentant", &content.representative_role),
        ("l'adresse e-mail du représentant", &content.representative_email),
        ("le nom du tuteur", &content.tutor_name),
        ("la fonction du tuteur", &content.tutor_role),
        ("l'adresse e-mail du tuteur", &content.tutor_email),
        ("l'assureur", &content.host_insurer),
        ("les activités prévues", &content.planned_activities),
    ] {
        if value.trim().is_empty() {
            missing.push(format!("Il manque {label}."));
        }
    }
    if content.hours.days.iter().all(Option::is_none) {
        missing.push("Il manque les horaires.".to_owned());
    }
    missing
}

impl Store {
    /// The agreement `agreement_id` with its valid signatures, when `viewer_id` is one of its
    /// parties (the pupil, a legal guardian, the referent teacher, an administrator of the
    /// school, a member of the host) or a département administrator; `None` otherwise, as for
    /// an agreement that does not exist.
    pub async fn agreement_for_viewer(
        &self,
        viewer_id: &str,
        agreement_id: &str,
    ) -> StoreResult<Option<AgreementRecord>> {
        Ok(self.agreement_page(viewer_id, agreement_id).await?.map(|(record, _)| record))
    }

    /// The agreement and what the viewer is to it, when they may read it.
    pub async fn agreement_page(
        &self,
        viewer_id: &str,
        agreement_id: &str,
    ) -> StoreResult<Option<(AgreementRecord, Standing)>> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AGREEMENT_COLUMNS} FROM internship_agreements a \
             JOIN internship_applications ap ON ap.id = a.application_id \
             WHERE a.id = $2 AND {}",
            readable_by("$1")
        )))
        .bind(viewer_id)
        .bind(agreement_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut record = record_of(&row)?;
        record.signatures =
            signatures::valid_signatures_in(&mut conn, agreement_id, record.version).await?;
        let standing = standing_in(&mut conn, viewer_id, &record).await?;
        Ok(Some((record, standing)))
    }

    /// The agreements the viewer is a party to (or every one, for a département
    /// administrator), the most recent week first.
    pub async fn agreements_for_viewer(
        &self,
        viewer_id: &str,
    ) -> StoreResult<Vec<AgreementSummary>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AGREEMENT_COLUMNS} FROM internship_agreements a \
             JOIN internship_applications ap ON ap.id = a.application_id \
             WHERE {} ORDER BY ap.iso_week DESC, a.created_at DESC, a.id LIMIT {LIST_LIMIT}",
            readable_by("$1")
        )))
        .bind(viewer_id)
        .fetch_all(self.pool())
        .await?;
        self.summaries(rows).await
    }

    /// The agreements of a school that `viewer_id` administers (school role or direction
    /// function), with what each still misses; `None` when they do not administer it.
    pub async fn school_agreements(
        &self,
        viewer_id: &str,
        uai: &str,
    ) -> StoreResult<Option<(crate::directory::SchoolRef, Vec<AgreementSummary>)>> {
        let school = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id, s.uai, s.name FROM schools s WHERE s.uai = $2 AND s.active = 1 \
             AND s.id IN ({}) ORDER BY s.id LIMIT 1",
            administered_by("$1")
        )))
        .bind(viewer_id)
        .bind(uai)
        .fetch_optional(self.pool())
        .await?;
        let Some(school) = school else { return Ok(None) };
        let school = crate::directory::SchoolRef {
            id: school.try_get(0)?,
            uai: school.try_get(1)?,
            name: school.try_get(2)?,
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AGREEMENT_COLUMNS} FROM internship_agreements a \
             JOIN internship_applications ap ON ap.id = a.application_id \
             WHERE a.school_id = $1 AND a.state <> 'cancelled' \
             ORDER BY ap.iso_week, a.created_at, a.id LIMIT {LIST_LIMIT}"
        )))
        .bind(&school.id)
        .fetch_all(self.pool())
        .await?;
        Ok(Some((school, self.summaries(rows).await?)))
    }

    async fn summaries(&self, rows: Vec<AnyRow>) -> StoreResult<Vec<AgreementSummary>> {
        let mut conn = self.pool().acquire().await?;
        let mut summaries = Vec::with_capacity(rows.len());
        for row in rows {
            let mut record = record_of(&row)?;
            record.signatures =
                signatures::valid_signatures_in(&mut conn, &record.id, record.version).await?;
            let missing = if record.state == AgreementState::Signing {
                record.missing_roles()
            } else {
                Vec::new()
            };
            summaries.push(AgreementSummary {
                missing,
                id: record.id,
                state: record.state,
                version: record.version,
                pupil_name: record.content.pupil_name,
                pupil_class: record.content.pupil_class,
                school_name: record.content.school_name,
                host_name: record.content.host_name,
                iso_week: record.content.iso_week,
                first_day: record.content.first_day,
                last_day: record.content.last_day,
                document_sha256: record.document_sha256,
            });
        }
        Ok(summaries)
    }

    /// The teachers of the agreement's school, for the choice of the referent; empty unless
    /// the viewer administers the school.
    pub async fn referent_choices(
        &self,
        viewer_id: &str,
        agreement_id: &str,
    ) -> StoreResult<Vec<TeacherChoice>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.id, p.first_name, p.last_name FROM internship_agreements a \
             JOIN person_schools ps ON ps.school_id = a.school_id \
             JOIN people p ON p.id = ps.person_id \
             WHERE a.id = $2 AND p.profile = 'teacher' AND p.active = 1 \
             AND a.school_id IN ({}) ORDER BY p.last_name, p.first_name, p.id",
            administered_by("$1")
        )))
        .bind(viewer_id)
        .bind(agreement_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok(TeacherChoice { id: row.try_get(0)?, name: full_name(row, 1)? }))
            .collect()
    }

    /// Saves the host's part, by a member of the agreement's (live) host. From `host_pending`
    /// the agreement moves to `school_pending` when the host's required fields are there.
    /// Once signing started, a change bumps the version, voids the signatures and goes back to
    /// `school_pending` (the school validates again).
    ///
    /// # Errors
    /// `NotFound` unless the viewer is a member of the host; `Conflict` with the French reasons
    /// for a bad field or a missing required one, or a cancelled agreement.
    pub async fn save_host_part(
        &self,
        viewer_id: &str,
        agreement_id: &str,
        part: &HostPart,
        now: i64,
    ) -> StoreResult<AgreementState> {
        let part = part.cleaned().map_err(|errors| StoreError::Conflict(errors.join("\n")))?;
        let mut tx = self.begin_write().await?;
        let member: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM internship_agreements a \
             JOIN host_members m ON m.host_id = a.host_id JOIN hosts h ON h.id = m.host_id \
             WHERE a.id = $1 AND m.person_id = $2 AND h.status IN ('pending', 'verified')",
        )
        .bind(agreement_id)
        .bind(viewer_id)
        .fetch_optional(&mut *tx)
        .await?;
        if member.is_none() {
            return Err(StoreError::NotFound);
        }
        let record = load_locked_in(&mut tx, agreement_id).await?.ok_or(StoreError::NotFound)?;
        if record.state == AgreementState::Cancelled {
            return Err(StoreError::Conflict("Cette convention est annulée.".to_owned()));
        }

        let mut content = record.content.clone();
        part.apply_to(&mut content);
        let missing = host_part_problems(&content);
        if !missing.is_empty() {
            return Err(StoreError::Conflict(missing.join("\n")));
        }
        let next = AgreementState::SchoolPending;
        write_content_in(&mut tx, &record, &content, next, now).await?;
        let state: String =
            sqlx::query_scalar("SELECT state FROM internship_agreements WHERE id = $1")
                .bind(agreement_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        parse_state(&state)
    }

    /// Saves the school's part, by an administrator of the agreement's school, and with
    /// `validate` checks and freezes it: every required field and the hours for minors; then
    /// state `signing`, the document's SHA-256 recorded, and the signing links of the tutor and
    /// (unless a member of the host) the representative e-mailed (links to `base_url`).
    /// Refused (nothing saved) with every reason when a check fails.
    ///
    /// # Errors
    /// `NotFound` unless the viewer administers the school; `Conflict` (French) before the
    /// host completed its part, for a cancelled agreement, or a bad field.
    pub async fn save_school_part(
        &self,
        viewer_id: &str,
        agreement_id: &str,
        part: &SchoolPart,
        validate: bool,
        base_url: &str,
        now: i64,
    ) -> StoreResult<SchoolOutcome> {
        let part = match part.cleaned() {
            Ok(part) => part,
            Err(errors) => return Ok(SchoolOutcome::Refused(errors)),
        };
        let mut tx = self.begin_write().await?;
        let admin = administers_agreement_in(&mut tx, viewer_id, agreement_id).await?;
        if !admin {
            return Err(StoreError::NotFound);
        }
        let record = load_locked_in(&mut tx, agreement_id).await?.ok_or(StoreError::NotFound)?;
        match record.state {
            AgreementState::HostPending => {
                return Err(StoreError::Conflict(
                    "L'organisme d'accueil doit d'abord compléter sa partie.".to_owned(),
                ));
            }
            AgreementState::Cancelled => {
                return Err(StoreError::Conflict("Cette convention est annulée.".to_owned()));
            }
            AgreementState::SchoolPending | AgreementState::Signing | AgreementState::Signed => {}
        }

        let mut content = record.content.clone();
        if let Err(errors) = apply_school_part(&mut tx, &mut content, &part).await? {
            return Ok(SchoolOutcome::Refused(errors));
        }
        if validate {
            let problems = freeze_problems(&content);
            if !problems.is_empty() {
                return Ok(SchoolOutcome::Refused(problems));
            }
        }
        write_content_in(&mut tx, &record, &content, AgreementState::SchoolPending, now).await?;
        let record = load_locked_in(&mut tx, agreement_id).await?.ok_or(StoreError::NotFound)?;
        let outcome = match (validate, record.state) {
            (true, AgreementState::SchoolPending) => {
                let links = freeze_in(&mut tx, &record, base_url, now).await?;
                SchoolOutcome::Frozen { links }
            }
            (true, _) => SchoolOutcome::Frozen { links: 0 },
            (false, _) => SchoolOutcome::Saved,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Sends the signing links again (new links, the old ones dead), by an administrator of
    /// the school, while the agreement is being signed; returns how many e-mails were queued.
    ///
    /// # Errors
    /// `NotFound` unless the viewer administers the school; `Conflict` outside `signing`.
    pub async fn resend_sign_links(
        &self,
        viewer_id: &str,
        agreement_id: &str,
        base_url: &str,
        now: i64,
    ) -> StoreResult<usize> {
        let mut tx = self.begin_write().await?;
        if !administers_agreement_in(&mut tx, viewer_id, agreement_id).await? {
            return Err(StoreError::NotFound);
        }
        let record = load_locked_in(&mut tx, agreement_id).await?.ok_or(StoreError::NotFound)?;
        if record.state != AgreementState::Signing {
            return Err(StoreError::Conflict(
                "Les liens de signature ne s'envoient que pendant la signature.".to_owned(),
            ));
        }
        let sent = signatures::issue_links_in(&mut tx, &record, base_url, now).await?;
        tx.commit().await?;
        Ok(sent)
    }

    /// Creates the agreement of a confirmed application, as the confirmation does, for tests.
    #[cfg(feature = "testing")]
    pub async fn fixture_create_agreement(&self, application_id: &str) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        let id = create_agreement_in(&mut tx, application_id, crate::now_unix()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The internship e-mails queued for an address (subject, body), oldest first, for tests.
    #[cfg(feature = "testing")]
    pub async fn fixture_internship_mails(
        &self,
        to_email: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT subject, body FROM internship_mails WHERE to_email = $1 \
             ORDER BY created_at, id",
        )
        .bind(to_email)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// Cancels an application's agreement, as the cancellation does, for tests.
    #[cfg(feature = "testing")]
    pub async fn fixture_cancel_agreement(&self, application_id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        cancel_for_application_in(&mut tx, application_id, crate::now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Applies the school's part to a content: the referent teacher must teach in the school.
async fn apply_school_part(
    conn: &mut sqlx::AnyConnection,
    content: &mut AgreementContent,
    part: &SchoolPart,
) -> StoreResult<Result<(), Vec<String>>> {
    let mut errors = Vec::new();
    content.pupil_address = part.pupil_address.clone();
    content.pupil_phone = part.pupil_phone.clone();
    content.health_plan = part.health_plan;
    content.school_extra_article = part.school_extra_article.clone();
    content.delegation_date = part.delegation_date.clone();
    for (slot, details) in content.guardians.iter_mut().zip(&part.guardians) {
        slot.name = details.name.clone();
        slot.email = details.email.clone();
        slot.phone = details.phone.clone();
        slot.address = details.address.clone();
    }

    if part.referent_teacher_id.is_empty() {
        content.referent_teacher_id.clear();
        content.referent_teacher_name.clear();
        content.referent_teacher_email.clear();
    } else if part.referent_teacher_id != content.referent_teacher_id {
        let teacher = sqlx::query(
            "SELECT p.id, p.first_name, p.last_name, COALESCE(p.email, '') FROM people p \
             JOIN person_schools ps ON ps.person_id = p.id \
             WHERE p.id = $1 AND ps.school_id = $2 AND p.profile = 'teacher' AND p.active = 1",
        )
        .bind(&part.referent_teacher_id)
        .bind(&content.school_id)
        .fetch_optional(&mut *conn)
        .await?;
        match teacher {
            Some(row) => {
                content.referent_teacher_id = row.try_get(0)?;
                content.referent_teacher_name = full_name(&row, 1)?;
                content.referent_teacher_email = row.try_get(3)?;
            }
            None => errors.push("Le professeur référent doit enseigner au collège.".to_owned()),
        }
    }
    Ok(if errors.is_empty() { Ok(()) } else { Err(errors) })
}

/// Freezes an agreement in `school_pending`: the document's hash, state `signing`, the
/// signing links e-mailed. Returns how many e-mails were queued.
async fn freeze_in(
    conn: &mut sqlx::AnyConnection,
    record: &AgreementRecord,
    base_url: &str,
    now: i64,
) -> StoreResult<usize> {
    let sha256 = frozen_document_sha256(&record.content, &record.id, record.version)?;
    sqlx::query(
        "UPDATE internship_agreements SET state = 'signing', document_sha256 = $2, \
         frozen_at = $3, updated_at = $3 WHERE id = $1",
    )
    .bind(&record.id)
    .bind(&sha256)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    tracing::info!(agreement.id = %record.id, version = record.version, "agreement frozen");

    let mut frozen = record.clone();
    frozen.state = AgreementState::Signing;
    frozen.document_sha256 = Some(sha256);
    signatures::issue_links_in(conn, &frozen, base_url, now).await
}

/// Whether the person administers the agreement's school (school role or direction function).
pub(crate) async fn administers_agreement_in(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    agreement_id: &str,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(1 AS BIGINT) FROM internship_agreements a \
         WHERE a.id = $2 AND a.school_id IN ({})",
        administered_by("$1")
    )))
    .bind(viewer_id)
    .bind(agreement_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// What the viewer is to the agreement, read from the directory now.
pub(crate) async fn standing_in(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    record: &AgreementRecord,
) -> StoreResult<Standing> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT \
           CASE WHEN a.school_id IN ({admin}) THEN 1 ELSE 0 END, \
           CASE WHEN EXISTS (SELECT 1 FROM host_members m JOIN hosts h ON h.id = m.host_id \
             WHERE m.person_id = $1 AND m.host_id = a.host_id \
             AND h.status IN ('pending', 'verified')) THEN 1 ELSE 0 END, \
           CASE WHEN ap.pupil_id = $1 THEN 1 ELSE 0 END, \
           CASE WHEN EXISTS (SELECT 1 FROM guardianships g WHERE g.pupil_id = ap.pupil_id \
             AND g.relative_id = $1 AND g.legal IN (1, 2)) THEN 1 ELSE 0 END, \
           CASE WHEN EXISTS (SELECT 1 FROM roles r WHERE r.person_id = $1 \
             AND r.role = 'departement_admin') THEN 1 ELSE 0 END \
         FROM internship_agreements a JOIN internship_applications ap ON ap.id = a.application_id \
         WHERE a.id = $2",
        admin = administered_by("$1")
    )))
    .bind(viewer_id)
    .bind(&record.id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(Standing::default()) };
    let flag = |i: usize| -> StoreResult<bool> { Ok(row.try_get::<i64, _>(i)? == 1) };
    let guardian = flag(3)?;
    let content = &record.content;
    let is_guardian = |slot: usize| {
        guardian && content.guardians.get(slot).is_some_and(|g| g.person_id == viewer_id)
    };
    Ok(Standing {
        school_admin: flag(0)?,
        host_member: flag(1)?,
        pupil: flag(2)? && content.pupil_id == viewer_id,
        guardian_1: is_guardian(0),
        guardian_2: is_guardian(1),
        referent_teacher: !content.referent_teacher_id.is_empty()
            && content.referent_teacher_id == viewer_id,
        departement_admin: flag(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_leaves_out_what_is_empty() {
        assert_eq!(
            address("1 rue A\n bât. B", "86000", "Poitiers"),
            "1 rue A, bât. B, 86000 Poitiers"
        );
        assert_eq!(address("", "", "Poitiers"), "Poitiers");
        assert_eq!(address("", "", ""), "");
    }

    #[test]
    fn the_second_guardian_signs_only_when_named() {
        let mut content = AgreementContent::default();
        content.guardians.push(GuardianDetails::default());
        assert!(!required_roles(&content).contains(&SignatoryRole::Guardian2));
        content.guardians.push(GuardianDetails::default());
        assert_eq!(required_roles(&content).len(), 7);
    }

    #[test]
    fn freezing_lists_every_missing_field() {
        let problems = freeze_problems(&AgreementContent::default());
        assert!(problems.iter().any(|p| p.contains("tuteur")));
        assert!(problems.iter().any(|p| p.contains("représentant légal")));
        assert!(problems.iter().any(|p| p.contains("jour de présence")));
    }
}
