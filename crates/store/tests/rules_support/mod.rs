//! An independent model of the communication rules for the matrix tests: it reads the link
//! tables into memory once and decides "may A write to B" in plain Rust, from the rules as
//! `PRODUCT.md` and the rule catalogue state them, without any of the engine's SQL. The matrix
//! then compares it with `Store::may_write_to` for every pair (or a deterministic sample).
//! Shared by `crates/store/tests/rules*.rs` and `crates/preau/tests/rules_matrix_demo.rs`.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use domain::communication::{GroupKind, Recipient, Rule};
use store::Store;

/// Everything the rules read, in memory, indexed the way the rules are stated.
#[derive(Debug, Default)]
pub struct Model {
    /// Person id → (profile, active).
    pub people: HashMap<String, (String, bool)>,
    pub schools: Vec<String>,
    class_school: HashMap<String, String>,
    group_school: HashMap<String, String>,
    classes_of_school: HashMap<String, Vec<String>>,
    /// The teachers, principal teachers and attached staff of each class.
    adults_of_class: HashMap<String, Vec<String>>,
    teachers_of_group: HashMap<String, Vec<String>>,
    /// The current pupils of each class, and the current classes of each pupil.
    pupils_of_class: HashMap<String, Vec<String>>,
    classes_of_pupil: HashMap<String, Vec<String>>,
    groups_of_pupil: HashMap<String, Vec<String>>,
    pupils_of_group: HashMap<String, Vec<String>>,
    /// The classes and groups each teacher or staff member teaches or is attached to.
    classes_of_adult: HashMap<String, Vec<String>>,
    groups_of_adult: HashMap<String, Vec<String>>,
    /// The schools each person administers: role `school_admin` or function `DIR`.
    administered: HashMap<String, Vec<String>>,
    /// (relative, legal) per pupil, and (pupil, legal) per relative.
    relatives_of: HashMap<String, Vec<(String, i64)>>,
    pupils_of: HashMap<String, Vec<(String, i64)>>,
    /// The teachers and staff of each school, and the schools of each of them.
    adults_of_school: HashMap<String, BTreeSet<String>>,
    schools_of_adult: HashMap<String, BTreeSet<String>>,
    direction_of: HashMap<String, Vec<String>>,
    /// The département's agents and officials with their scope ('' = every school).
    scopes: Vec<(String, String)>,
    /// (school, rule code) → allowed.
    choices: HashMap<(String, String), bool>,
    /// The senders of every inbox copy of a message that was not recalled, per recipient.
    senders_to: HashMap<String, Vec<String>>,
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

async fn rows(store: &Store, sql: &str) -> Vec<Vec<String>> {
    store
        .rules_test_rows(sql)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .iter()
        .map(|row| row.iter().map(text).collect())
        .collect()
}

async fn pairs(store: &Store, sql: &str) -> Vec<(String, String)> {
    rows(store, sql).await.into_iter().map(|r| (r[0].clone(), r[1].clone())).collect()
}

fn push<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, Vec<V>>, key: K, value: V) {
    map.entry(key).or_default().push(value);
}

fn is_legal(legal: i64) -> bool {
    legal == 1 || legal == 2
}

impl Model {
    /// Reads the tables, with the class memberships that hold on `today` ('YYYY-MM-DD').
    pub async fn load(store: &Store, today: &str) -> Model {
        let mut m = Model::default();
        for row in rows(store, "SELECT id, profile, CAST(active AS TEXT) FROM people").await {
            m.people.insert(row[0].clone(), (row[1].clone(), row[2] == "1"));
        }
        m.schools =
            rows(store, "SELECT id FROM schools").await.into_iter().map(|r| r[0].clone()).collect();
        for (class, school) in pairs(store, "SELECT id, school_id FROM classes").await {
            push(&mut m.classes_of_school, school.clone(), class.clone());
            m.class_school.insert(class, school);
        }
        m.group_school =
            pairs(store, "SELECT id, school_id FROM teaching_groups").await.into_iter().collect();

        // Who works where: attached, a function there, or a class or group of the school.
        let mut works: Vec<(String, String)> =
            pairs(store, "SELECT person_id, school_id FROM person_schools").await;
        for row in rows(store, "SELECT person_id, school_id, code FROM person_functions").await {
            if row[2] == "DIR" {
                push(&mut m.direction_of, row[1].clone(), row[0].clone());
                push(&mut m.administered, row[0].clone(), row[1].clone());
            }
            works.push((row[0].clone(), row[1].clone()));
        }
        for sql in [
            "SELECT teacher_id, class_id FROM class_teachers",
            "SELECT teacher_id, class_id FROM principal_teachers",
        ] {
            for (teacher, class) in pairs(store, sql).await {
                works.push((teacher.clone(), m.class_school[&class].clone()));
                push(&mut m.classes_of_adult, teacher.clone(), class.clone());
                push(&mut m.adults_of_class, class, teacher);
            }
        }
        for (teacher, group) in
            pairs(store, "SELECT teacher_id, group_id FROM group_teachers").await
        {
            works.push((teacher.clone(), m.group_school[&group].clone()));
            push(&mut m.groups_of_adult, teacher.clone(), group.clone());
            push(&mut m.teachers_of_group, group, teacher);
        }
        for (person, school) in works {
            if matches!(m.profile(&person), "teacher" | "staff") {
                m.adults_of_school.entry(school.clone()).or_default().insert(person.clone());
                m.schools_of_adult.entry(person).or_default().insert(school);
            }
        }

        for row in rows(store, "SELECT pupil_id, class_id, exit_date FROM pupil_classes").await {
            // A membership without an exit date, or whose exit date is today or later, holds.
            if row[2].is_empty() || row[2].as_str() >= today {
                push(&mut m.pupils_of_class, row[1].clone(), row[0].clone());
                push(&mut m.classes_of_pupil, row[0].clone(), row[1].clone());
            }
        }
        for (pupil, group) in pairs(store, "SELECT pupil_id, group_id FROM pupil_groups").await {
            push(&mut m.groups_of_pupil, pupil.clone(), group.clone());
            push(&mut m.pupils_of_group, group, pupil);
        }
        for row in
            rows(store, "SELECT pupil_id, relative_id, CAST(legal AS TEXT) FROM guardianships")
                .await
        {
            let legal: i64 = row[2].parse().unwrap();
            push(&mut m.relatives_of, row[0].clone(), (row[1].clone(), legal));
            push(&mut m.pupils_of, row[1].clone(), (row[0].clone(), legal));
        }
        m.scopes = pairs(store, "SELECT person_id, school_id FROM departement_scopes").await;
        for (person, school) in
            pairs(store, "SELECT person_id, school_id FROM roles WHERE role = 'school_admin'").await
        {
            push(&mut m.administered, person, school);
        }
        for row in
            rows(store, "SELECT school_id, rule, CAST(allowed AS TEXT) FROM communication_rules")
                .await
        {
            m.choices.insert((row[0].clone(), row[1].clone()), row[2] == "1");
        }
        for (owner, sender) in pairs(
            store,
            "SELECT e.owner_id, m.sender_id FROM mailbox_entries e \
             JOIN messages m ON m.id = e.message_id \
             WHERE e.origin = 'inbox' AND m.recalled_at IS NULL",
        )
        .await
        {
            push(&mut m.senders_to, owner, sender);
        }
        m
    }

    /// A person's profile ('' when unknown).
    pub fn profile(&self, id: &str) -> &str {
        self.people.get(id).map_or("", |(profile, _)| profile.as_str())
    }

    fn active(&self, id: &str) -> bool {
        self.people.get(id).is_some_and(|(_, active)| *active)
    }

    /// Whether the rule holds in the school: its own choice, else the default.
    pub fn allows(&self, rule: Rule, school: &str) -> bool {
        self.choices
            .get(&(school.to_owned(), rule.code().to_owned()))
            .copied()
            .unwrap_or(rule.default_allowed())
    }

    fn list<'a>(map: &'a HashMap<String, Vec<String>>, key: &str) -> &'a [String] {
        map.get(key).map_or(&[], Vec::as_slice)
    }

    /// The legal guardians (1 or 2) of the active pupils currently in a class.
    fn parents_of_class(&self, class: &str) -> Vec<String> {
        let mut parents = Vec::new();
        for pupil in Self::list(&self.pupils_of_class, class) {
            if self.active(pupil) {
                for (relative, legal) in self.relatives_of.get(pupil).into_iter().flatten() {
                    if is_legal(*legal) {
                        parents.push(relative.clone());
                    }
                }
            }
        }
        parents
    }

    /// Whether a département agent or official's scope covers the school.
    fn covers(&self, person: &str, school: &str) -> bool {
        self.scopes.iter().any(|(p, s)| p == person && (s.is_empty() || s == school))
    }

    /// Everyone `viewer` may write to, as the rules say.
    pub fn reachable(&self, viewer: &str) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        if !self.active(viewer) {
            return out;
        }
        let profile = self.profile(viewer).to_owned();

        // Family, both ways, and replies: whatever the school decided.
        for (pupil, legal) in self.pupils_of.get(viewer).into_iter().flatten() {
            if is_legal(*legal) {
                out.insert(pupil.clone());
            }
        }
        for (relative, legal) in self.relatives_of.get(viewer).into_iter().flatten() {
            if is_legal(*legal) {
                out.insert(relative.clone());
            }
        }
        out.extend(Self::list(&self.senders_to, viewer).iter().cloned());

        // A school's adults: everyone of the school, and the département's people over it.
        if matches!(profile.as_str(), "teacher" | "staff") {
            for school in self.schools_of_adult.get(viewer).into_iter().flatten() {
                if self.allows(Rule::StaffToSchool, school) {
                    out.extend(self.adults_of_school[school].iter().cloned());
                    for class in Self::list(&self.classes_of_school, school) {
                        out.extend(Self::list(&self.pupils_of_class, class).iter().cloned());
                        out.extend(self.parents_of_class(class));
                    }
                }
                if self.allows(Rule::DepartementToSchoolAdults, school) {
                    for (person, _) in &self.scopes {
                        if matches!(self.profile(person), "agent" | "official")
                            && self.covers(person, school)
                        {
                            out.insert(person.clone());
                        }
                    }
                }
            }
        }

        // A pupil: their current classes and their groups.
        let pupil = profile == "pupil";
        for class in Self::list(&self.classes_of_pupil, viewer).iter().filter(|_| pupil) {
            let school = &self.class_school[class];
            if self.allows(Rule::PupilToClassmates, school) {
                out.extend(Self::list(&self.pupils_of_class, class).iter().cloned());
            }
            if self.allows(Rule::PupilToClassAdults, school) {
                out.extend(Self::list(&self.adults_of_class, class).iter().cloned());
            }
            if self.allows(Rule::PupilToDirection, school) {
                out.extend(Self::list(&self.direction_of, school).iter().cloned());
            }
        }
        for group in Self::list(&self.groups_of_pupil, viewer).iter().filter(|_| pupil) {
            if self.allows(Rule::PupilToClassAdults, &self.group_school[group]) {
                out.extend(Self::list(&self.teachers_of_group, group).iter().cloned());
            }
        }

        // A legal guardian: their active children's current classes and groups.
        for (child, legal) in self.pupils_of.get(viewer).into_iter().flatten() {
            if profile != "relative" || !is_legal(*legal) || !self.active(child) {
                continue;
            }
            for class in Self::list(&self.classes_of_pupil, child) {
                let school = &self.class_school[class];
                if self.allows(Rule::ParentToClassAdults, school) {
                    out.extend(Self::list(&self.adults_of_class, class).iter().cloned());
                }
                if self.allows(Rule::ParentToClassParents, school) {
                    out.extend(self.parents_of_class(class));
                }
                if self.allows(Rule::ParentToDirection, school) {
                    out.extend(Self::list(&self.direction_of, school).iter().cloned());
                }
            }
            for group in Self::list(&self.groups_of_pupil, child) {
                if self.allows(Rule::ParentToClassAdults, &self.group_school[group]) {
                    out.extend(Self::list(&self.teachers_of_group, group).iter().cloned());
                }
            }
        }

        // The département's people: the adults of the schools of their scope.
        if matches!(profile.as_str(), "agent" | "official") {
            for school in &self.schools {
                if self.covers(viewer, school)
                    && self.allows(Rule::DepartementToSchoolAdults, school)
                {
                    out.extend(self.adults_of_school.get(school).into_iter().flatten().cloned());
                }
            }
        }

        out.remove(viewer);
        out.retain(|person| self.active(person));
        out
    }

    /// The members of a recipient group, before the rules.
    fn members(&self, kind: GroupKind, target: &str) -> BTreeSet<String> {
        let parents_of = |pupils: &[String]| -> Vec<String> {
            let mut parents = Vec::new();
            for pupil in pupils.iter().filter(|pupil| self.active(pupil)) {
                for (relative, legal) in self.relatives_of.get(pupil).into_iter().flatten() {
                    if is_legal(*legal) {
                        parents.push(relative.clone());
                    }
                }
            }
            parents
        };
        let school_pupils = || -> Vec<String> {
            Self::list(&self.classes_of_school, target)
                .iter()
                .flat_map(|class| Self::list(&self.pupils_of_class, class).iter().cloned())
                .collect()
        };
        match kind {
            GroupKind::ClassPupils => {
                Self::list(&self.pupils_of_class, target).iter().cloned().collect()
            }
            GroupKind::ClassParents => self.parents_of_class(target).into_iter().collect(),
            GroupKind::ClassAdults => {
                Self::list(&self.adults_of_class, target).iter().cloned().collect()
            }
            GroupKind::GroupPupils => {
                Self::list(&self.pupils_of_group, target).iter().cloned().collect()
            }
            GroupKind::GroupParents => {
                parents_of(Self::list(&self.pupils_of_group, target)).into_iter().collect()
            }
            GroupKind::SchoolAdults => {
                self.adults_of_school.get(target).into_iter().flatten().cloned().collect()
            }
            GroupKind::SchoolPupils => school_pupils().into_iter().collect(),
            GroupKind::SchoolParents => parents_of(&school_pupils()).into_iter().collect(),
        }
    }

    /// The groups `viewer` may address whole, by token, with their members counted: a
    /// teacher or staff member their classes and groups, a staff member and a head their
    /// schools, a pupil their classes' pupils and adults, a parent their children's classes'
    /// parents and adults, a département person the adults of their scope.
    pub fn groups(&self, viewer: &str) -> BTreeMap<String, i64> {
        let mut candidates: HashSet<(GroupKind, String)> = HashSet::new();
        let profile = self.profile(viewer).to_owned();
        let adult = matches!(profile.as_str(), "teacher" | "staff");
        if adult {
            for class in Self::list(&self.classes_of_adult, viewer) {
                for kind in
                    [GroupKind::ClassPupils, GroupKind::ClassParents, GroupKind::ClassAdults]
                {
                    candidates.insert((kind, class.clone()));
                }
            }
            for group in Self::list(&self.groups_of_adult, viewer) {
                for kind in [GroupKind::GroupPupils, GroupKind::GroupParents] {
                    candidates.insert((kind, group.clone()));
                }
            }
        }
        let mut whole: BTreeSet<String> =
            Self::list(&self.administered, viewer).iter().cloned().collect();
        if profile == "staff" {
            whole.extend(self.schools_of_adult.get(viewer).into_iter().flatten().cloned());
        }
        for school in whole {
            for kind in [GroupKind::SchoolAdults, GroupKind::SchoolPupils, GroupKind::SchoolParents]
            {
                candidates.insert((kind, school.clone()));
            }
        }
        if profile == "pupil" {
            for class in Self::list(&self.classes_of_pupil, viewer) {
                candidates.insert((GroupKind::ClassPupils, class.clone()));
                candidates.insert((GroupKind::ClassAdults, class.clone()));
            }
        }
        if profile == "relative" {
            for (child, legal) in self.pupils_of.get(viewer).into_iter().flatten() {
                if is_legal(*legal) && self.active(child) {
                    for class in Self::list(&self.classes_of_pupil, child) {
                        candidates.insert((GroupKind::ClassParents, class.clone()));
                        candidates.insert((GroupKind::ClassAdults, class.clone()));
                    }
                }
            }
        }
        if matches!(profile.as_str(), "agent" | "official") {
            for school in self.schools.iter().filter(|school| self.covers(viewer, school)) {
                candidates.insert((GroupKind::SchoolAdults, school.clone()));
            }
        }

        let reachable = self.reachable(viewer);
        let mut groups = BTreeMap::new();
        for (kind, target) in candidates {
            // Offered only whole: every active member other than the viewer is reachable.
            let mut members = self.members(kind, &target);
            members.retain(|person| person != viewer && self.active(person));
            let count = members.intersection(&reachable).count();
            if count > 0 && count == members.len() {
                groups.insert(Recipient::Group(kind, target).token(), count as i64);
            }
        }
        groups
    }
}

/// Every person id, sorted.
pub fn everyone(model: &Model) -> Vec<String> {
    let mut ids: Vec<String> = model.people.keys().cloned().collect();
    ids.sort();
    ids
}

/// Compares the engine with the model for each viewer of `viewers` against every person, and
/// panics with the first differences: the whole reach as the directory search lists it, for
/// every viewer; `Store::may_write_to` (the per-person form a send uses) and the recipient
/// groups with their member counts for every `checked_every`-th viewer. Returns how many pairs were compared and how many of them were
/// allowed.
pub async fn compare(
    store: &Store,
    model: &Model,
    viewers: &[String],
    checked_every: usize,
) -> (usize, usize) {
    let all = everyone(model);
    let mut compared = 0;
    let mut allowed = 0;
    let mut differences: Vec<String> = Vec::new();
    for (index, viewer) in viewers.iter().enumerate() {
        let expected = model.reachable(viewer);
        let mut forms: Vec<(&str, HashSet<String>)> = vec![(
            "listed",
            store.rules_test_reachable(viewer).await.unwrap().into_iter().collect(),
        )];
        if index % checked_every.max(1) == 0 {
            let checked = store.may_write_to(viewer, &all).await.unwrap();
            forms.push(("checked", checked.into_iter().collect()));
            let offered: BTreeMap<String, i64> = store
                .recipient_groups(viewer)
                .await
                .unwrap()
                .into_iter()
                .map(|group| (group.token, group.members))
                .collect();
            let wanted = model.groups(viewer);
            if offered != wanted {
                differences.push(format!(
                    "groups of {viewer} ({}): model {wanted:?}, engine {offered:?}",
                    model.profile(viewer)
                ));
            }
        }
        for (form, actual) in &forms {
            // Every pair: a target is allowed on one side and not the other exactly when it
            // is in the symmetric difference of the two sets.
            let missing = expected.iter().filter(|target| !actual.contains(*target));
            let extra = actual.iter().filter(|target| !expected.contains(*target));
            for (target, want) in missing.map(|t| (t, true)).chain(extra.map(|t| (t, false))) {
                differences.push(format!(
                    "{form}: {viewer} ({}) -> {target} ({}): model {want}, engine {}",
                    model.profile(viewer),
                    model.profile(target),
                    !want
                ));
            }
            compared += all.len();
        }
        allowed += expected.len();
    }
    assert!(
        differences.is_empty(),
        "{} differences, first: {:#?}",
        differences.len(),
        &differences[..differences.len().min(20)]
    );
    (compared, allowed)
}

/// Compares the general form of the engine (every profile's branches, as other modules may
/// embed it) with the model, for the viewers and targets given, one pair at a time.
pub async fn compare_general(store: &Store, model: &Model, viewers: &[String], targets: &[String]) {
    for viewer in viewers {
        let expected = model.reachable(viewer);
        let actual: HashSet<String> = store
            .rules_test_may_write_to_general(viewer, targets)
            .await
            .unwrap()
            .into_iter()
            .collect();
        for target in targets {
            assert_eq!(
                actual.contains(target),
                expected.contains(target),
                "general form: {viewer} ({}) -> {target} ({})",
                model.profile(viewer),
                model.profile(target)
            );
        }
    }
}

/// Every `step`-th person id from `offset` (sorted), as a deterministic sample.
pub fn sample(model: &Model, step: usize, offset: usize) -> Vec<String> {
    everyone(model).into_iter().skip(offset).step_by(step.max(1)).collect()
}

/// The people of the model with a profile, sorted.
pub fn with_profile(model: &Model, profile: &str) -> Vec<String> {
    let mut ids: Vec<String> =
        model.people.iter().filter(|(_, (p, _))| p == profile).map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids
}

/// Refreshes PostgreSQL's statistics after a test wrote its data, as autovacuum does within a
/// minute in production: without them the planner takes the link tables for empty. SQLite
/// keeps planning without statistics, as in production.
pub async fn analyze(store: &Store) {
    if store.backend() == store::Backend::Postgres {
        store.fixture_execute("ANALYZE", &[]).await.unwrap();
    }
}

/// Today in Paris, as the engine dates class memberships.
pub fn today() -> String {
    store::accounts::paris_date(store::now_unix()).unwrap()
}
