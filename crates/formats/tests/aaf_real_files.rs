//! The AAF reader on the real sample files of `shared/data/aaf/`: every file parses with its
//! exact record count and category, every record maps to its entity, and concrete values read
//! from the files come out decoded and split right.

use std::path::{Path, PathBuf};

use domain::profile::Profile;
use formats::aaf::{
    AafFile, Category, Entity, Operation, Pupil, RawRecord, Relative, RelativeLink, School, Staff,
    StructureRef, Subject, map_record, parse_file_name, read_file,
};
use jiff::civil::date;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/aaf");

fn path(set: &str, file: &str) -> PathBuf {
    Path::new(DATA).join(set).join(file)
}

fn read(set: &str, file: &str) -> AafFile {
    read_file(&path(set, file)).unwrap_or_else(|e| panic!("{e}"))
}

fn map(file: &AafFile, record: &RawRecord) -> Entity {
    let name = file.path.file_name().unwrap().to_str().unwrap();
    map_record(name, record.line, record.category, &record.id, &record.attributes)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn record<'a>(file: &'a AafFile, id: &str) -> &'a RawRecord {
    file.records.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no record {id}"))
}

fn pupil(file: &AafFile, id: &str) -> Pupil {
    match map(file, record(file, id)) {
        Entity::Pupil(pupil) => pupil,
        other => panic!("not a pupil: {other:?}"),
    }
}

fn staff(file: &AafFile, id: &str) -> Staff {
    match map(file, record(file, id)) {
        Entity::Staff(staff) => staff,
        other => panic!("not staff: {other:?}"),
    }
}

fn school(file: &AafFile, id: &str) -> School {
    match map(file, record(file, id)) {
        Entity::School(school) => school,
        other => panic!("not a school: {other:?}"),
    }
}

fn relative(file: &AafFile, id: &str) -> Relative {
    match map(file, record(file, id)) {
        Entity::Relative(relative) => relative,
        other => panic!("not a relative: {other:?}"),
    }
}

fn subject(file: &AafFile, id: &str) -> Subject {
    match map(file, record(file, id)) {
        Entity::Subject(subject) => subject,
        other => panic!("not a subject: {other:?}"),
    }
}

/// Asserts the file's shape and that every record maps to an entity of its category.
fn assert_whole_file(file: &AafFile, category: Category, count: usize, version: Option<&str>) {
    assert_eq!(file.name.category, category);
    assert_eq!(file.records.len(), count);
    assert_eq!(file.rejections, vec![]);
    assert_eq!(file.version.as_deref(), version);
    for record in &file.records {
        assert_eq!(record.category, category);
        assert_eq!(record.operation, Operation::Add);
        let entity = map(file, record);
        let entity_category = match entity {
            Entity::School(_) => Category::School,
            Entity::Subject(_) => Category::Subject,
            Entity::Mef(_) => Category::Mef,
            Entity::Staff(_) => Category::Staff,
            Entity::Relative(_) => Category::Relative,
            Entity::Pupil(_) => Category::Pupil,
        };
        assert_eq!(entity_category, category);
    }
}

const Y2013: &str = "entcore-2013";
const Y2020: &str = "entcore-2020-minimal";
const Y2024: &str = "entcore-2024";
const PUPILS_2013: &str = "FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml";
const SCHOOLS_2013: &str = "FULL_ENTTSSERVICES_Complet_20130117_EtabEducNat_0000.xml";
const SUBJECTS_2013: &str = "FULL_ENTTSSERVICES_Complet_20130117_MatiereEducNat_0000.xml";
const RELATIVES_2013: &str = "clean-FULL_ENTTSSERVICES_Complet_20130117_PersRelEleve_0033.xml";

#[test]
fn every_sample_file_name_is_recognised_and_the_dtd_is_not() {
    let mut seen = 0;
    for set in [Y2013, Y2020, Y2024] {
        for entry in std::fs::read_dir(Path::new(DATA).join(set)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let parsed = parse_file_name(&name);
            assert_eq!(parsed.is_some(), name.ends_with(".xml"), "{name}");
            seen += usize::from(parsed.is_some());
        }
    }
    assert_eq!(seen, 8);
}

#[test]
fn the_2013_pupil_file_holds_642_pupils_that_all_map() {
    let file = read(Y2013, PUPILS_2013);
    assert_whole_file(&file, Category::Pupil, 642, Some("AAF-VE1301"));
    assert!(file.name.full);
    assert_eq!(file.name.chunk, 1);
    assert_eq!(file.name.prefix, "FULL_ENTTSSERVICES");
}

#[test]
fn the_2013_pupil_file_links_classes_groups_and_relatives_as_counted_with_grep() {
    let file = read(Y2013, PUPILS_2013);
    let pupils: Vec<Pupil> = file
        .records
        .iter()
        .map(|r| match map(&file, r) {
            Entity::Pupil(p) => p,
            other => panic!("{other:?}"),
        })
        .collect();

    let links: Vec<&RelativeLink> = pupils.iter().flat_map(|p| &p.relatives).collect();
    assert_eq!(links.len(), 1064);
    assert_eq!(links.iter().filter(|l| l.legal == 1).count(), 622);
    assert_eq!(links.iter().filter(|l| l.legal == 2).count(), 289);
    assert_eq!(links.iter().filter(|l| l.legal == 0).count(), 153);
    assert_eq!(links.iter().filter(|l| l.financial).count(), 622);
    assert_eq!(links.iter().filter(|l| l.contact).count(), 309);
    let mut distinct: Vec<&str> = links.iter().map(|l| l.relative.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 1029);

    assert_eq!(pupils.iter().map(|p| p.classes.len()).sum::<usize>(), 642);
    // 87 group values, one pupil listing `52005$1S3GP2` three times: duplicates are dropped.
    assert_eq!(pupils.iter().map(|p| p.groups.len()).sum::<usize>(), 85);
    assert_eq!(pupils.iter().filter(|p| p.relatives.is_empty()).count(), 20);
    assert_eq!(pupils.iter().filter(|p| p.schools == ["52008"]).count(), 81);
}

#[test]
fn a_2013_pupil_has_its_class_group_and_two_flagged_relative_links() {
    let file = read(Y2013, PUPILS_2013);
    assert_eq!(record(&file, "2605692").line, 5);
    assert_eq!(record(&file, "2605693").line, 42);

    let pupil = pupil(&file, "2605692");
    assert_eq!(pupil.identity.jointure, "2605692");
    assert_eq!(pupil.identity.last_name.as_ref(), "Long");
    assert_eq!(pupil.identity.first_name.as_ref(), "Kù");
    assert_eq!(pupil.identity.birth_name.as_ref().map(AsRef::as_ref), Some("AZOT"));
    assert_eq!(pupil.identity.title.as_deref(), Some("Mlle"));
    assert_eq!(pupil.identity.birth_date, Some(date(1995, 9, 14)));
    assert_eq!(pupil.schools, ["52006"]);
    assert_eq!(pupil.classes.len(), 1);
    assert_eq!(
        pupil.classes[0].class,
        StructureRef { school: "52006".into(), code: "RUS1TERM".into() }
    );
    assert_eq!(pupil.classes[0].entry, None);
    assert_eq!(pupil.groups, [StructureRef { school: "52006".into(), code: "206".into() }]);
    assert_eq!(pupil.mef.as_deref(), Some("24133610210"));
    assert_eq!(pupil.mef_label.as_deref(), Some("1CAP2 COIFFURE"));
    assert_eq!(
        pupil.relatives,
        [
            RelativeLink {
                relative: "2867253".into(),
                kinship: Some("2".into()),
                financial: true,
                legal: 1,
                contact: false,
                payment: false,
            },
            RelativeLink {
                relative: "2867254".into(),
                kinship: Some("1".into()),
                financial: false,
                legal: 2,
                contact: false,
                payment: false,
            },
        ]
    );
}

#[test]
fn accents_in_the_2013_files_are_decoded_as_utf8() {
    let pupils = read(Y2013, PUPILS_2013);
    assert_eq!(pupil(&pupils, "2605693").identity.first_name.as_ref(), "Åslög");

    let relatives = read(Y2013, RELATIVES_2013);
    let genevieve = relative(&relatives, "2854681");
    assert_eq!(genevieve.identity.first_name.as_ref(), "Geneviève");
    assert_eq!(genevieve.identity.last_name.as_ref(), "Wheeler");
}

#[test]
fn the_2013_relative_file_uses_crlf_and_holds_586_relatives() {
    let file = read(Y2013, RELATIVES_2013);
    assert_whole_file(&file, Category::Relative, 586, Some("AAF-VE1301"));
    assert_eq!(file.records[0].line, 4);
    assert_eq!(file.records[1].line, 22);
    assert_eq!(file.name.prefix, "clean-FULL_ENTTSSERVICES");
    assert_eq!(file.name.chunk, 33);

    let relative = relative(&file, "2854681");
    assert_eq!(relative.identity.birth_date, None);
    assert_eq!(relative.identity.title.as_deref(), Some("M."));
    assert_eq!(relative.identity.birth_name.as_ref().map(AsRef::as_ref), Some("AKIR"));
    assert_eq!(relative.address.lines, ["XXXXXXXXXX XXXXXXXXXX XXXXXXXXXX XXXXXXXXXX"]);
    assert_eq!(relative.address.postal_code.as_deref(), Some("13360"));
    assert_eq!(relative.address.city.as_deref(), Some("ROQUEVAIRE"));
    assert_eq!(relative.address.country.as_deref(), Some("FRANCE"));
    assert_eq!(relative.mobile, None);
    assert!(relative.pupils.is_empty());
    for record in &file.records {
        for values in record.attributes.values() {
            assert!(values.iter().all(|v| !v.contains('\r')), "{}", record.id);
        }
    }
}

#[test]
fn the_2013_school_file_holds_10_schools_with_their_uai() {
    let file = read(Y2013, SCHOOLS_2013);
    assert_whole_file(&file, Category::School, 10, Some("AAF-VE1301"));
    let school = school(&file, "52000");
    assert_eq!(school.jointure, "52000");
    assert_eq!(school.uai, "1004001V");
    assert_eq!(school.name, "Z.REMP-DIGNE-AIX_MARS.");
    assert_eq!(school.kind.as_deref(), Some("SANS OBJET"));
    assert_eq!(school.contract.as_deref(), Some("PU"));
    assert_eq!(school.siret, None);
    assert_eq!(school.academy.as_deref(), Some("AIX-MARSEILLE"));
    assert!(school.address.lines.is_empty());
}

#[test]
fn the_2013_subject_file_holds_718_subjects_with_apostrophes_unescaped() {
    let file = read(Y2013, SUBJECTS_2013);
    assert_whole_file(&file, Category::Subject, 718, Some("AAF-VE1301"));
    assert_eq!(
        subject(&file, "009800"),
        Subject { code: "009800".into(), label: "ACCCOMPAGN.EDUCATIF- AIDE DEVOIRS LECONS".into() }
    );
    assert_eq!(subject(&file, "103800").label, "ATELIER D'EDUCATION PHYSIQUE ET SPORTIVE");
    let with_apostrophe = file
        .records
        .iter()
        .filter(|r| r.attributes["ENTLibelleMatiere"].iter().any(|l| l.contains('\'')))
        .count();
    assert_eq!(with_apostrophe, 40);
}

#[test]
fn the_2020_pupil_has_a_dated_class_and_two_relative_links() {
    let file = read(Y2020, "ENT_Complet_20200101_Eleve_0000.xml");
    assert_whole_file(&file, Category::Pupil, 1, None);
    let pupil = pupil(&file, "2000000");
    assert_eq!(pupil.ine.as_deref(), Some("100000000AA"));
    assert_eq!(pupil.classes.len(), 1);
    assert_eq!(
        pupil.classes[0].class,
        StructureRef { school: "3000".into(), code: "1AQUA".into() }
    );
    assert_eq!(pupil.classes[0].entry, Some(date(2020, 8, 18)));
    assert_eq!(pupil.classes[0].exit, None);
    assert!(pupil.groups.is_empty());
    assert_eq!(pupil.schools, ["1000"]);
    assert_eq!(pupil.identity.birth_name, None, "ENTPersonNomPatro equals sn");
    assert_eq!(pupil.address.lines, ["1 rue de Test"]);
    assert_eq!(pupil.address.postal_code.as_deref(), Some("16730"));
    assert_eq!(pupil.address.city.as_deref(), Some("LINARS"));
    assert_eq!(
        pupil.relatives,
        [
            RelativeLink {
                relative: "2000000".into(),
                kinship: Some("10".into()),
                financial: true,
                legal: 1,
                contact: true,
                payment: true,
            },
            RelativeLink {
                relative: "3000000".into(),
                kinship: Some("20".into()),
                financial: false,
                legal: 1,
                contact: false,
                payment: false,
            },
        ]
    );
}

#[test]
fn the_2020_school_file_declared_iso_8859_15_maps_its_three_part_name() {
    let file = read(Y2020, "ENT_Complet_20200101_EtabEducNat_0000.xml");
    assert_whole_file(&file, Category::School, 1, None);
    let school = school(&file, "1");
    assert_eq!(school.uai, "0000000V");
    assert_eq!(school.name, "STRUCTURE");
    assert_eq!(school.contract.as_deref(), Some("OO"));
    assert_eq!(school.address.lines, ["1 rue Test"]);
    assert_eq!(school.address.city.as_deref(), Some("DOUAI"));
    assert_eq!(school.email.as_deref(), Some("test@yopmail.com"));
    assert_eq!(
        record(&file, "1").attributes["ENTEtablissementMinistereTutelle"],
        ["MINISTERE DE L'EDUCATION NATIONALE"]
    );
}

#[test]
fn the_2024_school_is_the_college_integration_in_paris() {
    let file = read(Y2024, "ENT2DVA-ENT16_Complet_20240916_EtabEducNat_0000.xml");
    assert_whole_file(&file, Category::School, 1, Some("AAF-VE2407"));
    assert_eq!(file.name.prefix, "ENT2DVA-ENT16");
    assert_eq!(file.name.date, "20240916");
    assert_eq!(record(&file, "43").line, 10);
    let school = school(&file, "43");
    assert_eq!(school.uai, "0123456A");
    assert_eq!(school.name, "CLG INTEGRATION");
    assert_eq!(school.kind.as_deref(), Some("COLLEGE"));
    assert_eq!(school.siret.as_deref(), Some("01234567891234"));
    assert_eq!(school.address.lines, ["10 avenue des Batignolles"]);
    assert_eq!(school.address.postal_code.as_deref(), Some("75017"));
    assert_eq!(school.address.city.as_deref(), Some("PARIS"));
    assert_eq!(school.phone.as_deref(), Some("+33 1 02 03 04 05"));
    assert_eq!(school.academy.as_deref(), Some("PARIS"));
}

#[test]
fn the_2024_staff_are_a_deputy_head_and_a_teacher() {
    let file = read(Y2024, "ENT2DVA-ENT16_Complet_20240916_PersEducNat_0000.xml");
    assert_whole_file(&file, Category::Staff, 2, Some("AAF-VE2407"));

    let deputy = staff(&file, "314159");
    assert_eq!(deputy.profile, Profile::Staff);
    assert_eq!(deputy.identity.first_name.as_ref(), "Prénom AAAA");
    assert_eq!(deputy.identity.title.as_deref(), Some("M."));
    assert_eq!(deputy.identity.email.as_deref(), Some("aaaa@mailinator.fr"));
    assert_eq!(deputy.identity.birth_date, Some(date(1980, 1, 1)));
    assert_eq!(deputy.schools, ["43"]);
    let codes: Vec<&str> = deputy.functions.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["DIR", "AEH"]);
    assert_eq!(deputy.functions[0].school, "43");
    assert_eq!(deputy.functions[0].label, "DIRECTION");
    assert_eq!(deputy.functions[0].discipline_code.as_deref(), Some("D0011"));
    assert_eq!(
        deputy.functions[0].discipline_label.as_deref(),
        Some("CHEF D'ETABLISSEMENT ADJOINT")
    );
    assert!(deputy.class_teachings.is_empty());
    assert!(deputy.principal_of.is_empty());

    let teacher = staff(&file, "314160");
    assert_eq!(teacher.profile, Profile::Teacher);
    assert_eq!(teacher.identity.title.as_deref(), Some("Mme"));
    assert_eq!(teacher.functions.len(), 1);
    assert_eq!(teacher.functions[0].label, "ENSEIGNEMENT DEVANT ELEVES");
    assert_eq!(
        teacher.functions[0].discipline_label.as_deref(),
        Some("ENSEIGNER EN SEGPA OU EREA")
    );
}
