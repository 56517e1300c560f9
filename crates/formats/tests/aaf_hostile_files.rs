//! The AAF reader on hostile and malformed files written to a temporary folder: DTDs and
//! entities, truncation, wrong encodings, unknown structures, and the records refused one by
//! one (unknown category, missing or duplicate id, unsupported modification). Each test asserts
//! the exact outcome: a `FileError` with its line and column, or the records and rejections.

use std::path::{Path, PathBuf};

use formats::aaf::{AafFile, Category, FileError, Operation, Rejection, map_record, read_file};
use tempfile::TempDir;

const PUPILS_2013: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/aaf/entcore-2013/FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml"
);

const SUBJECTS: &str = "TEST_Complet_20260101_MatiereEducNat_0000.xml";
const PUPILS: &str = "TEST_Complet_20260101_Eleve_0000.xml";

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_bytes(name: &str, bytes: &[u8]) -> Result<AafFile, FileError> {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, name, bytes);
    read_file(&path)
}

fn fail(name: &str, bytes: &[u8]) -> FileError {
    match read_bytes(name, bytes) {
        Ok(file) => panic!("read although it should not: {:?}", file.records),
        Err(error) => error,
    }
}

fn position(error: &FileError) -> (u32, u32) {
    (error.line, error.column)
}

/// A subject record.
fn subject(id: &str, label: &str) -> String {
    format!(
        "<addRequest>\n<operationalAttributes><attr name=\"categorieMatiere\"><value>MatEducNat</value></attr></operationalAttributes>\n\
         <identifier><id>{id}</id></identifier>\n<attributes>\n\
         <attr name=\"ENTMatJointure\"><value>{id}</value></attr>\n\
         <attr name=\"ENTLibelleMatiere\"><value>{label}</value></attr>\n</attributes>\n</addRequest>\n"
    )
}

fn document(prolog: &str, body: &str) -> String {
    format!("{prolog}<ficAlimMENESR>\n{body}</ficAlimMENESR>\n")
}

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                    <!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">\n";

#[test]
fn a_minimal_subject_file_reads_with_the_record_line() {
    let text = document(DECL, &subject("001400", "FRANCAIS"));
    let file = read_bytes(SUBJECTS, text.as_bytes()).unwrap();
    assert_eq!(file.records.len(), 1);
    assert_eq!(file.records[0].line, 4);
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["FRANCAIS"]);
}

#[test]
fn an_internal_dtd_subset_is_refused_at_its_doctype() {
    let prolog =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE ficAlimMENESR [<!ELEMENT ficAlimMENESR ANY>]>\n";
    let error = fail(SUBJECTS, document(prolog, &subject("1", "A")).as_bytes());
    assert_eq!(position(&error), (2, 1));
    assert!(error.reason.starts_with("DTD interne refusée"), "{}", error.reason);
}

#[test]
fn an_external_entity_is_never_resolved_nor_read() {
    let prolog = "<?xml version=\"1.0\"?>\n\
                  <!DOCTYPE ficAlimMENESR [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n";
    let bytes = document(prolog, &subject("1", "&xxe;"));
    let error = fail(SUBJECTS, bytes.as_bytes());
    assert_eq!(position(&error), (2, 1));
    assert!(error.reason.starts_with("DTD interne refusée"), "{}", error.reason);
    assert!(!error.to_string().contains("root:"));
}

#[test]
fn an_external_entity_without_a_doctype_is_an_undefined_reference() {
    let text = document(DECL, &subject("1", "&xxe;"));
    let error = fail(SUBJECTS, text.as_bytes());
    // Line 9 is `<attr name="ENTLibelleMatiere"><value>&xxe;</value></attr>`.
    assert_eq!(position(&error), (9, 39));
    assert!(error.reason.starts_with("référence à l'entité &xxe; refusée"), "{}", error.reason);
}

#[test]
fn the_billion_laughs_are_refused_at_once() {
    let mut prolog = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE ficAlimMENESR [\n");
    prolog.push_str("<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let previous = format!("&lol{};", i - 1).repeat(10);
        prolog.push_str(&format!("<!ENTITY lol{i} \"{previous}\">\n"));
    }
    prolog.push_str("]>\n");
    let error = fail(SUBJECTS, document(&prolog, &subject("1", "&lol9;")).as_bytes());
    assert_eq!(position(&error), (2, 1));
    assert!(error.reason.starts_with("DTD interne refusée"), "{}", error.reason);
}

#[test]
fn an_entity_in_an_xml_attribute_is_refused() {
    let text =
        document(DECL, &subject("1", "A").replace("name=\"ENTLibelleMatiere\"", "name=\"&xxe;\""));
    let error = fail(SUBJECTS, text.as_bytes());
    assert_eq!(position(&error), (9, 1));
    assert!(error.reason.contains("seules les 5 entités prédéfinies"), "{}", error.reason);
}

#[test]
fn predefined_entities_and_character_references_are_unescaped() {
    let label = "L&apos;A &amp; B &lt;C&gt; &quot;D&quot; &#233;&#xE8;";
    let file = read_bytes(SUBJECTS, document(DECL, &subject("1", label)).as_bytes()).unwrap();
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["L'A & B <C> \"D\" éè"]);
}

#[test]
fn a_truncated_real_file_fails_at_its_end_with_the_open_element() {
    let bytes = std::fs::read(PUPILS_2013).unwrap();
    let half = bytes.len() / 2;
    let cut = half + bytes[half..].windows(7).position(|w| w == b"</attr>").unwrap() + 7;
    let truncated = &bytes[..cut];
    let error = fail(PUPILS, truncated);

    let lines = truncated.iter().filter(|&&b| b == b'\n').count() + 1;
    let last_line = truncated.rsplit(|&b| b == b'\n').next().unwrap();
    let column = std::str::from_utf8(last_line).unwrap().chars().count() + 1;
    assert_eq!(position(&error), (u32::try_from(lines).unwrap(), u32::try_from(column).unwrap()));
    assert_eq!(error.reason, "fichier tronqué : élément <attributes> non fermé");
}

#[test]
fn a_real_file_cut_inside_a_tag_is_reported_as_truncated() {
    let bytes = std::fs::read(PUPILS_2013).unwrap();
    let half = bytes.len() / 2;
    let tag = half + bytes[half..].windows(10).position(|w| w == b"<attr name").unwrap();
    let truncated = &bytes[..tag + 8];
    let error = fail(PUPILS, truncated);

    let lines = truncated.iter().filter(|&&b| b == b'\n').count() + 1;
    assert_eq!(position(&error), (u32::try_from(lines).unwrap(), 1));
    assert_eq!(error.reason, "balise non fermée (fichier tronqué ?)");
}

#[test]
fn latin1_bytes_in_a_file_declared_utf8_are_located() {
    let text = document(DECL, &subject("1", "CAF\u{e9}"));
    let bytes = text.as_bytes();
    // Replace the UTF-8 `é` (C3 A9) by its Latin-1 byte E9.
    let at = bytes.windows(2).position(|w| w == [0xC3, 0xA9]).unwrap();
    let mut latin1 = bytes[..at].to_vec();
    latin1.push(0xE9);
    latin1.extend_from_slice(&bytes[at + 2..]);

    let error = fail(SUBJECTS, &latin1);
    assert_eq!(position(&error), (9, 42));
    assert_eq!(
        error.reason,
        "fichier déclaré UTF-8 mais l'octet 0xE9 n'est pas valide dans cet encodage"
    );
}

#[test]
fn a_file_declared_iso_8859_15_decodes_euro_oe_and_e_acute() {
    let prolog = "<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n\
                  <!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">\n";
    let mut bytes = document(prolog, &subject("1", "LABEL")).into_bytes();
    let at = bytes.windows(5).position(|w| w == b"LABEL").unwrap();
    bytes.splice(at..at + 5, [0xA4, b' ', 0xBD, 0xE9, b'l', b'e', b'v', 0xE8, b's']);
    let file = read_bytes(SUBJECTS, &bytes).unwrap();
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["€ œélevès"]);
}

#[test]
fn a_file_declared_windows_1252_or_latin1_decodes_its_bytes() {
    for (label, expected) in [("windows-1252", "œ"), ("ISO-8859-1", "\u{9c}"), ("latin1", "\u{9c}")]
    {
        let prolog = format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n");
        let mut bytes = document(&prolog, &subject("1", "X")).into_bytes();
        let at = bytes.windows(8).position(|w| w == b"<value>X").unwrap() + 7;
        bytes[at] = 0x9C;
        let file = read_bytes(SUBJECTS, &bytes).unwrap();
        assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], [expected], "{label}");
    }
}

#[test]
fn an_unknown_encoding_is_named_in_the_error() {
    let prolog = "<?xml version=\"1.0\" encoding=\"KOI8-R\"?>\n";
    let error = fail(SUBJECTS, document(prolog, &subject("1", "A")).as_bytes());
    assert_eq!(position(&error), (1, 1));
    assert_eq!(error.reason, "encodage inconnu déclaré : « KOI8-R »");
}

#[test]
fn a_file_without_declaration_is_read_as_utf8() {
    let prolog = "<!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">\n";
    let file =
        read_bytes(SUBJECTS, document(prolog, &subject("1", "ÉDUCATION")).as_bytes()).unwrap();
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["ÉDUCATION"]);
    assert_eq!(file.records[0].line, 3);

    let mut latin1 = document("", &subject("1", "X")).into_bytes();
    let at = latin1.windows(8).position(|w| w == b"<value>X").unwrap() + 7;
    latin1[at] = 0xC9;
    let error = fail(SUBJECTS, &latin1);
    assert_eq!(position(&error), (7, 39));
    assert!(
        error
            .reason
            .starts_with("fichier sans déclaration d'encodage, lu en UTF-8, mais l'octet 0xC9")
    );
}

#[test]
fn a_utf8_byte_order_mark_is_skipped() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(document(DECL, &subject("1", "Bérénice")).into_bytes());
    let file = read_bytes(SUBJECTS, &bytes).unwrap();
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["Bérénice"]);
    assert_eq!(file.records[0].line, 4);
}

#[test]
fn a_byte_order_mark_contradicting_the_declaration_is_refused() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n");
    bytes.extend(document("", &subject("1", "A")).into_bytes());
    let error = fail(SUBJECTS, &bytes);
    assert_eq!(
        error.reason,
        "marque d'ordre des octets UTF-8 mais encodage déclaré « ISO-8859-15 »"
    );
}

#[test]
fn crlf_line_ends_count_lines_and_never_reach_values() {
    let body = format!("{}{}", subject("1", "\r\n  ARTS\r\n  PLASTIQUES\r\n"), subject("2", "B"));
    let text = document(DECL, &body).replace('\n', "\r\n").replace("\r\r\n", "\r\n");
    let file = read_bytes(SUBJECTS, text.as_bytes()).unwrap();
    assert_eq!(file.records[0].line, 4);
    assert_eq!(file.records[1].line, 15);
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["ARTS\n  PLASTIQUES"]);
    let entity = map_record(SUBJECTS, 4, Category::Subject, "1", &file.records[0].attributes);
    match entity.unwrap() {
        formats::aaf::Entity::Subject(subject) => assert_eq!(subject.label, "ARTS PLASTIQUES"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_root_element_is_refused_by_name() {
    let text = format!("{DECL}<BEE_ELEVES>\n</BEE_ELEVES>\n");
    let error = fail(SUBJECTS, text.as_bytes());
    assert_eq!(position(&error), (3, 1));
    assert_eq!(
        error.reason,
        "structure inconnue : élément racine <BEE_ELEVES> (attendu <ficAlimMENESR>)"
    );
}

#[test]
fn an_unknown_top_level_element_is_refused() {
    let body = format!("{}  <replaceRequest/>\n", subject("1", "A"));
    let error = fail(SUBJECTS, document(DECL, &body).as_bytes());
    assert_eq!(position(&error), (12, 3));
    assert!(error.reason.starts_with("élément <replaceRequest> inattendu dans <ficAlimMENESR>"));
}

#[test]
fn an_empty_file_and_a_second_root_are_refused() {
    let error = fail(SUBJECTS, b"");
    assert_eq!(error.reason, "aucun élément racine <ficAlimMENESR> (fichier vide ?)");

    let text = format!("{}<ficAlimMENESR/>\n", document(DECL, ""));
    let error = fail(SUBJECTS, text.as_bytes());
    assert_eq!(position(&error), (5, 1));
    assert_eq!(error.reason, "élément <ficAlimMENESR> après l'élément racine");
}

#[test]
fn a_mismatched_end_tag_is_located() {
    let text = document(DECL, &subject("1", "A").replace("</attributes>", "</attribute>"));
    let error = fail(SUBJECTS, text.as_bytes());
    assert_eq!(error.line, 10);
    assert_eq!(error.reason, "balise fermante </attribute> au lieu de </attributes>");
}

#[test]
fn nesting_deeper_than_32_is_refused() {
    let deep = format!("{}x{}", "<value>".repeat(40), "</value>".repeat(40));
    let body = subject("1", "A").replace("<value>A</value>", &deep);
    let error = fail(SUBJECTS, document(DECL, &body).as_bytes());
    assert_eq!(error.line, 9);
    assert_eq!(error.reason, "imbrication trop profonde (plus de 32 niveaux)");
}

#[test]
fn a_file_whose_name_is_not_aaf_is_refused_without_reading() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "ficAlimMENESR.dtd", b"<!ELEMENT x ANY>");
    let error = read_file(&path).unwrap_err();
    assert_eq!(position(&error), (0, 0));
    assert!(error.reason.starts_with("nom de fichier non reconnu"));
}

#[test]
fn a_file_over_one_gibibyte_is_refused_before_reading() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join(SUBJECTS);
    let file = std::fs::File::create(&path).unwrap();
    file.set_len((1 << 30) + 1).unwrap();
    let error = read_file(&path).unwrap_err();
    assert_eq!(position(&error), (0, 0));
    assert_eq!(error.reason, "fichier trop gros (1073741825 octets, maximum 1073741824)");
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let error = read_file(Path::new("/nonexistent/TEST_Complet_20260101_Eleve_0000.xml"));
    let error = error.unwrap_err();
    assert_eq!(position(&error), (0, 0));
    assert_eq!(error.reason, "fichier introuvable");
}

fn rejection(line: u32, id: &str, reason: &str) -> Rejection {
    Rejection { file: SUBJECTS.into(), line, record_id: id.into(), reason: reason.into() }
}

#[test]
fn unknown_or_missing_categories_missing_ids_and_duplicates_are_rejected_alone() {
    let unknown = subject("2", "B").replace("MatEducNat", "Cantine");
    let no_category = subject("3", "C").replace(
        "<operationalAttributes><attr name=\"categorieMatiere\"><value>MatEducNat</value></attr></operationalAttributes>",
        "",
    );
    let no_id = subject("", "D");
    let blank_id = subject("   ", "E");
    let body = [
        subject("1", "A"),
        unknown,
        no_category,
        no_id,
        blank_id,
        subject("1", "F"),
        subject("6", "G"),
    ]
    .concat();
    let file = read_bytes(SUBJECTS, document(DECL, &body).as_bytes()).unwrap();

    let kept: Vec<(&str, u32)> = file.records.iter().map(|r| (r.id.as_str(), r.line)).collect();
    assert_eq!(kept, [("1", 4), ("6", 52)]);
    assert_eq!(
        file.rejections,
        [
            rejection(12, "2", "catégorie inconnue : « Cantine »"),
            rejection(20, "3", "catégorie absente (operationalAttributes)"),
            rejection(28, "", "identifiant (identifier/id) absent ou vide"),
            rejection(36, "", "identifiant (identifier/id) absent ou vide"),
            rejection(44, "1", "identifiant déjà présent ligne 4 de ce fichier"),
        ]
    );
}

#[test]
fn a_record_of_another_category_than_the_file_is_rejected() {
    let body = subject("1", "A").replace(
        "<attr name=\"categorieMatiere\"><value>MatEducNat</value>",
        "<attr name=\"categoriePersonne\"><value>Eleve</value>",
    );
    let file = read_bytes(SUBJECTS, document(DECL, &body).as_bytes()).unwrap();
    assert!(file.records.is_empty());
    assert_eq!(
        file.rejections,
        [rejection(4, "1", "catégorie Eleve dans un fichier MatiereEducNat")]
    );
}

#[test]
fn modify_and_delete_requests_are_read_and_unknown_operations_rejected() {
    let body = "<modifyRequest>\n\
          <operationalAttributes><attr name=\"categorieMatiere\"><value>MatiereEducNat</value></attr></operationalAttributes>\n\
          <identifier><id>7</id></identifier>\n\
          <modifications>\n\
          <modification name=\"ENTLibelleMatiere\" operation=\"replace\"><value>NOUVEAU</value></modification>\n\
          </modifications>\n</modifyRequest>\n\
          <modifyRequest>\n\
          <operationalAttributes><attr name=\"categorieMatiere\"><value>MatEducNat</value></attr></operationalAttributes>\n\
          <identifier><id>8</id></identifier>\n\
          <modifications>\n\
          <modification name=\"ENTLibelleMatiere\" operation=\"add\"><value>X</value></modification>\n\
          </modifications>\n</modifyRequest>\n\
          <deleteRequest>\n\
          <operationalAttributes><attr name=\"categorieMatiere\"><value>MatEducNat</value></attr></operationalAttributes>\n\
          <identifier><id>9</id></identifier>\n</deleteRequest>\n";
    let name = "TEST_Delta_20260102_MatiereEducNat_0000.xml";
    let file = read_bytes(name, document(DECL, body).as_bytes()).unwrap();
    assert!(!file.name.full);

    assert_eq!(file.records.len(), 2);
    assert_eq!(file.records[0].operation, Operation::Modify);
    assert_eq!(file.records[0].id, "7");
    assert_eq!(file.records[0].line, 4);
    assert_eq!(file.records[0].attributes.len(), 1);
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["NOUVEAU"]);
    assert_eq!(file.records[1].operation, Operation::Delete);
    assert_eq!(file.records[1].id, "9");
    assert!(file.records[1].attributes.is_empty());
    assert_eq!(
        file.rejections,
        [Rejection {
            file: name.into(),
            line: 11,
            record_id: "8".into(),
            reason: "modification « add » de l'attribut ENTLibelleMatiere non prise en charge \
                     (seule « replace » est connue)"
                .into(),
        }]
    );
}

#[test]
fn empty_values_are_dropped_and_multiple_values_kept_in_order() {
    let body = subject("1", "A").replace(
        "<attr name=\"ENTMatJointure\"><value>1</value></attr>",
        "<attr name=\"ENTMatJointure\"><value>1</value></attr>\n\
         <attr name=\"Vide\"><value/><value>  </value></attr>\n\
         <attr name=\"Liste\"><value> b </value><value/><value>a</value><value>b</value></attr>",
    );
    let file = read_bytes(SUBJECTS, document(DECL, &body).as_bytes()).unwrap();
    let attributes = &file.records[0].attributes;
    assert_eq!(attributes["Vide"], Vec::<String>::new());
    assert_eq!(attributes["Liste"], ["b", "a", "b"]);
}

#[test]
fn a_name_with_dollars_and_quotes_survives_reading_and_mapping() {
    let pupil = "<addRequest>\n\
        <operationalAttributes><attr name=\"categoriePersonne\"><value>Eleve</value></attr></operationalAttributes>\n\
        <identifier><id>42</id></identifier>\n<attributes>\n\
        <attr name=\"sn\"><value>D&apos;Artagnan &quot;$Bob$&quot;</value></attr>\n\
        <attr name=\"givenName\"><value>Zoé</value></attr>\n\
        </attributes>\n</addRequest>\n";
    let file = read_bytes(PUPILS, document(DECL, pupil).as_bytes()).unwrap();
    let record = &file.records[0];
    match map_record(PUPILS, record.line, record.category, &record.id, &record.attributes).unwrap()
    {
        formats::aaf::Entity::Pupil(pupil) => {
            assert_eq!(pupil.identity.last_name.as_ref(), "D'Artagnan \"$Bob$\"");
            assert_eq!(pupil.identity.first_name.as_ref(), "Zoé");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_300_character_name_in_a_file_rejects_only_its_record() {
    let long = "A".repeat(300);
    let make = |id: &str, name: &str| {
        format!(
            "<addRequest>\n\
             <operationalAttributes><attr name=\"categoriePersonne\"><value>Eleve</value></attr></operationalAttributes>\n\
             <identifier><id>{id}</id></identifier>\n<attributes>\n\
             <attr name=\"sn\"><value>{name}</value></attr>\n\
             <attr name=\"givenName\"><value>Léa</value></attr>\n\
             </attributes>\n</addRequest>\n"
        )
    };
    let body = [make("1", &long), make("2", "Martin")].concat();
    let file = read_bytes(PUPILS, document(DECL, &body).as_bytes()).unwrap();
    let outcomes: Vec<Result<_, Rejection>> = file
        .records
        .iter()
        .map(|r| map_record(PUPILS, r.line, r.category, &r.id, &r.attributes))
        .collect();
    assert_eq!(
        outcomes[0].as_ref().unwrap_err(),
        &Rejection {
            file: PUPILS.into(),
            line: 4,
            record_id: "1".into(),
            reason: "champ sn : trop long (300 caractères, maximum 100)".into(),
        }
    );
    assert!(outcomes[1].is_ok());
}

#[test]
fn an_entity_declaration_or_doctype_inside_the_root_is_refused() {
    let body = format!("<!ENTITY a \"b\">\n{}", subject("1", "A"));
    let error = fail(SUBJECTS, document(DECL, &body).as_bytes());
    assert_eq!(position(&error), (4, 1));
    assert_eq!(
        error.reason,
        "balise <! invalide (seuls les commentaires, CDATA et DOCTYPE sont admis)"
    );

    let body = format!("<!DOCTYPE ficAlimMENESR SYSTEM \"x.dtd\">\n{}", subject("1", "A"));
    let error = fail(SUBJECTS, document(DECL, &body).as_bytes());
    assert_eq!(position(&error), (4, 1));
    assert_eq!(error.reason, "DOCTYPE inattendu après le début du document");
}

#[test]
fn text_outside_the_root_is_refused() {
    let text = format!("{DECL}hello\n<ficAlimMENESR/>\n");
    let error = fail(SUBJECTS, text.as_bytes());
    assert_eq!(position(&error), (2, 52));
    assert_eq!(error.reason, "texte en dehors de l'élément racine");
}

#[test]
fn a_utf16_file_is_refused() {
    let error = fail(SUBJECTS, &[0xFF, 0xFE, b'<', 0]);
    assert_eq!(position(&error), (1, 1));
    assert!(error.reason.starts_with("fichier en UTF-16"));
}

#[test]
fn cdata_values_and_ids_with_character_references_are_read() {
    let body = subject("12", "<![CDATA[A & B <C>]]>").replace("<id>12</id>", "<id>&#49;2</id>");
    let file = read_bytes(SUBJECTS, document(DECL, &body).as_bytes()).unwrap();
    assert_eq!(file.records[0].id, "12");
    assert_eq!(file.records[0].attributes["ENTLibelleMatiere"], ["A & B <C>"]);
}

#[test]
fn the_version_header_comment_is_collected() {
    let text = format!(
        "{DECL}<ficAlimMENESR>\n<!-- versionAF=\"AAF-VE2407\" -->\n<!-- degre=\"2D\" -->\n{}</ficAlimMENESR>\n",
        subject("1", "A")
    );
    let file = read_bytes(SUBJECTS, text.as_bytes()).unwrap();
    assert_eq!(file.version.as_deref(), Some("AAF-VE2407"));
    assert_eq!(file.records[0].line, 6);
}

#[test]
fn an_entity_in_an_unread_xml_attribute_is_refused_too() {
    let text =
        document(DECL, &subject("1", "A").replace("<attributes>", "<attributes lang=\"&xxe;\">"));
    let error = fail(SUBJECTS, text.as_bytes());
    assert_eq!(position(&error), (7, 1));
    assert!(error.reason.starts_with("valeur de l'attribut XML lang invalide"), "{}", error.reason);

    let text =
        document(DECL, &subject("1", "A").replace("<attributes>", "<attributes a=\"1\" a=\"2\">"));
    let error = fail(SUBJECTS, text.as_bytes());
    assert_eq!(position(&error), (7, 1));
    assert_eq!(error.reason, "attribut XML mal formé");
}

#[test]
fn a_second_doctype_or_a_late_xml_declaration_is_refused() {
    let prolog = format!("{DECL}<!DOCTYPE ficAlimMENESR SYSTEM \"autre.dtd\">\n");
    let error = fail(SUBJECTS, document(&prolog, &subject("1", "A")).as_bytes());
    assert_eq!(position(&error), (3, 1));
    assert_eq!(error.reason, "DOCTYPE inattendu après le début du document");

    let prolog = format!("\n{DECL}");
    let error = fail(SUBJECTS, document(&prolog, &subject("1", "A")).as_bytes());
    assert_eq!(position(&error), (2, 1));
    assert_eq!(error.reason, "déclaration XML ailleurs qu'au début du fichier");
}
