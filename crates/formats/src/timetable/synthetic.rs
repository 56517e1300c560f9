//! One synthetic timetable model, written both as the decrypted content of an EDT "export ENT"
//! ([`SyntheticTimetable::to_edt_xml`]) and as a UDT ZIP ([`SyntheticTimetable::to_udt_zip`]),
//! so that the two readers can be checked against each other and against the model: read back,
//! both give the same courses (day, times, weeks run, subject, teachers, classes, groups,
//! rooms). No real timetable export is public; these files follow FORMATS.md §3 and the
//! conventions documented in [`crate::timetable::edt`] and [`crate::timetable::udt`].
//!
//! The demo generator builds one model per collège with [`SyntheticTimetable::new`] and the
//! `add_…` methods; [`SyntheticTimetable::sample`] is a small hand-made collège for tests.
//!
//! Two things only EDT can say: a cancelled week (UDT leaves the week out, so the UDT file's
//! weeks are the model's weeks minus its cancelled weeks) and a course whose weeks are all
//! cancelled (UDT has no such course). Each place of the grid becomes two UDT half-sequences
//! (one when it lasts a single minute), so a course of `n` places spans `2n` of them.

use std::collections::HashSet;
use std::io::{self, Cursor, Write};

use domain::timetable::{LessonTime, SchoolYear, WeekSet};
use jiff::civil::{Date, date};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, Event};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A school's timetable, the single source of both fixtures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticTimetable {
    /// The Monday of school week 1.
    pub first_monday: Date,
    /// The last day of the year (the pupils' last day).
    pub last_day: Date,
    /// The slot grid, `(place number, time)`, in order of time.
    pub places: Vec<(u16, LessonTime)>,
    pub teachers: Vec<SyntheticTeacher>,
    /// Class names (`"6e A"`).
    pub classes: Vec<String>,
    pub groups: Vec<SyntheticGroup>,
    /// Room names.
    pub rooms: Vec<String>,
    /// `(code, label)`; codes are unique and never `***`.
    pub subjects: Vec<(String, String)>,
    pub courses: Vec<SyntheticCourse>,
}

/// A teacher: `id` is the file identifier (EDT `Ident`, UDT `code`), `external_id` the
/// national one (EDT `IDPN`, UDT `id_aaf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticTeacher {
    pub id: String,
    pub external_id: Option<String>,
    pub last_name: String,
    pub first_name: String,
}

/// A group of pupils of class `class` (an index into `classes`). A part of class
/// (`part_of_class`) is written as EDT's `PartieDeClasse`, any other as a `Groupe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticGroup {
    pub name: String,
    pub class: usize,
    pub part_of_class: bool,
}

/// A weekly course; the indexes point into the model's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticCourse {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// The number of its first place in `places`, and how many consecutive places it lasts.
    pub first_place: u16,
    pub place_count: u16,
    /// The weeks it is timetabled, and those of them it is cancelled.
    pub weeks: WeekSet,
    pub cancelled_weeks: WeekSet,
    pub subject: usize,
    pub teachers: Vec<usize>,
    pub classes: Vec<usize>,
    pub groups: Vec<usize>,
    pub rooms: Vec<usize>,
}

/// The French collège grid used by the sample: nine places from 08:00 to 17:55, with a break
/// at 09:50, lunch from 12:55 and a break before the 17:00 place.
pub fn college_places() -> Vec<(u16, LessonTime)> {
    let times = [
        (8 * 60, 8 * 60 + 55),
        (8 * 60 + 55, 9 * 60 + 50),
        (10 * 60 + 5, 11 * 60),
        (11 * 60, 11 * 60 + 55),
        (12 * 60, 12 * 60 + 55),
        (13 * 60 + 30, 14 * 60 + 25),
        (14 * 60 + 25, 15 * 60 + 20),
        (15 * 60 + 35, 16 * 60 + 30),
        (17 * 60, 17 * 60 + 55),
    ];
    times
        .into_iter()
        .zip(1u16..)
        .filter_map(|((start, end), number)| Some((number, LessonTime::new(start, end).ok()?)))
        .collect()
}

/// The weeks of the year from `first_monday` to `last_day` whose Monday is in no holiday
/// (`(first day, last day)` ranges).
pub fn term_weeks(first_monday: Date, last_day: Date, holidays: &[(Date, Date)]) -> WeekSet {
    let Ok(year) = SchoolYear::new(first_monday, last_day) else {
        return WeekSet::EMPTY;
    };
    let mut weeks = WeekSet::EMPTY;
    for week in 1..=year.week_count() {
        let Some(monday) = year.date_of(week, 1) else {
            continue;
        };
        if !holidays.iter().any(|(from, to)| (*from..=*to).contains(&monday)) {
            weeks.insert(week);
        }
    }
    weeks
}

/// Splits weeks into A weeks (the 1st, 3rd… of the set) and B weeks (the 2nd, 4th…).
pub fn alternating(weeks: WeekSet) -> (WeekSet, WeekSet) {
    let (mut a, mut b) = (WeekSet::EMPTY, WeekSet::EMPTY);
    for (position, week) in weeks.iter().enumerate() {
        if position % 2 == 0 { a.insert(week) } else { b.insert(week) }
    }
    (a, b)
}

/// The holidays of zone C in 2025-2026 (Toussaint, Noël, hiver, printemps).
pub fn holidays_2025_2026() -> Vec<(Date, Date)> {
    vec![
        (date(2025, 10, 18), date(2025, 11, 2)),
        (date(2025, 12, 20), date(2026, 1, 4)),
        (date(2026, 2, 21), date(2026, 3, 8)),
        (date(2026, 4, 18), date(2026, 5, 3)),
    ]
}

impl SyntheticTimetable {
    /// An empty timetable on a grid.
    pub fn new(first_monday: Date, last_day: Date, places: Vec<(u16, LessonTime)>) -> Self {
        SyntheticTimetable {
            first_monday,
            last_day,
            places,
            teachers: Vec::new(),
            classes: Vec::new(),
            groups: Vec::new(),
            rooms: Vec::new(),
            subjects: Vec::new(),
            courses: Vec::new(),
        }
    }

    /// Adds a teacher and returns its index.
    pub fn add_teacher(
        &mut self,
        id: &str,
        external_id: Option<&str>,
        last_name: &str,
        first_name: &str,
    ) -> usize {
        self.teachers.push(SyntheticTeacher {
            id: id.to_owned(),
            external_id: external_id.map(str::to_owned),
            last_name: last_name.to_owned(),
            first_name: first_name.to_owned(),
        });
        self.teachers.len() - 1
    }

    pub fn add_class(&mut self, name: &str) -> usize {
        self.classes.push(name.to_owned());
        self.classes.len() - 1
    }

    pub fn add_group(&mut self, name: &str, class: usize, part_of_class: bool) -> usize {
        self.groups.push(SyntheticGroup { name: name.to_owned(), class, part_of_class });
        self.groups.len() - 1
    }

    pub fn add_room(&mut self, name: &str) -> usize {
        self.rooms.push(name.to_owned());
        self.rooms.len() - 1
    }

    pub fn add_subject(&mut self, code: &str, label: &str) -> usize {
        self.subjects.push((code.to_owned(), label.to_owned()));
        self.subjects.len() - 1
    }

    pub fn add_course(&mut self, course: SyntheticCourse) {
        self.courses.push(course);
    }

    /// A small collège: four classes from 6e to 3e, Latin and LV2 groups, the halves of a 6e
    /// taking science on alternate A/B weeks, a co-taught course, a cancelled week, a lesson
    /// at 17:00, and names with accents, apostrophes, hyphens and an ampersand.
    pub fn sample() -> SyntheticTimetable {
        let first_monday = date(2025, 9, 1);
        let last_day = date(2026, 7, 4);
        let mut model = SyntheticTimetable::new(first_monday, last_day, college_places());
        let term = term_weeks(first_monday, last_day, &holidays_2025_2026());
        let (week_a, week_b) = alternating(term);

        let teachers = [
            ("PR01", Some("1000001"), "Lefèvre-Dubois", "Hélène"),
            ("PR02", Some("1000002"), "N'Diaye", "Aïssatou"),
            ("PR03", None, "D'Alembert-Côté", "Jean-Noël"),
            ("PR04", Some("1000004"), "O'Connor", "Siobhán"),
            ("PR05", None, "García Núñez", "Lucía"),
            ("PR06", Some("1000006"), "Müller", "Jürgen"),
            ("PR07", None, "Lemaître", "Bérénice"),
            ("PR08", Some("1000008"), "Bœuf", "Chloé"),
            ("PR09", None, "Da Silva", "João"),
            ("PR10", None, "Le Goff", "Maëlys"),
            ("PR11", Some("1000011"), "Perrin", "Noé"),
            ("PR12", None, "Rousseau-Éluard", "Anaïs"),
        ];
        for (id, external, last, first) in teachers {
            model.add_teacher(id, external, last, first);
        }
        for class in ["6e A", "5e A", "4e A", "3e A"] {
            model.add_class(class);
        }
        model.add_group("4e Latin", 2, false);
        model.add_group("3e Espagnol LV2", 3, false);
        model.add_group("3e Allemand LV2", 3, false);
        model.add_group("6e A groupe 1", 0, true);
        model.add_group("6e A groupe 2", 0, true);
        for room in [
            "Salle 101",
            "Salle 102",
            "Salle 103",
            "Salle 104",
            "Salle d'Arts plastiques",
            "Laboratoire de SVT",
            "Salle de technologie",
            "Salle de musique",
            "Gymnase Émile-Zola",
            "CDI & salle polyvalente",
        ] {
            model.add_room(room);
        }
        let subjects = [
            ("FRANC", "Français"),
            ("MATHS", "Mathématiques"),
            ("HIGEO", "Histoire-géographie"),
            ("AGL1", "Anglais LV1"),
            ("SVT", "Sciences de la vie et de la Terre"),
            ("PH-CH", "Physique-chimie"),
            ("TECHN", "Technologie"),
            ("A-PLA", "Arts plastiques"),
            ("EDMUS", "Éducation musicale"),
            ("EPS", "Éducation physique et sportive"),
            ("LCALA", "Latin"),
            ("ESP2", "Espagnol LV2"),
            ("ALL2", "Allemand LV2"),
            ("VIE-C", "Vie de classe"),
            ("EPI", "Sciences & société (EPI)"),
        ];
        for (code, label) in subjects {
            model.add_subject(code, label);
        }

        let fixed = |weekday, first_place, place_count, weeks, subject, teachers: &[usize]| {
            SyntheticCourse {
                weekday,
                first_place,
                place_count,
                weeks,
                cancelled_weeks: WeekSet::EMPTY,
                subject,
                teachers: teachers.to_vec(),
                classes: Vec::new(),
                groups: Vec::new(),
                rooms: Vec::new(),
            }
        };
        let mut planner = Planner::default();
        let mut specials = vec![
            // 6e A halves: science on alternate weeks, same slot.
            SyntheticCourse { groups: vec![3], rooms: vec![5], ..fixed(2, 3, 1, week_a, 4, &[7]) },
            SyntheticCourse { groups: vec![4], rooms: vec![5], ..fixed(2, 3, 1, week_b, 4, &[7]) },
            // 3e LV2: Spanish and German aligned.
            SyntheticCourse { groups: vec![1], rooms: vec![3], ..fixed(1, 6, 1, term, 11, &[4]) },
            SyntheticCourse { groups: vec![2], rooms: vec![9], ..fixed(1, 6, 1, term, 12, &[5]) },
            SyntheticCourse { groups: vec![1], rooms: vec![3], ..fixed(4, 3, 1, term, 11, &[4]) },
            SyntheticCourse { groups: vec![2], rooms: vec![9], ..fixed(4, 3, 1, term, 12, &[5]) },
            // 4e Latin.
            SyntheticCourse { groups: vec![0], rooms: vec![9], ..fixed(5, 8, 1, term, 10, &[6]) },
            // 3e A, class time at 17:00 on A weeks.
            SyntheticCourse {
                classes: vec![3],
                rooms: vec![3],
                ..fixed(4, 9, 1, week_a, 13, &[2])
            },
            // 4e A, co-taught on B weeks.
            SyntheticCourse {
                classes: vec![2],
                rooms: vec![5],
                ..fixed(3, 3, 2, week_b, 14, &[7, 8])
            },
        ];
        for course in &specials {
            planner.book(course);
        }

        // (subject, teacher, room, lessons a week, places each); room `None` = the class's own.
        let plan: [(usize, usize, Option<usize>, u8, u16); 10] = [
            (0, 0, None, 4, 1),
            (1, 1, None, 4, 1),
            (2, 2, None, 3, 1),
            (3, 3, None, 3, 1),
            (4, 7, Some(5), 1, 1),
            (5, 8, Some(5), 1, 1),
            (6, 8, Some(6), 1, 1),
            (7, 9, Some(4), 1, 1),
            (8, 10, Some(7), 1, 1),
            (9, 11, Some(8), 1, 2),
        ];
        let mut courses = Vec::new();
        for class in 0..4usize {
            for (lesson, &(subject, teacher, room, count, places)) in plan.iter().enumerate() {
                // 6e A already has its science in halves.
                if class == 0 && subject == 4 {
                    continue;
                }
                let room = room.unwrap_or(class);
                for k in 0..count {
                    let seed = class * 3 + lesson * 7 + usize::from(k) * 11;
                    let template = SyntheticCourse {
                        classes: vec![class],
                        rooms: vec![room],
                        ..fixed(1, 1, places, term, subject, &[teacher])
                    };
                    if let Some(course) = planner.place(template, seed) {
                        courses.push(course);
                    }
                }
            }
        }
        // One cancelled week (a training day) for the 5e A's first French lesson.
        if let Some(course) = courses.iter_mut().find(|c| c.classes == [1] && c.subject == 0) {
            course.cancelled_weeks = WeekSet::from_weeks([12]);
        }
        specials.extend(courses);
        model.courses = specials;
        model
    }

    /// The decrypted content of an EDT "export ENT" for this timetable.
    pub fn to_edt_xml(&self) -> String {
        let bytes = self.write_edt().expect("writing XML to memory cannot fail");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A UDT export of this timetable: a ZIP whose `UDCal_NN.xml` files sit in a folder.
    pub fn to_udt_zip(&self) -> Vec<u8> {
        self.write_udt().expect("writing a ZIP to memory cannot fail")
    }

    fn write_edt(&self) -> io::Result<Vec<u8>> {
        let mut w = Writer::new_with_indent(Vec::with_capacity(64 * 1024), b' ', 1);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("ExportEntEdt").write_inner_content(|w| {
            w.create_element("AnneeScolaire")
                .with_attribute((
                    "DatePremierJourSemaine1",
                    french_date(self.first_monday).as_str(),
                ))
                .with_attribute(("DateDernierJour", french_date(self.last_day).as_str()))
                .write_empty()?;
            let duration = self.places.first().map(|(_, t)| t.end_minute - t.start_minute);
            let duration = duration.unwrap_or(55).to_string();
            w.create_element("GrilleHoraire")
                .with_attribute(("DureePlace", duration.as_str()))
                .write_inner_content(|w| {
                    for (number, time) in &self.places {
                        w.create_element("Place")
                            .with_attribute(("Numero", number.to_string().as_str()))
                            .with_attribute((
                                "LibelleHeureDebut",
                                edt_clock(time.start_minute).as_str(),
                            ))
                            .with_attribute((
                                "LibelleHeureFin",
                                edt_clock(time.end_minute).as_str(),
                            ))
                            .write_empty()?;
                    }
                    Ok(())
                })?;
            for (index, (code, label)) in self.subjects.iter().enumerate() {
                w.create_element("Matiere")
                    .with_attribute(("Ident", format!("MAT{index}").as_str()))
                    .with_attribute(("Code", code.as_str()))
                    .with_attribute(("Libelle", label.as_str()))
                    .write_empty()?;
            }
            for teacher in &self.teachers {
                let mut element =
                    w.create_element("Professeur").with_attribute(("Ident", teacher.id.as_str()));
                if let Some(external) = &teacher.external_id {
                    element = element.with_attribute(("IDPN", external.as_str()));
                }
                element
                    .with_attribute(("Nom", teacher.last_name.as_str()))
                    .with_attribute(("Prenom", teacher.first_name.as_str()))
                    .write_empty()?;
            }
            for (index, name) in self.classes.iter().enumerate() {
                let element = w
                    .create_element("Classe")
                    .with_attribute(("Ident", format!("CL{index}").as_str()))
                    .with_attribute(("Nom", name.as_str()));
                let parts: Vec<(usize, &SyntheticGroup)> = self
                    .groups
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.part_of_class && g.class == index)
                    .collect();
                if parts.is_empty() {
                    element.write_empty()?;
                } else {
                    element.write_inner_content(|w| {
                        for (group, part) in &parts {
                            w.create_element("PartieDeClasse")
                                .with_attribute(("Ident", format!("GR{group}").as_str()))
                                .with_attribute(("Nom", part.name.as_str()))
                                .write_empty()?;
                        }
                        Ok(())
                    })?;
                }
            }
            for (index, group) in self.groups.iter().enumerate() {
                if group.part_of_class {
                    continue;
                }
                w.create_element("Groupe")
                    .with_attribute(("Ident", format!("GR{index}").as_str()))
                    .with_attribute(("Nom", group.name.as_str()))
                    .write_inner_content(|w| {
                        w.create_element("Classe")
                            .with_attribute(("Ident", format!("CL{}", group.class).as_str()))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            for (index, name) in self.rooms.iter().enumerate() {
                w.create_element("Salle")
                    .with_attribute(("Ident", format!("SA{index}").as_str()))
                    .with_attribute(("Nom", name.as_str()))
                    .write_empty()?;
            }
            w.create_element("Cours").write_inner_content(|w| {
                for (index, course) in self.courses.iter().enumerate() {
                    self.write_edt_course(w, index, course)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(w.into_inner())
    }

    fn write_edt_course(
        &self,
        w: &mut Writer<Vec<u8>>,
        index: usize,
        course: &SyntheticCourse,
    ) -> io::Result<()> {
        let mut element = w
            .create_element("Cours")
            .with_attribute(("Ident", format!("CO{index}").as_str()))
            .with_attribute(("Jour", course.weekday.to_string().as_str()))
            .with_attribute(("NumeroPlaceDebut", course.first_place.to_string().as_str()))
            .with_attribute(("NombrePlaces", course.place_count.to_string().as_str()));
        if !course.cancelled_weeks.is_empty() {
            let cancelled = course.cancelled_weeks.0.to_string();
            element = element.with_attribute(("SemainesAnnulation", cancelled.as_str()));
        }
        let weeks = course.weeks.0.to_string();
        let mut children: Vec<(&str, String)> = vec![("Matiere", format!("MAT{}", course.subject))];
        children.extend(course.teachers.iter().filter_map(|&t| {
            self.teachers.get(t).map(|teacher| ("Professeur", teacher.id.clone()))
        }));
        children.extend(course.classes.iter().map(|c| ("Classe", format!("CL{c}"))));
        children.extend(course.groups.iter().map(|&g| {
            let part = self.groups.get(g).is_some_and(|group| group.part_of_class);
            (if part { "PartieDeClasse" } else { "Groupe" }, format!("GR{g}"))
        }));
        children.extend(course.rooms.iter().map(|r| ("Salle", format!("SA{r}"))));
        element.write_inner_content(|w| {
            for (name, ident) in &children {
                w.create_element(*name)
                    .with_attribute(("Ident", ident.as_str()))
                    .with_attribute(("Semaines", weeks.as_str()))
                    .write_empty()?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn write_udt(&self) -> io::Result<Vec<u8>> {
        let year = SchoolYear::new(self.first_monday, self.last_day)
            .unwrap_or(SchoolYear { first_monday: self.first_monday, last_day: self.last_day });
        let published = self
            .courses
            .iter()
            .fold(WeekSet::EMPTY, |all, c| all.union(c.weeks.minus(c.cancelled_weeks)));
        let half_codes = self.half_sequence_codes();

        let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
        files.push((
            "UDCal_24.xml",
            xml_file("UDCal_24", |w| {
                w.create_element("calendrier")
                    .with_attribute(("annee", self.first_monday.year().to_string().as_str()))
                    .with_attribute(("debut_eleve", french_date(self.first_monday).as_str()))
                    .with_attribute(("fin_eleve", french_date(self.last_day).as_str()))
                    .write_empty()?;
                Ok(())
            })?,
        ));
        let first_week = self.first_monday.iso_week_date().week().to_string();
        let duration = self.places.first().map(|(_, t)| t.end_minute - t.start_minute);
        files.push((
            "UDCal_00.xml",
            xml_file("UDCal_00", |w| {
                w.create_element("init")
                    .with_attribute(("premiere_semaine_ISO", first_week.as_str()))
                    .with_attribute(("duree_seq", duration.unwrap_or(55).to_string().as_str()))
                    .write_empty()?;
                Ok(())
            })?,
        ));
        files.push((
            "semaines.xml",
            xml_file("semaines", |w| {
                for week in published.iter() {
                    let iso = iso_week(&year, week).to_string();
                    w.create_element("semaine")
                        .with_attribute(("num", iso.as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?,
        ));
        files.push((
            "UDCal_03.xml",
            xml_file("UDCal_03", |w| {
                for (index, name) in self.rooms.iter().enumerate() {
                    w.create_element("salle")
                        .with_attribute(("code", format!("S{index}").as_str()))
                        .with_attribute(("nom", name.as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?,
        ));
        files.push((
            "UDCal_04.xml",
            xml_file("UDCal_04", |w| {
                for teacher in &self.teachers {
                    let mut element = w
                        .create_element("prof")
                        .with_attribute(("code", teacher.id.as_str()))
                        .with_attribute(("nom", teacher.last_name.as_str()))
                        .with_attribute(("prenom", teacher.first_name.as_str()));
                    if let Some(external) = &teacher.external_id {
                        element = element.with_attribute(("id_aaf", external.as_str()));
                    }
                    element.write_empty()?;
                }
                Ok(())
            })?,
        ));
        files.push((
            "UDCal_05.xml",
            xml_file("UDCal_05", |w| {
                w.create_element("mat")
                    .with_attribute(("code", "***"))
                    .with_attribute(("libelle", "(sans matière)"))
                    .write_empty()?;
                for (code, label) in &self.subjects {
                    w.create_element("mat")
                        .with_attribute(("code", code.as_str()))
                        .with_attribute(("libelle", label.as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?,
        ));
        files.push((
            "UDCal_07.xml",
            xml_file("UDCal_07", |w| {
                for (code, start, end) in half_codes.iter().flat_map(|(_, halves)| halves) {
                    w.create_element("demi_seq")
                        .with_attribute(("code", code.as_str()))
                        .with_attribute(("hre_deb", udt_clock(*start).as_str()))
                        .with_attribute(("hre_fin", udt_clock(*end).as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?,
        ));
        files.push((
            "UDCal_08.xml",
            xml_file("UDCal_08", |w| {
                for (index, name) in self.classes.iter().enumerate() {
                    w.create_element("div")
                        .with_attribute(("code", format!("D{index}").as_str()))
                        .with_attribute(("code_sts", name.as_str()))
                        .with_attribute(("libelle", name.as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?,
        ));
        files.push((
            "UDCal_19.xml",
            xml_file("UDCal_19", |w| {
                for (index, group) in self.groups.iter().enumerate() {
                    w.create_element("gpe")
                        .with_attribute(("code", format!("G{index}").as_str()))
                        .with_attribute(("code_div", format!("D{}", group.class).as_str()))
                        .with_attribute(("nom", group.name.as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?,
        ));
        files.push((
            "UDCal_11.xml",
            xml_file("UDCal_11", |w| {
                for (index, course) in self.courses.iter().enumerate() {
                    self.write_fiche(w, index, course, &half_codes, &year, published)?;
                }
                Ok(())
            })?,
        ));
        let half = self.courses.len() / 2;
        for (name, range) in
            [("UDCal_12.xml", 0..half), ("UDCal_12_1.xml", half..self.courses.len())]
        {
            let data = xml_file("UDCal_12", |w| {
                for index in range.clone() {
                    if let Some(course) = self.courses.get(index) {
                        self.write_lines(w, index, course)?;
                    }
                }
                Ok(())
            })?;
            files.push((name, data));
        }

        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in files {
            zip.start_file(format!("Export UDT/{name}"), options).map_err(io::Error::other)?;
            zip.write_all(&data)?;
        }
        Ok(zip.finish().map_err(io::Error::other)?.into_inner())
    }

    /// For each place, its half-sequences `(code, start, end)`.
    fn half_sequence_codes(&self) -> Vec<PlaceHalves> {
        self.places
            .iter()
            .map(|(number, time)| {
                let (start, end) = (time.start_minute, time.end_minute);
                let halves = if end - start < 2 {
                    vec![(format!("{number}a"), start, end)]
                } else {
                    let middle = start + (end - start) / 2;
                    vec![(format!("{number}a"), start, middle), (format!("{number}b"), middle, end)]
                };
                (*number, halves)
            })
            .collect()
    }

    fn write_fiche(
        &self,
        w: &mut Writer<Vec<u8>>,
        index: usize,
        course: &SyntheticCourse,
        half_codes: &[PlaceHalves],
        year: &SchoolYear,
        published: WeekSet,
    ) -> io::Result<()> {
        let last = course.first_place.saturating_add(course.place_count.saturating_sub(1));
        let spanned: Vec<&(String, u16, u16)> = half_codes
            .iter()
            .filter(|(number, _)| (course.first_place..=last).contains(number))
            .flat_map(|(_, halves)| halves)
            .collect();
        let first = spanned.first().map(|(code, _, _)| code.clone()).unwrap_or_default();
        let mut element = w
            .create_element("fiche")
            .with_attribute(("code", format!("F{index}").as_str()))
            .with_attribute(("jour", course.weekday.to_string().as_str()))
            .with_attribute(("demi_seq", first.as_str()));
        if spanned.len() != 2 {
            element = element.with_attribute(("nb_demi_seq", spanned.len().to_string().as_str()));
        }
        let runs = course.weeks.minus(course.cancelled_weeks);
        if runs != published {
            element = element.with_attribute(("semaines", iso_ranges(year, runs).as_str()));
        }
        element.write_empty()?;
        Ok(())
    }

    fn write_lines(
        &self,
        w: &mut Writer<Vec<u8>>,
        index: usize,
        course: &SyntheticCourse,
    ) -> io::Result<()> {
        let subject = self.subjects.get(course.subject).map(|(code, _)| code.as_str());
        let mut parties: Vec<(String, Option<String>)> =
            course.classes.iter().map(|c| (format!("D{c}"), None)).collect();
        parties.extend(course.groups.iter().map(|&g| {
            let class = self.groups.get(g).map(|group| group.class).unwrap_or_default();
            (format!("D{class}"), Some(format!("G{g}")))
        }));
        let count = parties.len().max(course.teachers.len()).max(course.rooms.len()).max(1);
        for line in 0..count {
            let mut element = w
                .create_element("ligfiche")
                .with_attribute(("fic", format!("F{index}").as_str()))
                .with_attribute(("mat", subject.unwrap_or("***")));
            if let Some((div, group)) = parties.get(line) {
                element = element.with_attribute(("div", div.as_str()));
                if let Some(group) = group {
                    element = element.with_attribute(("gpe", group.as_str()));
                }
            }
            if let Some(teacher) = course.teachers.get(line).and_then(|&t| self.teachers.get(t)) {
                element = element.with_attribute(("prof", teacher.id.as_str()));
            }
            if let Some(room) = course.rooms.get(line) {
                element = element.with_attribute(("salle", format!("S{room}").as_str()));
            }
            element.write_empty()?;
        }
        Ok(())
    }
}

/// A place's number and its UDT half-sequences `(code, start, end)`.
type PlaceHalves = (u16, Vec<(String, u16, u16)>);

/// Who is busy when, to place the sample's lessons without clashes.
#[derive(Default)]
struct Planner {
    /// `(kind, index, weekday, place)`: kind 0 = class, 1 = teacher, 2 = room, 3 = group.
    busy: HashSet<(u8, usize, u8, u16)>,
}

impl Planner {
    fn keys(course: &SyntheticCourse, weekday: u8, place: u16) -> Vec<(u8, usize, u8, u16)> {
        let mut keys = Vec::new();
        for offset in 0..course.place_count {
            let place = place + offset;
            keys.extend(course.classes.iter().map(|&c| (0, c, weekday, place)));
            keys.extend(course.teachers.iter().map(|&t| (1, t, weekday, place)));
            keys.extend(course.rooms.iter().map(|&r| (2, r, weekday, place)));
            keys.extend(course.groups.iter().map(|&g| (3, g, weekday, place)));
        }
        keys
    }

    /// Marks a fixed course busy (alternating courses share their slot on purpose).
    fn book(&mut self, course: &SyntheticCourse) {
        for key in Planner::keys(course, course.weekday, course.first_place) {
            self.busy.insert(key);
        }
    }

    /// The first free slot from a seed: places 1–8 on weekdays, mornings only on Wednesday,
    /// a double lesson never across a break longer than five minutes.
    fn place(&mut self, mut course: SyntheticCourse, seed: usize) -> Option<SyntheticCourse> {
        let mut slots: Vec<(u8, u16)> = Vec::new();
        for weekday in 1..=5u8 {
            let last = if weekday == 3 { 4 } else { 8 };
            for place in 1..=last {
                let end = place + course.place_count - 1;
                let allowed =
                    course.place_count == 1 || matches!((place, end), (1, 2) | (3, 4) | (6, 7));
                if end <= last && allowed {
                    slots.push((weekday, place));
                }
            }
        }
        let count = slots.len();
        for step in 0..count {
            let (weekday, place) = slots[(seed + step * 5) % count];
            let keys = Planner::keys(&course, weekday, place);
            if keys.iter().all(|key| !self.busy.contains(key)) {
                self.busy.extend(keys);
                course.weekday = weekday;
                course.first_place = place;
                return Some(course);
            }
        }
        None
    }
}

fn xml_file(
    root: &str,
    body: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut body = Some(body);
    w.create_element(root).write_inner_content(|w| match body.take() {
        Some(body) => body(w),
        None => Ok(()),
    })?;
    Ok(w.into_inner())
}

fn french_date(day: Date) -> String {
    format!("{:02}/{:02}/{:04}", day.day(), day.month(), day.year())
}

fn edt_clock(minute: u16) -> String {
    format!("{:02}h{:02}", minute / 60, minute % 60)
}

fn udt_clock(minute: u16) -> String {
    format!("{:02}{:02}", minute / 60, minute % 60)
}

/// The ISO week number of school week `week`.
fn iso_week(year: &SchoolYear, week: u8) -> i8 {
    let days = i64::from(week.saturating_sub(1)) * 7;
    let monday =
        year.first_monday.checked_add(jiff::Span::new().days(days)).unwrap_or(year.first_monday);
    monday.iso_week_date().week()
}

/// `"36-42,45-50,2-7"`: the ISO weeks of a set, in runs of consecutive numbers.
fn iso_ranges(year: &SchoolYear, weeks: WeekSet) -> String {
    let mut runs: Vec<(i8, i8)> = Vec::new();
    for week in weeks.iter() {
        let iso = iso_week(year, week);
        match runs.last_mut() {
            Some((_, to)) if *to + 1 == iso => *to = iso,
            _ => runs.push((iso, iso)),
        }
    }
    let parts: Vec<String> = runs
        .into_iter()
        .map(|(from, to)| if from == to { from.to_string() } else { format!("{from}-{to}") })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_has_what_the_tests_rely_on() {
        let model = SyntheticTimetable::sample();
        assert_eq!(model.classes.len(), 4);
        assert!(model.courses.len() > 60, "{}", model.courses.len());
        assert!(model.courses.iter().any(|c| !c.cancelled_weeks.is_empty()));
        assert!(model.courses.iter().any(|c| c.first_place == 9));
        let xml = model.to_edt_xml();
        assert!(xml.contains("Salle d&apos;Arts plastiques") || xml.contains("Salle d'Arts"));
        assert!(xml.contains("CDI &amp; salle polyvalente"));
    }

    #[test]
    fn iso_ranges_break_at_new_year_and_holidays() {
        let year = SchoolYear::new(date(2025, 9, 1), date(2026, 7, 4)).unwrap();
        let weeks = WeekSet::from_weeks([1, 2, 3, 5, 17, 18, 19]);
        assert_eq!(iso_ranges(&year, weeks), "36-38,40,52,1-2");
    }
}
