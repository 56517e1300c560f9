//! The demo's AAF files read back with the production reader: every file is accepted, every
//! record maps to its entity without a rejection, and the links the demo promises are there.

use std::collections::{BTreeMap, BTreeSet};

use formats::aaf::{Category, Entity, map_record, parse_file_name, read_file};
use preau::demo::model::{DemoSize, SimpleDate, generate};
use preau::demo::write_files;

fn size(schools: usize, people: usize) -> DemoSize {
    DemoSize {
        schools,
        people,
        seed: 42,
        export_date: SimpleDate { year: 2026, month: 12, day: 4 },
        departement_code: "86".to_owned(),
    }
}

#[test]
fn every_demo_record_is_read_and_mapped_by_the_production_reader() {
    let dir = tempfile::tempdir().unwrap();
    let size = size(6, 12_000);
    let departement = generate(&size);
    let written = write_files(&departement, &size, dir.path()).unwrap();

    let mut per_category: BTreeMap<Category, usize> = BTreeMap::new();
    let mut entities = Vec::new();
    for path in &written.files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let parsed = parse_file_name(&name).unwrap_or_else(|| panic!("{name} is not an AAF name"));
        assert!(parsed.full);
        let file = read_file(path).unwrap_or_else(|error| panic!("{error}"));
        assert!(file.rejections.is_empty(), "{:?}", file.rejections);
        for record in &file.records {
            let entity =
                map_record(&name, record.line, record.category, &record.id, &record.attributes)
                    .unwrap_or_else(|rejection| panic!("{rejection}"));
            *per_category.entry(record.category).or_default() += 1;
            entities.push(entity);
        }
    }

    assert_eq!(per_category[&Category::School], 6);
    assert_eq!(per_category[&Category::Pupil], departement.pupils.len());
    assert_eq!(per_category[&Category::Relative], departement.relatives.len());
    assert_eq!(per_category[&Category::Staff], departement.staff.len());

    let mut teacher_schools = 0;
    let mut pupils_with_two_guardians = 0;
    let mut latin9_names = BTreeSet::new();
    for entity in &entities {
        match entity {
            Entity::Staff(staff) if staff.schools.len() >= 2 => teacher_schools += 1,
            Entity::Pupil(pupil) => {
                assert_eq!(pupil.classes.len(), 1);
                assert!(pupil.identity.birth_date.is_some());
                if pupil.relatives.iter().filter(|r| r.legal == 1).count() == 2 {
                    pupils_with_two_guardians += 1;
                }
            }
            Entity::School(school) => {
                latin9_names.insert(school.name.clone());
                assert!(school.uai.starts_with("086"), "{}", school.uai);
            }
            _ => {}
        }
    }
    assert!(teacher_schools > 0);
    assert!(pupils_with_two_guardians > 0);
    assert!(
        latin9_names.iter().any(|name| name.contains('è') || name.contains('é')),
        "{latin9_names:?}"
    );
}
