//! Opening a store migrates it, on whichever backend the test run uses.

#[tokio::test]
async fn a_fresh_store_is_migrated_and_answers() {
    let store = store::testing::store().await;
    assert!(store.ping().await);
}
