//! Single sign-on: the registry of applications (read side here; administration in
//! `sso/admin.rs`), who may use an application (one SQL condition), and what a person releases
//! to it (an opaque per-application identifier unless the registry says more). The protocols
//! keep their own state in `sso/cas.rs` (tickets) and `sso/oidc.rs` (keys, codes, tokens).

pub mod admin;
pub mod cas;
pub mod oidc;

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, RegisteredUrl, UrlMatch};
use hmac::{KeyInit, Mac};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::cache::Generations;
use crate::directory::{current_membership, membership_clock};
use crate::{Store, StoreError, StoreResult, now_unix};

/// An application of the registry, as the protocols read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub protocol: Protocol,
    /// The school that registered it (`None`: the département).
    pub school_id: Option<String>,
    pub principal: Principal,
    /// What it receives besides the principal, in [`Attribute::ALL`] order.
    pub attributes: Vec<Attribute>,
    /// A session without its second factor never yields a ticket or a token for it.
    pub require_second_factor: bool,
    /// CAS: whether it may obtain proxy tickets.
    pub allow_proxy: bool,
    /// OpenID Connect: the client identifier.
    pub client_id: Option<String>,
    /// OpenID Connect: the SHA-256 (hex) of the client secret; `None` for a public client.
    pub client_secret_hash: Option<String>,
    pub enabled: bool,
    /// Service URLs (CAS) or redirect URIs (OpenID Connect).
    pub urls: Vec<RegisteredUrl>,
    /// OpenID Connect: where the client may be sent after logout.
    pub logout_urls: Vec<String>,
}

impl Service {
    /// Whether a URL a client sent is one of this application's.
    pub fn matches(&self, candidate: &str) -> bool {
        self.urls.iter().any(|url| domain::sso::url_matches(url, candidate))
    }
}

/// What an application learns of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// The CAS user or the OpenID Connect `sub`.
    pub principal: String,
    /// Each released attribute with its values (several for categories or schools), in
    /// [`Attribute::ALL`] order; an attribute the person has no value for is left out.
    pub attributes: Vec<(Attribute, Vec<String>)>,
}

impl Released {
    /// The values of one attribute, if released.
    pub fn get(&self, attribute: Attribute) -> Option<&[String]> {
        self.attributes.iter().find(|(a, _)| *a == attribute).map(|(_, values)| values.as_slice())
    }
}

/// The schools a person belongs to, as a subquery over `person_param`: their own links, their
/// current classes, the classes they teach and, for a relative, their children's schools.
/// `clock_param` is bound to `directory::membership_clock`.
pub(crate) fn person_schools_sql(person_param: &str, clock_param: &str) -> String {
    format!(
        "SELECT school_id FROM person_schools WHERE person_id = {person_param} \
         UNION SELECT c.school_id FROM pupil_classes pc JOIN classes c ON c.id = pc.class_id \
           WHERE pc.pupil_id = {person_param} AND {current} \
         UNION SELECT c.school_id FROM class_teachers ct JOIN classes c ON c.id = ct.class_id \
           WHERE ct.teacher_id = {person_param} \
         UNION SELECT ps.school_id FROM guardianships g \
           JOIN people child ON child.id = g.pupil_id AND child.active = 1 \
           JOIN person_schools ps ON ps.person_id = g.pupil_id \
           WHERE g.relative_id = {person_param} AND g.legal IN (1, 2)",
        current = current_membership("pc", clock_param)
    )
}

/// "The person may use this application", over `s` (an `sso_services` alias) and `p` (a
/// `people` alias): enabled, the person's profile listed, and, when the application lists
/// schools, the person belonging to one of them. `clock_param` is bound to the membership clock.
pub(crate) fn service_allows_sql(clock_param: &str) -> String {
    format!(
        "(s.enabled = 1 AND p.active = 1 \
         AND EXISTS (SELECT 1 FROM sso_service_profiles sp \
           WHERE sp.service_id = s.id AND sp.profile = p.profile) \
         AND (NOT EXISTS (SELECT 1 FROM sso_service_schools ss WHERE ss.service_id = s.id) \
           OR EXISTS (SELECT 1 FROM sso_service_schools ss WHERE ss.service_id = s.id \
             AND ss.school_id IN ({}))))",
        person_schools_sql("p.id", clock_param)
    )
}

/// The registration whose URL matches `service_url` best: the longest registered URL that
/// matches it, among the candidates of its origin.
fn best_match<'a>(candidates: &'a [Service], service_url: &str) -> Option<&'a Service> {
    let mut best: Option<(usize, &Service)> = None;
    for service in candidates {
        let longest = service
            .urls
            .iter()
            .filter(|url| domain::sso::url_matches(url, service_url))
            .map(|url| url.url.len())
            .max();
        if let Some(len) = longest
            && best.is_none_or(|(best_len, _)| len > best_len)
        {
            best = Some((len, service));
        }
    }
    best.map(|(_, service)| service)
}

/// The generations a person's standing with an application depends on.
fn directory_and_registry(generations: Generations) -> Generations {
    Generations { directory: generations.directory, sso: generations.sso, ..Default::default() }
}

/// The key of an (application, person) pair in the kept maps.
fn pair_key(service_id: &str, person_id: &str) -> String {
    format!("{service_id}\u{1f}{person_id}")
}

fn service_from_row(row: &AnyRow) -> StoreResult<Service> {
    let protocol: String = row.try_get("protocol")?;
    let principal: String = row.try_get("principal")?;
    let attributes: String = row.try_get("attributes")?;
    let codes: Vec<String> = serde_json::from_str(&attributes)
        .map_err(|error| StoreError::Corrupt(format!("service attributes: {error}")))?;
    let mut attributes: Vec<Attribute> =
        codes.iter().filter_map(|code| Attribute::parse(code)).collect();
    attributes.sort();
    attributes.dedup();
    let flag = |name: &str| -> StoreResult<bool> { Ok(row.try_get::<i64, _>(name)? != 0) };
    Ok(Service {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        protocol: Protocol::parse(&protocol)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown protocol {protocol}")))?,
        school_id: row.try_get("school_id")?,
        principal: Principal::parse(&principal)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown principal {principal}")))?,
        attributes,
        require_second_factor: flag("require_second_factor")?,
        allow_proxy: flag("allow_proxy")?,
        client_id: row.try_get("client_id")?,
        client_secret_hash: row.try_get("client_secret_hash")?,
        enabled: flag("enabled")?,
        urls: Vec::new(),
        logout_urls: Vec::new(),
    })
}

const SERVICE_COLUMNS: &str = "s.id, s.name, s.protocol, s.school_id, s.principal, \
    s.attributes, s.require_second_factor, s.allow_proxy, s.client_id, s.client_secret_hash, \
    s.enabled";

impl Store {
    /// The applications a condition over `s` (an `sso_services` alias, with `$1` bound to
    /// `param`) selects, each with its URLs, in one statement.
    async fn services_where(&self, condition: &str, param: &str) -> StoreResult<Vec<Service>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SERVICE_COLUMNS}, u.match_kind, u.url, u.origin FROM sso_services s \
             LEFT JOIN sso_service_urls u ON u.service_id = s.id WHERE {condition} \
             ORDER BY s.id, u.match_kind, u.url"
        )))
        .bind(param)
        .fetch_all(self.pool())
        .await?;
        let mut services: Vec<Service> = Vec::new();
        for row in &rows {
            let id: String = row.try_get("id")?;
            if services.last().is_none_or(|last| last.id != id) {
                services.push(service_from_row(row)?);
            }
            let Some(service) = services.last_mut() else { continue };
            let Some(kind) = row.try_get::<Option<String>, _>("match_kind")? else { continue };
            let url: String = row.try_get("url")?;
            if kind == "logout" {
                service.logout_urls.push(url);
                continue;
            }
            let match_kind = UrlMatch::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown url match {kind}")))?;
            service.urls.push(RegisteredUrl { match_kind, url, origin: row.try_get("origin")? });
        }
        Ok(services)
    }

    /// One application with its URLs, enabled or not.
    pub async fn sso_service(&self, service_id: &str) -> StoreResult<Option<Service>> {
        Ok(self.services_where("s.id = $1", service_id).await?.into_iter().next())
    }

    /// The enabled CAS application a service URL belongs to. `None` when the URL is not
    /// acceptable (see `domain::sso`) or matches no registration. When several registrations
    /// of one owner match, the longest registered URL wins (the registry refuses overlaps
    /// between owners).
    pub async fn cas_service_for_url(&self, service_url: &str) -> StoreResult<Option<Service>> {
        let Ok(origin) = domain::sso::candidate_origin(service_url) else { return Ok(None) };
        let candidates = self.cas_services_of_origin(&origin).await?;
        Ok(best_match(&candidates, service_url).cloned())
    }

    /// [`Store::cas_service_for_url`], the registrations of the URL's origin kept in memory
    /// under the registry's generation (`cache`).
    pub async fn cas_service_for_url_kept(
        &self,
        service_url: &str,
        generations: Generations,
    ) -> StoreResult<Option<Service>> {
        let Ok(origin) = domain::sso::candidate_origin(service_url) else { return Ok(None) };
        let stamp = Generations { sso: generations.sso, ..Generations::default() };
        let now = now_unix();
        if let Some(kept) = self.caches.cas_services.get(&origin, stamp, now) {
            return Ok(best_match(&kept, service_url).cloned());
        }

        let candidates = self.cas_services_of_origin(&origin).await?;
        let found = best_match(&candidates, service_url).cloned();
        let until = now + crate::cache::LONGEST_KEPT;
        self.caches.cas_services.put(origin, stamp, until, std::sync::Arc::new(candidates));
        Ok(found)
    }

    /// The enabled CAS applications with an exact or prefix URL on `origin`.
    async fn cas_services_of_origin(&self, origin: &str) -> StoreResult<Vec<Service>> {
        self.services_where(
            "s.protocol = 'cas' AND s.enabled = 1 AND s.id IN (SELECT o.service_id \
             FROM sso_service_urls o WHERE o.origin = $1 \
             AND o.match_kind IN ('exact', 'prefix'))",
            origin,
        )
        .await
    }

    /// The enabled OpenID Connect application with this client identifier.
    pub async fn oidc_client(&self, client_id: &str) -> StoreResult<Option<Service>> {
        let condition = "s.client_id = $1 AND s.protocol = 'oidc' AND s.enabled = 1";
        Ok(self.services_where(condition, client_id).await?.into_iter().next())
    }

    /// Whether this person may use this application now (see [`service_allows_sql`]).
    pub async fn service_allows(&self, service_id: &str, person_id: &str) -> StoreResult<bool> {
        let allowed: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM sso_services s JOIN people p ON p.id = $2 \
             WHERE s.id = $1 AND {}",
            service_allows_sql("$3")
        )))
        .bind(service_id)
        .bind(person_id)
        .bind(membership_clock())
        .fetch_optional(self.pool())
        .await?;
        Ok(allowed.is_some())
    }

    /// [`Store::service_allows`], kept in memory under the directory's and the registry's
    /// generations (`cache`), until a class membership starts or stops counting.
    pub async fn service_allows_kept(
        &self,
        service_id: &str,
        person_id: &str,
        generations: Generations,
    ) -> StoreResult<bool> {
        let allowed = self
            .kept_or_read(
                &self.caches.service_allowed,
                pair_key(service_id, person_id),
                directory_and_registry(generations),
                generations,
                self.service_allows(service_id, person_id),
            )
            .await?;
        Ok(*allowed)
    }

    /// The key of opaque identifiers, drawn on first use and kept in the database (and in this
    /// process once read).
    async fn subject_key(&self) -> StoreResult<Vec<u8>> {
        if let Some(key) = self.subject_key.get() {
            return Ok(key.clone());
        }
        let key = self.read_or_draw_subject_key().await?;
        Ok(self.subject_key.get_or_init(|| key).clone())
    }

    async fn read_or_draw_subject_key(&self) -> StoreResult<Vec<u8>> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM sso_secrets WHERE name = 'subject_key'")
                .fetch_optional(self.pool())
                .await?;
        if let Some(value) = stored {
            return hex::decode(&value)
                .map_err(|_| StoreError::Corrupt("subject key is not hex".to_owned()));
        }

        let mut drawn = [0u8; 32];
        rand::fill(&mut drawn);
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO sso_secrets (name, value, created_at) VALUES ('subject_key', $1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(hex::encode(drawn))
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        let value: String =
            sqlx::query_scalar("SELECT value FROM sso_secrets WHERE name = 'subject_key'")
                .fetch_one(self.pool())
                .await?;
        hex::decode(&value).map_err(|_| StoreError::Corrupt("subject key is not hex".to_owned()))
    }

    /// The opaque identifier of a person for an application: stable, 32 hexadecimal digits,
    /// different for each application, and telling nothing of the person (an HMAC-SHA-256 of
    /// the two ids under the database's subject key).
    pub async fn opaque_subject(&self, service_id: &str, person_id: &str) -> StoreResult<String> {
        let key = self.subject_key().await?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
            .map_err(|_| StoreError::Corrupt("subject key length".to_owned()))?;
        mac.update(service_id.as_bytes());
        mac.update(&[0]);
        mac.update(person_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        Ok(hex::encode(&digest[..16]))
    }

    /// [`Store::release`], kept in memory under the directory's and the registry's generations
    /// (`cache`), until a class membership starts or stops counting. `service` is the
    /// registration read under the same generations.
    pub async fn release_kept(
        &self,
        service: &Service,
        person_id: &str,
        generations: Generations,
    ) -> StoreResult<Released> {
        let released = self
            .kept_or_read(
                &self.caches.releases,
                pair_key(&service.id, person_id),
                directory_and_registry(generations),
                generations,
                self.release(service, person_id),
            )
            .await?;
        Ok(released.as_ref().clone())
    }

    /// What a person releases to an application: its principal and the attributes the registry
    /// allows. The caller has checked [`Store::service_allows`].
    pub async fn release(&self, service: &Service, person_id: &str) -> StoreResult<Released> {
        let row = sqlx::query(
            "SELECT p.profile, p.last_name, p.first_name, p.birth_date, p.postal_code, \
             a.login, pr.notify_email FROM people p JOIN accounts a ON a.person_id = p.id \
             LEFT JOIN preferences pr ON pr.person_id = p.id WHERE p.id = $1",
        )
        .bind(person_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let profile: String = row.try_get("profile")?;
        let profile = Profile::parse(&profile)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown profile {profile}")))?;
        let login: String = row.try_get("login")?;

        let schools = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.uai, s.postal_code FROM schools s WHERE s.active = 1 AND s.id IN ({}) \
             ORDER BY s.uai",
            person_schools_sql("$1", "$2")
        )))
        .bind(person_id)
        .bind(membership_clock())
        .fetch_all(self.pool())
        .await?;
        let mut uais = Vec::new();
        let mut school_postcode = None;
        for school in &schools {
            uais.push(school.try_get::<String, _>("uai")?);
            if school_postcode.is_none() {
                school_postcode = school.try_get::<Option<String>, _>("postal_code")?;
            }
        }

        let principal = match service.principal {
            Principal::Login => login.clone(),
            Principal::Opaque => self.opaque_subject(&service.id, person_id).await?,
        };
        let text = |name: &str| -> StoreResult<Option<String>> {
            Ok(row.try_get::<Option<String>, _>(name)?.filter(|value| !value.trim().is_empty()))
        };
        let mut attributes = Vec::new();
        for attribute in &service.attributes {
            let values: Vec<String> = match attribute {
                Attribute::Login => vec![login.clone()],
                Attribute::LastName => text("last_name")?.into_iter().collect(),
                Attribute::FirstName => text("first_name")?.into_iter().collect(),
                Attribute::BirthDate => text("birth_date")?
                    .and_then(|date| domain::sso::pronote_date(&date))
                    .into_iter()
                    .collect(),
                Attribute::PostalCode => {
                    text("postal_code")?.or_else(|| school_postcode.clone()).into_iter().collect()
                }
                Attribute::Categories => domain::sso::pronote_category(profile)
                    .map(|category| vec![category.to_owned()])
                    .unwrap_or_default(),
                Attribute::Email => text("notify_email")?.into_iter().collect(),
                Attribute::Profile => vec![profile.as_str().to_owned()],
                Attribute::Schools => uais.clone(),
            };
            if !values.is_empty() {
                attributes.push((*attribute, values));
            }
        }
        Ok(Released { principal, attributes })
    }
}
