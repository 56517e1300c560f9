//! `parse_file_name` on the AAF naming pattern `<PREFIX>_<Complet|Delta>_<YYYYMMDD>_<Type>_<NNNN>.xml`:
//! prefixes with `_` and `-`, the six types, deltas, and the names that are not AAF files.

use formats::aaf::{Category, FileName, parse_file_name};

#[test]
fn a_prefix_may_hold_underscores_and_hyphens() {
    assert_eq!(
        parse_file_name("clean-FULL_ENTTSSERVICES_Complet_20130117_PersRelEleve_0033.xml"),
        Some(FileName {
            prefix: "clean-FULL_ENTTSSERVICES".into(),
            full: true,
            date: "20130117".into(),
            category: Category::Relative,
            chunk: 33,
        })
    );
    assert_eq!(
        parse_file_name("ENT2DVA-ENT16_Complet_20240916_PersEducNat_0000.xml"),
        Some(FileName {
            prefix: "ENT2DVA-ENT16".into(),
            full: true,
            date: "20240916".into(),
            category: Category::Staff,
            chunk: 0,
        })
    );
}

#[test]
fn every_type_maps_to_its_category_and_deltas_are_not_full() {
    for (file_type, category) in [
        ("EtabEducNat", Category::School),
        ("MatiereEducNat", Category::Subject),
        ("MefEducNat", Category::Mef),
        ("PersEducNat", Category::Staff),
        ("PersRelEleve", Category::Relative),
        ("Eleve", Category::Pupil),
    ] {
        let name = format!("ENT_0860001A_Delta_20260102_{file_type}_0012.xml");
        let parsed = parse_file_name(&name).unwrap();
        assert_eq!(parsed.category, category);
        assert_eq!(parsed.category.file_type(), file_type);
        assert!(!parsed.full);
        assert_eq!(parsed.chunk, 12);
        assert_eq!(parsed.prefix, "ENT_0860001A");
    }
}

#[test]
fn names_that_are_not_aaf_files_are_none() {
    for name in [
        "ficAlimMENESR.dtd",
        "README.md",
        "ENT_Complet_20200101_Eleve_0000.xml.bak",
        "ENT_Complet_20200101_Eleve_0000.txt",
        "ENT_Complet_20200101_Eleve_000.xml",
        "ENT_Complet_20200101_Eleve_00000.xml",
        "ENT_Complet_2020010_Eleve_0000.xml",
        "ENT_Complet_2020O101_Eleve_0000.xml",
        "ENT_Complet_20259999_Eleve_0000.xml",
        "ENT_Complet_20250230_Eleve_0000.xml",
        "ENT_Complet_20200101_Professeur_0000.xml",
        "ENT_Partiel_20200101_Eleve_0000.xml",
        "_Complet_20200101_Eleve_0000.xml",
        "Complet_20200101_Eleve_0000.xml",
        "../x_Complet_20200101_Eleve_0000.xml",
        "A B_Complet_20200101_Eleve_0000.xml",
        "ENT_Complet_20200101_Eleve_+123.xml",
        "",
    ] {
        assert_eq!(parse_file_name(name), None, "{name}");
    }
}
