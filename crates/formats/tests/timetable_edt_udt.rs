//! The EDT and UDT readers against the synthetic fixtures written from one model: both files
//! give the model's courses; hostile, truncated or corrupted files are refused with a located
//! French reason and never panic; bad records are rejected with their line while the others
//! are kept; ZIP archives that escape their folder or inflate too far are refused; a file of
//! another format is refused with the format to choose; the UAI an EDT file names is read.

use std::io::{Cursor, Write};

use domain::timetable::{LessonTime, WeekSet};
use formats::timetable::synthetic::{SyntheticCourse, SyntheticTimetable};
use formats::timetable::{
    CourseWhen, MAX_FILE_BYTES, ParsedCourse, ParsedTimetable, TimetableFileError, edt, udt,
};
use jiff::civil::date;

/// A course as a person reads it: when, which weeks it really runs, what and with whom.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Occurrence {
    weekday: u8,
    start: u16,
    end: u16,
    /// The weeks it runs (timetabled minus cancelled).
    weeks: u64,
    subject: String,
    teachers: Vec<String>,
    classes: Vec<String>,
    groups: Vec<String>,
    rooms: Vec<String>,
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

fn occurrence_of(course: &ParsedCourse) -> Occurrence {
    let CourseWhen::Weekly { weekday, time, weeks, cancelled_weeks } = &course.when else {
        panic!("EDT and UDT courses are weekly");
    };
    Occurrence {
        weekday: *weekday,
        start: time.start_minute,
        end: time.end_minute,
        weeks: weeks.minus(*cancelled_weeks).0,
        subject: course.subject_label.clone(),
        teachers: sorted(
            course.teachers.iter().map(|t| format!("{} {}", t.last_name, t.first_name)).collect(),
        ),
        classes: sorted(course.classes.iter().map(|c| c.label.clone()).collect()),
        groups: sorted(course.groups.iter().map(|g| g.label.clone()).collect()),
        rooms: sorted(course.rooms.iter().map(|r| r.label.clone()).collect()),
    }
}

fn occurrences(parsed: &ParsedTimetable) -> Vec<Occurrence> {
    let mut list: Vec<Occurrence> = parsed.courses.iter().map(occurrence_of).collect();
    list.sort();
    list
}

fn model_occurrences(model: &SyntheticTimetable) -> Vec<Occurrence> {
    let time_of = |number: u16| model.places.iter().find(|(n, _)| *n == number).map(|(_, t)| *t);
    let mut list: Vec<Occurrence> = model
        .courses
        .iter()
        .map(|course| {
            let first = time_of(course.first_place).expect("the model's places exist");
            let last = time_of(course.first_place + course.place_count - 1).expect("places exist");
            Occurrence {
                weekday: course.weekday,
                start: first.start_minute,
                end: last.end_minute,
                weeks: course.weeks.minus(course.cancelled_weeks).0,
                subject: model.subjects[course.subject].1.clone(),
                teachers: sorted(
                    course
                        .teachers
                        .iter()
                        .map(|&t| {
                            format!(
                                "{} {}",
                                model.teachers[t].last_name, model.teachers[t].first_name
                            )
                        })
                        .collect(),
                ),
                classes: sorted(course.classes.iter().map(|&c| model.classes[c].clone()).collect()),
                groups: sorted(
                    course.groups.iter().map(|&g| model.groups[g].name.clone()).collect(),
                ),
                rooms: sorted(course.rooms.iter().map(|&r| model.rooms[r].clone()).collect()),
            }
        })
        .collect();
    list.sort();
    list
}

fn udt_files(model: &SyntheticTimetable) -> Vec<(String, Vec<u8>)> {
    let zip = model.to_udt_zip();
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("our zip reads");
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("entry");
        let name = entry.name().expect("name").to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).expect("inflate");
        files.push((name, data));
    }
    files
}

fn replace_file(files: &mut [(String, Vec<u8>)], suffix: &str, edit: impl Fn(String) -> String) {
    let file = files.iter_mut().find(|(name, _)| name.ends_with(suffix)).expect("file present");
    file.1 = edit(String::from_utf8(file.1.clone()).expect("utf-8")).into_bytes();
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).expect("start");
        writer.write_all(data).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

fn edt_error(bytes: &[u8]) -> TimetableFileError {
    match edt::parse(bytes, "edt.xml") {
        Ok(parsed) => panic!("refusal expected, got {} courses", parsed.courses.len()),
        Err(error) => error,
    }
}

#[test]
fn both_fixtures_give_the_models_courses() {
    let model = SyntheticTimetable::sample();
    let expected = model_occurrences(&model);

    let from_edt = edt::parse(model.to_edt_xml().as_bytes(), "edt.xml").expect("EDT reads");
    let from_udt = udt::parse_zip(&model.to_udt_zip(), "udt.zip").expect("UDT reads");

    assert!(from_edt.rejections.is_empty(), "{:?}", from_edt.rejections);
    assert!(from_udt.rejections.is_empty(), "{:?}", from_udt.rejections);
    assert!(from_edt.notices.is_empty(), "{:?}", from_edt.notices);
    assert!(from_udt.notices.is_empty(), "{:?}", from_udt.notices);
    assert_eq!(expected.len(), model.courses.len());
    assert_eq!(occurrences(&from_edt), expected);
    assert_eq!(occurrences(&from_udt), expected);

    for parsed in [&from_edt, &from_udt] {
        assert_eq!(parsed.first_monday, Some(date(2025, 9, 1)));
        assert_eq!(parsed.last_day, Some(date(2026, 7, 4)));
        let mut keys: Vec<&str> = parsed.courses.iter().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), parsed.courses.len(), "keys are unique");
    }
}

#[test]
fn identifiers_and_codes_come_through() {
    let model = SyntheticTimetable::sample();
    let from_edt = edt::parse(model.to_edt_xml().as_bytes(), "edt.xml").unwrap();
    let from_udt = udt::parse_zip(&model.to_udt_zip(), "udt.zip").unwrap();
    for parsed in [&from_edt, &from_udt] {
        let teacher = parsed
            .courses
            .iter()
            .flat_map(|c| &c.teachers)
            .find(|t| t.last_name == "N'Diaye")
            .expect("a maths teacher");
        assert_eq!((teacher.file_id.as_str(), teacher.first_name.as_str()), ("PR02", "Aïssatou"));
        assert_eq!(teacher.external_id.as_deref(), Some("1000002"));
        let french = parsed.courses.iter().find(|c| c.subject_label == "Français").unwrap();
        assert_eq!(french.subject_code.as_deref(), Some("FRANC"));
    }
    assert!(from_udt.courses.iter().all(|c| c.classes.iter().all(|p| p.external_id.is_some())));
    assert_eq!(from_edt.places.len(), 9);
}

#[test]
fn alternating_weeks_a_and_b_and_the_five_oclock_lesson() {
    let model = SyntheticTimetable::sample();
    for parsed in [
        edt::parse(model.to_edt_xml().as_bytes(), "edt.xml").unwrap(),
        udt::parse_zip(&model.to_udt_zip(), "udt.zip").unwrap(),
    ] {
        let weeks_of = |group: &str| {
            let course = parsed
                .courses
                .iter()
                .find(|c| c.groups.iter().any(|g| g.label == group))
                .unwrap_or_else(|| panic!("{group}"));
            let CourseWhen::Weekly { weeks, .. } = course.when else { panic!() };
            weeks
        };
        let (a, b) = (weeks_of("6e A groupe 1"), weeks_of("6e A groupe 2"));
        assert!(a.contains(1) && !a.contains(2) && b.contains(2) && !b.contains(1));
        assert_eq!(a.0 & b.0, 0, "A and B weeks are disjoint");
        // Holidays are in neither: the Toussaint weeks (8 and 9).
        assert!(!a.union(b).contains(8) && !a.union(b).contains(9));
        assert!(a.union(b).contains(10));

        let evening = parsed
            .courses
            .iter()
            .find(|c| {
                matches!(c.when, CourseWhen::Weekly { time, .. } if time.start_minute == 17 * 60)
            })
            .expect("a lesson at 17:00");
        assert_eq!(evening.subject_label, "Vie de classe");
        assert_eq!(evening.classes[0].label, "3e A");
    }
}

#[test]
fn a_cancelled_week_is_cancelled_in_edt_and_absent_in_udt() {
    let model = SyntheticTimetable::sample();
    let from_edt = edt::parse(model.to_edt_xml().as_bytes(), "edt.xml").unwrap();
    let from_udt = udt::parse_zip(&model.to_udt_zip(), "udt.zip").unwrap();
    let cancelled: Vec<&ParsedCourse> = from_edt
        .courses
        .iter()
        .filter(|c| match c.when {
            CourseWhen::Weekly { cancelled_weeks, .. } => !cancelled_weeks.is_empty(),
            CourseWhen::Dated { .. } => false,
        })
        .collect();
    assert_eq!(cancelled.len(), 1);
    let CourseWhen::Weekly { weeks, cancelled_weeks, .. } = cancelled[0].when else { panic!() };
    assert_eq!(cancelled_weeks, WeekSet::from_weeks([12]));
    assert!(weeks.contains(12));

    let same = from_udt
        .courses
        .iter()
        .find(|c| occurrence_of(c) == occurrence_of(cancelled[0]))
        .expect("the same course in UDT");
    let CourseWhen::Weekly { weeks, cancelled_weeks, .. } = same.when else { panic!() };
    assert!(!weeks.contains(12) && weeks.contains(11) && cancelled_weeks.is_empty());
}

#[test]
fn latin9_and_bom_files_read_like_utf8() {
    let model = SyntheticTimetable::sample();
    let xml = model.to_edt_xml();
    let reference = occurrences(&edt::parse(xml.as_bytes(), "edt.xml").unwrap());

    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend_from_slice(xml.as_bytes());
    assert_eq!(occurrences(&edt::parse(&with_bom, "edt.xml").unwrap()), reference);

    let latin = xml.replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-15\"", 1);
    let (bytes, _, unmappable) = encoding_rs::ISO_8859_15.encode(&latin);
    assert!(!unmappable);
    assert!(bytes.contains(&0xBD), "œ is one byte in Latin-9");
    assert_eq!(occurrences(&edt::parse(&bytes, "edt.xml").unwrap()), reference);

    let undeclared = edt_error(&bytes.replacen(b"ISO-8859-15", b"UTF-8"));
    assert!(undeclared.reason.contains("UTF-8"), "{undeclared}");
    assert!(undeclared.line > 1);
}

trait ReplaceBytes {
    fn replacen(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceBytes for std::borrow::Cow<'_, [u8]> {
    fn replacen(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = memchr::memmem::find(self, from).expect("pattern");
        [&self[..at], to, &self[at + from.len()..]].concat()
    }
}

#[test]
fn hostile_and_broken_edt_files_are_refused_with_a_located_french_reason() {
    let fixture = SyntheticTimetable::sample().to_edt_xml();
    let deep = format!("<ExportEntEdt>{}{}</ExportEntEdt>", "<a>".repeat(40), "</a>".repeat(40));
    let huge = format!(
        "<ExportEntEdt>\n<Salle Ident=\"S\" Nom=\"{}\"/></ExportEntEdt>",
        "x".repeat(100_000)
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "DTD with an entity",
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaa\">]>\n<x>&a;</x>".to_vec(),
            "DOCTYPE",
        ),
        (
            "undeclared entity in an attribute",
            b"<ExportEntEdt>\n<Salle Ident=\"S\" Nom=\"&ext;\"/></ExportEntEdt>".to_vec(),
            "entités prédéfinies",
        ),
        ("undeclared entity in text", b"<ExportEntEdt>\n&ext;</ExportEntEdt>".to_vec(), "entité"),
        ("deep nesting", deep.into_bytes(), "imbrication"),
        ("huge attribute", huge.into_bytes(), "trop long"),
        ("truncated", fixture.as_bytes()[..fixture.len() / 2].to_vec(), "tronqué"),
        ("not XML", b"Ceci n'est pas un export.\n".to_vec(), "XML"),
        ("binary", vec![0x25, 0x50, 0x44, 0x46, 0xFF, 0xFE, 0x00, 0x01], "octet"),
        (
            "wrong root",
            b"<?xml version=\"1.0\"?>\n<ficAlimMENESR><addRequest/></ficAlimMENESR>".to_vec(),
            "ficAlimMENESR",
        ),
        (
            "encrypted envelope",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EXPORT_INDEX_EDUCATION>\n\
              <VERSION>1</VERSION>\
              <CLES><PARTENAIRE NOM=\"ENT77\">QUJD</PARTENAIRE></CLES>\
              <CONTENU CompresseAvantChiffrement=\"1\">U2FsdGVkX1+abc==</CONTENU>\
              </EXPORT_INDEX_EDUCATION>"
                .to_vec(),
            "chiffré",
        ),
        (
            "first day not a Monday",
            fixture.replacen("01/09/2025", "02/09/2025", 1).into_bytes(),
            "lundi",
        ),
        ("two roots", b"<ExportEntEdt/>\n<ExportEntEdt/>".to_vec(), "racine"),
    ];
    for (case, bytes, expected) in cases {
        let error = edt_error(&bytes);
        assert!(error.line >= 1, "{case}: not located: {error}");
        assert!(error.reason.contains(expected), "{case}: {error}");
        assert_eq!(error.file, "edt.xml");
    }

    let envelope = edt_error(
        b"<EXPORT_INDEX_EDUCATION><CLES><PARTENAIRE NOM=\"ENT77\"/></CLES>\
          </EXPORT_INDEX_EDUCATION>",
    );
    assert!(envelope.reason.contains("ENT77") && envelope.reason.contains("clé"), "{envelope}");

    let too_big = vec![b' '; MAX_FILE_BYTES + 1];
    assert!(edt_error(&too_big).reason.contains("trop volumineux"));
}

#[test]
fn bad_edt_courses_are_rejected_with_their_line_and_the_others_kept() {
    let model = SyntheticTimetable::sample();
    let xml = model.to_edt_xml();
    let bad = [
        r#"<Cours Ident="BAD1" Jour="1" NumeroPlaceDebut="1"><Matiere Ident="MAT0" Semaines="3"/>"#,
        r#"<Professeur Ident="NOBODY" Semaines="3"/></Cours>"#,
        "\n",
        r#"<Cours Ident="BAD2" Jour="1" NumeroPlaceDebut="42">"#,
        r#"<Matiere Ident="MAT0" Semaines="3"/></Cours>"#,
        "\n",
        r#"<Cours Ident="BAD3" Jour="8" NumeroPlaceDebut="1"><Matiere Ident="MAT0" Semaines="3"/>"#,
        "</Cours>\n",
        r#"<Cours Ident="BAD4" Jour="2" NumeroPlaceDebut="1"><Matiere Ident="MAT0" Semaines="0"/>"#,
        "</Cours>\n",
        r#"<Cours Ident="BAD5" Jour="2" NumeroPlaceDebut="8" NombrePlaces="3">"#,
        r#"<Matiere Ident="MAT0" Semaines="1"/></Cours>"#,
        "\n",
        r#"<Cours Ident="CO0" Jour="2" NumeroPlaceDebut="1"><Matiere Ident="MAT0" Semaines="1"/>"#,
        "</Cours>\n",
    ]
    .concat();
    let bad = format!("\n{bad}");
    let at = xml.rfind("</Cours>").expect("the list container closes last");
    let edited = format!("{}{bad}{}", &xml[..at], &xml[at..]);
    let first_bad_line = edited[..edited.find("BAD1").unwrap()].matches('\n').count() as u64 + 1;

    let parsed = edt::parse(edited.as_bytes(), "edt.xml").expect("the file is kept");
    assert_eq!(parsed.courses.len(), model.courses.len());
    let rejected: Vec<(&str, u64)> =
        parsed.rejections.iter().map(|r| (r.record.as_str(), r.line)).collect();
    assert_eq!(
        rejected,
        vec![
            ("BAD1", first_bad_line),
            ("BAD2", first_bad_line + 1),
            ("BAD3", first_bad_line + 2),
            ("BAD4", first_bad_line + 3),
            ("BAD5", first_bad_line + 4),
            ("CO0", first_bad_line + 5),
        ]
    );
    let reasons: Vec<&str> = parsed.rejections.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].contains("NOBODY"), "{}", reasons[0]);
    assert!(reasons[1].contains("place 42"), "{}", reasons[1]);
    assert!(reasons[2].contains("Jour"), "{}", reasons[2]);
    assert!(reasons[3].contains("aucune semaine"), "{}", reasons[3]);
    assert!(reasons[4].contains("place 10"), "{}", reasons[4]);
    assert!(reasons[5].contains("déjà utilisé"), "{}", reasons[5]);
}

#[test]
fn a_container_named_like_its_items_and_courses_without_ident_are_read() {
    let xml = "<Contenu>\n<AnneeScolaire DatePremierJourSemaine1=\"2025-09-01\"/>\
        <GrilleHoraire DureePlace=\"60\">\
        <Place Numero=\"1\" LibelleHeureDebut=\"23h00\"/></GrilleHoraire>\
        <Matiere Ident=\"M\" Libelle=\"Astronomie\"/><Classe Ident=\"C\" Nom=\"3e B\"/>\
        <Cours><Cours><Cours Jour=\"5\" NumeroPlaceDebut=\"1\">\
        <Matiere Ident=\"M\" Semaines=\"1\"/>\
        <Classe Ident=\"C\" Semaines=\"1\"/></Cours></Cours></Cours></Contenu>";
    let parsed = edt::parse(xml.as_bytes(), "edt.xml").unwrap();
    assert_eq!(parsed.courses.len(), 1, "{:?}", parsed.rejections);
    let course = &parsed.courses[0];
    assert!(course.key.starts_with("edt-"));
    let CourseWhen::Weekly { weekday, time, .. } = course.when else { panic!() };
    assert_eq!((weekday, time), (5, LessonTime::new(23 * 60, 24 * 60).unwrap()));
    assert_eq!(parsed.last_day, Some(date(2025, 9, 7)));
}

#[test]
fn bad_udt_lines_are_rejected_with_their_line_and_the_others_kept() {
    let model = SyntheticTimetable::sample();
    let mut files = udt_files(&model);
    replace_file(&mut files, "UDCal_12_1.xml", |text| {
        let extra = "\n<ligfiche fic=\"F0\" mat=\"MATHS\" prof=\"NOBODY\" div=\"D0\"/>\
                     \n<ligfiche fic=\"F0\" mat=\"***\" div=\"D0\"/>\
                     \n<ligfiche fic=\"F999\" mat=\"MATHS\" div=\"D0\"/>\
                     \n<ligfiche fic=\"F0\" mat=\"MATHS\" div=\"D0\" semaines=\"30\"/>\
                     \n<ligfiche fic=\"FX\" mat=\"MATHS\" div=\"D0\"/>\n";
        text.replacen("</UDCal_12>", &format!("{extra}</UDCal_12>"), 1)
    });
    replace_file(&mut files, "UDCal_11.xml", |text| {
        text.replacen(
            "</UDCal_11>",
            "<fiche code=\"FX\" jour=\"9\" demi_seq=\"1a\"/>\n</UDCal_11>",
            1,
        )
    });

    let parsed = udt::parse_files(&files, "Export UDT").expect("the export is kept");
    assert_eq!(occurrences(&parsed), model_occurrences(&model));
    let reasons: Vec<(String, u64, &str)> = parsed
        .rejections
        .iter()
        .map(|r| {
            (r.file.rsplit('/').next().unwrap_or_default().to_owned(), r.line, r.reason.as_str())
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].2.contains("NOBODY") && reasons[0].0 == "UDCal_12_1.xml", "{reasons:?}");
    assert!(reasons[1].2.contains("matière absente"));
    assert!(reasons[2].2.contains("F999"));
    assert!(reasons[3].2.contains("semaine ISO 30"));
    assert!(reasons[4].0 == "UDCal_11.xml" && reasons[4].2.contains("jour"), "{reasons:?}");
    assert!(reasons[1].1 == reasons[0].1 + 1 && reasons[3].1 == reasons[0].1 + 3);
}

#[test]
fn a_half_sequence_of_one_day_overrides_the_every_day_one() {
    let model = SyntheticTimetable::sample();
    let mut files = udt_files(&model);
    replace_file(&mut files, "UDCal_07.xml", |text| {
        let thursday = "<demi_seq code=\"9a\" code_jour=\"jeudi\" hre_deb=\"18h00\" \
                        hre_fin=\"18h27\"/>\n<demi_seq code=\"9b\" code_jour=\"4\" \
                        hre_deb=\"18:27\" hre_fin=\"18:55\"/>\n</UDCal_07>";
        text.replacen("</UDCal_07>", thursday, 1)
    });
    let parsed = udt::parse_files(&files, "Export UDT").unwrap();
    let mut expected = model_occurrences(&model);
    for occurrence in &mut expected {
        if occurrence.weekday == 4 && occurrence.start == 17 * 60 {
            (occurrence.start, occurrence.end) = (18 * 60, 18 * 60 + 55);
        }
    }
    expected.sort();
    assert_eq!(occurrences(&parsed), expected);
    assert!(parsed.courses.iter().any(|c| c.subject_label == "Vie de classe"));
}

#[test]
fn a_udt_export_without_a_required_file_is_refused_naming_it() {
    let model = SyntheticTimetable::sample();
    let files: Vec<(String, Vec<u8>)> = udt_files(&model)
        .into_iter()
        .filter(|(name, _)| !name.ends_with("UDCal_11.xml") && !name.ends_with("UDCal_24.xml"))
        .collect();
    let error = udt::parse_files(&files, "Export UDT").unwrap_err();
    assert!(
        error.reason.contains("UDCal_11.xml") && error.reason.contains("UDCal_24.xml"),
        "{error}"
    );

    let only_lines: Vec<(&str, &[u8])> = vec![("UDCal_12.xml", b"<UDCal_12/>")];
    let error = udt::parse_zip(&zip_of(&only_lines), "udt.zip").unwrap_err();
    assert!(error.reason.contains("UDCal_00.xml"), "{error}");
}

#[test]
fn hostile_udt_archives_are_refused() {
    let calendar: &[u8] = b"<c debut_eleve=\"01/09/2025\" fin_eleve=\"04/07/2026\"/>";
    for name in ["../UDCal_24.xml", "/etc/UDCal_24.xml", "C:\\UDCal_24.xml", "a/../../UDCal_24.xml"]
    {
        let error = udt::parse_zip(&zip_of(&[(name, calendar)]), "udt.zip").unwrap_err();
        assert!(error.reason.contains("sort de l'archive"), "{name}: {error}");
        assert_eq!(error.file, "udt.zip");
    }

    let big = vec![b' '; MAX_FILE_BYTES + 10];
    let error = udt::parse_zip(&zip_of(&[("UDCal_12.xml", &big)]), "udt.zip").unwrap_err();
    assert!(error.reason.contains("trop grande"), "{error}");

    let names: Vec<String> = (0..=udt::MAX_ZIP_ENTRIES).map(|i| format!("x{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let error = udt::parse_zip(&zip_of(&entries), "udt.zip").unwrap_err();
    assert!(error.reason.contains("entrées"), "{error}");

    let error = udt::parse_zip(b"PK\x03\x04 not really a zip", "udt.zip").unwrap_err();
    assert!(error.reason.contains("ZIP"), "{error}");

    let model = SyntheticTimetable::sample();
    let mut files = udt_files(&model);
    replace_file(&mut files, "UDCal_04.xml", |text| {
        text.replacen("<UDCal_04>", "<!DOCTYPE UDCal_04 [<!ENTITY x \"y\">]>\n<UDCal_04>", 1)
    });
    let error = udt::parse_files(&files, "Export UDT").unwrap_err();
    assert!(error.file.ends_with("UDCal_04.xml") && error.line == 2, "{error}");
}

#[test]
fn truncated_or_corrupted_files_never_panic() {
    let model = SyntheticTimetable::sample();
    let xml = model.to_edt_xml().into_bytes();
    let zip = model.to_udt_zip();
    let files = udt_files(&model);

    for cut in (0..xml.len()).step_by(97) {
        let _ = edt::parse(&xml[..cut], "edt.xml");
    }
    for cut in (0..zip.len()).step_by(97) {
        let _ = udt::parse_zip(&zip[..cut], "udt.zip");
    }
    let flips: [u8; 6] = [0xFF, b'<', b'&', b'"', b'0', 0x00];
    for (round, at) in (0..xml.len()).step_by(97).enumerate() {
        let mut bytes = xml.clone();
        bytes[at] = flips[round % flips.len()];
        let _ = edt::parse(&bytes, "edt.xml");
    }
    for (round, at) in (0..zip.len()).step_by(97).enumerate() {
        let mut bytes = zip.clone();
        bytes[at] ^= flips[round % flips.len()].max(1);
        let _ = udt::parse_zip(&bytes, "udt.zip");
    }
    for index in 0..files.len() {
        let length = files[index].1.len();
        for (round, at) in (0..length).step_by(97).enumerate() {
            let mut edited = files.clone();
            edited[index].1[at] = flips[round % flips.len()];
            let _ = udt::parse_files(&edited, "Export UDT");
            let mut cut = files.clone();
            cut[index].1.truncate(at);
            let _ = udt::parse_files(&cut, "Export UDT");
        }
    }
}

/// A collège the size of the demo's biggest: 25 classes, 40 teachers, 700 courses.
fn big_college() -> SyntheticTimetable {
    let sample = SyntheticTimetable::sample();
    let mut model =
        SyntheticTimetable::new(sample.first_monday, sample.last_day, sample.places.clone());
    let term = sample.courses[2].weeks;
    for t in 0..40 {
        model.add_teacher(
            &format!("P{t}"),
            Some(&format!("{t:07}")),
            &format!("Nom-{t}"),
            "Prénom",
        );
    }
    for c in 0..25 {
        model.add_class(&format!("{}e {}", 6 - c % 4, c));
        model.add_room(&format!("Salle {c}"));
    }
    for s in 0..12 {
        model.add_subject(&format!("S{s}"), &format!("Matière {s}"));
    }
    for index in 0..700usize {
        let slot = index / 25;
        model.add_course(SyntheticCourse {
            weekday: u8::try_from(slot % 5 + 1).unwrap(),
            first_place: u16::try_from(slot / 5 % 8 + 1).unwrap(),
            place_count: 1,
            weeks: term,
            cancelled_weeks: WeekSet::EMPTY,
            subject: index % 12,
            teachers: vec![index % 40],
            classes: vec![index % 25],
            groups: Vec::new(),
            rooms: vec![index % 25],
        });
    }
    model
}

#[test]
fn a_big_college_writes_and_reads_back_whole() {
    let model = big_college();
    let xml = model.to_edt_xml();
    let zip = model.to_udt_zip();

    let from_edt = edt::parse(xml.as_bytes(), "edt.xml").unwrap();
    let from_udt = udt::parse_zip(&zip, "udt.zip").unwrap();
    assert_eq!(from_edt.courses.len(), 700);
    assert_eq!(occurrences(&from_edt), occurrences(&from_udt));
    assert_eq!(occurrences(&from_edt), model_occurrences(&model));
}

#[test]
fn a_file_of_another_format_is_refused_with_the_format_to_choose() {
    let zip = b"PK\x03\x04\x14\x00rest of an archive".as_slice();
    let calendar = "\u{feff}BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n".as_bytes();
    let xml = b"<?xml version=\"1.0\"?>\n<ExportEntEdt/>".as_slice();
    let cases: [(Result<ParsedTimetable, TimetableFileError>, &str); 3] = [
        (edt::parse(zip, "udt.zip"), "ce fichier est une archive ZIP : choisissez le format UDT"),
        (edt::parse(calendar, "a.ics"), "choisissez le format iCalendar"),
        (udt::parse_zip(xml, "edt.xml"), "choisissez le format EDT"),
    ];
    for (result, hint) in cases {
        let error = result.expect_err(hint);
        assert!(error.reason.contains(hint), "{}", error.reason);
        assert_eq!(error.line, 0);
        assert!(!error.to_string().contains("ligne"), "{error}");
    }
    let error = udt::parse_zip(calendar, "a.ics").unwrap_err();
    assert!(error.reason.contains("choisissez le format iCalendar"), "{}", error.reason);
}

#[test]
fn the_uai_an_edt_file_names_is_read_from_an_element_or_an_attribute() {
    let xml = SyntheticTimetable::sample().to_edt_xml();
    assert_eq!(edt::parse(xml.as_bytes(), "edt.xml").unwrap().school_uai, None);

    let element = xml.replacen("<ExportEntEdt>", "<ExportEntEdt>\n <UAI> 0860002b </UAI>", 1);
    let parsed = edt::parse(element.as_bytes(), "edt.xml").unwrap();
    assert_eq!(parsed.school_uai.as_deref(), Some("0860002B"));
    let attribute = xml.replacen("<ExportEntEdt>", "<ExportEntEdt UAI=\"0860003C\">", 1);
    let parsed = edt::parse(attribute.as_bytes(), "edt.xml").unwrap();
    assert_eq!(parsed.school_uai.as_deref(), Some("0860003C"));
    assert_eq!(
        udt::parse_zip(&SyntheticTimetable::sample().to_udt_zip(), "u.zip").unwrap().school_uai,
        None
    );
}
