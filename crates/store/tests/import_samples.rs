//! Importing the real AAF samples, each set alone and all together: the exact counts those
//! files hold, and a second import that changes nothing.
//!
//! The expected numbers were counted once from the XML by a short Python script (not
//! committed) reading every record with ElementTree, independently of the Rust code:
//! records per file type; a `PersEducNat` with an `ENS` function is a teacher; classes and
//! groups are the distinct `struct$code` of `ENTEleveClasses` / `ENTEleveGroupes` and of the
//! teachers' `ENTAuxEns…` values whose school is in an `EtabEducNat` file; a pupil's relatives
//! are the first fields of `ENTElevePersRelEleve` (else `ENTEleveAutoriteParentale` then
//! `ENTEleveParents`), resolved when a `PersRelEleve` record has that id, pending otherwise;
//! pending schools are the distinct (person, school jointure) pairs naming no known school;
//! functions are the distinct (person, school, code, discipline) of `ENTPersonFonctions`.

mod import_support;

use import_support::{SETS, aaf, count, dump, import};

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    schools: i64,
    subjects: i64,
    pupils: i64,
    relatives: i64,
    teachers: i64,
    staff: i64,
    classes: i64,
    groups: i64,
    pupil_classes: i64,
    pupil_groups: i64,
    guardianships: i64,
    pending_relatives: i64,
    pending_schools: i64,
    functions: i64,
    class_teachers: i64,
    principals: i64,
    school_admins: i64,
    accounts: i64,
    logins: i64,
}

async fn counts(store: &store::Store) -> Counts {
    Counts {
        schools: count(store, "SELECT COUNT(*) FROM schools").await,
        subjects: count(store, "SELECT COUNT(*) FROM subjects").await,
        pupils: count(store, "SELECT COUNT(*) FROM people WHERE profile = 'pupil'").await,
        relatives: count(store, "SELECT COUNT(*) FROM people WHERE profile = 'relative'").await,
        teachers: count(store, "SELECT COUNT(*) FROM people WHERE profile = 'teacher'").await,
        staff: count(store, "SELECT COUNT(*) FROM people WHERE profile = 'staff'").await,
        classes: count(store, "SELECT COUNT(*) FROM classes").await,
        groups: count(store, "SELECT COUNT(*) FROM teaching_groups").await,
        pupil_classes: count(store, "SELECT COUNT(*) FROM pupil_classes").await,
        pupil_groups: count(store, "SELECT COUNT(*) FROM pupil_groups").await,
        guardianships: count(store, "SELECT COUNT(*) FROM guardianships").await,
        pending_relatives: count(
            store,
            "SELECT COUNT(*) FROM pending_references WHERE kind = 'relative'",
        )
        .await,
        pending_schools: count(
            store,
            "SELECT COUNT(*) FROM pending_references WHERE kind = 'school'",
        )
        .await,
        functions: count(store, "SELECT COUNT(*) FROM person_functions").await,
        class_teachers: count(store, "SELECT COUNT(*) FROM class_teachers").await,
        principals: count(store, "SELECT COUNT(*) FROM principal_teachers").await,
        school_admins: count(store, "SELECT COUNT(*) FROM roles WHERE role = 'school_admin'").await,
        accounts: count(store, "SELECT COUNT(*) FROM accounts").await,
        logins: count(store, "SELECT COUNT(*) FROM logins").await,
    }
}

const MINIMAL_2020: Counts = Counts {
    schools: 1,
    subjects: 0,
    pupils: 1,
    relatives: 0,
    teachers: 0,
    staff: 0,
    classes: 0,
    groups: 0,
    pupil_classes: 0,
    pupil_groups: 0,
    guardianships: 0,
    // The pupil names relatives 2000000 (its own id) and 3000000, absent from the set.
    pending_relatives: 2,
    // It is attached to school 1000 and class 3000$1AQUA; the set's only school is 1.
    pending_schools: 2,
    functions: 0,
    class_teachers: 0,
    principals: 0,
    school_admins: 0,
    accounts: 1,
    logins: 1,
};

const SET_2024: Counts = Counts {
    schools: 1,
    subjects: 0,
    pupils: 0,
    relatives: 0,
    teachers: 1,
    staff: 1,
    classes: 0,
    groups: 0,
    pupil_classes: 0,
    pupil_groups: 0,
    guardianships: 0,
    pending_relatives: 0,
    pending_schools: 0,
    functions: 3,
    class_teachers: 0,
    principals: 0,
    // 314159 holds a DIR function in school 43.
    school_admins: 1,
    accounts: 2,
    logins: 2,
};

const SET_2013: Counts = Counts {
    schools: 10,
    subjects: 718,
    pupils: 642,
    relatives: 586,
    teachers: 0,
    staff: 0,
    classes: 173,
    groups: 70,
    pupil_classes: 642,
    pupil_groups: 85,
    guardianships: 408,
    pending_relatives: 656,
    pending_schools: 0,
    functions: 0,
    class_teachers: 0,
    principals: 0,
    school_admins: 0,
    accounts: 1228,
    logins: 1228,
};

const ALL: Counts = Counts {
    schools: 12,
    subjects: 718,
    pupils: 643,
    relatives: 586,
    teachers: 1,
    staff: 1,
    classes: 173,
    groups: 70,
    pupil_classes: 642,
    pupil_groups: 85,
    guardianships: 408,
    pending_relatives: 658,
    pending_schools: 2,
    functions: 3,
    class_teachers: 0,
    principals: 0,
    school_admins: 1,
    accounts: 1231,
    logins: 1231,
};

#[tokio::test]
async fn the_2020_minimal_set_holds_one_pupil_with_pending_references() {
    let store = store::testing::store().await;
    let report = import(&store, &[aaf("entcore-2020-minimal")]).await;
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(counts(&store).await, MINIMAL_2020);
    assert_eq!(report.pending.len(), 4);
    assert!(!report.has_problems());
}

#[tokio::test]
async fn the_2024_set_holds_a_teacher_and_a_head_of_school() {
    let store = store::testing::store().await;
    let report = import(&store, &[aaf("entcore-2024")]).await;
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(counts(&store).await, SET_2024);
    assert_eq!(report.counts["staff"].created, 2);
    let teacher =
        import_support::texts(&store, "SELECT external_id FROM people WHERE profile = 'teacher'")
            .await;
    assert_eq!(teacher, ["314160"]);
}

#[tokio::test]
async fn the_2013_set_holds_its_schools_pupils_relatives_and_links() {
    let store = store::testing::store().await;
    let report = import(&store, &[aaf("entcore-2013")]).await;
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(counts(&store).await, SET_2013);
    assert_eq!(report.counts["pupil"].created, 642);
    assert_eq!(report.counts["relative"].created, 586);
    assert_eq!(report.pending.len(), 656);
    // Only chunk 0001 of the pupils and 0033 of the relatives: no disappearance is tracked.
    assert!(report.warnings.iter().any(|w| w.contains("élèves") && w.contains("0001")));
    assert!(report.warnings.iter().any(|w| w.contains("responsables") && w.contains("0033")));
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM people WHERE missing_since IS NOT NULL").await,
        0
    );
}

#[tokio::test]
async fn every_set_together_gives_the_sum_of_what_they_hold() {
    let store = store::testing::store().await;
    let dirs: Vec<_> = SETS.iter().map(|set| aaf(set)).collect();
    let report = import(&store, &dirs).await;
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(counts(&store).await, ALL);
}

#[tokio::test]
async fn the_order_of_the_folders_does_not_change_the_result() {
    let forward = store::testing::store().await;
    let dirs: Vec<_> = SETS.iter().map(|set| aaf(set)).collect();
    import(&forward, &dirs).await;
    let backward = store::testing::store().await;
    let reversed: Vec<_> = dirs.iter().rev().cloned().collect();
    import(&backward, &reversed).await;
    assert_eq!(counts(&forward).await, counts(&backward).await);
    let links = "SELECT p.external_id || '>' || r.external_id FROM guardianships g \
                 JOIN people p ON p.id = g.pupil_id JOIN people r ON r.id = g.relative_id \
                 ORDER BY 1";
    assert_eq!(
        import_support::texts(&forward, links).await,
        import_support::texts(&backward, links).await
    );
}

#[tokio::test]
async fn a_second_import_of_the_same_files_changes_nothing() {
    let store = store::testing::store().await;
    let dirs: Vec<_> = SETS.iter().map(|set| aaf(set)).collect();
    import(&store, &dirs).await;
    let before = dump(&store).await;

    let report = import(&store, &dirs).await;
    for (category, counts) in &report.counts {
        assert_eq!(
            counts.created + counts.updated + counts.deleted + counts.deactivated,
            0,
            "{category}"
        );
    }
    assert_eq!(report.counts["pupil"].unchanged, 643);
    assert_eq!(report.counts["subject"].unchanged, 718);
    assert_eq!(report.resolved, 0);
    assert_eq!(dump(&store).await, before);
}

#[tokio::test]
async fn the_report_is_stored_with_the_run_and_printed_in_french() {
    let store = store::testing::store().await;
    let report = import(&store, &[aaf("entcore-2024")]).await;
    let stored = import_support::texts(&store, "SELECT report FROM import_runs").await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].contains(&report.run_id));
    let text = report.to_french_text();
    assert!(text.contains("Personnels : 2 créés"), "{text}");
    assert!(text.contains("Établissements : 1 créés"), "{text}");
}
