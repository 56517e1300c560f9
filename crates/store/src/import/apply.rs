//! Applying one read AAF file inside the caller's transaction, a batch of records at a time:
//! one lookup of the stored entities per batch, a comparison of each record's canonical
//! attributes with the stored ones (equal means unchanged, nothing written), then multi-row
//! upserts, the links of the people written, their accounts when new, and the deletions.

use std::collections::{HashMap, HashSet};

use formats::aaf::{AafFile, Address, Attributes, Category, Entity, Operation, Rejection};
use sqlx::{AnyConnection, Row};

use super::links::{Linked, Structures, delete_links, write_links};
use super::sql::{Rows, Value, execute_in, fetch_in};
use super::{CategoryCounts, ImportProgress};
use crate::provisioning::{AccountFor, provision_accounts};
use crate::{StoreResult, new_id};

/// How many records are looked up and written together.
const BATCH: usize = 500;

/// How many records are written between two refreshes of PostgreSQL's statistics.
const STATISTICS_EVERY: usize = 4_000;

/// On PostgreSQL, refreshes the planner's statistics of the tables the import looks up by
/// key. A table filled since its last `ANALYZE` looks empty to the planner, which then scans
/// it whole for every `IN (…)` lookup: the import slows down as it grows. Only the key columns
/// are analysed, which keeps it quick. SQLite needs none.
pub(crate) async fn refresh_statistics(conn: &mut AnyConnection) -> StoreResult<()> {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query(
            "ANALYZE people (source, external_id, profile), logins (login), \
             login_counters (base), pending_references (person_id, kind, target)",
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// On PostgreSQL, refreshes the statistics of the tables that link people, once a run is over.
/// The communication rules and every viewer's queries join them; without statistics after a
/// first import, the planner takes them for empty and chooses nested loops that take seconds.
pub(crate) async fn refresh_link_statistics(conn: &mut AnyConnection) -> StoreResult<()> {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query(
            "ANALYZE people, person_schools, person_functions, classes, teaching_groups, \
             pupil_classes, pupil_groups, guardianships, class_teachers, group_teachers, \
             principal_teachers, departement_scopes",
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// What the run gives to each file.
pub(crate) struct Context<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) now: i64,
    pub(crate) activation_validity: std::time::Duration,
    pub(crate) structures: &'a mut Structures,
    /// Records written since PostgreSQL's statistics were last refreshed.
    pub(crate) written_since_statistics: &'a mut usize,
}

/// What applying a file gave, merged into the report once its transaction committed.
#[derive(Debug, Default)]
pub(crate) struct FileResult {
    pub(crate) counts: CategoryCounts,
    pub(crate) rejections: Vec<Rejection>,
    /// School jointure → id of the schools this file created (for the run's cache).
    pub(crate) new_schools: Vec<(String, String)>,
}

/// An entity as stored.
#[derive(Debug)]
struct Stored {
    id: String,
    /// `None` for a person of another source or an unknown profile.
    category: Option<Category>,
    attributes: String,
    active: bool,
}

/// A record to write: its mapped entity and canonical attributes.
struct Write {
    /// The stored id when the entity exists.
    existing: Option<String>,
    record_id: String,
    line: u32,
    json: String,
    entity: Entity,
}

/// The category a stored profile belongs to.
pub(crate) fn category_of_profile(profile: &str) -> Option<Category> {
    match profile {
        "pupil" => Some(Category::Pupil),
        "relative" => Some(Category::Relative),
        "teacher" | "staff" => Some(Category::Staff),
        _ => None,
    }
}

/// The canonical JSON of a record's attributes (keys sorted, values in file order).
pub(crate) fn canonical(attributes: &Attributes) -> String {
    serde_json::to_string(attributes).unwrap_or_default()
}

/// Applies every record of the file. `mark_seen`: the file belongs to a complete full export,
/// so every entity it lists is recorded as seen by this run.
pub(crate) async fn apply_file(
    conn: &mut AnyConnection,
    context: &mut Context<'_>,
    file: &AafFile,
    file_name: &str,
    mark_seen: bool,
    progress: &dyn ImportProgress,
) -> StoreResult<FileResult> {
    let category = file.name.category;
    let mut result = FileResult::default();
    for rejection in &file.rejections {
        result.counts.rejected += 1;
        result.rejections.push(rejection.clone());
    }

    let mut ids_in_file: HashSet<&str> = HashSet::new();
    for batch in file.records.chunks(BATCH) {
        if *context.written_since_statistics >= STATISTICS_EVERY {
            refresh_statistics(conn).await?;
            *context.written_since_statistics = 0;
        }
        let ids: Vec<String> = batch.iter().map(|record| record.id.clone()).collect();
        let stored = lookup(conn, category, &ids).await?;

        let mut writes = Vec::new();
        let mut deletes = Vec::new();
        let mut seen_unwritten = Vec::new();
        for record in batch {
            let reject = |reason: &str| Rejection {
                file: file_name.to_owned(),
                line: record.line,
                record_id: formats::aaf::printable(&record.id),
                reason: reason.to_owned(),
            };
            if !ids_in_file.insert(record.id.as_str()) {
                result.counts.rejected += 1;
                result.rejections.push(reject("identifiant en double dans ce fichier"));
                continue;
            }
            let existing = stored.get(&record.id);
            if let Some(existing) = existing
                && existing.category != Some(category)
            {
                result.counts.rejected += 1;
                result
                    .rejections
                    .push(reject("identifiant déjà utilisé par une entité d'une autre catégorie"));
                continue;
            }

            let attributes = match (record.operation, existing) {
                (Operation::Add, _) => record.attributes.clone(),
                (Operation::Modify, Some(existing)) => {
                    let Ok(mut merged) = serde_json::from_str::<Attributes>(&existing.attributes)
                    else {
                        result.counts.rejected += 1;
                        result.rejections.push(reject("attributs enregistrés illisibles"));
                        continue;
                    };
                    for (name, values) in &record.attributes {
                        merged.insert(name.clone(), values.clone());
                    }
                    merged
                }
                (Operation::Modify, None) => {
                    result.counts.rejected += 1;
                    result.rejections.push(reject("modification d'une entité inconnue"));
                    continue;
                }
                (Operation::Delete, Some(existing)) => {
                    if existing.active {
                        result.counts.deleted += 1;
                        deletes.push(existing.id.clone());
                    } else {
                        result.counts.unchanged += 1;
                    }
                    continue;
                }
                (Operation::Delete, None) => {
                    result.counts.rejected += 1;
                    result.rejections.push(reject("suppression d'une entité inconnue"));
                    continue;
                }
            };

            let json = canonical(&attributes);
            if let Some(existing) = existing
                && existing.active
                && existing.attributes == json
            {
                result.counts.unchanged += 1;
                seen_unwritten.push(existing.id.clone());
                continue;
            }
            match formats::aaf::map_record(
                file_name,
                record.line,
                category,
                &record.id,
                &attributes,
            ) {
                Ok(entity) => writes.push(Write {
                    existing: existing.map(|stored| stored.id.clone()),
                    record_id: formats::aaf::printable(&record.id),
                    line: record.line,
                    json,
                    entity,
                }),
                Err(rejection) => {
                    result.counts.rejected += 1;
                    result.rejections.push(rejection);
                    if let Some(existing) = existing {
                        seen_unwritten.push(existing.id.clone());
                    }
                }
            }
        }

        for write in &writes {
            if write.existing.is_some() {
                result.counts.updated += 1;
            } else {
                result.counts.created += 1;
            }
        }
        *context.written_since_statistics += writes.len();
        let run_mark = mark_seen.then_some(context.run_id);
        match category {
            Category::School => {
                write_schools(conn, context, &writes, run_mark, &mut result).await?;
            }
            Category::Subject | Category::Mef => write_codes(conn, context, &writes).await?,
            Category::Staff | Category::Relative | Category::Pupil => {
                write_people(conn, context, &writes, run_mark, file_name).await?;
            }
        }
        delete(conn, category, &deletes, context.now).await?;
        if let Some(run_id) = run_mark {
            mark(conn, category, &seen_unwritten, run_id).await?;
        }
        progress.records_done(u64::try_from(batch.len()).unwrap_or(u64::MAX));
    }
    Ok(result)
}

/// The stored entities of a batch of ids, by id.
async fn lookup(
    conn: &mut AnyConnection,
    category: Category,
    ids: &[String],
) -> StoreResult<HashMap<String, Stored>> {
    let mut stored = HashMap::with_capacity(ids.len());
    match category {
        Category::School => {
            let rows = fetch_in(
                conn,
                "SELECT jointure, id, attributes, active FROM schools WHERE jointure",
                "",
                &[],
                ids,
            )
            .await?;
            for row in rows {
                let active: i64 = row.try_get(3)?;
                stored.insert(
                    row.try_get(0)?,
                    Stored {
                        id: row.try_get(1)?,
                        category: Some(Category::School),
                        attributes: row.try_get(2)?,
                        active: active != 0,
                    },
                );
            }
        }
        Category::Subject | Category::Mef => {
            let sql = if category == Category::Subject {
                "SELECT code, attributes FROM subjects WHERE code"
            } else {
                "SELECT code, attributes FROM mefs WHERE code"
            };
            for row in fetch_in(conn, sql, "", &[], ids).await? {
                let code: String = row.try_get(0)?;
                stored.insert(
                    code.clone(),
                    Stored {
                        id: code,
                        category: Some(category),
                        attributes: row.try_get(1)?,
                        active: true,
                    },
                );
            }
        }
        Category::Staff | Category::Relative | Category::Pupil => {
            let rows = fetch_in(
                conn,
                "SELECT external_id, id, attributes, active, profile FROM people \
                 WHERE source = 'aaf' AND external_id",
                "",
                &[],
                ids,
            )
            .await?;
            for row in rows {
                let active: i64 = row.try_get(3)?;
                let profile: String = row.try_get(4)?;
                stored.insert(
                    row.try_get(0)?,
                    Stored {
                        id: row.try_get(1)?,
                        category: category_of_profile(&profile),
                        attributes: row.try_get(2)?,
                        active: active != 0,
                    },
                );
            }
        }
    }
    Ok(stored)
}

fn street(address: &Address) -> Option<String> {
    (!address.lines.is_empty()).then(|| address.lines.join("\n"))
}

async fn write_schools(
    conn: &mut AnyConnection,
    context: &mut Context<'_>,
    writes: &[Write],
    run_mark: Option<&str>,
    result: &mut FileResult,
) -> StoreResult<()> {
    let mut rows = Rows::new(
        "INSERT INTO schools (id, jointure, uai, name, kind, contract, siret, street, \
         postal_code, city, phone, email, academy, attributes, active, missing_since, \
         deactivated_at, last_seen_run, created_at, updated_at, time_zone)",
        21,
        "ON CONFLICT (jointure) DO UPDATE SET uai = excluded.uai, name = excluded.name, \
         kind = excluded.kind, contract = excluded.contract, siret = excluded.siret, \
         street = excluded.street, postal_code = excluded.postal_code, city = excluded.city, \
         phone = excluded.phone, email = excluded.email, academy = excluded.academy, \
         attributes = excluded.attributes, active = 1, missing_since = NULL, \
         deactivated_at = NULL, \
         last_seen_run = COALESCE(excluded.last_seen_run, schools.last_seen_run), \
         updated_at = excluded.updated_at",
    );
    for write in writes {
        let Entity::School(school) = &write.entity else { continue };
        let id = write.existing.clone().unwrap_or_else(new_id);
        if write.existing.is_none() {
            result.new_schools.push((write.record_id.clone(), id.clone()));
            context.structures.add_school(
                &write.record_id,
                &id,
                domain::time_zone::zone_for_uai(&school.uai),
            );
        }
        rows.push([
            Value::from(id),
            Value::from(&write.record_id),
            Value::from(&school.uai),
            Value::from(&school.name),
            Value::from(school.kind.clone()),
            Value::from(school.contract.clone()),
            Value::from(school.siret.clone()),
            Value::from(street(&school.address)),
            Value::from(school.address.postal_code.clone()),
            Value::from(school.address.city.clone()),
            Value::from(school.phone.clone()),
            Value::from(school.email.clone()),
            Value::from(school.academy.clone()),
            Value::from(&write.json),
            Value::Int(1),
            Value::NullInt,
            Value::NullInt,
            Value::from(run_mark),
            Value::Int(context.now),
            Value::Int(context.now),
            Value::from(domain::time_zone::zone_for_uai(&school.uai)),
        ]);
    }
    if !rows.is_empty() {
        rows.execute(conn).await?;
    }
    Ok(())
}

async fn write_codes(
    conn: &mut AnyConnection,
    context: &Context<'_>,
    writes: &[Write],
) -> StoreResult<()> {
    let mut subjects = Rows::new(
        "INSERT INTO subjects (code, label, attributes, updated_at)",
        4,
        "ON CONFLICT (code) DO UPDATE SET label = excluded.label, \
         attributes = excluded.attributes, updated_at = excluded.updated_at",
    );
    let mut mefs = Rows::new(
        "INSERT INTO mefs (code, label, level, attributes, updated_at)",
        5,
        "ON CONFLICT (code) DO UPDATE SET label = excluded.label, level = excluded.level, \
         attributes = excluded.attributes, updated_at = excluded.updated_at",
    );
    for write in writes {
        match &write.entity {
            Entity::Subject(subject) => subjects.push([
                Value::from(&write.record_id),
                Value::from(&subject.label),
                Value::from(&write.json),
                Value::Int(context.now),
            ]),
            Entity::Mef(mef) => mefs.push([
                Value::from(&write.record_id),
                Value::from(&mef.label),
                Value::from(mef.level.clone()),
                Value::from(&write.json),
                Value::Int(context.now),
            ]),
            _ => {}
        }
    }
    for rows in [subjects, mefs] {
        if !rows.is_empty() {
            rows.execute(conn).await?;
        }
    }
    Ok(())
}

async fn write_people(
    conn: &mut AnyConnection,
    context: &mut Context<'_>,
    writes: &[Write],
    run_mark: Option<&str>,
    file_name: &str,
) -> StoreResult<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let mut rows = Rows::new(
        "INSERT INTO people (id, source, external_id, profile, last_name, first_name, \
         birth_name, title, birth_date, email, ine, mobile, address_lines, postal_code, city, \
         country, mef_code, mef_label, attributes, active, missing_since, deactivated_at, \
         last_seen_run, created_at, updated_at, search_key)",
        26,
        "ON CONFLICT (source, external_id) DO UPDATE SET profile = excluded.profile, \
         last_name = excluded.last_name, first_name = excluded.first_name, \
         birth_name = excluded.birth_name, title = excluded.title, \
         birth_date = excluded.birth_date, email = excluded.email, ine = excluded.ine, \
         mobile = excluded.mobile, address_lines = excluded.address_lines, \
         postal_code = excluded.postal_code, city = excluded.city, country = excluded.country, \
         mef_code = excluded.mef_code, mef_label = excluded.mef_label, \
         search_key = excluded.search_key, \
         attributes = excluded.attributes, active = 1, missing_since = NULL, \
         deactivated_at = NULL, \
         last_seen_run = COALESCE(excluded.last_seen_run, people.last_seen_run), \
         updated_at = excluded.updated_at",
    );
    let mut ids = Vec::with_capacity(writes.len());
    let mut replaced = Vec::new();
    let mut new_accounts = Vec::new();
    for write in writes {
        let (profile, identity, address, mobile, ine, mef, mef_label) = match &write.entity {
            Entity::Staff(staff) => {
                (staff.profile.as_str(), &staff.identity, None, None, None, None, None)
            }
            Entity::Relative(relative) => (
                "relative",
                &relative.identity,
                Some(&relative.address),
                relative.mobile.clone(),
                None,
                None,
                None,
            ),
            Entity::Pupil(pupil) => (
                "pupil",
                &pupil.identity,
                Some(&pupil.address),
                None,
                pupil.ine.clone(),
                pupil.mef.clone(),
                pupil.mef_label.clone(),
            ),
            _ => continue,
        };
        let id = match &write.existing {
            Some(id) => {
                replaced.push(id.clone());
                id.clone()
            }
            None => {
                let id = new_id();
                new_accounts.push(AccountFor {
                    person_id: id.clone(),
                    first_name: identity.first_name.to_string(),
                    last_name: identity.last_name.to_string(),
                });
                id
            }
        };
        rows.push([
            Value::from(&id),
            Value::from("aaf"),
            Value::from(&write.record_id),
            Value::from(profile),
            Value::from(identity.last_name.to_string()),
            Value::from(identity.first_name.to_string()),
            Value::from(identity.birth_name.as_ref().map(ToString::to_string)),
            Value::from(identity.title.clone()),
            Value::from(identity.birth_date.map(|date| date.to_string())),
            Value::from(identity.email.clone()),
            Value::from(ine),
            Value::from(mobile),
            Value::from(address.and_then(street)),
            Value::from(address.and_then(|a| a.postal_code.clone())),
            Value::from(address.and_then(|a| a.city.clone())),
            Value::from(address.and_then(|a| a.country.clone())),
            Value::from(mef),
            Value::from(mef_label),
            Value::from(&write.json),
            Value::Int(1),
            Value::NullInt,
            Value::NullInt,
            Value::from(run_mark),
            Value::Int(context.now),
            Value::Int(context.now),
            Value::from(domain::names::search_key(
                identity.last_name.as_ref(),
                identity.first_name.as_ref(),
            )),
        ]);
        ids.push((write, id));
    }
    rows.execute(conn).await?;

    delete_links(conn, &replaced).await?;
    let linked: Vec<Linked<'_>> = ids
        .iter()
        .map(|(write, id)| Linked {
            person_id: id,
            entity: &write.entity,
            file: file_name,
            line: write.line,
            record_id: &write.record_id,
        })
        .collect();
    write_links(conn, context.structures, &linked, context.now).await?;

    provision_accounts(conn, &new_accounts, context.activation_validity, context.now).await?;
    Ok(())
}

/// Deactivates deleted people and schools (ending people's sessions), or removes deleted
/// subjects and MEFs.
async fn delete(
    conn: &mut AnyConnection,
    category: Category,
    ids: &[String],
    now: i64,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    match category {
        Category::School => {
            execute_in(
                conn,
                "UPDATE schools SET active = 0, deactivated_at = $1, missing_since = NULL, \
                 updated_at = $2 WHERE id",
                "",
                &[Value::Int(now), Value::Int(now)],
                ids,
            )
            .await?;
        }
        Category::Subject => {
            execute_in(conn, "DELETE FROM subjects WHERE code", "", &[], ids).await?;
        }
        Category::Mef => {
            execute_in(conn, "DELETE FROM mefs WHERE code", "", &[], ids).await?;
        }
        Category::Staff | Category::Relative | Category::Pupil => {
            execute_in(
                conn,
                "UPDATE people SET active = 0, deactivated_at = $1, missing_since = NULL, \
                 updated_at = $2 WHERE id",
                "",
                &[Value::Int(now), Value::Int(now)],
                ids,
            )
            .await?;
            execute_in(conn, "DELETE FROM sessions WHERE person_id", "", &[], ids).await?;
        }
    }
    Ok(())
}

/// Records that a complete full export of this run listed these entities.
async fn mark(
    conn: &mut AnyConnection,
    category: Category,
    ids: &[String],
    run_id: &str,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = match category {
        Category::School => "UPDATE schools SET last_seen_run = $1 WHERE id",
        Category::Staff | Category::Relative | Category::Pupil => {
            "UPDATE people SET last_seen_run = $1 WHERE id"
        }
        Category::Subject | Category::Mef => return Ok(()),
    };
    execute_in(conn, sql, "", &[Value::from(run_id)], ids).await?;
    Ok(())
}
