//! The AAF reader never panics: real files mutated a few thousand times with a deterministic
//! generator (truncations, byte flips, inserted `<`, `&`, internal DTDs, non-ASCII bytes,
//! deleted and repeated ranges) either read, with records in file order whose mapping returns,
//! or fail with a position inside the file.

use std::path::Path;

use formats::aaf::{map_record, read_file};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/aaf");

/// xorshift64*: small, deterministic, good enough to pick positions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const INSERTS: [&[u8]; 9] = [
    b"<",
    b"&",
    b"&a;",
    b"<!DOCTYPE x [<!ENTITY a \"b\">]>",
    b"</attr>",
    b"<value>",
    b"$",
    b"\xC3",
    b"\xE9\xFF",
];

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 => {
                if at < bytes.len() {
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
            2 | 3 => {
                let insert = INSERTS[rng.below(INSERTS.len())];
                bytes.splice(at..at, insert.iter().copied());
            }
            4 => {
                let end = (at + rng.below(200)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let end = (at + rng.below(400)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

fn check_file(name: &str, original: &[u8], rounds: usize, seed: u64) -> (usize, usize) {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join(name);
    let mut rng = Rng(seed);
    let (mut read, mut failed) = (0, 0);

    for round in 0..rounds {
        let bytes = mutate(&mut rng, original);
        std::fs::write(&path, &bytes).unwrap();
        let lines = u32::try_from(bytes.iter().filter(|&&b| b == b'\n').count() + 1).unwrap();

        match read_file(&path) {
            Ok(file) => {
                read += 1;
                let mut previous = 0;
                for record in &file.records {
                    assert!(record.line > previous && record.line <= lines, "round {round}");
                    previous = record.line;
                    let _ = map_record(
                        name,
                        record.line,
                        record.category,
                        &record.id,
                        &record.attributes,
                    );
                }
                for rejection in &file.rejections {
                    assert!(rejection.line >= 1 && rejection.line <= lines, "round {round}");
                }
            }
            Err(error) => {
                failed += 1;
                assert!(error.line >= 1 && error.line <= lines, "round {round}: {error}");
                assert!(error.column >= 1, "round {round}: {error}");
                assert!(!error.reason.is_empty());
            }
        }
    }
    (read, failed)
}

fn sample(set: &str, name: &str) -> Vec<u8> {
    std::fs::read(Path::new(DATA).join(set).join(name)).unwrap()
}

#[test]
fn thousands_of_mutated_real_files_never_panic_and_errors_stay_in_the_file() {
    let files = [
        ("entcore-2024", "ENT2DVA-ENT16_Complet_20240916_PersEducNat_0000.xml", 1500, 1),
        ("entcore-2020-minimal", "ENT_Complet_20200101_Eleve_0000.xml", 1500, 2),
        ("entcore-2020-minimal", "ENT_Complet_20200101_EtabEducNat_0000.xml", 800, 3),
        ("entcore-2013", "FULL_ENTTSSERVICES_Complet_20130117_EtabEducNat_0000.xml", 400, 4),
    ];
    for (set, name, rounds, seed) in files {
        let (read, failed) = check_file(name, &sample(set, name), rounds, seed);
        assert_eq!(read + failed, rounds);
        // Both outcomes must occur, or the mutations are not reaching the parser.
        assert!(read > rounds / 20, "{name}: only {read} read");
        assert!(failed > rounds / 5, "{name}: only {failed} failed");
    }
}

#[test]
// A quadratic mapping would make this test run for many minutes; its speed is not asserted
// (timings are benchmarks' business, not tests').
fn a_record_with_two_hundred_thousand_values_maps_whole() {
    let groups: Vec<String> = (0..200_000).map(|i| format!("52006$G{}", i % 150_000)).collect();
    let relatives: Vec<String> = (0..100_000).map(|i| format!("{i}$10$1$1$0$0")).collect();
    let mut attributes = formats::aaf::Attributes::new();
    attributes.insert("sn".into(), vec!["Dupont".into()]);
    attributes.insert("givenName".into(), vec!["Léa".into()]);
    attributes.insert("ENTEleveGroupes".into(), groups);
    attributes.insert("ENTElevePersRelEleve".into(), relatives);
    let entity = map_record("x", 1, formats::aaf::Category::Pupil, "1", &attributes).unwrap();
    match entity {
        formats::aaf::Entity::Pupil(pupil) => {
            assert_eq!(pupil.groups.len(), 150_000);
            assert_eq!(pupil.relatives.len(), 100_000);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
// Like the test above, a quadratic reader would run for many minutes; no timing is asserted.
fn a_file_of_forty_thousand_records_reads_whole() {
    let record = "<addRequest><operationalAttributes><attr name=\"categorieMatiere\"><value>MatEducNat</value></attr></operationalAttributes><identifier><id>ID</id></identifier><attributes><attr name=\"ENTLibelleMatiere\"><value>L&apos;ART</value></attr></attributes></addRequest>";
    let mut text = String::from("<ficAlimMENESR>");
    for i in 0..40_000 {
        text.push_str(&record.replace("ID", &i.to_string()));
    }
    text.push_str("</ficAlimMENESR>");
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("X_Complet_20260101_MatiereEducNat_0000.xml");
    std::fs::write(&path, text).unwrap();

    let file = read_file(&path).unwrap();
    assert_eq!(file.records.len(), 40_000);
    assert!(file.records.iter().all(|r| r.line == 1));
}
