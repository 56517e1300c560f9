//! Import runs exclude each other: while one is under way another is refused with a clear
//! reason, a run that died long ago stops blocking, and a finished run frees the way.

mod import_support;

use std::time::Duration;

use import_support::{copy_files, count};
use store::import::{ImportOptions, NoProgress, STALE_RUN_SECONDS};
use store::{StoreError, now_unix};

#[tokio::test]
async fn a_second_import_is_refused_while_one_is_under_way() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "EtabEducNat", dir.path());
    let dirs = [dir.path().to_path_buf()];
    store
        .fixture_execute(
            "INSERT INTO import_runs (id, started_at) VALUES ('running', CAST($1 AS BIGINT))",
            &[&now_unix().to_string()],
        )
        .await
        .unwrap_or_else(|_| panic!("insert a running run"));

    let refused = store.import_aaf(&dirs, &ImportOptions::default(), &NoProgress).await;

    match refused {
        Err(StoreError::Conflict(reason)) => assert!(reason.contains("en cours"), "{reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM schools").await, 0);
}

#[tokio::test]
async fn a_run_abandoned_long_ago_no_longer_blocks_and_finished_runs_never_do() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "EtabEducNat", dir.path());
    let dirs = [dir.path().to_path_buf()];
    let long_ago = now_unix() - STALE_RUN_SECONDS - 60;
    store
        .fixture_execute(
            "INSERT INTO import_runs (id, started_at) VALUES ('crashed', CAST($1 AS BIGINT))",
            &[&long_ago.to_string()],
        )
        .await
        .unwrap_or_else(|_| panic!("insert a crashed run"));
    let options = ImportOptions { grace_period: Duration::ZERO, ..ImportOptions::default() };

    store.import_aaf(&dirs, &options, &NoProgress).await.unwrap();
    store.import_aaf(&dirs, &options, &NoProgress).await.unwrap();

    assert_eq!(count(&store, "SELECT COUNT(*) FROM schools").await, 1);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM import_runs WHERE finished_at IS NULL").await,
        0
    );
}

#[tokio::test]
async fn a_run_alive_recently_blocks_and_an_interrupted_one_is_released_at_once() {
    let store = store::testing::store().await;
    let dir = tempfile::tempdir().unwrap();
    copy_files("entcore-2024", "EtabEducNat", dir.path());
    let dirs = [dir.path().to_path_buf()];
    let long_ago = now_unix() - STALE_RUN_SECONDS - 60;
    store
        .fixture_execute(
            "INSERT INTO import_runs (id, started_at, heartbeat_at) \
             VALUES ('slow', CAST($1 AS BIGINT), CAST($2 AS BIGINT))",
            &[&long_ago.to_string(), &now_unix().to_string()],
        )
        .await
        .unwrap_or_else(|_| panic!("insert a slow run"));

    let refused = store.import_aaf(&dirs, &ImportOptions::default(), &NoProgress).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");

    assert!(!store.abandon_import_run("another-run").await.unwrap());
    let refused_again = store.import_aaf(&dirs, &ImportOptions::default(), &NoProgress).await;
    assert!(matches!(refused_again, Err(StoreError::Conflict(_))), "{refused_again:?}");
    assert!(store.abandon_import_run("slow").await.unwrap());
    store.import_aaf(&dirs, &ImportOptions::default(), &NoProgress).await.unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM schools").await, 1);
}
