//! Files that cannot be read and records that cannot be taken: a truncated file and a file with
//! an internal DTD fail alone (file, line, column; nothing of them written) while the good
//! files beside them are imported; a 300-character name and a duplicate id are refused record
//! by record.

mod import_support;

use import_support::{copy_files, count, dump, import, read, split_records, write};

const ELEVE: &str = "FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml";

#[tokio::test]
async fn a_truncated_file_fails_alone_and_writes_nothing() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2013", "EtabEducNat", dir.path());
    copy_files("entcore-2013", "MatiereEducNat", dir.path());
    let text = read("entcore-2013", ELEVE);
    let cut = text.char_indices().nth(text.chars().count() / 2).unwrap().0;
    write(dir.path(), ELEVE, &text[..cut]);

    let report = import(&store, &[dir.path().to_path_buf()]).await;
    let failed: Vec<_> = report.files.iter().filter(|f| f.error.is_some()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].file, ELEVE);
    assert!(!failed[0].written);
    let error = failed[0].error.as_deref().unwrap();
    assert!(error.contains("ligne") && error.contains("colonne"), "{error}");
    assert!(report.has_problems());
    assert!(report.to_french_text().contains(ELEVE));

    assert_eq!(count(&store, "SELECT COUNT(*) FROM people").await, 0);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM classes").await, 0);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM schools").await, 10);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM subjects").await, 718);
}

#[tokio::test]
async fn a_file_with_an_internal_dtd_is_refused_and_the_database_left_as_it_was() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "", dir.path());
    import(&store, &[dir.path().to_path_buf()]).await;
    let before = dump(&store).await;

    let hostile = read("entcore-2013", ELEVE).replacen(
        "<!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">",
        "<!DOCTYPE ficAlimMENESR [ <!ENTITY boom \"boom\"> ]>",
        1,
    );
    assert!(hostile.contains("<!ENTITY"));
    let bad = tempfile::tempdir().unwrap();
    write(bad.path(), ELEVE, &hostile);
    let report = import(&store, &[bad.path().to_path_buf(), dir.path().to_path_buf()]).await;
    let failed: Vec<_> = report.files.iter().filter(|f| f.error.is_some()).collect();
    assert_eq!(failed.len(), 1);
    let error = failed[0].error.as_deref().unwrap();
    assert!(error.contains("ligne 1") || error.contains("ligne 2"), "{error}");
    assert_eq!(report.counts["staff"].unchanged, 2);
    assert_eq!(dump(&store).await, before);
}

#[tokio::test]
async fn unknown_files_are_reported_and_the_dtd_skipped_silently() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "", dir.path());
    copy_files("entcore-2013", ".dtd", dir.path());
    write(dir.path(), "LISEZMOI.txt", "rien");
    std::fs::create_dir(dir.path().join("sous-dossier")).unwrap();
    write(&dir.path().join("sous-dossier"), "ENT_Complet_20200101_Eleve_0000.xml", "<x/>");
    let report = import(&store, &[dir.path().to_path_buf()]).await;
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("LISEZMOI.txt"));
    assert_eq!(report.files.len(), 2);
    assert!(!report.has_problems());
}

#[tokio::test]
async fn a_folder_or_a_dangling_link_named_like_an_aaf_file_is_mentioned() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "EtabEducNat", dir.path());
    std::fs::create_dir(dir.path().join("ENT_Complet_20200101_Eleve_0000.xml")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("nowhere.xml"),
        dir.path().join("ENT_Complet_20200101_PersRelEleve_0000.xml"),
    )
    .unwrap();

    let report = import(&store, &[dir.path().to_path_buf()]).await;

    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
    assert!(report.warnings.iter().all(|w| w.contains("n'est pas un fichier ordinaire")));
    assert_eq!(report.files.len(), 1);
}

#[tokio::test]
async fn a_long_name_and_a_duplicate_id_are_rejected_and_the_other_records_written() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2013", "EtabEducNat", dir.path());
    let (head, records, tail) = split_records(&read("entcore-2013", ELEVE));
    let mut body: Vec<String> = records[..5].to_vec();
    body[1] = body[1].replace(
        "<attr name=\"sn\"><value>Burke</value></attr>",
        &format!("<attr name=\"sn\"><value>{}</value></attr>", "B".repeat(300)),
    );
    assert!(body[1].contains(&"B".repeat(300)));
    // Record 2605692 a second time, with a value full of `$` and quotes.
    body.push(records[0].replace("<value>Kù</value>", "<value>K&apos;ù &quot;$$</value>"));
    write(dir.path(), ELEVE, &format!("{head}{}{tail}", body.join("\n")));

    let report = import(&store, &[dir.path().to_path_buf()]).await;
    assert_eq!(report.rejections.len(), 2, "{:?}", report.rejections);
    assert_eq!(report.counts["pupil"].rejected, 2);
    assert_eq!(report.counts["pupil"].created, 4);
    let long = report.rejections.iter().find(|r| r.record_id == "2605693").unwrap();
    assert!(long.reason.contains("sn"), "{}", long.reason);
    assert!(long.line > 0);
    let duplicate = report.rejections.iter().find(|r| r.record_id == "2605692").unwrap();
    assert!(duplicate.reason.contains("déjà"), "{}", duplicate.reason);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM people").await, 4);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM people WHERE external_id = '2605693'").await, 0);
    let first_name = import_support::texts(
        &store,
        "SELECT first_name FROM people WHERE external_id = '2605692'",
    )
    .await;
    assert_eq!(first_name, ["Kù"]);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM import_rejections").await, 2);
}

#[tokio::test]
async fn pupils_without_a_birth_date_are_imported_and_reported() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2013", "EtabEducNat", dir.path());
    let (head, records, tail) = split_records(&read("entcore-2013", ELEVE));
    let undated = records[0]
        .lines()
        .filter(|line| !line.contains("ENTPersonDateNaissance"))
        .collect::<Vec<_>>()
        .join("\n");
    write(dir.path(), ELEVE, &format!("{head}{undated}\n{}{tail}", records[1]));

    let report = import(&store, &[dir.path().to_path_buf()]).await;

    assert_eq!(count(&store, "SELECT COUNT(*) FROM people WHERE profile = 'pupil'").await, 2);
    assert!(
        report.warnings.iter().any(|w| w.starts_with("1 élève(s) sans date de naissance")),
        "{:?}",
        report.warnings
    );
}

/// Every kind of hostile or broken file of SECURITY.md's list, each alone beside good files:
/// the report names the file with a line and a column, and the database is left as it was.
#[tokio::test]
async fn every_hostile_file_leaves_a_clear_report_and_the_database_unchanged() {
    let store = store::testing::store().await;
    let good = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "", good.path());
    import(&store, &[good.path().to_path_buf()]).await;
    let before = dump(&store).await;
    let doctype = "<!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">";
    let real = read("entcore-2013", ELEVE);
    let bomb = "<!DOCTYPE ficAlimMENESR [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">\
                <!ENTITY c \"&b;&b;&b;&b;&b;\">]>";
    let external = "<!DOCTYPE ficAlimMENESR [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("entity bomb", real.replacen(doctype, bomb, 1).replacen("Burke", "&c;", 1).into_bytes()),
        (
            "external entity",
            real.replacen(doctype, external, 1).replacen("Burke", "&x;", 1).into_bytes(),
        ),
        ("undeclared entity", real.replacen("Burke", "&nope;", 1).into_bytes()),
        ("truncated", real.as_bytes()[..real.len() / 3].to_vec()),
        ("unknown root", real.replace("ficAlimMENESR>", "autreChose>").into_bytes()),
        ("latin-1 bytes declared UTF-8", latin1_bytes(&real)),
        ("binary junk", (0..4096u64).map(|i| (i * 2_654_435_761 % 251) as u8).collect()),
        ("empty", Vec::new()),
    ];

    for (case, bytes) in cases {
        let bad = tempfile::tempdir().unwrap();
        std::fs::write(bad.path().join(ELEVE), &bytes).unwrap();

        let report = import(&store, &[bad.path().to_path_buf(), good.path().to_path_buf()]).await;

        let failed: Vec<_> = report.files.iter().filter(|f| f.error.is_some()).collect();
        assert_eq!(failed.len(), 1, "{case}: {:?}", report.files);
        assert_eq!(failed[0].file, ELEVE, "{case}");
        let error = failed[0].error.as_deref().unwrap();
        assert!(error.contains("ligne") && error.contains("colonne"), "{case}: {error}");
        assert!(report.has_problems(), "{case}");
        assert_eq!(dump(&store).await, before, "{case} changed the database");
    }
}

/// The real pupil file, declared UTF-8, with one name written in Latin-1 (`é` as 0xE9).
fn latin1_bytes(real: &str) -> Vec<u8> {
    let marked = real.replacen("Burke", "Bur\u{1}e", 1);
    marked.bytes().map(|b| if b == 1 { 0xE9 } else { b }).collect()
}
