//! The AAF import: reads every AAF file of the folders given, applies them in category order
//! (each file in its own transaction, all or nothing), keeps what points nowhere pending until a
//! later file resolves it, tracks who disappeared from complete full exports and deactivates
//! them after a grace period, and writes a report of everything it did or refused.
//!
//! Each entity stores the canonical JSON of its AAF attributes; a record whose attributes equal
//! the stored ones is unchanged and costs no write, which makes a re-import idempotent and fast.
//! Memory holds one file's records at a time, plus the schools, classes and groups.

mod apply;
mod files;
mod links;
pub(crate) mod sql;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use formats::aaf::{Attributes, Category, Rejection};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use self::apply::{Context, apply_file, category_of_profile};
use self::links::{Linked, Structures, delete_links, write_links};
use self::sql::{Rows, Value, fetch_in};
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// How long after its last sign of life (its start, then the end of each file) an unfinished
/// run stops blocking the next one: its process was killed.
pub const STALE_RUN_SECONDS: i64 = 10 * 60;

/// The largest share of a category's active people (or schools) that one complete export may
/// leave out before the import refuses to take them for missing.
pub const MAX_MISSING_SHARE: f64 = 0.5;

/// How an import treats disappearances and new accounts.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// How long a person or school may be absent from complete full exports before deactivation.
    pub grace_period: Duration,
    /// How long a new activation code stays valid.
    pub activation_validity: Duration,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            grace_period: Duration::from_secs(30 * 24 * 3600),
            activation_validity: Duration::from_secs(120 * 24 * 3600),
        }
    }
}

/// Told about the import's progress (the CLI draws a bar per file).
pub trait ImportProgress: Send + Sync {
    /// The run is claimed and has this id (the one to abandon if the caller is interrupted).
    fn run_started(&self, _run_id: &str) {}
    fn file_started(&self, _file: &str, _records: u64) {}
    fn records_done(&self, _n: u64) {}
    fn file_finished(&self, _file: &str) {}
}

/// Progress nobody watches.
pub struct NoProgress;

impl ImportProgress for NoProgress {}

/// What happened to the records of one category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub deactivated: u64,
    pub rejected: u64,
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub file: String,
    pub records: u64,
    /// Whether the file's records were written (its transaction committed).
    pub written: bool,
    /// Why the file could not be read (French), when it could not.
    pub error: Option<String>,
}

/// A reference that points nowhere yet.
#[derive(Debug, Clone, Serialize)]
pub struct PendingReference {
    pub file: String,
    pub line: u32,
    pub record_id: String,
    /// `school` or `relative`.
    pub kind: String,
    /// The jointure referred to.
    pub target: String,
}

/// Everything an import did and refused.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub run_id: String,
    pub files: Vec<FileOutcome>,
    /// Keyed by `Category::as_str()`.
    pub counts: BTreeMap<String, CategoryCounts>,
    #[serde(serialize_with = "serialize_rejections")]
    pub rejections: Vec<Rejection>,
    /// Still unresolved at the end of the run.
    pub pending: Vec<PendingReference>,
    /// Pending references resolved by this run.
    pub resolved: u64,
    /// French sentences.
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
struct RejectionView<'a> {
    file: &'a str,
    line: u32,
    record_id: &'a str,
    reason: &'a str,
}

fn serialize_rejections<S: serde::Serializer>(
    rejections: &[Rejection],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(rejections.iter().map(|rejection| RejectionView {
        file: &rejection.file,
        line: rejection.line,
        record_id: &rejection.record_id,
        reason: &rejection.reason,
    }))
}

impl ImportReport {
    /// The French summary the CLI prints: one line per category, then every file error,
    /// rejection (file, line, record id, reason) and pending reference.
    pub fn to_french_text(&self) -> String {
        let mut text = format!("Import AAF {}\n", self.run_id);
        for category in Category::IMPORT_ORDER {
            let Some(counts) = self.counts.get(category.as_str()) else { continue };
            let label = files::category_label(category);
            let mut chars = label.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            text.push_str(&format!(
                "{}{} : {} créés, {} modifiés, {} inchangés, {} supprimés, {} désactivés, \
                 {} rejetés\n",
                first.unwrap_or_default(),
                chars.as_str(),
                counts.created,
                counts.updated,
                counts.unchanged,
                counts.deleted,
                counts.deactivated,
                counts.rejected,
            ));
        }
        text.push_str(&format!("Références résolues : {}\n", self.resolved));

        let failed: Vec<&FileOutcome> =
            self.files.iter().filter(|outcome| outcome.error.is_some()).collect();
        if !failed.is_empty() {
            text.push_str("Fichiers non importés :\n");
            for outcome in failed {
                let error = outcome.error.as_deref().unwrap_or_default();
                text.push_str(&format!("  - {} : {error}\n", outcome.file));
            }
        }
        if !self.rejections.is_empty() {
            text.push_str("Enregistrements rejetés :\n");
            for rejection in &self.rejections {
                text.push_str(&format!(
                    "  - {}, ligne {}, enregistrement {} : {}\n",
                    rejection.file, rejection.line, rejection.record_id, rejection.reason
                ));
            }
        }
        if !self.pending.is_empty() {
            text.push_str("Références en attente :\n");
            for pending in &self.pending {
                let what = match pending.kind.as_str() {
                    "school" => "établissement",
                    "relative" => "responsable",
                    other => other,
                };
                text.push_str(&format!(
                    "  - {}, ligne {}, enregistrement {} : {what} {} inconnu\n",
                    pending.file, pending.line, pending.record_id, pending.target
                ));
            }
        }
        if !self.warnings.is_empty() {
            text.push_str("Avertissements :\n");
            for warning in &self.warnings {
                text.push_str(&format!("  - {warning}\n"));
            }
        }
        text
    }

    /// Whether any file failed or any record was rejected (the CLI exits 2 then).
    pub fn has_problems(&self) -> bool {
        self.files.iter().any(|outcome| outcome.error.is_some()) || !self.rejections.is_empty()
    }

    fn counts_mut(&mut self, category: Category) -> &mut CategoryCounts {
        self.counts.entry(category.as_str().to_owned()).or_default()
    }
}

#[cfg(feature = "testing")]
impl Store {
    /// Test support: the pool, so that the import's tests can read the tables they assert on.
    pub fn import_test_pool(&self) -> &sqlx::AnyPool {
        self.pool()
    }
}

/// The people profiles of a category, for the SQL that tracks disappearances.
fn profiles_of(category: Category) -> &'static str {
    match category {
        Category::Staff => "profile IN ('teacher', 'staff')",
        Category::Relative => "profile = 'relative'",
        _ => "profile = 'pupil'",
    }
}

impl Store {
    /// Reads every AAF file in the folders (not recursive), in any order, applies them in
    /// category order, each file in one transaction, then resolves pending references and
    /// deactivates what has been missing longer than the grace period.
    ///
    /// # Errors
    /// Database errors only: unreadable files and refused records go into the report.
    pub async fn import_aaf(
        &self,
        dirs: &[PathBuf],
        options: &ImportOptions,
        progress: &dyn ImportProgress,
    ) -> StoreResult<ImportReport> {
        let run_id = self.claim_import_run().await?;
        progress.run_started(&run_id);

        let outcome = self.run_import(run_id.clone(), dirs, options, progress).await;
        if outcome.is_err() {
            sqlx::query(
                "UPDATE import_runs SET finished_at = $1, report = '{\"interrompu\":true}' \
                 WHERE id = $2 AND finished_at IS NULL",
            )
            .bind(now_unix())
            .bind(&run_id)
            .execute(self.pool())
            .await?;
        }
        outcome
    }

    /// Marks a run as abandoned if it is still unfinished; the CLI calls it when its import is
    /// interrupted (Ctrl-C, SIGTERM), so that the next import need not wait for the run to go
    /// stale. Returns whether the run was still unfinished.
    ///
    /// # Errors
    /// Database errors.
    pub async fn abandon_import_run(&self, run_id: &str) -> StoreResult<bool> {
        let abandoned = sqlx::query(
            "UPDATE import_runs SET finished_at = $1, report = '{\"interrompu\":true}' \
             WHERE id = $2 AND finished_at IS NULL",
        )
        .bind(now_unix())
        .bind(run_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(abandoned == 1)
    }

    /// Starts a run, or refuses when another one is under way: two imports at once would race
    /// for the same logins. A run whose last sign of life is older than [`STALE_RUN_SECONDS`]
    /// died with its process and no longer counts. The partial unique index
    /// `import_runs_one_running` makes the check and the claim one atomic step on both engines.
    async fn claim_import_run(&self) -> StoreResult<String> {
        let now = now_unix();
        sqlx::query(
            "UPDATE import_runs SET finished_at = $1, report = '{\"abandonne\":true}' \
             WHERE finished_at IS NULL AND COALESCE(heartbeat_at, started_at) < $2",
        )
        .bind(now)
        .bind(now - STALE_RUN_SECONDS)
        .execute(self.pool())
        .await?;

        let run_id = new_id();
        let claimed = sqlx::query("INSERT INTO import_runs (id, started_at) VALUES ($1, $2)")
            .bind(&run_id)
            .bind(now)
            .execute(self.pool())
            .await;
        match claimed {
            Ok(_) => Ok(run_id),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(StoreError::Conflict(format!(
                    "une autre importation est en cours : attendez qu'elle se termine (si aucune \
                     ne tourne, la précédente s'est arrêtée brutalement et la place se libère \
                     {} minutes après son dernier signe de vie)",
                    STALE_RUN_SECONDS / 60
                )))
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn run_import(
        &self,
        run_id: String,
        dirs: &[PathBuf],
        options: &ImportOptions,
        progress: &dyn ImportProgress,
    ) -> StoreResult<ImportReport> {
        let mut report = ImportReport { run_id: run_id.clone(), ..ImportReport::default() };
        for category in Category::IMPORT_ORDER {
            report.counts_mut(category);
        }

        let listing = files::list(dirs);
        report.warnings.extend(listing.warnings);
        for (dir, reason) in listing.unreadable {
            report.files.push(FileOutcome {
                file: dir,
                records: 0,
                written: false,
                error: Some(reason),
            });
        }
        let (mut complete, incomplete) = files::full_export_sets(&listing.files);

        let mut structures = {
            let mut conn = self.pool().acquire().await?;
            apply::refresh_statistics(&mut conn).await?;
            Structures::load(&mut conn).await?
        };
        let mut written_since_statistics = 0;
        for found in &listing.files {
            let category = found.name.category;
            let path = found.path.clone();
            let read = tokio::task::spawn_blocking(move || formats::aaf::read_file(&path)).await;
            let aaf = match read {
                Ok(Ok(aaf)) => aaf,
                Ok(Err(error)) => {
                    tracing::warn!(file = %found.file, "fichier AAF illisible");
                    let reason = format!(
                        "ligne {}, colonne {} : {}",
                        error.line, error.column, error.reason
                    );
                    report.files.push(FileOutcome {
                        file: found.file.clone(),
                        records: 0,
                        written: false,
                        error: Some(reason),
                    });
                    if found.name.full && complete.remove(&category) {
                        report.warnings.push(format!(
                            "Export complet des {} inutilisable pour repérer les absents : \
                             le fichier {} n'a pas pu être lu.",
                            files::category_label(category),
                            found.file
                        ));
                    }
                    continue;
                }
                Err(_) => {
                    report.files.push(FileOutcome {
                        file: found.file.clone(),
                        records: 0,
                        written: false,
                        error: Some("lecture du fichier interrompue".to_owned()),
                    });
                    complete.remove(&category);
                    continue;
                }
            };

            let records = u64::try_from(aaf.records.len() + aaf.rejections.len()).unwrap_or(0);
            progress.file_started(&found.file, records);
            let mark_seen = found.name.full && complete.contains(&category);
            let mut tx = self.begin_write().await?;
            let mut context = Context {
                run_id: &run_id,
                now: now_unix(),
                activation_validity: options.activation_validity,
                structures: &mut structures,
                written_since_statistics: &mut written_since_statistics,
            };
            let result =
                apply_file(&mut tx, &mut context, &aaf, &found.file, mark_seen, progress).await?;
            tx.commit().await?;
            drop(aaf);
            tracing::info!(
                file = %found.file,
                created = result.counts.created,
                updated = result.counts.updated,
                unchanged = result.counts.unchanged,
                rejected = result.counts.rejected,
                "fichier AAF importé"
            );

            let counts = report.counts_mut(category);
            counts.created += result.counts.created;
            counts.updated += result.counts.updated;
            counts.unchanged += result.counts.unchanged;
            counts.deleted += result.counts.deleted;
            counts.rejected += result.counts.rejected;
            report.rejections.extend(result.rejections);
            report.files.push(FileOutcome {
                file: found.file.clone(),
                records,
                written: true,
                error: None,
            });
            progress.file_finished(&found.file);
            sqlx::query("UPDATE import_runs SET heartbeat_at = $1 WHERE id = $2")
                .bind(now_unix())
                .bind(&run_id)
                .execute(self.pool())
                .await?;
        }

        for (category, reason) in incomplete {
            report.warnings.push(format!(
                "Export complet des {} incomplet ({reason}) : aucune absence n'est relevée pour \
                 cette catégorie.",
                files::category_label(category),
            ));
        }

        let mut tx = self.begin_write().await?;
        if written_since_statistics > 0 {
            apply::refresh_statistics(&mut tx).await?;
        }
        let now = now_unix();
        track_missing(&mut tx, &run_id, &complete, now, &mut report.warnings).await?;
        deactivate_missing(&mut tx, options.grace_period, now, &mut report).await?;
        report.resolved =
            resolve_pending(&mut tx, &mut structures, now, &mut report.warnings).await?;
        report.pending = pending_references(&mut tx).await?;
        let undated: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM people WHERE profile = 'pupil' AND active = 1 \
             AND birth_date IS NULL",
        )
        .fetch_one(&mut *tx)
        .await?;
        if undated > 0 {
            report.warnings.push(format!(
                "{undated} élève(s) sans date de naissance dans l'export : ils ne peuvent pas \
                 activer leur compte eux-mêmes (un responsable peut leur choisir un mot de passe, \
                 ou l'export suivant corrigera la date)."
            ));
        }
        tx.commit().await?;

        let mut rejections = Rows::new(
            "INSERT INTO import_rejections (run_id, file, line, record_id, reason)",
            5,
            "",
        );
        for rejection in &report.rejections {
            rejections.push([
                Value::from(&run_id),
                Value::from(&rejection.file),
                Value::Int(i64::from(rejection.line)),
                Value::from(&rejection.record_id),
                Value::from(&rejection.reason),
            ]);
        }
        let mut conn = self.pool().acquire().await?;
        apply::refresh_link_statistics(&mut conn).await?;
        if !rejections.is_empty() {
            rejections.execute(&mut conn).await?;
        }
        tracing::info!(
            run = %run_id,
            files = report.files.len(),
            rejected = report.rejections.len(),
            pending = report.pending.len(),
            resolved = report.resolved,
            "import AAF terminé"
        );
        let json = serde_json::to_string(&report).unwrap_or_else(|_| "{}".to_owned());
        sqlx::query("UPDATE import_runs SET finished_at = $1, report = $2 WHERE id = $3")
            .bind(now_unix())
            .bind(json)
            .bind(run_id)
            .execute(&mut *conn)
            .await?;
        Ok(report)
    }
}

/// For each completely exported category: what this run saw is no longer missing, what it did
/// not see is missing from now on (if it was not already).
async fn track_missing(
    conn: &mut AnyConnection,
    run_id: &str,
    complete: &BTreeSet<Category>,
    now: i64,
    warnings: &mut Vec<String>,
) -> StoreResult<()> {
    for category in complete {
        let (seen, unseen) = match category {
            Category::School => (
                "UPDATE schools SET missing_since = NULL \
                 WHERE last_seen_run = $1 AND missing_since IS NOT NULL"
                    .to_owned(),
                "UPDATE schools SET missing_since = $2 WHERE active = 1 AND missing_since IS NULL \
                 AND (last_seen_run IS NULL OR last_seen_run <> $1)"
                    .to_owned(),
            ),
            Category::Staff | Category::Relative | Category::Pupil => {
                let profiles = profiles_of(*category);
                (
                    format!(
                        "UPDATE people SET missing_since = NULL WHERE source = 'aaf' \
                         AND {profiles} AND last_seen_run = $1 AND missing_since IS NOT NULL"
                    ),
                    format!(
                        "UPDATE people SET missing_since = $2 WHERE source = 'aaf' AND {profiles} \
                         AND active = 1 AND missing_since IS NULL \
                         AND (last_seen_run IS NULL OR last_seen_run <> $1)"
                    ),
                )
            }
            Category::Subject | Category::Mef => continue,
        };
        sqlx::query(sqlx::AssertSqlSafe(seen)).bind(run_id.to_owned()).execute(&mut *conn).await?;
        if let Some(warning) = too_many_missing(conn, run_id, *category).await? {
            warnings.push(warning);
            continue;
        }
        sqlx::query(sqlx::AssertSqlSafe(unseen))
            .bind(run_id.to_owned())
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// When a complete export leaves out more than [`MAX_MISSING_SHARE`] of a category's active
/// entities, it is more likely a wrong or partial file than half the département leaving: the
/// French warning that says so, and nobody is taken for missing. A yearly rollover (a quarter
/// of the pupils leave) stays well below it.
async fn too_many_missing(
    conn: &mut AnyConnection,
    run_id: &str,
    category: Category,
) -> StoreResult<Option<String>> {
    let (table, filter) = match category {
        Category::School => ("schools", "1 = 1".to_owned()),
        other => ("people", format!("source = 'aaf' AND {}", profiles_of(other))),
    };
    let active: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE active = 1 AND {filter}"
    )))
    .fetch_one(&mut *conn)
    .await?;
    let unseen: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE active = 1 AND {filter} \
         AND (last_seen_run IS NULL OR last_seen_run <> $1)"
    )))
    .bind(run_id.to_owned())
    .fetch_one(&mut *conn)
    .await?;

    let share = if active == 0 { 0.0 } else { unseen as f64 / active as f64 };
    Ok((unseen > 0 && share > MAX_MISSING_SHARE).then(|| {
        format!(
            "L'export complet des {label} ne mentionne pas {unseen} des {active} {label} actifs : \
             par prudence, personne n'est relevé absent. Vérifiez qu'il s'agit bien de l'export \
             de tout le département.",
            label = files::category_label(category),
        )
    }))
}

/// Deactivates the people and schools missing for longer than the grace period, and ends the
/// people's sessions.
async fn deactivate_missing(
    conn: &mut AnyConnection,
    grace_period: Duration,
    now: i64,
    report: &mut ImportReport,
) -> StoreResult<()> {
    let grace = i64::try_from(grace_period.as_secs()).unwrap_or(i64::MAX / 2);
    let cutoff = now.saturating_sub(grace);
    let deactivated = sqlx::query(
        "UPDATE schools SET active = 0, deactivated_at = $1 \
         WHERE active = 1 AND missing_since IS NOT NULL AND missing_since <= $2",
    )
    .bind(now)
    .bind(cutoff)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    report.counts_mut(Category::School).deactivated += deactivated;

    for category in [Category::Staff, Category::Relative, Category::Pupil] {
        let condition = format!(
            "source = 'aaf' AND {} AND active = 1 AND missing_since IS NOT NULL \
             AND missing_since <= $1",
            profiles_of(category)
        );
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM sessions WHERE person_id IN (SELECT id FROM people WHERE {condition})"
        )))
        .bind(cutoff)
        .execute(&mut *conn)
        .await?;
        let deactivated = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE people SET active = 0, deactivated_at = $2 WHERE {condition}"
        )))
        .bind(cutoff)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if deactivated > 0 {
            tracing::info!(category = category.as_str(), deactivated, "absents désactivés");
        }
        report.counts_mut(category).deactivated += deactivated;
    }
    Ok(())
}

/// A pending reference as stored.
struct PendingRow {
    kind: String,
    target: String,
    file: String,
    line: u32,
    record_id: String,
    created_at: i64,
}

/// Retries, from their stored attributes, the people with a pending reference whose target
/// now exists; returns how many pending references were resolved.
async fn resolve_pending(
    conn: &mut AnyConnection,
    structures: &mut Structures,
    now: i64,
    warnings: &mut Vec<String>,
) -> StoreResult<u64> {
    let candidates: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT pr.person_id FROM pending_references pr WHERE \
         (pr.kind = 'school' AND EXISTS (SELECT 1 FROM schools s WHERE s.jointure = pr.target)) \
         OR (pr.kind = 'relative' AND EXISTS (SELECT 1 FROM people r WHERE r.source = 'aaf' \
         AND r.profile = 'relative' AND r.external_id = pr.target)) ORDER BY pr.person_id",
    )
    .fetch_all(&mut *conn)
    .await?;

    let mut resolved = 0;
    for batch in candidates.chunks(sql::LOOKUP_CHUNK) {
        let mut pending: HashMap<String, Vec<PendingRow>> = HashMap::new();
        let rows = fetch_in(
            conn,
            "SELECT person_id, kind, target, file, line, record_id, created_at \
             FROM pending_references WHERE person_id",
            "",
            &[],
            batch,
        )
        .await?;
        let before = rows.len() as u64;
        for row in rows {
            let line: i64 = row.try_get(4)?;
            pending.entry(row.try_get(0)?).or_default().push(PendingRow {
                kind: row.try_get(1)?,
                target: row.try_get(2)?,
                file: row.try_get(3)?,
                line: u32::try_from(line).unwrap_or(0),
                record_id: row.try_get(5)?,
                created_at: row.try_get(6)?,
            });
        }

        let people = fetch_in(
            conn,
            "SELECT id, external_id, profile, attributes FROM people WHERE id",
            "",
            &[],
            batch,
        )
        .await?;
        let mut entities = Vec::new();
        for row in people {
            let id: String = row.try_get(0)?;
            let external_id: String = row.try_get(1)?;
            let profile: String = row.try_get(2)?;
            let attributes: String = row.try_get(3)?;
            let (Some(category), Some(origin)) =
                (category_of_profile(&profile), pending.get(&id).and_then(|rows| rows.first()))
            else {
                continue;
            };
            let mapped =
                serde_json::from_str::<Attributes>(&attributes).ok().and_then(|attributes| {
                    formats::aaf::map_record(
                        &origin.file,
                        origin.line,
                        category,
                        &external_id,
                        &attributes,
                    )
                    .ok()
                });
            match mapped {
                Some(entity) => entities.push((id, entity, origin.file.clone(), origin.line)),
                None => warnings.push(format!(
                    "Références en attente de l'enregistrement {external_id} non réessayées : \
                     ses attributs enregistrés ne se relisent plus."
                )),
            }
        }

        let ids: Vec<String> = entities.iter().map(|(id, ..)| id.clone()).collect();
        delete_links(conn, &ids).await?;
        let record_ids: Vec<String> = entities
            .iter()
            .map(|(id, ..)| {
                pending.get(id).and_then(|rows| rows.first()).map(|row| row.record_id.clone())
            })
            .map(Option::unwrap_or_default)
            .collect();
        let linked: Vec<Linked<'_>> = entities
            .iter()
            .zip(&record_ids)
            .map(|((id, entity, file, line), record_id)| Linked {
                person_id: id,
                entity,
                file,
                line: *line,
                record_id,
            })
            .collect();
        write_links(conn, structures, &linked, now).await?;

        // Keep, for what is still pending, where it was first seen.
        let mut restore = Rows::new(
            "INSERT INTO pending_references (person_id, kind, target, file, line, record_id, \
             created_at)",
            7,
            "ON CONFLICT (person_id, kind, target) DO UPDATE SET file = excluded.file, \
             line = excluded.line, record_id = excluded.record_id, \
             created_at = excluded.created_at",
        );
        let still = fetch_in(
            conn,
            "SELECT person_id, kind, target FROM pending_references WHERE person_id",
            "",
            &[],
            batch,
        )
        .await?;
        let after = still.len() as u64;
        for row in still {
            let person: String = row.try_get(0)?;
            let kind: String = row.try_get(1)?;
            let target: String = row.try_get(2)?;
            let original = pending
                .get(&person)
                .and_then(|rows| rows.iter().find(|r| r.kind == kind && r.target == target));
            if let Some(original) = original {
                restore.push([
                    Value::from(person),
                    Value::from(kind),
                    Value::from(target),
                    Value::from(&original.file),
                    Value::Int(i64::from(original.line)),
                    Value::from(&original.record_id),
                    Value::Int(original.created_at),
                ]);
            }
        }
        if !restore.is_empty() {
            restore.execute(conn).await?;
        }
        resolved += before.saturating_sub(after);
    }
    if resolved > 0 {
        tracing::info!(resolved, "références en attente résolues");
    }
    Ok(resolved)
}

/// Every pending reference, for the report.
async fn pending_references(conn: &mut AnyConnection) -> StoreResult<Vec<PendingReference>> {
    let rows = sqlx::query(
        "SELECT file, line, record_id, kind, target FROM pending_references \
         ORDER BY file, line, record_id, kind, target",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut pending = Vec::with_capacity(rows.len());
    for row in rows {
        let line: i64 = row.try_get(1)?;
        pending.push(PendingReference {
            file: row.try_get(0)?,
            line: u32::try_from(line).unwrap_or(0),
            record_id: row.try_get(2)?,
            kind: row.try_get(3)?,
            target: row.try_get(4)?,
        });
    }
    Ok(pending)
}
