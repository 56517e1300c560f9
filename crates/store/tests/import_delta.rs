//! Later runs: relatives arriving after their pupils, and delta files (modify, delete, and a
//! modify of an id nobody knows) built from the real 2013 files in temporary folders.

mod import_support;

use import_support::{aaf, copy_files, count, execute, import, texts, write};

const ELEVE: &str = "<operationalAttributes><attr name=\"categoriePersonne\"><value>Eleve</value>\
                     </attr></operationalAttributes>";

fn delta(requests: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ficAlimMENESR>\n{requests}\n</ficAlimMENESR>\n"
    )
}

#[tokio::test]
async fn relatives_imported_in_a_later_run_resolve_the_pending_links() {
    let store = store::testing::store().await;
    let pupils = tempfile::tempdir().unwrap();
    copy_files("entcore-2013", "EtabEducNat", pupils.path());
    copy_files("entcore-2013", "_Eleve_", pupils.path());
    let first = import(&store, &[pupils.path().to_path_buf()]).await;
    // 408 links point to relatives of chunk 0033 and 656 to chunks not provided (counted
    // from the XML, see import_samples.rs).
    assert_eq!(first.pending.iter().filter(|p| p.kind == "relative").count(), 1064);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM guardianships").await, 0);
    let pending = &first.pending[0];
    assert!(pending.file.ends_with("_Eleve_0001.xml") && pending.line > 0);

    let relatives = tempfile::tempdir().unwrap();
    copy_files("entcore-2013", "PersRelEleve", relatives.path());
    let second = import(&store, &[relatives.path().to_path_buf()]).await;
    assert_eq!(second.resolved, 408);
    assert_eq!(second.pending.len(), 656);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM guardianships").await, 408);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM pending_references").await, 656);
    // The flags come from the pupil's record: 2605692 names 2867253$2$1$1$0$0.
    let flags = texts(
        &store,
        "SELECT g.kinship || ':' || CAST(g.legal AS TEXT) || CAST(g.financial AS TEXT) \
         FROM guardianships g JOIN people p ON p.id = g.pupil_id \
         JOIN people r ON r.id = g.relative_id \
         WHERE p.external_id = '2605692' AND r.external_id = '2867253'",
    )
    .await;
    assert_eq!(flags, ["2:11"]);
}

#[tokio::test]
async fn a_modify_request_moves_a_pupil_to_another_class() {
    let store = store::testing::store().await;
    import(&store, &[aaf("entcore-2013")]).await;
    let class_of = "SELECT c.code FROM pupil_classes pc JOIN classes c ON c.id = pc.class_id \
                    JOIN people p ON p.id = pc.pupil_id WHERE p.external_id = '2605692'";
    assert_eq!(texts(&store, class_of).await, ["RUS1TERM"]);
    let login_before = texts(
        &store,
        "SELECT a.login FROM accounts a JOIN people p \
                                      ON p.id = a.person_id WHERE p.external_id = '2605692'",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ENT_Delta_20130118_Eleve_0000.xml",
        &delta(&format!(
            "<modifyRequest>{ELEVE}<identifier><id>2605692</id></identifier><modifications>\
             <modification name=\"ENTEleveClasses\" operation=\"replace\">\
             <value>52006$204</value></modification>\
             <modification name=\"sn\" operation=\"replace\"><value>Autrenom</value>\
             </modification></modifications></modifyRequest>"
        )),
    );
    let report = import(&store, &[dir.path().to_path_buf()]).await;
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(report.counts["pupil"].updated, 1);
    assert_eq!(texts(&store, class_of).await, ["204"]);
    let name = texts(&store, "SELECT last_name FROM people WHERE external_id = '2605692'").await;
    assert_eq!(name, ["Autrenom"]);
    // The login stays what it was when the account was made.
    let login_after = texts(
        &store,
        "SELECT a.login FROM accounts a JOIN people p \
                                     ON p.id = a.person_id WHERE p.external_id = '2605692'",
    )
    .await;
    assert_eq!(login_before, login_after);

    // The same delta again changes nothing.
    let again = import(&store, &[dir.path().to_path_buf()]).await;
    assert_eq!(again.counts["pupil"].unchanged, 1);
    assert_eq!(again.counts["pupil"].updated, 0);
}

#[tokio::test]
async fn a_delete_request_deactivates_the_pupil_and_ends_its_sessions() {
    let store = store::testing::store().await;
    import(&store, &[aaf("entcore-2013")]).await;
    execute(
        &store,
        "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, \
         expires_at) SELECT 'h1', id, 'c', 0, 0, 9999999999 FROM people \
         WHERE external_id = '2605693'",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ENT_Delta_20130118_Eleve_0000.xml",
        &delta(&format!(
            "<deleteRequest>{ELEVE}<identifier><id>2605693</id></identifier></deleteRequest>"
        )),
    );
    let report = import(&store, &[dir.path().to_path_buf()]).await;
    assert_eq!(report.counts["pupil"].deleted, 1);
    let state = "SELECT COUNT(*) FROM people WHERE external_id = '2605693' AND active = 0 \
                 AND deactivated_at IS NOT NULL";
    assert_eq!(count(&store, state).await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM people WHERE active = 1 AND profile = 'pupil'").await,
        641
    );
}

#[tokio::test]
async fn a_modify_of_an_unknown_id_is_rejected_and_the_others_applied() {
    let store = store::testing::store().await;
    import(&store, &[aaf("entcore-2013")]).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ENT_Delta_20130118_Eleve_0000.xml",
        &delta(&format!(
            "<modifyRequest>{ELEVE}<identifier><id>9999999</id></identifier><modifications>\
             <modification name=\"sn\" operation=\"replace\"><value>Personne</value>\
             </modification></modifications></modifyRequest>\n\
             <modifyRequest>{ELEVE}<identifier><id>2605692</id></identifier><modifications>\
             <modification name=\"givenName\" operation=\"replace\"><value>Zoé</value>\
             </modification></modifications></modifyRequest>"
        )),
    );
    let report = import(&store, &[dir.path().to_path_buf()]).await;
    assert_eq!(report.rejections.len(), 1);
    let rejection = &report.rejections[0];
    assert_eq!(rejection.record_id, "9999999");
    assert_eq!(rejection.file, "ENT_Delta_20130118_Eleve_0000.xml");
    assert_eq!(rejection.line, 3);
    assert!(rejection.reason.contains("inconnue"), "{}", rejection.reason);
    assert_eq!(report.counts["pupil"].rejected, 1);
    assert_eq!(report.counts["pupil"].updated, 1);
    assert!(report.has_problems());
    assert!(report.to_french_text().contains("enregistrement 9999999"));
    let stored = "SELECT COUNT(*) FROM import_rejections WHERE record_id = '9999999'";
    assert_eq!(count(&store, stored).await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM people WHERE external_id = '9999999'").await, 0);
}

#[tokio::test]
async fn mefs_are_written_and_deleted_subjects_removed() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    let mef = "<operationalAttributes><attr name=\"categorieMef\"><value>MefEducNat</value>\
               </attr></operationalAttributes>";
    write(
        dir.path(),
        "ENT_Complet_20240916_MefEducNat_0000.xml",
        &delta(&format!(
            "<addRequest>{mef}<identifier><id>10310019110</id></identifier><attributes>\
             <attr name=\"ENTMefJointure\"><value>10310019110</value></attr>\
             <attr name=\"ENTLibelleMef\"><value>3EME</value></attr>\
             <attr name=\"ENTNivFormation\"><value>3EME</value></attr></attributes></addRequest>"
        )),
    );
    copy_files("entcore-2013", "MatiereEducNat", dir.path());
    let first = import(&store, &[dir.path().to_path_buf()]).await;
    assert!(first.rejections.is_empty(), "{:?}", first.rejections);
    assert_eq!(first.counts["mef"].created, 1);
    let mefs = texts(&store, "SELECT code || ' ' || label || ' ' || level FROM mefs").await;
    assert_eq!(mefs, ["10310019110 3EME 3EME"]);

    let later = tempfile::tempdir().unwrap();
    write(
        later.path(),
        "ENT_Delta_20240917_MatiereEducNat_0000.xml",
        &delta(
            "<deleteRequest><operationalAttributes><attr name=\"categorieMatiere\">\
             <value>MatEducNat</value></attr></operationalAttributes>\
             <identifier><id>009800</id></identifier></deleteRequest>",
        ),
    );
    let second = import(&store, &[later.path().to_path_buf()]).await;
    assert_eq!(second.counts["subject"].deleted, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM subjects").await, 717);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM subjects WHERE code = '009800'").await, 0);
}
