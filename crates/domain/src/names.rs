//! Limits and clean-up for the names and free text that come from files and forms: length
//! caps counted in characters, control and bidi characters refused, white space folded.

use thiserror::Error;

/// The longest surname or first name accepted, in characters. Real French civil-status names
/// stay far below it; a longer value is a broken or hostile file.
pub const MAX_NAME_CHARS: usize = 100;

/// Why a name was refused. The messages are French: they reach import reports and forms.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("valeur vide")]
    Empty,
    #[error("aucune lettre")]
    NoLetter,
    #[error("trop long ({0} caractères, maximum {MAX_NAME_CHARS})")]
    TooLong(usize),
    #[error("contient un caractère de contrôle ou de direction de texte (U+{0:04X})")]
    ForbiddenChar(u32),
}

/// A person's name part (surname or first name), trimmed, inner white space folded to single
/// spaces, NFC-normalised, without control, bidi or zero-width characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// Validates and cleans a name.
    ///
    /// # Errors
    /// Empty after trimming, longer than [`MAX_NAME_CHARS`], or holding a forbidden character.
    pub fn parse(raw: &str) -> Result<PersonName, NameError> {
        use unicode_normalization::UnicodeNormalization;

        if let Some(bad) = raw.chars().find(|c| is_forbidden(*c)) {
            return Err(NameError::ForbiddenChar(bad as u32));
        }

        let folded: String = raw.split_whitespace().collect::<Vec<_>>().join(" ").nfc().collect();
        let n_chars = folded.chars().count();
        if n_chars == 0 {
            return Err(NameError::Empty);
        }
        if !folded.chars().any(char::is_alphabetic) {
            return Err(NameError::NoLetter);
        }
        if n_chars > MAX_NAME_CHARS {
            return Err(NameError::TooLong(n_chars));
        }
        Ok(PersonName(folded))
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PersonName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name or a typed search folded for matching: transliterated to ASCII, lower-cased, white
/// space folded, so that `jerome` finds `Jérôme`, `celik` finds `Çelik` and `lefevre` finds
/// `Lefèvre`.
pub fn fold_for_search(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    ascii.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the directory search matches a person against: their names folded, surname first and
/// last, so that "prénom nom" and "nom prénom" both match.
pub fn search_key(last_name: &str, first_name: &str) -> String {
    fold_for_search(&format!("{last_name} {first_name} {last_name}"))
}

/// Characters never accepted in a name: C0/C1 controls (tab and newline included), bidi
/// embeddings, overrides and isolates, and zero-width characters used to forge look-alikes.
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_folded() {
        let name = PersonName::parse("  Jean   Pierre ").unwrap();
        assert_eq!(name.as_ref(), "Jean Pierre");
    }

    #[test]
    fn combining_accents_are_composed() {
        let name = PersonName::parse("Me\u{0301}lanie").unwrap();
        assert_eq!(name.as_ref(), "Mélanie");
    }

    #[test]
    fn apostrophes_quotes_and_dollars_are_kept_verbatim() {
        assert_eq!(PersonName::parse("D'Artagnan").unwrap().as_ref(), "D'Artagnan");
        assert_eq!(PersonName::parse("\"Bob\" $x").unwrap().as_ref(), "\"Bob\" $x");
    }

    #[test]
    fn search_keys_ignore_accents_case_and_order() {
        assert_eq!(search_key("Lefèvre", "Jérôme"), "lefevre jerome lefevre");
        assert_eq!(fold_for_search("  ÇELIK "), "celik");
        assert!(search_key("Çelik", "Anaïs").contains(&fold_for_search("anais celik")));
    }

    #[test]
    fn long_empty_and_bidi_names_are_refused() {
        assert_eq!(PersonName::parse(&"a".repeat(300)), Err(NameError::TooLong(300)));
        assert_eq!(PersonName::parse("   "), Err(NameError::Empty));
        assert_eq!(PersonName::parse("'''"), Err(NameError::NoLetter));
        assert_eq!(PersonName::parse("- -"), Err(NameError::NoLetter));
        assert_eq!(PersonName::parse("abc\u{202E}fdp"), Err(NameError::ForbiddenChar(0x202E)));
        assert_eq!(PersonName::parse("a\nb"), Err(NameError::ForbiddenChar(0x0A)));
    }
}
