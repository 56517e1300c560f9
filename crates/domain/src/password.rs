//! The password policy for local accounts, after CNIL's 2022 recommendation for accounts that
//! are protected by throttling ("case 2": about 50 bits of entropy), ASVS 5.0 (no composition
//! rules, paste allowed, at least 64 characters accepted, no truncation) and a block list of
//! common and context-specific words (the person's names and login, school words).

use thiserror::Error;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 10;
/// The longest password accepted, in characters (ASVS asks for at least 64).
pub const MAX_CHARS: usize = 128;
/// The entropy a password must reach under [`estimated_bits`].
pub const MIN_BITS: f64 = 50.0;

/// Why a new password was refused. The messages are shown on the activation form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordError {
    #[error("le mot de passe doit compter au moins {MIN_CHARS} caractères")]
    TooShort,
    #[error("le mot de passe ne doit pas dépasser {MAX_CHARS} caractères")]
    TooLong,
    #[error(
        "le mot de passe est trop facile à deviner : allongez-le ou mélangez minuscules, \
         majuscules, chiffres et symboles (une phrase de quelques mots convient bien)"
    )]
    TooWeak,
    #[error(
        "le mot de passe contient un mot trop courant, votre nom ou celui de votre collège : \
         choisissez-en un autre"
    )]
    Blocked,
}

/// Words that make a password guessable here whatever surrounds them.
const BLOCKED_WORDS: &[&str] = &[
    "password",
    "motdepasse",
    "azerty",
    "qwerty",
    "123456",
    "654321",
    "abcdef",
    "soleil",
    "bonjour",
    "college",
    "pronote",
    "preau",
    "ecole",
    "eleve",
    "vienne",
    "poitiers",
    "iloveyou",
    "jetaime",
    "doudou",
    "chouchou",
    "loulou",
    "football",
    "marseille",
    "psg",
    "admin",
    "azertyuiop",
    "aaaaaa",
    "000000",
    "111111",
    "motdepass",
    "minecraft",
    "fortnite",
];

/// Checks a new password against the policy. `personal_words` are the person's names, login
/// and birth year: a password containing one of them (4 characters or more) is refused.
///
/// # Errors
/// The first rule the password breaks.
pub fn check_new_password(password: &str, personal_words: &[&str]) -> Result<(), PasswordError> {
    let n_chars = password.chars().count();
    if n_chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if n_chars > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }

    let folded = fold(password);
    let personal = personal_words.iter().map(|w| fold(w)).filter(|w| w.len() >= 4);
    let mut blocked = BLOCKED_WORDS.iter().map(|w| (*w).to_owned()).chain(personal);
    if blocked.any(|word| folded.contains(&word) && folded.len() < word.len() + 8) {
        return Err(PasswordError::Blocked);
    }

    if estimated_bits(password) < MIN_BITS {
        return Err(PasswordError::TooWeak);
    }
    Ok(())
}

/// A conservative entropy estimate: length times log2 of the character pool the password
/// draws from, where runs of a repeated character and ascending sequences count once.
pub fn estimated_bits(password: &str) -> f64 {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    let mut effective_len = 0usize;
    let mut previous: Option<char> = None;
    for c in password.chars() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            _ => other = true,
        }
        let repeats = previous.is_some_and(|p| p == c || (p as u32) + 1 == c as u32);
        if !repeats {
            effective_len += 1;
        }
        previous = Some(c);
    }

    let pool = [(lower, 26.0), (upper, 26.0), (digit, 10.0), (other, 33.0)]
        .iter()
        .filter(|(used, _)| *used)
        .map(|(_, size)| size)
        .sum::<f64>();
    if pool <= 1.0 { 0.0 } else { effective_len as f64 * f64::log2(pool) }
}

/// Lower-case ASCII letters and digits only, so that `P@ssw0rd` and `Préau` compare folded.
fn fold(text: &str) -> String {
    deunicode::deunicode(text)
        .chars()
        .filter_map(|c| match c {
            '@' => Some('a'),
            '0' => Some('o'),
            '1' | '!' => Some('i'),
            '3' => Some('e'),
            '$' | '5' => Some('s'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_is_accepted() {
        assert_eq!(check_new_password("cheval batterie agrafe", &[]), Ok(()));
        assert_eq!(check_new_password("Tr0mbone-Lune", &[]), Ok(()));
    }

    #[test]
    fn short_weak_and_long_passwords_are_refused() {
        assert_eq!(check_new_password("Ab1!", &[]), Err(PasswordError::TooShort));
        assert_eq!(check_new_password("zzzzzzzzzzzz", &[]), Err(PasswordError::TooWeak));
        assert_eq!(check_new_password("qmzkwpvxtr", &[]), Err(PasswordError::TooWeak));
        assert_eq!(check_new_password(&"x".repeat(129), &[]), Err(PasswordError::TooLong));
    }

    #[test]
    fn common_and_personal_words_are_refused() {
        assert_eq!(check_new_password("Azerty2024!", &[]), Err(PasswordError::Blocked));
        assert_eq!(check_new_password("P@ssw0rd123", &[]), Err(PasswordError::Blocked));
        assert_eq!(
            check_new_password("Dupont-2012x", &["Jean", "Dupont"]),
            Err(PasswordError::Blocked)
        );
    }

    #[test]
    fn sixty_four_characters_are_accepted_untruncated() {
        let long = "Une phrase assez longue pour remplir soixante-quatre caracteres!";
        assert_eq!(long.chars().count(), 64);
        assert_eq!(check_new_password(long, &[]), Ok(()));
    }
}
