//! Uploads against the allowlist (SECURITY.md §8 items 4 to 8): each accepted kind with its
//! extension, type confusion (markup renamed as an image, a mismatched extension, a
//! right-to-left override), zip slip, zip bombs and macro documents judged from a hand-built
//! central directory, image dimension bombs, and truncated or garbled input that must never panic.

use formats::attachment::{
    EMPTY, EXTENSION_MISMATCH, FileKind, IMAGE_TOO_LARGE, IMAGE_UNREADABLE, MACROS, MARKUP,
    NOT_ACCEPTED, OfficeOpenXmlKind, OpenDocumentKind, TEXT_NOT_UTF8, ZIP_ENCRYPTED, ZIP_TOO_LARGE,
    ZIP_TOO_MANY_ENTRIES, ZIP_UNSAFE_NAME, image_dimensions_ok, sniff,
};

// ---- Hand-built files -------------------------------------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// One zip entry: its data is written as is; `method` and `declared_size` may lie.
struct Entry<'a> {
    name: &'a [u8],
    data: &'a [u8],
    method: u16,
    declared_size: Option<u32>,
    encrypted: bool,
}

fn stored<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry { name: name.as_bytes(), data, method: 0, declared_size: None, encrypted: false }
}

/// A zip whose local headers and central directory say what the entries say.
fn zip(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let size = entry.declared_size.unwrap_or(u32::try_from(entry.data.len()).unwrap());
        let mut fixed = Vec::new();
        fixed.extend_from_slice(&20u16.to_le_bytes());
        fixed.extend_from_slice(&u16::from(entry.encrypted).to_le_bytes());
        fixed.extend_from_slice(&entry.method.to_le_bytes());
        fixed.extend_from_slice(&0u16.to_le_bytes());
        fixed.extend_from_slice(&0x21u16.to_le_bytes());
        fixed.extend_from_slice(&crc32(entry.data).to_le_bytes());
        fixed.extend_from_slice(&u32::try_from(entry.data.len()).unwrap().to_le_bytes());
        fixed.extend_from_slice(&size.to_le_bytes());
        fixed.extend_from_slice(&u16::try_from(entry.name.len()).unwrap().to_le_bytes());
        fixed.extend_from_slice(&0u16.to_le_bytes());

        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&fixed);
        out.extend_from_slice(entry.name);
        out.extend_from_slice(entry.data);

        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&fixed);
        central.extend_from_slice(&[0; 6]);
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(entry.name);
    }
    let count = u16::try_from(entries.len()).unwrap().to_le_bytes();
    let central_offset = u32::try_from(out.len()).unwrap();
    let central_size = u32::try_from(central.len()).unwrap();
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&count);
    out.extend_from_slice(&count);
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const CONTENT: &[u8] = b"<?xml version=\"1.0\"?><doc/>";

fn odf(mimetype: &str, extra: &[Entry<'_>]) -> Vec<u8> {
    let mut entries = vec![
        stored("mimetype", mimetype.as_bytes()),
        stored("content.xml", CONTENT),
        stored("META-INF/manifest.xml", CONTENT),
    ];
    entries.extend(extra.iter().map(|e| Entry { name: e.name, data: e.data, ..*e }));
    zip(&entries)
}

fn ooxml(main_part: &str, extra: &[Entry<'_>]) -> Vec<u8> {
    let mut entries = vec![
        stored("[Content_Types].xml", CONTENT),
        stored("_rels/.rels", CONTENT),
        stored(main_part, CONTENT),
    ];
    entries.extend(extra.iter().map(|e| Entry { name: e.name, data: e.data, ..*e }));
    zip(&entries)
}

fn docx_with(extra: &[Entry<'_>]) -> Vec<u8> {
    ooxml("word/document.xml", extra)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    out
}

fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    out.extend_from_slice(b"\xFF\xC0\0\x11\x08");
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(b"\x03\x01\x22\0\x02\x11\x01\x03\x11\x01\xFF\xD9");
    out
}

fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(b"\0\0\0;");
    out
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
    out.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    out.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    out
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()
}

fn iso_media(brand: &[u8; 4]) -> Vec<u8> {
    let mut out = b"\0\0\0\x18ftyp".to_vec();
    out.extend_from_slice(brand);
    out.extend_from_slice(b"\0\0\x02\0isommp41\0\0\0\x08free");
    out
}

fn ogg(codec_header: &[u8]) -> Vec<u8> {
    let mut out = b"OggS\0\x02".to_vec();
    out.extend_from_slice(&[0; 22]);
    out.extend_from_slice(codec_header);
    out.extend_from_slice(&[0; 16]);
    out
}

// ---- Accepted kinds ---------------------------------------------------------------------------

#[test]
fn every_allowlisted_kind_is_recognised_with_its_extension() {
    let cases: Vec<(Vec<u8>, &str, FileKind)> = vec![
        (pdf(), "Devoir de maths.PDF", FileKind::Pdf),
        (png(800, 600), "photo.png", FileKind::Png),
        (jpeg(1024, 768), "photo.JPG", FileKind::Jpeg),
        (jpeg(1024, 768), "photo.jpeg", FileKind::Jpeg),
        (gif(32, 32), "anim.gif", FileKind::Gif),
        (webp(640, 480), "image.webp", FileKind::Webp),
        ("Bonjour à tous\r\nligne 2\n".as_bytes().to_vec(), "notes.txt", FileKind::Text),
        (b"\xEF\xBB\xBFavec BOM".to_vec(), "bom.txt", FileKind::Text),
        (
            odf("application/vnd.oasis.opendocument.text", &[]),
            "rédaction.odt",
            FileKind::OpenDocument(OpenDocumentKind::Text),
        ),
        (
            odf("application/vnd.oasis.opendocument.spreadsheet", &[]),
            "notes.ods",
            FileKind::OpenDocument(OpenDocumentKind::Spreadsheet),
        ),
        (
            odf("application/vnd.oasis.opendocument.presentation", &[]),
            "exposé.odp",
            FileKind::OpenDocument(OpenDocumentKind::Presentation),
        ),
        (docx_with(&[]), "lettre.docx", FileKind::OfficeOpenXml(OfficeOpenXmlKind::Word)),
        (
            ooxml("xl/workbook.xml", &[]),
            "tableau.xlsx",
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Spreadsheet),
        ),
        (
            ooxml("ppt/presentation.xml", &[]),
            "diapos.pptx",
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Presentation),
        ),
        (b"ID3\x04\0\0\0\0\0\x0a\0\0\0\0\0\0\0\0\0\0".to_vec(), "chanson.mp3", FileKind::Mp3),
        (b"\xFF\xFB\x90\x64\0\0\0\0".to_vec(), "chanson.mp3", FileKind::Mp3),
        (iso_media(b"isom"), "video.mp4", FileKind::Mp4),
        (iso_media(b"M4A "), "podcast.m4a", FileKind::M4a),
        (iso_media(b"isom"), "podcast.m4a", FileKind::M4a),
        (ogg(b"\x01vorbis"), "son.ogg", FileKind::Ogg),
        (ogg(b"OpusHead\x01\x02"), "son.opus", FileKind::Opus),
        (ogg(b"OpusHead\x01\x02"), "son.oga", FileKind::Ogg),
    ];
    for (bytes, name, kind) in cases {
        assert_eq!(sniff(&bytes, name), Ok(kind), "{name}");
        assert!(kind.extensions().contains(&kind.extension()));
        assert!(!kind.content_type().is_empty());
    }
    assert!(FileKind::Png.is_image() && FileKind::Webp.is_image() && !FileKind::Pdf.is_image());
    assert_eq!(FileKind::Jpeg.extension(), "jpg");
    assert_eq!(FileKind::Text.content_type(), "text/plain; charset=utf-8");
}

#[test]
fn class_lists_and_calendars_are_accepted_as_text_under_their_own_type() {
    let csv = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/geo/colleges-rep-france.csv"
    ))
    .unwrap();
    assert_eq!(sniff(&csv, "colleges.csv"), Ok(FileKind::Csv));
    assert_eq!(FileKind::Csv.content_type(), "text/csv; charset=utf-8");
    let ics = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ical/calendars_pacific_fiji.ics"
    ))
    .unwrap();
    assert_eq!(sniff(&ics, "fidji.ics"), Ok(FileKind::Calendar));
    assert_eq!(sniff(b"nom;classe\n", "liste.ics"), Err(EXTENSION_MISMATCH), "not a calendar");
    assert_eq!(sniff(b"<html><script>x</script>", "liste.csv"), Err(MARKUP));
    assert_eq!(sniff(b"nom;pr\xe9nom\n", "liste.csv"), Err(TEXT_NOT_UTF8));
    assert_eq!(sniff(b"MZ\x90\x00binaire", "outil.exe"), Err(NOT_ACCEPTED));
}

#[test]
fn the_declared_name_must_agree_with_the_content() {
    assert_eq!(sniff(&png(10, 10), "photo.pdf"), Err(EXTENSION_MISMATCH));
    assert_eq!(sniff(&pdf(), "devoir\u{202E}fdp.exe"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(&pdf(), "devoir.pdf.exe"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(&pdf(), "devoir"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(&pdf(), ""), Err(NOT_ACCEPTED));
    assert_eq!(sniff(&pdf(), "../../etc/devoir.pdf"), Ok(FileKind::Pdf));
    assert_eq!(sniff(&pdf(), "C:\\Users\\élève\\devoir.pdf. . "), Ok(FileKind::Pdf));
    assert_eq!(sniff(&pdf(), "devoir.exe.pdf"), Ok(FileKind::Pdf));
    assert_eq!(sniff(&pdf(), "devoir.pdf\u{200E}"), Ok(FileKind::Pdf));
    assert_eq!(sniff(&pdf(), ".pdf"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(b"du texte", "notes.pdf"), Err(EXTENSION_MISMATCH));
    assert_eq!(sniff(&iso_media(b"isom"), "video.mov"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(&ogg(b"\x01vorbis"), "son.opus"), Err(EXTENSION_MISMATCH));
    let odt = odf("application/vnd.oasis.opendocument.text", &[]);
    assert_eq!(sniff(&odt, "lettre.docx"), Err(EXTENSION_MISMATCH));
    assert_eq!(sniff(&docx_with(&[]), "lettre.odt"), Err(EXTENSION_MISMATCH));
}

#[test]
fn markup_is_refused_whatever_its_name() {
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    for name in ["photo.jpg", "page.html", "page.htm", "notes.txt", "photo.png"] {
        assert_eq!(sniff(html, name), Err(MARKUP), "{name}");
    }
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>x</script></svg>"#;
    assert_eq!(sniff(svg, "dessin.svg"), Err(MARKUP));
    assert_eq!(sniff(svg, "dessin.png"), Err(MARKUP));
    let xml_svg = b"\xEF\xBB\xBF  <?xml version=\"1.0\"?>\n<svg/>";
    assert_eq!(sniff(xml_svg, "dessin.txt"), Err(MARKUP));
    assert_eq!(sniff(b"\n\n  <a href=x>clic</a>", "lien.txt"), Err(MARKUP));
}

#[test]
fn other_kinds_and_garbage_are_refused() {
    assert_eq!(sniff(b"", "vide.pdf"), Err(EMPTY));
    assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0", "jeu.exe"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0", "jeu.pdf"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", "a.txt"), Err(TEXT_NOT_UTF8));
    assert_eq!(sniff(b"\x1F\x8B\x08\0\0\0\0\0\0\x03", "a.gz"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0", "vieux.doc"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(&iso_media(b"heic"), "photo.mp4"), Err(NOT_ACCEPTED));

    let plain_zip = zip(&[stored("a.txt", b"bonjour")]);
    assert_eq!(sniff(&plain_zip, "archive.zip"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(&plain_zip, "archive.docx"), Err(NOT_ACCEPTED));
    let epub = odf("application/epub+zip", &[]);
    assert_eq!(sniff(&epub, "livre.odt"), Err(NOT_ACCEPTED));
    let template = odf("application/vnd.oasis.opendocument.text-template", &[]);
    assert_eq!(sniff(&template, "modele.odt"), Err(NOT_ACCEPTED));

    assert_eq!(sniff(b"caf\xE9 en latin-1", "notes.txt"), Err(TEXT_NOT_UTF8));
    assert_eq!(sniff(b"caf\xE9 en latin-1", "notes.pdf"), Err(NOT_ACCEPTED));
    assert_eq!(sniff(b"avec\0nul", "notes.txt"), Err(TEXT_NOT_UTF8));
    assert_eq!(sniff(b"\x1b[31mrouge", "notes.txt"), Err(TEXT_NOT_UTF8));
}

// ---- Zip containers ---------------------------------------------------------------------------

#[test]
fn zip_slip_names_are_refused() {
    for name in [
        "../../etc/passwd",
        "word/../../x",
        "..\\..\\win.ini",
        "/abs/path",
        "\\\\serveur\\partage",
        "C:/Windows/x",
        "..",
        "a\0b",
        "",
    ] {
        let docx = docx_with(&[Entry { name: name.as_bytes(), ..stored("x", b"x") }]);
        assert_eq!(sniff(&docx, "lettre.docx"), Err(ZIP_UNSAFE_NAME), "{name:?}");
    }
    let fine = docx_with(&[stored("word/media/..image1.png", b"x")]);
    assert!(sniff(&fine, "lettre.docx").is_ok());
}

#[test]
fn decompression_bombs_are_refused_from_the_declared_sizes() {
    let big = 201 * 1024 * 1024;
    let bomb = docx_with(&[Entry { method: 8, declared_size: Some(big), ..stored("a.xml", b"x") }]);
    assert_eq!(sniff(&bomb, "lettre.docx"), Err(ZIP_TOO_LARGE));

    let half = 110 * 1024 * 1024;
    let parts = docx_with(&[
        Entry { method: 8, declared_size: Some(half), ..stored("a.xml", b"x") },
        Entry { method: 8, declared_size: Some(half), ..stored("b.xml", b"y") },
    ]);
    assert_eq!(sniff(&parts, "lettre.docx"), Err(ZIP_TOO_LARGE));

    let max = 4_294_967_295;
    let many = (0..60).map(|n| format!("p{n}.xml")).collect::<Vec<_>>();
    let entries: Vec<_> = many
        .iter()
        .map(|name| Entry { method: 8, declared_size: Some(max), ..stored(name, b"z") })
        .collect();
    assert_eq!(sniff(&docx_with(&entries), "lettre.docx"), Err(ZIP_TOO_LARGE));

    let under =
        docx_with(&[Entry { method: 8, declared_size: Some(half), ..stored("a.xml", b"x") }]);
    assert!(sniff(&under, "lettre.docx").is_ok());
}

#[test]
fn entry_count_is_capped_at_ten_thousand() {
    let names: Vec<String> = (0..10_001).map(|n| format!("word/media/i{n}.bin")).collect();
    let entries: Vec<_> = names.iter().map(|name| stored(name, b"")).collect();
    assert_eq!(sniff(&docx_with(&entries), "lettre.docx"), Err(ZIP_TOO_MANY_ENTRIES));
    assert_eq!(
        sniff(&docx_with(&entries[..9_997]), "lettre.docx"),
        Ok(FileKind::OfficeOpenXml(OfficeOpenXmlKind::Word))
    );
}

#[test]
fn encrypted_and_macro_documents_are_refused() {
    let locked = docx_with(&[Entry { encrypted: true, ..stored("word/secret.xml", b"x") }]);
    assert_eq!(sniff(&locked, "lettre.docx"), Err(ZIP_ENCRYPTED));

    let macros = docx_with(&[stored("word/vbaProject.bin", b"x")]);
    assert_eq!(sniff(&macros, "lettre.docx"), Err(MACROS));
    let basic = odf(
        "application/vnd.oasis.opendocument.text",
        &[stored("Basic/Standard/Module1.xml", b"x")],
    );
    assert_eq!(sniff(&basic, "lettre.odt"), Err(MACROS));
}

#[test]
fn opendocument_requires_a_stored_mimetype_entry_first() {
    let deflated = zip(&[
        Entry { method: 8, ..stored("mimetype", b"application/vnd.oasis.opendocument.text") },
        stored("content.xml", CONTENT),
    ]);
    assert_eq!(sniff(&deflated, "lettre.odt"), Err(NOT_ACCEPTED));

    let second = zip(&[
        stored("content.xml", CONTENT),
        stored("mimetype", b"application/vnd.oasis.opendocument.text"),
    ]);
    assert_eq!(sniff(&second, "lettre.odt"), Err(NOT_ACCEPTED));

    let duplicate = zip(&[
        stored("mimetype", b"application/vnd.oasis.opendocument.text"),
        stored("mimetype", b"application/epub+zip"),
    ]);
    assert!(sniff(&duplicate, "lettre.odt").is_err());
}

// ---- Images -----------------------------------------------------------------------------------

#[test]
fn image_dimensions_are_capped_before_decoding() {
    assert!(image_dimensions_ok(&png(8_000, 5_000)));
    assert!(image_dimensions_ok(&png(10_000, 4_000)));
    assert!(!image_dimensions_ok(&png(100_000, 100_000)));
    assert!(!image_dimensions_ok(&png(10_000, 10_000)));
    assert!(!image_dimensions_ok(&png(10_001, 1)));
    assert!(!image_dimensions_ok(&png(0, 10)));
    assert!(!image_dimensions_ok(&jpeg(65_000, 65_000)));
    assert!(!image_dimensions_ok(&gif(65_535, 1_000)));
    assert!(!image_dimensions_ok(&webp(16_000, 16_000)));
    assert!(image_dimensions_ok(&jpeg(4_000, 3_000)));
    assert!(!image_dimensions_ok(b"\x89PNG\r\n\x1a\n"));
    assert!(!image_dimensions_ok(b""));

    assert_eq!(sniff(&png(100_000, 100_000), "bombe.png"), Err(IMAGE_TOO_LARGE));
    assert_eq!(sniff(&gif(60_000, 60_000), "bombe.gif"), Err(IMAGE_TOO_LARGE));
    assert_eq!(sniff(b"\x89PNG\r\n\x1a\n", "court.png"), Err(IMAGE_UNREADABLE));
}

// ---- Robustness -------------------------------------------------------------------------------

#[test]
fn truncated_and_garbled_input_never_panics() {
    let samples = [
        docx_with(&[]),
        odf("application/vnd.oasis.opendocument.text", &[]),
        png(10, 10),
        jpeg(10, 10),
        webp(10, 10),
        gif(10, 10),
        iso_media(b"isom"),
        ogg(b"OpusHead"),
        pdf(),
    ];
    for sample in &samples {
        for end in 0..=sample.len() {
            let _ = sniff(&sample[..end], "x.docx");
            let _ = sniff(&sample[..end], "x.png");
            let _ = image_dimensions_ok(&sample[..end]);
        }
    }

    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let base = docx_with(&[]);
    for _ in 0..2_000 {
        let mut garbled = base.clone();
        for _ in 0..4 {
            let at = usize::try_from(next() % garbled.len() as u64).unwrap();
            garbled[at] = next().to_le_bytes()[0];
        }
        let _ = sniff(&garbled, "x.docx");
    }
}
