//! What the personal space reads from the directory, always from the point of view of one
//! person (the viewer): who they are and what they are linked to, the facts of each home page,
//! school figures, and the directory search. Every authorization lives in the SQL `WHERE` of
//! these queries (a parent's child is checked by the guardianship link, a search returns only the
//! people each school's communication rules (`rules`) let the viewer reach), never in a filter
//! applied later.
//!
//! It also owns the one check of "this pupil is in this class now" (`current_membership`), which
//! every module's queries use: a membership ends at the local midnight after its exit date in the
//! school's own zone (`pupil_classes.exit_after`, written by the import, stamped at start-up).

use domain::profile::Profile;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::accounts::paris_date;
use crate::{Store, StoreError, StoreResult, now_unix};

/// A person as lists show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRef {
    pub id: String,
    pub last_name: String,
    pub first_name: String,
    pub profile: Profile,
}

/// A school as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolRef {
    pub id: String,
    pub uai: String,
    pub name: String,
}

/// Who a viewer is and what they are linked to, read once per request.
#[derive(Debug, Clone)]
pub struct ViewerFacts {
    pub person: PersonRef,
    pub login: String,
    pub reading_mode: bool,
    pub schools: Vec<SchoolRef>,
    /// `(school_id, function code)`.
    pub functions: Vec<(String, String)>,
    /// `(role, school_id)`; the school is `''` for `departement_admin`.
    pub roles: Vec<(String, String)>,
    /// The pupil's current classes (`(class id, class code)`).
    pub classes: Vec<(String, String)>,
    /// The relative's children with legal responsibility (1 or 2), active.
    pub children: Vec<PersonRef>,
    /// The schools the person administers by a school role or a direction function.
    pub administered: Vec<SchoolRef>,
    /// Whether the person administers the département.
    pub departement_admin: bool,
}

/// A teacher of a pupil and what they teach them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherOf {
    pub teacher: PersonRef,
    pub subjects: Vec<String>,
}

/// What a pupil's home (or their parent's view of them) shows.
#[derive(Debug, Clone)]
pub struct PupilCard {
    pub pupil: PersonRef,
    pub school: Option<SchoolRef>,
    pub class_code: Option<String>,
    pub groups: Vec<String>,
    pub teachers: Vec<TeacherOf>,
    pub principals: Vec<PersonRef>,
}

/// A class or group a teacher teaches, with subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teaching {
    pub code: String,
    pub is_group: bool,
    pub subjects: Vec<String>,
}

/// One school where a teacher teaches.
#[derive(Debug, Clone)]
pub struct TeachingPlace {
    pub school: SchoolRef,
    pub teachings: Vec<Teaching>,
}

/// A class's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFigures {
    pub code: String,
    pub pupils: i64,
    pub activated: i64,
}

/// A school's figures.
#[derive(Debug, Clone)]
pub struct SchoolFigures {
    pub school: SchoolRef,
    pub pupils: i64,
    pub classes: Vec<ClassFigures>,
}

/// The most results a directory search returns.
pub const SEARCH_LIMIT: i64 = 50;

/// Who belongs to which school, as one `(person_id, school_id)` relation: people attached to
/// it, pupils of its classes, and the legal guardians (1 or 2) of those pupils. Administration
/// and the password block list read a person's schools from it. With `person` (a bound
/// parameter such as `$2`), each branch is filtered on that person, so that the database reads
/// a few rows rather than the whole département.
pub(crate) fn school_memberships(person: Option<&str>) -> String {
    let only = |column: &str| person.map_or(String::new(), |p| format!(" AND {column} = {p}"));
    format!(
        "SELECT person_id, school_id FROM person_schools WHERE 1 = 1{} \
         UNION SELECT pc.pupil_id, c.school_id FROM pupil_classes pc \
           JOIN classes c ON c.id = pc.class_id WHERE 1 = 1{} \
         UNION SELECT g.relative_id, c.school_id FROM guardianships g \
           JOIN pupil_classes pc ON pc.pupil_id = g.pupil_id \
           JOIN classes c ON c.id = pc.class_id WHERE g.legal IN (1, 2){}",
        only("person_id"),
        only("pc.pupil_id"),
        only("g.relative_id")
    )
}

/// The schools that the person bound to `param` (e.g. `$1`) administers by a school role or a
/// direction function, as a subquery of `school_id`s.
pub(crate) fn administered_by(param: &str) -> String {
    format!(
        "SELECT school_id FROM roles WHERE person_id = {param} AND role = 'school_admin' \
         UNION SELECT school_id FROM person_functions WHERE person_id = {param} AND code = 'DIR'"
    )
}

/// "The pupil is in this class now" for a `pupil_classes` alias; `$3` is bound to
/// [`membership_clock`].
pub(crate) fn current(alias: &str) -> String {
    current_membership(alias, "$3")
}

/// "The pupil is in this class now" for the `pupil_classes` alias `alias`, `clock` being the
/// placeholder bound to [`membership_clock`] (or [`membership_clock_at`]). Every membership check
/// of the store is this fragment.
///
/// A membership without an exit date holds. One with an exit date holds until `exit_after`, the
/// local midnight after the exit date in the school's zone ([`membership_end`]), which the import
/// writes and the start-up stamps ([`Store::stamp_membership_ends`]); a row written by hand has no
/// `exit_after` yet, and holds while its exit date is today or later in Paris. The entry date is
/// not checked: a membership counts from the export that lists it, as the rules' test model says.
pub fn current_membership(alias: &str, clock: &str) -> String {
    format!(
        "({alias}.exit_date IS NULL OR {alias}.exit_date = '' \
         OR {alias}.exit_after > CAST(SUBSTR({clock}, 12) AS BIGINT) \
         OR ({alias}.exit_after IS NULL AND {alias}.exit_date >= SUBSTR({clock}, 1, 10)))"
    )
}

/// The clock a membership is checked against, as one text bound where the queries bound today's
/// date before: today in Paris (`YYYY-MM-DD`, for rows written by hand), a space, and the Unix
/// second `now`. One parameter keeps every query's numbering.
pub fn membership_clock_at(now: i64) -> String {
    let paris = paris_date(now).unwrap_or_else(|| "0000-01-01".to_owned());
    format!("{paris} {now}")
}

/// [`membership_clock_at`] now.
pub(crate) fn membership_clock() -> String {
    membership_clock_at(now_unix())
}

/// The Unix second at which a membership whose last day is `exit_date` ends: the local midnight
/// that starts the next day in `zone` (the first instant of that day when a change of offset
/// skips midnight). `None` only for a date at the end of the calendar.
pub fn membership_end(exit_date: Date, zone: &TimeZone) -> Option<i64> {
    let next = exit_date.tomorrow().ok()?;
    let start =
        zone.to_ambiguous_timestamp(next.to_datetime(Time::midnight())).compatible().ok()?;
    Some(start.as_second())
}

/// [`membership_end`] of a stored `YYYY-MM-DD` exit date in the zone named `zone_name` (an
/// unknown name means Paris, as for lessons); `None` for an empty or unreadable date.
pub(crate) fn stored_membership_end(exit_date: &str, zone_name: &str) -> Option<i64> {
    let date: Date = exit_date.parse().ok()?;
    membership_end(date, &crate::timetable::zone(zone_name))
}

pub(crate) fn person_ref(row: &AnyRow) -> StoreResult<PersonRef> {
    let profile: String = row.try_get("profile")?;
    Ok(PersonRef {
        id: row.try_get("id")?,
        last_name: row.try_get("last_name")?,
        first_name: row.try_get("first_name")?,
        profile: Profile::parse(&profile)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown profile {profile}")))?,
    })
}

pub(crate) fn school_ref(row: &AnyRow) -> StoreResult<SchoolRef> {
    Ok(SchoolRef {
        id: row.try_get("school_id")?,
        uai: row.try_get("uai")?,
        name: row.try_get("school_name")?,
    })
}

/// Folds a typed search like [`domain::names::search_key`], escapes it for
/// `LIKE … ESCAPE '\'` and wraps it in `%`.
fn like_pattern(query: &str) -> String {
    let mut pattern = String::from("%");
    for c in domain::names::fold_for_search(query).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Stamps `exit_after` ([`membership_end`] in the school's zone) on the memberships that
    /// have an exit date but no stamp: rows from before the column, or written by hand. Run at
    /// start-up; a second run finds nothing to do. One statement per distinct exit date and
    /// zone, which are few whatever the number of pupils. Returns how many rows were stamped.
    pub async fn stamp_membership_ends(&self) -> StoreResult<u64> {
        let pending = sqlx::query(
            "SELECT DISTINCT pc.exit_date, s.time_zone FROM pupil_classes pc \
             JOIN classes c ON c.id = pc.class_id JOIN schools s ON s.id = c.school_id \
             WHERE pc.exit_after IS NULL AND pc.exit_date IS NOT NULL AND pc.exit_date <> '' \
             ORDER BY 1, 2",
        )
        .fetch_all(self.pool())
        .await?;
        if pending.is_empty() {
            return Ok(0);
        }

        let mut tx = self.begin_write().await?;
        let mut stamped = 0;
        for row in &pending {
            let exit_date: String = row.try_get(0)?;
            let zone_name: String = row.try_get(1)?;
            // An unreadable date keeps the Paris comparison of hand-written rows.
            let Some(end) = stored_membership_end(&exit_date, &zone_name) else { continue };
            stamped += sqlx::query(
                "UPDATE pupil_classes SET exit_after = $1 \
                 WHERE exit_after IS NULL AND exit_date = $2 AND class_id IN ( \
                   SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id \
                   WHERE s.time_zone = $3)",
            )
            .bind(end)
            .bind(&exit_date)
            .bind(&zone_name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        if stamped > 0 {
            tracing::info!(stamped, "fins d'appartenance aux classes datées");
        }
        Ok(stamped)
    }

    /// [`Store::viewer_facts`], kept in memory under `generations` (`cache`): read again only
    /// when the directory changed or a class membership started or stopped counting.
    pub async fn viewer_facts_kept(
        &self,
        person_id: &str,
        generations: crate::cache::Generations,
    ) -> StoreResult<Option<ViewerFacts>> {
        let stamp =
            crate::cache::Generations { directory: generations.directory, ..Default::default() };
        if let Some(facts) = self.caches.viewer_facts.get(person_id, stamp, now_unix()) {
            return Ok(Some(facts.as_ref().clone()));
        }

        let until = self.kept_until(generations).await?;
        let Some(facts) = self.viewer_facts(person_id).await? else { return Ok(None) };
        self.caches.viewer_facts.put(
            person_id.to_owned(),
            stamp,
            until,
            std::sync::Arc::new(facts.clone()),
        );
        Ok(Some(facts))
    }

    /// Who the person is and their links; `None` when the person is unknown or inactive.
    pub async fn viewer_facts(&self, person_id: &str) -> StoreResult<Option<ViewerFacts>> {
        let row = sqlx::query(
            "SELECT p.id, p.last_name, p.first_name, p.profile, a.login, \
             COALESCE(pr.reading_mode, 0) AS reading_mode FROM people p \
             JOIN accounts a ON a.person_id = p.id \
             LEFT JOIN preferences pr ON pr.person_id = p.id WHERE p.id = $1 AND p.active = 1",
        )
        .bind(person_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let person = person_ref(&row)?;
        let login: String = row.try_get("login")?;
        let reading_mode: i64 = row.try_get("reading_mode")?;

        // Every list in one statement, each row tagged with its list and its rank there.
        let lists = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT 'schools' AS list, s.id AS a, s.uai AS b, s.name AS c, '' AS d, \
               ROW_NUMBER() OVER (ORDER BY s.name, s.id) AS rank FROM schools s \
               WHERE s.active = 1 AND s.id IN ( \
                 SELECT school_id FROM person_schools WHERE person_id = $1 \
                 UNION SELECT c.school_id FROM pupil_classes pc \
                   JOIN classes c ON c.id = pc.class_id WHERE pc.pupil_id = $1 AND {} \
                 UNION SELECT c.school_id FROM class_teachers ct \
                   JOIN classes c ON c.id = ct.class_id WHERE ct.teacher_id = $1) \
             UNION ALL SELECT 'functions', school_id, code, '', '', \
               ROW_NUMBER() OVER (ORDER BY code) FROM person_functions WHERE person_id = $1 \
             UNION ALL SELECT 'roles', role, school_id, '', '', \
               ROW_NUMBER() OVER (ORDER BY role, school_id) FROM roles WHERE person_id = $1 \
             UNION ALL SELECT 'classes', c.id, c.code, '', '', \
               ROW_NUMBER() OVER (ORDER BY c.code) FROM pupil_classes pc \
               JOIN classes c ON c.id = pc.class_id WHERE pc.pupil_id = $1 AND {} \
             UNION ALL SELECT 'children', c.id, c.last_name, c.first_name, c.profile, \
               ROW_NUMBER() OVER (ORDER BY c.first_name, c.last_name, c.id) \
               FROM guardianships g JOIN people c ON c.id = g.pupil_id \
               WHERE g.relative_id = $1 AND g.legal IN (1, 2) AND c.active = 1 \
             UNION ALL SELECT 'administered', s.id, s.uai, s.name, '', \
               ROW_NUMBER() OVER (ORDER BY s.name, s.id) FROM schools s \
               WHERE s.active = 1 AND s.id IN ({}) \
             ORDER BY 1, 6",
            current_membership("pc", "$2"),
            current_membership("pc", "$2"),
            administered_by("$1")
        )))
        .bind(person_id)
        .bind(membership_clock())
        .fetch_all(self.pool())
        .await?;

        let mut schools = Vec::new();
        let mut functions = Vec::new();
        let mut roles = Vec::new();
        let mut classes = Vec::new();
        let mut children = Vec::new();
        let mut administered = Vec::new();
        for row in &lists {
            let list: String = row.try_get("list")?;
            let a: String = row.try_get("a")?;
            let b: String = row.try_get("b")?;
            let c: String = row.try_get("c")?;
            match list.as_str() {
                "schools" => schools.push(SchoolRef { id: a, uai: b, name: c }),
                "administered" => administered.push(SchoolRef { id: a, uai: b, name: c }),
                "functions" => functions.push((a, b)),
                "roles" => roles.push((a, b)),
                "classes" => classes.push((a, b)),
                _ => {
                    let profile: String = row.try_get("d")?;
                    children.push(PersonRef {
                        id: a,
                        last_name: b,
                        first_name: c,
                        profile: Profile::parse(&profile).ok_or_else(|| {
                            StoreError::Corrupt(format!("unknown profile {profile}"))
                        })?,
                    });
                }
            }
        }
        let departement_admin = roles.iter().any(|(role, _)| role == "departement_admin");
        Ok(Some(ViewerFacts {
            person,
            login,
            reading_mode: reading_mode == 1,
            schools,
            functions,
            roles,
            classes,
            children,
            administered,
            departement_admin,
        }))
    }

    /// The relative's children: legal responsibility 1 or 2, active.
    pub async fn children_of(&self, relative_id: &str) -> StoreResult<Vec<PersonRef>> {
        sqlx::query(
            "SELECT c.id, c.last_name, c.first_name, c.profile FROM guardianships g \
             JOIN people c ON c.id = g.pupil_id \
             WHERE g.relative_id = $1 AND g.legal IN (1, 2) AND c.active = 1 \
             ORDER BY c.first_name, c.last_name, c.id",
        )
        .bind(relative_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(person_ref)
        .collect()
    }

    /// The child `child_id` of `relative_id`, only when the relative is their legal guardian
    /// (1 or 2) and the child is active; `None` for anyone else.
    pub async fn child_of(
        &self,
        relative_id: &str,
        child_id: &str,
    ) -> StoreResult<Option<PersonRef>> {
        let row = sqlx::query(
            "SELECT c.id, c.last_name, c.first_name, c.profile FROM guardianships g \
             JOIN people c ON c.id = g.pupil_id \
             WHERE g.relative_id = $1 AND g.pupil_id = $2 AND g.legal IN (1, 2) \
             AND c.active = 1 AND c.profile = 'pupil'",
        )
        .bind(relative_id)
        .bind(child_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(person_ref).transpose()
    }

    /// A pupil's school, class, groups, teachers and principal teachers. The caller has
    /// already established that the viewer may see this pupil (themselves, or their child
    /// through [`Store::child_of`]).
    pub async fn pupil_card(&self, pupil: &PersonRef) -> StoreResult<PupilCard> {
        let clock = membership_clock();
        let place = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.code, s.id AS school_id, s.uai, s.name AS school_name \
             FROM pupil_classes pc JOIN classes c ON c.id = pc.class_id \
             JOIN schools s ON s.id = c.school_id \
             WHERE pc.pupil_id = $1 AND $2 = $2 AND s.active = 1 AND {} ORDER BY c.code",
            current("pc")
        )))
        .bind(&pupil.id)
        .bind(&pupil.id)
        .bind(&clock)
        .fetch_optional(self.pool())
        .await?;
        let (school, class_code) = match &place {
            Some(row) => (Some(school_ref(row)?), Some(row.try_get("code")?)),
            None => (None, None),
        };

        let groups: Vec<String> = sqlx::query_scalar(
            "SELECT g.code FROM pupil_groups pg JOIN teaching_groups g ON g.id = pg.group_id \
             WHERE pg.pupil_id = $1 ORDER BY g.code",
        )
        .bind(&pupil.id)
        .fetch_all(self.pool())
        .await?;

        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT t.id, t.last_name, t.first_name, t.profile, \
               COALESCE(sub.label, ct.subject_code) AS subject \
             FROM class_teachers ct JOIN people t ON t.id = ct.teacher_id \
             LEFT JOIN subjects sub ON sub.code = ct.subject_code \
             WHERE t.active = 1 AND ct.class_id IN (SELECT pc.class_id FROM pupil_classes pc \
               WHERE pc.pupil_id = $1 AND {}) \
             UNION \
             SELECT t.id, t.last_name, t.first_name, t.profile, \
               COALESCE(sub.label, gt.subject_code) AS subject \
             FROM group_teachers gt JOIN people t ON t.id = gt.teacher_id \
             LEFT JOIN subjects sub ON sub.code = gt.subject_code \
             WHERE t.active = 1 AND gt.group_id IN (SELECT pg.group_id FROM pupil_groups pg \
               WHERE pg.pupil_id = $2) \
             ORDER BY 2, 3, 1, 5",
            current("pc")
        )))
        .bind(&pupil.id)
        .bind(&pupil.id)
        .bind(&clock)
        .fetch_all(self.pool())
        .await?;
        let mut teachers: Vec<TeacherOf> = Vec::new();
        for row in &rows {
            let teacher = person_ref(row)?;
            let subject: String = row.try_get("subject")?;
            match teachers.iter_mut().find(|t| t.teacher.id == teacher.id) {
                Some(known) => {
                    if !subject.is_empty() && !known.subjects.contains(&subject) {
                        known.subjects.push(subject);
                    }
                }
                None => teachers.push(TeacherOf {
                    teacher,
                    subjects: if subject.is_empty() { Vec::new() } else { vec![subject] },
                }),
            }
        }

        let principals = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT t.id, t.last_name, t.first_name, t.profile \
             FROM principal_teachers pt JOIN people t ON t.id = pt.teacher_id \
             JOIN pupil_classes pc ON pc.class_id = pt.class_id \
             WHERE pc.pupil_id = $1 AND $2 = $2 AND t.active = 1 AND {} \
             ORDER BY t.last_name, t.first_name, t.id",
            current("pc")
        )))
        .bind(&pupil.id)
        .bind(&pupil.id)
        .bind(&clock)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(person_ref)
        .collect::<StoreResult<Vec<_>>>()?;

        Ok(PupilCard { pupil: pupil.clone(), school, class_code, groups, teachers, principals })
    }

    /// Every school where the teacher teaches (or is attached), with the classes and groups
    /// taught there.
    pub async fn teaching_places(&self, teacher_id: &str) -> StoreResult<Vec<TeachingPlace>> {
        let rows = sqlx::query(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name, c.code, CAST(0 AS BIGINT) AS is_group, \
               COALESCE(sub.label, ct.subject_code) AS subject \
             FROM class_teachers ct JOIN classes c ON c.id = ct.class_id \
             JOIN schools s ON s.id = c.school_id \
             LEFT JOIN subjects sub ON sub.code = ct.subject_code \
             WHERE ct.teacher_id = $1 AND s.active = 1 \
             UNION ALL \
             SELECT s.id AS school_id, s.uai, s.name AS school_name, g.code, CAST(1 AS BIGINT) AS is_group, \
               COALESCE(sub.label, gt.subject_code) AS subject \
             FROM group_teachers gt JOIN teaching_groups g ON g.id = gt.group_id \
             JOIN schools s ON s.id = g.school_id \
             LEFT JOIN subjects sub ON sub.code = gt.subject_code \
             WHERE gt.teacher_id = $2 AND s.active = 1 \
             UNION ALL \
             SELECT s.id AS school_id, s.uai, s.name AS school_name, '' AS code, CAST(0 AS BIGINT) AS is_group, \
               '' AS subject \
             FROM person_schools ps JOIN schools s ON s.id = ps.school_id \
             WHERE ps.person_id = $3 AND s.active = 1 \
             ORDER BY 3, 1, 5, 4, 6",
        )
        .bind(teacher_id)
        .bind(teacher_id)
        .bind(teacher_id)
        .fetch_all(self.pool())
        .await?;

        let mut places: Vec<TeachingPlace> = Vec::new();
        for row in &rows {
            let school = school_ref(row)?;
            let code: String = row.try_get("code")?;
            let is_group: i64 = row.try_get("is_group")?;
            let subject: String = row.try_get("subject")?;
            if places.last().is_none_or(|p| p.school.id != school.id) {
                places.push(TeachingPlace { school, teachings: Vec::new() });
            }
            let Some(place) = places.last_mut() else { continue };
            if code.is_empty() {
                continue;
            }
            let is_group = is_group == 1;
            match place.teachings.iter_mut().find(|t| t.code == code && t.is_group == is_group) {
                Some(teaching) => {
                    if !subject.is_empty() && !teaching.subjects.contains(&subject) {
                        teaching.subjects.push(subject);
                    }
                }
                None => place.teachings.push(Teaching {
                    code,
                    is_group,
                    subjects: if subject.is_empty() { Vec::new() } else { vec![subject] },
                }),
            }
        }
        Ok(places)
    }

    /// The schools a département agent or official sees: their scope (`''` = every school).
    pub async fn scope_schools(&self, person_id: &str) -> StoreResult<Vec<SchoolRef>> {
        sqlx::query(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name FROM schools s \
             WHERE s.active = 1 AND EXISTS (SELECT 1 FROM departement_scopes d \
               WHERE d.person_id = $1 AND (d.school_id = '' OR d.school_id = s.id)) \
             ORDER BY s.name, s.id",
        )
        .bind(person_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(school_ref)
        .collect()
    }

    /// A school's figures: its pupils, its classes, and per class the pupils and how many of
    /// them have activated their account.
    pub async fn school_figures(&self, school: &SchoolRef) -> StoreResult<SchoolFigures> {
        let clock = membership_clock();
        let classes = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.code, \
               (SELECT COUNT(*) FROM pupil_classes pc JOIN people p ON p.id = pc.pupil_id \
                 WHERE pc.class_id = c.id AND p.active = 1 AND {cur}) AS pupils, \
               (SELECT COUNT(*) FROM pupil_classes pc JOIN people p ON p.id = pc.pupil_id \
                 JOIN accounts a ON a.person_id = p.id WHERE pc.class_id = c.id \
                 AND p.active = 1 AND a.activated_at IS NOT NULL AND {cur}) AS activated \
             FROM classes c WHERE c.school_id = $1 AND $2 = $2 ORDER BY c.code",
            cur = current("pc")
        )))
        .bind(&school.id)
        .bind(&school.id)
        .bind(&clock)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(ClassFigures {
                code: r.try_get("code")?,
                pupils: r.try_get("pupils")?,
                activated: r.try_get("activated")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;

        let pupils: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(DISTINCT pc.pupil_id) FROM pupil_classes pc \
             JOIN classes c ON c.id = pc.class_id JOIN people p ON p.id = pc.pupil_id \
             WHERE c.school_id = $1 AND $2 = $2 AND p.active = 1 AND {}",
            current("pc")
        )))
        .bind(&school.id)
        .bind(&school.id)
        .bind(&clock)
        .fetch_one(self.pool())
        .await?;
        Ok(SchoolFigures { school: school.clone(), pupils, classes })
    }

    /// The people matching `query` whom the viewer may write to under the communication rules
    /// of each school (see [`crate::rules`]: per-school rules, family links, replies), capped at
    /// [`SEARCH_LIMIT`]. The rules are the `WHERE` clause.
    pub async fn search_directory(
        &self,
        viewer_id: &str,
        query: &str,
    ) -> StoreResult<Vec<PersonRef>> {
        let reachable = self.reachable_condition_for(viewer_id, "p.id", "$1", "$3").await?;
        let sql = format!(
            "SELECT p.id, p.last_name, p.first_name, p.profile FROM people p \
             WHERE p.search_key LIKE $2 ESCAPE '\\' AND {reachable} \
             ORDER BY p.last_name, p.first_name, p.id LIMIT $4"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(like_pattern(query))
            .bind(membership_clock())
            .bind(SEARCH_LIMIT)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(person_ref)
            .collect()
    }

    /// The person `target_id` when `actor_id` may administer them: a département
    /// administrator, or a school administrator (role `school_admin` or function `DIR`) of
    /// **every** school the target belongs to (attached, pupil of a class, or guardian of such a
    /// pupil). A teacher of two collèges, or a parent with children in two, is thus administered
    /// by the département or by both heads together, never by one head alone.
    pub async fn administrable_person(
        &self,
        actor_id: &str,
        target_id: &str,
    ) -> StoreResult<Option<PersonRef>> {
        let target_schools =
            format!("SELECT m.school_id FROM ({}) m", school_memberships(Some("$2")));
        let administered = administered_by("$1");
        let sql = format!(
            "SELECT t.id, t.last_name, t.first_name, t.profile FROM people t \
             JOIN accounts a ON a.person_id = t.id \
             WHERE t.id = $2 AND t.active = 1 AND ( \
               EXISTS (SELECT 1 FROM roles r WHERE r.person_id = $1 \
                 AND r.role = 'departement_admin') \
               OR (EXISTS (SELECT 1 FROM ({target_schools}) ts \
                     WHERE ts.school_id IN ({administered})) \
                 AND NOT EXISTS (SELECT 1 FROM ({target_schools}) ts \
                     WHERE ts.school_id NOT IN ({administered}))))"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(actor_id)
            .bind(target_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(person_ref).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(" Du%p_ "), "%du\\%p\\_%");
    }
}
