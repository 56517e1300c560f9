//! The catalogue of resources: what the département (for every collège or chosen ones) and the
//! schools (for their own people) offer — textbooks, dictionaries, platforms, the département
//! library's digital offer, services to families —, who sees which resource (their profile,
//! their schools, and the bound application's own rules; all of it in the SQL of one condition),
//! the filters of the catalogue page, the administration of the catalogue from an
//! [`AdminScope`], and the count of openings.
//!
//! An opening is counted as one aggregate row per (resource, school, day in the school's zone):
//! nothing here records, logs or returns who opened what. The statistics read those rows only.

use domain::profile::Profile;
use domain::sso::{Protocol, UrlMatch};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::directory::{SchoolRef, membership_clock};
use crate::sso::admin::{AdminScope, scope_allows_sql};
use crate::sso::{person_schools_sql, service_allows_sql};
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// The kinds of resources: stable code, French label.
pub const KINDS: [(&str, &str); 12] = [
    ("manuel", "Manuel numérique"),
    ("dictionnaire", "Dictionnaire et encyclopédie"),
    ("plateforme", "Plateforme pédagogique"),
    ("livres", "Livres numériques"),
    ("films", "Films"),
    ("musique", "Musique"),
    ("presse", "Presse"),
    ("famille", "Service aux familles"),
    ("vie-scolaire", "Vie scolaire"),
    ("orientation", "Orientation"),
    ("documentation", "Documentation et CDI"),
    ("autre", "Autre ressource"),
];

/// The subjects of the collège: stable code, French label.
pub const SUBJECTS: [(&str, &str); 16] = [
    ("francais", "Français"),
    ("mathematiques", "Mathématiques"),
    ("histoire-geographie", "Histoire-géographie"),
    ("emc", "Enseignement moral et civique"),
    ("anglais", "Anglais"),
    ("allemand", "Allemand"),
    ("espagnol", "Espagnol"),
    ("italien", "Italien"),
    ("langues-anciennes", "Latin et grec"),
    ("svt", "Sciences de la vie et de la Terre"),
    ("physique-chimie", "Physique-chimie"),
    ("technologie", "Technologie"),
    ("arts-plastiques", "Arts plastiques"),
    ("education-musicale", "Éducation musicale"),
    ("eps", "Éducation physique et sportive"),
    ("education-medias", "Éducation aux médias"),
];

/// The collège's levels. A resource without a level is for every level.
pub const LEVELS: [(&str, &str); 4] = [("6e", "6e"), ("5e", "5e"), ("4e", "4e"), ("3e", "3e")];

/// What makes a resource suit pupils with DYS disorders.
pub const DYS_TAGS: [(&str, &str); 6] = [
    ("livre-audio", "Livre audio"),
    ("police-adaptee", "Police adaptée"),
    ("synthese-vocale", "Synthèse vocale"),
    ("contraste-renforce", "Contraste renforcé"),
    ("texte-aere", "Texte aéré et mise en page simplifiée"),
    ("sous-titres", "Sous-titres et transcription"),
];

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 600;

/// The French label of a code in one of the lists above (the code itself if unknown).
pub fn label_of<'a>(list: &[(&'a str, &'a str)], code: &'a str) -> &'a str {
    list.iter().find(|(c, _)| *c == code).map_or(code, |(_, label)| label)
}

/// A resource as an administrator (or the demo) writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewResource {
    pub title: String,
    pub description: String,
    /// A code of [`KINDS`].
    pub kind: String,
    /// The address the tile opens (https, canonical).
    pub url: String,
    /// The registered application it opens through, if any.
    pub service_id: Option<String>,
    /// Codes of [`SUBJECTS`], [`LEVELS`], [`DYS_TAGS`].
    pub subjects: Vec<String>,
    pub levels: Vec<String>,
    pub dys: Vec<String>,
    /// Who sees it (at least one profile).
    pub profiles: Vec<Profile>,
    /// The schools whose people see it (empty: the whole département). A school's resource
    /// always reaches that school only.
    pub schools: Vec<String>,
}

/// A field of the resource form, for a refusal's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceField {
    Title,
    Description,
    Kind,
    Url,
    Tags,
    Profiles,
    Schools,
}

/// What is wrong with a resource before any database check: every refusal with its field, in
/// French. Empty when the resource can be written.
pub fn check_resource(new: &NewResource) -> Vec<(ResourceField, String)> {
    let mut errors = Vec::new();
    let title = new.title.trim();
    if title.is_empty() {
        errors.push((ResourceField::Title, "Donnez un titre à la ressource.".to_owned()));
    } else if title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        errors.push((
            ResourceField::Title,
            format!("Le titre doit tenir en {MAX_TITLE_CHARS} caractères, sur une ligne."),
        ));
    } else if title.chars().any(domain::names::is_forbidden) {
        errors.push((
            ResourceField::Title,
            "Le titre ne doit contenir ni caractère invisible ni caractère de changement de \
             sens d'écriture."
                .to_owned(),
        ));
    }
    if new.description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push((
            ResourceField::Description,
            format!("La description doit tenir en {MAX_DESCRIPTION_CHARS} caractères."),
        ));
    }
    if !KINDS.iter().any(|(code, _)| *code == new.kind) {
        errors.push((ResourceField::Kind, "Choisissez le type de la ressource.".to_owned()));
    }
    if let Err(error) = domain::sso::register_url(&new.url, UrlMatch::Exact) {
        let reason = if new.url.trim().is_empty() {
            "Indiquez l'adresse qu'ouvre la ressource.".to_owned()
        } else {
            format!("Adresse refusée : {error}.")
        };
        errors.push((ResourceField::Url, reason));
    }
    let known = |list: &[(&str, &str)], codes: &[String]| {
        codes.iter().all(|code| list.iter().any(|(c, _)| c == code))
    };
    if !known(&SUBJECTS, &new.subjects)
        || !known(&LEVELS, &new.levels)
        || !known(&DYS_TAGS, &new.dys)
    {
        errors.push((ResourceField::Tags, "Une des cases cochées n'existe pas.".to_owned()));
    }
    if new.profiles.is_empty() {
        errors.push((
            ResourceField::Profiles,
            "Cochez au moins un profil qui verra la ressource.".to_owned(),
        ));
    }
    errors
}

/// The catalogue page's filters; an empty code filters nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// A level code: resources of that level, and those of every level.
    pub level: String,
    /// A subject code: resources tagged with it.
    pub subject: String,
    /// A kind code.
    pub kind: String,
    /// Only resources with a DYS tag.
    pub dys: bool,
}

/// A tile of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: String,
    /// The school that maintains it (its tile names it), `None` for the département's.
    pub owner: Option<SchoolRef>,
    pub subjects: Vec<String>,
    pub levels: Vec<String>,
    pub dys: Vec<String>,
    /// Whether it opens through Préau's sign-on (CAS or OpenID Connect).
    pub signed_on: bool,
}

/// Where an opening leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenTarget {
    /// Through Préau's CAS server, for this service URL (registered for the bound application).
    Cas(String),
    /// Straight to the resource's address.
    Direct(String),
}

/// One resource in an administrator's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLine {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub owner: Option<SchoolRef>,
    /// The names of the schools it reaches (empty: the whole département).
    pub schools: Vec<String>,
    pub service_name: Option<String>,
    pub editable: bool,
}

/// One resource as its form shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedResource {
    pub id: String,
    pub resource: NewResource,
    pub owner: Option<SchoolRef>,
    pub editable: bool,
}

/// Openings of one resource by the people of one school over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningLine {
    pub resource_id: String,
    pub title: String,
    /// The school that maintains the resource (`None`: the département).
    pub owner: Option<String>,
    /// The school the openings were counted for (`None`: people of no school).
    pub school: Option<SchoolRef>,
    pub openings: i64,
}

/// "Person `p` sees resource `r`": their profile listed, one of their schools listed (or the
/// resource reaches the whole département), the maintaining school active, and, for a
/// resource bound to an application, the application's own rules (enabled, profile, schools).
/// `clock` is bound to the membership clock.
fn visible_sql(clock: &str) -> String {
    format!(
        "(p.active = 1 \
         AND EXISTS (SELECT 1 FROM resource_profiles rp WHERE rp.resource_id = r.id \
           AND rp.profile = p.profile) \
         AND (NOT EXISTS (SELECT 1 FROM resource_schools rs WHERE rs.resource_id = r.id) \
           OR EXISTS (SELECT 1 FROM resource_schools rs WHERE rs.resource_id = r.id \
             AND rs.school_id IN ({schools}))) \
         AND (r.school_id IS NULL OR EXISTS (SELECT 1 FROM schools o WHERE o.id = r.school_id \
           AND o.active = 1)) \
         AND (r.service_id IS NULL OR EXISTS (SELECT 1 FROM sso_services s \
           WHERE s.id = r.service_id AND {allows})))",
        schools = person_schools_sql("p.id", clock),
        allows = service_allows_sql(clock)
    )
}

/// "The resource `r` is readable in this scope": every one for the département; for a school,
/// its own and the département's that reach it.
fn readable_sql(scope: &AdminScope, school: &str) -> String {
    match scope {
        AdminScope::Departement => "1 = 1".to_owned(),
        AdminScope::School(_) => format!(
            "(r.school_id = {school} OR (r.school_id IS NULL AND (NOT EXISTS \
             (SELECT 1 FROM resource_schools x WHERE x.resource_id = r.id) \
             OR EXISTS (SELECT 1 FROM resource_schools x WHERE x.resource_id = r.id \
               AND x.school_id = {school}))))"
        ),
    }
}

/// "The resource `r` may be changed in this scope".
fn editable_sql(scope: &AdminScope, school: &str) -> String {
    match scope {
        AdminScope::Departement => "1 = 1".to_owned(),
        AdminScope::School(_) => format!("r.school_id = {school}"),
    }
}

fn owner_of(row: &AnyRow) -> StoreResult<Option<SchoolRef>> {
    let id: Option<String> = row.try_get("owner_id")?;
    let Some(id) = id else { return Ok(None) };
    Ok(Some(SchoolRef {
        id,
        uai: row.try_get::<Option<String>, _>("owner_uai")?.unwrap_or_default(),
        name: row.try_get::<Option<String>, _>("owner_name")?.unwrap_or_default(),
    }))
}

/// The tags of some resources, as `(resource id, kind, value)`.
type TagRows = Vec<(String, String, String)>;

fn tags_of(rows: &TagRows, id: &str, kind: &str, list: &[(&str, &str)]) -> Vec<String> {
    // In the order of the list, whatever the database's.
    list.iter()
        .filter(|(code, _)| rows.iter().any(|(r, k, v)| r == id && k == kind && v == code))
        .map(|(code, _)| (*code).to_owned())
        .collect()
}

async fn read_tags(
    conn: &mut sqlx::AnyConnection,
    sql: String,
    binds: &[&str],
) -> StoreResult<TagRows> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(*bind);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("resource_id")?, row.try_get("kind")?, row.try_get("value")?)))
        .collect()
}

/// The local date of an instant in a zone, as stored (`YYYY-MM-DD`).
fn local_day(now: i64, zone_name: &str) -> String {
    let zone = crate::timetable::zone(zone_name);
    match jiff::Timestamp::from_second(now) {
        Ok(at) => crate::timetable::local_today(at, &zone).to_string(),
        Err(_) => "1970-01-01".to_owned(),
    }
}

impl Store {
    /// The resources `viewer_id` sees, filtered, by title (then maintaining school).
    pub async fn resources_for(
        &self,
        viewer_id: &str,
        filter: &ResourceFilter,
    ) -> StoreResult<Vec<Tile>> {
        let condition = format!(
            "{} \
             AND ($3 = '' OR r.kind = $3) \
             AND ($4 = '' OR EXISTS (SELECT 1 FROM resource_tags t WHERE t.resource_id = r.id \
               AND t.kind = 'subject' AND t.value = $4)) \
             AND ($5 = '' OR EXISTS (SELECT 1 FROM resource_tags t WHERE t.resource_id = r.id \
               AND t.kind = 'level' AND t.value = $5) \
               OR NOT EXISTS (SELECT 1 FROM resource_tags t WHERE t.resource_id = r.id \
               AND t.kind = 'level')) \
             AND ($6 = 0 OR EXISTS (SELECT 1 FROM resource_tags t WHERE t.resource_id = r.id \
               AND t.kind = 'dys'))",
            visible_sql("$2")
        );
        let clock = membership_clock();
        let binds = |sql: String| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(viewer_id.to_owned())
                .bind(clock.clone())
                .bind(filter.kind.clone())
                .bind(filter.subject.clone())
                .bind(filter.level.clone())
                .bind(i64::from(filter.dys))
        };
        let mut conn = self.pool().acquire().await?;
        let rows = binds(format!(
            "SELECT r.id, r.title, r.description, r.kind, r.service_id, r.school_id AS owner_id, \
             o.uai AS owner_uai, o.name AS owner_name \
             FROM resources r JOIN people p ON p.id = $1 LEFT JOIN schools o ON o.id = r.school_id \
             WHERE {condition} ORDER BY r.title, o.name, r.id"
        ))
        .fetch_all(&mut *conn)
        .await?;
        let tag_rows = binds(format!(
            "SELECT t.resource_id, t.kind, t.value FROM resource_tags t \
             WHERE t.resource_id IN (SELECT r.id FROM resources r JOIN people p ON p.id = $1 \
               WHERE {condition})"
        ))
        .fetch_all(&mut *conn)
        .await?;
        let tags: TagRows = tag_rows
            .iter()
            .map(|row| {
                Ok((row.try_get("resource_id")?, row.try_get("kind")?, row.try_get("value")?))
            })
            .collect::<StoreResult<_>>()?;

        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                Ok(Tile {
                    title: row.try_get("title")?,
                    description: row.try_get("description")?,
                    kind: row.try_get("kind")?,
                    owner: owner_of(row)?,
                    subjects: tags_of(&tags, &id, "subject", &SUBJECTS),
                    levels: tags_of(&tags, &id, "level", &LEVELS),
                    dys: tags_of(&tags, &id, "dys", &DYS_TAGS),
                    signed_on: row.try_get::<Option<String>, _>("service_id")?.is_some(),
                    id,
                })
            })
            .collect()
    }

    /// Opens a resource for a viewer who sees it: when `count` is set, counts one opening for
    /// the resource, the school it belongs to for this viewer (the maintaining school, else the
    /// first of the viewer's schools that it reaches, by UAI; `''` for people of no school) and
    /// the day of `now` in that school's zone; then says where to go. `None` (and nothing
    /// counted) when the viewer does not see it. Who opened it is not written anywhere.
    pub async fn open_resource(
        &self,
        viewer_id: &str,
        resource_id: &str,
        now: i64,
        count: bool,
    ) -> StoreResult<Option<OpenTarget>> {
        let clock = membership_clock();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.url, r.service_id, \
             (SELECT sc.id FROM schools sc WHERE sc.id IN ({schools}) \
               AND (NOT EXISTS (SELECT 1 FROM resource_schools rs WHERE rs.resource_id = r.id) \
                 OR sc.id IN (SELECT rs.school_id FROM resource_schools rs \
                   WHERE rs.resource_id = r.id)) \
               ORDER BY sc.uai, sc.id LIMIT 1) AS school_id \
             FROM resources r JOIN people p ON p.id = $1 WHERE r.id = $3 AND {visible}",
            schools = person_schools_sql("p.id", "$2"),
            visible = visible_sql("$2")
        )))
        .bind(viewer_id)
        .bind(&clock)
        .bind(resource_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let url: String = row.try_get("url")?;
        let service_id: Option<String> = row.try_get("service_id")?;
        let school_id: Option<String> = row.try_get("school_id")?;
        if count {
            self.count_opening(resource_id, &school_id.unwrap_or_default(), now).await?;
        }

        let service = match &service_id {
            Some(id) => self.sso_service(id).await?,
            None => None,
        };
        Ok(Some(match service {
            Some(service) if service.protocol == Protocol::Cas && service.matches(&url) => {
                OpenTarget::Cas(url)
            }
            _ => OpenTarget::Direct(url),
        }))
    }

    /// Adds one to the counter of a resource for a school (`''`: no school) and the day of
    /// `now` in that school's zone.
    async fn count_opening(&self, resource_id: &str, school_id: &str, now: i64) -> StoreResult<()> {
        let zone: Option<String> =
            sqlx::query_scalar("SELECT time_zone FROM schools WHERE id = $1")
                .bind(school_id)
                .fetch_optional(self.pool())
                .await?;
        let day = local_day(now, zone.as_deref().unwrap_or(domain::time_zone::DEFAULT_ZONE));
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO resource_openings (resource_id, school_id, day, openings) \
             VALUES ($1, $2, $3, 1) ON CONFLICT (resource_id, school_id, day) \
             DO UPDATE SET openings = resource_openings.openings + 1",
        )
        .bind(resource_id)
        .bind(school_id)
        .bind(&day)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The resources an administrator sees in a scope, by title: every one for the
    /// département; a school's own and, read-only, the département's that reach the school.
    pub async fn managed_resources(
        &self,
        actor_id: &str,
        scope: &AdminScope,
    ) -> StoreResult<Vec<ResourceLine>> {
        let filter =
            format!("{} AND {}", scope_allows_sql(scope, "$1", "$2"), readable_sql(scope, "$2"));
        let school = scope.school_id().unwrap_or("").to_owned();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.title, r.kind, r.school_id AS owner_id, o.uai AS owner_uai, \
             o.name AS owner_name, s.name AS service_name, \
             CAST(CASE WHEN {} THEN 1 ELSE 0 END AS BIGINT) AS editable \
             FROM resources r LEFT JOIN schools o ON o.id = r.school_id \
             LEFT JOIN sso_services s ON s.id = r.service_id \
             WHERE {filter} ORDER BY r.title, o.name, r.id",
            editable_sql(scope, "$2")
        )))
        .bind(actor_id)
        .bind(&school)
        .fetch_all(self.pool())
        .await?;
        let reach = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT x.resource_id, sc.name FROM resource_schools x \
             JOIN schools sc ON sc.id = x.school_id JOIN resources r ON r.id = x.resource_id \
             WHERE {filter} ORDER BY sc.name, sc.id"
        )))
        .bind(actor_id)
        .bind(&school)
        .fetch_all(self.pool())
        .await?;

        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let mut schools = Vec::new();
            for line in &reach {
                if line.try_get::<String, _>("resource_id")? == id {
                    schools.push(line.try_get("name")?);
                }
            }
            lines.push(ResourceLine {
                title: row.try_get("title")?,
                kind: row.try_get("kind")?,
                owner: owner_of(row)?,
                schools,
                service_name: row.try_get("service_name")?,
                editable: row.try_get::<i64, _>("editable")? != 0,
                id,
            });
        }
        Ok(lines)
    }

    /// One resource as its form shows it, when the scope may read it.
    pub async fn managed_resource(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        resource_id: &str,
    ) -> StoreResult<Option<ManagedResource>> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.title, r.description, r.kind, r.url, r.service_id, \
             r.school_id AS owner_id, o.uai AS owner_uai, o.name AS owner_name, \
             CAST(CASE WHEN {} THEN 1 ELSE 0 END AS BIGINT) AS editable \
             FROM resources r LEFT JOIN schools o ON o.id = r.school_id \
             WHERE r.id = $3 AND {} AND {}",
            editable_sql(scope, "$2"),
            scope_allows_sql(scope, "$1", "$2"),
            readable_sql(scope, "$2")
        )))
        .bind(actor_id)
        .bind(scope.school_id().unwrap_or(""))
        .bind(resource_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };

        let tags = read_tags(
            &mut conn,
            "SELECT resource_id, kind, value FROM resource_tags WHERE resource_id = $1".to_owned(),
            &[resource_id],
        )
        .await?;
        let schools: Vec<String> = sqlx::query_scalar(
            "SELECT x.school_id FROM resource_schools x JOIN schools sc ON sc.id = x.school_id \
             WHERE x.resource_id = $1 ORDER BY sc.name, sc.id",
        )
        .bind(resource_id)
        .fetch_all(&mut *conn)
        .await?;
        let codes: Vec<String> =
            sqlx::query_scalar("SELECT profile FROM resource_profiles WHERE resource_id = $1")
                .bind(resource_id)
                .fetch_all(&mut *conn)
                .await?;
        Ok(Some(ManagedResource {
            id: resource_id.to_owned(),
            resource: NewResource {
                title: row.try_get("title")?,
                description: row.try_get("description")?,
                kind: row.try_get("kind")?,
                url: row.try_get("url")?,
                service_id: row.try_get("service_id")?,
                subjects: tags_of(&tags, resource_id, "subject", &SUBJECTS),
                levels: tags_of(&tags, resource_id, "level", &LEVELS),
                dys: tags_of(&tags, resource_id, "dys", &DYS_TAGS),
                profiles: Profile::ALL
                    .into_iter()
                    .filter(|p| codes.iter().any(|c| c == p.as_str()))
                    .collect(),
                schools,
            },
            owner: owner_of(&row)?,
            editable: row.try_get::<i64, _>("editable")? != 0,
        }))
    }

    /// Adds a resource to the catalogue from a scope (a school's is the school's, for its own
    /// people). Returns its id.
    ///
    /// # Errors
    /// `NotFound` when the actor may not act in the scope; `Conflict` (French) for what
    /// [`check_resource`] refuses, a school the département does not have, or an application
    /// the scope may not use or whose addresses do not include a CAS resource's.
    pub async fn create_resource(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        new: &NewResource,
    ) -> StoreResult<String> {
        let new = scoped(scope, new.clone(), None);
        refuse_unchecked(&new)?;

        let id = new_id();
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        check_binding(&mut tx, scope, &new).await?;
        sqlx::query(
            "INSERT INTO resources (id, school_id, title, description, kind, url, service_id, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(new.school_id.clone())
        .bind(new.fields.title.trim())
        .bind(new.fields.description.trim())
        .bind(&new.fields.kind)
        .bind(new.fields.url.trim())
        .bind(new.fields.service_id.clone())
        .bind(actor_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_links(&mut tx, &id, &new.fields).await?;
        crate::accounts::audit_in(
            &mut tx,
            actor_id,
            "resource_created",
            &id,
            new.fields.title.trim(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, resource.id = %id, "resource created");
        Ok(id)
    }

    /// Changes a resource the scope may edit (its maintaining school never changes).
    ///
    /// # Errors
    /// As [`Store::create_resource`]; `NotFound` when the scope may not edit it.
    pub async fn update_resource(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        resource_id: &str,
        changed: &NewResource,
    ) -> StoreResult<()> {
        refuse_unchecked(&Scoped { school_id: None, fields: changed.clone() })?;
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        let owner: Option<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT r.school_id FROM resources r WHERE r.id = $1 AND {}",
            editable_sql(scope, "$2")
        )))
        .bind(resource_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_optional(&mut *tx)
        .await?;
        let owner = owner.ok_or(StoreError::NotFound)?;
        let changed = scoped(scope, changed.clone(), Some(owner));
        check_binding(&mut tx, scope, &changed).await?;

        sqlx::query(
            "UPDATE resources SET title = $2, description = $3, kind = $4, url = $5, \
             service_id = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(resource_id)
        .bind(changed.fields.title.trim())
        .bind(changed.fields.description.trim())
        .bind(&changed.fields.kind)
        .bind(changed.fields.url.trim())
        .bind(changed.fields.service_id.clone())
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        for table in ["resource_schools", "resource_profiles", "resource_tags"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE resource_id = $1")))
                .bind(resource_id)
                .execute(&mut *tx)
                .await?;
        }
        insert_links(&mut tx, resource_id, &changed.fields).await?;
        crate::accounts::audit_in(
            &mut tx,
            actor_id,
            "resource_updated",
            resource_id,
            changed.fields.title.trim(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, resource.id = %resource_id, "resource changed");
        Ok(())
    }

    /// Deletes a resource the scope may edit, with its counts.
    ///
    /// # Errors
    /// `NotFound` when the scope may not edit it.
    pub async fn delete_resource(
        &self,
        actor_id: &str,
        scope: &AdminScope,
        resource_id: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.check_scope(&mut tx, actor_id, scope).await?;
        let title: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT r.title FROM resources r WHERE r.id = $1 AND {}",
            editable_sql(scope, "$2")
        )))
        .bind(resource_id)
        .bind(scope.school_id().unwrap_or(""))
        .fetch_optional(&mut *tx)
        .await?;
        let title = title.ok_or(StoreError::NotFound)?;
        sqlx::query("DELETE FROM resources WHERE id = $1")
            .bind(resource_id)
            .execute(&mut *tx)
            .await?;
        crate::accounts::audit_in(&mut tx, actor_id, "resource_deleted", resource_id, &title)
            .await?;
        tx.commit().await?;
        tracing::info!(person.id = %actor_id, resource.id = %resource_id, "resource deleted");
        Ok(())
    }

    /// The openings counted between two days (`YYYY-MM-DD`, both included) per resource and
    /// school, for a département administrator (`None` for anyone else): by resource title,
    /// then school name.
    pub async fn opening_stats(
        &self,
        actor_id: &str,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Vec<OpeningLine>>> {
        if !self.may_administer(actor_id, &AdminScope::Departement).await? {
            return Ok(None);
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.title, o.name AS owner_name, ro.school_id, sc.uai, \
             sc.name AS school_name, CAST(SUM(ro.openings) AS BIGINT) AS openings \
             FROM resource_openings ro JOIN resources r ON r.id = ro.resource_id \
             LEFT JOIN schools o ON o.id = r.school_id \
             LEFT JOIN schools sc ON sc.id = ro.school_id \
             WHERE ro.day >= $2 AND ro.day <= $3 AND {} \
             GROUP BY r.id, r.title, o.name, ro.school_id, sc.uai, sc.name \
             ORDER BY r.title, r.id, sc.name, ro.school_id",
            scope_allows_sql(&AdminScope::Departement, "$1", "$1")
        )))
        .bind(actor_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        let lines = rows
            .iter()
            .map(|row| {
                let school_id: String = row.try_get("school_id")?;
                let uai: Option<String> = row.try_get("uai")?;
                let school = match uai {
                    Some(uai) if !school_id.is_empty() => Some(SchoolRef {
                        id: school_id,
                        uai,
                        name: row.try_get::<Option<String>, _>("school_name")?.unwrap_or_default(),
                    }),
                    _ => None,
                };
                Ok(OpeningLine {
                    resource_id: row.try_get("id")?,
                    title: row.try_get("title")?,
                    owner: row.try_get("owner_name")?,
                    school,
                    openings: row.try_get("openings")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(lines))
    }
}

/// A resource as a scope writes it: its maintaining school, and its fields with the school
/// forced for a school's resource.
struct Scoped {
    school_id: Option<String>,
    fields: NewResource,
}

/// The maintaining school and reach a scope gives a resource; `owner` (an update) keeps the
/// stored one.
fn scoped(scope: &AdminScope, mut fields: NewResource, owner: Option<Option<String>>) -> Scoped {
    let school_id = match (owner, scope) {
        (Some(owner), _) => owner,
        (None, AdminScope::Departement) => None,
        (None, AdminScope::School(id)) => Some(id.clone()),
    };
    if let Some(school) = &school_id {
        fields.schools = vec![school.clone()];
        fields.profiles.retain(|p| !p.is_departement());
    }
    fields.schools.sort();
    fields.schools.dedup();
    Scoped { school_id, fields }
}

fn refuse_unchecked(new: &Scoped) -> StoreResult<()> {
    match check_resource(&new.fields).into_iter().next() {
        Some((_, reason)) => Err(StoreError::Conflict(reason)),
        None => Ok(()),
    }
}

/// Checks what needs the database: the schools exist, and the bound application is one the
/// scope may use (a school: its own, or the département's that reach it) and, for CAS, one
/// of its addresses covers the resource's.
async fn check_binding(
    conn: &mut sqlx::AnyConnection,
    scope: &AdminScope,
    new: &Scoped,
) -> StoreResult<()> {
    for school in &new.fields.schools {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM schools WHERE id = $1 AND active = 1",
        )
        .bind(school)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Err(StoreError::Conflict("Un des collèges choisis n'existe pas.".to_owned()));
        }
    }
    let Some(service_id) = &new.fields.service_id else { return Ok(()) };
    let readable = match scope {
        AdminScope::Departement => "1 = 1".to_owned(),
        AdminScope::School(_) => "(s.school_id = $2 OR (s.school_id IS NULL AND (NOT EXISTS \
             (SELECT 1 FROM sso_service_schools x WHERE x.service_id = s.id) \
             OR EXISTS (SELECT 1 FROM sso_service_schools x WHERE x.service_id = s.id \
               AND x.school_id = $2))))"
            .to_owned(),
    };
    let protocol: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT s.protocol FROM sso_services s WHERE s.id = $1 AND {readable}"
    )))
    .bind(service_id)
    .bind(scope.school_id().unwrap_or(""))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(protocol) = protocol else {
        return Err(StoreError::Conflict(
            "L'application choisie n'existe pas ou ne vous est pas ouverte.".to_owned(),
        ));
    };
    if protocol != Protocol::Cas.as_str() {
        return Ok(());
    }
    let urls = sqlx::query(
        "SELECT match_kind, url, origin FROM sso_service_urls WHERE service_id = $1 \
         AND match_kind IN ('exact', 'prefix')",
    )
    .bind(service_id)
    .fetch_all(&mut *conn)
    .await?;
    let url = new.fields.url.trim();
    for row in urls {
        let kind: String = row.try_get("match_kind")?;
        let Some(match_kind) = UrlMatch::parse(&kind) else { continue };
        let registered = domain::sso::RegisteredUrl {
            match_kind,
            url: row.try_get("url")?,
            origin: row.try_get("origin")?,
        };
        if domain::sso::url_matches(&registered, url) {
            return Ok(());
        }
    }
    Err(StoreError::Conflict(
        "L'adresse de la ressource ne correspond à aucune adresse de l'application CAS choisie : \
         la connexion unique ne pourrait pas s'y faire."
            .to_owned(),
    ))
}

async fn insert_links(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    fields: &NewResource,
) -> StoreResult<()> {
    for school in &fields.schools {
        sqlx::query(
            "INSERT INTO resource_schools (resource_id, school_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(school)
        .execute(&mut *conn)
        .await?;
    }
    for profile in &fields.profiles {
        sqlx::query(
            "INSERT INTO resource_profiles (resource_id, profile) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(profile.as_str())
        .execute(&mut *conn)
        .await?;
    }
    let tags = fields
        .subjects
        .iter()
        .map(|v| ("subject", v))
        .chain(fields.levels.iter().map(|v| ("level", v)))
        .chain(fields.dys.iter().map(|v| ("dys", v)));
    for (kind, value) in tags {
        sqlx::query(
            "INSERT INTO resource_tags (resource_id, kind, value) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(kind)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> NewResource {
        NewResource {
            title: "Dictionnaire".to_owned(),
            kind: "dictionnaire".to_owned(),
            url: "https://dictionnaire.example.fr/".to_owned(),
            profiles: vec![Profile::Pupil],
            ..NewResource::default()
        }
    }

    #[test]
    fn a_resource_is_checked_field_by_field() {
        assert!(check_resource(&valid()).is_empty());
        let bad = NewResource {
            title: " ".to_owned(),
            kind: "inconnu".to_owned(),
            url: "http://dictionnaire.example.fr/".to_owned(),
            levels: vec!["2nde".to_owned()],
            profiles: Vec::new(),
            ..valid()
        };
        let fields: Vec<ResourceField> = check_resource(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                ResourceField::Title,
                ResourceField::Kind,
                ResourceField::Url,
                ResourceField::Tags,
                ResourceField::Profiles
            ]
        );
    }

    #[test]
    fn days_are_counted_in_the_schools_zone() {
        // 2026-03-01 23:30 UTC: already 2 March in Paris, still 1 March in Martinique.
        let at = 1_772_407_800;
        assert_eq!(local_day(at, "Europe/Paris"), "2026-03-02");
        assert_eq!(local_day(at, "America/Martinique"), "2026-03-01");
        assert_eq!(local_day(at, "Nowhere/Unknown"), "2026-03-02");
    }
}
