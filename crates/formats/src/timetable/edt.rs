//! The decrypted content of the EDT (Index Education) "export ENT": the school year's first
//! Monday (`AnneeScolaire`), the slot grid (`GrilleHoraire` and its `Place`s), the subjects,
//! teachers, classes, groups, parts of classes and rooms, and the courses (`Cours`) that refer
//! to them by `Ident`. All data sits in attributes. The encrypted envelope
//! (`EXPORT_INDEX_EDUCATION` whose `CONTENU` is still ciphertext) is refused whole: decrypting
//! it needs the ENT partner's private key, and the importer takes the decrypted content.
//!
//! **Weeks.** `Semaines`, `SemainesInclusion` and `SemainesAnnulation` are decimal bitmasks
//! where bit *i* (value 2^i) stands for school week *i + 1*: bit 0 is week 1, the week that
//! starts on `DatePremierJourSemaine1`. That is exactly [`WeekSet`]'s layout, so the number is
//! taken as is; a bit past week 60 rejects the course. A course's weeks are its own `Semaines`
//! when it has one, else the union of its children's. When its children run on different weeks
//! (a teacher for the first term, another for the second), the course is split into one parsed
//! course per set of weeks that has the same children, keyed `Ident#1`, `Ident#2`…
//!
//! **Times.** A course runs from the start of place `NumeroPlaceDebut` to the end of place
//! `NumeroPlaceDebut + NombrePlaces - 1` of the grid (a place without `LibelleHeureFin` lasts
//! `DureePlace` minutes).
//!
//! **Structure.** Elements are recognised by name wherever they sit, so list containers (`<Cours>`
//! around `<Cours …/>` items, or any other wrapper) are read at both levels: a `Cours` is a
//! course when it has attributes or children other than `Cours`; any other element is a record
//! when it has an `Ident` (pupils, relatives and absences always are). Records inside a course
//! are its references; records outside every course are definitions (a `PartieDeClasse` inside
//! a `Classe` defines a part of that class).
//!
//! The XML reading itself (encodings, no DTD, only predefined entities, caps) is [`xml`], which
//! the UDT reader shares.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use domain::timetable::{LessonTime, MAX_WEEKS, WeekSet};
use jiff::civil::{Date, Weekday};

use crate::timetable::{
    CourseWhen, MAX_FILE_BYTES, ParsedCourse, ParsedTimetable, PartyRef, Rejection,
    TimetableFileError, TimetableSource,
};

/// Reads the decrypted content of an EDT "export ENT". `file` names the file in messages.
pub fn parse(bytes: &[u8], file: &str) -> Result<ParsedTimetable, TimetableFileError> {
    crate::timetable::refuse_other_format(bytes, file, TimetableSource::Edt)?;
    let document = xml::read_document(bytes, file)?;
    let tree = Tree::new(&document.elements);
    refuse_envelope(&tree, file)?;
    if !tree.elements.iter().any(|e| e.name == "GrilleHoraire" || e.name == "Cours") {
        let root = tree.elements.first().map(|e| e.name.as_str()).unwrap_or_default();
        return Err(xml::file_error(
            file,
            1,
            format!(
                "élément racine <{root}> sans GrilleHoraire ni Cours : ce n'est pas le contenu \
                 déchiffré d'un export ENT d'EDT"
            ),
        ));
    }

    let (first_monday, declared_last_day) = school_year(&tree, file)?;
    let grid = Grid::read(&tree, file)?;
    let mut reader = CourseReader::new(&tree, file, &grid);
    reader.read_definitions();
    reader.read_courses();

    let last_week = reader.courses.iter().filter_map(last_week_of).max();
    let computed_last_day = last_week.and_then(|week| {
        let days = i64::from(week) * 7 - 1;
        first_monday.checked_add(jiff::Span::new().days(days)).ok()
    });
    Ok(ParsedTimetable {
        source: TimetableSource::Edt,
        school_uai: school_uai(&tree),
        first_monday: Some(first_monday),
        last_day: declared_last_day.or(computed_last_day),
        places: grid.places.iter().map(|(number, place)| (*number, place.time)).collect(),
        courses: reader.courses,
        rejections: reader.rejections,
        notices: reader.notices,
    })
}

/// The UAI the file names: a `UAI` element's text (as in the envelope) or a `UAI` attribute.
fn school_uai(tree: &Tree<'_>) -> Option<String> {
    tree.elements.iter().find_map(|element| {
        let value = match element.get("UAI") {
            Some(value) => value,
            None if element.name == "UAI" => element.text.as_str(),
            None => return None,
        };
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_ascii_uppercase())
    })
}

fn last_week_of(course: &ParsedCourse) -> Option<u8> {
    match &course.when {
        CourseWhen::Weekly { weeks, .. } => weeks.iter().last(),
        CourseWhen::Dated { .. } => None,
    }
}

/// The elements of the document with, for each, the nearest enclosing record.
struct Tree<'a> {
    elements: &'a [xml::Element],
    /// Whether each element is a record (a course, or anything with an `Ident`).
    is_record: Vec<bool>,
    /// The nearest enclosing record of each element, itself excluded.
    owner: Vec<Option<usize>>,
}

impl<'a> Tree<'a> {
    fn new(elements: &'a [xml::Element]) -> Tree<'a> {
        let mut has_other_child = vec![false; elements.len()];
        for element in elements {
            if let Some(parent) = element.parent
                && element.name != "Cours"
                && let Some(flag) = has_other_child.get_mut(parent)
            {
                *flag = true;
            }
        }
        let is_record: Vec<bool> = elements
            .iter()
            .enumerate()
            .map(|(index, element)| {
                match element.name.as_str() {
                    "Cours" => !element.attributes.is_empty() || has_other_child[index],
                    // Records that refer to classes without defining them.
                    "Eleve" | "Responsable" | "Absence" | "Ressource" | "Mef" => true,
                    _ => element.get("Ident").is_some(),
                }
            })
            .collect();
        let mut owner: Vec<Option<usize>> = Vec::with_capacity(elements.len());
        for element in elements {
            let value = element.parent.and_then(|parent| {
                if is_record.get(parent).copied().unwrap_or(false) {
                    Some(parent)
                } else {
                    owner.get(parent).copied().flatten()
                }
            });
            owner.push(value);
        }
        Tree { elements, is_record, owner }
    }

    fn parent_name(&self, index: usize) -> Option<&str> {
        let parent = self.elements.get(index)?.parent?;
        self.elements.get(parent).map(|e| e.name.as_str())
    }
}

/// Refuses the encrypted envelope, unless decrypted content was put inside it.
fn refuse_envelope(tree: &Tree<'_>, file: &str) -> Result<(), TimetableFileError> {
    let Some(root) = tree.elements.first() else {
        return Ok(());
    };
    if root.name != "EXPORT_INDEX_EDUCATION" {
        return Ok(());
    }
    let has_content = tree.elements.iter().any(|e| e.name == "GrilleHoraire" || e.name == "Cours");
    if has_content {
        return Ok(());
    }
    let partner = tree
        .elements
        .iter()
        .find(|e| e.name == "PARTENAIRE")
        .and_then(|e| e.get("NOM"))
        .map(|name| format!(" pour le partenaire « {name} »"))
        .unwrap_or_default();
    Err(xml::file_error(
        file,
        root.line,
        format!(
            "export ENT d'EDT encore chiffré (EXPORT_INDEX_EDUCATION) : son CONTENU est chiffré\
             {partner} et ne peut être lu qu'avec la clé privée du partenaire ENT ; importez le \
             contenu déchiffré"
        ),
    ))
}

/// `DatePremierJourSemaine1` (a Monday) and the optional `DateDernierJour`.
fn school_year(tree: &Tree<'_>, file: &str) -> Result<(Date, Option<Date>), TimetableFileError> {
    let Some(year) = tree.elements.iter().find(|e| e.name == "AnneeScolaire") else {
        return Err(xml::file_error(
            file,
            0,
            "élément AnneeScolaire absent : la date du premier jour de la semaine 1 est nécessaire",
        ));
    };
    let Some(text) = year.get("DatePremierJourSemaine1") else {
        return Err(xml::file_error(
            file,
            year.line,
            "AnneeScolaire sans attribut DatePremierJourSemaine1",
        ));
    };
    let Some(first_monday) = xml::parse_date(text) else {
        return Err(xml::file_error(
            file,
            year.line,
            format!(
                "DatePremierJourSemaine1 « {} » n'est pas une date (jj/mm/aaaa ou aaaa-mm-jj)",
                xml::shown(text)
            ),
        ));
    };
    if first_monday.weekday() != Weekday::Monday {
        return Err(xml::file_error(
            file,
            year.line,
            format!("DatePremierJourSemaine1 {first_monday} n'est pas un lundi"),
        ));
    }

    let last_day = match year.get("DateDernierJour") {
        None => None,
        Some(text) => match xml::parse_date(text) {
            Some(date) if date >= first_monday => Some(date),
            _ => {
                return Err(xml::file_error(
                    file,
                    year.line,
                    format!(
                        "DateDernierJour « {} » n'est pas une date postérieure au premier lundi",
                        xml::shown(text)
                    ),
                ));
            }
        },
    };
    Ok((first_monday, last_day))
}

/// One place of the grid.
#[derive(Debug, Clone, Copy)]
struct Place {
    time: LessonTime,
}

/// The slot grid: places by number.
struct Grid {
    places: BTreeMap<u16, Place>,
}

impl Grid {
    fn read(tree: &Tree<'_>, file: &str) -> Result<Grid, TimetableFileError> {
        let duration = tree
            .elements
            .iter()
            .find(|e| e.name == "GrilleHoraire")
            .and_then(|e| e.get("DureePlace"))
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|d| (1..=domain::timetable::MAX_LESSON_MINUTES).contains(d));

        let mut places = BTreeMap::new();
        for (index, element) in tree.elements.iter().enumerate() {
            if element.name != "Place" || tree.parent_name(index) != Some("GrilleHoraire") {
                continue;
            }
            let bad = |reason: String| xml::file_error(file, element.line, reason);
            let number = element
                .get("Numero")
                .and_then(|n| n.parse::<u16>().ok())
                .ok_or_else(|| bad("Place sans Numero entier".to_owned()))?;
            let start = element
                .get("LibelleHeureDebut")
                .and_then(xml::parse_clock)
                .ok_or_else(|| bad(format!("Place {number} : LibelleHeureDebut illisible")))?;
            let end = match element.get("LibelleHeureFin") {
                Some(text) => xml::parse_clock(text)
                    .ok_or_else(|| bad(format!("Place {number} : LibelleHeureFin illisible")))?,
                None => start.saturating_add(duration.ok_or_else(|| {
                    bad(format!("Place {number} sans LibelleHeureFin ni DureePlace"))
                })?),
            };
            let time =
                LessonTime::new(start, end).map_err(|e| bad(format!("Place {number} : {e}")))?;
            if places.insert(number, Place { time }).is_some() {
                return Err(bad(format!("Place {number} définie deux fois")));
            }
        }
        Ok(Grid { places })
    }

    /// From the start of place `first` to the end of place `first + count - 1`.
    fn span(&self, first: u16, count: u16) -> Result<LessonTime, String> {
        if count == 0 {
            return Err("NombrePlaces vaut 0".to_owned());
        }
        let last = first
            .checked_add(count - 1)
            .ok_or_else(|| format!("places {first} et suivantes hors de la grille"))?;
        for number in first..=last {
            if !self.places.contains_key(&number) {
                return Err(format!(
                    "place {number} absente de la grille horaire (cours des places {first} à \
                     {last})"
                ));
            }
        }
        let (Some(start), Some(end)) = (self.places.get(&first), self.places.get(&last)) else {
            return Err(format!("places {first} à {last} hors de la grille"));
        };
        LessonTime::new(start.time.start_minute, end.time.end_minute)
            .map_err(|e| format!("places {first} à {last} : {e}"))
    }
}

/// What a reference of a course points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Subject,
    Teacher,
    Class,
    Group,
    Part,
    Room,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        match name {
            "Matiere" => Some(Kind::Subject),
            "Professeur" | "Personnel" => Some(Kind::Teacher),
            "Classe" => Some(Kind::Class),
            "Groupe" => Some(Kind::Group),
            "PartieDeClasse" => Some(Kind::Part),
            "Salle" => Some(Kind::Room),
            _ => None,
        }
    }

    fn element(self) -> &'static str {
        match self {
            Kind::Subject => "Matiere",
            Kind::Teacher => "Professeur",
            Kind::Class => "Classe",
            Kind::Group => "Groupe",
            Kind::Part => "PartieDeClasse",
            Kind::Room => "Salle",
        }
    }
}

/// A definition: a subject is `(code, label)` in `party.external_id` / `party.label`.
#[derive(Debug, Clone)]
struct Definition {
    party: PartyRef,
}

/// A reference of a course to a definition, with its own weeks.
#[derive(Debug, Clone)]
struct Reference {
    kind: Kind,
    ident: String,
    weeks: Option<WeekSet>,
}

struct CourseReader<'a> {
    tree: &'a Tree<'a>,
    file: &'a str,
    grid: &'a Grid,
    definitions: HashMap<(Kind, String), Definition>,
    /// The line where each course `Ident` was first seen.
    seen_idents: HashMap<String, u64>,
    /// How many courses share each content digest.
    seen_digests: HashMap<String, u32>,
    courses: Vec<ParsedCourse>,
    rejections: Vec<Rejection>,
    notices: Vec<Rejection>,
}

impl<'a> CourseReader<'a> {
    fn new(tree: &'a Tree<'a>, file: &'a str, grid: &'a Grid) -> CourseReader<'a> {
        CourseReader {
            tree,
            file,
            grid,
            definitions: HashMap::new(),
            seen_idents: HashMap::new(),
            seen_digests: HashMap::new(),
            courses: Vec::new(),
            rejections: Vec::new(),
            notices: Vec::new(),
        }
    }

    fn is_course(&self, index: usize) -> bool {
        self.tree.elements[index].name == "Cours" && self.tree.is_record[index]
    }

    fn read_definitions(&mut self) {
        for (index, element) in self.tree.elements.iter().enumerate() {
            let Some(kind) = Kind::of(&element.name) else {
                continue;
            };
            if !self.tree.is_record[index] {
                continue;
            }
            let top_level = match self.tree.owner[index] {
                None => true,
                Some(owner) => {
                    kind == Kind::Part
                        && self.tree.elements[owner].name == "Classe"
                        && self.tree.owner[owner].is_none()
                }
            };
            if !top_level {
                continue;
            }
            let ident = element.get("Ident").unwrap_or_default().to_owned();
            match definition(kind, element) {
                Ok(definition) => {
                    let inserted = match self.definitions.entry((kind, ident.clone())) {
                        Entry::Vacant(slot) => {
                            slot.insert(definition);
                            true
                        }
                        Entry::Occupied(_) => false,
                    };
                    if !inserted {
                        let reason = format!(
                            "{} Ident « {} » défini deux fois : la première définition est gardée",
                            kind.element(),
                            xml::shown(&ident)
                        );
                        self.notice(element.line, &ident, reason);
                    }
                }
                Err(reason) => self.notice(element.line, &ident, reason),
            }
        }
    }

    fn notice(&mut self, line: u64, record: &str, reason: String) {
        self.notices.push(Rejection {
            file: self.file.to_owned(),
            line,
            record: xml::shown(record),
            reason,
        });
    }

    fn read_courses(&mut self) {
        let mut references: HashMap<usize, Vec<usize>> = HashMap::new();
        for (index, element) in self.tree.elements.iter().enumerate() {
            if Kind::of(&element.name).is_some()
                && let Some(owner) = self.tree.owner[index]
                && self.is_course(owner)
            {
                references.entry(owner).or_default().push(index);
            }
        }

        for index in 0..self.tree.elements.len() {
            if !self.is_course(index) || self.tree.owner[index].is_some() {
                continue;
            }
            let element = &self.tree.elements[index];
            let children = references.remove(&index).unwrap_or_default();
            let ident = element.get("Ident").map(str::to_owned);
            let shown = ident.as_deref().map(xml::shown).unwrap_or_default();
            match self.course(index, ident.as_deref(), &children) {
                Ok(courses) => self.courses.extend(courses),
                Err(reason) => self.rejections.push(Rejection {
                    file: self.file.to_owned(),
                    line: element.line,
                    record: shown,
                    reason,
                }),
            }
        }
    }

    /// The parsed courses of one `Cours` (more than one when its children's weeks differ).
    fn course(
        &mut self,
        index: usize,
        ident: Option<&str>,
        children: &[usize],
    ) -> Result<Vec<ParsedCourse>, String> {
        let element = &self.tree.elements[index];
        let weekday = match element.get("Jour").map(|d| d.parse::<u8>()) {
            Some(Ok(day)) if (1..=7).contains(&day) => day,
            Some(_) => {
                let shown = xml::shown(element.get("Jour").unwrap_or_default());
                return Err(format!("Jour « {shown} » invalide (1 = lundi … 7 = dimanche)"));
            }
            None => return Err("attribut Jour absent".to_owned()),
        };
        let first = number(element, "NumeroPlaceDebut")?
            .ok_or_else(|| "attribut NumeroPlaceDebut absent".to_owned())?;
        let count = number(element, "NombrePlaces")?.unwrap_or(1);
        let time = self.grid.span(first, count)?;
        let cancelled = weeks(element, "SemainesAnnulation")?.unwrap_or(WeekSet::EMPTY);
        let own_weeks = weeks(element, "Semaines")?;

        let mut references = Vec::with_capacity(children.len());
        for &child in children {
            let child = &self.tree.elements[child];
            let Some(kind) = Kind::of(&child.name) else {
                continue;
            };
            let Some(child_ident) = child.get("Ident") else {
                return Err(format!("référence {} sans Ident (ligne {})", child.name, child.line));
            };
            if !self.definitions.contains_key(&(kind, child_ident.to_owned())) {
                return Err(format!(
                    "{} « {} » inconnu : aucun {} avec cet Ident et un nom n'est défini",
                    child.name,
                    xml::shown(child_ident),
                    child.name
                ));
            }
            let child_weeks = match weeks(child, "Semaines")? {
                Some(set) => Some(set),
                None => weeks(child, "SemainesInclusion")?,
            };
            references.push(Reference { kind, ident: child_ident.to_owned(), weeks: child_weeks });
        }

        let key = match ident {
            Some(ident) => {
                if let Some(line) = self.seen_idents.get(ident) {
                    return Err(format!("Ident de cours déjà utilisé ligne {line}"));
                }
                self.seen_idents.insert(ident.to_owned(), element.line);
                ident.to_owned()
            }
            None => self.digest_key(weekday, first, count, cancelled, own_weeks, &references),
        };

        let parts = split_by_weeks(own_weeks, &references)?;
        let many = parts.len() > 1;
        let mut courses = Vec::with_capacity(parts.len());
        for (position, (weeks, active)) in parts.into_iter().enumerate() {
            let key = if many { format!("{key}#{}", position + 1) } else { key.clone() };
            let mut course = ParsedCourse {
                line: element.line,
                key,
                subject_code: None,
                subject_label: String::new(),
                teachers: Vec::new(),
                classes: Vec::new(),
                groups: Vec::new(),
                rooms: Vec::new(),
                when: CourseWhen::Weekly {
                    weekday,
                    time,
                    weeks,
                    cancelled_weeks: WeekSet(cancelled.0 & weeks.0),
                },
            };
            for reference in active.iter().filter_map(|&r| references.get(r)) {
                self.add_reference(&mut course, reference);
            }
            if course.subject_label.is_empty() {
                let listed: Vec<String> = weeks.iter().map(|w| w.to_string()).collect();
                return Err(format!("aucune matière (semaines {})", listed.join(", ")));
            }
            courses.push(course);
        }
        Ok(courses)
    }

    fn add_reference(&self, course: &mut ParsedCourse, reference: &Reference) {
        let Some(definition) = self.definitions.get(&(reference.kind, reference.ident.clone()))
        else {
            return;
        };
        let party = definition.party.clone();
        let list = match reference.kind {
            Kind::Subject => {
                if course.subject_label.is_empty() {
                    course.subject_code = party.external_id;
                    course.subject_label = party.label;
                }
                return;
            }
            Kind::Teacher => &mut course.teachers,
            Kind::Class => &mut course.classes,
            Kind::Group | Kind::Part => &mut course.groups,
            Kind::Room => &mut course.rooms,
        };
        if !list.contains(&party) {
            list.push(party);
        }
    }

    /// A key for a course without `Ident`: a digest of its content, with a counter when two
    /// courses have the same content.
    fn digest_key(
        &mut self,
        weekday: u8,
        first: u16,
        count: u16,
        cancelled: WeekSet,
        own_weeks: Option<WeekSet>,
        references: &[Reference],
    ) -> String {
        let mut parts: Vec<String> = references
            .iter()
            .map(|r| format!("{:?}:{}:{:?}", r.kind, r.ident, r.weeks.map(|w| w.0)))
            .collect();
        parts.sort();
        let content = format!(
            "{weekday}|{first}|{count}|{}|{:?}|{}",
            cancelled.0,
            own_weeks.map(|w| w.0),
            parts.join(";")
        );
        let digest = format!("edt-{:016x}", fnv1a(content.as_bytes()));
        let seen = self.seen_digests.entry(digest.clone()).or_insert(0);
        *seen += 1;
        if *seen == 1 { digest } else { format!("{digest}-{seen}") }
    }
}

/// Splits a course's weeks into sets of weeks where the same references apply: each item is
/// the weeks and the indexes of the references active in them, in order of the first week.
fn split_by_weeks(
    own_weeks: Option<WeekSet>,
    references: &[Reference],
) -> Result<Vec<(WeekSet, Vec<usize>)>, String> {
    let all = match own_weeks {
        Some(set) => set,
        None => references.iter().filter_map(|r| r.weeks).fold(WeekSet::EMPTY, WeekSet::union),
    };
    if all.is_empty() {
        return Err(
            "aucune semaine : Semaines absent ou nul sur le cours et ses éléments".to_owned()
        );
    }

    let mut by_signature: BTreeMap<Vec<usize>, WeekSet> = BTreeMap::new();
    for week in all.iter() {
        let active: Vec<usize> = references
            .iter()
            .enumerate()
            .filter(|(_, r)| r.weeks.is_none_or(|set| set.contains(week)))
            .map(|(index, _)| index)
            .collect();
        if active.is_empty() {
            continue;
        }
        by_signature.entry(active).or_default().insert(week);
    }
    let mut parts: Vec<(WeekSet, Vec<usize>)> =
        by_signature.into_iter().map(|(active, weeks)| (weeks, active)).collect();
    parts.sort_by_key(|(weeks, _)| weeks.iter().next());
    if parts.is_empty() {
        return Err("aucun élément (matière, professeur, classe…) les semaines du cours".to_owned());
    }
    Ok(parts)
}

/// A definition from its element, or why it cannot be used.
fn definition(kind: Kind, element: &xml::Element) -> Result<Definition, String> {
    let ident = element.get("Ident").unwrap_or_default().to_owned();
    let missing = |attribute: &str| {
        format!("{} Ident « {} » sans {attribute} : ignoré", kind.element(), xml::shown(&ident))
    };
    let party = match kind {
        Kind::Subject => {
            let code = element.get("Code").map(str::to_owned);
            let label = element
                .get("Libelle")
                .or(element.get("LibelleLong"))
                .map(str::to_owned)
                .or_else(|| code.clone())
                .ok_or_else(|| missing("Libelle ni Code"))?;
            PartyRef { file_id: ident, external_id: code, label, ..PartyRef::default() }
        }
        Kind::Teacher => {
            let last_name = element.get("Nom").ok_or_else(|| missing("Nom"))?.to_owned();
            PartyRef {
                file_id: ident,
                external_id: element.get("IDPN").map(str::to_owned),
                last_name,
                first_name: element.get("Prenom").unwrap_or_default().to_owned(),
                label: String::new(),
            }
        }
        Kind::Class | Kind::Group | Kind::Part | Kind::Room => {
            let label = element.get("Nom").ok_or_else(|| missing("Nom"))?.to_owned();
            PartyRef { file_id: ident, label, ..PartyRef::default() }
        }
    };
    Ok(Definition { party })
}

/// An optional whole-number attribute.
fn number(element: &xml::Element, key: &str) -> Result<Option<u16>, String> {
    match element.get(key) {
        None => Ok(None),
        Some(text) => text
            .parse::<u16>()
            .map(Some)
            .map_err(|_| format!("{key} « {} » n'est pas un entier", xml::shown(text))),
    }
}

/// An optional week bitmask attribute (decimal; bit 0 = week 1).
fn weeks(element: &xml::Element, key: &str) -> Result<Option<WeekSet>, String> {
    let Some(text) = element.get(key) else {
        return Ok(None);
    };
    let Ok(mask) = text.parse::<u64>() else {
        return Err(format!(
            "{key} « {} » n'est pas un masque de semaines (nombre décimal)",
            xml::shown(text)
        ));
    };
    if mask & !WeekSet::all(MAX_WEEKS).0 != 0 {
        return Err(format!("{key} désigne une semaine au-delà de la {MAX_WEEKS}e"));
    }
    Ok(Some(WeekSet(mask)))
}

/// FNV-1a, 64 bits: a digest that never changes between builds (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// XML for the timetable readers (EDT and UDT): decoding (UTF-8 with or without BOM, or the
/// ISO-8859-1/15, Windows-1252 or US-ASCII encoding the prolog declares), well-formedness, no
/// DOCTYPE (so no DTD and no entity declaration), only the five predefined entities and
/// character references, and caps on size, nesting, attributes and elements. The result is the
/// flat list of elements with their attributes and lines: both formats keep all their data in
/// attributes, so text content is skipped.
pub(super) mod xml {
    use quick_xml::Reader;
    use quick_xml::XmlVersion;
    use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
    use quick_xml::events::{BytesStart, Event};

    use super::MAX_FILE_BYTES;
    use crate::timetable::TimetableFileError;
    use domain::timetable::LessonTime;
    use jiff::civil::Date;

    /// The deepest nesting accepted (the formats need 4 levels).
    pub(crate) const MAX_DEPTH: usize = 32;
    /// The longest attribute value accepted, in bytes.
    pub(crate) const MAX_ATTRIBUTE_BYTES: usize = 4096;
    /// The most attributes on one element.
    pub(crate) const MAX_ATTRIBUTES: usize = 64;
    /// The most elements in one file (a big collège's export counts tens of thousands).
    pub(crate) const MAX_ELEMENTS: usize = 1_000_000;

    /// An element: its name, attributes (entities resolved, trimmed), line and parent.
    #[derive(Debug, Clone)]
    pub(crate) struct Element {
        pub(crate) name: String,
        pub(crate) attributes: Vec<(String, String)>,
        pub(crate) line: u64,
        pub(crate) parent: Option<usize>,
        /// The text of a `UAI` element (the only element whose text the formats read).
        pub(crate) text: String,
    }

    impl Element {
        /// A non-empty attribute value.
        pub(crate) fn get(&self, key: &str) -> Option<&str> {
            self.attributes
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
                .filter(|value| !value.is_empty())
        }
    }

    /// A whole document: `elements[0]` is the root; parents come before their children.
    #[derive(Debug)]
    pub(crate) struct Document {
        pub(crate) elements: Vec<Element>,
    }

    pub(crate) fn file_error(
        file: &str,
        line: u64,
        reason: impl Into<String>,
    ) -> TimetableFileError {
        TimetableFileError { file: file.to_owned(), line, reason: reason.into() }
    }

    /// A value quoted in a message: control characters removed, at most 80 characters.
    pub(crate) fn shown(text: &str) -> String {
        let clean: String = text.chars().filter(|c| !c.is_control()).take(80).collect();
        if text.chars().count() > 80 { format!("{clean}…") } else { clean }
    }

    /// `dd/mm/yyyy` or `yyyy-mm-dd`.
    pub(crate) fn parse_date(text: &str) -> Option<Date> {
        let text = text.trim();
        let (year, month, day) = if let Some((day, rest)) = text.split_once('/') {
            let (month, year) = rest.split_once('/')?;
            (year, month, day)
        } else {
            let mut parts = text.splitn(3, '-');
            (parts.next()?, parts.next()?, parts.next()?)
        };
        let year: i16 = year.trim().parse().ok()?;
        let month: i8 = month.trim().parse().ok()?;
        let day: i8 = day.trim().parse().ok()?;
        if !(1900..=2200).contains(&year) {
            return None;
        }
        Date::new(year, month, day).ok()
    }

    /// `08h00`, `8:00`, `08H00` or `0800` as minutes after midnight.
    pub(crate) fn parse_clock(text: &str) -> Option<u16> {
        let text = text.trim();
        if let Some(minute) = LessonTime::parse_clock(text) {
            return Some(minute);
        }
        if (3..=4).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
            let value: u16 = text.parse().ok()?;
            let (hours, minutes) = (value / 100, value % 100);
            return (hours < 24 && minutes < 60).then_some(hours * 60 + minutes);
        }
        None
    }

    /// Reads a whole file.
    pub(crate) fn read_document(bytes: &[u8], file: &str) -> Result<Document, TimetableFileError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(file_error(
                file,
                0,
                format!(
                    "fichier trop volumineux ({} octets, au plus {} Mo)",
                    bytes.len(),
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(file_error(file, 0, "fichier vide"));
        }
        let text = decode(bytes).map_err(|(line, reason)| file_error(file, line, reason))?;
        let mut reader = DocumentReader {
            text: &text,
            file,
            lines: Lines::default(),
            stack: Vec::new(),
            elements: Vec::new(),
            root_done: false,
        };
        reader.run()?;
        Ok(Document { elements: reader.elements })
    }

    struct DocumentReader<'a> {
        text: &'a str,
        file: &'a str,
        lines: Lines,
        stack: Vec<usize>,
        elements: Vec<Element>,
        root_done: bool,
    }

    impl DocumentReader<'_> {
        fn error_at(&mut self, at: usize, reason: impl Into<String>) -> TimetableFileError {
            let line = self.lines.line_of(self.text.as_bytes(), at);
            file_error(self.file, line, reason)
        }

        fn run(&mut self) -> Result<(), TimetableFileError> {
            let mut reader = Reader::from_str(self.text);
            reader.config_mut().check_end_names = true;
            loop {
                let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                let event = match reader.read_event() {
                    Ok(event) => event,
                    Err(error) => {
                        let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                        return Err(self.error_at(at, syntax_reason(&error)));
                    }
                };
                match event {
                    Event::Start(tag) => self.open(&tag, start, true)?,
                    Event::Empty(tag) => self.open(&tag, start, false)?,
                    Event::End(_) => {
                        if self.stack.pop().is_none() {
                            return Err(self.error_at(start, "balise fermante sans ouvrante"));
                        }
                        if self.stack.is_empty() {
                            self.root_done = true;
                        }
                    }
                    Event::Text(text) => {
                        if self.stack.is_empty() && !text.trim_ascii().is_empty() {
                            return Err(self.error_at(
                                start,
                                "texte en dehors de l'élément racine : ce n'est pas un fichier \
                                 XML lisible",
                            ));
                        }
                        self.keep_text(&text[..]);
                    }
                    Event::GeneralRef(reference) => {
                        check_reference(&reference).map_err(|r| self.error_at(start, r))?;
                        if self.stack.is_empty() {
                            return Err(self.error_at(start, "texte en dehors de l'élément racine"));
                        }
                    }
                    Event::DocType(_) => {
                        return Err(self.error_at(
                            start,
                            "DOCTYPE refusé : une DTD peut déclarer des entités, et les exports \
                             d'emploi du temps n'en ont pas",
                        ));
                    }
                    Event::Decl(_) if start > 0 => {
                        return Err(
                            self.error_at(start, "déclaration XML ailleurs qu'au début du fichier")
                        );
                    }
                    Event::CData(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
                    Event::Eof => return self.finish(),
                }
            }
        }

        /// Keeps the text of an open `UAI` element (a few characters at most).
        fn keep_text(&mut self, text: &str) {
            let Some(element) = self.stack.last().and_then(|&open| self.elements.get_mut(open))
            else {
                return;
            };
            if element.name == "UAI" && element.text.len() + text.len() <= 64 {
                element.text.push_str(text);
            }
        }

        fn finish(&mut self) -> Result<(), TimetableFileError> {
            let end = self.text.len();
            if let Some(&open) = self.stack.last() {
                let name = self.elements.get(open).map(|e| e.name.clone()).unwrap_or_default();
                return Err(
                    self.error_at(end, format!("fichier tronqué : élément <{name}> non fermé"))
                );
            }
            if self.elements.is_empty() {
                return Err(self.error_at(end, "aucun élément XML (fichier vide ou pas en XML)"));
            }
            Ok(())
        }

        fn open(
            &mut self,
            tag: &BytesStart<'_>,
            start: usize,
            has_content: bool,
        ) -> Result<(), TimetableFileError> {
            let name = tag.name().as_ref().to_owned();
            if self.stack.len() >= MAX_DEPTH {
                return Err(self.error_at(
                    start,
                    format!("imbrication trop profonde (plus de {MAX_DEPTH} niveaux)"),
                ));
            }
            if self.stack.is_empty() && self.root_done {
                return Err(
                    self.error_at(start, format!("élément <{name}> après l'élément racine"))
                );
            }
            if self.elements.len() >= MAX_ELEMENTS {
                return Err(self.error_at(
                    start,
                    format!("trop d'éléments (plus de {MAX_ELEMENTS}) dans un fichier"),
                ));
            }
            let attributes = self.attributes(tag, start)?;
            let line = self.lines.line_of(self.text.as_bytes(), start);
            let index = self.elements.len();
            self.elements.push(Element {
                name,
                attributes,
                line,
                parent: self.stack.last().copied(),
                text: String::new(),
            });
            if has_content {
                self.stack.push(index);
            } else if self.stack.is_empty() {
                self.root_done = true;
            }
            Ok(())
        }

        fn attributes(
            &mut self,
            tag: &BytesStart<'_>,
            start: usize,
        ) -> Result<Vec<(String, String)>, TimetableFileError> {
            let mut attributes = Vec::new();
            for attribute in tag.attributes() {
                let Ok(attribute) = attribute else {
                    return Err(self.error_at(start, "attribut XML mal formé ou répété"));
                };
                let key = attribute.key.as_ref().to_owned();
                if attribute.value.len() > MAX_ATTRIBUTE_BYTES {
                    return Err(self.error_at(
                        start,
                        format!(
                            "attribut {} trop long (plus de {MAX_ATTRIBUTE_BYTES} octets)",
                            shown(&key)
                        ),
                    ));
                }
                if attributes.len() >= MAX_ATTRIBUTES {
                    return Err(self.error_at(
                        start,
                        format!("trop d'attributs (plus de {MAX_ATTRIBUTES}) sur un élément"),
                    ));
                }
                let Ok(value) = attribute.normalized_value(XmlVersion::Implicit1_0) else {
                    return Err(self.error_at(
                        start,
                        format!(
                            "valeur de l'attribut {} invalide (seules les 5 entités prédéfinies \
                             et les références de caractère sont admises)",
                            shown(&key)
                        ),
                    ));
                };
                attributes.push((key, value.trim().to_owned()));
            }
            Ok(attributes)
        }
    }

    /// Only the five predefined entities and valid character references.
    fn check_reference(reference: &quick_xml::events::BytesRef<'_>) -> Result<(), String> {
        let name: &str = reference;
        if reference.is_char_ref() {
            return match reference.resolve_char_ref() {
                Ok(Some(_)) => Ok(()),
                _ => Err(format!("référence de caractère invalide : &{};", shown(name))),
            };
        }
        match name {
            "lt" | "gt" | "amp" | "apos" | "quot" => Ok(()),
            _ => Err(format!(
                "référence à l'entité &{}; refusée : seules les 5 entités prédéfinies et les \
                 références de caractère sont admises",
                shown(name)
            )),
        }
    }

    /// An incremental byte offset → line converter.
    #[derive(Debug, Default)]
    struct Lines {
        offset: usize,
        newlines: u64,
    }

    impl Lines {
        fn line_of(&mut self, bytes: &[u8], target: usize) -> u64 {
            let target = target.min(bytes.len());
            if target < self.offset {
                *self = Lines::default();
            }
            let span = bytes.get(self.offset..target).unwrap_or_default();
            self.newlines += memchr::memchr_iter(b'\n', span).count() as u64;
            self.offset = target;
            self.newlines + 1
        }
    }

    /// The text of the file: UTF-8 (BOM or not) unless the prolog declares another encoding.
    fn decode(bytes: &[u8]) -> Result<String, (u64, String)> {
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            return Err((1, "fichier en UTF-16, non pris en charge (UTF-8 ou ISO-8859-15)".into()));
        }
        let bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
        let bytes = if bom { &bytes[3..] } else { bytes };
        let label = declared_label(bytes).map(|label| label.to_ascii_uppercase());
        let label = label.as_deref().unwrap_or("UTF-8");
        if bom && label != "UTF-8" && label != "UTF8" {
            return Err((
                1,
                format!("marque UTF-8 (BOM) mais encodage déclaré « {} »", shown(label)),
            ));
        }
        match label {
            "UTF-8" | "UTF8" | "US-ASCII" | "ASCII" => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(text.to_owned()),
                Err(error) => {
                    let at = error.valid_up_to();
                    let line = memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64 + 1;
                    let byte = bytes.get(at).copied().unwrap_or_default();
                    Err((
                        line,
                        format!(
                            "octet 0x{byte:02X} invalide en UTF-8 (déclarez l'encodage dans le \
                             prologue XML s'il s'agit d'ISO-8859-15)"
                        ),
                    ))
                }
            },
            "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "LATIN-1" => {
                Ok(bytes.iter().map(|&b| char::from(b)).collect())
            }
            "ISO-8859-15" | "ISO8859-15" | "LATIN9" | "LATIN-9" | "WINDOWS-1252" | "CP1252" => {
                let encoding = if label.contains("1252") {
                    encoding_rs::WINDOWS_1252
                } else {
                    encoding_rs::ISO_8859_15
                };
                encoding
                    .decode_without_bom_handling_and_without_replacement(bytes)
                    .map(|text| text.into_owned())
                    .ok_or_else(|| (0, format!("fichier illisible dans l'encodage {label}")))
            }
            other => Err((1, format!("encodage déclaré inconnu : « {} »", shown(other)))),
        }
    }

    /// The `encoding` of the XML declaration, if the bytes start with one.
    fn declared_label(bytes: &[u8]) -> Option<String> {
        let rest = bytes.strip_prefix(b"<?xml")?;
        let window = &rest[..rest.len().min(512)];
        let end = window.windows(2).position(|w| w == b"?>")?;
        let declaration = &window[..end];
        let at = declaration.windows(8).position(|w| w == b"encoding")?;
        let rest = declaration[at + 8..].trim_ascii_start().strip_prefix(b"=")?.trim_ascii_start();
        let quote = *rest.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value = &rest[1..];
        let close = value.iter().position(|&b| b == quote)?;
        Some(String::from_utf8_lossy(&value[..close]).trim().to_owned())
    }

    /// A French sentence for a quick-xml error.
    fn syntax_reason(error: &XmlError) -> String {
        let reason = match error {
            XmlError::Syntax(syntax) => match syntax {
                SyntaxError::InvalidBangMarkup => "balise <! invalide",
                SyntaxError::UnclosedPI => {
                    "instruction de traitement non fermée (fichier tronqué ?)"
                }
                SyntaxError::UnclosedXmlDecl => "déclaration XML non fermée (fichier tronqué ?)",
                SyntaxError::UnclosedComment => "commentaire non fermé (fichier tronqué ?)",
                SyntaxError::UnclosedDoctype => "DOCTYPE non fermé (fichier tronqué ?)",
                SyntaxError::UnclosedCData => "section CDATA non fermée (fichier tronqué ?)",
                SyntaxError::UnclosedTag => "balise non fermée (fichier tronqué ?)",
                SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue => {
                    "valeur d'attribut non fermée (fichier tronqué ?)"
                }
            },
            XmlError::IllFormed(ill) => match ill {
                IllFormedError::MismatchedEndTag { expected, found } => {
                    return format!(
                        "balise fermante </{}> au lieu de </{}>",
                        shown(found),
                        shown(expected)
                    );
                }
                IllFormedError::UnmatchedEndTag(name) => {
                    return format!("balise fermante </{}> sans balise ouvrante", shown(name));
                }
                IllFormedError::MissingEndTag(name) => {
                    return format!("fichier tronqué : élément <{}> non fermé", shown(name));
                }
                IllFormedError::UnclosedReference => {
                    "référence d'entité non terminée par « ; » (« & » doit s'écrire &amp;)"
                }
                IllFormedError::MissingDoctypeName => "DOCTYPE sans nom",
                IllFormedError::MissingDeclVersion(_) | IllFormedError::UnknownVersion => {
                    "déclaration XML invalide (version absente ou inconnue)"
                }
                IllFormedError::DoubleHyphenInComment => "« -- » dans un commentaire",
            },
            XmlError::Escape(_) => "référence d'entité invalide (« & » doit s'écrire &amp;)",
            XmlError::InvalidAttr(_) => "attribut XML mal formé",
            XmlError::Encoding(_) => "texte mal encodé",
            _ => "XML mal formé",
        };
        reason.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: &str = r#"<AnneeScolaire DatePremierJourSemaine1="01/09/2025"/>
<GrilleHoraire DureePlace="55">
  <Place Numero="1" LibelleHeureDebut="08h00" LibelleHeureFin="08h55"/>
  <Place Numero="2" LibelleHeureDebut="08h55"/>
</GrilleHoraire>
<Matiere Ident="M1" Code="MATHS" Libelle="Mathématiques"/>
<Professeur Ident="P1" Nom="N'Diaye" Prenom="Aïssatou"/>
<Professeur Ident="P2" Nom="Martin" Prenom="Zoé" IDPN="42"/>
<Classe Ident="C1" Nom="6A"/>"#;

    fn doc(courses: &str) -> Vec<u8> {
        format!("<Export>{GRID}<Cours>{courses}</Cours></Export>").into_bytes()
    }

    #[test]
    fn weeks_are_the_bitmask_as_is_and_places_give_the_time() {
        let parsed = parse(
            &doc(r#"<Cours Ident="1" Jour="2" NumeroPlaceDebut="1" NombrePlaces="2"
                SemainesAnnulation="4"><Matiere Ident="M1" Semaines="7"/>
                <Professeur Ident="P1" Semaines="7"/><Classe Ident="C1" Semaines="7"/></Cours>"#),
            "edt.xml",
        )
        .unwrap();
        assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);
        let course = &parsed.courses[0];
        let CourseWhen::Weekly { weekday, time, weeks, cancelled_weeks } = course.when else {
            panic!("weekly expected");
        };
        assert_eq!((weekday, time.start_minute, time.end_minute), (2, 480, 590));
        assert_eq!(weeks.iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(cancelled_weeks.iter().collect::<Vec<_>>(), vec![3]);
        assert_eq!(course.key, "1");
        assert_eq!(parsed.last_day, Some(jiff::civil::date(2025, 9, 21)));
    }

    #[test]
    fn children_on_different_weeks_split_the_course() {
        let parsed = parse(
            &doc(r#"<Cours Ident="9" Jour="1" NumeroPlaceDebut="1"><Matiere Ident="M1"/>
                <Professeur Ident="P1" Semaines="3"/><Professeur Ident="P2" Semaines="12"/>
                </Cours>"#),
            "edt.xml",
        )
        .unwrap();
        let keys: Vec<(&str, &str)> = parsed
            .courses
            .iter()
            .map(|c| (c.key.as_str(), c.teachers[0].last_name.as_str()))
            .collect();
        assert_eq!(keys, vec![("9#1", "N'Diaye"), ("9#2", "Martin")]);
        assert_eq!(parsed.courses[1].teachers[0].external_id.as_deref(), Some("42"));
    }

    #[test]
    fn a_course_without_ident_gets_a_stable_digest_key() {
        let course = r#"<Cours Jour="1" NumeroPlaceDebut="1"><Matiere Ident="M1" Semaines="1"/>
            </Cours>"#;
        let once = parse(&doc(course), "a.xml").unwrap();
        let twice = parse(&doc(&format!("{course}{course}")), "a.xml").unwrap();
        assert!(once.courses[0].key.starts_with("edt-"));
        assert_eq!(once.courses[0].key, twice.courses[0].key);
        assert_ne!(twice.courses[0].key, twice.courses[1].key);
    }

    #[test]
    fn dates_and_clocks_in_both_spellings() {
        assert_eq!(xml::parse_date("01/09/2025"), xml::parse_date("2025-09-01"));
        assert_eq!(xml::parse_date("31/02/2025"), None);
        assert_eq!(xml::parse_clock("0805"), Some(485));
        assert_eq!(xml::parse_clock("17h00"), Some(1020));
        assert_eq!(xml::parse_clock("2460"), None);
    }
}
