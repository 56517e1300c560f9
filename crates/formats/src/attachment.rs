//! What an uploaded file really is (ASVS 5.2.2, SECURITY.md §8 items 5, 6 and 8): `sniff` reads
//! the content's signature, accepts only the kinds of an allowlist, and requires the declared
//! extension to agree with it, so HTML or SVG renamed `.jpg` is refused. Zip-based documents
//! (OpenDocument, Office Open XML) are judged from their central directory alone, nothing is
//! extracted: entry count, declared uncompressed size, entry names and macros are checked first.
//! Images must declare dimensions under a cap before anything decodes them. Every refusal is a
//! French sentence meant for the person who uploaded the file.

use std::io::{Cursor, Read};

use zip::{CompressionMethod, ZipArchive};

/// Most entries a zip-based document may list.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// Most bytes a zip-based document's entries may declare once uncompressed (200 Mo).
pub const MAX_ZIP_UNCOMPRESSED_BYTES: u64 = 200 * 1024 * 1024;
/// Widest or tallest image accepted, in pixels.
pub const MAX_IMAGE_SIDE: usize = 10_000;
/// Largest image accepted, in pixels (40 mégapixels).
pub const MAX_IMAGE_PIXELS: usize = 40_000_000;

pub const EMPTY: &str = "Le fichier est vide.";
pub const NOT_ACCEPTED: &str = "Type de fichier non accepté : seuls les documents PDF, texte \
    (.txt, .csv, .ics), OpenDocument (.odt, .ods, .odp) et Office (.docx, .xlsx, .pptx), les images PNG, JPEG, GIF \
    et WebP, et les sons ou vidéos MP3, MP4, M4A et Ogg sont acceptés.";
pub const EXTENSION_MISMATCH: &str = "Type de fichier non accepté : l'extension du nom du \
    fichier ne correspond pas à son contenu.";
pub const MARKUP: &str = "Type de fichier non accepté : les pages HTML, les images SVG et les \
    fichiers XML ne sont pas acceptés.";
pub const TEXT_NOT_UTF8: &str = "Type de fichier non accepté : un fichier texte doit être \
    encodé en UTF-8 et ne contenir aucun caractère de contrôle.";
pub const ZIP_TOO_MANY_ENTRIES: &str = "Type de fichier non accepté : le document contient plus \
    de 10 000 fichiers.";
pub const ZIP_TOO_LARGE: &str = "Type de fichier non accepté : le document dépasserait 200 Mo \
    une fois décompressé.";
pub const ZIP_UNSAFE_NAME: &str = "Type de fichier non accepté : le document contient un chemin \
    de fichier dangereux.";
pub const ZIP_ENCRYPTED: &str = "Type de fichier non accepté : le document est chiffré.";
pub const ZIP_UNREADABLE: &str = "Type de fichier non accepté : le document est endommagé ou \
    illisible.";
pub const MACROS: &str = "Type de fichier non accepté : les documents contenant des macros ne \
    sont pas acceptés.";
pub const IMAGE_TOO_LARGE: &str = "Image non acceptée : elle dépasse 10 000 pixels de côté ou 40 \
    mégapixels.";
pub const IMAGE_UNREADABLE: &str = "Image non acceptée : ses dimensions sont illisibles.";

/// The three OpenDocument kinds accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenDocumentKind {
    Text,
    Spreadsheet,
    Presentation,
}

/// The three Office Open XML kinds accepted (macro-free).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfficeOpenXmlKind {
    Word,
    Spreadsheet,
    Presentation,
}

/// An accepted kind of file, as its content shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Webp,
    /// UTF-8 text without NUL or other control characters, and not markup.
    Text,
    /// Comma- or semicolon-separated values (a class list): UTF-8 text named `.csv`.
    Csv,
    /// An iCalendar file (RFC 5545): UTF-8 text named `.ics` that begins `BEGIN:VCALENDAR`.
    Calendar,
    OpenDocument(OpenDocumentKind),
    OfficeOpenXml(OfficeOpenXmlKind),
    Mp3,
    /// An ISO media file named `.mp4`.
    Mp4,
    /// An ISO media file named `.m4a`.
    M4a,
    /// An Ogg stream named `.ogg` or `.oga`.
    Ogg,
    /// An Ogg stream of Opus audio named `.opus`.
    Opus,
}

impl FileKind {
    /// The media type a download of this kind is served with.
    pub fn content_type(&self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Text => "text/plain; charset=utf-8",
            FileKind::Csv => "text/csv; charset=utf-8",
            FileKind::Calendar => "text/calendar; charset=utf-8",
            FileKind::OpenDocument(OpenDocumentKind::Text) => {
                "application/vnd.oasis.opendocument.text"
            }
            FileKind::OpenDocument(OpenDocumentKind::Spreadsheet) => {
                "application/vnd.oasis.opendocument.spreadsheet"
            }
            FileKind::OpenDocument(OpenDocumentKind::Presentation) => {
                "application/vnd.oasis.opendocument.presentation"
            }
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Word) => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Spreadsheet) => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Presentation) => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Mp3 => "audio/mpeg",
            FileKind::Mp4 => "video/mp4",
            FileKind::M4a => "audio/mp4",
            FileKind::Ogg | FileKind::Opus => "audio/ogg",
        }
    }

    /// The extension a file of this kind is shown with (lower case, without the dot).
    pub fn extension(&self) -> &'static str {
        self.extensions()[0]
    }

    /// Every extension a declared name of this kind may end with; the first is the usual one.
    pub fn extensions(&self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Png => &["png"],
            FileKind::Jpeg => &["jpg", "jpeg"],
            FileKind::Gif => &["gif"],
            FileKind::Webp => &["webp"],
            FileKind::Text => &["txt"],
            FileKind::Csv => &["csv"],
            FileKind::Calendar => &["ics"],
            FileKind::OpenDocument(OpenDocumentKind::Text) => &["odt"],
            FileKind::OpenDocument(OpenDocumentKind::Spreadsheet) => &["ods"],
            FileKind::OpenDocument(OpenDocumentKind::Presentation) => &["odp"],
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Word) => &["docx"],
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Spreadsheet) => &["xlsx"],
            FileKind::OfficeOpenXml(OfficeOpenXmlKind::Presentation) => &["pptx"],
            FileKind::Mp3 => &["mp3"],
            FileKind::Mp4 => &["mp4"],
            FileKind::M4a => &["m4a"],
            FileKind::Ogg => &["ogg", "oga"],
            FileKind::Opus => &["opus"],
        }
    }

    pub fn is_image(&self) -> bool {
        matches!(self, FileKind::Png | FileKind::Jpeg | FileKind::Gif | FileKind::Webp)
    }
}

/// The kind of `bytes`, when it is on the allowlist, its structure passes the checks, and the
/// extension of `declared_name` (read by `domain::files::typed_extension`, like the name shown)
/// is one of that kind's. Otherwise a French reason.
pub fn sniff(bytes: &[u8], declared_name: &str) -> Result<FileKind, &'static str> {
    if bytes.is_empty() {
        return Err(EMPTY);
    }

    let extension = domain::files::typed_extension(declared_name);
    let content = content_kind(bytes).map_err(|reason| match reason {
        TEXT_NOT_UTF8 if !matches!(extension.as_str(), "txt" | "csv" | "ics") => NOT_ACCEPTED,
        reason => reason,
    })?;

    let kind = match (content, extension.as_str()) {
        (Content::Kind(FileKind::Text), "csv") => FileKind::Csv,
        (Content::Kind(FileKind::Text), "ics") if is_calendar(bytes) => FileKind::Calendar,
        (Content::IsoMedia, "mp4") => FileKind::Mp4,
        (Content::IsoMedia, "m4a") => FileKind::M4a,
        (Content::Ogg { .. }, "ogg" | "oga") => FileKind::Ogg,
        (Content::Ogg { opus: true }, "opus") => FileKind::Opus,
        (Content::Kind(kind), extension) if kind.extensions().contains(&extension) => kind,
        // A name that no accepted kind uses: the type is the problem, not a disguise.
        _ if !ACCEPTED_EXTENSIONS.contains(&extension.as_str()) => return Err(NOT_ACCEPTED),
        _ => return Err(EXTENSION_MISMATCH),
    };

    if kind.is_image() && !image_dimensions_ok(bytes) {
        return Err(match imagesize::blob_size(bytes) {
            Ok(_) => IMAGE_TOO_LARGE,
            Err(_) => IMAGE_UNREADABLE,
        });
    }
    Ok(kind)
}

/// Every extension an accepted file may be named with.
const ACCEPTED_EXTENSIONS: &[&str] = &[
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "csv", "ics", "odt", "ods", "odp", "docx",
    "xlsx", "pptx", "mp3", "mp4", "m4a", "ogg", "oga", "opus",
];

/// Whether UTF-8 text is an iCalendar stream (after an optional byte-order mark and blanks).
fn is_calendar(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[start..].len() >= 15 && bytes[start..start + 15].eq_ignore_ascii_case(b"BEGIN:VCALENDAR")
}

/// Whether the dimensions an image declares in its header are readable and within
/// `MAX_IMAGE_SIDE` and `MAX_IMAGE_PIXELS`; nothing is decoded.
pub fn image_dimensions_ok(bytes: &[u8]) -> bool {
    let Ok(size) = imagesize::blob_size(bytes) else { return false };
    size.width > 0
        && size.height > 0
        && size.width <= MAX_IMAGE_SIDE
        && size.height <= MAX_IMAGE_SIDE
        && size.width.saturating_mul(size.height) <= MAX_IMAGE_PIXELS
}

/// What the content alone says, before the declared name picks among compatible kinds.
#[derive(Clone, Copy)]
enum Content {
    Kind(FileKind),
    /// An ISO base media file (MP4 family): `.mp4` or `.m4a` by its name.
    IsoMedia,
    /// An Ogg stream: `.ogg`/`.oga`, or `.opus` when it carries Opus.
    Ogg {
        opus: bool,
    },
}

fn content_kind(bytes: &[u8]) -> Result<Content, &'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        return zip_document(bytes).map(Content::Kind);
    }

    let Some(found) = infer::get(bytes) else { return text(bytes) };
    let kind = match found.mime_type() {
        "application/pdf" if bytes.starts_with(b"%PDF-") => FileKind::Pdf,
        "image/png" if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => FileKind::Png,
        "image/jpeg" => FileKind::Jpeg,
        "image/gif" if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") => {
            FileKind::Gif
        }
        "image/webp" if bytes.starts_with(b"RIFF") => FileKind::Webp,
        "audio/mpeg" => FileKind::Mp3,
        "video/mp4" | "audio/m4a" => return Ok(Content::IsoMedia),
        "audio/ogg" => return Ok(Content::Ogg { opus: false }),
        "audio/opus" => return Ok(Content::Ogg { opus: true }),
        _ if found.matcher_type() == infer::MatcherType::Text => return text(bytes),
        _ => return Err(NOT_ACCEPTED),
    };
    Ok(Content::Kind(kind))
}

/// Plain text: UTF-8 (an initial byte-order mark is allowed), no NUL or other control
/// character but tab, line feed, carriage return and form feed, and not markup a browser or an
/// image viewer would interpret.
fn text(bytes: &[u8]) -> Result<Content, &'static str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else { return Err(TEXT_NOT_UTF8) };

    let control = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C');
    if text.contains(control) {
        return Err(TEXT_NOT_UTF8);
    }
    if text.trim_start().starts_with('<') || infer::text::is_html(bytes) {
        return Err(MARKUP);
    }
    Ok(Content::Kind(FileKind::Text))
}

/// An OpenDocument or Office Open XML file, judged from the zip central directory: nothing is
/// decompressed (only the stored `mimetype` entry of an OpenDocument file is read).
fn zip_document(bytes: &[u8]) -> Result<FileKind, &'static str> {
    // Every central directory entry starts with this signature, so counting it bounds the
    // entries before the zip reader allocates one record per entry.
    if memchr::memmem::find_iter(bytes, b"PK\x01\x02").count() > MAX_ZIP_ENTRIES {
        return Err(ZIP_TOO_MANY_ENTRIES);
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| ZIP_UNREADABLE)?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(ZIP_TOO_MANY_ENTRIES);
    }
    if archive.has_duplicate_names() {
        return Err(ZIP_UNREADABLE);
    }

    let metadata = archive.metadata();
    let mut names = Vec::with_capacity(metadata.len());
    let mut total: u64 = 0;
    for index in 0..metadata.len() {
        let entry = metadata.entry(index).map_err(|_| ZIP_UNREADABLE)?;
        let name = entry.name_raw();
        if !safe_entry_name(name) {
            return Err(ZIP_UNSAFE_NAME);
        }
        if entry.encrypted() {
            return Err(ZIP_ENCRYPTED);
        }
        total = total.checked_add(entry.size()).ok_or(ZIP_TOO_LARGE)?;
        if total > MAX_ZIP_UNCOMPRESSED_BYTES {
            return Err(ZIP_TOO_LARGE);
        }
        names.push(String::from_utf8_lossy(name).to_ascii_lowercase());
    }

    let macros = names.iter().any(|name| {
        name.ends_with("vbaproject.bin")
            || name.starts_with("basic/")
            || name.starts_with("scripts/")
    });
    if macros {
        return Err(MACROS);
    }

    let first = metadata.entry(0).map_err(|_| NOT_ACCEPTED)?;
    if first.name_raw() == b"mimetype" {
        if first.compression() != CompressionMethod::Stored
            || first.header_start() != 0
            || first.size() > 100
        {
            return Err(NOT_ACCEPTED);
        }
        let mut declared = Vec::new();
        let entry = archive.by_index(0).map_err(|_| ZIP_UNREADABLE)?;
        entry.take(100).read_to_end(&mut declared).map_err(|_| ZIP_UNREADABLE)?;
        let kind = match declared.as_slice() {
            b"application/vnd.oasis.opendocument.text" => OpenDocumentKind::Text,
            b"application/vnd.oasis.opendocument.spreadsheet" => OpenDocumentKind::Spreadsheet,
            b"application/vnd.oasis.opendocument.presentation" => OpenDocumentKind::Presentation,
            _ => return Err(NOT_ACCEPTED),
        };
        return Ok(FileKind::OpenDocument(kind));
    }

    if !names.iter().any(|name| name == "[content_types].xml") {
        return Err(NOT_ACCEPTED);
    }
    let has = |part: &str| names.iter().any(|name| name == part);
    let kind = if has("word/document.xml") {
        OfficeOpenXmlKind::Word
    } else if has("xl/workbook.xml") {
        OfficeOpenXmlKind::Spreadsheet
    } else if has("ppt/presentation.xml") {
        OfficeOpenXmlKind::Presentation
    } else {
        return Err(NOT_ACCEPTED);
    };
    Ok(FileKind::OfficeOpenXml(kind))
}

/// A zip entry name that stays inside the archive: not empty, relative (no leading slash or
/// backslash, no drive letter or other colon), no `..` component, no NUL.
fn safe_entry_name(name: &[u8]) -> bool {
    !name.is_empty()
        && !name.starts_with(b"/")
        && !name.starts_with(b"\\")
        && !name.contains(&b':')
        && !name.contains(&0)
        && !name.split(|&b| b == b'/' || b == b'\\').any(|part| part == b"..")
}
