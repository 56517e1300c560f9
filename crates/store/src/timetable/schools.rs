//! What the timetable pages of one school need besides occurrences: its classes and its
//! teachers for the picker and the change form (the adults of the school and the département
//! only, checked in the SQL), its time zone, and the coordinates of every collège for the
//! département's form. Rooms, the year and the grid are in `views.rs`.
//!
//! These are light lists (ids and labels): no pupil is read, so the picker of a large collège
//! costs two short statements.

use sqlx::Row;

use super::teachers_of_school;
use super::views::{DEPARTEMENT_ADMIN, adult_of, scope_of};
use super::{LessonTeacher, allowed_pairs};
use crate::directory::SchoolRef;
use crate::{Store, StoreError, StoreResult};

/// A school with its coordinates, as the département's form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolPlace {
    pub school: SchoolRef,
    /// `(latitude, longitude)`, if saved.
    pub place: Option<(f64, f64)>,
}

/// "`$1` is an adult of the active school `s`, its administrator, or has the département's
/// view of it", for the lists below.
fn may_list() -> String {
    format!(
        "s.active = 1 AND ({} OR {} OR {DEPARTEMENT_ADMIN})",
        adult_of("s.id"),
        scope_of("s.id")
    )
}

impl Store {
    /// The classes of a school (`(id, code)`, by code) for the adults of that school (teachers,
    /// staff, its administrators) and the département; `NotFound` for anyone else and for an
    /// unknown or inactive school.
    pub async fn school_classes(
        &self,
        viewer_id: &str,
        school_id: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let sql = format!(
            "SELECT k.id, k.code FROM schools s LEFT JOIN classes k ON k.school_id = s.id \
             WHERE s.id = $2 AND {} ORDER BY k.code, k.id",
            may_list()
        );
        allowed_pairs(self, sql, viewer_id, school_id, "code").await
    }

    /// The active teachers of a school (an `ENS` function there, a class or group of the school
    /// taught, or attached with the teacher profile: those `Store::change_occurrence` accepts
    /// as substitutes), by last and first name, for the same viewers as
    /// [`Store::school_classes`]; `NotFound` for anyone else.
    pub async fn school_teachers(
        &self,
        viewer_id: &str,
        school_id: &str,
    ) -> StoreResult<Vec<LessonTeacher>> {
        // The list starts from the school's links (bound to `$2`, not to `s.id`) and joins
        // people by id: see `teachers_of_school`.
        let sql = format!(
            "SELECT p.id, p.first_name || ' ' || p.last_name AS name FROM schools s \
             LEFT JOIN ({}) t ON 1 = 1 \
             LEFT JOIN people p ON p.id = t.person_id AND p.active = 1 \
             WHERE s.id = $2 AND {} ORDER BY p.last_name, p.first_name, p.id",
            teachers_of_school("$2"),
            may_list()
        );
        let pairs = allowed_pairs(self, sql, viewer_id, school_id, "name").await?;
        Ok(pairs.into_iter().map(|(id, label)| LessonTeacher { id, name: label }).collect())
    }

    /// A school's IANA time zone (`Europe/Paris` when the stored name is unknown to the zone
    /// database); `NotFound` for an unknown school. A zone is no one's data: no viewer.
    pub async fn school_zone(&self, school_id: &str) -> StoreResult<String> {
        let name: String = sqlx::query_scalar("SELECT time_zone FROM schools WHERE id = $1")
            .bind(school_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        let known = jiff::tz::TimeZone::get(&name).is_ok();
        Ok(if known { name } else { domain::time_zone::DEFAULT_ZONE.to_owned() })
    }

    /// Every active school with its saved coordinates, by name, for the département's
    /// administrators; `NotFound` for anyone else.
    pub async fn school_places(&self, actor_id: &str) -> StoreResult<Vec<SchoolPlace>> {
        let sql = format!(
            "SELECT s.id, s.uai, s.name, s.latitude, s.longitude FROM people ap \
             LEFT JOIN schools s ON s.active = 1 \
             WHERE ap.id = $1 AND ap.active = 1 AND {DEPARTEMENT_ADMIN} ORDER BY s.name, s.id"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(actor_id).fetch_all(self.pool()).await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        let mut places = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Option<String> = row.try_get("id")?;
            let (Some(id), Some(uai), Some(name)) = (id, row.try_get("uai")?, row.try_get("name")?)
            else {
                continue;
            };
            let latitude: Option<f64> = row.try_get("latitude")?;
            let longitude: Option<f64> = row.try_get("longitude")?;
            places.push(SchoolPlace {
                school: SchoolRef { id, uai, name },
                place: latitude.zip(longitude),
            });
        }
        Ok(places)
    }
}
