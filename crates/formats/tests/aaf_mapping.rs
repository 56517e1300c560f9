//! `map_record` on attribute sets built in the test: required fields, names, dates, UAIs, every
//! `$`-separated attribute (right and wrong numbers of parts), the deprecated parent
//! attributes, de-duplication, and the exact French reason of each rejection.

use domain::profile::Profile;
use formats::aaf::{
    Attributes, Category, ClassMembership, Entity, Function, Mef, Pupil, Rejection, RelativeLink,
    School, Staff, StructureRef, Teaching, map_record,
};
use jiff::civil::date;

const FILE: &str = "TEST_Complet_20260101_Eleve_0000.xml";

fn attributes(pairs: &[(&str, &[&str])]) -> Attributes {
    pairs
        .iter()
        .map(|(name, values)| {
            ((*name).to_owned(), values.iter().map(|v| (*v).to_owned()).collect())
        })
        .collect()
}

fn person(extra: &[(&'static str, &'static [&'static str])]) -> Attributes {
    let mut all: Vec<(&str, &[&str])> =
        vec![("ENTPersonJointure", &["1234"]), ("sn", &["Dupont"]), ("givenName", &["Zoé"])];
    all.extend_from_slice(extra);
    attributes(&all)
}

fn reject(category: Category, attributes: &Attributes) -> String {
    let rejection = map_record(FILE, 12, category, "1234", attributes).unwrap_err();
    assert_eq!((rejection.file.as_str(), rejection.line), (FILE, 12));
    assert_eq!(rejection.record_id, "1234");
    rejection.reason
}

fn pupil(attributes: &Attributes) -> Pupil {
    match map_record(FILE, 12, Category::Pupil, "1234", attributes) {
        Ok(Entity::Pupil(pupil)) => pupil,
        other => panic!("{other:?}"),
    }
}

fn staff(attributes: &Attributes) -> Staff {
    match map_record(FILE, 12, Category::Staff, "1234", attributes) {
        Ok(Entity::Staff(staff)) => staff,
        other => panic!("{other:?}"),
    }
}

fn school(attributes: &Attributes) -> Result<School, Rejection> {
    match map_record(FILE, 3, Category::School, "43", attributes) {
        Ok(Entity::School(school)) => Ok(school),
        Ok(other) => panic!("{other:?}"),
        Err(rejection) => Err(rejection),
    }
}

fn structure(school: &str, code: &str) -> StructureRef {
    StructureRef { school: school.into(), code: code.into() }
}

#[test]
fn a_300_character_surname_is_rejected_naming_the_field() {
    let long = "A".repeat(300);
    let mut attrs = person(&[]);
    attrs.insert("sn".into(), vec![long]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ sn : trop long (300 caractères, maximum 100)"
    );
}

#[test]
fn a_bidi_control_in_a_first_name_is_rejected() {
    let mut attrs = person(&[]);
    attrs.insert("givenName".into(), vec!["Zo\u{202E}é".into()]);
    assert_eq!(
        reject(Category::Relative, &attrs),
        "champ givenName : contient un caractère de contrôle ou de direction de texte (U+202E)"
    );
}

#[test]
fn a_missing_or_empty_required_name_is_rejected() {
    let mut attrs = person(&[]);
    attrs.remove("sn");
    assert_eq!(reject(Category::Pupil, &attrs), "champ sn : valeur vide");
    attrs.insert("sn".into(), vec![]);
    assert_eq!(reject(Category::Staff, &attrs), "champ sn : valeur vide");
    let mut attrs = person(&[]);
    attrs.insert("givenName".into(), vec!["\u{200B}".into()]);
    assert!(reject(Category::Pupil, &attrs).starts_with("champ givenName : contient"));
}

#[test]
fn dollars_and_quotes_inside_a_name_are_kept() {
    let attrs = person(&[("sn", &["D'Artagnan \"$x$\""]), ("ENTPersonNomPatro", &["O'Neil$"])]);
    let pupil = pupil(&attrs);
    assert_eq!(pupil.identity.last_name.as_ref(), "D'Artagnan \"$x$\"");
    assert_eq!(pupil.identity.birth_name.as_ref().map(AsRef::as_ref), Some("O'Neil$"));
}

#[test]
fn a_bad_birth_date_is_rejected_and_an_empty_one_is_none() {
    let attrs = person(&[("ENTPersonDateNaissance", &["31/02/2010"])]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTPersonDateNaissance : date invalide « 31/02/2010 » (jj/mm/aaaa attendu)"
    );
    let attrs = person(&[("ENTPersonDateNaissance", &["2010-02-01"])]);
    assert!(reject(Category::Relative, &attrs).starts_with("champ ENTPersonDateNaissance"));
    let attrs = person(&[("ENTPersonDateNaissance", &[])]);
    assert_eq!(pupil(&attrs).identity.birth_date, None);
    let future = person(&[("ENTPersonDateNaissance", &["01/01/2999"])]);
    assert_eq!(
        reject(Category::Pupil, &future),
        "champ ENTPersonDateNaissance : date de naissance invraisemblable (01/01/2999)"
    );
    let ancient = person(&[("ENTPersonDateNaissance", &["31/12/1899"])]);
    assert!(reject(Category::Pupil, &ancient).ends_with("invraisemblable (31/12/1899)"));
}

#[test]
fn a_person_jointure_different_from_the_record_id_is_rejected() {
    let attrs = person(&[("ENTPersonJointure", &["9999"])]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTPersonJointure : « 9999 » différent de l'identifiant de l'enregistrement"
    );
    let mut attrs = person(&[]);
    attrs.remove("ENTPersonJointure");
    assert_eq!(pupil(&attrs).identity.jointure, "1234");
}

#[test]
fn an_empty_record_id_is_rejected() {
    let rejection = map_record(FILE, 5, Category::Pupil, "", &person(&[])).unwrap_err();
    assert_eq!(rejection.reason, "identifiant absent ou vide");
}

fn school_attributes(extra: &[(&'static str, &'static [&'static str])]) -> Attributes {
    let mut all: Vec<(&str, &[&str])> = vec![
        ("ENTStructureJointure", &["43"]),
        ("ENTStructureUAI", &["0860001a"]),
        ("ENTStructureNomCourant", &["CLG$JEAN MOULIN$POITIERS"]),
    ];
    all.extend_from_slice(extra);
    attributes(&all)
}

#[test]
fn a_school_takes_the_middle_of_a_three_part_name_and_an_upper_case_uai() {
    let college = school(&school_attributes(&[
        ("street", &["1 rue de la Paix$BP 12"]),
        ("postalCode", &["86000"]),
        ("l", &["POITIERS"]),
    ]))
    .unwrap();
    assert_eq!(college.uai, "0860001A");
    assert_eq!(college.name, "JEAN MOULIN");
    assert_eq!(college.address.lines, ["1 rue de la Paix", "BP 12"]);
    assert_eq!(college.address.postal_code.as_deref(), Some("86000"));

    let two_parts = school(&school_attributes(&[("ENTStructureNomCourant", &["CLG$X"])])).unwrap();
    assert_eq!(two_parts.name, "CLG$X");
    let four_parts =
        school(&school_attributes(&[("ENTStructureNomCourant", &["A$B$C$D"])])).unwrap();
    assert_eq!(four_parts.name, "A$B$C$D");
}

#[test]
fn a_school_falls_back_to_the_etablissement_uai() {
    let mut attrs = school_attributes(&[("ENTEtablissementUAI", &["0860002B"])]);
    attrs.remove("ENTStructureUAI");
    assert_eq!(school(&attrs).unwrap().uai, "0860002B");
}

#[test]
fn a_bad_or_missing_uai_rejects_the_school() {
    let reason =
        school(&school_attributes(&[("ENTStructureUAI", &["86001A"])])).unwrap_err().reason;
    assert_eq!(
        reason,
        "champ ENTStructureUAI : « 86001A » n'est pas un UAI (7 chiffres suivis d'une lettre)"
    );
    let mut attrs = school_attributes(&[]);
    attrs.remove("ENTStructureUAI");
    assert_eq!(school(&attrs).unwrap_err().reason, "champ ENTStructureUAI : absent ou vide");
}

#[test]
fn a_school_without_a_name_is_rejected() {
    let mut attrs = school_attributes(&[]);
    attrs.remove("ENTStructureNomCourant");
    assert_eq!(school(&attrs).unwrap_err().reason, "champ ENTStructureNomCourant : absent ou vide");
}

#[test]
fn a_mef_maps_its_code_label_and_level() {
    let attrs = attributes(&[
        ("ENTMefJointure", &["10310019110"]),
        ("ENTLibelleMef", &["3EME"]),
        ("ENTNivFormation", &["3EME"]),
    ]);
    let entity = map_record(FILE, 1, Category::Mef, "10310019110", &attrs).unwrap();
    assert_eq!(
        entity,
        Entity::Mef(Mef {
            code: "10310019110".into(),
            label: "3EME".into(),
            level: Some("3EME".into())
        })
    );
    let rejection = map_record(FILE, 1, Category::Mef, "10310019110", &Attributes::new());
    assert_eq!(rejection.unwrap_err().reason, "champ ENTLibelleMef : absent ou vide");
}

#[test]
fn a_teacher_has_functions_teachings_and_principal_classes() {
    let staff = staff(&person(&[
        ("ENTPersonStructRattach", &["43", "44", "43"]),
        (
            "ENTPersonFonctions",
            &[
                "43$ENS$ENSEIGNEMENT$L1700$EDUCATION MUSICALE",
                "44$DOC",
                "43$ENS$ENSEIGNEMENT$L1700$X",
            ],
        ),
        ("ENTAuxEnsClassesMatieres", &["43$3A$081300", "43$4B$", "43$3A$081300"]),
        ("ENTAuxEnsGroupesMatieres", &["44$G1$030201"]),
        ("ENTAuxEnsClassesPrincipal", &["43$3A"]),
    ]));
    assert_eq!(staff.profile, Profile::Teacher);
    assert_eq!(staff.schools, ["43", "44"]);
    assert_eq!(
        staff.functions,
        [
            Function {
                school: "43".into(),
                code: "ENS".into(),
                label: "ENSEIGNEMENT".into(),
                discipline_code: Some("L1700".into()),
                discipline_label: Some("EDUCATION MUSICALE".into()),
            },
            Function {
                school: "44".into(),
                code: "DOC".into(),
                label: String::new(),
                discipline_code: None,
                discipline_label: None,
            },
        ]
    );
    assert_eq!(
        staff.class_teachings,
        [
            Teaching { target: structure("43", "3A"), subject: Some("081300".into()) },
            Teaching { target: structure("43", "4B"), subject: None },
        ]
    );
    assert_eq!(
        staff.group_teachings,
        [Teaching { target: structure("44", "G1"), subject: Some("030201".into()) }]
    );
    assert_eq!(staff.principal_of, [structure("43", "3A")]);
}

#[test]
fn staff_attached_to_classes_without_a_subject_get_teachings_without_subject() {
    let staff = staff(&person(&[
        ("ENTPersonFonctions", &["43$EDU$EDUCATION"]),
        ("ENTAuxEnsClassesMatieres", &["43$3A$081300"]),
        ("ENTAuxEnsClasses", &["43$3A", "43$3B"]),
        ("ENTAuxEnsGroupes", &["43$G1"]),
    ]));
    assert_eq!(
        staff.class_teachings,
        [
            Teaching { target: structure("43", "3A"), subject: Some("081300".into()) },
            Teaching { target: structure("43", "3B"), subject: None },
        ]
    );
    assert_eq!(staff.group_teachings, [Teaching { target: structure("43", "G1"), subject: None }]);
}

#[test]
fn staff_without_a_teaching_function_is_staff() {
    let staff = staff(&person(&[("ENTPersonFonctions", &["43$DIR$DIRECTION", "43$EDU"])]));
    assert_eq!(staff.profile, Profile::Staff);
    let nobody = self::staff(&person(&[]));
    assert_eq!(nobody.profile, Profile::Staff);
    assert!(nobody.functions.is_empty());
}

#[test]
fn a_function_with_too_many_or_too_few_parts_is_rejected_with_its_position() {
    let attrs = person(&[("ENTPersonFonctions", &["43$ENS", "43$ENS$A$B$C$D"])]);
    assert_eq!(
        reject(Category::Staff, &attrs),
        "champ ENTPersonFonctions, valeur 2 : 6 parties séparées par « $ » au lieu de 2 à 5 \
         (« 43$ENS$A$B$C$D »)"
    );
    let attrs = person(&[("ENTPersonFonctions", &["43"])]);
    assert!(
        reject(Category::Staff, &attrs)
            .starts_with("champ ENTPersonFonctions, valeur 1 : 1 parties")
    );
    let attrs = person(&[("ENTPersonFonctions", &["$ENS"])]);
    assert_eq!(
        reject(Category::Staff, &attrs),
        "champ ENTPersonFonctions, valeur 1 : structure ou code de fonction vide"
    );
}

#[test]
fn a_principal_class_or_teaching_with_a_wrong_shape_is_rejected() {
    let attrs = person(&[("ENTAuxEnsClassesPrincipal", &["43$3A$X"])]);
    assert_eq!(
        reject(Category::Staff, &attrs),
        "champ ENTAuxEnsClassesPrincipal, valeur 1 : 3 parties séparées par « $ » au lieu de 2 \
         (« 43$3A$X »)"
    );
    let attrs = person(&[("ENTAuxEnsClassesMatieres", &["43$$081300"])]);
    assert_eq!(
        reject(Category::Staff, &attrs),
        "champ ENTAuxEnsClassesMatieres, valeur 1 : structure ou code vide"
    );
}

#[test]
fn a_pupil_joins_entry_and_exit_dates_to_its_classes() {
    let pupil = pupil(&person(&[
        ("ENTEleveClasses", &["52006$3A", "52006$3B", "52006$3A"]),
        ("ENTEleveDateEntreeClasses", &["52006$01/09/2025$3A", "52006$$3B", "99$01/01/2020$ZZ"]),
        ("ENTEleveDateSortieClasses", &["52006$15/01/2026$3A"]),
        ("ENTEleveGroupes", &["52006$G1", "52006$G2", "52006$G1"]),
        ("ENTPersonStructRattach", &["52006"]),
        ("ENTEleveINE", &["123456789AB"]),
    ]));
    assert_eq!(
        pupil.classes,
        [
            ClassMembership {
                class: structure("52006", "3A"),
                entry: Some(date(2025, 9, 1)),
                exit: Some(date(2026, 1, 15)),
            },
            ClassMembership { class: structure("52006", "3B"), entry: None, exit: None },
        ]
    );
    assert_eq!(pupil.groups, [structure("52006", "G1"), structure("52006", "G2")]);
    assert_eq!(pupil.ine.as_deref(), Some("123456789AB"));
}

#[test]
fn a_bad_class_entry_date_is_rejected_with_its_position() {
    let attrs = person(&[
        ("ENTEleveClasses", &["52006$3A"]),
        ("ENTEleveDateEntreeClasses", &["52006$01/09/2025$3A", "52006$32/09/2025$3A"]),
    ]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTEleveDateEntreeClasses, valeur 2 : date invalide « 32/09/2025 » (jj/mm/aaaa attendu)"
    );
    let attrs = person(&[("ENTEleveDateSortieClasses", &["52006$3A"])]);
    assert!(
        reject(Category::Pupil, &attrs)
            .starts_with("champ ENTEleveDateSortieClasses, valeur 1 : 2 parties")
    );
}

#[test]
fn a_class_without_its_school_is_rejected() {
    let attrs = person(&[("ENTEleveClasses", &["3A"])]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTEleveClasses, valeur 1 : 1 parties séparées par « $ » au lieu de 2 (« 3A »)"
    );
}

#[test]
fn relative_links_carry_their_flags_and_duplicates_are_dropped() {
    let pupil = pupil(&person(&[(
        "ENTElevePersRelEleve",
        &["2867253$2$1$1$0$0", "2867254$1$0$2$1$1", "2867253$2$0$0$0$0", "77$$$$$"],
    )]));
    assert_eq!(
        pupil.relatives,
        [
            RelativeLink {
                relative: "2867253".into(),
                kinship: Some("2".into()),
                financial: true,
                legal: 1,
                contact: false,
                payment: false,
            },
            RelativeLink {
                relative: "2867254".into(),
                kinship: Some("1".into()),
                financial: false,
                legal: 2,
                contact: true,
                payment: true,
            },
            RelativeLink {
                relative: "77".into(),
                kinship: None,
                financial: false,
                legal: 0,
                contact: false,
                payment: false,
            },
        ]
    );
}

#[test]
fn a_relative_link_with_a_wrong_shape_or_flag_is_rejected_with_its_position() {
    let attrs = person(&[("ENTElevePersRelEleve", &["1$2$1$1$0$0", "1$2$3$4"])]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTElevePersRelEleve, valeur 2 : 4 parties séparées par « $ » au lieu de 6 (« 1$2$3$4 »)"
    );
    let attrs = person(&[("ENTElevePersRelEleve", &["1$2$1$3$0$0"])]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTElevePersRelEleve, valeur 1 : responsabilité légale « 3 » invalide (0, 1 ou 2 attendu)"
    );
    let attrs = person(&[("ENTElevePersRelEleve", &["1$2$O$1$0$0"])]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTElevePersRelEleve, valeur 1 : indicateur financier « O » invalide (0 ou 1 attendu)"
    );
    let attrs = person(&[("ENTElevePersRelEleve", &["$2$1$1$0$0"])]);
    assert_eq!(
        reject(Category::Pupil, &attrs),
        "champ ENTElevePersRelEleve, valeur 1 : identifiant du responsable vide"
    );
}

#[test]
fn without_pers_rel_eleve_the_deprecated_parent_attributes_give_the_links() {
    let link = |relative: &str, legal: u8| RelativeLink {
        relative: relative.into(),
        kinship: None,
        financial: false,
        legal,
        contact: false,
        payment: false,
    };
    let pupil = pupil(&person(&[
        ("ENTElevePersRelEleve", &[]),
        ("ENTEleveAutoriteParentale", &["11", "12"]),
        ("ENTEleveParents", &["12", "13", "13"]),
    ]));
    assert_eq!(pupil.relatives, [link("11", 1), link("12", 1), link("13", 0)]);

    let modern = self::pupil(&person(&[
        ("ENTElevePersRelEleve", &["11$10$1$1$1$1"]),
        ("ENTEleveAutoriteParentale", &["99"]),
    ]));
    assert_eq!(modern.relatives.len(), 1);
    assert_eq!(modern.relatives[0].relative, "11");
}

#[test]
fn a_relative_maps_mobile_address_and_pupils() {
    let attrs = person(&[
        ("mobile", &[]),
        ("ENTPersonMobileSMS", &["0600000000"]),
        ("ENTPersonAdresse", &["3 rue Haute$$Bât. B$"]),
        ("ENTPersonCodePostal", &["86100"]),
        ("ENTPersonVille", &["CHÂTELLERAULT"]),
        ("ENTAuxPersRelEleveEleve", &["2605692", "2605693", "2605692"]),
    ]);
    match map_record(FILE, 1, Category::Relative, "1234", &attrs).unwrap() {
        Entity::Relative(relative) => {
            assert_eq!(relative.mobile.as_deref(), Some("0600000000"));
            assert_eq!(relative.address.lines, ["3 rue Haute", "Bât. B"]);
            assert_eq!(relative.address.city.as_deref(), Some("CHÂTELLERAULT"));
            assert_eq!(relative.pupils, ["2605692", "2605693"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_subject_needs_a_label() {
    let attrs = attributes(&[("ENTMatJointure", &["001400"])]);
    let rejection = map_record(FILE, 8, Category::Subject, "001400", &attrs).unwrap_err();
    assert_eq!(rejection.reason, "champ ENTLibelleMatiere : absent ou vide");
    assert_eq!(
        rejection.to_string(),
        format!(
            "{FILE}, ligne 8, enregistrement 001400 : champ ENTLibelleMatiere : absent ou vide"
        )
    );
}

#[test]
fn a_hostile_record_id_is_reported_with_its_control_characters_escaped() {
    let id = "P2\u{1b}[31m\u{202E}\u{85}x";
    let attrs = person(&[]);

    let rejection = map_record(FILE, 7, Category::Pupil, id, &attrs).unwrap_err();

    assert_eq!(rejection.record_id, "P2\\u{001B}[31m\\u{202E}\\u{0085}x");
    assert!(!rejection.to_string().chars().any(char::is_control));
}
