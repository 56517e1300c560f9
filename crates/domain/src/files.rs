//! The names attached files are shown and downloaded under (SECURITY.md §8 items 3 and 4): a
//! typed file name is reduced to a harmless display name (no path, no bidirectional or invisible
//! characters, no device name, a capped length, and the extension of the real content last), and
//! the `Content-Disposition` header of a download carries it per RFC 6266 and RFC 5987. Files are
//! stored under internal ids, never under these names.

use unicode_normalization::UnicodeNormalization;

/// Longest display name, in characters, extension included.
pub const MAX_DISPLAY_NAME_CHARS: usize = 120;

/// The name shown when nothing printable is left of the typed one.
const FALLBACK_STEM: &str = "fichier";

/// Device names Windows reserves whatever their extension (compared without case).
const RESERVED_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6",
    "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³", "CONIN$", "CONOUT$",
];

/// Extensions that name the same kind of content, so `photo.jpeg` is not renamed `.jpg`.
const SAME_EXTENSIONS: &[&[&str]] = &[&["jpg", "jpeg"], &["ogg", "oga"]];

/// Characters that change how the rest of a name displays without showing themselves.
fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{001F}'
        | '\u{007F}'..='\u{009F}'
        | '\u{00AD}'
        | '\u{061C}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// The name a file typed as `raw` is shown and downloaded under, given the extension of its real
/// content (`kind_extension`, e.g. "pdf"): only the last path segment (after `/` or `\`) is
/// kept, percent signs are left as typed (nothing is decoded), bidirectional controls,
/// zero-width and control characters go, surrounding dots and spaces are trimmed, a Windows
/// device name is prefixed with `_`, and the real extension ends the name (appended when the
/// typed one differs). At most `MAX_DISPLAY_NAME_CHARS` characters, cut in the stem.
pub fn display_name(raw: &str, kind_extension: &str) -> String {
    let visible = visible_name(raw);
    let name = visible.as_str();

    let extension = kind_extension.trim_start_matches('.').to_lowercase();
    let (stem, typed_extension) = split_extension(name);
    let (stem, extension) = match typed_extension {
        Some(typed) if same_extension(typed, &extension) => (stem, typed),
        _ => (name, extension.as_str()),
    };

    let mut stem = trim_name(stem).to_owned();
    if stem.is_empty() {
        stem = FALLBACK_STEM.to_owned();
    }
    let device = stem.split('.').next().unwrap_or_default().trim_end();
    if RESERVED_NAMES.iter().any(|reserved| reserved.eq_ignore_ascii_case(device)) {
        stem.insert(0, '_');
    }

    let suffix_chars = if extension.is_empty() { 0 } else { extension.chars().count() + 1 };
    let room = MAX_DISPLAY_NAME_CHARS.saturating_sub(suffix_chars).max(1);
    if stem.chars().count() > room {
        stem = stem.chars().take(room).collect();
        stem = trim_name(&stem).to_owned();
        if stem.is_empty() {
            stem = FALLBACK_STEM.to_owned();
        }
    }

    if extension.is_empty() { stem } else { format!("{stem}.{extension}") }
}

/// The extension of the name typed as `raw`, in lower case and without the dot, as
/// `display_name` reads it (path, invisible characters and surrounding dots or spaces removed);
/// empty when there is none. Upload checks compare it with the content's kind.
pub fn typed_extension(raw: &str) -> String {
    let visible = visible_name(raw);
    split_extension(&visible).1.map(str::to_lowercase).unwrap_or_default()
}

/// The last path segment of `raw`, without invisible characters, in NFC, trimmed.
fn visible_name(raw: &str) -> String {
    let last_segment = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let visible: String = last_segment.chars().filter(|&c| !is_hidden(c)).nfc().collect();
    trim_name(&visible).to_owned()
}

/// The stem and the extension after the last dot (a leading dot starts no extension).
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, typed)) if !stem.is_empty() => (stem, Some(typed)),
        _ => (name, None),
    }
}

fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c == '.' || c.is_whitespace())
}

fn same_extension(typed: &str, real: &str) -> bool {
    let typed = typed.to_lowercase();
    typed == real
        || SAME_EXTENSIONS
            .iter()
            .any(|group| group.contains(&typed.as_str()) && group.contains(&real))
}

/// The `Content-Disposition` value of a download named `name`: always `attachment` (never shown
/// inline), an ASCII `filename` for old clients (accents folded, quotes, backslashes, percent
/// signs and controls replaced by `_`) and the exact name as RFC 5987 `filename*`.
pub fn content_disposition(name: &str) -> String {
    let name: String = name.chars().filter(|&c| !is_hidden(c)).collect();
    let name = if name.trim().is_empty() { FALLBACK_STEM.to_owned() } else { name };

    let folded = deunicode::deunicode_with_tofu(&name, "_");
    let mut ascii: String = folded
        .chars()
        .map(|c| match c {
            ' '..='~' if !matches!(c, '"' | '\\' | '%') => c,
            _ => '_',
        })
        .collect();
    if ascii.trim().is_empty() {
        ascii = FALLBACK_STEM.to_owned();
    }

    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_right_to_left_override_cannot_hide_the_real_extension() {
        assert_eq!(display_name("devoir\u{202E}fdp.exe", "pdf"), "devoirfdp.exe.pdf");
        assert_eq!(display_name("devoir\u{202E}fdp.exe", ".PDF"), "devoirfdp.exe.pdf");
        assert_eq!(display_name("\u{2067}photo\u{2069}\u{200E}.png", "png"), "photo.png");
        for control in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{2066}', '\u{2068}'] {
            assert_eq!(display_name(&format!("a{control}b.pdf"), "pdf"), "ab.pdf");
        }
    }

    #[test]
    fn invisible_and_control_characters_are_removed() {
        assert_eq!(display_name("ré\u{200B}sumé\u{200D}\u{FEFF}.pdf", "pdf"), "résumé.pdf");
        assert_eq!(display_name("a\u{0000}b\u{0007}c\u{0085}d\u{009B}e.pdf", "pdf"), "abcde.pdf");
        assert_eq!(display_name("ligne\r\nContent-Type: x.pdf", "pdf"), "ligneContent-Type: x.pdf");
        assert_eq!(display_name("e\u{301}te\u{301}.pdf", "pdf"), "été.pdf");
    }

    #[test]
    fn paths_are_stripped_and_nothing_is_decoded() {
        assert_eq!(display_name("../../etc/passwd", "txt"), "passwd.txt");
        assert_eq!(display_name("..\\..\\win.ini", "txt"), "win.ini.txt");
        assert_eq!(display_name("/abs/path/devoir.pdf", "pdf"), "devoir.pdf");
        assert_eq!(display_name("C:\\Users\\élève\\devoir.pdf", "pdf"), "devoir.pdf");
        assert_eq!(display_name("%2e%2e%2fdevoir.pdf", "pdf"), "%2e%2e%2fdevoir.pdf");
        assert_eq!(display_name("a.pdf%00.exe", "pdf"), "a.pdf%00.exe.pdf");
        assert_eq!(display_name("a.pdf\u{0}.exe", "pdf"), "a.pdf.exe.pdf");
        assert_eq!(display_name("../../", "pdf"), "fichier.pdf");
        assert_eq!(display_name("..", "pdf"), "fichier.pdf");
        assert_eq!(display_name("", "pdf"), "fichier.pdf");
        assert_eq!(display_name("\u{202E}", "pdf"), "fichier.pdf");
    }

    #[test]
    fn dots_spaces_and_device_names_are_neutralised() {
        assert_eq!(display_name("  .cache. ", "txt"), "cache.txt");
        assert_eq!(display_name("devoir.pdf. . ", "pdf"), "devoir.pdf");
        assert_eq!(display_name(".pdf", "pdf"), "pdf.pdf");
        assert_eq!(display_name("CON", "txt"), "_CON.txt");
        assert_eq!(display_name("nul.txt", "txt"), "_nul.txt");
        assert_eq!(display_name("Com1.tar.pdf", "pdf"), "_Com1.tar.pdf");
        assert_eq!(display_name("LPT9 .pdf", "pdf"), "_LPT9.pdf");
        assert_eq!(display_name("console.pdf", "pdf"), "console.pdf");
        assert_eq!(display_name("CONTRAT.pdf", "pdf"), "CONTRAT.pdf");
    }

    #[test]
    fn the_real_extension_is_kept_or_forced() {
        assert_eq!(display_name("Devoir.PDF", "pdf"), "Devoir.PDF");
        assert_eq!(display_name("photo.jpeg", "jpg"), "photo.jpeg");
        assert_eq!(display_name("photo.JPG", "jpg"), "photo.JPG");
        assert_eq!(display_name("photo.png", "jpg"), "photo.png.jpg");
        assert_eq!(display_name("rapport", "odt"), "rapport.odt");
        assert_eq!(display_name("rapport.final", ""), "rapport.final");
        let long_extension = format!("a.{}", "x".repeat(1_000));
        assert_eq!(display_name(&long_extension, "").chars().count(), MAX_DISPLAY_NAME_CHARS);
    }

    #[test]
    fn long_names_are_capped_on_a_character_boundary_keeping_the_extension() {
        let long = "é".repeat(1_000) + ".pdf";
        let shown = display_name(&long, "pdf");
        assert_eq!(shown.chars().count(), MAX_DISPLAY_NAME_CHARS);
        assert!(shown.ends_with("éé.pdf"), "{shown}");

        let emoji = "\u{1F600}".repeat(500) + ".exe";
        let shown = display_name(&emoji, "pdf");
        assert_eq!(shown.chars().count(), MAX_DISPLAY_NAME_CHARS);
        assert!(shown.ends_with("\u{1F600}.pdf"), "{shown}");

        let bytes = "a".repeat(1_000);
        assert_eq!(display_name(&bytes, "pdf"), "a".repeat(116) + ".pdf");

        let cut_at_dots = "a".repeat(114) + " . . . . zzzz.pdf";
        assert_eq!(display_name(&cut_at_dots, "pdf"), "a".repeat(114) + ".pdf");
    }

    #[test]
    fn the_typed_extension_is_read_like_the_display_name() {
        assert_eq!(typed_extension("Devoir.PDF"), "pdf");
        assert_eq!(typed_extension("devoir\u{202E}fdp.exe"), "exe");
        assert_eq!(typed_extension("photo.pdf\u{200E} . "), "pdf");
        assert_eq!(typed_extension("C:\\dossier.v2\\rapport"), "");
        assert_eq!(typed_extension(".pdf"), "");
        assert_eq!(typed_extension(""), "");
    }

    #[test]
    fn content_disposition_follows_rfc_6266() {
        assert_eq!(
            content_disposition("devoir.pdf"),
            "attachment; filename=\"devoir.pdf\"; filename*=UTF-8''devoir.pdf"
        );
        assert_eq!(
            content_disposition("Résumé de l'été.pdf"),
            "attachment; filename=\"Resume de l'ete.pdf\"; \
             filename*=UTF-8''R%C3%A9sum%C3%A9%20de%20l%27%C3%A9t%C3%A9.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c%d;e.txt"),
            "attachment; filename=\"a_b_c_d;e.txt\"; filename*=UTF-8''a%22b%5Cc%25d%3Be.txt"
        );
        assert_eq!(
            content_disposition("x\r\nSet-Cookie: a=b"),
            "attachment; filename=\"xSet-Cookie: a=b\"; filename*=UTF-8''xSet-Cookie%3A%20a%3Db"
        );
        assert_eq!(
            content_disposition(""),
            "attachment; filename=\"fichier\"; filename*=UTF-8''fichier"
        );
        let value = content_disposition(&display_name("devoir\u{202E}fdp.exe", "pdf"));
        assert!(value.ends_with("filename*=UTF-8''devoirfdp.exe.pdf"), "{value}");
        assert!(value.is_ascii());
    }

    #[test]
    fn content_disposition_is_always_one_ascii_header_line() {
        for name in ["日本語.pdf", "\u{1F468}\u{200D}\u{1F469}.png", "\u{0}\u{7F}", "tab\there"]
        {
            let value = content_disposition(name);
            assert!(value.is_ascii(), "{value}");
            assert!(!value.chars().any(|c| c.is_ascii_control()), "{value:?}");
            assert!(value.starts_with("attachment; filename=\""), "{value}");
        }
    }
}
