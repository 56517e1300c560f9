//! Complete full exports: who is no longer listed is marked missing, deactivated after the
//! grace period (sessions ended), and reactivated when listed again; a pupil listed in another
//! class moves. The exports are the real 2013 pupils renamed as chunk 0000 (a complete set).

mod import_support;

use std::path::Path;
use std::time::Duration;

use import_support::{copy_files, count, execute, import_with, read, split_records, texts, write};
use store::import::ImportOptions;

const ELEVE: &str = "FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml";
const AS_CHUNK_0: &str = "FULL_ENTTSSERVICES_Complet_20130117_Eleve_0000.xml";

/// A full export of the schools and pupils; `edit` may drop (None) or change each record.
fn export(dir: &Path, edit: impl Fn(&str) -> Option<String>) {
    copy_files("entcore-2013", "EtabEducNat", dir);
    let (head, records, tail) = split_records(&read("entcore-2013", ELEVE));
    let body: Vec<String> = records.iter().filter_map(|record| edit(record)).collect();
    write(dir, AS_CHUNK_0, &format!("{head}{}{tail}", body.join("\n")));
}

fn without_2605693_and_2605692_moved(record: &str) -> Option<String> {
    if record.contains("<id>2605693</id>") {
        None
    } else if record.contains("<id>2605692</id>") {
        Some(record.replace("52006$RUS1TERM", "52006$204"))
    } else {
        Some(record.to_owned())
    }
}

fn options(grace_days: u64) -> ImportOptions {
    ImportOptions {
        grace_period: Duration::from_secs(grace_days * 24 * 3600),
        ..ImportOptions::default()
    }
}

const STATE: &str = "SELECT CAST(active AS TEXT) || ':' || \
                     CASE WHEN missing_since IS NULL THEN 'present' ELSE 'missing' END \
                     FROM people WHERE external_id = '2605693'";

async fn with_session(store: &store::Store) {
    execute(
        store,
        "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, \
         expires_at) SELECT 'h1', id, 'c', 0, 0, 9999999999 FROM people \
         WHERE external_id = '2605693'",
    )
    .await;
}

#[tokio::test]
async fn a_pupil_missing_with_no_grace_period_is_deactivated_then_reactivated() {
    let store = store::testing::store().await;
    let full = tempfile::tempdir().unwrap();
    export(full.path(), |record| Some(record.to_owned()));
    let first = import_with(&store, &[full.path().to_path_buf()], &options(0)).await;
    assert_eq!(first.counts["pupil"].created, 642);
    assert!(first.warnings.iter().all(|w| !w.contains("élèves")), "{:?}", first.warnings);
    with_session(&store).await;

    let later = tempfile::tempdir().unwrap();
    export(later.path(), without_2605693_and_2605692_moved);
    let second = import_with(&store, &[later.path().to_path_buf()], &options(0)).await;
    assert_eq!(second.counts["pupil"].deactivated, 1);
    assert_eq!(second.counts["pupil"].updated, 1);
    assert_eq!(second.counts["pupil"].unchanged, 640);
    assert_eq!(texts(&store, STATE).await, ["0:missing"]);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM sessions").await, 0);
    let class_of = "SELECT c.code FROM pupil_classes pc JOIN classes c ON c.id = pc.class_id \
                    JOIN people p ON p.id = pc.pupil_id WHERE p.external_id = '2605692'";
    assert_eq!(texts(&store, class_of).await, ["204"]);

    let third = import_with(&store, &[full.path().to_path_buf()], &options(0)).await;
    assert_eq!(third.counts["pupil"].deactivated, 0);
    assert_eq!(third.counts["pupil"].updated, 2);
    assert_eq!(texts(&store, STATE).await, ["1:present"]);
    assert_eq!(texts(&store, class_of).await, ["RUS1TERM"]);
}

#[tokio::test]
async fn a_pupil_missing_within_the_grace_period_stays_active_until_it_comes_back() {
    let store = store::testing::store().await;
    let full = tempfile::tempdir().unwrap();
    export(full.path(), |record| Some(record.to_owned()));
    import_with(&store, &[full.path().to_path_buf()], &options(30)).await;
    with_session(&store).await;

    let later = tempfile::tempdir().unwrap();
    export(later.path(), without_2605693_and_2605692_moved);
    let second = import_with(&store, &[later.path().to_path_buf()], &options(30)).await;
    assert_eq!(second.counts["pupil"].deactivated, 0);
    assert_eq!(texts(&store, STATE).await, ["1:missing"]);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM sessions").await, 1);
    let missing = "SELECT COUNT(*) FROM people WHERE missing_since IS NOT NULL";
    assert_eq!(count(&store, missing).await, 1);

    // Still missing in the next export: the first date is kept.
    let since = "SELECT CAST(missing_since AS TEXT) FROM people WHERE external_id = '2605693'";
    let first_seen_missing = texts(&store, since).await;
    execute(
        &store,
        "UPDATE people SET missing_since = missing_since - 100 WHERE external_id = '2605693'",
    )
    .await;
    let shifted = texts(&store, since).await;
    import_with(&store, &[later.path().to_path_buf()], &options(30)).await;
    assert_eq!(texts(&store, since).await, shifted);
    assert_ne!(shifted, first_seen_missing);

    let back = import_with(&store, &[full.path().to_path_buf()], &options(30)).await;
    assert_eq!(back.counts["pupil"].unchanged, 641);
    assert_eq!(texts(&store, STATE).await, ["1:present"]);
    assert_eq!(count(&store, missing).await, 0);
}

#[tokio::test]
async fn an_incomplete_full_export_marks_nobody_missing() {
    let store = store::testing::store().await;
    let full = tempfile::tempdir().unwrap();
    export(full.path(), |record| Some(record.to_owned()));
    import_with(&store, &[full.path().to_path_buf()], &options(0)).await;

    // Chunk 0001 alone: the 2013 file as it is, without chunk 0000.
    let partial = tempfile::tempdir().unwrap();
    copy_files("entcore-2013", "_Eleve_", partial.path());
    let report = import_with(&store, &[partial.path().to_path_buf()], &options(0)).await;
    assert!(report.warnings.iter().any(|w| w.contains("élèves") && w.contains("incomplet")));
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM people WHERE missing_since IS NOT NULL").await,
        0
    );
    assert_eq!(report.counts["pupil"].deactivated, 0);
}

#[tokio::test]
async fn schools_missing_from_a_complete_export_or_deleted_are_deactivated() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "EtabEducNat", dir.path());
    import_with(&store, &[dir.path().to_path_buf()], &options(0)).await;

    // A complete school export holding only school 1: school 43 disappears.
    let other = tempfile::tempdir().unwrap();
    copy_files("entcore-2020-minimal", "EtabEducNat", other.path());
    let report = import_with(&store, &[other.path().to_path_buf()], &options(0)).await;
    assert_eq!(report.counts["school"].deactivated, 1);
    assert_eq!(report.counts["school"].created, 1);
    let active = "SELECT jointure FROM schools WHERE active = 1 ORDER BY jointure";
    assert_eq!(texts(&store, active).await, ["1"]);

    let delta = tempfile::tempdir().unwrap();
    write(
        delta.path(),
        "ENT_Delta_20200102_EtabEducNat_0000.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ficAlimMENESR>\n<deleteRequest>\
         <operationalAttributes><attr name=\"categorieStructure\"><value>EtabEducNat</value>\
         </attr></operationalAttributes><identifier><id>1</id></identifier></deleteRequest>\n\
         </ficAlimMENESR>\n",
    );
    let deleted = import_with(&store, &[delta.path().to_path_buf()], &options(0)).await;
    assert_eq!(deleted.counts["school"].deleted, 1);
    assert!(texts(&store, active).await.is_empty());
    let stamped = "SELECT COUNT(*) FROM schools WHERE deactivated_at IS NOT NULL";
    assert_eq!(count(&store, stamped).await, 2);
}

const PUPILS_ACTIVE: &str = "SELECT COUNT(*) FROM people WHERE profile = 'pupil' AND active = 1";

#[tokio::test]
async fn an_export_that_leaves_out_most_pupils_marks_nobody_missing_and_says_why() {
    let store = store::testing::store().await;
    let full = tempfile::tempdir().unwrap();
    export(full.path(), |record| Some(record.to_owned()));
    import_with(&store, &[full.path().to_path_buf()], &options(0)).await;
    let empty = tempfile::tempdir().unwrap();
    export(empty.path(), |_| None);
    let few = tempfile::tempdir().unwrap();
    export(few.path(), |record| record.contains("<id>2605692</id>").then(|| record.to_owned()));

    for dir in [empty.path(), few.path()] {
        let report = import_with(&store, &[dir.to_path_buf()], &options(0)).await;

        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("par prudence, personne n'est relevé absent")),
            "{:?}",
            report.warnings
        );
        assert_eq!(report.counts["pupil"].deactivated, 0);
        assert_eq!(count(&store, PUPILS_ACTIVE).await, 642);
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM people WHERE missing_since IS NOT NULL").await,
            0
        );
    }
}

#[tokio::test]
async fn a_single_schools_export_or_two_mixed_exports_are_not_taken_for_the_departement() {
    let store = store::testing::store().await;
    let full = tempfile::tempdir().unwrap();
    export(full.path(), |record| Some(record.to_owned()));
    import_with(&store, &[full.path().to_path_buf()], &options(0)).await;
    let one_school = tempfile::tempdir().unwrap();
    let (head, records, tail) = split_records(&read("entcore-2013", ELEVE));
    write(
        one_school.path(),
        "ENT_1004001V_Complet_20130117_Eleve_0000.xml",
        &format!("{head}{}{tail}", records[0]),
    );
    let mixed = tempfile::tempdir().unwrap();
    export(mixed.path(), |record| Some(record.to_owned()));
    write(
        mixed.path(),
        "OTHER_Complet_20200101_Eleve_0001.xml",
        &format!("{head}{}{tail}", records[1]),
    );

    let single = import_with(&store, &[one_school.path().to_path_buf()], &options(0)).await;
    let both = import_with(&store, &[mixed.path().to_path_buf()], &options(0)).await;

    assert!(single.warnings.iter().any(|w| w.contains("export d'un seul établissement")));
    assert!(both.warnings.iter().any(|w| w.contains("plusieurs exports mêlés")));
    assert_eq!(count(&store, PUPILS_ACTIVE).await, 642);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM people WHERE missing_since IS NOT NULL").await,
        0
    );
}
