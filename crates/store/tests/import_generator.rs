//! Real files multiplied with renumbered ids: the import keeps every copy apart and a second
//! run changes nothing. With `PREAU_IMPORT_BENCH=1` the same test builds a département-sized
//! set (about 46,000 people: 18,618 pupils, 25,198 relatives, 2,000 staff) and prints how long
//! the import and the re-import took; run it by hand in release mode to time the import:
//! `PREAU_IMPORT_BENCH=1 cargo test --release -p store --test import_generator -- --nocapture`.

mod import_support;

use std::path::Path;
use std::time::Instant;

use import_support::{aaf, count, import, multiply};

const ELEVE: &str = "FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml";
const RELATIVES: &str = "clean-FULL_ENTTSSERVICES_Complet_20130117_PersRelEleve_0033.xml";
const STAFF: &str = "ENT2DVA-ENT16_Complet_20240916_PersEducNat_0000.xml";

/// Writes `copies` copies of a file in chunks of `per_chunk` copies.
fn chunks(source: &Path, digits: usize, copies: usize, per_chunk: usize, dest: &Path, kind: &str) {
    let mut first = 1;
    let mut chunk = 0;
    while first <= copies {
        let count = per_chunk.min(copies + 1 - first);
        let name = format!("GEN_Complet_20260901_{kind}_{chunk:04}.xml");
        multiply(source, digits, first, count, dest, &name);
        first += count;
        chunk += 1;
    }
}

#[tokio::test]
async fn multiplied_files_import_every_renumbered_copy_and_reimport_unchanged() {
    let bench = std::env::var("PREAU_IMPORT_BENCH").is_ok_and(|v| v == "1");
    let (pupil_copies, relative_copies, staff_copies) =
        if bench { (29, 43, 1000) } else { (3, 2, 5) };
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path();
    for set in ["entcore-2013", "entcore-2024"] {
        import_support::copy_files(set, "EtabEducNat", dest);
    }
    import_support::copy_files("entcore-2013", "MatiereEducNat", dest);
    chunks(&aaf("entcore-2013").join(ELEVE), 7, pupil_copies, 10, dest, "Eleve");
    chunks(&aaf("entcore-2013").join(RELATIVES), 7, relative_copies, 10, dest, "PersRelEleve");
    chunks(&aaf("entcore-2024").join(STAFF), 6, staff_copies, 1000, dest, "PersEducNat");

    let store = store::testing::store().await;
    let started = Instant::now();
    let first = import(&store, &[dest.to_path_buf()]).await;
    let first_time = started.elapsed();
    assert!(first.rejections.is_empty(), "{:?}", &first.rejections[..1]);
    let people = 642 * pupil_copies + 586 * relative_copies + 2 * staff_copies;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM people").await, people as i64);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM accounts").await, people as i64);
    // Copy k of a pupil finds copy k of its relatives when that copy exists: 408 links each.
    let linked = 408 * pupil_copies.min(relative_copies);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM guardianships").await, linked as i64);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM classes").await, 173);

    let started = Instant::now();
    let second = import(&store, &[dest.to_path_buf()]).await;
    let second_time = started.elapsed();
    assert_eq!(second.counts["pupil"].unchanged, (642 * pupil_copies) as u64);
    assert_eq!(second.counts["relative"].unchanged, (586 * relative_copies) as u64);
    assert_eq!(second.counts["staff"].unchanged, (2 * staff_copies) as u64);
    for counts in second.counts.values() {
        assert_eq!(counts.created + counts.updated, 0);
    }

    if bench {
        eprintln!(
            "import of {people} people: {:.2} s; re-import: {:.2} s ({:?})",
            first_time.as_secs_f64(),
            second_time.as_secs_f64(),
            store.backend()
        );
    }
}
