//! What the school and département consoles read and change, always from the point of view of
//! the acting person: which school they administer (role `school_admin`, function `DIR`, or
//! département administrator), a school's classes with their pupils, legal guardians and
//! account states, the département's own people with their scope, freezing and unfreezing an
//! account (its sessions end at once, an audit entry is written in the same transaction), and
//! the AAF import runs with their stored report and rejections. Every authorization is part of
//! the SQL of these queries.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::directory::{
    PersonRef, SchoolRef, administered_by, current, membership_clock, person_ref,
    school_memberships, school_ref,
};
use crate::{Store, StoreResult, now_unix};

/// "`$1` is a département administrator", for a `WHERE`.
const IS_DEPARTEMENT_ADMIN: &str =
    "EXISTS (SELECT 1 FROM roles adm WHERE adm.person_id = $1 AND adm.role = 'departement_admin')";

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    /// Not activated yet: the person still needs their code.
    Pending,
    /// Activated and usable.
    Activated,
    /// Frozen by an administrator: no login, no session.
    Frozen,
}

impl AccountState {
    fn of(activated_at: Option<i64>, frozen: i64) -> AccountState {
        match (frozen, activated_at) {
            (0, Some(_)) => AccountState::Activated,
            (0, None) => AccountState::Pending,
            _ => AccountState::Frozen,
        }
    }

    /// The French label shown in the consoles.
    pub fn label_fr(self) -> &'static str {
        match self {
            AccountState::Pending => "À activer",
            AccountState::Activated => "Activé",
            AccountState::Frozen => "Gelé",
        }
    }

    /// Whether the account is frozen.
    pub fn is_frozen(self) -> bool {
        self == AccountState::Frozen
    }
}

/// A person in a console list, with their account state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountHolder {
    pub person: PersonRef,
    pub state: AccountState,
}

/// A pupil of a class and their legal guardians.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterPupil {
    pub pupil: AccountHolder,
    pub guardians: Vec<AccountHolder>,
}

/// One class of a school's console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRoster {
    pub code: String,
    pub pupils: Vec<RosterPupil>,
}

/// A school's classes (with pupils and guardians) and its teachers and staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolRoster {
    pub classes: Vec<ClassRoster>,
    pub staff: Vec<AccountHolder>,
}

/// One of the département's own people (agent or official).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPersonRow {
    pub holder: AccountHolder,
    pub login: String,
    pub email: Option<String>,
    pub departement_admin: bool,
    /// The schools of their scope; empty means the whole département.
    pub scope: Vec<SchoolRef>,
}

/// The counts of one category in a stored import report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct RunCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub deactivated: u64,
    pub rejected: u64,
}

/// A file that could not be read in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFileError {
    pub file: String,
    pub error: String,
}

/// One rejected record of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRejection {
    pub file: String,
    pub line: i64,
    pub record_id: String,
    pub reason: String,
}

/// An AAF import run as the département console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRunView {
    pub id: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Per category (`Category::as_str()`), in the report's order.
    pub counts: Vec<(String, RunCounts)>,
    pub file_errors: Vec<RunFileError>,
    pub warnings: Vec<String>,
    pub pending: usize,
    pub resolved: u64,
    /// The first rejections, at most the cap asked.
    pub rejections: Vec<RunRejection>,
    /// How many rejections the run has in all.
    pub rejections_total: i64,
}

/// A page of import runs, most recent first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRunPage {
    pub runs: Vec<ImportRunView>,
    pub has_more: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct StoredReport {
    counts: BTreeMap<String, RunCounts>,
    files: Vec<StoredFile>,
    warnings: Vec<String>,
    pending: Vec<serde_json::Value>,
    resolved: u64,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct StoredFile {
    file: String,
    error: Option<String>,
}

/// The order categories are listed in (the import order).
const CATEGORY_ORDER: [&str; 6] = ["school", "subject", "mef", "staff", "relative", "pupil"];

fn holder(row: &AnyRow) -> StoreResult<AccountHolder> {
    let activated: Option<i64> = row.try_get("activated_at")?;
    let frozen: i64 = row.try_get("frozen")?;
    Ok(AccountHolder { person: person_ref(row)?, state: AccountState::of(activated, frozen) })
}

impl Store {
    /// The active school with this UAI when `actor_id` administers it: a département
    /// administrator, the school's `school_admin`, or a member of its direction (`DIR`).
    pub async fn administered_school(
        &self,
        actor_id: &str,
        uai: &str,
    ) -> StoreResult<Option<SchoolRef>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name FROM schools s \
             WHERE s.uai = $2 AND s.active = 1 AND ({IS_DEPARTEMENT_ADMIN} \
               OR EXISTS (SELECT 1 FROM roles r WHERE r.person_id = $1 \
                 AND r.role = 'school_admin' AND r.school_id = s.id) \
               OR EXISTS (SELECT 1 FROM person_functions f WHERE f.person_id = $1 \
                 AND f.code = 'DIR' AND f.school_id = s.id)) \
             ORDER BY s.id LIMIT 1"
        )))
        .bind(actor_id)
        .bind(uai)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(school_ref).transpose()
    }

    /// The active schools `actor_id` administers by a school role or a direction function (not
    /// through a département role), for the navigation.
    pub async fn administered_schools(&self, actor_id: &str) -> StoreResult<Vec<SchoolRef>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name FROM schools s \
             WHERE s.active = 1 AND s.id IN ({}) ORDER BY s.name, s.id",
            administered_by("$1")
        )))
        .bind(actor_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(school_ref)
        .collect()
    }

    /// Whether the person administers the département.
    pub async fn is_departement_admin(&self, person_id: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(1 AS BIGINT) FROM people p WHERE p.id = $1 AND p.active = 1 \
             AND {IS_DEPARTEMENT_ADMIN}"
        )))
        .bind(person_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// A school's classes with their current pupils and the pupils' legal guardians, and its
    /// teachers and staff, each with their account state. The caller has obtained the school
    /// from [`Store::administered_school`].
    pub async fn school_roster(&self, school: &SchoolRef) -> StoreResult<SchoolRoster> {
        let clock = membership_clock();
        let codes: Vec<String> =
            sqlx::query_scalar("SELECT code FROM classes WHERE school_id = $1 ORDER BY code")
                .bind(&school.id)
                .fetch_all(self.pool())
                .await?;
        let pupils = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.code AS class_code, p.id, p.last_name, p.first_name, p.profile, \
             a.activated_at, a.frozen FROM classes c \
             JOIN pupil_classes pc ON pc.class_id = c.id JOIN people p ON p.id = pc.pupil_id \
             JOIN accounts a ON a.person_id = p.id \
             WHERE c.school_id = $1 AND $2 = $2 AND p.active = 1 AND {} \
             ORDER BY c.code, p.last_name, p.first_name, p.id",
            current("pc")
        )))
        .bind(&school.id)
        .bind(&school.id)
        .bind(&clock)
        .fetch_all(self.pool())
        .await?;
        let guardians = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT pc.pupil_id, r.id, r.last_name, r.first_name, r.profile, \
             a.activated_at, a.frozen FROM classes c \
             JOIN pupil_classes pc ON pc.class_id = c.id \
             JOIN guardianships g ON g.pupil_id = pc.pupil_id AND g.legal IN (1, 2) \
             JOIN people r ON r.id = g.relative_id JOIN accounts a ON a.person_id = r.id \
             WHERE c.school_id = $1 AND $2 = $2 AND r.active = 1 AND {} \
             ORDER BY r.last_name, r.first_name, r.id",
            current("pc")
        )))
        .bind(&school.id)
        .bind(&school.id)
        .bind(&clock)
        .fetch_all(self.pool())
        .await?;

        let mut by_pupil: BTreeMap<String, Vec<AccountHolder>> = BTreeMap::new();
        for row in &guardians {
            let pupil_id: String = row.try_get("pupil_id")?;
            by_pupil.entry(pupil_id).or_default().push(holder(row)?);
        }
        let mut classes: Vec<ClassRoster> =
            codes.into_iter().map(|code| ClassRoster { code, pupils: Vec::new() }).collect();
        for row in &pupils {
            let code: String = row.try_get("class_code")?;
            let pupil = holder(row)?;
            let guardians = by_pupil.get(&pupil.person.id).cloned().unwrap_or_default();
            if let Some(class) = classes.iter_mut().find(|class| class.code == code) {
                class.pupils.push(RosterPupil { pupil, guardians });
            }
        }

        let staff = sqlx::query(
            "SELECT p.id, p.last_name, p.first_name, p.profile, a.activated_at, a.frozen \
             FROM person_schools ps JOIN people p ON p.id = ps.person_id \
             JOIN accounts a ON a.person_id = p.id \
             WHERE ps.school_id = $1 AND p.profile IN ('teacher', 'staff') AND p.active = 1 \
             ORDER BY p.last_name, p.first_name, p.id",
        )
        .bind(&school.id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(holder)
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(SchoolRoster { classes, staff })
    }

    /// Among the people of `school_id`'s console, those who also belong to a school that
    /// `actor_id` does not administer: only the département (or every head together) may
    /// freeze them or give them a new code. Empty for a département administrator.
    pub async fn people_beyond(
        &self,
        actor_id: &str,
        school_id: &str,
    ) -> StoreResult<std::collections::BTreeSet<String>> {
        let memberships = school_memberships(None);
        let administered = administered_by("$1");
        let sql = format!(
            "SELECT DISTINCT here.person_id FROM ({memberships}) here \
             JOIN ({memberships}) there ON there.person_id = here.person_id \
             WHERE here.school_id = $2 AND there.school_id <> $2 \
             AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.person_id = $1 \
               AND r.role = 'departement_admin') \
             AND there.school_id NOT IN ({administered})"
        );
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(actor_id)
            .bind(school_id)
            .fetch_all(self.pool())
            .await?;
        Ok(ids.into_iter().collect())
    }

    /// Every active school of the département, when `actor_id` administers it; `None` else.
    pub async fn departement_schools(&self, actor_id: &str) -> StoreResult<Option<Vec<SchoolRef>>> {
        if !self.is_departement_admin(actor_id).await? {
            return Ok(None);
        }
        let schools = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name FROM schools s \
             WHERE s.active = 1 AND {IS_DEPARTEMENT_ADMIN} ORDER BY s.name, s.id"
        )))
        .bind(actor_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(school_ref)
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(schools))
    }

    /// The département's own active people (agents, officials) with their login, role and
    /// scope, as a département administrator sees them (empty for anyone else).
    pub async fn departement_people(&self, actor_id: &str) -> StoreResult<Vec<LocalPersonRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.id, p.last_name, p.first_name, p.profile, p.email, a.login, \
             a.activated_at, a.frozen, \
             (SELECT COUNT(*) FROM roles r WHERE r.person_id = p.id \
               AND r.role = 'departement_admin') AS admin_roles \
             FROM people p JOIN accounts a ON a.person_id = p.id \
             WHERE p.profile IN ('agent', 'official') AND p.active = 1 \
             AND {IS_DEPARTEMENT_ADMIN} ORDER BY p.last_name, p.first_name, p.id"
        )))
        .bind(actor_id)
        .fetch_all(self.pool())
        .await?;
        let scopes = sqlx::query(
            "SELECT d.person_id, s.id AS school_id, s.uai, s.name AS school_name \
             FROM departement_scopes d JOIN schools s ON s.id = d.school_id \
             JOIN people p ON p.id = d.person_id \
             WHERE p.profile IN ('agent', 'official') ORDER BY s.name, s.id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut by_person: BTreeMap<String, Vec<SchoolRef>> = BTreeMap::new();
        for row in &scopes {
            let person_id: String = row.try_get("person_id")?;
            by_person.entry(person_id).or_default().push(school_ref(row)?);
        }

        let mut people = Vec::with_capacity(rows.len());
        for row in &rows {
            let holder = holder(row)?;
            let admin_roles: i64 = row.try_get("admin_roles")?;
            people.push(LocalPersonRow {
                scope: by_person.get(&holder.person.id).cloned().unwrap_or_default(),
                login: row.try_get("login")?,
                email: row.try_get("email")?,
                departement_admin: admin_roles > 0,
                holder,
            });
        }
        Ok(people)
    }

    /// Freezes or unfreezes the account of `target_id` when `actor_id` may administer them
    /// (see [`Store::administrable_person`]). Freezing ends every session of the person at
    /// once; both write an audit entry, in the same transaction. Returns the person, or `None`
    /// when the actor may not administer them.
    pub async fn set_account_frozen(
        &self,
        actor_id: &str,
        target_id: &str,
        frozen: bool,
    ) -> StoreResult<Option<PersonRef>> {
        let Some(person) = self.administrable_person(actor_id, target_id).await? else {
            return Ok(None);
        };

        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET frozen = $1 WHERE person_id = $2")
            .bind(i64::from(frozen))
            .bind(&person.id)
            .execute(&mut *tx)
            .await?;
        if frozen {
            sqlx::query("DELETE FROM sessions WHERE person_id = $1")
                .bind(&person.id)
                .execute(&mut *tx)
                .await?;
            crate::sso::oidc::revoke_person_grants_in(&mut tx, &person.id, crate::now_unix())
                .await?;
        }
        crate::accounts::audit_in(
            &mut tx,
            actor_id,
            if frozen { "account_frozen" } else { "account_unfrozen" },
            &person.id,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(Some(person))
    }

    /// Removes the second factor of someone the actor administers (a person who lost their
    /// phone and their recovery codes) and ends all their sessions: they enrol a new factor at
    /// their next login. `None` when the actor may not act on them; `Some((person, false))`
    /// when they had no factor.
    pub async fn reset_second_factor(
        &self,
        actor_id: &str,
        target_id: &str,
    ) -> StoreResult<Option<(PersonRef, bool)>> {
        let Some(person) = self.administrable_person(actor_id, target_id).await? else {
            return Ok(None);
        };
        let removed = self.remove_second_factor(actor_id, &person.id, "").await?;
        Ok(Some((person, removed)))
    }

    /// A page of AAF import runs, most recent first, as a département administrator sees them
    /// (empty for anyone else), each with at most `rejection_cap` of its rejections.
    pub async fn import_runs(
        &self,
        actor_id: &str,
        page: u32,
        per_page: u32,
        rejection_cap: u32,
    ) -> StoreResult<ImportRunPage> {
        let per_page = i64::from(per_page.max(1));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, started_at, finished_at, report FROM import_runs \
             WHERE {IS_DEPARTEMENT_ADMIN} ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(actor_id)
        .bind(per_page + 1)
        .bind(i64::from(page) * per_page)
        .fetch_all(self.pool())
        .await?;
        let has_more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > per_page;

        let mut runs = Vec::new();
        for row in rows.iter().take(usize::try_from(per_page).unwrap_or(usize::MAX)) {
            let id: String = row.try_get("id")?;
            let report: String = row.try_get("report")?;
            let report: StoredReport = serde_json::from_str(&report).unwrap_or_default();
            let mut counts: Vec<(String, RunCounts)> = Vec::new();
            let mut stored = report.counts;
            for category in CATEGORY_ORDER {
                if let Some(c) = stored.remove(category) {
                    counts.push((category.to_owned(), c));
                }
            }
            counts.extend(stored);

            let rejections = sqlx::query(
                "SELECT file, line, record_id, reason FROM import_rejections WHERE run_id = $1 \
                 ORDER BY file, line, record_id LIMIT $2",
            )
            .bind(&id)
            .bind(i64::from(rejection_cap))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(RunRejection {
                    file: r.try_get("file")?,
                    line: r.try_get("line")?,
                    record_id: r.try_get("record_id")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
            let rejections_total: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM import_rejections WHERE run_id = $1")
                    .bind(&id)
                    .fetch_one(self.pool())
                    .await?;

            runs.push(ImportRunView {
                started_at: row.try_get("started_at")?,
                finished_at: row.try_get("finished_at")?,
                id,
                counts,
                file_errors: report
                    .files
                    .into_iter()
                    .filter_map(|f| f.error.map(|error| RunFileError { file: f.file, error }))
                    .collect(),
                warnings: report.warnings,
                pending: report.pending.len(),
                resolved: report.resolved,
                rejections,
                rejections_total,
            });
        }
        Ok(ImportRunPage { runs, has_more })
    }
}

/// What a creation form's one-time token says about its submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormSubmission {
    /// First time seen: the caller goes on and then calls `complete_form_submission`.
    New,
    /// Already processed: the id of what it created.
    Done(String),
    /// Another submission of the same form is being processed right now.
    InProgress,
}

/// A département person as shown again after a repeated creation form.
#[derive(Debug, Clone)]
pub struct CreatedLocalAccount {
    pub person: PersonRef,
    pub login: String,
    /// The live activation code, `None` once activated or frozen.
    pub code: Option<String>,
    pub expires_at: Option<i64>,
}

impl Store {
    /// Claims a form's one-time token for `actor_id`, atomically: of two identical submissions
    /// (a reload, a double click) only one is `New`.
    pub async fn claim_form_submission(
        &self,
        actor_id: &str,
        token: &str,
    ) -> StoreResult<FormSubmission> {
        let inserted = sqlx::query(
            "INSERT INTO form_submissions (actor_id, token, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (actor_id, token) DO NOTHING",
        )
        .bind(actor_id)
        .bind(token)
        .bind(now_unix())
        .execute(self.pool())
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(FormSubmission::New);
        }

        let result: Option<Option<String>> = sqlx::query_scalar(
            "SELECT result_id FROM form_submissions WHERE actor_id = $1 AND token = $2",
        )
        .bind(actor_id)
        .bind(token)
        .fetch_optional(self.pool())
        .await?;
        Ok(match result.flatten() {
            Some(id) => FormSubmission::Done(id),
            None => FormSubmission::InProgress,
        })
    }

    /// Records what a claimed submission created.
    pub async fn complete_form_submission(
        &self,
        actor_id: &str,
        token: &str,
        result_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE form_submissions SET result_id = $3 WHERE actor_id = $1 AND token = $2",
        )
        .bind(actor_id)
        .bind(token)
        .bind(result_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets a claimed submission that failed, so that the form can be sent again.
    pub async fn release_form_submission(&self, actor_id: &str, token: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM form_submissions WHERE actor_id = $1 AND token = $2 \
             AND result_id IS NULL",
        )
        .bind(actor_id)
        .bind(token)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A département person with their login and live code, for a département administrator.
    pub async fn created_local_account(
        &self,
        actor_id: &str,
        person_id: &str,
    ) -> StoreResult<Option<CreatedLocalAccount>> {
        let row = sqlx::query(
            "SELECT p.id, p.last_name, p.first_name, p.profile, a.login, \
             a.activation_code, a.activation_expires_at, a.activated_at, a.frozen \
             FROM people p JOIN accounts a ON a.person_id = p.id \
             WHERE p.id = $2 AND p.source = 'local' AND EXISTS (SELECT 1 FROM roles r \
               WHERE r.person_id = $1 AND r.role = 'departement_admin')",
        )
        .bind(actor_id)
        .bind(person_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };

        let activated: Option<i64> = row.try_get("activated_at")?;
        let frozen: i64 = row.try_get("frozen")?;
        let live = activated.is_none() && frozen == 0;
        Ok(Some(CreatedLocalAccount {
            person: person_ref(&row)?,
            login: row.try_get("login")?,
            code: if live { row.try_get("activation_code")? } else { None },
            expires_at: if live { row.try_get("activation_expires_at")? } else { None },
        }))
    }
}
