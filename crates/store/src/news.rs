//! News of a school or of the département: publishing an item with its targets, the items a
//! person is shown, reading one, acknowledging it ("lu et pris connaissance"), and the author's
//! list with its counts. Every authorization is in the SQL of these queries.
//!
//! **Who may publish.** A school's administrators (role `school_admin` or direction function,
//! see `directory::administered_by`) for the people of their schools; département
//! administrators for every school and the whole département; département agents and
//! officials for the schools of their scope (`departement_scopes`), and the whole département
//! when their scope is the whole département. An item is published in the name of a school
//! (`news.school_id`) when it targets exactly one school that the author administers, else in
//! the name of the département (`''`).
//!
//! **Who is targeted.** The targets are ANDed kinds, each an OR of values: the schools (at
//! least one, or `''` for the whole département), then optionally profiles, levels and classes.
//! A person is targeted when their profile is one of the profiles named (if any) and one of
//! their links to a school matches the schools, the levels and the classes together:
//! - a pupil, through each current class (its school, the class, and the pupil's level:
//!   `people.mef_code` → `mefs.level`), or through a school they are attached to (no class);
//! - a legal guardian (1 or 2), through each current class of each active child, with that
//!   child's level: a parent of a 6e pupil in collège A and of a 3e pupil in collège B is not
//!   targeted by collège A's news for the 3e;
//! - a teacher or a staff member, through the schools they are attached to and the classes
//!   they teach or are principal teacher of; adults have no level, so an item naming levels
//!   never reaches them (name the classes to reach a class's adults);
//! - a département agent or official, only by items for the whole département without levels
//!   or classes.
//!
//! A pupil who left a class (past their exit date, in the school's zone) no longer matches it,
//! nor do their guardians through it. Readers see published items (publication date reached),
//! not expired, not withdrawn, newest first; the author, the administrators of the publishing
//! school and the département administrators see and manage an item in any state.

use std::collections::BTreeSet;

use domain::profile::Profile;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::directory::{
    PersonRef, SchoolRef, administered_by, current_membership, membership_clock, person_ref,
    school_ref,
};
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// The most items a reader's list returns.
pub const NEWS_LIMIT: i64 = 100;
/// The most items the management list returns.
pub const MANAGED_LIMIT: i64 = 100;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most targets of one kind an item may name.
pub const MAX_TARGETS_PER_KIND: usize = 200;

/// The kinds of targets, as stored in `news_targets.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetKind {
    School,
    Profile,
    Level,
    Class,
}

impl TargetKind {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            TargetKind::School => "school",
            TargetKind::Profile => "profile",
            TargetKind::Level => "level",
            TargetKind::Class => "class",
        }
    }

    /// Parses a stored code back.
    pub fn parse(code: &str) -> Option<TargetKind> {
        [TargetKind::School, TargetKind::Profile, TargetKind::Level, TargetKind::Class]
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// Who an item is for (see the module paragraph for the rule).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsTargets {
    /// Every school of the département (then `school_ids` is not needed).
    pub whole_departement: bool,
    pub school_ids: Vec<String>,
    /// Empty: every profile.
    pub profiles: Vec<Profile>,
    /// `mefs.level` values; empty: every level (and the adults).
    pub levels: Vec<String>,
    /// Class ids, each of a targeted school; empty: every class.
    pub class_ids: Vec<String>,
}

/// An uploaded illustration, already checked by content and stored under `storage_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsImage {
    pub storage_key: String,
    pub display_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// The text alternative readers of the page hear ('' when the image only decorates).
    pub alt_text: String,
}

/// What a publisher submits. The body is sanitised by the caller
/// (`formats::rich_text::sanitize`), with its plain-text rendering.
#[derive(Debug, Clone)]
pub struct NewsInput {
    pub title: String,
    pub body_html: String,
    pub body_text: String,
    pub image: Option<NewsImage>,
    /// Unix seconds; the item is shown from then.
    pub publish_at: i64,
    /// Unix seconds; the item is no longer shown from then.
    pub expires_at: Option<i64>,
    pub requires_ack: bool,
    pub targets: NewsTargets,
}

/// An item in a reader's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsSummary {
    pub id: String,
    pub title: String,
    /// The beginning of the plain text.
    pub excerpt: String,
    /// The publishing school's name, or `None` for the département.
    pub origin: Option<String>,
    /// The zone dates are shown in: the publishing school's, the targeted schools' when they
    /// share one, else Europe/Paris.
    pub time_zone: String,
    pub publish_at: i64,
    pub expires_at: Option<i64>,
    pub requires_ack: bool,
    pub acknowledged: bool,
    pub has_image: bool,
}

/// One item as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsView {
    pub id: String,
    pub title: String,
    pub body_html: String,
    pub body_text: String,
    pub author: PersonRef,
    pub origin: Option<String>,
    pub time_zone: String,
    pub publish_at: i64,
    pub expires_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
    pub requires_ack: bool,
    pub has_image: bool,
    pub image_alt: String,
    /// Whether the viewer is among the people targeted by the published item (and so may
    /// acknowledge it when asked to).
    pub targeted: bool,
    pub acknowledged: bool,
    /// Whether the viewer manages the item (author, administrator of the publishing school,
    /// département administrator).
    pub can_manage: bool,
}

/// The stored illustration of an item, for serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNewsImage {
    pub storage_key: String,
    pub content_type: String,
    pub size_bytes: i64,
}

/// One target of an item with a label to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetLabel {
    pub kind: TargetKind,
    pub value: String,
    /// The school's name, the class's code, the level, or the profile code.
    pub label: String,
}

/// An item in the management list, with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedNews {
    pub id: String,
    pub title: String,
    pub author: PersonRef,
    pub origin: Option<String>,
    pub time_zone: String,
    pub publish_at: i64,
    pub expires_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
    pub created_at: i64,
    pub requires_ack: bool,
    pub targets: Vec<TargetLabel>,
    /// The active people the item targets today.
    pub targeted: i64,
    /// Those of them who acknowledged it.
    pub acknowledged: i64,
}

/// A school a publisher may target, with its zone and classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSchool {
    pub school: SchoolRef,
    pub time_zone: String,
    /// `(class id, class code)`, by code.
    pub classes: Vec<(String, String)>,
}

/// What the publication form offers a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// Whether the person may target the whole département.
    pub departement: bool,
    pub schools: Vec<PublishSchool>,
    /// The levels of the MEF catalogue, from 6e to 3e.
    pub levels: Vec<String>,
}

impl PublishOptions {
    /// Whether the person may publish at all.
    pub fn may_publish(&self) -> bool {
        self.departement || !self.schools.is_empty()
    }
}

/// "The person bound to `param` is an active département administrator".
fn departement_admin(param: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM roles r JOIN people rp ON rp.id = r.person_id \
         WHERE r.person_id = {param} AND r.role = 'departement_admin' AND rp.active = 1)"
    )
}

/// The ids of the active schools the person bound to `actor` may publish to.
fn publishable_schools(actor: &str) -> String {
    format!(
        "SELECT s.id FROM schools s WHERE s.active = 1 \
         AND EXISTS (SELECT 1 FROM people a WHERE a.id = {actor} AND a.active = 1) \
         AND (s.id IN ({administered}) OR {admin} \
           OR EXISTS (SELECT 1 FROM departement_scopes d WHERE d.person_id = {actor} \
             AND (d.school_id = '' OR d.school_id = s.id)))",
        administered = administered_by(actor),
        admin = departement_admin(actor),
    )
}

/// "The person bound to `actor` may publish to the whole département".
fn may_publish_departement(actor: &str) -> String {
    format!(
        "({admin} OR EXISTS (SELECT 1 FROM departement_scopes d JOIN people a \
           ON a.id = d.person_id WHERE d.person_id = {actor} AND d.school_id = '' \
           AND a.active = 1))",
        admin = departement_admin(actor),
    )
}

/// "The person bound to `actor` manages the item of alias `n`".
fn manages(actor: &str) -> String {
    format!(
        "(n.author_id = {actor} OR {admin} \
          OR (n.school_id <> '' AND n.school_id IN ({administered})))",
        admin = departement_admin(actor),
        administered = administered_by(actor),
    )
}

/// "The item `news` names no target of `kind`, or names `value`".
fn open_or(news: &str, kind: TargetKind, value: &str) -> String {
    let kind = kind.code();
    format!(
        "(NOT EXISTS (SELECT 1 FROM news_targets t WHERE t.news_id = {news} AND t.kind = '{kind}') \
         OR EXISTS (SELECT 1 FROM news_targets t WHERE t.news_id = {news} AND t.kind = '{kind}' \
           AND t.value = {value}))"
    )
}

/// "The item `news` names no target of `kind`".
fn open(news: &str, kind: TargetKind) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM news_targets t WHERE t.news_id = {news} AND t.kind = '{}')",
        kind.code()
    )
}

/// "The item `news` targets the school `school`" (or the whole département).
fn school_targeted(news: &str, school: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM news_targets t WHERE t.news_id = {news} AND t.kind = 'school' \
         AND (t.value = '' OR t.value = {school}))"
    )
}

/// The people (one column `person_id`) the item `news` reaches through their links, before
/// the profile filter: see the module paragraph. With `person`, every branch is filtered on
/// that person, so that the database reads a few rows rather than the whole département.
fn reached(news: &str, person: Option<&str>, clock: &str) -> String {
    let only = |column: &str| person.map_or(String::new(), |p| format!(" AND {column} = {p}"));
    let current = current_membership("pc", clock);
    let pupil_level = "m.level";
    format!(
        "SELECT pc.pupil_id AS person_id FROM pupil_classes pc \
           JOIN classes c ON c.id = pc.class_id JOIN people k ON k.id = pc.pupil_id \
           LEFT JOIN mefs m ON m.code = k.mef_code \
           WHERE k.active = 1 AND {current} AND {school} AND {level} AND {class}{only_pupil} \
         UNION SELECT g.relative_id AS person_id FROM guardianships g \
           JOIN pupil_classes pc ON pc.pupil_id = g.pupil_id \
           JOIN classes c ON c.id = pc.class_id JOIN people k ON k.id = pc.pupil_id \
           LEFT JOIN mefs m ON m.code = k.mef_code \
           WHERE g.legal IN (1, 2) AND k.active = 1 AND {current} AND {school} AND {level} \
           AND {class}{only_relative} \
         UNION SELECT ps.person_id FROM person_schools ps \
           JOIN people k ON k.id = ps.person_id LEFT JOIN mefs m ON m.code = k.mef_code \
           WHERE {school_ps} AND {attached_level} AND {no_class}{only_attached} \
         UNION SELECT ct.teacher_id AS person_id FROM class_teachers ct \
           JOIN classes c ON c.id = ct.class_id \
           WHERE {school} AND {no_level} AND {class}{only_teacher} \
         UNION SELECT pt.teacher_id AS person_id FROM principal_teachers pt \
           JOIN classes c ON c.id = pt.class_id \
           WHERE {school} AND {no_level} AND {class}{only_principal} \
         UNION SELECT d.person_id FROM departement_scopes d \
           WHERE {whole} AND {no_level} AND {no_class}{only_departement}",
        school = school_targeted(news, "c.school_id"),
        level = open_or(news, TargetKind::Level, pupil_level),
        class = open_or(news, TargetKind::Class, "c.id"),
        school_ps = school_targeted(news, "ps.school_id"),
        attached_level =
            open_or(news, TargetKind::Level, "CASE WHEN k.profile = 'pupil' THEN m.level END"),
        no_level = open(news, TargetKind::Level),
        no_class = open(news, TargetKind::Class),
        whole = school_targeted(news, "''"),
        only_pupil = only("pc.pupil_id"),
        only_relative = only("g.relative_id"),
        only_attached = only("ps.person_id"),
        only_teacher = only("ct.teacher_id"),
        only_principal = only("pt.teacher_id"),
        only_departement = only("d.person_id"),
    )
}

/// "The person bound to `person` is targeted by the item `news`" (active, of a profile
/// named, reached through a link).
fn targeted(person: &str, news: &str, clock: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM people tp WHERE tp.id = {person} AND tp.active = 1 AND {profile}) \
          AND {person} IN ({reached}))",
        profile = open_or(news, TargetKind::Profile, "tp.profile"),
        reached = reached(news, Some(person), clock),
    )
}

/// "The item of alias `n` is shown to readers at the instant bound to `now`".
fn live(now: &str) -> String {
    format!(
        "(n.withdrawn_at IS NULL AND n.publish_at <= {now} \
          AND (n.expires_at IS NULL OR n.expires_at > {now}))"
    )
}

/// The zone of the item of alias `n` (joined to its school as `s`); Europe/Paris
/// (`domain::time_zone::DEFAULT_ZONE`) when its schools do not agree on one.
const ZONE: &str = "COALESCE(s.time_zone, \
    (SELECT CASE WHEN COUNT(DISTINCT zs.time_zone) = 1 THEN MIN(zs.time_zone) END \
     FROM news_targets zt JOIN schools zs ON zs.id = zt.value \
     WHERE zt.news_id = n.id AND zt.kind = 'school'), 'Europe/Paris')";

/// `CAST(1 AS BIGINT)` when `condition` holds, else 0: portable flags in a select list.
fn flag(condition: &str) -> String {
    format!("CASE WHEN {condition} THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END")
}

/// The first characters of a plain text, cut at a word.
fn excerpt(text: &str) -> String {
    const LENGTH: usize = 240;
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= LENGTH {
        return flat;
    }
    let cut: String = flat.chars().take(LENGTH).collect();
    let cut = match cut.rfind(' ') {
        Some(at) if at > LENGTH / 2 => cut[..at].to_owned(),
        _ => cut,
    };
    format!("{cut}…")
}

fn origin(row: &AnyRow) -> StoreResult<Option<String>> {
    let name: String = row.try_get("origin")?;
    Ok(Some(name).filter(|n| !n.is_empty()))
}

/// Checks what a publisher submitted; the reason is French.
fn check_input(input: &NewsInput) -> Result<(), &'static str> {
    let title = input.title.trim();
    if title.is_empty() {
        return Err("Le titre est vide.");
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err("Le titre est trop long.");
    }
    if input.body_text.trim().is_empty() && input.image.is_none() {
        return Err("Le texte de l'actualité est vide.");
    }
    if input.body_html.len() > domain::communication::MAX_BODY_BYTES {
        return Err("Le texte de l'actualité est trop long.");
    }
    if input.expires_at.is_some_and(|expires| expires <= input.publish_at) {
        return Err("La date de fin doit suivre la date de publication.");
    }
    let targets = &input.targets;
    if !targets.whole_departement && targets.school_ids.is_empty() {
        return Err("Choisissez au moins un établissement, ou tout le département.");
    }
    let counts = [
        targets.school_ids.len(),
        targets.profiles.len(),
        targets.levels.len(),
        targets.class_ids.len(),
    ];
    if counts.iter().any(|n| *n > MAX_TARGETS_PER_KIND) {
        return Err("Trop de destinataires sont cochés.");
    }
    Ok(())
}

/// The target rows of an item, deduplicated.
fn target_rows(targets: &NewsTargets) -> BTreeSet<(TargetKind, String)> {
    let mut rows = BTreeSet::new();
    if targets.whole_departement {
        rows.insert((TargetKind::School, String::new()));
    }
    for id in &targets.school_ids {
        rows.insert((TargetKind::School, id.clone()));
    }
    for profile in &targets.profiles {
        rows.insert((TargetKind::Profile, profile.as_str().to_owned()));
    }
    for level in &targets.levels {
        rows.insert((TargetKind::Level, level.clone()));
    }
    for class in &targets.class_ids {
        rows.insert((TargetKind::Class, class.clone()));
    }
    rows
}

impl Store {
    /// The schools, classes and levels `actor_id` may publish to; nothing for a person who may
    /// not publish.
    pub async fn publish_options(&self, actor_id: &str) -> StoreResult<PublishOptions> {
        let departement: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM people WHERE id = $1",
            flag(&may_publish_departement("$1"))
        )))
        .bind(actor_id)
        .fetch_optional(self.pool())
        .await?
        .unwrap_or(0);

        let schools = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name, s.time_zone FROM schools s \
             WHERE s.id IN ({}) ORDER BY s.name, s.id",
            publishable_schools("$1")
        )))
        .bind(actor_id)
        .fetch_all(self.pool())
        .await?;
        let classes = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.code, c.school_id FROM classes c WHERE c.school_id IN ({}) \
             ORDER BY c.code, c.id",
            publishable_schools("$1")
        )))
        .bind(actor_id)
        .fetch_all(self.pool())
        .await?;

        let mut options = PublishOptions { departement: departement == 1, ..Default::default() };
        for row in &schools {
            options.schools.push(PublishSchool {
                school: school_ref(row)?,
                time_zone: row.try_get("time_zone")?,
                classes: Vec::new(),
            });
        }
        for row in &classes {
            let school_id: String = row.try_get("school_id")?;
            if let Some(school) = options.schools.iter_mut().find(|s| s.school.id == school_id) {
                school.classes.push((row.try_get("id")?, row.try_get("code")?));
            }
        }
        if options.may_publish() {
            options.levels = sqlx::query_scalar(
                "SELECT level FROM mefs WHERE level IS NOT NULL AND level <> '' \
                 GROUP BY level ORDER BY MIN(code), level",
            )
            .fetch_all(self.pool())
            .await?;
        }
        Ok(options)
    }

    /// Publishes an item for `actor_id` with its targets, its illustration, an audit entry and
    /// an outbox entry `news_published` (available from the publication date), in one
    /// transaction. Returns the item's id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the actor may not publish to one of the schools, or names
    /// a class outside the targeted schools or an unknown level (nothing is written);
    /// [`StoreError::Conflict`] with a French reason for an invalid item.
    pub async fn publish_news(&self, actor_id: &str, input: &NewsInput) -> StoreResult<String> {
        check_input(input).map_err(|reason| StoreError::Conflict(reason.to_owned()))?;
        let now = now_unix();
        let id = new_id();

        let mut tx = self.begin_write().await?;
        let image_id = match &input.image {
            Some(image) => {
                let image_id = new_id();
                sqlx::query(
                    "INSERT INTO attachments (id, owner_id, display_name, content_type, \
                     size_bytes, sha256, storage_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&image_id)
                .bind(actor_id)
                .bind(&image.display_name)
                .bind(&image.content_type)
                .bind(image.size_bytes)
                .bind(&image.sha256)
                .bind(&image.storage_key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Some(image_id)
            }
            None => None,
        };
        sqlx::query(
            "INSERT INTO news (id, author_id, school_id, title, body_html, body_text, \
             image_attachment_id, image_alt, publish_at, expires_at, requires_ack, created_at, \
             updated_at) VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&id)
        .bind(actor_id)
        .bind(input.title.trim())
        .bind(&input.body_html)
        .bind(&input.body_text)
        .bind(image_id)
        .bind(input.image.as_ref().map_or("", |image| image.alt_text.trim()))
        .bind(input.publish_at)
        .bind(input.expires_at)
        .bind(i64::from(input.requires_ack))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (kind, value) in target_rows(&input.targets) {
            sqlx::query("INSERT INTO news_targets (news_id, kind, value) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(kind.code())
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }

        let refused: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM news_targets t WHERE t.news_id = $2 AND ( \
               (t.kind = 'school' AND t.value = '' AND NOT {departement}) \
               OR (t.kind = 'school' AND t.value <> '' AND t.value NOT IN ({schools})) \
               OR (t.kind = 'class' AND NOT EXISTS (SELECT 1 FROM classes c \
                 WHERE c.id = t.value AND EXISTS (SELECT 1 FROM news_targets ts \
                   WHERE ts.news_id = $2 AND ts.kind = 'school' \
                   AND (ts.value = '' OR ts.value = c.school_id)))) \
               OR (t.kind = 'level' AND NOT EXISTS (SELECT 1 FROM mefs m \
                 WHERE m.level = t.value)))",
            departement = may_publish_departement("$1"),
            schools = publishable_schools("$1"),
        )))
        .bind(actor_id)
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        if refused > 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }

        // In the name of the one school targeted when the author administers it.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE news SET school_id = (SELECT t.value FROM news_targets t \
               WHERE t.news_id = $2 AND t.kind = 'school') \
             WHERE id = $2 AND (SELECT COUNT(*) FROM news_targets t WHERE t.news_id = $2 \
               AND t.kind = 'school') = 1 \
             AND EXISTS (SELECT 1 FROM news_targets t WHERE t.news_id = $2 \
               AND t.kind = 'school' AND t.value IN ({}))",
            administered_by("$1")
        )))
        .bind(actor_id)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO outbox (id, kind, subject_id, created_at, available_at) \
             VALUES ($1, 'news_published', $2, $3, $4)",
        )
        .bind(new_id())
        .bind(&id)
        .bind(now)
        .bind(input.publish_at.max(now))
        .execute(&mut *tx)
        .await?;
        crate::accounts::audit_in(&mut tx, actor_id, "news_published", &id, "").await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The items shown to `viewer_id` at `now`: targeted, published, not expired, not
    /// withdrawn, newest first, at most [`NEWS_LIMIT`], each with whether the viewer
    /// acknowledged it.
    pub async fn news_for(&self, viewer_id: &str, now: i64) -> StoreResult<Vec<NewsSummary>> {
        let sql = format!(
            "SELECT n.id, n.title, n.body_text, n.publish_at, n.expires_at, n.requires_ack, \
             {has_image} AS has_image, COALESCE(s.name, '') AS origin, {ZONE} AS time_zone, \
             {acknowledged} AS acknowledged \
             FROM news n LEFT JOIN schools s ON s.id = n.school_id \
             LEFT JOIN news_acks a ON a.news_id = n.id AND a.person_id = $1 \
             WHERE {live} AND {targeted} \
             ORDER BY n.publish_at DESC, n.id DESC LIMIT $4",
            has_image = flag("n.image_attachment_id IS NOT NULL"),
            acknowledged = flag("a.person_id IS NOT NULL"),
            live = live("$2"),
            targeted = targeted("$1", "n.id", "$3"),
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(now)
            .bind(membership_clock())
            .bind(NEWS_LIMIT)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let body_text: String = row.try_get("body_text")?;
                Ok(NewsSummary {
                    id: row.try_get("id")?,
                    title: row.try_get("title")?,
                    excerpt: excerpt(&body_text),
                    origin: origin(row)?,
                    time_zone: row.try_get("time_zone")?,
                    publish_at: row.try_get("publish_at")?,
                    expires_at: row.try_get("expires_at")?,
                    requires_ack: row.try_get::<i64, _>("requires_ack")? == 1,
                    acknowledged: row.try_get::<i64, _>("acknowledged")? == 1,
                    has_image: row.try_get::<i64, _>("has_image")? == 1,
                })
            })
            .collect()
    }

    /// One item for `viewer_id`: a reader targeted by it while it is shown, or a person who
    /// manages it (in any state).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for anyone else, as for an item that does not exist.
    pub async fn news_item(&self, viewer_id: &str, news_id: &str) -> StoreResult<NewsView> {
        let reader = format!("({} AND {})", live("$3"), targeted("$1", "n.id", "$4"));
        let manager = manages("$1");
        let sql = format!(
            "SELECT n.id AS news_id, n.title, n.body_html, n.body_text, n.publish_at, \
             n.expires_at, n.withdrawn_at, n.requires_ack, n.image_alt, \
             {has_image} AS has_image, COALESCE(s.name, '') AS origin, {ZONE} AS time_zone, \
             {acknowledged} AS acknowledged, {reader_flag} AS targeted, \
             {manager_flag} AS can_manage, \
             au.id, au.last_name, au.first_name, au.profile \
             FROM news n JOIN people au ON au.id = n.author_id \
             LEFT JOIN schools s ON s.id = n.school_id \
             LEFT JOIN news_acks a ON a.news_id = n.id AND a.person_id = $1 \
             WHERE n.id = $2 AND ({reader} OR {manager})",
            has_image = flag("n.image_attachment_id IS NOT NULL"),
            acknowledged = flag("a.person_id IS NOT NULL"),
            reader_flag = flag(&reader),
            manager_flag = flag(&manager),
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(news_id)
            .bind(now_unix())
            .bind(membership_clock())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(NewsView {
            id: row.try_get("news_id")?,
            title: row.try_get("title")?,
            body_html: row.try_get("body_html")?,
            body_text: row.try_get("body_text")?,
            author: person_ref(&row)?,
            origin: origin(&row)?,
            time_zone: row.try_get("time_zone")?,
            publish_at: row.try_get("publish_at")?,
            expires_at: row.try_get("expires_at")?,
            withdrawn_at: row.try_get("withdrawn_at")?,
            requires_ack: row.try_get::<i64, _>("requires_ack")? == 1,
            has_image: row.try_get::<i64, _>("has_image")? == 1,
            image_alt: row.try_get("image_alt")?,
            targeted: row.try_get::<i64, _>("targeted")? == 1,
            acknowledged: row.try_get::<i64, _>("acknowledged")? == 1,
            can_manage: row.try_get::<i64, _>("can_manage")? == 1,
        })
    }

    /// The illustration of an item, for the people who may read the item (as
    /// [`Store::news_item`]).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for anyone else, or when the item has no illustration.
    pub async fn news_image(&self, viewer_id: &str, news_id: &str) -> StoreResult<StoredNewsImage> {
        let sql = format!(
            "SELECT f.storage_key, f.content_type, f.size_bytes FROM news n \
             JOIN attachments f ON f.id = n.image_attachment_id \
             WHERE n.id = $2 AND (({live} AND {targeted}) OR {manager})",
            live = live("$3"),
            targeted = targeted("$1", "n.id", "$4"),
            manager = manages("$1"),
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(news_id)
            .bind(now_unix())
            .bind(membership_clock())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(StoredNewsImage {
            storage_key: row.try_get("storage_key")?,
            content_type: row.try_get("content_type")?,
            size_bytes: row.try_get("size_bytes")?,
        })
    }

    /// Records that `viewer_id` read and acknowledged an item that asks for it. Idempotent:
    /// the first acknowledgement is kept; returns whether this call recorded it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the viewer is targeted by the item, which is shown and
    /// asks for an acknowledgement.
    pub async fn acknowledge(&self, viewer_id: &str, news_id: &str) -> StoreResult<bool> {
        let now = now_unix();
        let sql = format!(
            "SELECT n.id FROM news n WHERE n.id = $2 AND n.requires_ack = 1 AND {live} \
             AND {targeted}",
            live = live("$3"),
            targeted = targeted("$1", "n.id", "$4"),
        );
        let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(news_id)
            .bind(now)
            .bind(membership_clock())
            .fetch_optional(self.pool())
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }

        let inserted = sqlx::query(
            "INSERT INTO news_acks (news_id, person_id, at) VALUES ($1, $2, $3) \
             ON CONFLICT (news_id, person_id) DO NOTHING",
        )
        .bind(news_id)
        .bind(viewer_id)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// The items `actor_id` manages (their own; for a school's administrator, their school's;
    /// for a département administrator, all), most recent first, at most [`MANAGED_LIMIT`],
    /// each with the number of active people it targets today and how many of them
    /// acknowledged it, both counted in SQL.
    pub async fn authored_news(&self, actor_id: &str) -> StoreResult<Vec<ManagedNews>> {
        let sql = format!(
            "SELECT n.id AS news_id, n.title, n.publish_at, n.expires_at, n.withdrawn_at, \
             n.created_at, n.requires_ack, COALESCE(s.name, '') AS origin, {ZONE} AS time_zone, \
             au.id, au.last_name, au.first_name, au.profile \
             FROM news n JOIN people au ON au.id = n.author_id \
             LEFT JOIN schools s ON s.id = n.school_id \
             WHERE {} ORDER BY n.created_at DESC, n.id DESC LIMIT $2",
            manages("$1")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(actor_id)
            .bind(MANAGED_LIMIT)
            .fetch_all(self.pool())
            .await?;

        let count_sql = format!(
            "SELECT COUNT(*) AS targeted, COUNT(a.person_id) AS acknowledged FROM people p \
             LEFT JOIN news_acks a ON a.news_id = $1 AND a.person_id = p.id \
             WHERE p.active = 1 AND {profile} AND p.id IN ({reached})",
            profile = open_or("$1", TargetKind::Profile, "p.profile"),
            reached = reached("$1", None, "$2"),
        );
        let clock = membership_clock();
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("news_id")?;
            let counts = sqlx::query(sqlx::AssertSqlSafe(count_sql.clone()))
                .bind(&id)
                .bind(&clock)
                .fetch_one(self.pool())
                .await?;
            items.push(ManagedNews {
                targets: self.target_labels(&id).await?,
                title: row.try_get("title")?,
                author: person_ref(row)?,
                origin: origin(row)?,
                time_zone: row.try_get("time_zone")?,
                publish_at: row.try_get("publish_at")?,
                expires_at: row.try_get("expires_at")?,
                withdrawn_at: row.try_get("withdrawn_at")?,
                created_at: row.try_get("created_at")?,
                requires_ack: row.try_get::<i64, _>("requires_ack")? == 1,
                targeted: counts.try_get("targeted")?,
                acknowledged: counts.try_get("acknowledged")?,
                id,
            });
        }
        Ok(items)
    }

    /// The active people an item reaches today, by id, for the worker that handles its
    /// `news_published` outbox entry (live badge, e-mail). Empty once the item is withdrawn or
    /// expired. Not a viewer's query: no one's data is shown from it.
    pub async fn news_audience(&self, news_id: &str) -> StoreResult<Vec<String>> {
        let sql = format!(
            "SELECT p.id FROM people p WHERE p.active = 1 AND {profile} \
             AND p.id IN ({reached}) \
             AND EXISTS (SELECT 1 FROM news n WHERE n.id = $1 AND n.withdrawn_at IS NULL \
               AND (n.expires_at IS NULL OR n.expires_at > $3)) \
             ORDER BY p.id",
            profile = open_or("$1", TargetKind::Profile, "p.profile"),
            reached = reached("$1", None, "$2"),
        );
        let ids = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(news_id)
            .bind(membership_clock())
            .bind(now_unix())
            .fetch_all(self.pool())
            .await?;
        Ok(ids)
    }

    /// The targets of an item with their labels, by kind then label.
    async fn target_labels(&self, news_id: &str) -> StoreResult<Vec<TargetLabel>> {
        let rows = sqlx::query(
            "SELECT t.kind, t.value, COALESCE(s.name, c.code, t.value) AS label \
             FROM news_targets t \
             LEFT JOIN schools s ON t.kind = 'school' AND s.id = t.value \
             LEFT JOIN classes c ON t.kind = 'class' AND c.id = t.value \
             WHERE t.news_id = $1",
        )
        .bind(news_id)
        .fetch_all(self.pool())
        .await?;
        let mut labels = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let kind = TargetKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown news target {kind}")))?;
            labels.push(TargetLabel {
                kind,
                value: row.try_get("value")?,
                label: row.try_get("label")?,
            });
        }
        labels.sort_by(|a, b| (a.kind, &a.label).cmp(&(b.kind, &b.label)));
        Ok(labels)
    }

    /// Withdraws an item `actor_id` manages: readers no longer see it; an audit entry is
    /// written in the same transaction. Withdrawing a withdrawn item changes nothing.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the actor does not manage the item.
    pub async fn withdraw_news(&self, actor_id: &str, news_id: &str) -> StoreResult<()> {
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        let managed: Option<Option<i64>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT n.withdrawn_at FROM news n WHERE n.id = $2 AND {}",
            manages("$1")
        )))
        .bind(actor_id)
        .bind(news_id)
        .fetch_optional(&mut *tx)
        .await?;
        match managed {
            None => {
                tx.rollback().await?;
                return Err(StoreError::NotFound);
            }
            Some(Some(_)) => {
                tx.rollback().await?;
                return Ok(());
            }
            Some(None) => {}
        }

        sqlx::query("UPDATE news SET withdrawn_at = $1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(news_id)
            .execute(&mut *tx)
            .await?;
        crate::accounts::audit_in(&mut tx, actor_id, "news_withdrawn", news_id, "").await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_long_texts_at_a_word() {
        assert_eq!(excerpt("  Sortie\n au  musée "), "Sortie au musée");
        let long = "mot ".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.ends_with("mot…"));
        assert!(cut.chars().count() <= 241);
    }

    #[test]
    fn target_rows_are_deduplicated_and_the_whole_departement_is_the_empty_school() {
        let targets = NewsTargets {
            whole_departement: true,
            school_ids: vec!["a".into(), "a".into()],
            profiles: vec![Profile::Relative, Profile::Relative],
            ..NewsTargets::default()
        };
        let rows: Vec<_> = target_rows(&targets).into_iter().collect();
        assert_eq!(
            rows,
            vec![
                (TargetKind::School, String::new()),
                (TargetKind::School, "a".to_owned()),
                (TargetKind::Profile, "relative".to_owned()),
            ]
        );
    }

    #[test]
    fn inputs_without_title_schools_or_with_expiry_first_are_refused() {
        let base = NewsInput {
            title: "Sortie".into(),
            body_html: "<p>Texte</p>".into(),
            body_text: "Texte".into(),
            image: None,
            publish_at: 100,
            expires_at: None,
            requires_ack: false,
            targets: NewsTargets { school_ids: vec!["s".into()], ..NewsTargets::default() },
        };
        assert!(check_input(&base).is_ok());
        assert!(check_input(&NewsInput { title: "  ".into(), ..base.clone() }).is_err());
        assert!(check_input(&NewsInput { expires_at: Some(100), ..base.clone() }).is_err());
        let nowhere = NewsInput { targets: NewsTargets::default(), ..base.clone() };
        assert!(check_input(&nowhere).is_err());
    }
}
