//! The registry's writes and its administration: registering an application with its URLs,
//! schools and profiles in one transaction after checking every URL with `domain::sso`
//! ([`Store::register_service`], used as is by the demo and the tests), and what the consoles
//! do on top of it, always from an [`AdminScope`]: the département's administrators manage
//! every application, a school's administrators the applications their school registered (and
//! read those of the département that reach their school). Which application an administrator
//! may read or change is part of each query's SQL; anything else is `NotFound`. Every change is
//! audited in its own transaction. A URL that would take over another owner's registration is
//! refused with its reason: addresses of two owners never overlap, since the longest one would
//! win the lookup and escape the other's rules (second factor, profiles, attributes).

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, RegisteredUrl, UrlMatch};
use sqlx::Row;

use crate::directory::{SchoolRef, administered_by, school_ref};
use crate::sso::Service;
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// An application as an administrator (or the demo, or a test) registers it.
#[derive(Debug, Clone)]
pub struct NewService {
    pub name: String,
    pub protocol: Protocol,
    /// The registering school (`None`: the département).
    pub school_id: Option<String>,
    pub principal: Principal,
    pub attributes: Vec<Attribute>,
    pub require_second_factor: bool,
    pub allow_proxy: bool,
    /// OpenID Connect: the client identifier (`None` for CAS).
    pub client_id: Option<String>,
    /// OpenID Connect: the SHA-256 (hex) of the client secret (`None`: public client).
    pub client_secret_hash: Option<String>,
    /// Service URLs (CAS, exact or prefix) or redirect URIs (OpenID Connect, exact only), as
    /// typed.
    pub urls: Vec<(UrlMatch, String)>,
    /// OpenID Connect: post-logout redirect URIs (exact), as typed.
    pub logout_urls: Vec<String>,
    /// The schools whose people may use it (empty: the whole département).
    pub schools: Vec<String>,
    /// The profiles that may use it.
    pub profiles: Vec<Profile>,
}

/// Where an administrator acts: the département's console, or one school's console (the
/// school's id, as `Store::administered_school` found it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminScope {
    Departement,
    School(String),
}

impl AdminScope {
    /// The school of a school scope.
    pub fn school_id(&self) -> Option<&str> {
        match self {
            AdminScope::Departement => None,
            AdminScope::School(id) => Some(id),
        }
    }
}

/// "`actor` may act in this scope", for a `WHERE`: a département administrator anywhere; in a
/// school scope, also the school's `school_admin` or a member of its direction (`DIR`), the
/// school being active. `actor` and `school` are placeholders (`school` unused for the
/// département).
pub(crate) fn scope_allows_sql(scope: &AdminScope, actor: &str, school: &str) -> String {
    let departement = format!(
        "EXISTS (SELECT 1 FROM roles adm JOIN people ap ON ap.id = adm.person_id \
         WHERE adm.person_id = {actor} AND adm.role = 'departement_admin' AND ap.active = 1)"
    );
    match scope {
        AdminScope::Departement => departement,
        AdminScope::School(_) => format!(
            "(EXISTS (SELECT 1 FROM schools sc WHERE sc.id = {school} AND sc.active = 1) \
             AND ({departement} OR {school} IN ({})))",
            administered_by(actor)
        ),
    }
}

/// "The application `s` is readable in this scope": every one for the département; for a
/// school, its own and those of the département that reach it (no school listed, or it).
fn readable_sql(scope: &AdminScope, school: &str) -> String {
    match scope {
        AdminScope::Departement => "1 = 1".to_owned(),
        AdminScope::School(_) => format!(
            "(s.school_id = {school} OR (s.school_id IS NULL AND (NOT EXISTS \
             (SELECT 1 FROM sso_service_schools x WHERE x.service_id = s.id) \
             OR EXISTS (SELECT 1 FROM sso_service_schools x WHERE x.service_id = s.id \
               AND x.school_id = {school}))))"
        ),
    }
}

/// "The application `s` may be changed in this scope": every one for the département, a
/// school's own for the school.
fn editable_sql(scope: &AdminScope, school: &str) -> String {
    match scope {
        AdminScope::Departement => "1 = 1".to_owned(),
        AdminScope::School(_) => format!("s.school_id = {school}"),
    }
}

/// One application in an administrator's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLine {
    pub id: String,
    pub name: String,
    pub protocol: Protocol,
    /// The school that registered it (`None`: the département).
    pub owner: Option<SchoolRef>,
    /// The names of the schools whose people may use it (empty: the whole département).
    pub schools: Vec<String>,
    pub profiles: Vec<Profile>,
    pub enabled: bool,
    /// Whether this scope may change it (a school reads the département's).
    pub editable: bool,
}

/// One application as its administration form shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedService {
    pub service: Service,
    pub owner: Option<SchoolRef>,
    /// The schools whose people may use it (empty: the whole département).
    pub schools: Vec<SchoolRef>,
    pub profiles: Vec<Profile>,
    pub editable: bool,
}

/// What happens to an OpenID Connect client's secret when its application is changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretChange {
    /// Kept as it is (or none stays none).
    Keep,
    /// The client becomes public: the secret is forgotten.
    Clear,
    /// A new secret, as its SHA-256 (hex): the client becomes (or stays) confidential.
    Set(String),
}

/// The URLs of an application, checked, as `(match_kind code, url, origin)` rows.
type CheckedUrls = Vec<(&'static str, String, String)>;

/// Checks what every registration must satisfy: a name, at least one URL, each URL acceptable
/// (exact only for OpenID Connect), the attributes as stored JSON.
fn check_new_service(new: &NewService) -> StoreResult<(CheckedUrls, String)> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(StoreError::Conflict(
            "Le nom de l'application est obligatoire (120 caractères au plus).".to_owned(),
        ));
    }
    if name.chars().any(domain::names::is_forbidden) {
        return Err(StoreError::Conflict(
            "Le nom de l'application ne doit contenir ni caractère de contrôle, ni caractère \
             invisible ou de changement de sens d'écriture."
                .to_owned(),
        ));
    }
    if new.urls.is_empty() {
        return Err(StoreError::Conflict(
            "Indiquez au moins une adresse de l'application.".to_owned(),
        ));
    }
    let mut urls = Vec::new();
    for (match_kind, typed) in &new.urls {
        if new.protocol == Protocol::Oidc && *match_kind != UrlMatch::Exact {
            return Err(StoreError::Conflict(
                "Les adresses de retour OpenID Connect sont toujours exactes.".to_owned(),
            ));
        }
        let registered = domain::sso::register_url(typed, *match_kind)
            .map_err(|error| StoreError::Conflict(format!("« {typed} » : {error}.")))?;
        urls.push((registered.match_kind.as_str(), registered.url, registered.origin));
    }
    for typed in &new.logout_urls {
        let registered = domain::sso::register_url(typed, UrlMatch::Exact)
            .map_err(|error| StoreError::Conflict(format!("« {typed} » : {error}.")))?;
        urls.push(("logout", registered.url, registered.origin));
    }
    let attributes: Vec<&str> = new.attributes.iter().map(|a| a.as_str()).collect();
    let attributes = serde_json::to_string(&attributes)
        .map_err(|error| StoreError::Corrupt(format!("attributes: {error}")))?;
    Ok((urls, attributes))
}

/// Writes an application's URLs, schools and profiles (the caller has removed the old ones).
async fn insert_service_links(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    urls: &CheckedUrls,
    new: &NewService,
) -> StoreResult<()> {
    for (kind, url, origin) in urls {
        sqlx::query(
            "INSERT INTO sso_service_urls (service_id, match_kind, url, origin) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(*kind)
        .bind(url)
        .bind(origin)
        .execute(&mut *conn)
        .await?;
    }
    for school in &new.schools {
        sqlx::query(
            "INSERT INTO sso_service_schools (service_id, school_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(school)
        .execute(&mut *conn)
        .await?;
    }
    for profile in &new.profiles {
        sqlx::query(
            "INSERT INTO sso_service_profiles (service_id, profile) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(profile.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether an overlap between a new URL (owned by `new_owner`) and a registered one (owned by
/// `old_owner`, another application) is allowed: only between applications of the same owner.
/// An address inside another owner's prefix would win the lookup (the longest registration
/// does) and so escape that owner's rules: its second factor, profiles and attributes.
fn overlap_allowed(
    new_url: &RegisteredUrl,
    new_owner: Option<&str>,
    old_url: &RegisteredUrl,
    old_owner: Option<&str>,
) -> bool {
    let new_inside_old = domain::sso::url_matches(old_url, &new_url.url);
    let old_inside_new = domain::sso::url_matches(new_url, &old_url.url);
    if new_url.url == old_url.url {
        return false;
    }
    if !new_inside_old && !old_inside_new {
        return true;
    }
    new_owner == old_owner
}

impl Store {
    /// Registers an application and returns its id. Every URL is checked first; the first bad
    /// one refuses the whole registration with a French reason (`StoreError::Conflict`).
    pub async fn register_service(
        &self,
        actor_id: Option<&str>,
        new: &NewService,
    ) -> StoreResult<String> {
        let (urls, attributes) = check_new_service(new)?;

        let id = new_id();
        let mut tx = self.begin_write().await?;
        insert_service_row(&mut tx, &id, new, &attributes, actor_id).await?;
        insert_service_links(&mut tx, &id, &urls, new).await?;
        let actor = actor_id.unwrap_or("");
        crate::accounts::audit_in(&mut tx, actor, "sso_service_registered", &id, new.name.trim())
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Whether `actor_id` may act in this scope (see [`AdminScope`]).
    pub async fn may_administer(&self, actor_id: &str, scope: &AdminScope) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(1 AS BIGINT) WHERE {}",
            scope_allows_sql(scope, "$1", "$2")
        )))
        .bind(actor_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// The applications an administrator sees in a scope, by name: every one for the
    /// département; a school's own and, read-only, the département's that reach the school.
    /// Empty for anyone who may not act in the scope.
    pub async fn managed_services(
        &self,
        actor_id: &str,
        scope: &AdminScope,
    ) -> StoreResult<Vec<ServiceLine>> {
        let filter =
            format!("{} AND {}", scope_allows_sql(scope, "$1", "$2"), readable_sql(scope, "$2"));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id, s.name, s.protocol, s.enabled, s.school_id AS owner_id, \
             o.uai AS owner_uai, o.name AS owner_name, \
             CAST(CASE WHEN {} THEN 1 ELSE 0 END AS BIGINT) AS editable \
             FROM sso_services s LEFT JOIN schools o ON o.id = s.school_id \
             WHERE {filter} ORDER BY s.name, o.name, s.id",
            editable_sql(scope, "$2")
        )))
        .bind(actor_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let schools = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT x.service_id, sc.name FROM sso_service_schools x \
             JOIN schools sc ON sc.id = x.school_id JOIN sso_services s ON s.id = x.service_id \
             WHERE {filter} ORDER BY sc.name, sc.id"
        )))
        .bind(actor_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let profiles = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT x.service_id, x.profile FROM sso_service_profiles x \
             JOIN sso_services s ON s.id = x.service_id WHERE {filter}"
        )))
        .bind(actor_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_all(self.pool())
        .await?;

        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let protocol: String = row.try_get("protocol")?;
            let mut line_schools = Vec::new();
            for school in &schools {
                if school.try_get::<String, _>("service_id")? == id {
                    line_schools.push(school.try_get("name")?);
                }
            }
            let mut line_profiles = Vec::new();
            for profile in &profiles {
                if profile.try_get::<String, _>("service_id")? == id
                    && let Some(p) = Profile::parse(&profile.try_get::<String, _>("profile")?)
                {
                    line_profiles.push(p);
                }
            }
            line_profiles.sort_by_key(|p| Profile::ALL.iter().position(|q| q == p));
            lines.push(ServiceLine {
                name: row.try_get("name")?,
                protocol: Protocol::parse(&protocol)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown protocol {protocol}")))?,
                owner: owner_of(row)?,
                schools: line_schools,
                profiles: line_profiles,
                enabled: row.try_get::<i64, _>("enabled")? != 0,
                editable: row.try_get::<i64, _>("editable")? != 0,
                id,
            });
        }
        Ok(lines)
    }

    /// One application as its form shows it, when the scope may read it; `None` otherwise
    /// (another school's, or an unknown id).
    pub async fn managed_service(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        service_id: &str,
    ) -> StoreResult<Option<ManagedService>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.school_id AS owner_id, o.uai AS owner_uai, o.name AS owner_name, \
             CAST(CASE WHEN {} THEN 1 ELSE 0 END AS BIGINT) AS editable \
             FROM sso_services s LEFT JOIN schools o ON o.id = s.school_id \
             WHERE s.id = $3 AND {} AND {}",
            editable_sql(scope, "$2"),
            scope_allows_sql(scope, "$1", "$2"),
            readable_sql(scope, "$2")
        )))
        .bind(actor_id)
        .bind(scope.school_id().unwrap_or(""))
        .bind(service_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(service) = self.sso_service(service_id).await? else { return Ok(None) };

        let schools = sqlx::query(
            "SELECT sc.id AS school_id, sc.uai, sc.name AS school_name FROM sso_service_schools x \
             JOIN schools sc ON sc.id = x.school_id WHERE x.service_id = $1 \
             ORDER BY sc.name, sc.id",
        )
        .bind(service_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(school_ref)
        .collect::<StoreResult<Vec<_>>>()?;
        let codes: Vec<String> =
            sqlx::query_scalar("SELECT profile FROM sso_service_profiles WHERE service_id = $1")
                .bind(service_id)
                .fetch_all(self.pool())
                .await?;
        let profiles =
            Profile::ALL.into_iter().filter(|p| codes.iter().any(|c| c == p.as_str())).collect();
        Ok(Some(ManagedService {
            service,
            owner: owner_of(&row)?,
            schools,
            profiles,
            editable: row.try_get::<i64, _>("editable")? != 0,
        }))
    }

    /// Registers an application from a console. In a school scope the application is the
    /// school's and reaches the school only, whatever `new` says. Returns its id.
    ///
    /// # Errors
    /// `NotFound` when the actor may not act in the scope; `Conflict` (French) for a bad name
    /// or URL, or a URL that would take over another owner's registration.
    pub async fn create_service(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        new: &NewService,
    ) -> StoreResult<String> {
        let new = scoped(scope, new.clone(), None);
        let (urls, attributes) = check_new_service(&new)?;

        let id = new_id();
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        check_overlaps(&mut tx, None, new.school_id.as_deref(), new.protocol, &urls).await?;
        insert_service_row(&mut tx, &id, &new, &attributes, Some(actor_id)).await?;
        insert_service_links(&mut tx, &id, &urls, &new).await?;
        crate::accounts::audit_in(&mut tx, actor_id, "sso_service_registered", &id, &new.name)
            .await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, service.id = %id, "application registered");
        Ok(id)
    }

    /// Changes an application the scope may edit: its name, principal, attributes, flags,
    /// URLs, schools and profiles, and its secret as `secret` says. The protocol, the owner and
    /// the client identifier never change.
    ///
    /// # Errors
    /// `NotFound` when the scope may not edit it; `Conflict` as [`Store::create_service`].
    pub async fn update_service(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        service_id: &str,
        changed: &NewService,
        secret: &SecretChange,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        let current = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.school_id, s.protocol, s.client_id, s.client_secret_hash \
             FROM sso_services s WHERE s.id = $1 AND {}",
            editable_sql(scope, "$2")
        )))
        .bind(service_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let owner: Option<String> = current.try_get("school_id")?;
        let protocol: String = current.try_get("protocol")?;
        let protocol = Protocol::parse(&protocol)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown protocol {protocol}")))?;
        let old_hash: Option<String> = current.try_get("client_secret_hash")?;
        let mut changed = scoped(scope, changed.clone(), Some(owner.clone()));
        changed.protocol = protocol;
        changed.client_id = current.try_get("client_id")?;
        changed.client_secret_hash = match (protocol, secret) {
            (Protocol::Cas, _) | (_, SecretChange::Clear) => None,
            (Protocol::Oidc, SecretChange::Keep) => old_hash,
            (Protocol::Oidc, SecretChange::Set(hash)) => Some(hash.clone()),
        };
        if protocol == Protocol::Cas {
            changed.logout_urls.clear();
        } else {
            changed.allow_proxy = false;
        }
        let (urls, attributes) = check_new_service(&changed)?;
        check_overlaps(&mut tx, Some(service_id), owner.as_deref(), protocol, &urls).await?;

        sqlx::query(
            "UPDATE sso_services SET name = $2, principal = $3, attributes = $4, \
             require_second_factor = $5, allow_proxy = $6, client_secret_hash = $7, \
             updated_at = $8 WHERE id = $1",
        )
        .bind(service_id)
        .bind(changed.name.trim())
        .bind(changed.principal.as_str())
        .bind(&attributes)
        .bind(i64::from(changed.require_second_factor))
        .bind(i64::from(changed.allow_proxy))
        .bind(changed.client_secret_hash.clone())
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        for table in ["sso_service_urls", "sso_service_schools", "sso_service_profiles"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE service_id = $1")))
                .bind(service_id)
                .execute(&mut *tx)
                .await?;
        }
        insert_service_links(&mut tx, service_id, &urls, &changed).await?;
        let detail = match secret {
            SecretChange::Set(_) => "secret regenerated",
            SecretChange::Clear => "secret removed",
            SecretChange::Keep => "",
        };
        crate::accounts::audit_in(&mut tx, actor_id, "sso_service_updated", service_id, detail)
            .await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, service.id = %service_id, "application changed");
        Ok(())
    }

    /// Enables or disables an application the scope may edit. A disabled application is found
    /// by no sign-on path.
    ///
    /// # Errors
    /// `NotFound` when the scope may not edit it.
    pub async fn set_service_enabled(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        service_id: &str,
        enabled: bool,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE sso_services SET enabled = $3, updated_at = $4 \
             WHERE id = $1 AND id IN (SELECT s.id FROM sso_services s WHERE {})",
            editable_sql(scope, "$2")
        )))
        .bind(service_id)
        .bind(scope.school_id().unwrap_or(""))
        .bind(i64::from(enabled))
        .bind(now_unix())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if enabled { "sso_service_enabled" } else { "sso_service_disabled" };
        crate::accounts::audit_in(&mut tx, actor_id, action, service_id, "").await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, service.id = %service_id, enabled, "application state");
        Ok(())
    }

    /// Deletes an application the scope may edit, with its URLs, schools and profiles; the
    /// resources that opened through it now open their address directly.
    ///
    /// # Errors
    /// `NotFound` when the scope may not edit it.
    pub async fn delete_service(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        service_id: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        let name: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT s.name FROM sso_services s WHERE s.id = $1 AND {}",
            editable_sql(scope, "$2")
        )))
        .bind(service_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_optional(&mut *tx)
        .await?;
        let name = name.ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE resources SET service_id = NULL WHERE service_id = $1")
            .bind(service_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sso_services WHERE id = $1")
            .bind(service_id)
            .execute(&mut *tx)
            .await?;
        crate::accounts::audit_in(&mut tx, actor_id, "sso_service_deleted", service_id, &name)
            .await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, service.id = %service_id, "application deleted");
        Ok(())
    }

    /// Gives a confidential OpenID Connect client a new secret (its SHA-256, hex); the old one
    /// stops working at once.
    ///
    /// # Errors
    /// `NotFound` when the scope may not edit it or it is not an OpenID Connect client.
    pub async fn set_service_secret(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        service_id: &str,
        secret_hash: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE sso_services SET client_secret_hash = $3, updated_at = $4 \
             WHERE id = $1 AND protocol = 'oidc' \
             AND id IN (SELECT s.id FROM sso_services s WHERE {})",
            editable_sql(scope, "$2")
        )))
        .bind(service_id)
        .bind(scope.school_id().unwrap_or(""))
        .bind(secret_hash)
        .bind(now_unix())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        crate::accounts::audit_in(
            &mut tx,
            actor_id,
            "sso_service_secret_regenerated",
            service_id,
            "",
        )
        .await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, service.id = %service_id, "client secret regenerated");
        Ok(())
    }

    /// `NotFound` unless the actor may act in the scope, checked inside the write.
    pub(crate) async fn check_scope(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor_id: &str,
        scope: &AdminScope,
    ) -> StoreResult<()> {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(1 AS BIGINT) WHERE {}",
            scope_allows_sql(scope, "$1", "$2")
        )))
        .bind(actor_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_optional(&mut *conn)
        .await?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }
}

/// A registration as a scope may make it: a school's applications belong to it and reach it
/// only, for its own people's profiles. `owner` (an update) keeps the stored owner.
fn scoped(scope: &AdminScope, mut new: NewService, owner: Option<Option<String>>) -> NewService {
    new.name = new.name.trim().to_owned();
    new.school_id = match (owner, scope) {
        (Some(owner), _) => owner,
        (None, AdminScope::Departement) => None,
        (None, AdminScope::School(id)) => Some(id.clone()),
    };
    if let Some(school) = &new.school_id {
        new.schools = vec![school.clone()];
        new.profiles.retain(|p| !p.is_departement());
    }
    new
}

async fn insert_service_row(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    new: &NewService,
    attributes: &str,
    actor_id: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sso_services (id, name, protocol, school_id, principal, attributes, \
         require_second_factor, allow_proxy, client_id, client_secret_hash, enabled, \
         created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12)",
    )
    .bind(id)
    .bind(new.name.trim())
    .bind(new.protocol.as_str())
    .bind(new.school_id.clone())
    .bind(new.principal.as_str())
    .bind(attributes)
    .bind(i64::from(new.require_second_factor))
    .bind(i64::from(new.allow_proxy))
    .bind(new.client_id.clone())
    .bind(new.client_secret_hash.clone())
    .bind(actor_id.map(str::to_owned))
    .bind(now_unix())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Refuses CAS URLs that another application already registered, or that would take over
/// (or surround) another owner's registration; see [`overlap_allowed`]. OpenID Connect
/// redirect URIs belong to their client and cannot collide.
async fn check_overlaps(
    conn: &mut sqlx::AnyConnection,
    exclude: Option<&str>,
    owner: Option<&str>,
    protocol: Protocol,
    urls: &CheckedUrls,
) -> StoreResult<()> {
    if protocol != Protocol::Cas {
        return Ok(());
    }
    for (kind, url, origin) in urls {
        let Some(match_kind) = UrlMatch::parse(kind) else { continue };
        let new_url = RegisteredUrl { match_kind, url: url.clone(), origin: origin.clone() };
        let rows = sqlx::query(
            "SELECT u.match_kind, u.url, s.school_id, s.name FROM sso_service_urls u \
             JOIN sso_services s ON s.id = u.service_id \
             WHERE u.origin = $1 AND s.protocol = 'cas' AND u.match_kind IN ('exact', 'prefix') \
             AND s.id <> $2",
        )
        .bind(origin)
        .bind(exclude.unwrap_or(""))
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let old_kind: String = row.try_get("match_kind")?;
            let Some(old_kind) = UrlMatch::parse(&old_kind) else { continue };
            let old_url = RegisteredUrl {
                match_kind: old_kind,
                url: row.try_get("url")?,
                origin: origin.clone(),
            };
            let old_owner: Option<String> = row.try_get("school_id")?;
            if overlap_allowed(&new_url, owner, &old_url, old_owner.as_deref()) {
                continue;
            }
            // The name of another school's application is not told to a school.
            let whose = if owner.is_some() && old_owner.as_deref() != owner {
                "une application d'un autre établissement ou du département".to_owned()
            } else {
                format!("l'application « {} »", row.try_get::<String, _>("name")?)
            };
            let of_whose = match whose.strip_prefix("une ") {
                Some(rest) => format!("d'une {rest}"),
                None => format!("de {whose}"),
            };
            let reason = if new_url.url == old_url.url {
                format!("« {url} » est déjà enregistrée pour {whose}.")
            } else {
                format!("« {url} » recouvre l'adresse « {} » {of_whose}.", old_url.url)
            };
            return Err(StoreError::Conflict(reason));
        }
    }
    Ok(())
}

fn owner_of(row: &sqlx::any::AnyRow) -> StoreResult<Option<SchoolRef>> {
    let id: Option<String> = row.try_get("owner_id")?;
    let Some(id) = id else { return Ok(None) };
    Ok(Some(SchoolRef {
        id,
        uai: row.try_get::<Option<String>, _>("owner_uai")?.unwrap_or_default(),
        name: row.try_get::<Option<String>, _>("owner_name")?.unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str, kind: UrlMatch) -> RegisteredUrl {
        domain::sso::register_url(text, kind).unwrap()
    }

    #[test]
    fn only_the_same_owner_may_register_overlapping_addresses() {
        let wide = url("https://ent.example.fr/", UrlMatch::Prefix);
        let narrow = url("https://ent.example.fr/pronote/", UrlMatch::Prefix);
        let other = url("https://ent.example.fr/autre", UrlMatch::Exact);
        let school = Some("school-1");
        let another = Some("school-2");

        assert!(
            !overlap_allowed(&narrow, school, &wide, None),
            "a school inside the département's"
        );
        assert!(
            !overlap_allowed(&wide, None, &narrow, school),
            "the département around a school's"
        );
        assert!(!overlap_allowed(&narrow, school, &wide, another));
        assert!(!overlap_allowed(&wide, school, &narrow, another));
        assert!(!overlap_allowed(&wide, school, &narrow, None));
        assert!(!overlap_allowed(&narrow, None, &wide, school));
        assert!(overlap_allowed(&narrow, school, &wide, school));
        assert!(!overlap_allowed(&wide, None, &wide, None), "the same URL twice");
        assert!(overlap_allowed(&narrow, None, &wide, None), "the département's own entries");
        assert!(overlap_allowed(&other, another, &narrow, school), "disjoint");
    }
}
