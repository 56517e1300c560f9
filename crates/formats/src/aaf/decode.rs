//! From a file's bytes to text: the UTF-8 byte order mark, the encoding named by the XML
//! declaration (UTF-8, ISO-8859-15, ISO-8859-1, Windows-1252, US-ASCII), and the position of
//! the first byte that the declared encoding cannot read. Also the byte-offset to line and
//! column conversion the XML reader uses for its messages.

use memchr::memchr_iter;

/// The encodings an AAF file may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
    Latin9,
    Windows1252,
}

impl Charset {
    fn from_label(label: &str) -> Option<Charset> {
        let upper = label.trim().to_ascii_uppercase();
        match upper.as_str() {
            "UTF-8" | "UTF8" => Some(Charset::Utf8),
            "US-ASCII" | "ASCII" => Some(Charset::Ascii),
            "ISO-8859-1" | "ISO8859-1" | "ISO_8859-1" | "LATIN1" | "LATIN-1" | "L1" => {
                Some(Charset::Latin1)
            }
            "ISO-8859-15" | "ISO8859-15" | "ISO_8859-15" | "LATIN9" | "LATIN-9" => {
                Some(Charset::Latin9)
            }
            "WINDOWS-1252" | "CP1252" => Some(Charset::Windows1252),
            _ => None,
        }
    }
}

/// Why the file could not be read as text or as XML, with the position (line and column from 1;
/// `0, 0` when the problem is not at a position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LocatedError {
    pub(super) line: u32,
    pub(super) column: u32,
    pub(super) reason: String,
}

/// Decodes a whole file into text, following its BOM and XML declaration.
pub(super) fn decode(mut bytes: Vec<u8>) -> Result<String, LocatedError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(LocatedError {
            line: 1,
            column: 1,
            reason: "fichier en UTF-16, encodage non pris en charge (UTF-8 ou ISO-8859-15 attendu)"
                .to_owned(),
        });
    }

    let has_bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
    if has_bom {
        bytes.drain(..3);
    }

    let declared = match declared_label(&bytes) {
        None => None,
        Some(label) => match Charset::from_label(&label) {
            Some(charset) => Some((charset, label)),
            None => {
                return Err(LocatedError {
                    line: 1,
                    column: 1,
                    reason: format!("encodage inconnu déclaré : « {label} »"),
                });
            }
        },
    };

    if has_bom && declared.as_ref().is_some_and(|(charset, _)| *charset != Charset::Utf8) {
        let label = declared.as_ref().map(|(_, l)| l.as_str()).unwrap_or_default();
        return Err(LocatedError {
            line: 1,
            column: 1,
            reason: format!("marque d'ordre des octets UTF-8 mais encodage déclaré « {label} »"),
        });
    }

    let (charset, label) = declared.unwrap_or((Charset::Utf8, String::new()));
    let described = if label.is_empty() {
        "sans déclaration d'encodage, lu en UTF-8,".to_owned()
    } else {
        format!("déclaré {label}")
    };
    match charset {
        Charset::Utf8 => String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            bad_byte(&bytes, at, &described)
        }),
        Charset::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
            Some(at) => Err(bad_byte(&bytes, at, &described)),
            None => String::from_utf8(bytes).map_err(|_| LocatedError {
                line: 0,
                column: 0,
                reason: "texte ASCII illisible".to_owned(),
            }),
        },
        Charset::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        Charset::Latin9 | Charset::Windows1252 => {
            let encoding = if charset == Charset::Latin9 {
                encoding_rs::ISO_8859_15
            } else {
                encoding_rs::WINDOWS_1252
            };
            match encoding.decode_without_bom_handling_and_without_replacement(&bytes) {
                Some(text) => Ok(text.into_owned()),
                None => Err(LocatedError {
                    line: 0,
                    column: 0,
                    reason: format!("fichier {described} mais illisible dans cet encodage"),
                }),
            }
        }
    }
}

/// The error for the first byte at `at` that the encoding cannot read.
fn bad_byte(bytes: &[u8], at: usize, described: &str) -> LocatedError {
    let (line, column) = line_column(bytes, at);
    let byte = bytes.get(at).copied().unwrap_or_default();
    LocatedError {
        line,
        column,
        reason: format!(
            "fichier {described} mais l'octet 0x{byte:02X} n'est pas valide dans cet encodage"
        ),
    }
}

/// The `encoding` pseudo-attribute of the XML declaration, if the bytes start with one.
fn declared_label(bytes: &[u8]) -> Option<String> {
    let rest = bytes.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let window = &rest[..rest.len().min(1024)];
    let end = window.windows(2).position(|w| w == b"?>")?;
    let decl = &window[..end];

    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let mut rest = decl[at + 8..].trim_ascii_start();
    rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &rest[1..];
    let close = value.iter().position(|&b| b == quote)?;
    Some(String::from_utf8_lossy(&value[..close]).into_owned())
}

/// Line and column (from 1, the column in characters) of byte offset `at`.
pub(super) fn line_column(bytes: &[u8], at: usize) -> (u32, u32) {
    let mut cursor = Cursor::default();
    cursor.advance(bytes, at);
    (cursor.line, cursor.column)
}

/// An incremental byte offset → (line, column) converter: moving forward costs only the bytes
/// passed over, so locating every record of a file stays linear.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    offset: usize,
    pub(super) line: u32,
    pub(super) column: u32,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor { offset: 0, line: 1, column: 1 }
    }
}

impl Cursor {
    /// Moves to `target` (clamped to the text) and returns its line and column. Moving
    /// backwards starts again from the beginning.
    pub(super) fn advance(&mut self, bytes: &[u8], target: usize) -> (u32, u32) {
        let target = target.min(bytes.len());
        if target < self.offset {
            *self = Cursor::default();
        }
        let span = &bytes[self.offset..target];
        let mut last_newline = None;
        let mut newlines: u32 = 0;
        for at in memchr_iter(b'\n', span) {
            newlines = newlines.saturating_add(1);
            last_newline = Some(at);
        }
        let tail = match last_newline {
            Some(at) => {
                self.line = self.line.saturating_add(newlines);
                self.column = 1;
                &span[at + 1..]
            }
            None => span,
        };
        let chars = tail.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        self.column = self.column.saturating_add(u32::try_from(chars).unwrap_or(u32::MAX));
        self.offset = target;
        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_encoding_is_found_with_either_quote() {
        assert_eq!(
            declared_label(b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<a/>").as_deref(),
            Some("ISO-8859-15")
        );
        assert_eq!(
            declared_label(b"<?xml version='1.0' encoding = 'utf-8' ?><a/>").as_deref(),
            Some("utf-8")
        );
        assert_eq!(declared_label(b"<?xml version=\"1.0\"?><a/>"), None);
        assert_eq!(declared_label(b"<!DOCTYPE a><a/>"), None);
    }

    #[test]
    fn latin9_bytes_decode_to_euro_oe_and_e_acute() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?><a>".to_vec();
        bytes.extend([0xA4, 0xBD, 0xE9]);
        bytes.extend(b"</a>");
        let text = decode(bytes).unwrap();
        assert!(text.contains("€œé"), "{text}");
    }

    #[test]
    fn latin1_and_windows_1252_differ_on_0x80() {
        let latin1 = decode(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\x80".to_vec());
        assert!(latin1.unwrap().ends_with('\u{80}'));
        let cp1252 = decode(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>\x80".to_vec());
        assert!(cp1252.unwrap().ends_with('€'));
    }

    #[test]
    fn a_bad_utf8_byte_is_located_by_line_and_character_column() {
        let err = decode(b"<a>\n<b>\xc3\xa9t\xe9</b></a>".to_vec()).unwrap_err();
        assert_eq!((err.line, err.column), (2, 6));
        assert!(err.reason.contains("0xE9"), "{}", err.reason);
    }

    #[test]
    fn an_unknown_encoding_is_named() {
        let err =
            decode(b"<?xml version=\"1.0\" encoding=\"EBCDIC-FR\"?><a/>".to_vec()).unwrap_err();
        assert_eq!(err.reason, "encodage inconnu déclaré : « EBCDIC-FR »");
    }

    #[test]
    fn the_cursor_counts_lines_and_characters_incrementally() {
        let text = "ab\r\ncé\nxyz".as_bytes();
        let mut cursor = Cursor::default();
        assert_eq!(cursor.advance(text, 1), (1, 2));
        assert_eq!(cursor.advance(text, 4), (2, 1));
        assert_eq!(cursor.advance(text, 7), (2, 3));
        assert_eq!(cursor.advance(text, 9), (3, 2));
        assert_eq!(cursor.advance(text, 0), (1, 1));
    }
}
