//! A school's time zone comes from its UAI: an overseas collège keeps its own "today".

mod import_support;

use import_support::{import, read, texts, write};

const ETAB: &str = "ENT2DVA-ENT16_Complet_20240916_EtabEducNat_0000.xml";

#[tokio::test]
async fn a_collège_of_la_réunion_lives_in_its_own_time_zone_and_one_of_paris_in_paris() {
    let store = store::testing::store().await;
    let metropolitan = tempfile::tempdir().unwrap();
    write(metropolitan.path(), ETAB, &read("entcore-2024", ETAB));
    let overseas = tempfile::tempdir().unwrap();
    let text = read("entcore-2024", ETAB)
        .replace("0123456A", "9740001A")
        .replace("<id>43</id>", "<id>97443</id>")
        .replace("<value>43</value>", "<value>97443</value>");
    write(overseas.path(), ETAB, &text);

    import(&store, &[metropolitan.path().to_path_buf()]).await;
    import(&store, &[overseas.path().to_path_buf()]).await;

    let zones = texts(&store, "SELECT uai || ' ' || time_zone FROM schools ORDER BY uai").await;
    assert_eq!(zones, ["0123456A Europe/Paris", "9740001A Indian/Reunion"]);
}
