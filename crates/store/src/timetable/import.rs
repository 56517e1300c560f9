//! The import of one parsed timetable file into one school, in one transaction: the school
//! year and the slot grid, the rooms (matched by folded name, created when new), and the
//! courses of the file's scope, each matched to the school's teachers, classes and groups and
//! compared with what is stored (created, updated with its sequence bumped, unchanged, or
//! removed when the file no longer has it; a school-wide import also removes the school-wide
//! courses of another format, and its report says so). Cancelled weeks or dates of the file
//! become `course_changes` of origin `import`, replaced at each import; manual changes stay.
//! The run is recorded in `timetable_imports` with its report; it does not parse files (see
//! `formats::timetable`).
//!
//! **Refusals.** A file that names another school's UAI is refused; so, unless the caller
//! confirms ([`ImportOptions`]), is one that would remove or change more than half of the
//! scope's courses while fewer than half of its teacher names are in the directory, or remove
//! every course of the scope and create none. The transaction is rolled back and the run is
//! recorded as refused.
//!
//! **Matching.** A teacher is matched by national id (`people.external_id`), else by folded
//! names ("last first", or a last name with an initial or alone when the file gives no more);
//! classes and groups by folded code (letters and digits only, see `super::code_key`), a class
//! name that is a group's code (or the reverse) being accepted. No candidate, or more than one,
//! is a [`MatchProblem`] of the report: the course keeps what matched, and unmatched teacher
//! names are stored as written (`courses.unmatched_teachers`, one per line).
//!
//! **Dated courses** (iCalendar) are grouped into weekly patterns by weekday and time: one
//! stored course per pattern, keyed by the event's key (suffixed by the pattern when an event
//! has several), its weeks computed over the school's year. An occurrence outside the year is
//! a rejection; a cancelled one is a change of origin `import`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use domain::timetable::{LessonTime, SchoolYear, WeekSet, weekday_number};
use formats::timetable::{CourseWhen, ParsedCourse, ParsedTimetable, PartyRef, Rejection};
use jiff::civil::Date;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{administers, audit, code_key, local_today, parse_date, teachers_of_school, zone};
use crate::import::sql::{Rows, Value, execute_in};
use crate::{Backend, Store, StoreError, StoreResult, new_id, now_unix};

/// Which courses an import replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportScope {
    /// Every school-wide course of the school, whatever format it was imported from (EDT,
    /// UDT): a school has one timetable.
    School,
    /// An iCalendar feed of one class (`classes.id`): every course attaches to it.
    Class(String),
    /// An iCalendar feed of one teacher (`people.id`): every course attaches to them.
    Teacher(String),
}

impl ImportScope {
    /// The value stored in `courses.source_scope`.
    fn stored(&self) -> String {
        match self {
            ImportScope::School => String::new(),
            ImportScope::Class(id) => format!("class:{id}"),
            ImportScope::Teacher(id) => format!("teacher:{id}"),
        }
    }
}

/// How an import is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// The person saw the safety refusal of this file (see [`Store::import_timetable_with`])
    /// and asked to apply it anyway.
    pub confirmed: bool,
}

/// What became of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimetableImportOutcome {
    Applied(TimetableImportReport),
    /// Nothing was written; the refusal is recorded in the list of runs.
    Refused(ImportRefusal),
}

/// Why an import was refused whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRefusal {
    /// In French, with the counts that led to it.
    pub reason: String,
    /// Whether the same file is applied when the caller confirms ([`ImportOptions`]); a file
    /// of another school never is.
    pub confirmable: bool,
}

/// School-wide courses of another format that an import removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplacedTimetable {
    /// `courses.source` of the removed courses (`"edt"`, `"udt"`, `"ical"`).
    pub source: String,
    pub courses: u64,
}

/// A name of the file that matched nobody, or more than one, in the school's directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatchProblem {
    /// `"enseignant"`, `"classe"`, `"groupe"`.
    pub kind: String,
    /// As the file wrote it.
    pub label: String,
    /// 0: nobody; 2 or more: ambiguous (never guessed).
    pub candidates: u32,
    /// The lines of the courses that name it (the first few).
    pub lines: Vec<u64>,
}

/// What one import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimetableImportReport {
    pub id: String,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub rejections: Vec<Rejection>,
    pub notices: Vec<Rejection>,
    pub problems: Vec<MatchProblem>,
    /// The timetables of other formats this school-wide import replaced (their courses are
    /// counted in `removed`).
    pub replaced: Vec<ReplacedTimetable>,
}

/// A past import, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimetableImportSummary {
    pub id: String,
    pub source: String,
    pub file_name: String,
    pub created_at: i64,
    pub outcome: String,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub removed: i64,
    pub rejections: usize,
    pub problems: usize,
}

/// How many course lines a match problem lists.
const PROBLEM_LINES: usize = 5;

/// The report as stored in `timetable_imports.report`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct StoredReport {
    rejections: Vec<StoredRejection>,
    notices: Vec<StoredRejection>,
    problems: Vec<MatchProblem>,
    replaced: Vec<ReplacedTimetable>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StoredRejection {
    file: String,
    line: u64,
    record: String,
    reason: String,
}

impl From<&Rejection> for StoredRejection {
    fn from(rejection: &Rejection) -> StoredRejection {
        StoredRejection {
            file: rejection.file.clone(),
            line: rejection.line,
            record: rejection.record.clone(),
            reason: rejection.reason.clone(),
        }
    }
}

impl From<StoredRejection> for Rejection {
    fn from(stored: StoredRejection) -> Rejection {
        Rejection {
            file: stored.file,
            line: stored.line,
            record: stored.record,
            reason: stored.reason,
        }
    }
}

/// A teacher of the school, with the folded forms the matching compares.
struct Teacher {
    id: String,
    external_id: String,
    last: String,
    first: String,
}

/// The school's directory, as the matching sees it.
struct Directory {
    teachers: Vec<Teacher>,
    /// `(id, code_key)`.
    classes: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    /// `code_key` → room id, the rooms created by this import included.
    rooms: HashMap<String, String>,
}

/// What a name of the file matched.
enum Found {
    One(String),
    Many(u32),
    Nobody,
}

impl Found {
    fn of(mut ids: Vec<String>) -> Found {
        ids.sort();
        ids.dedup();
        match ids.len() {
            0 => Found::Nobody,
            1 => Found::One(ids.swap_remove(0)),
            n => Found::Many(u32::try_from(n).unwrap_or(u32::MAX)),
        }
    }
}

/// Civilities a file may put before a teacher's name.
const CIVILITIES: [&str; 8] =
    ["m", "m.", "mr", "mme", "mlle", "monsieur", "madame", "mademoiselle"];

impl Directory {
    fn teacher(&self, party: &PartyRef) -> Found {
        if let Some(external) = party.external_id.as_deref().map(str::trim)
            && !external.is_empty()
        {
            let found = Found::of(
                self.teachers
                    .iter()
                    .filter(|t| t.external_id == external)
                    .map(|t| t.id.clone())
                    .collect(),
            );
            if !matches!(found, Found::Nobody) {
                return found;
            }
        }

        let (last, first) = if party.last_name.trim().is_empty() {
            let folded = domain::names::fold_for_search(&party.label);
            let words: Vec<&str> =
                folded.split(' ').skip_while(|word| CIVILITIES.contains(word)).collect();
            (words.join(" "), String::new())
        } else {
            (
                domain::names::fold_for_search(&party.last_name),
                domain::names::fold_for_search(&party.first_name),
            )
        };
        if last.is_empty() {
            return Found::Nobody;
        }
        let full = if first.is_empty() { last.clone() } else { format!("{last} {first}") };
        let exact = Found::of(
            self.teachers
                .iter()
                .filter(|t| {
                    format!("{} {}", t.last, t.first) == full
                        || format!("{} {}", t.first, t.last) == full
                })
                .map(|t| t.id.clone())
                .collect(),
        );
        if !matches!(exact, Found::Nobody) {
            return exact;
        }

        // A last name alone, or with an initial ("DUPONT J." or "DUPONT" and "J").
        let (last, initial) = match first.trim_end_matches('.') {
            "" => match last.rsplit_once(' ') {
                Some((rest, tail)) if tail.trim_end_matches('.').len() == 1 => {
                    (rest.to_owned(), tail.chars().next())
                }
                _ => (last, None),
            },
            one if one.len() == 1 => (last, one.chars().next()),
            _ => return Found::Nobody,
        };
        Found::of(
            self.teachers
                .iter()
                .filter(|t| t.last == last && initial.is_none_or(|c| t.first.starts_with(c)))
                .map(|t| t.id.clone())
                .collect(),
        )
    }

    /// A class (`as_group` false) or a group by code, trying the other kind when the name
    /// is none of the first; the boolean says whether it is a group.
    fn class_or_group(&self, party: &PartyRef, as_group: bool) -> (Found, bool) {
        let keys: Vec<String> = [party.external_id.as_deref().unwrap_or(""), &party.label]
            .into_iter()
            .map(code_key)
            .filter(|key| !key.is_empty())
            .collect();
        let lookup = |list: &[(String, String)]| {
            for key in &keys {
                let found = Found::of(
                    list.iter().filter(|(_, code)| code == key).map(|(id, _)| id.clone()).collect(),
                );
                if !matches!(found, Found::Nobody) {
                    return found;
                }
            }
            Found::Nobody
        };
        let (first, second) =
            if as_group { (&self.groups, &self.classes) } else { (&self.classes, &self.groups) };
        match lookup(first) {
            Found::Nobody => match lookup(second) {
                Found::One(id) => (Found::One(id), !as_group),
                _ => (Found::Nobody, as_group),
            },
            found => (found, as_group),
        }
    }
}

/// A course as it will be stored.
struct Planned {
    key: String,
    subject_code: Option<String>,
    subject_label: String,
    weekday: u8,
    time: LessonTime,
    weeks: WeekSet,
    teachers: BTreeSet<String>,
    unmatched: BTreeSet<String>,
    classes: BTreeSet<String>,
    groups: BTreeSet<String>,
    rooms: BTreeSet<String>,
    /// Dates the file marks cancelled.
    cancelled: BTreeSet<Date>,
}

impl Planned {
    /// A digest of what the course says: a re-import that changes any of it bumps the
    /// sequence.
    fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.subject_code,
            self.subject_label,
            self.weekday,
            self.time.start_minute,
            self.time.end_minute,
            self.weeks.to_db(),
            self.teachers,
            self.unmatched,
            self.classes,
            self.groups,
            self.rooms,
        ]);
        Sha256::digest(canonical.to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn unmatched_text(&self) -> String {
        self.unmatched.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// One weekly pattern of a parsed course: weekday, time, weeks, cancelled dates.
type Pattern = (u8, LessonTime, WeekSet, BTreeSet<Date>);

/// Everything one import collects before writing.
struct Plan<'a> {
    file_name: &'a str,
    year: SchoolYear,
    directory: Directory,
    new_rooms: Vec<(String, String, String)>,
    courses: Vec<Planned>,
    rejections: Vec<Rejection>,
    notices: Vec<Rejection>,
    problems: BTreeMap<(String, String), MatchProblem>,
    /// The distinct teacher names of the file, and those that matched one teacher.
    teacher_names: BTreeSet<String>,
    matched_teacher_names: BTreeSet<String>,
}

impl Plan<'_> {
    fn reject(&mut self, course: &ParsedCourse, reason: String) {
        self.rejections.push(Rejection {
            file: self.file_name.to_owned(),
            line: course.line,
            record: course.key.clone(),
            reason,
        });
    }

    fn problem(&mut self, kind: &str, label: String, candidates: u32, line: u64) {
        let entry = self.problems.entry((kind.to_owned(), label.clone())).or_insert_with(|| {
            MatchProblem { kind: kind.to_owned(), label, candidates, lines: Vec::new() }
        });
        if entry.lines.len() < PROBLEM_LINES && !entry.lines.contains(&line) {
            entry.lines.push(line);
        }
    }

    /// The weekly patterns of a course; dated occurrences outside the year are rejected.
    fn patterns(&mut self, course: &ParsedCourse) -> Vec<Pattern> {
        match &course.when {
            CourseWhen::Weekly { weekday, time, weeks, cancelled_weeks } => {
                if !(1..=7).contains(weekday) {
                    self.reject(course, format!("jour de la semaine inconnu ({weekday})"));
                    return Vec::new();
                }
                let cancelled = cancelled_weeks
                    .iter()
                    .filter_map(|week| self.year.date_of(week, *weekday))
                    .collect();
                vec![(*weekday, *time, weeks.union(*cancelled_weeks), cancelled)]
            }
            CourseWhen::Dated { occurrences, cancelled } => {
                let mut grouped: BTreeMap<(u8, LessonTime), (WeekSet, BTreeSet<Date>)> =
                    BTreeMap::new();
                let marked = occurrences.iter().map(|o| (o, false));
                for ((date, time), is_cancelled) in
                    marked.chain(cancelled.iter().map(|o| (o, true)))
                {
                    let Some(week) = self.year.week_of(*date) else {
                        let reason = format!(
                            "la séance du {date} est en dehors de l'année scolaire (du {} au {})",
                            self.year.first_monday, self.year.last_day
                        );
                        self.reject(course, reason);
                        continue;
                    };
                    let entry = grouped.entry((weekday_number(*date), *time)).or_default();
                    entry.0.insert(week);
                    if is_cancelled {
                        entry.1.insert(*date);
                    }
                }
                grouped
                    .into_iter()
                    .map(|((weekday, time), (weeks, cancelled))| (weekday, time, weeks, cancelled))
                    .collect()
            }
        }
    }

    /// Matches the course's names and adds one planned course per pattern.
    fn add(&mut self, course: &ParsedCourse, scope: &ImportScope) {
        let patterns = self.patterns(course);
        if patterns.is_empty() {
            return;
        }

        let mut teachers = BTreeSet::new();
        let mut unmatched = BTreeSet::new();
        for party in &course.teachers {
            let label = teacher_label(party);
            if !label.is_empty() {
                self.teacher_names.insert(label.clone());
            }
            match self.directory.teacher(party) {
                Found::One(id) => {
                    self.matched_teacher_names.insert(label);
                    teachers.insert(id);
                }
                Found::Many(n) => {
                    self.problem("enseignant", label.clone(), n, course.line);
                    unmatched.insert(label);
                }
                Found::Nobody if label.is_empty() => {}
                Found::Nobody => {
                    self.problem("enseignant", label.clone(), 0, course.line);
                    unmatched.insert(label);
                }
            }
        }
        let mut classes = BTreeSet::new();
        let mut groups = BTreeSet::new();
        let named = course.classes.iter().map(|p| (p, false));
        for (party, as_group) in named.chain(course.groups.iter().map(|p| (p, true))) {
            let kind = if as_group { "groupe" } else { "classe" };
            let label = party_label(party);
            match self.directory.class_or_group(party, as_group) {
                (Found::One(id), true) => {
                    groups.insert(id);
                }
                (Found::One(id), false) => {
                    classes.insert(id);
                }
                (Found::Many(n), _) => self.problem(kind, label, n, course.line),
                (Found::Nobody, _) => self.problem(kind, label, 0, course.line),
            }
        }
        match scope {
            ImportScope::School => {}
            ImportScope::Class(id) => {
                classes.insert(id.clone());
            }
            ImportScope::Teacher(id) => {
                teachers.insert(id.clone());
            }
        }
        if classes.is_empty() && groups.is_empty() && teachers.is_empty() {
            self.notices.push(Rejection {
                file: self.file_name.to_owned(),
                line: course.line,
                record: course.key.clone(),
                reason: "ce cours n'est rattaché à aucune classe, aucun groupe ni aucun \
                         enseignant de l'établissement : seules les salles le montrent"
                    .to_owned(),
            });
        }
        let rooms = course.rooms.iter().filter_map(|party| self.room(party)).collect();

        let several = patterns.len() > 1;
        for (weekday, time, weeks, cancelled) in patterns {
            let key = if several {
                format!("{}#{weekday}-{}-{}", course.key, time.start_minute, time.end_minute)
            } else {
                course.key.clone()
            };
            self.courses.push(Planned {
                key,
                subject_code: course.subject_code.clone().filter(|code| !code.trim().is_empty()),
                subject_label: subject_label(course),
                weekday,
                time,
                weeks,
                teachers: teachers.clone(),
                unmatched: unmatched.clone(),
                classes: classes.clone(),
                groups: groups.clone(),
                rooms: BTreeSet::clone(&rooms),
                cancelled,
            });
        }
    }

    /// The id of a room by folded name, planned for creation when new.
    fn room(&mut self, party: &PartyRef) -> Option<String> {
        let name = party_label(party);
        let key = code_key(&name);
        if key.is_empty() {
            return None;
        }
        if let Some(id) = self.directory.rooms.get(&key) {
            return Some(id.clone());
        }
        let id = new_id();
        self.directory.rooms.insert(key.clone(), id.clone());
        self.new_rooms.push((id.clone(), key, name));
        Some(id)
    }
}

/// A teacher's name as the file wrote it.
fn teacher_label(party: &PartyRef) -> String {
    let name = format!("{} {}", party.last_name.trim(), party.first_name.trim());
    let name = name.trim();
    if !name.is_empty() {
        return name.to_owned();
    }
    party_label(party)
}

/// A class's, group's or room's name as the file wrote it (its file id if it has no name).
fn party_label(party: &PartyRef) -> String {
    let label = party.label.trim();
    if label.is_empty() { party.file_id.trim().to_owned() } else { label.to_owned() }
}

fn subject_label(course: &ParsedCourse) -> String {
    let label = course.subject_label.trim();
    match (label.is_empty(), &course.subject_code) {
        (false, _) => label.to_owned(),
        (true, Some(code)) if !code.trim().is_empty() => code.trim().to_owned(),
        (true, _) => "Cours".to_owned(),
    }
}

impl Store {
    /// Applies `parsed` as [`Store::import_timetable_with`] does without confirmation; a
    /// refusal is a [`StoreError::Conflict`] with its French reason (and recorded as refused).
    ///
    /// # Errors
    /// `NotFound` when `actor_id` may not import into the school or the scope is not the
    /// school's; `Conflict` when the import is refused.
    pub async fn import_timetable(
        &self,
        actor_id: Option<&str>,
        school_id: &str,
        file_name: &str,
        parsed: &ParsedTimetable,
        scope: &ImportScope,
    ) -> StoreResult<TimetableImportReport> {
        let options = ImportOptions { confirmed: false };
        let outcome =
            self.import_timetable_with(actor_id, school_id, file_name, parsed, scope, options);
        match outcome.await? {
            TimetableImportOutcome::Applied(report) => Ok(report),
            TimetableImportOutcome::Refused(refusal) => Err(StoreError::Conflict(refusal.reason)),
        }
    }

    /// Applies `parsed` to school `school_id` in one transaction and records the run. Teachers,
    /// classes and groups are matched to the school's directory by national id, else by folded
    /// names; an ambiguous or unknown name is reported, never guessed. The courses of the scope
    /// that the file no longer holds are removed (for a school-wide import, every school-wide
    /// course of another format too: a school has one timetable); changed ones get their
    /// sequence bumped. `actor_id` must administer the school (or the département), or be
    /// `None` for the CLI and the demo.
    ///
    /// **Refusals.** Nothing is written, and the run is recorded as refused, when the file
    /// names another school's UAI; and, unless `options.confirmed`, when the import would
    /// remove or change more than half of the scope's courses while fewer than half of the
    /// teacher names of the file are in the directory (another collège's file), or would remove
    /// every course of the scope and create none (an empty or unrelated file).
    ///
    /// # Errors
    /// `NotFound` when `actor_id` may not import into the school or the scope is not the
    /// school's.
    pub async fn import_timetable_with(
        &self,
        actor_id: Option<&str>,
        school_id: &str,
        file_name: &str,
        parsed: &ParsedTimetable,
        scope: &ImportScope,
        options: ImportOptions,
    ) -> StoreResult<TimetableImportOutcome> {
        let source = parsed.source.as_str();
        let scope_key = scope.stored();
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        let time_zone = administered_school_zone(&mut tx, actor_id, school_id).await?;
        check_scope(&mut tx, school_id, scope).await?;
        if let Some(reason) = other_school(&mut tx, school_id, parsed).await? {
            tx.rollback().await?;
            return self.refuse(actor_id, school_id, source, file_name, reason, false).await;
        }

        let mut rejections = Vec::new();
        let year =
            school_year(&mut tx, school_id, parsed, &time_zone, file_name, &mut rejections).await?;
        if !parsed.places.is_empty() {
            replace_places(&mut tx, school_id, &parsed.places).await?;
        }
        let directory = load_directory(&mut tx, school_id).await?;
        let mut plan = Plan {
            file_name,
            year,
            directory,
            new_rooms: Vec::new(),
            courses: Vec::new(),
            rejections,
            notices: Vec::new(),
            problems: BTreeMap::new(),
            teacher_names: BTreeSet::new(),
            matched_teacher_names: BTreeSet::new(),
        };
        let mut seen_keys = BTreeSet::new();
        for course in &parsed.courses {
            if !seen_keys.insert(course.key.as_str()) {
                plan.reject(course, format!("cours en double (clé {})", course.key));
                continue;
            }
            plan.add(course, scope);
        }

        let mut rooms = Rows::new("INSERT INTO rooms (id, school_id, code, name)", 4, "");
        for (id, code, name) in &plan.new_rooms {
            rooms.push([id.into(), school_id.into(), code.into(), name.into()]);
        }
        if !rooms.is_empty() {
            rooms.execute(&mut tx).await?;
        }
        let target = Target { school_id, source, scope: &scope_key };
        let counts = write_courses(&mut tx, &target, &plan.courses, now).await?;
        if !options.confirmed
            && let Some(reason) = unsafe_import(&counts, &plan, scope)
        {
            tx.rollback().await?;
            return self.refuse(actor_id, school_id, source, file_name, reason, true).await;
        }

        let mut report = TimetableImportReport {
            id: new_id(),
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            removed: counts.removed,
            rejections: parsed.rejections.iter().cloned().chain(plan.rejections).collect(),
            notices: parsed.notices.iter().cloned().chain(plan.notices).collect(),
            problems: plan.problems.into_values().collect(),
            replaced: counts.replaced,
        };
        report.problems.sort_by(|a, b| (&a.kind, &a.label).cmp(&(&b.kind, &b.label)));
        record_applied(&mut tx, actor_id, school_id, source, file_name, &report, now).await?;
        tx.commit().await?;

        // The planner keeps plans made while the tables were empty otherwise.
        if self.backend() == Backend::Postgres && report.created >= 100 {
            sqlx::query(
                "ANALYZE courses, course_teachers, course_classes, course_groups, \
                 course_rooms, rooms, course_changes",
            )
            .execute(self.pool())
            .await?;
        }
        Ok(TimetableImportOutcome::Applied(report))
    }

    /// Records an import refused after its transaction was rolled back, and says why.
    async fn refuse(
        &self,
        actor_id: Option<&str>,
        school_id: &str,
        source: &str,
        file_name: &str,
        reason: String,
        confirmable: bool,
    ) -> StoreResult<TimetableImportOutcome> {
        self.record_refused_timetable(actor_id, school_id, source, file_name, &reason).await?;
        Ok(TimetableImportOutcome::Refused(ImportRefusal { reason, confirmable }))
    }

    /// Records a file refused whole, for the console's list.
    pub async fn record_refused_timetable(
        &self,
        actor_id: Option<&str>,
        school_id: &str,
        source: &str,
        file_name: &str,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        administered_school_zone(&mut tx, actor_id, school_id).await?;
        let stored = StoredReport {
            rejections: vec![StoredRejection {
                file: file_name.to_owned(),
                line: 0,
                record: String::new(),
                reason: reason.to_owned(),
            }],
            ..StoredReport::default()
        };
        let json = serde_json::to_string(&stored)
            .map_err(|error| StoreError::Corrupt(format!("report: {error}")))?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO timetable_imports (id, school_id, source, file_name, started_by, \
             created_at, outcome, report) VALUES ($1, $2, $3, $4, $5, $6, 'refused', $7)",
        )
        .bind(&id)
        .bind(school_id)
        .bind(source)
        .bind(file_name)
        .bind(actor_id.map(str::to_owned))
        .bind(now_unix())
        .bind(json)
        .execute(&mut *tx)
        .await?;
        let detail = format!("{source} {file_name} refusé");
        audit(&mut tx, actor_id, "timetable_refused", school_id, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The school's last imports, newest first, with their reports.
    pub async fn timetable_imports(
        &self,
        school_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<(TimetableImportSummary, TimetableImportReport)>> {
        let rows = sqlx::query(
            "SELECT id, source, file_name, created_at, outcome, courses_created, \
             courses_updated, courses_unchanged, courses_removed, report \
             FROM timetable_imports WHERE school_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(school_id)
        .bind(limit.clamp(1, 1_000))
        .fetch_all(self.pool())
        .await?;
        let mut imports = Vec::with_capacity(rows.len());
        for row in &rows {
            let report: String = row.try_get("report")?;
            let stored: StoredReport = serde_json::from_str(&report).unwrap_or_default();
            let summary = TimetableImportSummary {
                id: row.try_get("id")?,
                source: row.try_get("source")?,
                file_name: row.try_get("file_name")?,
                created_at: row.try_get("created_at")?,
                outcome: row.try_get("outcome")?,
                created: row.try_get("courses_created")?,
                updated: row.try_get("courses_updated")?,
                unchanged: row.try_get("courses_unchanged")?,
                removed: row.try_get("courses_removed")?,
                rejections: stored.rejections.len(),
                problems: stored.problems.len(),
            };
            let report = TimetableImportReport {
                id: summary.id.clone(),
                created: u64::try_from(summary.created).unwrap_or(0),
                updated: u64::try_from(summary.updated).unwrap_or(0),
                unchanged: u64::try_from(summary.unchanged).unwrap_or(0),
                removed: u64::try_from(summary.removed).unwrap_or(0),
                rejections: stored.rejections.into_iter().map(Rejection::from).collect(),
                notices: stored.notices.into_iter().map(Rejection::from).collect(),
                problems: stored.problems,
                replaced: stored.replaced,
            };
            imports.push((summary, report));
        }
        Ok(imports)
    }
}

fn to_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Writes the run of an applied import and its audit line.
async fn record_applied(
    conn: &mut sqlx::AnyConnection,
    actor_id: Option<&str>,
    school_id: &str,
    source: &str,
    file_name: &str,
    report: &TimetableImportReport,
    now: i64,
) -> StoreResult<()> {
    let stored = StoredReport {
        rejections: report.rejections.iter().map(StoredRejection::from).collect(),
        notices: report.notices.iter().map(StoredRejection::from).collect(),
        problems: report.problems.clone(),
        replaced: report.replaced.clone(),
    };
    let json = serde_json::to_string(&stored)
        .map_err(|error| StoreError::Corrupt(format!("report: {error}")))?;
    sqlx::query(
        "INSERT INTO timetable_imports (id, school_id, source, file_name, started_by, \
         created_at, outcome, courses_created, courses_updated, courses_unchanged, \
         courses_removed, report) VALUES ($1, $2, $3, $4, $5, $6, 'applied', $7, $8, $9, \
         $10, $11)",
    )
    .bind(&report.id)
    .bind(school_id)
    .bind(source)
    .bind(file_name)
    .bind(actor_id.map(str::to_owned))
    .bind(now)
    .bind(to_i64(report.created))
    .bind(to_i64(report.updated))
    .bind(to_i64(report.unchanged))
    .bind(to_i64(report.removed))
    .bind(json)
    .execute(&mut *conn)
    .await?;
    let detail = format!(
        "{source} {file_name} : {} créés, {} modifiés, {} inchangés, {} supprimés",
        report.created, report.updated, report.unchanged, report.removed
    );
    audit(conn, actor_id, "timetable_imported", school_id, &detail).await
}

/// Why the file is another school's, when it names a UAI that is not the school's.
async fn other_school(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    parsed: &ParsedTimetable,
) -> StoreResult<Option<String>> {
    let Some(named) = parsed.school_uai.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let uai: String = sqlx::query_scalar("SELECT uai FROM schools WHERE id = $1")
        .bind(school_id)
        .fetch_one(&mut *conn)
        .await?;
    if named.eq_ignore_ascii_case(uai.trim()) {
        return Ok(None);
    }
    let shown: String = named.chars().filter(char::is_ascii_alphanumeric).take(16).collect();
    Ok(Some(format!(
        "ce fichier est l'emploi du temps de l'établissement d'UAI {shown}, pas de celui-ci \
         ({}) : importez l'export de ce collège",
        uai.trim()
    )))
}

/// Why applying this import unconfirmed would be unsafe, when it would: most of the scope's
/// courses removed or changed by a file whose teachers are mostly unknown here, or every
/// course of the scope removed and none created.
fn unsafe_import(counts: &Counts, plan: &Plan<'_>, scope: &ImportScope) -> Option<String> {
    let existing = counts.existing;
    if existing == 0 {
        return None;
    }
    let whose = match scope {
        ImportScope::School => "de l'établissement",
        ImportScope::Class(_) => "de la classe",
        ImportScope::Teacher(_) => "de l'enseignant",
    };
    if counts.removed == existing && counts.created == 0 {
        return Some(format!(
            "cet import retirerait les {existing} cours {whose} sans en créer aucun : le \
             fichier est vide ou ne correspond pas"
        ));
    }

    let touched = counts.removed + counts.updated;
    let names = plan.teacher_names.len() as u64;
    let matched = plan.matched_teacher_names.len() as u64;
    if touched * 2 > existing && names > 0 && matched * 2 < names {
        return Some(format!(
            "cet import retirerait ou modifierait {touched} des {existing} cours {whose}, alors \
             que seuls {matched} des {names} enseignants nommés par le fichier sont dans \
             l'annuaire : ce fichier est peut-être celui d'un autre collège"
        ));
    }
    None
}

/// The time zone of the active school `school_id` when `actor_id` administers it (or is
/// `None`: the CLI and the demo); `NotFound` otherwise.
async fn administered_school_zone(
    conn: &mut sqlx::AnyConnection,
    actor_id: Option<&str>,
    school_id: &str,
) -> StoreResult<String> {
    let sql = format!(
        "SELECT s.time_zone FROM schools s WHERE s.id = $1 AND s.active = 1 \
         AND ($3 = 1 OR {})",
        administers("$2", "s.id")
    );
    let zone: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(school_id)
        .bind(actor_id.unwrap_or(""))
        .bind(i64::from(actor_id.is_none()))
        .fetch_optional(&mut *conn)
        .await?;
    zone.ok_or(StoreError::NotFound)
}

/// Checks that the class or teacher of a scoped import belongs to the school.
async fn check_scope(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    scope: &ImportScope,
) -> StoreResult<()> {
    let sql = match scope {
        ImportScope::School => return Ok(()),
        ImportScope::Class(_) => {
            "SELECT COUNT(*) FROM classes WHERE id = $1 AND school_id = $2".to_owned()
        }
        ImportScope::Teacher(_) => format!(
            "SELECT COUNT(*) FROM people p WHERE p.id = $1 AND p.active = 1 AND p.id IN ({})",
            teachers_of_school("$2")
        ),
    };
    let (ImportScope::Class(id) | ImportScope::Teacher(id)) = scope else { return Ok(()) };
    let found: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(school_id)
        .fetch_one(&mut *conn)
        .await?;
    if found == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The school year the import counts weeks in: the file's (stored), else the school's, else
/// the usual year around today in the school's zone (stored).
async fn school_year(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    parsed: &ParsedTimetable,
    time_zone: &str,
    file_name: &str,
    rejections: &mut Vec<Rejection>,
) -> StoreResult<SchoolYear> {
    let stored =
        sqlx::query("SELECT first_monday, last_day FROM school_years WHERE school_id = $1")
            .bind(school_id)
            .fetch_optional(&mut *conn)
            .await?;
    let stored = match stored {
        Some(row) => {
            let first: String = row.try_get("first_monday")?;
            let last: String = row.try_get("last_day")?;
            SchoolYear::new(parse_date(&first)?, parse_date(&last)?).ok()
        }
        None => None,
    };
    let from_file = match (parsed.first_monday, parsed.last_day) {
        (Some(first), Some(last)) => match SchoolYear::new(first, last) {
            Ok(year) => Some(year),
            Err(error) => {
                rejections.push(Rejection {
                    file: file_name.to_owned(),
                    line: 0,
                    record: String::new(),
                    reason: format!("année scolaire du fichier ignorée : {error}"),
                });
                None
            }
        },
        _ => None,
    };
    let year = from_file.or(stored).unwrap_or_else(|| {
        SchoolYear::around(local_today(jiff::Timestamp::now(), &zone(time_zone)))
    });
    if stored != Some(year) {
        sqlx::query(
            "INSERT INTO school_years (school_id, first_monday, last_day, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (school_id) DO UPDATE SET \
             first_monday = excluded.first_monday, last_day = excluded.last_day, \
             updated_at = excluded.updated_at",
        )
        .bind(school_id)
        .bind(year.first_monday.to_string())
        .bind(year.last_day.to_string())
        .bind(now_unix())
        .execute(&mut *conn)
        .await?;
    }
    Ok(year)
}

async fn replace_places(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    places: &[(u16, LessonTime)],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM time_slots WHERE school_id = $1")
        .bind(school_id)
        .execute(&mut *conn)
        .await?;
    let mut rows = Rows::new(
        "INSERT INTO time_slots (school_id, number, start_minute, end_minute)",
        4,
        "ON CONFLICT (school_id, number) DO NOTHING",
    );
    for (number, time) in places {
        rows.push([
            school_id.into(),
            i64::from(*number).into(),
            i64::from(time.start_minute).into(),
            i64::from(time.end_minute).into(),
        ]);
    }
    rows.execute(conn).await?;
    Ok(())
}

async fn load_directory(conn: &mut sqlx::AnyConnection, school_id: &str) -> StoreResult<Directory> {
    let sql = format!(
        "SELECT p.id, p.external_id, p.last_name, p.first_name FROM people p \
         WHERE p.active = 1 AND p.id IN ({})",
        teachers_of_school("$1")
    );
    let teachers = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            let last: String = row.try_get("last_name")?;
            let first: String = row.try_get("first_name")?;
            Ok(Teacher {
                id: row.try_get("id")?,
                external_id: row.try_get("external_id")?,
                last: domain::names::fold_for_search(&last),
                first: domain::names::fold_for_search(&first),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let codes = |rows: Vec<sqlx::any::AnyRow>| {
        rows.iter()
            .map(|row| {
                let code: String = row.try_get("code")?;
                Ok((row.try_get("id")?, code_key(&code)))
            })
            .collect::<StoreResult<Vec<(String, String)>>>()
    };
    let classes = codes(
        sqlx::query("SELECT id, code FROM classes WHERE school_id = $1")
            .bind(school_id)
            .fetch_all(&mut *conn)
            .await?,
    )?;
    let groups = codes(
        sqlx::query("SELECT id, code FROM teaching_groups WHERE school_id = $1")
            .bind(school_id)
            .fetch_all(&mut *conn)
            .await?,
    )?;
    let rooms = codes(
        sqlx::query("SELECT id, code FROM rooms WHERE school_id = $1")
            .bind(school_id)
            .fetch_all(&mut *conn)
            .await?,
    )?
    .into_iter()
    .map(|(id, code)| (code, id))
    .collect();
    Ok(Directory { teachers, classes, groups, rooms })
}

#[derive(Default)]
struct Counts {
    /// The courses of the scope before the import.
    existing: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
    removed: u64,
    replaced: Vec<ReplacedTimetable>,
}

/// Where an import writes: a school, the file's source, and the stored scope (`""` for the
/// school-wide courses).
struct Target<'a> {
    school_id: &'a str,
    source: &'a str,
    scope: &'a str,
}

/// A stored course of the scope: its id, fingerprint and source.
struct StoredCourse {
    id: String,
    fingerprint: String,
    source: String,
}

/// The stored courses an import replaces: those of its source and scope by source key, and,
/// for a school-wide import, the school-wide courses of every other source (all removed).
async fn replaced_courses(
    conn: &mut sqlx::AnyConnection,
    target: &Target<'_>,
) -> StoreResult<(HashMap<String, StoredCourse>, Vec<StoredCourse>)> {
    let rows = sqlx::query(
        "SELECT id, source, source_key, fingerprint FROM courses \
         WHERE school_id = $1 AND source_scope = $3 AND (source = $2 OR $3 = '')",
    )
    .bind(target.school_id)
    .bind(target.source)
    .bind(target.scope)
    .fetch_all(&mut *conn)
    .await?;
    let mut same = HashMap::with_capacity(rows.len());
    let mut others = Vec::new();
    for row in &rows {
        let course = StoredCourse {
            id: row.try_get("id")?,
            fingerprint: row.try_get("fingerprint")?,
            source: row.try_get("source")?,
        };
        if course.source == target.source {
            same.insert(row.try_get("source_key")?, course);
        } else {
            others.push(course);
        }
    }
    Ok((same, others))
}

/// Compares the planned courses with the stored ones they replace and writes the difference,
/// then the cancellations of the file.
async fn write_courses(
    conn: &mut sqlx::AnyConnection,
    target: &Target<'_>,
    planned: &[Planned],
    now: i64,
) -> StoreResult<Counts> {
    let Target { school_id, source, scope } = *target;
    let (stored, others) = replaced_courses(conn, target).await?;

    let existing = (stored.len() + others.len()) as u64;
    let mut counts = Counts { existing, ..Counts::default() };
    let mut inserts = Rows::new(
        "INSERT INTO courses (id, school_id, source, source_key, source_scope, subject_code, \
         subject_label, weekday, start_minute, end_minute, weeks, fingerprint, sequence, \
         unmatched_teachers, created_at, updated_at)",
        16,
        "",
    );
    let mut relinked: Vec<String> = Vec::new();
    // Per planned course: its id, and whether its links are (re)written.
    let mut resolved: Vec<(String, bool)> = Vec::with_capacity(planned.len());
    for course in planned {
        let fingerprint = course.fingerprint();
        match stored.get(&course.key).map(|stored| (&stored.id, &stored.fingerprint)) {
            Some((id, old)) if *old == fingerprint => {
                counts.unchanged += 1;
                resolved.push((id.clone(), false));
            }
            Some((id, _)) => {
                counts.updated += 1;
                sqlx::query(
                    "UPDATE courses SET subject_code = $2, subject_label = $3, weekday = $4, \
                     start_minute = $5, end_minute = $6, weeks = $7, fingerprint = $8, \
                     sequence = sequence + 1, unmatched_teachers = $9, updated_at = $10 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(course.subject_code.clone())
                .bind(&course.subject_label)
                .bind(i64::from(course.weekday))
                .bind(i64::from(course.time.start_minute))
                .bind(i64::from(course.time.end_minute))
                .bind(course.weeks.to_db())
                .bind(&fingerprint)
                .bind(course.unmatched_text())
                .bind(now)
                .execute(&mut *conn)
                .await?;
                relinked.push(id.clone());
                resolved.push((id.clone(), true));
            }
            None => {
                counts.created += 1;
                let id = new_id();
                inserts.push([
                    Value::from(&id),
                    school_id.into(),
                    source.into(),
                    (&course.key).into(),
                    scope.into(),
                    course.subject_code.clone().into(),
                    (&course.subject_label).into(),
                    i64::from(course.weekday).into(),
                    i64::from(course.time.start_minute).into(),
                    i64::from(course.time.end_minute).into(),
                    course.weeks.to_db().into(),
                    fingerprint.into(),
                    0i64.into(),
                    course.unmatched_text().into(),
                    now.into(),
                    now.into(),
                ]);
                resolved.push((id, true));
            }
        }
    }

    let kept: BTreeSet<&str> = planned.iter().map(|course| course.key.as_str()).collect();
    let mut gone: Vec<String> = stored
        .iter()
        .filter(|(key, _)| !kept.contains(key.as_str()))
        .map(|(_, course)| course.id.clone())
        .collect();
    let mut replaced: BTreeMap<&str, u64> = BTreeMap::new();
    for course in &others {
        gone.push(course.id.clone());
        *replaced.entry(course.source.as_str()).or_default() += 1;
    }
    counts.removed = gone.len() as u64;
    counts.replaced = replaced
        .into_iter()
        .map(|(source, courses)| ReplacedTimetable { source: source.to_owned(), courses })
        .collect();
    if !gone.is_empty() {
        execute_in(conn, "DELETE FROM courses WHERE id", "", &[], &gone).await?;
    }
    if !inserts.is_empty() {
        inserts.execute(conn).await?;
    }
    if !relinked.is_empty() {
        for table in ["course_teachers", "course_classes", "course_groups", "course_rooms"] {
            let before = format!("DELETE FROM {table} WHERE course_id");
            execute_in(conn, &before, "", &[], &relinked).await?;
        }
    }

    let mut teachers = Rows::new("INSERT INTO course_teachers (course_id, person_id)", 2, "");
    let mut classes = Rows::new("INSERT INTO course_classes (course_id, class_id)", 2, "");
    let mut groups = Rows::new("INSERT INTO course_groups (course_id, group_id)", 2, "");
    let mut rooms = Rows::new("INSERT INTO course_rooms (course_id, room_id)", 2, "");
    for (course, (id, link)) in planned.iter().zip(&resolved) {
        if *link {
            for (rows, targets) in [
                (&mut teachers, &course.teachers),
                (&mut classes, &course.classes),
                (&mut groups, &course.groups),
                (&mut rooms, &course.rooms),
            ] {
                for target in targets {
                    rows.push([Value::from(id), target.into()]);
                }
            }
        }
    }
    for rows in [teachers, classes, groups, rooms] {
        if !rows.is_empty() {
            rows.execute(conn).await?;
        }
    }

    let course_ids: Vec<String> = resolved.into_iter().map(|(id, _)| id).collect();
    write_import_changes(conn, school_id, source, scope, planned, &course_ids, now).await?;
    Ok(counts)
}

/// Makes the stored `import` changes of these courses the file's cancellations: those the
/// file no longer has are deleted, new ones inserted (a manual change of the same occurrence
/// wins), the others kept as they are.
async fn write_import_changes(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    source: &str,
    scope: &str,
    planned: &[Planned],
    course_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    let wanted: BTreeSet<(String, String)> = planned
        .iter()
        .zip(course_ids)
        .flat_map(|(course, id)| course.cancelled.iter().map(|date| (id.clone(), date.to_string())))
        .collect();
    let stored = sqlx::query(
        "SELECT ch.id, ch.course_id, ch.occurrence_date FROM course_changes ch \
         JOIN courses c ON c.id = ch.course_id WHERE c.school_id = $1 AND c.source = $2 \
         AND c.source_scope = $3 AND ch.origin = 'import'",
    )
    .bind(school_id)
    .bind(source)
    .bind(scope)
    .fetch_all(&mut *conn)
    .await?;
    let mut present = BTreeSet::new();
    let mut stale = Vec::new();
    for row in &stored {
        let key: (String, String) = (row.try_get("course_id")?, row.try_get("occurrence_date")?);
        if wanted.contains(&key) {
            present.insert(key);
        } else {
            stale.push(row.try_get("id")?);
        }
    }
    if !stale.is_empty() {
        execute_in(conn, "DELETE FROM course_changes WHERE id", "", &[], &stale).await?;
    }
    let mut rows = Rows::new(
        "INSERT INTO course_changes (id, course_id, occurrence_date, origin, cancelled, \
         sequence, created_at, updated_at)",
        8,
        "ON CONFLICT (course_id, occurrence_date) DO NOTHING",
    );
    for (course_id, date) in wanted.difference(&present) {
        rows.push([
            new_id().into(),
            course_id.into(),
            date.into(),
            "import".into(),
            1i64.into(),
            1i64.into(),
            now.into(),
            now.into(),
        ]);
    }
    if !rows.is_empty() {
        rows.execute(conn).await?;
    }
    Ok(())
}
