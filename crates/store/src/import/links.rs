//! The links a person record carries: schools, functions, teaching assignments, principal
//! teachers, class and group memberships, relatives, and the `school_admin` role of heads.
//! Classes and groups of known schools are created on demand; a reference to an unknown
//! school or relative becomes a row of `pending_references`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use formats::aaf::{Entity, StructureRef};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sqlx::{AnyConnection, Row};

use super::sql::{Rows, Value, execute_in, fetch_in};
use crate::new_id;

/// What the run knows of schools, classes and groups (they grow with schools, not people).
#[derive(Debug, Default)]
pub(crate) struct Structures {
    /// School jointure → school id.
    schools: HashMap<String, String>,
    /// School id → the school's time zone, where its pupils' exit dates end.
    zones: HashMap<String, TimeZone>,
    /// (school id, code) → class id.
    classes: HashMap<(String, String), String>,
    /// (school id, code) → group id.
    groups: HashMap<(String, String), String>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Class,
    Group,
}

impl Structures {
    /// Loads every school, class and group.
    pub(crate) async fn load(conn: &mut AnyConnection) -> Result<Structures, sqlx::Error> {
        let mut structures = Structures::default();
        let rows = sqlx::query("SELECT jointure, id, time_zone FROM schools")
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            let id: String = row.try_get(1)?;
            let zone_name: String = row.try_get(2)?;
            structures.zones.insert(id.clone(), crate::timetable::zone(&zone_name));
            structures.schools.insert(row.try_get(0)?, id);
        }
        let rows =
            sqlx::query("SELECT school_id, code, id FROM classes").fetch_all(&mut *conn).await?;
        for row in rows {
            structures.classes.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
        }
        let rows = sqlx::query("SELECT school_id, code, id FROM teaching_groups")
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            structures.groups.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
        }
        Ok(structures)
    }

    /// Records a school created by this run, in the zone it was created with.
    pub(crate) fn add_school(&mut self, jointure: &str, id: &str, zone_name: &str) {
        self.schools.insert(jointure.to_owned(), id.to_owned());
        self.zones.insert(id.to_owned(), crate::timetable::zone(zone_name));
    }

    fn school(&self, jointure: &str) -> Option<&String> {
        self.schools.get(jointure)
    }

    /// When a membership of a class of the school `jointure` whose last day is `exit` ends
    /// (`pupil_classes.exit_after`): the next local midnight in the school's zone.
    fn membership_end(&self, jointure: &str, exit: Option<Date>) -> Option<i64> {
        let zone = self.school(jointure).and_then(|id| self.zones.get(id))?;
        crate::directory::membership_end(exit?, zone)
    }

    fn map(&self, kind: Kind) -> &HashMap<(String, String), String> {
        match kind {
            Kind::Class => &self.classes,
            Kind::Group => &self.groups,
        }
    }

    fn structure(&self, kind: Kind, target: &StructureRef) -> Option<&String> {
        let school = self.school(&target.school)?;
        self.map(kind).get(&(school.clone(), target.code.clone()))
    }

    /// Creates the classes or groups of known schools that do not exist yet.
    async fn ensure(
        &mut self,
        conn: &mut AnyConnection,
        kind: Kind,
        wanted: &BTreeSet<StructureRef>,
    ) -> Result<(), sqlx::Error> {
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for target in wanted {
            if let Some(school) = self.school(&target.school) {
                let key = (school.clone(), target.code.clone());
                if !self.map(kind).contains_key(&key) {
                    missing.entry(school.clone()).or_default().push(target.code.clone());
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }

        // FIXME(#2): a class's `mef_code` stays empty; the pupils' `ENTEleveMEF` could fill it
        // once a rule decides what a class of mixed MEFs gets.
        let (head, select) = match kind {
            Kind::Class => (
                "INSERT INTO classes (id, school_id, code)",
                "SELECT code, id FROM classes WHERE school_id = $1 AND code",
            ),
            Kind::Group => (
                "INSERT INTO teaching_groups (id, school_id, code)",
                "SELECT code, id FROM teaching_groups WHERE school_id = $1 AND code",
            ),
        };
        let mut rows = Rows::new(head, 3, "ON CONFLICT (school_id, code) DO NOTHING");
        for (school, codes) in &missing {
            for code in codes {
                rows.push([Value::from(new_id()), Value::from(school), Value::from(code)]);
            }
        }
        rows.execute(conn).await?;

        for (school, codes) in missing {
            let found = fetch_in(conn, select, "", &[Value::from(&school)], &codes).await?;
            for row in found {
                let code: String = row.try_get(0)?;
                let id: String = row.try_get(1)?;
                match kind {
                    Kind::Class => self.classes.insert((school.clone(), code), id),
                    Kind::Group => self.groups.insert((school.clone(), code), id),
                };
            }
        }
        Ok(())
    }
}

/// A person whose links are (re)written, with where their record came from.
#[derive(Debug)]
pub(crate) struct Linked<'a> {
    pub(crate) person_id: &'a str,
    pub(crate) entity: &'a Entity,
    pub(crate) file: &'a str,
    pub(crate) line: u32,
    pub(crate) record_id: &'a str,
}

/// Deletes every link of these people (as teacher, pupil, holder of functions, …).
pub(crate) async fn delete_links(
    conn: &mut AnyConnection,
    person_ids: &[String],
) -> Result<(), sqlx::Error> {
    if person_ids.is_empty() {
        return Ok(());
    }
    const DELETES: [&str; 10] = [
        "DELETE FROM person_schools WHERE person_id",
        "DELETE FROM person_functions WHERE person_id",
        "DELETE FROM class_teachers WHERE teacher_id",
        "DELETE FROM group_teachers WHERE teacher_id",
        "DELETE FROM principal_teachers WHERE teacher_id",
        "DELETE FROM pupil_classes WHERE pupil_id",
        "DELETE FROM pupil_groups WHERE pupil_id",
        "DELETE FROM guardianships WHERE pupil_id",
        "DELETE FROM pending_references WHERE person_id",
        "DELETE FROM roles WHERE role = 'school_admin' AND person_id",
    ];
    for delete in DELETES {
        execute_in(conn, delete, "", &[], person_ids).await?;
    }
    Ok(())
}

/// The rows to insert for a batch of people, one collection per table.
struct LinkRows {
    schools: Rows,
    functions: Rows,
    class_teachers: Rows,
    group_teachers: Rows,
    principals: Rows,
    roles: Rows,
    pupil_classes: Rows,
    pupil_groups: Rows,
    guardianships: Rows,
    pending: Rows,
}

impl LinkRows {
    fn new() -> LinkRows {
        const IGNORE: &str = "ON CONFLICT DO NOTHING";
        LinkRows {
            schools: Rows::new("INSERT INTO person_schools (person_id, school_id)", 2, IGNORE),
            functions: Rows::new(
                "INSERT INTO person_functions (person_id, school_id, code, label, \
                 discipline_code, discipline_label)",
                6,
                IGNORE,
            ),
            class_teachers: Rows::new(
                "INSERT INTO class_teachers (teacher_id, class_id, subject_code)",
                3,
                IGNORE,
            ),
            group_teachers: Rows::new(
                "INSERT INTO group_teachers (teacher_id, group_id, subject_code)",
                3,
                IGNORE,
            ),
            principals: Rows::new(
                "INSERT INTO principal_teachers (teacher_id, class_id)",
                2,
                IGNORE,
            ),
            roles: Rows::new("INSERT INTO roles (person_id, role, school_id)", 3, IGNORE),
            pupil_classes: Rows::new(
                "INSERT INTO pupil_classes (pupil_id, class_id, entry_date, exit_date, \
                 exit_after)",
                5,
                IGNORE,
            ),
            pupil_groups: Rows::new("INSERT INTO pupil_groups (pupil_id, group_id)", 2, IGNORE),
            guardianships: Rows::new(
                "INSERT INTO guardianships (pupil_id, relative_id, kinship, legal, financial, \
                 contact, payment)",
                7,
                IGNORE,
            ),
            pending: Rows::new(
                "INSERT INTO pending_references (person_id, kind, target, file, line, \
                 record_id, created_at)",
                7,
                IGNORE,
            ),
        }
    }

    async fn execute(self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        for rows in [
            self.schools,
            self.functions,
            self.class_teachers,
            self.group_teachers,
            self.principals,
            self.roles,
            self.pupil_classes,
            self.pupil_groups,
            self.guardianships,
            self.pending,
        ] {
            if !rows.is_empty() {
                rows.execute(conn).await?;
            }
        }
        Ok(())
    }
}

/// Writes the links of these people (whose old links are already gone), creating the
/// classes and groups they name and recording what points nowhere.
pub(crate) async fn write_links(
    conn: &mut AnyConnection,
    structures: &mut Structures,
    people: &[Linked<'_>],
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut classes = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let mut relatives = BTreeSet::new();
    for person in people {
        match person.entity {
            Entity::Staff(staff) => {
                classes.extend(staff.class_teachings.iter().map(|t| t.target.clone()));
                classes.extend(staff.principal_of.iter().cloned());
                groups.extend(staff.group_teachings.iter().map(|t| t.target.clone()));
            }
            // A relative's own list of pupils (`ENTAuxPersRelEleveEleve`) is not used: the links
            // and their flags come from the pupils' records.
            Entity::Pupil(pupil) => {
                classes.extend(pupil.classes.iter().map(|m| m.class.clone()));
                groups.extend(pupil.groups.iter().cloned());
                relatives.extend(pupil.relatives.iter().map(|r| r.relative.clone()));
            }
            _ => {}
        }
    }
    structures.ensure(conn, Kind::Class, &classes).await?;
    structures.ensure(conn, Kind::Group, &groups).await?;
    let relatives: Vec<String> = relatives.into_iter().collect();
    let mut relative_ids: HashMap<String, String> = HashMap::new();
    let rows = fetch_in(
        conn,
        "SELECT external_id, id FROM people WHERE source = 'aaf' AND profile = 'relative' \
         AND external_id",
        "",
        &[],
        &relatives,
    )
    .await?;
    for row in rows {
        relative_ids.insert(row.try_get(0)?, row.try_get(1)?);
    }

    let structures: &Structures = structures;
    let mut out = LinkRows::new();
    for person in people {
        let id = person.person_id;
        let school_of = |jointure: &str, out: &mut LinkRows| -> Option<String> {
            let found = structures.school(jointure).cloned();
            if found.is_none() {
                push_pending(out, person, "school", jointure, now);
            }
            found
        };
        match person.entity {
            Entity::Staff(staff) => {
                for jointure in &staff.schools {
                    if let Some(school) = school_of(jointure, &mut out) {
                        out.schools.push([Value::from(id), Value::from(school)]);
                    }
                }
                for function in &staff.functions {
                    let Some(school) = school_of(&function.school, &mut out) else { continue };
                    if domain::profile::is_direction_function(&function.code) {
                        out.roles.push([
                            Value::from(id),
                            Value::from("school_admin"),
                            Value::from(&school),
                        ]);
                    }
                    out.functions.push([
                        Value::from(id),
                        Value::from(school),
                        Value::from(&function.code),
                        Value::from(&function.label),
                        Value::from(function.discipline_code.clone().unwrap_or_default()),
                        Value::from(function.discipline_label.clone().unwrap_or_default()),
                    ]);
                }
                for teaching in &staff.class_teachings {
                    match structures.structure(Kind::Class, &teaching.target) {
                        Some(class) => out.class_teachers.push([
                            Value::from(id),
                            Value::from(class),
                            Value::from(teaching.subject.clone().unwrap_or_default()),
                        ]),
                        None => {
                            school_of(&teaching.target.school, &mut out);
                        }
                    }
                }
                for teaching in &staff.group_teachings {
                    match structures.structure(Kind::Group, &teaching.target) {
                        Some(group) => out.group_teachers.push([
                            Value::from(id),
                            Value::from(group),
                            Value::from(teaching.subject.clone().unwrap_or_default()),
                        ]),
                        None => {
                            school_of(&teaching.target.school, &mut out);
                        }
                    }
                }
                for target in &staff.principal_of {
                    match structures.structure(Kind::Class, target) {
                        Some(class) => {
                            out.principals.push([Value::from(id), Value::from(class)]);
                        }
                        None => {
                            school_of(&target.school, &mut out);
                        }
                    }
                }
            }
            Entity::Pupil(pupil) => {
                for jointure in &pupil.schools {
                    if let Some(school) = school_of(jointure, &mut out) {
                        out.schools.push([Value::from(id), Value::from(school)]);
                    }
                }
                for membership in &pupil.classes {
                    match structures.structure(Kind::Class, &membership.class) {
                        Some(class) => out.pupil_classes.push([
                            Value::from(id),
                            Value::from(class),
                            Value::from(membership.entry.map(|date| date.to_string())),
                            Value::from(membership.exit.map(|date| date.to_string())),
                            Value::from(
                                structures
                                    .membership_end(&membership.class.school, membership.exit),
                            ),
                        ]),
                        None => {
                            school_of(&membership.class.school, &mut out);
                        }
                    }
                }
                for target in &pupil.groups {
                    match structures.structure(Kind::Group, target) {
                        Some(group) => out.pupil_groups.push([Value::from(id), Value::from(group)]),
                        None => {
                            school_of(&target.school, &mut out);
                        }
                    }
                }
                for link in &pupil.relatives {
                    match relative_ids.get(&link.relative) {
                        Some(relative) => out.guardianships.push([
                            Value::from(id),
                            Value::from(relative),
                            Value::from(link.kinship.clone()),
                            Value::Int(i64::from(link.legal)),
                            Value::Int(i64::from(link.financial)),
                            Value::Int(i64::from(link.contact)),
                            Value::Int(i64::from(link.payment)),
                        ]),
                        None => push_pending(&mut out, person, "relative", &link.relative, now),
                    }
                }
            }
            _ => {}
        }
    }
    out.execute(conn).await
}

fn push_pending(out: &mut LinkRows, person: &Linked<'_>, kind: &str, target: &str, now: i64) {
    out.pending.push([
        Value::from(person.person_id),
        Value::from(kind),
        Value::from(target),
        Value::from(person.file),
        Value::Int(i64::from(person.line)),
        Value::from(person.record_id),
        Value::Int(now),
    ]);
}
