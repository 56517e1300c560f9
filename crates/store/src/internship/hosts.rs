//! Host organisations and their people. A host registers itself (`register_host`: the
//! organisation, a person of profile `host` with a login and an activated account, and their
//! manager membership, in one transaction; the host waits as 'pending'), or a département
//! administrator creates it already verified. A manager edits the organisation's details,
//! invites colleagues (an account with an activation code sent by e-mail through the outbox)
//! and removes them. The département lists, verifies, suspends, reinstates and merges hosts.
//! Every function that acts for a host takes the viewer and checks in its SQL that they are a
//! manager (or member) of a live host; the département's take the actor and check their role.
//! The checks of typed details (`HostForm::check`, `PersonForm::check`) need no database.

use std::time::Duration;

use domain::internship::siret::Siret;
use domain::internship::{HostKind, HostStatus};
use domain::names::PersonName;
use sqlx::Row;

use crate::provisioning::{AccountFor, CreatedAccount, provision_accounts};
use crate::{Store, StoreError, StoreResult, new_id};

/// The longest organisation name, in characters.
pub const MAX_HOST_NAME_CHARS: usize = 150;
/// The longest address line, contact or role, in characters.
pub const MAX_DETAIL_CHARS: usize = 200;
/// The longest e-mail address, in bytes.
pub const MAX_EMAIL_BYTES: usize = 254;
/// The longest phone number, in characters.
pub const MAX_PHONE_CHARS: usize = 30;

/// The message of a SIRET already registered (the existence of an organisation is public).
pub const SIRET_TAKEN: &str = "Un organisme est déjà inscrit avec ce numéro SIRET. Si vous en \
    faites partie, demandez à la personne qui gère son compte de vous inviter.";

/// A field of the host and person forms, for the refusals shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostField {
    Name,
    Siret,
    Kind,
    Street,
    PostalCode,
    City,
    ContactName,
    ContactEmail,
    ContactPhone,
    RepresentativeName,
    RepresentativeRole,
    LastName,
    FirstName,
    Email,
}

/// Refusals of a form, each with its field, in French.
pub type FieldErrors<F> = Vec<(F, String)>;

/// An organisation's details as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostForm {
    pub name: String,
    pub siret: String,
    pub kind: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub representative_name: String,
    pub representative_role: String,
}

/// An organisation's checked details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDetails {
    pub name: String,
    pub siret: Siret,
    pub kind: HostKind,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub representative_name: String,
    pub representative_role: String,
}

/// A person of a host as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonForm {
    pub last_name: String,
    pub first_name: String,
    pub email: String,
}

/// A person of a host, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHostPerson {
    pub last_name: PersonName,
    pub first_name: PersonName,
    pub email: String,
}

/// A free text of a form: trimmed, inner white space folded, within `max` characters, without
/// control, bidi or zero-width characters; `required` refuses it empty.
pub fn check_text(raw: &str, max: usize, required: bool) -> Result<String, String> {
    if let Some(bad) = raw.chars().find(|c| domain::names::is_forbidden(*c)) {
        return Err(format!(
            "Ce champ contient un caractère de contrôle ou de direction de texte (U+{:04X}).",
            bad as u32
        ));
    }
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = text.chars().count();
    if required && text.is_empty() {
        return Err("Ce champ est obligatoire.".to_owned());
    }
    if count > max {
        return Err(format!("Ce champ est trop long ({count} caractères, {max} au plus)."));
    }
    Ok(text)
}

/// An e-mail address that a mail server accepts: one `@`, a dot in the domain, no white
/// space or control character, at most 254 bytes.
pub fn check_email(raw: &str, required: bool) -> Result<String, String> {
    let email = raw.trim();
    if email.is_empty() {
        return if required {
            Err("L'adresse électronique est obligatoire.".to_owned())
        } else {
            Ok(String::new())
        };
    }
    let plausible = email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || domain::names::is_forbidden(c))
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if plausible {
        Ok(email.to_owned())
    } else {
        Err("Cette adresse électronique n'est pas valide.".to_owned())
    }
}

/// A phone number: digits, spaces, dots, hyphens, parentheses and a leading `+`.
pub fn check_phone(raw: &str, required: bool) -> Result<String, String> {
    let phone = check_text(raw, MAX_PHONE_CHARS, required)?;
    let allowed = phone.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')') || (c == '+' && i == 0)
    });
    if allowed { Ok(phone) } else { Err("Ce numéro de téléphone n'est pas valide.".to_owned()) }
}

/// A French postcode: five digits.
pub fn check_postal_code(raw: &str, required: bool) -> Result<String, String> {
    let code = raw.trim();
    if code.is_empty() && !required {
        return Ok(String::new());
    }
    if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_owned())
    } else {
        Err("Le code postal compte cinq chiffres.".to_owned())
    }
}

/// Runs a check and files its refusal under `field`.
pub(crate) fn take<F: Copy, T: Default>(
    errors: &mut FieldErrors<F>,
    field: F,
    checked: Result<T, String>,
) -> T {
    checked.unwrap_or_else(|reason| {
        errors.push((field, reason));
        T::default()
    })
}

impl HostForm {
    /// The details, or every refusal with its field.
    ///
    /// # Errors
    /// The refusals, in French, field by field.
    pub fn check(&self) -> Result<HostDetails, FieldErrors<HostField>> {
        use HostField as F;
        let mut errors = Vec::new();
        let name = take(&mut errors, F::Name, check_text(&self.name, MAX_HOST_NAME_CHARS, true));
        let siret = Siret::parse(&self.siret).map_err(|reason| errors.push((F::Siret, reason)));
        let kind = HostKind::parse(&self.kind).ok_or_else(|| {
            errors.push((F::Kind, "Choisissez le type d'organisme.".to_owned()));
        });
        let street = take(&mut errors, F::Street, check_text(&self.street, MAX_DETAIL_CHARS, true));
        let postal_code =
            take(&mut errors, F::PostalCode, check_postal_code(&self.postal_code, true));
        let city = take(&mut errors, F::City, check_text(&self.city, MAX_DETAIL_CHARS, true));
        let contact_name = take(
            &mut errors,
            F::ContactName,
            check_text(&self.contact_name, MAX_DETAIL_CHARS, true),
        );
        let contact_email =
            take(&mut errors, F::ContactEmail, check_email(&self.contact_email, true));
        let contact_phone =
            take(&mut errors, F::ContactPhone, check_phone(&self.contact_phone, false));
        let representative_name = take(
            &mut errors,
            F::RepresentativeName,
            check_text(&self.representative_name, MAX_DETAIL_CHARS, true),
        );
        let representative_role = take(
            &mut errors,
            F::RepresentativeRole,
            check_text(&self.representative_role, MAX_DETAIL_CHARS, true),
        );
        match (siret, kind) {
            (Ok(siret), Ok(kind)) if errors.is_empty() => Ok(HostDetails {
                name,
                siret,
                kind,
                street,
                postal_code,
                city,
                contact_name,
                contact_email,
                contact_phone,
                representative_name,
                representative_role,
            }),
            _ => Err(errors),
        }
    }

    /// The form filled with a host's stored details.
    pub fn of(host: &HostRecord) -> HostForm {
        HostForm {
            name: host.name.clone(),
            siret: host.siret.clone(),
            kind: host.kind.as_str().to_owned(),
            street: host.street.clone(),
            postal_code: host.postal_code.clone(),
            city: host.city.clone(),
            contact_name: host.contact_name.clone(),
            contact_email: host.contact_email.clone(),
            contact_phone: host.contact_phone.clone(),
            representative_name: host.representative_name.clone(),
            representative_role: host.representative_role.clone(),
        }
    }
}

impl PersonForm {
    /// The person, or every refusal with its field.
    ///
    /// # Errors
    /// The refusals, in French, field by field.
    pub fn check(&self) -> Result<NewHostPerson, FieldErrors<HostField>> {
        let mut errors = Vec::new();
        let last_name = PersonName::parse(&self.last_name)
            .map_err(|e| errors.push((HostField::LastName, name_reason(&e))));
        let first_name = PersonName::parse(&self.first_name)
            .map_err(|e| errors.push((HostField::FirstName, name_reason(&e))));
        let email = take(&mut errors, HostField::Email, check_email(&self.email, true));
        match (last_name, first_name) {
            (Ok(last_name), Ok(first_name)) if errors.is_empty() => {
                Ok(NewHostPerson { last_name, first_name, email })
            }
            _ => Err(errors),
        }
    }
}

/// A name's refusal as a French sentence.
fn name_reason(error: &domain::names::NameError) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    let capitalised: String =
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    format!("{capitalised}.")
}

/// A host as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRecord {
    pub id: String,
    pub name: String,
    pub siret: String,
    pub kind: HostKind,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub representative_name: String,
    pub representative_role: String,
    pub status: HostStatus,
    pub merged_into: Option<String>,
    pub created_at: i64,
    pub verified_at: Option<i64>,
}

/// A person of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub person_id: String,
    pub last_name: String,
    pub first_name: String,
    pub email: String,
    pub login: String,
    /// `manager` or `member`.
    pub role: String,
    pub activated: bool,
}

/// A line of the département's list of hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSummary {
    pub id: String,
    pub name: String,
    pub siret: String,
    pub city: String,
    pub status: HostStatus,
    pub offers: i64,
    pub members: i64,
    pub created_at: i64,
}

/// What self-registration created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub host_id: String,
    pub person_id: String,
    pub login: String,
}

/// The département's filter of its list of hosts.
#[derive(Debug, Clone, Default)]
pub struct HostFilter {
    pub status: Option<HostStatus>,
    /// A part of the name, or of the SIRET (digits).
    pub query: String,
}

/// A département's decision on a host's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAction {
    /// pending → verified.
    Verify,
    /// pending or verified → suspended.
    Suspend,
    /// suspended → verified.
    Reinstate,
}

impl HostAction {
    /// The status it leads to from `from`, if it is allowed.
    pub fn apply(self, from: HostStatus) -> Option<HostStatus> {
        match (self, from) {
            (HostAction::Verify, HostStatus::Pending) => Some(HostStatus::Verified),
            (HostAction::Suspend, HostStatus::Pending | HostStatus::Verified) => {
                Some(HostStatus::Suspended)
            }
            (HostAction::Reinstate, HostStatus::Suspended) => Some(HostStatus::Verified),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HostAction::Verify => "verify",
            HostAction::Suspend => "suspend",
            HostAction::Reinstate => "reinstate",
        }
    }
}

const HOST_COLUMNS: &str = "h.id, h.name, h.siret, h.kind, h.street, h.postal_code, h.city, \
    h.contact_name, h.contact_email, h.contact_phone, h.representative_name, \
    h.representative_role, h.status, h.merged_into, h.created_at, h.verified_at";

fn host_of(row: &sqlx::any::AnyRow) -> StoreResult<HostRecord> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(HostRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        siret: row.try_get("siret")?,
        kind: HostKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("host kind {kind}")))?,
        street: row.try_get("street")?,
        postal_code: row.try_get("postal_code")?,
        city: row.try_get("city")?,
        contact_name: row.try_get("contact_name")?,
        contact_email: row.try_get("contact_email")?,
        contact_phone: row.try_get("contact_phone")?,
        representative_name: row.try_get("representative_name")?,
        representative_role: row.try_get("representative_role")?,
        status: HostStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("host status {status}")))?,
        merged_into: row.try_get("merged_into")?,
        created_at: row.try_get("created_at")?,
        verified_at: row.try_get("verified_at")?,
    })
}

/// Whether an error is the database refusing a duplicate.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

/// The host `viewer_id` may act for (a member of a pending or verified host), in the
/// caller's transaction; with `manager`, only if they manage it. `None` otherwise.
pub(crate) async fn acting_host_in(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    manager: bool,
) -> StoreResult<Option<String>> {
    let host: Option<String> = sqlx::query_scalar(
        "SELECT m.host_id FROM host_members m JOIN hosts h ON h.id = m.host_id \
         JOIN people p ON p.id = m.person_id \
         WHERE m.person_id = $1 AND p.active = 1 AND h.status IN ('pending', 'verified') \
         AND ($2 = 0 OR m.role = 'manager')",
    )
    .bind(viewer_id)
    .bind(i64::from(manager))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(host)
}

/// Inserts a host row (its point from the gazetteer when its town is known).
async fn insert_host_in(
    conn: &mut sqlx::AnyConnection,
    details: &HostDetails,
    status: HostStatus,
    created_by: Option<&str>,
    now: i64,
) -> StoreResult<String> {
    let id = new_id();
    let commune =
        super::reference::locate_commune_in(conn, &details.postal_code, &details.city).await?;
    let verified_at = (status == HostStatus::Verified).then_some(now);
    let inserted = sqlx::query(
        "INSERT INTO hosts (id, name, folded_name, siret, kind, street, postal_code, city, \
         latitude, longitude, contact_name, contact_email, contact_phone, representative_name, \
         representative_role, status, created_by, verified_by, verified_at, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $20)",
    )
    .bind(&id)
    .bind(&details.name)
    .bind(domain::names::fold_for_search(&details.name))
    .bind(details.siret.as_str())
    .bind(details.kind.as_str())
    .bind(&details.street)
    .bind(&details.postal_code)
    .bind(&details.city)
    .bind(commune.as_ref().map(|c| c.point.latitude))
    .bind(commune.as_ref().map(|c| c.point.longitude))
    .bind(&details.contact_name)
    .bind(&details.contact_email)
    .bind(&details.contact_phone)
    .bind(&details.representative_name)
    .bind(&details.representative_role)
    .bind(status.as_str())
    .bind(created_by)
    .bind(verified_at.and(created_by))
    .bind(verified_at)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(id),
        Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict(SIRET_TAKEN.into())),
        Err(error) => Err(error.into()),
    }
}

/// Inserts a person of profile `host` with a login and an account (activation code), and
/// their membership of `host_id`.
async fn insert_host_person_in(
    conn: &mut sqlx::AnyConnection,
    host_id: &str,
    person: &NewHostPerson,
    role: &str,
    validity: Duration,
    now: i64,
) -> StoreResult<CreatedAccount> {
    let person_id = new_id();
    let (last, first) = (person.last_name.to_string(), person.first_name.to_string());
    sqlx::query(
        "INSERT INTO people (id, source, external_id, profile, last_name, first_name, email, \
         created_at, updated_at, search_key) VALUES ($1, 'host', $1, 'host', $2, $3, $4, $5, \
         $5, $6)",
    )
    .bind(&person_id)
    .bind(&last)
    .bind(&first)
    .bind(&person.email)
    .bind(now)
    .bind(domain::names::search_key(&last, &first))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO host_members (host_id, person_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(host_id)
    .bind(&person_id)
    .bind(role)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    let wanted = AccountFor { person_id, first_name: first, last_name: last };
    let mut created = provision_accounts(conn, &[wanted], validity, now).await?;
    created.pop().ok_or_else(|| StoreError::Corrupt("compte non créé".to_owned()))
}

/// Refuses with `NotFound` an actor who does not administer the département.
async fn require_departement_admin(store: &Store, actor_id: &str) -> StoreResult<()> {
    if store.is_departement_admin(actor_id).await? { Ok(()) } else { Err(StoreError::NotFound) }
}

impl Store {
    /// Registers a host by itself: the organisation ('pending'), its first person (profile
    /// `host`, with a new login and an account activated with `password_hash`) and their
    /// manager membership, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] with [`SIRET_TAKEN`] when the SIRET is already registered;
    /// database errors. Nothing is written then.
    pub async fn register_host(
        &self,
        details: &HostDetails,
        person: &NewHostPerson,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Registration> {
        let mut tx = self.begin_write().await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM hosts WHERE siret = $1")
            .bind(details.siret.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(SIRET_TAKEN.to_owned()));
        }

        let host_id = insert_host_in(&mut tx, details, HostStatus::Pending, None, now).await?;
        let account = insert_host_person_in(
            &mut tx,
            &host_id,
            person,
            "manager",
            Duration::from_secs(3600),
            now,
        )
        .await?;
        sqlx::query(
            "UPDATE accounts SET password_hash = $2, activation_code = NULL, \
             activation_expires_at = NULL, activated_at = $3, password_changed_at = $3 \
             WHERE person_id = $1",
        )
        .bind(&account.person_id)
        .bind(password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE hosts SET created_by = $2 WHERE id = $1")
            .bind(&host_id)
            .bind(&account.person_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;

        tracing::info!(host.id = %host_id, person.id = %account.person_id, "host registered");
        Ok(Registration { host_id, person_id: account.person_id, login: account.login })
    }

    /// The host `viewer_id` belongs to, whatever its status.
    ///
    /// # Errors
    /// Database errors.
    pub async fn host_of_member(&self, viewer_id: &str) -> StoreResult<Option<HostRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HOST_COLUMNS} FROM hosts h JOIN host_members m ON m.host_id = h.id \
             WHERE m.person_id = $1"
        )))
        .bind(viewer_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(host_of).transpose()
    }

    /// Changes the details of the viewer's host (not its SIRET), if they manage it and it is
    /// pending or verified.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for anyone else; database errors.
    pub async fn update_host_details(
        &self,
        viewer_id: &str,
        details: &HostDetails,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let host_id =
            acting_host_in(&mut tx, viewer_id, true).await?.ok_or(StoreError::NotFound)?;
        let commune =
            super::reference::locate_commune_in(&mut tx, &details.postal_code, &details.city)
                .await?;
        sqlx::query(
            "UPDATE hosts SET name = $2, folded_name = $3, kind = $4, street = $5, \
             postal_code = $6, city = $7, latitude = $8, longitude = $9, contact_name = $10, \
             contact_email = $11, contact_phone = $12, representative_name = $13, \
             representative_role = $14, updated_at = $15 WHERE id = $1",
        )
        .bind(&host_id)
        .bind(&details.name)
        .bind(domain::names::fold_for_search(&details.name))
        .bind(details.kind.as_str())
        .bind(&details.street)
        .bind(&details.postal_code)
        .bind(&details.city)
        .bind(commune.as_ref().map(|c| c.point.latitude))
        .bind(commune.as_ref().map(|c| c.point.longitude))
        .bind(&details.contact_name)
        .bind(&details.contact_email)
        .bind(&details.contact_phone)
        .bind(&details.representative_name)
        .bind(&details.representative_role)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The people of the viewer's host (managers first), if the viewer belongs to it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn host_members(&self, viewer_id: &str) -> StoreResult<Vec<MemberRecord>> {
        let rows = sqlx::query(
            "SELECT p.id, p.last_name, p.first_name, COALESCE(p.email, '') AS email, \
             COALESCE(a.login, '') AS login, m.role, a.activated_at FROM host_members m \
             JOIN host_members me ON me.host_id = m.host_id AND me.person_id = $1 \
             JOIN people p ON p.id = m.person_id LEFT JOIN accounts a ON a.person_id = p.id \
             WHERE p.active = 1 ORDER BY m.role, p.last_name, p.first_name, p.id",
        )
        .bind(viewer_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(member_of).collect()
    }

    /// A manager invites a colleague: a new person of the host with a login and an activation
    /// code, and an e-mail (sent after commit) giving them the login, the code and
    /// `activation_url`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the viewer manages a pending or verified host;
    /// database errors.
    pub async fn invite_host_member(
        &self,
        viewer_id: &str,
        person: &NewHostPerson,
        activation_url: &str,
        validity: Duration,
        now: i64,
    ) -> StoreResult<CreatedAccount> {
        let mut tx = self.begin_write().await?;
        let host_id =
            acting_host_in(&mut tx, viewer_id, true).await?.ok_or(StoreError::NotFound)?;
        let host_name: String = sqlx::query_scalar("SELECT name FROM hosts WHERE id = $1")
            .bind(&host_id)
            .fetch_one(&mut *tx)
            .await?;
        let account =
            insert_host_person_in(&mut tx, &host_id, person, "member", validity, now).await?;

        let subject = format!("Votre compte Préau pour {host_name}");
        let body = format!(
            "Bonjour {} {},\n\nVous avez été invité(e) à rejoindre l'espace de {host_name} \
             sur Préau, la plateforme des stages de 3e du département.\n\nPour activer votre \
             compte, rendez-vous à l'adresse {activation_url}, saisissez votre identifiant et \
             votre code, puis choisissez votre mot de passe.\n\nIdentifiant : {}\nCode \
             d'activation : {}\n\nCe code ne sert qu'une fois. Ne le communiquez à personne.\n",
            person.first_name,
            person.last_name,
            account.login,
            domain::activation::format_code(&account.activation_code),
        );
        super::queue_mail_in(&mut tx, &person.email, &subject, &body, now).await?;
        tx.commit().await?;

        tracing::info!(host.id = %host_id, person.id = %account.person_id, "host member invited");
        Ok(account)
    }

    /// A manager removes a colleague from the host: the membership ends, the person is
    /// deactivated and their sessions closed. A manager cannot remove themself.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the viewer manages the member's host; database errors.
    pub async fn remove_host_member(
        &self,
        viewer_id: &str,
        member_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        if viewer_id == member_id {
            return Err(StoreError::Conflict(
                "Vous ne pouvez pas vous retirer vous-même de l'organisme.".to_owned(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let host_id =
            acting_host_in(&mut tx, viewer_id, true).await?.ok_or(StoreError::NotFound)?;
        let removed = sqlx::query("DELETE FROM host_members WHERE host_id = $1 AND person_id = $2")
            .bind(&host_id)
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE people SET active = 0, deactivated_at = $2 WHERE id = $1")
            .bind(member_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE accounts SET frozen = 1 WHERE person_id = $1")
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE person_id = $1")
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(host.id = %host_id, person.id = %member_id, "host member removed");
        Ok(())
    }

    /// The département's list of hosts, newest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département.
    pub async fn departement_hosts(
        &self,
        actor_id: &str,
        filter: &HostFilter,
        limit: i64,
    ) -> StoreResult<Vec<HostSummary>> {
        require_departement_admin(self, actor_id).await?;
        let query = filter.query.trim();
        let digits: String = query.chars().filter(char::is_ascii_digit).collect();
        let folded = domain::names::fold_for_search(query);
        let rows = sqlx::query(
            "SELECT h.id, h.name, h.siret, h.city, h.status, h.created_at, \
             (SELECT COUNT(*) FROM internship_offers o WHERE o.host_id = h.id \
              AND o.state <> 'archived') AS offers, \
             (SELECT COUNT(*) FROM host_members m WHERE m.host_id = h.id) AS members \
             FROM hosts h WHERE ($1 = '' OR h.status = $1) \
             AND ($2 = '' OR h.folded_name LIKE '%' || $2 || '%' \
                  OR ($3 <> '' AND h.siret LIKE $3 || '%')) \
             ORDER BY h.created_at DESC, h.id LIMIT $4",
        )
        .bind(filter.status.map_or("", HostStatus::as_str))
        .bind(&folded)
        .bind(&digits)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(HostSummary {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    siret: row.try_get("siret")?,
                    city: row.try_get("city")?,
                    status: HostStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("host status {status}")))?,
                    offers: row.try_get("offers")?,
                    members: row.try_get("members")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// One host and its people, for the département.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département.
    pub async fn departement_host(
        &self,
        actor_id: &str,
        host_id: &str,
    ) -> StoreResult<Option<(HostRecord, Vec<MemberRecord>)>> {
        require_departement_admin(self, actor_id).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HOST_COLUMNS} FROM hosts h WHERE h.id = $1"
        )))
        .bind(host_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(host) = row.as_ref().map(host_of).transpose()? else { return Ok(None) };
        let rows = sqlx::query(
            "SELECT p.id, p.last_name, p.first_name, COALESCE(p.email, '') AS email, \
             COALESCE(a.login, '') AS login, m.role, a.activated_at FROM host_members m \
             JOIN people p ON p.id = m.person_id LEFT JOIN accounts a ON a.person_id = p.id \
             WHERE m.host_id = $1 ORDER BY m.role, p.last_name, p.first_name, p.id",
        )
        .bind(host_id)
        .fetch_all(self.pool())
        .await?;
        let members = rows.iter().map(member_of).collect::<StoreResult<Vec<_>>>()?;
        Ok(Some((host, members)))
    }

    /// The département creates a host, verified at once, with its first person (a manager
    /// with an activation code) when one is given.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département;
    /// [`StoreError::Conflict`] with [`SIRET_TAKEN`]; database errors.
    pub async fn departement_create_host(
        &self,
        actor_id: &str,
        details: &HostDetails,
        person: Option<&NewHostPerson>,
        validity: Duration,
        now: i64,
    ) -> StoreResult<(String, Option<CreatedAccount>)> {
        require_departement_admin(self, actor_id).await?;
        let mut tx = self.begin_write().await?;
        let host_id =
            insert_host_in(&mut tx, details, HostStatus::Verified, Some(actor_id), now).await?;
        let account = match person {
            Some(person) => Some(
                insert_host_person_in(&mut tx, &host_id, person, "manager", validity, now).await?,
            ),
            None => None,
        };
        audit_in(&mut tx, actor_id, "host_created", &host_id, "", now).await?;
        tx.commit().await?;
        Ok((host_id, account))
    }

    /// The département verifies, suspends or reinstates a host; returns its new status.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département and the host
    /// exists; [`StoreError::Conflict`] when the move is not allowed from its status.
    pub async fn departement_set_host_status(
        &self,
        actor_id: &str,
        host_id: &str,
        action: HostAction,
        now: i64,
    ) -> StoreResult<HostStatus> {
        require_departement_admin(self, actor_id).await?;
        let mut tx = self.begin_write().await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM hosts WHERE id = $1")
            .bind(host_id)
            .fetch_optional(&mut *tx)
            .await?;
        let from = status.as_deref().and_then(HostStatus::parse).ok_or(StoreError::NotFound)?;
        let Some(next) = action.apply(from) else {
            return Err(StoreError::Conflict(format!(
                "Un organisme « {} » ne peut pas recevoir cette décision.",
                from.label_fr()
            )));
        };
        let verifying = next == HostStatus::Verified;
        sqlx::query(
            "UPDATE hosts SET status = $2, updated_at = $3, \
             verified_by = CASE WHEN $4 = 1 THEN $5 ELSE verified_by END, \
             verified_at = CASE WHEN $4 = 1 THEN $3 ELSE verified_at END \
             WHERE id = $1 AND status = $6",
        )
        .bind(host_id)
        .bind(next.as_str())
        .bind(now)
        .bind(i64::from(verifying))
        .bind(actor_id)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        audit_in(&mut tx, actor_id, &format!("host_{}", action.as_str()), host_id, "", now).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// The département merges host `from` into host `into`: its offers, people and
    /// agreements move to `into`, and `from` becomes 'merged' (with `merged_into`), in one
    /// transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the actor administers the département and both hosts
    /// exist; [`StoreError::Conflict`] for a host merged into itself or an already merged one.
    pub async fn departement_merge_hosts(
        &self,
        actor_id: &str,
        from: &str,
        into: &str,
        now: i64,
    ) -> StoreResult<()> {
        require_departement_admin(self, actor_id).await?;
        if from == into {
            return Err(StoreError::Conflict(
                "Un organisme ne peut pas être fusionné avec lui-même.".to_owned(),
            ));
        }
        let mut tx = self.begin_write().await?;
        for id in [from, into] {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM hosts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match status.as_deref() {
                None => return Err(StoreError::NotFound),
                Some("merged") => {
                    return Err(StoreError::Conflict(
                        "Un organisme déjà fusionné ne peut plus l'être.".to_owned(),
                    ));
                }
                Some(_) => {}
            }
        }
        for sql in [
            "UPDATE internship_offers SET host_id = $2, updated_at = $3 WHERE host_id = $1",
            "UPDATE internship_agreements SET host_id = $2, updated_at = $3 WHERE host_id = $1",
        ] {
            sqlx::query(sql).bind(from).bind(into).bind(now).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE host_members SET host_id = $2 WHERE host_id = $1")
            .bind(from)
            .bind(into)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE hosts SET status = 'merged', merged_into = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(from)
        .bind(into)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit_in(&mut tx, actor_id, "host_merged", from, into, now).await?;
        tx.commit().await?;
        tracing::info!(host.id = %from, into = %into, "hosts merged");
        Ok(())
    }
}

fn member_of(row: &sqlx::any::AnyRow) -> StoreResult<MemberRecord> {
    let activated: Option<i64> = row.try_get("activated_at")?;
    Ok(MemberRecord {
        person_id: row.try_get("id")?,
        last_name: row.try_get("last_name")?,
        first_name: row.try_get("first_name")?,
        email: row.try_get("email")?,
        login: row.try_get("login")?,
        role: row.try_get("role")?,
        activated: activated.is_some(),
    })
}

/// A line of the audit log, in the caller's transaction.
pub(crate) async fn audit_in(
    conn: &mut sqlx::AnyConnection,
    actor_id: &str,
    action: &str,
    target_id: &str,
    detail: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, action, target_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(now)
    .bind(actor_id)
    .bind(action)
    .bind(target_id)
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
