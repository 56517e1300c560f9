//! `preau demo`: a plausible département written as real AAF files (so that the import is the
//! one production runs), imported with [`store::Store::import_aaf`], then a département agent,
//! and the logins and activation codes of a few people printed (and written as JSON for the
//! browser test) so that a newcomer can log in at once. The département itself is built in
//! `model`; its files are written by `aaf_writer`.

pub mod aaf_writer;
pub mod internship;
pub mod model;
pub mod names;
pub mod sso;
pub mod timetable;
pub mod towns;

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::demo::aaf_writer::{AafWriter, Attr, Encoding, FileSpec, Kind};
use crate::demo::model::{
    CLASS_SUBJECTS, DemoSize, Departement, LATIN, LV2_SUBJECTS, MEFS, OTHER_SUBJECTS, SimpleDate,
};

/// Records per file, as the académie splits its exports.
pub const CHUNK_SIZE: usize = 5_000;

/// The files written for a département.
#[derive(Debug)]
pub struct WrittenFiles {
    pub files: Vec<PathBuf>,
    pub records: u64,
}

/// The file name prefix of the demo's exports, e.g. `PREAU86`.
pub fn prefix(departement_code: &str) -> String {
    format!("PREAU{departement_code}")
}

/// Today's date in Paris, as the export date.
pub fn today() -> SimpleDate {
    let date = jiff::Timestamp::now().to_zoned_datetime(paris()).date();
    SimpleDate {
        year: i32::from(date.year()),
        month: u32::try_from(date.month()).unwrap_or(1),
        day: u32::try_from(date.day()).unwrap_or(1),
    }
}

fn paris() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Writes every file of the département into `dir` (created if needed; earlier demo files with
/// the same prefix are removed first): schools, subjects and MEFs in ISO-8859-15, staff in
/// ISO-8859-15 with CRLF line ends, relatives and pupils in UTF-8.
///
/// # Errors
/// The file system's.
pub fn write_files(
    departement: &Departement,
    size: &DemoSize,
    dir: &Path,
) -> anyhow::Result<WrittenFiles> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("impossible de créer le dossier {}", dir.display()))?;
    let prefix = prefix(&size.departement_code);
    aaf_writer::remove_previous(dir, &prefix)
        .with_context(|| format!("impossible de vider le dossier {}", dir.display()))?;

    let spec = |kind: Kind, encoding: Encoding, crlf: bool| FileSpec {
        dir: dir.to_path_buf(),
        prefix: prefix.clone(),
        date: size.export_date.compact(),
        generation_date: size.export_date.aaf(),
        kind,
        encoding,
        crlf,
        chunk_size: CHUNK_SIZE,
    };
    let mut written = WrittenFiles { files: Vec::new(), records: 0 };
    let mut collect = |writer: AafWriter| -> anyhow::Result<()> {
        let (files, records) = writer.finish().context("écriture d'un fichier AAF")?;
        written.files.extend(files);
        written.records += records;
        Ok(())
    };

    let mut writer = AafWriter::new(spec(aaf_writer::SCHOOLS, Encoding::Iso885915, false));
    write_schools(&mut writer, departement)?;
    collect(writer)?;
    let mut writer = AafWriter::new(spec(aaf_writer::SUBJECTS, Encoding::Iso885915, false));
    write_subjects(&mut writer)?;
    collect(writer)?;
    let mut writer = AafWriter::new(spec(aaf_writer::MEFS, Encoding::Iso885915, false));
    for (code, label, level) in MEFS {
        writer.add(
            code,
            &[
                ("ENTMefJointure", one(code)),
                ("ENTLibelleMef", one(label)),
                ("ENTMEFRattach", one(code)),
                ("ENTMEFSTAT11", vec![]),
                ("ENTNivFormation", one(level)),
                ("ENTFiliere", one("GENERALE")),
            ],
        )?;
    }
    collect(writer)?;
    let mut writer = AafWriter::new(spec(aaf_writer::STAFF, Encoding::Iso885915, true));
    write_staff(&mut writer, departement)?;
    collect(writer)?;
    let mut writer = AafWriter::new(spec(aaf_writer::RELATIVES, Encoding::Utf8, false));
    write_relatives(&mut writer, departement)?;
    collect(writer)?;
    let mut writer = AafWriter::new(spec(aaf_writer::PUPILS, Encoding::Utf8, false));
    write_pupils(&mut writer, departement)?;
    collect(writer)?;
    Ok(written)
}

fn one(value: &str) -> Vec<String> {
    vec![value.to_owned()]
}

fn optional(value: Option<&str>) -> Vec<String> {
    value.map(|v| vec![v.to_owned()]).unwrap_or_default()
}

fn write_schools(writer: &mut AafWriter, departement: &Departement) -> std::io::Result<()> {
    for (index, school) in departement.schools.iter().enumerate() {
        let town = school.town.name.to_uppercase();
        let attributes: Vec<Attr> = vec![
            ("ENTStructureJointure", one(&school.jointure)),
            ("ENTStructureUAI", one(&school.uai)),
            ("ENTEtablissementUAI", one(&school.uai)),
            ("ENTStructureSIREN", one(&school.siret)),
            ("ENTStructureNomCourant", one(&format!("CLG${}${town}", school.name))),
            ("ENTStructureTypeStruct", one("COLLEGE")),
            ("ENTStructureCodeTypeStruct", one("340")),
            ("ENTEtablissementMinistereTutelle", one("MINISTERE DE L'EDUCATION NATIONALE")),
            ("ENTEtablissementCodeMinistereTutelle", one("06")),
            ("ENTEtablissementContrat", one("PU")),
            ("postOfficeBox", vec![]),
            ("street", one(&school.street)),
            ("postalCode", one(school.town.postcode)),
            ("l", one(&town)),
            ("telephoneNumber", one(&format!("05 36 49 {:02} {:02}", index / 100, index % 100))),
            ("facsimileTelephoneNumber", vec![]),
            ("ENTStructureMailSI", one(&format!("ce.{}@example.org", school.uai.to_lowercase()))),
            ("ENTEtablissementStructRattachFctl", vec![]),
            ("ENTEtablissementBassin", one("86101$VIENNE")),
            ("ENTServAcAcademie", one("POITIERS")),
            ("ENTServAcCodeAcademie", one("013")),
        ];
        writer.add(&school.jointure, &attributes)?;
    }
    Ok(())
}

fn write_subjects(writer: &mut AafWriter) -> std::io::Result<()> {
    let mut subjects: Vec<(&str, &str)> = CLASS_SUBJECTS
        .iter()
        .chain(LV2_SUBJECTS.iter())
        .chain([LATIN].iter())
        .map(|s| (s.code, s.label))
        .collect();
    subjects.extend(OTHER_SUBJECTS);
    for (code, label) in subjects {
        writer.add(code, &[("ENTMatJointure", one(code)), ("ENTLibelleMatiere", one(label))])?;
    }
    Ok(())
}

fn title(female: bool) -> Vec<String> {
    one(if female { "Mme" } else { "M." })
}

fn write_staff(writer: &mut AafWriter, departement: &Departement) -> std::io::Result<()> {
    let jointure = |school: usize| departement.schools[school].jointure.as_str();
    // The groups as the timetables deal them (see `timetable::group_teachings`).
    let group_teachings = timetable::group_teachings(departement);
    for (person, group_teachings) in departement.staff.iter().zip(&group_teachings) {
        let teacher = person.is_teacher();
        let functions = person
            .functions
            .iter()
            .map(|f| {
                format!(
                    "{}${}${}${}${}",
                    jointure(f.school),
                    f.code,
                    f.label,
                    f.discipline,
                    f.discipline_label
                )
            })
            .collect();
        let class_codes: Vec<String> = person
            .class_teachings
            .iter()
            .map(|(s, c, _)| format!("{}${c}", jointure(*s)))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let group_codes: Vec<String> = group_teachings
            .iter()
            .map(|(s, g, _)| format!("{}${g}", jointure(*s)))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mail = (person.id.ends_with('0') || person.id.ends_with('5')).then(|| {
            format!(
                "{}@example.org",
                domain::login::login_base(&person.first_name, &person.surname)
            )
        });
        let attributes: Vec<Attr> = vec![
            ("ENTPersonJointure", one(&person.id)),
            ("ENTPersonDateNaissance", one(&person.birth.aaf())),
            ("ENTPersonNomPatro", one(&person.surname)),
            ("sn", one(&person.surname)),
            ("givenName", one(&person.first_name)),
            ("ENTPersonAutresPrenoms", vec![]),
            ("personalTitle", title(person.female)),
            ("mail", optional(mail.as_deref())),
            (
                "ENTPersonStructRattach",
                person.schools.iter().map(|&s| jointure(s).to_owned()).collect(),
            ),
            (
                "ENTAuxEnsCategoDiscipline",
                person
                    .functions
                    .first()
                    .map(|f| vec![format!("{}${}", f.discipline, f.discipline_label)])
                    .unwrap_or_default(),
            ),
            ("ENTAuxEnsDisciplinesPoste", vec![]),
            ("ENTAuxEnsMEF", vec![]),
            ("ENTAuxEnsMatiereEnseignEtab", vec![]),
            ("ENTAuxEnsClasses", class_codes),
            ("ENTAuxEnsGroupes", group_codes),
            (
                "ENTAuxEnsClassesMatieres",
                person
                    .class_teachings
                    .iter()
                    .map(|(s, c, m)| format!("{}${c}${m}", jointure(*s)))
                    .collect(),
            ),
            (
                "ENTAuxEnsGroupesMatieres",
                group_teachings
                    .iter()
                    .map(|(s, g, m)| format!("{}${g}${m}", jointure(*s)))
                    .collect(),
            ),
            (
                "ENTAuxEnsClassesPrincipal",
                person.principal_of.iter().map(|(s, c)| format!("{}${c}", jointure(*s))).collect(),
            ),
            ("ENTPersonFonctions", functions),
            ("ENTPersonCategorieEnseignant", one(if teacher { "O" } else { "N" })),
            ("PersEducNatPresenceDevantEleves", one(if teacher { "O" } else { "N" })),
        ];
        writer.add(&person.id, &attributes)?;
    }
    Ok(())
}

fn address_attributes(address: &model::Address) -> Vec<Attr> {
    vec![
        ("ENTPersonAdresse", one(&format!("{}$$$", address.street))),
        ("ENTPersonCodePostal", one(&address.postcode)),
        ("ENTPersonVille", one(&address.city)),
        ("ENTPersonPays", one(&address.country)),
    ]
}

fn write_relatives(writer: &mut AafWriter, departement: &Departement) -> std::io::Result<()> {
    for relative in &departement.relatives {
        let mut attributes: Vec<Attr> = vec![
            ("ENTPersonJointure", one(&relative.id)),
            ("ENTPersonDateNaissance", vec![]),
            ("ENTPersonNomPatro", one(&relative.surname)),
            ("sn", one(&relative.surname)),
            ("givenName", one(&relative.first_name)),
            ("personalTitle", title(relative.female)),
            ("homePhone", vec![]),
            ("telephoneNumber", vec![]),
            ("mobile", optional(relative.mobile.as_deref())),
            ("mail", optional(relative.email.as_deref())),
        ];
        attributes.extend(address_attributes(&relative.address));
        attributes.push((
            "ENTAuxPersRelEleveEleve",
            relative.pupils.iter().map(|&p| departement.pupils[p].id.clone()).collect(),
        ));
        writer.add(&relative.id, &attributes)?;
    }
    Ok(())
}

fn write_pupils(writer: &mut AafWriter, departement: &Departement) -> std::io::Result<()> {
    let start = departement.school_year_start.aaf();
    for pupil in &departement.pupils {
        let school = &departement.schools[pupil.school];
        let (mef, mef_label, level) = MEFS[pupil.level];
        let mut subjects: Vec<(&str, &str)> = CLASS_SUBJECTS
            .iter()
            .filter(|s| s.hours[pupil.level] > 0.0)
            .map(|s| (s.code, s.label))
            .collect();
        for group in &pupil.groups {
            if let Some(g) = school.groups.iter().find(|g| &g.code == group && g.class.is_none()) {
                subjects.push((g.subject.code, g.subject.label));
            }
        }
        let links = pupil
            .relatives
            .iter()
            .map(|link| {
                format!(
                    "{}${}${}${}${}${}",
                    departement.relatives[link.relative].id,
                    link.kinship,
                    u8::from(link.financial),
                    link.legal,
                    u8::from(link.contact),
                    u8::from(link.financial)
                )
            })
            .collect();
        let mut attributes: Vec<Attr> = vec![
            ("ENTPersonJointure", one(&pupil.id)),
            ("ENTEleveINE", one(&pupil.ine)),
            ("ENTEleveStructRattachId", one(&pupil.id[1..])),
            ("ENTPersonDateNaissance", one(&pupil.birth.aaf())),
            ("ENTPersonNomPatro", one(&pupil.surname)),
            ("sn", one(&pupil.surname)),
            ("givenName", one(&pupil.first_name)),
            ("ENTPersonAutresPrenoms", vec![]),
            ("personalTitle", title(pupil.female)),
            ("ENTElevePersRelEleve", links),
            ("ENTEleveBoursier", one(if pupil.id.ends_with('7') { "O" } else { "N" })),
            ("ENTEleveRegime", one("DEMI-PENSIONNAIRE DANS L'ETABLISSEMENT")),
            ("ENTEleveTransport", one("N")),
        ];
        attributes.extend(address_attributes(&pupil.address));
        attributes.extend([
            (
                "ENTEleveAdresseRel",
                pupil
                    .relatives
                    .first()
                    .map(|l| one(&departement.relatives[l.relative].id))
                    .unwrap_or_default(),
            ),
            ("ENTEleveStatutEleve", one("SCOLAIRE")),
            ("ENTEleveMEF", one(mef)),
            ("ENTEleveLibelleMEF", one(mef_label)),
            ("ENTEleveNivFormation", one(level)),
            ("ENTEleveFiliere", one("COLLEGE")),
            ("ENTEleveEnseignements", subjects.iter().map(|s| s.1.to_owned()).collect()),
            ("ENTEleveCodeEnseignements", subjects.iter().map(|s| s.0.to_owned()).collect()),
            ("ENTPersonStructRattach", one(&school.jointure)),
            (
                "ENTEleveDateEntreeClasses",
                one(&format!("{}${start}${}", school.jointure, pupil.class)),
            ),
            ("ENTEleveDateSortieClasses", vec![]),
            ("ENTEleveClasses", one(&format!("{}${}", school.jointure, pupil.class))),
            (
                "ENTEleveGroupes",
                pupil.groups.iter().map(|g| format!("{}${g}", school.jointure)).collect(),
            ),
        ]);
        writer.add(&pupil.id, &attributes)?;
    }
    Ok(())
}

/// One person the demo prints, as written to `demo-accounts.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoAccount {
    /// `pupil`, `parent`, `teacher`, `head`, `agent`, `host`.
    pub role: String,
    /// A French description: "Élève de 4e au Collège …".
    pub description: String,
    pub name: String,
    pub login: String,
    /// The printed form (`K7MQ-2XWD-PN4R`); `None` once the account is activated.
    pub activation_code: Option<String>,
    /// For the pupil: `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// For the pupil: `dd/mm/yyyy`, as the activation form asks it.
    pub birth_date_fr: Option<String>,
}

/// What `demo-accounts.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccounts {
    pub base_url: String,
    pub accounts: Vec<DemoAccount>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::model::generate;

    fn size() -> DemoSize {
        DemoSize {
            schools: 3,
            people: 2_500,
            seed: 11,
            export_date: SimpleDate { year: 2026, month: 12, day: 4 },
            departement_code: "86".to_owned(),
        }
    }

    #[test]
    fn every_category_is_written_with_the_names_production_files_have() {
        let dir = tempfile::tempdir().unwrap();
        let departement = generate(&size());
        let written = write_files(&departement, &size(), dir.path()).unwrap();
        let names: Vec<String> = written
            .files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for kind in ["EtabEducNat", "MatiereEducNat", "MefEducNat", "PersEducNat", "PersRelEleve"] {
            assert!(
                names.contains(&format!("PREAU86_Complet_20261204_{kind}_0000.xml")),
                "{kind}: {names:?}"
            );
        }
        assert!(names.contains(&"PREAU86_Complet_20261204_Eleve_0000.xml".to_owned()));
        assert_eq!(written.records as usize, departement.people() + 3 + 17 + 4);
    }

    #[test]
    fn big_categories_are_split_in_chunks_of_five_thousand_records() {
        let dir = tempfile::tempdir().unwrap();
        let size = DemoSize { people: 20_000, schools: 10, ..size() };
        let departement = generate(&size);
        let written = write_files(&departement, &size, dir.path()).unwrap();
        let pupil_files =
            written.files.iter().filter(|f| f.to_string_lossy().contains("_Eleve_")).count();
        assert_eq!(pupil_files, departement.pupils.len().div_ceil(CHUNK_SIZE));
        assert!(pupil_files >= 2);
    }
}
