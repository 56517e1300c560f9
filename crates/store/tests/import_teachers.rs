//! Teachers' links, from the real 2024 staff file with teaching values added: classes and
//! groups created on demand with their subjects, principal teachers, a teacher in two schools,
//! and a school arriving in a later run that resolves what pointed to it.

mod import_support;

use import_support::{copy_files, count, import, read, texts, write};

const STAFF: &str = "ENT2DVA-ENT16_Complet_20240916_PersEducNat_0000.xml";

/// The 2024 staff file with teacher 314160 teaching 3A and 4B (principal of 3A) and group G1
/// in school 43, and class 6C in school 52006 (a 2013 school).
fn staff_with_teachings() -> String {
    read("entcore-2024", STAFF)
        .replacen(
            "<attr name=\"ENTAuxEnsClassesMatieres\"><value/></attr>",
            "<attr name=\"ENTAuxEnsClassesMatieres\"><value>43$3A$081300</value>\
             <value>43$4B$081300</value><value>52006$6C$030201</value></attr>",
            2,
        )
        .replacen(
            "<attr name=\"ENTAuxEnsGroupesMatieres\"><value/></attr>",
            "<attr name=\"ENTAuxEnsGroupesMatieres\"><value>43$G1$030201</value></attr>",
            2,
        )
        .replacen(
            "<attr name=\"ENTAuxEnsClassesPrincipal\"><value/></attr>",
            "<attr name=\"ENTAuxEnsClassesPrincipal\"><value>43$3A</value></attr>",
            2,
        )
}

#[tokio::test]
async fn teachings_create_classes_and_groups_and_wait_for_an_unknown_school() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "EtabEducNat", dir.path());
    let text = staff_with_teachings();
    assert_eq!(text.matches("43$3A$081300").count(), 2);
    write(dir.path(), STAFF, &text);

    let first = import(&store, &[dir.path().to_path_buf()]).await;
    assert!(first.rejections.is_empty(), "{:?}", first.rejections);
    // Both staff records carry the values: 2 × (3A, 4B) and 2 × G1 in school 43.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM classes").await, 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM teaching_groups").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM class_teachers").await, 4);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM group_teachers").await, 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM principal_teachers").await, 2);
    let subjects = texts(&store, "SELECT DISTINCT subject_code FROM class_teachers").await;
    assert_eq!(subjects, ["081300"]);
    // 52006 is unknown here: one pending school per person.
    let pending: Vec<_> =
        first.pending.iter().map(|p| (p.kind.as_str(), p.target.as_str())).collect();
    assert_eq!(pending, [("school", "52006"), ("school", "52006")]);

    let later = tempfile::tempdir().unwrap();
    copy_files("entcore-2013", "EtabEducNat", later.path());
    let second = import(&store, &[later.path().to_path_buf()]).await;
    assert_eq!(second.resolved, 2);
    assert!(second.pending.is_empty());
    assert_eq!(count(&store, "SELECT COUNT(*) FROM class_teachers").await, 6);
    let places = texts(
        &store,
        "SELECT DISTINCT s.jointure FROM class_teachers ct JOIN classes c ON c.id = ct.class_id \
         JOIN schools s ON s.id = c.school_id JOIN people p ON p.id = ct.teacher_id \
         WHERE p.external_id = '314160' ORDER BY s.jointure",
    )
    .await;
    assert_eq!(places, ["43", "52006"]);
}

#[tokio::test]
async fn a_later_full_export_replaces_a_teachers_links() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "EtabEducNat", dir.path());
    write(dir.path(), STAFF, &staff_with_teachings());
    import(&store, &[dir.path().to_path_buf()]).await;

    write(dir.path(), STAFF, &staff_with_teachings().replace("43$3A$081300", "43$5D$081300"));
    let report = import(&store, &[dir.path().to_path_buf()]).await;
    assert_eq!(report.counts["staff"].updated, 2);
    let classes = texts(
        &store,
        "SELECT DISTINCT c.code FROM class_teachers ct JOIN classes c ON c.id = ct.class_id \
         ORDER BY c.code",
    )
    .await;
    assert_eq!(classes, ["4B", "5D"]);
    // The principal link to 3A stays: ENTAuxEnsClassesPrincipal did not change.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM principal_teachers").await, 2);
}
