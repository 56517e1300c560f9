//! The UDT export: a folder or a ZIP of `UDCal_NN.xml` files, all data in attributes, dates
//! written `dd/MM/yyyy`. Files are found by their name alone (any folder, any case), so an
//! archive may keep them in a sub-folder. The XML rules (encodings, no DTD, caps) are those of
//! [`crate::timetable::edt::xml`].
//!
//! | file | elements read |
//! |---|---|
//! | `UDCal_24` (required) | the element with `debut_eleve` and `fin_eleve` (and `annee`) |
//! | `UDCal_00` (required) | `init@premiere_semaine_ISO @duree_seq` |
//! | `UDCal_03` | rooms `salle@code @nom` |
//! | `UDCal_04` (required) | teachers `prof@code @nom @prenom`, and `@id_aaf` (see below) |
//! | `UDCal_05` (required) | subjects `mat@code @libelle` (code `***` ignored) |
//! | `UDCal_07` (required) | half-sequences `demi_seq@code @code_jour @hre_deb @hre_fin` |
//! | `UDCal_08` (required) | classes `div@code @libelle @code_sts` |
//! | `UDCal_19` | groups `gpe@code @code_div @nom` |
//! | `UDCal_11` (required) | fiches `fiche@code @jour @demi_seq @nb_demi_seq @semaines` |
//! | `UDCal_12`, `UDCal_12_N` (required) | `ligfiche@fic @div @mat @prof @salle @gpe @semaines` |
//! | `semaines.xml` | the publication period, `semaine@num` (ISO week numbers) |
//!
//! Other files (pupils, regroupings, per-week files) are not read. `id_aaf` is Préau's own,
//! optional extension: the teacher's AAF identifier, matched first when present.
//!
//! **Days and times.** `jour` and `code_jour` are 1 = Monday … 7 = Sunday (French day names
//! are also read). A half-sequence without `code_jour` applies to every day that has no
//! half-sequence of the same code of its own. A fiche starts at half-sequence `demi_seq` and
//! lasts `nb_demi_seq` half-sequences (2, one sequence, when absent), taken in the order of
//! their start times that day; it ends at the end of the last one. A half-sequence without
//! `hre_fin` lasts half of `duree_seq`. Hours read `08h00`, `08:00` or `0800`.
//!
//! **Weeks.** `semaines` (on the line, else on its fiche) lists ISO week numbers, separated by
//! commas, semicolons or spaces, with increasing ranges: `"36-42,45-50,2-7"`. Without it, a
//! course runs every week of `semaines.xml`, or every week of the year without that file.
//! Week 1 of the school year is the ISO week `premiere_semaine_ISO` of the ISO year
//! `debut_eleve` falls in (the week of `debut_eleve` when `UDCal_00` does not say); the year
//! ends on `fin_eleve`. ISO weeks become school weeks counted from that
//! Monday ([`WeekSet`] bit 0 = week 1); an ISO week outside the year rejects the line. UDT
//! does not mark cancelled occurrences: a cancelled week is simply not listed.
//!
//! **Courses.** The lines of a fiche with the same subject and weeks form one course, whose
//! teachers, classes, groups and rooms are those of the lines (a line with `gpe` names a group
//! of class `div`; without it, the whole class `div`). The key is the fiche code, followed by
//! `#n` when the fiche holds several courses.
//!
//! **ZIP.** Entry names that leave the archive (absolute, `..`, drive letters) refuse the whole
//! archive, as do more than [`MAX_ZIP_ENTRIES`] entries, encrypted entries, and an entry that
//! declares, or actually inflates to, more than [`MAX_FILE_BYTES`].

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

use domain::timetable::{LessonTime, SchoolYear, WeekSet};
use jiff::civil::{Date, ISOWeekDate, Weekday};
use zip::ZipArchive;

use crate::timetable::edt::xml::{self, Document, Element};
use crate::timetable::{
    CourseWhen, MAX_FILE_BYTES, ParsedCourse, ParsedTimetable, PartyRef, Rejection,
    TimetableFileError, TimetableSource,
};

/// The most entries a UDT archive may list.
pub const MAX_ZIP_ENTRIES: usize = 2_000;

/// Reads a UDT export sent as a ZIP. `file` names the archive in messages.
pub fn parse_zip(bytes: &[u8], file: &str) -> Result<ParsedTimetable, TimetableFileError> {
    crate::timetable::refuse_other_format(bytes, file, TimetableSource::Udt)?;
    let files = read_zip(bytes, file, &ZipLimits::DEFAULT)?;
    let borrowed: Vec<(String, &[u8])> =
        files.iter().map(|(name, data)| (name.clone(), data.as_slice())).collect();
    parse_set(&borrowed, file)
}

/// Reads a UDT export from the files of a folder (name → bytes), read by the caller. `label`
/// names the folder in messages.
pub fn parse_files(
    files: &[(String, Vec<u8>)],
    label: &str,
) -> Result<ParsedTimetable, TimetableFileError> {
    let borrowed: Vec<(String, &[u8])> =
        files.iter().map(|(name, data)| (name.clone(), data.as_slice())).collect();
    parse_set(&borrowed, label)
}

/// What a file of the export holds, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Calendar,
    Parameters,
    Rooms,
    Teachers,
    Subjects,
    HalfSequences,
    Classes,
    Groups,
    Fiches,
    /// `UDCal_12` (chunk 0) or `UDCal_12_N`.
    Lines(u32),
    Weeks,
}

impl Role {
    const REQUIRED: [(Role, &'static str); 7] = [
        (Role::Calendar, "UDCal_24.xml (calendrier)"),
        (Role::Parameters, "UDCal_00.xml (paramètres)"),
        (Role::Teachers, "UDCal_04.xml (professeurs)"),
        (Role::Subjects, "UDCal_05.xml (matières)"),
        (Role::HalfSequences, "UDCal_07.xml (demi-séquences)"),
        (Role::Classes, "UDCal_08.xml (divisions)"),
        (Role::Fiches, "UDCal_11.xml (fiches)"),
    ];

    /// The role of a file from its path (folders ignored, case ignored).
    fn of(path: &str) -> Option<Role> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
        let stem = name.strip_suffix(".xml")?;
        if stem == "semaines" {
            return Some(Role::Weeks);
        }
        let number = stem.strip_prefix("udcal_")?;
        match number {
            "24" => Some(Role::Calendar),
            "00" => Some(Role::Parameters),
            "03" => Some(Role::Rooms),
            "04" => Some(Role::Teachers),
            "05" => Some(Role::Subjects),
            "07" => Some(Role::HalfSequences),
            "08" => Some(Role::Classes),
            "19" => Some(Role::Groups),
            "11" => Some(Role::Fiches),
            "12" => Some(Role::Lines(0)),
            _ => {
                let chunk = number.strip_prefix("12_")?;
                if chunk.is_empty() || !chunk.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                chunk.parse::<u32>().ok().map(|n| Role::Lines(n.saturating_add(1)))
            }
        }
    }
}

/// The files of the export by role, each read as XML.
struct FileSet<'a> {
    label: &'a str,
    files: BTreeMap<Role, (String, &'a [u8])>,
}

impl<'a> FileSet<'a> {
    fn new(
        files: &[(String, &'a [u8])],
        label: &'a str,
    ) -> Result<FileSet<'a>, TimetableFileError> {
        let mut found: BTreeMap<Role, (String, &'a [u8])> = BTreeMap::new();
        for (name, bytes) in files {
            let Some(role) = Role::of(name) else {
                continue;
            };
            if let Some((other, _)) = found.get(&role) {
                return Err(xml::file_error(
                    label,
                    0,
                    format!(
                        "deux fichiers pour le même rôle : « {} » et « {} »",
                        xml::shown(other),
                        xml::shown(name)
                    ),
                ));
            }
            found.insert(role, (name.clone(), *bytes));
        }

        let mut missing: Vec<&str> = Role::REQUIRED
            .iter()
            .filter(|(role, _)| !found.contains_key(role))
            .map(|(_, name)| *name)
            .collect();
        if !found.keys().any(|role| matches!(role, Role::Lines(_))) {
            missing.push("UDCal_12.xml (lignes de fiches)");
        }
        if !missing.is_empty() {
            return Err(xml::file_error(
                label,
                0,
                format!("export UDT incomplet : il manque {}", missing.join(", ")),
            ));
        }
        Ok(FileSet { label, files: found })
    }

    /// The file of a role, read, with the name used in messages.
    fn read(&self, role: Role) -> Result<Option<(String, Document)>, TimetableFileError> {
        let Some((name, bytes)) = self.files.get(&role) else {
            return Ok(None);
        };
        let shown = format!("{}/{}", self.label, name);
        let document = xml::read_document(bytes, &shown)?;
        Ok(Some((shown, document)))
    }

    fn line_files(&self) -> Vec<Role> {
        self.files.keys().copied().filter(|role| matches!(role, Role::Lines(_))).collect()
    }
}

fn named<'d>(document: &'d Document, name: &'d str) -> impl Iterator<Item = &'d Element> + 'd {
    document.elements.iter().filter(move |e| e.name == name)
}

fn parse_set(
    files: &[(String, &[u8])],
    label: &str,
) -> Result<ParsedTimetable, TimetableFileError> {
    let set = FileSet::new(files, label)?;
    let mut notices = Vec::new();

    let (year, duree_seq) = school_year(&set)?;
    let weeks = WeekMap::new(&year);
    let default_weeks = publication_weeks(&set, &weeks, &year)?;
    let grid = HalfSequences::read(&set, duree_seq)?;
    let names = Names::read(&set, &mut notices)?;
    let fiches = read_fiches(&set, &mut notices)?;

    let mut builder = Builder {
        grid: &grid,
        names: &names,
        weeks: &weeks,
        default_weeks,
        fiches: &fiches,
        groups: BTreeMap::new(),
        order: Vec::new(),
        rejections: Vec::new(),
        rejected_fiches: HashMap::new(),
    };
    for role in set.line_files() {
        if let Some((shown, document)) = set.read(role)? {
            for line in named(&document, "ligfiche") {
                builder.line(&shown, line);
            }
        }
    }
    let (courses, rejections) = builder.finish();
    Ok(ParsedTimetable {
        source: TimetableSource::Udt,
        school_uai: None,
        first_monday: Some(year.first_monday),
        last_day: Some(year.last_day),
        places: grid.places(),
        courses,
        rejections,
        notices,
    })
}

/// The school year from `UDCal_24` and `UDCal_00`, and `duree_seq`.
fn school_year(set: &FileSet<'_>) -> Result<(SchoolYear, Option<u16>), TimetableFileError> {
    let Some((calendar_file, calendar)) = set.read(Role::Calendar)? else {
        return Err(xml::file_error(set.label, 0, "UDCal_24.xml absent"));
    };
    let Some(element) = calendar.elements.iter().find(|e| e.get("debut_eleve").is_some()) else {
        return Err(xml::file_error(
            &calendar_file,
            0,
            "aucun élément avec debut_eleve (début de l'année des élèves)",
        ));
    };
    let date = |key: &str| {
        let text = element.get(key).unwrap_or_default();
        xml::parse_date(text).ok_or_else(|| {
            xml::file_error(
                &calendar_file,
                element.line,
                format!("{key} « {} » n'est pas une date jj/mm/aaaa", xml::shown(text)),
            )
        })
    };
    let start = date("debut_eleve")?;
    let end = date("fin_eleve")?;

    let Some((parameters_file, parameters)) = set.read(Role::Parameters)? else {
        return Err(xml::file_error(set.label, 0, "UDCal_00.xml absent"));
    };
    let init = parameters.elements.iter().find(|e| e.get("premiere_semaine_ISO").is_some());
    let duree_seq = init.and_then(|e| e.get("duree_seq")).and_then(|d| d.parse::<u16>().ok());
    let first_monday = match init {
        None => domain::timetable::monday_of(start),
        Some(init) => {
            let text = init.get("premiere_semaine_ISO").unwrap_or_default();
            let week = text.parse::<i8>().ok().filter(|w| (1..=53).contains(w));
            let monday = week.and_then(|week| {
                ISOWeekDate::new(start.iso_week_date().year(), week, Weekday::Monday).ok()
            });
            let Some(monday) = monday else {
                return Err(xml::file_error(
                    &parameters_file,
                    init.line,
                    format!(
                        "premiere_semaine_ISO « {} » n'est pas une semaine ISO de l'année {}",
                        xml::shown(text),
                        start.iso_week_date().year()
                    ),
                ));
            };
            monday.date()
        }
    };
    let year = SchoolYear::new(first_monday, end).map_err(|error| {
        xml::file_error(&calendar_file, element.line, format!("année scolaire invalide : {error}"))
    })?;
    Ok((year, duree_seq))
}

/// ISO week number → school week, for the weeks of the year.
struct WeekMap {
    by_iso: HashMap<i8, u8>,
}

impl WeekMap {
    fn new(year: &SchoolYear) -> WeekMap {
        let mut by_iso = HashMap::new();
        for week in 1..=year.week_count() {
            if let Some(monday) = year.date_of(week, 1).or_else(|| monday_of_week(year, week)) {
                by_iso.entry(monday.iso_week_date().week()).or_insert(week);
            }
        }
        WeekMap { by_iso }
    }

    /// Reads a list of ISO weeks (`"36-42,45,2-7"`) as school weeks.
    fn parse(&self, text: &str) -> Result<WeekSet, String> {
        let mut set = WeekSet::EMPTY;
        for item in text.split([',', ';', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
            let (from, to) = item.split_once('-').unwrap_or((item, item));
            let (Ok(from), Ok(to)) = (from.trim().parse::<i8>(), to.trim().parse::<i8>()) else {
                return Err(format!("semaines « {} » illisibles", xml::shown(item)));
            };
            if from < 1 || to > 53 || from > to {
                return Err(format!(
                    "semaines « {} » : numéros ISO de 1 à 53, plages croissantes",
                    xml::shown(item)
                ));
            }
            for iso in from..=to {
                let Some(&week) = self.by_iso.get(&iso) else {
                    return Err(format!("semaine ISO {iso} hors de l'année scolaire"));
                };
                set.insert(week);
            }
        }
        Ok(set)
    }
}

/// The Monday of a school week even when `last_day` falls before it (the last, partial week).
fn monday_of_week(year: &SchoolYear, week: u8) -> Option<Date> {
    let days = i64::from(week.checked_sub(1)?) * 7;
    year.first_monday.checked_add(jiff::Span::new().days(days)).ok()
}

/// The weeks of `semaines.xml`, else every week of the year.
fn publication_weeks(
    set: &FileSet<'_>,
    weeks: &WeekMap,
    year: &SchoolYear,
) -> Result<WeekSet, TimetableFileError> {
    let Some((shown, document)) = set.read(Role::Weeks)? else {
        return Ok(WeekSet::all(year.week_count()));
    };
    let mut published = WeekSet::EMPTY;
    for element in named(&document, "semaine") {
        let number = element.get("num").unwrap_or_default();
        let week = weeks.parse(number).map_err(|reason| {
            xml::file_error(&shown, element.line, format!("semaine@num : {reason}"))
        })?;
        published = published.union(week);
    }
    if published.is_empty() {
        return Err(xml::file_error(&shown, 0, "aucune semaine publiée (semaine@num)"));
    }
    Ok(published)
}

/// A day number from `1`…`7` or a French day name.
fn day_number(text: &str) -> Option<u8> {
    if let Ok(day) = text.trim().parse::<u8>() {
        return (1..=7).contains(&day).then_some(day);
    }
    let lower = text.trim().to_lowercase();
    let days = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
    let position = days.iter().position(|day| {
        *day == lower || (lower.chars().count() >= 2 && day.starts_with(lower.as_str()))
    })?;
    u8::try_from(position + 1).ok()
}

/// One half-sequence of the grid.
#[derive(Debug, Clone)]
struct HalfSequence {
    code: String,
    start: u16,
    end: u16,
}

/// The half-sequences of each day, in order of start.
struct HalfSequences {
    by_day: HashMap<u8, Vec<HalfSequence>>,
}

impl HalfSequences {
    fn read(
        set: &FileSet<'_>,
        duree_seq: Option<u16>,
    ) -> Result<HalfSequences, TimetableFileError> {
        let Some((shown, document)) = set.read(Role::HalfSequences)? else {
            return Err(xml::file_error(set.label, 0, "UDCal_07.xml absent"));
        };
        let mut every_day: Vec<HalfSequence> = Vec::new();
        let mut by_day: HashMap<u8, Vec<HalfSequence>> = HashMap::new();
        for element in named(&document, "demi_seq") {
            let bad = |reason: String| xml::file_error(&shown, element.line, reason);
            let code =
                element.get("code").ok_or_else(|| bad("demi_seq sans code".to_owned()))?.to_owned();
            let start = element.get("hre_deb").and_then(xml::parse_clock).ok_or_else(|| {
                bad(format!("demi_seq {} : hre_deb illisible", xml::shown(&code)))
            })?;
            let end = match element.get("hre_fin") {
                Some(text) => xml::parse_clock(text).ok_or_else(|| {
                    bad(format!("demi_seq {} : hre_fin illisible", xml::shown(&code)))
                })?,
                None => {
                    start.saturating_add(duree_seq.map(|d| d / 2).filter(|d| *d > 0).ok_or_else(
                        || bad(format!("demi_seq {} sans hre_fin ni duree_seq", xml::shown(&code))),
                    )?)
                }
            };
            LessonTime::new(start, end)
                .map_err(|e| bad(format!("demi_seq {} : {e}", xml::shown(&code))))?;
            let half = HalfSequence { code, start, end };
            let list = match element.get("code_jour") {
                None => &mut every_day,
                Some(day) => {
                    let day = day_number(day).ok_or_else(|| {
                        bad(format!("code_jour « {} » n'est pas un jour", xml::shown(day)))
                    })?;
                    by_day.entry(day).or_default()
                }
            };
            if list.iter().any(|other| other.code == half.code) {
                return Err(bad(format!("demi_seq {} définie deux fois", xml::shown(&half.code))));
            }
            list.push(half);
        }

        for day in 1..=7 {
            let list = by_day.entry(day).or_default();
            for half in &every_day {
                if !list.iter().any(|other| other.code == half.code) {
                    list.push(half.clone());
                }
            }
            list.sort_by_key(|half| (half.start, half.end));
        }
        Ok(HalfSequences { by_day })
    }

    /// From the start of half-sequence `code` on `day` to the end of the `count`-th.
    fn span(&self, day: u8, code: &str, count: u16) -> Result<LessonTime, String> {
        let list = self.by_day.get(&day).map(Vec::as_slice).unwrap_or_default();
        let Some(first) = list.iter().position(|half| half.code == code) else {
            return Err(format!("demi-séquence « {} » inconnue ce jour-là", xml::shown(code)));
        };
        let last = first + usize::from(count.max(1)) - 1;
        let Some(end) = list.get(last) else {
            return Err(format!(
                "{count} demi-séquences à partir de « {} » dépassent la fin de la journée",
                xml::shown(code)
            ));
        };
        LessonTime::new(list[first].start, end.end).map_err(|e| e.to_string())
    }

    /// Every distinct half-sequence time, numbered in order.
    fn places(&self) -> Vec<(u16, LessonTime)> {
        let mut times: Vec<(u16, u16)> =
            self.by_day.values().flatten().map(|half| (half.start, half.end)).collect();
        times.sort_unstable();
        times.dedup();
        times
            .into_iter()
            .filter_map(|(start, end)| LessonTime::new(start, end).ok())
            .zip(1u16..)
            .map(|(time, number)| (number, time))
            .collect()
    }
}

/// Teachers, subjects, classes, groups and rooms by code.
struct Names {
    teachers: HashMap<String, PartyRef>,
    subjects: HashMap<String, (String, String)>,
    classes: HashMap<String, PartyRef>,
    /// By `(class code, group code)`.
    groups: HashMap<(String, String), PartyRef>,
    rooms: HashMap<String, PartyRef>,
}

impl Names {
    fn read(set: &FileSet<'_>, notices: &mut Vec<Rejection>) -> Result<Names, TimetableFileError> {
        let mut names = Names {
            teachers: HashMap::new(),
            subjects: HashMap::new(),
            classes: HashMap::new(),
            groups: HashMap::new(),
            rooms: HashMap::new(),
        };
        if let Some((shown, document)) = set.read(Role::Teachers)? {
            for element in named(&document, "prof") {
                let Some((code, last_name)) = code_and(element, "nom", &shown, notices) else {
                    continue;
                };
                let party = PartyRef {
                    file_id: code.clone(),
                    external_id: element.get("id_aaf").map(str::to_owned),
                    last_name,
                    first_name: element.get("prenom").unwrap_or_default().to_owned(),
                    label: String::new(),
                };
                insert_once(&mut names.teachers, code, party, element, &shown, notices);
            }
        }
        if let Some((shown, document)) = set.read(Role::Subjects)? {
            for element in named(&document, "mat") {
                if element.get("code") == Some("***") {
                    continue;
                }
                let Some((code, label)) = code_and(element, "libelle", &shown, notices) else {
                    continue;
                };
                let value = (code.clone(), label);
                insert_once(&mut names.subjects, code, value, element, &shown, notices);
            }
        }
        if let Some((shown, document)) = set.read(Role::Classes)? {
            for element in named(&document, "div") {
                let Some((code, label)) = code_and(element, "libelle", &shown, notices) else {
                    continue;
                };
                let party = PartyRef {
                    file_id: code.clone(),
                    external_id: element.get("code_sts").map(str::to_owned),
                    label,
                    ..PartyRef::default()
                };
                insert_once(&mut names.classes, code, party, element, &shown, notices);
            }
        }
        if let Some((shown, document)) = set.read(Role::Groups)? {
            for element in named(&document, "gpe") {
                let Some((code, label)) = code_and(element, "nom", &shown, notices) else {
                    continue;
                };
                let class = element.get("code_div").unwrap_or_default().to_owned();
                let party = PartyRef { file_id: code.clone(), label, ..PartyRef::default() };
                insert_once(&mut names.groups, (class, code), party, element, &shown, notices);
            }
        }
        if let Some((shown, document)) = set.read(Role::Rooms)? {
            for element in named(&document, "salle") {
                let Some((code, label)) = code_and(element, "nom", &shown, notices) else {
                    continue;
                };
                let party = PartyRef { file_id: code.clone(), label, ..PartyRef::default() };
                insert_once(&mut names.rooms, code, party, element, &shown, notices);
            }
        }
        Ok(names)
    }

    /// Group `code` of class `class`, else the only group with that code.
    fn group(&self, class: &str, code: &str) -> Result<&PartyRef, String> {
        if let Some(group) = self.groups.get(&(class.to_owned(), code.to_owned())) {
            return Ok(group);
        }
        let mut matches = self.groups.iter().filter(|((_, c), _)| c == code);
        match (matches.next(), matches.next()) {
            (Some((_, group)), None) => Ok(group),
            (Some(_), Some(_)) => Err(format!(
                "groupe « {} » ambigu : plusieurs divisions en ont un, aucun dans « {} »",
                xml::shown(code),
                xml::shown(class)
            )),
            (None, _) => Err(format!("groupe « {} » inconnu (UDCal_19)", xml::shown(code))),
        }
    }
}

/// The `code` of a definition and its name attribute (the code itself when absent).
fn code_and(
    element: &Element,
    name: &str,
    file: &str,
    notices: &mut Vec<Rejection>,
) -> Option<(String, String)> {
    let Some(code) = element.get("code") else {
        notices.push(Rejection {
            file: file.to_owned(),
            line: element.line,
            record: String::new(),
            reason: format!("{} sans code : ignoré", element.name),
        });
        return None;
    };
    let value = element.get(name).unwrap_or(code);
    Some((code.to_owned(), value.to_owned()))
}

fn insert_once<K: std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, V>,
    key: K,
    value: V,
    element: &Element,
    file: &str,
    notices: &mut Vec<Rejection>,
) {
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
        }
        Entry::Occupied(_) => notices.push(Rejection {
            file: file.to_owned(),
            line: element.line,
            record: xml::shown(element.get("code").unwrap_or_default()),
            reason: format!(
                "{} défini deux fois : la première définition est gardée",
                element.name
            ),
        }),
    }
}

/// A fiche of `UDCal_11`: where and when, or why it cannot be used.
#[derive(Debug, Clone)]
struct Fiche {
    file: String,
    line: u64,
    day: Result<u8, String>,
    start: String,
    count: Result<u16, String>,
    weeks: Option<String>,
}

fn read_fiches(
    set: &FileSet<'_>,
    notices: &mut Vec<Rejection>,
) -> Result<HashMap<String, Fiche>, TimetableFileError> {
    let Some((shown, document)) = set.read(Role::Fiches)? else {
        return Err(xml::file_error(set.label, 0, "UDCal_11.xml absent"));
    };
    let mut fiches = HashMap::new();
    for element in named(&document, "fiche") {
        let Some(code) = element.get("code") else {
            notices.push(Rejection {
                file: shown.clone(),
                line: element.line,
                record: String::new(),
                reason: "fiche sans code : ignorée".to_owned(),
            });
            continue;
        };
        let day_text = element.get("jour").unwrap_or_default();
        let day = day_number(day_text).ok_or_else(|| {
            format!("jour « {} » invalide (1 = lundi … 7 = dimanche)", xml::shown(day_text))
        });
        let count = match element.get("nb_demi_seq") {
            None => Ok(2),
            Some(text) => {
                text.parse::<u16>().ok().filter(|n| (1..=48).contains(n)).ok_or_else(|| {
                    format!("nb_demi_seq « {} » invalide (de 1 à 48)", xml::shown(text))
                })
            }
        };
        let fiche = Fiche {
            file: shown.clone(),
            line: element.line,
            day,
            start: element.get("demi_seq").unwrap_or_default().to_owned(),
            count,
            weeks: element.get("semaines").map(str::to_owned),
        };
        insert_once(&mut fiches, code.to_owned(), fiche, element, &shown, notices);
    }
    Ok(fiches)
}

/// The courses being built from the lines.
struct Builder<'a> {
    grid: &'a HalfSequences,
    names: &'a Names,
    weeks: &'a WeekMap,
    default_weeks: WeekSet,
    fiches: &'a HashMap<String, Fiche>,
    /// Courses by `(fiche, subject, weeks)`.
    groups: BTreeMap<(String, String, u64), ParsedCourse>,
    /// The keys of `groups` in order of their first line.
    order: Vec<(String, String, u64)>,
    rejections: Vec<Rejection>,
    /// Fiches already rejected (reported once).
    rejected_fiches: HashMap<String, ()>,
}

impl Builder<'_> {
    fn line(&mut self, file: &str, element: &Element) {
        let fic = element.get("fic").unwrap_or_default().to_owned();
        let record = format!("fiche {}", xml::shown(&fic));
        let reject = |reason: String| Rejection {
            file: file.to_owned(),
            line: element.line,
            record: record.clone(),
            reason,
        };
        let Some(fiche) = self.fiches.get(&fic) else {
            let reason = if fic.is_empty() {
                "ligfiche sans attribut fic".to_owned()
            } else {
                format!("fiche « {} » absente de UDCal_11", xml::shown(&fic))
            };
            self.rejections.push(reject(reason));
            return;
        };
        let timing = fiche
            .day
            .clone()
            .and_then(|day| Ok((day, self.grid.span(day, &fiche.start, fiche.count.clone()?)?)));
        let (weekday, time) = match timing {
            Ok(timing) => timing,
            Err(reason) => {
                if self.rejected_fiches.insert(fic.clone(), ()).is_none() {
                    self.rejections.push(Rejection {
                        file: fiche.file.clone(),
                        line: fiche.line,
                        record: record.clone(),
                        reason,
                    });
                }
                return;
            }
        };

        match self.resolve(element, fiche) {
            Ok(line) => self.add(fic, weekday, time, element.line, line),
            Err(reason) => self.rejections.push(reject(reason)),
        }
    }

    /// The subject, parties and weeks of a line.
    fn resolve(&self, element: &Element, fiche: &Fiche) -> Result<Line, String> {
        let subject_code = element.get("mat").filter(|code| *code != "***");
        let Some(subject_code) = subject_code else {
            return Err("matière absente (mat)".to_owned());
        };
        let Some((code, label)) = self.names.subjects.get(subject_code) else {
            return Err(format!("matière « {} » inconnue (UDCal_05)", xml::shown(subject_code)));
        };
        let lookup = |map: &HashMap<String, PartyRef>, key: &str, what: &str| match element.get(key)
        {
            None => Ok(None),
            Some(code) => map
                .get(code)
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("{what} « {} » inconnu", xml::shown(code))),
        };
        let teacher = lookup(&self.names.teachers, "prof", "professeur (UDCal_04)")?;
        let room = lookup(&self.names.rooms, "salle", "salle (UDCal_03)")?;
        let (class, group) = match (element.get("div"), element.get("gpe")) {
            (div, Some(gpe)) => {
                (None, Some(self.names.group(div.unwrap_or_default(), gpe)?.clone()))
            }
            (Some(_), None) => (lookup(&self.names.classes, "div", "division (UDCal_08)")?, None),
            (None, None) => (None, None),
        };
        let weeks = match element.get("semaines").or(fiche.weeks.as_deref()) {
            Some(text) => self.weeks.parse(text)?,
            None => self.default_weeks,
        };
        if weeks.is_empty() {
            return Err("aucune semaine".to_owned());
        }
        Ok(Line { subject: (code.clone(), label.clone()), teacher, class, group, room, weeks })
    }

    fn add(&mut self, fic: String, weekday: u8, time: LessonTime, line_number: u64, line: Line) {
        let key = (fic.clone(), line.subject.0.clone(), line.weeks.0);
        let course = self.groups.entry(key.clone()).or_insert_with(|| {
            self.order.push(key);
            ParsedCourse {
                line: line_number,
                key: fic,
                subject_code: Some(line.subject.0.clone()),
                subject_label: line.subject.1.clone(),
                teachers: Vec::new(),
                classes: Vec::new(),
                groups: Vec::new(),
                rooms: Vec::new(),
                when: CourseWhen::Weekly {
                    weekday,
                    time,
                    weeks: line.weeks,
                    cancelled_weeks: WeekSet::EMPTY,
                },
            }
        });
        for (party, list) in [
            (line.teacher, &mut course.teachers),
            (line.class, &mut course.classes),
            (line.group, &mut course.groups),
            (line.room, &mut course.rooms),
        ] {
            if let Some(party) = party
                && !list.contains(&party)
            {
                list.push(party);
            }
        }
    }

    fn finish(mut self) -> (Vec<ParsedCourse>, Vec<Rejection>) {
        let mut per_fiche: HashMap<String, usize> = HashMap::new();
        for (fic, _, _) in &self.order {
            *per_fiche.entry(fic.clone()).or_default() += 1;
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut courses = Vec::with_capacity(self.order.len());
        for key in &self.order {
            let Some(mut course) = self.groups.remove(key) else {
                continue;
            };
            if per_fiche.get(&key.0).copied().unwrap_or(1) > 1 {
                let n = seen.entry(key.0.clone()).or_default();
                *n += 1;
                course.key = format!("{}#{n}", key.0);
            }
            courses.push(course);
        }
        (courses, self.rejections)
    }
}

/// What one `ligfiche` contributes.
struct Line {
    subject: (String, String),
    teacher: Option<PartyRef>,
    class: Option<PartyRef>,
    group: Option<PartyRef>,
    room: Option<PartyRef>,
    weeks: WeekSet,
}

/// The caps of a ZIP read (smaller in tests).
struct ZipLimits {
    archive_bytes: usize,
    entries: usize,
    entry_bytes: u64,
    total_bytes: u64,
}

impl ZipLimits {
    const DEFAULT: ZipLimits = ZipLimits {
        archive_bytes: MAX_FILE_BYTES,
        entries: MAX_ZIP_ENTRIES,
        entry_bytes: MAX_FILE_BYTES as u64,
        total_bytes: 4 * MAX_FILE_BYTES as u64,
    };
}

/// The entries of the archive that the export needs, inflated under the caps.
fn read_zip(
    bytes: &[u8],
    file: &str,
    limits: &ZipLimits,
) -> Result<Vec<(String, Vec<u8>)>, TimetableFileError> {
    let refuse = |reason: String| xml::file_error(file, 0, reason);
    if bytes.len() > limits.archive_bytes {
        return Err(refuse(format!(
            "archive trop volumineuse ({} octets, au plus {})",
            bytes.len(),
            limits.archive_bytes
        )));
    }
    // Every central directory entry starts with this signature: counting it bounds the
    // entries before the zip reader allocates one record per entry.
    let too_many = || refuse(format!("archive de plus de {} entrées", limits.entries));
    if memchr::memmem::find_iter(bytes, b"PK\x01\x02").count() > limits.entries {
        return Err(too_many());
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| {
        refuse("archive ZIP illisible (ce n'est pas un ZIP, ou il est tronqué)".into())
    })?;
    if archive.len() > limits.entries {
        return Err(too_many());
    }
    if archive.has_duplicate_names() {
        return Err(refuse("archive ZIP avec deux entrées du même nom".to_owned()));
    }

    let metadata = archive.metadata();
    let mut wanted = Vec::new();
    for index in 0..metadata.len() {
        let entry = metadata.entry(index).map_err(|_| refuse("archive ZIP illisible".into()))?;
        let raw = entry.name_raw();
        let name = String::from_utf8_lossy(raw).into_owned();
        if !safe_entry_name(raw) {
            return Err(refuse(format!(
                "entrée « {} » dont le chemin sort de l'archive (absolu ou avec « .. ») : \
                 archive refusée",
                xml::shown(&name)
            )));
        }
        if name.ends_with('/') || Role::of(&name).is_none() {
            continue;
        }
        if entry.encrypted() {
            return Err(refuse(format!("entrée « {} » chiffrée", xml::shown(&name))));
        }
        if entry.size() > limits.entry_bytes {
            return Err(refuse(format!(
                "entrée « {} » trop grande une fois décompressée ({} octets annoncés, au plus {})",
                xml::shown(&name),
                entry.size(),
                limits.entry_bytes
            )));
        }
        wanted.push((index, name));
    }

    let mut total: u64 = 0;
    let mut files = Vec::with_capacity(wanted.len());
    for (index, name) in wanted {
        let unreadable = || {
            refuse(format!(
                "entrée « {} » illisible (compression non prise en charge ou données abîmées)",
                xml::shown(&name)
            ))
        };
        let entry = archive.by_index(index).map_err(|_| unreadable())?;
        let mut data = Vec::new();
        entry.take(limits.entry_bytes + 1).read_to_end(&mut data).map_err(|_| unreadable())?;
        let size = data.len() as u64;
        if size > limits.entry_bytes {
            return Err(refuse(format!(
                "entrée « {} » trop grande une fois décompressée (plus de {} octets)",
                xml::shown(&name),
                limits.entry_bytes
            )));
        }
        total += size;
        if total > limits.total_bytes {
            return Err(refuse(format!(
                "archive trop grande une fois décompressée (plus de {} octets)",
                limits.total_bytes
            )));
        }
        files.push((name, data));
    }
    Ok(files)
}

/// A zip entry name that stays inside the archive: not empty, relative (no leading slash or
/// backslash, no drive letter or other colon), no `..` component, no NUL.
fn safe_entry_name(name: &[u8]) -> bool {
    !name.is_empty()
        && !name.starts_with(b"/")
        && !name.starts_with(b"\\")
        && !name.contains(&b':')
        && !name.contains(&0)
        && !name.split(|&b| b == b'/' || b == b'\\').any(|part| part == b"..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            writer.start_file(*name, SimpleFileOptions::default()).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn files_are_found_by_name_in_any_folder_and_case() {
        assert_eq!(Role::of("export/2025/udcal_24.XML"), Some(Role::Calendar));
        assert_eq!(Role::of("UDCal_12_3.xml"), Some(Role::Lines(4)));
        assert_eq!(Role::of("UDCal_12_S36.xml"), None);
        assert_eq!(Role::of("UDCal_10.xml"), None);
        assert_eq!(Role::of("a\\semaines.xml"), Some(Role::Weeks));
    }

    #[test]
    fn iso_weeks_map_to_school_weeks_across_new_year() {
        let year =
            SchoolYear::new(jiff::civil::date(2025, 9, 1), jiff::civil::date(2026, 7, 4)).unwrap();
        let map = WeekMap::new(&year);
        let set = map.parse("36-37, 1;27").unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![1, 2, 18, 44]);
        assert!(map.parse("30").is_err());
        assert!(map.parse("40-36").is_err());
        assert!(map.parse("x").is_err());
    }

    #[test]
    fn an_entry_that_inflates_past_its_declared_size_is_cut_and_refused() {
        let big = vec![b'a'; 5000];
        let mut archive = zip_of(&[("UDCal_12.xml", &big)]);
        // Lie about the uncompressed size (500) in the local header and the central directory.
        for signature in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
            let at = memchr::memmem::find(&archive, signature).unwrap();
            let field = if signature == b"PK\x03\x04" { at + 22 } else { at + 24 };
            archive[field..field + 4].copy_from_slice(&500u32.to_le_bytes());
        }
        let limits =
            ZipLimits { archive_bytes: 1 << 20, entries: 10, entry_bytes: 1000, total_bytes: 4000 };
        let result = read_zip(&archive, "udt.zip", &limits);
        match result {
            Err(error) => assert!(error.reason.contains("UDCal_12.xml"), "{}", error.reason),
            Ok(files) => assert!(files.iter().all(|(_, data)| data.len() <= 1000)),
        }
        let honest = zip_of(&[("UDCal_12.xml", &big)]);
        let error = read_zip(&honest, "udt.zip", &limits).unwrap_err();
        assert!(error.reason.contains("trop grande"), "{}", error.reason);
    }

    #[test]
    fn french_day_names_are_read() {
        assert_eq!(day_number("Mercredi"), Some(3));
        assert_eq!(day_number("ve"), Some(5));
        assert_eq!(day_number("8"), None);
        assert_eq!(day_number(""), None);
    }
}
