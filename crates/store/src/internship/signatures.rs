//! The signatures of a frozen agreement and how each party authenticates: an ENT session
//! (the head or a delegate, a member of the host for its representative, the referent teacher,
//! the pupil, each legal guardian), a single-use link e-mailed to the tutor and to a
//! representative who has no account, opened with a six-digit code sent by e-mail, or a mark
//! "signed on paper" by the school with the scan. Every signature names the version and the
//! SHA-256 of the document it was given on; the database refuses a second one per role and
//! version. The last required signature moves the agreement to `signed` (the web layer then
//! has it sealed).

use domain::internship::{AgreementState, SignatoryRole};
use sqlx::Row;

use crate::internship::agreements::{
    AgreementRecord, SignatureRecord, administers_agreement_in, load_in, load_locked_in,
    readable_by, required_roles, standing_in,
};
use crate::internship::{queue_mail_in, secret_hash};
use crate::{Store, StoreError, StoreResult};

/// How long a signing link lives, in seconds (7 days).
pub const LINK_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// How long a one-time code lives, in seconds (10 minutes).
pub const CODE_LIFETIME_SECS: i64 = 10 * 60;
/// The wrong codes a link tolerates over its life; then the school sends a new one.
pub const MAX_CODE_TRIES: i64 = 5;
/// The least time between two codes of one link, in seconds, when one is still valid.
pub const CODE_RESEND_SECS: i64 = 60;

/// Who is signing and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignContext {
    pub ip: String,
    pub user_agent: String,
    pub now: i64,
}

/// A signature given: whether it was the last one required (the agreement is `signed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    pub completed: bool,
}

/// Where a signing link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// It may be used: a code can be sent and checked.
    Open,
    /// It was used (a signature was given with it).
    Used,
    Expired,
    /// The agreement changed since it was sent, or is no longer being signed.
    Outdated,
    /// Too many wrong codes.
    Blocked,
}

/// What a signing link shows before the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    pub agreement_id: String,
    pub role: SignatoryRole,
    pub signer_name: String,
    /// The e-mail address, partly hidden.
    pub masked_email: String,
    pub state: LinkState,
    pub pupil_name: String,
    pub pupil_class: String,
    pub school_name: String,
    pub host_name: String,
    pub offer_title: String,
    pub first_day: String,
    pub last_day: String,
    pub version: i64,
    pub document_sha256: String,
    /// Whether a code sent earlier is still valid.
    pub code_pending: bool,
}

/// What became of a request for a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeIssue {
    Sent,
    /// A valid code was sent less than a minute ago.
    StillValid,
    /// The link cannot be used (see `LinkView::state`).
    Unusable,
}

/// What became of a code typed on a signing link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkSignOutcome {
    Signed {
        agreement_id: String,
        completed: bool,
    },
    /// Wrong or expired code; `tries_left` before the link is blocked.
    WrongCode {
        tries_left: i64,
    },
    /// The link cannot sign; the reason is French.
    Refused(String),
}

/// The valid signatures of `version` of an agreement, in the order of `SignatoryRole::ALL`.
pub(crate) async fn valid_signatures_in(
    conn: &mut sqlx::AnyConnection,
    agreement_id: &str,
    version: i64,
) -> StoreResult<Vec<SignatureRecord>> {
    let rows = sqlx::query(
        "SELECT role, person_id, signer_name, method, signed_at, ip, user_agent, \
         document_sha256, version, scan_file_key, recorded_by FROM internship_signatures \
         WHERE agreement_id = $1 AND version = $2 AND voided_at IS NULL",
    )
    .bind(agreement_id)
    .bind(version)
    .fetch_all(&mut *conn)
    .await?;
    let mut signatures = Vec::with_capacity(rows.len());
    for row in rows {
        let role: String = row.try_get(0)?;
        signatures.push(SignatureRecord {
            role: SignatoryRole::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("signatory role {role}")))?,
            person_id: row.try_get(1)?,
            signer_name: row.try_get(2)?,
            method: row.try_get(3)?,
            signed_at: row.try_get(4)?,
            ip: row.try_get(5)?,
            user_agent: row.try_get(6)?,
            document_sha256: row.try_get(7)?,
            version: row.try_get(8)?,
            scan_file_key: row.try_get(9)?,
            recorded_by: row.try_get(10)?,
        });
    }
    signatures.sort_by_key(|s| s.role);
    Ok(signatures)
}

/// Whether the person may read the agreement (`agreements::readable_by`).
async fn readable_in(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    agreement_id: &str,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(1 AS BIGINT) FROM internship_agreements a \
         JOIN internship_applications ap ON ap.id = a.application_id WHERE a.id = $2 AND {}",
        readable_by("$1")
    )))
    .bind(viewer_id)
    .bind(agreement_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// A signature about to be written.
struct NewSignature<'a> {
    role: SignatoryRole,
    person_id: Option<&'a str>,
    signer_name: &'a str,
    method: &'a str,
    recorded_by: Option<&'a str>,
    scan_file_key: Option<&'a str>,
}

/// Writes a signature of the current version of a frozen agreement, after checking that the
/// role signs this agreement, has not signed this version, and that the document shown is the
/// frozen one; then moves the agreement to `signed` when it was the last one.
async fn sign_in(
    conn: &mut sqlx::AnyConnection,
    record: &AgreementRecord,
    shown_sha256: &str,
    signature: &NewSignature<'_>,
    context: &SignContext,
) -> StoreResult<Signed> {
    if record.state != AgreementState::Signing {
        return Err(StoreError::Conflict(match record.state {
            AgreementState::Signed => "Cette convention est déjà signée par tous.".to_owned(),
            AgreementState::Cancelled => "Cette convention est annulée.".to_owned(),
            _ => "Cette convention n'est pas encore prête à être signée.".to_owned(),
        }));
    }
    let Some(document_sha256) = record.document_sha256.as_deref() else {
        return Err(StoreError::Conflict(
            "Cette convention n'est pas encore prête à être signée.".to_owned(),
        ));
    };
    if shown_sha256 != document_sha256 {
        return Err(StoreError::Conflict(
            "La convention a changé depuis que vous l'avez ouverte : relisez-la avant de signer."
                .to_owned(),
        ));
    }
    if !required_roles(&record.content).contains(&signature.role) {
        return Err(StoreError::NotFound);
    }
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM internship_signatures \
         WHERE agreement_id = $1 AND role = $2 AND version = $3",
    )
    .bind(&record.id)
    .bind(signature.role.as_str())
    .bind(record.version)
    .fetch_optional(&mut *conn)
    .await?;
    if existing.is_some() {
        return Err(StoreError::Conflict(format!(
            "{} a déjà signé cette version de la convention.",
            signature.role.label_fr()
        )));
    }

    sqlx::query(
        "INSERT INTO internship_signatures (id, agreement_id, role, version, document_sha256, \
         person_id, signer_name, method, recorded_by, ip, user_agent, scan_file_key, signed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(crate::new_id())
    .bind(&record.id)
    .bind(signature.role.as_str())
    .bind(record.version)
    .bind(document_sha256)
    .bind(signature.person_id)
    .bind(signature.signer_name)
    .bind(signature.method)
    .bind(signature.recorded_by)
    .bind(truncate(&context.ip, 100))
    .bind(truncate(&context.user_agent, 500))
    .bind(signature.scan_file_key)
    .bind(context.now)
    .execute(&mut *conn)
    .await?;
    tracing::info!(
        agreement.id = %record.id,
        role = signature.role.as_str(),
        method = signature.method,
        "agreement signed"
    );

    let completed = complete_if_signed_in(conn, record, context.now).await?;
    Ok(Signed { completed })
}

/// Moves the agreement to `signed` when every required role has a valid signature of the
/// current version on the current document.
async fn complete_if_signed_in(
    conn: &mut sqlx::AnyConnection,
    record: &AgreementRecord,
    now: i64,
) -> StoreResult<bool> {
    let signatures = valid_signatures_in(conn, &record.id, record.version).await?;
    let all = required_roles(&record.content).iter().all(|role| {
        signatures.iter().any(|s| {
            s.role == *role && Some(s.document_sha256.as_str()) == record.document_sha256.as_deref()
        })
    });
    if !all {
        return Ok(false);
    }
    let changed = sqlx::query(
        "UPDATE internship_agreements SET state = 'signed', updated_at = $3 \
         WHERE id = $1 AND version = $2 AND state = 'signing'",
    )
    .bind(&record.id)
    .bind(record.version)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM internship_sign_links WHERE agreement_id = $1")
        .bind(&record.id)
        .execute(&mut *conn)
        .await?;
    tracing::info!(agreement.id = %record.id, "agreement signed by all");
    Ok(changed == 1)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// The name of a person, for a signature given with their session.
async fn person_name_in(conn: &mut sqlx::AnyConnection, person_id: &str) -> StoreResult<String> {
    let row = sqlx::query("SELECT first_name, last_name FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let first: String = row.try_get(0)?;
    let last: String = row.try_get(1)?;
    Ok(format!("{} {}", first.trim(), last.trim()).trim().to_owned())
}

/// The name the agreement gives a role.
fn name_for_role(record: &AgreementRecord, role: SignatoryRole) -> String {
    let content = &record.content;
    match role {
        SignatoryRole::Head => content.head_name.clone(),
        SignatoryRole::HostRepresentative => content.representative_name.clone(),
        SignatoryRole::Tutor => content.tutor_name.clone(),
        SignatoryRole::ReferentTeacher => content.referent_teacher_name.clone(),
        SignatoryRole::Pupil => content.pupil_name.clone(),
        SignatoryRole::Guardian1 => {
            content.guardians.first().map(|g| g.name.clone()).unwrap_or_default()
        }
        SignatoryRole::Guardian2 => {
            content.guardians.get(1).map(|g| g.name.clone()).unwrap_or_default()
        }
    }
}

/// The person the agreement names for a role, when Préau knows them.
fn person_for_role(record: &AgreementRecord, role: SignatoryRole) -> Option<String> {
    let content = &record.content;
    let id = match role {
        SignatoryRole::Head => content.head_person_id.clone(),
        SignatoryRole::ReferentTeacher => content.referent_teacher_id.clone(),
        SignatoryRole::Pupil => content.pupil_id.clone(),
        SignatoryRole::Guardian1 => {
            content.guardians.first().map(|g| g.person_id.clone()).unwrap_or_default()
        }
        SignatoryRole::Guardian2 => {
            content.guardians.get(1).map(|g| g.person_id.clone()).unwrap_or_default()
        }
        SignatoryRole::HostRepresentative | SignatoryRole::Tutor => String::new(),
    };
    if id.is_empty() { None } else { Some(id) }
}

/// Sends new signing links for the roles that sign by link and have not signed this version:
/// the tutor, and the representative unless their e-mail is a member's of the host (who signs
/// with their session). Earlier links of the agreement die. Returns how many were queued.
pub(crate) async fn issue_links_in(
    conn: &mut sqlx::AnyConnection,
    record: &AgreementRecord,
    base_url: &str,
    now: i64,
) -> StoreResult<usize> {
    sqlx::query("DELETE FROM internship_sign_links WHERE agreement_id = $1")
        .bind(&record.id)
        .execute(&mut *conn)
        .await?;
    let signed = valid_signatures_in(conn, &record.id, record.version).await?;
    let content = &record.content;
    let representative_is_member = match &record.host_id {
        Some(host_id) if !content.representative_email.is_empty() => {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(1 AS BIGINT) FROM host_members m JOIN people p ON p.id = m.person_id \
                 WHERE m.host_id = $1 AND LOWER(p.email) = LOWER($2)",
            )
            .bind(host_id)
            .bind(&content.representative_email)
            .fetch_optional(&mut *conn)
            .await?;
            found.is_some()
        }
        _ => false,
    };

    let mut wanted = vec![(SignatoryRole::Tutor, &content.tutor_email, &content.tutor_name)];
    if !representative_is_member {
        wanted.push((
            SignatoryRole::HostRepresentative,
            &content.representative_email,
            &content.representative_name,
        ));
    }
    let mut sent = 0;
    for (role, email, name) in wanted {
        if email.is_empty() || signed.iter().any(|s| s.role == role) {
            continue;
        }
        let token = crate::internship::new_secret();
        sqlx::query(
            "INSERT INTO internship_sign_links (token_hash, agreement_id, role, version, email, \
             signer_name, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(secret_hash(&token))
        .bind(&record.id)
        .bind(role.as_str())
        .bind(record.version)
        .bind(email)
        .bind(name)
        .bind(now + LINK_LIFETIME_SECS)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let body = format!(
            "Bonjour {name},\n\n\
             La convention de stage d'observation de {pupil} ({school}) chez {host}, du {first} \
             au {last}, est prête à être signée. Vous la signez en tant que : {role}.\n\n\
             Ouvrez ce lien personnel, valable sept jours et pour une seule signature :\n\
             {base}/signature/{token}\n\n\
             Un code à six chiffres vous sera alors envoyé à cette adresse pour confirmer votre \
             signature. Si vous n'attendiez pas ce message, ignorez-le.\n\n-- Préau",
            pupil = content.pupil_name,
            school = content.school_name,
            host = content.host_name,
            first = french_date(&content.first_day),
            last = french_date(&content.last_day),
            role = role.label_fr(),
            base = base_url.trim_end_matches('/'),
        );
        queue_mail_in(conn, email, "Convention de stage à signer", &body, now).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The stored hash of a code: salted with the link, so that codes of different links differ.
fn code_hash(token_hash: &str, code: &str) -> String {
    secret_hash(&format!("{token_hash}:{code}"))
}

/// A fresh six-digit code.
fn new_code() -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes);
    format!("{:06}", u64::from_le_bytes(bytes) % 1_000_000)
}

/// `j…@example.org`: enough to recognise one's address, not to learn it.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".to_owned(),
    }
}

/// A signing link's row with its agreement.
struct LinkRow {
    token_hash: String,
    agreement_id: String,
    role: SignatoryRole,
    version: i64,
    email: String,
    signer_name: String,
    code_hash: Option<String>,
    code_expires_at: Option<i64>,
    code_tries: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

async fn link_in(conn: &mut sqlx::AnyConnection, token: &str) -> StoreResult<Option<LinkRow>> {
    let token_hash = secret_hash(token);
    let row = sqlx::query(
        "SELECT agreement_id, role, version, email, signer_name, code_hash, code_expires_at, \
         code_tries, expires_at, used_at FROM internship_sign_links WHERE token_hash = $1",
    )
    .bind(&token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get(1)?;
    Ok(Some(LinkRow {
        token_hash,
        agreement_id: row.try_get(0)?,
        role: SignatoryRole::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("signatory role {role}")))?,
        version: row.try_get(2)?,
        email: row.try_get(3)?,
        signer_name: row.try_get(4)?,
        code_hash: row.try_get(5)?,
        code_expires_at: row.try_get(6)?,
        code_tries: row.try_get(7)?,
        expires_at: row.try_get(8)?,
        used_at: row.try_get(9)?,
    }))
}

fn link_state(link: &LinkRow, record: &AgreementRecord, now: i64) -> LinkState {
    if link.used_at.is_some() {
        LinkState::Used
    } else if link.expires_at <= now {
        LinkState::Expired
    } else if link.version != record.version
        || record.state != AgreementState::Signing
        || record.signatures.iter().any(|s| s.role == link.role)
    {
        LinkState::Outdated
    } else if link.code_tries >= MAX_CODE_TRIES {
        LinkState::Blocked
    } else {
        LinkState::Open
    }
}

impl Store {
    /// Signs the agreement as `role` with the viewer's session, after checking in the
    /// directory that the viewer holds that role: an administrator of the school for the head,
    /// a member of the live host for the representative, the referent teacher, the pupil, the
    /// legal guardian the agreement names (and who still is one). `shown_sha256` is the hash
    /// of the document the viewer was shown.
    ///
    /// # Errors
    /// `NotFound` when the viewer may not read the agreement; `Conflict` (French) when they do
    /// not hold the role, when the role already signed, or the document changed.
    pub async fn sign_with_session(
        &self,
        viewer_id: &str,
        agreement_id: &str,
        role: SignatoryRole,
        shown_sha256: &str,
        context: &SignContext,
    ) -> StoreResult<Signed> {
        let mut tx = self.begin_write().await?;
        let record = load_locked_in(&mut tx, agreement_id).await?.ok_or(StoreError::NotFound)?;
        let standing = standing_in(&mut tx, viewer_id, &record).await?;
        if !readable_in(&mut tx, viewer_id, agreement_id).await? {
            return Err(StoreError::NotFound);
        }
        if !standing.session_roles().contains(&role) {
            return Err(StoreError::Conflict(format!(
                "Vous ne pouvez pas signer en tant que « {} ».",
                role.label_fr()
            )));
        }

        let signer_name = person_name_in(&mut tx, viewer_id).await?;
        let signature = NewSignature {
            role,
            person_id: Some(viewer_id),
            signer_name: &signer_name,
            method: "session",
            recorded_by: None,
            scan_file_key: None,
        };
        let signed = sign_in(&mut tx, &record, shown_sha256, &signature, context).await?;
        tx.commit().await?;
        Ok(signed)
    }

    /// Signs each selected agreement of the school `uai` as its head, each on its own (one
    /// refusal does not stop the others), each after checking the viewer's right and the hash
    /// of the document they were shown. `items` are (agreement id, shown SHA-256).
    /// Returns, per item, whether it completed the agreement or why it was refused (French).
    pub async fn sign_selection_as_head(
        &self,
        viewer_id: &str,
        uai: &str,
        items: &[(String, String)],
        context: &SignContext,
    ) -> StoreResult<Vec<(String, Result<Signed, String>)>> {
        let mut results = Vec::with_capacity(items.len());
        for (agreement_id, shown_sha256) in items {
            let outcome = self.sign_as_head_of(viewer_id, uai, agreement_id, shown_sha256, context);
            let outcome = match outcome.await {
                Ok(signed) => Ok(signed),
                Err(StoreError::NotFound) => Err("Convention introuvable.".to_owned()),
                Err(StoreError::Conflict(reason)) => Err(reason),
                Err(other) => return Err(other),
            };
            results.push((agreement_id.clone(), outcome));
        }
        Ok(results)
    }

    async fn sign_as_head_of(
        &self,
        viewer_id: &str,
        uai: &str,
        agreement_id: &str,
        shown_sha256: &str,
        context: &SignContext,
    ) -> StoreResult<Signed> {
        let in_school: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM internship_agreements a \
             JOIN schools s ON s.id = a.school_id WHERE a.id = $1 AND s.uai = $2",
        )
        .bind(agreement_id)
        .bind(uai)
        .fetch_optional(self.pool())
        .await?;
        if in_school.is_none() {
            return Err(StoreError::NotFound);
        }
        self.sign_with_session(viewer_id, agreement_id, SignatoryRole::Head, shown_sha256, context)
            .await
    }

    /// Marks `role` as signed on paper, by an administrator of the school, with the FileStore
    /// key of the scan (already checked and stored by the caller). The name is the one the
    /// agreement gives the role.
    ///
    /// # Errors
    /// `NotFound` unless the viewer administers the school; `Conflict` (French) when the role
    /// already signed or the agreement is not being signed.
    pub async fn sign_on_paper(
        &self,
        viewer_id: &str,
        agreement_id: &str,
        role: SignatoryRole,
        shown_sha256: &str,
        scan_file_key: &str,
        context: &SignContext,
    ) -> StoreResult<Signed> {
        if role == SignatoryRole::Head {
            return Err(StoreError::Conflict(
                "Le chef d'établissement signe en ligne : une signature sur papier ne peut être \
                 enregistrée que pour une autre partie."
                    .to_owned(),
            ));
        }

        let mut tx = self.begin_write().await?;
        if !administers_agreement_in(&mut tx, viewer_id, agreement_id).await? {
            return Err(StoreError::NotFound);
        }
        let record = load_locked_in(&mut tx, agreement_id).await?.ok_or(StoreError::NotFound)?;
        let signer_name = name_for_role(&record, role);
        let person_id = person_for_role(&record, role);
        let signature = NewSignature {
            role,
            person_id: person_id.as_deref(),
            signer_name: &signer_name,
            method: "paper",
            recorded_by: Some(viewer_id),
            scan_file_key: Some(scan_file_key),
        };
        let signed = sign_in(&mut tx, &record, shown_sha256, &signature, context).await?;

        // The host hears of a paper signature given in its name, so that a school cannot
        // complete the host's side unnoticed.
        let content = &record.content;
        let host_email = match role {
            SignatoryRole::HostRepresentative => content.representative_email.as_str(),
            SignatoryRole::Tutor => content.tutor_email.as_str(),
            _ => "",
        };
        if !host_email.is_empty() {
            let body = format!(
                "Bonjour,\n\nLe collège {} a enregistré une signature sur papier de la \
                 convention de stage « {} » au titre de : {}.\nSi vous n'avez pas signé cette \
                 convention sur papier, signalez-le au collège sans attendre.\n",
                content.school_name,
                content.offer_title,
                role.label_fr().to_lowercase(),
            );
            queue_mail_in(
                &mut tx,
                host_email,
                "Signature sur papier enregistrée",
                &body,
                context.now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(signed)
    }

    /// The scan of a paper signature of an agreement the viewer may read: its FileStore key.
    pub async fn paper_scan_for_viewer(
        &self,
        viewer_id: &str,
        agreement_id: &str,
        role: SignatoryRole,
    ) -> StoreResult<Option<String>> {
        let Some(record) = self.agreement_for_viewer(viewer_id, agreement_id).await? else {
            return Ok(None);
        };
        Ok(record
            .signatures
            .into_iter()
            .find(|s| s.role == role && s.method == "paper")
            .and_then(|s| s.scan_file_key))
    }

    /// What a signing link shows; `None` for a token that is not a link's.
    pub async fn sign_link_view(&self, token: &str, now: i64) -> StoreResult<Option<LinkView>> {
        let mut conn = self.pool().acquire().await?;
        let Some(link) = link_in(&mut conn, token).await? else { return Ok(None) };
        let Some(record) = load_in(&mut conn, &link.agreement_id).await? else {
            return Ok(None);
        };
        let content = &record.content;
        Ok(Some(LinkView {
            state: link_state(&link, &record, now),
            agreement_id: record.id.clone(),
            role: link.role,
            signer_name: link.signer_name.clone(),
            masked_email: mask_email(&link.email),
            pupil_name: content.pupil_name.clone(),
            pupil_class: content.pupil_class.clone(),
            school_name: content.school_name.clone(),
            host_name: content.host_name.clone(),
            offer_title: content.offer_title.clone(),
            first_day: content.first_day.clone(),
            last_day: content.last_day.clone(),
            version: record.version,
            document_sha256: record.document_sha256.clone().unwrap_or_default(),
            code_pending: link.code_expires_at.is_some_and(|at| at > now),
        }))
    }

    /// The frozen agreement behind a signing link that may still sign (content, id, version),
    /// so that its holder reads the document before signing; `None` otherwise.
    pub async fn sign_link_document(
        &self,
        token: &str,
        now: i64,
    ) -> StoreResult<Option<(domain::internship::AgreementContent, String, i64)>> {
        let mut conn = self.pool().acquire().await?;
        let Some(link) = link_in(&mut conn, token).await? else { return Ok(None) };
        let Some(record) = load_in(&mut conn, &link.agreement_id).await? else {
            return Ok(None);
        };
        if link_state(&link, &record, now) != LinkState::Open {
            return Ok(None);
        }
        Ok(Some((record.content, record.id, record.version)))
    }

    /// Sends a one-time code to the link's address, unless one sent less than a minute ago is
    /// still valid (unless `again`, a minute after the last one).
    pub async fn send_link_code(
        &self,
        token: &str,
        again: bool,
        now: i64,
    ) -> StoreResult<CodeIssue> {
        let mut tx = self.begin_write().await?;
        let Some(link) = link_in(&mut tx, token).await? else { return Err(StoreError::NotFound) };
        let record =
            load_locked_in(&mut tx, &link.agreement_id).await?.ok_or(StoreError::NotFound)?;
        if link_state(&link, &record, now) != LinkState::Open {
            return Ok(CodeIssue::Unusable);
        }
        if let Some(expires) = link.code_expires_at {
            let sent_at = expires - CODE_LIFETIME_SECS;
            let valid = expires > now;
            if valid && (!again || now - sent_at < CODE_RESEND_SECS) {
                return Ok(CodeIssue::StillValid);
            }
        }

        let code = new_code();
        sqlx::query(
            "UPDATE internship_sign_links SET code_hash = $2, code_expires_at = $3 \
             WHERE token_hash = $1",
        )
        .bind(&link.token_hash)
        .bind(code_hash(&link.token_hash, &code))
        .bind(now + CODE_LIFETIME_SECS)
        .execute(&mut *tx)
        .await?;
        let body = format!(
            "Bonjour {},\n\nVotre code pour signer la convention de stage de {} : {code}\n\n\
             Il est valable dix minutes. Ne le communiquez à personne.\n\n-- Préau",
            link.signer_name, record.content.pupil_name
        );
        queue_mail_in(&mut tx, &link.email, "Votre code de signature", &body, now).await?;
        tx.commit().await?;
        Ok(CodeIssue::Sent)
    }

    /// Signs with a link and its code, once: the link must be unused, unexpired, for the
    /// current version of an agreement being signed, and the code right and unexpired (five
    /// wrong codes block the link). `shown_sha256` is the hash of the document shown.
    pub async fn sign_with_link(
        &self,
        token: &str,
        code: &str,
        shown_sha256: &str,
        context: &SignContext,
    ) -> StoreResult<LinkSignOutcome> {
        let now = context.now;
        let mut tx = self.begin_write().await?;
        let Some(link) = link_in(&mut tx, token).await? else { return Err(StoreError::NotFound) };
        let record =
            load_locked_in(&mut tx, &link.agreement_id).await?.ok_or(StoreError::NotFound)?;
        let refused = match link_state(&link, &record, now) {
            LinkState::Open => None,
            LinkState::Used => Some("Ce lien a déjà servi."),
            LinkState::Expired => Some("Ce lien a expiré : demandez-en un nouveau au collège."),
            LinkState::Outdated => {
                Some("La convention a changé ou n'est plus à signer : ce lien ne vaut plus.")
            }
            LinkState::Blocked => {
                Some("Trop de codes erronés : demandez un nouveau lien au collège.")
            }
        };
        if let Some(reason) = refused {
            return Ok(LinkSignOutcome::Refused(reason.to_owned()));
        }

        let code = code.trim();
        let right = link.code_hash.as_deref() == Some(code_hash(&link.token_hash, code).as_str())
            && link.code_expires_at.is_some_and(|at| at > now)
            && code.len() == 6;
        if !right {
            sqlx::query(
                "UPDATE internship_sign_links SET code_tries = code_tries + 1 \
                 WHERE token_hash = $1",
            )
            .bind(&link.token_hash)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::warn!(agreement.id = %link.agreement_id, "wrong signing code");
            return Ok(LinkSignOutcome::WrongCode {
                tries_left: (MAX_CODE_TRIES - link.code_tries - 1).max(0),
            });
        }

        let used = sqlx::query(
            "UPDATE internship_sign_links SET used_at = $2, code_hash = NULL \
             WHERE token_hash = $1 AND used_at IS NULL",
        )
        .bind(&link.token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if used != 1 {
            return Ok(LinkSignOutcome::Refused("Ce lien a déjà servi.".to_owned()));
        }
        let signature = NewSignature {
            role: link.role,
            person_id: None,
            signer_name: &link.signer_name,
            method: "link",
            recorded_by: None,
            scan_file_key: None,
        };
        let signed = match sign_in(&mut tx, &record, shown_sha256, &signature, context).await {
            Ok(signed) => signed,
            Err(StoreError::Conflict(reason)) => return Ok(LinkSignOutcome::Refused(reason)),
            Err(other) => return Err(other),
        };
        tx.commit().await?;
        Ok(LinkSignOutcome::Signed { agreement_id: link.agreement_id, completed: signed.completed })
    }
}

/// `4 janvier 2027` for a stored `2027-01-04`; the text itself when it is not a date.
fn french_date(stored: &str) -> String {
    match stored.parse::<jiff::civil::Date>() {
        Ok(date) => {
            format!("{} {} {}", date.day(), domain::internship::weeks::month_fr(date), date.year())
        }
        Err(_) => stored.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_six_digits() {
        for _ in 0..100 {
            let code = new_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn an_email_is_masked() {
        assert_eq!(mask_email("tuteur@example.org"), "t…@example.org");
        assert_eq!(mask_email("nope"), "…");
    }
}
